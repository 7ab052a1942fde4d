#!/usr/bin/env bash
# The prison's other records over the bus: the layout's location tree and
# cell capacity, the register of prisoners (罪犯编号 pattern, sentence,
# 分级处遇, 重点罪犯, legal statuses of a 监狱 only), visits in visiting
# hours and rooms, incident reports through their review states (allowed
# and refused), the kiosk legal-aid request, lists with filters and
# paging.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prison_actors.sh"
xz_setup
xz_config <<'EOF2'
# SLA clocks long enough that a slow machine does not escalate anything
plugins = ( { name = "audit"; kind = "so"; }, { name = "prison"; kind = "so";
              options = { seed_demo_data = true; alarm_ack_sla_s = 86400;
                          alarm_ack_sla_l2_s = 86400;
                          alarm_ack_sla_l3_s = 86400; }; } );
EOF2
start_node

call() { xz call "$1" "$2" 2>/dev/null || true; }
errmsg() { xz call "$1" "$2" 2>/dev/null | json '.error.code + ": " + .error.message' || true; }
ADMIT='"name":"钱一","id_number":"11010519491231002X","crime":"PROPERTY","sentence_start":"2025-03-01","sentence_end":"2031-02-28"'

xz_bg sub 'prison.kiosk.legal-aid-requested' -n 1 >"$XZ_T/kiosk" 2>/dev/null &
SUB=$!
xz_bg sub 'audit.prison.>' >"$XZ_T/audit" 2>/dev/null &
SUB2=$!
sleep 0.5

# -- the layout: 监狱 → 监区 → 分监区 → 监舍, and zones
assert_eq "area 5101.01 and below (1 + 2 sub-areas + 8 cells + 1 workshop)" 12 \
	"$(call prison.location.list "{$DUTY,\"location\":\"5101.01\"}" | json .total)"
assert_eq "a cell of the layout" "CELL 12 4 cam-01-1-corridor" \
	"$(call prison.location.get "{$DUTY,\"id\":\"5101.01.1.101\"}" | json '[.type, .capacity, .occupancy, .parent] | map(tostring) | join(" ")' | sed 's/5101.01.1$/cam-01-1-corridor/')"
assert_eq "the perimeter zone" "ZONE PERIMETER 周界" \
	"$(call prison.location.get "{$DUTY,\"id\":\"5101.ZJ\"}" | json '[.type, .zone, .name] | join(" ")')"

# -- the register
assert_eq "a bad prisoner number is refused" \
	"bad_request: prison.prisoner.admit: \"id\": prisoner number A1234BC does not match ^[0-9]{10}\$ (option prisoner_number_pattern)" \
	"$(errmsg prison.prisoner.admit "{$ADMIN,\"id\":\"A1234BC\",$ADMIT,\"cell\":\"5101.02.1.104\"}")"
assert_eq "a wrong citizen-id check digit is refused" \
	"bad_request: prison.prisoner.admit: \"id_number\": expected an 18-character citizen identity number (GB 11643) with a correct check character" \
	"$(errmsg prison.prisoner.admit "{$ADMIN,\"id\":\"5101009001\",$(echo "$ADMIT" | sed 's/002X/0021/'),\"cell\":\"5101.02.1.104\"}")"
assert_eq "remand is not a status of a prison" \
	"bad_request: prison.prisoner.admit: \"legal_status\" is not a field of this request (fields: id, name, id_number, crime, sentence_type, sentence_start, sentence_end, treatment, key, cell)" \
	"$(errmsg prison.prisoner.admit "{$ADMIN,\"id\":\"5101009001\",$ADMIT,\"legal_status\":\"REMAND\",\"cell\":\"5101.02.1.104\"}")"
assert_eq "a sentence ends after it starts" \
	'bad_request: prison.prisoner.admit: "sentence_end" must be after "sentence_start"' \
	"$(errmsg prison.prisoner.admit "{$ADMIN,\"id\":\"5101009001\",$(echo "$ADMIT" | sed 's/2031-02-28/2024-01-01/'),\"cell\":\"5101.02.1.104\"}")"
