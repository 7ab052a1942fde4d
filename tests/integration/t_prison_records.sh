#!/usr/bin/env bash
# The prison's other records over the bus: the location tree and cell
# capacity, prisoners (number pattern, moves, audited reads), visits and
# incident reports through their review states (allowed and refused), the
# kiosk legal-aid request, lists with filters and paging, and requests
# without an actor.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
xz_config <<'EOF2'
# SLA clocks long enough that a slow machine does not escalate anything
plugins = ( { name = "audit"; kind = "so"; }, { name = "prison"; kind = "so";
              options = { seed_demo_data = true; alarm_ack_sla_s = 86400;
                          alarm_ack_sla_l2_s = 86400;
                          alarm_ack_sla_l3_s = 86400; }; } );
EOF2
start_node

A='"actor":{"user":"officer-7","role":"OFFICER","agency":"prison-1"}'
call() { xz call "$1" "$2" 2>/dev/null || true; }
errmsg() { xz call "$1" "$2" 2>/dev/null | json '.error.code + ": " + .error.message' || true; }

xz sub 'prison.kiosk.legal-aid-requested' -n 1 >"$XZ_T/kiosk" 2>/dev/null &
SUB=$!
xz sub 'audit.prison.>' >"$XZ_T/audit" 2>/dev/null &
SUB2=$!
sleep 0.5

# -- locations and capacity
assert_eq "the seeded tree: P1.A and below (1 + 2 wings + 4 landings + 16 cells)" 23 \
	"$(call prison.location.list '{"location":"P1.A"}' | json .total)"
assert_eq "a seeded cell is full at 2 of 2" 2 \
	"$(call prison.location.get '{"id":"P1.A.1.1.001"}' | json .occupancy)"
assert_eq "admitting into a full cell is refused" \
	"capacity_exceeded: cell P1.A.1.1.001 is full: 2 of working capacity 2" \
	"$(errmsg prison.prisoner.admit "{$A,\"id\":\"B1234CD\",\"name\":\"Qian Yi\",\"legal_status\":\"REMAND\",\"cell\":\"P1.A.1.1.001\"}")"
assert_eq "a bad prisoner number is refused" \
	"bad_request: prison.prisoner.admit: prisoner number 12345 does not match ^[A-Z][0-9]{4}[A-Z]{2}$ (option prisoner_number_pattern)" \
	"$(errmsg prison.prisoner.admit "{$A,\"id\":\"12345\",\"name\":\"Qian Yi\",\"legal_status\":\"REMAND\",\"cell\":\"P1.B.2.2.003\"}")"
assert_eq "a sealed cell takes nobody" "INACTIVE" \
	"$(call prison.location.deactivate "{$A,\"id\":\"P1.B.2.2.003\",\"deactivation_reason\":\"SECURITY_SEALED\"}" | json .state)"
assert_eq "admitting into a sealed cell is refused" \
	"invalid_state: cell P1.B.2.2.003 is INACTIVE (SECURITY_SEALED): it takes no prisoner" \
	"$(errmsg prison.prisoner.admit "{$A,\"id\":\"B1234CD\",\"name\":\"Qian Yi\",\"legal_status\":\"REMAND\",\"cell\":\"P1.B.2.2.003\"}")"
call prison.location.reactivate "{$A,\"id\":\"P1.B.2.2.003\"}" >/dev/null
assert_eq "admitted" "IN P1.B.2.2.003" \
	"$(call prison.prisoner.admit "{$A,\"id\":\"B1234CD\",\"name\":\"Qian Yi\",\"legal_status\":\"REMAND\",\"cell\":\"P1.B.2.2.003\"}" | json '.state + " " + .cell')"
assert_eq "moved" "IN P1.B.2.2.002" \
	"$(call prison.prisoner.move "{$A,\"id\":\"B1234CD\",\"cell\":\"P1.B.2.2.002\"}" | json '.state + " " + .cell')"
assert_eq "a new cell needs a capacity" \
	'bad_request: prison.location.create: a CELL needs "capacity": {"certified":N,"working":N,"max":N}' \
	"$(errmsg prison.location.create "{$A,\"id\":\"P1.B.2.2.009\",\"type\":\"CELL\"}")"
assert_eq "a location needs its parent" \
	"not_found: prison.location.create: parent location P1.C.1 does not exist" \
	"$(errmsg prison.location.create "{$A,\"id\":\"P1.C.1.1\",\"type\":\"LANDING\"}")"

# -- prisoner reads are audited
R=$(call prison.prisoner.get "{$A,\"id\":\"A0001AA\",\"purpose\":\"visit check\"}")
assert_eq "prisoner record" "A0001AA Wang Wei IN" \
	"$(echo "$R" | json '[.id, .name, .state] | join(" ")')"
