#!/usr/bin/env bash
# The default deployment's scenario fragment (config/scenarios.cfg) runs:
# prison and rehab seed themselves, and the demo source makes the command
# center live like a prison's shifts. Over 10 simulated shifts (speed 600:
# a shift of 8 h is 48 s of the node's clock, moved forward with the test
# clock 20 simulated minutes at a time) the demo raises a handful of
# alarms per shift, counts every sub-area at the four roll-call times of
# each day, and the open alarms stay bounded. At each change of the
# prison's duty shifts (08:00 and 20:00) the outgoing duty officer hands
# over and the incoming one accepts: one accepted handover per change.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prison_actors.sh"
xz_setup
cp "$XZ_SRC/config/scenarios.cfg" "$XZ_T/scenarios.cfg"
sed -i 's/speed                 = 1;/speed                 = 600;/' "$XZ_T/scenarios.cfg"
grep -q 'speed                 = 600;' "$XZ_T/scenarios.cfg" ||
	die "config/scenarios.cfg has no demo speed line to edit"
xz_config <<'EOF2'
plugins = (
@include "scenarios.cfg"
);
EOF2
check "xiezhi check accepts config/scenarios.cfg" xz check
start_node

assert_eq "the seeded prison has 40 prisoners" 40 \
	"$(xz call prison.prisoner.list "{$DUTY,\"limit\":1}" | json .total)"
assert_eq "the seeded centre has 12 residents" 12 \
	"$(xz call rehab.resident.list '{"limit":1,"actor":{"user":"wang-jing","role":"rehab_officer","agency":"rehab-01"}}' | json .total)"
ticking() { [ "$(counter demo ticks)" -ge 2 ]; } # evaluated at each try
wait_for 20 ticking || die "the demo does not tick"

"$XZ_BIN" sub -c "$XZ_CFG" 'rehab.assessment.scored' >"$XZ_T/assess" 2>/dev/null &
SUB=$!
open_alarms() {
	xz call prison.alarm.stats "{$DUTY}" | jq '[.by_state | to_entries[]
	  | select(.key != "CLOSED" and .key != "FALSE_ALARM")
	  | .value[]] | add // 0'
}

# 10 shifts = 80 h = 240 steps of 20 simulated minutes (2 s of node
# clock); real time runs on meanwhile (times 600 too), so the counts
# below are checked against the simulated time that really passed
node_ms() { xz call xz.sys.clock.advance '{"ms":0}' | json .now_ms; }
T0=$(node_ms)
max_open=0 samples=0
for step in $(seq 1 240); do
	# one tick of the demo's timer each (a periodic timer does not fire
	# twice for one jump; if the node lags, a tick covers more time)
	xz call xz.sys.clock.advance '{"ms":2000}' >/dev/null
	if [ $((step % 8)) = 0 ]; then
		o=$(open_alarms)
		samples=$((samples + 1))
		[ "$o" -le "$max_open" ] || max_open=$o
	fi
done
sleep 1
H=$((($(node_ms) - T0) * 600 / 3600000)) # simulated hours
SHIFTS=$((H / 8))
[ "$SHIFTS" -ge 10 ] || fail "only $SHIFTS simulated shifts passed"
RAISED=$(xz call prison.alarm.list "{$DUTY,\"limit\":1000}" | jq '[.items[] | select(.kind != "ROLLCALL_DISCREPANCY")] | length')
ROLLCALLS=$(xz call prison.rollcall.list "{$AREA,\"limit\":1}" | json .total)
echo "    $H simulated hours ($SHIFTS shifts): $RAISED sensor alarms, $ROLLCALLS roll calls, at most $max_open open alarms in $samples samples, $(wc -l <"$XZ_T/assess") assessment results"
assert_le "a handful of alarms per shift (4 on average): at least 2 a shift" $((SHIFTS * 2)) "$RAISED"
assert_le "a handful of alarms per shift: at most 6 a shift" "$RAISED" $((SHIFTS * 6 + 6))
# H hours from any time of day pass 4 x H/24 of the daily roll-call times
# (give or take the day begun), and each counts the 4 sub-areas
assert_le "roll calls at their times: at least 4 a day x 4 sub-areas" $((H / 24 * 16)) "$ROLLCALLS"
assert_le "roll calls at their times: at most 4 a day x 4 sub-areas" "$ROLLCALLS" $(((H / 24 + 1) * 16))
assert_le "open alarms stay bounded over 10 shifts (max_open_alarms 6 + recounts)" "$max_open" 10
assert_le "and at the end" "$(open_alarms)" 10
assert_le "alarms are worked to the end: most closed or dismissed" \
	$((RAISED * 3 / 4)) \
	"$(xz call prison.alarm.stats "{$DUTY}" | jq '[.by_state | to_entries[] | select(.key == "CLOSED" or .key == "FALSE_ALARM") | .value[]] | add // 0')"
assert_le "assessment results for the residents: a few a shift" $((SHIFTS * 3)) "$(wc -l <"$XZ_T/assess")"
# H hours pass H/12 (give or take one) of the shift changes at 08:00 and
# 20:00; each is handed over by the shift's officer, accepted by the next
HO=$(xz call prison.handover.list "{$DUTY,\"limit\":1000}")
HO_N=$(echo "$HO" | json .total)
HO_OK=$(echo "$HO" | jq '[.items[] | select(.state == "ACCEPTED")] | length')
echo "    $HO_N handovers, $HO_OK accepted"
assert_le "a handover at each shift change: at least H/12" $((H / 12)) "$HO_N"
assert_le "a handover at each shift change: at most H/12 + 1" "$HO_N" $((H / 12 + 1))
assert_le "every handover accepted (the last may be on its way)" $((HO_N - 1)) "$HO_OK"
assert_eq "each from the shift's officer to the next shift's, another team" "" \
	"$(echo "$HO" | jq -r '.items[] | select(.from.user == .to.user or (.from.user | startswith("demo:duty-") | not)) | .id')"
assert_eq "each names the shift it hands over and the next" "" \
	"$(echo "$HO" | jq -r '.items[] | select((.owner | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}[.](DAY|NIGHT)$") | not) or .next_shift == .owner) | .id')"
assert_le "the demo counted each acceptance" "$HO_OK" "$(counter demo handovers_accepted)"
assert_le "the demo's requests are answered (no more than 2 refused)" \
	"$(counter demo replies_refused)" 2
kill "$SUB" 2>/dev/null || true
stop_node
finish
