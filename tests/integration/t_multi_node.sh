#!/usr/bin/env bash
# t_multi_node.sh - the multi-node example (config/multi-node/,
# scripts/multi-node.sh, docs/multi-node.md) on one machine: the bureau, a
# prison, a rehab centre, a legal-aid centre and a county procuratorate,
# each its own node and data folder, linked through the bureau.
#  - flow 1 across nodes: a prisoner's kiosk request at the prison node
#    becomes a legal-aid application at the legal-aid centre's node (which
#    tells the prison it was forwarded); once granted and assigned, the
#    LEGAL visit is requested and booked back at the prison; its completion
#    there reaches the application;
#  - a case transfer from the prison to the procuratorate: stored in the
#    procuratorate's own database, acknowledged to the prison, its clock on
#    both sides, met on both when the procuratorate receives it;
#  - the prison's node is a principal at the bureau: what it may not
#    publish is refused there and counted;
#  - `multi-node.sh status` and `stop`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
command -v jq >/dev/null || skip_test "jq is not installed"
for p in prison rehab collab audit; do
	[ -f "$XZ_PLUGIN_DIR/$p.so" ] || skip_test "plugin '$p' is not built"
done
export XZ_BIN
MN=$XZ_T/mn
SCRIPT=$XZ_SRC/scripts/multi-node.sh
on() { local n=$1; shift; "$XZ_BIN" "$1" -c "$MN/config/$n.cfg" "${@:2}"; }
stop_all() { "$SCRIPT" stop --dir "$MN" >/dev/null 2>&1 || true; }
trap 'stop_all; _xz_cleanup' EXIT

PORT=$((20000 + ($$ + 13) % 20000))
check "multi-node.sh start: five nodes, every link up" "$SCRIPT" start --dir "$MN" --port "$PORT"
assert_contains "said so" "every link is up" "$OUT"
for n in bureau prison rehab legal procuratorate; do
	assert_eq "$n has its own data folder" yes "$([ -d "$MN/var/$n" ] && echo yes)"
done
assert_eq "the bureau's node sees four nodes up" 4 \
	"$(on bureau status | jq '[.node_links[] | select(.state == "up")] | length')"
assert_eq "the prison is node:prison of prison-01 at the bureau" "node:prison" \
	"$(on bureau status | jq -r '.node_links[] | select(.name == "prison") | .principal')"
assert_eq "the node CA of xiezhi identity" yes "$([ -s "$MN/var/pki/ca.pem" ] && [ -s "$MN/var/certs/prison.pem" ] && echo yes)"
for n in prison rehab legal procuratorate; do
	assert_contains "$n proved its certificate to the bureau (mutual TLS, certificate HELLO)" \
		"certificate cn=$n, cert sha256:" \
		"$(on bureau status | jq -r --arg n "$n" '.node_links[] | select(.name == $n) | .auth')"
	assert_eq "$n dials the bureau over tls+tcp://" "tls+tcp://127.0.0.1:$PORT" \
		"$(on "$n" status | jq -r '.node_links[0].url')"
done
# interest reaches the prison: the legal centre's subscription to kiosk
# requests, through the bureau
wait_until 20 "on prison status | jq -e '.node_links[0].interest | index(\"prison.kiosk.legal-aid-requested\")' >/dev/null" ||
	fail "the legal centre's interest does not reach the prison"

KIOSK='"actor":{"user":"svc:kiosk-03","role":"kiosk","agency":"prison-01"}'
ADMIN='"actor":{"user":"zhaolei","name":"赵磊","role":"prison_admin","agency":"prison-01"}'
LACTOR='"actor":{"user":"tester","roles":["hotline_operator","legal_reviewer","legal_head","lawyer","duty_lawyer"],"agency":"legal-01"}'
CLERK_P='"actor":{"user":"clerk1","role":"case_clerk","agency":"prison-01"}'
CLERK_Q='"actor":{"user":"jian-1","role":"case_clerk","agency":"procuratorate-01"}'
lcall() { on legal call "$1" "{$LACTOR,$2}"; }

echo "-- flow 1: the kiosk request at the prison, legal aid at the centre"
check "a lawyer in the centre's directory" lcall legal.provider.add '"id":"LAW-0001",
  "type":"LAWYER","name":"Li Wei","licence":"11101201010001","region":"R1",
  "capacity":3,"specialties":["CRIMINAL"],"conflicts":[],"user":"tester"'
K=$(on prison call prison.kiosk.legal-aid "{$KIOSK,\"prisoner_id\":\"5101000001\",\"matter\":\"申诉：不服生效判决\"}")
KID=$(echo "$K" | jq -r .id)
assert_eq "the prisoner's request at the prison's kiosk" SUBMITTED "$(echo "$K" | jq -r .state)"
wait_until 20 "[ \"\$(lcall legal.aid.list '\"state\":\"FORWARDED\"' | jq -r '.count')\" = 1 ]" ||
	fail "no application at the legal-aid centre's node"
