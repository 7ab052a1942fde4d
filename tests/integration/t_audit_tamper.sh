#!/usr/bin/env bash
# The audit log detects each kind of tampering at the exact record:
# a real node writes the chain, sqlite3 tampers with copies of the real
# file, and `xiezhi audit verify -f` names the first bad record.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
xz_config <<'EOF2'
plugins = ( { name = "audit"; kind = "so"; } );
EOF2
DATA=$XZ_T/n1/data
start_node
for i in $(seq 1 10); do
	xz pub audit.prison.prisoner.view "{\"who\":\"officer-$i\",\"role\":\"OFFICER\",\"agency\":\"prison-1\",\"action\":\"VIEW\",\"subject_type\":\"prisoner\",\"subject_id\":\"A10${i}BC\",\"purpose\":\"visit booking\",\"outcome\":\"ok\",\"corr\":\"c-$i\",\"time\":\"2026-01-01T00:00:0${i}Z\"}" >/dev/null
done
check "online verify of 10 records" xz audit verify
assert_eq "online verify says ok" "ok: 10 records" "$OUT"
stop_node

check "offline verify of the untouched file" "$XZ_BIN" audit verify -f "$DATA/audit.db"
assert_eq "offline verify output" "ok: 10 records (last seq 10)" "$OUT"
check "head file written" test -f "$DATA/audit.head"
assert_eq "head file names record 10" 10 "$(cut -d' ' -f1 "$DATA/audit.head")"

# Triggers refuse casual edits (an attacker drops them first).
rc=0
err=$(sqlite3 "$DATA/audit.db" "UPDATE audit_log SET who='x' WHERE seq=1" 2>&1) || rc=$?
assert_eq "UPDATE refused by the append-only trigger (SQLITE_CONSTRAINT)" 19 "$rc"
assert_contains "trigger message" "audit_log is append-only" "$err"
rc=0
err=$(sqlite3 "$DATA/audit.db" "DELETE FROM audit_log WHERE seq=1" 2>&1) || rc=$?
assert_eq "DELETE refused by the append-only trigger (SQLITE_CONSTRAINT)" 19 "$rc"


# The documented record encoding (docs/audit.md), rebuilt independently in
# SQL: the stored hash of every record is SHA-256 over it.
canon_sql() { # SEQ -> the canonical text of record SEQ
	local f q="'xiezhi-audit-v1' || char(10) || 'seq=' || seq || char(10) || 'at_ms=' || at_ms || char(10)"
	for f in at event_id topic source who role agency action subject_type subject_id purpose \
		recipient service outcome corr time detail prev_hash; do
		local name=$f
		[ "$f" = prev_hash ] && name=prev
		q="$q || CASE WHEN $f IS NULL THEN '$name=-' ELSE '$name=' || length(CAST($f AS BLOB)) || ':' || $f END || char(10)"
	done
	echo "SELECT $q FROM audit_log WHERE seq = $1"
}
for s in 1 5 10; do
	assert_eq "record $s's hash is SHA-256 of the documented encoding" \
		"$(sqlite3 "$DATA/audit.db" "SELECT hash FROM audit_log WHERE seq = $s")" \
		"$(sqlite3 "$DATA/audit.db" "$(canon_sql $s)" | head -c -1 | sha256sum | cut -d' ' -f1)"
done

n=0
# tamper NAME SQL: copy the pristine file and its head file, apply SQL.
tamper() {
	n=$((n + 1))
	T="$XZ_T/tamper$n"
	cp "$DATA/audit.db" "$T.db"
	cp "$DATA/audit.head" "$T.head"
	sqlite3 "$T.db" "DROP TRIGGER audit_log_no_update;
		DROP TRIGGER audit_log_no_delete; $1"
}
H7=$(sqlite3 "$DATA/audit.db" "SELECT hash FROM audit_log WHERE seq=7")

tamper "UPDATE audit_log SET subject_id='B9999ZZ' WHERE seq=4"
assert_exit "edited field detected" 1 "$XZ_BIN" audit verify -f "$T.db"
assert_contains "edited at record 4" "FAIL: record 4: edited:" "$OUT"
assert_contains "the bad record is printed" '"subject_id":"B9999ZZ"' "$OUT"

# Edit record 4 AND recompute its hash (and the anchor if it were last):
# record 5 still links to the original.
tamper "UPDATE audit_log SET purpose = 'curiosity' WHERE seq = 4"
NEWH=$(sqlite3 "$T.db" "$(canon_sql 4)" | head -c -1 | sha256sum | cut -d' ' -f1)
sqlite3 "$T.db" "UPDATE audit_log SET hash = '$NEWH' WHERE seq = 4"
assert_exit "edit with a recomputed hash detected" 1 "$XZ_BIN" audit verify -f "$T.db"
assert_contains "edited at record 4 (record 5 still links to the original)" \
	"FAIL: record 4: edited: record 4's hash was changed (record 5 still links to the original)" "$OUT"

