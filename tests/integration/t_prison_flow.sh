#!/usr/bin/env bash
# The command center end to end on a real node and through the bus only:
# roll-call discrepancy -> alarm raised -> not acknowledged in time (the
# kernel clock is advanced) -> the escalation chain (duty leader, prison
# leadership, the provincial bureau on prison.report.upward) -> worked and
# resolved -> incident report drafted, and updated when the alarm is
# resolved again -> roll call reconciled after a recount.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prison_actors.sh"
xz_setup
xz_config <<'EOF2'
# level 1 keeps the default (15 s); the duty leader's clock is long enough
# that the officer's steps never race it on a slow machine
plugins = ( { name = "audit"; kind = "so"; }, { name = "prison"; kind = "so";
              options = { seed_demo_data = true;
                          escalate_leader_s = 600; }; } );
EOF2
start_node

call() { xz call "$1" "$2" 2>/dev/null || true; }

# every prison and audit event, one JSON line each
xz_bg sub 'prison.>' >"$XZ_T/events" 2>/dev/null &
SUB=$!
xz_bg sub 'audit.prison.>' >"$XZ_T/audit" 2>/dev/null &
SUB2=$!
probe() {
	xz pub prison.test.probe '{}' >/dev/null 2>&1
	grep -q prison.test.probe "$XZ_T/events"
}
wait_for 10 probe || die "subscriber never saw the probe event"

LOC=5101.01.1.101
R=$(call prison.rollcall.schedule "{$AREA,\"location\":\"$LOC\"}")
assert_eq "roll call scheduled" "RC-00000001 SCHEDULED" \
	"$(echo "$R" | json '.id + " " + .state')"
assert_eq "a roll call at an unknown location is refused" \
	'bad_request: prison.rollcall.schedule: "location": NOWHERE.9 is not a registered location' \
	"$(xz call prison.rollcall.schedule "{$AREA,\"location\":\"NOWHERE.9\"}" 2>/dev/null | json '.error.code + ": " + .error.message' || true)"

assert_exit "counting before the roll call starts is refused" 1 \
	xz call prison.rollcall.submit \
	"{$AREA,\"id\":\"RC-00000001\",\"counts\":[{\"location\":\"$LOC\",\"counted\":4}]}"
assert_eq "refusal names the state and the allowed actions" \
	"invalid_state: rollcall RC-00000001 is SCHEDULED: submit is not allowed (allowed: start)" \
	"$(echo "$OUT" | json '.error.code + ": " + .error.message')"

assert_eq "roll call started" IN_PROGRESS \
	"$(call prison.rollcall.start "{$AREA,\"id\":\"RC-00000001\"}" | json .state)"

# cell 101 holds 4 prisoners; 3 are counted
R=$(call prison.rollcall.submit \
	"{$AREA,\"id\":\"RC-00000001\",\"counts\":[{\"location\":\"$LOC\",\"counted\":3}]}")
assert_eq "discrepancy found, expected count from the register" \
	"DISCREPANCY 1 4 ALM-00000001" \
	"$(echo "$R" | json '[.state, .missing, .counts[0].expected, .alarm_id] | map(tostring) | join(" ")')"

R=$(call prison.alarm.get "{$DUTY,\"id\":\"ALM-00000001\"}")
assert_eq "the discrepancy raised an alarm, with the cameras of its place" \
	"ROLLCALL_DISCREPANCY RAISED 1 $LOC RC-00000001 acknowledge cam-01-1-corridor" \
	"$(echo "$R" | json '[.kind, .state, .level, .location, .rollcall_id, .sla_stage, .cameras[0]] | map(tostring) | join(" ")')"

# nobody acknowledges: 16 s later on the kernel clock the level-1 SLA
# (15 s) is missed: the duty leader is told, the level rises
xz call xz.sys.clock.advance '{"ms":16000}' >/dev/null
wait_for 10 grep -q '"topic":"prison.alarm.escalated"' "$XZ_T/events" ||
	fail "no prison.alarm.escalated event"
E=$(grep '"topic":"prison.alarm.escalated"' "$XZ_T/events" | head -1)
assert_eq "escalated event: up the chain to the duty leader" \
	"ALM-00000001 1 2 1 duty_leader system:sla acknowledge SLA of level 1 missed" \
	"$(echo "$E" | json '[.data.id, .data.from_level, .data.to_level, .data.chain_step, .data.notify, .data.who, .data.reason] | map(tostring) | join(" ")')"
B=$(grep '"topic":"prison.alarm.sla-breached"' "$XZ_T/events" | head -1)
assert_eq "sla-breached event" "ALM-00000001 acknowledge 1" \
	"$(echo "$B" | json '[.data.id, .data.stage, .data.level] | map(tostring) | join(" ")')"
