#!/usr/bin/env bash
# Reserved audit topics and sources (the tamper suite's forged source and
# rogue responder, on a live node). Would-be responders for the audit
# plugin — a Lua script on the node and a bus client through the client
# library — subscribe to audit.verify and audit.append and answer
# {"ok":true} and {"acked":1000}. Then, with the chain damaged under the
# running node, audit.verify asked 5 times is answered by the audit plugin
# each time (ok false, the record named), never by them; the prison's
# spooled records are acknowledged by the audit plugin only (every alarm
# has its CREATE record). A client's event on audit.prison.create that
# says "source":"prison" is recorded with the client's own name as its
# source, and the script may not publish on audit.prison.> at all.
# Then a node with no audit plugin: the kernel still reserves audit.>, so
# the rogue client never answers audit.verify (no_responders) nor
# acknowledges the prison's spool (its records stay spooled).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip_test "no sqlite3 shell"
RAW="${XZ_BUILD:-$(dirname "$XZ_BIN")}/tests/xz_rawreq"
[ -x "$RAW" ] || skip_test "the test program $RAW is not built"
xz_setup
cat >"$XZ_T/rogue.lua" <<'EOF2'
return {
  name = "rogue",
  handlers = {
    ["audit.verify"] = function() return { ok = true, rogue = "script" } end,
    ["audit.append"] = function() return { acked = 1000, rogue = "script" } end,
    ["rogue.forge"] = function()
      local ok, err = xz.publish("audit.prison.create", { who = "forger",
        action = "CREATE", subject_type = "alarm", subject_id = "ALM-99999999",
        source = "prison" })
      return { published = ok == true, err = tostring(err) }
    end,
  },
}
EOF2
xz_config <<EOF2
plugins = ( { name = "audit"; kind = "so"; }, { name = "prison"; kind = "so"; } );
scripts = ( { name = "rogue"; path = "$XZ_T/rogue.lua"; } );
EOF2
DATA=$XZ_T/n1/data
URL="ipc://$XZ_T/n1/ctl.sock"
A='"actor":{"user":"officer-7","role":"area_officer","agency":"prison-01"}'
sq() { sqlite3 -cmd ".timeout 10000" "$@"; }
start_node
"$RAW" --answer "$URL" 'audit.*' '{"ok":true,"acked":1000,"rogue":"client"}' 120 >"$XZ_T/rogue.out" 2>&1 &
ROGUE=$!
wait_for 20 grep -q subscribed "$XZ_T/rogue.out" || fail "the rogue client subscribed"

echo "-- audit.append: acknowledged by the audit plugin only"
for i in 1 2 3 4 5; do
	check "alarm $i" xz call prison.alarm.raise "{$A,\"kind\":\"FIRE\",\"location\":\"5101.01.1.101\",\"source\":\"sensor\"}"
done
wait_until 30 'test "$(sq "$DATA/prison.db" "SELECT count(*) FROM audit_spool")" = 0' || fail "the spool drains"
assert_eq "every alarm has its CREATE record" 5 \
	"$(sq "$DATA/audit.db" "SELECT count(DISTINCT subject_id) FROM audit_log WHERE topic = 'audit.prison.create' AND subject_type = 'alarm' AND source = 'prison'")"

echo "-- a forged source"
check "a client publishes a record saying source prison" xz pub audit.prison.create \
	'{"who":"forger","action":"CREATE","subject_type":"alarm","subject_id":"ALM-99999998","source":"prison"}'
wait_until 20 'test "$(sq "$DATA/audit.db" "SELECT count(*) FROM audit_log WHERE subject_id = '"'"'ALM-99999998'"'"'")" = 1' ||
	fail "the client's record is kept"
src=$(sq "$DATA/audit.db" "SELECT source FROM audit_log WHERE subject_id = 'ALM-99999998'")
echo "  .. recorded with source '$src'"
if [ -n "$src" ] && [ "$src" != prison ]; then
	pass "its source is the sender, not the name it chose ($src)"
