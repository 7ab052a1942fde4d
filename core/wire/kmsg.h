/*
 * kmsg.h - a message inside the node: reference-counted, one copy shared
 * by every subscriber of a fan-out (and by a link's send queue).
 * pub.topic, pub.source and pub.data point into buf. It becomes an
 * envelope (envelope.h) only where it crosses a link.
 *
 * Small messages come from a per-thread cache (kmsg.c): a publisher
 * allocates, a subscriber's worker frees, and the memory goes back to
 * publishers in magazines of many slots, so the hot path neither calls
 * malloc nor frees across threads one message at a time.
 */
#ifndef XZ_WIRE_KMSG_H
#define XZ_WIRE_KMSG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <xiezhi/xiezhi.h>

#include "wire/principal.h"

typedef struct xz_kmsg {
	xz_msg     pub;
	atomic_int refs;
	uint16_t   cls; /* 0: malloc'd; else its cache size class + 1 */
	uint64_t   key; /* the counter half of pub.id (util/id.h) */
	/* Who sent it (one reference, released with the message), or NULL:
	 * the node itself (the kernel's own replies and errors). */
	xz_principal *who;
	char          buf[]; /* topic NUL source NUL payload NUL */
} xz_kmsg;

/* A message with id, corr, timestamp and deadline zero (the bus stamps
 * them). The caller owns the one reference. NULL on ENOMEM. */
xz_kmsg *xz_kmsg_new(int kind, const char *topic, size_t topic_len,
    const char *source, const void *data, size_t len);

static inline xz_kmsg *
xz_kmsg_ref(xz_kmsg *m)
{
	atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
	return m;
}

/* Drop one reference; the last one frees the message (on any thread).
 * NULL is ignored. */
void xz_kmsg_unref(xz_kmsg *m);

/* The message a handler's xz_msg pointer belongs to. */
static inline xz_kmsg *
xz_kmsg_of(const xz_msg *m)
{
	return (xz_kmsg *) (void *) ((char *) m - offsetof(xz_kmsg, pub));
}

#endif
