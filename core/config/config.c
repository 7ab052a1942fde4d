/*
 * config.c - the deployment file: read with libconfig, checked against the
 * schema documented in config.h, defaults applied, paths resolved.
 *
 * Validation never stops at the first problem: every check records a
 * FILE:LINE diagnostic and counts it; at the end they reach the xz_diag in
 * file order, and the load fails if there was any.
 */
#include "config/config.h"
#include "util/log.h"
#include "util/msg.h"
#include "util/topic.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One file the tree was read from. Every setting's hook points to the
 * entry of its file, so diagnostics and relative paths need only the
 * setting. */
struct xz_config_file {
	size_t index; /* order of first appearance: sorts diagnostics */
	char  *lcname; /* the name libconfig recorded */
	char  *display; /* the name diagnostics show */
	char  *dir; /* absolute directory, for relative paths */
};

/* A diagnostic held back until the load ends, to be reported in file
 * order whatever order the checks ran in. */
struct pending {
	size_t file; /* index of the file */
	int    line;
	size_t seq;
	char  *text; /* the whole "FILE:LINE: message" line */
};

/* The state of one load. */
typedef struct ld {
	config_t        cfg; /* the libconfig tree, freed when the load ends */
	xz_config      *c;
	xz_diag        *d;
	const char     *builtin_dir;
	int             nerr;
	struct pending *pend;
	size_t          npend, cap;
	/* int settings whose literal did not fit in 32 bits: reported once,
	 * then not checked again (owned by the load, freed at its end) */
	const config_setting_t **badint;
	size_t                   nbadint, capbadint;
} ld;

/* Malloc'ed printf. The caller frees; NULL on out of memory. */
static char *xasprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char   *out;
	int     n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (out = malloc((size_t) n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(out, (size_t) n + 1, fmt, ap);
	va_end(ap);
	return out;
}

/* The directory part of p as written ("." when there is none). Malloc'ed;
 * the caller frees. */
static char *
dir_part(const char *p)
{
	const char *slash = strrchr(p, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == p)
		return strdup("/");
	return strndup(p, (size_t) (slash - p));
}

static const char *
base_part(const char *p)
{
	const char *slash = strrchr(p, '/');

	return slash != NULL ? slash + 1 : p;
}

/*
 * Absolute, lexically normalised path of p (relative to the absolute
 * directory dir unless p is absolute): no "." or ".." components, no
 * doubled or trailing slashes. Symlinks are not followed. Malloc'ed; the
 * caller frees.
 */
static char *
path_resolve(const char *dir, const char *p)
{
	char       *buf, *out;
	const char *s;
	size_t      o = 0;

	if (p[0] == '/')
		buf = strdup(p);
	else
		buf = xasprintf("%s/%s", dir, p);
	if (buf == NULL)
		return NULL;
	if ((out = malloc(strlen(buf) + 2)) == NULL) {
		free(buf);
		return NULL;
	}
	out[o++] = '/';
	for (s = buf; *s != '\0';) {
		const char *e;
		size_t      len;

		while (*s == '/')
			s++;
		for (e = s; *e != '\0' && *e != '/'; e++)
			;
		len = (size_t) (e - s);
		if (len == 0)
			break;
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			if (o > 1) {
				o--;
				while (o > 1 && out[o - 1] != '/')
					o--;
			}
		} else if (!(len == 1 && s[0] == '.')) {
			memcpy(out + o, s, len);
			o += len;
			out[o++] = '/';
		}
		s = e;
	}
	if (o > 1)
		o--;
	out[o] = '\0';
	free(buf);
	return out;
}

static int
is_regular_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- files and diagnostics ------------------------------------------ */

/* How diagnostics name a file libconfig recorded as lcname: the main file
 * as given, an include joined with the main file's directory as given
 * (libconfig opened it relative to the include directory). Malloc'ed; the
 * caller frees. */
static char *
display_name(const xz_config *c, const char *lcname)
{
	char *dir, *out;

	if (lcname == NULL || strcmp(lcname, c->path) == 0)
		return strdup(c->path);
	if (lcname[0] == '/')
		return strdup(lcname);
	if ((dir = dir_part(c->path)) == NULL)
		return NULL;
	if (strcmp(dir, ".") == 0)
		out = strdup(lcname);
	else if (strcmp(dir, "/") == 0)
		out = xasprintf("/%s", lcname);
	else
		out = xasprintf("%s/%s", dir, lcname);
	free(dir);
	return out;
}

static void
file_free(struct xz_config_file *f)
{
	if (f == NULL)
		return;
	free(f->lcname);
	free(f->display);
	free(f->dir);
	free(f);
}

/* The table entry of lcname, added on first use; NULL on out of memory. */
static struct xz_config_file *
file_entry(xz_config *c, const char *lcname)
{
	struct xz_config_file  *f;
	struct xz_config_file **files;
	char                   *abs;
	const char             *key = lcname != NULL ? lcname : c->path;

	for (size_t i = 0; i < c->nfiles; i++)
		if (strcmp(c->files[i]->lcname, key) == 0)
			return c->files[i];
	files = realloc(c->files, (c->nfiles + 1) * sizeof(*files));
	if (files == NULL)
		return NULL;
	c->files = files;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->index   = c->nfiles;
	f->lcname  = strdup(key);
	f->display = display_name(c, key);
	if (strcmp(key, c->path) == 0)
		f->dir = strdup(c->dir);
	else if ((abs = path_resolve(c->dir, key)) != NULL) {
		f->dir = dir_part(abs);
		free(abs);
	}
	if (f->lcname == NULL || f->display == NULL || f->dir == NULL) {
		file_free(f);
		return NULL;
	}
	c->files[c->nfiles++] = f;
	return f;
}

/* Point every setting's hook at the entry of its file. */
static int
tag_files(xz_config *c, config_setting_t *s)
{
	struct xz_config_file *f
	    = file_entry(c, config_setting_source_file(s));

	if (f == NULL)
		return -1;
	config_setting_set_hook(s, f);
	if (config_setting_is_aggregate(s)) {
		int n = config_setting_length(s);
		for (int i = 0; i < n; i++)
			if (tag_files(c, config_setting_get_elem(s, i)) != 0)
				return -1;
	}
	return 0;
}

/* The file s was read from, as diagnostics name it (an include is shown
 * joined with the main file's directory). Owned by the config. */
static const char *
file_of(const config_setting_t *s)
{
	const struct xz_config_file *f = config_setting_get_hook(s);

	if (f != NULL)
		return f->display;
	return config_setting_source_file(s);
}

/* The absolute directory of the file that declares s. */
static const char *
dir_of(const ld *l, const config_setting_t *s)
{
	const struct xz_config_file *f = config_setting_get_hook(s);

	return f != NULL ? f->dir : l->c->dir;
}

static void
verr_at(xz_diag *d, const char *file, int line, int *nerr, const char *fmt,
    va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), xz_text(fmt), ap);
	xz_diag_add(d, file, line, "%s", msg);
	(*nerr)++;
}

/* Hold back one diagnostic; file NULL: the main file, without line. */
static void
vpend(ld *l, const struct xz_config_file *f, int line, const char *fmt,
    va_list ap)
{
	struct pending *p;
	char            msg[1024];

	l->nerr++;
	vsnprintf(msg, sizeof(msg), xz_text(fmt), ap);
	if (l->npend == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		p          = realloc(l->pend, cap * sizeof(*p));
		if (p == NULL)
			return;
		l->pend = p;
		l->cap  = cap;
	}
	p       = &l->pend[l->npend];
	p->file = f != NULL ? f->index : 0;
	p->line = f != NULL ? line : 0;
	p->seq  = l->npend;
	if (f != NULL)
		p->text = xasprintf("%s:%d: %s", f->display, line, msg);
	else
		p->text = xasprintf(
		    "%s: %s", l->c->path != NULL ? l->c->path : "?", msg);
	if (p->text != NULL)
		l->npend++;
}

/* An error at setting s (its file and line). */
static void err(ld *l, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
err(ld *l, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpend(l, config_setting_get_hook(s),
	    (int) config_setting_source_line(s), fmt, ap);
	va_end(ap);
}

/* An error about the whole file (no line). */
static void err_file(ld *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
err_file(ld *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpend(l, NULL, 0, fmt, ap);
	va_end(ap);
}

/* A warning at setting s: valid, but it weakens the node. */
static void warn(ld *l, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
warn(ld *l, const config_setting_t *s, const char *fmt, ...)
{
	xz_config      *c = l->c;
	xz_cfg_warning *w;
	char            msg[1024];
	va_list         ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), xz_text(fmt), ap);
	va_end(ap);
	w = realloc(c->warnings, (c->nwarnings + 1) * sizeof(*w));
	if (w == NULL)
		return; /* best effort, like diagnostics */
	c->warnings = w;
	w           = &w[c->nwarnings];
	w->file     = file_of(s);
	w->line     = (int) config_setting_source_line(s);
	if ((w->text = strdup(msg)) != NULL)
		c->nwarnings++;
}

static void
oom(ld *l)
{
	err_file(l, "out of memory");
}

static int
pending_cmp(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Move the held-back diagnostics to d, in file order. */
static void
flush_pending(ld *l)
{
	if (l->npend > 1)
		qsort(l->pend, l->npend, sizeof(*l->pend), pending_cmp);
	for (size_t i = 0; i < l->npend; i++) {
		xz_diag_add(l->d, NULL, 0, "%s", l->pend[i].text);
		free(l->pend[i].text);
	}
	free(l->pend);
	l->pend  = NULL;
	l->npend = l->cap = 0;
}

/* enum xz_cfg_type of a libconfig type; 0 for none. */
static int
cfg_type(int lctype)
{
	switch (lctype) {
	case CONFIG_TYPE_GROUP:
		return XZ_CFG_GROUP;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return XZ_CFG_INT;
	case CONFIG_TYPE_FLOAT:
		return XZ_CFG_FLOAT;
	case CONFIG_TYPE_STRING:
		return XZ_CFG_STRING;
	case CONFIG_TYPE_BOOL:
		return XZ_CFG_BOOL;
	case CONFIG_TYPE_ARRAY:
		return XZ_CFG_ARRAY;
	case CONFIG_TYPE_LIST:
		return XZ_CFG_LIST;
	default:
		return 0;
	}
}

/* How errors name an enum xz_cfg_type ("got list"). */
static const char *
cfg_type_name(int type)
{
	switch (type) {
	case XZ_CFG_GROUP:
		return "group";
	case XZ_CFG_INT:
		return "integer";
	case XZ_CFG_FLOAT:
		return "float";
	case XZ_CFG_STRING:
		return "string";
	case XZ_CFG_BOOL:
		return "boolean";
	case XZ_CFG_ARRAY:
		return "array";
	case XZ_CFG_LIST:
		return "list";
	default:
		return "nothing";
	}
}

/* How errors name a libconfig type. */
static const char *
type_name(int lctype)
{
	return xz_text(cfg_type_name(cfg_type(lctype)));
}

/* ---- spelling suggestions ------------------------------------------- */

/* Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions), capped: names longer than 64 bytes get INT_MAX. */
static int
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int    d[65][65];

	if (la > 64 || lb > 64)
		return INT_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int) i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int) j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int cost = a[i - 1] != b[j - 1];
			int v    = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2]
			    && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/* Is the candidate close enough to suggest? At most two edits, and at
 * most a third of the longer name. */
static int
close_enough(const char *word, const char *cand, int *best)
{
	size_t len = strlen(word) > strlen(cand) ? strlen(word) : strlen(cand);
	int    dist = edit_distance(word, cand);

	if (dist > 2 || (size_t) dist * 3 > len || dist >= *best)
		return 0;
	*best = dist;
	return 1;
}

