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
	int cache_text[KIT_CACHE_KINDS]; /* kept as text (kit_store_cache_text)
	                                  */
	/* Each kind's sequence (kind: a static text, NULL for a free slot):
	 * n, the number it gave last; n_db, the number its row holds in the
	 * open transaction; n_req, n when the open request began (-1: the
	 * slot was learned in it, by an upsert its savepoint undoes). Within
	 * a transaction the next number is n + 1, taken in memory: the row is
	 * written once, by kit_store_commit (from n_db to n, checked), not
	 * at every record. A refused request gives its numbers back (n =
	 * n_req); a rollback of the transaction forgets every slot (the row
	 * is read again by the next number). Outside a transaction a number
	 * is written at once. The seq rows are the store's: nothing else
	 * writes them (a commit that finds a row moved fails). */
	struct {
		const char *kind;
		int64_t     n, n_db, n_req;
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
	/* A request of a group commit without a savepoint of its own (see
	 * "Held writes" below): KIT_HOLD_NONE outside one, KIT_HOLD_LAZY
	 * while its writes are held here, KIT_HOLD_SAVEPOINT once it took
	 * its savepoint (kit_store_settle) and writes to the database. */
	int mode;
	/* the connection's sqlite3_total_changes64 when the request began:
	 * more at its end means a write reached the database */
	int64_t changes0;
	/* The held writes, in order (owned, grown by the store; each
	 * owned text freed when they are written or dropped), and the texts
	 * they bind (owned, one growing block, emptied with them). */
	struct kit_held  *held;
	size_t            nheld, cap_held;
	char             *arena;
	size_t            arena_len, arena_cap;
	int               held_oom; /* a write could not be held */
	int               settle_failed; /* writing them at settle failed */
	struct kit_store *all_next; /* the plugin's stores (store.c) */
	/* The record the last kit_store_save wrote (compared only, never
	 * dereferenced: the caller holds it; NULL when forgotten) and its
	 * JSON text as written (owned, saved_len bytes), for a reply of
	 * that very record (kit.c: kit_reply_saved). */
	const json_t *saved_rec;
	char         *saved_text;
	size_t        saved_len;
} kit_store;

enum { KIT_HOLD_NONE, KIT_HOLD_LAZY, KIT_HOLD_SAVEPOINT };

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

/*
 * Held writes: a request of a group commit without a savepoint.
 *
 * A savepoint per request copies every page the request changes into
 * SQLite's savepoint journal, so that the request alone can be undone
 * when it fails after writing. Instead, between kit_store_lazy_begin and
 * kit_store_lazy_end the store holds the request's record, history and
 * sequence writes in memory, in order (kit.c keeps the batch's audit
 * records itself, written as one spool row before the batch commits),
 * and writes them at its end, when nothing but the store itself can fail
 * any more. A refusal before the end (a state the change does not apply
 * to, a record that is not UTF-8, an audit record that cannot be built)
 * drops them: nothing of the request reached the database, nothing to
 * undo. A load of a record it saved comes from the store's copy (the
 * request sees its own write).
 *
 * Anything else that runs SQL in the request first writes what is held
 * under a savepoint taken then (kit_store_settle): a read (list, history,
 * a load not kept, clocks), a write the store does not hold (clocks, a
 * sequence not remembered), and the plugin's own statements through
 * kit_sql_row/kit_sql_run (sql.h). From there the request runs as with a
 * savepoint from its start: the database had none of its writes when the
 * savepoint was taken.
 *
 * What is left: writing the held statements fails part-way (a full
 * disk, an I/O error, a row changed behind the store). Then some of the
 * request is in the batch's transaction with no savepoint to undo it
 * alone, and the whole batch must be rolled back (kit_store_lazy_end
 * says so: -2), as when the batch's commit fails. So is a request that
 * wrote to the database some other way (plain sqlite3 calls on the
 * store's connection, which the store does not see) and then failed
 * (kit_store_lazy_abort says so: -1).
 */
/* Begin holding the writes of a request (inside the open transaction). */
void kit_store_lazy_begin(kit_store *st);
/* Write what is held under a savepoint taken now, and go on with the
 * savepoint: 0, or -1 with st->err (the request is then aborted:
 * kit_store_lazy_abort undoes it). Nothing when not holding. */
int kit_store_settle(kit_store *st);
/* The request's end: write what is held (or release its savepoint).
 * 0; -1 with st->err when none of the request was written (it may be
 * aborted as usual); -2 with st->err when part of it was: the caller
 * rolls back the whole transaction (kit_store_rollback). */
int kit_store_lazy_end(kit_store *st);
/* Undo the request: drop what is held (or roll back to its savepoint).
 * 0, or -1 when a write reached the database without the store (see
 * above): the caller rolls back the whole transaction. */
int kit_store_lazy_abort(kit_store *st);
/* kit_store_settle on the store whose connection is db, when one of this
 * plugin's stores is (kit_sql_row and kit_sql_run call it first). */
void kit_store_settle_db(sqlite3 *db);

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
 * hold, as long as the kind's records are written through the store (a
 * row changed behind it is not seen until the copy goes). */
int kit_store_cache_kind(kit_store *st, const char *kind);

/* The same for a kind written at most of its steps (a record loaded,
 * changed and saved again, like an alarm): the store keeps the JSON text
 * it saved or loaded instead of a decoded copy (copying the text costs
 * little where a deep copy cost more than the load it saves), so a load
 * parses it without reading the database. Same limits and forgetting as
 * kit_store_cache_kind, whose kinds it shares. */
int kit_store_cache_text(kit_store *st, const char *kind);

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
 * its copy (copied again: the caller may change the result); one of a
 * kind kept as text (kit_store_cache_text) is parsed from the text. */
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
