/*
 * test_msg.c - the message catalogs of the config layer, the kernel and the
 * CLI (util/msg.h): every Chinese text keeps its English format's printf
 * conversions in order (a swapped %s/%d would print garbage or crash), no
 * key is listed twice, lookups return the Chinese under LANG=zh_CN and the
 * English for a text the catalogs lack, and the checker itself catches a
 * broken entry. The catalogs against the sources: every key is a text the
 * code under core/ still writes (an edited English would otherwise lose
 * its Chinese silently), and every xz_text("...") / XZ_TR(cat, "...") of
 * the code has an entry. The same for the catalogs the plugins and the
 * examples keep in their sources (xz_tr NAME[] = {...}; macros such as
 * PT("...") over XZ_TR): read from the source text, since each is linked
 * into its plugin only.
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

#include "cli/audit_cli.h"
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
	char  cat[64]; /* the catalog named (XZ_TR's or a macro's), or "" */
	char  where[160];
} lit;
static lit   *lits; /* owned array */
static size_t nlits, caplits;

/* A catalog written in a scanned file (xz_tr NAME[] = { ... }): the
 * plugins keep theirs beside their code. */
typedef struct src_cat {
	char   name[64];
	char   where[160];
	xz_tr *tr; /* owned, {NULL, NULL}-ended; strings owned */
	size_t n;
} src_cat;
static src_cat *scats; /* owned array */
static size_t   nscats;

/* #define NAME(x) XZ_TR(CAT, x): in its .c file, or in the files of its
 * .h file's folder. */
typedef struct tr_macro {
	char name[32];
	char cat[64];
	char scope[160]; /* the .c file, or the .h file's folder + "/" */
} tr_macro;
static tr_macro macros[64];
static size_t   nmacros;

static void
free_sources(void)
{
	for (size_t i = 0; i < nlits; i++)
		free(lits[i].text);
	free(lits);
	lits  = NULL;
	nlits = caplits = 0;
	for (size_t c = 0; c < nscats; c++) {
		for (size_t i = 0; i < scats[c].n; i++) {
			free((char *) scats[c].tr[i].en);
			free((char *) scats[c].tr[i].zh);
		}
		free(scats[c].tr);
	}
	free(scats);
	scats   = NULL;
	nscats  = 0;
	nmacros = 0;
}

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
	lits[nlits].cat[0]    = '\0';
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

/* The run of adjacent literals at src[*i] == '"' (escapes undone) into
 * a new string; *i moves past it. */
static char *
lit_run(const char *src, long n, long *i)
{
	char  *buf = malloc((size_t) n + 1);
	size_t len = 0;

	assert_non_null(buf);
	for (;;) {
		long s0 = ++*i;
		while (*i < n && src[*i] != '"')
			*i += src[*i] == '\\' ? 2 : 1;
		len += unescape(src + s0, (size_t) (*i - s0), buf + len);
		(*i)++;
		long j = *i;
		while (j < n && strchr(" \t\n", src[j]))
			j++;
		if (j < n && src[j] == '"')
			*i = j;
		else
			break;
	}
	buf[len] = '\0';
	return buf;
}

/* At src + i: "xz_tr NAME[] = {"? Then parse the catalog's pairs up to
 * its {NULL, NULL} into scats and return the index past it, else -1. */