LA=$(lcall legal.aid.list '"state":"FORWARDED"' | jq -r '.items[0].id')
APP=$(lcall legal.aid.get "\"id\":\"$LA\",\"purpose\":\"flow 1\"")
assert_eq "an application for the prisoner, from the custody kiosk" \
	"INMATE|5101000001|INMATE_KIOSK" \
	"$(echo "$APP" | jq -r '"\(.applicant_type)|\(.prisoner_id)|\(.channel)"')"
wait_until 20 "[ \"\$(on prison call prison.kiosk.get '{$ADMIN,\"id\":\"$KID\"}' | jq -r .state)\" = FORWARDED ]" ||
	fail "the prison does not learn that its request was forwarded"
assert_eq "the prison's kiosk request is forwarded (the centre's request crossed back)" FORWARDED \
	"$(on prison call prison.kiosk.get "{$ADMIN,\"id\":\"$KID\"}" | jq -r .state)"
assert_eq "no copy of the application on the prison's node" "" \
	"$(on prison call legal.aid.get "{$LACTOR,\"id\":\"$LA\"}" -t 1000 2>/dev/null | jq -r '.id // empty' || true)"

assert_eq "received" RECEIVED "$(lcall legal.aid.receive "\"id\":\"$LA\"" | jq -r .state)"
assert_eq "under review" UNDER_REVIEW "$(lcall legal.aid.start-review "\"id\":\"$LA\"" | jq -r .state)"
assert_eq "granted" GRANTED "$(lcall legal.aid.grant "\"id\":\"$LA\",\"means_checked\":true" | jq -r .state)"
A=$(lcall legal.aid.assign "\"id\":\"$LA\"")
assert_eq "assigned to the lawyer" "ASSIGNED|LAW-0001" "$(echo "$A" | jq -r '"\(.state)|\(.provider_id)"')"
VID=$(echo "$A" | jq -r .visit.id)
assert_eq "the centre requests the visit" REQUESTED "$(echo "$A" | jq -r .visit.state)"
# the prison checks the lawyer's licence and the case at the centre's node
# (legal.provider.get, legal.aid.get, relayed by the bureau), books the
# visit, and the centre learns it from the prison's event
wait_until 30 "[ \"\$(lcall legal.aid.get '\"id\":\"$LA\",\"purpose\":\"flow 1\"' | jq -r .visit.state)\" = BOOKED ]" ||
	fail "the prison's booking does not reach the centre"
assert_eq "the visit is booked at the prison (the centre's record)" BOOKED \
	"$(lcall legal.aid.get "\"id\":\"$LA\",\"purpose\":\"flow 1\"" | jq -r .visit.state)"
V=$(on prison call prison.visit.get "{$ADMIN,\"id\":\"$VID\"}")
assert_eq "the prison's own record of the LEGAL visit" "BOOKED|LEGAL|5101000001|$LA|Li Wei" \
	"$(echo "$V" | jq -r '"\(.state)|\(.type)|\(.prisoner_id)|\(.legal_aid_id)|\(.visitor.name)"')"
assert_eq "in service" IN_SERVICE "$(lcall legal.aid.start-service "\"id\":\"$LA\"" | jq -r .state)"
check "the visit takes place at the prison" on prison call prison.visit.complete \
	"{$ADMIN,\"id\":\"$VID\",\"outcome\":\"ATTENDED\"}"
wait_until 20 "[ \"\$(lcall legal.aid.get '\"id\":\"$LA\",\"purpose\":\"flow 1\"' | jq -r .visit.state)\" = COMPLETED ]" ||
	fail "the visit's completion does not reach the centre"
assert_eq "the centre follows the visit at the prison" "COMPLETED|ATTENDED" \
	"$(lcall legal.aid.get "\"id\":\"$LA\",\"purpose\":\"flow 1\"" | jq -r '"\(.visit.state)|\(.visit.outcome)"')"
assert_eq "closed" CLOSED "$(lcall legal.aid.close "\"id\":\"$LA\",\"outcome\":\"PETITION_FILED\"" | jq -r .state)"

echo "-- a case transfer from the prison to the procuratorate's node"
wait_until 20 "on prison status | jq -e '.node_links[0].interest | index(\"collab.transfer.deliver.procuratorate_01\")' >/dev/null" ||
	fail "the procuratorate's collab is not known at the prison"
