/*
 * luajson.c - JSON <-> Lua values, straight over the Lua stack.
 *
 * Decoding pushes Lua values as it parses (no intermediate tree); encoding
 * walks tables with raw access (no metamethods run) into a reusable
 * buffer. Conventions that make round trips exact:
 *   - JSON null <-> xz.null (a light userdata), in arrays and objects;
 *   - arrays decode to tables with the xz.json.array metatable, so an
 *     empty array stays an array; a table with that metatable always
 *     encodes as an array, other tables encode as arrays when their keys
 *     are exactly 1..n (n > 0), else as objects ({} is an object);
 *   - integers (no fraction, no exponent, within int64) decode to Lua
 *     integers, other numbers to floats; floats encode with a fraction or
 *     exponent ("1.0"), so the subtype survives.
 */
#include "lua/luapriv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 128

const char xz_lua_null_tag = 0;

/* ---- encoder ---- */

typedef struct enc {
	xz_lua_vm  *vm;
	lua_State  *L;
	xz_lua_buf *b;
	char       *err;
	size_t      errlen;
	int         depth;
} enc;

static int enc_value(enc *e, int idx);

static int
enc_fail(enc *e, const char *fmt, const char *arg)
{
	if (e->err[0] == '\0')
		snprintf(e->err, e->errlen, fmt, arg);
	return -1;
}

static int
enc_put(enc *e, const char *p, size_t n)
{
	if (xz_lua_buf_add(e->b, p, n) != 0)
		return enc_fail(e, "json: out of memory%s", "");
	return 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if
 * invalid. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t   len;
	unsigned cp;

	if (c < 0xc2)
		return 0;
	if (c < 0xe0) {
		len = 2;
		cp  = c & 0x1f;
	} else if (c < 0xf0) {
		len = 3;
		cp  = c & 0x0f;
	} else if (c < 0xf5) {
		len = 4;
		cp  = c & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
	    || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static int
enc_string(enc *e, const char *s, size_t n)
{
	static const char    hex[] = "0123456789abcdef";
	const unsigned char *p     = (const unsigned char *) s;
	size_t               i     = 0, run;
	char                 esc[8];

	/* worst case 6 bytes per input byte, plus the quotes */
	if (xz_lua_buf_reserve(e->b, n + 2) != 0)
		return enc_fail(e, "json: out of memory%s", "");
	e->b->p[e->b->len++] = '"';
	while (i < n) {
		run = i;
		while (run < n && p[run] >= 0x20 && p[run] < 0x80
		    && p[run] != '"' && p[run] != '\\')
			run++;
		if (run > i && enc_put(e, s + i, run - i) != 0)
			return -1;
		i = run;
		if (i >= n)
			break;
		if (p[i] >= 0x80) {
			size_t l = utf8_len(p + i, n - i);
			if (l == 0)
				return enc_fail(e,
				    "json: string is not valid UTF-8%s", "");
			if (enc_put(e, s + i, l) != 0)
				return -1;
			i += l;
			continue;
		}
		switch (p[i]) {
		case '"':
			memcpy(esc, "\\\"", 2);
			break;
		case '\\':
			memcpy(esc, "\\\\", 2);
			break;
		case '\n':
			memcpy(esc, "\\n", 2);
			break;
		case '\r':
			memcpy(esc, "\\r", 2);
			break;
		case '\t':
			memcpy(esc, "\\t", 2);
			break;
		case '\b':
			memcpy(esc, "\\b", 2);
			break;
		case '\f':
			memcpy(esc, "\\f", 2);
			break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[p[i] >> 4];
			esc[5] = hex[p[i] & 15];
			if (enc_put(e, esc, 6) != 0)
				return -1;
			i++;
			continue;
		}
		if (enc_put(e, esc, 2) != 0)
			return -1;
		i++;
	}
	return enc_put(e, "\"", 1);
}

static int
enc_number(enc *e, int idx)
{
	char buf[40];
	int  n;

	if (lua_isinteger(e->L, idx)) {
		n = snprintf(buf, sizeof(buf), "%lld",
		    (long long) lua_tointeger(e->L, idx));
	} else {
		double d = lua_tonumber(e->L, idx);
		if (!isfinite(d))
			return enc_fail(e,
			    "json: cannot encode %s (not a finite number)",
			    isnan(d) ? "NaN" : "infinity");
		n = snprintf(buf, sizeof(buf), "%.15g", d);
		if (strtod(buf, NULL) != d)
			n = snprintf(buf, sizeof(buf), "%.17g", d);
		if (strpbrk(buf, ".eE") == NULL) {
			memcpy(buf + n, ".0", 3);
			n += 2;
		}
	}
	return enc_put(e, buf, (size_t) n);
}

/* 1 if the table at idx encodes as an array; *n gets its length. */
static int
enc_is_array(enc *e, int idx, lua_Integer *n)
{
	lua_State  *L = e->L;
	lua_Integer len, count = 0;

	*n = len = (lua_Integer) lua_rawlen(L, idx);
	if (lua_getmetatable(L, idx)) {
		int marked;
		lua_rawgeti(L, LUA_REGISTRYINDEX, e->vm->ref_array_mt);
		marked = lua_rawequal(L, -1, -2);
		lua_pop(L, 2);
		if (marked)
			return 1;
	}
	if (len == 0)
		return 0;
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		lua_pop(L, 1);
		if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1
		    || lua_tointeger(L, -1) > len) {
			lua_pop(L, 1);
			return 0;
		}
		count++;
	}
	return count == len;
}

