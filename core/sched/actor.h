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
 * Lock order: actor.mu -> sched.rq_mu. Nothing else is taken under either.
 */
#ifndef XZ_SCHED_ACTOR_H
#define XZ_SCHED_ACTOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "wire/kmsg.h"
#include <xiezhi/xiezhi.h>

typedef struct xz_sched xz_sched;
typedef struct xz_actor xz_actor;

/*
 * What a message is delivered through (the bus's subscription embeds one
 * as its first member). Reference-counted: each queued message holds one.
 * destroy runs at the last unref and frees the whole object.
 */
typedef struct xz_recv {
	atomic_int  refs;
	atomic_bool active; /* false: unsubscribed, queued messages skip it */
	xz_handler  fn;
	void       *ud;
	void (*destroy)(struct xz_recv *r);
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

struct xz_actor {
	xz_sched       *s;
	const char     *name; /* borrowed from the owner, for logs */
	pthread_mutex_t mu;
	pthread_cond_t  not_full; /* monotonic clock */
	xz_mail        *ring; /* owned, cap slots */
	uint32_t        cap, head, count;
	uint32_t        waiters;
	uint64_t        last_wake_us; /* of blocked publishers */
	xz_job         *jobs, *jobs_tail;
	bool            scheduled;
	bool            closed;
	xz_actor       *rq_next;
	/* Set once a callback failed for good: no handler, timer or reply
	 * callback runs afterwards. */
	atomic_bool failed;
	/* Optional: after each batch (group commit), in the actor's context,
	 * called with *batch_state (the owner's state as it is then). */
	void (*batch_end)(void *state);
	void **batch_state;

	atomic_uint_fast64_t delivered, handled, dropped, timeouts;
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
 * no deadline, or a full mailbox of the calling actor itself, which must
 * never wait on its own mailbox); XZ_ETIMEDOUT after waiting until
 * deadline_mono_us; XZ_ECLOSED. Takes its own references on msg and recv.
 */
int xz_actor_deliver(xz_actor *a, xz_kmsg *msg, xz_recv *recv,
    bool best_effort, uint64_t deadline_mono_us);
/* Append a job to the control lane; never fails, never blocks. */
void xz_actor_job(xz_actor *a, xz_job *job);
/* Run fn(arg) in a's context and wait for it (kernel use: init, start,
 * stop). XZ_ENOMEM and fn is not called. */
int xz_actor_call(xz_actor *a, void (*fn)(void *), void *arg);

#endif
