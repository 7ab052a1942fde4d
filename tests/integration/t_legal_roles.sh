#!/usr/bin/env bash
# t_legal_roles.sh - who may do what in the legal plugin (role ids of
# docs/roles.md): every request is tried by a role that may call it and by
# one that may not; the refusal is "forbidden" naming the role needed and
# changes nothing. Centre staff act for their own centre only, the justice
# bureau's officers for their bureau (objections, 法律援助法 art. 49), a
# lawyer on their own cases, a duty lawyer on their own shifts, a kiosk for
# a prisoner of its own prison only.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
. "$XZ_SRC/plugins/legal/tests/flowlib.sh"
WITH_PRISON=0
if flow_have prison; then WITH_PRISON=1; fi
if [ $WITH_PRISON = 1 ]; then flow_node prison legal; else flow_node legal; fi

# as ROLE [USER [AGENCY]]: the actor fields of a person in ROLE
as() {
	local role=$1 user=${2:-} agency=${3:-}
	case "$role" in
	justice_bureau) agency=${agency:-justice-01} ;;
	kiosk) agency=${agency:-prison-01} ;;
	auditor) agency=${agency:-justice-01} ;;
	lawyer | duty_lawyer) agency=${agency:-firm-01} ;;
	*) agency=${agency:-legal-01} ;;
	esac
	echo "\"actor\":{\"user\":\"${user:-u-$role}\",\"role\":\"$role\",\"agency\":\"$agency\"}"
}
# try ROLE TOPIC FIELDS: the error code (or "ok") and message
try() {
	local out
	out=$(xz call "$2" "{$(as $1),$3}" 2>/dev/null) || true
	echo "$out" | jq -r 'if .error then .error.code + "|" + .error.message else "ok|" end'
}
ALLOWED=0
REFUSED=0
# pair TOPIC YES NO FIELDS: YES is not refused as forbidden, NO is, naming
# what YES... the roles the request needs (NEEDS)
pair() {
	local topic=$1 yes=$2 no=$3 needs=$4 fields=$5 r
	r=$(try "$no" "$topic" "$fields")
	assert_eq "$topic refused to $no" "forbidden|$topic: needs the role $needs; u-$no has $no" "$r"
	REFUSED=$((REFUSED + 1))
	r=$(try "$yes" "$topic" "$fields")
	case "$r" in
	forbidden*) fail "$topic by $yes: $r" ;;
	*) pass "$topic allowed to $yes (${r%%|*})" ;;
	esac
	ALLOWED=$((ALLOWED + 1))
}

# a provider whose lawyer is u-lawyer, and records to act on
check "provider" xz call legal.provider.add "{$(as legal_head),\"id\":\"L1\",\"type\":\"LAWYER\",
  \"name\":\"Li\",\"licence\":\"1\",\"region\":\"R1\",\"capacity\":9,\"specialties\":[],\"conflicts\":[],
  \"user\":\"u-lawyer\"}"
check "duty lawyer" xz call legal.provider.add "{$(as legal_head),\"id\":\"D1\",\"type\":\"LAWYER\",
  \"name\":\"Zhao\",\"licence\":\"2\",\"region\":\"R1\",\"capacity\":0,\"duty\":true,\"user\":\"u-duty_lawyer\"}"
SR=$(xz call legal.request.create "{$(as hotline_operator),\"channel\":\"HOTLINE\",\"question\":\"q\"}" | jq -r .id)
LA=$(xz call legal.aid.open "{$(as hotline_operator),\"applicant_type\":\"CITIZEN\",\"matter\":\"m\",\"means_checked\":true}" | jq -r .id)
NOW=$(now_ms)
DL=$(xz call legal.duty.schedule "{$(as legal_head),\"provider_id\":\"D1\",\"station\":{\"type\":\"COURT\",\"agency\":\"court-01\"},
  \"start_ms\":$NOW,\"end_ms\":$((NOW + 3600000))}" | jq -r .id)

