/*
 * actor.c - plugin instances as actors: bounded mailboxes, the control
 * lane, and the worker pool that runs them.
 *
 * The mailbox is a bounded multi-producer, single-consumer ring. A
 * publisher reserves room (count, never above cap), takes the next
 * position (delivered), writes the slot and marks it written (seq); no
 * lock is taken while there is room. Only one worker at a time consumes:
 * the one that set `scheduled`, or took the actor off the run queue.
 *
 * Scheduling: whoever finds `scheduled` clear sets it and puts the actor
 * on the run queue. The worker takes a batch of up to ACTOR_BATCH
 * messages plus every queued job (jobs first), runs them, and keeps the
 * actor while it has mail and no other actor waits for a worker (so a
 * steady stream costs no run-queue traffic); with others waiting it goes
 * to the back of the run queue after each batch, so a busy actor cannot
 * starve the others. Out of mail, the worker polls it briefly before it
 * lets go (ACTOR_SPIN), then clears `scheduled` and looks once more.
 * A sleeping worker is woken only when no worker polls the run queue,
 * and a worker inside a callback puts that off while it may take the
 * actor itself (tls_owed).
 *
 * Backpressure: a full mailbox makes a business publisher wait on
 * not_full (bounded by the publish deadline); a best-effort publisher
 * drops and counts. An actor can never wait on its own mailbox (it would
 * deadlock): it gets XZ_EFULL at once.
 *
 * The worker gives room back (count) every few messages and before it
 * lets go (release_room), so count may exceed what is queued by less than
 * release_min while a worker runs the actor.
 *
 * Memory order: two pairs of flags must never both miss each other
 * (Dekker's pattern), so each side writes, then reads, with seq_cst:
 *   publisher: slot seq (or the jobs stack), then scheduled;
 *   worker:    scheduled = false, then slot seq and the jobs stack;
 *   blocked publisher: waiters++, then count;
 *   worker:    count -= n, then waiters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched/actor.h"
#include "util/clock.h"

#define ACTOR_BATCH 256
/* A worker polls an actor that just ran out of mail this many times
 * (a few microseconds) before letting it go, while no other actor waits:
 * a publisher on another core usually refills it meanwhile, and then
 * pays no run-queue push and the worker no pop. */
#define ACTOR_SPIN 100
/* A business publisher that finds the mailbox full retries this many
 * times (~20 us) before it sleeps on not_full: a running worker frees a
 * batch of room at once, and a futex sleep and wake-up on each side
 * costs more than that in a virtual machine. */
#define ROOM_SPIN 300
/* A worker that makes another actor runnable from inside a callback
 * puts off waking a sleeping worker (tls_owed) for at most this many
 * further deliveries of the same callback (a job publishing in a loop). */
#define DEFER_DELIVERIES 16
/* An idle worker polls the run queue this many times (~20 us) before it
 * sleeps on the condition variable: under load this saves a futex
 * wait/wake pair per hand-off; when idle it costs nothing. */
#define WORKER_SPIN 300

struct xz_sched {
	pthread_t      *workers; /* owned */
	int             nworkers;
	pthread_mutex_t rq_mu;
	pthread_cond_t  rq_cv;
	xz_actor       *rq_head, *rq_tail;
	int             rq_idle; /* workers asleep on rq_cv */
	atomic_int      rq_polling; /* workers polling rq_len (rq_pop) */
	atomic_int      rq_len; /* run queue length, read unlocked */
	bool            rq_stop;
	/* Actors with `scheduled` set: so nothing is queued or running
	 * when it is 0. Counted per actor rather than per message, so a
	 * delivery does not write this line, shared by every publisher. */
	atomic_long     inflight;
	pthread_mutex_t quiet_mu;
	pthread_cond_t  quiet_cv;
};

_Thread_local xz_actor *xz_current_actor;

