#!/usr/bin/env bash
# A collab store written before collab stood on the kit of plugins/common
# (its own tables transfers, history, clocks) is moved into the kit's
# records, history and clocks at start, once: the transfer keeps its
# state, package hash (a resend is still a duplicate), history and clocks,
# and goes on through its state machine.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
xz_config <<'EOF2'
plugins = ( { name = "collab"; kind = "so"; } );
EOF2
command -v sqlite3 >/dev/null || die "sqlite3 (the shell) is needed"
H=$(printf 'doc' | sha256sum | cut -d' ' -f1)
DOC="{\"name\":\"parole-order\",\"media_type\":\"application/pdf\",\"sha256\":\"$H\",\"size\":10}"
BODY="\"type\":\"COMMUNITY_CORRECTION_DOCUMENTS\",\"from_agency\":\"prison-01\",\"to_agency\":\"cc-01\",\"subject\":{\"type\":\"prisoner\",\"id\":\"A1234BC\"},\"documents\":[$DOC],\"reason\":\"released on parole\""
# The canonical package as collab hashes it: compact, keys sorted.
CANON=$(jq -cS . <<<"{$BODY}")
PH=$(printf '%s' "$CANON" | sha256sum | cut -d' ' -f1)
NOW=$(date +%s%3N)
DAY=86400000
mkdir -p "$XZ_T/n1/data"
sqlite3 "$XZ_T/n1/data/collab.db" <<EOF2
CREATE TABLE transfers (id TEXT PRIMARY KEY, pkg_hash TEXT NOT NULL UNIQUE,
 type TEXT NOT NULL, from_agency TEXT NOT NULL, to_agency TEXT NOT NULL,
 subject_type TEXT NOT NULL, subject_id TEXT NOT NULL, state TEXT NOT NULL,
 package TEXT NOT NULL, created_ms INTEGER NOT NULL,
 updated_ms INTEGER NOT NULL, return_reason TEXT, decision TEXT,
 accepted TEXT, missing TEXT);
CREATE INDEX transfers_to ON transfers(to_agency);
CREATE TABLE history (n INTEGER PRIMARY KEY AUTOINCREMENT,
 transfer_id TEXT NOT NULL REFERENCES transfers(id), from_state TEXT,
 to_state TEXT NOT NULL, action TEXT NOT NULL, by_user TEXT, by_role TEXT,
 by_agency TEXT, at_ms INTEGER NOT NULL, reason TEXT);
CREATE INDEX history_t ON history(transfer_id);
CREATE TABLE clocks (transfer_id TEXT NOT NULL REFERENCES transfers(id),
 clock TEXT NOT NULL, due_ms INTEGER NOT NULL, status TEXT NOT NULL,
 PRIMARY KEY (transfer_id, clock));
CREATE INDEX clocks_due ON clocks(status, due_ms);
INSERT INTO transfers VALUES ('T-OLD', '$PH', 'COMMUNITY_CORRECTION_DOCUMENTS',
 'prison-01', 'cc-01', 'prisoner', 'A1234BC', 'RECEIVED',
 '$CANON', $((NOW - DAY)), $NOW, NULL, NULL, NULL, NULL);
INSERT INTO history (transfer_id, from_state, to_state, action, by_user,
 by_role, by_agency, at_ms, reason) VALUES
 ('T-OLD', NULL, 'SENT', 'send', 'w-1', 'case_clerk', 'prison-01', $((NOW - DAY)), 'released on parole'),
 ('T-OLD', 'SENT', 'RECEIVED', 'receive', 'o-1', 'case_clerk', 'cc-01', $NOW, NULL);
INSERT INTO clocks VALUES ('T-OLD', 'notify', $((NOW + 4 * DAY)), 'MET'),
 ('T-OLD', 'serve', $((NOW + 9 * DAY)), 'PENDING');
EOF2
PRISON='"actor":{"user":"w-1","role":"case_clerk","agency":"prison-01"}'
CC='"actor":{"user":"o-1","role":"case_clerk","agency":"cc-01"}'

start_node
check "get the old transfer" xz call collab.transfer.get "{\"transfer_id\":\"T-OLD\",$CC}"
assert_eq "state, hash and package kept" "RECEIVED $PH A1234BC parole-order" \
	"$(jq -r '"\(.state) \(.package_hash) \(.subject.id) \(.documents[0].name)"' <<<"$OUT")"
assert_eq "history kept, in order, with who and agency" \
	"-:SENT:send:w-1:prison-01:released on parole SENT:RECEIVED:receive:o-1:cc-01:-" \
	"$(jq -r '[.history[] | "\(.from // "-"):\(.to):\(.action):\(.by.user):\(.agency):\(.why // "-")"] | join(" ")' <<<"$OUT")"
assert_eq "clocks kept" "notify:MET serve:PENDING" \
	"$(jq -r '[.clocks[] | "\(.clock):\(.status)"] | join(" ")' <<<"$OUT")"
check "the same package again" xz call collab.transfer.send "{$BODY,$PRISON}"
assert_eq "is the old transfer, a duplicate" "T-OLD true" \
	"$(jq -r '"\(.transfer_id) \(.duplicate)"' <<<"$OUT")"
check "accept it" xz call collab.transfer.accept "{\"transfer_id\":\"T-OLD\",$CC}"
assert_eq "ACCEPTED, serve clock met" "ACCEPTED serve:MET" \
	"$(jq -r '"\(.state) serve:\(.clocks[] | select(.clock == "serve") | .status)"' <<<"$OUT")"
stop_node
assert_eq "the old tables are gone" "clocks history records seq" \
	"$(sqlite3 "$XZ_T/n1/data/collab.db" "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name)")"

start_node
check "after a restart (nothing left to move)" xz call collab.transfer.get "{\"transfer_id\":\"T-OLD\",$CC}"
assert_eq "three history rows" "send,receive,accept" "$(jq -r '[.history[].action] | join(",")' <<<"$OUT")"
stop_node
finish