echo "-- each request: one role that may, one that may not"
R='"reason":"r"'
pair legal.request.create hotline_operator lawyer "hotline_operator or kiosk" '"channel":"HOTLINE","question":"q"'
pair legal.request.assign hotline_operator lawyer "hotline_operator or legal_reviewer" "\"id\":\"$SR\",\"to\":\"s1\""
pair legal.request.callback legal_reviewer kiosk "hotline_operator or legal_reviewer" "\"id\":\"$SR\",\"callback_at_ms\":4102444800000"
pair legal.request.answer hotline_operator justice_bureau "hotline_operator or legal_reviewer" "\"id\":\"$SR\",\"answer\":\"a\""
pair legal.request.refer hotline_operator legal_head "hotline_operator or legal_reviewer" "\"id\":\"$SR\",\"to\":\"MEDIATION\""
pair legal.request.close legal_reviewer auditor "hotline_operator or legal_reviewer" "\"id\":\"$SR\""
pair legal.request.rate hotline_operator lawyer "hotline_operator or kiosk" "\"id\":\"$SR\",\"score\":5"
pair legal.request.revisit hotline_operator kiosk "hotline_operator or legal_reviewer" "\"id\":\"$SR\",\"note\":\"n\""
pair legal.request.get auditor kiosk "hotline_operator or legal_reviewer or legal_head or justice_bureau or auditor" "\"id\":\"$SR\",\"purpose\":\"p\""
pair legal.request.list legal_head lawyer "hotline_operator or legal_reviewer or legal_head or justice_bureau or auditor" '"state":"NEW"'
pair legal.request.kpi legal_head hotline_operator "legal_head or justice_bureau or auditor" '"tier":"CENTRE"'
pair legal.aid.open legal_reviewer lawyer "hotline_operator or legal_reviewer or kiosk" '"applicant_type":"CITIZEN","matter":"m"'
pair legal.aid.receive legal_reviewer legal_head "legal_reviewer" "\"id\":\"$LA\""
pair legal.aid.start-review legal_reviewer hotline_operator "legal_reviewer" "\"id\":\"$LA\""
pair legal.aid.request-supplement legal_reviewer lawyer "legal_reviewer" "\"id\":\"$LA\",\"items\":[\"x\"]"
pair legal.aid.supplement legal_reviewer kiosk "legal_reviewer" "\"id\":\"$LA\""
pair legal.aid.provide-urgent legal_head legal_reviewer "legal_head" "\"id\":\"$LA\",\"ground\":\"PRESERVATION\""
pair legal.aid.grant legal_head legal_reviewer "legal_head" "\"id\":\"$LA\""
pair legal.aid.refuse legal_head hotline_operator "legal_head" "\"id\":\"$LA\",$R"
pair legal.aid.object justice_bureau legal_head "justice_bureau" "\"id\":\"$LA\",$R"
pair legal.aid.uphold justice_bureau legal_head "justice_bureau" "\"id\":\"$LA\",$R"
pair legal.aid.overturn justice_bureau legal_reviewer "justice_bureau" "\"id\":\"$LA\""
pair legal.aid.assign legal_head legal_reviewer "legal_head" "\"id\":\"$LA\""
pair legal.aid.change-provider legal_head lawyer "legal_head" "\"id\":\"$LA\",$R"
pair legal.aid.start-service lawyer legal_head "lawyer" "\"id\":\"$LA\""
pair legal.aid.close lawyer legal_head "lawyer" "\"id\":\"$LA\",\"outcome\":\"DEFENDED\""
pair legal.aid.terminate legal_head lawyer "legal_head" "\"id\":\"$LA\",\"ground\":\"CASE_ENDED\",$R"
pair legal.aid.evaluate justice_bureau lawyer "legal_head or justice_bureau" "\"id\":\"$LA\",\"method\":\"FILE_CHECK\",\"grade\":\"PASS\""
pair legal.aid.revisit legal_reviewer lawyer "legal_reviewer or legal_head" "\"id\":\"$LA\",\"satisfied\":true,\"note\":\"n\""
pair legal.aid.get auditor kiosk "legal_reviewer or legal_head or justice_bureau or auditor or lawyer or plugin" "\"id\":\"$LA\",\"purpose\":\"p\""
pair legal.aid.list justice_bureau lawyer "legal_reviewer or legal_head or justice_bureau or auditor" '"state":"RECEIVED"'
pair legal.duty.schedule legal_head duty_lawyer "legal_head" "\"provider_id\":\"D1\",\"station\":{\"type\":\"COURT\",\"agency\":\"court-01\"},\"start_ms\":$NOW,\"end_ms\":$((NOW + 1))"
pair legal.duty.start duty_lawyer legal_head "duty_lawyer" "\"id\":\"$DL\""
pair legal.duty.help duty_lawyer lawyer "duty_lawyer" "\"id\":\"$DL\",\"person_id\":\"S-1\",\"kind\":\"CONSULTATION\""
pair legal.duty.end duty_lawyer legal_reviewer "duty_lawyer" "\"id\":\"$DL\""
pair legal.duty.cancel legal_head duty_lawyer "legal_head" "\"id\":\"$DL\""
pair legal.duty.get duty_lawyer lawyer "legal_head or legal_reviewer or justice_bureau or auditor or duty_lawyer" "\"id\":\"$DL\",\"purpose\":\"p\""
pair legal.duty.list auditor duty_lawyer "legal_head or legal_reviewer or justice_bureau or auditor" '"state":"ENDED"'
pair legal.provider.add legal_head legal_reviewer "legal_head" '"id":"L7","type":"LAWYER","name":"n","licence":"l","region":"R1","capacity":1'
pair legal.provider.update legal_head lawyer "legal_head" '"id":"L1","capacity":9'
pair legal.provider.get hotline_operator kiosk "hotline_operator or legal_reviewer or legal_head or justice_bureau or auditor or plugin" '"id":"L1"'
pair legal.provider.list auditor lawyer "hotline_operator or legal_reviewer or legal_head or justice_bureau or auditor" '"type":"LAWYER"'
pair legal.routing.preview legal_reviewer hotline_operator "legal_reviewer or legal_head" '"region":"R1"'
pair legal.calendar.due lawyer kiosk "hotline_operator or legal_reviewer or legal_head or justice_bureau or auditor or lawyer or duty_lawyer" '"from_ms":1790000000000,"days":1'
echo "allowed $ALLOWED, refused $REFUSED"
assert_eq "every request tried both ways" "44|44" "$ALLOWED|$REFUSED"

