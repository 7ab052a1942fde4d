/*
 * test_walvfs.c - the plugins' stores' VFS (core/kernel/walvfs.c), which
 * gathers a WAL commit's writes: what a commit wrote is in the files when
 * the commit returns (another connection, on SQLite's default VFS, reads
 * it at once, and so does a fresh process after the writer died without
 * closing anything, killed by SIGKILL: under valgrind the child's
 * unclosed connection is reported as possibly lost, as it should be); a
 * transaction that spilled pages into the WAL before its commit reads them
 * back and, rolled back, leaves nothing; a checkpoint by the other connection
 * and a restarted WAL keep every row; the database passes PRAGMA
 * integrity_check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "kernel/walvfs.h"

typedef struct fixture {
	char     dir[64];
	char     path[128];
	sqlite3 *w; /* the writer, on the VFS (owned) */
	sqlite3 *r; /* a reader on the default VFS (owned) */
} fixture;

static void
exec_ok(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	int   rc  = sqlite3_exec(db, sql, NULL, NULL, &err);

	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, err ? err : "?");
}

static long long
int_of(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	long long     v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static sqlite3 *
open_writer(const char *path)
{
	sqlite3    *db  = NULL;
	const char *vfs = xz_walvfs_register();

	assert_non_null(vfs);
	assert_int_equal(sqlite3_open_v2(path, &db,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs),
	    SQLITE_OK);
	exec_ok(db,
	    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	    " PRAGMA wal_autocheckpoint=0;"
	    " CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY, v TEXT)");
	return db;
}

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/xz-walvfs-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	f->w = open_writer(f->path);
	assert_int_equal(sqlite3_open(f->path, &f->r), SQLITE_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;
	char     cmd[160];

	sqlite3_close(f->w);
	sqlite3_close(f->r);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* n rows of about 1 KiB from k, in one transaction. */
static void
put_rows(sqlite3 *db, int k, int n)
{
	sqlite3_stmt *s;

	assert_int_equal(sqlite3_prepare_v2(db,
	                     "INSERT INTO t(k, v) VALUES(?1, printf('%.*c', "
	                     "1000, 'x') || ?1)",
	                     -1, &s, NULL),
	    SQLITE_OK);
	for (int i = 0; i < n; i++) {
		sqlite3_bind_int(s, 1, k + i);
		assert_int_equal(sqlite3_step(s), SQLITE_DONE);
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
}

/* Each commit, small or of hundreds of pages, is read at once by the
 * other connection. */
static void
test_commit_is_in_the_file(void **state)
{
	fixture *f = *state;
	int      k = 0;

	for (int round = 0; round < 20; round++) {
		int n = round % 2 ? 1 : 300;
		exec_ok(f->w, "BEGIN IMMEDIATE");
		put_rows(f->w, k, n);
		exec_ok(f->w, "COMMIT");
		k += n;
		assert_int_equal(int_of(f->r, "SELECT count(*) FROM t"), k);
	}
	assert_int_equal(
	    int_of(f->r, "SELECT count(*) FROM t WHERE length(v) > 1000"), k);
}

/* A transaction larger than the page cache spills pages into the WAL
 * before its commit: it reads them back, and rolled back leaves nothing;
 * committed, all of it is there. */
static void
test_spilled_transaction(void **state)
{
	fixture *f = *state;

	exec_ok(f->w, "PRAGMA cache_size=20");
	exec_ok(f->w, "BEGIN IMMEDIATE");
	put_rows(f->w, 0, 2000);
	assert_int_equal(int_of(f->w, "SELECT count(*) FROM t"), 2000);
	assert_int_equal(int_of(f->w, "SELECT sum(k) FROM t"), 1999000);
	exec_ok(f->w, "ROLLBACK");
	assert_int_equal(int_of(f->w, "SELECT count(*) FROM t"), 0);
	assert_int_equal(int_of(f->r, "SELECT count(*) FROM t"), 0);
	exec_ok(f->w, "BEGIN IMMEDIATE");
	put_rows(f->w, 0, 2000);
	exec_ok(f->w, "COMMIT");
	assert_int_equal(int_of(f->r, "SELECT count(*) FROM t"), 2000);
}

/* The reader checkpoints (all of the WAL into the database), the writer
 * restarts the WAL from its start and goes on: every row stays, the
 * database is whole. */
static void
test_checkpoint_and_restart(void **state)
{
	fixture *f   = *state;
	int      log = -1, ckpt = -1;

	exec_ok(f->w, "BEGIN IMMEDIATE");
	put_rows(f->w, 0, 500);
	exec_ok(f->w, "COMMIT");
	assert_int_equal(sqlite3_wal_checkpoint_v2(f->r, NULL,
	                     SQLITE_CHECKPOINT_TRUNCATE, &log, &ckpt),
	    SQLITE_OK);
	for (int i = 1; i <= 5; i++) {
		exec_ok(f->w, "BEGIN IMMEDIATE");
		put_rows(f->w, 500 * i, 500);
		exec_ok(f->w, "COMMIT");
		assert_int_equal(
		    int_of(f->r, "SELECT count(*) FROM t"), 500 * (i + 1));
	}
	sqlite3_stmt *s;
	assert_int_equal(
	    sqlite3_prepare_v2(f->r, "PRAGMA integrity_check", -1, &s, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *) sqlite3_column_text(s, 0), "ok");
	sqlite3_finalize(s);
}

/* A writer that dies right after its commits, closing nothing (as after
 * kill -9): a fresh process finds every committed row. */
static void
test_commit_survives_the_writer(void **state)
{
	fixture *f = *state;
	pid_t    pid;
	int      st;

	/* no connection crosses the fork */
	sqlite3_close(f->w);
	sqlite3_close(f->r);
	f->w = f->r = NULL;
	pid         = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sqlite3 *w = open_writer(f->path);
		for (int i = 0; i < 10; i++) {
			exec_ok(w, "BEGIN IMMEDIATE");
			put_rows(w, 100 * i, 100);
			exec_ok(w, "COMMIT");
		}
		/* killed at once: nothing closed, nothing written after */
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(sqlite3_open(f->path, &f->r), SQLITE_OK);
	assert_int_equal(int_of(f->r, "SELECT count(*) FROM t"), 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_commit_is_in_the_file, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_spilled_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_checkpoint_and_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_commit_survives_the_writer, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
