#!/usr/bin/env bash
# t_deb.sh - `cpack -G DEB` builds the Debian package: its control data
# (name, version, architecture, dependencies, conffiles, maintainer
# scripts) and its contents (the binary, C and Lua plugins, scripts, the
# deployment in /etc/xiezhi with /usr and /var paths, the unit, the man
# page) are checked. As root with dpkg, the package is then installed on
# this machine, run briefly (under systemd if it runs here, else by hand
# from the installed files), and purged; the test leaves nothing behind.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
: "${XZ_BUILD:?XZ_BUILD must point to the build tree}"
for tool in cpack dpkg dpkg-deb jq; do
	command -v "$tool" >/dev/null || skip_test "$tool is not installed"
done
unset XZ_PLUGIN_DIR XZ_URL
cd "$XZ_T"

VERSION=$("$XZ_BIN" version | awk '{ print $2 }')
ARCH=$(dpkg --print-architecture)
check "cpack -G DEB" cpack -G DEB --config "$XZ_BUILD/CPackConfig.cmake" \
	-B "$XZ_T/pkg"
DEB="$XZ_T/pkg/xiezhi_${VERSION}_${ARCH}.deb"
[ -f "$DEB" ] || die "no $DEB (cpack said: $OUT)"
pass "built $(basename "$DEB")"

echo "-- control data"
field() { dpkg-deb -f "$DEB" "$1"; }
assert_eq "Package" xiezhi "$(field Package)"
assert_eq "Version" "$VERSION" "$(field Version)"
assert_eq "Architecture" "$ARCH" "$(field Architecture)"
deps=$(field Depends)
for d in libnng1 liblua5.4-0 libconfig9 libsqlite3-0 libjansson4 libnettle8 \
	libsystemd0 init-system-helpers; do
	assert_contains "Depends on $d" "$d" "$deps"
done
mkdir -p "$XZ_T/ctl"
dpkg-deb -e "$DEB" "$XZ_T/ctl"
assert_eq "conffiles: the whole deployment" \
	"/etc/xiezhi/audit.cfg /etc/xiezhi/auth.cfg /etc/xiezhi/collab-catalog.cfg /etc/xiezhi/collab.cfg /etc/xiezhi/gateway.cfg /etc/xiezhi/legal.cfg /etc/xiezhi/mediation.cfg /etc/xiezhi/plugins.cfg /etc/xiezhi/scenarios.cfg /etc/xiezhi/xiezhi.cfg" \
	"$(sort "$XZ_T/ctl/conffiles" | tr '\n' ' ' | sed 's/ $//')"
for s in postinst prerm postrm; do
	if [ -x "$XZ_T/ctl/$s" ] && sh -n "$XZ_T/ctl/$s"; then
		pass "$s is an executable shell script"
	else
		fail "$s missing, not executable, or not valid sh"
	fi
done
assert_contains "postinst enables and starts the unit" \
	"deb-systemd-invoke start 'xiezhi.service'" "$(cat "$XZ_T/ctl/postinst")"

echo "-- contents"
# Files and symlinks by their own path (a symlink's line ends "-> target").
dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { print ($1 ~ /^l/ ? $(NF-2) : $NF) }' |
	sed 's|^\./|/|' |
	sort >"$XZ_T/files"
for f in /usr/bin/xiezhi \
	/usr/lib/xiezhi/plugins/{hello,audit,prison,rehab,demo,collab}.so \
	/usr/lib/xiezhi/plugins/legal/{legal,legal_days,legal_fsm,legal_store,routing,msg,authz}.lua \
	/usr/lib/xiezhi/plugins/common/lua/{schema,catalog,handler}.lua \
	/usr/lib/xiezhi/plugins/mediation/{mediation,msg}.lua \
	/usr/lib/xiezhi/plugins/legal/calendar/cn_2026.lua \
	/usr/share/xiezhi/scripts/{event_counter,heartbeat,rollcall_escalation,alarm_sla_report}.lua \
	/etc/xiezhi/{xiezhi,plugins,audit,scenarios,collab,legal}.cfg \
	/usr/lib/systemd/system/xiezhi.service /usr/share/man/man1/xiezhi.1.gz \
	/usr/share/doc/xiezhi/operations.md /usr/include/xiezhi/xiezhi.h; do
	if grep -qxF "$f" "$XZ_T/files"; then pass "packs $f"; else
		fail "does not pack $f"; fi
