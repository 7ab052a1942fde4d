#!/usr/bin/env bash
# The dashboard in a real browser (Debian's chromium, headless, driven by
# puppeteer-core from npm, installed at test time under the build tree):
# log in as the duty officer, an alarm raised with `xiezhi call` appears on
# the command-center board, acknowledge it from the page and see its state
# and SLA change, switch to English, open every page; a kiosk user is
# offered no action and a forged POST is refused. Screenshots go to
# $XZ_BUILD/screenshots/ (XZ_UPDATE_SCREENSHOT=1 also copies the command
# center's to docs/screenshots/). SKIP without chromium, node or npm.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
xz_setup

CHROMIUM=${GW_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip_test "no chromium ($CHROMIUM): apt-get install chromium"
command -v node >/dev/null || skip_test "no node"
command -v npm >/dev/null || skip_test "no npm"
NPM_DIR="${XZ_BUILD:-$XZ_T}/npm-browser"
if [ ! -d "$NPM_DIR/node_modules/puppeteer-core" ]; then
	mkdir -p "$NPM_DIR"
	[ -f "$NPM_DIR/package.json" ] || echo '{"name":"xz-browser-test","private":true}' >"$NPM_DIR/package.json"
	(cd "$NPM_DIR" && timeout 600 npm install --no-audit --no-fund --silent puppeteer-core@24) \
		|| skip_test "npm cannot install puppeteer-core here"
fi

gw_start
gw_user command_duty
DUTY_USER=$GW_USER DUTY_PW=$GW_PASSWORD
KIOSK_USER="" KIOSK_PW=""
if [ "$GW_OPEN" = 0 ]; then
	gw_user kiosk
	KIOSK_USER=$GW_USER KIOSK_PW=$GW_PASSWORD
else
	skip "kiosk user checks (no login service on this node: open access)"
fi
A='"actor":{"user":"sensor-gw","role":"sensor","agency":"prison-01"},'
[ "$GW_OPEN" = 1 ] || A=""
RAISE="$XZ_BIN call -c $XZ_CFG prison.alarm.raise '{$A\"kind\":\"FIGHT\",\"level\":2,\"location\":\"5101.01.1.101\",\"source\":\"sensor\",\"description\":\"perimeter\"}'"
SHOTS="${XZ_BUILD:-$XZ_T}/screenshots"
cp "$XZ_SRC/tests/integration/gateway_browser.mjs" "$NPM_DIR/"
out=$(cd "$NPM_DIR" && GW_URL=$GW_URL GW_USER=$DUTY_USER GW_PASSWORD=$DUTY_PW \
	GW_KIOSK_USER=$KIOSK_USER GW_KIOSK_PASSWORD=$KIOSK_PW GW_RAISE=$RAISE \
	GW_SHOTS=$SHOTS GW_CHROMIUM=$CHROMIUM timeout 300 node gateway_browser.mjs 2>&1) || true
echo "$out" | sed 's/^/    /'
assert_contains "browser flow passes" "PASS browser" "$out"
assert_contains "alarm appears on the board" "on the board after" "$out"
assert_contains "acknowledged from the page" "acknowledged from the page" "$out"
[ -f "$SHOTS/command-center.png" ] && pass "screenshot saved" || fail "no screenshot"
if [ "${XZ_UPDATE_SCREENSHOT:-0}" = 1 ] && [ -f "$SHOTS/command-center.png" ]; then
	mkdir -p "$XZ_SRC/docs/screenshots"
	cp "$SHOTS/command-center.png" "$XZ_SRC/docs/screenshots/command-center.png"
fi
check "node still answers" xz call xz.sys.ping
stop_node
finish
