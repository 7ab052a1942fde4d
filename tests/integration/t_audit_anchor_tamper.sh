#!/usr/bin/env bash
# The anchored audit chain: a real node signs checkpoints of the chain's
# head into a sink file outside its data folder; someone with the data
# folder (but not the sink) then edits, deletes, inserts, reorders,
# truncates, rewrites consistently (hashes recomputed, anchor row and head
# file too), wipes (with and without the head file) and forges the source
# of a record. `xiezhi audit verify -f DB --anchors SINK` fails each time,
# naming the record or the checkpoint; forged or edited checkpoints fail
# their signature.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip_test "no sqlite3 shell"
xz_setup
SINK_DIR=$XZ_T/sink
mkdir -p "$SINK_DIR"
SINK=$SINK_DIR/anchors.log
xz_config <<EOF2
plugins = ( { name = "audit"; kind = "so";
  options = { anchor_file = "$SINK"; anchor_every = 5;
              anchor_interval_s = 3600; anchor_publish = true;
              anchor_node = "n1"; }; } );
EOF2
DATA=$XZ_T/n1/data
start_node
xz_bg sub audit.anchor >"$XZ_T/anchor-events" 2>/dev/null &
# The probe (a bus client's event on audit.anchor) is record 1: only the
# audit plugin's own checkpoints are not records.
probe() {
	echo >>"$XZ_T/probes"
	xz pub audit.anchor '{"probe":1}' >/dev/null 2>&1
	grep -q probe "$XZ_T/anchor-events"
}
wait_for 10 probe || die "subscriber never saw the probe event"
P=$(wc -l <"$XZ_T/probes")
for i in $(seq $((P + 1)) 12); do
	xz pub audit.prison.prisoner.view "{\"who\":\"officer-$i\",\"role\":\"area_officer\",\"agency\":\"prison-01\",\"action\":\"VIEW\",\"subject_type\":\"prisoner\",\"subject_id\":\"A10${i}BC\",\"purpose\":\"visit booking\",\"outcome\":\"ok\",\"time\":1795932522918}" >/dev/null
done
twelve() { test "$(counter audit records)" = 12; }
wait_for 20 twelve || fail "12 records written"
wait_for 20 grep -q '"seq":10' "$XZ_T/anchor-events" || true
assert_eq "the audit plugin publishes checkpoints 5 and 10 on audit.anchor" "audit:5 audit:10" \
	"$(grep -v probe "$XZ_T/anchor-events" | jq -r '"\(.source):\(.data.seq)"' | tr '\n' ' ' | sed 's/ $//')"
check "online verify with anchors" xz audit verify
assert_eq "online verify says ok" "ok: 12 records" "$OUT"
stop_node

check "the key was made outside the data folder" test -f "$SINK.key"
assert_eq "the key is 0600" 600 "$(stat -c %a "$SINK.key")"
check "its public key beside it" test -f "$SINK.key.pub"
assert_eq "the sink is 0600" 600 "$(stat -c %a "$SINK")"
assert_eq "checkpoints at records 5, 10 and 12 (stop)" "5 10 12" \
	"$(sed -E 's/.* seq=([0-9]+) .*/\1/' "$SINK" | tr '\n' ' ' | sed 's/ $//')"
check "offline verify against the anchors" "$XZ_BIN" audit verify -f "$DATA/audit.db" --anchors "$SINK"
assert_contains "all checkpoints match" "ok: 3 checkpoints match (last signs record 12)" "$OUT"

