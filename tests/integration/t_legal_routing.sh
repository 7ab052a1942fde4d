#!/usr/bin/env bash
# t_legal_routing.sh - the routing rule of routing.lua on a real node:
# specialty, region, remaining capacity, conflict of interest, provider
# type; explicit choices checked against the same rule; exact refusals; and
# the rule hot-reloaded with `xiezhi reload legal` (a broken edit keeps the
# running rule; records and clocks survive the reload).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
. "$XZ_SRC/plugins/legal/tests/flowlib.sh"
# run a copy of the plugin: this test edits its routing.lua
mkdir -p "$XZ_T/legal"
cp -r "$LEGAL_DIR"/*.lua "$LEGAL_DIR/calendar" "$XZ_T/legal/"
# with the shared Lua modules beside it, where require finds them
mkdir -p "$XZ_T/common" && cp -r "$XZ_SRC/plugins/common/lua" "$XZ_T/common/"
flow_node -l "$XZ_T/legal/legal.lua" legal

prov() { # ID TYPE REGION CAPACITY SPECIALTIES CONFLICTS
	check "provider $1" lcall legal.provider.add "\"id\":\"$1\",\"type\":\"$2\",
	  \"name\":\"name of $1\",\"licence\":\"lic-$1\",\"region\":\"$3\",
	  \"capacity\":$4,\"specialties\":$5,\"conflicts\":$6,\"user\":\"tester\""
}
prov L1 LAWYER R1 1 '["CRIMINAL"]' '[]'
prov L2 LAWYER R2 3 '["CRIMINAL","CIVIL"]' '[]'
prov L3 LAWYER R1 5 '["CIVIL"]' '[]'
prov L4 LAWYER R1 2 '["CRIMINAL"]' '["P-9","C-77"]'
prov N1 NOTARY R1 9 '["CRIMINAL"]' '[]'
prov B1 BASIC_LEGAL_WORKER R3 1 '["CRIMINAL"]' '[]'

assert_exit "duplicate provider" 1 lcall legal.provider.add '"id":"L1","type":"LAWYER",
  "name":"x","licence":"x","region":"R1","capacity":1'
assert_eq "duplicate message" "exists|legal.provider.add: provider L1 is already in the directory" \
	"$(echo "$OUT" | jq -r '.error.code + "|" + .error.message')"
assert_exit "bad provider type" 1 lcall legal.provider.add '"id":"Z1","type":"JUDGE",
  "name":"x","licence":"x","region":"R1","capacity":1'
assert_eq "list by specialty and region" "L1 L4 N1" \
	"$(lcall legal.provider.list '"specialty":"CRIMINAL","region":"R1"' | jq -r '[.providers[].id] | join(" ")')"

preview() { lcall legal.routing.preview "$1"; }
ranked() { preview "$1" | jq -r '.ranked | join(" ")'; }
excluded() { preview "$1" | jq -r '[.excluded[] | "\(.id): \(.reason)"] | join("; ")'; }

echo "-- the default rule"
Q='"specialty":"CRIMINAL","region":"R1","parties":["P-9"]'
assert_eq "same region first, then remaining capacity" "L1 L2 B1" "$(ranked "$Q")"
assert_eq "why the others are out" \
	"L3: no specialty CRIMINAL; L4: conflict of interest with P-9; N1: type NOTARY does not take legal aid" \
	"$(excluded "$Q")"
assert_eq "no conflict: most capacity in the region first" "L4 L1 L2 B1" \
	"$(ranked '"specialty":"CRIMINAL","region":"R1"')"
assert_eq "region R2" "L2 L4 B1 L1" "$(ranked '"specialty":"CRIMINAL","region":"R2"')"
assert_eq "applicant in the conflict list" "L4: conflict of interest with C-77" \
	"$(excluded '"specialty":"CRIMINAL","region":"R1","applicant_id":"C-77"' | grep -o 'L4: [^;]*')"
assert_eq "rule version" "default-1" "$(preview '"region":"R1"' | jq -r .rule)"

# an application routed for real: CRIMINAL, R1, opposing party P-9
app() { # SPECIALTY REGION PARTIES -> id of a GRANTED application
	local id
	id=$(lcall legal.aid.open "\"applicant_type\":\"CITIZEN\",\"matter\":\"m\",
	  \"specialty\":\"$1\",\"region\":\"$2\",\"parties\":$3,\"means_checked\":true" | jq -r .id)
	lcall legal.aid.start-review "\"id\":\"$id\"" >/dev/null
	lcall legal.aid.grant "\"id\":\"$id\"" >/dev/null
	echo "$id"
}
A1=$(app CRIMINAL R1 '["P-9"]')
assert_eq "assigned to L1" "L1|ASSIGNED|default-1" \
	"$(lcall legal.aid.assign "\"id\":\"$A1\"" | jq -r '"\(.provider_id)|\(.state)|\(.routing_rule)"')"
assert_eq "L1 full: excluded for capacity" "L1: no remaining capacity" \
	"$(excluded "$Q" | grep -o 'L1: [^;]*')"
assert_eq "L1 remaining 0" "0" "$(lcall legal.provider.list '"region":"R1"' | jq -r '.providers[] | select(.id == "L1") | .remaining')"
A2=$(app CRIMINAL R1 '["P-9"]')
assert_exit "explicit provider with a conflict" 1 lcall legal.aid.assign "\"id\":\"$A2\",\"provider_id\":\"L4\""
assert_eq "conflict message" "bad_request|legal.aid.assign: provider L4 cannot take application $A2: conflict of interest with P-9" \
	"$(echo "$OUT" | jq -r '.error.code + "|" + .error.message')"
assert_exit "explicit full provider" 1 lcall legal.aid.assign "\"id\":\"$A2\",\"provider_id\":\"L1\""
assert_eq "capacity message" "legal.aid.assign: provider L1 cannot take application $A2: no remaining capacity" \
	"$(echo "$OUT" | jq -r .error.message)"
assert_eq "explicit eligible provider" "B1" \
	"$(lcall legal.aid.assign "\"id\":\"$A2\",\"provider_id\":\"B1\"" | jq -r .provider_id)"
A3=$(app TAX R1 '[]')
assert_exit "nobody for TAX" 1 lcall legal.aid.assign "\"id\":\"$A3\""
assert_eq "no_provider message lists every reason" \
	"unavailable|legal.aid.assign: no provider can take application $A3 (B1: no remaining capacity; L1: no remaining capacity; L2: no specialty TAX; L3: no specialty TAX; L4: no specialty TAX; N1: type NOTARY does not take legal aid)" \
	"$(echo "$OUT" | jq -r '.error.code + "|" + .error.message')"
assert_eq "refused assign leaves GRANTED" GRANTED \
	"$(lcall legal.aid.get "\"id\":\"$A3\",\"purpose\":\"t\"" | jq -r .state)"
# capacity comes back when a case ends
check "A1 in service" lcall legal.aid.start-service "\"id\":\"$A1\""
check "A1 closed" lcall legal.aid.close "\"id\":\"$A1\",\"outcome\":\"ADVICE_GIVEN\""
assert_eq "L1 back in the ranking" "L4 L1 L2" "$(ranked '"specialty":"CRIMINAL","region":"R1"')"
check "capacity raised" lcall legal.provider.update '"id":"L1","capacity":4'
assert_eq "L1 first with more room" "L1 L4 L2" "$(ranked '"specialty":"CRIMINAL","region":"R1"')"

echo "-- hot reload of routing.lua"
# a review clock running across the reload must fire exactly once
RC=$(lcall legal.aid.open '"applicant_type":"CITIZEN","matter":"m"' | jq -r .id)
sed -i -e 's/^M.version = "default-1"/M.version = "capacity-first"/' \
	-e 's/local ra = (a.region == app.region) and 0 or 1/local ra = 0/' \
	-e 's/local rb = (b.region == app.region) and 0 or 1/local rb = 0/' \
	"$XZ_T/legal/routing.lua"
check "reload legal" xz reload legal
assert_eq "new rule answers" "capacity-first" "$(preview '"region":"R1"' | jq -r .rule)"
assert_eq "capacity first, region ignored" "L1 L2 L4" "$(ranked '"specialty":"CRIMINAL","region":"R1"')"
assert_eq "records kept" ASSIGNED "$(lcall legal.aid.get "\"id\":\"$A2\",\"purpose\":\"t\"" | jq -r .state)"

# a broken edit: the reload fails and says where, the old rule keeps serving
cp "$XZ_T/legal/routing.lua" "$XZ_T/routing.good"
printf 'function M.better(app, a, b)\n  return a.id < \nend\nreturn M\n' >>"$XZ_T/legal/routing.lua"
assert_exit "broken reload refused" 1 xz reload legal
assert_contains "names the file" "routing.lua:" "$OUT$ERR"
assert_eq "old rule still serving" "capacity-first" "$(preview '"region":"R1"' | jq -r .rule)"
cp "$XZ_T/routing.good" "$XZ_T/legal/routing.lua"

sub_bg 'legal.aid.sla-breached' 5 "$XZ_T/breach.txt"
advance $((7 * 24 * 3600000 + 1000))
wait_for 5 grep -q "\"$RC\"" "$XZ_T/breach.txt" || true
sleep 0.5
assert_eq "clock survived the reloads, fired once" 1 \
	"$(jq -c --arg i "$RC" 'select(.data.id == $i)' "$XZ_T/breach.txt" | wc -l)"
stop_node
finish
