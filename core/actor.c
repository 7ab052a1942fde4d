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

#include "kernel_impl.h"

#define ACTOR_BATCH 256
/* An idle worker polls the run queue this many times (~20 us) before it
 * sleeps on the condition variable: under load this saves a futex
 * wait/wake pair per hand-off; when idle it costs nothing. */
#define WORKER_SPIN 300

_Thread_local xz_plugin *xz_current;

uint64_t
xz_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static void
mono_abs(uint64_t us, struct timespec *ts)
{
	ts->tv_sec  = (time_t) (us / 1000000u);
	ts->tv_nsec = (long) (us % 1000000u) * 1000;
}

/* Hot locks spin briefly before sleeping: hand-offs between two busy
 * workers then rarely cost a futex call. */
void
xz_mutex_init_hot(pthread_mutex_t *mu)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(mu, &a);
	pthread_mutexattr_destroy(&a);
}

int
xz_actor_init(xz_plugin *p, uint32_t cap)
{
	pthread_condattr_t ca;

	p->ring = calloc(cap, sizeof(*p->ring));
	if (p->ring == NULL)
		return XZ_ENOMEM;
	p->cap = cap;
	xz_mutex_init_hot(&p->mu);
	pthread_mutex_init(&p->cmu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->not_full, &ca);
	pthread_condattr_destroy(&ca);
	return XZ_OK;
}

static void
job_discard(xz_job *j)
{
	if (j->type == XZ_JOB_REPLY) {
		xz_pending *pd = j->u.reply.pending;
		xz_kmsg_unref(j->u.reply.reply);
		free(pd->topic);
		free(pd);
	}
	free(j);
}

/* Frees what is still queued (only after the workers stopped). */
void
xz_actor_fini(xz_plugin *p)
{
	if (p->ring == NULL)
		return;
	while (p->count > 0) {
		xz_slot *s = &p->ring[p->head];
		xz_kmsg_unref(s->msg);
		xz_sub_unref(s->sub);
		p->head = (p->head + 1) % p->cap;
		p->count--;
	}
	while (p->jobs != NULL) {
		xz_job *j = p->jobs;
		p->jobs   = j->next;
		job_discard(j);
	}
	free(p->ring);
	p->ring = NULL;
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->cmu);
	pthread_cond_destroy(&p->not_full);
	for (size_t i = 0; i < p->ncounters; i++)
		free(p->counters[i].name);
	free(p->counters);
}

static void
rq_push(xz_kernel *k, xz_plugin *p)
{
	pthread_mutex_lock(&k->rq_mu);
	p->rq_next = NULL;
	if (k->rq_tail != NULL)
		k->rq_tail->rq_next = p;
	else
		k->rq_head = p;
	k->rq_tail = p;
	atomic_fetch_add_explicit(&k->rq_len, 1, memory_order_release);
	if (k->rq_idle > 0)
		pthread_cond_signal(&k->rq_cv);
	pthread_mutex_unlock(&k->rq_mu);
}

static void
inflight_done(xz_kernel *k, long n)
{
	if (n == 0)
		return;
	if (atomic_fetch_sub(&k->inflight, n) == n) {
		pthread_mutex_lock(&k->quiet_mu);
		pthread_cond_broadcast(&k->quiet_cv);
		pthread_mutex_unlock(&k->quiet_mu);
	}
}

int
xz_actor_deliver(xz_plugin *p, xz_kmsg *msg, xz_sub *sub, bool best_effort,
    uint64_t deadline_mono_us)
{
	bool need;

	pthread_mutex_lock(&p->mu);
	while (p->count == p->cap && !p->closed) {
		if (best_effort || xz_current == p || deadline_mono_us == 0) {
			pthread_mutex_unlock(&p->mu);
			atomic_fetch_add(&p->dropped, best_effort ? 1 : 0);
			return XZ_EFULL;
		}
		struct timespec ts;
		mono_abs(deadline_mono_us, &ts);
		p->waiters++;
		int rc = pthread_cond_timedwait(&p->not_full, &p->mu, &ts);
		p->waiters--;
		if (rc == ETIMEDOUT && p->count == p->cap) {
			pthread_mutex_unlock(&p->mu);
			atomic_fetch_add(&p->timeouts, 1);
			return XZ_ETIMEDOUT;
		}
	}
	if (p->closed) {
		pthread_mutex_unlock(&p->mu);
		return XZ_ECLOSED;
	}
	xz_slot *s = &p->ring[(p->head + p->count) % p->cap];
	s->msg     = xz_kmsg_ref(msg);
	s->sub     = sub;
	atomic_fetch_add_explicit(&sub->refs, 1, memory_order_relaxed);
	p->count++;
	atomic_fetch_add_explicit(&p->k->inflight, 1, memory_order_relaxed);
	need         = !p->scheduled;
	p->scheduled = true;
	pthread_mutex_unlock(&p->mu);
	if (need)
		rq_push(p->k, p);
	atomic_fetch_add_explicit(&p->delivered, 1, memory_order_relaxed);
	return XZ_OK;
}

