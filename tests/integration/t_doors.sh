#!/usr/bin/env bash
# t_doors.sh - `check` refuses insecure doors (issue 9, part 7) and the
# test clock is off unless the config turns it on (part 6): a tcp://
# listener fails check with FILE:LINE and the URL; with insecure = true it
# passes with a WARN line, and `run` logs the WARN at start; a tls+tcp://
# listener with tls.ca passes silently; without node.test_clock,
# xz.sys.clock.advance is forbidden and clock.now still answers.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup

PORT=$((20000 + $$ % 20000))
TLS="$XZ_SRC/tests/data/tls"

echo "-- a tcp:// listener is refused"
XZ_TEST_CLOCK=0 xz_config <<EOF2
bus = {
  listen = [ "tcp://127.0.0.1:$PORT" ];
};
EOF2
assert_exit "check refuses tcp://" 1 xz check
assert_contains "FILE:LINE, the setting and the URL" \
	"$XZ_CFG:8: bus.listen[0]: 'tcp://127.0.0.1:$PORT' is an insecure door" "$ERR"
assert_contains "how to fix it" "insecure = true; } to accept the risk" "$ERR"
assert_exit "run refuses it too" 1 "$XZ_BIN" run -c "$XZ_CFG"

echo "-- insecure = true: accepted, with a warning at check and at every start"
XZ_TEST_CLOCK=0 xz_config <<EOF2
bus = {
  listen = ( { url = "tcp://127.0.0.1:$PORT"; insecure = true; } );
};
EOF2
assert_exit "check accepts it" 0 xz check
assert_contains "check warns" \
	"$XZ_CFG:8: WARN bus.listen[0]: 'tcp://127.0.0.1:$PORT' is an insecure door (insecure = true)" "$ERR"
start_node
assert_contains "run logs a WARN line" \
	"WARN  kernel: $XZ_CFG:8: bus.listen[0]: 'tcp://127.0.0.1:$PORT' is an insecure door" \
	"$(cat "$XZ_T/n1.log")"

echo "-- without node.test_clock the clock cannot be moved"
assert_exit "clock.advance is refused" 1 xz call xz.sys.clock.advance '{"ms":1000}'
assert_contains "forbidden, and how to enable it" \
	'"code":"forbidden","message":"xz.sys.clock.advance is disabled: this node has no test clock (set node.test_clock = true in its config, for tests only)"' \
	"$OUT$ERR"
check "clock.now still answers" xz call xz.sys.clock.now '{}'
assert_contains "now_ms" '"now_ms":' "$OUT"
stop_node

echo "-- a tls+tcp:// listener with a CA passes silently; test_clock warns"
xz_config <<EOF2
bus = {
  listen = ( { url = "tls+tcp://127.0.0.1:$PORT";
    tls = { ca = "$TLS/ca.pem"; cert = "$TLS/node.pem"; key = "$TLS/node.key"; }; } );
};
EOF2
assert_exit "check accepts mutual TLS" 0 xz check
assert_contains "test_clock warns" "$XZ_CFG:6: WARN node.test_clock = true" "$ERR"
case "$ERR" in
*"insecure door"*) fail "a mutual-TLS listener is not an insecure door: $ERR" ;;
*) pass "no door warning for mutual TLS" ;;
esac
start_node
check "clock.advance works with the test clock" xz call xz.sys.clock.advance '{"ms":1000}'
stop_node

echo "-- tls+tcp:// without a CA is refused unless insecure = true"
XZ_TEST_CLOCK=0 xz_config <<EOF2
bus = {
  listen = ( { url = "tls+tcp://127.0.0.1:$PORT";
    tls = { cert = "$TLS/node.pem"; key = "$TLS/node.key"; }; } );
};
EOF2
assert_exit "check refuses it" 1 xz check
assert_contains "no client certificate" \
	"$XZ_CFG:8: bus.listen[0]: 'tls+tcp://127.0.0.1:$PORT' requires no client certificate (no tls.ca)" "$ERR"

finish
