#!/usr/bin/env bash
# SIGTERM's drain is bounded by node.drain_timeout_ms: a script whose
# handler takes 2 s a message, with 20 messages queued, makes a drain of
# 40 s; with drain_timeout_ms = 1000 the node stops well before that,
# exits 0 and logs how many messages it left queued (docs/operations.md).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
cat >"$XZ_T/slow.lua" <<'EOF2'
return {
  name = "slow",
  handlers = {
    ["slow.work"] = function()
      local t = xz.now() + 2000
      while xz.now() < t do end
    end,
  },
}
EOF2
XZ_NODE_EXTRA='drain_timeout_ms = 1000;' xz_config <<EOF2
lua = { time_limit_ms = 20000; instruction_limit = 1000000000000L; };
scripts = ( { name = "slow"; path = "$XZ_T/slow.lua"; } );
EOF2
start_node
# all 20 at once (one console chunk), so they are queued when SIGTERM comes
check "20 events queued" xz console -e 'for i = 1, 20 do assert(xz.publish("slow.work", {})) end return 20'
busy() { grep -q '"queue_depth":[1-9]' <<<"$(xz call xz.sys.status '{}')"; }
wait_for 20 busy || fail "the events are queued"
T0=$SECONDS
stop_node
echo "  .. stopped in $((SECONDS - T0)) s"
assert_contains "the bound is said" "drain not done after node.drain_timeout_ms (1000 ms)" \
	"$(cat "$XZ_T/n1.log")"
left=$(grep -o 'stopping with [0-9]* message(s) still queued' "$XZ_T/n1.log" | grep -o '[0-9]*' | head -1)
echo "  .. left queued: ${left:-none}"
[ -n "$left" ] && [ "$left" -ge 1 ] && pass "the messages left are counted ($left)" ||
	fail "the messages left are counted: '${left:-}'"
XZ_NODE_EXTRA='drain_timeout_ms = 50;' xz_config "$XZ_T/bad.cfg" n2 </dev/null
assert_exit "a drain_timeout_ms out of range is refused" 1 "$XZ_BIN" check -c "$XZ_T/bad.cfg"
assert_contains "naming FILE:LINE and the key" "bad.cfg:" "$OUT$ERR"
assert_contains "naming the key" "drain_timeout_ms" "$OUT$ERR"
finish
