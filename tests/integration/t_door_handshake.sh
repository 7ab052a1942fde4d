#!/usr/bin/env bash
# t_door_handshake.sh - a door that stops accepting is opened again.
# nng 1.5.2 stops a listener for good when a client leaves in the middle
# of the SP handshake (its issue #1518); one `connect` and `close` by any
# local user was enough to shut a node's bus door (clients then dialed
# fine and never got an answer). The link's door watch (link.c) probes a
# door after such an error and listens on it again:
#  - raw connects-and-closes on the ipc door while the node is stopped
#    (so that each one has left before the node handshakes): calls
#    through it work again, the log says the door was reopened, status
#    counts it;
#  - 200 raw connects-and-closes (or resets) on a tcp door: it answers
#    afterwards (whether it had stopped or not);
#  - the CLI's own connections through the control door (each one ends
#    as a client leaving) never make the watch reopen a live door.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
command -v perl >/dev/null || skip_test "perl is not installed"
command -v jq >/dev/null || skip_test "jq is not installed"

PORT=$((20000 + ($$ + 4099) % 20000))
BUS="ipc://$XZ_T/bus.sock"
xz_config <<EOF2
bus = {
  listen = ( "$BUS", { url = "tcp://127.0.0.1:$PORT"; insecure = true; } );
};
EOF2
start_node
ping_at() { "$XZ_BIN" call -u "$1" xz.sys.ping '{}' -t 2000 >/dev/null 2>&1; }
# The tcp door proves no identity: the node answers with its refusal
# (exit 1); no answer at all is exit 3.
answers_at() {
	local rc=0
	"$XZ_BIN" call -u "$1" xz.sys.ping '{}' -t 2000 >/dev/null 2>&1 || rc=$?
	[ "$rc" -le 1 ]
}
reopened() { xz status | jq -r .bus.doors_reopened; }
check "a call through the ipc door" ping_at "$BUS"
check "the tcp door answers (a refusal: no identity)" answers_at "tcp://127.0.0.1:$PORT"
assert_eq "no door reopened yet" 0 "$(reopened)"

echo "-- clients leaving in the handshake: the ipc door"
# With the node stopped, the connections wait in the socket's backlog and
# are closed before the node takes them: its handshake then writes to a
# closed connection (EPIPE), which is what stops an nng 1.5.2 listener.
kill -STOP "$NODE_PID"
perl -MIO::Socket::UNIX -e '
	for (1 .. 20) {
		my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "connect: $!\n";
		close $s;
	}' "$XZ_T/bus.sock"
kill -CONT "$NODE_PID"
wait_until 60 "ping_at '$BUS'" || true
check "the ipc door answers again" ping_at "$BUS"
wait_until 30 '[ "$(reopened)" -ge 1 ]' || true
assert_le "status counts the reopened door" 1 "$(reopened)"
assert_contains "status counts the reopened door" "doors_reopened" "$(xz status)"
assert_contains "the log names the door and why" \
	"$BUS stopped taking connections (a client left during the handshake; nng 1.5.2)" \
	"$(cat "$XZ_T/n1.log")"
assert_contains "and says it listens again" "$BUS is listening again" "$(cat "$XZ_T/n1.log")"

echo "-- the same on a tcp door (reset or closed)"
perl -MIO::Socket::INET -e '
	for my $i (1 .. 200) {
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]") or die "connect: $!\n";
		setsockopt($s, Socket::SOL_SOCKET(), Socket::SO_LINGER(), pack("ii", 1, 0)) if $i % 2;
		close $s;
	}' "$PORT"
wait_until 60 "answers_at tcp://127.0.0.1:$PORT" || true
check "the tcp door answers afterwards" answers_at "tcp://127.0.0.1:$PORT"

echo "-- live doors are left alone"
before=$(reopened)
for i in $(seq 1 10); do check "call $i through the control door" xz call xz.sys.ping '{}'; done
# Each CLI connection's end makes the watch probe the control door, and a
# probe's verdict takes up to 5 s: what must not happen is looked for over
# a window longer than that (a window, not a wait for a condition).
sleep 7
assert_eq "no live door was reopened" "$before" "$(reopened)"
assert_exit "a call through the ipc door" 0 ping_at "$BUS"
stop_node
finish
