#!/usr/bin/env bash
# Rehab over the bus, on its own (no collab): admission under 禁毒法 art. 47
# (a 36-month term refused naming the article; a wrong GB 11643 check
# digit refused; the term runs 2 years from the public-security
# decision), AI+AR results arriving as events (once, even when redelivered,
# their measures kept whole), approvals, phase transitions gated by
# passing assessments of the right kind, early release not before one year
# from the decision, extensions capped at one year in total, a submit
# that cannot reach the deciding authority leaves the proposal as it was,
# correction plans with sessions, audited reads, the handbook clock, and
# who may call what (roles and agency).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
xz_config <<'EOF2'
plugins = ( { name = "audit"; kind = "so"; }, { name = "rehab"; kind = "so";
              options = { detox_min_days = 0; education_min_days = 0;
                          consolidation_min_days = 180; }; } );
EOF2
LC_ALL=C start_node

OF='"actor":{"user":"wang-jing","role":"rehab_officer","agency":"rehab-01"}'
EV='"actor":{"user":"dr-li","role":"rehab_evaluator","agency":"rehab-01"}'
LD='"actor":{"user":"zhao-gang","role":"rehab_leader","agency":"rehab-01"}'
KI='"actor":{"user":"svc:kiosk-03","role":"kiosk","agency":"rehab-01"}'
OTHER='"actor":{"user":"x","role":"rehab_officer","agency":"rehab-02"}'
call() { xz call "$1" "$2" 2>/dev/null || true; }
errmsg() { xz call "$1" "$2" 2>/dev/null | json '.error.code + ": " + .error.message' || true; }
ITEMS='"detox":{"drug_test_negative":true,"withdrawal_medication_stopped":true,"acute_symptoms_gone":true,"no_marked_protracted_symptoms":true,"no_drug_induced_psychosis":true}'
BAD='"detox":{"drug_test_negative":true,"withdrawal_medication_stopped":true,"acute_symptoms_gone":false,"no_marked_protracted_symptoms":true,"no_drug_induced_psychosis":true}'
FULL='"psycho_physical":"PASS","behaviour":"PASS","social":"GOOD"'
# The decision 90 days ago on the plugin's calendar (Beijing time, UTC+8;
# POSIX TZ=UTC-8 needs no tzdata): from 16:00 UTC that is a day ahead of UTC.
DEC=$(TZ=UTC-8 date -d '90 days ago' +%F)
END=$(date -u -d "$DEC + 24 months - 1 day" +%F)
ID1=510104199003071237
ADMIT="\"id\":\"R9001\",\"name\":\"田野\",\"id_number\":\"$ID1\",\"decision_no\":\"某公(禁)强戒决字〔2026〕77号\",\"decision_date\":\"$DEC\",\"deciding_agency\":\"police-01\""

xz_bg sub 'rehab.>' >"$XZ_T/events" 2>/dev/null &
SUB=$!
xz_bg sub 'audit.rehab.>' >"$XZ_T/audit" 2>/dev/null &
SUB2=$!
sleep 0.5

echo "-- admission (禁毒法 art. 47)"
assert_contains "a 36-month term is refused naming the article" \
	'bad_request: 禁毒法 art. 47: the term of compulsory isolated rehabilitation is 2 years (24 months)' \
	"$(errmsg rehab.resident.admit "{$OF,$ADMIT,\"term_months\":36}")"
assert_eq "a wrong GB 11643 check digit is refused" \
	'bad_request: field "id_number": expected a citizen identity number (GB 11643-1999: 18 characters, a valid birth date and check digit)' \
	"$(errmsg rehab.resident.admit "{$OF,${ADMIT/$ID1/510104199003071238}}")"
assert_contains "an impossible decision date is refused" 'field "decision_date": expected a date YYYY-MM-DD' \
	"$(errmsg rehab.resident.admit "{$OF,${ADMIT/$DEC/2026-02-30}}")"
