# durable_lib.sh - shared parts of the durable-delivery tests (source it
# after lib.sh).
#
# durable_setup: what each durable test starts with: skip without the
# sqlite3 shell or jq, xz_setup, the Lua files below written to $XZ_T, and
# DATA, the default node's data folder.
durable_setup() {
	command -v sqlite3 >/dev/null || skip_test "no sqlite3 shell"
	command -v jq >/dev/null || skip_test "no jq"
	xz_setup
	durable_scripts "$XZ_T"
	DATA=$XZ_T/n1/data
}

# durable_scripts DIR: write two Lua files to DIR.
# got.lua, the module the tests' Lua durable subscribers record their
# deliveries with (a Lua plugin in DIR requires it, in the node and
# isolated alike):
#   local got = require("got")
#   got.record(d.tag, msg)   -- in a durable handler: one row per msg.id in
#                            -- the table got(id, tag, n, redelivered) of its
#                            -- store; n counts the deliveries, redelivered
#                            -- is 1 once one was flagged
# dsub.lua, a Lua plugin that takes dtest.> with xz.subscribe_durable and
# records each delivery. The first delivery (not flagged redelivered) of an
# event whose mode is "fail", or whose fail_on is the plugin's option
# `node`, raises an error (not acknowledged); mode "hold" waits in
# xz.request on dhold.wait (not acknowledged while it waits); anything
# else returns, which acknowledges it. With the option init_spin_ms, init
# spins that long after it subscribed (give the entry a lua group with a
# high instruction_limit): a slow start, during which the node already
# delivers what the log holds for the plugin.
durable_scripts() {
	cat >"$1/got.lua" <<'EOF2'
local M = {}
local ready = false
function M.record(tag, msg)
	assert(#msg.id == 32, "msg.id is 32 hex digits")
	if not ready then
		xz.db.exec("CREATE TABLE IF NOT EXISTS got(id TEXT PRIMARY KEY, "
			.. "tag TEXT NOT NULL, n INTEGER NOT NULL, redelivered "
			.. "INTEGER NOT NULL)")
		ready = true
	end
	xz.db.exec("INSERT INTO got(id, tag, n, redelivered) "
		.. "VALUES(?, ?, 1, ?) ON CONFLICT(id) DO UPDATE SET "
		.. "n = n + 1, redelivered = max(redelivered, "
		.. "excluded.redelivered)", msg.id, tag,
		msg.redelivered and 1 or 0)
end
return M
EOF2
	cat >"$1/dsub.lua" <<'EOF2'
local got = require("got")
return {
	name = "dsub", version = "1.0",
	init = function()
		xz.subscribe_durable("dtest.>", function(d, topic, source, caller, msg)
			got.record(d.tag, msg)
			if msg.redelivered then
				return
			end
			if d.mode == "fail"
				or (d.fail_on ~= nil and d.fail_on == xz.config.node) then
				error("failing on purpose")
			elseif d.mode == "hold" then
				xz.request("dhold.wait", {}, 600000)
			end
		end)
		-- a slow start (its plugin entry lifts the instruction limit)
		local spin_until = xz.now() + (tonumber(xz.config.init_spin_ms) or 0)
		while xz.now() < spin_until do end
	end,
}
EOF2
}

# got_row DB TAG: "n redelivered" of the event tagged TAG in the store DB
# (a plugin's DATA/NAME.db), empty while there is none.
got_row() {
	sqlite3 -cmd ".timeout 5000" "$1" \
		"SELECT n || ' ' || redelivered FROM got WHERE tag = '$2'" 2>/dev/null || true
}

# durable_field CONSUMER FIELD [NODE]: FIELD (pending, subscribed, ...) of
# CONSUMER's entry in status .durable.consumers, of node NODE (its config
# $XZ_T/NODE.cfg, as `on` uses) or of the default node.
durable_field() {
	local st
	if [ -n "${3:-}" ]; then st=$(on "$3" status); else st=$(xz status); fi
	jq -r --arg c "$1" --arg f "$2" '.durable.consumers[] | select(.name == $c) | .[$f]' <<<"$st"
}

# kill9_node [NAME]: kill -9 node NAME (default n1), wait for it, and
# forget it (start_node may start it again).
kill9_node() {
	local name=${1:-n1} pid entry keep=()
	pid=$(node_pid "$name") || die "kill9_node: no node named $name"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	for entry in "${XZ_NODES[@]}"; do
		[ "${entry%%:*}" = "$name" ] || keep+=("$entry")
	done
	XZ_NODES=("${keep[@]+"${keep[@]}"}")
}
