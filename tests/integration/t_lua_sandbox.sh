#!/usr/bin/env bash
# t_lua_sandbox.sh - escape attempts by a Lua plugin on a real node: each
# is contained with the error its author would see, pcall does not swallow
# limits, another script keeps serving throughout, and the offender is
# quarantined after max_failures limit hits in a row (xz.script.failed).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup

cat >"$XZ_T/evil.lua" <<EOF
local function f() return 1 end
return {
	name = "evil",
	handlers = {
		["evil.os"] = function() os.execute("touch $XZ_T/pwned") end,
		["evil.io"] = function() return io.open("/etc/passwd"):read("a") end,
		["evil.require_os"] = function() return require("os") end,
		["evil.require_io"] = function() return require("io").open("/etc/passwd") end,
		["evil.dump"] = function() return load(string.dump(f))() end,
		["evil.bytecode"] = function()
			local fn, err = load("\27Lua\84\0\25\147\13\10\26\10")
			return { fn = tostring(fn), err = err }
		end,
		["evil.sethook"] = function() debug.sethook() end,
		["evil.gc"] = function() setmetatable({}, { __gc = function() while true do end end }) end,
		["evil.rep"] = function() return #string.rep("x", 1e9) end,
		["evil.grow"] = function() local t = {} for i = 1, 1e9 do t[i] = i end end,
		["evil.loop"] = function() while true do end end,
		["evil.pcall_loop"] = function()
			pcall(function() while true do end end)
			return "swallowed"
		end,
		["evil.pcall_rep"] = function()
			local ok, err = pcall(string.rep, "x", 1e9)
			return "swallowed: " .. tostring(err)
		end,
		["evil.subs"] = function() for i = 1, 1e6 do xz.subscribe("x.y", print) end end,
	},
}
EOF
cat >"$XZ_T/good.lua" <<'EOF'
local n = 0
xz.subscribe("good.ping", function() n = n + 1 return { pong = n } end)
-- what the quarantine announces
local failed = xz.json.as_array()
xz.subscribe("xz.script.failed", function(d, topic, source)
	failed[#failed + 1] = { data = d, source = source }
end)
xz.subscribe("good.failed", function() return failed end)
EOF
xz_config <<EOF
lua = { memory_limit_kb = 4096; instruction_limit = 2000000;
        time_limit_ms = 1000; max_failures = 5; };
plugins = ( { name = "evil"; kind = "lua"; path = "$XZ_T/evil.lua"; } );
scripts = ( { name = "good"; path = "$XZ_T/good.lua"; } );
EOF
start_node

pings=0
good_serves() {
	pings=$((pings + 1))
	check "the other script keeps serving ($1)" xz call good.ping '{}'
	assert_eq "pong $pings" "$pings" "$(echo "$OUT" | jq .pong)"
}

attempt() { # attempt TOPIC EXPECTED-MESSAGE
	assert_exit "$1 is refused" 1 xz call "$1" '{}'
	assert_eq "$1: error" "$2" "$(echo "$OUT" | jq -r .error.message)"
}

L="$XZ_T/evil.lua"
attempt evil.os "$L:5: attempt to index a nil value (global 'os')"
[ -e "$XZ_T/pwned" ] && fail "os.execute ran" || pass "os.execute did not run"
attempt evil.io "$L:6: attempt to index a nil value (global 'io')"
attempt evil.require_os "$L:7: require: module 'os' not found: no file '$XZ_T/os.lua' (only the plugin's own modules and the shared ones of plugins/common/lua can be required)"
attempt evil.require_io "$L:8: require: module 'io' not found: no file '$XZ_T/io.lua' (only the plugin's own modules and the shared ones of plugins/common/lua can be required)"
attempt evil.dump "$L:9: attempt to call a nil value (field 'dump')"
check "bytecode load returns an error" xz call evil.bytecode '{}'
assert_eq "binary chunk refused" '{"err":"attempt to load a binary chunk (mode is '"'"'t'"'"')","fn":"nil"}' \
	"$(echo "$OUT" | jq -cS .)"
attempt evil.sethook "$L:14: attempt to index a nil value (global 'debug')"
attempt evil.gc "$L:15: setmetatable: __gc metamethods are not allowed in the sandbox"
attempt evil.subs "$L:27: xz.subscribe('x.y'): too many subscriptions (4096)"
good_serves "after the plain escapes"
assert_eq "plain errors are not limit hits" 0 "$(counter evil lua_limit_hits)"

attempt evil.rep "not enough memory"
good_serves "after string.rep"
attempt evil.grow "not enough memory"
good_serves "after the table bomb"
attempt evil.loop "$L:18: instruction limit exceeded"
good_serves "after while true"
attempt evil.pcall_loop "$L:20: instruction limit exceeded"
good_serves "after while true inside pcall"
assert_eq "four limit hits counted" 4 "$(counter evil lua_limit_hits)"
assert_eq "not yet quarantined" 0 "$(counter evil lua_quarantined)"

# The fifth limit hit in a row quarantines the plugin.
check "no failure announced yet" xz call good.failed '{}'
assert_eq "none" '[]' "$(echo "$OUT" | jq -c .)"
attempt evil.pcall_rep "not enough memory"
announced() { [ "$(xz call good.failed '{}' | jq length)" = 1 ]; }
if wait_for 10 announced; then pass "xz.script.failed published once"; else fail "no xz.script.failed"; fi
xz call good.failed '{}' >"$XZ_T/failed.out"
assert_eq "failure event comes from the plugin and names it" "evil evil" \
	"$(jq -r '.[0] | "\(.source) \(.data.name)"' "$XZ_T/failed.out")"
assert_eq "failure event says why" \
	"hit its limits 5 times in a row; last: not enough memory" \
	"$(jq -r '.[0].data.reason' "$XZ_T/failed.out")"
assert_eq "quarantine counted" 1 "$(counter evil lua_quarantined)"
assert_eq "limit hits counted" 5 "$(counter evil lua_limit_hits)"
assert_exit "a quarantined plugin no longer answers" 3 xz call evil.os '{}' -t 1000
good_serves "after the quarantine"
assert_contains "the log names the quarantine" "Lua plugin 'evil' quarantined" "$(cat "$XZ_T/n1.log")"

# A fixed version brings it back.
cat >"$XZ_T/evil.lua" <<'EOF'
return { handlers = { ["evil.os"] = function() return { fixed = true } end } }
EOF
check "reload after quarantine" xz reload evil
check "the fixed version serves" xz call evil.os '{}'
assert_eq "fixed" true "$(echo "$OUT" | jq .fixed)"
stop_node
finish
