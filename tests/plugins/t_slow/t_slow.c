/*
 * t_slow: a deliberately slow subscriber that counts what it gets.
 *
 * Options: pattern (what to subscribe to), group (queue group, "" none),
 * sleep_us (time each event handler sleeps), persist (keep the running
 * total in the plugin's store, so it survives a restart).
 *
 * Events whose JSON payload holds "n":<integer> are checked for order: each
 * n must be the previous one plus one, else `order_errors` grows.
 * Counts are visible three ways: the counters `received` and
 * `order_errors` in `xiezhi status`, the request "<name>.count" (reply
 * {"count","last","order_errors","total"}), and a log line at stop.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>
#include <xiezhi/xiezhi.h>

typedef struct slow {
	xz_plugin     *self;
	const xz_host *host;
	int64_t        sleep_us;
	int            persist;
	int64_t        count, last, order_errors, base;
	char           count_topic[160];
} slow;

static void
nap(int64_t us)
{
	struct timespec ts = { .tv_sec = us / 1000000,
		.tv_nsec               = (long) (us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) != 0)
		;
}

static void
on_event(void *ud, const xz_msg *msg)
{
	slow       *s = ud;
	const char *p;

	if (msg->kind != XZ_KIND_EVENT)
		return;
	if (s->sleep_us > 0)
		nap(s->sleep_us);
	s->count++;
	s->host->counter_add(s->self, "received", 1);
	if ((p = strstr(msg->data, "\"n\":")) != NULL) {
		long long n = strtoll(p + 4, NULL, 10);
		if (n != s->last + 1) {
			s->order_errors++;
			s->host->counter_add(s->self, "order_errors", 1);
		}
		s->last = n;
	}
}

static void
on_count(void *ud, const xz_msg *msg)
{
	slow *s = ud;
	char  buf[256];
	int   n;

	if (msg->kind != XZ_KIND_REQUEST)
		return;
	n = snprintf(buf, sizeof(buf),
	    "{\"count\":%" PRId64 ",\"last\":%" PRId64
	    ",\"order_errors\":%" PRId64 ",\"total\":%" PRId64 "}",
	    s->count, s->last, s->order_errors, s->base + s->count);
	s->host->reply(s->self, msg, buf, (size_t) n);
}

/* The running total of earlier runs, from the store (persist = true). */
static int
load_total(slow *s)
{
	sqlite3      *db = s->host->store(s->self);
	sqlite3_stmt *st;

	if (db == NULL)
		return XZ_EIO;
	if (sqlite3_exec(db,
	        "CREATE TABLE IF NOT EXISTS total (id INTEGER PRIMARY KEY "
	        "CHECK (id = 1), n INTEGER NOT NULL)",
	        NULL, NULL, NULL)
	        != SQLITE_OK
	    || sqlite3_prepare_v2(
	           db, "SELECT n FROM total WHERE id = 1", -1, &st, NULL)
	        != SQLITE_OK)
		return XZ_EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		s->base = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return XZ_OK;
}

static void
save_total(slow *s)
{
	sqlite3 *db = s->host->store(s->self);
	char     sql[128];

	if (db == NULL)
		return;
	snprintf(sql, sizeof(sql),
	    "INSERT OR REPLACE INTO total (id, n) VALUES (1, %" PRId64 ")",
	    s->base + s->count);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		s->host->log(s->self, XZ_LOG_ERROR,
		    "cannot save the total: %s", sqlite3_errmsg(db));
}

/* The state is freed by p_fini. */
static int
p_init(xz_plugin *self, const xz_host *host, void **state)
{
	slow       *s = calloc(1, sizeof(*s));
	const char *pattern, *group;
	int         rc;

	if (s == NULL)
		return XZ_ENOMEM;
	s->self = self;
	s->host = host;
	host->opt_int(self, "sleep_us", &s->sleep_us);
	host->opt_bool(self, "persist", &s->persist);
	pattern = host->opt_string(self, "pattern");
	group   = host->opt_string(self, "group");
	if (group != NULL && group[0] == '\0')
		group = NULL;
	snprintf(s->count_topic, sizeof(s->count_topic), "%s.count",
	    host->name(self));
	if ((s->persist && (rc = load_total(s)) != XZ_OK)
	    || (rc = host->subscribe(self, pattern, group, on_event, s, NULL))
	        != XZ_OK
	    || (rc = host->subscribe(
	            self, s->count_topic, NULL, on_count, s, NULL))
	        != XZ_OK) {
		free(s);
		return rc;
	}
	*state = s;
	return XZ_OK;
}

static void
p_stop(void *state)
{
	slow *s = state;

	if (s->persist)
		save_total(s);
	s->host->log(s->self, XZ_LOG_INFO,
	    "stopped: received %" PRId64 ", last n %" PRId64
	    ", order errors %" PRId64 ", total %" PRId64,
	    s->count, s->last, s->order_errors, s->base + s->count);
}

static void
p_fini(void *state)
{
	free(state);
}

static const xz_option_decl options[] = {
	{ .name          = "pattern",
	    .type        = XZ_OPT_STRING,
	    .def         = "burst.>",
	    .description = "subscription pattern" },
	{ .name          = "group",
	    .type        = XZ_OPT_STRING,
	    .def         = "",
	    .description = "queue group (empty: none)" },
	{ .name          = "sleep_us",
	    .type        = XZ_OPT_INT,
	    .def         = "0",
	    .min         = 0,
	    .max         = 10000000,
	    .description = "microseconds each event handler sleeps" },
	{ .name          = "persist",
	    .type        = XZ_OPT_BOOL,
	    .def         = "false",
	    .description = "keep the running total in the store" },
	{ NULL },
};

static const xz_plugin_desc desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name        = "t_slow",
	.version     = "1.0.0",
	.description = "slow counting subscriber (tests)",
	.options     = options,
	.init        = p_init,
	.stop        = p_stop,
	.fini        = p_fini,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