/* " (did you mean 'x'?)" for the closest of names[], or "". Writes into
 * buf. */
static const char *
suggest(const char *word, const char *const *names, char *buf, size_t size)
{
	const char *pick = NULL;
	int         best = INT_MAX;

	for (size_t i = 0; names[i] != NULL; i++)
		if (close_enough(word, names[i], &best))
			pick = names[i];
	if (pick == NULL)
		return "";
	snprintf(buf, size, xz_text(" (did you mean '%s'?)"), pick);
	return buf;
}

/* ---- value checks --------------------------------------------------- */

/* [a-z][a-z0-9_-]{0,62} */
static int
plugin_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 63 || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (size_t i = 1; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z')
		        || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'
		        || s[i] == '-'))
			return 0;
	return 1;
}

/* [a-z0-9_-]{1,63} */
static int
node_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 63)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z')
		        || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'
		        || s[i] == '-'))
			return 0;
	return 1;
}

/* Check a URL of the bus; reports at s under the name what. */
static int
check_url(ld *l, const config_setting_t *s, const char *what, const char *u)
{
	static const char *const schemes[]
	    = { "ipc://", "tcp://", "tls+tcp://", "inproc://", NULL };
	const char *rest = NULL, *colon;
	size_t      i;

	for (i = 0; schemes[i] != NULL; i++) {
		if (strncmp(u, schemes[i], strlen(schemes[i])) == 0) {
			rest = u + strlen(schemes[i]);
			break;
		}
	}
	if (rest == NULL) {
		err(l, s,
		    "%s: invalid URL '%s' (must start with ipc://, tcp://, "
		    "tls+tcp:// or inproc://)",
		    what, u);
		return -1;
	}
	if (*rest == '\0') {
		err(l, s, "%s: invalid URL '%s' (nothing after %s)", what, u,
		    schemes[i]);
		return -1;
	}
	if (i == 0 && strlen(rest) > 107) {
		/* sun_path holds 108 bytes with the NUL */
		err(l, s,
		    "%s: invalid URL '%s' (ipc path longer than 107 bytes)",
		    what, u);
		return -1;
	}
	if (i == 1 || i == 2) {
		long  port;
		char *end;

		colon = strrchr(rest, ':');
		if (colon == NULL || colon[1] == '\0'
		    || (port = strtol(colon + 1, &end, 10), *end != '\0')
		    || port < 0 || port > 65535
		    || !isdigit((unsigned char) colon[1])) {
			err(l, s, "%s: invalid URL '%s' (%s needs HOST:PORT)",
			    what, u, schemes[i]);
			return -1;
		}
	}
	return 0;
}

/* ---- typed getters -------------------------------------------------- */
/* Each returns 1 and sets *out when the member is present and valid, 0
 * when absent, -1 (after reporting) when present but wrong. pfx names the
 * owner: "node." or "plugin 'x': ". */

static int
get_int(ld *l, const config_setting_t *g, const char *pfx, const char *key,
    long long min, long long max, long long *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	long long               v;

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT
	    && config_setting_type(s) != CONFIG_TYPE_INT64) {
		err(l, s, "%s%s must be an integer, got %s", pfx, key,
		    type_name(config_setting_type(s)));
		return -1;
	}
	for (size_t i = 0; i < l->nbadint; i++)
		if (l->badint[i] == s)
			return -1; /* its literal is reported already */
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		err(l, s, "%s%s must be between %lld and %lld, got %lld", pfx,
		    key, min, max, v);
		return -1;
	}
	*out = v;
	return 1;
}

static int
get_bool(ld *l, const config_setting_t *g, const char *pfx, const char *key,
    int *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		err(l, s, "%s%s must be a boolean, got %s", pfx, key,
		    type_name(config_setting_type(s)));
		return -1;
	}
	*out = config_setting_get_bool(s);
	return 1;
}

/* A non-empty string; *at gets the setting for later messages. */
static int
get_str(ld *l, const config_setting_t *g, const char *pfx, const char *key,
    const char **out, const config_setting_t **at)
{
	const config_setting_t *s = config_setting_get_member(g, key);

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		err(l, s, "%s%s must be a string, got %s", pfx, key,
		    type_name(config_setting_type(s)));
		return -1;
	}
	if (config_setting_get_string(s)[0] == '\0') {
		err(l, s, "%s%s must not be empty", pfx, key);
		return -1;
	}
	*out = config_setting_get_string(s);
	if (at != NULL)
		*at = s;
	return 1;
}

/* An array or list of non-empty strings: the setting, or NULL when absent
 * or when anything is wrong (every bad element is reported). */
static const config_setting_t *
get_strlist(ld *l, const config_setting_t *g, const char *pfx, const char *key)
{
	const config_setting_t *s   = config_setting_get_member(g, key);
	int                     bad = 0;

	if (s == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY
	    && config_setting_type(s) != CONFIG_TYPE_LIST) {
		err(l, s, "%s%s must be an array of strings, got %s", pfx, key,
		    type_name(config_setting_type(s)));
		return NULL;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			err(l, e, "%s%s[%d] must be a string, got %s", pfx,
			    key, i, type_name(config_setting_type(e)));
			bad = 1;
		} else if (config_setting_get_string(e)[0] == '\0') {
			err(l, e, "%s%s[%d] must not be empty", pfx, key, i);
			bad = 1;
		}
	}
	return bad ? NULL : s;
}

/* Copy the strings of a checked list. Each string and the array are owned
 * by the config (freed by xz_config_free). */
static int
copy_strlist(
    ld *l, const config_setting_t *s, int resolve, char ***out, size_t *n)
{
	int len = config_setting_length(s);

	if (len == 0)
		return 0;
	if ((*out = calloc((size_t) len, sizeof(**out))) == NULL) {
		oom(l);
		return -1;
	}
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char             *v = config_setting_get_string(e);
		char                   *cp;

		cp = resolve ? path_resolve(dir_of(l, e), v) : strdup(v);
		if (cp == NULL) {
			oom(l);
			return -1;
		}
		(*out)[(*n)++] = cp;
	}
	return 0;
}

/* Report members of g not in keys[], naming the owner ("node", "plugin
 * 'x'"), with a suggestion when one is close. */
static void
check_keys(ld *l, const config_setting_t *g, const char *const *keys,
    const char *where)
{
	char hint[96];

	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s    = config_setting_get_elem(g, i);
		const char             *name = config_setting_name(s);
		size_t                  k;

		for (k = 0; keys[k] != NULL; k++)
			if (strcmp(keys[k], name) == 0)
				break;
		if (keys[k] == NULL)
			err(l, s, "unknown setting '%s' in %s%s", name, where,
			    suggest(name, keys, hint, sizeof(hint)));
	}
}

/* The group named key at the top level: NULL when absent or not a group
 * (reported). */
static const config_setting_t *
section(ld *l, const char *key)
{
	const config_setting_t *s
	    = config_setting_get_member(config_root_setting(&l->cfg), key);

	if (s == NULL)
		return NULL;
	if (!config_setting_is_group(s)) {
		err(l, s, "%s must be a group, got %s", key,
		    type_name(config_setting_type(s)));
		return NULL;
	}
	return s;
}

/* ---- doors ---------------------------------------------------------- */

/* Resolve tls.<key> of group g into *out (absolute); reports a value that
 * is not a readable file. */
static void
tls_file(ld *l, const config_setting_t *g, const char *pfx, const char *key,
    char **out)
{
	const config_setting_t *at;
	const char             *v;

	if (get_str(l, g, pfx, key, &v, &at) <= 0)
		return;
	if ((*out = path_resolve(dir_of(l, at), v)) == NULL) {
		oom(l);
		return;
	}
	if (!is_regular_file(*out) || access(*out, R_OK) != 0)
		err(l, at, "%s%s: cannot read %s", pfx, key, *out);
}

/*
 * One door (config.h, "Doors") at s, named what ("bus.listen[0]",
 * "node.control"), into *door. control: the CLI's endpoint, which takes
 * no tls. Returns 0 when it is valid, -1 after reporting.
 */
static int
parse_door(ld *l, const config_setting_t *s, const char *what, int control,
    xz_door_cfg *door)
{
	static const char *const keys[] = { "url", "insecure", "tls", NULL };
	static const char *const tls_keys[]
	    = { "ca", "cert", "key", "crl", NULL };
	const config_setting_t *at = s, *tls = NULL;
	const char             *url;
	char                    pfx[96];
	int                     nerr = l->nerr;

	door->file = file_of(s);
	door->line = (int) config_setting_source_line(s);
	snprintf(pfx, sizeof(pfx), "%s: ", what);
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		url = config_setting_get_string(s);
		if (url[0] == '\0') {
			err(l, s, "%s must not be empty", what);
			return -1;
		}
	} else if (config_setting_is_group(s)) {
		check_keys(l, s, keys, what);
		if (get_str(l, s, pfx, "url", &url, &at) <= 0) {
			if (config_setting_get_member(s, "url") == NULL)
				err(l, s, "%surl is required", pfx);
			return -1;
		}
		get_bool(l, s, pfx, "insecure", &door->insecure);
		if ((tls = config_setting_get_member(s, "tls")) != NULL) {
			char tpfx[110];

			snprintf(tpfx, sizeof(tpfx), "%stls.", pfx);
			if (!config_setting_is_group(tls)) {
				err(l, tls, "%stls must be a group, got %s",
				    pfx, type_name(config_setting_type(tls)));
				return -1;
			}
			snprintf(tpfx, sizeof(tpfx), "%s tls", what);
			check_keys(l, tls, tls_keys, tpfx);
			snprintf(tpfx, sizeof(tpfx), "%stls.", pfx);
			tls_file(l, tls, tpfx, "ca", &door->tls_ca);
			tls_file(l, tls, tpfx, "cert", &door->tls_cert);
			tls_file(l, tls, tpfx, "key", &door->tls_key);
			tls_file(l, tls, tpfx, "crl", &door->tls_crl);
		}
	} else {
		err(l, s, "%s must be a URL string or a group, got %s", what,
		    type_name(config_setting_type(s)));
		return -1;
	}
	if ((door->url = strdup(url)) == NULL) {
		oom(l);
		return -1;
	}
	if (check_url(l, at, what, url) != 0)
		return -1;

	if (strncmp(url, "tls+tcp://", 10) == 0 && control) {
		err(l, at,
		    "%s: '%s': the CLI cannot dial tls+tcp:// (it has no "
		    "certificate); use ipc://",
		    what, url);
	} else if (tls != NULL && strncmp(url, "tls+tcp://", 10) != 0) {
		err(l, tls, "%stls applies only to tls+tcp:// URLs, not '%s'",
		    pfx, url);
	} else if (strncmp(url, "tcp://", 6) == 0) {
		if (!door->insecure)
			err(l, at,
			    "%s: '%s' is an insecure door (no encryption, no "
			    "authentication: whoever reaches it may call "
			    "every topic, the Lua console included); use "
			    "ipc:// or tls+tcp:// with tls = { ca; cert; "
			    "key; }, or write { url = \"%s\"; insecure = "
			    "true; } to accept the risk",
			    what, url, url);
		else
			warn(l, at,
			    "%s: '%s' is an insecure door (insecure = true): "
			    "no encryption, no authentication",
			    what, url);
	} else if (strncmp(url, "tls+tcp://", 10) == 0) {
		if (door->tls_cert == NULL || door->tls_key == NULL)
			err(l, at,
			    "%s: '%s' needs tls.cert and tls.key (the "
			    "node's certificate and key, PEM), and tls.ca "
			    "to require client certificates",
			    what, url);
		else if (door->tls_ca == NULL && !door->insecure)
			err(l, at,
			    "%s: '%s' requires no client certificate (no "
			    "tls.ca): whoever reaches it may call every "
			    "topic; add tls.ca, or insecure = true to accept "
			    "the risk",
			    what, url);
		else if (door->tls_ca == NULL)
			warn(l, at,
			    "%s: '%s' is an insecure door (insecure = true): "
			    "no client certificate required",
			    what, url);
	}
	return l->nerr == nerr ? 0 : -1;
}

