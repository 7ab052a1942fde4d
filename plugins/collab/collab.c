/*
 * collab.c - cross-department case collaboration: case transfers between
 * agencies (police, procuratorate, court, prison, community corrections,
 * rehab centre) as standard JSON packages, with document content hashes,
 * states, statutory clocks, deduplication and a full history.
 *
 *   SENT -> RECEIVED -> ACCEPTED | PARTIALLY_ACCEPTED | RETURNED(reason)
 *   PARTIALLY_ACCEPTED -> ACCEPTED | RETURNED
 *   ACCEPTED | PARTIALLY_ACCEPTED -> DECIDED -> CLOSED;  RETURNED -> CLOSED
 *
 * Requests collab.transfer.{send,receive,accept,partially-accept,return,
 * decide,close,get,list}; events collab.transfer.<state> (past tense),
 * collab.transfer.overdue, collab.<agency>.inbox.<type>, and one
 * audit.collab.<action> event per change, read and refusal. The package
 * format and the rules are in docs/collab.md.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>
#include <xiezhi/xiezhi.h>

#include "sha256.h"

#define DAY_MS 86400000LL

static const char *const agencies[] = { "POLICE", "PROCURATORATE", "COURT",
	"PRISON", "COMMUNITY_CORRECTIONS", "REHAB_CENTRE", NULL };
static const char *const types[]    = { "ARREST", "PROSECUTION", "TRIAL",
	   "EXECUTION", "COMMUTATION_PAROLE", "CUSTODY_TRANSFER",
	   "COMMUNITY_CORRECTION", "REHAB_DECISION", NULL };

enum party { FROM, TO, EITHER };

/* The state machine: an action, the states it starts from, where it goes,
 * which side may take it. */
typedef struct transition {
	const char *action; /* request suffix */
	const char *from[3];
	const char *to;
	int         party;
	const char *event; /* collab.transfer.<event> */
} transition;

static const transition transitions[] = {
	{ "receive", { "SENT" }, "RECEIVED", TO, "received" },
	{ "accept", { "RECEIVED", "PARTIALLY_ACCEPTED" }, "ACCEPTED", TO,
	    "accepted" },
	{ "partially-accept", { "RECEIVED" }, "PARTIALLY_ACCEPTED", TO,
	    "partially-accepted" },
	{ "return", { "RECEIVED", "PARTIALLY_ACCEPTED" }, "RETURNED", TO,
	    "returned" },
	{ "decide", { "ACCEPTED", "PARTIALLY_ACCEPTED" }, "DECIDED", TO,
	    "decided" },
	{ "close", { "DECIDED", "RETURNED" }, "CLOSED", EITHER, "closed" },
};
#define NTRANS (sizeof(transitions) / sizeof(transitions[0]))

typedef struct collab {
	xz_plugin     *self;
	const xz_host *h;
	sqlite3       *db;
	int64_t cc_notify_days, cc_serve_days, arrest_days, prosecution_days,
	    notify_days, list_max;
	int      check_agency;
	uint64_t timer;
	int      timer_armed;
} collab;

static const xz_option_decl options[] = {
	{ "community_correction_notify_days", XZ_OPT_INT, "5", 0,
	    "COMMUNITY_CORRECTION: days to notify the community corrections "
	    "agency (the transfer must be RECEIVED)",
	    1, 60 },
	{ "community_correction_serve_days", XZ_OPT_INT, "10", 0,
	    "COMMUNITY_CORRECTION: days to serve the documents (the transfer "
	    "must be ACCEPTED in full)",
	    1, 90 },
	{ "arrest_decide_days", XZ_OPT_INT, "7", 0,
	    "ARREST: days for the procuratorate's decision on an arrest "
	    "request (0: no clock)",
	    0, 365 },
	{ "prosecution_decide_days", XZ_OPT_INT, "30", 0,
	    "PROSECUTION: days for the review for prosecution (0: no clock)",
	    0, 365 },
	{ "notify_days", XZ_OPT_INT, "0", 0,
	    "other types: days until the transfer must be RECEIVED (0: no "
	    "clock)",
	    0, 365 },
	{ "check_agency", XZ_OPT_BOOL, "true", 0,
	    "the actor's agency must be the side allowed to act (sender "
	    "sends, receiver receives/accepts/returns/decides) and a party "
	    "to read",
	    0, 0 },
	{ "list_limit_max", XZ_OPT_INT, "1000", 0,
	    "the most transfers one collab.transfer.list returns", 1, 100000 },
	{ NULL, 0, NULL, 0, NULL, 0, 0 }
};

static int
in_list(const char *const *l, const char *s)
{
	for (; s != NULL && *l != NULL; l++)
		if (strcmp(*l, s) == 0)
			return 1;
	return 0;
}

static void
iso(int64_t ms, char out[32])
{
	time_t    t = (time_t) (ms / 1000);
	struct tm tm;
	char      buf[96];

	gmtime_r(&t, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int) (ms % 1000));
	snprintf(out, 32, "%.31s", buf);
}

static int64_t
now_ms(collab *c)
{
	return (int64_t) c->h->now_ms(c->self);
}

/* "prison-1", "Prison", "PRISON" -> "PRISON" (into out). */
static void
agency_code(const char *a, char *out, size_t n)
{
	size_t i = 0;
	for (; a && a[i] && a[i] != '-' && i + 1 < n; i++)
		out[i] = (char) toupper((unsigned char) a[i]);
	out[i] = '\0';
}

/* Topic token of an agency or type: lower case. */
static void
lower(const char *s, char *out, size_t n)
{
	size_t i = 0;
	for (; s[i] && i + 1 < n; i++)
		out[i] = (char) tolower((unsigned char) s[i]);
	out[i] = '\0';
}

typedef struct actor {
	const char *user, *role, *agency;
	char        code[32];
} actor;

static void
publish(collab *c, const char *topic, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	if (s != NULL) {
		int rc = c->h->publish(c->self, topic, s, strlen(s));
		if (rc != XZ_OK)
			c->h->log(c->self, XZ_LOG_ERROR,
			    "collab: publish on '%s' failed: %s", topic,
			    c->h->strerror(rc));
	}
	free(s);
}

