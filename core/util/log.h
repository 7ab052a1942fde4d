/*
 * log.h - the node's log: one record per line, written whole with one
 * write(2) under a lock, so records of concurrent threads never
 * interleave (and an O_APPEND file is safe to rotate with copytruncate).
 *
 *   text: "TIME LEVEL who: message"
 *   json: {"time":"TIME","level":"info","who":"kernel","msg":"message"}
 *
 * TIME is UTC, ISO 8601 with milliseconds. Newlines in a message are
 * folded (text) or escaped (json), so a record stays one line; json
 * output is valid UTF-8 (invalid bytes become U+FFFD).
 * Level, format and file are process-wide (one node per process).
 */
#ifndef XZ_UTIL_LOG_H
#define XZ_UTIL_LOG_H

#include <xiezhi/xiezhi.h>

#ifdef __GNUC__
#define XZ_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define XZ_PRINTF(f, a)
#endif

enum xz_log_format {
	XZ_LOG_TEXT = 0,
	XZ_LOG_JSON = 1,
};

/* Records above level (enum xz_log_level) are not written. */
void xz_log_set_level(int level);
int  xz_log_level(void);
/* "error", "warn", "info", "debug" (what node.log_level takes); NULL for a
 * level out of range. */
const char *xz_log_level_name(int level);
/* enum xz_log_format. */
void xz_log_set_format(int format);
/*
 * Write records to the file at path (appended, created with mode 0640)
 * from now on; NULL goes back to stderr. 0, or an errno value (the
 * current destination stays). The path is copied, for xz_log_reopen.
 */
int xz_log_open(const char *path);
/* Open the file of xz_log_open again (after logrotate moved it away):
 * 0 (also when writing to stderr), or an errno value and the old file
 * stays in use. */
int xz_log_reopen(void);
/* Write one record; who NULL means "kernel". */
void xz_log(int level, const char *who, const char *fmt, ...) XZ_PRINTF(3, 4);

#endif
