#!/usr/bin/env bash
# t_isolation.sh - isolation = "process" on a node that runs the default
# deployment's prison plugin with demo traffic: purpose-built plugins
# (tests/plugins/t_faulty) that segfault, abort, leak, block, write
# garbage on their link, flood it and exit during start are each run in a
# supervised child. Whatever they do, the node and the prison keep
# serving (xz.sys.ping, prison requests, an alarm's SLA clock), a crashed
# plugin's callers get `unavailable`, the child comes back with its
# subscriptions and timers, and restarts, last exit and a growing backoff
# show in `xiezhi status`. A Lua plugin runs isolated too; the node stops
# cleanly with every child gone.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prison_actors.sh"
xz_setup

# ASan's own memory is resident too: a larger limit, the same leak.
LIMIT=96
if sanitized; then LIMIT=400; fi

cat >"$XZ_T/lsvc.lua" <<'EOF2'
local fired = 0
return {
	name = "lsvc", version = "1.0",
	handlers = {
		["lsvc.ping"] = function() return { pong = true } end,
		["lsvc.echo"] = function(d) return { echo = d.v } end,
		-- a request from the child and its reply, a timer, a store
		["lsvc.relay"] = function()
			local r, err = xz.request("aborter.ping", {}, 3000)
			return { pid = r and r.pid, err = err }
		end,
		["lsvc.fired"] = function() return { n = fired } end,
		["lsvc.put"] = function(d)
			xz.db.exec("INSERT INTO kv VALUES (?)", d.v)
			return { n = xz.db.query("SELECT count(*) AS n FROM kv")[1].n }
		end,
	},
	init = function()
		xz.db.exec("CREATE TABLE IF NOT EXISTS kv (v TEXT)")
	end,
	start = function()
		xz.timer.every(20, function() fired = fired + 1 end)
	end,
}
EOF2

XZ_NODE_EXTRA='restart_backoff_ms = 100; restart_backoff_max_ms = 20000;' \
	xz_config <<EOF2
plugins = (
  { name = "audit"; kind = "so"; },
  { name = "prison"; kind = "so"; options = { seed_demo_data = true; escalate_leader_s = 600; }; },
  { name = "demo"; kind = "so"; options = { speed = 600; tick_ms = 100; }; },
  { name = "segv"; kind = "so"; path = "t_faulty.so"; isolation = "process";
    options = { fault = "segv"; }; },
  { name = "aborter"; kind = "so"; path = "t_faulty.so"; isolation = "process";
    options = { fault = "abort"; }; },
  { name = "leaker"; kind = "so"; path = "t_faulty.so"; isolation = "process";
    memory_limit_mb = $LIMIT; options = { fault = "leak"; leak_mb = 64; }; },
  { name = "blocker"; kind = "so"; path = "t_faulty.so"; isolation = "process";
    handler_timeout_ms = 500; options = { fault = "block"; }; },
  { name = "garbler"; kind = "so"; path = "t_faulty.so"; isolation = "process";
    options = { fault = "garbage"; }; },
  { name = "flooder"; kind = "so"; path = "t_faulty.so"; isolation = "process";
    options = { fault = "flood"; }; },
  { name = "initexit"; kind = "so"; path = "t_faulty.so"; isolation = "process";
    options = { exit_in_init = true; }; },
  { name = "lsvc"; kind = "lua"; path = "$XZ_T/lsvc.lua"; isolation = "process"; },
  # in the node: a handler over its handler_timeout_ms is only reported
  { name = "slowpoke"; kind = "so"; path = "t_slow.so"; handler_timeout_ms = 200;
    options = { pattern = "slow.>"; sleep_us = 2000000; }; }
);
EOF2

# check refuses bad values at FILE:LINE
cat >"$XZ_T/bad.cfg" <<EOF2
node = { name = "b"; control = "ipc://$XZ_T/b.sock"; data_dir = "$XZ_T/b";
  restart_backoff_ms = 500; restart_backoff_max_ms = 100;
  handler_timeout_ms = 0; };
plugins = (
  { name = "x"; kind = "so"; path = "$XZ_PLUGIN_DIR/t_faulty.so"; isolation = "fork"; },
  { name = "y"; kind = "so"; path = "$XZ_PLUGIN_DIR/t_faulty.so"; memory_limit_mb = 10; }
);
EOF2
assert_exit "check refuses bad isolation settings" 1 "$XZ_BIN" check -c "$XZ_T/bad.cfg"
assert_contains "backoff maximum below the first wait, at FILE:LINE" \
	"bad.cfg:2: node.restart_backoff_max_ms (100) must not be less than node.restart_backoff_ms (500)" "$ERR$OUT"
assert_contains "handler_timeout_ms out of range" \
	"bad.cfg:3: node.handler_timeout_ms must be between 10 and 3600000, got 0" "$ERR$OUT"
assert_contains "unknown isolation mode" \
	"bad.cfg:5: plugin 'x': isolation must be \"none\" or \"process\", got \"fork\"" "$ERR$OUT"
