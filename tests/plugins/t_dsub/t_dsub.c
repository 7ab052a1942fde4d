/*
 * t_dsub: a C durable subscriber for
 * tests/integration/t_durable_isolated_c.sh. It takes every event under option
 * `pattern` with subscribe_durable and keeps one row per message id in its own
 * store: got(id, body, n, redelivered): the payload, how many times it came,
 *   whether a delivery was flagged XZ_MSG_REDELIVERED;
 * it acknowledges an event only after that row is committed. With
 * crash_once = true, the first event whose payload holds "crash":true
 * ends the process with abort() before its row is written (once: a row
 * in crashed(at) committed just before says so), so that event and what
 * was queued behind it are not acknowledged by this process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include <xiezhi/xiezhi.h>

typedef struct dsub {
	xz_plugin     *self;
	const xz_host *host;
	sqlite3       *db; /* the kernel's (host->store) */
	int            crash_once;
} dsub;

static int
crashed_before(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int           n  = 1; /* when in doubt, do not crash */

	if (sqlite3_prepare_v2(
	        db, "SELECT count(*) FROM crashed", -1, &st, NULL)
	        == SQLITE_OK
	    && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n > 0;
}

static void
on_event(void *ud, const xz_msg *m)
{
	static const char hx[] = "0123456789abcdef";
	dsub             *s    = ud;
	char              id[33];
	char             *body = malloc(m->len + 1); /* owned here */
	sqlite3_stmt     *st   = NULL;
	int               rc   = SQLITE_ERROR;

	if (body == NULL)
		return; /* not acknowledged: it comes again */
	memcpy(body, m->data ? m->data : "", m->len);
	body[m->len] = '\0';
	for (int i = 0; i < 16; i++) {
		id[2 * i]     = hx[m->id[i] >> 4];
		id[2 * i + 1] = hx[m->id[i] & 15];
	}
	id[32] = '\0';
	if (s->crash_once && strstr(body, "\"crash\":true") != NULL
	    && !crashed_before(s->db)) {
		sqlite3_exec(s->db, "INSERT INTO crashed(at) VALUES(1)", NULL,
		    NULL, NULL);
		s->host->log(s->self, XZ_LOG_WARN, "crashing on %s", body);
		abort();
	}
	if (sqlite3_prepare_v2(s->db,
	        "INSERT INTO got(id, body, n, redelivered) VALUES(?1, ?2, 1, "
	        "?3) ON CONFLICT(id) DO UPDATE SET n = n + 1, redelivered = "
	        "max(redelivered, excluded.redelivered)",
	        -1, &st, NULL)
	    == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, body, -1, SQLITE_STATIC);
		sqlite3_bind_int(
		    st, 3, (m->flags & XZ_MSG_REDELIVERED) != 0 ? 1 : 0);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	free(body);
	if (rc != SQLITE_DONE) {
		s->host->log(s->self, XZ_LOG_ERROR, "event %s not stored: %s",
		    id, sqlite3_errmsg(s->db));
		return; /* not acknowledged */
	}
	s->host->counter_add(s->self, "handled", 1);
	if (m->flags & XZ_MSG_REDELIVERED)
		s->host->counter_add(s->self, "redelivered", 1);
	s->host->ack(s->self, m);
}

static const xz_option_decl options[] = {
	{ "pattern", XZ_OPT_STRING, "dtest.>", 0, "what to take durably", 0,
	    0 },
	{ "crash_once", XZ_OPT_BOOL, "false", 0,
	    "abort() on the first event with \"crash\":true", 0, 0 },
	{ NULL, 0, NULL, 0, NULL, 0, 0 },
};

static int
d_init(xz_plugin *self, const xz_host *host, void **state)
{
	dsub *s = calloc(1, sizeof(*s)); /* owned by the kernel: d_fini */

	if (s == NULL)
		return XZ_ENOMEM;
	s->self = self;
	s->host = host;
	host->opt_bool(self, "crash_once", &s->crash_once);
	if ((s->db = host->store(self)) == NULL
	    || sqlite3_exec(s->db,
	           "CREATE TABLE IF NOT EXISTS got(id TEXT PRIMARY KEY, body "
	           "TEXT NOT NULL, n INTEGER NOT NULL, redelivered INTEGER "
	           "NOT NULL);"
	           "CREATE TABLE IF NOT EXISTS crashed(at INTEGER)",
	           NULL, NULL, NULL)
	        != SQLITE_OK
	    || host->subscribe_durable(
	           self, host->opt_string(self, "pattern"), on_event, s, NULL)
	        != XZ_OK) {
		free(s);
		return XZ_EINTERNAL;
	}
	*state = s;
	return XZ_OK;
}

static void
d_fini(void *state)
{
	free(state);
}

static const xz_plugin_desc desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name        = "t_dsub",
	.version     = "1.0.0",
	.description = "durable subscriber that crashes once (tests)",
	.options     = options,
	.init        = d_init,
	.fini        = d_fini,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
