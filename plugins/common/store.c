/* store.c - records and their history in the plugin's SQLite database. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kjson.h"
#include "store.h"

static const char *const schema
    = "CREATE TABLE IF NOT EXISTS records("
      " kind TEXT NOT NULL, id TEXT NOT NULL, state TEXT NOT NULL,"
      " location TEXT, level INTEGER, due_ms INTEGER NOT NULL DEFAULT 0,"
      " owner TEXT, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
      " data TEXT NOT NULL, PRIMARY KEY(kind, id)) WITHOUT ROWID;"
      /* Each index costs every write of a record an entry, so only the
       * one a statement here searches is kept: records_due, for re-arming
       * the due clocks at start. records_state and records_owner, which
       * older stores have, are dropped: no statement was ever planned on
       * them (a term "?2 IS NULL OR state=?2" cannot search an index, and
       * the statistics read every record of their kind anyway), so lists
       * and counts read the records of their kind as they did. */
      "DROP INDEX IF EXISTS records_state;"
      "DROP INDEX IF EXISTS records_owner;"
      "CREATE INDEX IF NOT EXISTS records_due ON records(kind, due_ms)"
      " WHERE due_ms > 0;"
      /* A record's history is read by its kind and id, in the order it
       * was written (seq): keyed so, it needs no second index, which
       * every row written cost an entry. seq is the store's (hist_seq in
       * store.h). A store made before 2026-12-03 keeps its history
       * table (seq its rowid) and index history_rec: the statements
       * below serve both. */
      "CREATE TABLE IF NOT EXISTS history("
      " seq INTEGER NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,"
      " action TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL,"
      " who TEXT NOT NULL, role TEXT, at_ms INTEGER NOT NULL, why TEXT,"
      " agency TEXT, PRIMARY KEY(kind, id, seq)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS seq(kind TEXT PRIMARY KEY,"
      " n INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS clocks(kind TEXT NOT NULL,"
      " id TEXT NOT NULL, clock TEXT NOT NULL, due_ms INTEGER NOT NULL,"
      " status TEXT NOT NULL, PRIMARY KEY(kind, id, clock)) WITHOUT ROWID;"
      "CREATE INDEX IF NOT EXISTS clocks_pending ON clocks(status, due_ms);";

static const char *const sql[KIT_ST_N] = {
	[KIT_ST_BEGIN]    = "BEGIN IMMEDIATE",
	[KIT_ST_COMMIT]   = "COMMIT",
	[KIT_ST_ROLLBACK] = "ROLLBACK",
	[KIT_ST_INSERT]   = "INSERT INTO records(kind, id, state, location,"
	                    " level, due_ms, owner, created_ms, updated_ms,"
	                    " data) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
	[KIT_ST_UPDATE]   = "UPDATE records SET state=?3, location=?4,"
	                    " level=?5, due_ms=?6, owner=?7, updated_ms=?9,"
	                    " data=?10 WHERE kind=?1 AND id=?2",
	[KIT_ST_GET]      = "SELECT data FROM records WHERE kind=?1 AND id=?2",
	[KIT_ST_HIST_ADD] = "INSERT INTO history(kind, id, action, from_state,"
	                    " to_state, who, role, at_ms, why, agency, seq)"
	                    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
	[KIT_ST_HIST_GET] = "SELECT action, from_state, to_state, who, role,"
	                    " agency, at_ms, why FROM history"
	                    " WHERE kind=?1 AND id=?2 ORDER BY seq",
	[KIT_ST_SEQ]      = "INSERT INTO seq(kind, n) VALUES(?1, 1)"
	                    " ON CONFLICT(kind) DO UPDATE SET n = n + 1"
	                    " RETURNING n",
	/* only from the number the store remembers (?3): a row changed
	 * or removed meanwhile changes nothing */
	[KIT_ST_SEQ_SET] = "UPDATE seq SET n = ?2 WHERE kind = ?1 AND n = ?3",
	[KIT_ST_LIST]
	= "SELECT data FROM records WHERE kind=?1"
	  " AND (?2 IS NULL OR state=?2)"
	  " AND (?3 IS NULL OR location=?3"
	  "      OR substr(location, 1, length(?3) + 1) = ?3 || '.')"
	  " AND (?4 IS NULL OR owner=?4)"
	  " ORDER BY id LIMIT ?5 OFFSET ?6",
	[KIT_ST_COUNT]
	= "SELECT count(*) FROM records WHERE kind=?1"
	  " AND (?2 IS NULL OR state=?2)"
	  " AND (?3 IS NULL OR location=?3"
	  "      OR substr(location, 1, length(?3) + 1) = ?3 || '.')"
	  " AND (?4 IS NULL OR owner=?4)",
	[KIT_ST_DUE] = "SELECT data FROM records WHERE kind=?1 AND due_ms > 0"
	               " ORDER BY due_ms",
	[KIT_ST_SAVEPOINT]   = "SAVEPOINT req",
	[KIT_ST_RELEASE]     = "RELEASE req",
	[KIT_ST_ROLLBACK_TO] = "ROLLBACK TO req",
	[KIT_ST_STATS]
	= "SELECT state, coalesce(level, 0), count(*) FROM records"
	  " WHERE kind=?1 GROUP BY state, level",
	[KIT_ST_CLOCK_ADD] = "INSERT OR IGNORE INTO clocks(kind, id, clock,"
	                     " due_ms, status) VALUES(?1,?2,?3,?4,'PENDING')",
	[KIT_ST_CLOCK_SET] = "UPDATE clocks SET status=?4 WHERE kind=?1"
	                     " AND id=?2 AND (?3 IS NULL OR clock=?3)"
	                     " AND status='PENDING'",
	[KIT_ST_CLOCK_NEXT]
	= "SELECT min(due_ms) FROM clocks WHERE status='PENDING'",
	[KIT_ST_CLOCK_DUE] = "SELECT kind, id, clock, due_ms FROM clocks"
	                     " WHERE status='PENDING' AND due_ms <= ?1"
	                     " ORDER BY due_ms, kind, id, clock",
	[KIT_ST_CLOCK_LIST]
	= "SELECT clock, due_ms, status FROM clocks"
	  " WHERE kind=?1 AND id=?2 ORDER BY due_ms, clock",
	[KIT_ST_HSEQ_SET] = "INSERT INTO seq(kind, n) VALUES('#history', ?1)"
	                    " ON CONFLICT(kind) DO UPDATE SET"
	                    " n = max(n, excluded.n)",
};