echo "-- own agency, own case, own shift"
A2=$(xz call legal.aid.open "{$(as hotline_operator),\"applicant_type\":\"CITIZEN\",\"matter\":\"m\",\"means_checked\":true}" | jq -r .id)
assert_eq "a centre head of another centre" "forbidden|legal.aid.start-review: u-legal_reviewer acts for agency legal-02, not for legal-01" \
	"$(xz call legal.aid.start-review "{$(as legal_reviewer u-legal_reviewer legal-02),\"id\":\"$A2\"}" 2>/dev/null | jq -r '.error.code + "|" + .error.message')"
assert_eq "a bureau officer of another bureau" "forbidden|legal.aid.object: u-justice_bureau acts for agency justice-09, not for justice-01" \
	"$(xz call legal.aid.object "{$(as justice_bureau u-justice_bureau justice-09),\"id\":\"$A2\",$R}" 2>/dev/null | jq -r '.error.code + "|" + .error.message')"
xz call legal.aid.start-review "{$(as legal_reviewer),\"id\":\"$A2\"}" >/dev/null
xz call legal.aid.grant "{$(as legal_head),\"id\":\"$A2\"}" >/dev/null
xz call legal.aid.assign "{$(as legal_head),\"id\":\"$A2\",\"provider_id\":\"L1\"}" >/dev/null
assert_eq "another lawyer cannot start the case" "forbidden|legal.aid.start-service: u-other is not the provider of legal-aid application $A2" \
	"$(xz call legal.aid.start-service "{$(as lawyer u-other),\"id\":\"$A2\"}" 2>/dev/null | jq -r '.error.code + "|" + .error.message')"
assert_eq "nor read it" forbidden \
	"$(xz call legal.aid.get "{$(as lawyer u-other),\"id\":\"$A2\",\"purpose\":\"p\"}" 2>/dev/null | jq -r '.error.code')"
assert_eq "its own lawyer can" IN_SERVICE \
	"$(xz call legal.aid.start-service "{$(as lawyer),\"id\":\"$A2\"}" | jq -r .state)"
DL2=$(xz call legal.duty.schedule "{$(as legal_head),\"provider_id\":\"D1\",\"station\":{\"type\":\"DETENTION_HOUSE\",\"agency\":\"detention-01\"},
  \"start_ms\":$NOW,\"end_ms\":$((NOW + 3600000))}" | jq -r .id)
assert_eq "another duty lawyer cannot work the shift" forbidden \
	"$(xz call legal.duty.start "{$(as duty_lawyer u-other),\"id\":\"$DL2\"}" 2>/dev/null | jq -r '.error.code')"
assert_eq "a refusal changes nothing" SCHEDULED \
	"$(xz call legal.duty.get "{$(as legal_head),\"id\":\"$DL2\",\"purpose\":\"p\"}" | jq -r .state)"

echo "-- a kiosk files for a prisoner of its own prison only"
KBODY='"applicant_type":"INMATE","prisoner_id":"5101000001","matter":"申诉","custodial":{"institution":"prison"}'
assert_eq "a kiosk of another prison" forbidden \
	"$(xz call legal.aid.open "{$(as kiosk kiosk-9 prison-09),$KBODY}" 2>/dev/null | jq -r .error.code)"
