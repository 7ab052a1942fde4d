/*
 * luavm.c - one sandboxed Lua state: counting allocator, allow-listed
 * libraries, limits enforced by a count hook that pcall cannot swallow,
 * handler calls in pooled coroutines, and require of the plugin's own
 * modules.
 *
 * Uses luajson.c and luabuf.c only; what lies above (the xz module, the
 * failure policy) is reached through the hooks given to xz_lua_vm_create.
 */
#include "lua/luapriv.h"

#include <errno.h>
#include <lualib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Error handling (message, traceback) may exceed the memory cap by this
 * much, so a state at its cap can still report why. */
#define XZ_LUA_MEM_SLACK (256u * 1024u)

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

void
xz_lua_limits_effective(const xz_lua_limits *in, xz_lua_limits *out)
{
	xz_lua_limits l = { 0 };

	if (in != NULL)
		l = *in;
	if (l.memory_limit_kb == 0)
		l.memory_limit_kb = XZ_LUA_DEFAULT_MEMORY_KB;
	if (l.instruction_limit == 0)
		l.instruction_limit = XZ_LUA_DEFAULT_INSTRUCTIONS;
	if (l.time_limit_ms == 0)
		l.time_limit_ms = XZ_LUA_DEFAULT_TIME_MS;
	if (l.max_failures == 0)
		l.max_failures = XZ_LUA_DEFAULT_MAX_FAILURES;
	*out = l;
}

const char *
xz_lua_limit_text(int kind)
{
	switch (kind) {
	case XZ_LUA_LIMIT_INSTR:
		return "instruction limit exceeded";
	case XZ_LUA_LIMIT_TIME:
		return "time limit exceeded";
	case XZ_LUA_LIMIT_MEMORY:
		return "memory limit exceeded";
	case XZ_LUA_LIMIT_CLOSING:
		return "state is closing";
	default:
		return "no limit";
	}
}

/* The allocator counts every byte of the state against mem_limit. */
static void *
vm_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	xz_lua_vm *vm = ud;
	void      *np;

	if (ptr == NULL)
		osize = 0; /* osize is then a type tag */
	if (nsize == 0) {
		free(ptr);
		vm->mem_used -= osize;
		return NULL;
	}
	if (nsize > osize && vm->mem_limit != 0) {
		size_t cap
		    = vm->mem_limit + (vm->mem_slack ? XZ_LUA_MEM_SLACK : 0);
		if (vm->mem_used + (nsize - osize) > cap)
			return NULL; /* Lua collects and retries, then
			                LUA_ERRMEM */
	}
	if ((np = realloc(ptr, nsize)) == NULL)
		return NULL;
	vm->mem_used = vm->mem_used - osize + nsize;
	if (vm->mem_used > vm->mem_peak)
		vm->mem_peak = vm->mem_used;
	return np;
}

xz_lua_call *
xz_lua_call_current(lua_State *L)
{
	return *(xz_lua_call **) lua_getextraspace(L);
}

/* Raise "SRC:LINE: <limit text>" where the script is running. */
static void
raise_limit(lua_State *L, xz_lua_vm *vm, lua_Debug *ar)
{
	lua_getinfo(L, "Sl", ar);
	vm->mem_slack = 1;
	if (ar->currentline > 0)
		lua_pushfstring(L, "%s:%d: %s", ar->short_src, ar->currentline,
		    xz_lua_limit_text(vm->limit_hit));
	else
		lua_pushstring(L, xz_lua_limit_text(vm->limit_hit));
	lua_error(L);
}

/*
 * The count hook. Once a limit is hit the hook fires on every instruction
 * and raises again, so code that catches the error (a pcall we did not
 * wrap, an error handler, a finalizer) cannot keep running.
 */
static void
vm_hook(lua_State *L, lua_Debug *ar)
{
	xz_lua_vm *vm = xz_lua_vm_of(L);

	if (vm->limit_hit != XZ_LUA_LIMIT_NONE) {
		raise_limit(L, vm, ar);
		return;
	}
	if (!vm->limited)
		return;
	vm->instr_used += XZ_LUA_HOOK_STEP;
	if (vm->instr_used > vm->lim.instruction_limit)
		vm->limit_hit = XZ_LUA_LIMIT_INSTR;
	else if (now_ns() > vm->deadline_ns)
		vm->limit_hit = XZ_LUA_LIMIT_TIME;
	else
		return;
	lua_sethook(L, vm_hook, LUA_MASKCOUNT, 1);
	raise_limit(L, vm, ar);
}

