#!/usr/bin/env bash
# t_backup_restore.sh - docs/operations.md's backup and restore of the data
# folder, on a node installed into a temporary prefix: the folder is saved
# with tar while the node is stopped, the node goes on (more records, more
# audit), then the folder is restored. After the restore the audit chain
# verifies offline with exactly the records of the backup, the node starts
# on the restored data (what came after the backup is gone, what came
# before is there), and the chain goes on verifying as new records are
# added. A restore that mixes files of two moments is caught by verify.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
: "${XZ_BUILD:?XZ_BUILD must point to the build tree}"
for tool in cmake jq tar; do
	command -v "$tool" >/dev/null || skip_test "$tool is not installed"
done
unset XZ_PLUGIN_DIR XZ_URL
cd "$XZ_T"

P="$XZ_T/prefix"
cmake --install "$XZ_BUILD" --prefix "$P" >"$XZ_T/install.out" ||
	die "cmake --install failed: $(tail -n 5 "$XZ_T/install.out")"
X="$P/bin/xiezhi"
E="$P/etc/xiezhi/xiezhi.cfg"
DATA="$P/var/lib/xiezhi"
A='"actor":{"user":"wang-zr","role":"legal_head","agency":"legal-01"}'
provider() { # ID
	"$X" call -c "$E" legal.provider.add "{$A,\"id\":\"$1\",\"type\":\"LAWYER\",\"name\":\"Li Wei\",\"licence\":\"11101201010001\",\"region\":\"R1\",\"capacity\":3,\"specialties\":[\"CRIMINAL\"],\"conflicts\":[]}"
}
providers() {
	"$X" call -c "$E" legal.provider.list "{$A}" |
		jq -r '[.providers[].id] | sort | join(" ")'
}
records() { # the N of "ok: N records (last seq N)"
	sed -n 's/^ok: \([0-9]*\) records.*/\1/p' <<<"$OUT"
}
run_node() { XZ_BIN="$X" start_node "$E" node; }
stop() { XZ_BIN="$X" stop_node node; }

echo "-- some history, then a backup of the stopped node's data folder"
run_node
check "provider LAW-0001" provider LAW-0001
stop
check "the chain verifies before the backup" "$X" audit verify -c "$E" --offline
at_backup=$(records)
[ -n "$at_backup" ] && [ "$at_backup" -gt 0 ] || die "no audit records: $OUT"
pass "$at_backup audit records at the backup"
check "tar the data folder" tar -C "$DATA" -czf "$XZ_T/xiezhi-data.tar.gz" .

echo "-- the node goes on after the backup"
run_node
check "provider LAW-0002" provider LAW-0002
assert_eq "both providers" "LAW-0001 LAW-0002" "$(providers)"
stop
check "the chain verifies after more work" "$X" audit verify -c "$E" --offline
after=$(records)
assert_le "more records than at the backup" "$((at_backup + 1))" "$after"
cp "$DATA/audit.head" "$XZ_T/newer.head"

echo "-- restore"
check "empty the data folder" find "$DATA" -mindepth 1 -delete
check "untar the backup" tar -C "$DATA" -xzf "$XZ_T/xiezhi-data.tar.gz"
check "the restored chain verifies offline" "$X" audit verify -c "$E" --offline
assert_eq "with exactly the records of the backup" "$at_backup" "$(records)"

echo "-- a restore that mixes two moments is caught"
cp "$DATA/audit.head" "$XZ_T/restored.head"
cp "$XZ_T/newer.head" "$DATA/audit.head"
assert_exit "verify refuses a head file newer than the database" 1 \
	"$X" audit verify -c "$E" --offline
cp "$XZ_T/restored.head" "$DATA/audit.head"

echo "-- the node runs on the restored data"
run_node
assert_eq "what came after the backup is gone" "LAW-0001" "$(providers)"
check "provider LAW-0003 after the restore" provider LAW-0003
check "the chain verifies through the node" "$X" audit verify -c "$E"
# LAW-0003's record reaches the chain when the legal plugin's spool
# drains (after its commit, not before the reply): wait for it
chain_records() { OUT=$("$X" audit verify -c "$E" 2>&1) && records; }
wait_until 60 'test "$(chain_records)" -ge $((at_backup + 1))' || true
assert_le "and goes on from the backup's records" "$((at_backup + 1))" \
	"$(chain_records)"
stop
check "and offline once stopped" "$X" audit verify -c "$E" --offline
finish
