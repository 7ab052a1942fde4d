/*
 * test_lua_sandbox.c - escape attempts against real sandboxed Lua states:
 * each is contained with the error a script author would see, pcall
 * cannot swallow limit errors, and the state keeps serving afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lua/luapriv.h"

static xz_lua_vm *
vm_with(uint32_t mem_kb, uint64_t instr, uint32_t ms, const char *path)
{
	xz_lua_limits lim = { mem_kb, instr, ms, 3 };
	xz_lua_vm    *vm  = xz_lua_vm_new(&lim, NULL, NULL, "test", path);

	assert_non_null(vm);
	return vm;
}

static void
vm_free(xz_lua_vm *vm)
{
	xz_lua_vm_retire(vm);
	xz_lua_vm_unref(vm);
}

/* Run code as chunk "=t"; returns the Lua status. *out gets the first line
 * of the error, or tostring of the first result. */
static int
run(xz_lua_vm *vm, const char *code, char *out, size_t outlen)
{
	lua_State *L = vm->L;
	int        st;

	out[0] = '\0';
	st     = luaL_loadbufferx(L, code, strlen(code), "=t", "t");
	if (st == LUA_OK)
		st = xz_lua_pcall(vm, 0, 1);
	if (st != LUA_OK) {
		const char *m = lua_tostring(L, -1);
		snprintf(out, outlen, "%.*s", (int) strcspn(m ? m : "", "\n"),
		    m ? m : "");
	} else {
		snprintf(out, outlen, "%s", luaL_tolstring(L, -1, NULL));
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	return st;
}

#define EXPECT_ERR(vm, code, msg)                                             \
	do {                                                                  \
		char out_[512];                                               \
		assert_int_not_equal(                                         \
		    run(vm, code, out_, sizeof(out_)), LUA_OK);               \
		assert_string_equal(out_, msg);                               \
	} while (0)

#define EXPECT_OK(vm, code, result)                                           \
	do {                                                                  \
		char out_[512];                                               \
		assert_int_equal(run(vm, code, out_, sizeof(out_)), LUA_OK);  \
		assert_string_equal(out_, result);                            \
	} while (0)

static void
test_no_os_io_debug(void **st)
{
	xz_lua_vm *vm = vm_with(0, 0, 0, NULL);

	(void) st;
	EXPECT_ERR(vm, "os.execute('id')",
	    "t:1: attempt to index a nil value (global 'os')");
	EXPECT_ERR(vm, "return io.open('/etc/passwd')",
	    "t:1: attempt to index a nil value (global 'io')");
	EXPECT_ERR(vm, "debug.sethook(print, 'c')",
	    "t:1: attempt to index a nil value (global 'debug')");
	EXPECT_OK(vm,
	    "return tostring(package) .. tostring(dofile) .. "
	    "tostring(loadfile) .. tostring(collectgarbage) .. "
	    "tostring(coroutine) .. tostring(warn)",
	    "nilnilnilnilnilnil");
	/* the sandbox still has what scripts need */
	EXPECT_OK(vm,
	    "return string.format('%d %s %.1f', #table.pack(1,2), "
	    "utf8.char(233), math.pi)",
	    "2 \xc3\xa9 3.1");
	vm_free(vm);
}

static void
test_require_only_own_modules(void **st)
{
	char       dir[] = "/tmp/xz_lua_req_XXXXXX";
	char       path[256], mod[256];
	FILE      *f;
	xz_lua_vm *vm;

	(void) st;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/main.lua", dir);
	snprintf(mod, sizeof(mod), "%s/helper.lua", dir);
	f = fopen(mod, "w");
	assert_non_null(f);
	fputs("return { twice = function(x) return 2 * x end }\n", f);
	fclose(f);
	vm = vm_with(0, 0, 0, path);

	EXPECT_OK(vm, "return require('helper').twice(21)", "42");
	/* cached: the same table */
	EXPECT_OK(vm, "return require('helper') == require('helper')", "true");
	{
		char want[512];
		snprintf(want, sizeof(want),
		    "t:1: require: module 'os' not found: no file "
		    "'%s/os.lua' (only the plugin's own modules and the "
		    "shared "
		    "ones of plugins/common/lua can be "
		    "required)",
		    dir);
		EXPECT_ERR(vm, "return require('os')", want);
		snprintf(want, sizeof(want),
		    "t:1: require: module 'io' not found: no file "
		    "'%s/io.lua' (only the plugin's own modules and the "
		    "shared "
		    "ones of plugins/common/lua can be "
		    "required)",
		    dir);
		EXPECT_ERR(vm, "return require('io')", want);
	}
	EXPECT_ERR(vm, "return require('../etc/passwd')",
	    "t:1: require: module name '../etc/passwd' not allowed (only "
	    "the plugin's own modules, [a-z0-9_.]+)");
	EXPECT_ERR(vm, "return require('Helper')",
	    "t:1: require: module name 'Helper' not allowed (only the "
	    "plugin's own modules, [a-z0-9_.]+)");
	vm_free(vm);
	unlink(mod);
	rmdir(dir);
}

static void
test_no_bytecode(void **st)
{
	xz_lua_vm *vm = vm_with(0, 0, 0, NULL);

	(void) st;
	EXPECT_OK(vm, "return tostring(string.dump) .. tostring(('').dump)",
	    "nilnil");
	EXPECT_ERR(vm, "return load(string.dump(function() end))",
	    "t:1: attempt to call a nil value (field 'dump')");
	/* a bytecode header given as a string is refused by load */
	EXPECT_OK(vm,
	    "local f, err = load('\\27Lua\\84\\0'); return tostring(f) .. "
	    "' ' .. err",
	    "nil attempt to load a binary chunk (mode is 't')");
	EXPECT_ERR(vm, "return load('return 1', 'x', 'b')",
	    "t:1: load: binary chunks are not allowed in the sandbox");
	/* text chunks work, in the sandbox's own environment */
	EXPECT_OK(vm, "return load('return os')() == nil", "true");
	EXPECT_OK(vm, "return load('return ...', 'c', 'bt')(7)", "7");
	vm_free(vm);
}

static void
test_read_only_config(void **st)
{
	xz_lua_vm *vm = vm_with(0, 0, 0, NULL);

	(void) st;
	lua_newtable(vm->L);
	lua_pushinteger(vm->L, 15);
	lua_setfield(vm->L, -2, "sla_s");
	xz_lua_set_config(vm);
	EXPECT_OK(vm, "return xz.config.sla_s", "15");
	EXPECT_ERR(vm, "xz.config.sla_s = 1",
	    "t:1: xz.config is read-only (key 'sla_s')");
	EXPECT_ERR(vm, "rawset(xz.config, 'sla_s', 1)",
	    "t:1: rawset: table is read-only");
	EXPECT_ERR(vm, "setmetatable(xz.config, nil)",
	    "t:1: cannot change a protected metatable");
	EXPECT_OK(vm,
	    "local n = 0 for k, v in pairs(xz.config) do n = n + v end "
	    "return n",
	    "15");
	EXPECT_OK(vm, "local t = {} rawset(t, 'a', 1) return t.a", "1");
	vm_free(vm);
}

static void
test_infinite_loop(void **st)
{
	xz_lua_vm *vm = vm_with(0, 200000, 5000, NULL);

	(void) st;
	EXPECT_ERR(vm, "while true do end", "t:1: instruction limit exceeded");
	/* pcall cannot swallow it */
	EXPECT_ERR(vm,
	    "local ok = pcall(function() while true do end end)\n"
	    "return 'swallowed'",
	    "t:1: instruction limit exceeded");
	EXPECT_ERR(vm,
	    "for i = 1, 3 do pcall(function() while true do end end) end\n"
	    "return 'swallowed'",
	    "t:1: instruction limit exceeded");
	/* nor xpcall, even with a handler that loops too */
	EXPECT_ERR(vm,
	    "xpcall(function() while true do end end, function(e) "
	    "while true do end end)\nreturn 'swallowed'",
	    "t:1: instruction limit exceeded");
	/* the state serves the next call with a fresh budget */
	EXPECT_OK(vm, "local s = 0 for i = 1, 1000 do s = s + i end return s",
	    "500500");
	vm_free(vm);
}

static void
test_time_limit(void **st)
{
	xz_lua_vm      *vm = vm_with(0, 1000000000000ull, 50, NULL);
	struct timespec a, b;
	double          ms;

	(void) st;
	clock_gettime(CLOCK_MONOTONIC, &a);
	EXPECT_ERR(vm, "local x = 0\nwhile true do x = x + 1 end",
	    "t:2: time limit exceeded");
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (double) (b.tv_sec - a.tv_sec) * 1e3
	    + (double) (b.tv_nsec - a.tv_nsec) / 1e6;
	assert_true(ms >= 50.0);
	assert_true(ms < 1000.0);
	vm_free(vm);
}

static void
test_memory_bombs(void **st)
{
	xz_lua_vm *vm = vm_with(2048, 0, 5000, NULL);
	char       out[512];

	(void) st;
	assert_int_equal(
	    run(vm, "return string.rep('x', 1e9)", out, sizeof(out)),
	    LUA_ERRMEM);
	assert_string_equal(out, "not enough memory");
	assert_int_equal(run(vm, "local t = {} for i = 1, 1e9 do t[i] = i end",
	                     out, sizeof(out)),
	    LUA_ERRMEM);
	assert_int_equal(run(vm, "local s = 'x' while true do s = s .. s end",
	                     out, sizeof(out)),
	    LUA_ERRMEM);
	/* inside pcall: re-raised, not returned */
	assert_int_equal(run(vm,
	                     "local ok, e = pcall(string.rep, 'x', 1e9)\n"
	                     "return 'swallowed: ' .. tostring(e)",
	                     out, sizeof(out)),
	    LUA_ERRMEM);
	assert_int_equal(run(vm,
	                     "while true do pcall(function() local t = {} "
	                     "for i = 1, 1e9 do t[i] = {} end end) end",
	                     out, sizeof(out)),
	    LUA_ERRMEM);
	/* the cap held, and the state still works */
	assert_true(vm->mem_peak <= 2048u * 1024u + 256u * 1024u);
	EXPECT_OK(vm, "return #string.rep('ab', 10)", "20");
	vm_free(vm);
}

static void
test_no_finalizers(void **st)
{
	xz_lua_vm *vm = vm_with(0, 100000, 200, NULL);

	(void) st;
	/* Lua runs __gc with hooks off: a looping finalizer could never be
	 * stopped, so finalizers are refused. */
	EXPECT_ERR(vm,
	    "setmetatable({}, {__gc = function() while true do end end})",
	    "t:1: setmetatable: __gc metamethods are not allowed in the "
	    "sandbox");
	/* added later, __gc is never called (Lua marks at setmetatable) */
	EXPECT_OK(vm,
	    "local mt = {} local t = setmetatable({}, mt)\n"
	    "mt.__gc = function() while true do end end\n"
	    "t = nil return getmetatable(setmetatable({}, {__index = mt})) "
	    "~= nil",
	    "true");
	/* closing the state does not hang */
	vm_free(vm);
}

static void
test_call_in_coroutine(void **st)
{
	xz_lua_vm   *vm = vm_with(0, 100000, 5000, NULL);
	xz_lua_call *c;
	lua_State   *L = vm->L;

	(void) st;
	/* a handler call: a pooled coroutine, limits per call */
	assert_int_equal(luaL_loadstring(L,
	                     "return function(n) local s = 0 for i = 1, n do "
	                     "s = s + i end hits = (hits or 0) + 1 end"),
	    LUA_OK);
	assert_int_equal(xz_lua_pcall(vm, 0, 1), LUA_OK);
	int fn = luaL_ref(L, LUA_REGISTRYINDEX);
	for (int i = 0; i < 3; i++) {
		lua_rawgeti(L, LUA_REGISTRYINDEX, fn);
		lua_pushinteger(L, i == 1 ? 100000000 : 10);
		c = xz_lua_call_new(vm, NULL, xz_lua_call_done_reply, NULL);
		lua_xmove(L, c->co, 2);
		xz_lua_call_resume(c, 1, "test");
	}
	assert_null(vm->calls);
	/* the middle call hit the instruction limit; the others ran */
	EXPECT_OK(vm, "return hits", "2");
	luaL_unref(L, LUA_REGISTRYINDEX, fn);
	vm_free(vm);
}

static void
test_print_capture(void **st)
{
	xz_lua_vm *vm  = vm_with(0, 0, 0, NULL);
	xz_lua_buf out = { 0 };

	(void) st;
	vm->capture = &out;
	/* long enough to make print's buffer grow between its arguments */
	EXPECT_OK(vm,
	    "print(string.rep('a', 5000), 1, nil, true, 2.5) print() "
	    "return 0",
	    "0");
	assert_int_equal(out.len, 5000 + 16 + 1);
	assert_memory_equal(out.p + 5000, "\t1\tnil\ttrue\t2.5\n\n", 17);
	vm->capture = NULL;
	xz_lua_buf_free(&out);
	vm_free(vm);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_os_io_debug),
		cmocka_unit_test(test_require_only_own_modules),
		cmocka_unit_test(test_no_bytecode),
		cmocka_unit_test(test_read_only_config),
		cmocka_unit_test(test_infinite_loop),
		cmocka_unit_test(test_time_limit),
		cmocka_unit_test(test_memory_bombs),
		cmocka_unit_test(test_no_finalizers),
		cmocka_unit_test(test_call_in_coroutine),
		cmocka_unit_test(test_print_capture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
