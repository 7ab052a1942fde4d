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
. "$(dirname "$0")/durable_lib.sh"
durable_setup # $XZ_T/dsub.lua and got.lua: durable_lib.sh

pending() { durable_field dtest pending "$1"; } # pending NODE
row() { got_row "$XZ_T/$1/data/dtest.db" "$2"; } # row NODE TAG: "n redelivered"
up() {
	wait_until 60 '[ "$(link_field a b .state)" = up ] && [ "$(link_field b a .state)" = up ]' &&
		wait_until 60 "link_field a b '.interest | index(\"dtest.>\") != null' | grep -qx true" &&
		wait_until 60 "link_field b a '.interest | index(\"dtest.>\") != null' | grep -qx true"
}
plugin() { echo "plugins = ( { name = \"dtest\"; kind = \"lua\"; path = \"$XZ_T/dsub.lua\"; options = { node = \"$1\"; }; } );"; }

# a dials b; both log dtest.> and exchange it. No periodic redelivery (an
# hour): what comes again here comes from a restart, however slow the
# machine.
LINK='import = [ "dtest.>" ]; export = [ "dtest.>" ];'
BUS='durable = ( "dtest.>" ); durable_redeliver_ms = 3600000;'
two_nodes a b "$LINK" "$LINK" "$(plugin a)" "$(plugin b)" "$BUS" "$BUS"
up || die "the link a <-> b does not come up with each side's interest"
pass "the link is up, each side wants dtest.>"

# from, to, tag: publish on FROM (acked there), see it pending on TO, kill
# TO, restart it, see it come again
cross() {
	local from=$1 to=$2
	check "publish $from-ok on $from" on "$from" pub dtest.x "{\"tag\":\"$from-ok\"}"
	check "publish $from-fail on $from" on "$from" pub dtest.x "{\"tag\":\"$from-fail\",\"fail_on\":\"$to\"}"
	wait_until 60 "test \"\$(row $to $from-fail)\" = '1 0' && test \"\$(row $to $from-ok)\" = '1 0'" ||
		fail "$to did not get $from's events once: ok '$(row "$to" "$from-ok")' fail '$(row "$to" "$from-fail")'"
	wait_until 60 "test \"\$(pending $to)\" = 1" ||
		fail "$to: the failed event from $from is not pending in $to's durable log (pending '$(pending "$to")')"
	assert_eq "$to refused no event of $from" 0 "$(link_field "$to" "$from" .durable_refused)"
	kill9_node "$to"
	start_node "$XZ_T/$to.cfg" "$to"
	wait_until 60 "test \"\$(row $to $from-fail)\" = '2 1'" ||
		fail "after kill -9 of $to, $from's failed event did not come again: '$(row "$to" "$from-fail")'"
	wait_until 60 "test \"\$(pending $to)\" = 0" || fail "$to: still $(pending "$to") pending"
	assert_eq "$to: $from's acknowledged event did not come again" "1 0" "$(row "$to" "$from-ok")"
	up || fail "the link does not come back after $to's restart"
}

echo "-- a -> b (the connection b accepted)"
cross a b
echo "-- b -> a (the connection a dialed)"
cross b a
for n in a b; do stop_node "$n"; done
finish