assert_eq "a life sentence has no end" \
	'bad_request: prison.prisoner.admit: a LIFE sentence has no "sentence_end"' \
	"$(errmsg prison.prisoner.admit "{$ADMIN,\"id\":\"5101009001\",$ADMIT,\"sentence_type\":\"LIFE\",\"cell\":\"5101.02.1.104\"}")"
assert_eq "an unknown 分级处遇 level is refused" \
	'bad_request: prison.prisoner.admit: "treatment": expected one of STRICT, OBSERVATION, ORDINARY, LENIENT' \
	"$(errmsg prison.prisoner.admit "{$ADMIN,\"id\":\"5101009001\",$ADMIT,\"treatment\":\"VIP\",\"cell\":\"5101.02.1.104\"}")"
assert_eq "a sealed cell takes nobody" "INACTIVE" \
	"$(call prison.location.deactivate "{$ADMIN,\"id\":\"5101.02.1.104\",\"deactivation_reason\":\"SECURITY_SEALED\"}" | json .state)"
assert_eq "admitting into a sealed cell is refused" \
	"invalid_state: cell 5101.02.1.104 is INACTIVE (SECURITY_SEALED): it takes no prisoner" \
	"$(errmsg prison.prisoner.admit "{$ADMIN,\"id\":\"5101009001\",$ADMIT,\"cell\":\"5101.02.1.104\"}")"
call prison.location.reactivate "{$ADMIN,\"id\":\"5101.02.1.104\"}" >/dev/null
assert_eq "admitted: serving, ordinary treatment by default" "SERVING 5101.02.1.104 ORDINARY FIXED_TERM false" \
	"$(call prison.prisoner.admit "{$ADMIN,\"id\":\"5101009001\",$ADMIT,\"cell\":\"5101.02.1.104\"}" | json '[.state, .cell, .treatment, .sentence_type, .key_prisoner] | map(tostring) | join(" ")')"
for n in 2 3 4; do
	call prison.prisoner.admit "{$ADMIN,\"id\":\"510100900$n\",$ADMIT,\"cell\":\"5101.02.1.104\"}" >/dev/null
done
assert_eq "cell 104 (capacity 4) is full" \
	"capacity_exceeded: cell 5101.02.1.104 is full: 4 of capacity 4" \
	"$(errmsg prison.prisoner.admit "{$ADMIN,\"id\":\"5101009005\",$ADMIT,\"cell\":\"5101.02.1.104\"}")"
assert_eq "moved" "SERVING 5101.01.1.104" \
	"$(call prison.prisoner.move "{$AREA,\"id\":\"5101009001\",\"cell\":\"5101.01.1.104\"}" | json '.state + " " + .cell')"
assert_eq "graded (分级处遇)" "STRICT" \
	"$(call prison.prisoner.grade "{$ADMIN,\"id\":\"5101009001\",\"treatment\":\"STRICT\",\"reason\":\"违规\"}" | json .treatment)"
assert_eq "marked a key prisoner (重点罪犯)" "true HIGH ESCAPE" \
	"$(call prison.prisoner.mark-key "{$ADMIN,\"id\":\"5101009001\",\"risk\":\"HIGH\",\"reasons\":[\"ESCAPE\"],\"note\":\"有脱逃史\"}" | json '[.key_prisoner, .key.risk, .key.reasons[0]] | map(tostring) | join(" ")')"
assert_eq "paroled by the court's ruling" "PAROLED (2026)川01刑更123号" \
	"$(call prison.prisoner.parole "{$ADMIN,\"id\":\"5101009002\",\"ruling\":\"(2026)川01刑更123号\"}" | json '.state + " " + .ruling')"
assert_eq "a paroled prisoner is not moved" \
	"invalid_state: prisoner 5101009002 is PAROLED: move is not allowed (allowed: readmit)" \
	"$(errmsg prison.prisoner.move "{$AREA,\"id\":\"5101009002\",\"cell\":\"5101.01.1.104\"}")"
assert_eq "暂予监外执行 by decision" "TEMP_OUTSIDE" \
	"$(call prison.prisoner.execute-outside "{$ADMIN,\"id\":\"5101009003\",\"decision\":\"川狱监外字〔2026〕5号\"}" | json .state)"
