#!/usr/bin/env bash
# The gateway's HTTP API against a real node (docs/http.md): health,
# login, calls and their error codes, CSRF, event streams (WebSocket and
# SSE) with a slow consumer cut off with a reason, /metrics; and bad input
# (malformed JSON, unknown topic, oversized body, a slowloris request, path
# traversal, missing or forged CSRF token, an expired session): clear HTTP
# errors, the node unaffected, each counted in /metrics.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
xz_setup
command -v curl >/dev/null || skip_test "no curl"
BENCH="${XZ_BUILD:-$(dirname "$XZ_BIN")}/bench-http"
[ -x "$BENCH" ] || skip_test "no bench-http"

gw_start "{ name = \"legal\"; kind = \"lua\"; path = \"$XZ_SRC/plugins/legal/legal.lua\"; }," "max_payload = 4096; header_timeout_s = 2; client_queue_max = 16; client_queue_bytes = 65536; login_max_failures = 3; max_ws_clients = 3;"
U="$GW_URL"
code() { curl -s -o "$XZ_T/body" -w '%{http_code}' "$@"; }

# health
assert_eq "healthz" 200 "$(code "$U/healthz")"
assert_eq "readyz" 200 "$(code "$U/readyz")"
assert_eq "readyz says ready" true "$(jq -r .ready <"$XZ_T/body")"

# login: token in an HttpOnly SameSite=Strict cookie and in the body
gw_user command_duty
hdr=$(curl -s -D - -o "$XZ_T/login" -H 'Content-Type: application/json' \
	-d "{\"user\":\"$GW_USER\",\"password\":\"$GW_PASSWORD\"}" "$U/api/v1/login")
assert_contains "login sets the session cookie" "xz_session=" "$hdr"
assert_contains "cookie is HttpOnly" "HttpOnly" "$hdr"
assert_contains "cookie is SameSite=Strict" "SameSite=Strict" "$hdr"
gw_login "$GW_USER" "$GW_PASSWORD"
T="$GW_TOKEN"
AUTH=(-H "Authorization: Bearer $T")
assert_eq "me" 200 "$(code "${AUTH[@]}" "$U/api/v1/me")"
assert_eq "me names the user" "$GW_USER" "$(jq -r .user <"$XZ_T/body")"
assert_eq "me: the duty officer's name" "$GW_NAME" "$(jq -r .name <"$XZ_T/body")"
assert_eq "me: the role" command_duty "$(jq -r '.roles | join(",")' <"$XZ_T/body")"
assert_eq "me without a session" 401 "$(code "$U/api/v1/me")"
assert_eq "login with a malformed body" 400 "$(code -d '{"user":' "$U/api/v1/login")"

# calls
assert_eq "call xz.sys.ping" 200 "$(code "${AUTH[@]}" -d '{}' "$U/api/v1/call/xz.sys.ping")"
assert_eq "ping replies" true "$(jq -r .pong <"$XZ_T/body")"
assert_eq "malformed JSON" 400 "$(code "${AUTH[@]}" -d '{"id":' "$U/api/v1/call/xz.sys.ping")"
assert_eq "malformed JSON code" bad_request "$(jq -r .error.code <"$XZ_T/body")"
assert_eq "not an object" 400 "$(code "${AUTH[@]}" -d '[1,2]' "$U/api/v1/call/xz.sys.ping")"
assert_eq "unknown topic" 503 "$(code "${AUTH[@]}" -d '{}' "$U/api/v1/call/no.such.topic")"
assert_eq "unknown topic code" no_responders "$(jq -r .error.code <"$XZ_T/body")"
assert_eq "wildcard topic" 400 "$(code "${AUTH[@]}" -d '{}' "$U/api/v1/call/prison.*.list")"
assert_eq "not found maps to 404" 404 "$(code "${AUTH[@]}" -d '{"id":"ALM-99999999"}' "$U/api/v1/call/prison.alarm.get")"
assert_eq "missing fields map to 400" 400 "$(code "${AUTH[@]}" -d '{}' "$U/api/v1/call/prison.alarm.raise")"
# raised by the perimeter sensor's own login (the CLI with its credentials)
gw_creds sensor1
alarm=$(xz call --creds "$XZ_T/creds-sensor1" prison.alarm.raise '{"kind":"FIGHT","level":1,"location":"5101.01.1.101","source":"sensor"}' | jq -r .id)
assert_contains "the sensor raised an alarm" ALM- "$alarm"
assert_eq "acknowledge" 200 "$(code "${AUTH[@]}" -d "{\"id\":\"$alarm\"}" "$U/api/v1/call/prison.alarm.acknowledge")"
assert_eq "acknowledge twice is 409" 409 "$(code "${AUTH[@]}" -d "{\"id\":\"$alarm\"}" "$U/api/v1/call/prison.alarm.acknowledge")"
assert_eq "409 code" invalid_state "$(jq -r .error.code <"$XZ_T/body")"
# a kiosk logged in may not act on alarms: the prison plugin refuses it
gw_user kiosk
gw_login "$GW_USER" "$GW_PASSWORD"
assert_eq "kiosk dismissing an alarm: 403" 403 "$(code -H "Authorization: Bearer $GW_TOKEN" -d "{\"id\":\"$alarm\"}" "$U/api/v1/call/prison.alarm.dismiss")"
assert_eq "kiosk refusal code" forbidden "$(jq -r .error.code <"$XZ_T/body")"
assert_eq "PUT refused" 405 "$(code -X PUT "$U/api/v1/me")"