done
assert_eq "nothing outside /usr and /etc" "" \
	"$(grep -v -e '^/usr/' -e '^/etc/xiezhi/' "$XZ_T/files" || true)"
assert_eq "no test plugin, no /usr/local" "" \
	"$(grep -e '/t_[a-z_]*\.so$' -e '/bad_' -e '^/usr/local' "$XZ_T/files" || true)"
mkdir -p "$XZ_T/root"
dpkg-deb -x "$DEB" "$XZ_T/root"
R="$XZ_T/root"
assert_eq "the packed binary runs" "$("$XZ_BIN" version)" \
	"$("$R/usr/bin/xiezhi" version)"
E="$R/etc/xiezhi/xiezhi.cfg"
assert_contains "data in /var/lib/xiezhi" 'data_dir  = "/var/lib/xiezhi";' \
	"$(cat "$E")"
assert_contains "control socket in /run/xiezhi" \
	'control   = "ipc:///run/xiezhi/xiezhi-1.sock";' "$(cat "$E")"
assert_contains "the Lua plugin from /usr/lib/xiezhi/plugins" \
	'path = "/usr/lib/xiezhi/plugins/legal/legal.lua";' \
	"$(cat "$R/etc/xiezhi/legal.cfg")"
assert_eq "no path into the build machine" "" \
	"$(grep -rl -e "$XZ_SRC" -e "$XZ_BUILD" -e "$XZ_T" "$R/etc" \
		"$R/usr/lib/systemd" || true)"
U="$R/usr/lib/systemd/system/xiezhi.service"
for line in "Type=notify" "ExecStart=/usr/bin/xiezhi run -c /etc/xiezhi/xiezhi.cfg" \
	'ExecReload=/bin/kill -HUP $MAINPID' "WatchdogSec=30" \
	"StateDirectory=xiezhi" "RuntimeDirectory=xiezhi" "LogsDirectory=xiezhi" \
	"DynamicUser=yes" "ProtectSystem=strict" "NoNewPrivileges=yes"; do
	if grep -qxF -- "$line" "$U"; then pass "unit: $line"; else
		fail "unit lacks: $line"; fi
done

echo "-- install, run, purge"
if [ "$(id -u)" != 0 ]; then
	skip "installing the package: needs root"
	finish
fi
if dpkg-query -W -f='${Status}' xiezhi 2>/dev/null | grep -q installed ||
	[ -e /etc/xiezhi ] || [ -e /usr/bin/xiezhi ] || [ -e /usr/lib/xiezhi ]; then
	skip "installing the package: xiezhi is already on this machine (not touched)"
	finish
fi
# One package test at a time on a machine (dpkg itself allows one writer).
exec 9>/run/lock/xiezhi-deb-test.lock
flock -w 600 9 || die "another package test holds the lock for 10 minutes"
had_state=no had_run=no had_logs=no
[ -e /var/lib/xiezhi ] && had_state=yes
[ -e /run/xiezhi ] && had_run=yes
[ -e /var/log/xiezhi ] && had_logs=yes
deb_cleanup() {
	if dpkg-query -W xiezhi >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive dpkg --purge xiezhi >/dev/null 2>&1 || true
	fi
	[ "$had_state" = yes ] || rm -rf /var/lib/xiezhi /var/lib/private/xiezhi
	[ "$had_run" = yes ] || rm -rf /run/xiezhi
	[ "$had_logs" = yes ] || rm -rf /var/log/xiezhi
}
trap 'rc=$?; deb_cleanup; (exit $rc); _xz_cleanup' EXIT

