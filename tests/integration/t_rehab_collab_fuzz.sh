#!/usr/bin/env bash
# Field-type fuzz over every request of rehab and collab (and the AI+AR
# event rehab.assessment.scored): each field of a well-formed request is
# replaced in turn by a string, an integer, a fraction, an object and a
# boolean (whatever its own type is not), and an unknown field is added. Every one must be refused with bad_request
# naming the field: 0 coerced values, 0 other answers.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
xz_config <<'EOF2'
plugins = ( { name = "rehab"; kind = "so"; options = { seed_demo_data = true; }; },
            { name = "collab"; kind = "so"; } );
EOF2
start_node
OF='{"user":"wang-jing","role":"rehab_officer","agency":"rehab-01"}'
EV='{"user":"dr-li","role":"rehab_evaluator","agency":"rehab-01"}'
LD='{"user":"zhao-gang","role":"rehab_leader","agency":"rehab-01"}'
PC='{"user":"chen-qiang","role":"case_clerk","agency":"police-01"}'
H=$(printf 'x' | sha256sum | cut -d' ' -f1)
DETOX='{"drug_test_negative":true,"withdrawal_medication_stopped":true,"acute_symptoms_gone":true,"no_marked_protracted_symptoms":true,"no_drug_induced_psychosis":true}'
DOCS="[{\"name\":\"a\",\"media_type\":\"application/pdf\",\"sha256\":\"$H\",\"size\":1}]"
# TOPIC ACTOR BASE (a well-formed request without its actor)
REQS=$(cat <<EOF3
rehab.resident.admit|$OF|{"id":"R7001","name":"田野","id_number":"510104199003071237","decision_no":"D-1","decision_date":"2026-01-05","deciding_agency":"police-01","admitted_date":"2026-02-01","term_months":24,"reason":"x"}
rehab.resident.advance|$OF|{"id":"R0001"}
rehab.resident.release|$OF|{"id":"R0001","reason":"x"}
rehab.resident.issue-handbook|$OF|{"id":"R0001"}
rehab.resident.get|$OF|{"id":"R0001","history":true,"purpose":"x"}
rehab.resident.list|$OF|{"state":"RELEASED","owner":"R0001","limit":5,"offset":0}
rehab.assessment.record|$EV|{"resident_id":"R0001","kind":"PHASE","detox":$DETOX,"psycho_physical":"PASS","behaviour":"PASS","social":"GOOD","assessors":["a"],"evidence":"e","session_id":"s","measures":{"craving":1}}
rehab.assessment.approve|$LD|{"id":"AS-1"}
rehab.assessment.reject|$LD|{"id":"AS-1"}
rehab.assessment.get|$EV|{"id":"AS-1","history":false}
rehab.assessment.list|$EV|{"state":"APPROVED","owner":"R0001","limit":5,"offset":0}
rehab.disposition.propose|$OF|{"resident_id":"R0001","type":"EXTENSION","months":3,"grounds":"g"}
rehab.disposition.submit|$LD|{"id":"DSP-1"}
rehab.disposition.withdraw|$LD|{"id":"DSP-1"}
rehab.disposition.get|$LD|{"id":"DSP-1","history":true}
rehab.disposition.list|$LD|{"state":"PROPOSED","owner":"R0001","limit":5,"offset":0}
rehab.plan.draft|$OF|{"resident_id":"R0001","goals":["a"],"centre":"c"}
rehab.plan.update|$OF|{"id":"CP-1","goals":["a"]}
rehab.plan.submit|$OF|{"id":"CP-1"}
rehab.plan.return|$LD|{"id":"CP-1"}
rehab.plan.approve|$LD|{"id":"CP-1"}
rehab.plan.start|$OF|{"id":"CP-1"}
rehab.plan.record-session|$OF|{"id":"CP-1","session":{"topic":"t","attended":true}}
rehab.plan.complete|$OF|{"id":"CP-1"}
rehab.plan.end|$LD|{"id":"CP-1"}
rehab.plan.get|$OF|{"id":"CP-1","history":true}
rehab.plan.list|$OF|{"state":"DRAFT","owner":"R0001","limit":5,"offset":0}
collab.transfer.send|$PC|{"transfer_id":"T-F","type":"ARREST_REQUEST","from_agency":"police-01","to_agency":"procuratorate-01","subject":{"type":"suspect","id":"S"},"person_id":"510104199003071237","documents":$DOCS,"due_days":7,"reason":"r"}
collab.transfer.receive|$PC|{"transfer_id":"T-F"}
collab.transfer.accept|$PC|{"transfer_id":"T-F"}
collab.transfer.partially-accept|$PC|{"transfer_id":"T-F","accepted":["a"]}
collab.transfer.return|$PC|{"transfer_id":"T-F","reason":"r"}
collab.transfer.decide|$PC|{"transfer_id":"T-F","decision":"APPROVED","decision_no":"n","months":3,"community_rehab_months":0}
collab.transfer.close|$PC|{"transfer_id":"T-F"}
collab.transfer.get|$PC|{"transfer_id":"T-F","history":true}
collab.transfer.list|$PC|{"state":"SENT","type":"ARREST_REQUEST","direction":"in","agency":"police-01","limit":5}
EOF3
)
# All the wrong-type requests, one per line: TOPIC<TAB>FIELD<TAB>BODY
# (built by one jq run: the machine may be slow to start processes).
while IFS='|' read -r topic actor base; do
	jq -c --arg t "$topic" --argjson a "$actor" '
	  . as $b
	  | [7.5, "7", 7, {}, true] as $muts
	  | ((keys[]) as $k | $muts[] as $m
	     | select((($b[$k] | type) != ($m | type))
	              or (($b[$k] | type) == "number" and ($m | floor) != $m))
	     | [$t, $k, ($b | .[$k] = $m | .actor = $a)]),
	    ([$t, "zz_unknown", ($b | .zz_unknown = "7" | .actor = $a)])
	  | "\(.[0])\t\(.[1])\t\(.[2] | tojson)"' -r <<<"$base"
