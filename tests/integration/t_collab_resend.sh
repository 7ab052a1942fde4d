#!/usr/bin/env bash
# t_collab_resend.sh - a case transfer to another agency's node that was
# not acknowledged is sent again until it is (docs/collab.md, "Across
# nodes"):
#  - the receiving node is down when the prison sends: the delivery is
#    PENDING with the reason; started again, the receiver gets it, keeps
#    exactly one record, and the sender's delivery is ACKNOWLEDGED;
#  - the sender itself restarts while a delivery is pending: it resends
#    after its restart;
#  - nobody ever answers: after deliver_give_up_s the delivery is FAILED
#    with the reason, and no longer sent.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
command -v jq >/dev/null || skip_test "jq is not installed"
[ -f "$XZ_PLUGIN_DIR/collab.so" ] || skip_test "plugin 'collab' is not built"

forget() { local keep=() e; for e in "${XZ_NODES[@]}"; do [ "${e%%:*}" = "$1" ] || keep+=("$e"); done; XZ_NODES=("${keep[@]}"); }

# The prison (p) dials the procuratorate (q); its collab resends every
# 200 ms at first, at most every second.
TWO_NODES_START=0 two_nodes p q 'agency = "procuratorate-01"; import = [ "collab.transfer.sync.prison_01" ];
            export = [ "collab.transfer.deliver.procuratorate_01", "collab.transfer.sync.procuratorate_01" ];' \
	'agency = "prison-01"; roles = [ "node_prison" ];
            import = [ "collab.transfer.deliver.procuratorate_01", "collab.transfer.sync.procuratorate_01" ];
            export = [ "collab.transfer.sync.prison_01" ];' \
	'plugins = ( { name = "collab"; kind = "so"; options = { agencies = "prison-01"; notify_days = 5;
    deliver_retry_ms = 200; deliver_retry_max_ms = 1000; deliver_give_up_s = 600; }; } );' \
	'plugins = ( { name = "collab"; kind = "so"; options = { agencies = "procuratorate-01"; }; } );
auth = { roles = { node_prison = {
  publish = { allow = [ "collab.transfer.deliver.procuratorate_01", "collab.transfer.sync.procuratorate_01" ]; };
  subscribe = { allow = [ "collab.transfer.sync.prison_01" ]; }; }; }; };'
# A prison alone, whose transfers nobody ever acknowledges.
node_cfg lone "bus = { listen = [ \"ipc://$XZ_T/lone/bus.sock\" ]; };
plugins = ( { name = \"collab\"; kind = \"so\"; options = { agencies = \"prison-01\"; notify_days = 5;
    deliver_retry_ms = 200; deliver_retry_max_ms = 400; deliver_give_up_s = 2; }; } );"

CLERK_P='"actor":{"user":"clerk1","role":"case_clerk","agency":"prison-01"}'
CLERK_Q='"actor":{"user":"jian-1","role":"case_clerk","agency":"procuratorate-01"}'
# send NODE ID DIGIT: a transfer to the procuratorate (DIGIT makes the
# package, and so its hash, its own)
send() {
	on "$1" call collab.transfer.send "{$CLERK_P,\"transfer_id\":\"$2\",
  \"type\":\"COMMUTATION_PAROLE_PROPOSAL\",\"to_agency\":\"procuratorate-01\",
  \"subject\":{\"type\":\"prisoner\",\"id\":\"510100000$3\"},
  \"documents\":[{\"name\":\"proposal.pdf\",\"media_type\":\"application/pdf\",
  \"sha256\":\"$3d9a4b8e0f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f80910\",\"size\":48213}]}"
}
delivery() { on "$1" call collab.transfer.get "{$CLERK_P,\"transfer_id\":\"$2\",\"history\":true}" | jq -r "$3"; }

start_node "$XZ_T/q.cfg" q
start_node "$XZ_T/p.cfg" p
wait_until 30 "link_field p q '.interest | index(\"collab.transfer.deliver.procuratorate_01\") != null' | grep -qx true" ||
	fail "q's collab is not known at p"

echo "-- the receiving node is down when the prison sends"
stop_node q
forget q
wait_until 30 '[ "$(link_field p q .state)" != up ]' || fail "p does not notice q is down"
check "send while q is down" send p JY-R-0001 1
assert_eq "sent at the prison" SENT "$(echo "$OUT" | jq -r .state)"
wait_until 20 "[ \"\$(delivery p JY-R-0001 .delivery.state)\" = PENDING ] && [ \"\$(delivery p JY-R-0001 .delivery.attempts)\" -ge 2 ]" ||
	fail "the delivery is not pending and resent"
