#!/usr/bin/env bash
# Who may call what in rehab and collab, with real principals: the node
# maps this test's uid (auth.local) to one person at a time (restarting on
# the same data folder), so the role and agency come from the
# authenticated caller, never from the payload. Each action is tried by a
# role that may and one that may not; a payload actor naming someone else
# is refused; the leader's submit reaches collab as the rehab plugin
# relaying for the leader.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
UID_=$(id -u)
as() { # USER ROLE AGENCY: restart the node as that person
	[ -z "${NODE_UP:-}" ] || stop_node
	xz_config <<EOF2
plugins = ( { name = "rehab"; kind = "so"; options = { seed_demo_data = true; }; },
            { name = "collab"; kind = "so"; } );
auth = { local = ( { uid = $UID_; user = "$1"; agency = "$3"; roles = [ "$2" ]; } ); };
EOF2
	start_node
	NODE_UP=1
}
err() { xz call "$1" "$2" 2>/dev/null | jq -r '.error.code + ": " + .error.message' || true; }
ok() { xz call "$1" "$2" 2>/dev/null | jq -r 'if .error then .error.code + ": " + .error.message else "ok" end' || true; }
ITEMS='"detox":{"drug_test_negative":true,"withdrawal_medication_stopped":true,"acute_symptoms_gone":true,"no_marked_protracted_symptoms":true,"no_drug_induced_psychosis":true}'
ADMIT='"id":"R9001","name":"田野","id_number":"510104199003071237","decision_no":"D-1","decision_date":"'$(date -u -d '60 days ago' +%F)'","deciding_agency":"police-01"'

echo "-- 戒毒民警 rehab_officer"
as wang-jing rehab_officer rehab-01
assert_eq "admits" ok "$(ok rehab.resident.admit "{$ADMIT}")"
assert_eq "proposes an extension" ok "$(ok rehab.disposition.propose '{"resident_id":"R9001","type":"EXTENSION","months":6}')"
assert_eq "does not score assessments" \
	"forbidden: rehab.assessment.record needs the role rehab_evaluator; the actor's role is 'rehab_officer'" \
	"$(err rehab.assessment.record "{\"resident_id\":\"R9001\",\"kind\":\"DETOX\",$ITEMS}")"
assert_eq "does not submit proposals" \
	"forbidden: rehab.disposition.submit needs the role rehab_leader; the actor's role is 'rehab_officer'" \
	"$(err rehab.disposition.submit '{"id":"DSP-00000001"}')"
assert_contains "a payload actor naming the leader is refused" \
	"forbidden: rehab.disposition.submit: the payload's actor 'zhao-gang' is not the authenticated caller 'wang-jing'" \
	"$(err rehab.disposition.submit '{"id":"DSP-00000001","actor":{"user":"zhao-gang","role":"rehab_leader","agency":"rehab-01"}}')"

echo "-- 诊断评估人员 rehab_evaluator"
as dr-li rehab_evaluator rehab-01
AS=$(xz call rehab.assessment.record "{\"resident_id\":\"R9001\",\"kind\":\"DETOX\",$ITEMS}" 2>/dev/null | jq -r '.id // empty')
assert_eq "scores an assessment" AS-00000001 "$AS"
assert_eq "reads the resident" R9001 "$(xz call rehab.resident.get '{"id":"R9001"}' | jq -r .id)"
assert_eq "does not admit" \
	"forbidden: rehab.resident.admit needs the role rehab_officer; the actor's role is 'rehab_evaluator'" \
	"$(err rehab.resident.admit "{${ADMIT/R9001/R9002}}")"
assert_eq "does not approve" \
	"forbidden: rehab.assessment.approve needs the role rehab_leader; the actor's role is 'rehab_evaluator'" \
	"$(err rehab.assessment.approve '{"id":"AS-00000001"}')"

echo "-- 戒毒所领导 rehab_leader"
as zhao-gang rehab_leader rehab-01
assert_eq "approves the assessment" APPROVED "$(xz call rehab.assessment.approve '{"id":"AS-00000001"}' | jq -r .state)"
assert_eq "does not propose" \
	"forbidden: rehab.disposition.propose needs the role rehab_officer; the actor's role is 'rehab_leader'" \
	"$(err rehab.disposition.propose '{"resident_id":"R9001","type":"EXTENSION","months":1}')"
S=$(xz call rehab.disposition.submit '{"id":"DSP-00000001"}')
assert_eq "submits the extension: one transfer to police-01, sent as the leader" "SUBMITTED|REHAB_EXTENSION_PROPOSAL|police-01" \
	"$(jq -r '"\(.state)|\(.transfer.type)|\(.transfer.to_agency)"' <<<"$S")"
