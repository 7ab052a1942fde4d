/*
 * test_msg.c - the message catalogs of the config layer, the kernel and the
 * CLI (util/msg.h): every Chinese text keeps its English format's printf
 * conversions in order (a swapped %s/%d would print garbage or crash), no
 * key is listed twice, lookups return the Chinese under LANG=zh_CN and the
 * English for a text the catalogs lack, and the checker itself catches a
 * broken entry. The catalogs against the sources: every key is a text the
 * code under core/ still writes (an edited English would otherwise lose
 * its Chinese silently), and every xz_text("...") / XZ_TR(cat, "...") of
 * the code has an entry.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli_common.h"
#include "kernel/kernel.h"
#include "util/msg.h"
#include "wire/client.h"

static void
check_cat(const xz_tr *cat, const char *name)
{
	char why[512] = "";
	int  rc       = xz_text_check(cat, why, sizeof(why));

	if (rc != 0)
		print_error("%s: %s\n", name, why);
	assert_int_equal(rc, 0);
	assert_non_null(cat[0].en);
}

static void
test_catalogs_consistent(void **state)
{
	(void) state;
	check_cat(xz_config_zh, "xz_config_zh");
	check_cat(xz_kernel_zh, "xz_kernel_zh");
	check_cat(xz_cli_zh, "xz_cli_zh");
	check_cat(xz_client_zh, "xz_client_zh");
}

/* ---- the catalogs against the sources ---- */

/* The string literals of the C files under core/ (adjacent ones joined,
 * escapes undone), and which of them are looked up explicitly. */
typedef struct lit {
	char *text; /* owned */
	int   looked_up; /* written as xz_text("...") or XZ_TR(x, "...") */
	char  where[160];
} lit;
static lit   *lits; /* owned array */
static size_t nlits, caplits;

static void
add_lit(const char *text, size_t len, int looked_up, const char *where)
{
	if (nlits == caplits) {
		caplits = caplits ? caplits * 2 : 1024;
		lits    = realloc(lits, caplits * sizeof(*lits));
		assert_non_null(lits);
	}
	lits[nlits].text = strndup(text, len);
	assert_non_null(lits[nlits].text);
	lits[nlits].looked_up = looked_up;
	snprintf(lits[nlits].where, sizeof(lits[nlits].where), "%s", where);
	nlits++;
}

/* Undo the escapes of literal body s[0..n) into out (appended). */
static size_t
unescape(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 >= n) {
			out[o++] = s[i];
			continue;
		}
		char c = s[++i];
		switch (c) {
		case 'n':
			out[o++] = '\n';
			break;
		case 't':
			out[o++] = '\t';
			break;
		case 'r':
			out[o++] = '\r';
			break;
		case '0':
		case '1':
		case '2':
		case '3': {
			int v = 0, k = 0;
			while (k < 3 && i < n && s[i] >= '0' && s[i] <= '7') {
				v = v * 8 + (s[i] - '0');
				i++, k++;
			}
			i--;
			out[o++] = (char) v;
			break;
		}
		default:
			out[o++] = c;
			break;
		}
	}
	return o;
}

static void
scan_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *src, *buf;
	long  n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	src = malloc((size_t) n + 1);
	buf = malloc((size_t) n + 1);
	assert_non_null(src);
	assert_non_null(buf);
	assert_int_equal(fread(src, 1, (size_t) n, f), (size_t) n);
	src[n] = '\0';
	fclose(f);
	for (long i = 0; i < n;) {
		if (src[i] == '/' && src[i + 1] == '*') {
			char *e = strstr(src + i + 2, "*/");
			i       = e ? e - src + 2 : n;
		} else if (src[i] == '/' && src[i + 1] == '/') {
			while (i < n && src[i] != '\n')
				i++;
		} else if (src[i] == '#' && (i == 0 || src[i - 1] == '\n')) {
			while (i < n && src[i] != '\n') /* #include "..." */
				i += src[i] == '\\' ? 2 : 1;
		} else if (src[i] == '\'') {
			i++;
			while (i < n && src[i] != '\'')
				i += src[i] == '\\' ? 2 : 1;
			i++;
		} else if (src[i] == '"') {
			/* looked up when the call's name precedes it */
			long b = i;
			while (b > 0 && strchr(" \t\n(", src[b - 1]))
				b--;
			long a = b >= 40 ? b - 40 : 0;
			int  looked
			    = (b >= 7
			          && strncmp(src + b - 7, "xz_text", 7) == 0)
			    || (b >= 1 && src[b - 1] == ','
			        && memmem(
			               src + a, (size_t) (b - a), "XZ_TR(", 6)
			            != NULL);
			size_t len = 0;
			for (;;) { /* a run of adjacent literals */
				long s0 = ++i;
				while (i < n && src[i] != '"')
					i += src[i] == '\\' ? 2 : 1;
				len += unescape(
				    src + s0, (size_t) (i - s0), buf + len);
				i++;
				long j = i;
				while (j < n && strchr(" \t\n", src[j]))
					j++;
				if (j < n && src[j] == '"')
					i = j;
				else
					break;
			}
			add_lit(buf, len, looked, path);
		} else {
			i++;
		}
	}
	free(src);
	free(buf);
}

