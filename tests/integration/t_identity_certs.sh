#!/usr/bin/env bash
# t_identity_certs.sh - the node CA of `xiezhi identity`: a CA made
# offline, a node certificate and client certificates issued from it
# (checked with `openssl verify`), a revocation in the CRL, and a mutual
# TLS connection to a real node with an issued certificate, whose CN the
# node maps to a principal (auth.certs); a certificate of another CA is
# turned away.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_test "jq is not installed"
command -v openssl >/dev/null || skip_test "openssl is not installed"

xz_setup
export HOME="$XZ_T/home"
mkdir -p "$HOME"
unset XZ_CREDS
PKI="$XZ_T/pki"
CERTS="$XZ_T/certs"
PORT=$((20000 + ($$ + 7) % 20000))

# ---- the CA, offline ----
check "ca init" xz identity ca init --pki "$PKI" --cn n1-ca
assert_eq "the CA key is private" 600 "$(stat -c %a "$PKI/ca.key")"
assert_eq "the CA folder is private" 700 "$(stat -c %a "$PKI")"
assert_exit "ca init twice" 1 xz identity ca init --pki "$PKI" --cn n1-ca
assert_contains "never overwritten" "already holds a CA" "$ERR"
check "issue the node's certificate" xz identity cert issue --pki "$PKI" \
	--cn n1 --kind node --dns localhost --dns 127.0.0.1 --out "$CERTS"
check "issue kiosk-03" xz identity cert issue --pki "$PKI" --cn kiosk-03 \
	--out "$CERTS"
check "issue kiosk-04" xz identity cert issue --pki "$PKI" --cn kiosk-04 \
	--out "$CERTS"
assert_eq "the key is private" 600 "$(stat -c %a "$CERTS/kiosk-03.key")"
assert_exit "a CN that is a path" 1 xz identity cert issue --pki "$PKI" \
	--cn ../x --out "$CERTS"
assert_contains "invalid CN" "invalid CN '../x'" "$ERR"
check "openssl verifies kiosk-03" openssl verify -CAfile "$PKI/ca.pem" \
	"$CERTS/kiosk-03.pem"
check "openssl: a client certificate" openssl verify -purpose sslclient \
	-CAfile "$PKI/ca.pem" "$CERTS/kiosk-03.pem"
check "openssl: the node serves and dials" openssl verify -purpose sslserver \
	-CAfile "$PKI/ca.pem" "$CERTS/n1.pem"
assert_exit "a kiosk certificate does not serve" 2 openssl verify \
	-purpose sslserver -CAfile "$PKI/ca.pem" "$CERTS/kiosk-03.pem"

# ---- revocation ----
check "revoke kiosk-04" xz identity cert revoke --pki "$PKI" kiosk-04
assert_exit "kiosk-04 fails with the CRL" 2 openssl verify -crl_check \
	-CRLfile "$PKI/crl.pem" -CAfile "$PKI/ca.pem" "$CERTS/kiosk-04.pem"
assert_contains "revoked" "certificate revoked" "$OUT$ERR"
check "kiosk-03 passes with the CRL" openssl verify -crl_check \
	-CRLfile "$PKI/crl.pem" -CAfile "$PKI/ca.pem" "$CERTS/kiosk-03.pem"
check "cert list" xz identity cert list --pki "$PKI" --json
assert_eq "three issued" 3 "$(echo "$OUT" | json 'length')"
assert_eq "one revoked" kiosk-04 \
	"$(echo "$OUT" | json '.[] | select(.revoked_at > 0) | .cn')"
assert_exit "revoke it again" 1 xz identity cert revoke --pki "$PKI" kiosk-04
assert_contains "nothing left to revoke" "no unrevoked certificate" "$ERR"

# ---- a certificate of another CA ----
check "another CA" xz identity ca init --pki "$XZ_T/other" --cn other-ca
check "a certificate of it" xz identity cert issue --pki "$XZ_T/other" \
	--cn kiosk-03 --out "$XZ_T/foreign"
assert_exit "openssl refuses the foreign certificate" 2 openssl verify \
	-CAfile "$PKI/ca.pem" "$XZ_T/foreign/kiosk-03.pem"

# ---- mutual TLS to a real node ----
xz_config <<EOF
bus = {
  listen = ( { url = "tls+tcp://127.0.0.1:$PORT";
               tls = { ca = "$PKI/ca.pem"; cert = "$CERTS/n1.pem";
                       key = "$CERTS/n1.key"; }; } );
};
auth = {
  certs = ( { cn = "kiosk-03"; user = "svc:kiosk-03"; name = "自助终端 3 号";
              agency = "prison-01"; roles = [ "kiosk" ]; } );
};
EOF
start_node
export XZ_TLS_CA="$CERTS/ca.pem"
URL="tls+tcp://127.0.0.1:$PORT"
kiosk() {
	timeout 30 env XZ_TLS_CERT="$CERTS/kiosk-03.pem" \
		XZ_TLS_KEY="$CERTS/kiosk-03.key" "$XZ_BIN" "$@"
}
check "whoami over mutual TLS" kiosk whoami --json -u "$URL"
assert_eq "the certificate's principal" "svc:kiosk-03" "$(echo "$OUT" | json .user)"
assert_eq "its role" kiosk "$(echo "$OUT" | json '.roles[0]')"
assert_contains "proven by the certificate" "cert sha256:" "$(echo "$OUT" | json .auth)"
assert_exit "a certificate of another CA" 1 timeout 30 env \
	XZ_TLS_CERT="$XZ_T/foreign/kiosk-03.pem" \
	XZ_TLS_KEY="$XZ_T/foreign/kiosk-03.key" "$XZ_BIN" whoami --json -u "$URL"
assert_contains "the TLS handshake fails" "TLS" "$ERR"
check "the node still answers" xz call xz.sys.ping
stop_node
finish
