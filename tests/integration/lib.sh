# lib.sh - shared helpers of the integration tests (source it, don't run it).
#
#   #!/usr/bin/env bash
#   set -euo pipefail
#   . "$(dirname "$0")/lib.sh"
#   xz_setup                       # temp dir $XZ_T, cleanup trap, $XZ_CFG path
#   xz_config <<'EOF'              # writes $XZ_CFG: node section filled in,
#   plugins = ( { name = "x"; kind = "so"; } );   # stdin appended verbatim
#   EOF
#   start_node                     # runs `$XZ_BIN run -c $XZ_CFG` in the
#                                  # background, waits for xz.sys.ping
#   check "ping answers" xz call xz.sys.ping
#   assert_eq "node name" t1 "$(xz call xz.sys.ping | jq -r .node)"
#   stop_node                      # SIGTERM, wait, assert exit 0
#   finish                         # prints PASS/FAIL, exits 0/1
#
# Environment (set by ctest, see tests/CMakeLists.txt): XZ_BIN (the xiezhi
# binary), XZ_BUILD, XZ_SRC, XZ_PLUGIN_DIR. Run a test by hand with e.g.
#   XZ_BIN=build/xiezhi XZ_PLUGIN_DIR=build/plugins bash tests/integration/t_cli.sh
#
# Every node gets its own control socket and data_dir inside $XZ_T (never
# the defaults: several people run tests on one machine). Failures are
# counted by the assert helpers (the test goes on and `finish` reports
# FAIL); `die MSG` stops at once. A node's output goes to $XZ_T/NAME.log,
# which is printed when the test fails.
#
# A check that cannot run here is never reported as passed: `skip_test
# REASON` ends a test that has nothing left to check with exit 77, which
# ctest shows as Skipped (SKIP_RETURN_CODE, tests/CMakeLists.txt); `skip
# WHAT` leaves out one check of a test that goes on, and the verdict line
# counts it (ctest has no "partly skipped").

: "${XZ_BIN:?XZ_BIN must point to the xiezhi binary}"
XZ_BIN=$(readlink -f "$XZ_BIN")
export XZ_PLUGIN_DIR="${XZ_PLUGIN_DIR:-$(dirname "$XZ_BIN")/plugins}"
XZ_SRC="${XZ_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
XZ_TEST_NAME=$(basename "$0" .sh)
XZ_FAILS=0
XZ_CHECKS=0
XZ_SKIPS=0
XZ_SKIP_RC=77 # ctest's SKIP_RETURN_CODE
XZ_SKIPPING=0 # set by skip_test: the only way to exit 77
XZ_NODES=() # "name:pid" of running nodes

# xz_setup: make the temp dir $XZ_T and the default node paths; install the
# cleanup trap (kills every node still running, removes $XZ_T unless
# XZ_KEEP=1).
xz_setup() {
	XZ_T=$(mktemp -d "${TMPDIR:-/tmp}/xz-${XZ_TEST_NAME}.XXXXXX")
	XZ_CFG="$XZ_T/node.cfg"
	XZ_NODE_NAME="n1"
	trap _xz_cleanup EXIT
	trap 'exit 130' INT TERM
	echo "== $XZ_TEST_NAME (temp dir $XZ_T)"
}

_xz_cleanup() {
	local rc=$? entry pid
	# Background helpers of the test (subscribers...) go too.
	local jobs_left end
	jobs_left=$(jobs -p)
	for pid in $jobs_left; do
		kill "$pid" 2>/dev/null || true
	done
	# ... and are gone before their folders are removed (a server still
	# flushing its files would make rm fail): 10 s, then SIGKILL.
	end=$((SECONDS + 10))
	for pid in $jobs_left; do
		while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	for entry in "${XZ_NODES[@]}"; do
		pid=${entry##*:}
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ] && [ "$XZ_SKIPPING" = 0 ] || [ "$XZ_FAILS" -ne 0 ]; then
		_xz_dump_logs
	fi
	if [ "${XZ_KEEP:-0}" != 1 ] && [ -n "${XZ_T:-}" ]; then
		rm -rf "$XZ_T" 2>/dev/null || rm -rf "$XZ_T" ||
			echo "note: could not remove $XZ_T"
	fi
	# A command that failed with 77 under set -e must not pass for a skip.
	if [ "$rc" -eq "$XZ_SKIP_RC" ] && [ "$XZ_SKIPPING" = 0 ]; then
		echo "FAIL $XZ_TEST_NAME (exit $rc, not from skip_test)"
		exit 1
	fi
}

