/*
 * test_audit_chain.c - the audit chain library (plugins/common/chain) on a
 * real SQLite file in a temporary directory: records appended through
 * xz_audit_insert verify; a redelivered event is not recorded twice; and
 * each kind of tampering, done behind the library's back as someone with
 * the sqlite3 shell would, is named with the first record it touched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "chain.h"

#define NREC 5

typedef struct fixture {
	char     dir[64]; /* mkdtemp'd; removed in teardown */
	char     db_path[96];
	char     head_path[96];
	sqlite3 *db;
	char     hash[NREC + 1][XZ_SHA256_HEX]; /* hash[seq] as written */
} fixture;

static void
exec_ok(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err ? err : "?");
}

/* Fill r as record i (subject "A000i": its text in a static buffer, one
 * for each i below NREC + 100, so that r may outlive the call). */
static void
append_rec(xz_audit_rec *r, int i, const char *event_id)
{
	static char subjects[NREC + 100][16];
	char       *subject = subjects[i];

	assert_in_range(i, 0, NREC + 99);
	snprintf(subject, sizeof(subjects[0]), "A%04d", i);
	memset(r, 0, sizeof(*r));
	r->at_ms                 = 1700000000000LL + i * 1000;
	r->f[XZ_AF_EVENT_ID]     = event_id;
	r->f[XZ_AF_TOPIC]        = "audit.prison.view";
	r->f[XZ_AF_SOURCE]       = "prison";
	r->f[XZ_AF_WHO]          = "officer-7";
	r->f[XZ_AF_ACTION]       = "VIEW";
	r->f[XZ_AF_SUBJECT_TYPE] = "prisoner";
	r->f[XZ_AF_SUBJECT_ID]   = subject;
	r->f[XZ_AF_TIME]         = "1700000000000";
}

/* Append one record as the audit plugin does: its own transaction. */
static int
append(fixture *f, int i, const char *event_id, xz_audit_rec *r)
{
	char err[256];
	int  rc;

	append_rec(r, i, event_id);
	exec_ok(f->db, "BEGIN IMMEDIATE");
	rc = xz_audit_insert(f->db, r, err, sizeof(err));
	exec_ok(f->db, rc < 0 ? "ROLLBACK" : "COMMIT");
	if (rc < 0)
		fail_msg("insert %d: %s", i, err);
	return rc;
}

