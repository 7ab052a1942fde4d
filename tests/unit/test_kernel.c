/*
 * test_kernel.c - the kernel's own services on a real node started
 * in-process (ktest.h): timers (one-shot, periodic, cancel, cancel racing
 * with firing), the kernel clock moved by xz.sys.clock.advance, graceful
 * shutdown (drain before stop, reverse stop order), the per-plugin store
 * and its checkpoints on the kernel's checkpointer thread.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "ktest.h"

#define H xz_kernel_host()

/* ---- small helpers ------------------------------------------------- */

static void
node_open(kt_node *n, const char *rest)
{
	memset(n, 0, sizeof(*n));
	if (kt_open(n, NULL, rest) != 0) {
		kt_print_diag(n);
		fail_msg("node config refused");
	}
}

/* Run fn(arg) in p's actor context and wait for it. */
typedef struct in_actor {
	void (*fn)(void *);
	void       *arg;
	atomic_long done;
} in_actor;

static void
in_actor_tramp(void *a)
{
	in_actor *c = a;
	c->fn(c->arg);
	atomic_store(&c->done, 1);
}

static void
run_in(xz_plugin *p, void (*fn)(void *), void *arg)
{
	in_actor c = { .fn = fn, .arg = arg };
	assert_int_equal(xz_plugin_post(p, in_actor_tramp, &c), XZ_OK);
	assert_int_equal(kt_wait_count(&c.done, 1, 10000), 1);
}

typedef struct done {
	atomic_long calls;
	int         status;
	char        text[16384];
} done;

static void
on_done(void *ud, int status, const xz_msg *reply)
{
	done *d   = ud;
	d->status = status;
	snprintf(d->text, sizeof(d->text), "%.*s", (int) reply->len,
	    (const char *) reply->data);
	atomic_fetch_add(&d->calls, 1);
}

static void
call(xz_plugin *from, const char *topic, const char *json, done *d)
{
	memset(d, 0, sizeof(*d));
	assert_int_equal(
	    H->request(from, topic, json, strlen(json), 5000, on_done, d),
	    XZ_OK);
	assert_int_equal(kt_wait_count(&d->calls, 1, 10000), 1);
}

/* ---- timers -------------------------------------------------------- */

typedef struct tick {
	atomic_long fired;
	uint64_t    last_id;
	long        first_ms;
} tick;

static void
on_tick(void *ud, uint64_t id)
{
	tick *t = ud;
	if (atomic_load(&t->fired) == 0)
		t->first_ms = kt_mono_ms();
	t->last_id = id;
	atomic_fetch_add(&t->fired, 1);
}

static void
test_timer_one_shot_and_periodic(void **state)
{
	kt_node  n;
	tick     once = { 0 }, every = { 0 }, never = { 0 };
	uint64_t id_once, id_every, id_never;
	(void) state;

	node_open(&n, "");
	xz_plugin *a = kt_add_actor(&n, "a");
	assert_int_equal(kt_start(&n), XZ_OK);
	long t0 = kt_mono_ms();
	assert_int_equal(
	    H->timer_start(a, 100, 0, on_tick, &once, &id_once), XZ_OK);
	assert_int_equal(
	    H->timer_start(a, 20, 20, on_tick, &every, &id_every), XZ_OK);
	assert_int_equal(
	    H->timer_start(a, 150, 0, on_tick, &never, &id_never), XZ_OK);
	assert_int_not_equal(id_once, id_every);
	assert_int_equal(H->timer_cancel(a, id_never), XZ_OK);
	assert_int_equal(H->timer_cancel(a, id_never), XZ_ENOENT);
	assert_int_equal(kt_wait_count(&once.fired, 1, 5000), 1);
	long late = once.first_ms - t0;
	if (late < 95 || late > 1500)
		fail_msg("100 ms one-shot fired after %ld ms", late);
	assert_int_equal(once.last_id, id_once);
	kt_sleep_ms(300);
	assert_int_equal(atomic_load(&once.fired), 1);
	assert_int_equal(atomic_load(&never.fired), 0);
	/* A fired one-shot is gone. */
	assert_int_equal(H->timer_cancel(a, id_once), XZ_ENOENT);
	long ticks = atomic_load(&every.fired);
	if (ticks < 5 || ticks > 25)
		fail_msg(
		    "20 ms periodic timer fired %ld times in ~400 ms", ticks);
	assert_int_equal(every.last_id, id_every);
	assert_int_equal(H->timer_cancel(a, id_every), XZ_OK);
	kt_sleep_ms(30); /* a job handed over before the cancel may run */
	ticks = atomic_load(&every.fired);
	kt_sleep_ms(200);
	assert_int_equal(atomic_load(&every.fired), ticks);
	kt_destroy(&n);
}

