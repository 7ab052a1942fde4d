#!/usr/bin/env bash
# t_node_links_credits.sh - credits across a link (docs/architecture.md,
# "Links between nodes"): a publisher client -> node a -> link -> node b ->
# a subscriber that stops reading (SIGSTOP).
#  - the business events for it fill b's subscriber queue, then the
#    link's window (256 events acknowledged by b only once routed), then
#    a's queue for the link; then the publisher waits;
#  - meanwhile status and ping answer on both nodes, a request from a
#    crosses to a responder on b and back, and best-effort events of
#    another topic cross to another subscriber on b: the link's threads
#    are not held by the slow subscriber;
#  - after SIGCONT the subscriber gets every business event, in order.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
command -v jq >/dev/null || skip_test "jq is not installed"

N=3000
cat >"$XZ_T/svc.lua" <<'EOF'
xz.subscribe("svc.echo", function(d) return { echo = d.n, node = "b" } end)
EOF
LINK='import = [ "biz.>", "video.>", "svc.>" ]; export = [ "biz.>", "video.>", "svc.>" ];'
BUS='mailbox_capacity = 64; best_effort = [ "video.>" ]; request_timeout_ms = 20000;'
# Node a serves /metrics (the gateway) when it is built: the link's
# credit window is exported there.
. "$(dirname "$0")/gw_lib.sh"
GW=""
if [ -f "$XZ_PLUGIN_DIR/gateway.so" ]; then
	gw_port
	GW="plugins = ( { name = \"gateway\"; kind = \"so\"; options = { port = $GW_PORT; }; } );"
fi
two_nodes a b "$LINK" "$LINK" "$GW" "scripts = ( { name = \"svc\"; path = \"$XZ_T/svc.lua\"; } );" \
	"$BUS publish_timeout_ms = 120000;" "$BUS"

xz_bg sub 'biz.slow' -c "$XZ_T/b.cfg" -n "$N" -t 120000 >"$XZ_T/slow.out" 2>"$XZ_T/slow.err" &
SLOW=$!
trap 'kill -CONT "$SLOW" 2>/dev/null || true; _xz_cleanup' EXIT
wait_until 30 "link_field a b '.interest | index(\"biz.slow\") != null' | grep -qx true" ||
	fail "b's subscription to biz.slow does not reach a"
check "the request a -> b is answered before" on a call svc.echo '{"n":0}' -t 20000
assert_eq "answered by b" b "$(echo "$OUT" | jq -r .node)"

echo "-- the subscriber on b stops reading; a's publisher sends $N business events"
kill -STOP "$SLOW"
for i in $(seq 1 "$N"); do echo "{\"i\":$i,\"pad\":\"0123456789abcdef0123456789abcdef\"}"; done >"$XZ_T/events"
xz_bg pub biz.slow - -c "$XZ_T/a.cfg" <"$XZ_T/events" >"$XZ_T/pub.out" 2>&1 &
PUB=$!
wait_until 120 '[ "$(link_field a b .business.unacked)" -ge 256 ]' ||
	fail "a's window for b does not fill (unacked $(link_field a b .business.unacked))"
assert_eq "a has sent no more than the window" 256 "$(link_field a b .business.unacked)"
wait_until 60 '[ "$(link_field a b .queued)" -ge 320 ]' ||
	fail "a's queue for b (64) does not fill behind the window"
kill -0 "$PUB" 2>/dev/null || fail "the publisher finished: nothing held it back"
if [ -n "$GW" ]; then
	M=$(curl -s --max-time 30 "http://127.0.0.1:$GW_PORT/metrics")
	assert_contains "metrics: the link to b is up" 'xiezhi_node_link_up{link="b"} 1' "$M"
	assert_contains "metrics: its window is used up" 'xiezhi_node_link_credits_used{link="b"} 256' "$M"
else
	skip "metrics of the link (gateway.so not built)"
fi

echo "-- management traffic, requests and best-effort events still go"
for n in a b; do
	wait_for 30 on "$n" call xz.sys.ping '{}' -t 5000 >/dev/null || fail "node $n does not answer ping"
	wait_for 30 on "$n" status -t 5000 >/dev/null || fail "node $n does not answer status"
done
pass "ping and status answer on both nodes"
check "a request a -> b crosses the link and comes back" on a call svc.echo '{"n":7}' -t 20000
assert_eq "the echo of b" "7 b" "$(echo "$OUT" | jq -r '"\(.echo) \(.node)"')"
xz_bg sub 'video.>' -c "$XZ_T/b.cfg" -n 3 -t 30000 >"$XZ_T/video.out" 2>&1 &
VID=$!
wait_until 30 "link_field a b '.interest | index(\"video.>\") != null' | grep -qx true" ||
	fail "b's subscription to video.> does not reach a"
for f in 1 2 3; do on a pub video.cam1 "{\"f\":$f}" >/dev/null; done
wait "$VID" || true
assert_eq "the best-effort events crossed while the window is full" "1 2 3" \
	"$(jq -r '.data.f' "$XZ_T/video.out" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "the link's thread was not stopped: still up" up "$(link_field b a .state)"
assert_le "b holds what it took in its delivery queue" 1 "$(link_field b a .business.in_waiting)"

echo "-- the subscriber reads again: every business event, in order"
kill -CONT "$SLOW"
wait "$SLOW" || true
# (pub's closing ping waits behind the held events on its connection, up
# to 64 s: under load it may give up waiting; what counts is what arrived)
wait "$PUB" || echo "   (pub: $(tail -1 "$XZ_T/pub.out"))"
assert_eq "the node refused none of the publisher's events" 0 "$(grep -c 'refused' "$XZ_T/pub.out" || true)"
got=$(jq -r '.data.i' "$XZ_T/slow.out" | tr '\n' ' ')
want=$(seq 1 "$N" | tr '\n' ' ')
assert_eq "all $N business events arrived" "$N" "$(jq -r '.data.i' "$XZ_T/slow.out" | wc -l)"
[ "$got" = "$want" ] && pass "in order, none twice" || fail "out of order or doubled: $(echo "$got" | head -c 300)"
wait_until 30 '[ "$(link_field a b .business.unacked)" = 0 ] && [ "$(link_field a b .queued)" = 0 ]' ||
	fail "a still holds events for b"
assert_eq "no duplicates were needed" 0 "$(link_field b a .business.duplicates)"
for n in a b; do stop_node "$n"; done
finish
