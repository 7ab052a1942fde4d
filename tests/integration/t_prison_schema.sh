#!/usr/bin/env bash
# Strict inputs: every prison request is checked against its declared
# schema (prison.api.describe lists them). A field-type fuzz sends each
# field of each request with values of the wrong type - a string where a
# number belongs ("3"), a fraction (3.9), an object, an array, a boolean,
# an out-of-range or unknown value - and an unknown field: every one must
# be refused as bad_request naming the field, and none may be coerced
# (the count of accepted wrong values must be 0). Then the refusals in
# 简体中文 (LC_ALL=zh_CN.UTF-8) and in English (LC_ALL=C).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prison_actors.sh"
xz_setup
xz_config <<'EOF2'
plugins = ( { name = "prison"; kind = "so";
              options = { seed_demo_data = true; }; } );
EOF2
LC_ALL=C start_node

D=$(xz call prison.api.describe "{$DUTY}")
N=$(echo "$D" | jq 'keys | length')
assert_eq "every request topic has a schema and a role list" "$N" \
	"$(echo "$D" | jq '[.[] | select(.fields != null)] | length')"
[ "$N" -ge 50 ] || fail "only $N request topics described"

# one line per case: TOPIC <tab> PATH <tab> BODY
echo "$D" | jq -r --argjson actor "{$PLUGIN}" '
  def wrongs(t):
    { "integer": ["3", 3.9, {}],
      "string":  [3, {}],
      "enum":    [[], "NOT_A_VALUE"],
      "idcard":  [11010519491231002, "110105194912310021"],
      "boolean": ["true", 1],
      "object":  ["x", []],
      "array":   ["x", {}] }[t];
  to_entries[] | select(.key != "prison.api.describe") | .key as $topic
  | .value.fields as $f
  | ( ($f | to_entries[] | .key as $k | .value as $s
       | ( (wrongs($s.type)[] | [$topic, $k, ($actor + {($k): .})])
         , ( if $s.type == "object" and $s.fields then
               ($s.fields | to_entries[] | .key as $sk
                | wrongs(.value.type)[]
                | [$topic, "\($k).\($sk)", ($actor + {($k): {($sk): .}})])
             else empty end)
         , ( if $s.type == "array" and $s.items.type == "object" then
               ($s.items.fields | to_entries[] | .key as $sk
                | wrongs(.value.type)[]
                | [$topic, "\($k)[0].\($sk)", ($actor + {($k): [{($sk): .}]})])
             else empty end)
         , ( if $s.type == "integer" then
               [$topic, $k, ($actor + {($k): ($s.max + 1)})]
             else empty end) ) )
    , [$topic, "bogus", ($actor + {"bogus": 1})] )
  | "\(.[0])\t\(.[1])\t\(.[2] | tojson)"' >"$XZ_T/cases"
CASES=$(wc -l <"$XZ_T/cases")
[ "$CASES" -ge 300 ] || fail "only $CASES fuzz cases"

# the calls (a few at a time: each line of the replies is one write),
# then one pass over the replies
one() {
	printf '%s\t%s\t%s\n' "$1" "$2" \
		"$("$XZ_BIN" call -c "$XZ_CFG" "$1" "$3" 2>/dev/null || true)"
}
export -f one
export XZ_BIN XZ_CFG
tr '\t' '\n' <"$XZ_T/cases" |
	xargs -d '\n' -n 3 -P 4 bash -c 'one "$@"' one >"$XZ_T/replies"
coerced=$(awk -F'\t' '$3 !~ /"code":"bad_request"/' "$XZ_T/replies" | tee "$XZ_T/coerced" | wc -l)
refused=$(awk -F'\t' '$3 ~ /"code":"bad_request"/' "$XZ_T/replies" | wc -l)
unnamed=$(awk -F'\t' 'index($3, "\\\"" $2 "\\\"") == 0' "$XZ_T/replies" | tee "$XZ_T/unnamed" | wc -l)
head -5 "$XZ_T/coerced" "$XZ_T/unnamed" | sed 's/^/    /'
assert_eq "field-type fuzz over $N requests: wrong values accepted" 0 "$coerced"
assert_eq "every one refused as bad_request" "$CASES" "$refused"
assert_eq "every refusal names the field" 0 "$unnamed"

