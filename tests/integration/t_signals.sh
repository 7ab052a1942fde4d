#!/usr/bin/env bash
# t_signals.sh - SIGTERM and SIGINT while a 100,000-event burst is in
# flight: the node exits 0, and nothing it accepted is lost. Two t_slow
# subscribers (a slow one and a fast one) see the same events; at stop each
# logs what it handled and saves its total in its store. Every accepted
# event was queued to both, so after the drain both must have handled the
# same number, as a gapless prefix 1..K of the burst (one ordered
# publisher); after a restart the stores give the same totals back.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup

N=100000
xz_config <<'EOF'
bus = { mailbox_capacity = 1024; publish_timeout_ms = 10000; };
plugins = (
  { name = "slow"; kind = "so"; path = "t_slow.so";
    options = { pattern = "burst.>"; sleep_us = 20; persist = true; }; },
  { name = "fast"; kind = "so"; path = "t_slow.so";
    options = { pattern = "burst.>"; persist = true; }; }
);
EOF
# The drain handles everything the node accepted (its queues hold tens of
# thousands of these events): under a sanitizer on a loaded machine that
# takes minutes, so stop_node waits longer than its default.
XZ_STOP_SECS=300
seq "$N" | sed 's/.*/{"n":&}/' >"$XZ_T/events"

received() { # NAME
	xz status 2>/dev/null | jq -r --arg p "$1" \
		'(.plugins[] | select(.name==$p) | .counters.received) // 0'
}
at_least() { # NAME COUNT
	[ "$(received "$1")" -ge "$2" ]
}
# stopped_line NAME ROUND: fields of the NAME's ROUND-th stop log line:
# "received last order_errors total"
stopped_line() {
	grep " $1: stopped: " "$XZ_T/n1.log" | sed -n "${2}p" |
		sed -E 's/.*received ([0-9]+), last n (-?[0-9]+), order errors ([0-9]+), total ([0-9]+).*/\1 \2 \3 \4/'
}

total_before=0
round=0
for sig in TERM INT; do
	round=$((round + 1))
	echo "-- SIG$sig during a burst (round $round)"
	start_node
	xz pub burst.case - <"$XZ_T/events" >/dev/null 2>"$XZ_T/pub$round.err" &
	pub_pid=$!
	wait_for 60 at_least slow 3000 || fail "the burst did not start"
	stop_node n1 "$sig"
	pub_rc=0
	wait "$pub_pid" || pub_rc=$?
	echo "  (pub exited $pub_rc: $(tail -n 1 "$XZ_T/pub$round.err"))"
	read -r s_got s_last s_err s_total <<<"$(stopped_line slow $round)"
	read -r f_got f_last f_err f_total <<<"$(stopped_line fast $round)"
	echo "  (slow handled ${s_got:-?}, fast handled ${f_got:-?})"
	if [ -z "${s_got:-}" ] || [ -z "${f_got:-}" ]; then
		fail "no stop line in the log"
		continue
	fi
	if [ "$s_got" -gt 0 ] && [ "$s_got" -le "$N" ]; then pass "slow handled $s_got before stopping"; else fail "slow handled $s_got"; fi
	assert_eq "slow and fast handled the same accepted events" "$f_got" "$s_got"
	assert_eq "slow's events are the gapless prefix 1..$s_got" "$s_got" "$s_last"
	assert_eq "fast's events are the gapless prefix 1..$f_got" "$f_got" "$f_last"
	assert_eq "no order error (slow)" 0 "$s_err"
	assert_eq "no order error (fast)" 0 "$f_err"
	assert_eq "slow's running total" "$((total_before + s_got))" "$s_total"
	if [ "$s_got" -lt "$N" ] && [ "$pub_rc" -ne 0 ]; then
		pass "the burst was cut by the signal (pub exit $pub_rc)"
	elif [ "$s_got" -eq "$N" ]; then
		skip "the burst cut by the signal: all of it was handled before SIG$sig"
	fi
	total_before=$s_total
	assert_contains "the node logged its drain" "stopping: draining the bus" "$(cat "$XZ_T/n1.log")"
done

echo "-- after a restart the stores hold what was handled"
start_node
assert_eq "slow total" "$total_before" "$(xz call slow.count | json .total)"
assert_eq "fast total" "$total_before" "$(xz call fast.count | json .total)"
stop_node
finish
