/*
 * batch.c - the records of an audit.append request read from its text;
 * the fields of a record from a payload object (see batch.h).
 *
 * The reader follows jansson 2.14's decoder (load.c, utf.c) where it
 * accepts a text: whitespace is space, tab, newline and carriage return;
 * a string holds no byte below 0x20, only UTF-8 that jansson takes
 * (no overlong form, no surrogate, nothing past U+10FFFF), the escapes
 * \" \\ \/ \b \f \n \r \t and \uXXXX (a surrogate pair for one code
 * point past U+FFFF; \u0000 refused, as without JSON_ALLOW_NUL). Where it
 * is not sure it gives up: -1, and the caller reads the request with
 * jansson, which then accepts or refuses it as it always did.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "kjson.h"

/* The deepest data object handed to jansson alone: inside the request it
 * sits three levels down, so a depth near jansson's limit could pass
 * alone and fail there; far below it, both read it alike. */
#define DATA_MAX_DEPTH 64

static const char *
ws(const char *p, const char *end)
{
	while (
	    p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* What may follow a value inside an object. */
static int
after_value(const char *p, const char *end)
{
	return p < end
	    && (*p == ',' || *p == '}' || *p == ' ' || *p == '\t' || *p == '\n'
	        || *p == '\r');
}

/* The UTF-8 sequence at s (s[0] >= 0x80): its length, or 0 when jansson
 * refuses it (utf8_check_first, utf8_check_full). */
static size_t
utf8_len(const unsigned char *s, const unsigned char *end)
{
	unsigned u = s[0];
	size_t   n;
	uint32_t v;

	if (u >= 0xC2 && u <= 0xDF) {
		n = 2;
		v = u & 0x1F;
	} else if (u >= 0xE0 && u <= 0xEF) {
		n = 3;
		v = u & 0x0F;
	} else if (u >= 0xF0 && u <= 0xF4) {
		n = 4;
		v = u & 0x07;
	} else {
		return 0;
	}
	if ((size_t) (end - s) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)
	    || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000))
		return 0;
	return n;
}

