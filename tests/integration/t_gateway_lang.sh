#!/usr/bin/env bash
# t_gateway_lang.sh - the gateway's own error messages in the language the
# HTTP request asks for (Accept-Language by weight, or ?lang=), else in the
# node's (LANG); error codes stay ASCII in both. Over real HTTP against a
# node started with LANG=zh_CN.UTF-8: no header gives Chinese, an English
# Accept-Language gives English; login, session, CSRF, topic, body, size,
# method, path and event-stream refusals; a prison refusal relayed through
# the gateway names the alarm's state and the allowed actions in Chinese.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
xz_setup
command -v curl >/dev/null || skip_test "no curl"
unset LC_ALL LC_MESSAGES
# the node speaks Chinese; the test's own CLI calls stay English
LANG=zh_CN.UTF-8 gw_start "" "max_payload = 4096; login_max_failures = 100;"
U="$GW_URL"
ZH=(-H 'Accept-Language: zh-CN,zh;q=0.9,en;q=0.8')
EN=(-H 'Accept-Language: en-US,en;q=0.9')
# req ARGS...: the answer's status -> $ST, "code|message" -> $CM
req() {
	ST=$(curl -s -o "$XZ_T/body" -w '%{http_code}' "$@")
	CM=$(jq -r '"\(.error.code)|\(.error.message)"' <"$XZ_T/body" 2>/dev/null || cat "$XZ_T/body")
}

echo "-- which language"
req "$U/api/v1/me"
assert_eq "no Accept-Language: the node's language (LANG=zh_CN.UTF-8)" \
	"401|unauthenticated|需要登录：先 POST /api/v1/login，再带上会话 cookie 或 Authorization: Bearer TOKEN" "$ST|$CM"
req "${EN[@]}" "$U/api/v1/me"
assert_eq "Accept-Language en: English" \
	"401|unauthenticated|login required: POST /api/v1/login, then send the cookie or Authorization: Bearer TOKEN" "$ST|$CM"
req -H 'Accept-Language: en;q=0.4, zh-TW;q=0.7' "$U/api/v1/me"
assert_contains "the heavier weight wins (zh-TW 0.7 over en 0.4)" "需要登录" "$CM"
req -H 'Accept-Language: fr-FR, de' "$U/api/v1/me"
assert_contains "neither zh nor en asked: the node's language" "需要登录" "$CM"
req "${ZH[@]}" "$U/api/v1/me?lang=en"
assert_contains "?lang=en over the header" "login required" "$CM"

echo "-- logins and sessions"
gw_user command_duty
req "${ZH[@]}" -H 'Content-Type: application/json' -d "{\"user\":\"$GW_USER\",\"password\":\"nope\"}" "$U/api/v1/login"
assert_eq "wrong password (zh)" "401|unauthenticated|用户名或密码错误" "$ST|$CM"
req "${EN[@]}" -H 'Content-Type: application/json' -d "{\"user\":\"$GW_USER\",\"password\":\"nope\"}" "$U/api/v1/login"
assert_eq "wrong password (en)" "401|unauthenticated|wrong user or password" "$ST|$CM"
req "${ZH[@]}" -d '{"user":' "$U/api/v1/login"
assert_eq "malformed login body (zh)" "400|bad_request|请求体应为 {\"user\":\"...\",\"password\":\"...\"}" "$ST|$CM"
req "${ZH[@]}" -H 'Authorization: Bearer no-such-token' "$U/api/v1/me"
assert_eq "unknown session (zh)" "401|unauthenticated|会话不存在或已过期：请重新登录" "$ST|$CM"
gw_login "$GW_USER" "$GW_PASSWORD"
AUTH=(-H "Authorization: Bearer $GW_TOKEN")
req "${ZH[@]}" -b "xz_session=$GW_TOKEN" -d '{}' "$U/api/v1/call/xz.sys.ping"
assert_eq "cookie session without CSRF (zh)" \
	"403|forbidden|缺少 X-CSRF-Token 请求头（cookie 会话须发送其登录或 /api/v1/me 返回的 csrf 值）" "$ST|$CM"
req "${EN[@]}" -b "xz_session=$GW_TOKEN" -H 'X-CSRF-Token: forged' -d '{}' "$U/api/v1/call/xz.sys.ping"
assert_eq "cookie session with a wrong CSRF (en)" \
	"403|forbidden|wrong X-CSRF-Token header (a cookie session sends the csrf value of its login or /api/v1/me)" "$ST|$CM"

