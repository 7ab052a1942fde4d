#!/usr/bin/env bash
# t_cli.sh - the command line against a real node: --help of every
# command, exit codes (0 ok, 1 error, 2 usage, 3 timeout / no responders),
# bad JSON, status fields, `pub -` with several lines, no node to reach,
# `check` and `run` on a broken config, calls after a clock advance.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup

echo "-- every command's --help exits 0 and names the command"
for cmd in run check pub sub call status reload console bench version audit; do
	rc=0
	out=$("$XZ_BIN" "$cmd" --help 2>&1) || rc=$?
	assert_eq "$cmd --help exit" 0 "$rc"
	assert_contains "$cmd --help text" "usage: xiezhi $cmd" "$out"
done
assert_exit "xiezhi --help" 0 "$XZ_BIN" --help
assert_contains "--help lists the exit codes" "exit codes: 0 ok, 1 error, 2 usage, 3 timeout or no responders" "$OUT"
assert_exit "xiezhi version" 0 "$XZ_BIN" version
assert_contains "version names the ABI" "plugin ABI 1." "$OUT"
# the malloc it runs on (XZ_ALLOCATOR): jemalloc's own version when the
# binary is linked with it, asked of the running library
if ldd "$XZ_BIN" | grep -q libjemalloc; then
	assert_contains "version names jemalloc" "malloc: jemalloc 5." "$OUT"
else
	assert_contains "version names the system malloc" "malloc: system" "$OUT"
fi

echo "-- usage errors exit 2"
assert_exit "no command" 2 "$XZ_BIN"
assert_exit "unknown command" 2 "$XZ_BIN" frobnicate
assert_contains "unknown command is named" "unknown command 'frobnicate'" "$ERR"

xz_config <<'EOF'
bus = { best_effort = [ "tele.>" ]; };
plugins = (
  { name = "slow"; kind = "so"; path = "t_slow.so";
    options = { pattern = "burst.>"; sleep_us = 20000; }; },
  { name = "deaf"; kind = "so"; path = "t_slow.so";
    options = { pattern = "svc.>"; }; }
);
EOF

assert_exit "call without a topic" 2 xz call
assert_exit "call with 3 arguments" 2 xz call a.b '{}' extra
assert_exit "call -t not a number" 2 xz call xz.sys.ping -t soon
assert_contains "-t error names the value" "got 'soon'" "$ERR"
assert_exit "call to a wildcard topic" 2 xz call 'a.*'
assert_contains "bad topic named" "invalid topic 'a.*'" "$ERR"
assert_exit "sub with a bad pattern" 2 xz sub 'a.>.b'
assert_contains "bad pattern named" "invalid pattern 'a.>.b'" "$ERR"
assert_exit "pub without a topic" 2 xz pub
assert_exit "status with an argument" 2 xz status extra

echo "-- bad JSON exits 2 (before connecting)"
assert_exit "call with bad JSON" 2 xz call xz.sys.ping '{bad'
assert_contains "bad JSON explained" "payload is not valid JSON" "$ERR"
assert_exit "pub with bad JSON" 2 xz pub burst.x '[1,'

echo "-- no node to reach exits 1 with a clear message"
assert_exit "call with no node running" 1 xz call xz.sys.ping
assert_contains "message names the URL" "cannot reach the node at ipc://$XZ_T/n1/ctl.sock" "$ERR"
assert_exit "status -u to nowhere" 1 "$XZ_BIN" status -u "ipc://$XZ_T/none.sock"
assert_contains "message names the -u URL" "cannot reach the node at ipc://$XZ_T/none.sock" "$ERR"

start_node

echo "-- call"
assert_exit "ping" 0 xz call xz.sys.ping
assert_eq "ping reply" '{"pong":true,"node":"n1"}' "$OUT"
assert_exit "call to nobody" 3 xz call nobody.home '{}'
assert_eq "no_responders error on stdout" "no_responders" "$(echo "$OUT" | json .error.code)"
assert_contains "no_responders names the topic" "nobody.home" "$OUT"
t0=$(date +%s%N)
assert_exit "call that nobody answers in time" 3 xz call svc.silent '{}' -t 300
t1=$(date +%s%N)
assert_eq "timeout error code" "timeout" "$(echo "$OUT" | json .error.code)"
ms=$(((t1 - t0) / 1000000))
# the deadline used is the one given (the message names it), and it was
# waited for; no upper bound on the wall time, which a loaded machine
# stretches
within=$(echo "$OUT" | json .error.message | sed -n 's/.* within \([0-9]*\) ms.*/\1/p')
if [ -n "$within" ] && [ "$within" -le 300 ]; then
	pass "the timeout names the -t deadline (${within} ms left of 300)"
else
	fail "the timeout names no deadline within -t 300: $OUT"
