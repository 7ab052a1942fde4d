#!/usr/bin/env bash
# Test certificates of tests/unit/test_xzclient.c (TLS): a CA, a server
# certificate for DNS name "localhost", a client certificate (mutual TLS)
# and an unrelated CA, EC P-256, valid 100 years. Test-only keys: never use
# them anywhere else. Regenerate with: bash tests/data/tls/gen.sh
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
openssl req -x509 $ec -keyout ca.key -out ca.pem -days 36500 \
	-subj "/CN=xiezhi test CA"
openssl req -x509 $ec -keyout "$tmp/other.key" -out other-ca.pem \
	-days 36500 -subj "/CN=some other CA"
leaf() { # NAME CN EXTENSIONS
	openssl req $ec -keyout "$1.key" -out "$tmp/$1.csr" -subj "/CN=$2"
	printf '%b' "$3" >"$tmp/$1.ext"
	openssl x509 -req -in "$tmp/$1.csr" -CA ca.pem -CAkey ca.key \
		-CAcreateserial -CAserial "$tmp/ca.srl" -out "$1.pem" \
		-days 36500 -extfile "$tmp/$1.ext"
}
leaf server localhost "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n"
leaf client tls-client "extendedKeyUsage=clientAuth\n"
rm -f ca.key # nothing more is signed with it
