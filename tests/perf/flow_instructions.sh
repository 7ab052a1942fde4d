#!/usr/bin/env bash
# flow_instructions.sh - the instructions one prison alarm flow (raise,
# acknowledge, resolve) costs, counted by valgrind's callgrind on the
# bench's flow (XZ_BENCH_ONLY=flow): the prison plugin's (its request
# handler and its batch end, with all they call in SQLite, jansson and
# libc), the audit plugin's, and the whole process's, per flow. Counts of
# user-space instructions hold on a busy machine where times do not; the
# kernel's work (pwrite, futex) is not in them. Under callgrind the threads
# take turns, so batches are smaller than in a native run: compare builds
# with this script, not with the native figures. valgrind hides the CPU's
# SHA extensions, so the audit plugin's SHA-256 (nettle) counts at its
# generic cost here; natively it runs on SHA-NI where the CPU has it (on
# this VM: under 2 % of the flow's samples).
#
#   bash tests/perf/flow_instructions.sh [BUILD_DIR] [FLOWS]
#
# BUILD_DIR defaults to build-rel (a Release build), FLOWS to 3000 (about
# half a minute). Needs valgrind; says so and exits 2 without it.
set -euo pipefail
cd "$(dirname "$0")/../.."
bdir=${1:-build-rel}
flows=${2:-3000}
bin=$PWD/$bdir/xiezhi
case $flows in
'' | *[!0-9]* | 0) echo "flow_instructions: FLOWS must be a positive number, got '$flows'" >&2; exit 2 ;;
esac
[ -x "$bin" ] || { echo "flow_instructions: no $bin (build first)" >&2; exit 2; }
command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null || {
	echo "flow_instructions: valgrind is not installed (apt-get install valgrind)" >&2
	exit 2
}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
XZ_PLUGIN_DIR="$PWD/$bdir/plugins" XZ_BENCH_ONLY=flow \
	valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$bin" bench -n "$flows" \
	>"$out/log" 2>&1 || { cat "$out/log" >&2; exit 1; }
grep -q "alarm flows" "$out/log" || { echo "flow_instructions: the bench did not run" >&2; cat "$out/log" >&2; exit 1; }
callgrind_annotate --inclusive=yes --threshold=100 "$out/cg" >"$out/ann" 2>/dev/null
# inclusive Ir of a function in a plugin (0 when absent)
ir() { awk -v f=":$1 " -v so="/$2.so]" 'index($0, f) && index($0, so) { gsub(",", "", $1); print $1; exit }' "$out/ann"; }
total=$(awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }' "$out/ann")
req=$(ir on_request prison)
end=$(ir kit_batch_end prison)
aud=$(ir on_audit audit)
awk -v n="$flows" -v t="${total:-0}" -v r="${req:-0}" -v e="${end:-0}" -v a="${aud:-0}" 'BEGIN {
	printf "%d flows under callgrind, instructions per flow:\n", n
	printf "  prison: %.0f k (requests %.0f k, batch ends %.0f k)\n", (r + e) / n / 1000, r / n / 1000, e / n / 1000
	printf "  audit:  %.0f k\n", a / n / 1000
	printf "  whole process (start and stop included): %.0f k\n", t / n / 1000
}'