assert_contains "only an officer admits" \
	'forbidden: rehab.resident.admit needs the role rehab_officer' \
	"$(errmsg rehab.resident.admit "{$EV,$ADMIT}")"
assert_contains "staff of another agency are refused" \
	"forbidden: rehab.resident.admit: the actor acts for 'rehab-02'; this centre is 'rehab-01'" \
	"$(errmsg rehab.resident.admit "{$OTHER,$ADMIT}")"
R=$(call rehab.resident.admit "{$OF,$ADMIT,\"term_months\":24}")
assert_eq "admitted into detox, 2 years from the decision, handbook within 7 days" \
	"PHYSIOLOGICAL_DETOX 24 $END 604800000" \
	"$(echo "$R" | json '[.state, .term_months, .term_end_date, (.handbook_due_ms - .admitted_ms)] | map(tostring) | join(" ")')"
assert_eq "the identity number is kept" "$ID1" "$(echo "$R" | json .id_number)"
assert_eq "the kiosk reads nothing of rehab" \
	"forbidden: rehab.resident.get needs the role rehab_officer, rehab_evaluator, rehab_leader, auditor; the actor's role is 'kiosk'" \
	"$(errmsg rehab.resident.get "{$KI,\"id\":\"R9001\"}")"
assert_eq "a resident's phase has its Chinese name" "生理脱毒期 90" \
	"$(call rehab.resident.get "{$EV,\"id\":\"R9001\"}" | json '.phase_label + " " + (.days_since_decision|tostring)')"

echo "-- phases and assessments"
assert_eq "no advance without a passing DETOX assessment" \
	"invalid_state: resident R9001 cannot leave PHYSIOLOGICAL_DETOX: no approved, passing DETOX assessment taken in this phase" \
	"$(errmsg rehab.resident.advance "{$OF,\"id\":\"R9001\"}")"
MEAS='"measures":{"craving_score":37,"cue_reactivity":{"hr_delta":12.5,"gsr_delta":0.8},"device":"AR-2"}'
xz pub rehab.assessment.scored "{\"resident_id\":\"R9001\",\"kind\":\"DETOX\",\"session_id\":\"ar-1\",$BAD}" >/dev/null
xz pub rehab.assessment.scored "{\"resident_id\":\"R9001\",\"kind\":\"DETOX\",\"session_id\":\"ar-2\",$ITEMS,$MEAS}" >/dev/null
xz pub rehab.assessment.scored "{\"resident_id\":\"R9001\",\"kind\":\"DETOX\",\"session_id\":\"ar-2\",$ITEMS,$MEAS}" >/dev/null
xz pub rehab.assessment.scored "{\"resident_id\":\"R9001\",\"kind\":\"DETOX\",\"session_id\":\"ar-3\",$ITEMS,\"craving_score\":\"37\"}" >/dev/null
wait_until 5 'test "$(counter rehab scored_duplicate)" = 1' || fail "the redelivered result was not recognised"
wait_until 5 'test "$(counter rehab scored_rejected)" = 1' || fail "an unknown top-level field was not refused"
assert_eq "two results stored, the redelivery once, the malformed one refused" "2 1 1" \
	"$(counter rehab scored_recorded) $(counter rehab scored_duplicate) $(counter rehab scored_rejected)"
assert_eq "five items x 20: 80 fails, 100 passes" "AI-ar-1:80:false AI-ar-2:100:true" \
	"$(call rehab.assessment.list "{$EV,\"owner\":\"R9001\"}" | json '[.items[] | .id + ":" + (.detox_score|tostring) + ":" + (.passed|tostring)] | join(" ")')"
assert_eq "the AI+AR measures are kept whole" '{"craving_score":37,"cue_reactivity":{"gsr_delta":0.8,"hr_delta":12.5},"device":"AR-2"}' \
	"$(call rehab.assessment.get "{$EV,\"id\":\"AI-ar-2\"}" | jq -cS .measures)"