/* In the actor: arm timers that come due at once, let the timer thread
 * hand them over, then cancel. The actor is busy meanwhile, so each
 * callback is queued behind this job: the cancel must win every time. */
typedef struct race {
	xz_plugin *p;
	tick       t;
	int        cancel_fail;
	int        rounds;
} race;

static void
race_round(void *arg)
{
	race *r = arg;
	for (int i = 0; i < r->rounds; i++) {
		uint64_t id;
		uint64_t period = (uint64_t) (i % 2); /* one-shot, periodic */
		if (H->timer_start(r->p, 0, period, on_tick, &r->t, &id)
		    != XZ_OK) {
			r->cancel_fail++;
			continue;
		}
		/* 0 to ~2 ms: before, during and after the hand-over */
		struct timespec ts = { 0, (i % 5) * 500000L };
		nanosleep(&ts, NULL);
		if (H->timer_cancel(r->p, id) != XZ_OK)
			r->cancel_fail++;
	}
}

static void
test_timer_cancel_races_fire(void **state)
{
	kt_node n;
	race    r = { 0 };
	(void) state;

	node_open(&n, "");
	r.p      = kt_add_actor(&n, "a");
	r.rounds = 200;
	assert_int_equal(kt_start(&n), XZ_OK);
	run_in(r.p, race_round, &r);
	kt_sleep_ms(100);
	assert_int_equal(r.cancel_fail, 0);
	assert_int_equal(atomic_load(&r.t.fired), 0);
	kt_destroy(&n);
}

/* ---- the kernel clock ---------------------------------------------- */

/* A node whose clock tests may move (node.test_clock = true). */
static void
node_open_test_clock(kt_node *n, const char *rest)
{
	memset(n, 0, sizeof(*n));
	if (kt_open(n, "test_clock = true;", rest) != 0) {
		kt_print_diag(n);
		fail_msg("node config refused");
	}
}

/* Without node.test_clock, the clock is read-only: advance is refused
 * with `forbidden` and says how to enable it; now still answers. */
static void
test_clock_advance_forbidden(void **state)
{
	kt_node n;
	done    d;
	(void) state;

	node_open(&n, "");
	xz_plugin *a = kt_add_actor(&n, "a");
	assert_int_equal(kt_start(&n), XZ_OK);
	uint64_t before = H->now_ms(a);
	call(a, "xz.sys.clock.advance", "{\"ms\":3600000}", &d);
	assert_int_equal(d.status, XZ_OK);
	assert_string_equal(d.text,
	    "{\"error\":{\"code\":\"forbidden\",\"message\":\"xz.sys."
	    "clock.advance is disabled: this node has no test clock (set "
	    "node.test_clock = true in its config, for tests only)\"}}");
	assert_true(H->now_ms(a) < before + 3600000);
	call(a, "xz.sys.clock.now", "{}", &d);
	assert_non_null(strstr(d.text, "\"now_ms\":"));
	kt_destroy(&n);
}