/* A kept decoded record (store.h: cache): key is the kind, '\0', then
 * the id (malloc'd); both owned by the slot. */
struct kit_cached {
	char   *key;
	json_t *rec;
	/* or, for a kind kept as text, its JSON text (len bytes and a NUL,
	 * cap allocated; kept, with the key's block, across a drop of the
	 * same slot's text for the next) */
	char  *text;
	size_t len, cap;
};

/* The slot of kind and id: FNV-1a of both. */
static size_t
cache_slot(const char *kind, const char *id)
{
	uint64_t h = 14695981039346656037ull;

	for (const char *p = kind; *p; p++)
		h = (h ^ (uint8_t) *p) * 1099511628211ull;
	h = (h ^ 0xffu) * 1099511628211ull;
	for (const char *p = id; *p; p++)
		h = (h ^ (uint8_t) *p) * 1099511628211ull;
	return (size_t) (h % KIT_CACHE_SLOTS);
}

static void
cache_drop(struct kit_cached *e)
{
	free(e->key);
	json_decref(e->rec);
	free(e->text);
	memset(e, 0, sizeof(*e));
}

/* Forget every kept record (a rollback, a failed statement). */
static void
cache_clear(kit_store *st)
{
	if (st->cache == NULL)
		return;
	for (size_t i = 0; i < KIT_CACHE_SLOTS; i++)
		if (st->cache[i].key != NULL)
			cache_drop(&st->cache[i]);
}

/* Forget every sequence slot (the transaction that numbers were taken
 * in is gone: the rows are read again). */
static void
seq_forget(kit_store *st)
{
	memset(st->seq, 0, sizeof(st->seq));
}

/* SQLite rolled the open transaction back on its own (a failed
 * statement): what was kept of it goes. */
static int
tx_lost(kit_store *st)
{
	if (!st->in_tx || !sqlite3_get_autocommit(st->db))
		return 0;
	cache_clear(st);
	seq_forget(st);
	return 1;
}

/* A request begins: what its numbers are given back to. */
static void
seq_mark(kit_store *st)
{
	for (int i = 0; i < KIT_SEQ_KINDS; i++)
		st->seq[i].n_req = st->seq[i].n;
}

/* A request is refused (its writes undone or never made): its numbers
 * are given back; a slot it learned goes with its savepoint. */
static void
seq_restore(kit_store *st)
{
	for (int i = 0; i < KIT_SEQ_KINDS; i++) {
		if (st->seq[i].kind == NULL)
			continue;
		if (st->seq[i].n_req < 0)
			st->seq[i].kind = NULL;
		else
			st->seq[i].n = st->seq[i].n_req;
	}
}

/* The slot of kind's sequence (kind NULL: a free slot), or -1. */
static int
seq_slot(kit_store *st, const char *kind)
{
	for (int i = 0; i < KIT_SEQ_KINDS; i++) {
		const char *k = st->seq[i].kind;
		if (kind == NULL
		        ? k == NULL
		        : k != NULL && (k == kind || strcmp(k, kind) == 0))
			return i;
	}
	return -1;
}

/* Whether records of kind are kept: 0 (no), 1 (decoded), 2 (as text). */
static int
cache_kept(kit_store *st, const char *kind)
{
	if (st->cache == NULL)
		return 0;
	for (int i = 0; i < KIT_CACHE_KINDS && st->cache_kinds[i]; i++)
		if (st->cache_kinds[i] == kind
		    || strcmp(st->cache_kinds[i], kind) == 0)
			return st->cache_text[i] ? 2 : 1;
	return 0;
}

static int
cache_kind(kit_store *st, const char *kind, int text)
{
	for (int i = 0; i < KIT_CACHE_KINDS; i++) {
		if (st->cache_kinds[i] == NULL) {
			st->cache_kinds[i] = kind;
			st->cache_text[i]  = text;
		}
		if (strcmp(st->cache_kinds[i], kind) == 0)
			return st->cache_text[i] == text ? 0 : -1;
	}
	return -1;
}

int
kit_store_cache_kind(kit_store *st, const char *kind)
{
	return cache_kind(st, kind, 0);
}

int
kit_store_cache_text(kit_store *st, const char *kind)
{
	return cache_kind(st, kind, 1);
}

/* The slot of kind and id when it holds that record, else NULL. */
static struct kit_cached *
cache_find(kit_store *st, const char *kind, const char *id)
{
	struct kit_cached *e;
	size_t             n;

	if (id == NULL || !cache_kept(st, kind))
		return NULL;
	if (tx_lost(st)) /* SQLite rolled it back by itself */
		return NULL;
	e = &st->cache[cache_slot(kind, id)];
	n = strlen(kind);
	if (e->key == NULL || memcmp(e->key, kind, n + 1) != 0
	    || strcmp(e->key + n + 1, id) != 0)
		return NULL;
	return e;
}

/* Keep a copy of rec as the record kind/id (what the database now holds
 * in the open transaction). Whatever the slot held goes; when the copy
 * cannot be made the slot stays empty. */
static void
cache_put(kit_store *st, const char *kind, const char *id, json_t *rec)
{
	struct kit_cached *e;
	size_t             nk, ni;

	if (id == NULL || cache_kept(st, kind) != 1)
		return;
	e = &st->cache[cache_slot(kind, id)];
	cache_drop(e);
	nk     = strlen(kind);
	ni     = strlen(id);
	e->key = malloc(nk + ni + 2);
	e->rec = json_deep_copy(rec);
	if (e->key == NULL || e->rec == NULL) {
		cache_drop(e);
		return;
	}
	memcpy(e->key, kind, nk + 1);
	memcpy(e->key + nk + 1, id, ni + 1);
}