/* One audit event (see the audit convention in the brief). */
static void
audit(collab *c, const xz_msg *req, const actor *a, const char *verb,
    const char *action, const char *stype, const char *sid,
    const char *outcome, const char *transfer_id, const char *purpose)
{
	char    topic[96], corr[33], at[32];
	json_t *o;

	snprintf(topic, sizeof(topic), "audit.collab.%s", verb);
	iso(now_ms(c), at);
	o = json_pack("{s:s?,s:s?,s:s?,s:s,s:s?,s:s?,s:s?,s:s,s:s,s:s}", "who",
	    a ? a->user : "collab", "role", a ? a->role : "SYSTEM", "agency",
	    a ? a->agency : NULL, "action", action, "subject_type", stype,
	    "subject_id", sid, "purpose", purpose, "outcome", outcome,
	    "service", "collab", "time", at);
	if (req != NULL) {
		for (int i = 0; i < 16; i++)
			snprintf(corr + 2 * i, 3, "%02x", req->id[i]);
		json_object_set_new(o, "corr", json_string(corr));
	}
	if (transfer_id != NULL)
		json_object_set_new(
		    o, "transfer_id", json_string(transfer_id));
	publish(c, topic, o);
	json_decref(o);
}

/* Refuse a request: error reply and an audit REFUSE record. */
static void refuse(collab *c, const xz_msg *m, const actor *a,
    const char *code, const char *transfer_id, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void
refuse(collab *c, const xz_msg *m, const actor *a, const char *code,
    const char *transfer_id, const char *fmt, ...)
{
	char    msg[512], out[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->h->reply_error(c->self, m, code, msg);
	snprintf(out, sizeof(out), "refused: %s: %s", code, msg);
	audit(c, m, a, "refuse", "REFUSE", "case_transfer",
	    transfer_id ? transfer_id : m->topic, out, transfer_id, NULL);
	c->h->counter_add(c->self, "refused", 1);
}

static int
exec(collab *c, const char *sql)
{
	char *e = NULL;
	if (sqlite3_exec(c->db, sql, NULL, NULL, &e) != SQLITE_OK) {
		c->h->log(
		    c->self, XZ_LOG_ERROR, "collab: %s: %s", sql, e ? e : "?");
		sqlite3_free(e);
		return -1;
	}
	return 0;
}

static int
schema(collab *c)
{
	return exec(c,
	    "CREATE TABLE IF NOT EXISTS transfers ("
	    " id TEXT PRIMARY KEY, pkg_hash TEXT NOT NULL UNIQUE,"
	    " type TEXT NOT NULL, from_agency TEXT NOT NULL,"
	    " to_agency TEXT NOT NULL, subject_type TEXT NOT NULL,"
	    " subject_id TEXT NOT NULL, state TEXT NOT NULL,"
	    " package TEXT NOT NULL, created_ms INTEGER NOT NULL,"
	    " updated_ms INTEGER NOT NULL, return_reason TEXT,"
	    " decision TEXT, accepted TEXT, missing TEXT);"
	    "CREATE INDEX IF NOT EXISTS transfers_to ON transfers(to_agency);"
	    "CREATE INDEX IF NOT EXISTS transfers_from ON"
	    " transfers(from_agency);"
	    "CREATE TABLE IF NOT EXISTS history ("
	    " n INTEGER PRIMARY KEY AUTOINCREMENT,"
	    " transfer_id TEXT NOT NULL REFERENCES transfers(id),"
	    " from_state TEXT, to_state TEXT NOT NULL, action TEXT NOT NULL,"
	    " by_user TEXT, by_role TEXT, by_agency TEXT,"
	    " at_ms INTEGER NOT NULL, reason TEXT);"
	    "CREATE INDEX IF NOT EXISTS history_t ON history(transfer_id);"
	    "CREATE TABLE IF NOT EXISTS clocks ("
	    " transfer_id TEXT NOT NULL REFERENCES transfers(id),"
	    " clock TEXT NOT NULL, due_ms INTEGER NOT NULL,"
	    " status TEXT NOT NULL, PRIMARY KEY (transfer_id, clock));"
	    "CREATE INDEX IF NOT EXISTS clocks_due ON clocks(status, "
	    "due_ms);");
}

/* ---- reading ---------------------------------------------------------- */

/* The transfer as JSON, or NULL if there is none. Caller decrefs. */
static json_t *
load(collab *c, const char *id, int with_history)
{
	sqlite3_stmt *st = NULL;
	json_t       *o  = NULL;
	char          at[32];

	if (sqlite3_prepare_v2(c->db,
	        "SELECT package, state, pkg_hash, created_ms, updated_ms,"
	        " return_reason, decision, accepted, missing FROM transfers"
	        " WHERE id = ?",
	        -1, &st, NULL)
	    != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		o = json_loads(
		    (const char *) sqlite3_column_text(st, 0), 0, NULL);
		if (o == NULL)
			o = json_object();
		json_object_set_new(o, "transfer_id", json_string(id));
		json_object_set_new(o, "state",
		    json_string((const char *) sqlite3_column_text(st, 1)));
		json_object_set_new(o, "package_hash",
		    json_string((const char *) sqlite3_column_text(st, 2)));
		iso(sqlite3_column_int64(st, 3), at);
		json_object_set_new(o, "sent_at", json_string(at));
		iso(sqlite3_column_int64(st, 4), at);
		json_object_set_new(o, "updated_at", json_string(at));
		const char *keys[] = { "return_reason", "decision" };
		for (int i = 0; i < 2; i++)
			if (sqlite3_column_type(st, 5 + i) != SQLITE_NULL)
				json_object_set_new(o, keys[i],
				    json_string(
				        (const char *) sqlite3_column_text(
				            st, 5 + i)));
		const char *lists[]
		    = { "accepted_documents", "missing_documents" };
		for (int i = 0; i < 2; i++)
			if (sqlite3_column_type(st, 7 + i) != SQLITE_NULL) {
				json_t *l = json_loads(
				    (const char *) sqlite3_column_text(
				        st, 7 + i),
				    0, NULL);
				if (l)
					json_object_set_new(o, lists[i], l);
			}
	}
	sqlite3_finalize(st);
	if (o == NULL)
		return NULL;

	json_t *clocks = json_array();
	if (sqlite3_prepare_v2(c->db,
	        "SELECT clock, due_ms, status FROM clocks WHERE"
	        " transfer_id = ? ORDER BY due_ms, clock",
	        -1, &st, NULL)
	    == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			iso(sqlite3_column_int64(st, 1), at);
			json_array_append_new(clocks,
			    json_pack("{s:s,s:s,s:s}", "clock",
			        sqlite3_column_text(st, 0), "due_at", at,
			        "status", sqlite3_column_text(st, 2)));
		}
		sqlite3_finalize(st);
	}
	json_object_set_new(o, "clocks", clocks);
	if (!with_history)
		return o;
	json_t *hist = json_array();
	if (sqlite3_prepare_v2(c->db,
	        "SELECT from_state, to_state, action, by_user, by_role,"
	        " by_agency, at_ms, reason FROM history WHERE"
	        " transfer_id = ? ORDER BY n",
	        -1, &st, NULL)
	    == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			iso(sqlite3_column_int64(st, 6), at);
			json_t *h
			    = json_pack("{s:s?,s:s,s:s,s:{s:s?,s:s?,s:s?},"
			                "s:s}",
			        "from", sqlite3_column_text(st, 0), "to",
			        sqlite3_column_text(st, 1), "action",
			        sqlite3_column_text(st, 2), "by", "user",
			        sqlite3_column_text(st, 3), "role",
			        sqlite3_column_text(st, 4), "agency",
			        sqlite3_column_text(st, 5), "at", at);
			if (sqlite3_column_type(st, 7) != SQLITE_NULL)
				json_object_set_new(h, "reason",
				    json_string(
				        (const char *) sqlite3_column_text(
				            st, 7)));
			json_array_append_new(hist, h);
		}
		sqlite3_finalize(st);
	}
	json_object_set_new(o, "history", hist);
	return o;
}