static int
enc_table(enc *e, int idx)
{
	lua_State  *L = e->L;
	lua_Integer n;
	int         first = 1;

	if (e->depth >= JSON_MAX_DEPTH)
		return enc_fail(e,
		    "json: nesting deeper than 128 levels (a cycle?)%s", "");
	if (!lua_checkstack(L, 4))
		return enc_fail(e, "json: out of stack%s", "");
	e->depth++;
	if (enc_is_array(e, idx, &n)) {
		if (enc_put(e, "[", 1) != 0)
			return -1;
		for (lua_Integer i = 1; i <= n; i++) {
			if (i > 1 && enc_put(e, ",", 1) != 0)
				return -1;
			lua_rawgeti(L, idx, i);
			if (enc_value(e, lua_gettop(L)) != 0)
				return -1;
			lua_pop(L, 1);
		}
		e->depth--;
		return enc_put(e, "]", 1);
	}
	if (enc_put(e, "{", 1) != 0)
		return -1;
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		int kt = lua_type(L, -2);
		if (!first && enc_put(e, ",", 1) != 0)
			return -1;
		first = 0;
		if (kt == LUA_TSTRING) {
			size_t      kl;
			const char *k = lua_tolstring(L, -2, &kl);
			if (enc_string(e, k, kl) != 0)
				return -1;
		} else if (kt == LUA_TNUMBER) {
			char buf[48];
			int  m;
			if (lua_isinteger(L, -2))
				m = snprintf(buf, sizeof(buf), "\"%lld\"",
				    (long long) lua_tointeger(L, -2));
			else
				m = snprintf(buf, sizeof(buf), "\"%.17g\"",
				    (double) lua_tonumber(L, -2));
			if (enc_put(e, buf, (size_t) m) != 0)
				return -1;
		} else {
			return enc_fail(e,
			    "json: cannot encode a table key of type %s",
			    lua_typename(L, kt));
		}
		if (enc_put(e, ":", 1) != 0)
			return -1;
		if (enc_value(e, lua_gettop(L)) != 0)
			return -1;
		lua_pop(L, 1);
	}
	e->depth--;
	return enc_put(e, "}", 1);
}

static int
enc_value(enc *e, int idx)
{
	lua_State *L = e->L;

	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		return enc_put(e, "null", 4);
	case LUA_TBOOLEAN:
		return lua_toboolean(L, idx) ? enc_put(e, "true", 4)
		                             : enc_put(e, "false", 5);
	case LUA_TNUMBER:
		return enc_number(e, idx);
	case LUA_TSTRING: {
		size_t      n;
		const char *s = lua_tolstring(L, idx, &n);
		return enc_string(e, s, n);
	}
	case LUA_TTABLE:
		return enc_table(e, idx);
	case LUA_TLIGHTUSERDATA:
		if (lua_touserdata(L, idx) == XZ_LUA_NULL)
			return enc_put(e, "null", 4);
		/* fall through */
	default:
		return enc_fail(e, "json: cannot encode a %s value",
		    luaL_typename(L, idx));
	}
}

