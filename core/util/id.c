/* id.c - message ids (see id.h). */
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util/id.h"

void
xz_idgen_init(xz_idgen *g)
{
	if (getrandom(&g->prefix, sizeof(g->prefix), 0)
	    != (ssize_t) sizeof(g->prefix))
		g->prefix = (uint64_t) getpid() << 32 ^ (uint64_t) time(NULL);
	atomic_init(&g->next, 0);
}

void
xz_idgen_next(xz_idgen *g, uint8_t id[16], uint64_t *key)
{
	uint64_t n
	    = atomic_fetch_add_explicit(&g->next, 1, memory_order_relaxed) + 1;
	uint64_t p = g->prefix;

	for (int i = 0; i < 8; i++) {
		id[i]     = (uint8_t) (p >> (8 * i));
		id[8 + i] = (uint8_t) (n >> (8 * i));
	}
	if (key != NULL)
		*key = n;
}

uint64_t
xz_id_key(const uint8_t id[16])
{
	uint64_t v = 0;
	for (int i = 15; i >= 8; i--)
		v = (v << 8) | id[i];
	return v;
}