static void
door_free(xz_door_cfg *door)
{
	free(door->url);
	free(door->tls_ca);
	free(door->tls_cert);
	free(door->tls_key);
	free(door->tls_crl);
	memset(door, 0, sizeof(*door));
}

/* ---- sections ------------------------------------------------------- */

/* `run` appends to node.log_file (creating it): say now, as `check`, if it
 * could not, without creating anything. */
static void
check_log_file(ld *l, const config_setting_t *at, const char *path)
{
	struct stat st;
	char       *dir;
	char       *slash;

	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			err(l, at, "node.log_file: '%s' is a folder", path);
		else if (access(path, W_OK) != 0)
			err(l, at, "node.log_file: cannot write '%s': %s",
			    path, strerror(errno));
		return;
	}
	if ((dir = strdup(path)) == NULL) {
		oom(l);
		return;
	}
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	if (stat(dir, &st) != 0)
		err(l, at, "node.log_file: the folder '%s' does not exist",
		    dir);
	else if (!S_ISDIR(st.st_mode))
		err(l, at, "node.log_file: '%s' is not a folder", dir);
	else if (access(dir, W_OK | X_OK) != 0)
		err(l, at, "node.log_file: cannot create '%s': %s", path,
		    strerror(errno));
	free(dir);
}

/* node.socket_owner (a user name or a uid) or node.socket_group (a group
 * name or a gid): the id into *out, -1 when absent or wrong (then with an
 * error at its line). */
static void
parse_socket_id(
    ld *l, const config_setting_t *g, const char *key, int64_t *out)
{
	const config_setting_t *s    = config_setting_get_member(g, key);
	int                     user = strcmp(key, "socket_owner") == 0;
	const char             *v;
	const config_setting_t *at;

	*out = -1;
	if (s != NULL
	    && (config_setting_type(s) == CONFIG_TYPE_INT
	        || config_setting_type(s) == CONFIG_TYPE_INT64)) {
		long long n = config_setting_get_int64(s);
		if (n >= 0 && n <= 0x7fffffffLL)
			*out = n;
		else if (user)
			err(l, s,
			    "node.socket_owner must be a user name or a uid "
			    "(0..2147483647), got %lld",
			    n);
		else
			err(l, s,
			    "node.socket_group must be a group name or a gid "
			    "(0..2147483647), got %lld",
			    n);
	} else if (s != NULL && config_setting_type(s) != CONFIG_TYPE_STRING) {
		if (user)
			err(l, s,
			    "node.socket_owner must be a user name or a uid, "
			    "got %s",
			    type_name(config_setting_type(s)));
		else
			err(l, s,
			    "node.socket_group must be a group name or a gid, "
			    "got %s",
			    type_name(config_setting_type(s)));
	} else if (get_str(l, g, "node.", key, &v, &at) > 0) {
		struct passwd *pw = user ? getpwnam(v) : NULL;
		struct group  *gr = user ? NULL : getgrnam(v);
		if (pw != NULL)
			*out = (int64_t) pw->pw_uid;
		else if (gr != NULL)
			*out = (int64_t) gr->gr_gid;
		else if (user)
			err(l, at,
			    "node.socket_owner: no user named '%s' on this "
			    "host",
			    v);
		else
			err(l, at,
			    "node.socket_group: no group named '%s' on this "
			    "host",
			    v);
	}
}

/* node.socket_owner, node.socket_group and node.socket_mode (a string of
 * octal digits, "0600".."0666" with the owner's read-write). */
static void
parse_socket_access(ld *l, const config_setting_t *g)
{
	xz_config              *c = l->c;
	const char             *v;
	const config_setting_t *at;

	parse_socket_id(l, g, "socket_owner", &c->socket_uid);
	parse_socket_id(l, g, "socket_group", &c->socket_gid);
	if (get_str(l, g, "node.", "socket_mode", &v, &at) > 0) {
		char *end;
		long  m = strtol(v, &end, 8);
		if (*end != '\0' || strlen(v) > 4 || m < 0 || (m & ~0666L) != 0
		    || (m & 0600L) != 0600L)
			err(l, at,
			    "node.socket_mode must be octal digits from "
			    "\"0600\" "
			    "to \"0666\" with the owner's read and write (no "
			    "execute bits), got '%s'",
			    v);
		else
			c->socket_mode = (int) m;
	}
	if (c->socket_mode == 0 && c->socket_gid >= 0)
		c->socket_mode = 0660;
	else if (c->socket_mode == 0 && c->socket_uid >= 0)
		c->socket_mode = 0600;
}

static void
parse_node(ld *l)
{
	static const char *const keys[]
	    = { "name", "control", "data_dir", "log_level", "log_file",
		      "log_format", "workers", "plugin_path", "test_clock",
		      "handler_timeout_ms", "restart_backoff_ms",
		      "restart_backoff_max_ms", "drain_timeout_ms",
		      "socket_owner", "socket_group", "socket_mode", NULL };
	xz_config              *c = l->c;
	const config_setting_t *g = section(l, "node");
	const config_setting_t *at, *pp;
	const char             *v;
	long long               n;

	c->log_level              = XZ_DEFAULT_LOG_LEVEL;
	c->workers                = XZ_DEFAULT_WORKERS;
	c->handler_timeout_ms     = XZ_DEFAULT_HANDLER_TIMEOUT_MS;
	c->restart_backoff_ms     = XZ_DEFAULT_RESTART_BACKOFF_MS;
	c->restart_backoff_max_ms = XZ_DEFAULT_RESTART_BACKOFF_MAX_MS;
	c->drain_timeout_ms       = 30000;
	c->socket_gid             = -1;
	c->socket_uid             = -1;
	if (g == NULL) {
		if (config_setting_get_member(
		        config_root_setting(&l->cfg), "node")
		    == NULL)
			err_file(l, "missing required section 'node'");
		return;
	}
	check_keys(l, g, keys, "node");

	if (get_str(l, g, "node.", "name", &v, &at) > 0) {
		if (!node_name_ok(v))
			err(l, at,
			    "node.name '%s' is invalid (must match "
			    "[a-z0-9_-]{1,63})",
			    v);
		else if ((c->node_name = strdup(v)) == NULL)
			oom(l);
	} else if (config_setting_get_member(g, "name") == NULL) {
		err(l, g, "node.name is required");
	}

	if ((at = config_setting_get_member(g, "control")) != NULL) {
		if (parse_door(l, at, "node.control", 1, &c->control) != 0)
			door_free(&c->control);
	} else if (c->node_name != NULL) {
		c->control.url
		    = xasprintf("ipc:///tmp/xiezhi-%s.sock", c->node_name);
		if (c->control.url == NULL)
			oom(l);
	}
	c->control_url = c->control.url;

	if (get_str(l, g, "node.", "data_dir", &v, &at) > 0) {
		if ((c->data_dir = path_resolve(dir_of(l, at), v)) == NULL)
			oom(l);
	} else if (c->node_name != NULL) {
		char *rel = xasprintf("var/%s", c->node_name);
		if (rel == NULL
		    || (c->data_dir = path_resolve(c->dir, rel)) == NULL)
			oom(l);
		free(rel);
	}

	if (get_str(l, g, "node.", "log_level", &v, &at) > 0) {
		int lv = xz_log_level_parse(v);
		if (lv < 0)
			err(l, at,
			    "node.log_level must be one of error, warn, info, "
			    "debug, got '%s'",
			    v);
		else
			c->log_level = lv;
	}

	if (get_str(l, g, "node.", "log_format", &v, &at) > 0) {
		if (strcmp(v, "text") == 0)
			c->log_format = XZ_LOG_TEXT;
		else if (strcmp(v, "json") == 0)
			c->log_format = XZ_LOG_JSON;
		else
			err(l, at,
			    "node.log_format must be one of text, json, got "
			    "'%s'",
			    v);
	}

	if (get_str(l, g, "node.", "log_file", &v, &at) > 0) {
		if ((c->log_file = path_resolve(dir_of(l, at), v)) == NULL)
			oom(l);
		else
			check_log_file(l, at, c->log_file);
	}

	if (get_int(l, g, "node.", "workers", 1, 64, &n) > 0)
		c->workers = (int) n;

	if ((pp = get_strlist(l, g, "node.", "plugin_path")) != NULL)
		copy_strlist(l, pp, 1, &c->plugin_path, &c->nplugin_path);

	if (get_int(l, g, "node.", "handler_timeout_ms", 10, 3600000, &n) > 0)
		c->handler_timeout_ms = (uint32_t) n;
	if (get_int(l, g, "node.", "restart_backoff_ms", 1, 3600000, &n) > 0)
		c->restart_backoff_ms = (uint32_t) n;
	if (get_int(l, g, "node.", "restart_backoff_max_ms", 1, 86400000, &n)
	    > 0)
		c->restart_backoff_max_ms = (uint32_t) n;
	/* at most 60 s: the unit's TimeoutStopSec (90 s) leaves the rest
	 * for the plugins' stop */
	if (get_int(l, g, "node.", "drain_timeout_ms", 100, 60000, &n) > 0)
		c->drain_timeout_ms = (uint32_t) n;
	parse_socket_access(l, g);
	if (c->restart_backoff_max_ms < c->restart_backoff_ms)
		err(l,
		    config_setting_get_member(g, "restart_backoff_max_ms")
		        ? config_setting_get_member(
		            g, "restart_backoff_max_ms")
		        : config_setting_get_member(g, "restart_backoff_ms"),
		    "node.restart_backoff_max_ms (%u) must not be less than "
		    "node.restart_backoff_ms (%u)",
		    c->restart_backoff_max_ms, c->restart_backoff_ms);

	if (get_bool(l, g, "node.", "test_clock", &c->test_clock) > 0
	    && c->test_clock)
		warn(l, config_setting_get_member(g, "test_clock"),
		    "node.test_clock = true: any client may move this node's "
		    "clock (xz.sys.clock.advance) and with it every SLA and "
		    "statutory deadline; for tests only");
}

/* bus.listen: an array of URL strings, or a list of doors. */
static void
parse_listen(ld *l, const config_setting_t *s)
{
	xz_config *c = l->c;
	int        n = config_setting_length(s);

	if (config_setting_type(s) != CONFIG_TYPE_ARRAY
	    && config_setting_type(s) != CONFIG_TYPE_LIST) {
		err(l, s,
		    "bus.listen must be an array of URLs or a list of doors, "
		    "got %s",
		    type_name(config_setting_type(s)));
		return;
	}
	if (n == 0)
		return;
	if ((c->listen = calloc((size_t) n, sizeof(*c->listen))) == NULL) {
		oom(l);
		return;
	}
	for (int i = 0; i < n; i++) {
		char what[64];

		snprintf(what, sizeof(what), "bus.listen[%d]", i);
		if (parse_door(l, config_setting_get_elem(s, i), what, 0,
		        &c->listen[c->nlisten])
		    == 0)
			c->nlisten++;
		else
			door_free(&c->listen[c->nlisten]);
	}
}