int
xz_lua_json_encode(xz_lua_vm *vm, lua_State *L, int idx, xz_lua_buf *b,
    char *err, size_t errlen)
{
	enc    e   = { vm, L, b, err, errlen, 0 };
	int    top = lua_gettop(L);
	size_t len = b->len;
	int    r;

	err[0] = '\0';
	if (xz_lua_buf_reserve(b, 64) != 0) {
		snprintf(err, errlen, "json: out of memory");
		return -1;
	}
	r = enc_value(&e, lua_absindex(L, idx));
	lua_settop(L, top);
	if (r != 0)
		b->len = len;
	if (b->p != NULL)
		b->p[b->len] = '\0';
	return r;
}

/* ---- decoder ---- */

typedef struct dec {
	xz_lua_vm  *vm;
	lua_State  *L;
	const char *s, *p, *end;
	char       *err;
	size_t      errlen;
	int         depth;
} dec;

static int dec_value(dec *d);

static int
dec_fail(dec *d, const char *what)
{
	if (d->err[0] != '\0')
		return -1;
	if (d->p >= d->end)
		snprintf(d->err, d->errlen, "json: %s at end of input", what);
	else if ((unsigned char) *d->p >= 0x20 && (unsigned char) *d->p < 0x7f)
		snprintf(d->err, d->errlen, "json: %s at offset %zu ('%c')",
		    what, (size_t) (d->p - d->s), *d->p);
	else
		snprintf(d->err, d->errlen, "json: %s at offset %zu", what,
		    (size_t) (d->p - d->s));
	return -1;
}

static void
dec_ws(dec *d)
{
	while (d->p < d->end
	    && (*d->p == ' ' || *d->p == '\n' || *d->p == '\r'
	        || *d->p == '\t'))
		d->p++;
}

static int
hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char     c = p[i];
		unsigned x;
		if (c >= '0' && c <= '9')
			x = (unsigned) (c - '0');
		else if (c >= 'a' && c <= 'f')
			x = (unsigned) (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			x = (unsigned) (c - 'A' + 10);
		else
			return -1;
		v = v << 4 | x;
	}
	*out = v;
	return 0;
}

static size_t
utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char) cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char) (0xc0 | (cp >> 6));
		o[1] = (char) (0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char) (0xe0 | (cp >> 12));
		o[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char) (0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char) (0xf0 | (cp >> 18));
	o[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char) (0x80 | (cp & 0x3f));
	return 4;
}

/* Push the string starting at the opening quote. */
static int
dec_string(dec *d)
{
	const char *start = ++d->p;
	const char *q     = start;
	luaL_Buffer b;

	while (q < d->end && *q != '"' && *q != '\\'
	    && (unsigned char) *q >= 0x20)
		q++;
	if (q < d->end && *q == '"') {
		lua_pushlstring(d->L, start, (size_t) (q - start));
		d->p = q + 1;
		return 0;
	}
	luaL_buffinit(d->L, &b);
	luaL_addlstring(&b, start, (size_t) (q - start));
	d->p = q;
	for (;;) {
		if (d->p >= d->end)
			return dec_fail(d, "unterminated string");
		unsigned char c = (unsigned char) *d->p;
		if (c == '"') {
			d->p++;
			break;
		}
		if (c < 0x20)
			return dec_fail(d, "control character in string");
		if (c != '\\') {
			const char *r = d->p;
			while (r < d->end && *r != '"' && *r != '\\'
			    && (unsigned char) *r >= 0x20)
				r++;
			luaL_addlstring(&b, d->p, (size_t) (r - d->p));
			d->p = r;
			continue;
		}
		if (d->p + 1 >= d->end)
			return dec_fail(d, "unterminated string");
		d->p++;
		switch (*d->p) {
		case '"':
			luaL_addchar(&b, '"');
			break;
		case '\\':
			luaL_addchar(&b, '\\');
			break;
		case '/':
			luaL_addchar(&b, '/');
			break;
		case 'b':
			luaL_addchar(&b, '\b');
			break;
		case 'f':
			luaL_addchar(&b, '\f');
			break;
		case 'n':
			luaL_addchar(&b, '\n');
			break;
		case 'r':
			luaL_addchar(&b, '\r');
			break;
		case 't':
			luaL_addchar(&b, '\t');
			break;
		case 'u': {
			unsigned    cp, lo;
			char        o[4];
			const char *esc = d->p - 1;
			if (d->end - d->p < 5 || hex4(d->p + 1, &cp) != 0)
				return dec_fail(d, "bad \\u escape");
			d->p += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (d->end - d->p < 7 || d->p[1] != '\\'
				    || d->p[2] != 'u'
				    || hex4(d->p + 3, &lo) != 0 || lo < 0xdc00
				    || lo > 0xdfff) {
					d->p = esc;
					return dec_fail(
					    d, "lone surrogate in \\u escape");
				}
				cp = 0x10000 + ((cp - 0xd800) << 10)
				    + (lo - 0xdc00);
				d->p += 6;
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				d->p = esc;
				return dec_fail(
				    d, "lone surrogate in \\u escape");
			}
			luaL_addlstring(&b, o, utf8_put(o, cp));
			break;
		}
		default:
			return dec_fail(d, "bad escape in string");
		}
		d->p++;
	}
	luaL_pushresult(&b);
	return 0;
}

