#!/usr/bin/env bash
# The catalog of agencies and instruments (config/collab-catalog.cfg) is
# configuration data checked at start: an unknown agency type, an
# instrument sent by or to an unknown type, a clock for a receiver that may
# not receive the instrument, a syntax error each stop the collab plugin
# with FILE:LINE and the name; the node keeps running. With a good
# catalog, an instrument sent by an agency whose type may not send it, or
# to one whose type may not receive it, is refused naming both; an edited
# catalog changes the clocks; collab.catalog.get shows what was loaded.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
CAT="$XZ_SRC/config/collab-catalog.cfg"

# bad_catalog NAME SED-SCRIPT EXPECTED: the plugin refuses it with EXPECTED
bad_catalog() {
	local name=$1 script=$2 want=$3 line
	sed "$script" "$CAT" >"$XZ_T/$name.cfg"
	xz_config <<EOF2
plugins = ( { name = "collab"; kind = "so"; options = { catalog = "$XZ_T/$name.cfg"; }; } );
EOF2
	start_node
	wait_for 10 grep -q "collab: init failed" "$XZ_T/n1.log" || fail "$name: the plugin started"
	line=$(grep "ERROR collab: $XZ_T/$name.cfg:" "$XZ_T/n1.log" | tail -1 || true)
	assert_contains "$name: refused with FILE:LINE" "$XZ_T/$name.cfg:$want" "$line"
	assert_eq "$name: the node still answers" true \
		"$(xz call xz.sys.ping '{}' >/dev/null 2>&1 && echo true || echo false)"
	stop_node
	: >"$XZ_T/n1.log"
}

L=$(grep -n 'id = "court-01"' "$CAT" | cut -d: -f1)
bad_catalog unknown-type "${L}s/type = \"COURT\"/type = \"MARS\"/" \
	"$L: agency 'court-01': unknown agency type 'MARS'"
L=$(grep -n 'from = \[ "PUBLIC_SECURITY" \]; to = \[ "PROCURATORATE" \];' "$CAT" | head -1 | cut -d: -f1)
bad_catalog bad-sender "${L}s/from = \[ \"PUBLIC_SECURITY\" \]/from = [ \"POLICE\" ]/" \
	"$L: unknown agency type 'POLICE' in \"from\""
L=$(grep -n 'to = "COMMUNITY_CORRECTIONS"; },' "$CAT" | head -1 | cut -d: -f1)
bad_catalog bad-clock "${L}s/to = \"COMMUNITY_CORRECTIONS\"/to = \"TOWNSHIP\"/" \
	"$L: clock 'notify': \"to\" is 'TOWNSHIP', which may not receive this instrument"
bad_catalog syntax '3s/^#/#\n  oops = ;/' "4: syntax error"

echo "-- a good catalog, edited: parole-ruling clocks of 3 and 8 days"
sed -e 's/{ name = "notify"; days = 5;  met = "RECEIVED";/{ name = "notify"; days = 3;  met = "RECEIVED";/' \
	-e 's/{ name = "serve";  days = 10; met = "ACCEPTED";/{ name = "serve";  days = 8; met = "ACCEPTED";/' \
	"$CAT" >"$XZ_T/good.cfg"
xz_config <<EOF2
plugins = ( { name = "collab"; kind = "so"; options = { catalog = "$XZ_T/good.cfg"; }; } );
EOF2
start_node
COURT='"actor":{"user":"clerk-1","role":"case_clerk","agency":"court-01"}'
POLICE='"actor":{"user":"pc-9","role":"case_clerk","agency":"police-01"}'
H=$(printf 'ruling' | sha256sum | cut -d' ' -f1)
DOC="\"documents\":[{\"name\":\"ruling\",\"media_type\":\"application/pdf\",\"sha256\":\"$H\",\"size\":10}]"
S="\"subject\":{\"type\":\"prisoner\",\"id\":\"5101-0042\"}"
check "a parole ruling to community corrections" xz call collab.transfer.send \
	"{$COURT,\"type\":\"COMMUTATION_PAROLE_RULING\",\"to_agency\":\"cc-01\",$S,$DOC}"
assert_eq "from_agency is the actor's agency; the edited clocks: 3 and 8 days" "court-01 notify:3 serve:8" \
	"$(jq -r --arg s "$(jq -r .sent_at <<<"$OUT")" '.from_agency + " " + ([.clocks[] | "\(.clock):\(((.due_at[:19] + "Z" | fromdate) - ($s[:19] + "Z" | fromdate)) / 86400)"] | join(" "))' <<<"$OUT")"
check "the same ruling to the prison has no community-corrections clocks" xz call collab.transfer.send \
	"{$COURT,\"type\":\"COMMUTATION_PAROLE_RULING\",\"to_agency\":\"prison-01\",$S,$DOC}"
assert_eq "no clocks" 0 "$(jq -r '.clocks | length' <<<"$OUT")"
assert_exit "a court may not send a 提请批准逮捕书" 1 xz call collab.transfer.send \
	"{$COURT,\"type\":\"ARREST_REQUEST\",\"to_agency\":\"procuratorate-01\",$S,$DOC}"
assert_eq "refused naming the instrument, the agency and who may" \
	"bad_request: a 提请批准逮捕书 (ARREST_REQUEST) may not be sent by court-01 (COURT): senders are PUBLIC_SECURITY" \
	"$(jq -r '.error.code + ": " + .error.message' <<<"$OUT")"
assert_exit "nor may police send it to a court" 1 xz call collab.transfer.send \
	"{$POLICE,\"type\":\"ARREST_REQUEST\",\"to_agency\":\"court-01\",$S,$DOC}"
assert_eq "refused naming the receiver" \
	"bad_request: a 提请批准逮捕书 (ARREST_REQUEST) may not be sent to court-01 (COURT): receivers are PROCURATORATE" \
	"$(jq -r '.error.code + ": " + .error.message' <<<"$OUT")"
assert_exit "an unknown agency" 1 xz call collab.transfer.send \
	"{$POLICE,\"type\":\"ARREST_REQUEST\",\"to_agency\":\"mars-01\",$S,$DOC}"
assert_eq "names it" "unknown agency 'mars-01' (field \"to_agency\")" "$(jq -r .error.message <<<"$OUT")"
check "the catalog as loaded" xz call collab.catalog.get '{}'
assert_eq "ten agency types, the 政法 agencies by name" \
	"10 公安机关 人民检察院 人民法院 监狱 看守所 社区矫正机构 司法局 强制隔离戒毒所 乡镇人民政府/街道办事处 监察委员会" \
	"$(jq -r '"\(.agency_types | length) \([.agency_types[].name] | join(" "))"' <<<"$OUT")"
assert_eq "an instrument with its statute" "提请批准逮捕书|刑事诉讼法 第八十七条、第九十一条|decide:7" \
	"$(jq -r '.instruments[] | select(.id == "ARREST_REQUEST") | "\(.name)|\(.basis)|\(.clocks[0].name):\(.clocks[0].days)"' <<<"$OUT")"
stop_node
finish
