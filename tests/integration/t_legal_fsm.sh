#!/usr/bin/env bash
# t_legal_fsm.sh - every transition of the legal plugin's state machines
# (service request, legal-aid application under the 法律援助法 2021, duty
# lawyer's shift) on a real node: each allowed one is driven and checked
# (state, history, event), each refused one answers "invalid_state" naming
# the current state and the allowed actions, and changes nothing. The
# expected tables are written here independently of legal_fsm.lua. Also:
# 先行提供 urgent aid served before the review (art. 44), change of
# provider (art. 55), termination on an art. 48 ground and the objection to
# it decided by the justice bureau (art. 49), the means test and its art.
# 42 exemptions, 申诉 for a sentenced prisoner, duty lawyers (arts. 14, 30).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
. "$XZ_SRC/plugins/legal/tests/flowlib.sh"
flow_node legal

# Providers so that "assign" and "change-provider" can succeed; "tester"
# (lcall's user) is their lawyer, so may start and close the cases.
for L in L1 L2; do
	check "provider $L added" lcall legal.provider.add "\"id\":\"$L\",\"type\":\"LAWYER\",
	  \"name\":\"Li Wei\",\"licence\":\"1110120001000$L\",\"region\":\"R1\",\"capacity\":100,
	  \"specialties\":[\"CRIMINAL\",\"CIVIL\"],\"conflicts\":[],\"user\":\"tester\""
done

# body AGG ACTION: the request's fields as a Lua table constructor's.
lbody() {
	case "$1.$2" in
	request.assign) echo 'to = "staff-3"' ;;
	request.refer) echo 'to = "MEDIATION"' ;;
	request.answer) echo 'answer = "Article 12 applies"' ;;
	request.rate-bad) echo 'score = 1' ;;
	request.rate) echo 'score = 5' ;;
	request.revisit) echo 'note = "called back, satisfied now"' ;;
	request.callback) echo 'callback_at_ms = 4102444800000' ;;
	aid.request-supplement) echo 'items = { "income certificate" }' ;;
	aid.close) echo 'outcome = "DEFENDED"' ;;
	aid.provide-urgent) echo 'ground = "PRESERVATION"' ;;
	aid.terminate) echo 'ground = "ASSISTED_REQUEST", reason = "asked to end"' ;;
	aid.change-provider) echo 'reason = "the assisted person asked for another lawyer"' ;;
	aid.evaluate) echo 'method = "FILE_CHECK", grade = "PASS"' ;;
	aid.revisit) echo 'satisfied = true, note = "content"' ;;
	duty.help) echo 'person_id = "S-0001", kind = "CONSULTATION"' ;;
	*) echo 'reason = "because"' ;;
	esac
}
LUA_CENTRE='actor = { user = "tester", roles = { "hotline_operator", "legal_reviewer", "legal_head", "lawyer", "duty_lawyer" }, agency = "legal-01" }'
LUA_BUREAU='actor = { user = "bureau-1", role = "justice_bureau", agency = "justice-01" }'
lactor() {
	case "$1" in
	object | uphold | overturn) echo "$LUA_BUREAU" ;;
	*) echo "$LUA_CENTRE" ;;
	esac
}

# console CHUNK: run a Lua chunk on the node (one process for many
# requests: xiezhi console -e) and print its first result.
console() {
	xz console -e "$1" | jq -r '.results[0]'
}

