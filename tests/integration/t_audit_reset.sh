#!/usr/bin/env bash
# An anchored reset (docs/audit.md, "Accepting a lost store"): the audit
# log is wiped while the node is stopped; `verify --anchors` names the
# wipe; the node starts without the audit plugin (its store is held, not
# made anew); `xiezhi audit reset --store audit --reason TEXT` is refused
# without a reason, for an unknown store, for a non-admin and when its
# record cannot be written (nothing is reset), and otherwise writes the
# kernel's audit record before the MANIFEST forgets the store. After a
# restart the reset record is in the new chain and `verify --anchors`
# reports the old checkpoints as signing the log before a recorded reset
# (who, when, why) instead of a wiped log. On the way, a start whose
# kernel audit spool has a line that is no record logs that warning
# although the start succeeds.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_test "jq is not installed"
command -v sqlite3 >/dev/null || skip_test "no sqlite3 shell"
xz_setup
export HOME="$XZ_T/home"
mkdir -p "$HOME"
unset XZ_CREDS
SINK_DIR=$XZ_T/sink
mkdir -p "$SINK_DIR"
SINK=$SINK_DIR/anchors.log
xz_config <<EOF2
auth = { argon2_ops = 1; argon2_mem_kib = 8192; };
plugins = ( { name = "audit"; kind = "so";
  options = { anchor_file = "$SINK"; anchor_every = 5;
              anchor_interval_s = 3600; anchor_node = "n1"; }; } );
EOF2
DATA=$XZ_T/n1/data
SPOOL=$DATA/kernel-audit.spool
REASON="disk replaced after a failure (ticket 2026-118)"
sq() { sqlite3 -cmd ".timeout 10000" "$@"; }
records() { test "$(counter audit records)" -ge "$1"; }
spooled() { [ "$(xz call xz.sys.status '{}' | jq .kernel_audit.spooled)" = "$1" ]; }
audit_state() { xz call xz.sys.status '{}' | jq -r '.plugins[] | select(.name == "audit") | .state'; }

start_node
for i in $(seq 1 12); do
	xz pub audit.prison.prisoner.view "{\"who\":\"officer-$i\",\"action\":\"VIEW\",\"subject_type\":\"prisoner\",\"subject_id\":\"A10${i}BC\",\"outcome\":\"ok\"}" >/dev/null
done
wait_for 60 records 12 || fail "12 records written"
stop_node
check "the chain against its checkpoints" "$XZ_BIN" audit verify -f "$DATA/audit.db" --anchors "$SINK"
old_id=$(awk '$1 == "store" && $2 == "audit" { print $3 }' "$DATA/MANIFEST")
[ -n "$old_id" ] || fail "the MANIFEST lists the audit store"

old_lines=$(wc -l <"$SINK")
echo "-- the log wiped while the node is stopped"
rm -f "$DATA/audit.db" "$DATA/audit.db-wal" "$DATA/audit.db-shm" "$DATA/audit.head"
assert_exit "verify names the loss" 1 "$XZ_BIN" audit verify -f "$DATA/audit.db" --anchors "$SINK"
assert_contains "as a wiped log" "wiped: the log $DATA/audit.db is gone" "$OUT"
assert_exit "check reports the missing store" 1 xz check
assert_contains "check names it" "store $DATA/audit.db of plugin 'audit' is missing" "$ERR"

echo "-- a reset whose record cannot be written resets nothing"
XZ_KAUDIT_FAIL=1 start_node
assert_eq "the node runs, the audit plugin held" failed "$(audit_state)"
grep -q "not started: store $DATA/audit.db of plugin 'audit' is missing" "$XZ_T/n1.log" &&
	pass "the log says why the audit plugin is held" ||
	fail "the log says why the audit plugin is held"
check "nothing made anew" test ! -e "$DATA/audit.db"
assert_exit "reset refused" 1 xz audit reset --store audit --reason "$REASON"
assert_contains "audit_unavailable" "audit_unavailable" "$ERR"
assert_eq "the MANIFEST still lists the store" "$old_id" \
	"$(awk '$1 == "store" && $2 == "audit" { print $3 }' "$DATA/MANIFEST")"
stop_node

echo "-- refusals"
start_node
assert_exit "no --reason: usage" 2 xz audit reset --store audit
assert_contains "it asks for the reason" "--reason TEXT" "$ERR"
assert_exit "a blank reason: usage" 2 xz audit reset --store audit --reason "  "
assert_exit "a request without a reason" 1 xz call xz.sys.store.reset '{"store":"audit"}'
assert_contains "bad_request" "bad_request" "$OUT$ERR"
assert_exit "an unknown store" 1 xz audit reset --store nope --reason "$REASON"
assert_contains "named" "unknown store 'nope'" "$ERR"
printf 'reset-secret-1\n' >"$XZ_T/pw"
check "add an auditor" xz identity user add aud1 --name 审计员 --agency prison-01 \
	--role auditor --password-file "$XZ_T/pw"
