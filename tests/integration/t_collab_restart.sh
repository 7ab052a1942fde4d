#!/usr/bin/env bash
# Case transfers survive a restart: state, history and statutory clocks are
# in the store, and the clocks are re-armed from it (an overdue clock fires
# once, never again after the next restart). Clocks come from the catalog
# (社区矫正法 art. 20: 5 days to notify, 10 to serve the documents).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
xz_config <<'EOF2'
plugins = (
  { name = "collab"; kind = "so"; }
);
EOF2
LONG="-t 600000" # generous deadlines (a loaded machine, clock jumps)
H=$(printf 'doc' | sha256sum | cut -d' ' -f1)
PRISON='"actor":{"user":"w-1","role":"case_clerk","agency":"prison-01"}'
CC='"actor":{"user":"o-1","role":"case_clerk","agency":"cc-01"}'
PKG="{\"type\":\"COMMUNITY_CORRECTION_DOCUMENTS\",\"from_agency\":\"prison-01\",\"to_agency\":\"cc-01\",\"subject\":{\"type\":\"prisoner\",\"id\":\"A1234BC\"},\"documents\":[{\"name\":\"parole-order\",\"media_type\":\"application/pdf\",\"sha256\":\"$H\",\"size\":10}],\"reason\":\"released on parole\",$PRISON}"

start_node
check "send" xz call collab.transfer.send "$PKG"
T=$(jq -r .transfer_id <<<"$OUT")
assert_eq "clocks from the catalog: 5 and 10 days" "notify:5 serve:10" \
	"$(jq -r --arg s "$(jq -r .sent_at <<<"$OUT")" '[.clocks[] | "\(.clock):\(((.due_at[:19] + "Z" | fromdate) - ($s[:19] + "Z" | fromdate)) / 86400)"] | join(" ")' <<<"$OUT")"
stop_node

start_node
check "get after a restart" xz call collab.transfer.get "{\"transfer_id\":\"$T\",$CC}"
assert_eq "still SENT with its history" "SENT send:w-1" \
	"$(jq -r '"\(.state) \([.history[] | "\(.action):\(.by.user)"] | join(","))"' <<<"$OUT")"
check "the same package after a restart" xz call collab.transfer.send "$PKG"
assert_eq "is a duplicate" "$T true" "$(jq -r '"\(.transfer_id) \(.duplicate)"' <<<"$OUT")"
XZ_SUB_READY=1 xz_bg sub collab.transfer.overdue -n 1 -t 20000 >"$XZ_T/o1.out" 2>"$XZ_T/o1.err" &
SUB=$!
wait_for 10 grep -q ready "$XZ_T/o1.err" || fail "subscriber ready"
check "advance 6 days" xz call $LONG xz.sys.clock.advance '{"ms":518400000}'
wait "$SUB" || true
assert_eq "the re-armed notify clock fires" "$T notify SENT" \
	"$(jq -r '"\(.data.transfer_id) \(.data.clock) \(.data.state)"' "$XZ_T/o1.out")"
check "receive (late)" xz call $LONG collab.transfer.receive "{\"transfer_id\":\"$T\",$CC}"
assert_eq "notify stays OVERDUE, serve pending" "notify:OVERDUE serve:PENDING" \
	"$(jq -r '[.clocks[] | "\(.clock):\(.status)"] | join(" ")' <<<"$OUT")"
stop_node

start_node
XZ_SUB_READY=1 xz_bg sub collab.transfer.overdue -n 2 -t 4000 >"$XZ_T/o2.out" 2>"$XZ_T/o2.err" &
SUB=$!
wait_for 10 grep -q ready "$XZ_T/o2.err" || fail "subscriber ready"
check "advance 11 days (the clock offset does not outlive a restart)" xz call $LONG xz.sys.clock.advance '{"ms":950400000}'
rc=0
wait "$SUB" || rc=$?
assert_eq "only the serve clock fires (notify fired before the restart)" "$T serve" \
	"$(jq -r '"\(.data.transfer_id) \(.data.clock)"' "$XZ_T/o2.out" | paste -sd,)"
assert_eq "and nothing else within 4 s (sub times out)" 3 "$rc"
check "get" xz call $LONG collab.transfer.get "{\"transfer_id\":\"$T\",$PRISON}"
assert_eq "history across restarts" "send,receive" "$(jq -r '[.history[].action] | join(",")' <<<"$OUT")"
assert_eq "clocks" "notify:OVERDUE serve:OVERDUE" "$(jq -r '[.clocks[] | "\(.clock):\(.status)"] | join(" ")' <<<"$OUT")"
assert_eq "overdue counter" 1 "$(xz status $LONG | jq -r '.plugins[] | select(.name == "collab") | .counters.overdue')"
stop_node

# Options are declared with ranges: the kernel refuses 400 days.
xz_config "$XZ_T/bad.cfg" <<'EOF2'
plugins = ( { name = "collab"; kind = "so"; options = { notify_days = 400; }; } );
EOF2
assert_exit "an out-of-range option is refused" 1 "$XZ_BIN" check -c "$XZ_T/bad.cfg"
assert_contains "naming the option" "notify_days" "$ERR"
finish
