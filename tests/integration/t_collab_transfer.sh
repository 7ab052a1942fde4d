#!/usr/bin/env bash
# Case transfers on a real node: every transition allowed and refused,
# deduplication by package hash, agency checks, inbox events, statutory
# clocks on the kernel clock (xz.sys.clock.advance), and the audit trail
# of it all (with the audit plugin in the same node).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
xz_config <<'EOF2'
plugins = (
  { name = "audit"; kind = "so"; },
  { name = "collab"; kind = "so"; }
);
EOF2
start_node
# Generous request deadlines (a loaded machine, clock jumps).
LONG="-t 600000"

H1=$(printf 'judgment' | sha256sum | cut -d' ' -f1)
H2=$(printf 'enforcement notice' | sha256sum | cut -d' ' -f1)
COURT='"actor":{"user":"clerk-1","role":"case_clerk","agency":"court-01"}'
CC='"actor":{"user":"officer-3","role":"case_clerk","agency":"cc-01"}'
POLICE='"actor":{"user":"pc-9","role":"case_clerk","agency":"police-01"}'
PROC='"actor":{"user":"pr-2","role":"case_clerk","agency":"procuratorate-01"}'
PRISON='"actor":{"user":"w-1","role":"case_clerk","agency":"prison-01"}'
D1="{\"name\":\"judgment\",\"media_type\":\"application/pdf\",\"sha256\":\"$H1\",\"size\":1234}"
D2="{\"name\":\"enforcement-notice\",\"media_type\":\"application/pdf\",\"sha256\":\"$H2\",\"size\":99}"
PKG1="\"type\":\"COMMUTATION_PAROLE_RULING\",\"from_agency\":\"court-01\",\"to_agency\":\"cc-01\",\"person_id\":\"11010519491231002X\",\"subject\":{\"type\":\"person\",\"id\":\"P-1001\"},\"reason\":\"parole granted\""

# Subscribers first: the receiving agency's inbox and the overdue events.
XZ_SUB_READY=1 xz_bg sub 'collab.cc_01.inbox.>' -n 1 -t 600000 >"$XZ_T/inbox.out" 2>"$XZ_T/inbox.err" &
SUB1=$!
XZ_SUB_READY=1 xz_bg sub collab.transfer.overdue -n 3 -t 600000 >"$XZ_T/overdue.out" 2>"$XZ_T/overdue.err" &
SUB2=$!
XZ_SUB_READY=1 xz_bg sub 'collab.police_01.inbox.arrest_request' -n 1 -t 600000 >"$XZ_T/police.out" 2>"$XZ_T/police.err" &
SUB3=$!
wait_for 10 grep -q ready "$XZ_T/police.err" || fail "police inbox ready"
wait_for 10 grep -q ready "$XZ_T/inbox.err" || fail "inbox subscriber ready"
wait_for 10 grep -q ready "$XZ_T/overdue.err" || fail "overdue subscriber ready"

# -- send, dedup ----------------------------------------------------------
check "send a parole ruling to community corrections" xz call $LONG collab.transfer.send "{$PKG1,\"documents\":[$D1,$D2],$COURT}"
T1=$(jq -r .transfer_id <<<"$OUT")
assert_eq "state SENT" SENT "$(jq -r .state <<<"$OUT")"
assert_eq "not a duplicate" false "$(jq -r .duplicate <<<"$OUT")"
assert_eq "id from the package hash" "tr-$(jq -r .package_hash <<<"$OUT" | cut -c1-16)" "$T1"
assert_eq "two clocks: notify, serve" "notify PENDING,serve PENDING" \
	"$(jq -r '[.clocks[] | "\(.clock) \(.status)"] | join(",")' <<<"$OUT")"
SENT_AT=$(jq -r .sent_at <<<"$OUT")
assert_eq "notify due 5 days after sending" \
	"$(date -u -d "${SENT_AT%.*} UTC + 5 days" +%Y-%m-%dT%H:%M:%S)" \
	"$(jq -r '.clocks[0].due_at' <<<"$OUT" | cut -c1-19)"
wait_for 20 test -s "$XZ_T/inbox.out" || fail "nothing on the inbox"
assert_eq "the receiving agency's inbox got it" \
	"collab.cc_01.inbox.commutation_parole_ruling $T1 SENT" \
	"$(jq -r '"\(.topic) \(.data.transfer_id) \(.data.state)"' "$XZ_T/inbox.out")"

