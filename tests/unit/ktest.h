/*
 * ktest.h - helpers shared by the kernel's unit tests (test_loader.c,
 * test_bus.c, test_kernel.c): a real node from a real config file in a
 * temporary folder, in-process test actors, waiting for a condition and
 * capturing the log. Everything here is static: each test is one program.
 */
#ifndef XZ_KTEST_H
#define XZ_KTEST_H

#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>

#include "config/config.h"
#include "util/diag.h"
#include "kernel/kernel.h"
#include "lua/luahost.h"

/* A node built from DIR/node.cfg. */
typedef struct kt_node {
	char       dir[128]; /* temp folder (kept across kt_close) */
	char       path[192]; /* DIR/node.cfg */
	xz_config  cfg;
	bool       have_cfg;
	xz_kernel *k;
	xz_diag    d; /* every diagnostic of config load, new, load, start */
} kt_node;

static inline void
kt_sleep_ms(long ms)
{
	struct timespec ts
	    = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

static inline long
kt_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Poll pred(arg) every millisecond for up to ms milliseconds. */
static inline bool
kt_wait(bool (*pred)(void *), void *arg, long ms)
{
	long end = kt_mono_ms() + ms;
	while (!pred(arg)) {
		if (kt_mono_ms() > end)
			return false;
		kt_sleep_ms(1);
	}
	return true;
}

static inline bool
kt_atomic_reaches_(void *arg)
{
	void **a = arg;
	return atomic_load((atomic_long *) a[0]) >= *(long *) a[1];
}

/* Wait until *v >= want (up to ms); returns the final value. */
static inline long
kt_wait_count(atomic_long *v, long want, long ms)
{
	void *a[2] = { v, &want };
	kt_wait(kt_atomic_reaches_, a, ms);
	return atomic_load(v);
}

static inline int
kt_rm_one_(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void) sb;
	(void) flag;
	(void) ftw;
	return remove(p);
}

static inline void
kt_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		abort();
	}
	fputs(text, f);
	fclose(f);
}

static inline bool
kt_file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Read a whole file into a malloc'd string (the caller frees), or NULL. */
static inline char *
kt_read_file(const char *path)
{
	FILE  *f = fopen(path, "r");
	char  *buf;
	long   n;
	size_t got;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t) n + 1);
	if (buf == NULL) {
		fclose(f);
		return NULL;
	}
	got      = fread(buf, 1, (size_t) n, f);
	buf[got] = '\0';
	fclose(f);
	return buf;
}

/*
 * Write DIR/node.cfg and load it: line 1 is the node section (node_extra
 * is added inside it), the lines after it are `rest`, so the first line
 * of rest is line 2 of the file. Makes the temp folder on first use.
 * Returns the number of errors (config, xz_kernel_new, load; warnings
 * are in n->d but not counted); the
 * kernel exists when the config loaded. kt_close frees what this made.
 */
static inline int
kt_open(kt_node *n, const char *node_extra, const char *rest)
{
	char text[8192];

	if (n->dir[0] == '\0') {
		strcpy(n->dir, "/tmp/xz-ktest.XXXXXX");
		if (mkdtemp(n->dir) == NULL) {
			perror("mkdtemp");
			abort();
		}
		snprintf(n->path, sizeof(n->path), "%s/node.cfg", n->dir);
	}
	snprintf(text, sizeof(text),
	    "node = { name = \"kt\"; control = \"ipc://%s/ctl.sock\"; "
	    "data_dir = \"%s/data\"; plugin_path = [ \"%s\" ]; workers = 2; "
	    "%s };\n%s",
	    n->dir, n->dir, XZ_TEST_PLUGIN_DIR, node_extra ? node_extra : "",
	    rest ? rest : "");
	kt_write_file(n->path, text);
	xz_diag_init(&n->d);
	n->k        = NULL;
	n->have_cfg = false;
	if (xz_config_load(&n->cfg, n->path, XZ_TEST_PLUGIN_DIR, &n->d) != 0)
		return (int) n->d.count;
	n->have_cfg = true;
	if (xz_kernel_new(&n->k, &n->cfg, &n->d) != XZ_OK)
		return (int) n->d.count;
	xz_kernel_set_ext(n->k, xz_lua_kernel_ext());
	/* Its errors only: the config's warnings follow them in d. */
	return xz_kernel_load(n->k, &n->d);
}

/* Start the node; returns the xz_kernel_start result. */
static inline int
kt_start(kt_node *n)
{
	return xz_kernel_start(n->k, &n->d);
}

/* Graceful shutdown and free; the folder stays (kt_open again restarts
 * the node on the same data_dir). */
static inline void
kt_close(kt_node *n)
{
	xz_kernel_free(n->k);
	n->k = NULL;
	if (n->have_cfg)
		xz_config_free(&n->cfg);
	n->have_cfg = false;
	xz_diag_free(&n->d);
}

/* kt_close, then remove the folder. */
static inline void
kt_destroy(kt_node *n)
{
	kt_close(n);
	if (n->dir[0] != '\0')
		nftw(n->dir, kt_rm_one_, 16, FTW_DEPTH | FTW_PHYS);
	n->dir[0] = '\0';
}

/* Print the diagnostics (to understand a failing assertion). */
static inline void
kt_print_diag(const kt_node *n)
{
	for (size_t i = 0; i < n->d.count; i++)
		fprintf(stderr, "  diag: %s\n", n->d.lines[i]);
}

/* The log (stderr) of a stretch of a test, into a file. */
typedef struct kt_capture {
	int  saved;
	char path[256];
} kt_capture;

static inline void
kt_capture_begin(kt_capture *c, const char *path)
{
	int fd;

	fflush(stderr);
	size_t plen = strnlen(path, sizeof(c->path) - 1);
	memcpy(c->path, path, plen);
	c->path[plen] = '\0';
	c->saved      = dup(2);
	fd            = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (c->saved < 0 || fd < 0) {
		perror(path);
		abort();
	}
	dup2(fd, 2);
	close(fd);
}

/* Restore stderr; returns the captured text (the caller frees). */
static inline char *
kt_capture_end(kt_capture *c)
{
	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	return kt_read_file(c->path);
}

/*
 * A test actor: a plugin instance defined by the test program itself and
 * added with xz_kernel_add. Its callbacks only record what happens; tests
 * call the host table with its xz_plugin handle from the test thread (the
 * host table is thread-safe) and see results through its handlers.
 */
static inline int
kt_actor_init(xz_plugin *self, const xz_host *host, void **state)
{
	(void) self;
	(void) host;
	*state = NULL;
	return XZ_OK;
}

static inline void
kt_actor_fini(void *state)
{
	(void) state;
}

static const xz_plugin_desc kt_actor_desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name    = "kt_actor",
	.version = "1.0.0",
	.init    = kt_actor_init,
	.fini    = kt_actor_fini,
};

/* Add a test actor named name; returns its handle. */
static inline xz_plugin *
kt_add_actor(kt_node *n, const char *name)
{
	if (xz_kernel_add(n->k, name, &kt_actor_desc, &n->d) != XZ_OK)
		return NULL;
	return xz_kernel_find(n->k, name);
}

#endif