check "dpkg -i" env DEBIAN_FRONTEND=noninteractive dpkg -i "$DEB"
assert_eq "installed" "install ok installed" \
	"$(dpkg-query -W -f='${Status}' xiezhi)"
assert_eq "the unit is enabled (multi-user.target.wants)" yes \
	"$([ -L /etc/systemd/system/multi-user.target.wants/xiezhi.service ] && echo yes || echo no)"
if command -v man >/dev/null; then
	assert_eq "man finds xiezhi(1)" /usr/share/man/man1/xiezhi.1.gz \
		"$(man -w xiezhi 2>/dev/null || true)"
fi
if command -v systemd-analyze >/dev/null; then
	assert_eq "systemd-analyze verify: no complaint" "" \
		"$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify \
			/usr/lib/systemd/system/xiezhi.service 2>&1 || true)"
fi
check "check without -c finds /etc/xiezhi/xiezhi.cfg" /usr/bin/xiezhi check
assert_eq "the installed deployment" \
	"/etc/xiezhi/xiezhi.cfg: ok (node 'xiezhi-1', 13 plugins and scripts enabled)" \
	"$OUT"
if [ -d /run/systemd/system ]; then
	echo "   (systemd runs here: the package started the service)"
	active() { [ "$(systemctl is-active xiezhi)" = active ]; }
	wait_for 60 active || fail "xiezhi.service is not active: $(systemctl status xiezhi --no-pager 2>&1 | tail -n 20)"
	check "the service answers" /usr/bin/xiezhi call xz.sys.ping
	check "systemctl reload" systemctl reload xiezhi
	check "still answers after the reload" /usr/bin/xiezhi call xz.sys.ping
	assert_contains "the service said READY (Type=notify)" "running" \
		"$(systemctl show -p StatusText --value xiezhi)"
else
	echo "   (no systemd here: running the installed node by hand)"
	XZ_BIN=/usr/bin/xiezhi start_node /etc/xiezhi/xiezhi.cfg deb
	check "ping, without -c" /usr/bin/xiezhi call xz.sys.ping
	assert_eq "the installed node answers" xiezhi-1 \
		"$(echo "$OUT" | jq -r .node)"
	check "hello.greet" /usr/bin/xiezhi call hello.greet '{"name":"deb"}'
	check "status: every plugin running" /usr/bin/xiezhi status
	assert_eq "no plugin that is not running" "" \
		"$(echo "$OUT" | jq -r '.plugins[] | select(.state != "running") | .name')"
	assert_eq "the control socket is /run/xiezhi/xiezhi-1.sock" yes \
		"$([ -S /run/xiezhi/xiezhi-1.sock ] && echo yes || echo no)"
	XZ_BIN=/usr/bin/xiezhi stop_node deb
	check "the audit chain of /var/lib/xiezhi verifies" \
		/usr/bin/xiezhi audit verify --offline
fi
check "dpkg --purge" env DEBIAN_FRONTEND=noninteractive dpkg --purge xiezhi
assert_eq "not installed any more" no \
	"$(dpkg-query -W xiezhi >/dev/null 2>&1 && echo yes || echo no)"
for p in /usr/bin/xiezhi /usr/lib/xiezhi /usr/share/xiezhi /etc/xiezhi \
	/usr/lib/systemd/system/xiezhi.service \
	/etc/systemd/system/multi-user.target.wants/xiezhi.service; do
	assert_eq "purged: $p" no "$([ -e "$p" ] || [ -L "$p" ] && echo yes || echo no)"
done
if [ "$had_state" = no ] && [ ! -d /run/systemd/system ]; then
	assert_eq "the data folder outlives a purge (the audit trail)" yes \
		"$([ -d /var/lib/xiezhi ] && echo yes || echo no)"
fi
finish
