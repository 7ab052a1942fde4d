/*
 * store.c - one SQLite database per plugin instance, under the node's
 * data directory: <data_dir>/<instance>.db, WAL mode, synchronous=NORMAL
 * (a committed transaction survives a process crash such as kill -9; WAL
 * with NORMAL may lose the last transactions only on power loss).
 *
 * Temporary storage (a sort or a temporary table larger than the cache, a
 * savepoint journal past SAVEPOINT_JOURNAL_MEM) is in files SQLite makes
 * and removes itself in the system's temporary folder (SQLITE_TMPDIR, else
 * /var/tmp, /usr/tmp, /tmp), not in memory: with temp_store=MEMORY SQLite
 * keeps a savepoint's journal in 1 KiB pieces, about 36 allocations for
 * each request of the prison's alarm flow (12 % of all the flow's).
 *
 * Opened on the VFS of walvfs.h, which writes each WAL commit in a few
 * large writes instead of two a page (walvfs.c; the default VFS when it
 * cannot be set up). Any other connection to the files may use the
 * default VFS.
 *
 * Opened on first use, so an idle plugin costs no file and no cache. The
 * connection is used only from the plugin's actor context, one thread at a
 * time, so it is opened with SQLITE_OPEN_NOMUTEX.
 *
 * Checkpoints (copying the WAL back into the database file, with its two
 * fsyncs) are not run by the committing worker: SQLite's auto-checkpoint
 * is replaced by a WAL hook that, each time the WAL has grown by
 * CKPT_PAGES pages, asks the kernel's checkpointer thread, which runs a
 * PASSIVE checkpoint on its own connection to that file (it never blocks
 * the plugin's writes; the plugin's next write transaction restarts the
 * WAL once all of it is copied). Should the WAL still reach CKPT_INLINE_PAGES
 * (the checkpointer behind, or never catching up between two commits), the
 * committing thread checkpoints itself, as SQLite would, so the WAL stays
 * bounded. Durability is the same either way: a commit is in the WAL
 * (and survives kill -9) when COMMIT returns; a checkpoint only moves
 * committed pages. The checkpointer's connection is closed before the
 * plugin's, so the plugin's close stays the last one, which checkpoints
 * everything and removes the WAL.
 *
 * Stores that cannot vanish silently (docs/operations.md, "The data
 * folder"): while a node runs it holds an exclusive flock on
 * <data_dir>/node.lock (which names its pid), so a second node on the same
 * folder is refused. <data_dir>/MANIFEST lists every store the node made:
 *
 *   xiezhi-manifest-v1
 *   store NAME ID GENERATION SCHEMA
 *
 * ID is a random identity also kept inside the store (table
 * xz_store_meta), GENERATION a counter moved forward in the store and
 * then in the manifest at every open and every clean close, SCHEMA the
 * store's schema_version. At start a listed store that is missing, has
 * another identity (replaced) or an older generation (an old copy put
 * back) is refused with its name, and every store must pass PRAGMA
 * quick_check. Folders are made 0700, files 0600.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernel/walvfs.h"
#include "kernel/kernel_priv.h"
#include "util/msg.h"
#include "util/fs.h"

typedef struct manifest_entry {
	char    name[128];
	char    id[33];
	int64_t gen;
	int64_t schema;
} manifest_entry;

struct xz_store_node {
	pthread_mutex_t mu; /* e, n and the file (isolated children's notes
	                       come from their supervisor threads) */
	int             lock_fd; /* -1: not locked */
	char           *dir; /* owned */
	manifest_entry *e; /* owned */
	size_t          n;
};

static void
manifest_path(const char *dir, char *out, size_t n)
{
	snprintf(out, n, "%s/MANIFEST", dir);
}

/* Read dir's manifest into e and n (e owned by the caller). 0 (no file:
 * empty), -1 malformed (err says where). */