static void
reply(collab *c, const xz_msg *m, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (s == NULL)
		c->h->reply_error(c->self, m, "internal", "out of memory");
	else
		c->h->reply(c->self, m, s, strlen(s));
	free(s);
}

/* ---- clocks ----------------------------------------------------------- */

static void on_timer(void *ud, uint64_t id);

/* Arm the one kernel timer for the earliest pending clock. */
static void
arm(collab *c)
{
	sqlite3_stmt *st  = NULL;
	int64_t       due = -1;

	if (c->timer_armed) {
		c->h->timer_cancel(c->self, c->timer);
		c->timer_armed = 0;
	}
	if (sqlite3_prepare_v2(c->db,
	        "SELECT min(due_ms) FROM clocks WHERE status = 'PENDING'", -1,
	        &st, NULL)
	    != SQLITE_OK)
		return;
	if (sqlite3_step(st) == SQLITE_ROW
	    && sqlite3_column_type(st, 0) != SQLITE_NULL)
		due = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (due < 0)
		return;
	int64_t now   = now_ms(c);
	int64_t delay = due > now ? due - now : 0;
	if (c->h->timer_start(
	        c->self, (uint64_t) delay, 0, on_timer, c, &c->timer)
	    == XZ_OK)
		c->timer_armed = 1;
}

static void
on_timer(void *ud, uint64_t id)
{
	collab       *c   = ud;
	sqlite3_stmt *st  = NULL;
	int64_t       now = now_ms(c);
	json_t       *due = json_array();

	(void) id;
	c->timer_armed = 0;
	if (sqlite3_prepare_v2(c->db,
	        "SELECT k.transfer_id, k.clock, k.due_ms, t.state, t.type,"
	        " t.from_agency, t.to_agency, t.subject_type, t.subject_id"
	        " FROM clocks k JOIN transfers t ON t.id = k.transfer_id"
	        " WHERE k.status = 'PENDING' AND k.due_ms <= ?"
	        " ORDER BY k.due_ms",
	        -1, &st, NULL)
	    == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, now);
		while (sqlite3_step(st) == SQLITE_ROW) {
			char at[32];
			iso(sqlite3_column_int64(st, 2), at);
			json_array_append_new(due,
			    json_pack(
			        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s}}",
			        "transfer_id", sqlite3_column_text(st, 0),
			        "clock", sqlite3_column_text(st, 1), "due_at",
			        at, "state", sqlite3_column_text(st, 3),
			        "type", sqlite3_column_text(st, 4),
			        "from_agency", sqlite3_column_text(st, 5),
			        "to_agency", sqlite3_column_text(st, 6),
			        "subject", "type", sqlite3_column_text(st, 7),
			        "id", sqlite3_column_text(st, 8)));
		}
		sqlite3_finalize(st);
	}
	size_t  i;
	json_t *e;
	json_array_foreach(due, i, e)
	{
		const char *tid
		    = json_string_value(json_object_get(e, "transfer_id"));
		const char *clk
		    = json_string_value(json_object_get(e, "clock"));
		if (sqlite3_prepare_v2(c->db,
		        "UPDATE clocks SET status = 'OVERDUE' WHERE"
		        " transfer_id = ? AND clock = ?",
		        -1, &st, NULL)
		    == SQLITE_OK) {
			sqlite3_bind_text(st, 1, tid, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, clk, -1, SQLITE_STATIC);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
		publish(c, "collab.transfer.overdue", e);
		char topic[128], ag[32], ty[32], out[96];
		lower(json_string_value(json_object_get(e, "to_agency")), ag,
		    sizeof(ag));
		lower(json_string_value(json_object_get(e, "type")), ty,
		    sizeof(ty));
		snprintf(topic, sizeof(topic), "collab.%s.inbox.%s", ag, ty);
		json_t *note = json_deep_copy(e);
		json_object_set_new(note, "event", json_string("overdue"));
		publish(c, topic, note);
		json_decref(note);
		snprintf(out, sizeof(out), "overdue: %s clock", clk);
		json_t *subj = json_object_get(e, "subject");
		audit(c, NULL, NULL, "overdue", "UPDATE",
		    json_string_value(json_object_get(subj, "type")),
		    json_string_value(json_object_get(subj, "id")), out, tid,
		    "statutory clock");
		c->h->counter_add(c->self, "overdue", 1);
	}
	json_decref(due);
	arm(c);
}

