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
 *
 * Built on the kit of plugins/common: a transfer is a record of kind
 * "transfer" with its history rows, its statutory clocks are the kit's
 * deadline clocks, each change is one transaction whose events and audit
 * events are published when it commits.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>
#include <xiezhi/xiezhi.h>

#include "chain.h" /* xz_audit_iso */
#include "collab.h"
#include "sha256.h"
#include "sql.h"

#define DAY_MS 86400000LL
#define KIND "transfer" /* the record kind in the kit's store */

static const char *const agencies[] = { "POLICE", "PROCURATORATE", "COURT",
	"PRISON", "COMMUNITY_CORRECTIONS", "REHAB_CENTRE", NULL };
static const char *const types[]    = { "ARREST", "PROSECUTION", "TRIAL",
	   "EXECUTION", "COMMUTATION_PAROLE", "CUSTODY_TRANSFER",
	   "COMMUNITY_CORRECTION", "REHAB_DECISION", NULL };

/* The plugin's state: calloc'd in init, freed in fini. */
typedef struct collab {
	kit_ctx kit; /* store, transactions, events, clocks */
	int64_t cc_notify_days, cc_serve_days, arrest_days, prosecution_days,
	    notify_days, list_max;
	int check_agency;
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
	for (; s && s[i] && i + 1 < n; i++)
		out[i] = (char) tolower((unsigned char) s[i]);
	out[i] = '\0';
}

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* ---- refusals ---- */

/* Refuse a request: the error reply, an audit REFUSE record naming the
 * code and the message, and the "refused" counter. Call it outside a
 * transaction (an aborted one would take the audit event with it). */
static void
refuse_err(collab *c, kit_req *r, const kit_err *e, const char *transfer_id)
{
	char out[600];

	kit_reply_error(c->kit.host, c->kit.self, r->msg, e->code, e->msg);
	snprintf(out, sizeof(out), "refused: %s: %s", kit_code_name(e->code),
	    e->msg);
	kit_audit_ex(r, "refuse", "REFUSE", "case_transfer",
	    transfer_id ? transfer_id : r->msg->topic, out,
	    transfer_id ? json_pack("{s:s}", "transfer_id", transfer_id)
	                : NULL);
	c->kit.host->counter_add(c->kit.self, "refused", 1);
}

