/*
 * luahost.c - Lua plugins and operator scripts as kernel plugins.
 *
 * xz_lua_describe() runs the script once in a scratch state (no node
 * behind its xz module) to read its name, version and options schema, and
 * builds an xz_plugin_ext whose callbacks drive the real state:
 *
 *   init    new vm: xz.config from the validated options, run the chunk
 *           (operator scripts subscribe here), subscribe the returned
 *           table's handlers, call its init(cfg)
 *   start   plugin.start()
 *   stop    plugin.stop()
 *   fini    retire the vm; free requests still outstanding
 *   reload  the new code described again (its option schema, the
 *           entry's options resolved against it), a new vm as in init +
 *           start; only then the old one is stopped and retired, in the
 *           same actor turn
 */
#include "lua/luahost.h"
#include "lua/luapriv.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- diagnostics ---- */

/*
 * Turn a Lua message "CHUNK:LINE: text\ntraceback" into a FILE:LINE
 * diagnostic on the resolved path (Lua shortens long chunk names).
 */
static void
diag_lua(
    xz_diag *d, const lua_desc_ctx *ctx, const char *prefix, const char *msg)
{
	const char *shown = ctx->chunk + 1;
	size_t      sl    = strlen(shown);
	size_t      len   = strcspn(msg, "\n");
	int         line  = 0;
	const char *rest  = msg;
	const char *c     = memchr(msg, ':', len);

	/* "NAME:LINE: text" where NAME is our chunk name, or its tail after
	 * "..." when Lua shortened it; another name (a required module)
	 * stays in the text. */
	while (c != NULL && !isdigit((unsigned char) c[1]))
		c = memchr(c + 1, ':', len - (size_t) (c + 1 - msg));
	if (c != NULL) {
		size_t pl   = (size_t) (c - msg);
		int    ours = (pl == sl && strncmp(msg, shown, sl) == 0)
		    || (pl > 3 && strncmp(msg, "...", 3) == 0 && pl - 3 <= sl
		        && strncmp(msg + 3, shown + sl - (pl - 3), pl - 3)
		            == 0);
		char *end;
		long  n = strtol(c + 1, &end, 10);
		if (ours && *end == ':') {
			line = (int) n;
			rest = end + 1;
			while (*rest == ' ')
				rest++;
		}
	}
	len -= (size_t) (rest - msg);
	xz_diag_add(d, ctx->path, line, "%s%.*s", prefix, (int) len, rest);
}

/* Line of the first occurrence of needle in the script (after the line
 * `after`), or `after` when absent. */
static int
source_line(const char *path, const char *needle, int after)
{
	FILE *f = fopen(path, "r");
	char  buf[1024];
	int   line = 0;

	if (f == NULL)
		return after;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		line++;
		if (line >= after && strstr(buf, needle) != NULL) {
			fclose(f);
			return line;
		}
	}
	fclose(f);
	return after;
}

/* ---- the handlers table ---- */

/* One entry of a plugin's handlers table: the value on top of L's stack
 * (its pattern key below it) is a function, or a table
 * { fn = function, durable = boolean } (docs/lua.md, "Handlers"). On
 * success the function replaces the value and *durable says which
 * subscription it wants: 0. Else -1, the value left, and the reason
 * (the pattern named) in d at the pattern's line. */
static int
handler_entry(lua_State *L, const char *path, xz_diag *d, bool *durable)
{
	const char *pat = lua_tostring(L, -2);
	int line = source_line(path, pat, source_line(path, "handlers", 1));
	int t;

	*durable = false;
	if (lua_isfunction(L, -1))
		return 0;
	if (!lua_istable(L, -1)) {
		xz_diag_add(d, path, line,
		    "handlers['%s'] must be a function or a table { fn = "
		    "function, durable = boolean }, got %s",
		    pat, luaL_typename(L, -1));
		return -1;
	}
	lua_pushnil(L);
	while (lua_next(L, -2) != 0) {
		const char *k = lua_type(L, -2) == LUA_TSTRING
		    ? lua_tostring(L, -2)
		    : NULL;
		if (k == NULL
		    || (strcmp(k, "fn") != 0 && strcmp(k, "durable") != 0)) {
			xz_diag_add(d, path, line,
			    "handlers['%s']: unknown field '%s' (fields: fn, "
			    "durable)",
			    pat, k != NULL ? k : luaL_typename(L, -2));
			lua_pop(L, 2);
			return -1;
		}
		lua_pop(L, 1);
	}
	t = lua_getfield(L, -1, "durable");
	if (t != LUA_TNIL && t != LUA_TBOOLEAN) {
		xz_diag_add(d, path, line,
		    "handlers['%s']: field 'durable' must be a boolean, got "
		    "%s",
		    pat, lua_typename(L, t));
		lua_pop(L, 1);
		return -1;
	}
	*durable = lua_toboolean(L, -1);
	lua_pop(L, 1);
	t = lua_getfield(L, -1, "fn");
	if (t != LUA_TFUNCTION) {
		xz_diag_add(d, path, line,
		    "handlers['%s']: field 'fn' must be a function, got %s",
		    pat, lua_typename(L, t));
		lua_pop(L, 1);
		return -1;
	}
	lua_replace(L, -2);
	return 0;
}