/* Keep text (len bytes, NUL-terminated) as the record kind/id of a kind
 * kept as text (what the database now holds in the open transaction).
 * Whatever the slot held goes; when the copy cannot be made the slot
 * stays empty. */
static void
cache_put_text(kit_store *st, const char *kind, const char *id,
    const char *text, size_t len)
{
	struct kit_cached *e;
	size_t             nk, ni;

	if (id == NULL || cache_kept(st, kind) != 2)
		return;
	e  = &st->cache[cache_slot(kind, id)];
	nk = strlen(kind);
	ni = strlen(id);
	if (e->key == NULL || e->rec != NULL || e->text == NULL
	    || memcmp(e->key, kind, nk + 1) != 0
	    || strcmp(e->key + nk + 1, id) != 0) {
		cache_drop(e);
		if ((e->key = malloc(nk + ni + 2)) == NULL)
			return;
		memcpy(e->key, kind, nk + 1);
		memcpy(e->key + nk + 1, id, ni + 1);
	}
	if (e->cap < len + 1) {
		char *t = realloc(e->text, len + 1);
		if (t == NULL) {
			cache_drop(e);
			return;
		}
		e->text = t;
		e->cap  = len + 1;
	}
	memcpy(e->text, text, len);
	e->text[len] = '\0';
	e->len       = len;
}

/* The store's file, for messages. */
static const char *
store_file(kit_store *st)
{
	const char *f = sqlite3_db_filename(st->db, "main");
	return f && *f ? f : "(in memory)";
}

static int
store_fail(kit_store *st, const char *what)
{
	/* a failed statement may have rolled the transaction back */
	cache_clear(st);
	(void) tx_lost(st);
	snprintf(st->err, sizeof(st->err), "store %s: %s: %s", store_file(st),
	    what, sqlite3_errmsg(st->db));
	return -1;
}

/* A read that stopped on rc (not SQLITE_DONE): flag it (see store.h). */
static void
read_fail(kit_store *st, const char *what, int rc)
{
	cache_clear(st);
	(void) tx_lost(st);
	/* the connection's message says more (which page) when it is about
	 * this error */
	snprintf(st->err, sizeof(st->err), "store %s: %s: %s", store_file(st),
	    what,
	    sqlite3_errcode(st->db) == rc ? sqlite3_errmsg(st->db)
	                                  : sqlite3_errstr(rc));
	st->read_failed = 1;
}

int
kit_store_schema(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *probe = NULL;
	char         *msg   = NULL;
	const char   *sql   = schema;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	/* A store made before history had an agency column gets it (NULL in
	 * the old rows): the statements below name it. */
	if (sqlite3_prepare_v2(
	        db, "SELECT agency FROM history", -1, &probe, NULL)
	    != SQLITE_OK) {
		sql = "ALTER TABLE history ADD COLUMN agency TEXT";
		if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
			goto fail;
	}
	sqlite3_finalize(probe);
	return 0;
fail:
	snprintf(err, errlen, "store: schema: %s", msg ? msg : "?");
	sqlite3_free(msg);
	return -1;
}

/* st->hist_seq from the seq table, or from the rows when it has none;
 * 0 or -1 (st->err says why). */
static int
hist_seq_init(kit_store *st)
{
	static const char *const q[] = {
		"SELECT n FROM seq WHERE kind = '#history'",
		"SELECT coalesce(max(seq), 0) FROM history",
	};

	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		sqlite3_stmt *s = NULL;
		int           rc;
		if (sqlite3_prepare_v2(st->db, q[i], -1, &s, NULL)
		    != SQLITE_OK)
			return store_fail(st, q[i]);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			st->hist_seq = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
		if (rc == SQLITE_ROW)
			return 0;
		if (rc != SQLITE_DONE)
			return store_fail(st, q[i]);
	}
	return 0;
}

static void all_set(kit_store *st, int add);
static void held_clear(kit_store *st);

int
kit_store_init(kit_store *st, sqlite3 *db)
{
	memset(st, 0, sizeof(*st));
	st->db = db;
	if (kit_store_schema(db, st->err, sizeof(st->err)) != 0)
		return -1;
	/* without it (out of memory) every load reads the database */
	st->cache = calloc(KIT_CACHE_SLOTS, sizeof(*st->cache));
	for (int i = 0; i < KIT_ST_N; i++) {
		if (sqlite3_prepare_v3(db, sql[i], -1,
		        SQLITE_PREPARE_PERSISTENT, &st->st[i], NULL)
		    != SQLITE_OK) {
			store_fail(st, sql[i]);
			kit_store_fini(st);
			return -1;
		}
	}
	if (hist_seq_init(st) != 0) {
		kit_store_fini(st);
		return -1;
	}
	all_set(st, 1);
	return 0;
}

void
kit_store_fini(kit_store *st)
{
	for (int i = 0; i < KIT_ST_N; i++) {
		sqlite3_finalize(st->st[i]);
		st->st[i] = NULL;
	}
	cache_clear(st);
	free(st->cache);
	st->cache = NULL;
	all_set(st, 0);
	free(st->saved_text);
	st->saved_text = NULL;
	st->saved_rec  = NULL;
	held_clear(st);
	free(st->held);
	free(st->arena);
	st->held     = NULL;
	st->arena    = NULL;
	st->cap_held = st->arena_cap = 0;
	st->mode                     = KIT_HOLD_NONE;
}

static int
step_done(kit_store *st, enum kit_stmt which)
{
	sqlite3_stmt *s  = st->st[which];
	int           rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_fail(st, sql[which]);
	return 0;
}

/* ---- held writes (store.h) ---- */

/* A parameter of a held write: NULL, an integer, or a text (in the
 * store's arena at off, len bytes, or an owned malloc'd block). */
