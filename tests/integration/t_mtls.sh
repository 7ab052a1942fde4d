#!/usr/bin/env bash
# t_mtls.sh - mutual TLS between two processes on loopback, the
# certificate naming the principal (issue 9): a node with a tls+tcp://
# listener (CA, its own certificate, CRL) and the CLI dialing it with
# --ca --cert --key. The certificate-bound HELLO (docs/security.md,
# "Certificates on a link") makes a good certificate's CN the caller
# (whoami, a role-checked request); a certificate of another CA, a revoked
# one, one the node maps to nobody, and a certificate whose key is not the
# one given are refused with a reason, counted and audited, and the node
# keeps serving.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_test "jq is not installed"

xz_setup
export HOME="$XZ_T/home"
mkdir -p "$HOME"
unset XZ_CREDS XZ_TLS_CA XZ_TLS_CERT XZ_TLS_KEY
PKI="$XZ_T/pki"
CERTS="$XZ_T/certs"
PORT=$((20000 + ($$ + 11) % 20000))
URL="tls+tcp://127.0.0.1:$PORT"

check "ca init" xz identity ca init --pki "$PKI" --cn n1-ca
check "the node's certificate" xz identity cert issue --pki "$PKI" \
	--cn n1 --kind node --dns localhost --dns 127.0.0.1 --out "$CERTS"
for cn in kiosk-03 kiosk-04 sensor-01 nobody-01; do
	check "issue $cn" xz identity cert issue --pki "$PKI" --cn "$cn" \
		--out "$CERTS"
done
check "another CA" xz identity ca init --pki "$XZ_T/other" --cn other-ca
check "kiosk-03 of the other CA" xz identity cert issue --pki "$XZ_T/other" \
	--cn kiosk-03 --out "$XZ_T/foreign"

xz_config <<EOF
bus = {
  listen = ( { url = "$URL";
               tls = { ca = "$PKI/ca.pem"; cert = "$CERTS/n1.pem";
                       key = "$CERTS/n1.key"; crl = "$PKI/crl.pem"; }; } );
};
auth = {
  certs = ( { cn = "kiosk-03"; user = "svc:kiosk-03"; name = "自助终端 3 号";
              agency = "prison-01"; roles = [ "kiosk" ]; },
            { cn = "kiosk-04"; user = "svc:kiosk-04"; agency = "prison-01";
              roles = [ "kiosk" ]; },
            { cn = "sensor-01"; user = "svc:sensor-01"; agency = "prison-01";
              roles = [ "sensor" ]; } );
  roles = {
    kiosk = { publish = { allow = [ "xz.sys.auth.whoami", "kiosk.>" ]; }; };
    sensor = { publish = { allow = [ "xz.sys.auth.whoami", "sensor.>" ]; }; };
  };
};
EOF
check "check accepts the door with a CRL" xz check
start_node

# as CN [CLI args...]: the CLI over mutual TLS with CN's certificate.
as() {
	local cn=$1 dir=${CERTS}
	shift
	timeout 30 "$XZ_BIN" "$@" -u "$URL" --ca "$CERTS/ca.pem" \
		--cert "$dir/$cn.pem" --key "$dir/$cn.key"
}

