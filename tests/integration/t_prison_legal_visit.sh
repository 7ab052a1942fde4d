#!/usr/bin/env bash
# A lawyer's visit (律师会见) is the prison's decision (docs/scenarios.md,
# "Visits"): the legal plugin, after assigning a provider to a prisoner's
# legal-aid case, only requests the visit with the assignment letter (指派
# 函) and the lawyer's licence; the prison checks the licence against the
# legal plugin's provider directory (legal.provider.get) and the letter
# against the case (legal.aid.get), then approves and books it in its
# visiting hours, or rejects it with the reason; legal learns the outcome
# from the visit's events. A lawyer's own request with a wrong licence, a
# forged letter, a provider not in the directory or a case assigned to
# someone else is rejected; neither legal nor a lawyer may approve or book.
# With the check off, the 狱政科 (prison_admin) decides, and legal learns
# that too.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
. "$XZ_SRC/plugins/legal/tests/flowlib.sh"
. "$(dirname "$0")/prison_actors.sh"
flow_skip_unless prison legal
H=3600000
D=$((24 * H))

node() { # CHECK(true|false)
	xz_config <<EOF2
lua = { time_limit_ms = 5000; };
plugins = (
  { name = "legal"; kind = "lua"; path = "$LEGAL_DIR/legal.lua"; },
  { name = "prison"; kind = "so";
    options = { seed_demo_data = true; legal_visit_check = $1; }; } );
EOF2
	start_node
}
call() { xz call "$1" "$2" 2>/dev/null || true; }
errmsg() { xz call "$1" "$2" 2>/dev/null | json '.error.code + ": " + .error.message' || true; }
LAWYER='"actor":{"user":"tester","role":"lawyer","agency":"legal-01"}'

# assigned PRISONER: a kiosk request of the prisoner taken through legal
# aid up to the assignment; echoes the assign reply
assigned() {
	local kid la
	kid=$(xz call prison.kiosk.legal-aid "{$KIOSK,\"prisoner_id\":\"$1\",\"matter\":\"申诉\"}" | jq -r .id)
	wait_until 5 "[ \"\$(call prison.kiosk.get '{$ADMIN,\"id\":\"$kid\"}' | json .state)\" = FORWARDED ]" || true
	la=$(lcall legal.aid.list '"state":"FORWARDED"' | jq -r '.items[-1].id')
	advance $((20 * H))
	lcall legal.aid.receive "\"id\":\"$la\"" >/dev/null
	lcall legal.aid.start-review "\"id\":\"$la\"" >/dev/null
	advance $((2 * D))
	lcall legal.aid.grant "\"id\":\"$la\",\"means_checked\":true" >/dev/null
	lcall legal.aid.assign "\"id\":\"$la\",\"provider_id\":\"LAW-0001\""
}

node true
sub_bg 'legal.aid.*' 1000 "$XZ_T/legal.txt"
sub_bg 'prison.visit.>' 1000 "$XZ_T/prison.txt"
check "lawyer in the directory" lcall legal.provider.add '"id":"LAW-0001",
  "type":"LAWYER","name":"Li Wei","licence":"11101201010001","region":"R1",
  "capacity":5,"specialties":["CRIMINAL"],"conflicts":[],"user":"tester"'
check "another lawyer" lcall legal.provider.add '"id":"LAW-0002",
  "type":"LAWYER","name":"Wang Fang","licence":"11101201010002","region":"R1",
  "capacity":5,"specialties":["CRIMINAL"],"conflicts":[],"user":"tester2"'

echo "-- legal requests, the prison checks, approves and books"
A=$(assigned 5101000001)
LA=$(echo "$A" | jq -r .id)
VID=$(echo "$A" | jq -r .visit.id)
LETTER=$(echo "$A" | jq -r .assignment_letter)
assert_eq "legal only requested it, with the assignment letter" "REQUESTED $LETTER" \
	"$(echo "$A" | jq -r '"\(.visit.state) \(.visit.letter)"')"