check "the same package again" xz call $LONG collab.transfer.send "{$PKG1,\"documents\":[$D1,$D2],$COURT}"
assert_eq "is the existing transfer, duplicate" "$T1 true" "$(jq -r '"\(.transfer_id) \(.duplicate)"' <<<"$OUT")"
check "the same documents in another order" xz call $LONG collab.transfer.send "{$PKG1,\"documents\":[$D2,$D1],$COURT}"
assert_eq "is still a duplicate" "$T1 true" "$(jq -r '"\(.transfer_id) \(.duplicate)"' <<<"$OUT")"
check "a changed document hash is a new package" xz call $LONG collab.transfer.send \
	"{$PKG1,\"documents\":[$D1,{\"name\":\"enforcement-notice\",\"media_type\":\"application/pdf\",\"sha256\":\"$H1\",\"size\":99}],$COURT}"
T2=$(jq -r .transfer_id <<<"$OUT")
assert_eq "new transfer, not a duplicate" false "$(jq -r .duplicate <<<"$OUT")"
[ "$T2" != "$T1" ] && pass "a different id ($T2)" || fail "same id for a different package"

# -- refusals on send -------------------------------------------------------
assert_exit "send by another agency" 1 xz call $LONG collab.transfer.send "{$PKG1,\"documents\":[$D1],$POLICE}"
assert_eq "forbidden" "forbidden: only court-01 may send this package; the actor's agency is 'police-01'" \
	"$(jq -r '"\(.error.code): \(.error.message)"' <<<"$OUT")"
assert_exit "bad document hash" 1 xz call $LONG collab.transfer.send \
	"{$PKG1,\"documents\":[{\"name\":\"x\",\"media_type\":\"application/pdf\",\"sha256\":\"ABC\",\"size\":1}],$COURT}"
assert_eq "names the document" "documents[0].sha256 must be 64 lowercase hex digits" "$(jq -r .error.message <<<"$OUT")"
assert_exit "unknown type" 1 xz call $LONG collab.transfer.send "{\"type\":\"PARDON\",\"from_agency\":\"court-01\",\"to_agency\":\"prison-01\",\"subject\":{\"type\":\"person\",\"id\":\"P\"},\"documents\":[$D1],$COURT}"
assert_eq "names the field" "unknown instrument type 'PARDON' (field \"type\")" "$(jq -r .error.message <<<"$OUT")"
assert_exit "unknown key" 1 xz call $LONG collab.transfer.send "{$PKG1,\"documents\":[$D1],\"medical_history\":\"x\",$COURT}"
assert_contains "unknown key named" 'field "medical_history" is not part of this request' "$(jq -r .error.message <<<"$OUT")"
assert_exit "a payload that is not an object" 1 xz call $LONG collab.transfer.get '[1]'
assert_eq "bad_request" "bad_request: collab.transfer.get: the payload must be a JSON object" \
	"$(jq -r '"\(.error.code): \(.error.message)"' <<<"$OUT")"
assert_exit "no actor" 1 xz call $LONG collab.transfer.send "{$PKG1,\"documents\":[$D1]}"
assert_eq "bad_request" bad_request "$(jq -r .error.code <<<"$OUT")"
assert_exit "transfer_id taken by another package" 1 xz call $LONG collab.transfer.send \
	"{\"transfer_id\":\"$T1\",$PKG1,\"documents\":[$D1],$COURT}"
assert_eq "exists" exists "$(jq -r .error.code <<<"$OUT")"

# -- transitions of T1: SENT -> RECEIVED -> PARTIALLY_ACCEPTED -> ACCEPTED
#    -> DECIDED -> CLOSED, with every refusal on the way ---------------------
tr() { xz call $LONG "collab.transfer.$1" "{\"transfer_id\":\"$2\",$3${4:+,$4}}"; }
declare -A ARGS=([accept]='"reason":"x"' [partially-accept]='"accepted":["judgment"]'
	[return]='"reason":"x"' [decide]='"decision":"APPROVED"' [close]='"reason":"x"')
for a in accept partially-accept return decide close; do
	assert_exit "$a on SENT refused" 1 tr "$a" "$T1" "$CC" "${ARGS[$a]}"
	assert_eq "$a on SENT: invalid_state naming state and allowed" \
		"invalid_state: transfer '$T1' is SENT: cannot $a; allowed: receive" \
		"$(jq -r '"\(.error.code): \(.error.message)"' <<<"$OUT")"
done
assert_exit "receive by the sender refused" 1 tr receive "$T1" "$COURT"
assert_eq "forbidden" "only cc-01 may receive transfer '$T1'; the actor's agency is 'court-01'" \
	"$(jq -r .error.message <<<"$OUT")"