void
xz_actor_job(xz_plugin *p, xz_job *job)
{
	bool need;

	job->next = NULL;
	atomic_fetch_add(&p->k->inflight, 1);
	pthread_mutex_lock(&p->mu);
	if (p->jobs_tail != NULL)
		p->jobs_tail->next = job;
	else
		p->jobs = job;
	p->jobs_tail = job;
	need         = !p->scheduled;
	p->scheduled = true;
	pthread_mutex_unlock(&p->mu);
	if (need)
		rq_push(p->k, p);
}

int
xz_plugin_post(xz_plugin *p, void (*fn)(void *arg), void *arg)
{
	xz_job *j;

	if (p->phase == XZ_PHASE_FAILED || p->phase == XZ_PHASE_STOPPED)
		return XZ_ECLOSED;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return XZ_ENOMEM;
	j->type       = XZ_JOB_POST;
	j->u.post.fn  = fn;
	j->u.post.arg = arg;
	xz_actor_job(p, j);
	return XZ_OK;
}

static void
run_job(xz_plugin *p, xz_job *j)
{
	/* After a failed init or start, no callback of the plugin runs:
	 * drop its timer and reply jobs (kernel posts still run: they
	 * include the call of its fini). */
	if (p->phase == XZ_PHASE_FAILED && j->type != XZ_JOB_POST) {
		job_discard(j);
		return;
	}
	switch (j->type) {
	case XZ_JOB_TIMER: {
		xz_timer_fn fn;
		void       *ud;
		if (xz_timer_take(p->k, j->u.timer_id, &fn, &ud))
			fn(ud, j->u.timer_id);
		free(j);
		return;
	}
	case XZ_JOB_REPLY: {
		xz_pending *pd = j->u.reply.pending;
		if (pd->fn != NULL)
			pd->fn(
			    pd->ud, j->u.reply.status, &j->u.reply.reply->pub);
		job_discard(j);
		return;
	}
	case XZ_JOB_POST:
		j->u.post.fn(j->u.post.arg);
		free(j);
		return;
	}
}

static void
run_actor(xz_plugin *p)
{
	xz_slot  batch[ACTOR_BATCH];
	xz_job  *jobs;
	uint32_t n;
	bool     again;

	pthread_mutex_lock(&p->mu);
	jobs    = p->jobs;
	p->jobs = p->jobs_tail = NULL;
	n = p->count < ACTOR_BATCH ? p->count : ACTOR_BATCH;
	for (uint32_t i = 0; i < n; i++) {
		batch[i] = p->ring[p->head];
		p->head  = (p->head + 1) % p->cap;
	}
	p->count -= n;
	/* Wake blocked publishers once the mailbox is half empty (one wake-up
	 * per half mailbox instead of one per batch), or when a millisecond
	 * passed since the last wake-up (a slow subscriber must not hold a
	 * publisher back much longer than the room it frees). */
	if (p->waiters > 0 && n > 0) {
		uint64_t now = xz_mono_us();
		if (p->count <= p->cap / 2 || now - p->last_wake_us > 1000) {
			p->last_wake_us = now;
			pthread_cond_broadcast(&p->not_full);
		}
	}
	pthread_mutex_unlock(&p->mu);

	xz_current = p;
	long done  = 0;
	while (jobs != NULL) {
		xz_job *j = jobs;
		jobs      = j->next;
		run_job(p, j);
		done++;
	}
	for (uint32_t i = 0; i < n; i++) {
		xz_sub *s = batch[i].sub;
		if (atomic_load_explicit(&s->active, memory_order_acquire)
		    && p->phase != XZ_PHASE_FAILED)
			s->fn(s->ud, &batch[i].msg->pub);
		xz_kmsg_unref(batch[i].msg);
		xz_sub_unref(s);
	}
	/* Group commit point (ABI 1.1): only for descriptors that have it. */
	if ((n > 0 || done > 0) && p->batch_end != NULL
	    && p->phase != XZ_PHASE_FAILED)
		p->batch_end(p->state);
	xz_current = NULL;
	if (n > 0)
		atomic_fetch_add_explicit(
		    &p->handled, n, memory_order_relaxed);

	pthread_mutex_lock(&p->mu);
	again = p->count > 0 || p->jobs != NULL;
	if (!again)
		p->scheduled = false;
	pthread_mutex_unlock(&p->mu);
	if (again)
		rq_push(p->k, p);
	inflight_done(p->k, done + (long) n);
}

