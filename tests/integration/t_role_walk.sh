#!/usr/bin/env bash
# The role walk: the default deployment (config/xiezhi.cfg as shipped, its
# scenario plugins and its demo identity set) walked as every demo user.
# The request topics are the ones the node serves (every subscription of
# a scenario plugin, and the kernel's privileged ones), each tried as a
# role that may call it (not forbidden: a domain error proves the role
# check passed) and one that may not (forbidden, naming the role needed).
# Which role may is read from the plugins themselves: a refusal names the
# roles a topic needs, so a topic added without its row in a plugin's
# table, or open to everyone, fails the coverage check. Then: a person
# acting for another agency, a forged payload actor (never in any
# history table nor the audit chain).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_test "jq is not installed"
command -v sqlite3 >/dev/null || skip_test "sqlite3 is not installed"

xz_setup
export HOME="$XZ_T/home"
mkdir -p "$HOME"
unset XZ_CREDS
# ---- the default deployment, in a temp folder ----
# The shipped config, with only its doors and data folder moved into the
# test's folder (and a cheaper argon2id: 22 demo users on a loaded
# machine); its relative paths (../plugins, ../scripts, ../var) resolve
# beside it.
DEP="$XZ_T/dep"
mkdir -p "$DEP"
cp -r "$XZ_SRC/config" "$DEP/config"
ln -s "$XZ_SRC/plugins" "$DEP/plugins"
ln -s "$XZ_SRC/scripts" "$DEP/scripts"
CFG="$DEP/config/xiezhi.cfg"
sed -i -e "s|ipc:///tmp/xiezhi-1.sock|ipc://$XZ_T/ctl.sock|" \
	-e "s|ipc:///tmp/xiezhi-1-bus.sock|ipc://$XZ_T/bus.sock|" "$CFG"
export XZ_GATEWAY_PORT=0 # the gateway does not take its port
sed -i -e "s|^\( *demo_users *= *true;\)|\1 argon2_ops = 1; argon2_mem_kib = 8192;|" \
	"$DEP/config/auth.cfg"
grep -q "ipc://$XZ_T/ctl.sock" "$CFG" || die "cannot move the control socket"
grep -q "argon2_ops = 1" "$DEP/config/auth.cfg" || die "cannot set argon2 cost"
DATA="$DEP/var/xiezhi-1"
XZ_CFG="$CFG"
start_node "$CFG"
wait_for 180 test -f "$DATA/demo-passwords.txt" ||
	die "no $DATA/demo-passwords.txt after 180 s"
wait_for 60 grep -q "demo users: .* made" "$XZ_T/n1.log" ||
	die "the demo users were not made"

# ---- every demo user logs in (a session token each) ----
mkdir -p "$XZ_T/creds"
declare -A CREDS=() # role -> credentials file
while IFS=$'\t' read -r user pw role agency name; do
	case "$user" in '#'* | '') continue ;; esac
	printf '%s\n' "$pw" >"$XZ_T/pw"
	xz login --user "$user" --password-file "$XZ_T/pw" \
		--creds "$XZ_T/creds/$role" >/dev/null ||
		die "demo user $user ($role) cannot log in"
	CREDS[$role]="$XZ_T/creds/$role"
done <"$DATA/demo-passwords.txt"
# a role of docs/roles.md the demo set has no user for: the administrator
# adds one, as the docs say to
ADM="$XZ_T/creds/admin"
printf 'walk-%s\n' "$RANDOM$RANDOM" >"$XZ_T/pw"
TABLE=$(sed -n '/^## The role table/,/^## /p' "$XZ_SRC/docs/roles.md" |
	grep -oE '^\| `[a-z_]+`' | tr -d '|` ')
