#!/usr/bin/env bash
# t_logs.sh - the node's log as an operator sees it: node.log_file and
# node.log_format validated by `check` (FILE:LINE), a JSON log file (one
# object per line: time, level, who, msg; escapes and bad UTF-8 included),
# the log level changed at run time with xz.sys.log.level (and audited),
# and the file reopened on SIGHUP after logrotate moved it away.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
command -v jq >/dev/null || skip_test "jq is not installed"

LOG="$XZ_T/logs/node.log"

echo "-- check refuses what run could not do"
XZ_NODE_EXTRA='log_format = "xml"; log_file = "'"$XZ_T"'/nowhere/node.log";' \
	xz_config </dev/null
assert_exit "check refuses a bad log_format and a missing log folder" 1 \
	xz check
line=$(grep -n 'log_format' "$XZ_CFG" | cut -d: -f1)
assert_contains "log_format error names file and line" \
	"$XZ_CFG:$line: node.log_format must be one of text, json, got 'xml'" "$ERR"
assert_contains "log_file error names file, line and folder" \
	"$XZ_CFG:$line: node.log_file: the folder '$XZ_T/nowhere' does not exist" \
	"$ERR"
assert_eq "check created nothing" "no" \
	"$([ -e "$XZ_T/nowhere" ] && echo yes || echo no)"

echo "-- a JSON log file"
mkdir -p "$XZ_T/logs"
# Relative to the config file's folder.
XZ_NODE_EXTRA='log_format = "json"; log_file = "logs/node.log";' \
	xz_config </dev/null
check "check accepts the log settings" xz check
start_node
assert_eq "the log file exists" yes "$([ -f "$LOG" ] && echo yes || echo no)"
assert_eq "nothing of the log on stderr" "" \
	"$(grep -v '^$' "$XZ_T/n1.log" || true)"
running() { grep -q "node 'n1' running" "$LOG"; }
wait_for 10 running || fail "no 'running' record in $LOG"
assert_eq "the running record" "info kernel" \
	"$(jq -r 'select(.msg | startswith("node '"'"'n1'"'"' running")) | "\(.level) \(.who)"' "$LOG")"

# Every line one object with exactly time, level, who, msg.
bad_lines() {
	jq -c 'select((keys != ["level", "msg", "time", "who"])
		or (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$") | not)
		or ([.level] | inside(["error", "warn", "info", "debug"]) | not))' "$LOG"
}

echo "-- escapes: quotes, backslash, newline, tab, control byte, bad UTF-8"
check "console logs an awkward message" xz console -e \
	'xz.log("info", "q\"uote\\back\nline\t\1 \255 end")'
# (only its record: on a loaded machine the kernel may also log, as
# "console", that the handler ran past handler_timeout_ms)
awkward() { grep -q '"who":"console","msg":"q' "$LOG"; }
wait_for 10 awkward || fail "the console's record never reached the log"
assert_eq "the message comes back exactly (bad byte as U+FFFD)" true \
	"$(jq 'select(.who == "console" and (.msg | startswith("q"))) | .msg == "q\"uote\\back\nline\t\u0001 \ufffd end"' "$LOG")"

echo "-- the level at run time"
check "read the level" xz call xz.sys.log.level
assert_eq "level is info" '{"level":"info"}' "$OUT"
xz console -e 'xz.log("debug", "probe-1")' >/dev/null
nsubs=$(status_get '.bus.subscriptions')
xz_bg sub audit.sys.config -n 1 -t 10000 >"$XZ_T/audit.out" 2>&1 &
SUB=$!
subscribed() { [ "$(status_get '.bus.subscriptions')" -gt "$nsubs" ]; }
wait_for 10 subscribed || fail "the audit subscriber never subscribed"
check "set debug" xz call xz.sys.log.level '{"level":"debug"}'
assert_eq "reply" '{"level":"debug","was":"info"}' "$OUT"
check "a debug record" xz console -e 'xz.log("debug", "probe-2")'
probe2() { grep -q '"msg":"probe-2"' "$LOG"; }
wait_for 10 probe2 || fail "probe-2 (debug) never reached the log"
assert_eq "probe-1, logged at info level, was not written" 0 \
	"$(grep -c '"msg":"probe-1"' "$LOG" || true)"
assert_eq "the change is logged with who asked" 1 \
	"$(jq -r 'select(.who == "sys" and (.msg | test("^log level info -> debug \\(asked by call-[0-9]+\\)$"))) | .level' "$LOG" | grep -c info)"
if wait "$SUB"; then pass "an audit event for the change"; else
	fail "no audit event: $(cat "$XZ_T/audit.out")"; fi
assert_eq "audit event" "UPDATE config node.log_level ok" \
	"$(jq -r '"\(.data.action) \(.data.subject_type) \(.data.subject_id) \(.data.outcome)"' "$XZ_T/audit.out")"
assert_exit "an unknown level is refused" 1 \
	xz call xz.sys.log.level '{"level":"verbose"}'
assert_eq "with bad_request" bad_request "$(echo "$OUT" | jq -r .error.code)"
assert_exit "a level that is no string is refused" 1 \
	xz call xz.sys.log.level '{"level":3}'
check "set error" xz call xz.sys.log.level '{"level":"error"}'
xz console -e 'xz.log("warn", "probe-3")' >/dev/null
xz console -e 'xz.log("error", "probe-4")' >/dev/null
probe4() { grep -q '"msg":"probe-4"' "$LOG"; }
wait_for 10 probe4 || fail "probe-4 (error) never reached the log"
assert_eq "probe-3 (warn) is below error" 0 \
	"$(grep -c '"msg":"probe-3"' "$LOG" || true)"
check "back to info" xz call xz.sys.log.level '{"level":"info"}'

echo "-- SIGHUP reopens the file (logrotate's create mode)"
mv "$LOG" "$LOG.1"
kill -HUP "$NODE_PID"
reopened() { grep -q '"msg":"SIGHUP: log reopened' "$LOG" 2>/dev/null; }
wait_for 10 reopened || fail "no new $LOG after SIGHUP"
xz console -e 'xz.log("info", "probe-5")' >/dev/null
probe5() { grep -q '"msg":"probe-5"' "$LOG"; }
wait_for 10 probe5 || fail "probe-5 did not reach the new file"
assert_eq "the old file got nothing after the move" 0 \
	"$(grep -c -e probe-5 -e 'SIGHUP' "$LOG.1" || true)"
stop_node
assert_contains "the stop is in the new file" '"msg":"stopped"' "$(cat "$LOG")"
assert_eq "every line of both files is a well-formed record" "" \
	"$(LOG=$LOG.1 bad_lines; bad_lines)"
assert_eq "the log file is not readable by others" 640 \
	"$(stat -c %a "$LOG")"
finish
