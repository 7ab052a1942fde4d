/*
 * kmsg.c - the node's reference-counted message (see kmsg.h), and the
 * cache its small allocations come from.
 *
 * The cache follows Bonwick's magazines: each thread keeps two magazines
 * (arrays of free slots) per size class and allocates and frees from them
 * without locks or atomics; an empty or full magazine is exchanged whole
 * at a process-wide depot under its mutex. A publisher that only
 * allocates and a worker that only frees then meet once per MAG_SLOTS
 * messages, instead of in malloc's arena lock once per message. What the
 * cache holds is bounded: DEPOT_BYTES a class in the depot and two
 * magazines a thread; beyond that slots go back to free().
 *
 * Under AddressSanitizer the cache is off unless XZ_KMSG_CACHE=1 is
 * defined: ASan's quarantine then catches a message used after its last
 * unref, which immediate reuse would hide. With the cache on anyway,
 * cached slots are poisoned.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "wire/kmsg.h"

#if defined(__SANITIZE_ADDRESS__)
#define KMSG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KMSG_ASAN 1
#endif
#endif

#ifndef XZ_KMSG_CACHE
#ifdef KMSG_ASAN
#define XZ_KMSG_CACHE 0
#else
#define XZ_KMSG_CACHE 1
#endif
#endif

#ifdef KMSG_ASAN
#include <sanitizer/asan_interface.h>
#define SLOT_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define SLOT_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define SLOT_POISON(p, n) ((void) (p), (void) (n))
#define SLOT_UNPOISON(p, n) ((void) (p), (void) (n))
#endif

static inline void
prefetch_w(const void *p)
{
	/* The header (112 bytes) spans two or three 64-byte lines. */
	__builtin_prefetch(p, 1, 3);
	__builtin_prefetch((const char *) p + 64, 1, 3);
	__builtin_prefetch((const char *) p + 127, 1, 3);
}

/* Slot sizes: 256 bytes hold an event with ~100 bytes of payload (the
 * header is 112), 1024 most JSON documents; larger ones use malloc. */
static const size_t class_size[] = { 256, 1024 };
#define NCLASS (sizeof(class_size) / sizeof(class_size[0]))
/* One depot visit per 64 messages; a magazine is 528 bytes. */
#define MAG_SLOTS 64
/* Full magazines a class may keep in the depot: 1 MB of slots, enough
 * for a few thousand messages in flight (a full default mailbox is 4096)
 * without a trip to malloc when they come back. */
#define DEPOT_BYTES (1u << 20)
#define DEPOT_MAX(c) (DEPOT_BYTES / (class_size[c] * MAG_SLOTS))

typedef struct kmag {
	struct kmag *next; /* in a depot list */
	unsigned     n;
	void        *slot[MAG_SLOTS]; /* owned: free slots of one class */
} kmag;

/* The depot: full and empty magazines (owned), one mutex a class. */
static struct depot {
	pthread_mutex_t mu;
	kmag           *full, *empty;
	unsigned        nfull, nempty;
} depot[NCLASS];

/* A thread's magazines (owned, either may be NULL). */
typedef struct tcache {
	kmag *cur[NCLASS], *prev[NCLASS];
} tcache;

/* Owned by its thread; tcache_exit hands it back when the thread ends. */
static _Thread_local tcache *tls;
static pthread_key_t         tls_key;
static pthread_once_t        tls_once = PTHREAD_ONCE_INIT;
static int                   tls_ok;

/* Free every slot of m and empty it. */
static void
mag_drain(kmag *m, unsigned c)
{
	while (m->n > 0) {
		void *s = m->slot[--m->n];
		SLOT_UNPOISON(s, class_size[c]);
		free(s);
	}
}

/* Give m (no longer the thread's) to the depot, or free it when the
 * depot is at its bound. */
