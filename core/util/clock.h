/*
 * clock.h - time for the node.
 *
 * Two clocks: the monotonic clock (xz_mono_us) for every wait and
 * deadline inside the process, and the kernel clock (xz_clock), wall time
 * that tests of statutory deadlines may move forward
 * (xiezhi call xz.sys.clock.advance). The kernel clock is read without a
 * lock: realtime at start + monotonic elapsed + an atomic offset.
 */
#ifndef XZ_UTIL_CLOCK_H
#define XZ_UTIL_CLOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

typedef struct xz_clock {
	uint64_t            base_real_us;
	uint64_t            base_mono_us;
	atomic_int_fast64_t offset_us;
} xz_clock;

/* CLOCK_MONOTONIC in microseconds. */
uint64_t xz_mono_us(void);
/* A monotonic time in microseconds as an absolute timespec (for
 * pthread_cond_timedwait on a condition created by xz_cond_init_mono). */
void xz_mono_abs(uint64_t us, struct timespec *ts);

void xz_clock_init(xz_clock *c);
/* Kernel time, microseconds since the epoch, advance included. */
uint64_t xz_clock_now_us(const xz_clock *c);
/* Wall time as it really is (the kernel clock without the advance). */
uint64_t xz_clock_real_us(const xz_clock *c);
void     xz_clock_advance(xz_clock *c, uint64_t delta_us);

/* A mutex that spins briefly before sleeping: hand-offs between two busy
 * threads then rarely cost a futex call. */
void xz_mutex_init_hot(pthread_mutex_t *mu);
/* A condition variable whose timed waits use CLOCK_MONOTONIC. */
void xz_cond_init_mono(pthread_cond_t *cv);

#endif
