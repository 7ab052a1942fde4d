/*
 * log.h - the node's log: one line per record on stderr,
 * "TIME LEVEL who: message", newlines folded so a record stays one line.
 * The level is process-wide (one node per process).
 */
#ifndef XZ_UTIL_LOG_H
#define XZ_UTIL_LOG_H

#include <xiezhi/xiezhi.h>

#ifdef __GNUC__
#define XZ_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define XZ_PRINTF(f, a)
#endif

/* Records above level (enum xz_log_level) are not written. */
void xz_log_set_level(int level);
int  xz_log_level(void);
/* Write one record; who NULL means "kernel". */
void xz_log(int level, const char *who, const char *fmt, ...) XZ_PRINTF(3, 4);

#endif
