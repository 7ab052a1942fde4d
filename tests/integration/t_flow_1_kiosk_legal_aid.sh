#!/usr/bin/env bash
# t_flow_1_kiosk_legal_aid.sh - the domain's flow 1 (docs/legal.md) on a real node with the
# prison, legal and audit plugins, through the bus only: a prisoner asks
# for legal aid at a kiosk -> prison.kiosk.legal-aid-requested -> legal
# opens an application (24 h forward clock) -> received, reviewed,
# granted (7 d) -> provider assigned (3 d) -> legal asks the prison for a
# LEGAL visit with the assignment letter; the prison checks the lawyer's
# licence and the letter with legal, approves and books it -> the visit
# takes place -> the application is closed and its
# outcome published for the prisoner's record. The audit trail must hold
# every step, and its chain must verify.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
. "$XZ_SRC/plugins/legal/tests/flowlib.sh"
. "$(dirname "$0")/prison_actors.sh"
flow_skip_unless prison legal
WITH_AUDIT=0
if flow_have audit; then WITH_AUDIT=1; fi
if [ $WITH_AUDIT = 1 ]; then flow_node prison legal audit; else flow_node prison legal; fi
H=3600000
D=$((24 * H))

check "lawyer in the directory" lcall legal.provider.add '"id":"LAW-0001",
  "type":"LAWYER","name":"Li Wei","licence":"11101201010001","region":"R1",
  "capacity":3,"specialties":["CRIMINAL"],"conflicts":[],"user":"tester"'
sub_bg 'legal.aid.*' 1000 "$XZ_T/legal.txt"
LEGAL_SUB=$SUB_PID
sub_bg 'prison.kiosk.forwarded' 1 "$XZ_T/fwd.txt"

echo "-- 1. the prisoner's kiosk request"
PRISONER=5101000001
K=$(xz call prison.kiosk.legal-aid "{$KIOSK,
  \"prisoner_id\":\"$PRISONER\",\"matter\":\"申诉：不服生效判决\"}")
KID=$(echo "$K" | jq -r .id)
FORWARD_BY=$(echo "$K" | jq -r .forward_by_ms)
assert_eq "kiosk request submitted" SUBMITTED "$(echo "$K" | jq -r .state)"

wait_for 5 grep -q '"legal.aid.opened"' "$XZ_T/legal.txt" || fail "no legal.aid.opened"
OPENED=$(grep '"legal.aid.opened"' "$XZ_T/legal.txt" | head -n1)
LA=$(echo "$OPENED" | jq -r .data.id)
assert_eq "application opened from the kiosk event" \
	"FORWARDED|INMATE|$PRISONER|prison.kiosk.legal-aid-requested:$KID" \
	"$(echo "$OPENED" | jq -r '.data | "\(.state)|\(.applicant_type)|\(.prisoner_id)|\(.source_ref)"')"
sub_wait "$XZ_T/fwd.txt" 1 || fail "no prison.kiosk.forwarded"
assert_eq "the prison's kiosk request is marked forwarded" FORWARDED \
	"$(xz call prison.kiosk.get "{$ADMIN,\"id\":\"$KID\"}" | jq -r .state)"
APP=$(lcall legal.aid.get "\"id\":\"$LA\",\"purpose\":\"flow 1\"")
assert_eq "24 h forward clock from the request time (= the prison's forward_by)" \
	"forward|RUNNING|$FORWARD_BY" "$(echo "$APP" | jq -r '.clocks[0] | "\(.clock)|\(.status)|\(.due_ms)"')"
# custody alone exempts nobody from the means check (法律援助法 art. 42);
# a sentenced prisoner's matter is a petition (申诉, art. 33), not an appeal
assert_eq "a petition, means check not exempt" "PETITION|false" \
	"$(echo "$APP" | jq -r '"\(.case_type)|\(.means_exempt)"')"

echo "-- 2. received and decided within 7 days"
advance $((20 * H))
assert_eq "received" RECEIVED "$(lcall legal.aid.receive "\"id\":\"$LA\"" | jq -r .state)"
assert_eq "under review" UNDER_REVIEW "$(lcall legal.aid.start-review "\"id\":\"$LA\"" | jq -r .state)"
advance $((5 * D))
assert_exit "no grant before the means check" 1 lcall legal.aid.grant "\"id\":\"$LA\""
assert_eq "granted once checked" GRANTED \
	"$(lcall legal.aid.grant "\"id\":\"$LA\",\"means_checked\":true" | jq -r .state)"

echo "-- 3. provider assigned within 3 days, LEGAL visit requested, checked and booked by the prison"
advance $((2 * D))
A=$(lcall legal.aid.assign "\"id\":\"$LA\"")
assert_eq "assigned by the routing rule" "ASSIGNED|LAW-0001" \
	"$(echo "$A" | jq -r '"\(.state)|\(.provider_id)"')"
VID=$(echo "$A" | jq -r .visit.id)
assert_eq "visit requested with the assignment letter (legal's record)" "REQUESTED legal-01指派函〔YYYY〕$LA" \
	"$(echo "$A" | jq -r '"\(.visit.state) \(.assignment_letter | sub("〔[0-9]{4}〕"; "〔YYYY〕"))"')"
wait_for 5 grep -q '"legal.aid.visit-booked"' "$XZ_T/legal.txt" || true
V=$(xz call prison.visit.get "{$ADMIN,\"id\":\"$VID\"}")
assert_eq "approved by the prison's own check of the licence and the letter" "VERIFIED plugin:prison 11101201010001 $(echo "$A" | jq -r .assignment_letter)" \
	"$(echo "$V" | jq -r '"\(.check.result) \(.decided_by) \(.check.licence) \(.letter)"')"
