#!/usr/bin/env bash
# plugins/hello, the model plugin of the default deployment: its request,
# its heartbeat on the kernel clock, its options and their errors.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup

# --- options are checked before anything runs ------------------------------
xz_config <<'EOF2'
plugins = ( { name = "hello"; kind = "so";
              options = { interval_ms = 50; colour = "red"; }; } );
EOF2
assert_exit "check refuses bad hello options" 1 xz check
line=$(grep -n 'interval_ms = 50' "$XZ_CFG" | cut -d: -f1)
assert_contains "interval_ms below its minimum, with FILE:LINE" \
	"$XZ_CFG:$line: plugin 'hello': option 'interval_ms' must be between 100 and 86400000, got 50" \
	"$ERR"
assert_contains "unknown option, with FILE:LINE" \
	"$XZ_CFG:$line: plugin 'hello': unknown option 'colour'" "$ERR"

# --- requests and a fast heartbeat -------------------------------------------
xz_config <<'EOF2'
plugins = ( { name = "hello"; kind = "so";
              options = { greeting = "Ni hao"; interval_ms = 100; }; } );
EOF2
check "check accepts the deployment" xz check
start_node
check "greet with a name" xz call hello.greet '{"name":"Ada"}'
assert_eq "greeting" '{"greeting":"Ni hao, Ada!","count":1}' "$OUT"
check "greet without a name" xz call hello.greet '{}'
assert_eq "default name" '{"greeting":"Ni hao, world!","count":2}' "$OUT"
assert_exit "name must be a string" 1 xz call hello.greet '{"name":5}'
assert_eq "error reply" \
	'{"error":{"code":"bad_request","message":"hello.greet: \"name\" must be a string of 1 to 64 bytes"}}' \
	"$OUT"
long=$(printf 'a%.0s' $(seq 1 65))
assert_exit "name of 65 bytes is refused" 1 xz call hello.greet "{\"name\":\"$long\"}"
assert_exit "payload must be an object" 1 xz call hello.greet '[1]'
assert_eq "error reply" \
	'{"error":{"code":"bad_request","message":"hello.greet: the payload must be a JSON object"}}' \
	"$OUT"
check "three heartbeats" xz sub hello.heartbeat -n 3 -t 10000
assert_eq "heartbeats come from hello, numbered one by one" \
	"hello hello hello 1 1" \
	"$(echo "$OUT" | jq -rs '[.[].data.plugin] + [.[1].data.seq - .[0].data.seq, .[2].data.seq - .[1].data.seq] | map(tostring) | join(" ")')"
assert_eq "counter greetings" 2 "$(counter hello greetings)"
assert_eq "counter bad_requests" 3 "$(counter hello bad_requests)"
stop_node
assert_contains "start-up log names the period" \
	"INFO  hello: heartbeat every 100 ms" "$(cat "$XZ_T/n1.log")"

# --- the heartbeat follows the kernel clock ---------------------------------
# A period of an hour: the kernel clock also runs with real time, and on a
# loaded machine the test itself can take minutes.
xz_config <<'EOF2'
plugins = ( { name = "hello"; kind = "so"; options = { interval_ms = 3600000; }; } );
EOF2
start_node
assert_eq "no heartbeat before the first period" 0 "$(counter hello heartbeats)"
check "advance the kernel clock one period" xz call xz.sys.clock.advance '{"ms":3600000}'
beats_are() { [ "$(counter hello heartbeats)" = "$1" ]; }
if wait_for 30 beats_are 1; then pass "one heartbeat after one period of kernel clock"
else fail "heartbeats after one period of kernel clock: $(counter hello heartbeats)"; fi
check "advance the kernel clock 3.5 periods more" xz call xz.sys.clock.advance '{"ms":12600000}'
if wait_for 30 beats_are 2; then pass "a jump of 3.5 periods gives one heartbeat, not a burst"
else fail "heartbeats after the jump: $(counter hello heartbeats)"; fi
sleep 0.3
assert_eq "and no more after it" 2 "$(counter hello heartbeats)"
check "greet after the clock moved" xz call hello.greet '{"name":"Cy"}'
stop_node

# --- heartbeat = false: requests only ---------------------------------------
xz_config <<'EOF2'
plugins = ( { name = "hello"; kind = "so";
              options = { heartbeat = false; interval_ms = 100; }; } );
EOF2
start_node
check "greet answers" xz call hello.greet '{"name":"Bo"}'
assert_eq "greeting word by default" '{"greeting":"Hello, Bo!","count":1}' "$OUT"
sleep 0.5 # five periods
assert_eq "heartbeat = false: no heartbeat in 5 periods" 0 \
	"$(counter hello heartbeats)"
assert_eq "every counter is shown, from zero" \
	'{"bad_requests":0,"greetings":1,"heartbeats":0,"publish_errors":0}' \
	"$(xz status | jq -S -c '.plugins[] | select(.name == "hello") | .counters')"
stop_node
finish