assert_contains "memory limit without isolation" \
	"bad.cfg:6: plugin 'y': memory_limit_mb needs isolation = \"process\"" "$ERR$OUT"

start_node
NODE=$NODE_PID

iso() { # iso NAME FILTER: a field of NAME's isolation in status
	xz status | jq -r --arg p "$1" ".plugins[] | select(.name == \$p) | .isolation | $2"
}
child_pid() { iso "$1" .pid; }
answers() { xz call "$1.ping" '{}' -t 2000 >/dev/null 2>&1; }
serving() { # the node and the prison answer
	xz call xz.sys.ping '{}' -t 3000 >/dev/null 2>&1 &&
		[ "$(xz call prison.alarm.list "{$DUTY}" -t 5000 2>/dev/null | jq -r 'has("items")')" = true ]
}
boom() { # boom NAME: the faulty request, its error code (or "ok")
	{ xz call "$1.boom" '{}' -t "${2:-10000}" 2>/dev/null || true; } |
		jq -r 'if .error then .error.code else "ok" end'
}

for p in segv aborter leaker blocker garbler flooder lsvc; do
	wait_for 20 answers "$p" || fail "$p does not answer after start"
	P=$(child_pid "$p")
	[ "$P" -gt 0 ] && [ "$P" != "$NODE" ] && [ "$(ps -o ppid= -p "$P" | tr -d ' ')" = "$NODE" ] &&
		pass "$p runs in a child of the node (pid $P)" ||
		fail "$p: child pid '$P' is not a child of node $NODE"
done
assert_eq "the Lua plugin answers from its child" 42 \
	"$(xz call lsvc.echo '{"v":42}' | jq -r .echo)"
assert_eq "its request through the node gets the other child's reply" \
	"$(child_pid aborter)" "$(xz call lsvc.relay '{}' | jq -r .pid)"
lua_timer() { [ "$(xz call lsvc.fired '{}' | jq -r .n)" -gt 2 ]; }
wait_for 10 lua_timer && pass "the Lua child's timer fires" || fail "the Lua child's timer never fires"
assert_eq "its store is written from the child" 1 \
	"$(xz call lsvc.put '{"v":"a"}' | jq -r .n)"
check "node and prison serve" serving

# an alarm whose SLA clock must keep running through every fault
R=$(xz call prison.alarm.raise "{$SENSOR,\"kind\":\"PERIMETER\",\"level\":1,\"location\":\"5101.ZJ\",\"source\":\"sensor\",\"device\":\"zj-fence-07\"}")
ALM=$(echo "$R" | jq -r .id)
assert_eq "alarm raised before the faults" RAISED "$(echo "$R" | jq -r .state)"
xz_bg sub 'prison.alarm.>' >"$XZ_T/events" 2>/dev/null &

# --- segfault: callers get unavailable, the child comes back, backoff grows
OLD=$(child_pid segv)
assert_eq "segfaulting plugin: its caller gets unavailable" unavailable "$(boom segv)"
check "node and prison serve after the segfault" serving
wait_for 20 answers segv || fail "segv never came back"
NEW=$(child_pid segv)
[ "$NEW" != "$OLD" ] && pass "segv restarted as pid $NEW" || fail "segv pid unchanged ($OLD)"
# under ASan its SEGV handler reports, then exits 1 or aborts
LAST=$(iso segv .last_exit)
PAT='signal 11'
if sanitized; then PAT='signal 11|signal 6|exited with status 1'; fi
if echo "$LAST" | grep -Eq "$PAT"; then
	pass "status: last exit names the crash ($LAST)"
else
	fail "status: last exit does not name the crash: $LAST"
fi
T1=$(xz call segv.ping '{}' | jq -r .ticks)
ticks_grow() { [ "$(xz call segv.ping '{}' | jq -r .ticks)" -gt "$T1" ]; }
wait_for 10 ticks_grow && pass "the restarted child's timer fires again" ||
	fail "the restarted child's timer does not fire"
B1=$(iso segv .backoff_ms)
boom segv >/dev/null
wait_for 20 answers segv || fail "segv never came back (2)"
boom segv >/dev/null
B3=$(iso segv .backoff_ms)
[ "$B3" -gt "$B1" ] && pass "backoff grows: $B1 ms then $B3 ms" ||
	fail "backoff does not grow: $B1 then $B3"
wait_for 20 answers segv || fail "segv never came back (3)"
assert_le "status counts the restarts" 3 "$(iso segv .restarts)"
assert_le "status counts the unavailable answers" 3 "$(iso segv .unavailable)"

# --- abort
assert_eq "aborting plugin: unavailable" unavailable "$(boom aborter)"
wait_for 20 answers aborter || fail "aborter never came back"
assert_contains "last exit: SIGABRT" "signal 6" "$(iso aborter .last_exit)"
check "node and prison serve after the abort" serving