static long
scan_catalog(const char *src, long n, long i, const char *path)
{
	long   j = i + 5, k;
	char   name[64];
	size_t cap = 64, pairs = 0;
	char  *pend = NULL;

	if (strncmp(src + i, "xz_tr", 5) != 0 || (i > 0 && src[i - 1] == '_')
	    || !strchr(" \t", src[j]))
		return -1;
	while (j < n && strchr(" \t", src[j]))
		j++;
	k = j;
	while (k < n
	    && (src[k] == '_' || (src[k] >= 'a' && src[k] <= 'z')
	        || (src[k] >= 'A' && src[k] <= 'Z')
	        || (src[k] >= '0' && src[k] <= '9')))
		k++;
	if (k == j || k - j >= (long) sizeof(name)
	    || strncmp(src + k, "[] = {", 6) != 0)
		return -1;
	snprintf(name, sizeof(name), "%.*s", (int) (k - j), src + j);
	scats = realloc(scats, (nscats + 1) * sizeof(*scats));
	assert_non_null(scats);
	src_cat *c = &scats[nscats++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->where, sizeof(c->where), "%s", path);
	c->tr = calloc(cap + 1, sizeof(xz_tr));
	assert_non_null(c->tr);
	for (i = k + 6; i < n;) {
		if (src[i] == '/' && src[i + 1] == '*') {
			char *e = strstr(src + i + 2, "*/");
			i       = e ? e - src + 2 : n;
		} else if (src[i] == '"') {
			char *t = lit_run(src, n, &i);
			if (pend == NULL) {
				pend = t;
				continue;
			}
			if (pairs == cap) {
				cap *= 2;
				c->tr = realloc(
				    c->tr, (cap + 1) * sizeof(xz_tr));
				assert_non_null(c->tr);
			}
			c->tr[pairs].en = pend;
			c->tr[pairs].zh = t;
			pairs++;
			pend = NULL;
		} else if (strncmp(src + i, "NULL", 4) == 0
		    || (src[i] == '}' && src[i + 1] == ';')) {
			break;
		} else {
			i++;
		}
	}
	assert_null(pend); /* every English has its Chinese */
	c->tr[pairs].en = c->tr[pairs].zh = NULL;
	c->n                              = pairs;
	while (i < n && !(src[i] == '}' && src[i + 1] == ';'))
		i++;
	return i + 2;
}

/* The macros of path (see tr_macro): "#define NAME(x) XZ_TR(CAT, x)". */
static void
scan_macros(const char *src, const char *path)
{
	const char *p = src;
	size_t      l = strlen(path);

	while ((p = strstr(p, "#define ")) != NULL) {
		char name[32], arg[16], cat[64];
		p += 8;
		/* XZ_TR_LATER(CAT, x): the text of CAT put into a language
		 * later (the gateway's, by the request's) */
		if (sscanf(p,
		        "%31[A-Za-z0-9_](%15[a-z]) XZ_TR(%63[A-Za-z0-9_],",
		        name, arg, cat)
		        != 3
		    && sscanf(p,
		           "%31[A-Za-z0-9_](%15[a-z]) "
		           "XZ_TR_LATER(%63[A-Za-z0-9_],",
		           name, arg, cat)
		        != 3)
			continue;
		assert_true(nmacros < sizeof(macros) / sizeof(macros[0]));
		tr_macro *m = &macros[nmacros++];
		snprintf(m->name, sizeof(m->name), "%s", name);
		snprintf(m->cat, sizeof(m->cat), "%s", cat);
		if (l > 2 && strcmp(path + l - 2, ".h") == 0) {
			const char *sl = strrchr(path, '/');
			snprintf(m->scope, sizeof(m->scope), "%.*s",
			    (int) (sl - path + 1), path);
		} else {
			snprintf(m->scope, sizeof(m->scope), "%s", path);
		}
	}
}

/* The catalog a macro called name names in file path, or NULL. */
static const char *
macro_cat(const char *name, size_t len, const char *path)
{
	for (size_t i = 0; i < nmacros; i++) {
		const tr_macro *m  = &macros[i];
		size_t          sl = strlen(m->scope);
		if (strlen(m->name) != len || strncmp(m->name, name, len) != 0)
			continue;
		if (strcmp(m->scope, path) == 0
		    || (m->scope[sl - 1] == '/'
		        && strncmp(m->scope, path, sl) == 0
		        && strchr(path + sl, '/') == NULL))
			return m->cat;
	}
	return NULL;
}

static char *
read_all(const char *path, long *n)
{
	FILE *f = fopen(path, "r");
	char *src;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*n = ftell(f);
	fseek(f, 0, SEEK_SET);
	src = malloc((size_t) *n + 1);
	assert_non_null(src);
	assert_int_equal(fread(src, 1, (size_t) *n, f), (size_t) *n);
	src[*n] = '\0';
	fclose(f);
	return src;
}