static void
add_clock(collab *c, const char *id, const char *clock, int64_t days,
    int64_t from_ms)
{
	sqlite3_stmt *st = NULL;
	if (days <= 0)
		return;
	if (sqlite3_prepare_v2(c->db,
	        "INSERT OR IGNORE INTO clocks (transfer_id, clock, due_ms,"
	        " status) VALUES (?, ?, ?, 'PENDING')",
	        -1, &st, NULL)
	    != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, clock, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, from_ms + days * DAY_MS);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

static void
set_clocks(collab *c, const char *id, const char *status, const char *which)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(c->db,
	        "UPDATE clocks SET status = ?1 WHERE transfer_id = ?2 AND"
	        " status = 'PENDING' AND (?3 IS NULL OR clock = ?3)",
	        -1, &st, NULL)
	    != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (which)
		sqlite3_bind_text(st, 3, which, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

/* ---- requests --------------------------------------------------------- */

/* Parse the actor; 0, or -1 after refusing. */
static int
get_actor(collab *c, const xz_msg *m, json_t *o, actor *a, int need_agency)
{
	json_t *ac = json_object_get(o, "actor");

	memset(a, 0, sizeof(*a));
	a->user   = json_string_value(json_object_get(ac, "user"));
	a->role   = json_string_value(json_object_get(ac, "role"));
	a->agency = json_string_value(json_object_get(ac, "agency"));
	agency_code(a->agency, a->code, sizeof(a->code));
	if (a->user == NULL || (need_agency && a->agency == NULL)) {
		refuse(c, m, a, "bad_request", NULL,
		    "%s needs \"actor\":{\"user\",\"role\",\"agency\"} (who "
		    "acts is recorded in the history and the audit log)",
		    m->topic);
		return -1;
	}
	return 0;
}

static void
history(collab *c, const char *id, const char *from, const char *to,
    const char *action, const actor *a, int64_t at, const char *reason)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(c->db,
	        "INSERT INTO history (transfer_id, from_state, to_state,"
	        " action, by_user, by_role, by_agency, at_ms, reason)"
	        " VALUES (?,?,?,?,?,?,?,?,?)",
	        -1, &st, NULL)
	    != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (from)
		sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, a->user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, a->role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, a->agency, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, at);
	if (reason)
		sqlite3_bind_text(st, 9, reason, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

/* The thin event of a state change, on collab.transfer.<event>, and on the
 * inbox of the agency that must act next. */
static void
announce(collab *c, json_t *t, const char *event, const char *from_state,
    const actor *a, const char *reason, const char *inbox_agency)
{
	char    at[32], topic[128], ag[32], ty[32];
	json_t *e;

	iso(now_ms(c), at);
	e = json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:s?,s:s,s:{s:s?,s:s?,s:s?},"
	              "s:s}",
	    "transfer_id", json_object_get(t, "transfer_id"), "type",
	    json_object_get(t, "type"), "from_agency",
	    json_object_get(t, "from_agency"), "to_agency",
	    json_object_get(t, "to_agency"), "subject",
	    json_object_get(t, "subject"), "state",
	    json_object_get(t, "state"), "from_state", from_state, "event",
	    event, "by", "user", a->user, "role", a->role, "agency", a->agency,
	    "at", at);
	if (reason)
		json_object_set_new(e, "reason", json_string(reason));
	if (json_object_get(t, "decision"))
		json_object_set(e, "decision", json_object_get(t, "decision"));
	snprintf(topic, sizeof(topic), "collab.transfer.%s", event);
	publish(c, topic, e);
	if (inbox_agency != NULL) {
		lower(inbox_agency, ag, sizeof(ag));
		lower(json_string_value(json_object_get(t, "type")), ty,
		    sizeof(ty));
		snprintf(topic, sizeof(topic), "collab.%s.inbox.%s", ag, ty);
		publish(c, topic, e);
	}
	json_decref(e);
}

static int
valid_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char) s[i]) && !strchr("-_.:", s[i]))
			return 0;
	return 1;
}

static int
is_hex64(const char *s)
{
	if (s == NULL || strlen(s) != 64)
		return 0;
	for (int i = 0; i < 64; i++)
		if (!isdigit((unsigned char) s[i])
		    && !(s[i] >= 'a' && s[i] <= 'f'))
			return 0;
	return 1;
}

static int
cmp_doc(const void *a, const void *b)
{
	json_t *const *x = a, *const *y = b;
	return strcmp(json_string_value(json_object_get(*x, "name")),
	    json_string_value(json_object_get(*y, "name")));
}

/*
 * Validate a package and build its canonical form (known keys only,
 * documents sorted by name). NULL and a message in err when invalid;
 * the caller decrefs the result.
 */
