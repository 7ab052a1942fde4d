#!/usr/bin/env bash
# t_node_links.sh - nodes linked to nodes (`links`, docs/multi-node.md):
#  - interest propagates: an event crosses only when the other node has a
#    subscriber (nothing crosses otherwise, and the link's counters say so);
#  - a request crosses with its deadline and its reply comes back; a slow
#    responder gives the requester its `timeout` at the deadline;
#  - the other node's permissions limit what a node may publish into it
#    (refused, counted, audited);
#  - a node killed and restarted: the link reconnects with backoff, shown
#    in status (state, retries, last error);
#  - three nodes in a triangle: every subscriber gets an event once, and
#    nothing returns to a node it passed;
#  - an unreachable node and a wrong token: retried with backoff, reported
#    in status with the reason; `check` names a link's mistakes at FILE:LINE.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
command -v jq >/dev/null || skip_test "jq is not installed"

link_token "$XZ_T/tok/wrong"
# node NAME EXTRA: the config of a further node NAME ($XZ_T/NAME.cfg),
# listening on $XZ_T/NAME/bus.sock, with EXTRA (links...) appended.
node() {
	node_cfg "$1" "bus = { listen = [ \"ipc://$XZ_T/$1/bus.sock\" ]; request_timeout_ms = 3000; };
$2"
}

cat >"$XZ_T/svc.lua" <<'EOF'
xz.subscribe("svc.echo", function(d) return { echo = d.n, node = "b" } end)
xz.subscribe("svc.silent", function() end)
EOF

# a dials b. b knows a as node:a of agency prison-01, role node_prison.
TWO_NODES_START=0 two_nodes a b 'agency = "bureau"; import = [ "t.>", "svc.>" ];
                   export = [ "t.>", "svc.>", "p.>" ];' \
	'agency = "prison-01"; roles = [ "node_prison" ];
                   import = [ "t.>", "svc.>", "p.>" ]; export = [ "t.>", "svc.>" ];' \
	"" "scripts = ( { name = \"svc\"; path = \"$XZ_T/svc.lua\"; } );
