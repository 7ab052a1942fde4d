#!/usr/bin/env bash
# t_node_links_best_effort.sh - both ends of a node link must agree on
# bus.best_effort (docs/multi-node.md, "Best-effort topics on a link"):
#  - a and b list different best-effort topics: the link comes up anyway,
#    both logs warn naming both lists, and both statuses show them with
#    agree "no";
#  - c and d list the same topics in another order: agree "yes", no
#    warning.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
command -v jq >/dev/null || skip_test "jq is not installed"
LINK='import = [ "t.>" ]; export = [ "t.>" ];'

# up A B: start B then A, wait (60 s) until both see the link up.
up() {
	start_node "$XZ_T/$2.cfg" "$2"
	start_node "$XZ_T/$1.cfg" "$1"
	wait_until 60 "[ \"\$(link_field $1 $2 .state)\" = up ] && [ \"\$(link_field $2 $1 .state)\" = up ]" ||
		fail "the link $1 -> $2 does not come up"
}

echo "-- a and b disagree"
TWO_NODES_START=0 two_nodes a b "$LINK" "$LINK" "" "" \
	'best_effort = [ "telemetry.>" ];' 'best_effort = [ "video.>", "telemetry.>" ];'
up a b
wait_until 60 '[ "$(link_field a b .best_effort.agree)" = no ] && [ "$(link_field b a .best_effort.agree)" = no ]' ||
	fail "the difference is not shown (a: $(link_field a b .best_effort.agree), b: $(link_field b a .best_effort.agree))"
pass "both statuses say the lists differ"
assert_eq "a's status: its own list" '["telemetry.>"]' "$(link_field a b '.best_effort.here | tojson')"
assert_eq "a's status: b's list" '["telemetry.>","video.>"]' "$(link_field a b '.best_effort.there | tojson')"
assert_eq "b's status: its own list" '["telemetry.>","video.>"]' "$(link_field b a '.best_effort.here | tojson')"
assert_eq "b's status: a's list" '["telemetry.>"]' "$(link_field b a '.best_effort.there | tojson')"
for n in a b; do
	wait_until 30 "grep -q 'disagree on bus.best_effort' '$XZ_T/$n.log'" || true
	assert_contains "$n warns naming both lists" \
		'["telemetry.>","video.>"]' "$(grep 'disagree on bus.best_effort' "$XZ_T/$n.log" || true)"
done
assert_contains "a's warning names its own list" 'here ["telemetry.>"]' "$(grep 'disagree on bus.best_effort' "$XZ_T/a.log" || true)"
assert_eq "the link stays up" up "$(link_field a b .state)"

echo "-- ... and events still cross"
( exec "$XZ_BIN" sub -c "$XZ_T/b.cfg" 't.x' -n 1 -t 60000 >"$XZ_T/x.out" 2>&1 ) &
SUB=$!
wait_until 60 "link_field a b '.interest | index(\"t.x\") != null' | grep -qx true" ||
	fail "b's subscription does not reach a"
on a pub t.x '{"n":1}' >/dev/null
wait "$SUB" || true
assert_contains "a -> b" '"n":1' "$(cat "$XZ_T/x.out")"
stop_node a
stop_node b

echo "-- c and d agree (the same topics, another order)"
TWO_NODES_START=0 two_nodes c d "$LINK" "$LINK" "" "" \
	'best_effort = [ "video.>", "telemetry.>" ];' 'best_effort = [ "telemetry.>", "video.>" ];'
up c d
wait_until 60 '[ "$(link_field c d .best_effort.agree)" = yes ] && [ "$(link_field d c .best_effort.agree)" = yes ]' ||
	fail "c and d are not shown to agree (c: $(link_field c d .best_effort.agree), d: $(link_field d c .best_effort.agree))"
pass "both statuses say the lists agree"
for n in c d; do
	assert_eq "$n does not warn" 0 "$(grep -c 'disagree on bus.best_effort' "$XZ_T/$n.log" || true)"
done
stop_node c
stop_node d
finish