S=$(on prison call collab.transfer.send "{$CLERK_P,\"transfer_id\":\"JY-2026-0007\",
  \"type\":\"COMMUTATION_PAROLE_PROPOSAL\",\"to_agency\":\"procuratorate-01\",
  \"subject\":{\"type\":\"prisoner\",\"id\":\"5101000001\"},
  \"documents\":[{\"name\":\"proposal.pdf\",\"media_type\":\"application/pdf\",
  \"sha256\":\"0d9a4b8e0f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f80910\",\"size\":48213}]}")
assert_eq "sent at the prison, its notify clock running" "SENT notify:PENDING" \
	"$(echo "$S" | jq -r '"\(.state) \([.clocks[] | "\(.clock):\(.status)"] | join(" "))"')"
wait_until 20 "on procuratorate call collab.transfer.get '{$CLERK_Q,\"transfer_id\":\"JY-2026-0007\"}' >/dev/null 2>&1" ||
	fail "the transfer is not stored at the procuratorate"
T=$(on procuratorate call collab.transfer.get "{$CLERK_Q,\"transfer_id\":\"JY-2026-0007\"}")
assert_eq "stored in the procuratorate's own database, same package, same clock" \
	"SENT $(echo "$S" | jq -r .package_hash) notify:PENDING:$(echo "$S" | jq -r '.clocks[0].due_at')" \
	"$(echo "$T" | jq -r '"\(.state) \(.package_hash) \([.clocks[] | "\(.clock):\(.status):\(.due_at)"] | join(" "))"')"
if command -v sqlite3 >/dev/null; then
	assert_eq "the procuratorate's database file holds it" 1 \
		"$(sqlite3 "$MN/var/procuratorate/collab.db" "SELECT count(*) FROM records WHERE kind='transfer' AND id='JY-2026-0007'")"
else
	skip "the database file check: no sqlite3"
fi
wait_until 20 "[ \"\$(on prison call collab.transfer.get '{$CLERK_P,\"transfer_id\":\"JY-2026-0007\",\"history\":true}' | jq -r .delivery.state)\" = ACKNOWLEDGED ]" ||
	fail "the prison has no acknowledgement"
assert_eq "the prison's record: delivered and acknowledged" "ACKNOWLEDGED send delivered" \
	"$(on prison call collab.transfer.get "{$CLERK_P,\"transfer_id\":\"JY-2026-0007\",\"history\":true}" |
		jq -r '"\(.delivery.state) \([.history[].action] | join(" "))"')"
assert_eq "received at the procuratorate" RECEIVED \
	"$(on procuratorate call collab.transfer.receive "{$CLERK_Q,\"transfer_id\":\"JY-2026-0007\"}" | jq -r .state)"
wait_until 20 "[ \"\$(on prison call collab.transfer.get '{$CLERK_P,\"transfer_id\":\"JY-2026-0007\"}' | jq -r .state)\" = RECEIVED ]" ||
	fail "the prison's copy does not follow"
assert_eq "the prison's copy follows, its clock met too" "RECEIVED notify:MET" \
	"$(on prison call collab.transfer.get "{$CLERK_P,\"transfer_id\":\"JY-2026-0007\"}" |
		jq -r '"\(.state) \([.clocks[] | "\(.clock):\(.status)"] | join(" "))"')"
assert_eq "and the procuratorate's" "notify:MET" \
	"$(on procuratorate call collab.transfer.get "{$CLERK_Q,\"transfer_id\":\"JY-2026-0007\"}" |
		jq -r '[.clocks[] | "\(.clock):\(.status)"] | join(" ")')"

echo "-- the prison's node sends only what it exports and the bureau grants"
in0=$(on bureau status | jq '.node_links[] | select(.name == "prison") | .in.events')
on prison pub rehab.kiosk.legal-aid-requested '{"id":"X","resident_id":"R1"}' >/dev/null
on prison pub prison.kiosk.legal-aid-requested '{"id":"K-9","prisoner_id":"5101000001"}' >/dev/null
wait_until 20 "[ \$(on bureau status | jq '.node_links[] | select(.name == \"prison\") | .in.events') -gt $in0 ]" || true
assert_eq "of the two, only its own kiosk topic reached the bureau" $((in0 + 1)) \
	"$(on bureau status | jq '.node_links[] | select(.name == "prison") | .in.events')"

echo "-- status and stop"
check "multi-node.sh status" "$SCRIPT" status --dir "$MN"
assert_contains "one line per link" "prison <-> bureau: up, dials out" "$OUT"
check "multi-node.sh stop" "$SCRIPT" stop --dir "$MN"
assert_contains "all stopped" "bureau: stopped" "$OUT"
check "status after stop" "$SCRIPT" status --dir "$MN"
assert_contains "not running" "bureau: not running" "$OUT"
finish
