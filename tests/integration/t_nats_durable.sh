#!/usr/bin/env bash
# t_nats_durable.sh - JetStream through the nats plugin, two nodes and one
# real nats-server (loopback, a free port, JetStream in the temp dir):
#   - events of a durable topic published on A while B is stopped reach B
#     after B restarts, each exactly once at B's subscriber;
#   - while nats-server is down, A keeps durable events in its outbox
#     (bounded: over outbox_max they are refused and counted), answers
#     xz.sys.ping, and sends them once the server is back;
#   - a resend of the same events after the stream's duplicate window
#     (A's store restored from a copy) is dropped by B's de-duplication:
#     B's subscriber still sees each event once (dup_dropped counts them).
# SKIP without nats-server or without the plugin.
. "$(dirname "$0")/nats_lib.sh"

# node_cfg NAME ORIGIN OPTIONS: a node with the collector and the bridge.
node_cfg() {
	xz_config "$XZ_T/$1.cfg" "$1" <<EOF
scripts = ( { name = "collect"; path = "$XZ_T/collect.lua"; } );
plugins = ( { name = "nats"; kind = "so"; options = {
    url = "nats://127.0.0.1:$NATS_PORT"; origin = "$2";
    stream = "XZTEST"; dedup_window_s = 1; ack_wait_ms = 1000;
    reconnect_wait_ms = 50; reconnect_wait_max_ms = 500; $3 }; } );
EOF
}
node_cfg a a 'durable_export = "site.visit.>"; export_prefix = "xiezhi.a."; outbox_max = 25;'
# outbox_max 25: more than the 20 sent at once while connected, fewer than
# the 30 sent while NATS is down.
node_cfg b b 'durable_import = "site.visit.>"; import_prefix = "xiezhi.*.";'
A=$XZ_T/a.cfg
B=$XZ_T/b.cfg
cnt() { # cnt CFG COUNTER
	"$XZ_BIN" status -c "$1" | jq -r --arg c "$2" \
		'(.plugins[] | select(.name == "nats") | .counters[$c]) // 0'
}
stats() { # stats CFG PREFIX FIELD
	"$XZ_BIN" call -c "$1" collect.stats "{\"prefix\":\"$2\"}" | jq -r ".$3"
}
is() { [ "$("${@:3}")" = "$2" ]; } # is _ WANT CMD...: CMD prints WANT
ge() { [ "$("${@:3}")" -ge "$2" ]; } # ge _ MIN CMD...: CMD prints >= MIN
pub_n() { # pub_n CFG TOPIC FROM TO: events {"n":FROM}..{"n":TO}
	seq "$3" "$4" | sed 's/.*/{"n":&}/' | "$XZ_BIN" pub -c "$1" "$2" - >/dev/null
}

start_node "$A" a
start_node "$B" b
# B's durable consumer exists once a probe went through.
i=0
until [ "$(stats "$B" site.visit.probe total)" -gt 0 ]; do
	i=$((i + 1))
	[ "$i" -le 100 ] || die "no durable probe reached b in 20 s"
	"$XZ_BIN" pub -c "$A" site.visit.probe "{\"n\":$i}" >/dev/null
	sleep 0.2
done
pass "a durable probe from a reached b"
assert_contains "the stream was created with file storage" "file storage" "$(cat "$XZ_T/a.log" "$XZ_T/b.log")"

# ---- B down: the stream keeps A's events ----
stop_node b
pub_n "$A" site.visit.booked 1 20
wait_for 30 is _ 0 cnt "$A" outbox || fail "a's outbox empties"
assert_eq "a's outbox is empty (the stream acknowledged every event)" 0 "$(cnt "$A" outbox)"
ge _ 20 cnt "$A" js_published && pass "a: js_published counts them" || fail "a: js_published $(cnt "$A" js_published)"
start_node "$B" b
wait_for 30 is _ 20 stats "$B" site.visit.booked distinct || fail "b gets the 20 events after its restart"
assert_eq "b: each of the 20 events published while it was down" 20 "$(stats "$B" site.visit.booked distinct)"
assert_eq "b: none twice" 0 "$(stats "$B" site.visit.booked dups)"
ge _ 20 cnt "$B" js_acked && pass "b: js_acked counts them" || fail "b: js_acked $(cnt "$B" js_acked)"

# ---- NATS down: A's outbox keeps them, bounded ----
kill -KILL "$NATS_PID"
wait "$NATS_PID" 2>/dev/null || true
wait_for 20 is _ 0 cnt "$A" connected || fail "a sees the server gone"
pub_n "$A" site.visit.queued 1 30 # 5 over outbox_max
wait_for 20 is _ 25 cnt "$A" outbox || true
assert_eq "a keeps 25 events (outbox_max) while NATS is down" 25 "$(cnt "$A" outbox)"
assert_eq "a refuses and counts the 5 beyond" 5 "$(cnt "$A" outbox_refused)"
check "a answers ping while NATS is down" "$XZ_BIN" call -c "$A" xz.sys.ping '{}' -t 1000
check "b answers ping while NATS is down" "$XZ_BIN" call -c "$B" xz.sys.ping '{}' -t 1000
# A stops with its outbox full: the store keeps it across the restart.
stop_node a
# A backup of a's whole data folder (stores with their MANIFEST: a single
# store put back alone is refused as rolled back).
cp -a "$XZ_T/a/data" "$XZ_T/copy"
nats_start
start_node "$A" a
wait_for 30 is _ 25 stats "$B" site.visit.queued distinct || fail "b gets the 25 queued events"
assert_eq "b: the 25 events kept in a's outbox across a's restart" 25 "$(stats "$B" site.visit.queued distinct)"
assert_eq "b: none twice" 0 "$(stats "$B" site.visit.queued dups)"
wait_for 30 is _ 0 cnt "$A" outbox || fail "a's outbox empties after the restart"

# ---- the same events again, after the stream's duplicate window ----
stop_node a
rm -rf "$XZ_T/a/data"
cp -a "$XZ_T/copy" "$XZ_T/a/data"
# The stream itself drops a copy within its window (1 s here): wait
# until the window has passed for the first sends, so the copies reach B.
t_end=$(($(date +%s) + 2))
until [ "$(date +%s)" -gt "$t_end" ]; do sleep 0.1; done
dup0=$(cnt "$B" dup_dropped)
start_node "$A" a
wait_for 30 is _ 0 cnt "$A" outbox || fail "a resends its restored outbox"
wait_for 30 ge _ $((dup0 + 25)) cnt "$B" dup_dropped || true
assert_eq "b drops the 25 copies by message id" $((dup0 + 25)) "$(cnt "$B" dup_dropped)"
assert_eq "b's subscriber still saw each queued event once" "25 0" \
	"$(stats "$B" site.visit.queued total) $(stats "$B" site.visit.queued dups)"

stop_node a
stop_node b
finish
