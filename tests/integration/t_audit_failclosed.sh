#!/usr/bin/env bash
# Fail-closed audit: no change stands without its audit record. The prison
# plugin raises alarms while the audit path is made to fail — a full disk,
# invalid UTF-8, a subscriber that stops reading (backpressure), SIGHUP
# reloads, an audit plugin that is not there — and afterwards every alarm
# in prison.db has its CREATE record in the chain (both sides counted), a
# full spool refuses changes with audit_unavailable while reads go on.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip_test "no sqlite3 shell"
xz_setup
A='"actor":{"user":"officer-7","role":"area_officer","agency":"prison-01"}'
write_cfg() { # PLUGINS...: a config with these plugins
	local p list=""
	# the alarms' SLA clocks are a day long: an escalation's record must
	# not take a spool slot or disk space in the middle of a count, however
	# slowly a loaded machine raises the alarms
	local opts='options = { alarm_ack_sla_s = 86400; alarm_ack_sla_l2_s = 86400; alarm_ack_sla_l3_s = 86400; };'
	for p in "$@"; do
		if [ "$p" = prison ]; then
			list="$list{ name = \"$p\"; kind = \"so\"; $opts },"
		else
			list="$list{ name = \"$p\"; kind = \"so\"; },"
		fi
	done
	xz_config <<EOF2
plugins = ( ${list%,} );
EOF2
}
DATA=$XZ_T/n1/data
raise() { # N: raise N alarms, count the replies by outcome into $XZ_T/outcomes
	local i out
	for i in $(seq 1 "$1"); do
		out=$(xz call prison.alarm.raise "{$A,\"kind\":\"FIRE\",\"location\":\"5101.01.1.10$(( (i - 1) % 4 + 1 ))\",\"source\":\"sensor\"}" 2>/dev/null) || true
		jq -r 'if .error then .error.code else "ok" end' <<<"$out" >>"$XZ_T/outcomes" 2>/dev/null || echo "noreply" >>"$XZ_T/outcomes"
	done
}
# records: a row holds one, or a batch's n
spool() { sqlite3 -cmd ".timeout 5000" "$DATA/prison.db" "SELECT coalesce(sum(n), 0) FROM audit_spool"; }
# both_sides WHAT: every alarm stored has its CREATE record in the chain
# (the spool drained first), counted on both sides.
missing_now() { # alarms stored without their CREATE record in the chain
	sqlite3 -cmd ".timeout 5000" "$DATA/prison.db" "SELECT id FROM records WHERE kind = 'alarm' ORDER BY id" >"$XZ_T/ids.store"
	sqlite3 -cmd ".timeout 5000" "$DATA/audit.db" "SELECT DISTINCT subject_id FROM audit_log WHERE action = 'CREATE' AND subject_type = 'alarm' ORDER BY subject_id" >"$XZ_T/ids.audit"
	comm -23 "$XZ_T/ids.store" "$XZ_T/ids.audit" | wc -l
}
both_sides() {
	# the SLA timers of the open alarms keep adding UPDATE records (a
	# burst of them after a restart): wait for the CREATE records, not
	# for an empty spool
	wait_until 120 'test "$(missing_now)" = 0' || fail "$1: the spool drains ($(spool) left)"
	local alarms recorded missing
	alarms=$(sqlite3 -cmd ".timeout 5000" "$DATA/prison.db" "SELECT count(*) FROM records WHERE kind = 'alarm'")
	recorded=$(sqlite3 -cmd ".timeout 5000" "$DATA/audit.db" "SELECT count(DISTINCT subject_id) FROM audit_log WHERE action = 'CREATE' AND subject_type = 'alarm' AND outcome = 'ok'")
	sqlite3 -cmd ".timeout 5000" "$DATA/prison.db" "SELECT id FROM records WHERE kind = 'alarm' ORDER BY id" >"$XZ_T/ids.store"
	sqlite3 -cmd ".timeout 5000" "$DATA/audit.db" "SELECT DISTINCT subject_id FROM audit_log WHERE action = 'CREATE' AND subject_type = 'alarm' ORDER BY subject_id" >"$XZ_T/ids.audit"
	missing=$(comm -23 "$XZ_T/ids.store" "$XZ_T/ids.audit" | wc -l)
	echo "  .. $1: $alarms alarms stored, $recorded CREATE records"
	assert_eq "$1: alarms without an audit record" 0 "$missing"
	assert_eq "$1: alarms stored = alarms recorded" "$alarms" "$recorded"
}