assert_eq "a kiosk filing for a rehab resident" forbidden \
	"$(xz call legal.aid.open "{$(as kiosk),\"applicant_type\":\"REHAB_RESIDENT\",\"resident_id\":\"R-1\",\"matter\":\"m\",\"custodial\":{\"institution\":\"prison\"}}" 2>/dev/null | jq -r .error.code)"
assert_eq "a kiosk asking on the hotline channel" forbidden \
	"$(xz call legal.request.create "{$(as kiosk),\"channel\":\"HOTLINE\",\"question\":\"q\",\"prisoner_id\":\"5101000001\"}" 2>/dev/null | jq -r .error.code)"
if [ $WITH_PRISON = 1 ]; then
	assert_eq "its own prison's prisoner" FORWARDED \
		"$(xz call legal.aid.open "{$(as kiosk),$KBODY}" | jq -r .state)"
	assert_eq "a prisoner not in its register" forbidden \
		"$(xz call legal.aid.open "{$(as kiosk),\"applicant_type\":\"INMATE\",\"prisoner_id\":\"Z9999ZZ\",\"matter\":\"m\",\"custodial\":{\"institution\":\"prison\"}}" 2>/dev/null | jq -r .error.code)"
else
	skip "a kiosk's own prisoner: the prison plugin is not built"
fi
stop_node

echo "-- an authenticated principal: the caller, not the payload"
# The node maps the uid of "nobody" to 李审查, a legal-aid reviewer of
# legal-01 (auth.local); the CLI run as nobody is that principal.
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	skip "principal checks: need root and setpriv to run the CLI as another uid"
	finish
fi
NOBODY=$(id -u nobody)
xz_config "$XZ_T/p.cfg" n4 <<CFG
auth = { local = ( { uid = $NOBODY; user = "li-sc"; name = "李审查"; agency = "legal-01";
                     roles = [ "legal_reviewer" ]; } ); };
lua = { time_limit_ms = 5000; };
plugins = ( { name = "legal"; kind = "lua"; path = "$LEGAL_DIR/legal.lua"; } );
CFG
start_node "$XZ_T/p.cfg" n4
chmod o+x "$XZ_T" "$XZ_T/n4"
chmod o+r "$XZ_T/p.cfg"
chmod o+rw "$XZ_T/n4/ctl.sock"
# as_nobody TOPIC JSON: the call as the principal li-sc
as_nobody() {
	setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups \
		"$XZ_BIN" call -c "$XZ_T/p.cfg" "$@"
}
P=$(xz call -c "$XZ_T/p.cfg" legal.aid.open "{$(as hotline_operator),\"applicant_type\":\"CITIZEN\",\"matter\":\"m\"}" | jq -r .id)
R=$(as_nobody legal.aid.start-review "{\"id\":\"$P\"}" 2>&1) || true
assert_eq "the principal reviews, with no actor in the payload" UNDER_REVIEW "$(echo "$R" | jq -r .state 2>/dev/null)"
R=$(as_nobody legal.aid.grant "{\"id\":\"$P\",\"means_checked\":true}" 2>/dev/null) || true
assert_eq "but may not decide" "forbidden|legal.aid.grant: needs the role legal_head; li-sc has legal_reviewer" \
	"$(echo "$R" | jq -r '.error.code + "|" + .error.message')"
R=$(as_nobody legal.aid.grant "{\"actor\":{\"user\":\"wang-zr\",\"role\":\"legal_head\",\"agency\":\"legal-01\"},\"id\":\"$P\",\"means_checked\":true}" 2>/dev/null) || true
assert_eq "a forged actor is refused" "forbidden|legal.aid.grant: the authenticated caller is li-sc, the payload names wang-zr" \
	"$(echo "$R" | jq -r '.error.code + "|" + .error.message')"
R=$(as_nobody legal.aid.request-supplement "{\"actor\":{\"user\":\"li-sc\",\"agency\":\"legal-02\"},\"id\":\"$P\",\"items\":[\"x\"]}" 2>/dev/null) || true
assert_eq "another agency in the payload is refused" forbidden "$(echo "$R" | jq -r .error.code)"
H=$(xz call -c "$XZ_T/p.cfg" legal.aid.get "{$(as legal_head),\"id\":\"$P\",\"purpose\":\"t\"}")
assert_eq "history names the principal and its role; the forged name never appears" \
	"start-review|li-sc|legal_reviewer|UNDER_REVIEW" \
	"$(echo "$H" | jq -r '.history[-1] | "\(.action)|\(.who)|\(.role)|\(.to)"')"
stop_node n4
finish