static int
manifest_read(
    const char *dir, manifest_entry **e, size_t *n, char *err, size_t errlen)
{
	char  path[PATH_MAX], line[512];
	FILE *f;
	int   ln = 0;

	*e = NULL;
	*n = 0;
	manifest_path(dir, path, sizeof(path));
	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(
		    err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		manifest_entry m;
		long long      g, s;
		ln++;
		if (ln == 1) {
			if (strcmp(line, "xiezhi-manifest-v1\n") != 0)
				goto bad;
			continue;
		}
		memset(&m, 0, sizeof(m));
		if (sscanf(line, "store %127s %32s %lld %lld", m.name, m.id,
		        &g, &s)
		        != 4
		    || strlen(m.id) != 32)
			goto bad;
		m.gen                = g;
		m.schema             = s;
		manifest_entry *grow = realloc(*e, (*n + 1) * sizeof(**e));
		if (grow == NULL)
			goto bad;
		*e           = grow;
		(*e)[(*n)++] = m;
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	snprintf(err, errlen,
	    "%s:%d: not a store manifest line (expected \"store NAME ID "
	    "GENERATION SCHEMA\")",
	    path, ln);
	free(*e);
	*e = NULL;
	*n = 0;
	return -1;
}

/* Write the manifest atomically (temporary file, fsync, rename). */
static int
manifest_write(struct xz_store_node *sn)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	int  fd, ok = 1;

	manifest_path(sn->dir, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		return -1;
	}
	fputs("xiezhi-manifest-v1\n", f);
	for (size_t i = 0; i < sn->n; i++)
		fprintf(f, "store %s %s %lld %lld\n", sn->e[i].name,
		    sn->e[i].id, (long long) sn->e[i].gen,
		    (long long) sn->e[i].schema);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		ok = 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	if ((fd = open(sn->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void) fsync(fd);
		close(fd);
	}
	return 0;
}

static manifest_entry *
manifest_find(manifest_entry *e, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].name, name) == 0)
			return &e[i];
	return NULL;
}

/* The store's identity and generation (xz_store_meta): 1 found, 0 none,
 * -1 error. */