static void refuse(collab *c, kit_req *r, kit_code code,
    const char *transfer_id, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
refuse(collab *c, kit_req *r, kit_code code, const char *transfer_id,
    const char *fmt, ...)
{
	kit_err e;
	va_list ap;

	e.code = code;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	refuse_err(c, r, &e, transfer_id);
}

/* Who acts, required on every request (the agency too with
 * check_agency); its agency code into code. 0, or -1 after refusing. */
static int
need_actor(collab *c, kit_req *r, char code[32])
{
	agency_code(r->actor.agency, code, 32);
	if (r->actor.user == NULL
	    || (c->check_agency && r->actor.agency == NULL)) {
		refuse(c, r, KIT_E_BAD_REQUEST, NULL,
		    "%s needs \"actor\":{\"user\",\"role\",\"agency\"} (who "
		    "acts is recorded in the history and the audit log)",
		    r->msg->topic);
		return -1;
	}
	return 0;
}

/* ---- reading ---- */

/* The transfer record, or NULL with e set (not_found or store_error).
 * The caller owns it. */
static json_t *
load(collab *c, const char *id, kit_err *e)
{
	json_t *rec = kit_store_load(&c->kit.store, KIND, id);

	if (rec == NULL) {
		if (c->kit.store.err[0])
			kit_err_set(
			    e, KIT_E_STORE_ERROR, "%s", c->kit.store.err);
		else
			kit_err_set(
			    e, KIT_E_NOT_FOUND, "no transfer '%s'", id);
	}
	return rec;
}

static void
set_iso(json_t *o, const char *key, int64_t ms)
{
	char at[32];

	xz_audit_iso(ms, at);
	json_object_set_new(o, key, json_string(at));
}

/*
 * The transfer as requests answer it: the package, then transfer_id,
 * state, package_hash, sent_at, updated_at, what the transitions added
 * (return_reason, decision, accepted_documents, missing_documents), the
 * clocks, and with_history the history. The caller owns it.
 */
static json_t *
view(collab *c, json_t *rec, int with_history)
{
	static const char *const extra[] = { "return_reason", "decision",
		"accepted_documents", "missing_documents", NULL };
	const char              *id      = str(rec, "id");
	json_t *o = json_deep_copy(json_object_get(rec, "package"));
	json_t *clocks, *v;
	size_t  i;

	if (o == NULL)
		o = json_object();
	json_object_set_new(o, "transfer_id", json_string(id));
	json_object_set(o, "state", json_object_get(rec, "state"));
	json_object_set(
	    o, "package_hash", json_object_get(rec, "package_hash"));
	set_iso(o, "sent_at", kit_int(rec, "created_ms", 0));
	set_iso(o, "updated_at", kit_int(rec, "updated_ms", 0));
	for (i = 0; extra[i]; i++) {
		v = json_object_get(rec, extra[i]);
		if (json_is_string(v) || json_is_array(v))
			json_object_set(o, extra[i], v);
	}
	clocks = kit_store_clocks(&c->kit.store, KIND, id);
	json_array_foreach(clocks, i, v)
	{
		set_iso(v, "due_at", kit_int(v, "due_ms", 0));
		json_object_del(v, "due_ms");
	}
	json_object_set_new(o, "clocks", clocks);
	if (!with_history)
		return o;
	/* The common history rows, plus the "by" and "at" (and "reason")
	 * that collab's history rows had before the rows were one format:
	 * clients of collab.transfer.get read them. */
	json_t *hist = kit_store_history(&c->kit.store, KIND, id);
	json_array_foreach(hist, i, v)
	{
		json_object_set_new(v, "by",
		    json_pack("{s:O,s:O,s:O}", "user",
		        json_object_get(v, "who"), "role",
		        json_object_get(v, "role"), "agency",
		        json_object_get(v, "agency")));
		set_iso(v, "at", kit_int(v, "at_ms", 0));
		if (json_is_string(json_object_get(v, "why")))
			json_object_set(
			    v, "reason", json_object_get(v, "why"));
	}
	json_object_set_new(o, "history", hist);
	return o;
}

/* ---- events ---- */

/* The thin event of a state change of rec, on collab.transfer.<event>,
 * and on the inbox of the agency that must act next; queued until the
 * transaction commits. */
static void
announce(collab *c, kit_req *r, json_t *rec, const char *event,
    const char *from_state, const char *reason, const char *inbox_agency)
{
	json_t *pkg = json_object_get(rec, "package");
	char    at[32], topic[128], ag[32], ty[32];
	json_t *e;

	xz_audit_iso(r->now_ms, at);
	e = json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:s?,s:s,s:{s:s?,s:s?,s:s?},"
	              "s:s}",
	    "transfer_id", json_object_get(rec, "id"), "type",
	    json_object_get(pkg, "type"), "from_agency",
	    json_object_get(pkg, "from_agency"), "to_agency",
	    json_object_get(pkg, "to_agency"), "subject",
	    json_object_get(pkg, "subject"), "state",
	    json_object_get(rec, "state"), "from_state", from_state, "event",
	    event, "by", "user", r->actor.user, "role", r->actor.role,
	    "agency", r->actor.agency, "at", at);
	if (e == NULL)
		return;
	if (reason)
		json_object_set_new(e, "reason", json_string(reason));
	if (json_is_string(json_object_get(rec, "decision")))
		json_object_set(
		    e, "decision", json_object_get(rec, "decision"));
	if (inbox_agency != NULL) {
		lower(inbox_agency, ag, sizeof(ag));
		lower(str(pkg, "type"), ty, sizeof(ty));
		snprintf(topic, sizeof(topic), "collab.%s.inbox.%s", ag, ty);
		kit_emit(&c->kit, topic, json_incref(e));
	}
	snprintf(topic, sizeof(topic), "collab.transfer.%s", event);
	kit_emit(&c->kit, topic, e);
}

/* The audit record of a change or read of rec: the person (the package's
 * subject) is the audit subject, the transfer id goes to the detail. */
static void
audit_subject(kit_req *r, json_t *rec, const char *what, const char *action,
    const char *outcome)
{
	json_t *subj
	    = json_object_get(json_object_get(rec, "package"), "subject");

	kit_audit_ex(r, what, action, str(subj, "type"), str(subj, "id"),
	    outcome,
	    json_pack("{s:O}", "transfer_id", json_object_get(rec, "id")));
}

/* ---- clocks ---- */

static void on_clock(void *ud);

static void
arm(collab *c)
{
	kit_clock_arm(&c->kit, on_clock, c);
}

