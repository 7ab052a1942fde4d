#!/usr/bin/env bash
# auth.local and auth.certs are reloaded with the rest of the config on
# SIGHUP: the file is validated first (a bad one keeps the principals in
# force and logs FILE:LINE), a change is a kernel audit record
# (audit.sys.config, before and after) written before it is in force, and
# connections made from then on are known by the new table.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_test "jq is not installed"
xz_setup
export HOME="$XZ_T/home"
mkdir -p "$HOME"
unset XZ_CREDS
DATA=$XZ_T/n1/data
SPOOL=$DATA/kernel-audit.spool
ROLES='roles = { auditor = { publish = { allow = [ "xz.sys.ping", "xz.sys.auth.whoami" ]; }; }; };'
xz_config <<EOF2
auth = { $ROLES };
EOF2
start_node
# -u: the CLI does not read the config file (a bad one below)
who() { "$XZ_BIN" whoami -u "ipc://$XZ_T/n1/ctl.sock" --json 2>/dev/null | jq -r .user; }
is_who() { [ "$(who)" = "$1" ]; }
assert_eq "the test's uid is the node's: admin" admin "$(who)"

echo "-- auth.local maps the test's uid to a person"
xz_config <<EOF2
auth = { local = ( { uid = $(id -u); user = "zhangwei"; name = "张伟";
                     agency = "prison-01"; roles = [ "auditor" ]; } );
         $ROLES };
EOF2
kill -HUP "$NODE_PID"
wait_for 60 is_who zhangwei || fail "after SIGHUP the uid is zhangwei: $(who)"
assert_eq "the new principal is in force" zhangwei "$(who)"
assert_eq "the change is a record in the kernel's spool" 1 \
	"$(grep -c $'\taudit.sys.config\t.*auth.local+auth.certs' "$SPOOL")"
rec=$(grep $'\taudit.sys.config\t.*auth.local+auth.certs' "$SPOOL" | cut -f3)
assert_eq "before: none" 0 "$(echo "$rec" | jq '.before | length')"
assert_eq "after: the uid's entry" "uid:$(id -u):zhangwei:auditor" \
	"$(echo "$rec" | jq -r '.after[0] | "\(.kind):\(.id):\(.user):\(.roles | join(","))"')"

echo "-- a bad file keeps the principals in force"
cp "$XZ_CFG" "$XZ_T/good.cfg"
xz_config <<EOF2
auth = { local = ( { uid = $(id -u); user = "lisi"; name = "李四";
                     agency = ""; roles = [ "auditor" ]; } );
         $ROLES };
EOF2
kill -HUP "$NODE_PID"
bad_logged() { grep -q "reload: $XZ_CFG:[0-9]*: auth.local\[0\]: agency must not be empty" "$XZ_T/n1.log"; }
wait_for 60 bad_logged || fail "the bad file is logged with FILE:LINE"
assert_eq "still zhangwei" zhangwei "$(who)"
assert_eq "no record of a change that was not made" 1 \
	"$(grep -c $'\taudit.sys.config\t.*auth.local+auth.certs' "$SPOOL")"

echo "-- the entry removed: the uid is the node's admin again"
xz_config <<EOF2
auth = { $ROLES };
EOF2
kill -HUP "$NODE_PID"
wait_for 60 is_who admin || fail "after SIGHUP the uid is admin again: $(who)"
assert_eq "a second record" 2 \
	"$(grep -c $'\taudit.sys.config\t.*auth.local+auth.certs' "$SPOOL")"
stop_node
finish