static void
scan_file(const char *path)
{
	long  n;
	char *src = read_all(path, &n);

	for (long i = 0; i < n;) {
		long e;
		if (src[i] == '/' && src[i + 1] == '*') {
			char *c = strstr(src + i + 2, "*/");
			i       = c ? c - src + 2 : n;
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
		} else if ((e = scan_catalog(src, n, i, path)) > 0) {
			i = e; /* a catalog's texts are no texts of the code */
		} else if (src[i] == '"') {
			/* looked up when the call's name precedes it:
			 * xz_text("..."), XZ_TR(cat, "...") or MACRO("...") */
			long b = i;
			while (b > 0 && strchr(" \t\n(", src[b - 1]))
				b--;
			long a = b >= 40 ? b - 40 : 0;
			long w = b; /* the name before the "(" */
			while (w > 0
			    && (src[w - 1] == '_'
			        || (src[w - 1] >= 'A' && src[w - 1] <= 'Z')
			        || (src[w - 1] >= 'a' && src[w - 1] <= 'z')
			        || (src[w - 1] >= '0' && src[w - 1] <= '9')))
				w--;
			const char *mc = b > w && src[b] == '('
			    ? macro_cat(src + w, (size_t) (b - w), path)
			    : NULL;
			const char *xt = NULL;
			if (b >= 1 && src[b - 1] == ',')
				xt = memmem(
				    src + a, (size_t) (b - a), "XZ_TR(", 6);
			int looked
			    = (b >= 7
			          && strncmp(src + b - 7, "xz_text", 7) == 0)
			    || xt != NULL || mc != NULL;
			char *t = lit_run(src, n, &i);
			add_lit(t, strlen(t), looked, path);
			free(t);
			if (mc != NULL)
				snprintf(lits[nlits - 1].cat,
				    sizeof(lits[nlits - 1].cat), "%s", mc);
			else if (xt != NULL)
				sscanf(xt + 6, "%63[A-Za-z0-9_]",
				    lits[nlits - 1].cat);
		} else {
			i++;
		}
	}
	free(src);
}

/* Every .c and .h file under dir but the catalogs (*_msg.c); with
 * macros, first the macros of each. */
static void
scan_dir_pass(const char *dir, int macros_pass)
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
		if (e->d_type == DT_DIR) {
			scan_dir_pass(path, macros_pass);
		} else if (macros_pass) {
			if (l > 2
			    && (strcmp(e->d_name + l - 2, ".c") == 0
			        || strcmp(e->d_name + l - 2, ".h") == 0)) {
				long  n;
				char *src = read_all(path, &n);
				scan_macros(src, path);
				free(src);
			}
		} else if (l > 2
		    && (strcmp(e->d_name + l - 2, ".c") == 0
		        || strcmp(e->d_name + l - 2, ".h") == 0)
		    && (l < 6 || strcmp(e->d_name + l - 6, "_msg.c") != 0)) {
			scan_file(path);
		}
	}
	closedir(d);
}

static void
scan_dir(const char *dir)
{
	scan_dir_pass(dir, 1);
	scan_dir_pass(dir, 0);
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
	free_sources();
	assert_int_equal(bad, 0);
}

/* ---- the plugins' catalogs, read from their sources ---- */

static int
is_lit(const char *en)
{
	for (size_t i = 0; i < nlits; i++)
		if (strcmp(lits[i].text, en) == 0)
			return 1;
	return 0;
}

static const src_cat *
find_scat(const char *name)
{
	for (size_t c = 0; c < nscats; c++)
		if (strcmp(scats[c].name, name) == 0)
			return &scats[c];
	return NULL;
}

/* A catalog some macro or XZ_TR(cat, ..) reads (not a table of labels
 * that code walks itself). */
static int
scat_looked_up(const char *name)
{
	for (size_t i = 0; i < nmacros; i++)
		if (strcmp(macros[i].cat, name) == 0)
			return 1;
	for (size_t i = 0; i < nlits; i++)
		if (strcmp(lits[i].cat, name) == 0)
			return 1;
	return 0;
}

