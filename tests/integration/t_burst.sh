#!/usr/bin/env bash
# t_burst.sh - issue 2 item 9: 100,000 events published in one burst
# (`xiezhi pub TOPIC -`) to a slow subscriber plugin (t_slow) behind a
# small mailbox. On a business topic the publisher is held back and all
# 100,000 arrive, in order; on a topic declared best-effort, delivered +
# counted drops == 100,000 and the drops show in `xiezhi status`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup

N=${XZ_BURST_N:-100000}
xz_config <<'EOF'
bus = { mailbox_capacity = 256; publish_timeout_ms = 10000;
        best_effort = [ "tele.>" ]; };
plugins = (
  { name = "slow"; kind = "so"; path = "t_slow.so";
    options = { pattern = "burst.>"; sleep_us = 5; }; },
  { name = "lossy"; kind = "so"; path = "t_slow.so";
    options = { pattern = "tele.>"; sleep_us = 5; }; }
);
EOF
start_node
seq "$N" | sed 's/.*/{"n":&,"pad":"0123456789abcdef0123456789abcdef"}/' >"$XZ_T/events"

queue_empty() { # NAME: the plugin's mailbox is empty
	[ "$(xz status | jq -r --arg p "$1" '.plugins[] | select(.name==$p) | .queue_depth')" = 0 ]
}

echo "-- business topic: $N events to a slow subscriber, nothing lost"
t0=$(date +%s%N)
assert_exit "pub $N events on burst.case" 0 xz pub burst.case - <"$XZ_T/events"
t1=$(date +%s%N)
echo "  (published in $(((t1 - t0) / 1000000)) ms)"
assert_contains "pub summary" "$N published, 0 failed" "$ERR"
wait_for 120 queue_empty slow || fail "slow's mailbox did not drain in 120 s"
r=$(xz call slow.count)
assert_eq "slow received every event" "$N" "$(echo "$r" | json .count)"
assert_eq "in order" 0 "$(echo "$r" | json .order_errors)"
assert_eq "the last one last" "$N" "$(echo "$r" | json .last)"
st=$(xz status)
assert_eq "received counter in status" "$N" "$(echo "$st" | json '.plugins[] | select(.name=="slow") | .counters.received')"
assert_eq "nothing dropped" 0 "$(echo "$st" | json .bus.dropped)"
assert_eq "no backpressure timeout" 0 "$(echo "$st" | json .bus.backpressure_timeouts)"
assert_eq "lossy got none of it" 0 "$(xz call lossy.count | json .count)"

echo "-- best-effort topic: delivered + counted drops == $N"
assert_exit "pub $N events on tele.burst" 0 xz pub tele.burst - <"$XZ_T/events"
assert_contains "pub summary" "$N published, 0 failed" "$ERR"
wait_for 120 queue_empty lossy || fail "lossy's mailbox did not drain in 120 s"
got=$(xz call lossy.count | json .count)
st=$(xz status)
dropped=$(echo "$st" | json '.plugins[] | select(.name=="lossy") | .dropped')
echo "  (delivered $got, dropped $dropped)"
assert_eq "delivered + dropped" "$N" "$((got + dropped))"
if [ "$dropped" -gt 0 ]; then pass "drops happened and are counted ($dropped)"; else fail "no drop: the test did not stress the mailbox"; fi
assert_eq "bus.dropped in status" "$dropped" "$(echo "$st" | json .bus.dropped)"
assert_eq "received counter in status" "$got" "$(echo "$st" | json '.plugins[] | select(.name=="lossy") | .counters.received')"
# the same per topic class (the topic's first token: tele), as /metrics
# reports them (xiezhi_plugin_messages_in_total, _drops_total)
assert_eq "drops by topic class" "$dropped" "$(echo "$st" | json '.plugins[] | select(.name=="lossy") | .dropped_by_class.tele')"
assert_eq "messages in by topic class" "$got" "$(echo "$st" | json '.plugins[] | select(.name=="lossy") | .delivered_by_class.tele')"
assert_eq "the business subscriber's messages in, class burst" "$N" "$(echo "$st" | json '.plugins[] | select(.name=="slow") | .delivered_by_class.burst')"
assert_eq "slow untouched" "$N" "$(xz call slow.count | json .count)"
assert_eq "the business subscriber dropped nothing" 0 "$(echo "$st" | json '.plugins[] | select(.name=="slow") | .dropped')"

stop_node
finish
