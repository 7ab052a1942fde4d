/* kjson.c - JSON text of jansson values in one pass (kjson.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kjson.h"

/* The text being written (kjson.h: kit_buf). err is 1 on a failure (out
 * of memory, not UTF-8, ...), 2 when a value is nested too deep for
 * kit_json_dumps. */
typedef kit_buf out;

/* Room for n more bytes (and a NUL); 0, or -1 with o->err set. */
static int
room(out *o, size_t n)
{
	size_t cap;
	char  *p;

	if (o->len + n + 1 <= o->cap)
		return 0;
	for (cap = o->cap ? o->cap : 256; cap < o->len + n + 1; cap *= 2)
		;
	if ((p = realloc(o->p, cap)) == NULL) {
		o->err = 1;
		return -1;
	}
	o->p   = p;
	o->cap = cap;
	return 0;
}

static void
put(out *o, const char *s, size_t n)
{
	if (o->err || room(o, n) != 0)
		return;
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void
putc1(out *o, char c)
{
	if (o->err || room(o, 1) != 0)
		return;
	o->p[o->len++] = c;
}

/* The length of the UTF-8 sequence of a byte >= 0x80 at s (n bytes left)
 * as jansson accepts it in a string (no overlong form, no surrogate,
 * nothing above U+10FFFF), or 0 when it is not one. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0], k;
	uint32_t v;

	if (c < 0xC2 || c > 0xF4)
		return 0;
	k = c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
	if (k >= n)
		return 0;
	v = c & (0x3Fu >> k);
	for (unsigned i = 1; i <= k; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3Fu);
	}
	if ((k == 2 && v < 0x800) || (k == 3 && v < 0x10000) || v > 0x10FFFF
	    || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	return k + 1;
}

/* Whether byte c needs a look in a JSON string: '"', '\\', a control
 * character, or the start of a UTF-8 sequence (checked). */
static inline int
special(unsigned c)
{
	return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

/* How many bytes from s (n left) need no look (special), eight at a
 * time: a word is passed over when no byte has its top bit, none is below
 * 0x20 and none is '"' or '\\' (the word tests of "Bit Twiddling Hacks":
 * each is exact once no byte is >= 0x80, and any such byte stops the
 * word). Strings are mostly plain text, which this reads eight bytes a
 * step instead of one. */
static size_t
plain_run(const unsigned char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101u;
	const uint64_t high = 0x8080808080808080u;
	size_t         i    = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w, q, b;
		memcpy(&w, s + i, 8);
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		if ((w & high) != 0
		    || (((w - ones * 0x20) | (q - ones) | (b - ones)) & high)
		        != 0)
			break;
	}
	while (i < n && !special(s[i]))
		i++;
	return i;
}

static void
put_string(out *o, const char *str, size_t n)
{
	static const char    hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *) str, *run = s;
	const unsigned char *end = s + n;
	size_t               plain;

	/* most strings (keys, ids, states) need no escape: room for them
	 * quoted, then one copy */
	if (o->err || room(o, n + 2) != 0)
		return;
	plain = plain_run(s, n);
	if (plain == n) {
		char *d = o->p + o->len;
		d[0]    = '"';
		memcpy(d + 1, s, n);
		d[n + 1] = '"';
		o->len += n + 2;
		return;
	}
	putc1(o, '"');
	s += plain;
	while (s < end) {
		unsigned c;
		char     esc[6];
		size_t   k;

		s += plain_run(s, (size_t) (end - s));
		if (s >= end)
			break;
		c = *s;
		if (c >= 0x80) {
			if ((k = utf8_len(s, (size_t) (end - s))) == 0) {
				o->err = 1; /* json_dumps refuses it too */
				return;
			}
			s += k;
			continue;
		}
		put(o, (const char *) run, (size_t) (s - run));
		esc[0] = '\\';
		switch (c) {
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			put(o, esc, 6);
			run = ++s;
			continue;
		}
		put(o, esc, 2);
		run = ++s;
	}
	put(o, (const char *) run, (size_t) (s - run));
	putc1(o, '"');
}

