#!/usr/bin/env bash
# t_legal_art26.sh - 法律援助法 art. 26 when a provider is assigned: a case
# of possible life imprisonment or death, or a death-penalty review, gets a
# lawyer with at least three years of relevant practice. A named provider
# who does not qualify is refused with the article named (in English and in
# Chinese); the routing rule's choice skips providers who do not qualify;
# other cases are assigned as before; a change of provider keeps the rule.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
. "$XZ_SRC/plugins/legal/tests/flowlib.sh"
flow_node legal

prov() { # ID TYPE YEARS CAPACITY
	check "provider $1" lcall legal.provider.add "\"id\":\"$1\",\"type\":\"$2\",
	  \"name\":\"name of $1\",\"licence\":\"lic-$1\",\"region\":\"R1\",
	  \"capacity\":$4,\"specialties\":[\"CRIMINAL\"],\"user\":\"tester\"$3"
}
# J1 ranks first (most capacity) but has 1 year; B1 is not a lawyer
prov J1 LAWYER ',"years":1' 9
prov B1 BASIC_LEGAL_WORKER ',"years":10' 8
prov N0 LAWYER '' 7
prov S1 LAWYER ',"years":3' 1
prov S2 LAWYER ',"years":12' 1

grant() { # EXTRA -> id of a GRANTED notified-defence application
	lcall legal.aid.open "\"applicant_type\":\"NOTIFIED_DEFENCE\",\"matter\":\"m\",
	  \"specialty\":\"CRIMINAL\",\"region\":\"R1\"$1" | jq -r .id
}
A=$(grant ',"possible_penalty":"LIFE_IMPRISONMENT"')
assert_eq "opened granted" GRANTED "$(lcall legal.aid.get "\"id\":\"$A\",\"purpose\":\"t\"" | jq -r .state)"
assert_exit "junior lawyer named" 1 lcall legal.aid.assign "\"id\":\"$A\",\"provider_id\":\"J1\""
assert_eq "junior refused, article named" \
	"bad_request|legal.aid.assign: application $A (possible life imprisonment or death penalty) needs a lawyer with at least 3 years of relevant practice (法律援助法 art. 26): J1 has 1 years of practice" \
	"$(echo "$OUT" | jq -r '.error.code + "|" + .error.message')"
assert_exit "non-lawyer named" 1 lcall legal.aid.assign "\"id\":\"$A\",\"provider_id\":\"B1\""
assert_contains "non-lawyer refused" "B1 is not a lawyer (type BASIC_LEGAL_WORKER)" "$OUT"
assert_exit "unknown years named" 1 lcall legal.aid.assign "\"id\":\"$A\",\"provider_id\":\"N0\""
assert_contains "years unknown refused" "N0 has ? years of practice" "$OUT"
assert_eq "still GRANTED after refusals" GRANTED \
	"$(lcall legal.aid.get "\"id\":\"$A\",\"purpose\":\"t\"" | jq -r .state)"
assert_eq "routing skips to the first qualified lawyer" "S1|ASSIGNED" \
	"$(lcall legal.aid.assign "\"id\":\"$A\"" | jq -r '"\(.provider_id)|\(.state)"')"
assert_exit "change to a junior refused" 1 lcall legal.aid.change-provider \
	"\"id\":\"$A\",\"provider_id\":\"J1\",\"reason\":\"r\""
assert_contains "change names art. 26" "法律援助法 art. 26" "$OUT"
assert_eq "change to a senior lawyer" "S2" \
	"$(lcall legal.aid.change-provider "\"id\":\"$A\",\"provider_id\":\"S2\",\"reason\":\"r\"" | jq -r .provider_id)"

# death-penalty review, set at grant on a citizen's application
D=$(lcall legal.aid.open '"applicant_type":"CITIZEN","matter":"m","specialty":"CRIMINAL","region":"R1","means_checked":true' | jq -r .id)
check "review" lcall legal.aid.start-review "\"id\":\"$D\""
check "grant as a death-penalty review" lcall legal.aid.grant "\"id\":\"$D\",\"death_review\":true"
assert_exit "junior refused for a review" 1 lcall legal.aid.assign "\"id\":\"$D\",\"provider_id\":\"J1\""
assert_contains "review named" "(death-penalty review)" "$OUT"
assert_eq "qualified lawyer routed" S1 "$(lcall legal.aid.assign "\"id\":\"$D\"" | jq -r .provider_id)"

# nobody left who qualifies: unavailable, with each reason
E=$(grant ',"possible_penalty":"DEATH"')
assert_exit "no qualified lawyer left" 1 lcall legal.aid.assign "\"id\":\"$E\""
assert_eq "unavailable with reasons" \
	"unavailable|legal.aid.assign: application $E (possible life imprisonment or death penalty) needs a lawyer with at least 3 years of relevant practice (法律援助法 art. 26): J1 has 1 years of practice; B1 is not a lawyer (type BASIC_LEGAL_WORKER); N0 has ? years of practice" \
	"$(echo "$OUT" | jq -r '.error.code + "|" + .error.message')"
assert_exit "bad penalty value" 1 lcall legal.aid.open '"applicant_type":"NOTIFIED_DEFENCE","matter":"m","possible_penalty":"LIFE"'
assert_contains "field named" 'possible_penalty' "$OUT"

# an ordinary case: the junior lawyer may take it
O=$(grant '')
assert_eq "ordinary case to the routing's first" J1 \
	"$(lcall legal.aid.assign "\"id\":\"$O\"" | jq -r .provider_id)"
stop_node

echo "-- in Chinese"
export LANG=zh_CN.UTF-8
flow_node legal
prov J9 LAWYER ',"years":2' 9
Z=$(grant ',"possible_penalty":"DEATH"')
assert_exit "junior refused (zh)" 1 lcall legal.aid.assign "\"id\":\"$Z\",\"provider_id\":\"J9\""
assert_eq "Chinese refusal" \
	"legal.aid.assign：申请 $Z（可能被判处无期徒刑、死刑）须指派具有 3 年以上相关执业经历的律师（《法律援助法》第二十六条）：J9 的执业年限为 2 年" \
	"$(echo "$OUT" | jq -r .error.message)"
stop_node
finish