void
xz_lua_limits_begin(xz_lua_vm *vm, lua_State *L)
{
	vm->instr_used = 0;
	vm->deadline_ns
	    = now_ns() + (uint64_t) vm->lim.time_limit_ms * 1000000u;
	vm->limit_hit = XZ_LUA_LIMIT_NONE;
	vm->mem_slack = 0;
	vm->limited   = 1;
	lua_sethook(L, vm_hook, LUA_MASKCOUNT, XZ_LUA_HOOK_STEP);
}

void
xz_lua_limits_end(xz_lua_vm *vm)
{
	vm->limited   = 0;
	vm->limit_hit = XZ_LUA_LIMIT_NONE;
	vm->mem_slack = 0;
}

void
xz_lua_log(xz_lua_vm *vm, int level, const char *fmt, ...)
{
	char    msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (vm->host != NULL)
		vm->host->log(vm->self, level, "%s", msg);
	else
		fprintf(
		    stderr, "lua %s: %s\n", vm->name ? vm->name : "?", msg);
}

/* ---- sandboxed base functions ---- */

/* Continuation of the pcall/xpcall wrappers: a limit or memory error is
 * raised again instead of being returned. */
static int
finish_pcall(lua_State *L, int status, lua_KContext extra)
{
	xz_lua_vm *vm = xz_lua_vm_of(L);

	if (status != LUA_OK && status != LUA_YIELD) {
		if (status == LUA_ERRMEM && vm->limit_hit == XZ_LUA_LIMIT_NONE)
			vm->limit_hit = XZ_LUA_LIMIT_MEMORY;
		if (vm->limit_hit != XZ_LUA_LIMIT_NONE)
			return lua_error(L);
		lua_pushboolean(L, 0);
		lua_pushvalue(L, -2);
		return 2;
	}
	return lua_gettop(L) - (int) extra;
}

static int
sb_pcall(lua_State *L)
{
	int status;

	luaL_checkany(L, 1);
	lua_pushboolean(L, 1);
	lua_insert(L, 1);
	status = lua_pcallk(
	    L, lua_gettop(L) - 2, LUA_MULTRET, 0, 0, finish_pcall);
	return finish_pcall(L, status, 0);
}

/*
 * The message handler of xpcall, around the script's own. A limit error
 * is raised from the count hook, and Lua runs message handlers before it
 * unwinds, with hooks still disabled: the script's handler must not run
 * then, or `xpcall(f, function() while true do end end)` would spin.
 */
