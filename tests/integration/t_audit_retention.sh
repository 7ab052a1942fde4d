#!/usr/bin/env bash
# Retention never deletes silently: records older than retention_days are
# pruned only as a prefix, in the same transaction as a PRUNE checkpoint
# record carrying the hash of the pruned prefix, and the chain still
# verifies from there; a prefix removed without one is caught.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
xz_config <<'EOF2'
plugins = ( { name = "audit"; kind = "so"; options = { prune_interval_s = 60; }; } );
EOF2
LONG="-t 600000" # generous deadlines (a loaded machine, clock jumps)
DAY=86400000
DATA=$XZ_T/n1/data
ev() { xz pub audit.prison.prisoner.view "{\"who\":\"$1\",\"action\":\"VIEW\",\"subject_type\":\"prisoner\",\"subject_id\":\"A1\"}" >/dev/null; }
start_node
ev old-1; ev old-2; ev old-3
stop_node
H3=$(sqlite3 "$DATA/audit.db" "SELECT hash FROM audit_log WHERE seq = 3")
start_node
check "advance 100 days" xz call $LONG xz.sys.clock.advance "{\"ms\":$((100 * DAY))}"
ev new-4; ev new-5
check "nothing pruned at 100 days" xz audit verify $LONG
assert_eq "5 records" "ok: 5 records" "$OUT"
check "advance 84 more days (184 > 183)" xz call $LONG xz.sys.clock.advance "{\"ms\":$((84 * DAY))}"
wait_for 20 sh -c "'$XZ_BIN' call -t 600000 -c '$XZ_CFG' audit.verify | jq -e '.pruned_to == 3'" ||
	fail "records 1..3 not pruned after 184 days"
# The checkpoint survives a restart (and the clock is real time again).
stop_node
start_node
check "verify after the prune" xz call audit.verify
assert_eq "ok, 3 records left, 1..3 pruned" "true 3 3" "$(jq -r '"\(.ok) \(.records) \(.pruned_to)"' <<<"$OUT")"
check "the checkpoint record" xz audit query --subject audit_log:1-3
assert_eq "PRUNE record 6 with the prefix's hash" "6 PRUNE audit 1 3 $H3 183 pruned 3 records" \
	"$(jq -r '"\(.seq) \(.action) \(.who) \(.detail.pruned_from) \(.detail.pruned_to) \(.detail.pruned_hash) \(.detail.retention_days) \(.outcome)"' <<<"$OUT")"
check "the younger records stay" xz audit query --subject prisoner:A1
assert_eq "new-4 new-5" "new-4 new-5" "$(jq -r .who <<<"$OUT" | paste -sd' ')"
stop_node
assert_contains "the prune is logged" "pruned records 1..3 (older than 183 days); checkpoint record 6" "$(cat "$XZ_T/n1.log")"
check "offline verify after the prune" "$XZ_BIN" audit verify -f "$DATA/audit.db"
assert_eq "says so" "ok: 5 records (last seq 8, earlier ones pruned)" "$OUT"

cp "$DATA/audit.db" "$XZ_T/a.db"; cp "$DATA/audit.head" "$XZ_T/a.head"
sqlite3 "$XZ_T/a.db" "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 6"
assert_exit "the PRUNE record deleted" 1 "$XZ_BIN" audit verify -f "$XZ_T/a.db"
assert_contains "caught at record 6" "FAIL: record 6: deleted:" "$OUT"

cp "$DATA/audit.db" "$XZ_T/b.db"; cp "$DATA/audit.head" "$XZ_T/b.head"
H7=$(sqlite3 "$DATA/audit.db" "SELECT hash FROM audit_log WHERE seq = 7")
sqlite3 "$XZ_T/b.db" "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq <= 7;
	UPDATE audit_checkpoint SET last_seq = 7, last_hash = '$H7'"
assert_exit "a prefix cut with a forged checkpoint" 1 "$XZ_BIN" audit verify -f "$XZ_T/b.db"
assert_contains "caught: no PRUNE record accounts for it" "FAIL: record 1: deleted: records 1..7 are gone but no PRUNE record" "$OUT"

xz_config "$XZ_T/bad.cfg" <<'EOF2'
plugins = ( { name = "audit"; kind = "so"; options = { retention_days = 30; }; } );
EOF2
assert_exit "retention under 183 days is refused" 1 "$XZ_BIN" check -c "$XZ_T/bad.cfg"
assert_contains "naming the option" "retention_days" "$ERR"
finish
