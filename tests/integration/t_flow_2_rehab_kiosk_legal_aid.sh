#!/usr/bin/env bash
# t_flow_2_rehab_kiosk_legal_aid.sh - the domain's flow 2: the same as flow 1
# from a rehab centre kiosk. The rehab plugin has no kiosk request yet, so
# the test publishes rehab.kiosk.legal-aid-requested with `xiezhi pub`
# exactly as a rehab kiosk would (id, resident_id, matter, at_ms), for a
# resident the rehab plugin really holds. Checks: the application (24 h
# clock from the kiosk time, REHAB_RESIDENT, means-check exempt), a
# redelivered event opens nothing new, review and decision, assignment,
# closure with the outcome for the resident's file, the audit trail.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
. "$XZ_SRC/plugins/legal/tests/flowlib.sh"
flow_skip_unless rehab legal
WITH_AUDIT=0
if flow_have audit; then WITH_AUDIT=1; fi
if [ $WITH_AUDIT = 1 ]; then flow_node rehab legal audit; else flow_node rehab legal; fi
H=3600000
D=$((24 * H))

RACTOR='"actor":{"user":"wang-jing","role":"rehab_officer","agency":"rehab-01"}'
RES=$(xz call rehab.resident.list "{$RACTOR}" | jq -r '.items[0].id // .residents[0].id // .[0].id // empty')
[ -n "$RES" ] || die "the rehab plugin holds no resident (seed_demo_data)"
check "the resident is real" xz call rehab.resident.get "{$RACTOR,\"id\":\"$RES\",\"purpose\":\"flow 2\"}"
check "provider" lcall legal.provider.add '"id":"BLW-01","type":"BASIC_LEGAL_WORKER",
  "name":"Zhao Min","licence":"BLW-2020-01","region":"R1","capacity":2,
  "specialties":["ADMINISTRATIVE"],"conflicts":[],"user":"tester"'
sub_bg 'legal.aid.*' 1000 "$XZ_T/legal.txt"
SUB1=$SUB_PID

echo "-- the rehab kiosk request"
T0=$(now_ms)
EV="{\"id\":\"RKIO-0001\",\"resident_id\":\"$RES\",\"matter\":\"review of the isolation decision\",\"specialty\":\"ADMINISTRATIVE\",\"at_ms\":$T0,\"who\":\"kiosk-r1\"}"
check "kiosk event published" xz pub rehab.kiosk.legal-aid-requested "$EV"
wait_for 5 grep -q '"legal.aid.opened"' "$XZ_T/legal.txt" || fail "no legal.aid.opened"
LA=$(grep '"legal.aid.opened"' "$XZ_T/legal.txt" | head -n1 | jq -r .data.id)
APP=$(lcall legal.aid.get "\"id\":\"$LA\",\"purpose\":\"flow 2\"")
# custody exempts nobody from the means check (法律援助法 art. 42)
assert_eq "application" "FORWARDED|REHAB_RESIDENT|$RES|false|ADMINISTRATIVE|rehab" \
	"$(echo "$APP" | jq -r '"\(.state)|\(.applicant_type)|\(.resident_id)|\(.means_exempt)|\(.specialty)|\(.custodial.institution)"')"
assert_eq "forward clock: kiosk time + 24 h" "$((T0 + 24 * H))" "$(echo "$APP" | jq -r .clocks[0].due_ms)"
check "redelivered event" xz pub rehab.kiosk.legal-aid-requested "$EV"
sleep 0.5
assert_eq "still one application" 1 \
	"$(lcall legal.aid.list '"state":"FORWARDED"' | jq -r .count)"

echo "-- decision and assignment"
advance $((23 * H))
check "received within 24 h" lcall legal.aid.receive "\"id\":\"$LA\""
check "review" lcall legal.aid.start-review "\"id\":\"$LA\""
check "supplement requested" lcall legal.aid.request-supplement "\"id\":\"$LA\",\"items\":[\"isolation decision document\"]"
advance $((10 * D))
check "supplemented" lcall legal.aid.supplement "\"id\":\"$LA\""
advance $((6 * D))
assert_eq "granted on day 6 of review (paused 10 days)" GRANTED \
	"$(lcall legal.aid.grant "\"id\":\"$LA\",\"means_exemption\":\"ART42_SOCIAL_ASSISTANCE\"" | jq -r .state)"
A=$(lcall legal.aid.assign "\"id\":\"$LA\"")
assert_eq "assigned, no prison visit for a rehab resident" "ASSIGNED|BLW-01|null" \
	"$(echo "$A" | jq -r '"\(.state)|\(.provider_id)|\(.visit)"')"
check "service" lcall legal.aid.start-service "\"id\":\"$LA\""
check "closed" lcall legal.aid.close "\"id\":\"$LA\",\"outcome\":\"ADMINISTRATIVE_REVIEW_FILED\""
wait_for 5 grep -q '"legal.aid.closed"' "$XZ_T/legal.txt" || true
assert_eq "outcome published for the resident's file" "$RES|ADMINISTRATIVE_REVIEW_FILED|REHAB_RESIDENT" \
	"$(grep '"legal.aid.closed"' "$XZ_T/legal.txt" | jq -r '.data | "\(.resident_id)|\(.outcome)|\(.applicant_type)"')"
assert_eq "clocks met" "forward:MET review:MET assign:MET" \
	"$(lcall legal.aid.get "\"id\":\"$LA\",\"purpose\":\"flow 2\"" | jq -r '[.clocks[] | "\(.clock):\(.status)"] | join(" ")')"
assert_eq "no breach" 0 "$(grep -c sla-breached "$XZ_T/legal.txt" || true)"

if [ $WITH_AUDIT = 1 ]; then
	sleep 0.3
	assert_eq "audit of the application" \
		"CREATE VIEW UPDATE UPDATE UPDATE UPDATE UPDATE UPDATE UPDATE UPDATE VIEW" \
		"$(audit_rows "\"subject_id\":\"$LA\"" | jq -r .action | tr '\n' ' ' | sed 's/ $//')"
	assert_eq "the resident's read is audited by rehab" VIEW \
		"$(audit_rows "\"subject_id\":\"$RES\"" | jq -r .action | grep -m1 VIEW)"
	assert_eq "the chain verifies" true "$(lcall audit.verify | jq -r .ok)"
else
	skip "audit checks: the audit plugin is not built"
fi
kill "$SUB1" 2>/dev/null || true
stop_node
finish