for role in $TABLE; do
	[ -n "${CREDS[$role]:-}" ] && continue
	case "$role" in
	mediator) agency=township-01 ;;
	*) agency=prison-01 ;;
	esac
	xz identity user add "walk-$role" --name "巡查 $role" --agency "$agency" \
		--role "$role" --password-file "$XZ_T/pw" --creds "$ADM" >/dev/null ||
		die "the administrator cannot add a $role"
	xz login --user "walk-$role" --password-file "$XZ_T/pw" \
		--creds "$XZ_T/creds/$role" >/dev/null || die "walk-$role cannot log in"
	CREDS[$role]="$XZ_T/creds/$role"
done
NROLES=0
for role in $TABLE; do
	[ -n "${CREDS[$role]:-}" ] || fail "no user for role $role of docs/roles.md"
	NROLES=$((NROLES + 1))
done
assert_eq "every role of docs/roles.md has a logged-in user" \
	"$(echo "$TABLE" | wc -w)" "$NROLES"

# body_of TOPIC: a body that passes the topic's field checks (the role
# check decides); "" when the generic ones below do (worker tries them)
body_of() {
	case "$1" in
	rehab.resident.admit) echo '{"id":"RW01","name":"巡查","id_number":"11010519491231002X","decision_no":"RW-1","decision_date":"2026-01-01","deciding_agency":"police-01"}' ;;
	rehab.assessment.record) echo '{"resident_id":"walk-none","kind":"PHASE","detox":{}}' ;;
	rehab.disposition.propose) echo '{"resident_id":"walk-none","type":"EXTENSION","months":1}' ;;
	rehab.plan.draft) echo '{"resident_id":"walk-none","goals":[]}' ;;
	rehab.plan.update) echo '{"id":"walk-none","goals":[]}' ;;
	rehab.plan.record-session) echo '{"id":"walk-none","session":{}}' ;;
	legal.request.create) echo '{"channel":"HOTLINE","question":"q"}' ;;
	legal.aid.open) echo '{"applicant_type":"CITIZEN","matter":"m","means_checked":true}' ;;
	legal.provider.add) echo '{"id":"RW1","type":"LAWYER","name":"n","licence":"1","region":"R1","capacity":1,"specialties":[],"conflicts":[]}' ;;
	legal.calendar.due) echo '{"from_ms":0,"to_ms":1}' ;;
	collab.transfer.list) echo '{}' ;;
	collab.transfer.send) echo '{"type":"x","to_agency":"court-01","subject":{},"documents":[]}' ;;
	collab.transfer.partially-accept) echo '{"transfer_id":"walk-none","accepted":[]}' ;;
	collab.transfer.decide) echo '{"transfer_id":"walk-none","decision":"x"}' ;;
	collab.transfer.*) echo '{"transfer_id":"walk-none"}' ;;
	xz.sys.log.level) echo '{"level":"info"}' ;;
	xz.sys.console.eval) echo '{"chunk":"return 1"}' ;;
	xz.sys.identity.user.lock) echo '{"user":"walk-none"}' ;;
	audit.query) echo '{"purpose":"role walk","limit":1}' ;;
	*) echo "" ;;
	esac
}
export -f body_of

# call ROLE TOPIC BODY: the reply as one line "KIND|code|message": KIND is
# BUS (refused at the bus), DOMAIN (refused by the plugin), BAD (a field
# check failed), NONE (no reply) or OK (anything else: an answer, or a
# domain error such as not_found, which the role check let through)
call() {
	local r code msg
	r=$("$XZ_BIN" call -u "$XZ_URL" --creds "$XZ_T/creds/$1" "$2" "$3" -t 10000 2>/dev/null) || true
	# (no jq: the walk makes hundreds of calls on a loaded machine)
	if [[ $r =~ ^\{\"error\":\{\"code\":\"([a-z_]+)\",\"message\":\"(.*)\"\}\}$ ]]; then
		code=${BASH_REMATCH[1]}
		msg=${BASH_REMATCH[2]//|/ }
	elif [ -n "$r" ]; then
		echo "OK|ok|"
		return
	else
		echo "NONE|none|"
		return
	fi
	case "$code" in
	forbidden)
		case "$msg" in
		*"has no publish permission for '$2'"*) echo "BUS|$code|$msg" ;;
		*) echo "DOMAIN|$code|$msg" ;;
		esac ;;
	bad_request) echo "BAD|$code|$msg" ;;
	timeout | no_responders) echo "NONE|$code|$msg" ;;
	*) echo "OK|$code|$msg" ;;
	esac
}
export -f call

