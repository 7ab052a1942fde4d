#!/usr/bin/env bash
# A console that cannot escape: xz.db refuses ATTACH, DETACH, VACUUM INTO,
# load_extension() and pragmas that set a value; a transaction a chunk
# leaves open is rolled back when the call ends; sessions are bound to
# their connection; every chunk is an audit record.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip_test "no sqlite3 shell"
xz_setup
xz_config <<'EOF2'
plugins = ( { name = "audit"; kind = "so"; } );
EOF2
DATA=$XZ_T/n1/data
start_node
# refused WHAT CHUNK: the chunk fails with "not authorized"
refused() {
	assert_exit "$1 is refused" 1 xz console -e "$2"
	assert_contains "$1: not authorized" "not authorized" "$(echo "$OUT" | jq -r .error.message)"
}
CHUNKS=0
refused "ATTACH of another plugin's store" "return xz.db.exec('ATTACH DATABASE ? AS p', '$DATA/audit.db')"
refused "ATTACH without parameters" "return xz.db.exec(\"ATTACH DATABASE '$DATA/audit.db' AS p\")"
refused "ATTACH of a new file" "return xz.db.exec(\"ATTACH DATABASE '$XZ_T/new.db' AS n\")"
check "no file was made" test ! -e "$XZ_T/new.db"
refused "DETACH" "return xz.db.exec('DETACH DATABASE temp')"
assert_exit "VACUUM INTO is refused" 1 xz console -e "return xz.db.exec(\"VACUUM INTO '$XZ_T/copy.db'\")"
check "no copy was made" test ! -e "$XZ_T/copy.db"
refused "load_extension()" "return xz.db.query(\"SELECT load_extension('/tmp/x.so')\")"
refused "a writable pragma (journal_mode)" "return xz.db.exec('PRAGMA journal_mode = DELETE')"
refused "a writable pragma (writable_schema)" "return xz.db.exec('PRAGMA writable_schema = ON')"
refused "a writable pragma (query_only)" "return xz.db.exec('PRAGMA query_only = 0')"
CHUNKS=$((CHUNKS + 9))
check "reading pragmas still works" xz console -e "return xz.db.query('PRAGMA journal_mode')[1].journal_mode"
assert_eq "journal_mode read" '["wal"]' "$(echo "$OUT" | jq -c .results)"
check "a table of its own" xz console -e "return xz.db.exec('CREATE TABLE IF NOT EXISTS t(x)')"
check "table_info (a pragma with an argument that reads)" xz console -e "return #xz.db.query('PRAGMA table_info(t)')"
assert_eq "one column" '[1]' "$(echo "$OUT" | jq -c .results)"
CHUNKS=$((CHUNKS + 3))

# A transaction cannot outlive the call.
check "a chunk that leaves a transaction open" xz console -e \
	"xz.db.exec('BEGIN IMMEDIATE'); xz.db.exec('INSERT INTO t VALUES (1)'); return 'held'"
assert_eq "the reply says it was rolled back" true "$(echo "$OUT" | jq -r .rolled_back)"
check "the store is not locked afterwards" sqlite3 -cmd ".timeout 5000" "$DATA/console.db" "INSERT INTO t VALUES (2)"
check "the insert of the chunk is gone" xz console -e "return xz.db.query('SELECT count(*) AS n FROM t WHERE x = 1')[1].n"
assert_eq "no row 1" '[0]' "$(echo "$OUT" | jq -c .results)"
assert_exit "a failing chunk that leaves a transaction open" 1 xz console -e \
	"xz.db.exec('BEGIN'); xz.db.exec('INSERT INTO t VALUES (3)'); error('late')"
check "the store is free after a failed chunk" sqlite3 -cmd ".timeout 5000" "$DATA/console.db" "INSERT INTO t VALUES (4)"
CHUNKS=$((CHUNKS + 3))

# Sessions are bound to the connection: a second client naming the same
# session id gets a session of its own.
check "a variable in session s1" xz call xz.sys.console.eval '{"chunk":"secret = 42","session":"s1"}'
check "another client, session s1" xz call xz.sys.console.eval '{"chunk":"return secret","session":"s1"}'
assert_eq "cannot read the other session's variable" '[null]' "$(echo "$OUT" | jq -c .results)"
CHUNKS=$((CHUNKS + 2))

# Every chunk is an audit record, with who sent it and the chunk itself.
all_audited() { test "$(xz audit query --subject console --user auditor-1 -n 1000 | jq -s 'length')" -ge "$CHUNKS"; }
wait_for 20 all_audited || true
xz audit query --subject console --user auditor-1 -n 1000 >"$XZ_T/console-audit.json"
assert_eq "one EXEC record per chunk" "$CHUNKS" "$(jq -s '[.[] | select(.action == "EXEC")] | length' "$XZ_T/console-audit.json")"
assert_contains "the chunk is in the record" "ATTACH DATABASE" "$(jq -r .detail.chunk "$XZ_T/console-audit.json")"
assert_eq "and who sent it" 0 "$(jq -s '[.[] | select(.who == null or .who == "")] | length' "$XZ_T/console-audit.json")"
stop_node
finish
