#!/usr/bin/env bash
# Rehab over the bus: admission, AI+AR results arriving as events (once,
# even when redelivered), approvals, phase transitions gated by passing
# assessments of the right kind, dispositions to the deciding authority
# (early release after a year: DOMAIN.md flow 3; extension bounds), release,
# correction plans with sessions, and audited reads.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
xz_config <<'EOF2'
plugins = ( { name = "audit"; kind = "so"; }, { name = "rehab"; kind = "so";
              options = { detox_min_days = 0; education_min_days = 0;
                          consolidation_min_days = 180; }; } );
EOF2
start_node

S='"actor":{"user":"dr-li","role":"ASSESSOR","agency":"rehab-centre-1"}'
P='"actor":{"user":"psb-officer-2","role":"DECIDER","agency":"public-security"}'
call() { xz call "$1" "$2" 2>/dev/null || true; }
errmsg() { xz call "$1" "$2" 2>/dev/null | json '.error.code + ": " + .error.message' || true; }
ITEMS='"detox":{"drug_test_negative":true,"withdrawal_medication_stopped":true,"acute_symptoms_gone":true,"no_marked_protracted_symptoms":true,"no_drug_induced_psychosis":true}'
BAD='"detox":{"drug_test_negative":true,"withdrawal_medication_stopped":true,"acute_symptoms_gone":false,"no_marked_protracted_symptoms":true,"no_drug_induced_psychosis":true}'

xz sub 'rehab.>' >"$XZ_T/events" 2>/dev/null &
SUB=$!
xz sub 'audit.rehab.>' >"$XZ_T/audit" 2>/dev/null &
SUB2=$!
sleep 0.5

R=$(call rehab.resident.admit "{$S,\"id\":\"R9001\",\"name\":\"Tian Ye\",\"decision_no\":\"PSB-2026-77\"}")
assert_eq "admitted into detox, 2-year term, handbook within 7 days" \
	"PHYSIOLOGICAL_DETOX 24 604800000" \
	"$(echo "$R" | json '[.state, .term_months, (.handbook_due_ms - .admitted_ms)] | map(tostring) | join(" ")')"

assert_eq "no advance without a passing DETOX assessment" \
	"invalid_state: resident R9001 cannot leave PHYSIOLOGICAL_DETOX: no approved, passing DETOX assessment taken in this phase" \
	"$(errmsg rehab.resident.advance "{$S,\"id\":\"R9001\"}")"

# the AI+AR system scores a failing detox, then a passing one (sent twice)
xz pub rehab.assessment.scored "{\"resident_id\":\"R9001\",\"kind\":\"DETOX\",\"session_id\":\"ar-1\",$BAD}" >/dev/null
xz pub rehab.assessment.scored "{\"resident_id\":\"R9001\",\"kind\":\"DETOX\",\"session_id\":\"ar-2\",$ITEMS}" >/dev/null
xz pub rehab.assessment.scored "{\"resident_id\":\"R9001\",\"kind\":\"DETOX\",\"session_id\":\"ar-2\",$ITEMS}" >/dev/null
wait_for 5 test "$(counter rehab scored_duplicate)" = 1 || fail "the redelivered result was not recognised"
assert_eq "two results stored, the redelivery once" "2 1" \
	"$(counter rehab scored_recorded) $(counter rehab scored_duplicate)"
assert_eq "five items x 20: 80 fails, 100 passes" "AI-ar-1:80:false AI-ar-2:100:true" \
	"$(call rehab.assessment.list '{"owner":"R9001"}' | json '[.items[] | .id + ":" + (.detox_score|tostring) + ":" + (.passed|tostring)] | join(" ")')"
assert_eq "scored is not yet approved" \
	"invalid_state: resident R9001 cannot leave PHYSIOLOGICAL_DETOX: no approved, passing DETOX assessment taken in this phase" \
	"$(errmsg rehab.resident.advance "{$S,\"id\":\"R9001\"}")"
call rehab.assessment.approve "{$S,\"id\":\"AI-ar-1\"}" >/dev/null
assert_eq "an approved failing one does not open the gate" \
	"invalid_state: resident R9001 cannot leave PHYSIOLOGICAL_DETOX: no approved, passing DETOX assessment taken in this phase" \
	"$(errmsg rehab.resident.advance "{$S,\"id\":\"R9001\"}")"
call rehab.assessment.approve "{$S,\"id\":\"AI-ar-2\"}" >/dev/null
R=$(call rehab.resident.advance "{$S,\"id\":\"R9001\"}")
assert_eq "advanced to education-adaptation" EDUCATION_ADAPTATION "$(echo "$R" | json .state)"
assert_eq "approving twice is refused" \
	"invalid_state: assessment AI-ar-2 is APPROVED: approve is not allowed (allowed: none)" \
	"$(errmsg rehab.assessment.approve "{$S,\"id\":\"AI-ar-2\"}")"

