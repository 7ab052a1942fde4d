#!/usr/bin/env bash
# A change's writes are held until it ends (kit_lazy_enable: the prison)
# and written then, without a savepoint of its own; sequence numbers are
# taken in memory and each kind's row written by the batch's commit. When
# writing fails, nothing is acknowledged that was not stored, and the
# store goes on serving:
# - the alarm sequence's row was changed behind the store: the commit that
#   would write it from where the store left it fails, the batch is rolled
#   back, the raise answered store_error and nothing of it is left; the
#   next raise reads the sequence again and is stored;
# - the first held write fails (a record with the next alarm's id was put
#   in behind the store): that raise alone is refused store_error, the
#   batch goes on; once that record is gone the next raise takes the id;
# - a later held write fails (a history row with the next row's number
#   was put in behind the store, so the record is written and its history
#   row is not): the batch is rolled back whole, the raise answered
#   store_error, the log and the commit_failed counter say so, no alarm
#   and no audit record of it is left;
# - the batch's spool row is refused: a refusal made inside a change (its
#   audit record lost with the batch) is answered store_error, not as if
#   it had been recorded.
# The chain verifies at the end.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip_test "no sqlite3 shell"
xz_setup
A='"actor":{"user":"officer-7","role":"area_officer","agency":"prison-01"}'
OPTS='options = { alarm_ack_sla_s = 86400; alarm_ack_sla_l2_s = 86400; alarm_ack_sla_l3_s = 86400; };'
DATA=$XZ_T/n1/data
sq() { sqlite3 -cmd ".timeout 10000" "$DATA/prison.db" "$@"; }
xz_config <<EOF2
plugins = ( { name = "audit"; kind = "so"; },
            { name = "prison"; kind = "so"; $OPTS } );
EOF2
start_node
raise() { xz call prison.alarm.raise "{$A,\"kind\":\"FIRE\",\"location\":\"5101.01.1.101\",\"source\":\"sensor\"}" 2>&1 || true; }
alarms() { sq "SELECT count(*) FROM records WHERE kind = 'alarm'"; }

for i in 1 2; do
	assert_eq "alarm $i stored" "ALM-0000000$i" "$(raise | json .id)"
done

# 1. the sequence's row moved behind the store: the commit fails
FAILED0=$(counter prison commit_failed)
sq "UPDATE seq SET n = n + 10 WHERE kind = 'alarm'"
OUT=$(raise)
assert_eq "the raise is refused store_error" store_error "$(echo "$OUT" | json .error.code)"
assert_eq "the batch was rolled back (counted)" $((FAILED0 + 1)) "$(counter prison commit_failed)"
assert_contains "and logged" "the sequence of alarm is not at 2" "$(cat "$XZ_T/n1.log")"
assert_eq "nothing of it is stored" "2 12" "$(sq "SELECT (SELECT count(*) FROM records WHERE kind = 'alarm'), (SELECT n FROM seq WHERE kind = 'alarm')" | tr '|' ' ')"
assert_eq "the next raise reads the sequence again" ALM-00000013 "$(raise | json .id)"

# 2. a record with the next id put in behind the store: the first held
# write fails, that raise alone is refused
sq "INSERT INTO records(kind, id, state, created_ms, updated_ms, data) VALUES ('alarm', 'ALM-00000014', 'RAISED', 1, 1, '{\"id\":\"ALM-00000014\",\"state\":\"RAISED\"}')"
FAILED0=$(counter prison commit_failed)
OUT=$(raise)
assert_eq "the raise is refused store_error" store_error "$(echo "$OUT" | json .error.code)"
assert_eq "no batch rolled back" "$FAILED0" "$(counter prison commit_failed)"
assert_eq "no history of it" 0 "$(sq "SELECT count(*) FROM history WHERE kind = 'alarm' AND id = 'ALM-00000014'")"
sq "DELETE FROM records WHERE kind = 'alarm' AND id = 'ALM-00000014'"
assert_eq "with that record gone the next raise takes the id" ALM-00000014 "$(raise | json .id)"

# 3. history rows with the numbers the next rows take (the store's
# counter may have moved past the stored mark by a few: a rolled-back
# batch's numbers are not taken again), put in behind the store for the
# next alarm: its record is written, its history row is not, the whole
# batch goes
sq "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 50) INSERT INTO history(seq, kind, id, action, to_state, who, at_ms) SELECT (SELECT n FROM seq WHERE kind = '#history') + i, 'alarm', 'ALM-00000015', 'planted', 'X', 'test', 1 FROM k"
FAILED0=$(counter prison commit_failed)
OUT=$(raise)
assert_eq "the raise is refused store_error" store_error "$(echo "$OUT" | json .error.code)"
assert_eq "the batch was rolled back (counted)" $((FAILED0 + 1)) "$(counter prison commit_failed)"
assert_contains "and logged" "group commit of" "$(cat "$XZ_T/n1.log")"
assert_eq "the sequence is where it was" 14 "$(sq "SELECT n FROM seq WHERE kind = 'alarm'")"
assert_eq "no record of it" 0 "$(sq "SELECT count(*) FROM records WHERE kind = 'alarm' AND id = 'ALM-00000015'")"
check "reads still served" xz call prison.alarm.list "{$A}"
sq "DELETE FROM history WHERE action = 'planted'"
assert_eq "with that row gone the next raise takes the id" ALM-00000015 "$(raise | json .id)"
assert_eq "five alarms in all" 5 "$(alarms)"

# 4. a refusal made inside a change (a raise at a location that is not
# registered) is answered once its audit record is stored with its batch:
# with the spool's batch row refused (a trigger put in behind the store),
# it is answered store_error, saying the refusal was not recorded; without
# the trigger, bad_request, and its REFUSE record reaches the chain
bad_raise() { xz call prison.alarm.raise "{$A,\"kind\":\"FIRE\",\"location\":\"9999.99\",\"source\":\"sensor\"}" 2>&1 || true; }
sq "CREATE TRIGGER no_spool BEFORE INSERT ON audit_spool BEGIN SELECT RAISE(ABORT, 'spool refused'); END"
OUT=$(bad_raise)
assert_eq "the refusal is answered store_error" store_error "$(echo "$OUT" | json .error.code)"
assert_contains "saying it was not recorded" "bad_request), but the refusal was not recorded" "$OUT"
sq "DROP TRIGGER no_spool"
OUT=$(bad_raise)
assert_eq "then it is answered bad_request" bad_request "$(echo "$OUT" | json .error.code)"
refusals() { sqlite3 -cmd ".timeout 10000" "$DATA/audit.db" "SELECT count(*) FROM audit_log WHERE action = 'REFUSE' AND outcome = 'bad_request'"; }
wait_until 60 'test "$(refusals)" = 1' ||
	fail "its REFUSE record reaches the chain, the unrecorded one does not ($(refusals))"

# every stored alarm has its CREATE record in the chain, nothing else does
wait_until 60 'test "$(sqlite3 -cmd ".timeout 10000" "$DATA/audit.db" "SELECT count(*) FROM audit_log WHERE action = '"'CREATE'"' AND subject_type = '"'alarm'"'")" = 5' ||
	fail "the five alarms' CREATE records reach the chain"
assert_eq "their ids" "ALM-00000001 ALM-00000002 ALM-00000013 ALM-00000014 ALM-00000015" \
	"$(sqlite3 -cmd ".timeout 10000" "$DATA/audit.db" "SELECT subject_id FROM audit_log WHERE action = 'CREATE' AND subject_type = 'alarm' ORDER BY seq" | tr '\n' ' ' | sed 's/ $//')"
check "the chain verifies" xz audit verify
stop_node
finish