# drive AGG ID ACTION:STATE...: apply actions in turn (in one console
# chunk); each must succeed and lead to the state after the colon.
drive() {
	local agg=$1 id=$2 step action b chunk steps=() want got i=0
	shift 2
	chunk="local out = {}"
	for step in "$@"; do
		action=${step%%:*}
		b=$(lbody "$agg" "$action")
		[ "$action" = rate-bad ] && action=rate
		chunk="$chunk
do local r, c, m = xz.request(\"legal.$agg.$action\", { $(lactor "$action"), id = \"$id\", $b })
out[#out + 1] = r and r.state or (tostring(c) .. \": \" .. tostring(m)) end"
		steps+=("$step")
	done
	chunk="$chunk
return table.concat(out, \"\\n\")"
	mapfile -t got < <(console "$chunk")
	for step in "${steps[@]}"; do
		action=${step%%:*}
		want=${step##*:}
		assert_eq "$agg $id $action -> $want" "$want" "${got[$i]:-none}"
		i=$((i + 1))
	done
}

# refusals AGG ID STATE ALLOWED [NOPROV]: every action not in ALLOWED is
# refused with the exact message (all tried in one console chunk); the
# state stays. NOPROV: the record has no provider, so a lawyer's action
# (start-service, close) is refused first as not their case.
refusals() {
	local agg=$1 id=$2 state=$3 allowed=$4 noprov=${5:-} a actions noun chunk refused=() got i=0 want
	case "$agg" in
	aid)
		actions="receive start-review request-supplement supplement provide-urgent
		  grant refuse object uphold overturn assign change-provider start-service
		  close terminate evaluate revisit"
		noun="legal-aid application" ;;
	request)
		actions="assign callback answer refer close rate revisit"
		noun="service request" ;;
	duty)
		actions="start help end cancel"
		noun="duty-lawyer shift" ;;
	esac
	chunk='local out = {}'
	for a in $actions; do
		case ", $allowed, " in *", $a, "*) continue ;; esac
		refused+=("$a")
		chunk="$chunk
do local r, c, m = xz.request(\"legal.$agg.$a\", { $(lactor "$a"), id = \"$id\", $(lbody "$agg" "$a") })
out[#out + 1] = r and (\"accepted: \" .. r.state) or (c .. \"|\" .. m) end"
	done
	chunk="$chunk
return table.concat(out, \"\\n\")"
	mapfile -t got < <(console "$chunk")
	for a in "${refused[@]}"; do
		want="invalid_state|legal.$agg.$a: $noun $id is $state; allowed actions: $allowed"
		if [ -n "$noprov" ] && { [ "$a" = start-service ] || [ "$a" = close ]; }; then
			want="forbidden|legal.$agg.$a: tester is not the provider of $noun $id"
		fi
		assert_eq "$agg $state refuses $a" "$want" "${got[$i]:-none}"
		i=$((i + 1))
	done
	assert_eq "$agg $id still $state" "$state" \
		"$(lcall "legal.$agg.get" "\"id\":\"$id\",\"purpose\":\"test\"" | jq -r .state)"
}

# ---- service requests ----------------------------------------------------
new_request() {
	lcall legal.request.create '"channel":"HOTLINE","question":"Can my employer withhold wages?","requester":{"name":"张三"}' | jq -r .id
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
assert_eq "history who and role" "tester|hotline_operator" "$(echo "$H" | jq -r '.history[-1] | "\(.who)|\(.role)"')"
assert_eq "a name in Chinese round-trips" "张三" "$(echo "$H" | jq -r .requester.name)"

# WeChat is a 12348 channel, with the tier of the service point
W=$(lcall legal.request.create '"channel":"WECHAT","question":"离婚财产如何分割？","tier":"WORKSTATION","point_id":"WS-07"')
assert_eq "WeChat request at a workstation" "NEW|WECHAT|WORKSTATION" "$(echo "$W" | jq -r '"\(.state)|\(.channel)|\(.tier)"')"

# field validation, exact texts
assert_exit "create without channel" 1 lcall legal.request.create '"question":"x"'
assert_eq "create message" 'legal.request.create: field "channel": is required' \
	"$(echo "$OUT" | jq -r .error.message)"
assert_exit "rate 6" 1 lcall legal.request.rate "\"id\":\"${RQ[ANSWERED]}\",\"score\":6"
assert_eq "rate message" 'legal.request.rate: field "score": must be an integer from 1 to 5' \
	"$(echo "$OUT" | jq -r .error.message)"
assert_exit "no actor" 1 xz call legal.request.assign '{"id":"SR-00000001","to":"x"}'
# without an actor, the caller itself acts: root on this machine is the
# node's administrator, who has no legal role
assert_eq "no actor: the caller acts" 'forbidden|legal.request.assign: needs the role hotline_operator or legal_reviewer; admin has admin' \
	"$(echo "$OUT" | jq -r '.error.code + "|" + .error.message')"
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
	  "matter":"申诉：不服生效判决","specialty":"CRIMINAL","means_checked":true,
	  "custodial":{"institution":"prison"}' | jq -r .id
}
new_citizen() {
	lcall legal.aid.open '"applicant_type":"CITIZEN","applicant":{"id":"C-1",
	  "name":"Zhang San"},"matter":"unpaid wages","specialty":"CIVIL",
	  "means_checked":true' | jq -r .id
}
declare -A LA
LA[FORWARDED]=$(new_forwarded)
F=$(lcall legal.aid.get "\"id\":\"${LA[FORWARDED]}\",\"purpose\":\"t\"")
assert_eq "custodial applicant opens FORWARDED; a prisoner's matter is a petition (申诉)" \
	"FORWARDED|PETITION" "$(echo "$F" | jq -r '.state + "|" + .case_type')"
LA[RECEIVED]=$(new_forwarded); drive aid "${LA[RECEIVED]}" receive:RECEIVED
LA[UNDER_REVIEW]=$(new_citizen); drive aid "${LA[UNDER_REVIEW]}" start-review:UNDER_REVIEW
LA[SUPPLEMENT_REQUESTED]=$(new_citizen)
drive aid "${LA[SUPPLEMENT_REQUESTED]}" request-supplement:SUPPLEMENT_REQUESTED
LA[URGENT_SERVICE]=$(new_citizen)
drive aid "${LA[URGENT_SERVICE]}" provide-urgent:URGENT_SERVICE
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
	supplement:UNDER_REVIEW grant:GRANTED assign:ASSIGNED change-provider:ASSIGNED \
	start-service:IN_SERVICE change-provider:IN_SERVICE revisit:IN_SERVICE
LA[CLOSED]=$(new_citizen)
drive aid "${LA[CLOSED]}" start-review:UNDER_REVIEW grant:GRANTED assign:ASSIGNED \
	start-service:IN_SERVICE close:CLOSED evaluate:CLOSED revisit:CLOSED
LA[TERMINATED]=$(new_citizen)
drive aid "${LA[TERMINATED]}" start-review:UNDER_REVIEW grant:GRANTED assign:ASSIGNED \
	terminate:TERMINATED
# the other paths: urgent aid confirmed, refused, changed, terminated; an
# objection to a termination overturned, then aid resumed
X=$(new_citizen); drive aid "$X" start-review:UNDER_REVIEW provide-urgent:URGENT_SERVICE \
	change-provider:URGENT_SERVICE grant:IN_SERVICE close:CLOSED
X=$(new_citizen); drive aid "$X" provide-urgent:URGENT_SERVICE refuse:REFUSED object:OBJECTION
X=$(new_citizen); drive aid "$X" provide-urgent:URGENT_SERVICE terminate:TERMINATED
X=$(new_citizen)
drive aid "$X" start-review:UNDER_REVIEW refuse:REFUSED object:OBJECTION \
	overturn:OVERTURNED assign:ASSIGNED start-service:IN_SERVICE terminate:TERMINATED \
	object:OBJECTION overturn:OVERTURNED assign:ASSIGNED

refusals aid "${LA[FORWARDED]}" FORWARDED "receive" noprov
refusals aid "${LA[RECEIVED]}" RECEIVED "start-review, request-supplement, provide-urgent" noprov
refusals aid "${LA[UNDER_REVIEW]}" UNDER_REVIEW "request-supplement, provide-urgent, grant, refuse" noprov
refusals aid "${LA[SUPPLEMENT_REQUESTED]}" SUPPLEMENT_REQUESTED "supplement" noprov
refusals aid "${LA[URGENT_SERVICE]}" URGENT_SERVICE "grant, refuse, change-provider, terminate"
refusals aid "${LA[GRANTED]}" GRANTED "assign" noprov
refusals aid "${LA[REFUSED]}" REFUSED "object" noprov
refusals aid "${LA[OBJECTION]}" OBJECTION "uphold, overturn" noprov
refusals aid "${LA[OVERTURNED]}" OVERTURNED "assign" noprov
refusals aid "${LA[ASSIGNED]}" ASSIGNED "change-provider, start-service, terminate"
refusals aid "${LA[IN_SERVICE]}" IN_SERVICE "change-provider, close, terminate, revisit"
refusals aid "${LA[UPHELD]}" UPHELD "none (final state)" noprov
refusals aid "${LA[CLOSED]}" CLOSED "evaluate, revisit"
refusals aid "${LA[TERMINATED]}" TERMINATED "object" noprov

# 先行提供: the provider serves before the review ends; the review clock
# runs on; the grant keeps the provider, who is serving already
U=$(lcall legal.aid.get "\"id\":\"${LA[URGENT_SERVICE]}\",\"purpose\":\"t\"")
assert_eq "urgent aid: provider at once, review still running" "L1|PRESERVATION|review:RUNNING" \
	"$(echo "$U" | jq -r '"\(.provider_id)|\(.urgent.ground)|" + ([.clocks[] | "\(.clock):\(.status)"] | join(" "))')"
assert_exit "urgent aid on a limitation 10 days away refused" 1 lcall legal.aid.provide-urgent \
	"\"id\":\"${LA[UNDER_REVIEW]}\",\"ground\":\"LIMITATION_EXPIRING\",\"limitation_due_ms\":$(($(now_ms) + 10 * 86400000))"
assert_contains "art. 44 (1) named" "less than 7 days away (art. 44 (1))" "$(echo "$OUT" | jq -r .error.message)"
assert_eq "urgent aid on a limitation 5 days away" URGENT_SERVICE "$(lcall legal.aid.provide-urgent \
	"\"id\":\"${LA[UNDER_REVIEW]}\",\"ground\":\"LIMITATION_EXPIRING\",\"limitation_due_ms\":$(($(now_ms) + 5 * 86400000))" | jq -r .state)"
