#!/usr/bin/env bash
# Many open alarms, each with its SLA clock (more than the clock table's
# first size, so it grows twice while they are raised): acknowledging an
# alarm re-arms its clock, resolving one disarms it, and when the node's
# clock passes the acknowledge SLA exactly the alarms still RAISED
# escalate; past the dispatch SLA, the acknowledged ones do.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prison_actors.sh"
xz_setup
xz_config <<'EOF2'
plugins = ( { name = "audit"; kind = "so"; },
            { name = "prison"; kind = "so";
              options = { alarm_ack_sla_s = 600; alarm_dispatch_sla_s = 1200;
                          escalate_leader_s = 86400; }; } );
EOF2
start_node

A=$DUTY
N=150 # ALM-00000001 .. ALM-00000150
id() { printf 'ALM-%08d' "$1"; }
for i in $(seq 1 $N); do
	xz call prison.alarm.raise \
		"{$A,\"kind\":\"PERIMETER\",\"location\":\"5101.01.1\",\"source\":\"sensor\"}" >/dev/null
done
for i in $(seq 1 40); do # acknowledged: a dispatch clock instead
	xz call prison.alarm.acknowledge "{$A,\"id\":\"$(id "$i")\"}" >/dev/null
done
for i in $(seq 41 60); do # acknowledged, then resolved: no clock
	xz call prison.alarm.acknowledge "{$A,\"id\":\"$(id "$i")\"}" >/dev/null
	xz call prison.alarm.resolve "{$A,\"id\":\"$(id "$i")\",\"outcome\":\"checked\"}" >/dev/null
done

clocks() { xz call prison.alarm.stats "{$A}" | json .sla_clocks; }
assert_eq "one SLA clock per alarm that has a due time (resolved: none)" \
	130 "$(clocks)"

# "level state" of every alarm, one line each, in id order
levels() {
	xz call prison.alarm.list "{$A,\"limit\":500}" |
		json '.items[] | (.id + " " + (.level|tostring) + " " + .state)'
}
escalated() { test "$(levels | awk '$2 == 2' | wc -l)" -eq "$1"; }

assert_eq "no alarm escalated before its clock" 0 "$(levels | awk '$2 != 1' | wc -l)"
xz call xz.sys.clock.advance '{"ms":601000}' >/dev/null
wait_for 60 escalated 90 || fail "not 90 alarms escalated: $(levels | awk '$2 == 2' | wc -l)"
expect=$(for i in $(seq 61 $N); do echo "$(id "$i") 2"; done)
assert_eq "exactly the alarms still RAISED escalated on the acknowledge SLA" \
	"$expect" "$(levels | awk '$2 == 2 { print $1, $2 }')"
assert_eq "the acknowledged and the resolved ones did not" \
	"40 ACKNOWLEDGED 20 RESOLVED" \
	"$(levels | awk '$2 == 1 { n[$3]++ } END { print n["ACKNOWLEDGED"], "ACKNOWLEDGED", n["RESOLVED"], "RESOLVED" }')"

# the acknowledged ones' dispatch clocks (1200 s from their
# acknowledgement, which was before the first advance)
xz call xz.sys.clock.advance '{"ms":600000}' >/dev/null
wait_for 60 escalated 130 || fail "not 130 alarms escalated: $(levels | awk '$2 == 2' | wc -l)"
assert_eq "the acknowledged alarms escalated on the dispatch SLA" \
	"$(for i in $(seq 1 40); do echo "$(id "$i") 2 ACKNOWLEDGED"; done)" \
	"$(levels | head -40)"
assert_eq "the resolved ones never did" 20 "$(levels | awk '$2 == 1 && $3 == "RESOLVED"' | wc -l)"
# each escalated alarm runs its next clock (the duty leader's), in place
# of the one that fired
assert_eq "still one SLA clock per open alarm" 130 "$(clocks)"

stop_node
finish