struct kit_harg {
	int     param;
	int     type; /* HA_NULL, HA_INT, HA_TEXT, HA_OWNED */
	int64_t i;
	size_t  off, len;
	char   *owned;
};
enum { HA_NULL, HA_INT, HA_TEXT, HA_OWNED };
#define KIT_HELD_ARGS 11

struct kit_held {
	sqlite3_stmt   *s;
	const char     *what; /* static text */
	int             one;
	int             n;
	struct kit_harg a[KIT_HELD_ARGS];
};

/* Held writes (store.h): a write of statement s (prepared once, numbered
 * parameters) is held by hold_begin, then each parameter, in any order;
 * `what` names it in an error; one: exactly one row must change. */

/* Drop what is held. */
static void
held_clear(kit_store *st)
{
	for (size_t i = 0; i < st->nheld; i++)
		for (int j = 0; j < st->held[i].n; j++)
			free(st->held[i].a[j].owned);
	st->nheld     = 0;
	st->arena_len = 0;
	st->held_oom  = 0;
}

static void
kit_store_hold_begin(kit_store *st, sqlite3_stmt *s, const char *what, int one)
{
	if (st->nheld == st->cap_held) {
		size_t           n = st->cap_held ? 2 * st->cap_held : 16;
		struct kit_held *h = realloc(st->held, n * sizeof(*h));
		if (h == NULL) {
			st->held_oom = 1;
			return;
		}
		st->held     = h;
		st->cap_held = n;
	}
	struct kit_held *h = &st->held[st->nheld++];
	h->s               = s;
	h->what            = what;
	h->one             = one;
	h->n               = 0;
}

/* The next parameter of the write held last, or NULL. */
static struct kit_harg *
hold_arg(kit_store *st, int param)
{
	struct kit_held *h;

	if (st->held_oom || st->nheld == 0
	    || st->held[st->nheld - 1].n == KIT_HELD_ARGS) {
		st->held_oom = 1;
		return NULL;
	}
	h                  = &st->held[st->nheld - 1];
	struct kit_harg *a = &h->a[h->n++];
	memset(a, 0, sizeof(*a));
	a->param = param;
	return a;
}

static void
kit_store_hold_text(kit_store *st, int param, const char *text)
{
	struct kit_harg *a = hold_arg(st, param);
	size_t           n;

	if (a == NULL)
		return;
	if (text == NULL) {
		a->type = HA_NULL;
		return;
	}
	n = strlen(text);
	if (st->arena_len + n + 1 > st->arena_cap) {
		size_t c = st->arena_cap ? st->arena_cap : 4096;
		while (c < st->arena_len + n + 1)
			c *= 2;
		char *p = realloc(st->arena, c);
		if (p == NULL) {
			a->type      = HA_NULL;
			st->held_oom = 1;
			return;
		}
		st->arena     = p;
		st->arena_cap = c;
	}
	memcpy(st->arena + st->arena_len, text, n + 1);
	a->type = HA_TEXT;
	a->off  = st->arena_len;
	a->len  = n;
	st->arena_len += n + 1;
}

/* Hold text (malloc'd, len bytes): the store owns it from here on. */
static void
hold_owned(kit_store *st, int param, char *text, size_t len)
{
	struct kit_harg *a = hold_arg(st, param);

	if (a == NULL) {
		free(text);
		return;
	}
	a->type  = HA_OWNED;
	a->owned = text;
	a->len   = len;
}

static void
kit_store_hold_int(kit_store *st, int param, int64_t v)
{
	struct kit_harg *a = hold_arg(st, param);

	if (a != NULL) {
		a->type = HA_INT;
		a->i    = v;
	}
}

/* Write what is held, in order, and drop it: 0, or -1 (st->err) at the
 * first write that fails (what followed it is dropped too). */
static int
held_write(kit_store *st)
{
	int rc = 0;

	if (st->held_oom) {
		snprintf(st->err, sizeof(st->err),
		    "store %s: a change could not be held: out of memory",
		    store_file(st));
		held_clear(st);
		return -1;
	}
	for (size_t i = 0; i < st->nheld && rc == 0; i++) {
		struct kit_held *h = &st->held[i];
		int              src;
		for (int j = 0; j < h->n; j++) {
			struct kit_harg *a = &h->a[j];
			if (a->type == HA_INT)
				sqlite3_bind_int64(h->s, a->param, a->i);
			else if (a->type == HA_TEXT)
				sqlite3_bind_text(h->s, a->param,
				    st->arena + a->off, (int) a->len,
				    SQLITE_STATIC);
			else if (a->type == HA_OWNED)
				sqlite3_bind_text(h->s, a->param, a->owned,
				    (int) a->len, SQLITE_STATIC);
			else
				sqlite3_bind_null(h->s, a->param);
		}
		src = sqlite3_step(h->s);
		sqlite3_reset(h->s);
		sqlite3_clear_bindings(h->s);
		if (src != SQLITE_DONE && src != SQLITE_ROW) {
			rc = store_fail(st, h->what);
		} else if (h->one && sqlite3_changes(st->db) != 1) {
			cache_clear(st);
			snprintf(st->err, sizeof(st->err),
			    "store %s: %s: the row is not as this store left "
			    "it",
			    store_file(st), h->what);
			rc = -1;
		}
	}
	held_clear(st);
	return rc;
}

void
kit_store_lazy_begin(kit_store *st)
{
	held_clear(st);
	seq_mark(st);
	st->err[0]        = '\0';
	st->settle_failed = 0;
	st->changes0      = sqlite3_total_changes64(st->db);
	st->mode          = KIT_HOLD_LAZY;
}

int
kit_store_settle(kit_store *st)
{
	if (st->mode != KIT_HOLD_LAZY)
		return 0;
	if (step_done(st, KIT_ST_SAVEPOINT) != 0)
		return -1; /* still holding: the abort drops it */
	st->mode = KIT_HOLD_SAVEPOINT;
	if (held_write(st) == 0)
		return 0;
	st->settle_failed = 1; /* the request's end refuses it */
	return -1;
}

