#!/usr/bin/env bash
# t_legal_fsm.sh - every transition of the legal plugin's two state
# machines (service request, legal-aid application) on a real node: each
# allowed one is driven and checked (state, history, event, audit), each
# refused one answers "invalid_state" naming the current state and the
# allowed actions, and changes nothing. The expected tables are written
# here independently of legal_fsm.lua.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
. "$XZ_SRC/plugins/legal/tests/flowlib.sh"
flow_node legal

# A provider so that "assign" can succeed.
check "provider added" lcall legal.provider.add '"id":"L1","type":"LAWYER",
  "name":"Li Wei","licence":"11101200010001","region":"R1","capacity":100,
  "specialties":["CRIMINAL","CIVIL"],"conflicts":[]'

# body ACTION: the fields an action needs (refused ones never read them).
body() {
	case "$1" in
	assign) echo '"to":"staff-3"' ;;
	refer) echo '"to":"MEDIATION"' ;;
	answer) echo '"answer":"Article 12 applies"' ;;
	rate-bad) echo '"score":1' ;;
	rate) echo '"score":5' ;;
	revisit) echo '"note":"called back, satisfied now"' ;;
	request-supplement) echo '"items":["income certificate"]' ;;
	close) echo '"outcome":"DEFENDED"' ;;
	*) echo '"reason":"because"' ;;
	esac
}

# drive AGG ID ACTION...: apply actions in turn, each must succeed and
# lead to the state given after a colon (assign:ASSIGNED).
drive() {
	local agg=$1 id=$2 step action want b got
	shift 2
	for step in "$@"; do
		action=${step%%:*}
		want=${step##*:}
		b=$(body "$action")
		[ "$action" = rate-bad ] && action=rate
		if [ "$agg" = aid ] && [ "$action" = assign ]; then b='"reason":"x"'; fi
		got=$(lcall "legal.$agg.$action" "\"id\":\"$id\",$b" | jq -r .state) ||
			got="error: $got"
		assert_eq "$agg $id $action -> $want" "$want" "$got"
	done
}

# refusals AGG ID STATE ALLOWED: every action not in ALLOWED is refused
# with the exact message; the state stays.
refusals() {
	local agg=$1 id=$2 state=$3 allowed=$4 a actions noun msg
	if [ "$agg" = aid ]; then
		actions="receive start-review request-supplement supplement grant
		  refuse object uphold overturn assign start-service close terminate"
		noun="legal-aid application"
	else
		actions="assign callback answer refer close rate revisit"
		noun="service request"
	fi
	for a in $actions; do
		case ", $allowed, " in *", $a, "*) continue ;; esac
		assert_exit "$agg $state refuses $a" 1 \
			lcall "legal.$agg.$a" "\"id\":\"$id\",$(body "$a")"
		msg="legal.$agg.$a: $noun $id is $state; allowed actions: $allowed"
		assert_eq "$agg $state $a message" "invalid_state|$msg" \
			"$(echo "$OUT" | jq -r '.error.code + "|" + .error.message')"
	done
	assert_eq "$agg $id still $state" "$state" \
		"$(lcall "legal.$agg.get" "\"id\":\"$id\",\"purpose\":\"test\"" | jq -r .state)"
}

# ---- service requests ----------------------------------------------------
new_request() {
	lcall legal.request.create '"channel":"HOTLINE","question":"Can my employer withhold wages?","requester":{"name":"Zhang San"}' | jq -r .id
}
echo "-- service requests"
declare -A RQ
RQ[NEW]=$(new_request)
RQ[ASSIGNED]=$(new_request); drive request "${RQ[ASSIGNED]}" assign:ASSIGNED
RQ[CALLBACK_PENDING]=$(new_request)
drive request "${RQ[CALLBACK_PENDING]}" assign:ASSIGNED callback:CALLBACK_PENDING
RQ[ANSWERED]=$(new_request)
drive request "${RQ[ANSWERED]}" assign:ASSIGNED answer:ANSWERED
RQ[REFERRED]=$(new_request); drive request "${RQ[REFERRED]}" refer:REFERRED
RQ[CLOSED]=$(new_request)
drive request "${RQ[CLOSED]}" assign:ASSIGNED answer:ANSWERED close:CLOSED
RQ[REVISIT]=$(new_request)
drive request "${RQ[REVISIT]}" assign:ASSIGNED answer:ANSWERED rate-bad:REVISIT
# the remaining allowed pairs
X=$(new_request); drive request "$X" assign:ASSIGNED callback:CALLBACK_PENDING \
	assign:ASSIGNED callback:CALLBACK_PENDING answer:ANSWERED rate:ANSWERED \
	close:CLOSED rate:CLOSED rate-bad:REVISIT revisit:CLOSED