/* The four hex digits at s (either case), or -1. */
static int32_t
hex4(const unsigned char *s, const unsigned char *end)
{
	int32_t v = 0;

	if (end - s < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v += (int32_t) (c - '0');
		else if (c >= 'a' && c <= 'f')
			v += (int32_t) (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v += (int32_t) (c - 'A' + 10);
		else
			return -1;
	}
	return v;
}

/* Code point v (1 .. 0x10FFFF, no surrogate) as UTF-8 at t; the end. */
static char *
utf8_put(char *t, int32_t v)
{
	if (v < 0x80) {
		*t++ = (char) v;
	} else if (v < 0x800) {
		*t++ = (char) (0xC0 | (v >> 6));
		*t++ = (char) (0x80 | (v & 0x3F));
	} else if (v < 0x10000) {
		*t++ = (char) (0xE0 | (v >> 12));
		*t++ = (char) (0x80 | ((v >> 6) & 0x3F));
		*t++ = (char) (0x80 | (v & 0x3F));
	} else {
		*t++ = (char) (0xF0 | (v >> 18));
		*t++ = (char) (0x80 | ((v >> 12) & 0x3F));
		*t++ = (char) (0x80 | ((v >> 6) & 0x3F));
		*t++ = (char) (0x80 | (v & 0x3F));
	}
	return t;
}

/*
 * The JSON string at p (its opening quote) decoded as jansson decodes it
 * into dst, NUL-terminated: never longer than its text (an escape is
 * longer than what it stands for), so dst may be the place of the text's
 * first character in a copy of the same size. Returns past the closing
 * quote, or NULL where jansson would refuse the text.
 */
static const char *
str_decode(const char *p, const char *end, char *dst)
{
	const unsigned char *s = (const unsigned char *) p + 1;
	const unsigned char *e = (const unsigned char *) end;
	char                *t = dst;

	while (s < e) {
		unsigned c = *s;
		if (c == '"') {
			*t = '\0';
			return (const char *) s + 1;
		}
		if (c < 0x20)
			return NULL;
		if (c >= 0x80) {
			size_t n = utf8_len(s, e);
			if (n == 0)
				return NULL;
			memcpy(t, s, n);
			t += n;
			s += n;
			continue;
		}
		if (c != '\\') {
			*t++ = (char) c;
			s++;
			continue;
		}
		if (e - s < 2)
			return NULL;
		switch (s[1]) {
		case '"':
		case '\\':
		case '/':
			*t++ = (char) s[1];
			break;
		case 'b':
			*t++ = '\b';
			break;
		case 'f':
			*t++ = '\f';
			break;
		case 'n':
			*t++ = '\n';
			break;
		case 'r':
			*t++ = '\r';
			break;
		case 't':
			*t++ = '\t';
			break;
		case 'u': {
			int32_t v = hex4(s + 2, e);
			if (v < 0)
				return NULL;
			s += 6;
			if (v >= 0xD800 && v <= 0xDBFF) {
				int32_t lo;
				if (e - s < 2 || s[0] != '\\' || s[1] != 'u'
				    || (lo = hex4(s + 2, e)) < 0xDC00
				    || lo > 0xDFFF)
					return NULL;
				v = ((v - 0xD800) << 10) + (lo - 0xDC00)
				    + 0x10000;
				s += 6;
			} else if ((v >= 0xDC00 && v <= 0xDFFF) || v == 0) {
				return NULL;
			}
			t = utf8_put(t, v);
			continue;
		}
		default:
			return NULL;
		}
		s += 2;
	}
	return NULL;
}

/* The key at p (its opening quote) when it has no escape: its first
 * character in *k, its length in *n; returns past the closing quote, or
 * NULL (no key there, or one with an escape). */
static const char *
plain_key(const char *p, const char *end, const char **k, size_t *n)
{
	const char *q;

	if (p >= end || *p != '"')
		return NULL;
	*k = p + 1;
	q  = memchr(*k, '"', (size_t) (end - *k));
	if (q == NULL || memchr(*k, '\\', (size_t) (q - *k)) != NULL)
		return NULL;
	*n = (size_t) (q - *k);
	return q + 1;
}

/* Past the ':' after a key at p, and the whitespace around it; NULL when
 * there is none. */
static const char *
colon(const char *p, const char *end)
{
	p = ws(p, end);
	if (p >= end || *p != ':')
		return NULL;
	return ws(p + 1, end);
}

/* An integer at p that json_dumps writes back as the same text (0, or
 * -?[1-9][0-9]{0,17}: no -0, within json_int_t), followed by what may
 * follow a value: its end, or NULL. */
static const char *
plain_int(const char *p, const char *end)
{
	const char *q = p, *d;
	size_t      n;

	if (q < end && *q == '-')
		q++;
	d = q;
	while (q < end && *q >= '0' && *q <= '9' && q - d <= 18)
		q++;
	n = (size_t) (q - d);
	if (n == 0 || n > 18 || (*d == '0' && (n > 1 || d != p))
	    || !after_value(q, end))
		return NULL;
	return q;
}

/* Past the value at p, following nesting and strings only (jansson reads
 * it afterwards); *depth the deepest nesting met. NULL when it does not
 * end before end. */
static const char *
skip_value(const char *p, const char *end, int *depth)
{
	int d = 0;

	*depth = 0;
	do {
		p = ws(p, end);
		if (p >= end)
			return NULL;
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\')
					p++;
			if (p >= end)
				return NULL;
			p++;
		} else if (*p == '{' || *p == '[') {
			if (++d > *depth)
				*depth = d;
			p++;
		} else if (*p == '}' || *p == ']') {
			d--;
			p++;
		} else {
			p++;
		}
	} while (d > 0);
	return p;
}

/* The index of a record's own field (XZ_AF_WHO .. XZ_AF_TIME) named by
 * the n bytes at k, or -1; hint: the one to try first. */