static int
meta_read(sqlite3 *db, char id[33], int64_t *gen)
{
	sqlite3_stmt *st = NULL;
	int           rc, found = 0;

	if (sqlite3_prepare_v2(db,
	        "SELECT id, gen FROM xz_store_meta WHERE k = 1", -1, &st, NULL)
	    != SQLITE_OK) {
		/* no table: a store made before manifests */
		return strstr(sqlite3_errmsg(db), "no such table") ? 0 : -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		snprintf(id, 33, "%s", t ? (const char *) t : "");
		*gen  = sqlite3_column_int64(st, 1);
		found = 1;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : -1;
}

static int64_t
schema_version(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int64_t       v  = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA schema_version", -1, &st, NULL)
	        == SQLITE_OK
	    && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* PRAGMA quick_check: 0 ok, else -1 with the first complaint in err. */
static int
quick_check(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int           rc;

	if (sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL)
	    != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		if (t != NULL && strcmp((const char *) t, "ok") == 0) {
			sqlite3_finalize(st);
			return 0;
		}
		snprintf(err, errlen, "%s", t ? (const char *) t : "?");
	} else {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	return -1;
}

/* Check one listed store of plugin `name` against its manifest entry m (or
 * NULL) and quick_check it. 0, or -1 with a sentence in err. */
static int
check_store(const char *dir, const char *name, const manifest_entry *m,
    char *err, size_t errlen)
{
	char     path[PATH_MAX], id[33] = "", why[256];
	int64_t  gen = 0;
	sqlite3 *db  = NULL;
	int      rc  = -1, found;

	snprintf(path, sizeof(path), "%s/%s.db", dir, name);
	if (access(path, F_OK) != 0) {
		if (m == NULL)
			return 0; /* never made: made on first use */
		snprintf(err, errlen,
		    xz_text("store %s of plugin '%s' is missing (the manifest "
		            "lists "
		            "it: "
		            "identity %s, generation %lld): restore it from a "
		            "backup "
		            "(docs/operations.md), or accept the loss on "
		            "record with the node running: xiezhi audit reset "
		            "--store %s --reason TEXT"),
		    path, name, m->id, (long long) m->gen, name);
		return -2;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL)
	    != SQLITE_OK) {
		snprintf(err, errlen,
		    xz_text("store %s of plugin '%s' cannot be opened: %s"),
		    path, name, db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, 5000);
	if (quick_check(db, why, sizeof(why)) != 0) {
		snprintf(err, errlen,
		    xz_text("store %s of plugin '%s' is damaged (PRAGMA "
		            "quick_check: "
		            "%s): restore it from a backup"),
		    path, name, why);
		goto out;
	}
	found = meta_read(db, id, &gen);
	if (found < 0) {
		snprintf(err, errlen, xz_text("store %s of plugin '%s': %s"),
		    path, name, sqlite3_errmsg(db));
		goto out;
	}
	if (m != NULL && (found == 0 || strcmp(id, m->id) != 0)) {
		snprintf(err, errlen,
		    xz_text("store %s of plugin '%s' was replaced: its "
		            "identity is "
		            "%s, "
		            "the manifest says %s: restore the right file, or "
		            "delete "
		            "its line from %s/MANIFEST to adopt this one"),
		    path, name, found ? id : "(none)", m->id, dir);
		goto out;
	}
	if (m != NULL && gen < m->gen) {
		snprintf(err, errlen,
		    xz_text(
		        "store %s of plugin '%s' was rolled back: it is at "
		        "generation %lld, the manifest says %lld (an older "
		        "copy "
		        "was "
		        "put back): restore the latest backup, or delete its "
		        "line "
		        "from %s/MANIFEST to accept the loss"),
		    path, name, (long long) gen, (long long) m->gen, dir);
		goto out;
	}
	rc = 0;
out:
	sqlite3_close(db);
	return rc;
}

/* Remember plugin name as held (its listed store is missing), with the
 * sentence that says so. 0 or -1 (no memory). */
static int
store_hold(xz_kernel *k, const char *name, const char *why)
{
	struct xz_store_held *h = calloc(1, sizeof(*h));

	if (h == NULL || (h->name = strdup(name)) == NULL
	    || (h->why = strdup(why)) == NULL) {
		if (h != NULL) {
			free(h->name);
			free(h);
		}
		return -1;
	}
	h->next = k->held;
	k->held = h;
	return 0;
}

const char *
xz_store_held(xz_kernel *k, const char *name)
{
	for (struct xz_store_held *h = k->held; h != NULL; h = h->next)
		if (strcmp(h->name, name) == 0)
			return h->why;
	return NULL;
}

void
xz_store_held_free(xz_kernel *k)
{
	while (k->held != NULL) {
		struct xz_store_held *h = k->held;
		k->held                 = h->next;
		free(h->name);
		free(h->why);
		free(h);
	}
}

int
xz_store_manifest_get(
    xz_kernel *k, const char *name, char id[33], int64_t *gen)
{
	struct xz_store_node *sn = k->storenode;
	manifest_entry       *m;

	if (sn == NULL)
		return 0;
	pthread_mutex_lock(&sn->mu);
	m = manifest_find(sn->e, sn->n, name);
	if (m != NULL) {
		snprintf(id, 33, "%s", m->id);
		*gen = m->gen;
	}
	pthread_mutex_unlock(&sn->mu);
	return m != NULL;
}

int
xz_store_manifest_drop(xz_kernel *k, const char *name, const char *id)
{
	struct xz_store_node *sn = k->storenode;
	int                   rc = 1;

	if (sn == NULL)
		return 1;
	pthread_mutex_lock(&sn->mu);
	for (size_t i = 0; i < sn->n; i++) {
		if (strcmp(sn->e[i].name, name) != 0
		    || strcmp(sn->e[i].id, id) != 0)
			continue;
		manifest_entry was = sn->e[i];
		memmove(&sn->e[i], &sn->e[i + 1],
		    (sn->n - i - 1) * sizeof(*sn->e));
		sn->n--;
		if (manifest_write(sn) != 0) {
			/* the file still lists it: so does the node */
			memmove(&sn->e[i + 1], &sn->e[i],
			    (sn->n - i) * sizeof(*sn->e));
			sn->e[i] = was;
			sn->n++;
			rc = -1;
		} else {
			rc = 0;
		}
		break;
	}
	pthread_mutex_unlock(&sn->mu);
	return rc;
}

int
xz_store_check_all(xz_kernel *k, xz_diag *d)
{
	const xz_config *c = k->cfg;
	manifest_entry  *e = NULL;
	size_t           n = 0;
	char             err[1024];
	int              errors = 0;

	if (c == NULL || c->data_dir == NULL || access(c->data_dir, F_OK) != 0)
		return 0;
	if (manifest_read(c->data_dir, &e, &n, err, sizeof(err)) != 0) {
		xz_diag_add(d, NULL, 0, "%s", err);
		return 1;
	}
	for (size_t i = 0; i < k->nplugins; i++) {
		const char *name = k->plugins[i]->name;
		int         rc   = check_store(c->data_dir, name,
		              manifest_find(e, n, name), err, sizeof(err));
		if (rc == -2 && k->hold_lost) {
			/* A running node holds the plugin instead (kernel.c):
			 * `xiezhi audit reset` accepts the loss, on record. */
			if (store_hold(k, name, err) != 0) {
				xz_diag_add(d, NULL, 0, "out of memory");
				errors++;
			}
		} else if (rc != 0) {
			xz_diag_add(d, NULL, 0, "%s", err);
			errors++;
		}
	}
	free(e);
	return errors;
}

int
xz_store_node_open(xz_kernel *k, xz_diag *d)
{
	const xz_config      *c = k->cfg;
	struct xz_store_node *sn;
	char                  path[PATH_MAX], err[512];

	if (c == NULL || c->data_dir == NULL || k->storenode != NULL)
		return 0;
	if (xz_mkdirs(c->data_dir, 0700) != 0) {
		xz_diag_add(d, NULL, 0, "cannot create data_dir %s: %s",
		    c->data_dir, strerror(errno));
		return 1;
	}
	(void) chmod(c->data_dir, 0700);
	if ((sn = calloc(1, sizeof(*sn))) == NULL
	    || (sn->dir = strdup(c->data_dir)) == NULL) {
		free(sn);
		xz_diag_add(d, NULL, 0, "out of memory");
		return 1;
	}
	pthread_mutex_init(&sn->mu, NULL);
	snprintf(path, sizeof(path), "%s/node.lock", c->data_dir);
	sn->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (sn->lock_fd < 0) {
		xz_diag_add(
		    d, NULL, 0, "cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	if (flock(sn->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		char    pid[32] = "";
		ssize_t r       = pread(sn->lock_fd, pid, sizeof(pid) - 1, 0);
		pid[r > 0 ? r : 0]        = '\0';
		pid[strcspn(pid, "\r\n")] = '\0';
		xz_diag_add(d, NULL, 0,
		    "data folder %s is in use by another node (pid %s holds "
		    "%s): stop it first, or give this node its own data_dir",
		    c->data_dir, pid[0] ? pid : "?", path);
		goto fail;
	}
	{
		char pid[32];
		int len = snprintf(pid, sizeof(pid), "%ld\n", (long) getpid());
		if (ftruncate(sn->lock_fd, 0) != 0
		    || pwrite(sn->lock_fd, pid, (size_t) len, 0) != len)
			xz_log(XZ_LOG_WARN, "kernel",
			    "cannot write the pid into %s", path);
	}
	if (manifest_read(c->data_dir, &sn->e, &sn->n, err, sizeof(err))
	    != 0) {
		xz_diag_add(d, NULL, 0, "%s", err);
		goto fail;
	}
	k->storenode = sn;
	return 0;
fail:
	if (sn->lock_fd >= 0)
		close(sn->lock_fd);
	pthread_mutex_destroy(&sn->mu);
	free(sn->e);
	free(sn->dir);
	free(sn);
	return 1;
}

void
xz_store_node_close(xz_kernel *k)
{
	struct xz_store_node *sn = k->storenode;

	if (sn == NULL)
		return;
	k->storenode = NULL;
	if (sn->lock_fd >= 0)
		close(sn->lock_fd); /* releases the flock */
	pthread_mutex_destroy(&sn->mu);
	free(sn->e);
	free(sn->dir);
	free(sn);
}

static int
manifest_lists(struct xz_store_node *sn, const char *name)
{
	int found;

	pthread_mutex_lock(&sn->mu);
	found = manifest_find(sn->e, sn->n, name) != NULL;
	pthread_mutex_unlock(&sn->mu);
	return found;
}

/* List (or move on) name's store in the manifest and write it. With
 * same_id, a listed store whose identity differs is refused (logged): a
 * child made it anew, which the node does not adopt silently. */
static int
manifest_set(xz_kernel *k, const char *name, const char *id, int64_t gen,
    int64_t schema, int same_id)
{
	struct xz_store_node *sn = k->storenode;
	manifest_entry       *m;
	int                   rc = 0;

	if (sn == NULL)
		return 0;
	pthread_mutex_lock(&sn->mu);
	m = manifest_find(sn->e, sn->n, name);
	if (m != NULL && same_id && strcmp(m->id, id) != 0) {
		xz_log(XZ_LOG_ERROR, name,
		    "store: %s/%s.db has the identity %s, %s/MANIFEST lists "
		    "%s: not adopted (restore the right file, or delete its "
		    "line from the MANIFEST)",
		    sn->dir, name, id, sn->dir, m->id);
		pthread_mutex_unlock(&sn->mu);
		return -1;
	}
	if (m == NULL) {
		manifest_entry *grow
		    = realloc(sn->e, (sn->n + 1) * sizeof(*grow));
		if (grow == NULL) {
			pthread_mutex_unlock(&sn->mu);
			return -1;
		}
		sn->e = grow;
		m     = &sn->e[sn->n++];
		memset(m, 0, sizeof(*m));
		snprintf(m->name, sizeof(m->name), "%s", name);
	}
	snprintf(m->id, sizeof(m->id), "%s", id);
	m->gen    = gen;
	m->schema = schema;
	if (manifest_write(sn) != 0) {
		xz_log(XZ_LOG_ERROR, name,
		    "store: cannot write %s/MANIFEST: %s", sn->dir,
		    strerror(errno));
		rc = -1;
	}
	pthread_mutex_unlock(&sn->mu);
	return rc;
}

int
xz_store_manifest_note(xz_kernel *k, const char *name, const char *id,
    int64_t gen, int64_t schema)
{
	return manifest_set(k, name, id, gen, schema, 1);
}

/* Move the store's generation forward, in the store and then in the
 * manifest (in that order: a crash in between leaves the store ahead,
 * which is accepted). 0 or -1 (logged). */
static int
generation_bump(xz_plugin *p, int creating)
{
	struct xz_store_node *sn     = p->k->storenode;
	char                  id[33] = "";
	int64_t               gen    = 0;
	char                 *err    = NULL;
	int                   found;

	if (sn == NULL && p->k->store_note == NULL)
		return 0; /* no manifest kept (an embedded kernel) */
	found = meta_read(p->db, id, &gen);
	if (found < 0)
		goto sqlerr;
	if (found == 0) {
		uint8_t r[16];
		if (getrandom(r, sizeof(r), 0) != (ssize_t) sizeof(r))
			return -1;
		for (int i = 0; i < 16; i++)
			snprintf(id + 2 * i, 3, "%02x", r[i]);
		gen = 0;
		if (sqlite3_exec(p->db,
		        "CREATE TABLE IF NOT EXISTS xz_store_meta(k INTEGER "
		        "PRIMARY KEY CHECK (k = 1), id TEXT NOT NULL, gen "
		        "INTEGER NOT NULL)",
		        NULL, NULL, &err)
		    != SQLITE_OK)
			goto sqlerr;
	}
	gen++;
	{
		char sql[160];
		snprintf(sql, sizeof(sql),
		    "INSERT INTO xz_store_meta(k, id, gen) VALUES (1, '%s', "
		    "%lld) ON CONFLICT(k) DO UPDATE SET gen = excluded.gen",
		    id, (long long) gen);
		if (sqlite3_exec(p->db, sql, NULL, NULL, &err) != SQLITE_OK)
			goto sqlerr;
	}
	(void) creating;
	if (sn == NULL) { /* the child of an isolated plugin */
		p->k->store_note(p, id, gen, schema_version(p->db));
		return 0;
	}
	return manifest_set(p->k, p->name, id, gen, schema_version(p->db), 0);
sqlerr:
	xz_log(XZ_LOG_ERROR, p->name, "store: generation: %s",
	    err ? err : sqlite3_errmsg(p->db));
	sqlite3_free(err);
	return -1;
}

/* ---- background checkpoints -------------------------------------- */

/* WAL pages (of the page size, 4 KiB by default): the checkpointer is
 * asked each time the WAL has grown by CKPT_PAGES (SQLite's own
 * auto-checkpoint default), and the committing thread checkpoints itself
 * from CKPT_INLINE_PAGES. */
#define CKPT_PAGES 1000
#define CKPT_INLINE_PAGES 8000

struct xz_ckpt_store {
	struct xz_ckpt_store *next;
	char                 *path; /* owned */
	sqlite3              *db; /* owned: the checkpointer's connection,
	                             opened at its first checkpoint */
	atomic_bool      asked; /* a checkpoint is wanted */
	bool             running; /* under mu: being checkpointed */
	atomic_bool      broken; /* db cannot be opened */
	xz_commit_stats *stats; /* the plugin's (borrowed, until detach) */
	int asked_at; /* WAL pages at the last ask (committing thread only) */
};

struct xz_ckpt {
	pthread_mutex_t       mu;
	pthread_cond_t        cv; /* asked, or stop */
	pthread_cond_t        done_cv; /* a checkpoint finished */
	pthread_t             th;
	bool                  started, stop; /* under mu */
	struct xz_ckpt_store *stores; /* owned list, under mu */
};

/* A savepoint's journal (the pages a request changes, as they were before
 * it: a plugin that groups a batch of requests in one transaction takes a
 * savepoint per request) stays in memory up to this size, in one
 * allocation; past it, it goes on in a temporary file. An alarm step
 * journals about 16 pages (SQLite's default limit, 64 KiB, made most of
 * them spill). Not more: SQLite 3.40 (Debian 12's) fails a journal that
 * spills past a limit above about 128 KB with SQLITE_FULL ("database or
 * disk is full"), which test_kernel.test_store_savepoint_journal would
 * show. */
#define SAVEPOINT_JOURNAL_MEM (128 * 1024)

/* SQLite's process-wide settings, once, before its first use: no memory
 * statistics (with them every sqlite3_malloc and sqlite3_free of every
 * connection takes one global mutex, which the node's workers contended
 * for on each change; nothing here reads those statistics), and the
 * savepoint journal's size in memory. When SQLite was already initialised
 * (a host program that used it first), the calls are refused and the
 * defaults stay: only slower. */
static const char *store_vfs; /* walvfs.h; NULL: the default VFS */

static void
sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, SAVEPOINT_JOURNAL_MEM);
	store_vfs = xz_walvfs_register();
}

int
xz_store_ckpt_new(xz_kernel *k)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct xz_ckpt       *c;

	pthread_once(&once, sqlite_setup);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	pthread_cond_init(&c->done_cv, NULL);
	k->ckpt = c;
	return 0;
}