assert_eq "released at the end of the sentence" "RELEASED" \
	"$(call prison.prisoner.release "{$ADMIN,\"id\":\"5101009004\"}" | json .state)"
assert_eq "the cell has room again" 0 \
	"$(call prison.location.get "{$DUTY,\"id\":\"5101.02.1.104\"}" | json .occupancy)"

# -- prisoner reads are audited
R=$(call prison.prisoner.get "{$AREA,\"id\":\"5101000001\",\"purpose\":\"visit check\"}")
assert_eq "prisoner record" "5101000001 王伟 SERVING PROPERTY" \
	"$(echo "$R" | json '[.id, .name, .state, .crime] | join(" ")')"
sleep 0.3
assert_eq "the read is audited with who and why" \
	"wangfang area_officer prison-01 VIEW prisoner 5101000001 visit check ok" \
	"$(grep '"subject_id":"5101000001"' "$XZ_T/audit" | json '.data | [.who, .role, .agency, .action, .subject_type, .subject_id, .purpose, .outcome] | join(" ")')"

# -- visits: REQUESTED -> APPROVED -> BOOKED (in visiting hours) -> COMPLETED
# 1900000000000 is Tue 2030-03-17 17:46 UTC = Wed 01:46 Beijing time: the
# prison books the first slot of the visiting hours, Wed 09:00 (01:00 UTC)
V=$(call prison.visit.request "{$ADMIN,\"prisoner_id\":\"5101000001\",\"type\":\"LEGAL\",\"visitor\":{\"name\":\"周律师\",\"licence\":\"15101201010001\"},\"letter\":\"川法援函〔2026〕12号\"}" | json .id)
assert_eq "visit requested" VIS-00000001 "$V"
assert_eq "booking before approval is refused" \
	"invalid_state: visit VIS-00000001 is REQUESTED: book is not allowed (allowed: approve, reject, cancel)" \
	"$(errmsg prison.visit.book "{$ADMIN,\"id\":\"$V\",\"slot_ms\":1900000000000}")"
call prison.visit.approve "{$ADMIN,\"id\":\"$V\"}" >/dev/null
B=$(call prison.visit.book "{$ADMIN,\"id\":\"$V\",\"slot_ms\":1900000000000}")
assert_eq "booked in visiting hours, in the first room" "BOOKED $(date -u -d '2030-03-18 01:00' +%s)000 HJ-1 1900000000000" \
	"$(echo "$B" | json '[.state, .slot_ms, .room, .requested_slot_ms] | map(tostring) | join(" ")')"
V2=$(call prison.visit.request "{$ADMIN,\"prisoner_id\":\"5101000002\",\"type\":\"FAMILY\",\"visitor\":{\"name\":\"张三\",\"relation\":\"父亲\"}}" | json .id)
call prison.visit.approve "{$ADMIN,\"id\":\"$V2\"}" >/dev/null
assert_eq "the same slot in room HJ-1 is taken: the next free slot" "$(date -u -d '2030-03-18 01:30' +%s)000 HJ-1" \
	"$(call prison.visit.book "{$ADMIN,\"id\":\"$V2\",\"slot_ms\":1900000000000,\"room\":\"HJ-1\"}" | json '[.slot_ms, .room] | map(tostring) | join(" ")')"
assert_eq "completing needs an outcome code" \
	'bad_request: prison.visit.complete: "outcome" is missing: expected one of ATTENDED, VISITOR_NO_SHOW, PRISONER_REFUSED, TERMINATED_EARLY' \
	"$(errmsg prison.visit.complete "{$ADMIN,\"id\":\"$V\"}")"
assert_eq "completed" "COMPLETED ATTENDED" \
	"$(call prison.visit.complete "{$AREA,\"id\":\"$V\",\"outcome\":\"ATTENDED\"}" | json '.state + " " + .outcome')"
assert_eq "a completed visit cannot be cancelled" \
	"invalid_state: visit VIS-00000001 is COMPLETED: cancel is not allowed (allowed: none)" \
	"$(errmsg prison.visit.cancel "{$ADMIN,\"id\":\"$V\"}")"
