/*
 * timer.c - kernel timers on the kernel clock: one thread, one min-heap.
 *
 * A plugin timer that comes due becomes a job on its actor's control lane
 * (the callback then runs in the actor's context, never on this thread).
 * A request deadline completes the pending request from here. The kernel
 * clock can be moved forward (tests of statutory clocks): the thread is
 * kicked and fires everything that became due.
 *
 * A one-shot timer stays in the id map until its job runs, so a cancel
 * that races with firing wins: the job finds the id gone and does nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernel_impl.h"

static void
heap_swap(xz_kernel *k, size_t a, size_t b)
{
	xz_timer *t         = k->heap[a];
	k->heap[a]          = k->heap[b];
	k->heap[b]          = t;
	k->heap[a]->heap_ix = a;
	k->heap[b]->heap_ix = b;
}

static void
heap_up(xz_kernel *k, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (k->heap[p]->due_us <= k->heap[i]->due_us)
			break;
		heap_swap(k, p, i);
		i = p;
	}
}

static void
heap_down(xz_kernel *k, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < k->nheap && k->heap[l]->due_us < k->heap[m]->due_us)
			m = l;
		if (r < k->nheap && k->heap[r]->due_us < k->heap[m]->due_us)
			m = r;
		if (m == i)
			return;
		heap_swap(k, i, m);
		i = m;
	}
}

static int
heap_push(xz_kernel *k, xz_timer *t)
{
	if (k->nheap == k->capheap) {
		size_t     cap = k->capheap ? k->capheap * 2 : 64;
		xz_timer **h   = realloc(k->heap, cap * sizeof(*h));
		if (h == NULL)
			return -1;
		k->heap    = h;
		k->capheap = cap;
	}
	t->heap_ix          = k->nheap;
	k->heap[k->nheap++] = t;
	heap_up(k, t->heap_ix);
	return 0;
}

static void
heap_remove(xz_kernel *k, xz_timer *t)
{
	size_t i = t->heap_ix;
	if (i >= k->nheap || k->heap[i] != t)
		return;
	k->nheap--;
	if (i != k->nheap) {
		k->heap[i]          = k->heap[k->nheap];
		k->heap[i]->heap_ix = i;
		heap_down(k, i);
		heap_up(k, i);
	}
	t->heap_ix = SIZE_MAX;
}

static void
fire(xz_kernel *k, xz_timer *t)
{
	if (t->owner == NULL) {
		uint64_t key = t->pending;
		xz_u64map_del(&k->timers, t->id);
		free(t);
		pthread_mutex_unlock(&k->tm_mu);
		xz_bus_timeout(k, key);
		pthread_mutex_lock(&k->tm_mu);
		return;
	}
	xz_job *j = calloc(1, sizeof(*j));
	if (t->period_us > 0) {
		t->due_us += t->period_us;
		/* A clock jump must not cause a burst of catch-up fires. */
		uint64_t now = xz_now_us(k);
		if (t->due_us <= now)
			t->due_us = now + t->period_us;
		heap_push(k, t);
	} else {
		t->fired = true;
	}
	if (j == NULL)
		return;
	j->type          = XZ_JOB_TIMER;
	j->u.timer_id    = t->id;
	xz_plugin *owner = t->owner;
	pthread_mutex_unlock(&k->tm_mu);
	xz_actor_job(owner, j);
	pthread_mutex_lock(&k->tm_mu);
}

static void *
timer_main(void *arg)
{
	xz_kernel *k = arg;

	pthread_mutex_lock(&k->tm_mu);
	while (!k->tm_stop) {
		uint64_t now = xz_now_us(k);
		if (k->nheap > 0 && k->heap[0]->due_us <= now) {
			xz_timer *t = k->heap[0];
			heap_remove(k, t);
			if (t->owner != NULL && k->tm_plugins_paused) {
				t->fired = true; /* dropped at shutdown */
				continue;
			}
			fire(k, t);
			continue;
		}
		if (k->nheap == 0) {
			pthread_cond_wait(&k->tm_cv, &k->tm_mu);
			continue;
		}
		/* Wait on the monotonic clock for the time left. */
		uint64_t        wait = k->heap[0]->due_us - now;
		uint64_t        abs  = xz_mono_us() + wait;
		struct timespec ts   = { .tv_sec = (time_t) (abs / 1000000u),
			  .tv_nsec = (long) (abs % 1000000u) * 1000 };
		pthread_cond_timedwait(&k->tm_cv, &k->tm_mu, &ts);
	}
	pthread_mutex_unlock(&k->tm_mu);
	return NULL;
}

int
xz_timers_init(xz_kernel *k)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&k->tm_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->tm_cv, &ca);
	pthread_condattr_destroy(&ca);
	xz_u64map_init(&k->timers);
	if (pthread_create(&k->tm_thread, NULL, timer_main, k) != 0)
		return XZ_ENOMEM;
	k->tm_running = true;
	return XZ_OK;
}

