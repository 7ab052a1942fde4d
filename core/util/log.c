/*
 * log.c - one record, one line, written whole under a lock so records of
 * concurrent threads never interleave.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include <pthread.h>

#include "util/log.h"

static const char *const level_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };
static pthread_mutex_t   log_mu        = PTHREAD_MUTEX_INITIALIZER;
static atomic_int        log_level     = XZ_LOG_INFO;

void
xz_log_set_level(int level)
{
	atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

int
xz_log_level(void)
{
	return atomic_load_explicit(&log_level, memory_order_relaxed);
}

void
xz_log(int level, const char *who, const char *fmt, ...)
{
	char            msg[2048], ts[40];
	struct timespec now;
	struct tm       tm;
	va_list         ap;

	if (level > xz_log_level() || level < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	pthread_mutex_lock(&log_mu);
	fprintf(stderr, "%s.%03ldZ %-5s %s: %s\n", ts, now.tv_nsec / 1000000,
	    level_names[level > 3 ? 3 : level], who ? who : "kernel", msg);
	fflush(stderr);
	pthread_mutex_unlock(&log_mu);
}
