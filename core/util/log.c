/*
 * log.c - one record, one line, one write(2) under a lock: records of
 * concurrent threads never interleave, on stderr or in node.log_file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>

#include "util/log.h"
#include "util/msg.h"

static const char *const level_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };
static const char *const level_words[] = { "error", "warn", "info", "debug" };
static pthread_mutex_t   log_mu        = PTHREAD_MUTEX_INITIALIZER;
static atomic_int        log_level     = XZ_LOG_INFO;
static atomic_int        log_format    = XZ_LOG_TEXT;
static int               log_fd        = 2; /* under log_mu */
static char             *log_path; /* under log_mu; NULL: stderr */

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

const char *
xz_log_level_name(int level)
{
	return level >= XZ_LOG_ERROR && level <= XZ_LOG_DEBUG
	    ? level_words[level]
	    : NULL;
}

void
xz_log_set_format(int format)
{
	atomic_store_explicit(&log_format, format, memory_order_relaxed);
}

static int
open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	return fd;
}

int
xz_log_open(const char *path)
{
	int   fd = 2;
	char *cp = NULL;

	if (path != NULL) {
		if ((cp = strdup(path)) == NULL)
			return ENOMEM;
		if ((fd = open_file(path)) < 0) {
			int e = errno;
			free(cp);
			return e;
		}
	}
	pthread_mutex_lock(&log_mu);
	if (log_fd != 2)
		close(log_fd);
	free(log_path);
	log_fd   = fd;
	log_path = cp;
	pthread_mutex_unlock(&log_mu);
	return 0;
}

int
xz_log_reopen(void)
{
	int rc = 0;

	pthread_mutex_lock(&log_mu);
	if (log_path != NULL) {
		int fd = open_file(log_path);
		if (fd < 0) {
			rc = errno;
		} else {
			close(log_fd);
			log_fd = fd;
		}
	}
	pthread_mutex_unlock(&log_mu);
	return rc;
}

/* Append s to out (at *o, capacity cap, one byte kept for '\n') as JSON
 * string content: quotes, backslashes and control characters escaped,
 * invalid UTF-8 replaced by U+FFFD. Stops, whole characters only, when
 * out is full. */
static void
json_escape(char *out, size_t *o, size_t cap, const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	while (*p) {
		char        esc[8];
		size_t      n = 0, len = 1;
		const char *src = esc;

		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char) *p;
			n      = 2;
		} else if (*p == '\n') {
			memcpy(esc, "\\n", n = 2);
		} else if (*p == '\r') {
			memcpy(esc, "\\r", n = 2);
		} else if (*p == '\t') {
			memcpy(esc, "\\t", n = 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			n = (size_t) snprintf(esc, sizeof(esc), "\\u%04x", *p);
		} else if (*p < 0x80) {
			esc[0] = (char) *p;
			n      = 1;
		} else {
			/* A well-formed UTF-8 sequence is copied as it is. */
			unsigned c = *p;
			uint32_t cp, min;
			len = c >= 0xf0 ? 4
			    : c >= 0xe0 ? 3
			    : c >= 0xc0 ? 2
			                : 0;
			cp  = len == 4  ? c & 0x07u
			     : len == 3 ? c & 0x0fu
			                : c & 0x1fu;
			min = len == 4 ? 0x10000u : len == 3 ? 0x800u : 0x80u;
			for (size_t i = 1; i < len; i++) {
				if ((p[i] & 0xc0) != 0x80) {
					len = 0;
					break;
				}
				cp = (cp << 6) | (p[i] & 0x3fu);
			}
			if (len == 0 || c > 0xf4 || cp < min || cp > 0x10ffff
			    || (cp >= 0xd800 && cp <= 0xdfff)) {
				memcpy(esc, "\\ufffd", n = 6);
				len = 1;
			} else {
				src = (const char *) p;
				n   = len;
			}
		}
		if (*o + n + 1 > cap)
			return;
		memcpy(out + *o, src, n);
		*o += n;
		p += len;
	}
}

static void
write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* a full disk: nowhere left to say so */
		buf += w;
		n -= (size_t) w;
	}
}

void
xz_log(int level, const char *who, const char *fmt, ...)
{
	char            msg[2048], ts[40], line[8192];
	struct timespec now;
	struct tm       tm;
	va_list         ap;
	size_t          n;

	if (level > xz_log_level() || level < 0)
		return;
	if (level > XZ_LOG_DEBUG)
		level = XZ_LOG_DEBUG;
	if (who == NULL)
		who = "kernel";
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), xz_text(fmt), ap); /* msg.h: zh or en */
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", now.tv_nsec / 1000000);
	if (atomic_load_explicit(&log_format, memory_order_relaxed)
	    == XZ_LOG_JSON) {
		n = (size_t) snprintf(line, sizeof(line),
		    "{\"time\":\"%s\",\"level\":\"%s\",\"who\":\"", ts,
		    level_words[level]);
		json_escape(line, &n, sizeof(line) - 16, who);
		memcpy(line + n, "\",\"msg\":\"", 9);
		n += 9;
		json_escape(line, &n, sizeof(line) - 3, msg);
		memcpy(line + n, "\"}", 2);
		n += 2;
	} else {
		for (char *p = msg; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		n = (size_t) snprintf(line, sizeof(line) - 1, "%s %-5s %s: %s",
		    ts, level_names[level], who, msg);
		if (n > sizeof(line) - 2)
			n = sizeof(line) - 2;
	}
	line[n++] = '\n';
	pthread_mutex_lock(&log_mu);
	write_all(log_fd, line, n);
	pthread_mutex_unlock(&log_mu);
}