assert_eq "visits of a prisoner" 1 \
	"$(call prison.visit.list "{$ADMIN,\"owner\":\"5101000001\"}" | json .total)"

# -- incident review: DRAFT -> AWAITING_REVIEW -> NEEDS_UPDATING -> UPDATED -> CLOSED -> REOPENED
I=$(call prison.incident.draft "{$DUTY,\"type\":\"FIGHT\",\"location\":\"5101.01.1\",\"description\":\"两名罪犯在开封时打架\",\"prisoners\":[{\"id\":\"5101000001\",\"role\":\"ASSAILANT\"},{\"id\":\"5101000002\",\"role\":\"VICTIM\"}],\"staff\":[{\"id\":\"wangfang\",\"role\":\"FIRST_ON_SCENE\"}]}" | json .id)
assert_eq "incident drafted" INC-00000001 "$I"
assert_eq "a bad role is refused" \
	'bad_request: prison.incident.draft: "prisoners[0].role": expected one of ASSAILANT, VICTIM, PERPETRATOR, INVOLVED, WITNESS, SUSPECTED' \
	"$(errmsg prison.incident.draft "{$DUTY,\"type\":\"FIGHT\",\"location\":\"5101\",\"prisoners\":[{\"id\":\"5101000001\",\"role\":\"BYSTANDER\"}]}")"
S=""
for step in submit:AWAITING_REVIEW:DUTY request-changes:NEEDS_UPDATING:LEADER update:UPDATED:DUTY close:CLOSED:LEADER reopen:REOPENED:LEADER update:UPDATED:DUTY close:CLOSED:LEADER; do
	IFS=: read -r act _ who <<<"$step"
	extra=""
	[ "$act" != update ] || extra=',"changes":{"outcomes":["加分扣分处理"]}'
	body="{${!who},\"id\":\"$I\"$extra}"
	S="$S $(call prison.incident.$act "$body" | json .state)"
done
assert_eq "incident through its review states" \
	" AWAITING_REVIEW NEEDS_UPDATING UPDATED CLOSED REOPENED UPDATED CLOSED" "$S"
assert_eq "a closed report cannot be marked duplicate" \
	"invalid_state: incident INC-00000001 is CLOSED: mark-duplicate is not allowed (allowed: reopen)" \
	"$(errmsg prison.incident.mark-duplicate "{$LEADER,\"id\":\"$I\"}")"

# -- kiosk legal aid, for legal services
K=$(call prison.kiosk.legal-aid "{$KIOSK,\"prisoner_id\":\"5101000002\",\"matter\":\"申诉\"}")
assert_eq "kiosk request stored" "KIO-00000001 SUBMITTED" "$(echo "$K" | json '.id + " " + .state')"
wait_for 5 test -s "$XZ_T/kiosk" || fail "no kiosk event"
assert_eq "prison.kiosk.legal-aid-requested for legal services" \
	"prison.kiosk.legal-aid-requested KIO-00000001 5101000002 INMATE 86400000" \
	"$(json '[.topic, .data.id, .data.prisoner_id, .data.applicant_type, (.data.forward_by_ms - .data.at_ms)] | map(tostring) | join(" ")' <"$XZ_T/kiosk")"
assert_eq "a prisoner not in the register" \
	'bad_request: "prisoner_id": 5101999999 is not in the register' \
	"$(errmsg prison.kiosk.legal-aid "{$KIOSK,\"prisoner_id\":\"5101999999\",\"matter\":\"申诉\"}")"

xz_bg sub 'prison.kiosk.forward-overdue' -n 1 >"$XZ_T/overdue" 2>/dev/null &
sleep 0.3
xz call xz.sys.clock.advance '{"ms":90000000}' >/dev/null # 25 h
wait_for 5 test -s "$XZ_T/overdue" || fail "no prison.kiosk.forward-overdue"
assert_eq "not forwarded within 24 h: reported once" \
	"KIO-00000001 SUBMITTED overdue:system:clock" \
	"$(json .data.id <"$XZ_T/overdue") $(call prison.kiosk.get "{$ADMIN,\"id\":\"KIO-00000001\"}" | json '.state + " " + .history[-1].action + ":" + .history[-1].who')"