/* A clock of `days` from the sending (0: none). */
static int
add_clock(collab *c, const char *id, const char *clock, int64_t days,
    int64_t from_ms)
{
	if (days <= 0)
		return 0;
	return kit_store_clock_add(
	    &c->kit.store, KIND, id, clock, from_ms + days * DAY_MS);
}

/* Lapsed clocks: each becomes OVERDUE, is announced on
 * collab.transfer.overdue and on the receiver's inbox, and audited. */
static void
on_clock(void *ud)
{
	collab *c = ud;
	kit_req r;
	kit_err e;
	json_t *due, *d;
	size_t  i;
	int64_t n = 0;

	kit_req_internal(&c->kit, &r, "collab",
	    json_pack("{s:s}", "purpose", "statutory clock"));
	due = kit_store_clock_due(&c->kit.store, r.now_ms);
	if (json_array_size(due) == 0)
		goto done;
	if (kit_tx_begin(&c->kit, &e) != 0) {
		n = -1;
		goto done;
	}
	json_array_foreach(due, i, d)
	{
		const char *tid = str(d, "id"), *clk = str(d, "clock");
		json_t     *rec = kit_store_load(&c->kit.store, KIND, tid);
		json_t     *pkg = json_object_get(rec, "package");
		char        at[32], topic[128], ag[32], ty[32], out[96];
		json_t     *ev;

		if ((rec == NULL && c->kit.store.err[0])
		    || kit_store_clock_set(
		           &c->kit.store, KIND, tid, clk, "OVERDUE")
		        != 0) {
			kit_err_set(
			    &e, KIT_E_STORE_ERROR, "%s", c->kit.store.err);
			json_decref(rec);
			kit_tx_abort(&c->kit);
			n = -1;
			goto done;
		}
		if (rec == NULL)
			continue; /* no transfer to tell about */
		xz_audit_iso(kit_int(d, "due_ms", 0), at);
		ev = json_pack("{s:s,s:s,s:s,s:O,s:O,s:O,s:O,s:O}",
		    "transfer_id", tid, "clock", clk, "due_at", at, "state",
		    json_object_get(rec, "state"), "type",
		    json_object_get(pkg, "type"), "from_agency",
		    json_object_get(pkg, "from_agency"), "to_agency",
		    json_object_get(pkg, "to_agency"), "subject",
		    json_object_get(pkg, "subject"));
		if (ev != NULL) {
			json_t *note = json_deep_copy(ev);
			json_object_set_new(
			    note, "event", json_string("overdue"));
			lower(str(pkg, "to_agency"), ag, sizeof(ag));
			lower(str(pkg, "type"), ty, sizeof(ty));
			snprintf(topic, sizeof(topic), "collab.%s.inbox.%s",
			    ag, ty);
			kit_emit(&c->kit, "collab.transfer.overdue", ev);
			kit_emit(&c->kit, topic, note);
		}
		snprintf(out, sizeof(out), "overdue: %s clock", clk);
		audit_subject(&r, rec, "overdue", "UPDATE", out);
		json_decref(rec);
		n++;
	}
	if (kit_tx_commit(&c->kit, &e) != 0)
		n = -1;
done:
	json_decref(due);
	kit_req_done(&r);
	if (n < 0) {
		/* Not re-armed at once (the store would fail again in a
		 * tight loop): the next change or restart arms again. */
		c->kit.host->log(c->kit.self, XZ_LOG_ERROR,
		    "overdue clocks not recorded, retried at the next change "
		    "or restart: %s",
		    e.msg);
		c->kit.host->counter_add(c->kit.self, "overdue_failed", 1);
		return;
	}
	if (n > 0)
		c->kit.host->counter_add(c->kit.self, "overdue", n);
	arm(c);
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

/* ---- requests ---- */

/* The id of the transfer whose package hashes to hash: 1 (into id), 0
 * none, -1 store error (e set). */
static int
find_by_hash(collab *c, const char *hash, char *id, size_t n, kit_err *e)
{
	sqlite3_stmt *row;
	int           rc;

	rc = kit_sql_row(c->kit.store.db, &row,
	    "SELECT id FROM records WHERE kind = ?1"
	    " AND json_extract(data, '$.package_hash') = ?2",
	    "tt", KIND, hash);
	if (rc == SQLITE_ROW) {
		snprintf(id, n, "%s", sqlite3_column_text(row, 0));
		sqlite3_finalize(row);
		return 1;
	}
	if (rc == SQLITE_DONE)
		return 0;
	kit_err_set(e, KIT_E_STORE_ERROR, "package lookup: %s",
	    sqlite3_errmsg(c->kit.store.db));
	return -1;
}

/* The same package again: the existing transfer, marked duplicate. */
static void
reply_duplicate(collab *c, kit_req *r, const char *id)
{
	kit_err e;
	json_t *rec = load(c, id, &e), *t;

	if (rec == NULL) {
		refuse_err(c, r, &e, id);
		return;
	}
	t = view(c, rec, 0);
	json_object_set_new(t, "duplicate", json_true());
	kit_reply(r, t);
	audit_subject(r, rec, "send", "VIEW",
	    "duplicate: the same package was already sent");
	c->kit.host->counter_add(c->kit.self, "duplicates", 1);
	json_decref(rec);
}

static void
do_send(collab *c, kit_req *r)
{
	json_t     *o = r->body, *pkg, *rec = NULL;
	char        code[32], err[300], hash[XZ_SHA256_HEX], idbuf[80];
	const char *id;
	char       *canon;
	kit_err     e;
	int         found;

	if (need_actor(c, r, code) != 0)
		return;
	if ((pkg = canonical(o, err, sizeof(err))) == NULL) {
		refuse(c, r, KIT_E_BAD_REQUEST, NULL, "%s", err);
		return;
	}
	const char *from  = str(pkg, "from_agency");
	const char *to    = str(pkg, "to_agency");
	const char *type  = str(pkg, "type");
	const char *why   = str(pkg, "reason");
	json_t     *subj  = json_object_get(pkg, "subject");
	const char *stype = str(subj, "type"), *sid = str(subj, "id");
	if (c->check_agency && strcmp(code, from) != 0) {
		refuse(c, r, KIT_E_FORBIDDEN, NULL,
		    "only %s may send this package; the actor's agency is "
		    "'%s'",
		    from, r->actor.agency);
		json_decref(pkg);
		return;
	}
	canon = json_dumps(pkg, JSON_COMPACT | JSON_SORT_KEYS);
	if (canon == NULL) {
		refuse(c, r, KIT_E_INTERNAL, NULL, "out of memory");
		json_decref(pkg);
		return;
	}
	xz_sha256_hex(canon, strlen(canon), hash);
	free(canon);

	/* Deduplication by package hash. */
	found = find_by_hash(c, hash, idbuf, sizeof(idbuf), &e);
	if (found != 0) {
		if (found > 0)
			reply_duplicate(c, r, idbuf);
		else
			refuse_err(c, r, &e, NULL);
		json_decref(pkg);
		return;
	}
	id = str(o, "transfer_id");
	if (json_object_get(o, "transfer_id") && !valid_id(id)) {
		refuse(c, r, KIT_E_BAD_REQUEST, NULL,
		    "transfer_id must be 1..64 characters of [A-Za-z0-9-_.:]");
		json_decref(pkg);
		return;
	}
	if (id == NULL) {
		snprintf(idbuf, sizeof(idbuf), "tr-%.16s", hash);
		id = idbuf;
	}
	if (kit_tx_begin(&c->kit, &e) != 0)
		goto refused;
	if ((rec = kit_store_load(&c->kit.store, KIND, id)) != NULL) {
		kit_err_set(&e, KIT_E_EXISTS,
		    "transfer_id '%s' is already used by another package", id);
		goto abort;
	}
	if (c->kit.store.err[0]) {
		kit_err_set(&e, KIT_E_STORE_ERROR, "%s", c->kit.store.err);
		goto abort;
	}
	rec = json_pack("{s:s,s:s,s:I,s:I,s:s,s:O}", "id", id, "state",
	    collab_transfer_fsm.initial, "created_ms", (json_int_t) r->now_ms,
	    "updated_ms", (json_int_t) r->now_ms, "package_hash", hash,
	    "package", pkg);
	if (rec == NULL) {
		kit_err_set(&e, KIT_E_INTERNAL, "out of memory");
		goto abort;
	}
	if (kit_record_write(r, KIND, rec, 1, "send", NULL, why, &e) != 0)
		goto abort;
	/* Statutory clocks run from the sending. */
	json_t *dd     = json_object_get(pkg, "due_days");
	int64_t decide = dd                    ? json_integer_value(dd)
	    : strcmp(type, "ARREST") == 0      ? c->arrest_days
	    : strcmp(type, "PROSECUTION") == 0 ? c->prosecution_days
	                                       : 0;
	int     cc     = strcmp(type, "COMMUNITY_CORRECTION") == 0;
	if (add_clock(c, id, "notify", cc ? c->cc_notify_days : c->notify_days,
	        r->now_ms)
	        != 0
	    || (cc
	        && add_clock(c, id, "serve", c->cc_serve_days, r->now_ms) != 0)
	    || add_clock(c, id, "decide", decide, r->now_ms) != 0) {
		kit_err_set(&e, KIT_E_STORE_ERROR, "%s", c->kit.store.err);
		goto abort;
	}
	announce(c, r, rec, "sent", NULL, why, to);
	kit_audit_ex(r, "send", "CREATE", stype, sid, "SENT",
	    json_pack("{s:s}", "transfer_id", id));
	if (kit_tx_commit(&c->kit, &e) != 0)
		goto refused;
	json_t *t = view(c, rec, 0);
	json_object_set_new(t, "duplicate", json_false());
	kit_reply(r, t);
	c->kit.host->counter_add(c->kit.self, "sent", 1);
	arm(c);
	json_decref(rec);
	json_decref(pkg);
	return;
abort:
	kit_tx_abort(&c->kit);
refused:
	refuse_err(c, r, &e, id);
	json_decref(rec);
	json_decref(pkg);
}

/* What the action needs from the request (reason, decision, accepted
 * documents), applied to rec. 0, or -1 with e set. */
static int
change(json_t *rec, json_t *o, const char *action, kit_err *e)
{
	const char *reason = str(o, "reason"), *decision = str(o, "decision");

	if (strcmp(action, "return") == 0) {
		if (!reason || !*reason) {
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    "a returned transfer needs a \"reason\"");
			return -1;
		}
		json_object_set_new(rec, "return_reason", json_string(reason));
	} else if (strcmp(action, "decide") == 0) {
		if (!decision || !*decision) {
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    "decide needs a \"decision\" (e.g. APPROVED, "
			    "REJECTED, the decision number)");
			return -1;
		}
		json_object_set_new(rec, "decision", json_string(decision));
	} else if (strcmp(action, "partially-accept") == 0) {
		json_t *names = doc_names(json_object_get(rec, "package"));
		json_t *given = json_object_get(o, "accepted"), *v;
		json_t *acc, *missing;
		size_t  i;
		int bad = !json_is_array(given) || json_array_size(given) == 0;

		json_array_foreach(given, i, v) if (!json_is_string(v)
		    || !has_name(names, json_string_value(v))) bad
		    = 1;
		if (bad || json_array_size(given) >= json_array_size(names)) {
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    "partially-accept needs \"accepted\": a non-empty "
			    "list of some (not all) of the package's document "
			    "names");
			json_decref(names);
			return -1;
		}
		acc     = json_array();
		missing = json_array();
		json_array_foreach(names, i, v) json_array_append(
		    has_name(given, json_string_value(v)) ? acc : missing, v);
		json_decref(names);
		json_object_set_new(rec, "accepted_documents", acc);
		json_object_set_new(rec, "missing_documents", missing);
	} else if (strcmp(action, "accept") == 0) {
		/* in full: nothing is missing any more */
		json_object_del(rec, "accepted_documents");
		json_object_del(rec, "missing_documents");
	}
	return 0;
}

