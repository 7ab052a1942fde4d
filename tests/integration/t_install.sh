#!/usr/bin/env bash
# t_install.sh - xiezhi as an operator installs it: `cmake --install` into
# a temporary prefix lays out the binary, the C and Lua plugins, the
# scripts, the default deployment in etc/ (paths pointing into the prefix,
# data and sockets under PREFIX/var), the systemd unit and the man page.
# The installed binary, knowing nothing of the build tree, then checks and
# runs the installed deployment: a real node answers real requests (a C
# plugin, the Lua plugin, an operator script, the audit chain). A second
# install keeps what the operator edited.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
: "${XZ_BUILD:?XZ_BUILD must point to the build tree}"
for tool in cmake jq gzip; do
	command -v "$tool" >/dev/null || skip_test "$tool is not installed"
done
# The installed binary must find its plugins by itself.
unset XZ_PLUGIN_DIR XZ_URL
cd "$XZ_T" # no config/xiezhi.cfg here

P="$XZ_T/prefix"
check "cmake --install into a temp prefix" \
	cmake --install "$XZ_BUILD" --prefix "$P"
for f in bin/xiezhi \
	lib/xiezhi/plugins/{hello,audit,prison,rehab,demo,collab}.so \
	lib/xiezhi/plugins/legal/{legal,legal_days,legal_fsm,legal_store,routing,msg,authz}.lua \
	lib/xiezhi/plugins/common/lua/{schema,catalog,handler}.lua \
	lib/xiezhi/plugins/legal/calendar/cn_2026.lua \
	share/xiezhi/scripts/{event_counter,heartbeat,rollcall_escalation,alarm_sla_report}.lua \
	etc/xiezhi/{xiezhi,plugins,audit,scenarios,collab,legal}.cfg \
	lib/systemd/system/xiezhi.service share/man/man1/xiezhi.1.gz \
	share/doc/xiezhi/operations.md; do
	if [ -f "$P/$f" ]; then pass "installed $f"; else fail "not installed: $f"; fi
done
assert_eq "a Lua plugin's tests are not installed" no \
	"$([ -e "$P/lib/xiezhi/plugins/legal/tests" ] && echo yes || echo no)"
assert_eq "the deployment names neither the sources nor the build tree" "" \
	"$(grep -rl -e "$XZ_SRC" -e "$XZ_BUILD" "$P/etc" "$P/lib/systemd" || true)"
assert_eq "no relative path and no /tmp socket left in the deployment" "" \
	"$(grep -rn -e '"\.\./' -e 'ipc:///tmp/xiezhi' "$P/etc" || true)"
E="$P/etc/xiezhi/xiezhi.cfg"
assert_contains "data under the prefix's state folder" \
	"data_dir  = \"$P/var/lib/xiezhi\";" "$(cat "$E")"
assert_contains "control socket under the prefix's run folder" \
	"control   = \"ipc://$P/var/run/xiezhi/xiezhi-1.sock\";" "$(cat "$E")"
assert_contains "the Lua plugin from the installed plugin folder" \
	"path = \"$P/lib/xiezhi/plugins/legal/legal.lua\";" \
	"$(cat "$P/etc/xiezhi/legal.cfg")"
assert_contains "the scripts from share/xiezhi/scripts" \
	"path = \"$P/share/xiezhi/scripts/heartbeat.lua\";" \
	"$(cat "$P/etc/xiezhi/plugins.cfg")"

echo "-- the unit and the man page"
U="$P/lib/systemd/system/xiezhi.service"
for line in "Type=notify" "ExecStart=$P/bin/xiezhi run -c $E" \
	'ExecReload=/bin/kill -HUP $MAINPID' "WatchdogSec=30" \
	"DynamicUser=yes" "ProtectSystem=strict" "NoNewPrivileges=yes" \
	"ReadWritePaths=-$P/var/lib/xiezhi"; do
	if grep -qxF -- "$line" "$U"; then pass "unit: $line"; else
		fail "unit lacks: $line"; fi
done
if command -v systemd-analyze >/dev/null; then
	# verify checks every setting, that ExecStart is an executable and
	# that the man page of Documentation= is found (MANPATH: the prefix's).
	if out=$(MANPATH="$P/share/man:" SYSTEMD_LOG_LEVEL=warning \
		systemd-analyze verify "$U" 2>&1); then
		assert_eq "systemd-analyze verify: no complaint" "" \
			"$(echo "$out" | grep -i xiezhi.service || true)"
	else
		fail "systemd-analyze verify: $out"
	fi
else
	skip "systemd-analyze verify: not installed"