/* ---- the options schema ---- */

static void
free_opts(xz_option_decl *o, size_t n)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free((char *) o[i].name);
		free((char *) o[i].def);
		free((char *) o[i].description);
	}
	free(o);
}

static const char *
opt_type_word(int t)
{
	switch (t) {
	case XZ_OPT_INT:
		return "an integer";
	case XZ_OPT_FLOAT:
		return "a number";
	case XZ_OPT_BOOL:
		return "a boolean";
	default:
		return "a string";
	}
}

static int
opt_type_of(const char *s)
{
	if (strcmp(s, "int") == 0)
		return XZ_OPT_INT;
	if (strcmp(s, "float") == 0)
		return XZ_OPT_FLOAT;
	if (strcmp(s, "bool") == 0)
		return XZ_OPT_BOOL;
	if (strcmp(s, "string") == 0)
		return XZ_OPT_STRING;
	return 0;
}

static int read_option_(lua_State *L, lua_desc_ctx *ctx, int i, int opts_line,
    xz_option_decl *o, xz_diag *d);

/* Read one entry of `options` (table at the top of L, left there) into o.
 * Returns 0 or -1 with a diagnostic. */
static int
read_option(lua_State *L, lua_desc_ctx *ctx, int i, int opts_line,
    xz_option_decl *o, xz_diag *d)
{
	int top = lua_gettop(L);
	int r   = read_option_(L, ctx, i, opts_line, o, d);

	lua_settop(L, top);
	return r;
}