/* The clocks a new state meets or stops: RECEIVED meets notify; ACCEPTED
 * (in full) meets serve; DECIDED meets decide; RETURNED and CLOSED stop
 * what is left. */
static int
clocks_after(collab *c, const char *id, const char *state)
{
	kit_store *st = &c->kit.store;

	if (strcmp(state, "RECEIVED") == 0)
		return kit_store_clock_set(st, KIND, id, "notify", "MET");
	if (strcmp(state, "ACCEPTED") == 0)
		return kit_store_clock_set(st, KIND, id, "serve", "MET");
	if (strcmp(state, "DECIDED") == 0)
		return kit_store_clock_set(st, KIND, id, "decide", "MET");
	if (strcmp(state, "RETURNED") == 0 || strcmp(state, "CLOSED") == 0)
		return kit_store_clock_set(st, KIND, id, NULL, "STOPPED");
	return 0;
}

static void
do_transition(collab *c, kit_req *r, const char *action)
{
	const char           *id = str(r->body, "transfer_id");
	const kit_transition *t;
	json_t               *rec = NULL, *pkg;
	char                  code[32], state[32];
	kit_err               e;

	if (need_actor(c, r, code) != 0)
		return;
	if (id == NULL) {
		refuse(c, r, KIT_E_BAD_REQUEST, NULL,
		    "%s needs \"transfer_id\"", r->msg->topic);
		return;
	}
	if (kit_tx_begin(&c->kit, &e) != 0)
		goto refused;
	if ((rec = load(c, id, &e)) == NULL)
		goto abort;
	snprintf(state, sizeof(state), "%s", str(rec, "state"));
	if ((t = kit_fsm_find(&collab_transfer_fsm, state, action)) == NULL) {
		e.code = KIT_E_INVALID_STATE;
		collab_refusal(id, state, action, e.msg, sizeof(e.msg));
		goto abort;
	}
	pkg                 = json_object_get(rec, "package");
	const char *from    = str(pkg, "from_agency"),
	           *to      = str(pkg, "to_agency");
	enum collab_party p = collab_party(action);
	if (c->check_agency
	    && !((p != COLLAB_RECEIVER && strcmp(code, from) == 0)
	        || (p != COLLAB_SENDER && strcmp(code, to) == 0))) {
		kit_err_set(&e, KIT_E_FORBIDDEN,
		    "only %s%s%s may %s transfer '%s'; the actor's agency is "
		    "'%s'",
		    p == COLLAB_SENDER ? from : to,
		    p == COLLAB_EITHER ? " or " : "",
		    p == COLLAB_EITHER ? from : "", action, id,
		    r->actor.agency);
		goto abort;
	}
	if (change(rec, r->body, action, &e) != 0)
		goto abort;
	json_object_set_new(rec, "state", json_string(t->to));
	json_object_set_new(rec, "updated_ms", json_integer(r->now_ms));
	int         decide = strcmp(action, "decide") == 0;
	const char *reason = str(r->body, "reason");
	if (kit_record_write(r, KIND, rec, 0, action, state,
	        decide ? str(r->body, "decision") : reason, &e)
	    != 0)
		goto abort;
	if (clocks_after(c, id, t->to) != 0) {
		kit_err_set(&e, KIT_E_STORE_ERROR, "%s", c->kit.store.err);
		goto abort;
	}
	/* The next one to act: the sender after a return or a decision. */
	announce(c, r, rec, t->event, state, decide ? NULL : reason,
	    strcmp(t->to, "RETURNED") == 0 || strcmp(t->to, "DECIDED") == 0
	        ? from
	        : NULL);
	audit_subject(r, rec, t->event, "UPDATE", t->to);
	if (kit_tx_commit(&c->kit, &e) != 0)
		goto refused;
	kit_reply(r, view(c, rec, 0));
	c->kit.host->counter_add(c->kit.self, "transitions", 1);
	arm(c);
	json_decref(rec);
	return;
abort:
	kit_tx_abort(&c->kit);
refused:
	refuse_err(c, r, &e, id);
	json_decref(rec);
}

