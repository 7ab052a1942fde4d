/*
 * plugin.h - a plugin instance inside the kernel layer: an actor (first
 * member, so the sched layer's xz_actor pointer is the instance) plus what
 * the kernel knows of it. loader.c creates and frees instances; kernel.c
 * owns the list. Nothing outside core/kernel includes this.
 */
#ifndef XZ_KERNEL_PLUGIN_H
#define XZ_KERNEL_PLUGIN_H

#include <pthread.h>
#include <stdatomic.h>

#include "config/config.h"
#include "kernel/kernel.h"
#include "sched/actor.h"
#include "wire/principal.h"

struct sqlite3;

enum xz_phase {
	XZ_PHASE_LOADED = 0,
	XZ_PHASE_INITED,
	XZ_PHASE_STARTED,
	XZ_PHASE_STOPPED,
	XZ_PHASE_FAILED,
};

typedef struct xz_counter {
	char   *name; /* owned */
	int64_t value;
} xz_counter;

/* An instance's traffic by topic class, the topic's first token: the
 * messages it sent (publish, request, reply), those delivered to its
 * mailbox and the best-effort ones dropped at its full mailbox. The first
 * XZ_OUT_CLASSES classes seen either way get a slot each (named once,
 * under cmu), the rest count as "other". Reported by xz.sys.status
 * (sys.c), counted in host.c (sent; delivered and dropped through the
 * bus's count hook, xz_host_count_delivery). */
#define XZ_OUT_CLASSES 16
typedef struct xz_out_class {
	char                 name[32];
	atomic_uint_fast64_t n; /* sent */
	/* delivered, dropped: written by the publishers' threads */
	atomic_uint_fast64_t in, dropped;
} xz_out_class;
typedef struct xz_out_stats {
	atomic_uint  nclasses;
	xz_out_class cls[XZ_OUT_CLASSES + 1]; /* last: other */
} xz_out_stats;

/* How long the instance's store took to commit (store.c: from SQLite's
 * commit hook to its WAL hook, so the commits that wrote). le[i] counts
 * commits of at most xz_commit_le_us[i] (not cumulative), le[last] the
 * slower ones. */
#define XZ_COMMIT_BUCKETS 12
extern const uint32_t xz_commit_le_us[XZ_COMMIT_BUCKETS];
typedef struct xz_commit_stats {
	atomic_uint_fast64_t n, ns_sum;
	atomic_uint_fast64_t le[XZ_COMMIT_BUCKETS + 1];
	/* WAL checkpoints run: by the kernel's checkpointer thread, and by
	 * the committing thread (the WAL past CKPT_INLINE_PAGES, or no
	 * checkpointer) */
	atomic_uint_fast64_t ckpt_background, ckpt_inline;
} xz_commit_stats;

struct xz_plugin {
	xz_actor              actor; /* first */
	xz_kernel            *k;
	char                 *name; /* owned */
	const xz_plugin_desc *desc;
	xz_plugin_ext        *ext; /* desc as an extension (Lua), or NULL;
	                              released by the loader */
	const xz_plugin_cfg *pc; /* NULL for built-ins */
	xz_optvals           opts;
	void                *dl; /* dlopen handle, or NULL */
	void                *state;
	atomic_int           phase; /* enum xz_phase; read by workers */
	int                  index; /* start order */

	pthread_mutex_t cmu; /* counters */
	xz_counter     *counters; /* owned */
	size_t          ncounters;

	struct sqlite3 *db; /* store.c; NULL until first use */
	/* store.c: its entry in the checkpointer (owned by k->ckpt), or
	 * NULL (none: SQLite checkpoints on the committing thread). */
	struct xz_ckpt_store *ckpt;
	/* store.c: CLOCK_MONOTONIC ns at which the store's commit began, 0
	 * when none is under way (the plugin's thread only) */
	uint64_t commit_t0;

	xz_out_stats    out; /* host.c */
	xz_commit_stats commits; /* store.c */

	/* Who the instance's messages come from: "plugin:<name>" (role
	 * "plugin"), or the node's principal for the built-in sys actor. One
	 * reference, released by the loader. */
	xz_principal *who;

	/* isolation = "process": the supervisor of its child (isolate.c),
	 * owned; NULL for an instance that runs in the node. */
	struct xz_isolate *iso;
	/* The handler watch (isolate.c): batches handled when last seen,
	 * since when (monotonic us), reported for this stall. */
	uint64_t             wd_handled, wd_since_us;
	bool                 wd_reported;
	atomic_uint_fast64_t handler_timeouts;
};

static inline xz_plugin *
xz_plugin_of(xz_actor *a)
{
	return (xz_plugin *) (void *) a;
}

/* The instance whose callback runs on this thread, or NULL. */
static inline xz_plugin *
xz_plugin_current(void)
{
	return xz_current_actor ? xz_plugin_of(xz_current_actor) : NULL;
}

/* From now on only fini runs: no handler, timer or reply callback. */
static inline void
xz_plugin_fail(xz_plugin *p)
{
	atomic_store(&p->phase, XZ_PHASE_FAILED);
	atomic_store(&p->actor.failed, true);
}

#endif
