#!/usr/bin/env bash
# t_nats_cluster.sh - two xiezhi nodes linked through a three-server NATS
# cluster on loopback ports (JetStream clustered, the stream with three
# replicas): 100,000 alarm events published on node A reach node B with 0
# lost and none twice at B's subscriber, while one NATS server is killed
# and restarted mid-stream. SKIP without nats-server or the plugin.
# XZ_NATS_CLUSTER_EVENTS changes the count (for a quick run by hand; a
# sanitizer build sends 20,000).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup

NATS_SERVER=${XZ_NATS_SERVER:-$(PATH="$PATH:/usr/sbin:/usr/local/sbin" command -v nats-server || true)}
[ -n "$NATS_SERVER" ] && [ -x "$NATS_SERVER" ] || skip_test "nats-server not installed (Debian package nats-server)"
[ -f "$XZ_PLUGIN_DIR/nats.so" ] || skip_test "the nats plugin was not built (libnats-dev missing)"
# A sanitizer build runs several times slower: 20,000 there, so the test
# stays within ctest's timeout.
if sanitized; then
	N=${XZ_NATS_CLUSTER_EVENTS:-20000}
else
	N=${XZ_NATS_CLUSTER_EVENTS:-100000}
fi
echo "  $N events"

# port_used P: some local TCP socket has port P (/proc/net/tcp*).
port_used() {
	awk -v h="$(printf ':%04X' "$1")" '$2 ~ h"$" { f = 1 } END { exit !f }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null
}
# connected_to PID P: process PID has an established TCP connection to
# port P.
connected_to() {
	local inodes
	inodes=$(find "/proc/$1/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null |
		tr -dc '0-9\n')
	awk -v h="$(printf ':%04X' "$2")" '$3 ~ h"$" && $4 == "01" { print $10 }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -qxF -f <(echo "$inodes")
}
# Six ports nobody uses now (three clients, three routes).
free_ports() {
	local want=$1 p got=()
	while [ "${#got[@]}" -lt "$want" ]; do
		p=$((20000 + RANDOM % 30000))
		if ! port_used "$p" &&
			! printf '%s\n' "${got[@]+"${got[@]}"}" | grep -qx "$p"; then
			got+=("$p")
		fi
	done
	echo "${got[@]}"
}
read -r P1 P2 P3 C1 C2 C3 <<<"$(free_ports 6)"
PORTS=("" "$P1" "$P2" "$P3")
CPORTS=("" "$C1" "$C2" "$C3")
ROUTES="nats://127.0.0.1:$C1,nats://127.0.0.1:$C2,nats://127.0.0.1:$C3"
NPID=("" "" "" "")
# server_start I: start (or restart) cluster member I; wait until it
# listens for clients.
server_start() {
	local i=$1 log="$XZ_T/nats-$1.log" k
	: >"$log"
	"$NATS_SERVER" -a 127.0.0.1 -p "${PORTS[$i]}" -js -sd "$XZ_T/js-$i" \
		--server_name "s$i" --cluster_name xz \
		--cluster "nats://127.0.0.1:${CPORTS[$i]}" --routes "$ROUTES" >>"$log" 2>&1 &
	NPID[$i]=$!
	for k in $(seq 1 300); do
		grep -q "Listening for client connections" "$log" && return 0
		kill -0 "${NPID[$i]}" 2>/dev/null || die "nats-server s$i exited: $(tail -5 "$log")"
		sleep 0.1
	done
	die "nats-server s$i does not listen after 30 s"
}
server_start 1
server_start 2
server_start 3
leader() { grep -qi "metadata leader" "$XZ_T"/nats-*.log; }
wait_for 60 leader || die "the JetStream cluster elects no metadata leader in 60 s"
pass "three NATS servers in a JetStream cluster (ports $P1 $P2 $P3)"