X=$(new_request); drive request "$X" assign:ASSIGNED refer:REFERRED close:CLOSED
X=$(new_request); drive request "$X" assign:ASSIGNED callback:CALLBACK_PENDING \
	refer:REFERRED

refusals request "${RQ[NEW]}" NEW "assign, refer"
refusals request "${RQ[ASSIGNED]}" ASSIGNED "callback, answer, refer"
refusals request "${RQ[CALLBACK_PENDING]}" CALLBACK_PENDING "assign, answer, refer"
refusals request "${RQ[ANSWERED]}" ANSWERED "close, rate"
refusals request "${RQ[REFERRED]}" REFERRED "close"
refusals request "${RQ[CLOSED]}" CLOSED "rate"
refusals request "${RQ[REVISIT]}" REVISIT "revisit"

# history of the long path: every step with from, to and who
H=$(lcall legal.request.get "\"id\":\"$X\",\"purpose\":\"test\"")
assert_eq "history rows" "create:-:NEW assign:NEW:ASSIGNED callback:ASSIGNED:CALLBACK_PENDING refer:CALLBACK_PENDING:REFERRED" \
	"$(echo "$H" | jq -r '[.history[] | "\(.action):\(.from // "-"):\(.to)"] | join(" ")')"
assert_eq "history who" "officer-7" "$(echo "$H" | jq -r '.history[-1].who')"

# field validation, exact texts
assert_exit "create without channel" 1 lcall legal.request.create '"question":"x"'
assert_eq "create message" 'legal.request.create: "channel" (HOTLINE, WEB, APP, HALL, KIOSK, INMATE_KIOSK) and "question" are required' \
	"$(echo "$OUT" | jq -r .error.message)"
assert_exit "rate 6" 1 lcall legal.request.rate "\"id\":\"${RQ[ANSWERED]}\",\"score\":6"
assert_eq "rate message" 'legal.request.rate: "score" must be 1 (very dissatisfied) to 5 (very satisfied)' \
	"$(echo "$OUT" | jq -r .error.message)"
assert_exit "no actor" 1 xz call legal.request.assign '{"id":"SR-00000001"}'
assert_eq "no actor message" 'legal.request.assign: "actor" {"user", "role", "agency"} is required' \
	"$(echo "$OUT" | jq -r .error.message)"
assert_exit "unknown id" 1 lcall legal.request.assign '"id":"SR-99","to":"x"'
assert_eq "unknown id message" "not_found|legal.request.assign: no service request with id SR-99" \
	"$(echo "$OUT" | jq -r '.error.code + "|" + .error.message')"

# referral to legal aid opens an application
R=$(new_request)
OUTR=$(lcall legal.request.refer "\"id\":\"$R\",\"to\":\"LEGAL_AID\",\"means_checked\":true")
AIDR=$(echo "$OUTR" | jq -r .aid_id)
assert_eq "referred to legal aid" "REFERRED" "$(echo "$OUTR" | jq -r .state)"
assert_eq "application opened RECEIVED" "RECEIVED|CITIZEN|$R" \
	"$(lcall legal.aid.get "\"id\":\"$AIDR\",\"purpose\":\"test\"" | jq -r '.state + "|" + .applicant_type + "|" + .service_request_id')"