# candidates TOPIC: the roles whose bus permissions reach the topic's
# scenario, then outsiders (refused at the bus)
candidates() {
	case "$1" in
	prison.*) echo command_duty duty_leader area_officer prison_admin prison_leader prison_bureau lawyer duty_lawyer sensor kiosk auditor ;;
	rehab.*) echo rehab_officer rehab_evaluator rehab_leader ai_assessor kiosk auditor ;;
	legal.*) echo hotline_operator legal_reviewer legal_head lawyer duty_lawyer justice_bureau kiosk auditor ;;
	mediation.*) echo mediator hotline_operator justice_bureau kiosk ;;
	collab.*) echo case_clerk prison_admin rehab_leader kiosk ;;
	*) echo auditor admin kiosk ;;
	esac
}
export -f candidates

# walk TOPIC BODY: one verdict line per call made, then the topic's
# "TOPIC ..." summary line. The plugin's own refusal names the roles the
# topic needs (its table); one of them must not be refused, a role outside
# them must be (by the plugin, naming the roles, or by the bus).
walk() {
	local t=$1 body=$2 r k named="" yes="" no="" b ra
	# a body that passes the field checks, found as the administrator
	# (who reaches every topic on the bus and holds no scenario role)
	for b in "$body" '{"id":"walk-none","purpose":"role walk"}' \
		'{"id":"walk-none"}' '{"purpose":"role walk"}' \
		'{"transfer_id":"walk-none"}' '{}'; do
		[ -n "$b" ] || continue
		r=$(call admin "$t" "$b")
		[ "${r%%|*}" = BAD ] || break
	done
	body=$b
	k=${r%%|*}
	ra=$r
	if [ "$k" = DOMAIN ]; then
		# the roles named after "need" (not the topic's own words)
		named=$(echo "${r#*need}" | grep -oE '\b[a-z]+(_[a-z]+)*\b' |
			grep -xF -f "$XZ_T/roles.txt" | grep -vx admin | sort -u | tr '\n' ' ')
		[ -n "$named" ] || { echo "UNNAMED $t $r"; return; }
		echo "REFUSED_DOMAIN $t admin"
		# a role of the table, in the scenario's order; one the bus
		# refuses is a row the bus permissions (auth.roles) leave
		# unreachable: noted, and the next one is tried
		local ok=0 c
		for yes in $(candidates "$t") $named; do
			case " $named " in *" $yes "*) ;; *) continue ;; esac
			[ -f "$XZ_T/creds/$yes" ] || continue
			r=$(call "$yes" "$t" "$body")
			case "${r%%|*}" in
			BUS) echo "UNREACHABLE $t $yes" ;;
			# a refusal that names no roles is a rule of the
			# domain (not this shift's duty officer, say): the role
			# check let the call through
			DOMAIN) case "$r" in
				*need*) echo "ALLOWED_FORBIDDEN $t $yes $r" ;;
				*) echo "ALLOWED_OK $t $yes ${r#*|}" ;;
				esac
				ok=1; break ;;
			NONE) echo "ALLOWED_FORBIDDEN $t $yes $r"; ok=1; break ;;
			*) echo "ALLOWED_OK $t $yes ${r#*|}"; ok=1; break ;;
			esac
		done
		# the auditor reads for oversight: each row naming it is
		# tried as the auditor too (a dead row is UNREACHABLE)
		case " $named " in *" auditor "*)
			if [ "$yes" != auditor ] && [ -f "$XZ_T/creds/auditor" ]; then
				r=$(call auditor "$t" "$body")
				case "${r%%|*}" in
				BUS) echo "UNREACHABLE $t auditor" ;;
				DOMAIN) case "$r" in *need*) echo "ALLOWED_FORBIDDEN $t auditor $r" ;; esac ;;
				esac
			fi ;;
		esac
		if [ $ok = 0 ]; then
			case " $named $(echo "${ra#*need}" | grep -ow plugin) " in
			*" plugin "*) echo "PLUGIN_ONLY $t" ;;
			*) echo "ALLOWED_NONE $t $named" ;;
			esac
		fi
		for no in $(candidates "$t"); do
			case " $named " in *" $no "*) continue ;; esac
			r=$(call "$no" "$t" "$body")
			case "${r%%|*}" in
			DOMAIN)
				if echo "$r" | grep -qwF "${named%% *}"; then
					echo "REFUSED_DOMAIN $t $no"
				else
					echo "REFUSED_WRONG $t $no $r"
				fi ;;
			BUS) echo "REFUSED_BUS $t $no" ;;
			*) echo "REFUSED_WRONG $t $no $r" ;;
			esac
			break
		done
		echo "TOPIC $t"
		return
	fi
	# the administrator is not refused: the other roles tell
	[ "$k" = NONE ] && { echo "NORESPONSE $t $r"; return; }
	[ "$k" = BAD ] || echo "ALLOWED_OK $t admin ${r#*|}"
	yes=admin
	for no in $(candidates "$t"); do
		[ "$no" = admin ] && continue
		r=$(call "$no" "$t" "$body")
		case "${r%%|*}" in
		DOMAIN) echo "REFUSED_DOMAIN $t $no"; no=done; break ;;
		BUS) echo "REFUSED_BUS $t $no"; no=done; break ;;
		NONE) echo "ALLOWED_FORBIDDEN $t $no $r" ;;
		*) echo "ALLOWED_OK $t $no ${r#*|}" ;;
		esac
	done
	[ "$no" = done ] || echo "REFUSED_NONE $t"
	echo "TOPIC $t"
}
export -f walk
XZ_URL="ipc://$XZ_T/ctl.sock" # the CLI need not read the config each call
export XZ_BIN XZ_CFG XZ_T XZ_URL
echo "$TABLE" admin >"$XZ_T/roles.txt"
tr ' ' '\n' <"$XZ_T/roles.txt" | grep . >"$XZ_T/roles.tmp" && mv "$XZ_T/roles.tmp" "$XZ_T/roles.txt"

