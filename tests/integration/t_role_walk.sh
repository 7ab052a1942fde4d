#!/usr/bin/env bash
# The role walk: the default deployment (config/xiezhi.cfg as shipped, its
# scenario plugins and its demo identity set) walked as every demo user.
# The request topics are the ones the node serves (every subscription of
# a scenario plugin, and the kernel's privileged ones), each tried as a
# role that may call it (not forbidden: a domain error proves the role
# check passed) and one that may not (forbidden, naming the role needed).
# Which role may is read from the plugins themselves: a refusal names the
# roles a topic needs, so a topic added without its row in a plugin's
# table, or open to everyone, fails the coverage check. Then: a person
# acting for another agency, a forged payload actor (never in any
# history table nor the audit chain).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_test "jq is not installed"
command -v sqlite3 >/dev/null || skip_test "sqlite3 is not installed"

xz_setup
export HOME="$XZ_T/home"
mkdir -p "$HOME"
unset XZ_CREDS
# ---- the default deployment, in a temp folder ----
# The shipped config, with only its doors and data folder moved into the
# test's folder (and a cheaper argon2id: 22 demo users on a loaded
# machine); its relative paths (../plugins, ../scripts, ../var) resolve
# beside it.
DEP="$XZ_T/dep"
mkdir -p "$DEP"
cp -r "$XZ_SRC/config" "$DEP/config"
ln -s "$XZ_SRC/plugins" "$DEP/plugins"
ln -s "$XZ_SRC/scripts" "$DEP/scripts"
CFG="$DEP/config/xiezhi.cfg"
sed -i -e "s|ipc:///tmp/xiezhi-1.sock|ipc://$XZ_T/ctl.sock|" \
	-e "s|ipc:///tmp/xiezhi-1-bus.sock|ipc://$XZ_T/bus.sock|" "$CFG"
export XZ_GATEWAY_PORT=0 # the gateway does not take its port
sed -i -e "s|^\( *demo_users *= *true;\)|\1 argon2_ops = 1; argon2_mem_kib = 8192;|" \
	"$DEP/config/auth.cfg"
grep -q "ipc://$XZ_T/ctl.sock" "$CFG" || die "cannot move the control socket"
grep -q "argon2_ops = 1" "$DEP/config/auth.cfg" || die "cannot set argon2 cost"
DATA="$DEP/var/xiezhi-1"
XZ_CFG="$CFG"
start_node "$CFG"
wait_for 180 test -f "$DATA/demo-passwords.txt" ||
	die "no $DATA/demo-passwords.txt after 180 s"