static json_t *
canonical(json_t *o, char *err, size_t n)
{
	static const char *const known[] = { "transfer_id", "type",
		"from_agency", "to_agency", "subject", "documents", "due_days",
		"reason", "actor", "purpose", NULL };
	const char              *k;
	json_t                  *v;

	json_object_foreach(o, k, v) if (!in_list(known, k))
	{
		snprintf(err, n, "unknown key '%s' in the package", k);
		return NULL;
	}
	const char *type = json_string_value(json_object_get(o, "type"));
	const char *from
	    = json_string_value(json_object_get(o, "from_agency"));
	const char *to   = json_string_value(json_object_get(o, "to_agency"));
	json_t     *subj = json_object_get(o, "subject");
	json_t     *docs = json_object_get(o, "documents");
	json_t     *due  = json_object_get(o, "due_days");
	json_t     *why  = json_object_get(o, "reason");
	if (!in_list(types, type)) {
		snprintf(err, n,
		    "type must be one of ARREST, PROSECUTION, TRIAL, "
		    "EXECUTION, "
		    "COMMUTATION_PAROLE, CUSTODY_TRANSFER, "
		    "COMMUNITY_CORRECTION, "
		    "REHAB_DECISION");
		return NULL;
	}
	if (!in_list(agencies, from) || !in_list(agencies, to)) {
		snprintf(err, n,
		    "%s must be one of POLICE, PROCURATORATE, COURT, PRISON, "
		    "COMMUNITY_CORRECTIONS, REHAB_CENTRE",
		    in_list(agencies, from) ? "to_agency" : "from_agency");
		return NULL;
	}
	if (strcmp(from, to) == 0) {
		snprintf(
		    err, n, "from_agency and to_agency are both %s", from);
		return NULL;
	}
	const char *st = json_string_value(json_object_get(subj, "type"));
	const char *si = json_string_value(json_object_get(subj, "id"));
	if (!json_is_object(subj) || json_object_size(subj) != 2 || st == NULL
	    || si == NULL || !*st || !*si) {
		snprintf(err, n,
		    "subject must be {\"type\":..,\"id\":..} (non-empty "
		    "strings, nothing else: details are fetched by request)");
		return NULL;
	}
	if (!json_is_array(docs) || json_array_size(docs) == 0) {
		snprintf(err, n, "documents must be a non-empty array");
		return NULL;
	}
	if (due
	    && (!json_is_integer(due) || json_integer_value(due) < 1
	        || json_integer_value(due) > 365)) {
		snprintf(err, n, "due_days must be an integer 1..365");
		return NULL;
	}
	if (why && !json_is_string(why)) {
		snprintf(err, n, "reason must be a string");
		return NULL;
	}
	size_t   nd  = json_array_size(docs);
	json_t **dv  = calloc(nd, sizeof(*dv));
	json_t  *out = NULL;
	if (dv == NULL)
		return NULL;
	for (size_t i = 0; i < nd; i++) {
		json_t     *d = json_array_get(docs, i);
		const char *name
		    = json_string_value(json_object_get(d, "name"));
		const char *mt
		    = json_string_value(json_object_get(d, "media_type"));
		const char *h
		    = json_string_value(json_object_get(d, "sha256"));
		json_t *sz = json_object_get(d, "size");
		if (!json_is_object(d) || json_object_size(d) != 4 || !name
		    || !*name || !mt || !strchr(mt, '/')) {
			snprintf(err, n,
			    "documents[%zu] must be {name, media_type "
			    "(type/subtype), sha256, size}",
			    i);
			goto done;
		}
		if (!is_hex64(h)) {
			snprintf(err, n,
			    "documents[%zu].sha256 must be 64 lowercase hex "
			    "digits",
			    i);
			goto done;
		}
		if (!json_is_integer(sz) || json_integer_value(sz) < 0) {
			snprintf(err, n,
			    "documents[%zu].size must be a non-negative "
			    "integer",
			    i);
			goto done;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(json_string_value(
			               json_object_get(dv[j], "name")),
			        name)
			    == 0) {
				snprintf(err, n,
				    "documents[%zu]: two documents named '%s'",
				    i, name);
				goto done;
			}
		dv[i] = d;
	}
	qsort(dv, nd, sizeof(*dv), cmp_doc);
	json_t *sorted = json_array();
	for (size_t i = 0; i < nd; i++)
		json_array_append(sorted, dv[i]);
	out = json_pack("{s:s,s:s,s:s,s:{s:s,s:s},s:o}", "type", type,
	    "from_agency", from, "to_agency", to, "subject", "type", st, "id",
	    si, "documents", sorted);
	if (due)
		json_object_set(out, "due_days", due);
	if (why)
		json_object_set(out, "reason", why);
done:
	free(dv);
	return out;
}

