/*
 * test_store.c - the decoded records a kit store keeps for the kinds it is
 * told to (plugins/common/store.c, kit_store_cache_kind): a load of a kept
 * record is the saved record (a copy the caller may change), and a
 * rollback of the transaction or of a savepoint, or a failed statement,
 * forgets every kept record, so a load never returns what the database
 * does not hold. Kinds not kept are read from the database each time.
 * A peek (kit_store_peek) shares the kept record instead of copying it.
 * The same holds for a kind kept as its JSON text (kit_store_cache_text).
 * Sequence numbers (kit_store_next_seq) follow each other per kind, and a
 * rollback gives the numbers it undid again; in a transaction they are
 * taken in memory and their rows written once, by the commit, which
 * fails when a row moved behind the store. A list by state or by owner
 * gives the records it names and their count; an older store's indexes
 * that no statement searched are dropped. A record's history comes back
 * in the order it was written, across rollbacks, a restart of the store,
 * a write outside a transaction and a store that lost its high mark; the
 * history table needs no index of its own. Held writes (a request of a
 * group commit without a savepoint) reach the database only at the
 * request's end, are dropped by a refusal, are written under a savepoint
 * first when the request reads the database, and say when a failure
 * leaves part of the request written (the whole transaction must go).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../plugins/common/sql.h"
#include "../../plugins/common/store.h"

typedef struct fixture {
	sqlite3  *db; /* in memory, owned */
	kit_store st;
} fixture;

static int64_t int_of(fixture *f, const char *sql);

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(sqlite3_open(":memory:", &f->db), SQLITE_OK);
	assert_int_equal(kit_store_init(&f->st, f->db), 0);
	assert_int_equal(kit_store_cache_kind(&f->st, "location"), 0);
	*state = f;
	return 0;
}

/* The same with the locations kept as their JSON text
 * (kit_store_cache_text): the kept-record tests run on both. */
static int
setup_text(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(sqlite3_open(":memory:", &f->db), SQLITE_OK);
	assert_int_equal(kit_store_init(&f->st, f->db), 0);
	assert_int_equal(kit_store_cache_text(&f->st, "location"), 0);
	/* a kind is kept one way */
	assert_int_equal(kit_store_cache_kind(&f->st, "location"), -1);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	kit_store_fini(&f->st);
	sqlite3_close(f->db);
	free(f);
	return 0;
}

/* Save {"id":id,"state":state,"name":name} of kind. */
static int
save(fixture *f, const char *kind, const char *id, const char *state,
    const char *name, int insert)
{
	json_t *rec = json_pack("{s:s,s:s,s:s,s:I,s:I}", "id", id, "state",
	    state, "name", name, "created_ms", (json_int_t) 1, "updated_ms",
	    (json_int_t) 2);
	int     rc  = kit_store_save(&f->st, kind, rec, insert);

	json_decref(rec);
	return rc;
}

/* The name of the loaded record, copied into buf; "" when absent. */
static const char *
loaded_name(fixture *f, const char *kind, const char *id, char *buf)
{
	json_t *rec = kit_store_load(&f->st, kind, id);

	buf[0] = '\0';
	if (rec != NULL)
		strcpy(buf, json_string_value(json_object_get(rec, "name")));
	json_decref(rec);
	return buf;
}

/* Change the stored JSON behind the store's back (what only a test
 * does): shows whether a load read the database. */