static int
own_index(const char *k, size_t n, int hint)
{
	for (int j = 0; j <= XZ_AF_TIME - XZ_AF_WHO; j++) {
		int i = XZ_AF_WHO
		    + (hint - XZ_AF_WHO + j) % (XZ_AF_TIME - XZ_AF_WHO + 1);
		const char *name = xz_audit_field_names[i];
		if (strncmp(name, k, n) == 0 && name[n] == '\0')
			return i;
	}
	return -1;
}

/*
 * The data object at p (its '{') of rec: its own fields into rec->f when
 * that is all it holds, as strings, null or plain integers; else all of
 * it read by jansson into rec->data. base is the request's text, buf the
 * batch's copy of the same size (texts go to their place in it). Returns
 * past the object, or NULL (the request is left to jansson).
 */
static const char *
data_read(const char *p, const char *end, const char *base, char *buf,
    audit_batch_rec *rec)
{
	const char *start = p, *k, *q;
	size_t      n;
	unsigned    seen = 0;
	int         i    = XZ_AF_WHO, depth;

	p = ws(p + 1, end);
	if (p < end && *p == '}') {
		p++;
		goto done;
	}
	for (;;) {
		if ((p = plain_key(p, end, &k, &n)) == NULL
		    || (i = own_index(k, n, i)) < 0 || (seen & (1u << i)) != 0
		    || (p = colon(p, end)) == NULL || p >= end)
			goto other;
		seen |= 1u << i;
		if (*p == '"') {
			char *dst = buf + (p + 1 - base);
			if ((p = str_decode(p, end, dst)) == NULL)
				return NULL; /* jansson refuses it */
			rec->f[i] = dst;
		} else if (end - p >= 4 && memcmp(p, "null", 4) == 0
		    && after_value(p + 4, end)) {
			rec->f[i] = NULL;
			p += 4;
		} else if ((q = plain_int(p, end)) != NULL) {
			char *dst = buf + (p - base);
			/* the digits, and a NUL in the place of what follows
			 * them (no string's text: nothing else goes there) */
			memcpy(dst, p, (size_t) (q - p));
			dst[q - p] = '\0';
			rec->f[i]  = dst;
			p          = q;
		} else {
			goto other;
		}
		if (++i > XZ_AF_TIME)
			i = XZ_AF_WHO;
		p = ws(p, end);
		if (p < end && *p == ',') {
			p = ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}') {
			p++;
			break;
		}
		goto other;
	}
done:
	rec->raw    = start;
	rec->rawlen = (size_t) (p - start);
	return p;
other:
	/* another key, a key twice or with an escape, another value: the
	 * object as jansson reads it (a key twice refused, as in the whole
	 * request) */
	memset(rec->f, 0, sizeof(rec->f));
	if ((p = skip_value(start, end, &depth)) == NULL
	    || depth > DATA_MAX_DEPTH)
		return NULL;
	rec->data = kit_json_loadb(
	    start, (size_t) (p - start), JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(rec->data))
		return NULL;
	goto done;
}

/* The record object at p (its '{'): "id" and "topic" strings and a "data"
 * object, each once, nothing else. Returns past it, or NULL. */
