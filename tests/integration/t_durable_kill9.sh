#!/usr/bin/env bash
# Durable topics across kill -9 (issue 13, part 3). A node with the prison
# and audit plugins and bus.durable = ("prison.alarm.>", "audit.>") serves a
# traffic loop — alarms raised through the CLI, and audit events published
# straight on audit.test.kill9 — and is killed with SIGKILL, then started
# again, 100 times. After every restart (every 5th in a sanitizer build,
# whose traffic is also paced: what a round loses or doubles is still found
# at the next check, since the checks count everything acknowledged since
# the start; there the kills also stop, skipped and counted, when their
# XZ_DURABLE_BUDGET_S, 1500 s, ran out on a loaded machine):
#   - every alarm whose raise was answered with an id is in prison's store;
#   - its CREATE record is in the audit chain exactly once;
#   - every audit event whose `pub` was acknowledged is in the chain
#     exactly once (the durable log delivers it again after the kill, the
#     audit plugin skips the ids it already chained);
#   - `xiezhi audit verify` passes.
# First, check warns about a bus.durable pattern that no plugin can be
# behind and refuses a malformed one. Then the kills, then the bound: with
# the audit plugin left out (its durable subscription
# stays in the log), events wait for it until bus.durable_max_bytes, then
# publishers get durable_full (never silent loss), status shows the lag,
# and once audit is back every acknowledged event reaches the chain once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/durable_lib.sh"
command -v sqlite3 >/dev/null || skip_test "no sqlite3 shell"
command -v jq >/dev/null || skip_test "no jq"
xz_setup
KILLS=${XZ_DURABLE_KILLS:-100}
CHECK_EVERY=1
PACE=0   # seconds between two calls of a traffic loop
BUDGET=0 # seconds for the kills, 0: no bound
if sanitized; then
	CHECK_EVERY=5
	PACE=0.2
	BUDGET=${XZ_DURABLE_BUDGET_S:-1500}
fi
A='"actor":{"user":"officer-7","role":"area_officer","agency":"prison-01"}'
DATA=$XZ_T/n1/data
write_cfg() { # AUDIT(1/0) MAX_BYTES
	local audit=""
	[ "$1" = 1 ] && audit=', { name = "audit"; kind = "so"; }'
	# day-long SLAs: no escalation record in the middle of a count
	xz_config <<EOF2
bus = {
  durable = ( "prison.alarm.>", "audit.>" );
  durable_max_bytes = $2;
};
plugins = (
  { name = "prison"; kind = "so";
    options = { alarm_ack_sla_s = 86400; alarm_ack_sla_l2_s = 86400; alarm_ack_sla_l3_s = 86400; }; }
  $audit
);
EOF2
}
q() { sqlite3 -cmd ".timeout 5000" "$@"; }
: >"$XZ_T/acked.alarms"
: >"$XZ_T/acked.probes"

# alarms ROUND / probes ROUND: raise alarms / publish audit events until
# $XZ_T/stop exists (two loops, so traffic of both kinds is in flight when
# the node dies); write down what was acknowledged.
alarms() {
	local i=0 out id
	while [ ! -e "$XZ_T/stop" ]; do
		i=$((i + 1))
		if out=$("$XZ_BIN" call -c "$XZ_CFG" -t 2000 prison.alarm.raise \
			"{$A,\"kind\":\"FIRE\",\"location\":\"5101.01.1.10$(((i - 1) % 4 + 1))\",\"source\":\"sensor\"}" 2>/dev/null); then
			id=$(jq -r '.id // empty' <<<"$out" 2>/dev/null || true)
			[ -z "$id" ] || echo "$id" >>"$XZ_T/acked.alarms"
		fi
		[ "$PACE" = 0 ] || sleep "$PACE"
	done
}
probes() {
	local i=0
	while [ ! -e "$XZ_T/stop" ]; do
		i=$((i + 1))
		if "$XZ_BIN" pub -c "$XZ_CFG" audit.test.kill9 \
			"{\"who\":\"probe\",\"role\":\"sensor\",\"action\":\"PROBE\",\"subject_type\":\"probe\",\"subject_id\":\"p-$1-$i\",\"outcome\":\"ok\"}" \
			>/dev/null 2>&1; then
			echo "p-$1-$i" >>"$XZ_T/acked.probes"
		fi
		[ "$PACE" = 0 ] || sleep "$PACE"
	done
}