static int
read_option_(lua_State *L, lua_desc_ctx *ctx, int i, int opts_line,
    xz_option_decl *o, xz_diag *d)
{
	char        where[160];
	char        def[64];
	const char *name;
	int         t, line;

	if (!lua_istable(L, -1)) {
		xz_diag_add(d, ctx->path, opts_line,
		    "option #%d: must be a table {name=, type=, ...}, got %s",
		    i, luaL_typename(L, -1));
		return -1;
	}
	if (lua_getfield(L, -1, "name") != LUA_TSTRING) {
		xz_diag_add(d, ctx->path, opts_line,
		    "option #%d: field 'name' must be a string", i);
		return -1;
	}
	name = lua_tostring(L, -1);
	snprintf(where, sizeof(where), "\"%s\"", name);
	line = source_line(ctx->path, where, opts_line);
	if (line == opts_line) {
		snprintf(where, sizeof(where), "'%s'", name);
		line = source_line(ctx->path, where, opts_line);
	}
	if (!islower((unsigned char) name[0])
	    || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_")
	        != strlen(name)) {
		xz_diag_add(d, ctx->path, line,
		    "option #%d: field 'name' must match [a-z][a-z0-9_]*, "
		    "got '%s'",
		    i, name);
		return -1;
	}
	o->name = strdup(name);
	lua_pop(L, 1);
	snprintf(where, sizeof(where), "option '%s'", o->name);

	if (lua_getfield(L, -1, "type") != LUA_TSTRING
	    || (t = opt_type_of(lua_tostring(L, -1))) == 0) {
		xz_diag_add(d, ctx->path, line,
		    "%s: field 'type' must be one of \"int\", \"float\", "
		    "\"bool\", \"string\"",
		    where);
		return -1;
	}
	o->type = t;
	lua_pop(L, 1);

	switch (lua_getfield(L, -1, "default")) {
	case LUA_TNIL:
		break;
	case LUA_TNUMBER:
		if (t == XZ_OPT_INT && lua_isinteger(L, -1)) {
			snprintf(def, sizeof(def), "%lld",
			    (long long) lua_tointeger(L, -1));
		} else if (t == XZ_OPT_FLOAT) {
			snprintf(def, sizeof(def), "%.17g",
			    (double) lua_tonumber(L, -1));
		} else {
			xz_diag_add(d, ctx->path, line,
			    "%s: field 'default' must be %s", where,
			    opt_type_word(t));
			return -1;
		}
		o->def = strdup(def);
		break;
	case LUA_TBOOLEAN:
		if (t != XZ_OPT_BOOL) {
			xz_diag_add(d, ctx->path, line,
			    "%s: field 'default' must be %s", where,
			    opt_type_word(t));
			return -1;
		}
		o->def = strdup(lua_toboolean(L, -1) ? "true" : "false");
		break;
	case LUA_TSTRING:
		if (t != XZ_OPT_STRING) {
			xz_diag_add(d, ctx->path, line,
			    "%s: field 'default' must be %s", where,
			    opt_type_word(t));
			return -1;
		}
		o->def = strdup(lua_tostring(L, -1));
		break;
	default:
		xz_diag_add(d, ctx->path, line,
		    "%s: field 'default' must be %s", where, opt_type_word(t));
		return -1;
	}
	lua_pop(L, 1);

	t = lua_getfield(L, -1, "required");
	if (t != LUA_TNIL && t != LUA_TBOOLEAN) {
		xz_diag_add(d, ctx->path, line,
		    "%s: field 'required' must be a boolean", where);
		return -1;
	}
	o->required = lua_toboolean(L, -1);
	lua_pop(L, 1);

	t = lua_getfield(L, -1, "description");
	if (t != LUA_TNIL && t != LUA_TSTRING) {
		xz_diag_add(d, ctx->path, line,
		    "%s: field 'description' must be a string", where);
		return -1;
	}
	o->description = strdup(t == LUA_TSTRING ? lua_tostring(L, -1) : "");
	lua_pop(L, 1);

	for (int k = 0; k < 2; k++) {
		const char *f = k == 0 ? "min" : "max";
		t             = lua_getfield(L, -1, f);
		if (t != LUA_TNIL) {
			if (o->type != XZ_OPT_INT || !lua_isinteger(L, -1)) {
				xz_diag_add(d, ctx->path, line,
				    "%s: field '%s' must be an integer (int "
				    "options only)",
				    where, f);
				return -1;
			}
			if (k == 0)
				o->min = lua_tointeger(L, -1);
			else
				o->max = lua_tointeger(L, -1);
		}
		lua_pop(L, 1);
	}
	if (o->min > o->max) {
		xz_diag_add(d, ctx->path, line, "%s: min > max", where);
		return -1;
	}
	if (o->name == NULL || o->description == NULL) {
		xz_diag_add(d, ctx->path, line, "%s: out of memory", where);
		return -1;
	}
	return 0;
}