assert_eq "an evaluator does not approve" \
	"forbidden: rehab.assessment.approve needs the role rehab_leader; the actor's role is 'rehab_evaluator'" \
	"$(errmsg rehab.assessment.approve "{$EV,\"id\":\"AI-ar-1\"}")"
call rehab.assessment.approve "{$LD,\"id\":\"AI-ar-1\"}" >/dev/null
assert_eq "an approved failing one does not open the gate" \
	"invalid_state: resident R9001 cannot leave PHYSIOLOGICAL_DETOX: no approved, passing DETOX assessment taken in this phase" \
	"$(errmsg rehab.resident.advance "{$OF,\"id\":\"R9001\"}")"
call rehab.assessment.approve "{$LD,\"id\":\"AI-ar-2\"}" >/dev/null
assert_eq "advanced to 教育适应期" "EDUCATION_ADAPTATION 教育适应期" \
	"$(call rehab.resident.advance "{$OF,\"id\":\"R9001\"}" | json '.state + " " + .state_label')"
assert_eq "approving twice is refused, naming the state and the allowed actions" \
	"invalid_state: assessment AI-ar-2 is APPROVED: approve is not allowed (allowed: none)" \
	"$(errmsg rehab.assessment.approve "{$LD,\"id\":\"AI-ar-2\"}")"
assert_eq "a PHASE assessment needs the other dimensions" \
	'bad_request: assessment: a PHASE assessment needs "psycho_physical" (PASS/FAIL), "behaviour" (PASS/FAIL) and "social" (GOOD/FAIR)' \
	"$(errmsg rehab.assessment.record "{$EV,\"resident_id\":\"R9001\",\"kind\":\"PHASE\",$ITEMS}")"
A1=$(call rehab.assessment.record "{$EV,\"resident_id\":\"R9001\",\"kind\":\"PHASE\",$ITEMS,\"psycho_physical\":\"PASS\",\"behaviour\":\"FAIL\",\"social\":\"GOOD\",\"assessors\":[\"dr-li\",\"dr-wu\"]}" | json .id)
call rehab.assessment.approve "{$LD,\"id\":\"$A1\"}" >/dev/null
assert_eq "a failed behaviour dimension keeps the resident in phase" \
	"invalid_state: resident R9001 cannot leave EDUCATION_ADAPTATION: no approved, passing PHASE assessment taken in this phase" \
	"$(errmsg rehab.resident.advance "{$OF,\"id\":\"R9001\"}")"
A2=$(call rehab.assessment.record "{$EV,\"resident_id\":\"R9001\",\"kind\":\"PHASE\",$ITEMS,\"psycho_physical\":\"PASS\",\"behaviour\":\"PASS\",\"social\":\"FAIR\"}" | json .id)
call rehab.assessment.approve "{$LD,\"id\":\"$A2\"}" >/dev/null
assert_eq "advanced to 康复巩固期" REHABILITATION_CONSOLIDATION \
	"$(call rehab.resident.advance "{$OF,\"id\":\"R9001\"}" | json .state)"
assert_eq "the consolidation minimum (180 days) holds" \
	"invalid_state: resident R9001 has been in REHABILITATION_CONSOLIDATION for 0 day(s): the minimum is 180" \
	"$(errmsg rehab.resident.advance "{$OF,\"id\":\"R9001\"}")"

echo "-- early release: one year from the decision, on a passing ONE_YEAR"
YEAR=$(date -u -d "$DEC + 12 months" +%F)
assert_eq "early release before a year is refused naming the article" \
	"invalid_state: 禁毒法 art. 47: early release may be proposed after one year counted from the decision ($DEC); resident R9001 has served 90 day(s), the year ends on $YEAR" \
	"$(errmsg rehab.disposition.propose "{$OF,\"resident_id\":\"R9001\",\"type\":\"EARLY_RELEASE\"}")"