else
	fail "its source is the sender, not the name it chose: '$src'"
fi
check "the script tries to publish on audit.prison.create" xz call rogue.forge '{}'
assert_eq "refused to the script" false "$(echo "$OUT" | jq -r .published)"
sleep 1 # (a record that got through would be in the chain by now)
assert_eq "nothing recorded for it" 0 \
	"$(sq "$DATA/audit.db" "SELECT count(*) FROM audit_log WHERE subject_id = 'ALM-99999999'")"

echo "-- audit.verify on a damaged chain"
for t in $(sq "$DATA/audit.db" "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'"); do
	sq "$DATA/audit.db" "DROP TRIGGER $t"
done
sq "$DATA/audit.db" "UPDATE audit_log SET who = 'nobody' WHERE seq = 2"
rogue=0
bad=0
for i in 1 2 3 4 5; do
	out=$(xz call audit.verify '{}' 2>/dev/null || true)
	case "$out" in *rogue*) rogue=$((rogue + 1)) ;; esac
	[ "$(jq -r '"\(.ok) \(.first_bad_seq)"' <<<"$out")" = "false 2" ] && bad=$((bad + 1))
done
assert_eq "answers from a would-be responder (of 5)" 0 "$rogue"
assert_eq "the audit plugin's answer names record 2 (of 5)" 5 "$bad"
kill "$ROGUE" 2>/dev/null || true
wait "$ROGUE" 2>/dev/null || true
stop_node

echo "-- no audit plugin: audit.> is still reserved"
XZ_CFG="$XZ_T/n2.cfg"
xz_config "$XZ_CFG" n2 <<EOF2
plugins = ( { name = "prison"; kind = "so"; } );
EOF2
DATA2=$XZ_T/n2/data
start_node "$XZ_CFG" n2
"$RAW" --answer "ipc://$XZ_T/n2/ctl.sock" 'audit.>' '{"ok":true,"acked":1000,"rogue":"client"}' 120 >"$XZ_T/rogue2.out" 2>&1 &
ROGUE=$!
wait_for 20 grep -q subscribed "$XZ_T/rogue2.out" || fail "the rogue client subscribed"
out=$(xz call audit.verify '{}' -t 3000 2>&1 || true)
echo "  .. audit.verify: $out"
case "$out" in
*rogue*) fail "a would-be responder answered audit.verify" ;;
*no_responders*) pass "audit.verify reaches nobody: no_responders" ;;
*) fail "audit.verify with no audit plugin: $out" ;;
esac
retries() {
	xz status | jq -r '.plugins[] | select(.name == "prison") | .counters.audit_drain_retries // 0'
}
R0=$(retries)
for i in 1 2 3; do
	check "alarm $i" xz call prison.alarm.raise "{$A,\"kind\":\"FIRE\",\"location\":\"5101.01.1.101\",\"source\":\"sensor\"}"
done
# the prison tries its drain every second: three rounds after the alarms
# a row holds one record, or (topic '*') a batch's, as audit.append's records
NALM="SELECT (SELECT count(*) FROM audit_spool WHERE topic = 'audit.prison.create' AND json_extract(data, '$.subject_type') = 'alarm') + (SELECT count(*) FROM audit_spool, json_each('[' || audit_spool.data || ']') AS r WHERE audit_spool.topic = '*' AND json_extract(r.value, '$.topic') = 'audit.prison.create' AND json_extract(r.value, '$.data.subject_type') = 'alarm')"
wait_until 60 'test "$(retries)" -ge $((R0 + 3))' ||
	fail "the prison did not try its drain three times (retries $(retries), before $R0)"
assert_eq "the prison's alarm records stay spooled (nobody acknowledged them)" 3 \
	"$(sq "$DATA2/prison.db" "$NALM")"
kill "$ROGUE" 2>/dev/null || true
wait "$ROGUE" 2>/dev/null || true
stop_node n2
finish