assert_eq "pending, the reason said" PENDING "$(delivery p JY-R-0001 .delivery.state)"
assert_contains "the reason names the receiver" "procuratorate-01" "$(delivery p JY-R-0001 .delivery.error)"
assert_eq "the resend timer is no statutory clock" notify \
	"$(delivery p JY-R-0001 '[.clocks[].clock] | join(" ")')"
start_node "$XZ_T/q.cfg" q
wait_until 60 "[ \"\$(delivery p JY-R-0001 .delivery.state)\" = ACKNOWLEDGED ]" ||
	fail "the resent transfer is not acknowledged"
assert_eq "acknowledged on the sender" ACKNOWLEDGED "$(delivery p JY-R-0001 .delivery.state)"
echo "  (sendings: $(delivery p JY-R-0001 .delivery.attempts))"
assert_eq "the sender's history: sent, undelivered once, delivered" "send undelivered delivered" \
	"$(delivery p JY-R-0001 '[.history[].action] | join(" ")')"
check "the receiver has it" on q call collab.transfer.get "{$CLERK_Q,\"transfer_id\":\"JY-R-0001\",\"history\":true}"
assert_eq "stored once on the receiver, delivered once" "SENT delivered" \
	"$(echo "$OUT" | jq -r '"\(.state) \([.history[].action] | join(" "))"')"
if command -v sqlite3 >/dev/null; then
	assert_eq "exactly one record in the receiver's database" 1 \
		"$(sqlite3 "$XZ_T/q/data/collab.db" "SELECT count(*) FROM records WHERE kind='transfer' AND id='JY-R-0001'")"
else
	skip "the database file check: no sqlite3"
fi

echo "-- a resend the receiver already has is acknowledged, not stored twice"
if command -v sqlite3 >/dev/null; then
	check "the same delivery again (what a resend after a lost acknowledgement is)" \
		on q call collab.transfer.deliver.procuratorate_01 \
		"$(sqlite3 "$XZ_T/p/data/collab.db" "SELECT json_object('transfer', json(data)) FROM records WHERE kind='transfer' AND id='JY-R-0001'")"
	assert_eq "answered as a duplicate" true "$(echo "$OUT" | jq -r .duplicate)"
	check "the receiver still has it once" on q call collab.transfer.get "{$CLERK_Q,\"transfer_id\":\"JY-R-0001\",\"history\":true}"
	assert_eq "still one delivered row" "delivered" "$(echo "$OUT" | jq -r '[.history[].action] | join(" ")')"
else
	skip "the duplicate delivery: no sqlite3"
fi

echo "-- the sender restarts while a delivery is pending"
stop_node q
forget q
wait_until 30 '[ "$(link_field p q .state)" != up ]' || fail "p does not notice q is down"
check "send while q is down" send p JY-R-0002 2
wait_until 20 "[ \"\$(delivery p JY-R-0002 .delivery.state)\" = PENDING ]" || fail "not pending"
stop_node p
forget p
start_node "$XZ_T/q.cfg" q
start_node "$XZ_T/p.cfg" p
wait_until 60 "[ \"\$(delivery p JY-R-0002 .delivery.state)\" = ACKNOWLEDGED ]" ||
	fail "the restarted sender does not resend"
assert_eq "acknowledged after the sender's restart" ACKNOWLEDGED "$(delivery p JY-R-0002 .delivery.state)"
check "the receiver has it" on q call collab.transfer.get "{$CLERK_Q,\"transfer_id\":\"JY-R-0002\"}"

echo "-- nobody answers: FAILED after deliver_give_up_s"
start_node "$XZ_T/lone.cfg" lone
check "send with no link" send lone JY-R-0003 3
wait_until 30 "[ \"\$(delivery lone JY-R-0003 .delivery.state)\" = FAILED ]" ||
	fail "the delivery does not give up"
assert_eq "failed" FAILED "$(delivery lone JY-R-0003 .delivery.state)"
assert_contains "the reason: gave up" "gave up after deliver_give_up_s" "$(delivery lone JY-R-0003 .delivery.error)"
assert_contains "the reason: nothing routes there" "no route to its node" "$(delivery lone JY-R-0003 .delivery.error)"
n1=$(delivery lone JY-R-0003 .delivery.attempts)
echo "  (sendings before giving up: $n1)"
sleep 1.5
assert_eq "no longer sent" "$n1" "$(delivery lone JY-R-0003 .delivery.attempts)"
assert_eq "history: sent, undelivered, undelivered (final)" "send undelivered undelivered" \
	"$(delivery lone JY-R-0003 '[.history[].action] | join(" ")')"
for n in lone p q; do stop_node "$n"; done
finish
