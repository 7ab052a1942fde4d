/*
 * test_idcard.c - GB 11643-1999 identity numbers (plugins/common/idcard.c):
 * valid numbers pass; a wrong check digit, a lower-case x, an impossible
 * birth date, a region code starting with 0, a wrong length or a letter
 * in the body are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "../../plugins/common/idcard.h"

static void
valid(void **state)
{
	(void) state;
	assert_int_equal(kit_idcard_valid("11010519491231002X"), 1);
	assert_int_equal(kit_idcard_valid("510104199003071237"), 1);
	assert_int_equal(kit_idcard_valid("511322198506152012"), 1);
	/* 29 February of a leap year */
	assert_int_equal(kit_idcard_valid("440304200002295616"), 1);
}

static void
refused(void **state)
{
	(void) state;
	/* wrong check digit: every other character refused */
	const char *ok = "510104199003071237";
	char        s[19];
	for (char c = '0'; c <= '9'; c++) {
		memcpy(s, ok, 19);
		s[17] = c;
		assert_int_equal(kit_idcard_valid(s), c == '7');
	}
	assert_int_equal(kit_idcard_valid("51010419900307123X"), 0);
	assert_int_equal(kit_idcard_valid("11010519491231002x"), 0);
	assert_int_equal(kit_idcard_valid(NULL), 0);
	assert_int_equal(kit_idcard_valid(""), 0);
	assert_int_equal(kit_idcard_valid("51010419900307123"), 0);
	assert_int_equal(kit_idcard_valid("5101041990030712370"), 0);
	assert_int_equal(kit_idcard_valid("5101041990030A1237"), 0);
	/* region code starting with 0 (check digit right for the body) */
	assert_int_equal(kit_idcard_valid("010104199003071238"), 0);
	/* 1900-02-29 does not exist; month 13; day 32 */
	assert_int_equal(kit_idcard_valid("510104190002291230"), 0);
	assert_int_equal(kit_idcard_valid("510104199013071237"), 0);
	assert_int_equal(kit_idcard_valid("510104199003321237"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid),
		cmocka_unit_test(refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
