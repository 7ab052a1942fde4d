#!/usr/bin/env bash
# t_lua_reload.sh - hot reload of a Lua plugin on a real node: the new
# version takes over, a broken one leaves the running one in place and the
# CLI prints why, the new code's option schema applies (an added option
# takes its default; a type that no longer fits the config is refused
# with the config's FILE:LINE and the plugin's name), a reply that arrives for a retired version touches
# nothing (run under ASan in CI), and 1,000 reloads bring memory back to
# its baseline.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup

version() { # version N: write the plugin as version N
	cat >"$XZ_T/app.lua" <<EOF
local hits, waiting = 0, 0
return {
	name = "app",
	version = "$1",
	options = { { name = "limit", type = "int", default = 1 } },
	init = function() xz.log("info", "app v$1 init") end,
	handlers = {
		["app.ver"] = function() hits = hits + 1 return { v = $1, hits = hits } end,
		["app.waiting"] = function() return { n = waiting } end,
		-- handled across a yield: the reply to its own request comes late
		["app.slow"] = function(d)
			waiting = waiting + 1
			local r, err = xz.request("peer.late", d, 40000)
			return { v = $1, r = r, err = err }
		end,
	},
	timer_probe = xz.timer.every and true,
}
EOF
}
version 1
cat >"$XZ_T/peer.lua" <<'EOF'
-- replies late (d.ms, 3 s by default): it waits for a request that times
-- out first
xz.subscribe("peer.late", function(d)
	xz.request("peer.void", {}, d.ms or 3000)
	return { late = true }
end)
xz.subscribe("peer.void", function() end)
EOF
cat >"$XZ_T/driver.lua" <<'EOF'
-- reloads `app` n times from inside the node (1,000 CLI processes would
-- measure the CLI, not the reload)
xz.subscribe("driver.reload", function(d)
	local ok, failed = 0, 0
	for i = 1, d.n do
		local r, err, msg = xz.request("xz.sys.reload", { name = "app" }, 10000)
		if r then ok = ok + 1 else failed = failed + 1 end
	end
	return { ok = ok, failed = failed }
end)
EOF
xz_config <<EOF
plugins = ( { name = "app"; kind = "lua"; path = "$XZ_T/app.lua";
              options = { limit = 5; }; } );
scripts = ( { name = "peer"; path = "$XZ_T/peer.lua"; },
            { name = "driver"; path = "$XZ_T/driver.lua"; } );
EOF
start_node

check "v1 answers" xz call app.ver '{}'
assert_eq "v1" 1 "$(echo "$OUT" | jq .v)"
check "status" xz call xz.sys.status '{}'
assert_eq "status shows version 1" 1 \
	"$(echo "$OUT" | jq -r '.plugins[] | select(.name == "app") | .version')"

version 2
check "reload app" xz reload app
assert_eq "reload reply" '{"reloaded":["app"]}' "$(echo "$OUT" | jq -c .)"
check "v2 answers" xz call app.ver '{}'
assert_eq "v2 with fresh state" '{"hits":1,"v":2}' "$(echo "$OUT" | jq -cS .)"
check "status after the reload" xz call xz.sys.status '{}'
assert_eq "status shows the reloaded version 2" 2 \
	"$(echo "$OUT" | jq -r '.plugins[] | select(.name == "app") | .version')"

# A syntax error: v2 stays, and the CLI says why (FILE:LINE).
cp "$XZ_T/app.lua" "$XZ_T/app.v2"
printf 'return { name = "app", handlers = {\n  ["app.ver"] = function() return { v = 3 } end\n' >"$XZ_T/app.lua"
assert_exit "broken reload fails" 1 xz reload app
assert_eq "error code" invalid_state "$(echo "$OUT" | jq -r .error.code)"
assert_contains "the CLI prints why, with file:line" \
	"$XZ_T/app.lua:3: '}' expected (to close '{' at line 1) near <eof>" "$OUT"
check "v2 still answers" xz call app.ver '{}'
assert_eq "still v2, state kept" '{"hits":2,"v":2}' "$(echo "$OUT" | jq -cS .)"

# A failing init: v2 stays too.
cat >"$XZ_T/app.lua" <<'EOF'
return {
	init = function(cfg)
		error("cannot open the register")
	end,
	handlers = { ["app.ver"] = function() return { v = 4 } end },
}
EOF
assert_exit "reload with failing init fails" 1 xz reload app
assert_contains "init error with file:line" \
	"$XZ_T/app.lua:3: init(): cannot open the register" "$OUT"
check "status after the failed reloads" xz call xz.sys.status '{}'
assert_eq "status still shows version 2" 2 \
	"$(echo "$OUT" | jq -r '.plugins[] | select(.name == "app") | .version')"
check "v2 still answers after the failed init" xz call app.ver '{}'
assert_eq "still v2" 2 "$(echo "$OUT" | jq .v)"
check "a failed reload left no second subscriber" xz call app.ver '{}'
assert_eq "one answer from v2" '{"hits":4,"v":2}' "$(echo "$OUT" | jq -cS .)"

