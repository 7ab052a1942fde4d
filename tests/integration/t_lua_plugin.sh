#!/usr/bin/env bash
# t_lua_plugin.sh - a Lua plugin on a real node, driven by the real CLI:
# requests answered, options validated and defaulted, xz.request with its
# timeout and no-responders results, xz.reply after a yield, xz.db, errors
# reported with file:line, `xiezhi check` diagnostics, and the console.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup

cat >"$XZ_T/svc.lua" <<'EOF'
local calls = 0
return {
	name = "svc",
	version = "2.1",
	description = "test service",
	options = {
		{ name = "greeting", type = "string", default = "hello" },
		{ name = "limit", type = "int", default = 3, min = 1, max = 10 },
	},
	init = function(cfg)
		xz.db.exec("CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v)")
	end,
	handlers = {
		["svc.greet"] = function(data)
			calls = calls + 1
			return { text = xz.config.greeting .. ", " .. data.who,
				limit = xz.config.limit, calls = calls }
		end,
		["svc.echo"] = function(data) return data end,
		-- waits for another plugin, then replies explicitly
		["svc.relay"] = function(data)
			local r, err = xz.request("peer.double", { n = data.n })
			xz.reply({ doubled = r.n, err = err })
		end,
		["svc.nobody"] = function()
			local r, err, msg = xz.request("nobody.home", {})
			return { r = r, err = err }
		end,
		["svc.slow"] = function()
			local t0 = xz.now()
			local r, err = xz.request("peer.silent", {}, 300)
			return { err = err, r = r }
		end,
		["svc.put"] = function(d)
			return { changes = xz.db.exec(
				"INSERT OR REPLACE INTO kv VALUES (?, ?)", d.k, d.v) }
		end,
		["svc.get"] = function(d)
			return { rows = xz.db.query("SELECT k, v FROM kv WHERE k = ?", d.k) }
		end,
		["svc.fail"] = function()
			local t = nil
			return t.field
		end,
	},
}
EOF
cat >"$XZ_T/peer.lua" <<'EOF'
xz.subscribe("peer.double", function(d) return { n = d.n * 2 } end)
-- never replies: requests to it time out
xz.subscribe("peer.silent", function() end)
EOF

xz_config <<EOF
plugins = ( { name = "svc"; kind = "lua"; path = "$XZ_T/svc.lua";
              options = { greeting = "welcome"; }; } );
scripts = ( { name = "peer"; path = "$XZ_T/peer.lua"; } );
EOF
check "check accepts the Lua plugin and script" xz check
start_node

check "request answered" xz call svc.greet '{"who":"officer-7"}'
assert_eq "reply built from data and options (default limit)" \
	'welcome, officer-7 3 1' "$(echo "$OUT" | jq -r '"\(.text) \(.limit) \(.calls)"')"
check "echo round trip" xz call svc.echo '{"a":[],"b":{},"c":null,"d":[1,2.5,"x"],"e":"\u00e9"}'
assert_eq "empty array, empty object, null, floats and unicode survive" \
	'{"a":[],"b":{},"c":null,"d":[1,2.5,"x"],"e":"é"}' "$(echo "$OUT" | jq -cS .)"
check "xz.request from a handler, xz.reply after the yield" \
	xz call svc.relay '{"n":21}'
assert_eq "relayed reply" '{"doubled":42}' "$(echo "$OUT" | jq -c .)"
check "request to nobody" xz call svc.nobody '{}'
assert_eq "xz.request returns nil, no_responders" '{"err":"no_responders"}' \
	"$(echo "$OUT" | jq -c .)"
t0=$(date +%s%N)
check "request that times out" xz call svc.slow '{}' -t 5000
t1=$(date +%s%N)
assert_eq "xz.request returns nil, timeout" '{"err":"timeout"}' "$(echo "$OUT" | jq -c .)"
ms=$(((t1 - t0) / 1000000))
# the handler's own 300 ms deadline fired, not the CLI's 5 s one: the reply
# above is the handler's {"err":"timeout"}, not a timeout error of the call
assert_le "the handler waited its 300 ms deadline" 300 "$ms"
check "xz.db.exec with bound parameters" xz call svc.put '{"k":"a","v":"it'"'"'s; DROP TABLE kv"}'
assert_eq "one row changed" 1 "$(echo "$OUT" | jq .changes)"
check "xz.db.query with bound parameters" xz call svc.get '{"k":"a"}'
assert_eq "row read back" '[{"k":"a","v":"it'"'"'s; DROP TABLE kv"}]' "$(echo "$OUT" | jq -cS .rows)"

assert_exit "a failing handler gets an error reply" 1 xz call svc.fail '{}'
assert_eq "error code" internal "$(echo "$OUT" | jq -r .error.code)"
assert_eq "error names file:line (first line only)" \
	"$XZ_T/svc.lua:43: attempt to index a nil value (local 't')" "$(echo "$OUT" | jq -r .error.message)"
assert_eq "errors are counted per script" 1 "$(counter svc lua_errors)"
check "the plugin still serves after the error" xz call svc.greet '{"who":"x"}'
assert_eq "second call" 2 "$(echo "$OUT" | jq .calls)"
assert_contains "the error is in the log with a traceback" \
	"stack traceback" "$(cat "$XZ_T/n1.log")"

# print goes to the log
check "console runs a chunk" xz console -e 'print("from console") return 1 + 1, "two", {x = {}}'
assert_eq "console results and output" '{"output":"from console\n","results":[2,"two",{"x":{}}]}' \
	"$(echo "$OUT" | jq -cS .)"
