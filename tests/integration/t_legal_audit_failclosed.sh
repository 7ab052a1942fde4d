#!/usr/bin/env bash
# Fail-closed audit in the Lua legal plugin, as t_audit_failclosed.sh does
# for the C plugins: legal-aid applications are opened while the audit
# path is made to fail — no audit plugin (a full spool refuses changes
# with audit_unavailable, reads go on), text that is not UTF-8 (sent
# through the client library), a subscriber of audit.> that stops reading
# (backpressure), SIGHUP reloads, a full disk — and both sides are counted
# each time: every application in legal.db has its CREATE record in the
# chain, and no record names an application that is not stored.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip_test "no sqlite3 shell"
xz_setup
. "$XZ_SRC/plugins/legal/tests/flowlib.sh"
flow_skip_unless audit legal
RAW="${XZ_BUILD:-$(dirname "$XZ_BIN")}/tests/xz_rawreq"
DATA=$XZ_T/n1/data
sq() { sqlite3 -cmd ".timeout 10000" "$@"; }
write_cfg() { # SPOOL_MAX PLUGIN...: legal with that spool, and the others
	local max=$1 p list=""
	shift
	for p in "$@"; do list="$list{ name = \"$p\"; kind = \"so\"; },"; done
	xz_config <<EOF2
lua = { time_limit_ms = 5000; };
plugins = ( $list
  { name = "legal"; kind = "lua"; path = "$LEGAL_DIR/legal.lua";
    options = { audit_spool_max = $max; }; } );
EOF2
}
open_apps() { # N: open N applications, count the replies by outcome
	local i out
	for i in $(seq 1 "$1"); do
		out=$(lcall legal.aid.open "\"applicant_type\":\"CITIZEN\",\"matter\":\"wages $i\"" 2>/dev/null) || true
		jq -r 'if .error then .error.code elif .id then "ok" else "other" end' <<<"$out" >>"$XZ_T/outcomes" 2>/dev/null ||
			echo "noreply" >>"$XZ_T/outcomes"
	done
}
# fewer requests under a sanitizer (each CLI call starts slowly there):
# the same paths, inside the test's time limit
BP=40 RL=30 DF=60
if sanitized; then BP=12 RL=12 DF=25; fi
spool() { sq "$DATA/legal.db" "SELECT count(*) FROM audit_spool"; }
spool_empty() { test "$(spool)" = 0; }
# both_sides WHAT: the spool drained, every application stored has its
# CREATE record in the chain and every CREATE record its application.
both_sides() {
	wait_for 90 spool_empty || fail "$1: the spool drains ($(spool) left)"
	sq "$DATA/legal.db" "SELECT id FROM records WHERE kind = 'aid' ORDER BY id" >"$XZ_T/ids.store"
	sq "$DATA/audit.db" "SELECT DISTINCT subject_id FROM audit_log WHERE source = 'legal' AND action = 'CREATE' AND subject_type = 'legal_aid_application' ORDER BY subject_id" >"$XZ_T/ids.audit"
	echo "  .. $1: $(wc -l <"$XZ_T/ids.store") applications stored, $(wc -l <"$XZ_T/ids.audit") CREATE records"
	assert_eq "$1: applications without an audit record" 0 "$(comm -23 "$XZ_T/ids.store" "$XZ_T/ids.audit" | wc -l)"
	assert_eq "$1: audit records of applications not stored" 0 "$(comm -13 "$XZ_T/ids.store" "$XZ_T/ids.audit" | wc -l)"
}

echo "-- 1. no audit plugin: the spool fills, then changes are refused"
write_cfg 5
start_node
: >"$XZ_T/outcomes"
open_apps 5
assert_eq "5 applications opened into the spool" 5 "$(grep -c '^ok$' "$XZ_T/outcomes")"
assert_exit "the sixth is refused" 1 lcall legal.aid.open '"applicant_type":"CITIZEN","matter":"sixth"'
assert_eq "with audit_unavailable" audit_unavailable "$(echo "$OUT" | jq -r .error.code)"
assert_exit "a change of state too" 1 lcall legal.aid.start-review '"id":"LA-00000001"'
assert_eq "with audit_unavailable" audit_unavailable "$(echo "$OUT" | jq -r .error.code)"
check "reads still work" lcall legal.aid.list
assert_eq "the five are listed" 5 "$(echo "$OUT" | jq -r .count)"
assert_eq "nothing of the refused changes stored" "5|5" \
	"$(sq "$DATA/legal.db" "SELECT (SELECT count(*) FROM records), (SELECT count(*) FROM history)")"
stop_node
write_cfg 10000 audit
start_node
both_sides "the spool drained when the audit plugin came"
check "changes are taken again" lcall legal.aid.start-review '"id":"LA-00000001"'
wait_for 30 spool_empty || true
assert_eq "its UPDATE record is in the chain" 1 \
	"$(sq "$DATA/audit.db" "SELECT count(*) FROM audit_log WHERE source = 'legal' AND action = 'UPDATE' AND subject_id = 'LA-00000001'")"

echo "-- 2. text that is not UTF-8"
if [ -x "$RAW" ]; then
	before=$(sq "$DATA/legal.db" "SELECT count(*) FROM records")
	for bad in '\xff' '\xc0\xaf' '\xed\xa0\x80'; do
		# shellcheck disable=SC2059 # the payload is the format
		out=$(printf "{$LACTOR,\"applicant_type\":\"CITIZEN\",\"matter\":\"m$bad\"}" |
			"$RAW" "ipc://$XZ_T/n1/ctl.sock" legal.aid.open 20000) || true
		assert_eq "not UTF-8 ($bad): bad_request" bad_request "$(jq -r .error.code <<<"$out")"
	done
	assert_eq "nothing stored" "$before" "$(sq "$DATA/legal.db" "SELECT count(*) FROM records")"
	both_sides "invalid UTF-8"
else
	skip "invalid UTF-8: the test program $RAW is not built"
fi

echo "-- 3. backpressure: a subscriber of audit.> that stops reading"
xz_bg sub 'audit.>' >"$XZ_T/sub.out" 2>/dev/null &
SUB=$!
probe() {
	xz pub audit.probe.x '{"probe":1}' >/dev/null 2>&1
	grep -q probe "$XZ_T/sub.out"
}
wait_for 20 probe || fail "the subscriber is there"
kill -STOP "$SUB"
: >"$XZ_T/outcomes"
open_apps "$BP"
kill -CONT "$SUB" 2>/dev/null || true
kill "$SUB" 2>/dev/null || true
wait "$SUB" 2>/dev/null || true
echo "  .. outcomes under backpressure: $(sort "$XZ_T/outcomes" | uniq -c | tr '\n' ' ')"
both_sides "backpressure"

echo "-- 4. SIGHUP reloads while applications are opened"
: >"$XZ_T/outcomes"
open_apps "$RL" &
OPENER=$!
for i in $(seq 1 15); do
	kill -HUP "$NODE_PID"
	sleep 0.3
done
wait "$OPENER"
echo "  .. outcomes across reloads: $(sort "$XZ_T/outcomes" | uniq -c | tr '\n' ' ')"
assert_eq "every request got a reply" 0 "$(grep -c '^noreply$' "$XZ_T/outcomes" || true)"
check "the node survived the reloads" xz call xz.sys.ping '{}'
both_sides "reload"
stop_node

echo "-- 5. a full disk: the data folder on a small tmpfs, filled up"
full_disk 4 48 "$DF applications" both_sides open_apps "$DF"
finish
