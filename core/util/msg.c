/*
 * msg.c - the registered message catalogs (msg.h).
 */
#include "util/msg.h"

#include <stdio.h>
#include <string.h>

#define XZ_MSG_MAX 16

/* Static catalogs; written only at start (xz_text_register). */
static const xz_tr *cats[XZ_MSG_MAX];
static size_t       ncats;

void
xz_text_register(const xz_tr *cat)
{
	if (cat == NULL)
		return;
	for (size_t i = 0; i < ncats; i++)
		if (cats[i] == cat)
			return;
	if (ncats < XZ_MSG_MAX)
		cats[ncats++] = cat;
}

int
xz_text_zh(void)
{
	return xz_lang() == XZ_LANG_ZH;
}

const char *
xz_text(const char *en)
{
	if (en == NULL || xz_lang() != XZ_LANG_ZH)
		return en;
	for (size_t i = 0; i < ncats; i++)
		for (const xz_tr *t = cats[i]; t->en != NULL; t++)
			if (strcmp(t->en, en) == 0)
				return t->zh != NULL ? t->zh : en;
	return en;
}

/* The next printf conversion of *s at or after it ("%-8s" -> "s", "%zu"
 * -> "zu", "%.*s" -> "*s"), written to out; 0 at the end of the string. */
static int
next_conv(const char **s, char *out, size_t len)
{
	const char *p = *s;

	while ((p = strchr(p, '%')) != NULL) {
		size_t n = 0;

		p++;
		if (*p == '%') {
			p++;
			continue;
		}
		while (*p != '\0' && strchr("-+ #0123456789.", *p) != NULL)
			p++;
		while (*p == '*' || (*p != '\0' && strchr("hlLqjzt", *p))) {
			if (n + 1 < len)
				out[n++] = *p;
			p++;
		}
		if (*p == '\0')
			break;
		if (n + 1 < len)
			out[n++] = *p;
		out[n] = '\0';
		*s     = p + 1;
		return 1;
	}
	*s = p;
	return 0;
}

int
xz_text_check(const xz_tr *cat, char *why, size_t len)
{
	for (const xz_tr *t = cat; t->en != NULL; t++) {
		const char *a = t->en, *b = t->zh;
		char        ca[16], cb[16];
		int         i = 0;

		if (b == NULL) {
			snprintf(why, len, "\"%s\": no Chinese text", t->en);
			return -1;
		}
		for (const xz_tr *u = cat; u != t; u++)
			if (strcmp(u->en, t->en) == 0) {
				snprintf(
				    why, len, "\"%s\": listed twice", t->en);
				return -1;
			}
		for (;;) {
			int ha = next_conv(&a, ca, sizeof(ca));
			int hb = next_conv(&b, cb, sizeof(cb));

			i++;
			if (!ha && !hb)
				break;
			if (ha != hb || strcmp(ca, cb) != 0) {
				snprintf(why, len,
				    "\"%s\": conversion %d is %%%s in "
				    "English, "
				    "%%%s in Chinese",
				    t->en, i, ha ? ca : "(none)",
				    hb ? cb : "(none)");
				return -1;
			}
		}
	}
	return 0;
}