/* The printf conversions of f ("%s", "%lld", "%.*s"...; "%%" is none)
 * into conv[] (each at most 15 bytes), with their position ("%2$s": 2;
 * 0 when not positional). Returns how many. */
static int
conversions(const char *f, char conv[][16], int *pos, int max)
{
	int n = 0;

	for (const char *p = f; (p = strchr(p, '%')) != NULL;) {
		if (p[1] == '%') {
			p += 2;
			continue;
		}
		p++;
		int         at = 0;
		const char *q  = p;
		while (*q >= '0' && *q <= '9')
			at = at * 10 + (*q++ - '0');
		if (*q == '$' && at > 0)
			p = q + 1;
		else
			at = 0;
		size_t k = strspn(p, "-+ #0123456789.*hlzjtL");
		assert_true(n < max && k + 1 < 16);
		snprintf(conv[n], 16, "%.*s", (int) k + 1, p);
		pos[n++] = at;
		p += k + 1;
	}
	return n;
}

/* A Chinese text that reorders the English's conversions with glibc's
 * positional form ("没有编号为 %2$s 的%1$s"): each English conversion k is
 * "%k$" with the same specification, and none is unnumbered. */
static int
positional_ok(const char *en, const char *zh)
{
	char e[32][16], z[32][16];
	int  ep[32], zp[32];
	int  ne = conversions(en, e, ep, 32), nz = conversions(zh, z, zp, 32);

	if (nz != ne)
		return 0;
	for (int k = 0; k < nz; k++)
		if (zp[k] < 1 || zp[k] > ne || strcmp(z[k], e[zp[k] - 1]) != 0)
			return 0;
	return 1;
}

/* Entries whose Chinese takes an argument more than the English, on
 * purpose: the code passes it and formats the English again without it. */
static const char *const extra_arg_keys[] = {
	/* rehab/serve.c: the state's Chinese label after its id */
	"%s %s is %s: %s is not allowed (allowed: %s)",
	NULL,
};

/* xz_text_check, but a positional Chinese text (positional_ok) and the
 * extra_arg_keys pass. */
static int
scat_check(const src_cat *c, char *why, size_t len)
{
	xz_tr *rest = calloc(c->n + 1, sizeof(*rest)); /* owned */
	size_t m    = 0;
	int    rc;

	assert_non_null(rest);
	for (size_t i = 0; i < c->n; i++) {
		int skip = strchr(c->tr[i].zh, '$') != NULL
		    && positional_ok(c->tr[i].en, c->tr[i].zh);
		for (size_t k = 0; extra_arg_keys[k] != NULL; k++)
			skip |= strcmp(extra_arg_keys[k], c->tr[i].en) == 0;
		if (skip)
			continue;
		rest[m++] = c->tr[i];
	}
	rc = xz_text_check(rest, why, len);
	free(rest);
	return rc;
}

/* Every catalog under plugins/ and examples/ (kit_zh, prison_zh, the log
 * lines' catalogs of gateway, audit, nats, hello, demo...): its Chinese
 * keeps the English conversions in order, each key is still a text of
 * the plugins' code, and each text the code looks up (XZ_TR(cat, "..")
 * or a macro over it, such as PT("..")) is in the catalog it names. */
