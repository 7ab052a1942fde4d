#!/usr/bin/env bash
# The prison's locations come from a layout file (option layout_file, the
# format of plugins/prison/layout.cfg): a deployment's own layout is
# registered at start; a mistake in it stops the prison plugin with
# FILE:LINE and what is wrong, and the node keeps running.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prison_actors.sh"
xz_setup
cat >"$XZ_T/layout.cfg" <<'EOF2'
prison = {
  code = "5102"; name = "四川省另一监狱";
  areas = (
    { code = "03"; name = "三监区";
      subareas = ( { code = "1"; name = "一分监区"; cell_capacity = 8;
                     cells = [ "301", "302" ]; } ); }
  );
  zones = ( { code = "ZJ"; name = "周界"; zone = "PERIMETER";
              cameras = [ "cam-zj-1" ]; } );
};
EOF2
xz_config <<EOF2
plugins = ( { name = "prison"; kind = "so";
              options = { layout_file = "$XZ_T/layout.cfg"; }; } );
EOF2
start_node
assert_eq "the deployment's layout is registered" "4 5102.03.1.301:CELL:8:301监舍" \
	"$(xz call prison.location.list "{$DUTY,\"location\":\"5102.03\"}" | jq -r '(.total|tostring) + " " + ([.items[] | select(.type == "CELL")][0] | "\(.id):\(.type):\(.capacity):\(.name)")')"
assert_eq "an alarm at a registered zone" RAISED \
	"$(xz call prison.alarm.raise "{$SENSOR,\"kind\":\"PERIMETER\",\"location\":\"5102.ZJ\"}" | jq -r .state)"
assert_exit "the built-in layout's places are not this prison's" 1 \
	xz call prison.alarm.raise "{$SENSOR,\"kind\":\"PERIMETER\",\"location\":\"5101.ZJ\"}"
assert_contains "refused naming the location" '"location\": 5101.ZJ is not a registered location' "$OUT"
stop_node

# mistakes, each at its line
bad() { # WHAT LINE-CONTENT EXPECTED
	printf '%s\n' "$2" >"$XZ_T/bad.cfg"
	xz_config <<EOF2
plugins = ( { name = "prison"; kind = "so";
              options = { layout_file = "$XZ_T/bad.cfg"; }; } );
EOF2
	: >"$XZ_T/n1.log"
	start_node
	assert_contains "$1" "$3" "$(cat "$XZ_T/n1.log")"
	assert_exit "$1: the prison does not serve" 3 xz call prison.location.list "{$DUTY}"
	stop_node
}
bad "a syntax error" 'prison = {
  code = ;
};' "$XZ_T/bad.cfg:2: syntax error"
bad "an unknown setting" 'prison = { code = "5102"; name = "x";
  areaz = ( ); };' "$XZ_T/bad.cfg:2: unknown setting \"areaz\" here"
bad "a cell without a capacity" 'prison = { code = "5102"; name = "x"; areas = (
  { code = "01"; name = "a"; subareas = (
    { code = "1"; name = "s"; cells = [ "101" ]; } ); } ); };' \
	"$XZ_T/bad.cfg:3: cell \"101\" has no capacity"
bad "a code with a dot" 'prison = { code = "5102"; name = "x"; areas = (
  { code = "0.1"; name = "a"; subareas = ( ); } ); };' \
	"$XZ_T/bad.cfg:2: code \"0.1\" must be 1 to 32 ASCII letters"
bad "a zone of no known kind" 'prison = { code = "5102"; name = "x"; areas = ( );
  zones = ( { code = "Z"; name = "z"; zone = "MOAT"; } ); };' \
	"$XZ_T/bad.cfg:2: zone \"MOAT\" must be PERIMETER"
finish