/* Whether a write of the request reached the database (or SQLite rolled
 * the whole transaction back by itself). */
static int
request_wrote(kit_store *st)
{
	return sqlite3_get_autocommit(st->db)
	    || sqlite3_total_changes64(st->db) != st->changes0;
}

int
kit_store_lazy_end(kit_store *st)
{
	if (st->mode == KIT_HOLD_SAVEPOINT) {
		if (st->settle_failed) /* some of it was not written */
			return -1;
		if (step_done(st, KIT_ST_RELEASE) != 0)
			return -1; /* the abort rolls back to it */
		st->mode = KIT_HOLD_NONE;
		return 0;
	}
	if (st->mode != KIT_HOLD_LAZY)
		return 0;
	if (held_write(st) == 0) {
		st->mode = KIT_HOLD_NONE;
		return 0;
	}
	if (!request_wrote(st))
		return -1; /* still LAZY: the abort has nothing to undo */
	st->mode = KIT_HOLD_NONE;
	return -2;
}

int
kit_store_lazy_abort(kit_store *st)
{
	int mode = st->mode;

	st->mode = KIT_HOLD_NONE;
	if (mode == KIT_HOLD_SAVEPOINT) {
		kit_store_rollback_to(st);
		return 0;
	}
	if (mode != KIT_HOLD_LAZY)
		return 0;
	held_clear(st);
	cache_clear(st); /* it kept what it held */
	seq_restore(st);
	return request_wrote(st) ? -1 : 0;
}

/* Settle before a read: 0, or -1 (the read fails, st->err says why). */
static int
settle_read(kit_store *st)
{
	if (st->mode != KIT_HOLD_LAZY || st->nheld == 0)
		return 0;
	if (kit_store_settle(st) == 0)
		return 0;
	st->read_failed = 1;
	return -1;
}

/* The stores of this plugin, for kit_store_settle_db (linked by
 * all_next; added by kit_store_init, removed by kit_store_fini). */
static pthread_mutex_t all_mu = PTHREAD_MUTEX_INITIALIZER;
static kit_store      *all;

static void
all_set(kit_store *st, int add)
{
	pthread_mutex_lock(&all_mu);
	if (add) {
		st->all_next = all;
		all          = st;
	} else {
		for (kit_store **p = &all; *p != NULL; p = &(*p)->all_next)
			if (*p == st) {
				*p = st->all_next;
				break;
			}
	}
	pthread_mutex_unlock(&all_mu);
}

void
kit_store_settle_db(sqlite3 *db)
{
	kit_store *st = NULL;

	pthread_mutex_lock(&all_mu);
	for (st = all; st != NULL && st->db != db; st = st->all_next)
		;
	pthread_mutex_unlock(&all_mu);
	/* the store's own thread runs this: only it changes its mode */
	if (st != NULL)
		(void) kit_store_settle(st);
}

int
kit_store_begin(kit_store *st)
{
	st->err[0] = '\0';
	if (st->in_tx) {
		/* the last one ended behind the store (SQLite rolled it back
		 * by itself): what was kept of it goes */
		cache_clear(st);
		seq_forget(st);
	}
	if (step_done(st, KIT_ST_BEGIN) != 0)
		return -1;
	st->in_tx = 1;
	return 0;
}

/* Keep the '#history' row at st->hist_seq (in the open transaction, or
 * on its own). */
static int
hist_seq_save(kit_store *st)
{
	sqlite3_bind_int64(st->st[KIT_ST_HSEQ_SET], 1, st->hist_seq);
	return step_done(st, KIT_ST_HSEQ_SET);
}

/* Move kind's seq row from `from` to `to`: 1 when it moved, 0 when it was
 * not at `from` (changed or removed behind the store), -1 (st->err) when
 * the write failed. */
static int
seq_put(kit_store *st, const char *kind, int64_t to, int64_t from)
{
	sqlite3_stmt *u = st->st[KIT_ST_SEQ_SET];
	int           rc;

	sqlite3_bind_text(u, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(u, 2, to);
	sqlite3_bind_int64(u, 3, from);
	rc = sqlite3_step(u);
	sqlite3_reset(u);
	sqlite3_clear_bindings(u);
	if (rc != SQLITE_DONE)
		return store_fail(st, "next sequence number");
	return sqlite3_changes(st->db) == 1;
}

/* Write each sequence moved in the open transaction (kit_store_commit):
 * 0, or -1 (st->err) when a write fails or a row is not at the number
 * the store left it at. */
static int
seq_flush(kit_store *st)
{
	for (int i = 0; i < KIT_SEQ_KINDS; i++) {
		int rc;
		if (st->seq[i].kind == NULL || st->seq[i].n == st->seq[i].n_db)
			continue;
		rc = seq_put(
		    st, st->seq[i].kind, st->seq[i].n, st->seq[i].n_db);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			snprintf(st->err, sizeof(st->err),
			    "store %s: the sequence of %s is not at %lld,"
			    " where this store left it",
			    store_file(st), st->seq[i].kind,
			    (long long) st->seq[i].n_db);
			return -1;
		}
		st->seq[i].n_db = st->seq[i].n;
	}
	return 0;
}

int
kit_store_commit(kit_store *st)
{
	int rc;

	/* the sequences taken in memory and the history rows' high mark go
	 * with them (store.h: seq, hist_seq); a failure here fails the
	 * commit, which the caller rolls back */
	if (!sqlite3_get_autocommit(st->db)
	    && (seq_flush(st) != 0
	        || (st->hist_dirty && hist_seq_save(st) != 0)))
		return -1;
	rc = step_done(st, KIT_ST_COMMIT);
	/* a failed COMMIT may leave the transaction open: the caller rolls
	 * back, which clears in_tx */
	if (rc == 0)
		st->in_tx = st->hist_dirty = 0;
	return rc;
}

