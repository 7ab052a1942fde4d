#!/usr/bin/env bash
# t_legal_lang.sh - the legal plugin's messages in 简体中文 and English: a
# refused request names the state and the allowed actions (with their
# Chinese labels), a forbidden one the role needed, a malformed one the
# field; error codes, states and actions stay ASCII identifiers. The
# language is the option lang ("zh", "en") or, with "auto", the node's
# LC_ALL / LC_MESSAGES / LANG (first set, non-empty; "zh*" is Chinese).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
. "$XZ_SRC/plugins/legal/tests/flowlib.sh"

# refusals: three refused requests, "code|message" each
refusals() {
	local a
	a=$(lcall legal.aid.open '"applicant_type":"CITIZEN","matter":"工资"' | jq -r .id)
	lcall legal.aid.grant "\"id\":\"$a\"" 2>/dev/null | jq -r '.error.code + "|" + .error.message' || true
	acall u1 lawyer firm-01 legal.aid.grant "\"id\":\"$a\"" 2>/dev/null | jq -r '.error.code + "|" + .error.message' || true
	lcall legal.request.rate "\"id\":\"SR-1\",\"score\":\"5\"" 2>/dev/null | jq -r '.error.code + "|" + .error.message' || true
}

echo "-- lang = zh"
flow_node -o 'lang = "zh";' legal
mapfile -t R < <(refusals)
assert_eq "invalid state in Chinese, naming the state and the allowed actions" \
	"invalid_state|legal.aid.grant：法律援助申请 LA-00000001 处于 RECEIVED（已受理） 状态；允许的操作：start-review（开始审查）、request-supplement（一次性告知补充材料）、provide-urgent（先行提供）" \
	"${R[0]}"
assert_eq "forbidden in Chinese, naming the role" \
	"forbidden|legal.aid.grant：需要角色 legal_head；u1 的角色为 lawyer" "${R[1]}"
assert_eq "bad field in Chinese" \
	"bad_request|legal.request.rate：字段 \"score\"：应为 1 到 5 之间的整数" "${R[2]}"
stop_node

echo "-- lang = en"
flow_node -o 'lang = "en";' legal
mapfile -t R < <(refusals)
assert_eq "invalid state in English" \
	"invalid_state|legal.aid.grant: legal-aid application LA-00000002 is RECEIVED; allowed actions: start-review, request-supplement, provide-urgent" \
	"${R[0]}"
assert_eq "forbidden in English" "forbidden|legal.aid.grant: needs the role legal_head; u1 has lawyer" "${R[1]}"
assert_eq "bad field in English" 'bad_request|legal.request.rate: field "score": must be an integer from 1 to 5' "${R[2]}"
stop_node

echo "-- lang = auto: the node's environment"
LANG=zh_CN.UTF-8 LC_ALL= LC_MESSAGES= flow_node legal
HOST=$(xz console -e 'return rawget(xz, "lang") ~= nil or rawget(xz, "tr") ~= nil' | jq -r '.results[0]')
if [ "$HOST" = true ]; then
	mapfile -t R < <(refusals)
	assert_contains "LANG=zh_CN.UTF-8: Chinese" "处于 RECEIVED（已受理） 状态" "${R[0]}"
	stop_node
	LANG=C LC_ALL= LC_MESSAGES= flow_node legal
	mapfile -t R < <(refusals)
	assert_contains "LANG=C: English" "is RECEIVED; allowed actions:" "${R[0]}"
	stop_node
else
	# The Lua sandbox has no os.getenv: the node must hand its language to
	# Lua (xz.lang or xz.tr) for "auto" to follow LANG.
	mapfile -t R < <(refusals)
	assert_contains "without the host's language: English" "is RECEIVED; allowed actions:" "${R[0]}"
	stop_node
	skip "lang = auto under LANG=zh_CN.UTF-8: this node gives Lua no xz.lang / xz.tr"
fi
finish
