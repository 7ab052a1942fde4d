#!/usr/bin/env bash
# The prison's reports to the provincial bureau (docs/scenarios.md,
# "Duty"): every day at daily_report_at the report of the day before goes
# out on the kernel clock: a 零报告 (zero report, prison.report.zero) when
# nothing notable happened, else a 日报 (daily report, prison.report.daily)
# with the day's counts; stored, acknowledged by the bureau only
# (prison.report.ack); not acknowledged within report_ack_s it is sent
# again and the duty leader is told, then the prison's leadership, until
# the bureau acknowledges it. The clock is moved with xz.sys.clock.advance.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prison_actors.sh"
xz_setup
xz_config <<'EOF2'
plugins = ( { name = "prison"; kind = "so";
              options = { seed_demo_data = true; daily_report_at = "08:00";
                          report_ack_s = 3600; }; } );
EOF2
start_node

call() { xz call "$1" "$2" 2>/dev/null || true; }
errmsg() { xz call "$1" "$2" 2>/dev/null | json '.error.code + ": " + .error.message' || true; }
DAY=86400000
xz_bg sub 'prison.report.>' >"$XZ_T/ev" 2>/dev/null &
sleep 0.5

# the next 08:00 Beijing time (00:00 UTC) on the node's clock
NOW=$(call prison.roster.current "{$LEADER}" | json .now_ms)
AT=$(((NOW / DAY + 1) * DAY))
YDATE=$(date -u -d "@$(((AT - DAY) / 1000))" +%F)
assert_eq "no report before the time" 0 "$(call prison.report.list "{$LEADER}" | json .total)"
check "advance to 08:00" xz call xz.sys.clock.advance "{\"ms\":$((AT - NOW + 1000))}"
wait_until 5 '[ "$(call prison.report.list "{$LEADER}" | json .total)" = 1 ]' || true
R=$(call prison.report.get "{$BUREAU,\"id\":\"RPT-$YDATE\"}")
assert_eq "a quiet day: the zero report (零报告) of the day before, to the bureau" "ZERO SENT $YDATE bureau 0" \
	"$(echo "$R" | json '"\(.type) \(.state) \(.date) \(.to) \(.notable)"')"
assert_eq "made at 08:00, due for acknowledgement in report_ack_s" "true 3600000" \
	"$(echo "$R" | json "\"\\(.created_ms >= $AT) \\(.ack_by_ms - .created_ms)\"")"
wait_until 5 'grep -q "\"prison.report.zero\"" "$XZ_T/ev"' || true
assert_eq "sent on prison.report.zero" "RPT-$YDATE ZERO" \
	"$(grep '"prison.report.zero"' "$XZ_T/ev" | head -1 | json '.data | "\(.id) \(.type)"')"

# -- the bureau acknowledges; nobody else may
assert_eq "a duty leader does not acknowledge for the bureau" \
	"forbidden: prison.report.ack: role duty_leader may not do this; it needs one of: prison_bureau" \
	"$(errmsg prison.report.ack "{$LEADER,\"id\":\"RPT-$YDATE\"}")"
assert_eq "nor another bureau's officer" "forbidden" \
	"$(call prison.report.ack '{"actor":{"user":"x","role":"prison_bureau","agency":"bureau-02"},"id":"RPT-'"$YDATE"'"}' | json .error.code)"
assert_eq "the schema is strict" "bad_request" \
	"$(call prison.report.ack "{$BUREAU,\"id\":\"RPT-$YDATE\",\"signed\":true}" | json .error.code)"
assert_eq "acknowledged by the bureau" "ACKNOWLEDGED sun-bureau" \
	"$(call prison.report.ack "{$BUREAU,\"id\":\"RPT-$YDATE\",\"note\":\"已签收\"}" | json '"\(.state) \(.acked_by)"')"

# -- a day with an alarm and its incident: the daily report (日报)
TDATE=$(date -u -d "@$((AT / 1000))" +%F)
A=$(call prison.alarm.raise "{$SENSOR,\"kind\":\"FIGHT\",\"level\":2,\"location\":\"5101.01.1.102\"}" | json .id)
call prison.alarm.acknowledge "{$DUTY,\"id\":\"$A\"}" >/dev/null
call prison.alarm.resolve "{$DUTY,\"id\":\"$A\",\"outcome\":\"两名罪犯被分开，无人受伤\"}" >/dev/null
assert_eq "a day is reported once it is over" \
	"bad_request: prison.report.generate: \"date\": $TDATE is not over yet: a day is reported once it has ended" \
	"$(errmsg prison.report.generate "{$LEADER,\"date\":\"$TDATE\"}")"
