#!/usr/bin/env bash
# t_flow_5_parole_community_correction.sh - flow 5 of docs/scenarios.md on a real node
# (prison, collab, audit), through the bus only: a prisoner released on
# parole; the court sends its 减刑/假释裁定书 (COMMUTATION_PAROLE_RULING) to
# community corrections, with the two clocks of 社区矫正法 art. 20 (notify:
# received within 5 days; serve the documents: accepted in full within 10
# days). One transfer meets both,
# another misses both and collab.transfer.overdue is published for each;
# a resent identical package is deduplicated.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
. "$XZ_SRC/plugins/legal/tests/flowlib.sh"
flow_skip_unless prison collab
WITH_AUDIT=0
if flow_have audit; then WITH_AUDIT=1; fi
if [ $WITH_AUDIT = 1 ]; then flow_node prison collab audit; else flow_node prison collab; fi
S=1000
D=$((24 * 3600 * S))
PRISON='"actor":{"user":"officer-7","role":"OFFICER","agency":"prison-1"}'
# the prison's 狱政科 officer records the parole in the register
. "$(dirname "$0")/prison_actors.sh"
CC='"actor":{"user":"cc-officer-2","role":"case_clerk","agency":"cc-01"}'
COURT='"actor":{"user":"court-clerk-1","role":"case_clerk","agency":"court-01"}'
HASH1=$(printf 'parole ruling 5101000003' | sha256sum | cut -d' ' -f1)
HASH2=$(printf 'release certificate 5101000003' | sha256sum | cut -d' ' -f1)
HASH3=$(printf 'parole ruling 5101000004' | sha256sum | cut -d' ' -f1)
pkg() { # PRISONER HASH_A HASH_B
	echo "$COURT,\"type\":\"COMMUTATION_PAROLE_RULING\",\"from_agency\":\"court-01\",
	  \"to_agency\":\"cc-01\",\"subject\":{\"type\":\"prisoner\",\"id\":\"$1\"},
	  \"documents\":[{\"name\":\"parole-ruling.pdf\",\"media_type\":\"application/pdf\",\"sha256\":\"$2\",\"size\":48213},
	                 {\"name\":\"release-certificate.pdf\",\"media_type\":\"application/pdf\",\"sha256\":\"$3\",\"size\":20110}]"
}
sub_bg 'collab.transfer.overdue' 10 "$XZ_T/overdue.txt"
SUB1=$SUB_PID

echo "-- released on parole"
for p in 5101000003 5101000004; do
	assert_eq "$p paroled" PAROLED \
		"$(xz call prison.prisoner.parole "{$ADMIN,\"id\":\"$p\",\"ruling\":\"(2026)川01刑更12号\"}" | jq -r .state)"
done

echo "-- the case transfers"
T1=$(xz call collab.transfer.send "{$(pkg 5101000003 "$HASH1" "$HASH2")}")
TID1=$(echo "$T1" | jq -r '.transfer_id // .id')
assert_eq "sent" SENT "$(echo "$T1" | jq -r .state)"
T2=$(xz call collab.transfer.send "{$(pkg 5101000004 "$HASH3" "$HASH2")}")
TID2=$(echo "$T2" | jq -r '.transfer_id // .id')
assert_eq "the same package again is deduplicated" "$TID1" \
	"$(xz call collab.transfer.send "{$(pkg 5101000003 "$HASH1" "$HASH2")}" | jq -r '.transfer_id // .id')"

advance $((4 * D))
check "T1 received on day 4" xz call collab.transfer.receive "{$CC,\"transfer_id\":\"$TID1\"}"
advance $((1 * D + S))
wait_until 5 'test "$(wc -l <"$XZ_T/overdue.txt")" -ge 1' || true
assert_eq "T2 missed the 5-day notify clock" "$TID2|notify" \
	"$(jq -r '.data | "\(.transfer_id)|\(.clock)"' "$XZ_T/overdue.txt" | head -n1)"
advance $((4 * D))
check "T1 accepted in full on day 9" xz call collab.transfer.accept "{$CC,\"transfer_id\":\"$TID1\"}"
advance $((1 * D + S))
wait_until 5 'test "$(wc -l <"$XZ_T/overdue.txt")" -ge 2' || true
assert_eq "overdue clocks, T1 none" "$TID2|notify $TID2|serve" \
	"$(jq -r '.data | "\(.transfer_id)|\(.clock)"' "$XZ_T/overdue.txt" | tr '\n' ' ' | sed 's/ $//')"
assert_exit "a prison officer cannot accept for community corrections" 1 \
	xz call collab.transfer.accept "{$PRISON,\"transfer_id\":\"$TID2\"}"
assert_eq "T1 ACCEPTED" ACCEPTED \
	"$(xz call collab.transfer.get "{$CC,\"transfer_id\":\"$TID1\",\"purpose\":\"flow 5\"}" | jq -r .state)"

if [ $WITH_AUDIT = 1 ]; then
	sleep 0.3
	AUD=$(audit_rows "\"subject_id\":\"5101000003\"" | jq -r '"\(.topic) \(.action)"' | tr '\n' ';')
	assert_contains "audit: the parole" "audit.prison" "$AUD"
	assert_contains "audit: the transfer" "audit.collab" "$AUD"
	assert_eq "the chain verifies" true "$(lcall audit.verify | jq -r .ok)"
else
	skip "audit checks: the audit plugin is not built"
fi
kill "$SUB1" 2>/dev/null || true
stop_node
finish
