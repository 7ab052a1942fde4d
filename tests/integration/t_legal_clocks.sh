#!/usr/bin/env bash
# t_legal_clocks.sh - every statutory clock of the legal plugin, on the
# kernel clock moved with xz.sys.clock.advance: the 24 h forward clock
# (from the institution's request time, also when the request arrives
# late), the 7-day review clock paused by a supplement request and resumed
# with the time that was left, the 3-day assignment clock, the 5 working
# days of an objection decided by the justice bureau (法律援助法 art. 49;
# weekends, the calendar's and configured holidays skipped), the
# 1-day revisit after a bad rating; a missed clock publishes
# legal.<aggregate>.sla-breached once; running clocks survive a restart.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
. "$XZ_SRC/plugins/legal/tests/flowlib.sh"
# assignment in natural days here (working days: t_legal_calendar.sh)
flow_node -o 'working_day_clocks = "objection";' legal

H=3600000
D=$((24 * H))
S=1000

clock_of() { # ID CLOCK -> status|due_ms|remaining_ms
	lcall legal.aid.get "\"id\":\"$1\",\"purpose\":\"clock test\"" |
		jq -r --arg c "$2" '.clocks[] | select(.clock == $c) |
		  "\(.status)|\(.due_ms)|\(.remaining_ms)"'
}
status_of() { clock_of "$1" "$2" | cut -d'|' -f1; }
breaches() { # FILE ID CLOCK: how many sla-breached lines for it
	jq -c --arg i "$2" --arg c "$3" \
		'select(.data.id == $i and .data.clock == $c)' "$1" 2>/dev/null | wc -l
}
open_custodial() { # [REQUESTED_MS]
	lcall legal.aid.open "\"applicant_type\":\"INMATE\",\"prisoner_id\":\"A0002AA\",
	  \"matter\":\"appeal\",\"custodial\":{\"institution\":\"prison\"}${1:+,\"requested_ms\":$1}" |
		jq -r .id
}
open_citizen() {
	lcall legal.aid.open '"applicant_type":"CITIZEN","matter":"wages","means_checked":true' |
		jq -r .id
}

sub_bg 'legal.*.sla-breached' 100 "$XZ_T/breach.txt"

echo "-- forward: 24 h from the request time"
T0=$(now_ms)
F1=$(open_custodial "$T0")            # on time so far
F2=$(open_custodial)                  # received in time below
F3=$(open_custodial $((T0 - 25 * H))) # requested 25 h ago: late on arrival
assert_eq "forward due = request + 24 h" "RUNNING|$((T0 + 24 * H))" \
	"$(clock_of "$F1" forward | cut -d'|' -f1,2)"
wait_until 5 'test "$(breaches "$XZ_T/breach.txt" "$F3" forward)" = 1' || true
assert_eq "late arrival breaches at once" 1 "$(breaches "$XZ_T/breach.txt" "$F3" forward)"
check "F2 received" lcall legal.aid.receive "\"id\":\"$F2\""
advance $((24 * H - 60 * S))
sleep 0.3
assert_eq "not breached 60 s before" "RUNNING" "$(status_of "$F1" forward)"
advance $((61 * S))
wait_until 5 'test "$(breaches "$XZ_T/breach.txt" "$F1" forward)" = 1' || true
assert_eq "breached 1 s after" "BREACHED" "$(status_of "$F1" forward)"
assert_eq "one breach event" 1 "$(breaches "$XZ_T/breach.txt" "$F1" forward)"
assert_eq "breach event" "legal.aid.sla-breached|FORWARDED|$((T0 + 24 * H))" \
	"$(jq -r --arg i "$F1" 'select(.data.id == $i) | "\(.topic)|\(.data.state)|\(.data.due_ms)"' "$XZ_T/breach.txt")"
assert_eq "received in time: met" "MET" "$(status_of "$F2" forward)"
assert_eq "no breach for F2" 0 "$(breaches "$XZ_T/breach.txt" "$F2" forward)"
# a late receipt does not un-breach it, and starts the review clock
check "F1 received late" lcall legal.aid.receive "\"id\":\"$F1\""
assert_eq "still breached" "BREACHED" "$(status_of "$F1" forward)"

echo "-- review: 7 days, paused by a supplement request"
R1=$(open_citizen)
R2=$(open_citizen)
T1=$(now_ms)
assert_eq "review clock running" RUNNING "$(status_of "$R1" review)"
DUE0=$(clock_of "$R1" review | cut -d'|' -f2)
advance $((3 * D))
check "supplement requested" lcall legal.aid.request-supplement \
	"\"id\":\"$R1\",\"items\":[\"income certificate\"]"
