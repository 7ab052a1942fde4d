#!/usr/bin/env bash
# t_node_links_revoked.sh - a certificate revoked while the node link is up
# (docs/multi-node.md, "Links over mutual TLS"):
#  - node b dials the hub over tls+tcp:// with its certificate; events
#    cross both ways;
#  - the CA revokes b's certificate (`xiezhi identity cert revoke`) and the
#    hub reloads: the hub closes b's connection, its status shows the link
#    "revoked" with the reason and counts it, and the log says why;
#  - events no longer cross in either direction;
#  - b keeps dialing and every new connection is refused (certificate
#    revoked); the hub's link stays revoked;
#  - the dialing side: node c's tls.ca holds the CA and its CRL; the hub's
#    certificate is revoked and c's file rewritten: c connects again and
#    its TLS handshake refuses the hub.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
echo "-- a node CA, the hub's and b's certificates"
node_pki 17 b

node_cfg hub "bus = { listen = ( { url = \"$URL\";
  tls = { ca = \"$PKI/ca.pem\"; cert = \"$CERTS/hub.pem\"; key = \"$CERTS/hub.key\";
          crl = \"$PKI/crl.pem\"; }; } ); request_timeout_ms = 3000; };
links = ( { name = \"b\"; agency = \"prison-01\";
            import = [ \"collab.>\" ]; export = [ \"collab.>\" ]; },
          { name = \"c\"; agency = \"prison-01\";
            import = [ \"collab.>\" ]; export = [ \"collab.>\" ]; } );"
node_cfg b "links = ( { name = \"hub\"; url = \"$URL\";
  tls = { ca = \"$PKI/ca.pem\"; cert = \"$CERTS/b.pem\"; key = \"$CERTS/b.key\"; server_name = \"hub\"; };
  import = [ \"collab.>\" ]; export = [ \"collab.>\" ]; } );"
start_node "$XZ_T/hub.cfg" hub
start_node "$XZ_T/b.cfg" b
wait_until 60 '[ "$(link_field b hub .state)" = up ] && [ "$(link_field hub b .state)" = up ]' ||
	fail "the link b -> hub does not come up over mutual TLS"
assert_contains "the hub knows b by its certificate" "certificate cn=b, cert sha256:" "$(link_field hub b .auth)"

# cross FROM TO TOPIC FILE: a subscriber on TO (output in FILE), wait
# until FROM's link sees its interest, publish one event on FROM until the
# subscriber has it (60 s).
cross() {
	local from=$1 to=$2 topic=$3 out=$4 link
	link=$([ "$from" = hub ] && echo b || echo hub)
	( exec "$XZ_BIN" sub -c "$XZ_T/$to.cfg" "$topic" -n 1 -t 60000 >"$out" 2>&1 ) &
	local pid=$!
	wait_until 60 "link_field $from $link '.interest | index(\"$topic\") != null' | grep -qx true" ||
		fail "$to's subscription to $topic does not reach $from"
	on "$from" pub "$topic" '{"n":1}' >/dev/null
	wait "$pid" || true
}

echo "-- events cross both ways while b's certificate is good"
cross hub b collab.down.one "$XZ_T/down1.out"
assert_contains "hub -> b" '"n":1' "$(cat "$XZ_T/down1.out")"
cross b hub collab.up.one "$XZ_T/up1.out"
assert_contains "b -> hub" '"n":1' "$(cat "$XZ_T/up1.out")"

echo "-- b's certificate is revoked and the hub reloads"
check "revoke b" xz identity cert revoke --pki "$PKI" b
check "the hub reloads" on hub reload
wait_until 60 '[ "$(link_field hub b .state)" = revoked ]' ||
	fail "the hub does not show the link to b revoked (state $(link_field hub b .state))"
pass "the hub shows the link revoked"
why=$(link_field hub b .last_error)
echo "  (hub: $why)"
assert_contains "the reason names the certificate" "certificate revoked or no longer trusted: 'b'" "$why"
assert_contains "the reason says it is revoked" "certificate revoked" "$why"
assert_eq "counted" 1 "$(link_field hub b .revoked)"
wait_until 60 'grep -q "link '"'"'b'"'"': node '"'"'node:b'"'"' disconnected: its certificate '"'"'b'"'"' no longer passes" "$XZ_T/hub.log"' ||
	fail "the hub does not log why it disconnected b"
pass "the hub logs why it disconnected b"
wait_until 60 '[ "$(link_field b hub .state)" != up ]' ||
	fail "b does not see its link go down"
pass "b sees its link go down"

echo "-- events no longer cross"
on b sub 'collab.down.two' -n 1 -t 8000 >"$XZ_T/down2.out" 2>&1 &
SUB1=$!
on hub sub 'collab.up.two' -n 1 -t 8000 >"$XZ_T/up2.out" 2>&1 &
SUB2=$!
sleep 1
for i in 1 2 3; do
	on hub pub collab.down.two '{"n":2}' >/dev/null
	on b pub collab.up.two '{"n":2}' >/dev/null
done
wait "$SUB1" || true
wait "$SUB2" || true
assert_eq "nothing from the hub reaches b" 0 "$(grep -c '"n":2' "$XZ_T/down2.out" || true)"
assert_eq "nothing from b reaches the hub" 0 "$(grep -c '"n":2' "$XZ_T/up2.out" || true)"

echo "-- b's reconnects are refused"
r0=$(link_field b hub .retries)
wait_until 90 '[ "$(link_field b hub .retries)" -ge $((r0 + 2)) ] && link_field b hub .last_error | grep -q "certificate revoked"' ||
	fail "b does not retry, or is not told its certificate is revoked ($(link_field b hub .last_error))"
b_err=$(link_field b hub .last_error)
echo "  (b: $b_err)"
assert_contains "b is told its certificate is refused" "did not accept the certificate" "$b_err"
assert_contains "... because it is revoked" "certificate revoked" "$b_err"
assert_contains "the hub refuses the revoked certificate at the HELLO" "certificate revoked" "$(grep 'refused: unauthenticated' "$XZ_T/hub.log" || true)"
assert_eq "the hub's link stays revoked" revoked "$(link_field hub b .state)"
check "the hub still answers" on hub call xz.sys.ping '{}'
stop_node b

echo "-- the dialing side: node c trusts a CA file that carries the CRL too"
check "c's certificate" xz identity cert issue --pki "$PKI" --cn c --kind node --out "$CERTS"
cat "$PKI/ca.pem" "$PKI/crl.pem" >"$XZ_T/bundle.pem"
node_cfg c "links = ( { name = \"hub\"; url = \"$URL\";
  tls = { ca = \"$XZ_T/bundle.pem\"; cert = \"$CERTS/c.pem\"; key = \"$CERTS/c.key\"; server_name = \"hub\"; };
  import = [ \"collab.>\" ]; export = [ \"collab.>\" ]; } );"
start_node "$XZ_T/c.cfg" c
wait_until 90 '[ "$(link_field c hub .state)" = up ]' ||
	fail "the link c -> hub does not come up ($(link_field c hub .last_error))"
echo "-- the hub's certificate is revoked; c's CA file gets the new CRL"
check "revoke the hub" xz identity cert revoke --pki "$PKI" hub
cat "$PKI/ca.pem" "$PKI/crl.pem" >"$XZ_T/bundle.new"
mv "$XZ_T/bundle.new" "$XZ_T/bundle.pem"
wait_until 90 'link_field c hub .last_error | grep -q "TLS"' ||
	fail "c keeps the link to a node whose certificate is revoked ($(link_field c hub .state): $(link_field c hub .last_error))"
pass "c connected again and its handshake refused the hub's certificate"
assert_contains "c logs why it connected again" "the CA file $XZ_T/bundle.pem changed" "$(cat "$XZ_T/c.log")"
assert_eq "c's link is not up" no "$(link_field c hub 'if .state == "up" then "yes" else "no" end')"
stop_node c
stop_node hub
finish