static int
setup(void **state)
{
	fixture     *f = calloc(1, sizeof(*f));
	xz_audit_rec r;
	char         err[256], ev[16];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/xz-test-chain-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db_path, sizeof(f->db_path), "%s/audit.db", f->dir);
	snprintf(f->head_path, sizeof(f->head_path), "%s/audit.head", f->dir);
	assert_int_equal(sqlite3_open(f->db_path, &f->db), SQLITE_OK);
	assert_int_equal(xz_audit_schema(f->db, err, sizeof(err)), 0);
	for (int i = 1; i <= NREC; i++) {
		snprintf(ev, sizeof(ev), "ev-%d", i);
		assert_int_equal(append(f, i, ev, &r), 0);
		assert_int_equal(r.seq, i);
		memcpy(f->hash[i], r.hash, XZ_SHA256_HEX);
	}
	assert_int_equal(xz_audit_head_write(f->head_path, r.seq, r.hash), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	sqlite3_close(f->db);
	unlink(f->db_path);
	unlink(f->head_path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Verify and expect a failure of `reason` at record `seq`. */
static void
expect_bad(fixture *f, const char *reason, int64_t seq)
{
	xz_audit_verdict v;

	assert_int_equal(xz_audit_verify(f->db, f->head_path, &v), 0);
	if (v.ok)
		fail_msg("verify passed; expected %s at %lld", reason,
		    (long long) seq);
	assert_string_equal(v.reason, reason);
	assert_int_equal(v.first_bad_seq, seq);
}

/* Tamper as an attacker with the shell: the triggers go first. */
static void
tamper(fixture *f, const char *sql)
{
	exec_ok(f->db,
	    "DROP TRIGGER audit_log_no_update;"
	    "DROP TRIGGER audit_log_no_delete;");
	exec_ok(f->db, sql);
}

static void
test_insert_and_verify(void **state)
{
	fixture         *f = *state;
	xz_audit_verdict v;
	int64_t          seq;
	char             head[XZ_SHA256_HEX];

	assert_int_equal(xz_audit_verify(f->db, f->head_path, &v), 0);
	assert_true(v.ok);
	assert_int_equal(v.records, NREC);
	assert_int_equal(v.last_seq, NREC);
	assert_string_equal(v.last_hash, f->hash[NREC]);
	assert_int_equal(v.head_file, 1);
	assert_int_equal(xz_audit_head(f->db, &seq, head), 0);
	assert_int_equal(seq, NREC);
	assert_string_equal(head, f->hash[NREC]);
	/* each record links to the one before, the first to zeros */
	sqlite3_stmt *st;
	assert_int_equal(
	    sqlite3_prepare_v2(f->db,
	        "SELECT seq, prev_hash FROM audit_log ORDER BY seq", -1, &st,
	        NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int         s    = sqlite3_column_int(st, 0);
		const char *prev = (const char *) sqlite3_column_text(st, 1);
		if (s == 1)
			assert_string_equal(prev,
			    "0000000000000000000000000000000000000000000000000"
			    "000000000000000");
		else
			assert_string_equal(prev, f->hash[s - 1]);
	}
	sqlite3_finalize(st);
	/* the append-only triggers refuse an edit by mistake */
	assert_int_not_equal(
	    sqlite3_exec(f->db, "UPDATE audit_log SET who = 'x' WHERE seq = 1",
	        NULL, NULL, NULL),
	    SQLITE_OK);
}

static void
test_redelivered_event(void **state)
{
	fixture         *f = *state;
	xz_audit_rec     r;
	xz_audit_verdict v;

	assert_int_equal(append(f, 99, "ev-3", &r), 1); /* already there */
	assert_int_equal(xz_audit_verify(f->db, NULL, &v), 0);
	assert_true(v.ok);
	assert_int_equal(v.records, NREC);
}

/* In a batch (one transaction, head read once): a redelivered event is
 * refused by the unique index without a lookup, leaves nothing behind and
 * the transaction goes on with the next record. */
static void
test_redelivered_in_batch(void **state)
{
	fixture         *f = *state;
	xz_audit_writer  w;
	xz_audit_rec     r;
	xz_audit_verdict v;
	int64_t          seq;
	char             hash[XZ_SHA256_HEX], err[256];

	xz_audit_writer_init(&w, f->db);
	exec_ok(f->db, "BEGIN IMMEDIATE");
	assert_int_equal(xz_audit_writer_head(&w, &seq, hash), 0);
	assert_int_equal(seq, NREC);
	memset(&r, 0, sizeof(r));
	r.at_ms               = 1700000100000LL;
	r.f[XZ_AF_EVENT_ID]   = "ev-2";
	r.f[XZ_AF_TOPIC]      = "audit.prison.view";
	r.f[XZ_AF_SOURCE]     = "prison";
	r.f[XZ_AF_SUBJECT_ID] = "again";
	assert_int_equal(
	    xz_audit_writer_insert_after(&w, &r, seq, hash, err, sizeof(err)),
	    1);
	r.f[XZ_AF_EVENT_ID] = "ev-new";
	assert_int_equal(
	    xz_audit_writer_insert_after(&w, &r, seq, hash, err, sizeof(err)),
	    0);
	assert_int_equal(r.seq, NREC + 1);
	assert_int_equal(
	    xz_audit_writer_anchor(&w, r.seq, r.hash, err, sizeof(err)), 0);
	exec_ok(f->db, "COMMIT");
	xz_audit_writer_fini(&w);
	assert_int_equal(xz_audit_verify(f->db, NULL, &v), 0);
	assert_true(v.ok);
	assert_int_equal(v.records, NREC + 1);
}

/* Only the event id's index means "already chained": a unique index
 * added behind the plugin's back that refuses a record is an error (the
 * record must not be taken for one in the chain, it is not). */
static void
test_other_unique_is_error(void **state)
{
	fixture     *f = *state;
	xz_audit_rec r;
	char         err[256];

	exec_ok(f->db, "CREATE UNIQUE INDEX extra ON audit_log(subject_id)");
	append_rec(&r, 2, "ev-other");
	exec_ok(f->db, "BEGIN IMMEDIATE");
	assert_int_equal(xz_audit_insert(f->db, &r, err, sizeof(err)), -1);
	exec_ok(f->db, "ROLLBACK");
}

/* A store made before the indexes on subject, who and hash were given up
 * loses them when the schema is applied; the ones queries use stay. */
static void
test_old_indexes_dropped(void **state)
{
	fixture      *f = *state;
	sqlite3_stmt *st;
	char          err[256];

	exec_ok(f->db,
	    "CREATE INDEX audit_log_subject ON"
	    " audit_log(subject_type, subject_id);"
	    "CREATE INDEX audit_log_who ON audit_log(who);"
	    "CREATE INDEX audit_log_hash ON audit_log(hash);");
	assert_int_equal(xz_audit_schema(f->db, err, sizeof(err)), 0);
	assert_int_equal(sqlite3_prepare_v2(f->db,
	                     "SELECT group_concat(name, ' ') FROM (SELECT name"
	                     " FROM sqlite_master WHERE type = 'index' AND"
	                     " tbl_name = 'audit_log' AND name LIKE"
	                     " 'audit_log_%' ORDER BY name)",
	                     -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *) sqlite3_column_text(st, 0),
	    "audit_log_at audit_log_event");
	sqlite3_finalize(st);
}

static void
test_edited(void **state)
{
	tamper(*state, "UPDATE audit_log SET who = 'mallory' WHERE seq = 3");
	expect_bad(*state, "edited", 3);
}

/* The field changed and the record's own hash recomputed to match: the
 * next record still links to the original. */
static void
test_edited_rehashed(void **state)
{
	fixture     *f = *state;
	xz_audit_rec r;
	char         sql[256];

	memset(&r, 0, sizeof(r));
	r.seq   = 3;
	r.at_ms = 1700000000000LL + 3 * 1000;
	xz_audit_iso(r.at_ms, r.at);
	r.f[XZ_AF_EVENT_ID]     = "ev-3";
	r.f[XZ_AF_TOPIC]        = "audit.prison.view";
	r.f[XZ_AF_SOURCE]       = "prison";
	r.f[XZ_AF_WHO]          = "mallory";
	r.f[XZ_AF_ACTION]       = "VIEW";
	r.f[XZ_AF_SUBJECT_TYPE] = "prisoner";
	r.f[XZ_AF_SUBJECT_ID]   = "A0003";
	r.f[XZ_AF_TIME]         = "1700000000000";
	memcpy(r.prev_hash, f->hash[2], XZ_SHA256_HEX);
	xz_audit_hash(&r);
	assert_string_not_equal(r.hash, f->hash[3]);
	snprintf(sql, sizeof(sql),
	    "UPDATE audit_log SET who = 'mallory', hash = '%s' WHERE seq = 3",
	    r.hash);
	tamper(f, sql);
	expect_bad(f, "edited", 3);
}

static void
test_deleted(void **state)
{
	tamper(*state, "DELETE FROM audit_log WHERE seq = 3");
	expect_bad(*state, "deleted", 3);
}

static void
test_deleted_renumbered(void **state)
{
	tamper(*state,
	    "DELETE FROM audit_log WHERE seq = 2;"
	    "UPDATE audit_log SET seq = seq - 1 WHERE seq > 2;");
	expect_bad(*state, "deleted", 2);
}

static void
test_reordered(void **state)
{
	tamper(*state,
	    "UPDATE audit_log SET seq = 100 WHERE seq = 2;"
	    "UPDATE audit_log SET seq = 2 WHERE seq = 3;"
	    "UPDATE audit_log SET seq = 3 WHERE seq = 100;");
	expect_bad(*state, "reordered", 2);
}

static void
test_truncated(void **state)
{
	tamper(*state, "DELETE FROM audit_log WHERE seq = 5");
	expect_bad(*state, "truncated", 5);
}

/* A record appended with a correct link and hash, but not through the
 * library: the anchor row did not move. */
static void
test_inserted(void **state)
{
	fixture     *f = *state;
	xz_audit_rec r;
	char         sql[512];

	memset(&r, 0, sizeof(r));
	r.seq   = NREC + 1;
	r.at_ms = 1700000100000LL;
	xz_audit_iso(r.at_ms, r.at);
	r.f[XZ_AF_WHO]    = "mallory";
	r.f[XZ_AF_ACTION] = "VIEW";
	memcpy(r.prev_hash, f->hash[NREC], XZ_SHA256_HEX);
	xz_audit_hash(&r);
	snprintf(sql, sizeof(sql),
	    "INSERT INTO audit_log (seq, at_ms, at, who, action, prev_hash,"
	    " hash) VALUES (%d, %lld, '%s', 'mallory', 'VIEW', '%s', '%s')",
	    NREC + 1, (long long) r.at_ms, r.at, r.prev_hash, r.hash);
	exec_ok(f->db, sql); /* the triggers allow an INSERT */
	expect_bad(f, "inserted", NREC + 1);
}

/* The head file's text, read whole (static buffer). */
static const char *
slurp(const char *path)
{
	static char buf[256];
	FILE       *fp = fopen(path, "r");
	size_t      n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return buf;
}

static ino_t
inode_of(const char *path)
{
	struct stat sb;
	assert_int_equal(lstat(path, &sb), 0);
	return sb.st_ino;
}

/* xz_audit_head_write: the line over the old one in place where that is
 * safe (the same file), else a new file renamed over it: a hard-linked
 * copy keeps its line, a symbolic link is replaced (its target kept), a
 * reader holding the file keeps what it opened; verify reads it. */
static void
test_head_write(void **state)
{
	fixture    *f = *state;
	char        want[128], longer[128], link_path[128], target[128];
	const char *h = f->hash[NREC];
	ino_t       ino;

	snprintf(want, sizeof(want), "%d %s\n", NREC, h);
	assert_string_equal(slurp(f->head_path), want);
	ino = inode_of(f->head_path);
	/* a longer line, then a shorter one again: in place */
	assert_int_equal(xz_audit_head_write(f->head_path, 123456789, h), 0);
	assert_int_equal(inode_of(f->head_path), ino);
	snprintf(longer, sizeof(longer), "123456789 %s\n", h);
	assert_string_equal(slurp(f->head_path), longer);
	assert_int_equal(xz_audit_head_write(f->head_path, NREC, h), 0);
	assert_int_equal(inode_of(f->head_path), ino);
	assert_string_equal(slurp(f->head_path), want);
	xz_audit_verdict v;
	assert_int_equal(xz_audit_verify(f->db, f->head_path, &v), 0);
	assert_true(v.ok);
	assert_int_equal(v.head_file, 1);

	/* a hard link: replaced, the link keeps the old line */
	snprintf(link_path, sizeof(link_path), "%s/copy.head", f->dir);
	assert_int_equal(link(f->head_path, link_path), 0);
	assert_int_equal(xz_audit_head_write(f->head_path, 7, h), 0);
	assert_true(inode_of(f->head_path) != ino);
	assert_string_equal(slurp(link_path), want);
	unlink(link_path);

	/* a reader holding a shared lock: not waited for, replaced */
	int rfd = open(f->head_path, O_RDONLY);
	assert_true(rfd >= 0);
	assert_int_equal(flock(rfd, LOCK_SH), 0);
	ino = inode_of(f->head_path);
	assert_int_equal(xz_audit_head_write(f->head_path, 8, h), 0);
	assert_true(inode_of(f->head_path) != ino);
	char got[8] = "";
	assert_int_equal(pread(rfd, got, 2, 0), 2);
	assert_memory_equal(got, "7 ", 2);
	close(rfd);

	/* a symbolic link: replaced by the file, its target untouched */
	snprintf(target, sizeof(target), "%s/target", f->dir);
	FILE *fp = fopen(target, "w");
	assert_non_null(fp);
	fputs("target\n", fp);
	fclose(fp);
	unlink(f->head_path);
	assert_int_equal(symlink(target, f->head_path), 0);
	assert_int_equal(xz_audit_head_write(f->head_path, 9, h), 0);
	struct stat sb;
	assert_int_equal(lstat(f->head_path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_string_equal(slurp(target), "target\n");
	unlink(target);

	/* missing: made */
	unlink(f->head_path);
	assert_int_equal(xz_audit_head_write(f->head_path, NREC, h), 0);
	assert_string_equal(slurp(f->head_path), want);
}

/* xz_audit_iso writes by hand what its snprintf writes: compare the two
 * across the range it takes by hand, its edges, and past them. */
static void
test_iso(void **state)
{
	static const int64_t ms[] = { 0, 1, 999, 1000, 59999, 86399999,
		951782400000LL /* 2000-02-29 */, 1764720000123LL,
		4102444799999LL, 253402300799999LL /* 9999-12-31 */,
		253402300800000LL, -1, -1000, -62167219200000LL };
	(void) state;
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]) + 20000; i++) {
		int64_t   v = i < sizeof(ms) / sizeof(ms[0])
		      ? ms[i]
		      : (int64_t) (i * 12653239777ULL % 253402300800000ULL);
		time_t    t = (time_t) (v / 1000);
		struct tm tm;
		char      want[96], got[32];
		gmtime_r(&t, &tm);
		snprintf(want, sizeof(want),
		    "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		    tm.tm_sec, (int) (v % 1000));
		want[31] = '\0';
		xz_audit_iso(v, got);
		assert_string_equal(got, want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_insert_and_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_redelivered_event, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_redelivered_in_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_other_unique_is_error, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_old_indexes_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edited, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_edited_rehashed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_deleted_renumbered, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_reordered, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_inserted, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_head_write, setup, teardown),
		cmocka_unit_test(test_iso),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