static const char *
rec_read(const char *p, const char *end, const char *base, char *buf,
    audit_batch_rec *rec)
{
	const char *k;
	size_t      n;
	unsigned    seen = 0, bit;

	p = ws(p + 1, end);
	for (;;) {
		if ((p = plain_key(p, end, &k, &n)) == NULL)
			return NULL;
		if (n == 2 && memcmp(k, "id", 2) == 0)
			bit = 1;
		else if (n == 5 && memcmp(k, "topic", 5) == 0)
			bit = 2;
		else if (n == 4 && memcmp(k, "data", 4) == 0)
			bit = 4;
		else
			return NULL;
		if ((seen & bit) != 0 || (p = colon(p, end)) == NULL
		    || p >= end)
			return NULL;
		seen |= bit;
		if (bit == 4) {
			if (*p != '{'
			    || (p = data_read(p, end, base, buf, rec)) == NULL)
				return NULL;
		} else {
			char *dst = buf + (p + 1 - base);
			if (*p != '"' || (p = str_decode(p, end, dst)) == NULL)
				return NULL;
			if (bit == 1)
				rec->id = dst;
			else
				rec->topic = dst;
		}
		p = ws(p, end);
		if (p < end && *p == ',') {
			p = ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			break;
		return NULL;
	}
	return seen == 7 ? p + 1 : NULL;
}

int
audit_batch_read(const char *s, size_t len, audit_batch *b)
{
	const char *p = s, *end;

	memset(b, 0, sizeof(*b));
	if (s == NULL || (b->buf = malloc(len + 1)) == NULL)
		return -1;
	end = s + len;
	p   = ws(p, end);
	if (p >= end || *p != '{')
		goto fail;
	p = ws(p + 1, end);
	if (end - p < 9 || memcmp(p, "\"records\"", 9) != 0
	    || (p = colon(p + 9, end)) == NULL || p >= end || *p != '[')
		goto fail;
	p = ws(p + 1, end);
	if (p < end && *p == ']') {
		p++;
	} else {
		for (;;) {
			if (b->n == b->cap) {
				size_t cap = b->cap ? 2 * b->cap : 64;
				audit_batch_rec *r
				    = realloc(b->rec, cap * sizeof(*r));
				if (r == NULL)
					goto fail;
				b->rec = r;
				b->cap = cap;
			}
			audit_batch_rec *rec = &b->rec[b->n];
			memset(rec, 0, sizeof(*rec));
			b->n++; /* rec->data is freed with b from here */
			if (p >= end || *p != '{'
			    || (p = rec_read(p, end, s, b->buf, rec)) == NULL)
				goto fail;
			p = ws(p, end);
			if (p < end && *p == ',') {
				p = ws(p + 1, end);
				continue;
			}
			if (p < end && *p == ']') {
				p++;
				break;
			}
			goto fail;
		}
	}
	p = ws(p, end);
	if (p >= end || *p != '}' || ws(p + 1, end) != end)
		goto fail;
	return 0;
fail:
	audit_batch_free(b);
	return -1;
}

void
audit_batch_free(audit_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		json_decref(b->rec[i].data);
	free(b->rec);
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

char *
audit_field_text(json_t *v)
{
	if (v == NULL || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return strdup(json_string_value(v));
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/* A JSON value as record text without a copy where it can: a string's
 * own text (valid while v is), others as JSON into *own (malloc'd, the
 * caller frees it). NULL for absent/null. */
static const char *
field_ref(json_t *v, char **own)
{
	if (json_is_string(v))
		return json_string_value(v);
	return *own = audit_field_text(v);
}

/* Whether key is one of the record's own fields (who .. time). */
static int
own_field(const char *key)
{
	for (int i = XZ_AF_WHO; i <= XZ_AF_TIME; i++)
		if (strcmp(key, xz_audit_field_names[i]) == 0)
			return 1;
	return 0;
}

void
audit_rec_from_json(json_t *o, xz_audit_rec *r, char *own[XZ_AF_COUNT])
{
	/* the other keys, sharing o's values (no deep copy) */
	json_t     *rest             = json_object();
	json_t     *actor            = json_object_get(o, "actor");
	const char *actor_keys[3][2] = { { "who", "user" }, { "role", "role" },
		{ "agency", "agency" } };
	const char *key;
	json_t     *val;

	for (int i = XZ_AF_WHO; i <= XZ_AF_TIME; i++)
		r->f[i] = field_ref(
		    json_object_get(o, xz_audit_field_names[i]), &own[i]);
	json_object_foreach(o, key, val)
	{
		if (!own_field(key))
			json_object_set(rest, key, val);
	}
	/* {"actor":{"user","role","agency"}} as requests carry it. */
	for (int i = 0; i < 3; i++)
		if (r->f[XZ_AF_WHO + i] == NULL && json_is_object(actor))
			r->f[XZ_AF_WHO + i] = field_ref(
			    json_object_get(actor, actor_keys[i][1]),
			    &own[XZ_AF_WHO + i]);
	if (json_object_size(rest) > 0)
		r->f[XZ_AF_DETAIL] = own[XZ_AF_DETAIL]
		    = json_dumps(rest, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(rest);
}
