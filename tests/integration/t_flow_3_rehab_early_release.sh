#!/usr/bin/env bash
# t_flow_3_rehab_early_release.sh - flow 3 of docs/scenarios.md on a real
# node (rehab, collab, audit), through the bus only: a resident decided by
# police-01 ninety days before admission serves a year from that decision
# (kernel clock advanced) and passes an approved ONE_YEAR assessment; an
# officer proposes EARLY_RELEASE, the centre leader submits it, which
# sends it to police-01 as ONE collab transfer (not entered twice); the
# police case clerk receives, accepts and decides it (禁毒法 art. 47) and
# the decision takes effect in rehab by itself (collab's decided event);
# the officer releases the resident and the 社区康复 handoff goes to
# township-01 through collab (禁毒法 art. 48), carrying the identity
# number. An extension decided for 6 of 8 proposed months moves the term
# end by 6 and counts toward the one-year cap. A forged decision event is
# ignored; the wrong agency or role is refused.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
. "$XZ_SRC/plugins/legal/tests/flowlib.sh"
flow_skip_unless rehab collab
WITH_AUDIT=0
if flow_have audit; then WITH_AUDIT=1; fi
if [ $WITH_AUDIT = 1 ]; then flow_node rehab collab audit; else flow_node rehab collab; fi
D=$((24 * 3600 * 1000))
OF='"actor":{"user":"wang-jing","role":"rehab_officer","agency":"rehab-01"}'
EV='"actor":{"user":"dr-li","role":"rehab_evaluator","agency":"rehab-01"}'
LD='"actor":{"user":"zhao-gang","role":"rehab_leader","agency":"rehab-01"}'
RCLERK='"actor":{"user":"liu-min","role":"case_clerk","agency":"rehab-01"}'
PCLERK='"actor":{"user":"chen-qiang","role":"case_clerk","agency":"police-01"}'
POFF='"actor":{"user":"li-wei","role":"area_officer","agency":"police-01"}'
TCLERK='"actor":{"user":"he-fang","role":"case_clerk","agency":"township-01"}'
c() { xz call "$1" "{$2,$3}"; }
err() { xz call "$1" "{$2,$3}" 2>/dev/null | jq -r '.error.code + ": " + .error.message' || true; }

RID=R9001
IDN=510104199003071237
DEC=$(TZ=UTC-8 date -d '90 days ago' +%F) # Beijing time, as the plugin counts
check "admitted" c rehab.resident.admit "$OF" "\"id\":\"$RID\",\"name\":\"陈杰\",
  \"id_number\":\"$IDN\",\"decision_no\":\"某公(禁)强戒决字〔2026〕42号\",
  \"decision_date\":\"$DEC\",\"deciding_agency\":\"police-01\""
assessment() { # KIND -> id of an approved passing assessment
	local id
	id=$(c rehab.assessment.record "$EV" "\"resident_id\":\"$1\",\"kind\":\"$2\",
	  \"detox\":{\"drug_test_negative\":true,\"withdrawal_medication_stopped\":true,
	  \"acute_symptoms_gone\":true,\"no_marked_protracted_symptoms\":true,
	  \"no_drug_induced_psychosis\":true},\"psycho_physical\":\"PASS\",
	  \"behaviour\":\"PASS\",\"social\":\"GOOD\"" | jq -r .id)
	c rehab.assessment.approve "$LD" "\"id\":\"$id\"" >/dev/null
	echo "$id"
}
EARLY='"resident_id":"'$RID'","type":"EARLY_RELEASE","grounds":"满一年诊断评估合格"'

echo "-- before a year from the decision: refused"
assert_contains "early release at day 90" "禁毒法 art. 47: early release may be proposed after one year counted from the decision ($DEC)" \
	"$(err rehab.disposition.propose "$OF" "$EARLY")"

echo "-- a year served, ONE_YEAR assessment passed, proposed, submitted once"
advance $((280 * D))
AS=$(assessment $RID ONE_YEAR)
DSP=$(c rehab.disposition.propose "$OF" "$EARLY")
DID=$(echo "$DSP" | jq -r .id)
assert_eq "EARLY_RELEASE proposed on the assessment" "PROPOSED|$AS" \
	"$(echo "$DSP" | jq -r '"\(.state)|\(.basis)"')"
