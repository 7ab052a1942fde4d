#!/usr/bin/env bash
# t_nats_bridge.sh - two nodes bridged by the nats plugin through one real
# nats-server (loopback, a free port, JetStream in the temp dir): an event
# published on node A reaches a subscriber on node B, and never comes back
# to A; events flow B -> A too; nats-server is killed mid-run and started
# again: both bridges reconnect (counters show it), the nodes answer
# xz.sys.ping all along, and events flow again. SKIP without nats-server
# or without the plugin (built without libnats).
. "$(dirname "$0")/nats_lib.sh"

# B answers ask.echo, fails ask.fail, never answers ask.slow.
cat >"$XZ_T/responder.lua" <<'EOF'
xz.subscribe("ask.echo", function(d) return { echo = d.n, by = "b" } end)
xz.subscribe("ask.fail", function(d) error("refused on purpose") end)
xz.subscribe("ask.slow", function(d) end)
EOF

# node_cfg NAME ORIGIN [SCRIPTS]: a node with the collector and the
# bridge: exports site.alarm.> and site.visit.> under xiezhi.ORIGIN.,
# imports them from every site (xiezhi.*.), so a re-export would come
# straight back. A carries its requests on ask.> to NATS, B takes NATS
# requests on ask.> to its bus.
node_cfg() {
	xz_config "$XZ_T/$1.cfg" "$1" <<EOF
scripts = ( { name = "collect"; path = "$XZ_T/collect.lua"; } ${3:-} );
plugins = ( { name = "nats"; kind = "so"; options = {
    url = "nats://127.0.0.1:$NATS_PORT"; origin = "$2";
    export = "site.alarm.>, site.visit.>"; export_prefix = "xiezhi.$2.";
    import = "site.alarm.> site.visit.>"; import_prefix = "xiezhi.*.";
    reconnect_wait_ms = 50; reconnect_wait_max_ms = 500; ${4:-} }; } );
EOF
}
node_cfg a a "" 'request_export = "ask.>";'
node_cfg b b ", { name = \"responder\"; path = \"$XZ_T/responder.lua\"; }" \
	'request_import = "ask.>";'
check "check accepts the bridge" "$XZ_BIN" check -c "$XZ_T/a.cfg"
start_node "$XZ_T/a.cfg" a
start_node "$XZ_T/b.cfg" b
XA=(-c "$XZ_T/a.cfg")
XB=(-c "$XZ_T/b.cfg")
cnt() { # cnt CFG COUNTER
	"$XZ_BIN" status -c "$1" | jq -r --arg c "$2" \
		'(.plugins[] | select(.name == "nats") | .counters[$c]) // 0'
}
stats() { # stats CFG PREFIX FIELD
	"$XZ_BIN" call -c "$1" collect.stats "{\"prefix\":\"$2\"}" | jq -r ".$3"
}
is() { [ "$("${@:3}")" = "$2" ]; } # is _ WANT CMD...: CMD prints WANT
ge() { [ "$("${@:3}")" -ge "$2" ]; } # ge _ MIN CMD...: CMD prints >= MIN

wait_for 20 is _ 1 cnt "$XZ_T/a.cfg" connected || fail "node a connected to NATS"
wait_for 20 is _ 1 cnt "$XZ_T/b.cfg" connected || fail "node b connected to NATS"
assert_eq "a: connected" 1 "$(cnt "$XZ_T/a.cfg" connected)"
assert_eq "b: connected" 1 "$(cnt "$XZ_T/b.cfg" connected)"

# The import subscriptions are made on the first tick after connecting:
# publish probes until one arrives, then count from a clean prefix.
i=0
until [ "$(stats "$XZ_T/b.cfg" site.alarm.probe total)" -gt 0 ]; do
	i=$((i + 1))
	[ "$i" -le 200 ] || die "no probe from a reached b in 20 s"
	"$XZ_BIN" pub "${XA[@]}" site.alarm.probe "{\"n\":$i}" >/dev/null
	sleep 0.1
done
pass "a probe from a reached b"

# ---- A -> B, not back to A ----
for n in $(seq 1 100); do
	echo "{\"n\":$n,\"level\":\"high\"}"
done | "$XZ_BIN" pub "${XA[@]}" site.alarm.raised - >/dev/null
wait_for 30 is _ 100 stats "$XZ_T/b.cfg" site.alarm.raised distinct ||
	fail "100 alarms from a reach b"
assert_eq "b got each of a's 100 alarms" 100 "$(stats "$XZ_T/b.cfg" site.alarm.raised distinct)"
assert_eq "b got none twice" 0 "$(stats "$XZ_T/b.cfg" site.alarm.raised dups)"
assert_eq "a's own subscriber saw each alarm once (none came back)" \
	"100 0" "$(stats "$XZ_T/a.cfg" site.alarm.raised total) $(stats "$XZ_T/a.cfg" site.alarm.raised dups)"