/*
 * A worker that makes an actor runnable from inside a callback does not
 * wake a sleeping worker at once: it is free again when the callback
 * returns, usually within a microsecond, and then takes the actor itself
 * (a request and its reply go back and forth on one worker), whereas a
 * futex wake-up, and in a virtual machine the other vCPU's, costs tens
 * of microseconds on that path. The wake-up is owed, and paid where it
 * is still needed: before the batch's next callback or its batch_end,
 * after DEFER_DELIVERIES more deliveries, before the worker blocks (a
 * full mailbox, xz_actor_call), and at the end of the batch for what the
 * worker will not take itself. Callbacks must not block (docs/sdk.md),
 * so nothing waits on a wake-up that is never paid.
 */
static _Thread_local xz_sched *tls_batch; /* running callbacks of it */
static _Thread_local xz_sched *tls_owed; /* owes it a wake-up */
static _Thread_local unsigned  tls_owed_n; /* deliveries since */

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

xz_sched *
xz_sched_new(void)
{
	xz_sched *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	xz_mutex_init_hot(&s->rq_mu);
	pthread_cond_init(&s->rq_cv, NULL);
	pthread_mutex_init(&s->quiet_mu, NULL);
	pthread_cond_init(&s->quiet_cv, NULL);
	return s;
}

void
xz_sched_free(xz_sched *s)
{
	if (s == NULL)
		return;
	pthread_mutex_destroy(&s->rq_mu);
	pthread_cond_destroy(&s->rq_cv);
	pthread_mutex_destroy(&s->quiet_mu);
	pthread_cond_destroy(&s->quiet_cv);
	free(s);
}

int
xz_actor_init(xz_actor *a, xz_sched *s, const char *name, uint32_t cap)
{
	size_t n = 1;

	memset(a, 0, sizeof(*a));
	if (cap == 0)
		cap = 1;
	while (n < cap)
		n *= 2;
	/* seq 0 everywhere: position p is written when seq == p + 1. */
	a->ring = calloc(n, sizeof(*a->ring));
	if (a->ring == NULL)
		return XZ_ENOMEM;
	a->s         = s;
	a->name      = name;
	a->cap       = cap;
	a->ring_mask = (uint32_t) (n - 1);
	/* Room taken but not given back looks like a fuller mailbox: at
	 * most 1/16 of it, and nothing held back in a small one. */
	a->release_min = cap >= 64 ? (cap / 16 < 32 ? cap / 16 : 32) : 1;
	xz_mutex_init_hot(&a->mu);
	xz_cond_init_mono(&a->not_full);
	return XZ_OK;
}

/* Every queued job, oldest first. */
static xz_job *
take_jobs(xz_actor *a)
{
	xz_job *j = atomic_exchange(&a->jobs, NULL), *fifo = NULL;

	while (j != NULL) {
		xz_job *next = j->next;
		j->next      = fifo;
		fifo         = j;
		j            = next;
	}
	return fifo;
}

void
xz_actor_fini(xz_actor *a)
{
	if (a->ring == NULL)
		return;
	/* The workers stopped: every reserved slot was written. */
	for (;; a->head++) {
		xz_slot *sl = &a->ring[a->head & a->ring_mask];
		if (atomic_load(&sl->seq) != a->head + 1)
			break;
		xz_kmsg_unref(sl->mail.msg);
		xz_recv_unref(sl->mail.recv);
	}
	for (xz_job *j = take_jobs(a), *next; j != NULL; j = next) {
		next = j->next;
		j->drop(j);
	}
	free(a->ring);
	a->ring = NULL;
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->not_full);
}

void
xz_actor_close(xz_actor *a)
{
	pthread_mutex_lock(&a->mu);
	atomic_store(&a->closed, true);
	pthread_cond_broadcast(&a->not_full);
	pthread_mutex_unlock(&a->mu);
}

