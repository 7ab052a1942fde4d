/*
 * visitor-log - an example xiezhi plugin built out of tree against the
 * installed SDK only. It keeps a log of completed prison visits in its own
 * store and answers two requests about it.
 *
 *   event   prison.visit.completed  (option `topic`)
 *           {"visit_id":"V-1001","prisoner":"A1234BC","type":"LEGAL"}
 *           type SOCIAL, LEGAL or VIDEO. A visit id seen before is a
 *           redelivery and changes nothing (counter "duplicates"); a
 *           malformed event is logged and counted ("rejected").
 *   request visitor-log.counts  {"actor":{"user":..,"role":..,"agency":..}}
 *           -> {"counts":{"LEGAL":1,"SOCIAL":2,"VIDEO":0},"total":3}
 *   request visitor-log.visits  {"actor":{..},"prisoner":"A1234BC",
 *                                "purpose":"legal-aid review"}
 *           -> {"prisoner":"A1234BC","visits":[{"visit_id":..,
 *               "type":..,"at_ms":..}, ...]}   oldest first, at most
 *           max_visits. A read of a person's record: it is audited on
 *           audit.visitor-log.view (action VIEW).
 *
 * Every request must say who acts (actor.user, a string); otherwise the
 * reply is the error "bad_request". Every refused request is audited on
 * audit.visitor-log.refuse (action REFUSE).
 *
 * Options: topic (string, "prison.visit.completed"), max_visits (int, 100,
 * 1..10000). Counters: visits, duplicates, rejected.
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include <xiezhi/i18n.h>
#include <xiezhi/xiezhi.h>

/* The log lines in 简体中文 (<xiezhi/i18n.h>): under a node whose LANG (or
 * LC_MESSAGES, LC_ALL) starts with "zh", VT("English") is the Chinese. */
static const xz_tr visitor_zh[] = {
	{ "audit event for %s %s not published: %s",
	    "%s %s 的审计事件未能发布：%s" },
	{ "%s from %s: needs string visit_id, prisoner and type (LEGAL, "
	  "SOCIAL "
	  "or VIDEO); ignored",
	    "%s（来自 %s）：须有字符串 visit_id、prisoner 和 "
	    "type（LEGAL、SOCIAL "
	    "或 VIDEO）；已忽略" },
	{ "store: %s", "存储：%s" },
	{ "option topic \"%s\": %s", "选项 topic \"%s\"：%s" },
	{ NULL, NULL },
};
#define VT(s) XZ_TR(visitor_zh, s)

static const char *const visit_types[] = { "LEGAL", "SOCIAL", "VIDEO" };
#define NTYPES (sizeof(visit_types) / sizeof(visit_types[0]))

struct vlog {
	xz_plugin     *self;
	const xz_host *host;
	sqlite3       *db; /* the kernel's: never closed here */
	sqlite3_stmt  *insert, *count, *by_prisoner;
	int64_t        max_visits;
};

static const xz_option_decl vlog_options[] = {
	{ .name          = "topic",
	    .type        = XZ_OPT_STRING,
	    .def         = "prison.visit.completed",
	    .description = "topic (or pattern) of completed-visit events" },
	{ .name          = "max_visits",
	    .type        = XZ_OPT_INT,
	    .def         = "100",
	    .description = "most visits one visitor-log.visits reply lists",
	    .min         = 1,
	    .max         = 10000 },
	{ NULL },
};

static int
visit_type_ok(const char *t)
{
	for (size_t i = 0; i < NTYPES; i++)
		if (strcmp(t, visit_types[i]) == 0)
			return 1;
	return 0;
}

/* Send obj as the reply to req and drop the reference to obj. */
static void
reply_json(struct vlog *v, const xz_msg *req, json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

	json_decref(obj);
	if (s == NULL) {
		v->host->reply_error(
		    v->self, req, "internal", "out of memory");
		return;
	}
	v->host->reply(v->self, req, s, strlen(s));
	free(s);
}

/* Publish an audit event (the audit convention of the platform). */
static void
audit(struct vlog *v, json_t *actor, const char *action,
    const char *subject_type, const char *subject_id, const char *purpose,
    const char *outcome, const xz_msg *req)
{
	char    corr[33];
	json_t *ev;
	char   *s;
	int     rc;

	for (int i = 0; i < 16; i++)
		snprintf(corr + 2 * i, 3, "%02x", req->id[i]);
	ev = json_pack("{s:s?,s:s?,s:s?,s:s,s:s,s:s?,s:s?,s:s,s:s,s:I}", "who",
	    json_string_value(json_object_get(actor, "user")), "role",
	    json_string_value(json_object_get(actor, "role")), "agency",
	    json_string_value(json_object_get(actor, "agency")), "action",
	    action, "subject_type", subject_type, "subject_id", subject_id,
	    "purpose", purpose, "outcome", outcome, "corr", corr, "time",
	    (json_int_t) v->host->now_ms(v->self));
	s  = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
	json_decref(ev);
	if (s == NULL)
		return;
	rc = v->host->publish(v->self,
	    strcmp(action, "VIEW") == 0 ? "audit.visitor-log.view"
	                                : "audit.visitor-log.refuse",
	    s, strlen(s));
	if (rc != XZ_OK)
		v->host->log(v->self, XZ_LOG_ERROR,
		    VT("audit event for %s %s not published: %s"), action,
		    subject_id ? subject_id : "-", v->host->strerror(rc));
	free(s);
}