void
kit_store_rollback(kit_store *st)
{
	st->in_tx = 0;
	st->mode  = KIT_HOLD_NONE;
	held_clear(st);
	cache_clear(st);
	seq_forget(st);
	if (!sqlite3_get_autocommit(st->db))
		(void) step_done(st, KIT_ST_ROLLBACK);
}

int
kit_store_savepoint(kit_store *st)
{
	st->err[0] = '\0';
	seq_mark(st);
	return step_done(st, KIT_ST_SAVEPOINT);
}

int
kit_store_release(kit_store *st)
{
	return step_done(st, KIT_ST_RELEASE);
}

void
kit_store_rollback_to(kit_store *st)
{
	cache_clear(st);
	seq_restore(st);
	(void) step_done(st, KIT_ST_ROLLBACK_TO);
	(void) step_done(st, KIT_ST_RELEASE);
}

int
kit_store_next_seq(kit_store *st, const char *kind, int64_t *out)
{
	sqlite3_stmt *s = st->st[KIT_ST_SEQ];
	int           rc, i, got = 0;

	(void) tx_lost(st);
	i = seq_slot(st, kind);
	if (i >= 0 && st->in_tx) {
		/* the row is written when the transaction commits */
		*out = ++st->seq[i].n;
		return 0;
	}
	if (i >= 0) {
		/* no transaction: written now, from the number remembered */
		if ((rc = seq_put(st, kind, st->seq[i].n + 1, st->seq[i].n))
		    < 0)
			return -1;
		if (rc == 1) {
			*out = st->seq[i].n_db = ++st->seq[i].n;
			return 0;
		}
		st->seq[i].kind = NULL; /* the row changed or went: read it */
	}
	/* the upsert reads the row and writes it (under the request's
	 * savepoint: held writes are written first) */
	if (kit_store_settle(st) != 0)
		return -1;
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(s, 0);
		got  = 1;
	}
	while (rc == SQLITE_ROW)
		rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE)
		return store_fail(st, "next sequence number");
	if (got && (i = seq_slot(st, NULL)) >= 0) {
		/* learned in the open request, if any: its refusal forgets
		 * it (seq_restore) */
		st->seq[i].kind = kind;
		st->seq[i].n = st->seq[i].n_db = *out;
		st->seq[i].n_req               = st->in_tx ? -1 : *out;
	}
	return 0;
}

/* v's text, or NULL. Bound SQLITE_STATIC (not copied), as every text of
 * the writes and the load below: each is stepped, reset and its bindings
 * cleared before the call returns, while the caller's text lives. */
