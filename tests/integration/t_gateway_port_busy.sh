#!/usr/bin/env bash
# A gateway whose port is taken (by another node's gateway here): a clear
# error naming the address and the system's reason, the gateway disabled,
# the node and its other plugins serving, and a clean stop (the sanitizer
# pass checks that the failed start leaks nothing: libwebsockets 4.1 leaks
# when it cannot listen, so the gateway checks the port first).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
xz_setup
command -v curl >/dev/null || skip_test "no curl"
gw_start "" ""

node_cfg n2 "plugins = (
  { name = \"prison\"; kind = \"so\"; },
  { name = \"gateway\"; kind = \"so\"; options = { port = $GW_PORT; }; }
);"
start_node "$XZ_T/n2.cfg" n2
wait_for 30 grep -q "cannot listen on 127.0.0.1:$GW_PORT: " "$XZ_T/n2.log" &&
	pass "n2's gateway says it cannot listen on 127.0.0.1:$GW_PORT" ||
	fail "no 'cannot listen' line: $(grep gateway "$XZ_T/n2.log" | tail -3)"
assert_contains "with the system's reason" "Address already in use" "$(grep 'cannot listen' "$XZ_T/n2.log")"
assert_eq "n2's gateway is failed in status" failed \
	"$(on n2 status | jq -r '.plugins[] | select(.name == "gateway") | .state')"
assert_eq "n2's prison still runs" running \
	"$(on n2 status | jq -r '.plugins[] | select(.name == "prison") | .state')"
check "n2 still answers" on n2 call xz.sys.ping '{}'
assert_eq "n1's gateway still answers" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$GW_URL/healthz")"
stop_node n2
stop_node
finish
