#!/usr/bin/env bash
# Domain authorization in the prison (the role table of docs/scenarios.md):
# every request topic is tried by one role that may call it and one that
# may not (a schema-valid payload built from prison.api.describe, so the
# role decides); a refusal is forbidden and names the roles needed; a
# person acts for their own agency only; a level-3 alarm is dismissed by
# the duty leader only. Then a node that knows the test's uid as the duty
# officer 张伟 (auth.local): the kernel's word decides, not the payload's.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prison_actors.sh"
xz_setup
xz_config <<'EOF2'
plugins = ( { name = "prison"; kind = "so";
              options = { seed_demo_data = true;
                          alarm_ack_sla_l2_s = 86400; alarm_dispatch_sla_l2_s = 86400; }; } );
EOF2
start_node

D=$(xz call prison.api.describe "{$DUTY}")
# a valid payload for each topic, the topic's first role that is not
# "plugin", and a role of the table it does not list
echo "$D" | jq -r "$JQ_VAL"'
  ["command_duty","duty_leader","area_officer","prison_admin",
   "prison_leader","prison_bureau","kiosk","sensor","auditor","lawyer",
   "rehab_officer","hotline_operator"] as $pool
  | to_entries[] | select(.value.roles | length > 0)
  | .key as $t | .value.roles as $r
  | ($r | map(select(. != "plugin")) | .[0]) as $yes
  | ([$pool[] | select(. as $p | $r | index($p) | not)] | .[0]) as $no
  | (.value.fields | with_entries(select(.value.required)) | map_values(val(.))) as $body
  | "\($t)\t\($yes)\t\($no)\t\($body | tojson)"' >"$XZ_T/cases"
N=$(wc -l <"$XZ_T/cases")
[ "$N" -ge 50 ] || fail "only $N request topics with roles"
# each case: the allowed role's call, then the refused role's (a few
# cases at a time; each verdict is one line)
one() { # TOPIC YES NO BODY
	local r a
	for who in "$2" "$3"; do
		case "$who" in
		prison_bureau) a='{"user":"u-'"$who"'","role":"'"$who"'","agency":"bureau"}' ;;
		*) a='{"user":"u-'"$who"'","role":"'"$who"'","agency":"prison-01"}' ;;
		esac
		r=$("$XZ_BIN" call -c "$XZ_CFG" "$1" "$(echo "$4" | jq -c --argjson a "$a" '. + {actor: $a}')" 2>/dev/null || true)
		if [ "$who" = "$2" ]; then
			case "$r" in
			*'"code":"forbidden"'*) echo "ALLOWED_FORBIDDEN $1 $r" ;;
			*) echo "ALLOWED_OK $1" ;;
			esac
		else
			case "$(echo "$r" | jq -r '.error.code + ": " + .error.message')" in
			"forbidden: $1: role $3 may not do this; it needs one of: "*) echo "REFUSED_OK $1" ;;
			*) echo "REFUSED_WRONG $1 $r" ;;
			esac
		fi
	done
}
export -f one
export XZ_BIN XZ_CFG
tr '\t' '\n' <"$XZ_T/cases" | xargs -d '\n' -n 4 -P 4 bash -c 'one "$@"' one >"$XZ_T/verdicts"
grep -E 'ALLOWED_FORBIDDEN|REFUSED_WRONG' "$XZ_T/verdicts" | head -5 | sed 's/^/    /' || true
allowed_forbidden=$(grep -c '^ALLOWED_FORBIDDEN' "$XZ_T/verdicts" || true)
refused_ok=$(grep -c '^REFUSED_OK' "$XZ_T/verdicts" || true)
assert_eq "$N topics: a role of the table that may call each is never forbidden" 0 "$allowed_forbidden"
assert_eq "$N topics: a role that may not is refused, naming the roles needed" "$N" "$refused_ok"

err() { xz call "$1" "$2" 2>/dev/null | jq -r '.error.code + ": " + .error.message' || true; }
assert_eq "a person acts for their own agency only" \
	'forbidden: prison.alarm.raise: zhangwei acts for agency "prison-02", not for this prison (prison-01): a person acts for their own agency only' \
	"$(err prison.alarm.raise '{"actor":{"user":"zhangwei","role":"command_duty","agency":"prison-02"},"kind":"FIRE","location":"5101.01"}')"
assert_eq "a bureau officer reads for the bureau" "5101 PRISON" \
	"$(xz call prison.location.get "{$BUREAU,\"id\":\"5101\"}" | jq -r '.id + " " + .type')"
A=$(xz call prison.alarm.raise "{$SENSOR,\"kind\":\"ESCAPE\",\"level\":3,\"location\":\"5101.ZJ\"}" | jq -r .id)
assert_eq "a level-3 alarm is not dismissed by the duty officer" \
	"forbidden: prison.alarm.dismiss: alarm $A is at level 3: only the duty leader (duty_leader) may dismiss it" \
	"$(err prison.alarm.dismiss "{$DUTY,\"id\":\"$A\"}")"
assert_eq "the duty leader dismisses it" FALSE_ALARM \
	"$(xz call prison.alarm.dismiss "{$LEADER,\"id\":\"$A\",\"reason\":\"巡逻民警触发\"}" | jq -r .state)"
stop_node

# -- the kernel's word: this test's uid is the duty officer 张伟
xz_config <<EOF2
auth = { local = ( { uid = $(id -u); user = "zhangwei"; name = "张伟";
                     agency = "prison-01"; roles = [ "command_duty" ]; } ); };
plugins = ( { name = "prison"; kind = "so";
              options = { seed_demo_data = true;
                          alarm_ack_sla_l2_s = 86400; alarm_dispatch_sla_l2_s = 86400; }; } );
EOF2
start_node
R=$(xz call prison.alarm.raise '{"kind":"FIGHT","level":2,"location":"5101.01.1.102"}')
A=$(echo "$R" | jq -r .id)
assert_eq "raised as the authenticated duty officer, without a payload actor" \
	"RAISED zhangwei" "$(echo "$R" | jq -r '.state + " " + .created_by')"
assert_eq "closing needs the duty leader" \
	"forbidden: prison.alarm.close: role command_duty may not do this; it needs one of: duty_leader" \
	"$(err prison.alarm.close "{\"id\":\"$A\"}")"
assert_contains "a payload naming the duty leader changes nothing" \
	"forbidden: prison.alarm.close: the payload's actor 'liqiang' is not the authenticated caller 'zhangwei'" \
	"$(err prison.alarm.close "{$LEADER,\"id\":\"$A\"}")"
assert_contains "nor a payload naming another agency" "forbidden" \
	"$(err prison.alarm.acknowledge "{\"actor\":{\"user\":\"zhangwei\",\"agency\":\"prison-02\"},\"id\":\"$A\"}")"
assert_eq "acknowledged as the duty officer" "ACKNOWLEDGED zhangwei command_duty" \
	"$(xz call prison.alarm.acknowledge "{\"id\":\"$A\"}" >/dev/null; xz call prison.alarm.get "{\"id\":\"$A\"}" | jq -r '.state + " " + .history[-1].who + " " + .history[-1].role')"
assert_eq "forged actors never appear in the history" "zhangwei" \
	"$(xz call prison.alarm.get "{\"id\":\"$A\"}" | jq -r '[.history[].who] | unique | join(",")')"
stop_node
finish