# change of provider: from L1 to L2 and back, recorded
C=$(lcall legal.aid.get "\"id\":\"${LA[IN_SERVICE]}\",\"purpose\":\"t\"")
assert_eq "provider changed twice" "L1>L2 L2>L1|L1" \
	"$(echo "$C" | jq -r '([.provider_changes[] | "\(.from)>\(.to)"] | join(" ")) + "|" + .provider_id')"
assert_exit "change to the current provider refused" 1 lcall legal.aid.change-provider \
	"\"id\":\"${LA[IN_SERVICE]}\",\"provider_id\":\"L1\",\"reason\":\"x\""
# termination needs an art. 48 ground; the objection to it goes to the bureau
assert_exit "terminate without a ground" 1 lcall legal.aid.terminate "\"id\":\"${LA[ASSIGNED]}\",\"reason\":\"x\""
assert_eq "ground required" 'legal.aid.terminate: field "ground": is required' "$(echo "$OUT" | jq -r .error.message)"
T=$(lcall legal.aid.get "\"id\":\"$X\",\"purpose\":\"t\"")
assert_eq "objection to a termination overturned by the bureau" "termination|OVERTURNED|bureau-1|justice-01" \
	"$(echo "$T" | jq -r '"\(.objection_of)|\(.objection_decision.decision)|\(.objection_decision.by)|\(.objection_decision.agency)"')"