static int
is_party(const char *code, json_t *pkg)
{
	return strcmp(code, str(pkg, "from_agency")) == 0
	    || strcmp(code, str(pkg, "to_agency")) == 0;
}

static void
do_get(collab *c, kit_req *r)
{
	const char *id = str(r->body, "transfer_id");
	char        code[32];
	json_t     *rec, *pkg;
	kit_err     e;

	if (need_actor(c, r, code) != 0)
		return;
	if (id == NULL) {
		refuse(c, r, KIT_E_BAD_REQUEST, NULL,
		    "%s needs \"transfer_id\"", r->msg->topic);
		return;
	}
	if ((rec = load(c, id, &e)) == NULL) {
		refuse_err(c, r, &e, id);
		return;
	}
	pkg = json_object_get(rec, "package");
	if (c->check_agency && !is_party(code, pkg)) {
		refuse(c, r, KIT_E_FORBIDDEN, id,
		    "transfer '%s' is between %s and %s; the actor's agency "
		    "is '%s'",
		    id, str(pkg, "from_agency"), str(pkg, "to_agency"),
		    r->actor.agency);
		json_decref(rec);
		return;
	}
	kit_reply(r, view(c, rec, 1));
	audit_subject(r, rec, "view", "VIEW", "ok");
	json_decref(rec);
}

