/*
 * actor.c - plugin instances as actors: bounded mailboxes, the control
 * lane, and the worker pool that runs them.
 *
 * An actor is on the run queue at most once (`scheduled`). A worker takes
 * a batch of up to ACTOR_BATCH messages plus every queued job under the
 * actor's lock, runs them without it, and puts the actor back on the run
 * queue if more arrived meanwhile. So one actor's callbacks never run on
 * two threads at once, and a busy actor cannot starve the others.
 *
 * Backpressure: a full mailbox makes a business publisher wait on
 * not_full (bounded by the publish deadline); a best-effort publisher
 * drops and counts. An actor can never wait on its own mailbox (it would
 * deadlock): it gets XZ_EFULL at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched/actor.h"
#include "util/clock.h"

#define ACTOR_BATCH 256
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
	int             rq_idle;
	atomic_int      rq_len; /* run queue length, for spinning workers */
	bool            rq_stop;
	atomic_long     inflight; /* queued or running messages + jobs */
	pthread_mutex_t quiet_mu;
	pthread_cond_t  quiet_cv;
};

_Thread_local xz_actor *xz_current_actor;

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
	memset(a, 0, sizeof(*a));
	a->ring = calloc(cap, sizeof(*a->ring));
	if (a->ring == NULL)
		return XZ_ENOMEM;
	a->s    = s;
	a->name = name;
	a->cap  = cap;
	xz_mutex_init_hot(&a->mu);
	xz_cond_init_mono(&a->not_full);
	return XZ_OK;
}

