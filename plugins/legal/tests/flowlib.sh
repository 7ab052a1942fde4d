# flowlib.sh - helpers shared by the legal and end-to-end flow tests
# (tests/integration/t_legal_*.sh, t_flow_*.sh). Source it after lib.sh
# and xz_setup.
#
#   flow_node prison audit legal    write $XZ_CFG with these plugins and
#                                   start the node
#   flow_have NAME                  true when the plugin is available
#   flow_skip_unless NAME...        skip the test (exit 77) without them
#   lcall TOPIC 'FIELDS'            `xz call TOPIC {"actor":..,FIELDS}` as a
#                                   member of the legal-aid centre (every
#                                   centre role and lawyer, user "tester")
#   bcall TOPIC 'FIELDS'            the same as the justice bureau
#   acall USER ROLE AGENCY TOPIC 'FIELDS'  the same as anyone
#   advance MS                      move the kernel clock forward
#   sub_bg PATTERN N FILE           start `xz sub` in the background; waits
#                                   until it is subscribed
#   audit_rows 'QUERY FIELDS'       audit.query records as JSON lines

ACTOR='"actor":{"user":"officer-7","role":"OFFICER","agency":"prison-1"}'
# The legal plugin's people (role ids of docs/roles.md; agencies are the
# plugin's defaults: legal-01 for the centre, justice-01 for the bureau).
LACTOR='"actor":{"user":"tester","roles":["hotline_operator","legal_reviewer","legal_head","lawyer","duty_lawyer"],"agency":"legal-01"}'
BACTOR='"actor":{"user":"bureau-1","role":"justice_bureau","agency":"justice-01"}'
LEGAL_DIR="$XZ_SRC/plugins/legal"

# flow_file NAME: the file the plugin NAME runs from.
flow_file() {
	case "$1" in
	legal) echo "$LEGAL_DIR/legal.lua" ;;
	*) echo "$XZ_PLUGIN_DIR/$1.so" ;;
	esac
}

# flow_have NAME: the plugin NAME can run on this build.
flow_have() {
	[ -f "$(flow_file "$1")" ]
}

# flow_skip_unless NAME...: skip the test (skip_test, exit 77) when a
# plugin is missing: a flow is never faked without its plugin.
flow_skip_unless() {
	local p
	for p in "$@"; do
		flow_have "$p" ||
			skip_test "plugin '$p' is not built ($(flow_file "$p") missing)"
	done
}

# flow_node [-l LEGAL_LUA] [-o 'legal options'] NAME...: the config and the
# node. The legal plugin is run from LEGAL_LUA (default: the source tree).
flow_node() {
	local lua="$LEGAL_DIR/legal.lua" lopts="" p
	while [ $# -gt 0 ]; do
		case "$1" in
		-l) lua=$2; shift 2 ;;
		-o) lopts=$2; shift 2 ;;
		*) break ;;
		esac
	done
	{
		# a generous per-call deadline: the sanitizer build on a shared,
		# loaded machine is slow (the default 500 ms is for production)
		echo "lua = { time_limit_ms = 5000; };"
		echo "plugins = ("
		local first=1
		for p in "$@"; do
			[ $first = 1 ] || echo ","
			first=0
			case "$p" in
			legal) echo "  { name = \"legal\"; kind = \"lua\"; path = \"$lua\";" \
				"options = { $lopts }; }" ;;
			prison) echo "  { name = \"prison\"; kind = \"so\";" \
				"options = { seed_demo_data = true; }; }" ;;
			rehab) echo "  { name = \"rehab\"; kind = \"so\";" \
				"options = { seed_demo_data = true; }; }" ;;
			*) echo "  { name = \"$p\"; kind = \"so\"; }" ;;
			esac
		done
		echo ");"
	} | xz_config
	start_node
}

lcall() {
	local topic=$1 fields=${2:-}
	xz call "$topic" "{$LACTOR${fields:+,$fields}}"
}

bcall() {
	local topic=$1 fields=${2:-}
	xz call "$topic" "{$BACTOR${fields:+,$fields}}"
}

# acall USER ROLE AGENCY TOPIC [FIELDS]
acall() {
	local a="\"actor\":{\"user\":\"$1\",\"role\":\"$2\",\"agency\":\"$3\"}"
	xz call "$4" "{$a${5:+,$5}}"
}

advance() {
	xz call xz.sys.clock.advance "{\"ms\":$1}" >/dev/null
}

now_ms() {
	xz call xz.sys.clock.now '{}' | jq -r .now_ms
}

# sub_bg PATTERN N FILE: subscribe in the background; SUB_PID is set.
sub_bg() {
	XZ_SUB_READY=1 xz_bg sub "$1" -n "$2" >"$3" 2>"$3.err" &
	SUB_PID=$!
	wait_for 5 grep -q "xiezhi sub: ready" "$3.err" ||
		fail "xiezhi sub $1 not ready after 5 s"
}

# sub_wait FILE N [SECONDS]: wait until FILE has N lines.
sub_wait() {
	local f=$1 n=$2 secs=${3:-5}
	wait_for "$secs" test "$(wc -l <"$f")" -ge "$n"
}

# audit_rows 'FIELDS': the audit records matching {FIELDS} (one JSON per
# line, oldest first).
audit_rows() {
	xz call audit.query "{$ACTOR,\"purpose\":\"test\",\"limit\":10000${1:+,$1}}" |
		jq -c '.records[]'
}