assert_eq "legal services acknowledge it" FORWARDED \
	"$(call prison.kiosk.forward "{$PLUGIN,\"id\":\"KIO-00000001\"}" | json .state)"

# -- alarms: false alarm, lists with filters and paging
call prison.alarm.raise "{$SENSOR,\"kind\":\"DRONE\",\"location\":\"5101.ZJ\",\"source\":\"video\"}" >/dev/null
call prison.alarm.raise "{$DUTY,\"kind\":\"FIRE\",\"level\":3,\"location\":\"5101.01.2\"}" >/dev/null
call prison.alarm.raise "{$AREA,\"kind\":\"MEDICAL\",\"level\":2,\"location\":\"5101.01.1.103\"}" >/dev/null
assert_eq "the perimeter alarm carries its cameras" "cam-zj-n,cam-zj-e,cam-zj-s,cam-zj-w" \
	"$(call prison.alarm.get "{$DUTY,\"id\":\"ALM-00000001\"}" | json '.cameras | join(",")')"
assert_eq "dismissed as a false alarm" FALSE_ALARM \
	"$(call prison.alarm.dismiss "{$DUTY,\"id\":\"ALM-00000001\",\"reason\":\"飞鸟\"}" | json .state)"
assert_eq "a false alarm cannot be reopened" \
	"invalid_state: alarm ALM-00000001 is FALSE_ALARM: reopen is not allowed (allowed: none)" \
	"$(errmsg prison.alarm.reopen "{$LEADER,\"id\":\"ALM-00000001\"}")"
assert_eq "list by state" "2 ALM-00000002,ALM-00000003" \
	"$(call prison.alarm.list "{$DUTY,\"state\":\"RAISED\"}" | json '(.total|tostring) + " " + ([.items[].id] | join(","))')"
assert_eq "list by location subtree" "2" \
	"$(call prison.alarm.list "{$DUTY,\"location\":\"5101.01\"}" | json .total)"
assert_eq "paging" "1 ALM-00000002 2" \
	"$(call prison.alarm.list "{$DUTY,\"limit\":1,\"offset\":1}" | json '[(.items|length), .items[0].id, .next_offset] | map(tostring) | join(" ")')"
assert_eq "bad paging is refused" \
	'bad_request: prison.alarm.list: "limit": expected an integer from 1 to 100000, got 0' \
	"$(errmsg prison.alarm.list "{$DUTY,\"limit\":0}")"
assert_eq "a level-3 alarm cannot be escalated further" \
	"bad_request: alarm ALM-00000002 is at level 3: escalate needs a higher level, at most 3" \
	"$(errmsg prison.alarm.escalate "{$DUTY,\"id\":\"ALM-00000002\"}")"
assert_eq "evidence attached" 1 \
	"$(call prison.alarm.attach-evidence "{$AREA,\"id\":\"ALM-00000003\",\"evidence\":{\"kind\":\"VIDEO\",\"ref\":\"cam-01-1-corridor/2026-12-02T05:00\"}}" | json '.evidence | length')"
assert_eq "an unknown alarm" "not_found: no alarm with id ALM-99" \
	"$(errmsg prison.alarm.acknowledge "{$DUTY,\"id\":\"ALM-99\"}")"
assert_eq "an unknown kind is refused" \
	'bad_request: prison.alarm.raise: "kind": expected one of PERIMETER, FIGHT, SELF_HARM, FIRE, MEDICAL, DRONE, ROLLCALL_DISCREPANCY, ESCAPE, CONTRABAND, ASSAULT_ON_STAFF, EQUIPMENT' \
	"$(errmsg prison.alarm.raise "{$DUTY,\"kind\":\"UFO\",\"location\":\"5101\"}")"
R=$(call prison.alarm.stats "{$DUTY}")
assert_eq "stats by state and level" "1 1 1" \
	"$(echo "$R" | json '[.by_state.RAISED["2"], .by_state.RAISED["3"], .by_state.FALSE_ALARM["1"]] | map(tostring) | join(" ")')"

kill "$SUB" "$SUB2" 2>/dev/null || true
stop_node
finish