# 1. An audit plugin that is not there: the spool takes the records; when
# it is full, changes are refused (audit_unavailable) and reads go on.
write_cfg prison
# The prison's first start records its layout (one audit record a
# location) in the spool: room for exactly five changes after those.
start_node
stop_node
export XZ_AUDIT_SPOOL_MAX=$(($(spool) + 5))
start_node
: >"$XZ_T/outcomes"
raise 5
assert_eq "5 alarms raised into the spool" 5 "$(grep -c '^ok$' "$XZ_T/outcomes")"
assert_exit "the sixth is refused" 1 xz call prison.alarm.raise "{$A,\"kind\":\"FIRE\",\"location\":\"5101.01.1.101\",\"source\":\"sensor\"}"
assert_eq "with audit_unavailable" audit_unavailable "$(echo "$OUT" | jq -r .error.code)"
check "reads still work" xz call prison.alarm.list "{$A}"
assert_eq "the five are listed" 5 "$(echo "$OUT" | jq -r .total)"
stop_node
unset XZ_AUDIT_SPOOL_MAX
write_cfg audit prison
start_node
both_sides "spool drained when the audit plugin came"
check "changes are taken again" xz call prison.alarm.raise "{$A,\"kind\":\"FIRE\",\"location\":\"5101.01.2.201\",\"source\":\"sensor\"}"

# 2. Invalid UTF-8 in a request: refused, nothing stored, the refusal
# recorded. The CLI (and Lua's xz.request) refuse to send such text, so
# it goes through the client library (tests/plugins/rawreq) byte for
# byte; the plugins' own check is jansson's UTF-8 validation in
# kit_req_parse (t_inputs_utf8.sh does every plugin and more forms).
before=$(sqlite3 -cmd ".timeout 5000" "$DATA/prison.db" "SELECT count(*) FROM records WHERE kind = 'alarm'")
assert_exit "a request with invalid UTF-8 is refused by the CLI before it is sent" 2 xz call prison.alarm.raise \
	"$(printf '{%s,"kind":"FIRE","location":"5101.01.1.101","source":"sensor","description":"\xff\xfe"}' "$A")"
assert_contains "as invalid" "not valid JSON" "$ERR"
RAW="${XZ_BUILD:-$(dirname "$XZ_BIN")}/tests/xz_rawreq"
if [ -x "$RAW" ]; then
	out=$(printf '{%s,"kind":"FIRE","location":"5101.01.1.101","source":"sensor","description":"\xff\xfe"}' "$A" |
		"$RAW" "ipc://$XZ_T/n1/ctl.sock" prison.alarm.raise 20000) || true
	assert_eq "sent anyway (client library): bad_request" bad_request "$(jq -r .error.code <<<"$out")"
else
	skip "invalid UTF-8 through the client library: $RAW is not built"
fi
assert_eq "nothing was stored" "$before" \
	"$(sqlite3 -cmd ".timeout 5000" "$DATA/prison.db" "SELECT count(*) FROM records WHERE kind = 'alarm'")"
both_sides "invalid UTF-8"

# 3. Backpressure: a subscriber of audit.> that stops reading.
xz_bg sub 'audit.>' >"$XZ_T/sub.out" 2>/dev/null &
SUB=$!
probe() {
	xz pub audit.probe.x '{"probe":1}' >/dev/null 2>&1
	grep -q probe "$XZ_T/sub.out"
}
wait_for 20 probe || fail "the subscriber is there"
kill -STOP "$SUB"
: >"$XZ_T/outcomes"
raise 60
kill -CONT "$SUB" 2>/dev/null || true
kill "$SUB" 2>/dev/null || true
wait "$SUB" 2>/dev/null || true
echo "  .. outcomes under backpressure: $(sort "$XZ_T/outcomes" | uniq -c | tr '\n' ' ')"
both_sides "backpressure"

# 4. SIGHUP reloads while alarms are raised.
: >"$XZ_T/outcomes"
raise 30 &
RAISER=$!
for i in $(seq 1 20); do
	kill -HUP "$NODE_PID"
	sleep 0.2
done
wait "$RAISER"
check "the node survived the reloads" xz call xz.sys.ping '{}'
both_sides "reload"
stop_node

# 5. A full disk: the data folder on a small tmpfs, filled up.
full_disk 3 64 "60 alarms" both_sides raise 60
finish
