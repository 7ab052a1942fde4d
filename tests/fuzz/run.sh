#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS]: build the libFuzzer targets (clang, ASan +
# UBSan, in build-fuzz/; see CMakeLists.txt here) and run each for SECONDS
# (default $XZ_FUZZ_SECONDS, else 60) from the seed corpus in corpus/.
# Prints the executions each target ran; exits 1 on a crash, leak, hang or
# sanitizer report, with the input in $XZ_FUZZ_BUILD/fuzz-out/. Not part of
# ctest: the unit tests hold the fixed-seed versions of these checks.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
secs=${1:-${XZ_FUZZ_SECONDS:-60}}
build=${XZ_FUZZ_BUILD:-$src/build-fuzz}
out=$build/fuzz-out

# -O1: Debug's -O0 runs far fewer inputs; NDEBUG stays off (asserts count).
cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	-DCMAKE_C_FLAGS_DEBUG="-g -O1" -DXZ_SANITIZE=ON -DXZ_FUZZ=ON >/dev/null
cmake --build "$build" -j2 --target fuzz_envelope fuzz_topic fuzz_kjson

# final_stat LOG NAME: a figure of libFuzzer's -print_final_stats.
final_stat() { sed -n "s/^stat::$2: *//p" "$1"; }

for t in envelope topic kjson; do
	# New inputs go to the first folder, never into the committed seeds.
	mkdir -p "$out/$t"
	rc=0
	"$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 \
		-max_len=4096 -print_final_stats=1 -artifact_prefix="$out/" \
		"$out/$t" "$here/corpus/$t" >"$out/$t.log" 2>&1 || rc=$?
	runs=$(final_stat "$out/$t.log" number_of_executed_units)
	if [ "$rc" -ne 0 ]; then
		tail -n 60 "$out/$t.log"
		echo "fuzz_$t: FAILED (exit $rc) after ${runs:-?} executions;" \
			"input and log in $out/"
		exit 1 # not $rc: libFuzzer's crash code is 77, ctest's skip code
	fi
	echo "fuzz_$t: ${runs:-?} executions in $secs s" \
		"($(final_stat "$out/$t.log" new_units_added) new inputs)"
done
