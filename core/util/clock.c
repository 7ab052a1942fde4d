/* clock.c - the monotonic clock, the kernel clock, and hot locks. */
#include "util/clock.h"

uint64_t
xz_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

void
xz_mono_abs(uint64_t us, struct timespec *ts)
{
	ts->tv_sec  = (time_t) (us / 1000000u);
	ts->tv_nsec = (long) (us % 1000000u) * 1000;
}

void
xz_clock_init(xz_clock *c)
{
	struct timespec rt;

	clock_gettime(CLOCK_REALTIME, &rt);
	c->base_real_us
	    = (uint64_t) rt.tv_sec * 1000000u + (uint64_t) rt.tv_nsec / 1000u;
	c->base_mono_us = xz_mono_us();
	atomic_init(&c->offset_us, 0);
}

uint64_t
xz_clock_real_us(const xz_clock *c)
{
	return c->base_real_us + (xz_mono_us() - c->base_mono_us);
}

uint64_t
xz_clock_now_us(const xz_clock *c)
{
	return xz_clock_real_us(c)
	    + (uint64_t) atomic_load_explicit(
	        &c->offset_us, memory_order_relaxed);
}

void
xz_clock_advance(xz_clock *c, uint64_t delta_us)
{
	atomic_fetch_add(&c->offset_us, (int_fast64_t) delta_us);
}

void
xz_mutex_init_hot(pthread_mutex_t *mu)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(mu, &a);
	pthread_mutexattr_destroy(&a);
}

void
xz_cond_init_mono(pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
}
