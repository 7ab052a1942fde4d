#!/usr/bin/env bash
# The command center's duty roster (值班表) and shift handover (交接班) on a
# real node (docs/scenarios.md, "Duty"): the roster set by the prison's
# leadership (a duty officer may not), strict inputs; the outgoing duty
# officer opens the handover with their open alarms, the shift's counts
# and notes (nobody else may); the incoming officer accepts it (nobody
# else may); a handover not accepted within handover_accept_s is
# escalated to the shift's duty leader, then to the prison's leadership;
# both steps are audited and published.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prison_actors.sh"
xz_setup
xz_config <<'EOF2'
plugins = ( { name = "audit"; kind = "so"; }, { name = "prison"; kind = "so";
              options = { seed_demo_data = true; handover_accept_s = 600;
                          alarm_ack_sla_s = 86400; alarm_ack_sla_l2_s = 86400;
                          alarm_ack_sla_l3_s = 86400; }; } );
EOF2
start_node

call() { xz call "$1" "$2" 2>/dev/null || true; }
errmsg() { xz call "$1" "$2" 2>/dev/null | json '.error.code + ": " + .error.message' || true; }
NEXT='"actor":{"user":"liuyang","name":"刘洋","role":"command_duty","agency":"prison-01"}'

xz_bg sub 'prison.handover.>' >"$XZ_T/ev" 2>/dev/null &
xz_bg sub 'audit.prison.>' >"$XZ_T/audit" 2>/dev/null &
sleep 0.5

# -- the roster
CUR=$(call prison.roster.current "{$DUTY}")
DATE=$(echo "$CUR" | json .date)
SHIFT=$(echo "$CUR" | json .shift)
NDATE=$(echo "$CUR" | json .next.date)
NSHIFT=$(echo "$CUR" | json .next.shift)
assert_eq "the shift on now is one of the configured two, nobody set yet" "true null" \
	"$(echo "$CUR" | json '"\(.shift == "DAY" or .shift == "NIGHT") \(.officer)"')"
assert_eq "a duty officer does not set the roster" \
	"forbidden: prison.roster.set: role command_duty may not do this; it needs one of: prison_leader, prison_admin" \
	"$(errmsg prison.roster.set "{$DUTY,\"date\":\"$DATE\",\"shift\":\"$SHIFT\",\"officer\":\"zhangwei\",\"leader\":\"liqiang\"}")"
assert_eq "an unknown shift is refused, naming the shifts" \
	"bad_request: prison.roster.set: \"shift\": EVENING is not a shift of the roster (DAY, NIGHT; option shifts)" \
	"$(errmsg prison.roster.set "{$CHIEF,\"date\":\"$DATE\",\"shift\":\"EVENING\",\"officer\":\"zhangwei\",\"leader\":\"liqiang\"}")"
assert_eq "the schema is strict" \
	"bad_request" \
	"$(call prison.roster.set "{$CHIEF,\"date\":\"$DATE\",\"shift\":\"$SHIFT\",\"officer\":\"zhangwei\",\"leader\":\"liqiang\",\"phone\":\"110\"}" | json .error.code)"
assert_eq "officer and leader are two people" \
	"bad_request: prison.roster.set: the duty officer and the duty leader of a shift are two people" \
	"$(errmsg prison.roster.set "{$CHIEF,\"date\":\"$DATE\",\"shift\":\"$SHIFT\",\"officer\":\"zhangwei\",\"leader\":\"zhangwei\"}")"
R=$(call prison.roster.set "{$CHIEF,\"date\":\"$DATE\",\"shift\":\"$SHIFT\",\"officer\":\"zhangwei\",\"officer_name\":\"张伟\",\"leader\":\"liqiang\",\"leader_name\":\"李强\"}")
assert_eq "this shift set by the prison's leadership" "$DATE.$SHIFT SET zhangwei liqiang" \
	"$(echo "$R" | json '"\(.id) \(.state) \(.officer.user) \(.leader.user)"')"
call prison.roster.set "{$ADMIN,\"date\":\"$NDATE\",\"shift\":\"$NSHIFT\",\"officer\":\"liuyang\",\"officer_name\":\"刘洋\",\"leader\":\"wujing\",\"leader_name\":\"吴静\"}" >/dev/null
R=$(call prison.roster.set "{$ADMIN,\"date\":\"$NDATE\",\"shift\":\"$NSHIFT\",\"officer\":\"liuyang\",\"leader\":\"zhouping\",\"leader_name\":\"周平\"}")
assert_eq "the next shift set, then changed by the 狱政科" "SET zhouping 周平" \
	"$(echo "$R" | json '"\(.state) \(.leader.user) \(.leader.name)"')"
assert_eq "who is on duty now, and next" "zhangwei liqiang liuyang" \
	"$(call prison.roster.current "{$LEADER}" | json '"\(.officer.user) \(.leader.user) \(.next.officer.user)"')"

# -- an open alarm the incoming officer takes over
A=$(call prison.alarm.raise "{$SENSOR,\"kind\":\"PERIMETER\",\"level\":2,\"location\":\"5101.ZJ\"}" | json .id)

# -- the handover
SH="\"date\":\"$DATE\",\"shift\":\"$SHIFT\""
assert_eq "only the outgoing duty officer opens it" \
	"forbidden: prison.handover.open: the duty officer of shift $DATE.$SHIFT is zhangwei, not liuyang: only the outgoing duty officer opens its handover" \
	"$(errmsg prison.handover.open "{$NEXT,$SH}")"
assert_eq "a duty leader is not a duty officer" "forbidden" \
	"$(call prison.handover.open "{$LEADER,$SH}" | json .error.code)"
