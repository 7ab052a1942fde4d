#!/bin/sh
# Build the libFuzzer targets with clang (ASan + UBSan) and run each for a
# while: tests/fuzz/run.sh [SECONDS] (default 60). Not part of ctest: the
# unit tests hold the fixed-seed versions of these checks.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$here/../..
secs=${1:-60}
out=${XZ_FUZZ_DIR:-/tmp/xz-fuzz}
mkdir -p "$out"
for t in envelope topic; do
	clang -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -I "$src/core" -I "$src/sdk/include" \
	    "$here/fuzz_$t.c" "$src/core/topic.c" "$src/core/envelope.c" \
	    -o "$out/fuzz_$t"
	mkdir -p "$out/corpus_$t"
	"$out/fuzz_$t" -max_total_time="$secs" -max_len=4096 \
	    -artifact_prefix="$out/" \
	    "$out/corpus_$t"
done