assert_exit "receive an unknown transfer" 1 tr receive tr-nope "$CC"
assert_eq "not_found" "not_found: no transfer 'tr-nope'" "$(jq -r '"\(.error.code): \(.error.message)"' <<<"$OUT")"
check "receive" tr receive "$T1" "$CC"
assert_eq "RECEIVED, notify clock met" "RECEIVED notify:MET" \
	"$(jq -r '"\(.state) \(.clocks[] | select(.clock=="notify") | "notify:\(.status)")"' <<<"$OUT")"
assert_exit "receive twice" 1 tr receive "$T1" "$CC"
assert_eq "names the allowed actions" "transfer '$T1' is RECEIVED: cannot receive; allowed: accept, partially-accept, return" \
	"$(jq -r .error.message <<<"$OUT")"
assert_exit "return without reason" 1 tr return "$T1" "$CC"
assert_eq "reason needed" "a returned transfer needs a \"reason\"" "$(jq -r .error.message <<<"$OUT")"
assert_exit "partially-accept everything" 1 tr partially-accept "$T1" "$CC" '"accepted":["judgment","enforcement-notice"]'
assert_exit "partially-accept an unknown document" 1 tr partially-accept "$T1" "$CC" '"accepted":["will"]'
check "partially-accept the judgment" tr partially-accept "$T1" "$CC" '"accepted":["judgment"],"reason":"notice missing"'
assert_eq "PARTIALLY_ACCEPTED with the missing list" 'PARTIALLY_ACCEPTED ["judgment"] ["enforcement-notice"]' \
	"$(jq -c -j '.state, " ", .accepted_documents, " ", .missing_documents' <<<"$OUT")"
assert_eq "serve clock still pending (documents not all served)" PENDING \
	"$(jq -r '.clocks[] | select(.clock=="serve") | .status' <<<"$OUT")"

# -- clocks: T2 stays SENT; 6 days later its notify clock is overdue ---------
check "advance the kernel clock 6 days" xz call $LONG xz.sys.clock.advance '{"ms":518400000}'
wait_until 10 'test "$(wc -l <"$XZ_T/overdue.out")" -ge 1' || fail "no overdue event after 6 days"
assert_eq "T2's notify clock overdue" "$T2 notify SENT" \
	"$(head -n1 "$XZ_T/overdue.out" | jq -r '"\(.data.transfer_id) \(.data.clock) \(.data.state)"')"
check "advance 5 more days" xz call $LONG xz.sys.clock.advance '{"ms":432000000}'
wait_until 20 'test "$(wc -l <"$XZ_T/overdue.out")" -ge 3' || fail "not 3 overdue events after 11 days"
assert_eq "then both serve clocks (T1 partially accepted, T2 sent)" "$(printf '%s serve\n' "$T1" "$T2" | sort | paste -sd,)" \
	"$(tail -n +2 "$XZ_T/overdue.out" | jq -r '"\(.data.transfer_id) \(.data.clock)"' | sort | paste -sd,)"
check "get T2" xz call $LONG collab.transfer.get "{\"transfer_id\":\"$T2\",$CC}"
assert_eq "T2 clocks stored OVERDUE" "notify:OVERDUE serve:OVERDUE" \
	"$(jq -r '[.clocks[] | "\(.clock):\(.status)"] | join(" ")' <<<"$OUT")"

check "accept the rest" tr accept "$T1" "$CC"
assert_eq "ACCEPTED, lists cleared" "ACCEPTED null" "$(jq -r '"\(.state) \(.missing_documents)"' <<<"$OUT")"
assert_exit "decide without decision" 1 tr decide "$T1" "$CC"
assert_eq "decision needed" bad_request "$(jq -r .error.code <<<"$OUT")"
check "decide" tr decide "$T1" "$CC" '"decision":"EXECUTED"'
assert_eq "DECIDED" "DECIDED EXECUTED" "$(jq -r '"\(.state) \(.decision)"' <<<"$OUT")"
check "close (by the sender)" tr close "$T1" "$COURT"
assert_exit "close twice" 1 tr close "$T1" "$COURT"
assert_eq "final state" "transfer '$T1' is CLOSED: cannot close; allowed: none (final state)" \
	"$(jq -r .error.message <<<"$OUT")"