static int
xpcall_msgh(lua_State *L)
{
	xz_lua_vm *vm = xz_lua_vm_of(L);

	if (vm->limit_hit != XZ_LUA_LIMIT_NONE)
		return 1;
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

static int
sb_xpcall(lua_State *L)
{
	int n = lua_gettop(L);
	int status;

	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_pushvalue(L, 2);
	lua_pushcclosure(L, xpcall_msgh, 1);
	lua_replace(L, 2);
	lua_pushboolean(L, 1);
	lua_pushvalue(L, 1);
	lua_rotate(L, 3, 2);
	status = lua_pcallk(L, n - 2, LUA_MULTRET, 2, 2, finish_pcall);
	return finish_pcall(L, status, 2);
}

/* print() writes one log line (or into the console's capture). */
static int
sb_print(lua_State *L)
{
	xz_lua_vm  *vm = xz_lua_vm_of(L);
	luaL_Buffer b;
	int         n = lua_gettop(L);

	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		/* buffer operations must see the stack as they left it */
		if (i > 1)
			luaL_addchar(&b, '\t');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	if (vm->capture != NULL) {
		size_t      l;
		const char *s = lua_tolstring(L, -1, &l);
		if (xz_lua_buf_add(vm->capture, s, l) != 0
		    || xz_lua_buf_add(vm->capture, "\n", 1) != 0)
			return luaL_error(L, "print: out of memory");
	} else {
		xz_lua_log(vm, XZ_LOG_INFO, "%s", lua_tostring(L, -1));
	}
	return 0;
}

/* load() of text only, never bytecode; the default env is the sandbox. */
static int
sb_load(lua_State *L)
{
	int n = lua_gettop(L);

	if (n < 1)
		return luaL_error(
		    L, "bad argument #1 to 'load' (value expected)");
	if (n < 3)
		lua_settop(L, 3);
	else if (!lua_isnoneornil(L, 3)) {
		const char *mode = luaL_checkstring(L, 3);
		if (strchr(mode, 't') == NULL)
			return luaL_error(L,
			    "load: binary chunks are not "
			    "allowed in the sandbox");
	}
	lua_pushliteral(L, "t");
	lua_replace(L, 3);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

/*
 * setmetatable without finalizers: Lua runs __gc with hooks disabled, so
 * no instruction or time limit could stop a looping one. (A __gc added to
 * the metatable later is never called: Lua marks objects for finalization
 * when the metatable is set.)
 */
static int
sb_setmetatable(lua_State *L)
{
	int t = lua_type(L, 2);

	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_argexpected(
	    L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
	if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
		return luaL_error(L, "cannot change a protected metatable");
	if (t == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) != LUA_TNIL)
			return luaL_error(L,
			    "setmetatable: __gc metamethods "
			    "are not allowed in the sandbox");
		lua_pop(L, 1);
	}
	lua_settop(L, 2);
	lua_setmetatable(L, 1);
	return 1;
}

static int
is_protected(lua_State *L, int idx)
{
	xz_lua_vm *vm = xz_lua_vm_of(L);
	int        r;

	idx = lua_absindex(L, idx);
	lua_rawgeti(L, LUA_REGISTRYINDEX, vm->ref_protected);
	lua_pushvalue(L, idx);
	r = lua_rawget(L, -2) != LUA_TNIL;
	lua_pop(L, 2);
	return r;
}

static int
sb_rawset(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checkany(L, 2);
	luaL_checkany(L, 3);
	if (is_protected(L, 1))
		return luaL_error(L, "rawset: table is read-only");
	lua_settop(L, 3);
	lua_rawset(L, 1);
	return 1;
}

void
xz_lua_protect(lua_State *L, int idx)
{
	xz_lua_vm *vm = xz_lua_vm_of(L);

	idx = lua_absindex(L, idx);
	lua_rawgeti(L, LUA_REGISTRYINDEX, vm->ref_protected);
	lua_pushvalue(L, idx);
	lua_pushboolean(L, 1);
	lua_rawset(L, -3);
	lua_pop(L, 1);
}

int
xz_lua_loadfile(lua_State *L, const char *path, const char *chunkname)
{
	FILE       *f;
	char       *src = NULL;
	size_t      len = 0, cap = 0;
	int         st;
	char        buf[4096];
	size_t      n;
	const char *data;

	if ((f = fopen(path, "rb")) == NULL) {
		lua_pushfstring(
		    L, "%s: cannot open: %s", path, strerror(errno));
		return LUA_ERRFILE;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (len + n + 1 > cap) {
			size_t nc = cap ? cap * 2 : 8192;
			char  *np;
			while (nc < len + n + 1)
				nc *= 2;
			if ((np = realloc(src, nc)) == NULL) {
				free(src);
				fclose(f);
				lua_pushfstring(L, "%s: out of memory", path);
				return LUA_ERRMEM;
			}
			src = np;
			cap = nc;
		}
		memcpy(src + len, buf, n);
		len += n;
	}
	fclose(f);
	data = src ? src : "";
	/* A leading #! line is a comment, as in the lua interpreter. */
	if (len > 0 && data[0] == '#') {
		size_t i = 0;
		while (i < len && data[i] != '\n')
			i++;
		/* keep the newline so line numbers stay right */
		st = luaL_loadbufferx(L, data + i, len - i, chunkname, "t");
	} else {
		st = luaL_loadbufferx(L, data, len, chunkname, "t");
	}
	free(src);
	return st;
}

/* require(name): the plugin's own modules, files next to the script, then
 * the modules Lua plugins share, in ../common/lua beside the plugin's
 * folder (plugins/common/lua in the source tree, lib/xiezhi/plugins/common/lua
 * installed); each compiled in this sandbox. A shared module that requires
 * a name gets the plugin's own module first (schema.lua takes the plugin's
 * msg.lua). */
/* path = DIR SUB / name with dots as slashes .lua; whether it is readable. */
static bool
module_path(char *path, size_t size, const char *dir, const char *sub,
    const char *name)
{
	int n = snprintf(path, size, "%s%s/", dir, sub);

	if (n < 0 || (size_t) n >= size)
		return false;
	for (size_t i = 0; name[i] != '\0' && n < (int) size - 8; i++)
		path[n++] = name[i] == '.' ? '/' : name[i];
	snprintf(path + n, size - (size_t) n, ".lua");
	return access(path, R_OK) == 0;
}

static int
sb_require(lua_State *L)
{
	xz_lua_vm  *vm   = xz_lua_vm_of(L);
	const char *name = luaL_checkstring(L, 1);
	size_t      len  = strlen(name);
	char        path[4096];
	char        chunk[4100];

	if (len == 0 || len > 200 || name[0] == '.' || name[len - 1] == '.'
	    || strstr(name, "..") != NULL
	    || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_.") != len)
		return luaL_error(L,
		    "require: module name '%s' not allowed (only the "
		    "plugin's own modules, [a-z0-9_.]+)",
		    name);
	lua_rawgeti(L, LUA_REGISTRYINDEX, vm->ref_modules);
	lua_getfield(L, -1, name);
	if (lua_islightuserdata(L, -1))
		return luaL_error(
		    L, "require: module '%s' requires itself", name);
	if (!lua_isnil(L, -1))
		return 1;
	lua_pop(L, 1);
	if (vm->dir == NULL)
		return luaL_error(L,
		    "require: module '%s' not found (this "
		    "state has no plugin directory)",
		    name);
	if (!module_path(path, sizeof(path), vm->dir, "", name)) {
		char own[4096];

		memcpy(own, path, sizeof(own));
		if (!module_path(
		        path, sizeof(path), vm->dir, "/../common/lua", name))
			return luaL_error(L,
			    "require: module '%s' not found: no file '%s' "
			    "(only the "
			    "plugin's own modules and the shared ones of "
			    "plugins/common/lua can be required)",
			    name, own);
	}
	snprintf(chunk, sizeof(chunk), "@%s", path);
	lua_pushlightuserdata(L, (void *) &xz_lua_null_tag);
	lua_setfield(L, -2, name); /* loading: catch loops */
	if (xz_lua_loadfile(L, path, chunk) != LUA_OK) {
		lua_pushnil(L);
		lua_setfield(L, -3, name);
		return lua_error(L);
	}
	lua_pushstring(L, name);
	lua_call(L, 1, 1);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_pushboolean(L, 1);
	}
	lua_pushvalue(L, -1);
	lua_setfield(L, -3, name);
	return 1;
}

/*
 * Pattern functions run in C, where the count hook cannot stop them, and
 * Lua's matcher backtracks: a pattern with q repetitions (x*, x+, x-) can
 * take about n^(q+1) steps on a subject of n bytes (n^q when anchored with
 * ^), and each x? doubles that. Before string.find (unless plain),
 * string.match, string.gmatch and string.gsub run, that worst case is
 * computed from the pattern and the subject's length; above
 * XZ_LUA_PATTERN_BUDGET steps (well under a second of one core) the call is
 * refused with an error naming the sizes, so no single call can hold a
 * worker. Typical uses fit easily: one repetition allows subjects up to
 * 10 KB, none up to the memory limit; a plain find is never limited.
 */
#define XZ_LUA_PATTERN_BUDGET 1e8

/* Worst-case steps of pattern p (length pl) on a subject of n bytes. */
static double
pattern_cost(const char *p, size_t pl, size_t n)
{
	double cost = 1.0, dn = n > 0 ? (double) n : 1.0;
	size_t i = 0;

	if (pl > 0 && p[0] == '^') {
		i = 1;
	} else {
		cost = dn; /* tried at every start position */
	}
	while (i < pl) {
		size_t end = i; /* one single-character class: [i, end) */
		if (p[i] == '%' && i + 1 < pl) {
			if (p[i + 1] == 'b') { /* %bxy scans ahead: one n */
				cost *= dn;
				i += 4;
				continue;
			}
			if (p[i + 1] == 'f') { /* %f[set]: a frontier */
				i += 2;
				if (i < pl && p[i] == '[') {
					i++;
					if (i < pl && p[i] == '^')
						i++;
					if (i < pl)
						i++; /* a first ']' is literal
						      */
					while (i < pl && p[i] != ']')
						i += (p[i] == '%'
						         && i + 1 < pl)
						    ? 2
						    : 1;
					i++;
				}
				continue;
			}
			end = i + 2;
		} else if (p[i] == '[') {
			end = i + 1;
			if (end < pl && p[end] == '^')
				end++;
			if (end < pl)
				end++; /* a first ']' is literal */
			while (end < pl && p[end] != ']')
				end += (p[end] == '%' && end + 1 < pl) ? 2 : 1;
			end++;
		} else if (p[i] == '(' || p[i] == ')'
		    || (p[i] == '$' && i + 1 == pl)) {
			i++;
			continue;
		} else {
			end = i + 1;
		}
		if (end < pl
		    && (p[end] == '*' || p[end] == '+' || p[end] == '-')) {
			cost *= dn;
			end++;
		} else if (end < pl && p[end] == '?') {
			cost *= 2.0;
			end++;
		}
		i = end;
	}
	return cost;
}

/* The guard in front of one pattern function: upvalue 1 the original,
 * upvalue 2 its name; refuses before calling it when too costly. */
static int
sb_pattern(lua_State *L)
{
	const char *name = lua_tostring(L, lua_upvalueindex(2));
	size_t      n = 0, pl = 0;
	int         plain = strcmp(name, "find") == 0 && lua_toboolean(L, 4);

	if (!plain && lua_type(L, 1) == LUA_TSTRING
	    && lua_type(L, 2) == LUA_TSTRING) {
		const char *pat = lua_tolstring(L, 2, &pl);
		(void) lua_tolstring(L, 1, &n);
		if (pattern_cost(pat, pl, n) > XZ_LUA_PATTERN_BUDGET)
			return luaL_error(L,
			    "string.%s: a subject of %d bytes is too long for "
			    "this pattern (its worst case is about n^k steps "
			    "for k repetitions; see docs/lua.md): split the "
			    "subject, anchor the pattern or use a plain find",
			    name, (int) n);
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

/* Names kept from the base library. */
static const char *const base_keep[]
    = { "assert", "error", "getmetatable", "ipairs", "next", "pairs",
	      "rawequal", "rawget", "rawlen", "select", "setmetatable",
	      "tonumber", "tostring", "type", "_VERSION", "_G", NULL };

static void
open_sandbox(lua_State *L)
{
	luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
	/* Keep the original load as the upvalue of the text-only one. */
	lua_getfield(L, -1, "load");
	lua_pushcclosure(L, sb_load, 1);
	lua_setfield(L, -2, "load");
	lua_pushcfunction(L, sb_setmetatable);
	lua_setfield(L, -2, "setmetatable");
	/* Strip everything not on the allow-list. */
	lua_pushnil(L);
	while (lua_next(L, -2) != 0) {
		const char *k    = lua_tostring(L, -2);
		int         keep = 0;
		lua_pop(L, 1);
		for (int i = 0; base_keep[i] != NULL; i++)
			if (strcmp(k, base_keep[i]) == 0)
				keep = 1;
		if (strcmp(k, "load") == 0)
			keep = 1;
		if (!keep) {
			lua_pushvalue(L, -1);
			lua_pushnil(L);
			lua_rawset(L, -4);
		}
	}
	lua_pushcfunction(L, sb_pcall);
	lua_setfield(L, -2, "pcall");
	lua_pushcfunction(L, sb_xpcall);
	lua_setfield(L, -2, "xpcall");
	lua_pushcfunction(L, sb_print);
	lua_setfield(L, -2, "print");
	lua_pushcfunction(L, sb_rawset);
	lua_setfield(L, -2, "rawset");
	lua_pushcfunction(L, sb_require);
	lua_setfield(L, -2, "require");
	lua_pop(L, 1);

	luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
	/* The string metatable's __index is this very table: removing dump
	 * here removes ("").dump too. */
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	for (int i = 0; i < 4; i++) {
		static const char *const guarded[]
		    = { "find", "match", "gmatch", "gsub" };
		lua_getfield(L, -1, guarded[i]);
		lua_pushstring(L, guarded[i]);
		lua_pushcclosure(L, sb_pattern, 2);
		lua_setfield(L, -2, guarded[i]);
	}
	lua_pop(L, 1);
	luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
	lua_pop(L, 1);
	luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
	lua_pop(L, 1);
	luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
	lua_pop(L, 1);
}

static int
vm_setup(lua_State *L)
{
	xz_lua_vm *vm = lua_touserdata(L, 1);

	lua_newtable(L);
	vm->ref_modules = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_newtable(L);
	lua_newtable(L);
	lua_pushliteral(L, "k");
	lua_setfield(L, -2, "__mode");
	lua_setmetatable(L, -2);
	vm->ref_protected = luaL_ref(L, LUA_REGISTRYINDEX);
	open_sandbox(L);
	vm->hooks->open(L, vm);
	return 0;
}

xz_lua_vm *
xz_lua_vm_create(const xz_lua_vm_hooks *hooks, const xz_lua_limits *lim,
    const xz_host *host, xz_plugin *self, const char *name,
    const char *script_path)
{
	xz_lua_vm *vm = calloc(1, sizeof(*vm));
	int        st;

	if (vm == NULL)
		return NULL;
	vm->hooks = hooks;
	xz_lua_limits_effective(lim, &vm->lim);
	vm->mem_limit    = (size_t) vm->lim.memory_limit_kb * 1024u;
	vm->host         = host;
	vm->self         = self;
	vm->name         = name;
	vm->refs         = 1;
	vm->ref_plugin   = LUA_NOREF;
	vm->ref_array_mt = LUA_NOREF;
	if (script_path != NULL) {
		const char *slash = strrchr(script_path, '/');
		vm->dir           = slash
		              ? strndup(script_path, (size_t) (slash - script_path))
		              : strdup(".");
		if (vm->dir == NULL) {
			free(vm);
			return NULL;
		}
	}
	if ((vm->L = lua_newstate(vm_alloc, vm)) == NULL) {
		free(vm->dir);
		free(vm);
		return NULL;
	}
	*(xz_lua_call **) lua_getextraspace(vm->L) = NULL;
	lua_pushcfunction(vm->L, vm_setup);
	lua_pushlightuserdata(vm->L, vm);
	vm->mem_slack = 1;
	st            = lua_pcall(vm->L, 1, 0, 0);
	vm->mem_slack = 0;
	if (st != LUA_OK) {
		lua_close(vm->L);
		free(vm->dir);
		free(vm);
		return NULL;
	}
	return vm;
}

/* ---- protected entries and calls ---- */

struct protect_args {
	int (*fn)(lua_State *L, void *ud);
	void *ud;
};

static int
protect_tramp(lua_State *L)
{
	struct protect_args *a = lua_touserdata(L, 1);

	lua_pop(L, 1);
	return a->fn(L, a->ud);
}

int
xz_lua_vm_protect(xz_lua_vm *vm, const char *what,
    int (*fn)(lua_State *L, void *ud), void *ud)
{
	struct protect_args a = { fn, ud };
	lua_State          *L = vm->L;
	int                 st;

	if (L == NULL)
		return LUA_ERRRUN;
	lua_pushcfunction(L, protect_tramp);
	lua_pushlightuserdata(L, &a);
	st = lua_pcall(L, 1, 0, 0);
	if (st != LUA_OK) {
		const char *m = lua_tostring(L, -1);
		int         k = st == LUA_ERRMEM ? XZ_LUA_LIMIT_MEMORY
		                                 : XZ_LUA_LIMIT_NONE;
		vm->hooks->failed(vm, what, m ? m : "error", k);
		lua_settop(L, 0);
	}
	return st;
}

/* A coroutine anchored in the registry (ref in *ref); give it back with
 * co_put, which pools it or drops the ref. */
static lua_State *
co_get(xz_lua_vm *vm, int *ref)
{
	lua_State *co;

	if (vm->npool > 0) {
		vm->npool--;
		*ref = vm->pool_ref[vm->npool];
		return vm->pool[vm->npool];
	}
	co   = lua_newthread(vm->L);
	*ref = luaL_ref(vm->L, LUA_REGISTRYINDEX);
	return co;
}

static void
co_put(xz_lua_vm *vm, lua_State *co, int ref, int reusable)
{
	if (vm->L == NULL)
		return;
	*(xz_lua_call **) lua_getextraspace(co) = NULL;
	if (reusable
	    && vm->npool < (int) (sizeof(vm->pool) / sizeof(vm->pool[0]))) {
		lua_settop(co, 0);
		vm->pool[vm->npool]     = co;
		vm->pool_ref[vm->npool] = ref;
		vm->npool++;
		return;
	}
	luaL_unref(vm->L, LUA_REGISTRYINDEX, ref);
}

xz_lua_call *
xz_lua_call_new(xz_lua_vm *vm, const xz_msg     *req,
    void (*done)(xz_lua_call *, int, int), void *done_ud)
{
	xz_lua_call *c;
	int          ref;
	lua_State   *co = co_get(vm, &ref);

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		co_put(vm, co, ref, 1);
		luaL_error(vm->L, "out of memory");
		return NULL;
	}
	c->vm      = vm;
	c->co      = co;
	c->co_ref  = ref;
	c->req     = req;
	c->done    = done;
	c->done_ud = done_ud;
	c->next    = vm->calls;
	if (vm->calls != NULL)
		vm->calls->prev = c;
	vm->calls                               = c;
	*(xz_lua_call **) lua_getextraspace(co) = c;
	return c;
}

static void
call_free(xz_lua_call *c, int reusable)
{
	xz_lua_vm *vm = c->vm;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		vm->calls = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->retained && vm->host != NULL)
		vm->host->msg_release(vm->self, c->req);
	co_put(vm, c->co, c->co_ref, reusable);
	free(c);
	if (vm->enc.cap > XZ_LUA_ENC_KEEP)
		xz_lua_buf_free(&vm->enc);
}

void
xz_lua_call_done_reply(xz_lua_call *c, int ok, int nres)
{
	xz_lua_vm *vm = c->vm;
	char       err[256];

	if (c->req == NULL || c->replied || c->req->kind != XZ_KIND_REQUEST
	    || vm->host == NULL)
		return;
	if (!ok) {
		/* the first line: file:line and message, no traceback */
		const char *m = lua_tostring(vm->L, -1);
		char        line[512];
		m = m ? m : "script error";
		snprintf(
		    line, sizeof(line), "%.*s", (int) strcspn(m, "\n"), m);
		c->replied = 1;
		vm->host->reply_error(
		    vm->self, c->req, XZ_REPLY_INTERNAL, line);
		return;
	}
	if (nres < 1 || lua_isnil(c->co, -nres))
		return;
	vm->enc.len = 0;
	if (xz_lua_json_encode(vm, c->co, -nres, &vm->enc, err, sizeof(err))
	    != 0) {
		c->replied = 1;
		vm->host->reply_error(
		    vm->self, c->req, XZ_REPLY_INTERNAL, err);
		xz_lua_log(
		    vm, XZ_LOG_ERROR, "reply to %s: %s", c->req->topic, err);
		return;
	}
	c->replied = 1;
	vm->host->reply(vm->self, c->req, vm->enc.p, vm->enc.len);
}

/* The message of the error at the top of co, with co's traceback, pushed
 * on the main state. */
static void
push_error(xz_lua_vm *vm, lua_State *co)
{
	const char *m;

	vm->mem_slack = 1;
	if ((m = lua_tostring(co, -1)) == NULL) {
		if (lua_isnil(co, -1))
			m = "error (nil error object)";
		else
			m = lua_pushfstring(co, "(error object is a %s value)",
			    luaL_typename(co, -1));
	}
	luaL_traceback(vm->L, co, m, 0);
}

void
xz_lua_call_resume(xz_lua_call *c, int nargs, const char *what)
{
	xz_lua_vm *vm   = c->vm;
	int        nres = 0, st, lim;

	c->waiting = 0;
	if (what != NULL)
		snprintf(c->what, sizeof(c->what), "%s", what);
	what = c->what;
	xz_lua_limits_begin(vm, c->co);
	st  = lua_resume(c->co, vm->L, nargs, &nres);
	lim = vm->limit_hit;
	if (st == LUA_ERRMEM && lim == XZ_LUA_LIMIT_NONE)
		lim = XZ_LUA_LIMIT_MEMORY;
	if (st == LUA_YIELD) {
		xz_lua_limits_end(vm);
		if (!c->waiting) {
			lua_settop(c->co, 0);
			lua_pushfstring(
			    vm->L, "%s: yield outside xz.request", what);
			c->done(c, 0, 0);
			lua_pop(vm->L, 1);
			call_free(c, 0);
			return;
		}
		/* Suspended in xz.request: keep the request being handled. */
		if (c->req != NULL && !c->retained && vm->host != NULL) {
			c->req      = vm->host->msg_retain(vm->self, c->req);
			c->retained = 1;
		}
		return;
	}
	if (st == LUA_OK) {
		xz_lua_limits_end(vm);
		c->done(c, 1, nres);
		vm->hooks->ok(vm);
		call_free(c, 1);
		return;
	}
	push_error(vm, c->co);
	xz_lua_limits_end(vm);
	c->done(c, 0, 0);
	vm->hooks->failed(vm, what, lua_tostring(vm->L, -1), lim);
	lua_pop(vm->L, 1);
	call_free(c, 0);
}

static int
msgh(lua_State *L)
{
	xz_lua_vm  *vm = xz_lua_vm_of(L);
	const char *m  = lua_tostring(L, 1);

	vm->mem_slack = 1;
	if (m == NULL)
		m = lua_pushfstring(
		    L, "(error object is a %s value)", luaL_typename(L, 1));
	luaL_traceback(L, L, m, 1);
	return 1;
}

int
xz_lua_pcall(xz_lua_vm *vm, int nargs, int nres)
{
	lua_State *L    = vm->L;
	int        base = lua_gettop(L) - nargs;
	int        st;

	lua_pushcfunction(L, msgh);
	lua_insert(L, base);
	xz_lua_limits_begin(vm, L);
	st = lua_pcall(L, nargs, nres, base);
	xz_lua_limits_end(vm);
	lua_remove(L, base);
	return st;
}

/* ---- teardown ---- */

void
xz_lua_vm_detach(xz_lua_vm *vm)
{
	for (size_t i = 0; i < vm->nsubs; i++) {
		if (vm->host != NULL)
			vm->host->unsubscribe(vm->self, vm->subs[i]->id);
		free(vm->subs[i]);
	}
	vm->nsubs = 0;
	for (size_t i = 0; i < vm->ntimers; i++) {
		xz_lua_timer *t = vm->timers[i];
		if (vm->host != NULL && !t->cancelled)
			vm->host->timer_cancel(vm->self, t->id);
		t->cancelled = 1;
		if (!t->firing)
			free(t);
	}
	vm->ntimers  = 0;
	vm->detached = 1;
}

void
xz_lua_vm_retire(xz_lua_vm *vm)
{
	if (vm == NULL || vm->L == NULL)
		return;
	xz_lua_vm_detach(vm);
	while (vm->calls != NULL) {
		xz_lua_call *c = vm->calls;
		vm->calls      = c->next;
		if (c->retained && vm->host != NULL) {
			/* A request its handler never answered: say so now
			 * rather than let the caller wait for its deadline. */
			if (!c->replied && c->req->kind == XZ_KIND_REQUEST)
				vm->host->reply_error(vm->self, c->req,
				    "unavailable",
				    "the handler was stopped (reload or "
				    "shutdown) before it answered");
			vm->host->msg_release(vm->self, c->req);
		}
		free(c);
	}
	/* Finalizers still run at close: give them no budget at all. */
	vm->limit_hit = XZ_LUA_LIMIT_CLOSING;
	vm->limited   = 1;
	vm->mem_slack = 1;
	lua_sethook(vm->L, vm_hook, LUA_MASKCOUNT, 1);
	lua_close(vm->L);
	vm->L     = NULL;
	vm->npool = 0;
	xz_lua_buf_free(&vm->enc);
	free(vm->subs);
	vm->subs    = NULL;
	vm->capsubs = 0;
	free(vm->timers);
	vm->timers    = NULL;
	vm->captimers = 0;
}

void
xz_lua_vm_unref(xz_lua_vm *vm)
{
	if (vm == NULL || --vm->refs > 0)
		return;
	xz_lua_vm_retire(vm);
	free(vm->dir);
	free(vm);
}
