#!/usr/bin/env bash
# The plugin entries shipped for the default deployment (config/audit.cfg,
# config/collab.cfg) are valid as written, and describe the defaults.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
{ echo "plugins = ("; cat "$XZ_SRC/config/audit.cfg"; echo ","; cat "$XZ_SRC/config/collab.cfg"; echo ");"; } | xz_config
check "xiezhi check accepts both entries" xz check
assert_contains "two plugins" "2 plugins and scripts enabled" "$OUT"
start_node
assert_eq "both running" "audit collab" \
	"$(xz status | jq -r '[.plugins[].name | select(. == "audit" or . == "collab")] | sort | join(" ")')"
stop_node
finish
