#!/usr/bin/env bash
# Stores that cannot vanish: the data folder's lock refuses a second node
# (naming the first one's pid); its MANIFEST refuses, at start and in
# `check`, a store that was deleted, replaced by another one, rolled back
# to an older copy, or damaged (PRAGMA quick_check) while the node was
# stopped; files are 0600 and the folder 0700.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip_test "no sqlite3 shell"
xz_setup
xz_config <<'EOF2'
plugins = ( { name = "audit"; kind = "so"; } );
EOF2
DATA=$XZ_T/n1/data
records_at_least() { test "$(counter audit records)" -ge "$1"; }
records() { # N: publish N audit events and wait until they are written
	local i want
	want=$(($(counter audit records) + $1))
	for i in $(seq 1 "$1"); do
		xz pub audit.test.view "{\"who\":\"officer-$i\",\"action\":\"VIEW\",\"subject_type\":\"prisoner\",\"subject_id\":\"A$i\",\"detail_pad\":\"$(printf '%0200d' "$i")\"}" >/dev/null
	done
	wait_for 30 records_at_least "$want" || fail "$1 records written"
}

start_node
records 30
assert_eq "the data folder is 0700" 700 "$(stat -c %a "$DATA")"
assert_eq "the store is 0600" 600 "$(stat -c %a "$DATA/audit.db")"
assert_eq "its WAL is 0600" 600 "$(stat -c %a "$DATA/audit.db-wal")"
assert_eq "the manifest is 0600" 600 "$(stat -c %a "$DATA/MANIFEST")"
assert_eq "the lock file names the node's pid" "$NODE_PID" "$(cat "$DATA/node.lock")"
assert_contains "the manifest lists the audit store" "store audit " "$(cat "$DATA/MANIFEST")"

# A second node on the same data folder (its own control socket).
sed "s|$XZ_T/n1/ctl.sock|$XZ_T/n2.sock|" "$XZ_CFG" >"$XZ_T/second.cfg"
run_refused "a second node on the same data folder" \
	"data folder $DATA is in use by another node (pid $NODE_PID" "$XZ_T/second.cfg"
check "the first node still answers" xz call xz.sys.ping '{}'

# A copy taken while the node runs, then more work.
sqlite3 "$DATA/audit.db" ".backup '$XZ_T/old.db'"
records 5
stop_node
check "check: the folder as the node left it" xz check
start_node
check "the node starts on its own stores" xz call xz.sys.ping '{}'
stop_node
cp "$DATA/audit.db" "$XZ_T/good.db"

# Rolled back: the older copy put back while the node is stopped.
cp "$XZ_T/old.db" "$DATA/audit.db"
assert_exit "check reports a rolled-back store" 1 xz check
assert_contains "check names it" "store $DATA/audit.db of plugin 'audit' was rolled back" "$ERR"
run_refused "a rolled-back store" "store $DATA/audit.db of plugin 'audit' was rolled back"
cp "$XZ_T/good.db" "$DATA/audit.db"
check "the right copy back: check passes" xz check

# Deleted.
rm "$DATA/audit.db"
assert_exit "check reports a missing store" 1 xz check
assert_contains "check names it" "store $DATA/audit.db of plugin 'audit' is missing" "$ERR"
# The node runs without the plugin (held, FAILED in status) and makes no
# empty store in its place (`xiezhi audit reset` accepts the loss:
# t_audit_reset.sh).
start_node
assert_eq "a deleted store: its plugin is held" failed \
	"$(xz call xz.sys.status '{}' | jq -r '.plugins[] | select(.name == "audit") | .state')"
grep -q "not started: store $DATA/audit.db of plugin 'audit' is missing" "$XZ_T/n1.log" &&
	pass "the log names the missing store" || fail "the log names the missing store"
check "no empty store made in its place" test ! -e "$DATA/audit.db"
stop_node
rm -f "$DATA/audit.db-wal" "$DATA/audit.db-shm"

# Replaced by another node's store (another identity).
xz_config "$XZ_T/other.cfg" o1 </dev/null
sed -i 's|^plugins.*||' "$XZ_T/other.cfg"
echo 'plugins = ( { name = "audit"; kind = "so"; } );' >>"$XZ_T/other.cfg"
start_node "$XZ_T/other.cfg" o1
stop_node o1
cp "$XZ_T/o1/data/audit.db" "$DATA/audit.db"
run_refused "a replaced store" "store $DATA/audit.db of plugin 'audit' was replaced"

