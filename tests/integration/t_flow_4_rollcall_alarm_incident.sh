#!/usr/bin/env bash
# t_flow_4_rollcall_alarm_incident.sh - the domain's flow 4 (docs/scenarios.md) on a real node
# (prison + audit), through the bus only: a roll-call discrepancy raises an
# alarm; nobody acknowledges it within its SLA (kernel clock advanced) so
# it is escalated; it is then acknowledged, dispatched, resolved, and an
# incident report is drafted from it. The audit trail holds each step.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
. "$XZ_SRC/plugins/legal/tests/flowlib.sh"
. "$(dirname "$0")/prison_actors.sh"
LACTOR=$DUTY # lcall acts as the command center's duty officer
flow_skip_unless prison
WITH_AUDIT=0
if flow_have audit; then WITH_AUDIT=1; fi
if [ $WITH_AUDIT = 1 ]; then flow_node prison audit; else flow_node prison; fi
S=1000

sub_bg 'prison.*.*' 1000 "$XZ_T/prison.txt"
SUB1=$SUB_PID
ev() { jq -c --arg t "$1" 'select(.topic == $t and .data.actor == null)' "$XZ_T/prison.txt"; }

echo "-- roll call with a discrepancy"
LOC=5101.01.1.101
RC=$(lcall prison.rollcall.schedule "\"location\":\"$LOC\"" | jq -r .id)
check "roll call started" lcall prison.rollcall.start "\"id\":\"$RC\""
R=$(lcall prison.rollcall.submit "\"id\":\"$RC\",\"counts\":[{\"location\":\"$LOC\",\"expected\":2,\"counted\":1,\"out\":0,\"elsewhere\":0}]")
assert_eq "discrepancy" DISCREPANCY "$(echo "$R" | jq -r .state)"
ALM=$(echo "$R" | jq -r .alarm_id)
[ -n "$ALM" ] && [ "$ALM" != null ] || die "no alarm id on the roll call: $R"
wait_until 5 'test -n "$(ev prison.alarm.raised)"' || true
assert_eq "alarm raised" "$ALM|ROLLCALL_DISCREPANCY|1" \
	"$(ev prison.alarm.raised | jq -r '.data | "\(.id)|\(.kind)|\(.level)"')"

echo "-- not acknowledged in time: escalated"
DUE=$(lcall prison.alarm.get "\"id\":\"$ALM\",\"purpose\":\"flow 4\"" | jq -r .due_ms)
RAISED_AT=$(ev prison.alarm.raised | jq -r .data.at_ms)
assert_eq "acknowledge SLA of level 1: 15 s" $((15 * S)) $((DUE - RAISED_AT))
ADV=$((DUE - $(now_ms) - 3 * S))
if [ "$ADV" -gt 0 ]; then
	advance "$ADV"
	sleep 0.3
	# read the events, then the clock: only while the clock is still
	# before the due time does an escalation in them mean one too early
	# (on a loaded machine the real clock may pass it meanwhile)
	esc=$(ev prison.alarm.escalated)
	late=$(($(now_ms) - DUE))
	if [ "$late" -lt 0 ]; then
		assert_eq "no escalation 3 s before" "" "$esc"
	else
		skip "no escalation 3 s before: the clock is already $late ms past the due time"
	fi
	advance $((4 * S))
else # the real clock ran past it meanwhile (a loaded machine)
	skip "no escalation 3 s before: already $((-ADV)) ms past that point"
fi
wait_until 60 'test -n "$(ev prison.alarm.escalated)"' || true
assert_eq "escalated to level 2, the duty leader told" "$ALM|2|duty_leader" \
	"$(ev prison.alarm.escalated | head -n1 | jq -r '.data | "\(.id)|\(.level)|\(.notify)"')"
A=$(lcall prison.alarm.get "\"id\":\"$ALM\",\"purpose\":\"flow 4\"")
assert_eq "alarm level 2, still RAISED" "RAISED|2" "$(echo "$A" | jq -r '"\(.state)|\(.level)"')"

echo "-- handled, resolved, incident drafted"
check "alarm acknowledge" lcall prison.alarm.acknowledge "\"id\":\"$ALM\""
check "alarm dispatch" lcall prison.alarm.dispatch "\"id\":\"$ALM\",\"unit\":\"一监区处置组\""
check "alarm arrive" lcall prison.alarm.arrive "\"id\":\"$ALM\""
check "alarm resolve" lcall prison.alarm.resolve "\"id\":\"$ALM\",\"outcome\":\"罪犯在车间，人数无误\""
assert_eq "alarm resolved" RESOLVED \
	"$(lcall prison.alarm.get "\"id\":\"$ALM\",\"purpose\":\"flow 4\"" | jq -r .state)"
wait_until 5 'test -n "$(ev prison.incident.drafted)"' || true
INC=$(ev prison.incident.drafted | head -n1 | jq -r .data.id)
[ -n "$INC" ] || die "no prison.incident.drafted"
I=$(lcall prison.incident.get "\"id\":\"$INC\",\"purpose\":\"flow 4\"")
assert_eq "incident drafted from the alarm" "DRAFT|$ALM" \
	"$(echo "$I" | jq -r '"\(.state)|\(.alarm_id)"')"
LACTOR=$AREA # the area officer recounts
check "roll call reconciled after a recount" lcall prison.rollcall.reconcile "\"id\":\"$RC\",\"reason\":\"recount: 2 of 2\""

if [ $WITH_AUDIT = 1 ]; then
	sleep 0.3
	assert_eq "audit: roll call" "CREATE UPDATE UPDATE UPDATE" \
		"$(audit_rows "\"subject_id\":\"$RC\"" | jq -r .action | tr '\n' ' ' | sed 's/ $//')"
	ALMA=$(audit_rows "\"subject_id\":\"$ALM\"" | jq -r .action | tr '\n' ' ')
	assert_contains "audit: alarm created" "CREATE" "$ALMA"
	assert_eq "audit: alarm updates (escalate, acknowledge, dispatch, arrive, resolve)" 5 \
		"$(audit_rows "\"subject_id\":\"$ALM\"" | jq -r 'select(.action == "UPDATE") | .action' | wc -l)"
	assert_contains "audit: incident created" "CREATE" \
		"$(audit_rows "\"subject_id\":\"$INC\"" | jq -r .action | tr '\n' ' ')"
	assert_eq "the chain verifies" true "$(lcall audit.verify | jq -r .ok)"
else
	skip "audit checks: the audit plugin is not built"
fi
kill "$SUB1" 2>/dev/null || true
stop_node
finish
