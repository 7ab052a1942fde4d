#!/usr/bin/env bash
# t_node_links_restart.sh - the receiving node keeps its count of the other
# node's business events across a restart (docs/architecture.md, "Across
# a drop"):
#  - a dials b; b's subscriber gets 5 business events from a;
#  - b stops (SIGTERM) and writes, per link, the other node's epoch and the
#    highest number it routed (data_dir/links/a.recv);
#  - b starts again: its status shows the count it had (in_done 5), so
#    events a sends again after the reconnect that b had routed are
#    dropped as duplicates; a new event arrives once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
command -v jq >/dev/null || skip_test "jq is not installed"
LINK='import = [ "t.>" ]; export = [ "t.>" ];'
# sub_on_b N MS OUT: a subscriber on b for N events of t.r.> (at most MS
# ms) into OUT, in the background ($SUB), once a has its interest. The
# previous subscriber's interest must be gone from a first: else its
# removal, still on the way, could follow the wait below, and a would
# drop what it is given meanwhile (seen on a slow sanitizer run).
sub_on_b() {
	wait_until 60 "link_field a b '.interest | index(\"t.r.>\") == null' | grep -qx true" ||
		fail "the previous subscriber's interest does not leave a ($3)"
	( exec "$XZ_BIN" sub -c "$XZ_T/b.cfg" 't.r.>' -n "$1" -t "$2" >"$3" 2>&1 ) &
	SUB=$!
	wait_until 60 "link_field a b '.interest | index(\"t.r.>\") != null' | grep -qx true" ||
		fail "b's subscription does not reach a ($3)"
}

TWO_NODES_START=0 two_nodes a b "$LINK" "$LINK"
start_node "$XZ_T/b.cfg" b
start_node "$XZ_T/a.cfg" a
wait_until 60 '[ "$(link_field a b .state)" = up ] && [ "$(link_field b a .state)" = up ]' ||
	fail "the link a -> b does not come up"

sub_on_b 5 120000 "$XZ_T/sub1.out"
for i in 1 2 3 4 5; do on a pub t.r.x "{\"i\":$i}" >/dev/null; done
wait "$SUB" || true
assert_eq "b's subscriber got the 5 events" 5 "$(grep -c '"i"' "$XZ_T/sub1.out" || true)"
wait_until 60 '[ "$(link_field b a .business.in_done)" = 5 ] && [ "$(link_field a b .business.unacked)" = 0 ]' ||
	fail "b did not route and acknowledge the 5 events"
epoch_done=$(cat "$XZ_T/b/data/links/a.recv" 2>/dev/null || true)

echo "-- b restarts"
stop_node b
rec=$(cat "$XZ_T/b/data/links/a.recv" 2>/dev/null || true)
echo "  (b/data/links/a.recv: $rec; before the stop: ${epoch_done:-none})"
assert_eq "b wrote the count it routed" 5 "$(echo "$rec" | awk '{print $2}')"
start_node "$XZ_T/b.cfg" b
assert_eq "b knows the count again before a reconnects" 5 "$(link_field b a .business.in_done)"
wait_until 60 '[ "$(link_field a b .state)" = up ] && [ "$(link_field b a .state)" = up ]' ||
	fail "the link does not come back"

sub_on_b 2 15000 "$XZ_T/sub2.out"
on a pub t.r.x '{"i":6}' >/dev/null
wait "$SUB" || true
assert_eq "the new event arrives once, and nothing else" '6' "$(grep -o '"i":[0-9]*' "$XZ_T/sub2.out" | cut -d: -f2 | tr '\n' ' ' | sed 's/ $//')"
wait_until 60 '[ "$(link_field b a .business.in_done)" = 6 ]' ||
	fail "b's count does not go on from 5 (in_done $(link_field b a .business.in_done))"
pass "b's count goes on from where it was"

echo "-- a count that cannot be written is said once, and once when it is again"
# A folder where the temporary file goes: the write fails even for root.
mkdir "$XZ_T/b/data/links/a.recv.tmp"
sub_on_b 2 60000 "$XZ_T/sub3.out"
on a pub t.r.x '{"i":7}' >/dev/null
on a pub t.r.x '{"i":8}' >/dev/null
wait "$SUB" || true
wait_until 60 'grep -q "cannot write .*a.recv" "$XZ_T/b.log"' || true
assert_contains "b says it cannot write the count" "cannot write $XZ_T/b/data/links/a.recv" "$(cat "$XZ_T/b.log")"
# It tries again every second: over this window it failed a few times more.
sleep 3
rmdir "$XZ_T/b/data/links/a.recv.tmp"
wait_until 60 'grep -q "a.recv written again" "$XZ_T/b.log"' || true
assert_contains "and when it is written again" "link 'a': $XZ_T/b/data/links/a.recv written again" "$(cat "$XZ_T/b.log")"
assert_eq "the failure was said once, not every second" 1 "$(grep -c 'cannot write .*a.recv' "$XZ_T/b.log")"
assert_eq "the count on disk is 8" 8 "$(awk '{print $2}' "$XZ_T/b/data/links/a.recv")"

echo "-- a count file that is no count is named and ignored"
stop_node b
echo "not a count" >"$XZ_T/b/data/links/a.recv"
: >"$XZ_T/b.log"
start_node "$XZ_T/b.cfg" b
assert_contains "b names the file it ignored" \
	"a.recv is not \"EPOCH DONE\": ignored" "$(cat "$XZ_T/b.log")"
assert_eq "and starts from no count" 0 "$(link_field b a .business.in_done)"
stop_node a
stop_node b
finish