R=$(call prison.alarm.get "{$DUTY,\"id\":\"ALM-00000001\"}")
assert_eq "alarm now at level 2, on the duty leader's clock (600 s)" "2 600000" \
	"$(echo "$R" | json '[.level, (.due_ms - .updated_ms)] | map(tostring) | join(" ")')"

# the command center works the alarm
assert_eq "acknowledged" ACKNOWLEDGED \
	"$(call prison.alarm.acknowledge "{$DUTY,\"id\":\"ALM-00000001\"}" | json .state)"
assert_exit "dispatch without a unit is refused" 1 \
	xz call prison.alarm.dispatch "{$DUTY,\"id\":\"ALM-00000001\"}"
assert_eq "refusal text" \
	'prison.alarm.dispatch: "unit" is missing: expected a string of 1 to 128 bytes' \
	"$(echo "$OUT" | json .error.message)"
assert_eq "dispatched" DISPATCHED \
	"$(call prison.alarm.dispatch "{$DUTY,\"id\":\"ALM-00000001\",\"unit\":\"一监区处置组\"}" | json .state)"
assert_eq "on scene" ON_SCENE \
	"$(call prison.alarm.arrive "{$AREA,\"id\":\"ALM-00000001\"}" | json .state)"
assert_eq "handling" HANDLING \
	"$(call prison.alarm.handle "{$AREA,\"id\":\"ALM-00000001\"}" | json .state)"
R=$(call prison.alarm.resolve \
	"{$DUTY,\"id\":\"ALM-00000001\",\"outcome\":\"罪犯在监狱医院就诊\"}")
assert_eq "resolved, incident report drafted" "RESOLVED INC-00000001" \
	"$(echo "$R" | json '.state + " " + .incident_id')"
# the reply is the record as stored (its saved text, not encoded again)
G=$(call prison.alarm.get "{$DUTY,\"id\":\"ALM-00000001\",\"history\":false}")
assert_eq "resolve's reply is the stored record" \
	"$(echo "$G" | jq -cS 'del(.allowed)')" "$(echo "$R" | jq -cS .)"

R=$(call prison.incident.get "{$LEADER,\"id\":\"INC-00000001\",\"purpose\":\"review\"}")
assert_eq "incident drafted from the alarm" \
	"DRAFT ALM-00000001 ROLLCALL_DISCREPANCY $LOC" \
	"$(echo "$R" | json '[.state, .alarm_id, .type, .location] | join(" ")')"
assert_contains "incident description names the outcome" \
	"罪犯在监狱医院就诊" "$(echo "$R" | json .description)"

# reopened and resolved again: the report takes the second outcome
assert_eq "reopened by the duty leader" REOPENED \
	"$(call prison.alarm.reopen "{$LEADER,\"id\":\"ALM-00000001\",\"reason\":\"复查\"}" | json .state)"
call prison.alarm.acknowledge "{$DUTY,\"id\":\"ALM-00000001\"}" >/dev/null
assert_eq "resolved again, same report" "RESOLVED INC-00000001" \
	"$(call prison.alarm.resolve "{$DUTY,\"id\":\"ALM-00000001\",\"outcome\":\"复查确认：医院就诊，人数无误\"}" | json '.state + " " + .incident_id')"
R=$(call prison.incident.get "{$LEADER,\"id\":\"INC-00000001\",\"purpose\":\"review\"}")
assert_eq "the incident holds both outcomes" \
	"罪犯在监狱医院就诊|复查确认：医院就诊，人数无误|alarm-resolved" \
	"$(echo "$R" | json '(.outcomes | join("|")) + "|" + .history[-1].action')"

R=$(call prison.rollcall.reconcile \
	"{$AREA,\"id\":\"RC-00000001\",\"reason\":\"recount\",\"counts\":[{\"location\":\"$LOC\",\"counted\":3,\"out\":1}]}")
assert_eq "roll call reconciled after the recount" "RECONCILED 0" \
	"$(echo "$R" | json '.state + " " + (.missing|tostring)')"

assert_exit "the duty officer may not close an alarm" 1 \
	xz call prison.alarm.close "{$DUTY,\"id\":\"ALM-00000001\"}"
assert_eq "closing is the duty leader's" CLOSED \
	"$(call prison.alarm.close "{$LEADER,\"id\":\"ALM-00000001\"}" | json .state)"
assert_exit "closing twice is refused" 1 \
	xz call prison.alarm.close "{$LEADER,\"id\":\"ALM-00000001\"}"