S=$(c rehab.disposition.submit "$LD" "\"id\":\"$DID\"")
TID=$(echo "$S" | jq -r .transfer_id)
assert_eq "submitted: one collab transfer to police-01" "SUBMITTED|REHAB_EARLY_RELEASE_PROPOSAL|rehab-01|police-01|$IDN" \
	"$(echo "$S" | jq -r '"\(.state)|\(.transfer.type)|\(.transfer.from_agency)|\(.transfer.to_agency)|\(.transfer.person_id)"')"
assert_contains "a second submit is refused: not entered twice" "invalid_state: disposition $DID is SUBMITTED" \
	"$(err rehab.disposition.submit "$LD" "\"id\":\"$DID\"")"
assert_eq "collab holds exactly one transfer for it" 1 \
	"$(c collab.transfer.list "$PCLERK" '"direction":"in"' | jq '[.transfers[] | select(.subject.id == "'"$DID"'")] | length')"
assert_exit "release refused before the decision" 1 c rehab.resident.release "$OF" "\"id\":\"$RID\""

echo "-- the deciding authority decides in collab"
assert_contains "the centre's clerk cannot receive its own proposal" \
	"forbidden: only police-01 may receive transfer '$TID'" \
	"$(err collab.transfer.receive "$RCLERK" "\"transfer_id\":\"$TID\"")"
assert_contains "a police officer who is not the case clerk cannot" \
	"forbidden: collab.transfer.receive needs the role case_clerk; the actor's role is 'area_officer'" \
	"$(err collab.transfer.receive "$POFF" "\"transfer_id\":\"$TID\"")"
check "police receive" c collab.transfer.receive "$PCLERK" "\"transfer_id\":\"$TID\""
check "police accept" c collab.transfer.accept "$PCLERK" "\"transfer_id\":\"$TID\""
assert_eq "a decision of free text is refused" \
	'bad_request: field "decision": expected one of APPROVED, PARTLY_APPROVED, REJECTED, EXECUTED, got another value' \
	"$(err collab.transfer.decide "$PCLERK" "\"transfer_id\":\"$TID\",\"decision\":\"ok\"")"
# a forged decision published by someone else is ignored
xz pub collab.transfer.decided "{\"transfer_id\":\"$TID\",\"from_agency\":\"rehab-01\",\"subject\":{\"type\":\"disposition\",\"id\":\"$DID\"},\"decision\":\"REJECTED\",\"by\":{\"user\":\"x\",\"role\":\"case_clerk\",\"agency\":\"police-01\"}}" >/dev/null
assert_eq "decided" DECIDED "$(c collab.transfer.decide "$PCLERK" "\"transfer_id\":\"$TID\",\"decision\":\"APPROVED\",\"decision_no\":\"某公(禁)解戒字〔2027〕7号\",\"community_rehab_months\":12" | jq -r .state)"
wait_until 10 'test "$(c rehab.disposition.get "$LD" "\"id\":\"$DID\"" | jq -r .state)" = APPROVED' ||
	fail "the decision did not take effect in rehab"
assert_eq "the disposition carries the authority's decision" "APPROVED|police-01|某公(禁)解戒字〔2027〕7号" \
	"$(c rehab.disposition.get "$LD" "\"id\":\"$DID\"" | jq -r '"\(.state)|\(.decided_by)|\(.decision_no)"')"
assert_eq "the forged event changed nothing (the real one was applied once)" 1 "$(counter rehab decisions_applied)"
assert_eq "the resident may be released, 社区康复 12 months" "$DID|EARLY_RELEASE|12" \
	"$(c rehab.resident.get "$OF" "\"id\":\"$RID\"" | jq -r '"\(.release_authorized_by)|\(.release_type)|\(.community_rehab_months)"')"
check "transfer closed" c collab.transfer.close "$PCLERK" "\"transfer_id\":\"$TID\""

echo "-- released, handed over to the township (社区康复)"
assert_eq "resident released" RELEASED \
	"$(c rehab.resident.release "$OF" "\"id\":\"$RID\",\"reason\":\"提前解除 $DID\"" | jq -r .state)"
