#!/usr/bin/env bash
# t_durable_isolated_c.sh - an isolated C plugin's durable subscription
# (issue 13, part 3): the child's SUBD and ACK frames are the same as an
# isolated Lua plugin's. The test plugin tests/plugins/t_dsub runs as
# `csub` with isolation = "process" on a node with bus.durable =
# ("dtest.>"): it takes dtest.> durably, stores one row per message id and
# acknowledges it after that commit, and aborts once, on the first event
# whose payload says "crash": true, before storing it. A stream of events
# is published (one of them the crash) while the child dies and restarts.
# Checked:
#   - every event the publisher got acknowledged is in csub's store once
#     it restarted, one row per message id (one per event: nothing seen
#     twice under two ids);
#   - the event it crashed on came again, flagged redelivered;
#   - the child was restarted (restarts in status, a new pid);
#   - nothing stays pending and the log is empty.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/durable_lib.sh"
[ -f "$XZ_PLUGIN_DIR/t_dsub.so" ] || skip_test "t_dsub.so is not built"
durable_setup
N=200
CRASH=60

XZ_NODE_EXTRA='restart_backoff_ms = 100;' xz_config <<EOF2
bus = { durable = ( "dtest.>" ); };
plugins = (
  { name = "csub"; kind = "so"; path = "t_dsub.so"; isolation = "process";
    options = { crash_once = true; }; }
);
EOF2

q() { sqlite3 -cmd ".timeout 5000" "$DATA/csub.db" "$1" 2>/dev/null || true; }
cons() { # cons FIELD: csub's entry in status .durable.consumers
	xz status | jq -r --arg f "$1" '.durable.consumers[] | select(.name == "csub") | .[$f]'
}
iso() { xz status | jq -r ".plugins[] | select(.name == \"csub\") | .isolation$1"; }

start_node
wait_until 60 'test "$(cons subscribed)" = true' ||
	die "the isolated C plugin is not a durable consumer: $(xz status | jq -c .durable)"
pass "the isolated C plugin is a durable consumer"
OLD=$(iso .pid)

for i in $(seq 1 "$N"); do
	if [ "$i" = "$CRASH" ]; then
		echo "{\"seq\":$i,\"crash\":true}"
	else
		echo "{\"seq\":$i}"
	fi
done >"$XZ_T/events"
check "every event of the stream is acknowledged by the node" \
	xz pub dtest.e - <"$XZ_T/events"

wait_until 60 'test "$(q "SELECT count(*) FROM crashed")" = 1' ||
	fail "csub did not crash on event $CRASH"
wait_until 120 "test \"\$(q 'SELECT count(*) FROM got')\" = $N && test \"\$(cons pending)\" = 0" ||
	fail "after its restart csub has $(q 'SELECT count(*) FROM got') of $N events, $(cons pending) pending"
assert_eq "one row per event: each seq under one message id" "$N|$N|1|$N" \
	"$(q "SELECT count(*), count(DISTINCT json_extract(body, '\$.seq')), min(json_extract(body, '\$.seq')), max(json_extract(body, '\$.seq')) FROM got")"
assert_eq "the event it crashed on came again, flagged redelivered" 1 \
	"$(q "SELECT redelivered FROM got WHERE json_extract(body, '\$.seq') = $CRASH")"
echo "  .. events delivered again after the crash: $(q 'SELECT count(*) FROM got WHERE redelivered = 1'), seen twice: $(q 'SELECT count(*) FROM got WHERE n > 1')"
assert_le "status counts the child's restart" 1 "$(iso .restarts)"
NEW=$(iso .pid)
[ -n "$NEW" ] && [ "$NEW" != "$OLD" ] && pass "the child was replaced (pid $OLD -> $NEW)" ||
	fail "the child's pid did not change ($OLD -> $NEW)"
wait_until 30 'test "$(xz status | jq -r .durable.events)" = 0' ||
	fail "the log still holds $(xz status | jq -r .durable.events) event(s)"
pass "the log is empty once every event is acknowledged"
stop_node
finish
