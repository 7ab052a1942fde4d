/*
 * timer.c - kernel timers on the kernel clock: one thread, one min-heap
 * (see timer.h).
 *
 * A one-shot timer stays in the id map until its owner takes it, so a
 * cancel that races with firing wins: the owner finds the id gone and does
 * nothing. A `due` hook that fails (no memory to hand the timer over) is
 * retried RETRY_US later: a timer never silently fails to fire.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched/timer.h"
#include "util/log.h"
#include "util/topic.h"
#include "util/u64map.h"
#include <xiezhi/xiezhi.h>

#define RETRY_US 10000u

typedef struct xz_timer {
	uint64_t    id;
	uint64_t    due_us;
	uint64_t    period_us;
	size_t      heap_ix;
	const void *owner;
	unsigned    flags;
	xz_due_fn   due;
	void       *due_ud;
	uint64_t    arg;
	xz_any_fn   cb;
	void       *cb_ud;
	bool        fired; /* one-shot already handed over */
} xz_timer;

struct xz_timers {
	xz_clock            *clk;
	pthread_mutex_t      mu;
	pthread_cond_t       cv; /* monotonic */
	pthread_t            thread;
	bool                 running, stop, owned_paused;
	xz_timer           **heap; /* owned array */
	size_t               nheap, capheap;
	xz_u64map            byid; /* id -> xz_timer (owned) */
	atomic_uint_fast64_t next_id;
	atomic_uint_fast64_t retries;
};

static void
heap_swap(xz_timers *k, size_t a, size_t b)
{
	xz_timer *t         = k->heap[a];
	k->heap[a]          = k->heap[b];
	k->heap[b]          = t;
	k->heap[a]->heap_ix = a;
	k->heap[b]->heap_ix = b;
}

static void
heap_up(xz_timers *k, size_t i)
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
heap_down(xz_timers *k, size_t i)
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
heap_push(xz_timers *k, xz_timer *t)
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
heap_remove(xz_timers *k, xz_timer *t)
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
fire(xz_timers *k, xz_timer *t)
{
	xz_due_fn due    = t->due;
	void     *due_ud = t->due_ud;
	uint64_t  arg = t->arg, id = t->id;
	bool      deadline = t->flags & XZ_TIMER_DEADLINE;

	if (deadline) {
		/* A deadline fires once and is gone; its owner keeps no id. */
		xz_u64map_del(&k->byid, t->id);
		free(t);
	} else if (t->period_us > 0) {
		t->due_us += t->period_us;
		/* A clock jump must not cause a burst of catch-up fires. */
		uint64_t now = xz_clock_now_us(k->clk);
		if (t->due_us <= now)
			t->due_us = now + t->period_us;
		heap_push(k, t);
	} else {
		t->fired = true;
	}
	pthread_mutex_unlock(&k->mu);
	int rc = due(due_ud, arg, id);
	pthread_mutex_lock(&k->mu);
	if (rc == 0)
		return;
	/* Not handed over: try again shortly (a periodic timer is already
	 * back in the heap and fires at its next period). */
	if (atomic_fetch_add(&k->retries, 1) % 1000 == 0)
		xz_log(XZ_LOG_ERROR, "timer",
		    "timer %llu could not be handed over (out of memory); "
		    "retrying",
		    (unsigned long long) id);
	if (deadline) {
		xz_timer *r = calloc(1, sizeof(*r));
		if (r == NULL || xz_u64map_put(&k->byid, id, r) != 0) {
			free(r);
			return; /* counted and logged above */
		}
		r->id     = id;
		r->flags  = XZ_TIMER_DEADLINE;
		r->due    = due;
		r->due_ud = due_ud;
		r->arg    = arg;
		r->due_us = xz_clock_now_us(k->clk) + RETRY_US;
		if (heap_push(k, r) != 0) {
			xz_u64map_del(&k->byid, id);
			free(r);
		}
		return;
	}
	xz_timer *again = xz_u64map_get(&k->byid, id);
	if (again != NULL && again->fired) {
		again->fired  = false;
		again->due_us = xz_clock_now_us(k->clk) + RETRY_US;
		if (heap_push(k, again) != 0)
			again->fired = true;
	}
}

