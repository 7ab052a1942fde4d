#!/usr/bin/env bash
# The kernel's own records of changes are durable before the change
# (docs/audit.md, "The kernel's records"): a user added, locked, a
# password set, a console chunk and a log-level change each leave a record
# in <data>/kernel-audit.spool (fdatasync'ed) before the change, drained
# in order into the audit chain. With no audit plugin they wait in the
# spool and reach the chain at the next start that has one; a spool
# handed over twice is kept once (by id). When the spool cannot be
# written (XZ_KAUDIT_FAIL, a failing disk) every change is refused
# (audit_unavailable) and not made; status counts them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_test "jq is not installed"
command -v sqlite3 >/dev/null || skip_test "no sqlite3 shell"
xz_setup
export HOME="$XZ_T/home"
mkdir -p "$HOME"
unset XZ_CREDS
DATA=$XZ_T/n1/data
SPOOL=$DATA/kernel-audit.spool
sq() { sqlite3 -cmd ".timeout 10000" "$@"; }
AUTH='auth = { argon2_ops = 1; argon2_mem_kib = 8192; };'
printf 'spool-secret-1\n' >"$XZ_T/pw"
spooled() { [ "$(xz call xz.sys.status '{}' | jq .kernel_audit.spooled)" = "$1" ]; }
nconsole() { [ "$(sq "$DATA/audit.db" "SELECT count(*) FROM audit_log WHERE topic = 'audit.console.eval' AND detail LIKE '%40 + 2%'")" = 1 ]; }
nis() { [ "$(nrec "$1" "$2")" = "$3" ]; }
nrec() { # nrec SUBJECT OUTCOME: records of audit.sys.identity about it
	sq "$DATA/audit.db" "SELECT count(*) FROM audit_log WHERE topic = 'audit.sys.identity' AND subject_id = '$1' AND outcome = '$2'"
}

echo "-- no audit plugin: the records wait in the spool"
xz_config <<EOF2
$AUTH
EOF2
start_node
wait_for 30 spooled 0 || true # (the node's own records at start)
check "add u1" xz identity user add u1 --name 用户一 --agency prison-01 \
	--role area_officer --password-file "$XZ_T/pw"
check "lock u1" xz identity user lock u1
assert_eq "the add's and the lock's records (submitted, outcome) are in the spool" 4 \
	"$(grep -c $'\taudit.sys.identity\t.*"subject_id":"u1"' "$SPOOL")"
check "status" xz call xz.sys.status '{}'
assert_eq "status: spooled" 4 "$(echo "$OUT" | jq .kernel_audit.spooled)"
# the drain says once that it cannot go on, then tries again with backoff
wait_for 30 grep -q "no audit plugin takes audit.append now" "$XZ_T/n1.log" ||
	fail "the log does not say why the spool waits"
assert_eq "said once, not at each attempt" 1 \
	"$(grep -c "no audit plugin takes audit.append now" "$XZ_T/n1.log")"
stop_node
cp "$SPOOL" "$XZ_T/spool.copy"
# A line that is no record, put first: skipped; the records after it are
# not lost (the counts below; before, the whole spool was cut there).
{ echo "garbage without tabs"; cat "$XZ_T/spool.copy"; } >"$SPOOL"

echo "-- with the audit plugin: drained into the chain"
xz_config <<EOF2
$AUTH
plugins = ( { name = "audit"; kind = "so"; } );
EOF2
start_node
wait_for 30 spooled 0 ||
	fail "the spool drains"
assert_eq "the spool file is emptied" 0 "$(stat -c %s "$SPOOL")"
assert_eq "its mode" 600 "$(stat -c %a "$SPOOL")"
assert_eq "u1: submitted records in the chain" 2 "$(nrec u1 submitted)"
assert_eq "u1: ok records in the chain" 2 "$(nrec u1 ok)"
assert_eq "their source is the kernel" sys \
	"$(sq "$DATA/audit.db" "SELECT DISTINCT source FROM audit_log WHERE subject_id = 'u1'")"
check "passwd u1" xz identity user passwd u1 --password-file "$XZ_T/pw"
check "console chunk" xz console -e "return 40 + 2"
wait_for 30 nis u1 submitted 3 || fail "the passwd's record reaches the chain"
wait_for 30 nconsole ||
	fail "the console chunk's record reaches the chain"
stop_node

echo "-- the same spool handed over again: kept once"
cp "$XZ_T/spool.copy" "$SPOOL"
start_node
wait_for 30 spooled 0 ||
	fail "the spool drains again"
assert_eq "u1: still 3 submitted records" 3 "$(nrec u1 submitted)"
assert_eq "u1: still 3 ok records" 3 "$(nrec u1 ok)"
assert_contains "the chain verifies" '"ok":true' "$(xz call audit.verify '{}')"
stop_node

echo "-- a spool that cannot be written: no change"
XZ_KAUDIT_FAIL=1 start_node
assert_exit "add u2 is refused" 1 xz identity user add u2 --name 用户二 \
	--agency prison-01 --role area_officer --password-file "$XZ_T/pw"
assert_contains "audit_unavailable" audit_unavailable "$ERR$OUT"
assert_exit "unlock u1 is refused" 1 xz identity user unlock u1
assert_exit "a console chunk is refused" 1 xz console -e "return 1"
assert_exit "a log-level change is refused" 1 xz call xz.sys.log.level '{"level":"debug"}'
check "list users" xz call xz.sys.identity.user.list '{}'
assert_eq "u2 was not added" 0 "$(echo "$OUT" | jq '[.users[] | select(.user == "u2")] | length')"
assert_eq "u1 is as it was (locked, not unlocked)" locked \
	"$(echo "$OUT" | jq -r '.users[] | select(.user == "u1") | .state')"
check "status" xz call xz.sys.status '{}'
refused=$(echo "$OUT" | jq .kernel_audit.refused)
echo "  .. refused records: $refused"
[ "$refused" -ge 4 ] && pass "status counts the refused records ($refused)" ||
	fail "status counts the refused records: $refused"
assert_eq "nothing of u2 in the chain" 0 \
	"$(sq "$DATA/audit.db" "SELECT count(*) FROM audit_log WHERE subject_id = 'u2'")"
stop_node
finish
