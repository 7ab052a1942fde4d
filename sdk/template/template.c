/*
 * template.c - a complete xiezhi plugin to copy. CHANGE: every line marked
 * "CHANGE" (start with PLUGIN_NAME and the topics), then delete what you do
 * not need. docs/sdk.md (installed as share/doc/xiezhi/sdk.md) is the guide.
 *
 * What it shows, callback by callback:
 *   init     read options, allocate state, open the store, subscribe
 *   start    start a periodic timer, send one request (xz.sys.ping)
 *   stop     cancel the timer (the kernel drained the bus already)
 *   fini     finalize statements, free the state
 *   handlers an event subscription (template.note.*) and a request handler
 *            (template.count) that answers from the store
 *   timer    publishes template.tick {"seq":N,"notes":M}
 *   reply    the completion of the ping request
 *
 * Try it (after `make` or a CMake build, with a node config naming it):
 *   xiezhi pub  -c node.cfg template.note.added '{"id":"n-1","text":"hi"}'
 *   xiezhi call -c node.cfg template.count '{}'   -> {"notes":1}
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xiezhi/xiezhi.h>

#define PLUGIN_NAME "template" /* CHANGE: [a-z][a-z0-9_-]*, unique */

/* CHANGE: the plugin's own state. Never use globals for it: one .so can be
 * loaded as two instances under two names, each with its own state. */
struct tpl {
	xz_plugin     *self; /* this instance, for every host call */
	const xz_host *host; /* the kernel's function table */
	sqlite3       *db; /* owned by the kernel: never close it */
	sqlite3_stmt  *insert;
	sqlite3_stmt  *count;
	int64_t        tick_ms;
	uint64_t       timer; /* 0: none */
	uint64_t       seq;
};

/* CHANGE: declared options. The kernel checks the plugin's `options`
 * group against this table before init (unknown key, wrong type, out of
 * [min, max], missing required value: FILE:LINE errors), and fills in the
 * defaults. */
static const xz_option_decl tpl_options[] = {
	{ .name          = "tick_ms",
	    .type        = XZ_OPT_INT,
	    .def         = "60000",
	    .description = "period of template.tick in milliseconds",
	    .min         = 10,
	    .max         = 86400000 },
	{ NULL },
};

/* Reply to a request with a JSON object; drops the reference to obj. */
static void
reply_json(struct tpl *t, const xz_msg *req, json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

	json_decref(obj);
	if (s == NULL) {
		t->host->reply_error(
		    t->self, req, XZ_REPLY_INTERNAL, "out of memory");
		return;
	}
	t->host->reply(t->self, req, s, strlen(s)); /* copies s */
	free(s);
}

/* An event handler: runs in this plugin's actor, one message at a time.
 * msg and everything it points to are valid only during the call (keep
 * them longer with host->msg_retain / msg_release). CHANGE: your events. */