static void *
timer_main(void *arg)
{
	xz_timers *k = arg;

	pthread_mutex_lock(&k->mu);
	while (!k->stop) {
		uint64_t now = xz_clock_now_us(k->clk);
		if (k->nheap > 0 && k->heap[0]->due_us <= now) {
			xz_timer *t = k->heap[0];
			heap_remove(k, t);
			if (!(t->flags & XZ_TIMER_DEADLINE)
			    && k->owned_paused) {
				t->fired = true; /* dropped at shutdown */
				continue;
			}
			fire(k, t);
			continue;
		}
		if (k->nheap == 0) {
			pthread_cond_wait(&k->cv, &k->mu);
			continue;
		}
		/* Wait on the monotonic clock for the time left. */
		struct timespec ts;
		xz_mono_abs(xz_mono_us() + (k->heap[0]->due_us - now), &ts);
		pthread_cond_timedwait(&k->cv, &k->mu, &ts);
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

xz_timers *
xz_timers_new(xz_clock *clk)
{
	xz_timers *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return NULL;
	k->clk = clk;
	pthread_mutex_init(&k->mu, NULL);
	xz_cond_init_mono(&k->cv);
	xz_u64map_init(&k->byid);
	return k;
}

int
xz_timers_start(xz_timers *k)
{
	k->stop = false;
	if (pthread_create(&k->thread, NULL, timer_main, k) != 0)
		return XZ_ENOMEM;
	k->running = true;
	return XZ_OK;
}

void
xz_timers_stop(xz_timers *k)
{
	if (!k->running)
		return;
	pthread_mutex_lock(&k->mu);
	k->stop = true;
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->thread, NULL);
	k->running = false;
}

void
xz_timers_free(xz_timers *k)
{
	if (k == NULL)
		return;
	xz_timers_stop(k);
	for (size_t i = 0; i < k->byid.cap; i++) {
		uint64_t key = k->byid.keys[i];
		if (key != 0 && key != UINT64_MAX)
			free(k->byid.vals[i]);
	}
	xz_u64map_fini(&k->byid);
	free(k->heap);
	pthread_mutex_destroy(&k->mu);
	pthread_cond_destroy(&k->cv);
	free(k);
}

int
xz_timer_add(xz_timers *k, const void *owner, uint64_t delay_us,
    uint64_t period_us, unsigned flags, xz_due_fn due, void *due_ud,
    uint64_t arg, xz_any_fn cb, void *cb_ud, uint64_t *id)
{
	xz_timer *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return XZ_ENOMEM;
	t->id        = atomic_fetch_add(&k->next_id, 1) + 1;
	t->owner     = owner;
	t->flags     = flags;
	t->period_us = period_us;
	t->due       = due;
	t->due_ud    = due_ud;
	t->arg       = arg;
	t->cb        = cb;
	t->cb_ud     = cb_ud;
	pthread_mutex_lock(&k->mu);
	t->due_us = xz_clock_now_us(k->clk) + delay_us;
	if (xz_u64map_put(&k->byid, t->id, t) != 0 || heap_push(k, t) != 0) {
		xz_u64map_del(&k->byid, t->id);
		pthread_mutex_unlock(&k->mu);
		free(t);
		return XZ_ENOMEM;
	}
	if (k->heap[0] == t)
		pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
	if (id != NULL)
		*id = t->id;
	return XZ_OK;
}

int
xz_timer_cancel(xz_timers *k, const void *owner, uint64_t id)
{
	xz_timer *t;

	pthread_mutex_lock(&k->mu);
	t = xz_u64map_get(&k->byid, id);
	if (t != NULL && t->owner != owner)
		t = NULL;
	if (t != NULL)
		xz_u64map_del(&k->byid, id);
	if (t != NULL && !t->fired)
		heap_remove(k, t);
	pthread_mutex_unlock(&k->mu);
	free(t);
	return t ? XZ_OK : XZ_ENOENT;
}

int
xz_timer_take(xz_timers *k, uint64_t id, xz_any_fn *cb, void **cb_ud)
{
	xz_timer *t;
	int       alive = 0;

	pthread_mutex_lock(&k->mu);
	t = xz_u64map_get(&k->byid, id);
	if (t != NULL) {
		alive  = 1;
		*cb    = t->cb;
		*cb_ud = t->cb_ud;
		if (t->fired) {
			xz_u64map_del(&k->byid, id);
			free(t);
		}
	}
	pthread_mutex_unlock(&k->mu);
	return alive;
}

/* Both happen under mu, so the timer thread never sees the new clock with
 * the old deadlines. */
void
xz_timers_advance(xz_timers *k, uint64_t delta_us)
{
	pthread_mutex_lock(&k->mu);
	xz_clock_advance(k->clk, delta_us);
	for (size_t i = 0; i < k->nheap; i++)
		if (k->heap[i]->flags & XZ_TIMER_DEADLINE)
			k->heap[i]->due_us += delta_us;
	for (size_t i = k->nheap / 2; i-- > 0;)
		heap_down(k, i);
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
}

void
xz_timers_pause_owned(xz_timers *k)
{
	pthread_mutex_lock(&k->mu);
	k->owned_paused = true;
	pthread_mutex_unlock(&k->mu);
}

void
xz_timers_drop_owner(xz_timers *k, const void *owner)
{
	pthread_mutex_lock(&k->mu);
	for (size_t i = 0; i < k->byid.cap; i++) {
		uint64_t key = k->byid.keys[i];
		if (key == 0 || key == UINT64_MAX)
			continue;
		xz_timer *t = k->byid.vals[i];
		if (t->owner != owner)
			continue;
		xz_u64map_del(&k->byid, key);
		if (!t->fired)
			heap_remove(k, t);
		free(t);
	}
	pthread_mutex_unlock(&k->mu);
}

uint64_t
xz_timers_retries(xz_timers *k)
{
	return atomic_load(&k->retries);
}

size_t
xz_timers_count(xz_timers *k)
{
	pthread_mutex_lock(&k->mu);
	size_t n = k->byid.count;
	pthread_mutex_unlock(&k->mu);
	return n;
}
