#!/usr/bin/env bash
# The operator scripts of the default deployment on a real node, with the
# kernel clock advanced: rollcall_escalation.lua escalates the alarm of a
# roll-call discrepancy left unreconciled (and stops once it is
# reconciled); the prison's own chain takes a silent alarm up to the
# bureau meanwhile; alarm_sla_report.lua reports open alarms per level and the
# period's SLA breaches, on request and periodically.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prison_actors.sh"
xz_setup
xz_config <<EOF2
plugins = ( { name = "prison"; kind = "so";
              options = { seed_demo_data = true;
                          alarm_dispatch_sla_l2_s = 600;
                          escalate_leader_s = 10;
                          escalate_leadership_s = 20; }; } );
scripts = (
  { name = "rollcall_escalation"; path = "$XZ_SRC/scripts/rollcall_escalation.lua";
    options = { escalate_after_s = 30; }; },
  { name = "alarm_sla_report"; path = "$XZ_SRC/scripts/alarm_sla_report.lua";
    options = { every_s = 120; }; }
);
EOF2
check "xiezhi check accepts the scripts" xz check
start_node

A=$DUTY
call() { xz call "$1" "$2" 2>/dev/null || true; }
field() { call prison.alarm.get "{$A,\"id\":\"$1\"}" | json "$2"; }
advance() { xz call xz.sys.clock.advance "{\"ms\":$1}" >/dev/null; sleep 0.5; }

xz_bg sub 'prison.report.sla' -n 1 >"$XZ_T/report" 2>/dev/null &
SUB=$!
sleep 0.3

# t=0: a perimeter alarm nobody acknowledges; a roll call with a
# discrepancy whose alarm (ALM-2) is acknowledged at once
call prison.alarm.raise "{$A,\"kind\":\"PERIMETER\",\"location\":\"5101.ZJ\"}" >/dev/null
RC=$(call prison.rollcall.schedule "{$AREA,\"location\":\"5101.01.2\"}" | json .id)
call prison.rollcall.start "{$AREA,\"id\":\"$RC\"}" >/dev/null
assert_eq "discrepancy raised ALM-00000002" ALM-00000002 \
	"$(call prison.rollcall.submit "{$AREA,\"id\":\"$RC\",\"counts\":[{\"location\":\"5101.01.2\",\"counted\":10}]}" | json .alarm_id)"
call prison.alarm.acknowledge "{$A,\"id\":\"ALM-00000002\"}" >/dev/null

advance 16000 # t=16: ALM-1 misses its level-1 ack SLA (15 s): duty leader
assert_eq "the discrepancy's alarm is not escalated before 30 s" 1 \
	"$(field ALM-00000002 .level)"
advance 15000 # t=31: the script's 30 s; ALM-1 misses the leader's 10 s
wait_until 5 'test "$(field ALM-00000002 .level)" = 2' ||
	fail "rollcall_escalation did not escalate ALM-00000002"
assert_eq "escalated by the script, saying why" \
	"2 script:rollcall_escalation roll call $RC not reconciled within 30 s" \
	"$(field ALM-00000002 '[.level, .history[-1].who, .history[-1].why] | map(tostring) | join(" ")')"

call prison.rollcall.reconcile "{$AREA,\"id\":\"$RC\",\"reason\":\"recount\",\"counts\":[{\"location\":\"5101.01.2\",\"counted\":10,\"out\":2}]}" >/dev/null
advance 30000 # t=61: reconciled: no second escalation; ALM-1 misses
              # the leadership's 20 s: the bureau is told
assert_eq "no escalation after the roll call is reconciled" 2 \
	"$(field ALM-00000002 .level)"
assert_eq "ALM-1 at level 3, the bureau told, its clock still running" "3 3 true" \
	"$(field ALM-00000001 '[.level, .chain_step, .due_ms > 0] | map(tostring) | join(" ")')"

R=$(call prison.report.sla.get '{}')
assert_eq "report: open alarms (total, levels 1 2 3)" '2 null 1 1' \
	"$(echo "$R" | json '[.open_total, .open["1"], .open["2"], .open["3"]] | map(tostring) | join(" ")')"
assert_eq "report: the period's breaches per level and stage, escalations" \
	'3 1 1 1 3 null 4' \
	"$(echo "$R" | json '[.breaches_total, .breaches["1"], .breaches["2"], .breaches["3"], .breaches_by_stage.acknowledge, .breaches_by_stage.dispatch, .escalations] | map(tostring) | join(" ")')"

advance 60000 # t=121: the periodic report
wait_for 5 test -s "$XZ_T/report" || fail "no periodic prison.report.sla"
assert_eq "periodic report published" "prison.report.sla 2" \
	"$(json '.topic + " " + (.data.open_total|tostring)' <"$XZ_T/report")"

kill "$SUB" 2>/dev/null || true
stop_node
finish