static void
rq_push(xz_sched *s, xz_actor *a)
{
	bool wake;

	pthread_mutex_lock(&s->rq_mu);
	a->rq_next = NULL;
	if (s->rq_tail != NULL)
		s->rq_tail->rq_next = a;
	else
		s->rq_head = a;
	s->rq_tail = a;
	atomic_fetch_add_explicit(&s->rq_len, 1, memory_order_release);
	/* A worker still polling the run queue takes it without a wake-up:
	 * it looks at rq_head under rq_mu before it sleeps, after it
	 * stopped counting itself in rq_polling. */
	wake = s->rq_idle > 0
	    && atomic_load_explicit(&s->rq_polling, memory_order_relaxed) == 0;
	pthread_mutex_unlock(&s->rq_mu);
	if (wake && tls_batch == s && tls_owed == NULL) {
		tls_owed   = s;
		tls_owed_n = 0;
		return;
	}
	/* After unlocking: the woken worker does not then block on rq_mu. */
	if (wake)
		pthread_cond_signal(&s->rq_cv);
}

/* Pay the wake-up this worker owes, if any: wake a sleeping worker if
 * more actors wait than `mine`, the number this worker takes next. */
static void
owed_pay(int mine)
{
	xz_sched *s = tls_owed;
	bool      wake;

	if (s == NULL)
		return;
	tls_owed = NULL;
	if (atomic_load_explicit(&s->rq_len, memory_order_relaxed) <= mine)
		return;
	pthread_mutex_lock(&s->rq_mu);
	wake = s->rq_head != NULL && s->rq_idle > 0
	    && atomic_load_explicit(&s->rq_polling, memory_order_relaxed) == 0;
	pthread_mutex_unlock(&s->rq_mu);
	if (wake)
		pthread_cond_signal(&s->rq_cv);
}

static bool
rq_waiting(xz_sched *s)
{
	return atomic_load_explicit(&s->rq_len, memory_order_relaxed) > 0;
}

/* Make sure a runs: called after queueing a message or a job. */
static void
actor_wake(xz_actor *a)
{
	/* Already scheduled, the usual case under load: a load, no write. */
	if (atomic_load(&a->scheduled) || atomic_exchange(&a->scheduled, true))
		return;
	atomic_fetch_add(&a->s->inflight, 1);
	rq_push(a->s, a);
}

/* Reserve room for one message; false when the mailbox is full. The CAS
 * never lets count pass cap, even for a moment, so no publisher sees a
 * full mailbox that has room. */
static bool
reserve(xz_actor *a)
{
	unsigned c = atomic_load(&a->count);

	do {
		if (c >= a->cap)
			return false;
	} while (!atomic_compare_exchange_weak(&a->count, &c, c + 1));
	return true;
}

/* The mailbox is full: drop, or wait for room until the deadline. XZ_OK
 * when room was reserved. */
static int
wait_room(xz_actor *a, bool best_effort, xz_deadline *dl)
{
	struct timespec ts;
	bool            timed_out = false;
	int             rc        = XZ_OK;

	if (best_effort || xz_current_actor == a || dl == NULL) {
		if (best_effort)
			atomic_fetch_add(&a->dropped, 1);
		return XZ_EFULL;
	}
	owed_pay(0); /* we wait: someone else must run it */
	for (int i = 0; dl->timeout_us > 0 && i < ROOM_SPIN; i++) {
		cpu_relax();
		if (atomic_load_explicit(&a->closed, memory_order_relaxed))
			return XZ_ECLOSED;
		if (reserve(a))
			return XZ_OK;
	}
	xz_mono_abs(xz_deadline_mono(dl), &ts);
	pthread_mutex_lock(&a->mu);
	atomic_fetch_add(&a->waiters, 1); /* then count: see the top */
	for (;;) {
		if (atomic_load(&a->closed)) {
			rc = XZ_ECLOSED;
			break;
		}
		if (reserve(a))
			break;
		if (timed_out) {
			atomic_fetch_add(&a->timeouts, 1);
			rc = XZ_ETIMEDOUT;
			break;
		}
		timed_out = pthread_cond_timedwait(&a->not_full, &a->mu, &ts)
		    == ETIMEDOUT;
	}
	atomic_fetch_sub(&a->waiters, 1);
	pthread_mutex_unlock(&a->mu);
	return rc;
}

