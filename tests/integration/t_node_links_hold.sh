#!/usr/bin/env bash
# t_node_links_hold.sh - business events queued for a link that drops are
# kept and sent after it comes back (docs/multi-node.md, "Failure";
# docs/architecture.md, "Links between nodes"):
#  - node a dials node b; a subscriber on a wants t.keep.>, so b sends it
#    what b's publishers publish there;
#  - a stops (SIGSTOP) until b takes the link down (nothing heard for 5 s);
#    b's publishers keep publishing without waiting: events of a business
#    topic are kept for a, up to the link's queue (bus.mailbox_capacity,
#    16 here), the rest counted (held_overflow); best-effort events are
#    dropped and counted (dropped_down);
#  - a resumes: the link comes back and the subscriber on a gets the kept
#    events, in order, and none of the dropped ones.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
command -v jq >/dev/null || skip_test "jq is not installed"

two_nodes a b 'import = [ "t.>" ]; export = [ "t.>" ];' 'import = [ "t.>" ]; export = [ "t.>" ];' \
	"" "" "" 'mailbox_capacity = 16; best_effort = [ "t.keep.video.>" ];'

xz_bg sub 't.keep.>' -c "$XZ_T/a.cfg" -n 18 -t 300000 >"$XZ_T/sub.out" 2>"$XZ_T/sub.err" &
SUB=$!
wait_until 20 "link_field b a '.interest | index(\"t.keep.>\") != null' | grep -qx true" ||
	fail "a's subscription does not reach b"
on b pub t.keep.x '{"i":0}' >/dev/null
on b pub t.keep.x '{"i":1}' >/dev/null
wait_until 20 "[ \$(grep -c '\"i\"' '$XZ_T/sub.out' || true) -ge 2 ]" || fail "the link does not carry t.keep"
wait_until 20 '[ "$(link_field b a .business.unacked)" = 0 ]' || fail "a does not acknowledge the first two"

echo "-- a stops answering; b takes the link down"
APID=$(node_pid a)
trap 'kill -CONT "$APID" 2>/dev/null || true; _xz_cleanup' EXIT
kill -STOP "$APID"
wait_until 20 '[ "$(link_field b a .state)" != up ]' || fail "b does not notice a went silent"
assert_eq "b keeps a's interest while the link is down" true \
	"$(link_field b a '.interest | index("t.keep.>") != null')"
echo "-- b publishes 20 business events and 3 best-effort ones for a"
for i in $(seq 2 21); do on b pub t.keep.x "{\"i\":$i}" >/dev/null; done
for i in 1 2 3; do on b pub t.keep.video.frame "{\"f\":$i}" >/dev/null; done
assert_eq "16 kept for a (the link's queue)" 16 "$(link_field b a .queued)"
assert_eq "the 4 beyond the bound counted" 4 "$(link_field b a .held_overflow)"
assert_le "best-effort and overflow counted as dropped" 7 "$(link_field b a .dropped_down)"
check "b answers meanwhile" on b call xz.sys.ping '{}' -t 2000

echo "-- a resumes: the link comes back with what was kept"
kill -CONT "$APID"
wait_until 30 '[ "$(link_field b a .state)" = up ]' || fail "the link does not come back"
wait "$SUB" || true
got=$(jq -r '.i // empty' "$XZ_T/sub.out" 2>/dev/null | tr '\n' ' ')
[ -n "$got" ] || got=$(grep -o '"i":[0-9]*' "$XZ_T/sub.out" | cut -d: -f2 | tr '\n' ' ')
assert_eq "the subscriber on a got the kept events in order" "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 " "$got"
assert_eq "no best-effort event kept" 0 "$(grep -c '"f"' "$XZ_T/sub.out" || true)"
assert_eq "b's queue for a is empty" 0 "$(link_field b a .queued)"
assert_le "b counts what it kept" 16 "$(link_field b a .held_down)"
for n in a b; do stop_node "$n"; done
finish