echo "-- a good certificate names its principal"
check "whoami as kiosk-03" as kiosk-03 whoami --json
assert_eq "the principal" "svc:kiosk-03" "$(echo "$OUT" | json .user)"
assert_eq "its display name" "自助终端 3 号" "$(echo "$OUT" | json .name)"
assert_eq "its agency" prison-01 "$(echo "$OUT" | json .agency)"
assert_eq "its role" kiosk "$(echo "$OUT" | json '.roles[0]')"
FP=$(openssl x509 -in "$CERTS/kiosk-03.pem" -noout -fingerprint -sha256 |
	sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
assert_eq "proven by the certificate's fingerprint" "cert sha256:$FP" \
	"$(echo "$OUT" | json .auth)"
check "the same with the environment" env XZ_TLS_CA="$CERTS/ca.pem" \
	XZ_TLS_CERT="$CERTS/kiosk-03.pem" XZ_TLS_KEY="$CERTS/kiosk-03.key" \
	timeout 30 "$XZ_BIN" whoami --json -u "$URL"
assert_eq "env: the principal" "svc:kiosk-03" "$(echo "$OUT" | json .user)"

echo "-- the role decides what the certificate's principal may do"
assert_exit "a kiosk may not list the users" 1 \
	as kiosk-03 call xz.sys.identity.user.list '{}'
assert_contains "forbidden by the identity service, naming the role" \
	"needs the role admin; svc:kiosk-03 has none of it" "$OUT"
check "a sensor may publish its own topics" as sensor-01 pub sensor.perimeter \
	'{"zone":"A"}'
check "sensor-01 is another principal" as sensor-01 whoami --json
assert_eq "sensor's principal" "svc:sensor-01" "$(echo "$OUT" | json .user)"
assert_exit "sensor may not publish kiosk topics" 1 \
	as sensor-01 pub kiosk.session '{"x":1}'
assert_contains "forbidden for the sensor" "forbidden" "$ERR"

echo "-- refusals"
# Every certificate login, good or not, is an audit.sys.login record.
"$XZ_BIN" sub -c "$XZ_CFG" audit.sys.login >"$XZ_T/logins.out" 2>&1 &
if wait_until 20 'as kiosk-03 whoami >/dev/null 2>&1; grep -q "svc:kiosk-03" "$XZ_T/logins.out"'; then
	pass "a good certificate's login is audited"
else
	fail "no audit.sys.login record of svc:kiosk-03: $(cat "$XZ_T/logins.out")"
fi
before=$(status_get '.auth.unauthenticated')
assert_exit "a certificate of another CA" 1 timeout 30 "$XZ_BIN" whoami \
	-u "$URL" --ca "$CERTS/ca.pem" --cert "$XZ_T/foreign/kiosk-03.pem" \
	--key "$XZ_T/foreign/kiosk-03.key"
assert_contains "refused at TLS, saying so" "TLS with the node at $URL failed" "$ERR"

check "revoke kiosk-04" xz identity cert revoke --pki "$PKI" kiosk-04
assert_exit "a revoked certificate" 1 as kiosk-04 whoami
assert_contains "unauthenticated, naming the revocation" \
	"unauthenticated" "$ERR"
assert_contains "the reason" "certificate revoked" "$ERR"
assert_contains "which certificate" "'kiosk-04'" "$ERR"

assert_exit "a valid certificate no auth.certs entry names" 1 as nobody-01 whoami
assert_contains "names no principal" "names no principal of this node" "$ERR"

assert_exit "a certificate with another's key" 1 timeout 30 "$XZ_BIN" whoami \
	-u "$URL" --ca "$CERTS/ca.pem" --cert "$CERTS/kiosk-03.pem" \
	--key "$CERTS/sensor-01.key"
assert_contains "the key does not fit" "does not belong to" "$ERR"

if wait_until 10 '[ "$(status_get .auth.unauthenticated)" -ge $((before + 2)) ]'; then
	pass "the refusals are counted in status"
else
	fail "auth.unauthenticated: $(status_get .auth.unauthenticated), was $before"
fi
check "the log names the revocation" grep -q \
	"refused: unauthenticated: certificate 'kiosk-04' (serial [0-9A-F]*): certificate revoked" \
	"$XZ_T/n1.log"
if wait_until 10 'grep "kiosk-04" "$XZ_T/logins.out" | grep -q "certificate revoked"'; then
	pass "the refusal is an audit.sys.login record with the reason"
else
	fail "no audit record of the revoked kiosk-04: $(cat "$XZ_T/logins.out")"
fi
assert_eq "refused as unauthenticated in the record" unauthenticated \
	"$(grep kiosk-04 "$XZ_T/logins.out" | head -1 | json .data.outcome)"

echo "-- the node keeps serving"
check "kiosk-03 still gets in" as kiosk-03 whoami --json
check "the node still answers" xz call xz.sys.ping
stop_node
finish