static void
test_plugin_catalogs(void **state)
{
	int bad = 0;

	(void) state;
	scan_dir(XZ_TEST_DATA "/../../plugins");
	scan_dir(XZ_TEST_DATA "/../../examples");
	assert_true(nlits > 1000);
	assert_true(nscats >= 10); /* the scan found the catalogs */
	assert_true(nmacros >= 8);
	for (size_t c = 0; c < nscats; c++) {
		char why[512] = "";
		/* a table of labels that code walks itself (prison's
		 * labels) is no catalog of texts */
		if (!scat_looked_up(scats[c].name))
			continue;
		if (scat_check(&scats[c], why, sizeof(why)) != 0) {
			print_error("%s: %s: %s\n", scats[c].where,
			    scats[c].name, why);
			bad++;
		}
		for (size_t i = 0; i < scats[c].n; i++)
			if (!is_lit(scats[c].tr[i].en)) {
				print_error(
				    "%s: %s: the key \"%s\" is no text "
				    "of the code (was the English "
				    "edited?)\n",
				    scats[c].where, scats[c].name,
				    scats[c].tr[i].en);
				bad++;
			}
	}
	for (size_t i = 0; i < nlits; i++) {
		const src_cat *c;
		int            found = 0;
		if (!lits[i].looked_up || lits[i].cat[0] == '\0')
			continue;
		if ((c = find_scat(lits[i].cat)) != NULL)
			for (size_t k = 0; k < c->n && !found; k++)
				found = strcmp(c->tr[k].en, lits[i].text) == 0;
		if (!found) {
			print_error("%s: \"%s\" is looked up in %s, which "
			            "lacks it\n",
			    lits[i].where, lits[i].text, lits[i].cat);
			bad++;
		}
	}
	free_sources();
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

/* ---- the Lua plugins' catalogs (msg.lua, common/lua/catalog.lua) ---- */

/* The Lua texts: lits (looked_up: the first argument of tr(...)), and
 * the catalog entries ["English"] = "中文" of the ZH tables (msg.lua,
 * catalog.lua's COMMON, msg.ZH[...] = ... anywhere) in one src_cat. */
static src_cat lua_cat;
static size_t  lua_cap;

/* The Lua string at src[*i] (a quote) and the strings joined to it with
 * "..", escapes undone, as a new string; *i moves past it. */
static char *
lua_run(const char *src, long n, long *i)
{
	char  *buf = malloc((size_t) n + 1);
	size_t len = 0;

	assert_non_null(buf);
	for (;;) {
		char q  = src[*i];
		long s0 = ++*i;
		while (*i < n && src[*i] != q)
			*i += src[*i] == '\\' ? 2 : 1;
		len += unescape(src + s0, (size_t) (*i - s0), buf + len);
		(*i)++;
		long j = *i;
		while (j < n && strchr(" \t\n", src[j]))
			j++;
		if (j + 1 < n && src[j] == '.' && src[j + 1] == '.') {
			j += 2;
			while (j < n && strchr(" \t\n", src[j]))
				j++;
			if (j < n && (src[j] == '"' || src[j] == '\'')) {
				*i = j;
				continue;
			}
		}
		break;
	}
	buf[len] = '\0';
	return buf;
}

static void
lua_entry(char *en, char *zh)
{
	if (lua_cat.n == lua_cap) {
		lua_cap = lua_cap ? lua_cap * 2 : 256;
		lua_cat.tr
		    = realloc(lua_cat.tr, (lua_cap + 1) * sizeof(xz_tr));
		assert_non_null(lua_cat.tr);
	}
	lua_cat.tr[lua_cat.n].en   = en;
	lua_cat.tr[lua_cat.n++].zh = zh;
	lua_cat.tr[lua_cat.n].en = lua_cat.tr[lua_cat.n].zh = NULL;
}

/* One .lua file: in a ZH table (from "local ZH = {" or "M.COMMON = {" to
 * the "}" that starts a line) a ["key"] = "value" is an entry, as is
 * ZH["key"] = "value" anywhere; other strings are texts of the code. */
static void
scan_lua(const char *path)
{
	long  n;
	char *src   = read_all(path, &n);
	int   in_zh = 0;

	for (long i = 0; i < n;) {
		if (src[i] == '-' && src[i + 1] == '-') {
			if (src[i + 2] == '[' && src[i + 3] == '[') {
				char *e = strstr(src + i + 4, "]]");
				i       = e ? e - src + 2 : n;
			} else {
				while (i < n && src[i] != '\n')
					i++;
			}
		} else if (src[i] == '[' && src[i + 1] == '[') {
			char *e
			    = strstr(src + i + 2, "]]"); /* a long string */
			i = e ? e - src + 2 : n;
		} else if (strncmp(src + i, "local ZH = {", 12) == 0
		    || strncmp(src + i, "M.COMMON = {", 12) == 0) {
			in_zh = 1;
			i += 12;
		} else if (in_zh && src[i] == '}' && src[i - 1] == '\n') {
			in_zh = 0;
			i++;
		} else if (src[i] == '"' || src[i] == '\'') {
			int key = i > 0 && src[i - 1] == '['
			    && (in_zh
			        || (i >= 3
			            && strncmp(src + i - 3, "ZH[", 3) == 0));
			long b = i;
			while (b > 0 && strchr(" \t\n(", src[b - 1]))
				b--;
			int looked = b >= 2 && src[b] == '('
			    && strncmp(src + b - 2, "tr", 2) == 0
			    && (b == 2
			        || !strchr("_abcdefghijklmnopqrstuvwxyz"
			                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
			            src[b - 3]));
			char *t = lua_run(src, n, &i);
			if (key) {
				while (
				    i < n && src[i] != '"' && src[i] != '\'')
					i++; /* "] = " to the value */
				lua_entry(t, lua_run(src, n, &i));
			} else {
				add_lit(t, strlen(t), looked, path);
				free(t);
			}
		} else {
			i++;
		}
	}
	free(src);
}

static void
scan_lua_dir(const char *dir)
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
			scan_lua_dir(path);
		else if (l > 4 && strcmp(e->d_name + l - 4, ".lua") == 0)
			scan_lua(path);
	}
	closedir(d);
}