# evaluation and revisit on the closed case
E=$(lcall legal.aid.get "\"id\":\"${LA[CLOSED]}\",\"purpose\":\"t\"")
assert_eq "quality evaluated and revisited" "FILE_CHECK:PASS|true" \
	"$(echo "$E" | jq -r '"\(.evaluations[0].method):\(.evaluations[0].grade)|\(.revisits[0].satisfied)"')"

# notified defence: no review, GRANTED at once with the assignment clock
ND=$(lcall legal.aid.open '"applicant_type":"NOTIFIED_DEFENCE","applicant":{"id":"D-1"},
  "matter":"murder trial","notified_by":"court-01"')
assert_eq "notified defence opens GRANTED" "GRANTED|assign|RUNNING|CRIMINAL_DEFENCE" \
	"$(lcall legal.aid.get "\"id\":\"$(echo "$ND" | jq -r .id)\",\"purpose\":\"t\"" |
		jq -r '.state + "|" + .clocks[0].clock + "|" + .clocks[0].status + "|" + .case_type')"

# means test (arts. 41, 42): custody does not exempt; the exemptions are
# the article's, and "other" ones need their basis
for who in CITIZEN INMATE; do
	C=$(lcall legal.aid.open "\"applicant_type\":\"$who\",\"matter\":\"divorce\"" | jq -r .id)
	drive aid "$C" start-review:UNDER_REVIEW
	assert_exit "$who without means check refused" 1 lcall legal.aid.grant "\"id\":\"$C\""
	assert_eq "$who means check message" "bad_request|legal.aid.grant: application $C needs a means check (法律援助法 art. 41): give \"means_checked\": true once the financial hardship is verified, or an exemption of art. 42 (\"means_exemption\")" \
		"$(echo "$OUT" | jq -r '.error.code + "|" + .error.message')"
done
assert_exit "other exemption without basis" 1 lcall legal.aid.grant "\"id\":\"$C\",\"means_exemption\":\"ART42_OTHER\""
assert_exit "an exemption not in the law" 1 lcall legal.aid.grant "\"id\":\"$C\",\"means_exemption\":\"IN_CUSTODY\""
assert_contains "the allowed exemptions are listed" "ART42_MIGRANT_WORKER" "$(echo "$OUT" | jq -r .error.message)"
G=$(lcall legal.aid.grant "\"id\":\"$C\",\"means_exemption\":\"ART42_SOCIAL_ASSISTANCE\"")
assert_eq "granted on an art. 42 exemption" "GRANTED|42(2)|true" \
	"$(echo "$G" | jq -r '"\(.state)|\(.means_exemption_article)|\(.means_exempt)"')"
assert_exit "refuse without reason" 1 lcall legal.aid.refuse "\"id\":\"${LA[GRANTED]}\""
assert_eq "refuse message" 'legal.aid.refuse: field "reason": is required' \
	"$(echo "$OUT" | jq -r .error.message)"
