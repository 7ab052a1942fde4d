#!/usr/bin/env bash
# Alarms and their SLA clocks survive kill -9: every acknowledged change is
# in the store after a restart, the SLA timers of open alarms are re-armed
# from their stored due times, and an alarm that became overdue while the
# node was down escalates at once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prison_actors.sh"
xz_setup
# Alarm 1 is raised and acknowledged inside its acknowledge SLA, in real
# time: two CLI calls, which a sanitizer build on a loaded machine can
# stretch over seconds, hence a longer clock there.
ACK_SLA=3 DISPATCH_SLA=60
if sanitized; then ACK_SLA=12 DISPATCH_SLA=900; fi
xz_config <<EOF2
plugins = ( { name = "prison"; kind = "so";
              options = { alarm_ack_sla_s = $ACK_SLA; alarm_dispatch_sla_s = $DISPATCH_SLA;
                          alarm_ack_sla_l2_s = 600; }; } );
EOF2
start_node

A=$DUTY
call() { xz call "$1" "$2" 2>/dev/null || true; }
field() { call prison.alarm.get "{$A,\"id\":\"$1\"}" | json "$2"; }
level_is() { test "$(field "$1" .level)" = "$2"; } # polled by wait_for

call prison.alarm.raise "{$A,\"kind\":\"FIRE\",\"location\":\"5101.01.1\",\"source\":\"sensor\"}" >/dev/null
call prison.alarm.acknowledge "{$A,\"id\":\"ALM-00000001\"}" >/dev/null
call prison.alarm.raise "{$A,\"kind\":\"PERIMETER\",\"location\":\"5101.01.2\",\"source\":\"sensor\"}" >/dev/null
call prison.alarm.acknowledge "{$A,\"id\":\"ALM-00000002\"}" >/dev/null
assert_eq "alarm 2 resolved before the crash" RESOLVED \
	"$(call prison.alarm.resolve "{$A,\"id\":\"ALM-00000002\",\"outcome\":\"fox on the fence\"}" | json .state)"
# raised last, just before the crash: its acknowledge clock runs out while
# the node is down
R=$(call prison.alarm.raise "{$A,\"kind\":\"DRONE\",\"location\":\"5101.02.1\",\"source\":\"video\"}")

# the crash: no shutdown at all
kill -KILL "$NODE_PID"
wait "$NODE_PID" 2>/dev/null || true
XZ_NODES=()
assert_eq "alarm 3 was acknowledged by the bus (stored) at level 1" \
	"ALM-00000003 1" "$(echo "$R" | json '.id + " " + (.level|tostring)')"
sleep $((ACK_SLA + 1))

start_node
assert_eq "all three alarms are there" 3 \
	"$(call prison.alarm.list "{$A,\"limit\":10}" | json .total)"
assert_eq "alarm 1 kept its acknowledgement and history" \
	"ACKNOWLEDGED create,acknowledge" \
	"$(call prison.alarm.get "{$A,\"id\":\"ALM-00000001\"}" | json '.state + " " + ([.history[].action] | join(","))')"
assert_eq "alarm 2 kept its resolution and its incident report" \
	"RESOLVED INC-00000001 DRAFT" \
	"$(field ALM-00000002 '.state + " " + .incident_id') $(call prison.incident.get "{$A,\"id\":\"INC-00000001\"}" | json .state)"
wait_for 5 level_is ALM-00000003 2 ||
	fail "alarm 3 did not escalate at once after the restart"
assert_eq "overdue alarm escalated at start by the SLA clock" \
	"2 create,escalate system:sla acknowledge SLA of level 1 missed" \
	"$(field ALM-00000003 '[.level, ([.history[].action] | join(",")), .history[-1].who, .history[-1].why] | map(tostring) | join(" ")')"
assert_contains "the node says what it re-armed" \
	"re-armed 2 alarm SLA timer(s) from the store (1 overdue)" \
	"$(cat "$XZ_T/n1.log")"

# alarm 1's dispatch clock (DISPATCH_SLA from its acknowledgement) was
# re-armed too
assert_eq "alarm 1 still level 1 before its dispatch SLA" 1 \
	"$(field ALM-00000001 .level)"
xz call xz.sys.clock.advance "{\"ms\":$(((DISPATCH_SLA + 1) * 1000))}" >/dev/null
wait_for 5 level_is ALM-00000001 2 ||
	fail "alarm 1 did not escalate when its re-armed dispatch SLA passed"
assert_eq "alarm 1 escalated on the dispatch SLA" \
	"dispatch SLA of level 1 missed" \
	"$(field ALM-00000001 '.history[-1].why')"

stop_node
finish
