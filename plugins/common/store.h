/*
 * store.h - the record store of a scenario plugin, on the plugin's own
 * SQLite database (host->store()).
 *
 * Every aggregate (alarm, roll call, resident, ...) is one row of
 * `records`: its JSON object in `data`, and the fields that lists filter
 * and timers need mirrored in columns (state, location, level, due_ms,
 * owner). Every change appends a row to `history` (from, to, who, when,
 * why). Named deadline clocks of a record live in `clocks`. Statements
 * are prepared once per plugin and reused.
 *
 * A history row, as every plugin of the platform writes it (the Lua legal
 * plugin too): {"action","from","to","who","role","agency","at_ms","why"},
 * from null on creation, at_ms integer milliseconds since the epoch.
 *
 * A record object always has "id" and "state"; it may have "location"
 * (a dotted location path), "level", "due_ms", "owner" (the id of the
 * record it belongs to), and has "created_ms" and "updated_ms".
 */
#ifndef XZ_KIT_STORE_H
#define XZ_KIT_STORE_H

#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

enum kit_stmt {
	KIT_ST_BEGIN,
	KIT_ST_COMMIT,
	KIT_ST_ROLLBACK,
	KIT_ST_INSERT,
	KIT_ST_UPDATE,
	KIT_ST_GET,
	KIT_ST_HIST_ADD,
	KIT_ST_HIST_GET,
	KIT_ST_SEQ,
	KIT_ST_SEQ_SET,
	KIT_ST_LIST,
	KIT_ST_COUNT,
	KIT_ST_DUE,
	KIT_ST_STATS,
	KIT_ST_SAVEPOINT,
	KIT_ST_RELEASE,
	KIT_ST_ROLLBACK_TO,
	KIT_ST_CLOCK_ADD,
	KIT_ST_CLOCK_SET,
	KIT_ST_CLOCK_NEXT,
	KIT_ST_CLOCK_DUE,
	KIT_ST_CLOCK_LIST,
	KIT_ST_HSEQ_SET,
	KIT_ST_N
};

/* How many decoded records the store keeps (see kit_store_cache_kind),
 * and of how many kinds. */
#define KIT_CACHE_SLOTS 256
#define KIT_CACHE_KINDS 4
/* How many kinds' sequences the store remembers (kit_store_next_seq). */
#define KIT_SEQ_KINDS 8

typedef struct kit_store {
	sqlite3      *db; /* owned by the kernel */
	sqlite3_stmt *st[KIT_ST_N];
	/* Decoded records of the kinds in cache_kinds last saved or loaded,
	 * one per slot (by a hash of kind and id; a newer record takes the
	 * slot): a load finds them here instead of reading and decoding the
	 * stored JSON again. Owned (calloc'd by kit_store_init, freed with
	 * its records by kit_store_fini). */
	struct kit_cached *cache;
	const char        *cache_kinds[KIT_CACHE_KINDS]; /* static texts */
	/* The number each kind's sequence gave last, as the open transaction
	 * sees it (kind: a static text, NULL for a free slot): the next is
	 * one more, written with a plain UPDATE from that number instead of
	 * an upsert that reads it back. Forgotten with the decoded records (a
	 * rollback, a failed statement) and when the row is not at that
	 * number, then read again. */
	struct {
		const char *kind;
		int64_t     n;
	} seq[KIT_SEQ_KINDS];
	char err[512]; /* the last error, for people: names the file */
	/* Set when a read (load, list, history, stats, due, clocks) failed
	 * with an SQLite error, err says why: what was read is incomplete.
	 * Cleared at each request (kit_req_parse); a reply made after it
	 * is store_error instead (kit_reply), never an empty result. */
	int read_failed;
	/* A transaction was begun and not yet committed or rolled back by
	 * this code: if SQLite finds itself in autocommit meanwhile, it rolled
	 * the transaction back on its own (a failed statement elsewhere), and
	 * the cache, which may hold what it undid, is emptied. */
	int in_tx;
	/* The seq of the last history row written: the next row takes one
	 * more, with no lookup (the history table has no rowid to give it).
	 * Kept in the seq table as kind '#history', never behind a stored
	 * row: a transaction that wrote history (hist_dirty) writes it
	 * before its COMMIT (kit_store_commit), a row written outside a
	 * transaction writes it first. Read back at kit_store_init (from the
	 * rows when it is missing: an older store, a moved one; a scan of the
	 * history in a new one). So one kit_store writes a database's
	 * history (a plugin's kit_ctx has the one), and a transaction that
	 * writes history commits through kit_store_commit; SQL that adds
	 * history rows otherwise (a migration) must number them past the
	 * mark or leave no mark (collab.c: migrate_v0). */
	int64_t hist_seq;
	int     hist_dirty;
} kit_store;

/* A change to write into history. */
typedef struct kit_change {
	const char *action; /* "acknowledge" */
	const char *from; /* NULL on creation */
	const char *to;
	const char *who;
	const char *role;
	const char *why; /* may be NULL */
	int64_t     at_ms;
	const char *agency; /* may be NULL */
} kit_change;