done <<<"$REQS" >"$XZ_T/cases"
n=$(wc -l <"$XZ_T/cases")
: >"$XZ_T/replies"
# four callers at once (each call is mostly process start-up)
split -n l/4 -d "$XZ_T/cases" "$XZ_T/part."
pids=()
for part in "$XZ_T"/part.*; do
	while IFS=$'\t' read -r topic k body; do
		printf '%s\t%s\t%s\n' "$topic" "$k" "$(xz call "$topic" "$body" 2>/dev/null || true)"
	done <"$part" >"$part.out" &
	pids+=($!)
done
wait "${pids[@]}" # (not the node)
cat "$XZ_T"/part.*.out >"$XZ_T/replies"
# coerced: anything but bad_request naming the field
awk -F'\t' '{ if (index($3, "\"code\":\"bad_request\"") == 0 || index($3, "\\\"" $2 "\\\"") == 0) print }' \
	"$XZ_T/replies" >"$XZ_T/coerced"
coerced=$(wc -l <"$XZ_T/coerced")
head -20 "$XZ_T/coerced"
echo "$n wrong-type fields sent"
assert_le "at least 300 wrong-type fields were tried" 300 "$n"
assert_eq "every reply counted" "$n" "$(wc -l <"$XZ_T/replies")"
assert_eq "every one refused with bad_request naming the field (0 coerced)" 0 "$coerced"

echo "-- the AI+AR event"
base="{\"resident_id\":\"R0001\",\"kind\":\"DETOX\",\"session_id\":\"fz\",\"detox\":$DETOX,\"measures\":{\"craving\":1},\"system\":\"AI+AR\"}"
jq -c '. as $b | ["resident_id","kind","session_id","detox","measures",
  "system","zz_unknown"][] as $k | [7, 7.5, [], true, null][] as $m
  | $b | .[$k] = $m' <<<"$base" >"$XZ_T/events"
sent=0
while read -r ev; do
	xz pub rehab.assessment.scored "$ev" >/dev/null
	sent=$((sent + 1))
done <"$XZ_T/events"
wait_until 10 'test "$(counter rehab scored_rejected)" = "$sent"' || true
assert_eq "every malformed AI+AR result refused, none stored" "$sent 0" \
	"$(counter rehab scored_rejected) $(counter rehab scored_recorded)"
stop_node
finish