sleep 0.3
assert_eq "the read is audited with who and why" \
	"officer-7 OFFICER prison-1 VIEW prisoner A0001AA visit check ok" \
	"$(grep '"subject_id":"A0001AA"' "$XZ_T/audit" | json '.data | [.who, .role, .agency, .action, .subject_type, .subject_id, .purpose, .outcome] | join(" ")')"

# -- visits: REQUESTED -> APPROVED -> BOOKED -> COMPLETED
V=$(call prison.visit.request "{$A,\"prisoner_id\":\"A0001AA\",\"type\":\"LEGAL\",\"visitor\":{\"name\":\"Lawyer Zhou\",\"org\":\"Legal Aid Centre\"}}" | json .id)
assert_eq "visit requested" VIS-00000001 "$V"
assert_eq "booking before approval is refused" \
	"invalid_state: visit VIS-00000001 is REQUESTED: book is not allowed (allowed: approve, reject, cancel)" \
	"$(errmsg prison.visit.book "{$A,\"id\":\"$V\",\"slot_ms\":1900000000000}")"
call prison.visit.approve "{$A,\"id\":\"$V\"}" >/dev/null
assert_eq "booked" BOOKED \
	"$(call prison.visit.book "{$A,\"id\":\"$V\",\"slot_ms\":1900000000000}" | json .state)"
assert_eq "completing needs an outcome code" \
	"bad_request: prison.visit.complete: \"outcome\" must be ATTENDED, VISITOR_NO_SHOW, PRISONER_REFUSED or TERMINATED_EARLY" \
	"$(errmsg prison.visit.complete "{$A,\"id\":\"$V\"}")"
assert_eq "completed" "COMPLETED ATTENDED" \
	"$(call prison.visit.complete "{$A,\"id\":\"$V\",\"outcome\":\"ATTENDED\"}" | json '.state + " " + .outcome')"
assert_eq "a completed visit cannot be cancelled" \
	"invalid_state: visit VIS-00000001 is COMPLETED: cancel is not allowed (allowed: none)" \
	"$(errmsg prison.visit.cancel "{$A,\"id\":\"$V\"}")"
assert_eq "visits of a prisoner" 1 \
	"$(call prison.visit.list '{"owner":"A0001AA"}' | json .total)"

# -- incident review: DRAFT -> AWAITING_REVIEW -> NEEDS_UPDATING -> UPDATED -> CLOSED -> REOPENED
I=$(call prison.incident.draft "{$A,\"type\":\"FIGHT\",\"location\":\"P1.A.1.1\",\"description\":\"two prisoners fighting at unlock\",\"prisoners\":[{\"id\":\"A0001AA\",\"role\":\"ASSAILANT\"},{\"id\":\"A0002AB\",\"role\":\"VICTIM\"}],\"staff\":[{\"id\":\"officer-7\",\"role\":\"FIRST_ON_SCENE\"}]}" | json .id)
assert_eq "incident drafted" INC-00000001 "$I"
assert_eq "a bad role is refused" \
	'bad_request: incident: "prisoners" must be an array of {"id","role"} with role one of ASSAILANT, VICTIM, PERPETRATOR' \
	"$(errmsg prison.incident.draft "{$A,\"type\":\"FIGHT\",\"location\":\"P1\",\"prisoners\":[{\"id\":\"A0001AA\",\"role\":\"BYSTANDER\"}]}")"
S=""
for step in submit:AWAITING_REVIEW request-changes:NEEDS_UPDATING update:UPDATED close:CLOSED reopen:REOPENED update:UPDATED close:CLOSED; do
	act=${step%%:*}
	body="{$A,\"id\":\"$I\",\"changes\":{\"outcomes\":[\"ADJUDICATION\"]}}"
	S="$S $(call prison.incident.$act "$body" | json .state)"
done
assert_eq "incident through its review states" \
	" AWAITING_REVIEW NEEDS_UPDATING UPDATED CLOSED REOPENED UPDATED CLOSED" "$S"
assert_eq "a closed report cannot be marked duplicate" \
	"invalid_state: incident INC-00000001 is CLOSED: mark-duplicate is not allowed (allowed: reopen)" \
	"$(errmsg prison.incident.mark-duplicate "{$A,\"id\":\"$I\"}")"

# -- kiosk legal aid, for legal services
K=$(call prison.kiosk.legal-aid "{\"actor\":{\"user\":\"kiosk-3\",\"role\":\"KIOSK\"},\"prisoner_id\":\"A0002AB\",\"matter\":\"appeal against sentence\"}")
assert_eq "kiosk request stored" "KIO-00000001 SUBMITTED" "$(echo "$K" | json '.id + " " + .state')"
wait_for 5 test -s "$XZ_T/kiosk" || fail "no kiosk event"
assert_eq "prison.kiosk.legal-aid-requested for legal services" \
	"prison.kiosk.legal-aid-requested KIO-00000001 A0002AB INMATE 86400000" \
	"$(json '[.topic, .data.id, .data.prisoner_id, .data.applicant_type, (.data.forward_by_ms - .data.at_ms)] | map(tostring) | join(" ")' <"$XZ_T/kiosk")"