void
xz_actor_fini(xz_actor *a)
{
	if (a->ring == NULL)
		return;
	while (a->count > 0) {
		xz_mail *m = &a->ring[a->head];
		xz_kmsg_unref(m->msg);
		xz_recv_unref(m->recv);
		a->head = (a->head + 1) % a->cap;
		a->count--;
	}
	while (a->jobs != NULL) {
		xz_job *j = a->jobs;
		a->jobs   = j->next;
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
	a->closed = true;
	pthread_cond_broadcast(&a->not_full);
	pthread_mutex_unlock(&a->mu);
}

static void
rq_push(xz_sched *s, xz_actor *a)
{
	pthread_mutex_lock(&s->rq_mu);
	a->rq_next = NULL;
	if (s->rq_tail != NULL)
		s->rq_tail->rq_next = a;
	else
		s->rq_head = a;
	s->rq_tail = a;
	atomic_fetch_add_explicit(&s->rq_len, 1, memory_order_release);
	if (s->rq_idle > 0)
		pthread_cond_signal(&s->rq_cv);
	pthread_mutex_unlock(&s->rq_mu);
}

static void
inflight_done(xz_sched *s, long n)
{
	if (n == 0)
		return;
	if (atomic_fetch_sub(&s->inflight, n) == n) {
		pthread_mutex_lock(&s->quiet_mu);
		pthread_cond_broadcast(&s->quiet_cv);
		pthread_mutex_unlock(&s->quiet_mu);
	}
}

int
xz_actor_deliver(xz_actor *a, xz_kmsg *msg, xz_recv *recv, bool best_effort,
    uint64_t deadline_mono_us)
{
	bool need;

	pthread_mutex_lock(&a->mu);
	while (a->count == a->cap && !a->closed) {
		if (best_effort || xz_current_actor == a
		    || deadline_mono_us == 0) {
			pthread_mutex_unlock(&a->mu);
			atomic_fetch_add(&a->dropped, best_effort ? 1 : 0);
			return XZ_EFULL;
		}
		struct timespec ts;
		xz_mono_abs(deadline_mono_us, &ts);
		a->waiters++;
		int rc = pthread_cond_timedwait(&a->not_full, &a->mu, &ts);
		a->waiters--;
		if (rc == ETIMEDOUT && a->count == a->cap) {
			pthread_mutex_unlock(&a->mu);
			atomic_fetch_add(&a->timeouts, 1);
			return XZ_ETIMEDOUT;
		}
	}
	if (a->closed) {
		pthread_mutex_unlock(&a->mu);
		return XZ_ECLOSED;
	}
	xz_mail *m = &a->ring[(a->head + a->count) % a->cap];
	m->msg     = xz_kmsg_ref(msg);
	m->recv    = recv;
	xz_recv_ref(recv);
	a->count++;
	atomic_fetch_add_explicit(&a->s->inflight, 1, memory_order_relaxed);
	need         = !a->scheduled;
	a->scheduled = true;
	pthread_mutex_unlock(&a->mu);
	if (need)
		rq_push(a->s, a);
	atomic_fetch_add_explicit(&a->delivered, 1, memory_order_relaxed);
	return XZ_OK;
}

void
xz_actor_job(xz_actor *a, xz_job *job)
{
	bool need;

	job->next = NULL;
	atomic_fetch_add(&a->s->inflight, 1);
	pthread_mutex_lock(&a->mu);
	if (a->jobs_tail != NULL)
		a->jobs_tail->next = job;
	else
		a->jobs = job;
	a->jobs_tail = job;
	need         = !a->scheduled;
	a->scheduled = true;
	pthread_mutex_unlock(&a->mu);
	if (need)
		rq_push(a->s, a);
}

static void
run_actor(xz_actor *a)
{
	xz_mail  batch[ACTOR_BATCH];
	xz_job  *jobs;
	uint32_t n;
	bool     again;

	pthread_mutex_lock(&a->mu);
	jobs    = a->jobs;
	a->jobs = a->jobs_tail = NULL;
	n = a->count < ACTOR_BATCH ? a->count : ACTOR_BATCH;
	for (uint32_t i = 0; i < n; i++) {
		batch[i] = a->ring[a->head];
		a->head  = (a->head + 1) % a->cap;
	}
	a->count -= n;
	/* Wake blocked publishers once the mailbox is half empty (one wake-up
	 * per half mailbox instead of one per batch), or when a millisecond
	 * passed since the last wake-up (a slow subscriber must not hold a
	 * publisher back much longer than the room it frees). */
	if (a->waiters > 0 && n > 0) {
		uint64_t now = xz_mono_us();
		if (a->count <= a->cap / 2 || now - a->last_wake_us > 1000) {
			a->last_wake_us = now;
			pthread_cond_broadcast(&a->not_full);
		}
	}
	pthread_mutex_unlock(&a->mu);

	xz_current_actor = a;
	long done        = 0;
	while (jobs != NULL) {
		xz_job *j = jobs;
		jobs      = j->next;
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
	for (uint32_t i = 0; i < n; i++) {
		xz_recv *r = batch[i].recv;
		if (atomic_load_explicit(&r->active, memory_order_acquire)
		    && !atomic_load_explicit(&a->failed, memory_order_relaxed))
			r->fn(r->ud, &batch[i].msg->pub);
		xz_kmsg_unref(batch[i].msg);
		xz_recv_unref(r);
	}
	/* Group commit point (ABI 1.1): only for owners that have it. */
	if ((n > 0 || done > 0) && a->batch_end != NULL
	    && !atomic_load_explicit(&a->failed, memory_order_relaxed))
		a->batch_end(*a->batch_state);
	xz_current_actor = NULL;
	if (n > 0)
		atomic_fetch_add_explicit(
		    &a->handled, n, memory_order_relaxed);

	pthread_mutex_lock(&a->mu);
	again = a->count > 0 || a->jobs != NULL;
	if (!again)
		a->scheduled = false;
	pthread_mutex_unlock(&a->mu);
	if (again)
		rq_push(a->s, a);
	inflight_done(a->s, done + (long) n);
}

static void *
worker_main(void *arg)
{
	xz_sched *s = arg;

	pthread_mutex_lock(&s->rq_mu);
	for (;;) {
		if (s->rq_head == NULL && !s->rq_stop) {
			pthread_mutex_unlock(&s->rq_mu);
			for (int i = 0; i < WORKER_SPIN
			     && atomic_load_explicit(
			            &s->rq_len, memory_order_acquire)
			         == 0;
			     i++)
				__builtin_ia32_pause();
			pthread_mutex_lock(&s->rq_mu);
		}
		while (s->rq_head == NULL && !s->rq_stop) {
			s->rq_idle++;
			pthread_cond_wait(&s->rq_cv, &s->rq_mu);
			s->rq_idle--;
		}
		if (s->rq_head == NULL)
			break;
		xz_actor *a = s->rq_head;
		s->rq_head  = a->rq_next;
		atomic_fetch_sub_explicit(&s->rq_len, 1, memory_order_relaxed);
		if (s->rq_head == NULL)
			s->rq_tail = NULL;
		pthread_mutex_unlock(&s->rq_mu);
		run_actor(a);
		pthread_mutex_lock(&s->rq_mu);
	}
	pthread_mutex_unlock(&s->rq_mu);
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
	pthread_mutex_lock(&c.mu);
	while (!c.done)
		pthread_cond_wait(&c.cv, &c.mu);
	pthread_mutex_unlock(&c.mu);
	pthread_mutex_destroy(&c.mu);
	pthread_cond_destroy(&c.cv);
	return XZ_OK;
}