TID=$(jq -r .transfer_id <<<"$S")
assert_eq "the centre leader is in the transfer's history" "send:zhao-gang:rehab_leader:rehab-01" \
	"$(xz call collab.transfer.get "{\"transfer_id\":\"$TID\"}" | jq -r '.history[0] | "\(.action):\(.who):\(.role):\(.agency)"')"
assert_contains "cannot receive for police-01" "forbidden: collab.transfer.receive needs the role case_clerk" \
	"$(err collab.transfer.receive "{\"transfer_id\":\"$TID\"}")"

echo "-- 自助终端 kiosk"
as svc:kiosk-03 kiosk rehab-01
assert_contains "reads nothing of rehab" "forbidden: rehab.resident.get needs the role rehab_officer, rehab_evaluator, rehab_leader, auditor; the actor's role is 'kiosk'" \
	"$(err rehab.resident.get '{"id":"R9001"}')"
assert_contains "nor lists" "forbidden: rehab.resident.list needs the role" "$(err rehab.resident.list '{}')"
xz pub rehab.assessment.scored "{\"resident_id\":\"R9001\",\"kind\":\"DETOX\",\"session_id\":\"k-1\",$ITEMS}" >/dev/null || true
wait_until 10 'test "$(counter rehab scored_forbidden)" = 1' || true
assert_eq "nor publishes AI+AR results (not an ai_assessor)" "1 0" \
	"$(counter rehab scored_forbidden) $(counter rehab scored_recorded)"
assert_contains "nor reads transfers" "forbidden: collab.transfer.get needs the role" \
	"$(err collab.transfer.get "{\"transfer_id\":\"$TID\"}")"

echo "-- AI+AR 评估系统 ai_assessor"
as svc:ai-ar ai_assessor rehab-01
xz pub rehab.assessment.scored "{\"resident_id\":\"R9001\",\"kind\":\"DETOX\",\"session_id\":\"ar-1\",$ITEMS}" >/dev/null
wait_until 10 'test "$(counter rehab scored_recorded)" = 1' || true
assert_eq "publishes AI+AR results" 1 "$(counter rehab scored_recorded)"
assert_contains "reads no resident" "forbidden: rehab.resident.get needs the role" "$(err rehab.resident.get '{"id":"R9001"}')"

echo "-- 协同办案内勤 of rehab-01 and of police-01"
as liu-min case_clerk rehab-01
assert_contains "the sender's clerk may not receive" "forbidden: only police-01 may receive transfer '$TID'; the actor's agency is 'rehab-01'" \
	"$(err collab.transfer.receive "{\"transfer_id\":\"$TID\"}")"
assert_contains "a clerk reads no resident" "forbidden: rehab.resident.get needs the role" "$(err rehab.resident.get '{"id":"R9001"}')"
as chen-qiang case_clerk police-01
assert_contains "police may not act for the rehab centre" "forbidden: only rehab-01 may send this package; the actor's agency is 'police-01'" \
	"$(err collab.transfer.send '{"type":"REHAB_EXTENSION_PROPOSAL","from_agency":"rehab-01","to_agency":"police-01","subject":{"type":"disposition","id":"X"},"documents":[{"name":"a","media_type":"application/pdf","sha256":"'"$(printf a | sha256sum | cut -d' ' -f1)"'","size":1}]}')"
assert_eq "receives" RECEIVED "$(xz call collab.transfer.receive "{\"transfer_id\":\"$TID\"}" | jq -r .state)"
assert_eq "accepts" ACCEPTED "$(xz call collab.transfer.accept "{\"transfer_id\":\"$TID\"}" | jq -r .state)"
assert_eq "decides: 4 of the 6 months" DECIDED \
	"$(xz call collab.transfer.decide "{\"transfer_id\":\"$TID\",\"decision\":\"PARTLY_APPROVED\",\"months\":4,\"decision_no\":\"某公(禁)延字〔2026〕3号\"}" | jq -r .state)"
as wang-jing rehab_officer rehab-01
approved() { test "$(xz call rehab.disposition.get '{"id":"DSP-00000001"}' | jq -r .state)" = APPROVED; }
wait_for 10 approved ||
	fail "the decision did not take effect"
assert_eq "decided by police-01's clerk, 4 months" "chen-qiang|police-01|4" \
	"$(xz call rehab.disposition.get '{"id":"DSP-00000001"}' | jq -r '"\(.history[-1].who)|\(.decided_by)|\(.approved_months)"')"
stop_node
finish
