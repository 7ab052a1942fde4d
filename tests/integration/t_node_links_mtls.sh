#!/usr/bin/env bash
# t_node_links_mtls.sh - nodes linked over mutual TLS that prove their
# certificates (docs/multi-node.md, "Links over mutual TLS"):
#  - a node CA and node certificates issued with `xiezhi identity`;
#  - node b dials the hub over tls+tcp:// with its certificate and no
#    token: the hub knows it from the certificate's CN as node:b (agency
#    prison-01, its roles), status says how it proved itself;
#  - the hub's permissions for node:b let it publish case transfers to the
#    procuratorate, and refuse, count and log another prison's topic;
#  - a revoked certificate, a certificate of another CA and a wrong CA on
#    the dialing side: each link is retried with backoff and shows in
#    status `node_links` with the reason; the hub takes none of them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
echo "-- a node CA and node certificates, issued by xiezhi identity"
node_pki 11 b c e
check "revoke c" xz identity cert revoke --pki "$PKI" c
check "another CA" xz identity ca init --pki "$XZ_T/other" --cn other-ca
check "d's certificate, of the other CA" xz identity cert issue \
	--pki "$XZ_T/other" --cn d --kind node --out "$XZ_T/foreign"

node() { node_cfg "$1" "$2"; }

# The hub takes b, c, d and e by certificate (no creds: the CN is the
# link's name) and lets a prison's node publish case transfers only.
HUBLINK='agency = "prison-01"; roles = [ "node_prison" ];
         import = [ "collab.>", "prison.>" ]; export = [ "collab.>" ];'
node hub "bus = { listen = ( { url = \"$URL\";
  tls = { ca = \"$PKI/ca.pem\"; cert = \"$CERTS/hub.pem\"; key = \"$CERTS/hub.key\";
          crl = \"$PKI/crl.pem\"; }; } ); request_timeout_ms = 3000; };
links = ( { name = \"b\"; $HUBLINK }, { name = \"c\"; $HUBLINK },
          { name = \"d\"; $HUBLINK }, { name = \"e\"; $HUBLINK } );
auth = { roles = {
  node_prison = { publish = { allow = [ \"collab.transfer.deliver.*\" ]; };
                  subscribe = { allow = [ \"collab.transfer.deliver.prison_01\" ]; }; };
}; };"
# dialer NAME CERT KEY CA
dialer() {
	node "$1" "links = ( { name = \"hub\"; url = \"$URL\";
  tls = { ca = \"$4\"; cert = \"$2\"; key = \"$3\"; server_name = \"hub\"; };
  import = [ \"collab.>\" ]; export = [ \"collab.>\", \"prison.>\" ]; } );"
}
dialer b "$CERTS/b.pem" "$CERTS/b.key" "$PKI/ca.pem"
dialer c "$CERTS/c.pem" "$CERTS/c.key" "$PKI/ca.pem"
dialer d "$XZ_T/foreign/d.pem" "$XZ_T/foreign/d.key" "$XZ_T/other/ca.pem"
dialer e "$CERTS/e.pem" "$CERTS/e.key" "$XZ_T/other/ca.pem"

check "check accepts links by certificate" on hub check
check "check accepts a dialer with a certificate and no token" on b check
start_node "$XZ_T/hub.cfg" hub
start_node "$XZ_T/b.cfg" b
wait_until 30 '[ "$(link_field b hub .state)" = up ] && [ "$(link_field hub b .state)" = up ]' ||
	fail "the link b -> hub does not come up over mutual TLS"
assert_eq "the hub knows b by its certificate" "up node:b" "$(link_field hub b '"\(.state) \(.principal)"')"
assert_contains "proven by the certificate" "certificate cn=b, cert sha256:" "$(link_field hub b .auth)"
assert_contains "b says it proves a certificate" "certificate $CERTS/b.pem" "$(link_field b hub .auth)"

echo "-- node:b may publish a case transfer to the procuratorate"
on hub sub 'collab.transfer.deliver.procuratorate_01' -n 1 -t 20000 >"$XZ_T/sub_ok.out" 2>&1 &
SUBOK=$!
on hub sub 'prison.>' -n 1 -t 8000 >"$XZ_T/sub_no.out" 2>&1 &
SUBNO=$!
wait_until 20 "link_field b hub '.interest | (index(\"prison.>\") != null) and (index(\"collab.transfer.deliver.procuratorate_01\") != null)' | grep -qx true" ||
	fail "the hub's subscriptions do not reach b"
on b pub collab.transfer.deliver.procuratorate_01 '{"transfer":{"id":"t-1"}}' >/dev/null
wait "$SUBOK" || true
assert_contains "the transfer reached the hub" '"t-1"' "$(cat "$XZ_T/sub_ok.out")"

echo "-- ... and not another prison's topic"
on b pub prison.p02.roster '{"x":1}' >/dev/null
wait_until 10 '[ "$(link_field hub b .denied)" -ge 1 ]' || true
assert_eq "the hub refused and counted it" 1 "$(link_field hub b .denied)"
wait "$SUBNO" || true
assert_eq "the hub's subscriber got nothing" 0 "$(grep -c '"x"' "$XZ_T/sub_no.out" || true)"
assert_contains "the refusal names the node, its agency and the topic" \
	"node 'node:b' (agency prison-01) has no publish permission for 'prison.p02.roster'" "$(cat "$XZ_T/hub.log")"

echo "-- bad certificates: retried with backoff, the reason in status"
start_node "$XZ_T/c.cfg" c
start_node "$XZ_T/d.cfg" d
start_node "$XZ_T/e.cfg" e
wait_until 40 '[ "$(link_field c hub .retries)" -ge 2 ] && [ "$(link_field d hub .retries)" -ge 2 ] && [ "$(link_field e hub .retries)" -ge 2 ]' ||
	fail "the bad links are not retried"
for n in c d e; do
	assert_eq "$n's link is not up" no "$(link_field "$n" hub 'if .state == "up" then "yes" else "no" end')"
	assert_eq "the hub never took $n" no "$(link_field hub "$n" 'if .state == "up" then "yes" else "no" end')"
done
for n in c d e; do echo "  ($n: $(link_field "$n" hub .last_error))"; done
assert_contains "a revoked certificate: the reason" "certificate revoked" "$(link_field c hub .last_error)"
assert_contains "a certificate of another CA: the TLS handshake" "TLS" "$(link_field d hub .last_error)"
assert_contains "a wrong CA on the dialing side: the TLS handshake" "TLS" "$(link_field e hub .last_error)"
assert_contains "the hub logs the revoked certificate" "certificate revoked" "$(cat "$XZ_T/hub.log")"
r1=$(link_field c hub .retries)
sleep 2
r2=$(link_field c hub .retries)
assert_le "backoff: at most 8 retries in 2 s" $((r2 - r1)) 8
check "the hub still answers" on hub call xz.sys.ping '{}'
assert_eq "b's link stayed up" up "$(link_field hub b .state)"
for n in c d e b hub; do stop_node "$n"; done
finish