int
xz_actor_deliver(xz_actor *a, xz_kmsg *msg, xz_recv *recv, bool best_effort,
    xz_deadline *dl)
{
	if (atomic_load_explicit(&a->closed, memory_order_acquire))
		return XZ_ECLOSED;
	if (!reserve(a)) {
		int rc = wait_room(a, best_effort, dl);
		if (rc != XZ_OK)
			return rc;
	}
	/*
	 * The slot is free: count kept the positions held by publishers
	 * and unread by the worker at cap or fewer, and the ring has at
	 * least cap slots. The worker's reads of the slot's last message
	 * happen before this write: its count release is acquired by some
	 * publisher's reserve, whose position fetch_add is acquired by ours.
	 */
	uint64_t pos = atomic_fetch_add_explicit(
	    &a->delivered, 1, memory_order_acq_rel);
	xz_slot *sl   = &a->ring[pos & a->ring_mask];
	sl->mail.msg  = msg;
	sl->mail.recv = recv;
	/* seq_cst (an exchange: a full barrier) before actor_wake reads
	 * scheduled: see the top. */
	atomic_exchange(&sl->seq, pos + 1);
	actor_wake(a);
	if (tls_owed != NULL && ++tls_owed_n >= DEFER_DELIVERIES)
		owed_pay(0);
	return XZ_OK;
}

void
xz_actor_job(xz_actor *a, xz_job *job)
{
	xz_job *top = atomic_load_explicit(&a->jobs, memory_order_relaxed);

	/* seq_cst, then actor_wake reads scheduled: see the top. */
	do
		job->next = top;
	while (!atomic_compare_exchange_weak(&a->jobs, &top, job));
	actor_wake(a);
}

/* Whether position head is written or a job is queued. head is passed
 * in: once the worker lets go of the actor, a->head belongs to the next
 * worker. */
static bool
has_work(xz_actor *a, uint64_t head)
{
	return atomic_load(&a->ring[head & a->ring_mask].seq) == head + 1
	    || atomic_load(&a->jobs) != NULL;
}

/* Wake blocked publishers once the mailbox is half empty (one wake-up
 * per half mailbox instead of one per batch), or when a millisecond
 * passed since the last wake-up (a slow subscriber must not hold a
 * publisher back much longer than the room it frees). */
static void
wake_publishers(xz_actor *a)
{
	pthread_mutex_lock(&a->mu);
	uint64_t now = xz_mono_us();
	if (atomic_load(&a->count) <= a->cap / 2
	    || now - a->last_wake_us > 1000) {
		a->last_wake_us = now;
		pthread_cond_broadcast(&a->not_full);
	}
	pthread_mutex_unlock(&a->mu);
}

/* Give back the room of the messages taken so far (and with it our
 * reads of their slots), then look for blocked publishers: see the top.
 * Done every release_min messages and before letting go of the actor,
 * not after each batch: a worker that keeps up with a publisher takes
 * one or two messages a batch, and count shares the line the publisher
 * writes per message. */
static void
release_room(xz_actor *a)
{
	if (a->taken == 0)
		return;
	atomic_fetch_sub(&a->count, a->taken);
	a->taken = 0;
	if (atomic_load(&a->waiters) > 0)
		wake_publishers(a);
}

/* Take up to ACTOR_BATCH written messages off the ring. */
static uint32_t
take_mail(xz_actor *a, xz_mail *batch)
{
	uint64_t h = a->head;
	uint32_t n = 0;

	while (n < ACTOR_BATCH) {
		xz_slot *sl = &a->ring[h & a->ring_mask];
		if (atomic_load_explicit(&sl->seq, memory_order_acquire)
		    != h + 1)
			break;
		batch[n++] = sl->mail;
		h++;
	}
	a->head = h;
	a->taken += n;
	if (a->taken >= a->release_min)
		release_room(a);
	return n;
}