static void
put_int(out *o, json_int_t v)
{
	char     buf[24], *p = buf + sizeof(buf);
	uint64_t u = v < 0 ? 0 - (uint64_t) v : (uint64_t) v;

	do
		*--p = (char) ('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	put(o, p, (size_t) (buf + sizeof(buf) - p));
}

static void
put_value(out *o, const json_t *v, int depth)
{
	if (o->err)
		return;
	if (depth > KJSON_MAX_DEPTH) {
		o->err = 2; /* json_dumps decides */
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t     *val;
		int         first = 1;
		putc1(o, '{');
		json_object_foreach((json_t *) v, key, val)
		{
			if (!first)
				putc1(o, ',');
			first = 0;
			put_string(o, key,
			    json_object_iter_key_len(
			        json_object_key_to_iter(key)));
			putc1(o, ':');
			put_value(o, val, depth + 1);
			if (o->err)
				return;
		}
		putc1(o, '}');
		break;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(v);
		putc1(o, '[');
		for (size_t i = 0; i < n && !o->err; i++) {
			if (i > 0)
				putc1(o, ',');
			put_value(o, json_array_get(v, i), depth + 1);
		}
		putc1(o, ']');
		break;
	}
	case JSON_STRING:
		put_string(o, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		put_int(o, json_integer_value(v));
		break;
	case JSON_REAL: {
		/* jansson's own shortest form */
		char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (t == NULL) {
			o->err = 1;
			return;
		}
		put(o, t, strlen(t));
		free(t);
		break;
	}
	case JSON_TRUE:
		put(o, "true", 4);
		break;
	case JSON_FALSE:
		put(o, "false", 5);
		break;
	case JSON_NULL:
		put(o, "null", 4);
		break;
	}
}

void
kit_buf_put(kit_buf *b, const char *s, size_t n)
{
	put(b, s, n);
	if (!b->err && b->p != NULL)
		b->p[b->len] = '\0';
}

void
kit_buf_puts(kit_buf *b, const char *s)
{
	kit_buf_put(b, s, strlen(s));
}

void
kit_buf_json_str(kit_buf *b, const char *s)
{
	put_string(b, s ? s : "", s ? strlen(s) : 0);
	if (!b->err && b->p != NULL)
		b->p[b->len] = '\0';
}

char *
kit_json_dumps(const json_t *v, size_t *len)
{
	out o = { 0 };

	if (!json_is_object(v) && !json_is_array(v))
		return NULL;
	put_value(&o, v, 0);
	if (o.err == 0 && room(&o, 0) == 0) {
		o.p[o.len] = '\0';
		if (len)
			*len = o.len;
		return o.p;
	}
	free(o.p);
	if (o.err == 2) { /* too deep for us (or a cycle) */
		char *t = json_dumps(v, JSON_COMPACT);
		if (t && len)
			*len = strlen(t);
		return t;
	}
	return NULL;
}

/* ---- reading ---------------------------------------------------------- */

/* The text being read; bail set when the fast path gives up (the text is
 * then read again by json_loadb). */
typedef struct {
	const char *p, *end;
	size_t      flags;
	int         bail;
} in;

static void
skip_ws(in *r)
{
	while (r->p < r->end
	    && (*r->p == ' ' || *r->p == '\n' || *r->p == '\t'
	        || *r->p == '\r'))
		r->p++;
}

/* The string at r->p (its opening quote): *s and *n its text, *tmp a
 * malloc'd copy with the escapes undone when it had any (the caller frees
 * it). 0, or -1 (r->bail). */
static int
read_string(in *r, const char **s, size_t *n, char **tmp)
{
	const unsigned char *p     = (const unsigned char *) r->p + 1;
	const unsigned char *end   = (const unsigned char *) r->end;
	const unsigned char *start = p;
	int                  esc   = 0;

	*tmp = NULL;
	for (;;) {
		p += plain_run(p, (size_t) (end - p));
		if (p >= end)
			goto bail;
		unsigned c = *p;
		if (c == '"')
			break;
		if (c < 0x20)
			goto bail;
		if (c == '\\') {
			if (p + 1 >= end || p[1] == 'u')
				goto bail; /* \u: jansson's (surrogates, NUL)
				            */
			esc = 1;
			p += 2;
			continue;
		}
		if (c >= 0x80) {
			size_t k = utf8_len(p, (size_t) (end - p));
			if (k == 0)
				goto bail;
			p += k;
			continue;
		}
		p++;
	}
	r->p = (const char *) p + 1;
	if (!esc) {
		*s = (const char *) start;
		*n = (size_t) (p - start);
		return 0;
	}
	/* undo the escapes (all of one byte: \u went to jansson) */
	char  *t = malloc((size_t) (p - start) + 1);
	size_t k = 0;
	if (t == NULL)
		goto bail;
	for (const unsigned char *q = start; q < p; q++) {
		if (*q != '\\') {
			t[k++] = (char) *q;
			continue;
		}
		switch (*++q) {
		case '"':
			t[k++] = '"';
			break;
		case '\\':
			t[k++] = '\\';
			break;
		case '/':
			t[k++] = '/';
			break;
		case 'b':
			t[k++] = '\b';
			break;
		case 'f':
			t[k++] = '\f';
			break;
		case 'n':
			t[k++] = '\n';
			break;
		case 'r':
			t[k++] = '\r';
			break;
		case 't':
			t[k++] = '\t';
			break;
		default:
			free(t);
			goto bail;
		}
	}
	*tmp = t;
	*s   = t;
	*n   = k;
	return 0;
bail:
	r->bail = 1;
	return -1;
}

static json_t *read_value(in *r, int depth);

static json_t *
read_number(in *r)
{
	const char *p   = r->p;
	int         neg = 0, digits = 0;
	json_int_t  v = 0;

	if (p < r->end && *p == '-') {
		neg = 1;
		p++;
	}
	if (p < r->end && *p == '0' && p + 1 < r->end && p[1] >= '0'
	    && p[1] <= '9')
		goto bail; /* a leading zero: jansson's error */
	while (p < r->end && *p >= '0' && *p <= '9') {
		if (++digits > 18)
			goto bail; /* could overflow: jansson decides */
		v = v * 10 + (*p++ - '0');
	}
	if (digits == 0
	    || (p < r->end && (*p == '.' || *p == 'e' || *p == 'E')))
		goto bail; /* not a number, or a real */
	r->p = p;
	return json_integer(neg ? -v : v);
bail:
	r->bail = 1;
	return NULL;
}

static json_t *
read_literal(in *r, const char *word, size_t n, json_t *v)
{
	if ((size_t) (r->end - r->p) < n || memcmp(r->p, word, n) != 0) {
		r->bail = 1;
		return NULL;
	}
	r->p += n;
	return v;
}

static json_t *
read_object(in *r, int depth)
{
	json_t *o = json_object();

	if (o == NULL)
		goto bail;
	r->p++; /* { */
	skip_ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return o;
	}
	for (;;) {
		const char *k;
		size_t      kn;
		char       *tmp;
		json_t     *v;

		skip_ws(r);
		if (r->p >= r->end || *r->p != '"'
		    || read_string(r, &k, &kn, &tmp) != 0)
			goto bail;
		if ((r->flags & JSON_REJECT_DUPLICATES)
		    && json_object_getn(o, k, kn) != NULL) {
			free(tmp);
			goto bail;
		}
		skip_ws(r);
		if (r->p >= r->end || *r->p != ':') {
			free(tmp);
			goto bail;
		}
		r->p++;
		skip_ws(r);
		v = read_value(r, depth + 1);
		if (v == NULL
		    || json_object_setn_new_nocheck(o, k, kn, v) != 0) {
			free(tmp);
			goto bail;
		}
		free(tmp);
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			return o;
		}
		goto bail;
	}