# --- blocking handler: killed after handler_timeout_ms while others serve
boom blocker 30000 >"$XZ_T/blocked" &
BP=$!
wait_until 5 'test "$(iso blocker .state)" = running' || true
check "ping answered while a handler blocks" xz call xz.sys.ping '{}' -t 2000
wait "$BP" || true
assert_eq "blocked plugin's caller gets unavailable" unavailable "$(cat "$XZ_T/blocked")"
assert_contains "last exit: over handler_timeout_ms" "handler_timeout_ms (500 ms)" \
	"$(iso blocker .last_exit)"
assert_le "status counts the handler timeout" 1 "$(iso blocker .handler_timeouts)"
wait_for 20 answers blocker || fail "blocker never came back"

# --- leak: over memory_limit_mb, restarted
leaked() { boom leaker >/dev/null; iso leaker .last_exit | grep -q memory_limit_mb; }
wait_for 60 leaked && pass "leaking plugin restarted over memory_limit_mb ($LIMIT MiB)" ||
	fail "leaker never restarted: $(iso leaker .last_exit)"
wait_for 20 answers leaker || fail "leaker never came back"

# --- garbage on the link, a flood of log records
assert_eq "garbage writer: unavailable" unavailable "$(boom garbler)"
assert_contains "last exit: garbage" "wrote garbage on its link" "$(iso garbler .last_exit)"
boom flooder >/dev/null
wait_for 10 sh -c "'$XZ_BIN' status -c '$XZ_CFG' | grep -q flooded" &&
	pass "flooding plugin disconnected" || fail "flood not seen: $(iso flooder .last_exit)"
wait_for 20 answers garbler || fail "garbler never came back"

# --- exits in init: never ready, restarted with backoff, unavailable
assert_contains "exit in init is named" "exited with status 4 during start" \
	"$(iso initexit .last_exit)"
assert_le "exit in init: restarted again and again" 2 "$(iso initexit .restarts)"
# it never subscribed: nothing answers its topics (the bus's own answer)
assert_eq "a plugin that never started has no responders" no_responders \
	"$(boom initexit)"

# --- a Lua plugin's child that dies (its runtime crashed)
kill -ABRT "$(child_pid lsvc)"
lua_died() { iso lsvc .last_exit | grep -q 'signal 6'; }
wait_for 10 lua_died ||
	fail "the Lua child's crash not in status"
lua_back() { [ "$(xz call lsvc.echo '{"v":7}' 2>/dev/null | jq -r .echo)" = 7 ]; }
wait_for 20 lua_back && pass "Lua plugin back after its exit" || fail "Lua plugin not back"
assert_eq "its store survived the crash" 2 \
	"$(xz call lsvc.put '{"v":"b"}' | jq -r .n)"

# --- a plugin in the node over handler_timeout_ms: reported, not killed
xz pub slow.one '{"n":1}' >/dev/null
slow_seen() { [ "$(xz status | jq '.plugins[] | select(.name == "slowpoke") | .handler_timeouts')" -ge 1 ]; }
wait_for 10 slow_seen && pass "status counts the in-node plugin's handler timeout" ||
	fail "handler_timeouts of slowpoke stays 0"
wait_for 10 grep -q "slowpoke: a handler has run over handler_timeout_ms (200 ms)" "$XZ_T/n1.log" &&
	pass "the slow handler is logged" || fail "no log line for the slow handler"
assert_le "and counted among its counters" 1 "$(counter slowpoke handler_timeouts)"

# --- the prison kept serving and its SLA clock ran
check "node and prison serve after every fault" serving
assert_le "demo traffic reached the prison" 1 \
	"$(xz status | jq '[.plugins[] | select(.name == "prison") | .handled] | .[0]')"
xz call xz.sys.clock.advance '{"ms":16000}' >/dev/null
breached() { grep -q "\"prison.alarm.sla-breached\".*$ALM" "$XZ_T/events"; }
wait_for 15 breached && pass "the alarm raised before the faults breached its SLA on time" ||
	fail "no sla-breached event for $ALM"

# --- reload restarts an isolated plugin's child
OLD=$(child_pid lsvc)
xz reload >/dev/null 2>&1 || true
lua_new() { lua_back && [ "$(child_pid lsvc)" != "$OLD" ]; }
wait_for 20 lua_new && pass "reload restarted the Lua plugin's child" ||
	fail "reload did not restart lsvc (pid $OLD)"

# --- stop: every child goes with the node
CHILDREN=$(pgrep -P "$NODE" | tr '\n' ' ')
stop_node
for c in $CHILDREN; do
	if kill -0 "$c" 2>/dev/null; then fail "child $c outlived the node"; fi
done
pass "no child outlived the node (${CHILDREN:-none})"
# the segfaulting children's own SEGV reports are expected; no other
if grep -E "ERROR: (AddressSanitizer|LeakSanitizer)" "$XZ_T/n1.log" |
	grep -v "SEGV on unknown address" | grep -q .; then
	fail "a sanitizer report in the node's log"
else
	pass "no sanitizer report but the expected segfaults'"
fi
finish