# Damaged: pages in the middle of the file overwritten.
cp "$XZ_T/good.db" "$DATA/audit.db"
pages=$(($(stat -c %s "$DATA/audit.db") / 4096))
[ "$pages" -ge 4 ] || fail "the store has pages to damage ($pages)"
dd if=/dev/urandom of="$DATA/audit.db" bs=4096 seek=$((pages - 2)) count=1 conv=notrunc 2>/dev/null
assert_exit "check reports a damaged store" 1 xz check
assert_contains "check names it" "store $DATA/audit.db of plugin 'audit' is damaged (PRAGMA quick_check" "$ERR"
run_refused "a damaged store" "is damaged (PRAGMA quick_check"

# Accepting the loss is an explicit act: delete the manifest line.
rm "$DATA/audit.db"
sed -i '/^store audit /d' "$DATA/MANIFEST"
check "with its manifest line removed the store starts empty" xz check
start_node
records 1
check "a new chain" xz audit verify
stop_node

# An isolated plugin: its child makes and opens the store, the node lists
# it in the MANIFEST (so backup, restore and the checks above cover it).
cat >"$XZ_T/notes.lua" <<'EOF2'
return {
	name = "notes",
	init = function()
		xz.db.exec("CREATE TABLE IF NOT EXISTS note(id INTEGER PRIMARY KEY, text TEXT)")
	end,
	handlers = {
		["notes.add"] = function(d)
			xz.db.exec("INSERT INTO note(text) VALUES (?)", d.text)
			return { n = xz.db.query("SELECT count(*) AS n FROM note")[1].n }
		end,
	},
}
EOF2
xz_config "$XZ_T/iso.cfg" i1 <<EOF2
plugins = ( { name = "notes"; kind = "lua"; path = "$XZ_T/notes.lua"; isolation = "process"; } );
EOF2
IDATA=$XZ_T/i1/data
gen_of() { # gen_of NAME: its generation in the MANIFEST
	awk -v n="$1" '$1 == "store" && $2 == n { print $4 }' "$IDATA/MANIFEST"
}
start_node "$XZ_T/iso.cfg" i1
check "the isolated plugin stores a note" xz call -c "$XZ_T/iso.cfg" notes.add '{"text":"会见登记"}'
assert_eq "one note" 1 "$(echo "$OUT" | jq .n)"
assert_contains "the manifest lists the isolated plugin's store" \
	"store notes " "$(cat "$IDATA/MANIFEST")"
running_gen=$(gen_of notes)
stop_node i1
stopped_gen=$(gen_of notes)
assert_le "its generation moved on at the clean close" $((running_gen + 1)) "$stopped_gen"
assert_eq "the MANIFEST has the generation of the store" "$stopped_gen" \
	"$(sqlite3 "$IDATA/notes.db" 'SELECT gen FROM xz_store_meta')"
assert_eq "and its identity" "$(awk '$2 == "notes" { print $3 }' "$IDATA/MANIFEST")" \
	"$(sqlite3 "$IDATA/notes.db" 'SELECT id FROM xz_store_meta')"
check "check: the isolated store as the node left it" "$XZ_BIN" check -c "$XZ_T/iso.cfg"
mv "$IDATA/notes.db" "$XZ_T/notes.db"
rm -f "$IDATA/notes.db-wal" "$IDATA/notes.db-shm"
assert_exit "check reports the isolated plugin's missing store" 1 "$XZ_BIN" check -c "$XZ_T/iso.cfg"
assert_contains "check names it" "store $IDATA/notes.db of plugin 'notes' is missing" "$ERR"
start_node "$XZ_T/iso.cfg" i1
assert_eq "the isolated plugin's deleted store: the plugin is held" failed \
	"$(xz call -c "$XZ_T/iso.cfg" xz.sys.status '{}' | jq -r '.plugins[] | select(.name == "notes") | .state')"
check "no empty store made in its place" test ! -e "$IDATA/notes.db"
stop_node i1
mv "$XZ_T/notes.db" "$IDATA/notes.db"
start_node "$XZ_T/iso.cfg" i1
check "put back, the notes are there" xz call -c "$XZ_T/iso.cfg" notes.add '{"text":"二"}'
assert_eq "two notes" 2 "$(echo "$OUT" | jq .n)"
# Deleted while the node runs: the restarted child (a reload) makes the
# store anew, which the node does not adopt silently.
rm -f "$IDATA/notes.db" "$IDATA/notes.db-wal" "$IDATA/notes.db-shm"
check "a reload restarts the isolated child" xz reload -c "$XZ_T/iso.cfg" notes
not_adopted() { grep -q "notes.db has the identity .* not adopted" "$XZ_T/i1.log"; }
if wait_for 30 not_adopted; then
	pass "the node logs the store made anew and does not adopt it"
else
	fail "no log line about the store made anew"
fi
stop_node i1
assert_exit "check reports the store made anew" 1 "$XZ_BIN" check -c "$XZ_T/iso.cfg"
assert_contains "as replaced" "store $IDATA/notes.db of plugin 'notes' was replaced" "$ERR"
finish