assert_eq "a imported nothing of its own" 0 "$(cnt "$XZ_T/a.cfg" imported)"
assert_eq "b exported nothing (imported events are never exported)" 0 "$(cnt "$XZ_T/b.cfg" exported)"
ge _ 100 cnt "$XZ_T/b.cfg" echo_dropped && pass "b's export side dropped the imported events (echo_dropped)" ||
	fail "b echo_dropped >= 100: $(cnt "$XZ_T/b.cfg" echo_dropped)"

# ---- B -> A ----
"$XZ_BIN" pub "${XB[@]}" site.visit.booked '{"n":1,"visitor":"v-1"}' >/dev/null
wait_for 20 is _ 1 stats "$XZ_T/a.cfg" site.visit.booked total || true
assert_eq "a got b's event" 1 "$(stats "$XZ_T/a.cfg" site.visit.booked total)"

# ---- requests A -> NATS -> B -> reply ----
check "a request on a answered by b's responder" "$XZ_BIN" call "${XA[@]}" ask.echo '{"n":7}' -t 5000
assert_eq "the reply crossed back" '{"by":"b","echo":7}' "$(echo "$OUT" | jq -cS .)"
assert_exit "an error reply crosses as an error" 1 "$XZ_BIN" call "${XA[@]}" ask.fail '{}' -t 5000
assert_eq "with its code" internal "$(echo "$OUT" | jq -r .error.code)"
assert_contains "and its message" "refused on purpose" "$(echo "$OUT" | jq -r .error.message)"
assert_exit "no responder on b: no_responders" 3 "$XZ_BIN" call "${XA[@]}" ask.nobody '{}' -t 5000
assert_eq "code" no_responders "$(echo "$OUT" | jq -r .error.code)"
assert_exit "b never answers: the caller's deadline holds" 3 "$XZ_BIN" call "${XA[@]}" ask.slow '{}' -t 500
assert_eq "code" timeout "$(echo "$OUT" | jq -r .error.code)"
assert_eq "a: requests_exported" 4 "$(cnt "$XZ_T/a.cfg" requests_exported)"
assert_eq "b: requests_imported (the one without responder refused)" \
	"3 1" "$(cnt "$XZ_T/b.cfg" requests_imported) $(cnt "$XZ_T/b.cfg" request_errors)"

# ---- nats-server dies mid-run and comes back ----
pings_ok() { # both nodes answer ping within 1 s
	"$XZ_BIN" call "${XA[@]}" xz.sys.ping '{}' -t 1000 >/dev/null &&
		"$XZ_BIN" call "${XB[@]}" xz.sys.ping '{}' -t 1000 >/dev/null
}
rec_a=$(cnt "$XZ_T/a.cfg" reconnects)
kill -KILL "$NATS_PID"
wait "$NATS_PID" 2>/dev/null || true
wait_for 20 is _ 0 cnt "$XZ_T/a.cfg" connected || fail "a sees the server gone"
assert_eq "a: connected 0 while the server is down" 0 "$(cnt "$XZ_T/a.cfg" connected)"
bad=0
for i in $(seq 1 10); do pings_ok || bad=$((bad + 1)); done
assert_eq "both nodes answer xz.sys.ping while NATS is down (10 rounds)" 0 "$bad"
# An event published meanwhile is at most buffered (core NATS); never
# blocks the node.
check "a publishes while NATS is down" "$XZ_BIN" pub "${XA[@]}" site.alarm.during '{"n":1}'
nats_start
wait_for 30 is _ 1 cnt "$XZ_T/a.cfg" connected || fail "a reconnects"
wait_for 30 is _ 1 cnt "$XZ_T/b.cfg" connected || fail "b reconnects"
assert_eq "a: connected again" 1 "$(cnt "$XZ_T/a.cfg" connected)"
assert_le "a: reconnects counted" $((rec_a + 1)) "$(cnt "$XZ_T/a.cfg" reconnects)"
ge _ 1 cnt "$XZ_T/a.cfg" disconnects && pass "a: disconnects counted" || fail "a: disconnects 0"
check "pings after the restart" pings_ok
wait_for 20 "$XZ_BIN" call "${XA[@]}" ask.echo '{"n":8}' -t 1000 || true
check "requests cross again after the reconnect" "$XZ_BIN" call "${XA[@]}" ask.echo '{"n":8}' -t 5000
i=0
until [ "$(stats "$XZ_T/b.cfg" site.alarm.after total)" -gt 0 ]; do
	i=$((i + 1))
	[ "$i" -le 200 ] || break
	"$XZ_BIN" pub "${XA[@]}" site.alarm.after "{\"n\":$i}" >/dev/null
	sleep 0.1
done
ge _ 1 stats "$XZ_T/b.cfg" site.alarm.after total && pass "events flow a -> b after the reconnect" ||
	fail "no event reached b after the reconnect"

stop_node b
assert_exit "b gone: a's request gets no_responders from NATS" 3 \
	"$XZ_BIN" call "${XA[@]}" ask.echo '{"n":9}' -t 5000
assert_eq "code" no_responders "$(echo "$OUT" | jq -r .error.code)"
stop_node a
finish