/* Every .c file under dir but the catalogs (*_msg.c). */
static void
scan_dir(const char *dir)
{
	DIR           *d = opendir(dir);
	struct dirent *e;
	char           path[1024];

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR)
			scan_dir(path);
		else if (l > 2 && strcmp(e->d_name + l - 2, ".c") == 0
		    && (l < 6 || strcmp(e->d_name + l - 6, "_msg.c") != 0))
			scan_file(path);
	}
	closedir(d);
}

/* Keys that are no literal of core/: texts of the libraries it uses. */
static const char *const foreign_keys[] = {
	"syntax error", /* libconfig's parse error, translated in config.c */
	NULL,
};

static int
in_sources(const char *en)
{
	for (size_t i = 0; foreign_keys[i] != NULL; i++)
		if (strcmp(foreign_keys[i], en) == 0)
			return 1;
	for (size_t i = 0; i < nlits; i++)
		if (strcmp(lits[i].text, en) == 0)
			return 1;
	return 0;
}

static int
in_catalogs(const char *en)
{
	const xz_tr *cats[]
	    = { xz_config_zh, xz_kernel_zh, xz_cli_zh, xz_client_zh };
	for (size_t c = 0; c < sizeof(cats) / sizeof(cats[0]); c++)
		for (const xz_tr *t = cats[c]; t->en != NULL; t++)
			if (strcmp(t->en, en) == 0)
				return 1;
	return 0;
}

static void
test_keys_match_sources(void **state)
{
	const struct {
		const xz_tr *cat;
		const char  *name;
	} cats[] = { { xz_config_zh, "config/config_msg.c" },
		{ xz_kernel_zh, "kernel/kernel_msg.c" },
		{ xz_cli_zh, "cli/cli_msg.c" },
		{ xz_client_zh, "wire/client_msg.c" } };
	int bad  = 0;

	(void) state;
	scan_dir(XZ_TEST_DATA "/../../core");
	assert_true(nlits > 1000); /* the scan found the sources */
	for (size_t c = 0; c < sizeof(cats) / sizeof(cats[0]); c++)
		for (const xz_tr *t = cats[c].cat; t->en != NULL; t++)
			if (!in_sources(t->en)) {
				print_error(
				    "%s: the key \"%s\" is no text of "
				    "the code (was the English edited?)\n",
				    cats[c].name, t->en);
				bad++;
			}
	for (size_t i = 0; i < nlits; i++)
		if (lits[i].looked_up && !in_catalogs(lits[i].text)) {
			print_error("%s: \"%s\" is looked up but no catalog "
			            "has it\n",
			    lits[i].where, lits[i].text);
			bad++;
		}
	for (size_t i = 0; i < nlits; i++)
		free(lits[i].text);
	free(lits);
	assert_int_equal(bad, 0);
}

static void
test_checker_catches(void **state)
{
	static const xz_tr swapped[]
	    = { { "%s has %d", "%d 有 %s" }, { NULL, NULL } };
	static const xz_tr missing[]
	    = { { "%s: %s", "%s：" }, { NULL, NULL } };
	static const xz_tr twice[]
	    = { { "a %s", "甲 %s" }, { "a %s", "乙 %s" }, { NULL, NULL } };
	static const xz_tr fine[]
	    = { { "100%% of %zu, %.*s", "%zu 的 100%%，%.*s" },
		      { NULL, NULL } };
	char why[256];

	(void) state;
	assert_int_equal(xz_text_check(swapped, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "conversion 1 is %s in English, %d"));
	assert_int_equal(xz_text_check(missing, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "(none)"));
	assert_int_equal(xz_text_check(twice, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "listed twice"));
	assert_int_equal(xz_text_check(fine, why, sizeof(why)), 0);
}

static void
test_lookup_zh(void **state)
{
	static const xz_tr extra[]
	    = { { "only here", "仅在此处" }, { NULL, NULL } };

	(void) state;
	assert_int_equal(xz_text_zh(), 1);
	xz_text_register(xz_config_zh);
	xz_text_register(xz_kernel_zh);
	xz_text_register(xz_cli_zh);
	xz_text_register(xz_cli_zh); /* twice: a no-op */
	assert_string_equal(xz_text("stopped"), "已停止");
	assert_string_equal(
	    xz_text("node.name is required"), "node.name 为必填项");
	assert_string_equal(xz_text("xiezhi: unknown command '%s'\n\n%s"),
	    "xiezhi：未知命令 '%s'\n\n%s");
	/* not in any catalog: the English itself */
	assert_string_equal(xz_text("no such text %s"), "no such text %s");
	assert_string_equal(xz_text("only here"), "only here");
	xz_text_register(extra);
	assert_string_equal(xz_text("only here"), "仅在此处");
	assert_null(xz_text(NULL));
}

int
main(void)
{
	/* the language is read once, at the first lookup */
	unsetenv("LC_ALL");
	unsetenv("LC_MESSAGES");
	setenv("LANG", "zh_CN.UTF-8", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catalogs_consistent),
		cmocka_unit_test(test_checker_catches),
		cmocka_unit_test(test_lookup_zh),
		cmocka_unit_test(test_keys_match_sources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
