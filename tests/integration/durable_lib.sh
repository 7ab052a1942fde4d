# durable_lib.sh - shared parts of the durable-delivery tests (source it
# after lib.sh).
#
# got_module DIR: write DIR/got.lua, the module the tests' Lua durable
# subscribers keep their deliveries with (a Lua plugin in DIR requires it,
# in the node and isolated alike):
#   local got = require("got")
#   got.init()               -- in init: the table got(id, tag, n, redelivered)
#   got.record(d.tag, msg)   -- in a durable handler: one row per msg.id,
#                            -- n counts its deliveries, redelivered is 1
#                            -- once one was flagged
got_module() {
	cat >"$1/got.lua" <<'EOF2'
local M = {}
function M.init()
	xz.db.exec("CREATE TABLE IF NOT EXISTS got(id TEXT PRIMARY KEY, "
		.. "tag TEXT NOT NULL, n INTEGER NOT NULL, redelivered "
		.. "INTEGER NOT NULL)")
end
function M.record(tag, msg)
	assert(#msg.id == 32, "msg.id is 32 hex digits")
	xz.db.exec("INSERT INTO got(id, tag, n, redelivered) "
		.. "VALUES(?, ?, 1, ?) ON CONFLICT(id) DO UPDATE SET "
		.. "n = n + 1, redelivered = max(redelivered, "
		.. "excluded.redelivered)", msg.id, tag,
		msg.redelivered and 1 or 0)
end
return M
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