# the examples of the issue, with their exact messages
err() { xz call "$1" "$2" 2>/dev/null | jq -r '.error.code + ": " + .error.message' || true; }
for v in '"3"' 3.9 '{}'; do
	assert_contains "level $v is refused, not made level 1" \
		'bad_request: prison.alarm.raise: "level": expected an integer from 1 to 3, got' \
		"$(err prison.alarm.raise "{$DUTY,\"kind\":\"ESCAPE\",\"level\":$v,\"location\":\"5101.ZJ\"}")"
done
assert_eq "no alarm was raised by any of it" 0 \
	"$(xz call prison.alarm.list "{$DUTY}" | jq .total)"
assert_eq "English (LC_ALL=C): an alarm at an unknown location" \
	'bad_request: prison.alarm.raise: "location": NOWHERE.9 is not a registered location (see prison.location.list)' \
	"$(err prison.alarm.raise "{$DUTY,\"kind\":\"FIRE\",\"level\":2,\"location\":\"NOWHERE.9\"}")"
A=$(xz call prison.alarm.raise "{$DUTY,\"kind\":\"FIRE\",\"level\":2,\"location\":\"5101.01.WS\"}" | jq -r .id)
assert_eq "English: a refused action names the state and the allowed actions" \
	"invalid_state: alarm $A is RAISED: arrive is not allowed (allowed: acknowledge, dismiss, escalate, attach-evidence)" \
	"$(err prison.alarm.arrive "{$AREA,\"id\":\"$A\"}")"
assert_eq "English: a refused role names the roles needed" \
	"forbidden: prison.alarm.close: role command_duty may not do this; it needs one of: duty_leader" \
	"$(err prison.alarm.close "{$DUTY,\"id\":\"$A\"}")"
stop_node

LC_ALL=zh_CN.UTF-8 start_node
assert_eq "中文 (LC_ALL=zh_CN.UTF-8): a refused action names the state and the allowed actions" \
	"invalid_state: 告警 $A 处于“待确认”（RAISED）状态：不允许执行 arrive（可执行的操作：acknowledge, dismiss, escalate, attach-evidence）" \
	"$(err prison.alarm.arrive "{$AREA,\"id\":\"$A\"}")"
assert_eq "中文: a refused role names the roles needed" \
	"forbidden: prison.alarm.close：角色 command_duty 无权执行此操作；需要以下角色之一：duty_leader（值班领导）" \
	"$(err prison.alarm.close "{$DUTY,\"id\":\"$A\"}")"
assert_eq "中文: a wrong type" \
	'bad_request: prison.alarm.raise: 字段 "level"：应为1 至 3 之间的整数，实际为字符串 ("3")' \
	"$(err prison.alarm.raise "{$DUTY,\"kind\":\"ESCAPE\",\"level\":\"3\",\"location\":\"5101.ZJ\"}")"
assert_eq "中文: an alarm at an unknown location" \
	'bad_request: prison.alarm.raise：字段 "location"：NOWHERE.9 不是已登记的场所（见 prison.location.list）' \
	"$(err prison.alarm.raise "{$DUTY,\"kind\":\"FIRE\",\"level\":2,\"location\":\"NOWHERE.9\"}")"
assert_eq "中文: not found" "not_found: 没有编号为 ALM-99 的告警" \
	"$(err prison.alarm.acknowledge "{$DUTY,\"id\":\"ALM-99\"}")"
assert_eq "codes and topics stay ASCII identifiers" "invalid_state" \
	"$(xz call prison.alarm.arrive "{$AREA,\"id\":\"$A\"}" 2>/dev/null | jq -r .error.code || true)"
stop_node
finish
