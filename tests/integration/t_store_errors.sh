#!/usr/bin/env bash
# A damaged store is an error, never an empty result. While the node runs,
# every leaf page of the `records` table of prison.db (the C plugins' common
# store) and of legal.db (the Lua store) is overwritten with garbage; the
# node's connection is made to read the file again (a write through the WAL
# from outside, as a checkpoint or another process would). Then
# prison.alarm.list, prison.alarm.stats, legal.aid.list and legal.aid.get
# must answer store_error naming the file (before the fix: empty lists,
# "0 of N"). Stopped, the node refuses to start on the damaged store
# (PRAGMA quick_check).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip_test "no sqlite3 shell"
sqlite3 :memory: "SELECT count(*) FROM dbstat" >/dev/null 2>&1 ||
	skip_test "the sqlite3 shell has no dbstat table (pages cannot be found)"
xz_setup
. "$XZ_SRC/plugins/legal/tests/flowlib.sh"
flow_skip_unless audit prison legal
# SLA clocks of a day: no escalation writes an alarm while its pages are
# damaged (a page written again goes to the WAL, whole)
xz_config <<EOF2
lua = { time_limit_ms = 5000; };
plugins = (
  { name = "audit"; kind = "so"; },
  { name = "prison"; kind = "so"; options = { seed_demo_data = true;
      alarm_ack_sla_s = 86400; alarm_ack_sla_l2_s = 86400;
      alarm_ack_sla_l3_s = 86400; }; },
  { name = "legal"; kind = "lua"; path = "$LEGAL_DIR/legal.lua"; }
);
EOF2
start_node
DATA=$XZ_T/n1/data
A='"actor":{"user":"officer-7","role":"area_officer","agency":"prison-01"}'
sq() { sqlite3 -cmd ".timeout 10000" "$@"; }

for i in $(seq 1 20); do
	xz call prison.alarm.raise "{$A,\"kind\":\"FIRE\",\"location\":\"5101.01.1.10$(((i - 1) % 4 + 1))\",\"source\":\"sensor\",\"description\":\"$(printf 'alarm %0200d' "$i")\"}" >/dev/null ||
		fail "alarm $i raised"
	lcall legal.aid.open "\"applicant_type\":\"CITIZEN\",\"matter\":\"$(printf 'wages %0300d' "$i")\"" >/dev/null ||
		fail "application $i opened"
done
check "alarms are listed" xz call prison.alarm.list "{$A,\"limit\":100}"
alarms=$(echo "$OUT" | jq -r '.items | length')
assert_eq "20 alarms before" 20 "$alarms"
check "applications are listed" lcall legal.aid.list
assert_eq "20 applications before" 20 "$(echo "$OUT" | jq -r .count)"
AID=$(echo "$OUT" | jq -r '.items[0].id')

# damage DB: every leaf page of table `records`, with the node running
damage() {
	local db=$1 size pages p n=0 v
	# everything in the main file first (nothing newer left in the WAL)
	assert_eq "$(basename "$db"): checkpointed" "0" "$(sq "$db" "PRAGMA wal_checkpoint(TRUNCATE)" | cut -d'|' -f1)"
	size=$(sq "$db" "PRAGMA page_size")
	pages=$(sq "$db" "SELECT pageno FROM dbstat WHERE name = 'records' AND pagetype = 'leaf' ORDER BY pageno")
	for p in $pages; do
		head -c "$size" /dev/zero | tr '\0' '\377' |
			dd of="$db" bs="$size" seek=$((p - 1)) count=1 conv=notrunc 2>/dev/null
		n=$((n + 1))
	done
	echo "  .. $(basename "$db"): $n leaf pages of records overwritten"
	[ "$n" -ge 2 ] || fail "$(basename "$db"): several pages damaged ($n)"
	# a write through the WAL from outside: the node's connection sees the
	# change and reads its pages from the file again
	v=$(sq "$db" "PRAGMA user_version")
	sq "$db" "PRAGMA user_version = $v"
}

echo "-- prison.db (the common store of the C plugins)"
damage "$DATA/prison.db"
assert_exit "alarm.list is refused" 1 xz call prison.alarm.list "{$A,\"limit\":100}"
assert_eq "with store_error" store_error "$(echo "$OUT" | jq -r .error.code)"
assert_contains "naming the file" "$DATA/prison.db" "$(echo "$OUT" | jq -r .error.message)"
assert_exit "alarm.stats is refused" 1 xz call prison.alarm.stats "{$A}"
assert_eq "with store_error" store_error "$(echo "$OUT" | jq -r .error.code)"
assert_exit "alarm.get is refused" 1 xz call prison.alarm.get "{$A,\"id\":\"ALM-00000001\"}"
assert_eq "with store_error, not not_found" store_error "$(echo "$OUT" | jq -r .error.code)"
assert_exit "a change on the damaged store is refused" 1 \
	xz call prison.alarm.raise "{$A,\"kind\":\"FIRE\",\"location\":\"5101.01.1.101\",\"source\":\"sensor\"}"
assert_eq "with store_error" store_error "$(echo "$OUT" | jq -r .error.code)"

echo "-- legal.db (the Lua store)"
damage "$DATA/legal.db"
assert_exit "legal.aid.list is refused" 1 lcall legal.aid.list
assert_eq "with store_error" store_error "$(echo "$OUT" | jq -r .error.code)"
assert_contains "naming the file" "$DATA/legal.db" "$(echo "$OUT" | jq -r .error.message)"
assert_exit "legal.aid.get is refused" 1 lcall legal.aid.get "\"id\":\"$AID\",\"purpose\":\"t\""
assert_eq "with store_error, not not_found" store_error "$(echo "$OUT" | jq -r .error.code)"
assert_exit "a change on the damaged store is refused" 1 lcall legal.aid.receive "\"id\":\"$AID\""
assert_eq "with store_error" store_error "$(echo "$OUT" | jq -r .error.code)"
check "the node still answers" xz call xz.sys.ping '{}'
check "the audit chain is whole" "$XZ_BIN" audit verify -c "$XZ_CFG"

stop_node
run_refused "on the damaged stores" "is damaged (PRAGMA quick_check"
finish
