#!/usr/bin/env bash
# t_lua_scripts.sh - the operator scripts that ship in scripts/ on a real
# node (event_counter, heartbeat), and the xz calls they rest on: timers
# (after, every, cancel), unsubscribe and queue groups.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup

cat >"$XZ_T/probe.lua" <<'EOF'
local got = {}
local function note(k) got[k] = (got[k] or 0) + 1 end
local sub
return {
	init = function()
		print("probe ready", 42)
		xz.log("warn", "probe", "warns", { 1 } ~= nil)
		-- one-shot timer that is cancelled never fires; one that is not does
		local t = xz.timer.after(50, function() note("cancelled_fired") end)
		xz.timer.cancel(t)
		xz.timer.after(50, function() note("after") end)
		-- periodic timer that cancels itself on its third run
		local n = 0
		xz.timer.every(20, function(id)
			n = n + 1
			note("every")
			if n == 3 then xz.timer.cancel(id) end
		end)
		sub = xz.subscribe("probe.once", function()
			note("once")
			xz.unsubscribe(sub)
		end)
		-- two members of one queue group: each message reaches one of them
		xz.subscribe("probe.work", function() note("a") end, "workers")
		xz.subscribe("probe.work", function() note("b") end, "workers")
	end,
	handlers = {
		["probe.get"] = function() return got end,
	},
}
EOF
xz_config <<EOF
plugins = ( { name = "probe"; kind = "lua"; path = "$XZ_T/probe.lua"; } );
scripts = (
  { name = "event_counter"; path = "$XZ_SRC/scripts/event_counter.lua";
    options = { pattern = "prison.>"; every_s = 3600; }; },
  { name = "fast_counter"; path = "$XZ_SRC/scripts/event_counter.lua";
    options = { every_s = 1; topic = "xz.stats.fast"; }; },
  { name = "heartbeat"; path = "$XZ_SRC/scripts/heartbeat.lua";
    options = { every_s = 1; }; }
);
EOF
check "check accepts the shipped scripts" xz check
start_node

# heartbeat: a beat a second, the node's health in it
check "a heartbeat is published" xz sub xz.health.heartbeat -n 1
assert_eq "beat source" heartbeat "$(echo "$OUT" | jq -r .source)"
assert_eq "beat fields" 'n1 ok 6 []' \
	"$(echo "$OUT" | jq -r '.data | "\(.node) \(.status) \(.plugins) \(.unhealthy)"' | tr -d '\n')"

# event_counter: counts what matches its pattern, answers .get, publishes
for i in 1 2 3; do xz pub prison.alarm.raised "{\"id\":\"A-$i\"}" >/dev/null; done
xz pub prison.alarm.acknowledged '{"id":"A-1"}' >/dev/null
xz pub legal.request.opened '{"id":"L-1"}' >/dev/null
check "current window on request" xz call xz.stats.events.get '{}'
assert_eq "counts per topic (pattern prison.>)" \
	'{"prison.alarm.acknowledged":1,"prison.alarm.raised":3}' \
	"$(echo "$OUT" | jq -cS .topics)"
assert_eq "total" 4 "$(echo "$OUT" | jq .total)"
check "a summary is published every second" xz sub xz.stats.fast -n 1
assert_eq "summary source" fast_counter "$(echo "$OUT" | jq -r .source)"
assert_contains "summary has a window" window_ms "$OUT"

# timers, unsubscribe and queue groups
for i in 1 2 3; do xz pub probe.once '{}' >/dev/null; done
for i in $(seq 1 10); do xz pub probe.work '{}' >/dev/null; done
sleep 0.3
check "probe results" xz call probe.get '{}'
assert_eq "a cancelled timer never fires" null "$(echo "$OUT" | jq .cancelled_fired)"
assert_eq "timer.after fired once" 1 "$(echo "$OUT" | jq .after)"
assert_eq "timer.every cancelled itself after 3 runs" 3 "$(echo "$OUT" | jq .every)"
assert_eq "unsubscribed after the first message" 1 "$(echo "$OUT" | jq .once)"
assert_eq "each queued message reached one member" 10 \
	"$(echo "$OUT" | jq '(.a // 0) + (.b // 0)')"
log=$(cat "$XZ_T/n1.log")
assert_contains "print goes to the log" "INFO  probe: probe ready	42" "$log"
assert_contains "xz.log at its level" "WARN  probe: probe warns true" "$log"
stop_node
finish