auth = { roles = {
  node_prison = { publish = { allow = [ \"t.>\", \"svc.>\" ]; };
                  subscribe = { allow = [ \"t.>\", \"svc.>\" ]; }; };
}; };" "request_timeout_ms = 3000;" "request_timeout_ms = 3000;"
check "check accepts both ends of a link" on a check
check "check accepts the accepting end" on b check
start_node "$XZ_T/b.cfg" b
start_node "$XZ_T/a.cfg" a
wait_until 20 '[ "$(link_field a b .state)" = up ] && [ "$(link_field b a .state)" = up ]' ||
	fail "the link a -> b does not come up"
assert_eq "a sees b up" up "$(link_field a b .state)"
assert_eq "b sees a up, as a principal" "up node:a" "$(link_field b a '"\(.state) \(.principal)"')"

echo "-- interest: nothing crosses without a subscriber"
pub0=$(on a status | jq -r .bus.published)
for i in 1 2 3 4 5; do on a pub t.none "{\"i\":$i}" >/dev/null; done
wait_until 10 "[ \$(on a status | jq -r .bus.published) -ge $((pub0 + 5)) ]" || true
assert_eq "no event left a (no subscriber on b)" 0 "$(link_field a b .out.events)"
assert_eq "none reached b" 0 "$(link_field b a .in.events)"

on b sub t.x -n 3 -t 20000 >"$XZ_T/sub_tx.out" 2>&1 &
SUBPID=$!
wait_until 20 "link_field a b '.interest | index(\"t.x\") != null' | grep -qx true" ||
	fail "b's subscription to t.x does not reach a"
for i in 1 2 3; do on a pub t.x "{\"i\":$i}" >/dev/null; done
wait "$SUBPID" || true
assert_eq "the subscriber on b got the 3 events of a" 3 "$(grep -c '"i"' "$XZ_T/sub_tx.out" || true)"
assert_eq "a counts 3 events out" 3 "$(link_field a b .out.events)"
wait_until 20 "! link_field a b '.interest | index(\"t.x\") != null' | grep -qx true" ||
	fail "the subscriber left, but a still sends t.x"
on a pub t.x '{"i":4}' >/dev/null
assert_eq "after it left, nothing more crosses" 3 "$(link_field a b .out.events)"

echo "-- requests cross with their deadline"
wait_until 20 "link_field a b '.interest | index(\"svc.echo\") != null' | grep -qx true" ||
	fail "the responder's interest does not reach a"
check "a request from a answered on b" on a call svc.echo '{"n":7}' -t 3000
assert_eq "the reply of b's responder" '7 b' "$(echo "$OUT" | jq -r '"\(.echo) \(.node)"')"
assert_exit "a silent responder: timeout at the deadline" 3 on a call svc.silent '{}' -t 800
assert_contains "the requester's timeout names the topic" "svc.silent" "$OUT$ERR"
assert_contains "the node's own timeout reply, not the CLI's" '"code":"timeout"' "$OUT"
assert_eq "b counted 2 requests in" 2 "$(link_field b a .in.requests)"

echo "-- permissions: a node may not publish outside its roles"
on b sub 'p.>' -n 1 -t 4000 >"$XZ_T/sub_p.out" 2>&1 &
SUBPID=$!
wait_until 20 "link_field a b '.interest | index(\"p.>\") != null' | grep -qx true" ||
	fail "b's subscription to p.> does not reach a"
on a pub p.secret '{"x":1}' >/dev/null
wait_until 10 '[ "$(link_field b a .denied)" -ge 1 ]' || true
assert_eq "b refused and counted a's publish outside its grant" 1 "$(link_field b a .denied)"
wait "$SUBPID" || true
assert_eq "b's subscriber got nothing" 0 "$(grep -c '"x"' "$XZ_T/sub_p.out" || true)"
assert_contains "the refusal is logged, naming the node and topic" \
	"node 'node:a' (agency prison-01) has no publish permission for 'p.secret'" "$(cat "$XZ_T/b.log")"

echo "-- a node killed and restarted: the link comes back"
kill -KILL "$(node_pid b)"
wait_until 20 '[ "$(link_field a b .state)" != up ]' || fail "a does not notice b died"
wait_until 20 '[ "$(link_field a b .retries)" -ge 2 ]' || fail "a does not retry"
assert_contains "status names the last error" "ipc://$XZ_T/b/bus.sock" "$(link_field a b .last_error)"
keep=(); for e in "${XZ_NODES[@]}"; do [ "${e%%:*}" = b ] || keep+=("$e"); done; XZ_NODES=("${keep[@]}")
start_node "$XZ_T/b.cfg" b
wait_until 30 '[ "$(link_field a b .state)" = up ]' || fail "the link does not come back"
assert_eq "reconnected" up "$(link_field a b .state)"
wait_until 20 "link_field a b '.interest | index(\"svc.echo\") != null' | grep -qx true" || true
check "requests cross again after the restart" on a call svc.echo '{"n":8}' -t 3000
assert_eq "answered by the restarted b" 8 "$(echo "$OUT" | jq -r .echo)"

echo "-- bad links: unreachable, wrong token"
node c "links = ( { name = \"b\"; url = \"ipc://$XZ_T/b/bus.sock\"; creds = \"$XZ_T/tok/wrong\"; import = [ \">\" ]; export = [ \">\" ]; },
                 { name = \"nowhere\"; url = \"ipc://$XZ_T/nowhere/bus.sock\"; creds = \"$XZ_T/tok/a-b\"; } );"
check "check: bad links are warnings" on c check
assert_contains "check names the unreachable node at FILE:LINE" "c.cfg:" "$ERR"
assert_contains "check: unreachable" "WARN links[1] 'nowhere': cannot reach the node at ipc://$XZ_T/nowhere/bus.sock" "$ERR"
assert_contains "check: the wrong token" "WARN links[0] 'b': unauthenticated: the node refused this link's token" "$ERR"
start_node "$XZ_T/c.cfg" c
wait_until 30 '[ "$(link_field c nowhere .retries)" -ge 3 ] && [ "$(link_field c b .retries)" -ge 2 ]' ||
	fail "c does not retry its bad links"
assert_eq "an unreachable node is not up" down-or-connecting \
	"$(link_field c nowhere .state | sed 's/^down$/down-or-connecting/; s/^connecting$/down-or-connecting/')"
assert_contains "its error names the URL" "nowhere/bus.sock" "$(link_field c nowhere .last_error)"
# Under load one attempt may time out before the refusal: wait for one
# that was refused.
wait_until 90 'link_field c b .last_error | grep -q unauthenticated' || true
assert_contains "a wrong token: unauthenticated" "unauthenticated" "$(link_field c b .last_error)"
r1=$(link_field c nowhere .retries)
sleep 2
r2=$(link_field c nowhere .retries)
assert_le "backoff: at most 8 retries in 2 s" $((r2 - r1)) 8
bstat=$(on b status)
assert_contains "b answers its status" '"node_links"' "$bstat"
assert_eq "b did not take c for a node" "" "$(echo "$bstat" | jq -r '.node_links[] | select(.principal == "node:c") | .name')"
stop_node c

node bad "links = ( { name = \"b\"; url = \"ftp://x\"; creds = \"$XZ_T/tok/missing\"; import = [ \"a..b\" ]; colour = 1; } );"
assert_exit "check refuses a bad link" 1 on bad check
assert_contains "bad URL at FILE:LINE" "bad.cfg:" "$ERR$OUT"
assert_contains "names the url" "links[0].url: invalid URL 'ftp://x'" "$ERR$OUT"
assert_contains "names the creds" "links[0].creds: cannot use" "$ERR$OUT"
assert_contains "names the pattern" "links[0].import[0] 'a..b' is not a valid topic pattern" "$ERR$OUT"
assert_contains "names the unknown setting" "unknown setting 'colour' in links[0]." "$ERR$OUT"

echo "-- three nodes in a triangle: once each, never back"
link_token "$XZ_T/tok/xy"
link_token "$XZ_T/tok/yz"
link_token "$XZ_T/tok/zx"
ALL='import = [ "loop.>" ]; export = [ "loop.>" ];'
node x "links = ( { name = \"y\"; url = \"ipc://$XZ_T/y/bus.sock\"; creds = \"$XZ_T/tok/xy\"; $ALL },
                 { name = \"z\"; creds = \"$XZ_T/tok/zx\"; $ALL } );"
node y "links = ( { name = \"z\"; url = \"ipc://$XZ_T/z/bus.sock\"; creds = \"$XZ_T/tok/yz\"; $ALL },
                 { name = \"x\"; creds = \"$XZ_T/tok/xy\"; $ALL } );"
node z "links = ( { name = \"x\"; url = \"ipc://$XZ_T/x/bus.sock\"; creds = \"$XZ_T/tok/zx\"; $ALL },
                 { name = \"y\"; creds = \"$XZ_T/tok/yz\"; $ALL } );"
start_node "$XZ_T/x.cfg" x
start_node "$XZ_T/y.cfg" y
start_node "$XZ_T/z.cfg" z
for n in x y z; do
	wait_until 30 "[ \$(on $n status | jq '[.node_links[] | select(.state == \"up\")] | length') = 2 ]" ||
		fail "node $n does not have both links up"
done
SUBS=()
for n in x y z; do
	on "$n" sub 'loop.>' -n 2 -t 15000 >"$XZ_T/loop_$n.out" 2>&1 &
	SUBS+=($!)
done
for n in x y z; do
	others=$(echo x y z | tr ' ' '\n' | grep -v "$n")
	for o in $others; do
		wait_until 20 "link_field $n $o '.interest | index(\"loop.>\") != null' | grep -qx true" ||
			fail "$n does not learn $o's interest"
	done
done
on x pub loop.t '{"from":"x"}' >/dev/null
on y pub loop.t '{"from":"y"}' >/dev/null
for p in "${SUBS[@]}"; do wait "$p" || true; done
sleep 1 # a duplicate would arrive within this
for n in x y z; do
	assert_eq "node $n's subscriber got each event once" 2 "$(grep -c '"from"' "$XZ_T/loop_$n.out" || true)"
done
stopped=0
for n in x y z; do
	stopped=$((stopped + $(on "$n" status | jq '[.node_links[].loops_stopped] | add')))
done
echo "  (loops stopped: $stopped)"
assert_eq "each event entered each other node once (2 events x 2 nodes)" 4 \
	"$(for n in x y z; do on "$n" status | jq '[.node_links[].in.events] | add'; done | awk '{ s += $1 } END { print s }')"
for n in x y z a b; do stop_node "$n"; done
finish