/* The checkpointer's connection to s's file (opened on first use), or
 * NULL: it cannot be opened (said once; the committing thread then
 * checkpoints at CKPT_INLINE_PAGES). */
static sqlite3 *
ckpt_db(struct xz_ckpt_store *s)
{
	if (s->db != NULL || atomic_load(&s->broken))
		return s->db;
	/* The read opens the WAL (a checkpoint on a connection that never
	 * read may not see it); synchronous=NORMAL as the plugin's: the
	 * checkpoint syncs the WAL, then the database. */
	if (sqlite3_open_v2(s->path, &s->db,
	        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL)
	        != SQLITE_OK
	    || sqlite3_exec(s->db,
	           "PRAGMA synchronous=NORMAL; PRAGMA schema_version;", NULL,
	           NULL, NULL)
	        != SQLITE_OK) {
		xz_log(XZ_LOG_WARN, "kernel",
		    "store: cannot open %s to checkpoint it in the "
		    "background: "
		    "%s (its plugin's thread checkpoints it)",
		    s->path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sqlite3_close(s->db);
		s->db = NULL;
		atomic_store(&s->broken, true);
	}
	return s->db;
}

static void *
ckpt_main(void *arg)
{
	struct xz_ckpt *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		struct xz_ckpt_store **pp = &c->stores, *s;
		while (*pp != NULL && !atomic_load(&(*pp)->asked))
			pp = &(*pp)->next;
		if ((s = *pp) == NULL) {
			if (c->stop)
				break;
			pthread_cond_wait(&c->cv, &c->mu);
			continue;
		}
		/* to the back of the list: a busy store does not starve the
		 * others */
		*pp     = s->next;
		s->next = NULL;
		for (pp = &c->stores; *pp != NULL; pp = &(*pp)->next)
			;
		*pp        = s;
		s->running = true;
		/* cleared before the checkpoint: a commit during it asks
		 * again */
		atomic_store(&s->asked, false);
		pthread_mutex_unlock(&c->mu);
		sqlite3 *db = ckpt_db(s);
		/* PASSIVE: never waits for the plugin's writes (SQLITE_BUSY
		 * when another checkpoint runs: the next commit asks again) */
		if (db != NULL
		    && sqlite3_wal_checkpoint_v2(
		           db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL)
		        == SQLITE_OK)
			atomic_fetch_add_explicit(&s->stats->ckpt_background,
			    1, memory_order_relaxed);
		pthread_mutex_lock(&c->mu);
		s->running = false;
		pthread_cond_broadcast(&c->done_cv);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* Enter path in the checkpointer (its thread started with the first):
 * the entry, or NULL (no checkpointer, no memory, no thread: the store
 * keeps SQLite's auto-checkpoint). */
static struct xz_ckpt_store *
ckpt_attach(xz_plugin *p, const char *path)
{
	xz_kernel            *k = p->k;
	struct xz_ckpt       *c = k->ckpt;
	struct xz_ckpt_store *s;

	if (c == NULL || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->path = strdup(path)) == NULL) {
		free(s);
		return NULL;
	}
	s->stats = &p->commits;
	pthread_mutex_lock(&c->mu);
	if (!c->started && !c->stop
	    && pthread_create(&c->th, NULL, ckpt_main, c) == 0)
		c->started = true;
	if (!c->started) {
		pthread_mutex_unlock(&c->mu);
		free(s->path);
		free(s);
		return NULL;
	}
	s->next   = c->stores;
	c->stores = s;
	pthread_mutex_unlock(&c->mu);
	return s;
}

/* Take s out of the checkpointer (after its running checkpoint) and close
 * its connection. */
static void
ckpt_detach(xz_kernel *k, struct xz_ckpt_store *s)
{
	struct xz_ckpt *c = k->ckpt;

	pthread_mutex_lock(&c->mu);
	while (s->running)
		pthread_cond_wait(&c->done_cv, &c->mu);
	struct xz_ckpt_store **pp = &c->stores;
	while (*pp != NULL && *pp != s)
		pp = &(*pp)->next;
	if (*pp != NULL)
		*pp = s->next;
	pthread_mutex_unlock(&c->mu);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

void
xz_store_ckpt_free(xz_kernel *k)
{
	struct xz_ckpt *c = k->ckpt;

	if (c == NULL)
		return;
	k->ckpt = NULL;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (c->started)
		pthread_join(c->th, NULL);
	/* every store was closed (and detached) before */
	while (c->stores != NULL) {
		struct xz_ckpt_store *s = c->stores;
		c->stores               = s->next;
		sqlite3_close(s->db);
		free(s->path);
		free(s);
	}
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	pthread_cond_destroy(&c->done_cv);
	free(c);
}

const uint32_t xz_commit_le_us[XZ_COMMIT_BUCKETS] = { 100, 250, 500, 1000,
	2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000 };

/* SQLite's commit hook, on the committing thread as a write transaction
 * starts to commit: the time, for on_wal (0: not committing). */
static int
on_commit(void *ctx)
{
	xz_plugin      *p = ctx;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	p->commit_t0
	    = (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
	return 0; /* commit */
}

/* A commit that ended (in the WAL), timed from its on_commit. A commit
 * that failed has no WAL hook: the next on_commit overwrites its time. */
static void
commit_timed(xz_plugin *p)
{
	struct timespec ts;
	uint64_t        d;
	size_t          i = 0;

	if (p->commit_t0 == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	d = (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec
	    - p->commit_t0;
	p->commit_t0 = 0;
	while (i < XZ_COMMIT_BUCKETS && d / 1000u > xz_commit_le_us[i])
		i++;
	atomic_fetch_add_explicit(&p->commits.le[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->commits.ns_sum, d, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->commits.n, 1, memory_order_relaxed);
}

/* SQLite's WAL hook, on the committing thread after each commit: pages is
 * the WAL's size. */
static int
on_wal(void *ctx, sqlite3 *db, const char *dbname, int pages)
{
	xz_plugin            *p = ctx;
	struct xz_ckpt_store *s = p->ckpt;

	commit_timed(p);
	if (pages < CKPT_PAGES)
		return SQLITE_OK;
	if (s == NULL || atomic_load_explicit(&s->broken, memory_order_relaxed)
	    || pages >= CKPT_INLINE_PAGES) {
		/* what SQLite's auto-checkpoint does */
		(void) sqlite3_wal_checkpoint_v2(
		    db, dbname, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		atomic_fetch_add_explicit(
		    &p->commits.ckpt_inline, 1, memory_order_relaxed);
		return SQLITE_OK;
	}
	/* once per CKPT_PAGES new pages (a restarted WAL counts from 0):
	 * each checkpoint copies about as much as SQLite's would */
	if (pages < s->asked_at)
		s->asked_at = 0;
	if (pages - s->asked_at < CKPT_PAGES)
		return SQLITE_OK;
	s->asked_at = pages;
	if (!atomic_load_explicit(&s->asked, memory_order_relaxed)
	    && !atomic_exchange(&s->asked, true)) {
		struct xz_ckpt *c = p->k->ckpt;
		pthread_mutex_lock(&c->mu);
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	return SQLITE_OK;
}

struct sqlite3 *
xz_store_open(xz_plugin *p)
{
	const xz_config      *c  = p->k->cfg;
	struct xz_store_node *sn = p->k->storenode;
	char                  path[PATH_MAX];
	sqlite3              *db  = NULL;
	char                 *err = NULL;
	int                   fd, created = 0;

	if (p->db != NULL)
		return p->db;
	if (c == NULL || c->data_dir == NULL) {
		xz_log(XZ_LOG_ERROR, p->name, "store: no data_dir");
		return NULL;
	}
	if (xz_mkdirs(c->data_dir, 0700) != 0) {
		xz_log(XZ_LOG_ERROR, p->name,
		    "store: cannot create data_dir %s: %s", c->data_dir,
		    strerror(errno));
		return NULL;
	}
	if ((size_t) snprintf(
	        path, sizeof(path), "%s/%s.db", c->data_dir, p->name)
	    >= sizeof(path))
		return NULL;
	/* A listed store that is gone is never silently made anew. */
	if (sn != NULL && access(path, F_OK) != 0
	    && manifest_lists(sn, p->name)) {
		xz_log(XZ_LOG_ERROR, p->name,
		    "store: %s is missing but %s/MANIFEST lists it; not "
		    "making an empty one",
		    path, c->data_dir);
		return NULL;
	}
	/* Made 0600 before SQLite opens it (its -wal and -shm files take
	 * the database file's mode). */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		created = 1;
		close(fd);
	} else {
		(void) chmod(path, 0600);
	}
	if (sqlite3_open_v2(path, &db,
	        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
	            | SQLITE_OPEN_NOMUTEX,
	        store_vfs)
	    != SQLITE_OK) {
		xz_log(XZ_LOG_ERROR, p->name, "store: cannot open %s: %s",
		    path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db,
	        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
	        "PRAGMA foreign_keys=ON; PRAGMA temp_store=FILE;",
	        NULL, NULL, &err)
	    != SQLITE_OK) {
		xz_log(XZ_LOG_ERROR, p->name, "store: %s: %s", path,
		    err ? err : "pragma failed");
		sqlite3_free(err);
		sqlite3_close(db);
		return NULL;
	}
	p->db = db;
	/* commit times, from SQLite's commit hook to its WAL hook (not a
	 * statement profile, which would read the clock at every statement) */
	sqlite3_commit_hook(db, on_commit, p);
	/* replaces SQLite's auto-checkpoint (which is its WAL hook) */
	p->ckpt = ckpt_attach(p, path);
	sqlite3_wal_hook(db, on_wal, p);
	if (generation_bump(p, created) != 0) {
		if (p->ckpt != NULL)
			ckpt_detach(p->k, p->ckpt);
		p->ckpt = NULL;
		sqlite3_close(db);
		p->db = NULL;
		return NULL;
	}
	return db;
}

void
xz_store_close(xz_plugin *p)
{
	if (p->db != NULL) {
		/* Finalize whatever statements the plugin forgot. */
		sqlite3_stmt *st;
		while ((st = sqlite3_next_stmt(p->db, NULL)) != NULL)
			sqlite3_finalize(st);
		/* A clean close moves the generation on: a copy taken while
		 * the node ran is older than what the manifest says. */
		if (sqlite3_get_autocommit(p->db))
			(void) generation_bump(p, 0);
		/* The checkpointer's connection first: the plugin's is then
		 * the last, whose close checkpoints all and removes the WAL.
		 */
		if (p->ckpt != NULL)
			ckpt_detach(p->k, p->ckpt);
		p->ckpt = NULL;
		sqlite3_close(p->db);
		p->db = NULL;
	}
}