/* The Lua plugins' catalogs: conversions in order (string.format's are
 * printf's), every key a text of their code, every tr("...") in them. */
static void
test_lua_catalogs(void **state)
{
	char why[512] = "";
	int  bad      = 0;

	(void) state;
	scan_lua_dir(XZ_TEST_DATA "/../../plugins");
	scan_lua_dir(XZ_TEST_DATA "/../../scripts");
	assert_true(lua_cat.n > 50); /* the scan found the catalogs */
	snprintf(lua_cat.name, sizeof(lua_cat.name), "ZH");
	snprintf(lua_cat.where, sizeof(lua_cat.where), "msg.lua");
	if (scat_check(&lua_cat, why, sizeof(why)) != 0) {
		print_error("Lua ZH: %s\n", why);
		bad++;
	}
	for (size_t k = 0; k < lua_cat.n; k++)
		if (!is_lit(lua_cat.tr[k].en)) {
			print_error("Lua ZH: the key \"%s\" is no text of the "
			            "code (was the English edited?)\n",
			    lua_cat.tr[k].en);
			bad++;
		}
	for (size_t i = 0; i < nlits; i++) {
		int found = 0;
		if (!lits[i].looked_up || strchr(lits[i].text, ' ') == NULL)
			continue; /* tr(m.noun)-like labels may be any id */
		for (size_t k = 0; k < lua_cat.n && !found; k++)
			found = strcmp(lua_cat.tr[k].en, lits[i].text) == 0;
		if (!found) {
			print_error("%s: tr(\"%s\") has no Chinese\n",
			    lits[i].where, lits[i].text);
			bad++;
		}
	}
	for (size_t k = 0; k < lua_cat.n; k++) {
		free((char *) lua_cat.tr[k].en);
		free((char *) lua_cat.tr[k].zh);
	}
	free(lua_cat.tr);
	memset(&lua_cat, 0, sizeof(lua_cat));
	lua_cap = 0;
	free_sources();
	assert_int_equal(bad, 0);
}

/* ---- the audit chain library's verdicts, as `audit verify` prints them ----
 */

/* xz_audit_zh (cli_msg.c) against plugins/common/chain: its Chinese keeps
 * the conversions in order, each key is still a text of the library, each
 * verdict sentence of the library (the format of a fail(v, ..), bad(v, ..)
 * or snprintf(v->detail, ..)) has its Chinese; and xz_cli_audit_text puts
 * a formatted sentence into Chinese, numbers, hashes and nested texts
 * included. */