static void
do_send(collab *c, const xz_msg *m, json_t *o)
{
	actor       a;
	char        err[300], hash[XZ_SHA256_HEX], idbuf[40];
	const char *id;
	json_t     *pkg, *t;

	if (get_actor(c, m, o, &a, c->check_agency) != 0)
		return;
	if ((pkg = canonical(o, err, sizeof(err))) == NULL) {
		refuse(c, m, &a, "bad_request", NULL, "%s", err);
		return;
	}
	const char *from
	    = json_string_value(json_object_get(pkg, "from_agency"));
	const char *to = json_string_value(json_object_get(pkg, "to_agency"));
	const char *type  = json_string_value(json_object_get(pkg, "type"));
	json_t     *subj  = json_object_get(pkg, "subject");
	const char *stype = json_string_value(json_object_get(subj, "type"));
	const char *sid   = json_string_value(json_object_get(subj, "id"));
	if (c->check_agency && strcmp(a.code, from) != 0) {
		refuse(c, m, &a, "forbidden", NULL,
		    "only %s may send this package; the actor's agency is "
		    "'%s'",
		    from, a.agency);
		json_decref(pkg);
		return;
	}
	char *canon = json_dumps(pkg, JSON_COMPACT | JSON_SORT_KEYS);
	xz_sha256_hex(canon, strlen(canon), hash);

	/* Deduplication by package hash. */
	sqlite3_stmt *st           = NULL;
	char          existing[80] = "";
	if (sqlite3_prepare_v2(c->db,
	        "SELECT id FROM transfers WHERE pkg_hash = ?", -1, &st, NULL)
	    == SQLITE_OK) {
		sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(existing, sizeof(existing), "%s",
			    sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	if (existing[0]) {
		t = load(c, existing, 0);
		json_object_set_new(t, "duplicate", json_true());
		reply(c, m, t);
		audit(c, m, &a, "send", "VIEW", stype, sid,
		    "duplicate: the same package was already sent", existing,
		    NULL);
		c->h->counter_add(c->self, "duplicates", 1);
		json_decref(t);
		json_decref(pkg);
		free(canon);
		return;
	}
	id = json_string_value(json_object_get(o, "transfer_id"));
	if (json_object_get(o, "transfer_id") && !valid_id(id)) {
		refuse(c, m, &a, "bad_request", NULL,
		    "transfer_id must be 1..64 characters of [A-Za-z0-9-_.:]");
		json_decref(pkg);
		free(canon);
		return;
	}
	if (id == NULL) {
		snprintf(idbuf, sizeof(idbuf), "tr-%.16s", hash);
		id = idbuf;
	} else {
		json_t *old = load(c, id, 0);
		if (old != NULL) {
			json_decref(old);
			refuse(c, m, &a, "exists", id,
			    "transfer_id '%s' is already used by another "
			    "package",
			    id);
			json_decref(pkg);
			free(canon);
			return;
		}
	}
	int64_t now = now_ms(c);
	exec(c, "BEGIN IMMEDIATE");
	if (sqlite3_prepare_v2(c->db,
	        "INSERT INTO transfers (id, pkg_hash, type, from_agency,"
	        " to_agency, subject_type, subject_id, state, package,"
	        " created_ms, updated_ms) VALUES (?,?,?,?,?,?,?,'SENT',?,?,?)",
	        -1, &st, NULL)
	    != SQLITE_OK) {
		exec(c, "ROLLBACK");
		refuse(c, m, &a, "store_error", id, "%s", sqlite3_errmsg(c->db));
		json_decref(pkg);
		free(canon);
		return;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, stype, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, sid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, canon, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, now);
	sqlite3_bind_int64(st, 10, now);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		exec(c, "ROLLBACK");
		refuse(c, m, &a, "store_error", id, "%s", sqlite3_errmsg(c->db));
		json_decref(pkg);
		free(canon);
		return;
	}
	history(c, id, NULL, "SENT", "send", &a, now,
	    json_string_value(json_object_get(pkg, "reason")));
	/* Statutory clocks run from the sending. */
	json_t *dd = json_object_get(pkg, "due_days");
	if (strcmp(type, "COMMUNITY_CORRECTION") == 0) {
		add_clock(c, id, "notify", c->cc_notify_days, now);
		add_clock(c, id, "serve", c->cc_serve_days, now);
	} else {
		add_clock(c, id, "notify", c->notify_days, now);
	}
	int64_t decide = dd                    ? json_integer_value(dd)
	    : strcmp(type, "ARREST") == 0      ? c->arrest_days
	    : strcmp(type, "PROSECUTION") == 0 ? c->prosecution_days
	                                       : 0;
	add_clock(c, id, "decide", decide, now);
	exec(c, "COMMIT");
	t = load(c, id, 0);
	json_object_set_new(t, "duplicate", json_false());
	reply(c, m, t);
	announce(c, t, "sent", NULL, &a,
	    json_string_value(json_object_get(pkg, "reason")), to);
	audit(c, m, &a, "send", "CREATE", stype, sid, "SENT", id,
	    json_string_value(json_object_get(o, "purpose")));
	c->h->counter_add(c->self, "sent", 1);
	arm(c);
	json_decref(t);
	json_decref(pkg);
	free(canon);
}

/* Names of documents in the package, as a JSON array of strings. */
static json_t *
doc_names(json_t *t)
{
	json_t *names = json_array(), *d;
	size_t  i;
	json_array_foreach(json_object_get(t, "documents"), i, d)
	    json_array_append(names, json_object_get(d, "name"));
	return names;
}

static int
has_name(json_t *arr, const char *name)
{
	json_t *v;
	size_t  i;
	json_array_foreach(arr, i, v) if (json_is_string(v)
	    && strcmp(json_string_value(v), name) == 0) return 1;
	return 0;
}

static void
do_transition(collab *c, const xz_msg *m, json_t *o, const transition *tr)
{
	actor       a;
	const char *id = json_string_value(json_object_get(o, "transfer_id"));
	json_t     *t;
	char        allowed[256] = "";

	if (get_actor(c, m, o, &a, c->check_agency) != 0)
		return;
	if (id == NULL) {
		refuse(c, m, &a, "bad_request", NULL,
		    "%s needs \"transfer_id\"", m->topic);
		return;
	}
	if ((t = load(c, id, 0)) == NULL) {
		refuse(c, m, &a, "not_found", id, "no transfer '%s'", id);
		return;
	}
	char state[32];
	int  ok = 0;
	snprintf(state, sizeof(state), "%s",
	    json_string_value(json_object_get(t, "state")));
	for (int i = 0; i < 3 && tr->from[i]; i++)
		ok |= strcmp(tr->from[i], state) == 0;
	if (!ok) {
		for (size_t i = 0; i < NTRANS; i++)
			for (int j = 0; j < 3 && transitions[i].from[j]; j++)
				if (strcmp(transitions[i].from[j], state)
				    == 0) {
					if (allowed[0])
						strcat(allowed, ", ");
					strcat(allowed, transitions[i].action);
				}
		refuse(c, m, &a, "invalid_state", id,
		    "transfer '%s' is %s: cannot %s; allowed: %s", id, state,
		    tr->action, allowed[0] ? allowed : "none (final state)");
		json_decref(t);
		return;
	}
	/* Copies: t is reloaded below. */
	char from[32], to[32];
	snprintf(from, sizeof(from), "%s",
	    json_string_value(json_object_get(t, "from_agency")));
	snprintf(to, sizeof(to), "%s",
	    json_string_value(json_object_get(t, "to_agency")));
	if (c->check_agency
	    && !((tr->party != TO && strcmp(a.code, from) == 0)
	        || (tr->party != FROM && strcmp(a.code, to) == 0))) {
		refuse(c, m, &a, "forbidden", id,
		    "only %s%s%s may %s transfer '%s'; the actor's agency is "
		    "'%s'",
		    tr->party == FROM ? from : to,
		    tr->party == EITHER ? " or " : "",
		    tr->party == EITHER ? from : "", tr->action, id, a.agency);
		json_decref(t);
		return;
	}
	const char *reason = json_string_value(json_object_get(o, "reason"));
	const char *decision
	    = json_string_value(json_object_get(o, "decision"));
	json_t *acc = NULL, *missing = NULL;
	if (strcmp(tr->action, "return") == 0 && (!reason || !*reason)) {
		refuse(c, m, &a, "bad_request", id,
		    "a returned transfer needs a \"reason\"");
		json_decref(t);
		return;
	}
	if (strcmp(tr->action, "decide") == 0 && (!decision || !*decision)) {
		refuse(c, m, &a, "bad_request", id,
		    "decide needs a \"decision\" (e.g. APPROVED, REJECTED, "
		    "the "
		    "decision number)");
		json_decref(t);
		return;
	}
	if (strcmp(tr->action, "partially-accept") == 0) {
		json_t *names = doc_names(t), *v;
		json_t *given = json_object_get(o, "accepted");
		size_t  i;
		int bad = !json_is_array(given) || json_array_size(given) == 0;
		json_array_foreach(given, i, v) if (!json_is_string(v)
		    || !has_name(names, json_string_value(v))) bad
		    = 1;
		if (bad || json_array_size(given) >= json_array_size(names)) {
			refuse(c, m, &a, "bad_request", id,
			    "partially-accept needs \"accepted\": a non-empty "
			    "list of some (not all) of the package's document "
			    "names");
			json_decref(names);
			json_decref(t);
			return;
		}
		acc     = json_array();
		missing = json_array();
		json_array_foreach(names, i, v) json_array_append(
		    has_name(given, json_string_value(v)) ? acc : missing, v);
		json_decref(names);
	}

	int64_t now      = now_ms(c);
	char   *accs     = acc ? json_dumps(acc, JSON_COMPACT) : NULL;
	char   *miss     = missing ? json_dumps(missing, JSON_COMPACT) : NULL;
	sqlite3_stmt *st = NULL;
	exec(c, "BEGIN IMMEDIATE");
	if (sqlite3_prepare_v2(c->db,
	        "UPDATE transfers SET state = ?2, updated_ms = ?3,"
	        " return_reason = coalesce(?4, return_reason),"
	        " decision = coalesce(?5, decision),"
	        " accepted = CASE WHEN ?2 = 'ACCEPTED' THEN NULL"
	        "  ELSE coalesce(?6, accepted) END,"
	        " missing = CASE WHEN ?2 = 'ACCEPTED' THEN NULL"
	        "  ELSE coalesce(?7, missing) END WHERE id = ?1",
	        -1, &st, NULL)
	    == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, tr->to, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now);
		if (strcmp(tr->action, "return") == 0)
			sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
		if (decision && strcmp(tr->action, "decide") == 0)
			sqlite3_bind_text(st, 5, decision, -1, SQLITE_STATIC);
		if (accs)
			sqlite3_bind_text(st, 6, accs, -1, SQLITE_STATIC);
		if (miss)
			sqlite3_bind_text(st, 7, miss, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	history(c, id, state, tr->to, tr->action, &a, now,
	    decision && strcmp(tr->action, "decide") == 0 ? decision : reason);
	/* Clocks: RECEIVED meets notify; ACCEPTED (in full) meets serve;
	 * DECIDED meets decide; RETURNED and CLOSED stop what is left. */
	if (strcmp(tr->to, "RECEIVED") == 0)
		set_clocks(c, id, "MET", "notify");
	else if (strcmp(tr->to, "ACCEPTED") == 0)
		set_clocks(c, id, "MET", "serve");
	else if (strcmp(tr->to, "DECIDED") == 0)
		set_clocks(c, id, "MET", "decide");
	else if (strcmp(tr->to, "RETURNED") == 0
	    || strcmp(tr->to, "CLOSED") == 0)
		set_clocks(c, id, "STOPPED", NULL);
	exec(c, "COMMIT");
	json_decref(t);
	t = load(c, id, 0);
	reply(c, m, t);
	/* The next one to act: the sender after a return or a decision. */
	const char *inbox
	    = strcmp(tr->to, "RETURNED") == 0 || strcmp(tr->to, "DECIDED") == 0
	    ? from
	    : NULL;
	announce(c, t, tr->event, state, &a,
	    strcmp(tr->action, "decide") == 0 ? NULL : reason, inbox);
	json_t *subj = json_object_get(t, "subject");
	audit(c, m, &a, tr->event, "UPDATE",
	    json_string_value(json_object_get(subj, "type")),
	    json_string_value(json_object_get(subj, "id")), tr->to, id,
	    json_string_value(json_object_get(o, "purpose")));
	c->h->counter_add(c->self, "transitions", 1);
	arm(c);
	free(accs);
	free(miss);
	json_decref(acc);
	json_decref(missing);
	json_decref(t);
}

static int
is_party(const actor *a, json_t *t)
{
	return strcmp(a->code,
	           json_string_value(json_object_get(t, "from_agency")))
	    == 0
	    || strcmp(
	           a->code, json_string_value(json_object_get(t, "to_agency")))
	    == 0;
}

static void
do_get(collab *c, const xz_msg *m, json_t *o)
{
	actor       a;
	const char *id = json_string_value(json_object_get(o, "transfer_id"));
	json_t     *t;

	if (get_actor(c, m, o, &a, c->check_agency) != 0)
		return;
	if (id == NULL || (t = load(c, id, 1)) == NULL) {
		refuse(c, m, &a, id ? "not_found" : "bad_request", id,
		    id ? "no transfer '%s'" : "%s needs \"transfer_id\"",
		    id ? id : m->topic);
		return;
	}
	if (c->check_agency && !is_party(&a, t)) {
		refuse(c, m, &a, "forbidden", id,
		    "transfer '%s' is between %s and %s; the actor's agency "
		    "is '%s'",
		    id, json_string_value(json_object_get(t, "from_agency")),
		    json_string_value(json_object_get(t, "to_agency")),
		    a.agency);
		json_decref(t);
		return;
	}
	reply(c, m, t);
	json_t *subj = json_object_get(t, "subject");
	audit(c, m, &a, "view", "VIEW",
	    json_string_value(json_object_get(subj, "type")),
	    json_string_value(json_object_get(subj, "id")), "ok", id,
	    json_string_value(json_object_get(o, "purpose")));
	json_decref(t);
}

static void
do_list(collab *c, const xz_msg *m, json_t *o)
{
	actor         a;
	sqlite3_stmt *st    = NULL;
	const char   *state = json_string_value(json_object_get(o, "state"));
	const char   *type  = json_string_value(json_object_get(o, "type"));
	const char   *dir = json_string_value(json_object_get(o, "direction"));
	json_t       *lim = json_object_get(o, "limit");
	int64_t       limit  = lim ? json_integer_value(lim) : 100;
	char          ag[32] = "";

	if (get_actor(c, m, o, &a, c->check_agency) != 0)
		return;
	if ((lim && !json_is_integer(lim)) || limit < 1 || limit > c->list_max
	    || (dir && strcmp(dir, "in") && strcmp(dir, "out"))) {
		refuse(c, m, &a, "bad_request", NULL,
		    "list takes {state, type, direction: \"in\"|\"out\", "
		    "agency, limit: 1..%" PRId64 "}",
		    c->list_max);
		return;
	}
	if (c->check_agency)
		snprintf(ag, sizeof(ag), "%s", a.code);
	else if (json_string_value(json_object_get(o, "agency")))
		agency_code(json_string_value(json_object_get(o, "agency")),
		    ag, sizeof(ag));
	if (sqlite3_prepare_v2(c->db,
	        "SELECT id FROM transfers WHERE (?1 IS NULL OR state = ?1)"
	        " AND (?2 IS NULL OR type = ?2) AND (?3 IS NULL OR"
	        " (?4 IS NOT 'out' AND to_agency = ?3) OR"
	        " (?4 IS NOT 'in' AND from_agency = ?3))"
	        " ORDER BY created_ms, id LIMIT ?5",
	        -1, &st, NULL)
	    != SQLITE_OK) {
		refuse(
		    c, m, &a, "store_error", NULL, "%s", sqlite3_errmsg(c->db));
		return;
	}
	if (state)
		sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	if (type)
		sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	if (ag[0])
		sqlite3_bind_text(st, 3, ag, -1, SQLITE_STATIC);
	if (dir)
		sqlite3_bind_text(st, 4, dir, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, limit);
	json_t *ids = json_array();
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(ids,
		    json_string((const char *) sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	json_t *out = json_array(), *v;
	size_t  i;
	json_array_foreach(ids, i, v)
	{
		json_t *t = load(c, json_string_value(v), 0);
		if (t)
			json_array_append_new(out, t);
	}
	json_decref(ids);
	json_t *r = json_pack("{s:o,s:I}", "transfers", out, "count",
	    (json_int_t) json_array_size(out));
	reply(c, m, r);
	char outcome[64];
	snprintf(outcome, sizeof(outcome), "ok: %zu transfers",
	    json_array_size(out));
	audit(c, m, &a, "list", "VIEW", "case_transfer", "list", outcome, NULL,
	    json_string_value(json_object_get(o, "purpose")));
	json_decref(r);
}

static void
on_request(void *ud, const xz_msg *m)
{
	collab     *c = ud;
	const char *action;
	json_t     *o;

	if (m->kind != XZ_KIND_REQUEST)
		return;
	action = m->topic + strlen("collab.transfer.");
	o      = json_loadb(m->data, m->len, 0, NULL);
	if (!json_is_object(o)) {
		actor none; /* unknown: not the plugin itself */
		memset(&none, 0, sizeof(none));
		refuse(c, m, &none, "bad_request", NULL,
		    "%s: the payload must be a JSON object", m->topic);
		json_decref(o);
		return;
	}
	if (strcmp(action, "send") == 0)
		do_send(c, m, o);
	else if (strcmp(action, "get") == 0)
		do_get(c, m, o);
	else if (strcmp(action, "list") == 0)
		do_list(c, m, o);
	else
		for (size_t i = 0; i < NTRANS; i++)
			if (strcmp(action, transitions[i].action) == 0)
				do_transition(c, m, o, &transitions[i]);
	json_decref(o);
}

static int
collab_init(xz_plugin *self, const xz_host *host, void **state)
{
	static const char *const reqs[]
	    = { "send", "receive", "accept", "partially-accept", "return",
		      "decide", "close", "get", "list", NULL };
	collab *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return XZ_ENOMEM;
	c->self = self;
	c->h    = host;
	host->opt_int(
	    self, "community_correction_notify_days", &c->cc_notify_days);
	host->opt_int(
	    self, "community_correction_serve_days", &c->cc_serve_days);
	host->opt_int(self, "arrest_decide_days", &c->arrest_days);
	host->opt_int(self, "prosecution_decide_days", &c->prosecution_days);
	host->opt_int(self, "notify_days", &c->notify_days);
	host->opt_int(self, "list_limit_max", &c->list_max);
	host->opt_bool(self, "check_agency", &c->check_agency);
	c->db = host->store(self);
	if (c->db == NULL || schema(c) != 0) {
		free(c);
		return XZ_EIO;
	}
	for (int i = 0; reqs[i]; i++) {
		char topic[64];
		snprintf(topic, sizeof(topic), "collab.transfer.%s", reqs[i]);
		if (host->subscribe(self, topic, NULL, on_request, c, NULL)) {
			free(c);
			return XZ_EINVAL;
		}
	}
	*state = c;
	return XZ_OK;
}

static int
collab_start(void *state)
{
	collab *c = state;
	/* Clocks survive a restart: re-arm from the store (an overdue one
	 * fires at once). */
	arm(c);
	return XZ_OK;
}

static void
collab_stop(void *state)
{
	collab *c = state;
	if (c->timer_armed)
		c->h->timer_cancel(c->self, c->timer);
	c->timer_armed = 0;
}

static void
collab_fini(void *state)
{
	free(state);
}

static const xz_plugin_desc desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name        = "collab",
	.version     = "0.1.0",
	.description = "cross-department case transfers: packages with "
	               "document hashes, states, statutory clocks, dedup",
	.options     = options,
	.init        = collab_init,
	.start       = collab_start,
	.stop        = collab_stop,
	.fini        = collab_fini,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
