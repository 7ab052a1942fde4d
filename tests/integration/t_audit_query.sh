#!/usr/bin/env bash
# audit.query filters by subject, actor and time; every query is itself an
# audit record (VIEW of audit_log); refused queries are REFUSE records;
# malformed events are kept, not dropped.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
xz_config <<'EOF2'
plugins = ( { name = "audit"; kind = "so"; options = { query_limit_max = 50; }; } );
EOF2
LONG="-t 600000" # generous deadlines (a loaded machine, clock jumps)
start_node
ev() { # WHO SUBJECT_ID ACTION
	xz pub "audit.prison.prisoner.$3" "{\"who\":\"$1\",\"role\":\"OFFICER\",\"agency\":\"prison-1\",\"action\":\"$3\",\"subject_type\":\"prisoner\",\"subject_id\":\"$2\",\"purpose\":\"p\",\"outcome\":\"ok\",\"recipient\":\"court-2\",\"service\":\"prison\",\"corr\":\"c1\",\"time\":\"t\"}" >/dev/null
}
ev alice A1 VIEW
ev bob A1 UPDATE
ev alice A2 VIEW
START=$(xz call xz.sys.clock.now | jq -r .now_ms)
check "advance the clock a day" xz call $LONG xz.sys.clock.advance '{"ms":86400000}'
ev carol A1 DISCLOSE
xz pub audit.legal.request.view '"not an object"' >/dev/null
xz pub audit.rehab.resident.view '{"actor":{"user":"dan","role":"DOCTOR","agency":"rehab-1"},"action":"VIEW","subject_type":"resident","subject_id":"R9","purpose":"treatment"}' >/dev/null

check "query by subject" xz audit query $LONG --subject prisoner:A1 --user aud-1 --purpose "complaint 17"
assert_eq "three records about A1, oldest first" "alice:VIEW bob:UPDATE carol:DISCLOSE" \
	"$(jq -r '"\(.who):\(.action)"' <<<"$OUT" | paste -sd' ')"
assert_eq "every field comes back" "prisoner A1 p ok court-2 prison c1 t audit.prison.prisoner.VIEW" \
	"$(head -n1 <<<"$OUT" | jq -r '"\(.subject_type) \(.subject_id) \(.purpose) \(.outcome) \(.recipient) \(.service) \(.corr) \(.time) \(.topic)"')"
check "query by actor" xz audit query $LONG --actor alice
assert_eq "alice's two reads" "A1 A2" "$(jq -r .subject_id <<<"$OUT" | paste -sd' ')"
check "query by subject type" xz audit query $LONG --subject prisoner
assert_eq "four prisoner records" 4 "$(jq -s length <<<"$OUT")"
check "query with a limit" xz audit query $LONG --subject prisoner -n 2
assert_eq "two records" 2 "$(jq -s length <<<"$OUT")"
check "query until before the jump" xz audit query $LONG --subject prisoner --until "$START"
assert_eq "three records before it" 3 "$(jq -s length <<<"$OUT")"
check "query since the jump" xz audit query $LONG --subject prisoner --since "$START"
assert_eq "carol's one after it" carol "$(jq -r .who <<<"$OUT")"
check "a date as --until covers the whole day" xz audit query $LONG --subject prisoner \
	--until "$(date -u -d @$((START / 1000 + 86400)) +%Y-%m-%d)"
assert_eq "all four" 4 "$(jq -s length <<<"$OUT")"
check "the actor form {actor:{user,role,agency}}" xz audit query $LONG --subject resident:R9
assert_eq "who, role and agency from actor" "dan DOCTOR rehab-1" "$(jq -r '"\(.who) \(.role) \(.agency)"' <<<"$OUT")"
check "a malformed event is kept" xz audit query $LONG --actor nobody-matches
check "query everything" xz audit query $LONG -n 50
assert_eq "the malformed one is there" 'malformed "not an object"' \
	"$(jq -r 'select(.topic=="audit.legal.request.view") | "\(.outcome) \(.detail.malformed_payload)"' <<<"$OUT")"

check "queries of the log are in the log" xz audit query $LONG --subject audit_log
assert_eq "one VIEW per query so far (10), with who and purpose" 10 "$(jq -s length <<<"$OUT")"
assert_eq "the first names its auditor, purpose, filter and count" \
	"VIEW aud-1 AUDITOR complaint 17 prisoner:A1 ok: 3 records" \
	"$(head -n1 <<<"$OUT" | jq -r '"\(.action) \(.who) \(.role) \(.purpose) \(.subject_id) \(.outcome)"')"

assert_exit "a bad time is a usage error" 2 xz audit query --since yesterday
assert_exit "a limit over query_limit_max is refused by the node" 1 xz audit query $LONG -n 51
assert_contains "naming the bound" "limit must be 1..50" "$ERR"
assert_exit "a bad request body" 1 xz call $LONG audit.query '{"who":5}'
assert_eq "bad_request" bad_request "$(jq -r .error.code <<<"$OUT")"
check "refusals are recorded" xz audit query $LONG --subject audit_log:query
assert_eq "two REFUSE records" "REFUSE bad_request,REFUSE bad_request" "$(jq -r '"\(.action) \(.outcome)"' <<<"$OUT" | paste -sd,)"
assert_exit "requests on other audit topics" 1 xz call $LONG audit.prison.view '{}'
assert_contains "are not audit requests" "is not an audit request" "$OUT"
assert_exit "query -f is refused (queries go through the node)" 2 "$XZ_BIN" audit query -f x.db
check "query --help" "$XZ_BIN" audit query --help
assert_contains "help" "--subject TYPE:ID" "$OUT"
# 6 events, 11 queries, 2 refused queries, 1 query of the refusals
check "chain verifies" xz audit verify $LONG
assert_eq "records" "ok: 20 records" "$OUT"
assert_eq "records counter" 20 "$(xz status $LONG | jq -r '.plugins[] | select(.name == "audit") | .counters.records')"
stop_node
check "offline verify agrees" xz audit verify --offline
assert_eq "offline" "ok: 20 records (last seq 20)" "$OUT"
assert_exit "no node: exit 1 (cannot reach)" 1 xz audit query -t 500
finish