/* Strings go into ctx->opts, freed by ctx_free. */
/* Options of a script that declares none: whatever the config gives. */
static int
opts_from_config(lua_desc_ctx *ctx, const xz_plugin_cfg *pc)
{
	size_t n = pc->noptions;

	if ((ctx->opts = calloc(n + 1, sizeof(*ctx->opts))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const xz_cfg_option *s = &pc->options[i];
		xz_option_decl      *o = &ctx->opts[ctx->nopts];
		switch (s->type) {
		case XZ_CFG_INT:
			o->type = XZ_OPT_INT;
			break;
		case XZ_CFG_FLOAT:
			o->type = XZ_OPT_FLOAT;
			break;
		case XZ_CFG_BOOL:
			o->type = XZ_OPT_BOOL;
			break;
		case XZ_CFG_STRING:
			o->type = XZ_OPT_STRING;
			break;
		default:
			continue; /* the kernel reports the wrong type */
		}
		o->name        = strdup(s->name);
		o->description = strdup("(from the config)");
		if (o->name == NULL || o->description == NULL)
			return -1;
		ctx->nopts++;
	}
	return 0;
}

/* Push the config's options group as a table (scratch states). */
static void
push_cfg_options(lua_State *L, const xz_plugin_cfg *pc)
{
	lua_newtable(L);
	for (size_t i = 0; i < pc->noptions; i++) {
		const xz_cfg_option *s = &pc->options[i];
		switch (s->type) {
		case XZ_CFG_INT:
			lua_pushinteger(L, s->v.i);
			break;
		case XZ_CFG_FLOAT:
			lua_pushnumber(L, s->v.f);
			break;
		case XZ_CFG_BOOL:
			lua_pushboolean(L, s->v.b);
			break;
		case XZ_CFG_STRING:
			lua_pushstring(L, s->v.s);
			break;
		default:
			continue; /* not a scalar: the kernel reports it */
		}
		lua_setfield(L, -2, s->name);
	}
}

static void
ctx_free(lua_desc_ctx *ctx)
{
	if (ctx == NULL)
		return;
	free(ctx->name);
	free(ctx->path);
	free(ctx->chunk);
	free(ctx->version);
	free(ctx->description);
	for (size_t i = 0; i < ctx->nretired; i++)
		free(ctx->retired[i]);
	free(ctx->retired);
	free_opts(ctx->opts, ctx->nopts);
	free(ctx);
}

/* Check the table the chunk returned (at the top of L) and copy its
 * metadata into ctx. Returns the number of errors added to d. */
static int
read_plugin_table(lua_State *L, lua_desc_ctx *ctx, xz_diag *d)
{
	static const char *const fns[] = { "init", "start", "stop", NULL };
	int                      errs  = 0;
	int                      t;

	for (int i = 0; fns[i] != NULL; i++) {
		t = lua_getfield(L, -1, fns[i]);
		if (t != LUA_TNIL && t != LUA_TFUNCTION) {
			xz_diag_add(d, ctx->path,
			    source_line(ctx->path, fns[i], 1),
			    "field '%s' must be a function, got %s", fns[i],
			    lua_typename(L, t));
			errs++;
		}
		lua_pop(L, 1);
	}
	for (int i = 0; i < 3; i++) {
		const char *f = i == 0 ? "name"
		    : i == 1           ? "version"
		                       : "description";
		t             = lua_getfield(L, -1, f);
		if (t != LUA_TNIL && t != LUA_TSTRING) {
			xz_diag_add(d, ctx->path, source_line(ctx->path, f, 1),
			    "field '%s' must be a string, got %s", f,
			    lua_typename(L, t));
			errs++;
		} else if (t == LUA_TSTRING && i > 0) {
			char **dst
			    = i == 1 ? &ctx->version : &ctx->description;
			free(*dst);
			*dst = strdup(lua_tostring(L, -1));
		}
		lua_pop(L, 1);
	}
	t = lua_getfield(L, -1, "handlers");
	if (t == LUA_TTABLE) {
		lua_pushnil(L);
		while (lua_next(L, -2) != 0) {
			bool durable;
			if (lua_type(L, -2) != LUA_TSTRING) {
				xz_diag_add(d, ctx->path,
				    source_line(ctx->path, "handlers", 1),
				    "field 'handlers' must map topic patterns "
				    "to functions");
				errs++;
				lua_pop(L, 2);
				break;
			}
			if (handler_entry(L, ctx->path, d, &durable) != 0) {
				errs++;
				lua_pop(L, 2);
				break;
			}
			lua_pop(L, 1);
		}
	} else if (t != LUA_TNIL) {
		xz_diag_add(d, ctx->path,
		    source_line(ctx->path, "handlers", 1),
		    "field 'handlers' must be a table, got %s",
		    lua_typename(L, t));
		errs++;
	}
	lua_pop(L, 1);

	t = lua_getfield(L, -1, "options");
	if (t == LUA_TTABLE) {
		int    line = source_line(ctx->path, "options", 1);
		size_t n    = (size_t) lua_rawlen(L, -1);
		if ((ctx->opts = calloc(n + 1, sizeof(*ctx->opts))) == NULL)
			return errs + 1;
		for (size_t i = 1; i <= n; i++) {
			lua_rawgeti(L, -1, (lua_Integer) i);
			if (read_option(L, ctx, (int) i, line,
			        &ctx->opts[ctx->nopts], d)
			    != 0)
				errs++;
			ctx->nopts++;
			lua_pop(L, 1);
		}
		for (size_t i = 0; i < ctx->nopts; i++)
			for (size_t j = i + 1; j < ctx->nopts; j++)
				if (ctx->opts[i].name && ctx->opts[j].name
				    && strcmp(ctx->opts[i].name,
				           ctx->opts[j].name)
				        == 0) {
					xz_diag_add(d, ctx->path, line,
					    "option '%s' declared twice",
					    ctx->opts[i].name);
					errs++;
				}
	} else if (t != LUA_TNIL) {
		xz_diag_add(d, ctx->path, source_line(ctx->path, "options", 1),
		    "field 'options' must be a list of tables, got %s",
		    lua_typename(L, t));
		errs++;
	}
	lua_pop(L, 1);
	return errs;
}

/* ---- the running script ---- */

static const char *
kind_word(const lua_desc_ctx *ctx)
{
	return xz_lua_kind_word(ctx->kind);
}

/* Push xz.config's values from the kernel's validated options. */
static void
push_host_options(xz_lua_script *sc, lua_State *L)
{
	lua_desc_ctx *ctx = sc->ctx;

	lua_createtable(L, 0, (int) ctx->nopts);
	for (size_t i = 0; i < ctx->nopts; i++) {
		const xz_option_decl *o = &ctx->opts[i];
		int64_t               iv;
		double                fv;
		int                   bv;
		const char           *sv;
		switch (o->type) {
		case XZ_OPT_INT:
			if (sc->host->opt_int(sc->self, o->name, &iv) != XZ_OK)
				continue;
			lua_pushinteger(L, (lua_Integer) iv);
			break;
		case XZ_OPT_FLOAT:
			if (sc->host->opt_float(sc->self, o->name, &fv)
			    != XZ_OK)
				continue;
			lua_pushnumber(L, fv);
			break;
		case XZ_OPT_BOOL:
			if (sc->host->opt_bool(sc->self, o->name, &bv)
			    != XZ_OK)
				continue;
			lua_pushboolean(L, bv);
			break;
		default:
			if ((sv = sc->host->opt_string(sc->self, o->name))
			    == NULL)
				continue;
			lua_pushstring(L, sv);
		}
		lua_setfield(L, -2, o->name);
	}
}

/* Call plugin[field](args...) if present. Returns LUA_OK or an error
 * with a diagnostic. */
static int
call_field(xz_lua_vm *vm, const lua_desc_ctx *ctx, const char *field,
    int with_config, xz_diag *d)
{
	lua_State *L = vm->L;
	int        st, nargs = 0;

	if (vm->ref_plugin == LUA_NOREF)
		return LUA_OK;
	lua_rawgeti(L, LUA_REGISTRYINDEX, vm->ref_plugin);
	if (lua_getfield(L, -1, field) != LUA_TFUNCTION) {
		lua_pop(L, 2);
		return LUA_OK;
	}
	lua_remove(L, -2);
	if (with_config) {
		lua_getglobal(L, "xz");
		lua_getfield(L, -1, "config");
		lua_remove(L, -2);
		nargs = 1;
	}
	st = xz_lua_pcall(vm, nargs, 0);
	if (st != LUA_OK) {
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "%s(): ", field);
		diag_lua(d, ctx, prefix, lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	return st;
}

/* Build and initialise a vm for sc (init and reload). NULL with the
 * reasons in d. The caller owns the vm (retire + unref). */
static xz_lua_vm *
build_vm(xz_lua_script *sc, xz_diag *d)
{
	lua_desc_ctx *ctx = sc->ctx;
	xz_lua_vm    *vm;
	lua_State    *L;
	int           st;

	vm = xz_lua_vm_new(
	    &ctx->lim, sc->host, sc->self, ctx->name, ctx->path);
	if (vm == NULL) {
		xz_diag_add(d, ctx->path, 0, "%s '%s': out of memory",
		    kind_word(ctx), ctx->name);
		return NULL;
	}
	L             = vm->L;
	vm->sc        = sc;
	vm->pend_list = &sc->pending;
	push_host_options(sc, L);
	xz_lua_set_config(vm);
	if (xz_lua_loadfile(L, ctx->path, ctx->chunk) != LUA_OK) {
		diag_lua(d, ctx, "", lua_tostring(L, -1));
		goto fail;
	}
	if ((st = xz_lua_pcall(vm, 0, 1)) != LUA_OK) {
		diag_lua(d, ctx, "", lua_tostring(L, -1));
		goto fail;
	}
	if (lua_istable(L, -1)) {
		vm->ref_plugin = luaL_ref(L, LUA_REGISTRYINDEX);
		lua_rawgeti(L, LUA_REGISTRYINDEX, vm->ref_plugin);
		if (lua_getfield(L, -1, "handlers") == LUA_TTABLE) {
			lua_pushnil(L);
			while (lua_next(L, -2) != 0) {
				uint64_t    id;
				const char *pat;
				int         r;
				bool        durable;
				if (lua_type(L, -2) != LUA_TSTRING) {
					xz_diag_add(d, ctx->path, 0,
					    "field 'handlers' must map topic "
					    "patterns to functions");
					goto fail;
				}
				if (handler_entry(L, ctx->path, d, &durable)
				    != 0)
					goto fail;
				pat = lua_tostring(L, -2);
				r   = durable
				      ? xz_lua_subscribe_durable(vm, L, pat, &id)
				      : xz_lua_subscribe(vm, L, pat, NULL, &id);
				if (r != XZ_OK) {
					xz_diag_add(d, ctx->path,
					    source_line(ctx->path, pat, 1),
					    "handlers: cannot subscribe to "
					    "'%s': %s",
					    pat, sc->host->strerror(r));
					goto fail;
				}
			}
		}
		lua_pop(L, 2);
	} else {
		lua_pop(L, 1);
	}
	if (call_field(vm, ctx, "init", 1, d) != LUA_OK)
		goto fail;
	return vm;
fail:
	xz_lua_vm_retire(vm);
	xz_lua_vm_unref(vm);
	return NULL;
}

static void
log_diag(xz_lua_script *sc, const xz_diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		sc->host->log(sc->self, XZ_LOG_ERROR, "%s", d->lines[i]);
}

/* The script state is freed by lp_fini (or here, if init fails). */
static int
lp_init(xz_plugin *self, const xz_host *host, void **state)
{
	const xz_plugin_ext *ext
	    = (const xz_plugin_ext *) xz_plugin_desc_of(self);
	xz_lua_script *sc;
	xz_diag        d;

	if (ext == NULL || ext->ext_magic != XZ_PLUGIN_EXT_MAGIC)
		return XZ_EINTERNAL;
	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return XZ_ENOMEM;
	sc->self = self;
	sc->host = host;
	sc->ctx  = ext->ctx;
	xz_diag_init(&d);
	if ((sc->vm = build_vm(sc, &d)) == NULL) {
		log_diag(sc, &d);
		xz_diag_free(&d);
		xz_lua_pending_free_all(&sc->pending);
		free(sc);
		return XZ_EINVAL;
	}
	xz_diag_free(&d);
	*state = sc;
	return XZ_OK;
}

static int
lp_start(void *state)
{
	xz_lua_script *sc = state;
	xz_diag        d;
	int            st;

	if (sc->vm == NULL)
		return XZ_OK;
	xz_diag_init(&d);
	st = call_field(sc->vm, sc->ctx, "start", 0, &d);
	log_diag(sc, &d);
	xz_diag_free(&d);
	return st == LUA_OK ? XZ_OK : XZ_EINVAL;
}

static void
lp_stop(void *state)
{
	xz_lua_script *sc = state;
	xz_diag        d;

	if (sc->vm == NULL || sc->vm->L == NULL)
		return;
	xz_diag_init(&d);
	call_field(sc->vm, sc->ctx, "stop", 0, &d);
	log_diag(sc, &d);
	xz_diag_free(&d);
}

static void
lp_fini(void *state)
{
	xz_lua_script *sc = state;

	if (sc->vm != NULL) {
		xz_lua_vm_retire(sc->vm);
		xz_lua_vm_unref(sc->vm);
	}
	xz_lua_pending_free_all(&sc->pending);
	free(sc);
}

static int describe_ctx(const xz_plugin_cfg *pc, const xz_config *cfg,
    xz_diag *d, lua_desc_ctx **out);

/* Exchange the option declarations of two descriptions. */
static void
swap_decls(lua_desc_ctx *a, lua_desc_ctx *b)
{
	xz_option_decl *o = a->opts;
	size_t          n = a->nopts;

	a->opts  = b->opts;
	a->nopts = b->nopts;
	b->opts  = o;
	b->nopts = n;
}

/* Read the schema of the new code and resolve the entry's options (the
 * config the node started with) against it: *nctx (owned by the caller,
 * ctx_free) and *vals (xz_optvals_free), or an error with the reasons in
 * d (FILE:LINE of the script or of the config entry, with its name). */
static int
reload_schema(
    xz_lua_script *sc, lua_desc_ctx **nctx, xz_optvals *vals, xz_diag *d)
{
	const xz_plugin_cfg *pc = xz_plugin_cfg_of(sc->self);
	int                  rc;

	*nctx       = NULL;
	vals->vals  = NULL;
	vals->count = 0;
	if (pc == NULL)
		return XZ_EINVAL;
	rc = describe_ctx(
	    pc, xz_kernel_config(xz_plugin_kernel(sc->self)), d, nctx);
	if (rc != XZ_OK)
		return rc;
	if (xz_options_resolve(pc, (*nctx)->opts, vals, d) != 0) {
		ctx_free(*nctx);
		*nctx = NULL;
		return XZ_EINVAL;
	}
	return XZ_OK;
}

/* Make *field of ctx the text *from (moved; *from NULL), keeping the old
 * one in ctx->retired. False on ENOMEM (nothing changed). */
static bool
take_text(lua_desc_ctx *ctx, char **field, char **from)
{
	char **v;

	if (*from == NULL)
		return true;
	if ((v = realloc(ctx->retired, (ctx->nretired + 1) * sizeof(*v)))
	    == NULL)
		return false;
	ctx->retired = v;
	if (*field != NULL)
		ctx->retired[ctx->nretired++] = *field;
	*field = *from;
	*from  = NULL;
	return true;
}

/* Build and start the new version with the new schema in place; on
 * failure the schema goes back. NULL with the reasons in d. */
static xz_lua_vm *
reload_vm(xz_lua_script *sc, lua_desc_ctx *nctx, xz_optvals *vals, xz_diag *d)
{
	xz_lua_vm *nvm;

	swap_decls(sc->ctx, nctx);
	xz_plugin_swap_options(sc->self, vals);
	if ((nvm = build_vm(sc, d)) != NULL
	    && call_field(nvm, sc->ctx, "start", 0, d) != LUA_OK) {
		xz_lua_vm_retire(nvm);
		xz_lua_vm_unref(nvm);
		nvm = NULL;
	}
	if (nvm == NULL) {
		xz_plugin_swap_options(sc->self, vals);
		swap_decls(sc->ctx, nctx);
	} else {
		/* Our own descriptor: nothing reads it after the load but
		 * it must not point at the old declarations. */
		xz_plugin_ext *ext
		    = (xz_plugin_ext *) xz_plugin_desc_of(sc->self);
		ext->desc.options = sc->ctx->opts;
		/* and `xiezhi status` shows the version now running */
		if (take_text(sc->ctx, &sc->ctx->version, &nctx->version))
			ext->desc.version = sc->ctx->version;
		if (take_text(
		        sc->ctx, &sc->ctx->description, &nctx->description))
			ext->desc.description = sc->ctx->description;
	}
	return nvm;
}

static int
lp_reload(void *state, xz_diag *d)
{
	xz_lua_script *sc = state;
	xz_lua_vm     *nvm, *old;
	lua_desc_ctx  *nctx = NULL;
	xz_optvals     vals;
	int            rc;

	/* On failure the kernel reports d (log and the reload reply). The
	 * new code's option schema applies: an option it adds takes its
	 * default, one whose type no longer fits the config is refused. */
	if ((rc = reload_schema(sc, &nctx, &vals, d)) != XZ_OK)
		return rc;
	nvm = reload_vm(sc, nctx, &vals, d);
	/* The declarations not in use (the old ones on success), and the
	 * values that point into them. */
	xz_optvals_free(&vals);
	ctx_free(nctx);
	if (nvm == NULL)
		return XZ_EINVAL;
	/* The new version is subscribed; now retire the old one. Its
	 * handlers waiting in xz.request learn why no reply will come (and
	 * may still answer their own request). */
	old = sc->vm;
	xz_lua_pending_abandon(old);
	if (old != NULL && old->L != NULL) {
		xz_diag sd;
		xz_diag_init(&sd);
		call_field(old, sc->ctx, "stop", 0, &sd);
		log_diag(sc, &sd);
		xz_diag_free(&sd);
	}
	sc->vm          = nvm;
	sc->failures    = 0;
	sc->quarantined = 0;
	if (old != NULL) {
		xz_lua_vm_retire(old);
		xz_lua_vm_unref(old);
	}
	return XZ_OK;
}

/* ---- describe ---- */

static void
ext_release(xz_plugin_ext *ext)
{
	ctx_free(ext->ctx);
	free(ext);
}

/* Describe pc's script: run it once in a scratch state and read its
 * table. *out owned by the caller (ctx_free), or an error with the
 * reasons in d. */
static int
describe_ctx(const xz_plugin_cfg *pc, const xz_config *cfg, xz_diag *d,
    lua_desc_ctx **out)
{
	lua_desc_ctx *ctx;
	xz_lua_vm    *vm;
	lua_State    *L;
	const char   *shown;
	int           errs = 0;

	*out = NULL;
	if (pc->path == NULL || pc->resolved == NULL) {
		xz_diag_add(d, pc->file, pc->line,
		    "%s '%s': script '%s' not found",
		    pc->kind == XZ_PLUGIN_SCRIPT ? "script" : "plugin",
		    pc->name, pc->path ? pc->path : "(no path given)");
		return XZ_ENOENT;
	}
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return XZ_ENOMEM;
	shown            = strlen(pc->path) <= 48 ? pc->path : pc->resolved;
	ctx->kind        = pc->kind;
	ctx->name        = strdup(pc->name);
	ctx->path        = strdup(pc->resolved);
	ctx->chunk       = malloc(strlen(shown) + 2);
	ctx->version     = strdup("0");
	ctx->description = strdup("");
	/* The entry's own limits (the node's `lua` group overridden by its
	 * `lua` group: config.c); pc without a config is a bare test entry. */
	xz_lua_limits_effective(cfg != NULL ? &pc->lua : NULL, &ctx->lim);
	if (!ctx->name || !ctx->path || !ctx->chunk || !ctx->version
	    || !ctx->description) {
		ctx_free(ctx);
		return XZ_ENOMEM;
	}
	ctx->chunk[0] = '@';
	strcpy(ctx->chunk + 1, shown);

	if ((vm = xz_lua_vm_new(&ctx->lim, NULL, NULL, ctx->name, ctx->path))
	    == NULL) {
		ctx_free(ctx);
		return XZ_ENOMEM;
	}
	L = vm->L;
	push_cfg_options(L, pc);
	xz_lua_set_config(vm);
	if (xz_lua_loadfile(L, ctx->path, ctx->chunk) != LUA_OK) {
		diag_lua(d, ctx, "", lua_tostring(L, -1));
		errs++;
	} else if (xz_lua_pcall(vm, 0, 1) != LUA_OK) {
		diag_lua(d, ctx, "", lua_tostring(L, -1));
		errs++;
	} else if (lua_istable(L, -1)) {
		errs += read_plugin_table(L, ctx, d);
	} else if (pc->kind != XZ_PLUGIN_SCRIPT) {
		xz_diag_add(d, ctx->path, 0,
		    "a Lua plugin must return a table {name=, version=, "
		    "options=, init=, handlers=, ...}, got %s",
		    luaL_typename(L, -1));
		errs++;
	}
	xz_lua_vm_retire(vm);
	xz_lua_vm_unref(vm);
	if (errs == 0 && ctx->opts == NULL && opts_from_config(ctx, pc) != 0)
		errs++;
	if (errs > 0) {
		ctx_free(ctx);
		return XZ_EINVAL;
	}
	*out = ctx;
	return XZ_OK;
}

int
xz_lua_describe(const xz_plugin_cfg *pc, const xz_config *cfg, xz_diag *d,
    xz_plugin_ext **out)
{
	lua_desc_ctx  *ctx;
	xz_plugin_ext *ext;
	int            rc;

	*out = NULL;
	if ((rc = describe_ctx(pc, cfg, d, &ctx)) != XZ_OK)
		return rc;
	if ((ext = calloc(1, sizeof(*ext))) == NULL) {
		ctx_free(ctx);
		return XZ_ENOMEM;
	}
	ext->desc.struct_size = sizeof(xz_plugin_desc);
	ext->desc.abi_major   = XZ_ABI_MAJOR;
	ext->desc.abi_minor   = XZ_ABI_MINOR;
	ext->desc.name        = ctx->name;
	ext->desc.version     = ctx->version;
	ext->desc.description = ctx->description;
	ext->desc.options     = ctx->opts;
	ext->desc.init        = lp_init;
	ext->desc.start       = lp_start;
	ext->desc.stop        = lp_stop;
	ext->desc.fini        = lp_fini;
	ext->ext_magic        = XZ_PLUGIN_EXT_MAGIC;
	ext->reload           = lp_reload;
	ext->release          = ext_release;
	ext->ctx              = ctx;
	*out                  = ext;
	return XZ_OK;
}

static const xz_kernel_ext lua_ext = {
	.describe = xz_lua_describe,
	.console  = xz_lua_console_desc,
};

const xz_kernel_ext *
xz_lua_kernel_ext(void)
{
	return &lua_ext;
}