assert_contains "the letter names the case" "$LA" "$LETTER"
wait_for 5 grep -q '"legal.aid.visit-booked"' "$XZ_T/legal.txt" || true
V=$(call prison.visit.get "{$ADMIN,\"id\":\"$VID\"}")
assert_eq "approved by the prison after checking licence and letter, booked in a room" \
	"BOOKED VERIFIED plugin:prison 11101201010001 HJ-1" \
	"$(echo "$V" | json '"\(.state) \(.check.result) \(.decided_by) \(.check.licence) \(.room)"')"
assert_eq "in the visiting hours (Monday-Friday, 09:00-11:30 or 14:00-17:00 Beijing time)" true \
	"$(echo "$V" | json '((.slot_ms / 60000 + 480) | floor) as $l | ($l % 1440) as $m | ((($l / 1440) | floor) + 3) % 7 < 5 and (($m >= 540 and $m + 30 <= 690) or ($m >= 840 and $m + 30 <= 1020))')"
assert_eq "the prison's events: requested, approved, booked" "requested approved booked" \
	"$(json '.topic' <"$XZ_T/prison.txt" | grep -E 'requested|approved|booked' | sed 's/prison.visit.//' | paste -sd' ')"
assert_eq "legal learned it: approved, booked, with slot and room" "approved booked HJ-1" \
	"$(json '.topic' <"$XZ_T/legal.txt" | grep -E 'approved|booked' | sed 's/legal.aid.visit-//' | paste -sd' ') $(grep '"legal.aid.visit-booked"' "$XZ_T/legal.txt" | json .data.room)"
assert_eq "legal's record of the visit" "BOOKED HJ-1" \
	"$(lcall legal.aid.get "\"id\":\"$LA\",\"purpose\":\"test\"" | jq -r '"\(.visit.state) \(.visit.room)"')"

echo "-- what the prison refuses"
REQ="\"prisoner_id\":\"5101000001\",\"type\":\"LEGAL\",\"legal_aid_id\":\"$LA\""
rejected() { # VISIT-ID: its state and the check's reason, once decided
	wait_until 5 "[ \"\$(call prison.visit.get '{$ADMIN,\"id\":\"$1\"}' | json .state)\" != REQUESTED ]" || true
	call prison.visit.get "{$ADMIN,\"id\":\"$1\"}" | json '"\(.state): \(.check.reason)"'
}
V1=$(call prison.visit.request "{$LAWYER,$REQ,\"letter\":\"$LETTER\",\"visitor\":{\"name\":\"Li Wei\",\"provider_id\":\"LAW-0001\",\"licence\":\"11101201099999\"}}" | json .id)
assert_eq "a licence that is not the directory's" \
	"REJECTED: licence 11101201099999 is not the licence of provider LAW-0001 in the legal-aid directory (11101201010001)" \
	"$(rejected "$V1")"
V2=$(call prison.visit.request "{$LAWYER,$REQ,\"letter\":\"伪造函〔2026〕1号\",\"visitor\":{\"name\":\"Li Wei\",\"provider_id\":\"LAW-0001\",\"licence\":\"11101201010001\"}}" | json .id)
assert_eq "a letter that is not the case's" \
	"REJECTED: assignment letter 伪造函〔2026〕1号 does not match the letter of legal-aid case $LA ($LETTER)" \
	"$(rejected "$V2")"
V3=$(call prison.visit.request "{$LAWYER,$REQ,\"letter\":\"$LETTER\",\"visitor\":{\"name\":\"Zhao\",\"provider_id\":\"LAW-9999\",\"licence\":\"11101201010009\"}}" | json .id)
assert_eq "a provider not in the directory" \
	"REJECTED: provider LAW-9999 is not in the legal-aid directory" "$(rejected "$V3")"
V4=$(call prison.visit.request "{$LAWYER,$REQ,\"letter\":\"$LETTER\",\"visitor\":{\"name\":\"Wang Fang\",\"provider_id\":\"LAW-0002\",\"licence\":\"11101201010002\"}}" | json .id)
assert_eq "a lawyer the case is not assigned to" \
	"REJECTED: legal-aid case $LA is assigned to provider LAW-0001, not to LAW-0002" "$(rejected "$V4")"
assert_eq "the rejection is published with its reason" \
	"licence 11101201099999 is not the licence of provider LAW-0001 in the legal-aid directory (11101201010001)" \
	"$(grep '"prison.visit.rejected"' "$XZ_T/prison.txt" | head -1 | json .data.reason)"