static void
test_clock_advance(void **state)
{
	kt_node n;
	tick    ten_min = { 0 }, two_h = { 0 }, hourly = { 0 };
	done    d;
	(void) state;

	node_open_test_clock(&n, "");
	xz_plugin *a = kt_add_actor(&n, "a");
	assert_int_equal(kt_start(&n), XZ_OK);
	uint64_t before = H->now_ms(a);
	assert_int_equal(
	    H->timer_start(a, 600000, 0, on_tick, &ten_min, NULL), XZ_OK);
	assert_int_equal(
	    H->timer_start(a, 7200000, 0, on_tick, &two_h, NULL), XZ_OK);
	assert_int_equal(
	    H->timer_start(a, 3600000, 3600000, on_tick, &hourly, NULL),
	    XZ_OK);
	call(a, "xz.sys.clock.advance", "{\"ms\":3600000}", &d);
	assert_int_equal(d.status, XZ_OK);
	json_t *o = json_loads(d.text, 0, NULL);
	assert_non_null(o);
	uint64_t now
	    = (uint64_t) json_integer_value(json_object_get(o, "now_ms"));
	json_decref(o);
	if (now < before + 3600000 || now > before + 3600000 + 5000)
		fail_msg("now_ms %llu after advancing %llu by 1 h",
		    (unsigned long long) now, (unsigned long long) before);
	uint64_t seen = H->now_ms(a);
	assert_true(seen >= now && seen < now + 5000);
	/* Due timers fired at once: the 10 min one-shot and the hourly. */
	assert_int_equal(kt_wait_count(&ten_min.fired, 1, 2000), 1);
	assert_int_equal(kt_wait_count(&hourly.fired, 1, 2000), 1);
	kt_sleep_ms(100);
	assert_int_equal(atomic_load(&two_h.fired), 0);
	/* Three more hours: the periodic timer does not catch up with a
	 * burst; the two-hour one-shot comes due. */
	call(a, "xz.sys.clock.advance", "{\"ms\":10800000}", &d);
	assert_int_equal(d.status, XZ_OK);
	assert_int_equal(kt_wait_count(&two_h.fired, 1, 2000), 1);
	kt_sleep_ms(100);
	assert_int_equal(atomic_load(&hourly.fired), 2);
	assert_int_equal(atomic_load(&ten_min.fired), 1);
	/* Bad requests get an error reply. */
	call(a, "xz.sys.clock.advance", "{\"ms\":-5}", &d);
	assert_int_equal(d.status, XZ_OK);
	assert_string_equal(d.text,
	    "{\"error\":{\"code\":\"bad_request\",\"message\":\"expected "
	    "{\\\"ms\\\": <non-negative integer>}\"}}");
	kt_destroy(&n);
}

static void
on_silent(void *ud, const xz_msg *m)
{
	(void) ud;
	(void) m;
}

/* Advancing the clock must not expire requests in flight: deadlines are
 * promises in real time (the advance request itself is one of them). */
static void
test_clock_advance_keeps_requests(void **state)
{
	kt_node n;
	done    d;
	(void) state;

	node_open_test_clock(&n, "");
	xz_plugin *a = kt_add_actor(&n, "a");
	xz_plugin *b = kt_add_actor(&n, "b");
	assert_int_equal(kt_start(&n), XZ_OK);
	for (int i = 0; i < 300; i++) {
		call(a, "xz.sys.clock.advance", "{\"ms\":86400000}", &d);
		if (d.status != XZ_OK || strstr(d.text, "now_ms") == NULL)
			fail_msg("advance #%d got status %d: %s", i, d.status,
			    d.text);
	}
	/* A request waiting for a reply keeps its real-time deadline. */
	done w = { 0 };
	assert_int_equal(
	    H->subscribe(b, "svc.silent", NULL, on_silent, NULL, NULL), XZ_OK);
	long t0 = kt_mono_ms();
	assert_int_equal(
	    H->request(a, "svc.silent", "{}", 2, 600, on_done, &w), XZ_OK);
	call(a, "xz.sys.clock.advance", "{\"ms\":86400000}", &d);
	kt_sleep_ms(200);
	assert_int_equal(atomic_load(&w.calls), 0);
	assert_int_equal(kt_wait_count(&w.calls, 1, 5000), 1);
	assert_int_equal(w.status, XZ_ETIMEDOUT);
	long took = kt_mono_ms() - t0;
	if (took < 550 || took > 3000)
		fail_msg("600 ms request timed out after %ld ms", took);
	kt_destroy(&n);
}

/* ---- lifecycle: start order, drain, stop order --------------------- */

static pthread_mutex_t ev_mu = PTHREAD_MUTEX_INITIALIZER;
static char            ev_log[64][48];
static int             ev_n;

static void
ev(const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&ev_mu);
	if (ev_n < 64) {
		va_start(ap, fmt);
		vsnprintf(ev_log[ev_n++], sizeof(ev_log[0]), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&ev_mu);
}

/* A relay republishes each "in.*" as "out.<n>"; a sink counts "out.*"
 * slowly. Both record their lifecycle in ev_log. */
typedef struct stage {
	xz_plugin  *self;
	long        handled;
	long        errors; /* publishes refused */
	const char *name;
} stage;

static stage relay_st, sink_st;

static void
on_in(void *ud, const xz_msg *m)
{
	stage *s = ud;
	s->handled++;
	if (H->publish(s->self, "out.x", m->data, m->len) != XZ_OK)
		s->errors++;
}

