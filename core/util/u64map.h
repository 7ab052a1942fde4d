/*
 * u64map.h - open-addressing hash map from nonzero uint64 keys to pointers.
 * Not thread-safe; the owner locks. Used for timers and pending requests.
 */
#ifndef XZ_U64MAP_H
#define XZ_U64MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct xz_u64map {
	uint64_t *keys; /* owned; 0 = empty, UINT64_MAX = deleted */
	void    **vals; /* owned array (values not owned) */
	size_t    cap; /* power of two */
	size_t    count;
	size_t    used; /* count + tombstones */
} xz_u64map;

void xz_u64map_init(xz_u64map *m);
void xz_u64map_fini(xz_u64map *m);
/* 0, or -1 on out of memory. Replaces an existing value. key != 0. */
int   xz_u64map_put(xz_u64map *m, uint64_t key, void *val);
void *xz_u64map_get(const xz_u64map *m, uint64_t key);
/* Removes and returns the value, or NULL. */
void *xz_u64map_del(xz_u64map *m, uint64_t key);

#endif
