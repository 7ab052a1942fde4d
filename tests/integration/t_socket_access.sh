#!/usr/bin/env bash
# node.socket_owner / node.socket_group / node.socket_mode (docs/operations.md): the control
# and bus ipc sockets get the configured group and mode, so an operators
# group can use the CLI; a wrong type, an unknown group or a bad mode is
# a FILE:LINE error naming the option. As root, a process of another uid
# in that group (mapped by auth.local gid) reaches the node, and one
# outside it is refused by the socket's mode.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup

bad() { # bad WHAT NEEDLE NODE_EXTRA: `check` refuses it, naming the option
	XZ_NODE_EXTRA=$3 xz_config "$XZ_T/bad.cfg" b1 </dev/null
	assert_exit "$1: check fails" 1 "$XZ_BIN" check -c "$XZ_T/bad.cfg"
	assert_contains "$1: named with FILE:LINE" "$XZ_T/bad.cfg:" "$ERR"
	assert_contains "$1: says why" "$2" "$ERR"
}
bad "a boolean group" "node.socket_group must be a group name or a gid, got" 'socket_group = true;'
bad "an unknown group" "node.socket_group: no group named 'xz-no-such-group'" \
	'socket_group = "xz-no-such-group";'
bad "a negative gid" "node.socket_group must be a group name or a gid" 'socket_group = -5;'
bad "a list as owner" "node.socket_owner must be a user name or a uid, got" 'socket_owner = [ 1 ];'
bad "an unknown user" "node.socket_owner: no user named 'xz-no-such-user'" \
	'socket_owner = "xz-no-such-user";'
bad "a negative uid" "node.socket_owner must be a user name or a uid" 'socket_owner = -1;'
bad "a mode as a number" "node.socket_mode must be a string" 'socket_mode = 660;'
bad "an execute bit" "node.socket_mode must be octal digits" 'socket_mode = "0770";'
bad "no owner write" "node.socket_mode must be octal digits" 'socket_mode = "0444";'
bad "not octal" "node.socket_mode must be octal digits" 'socket_mode = "0689";'

echo "-- the test user's own group (runs unprivileged)"
GROUP=$(id -gn)
GID=$(id -g)
XZ_NODE_EXTRA="socket_group = \"$GROUP\";" xz_config <<EOF2
bus = { listen = [ "ipc://$XZ_T/n1/bus.sock" ]; };
EOF2
check "check accepts the group" xz check
start_node
assert_eq "control socket: group" "$GID" "$(stat -c %g "$XZ_T/n1/ctl.sock")"
assert_eq "control socket: 0660 with a group" 660 "$(stat -c %a "$XZ_T/n1/ctl.sock")"
assert_eq "bus socket: group" "$GID" "$(stat -c %g "$XZ_T/n1/bus.sock")"
assert_eq "bus socket: 0660" 660 "$(stat -c %a "$XZ_T/n1/bus.sock")"
check "the CLI works" xz call xz.sys.ping '{}'
stop_node

XZ_NODE_EXTRA="socket_group = $GID; socket_mode = \"0640\";" xz_config </dev/null
start_node
assert_eq "a numeric gid" "$GID" "$(stat -c %g "$XZ_T/n1/ctl.sock")"
assert_eq "an explicit mode" 640 "$(stat -c %a "$XZ_T/n1/ctl.sock")"
stop_node

XZ_NODE_EXTRA="socket_owner = \"$(id -un)\";" xz_config </dev/null
start_node
assert_eq "an owner by name" "$(id -u)" "$(stat -c %u "$XZ_T/n1/ctl.sock")"
assert_eq "an owner alone keeps 0600" 600 "$(stat -c %a "$XZ_T/n1/ctl.sock")"
stop_node

xz_config </dev/null
start_node
assert_eq "without the options the control socket stays 0600" 600 \
	"$(stat -c %a "$XZ_T/n1/ctl.sock")"
stop_node

echo "-- another uid in the group (root only)"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	skip "a process of another uid (needs root and setpriv)"
	finish
fi
OPS=4242
chmod 755 "$XZ_T" "$XZ_T/n1"
XZ_NODE_EXTRA="socket_owner = 65534;" xz_config </dev/null
start_node
assert_eq "root gives the socket to another owner" 65534 "$(stat -c %u "$XZ_T/n1/ctl.sock")"
stop_node
XZ_NODE_EXTRA="socket_group = $OPS;" xz_config <<EOF2
auth = { local = ( { gid = $OPS; user = "ops1"; name = "值班运维";
                     agency = "prison-01"; roles = [ "admin" ]; } ); };
EOF2
start_node
as() { # as GID CMD...: run CMD as uid 65534 with only group GID
	setpriv --reuid 65534 --regid "$1" --clear-groups env HOME=/nonexistent "${@:2}"
}
URL=ipc://$XZ_T/n1/ctl.sock
check "a member of the operators group reaches the node" \
	as "$OPS" "$XZ_BIN" call -u "$URL" xz.sys.ping '{}'
check "whoami names the group's principal" as "$OPS" "$XZ_BIN" whoami -u "$URL" --json
assert_contains "ops1" '"ops1"' "$OUT"
assert_exit "a process outside the group is refused by the socket" 1 \
	as $((OPS + 1)) "$XZ_BIN" call -u "$URL" xz.sys.ping '{}' -t 5000
stop_node
finish
