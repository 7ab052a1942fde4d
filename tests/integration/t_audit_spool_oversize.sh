#!/usr/bin/env bash
# A spooled audit record the bus refuses as too large (bus.max_payload) can
# never reach the audit chain: it is set aside (table audit_spool_aside,
# with the reason), logged and counted, and the records after it still
# drain in order; before, the drain retried it forever and every later
# audit record waited behind it. A batch's row (the records of one group
# commit together) that is too large is split into its records first: the
# small one reaches the chain, the big one is set aside.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip_test "no sqlite3 shell"
xz_setup
A='"actor":{"user":"officer-7","role":"area_officer","agency":"prison-01"}'
# day-long SLA clocks: no escalation record joins the spool meanwhile
OPTS='options = { alarm_ack_sla_s = 86400; alarm_ack_sla_l2_s = 86400; alarm_ack_sla_l3_s = 86400; };'
DATA=$XZ_T/n1/data
sq() { sqlite3 -cmd ".timeout 5000" "$@"; }
raise() { # N: raise N alarms (each must be stored)
	local i
	for i in $(seq 1 "$1"); do
		check "alarm raised" xz call prison.alarm.raise "{$A,\"kind\":\"FIRE\",\"location\":\"5101.01.1.101\",\"source\":\"sensor\"}"
	done
}

# 1. prison without the audit plugin: three alarms wait in the spool
xz_config <<EOF2
plugins = ( { name = "prison"; kind = "so"; $OPTS } );
EOF2
start_node
raise 3
stop_node
# a record of 1.2 MB, larger than the default bus.max_payload (1 MiB):
# what a node whose max_payload was lowered finds in its spool
sq "$DATA/prison.db" "INSERT INTO audit_spool(rid, topic, data) VALUES ('sp-oversize', 'audit.prison.create', '{\"who\":\"officer-7\",\"action\":\"CREATE\",\"subject_type\":\"alarm\",\"subject_id\":\"ALM-BIG\",\"outcome\":\"ok\",\"service\":\"prison\",\"purpose\":\"' || replace(hex(zeroblob(600000)), '0', 'x') || '\"}')"
assert_eq "the spool holds the big record" 1 "$(sq "$DATA/prison.db" "SELECT count(*) FROM audit_spool WHERE length(data) > 1048576")"
# and a batch's row of two records, a small one and one of 1.2 MB
REC='{"who":"officer-7","action":"CREATE","subject_type":"alarm","outcome":"ok","service":"prison"'
sq "$DATA/prison.db" "INSERT INTO audit_spool(id, rid, topic, data, n) VALUES ((SELECT max(id) FROM audit_spool) + 2, '*', '*', '{\"id\":\"sp-batch-small\",\"topic\":\"audit.prison.create\",\"data\":$REC,\"subject_id\":\"ALM-SMALL\"}},{\"id\":\"sp-batch-big\",\"topic\":\"audit.prison.create\",\"data\":$REC,\"subject_id\":\"ALM-BIG2\",\"purpose\":\"' || replace(hex(zeroblob(600000)), '0', 'x') || '\"}}', 2)"
assert_eq "the batch's row holds two records" 2 "$(sq "$DATA/prison.db" "SELECT n FROM audit_spool WHERE topic = '*' AND data LIKE '%sp-batch-small%'")"

# 2. with the audit plugin: the spool drains past the big record
xz_config <<EOF2
plugins = ( { name = "audit"; kind = "so"; },
            { name = "prison"; kind = "so"; $OPTS } );
EOF2
start_node
raise 2
wait_until 120 'test "$(sq "$DATA/prison.db" "SELECT count(*) FROM audit_spool")" = 0' ||
	fail "the spool drains ($(sq "$DATA/prison.db" "SELECT count(*) FROM audit_spool") left)"
alarms=$(sq "$DATA/prison.db" "SELECT count(*) FROM records WHERE kind = 'alarm'")
assert_eq "five alarms stored" 5 "$alarms"
wait_until 60 'test "$(sq "$DATA/audit.db" "SELECT count(DISTINCT subject_id) FROM audit_log WHERE action = '"'CREATE'"' AND subject_type = '"'alarm'"' AND subject_id LIKE '"'ALM-0%'"'")" = 5' ||
	fail "every alarm has its CREATE record in the chain"
assert_eq "the batch's small record is in the chain" 1 "$(sq "$DATA/audit.db" "SELECT count(*) FROM audit_log WHERE subject_id = 'ALM-SMALL' AND event_id = 'sp-batch-small'")"
assert_eq "the big records are not in the chain" 0 "$(sq "$DATA/audit.db" "SELECT count(*) FROM audit_log WHERE subject_id IN ('ALM-BIG', 'ALM-BIG2')")"
assert_eq "they are set aside, with the reason" "sp-batch-big|audit.prison.create|too_large sp-oversize|audit.prison.create|too_large" \
	"$(sq "$DATA/prison.db" "SELECT rid, topic, reason FROM audit_spool_aside ORDER BY rid" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "their text is kept" 2 "$(sq "$DATA/prison.db" "SELECT count(*) FROM audit_spool_aside WHERE length(data) > 1048576")"
assert_eq "counted" 2 "$(counter prison audit_spool_set_aside)"
assert_contains "logged" "set aside in audit_spool_aside" "$(cat "$XZ_T/n1.log")"
check "the chain verifies" xz audit verify
stop_node
finish