tamper "UPDATE audit_log SET at_ms = at_ms + 1 WHERE seq=9"
assert_exit "edited time detected" 1 "$XZ_BIN" audit verify -f "$T.db"
assert_contains "edited at record 9" "FAIL: record 9: edited:" "$OUT"

tamper "DELETE FROM audit_log WHERE seq=6"
assert_exit "deleted middle record detected" 1 "$XZ_BIN" audit verify -f "$T.db"
assert_contains "deleted at record 6" "FAIL: record 6: deleted:" "$OUT"

tamper "DELETE FROM audit_log WHERE seq=1"
assert_exit "deleted first record detected" 1 "$XZ_BIN" audit verify -f "$T.db"
assert_contains "deleted at record 1" "FAIL: record 1: deleted:" "$OUT"

tamper "DELETE FROM audit_log WHERE seq=5; UPDATE audit_log SET seq = seq - 1 WHERE seq > 5;
	UPDATE audit_anchor SET last_seq = 9"
assert_exit "deletion with renumbering detected" 1 "$XZ_BIN" audit verify -f "$T.db"
assert_contains "deleted at record 5" "FAIL: record 5: deleted:" "$OUT"

tamper "UPDATE audit_log SET seq = -3 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 4;
	UPDATE audit_log SET seq = 4 WHERE seq = -3"
assert_exit "swapped records detected" 1 "$XZ_BIN" audit verify -f "$T.db"
assert_contains "reordered at record 3" "FAIL: record 3: reordered:" "$OUT"

tamper "DELETE FROM audit_log WHERE seq >= 8"
assert_exit "truncated tail detected" 1 "$XZ_BIN" audit verify -f "$T.db"
assert_contains "truncated at record 8 (anchor)" "FAIL: record 8: truncated: the log ends at record 7 but its anchor says 10" "$OUT"

tamper "DELETE FROM audit_log WHERE seq >= 8; DELETE FROM audit_anchor"
assert_exit "truncated tail and anchor row detected" 1 "$XZ_BIN" audit verify -f "$T.db"
assert_contains "truncated at record 8 (head file)" "FAIL: record 8: truncated:" "$OUT"
assert_contains "the head file is named" "head file says 10" "$OUT"

tamper "DELETE FROM audit_log WHERE seq >= 8; UPDATE audit_anchor SET last_seq = 7, last_hash = '$H7'"
assert_exit "truncated tail with a forged anchor detected" 1 "$XZ_BIN" audit verify -f "$T.db"
assert_contains "truncated at record 8 (head file beats the forged anchor)" \
	"FAIL: record 8: truncated: the log ends at record 7 but the head file says 10" "$OUT"

# The limit, stated in docs/audit.md: whoever can write the database AND
# the head file can cut the tail unnoticed. verify warns without a head.
tamper "DELETE FROM audit_log WHERE seq >= 8; UPDATE audit_anchor SET last_seq = 7, last_hash = '$H7'"
rm "$T.head"
assert_exit "tail + anchor + head file: not detectable offline" 0 "$XZ_BIN" audit verify -f "$T.db"
assert_eq "it says what it saw" "ok: 7 records (last seq 7)" "$OUT"
assert_contains "and warns about the missing head file" "warning: no head file" "$ERR"

tamper "INSERT INTO audit_log (seq, at_ms, at, who, action, prev_hash, hash)
	SELECT 11, at_ms, at, 'mallory', 'VIEW', hash, hash FROM audit_log WHERE seq = 10"
assert_exit "a forged record appended is detected" 1 "$XZ_BIN" audit verify -f "$T.db"
assert_contains "forged record 11" "FAIL: record 11: edited:" "$OUT"

assert_exit "a file that is not an audit log" 1 "$XZ_BIN" audit verify -f "$XZ_CFG"
assert_contains "says so" "is not an audit log" "$ERR"
assert_exit "a missing file" 1 "$XZ_BIN" audit verify -f "$XZ_T/nope.db"
assert_exit "usage error" 2 "$XZ_BIN" audit verify -f "$DATA/audit.db" --bogus
check "verify --help" xz audit verify --help
assert_contains "help names -f" "-f DBFILE" "$OUT"

# A node that starts on a tampered log says so, records an ALERT in the
# chain and keeps serving; the online verify names the record.
sqlite3 "$DATA/audit.db" "DROP TRIGGER audit_log_no_update;
	UPDATE audit_log SET outcome='denied' WHERE seq=2"
start_node
assert_exit "online verify of the tampered log" 1 xz audit verify
assert_contains "online: edited at record 2" "FAIL: record 2: edited:" "$OUT"
xz audit query --subject audit_log:chain --user auditor-1 >"$XZ_T/alert.json"
assert_eq "one ALERT record" "ALERT tamper:edited@2" \
	"$(jq -r 'select(.action=="ALERT") | "\(.action) \(.outcome)"' "$XZ_T/alert.json")"
stop_node
assert_contains "the node logged the failed check" "fails verification at record 2 (edited)" \
	"$(cat "$XZ_T/n1.log")"
finish
