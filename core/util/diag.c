#include "util/diag.h"
#include "util/msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
xz_diag_init(xz_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void
xz_diag_free(xz_diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		free(d->lines[i]);
	free(d->lines);
	memset(d, 0, sizeof(*d));
}

void
xz_diag_add(xz_diag *d, const char *file, int line, const char *fmt, ...)
{
	char    msg[1024];
	char   *out;
	va_list ap;
	int     n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), xz_text(fmt), ap); /* msg.h: zh or en */
	va_end(ap);
	if (file != NULL && line > 0)
		n = snprintf(NULL, 0, "%s:%d: %s", file, line, msg);
	else if (file != NULL)
		n = snprintf(NULL, 0, "%s: %s", file, msg);
	else
		n = snprintf(NULL, 0, "%s", msg);
	if (n < 0 || (out = malloc((size_t) n + 1)) == NULL)
		return;
	if (file != NULL && line > 0)
		snprintf(out, (size_t) n + 1, "%s:%d: %s", file, line, msg);
	else if (file != NULL)
		snprintf(out, (size_t) n + 1, "%s: %s", file, msg);
	else
		snprintf(out, (size_t) n + 1, "%s", msg);
	if (d->count == d->cap) {
		size_t cap   = d->cap ? d->cap * 2 : 8;
		char **lines = realloc(d->lines, cap * sizeof(*lines));
		if (lines == NULL) {
			free(out);
			return;
		}
		d->lines = lines;
		d->cap   = cap;
	}
	d->lines[d->count++] = out;
}

void
xz_diag_print(const xz_diag *d, FILE *out)
{
	for (size_t i = 0; i < d->count; i++)
		fprintf(out, "%s\n", d->lines[i]);
}