static void
parse_bus(ld *l)
{
	static const char *const keys[] = { "listen", "mailbox_capacity",
		"max_payload", "publish_timeout_ms", "request_timeout_ms",
		"best_effort", "durable", "durable_max_bytes",
		"durable_redeliver_ms", NULL };
	xz_config               *c      = l->c;
	const config_setting_t  *g      = section(l, "bus");
	const config_setting_t  *s;
	long long                n;
	int                      bad;

	c->mailbox_capacity     = XZ_DEFAULT_MAILBOX_CAPACITY;
	c->max_payload          = XZ_DEFAULT_MAX_PAYLOAD;
	c->publish_timeout_ms   = XZ_DEFAULT_PUBLISH_TIMEOUT_MS;
	c->request_timeout_ms   = XZ_DEFAULT_REQUEST_TIMEOUT_MS;
	c->durable_max_bytes    = 64ull << 20;
	c->durable_redeliver_ms = XZ_DEFAULT_DURABLE_REDELIVER_MS;
	if (g == NULL)
		return;
	check_keys(l, g, keys, "bus");
	if (get_int(
	        l, g, "bus.", "durable_max_bytes", 65536, 1099511627776LL, &n)
	    > 0)
		c->durable_max_bytes = (uint64_t) n;
	if (get_int(l, g, "bus.", "durable_redeliver_ms", 100, 3600000, &n)
	    > 0)
		c->durable_redeliver_ms = (uint32_t) n;
	if ((s = get_strlist(l, g, "bus.", "durable")) != NULL) {
		int len = config_setting_length(s);
		bad     = 0;
		for (int i = 0; i < len; i++) {
			const config_setting_t *e
			    = config_setting_get_elem(s, i);
			const char *p = config_setting_get_string(e);
			if (!xz_pattern_valid(p, strlen(p))) {
				err(l, e,
				    "bus.durable[%d]: invalid topic pattern "
				    "'%s'",
				    i, p);
				bad = 1;
			}
		}
		if (!bad) {
			copy_strlist(l, s, 0, &c->durable, &c->ndurable);
			c->durable_file
			    = calloc((size_t) len + 1, sizeof(char *));
			c->durable_line
			    = calloc((size_t) len + 1, sizeof(int));
			if (c->durable_file == NULL || c->durable_line == NULL)
				oom(l);
			for (int i = 0; i < len && c->durable_file != NULL
			     && c->durable_line != NULL;
			     i++) {
				const config_setting_t *e
				    = config_setting_get_elem(s, i);
				c->durable_file[i] = file_of(e);
				c->durable_line[i]
				    = (int) config_setting_source_line(e);
			}
		}
	}

	if (get_int(l, g, "bus.", "mailbox_capacity", 1, 16777216, &n) > 0)
		c->mailbox_capacity = (uint32_t) n;
	if (get_int(l, g, "bus.", "max_payload", 1024, 1073741824, &n) > 0)
		c->max_payload = (uint32_t) n;
	if (get_int(l, g, "bus.", "publish_timeout_ms", 0, 3600000, &n) > 0)
		c->publish_timeout_ms = (uint32_t) n;
	if (get_int(l, g, "bus.", "request_timeout_ms", 1, 3600000, &n) > 0)
		c->request_timeout_ms = (uint32_t) n;

	if ((s = config_setting_get_member(g, "listen")) != NULL)
		parse_listen(l, s);
	if ((s = get_strlist(l, g, "bus.", "best_effort")) != NULL) {
		bad = 0;
		for (int i = 0; i < config_setting_length(s); i++) {
			const config_setting_t *e
			    = config_setting_get_elem(s, i);
			const char *p = config_setting_get_string(e);
			if (!xz_pattern_valid(p, strlen(p))) {
				err(l, e,
				    "bus.best_effort[%d]: invalid topic "
				    "pattern "
				    "'%s'",
				    i, p);
				bad = 1;
			}
		}
		if (!bad)
			copy_strlist(
			    l, s, 0, &c->best_effort, &c->nbest_effort);
	}
}

/* A `lua` group (node-wide at the top level, or one plugin's or script's
 * own): each member present overrides *out, which holds the defaults on
 * entry. where names the group in errors ("lua." or "plugin 'x': lua."). */
static void
parse_lua_group(
    ld *l, const config_setting_t *g, const char *where, xz_lua_limits *out)
{
	static const char *const keys[] = { "memory_limit_kb",
		"instruction_limit", "time_limit_ms", "max_failures", NULL };
	long long                n;
	char                     label[200];
	size_t                   len = strlen(where);

	/* "lua." names the members; "lua" the group */
	snprintf(
	    label, sizeof(label), "%.*s", (int) (len ? len - 1 : 0), where);
	check_keys(l, g, keys, label);
	if (get_int(l, g, where, "memory_limit_kb", 64, 4194304, &n) > 0)
		out->memory_limit_kb = (uint32_t) n;
	if (get_int(
	        l, g, where, "instruction_limit", 1000, 1000000000000LL, &n)
	    > 0)
		out->instruction_limit = (uint64_t) n;
	if (get_int(l, g, where, "time_limit_ms", 1, 3600000, &n) > 0)
		out->time_limit_ms = (uint32_t) n;
	if (get_int(l, g, where, "max_failures", 1, 1000000, &n) > 0)
		out->max_failures = (uint32_t) n;
}

static void
parse_lua(ld *l)
{
	xz_config              *c = l->c;
	const config_setting_t *g = section(l, "lua");

	c->lua.memory_limit_kb   = XZ_DEFAULT_LUA_MEMORY_LIMIT_KB;
	c->lua.instruction_limit = XZ_DEFAULT_LUA_INSTRUCTION_LIMIT;
	c->lua.time_limit_ms     = XZ_DEFAULT_LUA_TIME_LIMIT_MS;
	c->lua.max_failures      = XZ_DEFAULT_LUA_MAX_FAILURES;
	if (g != NULL)
		parse_lua_group(l, g, "lua.", &c->lua);
}

/* The identity store's settings (core/auth): demo users, token lifetime,
 * the failed-login limiter. */
static void
parse_auth_identity(ld *l, const config_setting_t *g)
{
	xz_identity_settings *a = &l->c->identity;
	long long             n;

	a->token_ttl_s          = XZ_DEFAULT_TOKEN_TTL_S;
	a->login_free_failures  = 3;
	a->login_backoff_ms     = 1000;
	a->login_backoff_max_ms = 300000;
	if (g == NULL)
		return;
	get_bool(l, g, "auth.", "demo_users", &a->demo_users);
	if (get_int(l, g, "auth.", "token_ttl_s", 1, 30LL * 86400, &n) > 0)
		a->token_ttl_s = (uint32_t) n;
	if (get_int(l, g, "auth.", "login_free_failures", 1, 1000, &n) > 0)
		a->login_free_failures = (uint32_t) n;
	if (get_int(l, g, "auth.", "login_backoff_ms", 1, 3600000, &n) > 0)
		a->login_backoff_ms = (uint32_t) n;
	if (get_int(l, g, "auth.", "login_backoff_max_ms", 1, 86400000, &n)
	    > 0)
		a->login_backoff_max_ms = (uint32_t) n;
	if (get_int(l, g, "auth.", "argon2_ops", 1, 10, &n) > 0)
		a->argon2_ops = (uint32_t) n;
	if (get_int(l, g, "auth.", "argon2_mem_kib", 8192, 1048576, &n) > 0)
		a->argon2_mem_kib = (uint32_t) n;
	if (a->login_backoff_max_ms < a->login_backoff_ms)
		err(l, config_setting_get_member(g, "login_backoff_max_ms"),
		    "auth.login_backoff_max_ms must not be below "
		    "auth.login_backoff_ms");
}

/* ---- plugins and scripts -------------------------------------------- */

/* Append a candidate path to tried[] (malloc'ed, freed by the caller) and
 * return it if it names a regular file. */
static const char *
try_path(char **tried, size_t *ntried, char *cand)
{
	if (cand == NULL)
		return NULL;
	tried[(*ntried)++] = cand;
	return is_regular_file(cand) ? cand : NULL;
}

/* Find the file of entry pc. `at` is the path setting, or NULL. Reports a
 * missing file for enabled entries only. */
static void
resolve_file(ld *l, xz_plugin_cfg *pc, const char *label,
    const config_setting_t *entry, const config_setting_t *at)
{
	xz_config  *c   = l->c;
	size_t      max = c->nplugin_path + 3, ntried = 0;
	char      **tried;
	const char *found = NULL, *fname;
	char       *own   = NULL;

	if ((tried = calloc(max, sizeof(*tried))) == NULL) {
		oom(l);
		return;
	}
	if (pc->path != NULL)
		found = try_path(
		    tried, &ntried, path_resolve(dir_of(l, at), pc->path));
	if (found == NULL && pc->kind == XZ_PLUGIN_SO
	    && (pc->path == NULL || pc->path[0] != '/')) {
		if (pc->path != NULL)
			fname = base_part(pc->path);
		else
			fname = own = xasprintf("%s.so", pc->name);
		for (size_t i = 0;
		     fname != NULL && found == NULL && i < c->nplugin_path;
		     i++)
			found = try_path(tried, &ntried,
			    path_resolve(c->plugin_path[i], fname));
		if (fname != NULL && found == NULL && l->builtin_dir != NULL)
			found = try_path(tried, &ntried,
			    path_resolve(l->builtin_dir, fname));
	}
	if (found != NULL) {
		if ((pc->resolved = realpath(found, NULL)) == NULL)
			oom(l);
	} else if (pc->enabled) {
		char   list[2048];
		size_t o = 0;

		list[0] = '\0';
		for (size_t i = 0; i < ntried && o < sizeof(list); i++)
			o += (size_t) snprintf(list + o, sizeof(list) - o,
			    "%s%s", i ? ", " : "", tried[i]);
		if (ntried == 0)
			snprintf(list, sizeof(list),
			    "nothing: no node.plugin_path and no built-in "
			    "plugin directory");
		err(l, at != NULL ? at : entry,
		    "%s: cannot find %s (tried %s)", label,
		    pc->path != NULL  ? pc->path
		        : own != NULL ? own
		                      : "?",
		    list);
	}
	for (size_t i = 0; i < ntried; i++)
		free(tried[i]);
	free(tried);
	free(own);
}

/* Copy the members of an `options` group into pc->options, so that no
 * libconfig type leaves this file. */
static void
copy_options(ld *l, xz_plugin_cfg *pc, const config_setting_t *g)
{
	int n = config_setting_length(g);

	if (n == 0)
		return;
	if ((pc->options = calloc((size_t) n, sizeof(*pc->options))) == NULL) {
		oom(l);
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		xz_cfg_option          *o = &pc->options[pc->noptions];

		o->type = cfg_type(config_setting_type(s));
		o->file = file_of(s);
		o->line = (int) config_setting_source_line(s);
		switch (o->type) {
		case XZ_CFG_INT:
			o->v.i = config_setting_get_int64(s);
			break;
		case XZ_CFG_FLOAT:
			o->v.f = config_setting_get_float(s);
			break;
		case XZ_CFG_BOOL:
			o->v.b = config_setting_get_bool(s);
			break;
		case XZ_CFG_STRING:
			if ((o->v.s = strdup(config_setting_get_string(s)))
			    == NULL) {
				oom(l);
				return;
			}
			break;
		default:
			break;
		}
		pc->noptions++; /* counted before name: freed either way */
		if ((o->name = strdup(config_setting_name(s))) == NULL) {
			oom(l);
			return;
		}
	}
}

/* Parse element `index` of `plugins` (script 0) or `scripts` (script 1)
 * into the next free xz_plugin_cfg. */
static void parse_grants(
    ld *l, const config_setting_t *e, const char *pfx, xz_plugin_cfg *pc);
static void parse_patterns(ld *l, const config_setting_t *g, const char *pfx,
    const char *key, char ***v, size_t *n);
static void free_strv(char **v, size_t n);