C=$(clock_of "$R1" review)
assert_eq "paused" PAUSED "$(echo "$C" | cut -d'|' -f1)"
REM=$(echo "$C" | cut -d'|' -f3)
# what was left when the pause was requested: the due time less the
# pause time (about 4 days, less the time the requests took)
PAUSE_AT=$(lcall legal.aid.get "\"id\":\"$R1\",\"purpose\":\"t\"" |
	jq -r '.history[] | select(.action == "request-supplement") | .at_ms')
assert_le "remaining <= 4 d" "$REM" $((4 * D))
assert_le "remaining = due - pause time (lower)" $((DUE0 - PAUSE_AT - 50)) "$REM"
assert_le "remaining = due - pause time (upper)" "$REM" $((DUE0 - PAUSE_AT + 50))
advance $((30 * D))
sleep 0.3
assert_eq "no breach while paused (30 d)" 0 "$(breaches "$XZ_T/breach.txt" "$R1" review)"
assert_eq "R2, never paused, breached" 1 "$(breaches "$XZ_T/breach.txt" "$R2" review)"
T2=$(now_ms)
check "supplemented" lcall legal.aid.supplement "\"id\":\"$R1\""
C=$(clock_of "$R1" review)
DUE=$(echo "$C" | cut -d'|' -f2)
assert_eq "running again" RUNNING "$(echo "$C" | cut -d'|' -f1)"
assert_le "due = resume + remaining (lower)" $((T2 + REM)) "$DUE"
assert_le "due = resume + remaining (upper)" "$DUE" $((T2 + REM + 10 * S))
advance $((REM - 60 * S))
sleep 0.3
assert_eq "not breached 60 s before" RUNNING "$(status_of "$R1" review)"
advance $((62 * S))
wait_until 5 'test "$(breaches "$XZ_T/breach.txt" "$R1" review)" = 1' || true
assert_eq "breached after the remaining time" BREACHED "$(status_of "$R1" review)"

echo "-- assignment: 3 days from the grant"
G1=$(open_citizen)
G2=$(open_citizen)
for g in "$G1" "$G2"; do
	check "review $g" lcall legal.aid.start-review "\"id\":\"$g\""
	check "grant $g" lcall legal.aid.grant "\"id\":\"$g\""
done
assert_eq "review met on decision" MET "$(status_of "$G1" review)"
check "provider" lcall legal.provider.add '"id":"L1","type":"LAWYER","name":"Li",
  "licence":"1","region":"R1","capacity":5,"specialties":[],"conflicts":[]'
check "G2 assigned in time" lcall legal.aid.assign "\"id\":\"$G2\""
advance $((3 * D - 60 * S))
sleep 0.3
assert_eq "assign clock still running" RUNNING "$(status_of "$G1" assign)"
advance $((61 * S))
wait_until 5 'test "$(breaches "$XZ_T/breach.txt" "$G1" assign)" = 1' || true
assert_eq "assign breached" 1 "$(breaches "$XZ_T/breach.txt" "$G1" assign)"
assert_eq "G2 met" MET "$(status_of "$G2" assign)"

# ---- objection: 5 working days -----------------------------------------
# Move the clock to the next Friday 10:00 in Beijing (UTC+8), object, and
# expect the deadline at the end of the Friday after (Mon-Fri counted).
to_next_friday() {
	local now loc day wd delta target
	now=$(now_ms)
	loc=$((now + 8 * H))
	day=$((loc / D))
	wd=$(date -u -d "@$((day * 86400))" +%u) # 1 = Monday
	delta=$(((5 - wd + 7) % 7))
	[ "$delta" -gt 0 ] || delta=7
	target=$(((day + delta) * D + 10 * H))
	advance $((target - loc))
	FRI=$((day + delta))
}
objection_case() {
	local id
	id=$(open_citizen)
	lcall legal.aid.start-review "\"id\":\"$id\"" >/dev/null
	lcall legal.aid.refuse "\"id\":\"$id\",\"reason\":\"not eligible\"" >/dev/null
	echo "$id"
}
echo "-- objection: 5 working days"
O1=$(objection_case)
to_next_friday
assert_eq "it is Friday in Beijing" 5 "$(date -u -d "@$((($(now_ms) + 8 * H) / 1000))" +%u)"
O=$(bcall legal.aid.object "\"id\":\"$O1\",\"reason\":\"I am unemployed\"")
WANT=$(((FRI + 8) * D - 8 * H)) # end of the next Friday, local time
assert_eq "objection due: end of next Friday" "$WANT" "$(echo "$O" | jq -r .objection_due_ms)"
assert_eq "objection clock due" "RUNNING|$WANT" "$(clock_of "$O1" objection | cut -d'|' -f1,2)"
O2=$(objection_case)
check "O2 objection" bcall legal.aid.object "\"id\":\"$O2\",\"reason\":\"x\""
check "O2 overturned in time" bcall legal.aid.overturn "\"id\":\"$O2\""
assert_eq "overturn starts the assign clock" RUNNING "$(status_of "$O2" assign)"
advance $((WANT - $(now_ms) - 60 * S))
sleep 0.3
assert_eq "not breached on the last working day" RUNNING "$(status_of "$O1" objection)"
advance $((61 * S))
wait_until 5 'test "$(breaches "$XZ_T/breach.txt" "$O1" objection)" = 1' || true
assert_eq "objection breached" 1 "$(breaches "$XZ_T/breach.txt" "$O1" objection)"
assert_eq "O2 met" MET "$(status_of "$O2" objection)"