static void
raw_rename(fixture *f, const char *kind, const char *id, const char *name)
{
	char *sql = sqlite3_mprintf("UPDATE records SET data ="
	                            " json_set(data, '$.name', %Q)"
	                            " WHERE kind = %Q AND id = %Q",
	    name, kind, id);

	assert_int_equal(
	    sqlite3_exec(f->db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_free(sql);
}

static void
test_kept_record_is_a_copy(void **state)
{
	fixture *f = *state;
	char     buf[64];
	json_t  *rec;

	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(save(f, "location", "L1", "ACTIVE", "one", 1), 0);
	assert_int_equal(kit_store_commit(&f->st), 0);
	rec = kit_store_load(&f->st, "location", "L1");
	assert_non_null(rec);
	assert_string_equal(
	    json_string_value(json_object_get(rec, "state")), "ACTIVE");
	/* the caller's changes stay the caller's */
	json_object_set_new(rec, "name", json_string("changed"));
	json_decref(rec);
	assert_string_equal(loaded_name(f, "location", "L1", buf), "one");
	/* kept: not read from the database again */
	raw_rename(f, "location", "L1", "behind");
	assert_string_equal(loaded_name(f, "location", "L1", buf), "one");
	/* another kind is read each time */
	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(save(f, "alarm", "A1", "RAISED", "one", 1), 0);
	assert_int_equal(kit_store_commit(&f->st), 0);
	raw_rename(f, "alarm", "A1", "behind");
	assert_string_equal(loaded_name(f, "alarm", "A1", buf), "behind");
	assert_string_equal(f->st.err, "");
}

/* kit_store_peek: a kept record is shared, not copied; a reference taken
 * before a save or a rollback keeps what it held; another kind is read
 * from the database each time. */
static void
test_peek_shares_kept_record(void **state)
{
	fixture *f = *state;
	json_t  *a, *b, *c;

	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(save(f, "location", "L1", "ACTIVE", "one", 1), 0);
	assert_int_equal(kit_store_commit(&f->st), 0);
	a = kit_store_peek(&f->st, "location", "L1");
	b = kit_store_peek(&f->st, "location", "L1");
	assert_non_null(a);
	assert_ptr_equal(a, b);
	json_decref(b);
	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(save(f, "location", "L1", "ACTIVE", "two", 0), 0);
	c = kit_store_peek(&f->st, "location", "L1");
	kit_store_rollback(&f->st);
	/* each reference still holds the version it was taken of */
	assert_string_equal(
	    json_string_value(json_object_get(a, "name")), "one");
	assert_string_equal(
	    json_string_value(json_object_get(c, "name")), "two");
	json_decref(c);
	/* the rollback dropped the kept copy: read again, as stored */
	raw_rename(f, "location", "L1", "behind");
	b = kit_store_peek(&f->st, "location", "L1");
	assert_ptr_not_equal(a, b);
	assert_string_equal(
	    json_string_value(json_object_get(b, "name")), "behind");
	json_decref(a);
	json_decref(b);
	/* a kind not kept: a private copy each time */
	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(save(f, "alarm", "A1", "RAISED", "one", 1), 0);
	assert_int_equal(kit_store_commit(&f->st), 0);
	a = kit_store_peek(&f->st, "alarm", "A1");
	b = kit_store_peek(&f->st, "alarm", "A1");
	assert_non_null(a);
	assert_ptr_not_equal(a, b);
	json_decref(a);
	json_decref(b);
	assert_null(kit_store_peek(&f->st, "location", "nowhere"));
	assert_string_equal(f->st.err, "");
}

/* A record that cannot be written as JSON text (a string that is not
 * UTF-8, which only json_stringn_nocheck lets in) is refused with an error
 * naming its kind and id, and nothing is stored. */
static void
test_save_refuses_non_utf8(void **state)
{
	fixture *f = *state;
	json_t  *rec
	    = json_pack("{s:s,s:s,s:I,s:I}", "id", "A9", "state", "RAISED",
	        "created_ms", (json_int_t) 1, "updated_ms", (json_int_t) 2);

	json_object_set_new(rec, "name", json_stringn_nocheck("bad \xc3(", 6));
	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(kit_store_save(&f->st, "alarm", rec, 1), -1);
	assert_non_null(strstr(f->st.err, "alarm A9 not written"));
	assert_int_equal(kit_store_commit(&f->st), 0);
	json_decref(rec);
	assert_null(kit_store_load(&f->st, "alarm", "A9"));
}

static void
test_rollback_forgets(void **state)
{
	fixture *f = *state;
	char     buf[64];

	/* a record created in a transaction rolled back is absent */
	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(save(f, "location", "L2", "ACTIVE", "new", 1), 0);
	assert_string_equal(loaded_name(f, "location", "L2", buf), "new");
	kit_store_rollback(&f->st);
	assert_string_equal(loaded_name(f, "location", "L2", buf), "");
	assert_string_equal(f->st.err, "");

	/* an update rolled back: the stored one again */
	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(save(f, "location", "L2", "ACTIVE", "kept", 1), 0);
	assert_int_equal(kit_store_commit(&f->st), 0);
	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(save(f, "location", "L2", "CLOSED", "undone", 0), 0);
	assert_string_equal(loaded_name(f, "location", "L2", buf), "undone");
	kit_store_rollback(&f->st);
	assert_string_equal(loaded_name(f, "location", "L2", buf), "kept");
}

static void
test_savepoint_rollback_forgets(void **state)
{
	fixture *f = *state;
	char     buf[64];

	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(save(f, "location", "L3", "ACTIVE", "first", 1), 0);
	assert_int_equal(kit_store_savepoint(&f->st), 0);
	assert_int_equal(save(f, "location", "L3", "ACTIVE", "second", 0), 0);
	assert_int_equal(save(f, "location", "L4", "ACTIVE", "other", 1), 0);
	assert_string_equal(loaded_name(f, "location", "L3", buf), "second");
	kit_store_rollback_to(&f->st);
	/* what the savepoint undid is gone, what came before it stays */
	assert_string_equal(loaded_name(f, "location", "L3", buf), "first");
	assert_string_equal(loaded_name(f, "location", "L4", buf), "");
	assert_int_equal(kit_store_commit(&f->st), 0);
	assert_string_equal(loaded_name(f, "location", "L3", buf), "first");
}

/* SQLite rolls a transaction back by itself (here a ROLLBACK outside
 * store.c, as a failed statement elsewhere can): the next load does not
 * hand out what it undid. */
static void
test_rollback_behind_the_store_forgets(void **state)
{
	fixture *f = *state;
	char     buf[64];

	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(save(f, "location", "L9", "ACTIVE", "undone", 1), 0);
	assert_string_equal(loaded_name(f, "location", "L9", buf), "undone");
	assert_int_equal(
	    sqlite3_exec(f->st.db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	assert_string_equal(loaded_name(f, "location", "L9", buf), "");
	kit_store_rollback(&f->st); /* the caller's own, as after a failure */
}

static void
test_failed_statement_forgets(void **state)
{
	fixture *f = *state;
	char     buf[64];

	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(save(f, "location", "L5", "ACTIVE", "five", 1), 0);
	assert_int_equal(kit_store_commit(&f->st), 0);
	assert_string_equal(loaded_name(f, "location", "L5", buf), "five");
	raw_rename(f, "location", "L5", "behind");
	/* an update of a record that is not there fails: every kept record
	 * is forgotten, the next load reads the database */
	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(save(f, "location", "nope", "ACTIVE", "x", 0), -1);
	assert_non_null(strstr(f->st.err, "no location nope to update"));
	kit_store_rollback(&f->st);
	assert_string_equal(loaded_name(f, "location", "L5", buf), "behind");
	/* an insert of a record that exists fails the same way */
	assert_string_equal(loaded_name(f, "location", "L5", buf), "behind");
	raw_rename(f, "location", "L5", "again");
	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(save(f, "location", "L5", "ACTIVE", "dup", 1), -1);
	kit_store_rollback(&f->st);
	assert_string_equal(loaded_name(f, "location", "L5", buf), "again");
}

static void
test_cache_kind_limit(void **state)
{
	fixture *f = *state;

	/* "location" is kept already: the same kind again is fine */
	assert_int_equal(kit_store_cache_kind(&f->st, "location"), 0);
	for (int i = 1; i < KIT_CACHE_KINDS; i++) {
		static const char *const more[] = { "a", "b", "c", "d", "e" };
		assert_int_equal(kit_store_cache_kind(&f->st, more[i - 1]), 0);
	}
	assert_int_equal(kit_store_cache_kind(&f->st, "one-too-many"), -1);
}

/* The next number of kind's sequence, read in its own transaction when
 * none is open. */
static int64_t
next(fixture *f, const char *kind)
{
	int64_t n = -1;

	assert_int_equal(kit_store_next_seq(&f->st, kind, &n), 0);
	return n;
}

/* Sequences (kit_store_next_seq): numbers follow each other per kind; a
 * number a rolled-back transaction or savepoint took is given again (no
 * gap, no duplicate); one the database no longer holds (a row changed
 * behind the store) is read again. */
static void
test_sequences(void **state)
{
	fixture *f = *state;

	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(next(f, "alarm"), 1);
	assert_int_equal(next(f, "alarm"), 2);
	assert_int_equal(next(f, "incident"), 1);
	assert_int_equal(next(f, "alarm"), 3);
	assert_int_equal(kit_store_commit(&f->st), 0);
	/* a savepoint rolled back: its numbers come again */
	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(kit_store_savepoint(&f->st), 0);
	assert_int_equal(next(f, "alarm"), 4);
	assert_int_equal(next(f, "alarm"), 5);
	kit_store_rollback_to(&f->st);
	assert_int_equal(next(f, "alarm"), 4);
	assert_int_equal(next(f, "incident"), 2);
	assert_int_equal(kit_store_commit(&f->st), 0);
	/* a transaction rolled back: the same */
	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(next(f, "alarm"), 5);
	kit_store_rollback(&f->st);
	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(next(f, "alarm"), 5);
	/* SQLite rolls back by itself (as after a failed statement) */
	assert_int_equal(
	    sqlite3_exec(f->st.db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(next(f, "alarm"), 5);
	assert_int_equal(next(f, "incident"), 3);
	assert_int_equal(kit_store_commit(&f->st), 0);
	/* the rows changed behind the store (moved on, or gone): the
	 * commit that would write them from where the store left them
	 * fails and says so; the rollback forgets, the rows are read
	 * again */
	assert_int_equal(sqlite3_exec(f->st.db,
	                     "UPDATE seq SET n = 41 WHERE kind = 'alarm';"
	                     "DELETE FROM seq WHERE kind = 'incident'",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(next(f, "incident"), 4);
	assert_int_equal(kit_store_commit(&f->st), -1);
	assert_non_null(strstr(f->st.err, "sequence of incident is not at 3"));
	kit_store_rollback(&f->st);
	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(next(f, "incident"), 1);
	assert_int_equal(next(f, "alarm"), 42);
	assert_int_equal(kit_store_commit(&f->st), 0);
	assert_int_equal(
	    int_of(f, "SELECT n FROM seq WHERE kind = 'alarm'"), 42);
	/* more kinds than it remembers: each still counts on */
	assert_int_equal(kit_store_begin(&f->st), 0);
	for (int round = 1; round <= 2; round++)
		for (int i = 0; i < KIT_SEQ_KINDS + 3; i++) {
			static const char *const k[]
			    = { "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7",
				      "k8", "k9", "k10", "k11" };
			assert_int_equal(next(f, k[i]), round);
		}
	assert_int_equal(kit_store_commit(&f->st), 0);
}

/* Save an owned record {"id","state","owner"} of kind. */
static void
save_owned(fixture *f, const char *kind, const char *id, const char *state,
    const char *owner)
{
	json_t *rec = json_pack("{s:s,s:s,s:I,s:I}", "id", id, "state", state,
	    "created_ms", (json_int_t) 1, "updated_ms", (json_int_t) 2);

	if (owner != NULL)
		json_object_set_new(rec, "owner", json_string(owner));
	assert_int_equal(kit_store_save(&f->st, kind, rec, 1), 0);
	json_decref(rec);
}

/* The ids of a page, in order, joined by ',', into buf; its total. */
static int64_t
page_ids(json_t *page, char *buf, size_t n)
{
	size_t  i;
	json_t *rec;

	buf[0] = '\0';
	json_array_foreach(json_object_get(page, "items"), i, rec)
	{
		size_t l = strlen(buf);
		snprintf(buf + l, n - l, "%s%s", i ? "," : "",
		    json_string_value(json_object_get(rec, "id")));
	}
	return json_integer_value(json_object_get(page, "total"));
}

static void
test_list_filters(void **state)
{
	fixture *f = *state;
	char     ids[256];
	json_t  *page;

	assert_int_equal(kit_store_begin(&f->st), 0);
	save_owned(f, "alarm", "A1", "RAISED", NULL);
	save_owned(f, "alarm", "A2", "RESOLVED", "u1");
	save_owned(f, "alarm", "A3", "RAISED", "u1");
	save_owned(f, "alarm", "A4", "RAISED", "u2");
	save_owned(f, "shift", "S1", "RAISED", "u1");
	assert_int_equal(kit_store_commit(&f->st), 0);

	page = kit_store_list(&f->st, "alarm", "RAISED", NULL, NULL, 10, 0);
	assert_int_equal(page_ids(page, ids, sizeof(ids)), 3);
	assert_string_equal(ids, "A1,A3,A4");
	json_decref(page);
	page = kit_store_list(&f->st, "alarm", NULL, NULL, "u1", 10, 0);
	assert_int_equal(page_ids(page, ids, sizeof(ids)), 2);
	assert_string_equal(ids, "A2,A3");
	json_decref(page);
	page = kit_store_list(&f->st, "alarm", "RAISED", NULL, "u1", 10, 0);
	assert_int_equal(page_ids(page, ids, sizeof(ids)), 1);
	assert_string_equal(ids, "A3");
	json_decref(page);
	page = kit_store_list(&f->st, "alarm", NULL, NULL, NULL, 2, 1);
	assert_int_equal(page_ids(page, ids, sizeof(ids)), 4);
	assert_string_equal(ids, "A2,A3");
	json_decref(page);
}

/* A store made with the indexes no statement searched (over every
 * record's state and owner): opened again, both are gone, and lists by
 * state and by owner give what they gave. */
static void
test_unused_indexes_dropped(void **state)
{
	fixture      *f = *state;
	sqlite3_stmt *s;
	json_t       *page;
	char          ids[64];

	assert_int_equal(sqlite3_exec(f->db,
	                     "CREATE INDEX records_state ON records(kind, "
	                     "state); CREATE INDEX records_owner ON "
	                     "records(kind, owner);",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(kit_store_begin(&f->st), 0);
	save_owned(f, "alarm", "A1", "RAISED", NULL);
	save_owned(f, "alarm", "A2", "RESOLVED", "u1");
	assert_int_equal(kit_store_commit(&f->st), 0);
	kit_store_fini(&f->st);
	assert_int_equal(kit_store_init(&f->st, f->db), 0);
	assert_int_equal(sqlite3_prepare_v2(f->db,
	                     "SELECT group_concat(name) FROM sqlite_schema "
	                     "WHERE type = 'index' AND name LIKE 'records%'",
	                     -1, &s, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal(
	    (const char *) sqlite3_column_text(s, 0), "records_due");
	sqlite3_finalize(s);
	page = kit_store_list(&f->st, "alarm", NULL, NULL, "u1", 10, 0);
	assert_int_equal(page_ids(page, ids, sizeof(ids)), 1);
	assert_string_equal(ids, "A2");
	json_decref(page);
	page = kit_store_list(&f->st, "alarm", "RAISED", NULL, NULL, 10, 0);
	assert_int_equal(page_ids(page, ids, sizeof(ids)), 1);
	assert_string_equal(ids, "A1");
	json_decref(page);
}

/* Add a history row action for alarm id. */
static void
hist(fixture *f, const char *id, const char *action)
{
	kit_change ch
	    = { .action = action, .to = "RAISED", .who = "u1", .at_ms = 1 };

	assert_int_equal(kit_store_history_add(&f->st, "alarm", id, &ch), 0);
}

/* The actions of alarm id's history, comma-separated, into out. */
static const char *
hist_actions(fixture *f, const char *id, char *out, size_t n)
{
	json_t *h = kit_store_history(&f->st, "alarm", id);
	json_t *row;
	size_t  i;

	out[0] = '\0';
	json_array_foreach(h, i, row)
	{
		if (i > 0)
			strncat(out, ",", n - strlen(out) - 1);
		strncat(out, json_string_value(json_object_get(row, "action")),
		    n - strlen(out) - 1);
	}
	json_decref(h);
	return out;
}

static int64_t
int_of(fixture *f, const char *sql)
{
	sqlite3_stmt *s;
	int64_t       v;

	assert_int_equal(
	    sqlite3_prepare_v2(f->db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void
test_history_order(void **state)
{
	fixture *f = *state;
	char     buf[256];

	/* a transaction, one rolled back, one outside any transaction */
	assert_int_equal(kit_store_begin(&f->st), 0);
	hist(f, "A1", "a1");
	hist(f, "A2", "b1");
	hist(f, "A1", "a2");
	assert_int_equal(kit_store_commit(&f->st), 0);
	assert_int_equal(kit_store_begin(&f->st), 0);
	hist(f, "A1", "undone");
	kit_store_rollback(&f->st);
	hist(f, "A1", "a3");
	assert_string_equal(
	    hist_actions(f, "A1", buf, sizeof(buf)), "a1,a2,a3");
	/* the mark is never behind a stored row */
	assert_true(int_of(f, "SELECT n FROM seq WHERE kind = '#history'")
	    >= int_of(f, "SELECT max(seq) FROM history"));
	/* a restart of the store goes on after the mark */
	kit_store_fini(&f->st);
	assert_int_equal(kit_store_init(&f->st, f->db), 0);
	assert_int_equal(kit_store_begin(&f->st), 0);
	hist(f, "A1", "a4");
	assert_int_equal(kit_store_commit(&f->st), 0);
	assert_string_equal(
	    hist_actions(f, "A1", buf, sizeof(buf)), "a1,a2,a3,a4");
	/* a store without the mark (moved in by SQL) goes on after its rows */
	assert_int_equal(
	    sqlite3_exec(f->db, "DELETE FROM seq WHERE kind = '#history'",
	        NULL, NULL, NULL),
	    SQLITE_OK);
	kit_store_fini(&f->st);
	assert_int_equal(kit_store_init(&f->st, f->db), 0);
	hist(f, "A1", "a5");
	assert_string_equal(
	    hist_actions(f, "A1", buf, sizeof(buf)), "a1,a2,a3,a4,a5");
	assert_string_equal(hist_actions(f, "A2", buf, sizeof(buf)), "b1");
	/* keyed by record: no index of its own */
	assert_int_equal(int_of(f,
	                     "SELECT count(*) FROM sqlite_schema WHERE type = "
	                     "'index' AND tbl_name = 'history'"),
	    0);
}

/* ---- held writes (store.h: kit_store_lazy_begin) ---- */

static int64_t
records_of(fixture *f, const char *kind)
{
	char *sql = sqlite3_mprintf(
	    "SELECT count(*) FROM records WHERE kind = %Q", kind);
	int64_t n = int_of(f, sql);

	sqlite3_free(sql);
	return n;
}

/* A request's writes reach the database only at its end, in order; the
 * request reads its own kept record meanwhile; its sequence number is
 * the next. */
static void
test_held_writes_wait(void **state)
{
	fixture *f = *state;
	char     buf[64];
	int64_t  n = 0;

	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(kit_store_next_seq(&f->st, "alarm", &n), 0);
	assert_int_equal(n, 1);
	kit_store_lazy_begin(&f->st);
	assert_int_equal(save(f, "location", "L1", "OPEN", "cell", 1), 0);
	assert_int_equal(save(f, "alarm", "A1", "RAISED", "a", 1), 0);
	hist(f, "A1", "raise");
	assert_int_equal(kit_store_next_seq(&f->st, "alarm", &n), 0);
	assert_int_equal(n, 2);
	/* nothing written yet, and no savepoint taken */
	assert_int_equal(records_of(f, "alarm"), 0);
	assert_int_equal(int_of(f, "SELECT count(*) FROM history"), 0);
	assert_int_equal(f->st.mode, KIT_HOLD_LAZY);
	/* a kept kind reads from the store's copy: no write for it */
	assert_string_equal(loaded_name(f, "location", "L1", buf), "cell");
	assert_int_equal(f->st.mode, KIT_HOLD_LAZY);
	assert_int_equal(kit_store_lazy_end(&f->st), 0);
	assert_int_equal(f->st.mode, KIT_HOLD_NONE);
	assert_int_equal(records_of(f, "alarm"), 1);
	assert_int_equal(records_of(f, "location"), 1);
	/* the sequence's row is written once, by the commit */
	assert_int_equal(
	    int_of(f, "SELECT n FROM seq WHERE kind = 'alarm'"), 1);
	assert_int_equal(kit_store_commit(&f->st), 0);
	assert_int_equal(
	    int_of(f, "SELECT n FROM seq WHERE kind = 'alarm'"), 2);
	assert_string_equal(hist_actions(f, "A1", buf, sizeof(buf)), "raise");
}

/* A refused request leaves nothing: not its rows, not its kept copies,
 * not its sequence number. */
static void
test_held_writes_dropped(void **state)
{
	fixture *f = *state;
	char     buf[64];
	int64_t  n = 0;

	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(kit_store_next_seq(&f->st, "alarm", &n), 0);
	kit_store_lazy_begin(&f->st);
	assert_int_equal(save(f, "location", "L1", "OPEN", "cell", 1), 0);
	hist(f, "L1", "create");
	assert_int_equal(kit_store_next_seq(&f->st, "alarm", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(kit_store_lazy_abort(&f->st), 0);
	assert_string_equal(loaded_name(f, "location", "L1", buf), "");
	assert_int_equal(kit_store_next_seq(&f->st, "alarm", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(kit_store_commit(&f->st), 0);
	assert_int_equal(records_of(f, "location"), 0);
	assert_int_equal(int_of(f, "SELECT count(*) FROM history"), 0);
}

/* Numbers taken in a transaction: each request's from memory, the rows
 * written once by the commit. A refused request gives its numbers back,
 * not those of the requests before it; a slot learned in a refused
 * request goes with its savepoint; a rollback of the whole transaction
 * gives every number back. */
static void
test_sequences_batched(void **state)
{
	fixture *f = *state;
	int64_t  changes;

	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(next(f, "alarm"), 1); /* learned: upsert */
	assert_int_equal(kit_store_commit(&f->st), 0);
	assert_int_equal(kit_store_begin(&f->st), 0);
	changes = sqlite3_total_changes64(f->db);
	kit_store_lazy_begin(&f->st);
	assert_int_equal(next(f, "alarm"), 2);
	assert_int_equal(next(f, "alarm"), 3);
	assert_int_equal(kit_store_lazy_end(&f->st), 0);
	kit_store_lazy_begin(&f->st);
	assert_int_equal(next(f, "alarm"), 4);
	assert_int_equal(kit_store_lazy_abort(&f->st), 0);
	kit_store_lazy_begin(&f->st);
	assert_int_equal(next(f, "alarm"), 4); /* given back */
	assert_int_equal(kit_store_lazy_end(&f->st), 0);
	/* nothing written for them yet */
	assert_int_equal(sqlite3_total_changes64(f->db), changes);
	/* a kind first numbered in a request under a savepoint that is
	 * rolled back: forgotten, its row's upsert undone */
	assert_int_equal(kit_store_savepoint(&f->st), 0);
	assert_int_equal(next(f, "incident"), 1);
	assert_int_equal(next(f, "alarm"), 5);
	kit_store_rollback_to(&f->st);
	assert_int_equal(
	    int_of(f, "SELECT count(*) FROM seq WHERE kind = 'incident'"), 0);
	assert_int_equal(kit_store_savepoint(&f->st), 0);
	assert_int_equal(next(f, "incident"), 1);
	assert_int_equal(next(f, "alarm"), 5);
	assert_int_equal(kit_store_release(&f->st), 0);
	assert_int_equal(kit_store_commit(&f->st), 0);
	assert_int_equal(
	    int_of(f, "SELECT n FROM seq WHERE kind = 'alarm'"), 5);
	assert_int_equal(
	    int_of(f, "SELECT n FROM seq WHERE kind = 'incident'"), 1);
	/* the whole transaction rolled back: its numbers come again */
	assert_int_equal(kit_store_begin(&f->st), 0);
	kit_store_lazy_begin(&f->st);
	assert_int_equal(next(f, "alarm"), 6);
	assert_int_equal(kit_store_lazy_end(&f->st), 0);
	kit_store_rollback(&f->st);
	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(next(f, "alarm"), 6);
	assert_int_equal(kit_store_commit(&f->st), 0);
	/* outside a transaction a number is written at once */
	assert_int_equal(next(f, "alarm"), 7);
	assert_int_equal(
	    int_of(f, "SELECT n FROM seq WHERE kind = 'alarm'"), 7);
}

/* A read that is not of a kept record writes what is held under a
 * savepoint first: it sees the request's writes, and an abort from
 * there undoes them. So does a statement of the plugin's own
 * (kit_sql_row). */
static void
test_read_settles(void **state)
{
	fixture      *f = *state;
	char          buf[64];
	sqlite3_stmt *row = NULL;

	assert_int_equal(kit_store_begin(&f->st), 0);
	kit_store_lazy_begin(&f->st);
	assert_int_equal(save(f, "alarm", "A1", "RAISED", "a", 1), 0);
	assert_string_equal(loaded_name(f, "alarm", "A1", buf), "a");
	assert_int_equal(f->st.mode, KIT_HOLD_SAVEPOINT);
	assert_int_equal(save(f, "alarm", "A2", "RAISED", "b", 1), 0);
	assert_int_equal(records_of(f, "alarm"), 2);
	assert_int_equal(kit_store_lazy_abort(&f->st), 0);
	assert_int_equal(records_of(f, "alarm"), 0);

	kit_store_lazy_begin(&f->st);
	assert_int_equal(save(f, "alarm", "A3", "RAISED", "c", 1), 0);
	assert_int_equal(
	    kit_sql_row(f->db, &row,
	        "SELECT count(*) FROM records WHERE kind = ?1", "t", "alarm"),
	    SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(row, 0), 1);
	sqlite3_finalize(row);
	assert_int_equal(f->st.mode, KIT_HOLD_SAVEPOINT);
	assert_int_equal(kit_store_lazy_abort(&f->st), 0);
	assert_int_equal(records_of(f, "alarm"), 0);
	assert_int_equal(kit_store_commit(&f->st), 0);
}

/* Writing what is held fails: at the first write, nothing of the
 * request is in the database (-1, an abort as usual); part-way, the
 * whole transaction must go (-2). A write around the store and then an
 * abort: the whole transaction too. */
static void
test_held_write_fails(void **state)
{
	fixture *f = *state;

	assert_int_equal(kit_store_begin(&f->st), 0);
	assert_int_equal(save(f, "alarm", "A0", "RAISED", "a", 1), 0);
	/* the first held write fails: the id exists */
	kit_store_lazy_begin(&f->st);
	assert_int_equal(save(f, "alarm", "A0", "RAISED", "again", 1), 0);
	assert_int_equal(kit_store_lazy_end(&f->st), -1);
	assert_non_null(strstr(f->st.err, "insert record"));
	assert_int_equal(kit_store_lazy_abort(&f->st), 0);
	assert_int_equal(records_of(f, "alarm"), 1);
	/* a later one fails: the first is in */
	kit_store_lazy_begin(&f->st);
	assert_int_equal(save(f, "alarm", "A1", "RAISED", "b", 1), 0);
	assert_int_equal(save(f, "alarm", "A0", "RAISED", "again", 1), 0);
	assert_int_equal(kit_store_lazy_end(&f->st), -2);
	assert_int_equal(records_of(f, "alarm"), 2);
	kit_store_rollback(&f->st);
	assert_int_equal(f->st.mode, KIT_HOLD_NONE);
	assert_int_equal(records_of(f, "alarm"), 0);
	/* an update of a row that is not there */
	assert_int_equal(kit_store_begin(&f->st), 0);
	kit_store_lazy_begin(&f->st);
	assert_int_equal(save(f, "alarm", "A9", "CLOSED", "x", 0), 0);
	assert_int_equal(kit_store_lazy_end(&f->st), -1);
	assert_int_equal(kit_store_lazy_abort(&f->st), 0);
	/* around the store */
	kit_store_lazy_begin(&f->st);
	assert_int_equal(
	    sqlite3_exec(f->db, "INSERT INTO seq(kind, n) VALUES('x', 1)",
	        NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(kit_store_lazy_abort(&f->st), -1);
	kit_store_rollback(&f->st);
	assert_int_equal(int_of(f, "SELECT count(*) FROM seq"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_kept_record_is_a_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_peek_shares_kept_record, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_save_refuses_non_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_rollback_forgets, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_savepoint_rollback_forgets, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_rollback_behind_the_store_forgets, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_failed_statement_forgets, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_cache_kind_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_kept_record_is_a_copy, setup_text, teardown),
		cmocka_unit_test_setup_teardown(
		    test_rollback_forgets, setup_text, teardown),
		cmocka_unit_test_setup_teardown(
		    test_savepoint_rollback_forgets, setup_text, teardown),
		cmocka_unit_test_setup_teardown(
		    test_rollback_behind_the_store_forgets, setup_text,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_failed_statement_forgets, setup_text, teardown),
		cmocka_unit_test_setup_teardown(
		    test_held_writes_wait, setup_text, teardown),
		cmocka_unit_test_setup_teardown(
		    test_held_writes_dropped, setup_text, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sequences, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_list_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_unused_indexes_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_history_order, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_held_writes_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_held_writes_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sequences_batched, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_read_settles, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_held_write_fails, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