_xz_dump_logs() {
	local f
	for f in "$XZ_T"/*.log; do
		[ -f "$f" ] || continue
		echo "---- $f (last 40 lines)"
		tail -n 40 "$f"
	done
}

# xz_config [FILE [NAME]] < extra: write a config with a node section
# (name NAME, control ipc socket and data_dir inside $XZ_T, test_clock on
# so tests may move the clock with xz.sys.clock.advance) followed by
# stdin (bus, plugins, ...; give </dev/null for nothing). Defaults: FILE=$XZ_CFG, NAME=n1. Give
# XZ_NODE_EXTRA="log_level = \"debug\";" to add keys to the node group,
# XZ_TEST_CLOCK=0 for a node without the test clock (as deployed).
xz_config() {
	local file=${1:-$XZ_CFG} name=${2:-n1}
	mkdir -p "$XZ_T/$name"
	{
		echo "node = {"
		echo "  name = \"$name\";"
		echo "  control = \"ipc://$XZ_T/$name/ctl.sock\";"
		echo "  data_dir = \"$XZ_T/$name/data\";"
		echo "  plugin_path = [ \"$XZ_PLUGIN_DIR\" ];"
		if [ "${XZ_TEST_CLOCK:-1}" = 1 ]; then
			echo "  test_clock = true;"
		fi
		if [ -n "${XZ_NODE_EXTRA:-}" ]; then
			echo "  $XZ_NODE_EXTRA"
		fi
		echo "};"
		cat
	} >"$file"
}

# xz ARGS...: the CLI against the default config: `xz call TOPIC JSON` is
# `$XZ_BIN call -c $XZ_CFG TOPIC JSON`. Commands without -c (version,
# bench, or when ARGS already hold -c/-u) are passed through as they are.
xz() {
	local cmd=$1
	shift
	case "$cmd" in
	version | bench | --help | help) "$XZ_BIN" "$cmd" "$@" ;;
	*)
		local a
		for a in "$@"; do
			if [ "$a" = -c ] || [ "$a" = -u ]; then
				"$XZ_BIN" "$cmd" "$@"
				return
			fi
		done
		"$XZ_BIN" "$cmd" -c "$XZ_CFG" "$@"
		;;
	esac
}

# xz_bg ARGS...: `xz ARGS` as a background job (`xz_bg sub P >FILE &`).
# It execs the CLI in the job's subshell, so $! is the CLI's own pid and
# kill -STOP / -TERM reach it (with `xz ... &`, $! is a bash subshell
# that passes neither on).
xz_bg() {
	[ "$BASHPID" != "$$" ] || die "xz_bg runs only as a background job (&)"
	local cmd=$1 a
	shift
	for a in "$@"; do
		if [ "$a" = -c ] || [ "$a" = -u ]; then
			exec "$XZ_BIN" "$cmd" "$@"
		fi
	done
	exec "$XZ_BIN" "$cmd" -c "$XZ_CFG" "$@"
}

# start_node [FILE [NAME]]: run a node in the background (output in
# $XZ_T/NAME.log), wait until it answers xz.sys.ping (20 s, or dies).
# Sets NODE_PID (and remembers the pid for stop_node/cleanup).
start_node() {
	local file=${1:-$XZ_CFG} name=${2:-n1} i
	"$XZ_BIN" run -c "$file" >>"$XZ_T/$name.log" 2>&1 &
	NODE_PID=$!
	XZ_NODES+=("$name:$NODE_PID")
	for i in $(seq 1 200); do
		if ! kill -0 "$NODE_PID" 2>/dev/null; then
			_xz_dump_logs
			die "node $name exited during start-up"
		fi
		if "$XZ_BIN" call -c "$file" xz.sys.ping '{}' -t 500 \
			>/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	die "node $name does not answer xz.sys.ping after 20 s"
}

# node_pid [NAME]: the pid of a running node started by start_node.
node_pid() {
	local name=${1:-n1} entry
	for entry in "${XZ_NODES[@]}"; do
		if [ "${entry%%:*}" = "$name" ]; then
			echo "${entry##*:}"
			return 0
		fi
	done
	return 1
}

# stop_node [NAME [SIGNAL]]: send SIGTERM (or SIGNAL), wait up to
# XZ_STOP_SECS (default 60) seconds,
# and assert the node exits 0. The exit status goes to NODE_RC (the
# function itself returns 0, so set -e does not cut the test short).
stop_node() {
	local name=${1:-n1} sig=${2:-TERM} pid rc=0 i entry keep=()
	pid=$(node_pid "$name") || die "stop_node: no node named $name"
	local secs=${XZ_STOP_SECS:-60} end
	kill "-$sig" "$pid"
	end=$((SECONDS + secs))
	while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		fail "node $name still running $secs s after SIG$sig"
	fi
	wait "$pid" || rc=$?
	for entry in "${XZ_NODES[@]}"; do
		[ "${entry%%:*}" = "$name" ] || keep+=("$entry")
	done
	XZ_NODES=("${keep[@]+"${keep[@]}"}")
	NODE_RC=$rc
	assert_eq "node $name exits 0 after SIG$sig" 0 "$rc"
}

# wait_for SECONDS CMD...: run CMD every 0.1 s until it succeeds; returns
# 1 (without failing the test) if it never did.
wait_for() {
	local secs=$1 i
	shift
	for i in $(seq 1 $((secs * 10))); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# wait_until SECS 'SHELL TEST': wait_for a test written as one string, so
# that the command substitutions in it run again at every try (in
# `wait_for 5 test "$(cmd)" = x` they would run once, before waiting).
wait_until() {
	wait_for "$1" eval "$2"
}

# pass MSG / fail MSG: record one check.
pass() {
	XZ_CHECKS=$((XZ_CHECKS + 1))
	echo "  ok   $*"
}
fail() {
	XZ_CHECKS=$((XZ_CHECKS + 1))
	XZ_FAILS=$((XZ_FAILS + 1))
	echo "  FAIL $*"
}

# skip WHAT: leave out one check that cannot run here (a missing optional
# tool or plugin, a figure a sanitizer build distorts); the rest of the test
# goes on and still decides PASS or FAIL.
skip() {
	XZ_SKIPS=$((XZ_SKIPS + 1))
	echo "  skip $*"
}

# skip_test REASON: nothing this test is for can be checked here: exit 77
# with REASON on stderr. A test that already failed a check fails instead.
skip_test() {
	[ "$XZ_FAILS" -eq 0 ] || finish
	echo "SKIP $XZ_TEST_NAME: $*" >&2
	XZ_SKIPPING=1
	exit "$XZ_SKIP_RC"
}

# die MSG: fail and stop the test now.
die() {
	fail "$*"
	finish
}

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1 ($3)"
	else
		fail "$1: expected '$2', got '$3'"
	fi
}

# assert_contains WHAT NEEDLE HAYSTACK
assert_contains() {
	case "$3" in
	*"$2"*) pass "$1" ;;
	*) fail "$1: '$2' not found in: $3" ;;
	esac
}

# assert_le WHAT A B: integers, A <= B.
assert_le() {
	if [ "$2" -le "$3" ]; then
		pass "$1 ($2 <= $3)"
	else
		fail "$1: $2 > $3"
	fi
}

# assert_exit WHAT EXPECTED CMD...: run CMD (output kept in $OUT and $ERR)
# and check its exit status.
assert_exit() {
	local what=$1 want=$2 rc=0
	shift 2
	"$@" >"$XZ_T/.out" 2>"$XZ_T/.err" || rc=$?
	OUT=$(cat "$XZ_T/.out")
	ERR=$(cat "$XZ_T/.err")
	if [ "$rc" = "$want" ]; then
		pass "$what (exit $rc)"
	else
		fail "$what: exit $rc, expected $want; stdout: $OUT; stderr: $ERR"
	fi
}

# check WHAT CMD...: CMD must succeed.
check() {
	assert_exit "$1" 0 "${@:2}"
}

# json FILTER: jq on stdin, raw output (needs jq).
json() {
	jq -r "$1"
}

# status_get FILTER: a field of `xiezhi status` (e.g. '.bus.dropped').
status_get() {
	xz status | jq -r "$1"
}

# counter PLUGIN NAME: a counter of a plugin from `xiezhi status`
# (0 when absent).
counter() {
	xz status | jq -r --arg p "$1" --arg c "$2" \
		'(.plugins[] | select(.name == $p) | .counters[$c]) // 0'
}

# rss_kib PID: resident set size of a process in KiB (VmRSS).
rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# sanitized: true when the binary is built with ASan (RSS and timing
# figures do not apply then).
sanitized() {
	[ "${XZ_SANITIZE:-0}" = 1 ] || [ "${XZ_SANITIZE:-}" = ON ] ||
		nm -D "$XZ_BIN" 2>/dev/null | grep -q __asan_init
}

# JQ_VAL: a jq function val(SCHEMA), a value that passes one field schema
# of prison.api.describe (so a request built from it meets the role check,
# not a field check): `jq -r "$JQ_VAL"'...val(.)...'`.
JQ_VAL='  def val($s):
    if $s.type == "string" then ("x" * ([$s.min, 1] | max))
    elif $s.type == "integer" then $s.min
    elif $s.type == "boolean" then true
    elif $s.type == "enum" then $s.values[0]
    elif $s.type == "idcard" then "11010519491231002X"
    elif $s.type == "object" then
      ($s.fields // {} | with_entries(select(.value.required)) | map_values(val(.)))
    elif $s.type == "array" then [range(0; $s.min) | val($s.items)]
    else null end;'

# run_refused WHAT NEEDLE [CFG]: `xiezhi run` must exit non-zero at start
# (within 60 s) and say NEEDLE.
run_refused() {
	local rc=0 out
	out=$(timeout 60 "$XZ_BIN" run -c "${3:-$XZ_CFG}" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
		pass "$1: the node does not start (exit $rc)"
	else
		fail "$1: the node started (exit $rc): $out"
	fi
	assert_contains "$1: the reason names it" "$2" "$out"
}

# full_disk SIZE_MB SPARE_KIB WHAT CHECK LOAD...: a full disk. The node's
# data folder ($DATA, as named in $XZ_CFG; the node stopped) moves onto a
# tmpfs of SIZE_MB, the node starts, the disk is filled up to SPARE_KIB,
# and LOAD... (writing one outcome a line, `ok` or a refusal, to
# $XZ_T/outcomes) runs: some outcome must be a refusal (WHAT names what
# LOAD asked, for the skip when all of it fit). Then the space is freed,
# the node restarted and `CHECK "disk full"` run on it before it stops.
# Needs root for the mount; elsewhere the section is skipped.
full_disk() {
	local mb=$1 spare=$2 what=$3 check_fn=$4
	shift 4
	if [ "$(id -u)" != 0 ] || ! mkdir -p "$XZ_T/full" ||
		! mount -t tmpfs -o "size=${mb}m" tmpfs "$XZ_T/full" 2>/dev/null; then
		skip "disk full: cannot mount a tmpfs here"
		return 0
	fi
	trap 'umount -l "$XZ_T/full" 2>/dev/null || true; _xz_cleanup' EXIT
	cp -a "$DATA/." "$XZ_T/full/"
	sed -i "s|$DATA|$XZ_T/full|" "$XZ_CFG"
	DATA=$XZ_T/full
	start_node
	dd if=/dev/zero of="$DATA/filler" bs=4k 2>/dev/null || true # until full
	rm -f "$DATA/filler"
	dd if=/dev/zero of="$DATA/filler" bs=1k count=$(($(df -k --output=avail "$DATA" | tail -1) - spare)) 2>/dev/null || true
	: >"$XZ_T/outcomes"
	"$@"
	echo "  .. outcomes on a full disk: $(sort "$XZ_T/outcomes" | uniq -c | tr '\n' ' ')"
	if grep -qv '^ok$' "$XZ_T/outcomes"; then
		pass "the full disk refused changes"
	else
		skip "the disk never filled ($what fit)"
	fi
	rm -f "$DATA/filler"
	stop_node
	start_node
	"$check_fn" "disk full"
	stop_node
	umount -l "$XZ_T/full" 2>/dev/null || true
}

# node_pki SALT NAME...: for nodes linked over mutual TLS, a node CA in
# $PKI, the hub's certificate (for localhost) and one per NAME in $CERTS,
# issued by `xiezhi identity`; $PORT (picked from SALT and the pid) and
# $URL=tls+tcp://127.0.0.1:$PORT. HOME becomes a fresh folder of the test.
node_pki() {
	local salt=$1 n
	shift
	command -v jq >/dev/null || skip_test "jq is not installed"
	export HOME="$XZ_T/home"
	mkdir -p "$HOME"
	unset XZ_CREDS
	PKI="$XZ_T/pki"
	CERTS="$XZ_T/certs"
	PORT=$((20000 + ($$ + salt) % 20000))
	URL="tls+tcp://127.0.0.1:$PORT"
	check "ca init" xz identity ca init --pki "$PKI" --cn links-ca
	check "the hub's certificate" xz identity cert issue --pki "$PKI" \
		--cn hub --kind node --dns localhost --out "$CERTS"
	for n in "$@"; do
		check "node $n's certificate" xz identity cert issue \
			--pki "$PKI" --cn "$n" --kind node --out "$CERTS"
	done
}

# ---- nodes linked to nodes (docs/multi-node.md) ----
# node_cfg NAME TEXT: write $XZ_T/NAME.cfg, a node NAME (xz_config) with
# TEXT after its node group (bus, links, plugins, auth...).
node_cfg() {
	mkdir -p "$XZ_T/$1"
	printf '%s\n' "$2" | xz_config "$XZ_T/$1.cfg" "$1"
}
# on NAME CMD ARGS...: the CLI against node NAME's config.
on() { local n=$1; shift; "$XZ_BIN" "$1" -c "$XZ_T/$n.cfg" "${@:2}"; }
# link_field NODE LINK JQ: JQ of node NODE's status entry for its link LINK.
link_field() { on "$1" status | jq -r --arg l "$2" ".node_links[] | select(.name == \$l) | $3"; }
# link_token FILE: write a fresh link token to FILE.
link_token() {
	mkdir -p "$(dirname "$1")"
	printf 'xzn_%s\n' "$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')" >"$1"
}
# two_nodes A B LINK_A LINK_B [REST_A [REST_B [BUS_A [BUS_B]]]]: nodes A
# and B, each with an ipc bus door ($XZ_T/NAME/bus.sock) and BUS_x added
# to its bus group, REST_x after it; A dials B with a token
# ($XZ_T/tok/A-B, written here). LINK_A / LINK_B are the rest of each
# side's link entry (agency, roles, import, export). Starts B, then A,
# and waits until both see the link up, unless TWO_NODES_START=0 (the
# configs only).
two_nodes() {
	local a=$1 b=$2 tok="$XZ_T/tok/$1-$2"
	link_token "$tok"
	node_cfg "$a" "bus = { listen = [ \"ipc://$XZ_T/$a/bus.sock\" ]; ${7:-} };
links = ( { name = \"$b\"; url = \"ipc://$XZ_T/$b/bus.sock\"; creds = \"$tok\"; $3 } );
${5:-}"
	node_cfg "$b" "bus = { listen = [ \"ipc://$XZ_T/$b/bus.sock\" ]; ${8:-} };
links = ( { name = \"$a\"; creds = \"$tok\"; $4 } );
${6:-}"
	[ "${TWO_NODES_START:-1}" = 1 ] || return 0
	start_node "$XZ_T/$b.cfg" "$b"
	start_node "$XZ_T/$a.cfg" "$a"
	wait_until 30 "[ \"\$(link_field $a $b .state)\" = up ] && [ \"\$(link_field $b $a .state)\" = up ]" ||
		fail "the link $a -> $b does not come up"
}

# finish: print the verdict and exit (0 when every check that ran passed).
finish() {
	local skipped=""
	[ "$XZ_SKIPS" -eq 0 ] || skipped=", $XZ_SKIPS skipped"
	if [ "$XZ_FAILS" -eq 0 ]; then
		echo "PASS $XZ_TEST_NAME ($XZ_CHECKS checks$skipped)"
		exit 0
	fi
	echo "FAIL $XZ_TEST_NAME ($XZ_FAILS of $XZ_CHECKS checks failed)"
	exit 1
}
