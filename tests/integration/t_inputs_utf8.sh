#!/usr/bin/env bash
# Invalid UTF-8 anywhere in a request is bad_request before anything is
# stored, in prison, rehab, collab and legal. The CLI refuses to send such
# text, so the requests go through the public client library
# (tests/plugins/rawreq: the payload byte for byte). For each plugin a
# create request with valid text in a free-text field is accepted first
# (the body is right), then the same request with bytes that are not
# UTF-8 in that field (a stray byte, an overlong form, an encoded
# surrogate, a code point past U+10FFFF, a truncated sequence, a lone \u
# surrogate escape), in the actor's name and in a key. Both sides are counted: 0 records or history rows
# stored, and every refusal has its REFUSE record in the audit chain
# (0 missing).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip_test "no sqlite3 shell"
RAW="${XZ_BUILD:-$(dirname "$XZ_BIN")}/tests/xz_rawreq"
[ -x "$RAW" ] || skip_test "the test program $RAW is not built"
xz_setup
. "$XZ_SRC/plugins/legal/tests/flowlib.sh"
flow_skip_unless audit prison rehab collab legal
flow_node audit prison rehab collab legal
DATA=$XZ_T/n1/data
URL="ipc://$XZ_T/n1/ctl.sock"
sq() { sqlite3 -cmd ".timeout 5000" "$@"; }

PA='"actor":{"user":"officer-7","role":"area_officer","agency":"prison-01"}'
RA='"actor":{"user":"wang-jing","role":"rehab_officer","agency":"rehab-01"}'
CA='"actor":{"user":"chen-qiang","role":"case_clerk","agency":"police-01"}'
H=$(printf 'x' | sha256sum | cut -d' ' -f1)
DOCS="[{\"name\":\"a\",\"media_type\":\"application/pdf\",\"sha256\":\"$H\",\"size\":1}]"
# PLUGIN|TOPIC|ACTOR|BODY: a valid create request; @S@ is a free-text
# field where the tries put their bytes, @N@ makes ids unique
REQS=$(cat <<EOF2
prison|prison.alarm.raise|$PA|"kind":"FIRE","location":"5101.01.1.101","source":"sensor","description":"@S@ @N@"
rehab|rehab.resident.admit|$RA|"id":"R7@N@","name":"田野","id_number":"510104199003071237","decision_no":"D-@N@","decision_date":"2026-01-05","deciding_agency":"police-01","admitted_date":"2026-02-01","term_months":24,"reason":"@S@"
collab|collab.transfer.send|$CA|"transfer_id":"T-@N@","type":"ARREST_REQUEST","from_agency":"police-01","to_agency":"procuratorate-01","subject":{"type":"suspect","id":"S"},"person_id":"510104199003071237","documents":$DOCS,"due_days":7,"reason":"@S@"
legal|legal.aid.open|$LACTOR|"applicant_type":"CITIZEN","matter":"@S@ @N@","applicant":{"name":"张三"}
EOF2
)
# the stored side of a plugin: records and their creation rows in the
# history (and the legal directory); not the later history rows a timer
# adds to the valid record (an alarm's SLA escalation)
stored() {
	local extra=""
	[ "$1" = legal ] && extra=" + (SELECT count(*) FROM providers)"
	sq "$DATA/$1.db" "SELECT (SELECT count(*) FROM records) + (SELECT count(*) FROM history WHERE from_state IS NULL)$extra"
}
spooled() { sq "$DATA/$1.db" "SELECT count(*) FROM audit_spool"; }
refusals() { sq "$DATA/audit.db" "SELECT count(*) FROM audit_log WHERE action = 'REFUSE' AND outcome LIKE '%bad_request%' AND source = '$1'"; }

n=100
total_tries=0
while IFS='|' read -r plugin topic actor body; do
	echo "-- $plugin: $topic"
	n=$((n + 1))
	b=${body//@N@/$n}
	# the same request with valid text where the tries put theirs: taken
	ok=$(printf '{%s,%s}' "$actor" "${b//@S@/正常 text}" | "$RAW" "$URL" "$topic" 20000) ||
		fail "$plugin: the request with valid text is accepted: $ok"
	wait_until 30 'test "$(spooled "$plugin")" = 0' || fail "$plugin: its audit spool drains"
	before=$(stored "$plugin")
	refused_before=$(refusals "$plugin")
	n=$((n + 1))
	b=${body//@N@/$n}
	# each: what, then the payload as a printf format
	tries=(
		"a value|{$actor,${b//@S@/ab\\xffcd}}"
		"an overlong form|{$actor,${b//@S@/\\xc0\\xaf}}"
		"an encoded surrogate|{$actor,${b//@S@/\\xed\\xa0\\x80}}"
		"a code point past U+10FFFF|{$actor,${b//@S@/\\xf4\\x90\\x80\\x80}}"
		"a truncated sequence|{$actor,${b//@S@/\\xe6\\xad}}"
		"a lone surrogate escape|{$actor,${b//@S@/a\\\\udc80b}}"
		"the actor's name|{${actor/\"user\":\"/\"user\":\"\\xc3\\x28}, ${b//@S@/x}}"
		"a key|{$actor,${b//@S@/x},\"k\\xfe\\xff\":\"1\"}"
	)
	for t in "${tries[@]}"; do
		what=${t%%|*}
		rc=0
		# shellcheck disable=SC2059 # the payload is the format
		out=$(printf "${t#*|}" | "$RAW" "$URL" "$topic" 20000) || rc=$?
		code=$(jq -r '.error.code // "accepted"' <<<"$out" 2>/dev/null || echo "unreadable: $out")
		assert_eq "$plugin: not UTF-8 in $what: refused" "1 bad_request" "$rc $code"
		case "$what:$out" in
		"a key:"*unknown*) fail "$plugin: the bad key is refused as text, not as an unknown field: $out" ;;
		esac
		total_tries=$((total_tries + 1))
	done
	wait_until 30 'test "$(spooled "$plugin")" = 0' || fail "$plugin: its audit spool drains"
	assert_eq "$plugin: records stored by the refused requests" 0 \
		$(($(stored "$plugin") - before))
	assert_eq "$plugin: REFUSE records in the chain (one for each refusal, 0 missing)" \
		"${#tries[@]}" $(($(refusals "$plugin") - refused_before))
done <<<"$REQS"
echo "  .. $total_tries requests with text that is not UTF-8 sent"
check "the chain verifies" "$XZ_BIN" audit verify -f "$DATA/audit.db"
check "the node still answers" xz call xz.sys.ping '{}'
stop_node
finish