/* ?1 kind, ?2 state, ?3 type, ?4 agency, ?5 direction, ?6 limit. */
static const char list_sql[]
    = "SELECT data FROM records WHERE kind = ?1"
      " AND (?2 IS NULL OR state = ?2)"
      " AND (?3 IS NULL OR json_extract(data, '$.package.type') = ?3)"
      " AND (?4 IS NULL"
      "  OR (?5 IS NOT 'out'"
      "      AND json_extract(data, '$.package.to_agency') = ?4)"
      "  OR (?5 IS NOT 'in'"
      "      AND json_extract(data, '$.package.from_agency') = ?4))"
      " ORDER BY created_ms, id LIMIT ?6";

static void
do_list(collab *c, kit_req *r)
{
	json_t       *o = r->body, *lim = json_object_get(o, "limit");
	const char   *state = str(o, "state"), *type = str(o, "type");
	const char   *dir   = str(o, "direction");
	int64_t       limit = lim ? json_integer_value(lim) : 100;
	char          code[32], ag[32] = "", outcome[64];
	sqlite3_stmt *row;
	json_t       *out;
	int           rc;

	if (need_actor(c, r, code) != 0)
		return;
	if ((lim && !json_is_integer(lim)) || limit < 1 || limit > c->list_max
	    || (dir && strcmp(dir, "in") && strcmp(dir, "out"))) {
		refuse(c, r, KIT_E_BAD_REQUEST, NULL,
		    "list takes {state, type, direction: \"in\"|\"out\", "
		    "agency, limit: 1..%" PRId64 "}",
		    c->list_max);
		return;
	}
	/* With check_agency an agency sees only its own transfers. */
	if (c->check_agency)
		snprintf(ag, sizeof(ag), "%s", code);
	else if (str(o, "agency"))
		agency_code(str(o, "agency"), ag, sizeof(ag));
	out = json_array();
	rc  = kit_sql_row(c->kit.store.db, &row, list_sql, "ttttti", KIND,
	     state, type, ag[0] ? ag : NULL, dir, limit);
	while (rc == SQLITE_ROW) {
		json_t *rec = json_loads(
		    (const char *) sqlite3_column_text(row, 0), 0, NULL);
		if (rec)
			json_array_append_new(out, view(c, rec, 0));
		json_decref(rec);
		rc = sqlite3_step(row);
	}
	sqlite3_finalize(row);
	if (rc != SQLITE_DONE) {
		json_decref(out);
		refuse(c, r, KIT_E_STORE_ERROR, NULL, "%s",
		    sqlite3_errmsg(c->kit.store.db));
		return;
	}
	snprintf(outcome, sizeof(outcome), "ok: %zu transfers",
	    json_array_size(out));
	kit_reply(r,
	    json_pack("{s:I,s:o}", "count", (json_int_t) json_array_size(out),
	        "transfers", out));
	kit_audit_ex(
	    r, "list", "VIEW", "case_transfer", "list", outcome, NULL);
}