static void
on_out(void *ud, const xz_msg *m)
{
	stage *s = ud;
	(void) m;
	kt_sleep_ms(1);
	s->handled++;
}

static int
stage_init(stage *s, xz_plugin *self, void **state)
{
	s->self    = self;
	s->handled = 0;
	s->errors  = 0;
	*state     = s;
	ev("init %s", s->name);
	return XZ_OK;
}

static int
relay_init(xz_plugin *self, const xz_host *h, void **state)
{
	relay_st.name = "relay";
	stage_init(&relay_st, self, state);
	return h->subscribe(self, "in.*", NULL, on_in, &relay_st, NULL);
}

static int
sink_init(xz_plugin *self, const xz_host *h, void **state)
{
	sink_st.name = "sink";
	stage_init(&sink_st, self, state);
	return h->subscribe(self, "out.*", NULL, on_out, &sink_st, NULL);
}

static int
stage_start(void *state)
{
	ev("start %s", ((stage *) state)->name);
	return XZ_OK;
}

static void
stage_stop(void *state)
{
	stage *s = state;
	ev("stop %s handled %ld refused %ld", s->name, s->handled, s->errors);
}

static void
stage_fini(void *state)
{
	ev("fini %s", ((stage *) state)->name);
}

static const xz_plugin_desc relay_desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name     = "relay",
	.version  = "1.0.0",
	.requires = (const char *const[]) { "sink", NULL },
	.init     = relay_init,
	.start    = stage_start,
	.stop     = stage_stop,
	.fini     = stage_fini,
};

static const xz_plugin_desc sink_desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name    = "sink",
	.version = "1.0.0",
	.init    = sink_init,
	.start   = stage_start,
	.stop    = stage_stop,
	.fini    = stage_fini,
};

static void
test_shutdown_drains_then_stops_in_reverse(void **state)
{
	kt_node n;
	(void) state;

	ev_n = 0;
	node_open(&n, "");
	/* relay requires sink: added first, it must start second. */
	assert_int_equal(
	    xz_kernel_add(n.k, "relay", &relay_desc, &n.d), XZ_OK);
	assert_int_equal(xz_kernel_add(n.k, "sink", &sink_desc, &n.d), XZ_OK);
	assert_int_equal(kt_start(&n), XZ_OK);
	for (int i = 0; i < 300; i++)
		assert_int_equal(
		    xz_kernel_publish(n.k, "test", "in.case", "{}", 2), XZ_OK);
	/* Shut down at once: ~300 ms of work for the sink is queued, and
	 * the relay's events to it are published during the drain. */
	kt_destroy(&n);
	const char *want[] = { "init sink", "init relay", "start sink",
		"start relay", "stop relay handled 300 refused 0",
		"stop sink handled 300 refused 0", "fini relay", "fini sink" };
	assert_int_equal(ev_n, 8);
	for (int i = 0; i < 8; i++)
		assert_string_equal(ev_log[i], want[i]);
}

/* ---- the store ----------------------------------------------------- */

typedef struct store_job {
	xz_plugin *p;
	char       mode[16];
	long       rows;
	int        rc;
} store_job;

static void
store_work(void *arg)
{
	store_job    *j  = arg;
	sqlite3      *db = H->store(j->p);
	sqlite3_stmt *st;

	j->rc = -1;
	if (db == NULL)
		return;
	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL)
	        != SQLITE_OK
	    || sqlite3_step(st) != SQLITE_ROW)
		return;
	snprintf(j->mode, sizeof(j->mode), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (sqlite3_exec(db,
	        "CREATE TABLE IF NOT EXISTS visits (id INTEGER PRIMARY KEY, "
	        "who TEXT); INSERT INTO visits (who) VALUES ('P1234AB');",
	        NULL, NULL, NULL)
	    != SQLITE_OK)
		return;
	if (sqlite3_prepare_v2(
	        db, "SELECT count(*) FROM visits", -1, &st, NULL)
	        != SQLITE_OK
	    || sqlite3_step(st) != SQLITE_ROW)
		return;
	j->rows = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	/* the same handle on every call */
	j->rc = H->store(j->p) == db ? 0 : -2;
}

