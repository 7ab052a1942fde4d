#!/usr/bin/env bash
# The gateway over HTTPS when tls_cert and tls_key are set: health, login
# with a Secure cookie, a call; plain HTTP on the same port is not served;
# a certificate that does not load keeps the gateway out (FAILED), not the
# node. SKIP without openssl.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
xz_setup
command -v openssl >/dev/null || skip_test "no openssl"
command -v curl >/dev/null || skip_test "no curl"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-keyout "$XZ_T/key.pem" -out "$XZ_T/cert.pem" >/dev/null 2>&1 || die "openssl req failed"
gw_start "" "tls_cert = \"$XZ_T/cert.pem\"; tls_key = \"$XZ_T/key.pem\";" || true
S="https://127.0.0.1:$GW_PORT"
assert_eq "https healthz" 200 "$(curl -sk -o /dev/null -w '%{http_code}' "$S/healthz")"
gw_user command_duty
hdr=$(curl -sk -D - -o "$XZ_T/login" -d "{\"user\":\"$GW_USER\",\"password\":\"$GW_PASSWORD\"}" "$S/api/v1/login")
assert_contains "cookie is Secure under https" "Secure" "$hdr"
T=$(jq -r .token <"$XZ_T/login")
assert_eq "call over https" true "$(curl -sk -H "Authorization: Bearer $T" -d '{}' "$S/api/v1/call/xz.sys.ping" | jq -r .pong)"
c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$GW_PORT/healthz" || true)
if [ "$c" = 200 ]; then fail "plain http served on the https port"; else pass "plain http not served ($c)"; fi
stop_node

# a bad certificate: the gateway fails to start, the node runs on
echo "not a certificate" >"$XZ_T/bad.pem"
gw_port
xz_config <<EOF2
plugins = (
  { name = "gateway"; kind = "so"; options = { port = $GW_PORT; tls_cert = "$XZ_T/bad.pem"; tls_key = "$XZ_T/key.pem"; }; }
);
EOF2
start_node
assert_eq "gateway failed" failed "$(xz status | jq -r '.plugins[] | select(.name == "gateway") | .state')"
assert_contains "the log names the cause" "bad.pem: not a PEM file" "$(cat "$XZ_T/n1.log")"
check "node still answers" xz call xz.sys.ping
stop_node
finish
