/*
 * test_schema.c - strict request fields (plugins/common/schema.c) and the
 * GB 11643 citizen identity number (idcard.c): a wrong type, a fraction,
 * an object, an out-of-range value and an unknown key are refused with the
 * field named; nothing is coerced.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../plugins/common/idcard.h"
#include "../../plugins/common/schema.h"

static const char *const kinds[] = { "FIRE", "FIGHT", NULL };
static const kit_field   count[] = {
	  KIT_FIELD_STR("location", 1, 1, 64),
	  KIT_FIELD_INT("counted", 1, 0, 1000),
	  KIT_FIELD_END,
};
static const kit_field count_item[] = { KIT_FIELD_OBJ(NULL, 1, count) };
static const kit_field raise[]      = {
	     KIT_FIELD_ENUM("kind", 1, kinds),
	     KIT_FIELD_INT("level", 0, 1, 3),
	     KIT_FIELD_IDCARD("id_number", 0),
	     KIT_FIELD_ARR("counts", 0, 1, 10, count_item),
	     KIT_FIELD_BOOL("history", 0),
	     KIT_FIELD_END,
};

/* The message for body, or NULL when it conforms. */
static char *
check(const char *body)
{
	static char err[600];
	json_t     *o = json_loads(body, 0, NULL);
	int         rc;

	assert_non_null(o);
	rc = kit_schema_check(raise, o, "t.raise", err, sizeof(err));
	json_decref(o);
	return rc == 0 ? NULL : err;
}

static void
test_accepts(void **state)
{
	(void) state;
	assert_null(check("{\"kind\":\"FIRE\"}"));
	assert_null(check("{\"kind\":\"FIRE\",\"level\":3,\"history\":false,"
	                  "\"id_number\":\"11010519491231002X\","
	                  "\"counts\":[{\"location\":\"a\",\"counted\":0}],"
	                  "\"actor\":{\"user\":\"u\",\"role\":\"r\"},"
	                  "\"reason\":\"x\",\"purpose\":\"y\"}"));
}

static void
test_refuses(void **state)
{
	(void) state;
	assert_string_equal(check("{\"kind\":\"FIRE\",\"level\":\"3\"}"),
	    "t.raise: \"level\": expected an integer from 1 to 3, got a "
	    "string (\"3\")");
	assert_string_equal(check("{\"kind\":\"FIRE\",\"level\":3.9}"),
	    "t.raise: \"level\": expected an integer from 1 to 3, got a "
	    "number with a fraction");
	assert_string_equal(check("{\"kind\":\"FIRE\",\"level\":{}}"),
	    "t.raise: \"level\": expected an integer from 1 to 3, got an "
	    "object");
	assert_string_equal(check("{\"kind\":\"FIRE\",\"level\":4}"),
	    "t.raise: \"level\": expected an integer from 1 to 3, got 4");
	assert_string_equal(check("{\"kind\":\"UFO\"}"),
	    "t.raise: \"kind\": expected one of FIRE, FIGHT");
	assert_string_equal(check("{\"level\":1}"),
	    "t.raise: \"kind\" is missing: expected one of FIRE, FIGHT");
	assert_string_equal(check("{\"kind\":\"FIRE\",\"bogus\":1}"),
	    "t.raise: \"bogus\" is not a field of this request (fields: "
	    "kind, level, id_number, counts, history)");
	assert_string_equal(check("{\"kind\":\"FIRE\",\"history\":\"true\"}"),
	    "t.raise: \"history\": expected true or false, got a string "
	    "(\"true\")");
	assert_string_equal(
	    check("{\"kind\":\"FIRE\",\"counts\":[{\"location\":\"a\","
	          "\"counted\":\"2\"}]}"),
	    "t.raise: \"counts[0].counted\": expected an integer from 0 to "
	    "1000, got a string (\"2\")");
	assert_string_equal(
	    check("{\"kind\":\"FIRE\",\"counts\":[{\"location\":\"a\"}]}"),
	    "t.raise: \"counts[0].counted\" is missing: expected an integer "
	    "from 0 to 1000");
	assert_string_equal(
	    check("{\"kind\":\"FIRE\",\"actor\":{\"role\":1}}"),
	    "t.raise: \"actor.role\": expected a string of 1 to 64 bytes, got "
	    "an integer");
	assert_string_equal(
	    check("{\"kind\":\"FIRE\",\"id_number\":\"110105194912310021\"}"),
	    "t.raise: \"id_number\": expected an 18-character citizen "
	    "identity number (GB 11643) with a correct check character");
}

static void
test_idcard(void **state)
{
	(void) state;
	assert_true(kit_idcard_valid("11010519491231002X"));
	assert_false(kit_idcard_valid("11010519491231002x")); /* upper X */
	assert_int_equal(kit_idcard_check_char("11010519491231002"), 'X');
	assert_false(kit_idcard_valid("110105194912310021")); /* check */
	assert_false(kit_idcard_valid("11010519490231002X")); /* Feb 31 */
	assert_false(kit_idcard_valid("1101051949123100")); /* short */
	assert_false(kit_idcard_valid("A1010519491231002X"));
	assert_false(kit_idcard_valid(NULL));
	/* every check character is the one that makes the sum right */
	for (int i = 0; i < 1000; i++) {
		char s[19];
		snprintf(s, sizeof(s), "51010519800101%03d", i);
		s[17] = kit_idcard_check_char(s);
		s[18] = '\0';
		assert_true(kit_idcard_valid(s));
		s[17] = s[17] == '0' ? '1' : '0';
		assert_false(kit_idcard_valid(s));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_idcard),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
