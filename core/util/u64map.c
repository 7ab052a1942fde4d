#include "util/u64map.h"

#include <stdlib.h>
#include <string.h>

#define TOMB UINT64_MAX

static size_t
slot(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (size_t) key & (cap - 1);
}

void
xz_u64map_init(xz_u64map *m)
{
	memset(m, 0, sizeof(*m));
}

void
xz_u64map_fini(xz_u64map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* Rehash into a table twice as big, or the same size when most of the
 * used slots are tombstones. */
static int
grow(xz_u64map *m)
{
	size_t    cap  = m->cap == 0
	        ? 64
	        : (m->count * 2 < m->used ? m->cap : m->cap * 2);
	uint64_t *keys = calloc(cap, sizeof(*keys));
	void    **vals = calloc(cap, sizeof(*vals));

	if (keys == NULL || vals == NULL) {
		free(keys);
		free(vals);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i] == 0 || m->keys[i] == TOMB)
			continue;
		size_t j = slot(m->keys[i], cap);
		while (keys[j] != 0)
			j = (j + 1) & (cap - 1);
		keys[j] = m->keys[i];
		vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap  = cap;
	m->used = m->count;
	return 0;
}

int
xz_u64map_put(xz_u64map *m, uint64_t key, void *val)
{
	size_t i, tomb = SIZE_MAX;

	if ((m->used + 1) * 4 >= m->cap * 3 && grow(m) != 0)
		return -1;
	for (i = slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return 0;
		}
		if (m->keys[i] == TOMB && tomb == SIZE_MAX)
			tomb = i;
		if (m->keys[i] == 0)
			break;
	}
	if (tomb != SIZE_MAX)
		i = tomb;
	else
		m->used++;
	m->keys[i] = key;
	m->vals[i] = val;
	m->count++;
	return 0;
}

void *
xz_u64map_get(const xz_u64map *m, uint64_t key)
{
	if (m->cap == 0)
		return NULL;
	for (size_t i = slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key)
			return m->vals[i];
		if (m->keys[i] == 0)
			return NULL;
	}
}

void *
xz_u64map_del(xz_u64map *m, uint64_t key)
{
	if (m->cap == 0)
		return NULL;
	for (size_t i = slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			void *v    = m->vals[i];
			m->keys[i] = TOMB;
			m->vals[i] = NULL;
			m->count--;
			return v;
		}
		if (m->keys[i] == 0)
			return NULL;
	}
}
