/*
 * test_msg.c - the message catalogs of the config layer, the kernel and the
 * CLI (util/msg.h): every Chinese text keeps its English format's printf
 * conversions in order (a swapped %s/%d would print garbage or crash), no
 * key is listed twice, lookups return the Chinese under LANG=zh_CN and the
 * English for a text the catalogs lack, and the checker itself catches a
 * broken entry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli_common.h"
#include "kernel/kernel.h"
#include "util/msg.h"

static void
check_cat(const xz_tr *cat, const char *name)
{
	char why[512] = "";
	int  rc       = xz_text_check(cat, why, sizeof(why));

	if (rc != 0)
		print_error("%s: %s\n", name, why);
	assert_int_equal(rc, 0);
	assert_non_null(cat[0].en);
}

static void
test_catalogs_consistent(void **state)
{
	(void) state;
	check_cat(xz_config_zh, "xz_config_zh");
	check_cat(xz_kernel_zh, "xz_kernel_zh");
	check_cat(xz_cli_zh, "xz_cli_zh");
}

static void
test_checker_catches(void **state)
{
	static const xz_tr swapped[]
	    = { { "%s has %d", "%d 有 %s" }, { NULL, NULL } };
	static const xz_tr missing[]
	    = { { "%s: %s", "%s：" }, { NULL, NULL } };
	static const xz_tr twice[]
	    = { { "a %s", "甲 %s" }, { "a %s", "乙 %s" }, { NULL, NULL } };
	static const xz_tr fine[]
	    = { { "100%% of %zu, %.*s", "%zu 的 100%%，%.*s" },
		      { NULL, NULL } };
	char why[256];

	(void) state;
	assert_int_equal(xz_text_check(swapped, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "conversion 1 is %s in English, %d"));
	assert_int_equal(xz_text_check(missing, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "(none)"));
	assert_int_equal(xz_text_check(twice, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "listed twice"));
	assert_int_equal(xz_text_check(fine, why, sizeof(why)), 0);
}

static void
test_lookup_zh(void **state)
{
	static const xz_tr extra[]
	    = { { "only here", "仅在此处" }, { NULL, NULL } };

	(void) state;
	assert_int_equal(xz_text_zh(), 1);
	xz_text_register(xz_config_zh);
	xz_text_register(xz_kernel_zh);
	xz_text_register(xz_cli_zh);
	xz_text_register(xz_cli_zh); /* twice: a no-op */
	assert_string_equal(xz_text("stopped"), "已停止");
	assert_string_equal(
	    xz_text("node.name is required"), "node.name 为必填项");
	assert_string_equal(xz_text("xiezhi: unknown command '%s'\n\n%s"),
	    "xiezhi：未知命令 '%s'\n\n%s");
	/* not in any catalog: the English itself */
	assert_string_equal(xz_text("no such text %s"), "no such text %s");
	assert_string_equal(xz_text("only here"), "only here");
	xz_text_register(extra);
	assert_string_equal(xz_text("only here"), "仅在此处");
	assert_null(xz_text(NULL));
}

int
main(void)
{
	/* the language is read once, at the first lookup */
	unsetenv("LC_ALL");
	unsetenv("LC_MESSAGES");
	setenv("LANG", "zh_CN.UTF-8", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catalogs_consistent),
		cmocka_unit_test(test_checker_catches),
		cmocka_unit_test(test_lookup_zh),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
