#!/usr/bin/env bash
# t_mediation.sh - people's mediation (人民调解, plugins/mediation) on a real
# node: application -> accepted -> mediated -> 调解协议 -> judicial
# confirmation requested -> closed; refusal (人民调解法 art. 17) and failure
# (art. 26); the one-month mediation clock and the 30-day confirmation
# window (art. 33) expiring on the kernel clock, also across a restart;
# who may do what (mediator, 12348 operator, justice bureau, a lawyer, a
# mediator of another committee or case); strict inputs; messages in
# English and in Chinese.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
. "$XZ_SRC/plugins/legal/tests/flowlib.sh"
unset LC_ALL LC_MESSAGES
MED_LUA="$XZ_SRC/plugins/mediation/mediation.lua"
[ -f "$MED_LUA" ] || skip_test "plugins/mediation is missing"
xz_config <<EOF2
lua = { time_limit_ms = 5000; };
plugins = ( { name = "mediation"; kind = "lua"; path = "$MED_LUA"; } );
EOF2
export LANG=C
start_node

DAY=86400000
# mcall USER ROLE AGENCY TOPIC [FIELDS]: a call as that person
mcall() { acall "$@"; }
med() { mcall med1 mediator township-01 "$@"; }
APP='"applicant":{"name":"张三","id_number":"11010519491231002X"},"respondent":{"name":"李四"},"dispute":"NEIGHBOUR","matter":"滴水檐纠纷"'
get() { med mediation.case.get "\"id\":\"$1\",\"purpose\":\"test\""; }
state() { get "$1" | jq -r .state; }
errmsg() { echo "$OUT" | jq -r '.error.code + "|" + .error.message'; }
emsg() { echo "$OUT" | jq -r .error.message; }

echo "-- the whole way: apply, accept, mediate, agree, confirmation, close"
A=$(mcall op1 hotline_operator legal-01 mediation.case.apply "$APP,\"channel\":\"HOTLINE\"" | jq -r .id)
assert_eq "filed by 12348" "MD-00000001" "$A"
assert_eq "APPLIED" APPLIED "$(state "$A")"
assert_eq "names kept as UTF-8" "张三|滴水檐纠纷" "$(get "$A" | jq -r '.applicant.name + "|" + .matter')"
assert_exit "agree before mediation" 1 med mediation.case.agree "\"id\":\"$A\",\"form\":\"WRITTEN\",\"terms\":\"t\""
assert_eq "state and allowed actions named" \
	"invalid_state|mediation.case.agree: mediation case $A is APPLIED; allowed actions: accept, refuse" "$(errmsg)"
T0=$(now_ms)
R=$(med mediation.case.accept "\"id\":\"$A\"")
assert_eq "accepted by med1" "ACCEPTED|med1" "$(echo "$R" | jq -r '.state + "|" + .mediator')"
assert_eq "one-month clock" 1 "$(echo "$R" | jq --argjson t "$T0" --argjson d $DAY \
	'.mediate_due_ms - $t >= 30 * $d and .mediate_due_ms - $t < 30 * $d + 60000' | grep -c true)"
check "a session" med mediation.case.mediate "\"id\":\"$A\",\"note\":\"双方到场\""
assert_eq "two sessions" "MEDIATED|2" \
	"$(med mediation.case.mediate "\"id\":\"$A\",\"note\":\"第二次\"" | jq -r '.state + "|" + (.sessions | length | tostring)')"
assert_eq "调解协议 (written)" "AGREED|WRITTEN" \
	"$(med mediation.case.agree "\"id\":\"$A\",\"form\":\"WRITTEN\",\"terms\":\"李四于月底前修好檐沟\"" | jq -r '.state + "|" + .agreement.form')"
check "confirmation applied within 30 days" med mediation.case.request-confirmation "\"id\":\"$A\",\"court\":\"court-01\""
assert_eq "closed" CLOSED "$(med mediation.case.close "\"id\":\"$A\",\"outcome\":\"CONFIRMED\"" | jq -r .state)"
assert_eq "history" "apply accept mediate mediate agree request-confirmation close" \
	"$(get "$A" | jq -r '[.history[].action] | join(" ")')"
assert_eq "clocks met" "mediate:MET confirm:MET" \
	"$(get "$A" | jq -r '[.clocks[] | "\(.clock):\(.status)"] | join(" ")')"
