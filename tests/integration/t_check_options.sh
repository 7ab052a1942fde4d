#!/usr/bin/env bash
# t_check_options.sh - a C plugin's own check of its options (the
# descriptor's check_options, SDK 1.4): `xiezhi check` refuses a prison
# `shifts`, `daily_report_at` or `treatment_default` that the plugin's
# init would refuse, naming the config's FILE:LINE, the plugin and the
# option; the node refuses to start on it the same way; good values pass.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
[ -f "$XZ_PLUGIN_DIR/prison.so" ] || skip_test "no prison plugin built"

prison_cfg() { # prison_cfg OPTIONS: a config with the prison plugin
	xz_config <<EOF2
plugins = (
  { name = "prison"; kind = "so";
    options = {
      $1
    }; }
);
EOF2
}
line_of() { grep -n "$1" "$XZ_CFG" | head -1 | cut -d: -f1; }

prison_cfg 'shifts = "DAY=08:00-20:00,NIGHT=20:00-08:00";'
check "check passes with shifts that cover the day once" xz check

prison_cfg 'shifts = "DAY=08:00-20:00,NIGHT=21:00-08:00";'
assert_exit "check refuses shifts that leave a gap" 1 xz check
assert_contains "it names FILE:LINE, the plugin and the option" \
	"$XZ_CFG:$(line_of 'shifts =' ): plugin 'prison': option shifts: \"DAY=08:00-20:00,NIGHT=21:00-08:00\": 20:00 is covered by 0 shifts" \
	"$OUT$ERR"

prison_cfg 'shifts = "DAY=8-20";'
assert_exit "check refuses a malformed shift" 1 xz check
assert_contains "it says what a shift must look like" \
	"$XZ_CFG:$(line_of 'shifts =' ): plugin 'prison': option shifts: \"DAY=8-20\" is not NAME=HH:MM-HH:MM" \
	"$OUT$ERR"
run_refused "a malformed shift" "plugin 'prison': option shifts: \"DAY=8-20\""

prison_cfg 'daily_report_at = "25:00";'
assert_exit "check refuses a report time that is no time" 1 xz check
assert_contains "it names the option" \
	"$XZ_CFG:$(line_of 'daily_report_at' ): plugin 'prison': option daily_report_at: \"25:00\" is not a time HH:MM" \
	"$OUT$ERR"

prison_cfg 'treatment_default = "VIP";'
assert_exit "check refuses a default treatment level not in the list" 1 xz check
assert_contains "it names the option" \
	"$XZ_CFG:$(line_of 'treatment_default' ): plugin 'prison': option treatment_default \"VIP\" is not one of treatment_levels" \
	"$OUT$ERR"
finish