static int
dec_number(dec *d)
{
	const char *p       = d->p, *digits;
	int         isfloat = 0;
	int         neg     = 0;

	if (p < d->end && *p == '-') {
		neg = 1;
		p++;
	}
	digits = p;
	if (p < d->end && *p == '0')
		p++;
	else if (p < d->end && *p >= '1' && *p <= '9')
		while (p < d->end && *p >= '0' && *p <= '9')
			p++;
	else
		return dec_fail(d, "bad number");
	if (p < d->end && *p == '.') {
		isfloat = 1;
		p++;
		if (p >= d->end || *p < '0' || *p > '9') {
			d->p = p;
			return dec_fail(d, "bad number");
		}
		while (p < d->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < d->end && (*p == 'e' || *p == 'E')) {
		isfloat = 1;
		p++;
		if (p < d->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= d->end || *p < '0' || *p > '9') {
			d->p = p;
			return dec_fail(d, "bad number");
		}
		while (p < d->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (!isfloat && p - digits <= 18) {
		long long v = 0;
		for (const char *q = digits; q < p; q++)
			v = v * 10 + (*q - '0');
		lua_pushinteger(d->L, neg ? -v : v);
	} else {
		char   buf[512];
		size_t n = (size_t) (p - d->p);
		char  *endp;
		if (n >= sizeof(buf))
			return dec_fail(d, "number too long");
		memcpy(buf, d->p, n);
		buf[n] = '\0';
		if (!isfloat) {
			long long v;
			errno = 0;
			v     = strtoll(buf, &endp, 10);
			if (errno != ERANGE) {
				lua_pushinteger(d->L, v);
				d->p = p;
				return 0;
			}
		}
		lua_pushnumber(d->L, strtod(buf, &endp));
	}
	d->p = p;
	return 0;
}

static int
dec_literal(dec *d, const char *lit, size_t n)
{
	if ((size_t) (d->end - d->p) < n || memcmp(d->p, lit, n) != 0)
		return dec_fail(d, "unexpected character");
	d->p += n;
	return 0;
}

static int
dec_array(dec *d)
{
	lua_State  *L = d->L;
	lua_Integer i = 0;

	d->p++;
	lua_createtable(L, 4, 0);
	lua_rawgeti(L, LUA_REGISTRYINDEX, d->vm->ref_array_mt);
	lua_setmetatable(L, -2);
	dec_ws(d);
	if (d->p < d->end && *d->p == ']') {
		d->p++;
		return 0;
	}
	for (;;) {
		if (dec_value(d) != 0)
			return -1;
		lua_rawseti(L, -2, ++i);
		dec_ws(d);
		if (d->p < d->end && *d->p == ',') {
			d->p++;
			continue;
		}
		if (d->p < d->end && *d->p == ']') {
			d->p++;
			return 0;
		}
		return dec_fail(d, "expected ',' or ']'");
	}
}

static int
dec_object(dec *d)
{
	lua_State *L = d->L;

	d->p++;
	lua_createtable(L, 0, 4);
	dec_ws(d);
	if (d->p < d->end && *d->p == '}') {
		d->p++;
		return 0;
	}
	for (;;) {
		dec_ws(d);
		if (d->p >= d->end || *d->p != '"')
			return dec_fail(d, "expected a string key");
		if (dec_string(d) != 0)
			return -1;
		dec_ws(d);
		if (d->p >= d->end || *d->p != ':')
			return dec_fail(d, "expected ':'");
		d->p++;
		if (dec_value(d) != 0)
			return -1;
		lua_rawset(L, -3);
		dec_ws(d);
		if (d->p < d->end && *d->p == ',') {
			d->p++;
			continue;
		}
		if (d->p < d->end && *d->p == '}') {
			d->p++;
			return 0;
		}
		return dec_fail(d, "expected ',' or '}'");
	}
}

static int
dec_value(dec *d)
{
	int r;

	dec_ws(d);
	if (d->p >= d->end)
		return dec_fail(d, "unexpected end");
	if (!lua_checkstack(d->L, 3))
		return dec_fail(d, "out of stack");
	switch (*d->p) {
	case '{':
	case '[':
		if (++d->depth > JSON_MAX_DEPTH)
			return dec_fail(d, "nesting deeper than 128 levels");
		r = *d->p == '{' ? dec_object(d) : dec_array(d);
		d->depth--;
		return r;
	case '"':
		return dec_string(d);
	case 't':
		if (dec_literal(d, "true", 4) != 0)
			return -1;
		lua_pushboolean(d->L, 1);
		return 0;
	case 'f':
		if (dec_literal(d, "false", 5) != 0)
			return -1;
		lua_pushboolean(d->L, 0);
		return 0;
	case 'n':
		if (dec_literal(d, "null", 4) != 0)
			return -1;
		lua_pushlightuserdata(d->L, XZ_LUA_NULL);
		return 0;
	default:
		if (*d->p == '-' || (*d->p >= '0' && *d->p <= '9'))
			return dec_number(d);
		return dec_fail(d, "unexpected character");
	}
}

int
xz_lua_json_decode(xz_lua_vm *vm, lua_State *L, const char *s, size_t len,
    char *err, size_t errlen)
{
	dec d   = { vm, L, s, s, s + len, err, errlen, 0 };
	int top = lua_gettop(L);

	err[0] = '\0';
	if (dec_value(&d) != 0) {
		lua_settop(L, top);
		return -1;
	}
	dec_ws(&d);
	if (d.p != d.end) {
		lua_settop(L, top);
		dec_fail(&d, "trailing characters");
		return -1;
	}
	return 0;
}

/* ---- xz.json ---- */

static int
l_encode(lua_State *L)
{
	xz_lua_vm *vm = xz_lua_vm_of(L);
	char       err[256];

	luaL_checkany(L, 1);
	vm->enc.len = 0;
	if (xz_lua_json_encode(vm, L, 1, &vm->enc, err, sizeof(err)) != 0)
		return luaL_error(L, "%s", err);
	lua_pushlstring(L, vm->enc.p, vm->enc.len);
	return 1;
}

static int
l_decode(lua_State *L)
{
	xz_lua_vm  *vm = xz_lua_vm_of(L);
	size_t      n;
	const char *s = luaL_checklstring(L, 1, &n);
	char        err[256];

	if (xz_lua_json_decode(vm, L, s, n, err, sizeof(err)) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	return 1;
}

static int
l_as_array(lua_State *L)
{
	xz_lua_vm *vm = xz_lua_vm_of(L);

	if (lua_isnoneornil(L, 1)) {
		lua_settop(L, 0);
		lua_newtable(L);
	}
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	lua_rawgeti(L, LUA_REGISTRYINDEX, vm->ref_array_mt);
	lua_setmetatable(L, 1);
	return 1;
}

void
xz_lua_json_open(lua_State *L, xz_lua_vm *vm)
{
	lua_createtable(L, 0, 4);
	lua_pushcfunction(L, l_encode);
	lua_setfield(L, -2, "encode");
	lua_pushcfunction(L, l_decode);
	lua_setfield(L, -2, "decode");
	lua_pushcfunction(L, l_as_array);
	lua_setfield(L, -2, "as_array");
	lua_createtable(L, 0, 1);
	lua_pushliteral(L, "xz.json.array");
	lua_setfield(L, -2, "__name");
	lua_pushvalue(L, -1);
	vm->ref_array_mt = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_setfield(L, -2, "array");
	lua_setfield(L, -2, "json");
}