xz sub 'prison.kiosk.forward-overdue' -n 1 >"$XZ_T/overdue" 2>/dev/null &
sleep 0.3
xz call xz.sys.clock.advance '{"ms":90000000}' >/dev/null # 25 h
wait_for 5 test -s "$XZ_T/overdue" || fail "no prison.kiosk.forward-overdue"
assert_eq "not forwarded within 24 h: reported once" \
	"KIO-00000001 SUBMITTED overdue:system:clock" \
	"$(json .data.id <"$XZ_T/overdue") $(call prison.kiosk.get '{"id":"KIO-00000001"}' | json '.state + " " + .history[-1].action + ":" + .history[-1].who')"
assert_eq "legal services acknowledge it" FORWARDED \
	"$(call prison.kiosk.forward "{\"actor\":{\"user\":\"legal-svc\",\"role\":\"SYSTEM\"},\"id\":\"KIO-00000001\"}" | json .state)"

# -- alarms: false alarm, lists with filters and paging, who acts
call prison.alarm.raise "{$A,\"kind\":\"DRONE\",\"location\":\"P1.B\",\"source\":\"video\"}" >/dev/null
call prison.alarm.raise "{$A,\"kind\":\"FIRE\",\"level\":3,\"location\":\"P1.A.2.1\"}" >/dev/null
call prison.alarm.raise "{$A,\"kind\":\"MEDICAL\",\"level\":2,\"location\":\"P1.A.1.2.003\"}" >/dev/null
assert_eq "dismissed as a false alarm" FALSE_ALARM \
	"$(call prison.alarm.dismiss "{$A,\"id\":\"ALM-00000001\",\"reason\":\"bird\"}" | json .state)"
assert_eq "a false alarm cannot be reopened" \
	"invalid_state: alarm ALM-00000001 is FALSE_ALARM: reopen is not allowed (allowed: none)" \
	"$(errmsg prison.alarm.reopen "{$A,\"id\":\"ALM-00000001\"}")"
assert_eq "list by state" "2 ALM-00000002,ALM-00000003" \
	"$(call prison.alarm.list '{"state":"RAISED"}' | json '(.total|tostring) + " " + ([.items[].id] | join(","))')"
assert_eq "list by location subtree" "2" \
	"$(call prison.alarm.list '{"location":"P1.A"}' | json .total)"
assert_eq "paging" "1 ALM-00000002 2" \
	"$(call prison.alarm.list '{"limit":1,"offset":1}' | json '[(.items|length), .items[0].id, .next_offset] | map(tostring) | join(" ")')"
assert_eq "bad paging is refused" \
	"bad_request: prison.alarm.list: limit must be 1..1000 and offset >= 0" \
	"$(errmsg prison.alarm.list '{"limit":0}')"
assert_eq "a level-3 alarm cannot be escalated further" \
	"bad_request: alarm ALM-00000002 is at level 3: escalate needs a higher level, at most 3" \
	"$(errmsg prison.alarm.escalate "{$A,\"id\":\"ALM-00000002\"}")"
assert_eq "evidence attached" 1 \
	"$(call prison.alarm.attach-evidence "{$A,\"id\":\"ALM-00000003\",\"evidence\":{\"kind\":\"VIDEO\",\"ref\":\"cam-12\"}}" | json '.evidence | length')"
assert_eq "a change without an actor is refused" \
	'bad_request: prison.alarm.acknowledge: who acts is missing: give "actor":{"user":..,"role":..,"agency":..}' \
	"$(errmsg prison.alarm.acknowledge '{"id":"ALM-00000002"}')"
assert_eq "an unknown alarm" "not_found: no alarm with id ALM-99" \
	"$(errmsg prison.alarm.acknowledge "{$A,\"id\":\"ALM-99\"}")"
assert_eq "an unknown kind is refused" \
	'bad_request: prison.alarm.raise: "kind" must be one of PERIMETER, FIGHT, SELF_HARM, FIRE, MEDICAL, DRONE, ROLLCALL_DISCREPANCY, ESCAPE, CONTRABAND, ASSAULT_ON_STAFF, EQUIPMENT' \
	"$(errmsg prison.alarm.raise "{$A,\"kind\":\"UFO\",\"location\":\"P1\"}")"
R=$(call prison.alarm.stats '{}')
assert_eq "stats by state and level" "1 1 1" \
	"$(echo "$R" | json '[.by_state.RAISED["2"], .by_state.RAISED["3"], .by_state.FALSE_ALARM["1"]] | map(tostring) | join(" ")')"

kill "$SUB" "$SUB2" 2>/dev/null || true
stop_node
finish