# oversized body (max_payload = 4096 here)
head -c 10000 /dev/zero | tr '\0' 'a' >"$XZ_T/big"
assert_eq "oversized body" 413 "$(code "${AUTH[@]}" --data-binary @"$XZ_T/big" "$U/api/v1/call/xz.sys.ping")"
assert_eq "oversized code" too_large "$(jq -r .error.code <"$XZ_T/body")"

# path traversal: never a file outside the web folder. The library
# resolves /../ and %2e%2e while it parses the request line (clamped at
# the root: 404 for a missing file); what still holds '..', a backslash or
# a control byte when the gateway sees it is refused with 400 and counted
# as path_traversal (docs/http.md, "Limits and bad input"); a %00 makes
# the library drop the connection (counted as incomplete_request).
for p in '/../../../../etc/passwd' '/%2e%2e/%2e%2e/etc/passwd' '/..%2f..%2fetc/passwd'; do
	c=$(code --path-as-is "$U$p")
	case "$c" in 400 | 404) pass "traversal $p refused ($c)" ;; *) fail "traversal $p: $c" ;; esac
	if grep -q 'root:' "$XZ_T/body"; then fail "traversal $p leaked a file"; fi
done
t0=$(gw_metric 'xiezhi_http_rejected_total{reason="path_traversal"}')
for p in '/..\..\etc\passwd' '/%2e%2e%5c%2e%2e%5cetc%5cpasswd'; do
	assert_eq "traversal $p: 400" 400 "$(code --path-as-is "$U$p")"
	assert_contains "traversal $p: says why" "path traversal refused" "$(cat "$XZ_T/body")"
done
assert_eq "path_traversal counted" $((t0 + 2)) "$(gw_metric 'xiezhi_http_rejected_total{reason="path_traversal"}')"
assert_eq "dashboard served" 200 "$(code "$U/")"

# CSRF: a cookie session must send X-CSRF-Token on POST
JAR="$XZ_T/jar"
curl -s -c "$JAR" -o "$XZ_T/cl" -H 'Content-Type: application/json' \
	-d "{\"user\":\"$GW_USER\",\"password\":\"$GW_PASSWORD\"}" "$U/api/v1/login"
CSRF=$(jq -r .csrf <"$XZ_T/cl")
assert_eq "cookie without CSRF token" 403 "$(code -b "$JAR" -d '{}' "$U/api/v1/call/xz.sys.ping")"
assert_eq "cookie with forged CSRF token" 403 "$(code -b "$JAR" -H 'X-CSRF-Token: 0000' -d '{}' "$U/api/v1/call/xz.sys.ping")"
assert_eq "cookie with the CSRF token" 200 "$(code -b "$JAR" -H "X-CSRF-Token: $CSRF" -d '{}' "$U/api/v1/call/xz.sys.ping")"
assert_eq "GET with the cookie alone" 200 "$(code -b "$JAR" "$U/api/v1/me")"

# slowloris: headers never finished; the server closes the connection
exec 3<>"/dev/tcp/127.0.0.1/$GW_PORT"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ' >&3
t0=$(date +%s)
rc=0
timeout 30 cat <&3 >/dev/null || rc=$?
exec 3>&-
assert_eq "partial request closed by the server" 0 "$rc"
assert_le "closed within 30 s" "$(($(date +%s) - t0))" 30

