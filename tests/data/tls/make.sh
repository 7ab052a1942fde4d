#!/bin/sh
# make.sh - regenerate the test PKI (tests only: the keys are public).
#   ca.pem          the node's CA        node.pem/.key   the node, signed by ca
#   client.pem/.key a client, by ca      foreign*.pem    a CA and a client
#                                                        it signed, not ours
# Valid for 100 years so the suite does not rot. Run from this folder.
set -eu
days=36500
key() { openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out "$1"; }
ca() { # name cn
	key "$1.key"
	openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days $days \
	    -addext basicConstraints=critical,CA:TRUE -out "$1.pem"
}
leaf() { # name cn ca
	key "$1.key"
	openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" \
	    -CAcreateserial -days $days -extfile "$1.ext" -out "$1.pem"
	rm -f "$1.csr" "$1.ext"
}
ca ca "xiezhi test CA"
leaf node "xiezhi-test-node" ca
leaf client "xiezhi-test-client" ca
ca foreign-ca "someone else's CA"
leaf foreign "foreign-client" foreign-ca
rm -f ./*.srl ca.key foreign-ca.key