assert_eq "refusal of a closed alarm" \
	"alarm ALM-00000001 is CLOSED: close is not allowed (allowed: none)" \
	"$(echo "$OUT" | json .error.message)"

R=$(call prison.alarm.get "{$DUTY,\"id\":\"ALM-00000001\"}")
assert_eq "the alarm's history: who did what" \
	"create:wangfang escalate:system:sla acknowledge:zhangwei dispatch:zhangwei arrive:wangfang handle:wangfang resolve:zhangwei reopen:liqiang acknowledge:zhangwei resolve:zhangwei close:liqiang" \
	"$(echo "$R" | json '[.history[] | .action + ":" + .who] | join(" ")')"

# -- a level-3 alarm nobody answers reaches the provincial bureau
R=$(call prison.alarm.raise "{$SENSOR,\"kind\":\"PERIMETER\",\"level\":3,\"location\":\"5101.ZJ\",\"source\":\"sensor\",\"device\":\"zj-fence-07\"}")
A3=$(echo "$R" | json .id)
assert_eq "level-3 perimeter alarm: 5 s to acknowledge" "RAISED 3 5000" \
	"$(echo "$R" | json '[.state, .level, (.due_ms - .raised_ms)] | map(tostring) | join(" ")')"
xz call xz.sys.clock.advance '{"ms":6000}' >/dev/null # ack clock missed
wait_for 10 grep -q "\"notify\":\"duty_leader\".*$A3\|$A3.*\"notify\":\"duty_leader\"" "$XZ_T/events" ||
	fail "the duty leader was not told"
xz call xz.sys.clock.advance '{"ms":601000}' >/dev/null # the leader's clock
wait_for 10 grep -q "\"notify\":\"prison_leader\"" "$XZ_T/events" ||
	fail "the prison's leadership was not told"
assert_eq "nothing upward yet" 0 "$(grep -c '"topic":"prison.report.upward"' "$XZ_T/events" || true)"
xz call xz.sys.clock.advance '{"ms":121000}' >/dev/null # leadership's clock
wait_for 10 grep -q '"topic":"prison.report.upward"' "$XZ_T/events" ||
	fail "no prison.report.upward"
U=$(grep '"topic":"prison.report.upward"' "$XZ_T/events" | head -1)
assert_eq "the bureau is notified" "ALARM bureau prison-01 $A3 PERIMETER 3 5101.ZJ RAISED 1" \
	"$(echo "$U" | json '[.data.type, .data.to, .data.agency, .data.alarm_id, .data.kind, .data.level, .data.location, .data.state, .data.report] | map(tostring) | join(" ")')"
assert_eq "the chain of a silent alarm" "duty_leader prison_leader prison_bureau" \
	"$(grep '"topic":"prison.alarm.escalated"' "$XZ_T/events" | json "select(.data.id == \"$A3\") | .data.notify" | tr '\n' ' ' | sed 's/ $//')"
xz call xz.sys.clock.advance '{"ms":601000}' >/dev/null # and again: never silent
reminded() { test "$(grep -c '"topic":"prison.report.upward"' "$XZ_T/events")" -ge 2; }
wait_for 10 reminded ||
	fail "the bureau was not reminded"
assert_eq "the bureau may read the alarm" "$A3 3" \
	"$(call prison.alarm.get "{$BUREAU,\"id\":\"$A3\"}" | json '.id + " " + (.chain_step|tostring)')"

sleep 0.5
# the alarm of a discrepancy is raised in the flag's transaction, and the
# incident report in the resolve's: their events come first
assert_eq "events in order, through the bus" \
	"rollcall.scheduled rollcall.started alarm.raised rollcall.discrepancy-found alarm.sla-breached alarm.escalated alarm.acknowledged alarm.dispatched alarm.arrived alarm.handling-started incident.drafted alarm.resolved alarm.reopened alarm.acknowledged incident.updated alarm.resolved rollcall.reconciled alarm.closed" \
	"$(json '.topic' <"$XZ_T/events" | grep -E '^prison\.(rollcall|alarm|incident)\.(scheduled|started|discrepancy-found|raised|sla-breached|escalated|acknowledged|dispatched|arrived|handling-started|drafted|updated|resolved|reopened|reconciled|closed)$' | sed 's/^prison\.//' | head -18 | tr '\n' ' ' | sed 's/ $//')"
assert_eq "audit: refusals and the incident reads are audited" "5 2" \
	"$(json '.data.action' <"$XZ_T/audit" | grep -c REFUSE) $(json '.data.action + " " + .data.subject_id' <"$XZ_T/audit" | grep -c 'VIEW INC-00000001')"

kill "$SUB" "$SUB2" 2>/dev/null || true
stop_node
finish
