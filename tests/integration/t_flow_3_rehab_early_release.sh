#!/usr/bin/env bash
# t_flow_3_rehab_early_release.sh - DOMAIN.md flow 3 on a real node
# (rehab, collab, audit), through the bus only: a resident serves a year
# (kernel clock advanced), passes an approved ONE_YEAR assessment; the
# centre proposes EARLY_RELEASE and sends it to public security as a
# REHAB_DECISION case transfer; the police receive, accept and decide it
# and approve the disposition; the resident is released; the centre hands
# the case over to the community (a second transfer, received and
# accepted). Early release before a year, or without the assessment, is
# refused.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
. "$XZ_SRC/plugins/legal/tests/flowlib.sh"
flow_skip_unless rehab collab
WITH_AUDIT=0
if flow_have audit; then WITH_AUDIT=1; fi
if [ $WITH_AUDIT = 1 ]; then flow_node rehab collab audit; else flow_node rehab collab; fi
D=$((24 * 3600 * 1000))
CENTRE='"actor":{"user":"doctor-4","role":"ASSESSOR","agency":"rehab_centre-1"}'
POLICE='"actor":{"user":"ps-officer-9","role":"OFFICER","agency":"police-1"}'
CC='"actor":{"user":"cc-officer-2","role":"OFFICER","agency":"community_corrections-1"}'
rc() { xz call "$1" "{$CENTRE,$2}"; }

RID=R9001
check "admitted" rc rehab.resident.admit "\"id\":\"$RID\",\"name\":\"Chen Jie\",
  \"decision_no\":\"X-PSB-2026-0042\",\"deciding_authority\":\"X City Public Security Bureau\""
assessment() { # KIND -> id of an approved passing assessment
	local id
	id=$(rc rehab.assessment.record "\"resident_id\":\"$RID\",\"kind\":\"$1\",
	  \"detox\":{\"drug_test_negative\":true,\"withdrawal_medication_stopped\":true,
	  \"acute_symptoms_gone\":true,\"no_marked_protracted_symptoms\":true,
	  \"no_drug_induced_psychosis\":true},\"psycho_physical\":\"PASS\",
	  \"behaviour\":\"PASS\",\"social\":\"GOOD\"" | jq -r .id)
	rc rehab.assessment.approve "\"id\":\"$id\"" >/dev/null
	echo "$id"
}
EARLY='"resident_id":"'$RID'","type":"EARLY_RELEASE","grounds":"passed the one-year assessment"'

echo "-- before a year: refused"
assert_exit "early release at day 0" 1 rc rehab.disposition.propose "$EARLY"
assert_contains "says why" "early release needs at least 365" "$OUT"

echo "-- a year served, ONE_YEAR assessment passed"
advance $((366 * D))
assert_exit "no ONE_YEAR assessment yet" 1 rc rehab.disposition.propose "$EARLY"
assert_contains "says why" "no approved, passing ONE_YEAR assessment" "$OUT"
AS=$(assessment ONE_YEAR)
assert_eq "assessment approved" APPROVED \
	"$(rc rehab.assessment.get "\"id\":\"$AS\",\"purpose\":\"flow 3\"" | jq -r .state)"
DSP=$(rc rehab.disposition.propose "$EARLY")
DID=$(echo "$DSP" | jq -r .id)
assert_eq "EARLY_RELEASE proposed on the assessment" "PROPOSED|$AS" \
	"$(echo "$DSP" | jq -r '"\(.state)|\(.basis)"')"
assert_exit "release refused before the decision" 1 rc rehab.resident.release "\"id\":\"$RID\""

echo "-- case transfer to public security"
H1=$(printf 'early release proposal %s' "$DID" | sha256sum | cut -d' ' -f1)
H2=$(printf 'assessment %s' "$AS" | sha256sum | cut -d' ' -f1)
T=$(xz call collab.transfer.send "{$CENTRE,\"type\":\"REHAB_DECISION\",\"from_agency\":\"REHAB_CENTRE\",
  \"to_agency\":\"POLICE\",\"subject\":{\"type\":\"disposition\",\"id\":\"$DID\"},\"due_days\":15,
  \"documents\":[{\"name\":\"proposal.pdf\",\"media_type\":\"application/pdf\",\"sha256\":\"$H1\",\"size\":1200},
                 {\"name\":\"one-year-assessment.pdf\",\"media_type\":\"application/pdf\",\"sha256\":\"$H2\",\"size\":3400}]}")
TID=$(echo "$T" | jq -r '.transfer_id // .id')
assert_eq "sent" SENT "$(echo "$T" | jq -r .state)"
check "police receive" xz call collab.transfer.receive "{$POLICE,\"transfer_id\":\"$TID\"}"
check "police accept" xz call collab.transfer.accept "{$POLICE,\"transfer_id\":\"$TID\"}"
assert_eq "decided" DECIDED "$(xz call collab.transfer.decide "{$POLICE,\"transfer_id\":\"$TID\",\"decision\":\"APPROVED X-PSB-2027-0007\"}" | jq -r .state)"
assert_eq "disposition approved by the authority" APPROVED \
	"$(xz call rehab.disposition.approve "{$POLICE,\"id\":\"$DID\",\"decision_no\":\"X-PSB-2027-0007\"}" | jq -r .state)"
check "transfer closed" xz call collab.transfer.close "{$POLICE,\"transfer_id\":\"$TID\"}"

echo "-- released, handed over to the community"
assert_eq "resident released" RELEASED \
	"$(rc rehab.resident.release "\"id\":\"$RID\",\"reason\":\"early release $DID\"" | jq -r .state)"
H3=$(printf 'release certificate %s' "$RID" | sha256sum | cut -d' ' -f1)
T2=$(xz call collab.transfer.send "{$CENTRE,\"type\":\"REHAB_DECISION\",\"from_agency\":\"REHAB_CENTRE\",
  \"to_agency\":\"COMMUNITY_CORRECTIONS\",\"subject\":{\"type\":\"resident\",\"id\":\"$RID\"},
  \"documents\":[{\"name\":\"release-certificate.pdf\",\"media_type\":\"application/pdf\",\"sha256\":\"$H3\",\"size\":900}]}")
TID2=$(echo "$T2" | jq -r '.transfer_id // .id')
check "community receives" xz call collab.transfer.receive "{$CC,\"transfer_id\":\"$TID2\"}"
assert_eq "community accepts the handoff" ACCEPTED \
	"$(xz call collab.transfer.accept "{$CC,\"transfer_id\":\"$TID2\"}" | jq -r .state)"

if [ $WITH_AUDIT = 1 ]; then
	sleep 0.3
	assert_contains "audit: disposition created and approved" "CREATE UPDATE" \
		"$(audit_rows "\"subject_id\":\"$DID\"" | jq -r .action | tr '\n' ' ')"
	assert_contains "audit: resident released" "UPDATE" \
		"$(audit_rows "\"subject_id\":\"$RID\"" | jq -r .action | tr '\n' ' ')"
	assert_eq "the chain verifies" true "$(xz call audit.verify "{$CENTRE}" | jq -r .ok)"
else
	skip "audit checks: the audit plugin is not built"
fi
stop_node
finish