/* Create the tables (idempotent; adds the history's agency column to a
 * store made before it existed). 0, or -1 with the reason in err. */
int kit_store_schema(sqlite3 *db, char *err, size_t errlen);

/* kit_store_schema, then prepare the statements. On error st->err says
 * why. kit_store_fini finalizes the statements (not the db). */
int  kit_store_init(kit_store *st, sqlite3 *db);
void kit_store_fini(kit_store *st);

int  kit_store_begin(kit_store *st);
int  kit_store_commit(kit_store *st);
void kit_store_rollback(kit_store *st);

/* A savepoint inside the open transaction: one request of a group
 * commit, undone alone when it fails. */
int  kit_store_savepoint(kit_store *st);
int  kit_store_release(kit_store *st);
void kit_store_rollback_to(kit_store *st);

/* Next number of a kind's sequence (1, 2, ...), in the open transaction.
 * kind must be a static text (it is remembered: see seq above). */
int kit_store_next_seq(kit_store *st, const char *kind, int64_t *out);

/* Keep decoded records of `kind` (a static text) for kit_store_load: for
 * a kind that is read far more often than it changes (the locations of a
 * layout), not one written at every step. At most KIT_CACHE_KINDS kinds;
 * 0, or -1 when that many are kept already. The store keeps a copy of
 * what it saves or loads of these kinds; a rollback (of the transaction
 * or of a savepoint), a failed commit and any failed statement forget
 * every kept copy, so a load never returns what the database does not
 * hold. */
int kit_store_cache_kind(kit_store *st, const char *kind);

/* Insert (insert != 0) or update the record `rec` of `kind`. */
int kit_store_save(kit_store *st, const char *kind, json_t *rec, int insert);

/* Reads. On an SQLite error (a damaged page, an I/O error) each sets
 * st->read_failed and st->err (naming the store's file) and returns what
 * it could read (an empty or partial result, never NULL where a list is
 * promised): the kit answers such a request store_error.
 *
 * Load a record. The caller owns the result (json_decref); NULL if absent
 * (st->err empty) or on error (st->err set). A record of a kept kind (see
 * kit_store_cache_kind) that the store saved or loaded lately comes from
 * its copy (copied again: the caller may change the result). */
json_t *kit_store_load(kit_store *st, const char *kind, const char *id);
/* The same record for reading only: a new reference the caller releases
 * (json_decref) and must not change, since for a kept kind it is the
 * store's own copy (the store never changes it in place: a save or a
 * rollback replaces or drops it, and the caller's reference stays
 * valid). Saves the copy kit_store_load makes of a kept record. */
json_t *kit_store_peek(kit_store *st, const char *kind, const char *id);

int kit_store_history_add(
    kit_store *st, const char *kind, const char *id, const kit_change *c);

/* The history of a record as an array of rows (see the top); the caller
 * owns it. */
json_t *kit_store_history(kit_store *st, const char *kind, const char *id);

/* A page of records of `kind` (filters may be NULL: state exact, location
 * the given node or anything below it, owner exact), ordered by id. The
 * caller owns the result: {"items":[...],"total":N,"limit":L,"offset":O}
 * plus "next_offset" when more remain. */
json_t *kit_store_list(kit_store *st, const char *kind, const char *state,
    const char *location, const char *owner, int64_t limit, int64_t offset);

/* Every record of `kind` with a due time (due_ms > 0); caller owns it. */
json_t *kit_store_due(kit_store *st, const char *kind);

/* Counts of `kind` by state and level: {"RAISED":{"1":3},...}; caller
 * owns it. */
json_t *kit_store_stats(kit_store *st, const char *kind);

/*
 * Deadline clocks: a record may have several, by name ("notify", "serve",
 * "decide"). A clock is PENDING until the plugin sets it MET (the thing
 * was done in time), STOPPED (the case ended) or OVERDUE (it lapsed);
 * only a PENDING clock changes. Statutory clocks are in integer ms on the
 * kernel clock (host->now_ms), so tests can advance them.
 */

/* Add a PENDING clock due at due_ms (kept as is if it exists). */
int kit_store_clock_add(kit_store *st, const char *kind, const char *id,
    const char *clock, int64_t due_ms);

/* Set the PENDING clock `clock` of the record (NULL: every PENDING one)
 * to status. */
int kit_store_clock_set(kit_store *st, const char *kind, const char *id,
    const char *clock, const char *status);

/* The earliest due time of any PENDING clock: 1 and *due_ms, 0 when none
 * is pending, -1 on error (st->err set). */
int kit_store_clock_next(kit_store *st, int64_t *due_ms);

/* The PENDING clocks due at or before now_ms, earliest first, as
 * [{"kind","id","clock","due_ms"}]; the caller owns it. */
json_t *kit_store_clock_due(kit_store *st, int64_t now_ms);

/* A record's clocks, by due time then name, as
 * [{"clock","due_ms","status"}]; the caller owns it. */
json_t *kit_store_clocks(kit_store *st, const char *kind, const char *id);

#endif