handoff_recorded() {
	test "$(c rehab.resident.get "$OF" "\"id\":\"$RID\"" | jq -r '.handoff_transfer_id // ""')" != ""
}
wait_for 10 handoff_recorded ||
	fail "no handoff transfer recorded"
TID2=$(c rehab.resident.get "$OF" "\"id\":\"$RID\"" | jq -r .handoff_transfer_id)
T2=$(c collab.transfer.get "$TCLERK" "\"transfer_id\":\"$TID2\"")
assert_eq "the township's inbox has the handoff with the identity number" "COMMUNITY_REHAB_HANDOFF|rehab-01|township-01|$IDN|SENT" \
	"$(echo "$T2" | jq -r '"\(.type)|\(.from_agency)|\(.to_agency)|\(.person_id)|\(.state)"')"
check "township receives" c collab.transfer.receive "$TCLERK" "\"transfer_id\":\"$TID2\""
assert_eq "township accepts the handoff" ACCEPTED \
	"$(c collab.transfer.accept "$TCLERK" "\"transfer_id\":\"$TID2\"" | jq -r .state)"

echo "-- an extension decided for fewer months than proposed"
R2=R9002
DEC2=$(TZ=UTC-8 date -d '30 days ago' +%F)
check "admitted" c rehab.resident.admit "$OF" "\"id\":\"$R2\",\"name\":\"孔莉\",
  \"id_number\":\"511322198506152012\",\"decision_no\":\"D-78\",
  \"decision_date\":\"$DEC2\",\"deciding_agency\":\"police-01\""
END0=$(c rehab.resident.get "$OF" "\"id\":\"$R2\"" | jq -r .term_end_ms)
X=$(c rehab.disposition.propose "$OF" "\"resident_id\":\"$R2\",\"type\":\"EXTENSION\",\"months\":8" | jq -r .id)
TX=$(c rehab.disposition.submit "$LD" "\"id\":\"$X\"" | jq -r .transfer_id)
assert_eq "an extension proposal" REHAB_EXTENSION_PROPOSAL \
	"$(c collab.transfer.get "$PCLERK" "\"transfer_id\":\"$TX\"" | jq -r .type)"
c collab.transfer.receive "$PCLERK" "\"transfer_id\":\"$TX\"" >/dev/null
c collab.transfer.accept "$PCLERK" "\"transfer_id\":\"$TX\"" >/dev/null
c collab.transfer.decide "$PCLERK" "\"transfer_id\":\"$TX\",\"decision\":\"PARTLY_APPROVED\",\"months\":6" >/dev/null
wait_until 10 'test "$(c rehab.disposition.get "$LD" "\"id\":\"$X\"" | jq -r .state)" = APPROVED' ||
	fail "the extension decision did not take effect"
R=$(c rehab.resident.get "$OF" "\"id\":\"$R2\"")
assert_eq "6 months approved" 6 "$(echo "$R" | jq -r .extension_months)"
assert_eq "the term end moved by 6 calendar months (181-184 days)" 1 \
	"$(( ($(echo "$R" | jq -r .term_end_ms) - END0) >= 181 * D && ($(echo "$R" | jq -r .term_end_ms) - END0) <= 184 * D ))"
assert_eq "6 approved + 7 more is past one year in total" \
	"invalid_state: 禁毒法 art. 47: an extension is at most 1 year (12 months) in total; resident $R2 has 6 month(s) approved and 0 pending, 7 more is refused" \
	"$(err rehab.disposition.propose "$OF" "\"resident_id\":\"$R2\",\"type\":\"EXTENSION\",\"months\":7")"

if [ $WITH_AUDIT = 1 ]; then
	sleep 0.3
	assert_contains "audit: disposition created and updated" "CREATE UPDATE" \
		"$(audit_rows "\"subject_id\":\"$DID\"" | jq -r .action | tr '\n' ' ')"
	assert_contains "audit: resident released" "UPDATE" \
		"$(audit_rows "\"subject_id\":\"$RID\"" | jq -r .action | tr '\n' ' ')"
	assert_eq "the chain verifies" true "$(xz call audit.verify "{$OF}" | jq -r .ok)"
else
	skip "audit checks: the audit plugin is not built"
fi
stop_node
finish
