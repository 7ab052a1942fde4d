#!/usr/bin/env bash
# t_legal_calendar.sh - working-day clocks from the official calendar data
# files (plugins/legal/calendar/cn_YYYY.lua: holidays and 调休 working
# weekends): a 3-working-day count across 国庆节 2026 that ends on the
# 调休 Saturday; a Sunday worked (调休) counted; a running objection clock
# (5 working days, 法律援助法 art. 49) across 元旦 2027 on the kernel clock,
# breached only after its last working day; a count into a year the
# calendar lacks refused naming the year; a missing year's file and a bad
# line of a file refused at start with FILE:LINE, in English under LANG=C
# and in Chinese under LANG=zh_CN.UTF-8 (a weekday listed as 调休 workday,
# a date that does not exist).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
. "$XZ_SRC/plugins/legal/tests/flowlib.sh"
flow_node legal

H=3600000
D=$((24 * H))
S=1000
# ms of a Beijing (UTC+8) local time "YYYY-MM-DD HH:MM"
bj() { echo $(($(date -u -d "$1 UTC" +%s) * 1000 - 8 * H)); }

echo "-- counted from the calendar file"
R=$(lcall legal.calendar.due "\"from_ms\":$(bj '2026-09-30 10:00'),\"days\":3")
assert_eq "3 working days from 30 Sep 2026 end on the 调休 Saturday 10 Oct" \
	"2026-10-10|$(($(bj '2026-10-11 00:00')))" "$(echo "$R" | jq -r '"\(.due_day)|\(.due_ms)"')"
assert_eq "国庆节 skipped, 8 and 9 Oct counted, 10 Oct worked" \
	"2026-10-01:国庆节 2026-10-02:国庆节 2026-10-03:国庆节 2026-10-04:国庆节 2026-10-05:国庆节 2026-10-06:国庆节 2026-10-07:国庆节|2026-10-10" \
	"$(echo "$R" | jq -r '([.skipped[] | "\(.day):\(.why)"] | join(" ")) + "|" + ([.worked[].day] | join(" "))')"
R=$(lcall legal.calendar.due "\"from_ms\":$(bj '2026-09-18 09:00'),\"days\":1")
assert_eq "the Sunday 20 Sep 2026 is a working day (调休)" "2026-09-20|2026-09-19:weekend" \
	"$(echo "$R" | jq -r '.due_day + "|" + ([.skipped[] | "\(.day):\(.why)"] | join(" "))')"
R=$(lcall legal.calendar.due "\"from_ms\":$(bj '2026-02-13 09:00'),\"days\":2")
assert_eq "春节 2026: the Saturday 14 Feb worked, then 24 Feb" "2026-02-24" "$(echo "$R" | jq -r .due_day)"
assert_exit "a count into 2028 is refused" 1 lcall legal.calendar.due "\"from_ms\":$(bj '2028-06-01 09:00'),\"days\":1"
assert_eq "naming the missing year" "unavailable|legal.calendar.due: the calendar has no year 2028: working days cannot be counted (load its file, option calendar_years)" \
	"$(echo "$OUT" | jq -r '.error.code + "|" + .error.message')"

echo "-- a running objection clock across 元旦 2027"
T=$(bj '2026-12-31 10:00')
NOW=$(now_ms)
[ "$NOW" -lt "$T" ] || skip_test "the wall clock is past 2026-12-31: pick a later holiday"
sub_bg 'legal.aid.sla-breached' 10 "$XZ_T/breach.txt"
A=$(lcall legal.aid.open '"applicant_type":"CITIZEN","matter":"wages","means_checked":true' | jq -r .id)
check "reviewed" lcall legal.aid.start-review "\"id\":\"$A\""
check "refused" lcall legal.aid.refuse "\"id\":\"$A\",\"reason\":\"not eligible\""
advance $((T - NOW))
O=$(bcall legal.aid.object "\"id\":\"$A\",\"reason\":\"我失业了\"")
# Thu 31 Dec; Fri 1 Jan holiday, weekend, then Mon 4 .. Fri 8 Jan
DUE=$(bj '2027-01-09 00:00')
assert_eq "objection due at the end of Fri 8 Jan 2027 (1 Jan skipped)" "OBJECTION|$DUE" \
	"$(echo "$O" | jq -r '"\(.state)|\(.objection_due_ms)"')"
advance $((DUE - $(now_ms) - 10 * S))
sleep 0.3
assert_eq "not breached on the last working day" RUNNING \
	"$(lcall legal.aid.get "\"id\":\"$A\",\"purpose\":\"t\"" | jq -r '.clocks[] | select(.clock == "objection") | .status')"
advance $((11 * S))
wait_for 5 grep -q "\"$A\"" "$XZ_T/breach.txt" || true
assert_eq "breached once the 5th working day is over" "objection|OBJECTION" \
	"$(jq -r --arg i "$A" 'select(.data.id == $i) | "\(.data.clock)|\(.data.state)"' "$XZ_T/breach.txt")"