/* Run one batch: the queued jobs, then up to ACTOR_BATCH messages. */
static void
run_batch(xz_actor *a)
{
	xz_mail  batch[ACTOR_BATCH];
	xz_job  *jobs = NULL;
	uint32_t n;
	long     done = 0;

	if (atomic_load_explicit(&a->jobs, memory_order_relaxed) != NULL)
		jobs = take_jobs(a);
	n = take_mail(a, batch);

	xz_current_actor = a;
	tls_batch        = a->s;
	while (jobs != NULL) {
		xz_job *j = jobs;
		jobs      = j->next;
		owed_pay(0); /* busy for another callback */
		/* After a failed init or start no callback of the owner runs:
		 * its timer and reply jobs are dropped (kernel posts still
		 * run: they include the call of its fini). */
		if (atomic_load_explicit(&a->failed, memory_order_acquire)
		    && !j->kernel)
			j->drop(j);
		else
			j->run(j);
		done++;
	}
	for (uint32_t i = 0; i < n;) {
		xz_recv *r = batch[i].recv;
		uint32_t k = i;
		/* A run of messages for one receiver gives its references
		 * back at once: one write to its line, not one a message. */
		for (; k < n && batch[k].recv == r; k++) {
			owed_pay(0);
			if (atomic_load_explicit(
			        &r->active, memory_order_acquire)
			    && !atomic_load_explicit(
			        &a->failed, memory_order_relaxed))
				r->fn(r->ud, &batch[k].msg->pub);
			xz_kmsg_unref(batch[k].msg);
		}
		if (atomic_fetch_sub_explicit(
		        &r->refs, (int) (k - i), memory_order_acq_rel)
		    == (int) (k - i))
			r->destroy(r);
		i = k;
	}
	/* Group commit point (ABI 1.1): only for owners that have it. */
	if ((n > 0 || done > 0) && a->batch_end != NULL
	    && !atomic_load_explicit(&a->failed, memory_order_relaxed)) {
		owed_pay(0); /* a commit may take a while */
		a->batch_end(*a->batch_state);
	}
	tls_batch        = NULL;
	xz_current_actor = NULL;
	if (n > 0)
		atomic_fetch_add_explicit(
		    &a->handled, n, memory_order_relaxed);
}

/* Whether a has work, polling it for a moment if not (while no other
 * actor waits for a worker). */
static bool
spin_for_work(xz_actor *a)
{
	for (int i = 0; i < ACTOR_SPIN && !rq_waiting(a->s); i++) {
		if (has_work(a, a->head))
			return true;
		cpu_relax();
	}
	return has_work(a, a->head);
}

static void
inflight_done(xz_sched *s)
{
	if (atomic_fetch_sub(&s->inflight, 1) == 1) {
		pthread_mutex_lock(&s->quiet_mu);
		pthread_cond_broadcast(&s->quiet_cv);
		pthread_mutex_unlock(&s->quiet_mu);
	}
}

/* Run a (scheduled, taken by this worker) until it has nothing left, or
 * until it has had a batch and another actor waits for a worker. */
static void
run_actor(xz_actor *a)
{
	for (;;) {
		run_batch(a);
		if (spin_for_work(a)) {
			/* Owed or not, this worker takes the next actor, and
			 * pushing a (outside a batch) wakes a sleeper for it.
			 */
			tls_owed = NULL;
			if (!rq_waiting(a->s))
				continue;
			release_room(a);
			rq_push(a->s, a); /* still scheduled: take turns */
			return;
		}
		/* Let go, then look once more (see the top): a publisher
		 * that wrote meanwhile either saw scheduled clear and
		 * scheduled it, or wrote before and we see its message. */
		release_room(a);
		uint64_t head = a->head;
		atomic_store(&a->scheduled, false);
		if (!has_work(a, head)
		    || atomic_exchange(&a->scheduled, true)) {
			inflight_done(a->s);
			return;
		}
	}
}