# ---- legal-aid applications ----------------------------------------------
echo "-- legal-aid applications"
new_forwarded() {
	lcall legal.aid.open '"applicant_type":"INMATE","prisoner_id":"A0001AA",
	  "matter":"appeal against sentence","specialty":"CRIMINAL",
	  "custodial":{"institution":"prison"}' | jq -r .id
}
new_citizen() {
	lcall legal.aid.open '"applicant_type":"CITIZEN","applicant":{"id":"C-1",
	  "name":"Zhang San"},"matter":"unpaid wages","specialty":"CIVIL",
	  "means_checked":true' | jq -r .id
}
declare -A LA
LA[FORWARDED]=$(new_forwarded)
assert_eq "custodial applicant opens FORWARDED" FORWARDED \
	"$(lcall legal.aid.get "\"id\":\"${LA[FORWARDED]}\",\"purpose\":\"t\"" | jq -r .state)"
LA[RECEIVED]=$(new_forwarded); drive aid "${LA[RECEIVED]}" receive:RECEIVED
LA[UNDER_REVIEW]=$(new_citizen); drive aid "${LA[UNDER_REVIEW]}" start-review:UNDER_REVIEW
LA[SUPPLEMENT_REQUESTED]=$(new_citizen)
drive aid "${LA[SUPPLEMENT_REQUESTED]}" request-supplement:SUPPLEMENT_REQUESTED
LA[GRANTED]=$(new_citizen); drive aid "${LA[GRANTED]}" start-review:UNDER_REVIEW grant:GRANTED
LA[REFUSED]=$(new_citizen); drive aid "${LA[REFUSED]}" start-review:UNDER_REVIEW refuse:REFUSED
LA[OBJECTION]=$(new_citizen)
drive aid "${LA[OBJECTION]}" start-review:UNDER_REVIEW refuse:REFUSED object:OBJECTION
LA[UPHELD]=$(new_citizen)
drive aid "${LA[UPHELD]}" start-review:UNDER_REVIEW refuse:REFUSED object:OBJECTION uphold:UPHELD
LA[OVERTURNED]=$(new_citizen)
drive aid "${LA[OVERTURNED]}" start-review:UNDER_REVIEW refuse:REFUSED object:OBJECTION overturn:OVERTURNED
LA[ASSIGNED]=$(new_citizen)
drive aid "${LA[ASSIGNED]}" start-review:UNDER_REVIEW grant:GRANTED assign:ASSIGNED
LA[IN_SERVICE]=$(new_forwarded)
drive aid "${LA[IN_SERVICE]}" receive:RECEIVED request-supplement:SUPPLEMENT_REQUESTED \
	supplement:UNDER_REVIEW request-supplement:SUPPLEMENT_REQUESTED \
	supplement:UNDER_REVIEW grant:GRANTED assign:ASSIGNED start-service:IN_SERVICE
LA[CLOSED]=$(new_citizen)
drive aid "${LA[CLOSED]}" start-review:UNDER_REVIEW grant:GRANTED assign:ASSIGNED \
	start-service:IN_SERVICE close:CLOSED
LA[TERMINATED]=$(new_citizen)
drive aid "${LA[TERMINATED]}" start-review:UNDER_REVIEW grant:GRANTED assign:ASSIGNED \
	terminate:TERMINATED
X=$(new_citizen)
drive aid "$X" start-review:UNDER_REVIEW refuse:REFUSED object:OBJECTION \
	overturn:OVERTURNED assign:ASSIGNED start-service:IN_SERVICE terminate:TERMINATED

refusals aid "${LA[FORWARDED]}" FORWARDED "receive"
refusals aid "${LA[RECEIVED]}" RECEIVED "start-review, request-supplement"
refusals aid "${LA[UNDER_REVIEW]}" UNDER_REVIEW "request-supplement, grant, refuse"
refusals aid "${LA[SUPPLEMENT_REQUESTED]}" SUPPLEMENT_REQUESTED "supplement"
refusals aid "${LA[GRANTED]}" GRANTED "assign"
refusals aid "${LA[REFUSED]}" REFUSED "object"
refusals aid "${LA[OBJECTION]}" OBJECTION "uphold, overturn"
refusals aid "${LA[OVERTURNED]}" OVERTURNED "assign"
refusals aid "${LA[ASSIGNED]}" ASSIGNED "start-service, terminate"
refusals aid "${LA[IN_SERVICE]}" IN_SERVICE "close, terminate"
refusals aid "${LA[UPHELD]}" UPHELD "none (final state)"
refusals aid "${LA[CLOSED]}" CLOSED "none (final state)"
refusals aid "${LA[TERMINATED]}" TERMINATED "none (final state)"

