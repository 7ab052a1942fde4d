#!/usr/bin/env bash
# rss.sh [BUILD_DIR]: what the gateway costs in memory (docs/http.md,
# "Measuring"). Starts a node with the prison plugin twice, in a temporary
# folder, without and with the gateway, reads each one's VmRSS once it has
# settled, then opens 200 idle WebSocket clients on the second
# (bench-http rss). Prints one JSON line per step. BUILD_DIR: ./build-rel
# (a Release build) by default.
set -euo pipefail
B=$(cd "${1:-./build-rel}" && pwd)
[ -x "$B/xiezhi" ] && [ -x "$B/bench-http" ] && [ -f "$B/plugins/gateway.so" ] ||
	{ echo "rss.sh: build $B first (xiezhi, bench-http, the gateway and prison plugins)" >&2; exit 2; }
T=$(mktemp -d /tmp/xz-gw-rss.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
PORT=$((20000 + $$ % 20000))
unset XZ_GATEWAY_PORT

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
settled() { # the node's VmRSS once it has not grown for 2 s
	local last now i
	last=$(rss "$1")
	for i in $(seq 1 30); do
		sleep 2
		now=$(rss "$1")
		[ "$now" -le "$last" ] && break
		last=$now
	done
	echo "$now"
}
run() { # NAME GATEWAY(0|1): start a node, wait for its demo users
	local n=$1 gw=$2 entry=""
	[ "$gw" = 1 ] && entry=", { name = \"gateway\"; kind = \"so\"; impersonate = true; options = { port = $PORT; }; }"
	mkdir -p "$T/$n"
	cat >"$T/$n/x.cfg" <<EOC
node = { name = "$n"; control = "ipc://$T/$n/ctl.sock"; data_dir = "$T/$n/data"; plugin_path = [ "$B/plugins" ]; log_level = "warn"; };
plugins = ( { name = "prison"; kind = "so"; } $entry );
auth = { demo_users = true; argon2_ops = 1; argon2_mem_kib = 8192; };
EOC
	"$B/xiezhi" run -c "$T/$n/x.cfg" >"$T/$n/log" 2>&1 &
	PID=$!
	for _ in $(seq 1 240); do
		grep -q '^duty1' "$T/$n/data/demo-passwords.txt" 2>/dev/null && return 0
		sleep 0.5
	done
	echo "rss.sh: node $n made no demo users: $(tail -3 "$T/$n/log")" >&2
	exit 1
}

run without 0
a=$(settled "$PID")
kill "$PID"
wait "$PID" 2>/dev/null || true
run with 1
b=$(settled "$PID")
echo "{\"bench\":\"gateway_idle_rss\",\"rss_without_kib\":$a,\"rss_with_kib\":$b,\"gateway_kib\":$((b - a))}"
PW=$(awk -F'\t' '$1 == "duty1" { print $2 }' "$T/with/data/demo-passwords.txt")
"$B/bench-http" rss -u "127.0.0.1:$PORT" -U duty1 -P "$PW" -x "$PID" -c 200 -p 'prison.>'