static void
parse_entry(ld *l, const config_setting_t *e, int index, int script)
{
	static const char *const plugin_keys[]
	    = { "name", "kind", "path", "enabled", "options", "lua", "grants",
		      "impersonate", "reserve", "isolation",
		      "handler_timeout_ms", "memory_limit_mb", NULL };
	static const char *const script_keys[] = { "name", "path", "enabled",
		"options", "lua", "grants", "impersonate", "reserve",
		"isolation", "handler_timeout_ms", "memory_limit_mb", NULL };
	const char              *list = script ? "scripts" : "plugins";
	const char              *what = script ? "script" : "plugin";
	xz_config               *c    = l->c;
	xz_plugin_cfg           *pc;
	const config_setting_t  *at_name = NULL, *at_path = NULL, *at_kind;
	const config_setting_t  *opts, *lg;
	const char              *v;
	char                     label[96], pfx[100];
	int                      named = 0, ok_kind = 1;

	if (!config_setting_is_group(e)) {
		err(l, e, "%s[%d] must be a group, got %s", list, index,
		    type_name(config_setting_type(e)));
		return;
	}
	pc          = &c->plugins[c->nplugins++];
	pc->kind    = script ? XZ_PLUGIN_SCRIPT : 0;
	pc->enabled = 1;
	pc->file    = file_of(e);
	pc->line    = (int) config_setting_source_line(e);

	snprintf(label, sizeof(label), "%s[%d]", list, index);
	snprintf(pfx, sizeof(pfx), "%s: ", label);
	if (get_str(l, e, pfx, "name", &v, &at_name) > 0) {
		if (!plugin_name_ok(v)) {
			err(l, at_name,
			    "%s name '%s' is invalid (must match "
			    "[a-z][a-z0-9_-]{0,62})",
			    what, v);
		} else if ((pc->name = strdup(v)) == NULL) {
			oom(l);
		} else {
			named = 1;
			snprintf(label, sizeof(label), "%s '%s'", what, v);
		}
	} else if (config_setting_get_member(e, "name") == NULL) {
		err(l, e, "%s: name is required", label);
	}
	snprintf(pfx, sizeof(pfx), "%s: ", label);
	check_keys(l, e, script ? script_keys : plugin_keys, label);

	/* names share one address space: plugins and scripts together */
	if (named) {
		for (size_t i = 0; i + 1 < c->nplugins; i++) {
			const xz_plugin_cfg *o = &c->plugins[i];
			if (o->name != NULL
			    && strcmp(o->name, pc->name) == 0) {
				err(l, at_name,
				    "duplicate name '%s' (first declared at "
				    "%s:%d)",
				    pc->name, o->file, o->line);
				break;
			}
		}
	}

	if (!script) {
		at_kind = config_setting_get_member(e, "kind");
		if (get_str(l, e, pfx, "kind", &v, &at_kind) > 0) {
			if (strcmp(v, "so") == 0)
				pc->kind = XZ_PLUGIN_SO;
			else if (strcmp(v, "lua") == 0)
				pc->kind = XZ_PLUGIN_LUA;
			else {
				err(l, at_kind,
				    "%skind must be \"so\" or \"lua\", got "
				    "\"%s\"",
				    pfx, v);
				ok_kind = 0;
			}
		} else if (at_kind == NULL) {
			err(l, e, "%skind is required (\"so\" or \"lua\")",
			    pfx);
			ok_kind = 0;
		} else
			ok_kind = 0;
	}
	if (get_str(l, e, pfx, "path", &v, &at_path) > 0) {
		if ((pc->path = strdup(v)) == NULL)
			oom(l);
	} else if (config_setting_get_member(e, "path") == NULL
	    && pc->kind != XZ_PLUGIN_SO && ok_kind) {
		err(l, e, "%spath is required%s", pfx,
		    script ? "" : " for a lua plugin");
	}
	get_bool(l, e, pfx, "enabled", &pc->enabled);
	{
		const config_setting_t *at_iso = NULL;
		long long               ms;
		if (get_str(l, e, pfx, "isolation", &v, &at_iso) > 0) {
			if (strcmp(v, "process") == 0)
				pc->isolation = XZ_ISOLATION_PROCESS;
			else if (strcmp(v, "none") != 0)
				err(l, at_iso,
				    "%sisolation must be \"none\" or "
				    "\"process\", got \"%s\"",
				    pfx, v);
		}
		if (get_int(l, e, pfx, "handler_timeout_ms", 10, 3600000, &ms)
		    > 0)
			pc->handler_timeout_ms = (uint32_t) ms;
		if (get_int(l, e, pfx, "memory_limit_mb", 0, 1048576, &ms)
		    > 0) {
			pc->memory_limit_mb = (uint32_t) ms;
			if (ms > 0 && pc->isolation != XZ_ISOLATION_PROCESS)
				err(l,
				    config_setting_get_member(
				        e, "memory_limit_mb"),
				    "%smemory_limit_mb needs isolation = "
				    "\"process\" (a plugin in the node shares "
				    "its memory)",
				    pfx);
		}
	}
	parse_grants(l, e, pfx, pc);
	pc->lua = c->lua; /* the node's defaults, then the entry's own */
	if ((lg = config_setting_get_member(e, "lua")) != NULL) {
		char where[200];
		snprintf(where, sizeof(where), "%slua.", pfx);
		if (!config_setting_is_group(lg))
			err(l, lg, "%slua must be a group, got %s", pfx,
			    type_name(config_setting_type(lg)));
		else if (pc->kind == XZ_PLUGIN_SO && ok_kind)
			err(l, lg,
			    "%slua limits apply to Lua plugins and scripts, "
			    "not to a kind = \"so\" plugin",
			    pfx);
		else
			parse_lua_group(l, lg, where, &pc->lua);
	}
	if ((opts = config_setting_get_member(e, "options")) != NULL) {
		if (!config_setting_is_group(opts))
			err(l, opts, "%soptions must be a group, got %s", pfx,
			    type_name(config_setting_type(opts)));
		else
			copy_options(l, pc, opts);
	}

	/* Only a complete entry has a file to look for. */
	if (named && ok_kind && (pc->kind == XZ_PLUGIN_SO || pc->path != NULL))
		resolve_file(l, pc, label, e, at_path);
}

/* grants, impersonate and reserve of a plugin entry. */
static void
parse_grants(
    ld *l, const config_setting_t *e, const char *pfx, xz_plugin_cfg *pc)
{
	static const char *const keys[] = { "publish", "subscribe", NULL };
	const config_setting_t  *g = config_setting_get_member(e, "grants");
	char                     p2[128];

	get_bool(l, e, pfx, "impersonate", &pc->impersonate);
	parse_patterns(l, e, pfx, "reserve", &pc->reserve, &pc->nreserve);
	if (g == NULL)
		return;
	if (!config_setting_is_group(g)) {
		err(l, g,
		    "%sgrants must be a group { publish = [...]; subscribe = "
		    "[...]; }, got %s",
		    pfx, type_name(config_setting_type(g)));
		return;
	}
	snprintf(p2, sizeof(p2), "%sgrants", pfx);
	check_keys(l, g, keys, p2);
	snprintf(p2, sizeof(p2), "%sgrants.", pfx);
	pc->has_grants = 1;
	parse_patterns(l, g, p2, "publish", &pc->grant_publish.allow,
	    &pc->grant_publish.nallow);
	parse_patterns(l, g, p2, "subscribe", &pc->grant_subscribe.allow,
	    &pc->grant_subscribe.nallow);
}

static void
parse_entries(ld *l, int script)
{
	const char             *key = script ? "scripts" : "plugins";
	const config_setting_t *s
	    = config_setting_get_member(config_root_setting(&l->cfg), key);
	xz_plugin_cfg *more;
	int            n;

	if (s == NULL)
		return;
	if (!config_setting_is_list(s)
	    && !(
	        config_setting_is_array(s) && config_setting_length(s) == 0)) {
		err(l, s, "%s must be a list, got %s", key,
		    type_name(config_setting_type(s)));
		return;
	}
	n = config_setting_length(s);
	if (n == 0)
		return;
	more = realloc(
	    l->c->plugins, (l->c->nplugins + (size_t) n) * sizeof(*more));
	if (more == NULL) {
		oom(l);
		return;
	}
	memset(more + l->c->nplugins, 0, (size_t) n * sizeof(*more));
	l->c->plugins = more;
	for (int i = 0; i < n; i++)
		parse_entry(l, config_setting_get_elem(s, i), i, script);
}

/* ---- auth ---------------------------------------------------------- */

/* A role id or user id: [a-z0-9_:.-], 1..63 bytes. */
static int
ident_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char) *s)
		        || isdigit((unsigned char) *s) || *s == '_'
		        || *s == '-' || *s == ':' || *s == '.'))
			return 0;
	return 1;
}

/* One entry of auth.local (cn 0) or auth.certs (cn 1) at e. */
static void
parse_auth_id(
    ld *l, const config_setting_t *e, const char *list, int index, int cn)
{
	static const char *const local_keys[]
	    = { "uid", "gid", "user", "name", "agency", "roles", NULL };
	static const char *const cert_keys[]
	    = { "cn", "user", "name", "agency", "roles", NULL };
	xz_config              *c = l->c;
	xz_auth_id_cfg         *a;
	const config_setting_t *at, *rl;
	const char             *v;
	char                    pfx[64];
	long long               n;
	int                     hu, hg;

	snprintf(pfx, sizeof(pfx), "auth.%s[%d]: ", list, index);
	if (!config_setting_is_group(e)) {
		err(l, e, "auth.%s[%d] must be a group, got %s", list, index,
		    type_name(config_setting_type(e)));
		return;
	}
	a       = &c->auth_ids[c->nauth_ids++];
	a->file = file_of(e);
	a->line = (int) config_setting_source_line(e);
	check_keys(l, e, cn ? cert_keys : local_keys, pfx);
	if (cn) {
		a->kind = 3;
		if (get_str(l, e, pfx, "cn", &v, NULL) > 0) {
			if ((a->cn = strdup(v)) == NULL)
				oom(l);
		} else if (config_setting_get_member(e, "cn") == NULL)
			err(l, e, "%scn is required", pfx);
	} else {
		hu = get_int(l, e, pfx, "uid", 0, 4294967295LL, &n);
		if (hu > 0) {
			a->kind = 1;
			a->id   = n;
		}
		hg = get_int(l, e, pfx, "gid", 0, 4294967295LL, &n);
		if (hg > 0) {
			a->kind = 2;
			a->id   = n;
		}
		if (hu > 0 && hg > 0)
			err(l, e, "%sgive uid or gid, not both", pfx);
		else if (hu == 0 && hg == 0)
			err(l, e, "%suid or gid is required", pfx);
	}
	if (get_str(l, e, pfx, "user", &v, &at) > 0) {
		if (!ident_ok(v))
			err(l, at,
			    "%suser '%s' is invalid (must match "
			    "[a-z0-9_:.-]{1,63})",
			    pfx, v);
		else if ((a->user = strdup(v)) == NULL)
			oom(l);
	} else if (config_setting_get_member(e, "user") == NULL)
		err(l, e, "%suser is required", pfx);
	if (get_str(l, e, pfx, "name", &v, NULL) > 0
	    && (a->name = strdup(v)) == NULL)
		oom(l);
	if (get_str(l, e, pfx, "agency", &v, NULL) > 0
	    && (a->agency = strdup(v)) == NULL)
		oom(l);
	if ((rl = get_strlist(l, e, pfx, "roles")) != NULL) {
		int len = config_setting_length(rl);
		if ((a->roles = calloc((size_t) len + 1, sizeof(char *)))
		    == NULL) {
			oom(l);
			return;
		}
		for (int i = 0; i < len; i++) {
			const config_setting_t *r
			    = config_setting_get_elem(rl, i);
			v = config_setting_get_string(r);
			if (!ident_ok(v))
				err(l, r,
				    "%sroles[%d] '%s' is invalid (must match "
				    "[a-z0-9_:.-]{1,63})",
				    pfx, i, v);
			else if ((a->roles[a->nroles++] = strdup(v)) == NULL)
				oom(l);
		}
	} else if (config_setting_get_member(e, "roles") == NULL)
		err(l, e, "%sroles is required (a list of role ids)", pfx);
}

