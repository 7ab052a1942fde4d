#!/usr/bin/env bash
# The default deployment's scenario fragment (config/scenarios.cfg) runs:
# prison and rehab seed themselves, and the demo source makes the command
# center live (alarms raised and worked, roll calls, AI+AR results).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
cp "$XZ_SRC/config/scenarios.cfg" "$XZ_T/scenarios.cfg"
# a faster demo than the default 2/s, so a few seconds show every kind
sed -i 's/events_per_s        = 2;/events_per_s        = 40;/' "$XZ_T/scenarios.cfg"
xz_config <<'EOF2'
plugins = (
@include "scenarios.cfg"
);
EOF2
check "xiezhi check accepts config/scenarios.cfg" xz check
start_node

timeout 20 "$XZ_BIN" sub -c "$XZ_CFG" '*.*.*' -n 400 >"$XZ_T/events" 2>/dev/null || true
topics=$(json .topic <"$XZ_T/events" | sort -u | tr '\n' ' ')
for t in prison.alarm.raised prison.alarm.acknowledged prison.rollcall.started \
	rehab.assessment.scored rehab.assessment.recorded; do
	assert_contains "demo traffic shows $t" "$t" "$topics"
done
assert_eq "the seeded prison has 40 prisoners" 40 \
	"$(xz call prison.prisoner.list '{"limit":1}' | json .total)"
assert_eq "the seeded centre has 12 residents" 12 \
	"$(xz call rehab.resident.list '{"limit":1,"actor":{"user":"wang-jing","role":"rehab_officer","agency":"rehab-01"}}' | json .total)"
assert_le "the demo's requests are answered (no more than 2 refused)" \
	"$(counter demo replies_refused)" 2

stop_node
finish
