/*
 * test_lua_json.c - the Lua JSON codec on real Lua states: round trips
 * (xz.null, empty arrays, nesting, unicode escapes, int vs float) and the
 * exact errors for bad input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "lua/luapriv.h"

static xz_lua_vm *vm;

static int
setup(void **st)
{
	(void) st;
	vm = xz_lua_vm_new(NULL, NULL, NULL, "json", NULL);
	return vm == NULL;
}

static int
teardown(void **st)
{
	(void) st;
	xz_lua_vm_retire(vm);
	xz_lua_vm_unref(vm);
	return 0;
}

/* decode(in) then encode: the text that comes back. */
static const char *
round_trip(const char *in)
{
	static char out[4096];
	char        err[256];
	xz_lua_buf  b = { 0 };

	if (xz_lua_json_decode(vm, vm->L, in, strlen(in), err, sizeof(err))
	    != 0) {
		snprintf(out, sizeof(out), "decode: %s", err);
		return out;
	}
	if (xz_lua_json_encode(vm, vm->L, -1, &b, err, sizeof(err)) != 0)
		snprintf(out, sizeof(out), "encode: %s", err);
	else
		snprintf(out, sizeof(out), "%s", b.p);
	lua_pop(vm->L, 1);
	xz_lua_buf_free(&b);
	return out;
}

/* Semantic equality (object key order is not kept by Lua tables). */
static void
assert_json_same(const char *got, const char *want)
{
	json_error_t je;
	json_t      *a = json_loads(got, JSON_DECODE_ANY, &je);
	json_t      *b = json_loads(want, JSON_DECODE_ANY, &je);

	if (a == NULL || b == NULL || !json_equal(a, b))
		fail_msg("json differs: got %s, want %s", got, want);
	json_decref(a);
	json_decref(b);
}

static const char *
eval(const char *code)
{
	static char out[1024];
	lua_State  *L = vm->L;

	if (luaL_loadstring(L, code) != LUA_OK
	    || xz_lua_pcall(vm, 0, 1) != LUA_OK)
		snprintf(out, sizeof(out), "error: %.*s",
		    (int) strcspn(lua_tostring(L, -1), "\n"),
		    lua_tostring(L, -1));
	else
		snprintf(out, sizeof(out), "%s", luaL_tolstring(L, -1, NULL));
	lua_settop(L, 0);
	return out;
}

static void
test_scalars_exact(void **st)
{
	(void) st;
	assert_string_equal(round_trip("null"), "null");
	assert_string_equal(round_trip("true"), "true");
	assert_string_equal(round_trip("false"), "false");
	assert_string_equal(round_trip("0"), "0");
	assert_string_equal(round_trip("-17"), "-17");
	assert_string_equal(round_trip("2.0"), "2.0");
	assert_string_equal(round_trip("2.5"), "2.5");
	assert_string_equal(round_trip("1e3"), "1000.0");
	assert_string_equal(round_trip("-0.1"), "-0.1");
	assert_string_equal(round_trip("0.1"), "0.1");
	assert_string_equal(
	    round_trip("9223372036854775807"), "9223372036854775807");
	assert_string_equal(
	    round_trip("-9223372036854775808"), "-9223372036854775808");
	/* beyond int64: a float */
	assert_string_equal(
	    round_trip("9223372036854775808"), "9.2233720368547758e+18");
	assert_string_equal(round_trip("\"a\\\"b\\\\c\\n\\t\\u0001\""),
	    "\"a\\\"b\\\\c\\n\\t\\u0001\"");
	assert_string_equal(round_trip("\"\\/\""), "\"/\"");
}

static void
test_int_vs_float_in_lua(void **st)
{
	(void) st;
	assert_string_equal(
	    eval("return math.type(xz.json.decode('3'))"), "integer");
	assert_string_equal(
	    eval("return math.type(xz.json.decode('3.0'))"), "float");
	assert_string_equal(eval("return xz.json.encode(3)"), "3");
	assert_string_equal(eval("return xz.json.encode(3.0)"), "3.0");
	assert_string_equal(
	    eval("return xz.json.encode(1/3)"), "0.33333333333333331");
	assert_string_equal(eval("return xz.json.encode(0/0)"),
	    "error: [string \"return xz.json.encode(0/0)\"]:1: json: cannot "
	    "encode NaN (not a finite number)");
}