xz call xz.sys.clock.advance '{"ms":24192000000}' >/dev/null # 280 days: 370 since the decision
assert_eq "a year on: still needs the ONE_YEAR assessment" \
	"invalid_state: resident R9001 has no approved, passing ONE_YEAR assessment: early release cannot be proposed" \
	"$(errmsg rehab.disposition.propose "{$OF,\"resident_id\":\"R9001\",\"type\":\"EARLY_RELEASE\"}")"
A3=$(call rehab.assessment.record "{$EV,\"resident_id\":\"R9001\",\"kind\":\"ONE_YEAR\",$ITEMS,$FULL}" | json .id)
call rehab.assessment.approve "{$LD,\"id\":\"$A3\"}" >/dev/null
D=$(call rehab.disposition.propose "{$OF,\"resident_id\":\"R9001\",\"type\":\"EARLY_RELEASE\",\"grounds\":\"满一年诊断评估合格\"}")
assert_eq "early release proposed on the ONE_YEAR assessment, for police-01" "PROPOSED $A3 police-01" \
	"$(echo "$D" | json '.state + " " + .basis + " " + .authority')"
DID=$(echo "$D" | json .id)
# (no answer: nothing serves it; the event subscriber above only listens)
assert_eq "the centre does not decide: no approve request is served" error \
	"$( (xz call rehab.disposition.approve "{$LD,\"id\":\"$DID\"}" -t 1000 2>/dev/null || true) | jq -r 'if .error then "error" else .state end')"
assert_eq "an officer does not submit" \
	"forbidden: rehab.disposition.submit needs the role rehab_leader; the actor's role is 'rehab_officer'" \
	"$(errmsg rehab.disposition.submit "{$OF,\"id\":\"$DID\"}")"
assert_contains "without collab the submit fails and says so" \
	"no_responders: the deciding authority could not be reached through collab" \
	"$(errmsg rehab.disposition.submit "{$LD,\"id\":\"$DID\"}")"
assert_eq "the proposal stays PROPOSED" PROPOSED \
	"$(call rehab.disposition.get "{$LD,\"id\":\"$DID\"}" | json .state)"
assert_contains "release before a decision is refused" \
	"invalid_state: resident R9001: the term ends on" \
	"$(errmsg rehab.resident.release "{$OF,\"id\":\"R9001\"}")"

echo "-- extensions: at most one year in total (禁毒法 art. 47)"
ID2=511322198506152012
call rehab.resident.admit "{$OF,\"id\":\"R9002\",\"name\":\"孔莉\",\"id_number\":\"$ID2\",\"decision_no\":\"D-78\",\"decision_date\":\"$(date -u -d '10 days ago' +%F)\",\"deciding_agency\":\"police-01\"}" >/dev/null
assert_eq "an extension over 12 months is refused (field range)" \
	'bad_request: field "months": expected an integer 1..12, got a value out of range' \
	"$(errmsg rehab.disposition.propose "{$OF,\"resident_id\":\"R9002\",\"type\":\"EXTENSION\",\"months\":13}")"
X=$(call rehab.disposition.propose "{$OF,\"resident_id\":\"R9002\",\"type\":\"EXTENSION\",\"months\":8}" | json .state)
assert_eq "8 months proposed" PROPOSED "$X"
assert_eq "8 pending + 5 more is past one year in total: refused naming the article" \
	"invalid_state: 禁毒法 art. 47: an extension is at most 1 year (12 months) in total; resident R9002 has 0 month(s) approved and 8 pending, 5 more is refused" \
	"$(errmsg rehab.disposition.propose "{$OF,\"resident_id\":\"R9002\",\"type\":\"EXTENSION\",\"months\":5}")"
assert_eq "4 more fits" PROPOSED \
	"$(call rehab.disposition.propose "{$OF,\"resident_id\":\"R9002\",\"type\":\"EXTENSION\",\"months\":4}" | json .state)"