# ---- the request topics, from the plugins' own tables ----
# prison: its route table (prison.api.describe: roles and fields; a valid
# body from the fields, so the role check decides)
xz call prison.api.describe '{}' --creds "$ADM" | jq -r "$JQ_VAL"'
  to_entries[] | select(.value.roles | length > 0)
  | "\(.key)\t\(.value.fields | with_entries(select(.value.required)) | map_values(val(.)) | tojson)"' \
	>"$XZ_T/topics"
# rehab: the routes of serve.c; legal, mediation: their ACL tables;
# collab: its request list
P="$XZ_SRC/plugins"
{
	grep -oE '^\s*\{ "rehab\.[a-z.-]+"' "$P/rehab/serve.c" | grep -oE 'rehab\.[a-z.-]+'
	sed -n '/^local ACL = {/,/^}/p' "$P/legal/legal.lua" | grep -oE '^\s*\["legal\.[a-z.-]+"\]' | grep -oE 'legal\.[a-z.-]+'
	sed -n '/^local ACL = {/,/^}/p' "$P/mediation/mediation.lua" | grep -oE '^\s*\["mediation\.[a-z.-]+"\]' | grep -oE 'mediation\.[a-z.-]+'
	sed -n '/static const char \*const reqs\[\]/,/NULL/p' "$P/collab/collab.c" | grep -oE '"[a-z-]+"' | tr -d '"' | sed 's/^/collab.transfer./'
	# the kernel's privileged requests (docs/roles.md: admin, auditor)
	printf '%s\n' xz.sys.status xz.sys.reload xz.sys.log.level \
		xz.sys.console.eval xz.sys.identity.user.list \
		xz.sys.identity.user.lock audit.query audit.verify
} | while read -r t; do
	printf '%s\t%s\n' "$t" "$(body_of "$t")"