bail:
	r->bail = 1;
	json_decref(o);
	return NULL;
}

static json_t *
read_array(in *r, int depth)
{
	json_t *a = json_array();

	if (a == NULL)
		goto bail;
	r->p++; /* [ */
	skip_ws(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return a;
	}
	for (;;) {
		skip_ws(r);
		json_t *v = read_value(r, depth + 1);
		if (v == NULL || json_array_append_new(a, v) != 0)
			goto bail;
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return a;
		}
		goto bail;
	}
bail:
	r->bail = 1;
	json_decref(a);
	return NULL;
}

static json_t *
read_value(in *r, int depth)
{
	if (r->p >= r->end || depth > KJSON_MAX_DEPTH) {
		r->bail = 1;
		return NULL;
	}
	switch (*r->p) {
	case '{':
		return read_object(r, depth);
	case '[':
		return read_array(r, depth);
	case '"': {
		const char *s;
		size_t      n;
		char       *tmp;
		json_t     *v;
		if (read_string(r, &s, &n, &tmp) != 0)
			return NULL;
		v = json_stringn_nocheck(s, n);
		free(tmp);
		if (v == NULL)
			r->bail = 1;
		return v;
	}
	case 't':
		return read_literal(r, "true", 4, json_true());
	case 'f':
		return read_literal(r, "false", 5, json_false());
	case 'n':
		return read_literal(r, "null", 4, json_null());
	default:
		return read_number(r);
	}
}

json_t *
kit_json_loadb(const char *s, size_t n, size_t flags, json_error_t *e)
{
	in      r = { s, s + n, flags, 0 };
	json_t *v = NULL;

	if (s != NULL && (flags & ~(size_t) JSON_REJECT_DUPLICATES) == 0) {
		skip_ws(&r);
		if (r.p < r.end && (*r.p == '{' || *r.p == '[')) {
			v = read_value(&r, 1);
			skip_ws(&r);
			if (v != NULL && r.p != r.end) {
				json_decref(v); /* something after it */
				v = NULL;
			}
		}
	}
	if (v == NULL)
		return json_loadb(s, n, flags, e);
	if (e != NULL) {
		/* as json_loadb leaves it on success */
		memset(e, 0, sizeof(*e));
		e->line   = -1;
		e->column = -1;
		snprintf(e->source, sizeof(e->source), "<buffer>");
	}
	return v;
}