kill "$SUB_PID" 2>/dev/null || true
stop_node

echo "-- bad calendars are refused at start, naming the file and line"
# a missing year
xz_config "$XZ_T/y.cfg" n2 <<CFG
lua = { time_limit_ms = 5000; };
plugins = ( { name = "legal"; kind = "lua"; path = "$LEGAL_DIR/legal.lua";
  options = { calendar_years = "2026,2031"; }; } );
CFG
start_node "$XZ_T/y.cfg" n2
assert_exit "legal disabled: no responders" 3 xz call -c "$XZ_T/y.cfg" legal.aid.list "{$LACTOR}"
assert_contains "the missing year named" \
	"option calendar_years: year 2031: no calendar file calendar/cn_2031.lua" "$(cat "$XZ_T/n2.log")"
stop_node n2
# a copy of the plugin whose 2026 file has a weekday listed as 调休 workday
mkdir -p "$XZ_T/plug"
cp -r "$LEGAL_DIR"/*.lua "$LEGAL_DIR/calendar" "$XZ_T/plug/"
# with the shared Lua modules beside it, where require finds them
mkdir -p "$XZ_T/common" && cp -r "$XZ_SRC/plugins/common/lua" "$XZ_T/common/"
sed -i 's/^2026-01-04 workday/2026-01-05 workday/' "$XZ_T/plug/calendar/cn_2026.lua"
LINE=$(grep -n '^2026-01-05 workday' "$XZ_T/plug/calendar/cn_2026.lua" | cut -d: -f1)
xz_config "$XZ_T/c.cfg" n3 <<CFG
lua = { time_limit_ms = 5000; };
plugins = ( { name = "legal"; kind = "lua"; path = "$XZ_T/plug/legal.lua"; } );
CFG
LANG=C LC_ALL= LC_MESSAGES= start_node "$XZ_T/c.cfg" n3
assert_exit "legal disabled by the bad file" 3 xz call -c "$XZ_T/c.cfg" legal.aid.list "{$LACTOR}"
assert_contains "FILE:LINE of the bad line" \
	"calendar/cn_2026.lua:$LINE: 2026-01-05 is a Monday: a workday line is a weekend day worked (调休)" \
	"$(cat "$XZ_T/n3.log")"
stop_node n3
# the same under LANG=zh_CN.UTF-8: FILE:LINE and the date, in Chinese
: >"$XZ_T/n3.log"
LANG=zh_CN.UTF-8 LC_ALL= LC_MESSAGES= start_node "$XZ_T/c.cfg" n3
assert_exit "legal disabled by the bad file (zh)" 3 xz call -c "$XZ_T/c.cfg" legal.aid.list "{$LACTOR}"
assert_contains "FILE:LINE of the bad line in Chinese" \
	"calendar/cn_2026.lua:$LINE: 2026-01-05 是星期一：workday 行只写调休上班的周末" \
	"$(cat "$XZ_T/n3.log")"
stop_node n3
# a malformed line (no date) in the 2027 file, both languages
cp "$LEGAL_DIR/calendar/cn_2026.lua" "$XZ_T/plug/calendar/cn_2026.lua"
sed -i 's/^2027-01-01 holiday/2027-13-01 holiday/' "$XZ_T/plug/calendar/cn_2027.lua"
LINE=$(grep -n '^2027-13-01 holiday' "$XZ_T/plug/calendar/cn_2027.lua" | cut -d: -f1)
[ -n "$LINE" ] || die "cn_2027.lua has no 2027-01-01 holiday line to break"
: >"$XZ_T/n3.log"
LANG=C LC_ALL= LC_MESSAGES= start_node "$XZ_T/c.cfg" n3
assert_exit "legal disabled by the malformed date" 3 xz call -c "$XZ_T/c.cfg" legal.aid.list "{$LACTOR}"
assert_contains "FILE:LINE of the malformed date (C)" \
	"calendar/cn_2027.lua:$LINE: '2027-13-01' is not a date (YYYY-MM-DD)" "$(cat "$XZ_T/n3.log")"
stop_node n3
: >"$XZ_T/n3.log"
LANG=zh_CN.UTF-8 LC_ALL= LC_MESSAGES= start_node "$XZ_T/c.cfg" n3
assert_exit "legal disabled by the malformed date (zh)" 3 xz call -c "$XZ_T/c.cfg" legal.aid.list "{$LACTOR}"
assert_contains "FILE:LINE of the malformed date (zh)" \
	"calendar/cn_2027.lua:$LINE: '2027-13-01' 不是日期（YYYY-MM-DD）" "$(cat "$XZ_T/n3.log")"
stop_node n3
finish
