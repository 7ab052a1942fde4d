#!/usr/bin/env bash
# A change's writes are held until it ends (kit_lazy_enable: the prison)
# and written then, without a savepoint of its own. When writing them
# fails, nothing is acknowledged that was not stored, and the store goes
# on serving:
# - the first held write fails (the alarm sequence's row was changed
#   behind the store): that raise is answered store_error and leaves
#   nothing; the next raise reads the sequence again and is stored;
# - a later one fails (a record with the next alarm's id was put in behind
#   the store, so the sequence is written and the record is not): the
#   batch is rolled back whole, the raise answered store_error, the log and
#   the commit_failed counter say so, no alarm and no audit record of it is
#   left; once that record is gone the next raise takes the id.
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

# 1. the sequence's row moved behind the store: the first held write fails
sq "UPDATE seq SET n = n + 10 WHERE kind = 'alarm'"
OUT=$(raise)
assert_eq "the raise is refused store_error" store_error "$(echo "$OUT" | json .error.code)"
assert_eq "nothing of it is stored" "2 12" "$(sq "SELECT (SELECT count(*) FROM records WHERE kind = 'alarm'), (SELECT n FROM seq WHERE kind = 'alarm')" | tr '|' ' ')"
assert_eq "the next raise reads the sequence again" ALM-00000013 "$(raise | json .id)"

# 2. a record with the next id put in behind the store: the sequence's
# write succeeds, the record's fails, and the whole batch goes
sq "INSERT INTO records(kind, id, state, created_ms, updated_ms, data) VALUES ('alarm', 'ALM-00000014', 'RAISED', 1, 1, '{\"id\":\"ALM-00000014\",\"state\":\"RAISED\"}')"
FAILED0=$(counter prison commit_failed)
OUT=$(raise)
assert_eq "the raise is refused store_error" store_error "$(echo "$OUT" | json .error.code)"
assert_eq "the batch was rolled back (counted)" $((FAILED0 + 1)) "$(counter prison commit_failed)"
assert_contains "and logged" "group commit of" "$(cat "$XZ_T/n1.log")"
assert_eq "the sequence is where it was" 13 "$(sq "SELECT n FROM seq WHERE kind = 'alarm'")"
assert_eq "no history of it" 0 "$(sq "SELECT count(*) FROM history WHERE kind = 'alarm' AND id = 'ALM-00000014'")"
check "reads still served" xz call prison.alarm.list "{$A}"
sq "DELETE FROM records WHERE kind = 'alarm' AND id = 'ALM-00000014'"
assert_eq "with that record gone the next raise takes the id" ALM-00000014 "$(raise | json .id)"
assert_eq "four alarms in all" 4 "$(alarms)"

# every stored alarm has its CREATE record in the chain, nothing else does
wait_until 60 'test "$(sqlite3 -cmd ".timeout 10000" "$DATA/audit.db" "SELECT count(*) FROM audit_log WHERE action = '"'CREATE'"' AND subject_type = '"'alarm'"'")" = 4' ||
	fail "the four alarms' CREATE records reach the chain"
assert_eq "their ids" "ALM-00000001 ALM-00000002 ALM-00000013 ALM-00000014" \
	"$(sqlite3 -cmd ".timeout 10000" "$DATA/audit.db" "SELECT subject_id FROM audit_log WHERE action = 'CREATE' AND subject_type = 'alarm' ORDER BY seq" | tr '\n' ' ' | sed 's/ $//')"
check "the chain verifies" xz audit verify
stop_node
finish