fi
if [ "$ms" -ge 280 ]; then pass "waited ${ms} ms (-t 300)"; else fail "gave up after ${ms} ms (-t 300)"; fi
assert_exit "error reply from the node exits 1" 1 xz call xz.sys.clock.advance '{"ms":"x"}'
assert_eq "error reply printed" "bad_request" "$(echo "$OUT" | json .error.code)"

echo "-- pub - publishes one event per line"
printf '{"n":1}\n{"n":2}\n\n{"n":3}\n' >"$XZ_T/lines"
assert_exit "pub - three lines" 0 xz pub burst.lines - <"$XZ_T/lines"
assert_contains "pub - summary" "3 published, 0 failed" "$ERR"
assert_exit "count" 0 xz call slow.count
assert_eq "slow got 3 in order" '3 3 0' "$(echo "$OUT" | json '"\(.count) \(.last) \(.order_errors)"')"
printf '{"n":4}\nnot json\n{"n":5}\n' >"$XZ_T/lines"
assert_exit "pub - with a bad line" 1 xz pub burst.lines - <"$XZ_T/lines"
assert_contains "bad line named" "stdin line 2 skipped" "$ERR"
assert_eq "the good lines went" 5 "$(xz call slow.count | json .count)"
assert_exit "pub one event" 0 xz pub burst.one '{"n":6}'
assert_eq "and one more" 6 "$(xz call slow.count | json .count)"

echo "-- status"
assert_exit "status" 0 xz status
st=$OUT
assert_eq "status node" n1 "$(echo "$st" | json .node)"
assert_eq "status version" "$("$XZ_BIN" version | awk '{print $2}')" "$(echo "$st" | json .version)"
assert_eq "status plugins" "console,deaf,slow,sys" "$(echo "$st" | json '[.plugins[].name] | sort | join(",")')"
assert_eq "slow state" running "$(echo "$st" | json '.plugins[] | select(.name=="slow") | .state')"
assert_eq "slow counter received" 6 "$(echo "$st" | json '.plugins[] | select(.name=="slow") | .counters.received')"
for f in queue_depth queue_capacity delivered handled dropped backpressure_timeouts; do
	assert_eq "plugin field $f is a number" number "$(echo "$st" | json ".plugins[0].$f | type")"
done
for f in published delivered dropped backpressure_timeouts rejected_envelopes subscriptions; do
	assert_eq "bus field $f is a number" number "$(echo "$st" | json ".bus.$f | type")"
done
assert_eq "uptime_ms is a number" number "$(echo "$st" | json '.uptime_ms | type')"

echo "-- calls still get their whole deadline after a clock advance"
assert_exit "advance one day" 0 xz call xz.sys.clock.advance '{"ms":86400000}'
# 10 events of 20 ms queue ahead of the count request: ~200 ms of work.
seq 7 16 | sed 's/.*/{"n":&}/' | xz pub burst.more - 2>/dev/null
assert_exit "call behind 200 ms of work (-t 5000)" 0 xz call slow.count '{}' -t 5000
assert_eq "count after the advance" 16 "$(echo "$OUT" | json .count)"

stop_node

echo "-- check and run on configs"
assert_exit "check a good config" 0 xz check
assert_contains "check says ok" "ok (node 'n1'" "$OUT"
mkdir -p "$XZ_T/bad"
cat >"$XZ_T/bad/bad.cfg" <<EOF
node = { name = "bad"; control = "ipc://$XZ_T/bad/ctl.sock";
  data_dir = "$XZ_T/bad/data"; plugin_path = [ "$XZ_PLUGIN_DIR" ];
  colour = "red"; };
plugins = ( { name = "slow"; kind = "so"; path = "t_slow.so";
  options = { sleep_us = "slow"; }; } );
EOF
assert_exit "check a broken config" 1 "$XZ_BIN" check -c "$XZ_T/bad/bad.cfg"
assert_contains "unknown key at FILE:LINE" "$XZ_T/bad/bad.cfg:3: " "$ERR"
assert_contains "the key is named" "colour" "$ERR"
assert_exit "check with a missing file" 1 "$XZ_BIN" check -c "$XZ_T/nope.cfg"
assert_contains "missing file named" "$XZ_T/nope.cfg" "$ERR"
sed -i 's/  colour = "red"; };/};/' "$XZ_T/bad/bad.cfg"
assert_exit "check an option of the wrong type" 1 "$XZ_BIN" check -c "$XZ_T/bad/bad.cfg"
assert_contains "option error at FILE:LINE" "$XZ_T/bad/bad.cfg:5: " "$ERR"
assert_contains "the option is named" "sleep_us" "$ERR"
assert_exit "run refuses a broken config" 1 "$XZ_BIN" run -c "$XZ_T/bad/bad.cfg"
assert_contains "run says why" "not starting (see \`xiezhi check\`)" "$ERR"
assert_contains "run prints the error" "$XZ_T/bad/bad.cfg:5: " "$ERR"
if [ -e "$XZ_T/bad/ctl.sock" ]; then fail "run bound its socket anyway"; else pass "run bound nothing"; fi

finish