fi
gzip -dc "$P/share/man/man1/xiezhi.1.gz" >"$XZ_T/xiezhi.1"
if command -v groff >/dev/null; then
	assert_eq "the man page renders without a warning" "" \
		"$(groff -man -ww -z "$XZ_T/xiezhi.1" 2>&1)"
else
	skip "man page warnings: groff is not installed"
fi
assert_contains "the man page documents the log level at run time" \
	"xz.sys.log.level" "$(cat "$XZ_T/xiezhi.1")"

echo "-- the installed binary checks and runs the installed deployment"
X="$P/bin/xiezhi"
check "check -c PREFIX/etc/xiezhi/xiezhi.cfg" "$X" check -c "$E"
assert_eq "every plugin and script of the deployment" \
	"$E: ok (node 'xiezhi-1', 13 plugins and scripts enabled)" "$OUT"
# Even where a config/xiezhi.cfg is at hand (a source tree), an installed
# binary reads its own deployment.
mkdir -p "$XZ_T/config"
cp "$XZ_SRC/config/xiezhi.cfg" "$XZ_T/config/"
check "check without -c finds PREFIX/etc/xiezhi/xiezhi.cfg" "$X" check
assert_eq "same deployment" \
	"$E: ok (node 'xiezhi-1', 13 plugins and scripts enabled)" "$OUT"
XZ_BIN="$X" start_node "$E" installed
check "ping" "$X" call -c "$E" xz.sys.ping
assert_eq "the installed node answers" xiezhi-1 "$(echo "$OUT" | jq -r .node)"
check "status without -c" "$X" status
assert_eq "every plugin and script is running" "" \
	"$(echo "$OUT" | jq -r '.plugins[] | select(.state != "running") | .name')"
assert_eq "plugins loaded from the prefix" 15 \
	"$(echo "$OUT" | jq '.plugins | length')"
check "a C plugin answers (hello.greet)" "$X" call -c "$E" hello.greet \
	'{"name":"installer"}'
assert_eq "hello's reply" '{"greeting":"Hello, installer!","count":1}' "$OUT"
A='"actor":{"user":"wang-zr","role":"legal_head","agency":"legal-01"}'
check "the Lua plugin answers (legal.aid.list)" "$X" call -c "$E" \
	legal.aid.list "{$A}"
assert_eq "legal's reply" '{"count":0,"items":[]}' "$(echo "$OUT" | jq -cS .)"
# The heartbeat script's timer, brought forward on the kernel clock once
# the subscriber says it is subscribed.
XZ_SUB_READY=1 "$X" sub -c "$E" xz.health.heartbeat -n 1 -t 20000 \
	>"$XZ_T/beat.out" 2>"$XZ_T/beat.err" &
BEAT=$!
sub_ready() { grep -q 'xiezhi sub: ready' "$XZ_T/beat.err"; }
wait_for 10 sub_ready || fail "the heartbeat subscriber is not ready"
# The installed deployment runs on a real clock (no node.test_clock): the
# heartbeat comes within its 10 s period.
if wait "$BEAT"; then pass "an operator script publishes (heartbeat)"; else
	fail "no heartbeat: $(cat "$XZ_T/beat.out")"; fi
assert_eq "the heartbeat says ok" ok "$(jq -r .data.status "$XZ_T/beat.out")"
check "the audit chain verifies through the node" "$X" audit verify -c "$E"
assert_eq "data in PREFIX/var/lib/xiezhi" yes \
	"$([ -f "$P/var/lib/xiezhi/audit.db" ] && echo yes || echo no)"
assert_eq "the control socket in PREFIX/var/run/xiezhi" yes \
	"$([ -S "$P/var/run/xiezhi/xiezhi-1.sock" ] && echo yes || echo no)"
stop_node installed
check "the audit chain verifies offline" "$X" audit verify -c "$E" --offline

echo "-- a second install keeps an edited deployment"
sed -i 's/speed                 = 1;/speed                 = 5;/' \
	"$P/etc/xiezhi/scenarios.cfg"
check "cmake --install again" cmake --install "$XZ_BUILD" --prefix "$P"
assert_contains "the edit is kept" "speed                 = 5;" \
	"$(cat "$P/etc/xiezhi/scenarios.cfg")"
assert_contains "the new default is beside it" "speed                 = 1;" \
	"$(cat "$P/etc/xiezhi/scenarios.cfg.new")"
assert_contains "install says so" "Keeping the edited $P/etc/xiezhi/scenarios.cfg" \
	"$OUT"
assert_eq "unedited files are not duplicated" \
	"$P/etc/xiezhi/scenarios.cfg.new" "$(ls "$P"/etc/xiezhi/*.new)"
check "the edited deployment still checks" "$X" check -c "$E"
finish