# The new code's option schema: an added option takes its default, the
# config's value of a known one is kept.
schema() { # schema LIMIT_TYPE [EXTRA_OPTION]: a version with that schema
	cat >"$XZ_T/app.lua" <<EOF
return {
	name = "app",
	options = {
		{ name = "limit", type = "$1" },
		{ name = "greeting", type = "string", default = "你好" },
		${2:-}
	},
	handlers = {
		["app.ver"] = function()
			return { v = 7, limit = xz.config.limit, greeting = xz.config.greeting }
		end,
	},
}
EOF
}
schema int
check "a reload that adds an option" xz reload app
check "v7 sees its new option" xz call app.ver '{}'
assert_eq "the default of the new option, the config's limit" \
	'{"greeting":"你好","limit":5,"v":7}' "$(echo "$OUT" | jq -cS .)"
cfg_line=$(grep -n 'limit = 5' "$XZ_CFG" | cut -d: -f1)
schema string
assert_exit "a reload whose option type does not fit the config fails" 1 xz reload app
assert_contains "it names the config's FILE:LINE, the plugin and the option" \
	"$XZ_CFG:$cfg_line: plugin 'app': option 'limit' must be a string" "$OUT"
schema int '{ name = "zone", type = "string", required = true },'
assert_exit "a reload with a new required option fails" 1 xz reload app
assert_contains "it names the missing option" \
	"plugin 'app': missing required option 'zone'" "$OUT"
printf 'return { name = "app", options = { { name = "limit", type = "float", min = 1 } } }\n' >"$XZ_T/app.lua"
assert_exit "a reload with a broken option declaration fails" 1 xz reload app
assert_contains "it names the script's FILE:LINE" \
	"$XZ_T/app.lua:1: option 'limit': field 'min' must be an integer" "$OUT"
check "v7 still answers, with its options" xz call app.ver '{}'
assert_eq "the old version kept running" \
	'{"greeting":"你好","limit":5,"v":7}' "$(echo "$OUT" | jq -cS .)"
cp "$XZ_T/app.v2" "$XZ_T/app.lua"
check "back to v2 and its schema" xz reload app

# A request in flight across a reload: the old version waits in
# xz.request when it is retired. Its handler is resumed at once with
# (nil, "unavailable", why) and answers its caller with that; the real
# reply arrives 30 s later (long after the reload, however loaded the
# machine) and must find nothing to resume.
cp "$XZ_T/app.v2" "$XZ_T/app.lua"
sed -i 's/v = 2/v = 5/; s/version = "2"/version = "5"/' "$XZ_T/app.lua"
xz call app.slow '{"ms":30000}' -t 45000 >"$XZ_T/slow.out" 2>&1 &
slow=$!
# app.slow announces it is about to wait in its own request
app_waits() { [ "$(xz call app.waiting '{}' | jq .n)" = 1 ]; }
wait_for 10 app_waits ||
	fail "app.slow never reached its xz.request"
check "reload while a handler waits for its reply" xz reload app
rc=0
wait "$slow" || rc=$?
assert_eq "the retired handler answers at once" 0 "$rc"
assert_eq "with the error it saw in xz.request" "unavailable" \
	"$(jq -r .err "$XZ_T/slow.out")"
check "the node survives the late reply" xz call app.ver '{}'
assert_eq "v5 answers" 5 "$(echo "$OUT" | jq .v)"
check "the new version handles the slow request itself" xz call app.slow '{}' -t 8000
assert_eq "late reply delivered to v5" '{"late":true}' "$(echo "$OUT" | jq -c .r)"

# 1,000 reloads: memory comes back to its baseline.
pid=$(node_pid)
check "100 reloads to warm up" xz call driver.reload '{"n":100}' -t 60000
assert_eq "100 reloads ok" '{"failed":0,"ok":100}' "$(echo "$OUT" | jq -cS .)"
base=$(rss_kib "$pid")
check "1,000 reloads" xz call driver.reload '{"n":1000}' -t 120000
assert_eq "1,000 reloads ok" '{"failed":0,"ok":1000}' "$(echo "$OUT" | jq -cS .)"
after=$(rss_kib "$pid")
echo "  VmRSS: $base KiB after 100 reloads, $after KiB after 1,100"
if sanitized || ldd "$XZ_BIN" | grep -q libasan; then
	skip "RSS bound: RSS figures do not apply to a sanitizer build"
else
	assert_le "VmRSS within 2 MiB of the baseline" "$after" $((base + 2048))
fi
check "still serving" xz call app.ver '{}'
assert_eq "v5 after 1,100 reloads" 5 "$(echo "$OUT" | jq .v)"

# SIGHUP reloads every Lua plugin and script
sed -i 's/v = 5/v = 6/' "$XZ_T/app.lua"
kill -HUP "$pid"
is_v6() { [ "$(xz call app.ver '{}' | jq .v)" = 6 ]; }
if wait_for 10 is_v6; then pass "SIGHUP reloaded app (v6)"; else fail "app not v6 after SIGHUP"; fi
stop_node
finish