lines() { wc -l <"$1" | tr -d ' '; }
# verdict: one sqlite3 run (the checks repeat often on a loaded machine):
# "S C D" = acknowledged alarms missing from prison's store, acknowledged
# alarms and events not (yet) in the audit chain, subjects chained twice.
verdict() {
	sqlite3 "$DATA/audit.db" <<EOF2
.timeout 5000
ATTACH '$DATA/prison.db' AS p;
CREATE TEMP TABLE a(id TEXT);
CREATE TEMP TABLE b(id TEXT);
.import $XZ_T/acked.alarms a
.import $XZ_T/acked.probes b
.separator " "
SELECT (SELECT count(*) FROM a WHERE id NOT IN (SELECT id FROM p.records WHERE kind = 'alarm')),
  (SELECT count(*) FROM a WHERE id NOT IN (SELECT subject_id FROM audit_log WHERE action = 'CREATE' AND subject_type = 'alarm'))
  + (SELECT count(*) FROM b WHERE id NOT IN (SELECT subject_id FROM audit_log WHERE subject_type = 'probe')),
  (SELECT count(*) FROM (SELECT subject_id FROM audit_log WHERE (action = 'CREATE' AND subject_type = 'alarm') OR subject_type = 'probe' GROUP BY subject_type, subject_id HAVING count(*) > 1));
EOF2
}
missing_chain() { verdict | cut -d' ' -f2; }
twice() { verdict | cut -d' ' -f3; }

# after_restart ROUND: the checks after each restart.
bad_rounds=0
after_restart() {
	local r=$1 ok=1 v s c d
	# the chain catches up (prison's spool drains, the log redelivers)
	wait_until 90 'test "$(missing_chain)" = 0' || true
	v=$(verdict)
	read -r s c d <<<"$v"
	[ "$s" = 0 ] || { fail "round $r: $s acknowledged alarm(s) missing from prison's store"; ok=0; }
	[ "$c" = 0 ] || { fail "round $r: $c acknowledged alarm(s)/event(s) not in the audit chain"; ok=0; }
	[ "$d" = 0 ] || { fail "round $r: $d subject(s) chained more than once"; ok=0; }
	if ! xz audit verify >"$XZ_T/verify.out" 2>&1; then
		fail "round $r: audit verify: $(head -c 300 "$XZ_T/verify.out")"
		ok=0
	fi
	[ "$ok" = 1 ] || bad_rounds=$((bad_rounds + 1))
}

# check: a malformed pattern is an error at its FILE:LINE; a pattern no
# plugin of the deployment can be behind is a warning there
xz_config <<EOF2
bus = {
  durable = ( "prison.alarm.>", "nosuch.>" );
};
plugins = ( { name = "prison"; kind = "so"; } );
EOF2
assert_exit "check accepts a durable pattern that matches nothing" 0 xz check
assert_contains "and warns at its FILE:LINE" \
	"$XZ_CFG:9: WARN bus.durable[1] 'nosuch.>' matches no topic" "$ERR"
xz_config <<EOF2
bus = {
  durable = ( "prison..x" );
  durable_max_bytes = 10;
};
EOF2
assert_exit "check refuses a malformed durable pattern" 1 xz check
assert_contains "naming it at its FILE:LINE" \
	"$XZ_CFG:9: bus.durable[0]: invalid topic pattern 'prison..x'" "$ERR"
assert_contains "and a bound below 64 KiB" "$XZ_CFG:10: bus.durable_max_bytes" "$ERR"

