/*
 * fuzz_topic.c - libFuzzer target: the input is "pattern\0topic". Validation
 * must not read past the given length; for a valid pair, xz_topic_match and
 * a one-pattern xz_tindex must agree; an invalid topic matches nothing in
 * the index. Build and run with tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/topic.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t         plen, tlen;
	char          *p, *t;
	xz_tindex     *ix;
	int            item;

	if (nul == NULL)
		return 0;
	plen = (size_t) (nul - data);
	tlen = size - plen - 1;
	if ((p = malloc(plen + 1)) == NULL || (t = malloc(tlen + 1)) == NULL)
		abort();
	memcpy(p, data, plen);
	p[plen] = '\0';
	memcpy(t, nul + 1, tlen);
	t[tlen] = '\0';

	/* The index and xz_topic_match see t up to its first NUL. */
	tlen   = strlen(t);
	int pv = xz_pattern_valid(p, plen);
	int tv = xz_topic_valid(t, tlen);
	if (xz_topic_valid(p, plen) && !pv)
		abort(); /* every topic is a pattern */
	if ((ix = xz_tindex_new()) == NULL)
		abort();
	if (xz_tindex_add(ix, p, &item) != (pv ? 0 : -1))
		abort();
	size_t n = xz_tindex_match(ix, t, NULL, NULL);
	if (!tv && n != 0)
		abort();
	if (pv && tv && (size_t) xz_topic_match(p, t) != n)
		abort();
	if (xz_tindex_size(ix) == 1
	    && (xz_tindex_remove(ix, p, &item) != 0
	        || xz_tindex_node_count(ix) != 1))
		abort();
	xz_tindex_free(ix);
	free(p);
	free(t);
	return 0;
}
