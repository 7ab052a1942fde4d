#!/usr/bin/env bash
# A node that stops while a plugin still waits for a reply: the request is
# answered `unavailable` before the plugin stops, so its completion runs
# exactly once and frees what it holds (the SDK's promise). Here the
# gateway's HTTP call waits on a Lua plugin that never answers; at SIGTERM
# the HTTP client gets 503 `unavailable`, the kernel logs how many it
# answered, and the node exits 0 (under the sanitizer a completion that
# never ran is a leak, and exit 134).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
xz_setup
command -v curl >/dev/null || skip_test "no curl"
command -v jq >/dev/null || skip_test "no jq"

cat >"$XZ_T/holder.lua" <<'EOF2'
-- takes hold.wait and never answers it
return {
	name = "holder", version = "1.0",
	handlers = {
		["hold.wait"] = function()
			xz.log("info", "holding a request")
		end,
	},
}
EOF2
gw_start "{ name = \"holder\"; kind = \"lua\"; path = \"$XZ_T/holder.lua\"; }," "call_timeout_ms = 600000;"
gw_user admin
gw_login "$GW_USER" "$GW_PASSWORD"
curl -s -o "$XZ_T/body" -w '%{http_code}' -H "Authorization: Bearer $GW_TOKEN" \
	-d '{}' "$GW_URL/api/v1/call/hold.wait" >"$XZ_T/code" 2>/dev/null &
CURL=$!
wait_for 60 grep -q "holding a request" "$XZ_T/n1.log" ||
	die "the holder never got the call: $(tail -5 "$XZ_T/n1.log")"
pass "the gateway's call waits on the holder"

stop_node
wait_until 60 '! kill -0 $CURL 2>/dev/null' || fail "curl still waits after the node stopped"
assert_eq "the HTTP client got 503" 503 "$(cat "$XZ_T/code")"
assert_eq "with the code unavailable" unavailable "$(jq -r .error.code <"$XZ_T/body" 2>/dev/null)"
assert_contains "and the reason" "the node is stopping" "$(jq -r .error.message <"$XZ_T/body" 2>/dev/null)"
assert_contains "the kernel says it answered the waiting request" \
	"stopping: 1 request(s) the plugins still waited for answered unavailable" "$(cat "$XZ_T/n1.log")"
finish
