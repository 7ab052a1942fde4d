/*
 * id.h - message ids: 128 bits, a random per-node prefix (high half on
 * the wire: bytes 0..7) and a per-node counter (bytes 8..15). The counter
 * is also the key of a pending request, so a reply finds its request by
 * the low half of its correlation id without hashing 16 bytes.
 */
#ifndef XZ_UTIL_ID_H
#define XZ_UTIL_ID_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct xz_idgen {
	uint64_t             prefix;
	atomic_uint_fast64_t next;
} xz_idgen;

void xz_idgen_init(xz_idgen *g);
/* A new id; *key (if not NULL) gets its counter half. */
void xz_idgen_next(xz_idgen *g, uint8_t id[16], uint64_t *key);
/* The counter half of an id. */
uint64_t xz_id_key(const uint8_t id[16]);

#endif