static void
bind_opt_text(sqlite3_stmt *s, int i, json_t *v)
{
	if (json_is_string(v))
		sqlite3_bind_text(
		    s, i, json_string_value(v), -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* Remember text (len bytes) as what rec was saved as: a copy (copy), or
 * taken. Out of memory: nothing is remembered (the reply encodes). */
static void
saved_set(kit_store *st, const json_t *rec, char *text, size_t len, int copy)
{
	free(st->saved_text);
	st->saved_text = copy ? malloc(len + 1) : text;
	st->saved_rec  = st->saved_text ? rec : NULL;
	st->saved_len  = len;
	if (copy && st->saved_text != NULL)
		memcpy(st->saved_text, text, len + 1);
}

/* v's text for a held write (NULL when v is not a string). */
static const char *
opt_text(json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* kit_store_save's write, held (text: owned from here on). */
static void
hold_record(kit_store *st, sqlite3_stmt *s, int insert, const char *kind,
    json_t *rec, char *text, size_t len)
{
	json_t *level = json_object_get(rec, "level");

	kit_store_hold_begin(
	    st, s, insert ? "insert record" : "update record", !insert);
	kit_store_hold_text(st, 1, kind);
	kit_store_hold_text(st, 2, opt_text(json_object_get(rec, "id")));
	kit_store_hold_text(st, 3, opt_text(json_object_get(rec, "state")));
	kit_store_hold_text(st, 4, opt_text(json_object_get(rec, "location")));
	if (json_is_integer(level))
		kit_store_hold_int(st, 5, json_integer_value(level));
	else
		kit_store_hold_text(st, 5, NULL);
	kit_store_hold_int(
	    st, 6, json_integer_value(json_object_get(rec, "due_ms")));
	kit_store_hold_text(st, 7, opt_text(json_object_get(rec, "owner")));
	kit_store_hold_int(
	    st, 8, json_integer_value(json_object_get(rec, "created_ms")));
	kit_store_hold_int(
	    st, 9, json_integer_value(json_object_get(rec, "updated_ms")));
	hold_owned(st, 10, text, len);
}

int
kit_store_save(kit_store *st, const char *kind, json_t *rec, int insert)
{
	enum kit_stmt w = insert ? KIT_ST_INSERT : KIT_ST_UPDATE;
	sqlite3_stmt *s = st->st[w];
	char         *text;
	size_t        len;
	json_t       *level = json_object_get(rec, "level");
	int           rc;

	text = kit_json_dumps(rec, &len);
	if (text == NULL) {
		snprintf(st->err, sizeof(st->err),
		    "store %s: %s %s not written: not JSON text (a text that "
		    "is "
		    "not UTF-8), or out of memory",
		    store_file(st), kind,
		    json_string_value(json_object_get(rec, "id"))
		        ? json_string_value(json_object_get(rec, "id"))
		        : "-");
		return -1;
	}
	if (st->mode == KIT_HOLD_LAZY) {
		const char *id = json_string_value(json_object_get(rec, "id"));
		saved_set(st, rec, text, len, 1);
		cache_put_text(st, kind, id, text, len);
		hold_record(st, s, insert, kind, rec, text, len);
		cache_put(st, kind, id, rec);
		return 0;
	}
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	bind_opt_text(s, 2, json_object_get(rec, "id"));
	bind_opt_text(s, 3, json_object_get(rec, "state"));
	bind_opt_text(s, 4, json_object_get(rec, "location"));
	if (json_is_integer(level))
		sqlite3_bind_int64(s, 5, json_integer_value(level));
	else
		sqlite3_bind_null(s, 5);
	sqlite3_bind_int64(
	    s, 6, json_integer_value(json_object_get(rec, "due_ms")));
	bind_opt_text(s, 7, json_object_get(rec, "owner"));
	sqlite3_bind_int64(
	    s, 8, json_integer_value(json_object_get(rec, "created_ms")));
	sqlite3_bind_int64(
	    s, 9, json_integer_value(json_object_get(rec, "updated_ms")));
	sqlite3_bind_text(s, 10, text, (int) len, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE) {
		free(text);
		return store_fail(
		    st, insert ? "insert record" : "update record");
	}
	if (!insert && sqlite3_changes(st->db) != 1) {
		saved_set(st, rec, text, len, 0);
		cache_clear(st);
		snprintf(st->err, sizeof(st->err), "store: no %s %s to update",
		    kind, json_string_value(json_object_get(rec, "id")));
		return -1;
	}
	cache_put_text(st, kind, json_string_value(json_object_get(rec, "id")),
	    text, len);
	saved_set(st, rec, text, len, 0);
	cache_put(
	    st, kind, json_string_value(json_object_get(rec, "id")), rec);
	return 0;
}

/* Parse a text column as JSON; the caller owns the result. */
static json_t *
column_json(sqlite3_stmt *s, int col)
{
	const char *t = (const char *) sqlite3_column_text(s, col);
	return t
	    ? kit_json_loadb(t, (size_t) sqlite3_column_bytes(s, col), 0, NULL)
	    : NULL;
}

json_t *
kit_store_load(kit_store *st, const char *kind, const char *id)
{
	sqlite3_stmt *s   = st->st[KIT_ST_GET];
	json_t       *rec = NULL;
	int           rc;

	struct kit_cached *e;

	st->err[0] = '\0';
	if ((e = cache_find(st, kind, id)) != NULL) {
		if (e->text != NULL
		    && (rec = kit_json_loadb(e->text, e->len, 0, NULL))
		        != NULL)
			return rec;
		if (e->rec != NULL && (rec = json_deep_copy(e->rec)) != NULL)
			return rec;
	}
	if (settle_read(st) != 0)
		return NULL;
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		rec = column_json(s, 0);
		if (rec != NULL)
			cache_put_text(st, kind, id,
			    (const char *) sqlite3_column_text(s, 0),
			    (size_t) sqlite3_column_bytes(s, 0));
	} else if (rc != SQLITE_DONE)
		read_fail(st, "load record", rc);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rec != NULL)
		cache_put(st, kind, id, rec);
	return rec;
}

json_t *
kit_store_peek(kit_store *st, const char *kind, const char *id)
{
	struct kit_cached *e;

	st->err[0] = '\0';
	if ((e = cache_find(st, kind, id)) != NULL && e->rec != NULL)
		return json_incref(e->rec);
	return kit_store_load(st, kind, id);
}

int
kit_store_history_add(
    kit_store *st, const char *kind, const char *id, const kit_change *c)
{
	sqlite3_stmt *s = st->st[KIT_ST_HIST_ADD];

	st->hist_seq++;
	if (st->mode == KIT_HOLD_LAZY) {
		st->hist_dirty = 1;
		kit_store_hold_begin(st, s, "add history", 0);
		kit_store_hold_int(st, 11, st->hist_seq);
		kit_store_hold_text(st, 1, kind);
		kit_store_hold_text(st, 2, id);
		kit_store_hold_text(st, 3, c->action);
		kit_store_hold_text(st, 4, c->from);
		kit_store_hold_text(st, 5, c->to);
		kit_store_hold_text(st, 6, c->who ? c->who : "?");
		kit_store_hold_text(st, 7, c->role);
		kit_store_hold_int(st, 8, c->at_ms);
		kit_store_hold_text(st, 9, c->why);
		kit_store_hold_text(st, 10, c->agency);
		return 0;
	}
	if (sqlite3_get_autocommit(st->db)) {
		/* no transaction: the mark first, so that it is never behind
		 * a stored row (a crash between leaves a gap, no repeat) */
		if (hist_seq_save(st) != 0)
			return -1;
	} else {
		st->hist_dirty = 1;
	}
	sqlite3_bind_int64(s, 11, st->hist_seq);
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, c->action, -1, SQLITE_STATIC);
	if (c->from)
		sqlite3_bind_text(s, 4, c->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, c->to, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, c->who ? c->who : "?", -1, SQLITE_STATIC);
	if (c->role)
		sqlite3_bind_text(s, 7, c->role, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, c->at_ms);
	if (c->why)
		sqlite3_bind_text(s, 9, c->why, -1, SQLITE_STATIC);
	if (c->agency)
		sqlite3_bind_text(s, 10, c->agency, -1, SQLITE_STATIC);
	return step_done(st, KIT_ST_HIST_ADD);
}

static json_t *
col_text_or_null(sqlite3_stmt *s, int col)
{
	const char *t = (const char *) sqlite3_column_text(s, col);
	return t ? json_string(t) : json_null();
}

json_t *
kit_store_history(kit_store *st, const char *kind, const char *id)
{
	sqlite3_stmt *s   = st->st[KIT_ST_HIST_GET];
	json_t       *arr = json_array();
	int           rc;

	if (arr == NULL || settle_read(st) != 0)
		return arr;
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_array_append_new(arr,
		    json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:o}", "action",
		        col_text_or_null(s, 0), "from", col_text_or_null(s, 1),
		        "to", col_text_or_null(s, 2), "who",
		        col_text_or_null(s, 3), "role", col_text_or_null(s, 4),
		        "agency", col_text_or_null(s, 5), "at_ms",
		        (json_int_t) sqlite3_column_int64(s, 6), "why",
		        col_text_or_null(s, 7)));
	}
	if (rc != SQLITE_DONE)
		read_fail(st, "read history", rc);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return arr;
}

