/*
 * msg_zh.c - the demo plugin's log lines in 简体中文 (<xiezhi/i18n.h>),
 * keyed by their English format; DT("English") in demo.c and traffic.c.
 */
#include "demo.h"

const xz_tr demo_zh[] = {
	{ "option rollcall_times \"%s\": expected HH:MM,HH:MM,... (at most "
	  "%d)",
	    "选项 rollcall_times \"%s\"：应为 HH:MM,HH:MM,...（最多 %d 个）" },
	{ "option shifts \"%s\": expected NAME=HH:MM-HH:MM,... (at most %d)",
	    "选项 shifts \"%s\"：应为 名称=HH:MM-HH:MM,...（最多 %d 个）" },
	{ "timer: %s", "计时器：%s" },
	{ "refused: %.*s", "被拒绝：%.*s" },
	{ "%d places, %zu prisoners", "演示数据：%d 个场所，%zu 名罪犯" },
	{ NULL, NULL },
};
