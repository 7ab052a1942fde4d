/*
 * kstr.h - bounded string building without a format string, for the
 * plugins' request paths (snprintf parses its format at each call: a few
 * hundred instructions where a copy takes a few dozen). Each cuts what
 * does not fit and always ends dst with a NUL, as snprintf does.
 */
#ifndef XZ_KSTR_H
#define XZ_KSTR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Append s at *at in dst (n bytes, n > 0), as far as it fits. */
static inline void
kstr_put(char *dst, size_t n, size_t *at, const char *s)
{
	size_t l = strlen(s);

	if (*at >= n - 1)
		return;
	if (l > n - 1 - *at)
		l = n - 1 - *at;
	memcpy(dst + *at, s, l);
	*at += l;
	dst[*at] = '\0';
}

/* dst = s, like snprintf(dst, n, "%s", s). */
static inline void
kstr_copy(char *dst, size_t n, const char *s)
{
	size_t at = 0;

	dst[0] = '\0';
	kstr_put(dst, n, &at, s);
}

/* dst = a, sep, b, sep, c (c may be NULL: a, sep, b), like
 * snprintf(dst, n, "%s.%s.%s", a, b, c) with sep ".". */
static inline void
kstr_join(char *dst, size_t n, const char *sep, const char *a, const char *b,
    const char *c)
{
	size_t at = 0;

	dst[0] = '\0';
	kstr_put(dst, n, &at, a);
	kstr_put(dst, n, &at, sep);
	kstr_put(dst, n, &at, b);
	if (c != NULL) {
		kstr_put(dst, n, &at, sep);
		kstr_put(dst, n, &at, c);
	}
}

/* dst = prefix, '-', n in at least 8 digits (zero-padded), like
 * snprintf(dst, size, "%s-%08lld", prefix, n): a record's id from its
 * kind's sequence number. */
static inline void
kstr_seq_id(char *dst, size_t size, const char *prefix, int64_t n)
{
	char     d[24];
	size_t   nd = 0, at = 0;
	uint64_t u = n < 0 ? (uint64_t) 0 - (uint64_t) n : (uint64_t) n;

	do
		d[nd++] = (char) ('0' + u % 10);
	while ((u /= 10) != 0);
	while (nd < (n < 0 ? 7u : 8u))
		d[nd++] = '0';
	if (n < 0)
		d[nd++] = '-';
	dst[0] = '\0';
	kstr_put(dst, size, &at, prefix);
	kstr_put(dst, size, &at, "-");
	for (; nd > 0 && at < size - 1; at++)
		dst[at] = d[--nd];
	dst[at] = '\0';
}

#endif
