#!/usr/bin/env bash
# Durable subscriptions of Lua plugins, in the node and isolated (issue 13,
# part 3). One Lua plugin file runs twice on a node with
# bus.durable = ("dtest.>"): as `dtest` in the node and as `dtiso` with
# isolation = "process". Each takes every dtest.* event with
# xz.subscribe_durable, writes one row per message id in its own store
# (how many times it saw it, whether a delivery was flagged redelivered),
# and then:
#   mode "fail": raises an error (not acknowledged);
#   mode "hold": waits in xz.request for a reply that never comes (not
#                acknowledged while it waits);
#   otherwise (and on any redelivery): returns, which acknowledges it.
# Checked:
#   - the node's durable log keeps the failed and held events pending for
#     both consumers, the returned one for neither;
#   - kill -9 of dtiso's child: the restarted child gets the two
#     unacknowledged events again, flagged redelivered, and not the
#     acknowledged one; its init spins 700 ms after it subscribed, so the
#     log delivers them while the child is still starting (they wait in
#     the child's queue, they are not dropped);
#   - kill -9 of the node: after the restart dtest gets its two again,
#     flagged, dtiso nothing (it acknowledged them), and every pending
#     count comes back to 0;
#   - a script on a node without bus.durable still runs (a plain
#     subscription, msg.id given, nothing acknowledged).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/durable_lib.sh"
durable_setup # $XZ_T/dsub.lua and got.lua: durable_lib.sh

# Answers nothing: a request to it waits for its deadline.
cat >"$XZ_T/holder.lua" <<'EOF2'
return {
	name = "holder", version = "1.0",
	handlers = { ["dhold.wait"] = function() end },
}
EOF2

# No periodic redelivery (an hour): what comes again here comes from a
# restart, however slow the machine.
XZ_NODE_EXTRA='restart_backoff_ms = 100;' xz_config <<EOF2
bus = { durable = ( "dtest.>" ); durable_redeliver_ms = 3600000; };
plugins = (
  { name = "dtest"; kind = "lua"; path = "$XZ_T/dsub.lua"; },
  { name = "dtiso"; kind = "lua"; path = "$XZ_T/dsub.lua"; isolation = "process";
    options = { init_spin_ms = 700; };
    lua = { instruction_limit = 2000000000; time_limit_ms = 60000; }; },
  { name = "holder"; kind = "lua"; path = "$XZ_T/holder.lua"; }
);
EOF2

row() { got_row "$DATA/$1.db" "$2"; } # row NAME TAG: "n redelivered"
pending() { durable_field "$1" pending; }
subscribed() { durable_field "$1" subscribed; }
child_pid() {
	xz status | jq -r '.plugins[] | select(.name == "dtiso") | .isolation.pid'
}

start_node
wait_until 30 'test "$(subscribed dtest)" = true && test "$(subscribed dtiso)" = true' ||
	die "the Lua plugins are not durable consumers: $(xz status | jq -c .durable)"
pass "a Lua plugin, in the node and isolated, is a durable consumer"

check "publish ok1" xz pub dtest.a '{"tag":"ok1"}'
check "publish fail1" xz pub dtest.b '{"tag":"fail1","mode":"fail"}'
check "publish hold1" xz pub dtest.c '{"tag":"hold1","mode":"hold"}'
for c in dtest dtiso; do
	wait_until 30 "test \"\$(row $c hold1)\" = '1 0' && test \"\$(row $c fail1)\" = '1 0' && test \"\$(row $c ok1)\" = '1 0'" ||
		fail "$c did not take the three events once: ok1 '$(row $c ok1)' fail1 '$(row $c fail1)' hold1 '$(row $c hold1)'"
	wait_until 30 "test \"\$(pending $c)\" = 2" ||
		fail "$c: pending $(pending $c), expected 2 (the failed and the held event)"
done
pass "the returned event is acknowledged, the failed and the held one are not"

# ---- the isolated consumer's child dies ----
OLD=$(child_pid)
[ "$OLD" -gt 0 ] || die "no child pid for dtiso"
kill -KILL "$OLD"
wait_until 120 "test \"\$(row dtiso fail1)\" = '2 1' && test \"\$(row dtiso hold1)\" = '2 1'" ||
	fail "after its child's crash dtiso did not get fail1/hold1 again: '$(row dtiso fail1)' '$(row dtiso hold1)'"
NEW=$(child_pid)
[ "$NEW" != "$OLD" ] && pass "dtiso's child restarted (pid $OLD -> $NEW)" ||
	fail "dtiso's child pid did not change ($OLD)"
wait_until 30 'test "$(pending dtiso)" = 0' ||
	fail "dtiso still has $(pending dtiso) pending after the redelivery"
assert_eq "the restarted child did not get the acknowledged event" "1 0" "$(row dtiso ok1)"
# (the periodic redelivery is off: only a restart takes them again)
assert_eq "the node's consumer is untouched by the child's crash" 2 "$(pending dtest)"

# ---- the node dies ----
kill9_node
start_node
wait_until 60 "test \"\$(row dtest fail1)\" = '2 1' && test \"\$(row dtest hold1)\" = '2 1'" ||
	fail "after kill -9 dtest did not get fail1/hold1 again: '$(row dtest fail1)' '$(row dtest hold1)'"
wait_until 30 'test "$(pending dtest)" = 0 && test "$(pending dtiso)" = 0' ||
	fail "pending after the restart: dtest $(pending dtest), dtiso $(pending dtiso)"
assert_eq "dtest: the acknowledged event did not come again" "1 0" "$(row dtest ok1)"
for t in ok1 fail1 hold1; do
	want="2 1"
	[ "$t" = ok1 ] && want="1 0"
	assert_eq "dtiso: $t not delivered again after the node's restart" "$want" "$(row dtiso $t)"
done
assert_eq "the log is empty once everything is acknowledged" 0 \
	"$(xz status | jq -r .durable.events)"
stop_node

# ---- no bus.durable: a plain subscription ----
rm -rf "$DATA"
xz_config <<EOF2
plugins = ( { name = "dtest"; kind = "lua"; path = "$XZ_T/dsub.lua"; } );
EOF2
start_node
check "publish on a node without bus.durable" xz pub dtest.a '{"tag":"plain"}'
wait_until 30 "test \"\$(row dtest plain)\" = '1 0'" ||
	fail "without bus.durable the handler did not run once: '$(row dtest plain)'"
assert_eq "and status has no durable log" null "$(xz status | jq -c .durable)"
stop_node
finish
