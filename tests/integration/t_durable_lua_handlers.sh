#!/usr/bin/env bash
# t_durable_lua_handlers.sh - a Lua plugin declares a durable handler in its
# handlers table, { fn = function, durable = true } (docs/lua.md,
# "Handlers"), and the node redelivers on its own period,
# bus.durable_redeliver_ms (docs/operations.md, section 8). One plugin file
# runs as `dh` in the node and as `dhiso` with isolation = "process", on a
# node with bus.durable = ("dh.ev.>") and durable_redeliver_ms = 500. Its
# durable handler stores one row per message id (how many times it came,
# whether a delivery was flagged redelivered) and raises an error on the
# first delivery of an event whose mode is "fail". Checked:
#   - check refuses a wrong durable_redeliver_ms (type, range) and each
#     malformed handlers entry at FILE:LINE, naming the key or pattern;
#   - both instances are durable consumers, status shows the period;
#   - the returned event is acknowledged once; the failed one comes again
#     without a restart (the period), flagged redelivered, and is then
#     acknowledged: nothing stays pending, the log is empty;
#   - a handlers entry in the table form without durable is a plain
#     handler (a request answered).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/durable_lib.sh"
durable_setup

cat >"$XZ_T/dh.lua" <<'EOF2'
local got = require("got")
return {
	name = "dh", version = "1.0",
	handlers = {
		["dh.ev.>"] = { durable = true, fn = function(d, topic, source, caller, msg)
			got.record(d.tag, msg)
			if d.mode == "fail" and not msg.redelivered then
				error("failing on purpose")
			end
		end },
		["dh.ping"] = { fn = function() return { pong = xz.name } end },
	},
}
EOF2

# ---- check: the period and the handlers table, at FILE:LINE ----
cfg() { # cfg BUS_EXTRA SCRIPT
	xz_config <<EOF2
bus = { durable = ( "dh.ev.>" ); $1 };
plugins = ( { name = "dh"; kind = "lua"; path = "$2"; } );
EOF2
}
refused() { # refused WHAT NEEDLE
	assert_exit "check: $1" 1 xz check
	assert_contains "check: $1 (the reason)" "$2" "$ERR$OUT"
}
cfg 'durable_redeliver_ms = "fast";' "$XZ_T/dh.lua"
L=$(grep -n durable_redeliver_ms "$XZ_CFG" | cut -d: -f1)
refused "a durable_redeliver_ms that is no integer" "node.cfg:$L: bus.durable_redeliver_ms must be an integer"
cfg 'durable_redeliver_ms = 50;' "$XZ_T/dh.lua"
refused "a durable_redeliver_ms out of range" "node.cfg:$L: bus.durable_redeliver_ms must be between 100 and 3600000, got 50"
bad() { # bad ENTRY NEEDLE
	printf 'return {\n\tname = "bad",\n\thandlers = {\n\t\t["dh.ev.x"] = %s,\n\t},\n}\n' "$1" >"$XZ_T/bad.lua"
	cfg "" "$XZ_T/bad.lua"
	refused "handlers entry $1" "bad.lua:4: handlers['dh.ev.x']$2"
}
bad '{ fn = function() end, durable = "yes" }' ": field 'durable' must be a boolean, got string"
bad '{ durable = true }' ": field 'fn' must be a function, got nil"
bad '{ fn = function() end, durabel = true }' ": unknown field 'durabel' (fields: fn, durable)"
bad '42' " must be a function or a table { fn = function, durable = boolean }, got number"

# ---- the node ----
XZ_NODE_EXTRA='restart_backoff_ms = 100;' xz_config <<EOF2
bus = { durable = ( "dh.ev.>" ); durable_redeliver_ms = 500; };
plugins = (
  { name = "dh"; kind = "lua"; path = "$XZ_T/dh.lua"; },
  { name = "dhiso"; kind = "lua"; path = "$XZ_T/dh.lua"; isolation = "process"; }
);
EOF2
check "check accepts the durable handlers and the period" xz check

row() { got_row "$DATA/$1.db" "$2"; } # row NAME TAG: "n redelivered"
start_node
wait_until 60 'test "$(durable_field dh subscribed)" = true && test "$(durable_field dhiso subscribed)" = true' ||
	die "the handlers tables' durable entries made no durable consumers: $(xz status | jq -c .durable)"
pass "a durable handler of the handlers table makes a durable consumer, in the node and isolated"
assert_eq "status shows the redelivery period" 500 "$(xz status | jq -r .durable.redeliver_ms)"

check "publish ok1" xz pub dh.ev.a '{"tag":"ok1"}'
check "publish fail1" xz pub dh.ev.b '{"tag":"fail1","mode":"fail"}'
for c in dh dhiso; do
	wait_until 120 "test \"\$(row $c fail1)\" = '2 1' && test \"\$(durable_field $c pending)\" = 0" ||
		fail "$c: the failed event did not come again and get acknowledged without a restart: '$(row $c fail1)', pending $(durable_field $c pending)"
	assert_eq "$c: the failed event came again, flagged, and was then acknowledged" "2 1" "$(row $c fail1)"
	assert_eq "$c: the returned event was acknowledged at once (never again)" "1 0" "$(row $c ok1)"
done
wait_until 30 'test "$(xz status | jq -r .durable.events)" = 0' ||
	fail "the log still holds $(xz status | jq -r .durable.events) event(s)"
pass "the log is empty once both consumers acknowledged"
pong=$(xz call -t 30000 dh.ping '{}' | jq -r .pong)
case "$pong" in
dh | dhiso) pass "a table entry without durable is a plain handler (answered by $pong)" ;;
*) fail "dh.ping answered '$pong'" ;;
esac
stop_node
finish