# The documented record encoding, to rewrite the chain as an attacker who
# read docs/audit.md would.
canon_sql() { # DB SEQ -> the canonical text of record SEQ
	local f q="'xiezhi-audit-v1' || char(10) || 'seq=' || seq || char(10) || 'at_ms=' || at_ms || char(10)"
	for f in at event_id topic source who role agency action subject_type subject_id purpose \
		recipient service outcome corr time detail prev_hash; do
		local name=$f
		[ "$f" = prev_hash ] && name=prev
		q="$q || CASE WHEN $f IS NULL THEN '$name=-' ELSE '$name=' || length(CAST($f AS BLOB)) || ':' || $f END || char(10)"
	done
	echo "SELECT $q FROM audit_log WHERE seq = $1"
}
ZERO=0000000000000000000000000000000000000000000000000000000000000000
# rechain DB: recompute every link and hash, the anchor row and the head
# file, so that the chain alone verifies again.
rechain() {
	local db=$1 s max prev h
	max=$(sqlite3 "$db" "SELECT max(seq) FROM audit_log")
	prev=$ZERO
	for s in $(seq 1 "$max"); do
		sqlite3 "$db" "UPDATE audit_log SET prev_hash = '$prev' WHERE seq = $s"
		h=$(sqlite3 "$db" "$(canon_sql "$s")" | head -c -1 | sha256sum | cut -d' ' -f1)
		sqlite3 "$db" "UPDATE audit_log SET hash = '$h' WHERE seq = $s"
		prev=$h
	done
	sqlite3 "$db" "UPDATE audit_anchor SET last_seq = $max, last_hash = '$prev'"
	echo "$max $prev" >"${db%.db}.head"
}
n=0
# tamper SQL: a copy of the pristine file and its head file, SQL applied.
tamper() {
	n=$((n + 1))
	T="$XZ_T/tamper$n"
	cp "$DATA/audit.db" "$T.db"
	cp "$DATA/audit.head" "$T.head"
	sqlite3 "$T.db" "DROP TRIGGER audit_log_no_update;
		DROP TRIGGER audit_log_no_delete; $1"
}
verify_t() {
	assert_exit "$1" 1 "$XZ_BIN" audit verify -f "$T.db" --anchors "$SINK" --key "$SINK.key.pub"
}

tamper "UPDATE audit_log SET subject_id = 'B9999ZZ' WHERE seq = 4"
verify_t "edit detected"
assert_contains "edited at record 4" "FAIL: record 4: edited:" "$OUT"

tamper "DELETE FROM audit_log WHERE seq = 6"
verify_t "delete detected"
assert_contains "deleted at record 6" "FAIL: record 6: deleted:" "$OUT"

tamper "UPDATE audit_log SET subject_id = 'B9999ZZ' WHERE seq = 4"
rechain "$T.db"
check "a consistent rewrite passes the chain check alone" "$XZ_BIN" audit verify -f "$T.db"
verify_t "consistent rewrite (edit, all hashes recomputed) detected"
assert_contains "checkpoint 1 names record 5" "FAIL: checkpoint 1: record 5: rewritten:" "$OUT"

tamper "DELETE FROM audit_log WHERE seq = 6; UPDATE audit_log SET seq = seq - 1 WHERE seq > 6"
rechain "$T.db"
verify_t "delete with renumbering and rehash detected"
assert_contains "checkpoint 2 names record 10" "FAIL: checkpoint 2: record 10: rewritten:" "$OUT"

tamper "UPDATE audit_log SET seq = -seq WHERE seq >= 8;
	UPDATE audit_log SET seq = 1 - seq WHERE seq < 0;
	INSERT INTO audit_log (seq, at_ms, at, who, action, prev_hash, hash)
	SELECT 8, at_ms, at, 'mallory', 'VIEW', '', '' FROM audit_log WHERE seq = 7"
rechain "$T.db"
verify_t "insert with rehash detected"
assert_contains "checkpoint 2 names record 10" "FAIL: checkpoint 2: record 10: rewritten:" "$OUT"

tamper "UPDATE audit_log SET seq = -3 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 4;
	UPDATE audit_log SET seq = 4 WHERE seq = -3"
rechain "$T.db"
verify_t "reorder with rehash detected"
assert_contains "checkpoint 1 names record 5" "FAIL: checkpoint 1: record 5: rewritten:" "$OUT"

tamper "DELETE FROM audit_log WHERE seq >= 11"
rechain "$T.db"
check "a cut tail with anchor row and head file passes the chain check alone" \
	"$XZ_BIN" audit verify -f "$T.db"
verify_t "truncation with anchor row and head file rewritten detected"
assert_contains "checkpoint 3 names record 12" "FAIL: checkpoint 3: record 12: truncated:" "$OUT"

tamper "UPDATE audit_log SET source = 'prison' WHERE seq = 7"
rechain "$T.db"
verify_t "forged source of record 7 (rehashed) detected"
assert_contains "checkpoint 2 names record 10" "FAIL: checkpoint 2: record 10: rewritten:" "$OUT"

# Wipes: the log gone, with and without its head file.
tamper ""
rm "$T.db"
verify_t "wipe keeping the head file detected"
assert_contains "names the last checkpoint" "FAIL: checkpoint 1: record 12: wiped:" "$OUT"
rm "$T.head"
verify_t "wipe with the head file detected"
assert_contains "names the last checkpoint" "FAIL: checkpoint 1: record 12: wiped:" "$OUT"

