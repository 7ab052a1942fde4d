#!/usr/bin/env bash
# Permissions reload: SIGHUP reads auth.roles again. A role that loses a
# publish permission is refused (forbidden) from the next publish on, one
# that gains one is let through; a subscription the new permissions forbid
# is dropped (logged, counted, audit.sys.denied) and receives nothing more;
# a config whose permissions are invalid changes nothing (FILE:LINE).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_test "jq is not installed"
xz_setup
# This test's uid is the principal "walker" with the role r1 (auth.local).
roles() { # PUB-ALLOW SUB-ALLOW: the config with r1's lists
	xz_config <<EOF2
auth = {
  local = ( { uid = $(id -u); user = "walker"; name = "巡查";
              agency = "prison-01"; roles = [ "r1" ]; } );
  roles = {
    r1 = { publish = { allow = [ $1, "xz.sys.ping", "audit.query" ]; };
           subscribe = { allow = [ $2 ]; }; };
    other = { publish = { allow = [ "x.>" ]; }; };
  };
};
plugins = ( { name = "audit"; kind = "so"; } );
EOF2
}
refused() { # TOPIC: 0 if a request on TOPIC is forbidden
	local r
	# -u: the CLI does not read the config (it may be the invalid one)
	r=$("$XZ_BIN" call -u "$CTL" "$1" '{}' -t 2000 2>/dev/null || true)
	[ "$(echo "$r" | jq -r '.error.code // empty' 2>/dev/null)" = forbidden ]
}
CTL="ipc://$XZ_T/n1/ctl.sock"
roles '"foo.a", "bar.>"' '"bar.>", "audit.sys.denied"'
start_node
if refused foo.a; then fail "foo.a refused before the reload"; else pass "foo.a allowed before the reload"; fi
refused foo.b && pass "foo.b refused before the reload" || fail "foo.b not refused before the reload"
xz_bg sub 'bar.>' >"$XZ_T/sub.out" 2>"$XZ_T/sub.err" &
SUB=$!
# the subscription is in place once an event reaches it
wait_until 30 "xz pub bar.ping '{\"n\":0}' >/dev/null 2>&1; grep -q bar.ping '$XZ_T/sub.out'" ||
	die "the subscriber never received bar.ping"
pass "the subscriber receives bar.> before the reload"

# ---- lose foo.a, gain foo.b, lose the subscription to bar.> ----
roles '"foo.b", "bar.>"' '"audit.sys.denied"'
kill -HUP "$NODE_PID"
wait_for 30 grep -q "permissions in force" "$XZ_T/n1.log" ||
	die "no 'permissions in force' in the log after SIGHUP"
pass "SIGHUP puts the new permissions in force"
refused foo.a && pass "foo.a is forbidden after the reload" || fail "foo.a still allowed after the reload"
if refused foo.b; then fail "foo.b still refused after the reload"; else pass "foo.b is allowed after the reload"; fi
assert_contains "the forbidden subscription is dropped, with a log line" \
	"subscription 'bar.>' of 'walker' dropped" "$(cat "$XZ_T/n1.log")"
xz pub bar.after '{"n":1}' >/dev/null
# the drop happened before its log line: bar.after was published later
wait_until 30 "xz call audit.query '{\"purpose\":\"t\",\"subject_type\":\"topic\",\"subject_id\":\"bar.>\"}' 2>/dev/null | grep -q REFUSE" ||
	fail "no audit record of the dropped subscription"
assert_eq "audit.sys.denied names the dropped subscription" "walker subscribe" \
	"$(xz call audit.query '{"purpose":"t","subject_type":"topic","subject_id":"bar.>"}' | jq -r '.records[-1] | .who + " " + .purpose')"
if grep -q bar.after "$XZ_T/sub.out"; then fail "the dropped subscription still receives"; else pass "the dropped subscription receives nothing more"; fi
assert_exit "a new subscription to bar.> is refused" 1 xz sub 'bar.>' -n 1 -t 3000
kill "$SUB" 2>/dev/null || true

# ---- a config whose permissions are invalid: nothing changes ----
roles '"foo.a", "foo..bad"' '"audit.sys.denied"'
kill -HUP "$NODE_PID"
wait_for 30 grep -q "the permissions in force stay" "$XZ_T/n1.log" ||
	die "an invalid config was not refused"
assert_contains "the error names FILE:LINE" "$XZ_CFG:" "$(grep 'reload: ' "$XZ_T/n1.log")"
refused foo.a && pass "foo.a stays forbidden (old permissions kept)" || fail "an invalid config changed the permissions"
if refused foo.b; then fail "foo.b lost after an invalid config"; else pass "foo.b stays allowed"; fi
stop_node
finish