assert_exit "get without purpose" 1 lcall legal.aid.get "\"id\":\"$C\""
assert_eq "purpose message" 'legal.aid.get: "purpose" (why you read this record) is required' \
	"$(echo "$OUT" | jq -r .error.message)"

# a closed or terminated case frees its provider's capacity
check "provider L9" lcall legal.provider.add '"id":"L9","type":"LAWYER","name":"Wang",
  "licence":"9","region":"R9","capacity":5,"specialties":["CIVIL"],"conflicts":[],"user":"tester"'
for i in 1 2 3; do
	Y=$(new_citizen)
	drive aid "$Y" start-review:UNDER_REVIEW grant:GRANTED
	check "assigned to L9" lcall legal.aid.assign "\"id\":\"$Y\",\"provider_id\":\"L9\""
	[ $i = 1 ] && drive aid "$Y" start-service:IN_SERVICE close:CLOSED
	[ $i = 2 ] && drive aid "$Y" terminate:TERMINATED
done
assert_eq "provider load: 3 assigned, 1 closed, 1 terminated" 1 "$(lcall legal.provider.get '"id":"L9"' | jq -r .load)"

# ---- duty lawyers (arts. 14, 30) ------------------------------------------
echo "-- duty lawyers"
check "duty lawyer in the directory" lcall legal.provider.add '"id":"DL-LAW-1","type":"LAWYER",
  "name":"赵律师","licence":"15101201110001","region":"R1","capacity":0,"duty":true,"user":"tester"'
NOW=$(now_ms)
new_shift() {
	lcall legal.duty.schedule "\"provider_id\":\"DL-LAW-1\",\"station\":{\"type\":\"DETENTION_HOUSE\",
	  \"agency\":\"detention-01\",\"name\":\"某看守所\"},\"start_ms\":$NOW,\"end_ms\":$((NOW + 8 * 3600000))" | jq -r .id
}
S1=$(new_shift)
assert_eq "shift scheduled" SCHEDULED "$(lcall legal.duty.get "\"id\":\"$S1\",\"purpose\":\"t\"" | jq -r .state)"
drive duty "$S1" start:ON_DUTY help:ON_DUTY end:ENDED
S2=$(new_shift); drive duty "$S2" cancel:CANCELLED
S3=$(new_shift)
S4=$(new_shift); drive duty "$S4" start:ON_DUTY
refusals duty "$S3" SCHEDULED "start, cancel"
refusals duty "$S4" ON_DUTY "help, end"
refusals duty "$S1" ENDED "none (final state)"
D=$(lcall legal.duty.get "\"id\":\"$S1\",\"purpose\":\"t\"")
assert_eq "duty shift at the detention house with its help" "DETENTION_HOUSE|detention-01|CONSULTATION" \
	"$(echo "$D" | jq -r '"\(.station.type)|\(.station.agency)|\(.helps[0].kind)"')" || true
assert_exit "a lawyer without duty cannot be scheduled" 1 lcall legal.duty.schedule \
	"\"provider_id\":\"L9\",\"station\":{\"type\":\"COURT\",\"agency\":\"court-01\"},\"start_ms\":$NOW,\"end_ms\":$((NOW + 1))"
assert_eq "duty message" "bad_request|legal.duty.schedule: provider L9 is not a duty lawyer (a LAWYER with duty: true)" \
	"$(echo "$OUT" | jq -r '.error.code + "|" + .error.message')"

# events on the bus for one full path
# (xiezhi sub shows the requests too; without a prison on this node the
# visit booking fails and says so)
sub_bg 'legal.aid.*' 15 "$XZ_T/sub.txt"
Y=$(new_forwarded)
drive aid "$Y" receive:RECEIVED start-review:UNDER_REVIEW grant:GRANTED \
	assign:ASSIGNED start-service:IN_SERVICE close:CLOSED
sub_wait "$XZ_T/sub.txt" 15 || true
jq -c 'select(.data.actor == null)' "$XZ_T/sub.txt" >"$XZ_T/ev.txt"
assert_eq "event topics" "opened received review-started granted assigned visit-failed service-started closed" \
	"$(jq -r '.topic | split(".")[2]' "$XZ_T/ev.txt" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "closed event" "CLOSED|IN_SERVICE|DEFENDED|A0001AA|tester|lawyer" \
	"$(tail -n1 "$XZ_T/ev.txt" | jq -r '.data | "\(.state)|\(.from)|\(.outcome)|\(.prisoner_id)|\(.who)|\(.role)"')"

stop_node
finish