write_cfg 1 67108864
start_node
T0=$SECONDS
done_rounds=0
checked=0
for r in $(seq 1 "$KILLS"); do
	if [ "$BUDGET" != 0 ] && [ $((SECONDS - T0)) -ge "$BUDGET" ]; then
		skip "kills $r to $KILLS: the $BUDGET s for them ran out"
		break
	fi
	rm -f "$XZ_T/stop"
	before=$(($(lines "$XZ_T/acked.probes") + $(lines "$XZ_T/acked.alarms")))
	alarms "$r" &
	TA=$!
	probes "$r" &
	TP=$!
	# kill while traffic flows: once this round has acknowledged some
	if ! wait_until 60 "test \$((\$(lines '$XZ_T/acked.probes') + \$(lines '$XZ_T/acked.alarms'))) -gt $before"; then
		fail "round $r: no traffic acknowledged in 60 s"
	fi
	[ -z "${XZ_DURABLE_TRACE:-}" ] || echo "    t=$SECONDS kill"
	kill9_node
	touch "$XZ_T/stop"
	wait "$TA" || true
	wait "$TP" || true
	[ -z "${XZ_DURABLE_TRACE:-}" ] || echo "    t=$SECONDS traffic stopped"
	start_node
	[ -z "${XZ_DURABLE_TRACE:-}" ] || echo "    t=$SECONDS started"
	done_rounds=$r
	if [ $((r % CHECK_EVERY)) = 0 ]; then
		after_restart "$r"
		checked=$r
	fi
	[ -z "${XZ_DURABLE_TRACE:-}" ] || echo "    t=$SECONDS checked"
	[ "$bad_rounds" -le 3 ] || die "too many failed rounds"
done
[ "$checked" = "$done_rounds" ] || after_restart "$done_rounds"
assert_eq "rounds with a loss, a duplicate or a failed verify" 0 "$bad_rounds"
echo "  .. $done_rounds kills in $((SECONDS - T0)) s: $(lines "$XZ_T/acked.alarms") alarms and $(lines "$XZ_T/acked.probes") audit events acknowledged, $(grep -c 'delivered again' "$XZ_T/n1.log" || true) start(s) with a redelivery"
check "audit verify after $done_rounds kills" xz audit verify
STATUS=$(xz status)
assert_eq "the audit plugin is a durable consumer" true \
	"$(jq -r '.durable.consumers[] | select(.name == "audit") | .subscribed' <<<"$STATUS")"
wait_until 30 'test "$(xz status | jq -r ".durable.consumers[] | select(.name == \"audit\") | .pending")" = 0' ||
	fail "the audit plugin's pending events are acknowledged"
stop_node

# ---- the bound: a durable consumer that is down ----
write_cfg 0 65536
start_node
: >"$XZ_T/full.out"
PAD=$(printf 'x%.0s' $(seq 1 900))
full=0
for i in $(seq 1 200); do
	if xz pub audit.test.kill9 "{\"who\":\"probe\",\"action\":\"PROBE\",\"subject_type\":\"probe\",\"subject_id\":\"b-$i\",\"outcome\":\"ok\",\"pad\":\"$PAD\"}" >/dev/null 2>"$XZ_T/full.out"; then
		echo "b-$i" >>"$XZ_T/acked.probes"
	else
		full=1
		break
	fi
done
assert_eq "a full log refuses the publisher" 1 "$full"
assert_contains "with durable_full" "durable_full" "$(cat "$XZ_T/full.out")"
STATUS=$(xz status)
PENDING=$(jq -r '.durable.consumers[] | select(.name == "audit") | .pending' <<<"$STATUS")
assert_eq "status: the audit consumer is not subscribed" false \
	"$(jq -r '.durable.consumers[] | select(.name == "audit") | .subscribed' <<<"$STATUS")"
assert_le "status: its lag is the events it has not taken" 50 "$PENDING"
stop_node
write_cfg 1 65536
start_node
wait_until 90 'test "$(missing_chain)" = 0' ||
	fail "every acknowledged event reaches the chain once audit is back ($(missing_chain) missing)"
assert_eq "none of them twice" 0 "$(twice)"
wait_until 30 'test "$(xz status | jq -r ".durable.consumers[] | select(.name == \"audit\") | .pending")" = 0' ||
	fail "the backlog is acknowledged"
check "audit verify at the end" xz audit verify
stop_node
finish