/* A list of patterns at g.key into *v, *n (owned by the config). */
static void
parse_patterns(ld *l, const config_setting_t *g, const char *pfx,
    const char *key, char ***v, size_t *n)
{
	const config_setting_t *s = get_strlist(l, g, pfx, key);

	if (s == NULL)
		return;
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char             *p = config_setting_get_string(e);
		if (!xz_pattern_valid(p, strlen(p)))
			err(l, e,
			    "%s%s[%d] '%s' is not a valid topic pattern "
			    "(dot-separated tokens; '*' one token, '>' the "
			    "rest)",
			    pfx, key, i, p);
	}
	copy_strlist(l, s, 0, v, n);
}

/* { allow = [...]; deny = [...]; } at g.key. */
static void
parse_perm(ld *l, const config_setting_t *g, const char *pfx, const char *key,
    xz_perm_cfg *out)
{
	static const char *const keys[] = { "allow", "deny", NULL };
	const config_setting_t  *s      = config_setting_get_member(g, key);
	char                     p2[128], where[128];

	if (s == NULL)
		return;
	if (!config_setting_is_group(s)) {
		err(l, s,
		    "%s%s must be a group { allow = [...]; deny = [...]; }, "
		    "got %s",
		    pfx, key, type_name(config_setting_type(s)));
		return;
	}
	snprintf(where, sizeof(where), "%s%s", pfx, key);
	check_keys(l, s, keys, where);
	snprintf(p2, sizeof(p2), "%s%s.", pfx, key);
	parse_patterns(l, s, p2, "allow", &out->allow, &out->nallow);
	parse_patterns(l, s, p2, "deny", &out->deny, &out->ndeny);
}

/* auth.roles = { role_id = { publish = {...}; subscribe = {...}; }; } */
static void
parse_roles(ld *l, const config_setting_t *g)
{
	static const char *const keys[]
	    = { "publish", "subscribe", "description", NULL };
	const config_setting_t *r = config_setting_get_member(g, "roles");
	xz_config              *c = l->c;
	int                     n;

	if (r == NULL)
		return;
	if (!config_setting_is_group(r)) {
		err(l, r,
		    "auth.roles must be a group { role = { ... }; }, got %s",
		    type_name(config_setting_type(r)));
		return;
	}
	n = config_setting_length(r);
	if (n == 0)
		return;
	if ((c->roles = calloc((size_t) n, sizeof(*c->roles))) == NULL) {
		oom(l);
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e    = config_setting_get_elem(r, i);
		const char             *name = config_setting_name(e);
		char                    pfx[128];
		xz_role_cfg            *rc;

		snprintf(pfx, sizeof(pfx), "auth.roles.%s.", name);
		if (!ident_ok(name) || strchr(name, ':') != NULL) {
			err(l, e,
			    "auth.roles: role id '%s' is invalid (must "
			    "match [a-z0-9_.-]{1,63})",
			    name);
			continue;
		}
		if (!config_setting_is_group(e)) {
			err(l, e, "auth.roles.%s must be a group, got %s",
			    name, type_name(config_setting_type(e)));
			continue;
		}
		rc       = &c->roles[c->nroles++];
		rc->file = file_of(e);
		rc->line = (int) config_setting_source_line(e);
		if ((rc->id = strdup(name)) == NULL) {
			oom(l);
			continue;
		}
		snprintf(pfx, sizeof(pfx), "auth.roles.%s", name);
		check_keys(l, e, keys, pfx);
		snprintf(pfx, sizeof(pfx), "auth.roles.%s.", name);
		parse_perm(l, e, pfx, "publish", &rc->publish);
		parse_perm(l, e, pfx, "subscribe", &rc->subscribe);
	}
}

static void
parse_auth(ld *l)
{
	static const char *const keys[]  = { "local", "certs", "roles",
		 "demo_users", "token_ttl_s", "login_free_failures",
		 "login_backoff_ms", "login_backoff_max_ms", "argon2_ops",
		 "argon2_mem_kib", NULL };
	static const char *const lists[] = { "local", "certs" };
	const config_setting_t  *g       = section(l, "auth");
	xz_config               *c       = l->c;
	size_t                   total   = 0;

	parse_auth_identity(l, g); /* defaults too, when g is NULL */
	if (g == NULL)
		return;
	check_keys(l, g, keys, "auth");
	for (int k = 0; k < 2; k++) {
		const config_setting_t *s
		    = config_setting_get_member(g, lists[k]);
		if (s == NULL)
			continue;
		if (!config_setting_is_list(s)
		    && !(config_setting_is_array(s)
		        && config_setting_length(s) == 0)) {
			err(l, s,
			    "auth.%s must be a list ( { ... }, ... ), got %s",
			    lists[k], type_name(config_setting_type(s)));
			continue;
		}
		total += (size_t) config_setting_length(s);
	}
	if (total == 0)
		goto roles;
	if ((c->auth_ids = calloc(total, sizeof(*c->auth_ids))) == NULL) {
		oom(l);
		return;
	}
	for (int k = 0; k < 2; k++) {
		const config_setting_t *s
		    = config_setting_get_member(g, lists[k]);
		if (s == NULL || !config_setting_is_list(s))
			continue;
		for (int i = 0; i < config_setting_length(s); i++)
			parse_auth_id(
			    l, config_setting_get_elem(s, i), lists[k], i, k);
	}
roles:
	parse_roles(l, g);
}

/* ---- links: other nodes (docs/multi-node.md) ----------------------- */

/* The token of a credentials file: the first line that is neither empty,
 * a comment nor an armour line, trimmed. Malloc'ed, or NULL with *why. */