# staff assessments: a PHASE assessment needs all four dimensions
assert_eq "a PHASE assessment needs the other dimensions" \
	'bad_request: assessment: a PHASE assessment needs "psycho_physical" (PASS/FAIL), "behaviour" (PASS/FAIL) and "social" (GOOD/FAIR)' \
	"$(errmsg rehab.assessment.record "{$S,\"resident_id\":\"R9001\",\"kind\":\"PHASE\",$ITEMS}")"
A1=$(call rehab.assessment.record "{$S,\"resident_id\":\"R9001\",\"kind\":\"PHASE\",$ITEMS,\"psycho_physical\":\"PASS\",\"behaviour\":\"FAIL\",\"social\":\"GOOD\",\"assessors\":[\"dr-li\",\"dr-wu\"]}" | json .id)
call rehab.assessment.approve "{$S,\"id\":\"$A1\"}" >/dev/null
assert_eq "a failed behaviour dimension keeps the resident in phase" \
	"invalid_state: resident R9001 cannot leave EDUCATION_ADAPTATION: no approved, passing PHASE assessment taken in this phase" \
	"$(errmsg rehab.resident.advance "{$S,\"id\":\"R9001\"}")"
A2=$(call rehab.assessment.record "{$S,\"resident_id\":\"R9001\",\"kind\":\"PHASE\",$ITEMS,\"psycho_physical\":\"PASS\",\"behaviour\":\"PASS\",\"social\":\"FAIR\"}" | json .id)
call rehab.assessment.approve "{$S,\"id\":\"$A2\"}" >/dev/null
assert_eq "advanced to consolidation" REHABILITATION_CONSOLIDATION \
	"$(call rehab.resident.advance "{$S,\"id\":\"R9001\"}" | json .state)"
assert_eq "the consolidation minimum (180 days) holds" \
	"invalid_state: resident R9001 has been in REHABILITATION_CONSOLIDATION for 0 day(s): the minimum is 180" \
	"$(errmsg rehab.resident.advance "{$S,\"id\":\"R9001\"}")"

# early release: not before a year, and only on a passing ONE_YEAR
assert_eq "early release before a year is refused" \
	"invalid_state: resident R9001 has served 0 day(s): early release needs at least 365" \
	"$(errmsg rehab.disposition.propose "{$S,\"resident_id\":\"R9001\",\"type\":\"EARLY_RELEASE\"}")"
xz call xz.sys.clock.advance '{"ms":31622400000}' >/dev/null # 366 days
assert_eq "a year on: still needs the ONE_YEAR assessment" \
	"invalid_state: resident R9001 has no approved, passing ONE_YEAR assessment: early release cannot be proposed" \
	"$(errmsg rehab.disposition.propose "{$S,\"resident_id\":\"R9001\",\"type\":\"EARLY_RELEASE\"}")"
A3=$(call rehab.assessment.record "{$S,\"resident_id\":\"R9001\",\"kind\":\"ONE_YEAR\",$ITEMS,\"psycho_physical\":\"PASS\",\"behaviour\":\"PASS\",\"social\":\"GOOD\"}" | json .id)
call rehab.assessment.approve "{$S,\"id\":\"$A3\"}" >/dev/null
D=$(call rehab.disposition.propose "{$S,\"resident_id\":\"R9001\",\"type\":\"EARLY_RELEASE\",\"grounds\":\"ONE_YEAR passed\"}")
assert_eq "early release proposed on the ONE_YEAR assessment" "PROPOSED $A3" \
	"$(echo "$D" | json '.state + " " + .basis')"
DID=$(echo "$D" | json .id)
assert_eq "release before the decision is refused" \
	"invalid_state: resident R9001: the term ends at $(call rehab.resident.get '{"id":"R9001"}' | json .term_end_ms) ms and no approved disposition authorizes an earlier release" \
	"$(errmsg rehab.resident.release "{$S,\"id\":\"R9001\"}")"
assert_eq "the deciding authority approves" APPROVED \
	"$(call rehab.disposition.approve "{$P,\"id\":\"$DID\",\"decision_no\":\"PSB-D-9\"}" | json .state)"
R=$(call rehab.resident.release "{$S,\"id\":\"R9001\"}")
assert_eq "released early" "RELEASED $DID EARLY_RELEASE" \
	"$(echo "$R" | json '[.state, .release_authorized_by, .release_type] | join(" ")')"
assert_eq "no assessment after release" \
	"invalid_state: resident R9001 is RELEASED: no assessment" \
	"$(errmsg rehab.assessment.record "{$S,\"resident_id\":\"R9001\",\"kind\":\"PHASE\",$ITEMS,\"psycho_physical\":\"PASS\",\"behaviour\":\"PASS\",\"social\":\"GOOD\"}")"