check "console can call the node" xz console -e 'return xz.request("xz.sys.status").node'
assert_eq "status via xz.request" '["n1"]' "$(echo "$OUT" | jq -c .results)"
check "console can publish" xz console -e 'return xz.publish("svc.greet", {who = "c"})'
assert_eq "publish result" '[true]' "$(echo "$OUT" | jq -c .results)"
check "console statements" xz console -e 'local t = {} for i = 1, 3 do t[i] = i * i end print(table.concat(t, ","))'
assert_eq "statement output" '1,4,9' "$(echo "$OUT" | jq -r .output | head -1)"
assert_exit "console error exits 1" 1 xz console -e 'error("boom")'
assert_eq "console error with line" 'console:1: boom' "$(echo "$OUT" | jq -r .error.message)"
assert_exit "console syntax error exits 1" 1 xz console -e 'x = = 1'
assert_contains "console syntax error" "console:1: unexpected symbol near '='" "$(echo "$OUT" | jq -r .error.message)"
assert_exit "console sandbox" 1 xz console -e 'os.exit(1)'
assert_contains "no os in the console" "attempt to index a nil value (global 'os')" \
	"$(echo "$OUT" | jq -r .error.message)"
assert_exit "console config is read-only too" 1 xz console -e 'xz.config.x = 1'
assert_eq "read-only config" "console:1: xz.config is read-only (key 'x')" "$(echo "$OUT" | jq -r .error.message)"
# A session lives on one connection: `xiezhi console` reading chunks from
# stdin keeps its state; another connection naming the same session id
# gets a session of its own.
mkfifo "$XZ_T/con.in"
"$XZ_BIN" console -c "$XZ_CFG" <"$XZ_T/con.in" >"$XZ_T/con.out" 2>&1 &
exec 7>"$XZ_T/con.in"
NCON=0
con() { # CHUNK: run it in that console's session, print the reply line
	echo "$1" >&7
	NCON=$((NCON + 1))
	wait_until 30 'test "$(wc -l <"$XZ_T/con.out")" -ge "$NCON"' || true
	tail -n 1 "$XZ_T/con.out"
}
con 'x = 41' >/dev/null
con 'return x + 1' >/dev/null
assert_eq "a console session keeps state" '[42]' "$(tail -n 1 "$XZ_T/con.out" | jq -c .results)"
check "another connection, same session id" xz call xz.sys.console.eval '{"chunk":"return x","session":"default"}'
assert_eq "sessions are bound to their connection" '[null]' "$(echo "$OUT" | jq -c .results)"
# (the reply to the advance itself may be judged late by the moved clock)
xz call xz.sys.clock.advance '{"ms":310000}' >/dev/null 2>&1 || true
s1_fresh() {
	con 'return x' >/dev/null
	[ "$(tail -n 1 "$XZ_T/con.out" | jq -c .results)" = '[null]' ]
}
if wait_for 5 s1_fresh; then
	pass "an idle session expires and starts afresh"
else
	fail "the session still holds x after the idle timeout"
fi
exec 7>&-
stop_node

# `xiezhi check` reports FILE:LINE for broken scripts and schemas
cat >"$XZ_T/syntax.lua" <<'EOF'
return {
	name = "bad",
	handlers = { ["a.b"] = function() return 1 +  end },
}
EOF
cat >"$XZ_T/schema.lua" <<'EOF'
return {
	name = "bad",
	options = {
		{ name = "ok_one", type = "int", default = 1 },
		{ name = "level", type = "integer", default = 2 },
	},
}
EOF
cat >"$XZ_T/default.lua" <<'EOF'
return {
	options = {
		{ name = "sla_s", type = "int", default = "fifteen" },
	},
}
EOF
cat >"$XZ_T/noreturn.lua" <<'EOF'
local x = 1
EOF
xz_config "$XZ_T/bad.cfg" <<EOF
plugins = ( { name = "p1"; kind = "lua"; path = "$XZ_T/syntax.lua"; },
            { name = "p2"; kind = "lua"; path = "$XZ_T/schema.lua"; },
            { name = "p3"; kind = "lua"; path = "$XZ_T/default.lua"; },
            { name = "p4"; kind = "lua"; path = "$XZ_T/noreturn.lua"; },
            { name = "p5"; kind = "lua"; path = "$XZ_T/svc.lua";
              options = { limit = 11; colour = "red"; }; } );
EOF
assert_exit "check refuses broken Lua plugins" 1 "$XZ_BIN" check -c "$XZ_T/bad.cfg"
all="$OUT
$ERR"
assert_contains "syntax error at FILE:LINE" \
	"$XZ_T/syntax.lua:3: unexpected symbol near 'end'" "$all"
assert_contains "bad schema entry names the field, at its line" \
	"$XZ_T/schema.lua:5: option 'level': field 'type' must be one of \"int\", \"float\", \"bool\", \"string\"" "$all"
assert_contains "bad default" \
	"$XZ_T/default.lua:3: option 'sla_s': field 'default' must be an integer" "$all"
assert_contains "a plugin must return a table" \
	"$XZ_T/noreturn.lua: a Lua plugin must return a table" "$all"
assert_contains "options are validated against the declared schema (range)" "limit" "$all"
assert_contains "options are validated against the declared schema (unknown)" "colour" "$all"
finish
