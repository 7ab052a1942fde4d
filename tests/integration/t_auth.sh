#!/usr/bin/env bash
# t_auth.sh - principals and permissions on a real node (issue 9): the
# CLI's uid is mapped to a person by auth.local; the person's role decides
# what the bus lets through (forbidden, counted, audited on
# audit.sys.denied); a payload's actor naming someone else is refused and
# never stored; administration needs the role admin; a connection whose
# uid maps to nobody is refused as unauthenticated.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
chmod 755 "$XZ_T"
mkdir -p "$XZ_T/bus" && chmod 777 "$XZ_T/bus"
xz_config <<EOF2
bus = { listen = [ "ipc://$XZ_T/bus/bus.sock" ]; };
plugins = ( { name = "prison"; kind = "so"; options = { seed_demo_data = true; }; },
            { name = "audit"; kind = "so"; } );
auth = {
  local = ( { uid = $(id -u); user = "zhangwei"; name = "张伟";
              agency = "prison-01"; roles = [ "command_duty" ]; } );
  roles = {
    command_duty = {
      publish = { allow = [ "prison.>", "xz.sys.ping", "xz.sys.status",
                            "xz.sys.clock.*" ];
                  deny = [ "prison.location.>" ]; };
      subscribe = { allow = [ "prison.>" ]; };
    };
  };
};
EOF2
start_node

echo "-- the kernel names the caller; the role's permissions apply"
assert_exit "a topic outside the role is forbidden" 1 \
	xz call xz.sys.console.eval '{"chunk":"return 1"}'
assert_contains "forbidden names the topic and the permission" \
	"forbidden: 'zhangwei' (roles: command_duty) has no publish permission for 'xz.sys.console.eval'" \
	"$OUT$ERR"
assert_exit "a denied pattern inside an allowed one is forbidden" 1 \
	xz call prison.location.create '{"id":"X"}'
assert_contains "deny wins" "no publish permission for 'prison.location.create'" "$OUT$ERR"

echo "-- administration needs the role admin"
assert_exit "clock.advance is refused to command_duty" 1 \
	xz call xz.sys.clock.advance '{"ms":1000}'
assert_contains "names the role required" "it needs the role admin" "$OUT$ERR"

echo "-- a payload actor naming someone else is refused"
assert_exit "forged actor" 1 xz call prison.rollcall.schedule \
	'{"actor":{"user":"nobody","role":"JANITOR","agency":"x"},"location":"5101.01.1"}'
assert_contains "forbidden, naming the caller" \
	"the payload's actor 'nobody' is not the authenticated caller 'zhangwei'" "$OUT$ERR"
assert_exit "another agency" 1 xz call prison.rollcall.schedule \
	'{"actor":{"user":"zhangwei","agency":"court-9"},"location":"5101.01.1"}'
assert_contains "acting for another agency" "acts for agency 'prison-01', not 'court-9'" "$OUT$ERR"
check "no actor: the caller acts" xz call prison.rollcall.schedule \
	'{"location":"5101.01.1"}'
assert_contains "created" '"state":"SCHEDULED"' "$OUT"

echo "-- counted and audited"
check "status" xz call xz.sys.status '{}'
assert_eq "auth.denied (the two bus refusals)" 2 "$(echo "$OUT" | json .auth.denied)"
stop_node
if grep -aq '"nobody"\|JANITOR' "$XZ_T"/n1/data/*.db* 2>/dev/null; then
	fail "the forged actor reached a store"
else
	pass "the forged actor is in no store"
fi
grep -aq 'zhangwei' "$XZ_T"/n1/data/prison.db* && pass "the history names the caller" \
	|| fail "the caller is not in the prison store"
grep -aq 'audit.sys.denied' "$XZ_T"/n1/data/audit.db* && pass "denials are in the audit log" \
	|| fail "no audit.sys.denied record in the audit log"

echo "-- a uid the node does not know is refused"
start_node
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	chmod 666 "$XZ_T/bus/bus.sock"
	set +e
	ERR=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$XZ_BIN" call -u "ipc://$XZ_T/bus/bus.sock" xz.sys.ping '{}' -t 3000 2>&1)
	rc=$?
	set -e
	if [ "$rc" != 0 ]; then pass "nobody's call fails"; else fail "nobody's call succeeded"; fi
	assert_contains "unauthenticated, naming the uid" "uid 65534" "$ERR"
	check "status" xz call xz.sys.status '{}'
	if [ "$(echo "$OUT" | json .auth.unauthenticated)" -ge 1 ]; then
		pass "counted as unauthenticated"
	else
		fail "not counted: $OUT / $ERR"
	fi
	grep -q "refused: unauthenticated: uid 65534" "$XZ_T/n1.log" && pass "logged with the uid" \
		|| fail "no log line for the refusal"
else
	echo "   (skipped: needs root and setpriv)"
fi
stop_node
finish
