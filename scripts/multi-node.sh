#!/usr/bin/env bash
# multi-node.sh - the multi-node example on one machine (docs/multi-node.md):
# the provincial bureau, a prison, a rehab centre, a legal-aid centre and a
# county procuratorate, each its own node with its own data folder, linked
# through the bureau.
#
#   scripts/multi-node.sh start     make the node CA and the five node
#                                   certificates with `xiezhi identity` (first
#                                   time), check and start the five nodes,
#                                   wait until every link is up
#   scripts/multi-node.sh status    each node's links: state, retries, traffic
#   scripts/multi-node.sh stop      stop the five nodes
#
# Run from the repository root after building (./build/xiezhi). The configs
# are config/multi-node/*.cfg; data, the CA (pki/) and the certificates
# (certs/) go to var/multi-node/, the sockets to /tmp/xiezhi-mn/; the bureau
# listens on tls+tcp://127.0.0.1:17440. With --dir DIR (tests), a copy of
# the configs runs with everything under DIR instead, and with --port N the
# bureau listens on port N (with --dir).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
XZ_BIN=${XZ_BIN:-$ROOT/build/xiezhi}
NODES="bureau prison rehab legal procuratorate"
CFG_DIR=$ROOT/config/multi-node
VAR=$ROOT/var/multi-node
RUN=/tmp/xiezhi-mn

usage() {
	echo "usage: scripts/multi-node.sh start|stop|status [--dir DIR] [--port N]" >&2
	exit 2
}

cmd=${1:-}
shift || true
while [ $# -gt 0 ]; do
	case "$1" in
	--dir)
		[ $# -ge 2 ] || usage
		DIR=$(mkdir -p "$2" && cd "$2" && pwd)
		shift 2
		;;
	--port)
		[ $# -ge 2 ] || usage
		PORT=$2
		shift 2
		;;
	*) usage ;;
	esac
done
PORT=${PORT:-17440}

# With --dir: the configs, rewritten to keep data, tokens and sockets
# under DIR (and to find the repository's plugins).
if [ -n "${DIR:-}" ]; then
	VAR=$DIR/var
	RUN=$DIR/run
	mkdir -p "$DIR/config"
	for n in $NODES; do
		sed -e "s#ipc:///tmp/xiezhi-mn/#ipc://$RUN/#g" \
			-e "s#\.\./\.\./var/multi-node/#$VAR/#g" \
			-e "s#\.\./\.\./plugins/#$ROOT/plugins/#g" \
			-e "s#127\.0\.0\.1:17440#127.0.0.1:$PORT#g" \
			"$ROOT/config/multi-node/$n.cfg" >"$DIR/config/$n.cfg"
	done
	CFG_DIR=$DIR/config
fi

cfg() { echo "$CFG_DIR/$1.cfg"; }
pidfile() { echo "$VAR/$1.pid"; }
running() {
	local p
	p=$(cat "$(pidfile "$1")" 2>/dev/null) || return 1
	kill -0 "$p" 2>/dev/null
}

# The example's node CA and one certificate per node (CN = node name), by
# `xiezhi identity`: each node dials the bureau with its own and the bureau
# serves its door with its own (kind node: serves and dials).
make_pki() {
	local n
	if [ ! -s "$VAR/pki/ca.pem" ]; then
		"$XZ_BIN" identity ca init --pki "$VAR/pki" --cn multi-node-ca >/dev/null
	fi
	for n in $NODES; do
		[ -s "$VAR/certs/$n.pem" ] && continue
		"$XZ_BIN" identity cert issue --pki "$VAR/pki" --cn "$n" --kind node \
			--dns localhost --out "$VAR/certs" >/dev/null
	done
}

links_up() {
	local n=$1
	"$XZ_BIN" status -c "$(cfg "$n")" 2>/dev/null |
		jq -e '[.node_links[] | select(.dials == "out" and .state != "up")] | length == 0' >/dev/null 2>&1
}

start() {
	[ -x "$XZ_BIN" ] || { echo "no $XZ_BIN: build first (cmake --build build)" >&2; exit 1; }
	command -v jq >/dev/null || { echo "multi-node.sh needs jq" >&2; exit 1; }
	mkdir -p "$VAR" "$RUN"
	make_pki
	for n in $NODES; do
		mkdir -p "$VAR/$n"
		"$XZ_BIN" check -c "$(cfg "$n")" >/dev/null
	done
	for n in $NODES; do
		if running "$n"; then
			echo "$n: already running (pid $(cat "$(pidfile "$n")"))"
			continue
		fi
		"$XZ_BIN" run -c "$(cfg "$n")" >>"$VAR/$n.log" 2>&1 &
		echo $! >"$(pidfile "$n")"
		for _ in $(seq 1 200); do
			"$XZ_BIN" call -c "$(cfg "$n")" xz.sys.ping '{}' -t 500 >/dev/null 2>&1 && break
			running "$n" || { echo "$n: exited at start; see $VAR/$n.log" >&2; exit 1; }
			sleep 0.1
		done
		echo "$n: running (pid $(cat "$(pidfile "$n")"), log $VAR/$n.log)"
	done
	for n in $NODES; do
		for _ in $(seq 1 300); do
			links_up "$n" && break
			sleep 0.1
		done
		links_up "$n" || { echo "$n: links not up after 30 s:" >&2; status_one "$n" >&2; exit 1; }
	done
	echo "every link is up"
}

status_one() {
	local n=$1
	if ! running "$n"; then
		echo "$n: not running"
		return
	fi
	"$XZ_BIN" status -c "$(cfg "$n")" | jq -r --arg n "$n" '.node_links[] |
		"\($n) <-> \(.name): \(.state), dials \(.dials), retries \(.retries), in \(.in.events)ev/\(.in.requests)rq, out \(.out.events)ev/\(.out.requests)rq, denied \(.denied)\(if .state != "up" then ", last error: \(.last_error)" else "" end)"'
}

stop() {
	local n p
	for n in procuratorate legal rehab prison bureau; do
		running "$n" || { rm -f "$(pidfile "$n")"; continue; }
		p=$(cat "$(pidfile "$n")")
		kill -TERM "$p"
		for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$p" 2>/dev/null; then
			echo "$n: still running after 30 s; killing" >&2
			kill -KILL "$p"
		fi
		rm -f "$(pidfile "$n")"
		echo "$n: stopped"
	done
}

case "$cmd" in
start) start ;;
stop) stop ;;
status) for n in $NODES; do status_one "$n"; done ;;
*) usage ;;
esac