static void *
worker_main(void *arg)
{
	xz_kernel *k = arg;

	pthread_mutex_lock(&k->rq_mu);
	for (;;) {
		if (k->rq_head == NULL && !k->rq_stop) {
			pthread_mutex_unlock(&k->rq_mu);
			for (int i = 0; i < WORKER_SPIN
			     && atomic_load_explicit(
			            &k->rq_len, memory_order_acquire)
			         == 0;
			     i++)
				__builtin_ia32_pause();
			pthread_mutex_lock(&k->rq_mu);
		}
		while (k->rq_head == NULL && !k->rq_stop) {
			k->rq_idle++;
			pthread_cond_wait(&k->rq_cv, &k->rq_mu);
			k->rq_idle--;
		}
		if (k->rq_head == NULL)
			break;
		xz_plugin *p = k->rq_head;
		k->rq_head   = p->rq_next;
		atomic_fetch_sub_explicit(&k->rq_len, 1, memory_order_relaxed);
		if (k->rq_head == NULL)
			k->rq_tail = NULL;
		pthread_mutex_unlock(&k->rq_mu);
		run_actor(p);
		pthread_mutex_lock(&k->rq_mu);
	}
	pthread_mutex_unlock(&k->rq_mu);
	return NULL;
}

int
xz_workers_start(xz_kernel *k, int n)
{
	k->workers = calloc((size_t) n, sizeof(*k->workers));
	if (k->workers == NULL)
		return XZ_ENOMEM;
	k->rq_stop = false;
	for (int i = 0; i < n; i++) {
		if (pthread_create(&k->workers[i], NULL, worker_main, k)
		    != 0) {
			xz_workers_stop(k);
			return XZ_ENOMEM;
		}
		k->nworkers++;
	}
	return XZ_OK;
}

/* Workers finish what is on the run queue, then exit. */
void
xz_workers_stop(xz_kernel *k)
{
	pthread_mutex_lock(&k->rq_mu);
	k->rq_stop = true;
	pthread_cond_broadcast(&k->rq_cv);
	pthread_mutex_unlock(&k->rq_mu);
	for (int i = 0; i < k->nworkers; i++)
		pthread_join(k->workers[i], NULL);
	free(k->workers);
	k->workers  = NULL;
	k->nworkers = 0;
}

int
xz_wait_quiet(xz_kernel *k, int timeout_ms)
{
	uint64_t deadline = xz_mono_us() + (uint64_t) timeout_ms * 1000u;
	int      rc       = 0;

	pthread_mutex_lock(&k->quiet_mu);
	while (atomic_load(&k->inflight) > 0) {
		struct timespec ts;
		uint64_t        now = xz_mono_us();
		if (now >= deadline) {
			rc = -1;
			break;
		}
		/* Short slices: the count can reach zero between our check
		 * and the wait. */
		mono_abs(now + 20000 < deadline ? now + 20000 : deadline, &ts);
		pthread_cond_timedwait(&k->quiet_cv, &k->quiet_mu, &ts);
	}
	pthread_mutex_unlock(&k->quiet_mu);
	return rc;
}

struct call_ctx {
	void (*fn)(void *);
	void           *arg;
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	bool            done;
};

static void
call_trampoline(void *arg)
{
	struct call_ctx *c = arg;
	c->fn(c->arg);
	pthread_mutex_lock(&c->mu);
	c->done = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

int
xz_actor_call(xz_plugin *p, void (*fn)(void *), void *arg)
{
	struct call_ctx c = { .fn = fn, .arg = arg };
	xz_job         *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return XZ_ENOMEM;
	pthread_mutex_init(&c.mu, NULL);
	pthread_cond_init(&c.cv, NULL);
	j->type       = XZ_JOB_POST;
	j->u.post.fn  = call_trampoline;
	j->u.post.arg = &c;
	xz_actor_job(p, j);
	pthread_mutex_lock(&c.mu);
	while (!c.done)
		pthread_cond_wait(&c.cv, &c.mu);
	pthread_mutex_unlock(&c.mu);
	pthread_mutex_destroy(&c.mu);
	pthread_cond_destroy(&c.cv);
	return XZ_OK;
}