# events: WebSocket
"$BENCH" ws -u "127.0.0.1:$GW_PORT" -t "$T" -p 'gwtest.>' -n 2 -w 30 >"$XZ_T/ws" 2>"$XZ_T/ws.err" &
WSP=$!
wait_for 20 grep -q subscribed "$XZ_T/ws.err" || fail "websocket subscribed"
xz pub gwtest.a '{"n":1}' >/dev/null
xz pub gwtest.b '{"n":2}' >/dev/null
wait "$WSP" || true
assert_eq "websocket got both events" 2 "$(grep -c '"topic":"gwtest' "$XZ_T/ws" || true)"
assert_eq "websocket event payload" 1 "$(head -1 "$XZ_T/ws" | jq -r .data.n)"
out=$("$BENCH" ws -u "127.0.0.1:$GW_PORT" -t nope -p 'gwtest.>' -w 10 2>/dev/null)
assert_contains "websocket without a session" "close 4401" "$out"
out=$("$BENCH" ws -u "127.0.0.1:$GW_PORT" -t "$T" -p 'gwtest.>' -o http://evil.example -w 10 2>/dev/null)
assert_contains "websocket from another origin" "close 4403" "$out"

# events: Server-Sent Events
(timeout 15 curl -s -N "${AUTH[@]}" "$U/api/v1/events?pattern=gwtest.%3E" >"$XZ_T/sse" || true) &
SSP=$!
wait_for 20 grep -q subscribed "$XZ_T/sse" || fail "sse subscribed"
xz pub gwtest.c '{"n":3}' >/dev/null
wait_for 20 grep -q '"n":3' "$XZ_T/sse" && pass "sse event" || fail "sse event: $(cat "$XZ_T/sse")"
kill "$SSP" 2>/dev/null || true

# a slow consumer is closed with a reason, never silently short
"$BENCH" ws -u "127.0.0.1:$GW_PORT" -t "$T" -p 'gwslow.>' -s 6 -r 4096 -w 40 >"$XZ_T/slow" 2>"$XZ_T/slow.err" &
SLP=$!
wait_for 20 grep -q stalling "$XZ_T/slow.err" || fail "slow client connected"
sleep 0.5 # let the subscription go live before publishing (no assertion on time)
pad=$(printf 'x%.0s' $(seq 1 200))
for i in $(seq 1 2000); do echo "{\"i\":$i,\"pad\":\"$pad\"}"; done | xz pub gwslow.x - >/dev/null
wait "$SLP" || true
assert_contains "slow consumer closed with a reason" "close 1008 slow consumer" "$(tail -1 "$XZ_T/slow")"
got=$(grep -c '"topic":"gwslow' "$XZ_T/slow" || true)
assert_le "slow consumer got less than all" "$got" 1999
assert_le "slow close counted" 1 "$(gw_metric xiezhi_slow_clients_closed_total)"

# a slow Server-Sent Events client likewise: its last record says why
# (event: error), then the stream ends
python3 - "$GW_PORT" "$T" >"$XZ_T/sse_slow" 2>&1 <<'PYEOF' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(("GET /api/v1/events?pattern=gwsse.%3E HTTP/1.1\r\nHost: x\r\n"
           "Authorization: Bearer " + sys.argv[2] + "\r\n\r\n").encode())
got = b""
while b": subscribed" not in got:
    got += s.recv(4096)
print("stalling", flush=True)
time.sleep(6)
s.settimeout(40)
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
except OSError:
    pass
print(got.decode(errors="replace").split("\n\n")[-2])
PYEOF
SSP=$!
wait_for 20 grep -q stalling "$XZ_T/sse_slow" || fail "slow SSE client subscribed"
for i in $(seq 1 2000); do echo "{\"i\":$i,\"pad\":\"$pad\"}"; done | xz pub gwsse.x - >/dev/null
wait "$SSP" || true
assert_contains "slow SSE client: a last error record" "event: error" "$(cat "$XZ_T/sse_slow")"
assert_contains "slow SSE client: the reason" "slow consumer" "$(cat "$XZ_T/sse_slow")"
wait_until 20 '[ "$(gw_metric xiezhi_sse_clients)" = 0 ]' || fail "slow SSE client still connected"


# its queue filled, without waiting for it to read its close reason
n0=$(gw_metric xiezhi_slow_clients_closed_total)
"$BENCH" ws -u "127.0.0.1:$GW_PORT" -t "$T" -p 'gwnever.>' -s 25 -r 4096 -w 60 >"$XZ_T/never" 2>"$XZ_T/never.err" &
NVP=$!
wait_for 20 grep -q stalling "$XZ_T/never.err" || fail "never-reading client connected"
wait_until 20 '[ "$(gw_metric xiezhi_ws_clients)" -ge 1 ]' || fail "never-reading client subscribed"
sleep 0.5 # let the subscription go live before publishing (no assertion on time)
for i in $(seq 1 2000); do echo "{\"i\":$i,\"pad\":\"$pad\"}"; done | xz pub gwnever.x - >/dev/null
wait_until 40 '[ "$(gw_metric xiezhi_slow_clients_closed_total)" -gt "$n0" ]' &&
	pass "a client that never reads is cut off" || fail "never-reading client still connected"
wait_until 20 '[ "$(gw_metric xiezhi_ws_clients)" = 0 ]' &&
	pass "no event client left" || fail "event clients left: $(gw_metric xiezhi_ws_clients)"
wait "$NVP" || true

# at most max_ws_clients (3 here) event streams: a 4th WebSocket is
# closed with 1013, a 4th SSE request gets 503; both counted
wait_until 30 '[ "$(gw_metric xiezhi_sse_clients)" = 0 ]' || fail "earlier SSE clients still connected"
LIM=()
for k in 1 2 3; do
	timeout 60 curl -s -N "${AUTH[@]}" "$U/api/v1/events?pattern=gwlimit.%3E" >"$XZ_T/lim$k" &
	LIM+=($!)
done
wait_until 20 '[ "$(gw_metric xiezhi_sse_clients)" = 3 ]' || fail "3 SSE clients connected"
l0=$(gw_metric 'xiezhi_http_rejected_total{reason="event_clients_limit"}')
assert_eq "a 4th event stream (SSE): 503" 503 "$(code "${AUTH[@]}" --max-time 10 "$U/api/v1/events?pattern=gwlimit.%3E")"
out=$("$BENCH" ws -u "127.0.0.1:$GW_PORT" -t "$T" -p 'gwlimit.>' -w 10 2>/dev/null)
assert_contains "a 4th event stream (WebSocket): closed 1013" "close 1013 too many event clients" "$out"
assert_eq "refused streams counted" $((l0 + 2)) "$(gw_metric 'xiezhi_http_rejected_total{reason="event_clients_limit"}')"
kill "${LIM[@]}" 2>/dev/null || true
wait_until 20 '[ "$(gw_metric xiezhi_sse_clients)" = 0 ]' && pass "the streams' slots freed" || fail "SSE clients left: $(gw_metric xiezhi_sse_clients)"

# the fan-out bench of docs/http.md, small: as the administrator (no
# business role may subscribe to bench.>), every event reaches every client
# (10 events: this node cuts a client off at 16 unread, client_queue_max)
gw_user admin
out=$("$BENCH" fanout -u "127.0.0.1:$GW_PORT" -U "$GW_USER" -P "$GW_PASSWORD" -c 3 -n 10 \
	-x "$XZ_BIN pub -c $XZ_CFG bench.fanout -" 2>"$XZ_T/fanout.err") ||
	fail "bench-http fanout: $(tail -3 "$XZ_T/fanout.err")"
assert_eq "fan-out bench: 30 deliveries" 30 "$(echo "$out" | jq -r .deliveries)"
assert_eq "fan-out bench: none lost" 0 "$(echo "$out" | jq -r .lost)"

# a legal-aid application of the 12348 operator: its review clock (7 days)
# runs; /metrics counts it, and it is at risk within its last day
gw_creds hotline1
xz call --creds "$XZ_T/creds-hotline1" legal.aid.open '{"applicant_type":"CITIZEN","matter":"wages","means_checked":true}' >/dev/null
assert_eq "metrics: a running legal clock" 1 "$(gw_metric 'xiezhi_legal_clocks{kind="aid",status="running"}')"
assert_eq "metrics: not at risk yet" 0 "$(gw_metric xiezhi_legal_clocks_at_risk)"

# an expired session
EXPIRE_MS=$(($(curl -s "${AUTH[@]}" "$U/api/v1/me" | jq -r .expires_ms) - $(xz call xz.sys.clock.now | jq -r .now_ms) + 1000))
xz call xz.sys.clock.advance "{\"ms\":$EXPIRE_MS}" >/dev/null
assert_eq "expired session" 401 "$(code "${AUTH[@]}" "$U/api/v1/me")"
assert_contains "expired says so" "expired" "$(cat "$XZ_T/body")"

# login attempts are limited (login_max_failures = 3 here)
gw_user duty_leader
for i in 1 2 3; do
	assert_eq "wrong password $i" 401 "$(code -d "{\"user\":\"$GW_USER\",\"password\":\"wrong\"}" "$U/api/v1/login")"
done
assert_eq "too many failed logins, even with the right password" 429 \
	"$(code -d "{\"user\":\"$GW_USER\",\"password\":\"$GW_PASSWORD\"}" "$U/api/v1/login")"
assert_le "denied logins counted" 3 "$(gw_metric 'xiezhi_logins_total{result="denied"}')"
assert_le "rate-limited logins counted" 1 "$(gw_metric 'xiezhi_logins_total{result="rate_limited"}')"

# all of it counted; the node unaffected (6.5 days on: the legal
# application's review clock is in its last day)
xz call xz.sys.clock.advance '{"ms":561600000}' >/dev/null
M=$(curl -s "$U/metrics")
for r in malformed_json no_responders bad_topic too_large csrf session_expired incomplete_request; do
	v=$(echo "$M" | awk -v k="xiezhi_http_rejected_total{reason=\"$r\"}" '$1 == k { print $2 }')
	assert_le "metrics count $r" 1 "${v:-0}"
done
v=$(echo "$M" | awk '$1 ~ /^xiezhi_http_rejected_total\{reason="(not_found|path_traversal)"\}$/ { s += $2 } END { print s + 0 }')
assert_le "metrics count traversal attempts" 3 "$v"
assert_contains "metrics: mailbox depth per plugin" 'xiezhi_plugin_mailbox_depth{plugin="prison"}' "$M"
assert_contains "metrics: call latency histogram" 'xiezhi_http_call_duration_seconds_bucket{le="+Inf"}' "$M"
assert_contains "metrics: open alarms by level" 'xiezhi_alarms_open{level="1"}' "$M"
assert_contains "metrics: logins" 'xiezhi_logins_total{result="ok"}' "$M"
v=$(echo "$M" | awk '$1 == "xiezhi_plugin_messages_out_total{plugin=\"prison\",class=\"prison\"}" { print $2 }')
assert_le "metrics: messages out of the prison, class prison" 2 "${v:-0}"
v=$(echo "$M" | awk '$1 == "xiezhi_plugin_messages_out_total{plugin=\"gateway\",class=\"xz\"}" { print $2 }')
assert_le "metrics: the gateway's calls out, class xz" 1 "${v:-0}"
v=$(echo "$M" | awk '$1 == "xiezhi_plugin_messages_in_total{plugin=\"prison\",class=\"prison\"}" { print $2 }')
assert_le "metrics: messages into the prison, class prison" 3 "${v:-0}"
v=$(echo "$M" | awk '$1 == "xiezhi_plugin_messages_in_total{plugin=\"gateway\",class=\"gwtest\"}" { print $2 }')
assert_eq "metrics: events into the gateway, class gwtest (its streams' 3)" 3 "${v:-0}"
v=$(echo "$M" | awk '$1 == "xiezhi_plugin_messages_in_total{plugin=\"gateway\",class=\"gwslow\"}" { print $2 }')
assert_le "metrics: events into the gateway, class gwslow (until its client was cut off)" 16 "${v:-0}"
assert_contains "metrics: drops by plugin and class" '# TYPE xiezhi_plugin_drops_total counter' "$M"
for m in xiezhi_plugin_mailbox_capacity xiezhi_plugin_messages_handled_total xiezhi_plugin_state xiezhi_bus_dropped_total \
	xiezhi_links xiezhi_link_send_failed_total 'xiezhi_plugin_counter{plugin="gateway",counter="calls"}' \
	xiezhi_http_responses_total xiezhi_events_sent_total xiezhi_events_queued_total xiezhi_ws_clients xiezhi_sse_clients \
	xiezhi_sessions xiezhi_logouts_total 'xiezhi_legal_clocks{kind="aid",status="running"}' xiezhi_slow_clients_closed_total; do
	assert_contains "metrics: $m" "$m" "$M"
done
v=$(echo "$M" | awk '$1 == "xiezhi_store_commit_duration_seconds_count{plugin=\"prison\"}" { print $2 }')
assert_le "metrics: the prison's store commits timed" 1 "${v:-0}"
assert_contains "metrics: commit latency buckets" 'xiezhi_store_commit_duration_seconds_bucket{plugin="prison",le="+Inf"}' "$M"
assert_contains "metrics: SLA breaches" 'xiezhi_sla_breaches_total{plugin="prison"}' "$M"
assert_eq "metrics: the legal clock now at risk" 1 "$(echo "$M" | awk '$1 == "xiezhi_legal_clocks_at_risk" { print $2 }')"
check "node still answers" xz call xz.sys.ping
assert_eq "readyz after all that" 200 "$(code "$U/readyz")"
stop_node
finish