# A fresh log in place of the old one (the whole data folder wiped, a new
# chain begun): the checkpoints sign records it does not have.
tamper "DELETE FROM audit_log WHERE seq > 3"
rechain "$T.db"
verify_t "a new, shorter chain in place of the old one detected"
assert_contains "checkpoint 1 names record 5" "FAIL: checkpoint 1: record 5: truncated:" "$OUT"

# The sink itself: an edited checkpoint fails its signature; one signed by
# another key fails the node's key.
cp "$SINK" "$XZ_T/sink-edit"
sed -i '2s/ seq=10 / seq=11 /' "$XZ_T/sink-edit"
assert_exit "an edited checkpoint detected" 1 "$XZ_BIN" audit verify -f "$DATA/audit.db" \
	--anchors "$XZ_T/sink-edit" --key "$SINK.key.pub"
assert_contains "checkpoint 2's signature fails" "FAIL: checkpoint 2: record 11: signature:" "$OUT"

# Mallory's own key, made by a node of hers, signs a rewritten chain.
mkdir -p "$XZ_T/mallory"
xz_config "$XZ_T/m.cfg" m1 <<EOF2
plugins = ( { name = "audit"; kind = "so";
  options = { anchor_file = "$XZ_T/mallory/a.log"; anchor_node = "n1"; }; } );
EOF2
start_node "$XZ_T/m.cfg" m1
"$XZ_BIN" pub -c "$XZ_T/m.cfg" audit.x.view '{"who":"mallory"}' >/dev/null
m_one() { test "$("$XZ_BIN" status -c "$XZ_T/m.cfg" | jq -r '.plugins[] | select(.name == "audit") | .counters.records // 0')" = 1; }
wait_for 20 m_one || fail "mallory's record written"
stop_node m1
assert_exit "checkpoints signed by another key detected" 1 "$XZ_BIN" audit verify -f "$DATA/audit.db" \
	--anchors "$XZ_T/mallory/a.log" --key "$SINK.key.pub"
assert_contains "another key named" "FAIL: checkpoint 1: record 1: rekeyed:" "$OUT"
cat "$SINK" "$XZ_T/mallory/a.log" >"$XZ_T/sink-mixed"
assert_exit "a foreign checkpoint appended to the sink detected" 1 "$XZ_BIN" audit verify \
	-f "$DATA/audit.db" --anchors "$XZ_T/sink-mixed"
assert_contains "checkpoint 4 is by another key" "FAIL: checkpoint 4: record 1: rekeyed:" "$OUT"

# The node itself notices at start: rewrite the real log consistently,
# start, and the online verify names the checkpoint; an ALERT is recorded.
sqlite3 "$DATA/audit.db" "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET who = 'nobody' WHERE seq = 2"
rechain "$DATA/audit.db"
start_node
assert_exit "online verify of the rewritten log" 1 xz audit verify
assert_contains "online: checkpoint 1 names record 5" "FAIL: checkpoint 1: record 5: rewritten:" "$OUT"
xz audit query --subject audit_log:anchors --user auditor-1 >"$XZ_T/alert.json"
assert_eq "one ALERT record" "ALERT tamper:rewritten@checkpoint-1" \
	"$(jq -r 'select(.action=="ALERT") | "\(.action) \(.outcome)"' "$XZ_T/alert.json")"
stop_node
assert_contains "the node logged the disagreement" "disagrees with checkpoint 1" "$(cat "$XZ_T/n1.log")"

# A sink inside the data folder is refused (whoever holds the folder would
# hold the anchors too).
xz_config "$XZ_T/bad.cfg" b1 <<EOF2
plugins = ( { name = "audit"; kind = "so";
  options = { anchor_file = "$XZ_T/b1/data/anchors.log"; }; } );
EOF2
mkdir -p "$XZ_T/b1/data"
"$XZ_BIN" run -c "$XZ_T/bad.cfg" >"$XZ_T/b1.log" 2>&1 &
BPID=$!
wait_for 20 grep -q "inside the data folder" "$XZ_T/b1.log" || true
kill "$BPID" 2>/dev/null || true
wait "$BPID" 2>/dev/null || true
assert_contains "a sink in the data folder is refused" "is inside the data folder" "$(cat "$XZ_T/b1.log")"
finish