# B's collector: events by number n, duplicates counted.
cat >"$XZ_T/collect.lua" <<'EOF'
local seen, distinct, dups = {}, 0, 0
xz.subscribe("site.alarm.raised", function(d)
	-- the probe (n = 0) is sent again until one arrives: its repeats are
	-- not duplicates; every alarm (n > 0) is published once
	if seen[d.n] then
		if d.n ~= 0 then dups = dups + 1 end
	else seen[d.n] = true; distinct = distinct + 1 end
end)
xz.subscribe("collect.stats", function() return { distinct = distinct, dups = dups } end)
EOF
URLS="nats://127.0.0.1:$P1,nats://127.0.0.1:$P2,nats://127.0.0.1:$P3"
node_cfg() {
	xz_config "$XZ_T/$1.cfg" "$1" <<EOF
scripts = ( $3 );
plugins = ( { name = "nats"; kind = "so"; options = {
    url = "$URLS"; origin = "$1"; stream = "XZCLUSTER"; stream_replicas = 3;
    reconnect_wait_ms = 50; reconnect_wait_max_ms = 1000;
    outbox_max = 1000000; $2 }; } );
EOF
}
node_cfg a 'durable_export = "site.alarm.>"; export_prefix = "xiezhi.a.";' ''
node_cfg b 'durable_import = "site.alarm.>"; import_prefix = "xiezhi.*.";' \
	"{ name = \"collect\"; path = \"$XZ_T/collect.lua\"; }"
A=$XZ_T/a.cfg
B=$XZ_T/b.cfg
start_node "$A" a
start_node "$B" b
cnt() { # cnt CFG COUNTER
	"$XZ_BIN" status -c "$1" | jq -r --arg c "$2" \
		'(.plugins[] | select(.name == "nats") | .counters[$c]) // 0'
}
stat() { "$XZ_BIN" call -c "$B" collect.stats '{}' | jq -r ".$1"; }
is() { [ "$("${@:3}")" = "$2" ]; }

# Probe (n = 0) until B's consumer delivers.
i=0
until [ "$(stat distinct)" -gt 0 ]; do
	i=$((i + 1))
	[ "$i" -le 150 ] || die "no probe reached b through the cluster in 30 s"
	"$XZ_BIN" pub -c "$A" site.alarm.raised '{"n":0}' >/dev/null
	sleep 0.2
done
pass "a probe from a reached b through the cluster"

# N events in the background; once a third went through, kill the server
# node A is connected to (A must reconnect to another) and start it again.
# Ten publishers one after the other (each confirms its part).
step=$(((N + 9) / 10))
(
	for c in $(seq 0 9); do
		from=$((c * step + 1)) to=$(((c + 1) * step))
		[ "$to" -le "$N" ] || to=$N
		[ "$from" -le "$to" ] || break
		seq "$from" "$to" | sed 's/.*/{"n":&,"area":"A3","level":"high"}/' |
			"$XZ_BIN" pub -c "$A" site.alarm.raised - || exit 1
	done
) >"$XZ_T/pub.out" 2>&1 &
PUB=$!
third=$((N / 3))
wait_for 120 sh -c "[ \$($XZ_BIN call -c $B collect.stats '{}' | jq .distinct) -gt $third ]" ||
	fail "a third of the events reached b"
victim=2
apid=$(node_pid a)
for k in 1 2 3; do
	if connected_to "$apid" "${PORTS[$k]}"; then
		victim=$k
	fi
done
rec0=$(cnt "$A" reconnects)
kill -KILL "${NPID[$victim]}"
wait "${NPID[$victim]}" 2>/dev/null || true
pass "server s$victim (a's) killed after $(stat distinct) events reached b"
check "a answers ping with s$victim down" "$XZ_BIN" call -c "$A" xz.sys.ping '{}' -t 2000
check "b answers ping with s$victim down" "$XZ_BIN" call -c "$B" xz.sys.ping '{}' -t 2000
server_start "$victim"
pass "server s$victim started again"
wait "$PUB" || fail "the publisher failed: $(cat "$XZ_T/pub.out")"
want=$((N + 1))
wait_for 300 is _ "$want" stat distinct || true
assert_eq "b got every event (the probe and $N alarms): 0 lost" "$want" "$(stat distinct)"
assert_eq "b's subscriber got none twice" 0 "$(stat dups)"
wait_for 60 is _ 0 cnt "$A" outbox || true
assert_eq "a's outbox is empty" 0 "$(cnt "$A" outbox)"
assert_eq "a refused nothing" 0 "$(cnt "$A" outbox_refused)"
assert_le "a reconnected to another server" $((rec0 + 1)) "$(cnt "$A" reconnects)"
echo "  a: $("$XZ_BIN" status -c "$A" | jq -c '.plugins[] | select(.name == "nats") | .counters | {reconnects, js_published, js_errors}')"
echo "  b: $("$XZ_BIN" status -c "$B" | jq -c '.plugins[] | select(.name == "nats") | .counters | {reconnects, imported, js_acked, js_redelivered, dup_dropped}')"
stop_node a
stop_node b
finish