# extension bounds, and an approved extension moves the term end
call rehab.resident.admit "{$S,\"id\":\"R9002\",\"name\":\"Kong Li\",\"decision_no\":\"PSB-2026-78\",\"term_months\":24}" >/dev/null
assert_eq "an extension over 12 months is refused" \
	'bad_request: rehab.disposition.propose: EXTENSION needs "months" 1..12' \
	"$(errmsg rehab.disposition.propose "{$S,\"resident_id\":\"R9002\",\"type\":\"EXTENSION\",\"months\":13}")"
assert_eq "community rehab up to 36 months" \
	'bad_request: rehab.disposition.propose: COMMUNITY_REHAB needs "months" 1..36' \
	"$(errmsg rehab.disposition.propose "{$S,\"resident_id\":\"R9002\",\"type\":\"COMMUNITY_REHAB\",\"months\":37}")"
END0=$(call rehab.resident.get '{"id":"R9002"}' | json .term_end_ms)
X=$(call rehab.disposition.propose "{$S,\"resident_id\":\"R9002\",\"type\":\"EXTENSION\",\"months\":6}" | json .id)
call rehab.disposition.approve "{$P,\"id\":\"$X\"}" >/dev/null
END1=$(call rehab.resident.get '{"id":"R9002"}' | json .term_end_ms)
assert_eq "the term end moved by 6 calendar months (181-184 days)" 1 \
	"$(( (END1 - END0) >= 181*86400000 && (END1 - END0) <= 184*86400000 ))"

# correction plan with sessions
C=$(call rehab.plan.draft "{$S,\"resident_id\":\"R9002\",\"goals\":[\"vocational training\",\"family contact\"]}" | json .id)
T=""
for a in submit approve start; do T="$T $(call rehab.plan.$a "{$S,\"id\":\"$C\"}" | json .state)"; done
assert_eq "plan approved and started" " SUBMITTED APPROVED IN_PROGRESS" "$T"
call rehab.plan.record-session "{$S,\"id\":\"$C\",\"session\":{\"topic\":\"relapse prevention\",\"attended\":true}}" >/dev/null
assert_eq "sessions with attendance" "2 false" \
	"$(call rehab.plan.record-session "{$S,\"id\":\"$C\",\"session\":{\"topic\":\"family day\",\"attended\":false}}" | json '(.sessions|length|tostring) + " " + (.sessions[1].attended|tostring)')"
assert_eq "completed" COMPLETED "$(call rehab.plan.complete "{$S,\"id\":\"$C\"}" | json .state)"
assert_eq "a completed plan cannot be ended" \
	"invalid_state: plan CP-00000001 is COMPLETED: end is not allowed (allowed: none)" \
	"$(errmsg rehab.plan.end "{$S,\"id\":\"$C\"}")"

sleep 0.3
assert_eq "events for the deciding authority" \
	"rehab.disposition.proposed:EARLY_RELEASE rehab.disposition.approved:EARLY_RELEASE rehab.resident.released:EARLY_RELEASE" \
	"$(json 'select(.topic | test("disposition.proposed|disposition.approved|resident.released")) | .topic + ":" + (.data.type // .data.release_type)' <"$XZ_T/events" | head -3 | tr '\n' ' ' | sed 's/ $//')"
assert_eq "resident reads are audited" 1 \
	"$(grep -c '"action":"VIEW","subject_type":"resident","subject_id":"R9001"' "$XZ_T/audit" || true)"

# the handbook clock: 7 days after admission
call rehab.resident.admit "{$S,\"id\":\"R9003\",\"name\":\"Bai Xue\",\"decision_no\":\"PSB-2026-79\"}" >/dev/null
call rehab.resident.admit "{$S,\"id\":\"R9004\",\"name\":\"Shi Lei\",\"decision_no\":\"PSB-2026-80\"}" >/dev/null
assert_eq "handbook issued for R9004" 1 \
	"$(call rehab.resident.issue-handbook "{$S,\"id\":\"R9004\"}" | json '.handbook_ms > 0 | if . then 1 else 0 end')"
assert_eq "a second handbook is refused" "exists: resident R9004 already has a handbook" \
	"$(errmsg rehab.resident.issue-handbook "{$S,\"id\":\"R9004\"}")"
xz call xz.sys.clock.advance '{"ms":691200000}' >/dev/null # 8 days
wait_for 5 grep -q '"topic":"rehab.resident.handbook-overdue"' "$XZ_T/events" ||
	fail "no rehab.resident.handbook-overdue"
sleep 0.3
assert_eq "the residents without a handbook are reported, not R9004" "R9002 R9003" \
	"$(grep '"topic":"rehab.resident.handbook-overdue"' "$XZ_T/events" | json .data.id | tr '\n' ' ' | sed 's/ $//')"

kill "$SUB" "$SUB2" 2>/dev/null || true
stop_node
finish