void
xz_timers_fini(xz_kernel *k)
{
	if (k->tm_running) {
		pthread_mutex_lock(&k->tm_mu);
		k->tm_stop = true;
		pthread_cond_signal(&k->tm_cv);
		pthread_mutex_unlock(&k->tm_mu);
		pthread_join(k->tm_thread, NULL);
		k->tm_running = false;
	}
	for (size_t i = 0; i < k->timers.cap; i++) {
		uint64_t key = k->timers.keys[i];
		if (key != 0 && key != UINT64_MAX)
			free(k->timers.vals[i]);
	}
	xz_u64map_fini(&k->timers);
	free(k->heap);
	k->heap  = NULL;
	k->nheap = k->capheap = 0;
	pthread_mutex_destroy(&k->tm_mu);
	pthread_cond_destroy(&k->tm_cv);
}

int
xz_timer_add(xz_kernel *k, xz_plugin *owner, uint64_t pending_key,
    uint64_t delay_us, uint64_t period_us, xz_timer_fn fn, void *ud,
    uint64_t *id)
{
	xz_timer *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return XZ_ENOMEM;
	t->id        = atomic_fetch_add(&k->next_timer_id, 1) + 1;
	t->owner     = owner;
	t->pending   = pending_key;
	t->period_us = period_us;
	t->fn        = fn;
	t->ud        = ud;
	pthread_mutex_lock(&k->tm_mu);
	t->due_us = xz_now_us(k) + delay_us;
	if (xz_u64map_put(&k->timers, t->id, t) != 0 || heap_push(k, t) != 0) {
		xz_u64map_del(&k->timers, t->id);
		pthread_mutex_unlock(&k->tm_mu);
		free(t);
		return XZ_ENOMEM;
	}
	if (k->heap[0] == t)
		pthread_cond_signal(&k->tm_cv);
	pthread_mutex_unlock(&k->tm_mu);
	if (id != NULL)
		*id = t->id;
	return XZ_OK;
}

int
xz_timer_cancel(xz_kernel *k, xz_plugin *owner, uint64_t id)
{
	xz_timer *t;

	pthread_mutex_lock(&k->tm_mu);
	/* Only the owner may cancel (owner NULL: a request deadline). */
	t = xz_u64map_get(&k->timers, id);
	if (t != NULL && t->owner != owner)
		t = NULL;
	if (t != NULL)
		xz_u64map_del(&k->timers, id);
	if (t != NULL && !t->fired)
		heap_remove(k, t);
	pthread_mutex_unlock(&k->tm_mu);
	free(t);
	return t ? XZ_OK : XZ_ENOENT;
}

int
xz_timer_take(xz_kernel *k, uint64_t id, xz_timer_fn *fn, void **ud)
{
	xz_timer *t;
	int       alive = 0;

	pthread_mutex_lock(&k->tm_mu);
	t = xz_u64map_get(&k->timers, id);
	if (t != NULL) {
		alive = 1;
		*fn   = t->fn;
		*ud   = t->ud;
		if (t->fired) {
			xz_u64map_del(&k->timers, id);
			free(t);
		}
	}
	pthread_mutex_unlock(&k->tm_mu);
	return alive;
}

/* Move the kernel clock forward by delta_us. Plugin timers follow the
 * clock (what came due fires now); request deadlines do not: they are
 * promises in real time, so they move with it and stay as far away as
 * they were. Both happen under tm_mu, so the timer thread never sees the
 * new clock with the old deadlines. */
void
xz_timers_advance(xz_kernel *k, uint64_t delta_us)
{
	pthread_mutex_lock(&k->tm_mu);
	atomic_fetch_add(&k->clock_offset_us, (int_fast64_t) delta_us);
	for (size_t i = 0; i < k->nheap; i++)
		if (k->heap[i]->owner == NULL)
			k->heap[i]->due_us += delta_us;
	for (size_t i = k->nheap / 2; i-- > 0;)
		heap_down(k, i);
	pthread_cond_signal(&k->tm_cv);
	pthread_mutex_unlock(&k->tm_mu);
}

void
xz_timers_kick(xz_kernel *k)
{
	pthread_mutex_lock(&k->tm_mu);
	pthread_cond_signal(&k->tm_cv);
	pthread_mutex_unlock(&k->tm_mu);
}

void
xz_timers_pause_plugins(xz_kernel *k)
{
	pthread_mutex_lock(&k->tm_mu);
	k->tm_plugins_paused = true;
	pthread_mutex_unlock(&k->tm_mu);
}

/* Forget every timer of a plugin (after its stop). */
void
xz_timers_drop_owner(xz_kernel *k, xz_plugin *owner)
{
	pthread_mutex_lock(&k->tm_mu);
	for (size_t i = 0; i < k->timers.cap; i++) {
		uint64_t key = k->timers.keys[i];
		if (key == 0 || key == UINT64_MAX)
			continue;
		xz_timer *t = k->timers.vals[i];
		if (t->owner != owner)
			continue;
		xz_u64map_del(&k->timers, key);
		if (!t->fired)
			heap_remove(k, t);
		free(t);
	}
	pthread_mutex_unlock(&k->tm_mu);
}
