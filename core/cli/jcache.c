/*
 * jcache.c - a per-thread cache of freed blocks for jansson's values
 * (jcache.h).
 *
 * A request's JSON is a tree of small blocks (a value, a member, a key,
 * a table of buckets): built, read and freed within the request, often
 * dozens of the same size at once. glibc's per-thread cache keeps 7
 * blocks of a size; the rest of a freed tree goes to the arena's bins
 * (and back), its slow path. Here each thread keeps up to JC_CAP freed
 * blocks of each size up to JC_MAX_CHUNK, JC_BYTES in all, handed out
 * again by the next allocation of that size class.
 *
 * Every block is one malloc gave (its size class is its chunk size,
 * malloc_usable_size + 8): a block of the cache is a plain malloc'd
 * block, so a text that jansson allocated (json_dumps) is still freed
 * with free() by whoever took it, and a block malloc'd elsewhere may come
 * back through json_decref into the cache. A thread's blocks go back to
 * malloc when it ends (a key's destructor), the main thread's at exit.
 *
 * Not installed in a sanitizer build (it would hide a use after free
 * from ASan), with jemalloc (main.c: its own thread caches do this), or
 * when XZ_JSON_CACHE=0.
 */
#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jcache.h"

#if defined(__SANITIZE_ADDRESS__)
#define JC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JC_ASAN 1
#endif
#endif
#ifndef JC_ASAN
#define JC_ASAN 0
#endif

#if JC_ASAN
/* a sanitizer build: not installed (it would hide a use after free) */
int
xz_jcache_install(void)
{
	return 0;
}
#else

/* glibc's chunks: 16-byte steps from 32, usable size = chunk - 8 */
#define JC_MIN_CHUNK 32
#define JC_MAX_CHUNK 1024
#define JC_CLASSES (JC_MAX_CHUNK / 16 - 1)
#define JC_CAP 256 /* blocks a class keeps */
#define JC_BYTES (256 * 1024) /* bytes of blocks a thread keeps */

struct jc_free {
	struct jc_free *next;
};

/* A thread's cache: the lists of free blocks by class, and how many each
 * holds. Zero until the thread's first free. */
struct jc_thread {
	struct jc_free *head[JC_CLASSES];
	uint16_t        n[JC_CLASSES];
	size_t          bytes; /* of the blocks kept, by their chunks */
	int             registered; /* with the key, for its destructor */
};

static _Thread_local struct jc_thread jc;
static pthread_key_t                  jc_key;
static int                            jc_on;

/* The class of a chunk of `chunk` bytes, or -1 when it is not kept. */
static inline int
jc_class(size_t chunk)
{
	if (chunk < JC_MIN_CHUNK || chunk > JC_MAX_CHUNK)
		return -1;
	return (int) (chunk / 16) - 2;
}

/* Give the blocks of t back to malloc. */
static void
jc_drain(struct jc_thread *t)
{
	for (int c = 0; c < JC_CLASSES; c++) {
		while (t->head[c] != NULL) {
			struct jc_free *b = t->head[c];
			t->head[c]        = b->next;
			free(b);
		}
		t->n[c] = 0;
	}
	t->bytes = 0;
}

static void
jc_thread_end(void *arg)
{
	struct jc_thread *t = arg;
	jc_drain(t);
	t->registered = 0; /* a later free registers again */
}

static void
jc_exit(void)
{
	jc_drain(&jc);
}

static void *
jc_malloc(size_t size)
{
	/* the chunk malloc would give for size */
	size_t chunk = (size + 8 + 15) & ~(size_t) 15;
	int    c     = jc_class(chunk < JC_MIN_CHUNK ? JC_MIN_CHUNK : chunk);

	if (c >= 0 && jc.head[c] != NULL) {
		struct jc_free *b = jc.head[c];
		jc.head[c]        = b->next;
		jc.n[c]--;
		jc.bytes -= (size_t) (c + 2) * 16;
		return b;
	}
	return malloc(size);
}

static void
jc_free(void *p)
{
	size_t chunk;
	int    c;

	if (p == NULL)
		return;
	chunk = malloc_usable_size(p) + 8;
	c     = jc_class(chunk);
	if (c < 0 || jc.n[c] >= JC_CAP || jc.bytes + chunk > JC_BYTES) {
		free(p);
		return;
	}
	if (!jc.registered) {
		/* the destructor runs only for a value set in the thread */
		if (pthread_setspecific(jc_key, &jc) != 0) {
			free(p);
			return;
		}
		jc.registered = 1;
	}
	((struct jc_free *) p)->next = jc.head[c];
	jc.head[c]                   = p;
	jc.n[c]++;
	jc.bytes += chunk;
}

int
xz_jcache_install(void)
{
	const char *env = getenv("XZ_JSON_CACHE");

	if (jc_on || (env != NULL && strcmp(env, "0") == 0))
		return jc_on;
	if (pthread_key_create(&jc_key, jc_thread_end) != 0
	    || atexit(jc_exit) != 0)
		return 0;
	json_set_alloc_funcs(jc_malloc, jc_free);
	jc_on = 1;
	return 1;
}
#endif