done >>"$XZ_T/topics"
NT=$(wc -l <"$XZ_T/topics")
[ "$NT" -ge 150 ] || fail "only $NT request topics found in the plugins' tables"
# ---- the walk: a few topics at a time, each a line of verdicts ----
T0=$SECONDS
tr '\t' '\n' <"$XZ_T/topics" |
	xargs -d '\n' -n 2 -P 4 bash -c 'walk "$@"' walk >"$XZ_T/verdicts"
NC=$(grep -cE '^(ALLOWED|REFUSED|UNREACHABLE)' "$XZ_T/verdicts" || true)
echo ".. the walk: $NC calls (and the administrator's probes) in $((SECONDS - T0)) s"
OKRE='^(ALLOWED_OK|REFUSED_DOMAIN|REFUSED_BUS|TOPIC|UNREACHABLE|PLUGIN_ONLY) '
grep -vE "$OKRE" "$XZ_T/verdicts" | head -20 | sed 's/^/    /' || true
bad=$(grep -cvE "$OKRE" "$XZ_T/verdicts" || true)
assert_eq "no role of a topic's table is forbidden, every refusal is forbidden naming the roles" 0 "$bad"
# coverage: every topic of the tables tried by >= 1 allowed and >= 1 refused role
cut -f1 "$XZ_T/topics" | sort -u >"$XZ_T/t.all"
# (a topic only plugins may call counts as allowed: its caller is a plugin)
awk '$1 == "ALLOWED_OK" || $1 == "PLUGIN_ONLY" { print $2 }' "$XZ_T/verdicts" | sort -u >"$XZ_T/t.allowed"
awk '$1 ~ /^REFUSED_(DOMAIN|BUS)$/ && $3 != "admin" { print $2 }' "$XZ_T/verdicts" | sort -u >"$XZ_T/t.refused"
assert_eq "every topic has a role that may call it" "" "$(comm -23 "$XZ_T/t.all" "$XZ_T/t.allowed" | tr '\n' ' ')"
assert_eq "every topic has a role (not admin) that may not" "" "$(comm -23 "$XZ_T/t.all" "$XZ_T/t.refused" | tr '\n' ' ')"
NA=$(grep -c '^ALLOWED_OK ' "$XZ_T/verdicts" || true)
NR=$(grep -cE '^REFUSED_(DOMAIN|BUS) ' "$XZ_T/verdicts" || true)
ND=$(grep -c '^REFUSED_DOMAIN ' "$XZ_T/verdicts" || true)
NU=$(awk '$1 ~ /^(ALLOWED_OK|REFUSED_)/ { print $3 }' "$XZ_T/verdicts" | sort -u | wc -l)
echo ".. topics: $NT (prison $(grep -c '^prison\.' "$XZ_T/topics"), rehab $(grep -c '^rehab\.' "$XZ_T/topics"), legal $(grep -c '^legal\.' "$XZ_T/topics"), mediation $(grep -c '^mediation\.' "$XZ_T/topics"), collab $(grep -c '^collab\.' "$XZ_T/topics"), kernel and audit $(grep -cE '^(xz|audit)\.' "$XZ_T/topics"))"
echo ".. roles: $NROLES logged in, $NU made calls"
echo ".. allowed calls: $NA; refused calls: $NR ($ND by the plugin naming the roles, $((NR - ND)) at the bus)"
NP=$(grep -c '^PLUGIN_ONLY ' "$XZ_T/verdicts" || true)
echo ".. topics only plugins call: $NP ($(awk '$1 == "PLUGIN_ONLY" { print $2 }' "$XZ_T/verdicts" | tr '\n' ' '))"
NUR=$(grep -c '^UNREACHABLE ' "$XZ_T/verdicts" || true)
echo ".. rows of a plugin's table the bus permissions leave unreachable: $NUR ($(awk '$1 == "UNREACHABLE" { print $3 }' "$XZ_T/verdicts" | sort | uniq -c | awk '{ printf "%s %s, ", $2, $1 }'))"
# the auditor reads for oversight: every row of a table that names it is
# one its bus permissions reach (config/auth.cfg, docs/roles.md)
assert_eq "rows naming the auditor that the bus leaves unreachable" 0 \
	"$(awk '$1 == "UNREACHABLE" && $3 == "auditor"' "$XZ_T/verdicts" | wc -l)"