static void
test_store_wal_survives_restart(void **state)
{
	kt_node   n;
	store_job j = { 0 };
	char      path[300];
	(void) state;

	node_open(&n, "");
	j.p = kt_add_actor(&n, "visits");
	assert_int_equal(kt_start(&n), XZ_OK);
	snprintf(path, sizeof(path), "%s/data/visits.db", n.dir);
	assert_false(kt_file_exists(path)); /* opened on first use */
	run_in(j.p, store_work, &j);
	assert_int_equal(j.rc, 0);
	assert_string_equal(j.mode, "wal");
	assert_int_equal(j.rows, 1);
	assert_true(kt_file_exists(path));
	snprintf(path, sizeof(path), "%s/data/visits.db-wal", n.dir);
	assert_true(kt_file_exists(path));
	kt_close(&n);
	/* A new kernel on the same data_dir finds the row. */
	assert_int_equal(kt_open(&n, NULL, ""), 0);
	j.p = kt_add_actor(&n, "visits");
	assert_int_equal(kt_start(&n), XZ_OK);
	run_in(j.p, store_work, &j);
	assert_int_equal(j.rc, 0);
	assert_int_equal(j.rows, 2);
	kt_destroy(&n);
}

/* Checkpoints run on the kernel's checkpointer thread, not on the
 * committing one: past 1000 WAL pages the plugin's commits only ask, the
 * database file takes the pages while the plugin does nothing, and a
 * clean close still checkpoints everything and removes the WAL. */
typedef struct bulk_job {
	xz_plugin *p;
	int        txns;
	int        rc;
} bulk_job;

static void
bulk_work(void *arg)
{
	bulk_job *j  = arg;
	sqlite3  *db = H->store(j->p);

	j->rc = -1;
	if (db == NULL
	    || sqlite3_exec(db,
	           "CREATE TABLE IF NOT EXISTS bulk (id INTEGER PRIMARY "
	           "KEY, b BLOB)",
	           NULL, NULL, NULL)
	        != SQLITE_OK)
		return;
	/* each transaction: 50 rows of 16 KiB, about 210 WAL pages */
	for (int t = 0; t < j->txns; t++)
		if (sqlite3_exec(db,
		        "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
		        "SELECT i + 1 FROM n WHERE i < 50) INSERT INTO "
		        "bulk(b) "
		        "SELECT zeroblob(16384) FROM n; COMMIT;",
		        NULL, NULL, NULL)
		    != SQLITE_OK)
			return;
	j->rc = 0;
}

/* store_commits.KEY of plugin `plugin` in the node's status
 * (xz.sys.status), or -1. */
static long
store_commits(xz_plugin *from, const char *plugin, const char *key)
{
	static done d; /* large */
	json_t     *st, *pl;
	size_t      i;
	long        v = -1;

	call(from, "xz.sys.status", "{}", &d);
	st = json_loads(d.text, 0, NULL);
	json_array_foreach(json_object_get(st, "plugins"), i, pl)
	{
		json_t *c = json_object_get(
		    json_object_get(pl, "store_commits"), key);
		if (strcmp(
		        json_string_value(json_object_get(pl, "name")), plugin)
		        == 0
		    && json_is_integer(c))
			v = (long) json_integer_value(c);
	}
	json_decref(st);
	return v;
}

static long
ledger_checkpoints(xz_plugin *from, const char *name)
{
	char key[64];

	snprintf(key, sizeof(key), "checkpoints_%s", name);
	return store_commits(from, "ledger", key);
}

static bool
ckpt_ran(void *arg)
{
	return ledger_checkpoints(arg, "background") > 0;
}

static long
file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (long) sb.st_size : -1;
}

static void
test_store_checkpoints_in_background(void **state)
{
	kt_node  n;
	bulk_job j = { 0 };
	char     db[300], wal[300];
	(void) state;

	node_open(&n, "");
	j.p    = kt_add_actor(&n, "ledger");
	j.txns = 6; /* ~1260 pages: past 1000, far below 8000 */
	assert_int_equal(kt_start(&n), XZ_OK);
	snprintf(db, sizeof(db), "%s/data/ledger.db", n.dir);
	snprintf(wal, sizeof(wal), "%s/data/ledger.db-wal", n.dir);
	run_in(j.p, bulk_work, &j);
	assert_int_equal(j.rc, 0);
	assert_true(kt_wait(ckpt_ran, j.p, 20000));
	assert_int_equal(ledger_checkpoints(j.p, "inline"), 0);
	/* the pages reached the database file with no commit running */
	assert_true(file_size(db) > 1000L * 4096);
	kt_close(&n);
	assert_false(kt_file_exists(wal)); /* the close checkpointed all */
	assert_int_equal(kt_open(&n, NULL, ""), 0);
	j.p    = kt_add_actor(&n, "ledger");
	j.txns = 0;
	assert_int_equal(kt_start(&n), XZ_OK);
	run_in(j.p, bulk_work, &j);
	assert_int_equal(j.rc, 0);
	kt_destroy(&n);
}

