/*
 * actor.h - actors and the worker pool that runs them (the sched layer).
 *
 * An actor is a bounded mailbox of messages plus an unbounded control lane
 * of jobs. Workers run one actor at a time on one thread, so whatever an
 * actor's callbacks touch is never entered by two threads at once. The
 * kernel makes each plugin instance an actor; the layer knows nothing of
 * plugins, topics or links: a mailbox entry is a message and the receiver
 * (xz_recv) it came through, and a job is a function to run.
 *
 * Locks: actor.mu guards blocked publishers and close; sched.rq_mu the
 * run queue. Neither is taken under the other; a delivery to a mailbox
 * with room, and a job, take no lock at all.
 */
#ifndef XZ_SCHED_ACTOR_H
#define XZ_SCHED_ACTOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/clock.h"
#include "wire/kmsg.h"
#include <xiezhi/xiezhi.h>

/* Keeps the members after it off the cache line of those before it
 * (whatever the enclosing allocation's alignment), so that threads
 * writing one group do not slow down threads reading another. */
#define XZ_CACHE_LINE 64

typedef struct xz_sched xz_sched;
typedef struct xz_actor xz_actor;

/*
 * What a message is delivered through (the bus's subscription embeds one
 * as its first member). Reference-counted: each queued message holds one.
 * destroy runs at the last unref and frees the whole object.
 */
typedef struct xz_recv {
	atomic_bool active; /* false: unsubscribed, queued messages skip it */
	xz_handler  fn;
	void       *ud;
	void (*destroy)(struct xz_recv *r);
	/* Publishers write refs once per message, the worker reads the
	 * members above once per message: apart, those reads do not miss. */
	char       line_[XZ_CACHE_LINE];
	atomic_int refs;
} xz_recv;

static inline void
xz_recv_ref(xz_recv *r)
{
	atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
}

static inline void
xz_recv_unref(xz_recv *r)
{
	if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1)
		r->destroy(r);
}

/*
 * A control-lane job, embedded as the first member of its owner's struct.
 * Exactly one of run and drop is called, once; either frees the job's
 * container. drop replaces run when the actor has failed (unless
 * `kernel` is set: kernel posts still run, they include fini) and for
 * what is still queued at shutdown.
 */
typedef struct xz_job {
	struct xz_job *next;
	void (*run)(struct xz_job *j);
	void (*drop)(struct xz_job *j);
	bool kernel;
} xz_job;

typedef struct xz_mail {
	xz_kmsg *msg; /* one reference */
	xz_recv *recv; /* one reference */
} xz_mail;

/* A mailbox slot. Position p (counted from 0 forever) lives in slot
 * p & ring_mask; seq == p + 1 says a publisher finished writing it. */
typedef struct xz_slot {
	atomic_uint_fast64_t seq;
	xz_mail              mail;
} xz_slot;

/*
 * A publish's deadline, read from the clock only when some mailbox is
 * full: most deliveries never wait, and one deadline serves every target
 * of the publish. mono_us 0: not computed yet.
 */
typedef struct xz_deadline {
	uint64_t timeout_us;
	uint64_t mono_us;
} xz_deadline;

static inline uint64_t
xz_deadline_mono(xz_deadline *d)
{
	if (d->mono_us == 0)
		d->mono_us = xz_mono_us() + d->timeout_us;
	return d->mono_us;
}

/*
 * Members are grouped by who writes them, each group on its own cache
 * lines: what publishers write per message, what the worker writes per
 * batch, and the slow paths.
 */
struct xz_actor {
	/* Set at init (failed and closed: once), read by everyone. */
	xz_sched   *s;
	const char *name; /* borrowed from the owner, for logs */
	xz_slot    *ring; /* owned, ring_mask + 1 slots (a power of 2) */
	uint32_t    cap, ring_mask;
	/* Set once a callback failed for good: no handler, timer or reply
	 * callback runs afterwards. */
	atomic_bool failed;
	atomic_bool closed; /* no more deliveries */
	/* Optional: after each batch (group commit), in the actor's context,
	 * called with *batch_state (the owner's state as it is then). */
	void (*batch_end)(void *state);
	void **batch_state;
	char   line0_[XZ_CACHE_LINE];

	/* Publishers, per message. count: messages queued or being written
	 * (a publisher reserves one before it takes a position), <= cap;
	 * plus, while a worker runs the actor, fewer than release_min
	 * messages it took and has not yet given the room of.
	 * delivered: messages accepted, which is also the next position.
	 * scheduled: on the run queue or running; set by whoever finds it
	 * clear, cleared by the worker when the actor has nothing left. */
	atomic_uint          count;
	atomic_uint_fast64_t delivered;
	atomic_bool          scheduled;
	char                 line1_[XZ_CACHE_LINE];

	/* The worker running the actor. */
	uint64_t             head; /* next position to take */
	uint32_t             taken; /* taken, room not yet given back */
	uint32_t             release_min; /* give room back in these steps */
	xz_actor            *rq_next; /* under sched.rq_mu */
	atomic_uint_fast64_t handled;
	char                 line2_[XZ_CACHE_LINE];

	/* The control lane: a stack of jobs, newest first (a push is one
	 * CAS; the worker takes them all at once and runs them oldest
	 * first). Each job is owned by the lane until run or dropped. */
	_Atomic(xz_job *) jobs;
	/* Slow paths, under mu: blocked publishers, close. */
	pthread_mutex_t      mu;
	pthread_cond_t       not_full; /* monotonic clock */
	atomic_uint          waiters; /* publishers blocked on not_full */
	uint64_t             last_wake_us; /* of blocked publishers */
	atomic_uint_fast64_t dropped, timeouts;
};

/* The actor whose callback runs on this thread, or NULL. */
extern _Thread_local xz_actor *xz_current_actor;

/* The pool. NULL on ENOMEM. Free with xz_sched_free after stop. */
xz_sched *xz_sched_new(void);
void      xz_sched_free(xz_sched *s);
int       xz_sched_start(xz_sched *s, int nworkers);
/* Workers finish what is on the run queue, then exit. */
void xz_sched_stop(xz_sched *s);
/* Wait until no message or job is queued or running, or timeout_ms
 * passed. 0 when quiet. */
int xz_sched_wait_quiet(xz_sched *s, int timeout_ms);

int xz_actor_init(xz_actor *a, xz_sched *s, const char *name, uint32_t cap);
/* Drops what is still queued (after the workers stopped) and frees. */
void xz_actor_fini(xz_actor *a);
/* No more deliveries: blocked publishers get XZ_ECLOSED. */
void xz_actor_close(xz_actor *a);
/*
 * Queue msg for a through recv. XZ_OK; XZ_EFULL when dropped (best effort,
 * no deadline (dl NULL), or a full mailbox of the calling actor itself,
 * which must never wait on its own mailbox); XZ_ETIMEDOUT after waiting
 * until the deadline; XZ_ECLOSED. On XZ_OK the mailbox takes over one of
 * the caller's references on msg and one on recv; on error the caller
 * keeps them.
 */
int xz_actor_deliver(xz_actor *a, xz_kmsg *msg, xz_recv *recv,
    bool best_effort, xz_deadline *dl);
/* Append a job to the control lane; never fails, never blocks. */
void xz_actor_job(xz_actor *a, xz_job *job);
/* Run fn(arg) in a's context and wait for it (kernel use: init, start,
 * stop). XZ_ENOMEM and fn is not called. */
int xz_actor_call(xz_actor *a, void (*fn)(void *), void *arg);

#endif
