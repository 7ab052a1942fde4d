#!/usr/bin/env bash
# flow_counts.sh - what one prison alarm flow (raise, acknowledge, resolve)
# costs the node, counted rather than timed: allocations, WAL writes,
# syncs, futex calls and the prison's commits, per flow, from the bench's
# flow (XZ_BENCH_ONLY=flow) under perf's uprobes and syscall tracepoints.
# Counts hold on a busy machine where times do not; the probes slow the run
# down, so its flows/s is not the platform's.
#
#   bash tests/perf/flow_counts.sh [BUILD_DIR] [FLOWS]
#
# BUILD_DIR defaults to build-rel (a Release build), FLOWS to 10000. Needs
# perf (Debian: linux-perf) and root (uprobes); says so and exits 2
# without them. Probes it adds are removed again.
set -euo pipefail
cd "$(dirname "$0")/../.."
bdir=${1:-build-rel}
flows=${2:-10000}
bin=$bdir/xiezhi
plugdir=$PWD/$bdir/plugins
case $flows in
'' | *[!0-9]* | 0) echo "flow_counts: FLOWS must be a positive number, got '$flows'" >&2; exit 2 ;;
esac
[ -x "$bin" ] || { echo "flow_counts: no $bin (build first)" >&2; exit 2; }
command -v perf >/dev/null || { echo "flow_counts: perf is not installed (apt-get install linux-perf)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "flow_counts: uprobes need root" >&2; exit 2; }
libc=$(ldd "$bin" | awk '$1 ~ /^libc\.so/ { print $3 }')
[ -n "$libc" ] || { echo "flow_counts: cannot find the libc $bin uses" >&2; exit 2; }

added=()
probe() { # GROUP:EVENT BINARY FUNCTION
	if ! perf probe -l 2>/dev/null | grep -q "^ *$1 "; then
		perf probe -q -x "$2" -a "${1#*:}=$3" >/dev/null 2>&1 || {
			echo "flow_counts: cannot probe $3 in $2" >&2
			exit 2
		}
		added+=("$1")
	fi
}
cleanup() { for p in "${added[@]+"${added[@]}"}"; do perf probe -q -d "$p" >/dev/null 2>&1 || true; done; }
trap cleanup EXIT
# perf names the probes after the binary: probe_libc, probe_prison
probe probe_libc:xzc_malloc "$libc" malloc
probe probe_libc:xzc_consolidate "$libc" malloc_consolidate
probe probe_prison:xzc_commit "$plugdir/prison.so" kit_store_commit
probe probe_prison:xzc_batch "$plugdir/prison.so" kit_batch_end

out=$(perf stat -x, -e probe_libc:xzc_malloc,probe_libc:xzc_consolidate \
	-e probe_prison:xzc_commit,probe_prison:xzc_batch \
	-e syscalls:sys_enter_pwrite64,syscalls:sys_enter_fdatasync \
	-e syscalls:sys_enter_futex,task-clock \
	env XZ_PLUGIN_DIR="$plugdir" XZ_BENCH_ONLY=flow "$bin" bench -n "$flows" 2>&1)
echo "$out" | awk -F, -v n="$flows" '
	/alarm flows/ { split($0, a, " +"); f = a[5] }
	/xzc_malloc/ { m = $1 } /xzc_consolidate/ { c = $1 }
	/xzc_commit/ { k = $1 } /xzc_batch/ { b = $1 }
	/pwrite64/ { p = $1 } /fdatasync/ { s = $1 } /futex/ { x = $1 }
	/task-clock/ { t = $1 }
	END {
		if (f == "") { print "flow_counts: the bench did not run"; exit 1 }
		printf "%d flows (%s flows/s under the probes)\n", n, f
		printf "per flow: malloc %.1f, malloc_consolidate %.2f, pwrite64 %.2f, fdatasync %.4f, futex %.2f\n", m / n, c / n, p / n, s / n, x / n
		printf "prison: %d batches, %d commits (%.1f flows a commit), CPU %.0f us a flow\n", b, k, (k ? n / k : 0), t * 1000 / n
	}'
