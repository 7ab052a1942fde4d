/*
 * timer.h - timers on the kernel clock: one thread, one min-heap.
 *
 * The layer takes plain callbacks and knows nothing of plugins or
 * requests. When a timer comes due its `due` hook runs on the timer
 * thread: it must not block and must not run plugin code (the kernel's
 * hook hands the timer to the owner's actor as a job; the bus's completes
 * a request with a timeout). The owner's callback and its argument are
 * kept here as plain data and fetched, in the owner's context, with
 * xz_timer_take, so a cancel that races with firing wins.
 */
#ifndef XZ_SCHED_TIMER_H
#define XZ_SCHED_TIMER_H

#include <stdint.h>

#include "util/clock.h"

typedef struct xz_timers xz_timers;

/* Any function; the owner casts it back to what it stored. */
typedef void (*xz_any_fn)(void);

/* Runs on the timer thread. Return 0 once the timer is handed over, or -1
 * when it could not be (out of memory): the timer then comes due again
 * after a short delay, and the retry is counted (xz_timers_retries). */
typedef int (*xz_due_fn)(void *due_ud, uint64_t arg, uint64_t id);

/* A deadline kept in real time: it does not follow xz_timers_advance, and
 * it keeps firing after xz_timers_pause_owned. */
#define XZ_TIMER_DEADLINE 1u

/* Timers on clk (borrowed). The thread starts with xz_timers_start. */
xz_timers *xz_timers_new(xz_clock *clk);
int        xz_timers_start(xz_timers *t);
/* Stop the thread; the timers stay until xz_timers_free. */
void xz_timers_stop(xz_timers *t);
void xz_timers_free(xz_timers *t);

/* A timer due in delay_us (period_us 0: one shot). owner is only compared:
 * cancel and drop_owner act on the owner's timers alone. */
int xz_timer_add(xz_timers *t, const void *owner, uint64_t delay_us,
    uint64_t period_us, unsigned flags, xz_due_fn due, void *due_ud,
    uint64_t arg, xz_any_fn cb, void *cb_ud, uint64_t *id);
/* XZ_OK, or XZ_ENOENT when owner holds no timer id. */
int xz_timer_cancel(xz_timers *t, const void *owner, uint64_t id);
/* In the owner's context after `due`: 1 and the callback if the timer is
 * still alive (a fired one-shot is then forgotten), 0 if cancelled. */
int xz_timer_take(xz_timers *t, uint64_t id, xz_any_fn *cb, void **cb_ud);
/* Move the kernel clock forward: owned timers follow it (what came due
 * fires now), deadlines do not. */
void xz_timers_advance(xz_timers *t, uint64_t delta_us);
/* Shutdown: timers that are not deadlines stop firing. */
void xz_timers_pause_owned(xz_timers *t);
/* Forget every timer of owner. */
void     xz_timers_drop_owner(xz_timers *t, const void *owner);
uint64_t xz_timers_retries(xz_timers *t);
size_t   xz_timers_count(xz_timers *t);

#endif
