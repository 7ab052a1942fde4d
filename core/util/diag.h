/*
 * diag.h - collected diagnostics for people: "FILE:LINE: message" lines.
 *
 * `xiezhi check` reports every problem it finds, not just the first, so
 * validation code appends to an xz_diag and keeps going where it can.
 */
#ifndef XZ_DIAG_H
#define XZ_DIAG_H

#include <stddef.h>
#include <stdio.h>

typedef struct xz_diag {
	char **lines; /* owned; each line owned; freed by xz_diag_free */
	size_t count;
	size_t cap;
} xz_diag;

void xz_diag_init(xz_diag *d);
void xz_diag_free(xz_diag *d);
/* Append "FILE:LINE: message" (file NULL: just the message; line 0: no
 * line number). Out of memory is ignored: diagnostics are best effort. */
void xz_diag_add(xz_diag *d, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Write every line to the stream, one per line. */
void xz_diag_print(const xz_diag *d, FILE *out);

#endif