/* A savepoint's journal past the 128 KiB it keeps in memory goes on in a
 * temporary file (temp_store=FILE, SQLITE_CONFIG_STMTJRNL_SPILL in
 * core/kernel/store.c): a savepoint that changed about 400 pages (1.6
 * MiB of journal) and one that changed a few are both rolled back to
 * what they were, and the commits are counted (SQLite's commit and WAL
 * hooks). With a limit of 1 MiB SQLite 3.40 failed the first with
 * "database or disk is full". */
typedef struct sp_job {
	xz_plugin *p;
	long       temp_store, kept, before_sum;
	int        rc;
	char       err[200]; /* SQLite's message when the savepoints failed */
} sp_job;

static long
one_long(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long          v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK
	    && sqlite3_step(st) == SQLITE_ROW)
		v = (long) sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
sp_work(void *arg)
{
	sp_job  *j  = arg;
	sqlite3 *db = H->store(j->p);

	j->rc = -1;
	if (db == NULL)
		return;
	j->temp_store = one_long(db, "PRAGMA temp_store");
	/* 400 rows of about one page each, v = row number */
	if (sqlite3_exec(db,
	        "CREATE TABLE sp (id INTEGER PRIMARY KEY, v INTEGER, b BLOB);"
	        "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + "
	        "1"
	        " FROM n WHERE i < 400) INSERT INTO sp(v, b)"
	        " SELECT i, zeroblob(4000) FROM n; COMMIT;",
	        NULL, NULL, NULL)
	    != SQLITE_OK)
		return;
	j->before_sum = one_long(db, "SELECT sum(v) FROM sp");
	if (sqlite3_exec(db,
	        "BEGIN; SAVEPOINT big; UPDATE sp SET v = -v, b = "
	        "randomblob(4000);"
	        "ROLLBACK TO big; RELEASE big; SAVEPOINT small;"
	        " UPDATE sp SET v = 0 WHERE id <= 3; ROLLBACK TO small;"
	        " RELEASE small; UPDATE sp SET v = v WHERE id = 1; COMMIT;",
	        NULL, NULL, NULL)
	    != SQLITE_OK) {
		snprintf(j->err, sizeof(j->err), "%s", sqlite3_errmsg(db));
		return;
	}

	j->kept = one_long(db,
	    "SELECT count(*) FROM sp WHERE v > 0 AND length(b) = 4000 AND"
	    " b = zeroblob(4000)");
	j->rc   = 0;
}

static bool
commits_counted(void *arg)
{
	return store_commits(arg, "sp", "count") >= 2;
}

static void
test_store_savepoint_journal(void **state)
{
	kt_node n;
	sp_job  j = { 0 };
	(void) state;

	node_open(&n, "");
	j.p = kt_add_actor(&n, "sp");
	assert_int_equal(kt_start(&n), XZ_OK);
	run_in(j.p, sp_work, &j);
	assert_string_equal(j.err, "");
	assert_int_equal(j.rc, 0);
	assert_int_equal(j.temp_store, 1); /* FILE */
	assert_int_equal(j.before_sum, 400L * 401 / 2);
	assert_int_equal(j.kept, 400);
	assert_true(kt_wait(commits_counted, j.p, 20000));
	kt_destroy(&n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_one_shot_and_periodic),
		cmocka_unit_test(test_timer_cancel_races_fire),
		cmocka_unit_test(test_clock_advance),
		cmocka_unit_test(test_clock_advance_forbidden),
		cmocka_unit_test(test_clock_advance_keeps_requests),
		cmocka_unit_test(test_shutdown_drains_then_stops_in_reverse),
		cmocka_unit_test(test_store_wal_survives_restart),
		cmocka_unit_test(test_store_checkpoints_in_background),
		cmocka_unit_test(test_store_savepoint_journal),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	nng_fini(); /* leak checkers: free nng's global state */
	return failed;
}