static void
depot_put(unsigned c, kmag *m)
{
	struct depot *d = &depot[c];

	if (m == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	if (m->n > 0 && d->nfull < DEPOT_MAX(c)) {
		m->next = d->full;
		d->full = m;
		d->nfull++;
		m = NULL;
	} else if (m->n == 0 && d->nempty < DEPOT_MAX(c)) {
		m->next  = d->empty;
		d->empty = m;
		d->nempty++;
		m = NULL;
	}
	pthread_mutex_unlock(&d->mu);
	if (m != NULL) {
		mag_drain(m, c);
		free(m);
	}
}

/* Take a full (want_full) or an empty magazine from the depot, or NULL. */
static kmag *
depot_get(unsigned c, bool want_full)
{
	struct depot *d = &depot[c];
	kmag        **l = want_full ? &d->full : &d->empty;
	kmag         *m;

	pthread_mutex_lock(&d->mu);
	if ((m = *l) != NULL) {
		*l = m->next;
		if (want_full)
			d->nfull--;
		else
			d->nempty--;
	}
	pthread_mutex_unlock(&d->mu);
	return m;
}

static void
tcache_exit(void *arg)
{
	tcache *t = arg;

	for (unsigned c = 0; c < NCLASS; c++) {
		depot_put(c, t->cur[c]);
		depot_put(c, t->prev[c]);
	}
	free(t);
	tls = NULL;
}

static void
tcache_once(void)
{
	for (unsigned c = 0; c < NCLASS; c++)
		pthread_mutex_init(&depot[c].mu, NULL);
	tls_ok = pthread_key_create(&tls_key, tcache_exit) == 0;
}

/* This thread's cache, or NULL (no memory for it: use malloc). */
static tcache *
tcache_get(void)
{
	tcache *t = tls;

	if (t != NULL || !XZ_KMSG_CACHE)
		return t;
	pthread_once(&tls_once, tcache_once);
	if (!tls_ok || (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if (pthread_setspecific(tls_key, t) != 0) {
		free(t);
		return NULL;
	}
	return tls = t;
}

/* A slot of class c: from the thread's magazines, else a full magazine
 * from the depot (the emptied previous one goes back), else malloc. */
static void *
slot_get(tcache *t, unsigned c)
{
	kmag *m = t->cur[c];

	if (m == NULL || m->n == 0) {
		kmag *p = t->prev[c];
		if (p != NULL && p->n > 0) {
			t->prev[c] = m;
			t->cur[c] = m = p;
		} else if ((p = depot_get(c, true)) != NULL) {
			depot_put(c, t->prev[c]);
			t->prev[c] = m;
			t->cur[c] = m = p;
		} else
			return malloc(class_size[c]);
	}
	void *s = m->slot[--m->n];
	SLOT_UNPOISON(s, class_size[c]);
	/* The next slot was last written by the thread that freed it: ask
	 * for its header lines now, so the next message's writes find them
	 * here instead of stalling the locked instructions after them. */
	if (m->n > 0)
		prefetch_w(m->slot[m->n - 1]);
	return s;
}

/* Keep slot s of class c: in the thread's magazines, else after handing
 * the full previous one to the depot for an empty one. */
static void
slot_put(tcache *t, unsigned c, void *s)
{
	kmag *m = t->cur[c];

	if (m == NULL || m->n == MAG_SLOTS) {
		kmag *p = t->prev[c];
		if (p != NULL && p->n < MAG_SLOTS) {
			t->prev[c] = m;
			t->cur[c] = m = p;
		} else {
			if ((p = depot_get(c, false)) == NULL
			    && (p = malloc(sizeof(*p))) == NULL) {
				free(s);
				return;
			}
			p->n = 0;
			depot_put(c, t->prev[c]);
			t->prev[c] = m;
			t->cur[c] = m = p;
		}
	}
	SLOT_POISON(s, class_size[c]);
	m->slot[m->n++] = s;
}

xz_kmsg *
xz_kmsg_new(int kind, const char *topic, size_t topic_len, const char *source,
    const void *data, size_t len)
{
	size_t   slen = source ? strlen(source) : 0;
	size_t   need = sizeof(xz_kmsg) + topic_len + 1 + slen + 1 + len + 1;
	unsigned cls  = 0;
	tcache  *t;
	xz_kmsg *m;

	while (cls < NCLASS && need > class_size[cls])
		cls++;
	if (cls < NCLASS && (t = tcache_get()) != NULL) {
		m = slot_get(t, cls);
		cls++;
	} else {
		m   = malloc(need);
		cls = 0;
	}
	if (m == NULL)
		return NULL;
	memset(m, 0, sizeof(*m));
	atomic_init(&m->refs, 1);
	m->cls             = (uint16_t) cls;
	m->pub.struct_size = sizeof(xz_msg);
	m->pub.kind        = (uint8_t) kind;
	char *p            = m->buf;
	memcpy(p, topic, topic_len);
	p[topic_len]     = '\0';
	m->pub.topic     = p;
	m->pub.topic_len = topic_len;
	p += topic_len + 1;
	if (slen)
		memcpy(p, source, slen);
	p[slen]       = '\0';
	m->pub.source = p;
	p += slen + 1;
	if (len)
		memcpy(p, data, len);
	p[len]      = '\0';
	m->pub.data = p;
	m->pub.len  = len;
	return m;
}

void
xz_kmsg_unref(xz_kmsg *m)
{
	tcache *t;

	if (m == NULL)
		return;
	/* The only reference left is ours, so no thread can add one: free
	 * without a locked write to a line the publisher will reuse. */
	if (atomic_load_explicit(&m->refs, memory_order_acquire) != 1
	    && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel)
	        != 1)
		return;
	if (m->who != NULL)
		xz_principal_unref(m->who);
	if (m->cls != 0 && (t = tcache_get()) != NULL)
		slot_put(t, m->cls - 1u, m);
	else
		free(m); /* malloc'd, or a slot on a thread without a cache */
}
