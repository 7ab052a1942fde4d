#!/usr/bin/env bash
# Refusals of rehab and collab in the node's language: with
# LC_ALL=zh_CN.UTF-8 a refused request's message is 简体中文 and names the
# state and the allowed actions (and the article of the law); with
# LC_ALL=C the same refusals are English. Codes stay ASCII. The catalog
# does not need the zh_CN locale to be generated on the machine.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
xz_config <<'EOF2'
plugins = ( { name = "rehab"; kind = "so"; options = { seed_demo_data = true; }; },
            { name = "collab"; kind = "so"; } );
EOF2
OF='"actor":{"user":"wang-jing","role":"rehab_officer","agency":"rehab-01"}'
EV='"actor":{"user":"dr-li","role":"rehab_evaluator","agency":"rehab-01"}'
LD='"actor":{"user":"zhao-gang","role":"rehab_leader","agency":"rehab-01"}'
PC='"actor":{"user":"chen-qiang","role":"case_clerk","agency":"police-01"}'
CC='"actor":{"user":"he-fang","role":"case_clerk","agency":"cc-01"}'
H=$(printf 'x' | sha256sum | cut -d' ' -f1)
err() { xz call "$1" "$2" 2>/dev/null | jq -r '.error.code + ": " + .error.message' || true; }
ITEMS='"detox":{"drug_test_negative":true,"withdrawal_medication_stopped":true,"acute_symptoms_gone":true,"no_marked_protracted_symptoms":true,"no_drug_induced_psychosis":true}'

run_checks() { # LANG-TAG
	local a t
	a=$(xz call rehab.assessment.record "{$EV,\"resident_id\":\"R0001\",\"kind\":\"DETOX\",$ITEMS}" | jq -r .id)
	xz call rehab.assessment.approve "{$LD,\"id\":\"$a\"}" >/dev/null
	A_MSG=$(err rehab.assessment.approve "{$LD,\"id\":\"$a\"}")
	P_MSG=$(err rehab.plan.start "{$OF,\"id\":\"$(xz call rehab.plan.draft "{$OF,\"resident_id\":\"R0001\",\"goals\":[\"x\"]}" | jq -r .id)\"}")
	T_MSG=$(err rehab.resident.admit "{$OF,\"id\":\"R9$1\",\"name\":\"x\",\"id_number\":\"510104199003071237\",\"decision_no\":\"D\",\"decision_date\":\"2026-01-05\",\"deciding_agency\":\"police-01\",\"term_months\":36}")
	F_MSG=$(err rehab.resident.get "{$OF,\"id\":3}")
	N_MSG=$(err rehab.plan.start "{$OF,\"id\":\"PL-NONE\"}")
	R_MSG=$(err rehab.resident.admit "{$EV,\"id\":\"R8\"}")
	t=$(xz call collab.transfer.send "{$PC,\"type\":\"ARREST_REQUEST\",\"to_agency\":\"procuratorate-01\",\"subject\":{\"type\":\"suspect\",\"id\":\"S-$1\"},\"documents\":[{\"name\":\"a\",\"media_type\":\"application/pdf\",\"sha256\":\"$H\",\"size\":1}]}" | jq -r .transfer_id)
	C_MSG=$(err collab.transfer.receive "{$PC,\"transfer_id\":\"$t\"}")
	S_MSG=$(err collab.transfer.send "{$CC,\"type\":\"ARREST_REQUEST\",\"to_agency\":\"procuratorate-01\",\"subject\":{\"type\":\"suspect\",\"id\":\"S\"},\"documents\":[{\"name\":\"a\",\"media_type\":\"application/pdf\",\"sha256\":\"$H\",\"size\":1}]}")
}

echo "-- 简体中文"
LC_ALL=zh_CN.UTF-8 start_node
run_checks 1
assert_eq "rehab: state and allowed actions in Chinese" \
	"invalid_state: 诊断评估 $(echo "$A_MSG" | sed -n 's/^invalid_state: 诊断评估 \([^ ]*\) .*/\1/p') 处于 APPROVED（已批准）状态：不允许 approve（允许的操作：无）" \
	"$A_MSG"
assert_contains "a plan's allowed actions are named" "处于 DRAFT（草稿）状态：不允许 start（允许的操作：update, submit）" "$P_MSG"
assert_contains "the 36-month term names the article in Chinese" "bad_request: 《禁毒法》第四十七条：强制隔离戒毒的期限为二年" "$T_MSG"
assert_eq "a record that is not there, in Chinese" "not_found: 没有编号为 PL-NONE 的矫治方案" "$N_MSG"
assert_eq "a wrong field type in Chinese" 'bad_request: 字段 "id"：应为 1..64 个字符的字符串，实际为整数' "$F_MSG"
assert_eq "a role refusal in Chinese" "forbidden: rehab.resident.admit 需要角色 rehab_officer；当前角色为“rehab_evaluator”" "$R_MSG"
assert_contains "collab: only the receiver, in Chinese" "forbidden: 只有 procuratorate-01 可以对案卷“tr-" "$C_MSG"
assert_contains "with the action and the actor's agency" "”执行 receive；当前办理人所属机关为“police-01”" "$C_MSG"
assert_eq "collab: an instrument the sender may not send, in Chinese" \
	"bad_request: 提请批准逮捕书（ARREST_REQUEST）不能由 cc-01（COMMUNITY_CORRECTIONS）发送；可发送的机关类型：PUBLIC_SECURITY" "$S_MSG"
stop_node

echo "-- English"
LC_ALL=C start_node
run_checks 2
assert_contains "rehab: state and allowed actions in English" "is APPROVED: approve is not allowed (allowed: none)" "$A_MSG"
assert_contains "a plan's allowed actions are named" "is DRAFT: start is not allowed (allowed: update, submit)" "$P_MSG"
assert_contains "the 36-month term names the article" "bad_request: 禁毒法 art. 47: the term of compulsory isolated rehabilitation is 2 years" "$T_MSG"
assert_eq "a record that is not there" "not_found: no plan with id PL-NONE" "$N_MSG"
assert_eq "a wrong field type" 'bad_request: field "id": expected a string of 1..64 characters, got an integer' "$F_MSG"
assert_eq "a role refusal" "forbidden: rehab.resident.admit needs the role rehab_officer; the actor's role is 'rehab_evaluator'" "$R_MSG"
assert_contains "collab: only the receiver" "forbidden: only procuratorate-01 may receive transfer" "$C_MSG"
assert_eq "collab: an instrument the sender may not send" \
	"bad_request: a 提请批准逮捕书 (ARREST_REQUEST) may not be sent by cc-01 (COMMUNITY_CORRECTIONS): senders are PUBLIC_SECURITY" "$S_MSG"
stop_node
finish