H=$(call prison.handover.open "{$DUTY,$SH,\"notes\":\"5101.ZJ 周界告警待处置；03 监舍一名罪犯情绪不稳\"}")
HID=$(echo "$H" | json .id)
assert_eq "opened: from, to, the duty leader, the clock" "OPEN zhangwei liuyang liqiang $NDATE.$NSHIFT" \
	"$(echo "$H" | json '"\(.state) \(.from.user) \(.to.user) \(.leader.user) \(.next_shift)"')"
assert_eq "it lists the open alarm" "$A PERIMETER 2 RAISED" \
	"$(echo "$H" | json '.open_alarms[] | "\(.id) \(.kind) \(.level) \(.state)"')"
assert_eq "with the shift's counts" "1 40" \
	"$(echo "$H" | json '"\(.counts.alarms) \(.counts.prisoners_serving)"')"
assert_eq "and the notes" "5101.ZJ 周界告警待处置；03 监舍一名罪犯情绪不稳" "$(echo "$H" | json .notes)"
assert_eq "a shift is handed over once" "exists" \
	"$(call prison.handover.open "{$DUTY,$SH}" | json .error.code)"
wait_until 5 'grep -q "prison.handover.opened" "$XZ_T/ev"' || true
assert_eq "published: prison.handover.opened" "$HID liuyang" \
	"$(grep '"prison.handover.opened"' "$XZ_T/ev" | head -1 | json '.data | "\(.id) \(.to)"')"
assert_eq "the outgoing officer cannot accept it" \
	"forbidden: prison.handover.accept: handover $HID is to liuyang, the next shift's duty officer, not to zhangwei" \
	"$(errmsg prison.handover.accept "{$DUTY,\"id\":\"$HID\"}")"
assert_eq "an area officer cannot accept it" \
	"forbidden: prison.handover.accept: role area_officer may not do this; it needs one of: command_duty" \
	"$(errmsg prison.handover.accept "{$AREA,\"id\":\"$HID\"}")"

# -- not accepted in time: the duty leader, then the leadership
check "advance past the acceptance clock" xz call xz.sys.clock.advance '{"ms":601000}'
wait_until 5 '[ "$(call prison.handover.get "{$LEADER,\"id\":\"$HID\"}" | json .state)" = ESCALATED ]' || true
assert_eq "escalated to the shift's duty leader" "ESCALATED duty_leader liqiang" \
	"$(call prison.handover.get "{$LEADER,\"id\":\"$HID\"}" | json .state) $(grep '"prison.handover.escalated"' "$XZ_T/ev" | head -1 | json '.data | "\(.notify) \(.leader)"')"
check "advance again" xz call xz.sys.clock.advance '{"ms":601000}'
wait_until 5 '[ "$(grep -c "prison.handover.escalated" "$XZ_T/ev")" -ge 2 ]' || true
assert_eq "then the prison's leadership" "prison_leader 2" \
	"$(grep '"prison.handover.escalated"' "$XZ_T/ev" | sed -n 2p | json '.data | "\(.notify) \(.step)"')"
check "advance once more" xz call xz.sys.clock.advance '{"ms":601000}'
sleep 0.5
assert_eq "told once each: no third escalation" 2 "$(grep -c '"prison.handover.escalated"' "$XZ_T/ev")"

# -- accepted by the incoming officer
R=$(call prison.handover.accept "{$NEXT,\"id\":\"$HID\",\"note\":\"已接班，周界告警继续处置\"}")
assert_eq "accepted, late" "ACCEPTED" "$(echo "$R" | json .state)"
wait_until 5 'grep -q "prison.handover.accepted" "$XZ_T/ev"' || true
assert_eq "published: prison.handover.accepted" "liuyang true" \
	"$(grep '"prison.handover.accepted"' "$XZ_T/ev" | json '.data | "\(.who) \(.late)"')"
assert_eq "the history" "create escalate escalate accept" \
	"$(call prison.handover.get "{$CHIEF,\"id\":\"$HID\"}" | json '[.history[].action] | join(" ")')"
assert_eq "accepted once" "invalid_state" \
	"$(call prison.handover.accept "{$NEXT,\"id\":\"$HID\"}" | json .error.code)"
assert_eq "the bureau does not read handovers" "forbidden" \
	"$(call prison.handover.get "{$BUREAU,\"id\":\"$HID\"}" | json .error.code)"
assert_eq "listed by the shift" "$HID" \
	"$(call prison.handover.list "{$LEADER,\"owner\":\"$DATE.$SHIFT\"}" | json '.items[].id')"

# -- both steps audited, by who did them
sleep 0.5
assert_eq "audited: opened by the outgoing, accepted by the incoming officer" \
	"CREATE zhangwei command_duty|UPDATE system:clock SYSTEM|UPDATE system:clock SYSTEM|UPDATE liuyang command_duty" \
	"$(grep "\"subject_id\":\"$HID\"" "$XZ_T/audit" | json '.data | select(.action != "REFUSE") | "\(.action) \(.who) \(.role)"' | paste -sd'|')"
assert_eq "the refusals audited too" "sun-bureau wangfang zhangwei" \
	"$(grep "\"subject_id\":\"$HID\"" "$XZ_T/audit" | json '.data | select(.action == "REFUSE") | .who' | sort -u | paste -sd' ')"

# -- in Chinese
stop_node
LANG=zh_CN.UTF-8 start_node
assert_eq "the refusal in Chinese" \
	"forbidden: prison.handover.open：班次 $DATE.$SHIFT 的值班民警是 zhangwei，不是 liuyang：只有交班的值班民警可以发起交接班" \
	"$(errmsg prison.handover.open "{$NEXT,$SH}")"
stop_node
finish