echo "-- calls"
req "${ZH[@]}" "${AUTH[@]}" -d '{}' "$U/api/v1/call/prison.*.list"
assert_eq "wildcard topic (zh)" "400|bad_request|主题 'prison.*.list'：应为以点分隔的 [A-Za-z0-9_-] 词段，不能含通配符" "$ST|$CM"
req "${ZH[@]}" "${AUTH[@]}" -d '[1,2]' "$U/api/v1/call/xz.sys.ping"
assert_eq "not an object (zh)" "400|bad_request|请求体不是 JSON 对象（第 1 行第 1 列：不是对象）" "$ST|$CM"
req "${EN[@]}" "${AUTH[@]}" -d '[1,2]' "$U/api/v1/call/xz.sys.ping"
assert_eq "not an object (en)" "400|bad_request|body is not a JSON object (line 1 column 1: not an object)" "$ST|$CM"
req "${ZH[@]}" "${AUTH[@]}" -d '{}' "$U/api/v1/call/no.such.topic"
assert_eq "no responders (zh)" "503|no_responders|no.such.topic：无响应方（没有插件提供此主题）" "$ST|$CM"
head -c 10000 /dev/zero | tr '\0' 'a' >"$XZ_T/big"
req "${ZH[@]}" "${AUTH[@]}" --data-binary @"$XZ_T/big" "$U/api/v1/call/xz.sys.ping"
assert_eq "oversized body (zh)" "413|too_large|请求体超过 max_payload（4096 字节）" "$ST|$CM"
req "${EN[@]}" "${AUTH[@]}" --data-binary @"$XZ_T/big" "$U/api/v1/call/xz.sys.ping"
assert_eq "oversized body (en)" "413|too_large|body over max_payload (4096 bytes)" "$ST|$CM"

echo "-- the server's refusals"
req "${ZH[@]}" -X PUT "$U/api/v1/me"
assert_eq "PUT (zh)" "405|bad_request|只接受 GET 和 POST" "$ST|$CM"
req "${ZH[@]}" "$U/api/v1/login"
assert_eq "GET on a POST path (zh)" "405|bad_request|请使用 POST" "$ST|$CM"
req "${ZH[@]}" -d '{}' "$U/api/v2/nothing"
assert_eq "unknown API path (zh)" "404|not_found|没有此 API 路径" "$ST|$CM"
req "${ZH[@]}" "$U/no-such-page.html"
assert_eq "missing static file (zh)" "404|not_found|没有此文件" "$ST|$CM"
req "${EN[@]}" "$U/no-such-page.html"
assert_eq "missing static file (en)" "404|not_found|no such file" "$ST|$CM"
req "${ZH[@]}" "$U/api/v1/events"
assert_eq "event stream without a pattern (zh)" "400|bad_request|缺少查询参数 pattern" "$ST|$CM"
req "${ZH[@]}" --max-time 60 "$U/api/v1/events?pattern=prison.>"
assert_eq "event stream without a session (zh)" "401|unauthenticated|需要登录" "$ST|$CM"
req --max-time 60 "$U/api/v1/events?pattern=prison.>&lang=en"
assert_eq "event stream without a session (?lang=en)" "401|unauthenticated|login required" "$ST|$CM"

echo "-- a plugin's refusal relayed (the node's language)"
gw_creds sensor1
alarm=$(xz call --creds "$XZ_T/creds-sensor1" prison.alarm.raise '{"kind":"FIGHT","level":1,"location":"5101.01.1.101","source":"sensor"}' | jq -r .id)
assert_contains "the sensor raised an alarm" ALM- "$alarm"
req "${ZH[@]}" "${AUTH[@]}" -d "{\"id\":\"$alarm\"}" "$U/api/v1/call/prison.alarm.acknowledge"
assert_eq "acknowledged" 200 "$ST"
req "${ZH[@]}" "${AUTH[@]}" -d "{\"id\":\"$alarm\"}" "$U/api/v1/call/prison.alarm.acknowledge"
assert_eq "acknowledged twice: 409 invalid_state" "409|invalid_state" "$ST|${CM%%|*}"
assert_contains "the refusal names the state in Chinese" "（ACKNOWLEDGED）状态" "$CM"
assert_contains "and the allowed actions" "dispatch" "$CM"

echo "-- the node keeps serving"
req "${ZH[@]}" "${AUTH[@]}" -d '{}' "$U/api/v1/call/xz.sys.ping"
assert_eq "ping after all that" 200 "$ST"
stop_node
finish