static char *
read_token(const char *path, const char **why)
{
	FILE *f = fopen(path, "r");
	char  line[1024];
	char *tok = NULL;

	if (f == NULL) {
		*why = strerror(errno);
		return NULL;
	}
	*why = "it holds no token";
	while (tok == NULL && fgets(line, sizeof(line), f) != NULL) {
		char *s = line, *e;
		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strlen(s);
		while (
		    e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '))
			*--e = '\0';
		if (*s == '\0' || *s == '#' || strncmp(s, "-----", 5) == 0)
			continue;
		size_t n = strlen(s), i;
		for (i = 0; i < n; i++)
			if (!(isalnum((unsigned char) s[i]) || s[i] == '_'
			        || s[i] == '-' || s[i] == '.'))
				break;
		if (i < n || n < 16 || n > 256) {
			*why
			    = "its token must be 16..256 of A-Z a-z 0-9 _ - .";
			break;
		}
		if ((tok = strdup(s)) == NULL)
			*why = "out of memory";
	}
	fclose(f);
	return tok;
}

static void
parse_link(ld *l, const config_setting_t *e, int index)
{
	static const char *const keys[] = { "name", "url", "creds", "cn",
		"agency", "roles", "import", "export", "tls", NULL };
	static const char *const tls_keys[]
	    = { "ca", "cert", "key", "server_name", NULL };
	xz_config              *c = l->c;
	xz_node_link_cfg       *k;
	const config_setting_t *at, *rl, *tg;
	const char             *v, *why;
	char                    pfx[64];

	snprintf(pfx, sizeof(pfx), "links[%d].", index);
	if (!config_setting_is_group(e)) {
		err(l, e, "links[%d] must be a group { name = ...; }, got %s",
		    index, type_name(config_setting_type(e)));
		return;
	}
	k       = &c->links[c->nlinks++];
	k->file = file_of(e);
	k->line = (int) config_setting_source_line(e);
	check_keys(l, e, keys, pfx);
	if (get_str(l, e, pfx, "name", &v, &at) > 0) {
		if (!node_name_ok(v))
			err(l, at,
			    "%sname '%s' is invalid (the other node's "
			    "node.name: [a-z0-9_-]{1,63})",
			    pfx, v);
		else if (c->node_name != NULL && strcmp(v, c->node_name) == 0)
			err(l, at, "%sname '%s' is this node itself", pfx, v);
		else {
			for (size_t i = 0; i + 1 < c->nlinks; i++)
				if (c->links[i].name != NULL
				    && strcmp(c->links[i].name, v) == 0)
					err(l, at,
					    "%sname '%s' is already linked at "
					    "%s:%d",
					    pfx, v, c->links[i].file,
					    c->links[i].line);
			if ((k->name = strdup(v)) == NULL)
				oom(l);
		}
	} else if (config_setting_get_member(e, "name") == NULL)
		err(l, e, "%sname is required (the other node's node.name)",
		    pfx);
	if (get_str(l, e, pfx, "url", &v, &at) > 0) {
		char what[80];
		snprintf(what, sizeof(what), "%surl", pfx);
		if (check_url(l, at, what, v) == 0
		    && (k->url = strdup(v)) == NULL)
			oom(l);
	}
	if (get_str(l, e, pfx, "creds", &v, &at) > 0) {
		if ((k->creds = path_resolve(dir_of(l, at), v)) == NULL)
			oom(l);
		else if ((k->token = read_token(k->creds, &why)) == NULL)
			err(l, at, "%screds: cannot use %s: %s", pfx, k->creds,
			    why);
	}
	if (get_str(l, e, pfx, "agency", &v, NULL) > 0) {
		if ((k->agency = strdup(v)) == NULL)
			oom(l);
	}
	if ((rl = get_strlist(l, e, pfx, "roles")) != NULL) {
		int len = config_setting_length(rl);
		if ((k->roles = calloc((size_t) len + 1, sizeof(char *)))
		    == NULL) {
			oom(l);
			return;
		}
		for (int i = 0; i < len; i++) {
			const config_setting_t *r
			    = config_setting_get_elem(rl, i);
			v = config_setting_get_string(r);
			if (!ident_ok(v) || strchr(v, ':') != NULL)
				err(l, r,
				    "%sroles[%d] '%s' is invalid (must match "
				    "[a-z0-9_.-]{1,63})",
				    pfx, i, v);
			else if ((k->roles[k->nroles++] = strdup(v)) == NULL)
				oom(l);
		}
	}
	parse_patterns(l, e, pfx, "import", &k->import, &k->nimport);
	parse_patterns(l, e, pfx, "export", &k->export, &k->nexport);
	tg = config_setting_get_member(e, "tls");
	if (tg != NULL) {
		char tp[80];
		snprintf(tp, sizeof(tp), "%stls.", pfx);
		if (!config_setting_is_group(tg))
			err(l, tg, "%stls must be a group, got %s", pfx,
			    type_name(config_setting_type(tg)));
		else if (k->url == NULL
		    || strncmp(k->url, "tls+tcp://", 10) != 0)
			err(l, tg,
			    "%stls is only for a link that dials a tls+tcp:// "
			    "url",
			    pfx);
		else {
			char where[80];
			snprintf(where, sizeof(where), "%stls", pfx);
			check_keys(l, tg, tls_keys, where);
			tls_file(l, tg, tp, "ca", &k->tls_ca);
			tls_file(l, tg, tp, "cert", &k->tls_cert);
			tls_file(l, tg, tp, "key", &k->tls_key);
			if (get_str(l, tg, tp, "server_name", &v, NULL) > 0
			    && (k->tls_server_name = strdup(v)) == NULL)
				oom(l);
		}
	}
	/* Without creds: a certificate (the certificate HELLO). */
	if (get_str(l, e, pfx, "cn", &v, &at) > 0) {
		if (k->url != NULL)
			err(l, at,
			    "%scn is for a node that dials this one (no url): "
			    "the CN its certificate must have",
			    pfx);
		else if (config_setting_get_member(e, "creds") != NULL)
			err(l, at,
			    "%scn and creds exclude each other (a certificate "
			    "or a token)",
			    pfx);
		else if ((k->cert_cn = strdup(v)) == NULL)
			oom(l);
	}
	if (config_setting_get_member(e, "creds") == NULL) {
		if (k->url != NULL
		    && (strncmp(k->url, "tls+tcp://", 10) != 0
		        || k->tls_cert == NULL))
			err(l, e,
			    "%screds is required to dial %s (a file holding "
			    "the token this link presents; a tls+tcp:// link "
			    "with tls.cert proves its certificate instead)",
			    pfx, k->url);
		else if (k->url == NULL && k->cert_cn == NULL
		    && k->name != NULL
		    && (k->cert_cn = strdup(k->name)) == NULL)
			oom(l);
	}
	if (k->url == NULL && k->cert_cn != NULL) {
		int door = 0;
		for (size_t i = 0; i < c->nlisten; i++)
			door = door
			    || (c->listen[i].tls_ca != NULL
			        && c->listen[i].url != NULL
			        && strncmp(c->listen[i].url, "tls+tcp://", 10)
			            == 0);
		if (!door)
			warn(l, e,
			    "%s'%s' has no creds, so it must prove a "
			    "certificate with CN '%s', but this node has no "
			    "tls+tcp:// listener with tls.ca: it cannot link",
			    pfx, k->name ? k->name : "?", k->cert_cn);
	}
	if (k->url != NULL && strncmp(k->url, "tls+tcp://", 10) == 0
	    && k->tls_ca == NULL)
		err(l, e,
		    "%stls.ca is required to dial %s (the CA the other "
		    "node's certificate must chain to)",
		    pfx, k->url);
	if (k->url != NULL && strncmp(k->url, "tcp://", 6) == 0)
		warn(l, e,
		    "%surl %s: the link to '%s' is not encrypted; use "
		    "tls+tcp:// between machines",
		    pfx, k->url, k->name ? k->name : "?");
}

static void
parse_links(ld *l)
{
	const config_setting_t *s
	    = config_setting_get_member(config_root_setting(&l->cfg), "links");
	int n;

	if (s == NULL)
		return;
	if (!config_setting_is_list(s)
	    && !(
	        config_setting_is_array(s) && config_setting_length(s) == 0)) {
		err(l, s,
		    "links must be a list ( { name = ...; }, ... ), got %s",
		    type_name(config_setting_type(s)));
		return;
	}
	if ((n = config_setting_length(s)) == 0)
		return;
	if ((l->c->links = calloc((size_t) n, sizeof(*l->c->links))) == NULL) {
		oom(l);
		return;
	}
	for (int i = 0; i < n; i++)
		parse_link(l, config_setting_get_elem(s, i), i);
}

/* ---- load and free -------------------------------------------------- */

/* The name in `@include "NAME"` on line `line` of file, or NULL.
 * Malloc'ed; the caller frees. */
static char *
include_name_at(const char *file, int line)
{
	FILE *f = fopen(file, "r");
	char  buf[1024], *p, *q, *out = NULL;
	int   n = 0;

	if (f == NULL)
		return NULL;
	while (fgets(buf, sizeof(buf), f) != NULL)
		if (++n == line)
			break;
	fclose(f);
	if (n == line && (p = strstr(buf, "@include")) != NULL
	    && (p = strchr(p, '"')) != NULL
	    && (q = strchr(p + 1, '"')) != NULL)
		out = strndup(p + 1, (size_t) (q - p - 1));
	return out;
}

static void
report_parse_error(ld *l)
{
	xz_config  *c    = l->c;
	const char *text = config_error_text(&l->cfg);
	char       *file = display_name(c, config_error_file(&l->cfg));
	int         line = config_error_line(&l->cfg);
	char       *inc  = NULL;

	if (text == NULL)
		text = "parse error";
	if (file != NULL && strcmp(text, "cannot open include file") == 0)
		inc = include_name_at(file, line);
	if (inc != NULL)
		xz_diag_add(l->d, file, line,
		    "cannot open include file '%s' "
		    "(tried %s/%s)",
		    inc, c->dir, inc);
	else
		xz_diag_add(l->d, file != NULL ? file : c->path, line, "%s",
		    xz_text(text));
	l->nerr++;
	free(inc);
	free(file);
}

/* libconfig 1.5 reads a number without the L suffix as a 32-bit int and
 * silently keeps the low 32 bits of a larger one (10000000000 reads as
 * 1410065408). Each int setting's literal is read again from its source
 * line, and one that does not fit is an error naming it, so a byte limit
 * or a count never turns into another number unnoticed. The last file read
 * is kept (owned by the walk, freed by its caller). */
struct lit_file {
	char  *name; /* as libconfig recorded it */
	char  *text; /* the whole file, NUL-terminated */
	size_t len;
};

/* Line `line` (1-based) of the file, NULL when the file or line is gone. */
static const char *
lit_line(struct lit_file *lf, const char *name, int line, size_t *len)
{
	if (lf->name == NULL || strcmp(lf->name, name) != 0) {
		FILE *f = fopen(name, "rb");
		char *t = NULL;
		long  n = -1;
		if (f != NULL && fseek(f, 0, SEEK_END) == 0
		    && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0
		    && (t = malloc((size_t) n + 1)) != NULL
		    && fread(t, 1, (size_t) n, f) == (size_t) n)
			t[n] = '\0';
		else {
			free(t);
			t = NULL;
		}
		if (f != NULL)
			fclose(f);
		free(lf->name);
		free(lf->text);
		lf->name = t != NULL ? strdup(name) : NULL;
		lf->text = lf->name != NULL ? t : NULL;
		lf->len  = lf->name != NULL ? (size_t) n : 0;
		if (lf->name == NULL) {
			free(t);
			return NULL;
		}
	}
	const char *p = lf->text;
	for (int i = 1; i < line && p != NULL; i++)
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	if (p == NULL)
		return NULL;
	const char *e = strchr(p, '\n');
	*len          = e != NULL ? (size_t) (e - p) : strlen(p);
	return p;
}

/* The setting's path from the root, as errors name settings:
 * "bus.durable_max_bytes", "plugins[0].options.limit". */
static void
setting_path(const config_setting_t *s, char *out, size_t cap)
{
	const config_setting_t *chain[32];
	size_t                  n = 0, len = 0;

	out[0] = '\0';
	for (; s != NULL && config_setting_parent(s) != NULL && n < 32;
	     s = config_setting_parent(s))
		chain[n++] = s;
	while (n-- > 0 && len < cap) {
		const char *name = config_setting_name(chain[n]);
		int w = name != NULL ? snprintf(out + len, cap - len, "%s%s",
		            len > 0 ? "." : "", name)
		                     : snprintf(out + len, cap - len, "[%d]",
		                         config_setting_index(chain[n]));
		if (w < 0)
			return;
		len += (size_t) w;
	}
}

static void
check_int_literal(ld *l, struct lit_file *lf, const config_setting_t *s)
{
	const char *name = config_setting_name(s);
	const char *file = config_setting_source_file(s);
	const char *p, *end;
	size_t      len = 0, nl;
	char        lit[64];

	if (name == NULL || file == NULL
	    || (p = lit_line(
	            lf, file, (int) config_setting_source_line(s), &len))
	        == NULL)
		return;
	end = p + len;
	nl  = strlen(name);
	/* the name as a whole word, then = or :, then the literal */
	for (const char *q = p; q + nl <= end; q++) {
		if (strncmp(q, name, nl) != 0
		    || (q > p
		        && (isalnum((unsigned char) q[-1]) || q[-1] == '_'
		            || q[-1] == '-' || q[-1] == '*')))
			continue;
		const char *v = q + nl;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		if (v >= end || (*v != '=' && *v != ':'))
			continue;
		v++;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		size_t n = 0;
		while (v + n < end && n + 1 < sizeof(lit)
		    && (isxdigit((unsigned char) v[n]) || v[n] == 'x'
		        || v[n] == 'X'
		        || (n == 0 && (v[0] == '-' || v[0] == '+'))))
			n++;
		memcpy(lit, v, n);
		lit[n] = '\0';
		char     *stop;
		long long val;
		errno = 0;
		val   = strtoll(lit, &stop, 0);
		if (stop == lit)
			return;
		if (errno != ERANGE && val == config_setting_get_int64(s))
			return;
		if (l->nbadint == l->capbadint) {
			size_t cap = l->capbadint ? 2 * l->capbadint : 8;
			const config_setting_t **nb
			    = realloc(l->badint, cap * sizeof(*nb));
			if (nb == NULL) {
				oom(l);
				return;
			}
			l->badint    = nb;
			l->capbadint = cap;
		}
		l->badint[l->nbadint++] = s;
		char path[256];
		setting_path(s, path, sizeof(path));
		err(l, s,
		    "%s = %s does not fit in a 32-bit integer, which "
		    "is how a number without the suffix L is read: "
		    "write %sL",
		    path[0] ? path : name, lit, lit);
		return;
	}
}

static void
check_int_literals(ld *l, struct lit_file *lf, const config_setting_t *s)
{
	if (config_setting_type(s) == CONFIG_TYPE_INT)
		check_int_literal(l, lf, s);
	else if (config_setting_is_aggregate(s)) {
		int n = config_setting_length(s);
		for (int i = 0; i < n; i++)
			check_int_literals(
			    l, lf, config_setting_get_elem(s, i));
	}
}

int
xz_config_load(
    xz_config *c, const char *path, const char *builtin_plugin_dir, xz_diag *d)
{
	static const char *const sections[] = { "node", "bus", "lua",
		"plugins", "scripts", "auth", "links", NULL };
	ld l = { .c = c, .d = d, .builtin_dir = builtin_plugin_dir };
	const config_setting_t *root;
	struct stat             st;
	char                   *dir;
	char                    hint[96];
	int                     rc = -1;

	memset(c, 0, sizeof(*c));
	xz_text_register(xz_config_zh); /* config_msg.c */
	config_init(&l.cfg);
	if ((c->path = strdup(path)) == NULL
	    || (dir = dir_part(path)) == NULL) {
		oom(&l);
		goto fail;
	}
	c->dir = realpath(dir, NULL);
	free(dir);
	if (c->dir == NULL || stat(path, &st) != 0) {
		xz_diag_add(
		    d, NULL, 0, "cannot read %s: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		xz_diag_add(
		    d, NULL, 0, "cannot read %s: %s", path, strerror(EISDIR));
		goto fail;
	}
	config_set_include_dir(&l.cfg, c->dir);
	errno = 0;
	if (!config_read_file(&l.cfg, path)) {
		if (config_error_type(&l.cfg) == CONFIG_ERR_FILE_IO)
			xz_diag_add(d, NULL, 0, "cannot read %s: %s", path,
			    errno != 0 ? strerror(errno) : "I/O error");
		else
			report_parse_error(&l);
		goto fail;
	}
	if (tag_files(c, config_root_setting(&l.cfg)) != 0) {
		oom(&l);
		goto fail;
	}

	root = config_root_setting(&l.cfg);
	{
		struct lit_file lf = { 0 };
		check_int_literals(&l, &lf, root);
		free(lf.name);
		free(lf.text);
	}
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *s = config_setting_get_elem(root, i);
		const char             *name = config_setting_name(s);
		size_t                  k;
		for (k = 0; sections[k] != NULL; k++)
			if (strcmp(sections[k], name) == 0)
				break;
		if (sections[k] == NULL)
			err(&l, s,
			    "unknown section '%s' (expected node, bus, lua, "
			    "plugins, scripts, auth or links)%s",
			    name, suggest(name, sections, hint, sizeof(hint)));
	}
	parse_node(&l);
	parse_bus(&l);
	parse_lua(&l);
	parse_entries(&l, 0);
	parse_entries(&l, 1);
	parse_auth(&l);
	parse_links(&l);
	rc = l.nerr == 0 ? 0 : -1;
fail:
	flush_pending(&l);
	free(l.badint);
	config_destroy(&l.cfg);
	if (rc != 0)
		xz_config_free(c);
	return rc;
}