check "get T1" xz call $LONG collab.transfer.get "{\"transfer_id\":\"$T1\",$CC,\"purpose\":\"supervision\"}"
assert_eq "full history" "-:SENT:send:clerk-1 SENT:RECEIVED:receive:officer-3 RECEIVED:PARTIALLY_ACCEPTED:partially-accept:officer-3 PARTIALLY_ACCEPTED:ACCEPTED:accept:officer-3 ACCEPTED:DECIDED:decide:officer-3 DECIDED:CLOSED:close:clerk-1" \
	"$(jq -r '[.history[] | "\(.from // "-"):\(.to):\(.action):\(.by.user)"] | join(" ")' <<<"$OUT")"
assert_exit "get by an agency that is not a party" 1 xz call $LONG collab.transfer.get "{\"transfer_id\":\"$T1\",$PRISON}"
assert_eq "forbidden" forbidden "$(jq -r .error.code <<<"$OUT")"

# -- a returned ARREST request: RETURNED(reason) -> CLOSED -------------------
check "police send an arrest request (提请批准逮捕书)" xz call $LONG collab.transfer.send \
	"{\"type\":\"ARREST_REQUEST\",\"from_agency\":\"police-01\",\"to_agency\":\"procuratorate-01\",\"subject\":{\"type\":\"suspect\",\"id\":\"S-77\"},\"documents\":[$D1],$POLICE}"
T3=$(jq -r .transfer_id <<<"$OUT")
assert_eq "ARREST_REQUEST has a 7-day decide clock (刑事诉讼法 art. 91)" "decide PENDING" "$(jq -r '.clocks[] | "\(.clock) \(.status)"' <<<"$OUT")"
check "receive" tr receive "$T3" "$PROC"
check "return with a reason" tr return "$T3" "$PROC" '"reason":"evidence list incomplete"'
assert_eq "RETURNED with reason, clock stopped" "RETURNED evidence list incomplete STOPPED" \
	"$(jq -r '"\(.state) \(.return_reason) \(.clocks[0].status)"' <<<"$OUT")"
wait_for 20 test -s "$XZ_T/police.out" || fail "nothing on the police inbox"
assert_eq "the sender's inbox hears of the return" "returned evidence list incomplete" \
	"$(jq -r '"\(.data.event) \(.data.reason)"' "$XZ_T/police.out")"
assert_exit "decide a returned transfer" 1 tr decide "$T3" "$PROC" '"decision":"APPROVED"'
assert_eq "allowed: close" "transfer '$T3' is RETURNED: cannot decide; allowed: close" "$(jq -r .error.message <<<"$OUT")"
check "the police close it" tr close "$T3" "$POLICE"
assert_eq "CLOSED" CLOSED "$(jq -r .state <<<"$OUT")"

# -- list ---------------------------------------------------------------------
check "list incoming for community corrections" xz call $LONG collab.transfer.list "{\"direction\":\"in\",$CC}"
assert_eq "two transfers" "2 $(printf '%s\n' "$T1" "$T2" | sort | paste -sd,)" "$(jq -r '"\(.count) \([.transfers[].transfer_id] | sort | join(","))"' <<<"$OUT")"
check "list of the prison" xz call $LONG collab.transfer.list "{$PRISON}"
assert_eq "sees none" 0 "$(jq -r .count <<<"$OUT")"
check "list closed ARREST_REQUEST for the procuratorate" xz call $LONG collab.transfer.list "{\"state\":\"CLOSED\",\"type\":\"ARREST_REQUEST\",$PROC}"
assert_eq "one" "1 $T3" "$(jq -r '"\(.count) \(.transfers[0].transfer_id)"' <<<"$OUT")"

# -- the audit trail -----------------------------------------------------------
check "audit query for person P-1001" xz audit query $LONG --subject person:P-1001 -n 1000 --user auditor-1 --purpose review
assert_eq "CREATE, then the changes, views and overdue clocks of P-1001" \
	"CREATE:clerk-1 VIEW:clerk-1 VIEW:clerk-1 CREATE:clerk-1 UPDATE:officer-3 UPDATE:officer-3 UPDATE:collab UPDATE:collab UPDATE:collab VIEW:officer-3 UPDATE:officer-3 UPDATE:officer-3 UPDATE:clerk-1 VIEW:officer-3" \
	"$(jq -r '"\(.action):\(.who)"' <<<"$OUT" | paste -sd' ')"
check "audit query for refusals on T1" xz audit query $LONG --subject "case_transfer:$T1" -n 1000
assert_eq "every refusal on T1 is recorded (13 refused transitions/reads, 1 id conflict)" 14 "$(jq -r 'select(.action=="REFUSE")' <<<"$OUT" | jq -s length)"
assert_contains "with the reason" "refused: invalid_state: transfer '$T1' is SENT: cannot accept; allowed: receive" "$OUT"
check "audit chain verifies" xz audit verify $LONG
kill "$SUB1" "$SUB2" "$SUB3" 2>/dev/null || true
stop_node
finish