/* The next actor to run, or NULL when stopping with nothing queued. */
static xz_actor *
rq_pop(xz_sched *s)
{
	xz_actor *a;

	atomic_fetch_add_explicit(&s->rq_polling, 1, memory_order_relaxed);
	for (int i = 0; i < WORKER_SPIN && !rq_waiting(s); i++)
		cpu_relax();
	atomic_fetch_sub_explicit(&s->rq_polling, 1, memory_order_relaxed);
	pthread_mutex_lock(&s->rq_mu);
	while (s->rq_head == NULL && !s->rq_stop) {
		s->rq_idle++;
		pthread_cond_wait(&s->rq_cv, &s->rq_mu);
		s->rq_idle--;
	}
	if ((a = s->rq_head) != NULL) {
		s->rq_head = a->rq_next;
		if (s->rq_head == NULL)
			s->rq_tail = NULL;
		atomic_fetch_sub_explicit(&s->rq_len, 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&s->rq_mu);
	return a;
}

static void *
worker_main(void *arg)
{
	xz_sched *s = arg;
	xz_actor *a;

	while ((a = rq_pop(s)) != NULL) {
		run_actor(a);
		owed_pay(1); /* we take one ourselves */
	}
	return NULL;
}

int
xz_sched_start(xz_sched *s, int n)
{
	s->workers = calloc((size_t) n, sizeof(*s->workers));
	if (s->workers == NULL)
		return XZ_ENOMEM;
	s->rq_stop = false;
	for (int i = 0; i < n; i++) {
		if (pthread_create(&s->workers[i], NULL, worker_main, s)
		    != 0) {
			xz_sched_stop(s);
			return XZ_ENOMEM;
		}
		s->nworkers++;
	}
	return XZ_OK;
}

void
xz_sched_stop(xz_sched *s)
{
	pthread_mutex_lock(&s->rq_mu);
	s->rq_stop = true;
	pthread_cond_broadcast(&s->rq_cv);
	pthread_mutex_unlock(&s->rq_mu);
	for (int i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	free(s->workers);
	s->workers  = NULL;
	s->nworkers = 0;
}

int
xz_sched_wait_quiet(xz_sched *s, int timeout_ms)
{
	uint64_t deadline = xz_mono_us() + (uint64_t) timeout_ms * 1000u;
	int      rc       = 0;

	pthread_mutex_lock(&s->quiet_mu);
	while (atomic_load(&s->inflight) > 0) {
		struct timespec ts;
		uint64_t        now = xz_mono_us();
		if (now >= deadline) {
			rc = -1;
			break;
		}
		/* Short slices: the count can reach zero between our check
		 * and the wait. */
		xz_mono_abs(
		    now + 20000 < deadline ? now + 20000 : deadline, &ts);
		pthread_cond_timedwait(&s->quiet_cv, &s->quiet_mu, &ts);
	}
	pthread_mutex_unlock(&s->quiet_mu);
	return rc;
}

struct call_ctx {
	xz_job job;
	void (*fn)(void *);
	void           *arg;
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	bool            done;
};

static void
call_run(xz_job *j)
{
	struct call_ctx *c = (struct call_ctx *) j;
	c->fn(c->arg);
	pthread_mutex_lock(&c->mu);
	c->done = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

int
xz_actor_call(xz_actor *a, void (*fn)(void *), void *arg)
{
	/* On the caller's stack: it waits until the job ran, and a kernel
	 * job always runs (drop is never called while workers run). */
	struct call_ctx c = { .fn = fn, .arg = arg };

	c.job.run    = call_run;
	c.job.drop   = call_run;
	c.job.kernel = true;
	pthread_mutex_init(&c.mu, NULL);
	pthread_cond_init(&c.cv, NULL);
	xz_actor_job(a, &c.job);
	owed_pay(0); /* we wait: someone else must run it */
	pthread_mutex_lock(&c.mu);
	while (!c.done)
		pthread_cond_wait(&c.cv, &c.mu);
	pthread_mutex_unlock(&c.mu);
	pthread_mutex_destroy(&c.mu);
	pthread_cond_destroy(&c.cv);
	return XZ_OK;
}
