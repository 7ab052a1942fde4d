#!/usr/bin/env bash
# t_node_links_durable.sh - events of a bus.durable topic that arrive from
# another node over a link are written to the receiving node's durable
# log before they are routed there (docs/architecture.md, "Durable
# topics"), in both directions of a link: node a dials node b, so an event
# from a reaches b through the connection b accepted, and one from b
# reaches a through the connection a dialed. Both nodes list dtest.> in
# bus.durable and run a Lua durable subscriber (`dtest`) that records each
# message id and fails (does not acknowledge) the first delivery of an
# event whose fail_on names its node. Checked:
#   - the event from the other node is pending for the receiving node's
#     consumer (it was logged there, not only routed);
#   - kill -9 of the receiving node: after the restart the consumer gets
#     it again, flagged redelivered, and then nothing stays pending;
#   - an event it acknowledged does not come again;
#   - nothing was refused (durable_refused 0 on the links).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip_test "no sqlite3 shell"
command -v jq >/dev/null || skip_test "no jq"
xz_setup

cat >"$XZ_T/dsub.lua" <<'EOF2'
return {
	name = "dsub", version = "1.0",
	init = function()
		xz.db.exec("CREATE TABLE IF NOT EXISTS got(id TEXT PRIMARY KEY, "
			.. "tag TEXT NOT NULL, n INTEGER NOT NULL, redelivered "
			.. "INTEGER NOT NULL)")
		xz.subscribe_durable("dtest.>", function(d, topic, source, caller, msg)
			xz.db.exec("INSERT INTO got(id, tag, n, redelivered) "
				.. "VALUES(?, ?, 1, ?) ON CONFLICT(id) DO UPDATE SET "
				.. "n = n + 1, redelivered = max(redelivered, "
				.. "excluded.redelivered)", msg.id, d.tag,
				msg.redelivered and 1 or 0)
			if d.fail_on == xz.config.node and not msg.redelivered then
				error("failing on purpose")
			end
		end)
	end,
}
EOF2

token() { printf 'xzn_%s\n' "$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"; }
mkdir -p "$XZ_T/tok"
token >"$XZ_T/tok/ab"
node() {
	local name=$1
	mkdir -p "$XZ_T/$name"
	xz_config "$XZ_T/$name.cfg" "$name" <<EOF
$2
plugins = ( { name = "dtest"; kind = "lua"; path = "$XZ_T/dsub.lua";
              options = { node = "$name"; }; } );
$3
EOF
}
on() { local n=$1; shift; "$XZ_BIN" "$1" -c "$XZ_T/$n.cfg" "${@:2}"; }
link_field() { on "$1" status | jq -r --arg l "$2" ".node_links[] | select(.name == \$l) | $3"; }
pending() { # pending NODE
	on "$1" status | jq -r '.durable.consumers[] | select(.name == "dtest") | .pending'
}
row() { # row NODE TAG: "n redelivered"
	sqlite3 -cmd ".timeout 5000" "$XZ_T/$1/data/dtest.db" \
		"SELECT n || ' ' || redelivered FROM got WHERE tag = '$2'" 2>/dev/null || true
}
up() {
	wait_until 30 '[ "$(link_field a b .state)" = up ] && [ "$(link_field b a .state)" = up ]' &&
		wait_until 30 "link_field a b '.interest | index(\"dtest.>\") != null' | grep -qx true" &&
		wait_until 30 "link_field b a '.interest | index(\"dtest.>\") != null' | grep -qx true"
}

node a "bus = { listen = [ \"ipc://$XZ_T/a/bus.sock\" ]; durable = ( \"dtest.>\" ); };" \
	"links = ( { name = \"b\"; url = \"ipc://$XZ_T/b/bus.sock\"; creds = \"$XZ_T/tok/ab\";
                   import = [ \"dtest.>\" ]; export = [ \"dtest.>\" ]; } );"
node b "bus = { listen = [ \"ipc://$XZ_T/b/bus.sock\" ]; durable = ( \"dtest.>\" ); };" \
	"links = ( { name = \"a\"; creds = \"$XZ_T/tok/ab\"; import = [ \"dtest.>\" ]; export = [ \"dtest.>\" ]; } );"
start_node "$XZ_T/b.cfg" b
start_node "$XZ_T/a.cfg" a
up || die "the link a <-> b does not come up with each side's interest"
pass "the link is up, each side wants dtest.>"

# from, to, tag: publish on FROM (acked there), see it pending on TO, kill
# TO, restart it, see it come again
cross() {
	local from=$1 to=$2
	check "publish $from-ok on $from" on "$from" pub dtest.x "{\"tag\":\"$from-ok\"}"
	check "publish $from-fail on $from" on "$from" pub dtest.x "{\"tag\":\"$from-fail\",\"fail_on\":\"$to\"}"
	wait_until 30 "test \"\$(row $to $from-fail)\" = '1 0' && test \"\$(row $to $from-ok)\" = '1 0'" ||
		fail "$to did not get $from's events once: ok '$(row "$to" "$from-ok")' fail '$(row "$to" "$from-fail")'"
	wait_until 30 "test \"\$(pending $to)\" = 1" ||
		fail "$to: the failed event from $from is not pending in $to's durable log (pending '$(pending "$to")')"
	assert_eq "$to refused no event of $from" 0 "$(link_field "$to" "$from" .durable_refused)"
	local pid
	pid=$(node_pid "$to")
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	local keep=() e
	for e in "${XZ_NODES[@]}"; do [ "${e%%:*}" = "$to" ] || keep+=("$e"); done
	XZ_NODES=("${keep[@]+"${keep[@]}"}")
	start_node "$XZ_T/$to.cfg" "$to"
	wait_until 60 "test \"\$(row $to $from-fail)\" = '2 1'" ||
		fail "after kill -9 of $to, $from's failed event did not come again: '$(row "$to" "$from-fail")'"
	wait_until 30 "test \"\$(pending $to)\" = 0" || fail "$to: still $(pending "$to") pending"
	assert_eq "$to: $from's acknowledged event did not come again" "1 0" "$(row "$to" "$from-ok")"
	up || fail "the link does not come back after $to's restart"
}

echo "-- a -> b (the connection b accepted)"
cross a b
echo "-- b -> a (the connection a dialed)"
cross b a
for n in a b; do stop_node "$n"; done
finish