static void
free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
xz_config_free(xz_config *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->dir);
	free(c->node_name);
	door_free(&c->control);
	free(c->data_dir);
	free(c->log_file);
	free_strv(c->plugin_path, c->nplugin_path);
	for (size_t i = 0; i < c->nlisten; i++)
		door_free(&c->listen[i]);
	free(c->listen);
	for (size_t i = 0; i < c->nwarnings; i++)
		free(c->warnings[i].text);
	free(c->warnings);
	free_strv(c->best_effort, c->nbest_effort);
	free_strv(c->durable, c->ndurable);
	free(c->durable_file);
	free(c->durable_line);
	for (size_t i = 0; i < c->nplugins; i++) {
		xz_plugin_cfg *pc = &c->plugins[i];

		free(pc->name);
		free(pc->path);
		free(pc->resolved);
		for (size_t k = 0; k < pc->noptions; k++) {
			free(pc->options[k].name);
			if (pc->options[k].type == XZ_CFG_STRING)
				free(pc->options[k].v.s);
		}
		free(pc->options);
		free_strv(pc->grant_publish.allow, pc->grant_publish.nallow);
		free_strv(
		    pc->grant_subscribe.allow, pc->grant_subscribe.nallow);
		free_strv(pc->reserve, pc->nreserve);
	}
	free(c->plugins);
	for (size_t i = 0; i < c->nauth_ids; i++) {
		xz_auth_id_cfg *a = &c->auth_ids[i];
		free(a->cn);
		free(a->user);
		free(a->name);
		free(a->agency);
		free_strv(a->roles, a->nroles);
	}
	free(c->auth_ids);
	for (size_t i = 0; i < c->nlinks; i++) {
		xz_node_link_cfg *k = &c->links[i];
		free(k->name);
		free(k->url);
		free(k->creds);
		free(k->token);
		free(k->cert_cn);
		free(k->agency);
		free_strv(k->roles, k->nroles);
		free_strv(k->import, k->nimport);
		free_strv(k->export, k->nexport);
		free(k->tls_ca);
		free(k->tls_cert);
		free(k->tls_key);
		free(k->tls_server_name);
	}
	free(c->links);
	for (size_t i = 0; i < c->nroles; i++) {
		xz_role_cfg *r = &c->roles[i];
		free(r->id);
		free_strv(r->publish.allow, r->publish.nallow);
		free_strv(r->publish.deny, r->publish.ndeny);
		free_strv(r->subscribe.allow, r->subscribe.nallow);
		free_strv(r->subscribe.deny, r->subscribe.ndeny);
	}
	free(c->roles);
	for (size_t i = 0; i < c->nfiles; i++)
		file_free(c->files[i]);
	free(c->files);
	memset(c, 0, sizeof(*c));
}

int
xz_log_level_parse(const char *s)
{
	static const char *const names[]
	    = { "error", "warn", "info", "debug" };

	if (s == NULL)
		return -1;
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* ---- plugin options ------------------------------------------------- */

static const char *
opt_type_name(int type)
{
	switch (type) {
	case XZ_OPT_INT:
		return "integer";
	case XZ_OPT_FLOAT:
		return "number";
	case XZ_OPT_BOOL:
		return "boolean";
	case XZ_OPT_STRING:
		return "string";
	default:
		return "?";
	}
}

static const char *
article(int type)
{
	return type == XZ_OPT_INT ? "an" : "a";
}

/* Parse a default written as in a config file. 0, or -1 if broken. */
static int
parse_default(const xz_option_decl *o, xz_optval *v)
{
	const char *s = o->def;
	char       *end;

	errno = 0;
	switch (o->type) {
	case XZ_OPT_INT: {
		long long   n;
		int         neg    = s[0] == '-';
		const char *digits = s + (neg || s[0] == '+');

		if (!isdigit((unsigned char) digits[0]))
			return -1;
		if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X'))
			n = (long long) strtoull(digits, &end, 16);
		else
			n = strtoll(digits, &end, 10);
		if (*end == 'L' && end[1] == '\0')
			end++;
		if (*end != '\0' || errno != 0)
			return -1;
		v->v.i = neg ? -n : n;
		if (o->min < o->max && (v->v.i < o->min || v->v.i > o->max))
			return -1;
		break;
	}
	case XZ_OPT_FLOAT:
		if (s[0] == '\0' || isspace((unsigned char) s[0]))
			return -1;
		v->v.f = strtod(s, &end);
		if (*end != '\0' || errno != 0)
			return -1;
		break;
	case XZ_OPT_BOOL:
		if (strcasecmp(s, "true") == 0)
			v->v.b = 1;
		else if (strcasecmp(s, "false") == 0)
			v->v.b = 0;
		else
			return -1;
		break;
	case XZ_OPT_STRING:
		if ((v->v.s = strdup(s)) == NULL)
			return -1;
		break;
	default:
		return -1;
	}
	v->set = 1;
	return 0;
}

/* An error at a given option, or at the entry when s is NULL. */
static void opt_err(const xz_plugin_cfg *pc, const xz_cfg_option *s,
    xz_diag *d, int *nerr, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void
opt_err(const xz_plugin_cfg *pc, const xz_cfg_option *s, xz_diag *d, int *nerr,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (s != NULL)
		verr_at(d, s->file, s->line, nerr, fmt, ap);
	else
		verr_at(d, pc->file, pc->line, nerr, fmt, ap);
	va_end(ap);
}

/* Take the value of s for option o; reports a wrong type or range. */
static void
take_value(const xz_plugin_cfg *pc, const char *label, const xz_option_decl *o,
    const xz_cfg_option *s, xz_optval *v, xz_diag *d, int *nerr)
{
	int ok = 0;

	switch (o->type) {
	case XZ_OPT_INT:
		if ((ok = s->type == XZ_CFG_INT))
			v->v.i = s->v.i;
		if (ok && o->min < o->max
		    && (v->v.i < o->min || v->v.i > o->max)) {
			opt_err(pc, s, d, nerr,
			    "%s: option '%s' must be between %lld and %lld, "
			    "got %lld",
			    label, o->name, (long long) o->min,
			    (long long) o->max, (long long) v->v.i);
			return;
		}
		break;
	case XZ_OPT_FLOAT:
		if (s->type == XZ_CFG_FLOAT) {
			v->v.f = s->v.f;
			ok     = 1;
		} else if (s->type == XZ_CFG_INT) {
			v->v.f = (double) s->v.i;
			ok     = 1;
		}
		break;
	case XZ_OPT_BOOL:
		if ((ok = s->type == XZ_CFG_BOOL))
			v->v.b = s->v.b;
		break;
	case XZ_OPT_STRING:
		if ((ok = s->type == XZ_CFG_STRING)
		    && (v->v.s = strdup(s->v.s)) == NULL) {
			opt_err(pc, s, d, nerr, "%s: out of memory", label);
			return;
		}
		break;
	default:
		return; /* reported with the declarations */
	}
	if (!ok) {
		opt_err(pc, s, d, nerr,
		    "%s: option '%s' must be %s %s, got %s", label, o->name,
		    xz_text_zh() ? "" : article(o->type),
		    xz_text(opt_type_name(o->type)),
		    xz_text(cfg_type_name(s->type)));
		return;
	}
	v->set = 1;
}

/* The option named name in pc's options group, or NULL. (libconfig
 * refuses a group with a name twice.) */
static const xz_cfg_option *
given(const xz_plugin_cfg *pc, const char *name)
{
	for (size_t i = 0; i < pc->noptions; i++)
		if (strcmp(pc->options[i].name, name) == 0)
			return &pc->options[i];
	return NULL;
}

int
xz_options_resolve(const xz_plugin_cfg *pc, const xz_option_decl *decls,
    xz_optvals *out, xz_diag *d)
{
	xz_optvals   res = { NULL, 0 };
	const char **names;
	char         label[96], hint[96];
	size_t       n    = 0;
	int          nerr = 0;

	out->vals  = NULL;
	out->count = 0;
	snprintf(label, sizeof(label), "%s '%s'",
	    pc->kind == XZ_PLUGIN_SCRIPT ? "script" : "plugin",
	    pc->name != NULL ? pc->name : "?");
	while (decls != NULL && decls[n].name != NULL)
		n++;
	res.vals = calloc(n ? n : 1, sizeof(*res.vals));
	names    = calloc(n + 1, sizeof(*names));
	if (res.vals == NULL || names == NULL) {
		free(res.vals);
		free(names);
		xz_diag_add(d, pc->file, pc->line, "%s: out of memory", label);
		return 1;
	}
	res.count = n;
	for (size_t i = 0; i < n; i++) {
		res.vals[i].decl = &decls[i];
		names[i]         = decls[i].name;
		if (decls[i].type < XZ_OPT_INT
		    || decls[i].type > XZ_OPT_STRING)
			opt_err(pc, NULL, d, &nerr,
			    "%s: option '%s' has an unknown type %d (a bug in "
			    "the plugin)",
			    label, decls[i].name, decls[i].type);
	}

	/* Defaults are checked even when the option is given (a broken one
	 * is a bug of the plugin); absent options take theirs, or are missing
	 * when required. Reported at the entry, which comes before its
	 * options. */
	for (size_t k = 0; k < n; k++) {
		const xz_option_decl *o = &decls[k];
		const xz_cfg_option  *s = given(pc, o->name);

		if (o->type < XZ_OPT_INT || o->type > XZ_OPT_STRING)
			continue;
		if (o->def != NULL) {
			xz_optval tmp = { .decl = o };
			if (parse_default(o, &tmp) != 0)
				opt_err(pc, NULL, d, &nerr,
				    "%s: option '%s' has an invalid default "
				    "'%s' for type %s (a bug in the plugin)",
				    label, o->name, o->def,
				    opt_type_name(o->type));
			else if (s == NULL && !o->required)
				res.vals[k] = tmp;
			else if (o->type == XZ_OPT_STRING)
				free(tmp.v.s);
		}
		if (s == NULL && o->required)
			opt_err(pc, NULL, d, &nerr,
			    "%s: missing required option '%s' (%s)", label,
			    o->name, opt_type_name(o->type));
	}
	/* Given values, in file order so diagnostics follow the file. */
	for (size_t i = 0; i < pc->noptions; i++) {
		const xz_cfg_option *s   = &pc->options[i];
		const char          *key = s->name;
		size_t               k;

		for (k = 0; k < n; k++)
			if (strcmp(decls[k].name, key) == 0)
				break;
		if (k == n)
			opt_err(pc, s, d, &nerr, "%s: unknown option '%s'%s",
			    label, key,
			    suggest(key, names, hint, sizeof(hint)));
		else
			take_value(
			    pc, label, &decls[k], s, &res.vals[k], d, &nerr);
	}
	free(names);
	if (nerr != 0) {
		xz_optvals_free(&res);
		return nerr;
	}
	*out = res;
	return 0;
}

void
xz_optvals_free(xz_optvals *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < o->count; i++)
		if (o->vals[i].decl != NULL
		    && o->vals[i].decl->type == XZ_OPT_STRING
		    && o->vals[i].set)
			free(o->vals[i].v.s);
	free(o->vals);
	o->vals  = NULL;
	o->count = 0;
}

const xz_optval *
xz_optvals_find(const xz_optvals *o, const char *name)
{
	if (o == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < o->count; i++)
		if (strcmp(o->vals[i].decl->name, name) == 0)
			return &o->vals[i];
	return NULL;
}
