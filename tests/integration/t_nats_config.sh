#!/usr/bin/env bash
# t_nats_config.sh - the nats bridge's options: `xiezhi check` refuses an
# unknown key, a value of the wrong type and one out of range with
# FILE:LINE and the option's name; a malformed topic pattern or prefix
# disables the plugin at start with an error naming the option, and the
# node keeps running; the node runs (and counts connected 0) with no
# nats-server at all. Needs no nats-server; SKIP without the plugin.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
[ -f "$XZ_PLUGIN_DIR/nats.so" ] || skip_test "the nats plugin was not built (libnats-dev missing)"

# cfg OPTIONS: a node whose bridge has OPTIONS on line 9 of the file (the
# node section takes lines 1-7).
cfg() {
	xz_config <<EOF
plugins = ( { name = "nats"; kind = "so"; options = {
    $1
  }; } );
EOF
	grep -n -F -- "$1" "$XZ_CFG" | cut -d: -f1 | head -1
}

line=$(cfg 'url = "nats://127.0.0.1:1"; exports = "site.>";')
assert_exit "an unknown key is refused" 1 xz check
assert_contains "named with FILE:LINE and a suggestion" \
	"$XZ_CFG:$line: plugin 'nats': unknown option 'exports'" "$ERR"
assert_contains "the suggestion" "export" "$ERR"

line=$(cfg 'export = [ "site.alarm.>" ];')
assert_exit "a list where a string is expected is refused" 1 xz check
assert_contains "wrong type with FILE:LINE" \
	"$XZ_CFG:$line: plugin 'nats': option 'export' must be a string" "$ERR"

line=$(cfg 'outbox_max = "many";')
assert_exit "a string where an integer is expected is refused" 1 xz check
assert_contains "wrong type with FILE:LINE" \
	"$XZ_CFG:$line: plugin 'nats': option 'outbox_max' must be an integer" "$ERR"

line=$(cfg 'poll_ms = 0;')
assert_exit "a value out of range is refused" 1 xz check
assert_contains "range with FILE:LINE" \
	"$XZ_CFG:$line: plugin 'nats': option 'poll_ms' must be between 1 and 1000" "$ERR"

# Malformed patterns and prefixes: strings of the right type, so `check`
# (which does not run the plugin's init) passes them; the plugin refuses
# them at start, naming the option and the value; the node keeps running.
cfg 'url = "nats://127.0.0.1:1"; export = "site.alarm.>, site..visit";' >/dev/null
start_node
assert_eq "plugin disabled by a bad export pattern" failed \
	"$(xz status | jq -r '.plugins[] | select(.name == "nats") | .state')"
assert_contains "the log names the option and the pattern" \
	"option export: 'site..visit' is not a valid topic pattern" "$(cat "$XZ_T/n1.log")"
check "the node still answers" xz call xz.sys.ping '{}'
stop_node
skip "check refusing a malformed pattern with FILE:LINE (the kernel runs no plugin code at check)"

for bad in 'import = "site.>.x";' 'durable_export = "site.*x";' \
	'export_prefix = "xiezhi.*.";' 'import_prefix = "xiezhi";' \
	'stream = "A.B";' 'export = "xzd.x.>";'; do
	cfg "url = \"nats://127.0.0.1:1\"; $bad" >/dev/null
	: >"$XZ_T/n1.log"
	start_node
	assert_eq "plugin disabled by: $bad" failed \
		"$(xz status | jq -r '.plugins[] | select(.name == "nats") | .state')"
	opt=${bad%% =*}
	assert_contains "the log names option $opt" "option $opt:" "$(cat "$XZ_T/n1.log")"
	stop_node
done

# No nats-server: the node runs, the bridge is RUNNING and not connected.
cfg 'url = "nats://127.0.0.1:1"; export = "site.>"; durable_export = "case.>";' >/dev/null
check "check accepts a valid bridge" xz check
start_node
assert_eq "bridge running without a server" running \
	"$(xz status | jq -r '.plugins[] | select(.name == "nats") | .state')"
assert_eq "connected 0" 0 "$(counter nats connected)"
check "publish to an exported topic while NATS is unreachable" xz pub site.alarm.x '{"n":1}'
check "publish to a durable topic while NATS is unreachable" xz pub case.transfer.sent '{"n":1}'
outbox_is() { [ "$(counter nats outbox)" = "$1" ]; }
wait_for 10 outbox_is 1 || true
assert_eq "the durable event waits in the outbox" 1 "$(counter nats outbox)"
check "the node still answers" xz call xz.sys.ping '{}'
stop_node
finish
