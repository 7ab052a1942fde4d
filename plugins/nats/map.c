/*
 * map.c - subject mappings of the nats bridge (see map.h).
 */
#include "map.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Is p[0..len) a valid pattern (wild) or concrete subject (!wild)? */
static int
valid(const char *p, size_t len, int wild)
{
	size_t tok = 0;

	if (len == 0 || len > NB_SUBJECT_MAX)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || p[i] == '.') {
			if (tok == 0)
				return 0;
			if (tok == 1 && (p[i - 1] == '*' || p[i - 1] == '>')) {
				if (!wild)
					return 0;
				if (p[i - 1] == '>' && i != len)
					return 0;
			}
			tok = 0;
			continue;
		}
		unsigned char c = (unsigned char) p[i];
		if (c < 0x21 || c > 0x7e)
			return 0;
		if ((c == '*' || c == '>')
		    && !((i == 0 || p[i - 1] == '.')
		        && (i + 1 == len || p[i + 1] == '.')))
			return 0;
		tok++;
	}
	return 1;
}

void
nb_list_free(nb_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
nb_list_parse(
    const char *text, int wild, nb_list *out, char *err, size_t errlen)
{
	const char *seps = ", \t\r\n";
	const char *p    = text ? text : "";

	out->v = NULL;
	out->n = 0;
	while (*p != '\0') {
		size_t skip = strspn(p, seps), len;
		char **nv;

		p += skip;
		if (*p == '\0')
			break;
		len = strcspn(p, seps);
		if (!valid(p, len, wild)) {
			snprintf(err, errlen,
			    "'%.*s' is not a valid %s (dot-separated tokens "
			    "of printable ASCII%s)",
			    (int) (len > 80 ? 80 : len), p,
			    wild ? "topic pattern" : "topic",
			    wild ? "; '*' and '>' only as whole tokens, '>' "
			           "last"
			         : ", no wildcards");
			nb_list_free(out);
			return -1;
		}
		nv = realloc(out->v, (out->n + 1) * sizeof(*nv));
		if (nv == NULL || (nv[out->n] = strndup(p, len)) == NULL) {
			if (nv != NULL)
				out->v = nv;
			snprintf(err, errlen, "out of memory");
			nb_list_free(out);
			return -1;
		}
		out->v = nv;
		out->n++;
		p += len;
	}
	return 0;
}

int
nb_prefix_check(const char *prefix, int wild, char *err, size_t errlen)
{
	size_t len = strlen(prefix);

	if (len == 0)
		return 0;
	if (prefix[len - 1] != '.' || !valid(prefix, len - 1, wild)
	    || (len >= 2 && prefix[len - 2] == '>')) {
		snprintf(err, errlen,
		    "'%s' is not a valid prefix (tokens each followed by a "
		    "'.', e.g. \"xiezhi.prison-01.\"%s)",
		    prefix, wild ? "; '*' may stand for one token" : "");
		return -1;
	}
	return 0;
}

size_t
nb_prefix_tokens(const char *prefix)
{
	size_t n = 0;

	for (const char *p = prefix; *p != '\0'; p++)
		n += *p == '.';
	return n;
}

/* Length of the token starting at s. */
static size_t
toklen(const char *s)
{
	return strcspn(s, ".");
}

int
nb_match(const char *p, const char *s)
{
	for (;;) {
		size_t pl = toklen(p), sl = toklen(s);

		if (pl == 1 && p[0] == '>')
			return 1;
		if (!(pl == 1 && p[0] == '*')
		    && (pl != sl || memcmp(p, s, pl) != 0))
			return 0;
		p += pl;
		s += sl;
		if (*p == '\0' || *s == '\0')
			return *p == '\0' && *s == '\0';
		p++;
		s++;
	}
}

int
nb_covers(const char *cover, const char *p)
{
	for (;;) {
		size_t cl = toklen(cover), pl = toklen(p);

		if (cl == 1 && cover[0] == '>')
			return 1;
		if (pl == 1 && p[0] == '>')
			return 0; /* only '>' covers '>' */
		if (cl == 1 && cover[0] == '*')
			; /* any one token, '*' included */
		else if (pl == 1 && p[0] == '*')
			return 0;
		else if (cl != pl || memcmp(cover, p, cl) != 0)
			return 0;
		cover += cl;
		p += pl;
		if (*cover == '\0' || *p == '\0')
			return *cover == '\0' && *p == '\0';
		cover++;
		p++;
	}
}

int
nb_join(char *out, size_t outlen, const char *a, const char *b)
{
	int n = snprintf(out, outlen, "%s%s", a, b);

	return n < 0 || (size_t) n >= outlen || n > NB_SUBJECT_MAX ? -1 : 0;
}

const char *
nb_strip(const char *s, size_t ntok)
{
	for (size_t i = 0; i < ntok; i++) {
		const char *dot = strchr(s, '.');

		if (dot == NULL)
			return NULL;
		s = dot + 1;
	}
	return *s != '\0' ? s : NULL;
}

void
nb_hex16(const unsigned char id[16], char out[33])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		out[2 * i]     = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 15];
	}
	out[32] = '\0';
}

void
nb_fnv_hex(const char *s, char out[17])
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char) *s;
		h *= 0x100000001b3ULL;
	}
	snprintf(out, 17, "%016llx", (unsigned long long) h);
}