static void
test_null_and_empty(void **st)
{
	(void) st;
	assert_string_equal(round_trip("[]"), "[]");
	assert_string_equal(round_trip("{}"), "{}");
	assert_string_equal(round_trip("[null,null]"), "[null,null]");
	assert_string_equal(round_trip("{\"a\":null}"), "{\"a\":null}");
	assert_string_equal(round_trip("[[],{},[[]]]"), "[[],{},[[]]]");
	assert_string_equal(
	    eval("return xz.json.decode('null') == xz.null"), "true");
	assert_string_equal(eval("return xz.json.decode('{\"a\":null}').a "
	                         "== xz.null"),
	    "true");
	assert_string_equal(eval("return xz.json.encode({})"), "{}");
	assert_string_equal(
	    eval("return xz.json.encode(setmetatable({}, xz.json.array))"),
	    "[]");
	assert_string_equal(
	    eval("return xz.json.encode(xz.json.as_array())"), "[]");
	assert_string_equal(
	    eval("return xz.json.encode({xz.null, 1})"), "[null,1]");
	/* an emptied decoded array stays an array */
	assert_string_equal(eval("local a = xz.json.decode('[1]') a[1] = nil "
	                         "return xz.json.encode(a)"),
	    "[]");
}

static void
test_nesting_and_tables(void **st)
{
	const char *in = "{\"id\":\"A1\",\"list\":[1,2.5,\"x\",{\"k\":[]}],"
	                 "\"o\":{\"deep\":{\"deeper\":[true,false,null]}}}";

	(void) st;
	assert_json_same(round_trip(in), in);
	assert_string_equal(
	    eval("return xz.json.encode({1, 2, 3})"), "[1,2,3]");
	/* holes or other keys make an object, with string keys */
	assert_json_same(eval("return xz.json.encode({[1] = 'a', [3] = 'c'})"),
	    "{\"1\":\"a\",\"3\":\"c\"}");
	assert_json_same(eval("return xz.json.encode({1, 2, x = 3})"),
	    "{\"1\":1,\"2\":2,\"x\":3}");
	assert_string_equal(eval("return xz.json.encode(xz.json.decode("
	                         "'{\"a\":{\"b\":[1,{\"c\":\"d\"}]}}'))"),
	    "{\"a\":{\"b\":[1,{\"c\":\"d\"}]}}");
	assert_string_equal(eval("local t = {} t.self = t "
	                         "return select(2, pcall(xz.json.encode, t))"),
	    "json: nesting deeper than 128 levels (a cycle?)");
	assert_string_equal(eval("return select(2, pcall(xz.json.encode, "
	                         "{f = print}))"),
	    "json: cannot encode a function value");
}

static void
test_unicode(void **st)
{
	(void) st;
	/* escapes decode to UTF-8, which encodes back as is */
	assert_string_equal(
	    round_trip("\"caf\\u00e9 \\u4e2d \\ud83d\\ude00\""),
	    "\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"");
	assert_string_equal(round_trip("\"\xe7\x8d\xac\xe8\xb1\xb8\""),
	    "\"\xe7\x8d\xac\xe8\xb1\xb8\"");
	assert_string_equal(
	    eval("return #xz.json.decode('\"\\\\u00e9\"')"), "2");
	assert_string_equal(round_trip("\"\\ud83d\""),
	    "decode: json: lone surrogate in \\u escape at offset 1 ('\\')");
	assert_string_equal(round_trip("\"\\ude00x\""),
	    "decode: json: lone surrogate in \\u escape at offset 1 ('\\')");
	assert_string_equal(eval("return select(2, pcall(xz.json.encode, "
	                         "'\\255'))"),
	    "json: string is not valid UTF-8");
}

static void
test_decode_errors(void **st)
{
	(void) st;
	assert_string_equal(round_trip("[1,2"),
	    "decode: json: expected ',' or ']' at end of input");
	assert_string_equal(round_trip("{\"a\" 1}"),
	    "decode: json: expected ':' at offset 5 ('1')");
	assert_string_equal(round_trip("{a:1}"),
	    "decode: json: expected a string key at offset 1 ('a')");
	assert_string_equal(round_trip("[1] x"),
	    "decode: json: trailing characters at offset 4 ('x')");
	assert_string_equal(round_trip("01"),
	    "decode: json: trailing characters at offset 1 ('1')");
	assert_string_equal(
	    round_trip("1."), "decode: json: bad number at end of input");
	assert_string_equal(round_trip("nul"),
	    "decode: json: unexpected character at offset 0 ('n')");
	assert_string_equal(round_trip("\"a\nb\""),
	    "decode: json: control character in string at offset 2");
	assert_string_equal(
	    round_trip(""), "decode: json: unexpected end at end of input");
	assert_string_equal(eval("local v, e = xz.json.decode('[') "
	                         "return tostring(v) .. ' ' .. e"),
	    "nil json: unexpected end at end of input");
	{
		char deep[400];
		memset(deep, '[', 200);
		memset(deep + 200, ']', 200);
		deep[399] = '\0';
		deep[399] = ']';
		char buf[401];
		memcpy(buf, deep, 400);
		buf[400] = '\0';
		assert_string_equal(round_trip(buf),
		    "decode: json: nesting deeper than 128 levels at offset "
		    "128 ('[')");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars_exact),
		cmocka_unit_test(test_int_vs_float_in_lua),
		cmocka_unit_test(test_null_and_empty),
		cmocka_unit_test(test_nesting_and_tables),
		cmocka_unit_test(test_unicode),
		cmocka_unit_test(test_decode_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
