#!/usr/bin/env bash
# t_lua_limits.sh - Lua limits per plugin on a real node: a plugin's own
# `lua` group overrides the node's defaults for it alone; costly pattern
# calls are refused before they run (the count hook cannot stop C code);
# a handler waiting in xz.request during a reload sees an error and can
# still answer; config mistakes in a plugin's `lua` group name FILE:LINE.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup

# Two copies of one script: "tight" gets small limits of its own, "roomy"
# runs on the node's defaults.
cat >"$XZ_T/work.lua" <<'EOF'
local me = xz.name or "describe" -- nil while `check` reads the file
return {
	handlers = {
		[me .. ".spin"] = function(d)
			local n = 0
			for i = 1, d.n do n = n + i end
			return { sum = n }
		end,
		[me .. ".alloc"] = function(d)
			return { len = #string.rep("x", d.kb * 1024) }
		end,
		[me .. ".pattern"] = function(d)
			local s = string.rep("a", d.n)
			if d.kind == "gsub" then
				local r, k = s:gsub(d.pat, "b")
				return { count = k }
			elseif d.kind == "plain" then
				return { at = s:find(d.pat, 1, true) or 0 }
			end
			return { m = s:match(d.pat) ~= nil }
		end,
		[me .. ".wait"] = function(d)
			local r, code, msg = xz.request(d.topic, {}, 30000)
			return { got = r ~= nil, code = code, msg = msg }
		end,
	},
}
EOF
xz_config <<EOF
lua = { memory_limit_kb = 16384; instruction_limit = 50000000;
        time_limit_ms = 5000; max_failures = 3; };
plugins = (
  { name = "tight"; kind = "lua"; path = "$XZ_T/work.lua";
    lua = { instruction_limit = 100000; memory_limit_kb = 512;
            max_failures = 2; }; },
  { name = "roomy"; kind = "lua"; path = "$XZ_T/work.lua"; }
);
EOF
check "check accepts a plugin's own lua group" xz check
start_node

echo "-- instructions: the plugin's own limit, not the node's"
check "roomy spins 1,000,000 times (node limit 50,000,000)" \
	xz call roomy.spin '{"n":1000000}'
assert_eq "roomy's sum" 500000500000 "$(echo "$OUT" | jq .sum)"
check "tight spins 1,000 times" xz call tight.spin '{"n":1000}'
assert_eq "tight's small sum" 500500 "$(echo "$OUT" | jq .sum)"
assert_exit "tight cannot spin 1,000,000 (its limit 100,000)" 1 \
	xz call tight.spin '{"n":1000000}'
assert_contains "tight: instruction limit" "instruction limit exceeded" \
	"$(echo "$OUT" | jq -r .error.message)"

echo "-- memory: the plugin's own limit"
check "roomy allocates 4 MiB (node limit 16 MiB)" xz call roomy.alloc '{"kb":4096}'
assert_eq "roomy's string" 4194304 "$(echo "$OUT" | jq .len)"
assert_exit "tight cannot (its limit 512 KiB)" 1 xz call tight.alloc '{"kb":4096}'
assert_contains "tight: memory" "not enough memory" \
	"$(echo "$OUT" | jq -r .error.message)"
assert_eq "tight's limit hits" 2 "$(counter tight lua_limit_hits)"
assert_eq "roomy's limit hits" 0 "$(counter roomy lua_limit_hits)"
assert_eq "tight quarantined after its own max_failures (2)" 1 \
	"$(counter tight lua_quarantined)"
assert_eq "roomy not quarantined" 0 "$(counter roomy lua_quarantined)"
check "roomy still serves" xz call roomy.spin '{"n":10}'

echo "-- patterns: refused before they run when their worst case is too costly"
check "one repetition on 5,000 bytes runs" \
	xz call roomy.pattern '{"n":5000,"pat":"a+b","kind":"match"}'
assert_eq "no match" false "$(echo "$OUT" | jq .m)"
assert_exit "three repetitions on 20,000 bytes are refused" 1 \
	xz call roomy.pattern '{"n":20000,"pat":"a-a-a-b","kind":"match"}'
assert_contains "the refusal names the call and the size" \
	"string.match: a subject of 20000 bytes is too long for this pattern" \
	"$(echo "$OUT" | jq -r .error.message)"
assert_exit "gsub is guarded too" 1 \
	xz call roomy.pattern '{"n":200000,"pat":".-.-b","kind":"gsub"}'
assert_contains "gsub refusal" "string.gsub: a subject of 200000 bytes" \
	"$(echo "$OUT" | jq -r .error.message)"
check "an anchored pattern is cheaper and runs" \
	xz call roomy.pattern '{"n":200000,"pat":"^a+$","kind":"match"}'
assert_eq "anchored match" true "$(echo "$OUT" | jq .m)"
check "a plain find is never limited" \
	xz call roomy.pattern '{"n":4000000,"pat":"aab","kind":"plain"}'
assert_eq "plain find: not found" 0 "$(echo "$OUT" | jq .at)"
assert_eq "refusals are errors, not limit hits" 0 "$(counter roomy lua_limit_hits)"

stop_node

echo "-- a reload while a handler waits in xz.request"
cat >"$XZ_T/asker.lua" <<'EOF'
return {
	handlers = {
		["asker.ask"] = function()
			xz.publish("hold.started", {})
			local r, code, msg = xz.request("hold.it", {}, 60000)
			if r == nil then
				return { error_seen = code, message = msg }
			end
			return { reply = r }
		end,
	},
}
EOF
# t_slow subscribes to hold.>, counts the event hold.started and never
# answers a request: the asker's handler waits in xz.request until its
# 60 s deadline.
xz_config <<EOF
plugins = (
  { name = "asker"; kind = "lua"; path = "$XZ_T/asker.lua"; },
  { name = "holder"; kind = "so"; path = "t_slow.so";
    options = { pattern = "hold.>"; sleep_us = 0; }; }
);
EOF
start_node
"$XZ_BIN" call -c "$XZ_CFG" asker.ask '{}' -t 30000 >"$XZ_T/ask.out" 2>&1 &
ASK=$!
held() { [ "$(counter holder received)" = 1 ]; }
if wait_for 20 held; then pass "the asker's handler is waiting"; else
	fail "the request never reached the holder"; fi
check "reload asker while its handler waits" xz reload asker
gone() { ! kill -0 "$ASK" 2>/dev/null; }
if wait_for 20 gone; then pass "the caller got an answer"; else
	fail "the caller still waits after the reload"; fi
wait "$ASK" || true
assert_eq "the waiting handler saw the error and answered with it" "unavailable" \
	"$(jq -r .error_seen "$XZ_T/ask.out")"
assert_contains "and why" "reloaded while this request waited" \
	"$(jq -r .message "$XZ_T/ask.out")"
stop_node

echo "-- config mistakes in a plugin's lua group"
xz_config <<EOF
plugins = (
  { name = "a"; kind = "lua"; path = "$XZ_T/work.lua";
    lua = { instruction_limt = 5; }; },
  { name = "b"; kind = "lua"; path = "$XZ_T/work.lua";
    lua = { memory_limit_kb = "big"; }; },
  { name = "c"; kind = "so"; path = "hello.so"; lua = { time_limit_ms = 5; }; }
);
EOF
assert_exit "check refuses them" 1 xz check
la=$(grep -n 'instruction_limt' "$XZ_CFG" | cut -d: -f1)
lb=$(grep -n '"big"' "$XZ_CFG" | cut -d: -f1)
assert_contains "unknown key, with the place" \
	"$XZ_CFG:$la: unknown setting 'instruction_limt' in plugin 'a': lua" "$ERR"
assert_contains "wrong type, with the place" \
	"$XZ_CFG:$lb: plugin 'b': lua.memory_limit_kb must be an integer" "$ERR"
assert_contains "a lua group on an so plugin" \
	"lua limits apply to Lua plugins and scripts" "$ERR"
finish
