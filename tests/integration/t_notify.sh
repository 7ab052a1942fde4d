#!/usr/bin/env bash
# t_notify.sh - the node as a systemd Type=notify service, without
# systemd: a datagram socket stands in for $NOTIFY_SOCKET and records what
# `xiezhi run` sends through sd_notify. READY=1 once the node serves,
# WATCHDOG=1 every WATCHDOG_USEC/2 while the kernel's own actor runs, no
# WATCHDOG=1 while every worker is held by a plugin (so systemd would
# restart a wedged node), and STOPPING=1 when the drain starts.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
command -v python3 >/dev/null || skip_test "python3 is not installed"
[ -f "$XZ_PLUGIN_DIR/t_slow.so" ] || skip_test "t_slow.so is not built"

# Two plugins that each hold a worker for 3 s per event: with 2 workers,
# nothing else runs meanwhile.
XZ_NODE_EXTRA='workers = 2;' xz_config <<'EOF'
plugins = (
  { name = "wedge-a"; kind = "so"; path = "t_slow.so";
    options = { pattern = "wedge.>"; sleep_us = 3000000; }; },
  { name = "wedge-b"; kind = "so"; path = "t_slow.so";
    options = { pattern = "wedge.>"; sleep_us = 3000000; }; }
);
EOF

SOCK="$XZ_T/notify.sock"
REC="$XZ_T/notify.rec" # "MONOTONIC_MS STATE" (newlines of STATE as |)
python3 - "$SOCK" "$REC" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        d = s.recv(65536).decode(errors="replace")
        out.write("%d %s\n" % (time.monotonic() * 1000, d.replace("\n", "|")))
EOF
listening() { [ -S "$SOCK" ]; }
wait_for 10 listening || die "the notify listener did not start"

NOTIFY_SOCKET="$SOCK" WATCHDOG_USEC=300000 start_node
ready() { grep -q ' READY=1|' "$REC"; }
wait_for 10 ready || fail "no READY=1"
assert_eq "READY=1 with a status line" \
	"READY=1|STATUS=node 'n1' running: 4 plugins, 0 failed" \
	"$(grep ' READY=1|' "$REC" | cut -d' ' -f2-)"
watchdogs() { grep -c ' WATCHDOG=1$' "$REC" || true; }
at_least() { [ "$(watchdogs)" -ge "$1" ]; }
wait_for 10 at_least 5 || fail "fewer than 5 WATCHDOG=1 ($(watchdogs))"
pass "WATCHDOG=1 keeps coming ($(watchdogs) so far)"
# Period: WATCHDOG_USEC/2 = 150 ms; no gap over 1 s while all is well.
max_gap() {
	awk '/ WATCHDOG=1$/ { if (last && $1 - last > max) max = $1 - last; last = $1 }
		END { print max + 0 }' "$REC"
}
assert_le "no gap over 1 s between WATCHDOG=1 (ms)" "$(max_gap)" 1000

echo "-- every worker held by a plugin: the watchdog goes silent"
check "publish one event to both wedges" xz pub wedge.now '{}'
silent() { [ "$(max_gap)" -ge 2000 ]; }
wait_for 15 silent || fail "WATCHDOG=1 did not stop while the workers were held (gap $(max_gap) ms)"
pass "a gap of $(max_gap) ms while the workers were held"
n=$(watchdogs)
wait_for 10 at_least $((n + 3)) || fail "WATCHDOG=1 did not resume"
pass "WATCHDOG=1 resumes once the workers are free"

stop_node
stopping() { grep -q ' STOPPING=1|' "$REC"; }
wait_for 5 stopping || fail "no STOPPING=1"
assert_eq "STOPPING=1 with a status line" \
	"STOPPING=1|STATUS=stopping: draining the bus" \
	"$(grep ' STOPPING=1|' "$REC" | cut -d' ' -f2-)"
assert_eq "READY=1 came once, before STOPPING=1" "READY STOPPING" \
	"$(grep -o -e ' READY=1' -e ' STOPPING=1' "$REC" | tr -d ' =1' | tr '\n' ' ' | sed 's/ $//')"

echo "-- without WATCHDOG_USEC, no WATCHDOG=1"
: >"$REC"
NOTIFY_SOCKET="$SOCK" start_node
wait_for 10 ready || fail "no READY=1 (second run)"
check "ping" xz call xz.sys.ping
stop_node
wait_for 5 stopping || fail "no STOPPING=1 (second run)"
assert_eq "no WATCHDOG=1 without WATCHDOG_USEC" 0 "$(watchdogs)"
finish