assert_exit "nothing after CLOSED" 1 med mediation.case.close "\"id\":\"$A\",\"outcome\":\"PERFORMED\""
assert_contains "final state" "allowed actions: none (final state)" "$(emsg)"

echo "-- refusal (art. 17) and failure (art. 26)"
B=$(med mediation.case.apply "$APP" | jq -r .id)
assert_eq "refused" "REFUSED|PARTY_REFUSES" \
	"$(med mediation.case.refuse "\"id\":\"$B\",\"ground\":\"PARTY_REFUSES\",\"reason\":\"李四明确拒绝\"" | jq -r '.state + "|" + .refusal.ground')"
C=$(med mediation.case.apply "$APP" | jq -r .id)
check "accept C" med mediation.case.accept "\"id\":\"$C\""
R=$(med mediation.case.fail "\"id\":\"$C\",\"ground\":\"NO_AGREEMENT\"")
assert_eq "failed" FAILED "$(echo "$R" | jq -r .state)"
assert_contains "parties told of other remedies" "arbitration, administrative or judicial remedies (人民调解法 art. 26)" "$(echo "$R" | jq -r .failure.advice)"

echo "-- who may do what"
assert_exit "a lawyer may not file" 1 mcall law1 lawyer legal-01 mediation.case.apply "$APP"
assert_eq "role refusal" "forbidden|mediation.case.apply: needs the role mediator or hotline_operator; law1 has lawyer" "$(errmsg)"
D=$(med mediation.case.apply "$APP" | jq -r .id)
assert_exit "12348 may not accept" 1 mcall op1 hotline_operator legal-01 mediation.case.accept "\"id\":\"$D\""
assert_contains "needs mediator" "needs the role mediator; op1 has hotline_operator" "$(emsg)"
assert_exit "a mediator of another committee" 1 mcall med9 mediator township-02 mediation.case.accept "\"id\":\"$D\""
assert_eq "agency refusal" "forbidden|mediation.case.accept: med9 acts for agency township-02, not for township-01" "$(errmsg)"
check "accept D" med mediation.case.accept "\"id\":\"$D\""
assert_exit "another mediator's case" 1 mcall med2 mediator township-01 mediation.case.mediate "\"id\":\"$D\",\"note\":\"n\""
assert_eq "own cases only" "forbidden|mediation.case.mediate: med2 is not the mediator of case $D (med1 is)" "$(errmsg)"
assert_eq "the bureau reads" ACCEPTED \
	"$(mcall bur1 justice_bureau justice-01 mediation.case.get "\"id\":\"$D\",\"purpose\":\"guidance\"" | jq -r .state)"
assert_exit "the bureau does not mediate" 1 mcall bur1 justice_bureau justice-01 mediation.case.mediate "\"id\":\"$D\",\"note\":\"n\""
assert_exit "a read needs a purpose" 1 med mediation.case.get "\"id\":\"$D\""
assert_contains "purpose named" '"purpose"' "$(emsg)"
assert_eq "list is thin" "$D|ACCEPTED|null" \
	"$(med mediation.case.list '"state":"ACCEPTED"' | jq -r ".cases[] | select(.id == \"$D\") | \"\(.id)|\(.state)|\(.applicant)\"")"

echo "-- bad input"
assert_exit "no dispute" 1 med mediation.case.apply '"applicant":{"name":"a"},"respondent":{"name":"b"},"matter":"m"'
assert_eq "required field named" 'bad_request|mediation.case.apply: field "dispute": is required' "$(errmsg)"
assert_exit "unknown dispute" 1 med mediation.case.apply "${APP/NEIGHBOUR/FEUD}"
assert_contains "allowed values named" 'field "dispute": must be one of' "$(emsg)"
assert_exit "unknown field" 1 med mediation.case.apply "$APP,\"fee\":100"
assert_contains "unknown field named" 'field "fee": unknown field' "$(emsg)"
assert_exit "note not a string" 1 med mediation.case.mediate "\"id\":\"$D\",\"note\":5"
assert_contains "type named" 'field "note": must be a string' "$(emsg)"
assert_exit "no such case" 1 med mediation.case.accept '"id":"MD-99999999"'
assert_eq "not found" "not_found|mediation.case.accept: no mediation case with id MD-99999999" "$(errmsg)"
assert_exit "payload actor that is not the caller" 1 xz call mediation.case.list '{"actor":"x"}'
assert_eq "still APPLIED-free: D untouched" ACCEPTED "$(state "$D")"

