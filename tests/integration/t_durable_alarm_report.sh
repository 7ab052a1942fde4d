#!/usr/bin/env bash
# The default deployment's durable consumer of prison.alarm.>: the SLA
# report script (scripts/alarm_sla_report.lua) takes
# prison.alarm.sla-breached and prison.alarm.escalated with
# xz.subscribe_durable (docs/operations.md, section 8, says why that
# consumer). On a node with bus.durable = ("prison.alarm.>"), the prison
# plugin and the script:
#   - the alarm traffic nobody consumes durably (raise: prison.alarm.raised
#     and the rest) is not written to the durable log (the cheap path);
#   - five rounds: an escalation and a burst of 200 breaches are
#     published, the node is killed with kill -9 right after the publisher
#     was answered (the script is still taking the burst), and started
#     again: the report counts each exactly once (the log delivers what the
#     script had not acknowledged, the script drops an id it stored
#     before);
#   - a last kill -9 with everything acknowledged changes no count, and
#     nothing stays pending;
#   - with the script left out of the deployment (its durable subscription
#     stays in the log), an escalation and a breach are published and kept
#     pending for it, the node is killed; with the script back, the log
#     delivers both again and the report counts each once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/durable_lib.sh"
. "$(dirname "$0")/prison_actors.sh"
command -v jq >/dev/null || skip_test "no jq"
xz_setup
ROUNDS=5
BURST=200

write_cfg() { # ENABLED: the script in the deployment (true/false)
	xz_config <<EOF2
bus = { durable = ( "prison.alarm.>" ); };
plugins = ( { name = "prison"; kind = "so"; options = { seed_demo_data = true; }; } );
scripts = (
  { name = "alarm_sla_report"; path = "$XZ_SRC/scripts/alarm_sla_report.lua";
    enabled = $1; options = { every_s = 86400; }; }
);
EOF2
}
write_cfg true

dstat() { xz status | jq -r "$1"; }
report() { # the report's BREACHES ESCALATIONS so far ("" while it cannot answer)
	xz call prison.report.sla.get '{}' -t 5000 2>/dev/null |
		jq -r '"\(.breaches_total) \(.escalations)"' 2>/dev/null || true
}
restart_hard() {
	kill9_node
	start_node
}

start_node
wait_until 30 'test "$(dstat ".durable.consumers[] | select(.name == \"alarm_sla_report\") | .subscribed")" = true' ||
	die "alarm_sla_report is not a durable consumer: $(dstat -c .durable)"
assert_eq "it consumes breaches and escalations durably" \
	'["prison.alarm.escalated","prison.alarm.sla-breached"]' \
	"$(dstat '.durable.consumers[] | select(.name == "alarm_sla_report") | .patterns | sort' | jq -c .)"

W0=$(dstat .durable.written)
ID=$(xz call prison.alarm.raise "{$SENSOR,\"kind\":\"FIRE\",\"location\":\"5101.01.1.101\",\"source\":\"sensor\"}" | jq -r .id)
check "an alarm is raised ($ID)" test -n "$ID"
check "and acknowledged" xz call prison.alarm.acknowledge "{$DUTY,\"id\":\"$ID\"}"
assert_eq "events no durable consumer wants are not written" "$W0" "$(dstat .durable.written)"
# Dismissed, so its own SLA clock cannot escalate it (and publish more
# breaches) while a loaded machine runs the rounds below.
check "and dismissed" xz call prison.alarm.dismiss "{$DUTY,\"id\":\"$ID\",\"reason\":\"误报\"}"
assert_eq "the dismissal writes nothing either" "$W0" "$(dstat .durable.written)"

for i in $(seq 1 "$ROUNDS"); do
	check "round $i: an escalation is published" xz pub prison.alarm.escalated \
		"{\"id\":\"ALM-T$i\",\"step\":1,\"notify\":\"duty_leader\"}"
	for j in $(seq 1 "$BURST"); do
		echo "{\"id\":\"ALM-T$i-$j\",\"level\":1,\"stage\":\"acknowledge\"}"
	done >"$XZ_T/burst"
	check "round $i: $BURST breaches are published" xz pub prison.alarm.sla-breached - <"$XZ_T/burst"
	[ "$i" != 1 ] || assert_eq "all are written (a durable consumer wants them)" \
		$((W0 + BURST + 1)) "$(dstat .durable.written)"
	restart_hard
	want="$((i * BURST)) $i"
	wait_until 90 "test \"\$(report)\" = '$want'" ||
		fail "round $i: after kill -9 the report counts '$(report)', expected '$want'"
done
pass "$ROUNDS rounds of kill -9 right after the publish ($(grep -c 'delivered again' "$XZ_T/n1.log" || true) start(s) with a redelivery)"
wait_until 30 'test "$(dstat ".durable.consumers[] | select(.name == \"alarm_sla_report\") | .pending")" = 0' ||
	fail "the script left $(dstat '.durable.consumers[] | select(.name == "alarm_sla_report") | .pending') pending"
restart_hard
wait_until 30 'test -n "$(report)"' || true
assert_eq "a kill -9 with everything acknowledged counts nothing twice" \
	"$((ROUNDS * BURST)) $ROUNDS" "$(report)"
assert_eq "and the log is empty" 0 "$(dstat .durable.events)"

stop_node
write_cfg false
start_node
check "with the script down: an escalation is published" xz pub prison.alarm.escalated \
	'{"id":"ALM-D","step":2,"notify":"prison_leader"}'
check "and a breach" xz pub prison.alarm.sla-breached '{"id":"ALM-D","level":2,"stage":"dispatch"}'
assert_eq "both wait for it in the log" "false 2" \
	"$(dstat '.durable.consumers[] | select(.name == "alarm_sla_report") | "\(.subscribed) \(.pending)"')"
restart_hard
write_cfg true
restart_hard
want="$((ROUNDS * BURST + 1)) $((ROUNDS + 1))"
wait_until 60 "test \"\$(report)\" = '$want'" ||
	fail "with the script back the report counts '$(report)', expected '$want'"
assert_contains "the log delivered them again" "unacknowledged event(s) of alarm_sla_report delivered again" \
	"$(cat "$XZ_T/n1.log")"
stop_node
finish