static void
on_request(void *ud, const xz_msg *m)
{
	collab     *c = ud;
	const char *action;
	kit_req     r;

	if (m->kind != XZ_KIND_REQUEST)
		return;
	action = m->topic + strlen("collab.transfer.");
	kit_req_adopt(&c->kit, m, json_loadb(m->data, m->len, 0, NULL), &r);
	if (!json_is_object(r.body))
		refuse(c, &r, KIT_E_BAD_REQUEST, NULL,
		    "%s: the payload must be a JSON object", m->topic);
	else if (strcmp(action, "send") == 0)
		do_send(c, &r);
	else if (strcmp(action, "get") == 0)
		do_get(c, &r);
	else if (strcmp(action, "list") == 0)
		do_list(c, &r);
	else
		do_transition(c, &r, action);
	kit_req_done(&r);
}

/* ---- life cycle ---- */

/*
 * A store written before collab stood on the kit (tables transfers,
 * history and clocks of its own) moves into the kit's tables, in one
 * transaction, once. 0, or -1 with the reason in err.
 */
static int
migrate_v0(sqlite3 *db, char *err, size_t errlen)
{
	static const char *const steps[] = {
		"ALTER TABLE history RENAME TO collab_v0_history",
		"ALTER TABLE clocks RENAME TO collab_v0_clocks",
		NULL, /* the kit's tables */
		"INSERT INTO records(kind, id, state, due_ms, created_ms,"
		" updated_ms, data) SELECT 'transfer', id, state, 0,"
		" created_ms, updated_ms, json_object('id', id, 'state', "
		"state,"
		" 'created_ms', created_ms, 'updated_ms', updated_ms,"
		" 'package_hash', pkg_hash, 'package', json(package),"
		" 'return_reason', return_reason, 'decision', decision,"
		" 'accepted_documents', json(accepted),"
		" 'missing_documents', json(missing)) FROM transfers",
		"INSERT INTO history(kind, id, action, from_state, to_state,"
		" who, role, at_ms, why, agency) SELECT 'transfer',"
		" transfer_id, action, from_state, to_state,"
		" coalesce(by_user, '?'), by_role, at_ms, reason, by_agency"
		" FROM collab_v0_history ORDER BY n",
		"INSERT INTO clocks(kind, id, clock, due_ms, status)"
		" SELECT 'transfer', transfer_id, clock, due_ms, status"
		" FROM collab_v0_clocks",
		"DROP TABLE collab_v0_clocks",
		"DROP TABLE collab_v0_history",
		"DROP TABLE transfers",
	};
	sqlite3_stmt *row;
	int           rc;

	rc = kit_sql_row(db, &row,
	    "SELECT 1 FROM sqlite_master"
	    " WHERE type = 'table' AND name = 'transfers'",
	    NULL);
	if (rc == SQLITE_DONE)
		return 0; /* nothing to move */
	sqlite3_finalize(row);
	if (rc != SQLITE_ROW
	    || kit_sql_run(db, "BEGIN IMMEDIATE", NULL) != SQLITE_DONE)
		goto fail;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (steps[i] == NULL) {
			if (kit_store_schema(db, err, errlen) != 0) {
				kit_sql_run(db, "ROLLBACK", NULL);
				return -1;
			}
		} else if (kit_sql_run(db, steps[i], NULL) != SQLITE_DONE) {
			snprintf(err, errlen,
			    "collab: moving the store: %s: %s", steps[i],
			    sqlite3_errmsg(db));
			kit_sql_run(db, "ROLLBACK", NULL);
			return -1;
		}
	}
	if (kit_sql_run(db, "COMMIT", NULL) == SQLITE_DONE)
		return 0;
