/*
 * xiezhi/i18n.h - human-facing text in 简体中文 and English.
 *
 * A catalog is a static array of {English, 中文} pairs ending with
 * {NULL, NULL}, kept beside the code that prints the text:
 *
 *     static const xz_tr prison_zh[] = {
 *         { "alarm %s is %s", "告警 %s 处于 %s 状态" },
 *         { NULL, NULL },
 *     };
 *     snprintf(buf, sizeof buf, XZ_TR(prison_zh, "alarm %s is %s"), id, st);
 *
 * The language is the process's: the first non-empty of LC_ALL,
 * LC_MESSAGES and LANG; a value starting with "zh" selects Chinese,
 * anything else (or nothing) English. It does not need the zh_CN locale
 * to be generated on the machine: only the variable's value is read, once.
 * A text missing from the catalog is returned in English. Header-only, so
 * the kernel, the CLI and plugins share it without linking anything.
 * Thread-safe: the language is computed once (a benign race computes the
 * same value twice); lookups only read.
 */
#ifndef XIEZHI_I18N_H
#define XIEZHI_I18N_H

#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One catalog entry; both strings are static. */
typedef struct xz_tr {
	const char *en;
	const char *zh;
} xz_tr;

enum { XZ_LANG_EN = 0, XZ_LANG_ZH = 1 };

/* The language chosen by the environment (computed on the first call). */
static inline int
xz_lang(void)
{
	static volatile int lang = -1;
	if (lang < 0) {
		static const char *const vars[] = { "LC_ALL", "LC_MESSAGES",
			"LANG" };
		int l = XZ_LANG_EN;
		for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
			const char *v = getenv(vars[i]);
			if (v != NULL && v[0] != '\0') {
				l = strncmp(v, "zh", 2) == 0 ? XZ_LANG_ZH
				                             : XZ_LANG_EN;
				break;
			}
		}
		lang = l;
	}
	return lang;
}

/* The text of en in the process's language, from catalog cat (NULL-ended);
 * en itself when the language is English or the catalog lacks it. */
static inline const char *
xz_tr_lookup(const xz_tr *cat, const char *en)
{
	if (cat == NULL || en == NULL || xz_lang() != XZ_LANG_ZH)
		return en;
	for (; cat->en != NULL; cat++)
		if (strcmp(cat->en, en) == 0)
			return cat->zh != NULL ? cat->zh : en;
	return en;
}

#define XZ_TR(cat, en) xz_tr_lookup((cat), (en))

#ifdef __cplusplus
}
#endif

#endif /* XIEZHI_I18N_H */