check "advance a day" xz call xz.sys.clock.advance "{\"ms\":$DAY}"
wait_until 5 '[ "$(call prison.report.list "{$LEADER}" | json .total)" = 2 ]' || true
R=$(call prison.report.get "{$CHIEF,\"id\":\"RPT-$TDATE\"}")
assert_eq "the daily report with the day's counts" "DAILY SENT alarms 1 by level 0,1,0 incidents 1" \
	"$(echo "$R" | json '"\(.type) \(.state) alarms \(.counts.alarms) by level \(.counts.alarms_by_level | map(tostring) | join(",")) incidents \(.counts.incidents)"')"
wait_until 5 'grep -q "\"prison.report.daily\"" "$XZ_T/ev"' || true
assert_eq "sent on prison.report.daily" "RPT-$TDATE" \
	"$(grep '"prison.report.daily"' "$XZ_T/ev" | head -1 | json .data.id)"
assert_eq "made once" "exists" \
	"$(call prison.report.generate "{$LEADER,\"date\":\"$TDATE\"}" | json .error.code)"
assert_eq "a duty officer does not make reports" "forbidden" \
	"$(call prison.report.generate "{$DUTY,\"date\":\"$TDATE\"}" | json .error.code)"
assert_eq "nor reads them; the 狱政科 does" "forbidden DAILY" \
	"$(call prison.report.get "{$DUTY,\"id\":\"RPT-$TDATE\"}" | json .error.code) $(call prison.report.get "{$ADMIN,\"id\":\"RPT-$TDATE\"}" | json .type)"

# -- not acknowledged in time: sent again, the duty leader told, then the
#    leadership, until the bureau acknowledges
check "advance past the acknowledgement clock" xz call xz.sys.clock.advance '{"ms":3601000}'
wait_until 5 'grep -q "\"prison.report.overdue\"" "$XZ_T/ev"' || true
assert_eq "overdue: the duty leader is told" "OVERDUE duty_leader 2" \
	"$(call prison.report.get "{$LEADER,\"id\":\"RPT-$TDATE\"}" | json .state) $(grep '"prison.report.overdue"' "$XZ_T/ev" | head -1 | json '.data | "\(.notify) \(.sent)"')"
assert_eq "and the report is sent again" "true" \
	"$(grep '"prison.report.daily"' "$XZ_T/ev" | sed -n 2p | json .data.resend)"
check "advance again" xz call xz.sys.clock.advance '{"ms":3601000}'
wait_until 5 '[ "$(grep -c "\"prison.report.overdue\"" "$XZ_T/ev")" -ge 2 ]' || true
assert_eq "then the prison's leadership" "prison_leader 3" \
	"$(grep '"prison.report.overdue"' "$XZ_T/ev" | sed -n 2p | json '.data | "\(.notify) \(.sent)"')"
R=$(call prison.report.ack "{$BUREAU,\"id\":\"RPT-$TDATE\"}")
assert_eq "acknowledged late" "ACKNOWLEDGED" "$(echo "$R" | json .state)"
assert_eq "the acknowledgement says it was late" "true" \
	"$(wait_for 5 grep -q '"prison.report.acknowledged"' "$XZ_T/ev"; grep '"prison.report.acknowledged"' "$XZ_T/ev" | tail -1 | json .data.late)"
check "advance past where the next clock would have been" xz call xz.sys.clock.advance '{"ms":3601000}'
sleep 0.5
assert_eq "no more reminders once acknowledged" 2 "$(grep -c '"prison.report.overdue"' "$XZ_T/ev")"
assert_eq "the history" "create escalate escalate ack" \
	"$(call prison.report.get "{$LEADER,\"id\":\"RPT-$TDATE\"}" | json '[.history[].action] | join(" ")')"

# -- a restart keeps the schedule: the next day's report still comes (the
#    test clock starts again from the wall clock: move it to that 08:00)
stop_node
start_node
NOW=$(call prison.roster.current "{$LEADER}" | json .now_ms)
check "advance to the next 08:00" xz call xz.sys.clock.advance "{\"ms\":$((AT + 2 * DAY - NOW + 1000))}"
wait_until 5 '[ "$(call prison.report.list "{$LEADER}" | json .total)" = 3 ]' || true
assert_eq "after a restart, the next day's report (a quiet day: zero)" "ZERO" \
	"$(call prison.report.list "{$LEADER,\"state\":\"SENT\"}" | json '.items[-1].type')"
stop_node
finish