echo "-- correction plan"
C=$(call rehab.plan.draft "{$OF,\"resident_id\":\"R9002\",\"goals\":[\"职业技能培训\",\"family contact\"]}" | json .id)
call rehab.plan.submit "{$OF,\"id\":\"$C\"}" >/dev/null
assert_eq "only the leader approves a plan" \
	"forbidden: rehab.plan.approve needs the role rehab_leader; the actor's role is 'rehab_officer'" \
	"$(errmsg rehab.plan.approve "{$OF,\"id\":\"$C\"}")"
call rehab.plan.approve "{$LD,\"id\":\"$C\"}" >/dev/null
assert_eq "plan started" IN_PROGRESS "$(call rehab.plan.start "{$OF,\"id\":\"$C\"}" | json .state)"
call rehab.plan.record-session "{$OF,\"id\":\"$C\",\"session\":{\"topic\":\"防复吸\",\"attended\":true}}" >/dev/null
assert_eq "sessions with attendance" "2 false" \
	"$(call rehab.plan.record-session "{$OF,\"id\":\"$C\",\"session\":{\"topic\":\"family day\",\"attended\":false}}" | json '(.sessions|length|tostring) + " " + (.sessions[1].attended|tostring)')"
assert_eq "a session attended \"yes\" is refused" \
	'bad_request: rehab.plan.record-session: "session" must be {"topic":..,"attended":true|false}' \
	"$(errmsg rehab.plan.record-session "{$OF,\"id\":\"$C\",\"session\":{\"topic\":\"x\",\"attended\":\"yes\"}}")"
assert_eq "completed" COMPLETED "$(call rehab.plan.complete "{$OF,\"id\":\"$C\"}" | json .state)"
assert_eq "a completed plan cannot be ended" \
	"invalid_state: plan $C is COMPLETED: end is not allowed (allowed: none)" \
	"$(errmsg rehab.plan.end "{$LD,\"id\":\"$C\"}")"

sleep 0.3
assert_eq "resident reads are audited" 1 \
	"$(grep -c '"action":"VIEW","subject_type":"resident","subject_id":"R9001"' "$XZ_T/audit" || true)"
assert_contains "refusals are audited" '"action":"REFUSE"' "$(cat "$XZ_T/audit")"

echo "-- the handbook clock: 7 days after admission"
for n in 3 4; do
	call rehab.resident.admit "{$OF,\"id\":\"R900$n\",\"name\":\"白雪$n\",\"id_number\":\"11010519491231002X\",\"decision_no\":\"D-8$n\",\"decision_date\":\"$(date -u -d '1 day ago' +%F)\",\"deciding_agency\":\"police-01\",\"admitted_date\":\"$(date -u -d '1 day ago' +%F)\"}" >/dev/null
done
assert_eq "handbook issued for R9004" 1 \
	"$(call rehab.resident.issue-handbook "{$OF,\"id\":\"R9004\"}" | json '.handbook_ms > 0 | if . then 1 else 0 end')"
assert_eq "a second handbook is refused" "exists: resident R9004 already has a handbook" \
	"$(errmsg rehab.resident.issue-handbook "{$OF,\"id\":\"R9004\"}")"
xz call xz.sys.clock.advance '{"ms":691200000}' >/dev/null # 8 days
wait_for 5 grep -q '"topic":"rehab.resident.handbook-overdue"' "$XZ_T/events" ||
	fail "no rehab.resident.handbook-overdue"
sleep 0.3
assert_contains "R9003 without a handbook is reported" R9003 \
	"$(grep '"topic":"rehab.resident.handbook-overdue"' "$XZ_T/events" | json .data.id | tr '\n' ' ')"
assert_eq "R9004 with one is not" 0 \
	"$(grep '"topic":"rehab.resident.handbook-overdue"' "$XZ_T/events" | grep -c R9004 || true)"

kill "$SUB" "$SUB2" 2>/dev/null || true
stop_node
finish