assert_eq "a LEGAL visit without the letter is refused" \
	"bad_request: prison.visit.request: a LEGAL visit needs the lawyer's licence (\"visitor\".\"licence\") and the letter (\"letter\": the assignment letter of a legal-aid case, or the law firm's)" \
	"$(errmsg prison.visit.request "{$LAWYER,$REQ,\"visitor\":{\"name\":\"Li Wei\",\"provider_id\":\"LAW-0001\",\"licence\":\"11101201010001\"}}")"
assert_eq "the schema is strict" "bad_request" \
	"$(call prison.visit.request "{$LAWYER,$REQ,\"letter\":\"x\",\"visitor\":{\"name\":\"Li Wei\",\"licence\":\"1\",\"phone\":\"110\"}}" | json .error.code)"

echo "-- who may approve and book"
V5=$(call prison.visit.request "{$ADMIN,\"prisoner_id\":\"5101000003\",\"type\":\"LEGAL\",\"letter\":\"某律师事务所函〔2026〕8号\",\"visitor\":{\"name\":\"周律师\",\"licence\":\"15101201010001\"}}" | json .id)
assert_eq "a lawyer's firm visit, without a legal-aid case: left to the 狱政科" REQUESTED \
	"$(sleep 0.5; call prison.visit.get "{$ADMIN,\"id\":\"$V5\"}" | json .state)"
assert_eq "the legal plugin may not approve it" \
	"forbidden: prison.visit.approve: role SYSTEM may not do this; it needs one of: prison_admin" \
	"$(errmsg prison.visit.approve "{$PLUGIN,\"id\":\"$V5\"}")"
assert_eq "nor a lawyer" \
	"forbidden: prison.visit.approve: role lawyer may not do this; it needs one of: prison_admin" \
	"$(errmsg prison.visit.approve "{$LAWYER,\"id\":\"$V5\"}")"
assert_eq "nor book it" "forbidden" \
	"$(call prison.visit.book "{$PLUGIN,\"id\":\"$V5\"}" | json .error.code)"
assert_eq "the 狱政科 approves it" "APPROVED zhaolei" \
	"$(call prison.visit.approve "{$ADMIN,\"id\":\"$V5\"}" | json '"\(.state) \(.decided_by)"')"
stop_node

echo "-- the check off: the 狱政科 decides, legal learns the rejection"
node false
sub_bg 'legal.aid.*' 1000 "$XZ_T/legal2.txt"
A=$(assigned 5101000002)
LA2=$(echo "$A" | jq -r .id)
VID2=$(echo "$A" | jq -r .visit.id)
sleep 0.5
assert_eq "not checked: it waits for the 狱政科" REQUESTED \
	"$(call prison.visit.get "{$ADMIN,\"id\":\"$VID2\"}" | json .state)"
check "someone publishes a forged booking on the prison's topic" xz pub prison.visit.booked \
	"{\"id\":\"$VID2\",\"to\":\"BOOKED\",\"room\":\"HJ-9\"}"
sleep 0.5
assert_eq "legal ignores it: only the prison plugin decides" REQUESTED \
	"$(lcall legal.aid.get "\"id\":\"$LA2\",\"purpose\":\"test\"" | jq -r .visit.state)"
check "the 狱政科 rejects it with a reason" xz call prison.visit.reject \
	"{$ADMIN,\"id\":\"$VID2\",\"reason\":\"罪犯正在医院治疗，另行安排\"}"
wait_for 5 grep -q '"legal.aid.visit-rejected"' "$XZ_T/legal2.txt" || true
assert_eq "legal learns it from the event, with the reason" "REJECTED 罪犯正在医院治疗，另行安排" \
	"$(grep '"legal.aid.visit-rejected"' "$XZ_T/legal2.txt" | json '.data | "\(.visit_state) \(.reason)"')"
assert_eq "legal's record says so" "REJECTED 罪犯正在医院治疗，另行安排" \
	"$(lcall legal.aid.get "\"id\":\"$LA2\",\"purpose\":\"test\"" | jq -r '"\(.visit.state) \(.visit.decision)"')"
stop_node
finish