echo "-- revisit: a day after a bad rating"
rq() {
	local id
	id=$(lcall legal.request.create '"channel":"WEB","question":"q"' | jq -r .id)
	lcall legal.request.assign "\"id\":\"$id\",\"to\":\"s1\"" >/dev/null
	lcall legal.request.answer "\"id\":\"$id\",\"answer\":\"a\"" >/dev/null
	echo "$id"
}
Q1=$(rq)
Q2=$(rq)
Q3=$(rq)
assert_eq "bad rating -> REVISIT" REVISIT \
	"$(lcall legal.request.rate "\"id\":\"$Q1\",\"score\":2" | jq -r .state)"
check "Q2 bad rating" lcall legal.request.rate "\"id\":\"$Q2\",\"score\":1"
assert_eq "good rating keeps ANSWERED" ANSWERED \
	"$(lcall legal.request.rate "\"id\":\"$Q3\",\"score\":3" | jq -r .state)"
check "Q2 revisited" lcall legal.request.revisit "\"id\":\"$Q2\",\"note\":\"fixed\""
advance $((D + S))
wait_until 5 'test "$(breaches "$XZ_T/breach.txt" "$Q1" revisit)" = 1' || true
assert_eq "revisit breached" 1 "$(breaches "$XZ_T/breach.txt" "$Q1" revisit)"
assert_eq "revisit breach topic" legal.request.sla-breached \
	"$(jq -r --arg i "$Q1" 'select(.data.id == $i) | .topic' "$XZ_T/breach.txt")"
assert_eq "Q2 no breach" 0 "$(breaches "$XZ_T/breach.txt" "$Q2" revisit)"
KPI=$(lcall legal.request.kpi)
assert_eq "kpi" "3|3|3|1" "$(echo "$KPI" | jq -r '"\(.requests)|\(.answered)|\(.rated)|\(.satisfied)"')"

echo "-- restart: running clocks re-armed from the store, holidays option"
P1=$(open_custodial)
P1DUE=$(clock_of "$P1" forward | cut -d'|' -f2)
O3=$(objection_case)
kill "$SUB_PID" 2>/dev/null || true
stop_node
# The kernel clock starts again from the wall clock (the advance is not
# persisted): P1's deadline is days ahead now. The Monday after the next
# Friday (from the wall clock) is made a public holiday.
WALL=$(($(date +%s) * 1000))
WD=$(date -u -d "@$(((WALL + 8 * H) / 1000))" +%u)
DELTA=$(((5 - WD + 7) % 7))
[ "$DELTA" -gt 0 ] || DELTA=7
MON=$(date -u -d "@$(((((WALL + 8 * H) / D) + DELTA + 3) * 86400))" +%F)
flow_node -o "holidays = \"2020-01-01, $MON\"; working_day_clocks = \"objection\";" legal
sub_bg 'legal.*.sla-breached' 100 "$XZ_T/breach2.txt"
to_next_friday
assert_eq "the Monday after is the holiday" "$MON" "$(date -u -d "@$(((FRI + 3) * 86400))" +%F)"
O=$(bcall legal.aid.object "\"id\":\"$O3\",\"reason\":\"x\"")
assert_eq "holiday Monday skipped: due end of the Monday after next" \
	$(((FRI + 11) * D - 8 * H)) "$(echo "$O" | jq -r .objection_due_ms)"
advance $((P1DUE - $(now_ms) + S))
wait_until 5 'test "$(breaches "$XZ_T/breach2.txt" "$P1" forward)" = 1' || true
assert_eq "forward clock fired after restart" 1 "$(breaches "$XZ_T/breach2.txt" "$P1" forward)"
kill "$SUB_PID" 2>/dev/null || true
stop_node

# a bad holiday: the plugin's init fails, naming the option; the node runs
# on without it
xz_config "$XZ_T/bad.cfg" n2 <<CFG
lua = { time_limit_ms = 5000; };
plugins = ( { name = "legal"; kind = "lua"; path = "$LEGAL_DIR/legal.lua";
  options = { holidays = "2026-13-01"; }; } );
CFG
start_node "$XZ_T/bad.cfg" n2
assert_exit "legal disabled: no responders" 3 xz call -c "$XZ_T/bad.cfg" legal.aid.list "{$LACTOR}"
assert_contains "init error names the option" \
	"init(): option holidays: '2026-13-01' is not a date (YYYY-MM-DD)" "$(cat "$XZ_T/n2.log")"
stop_node n2
finish