static void
test_audit_catalog(void **state)
{
	static const char *const markers[]
	    = { "fail(v,", "bad(v,", "sizeof(v->detail)," };
	static const char *const files[] = { "chain.c", "anchor.c" };
	char                     buf[640];
	int                      bad = 0;

	(void) state;
	check_cat(xz_audit_zh, "xz_audit_zh");
	scan_dir(XZ_TEST_DATA "/../../plugins/common/chain");
	assert_true(nlits > 50);
	for (const xz_tr *t = xz_audit_zh; t->en != NULL; t++)
		if (!is_lit(t->en)) {
			print_error(
			    "cli_msg.c: xz_audit_zh: the key \"%s\" is "
			    "no text of plugins/common/chain (was the "
			    "English edited?)\n",
			    t->en);
			bad++;
		}
	int found = 0;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		char path[512];
		long n;
		snprintf(path, sizeof(path),
		    XZ_TEST_DATA "/../../plugins/common/chain/%s", files[f]);
		char *src = read_all(path, &n);
		for (size_t m = 0; m < sizeof(markers) / sizeof(markers[0]);
		     m++)
			for (char *p = src;
			     (p = strstr(p, markers[m])) != NULL; p++) {
				long i = p - src;
				/* the first literal with a space after it: the
				 * sentence (a reason code has none) */
				for (;;) {
					while (i < n && src[i] != '"'
					    && src[i] != ';')
						i++;
					if (i >= n || src[i] == ';')
						break;
					char *t = lit_run(src, n, &i);
					if (strchr(t, ' ') == NULL) {
						free(t);
						continue;
					}
					found++;
					if (xz_tr_lookup(xz_audit_zh, t)
					    == t) {
						print_error(
						    "%s: the verdict \"%s\" "
						    "has no Chinese in "
						    "xz_audit_zh\n",
						    files[f], t);
						bad++;
					}
					free(t);
					break;
				}
			}
		free(src);
	}
	assert_true(found >= 20); /* the scan found the verdicts */
	free_sources();
	assert_int_equal(bad, 0);

	/* formatted sentences back into Chinese (LANG=zh_CN here) */
	assert_string_equal(xz_cli_audit_text("record 4 does not match its "
	                                      "hash (a field was changed)",
	                        buf, sizeof(buf)),
	    "记录 4 与其哈希不符（有字段被改动）");
	assert_string_equal(
	    xz_cli_audit_text(
	        "record 7 does not follow the start of the chain", buf,
	        sizeof(buf)),
	    "记录 7 未接续链的起点");
	assert_string_equal(
	    xz_cli_audit_text("checkpoint 2 signs record 10 with hash "
	                      "0123456789abcdef..., the log has "
	                      "fedcba9876543210...: the chain was rewritten "
	                      "at or before record 10",
	        buf, sizeof(buf)),
	    "检查点 2 签署的记录 10 的哈希为 0123456789abcdef...，日志中为 "
	    "fedcba9876543210...：链在记录 10 或更早处被重写");
	assert_string_equal(
	    xz_cli_audit_text("/tmp/a b: c.pub: not a public key (64 hex "
	                      "digits expected)",
	        buf, sizeof(buf)),
	    "/tmp/a b: c.pub：不是公钥（应为 64 位十六进制数字）");
	/* not a sentence of the library: as it is */
	assert_string_equal(
	    xz_cli_audit_text("record x is odd", buf, sizeof(buf)),
	    "record x is odd");
	assert_string_equal(xz_cli_audit_reason("edited", buf, sizeof(buf)),
	    "edited（被修改）");
	assert_string_equal(
	    xz_cli_audit_reason("wiped", buf, sizeof(buf)), "wiped");
	/* cut to the buffer, never past it */
	char small[8];
	xz_cli_audit_text("record 4 does not match its hash (a field was "
	                  "changed)",
	    small, sizeof(small));
	assert_true(strlen(small) < sizeof(small));
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
		cmocka_unit_test(test_plugin_catalogs),
		cmocka_unit_test(test_lua_catalogs),
		cmocka_unit_test(test_audit_catalog),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