fail:
	snprintf(
	    err, errlen, "collab: moving the store: %s", sqlite3_errmsg(db));
	kit_sql_run(db, "ROLLBACK", NULL);
	return -1;
}

static const char package_index_sql[]
    = "CREATE UNIQUE INDEX IF NOT EXISTS collab_package_hash"
      " ON records(json_extract(data, '$.package_hash'))"
      " WHERE kind = 'transfer'";

static int
collab_init(xz_plugin *self, const xz_host *host, void **state)
{
	static const char *const reqs[]
	    = { "send", "receive", "accept", "partially-accept", "return",
		      "decide", "close", "get", "list", NULL };
	collab  *c = calloc(1, sizeof(*c));
	sqlite3 *db;
	char     err[300];

	if (c == NULL)
		return XZ_ENOMEM;
	host->opt_int(
	    self, "community_correction_notify_days", &c->cc_notify_days);
	host->opt_int(
	    self, "community_correction_serve_days", &c->cc_serve_days);
	host->opt_int(self, "arrest_decide_days", &c->arrest_days);
	host->opt_int(self, "prosecution_decide_days", &c->prosecution_days);
	host->opt_int(self, "notify_days", &c->notify_days);
	host->opt_int(self, "list_limit_max", &c->list_max);
	host->opt_bool(self, "check_agency", &c->check_agency);
	db = host->store(self);
	if (db == NULL) {
		snprintf(err, sizeof(err), "collab: cannot open the store");
		goto fail;
	}
	if (migrate_v0(db, err, sizeof(err)) != 0
	    || kit_ctx_init(&c->kit, self, host, "collab", err, sizeof(err))
	        != 0)
		goto fail;
	/* one transfer per package: the index of the dedup lookup */
	if (kit_sql_run(db, package_index_sql, NULL) != SQLITE_DONE) {
		snprintf(err, sizeof(err), "collab: %s", sqlite3_errmsg(db));
		kit_ctx_fini(&c->kit);
		goto fail;
	}
	for (int i = 0; reqs[i]; i++) {
		char topic[64];
		snprintf(topic, sizeof(topic), "collab.transfer.%s", reqs[i]);
		if (host->subscribe(self, topic, NULL, on_request, c, NULL)) {
			kit_ctx_fini(&c->kit);
			free(c);
			return XZ_EINVAL;
		}
	}
	*state = c;
	return XZ_OK;
fail:
	host->log(self, XZ_LOG_ERROR, "%s", err);
	free(c);
	return XZ_EIO;
}

static int
collab_start(void *state)
{
	/* Clocks survive a restart: re-arm from the store (an overdue one
	 * fires at once). */
	arm(state);
	return XZ_OK;
}

static void
collab_stop(void *state)
{
	collab *c = state;
	kit_clock_disarm(&c->kit);
}

static void
collab_fini(void *state)
{
	collab *c = state;
	kit_ctx_fini(&c->kit);
	free(c);
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