# notified defence: no review, GRANTED at once with the assignment clock
ND=$(lcall legal.aid.open '"applicant_type":"NOTIFIED_DEFENCE","applicant":{"id":"D-1"},
  "matter":"murder trial","notified_by":"court-2"')
assert_eq "notified defence opens GRANTED" "GRANTED|assign|RUNNING" \
	"$(lcall legal.aid.get "\"id\":\"$(echo "$ND" | jq -r .id)\",\"purpose\":\"t\"" |
		jq -r '.state + "|" + .clocks[0].clock + "|" + .clocks[0].status')"

# means check: a citizen is granted only once it is done; custody exempts
C=$(lcall legal.aid.open '"applicant_type":"CITIZEN","matter":"divorce"' | jq -r .id)
drive aid "$C" start-review:UNDER_REVIEW
assert_exit "citizen without means check refused" 1 lcall legal.aid.grant "\"id\":\"$C\""
assert_eq "means check message" "bad_request|legal.aid.grant: application $C (CITIZEN) needs a means check: give \"means_checked\": true once the applicant's financial hardship is verified" \
	"$(echo "$OUT" | jq -r '.error.code + "|" + .error.message')"
assert_eq "granted once checked" GRANTED \
	"$(lcall legal.aid.grant "\"id\":\"$C\",\"means_checked\":true" | jq -r .state)"
assert_eq "inmate is means-exempt" true \
	"$(lcall legal.aid.get "\"id\":\"${LA[IN_SERVICE]}\",\"purpose\":\"t\"" | jq -r .means_exempt)"
assert_exit "refuse without reason" 1 lcall legal.aid.refuse "\"id\":\"${LA[UNDER_REVIEW]}\""
assert_eq "refuse message" 'legal.aid.refuse: "reason" (the ground of refusal, told to the applicant) is required' \
	"$(echo "$OUT" | jq -r .error.message)"
assert_exit "get without purpose" 1 lcall legal.aid.get "\"id\":\"$C\""
assert_eq "purpose message" 'legal.aid.get: "purpose" (why you read this record) is required' \
	"$(echo "$OUT" | jq -r .error.message)"

# a closed or terminated case frees its provider's capacity: 5 assigned,
# 3 of them closed or terminated
assert_eq "provider load" 2 "$(lcall legal.provider.get '"id":"L1"' | jq -r .load)"

# events on the bus for one full path
# (xiezhi sub shows the requests too: 7 requests and 8 events; without a
# prison on this node the visit booking fails and says so)
sub_bg 'legal.aid.*' 15 "$XZ_T/sub.txt"
Y=$(new_forwarded)
drive aid "$Y" receive:RECEIVED start-review:UNDER_REVIEW grant:GRANTED \
	assign:ASSIGNED start-service:IN_SERVICE close:CLOSED
sub_wait "$XZ_T/sub.txt" 15 || true
jq -c 'select(.data.actor == null)' "$XZ_T/sub.txt" >"$XZ_T/ev.txt"
assert_eq "event topics" "opened received review-started granted assigned visit-failed service-started closed" \
	"$(jq -r '.topic | split(".")[2]' "$XZ_T/ev.txt" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "closed event" "CLOSED|IN_SERVICE|DEFENDED|A0001AA|officer-7" \
	"$(tail -n1 "$XZ_T/ev.txt" | jq -r '.data | "\(.state)|\(.from)|\(.outcome)|\(.prisoner_id)|\(.who)"')"

stop_node
finish