echo "-- oral agreement: no judicial confirmation"
check "mediate D" med mediation.case.mediate "\"id\":\"$D\",\"note\":\"n\""
assert_eq "oral agreement has no confirmation clock" "AGREED|null" \
	"$(med mediation.case.agree "\"id\":\"$D\",\"form\":\"ORAL\",\"terms\":\"t\"" | jq -r '.state + "|" + (.confirm_due_ms | tostring)')"
assert_exit "oral agreement to court" 1 med mediation.case.request-confirmation "\"id\":\"$D\",\"court\":\"court-01\""
assert_contains "written agreement needed" "(人民调解法 arts. 28, 29, 33)" "$(emsg)"

echo "-- the clocks run out (kernel clock), also across a restart"
E=$(med mediation.case.apply "$APP" | jq -r .id)
check "accept E" med mediation.case.accept "\"id\":\"$E\""
F=$(med mediation.case.apply "$APP" | jq -r .id)
check "accept F" med mediation.case.accept "\"id\":\"$F\""
check "mediate F" med mediation.case.mediate "\"id\":\"$F\",\"note\":\"n\""
check "agree F" med mediation.case.agree "\"id\":\"$F\",\"form\":\"WRITTEN\",\"terms\":\"t\""
sub_bg 'mediation.case.sla-breached' 1 "$XZ_T/breach.txt"
advance $((29 * DAY))
sleep 0.3
assert_eq "not yet at 29 days" 0 "$(wc -l <"$XZ_T/breach.txt")"
advance $((DAY + 1000))
wait_until 10 "grep -q '\"$E\"' '$XZ_T/breach.txt'" || true
assert_eq "mediation clock expired" "$E|mediate|ACCEPTED" \
	"$(jq -r '.data | "\(.id)|\(.clock)|\(.state)"' "$XZ_T/breach.txt" | head -1)"
assert_eq "clock EXPIRED on the record" "mediate:EXPIRED" \
	"$(get "$E" | jq -r '[.clocks[] | "\(.clock):\(.status)"] | join(" ")')"
assert_eq "F's confirmation window also closed" "confirm:EXPIRED" \
	"$(get "$F" | jq -r '[.clocks[] | select(.clock == "confirm") | "\(.clock):\(.status)"] | join(" ")')"
assert_exit "confirmation after 30 days" 1 med mediation.case.request-confirmation "\"id\":\"$F\",\"court\":\"court-01\""
assert_contains "art. 33 named" "within 30 days of the agreement taking effect (人民调解法 art. 33); case $F's window closed at" "$(emsg)"
check "an expired case can still end" med mediation.case.fail "\"id\":\"$E\",\"ground\":\"NO_AGREEMENT\""
G=$(med mediation.case.apply "$APP" | jq -r .id)
check "accept G" med mediation.case.accept "\"id\":\"$G\""
stop_node

echo "-- in Chinese, after a restart"
LANG=zh_CN.UTF-8 start_node
assert_exit "agree before mediation (zh)" 1 med mediation.case.agree "\"id\":\"$G\",\"form\":\"WRITTEN\",\"terms\":\"t\""
assert_eq "Chinese refusal names state and actions" \
	"invalid_state|mediation.case.agree：人民调解案件 $G 处于 ACCEPTED（已受理） 状态；允许的操作：mediate（调解）、fail（终止调解）" "$(errmsg)"
assert_exit "role refusal (zh)" 1 mcall law1 lawyer legal-01 mediation.case.apply "$APP"
assert_eq "Chinese role refusal" "forbidden|mediation.case.apply：需要角色 mediator、hotline_operator；law1 的角色为 lawyer" "$(errmsg)"
assert_exit "bad input (zh)" 1 med mediation.case.apply "${APP/NEIGHBOUR/FEUD}"
assert_contains "Chinese field message" 'mediation.case.apply：字段 "dispute"：应为以下之一' "$(emsg)"
sub_bg 'mediation.case.sla-breached' 1 "$XZ_T/breach2.txt"
# the kernel clock starts again from real time: G is due 30 days after
# its acceptance, which was 30 days ahead of real time
advance $((61 * DAY))
wait_until 10 "grep -q '\"$G\"' '$XZ_T/breach2.txt'" &&
	pass "a clock armed before the restart fires after it" ||
	fail "G's mediation clock did not fire after the restart"
stop_node
finish