# ---- the test clock is off in the default deployment ----
assert_contains "xz.sys.clock.advance is refused, even to the administrator" \
	"error" "$(xz call xz.sys.clock.advance '{"ms":1000}' --creds "$ADM" 2>/dev/null || true)"

# ---- a person acting for another agency ----
xz identity user add walk-other --name "他监民警" --agency prison-02 \
	--role command_duty --password-file "$XZ_T/pw" --creds "$ADM" >/dev/null
xz login --user walk-other --password-file "$XZ_T/pw" --creds "$XZ_T/creds/other" >/dev/null
R=$(xz call prison.alarm.raise '{"kind":"FIRE","location":"5101.01"}' --creds "$XZ_T/creds/other" 2>/dev/null || true)
assert_eq "a duty officer of prison-02 raises no alarm at prison-01" forbidden \
	"$(echo "$R" | jq -r .error.code)"
assert_contains "the refusal says why" "agency" "$R"
xz identity user add walk-other-rehab --name "他所民警" --agency rehab-02 \
	--role rehab_officer --password-file "$XZ_T/pw" --creds "$ADM" >/dev/null
xz login --user walk-other-rehab --password-file "$XZ_T/pw" --creds "$XZ_T/creds/other-rehab" >/dev/null
assert_eq "an officer of rehab-02 reads no resident of rehab-01" forbidden \
	"$(xz call rehab.resident.get '{"id":"R0001"}' --creds "$XZ_T/creds/other-rehab" 2>/dev/null | jq -r .error.code)"

# ---- a forged actor in the payload ----
FORGED="forged-$RANDOM-walker"
A="\"actor\":{\"user\":\"$FORGED\",\"role\":\"duty_leader\",\"agency\":\"prison-01\"}"
for c in "command_duty prison.alarm.raise {$A,\"kind\":\"FIRE\",\"location\":\"5101.01\"}" \
	"hotline_operator legal.request.create {$A,\"channel\":\"HOTLINE\",\"question\":\"q\"}" \
	"rehab_officer rehab.resident.get {$A,\"id\":\"R0001\"}" \
	"case_clerk collab.transfer.list {$A}" \
	"justice_bureau mediation.case.list {$A,\"purpose\":\"walk\"}"; do
	set -- $c
	R=$(xz call "$2" "$3" --creds "$XZ_T/creds/$1" 2>/dev/null || true)
	case "$(echo "$R" | jq -r '.error.code // "ok"')" in
	forbidden) pass "$2: a forged payload actor is refused" ;;
	*) fail "$2 with a forged actor is not refused (forbidden): $R" ;;
	esac
done
# never in a history table of any plugin's store, nor the audit chain
hits=""
for db in "$DATA"/*.db; do
	n=$(sqlite3 -readonly "$db" .dump 2>/dev/null | grep -c "$FORGED" || true)
	[ "$n" = 0 ] || hits="$hits $(basename "$db"):$n"
done
assert_eq "the forged name is in no store (sqlite3 .dump of every *.db)" "" "$hits"
assert_eq "the audit chain has no record by the forged name" 0 \
	"$(xz call audit.query "{\"purpose\":\"role walk\",\"who\":\"$FORGED\"}" --creds "$XZ_T/creds/auditor" | jq '.records | length')"
assert_contains "the audit chain verifies" '"ok":true' \
	"$(xz call audit.verify '{}' --creds "$XZ_T/creds/auditor")"
stop_node
finish
