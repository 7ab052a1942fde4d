#!/usr/bin/env bash
# t_bench_relay.sh - `xiezhi bench`'s relay figures, briefly: with
# XZ_BENCH_ONLY=relay and -n 20000, a publisher process -> node ->
# subscriber process run must deliver every message (relay_pubsub_lost 0)
# and give a rate; the NATS figure is a rate with nothing lost when
# nats-server and libnats are here, else null with the reason. A
# nats-server that is not there (XZ_NATS_SERVER naming nothing) must give
# null and say why, in the JSON and in the text report.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
command -v jq >/dev/null || skip_test "jq not installed"

N=20000
run_bench() { # run_bench OUTFILE [ENV=VALUE...] ARGS...: --json or text
	local out=$1
	shift
	env XZ_BENCH_ONLY=relay "$@" >"$out" 2>"$out.err"
}

# positive FILE KEY: the value is a number > 0. (Not jq -e: it says yes
# to an empty file.)
positive() {
	[ "$(jq -r --arg k "$2" '.[$k] | type == "number" and . > 0' "$1")" = true ]
}

J="$XZ_T/bench.json"
check "bench --json -n $N (relay only) exits 0" \
	run_bench "$J" "$XZ_BIN" bench --json -n "$N"
assert_eq "one JSON object" object "$(jq -s -r 'if length == 1 then .[0] | type else "many" end' "$J")"
assert_eq "messages" "$N" "$(jq -r .messages "$J")"
for k in relay_pubsub_msgs_per_s nats_relay_msgs_per_s relay_over_nats \
	relay_pubsub_lost nats_relay_lost local_pubsub_msgs_per_s \
	ipc_pubsub_msgs_per_s raw_nng_ipc_pair_msgs_per_s why_null; do
	assert_eq "key $k present" true "$(jq --arg k "$k" 'has($k)' "$J")"
done
if positive "$J" relay_pubsub_msgs_per_s; then
	pass "relay_pubsub_msgs_per_s > 0 ($(jq .relay_pubsub_msgs_per_s "$J"))"
else
	fail "relay_pubsub_msgs_per_s: $(jq -c '[.relay_pubsub_msgs_per_s, .why_null]' "$J")"
fi
assert_eq "relay: nothing lost" 0 "$(jq -r .relay_pubsub_lost "$J")"
assert_eq "other figures not measured (null)" null "$(jq -r .local_pubsub_msgs_per_s "$J")"

nats=$(jq -r .nats_relay_msgs_per_s "$J")
if [ "$nats" = null ]; then
	why=$(jq -r '.why_null.nats_relay_msgs_per_s // ""' "$J")
	if [ -n "$why" ]; then
		pass "nats figure null, reason given: $why"
	else
		fail "nats figure null without a reason"
	fi
	skip "NATS rate checks (no NATS here: $why)"
else
	if positive "$J" nats_relay_msgs_per_s; then
		pass "nats_relay_msgs_per_s > 0 ($nats)"
	else
		fail "nats_relay_msgs_per_s: $nats"
	fi
	assert_eq "nats: nothing lost" 0 "$(jq -r .nats_relay_lost "$J")"
	if positive "$J" relay_over_nats; then
		pass "relay_over_nats > 0 ($(jq .relay_over_nats "$J"))"
	else
		fail "relay_over_nats: $(jq .relay_over_nats "$J")"
	fi
fi

# No nats-server: the NATS figure is null and both reports say why.
J2="$XZ_T/nonats.json"
check "bench without nats-server exits 0" \
	run_bench "$J2" XZ_NATS_SERVER="$XZ_T/no-such-nats-server" \
	"$XZ_BIN" bench --json -n "$N"
assert_eq "no nats-server: nats figure null" null "$(jq -r .nats_relay_msgs_per_s "$J2")"
assert_eq "no nats-server: ratio null" null "$(jq -r .relay_over_nats "$J2")"
assert_eq "no nats-server: nats lost null" null "$(jq -r .nats_relay_lost "$J2")"
why=$(jq -r '.why_null.nats_relay_msgs_per_s // ""' "$J2")
case "$why" in
*XZ_NATS_SERVER* | *libnats*) pass "no nats-server: reason given ($why)" ;;
*) fail "no nats-server: reason '$why'" ;;
esac
assert_eq "no nats-server: relay still measured, nothing lost" 0 \
	"$(jq -r .relay_pubsub_lost "$J2")"

T="$XZ_T/nonats.txt"
check "text report without nats-server exits 0" \
	run_bench "$T" XZ_NATS_SERVER="$XZ_T/no-such-nats-server" \
	"$XZ_BIN" bench -n "$N"
assert_contains "text: relay line with 0 lost" "0 lost, in order" \
	"$(grep '^  relay pub/sub' "$T")"
line=$(grep '^  NATS pub/sub' "$T" || true)
case "$line" in
*" null "*XZ_NATS_SERVER* | *" null "*libnats*) pass "text: NATS null, and why" ;;
*) fail "text: NATS line '$line'" ;;
esac

# The peers against a node of our own: a subscriber that expects more than
# was published reports what it got (after XZ_RELAY_IDLE_MS, 10 s) and
# exits 1; that report is what makes the bench print null.
BUS="ipc://$XZ_T/n1/bus.sock"
xz_config <<EOF2
bus = { listen = [ "$BUS" ]; };
plugins = ();
EOF2
start_node
coproc SUB { "$XZ_BIN" bench-peer relay-sub "$BUS" 'bench.relay.>' 1000; }
read -r -t 15 ready <&"${SUB[0]}" || ready=""
assert_eq "relay-sub ready" READY "$ready"
check "relay-pub 600 of them" bash -c \
	"echo GO | '$XZ_BIN' bench-peer relay-pub '$BUS' bench.relay.x 600 | tail -1 | grep -qx 'sent=600 refused=0'"
read -r -t 30 report <&"${SUB[0]}" || report=""
sub_rc=0
wait "$SUB_PID" || sub_rc=$?
assert_contains "relay-sub counts 600, in order" "got=600 disorder=0 bad_size=0" "$report"
assert_eq "relay-sub exits 1 when messages are missing" 1 "$sub_rc"
stop_node
finish