check "the auditor logs in" xz login --user aud1 --password-file "$XZ_T/pw" --creds "$XZ_T/creds-aud1"
XZ_CREDS=$XZ_T/creds-aud1 assert_exit "a non-admin is refused" 1 \
	xz audit reset --store audit --reason "$REASON"
assert_contains "forbidden" "forbidden" "$OUT$ERR"
assert_eq "the MANIFEST still lists the store" "$old_id" \
	"$(awk '$1 == "store" && $2 == "audit" { print $3 }' "$DATA/MANIFEST")"

echo "-- the reset"
check "reset with a reason" xz audit reset --store audit --reason "$REASON"
assert_contains "it says so" "reset: store 'audit' (identity $old_id) by admin" "$OUT"
assert_eq "the MANIFEST forgets the store" "" \
	"$(awk '$1 == "store" && $2 == "audit" { print $3 }' "$DATA/MANIFEST")"
assert_eq "its record is in the kernel's spool (fdatasync'ed before)" 1 \
	"$(grep -c $'\taudit.sys.reset\t' "$SPOOL")"
rec=$(grep $'\taudit.sys.reset\t' "$SPOOL" | cut -f3)
assert_eq "who" admin "$(echo "$rec" | jq -r .who)"
assert_eq "which store" audit "$(echo "$rec" | jq -r .subject_id)"
assert_eq "its old identity" "$old_id" "$(echo "$rec" | jq -r .store_id)"
assert_eq "why" "$REASON" "$(echo "$rec" | jq -r .reason)"
stop_node

echo "-- a start with a spool line that is no record: the warning is logged"
{ echo "garbage without tabs"; cat "$SPOOL"; } >"$XZ_T/spool.new"
cp "$XZ_T/spool.new" "$SPOOL"
: >"$XZ_T/n1.log"
start_node
grep -q "kernel-audit.spool:1: not a record" "$XZ_T/n1.log" &&
	pass "the started node's log has the spool's warning" ||
	fail "the started node's log has the spool's warning: $(cat "$XZ_T/n1.log")"

echo "-- after the restart: a new chain, the reset on record in it"
assert_eq "the audit plugin runs" running "$(audit_state)"
wait_for 60 spooled 0 || fail "the spool drains"
assert_eq "the reset record is in the chain" 1 \
	"$(sq "$DATA/audit.db" "SELECT count(*) FROM audit_log WHERE topic = 'audit.sys.reset' AND subject_id = 'audit' AND source = 'sys' AND who = 'admin' AND purpose = '$REASON' AND detail LIKE '%$old_id%'")"
rseq=$(sq "$DATA/audit.db" "SELECT seq FROM audit_log WHERE topic = 'audit.sys.reset'")
for i in $(seq 1 3); do
	xz pub audit.prison.prisoner.view "{\"who\":\"officer-$i\",\"action\":\"VIEW\",\"subject_type\":\"prisoner\",\"subject_id\":\"B10${i}BC\",\"outcome\":\"ok\"}" >/dev/null
done
wait_for 60 records 3 || fail "new records written"
stop_node # signs a checkpoint of the new head
check "verify --anchors after the reset" "$XZ_BIN" audit verify -f "$DATA/audit.db" --anchors "$SINK"
assert_contains "names the recorded reset" \
	"sign the log before the recorded reset (record $rseq, time " "$OUT"
assert_contains "who and why" "by admin: $REASON)" "$OUT"
assert_contains "the later checkpoints match" "ok: " "$OUT"

echo "-- the node's own verify knows the reset too"
: >"$XZ_T/n1.log"
start_node
check "audit.verify on the running node" xz call audit.verify '{}'
assert_eq "the node's verdict" true "$(echo "$OUT" | jq -r .ok)"
assert_eq "it names the reset record" "$rseq" "$(echo "$OUT" | jq -r .reset.seq)"
assert_eq "and why" "$REASON" "$(echo "$OUT" | jq -r .reset.reason)"
if grep -q "disagrees with checkpoint" "$XZ_T/n1.log"; then
	fail "the start after an anchored reset raised an alert: $(grep disagrees "$XZ_T/n1.log")"
else
	pass "no alert at the start after an anchored reset"
fi
stop_node

echo "-- a reset record that no later checkpoint signs is not enough"
head -n "$old_lines" "$SINK" >"$XZ_T/old.log"
cp "$SINK.key.pub" "$XZ_T/old.log.key.pub"
assert_exit "only the checkpoints before the reset" 1 \
	"$XZ_BIN" audit verify -f "$DATA/audit.db" --anchors "$XZ_T/old.log"
assert_contains "says the reset is not anchored" "record $rseq: reset not anchored" "$OUT"
finish