/* Parse a request's payload and check that it names an actor. Returns the
 * parsed object (the caller frees it with json_decref), or NULL after
 * replying "bad_request" and auditing the refusal. */
static json_t *
request_open(struct vlog *v, const xz_msg *msg, const char *subject_type)
{
	json_t *req = json_loadb(msg->data, msg->len, 0, NULL);

	if (!json_is_object(req)) {
		json_decref(req);
		audit(v, NULL, "REFUSE", subject_type, NULL, NULL,
		    "bad_request", msg);
		v->host->reply_error(v->self, msg, "bad_request",
		    "visitor-log: the payload must be a JSON object");
		return NULL;
	}
	if (!json_is_string(
	        json_object_get(json_object_get(req, "actor"), "user"))) {
		audit(v, json_object_get(req, "actor"), "REFUSE", subject_type,
		    NULL, NULL, "bad_request", msg);
		json_decref(req);
		v->host->reply_error(v->self, msg, "bad_request",
		    "visitor-log: \"actor.user\" is required");
		return NULL;
	}
	return req;
}

/* prison.visit.completed */
static void
on_visit(void *ud, const xz_msg *msg)
{
	struct vlog *v    = ud;
	json_t      *ev   = json_loadb(msg->data, msg->len, 0, NULL);
	const char  *id   = json_string_value(json_object_get(ev, "visit_id"));
	const char  *who  = json_string_value(json_object_get(ev, "prisoner"));
	const char  *type = json_string_value(json_object_get(ev, "type"));
	int          rc;

	if (id == NULL || who == NULL || type == NULL
	    || !visit_type_ok(type)) {
		v->host->log(v->self, XZ_LOG_WARN,
		    VT("%s from %s: needs string visit_id, prisoner and type "
		       "(LEGAL, SOCIAL or VIDEO); ignored"),
		    msg->topic, msg->source);
		v->host->counter_add(v->self, "rejected", 1);
		json_decref(ev);
		return;
	}
	sqlite3_bind_text(v->insert, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(v->insert, 2, who, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(v->insert, 3, type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(
	    v->insert, 4, (sqlite3_int64) v->host->now_ms(v->self));
	rc = sqlite3_step(v->insert);
	sqlite3_reset(v->insert);
	sqlite3_clear_bindings(v->insert);
	json_decref(ev);
	if (rc != SQLITE_DONE) {
		v->host->log(v->self, XZ_LOG_ERROR, VT("store: %s"),
		    sqlite3_errmsg(v->db));
		v->host->counter_add(v->self, "store_errors", 1);
		return;
	}
	v->host->counter_add(
	    v->self, sqlite3_changes(v->db) ? "visits" : "duplicates", 1);
}

/* visitor-log.counts */
static void
on_counts(void *ud, const xz_msg *msg)
{
	struct vlog *v = ud;
	json_t      *req, *counts;
	json_int_t   total = 0;
	int          rc;

	if (msg->kind != XZ_KIND_REQUEST
	    || (req = request_open(v, msg, "visit_statistics")) == NULL)
		return;
	json_decref(req);
	counts = json_object();
	for (size_t i = 0; i < NTYPES; i++)
		json_object_set_new(counts, visit_types[i], json_integer(0));
	while ((rc = sqlite3_step(v->count)) == SQLITE_ROW) {
		json_int_t n = sqlite3_column_int64(v->count, 1);
		json_object_set_new(counts,
		    (const char *) sqlite3_column_text(v->count, 0),
		    json_integer(n));
		total += n;
	}
	sqlite3_reset(v->count);
	if (rc != SQLITE_DONE) {
		json_decref(counts);
		v->host->reply_error(
		    v->self, msg, "internal", sqlite3_errmsg(v->db));
		return;
	}
	reply_json(
	    v, msg, json_pack("{s:o,s:I}", "counts", counts, "total", total));
}

/* visitor-log.visits */
static void
on_visits(void *ud, const xz_msg *msg)
{
	struct vlog *v = ud;
	json_t      *req, *list, *actor;
	const char  *who, *purpose;
	int          rc;

	if (msg->kind != XZ_KIND_REQUEST
	    || (req = request_open(v, msg, "prisoner")) == NULL)
		return;
	actor   = json_object_get(req, "actor");
	who     = json_string_value(json_object_get(req, "prisoner"));
	purpose = json_string_value(json_object_get(req, "purpose"));
	if (who == NULL || purpose == NULL || purpose[0] == '\0') {
		/* Reads of a person's record are purpose-bound. */
		audit(v, actor, "REFUSE", "prisoner", who, purpose,
		    "bad_request", msg);
		v->host->reply_error(v->self, msg, "bad_request",
		    "visitor-log.visits: \"prisoner\" and a non-empty "
		    "\"purpose\" are required");
		json_decref(req);
		return;
	}
	list = json_array();
	sqlite3_bind_text(v->by_prisoner, 1, who, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(v->by_prisoner, 2, v->max_visits);
	while ((rc = sqlite3_step(v->by_prisoner)) == SQLITE_ROW)
		json_array_append_new(list,
		    json_pack("{s:s,s:s,s:I}", "visit_id",
		        (const char *) sqlite3_column_text(v->by_prisoner, 0),
		        "type",
		        (const char *) sqlite3_column_text(v->by_prisoner, 1),
		        "at_ms",
		        (json_int_t) sqlite3_column_int64(v->by_prisoner, 2)));
	sqlite3_reset(v->by_prisoner);
	sqlite3_clear_bindings(v->by_prisoner);
	if (rc != SQLITE_DONE) {
		json_decref(list);
		v->host->reply_error(
		    v->self, msg, "internal", sqlite3_errmsg(v->db));
		json_decref(req);
		return;
	}
	audit(v, actor, "VIEW", "prisoner", who, purpose, "ok", msg);
	reply_json(
	    v, msg, json_pack("{s:s,s:o}", "prisoner", who, "visits", list));
	json_decref(req); /* who and purpose point into req */
}

static void
vlog_free(struct vlog *v)
{
	sqlite3_finalize(v->insert);
	sqlite3_finalize(v->count);
	sqlite3_finalize(v->by_prisoner);
	free(v);
}

/* The state allocated here is freed by vlog_fini (or here on error). */
static int
vlog_init(xz_plugin *self, const xz_host *host, void **state)
{
	struct vlog *v = calloc(1, sizeof(*v));
	const char  *topic;
	int          rc = XZ_EIO;

	if (v == NULL)
		return XZ_ENOMEM;
	v->self = self;
	v->host = host;
	topic   = host->opt_string(self, "topic");
	if (topic == NULL
	    || host->opt_int(self, "max_visits", &v->max_visits) != XZ_OK) {
		rc = XZ_EINTERNAL;
		goto fail;
	}
	if ((v->db = host->store(self)) == NULL)
		goto fail;
	if (sqlite3_exec(v->db,
	        "CREATE TABLE IF NOT EXISTS visits ("
	        " visit_id TEXT PRIMARY KEY,"
	        " prisoner TEXT NOT NULL,"
	        " type TEXT NOT NULL CHECK (type IN "
	        "  ('LEGAL', 'SOCIAL', 'VIDEO')),"
	        " at_ms INTEGER NOT NULL);"
	        "CREATE INDEX IF NOT EXISTS visits_prisoner"
	        " ON visits (prisoner, at_ms)",
	        NULL, NULL, NULL)
	        != SQLITE_OK
	    || sqlite3_prepare_v2(v->db,
	           "INSERT OR IGNORE INTO visits VALUES (?, ?, ?, ?)", -1,
	           &v->insert, NULL)
	        != SQLITE_OK
	    || sqlite3_prepare_v2(v->db,
	           "SELECT type, count(*) FROM visits GROUP BY type", -1,
	           &v->count, NULL)
	        != SQLITE_OK
	    || sqlite3_prepare_v2(v->db,
	           "SELECT visit_id, type, at_ms FROM visits WHERE prisoner = "
	           "?"
	           " ORDER BY at_ms, visit_id LIMIT ?",
	           -1, &v->by_prisoner, NULL)
	        != SQLITE_OK) {
		host->log(self, XZ_LOG_ERROR, VT("store: %s"),
		    sqlite3_errmsg(v->db));
		goto fail;
	}
	if ((rc = host->subscribe(self, topic, NULL, on_visit, v, NULL))
	    != XZ_OK) {
		host->log(self, XZ_LOG_ERROR, VT("option topic \"%s\": %s"),
		    topic, host->strerror(rc));
		goto fail;
	}
	if ((rc = host->subscribe(
	         self, "visitor-log.counts", NULL, on_counts, v, NULL))
	        != XZ_OK
	    || (rc = host->subscribe(
	            self, "visitor-log.visits", NULL, on_visits, v, NULL))
	        != XZ_OK)
		goto fail;
	/* Show the counters at zero in `xiezhi status` from the start. */
	host->counter_add(self, "visits", 0);
	host->counter_add(self, "duplicates", 0);
	host->counter_add(self, "rejected", 0);
	*state = v;
	return XZ_OK;
fail:
	vlog_free(v);
	return rc;
}

static void
vlog_fini(void *state)
{
	vlog_free(state);
}

static const xz_plugin_desc vlog_desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name        = "visitor-log",
	.version     = "1.0.0",
	.description = "counts completed prison visits by type",
	.options     = vlog_options,
	.init        = vlog_init,
	.fini        = vlog_fini,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &vlog_desc;
}