static void
on_note(void *ud, const xz_msg *msg)
{
	struct tpl *t = ud;
	json_t     *ev, *id;
	int         rc;

	ev = json_loadb(msg->data, msg->len, 0, NULL);
	id = json_object_get(ev, "id");
	if (!json_is_string(id)) {
		/* Events have no reply: log (name the topic) and count. */
		t->host->log(t->self, XZ_LOG_WARN,
		    "%s from %s: payload without a string \"id\", ignored",
		    msg->topic, msg->source);
		t->host->counter_add(t->self, "rejected", 1);
		json_decref(ev);
		return;
	}
	/* Events may be delivered twice: key on their id (INSERT OR
	 * IGNORE), so handling one twice changes nothing. */
	sqlite3_bind_text(
	    t->insert, 1, json_string_value(id), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(t->insert, 2, msg->topic, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(
	    t->insert, 3, (sqlite3_int64) t->host->now_ms(t->self));
	rc = sqlite3_step(t->insert);
	sqlite3_reset(t->insert);
	sqlite3_clear_bindings(t->insert);
	json_decref(ev);
	if (rc != SQLITE_DONE) {
		t->host->log(
		    t->self, XZ_LOG_ERROR, "store: %s", sqlite3_errmsg(t->db));
		t->host->counter_add(t->self, "store_errors", 1);
		return;
	}
	t->host->counter_add(
	    t->self, "notes", sqlite3_changes(t->db)); /* 0 for a duplicate */
}

/* A request handler: answer with host->reply or host->reply_error exactly
 * once (here, or later after msg_retain). Error replies take a code of
 * the closed set XZ_REPLY_* (xiezhi.h, docs/sdk.md) and a message that
 * names the topic and the field. CHANGE: your request. */
static void
on_count(void *ud, const xz_msg *msg)
{
	struct tpl *t = ud;
	json_t     *req;
	int64_t     n = 0;

	if (msg->kind != XZ_KIND_REQUEST) {
		t->host->log(t->self, XZ_LOG_WARN,
		    "%s is a request topic; event from %s ignored", msg->topic,
		    msg->source);
		return;
	}
	/* CHANGE: a real request names who acts ({"actor":{"user":..}}):
	 * refuse one that does not with XZ_REPLY_BAD_REQUEST too (see
	 * examples/c-plugin/visitor_log.c). */
	req = json_loadb(msg->data, msg->len, 0, NULL);
	if (!json_is_object(req)) {
		json_decref(req);
		t->host->reply_error(t->self, msg, XZ_REPLY_BAD_REQUEST,
		    PLUGIN_NAME ".count: the payload must be a JSON object");
		return;
	}
	json_decref(req);
	if (sqlite3_step(t->count) == SQLITE_ROW)
		n = sqlite3_column_int64(t->count, 0);
	else {
		/* The store failed: say so with its own code. */
		t->host->reply_error(
		    t->self, msg, XZ_REPLY_STORE_ERROR, sqlite3_errmsg(t->db));
		sqlite3_reset(t->count);
		return;
	}
	sqlite3_reset(t->count);
	reply_json(t, msg, json_pack("{s:I}", "notes", (json_int_t) n));
}

/* A timer callback: runs in the actor, on the kernel clock (tests move it
 * with xz.sys.clock.advance on a node with node.test_clock = true).
 * CHANGE: your periodic work. */
static void
on_tick(void *ud, uint64_t timer_id)
{
	struct tpl *t = ud;
	char        buf[96];
	int         n, rc;

	(void) timer_id;
	n = snprintf(
	    buf, sizeof(buf), "{\"seq\":%llu}", (unsigned long long) ++t->seq);
	rc = t->host->publish(t->self, PLUGIN_NAME ".tick", buf, (size_t) n);
	if (rc != XZ_OK && rc != XZ_ECLOSED) /* ECLOSED: node stopping */
		t->host->log(t->self, XZ_LOG_WARN, "%s.tick: %s", PLUGIN_NAME,
		    t->host->strerror(rc));
}

/* A request's completion: runs exactly once, in the actor, if request()
 * returned XZ_OK. reply is valid only during the call. */
static void
on_ping_reply(void *ud, int status, const xz_msg *reply)
{
	struct tpl *t = ud;

	if (status != XZ_OK || (reply->flags & XZ_MSG_ERROR))
		t->host->log(t->self, XZ_LOG_WARN, "ping: %s (%.*s)",
		    t->host->strerror(status), (int) reply->len,
		    (const char *) reply->data);
	else
		t->host->log(t->self, XZ_LOG_DEBUG, "ping: %.*s",
		    (int) reply->len, (const char *) reply->data);
}

/* Undo init (used by init on error and by fini). */
static void
tpl_free(struct tpl *t)
{
	/* The kernel closes the database; statements are ours. */
	sqlite3_finalize(t->insert);
	sqlite3_finalize(t->count);
	free(t);
}

/* init: mandatory. Returns XZ_OK, or an error after which no callback of
 * this plugin runs, not even fini: so free everything before returning
 * one. The state allocated here is freed by tpl_fini. */
static int
tpl_init(xz_plugin *self, const xz_host *host, void **state)
{
	struct tpl *t;
	int         rc;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return XZ_ENOMEM;
	t->self = self;
	t->host = host;
	/* Options were validated and defaulted by the kernel. */
	if ((rc = host->opt_int(self, "tick_ms", &t->tick_ms)) != XZ_OK)
		goto fail;
	/* The plugin's own SQLite database, <data_dir>/<instance>.db. */
	if ((t->db = host->store(self)) == NULL) {
		rc = XZ_EIO; /* the kernel logged why */
		goto fail;
	}
	/* CHANGE: your schema. */
	if (sqlite3_exec(t->db,
	        "CREATE TABLE IF NOT EXISTS notes ("
	        " id TEXT PRIMARY KEY, topic TEXT NOT NULL,"
	        " at_ms INTEGER NOT NULL)",
	        NULL, NULL, NULL)
	        != SQLITE_OK
	    || sqlite3_prepare_v2(t->db,
	           "INSERT OR IGNORE INTO notes (id, topic, at_ms) "
	           "VALUES (?, ?, ?)",
	           -1, &t->insert, NULL)
	        != SQLITE_OK
	    || sqlite3_prepare_v2(
	           t->db, "SELECT count(*) FROM notes", -1, &t->count, NULL)
	        != SQLITE_OK) {
		host->log(
		    self, XZ_LOG_ERROR, "store: %s", sqlite3_errmsg(t->db));
		rc = XZ_EIO;
		goto fail;
	}
	/* Subscriptions made in init are live once the node starts. The
	 * kernel removes them all at shutdown. CHANGE: your topics. */
	if ((rc = host->subscribe(
	         self, PLUGIN_NAME ".note.*", NULL, on_note, t, NULL))
	        != XZ_OK
	    || (rc = host->subscribe(
	            self, PLUGIN_NAME ".count", NULL, on_count, t, NULL))
	        != XZ_OK)
		goto fail;
	*state = t;
	return XZ_OK;
fail:
	host->log(self, XZ_LOG_ERROR, "init failed: %s", host->strerror(rc));
	tpl_free(t);
	return rc;
}

/* start: optional. Runs after every plugin in `requires` has started.
 * Begin producing here: timers, first requests. */
static int
tpl_start(void *state)
{
	struct tpl *t = state;
	int         rc;

	rc = t->host->timer_start(t->self, (uint64_t) t->tick_ms,
	    (uint64_t) t->tick_ms, on_tick, t, &t->timer);
	if (rc != XZ_OK)
		return rc;
	/* XZ_OK: on_ping_reply will run exactly once. Any error: it never
	 * runs (e.g. XZ_ENORESPONDERS). timeout 0: the node's default. */
	rc = t->host->request(
	    t->self, "xz.sys.ping", "{}", 2, 0, on_ping_reply, t);
	if (rc != XZ_OK)
		t->host->log(
		    t->self, XZ_LOG_WARN, "ping: %s", t->host->strerror(rc));
	return XZ_OK;
}

/* stop: optional. Stop producing. */
static void
tpl_stop(void *state)
{
	struct tpl *t = state;

	if (t->timer != 0)
		t->host->timer_cancel(t->self, t->timer);
	t->timer = 0;
}

/* fini: mandatory. Free everything; no callback runs after it. */
static void
tpl_fini(void *state)
{
	tpl_free(state);
}

/* The descriptor: static, returned by xz_plugin_entry. */
static const xz_plugin_desc tpl_desc = {
	XZ_PLUGIN_DESC_HEADER, /* struct size and ABI version: keep */
	.name        = PLUGIN_NAME,
	.version     = "0.1.0", /* CHANGE */
	.description = "template: notes in a store", /* CHANGE */
	.options     = tpl_options,
	.requires    = NULL, /* CHANGE: plugins to start first, e.g. */
	/* static const char *const tpl_requires[] = { "prison", NULL }; */
	.init  = tpl_init,
	.start = tpl_start,
	.stop  = tpl_stop,
	.fini  = tpl_fini,
};

/* The only exported symbol. */
XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &tpl_desc;
}