static void
bind_filters(sqlite3_stmt *s, const char *kind, const char *state,
    const char *location, const char *owner)
{
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	if (state)
		sqlite3_bind_text(s, 2, state, -1, SQLITE_TRANSIENT);
	if (location)
		sqlite3_bind_text(s, 3, location, -1, SQLITE_TRANSIENT);
	if (owner)
		sqlite3_bind_text(s, 4, owner, -1, SQLITE_TRANSIENT);
}

json_t *
kit_store_list(kit_store *st, const char *kind, const char *state,
    const char *location, const char *owner, int64_t limit, int64_t offset)
{
	sqlite3_stmt *s     = st->st[KIT_ST_LIST];
	json_t       *items = json_array();
	int64_t       total = 0;
	int           rc;

	if (settle_read(st) != 0)
		return json_pack("{s:o,s:I,s:I,s:I}", "items", items, "total",
		    (json_int_t) 0, "limit", (json_int_t) limit, "offset",
		    (json_int_t) offset);
	bind_filters(s, kind, state, location, owner);
	sqlite3_bind_int64(s, 5, limit);
	sqlite3_bind_int64(s, 6, offset);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *r = column_json(s, 0);
		if (r)
			json_array_append_new(items, r);
	}
	if (rc != SQLITE_DONE)
		read_fail(st, "list records", rc);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);

	s = st->st[KIT_ST_COUNT];
	bind_filters(s, kind, state, location, owner);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		total = sqlite3_column_int64(s, 0);
	else
		read_fail(st, "count records", rc);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);

	json_t *page = json_pack("{s:o,s:I,s:I,s:I}", "items", items, "total",
	    (json_int_t) total, "limit", (json_int_t) limit, "offset",
	    (json_int_t) offset);
	if (offset + (int64_t) json_array_size(items) < total)
		json_object_set_new(page, "next_offset",
		    json_integer(offset + (int64_t) json_array_size(items)));
	return page;
}

json_t *
kit_store_due(kit_store *st, const char *kind)
{
	sqlite3_stmt *s   = st->st[KIT_ST_DUE];
	json_t       *arr = json_array();
	int           rc;

	if (settle_read(st) != 0)
		return arr;
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *r = column_json(s, 0);
		if (r)
			json_array_append_new(arr, r);
	}
	if (rc != SQLITE_DONE)
		read_fail(st, "records with a due time", rc);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return arr;
}

json_t *
kit_store_stats(kit_store *st, const char *kind)
{
	sqlite3_stmt *s   = st->st[KIT_ST_STATS];
	json_t       *out = json_object();
	int           rc;

	if (settle_read(st) != 0)
		return out;
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *state = (const char *) sqlite3_column_text(s, 0);
		char        lvl[24];
		json_t     *by;

		snprintf(lvl, sizeof(lvl), "%lld",
		    (long long) sqlite3_column_int64(s, 1));
		by = json_object_get(out, state);
		if (by == NULL) {
			by = json_object();
			json_object_set_new(out, state, by);
		}
		json_object_set_new(
		    by, lvl, json_integer(sqlite3_column_int64(s, 2)));
	}
	if (rc != SQLITE_DONE)
		read_fail(st, "count records by state", rc);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return out;
}

int
kit_store_clock_add(kit_store *st, const char *kind, const char *id,
    const char *clock, int64_t due_ms)
{
	sqlite3_stmt *s = st->st[KIT_ST_CLOCK_ADD];

	if (kit_store_settle(st) != 0)
		return -1;
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, clock, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 4, due_ms);
	return step_done(st, KIT_ST_CLOCK_ADD);
}

int
kit_store_clock_set(kit_store *st, const char *kind, const char *id,
    const char *clock, const char *status)
{
	sqlite3_stmt *s = st->st[KIT_ST_CLOCK_SET];

	if (kit_store_settle(st) != 0)
		return -1;
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_TRANSIENT);
	if (clock)
		sqlite3_bind_text(s, 3, clock, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 4, status, -1, SQLITE_TRANSIENT);
	return step_done(st, KIT_ST_CLOCK_SET);
}

int
kit_store_clock_next(kit_store *st, int64_t *due_ms)
{
	sqlite3_stmt *s     = st->st[KIT_ST_CLOCK_NEXT];
	int           found = 0;
	int           rc;

	if (settle_read(st) != 0)
		return -1;
	rc = sqlite3_step(s);

	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*due_ms = sqlite3_column_int64(s, 0);
		found   = 1;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		read_fail(st, "next clock", rc);
	sqlite3_reset(s);
	return rc != SQLITE_ROW && rc != SQLITE_DONE ? -1 : found;
}

json_t *
kit_store_clock_due(kit_store *st, int64_t now_ms)
{
	sqlite3_stmt *s   = st->st[KIT_ST_CLOCK_DUE];
	json_t       *arr = json_array();
	int           rc;

	if (settle_read(st) != 0)
		return arr;
	sqlite3_bind_int64(s, 1, now_ms);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(arr,
		    json_pack("{s:o,s:o,s:o,s:I}", "kind",
		        col_text_or_null(s, 0), "id", col_text_or_null(s, 1),
		        "clock", col_text_or_null(s, 2), "due_ms",
		        (json_int_t) sqlite3_column_int64(s, 3)));
	if (rc != SQLITE_DONE)
		read_fail(st, "due clocks", rc);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return arr;
}

json_t *
kit_store_clocks(kit_store *st, const char *kind, const char *id)
{
	sqlite3_stmt *s   = st->st[KIT_ST_CLOCK_LIST];
	json_t       *arr = json_array();
	int           rc;

	if (settle_read(st) != 0)
		return arr;
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(arr,
		    json_pack("{s:o,s:I,s:o}", "clock", col_text_or_null(s, 0),
		        "due_ms", (json_int_t) sqlite3_column_int64(s, 1),
		        "status", col_text_or_null(s, 2)));
	if (rc != SQLITE_DONE)
		read_fail(st, "clocks of a record", rc);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return arr;
}