assert_eq "the prison's visit" "BOOKED|LEGAL|$PRISONER|$LA|Li Wei" \
	"$(echo "$V" | jq -r '"\(.state)|\(.type)|\(.prisoner_id)|\(.legal_aid_id)|\(.visitor.name)"')"
assert_eq "asked for 48 h after the assignment" "$(($(echo "$A" | jq -r .assigned_ms) + 48 * H))" \
	"$(echo "$V" | jq -r '.requested_slot_ms // .slot_ms')"
assert_eq "booked by the prison in its visiting hours, in a visiting room" "true HJ-1" \
	"$(echo "$V" | jq -r '"\(.slot_ms >= (.requested_slot_ms // .slot_ms) and (((.slot_ms / 60000 + 480) % 1440) >= 540)) \(.room)"')"
assert_eq "visit-booked event, with the prison's slot and room" "$VID HJ-1 $(echo "$V" | jq -r .slot_ms)" \
	"$(grep '"legal.aid.visit-booked"' "$XZ_T/legal.txt" | jq -r '.data | "\(.visit_id) \(.room) \(.slot_ms)"')"
assert_eq "visit booked (legal's record)" BOOKED \
	"$(lcall legal.aid.get "\"id\":\"$LA\",\"purpose\":\"flow 1\"" | jq -r .visit.state)"

echo "-- 4. service, visit, closure"
assert_eq "in service" IN_SERVICE "$(lcall legal.aid.start-service "\"id\":\"$LA\"" | jq -r .state)"
advance $((2 * D))
check "visit completed at the prison" xz call prison.visit.complete \
	"{$ADMIN,\"id\":\"$VID\",\"outcome\":\"ATTENDED\"}"
wait_for 5 grep -q '"legal.aid.visit-completed"' "$XZ_T/legal.txt" || true
assert_eq "legal follows the visit" "COMPLETED|ATTENDED" \
	"$(lcall legal.aid.get "\"id\":\"$LA\",\"purpose\":\"flow 1\"" | jq -r '"\(.visit.state)|\(.visit.outcome)"')"
C=$(lcall legal.aid.close "\"id\":\"$LA\",\"outcome\":\"PETITION_FILED\"")
assert_eq "closed" CLOSED "$(echo "$C" | jq -r .state)"
wait_for 5 grep -q '"legal.aid.closed"' "$XZ_T/legal.txt" || true
assert_eq "outcome published for the prisoner's record" "$PRISONER|PETITION_FILED|INMATE" \
	"$(grep '"legal.aid.closed"' "$XZ_T/legal.txt" | jq -r '.data | "\(.prisoner_id)|\(.outcome)|\(.applicant_type)"')"
APP=$(lcall legal.aid.get "\"id\":\"$LA\",\"purpose\":\"flow 1\"")
assert_eq "every clock met" "forward:MET review:MET assign:MET" \
	"$(echo "$APP" | jq -r '[.clocks[] | "\(.clock):\(.status)"] | join(" ")')"
assert_eq "history" "create receive start-review grant assign visit-requested visit-approved visit-booked start-service visit-completed close" \
	"$(echo "$APP" | jq -r '[.history[].action] | join(" ")')"
assert_eq "no SLA breach" 0 "$(grep -c sla-breached "$XZ_T/legal.txt" || true)"

if [ $WITH_AUDIT = 1 ]; then
	echo "-- 5. the audit trail"
	sleep 0.3
	assert_eq "audit of the application" \
		"CREATE:created:FORWARDED VIEW:disclosed UPDATE:FORWARDED->RECEIVED UPDATE:RECEIVED->UNDER_REVIEW REFUSE:bad_request UPDATE:UNDER_REVIEW->GRANTED UPDATE:GRANTED->ASSIGNED UPDATE:visit_requested:$VID VIEW:disclosed UPDATE:visit_approved:$VID UPDATE:visit_booked:$VID VIEW:disclosed UPDATE:ASSIGNED->IN_SERVICE UPDATE:visit_completed:$VID VIEW:disclosed UPDATE:IN_SERVICE->CLOSED VIEW:disclosed" \
		"$(audit_rows "\"subject_id\":\"$LA\"" | jq -r '"\(.action):\(.outcome)"' | tr '\n' ' ' | sed 's/ $//')"
	assert_eq "who acted (legal's officer; the prison read the case to check the letter and approved; its 狱政科 officer completed the visit)" "legal plugin:prison tester zhaolei" \
		"$(audit_rows "\"subject_id\":\"$LA\"" | jq -r .who | sort -u | tr '\n' ' ' | sed 's/ $//')"
	assert_eq "the prison's side: kiosk created, forwarded, read" "CREATE UPDATE VIEW" \
		"$(audit_rows "\"subject_id\":\"$KID\"" | jq -r .action | tr '\n' ' ' | sed 's/ $//')"
	assert_eq "the prison's side: visit requested, approved, booked, read, completed" \
		"CREATE UPDATE UPDATE VIEW UPDATE" \
		"$(audit_rows "\"subject_id\":\"$VID\"" | jq -r .action | tr '\n' ' ' | sed 's/ $//')"
	assert_eq "the chain verifies" true "$(lcall audit.verify | jq -r .ok)"
else
	skip "audit checks: the audit plugin is not built"
fi
kill "$LEGAL_SUB" 2>/dev/null || true
stop_node
finish
