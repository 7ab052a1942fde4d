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

#include "fields.h"

extern const char collab_catalog_builtin[]; /* catalog_builtin.c */

/* The plugin's state: calloc'd in init, freed in fini. */
typedef struct collab {
	kit_ctx        kit; /* store, transactions, events, clocks */
	collab_catalog cat; /* agencies and instruments */
	int64_t        notify_days, list_max;
	/* Delivery to another node: first wait, longest wait, give up. */
	int64_t retry_ms, retry_max_ms, give_up_s;
	int     check_agency;
	/* Agencies this node serves (option agencies; none: every agency
	 * is here). A transfer to another goes to its node over the links
	 * (docs/multi-node.md). Owned. */
	char **local;
	size_t nlocal;
} collab;

static const xz_option_decl options[] = {
	{ "catalog", XZ_OPT_STRING, "", 0,
	    "the catalog of agencies and instruments (a libconfig file, "
	    "config/collab-catalog.cfg; empty: the copy built in)",
	    0, 0 },
	{ "notify_days", XZ_OPT_INT, "0", 0,
	    "instruments without clocks of their own: days until the "
	    "transfer must be RECEIVED (0: no clock)",
	    0, 365 },
	{ "check_agency", XZ_OPT_BOOL, "true", 0,
	    "the actor's agency must be the side allowed to act (sender "
	    "sends, receiver receives/accepts/returns/decides) and a party "
	    "to read",
	    0, 0 },
	{ "list_limit_max", XZ_OPT_INT, "1000", 0,
	    "the most transfers one collab.transfer.list returns", 1, 100000 },
	{ "agencies", XZ_OPT_STRING, "", 0,
	    "the agencies this node serves, comma-separated (empty: all); a "
	    "transfer to any other is delivered to its node over the node "
	    "links, and state changes are kept in step on both sides",
	    0, 0 },
	{ "deliver_retry_ms", XZ_OPT_INT, "2000", 0,
	    "a transfer the receiving node did not acknowledge is sent again "
	    "after this, the wait doubling each time",
	    100, 3600000 },
	{ "deliver_retry_max_ms", XZ_OPT_INT, "300000", 0,
	    "the longest wait between two sendings of an unacknowledged "
	    "transfer",
	    100, 86400000 },
	{ "deliver_give_up_s", XZ_OPT_INT, "259200", 0,
	    "a transfer still unacknowledged this long after its first "
	    "sending is marked FAILED and no longer sent",
	    1, 31536000 },
	{ NULL, 0, NULL, 0, NULL, 0, 0 }
};

/* Messages in 简体中文 (the English text is the key). */
static const xz_tr collab_zh[] = {
	{ "%s needs the role %s; the actor's role is '%s'",
	    "%s 需要角色 %s；当前角色为“%s”" },
	{ "%s needs \"actor\" with \"user\", \"role\" and \"agency\" (who "
	  "acts is recorded in the history and the audit log)",
	    "%s 需要 "
	    "\"actor\"（\"user\"、\"role\"、\"agency\"）：办理人记入历史"
	    "和审计日志" },
	{ "unknown agency '%s' (field \"%s\")",
	    "未知机关“%s”（字段 \"%s\"）" },
	{ "unknown instrument type '%s' (field \"type\")",
	    "未知的法律文书类型“%s”（字段 \"type\"）" },
	{ "a %s (%s) may not be sent by %s (%s): senders are %s",
	    "%s（%s）不能由 %s（%s）发送；可发送的机关类型：%s" },
	{ "a %s (%s) may not be sent to %s (%s): receivers are %s",
	    "%s（%s）不能发送给 %s（%s）；可接收的机关类型：%s" },
	{ "from_agency and to_agency are both %s",
	    "发送机关与接收机关相同：%s" },
	{ "only %s may send this package; the actor's agency is '%s'",
	    "只有 %s 可以发送该案卷；当前办理人所属机关为“%s”" },
	{ "only %s%s%s may %s transfer '%s'; the actor's agency is '%s'",
	    "只有 %1$s%2$s%3$s 可以对案卷“%5$s”执行 "
	    "%4$s；当前办理人所属机关为“%6$s”" },
	{ " or ", " 或 " },
	{ "transfer '%s' is between %s and %s; the actor's agency is '%s'",
	    "案卷“%s”在 %s 与 %s 之间流转；当前办理人所属机关为“%s”" },
	{ "transfer '%s' is %s: cannot %s; allowed: %s",
	    "案卷“%s”处于 %s 状态：不能执行 %s；允许的操作：%s" },
	{ "none (final state)", "无（终态）" },
	{ "a returned transfer needs a \"reason\"",
	    "退回案卷须说明理由（\"reason\"）" },
	{ "partially-accept needs \"accepted\": a non-empty list of some (not "
	  "all) of the package's document names",
	    "部分接收须给出 "
	    "\"accepted\"：案卷中部分（非全部）文书名称的列表" },
	{ "documents[%zu] must be {name, media_type (type/subtype), sha256, "
	  "size}",
	    "documents[%zu] 应为 {name, media_type (type/subtype), sha256, "
	    "size}" },
	{ "documents[%zu].sha256 must be 64 lowercase hex digits",
	    "documents[%zu].sha256 应为 64 位小写十六进制" },
	{ "documents[%zu].size must be a non-negative integer",
	    "documents[%zu].size 应为非负整数" },
	{ "documents[%zu]: two documents named '%s'",
	    "documents[%zu]：有两份文书都名为“%s”" },
	{ "subject must be {\"type\":..,\"id\":..} (non-empty strings, "
	  "nothing else: details are fetched by request)",
	    "subject 应为 {\"type\":..,\"id\":..}（非空字符串，不含其他内容："
	    "详情按请求调取）" },
	{ "transfer_id must be 1..64 characters of [A-Za-z0-9-_.:]",
	    "transfer_id 应为 1..64 个 [A-Za-z0-9-_.:] 字符" },
	{ "no transfer '%s'", "没有案卷“%s”" },
	{ "documents must be a non-empty array", "documents 应为非空数组" },
	{ "transfer_id '%s' is already used by another package",
	    "transfer_id“%s”已被另一案卷使用" },
	{ "%s: the payload must be a JSON object",
	    "%s：请求体应为 JSON 对象" },
	/* the operator's log */
	{ "overdue clocks not recorded, retried at the next change or "
	  "restart: %s",
	    "超时的时限未能记录，将在下次变更或重启时重试：%s" },
	{ "transfer %s not acknowledged by %s's node (sending %lld): %s%s",
	    "移送 %s 未获 %s 的节点确认（第 %lld 次发送）：%s%s" },
	{ "; sent again later", "；稍后重发" },
	{ NULL, NULL },
};
#define TR(s) XZ_TR(collab_zh, s)

/* Role ids of the staff allowed to read transfers of their agency. */
static const char *const reader_roles[]
    = { "case_clerk", "rehab_leader", "rehab_officer", "prison_admin",
	      "prison_leader", "justice_bureau", "auditor", NULL };

/* The actor's agency id into out ("" if none). */
static void
agency_code(const char *a, char *out, size_t n)
{
	snprintf(out, n, "%s", a ? a : "");
}

/* Topic token of an agency or type: lower case, '-' -> '_'. */
static void
lower(const char *s, char *out, size_t n)
{
	size_t i = 0;
	for (; s && s[i] && i + 1 < n; i++)
		out[i]
		    = s[i] == '-' ? '_' : (char) tolower((unsigned char) s[i]);
	out[i] = '\0';
}

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* "A, B, C" of a NULL-terminated list, into buf. */
static const char *
joined(char *const *v, char *buf, size_t n)
{
	size_t k = 0;
	buf[0]   = '\0';
	for (; v && *v && k < n; v++)
		k += (size_t) snprintf(
		    buf + k, n - k, "%s%s", k ? ", " : "", *v);
	return buf;
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
 * check_agency); its agency id into code. 0, or -1 after refusing. */
static int
need_actor(collab *c, kit_req *r, char code[64])
{
	agency_code(r->actor.agency, code, 64);
	if (r->actor.user == NULL || strcmp(r->actor.user, "anonymous") == 0
	    || (c->check_agency && r->actor.agency == NULL)) {
		refuse(c, r, KIT_E_BAD_REQUEST, NULL,
		    TR("%s needs \"actor\" with \"user\", \"role\" and "
		       "\"agency\" (who acts is recorded in the history and "
		       "the audit log)"),
		    r->msg->topic);
		return -1;
	}
	return 0;
}

/* The actor's role is one of roles: 0, or -1 after refusing (forbidden,
 * naming the role needed). */
static int
need_role(collab *c, kit_req *r, char *const *roles, const char *tid)
{
	char buf[200];

	if (!c->check_agency || collab_strv_has(roles, r->actor.role))
		return 0;
	refuse(c, r, KIT_E_FORBIDDEN, tid,
	    TR("%s needs the role %s; the actor's role is '%s'"),
	    r->msg->topic, joined(roles, buf, sizeof(buf)),
	    r->actor.role ? r->actor.role : "");
	return -1;
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
/* A resend timer of a delivery to another node (clock "deliver.N"). */
static int
is_deliver_clock(const char *name)
{
	return name != NULL && strncmp(name, "deliver.", 8) == 0;
}

static json_t *
view(collab *c, json_t *rec, int with_history)
{
	static const char *const extra[] = { "return_reason", "decision",
		"decision_no", "months", "community_rehab_months",
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
		if (json_is_string(v) || json_is_array(v)
		    || json_is_integer(v))
			json_object_set(o, extra[i], v);
	}
	/* Delivered to the receiver's node (docs/multi-node.md): whether
	 * it acknowledged. */
	if (json_is_object(json_object_get(rec, "delivery")))
		json_object_set(
		    o, "delivery", json_object_get(rec, "delivery"));
	clocks = kit_store_clocks(&c->kit.store, KIND, id);
	/* The resend timers of a delivery (deliver.N) are no statutory
	 * clocks: delivery.next_at says when. */
	for (i = 0; i < json_array_size(clocks);) {
		v = json_array_get(clocks, i);
		if (is_deliver_clock(str(v, "clock"))) {
			json_array_remove(clocks, i);
			continue;
		}
		set_iso(v, "due_at", kit_int(v, "due_ms", 0));
		json_object_del(v, "due_ms");
		i++;
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
	for (const char *const *k = (const char *const[]) { "decision_no",
	         "months", "community_rehab_months", NULL };
	     *k; k++) {
		json_t *v = json_object_get(rec, *k);
		if (v == NULL)
			v = json_object_get(pkg, *k);
		if (v != NULL)
			json_object_set(e, *k, v);
	}
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

/* Whether agency a is served by this node. */
static int
is_local(const collab *c, const char *a)
{
	if (c->nlocal == 0)
		return 1;
	for (size_t i = 0; a && i < c->nlocal; i++)
		if (strcmp(c->local[i], a) == 0)
			return 1;
	return 0;
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
static void redeliver(collab *c, json_t *ids);

static void
on_clock(void *ud)
{
	collab *c = ud;
	kit_req r;
	kit_err e;
	json_t *due, *d;
	json_t *resend = json_array(); /* ids to send again, after commit */
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
		json_t     *rec, *pkg, *ev;
		char        at[32], topic[128], ag[32], ty[32], out[96];

		if (is_deliver_clock(clk)) {
			/* Time to send an unacknowledged transfer again. */
			if (kit_store_clock_set(
			        &c->kit.store, KIND, tid, clk, "MET")
			    != 0) {
				kit_err_set(&e, KIT_E_STORE_ERROR, "%s",
				    c->kit.store.err);
				kit_tx_abort(&c->kit);
				n = -1;
				goto done;
			}
			json_array_append_new(resend, json_string(tid));
			continue;
		}
		rec = kit_store_load(&c->kit.store, KIND, tid);
		pkg = json_object_get(rec, "package");

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
	if (n >= 0)
		redeliver(c, resend);
	json_decref(resend);
	if (n < 0) {
		/* Not re-armed at once (the store would fail again in a
		 * tight loop): the next change or restart arms again. */
		c->kit.host->log(c->kit.self, XZ_LOG_ERROR,
		    TR("overdue clocks not recorded, retried at the next "
		       "change "
		       "or restart: %s"),
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

/* The fields of collab.transfer.send (a closed record). */
static const fk_field send_fields[] = {
	{ "transfer_id", FK_STR, 0, 0, 64, NULL },
	{ "type", FK_STR, 1, 0, 64, NULL },
	{ "from_agency", FK_STR, 0, 0, 64, NULL },
	{ "to_agency", FK_STR, 1, 0, 64, NULL },
	{ "subject", FK_OBJ, 1, 0, 0, NULL },
	{ "person_id", FK_IDNUM, 0, 0, 0, NULL },
	{ "documents", FK_ANY_ARR, 1, 0, 0, NULL },
	{ "due_days", FK_INT, 0, 1, 365, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};

/*
 * Validate a package against the catalog and build its canonical form
 * (known keys only, documents sorted by name; from_agency defaults to the
 * actor's agency). NULL with e set when invalid; the caller decrefs the
 * result.
 */
static json_t *
canonical(collab *c, json_t *o, const char *actor_agency, kit_err *e)
{
	if (fk_check(o, send_fields, e) != 0)
		return NULL;
	const char *type = str(o, "type");
	const char *from
	    = str(o, "from_agency") ? str(o, "from_agency") : actor_agency;
	const char              *to   = str(o, "to_agency");
	json_t                  *subj = json_object_get(o, "subject");
	json_t                  *docs = json_object_get(o, "documents");
	json_t                  *due  = json_object_get(o, "due_days");
	json_t                  *why  = json_object_get(o, "reason");
	json_t                  *pid  = json_object_get(o, "person_id");
	const collab_instrument *in   = collab_instrument_find(&c->cat, type);
	const collab_agency     *fa   = collab_agency_find(&c->cat, from);
	const collab_agency     *ta   = collab_agency_find(&c->cat, to);
	char                     list[300];

	if (in == NULL) {
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    TR("unknown instrument type '%s' (field \"type\")"), type);
		return NULL;
	}
	if (fa == NULL || ta == NULL) {
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    TR("unknown agency '%s' (field \"%s\")"),
		    fa         ? to
		        : from ? from
		               : "",
		    fa ? "to_agency" : "from_agency");
		return NULL;
	}
	if (strcmp(from, to) == 0) {
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    TR("from_agency and to_agency are both %s"), from);
		return NULL;
	}
	if (!collab_strv_has(in->from, fa->type)) {
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    TR("a %s (%s) may not be sent by %s (%s): senders are %s"),
		    in->name, in->id, fa->id, fa->type,
		    joined(in->from, list, sizeof(list)));
		return NULL;
	}
	if (!collab_strv_has(in->to, ta->type)) {
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    TR("a %s (%s) may not be sent to %s (%s): receivers are "
		       "%s"),
		    in->name, in->id, ta->id, ta->type,
		    joined(in->to, list, sizeof(list)));
		return NULL;
	}
	const char *st = json_string_value(json_object_get(subj, "type"));
	const char *si = json_string_value(json_object_get(subj, "id"));
	if (json_object_size(subj) != 2 || st == NULL || si == NULL || !*st
	    || !*si) {
		kit_err_set(e, KIT_E_BAD_REQUEST, "%s",
		    TR("subject must be {\"type\":..,\"id\":..} (non-empty "
		       "strings, nothing else: details are fetched by "
		       "request)"));
		return NULL;
	}
	size_t   nd  = json_array_size(docs);
	json_t **dv  = calloc(nd + 1, sizeof(*dv));
	json_t  *out = NULL;
	if (dv == NULL)
		return NULL;
	if (nd == 0)
		kit_err_set(e, KIT_E_BAD_REQUEST, "%s",
		    TR("documents must be a non-empty array"));
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
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    TR("documents[%zu] must be {name, media_type "
			       "(type/subtype), sha256, size}"),
			    i);
			goto done;
		}
		if (!is_hex64(h)) {
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    TR("documents[%zu].sha256 must be 64 lowercase "
			       "hex "
			       "digits"),
			    i);
			goto done;
		}
		if (!json_is_integer(sz) || json_integer_value(sz) < 0) {
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    TR("documents[%zu].size must be a non-negative "
			       "integer"),
			    i);
			goto done;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(json_string_value(
			               json_object_get(dv[j], "name")),
			        name)
			    == 0) {
				kit_err_set(e, KIT_E_BAD_REQUEST,
				    TR("documents[%zu]: two documents named "
				       "'%s'"),
				    i, name);
				goto done;
			}
		dv[i] = d;
	}
	if (nd == 0)
		goto done;
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
	if (pid)
		json_object_set(out, "person_id", pid);
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

/* The statutory clocks of a transfer sent at from_ms: the catalog's,
 * those of the receiver's type; due_days sets the decide clock. The same
 * on the sender's and (delivered over a link) the receiver's node. 0 or
 * -1 (store error). */
static int
add_clocks(collab *c, const char *id, json_t *pkg, int64_t from_ms)
{
	const collab_instrument *in
	    = collab_instrument_find(&c->cat, str(pkg, "type"));
	const collab_agency *ta
	    = collab_agency_find(&c->cat, str(pkg, "to_agency"));
	json_t *dd   = json_object_get(pkg, "due_days");
	int     nclk = 0, has_decide = 0;

	if (in == NULL || ta == NULL)
		return 0;
	for (size_t i = 0; i < in->nclocks; i++) {
		const collab_clock *k    = &in->clocks[i];
		int64_t             days = k->days;
		if (k->to && strcmp(k->to, ta->type) != 0)
			continue;
		if (strcmp(k->name, "decide") == 0) {
			has_decide = 1;
			if (dd)
				days = json_integer_value(dd);
		}
		if (add_clock(c, id, k->name, days, from_ms) != 0)
			return -1;
		nclk++;
	}
	if ((dd && !has_decide
	        && add_clock(c, id, "decide", json_integer_value(dd), from_ms)
	            != 0)
	    || (nclk == 0
	        && add_clock(c, id, "notify", c->notify_days, from_ms) != 0))
		return -1;
	return 0;
}

static void deliver(collab *c, json_t *rec);

static void
do_send(collab *c, kit_req *r)
{
	json_t     *o = r->body, *pkg, *rec = NULL;
	char        code[64], hash[XZ_SHA256_HEX], idbuf[80];
	const char *id;
	char       *canon;
	kit_err     e;
	int         found;

	if (need_actor(c, r, code) != 0)
		return;
	if ((pkg = canonical(c, o, r->actor.agency, &e)) == NULL) {
		refuse_err(c, r, &e, NULL);
		return;
	}
	const char *from  = str(pkg, "from_agency");
	const char *to    = str(pkg, "to_agency");
	const char *type  = str(pkg, "type");
	const char *why   = str(pkg, "reason");
	json_t     *subj  = json_object_get(pkg, "subject");
	const char *stype = str(subj, "type"), *sid = str(subj, "id");
	const collab_instrument *in = collab_instrument_find(&c->cat, type);
	if (c->check_agency && strcmp(code, from) != 0) {
		refuse(c, r, KIT_E_FORBIDDEN, NULL,
		    TR("only %s may send this package; the actor's agency is "
		       "'%s'"),
		    from, r->actor.agency);
		json_decref(pkg);
		return;
	}
	if (need_role(c, r, in->send_roles, NULL) != 0) {
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
		refuse(c, r, KIT_E_BAD_REQUEST, NULL, "%s",
		    TR("transfer_id must be 1..64 characters of "
		       "[A-Za-z0-9-_.:]"));
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
		    TR("transfer_id '%s' is already used by another package"),
		    id);
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
	if (add_clocks(c, id, pkg, r->now_ms) != 0) {
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
	if (!is_local(c, to))
		deliver(c, rec); /* to the receiving agency's node */
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

static const char *const decisions[]
    = { "APPROVED", "PARTLY_APPROVED", "REJECTED", "EXECUTED", NULL };
static const char *const transfer_states[]
    = { "SENT", "RECEIVED", "PARTIALLY_ACCEPTED", "ACCEPTED", "RETURNED",
	      "DECIDED", "CLOSED", NULL };
static const char *const directions[] = { "in", "out", NULL };

static const fk_field id_fields[] = {
	{ "transfer_id", FK_STR, 1, 0, 64, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};
static const fk_field partial_fields[] = {
	{ "transfer_id", FK_STR, 1, 0, 64, NULL },
	{ "accepted", FK_ARR, 1, 0, 256, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};
static const fk_field decide_fields[] = {
	{ "transfer_id", FK_STR, 1, 0, 64, NULL },
	{ "decision", FK_ONEOF, 1, 0, 0, decisions },
	{ "decision_no", FK_STR, 0, 0, 128, NULL },
	{ "months", FK_INT, 0, 1, 12, NULL },
	{ "community_rehab_months", FK_INT, 0, 0, 36, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};
static const fk_field get_fields[] = {
	{ "transfer_id", FK_STR, 1, 0, 64, NULL },
	{ "history", FK_BOOL, 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};

/* What the action needs from the request (reason, decision, accepted
 * documents), applied to rec. 0, or -1 with e set. */
static int
change(json_t *rec, json_t *o, const char *action, kit_err *e)
{
	const char *reason = str(o, "reason"), *decision = str(o, "decision");

	if (strcmp(action, "return") == 0) {
		if (!reason || !*reason) {
			kit_err_set(e, KIT_E_BAD_REQUEST, "%s",
			    TR("a returned transfer needs a \"reason\""));
			return -1;
		}
		json_object_set_new(rec, "return_reason", json_string(reason));
	} else if (strcmp(action, "decide") == 0) {
		json_object_set_new(rec, "decision", json_string(decision));
		if (str(o, "decision_no"))
			json_object_set(rec, "decision_no",
			    json_object_get(o, "decision_no"));
		if (json_object_get(o, "months"))
			json_object_set(
			    rec, "months", json_object_get(o, "months"));
		if (json_object_get(o, "community_rehab_months"))
			json_object_set(rec, "community_rehab_months",
			    json_object_get(o, "community_rehab_months"));
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
			kit_err_set(e, KIT_E_BAD_REQUEST, "%s",
			    TR("partially-accept needs \"accepted\": a "
			       "non-empty list of some (not all) of the "
			       "package's document names"));
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

/* The clocks a new state meets or stops: each clock of the instrument
 * whose `met` is the state (the decide clock of due_days: DECIDED);
 * RETURNED and CLOSED stop what is left. */
static int
clocks_after(collab *c, json_t *rec, const char *state)
{
	kit_store               *st = &c->kit.store;
	const char              *id = str(rec, "id");
	const collab_instrument *in = collab_instrument_find(
	    &c->cat, str(json_object_get(rec, "package"), "type"));

	if (strcmp(state, "RETURNED") == 0 || strcmp(state, "CLOSED") == 0)
		return kit_store_clock_set(st, KIND, id, NULL, "STOPPED");
	if (strcmp(state, "DECIDED") == 0
	    && kit_store_clock_set(st, KIND, id, "decide", "MET") != 0)
		return -1;
	if (strcmp(state, "RECEIVED") == 0
	    && kit_store_clock_set(st, KIND, id, "notify", "MET") != 0)
		return -1;
	for (size_t i = 0; in && i < in->nclocks; i++)
		if (strcmp(in->clocks[i].met, state) == 0
		    && kit_store_clock_set(
		           st, KIND, id, in->clocks[i].name, "MET")
		        != 0)
			return -1;
	return 0;
}

static void sync_out(collab *c, kit_req *r, json_t *rec, const char *action,
    const char *from_state);

static void
do_transition(collab *c, kit_req *r, const char *action)
{
	static char *const    clerk[] = { "case_clerk", NULL };
	const char           *id      = str(r->body, "transfer_id");
	const kit_transition *t;
	json_t               *rec = NULL, *pkg;
	char                  code[64], state[32];
	kit_err               e;
	const fk_field *spec = strcmp(action, "decide") == 0 ? decide_fields
	    : strcmp(action, "partially-accept") == 0        ? partial_fields
	                                                     : id_fields;

	if (need_actor(c, r, code) != 0)
		return;
	if (fk_check(r->body, spec, &e) != 0) {
		refuse_err(c, r, &e, id);
		return;
	}
	if (need_role(c, r, clerk, id) != 0)
		return;
	if (kit_tx_begin(&c->kit, &e) != 0)
		goto refused;
	if ((rec = load(c, id, &e)) == NULL)
		goto abort;
	snprintf(state, sizeof(state), "%s", str(rec, "state"));
	pkg                 = json_object_get(rec, "package");
	const char *from    = str(pkg, "from_agency"),
	           *to      = str(pkg, "to_agency");
	enum collab_party p = collab_party(action);
	if (c->check_agency
	    && !((p != COLLAB_RECEIVER && strcmp(code, from) == 0)
	        || (p != COLLAB_SENDER && strcmp(code, to) == 0))) {
		kit_err_set(&e, KIT_E_FORBIDDEN,
		    TR("only %s%s%s may %s transfer '%s'; the actor's agency "
		       "is '%s'"),
		    p == COLLAB_SENDER ? from : to,
		    p == COLLAB_EITHER ? TR(" or ") : "",
		    p == COLLAB_EITHER ? from : "", action, id,
		    r->actor.agency);
		goto abort;
	}
	if ((t = kit_fsm_find(&collab_transfer_fsm, state, action)) == NULL) {
		e.code = KIT_E_INVALID_STATE;
		collab_refusal(id, state, action, e.msg, sizeof(e.msg));
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
	if (clocks_after(c, rec, t->to) != 0) {
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
	sync_out(c, r, rec, action, state);
	json_decref(rec);
	return;
abort:
	kit_tx_abort(&c->kit);
refused:
	refuse_err(c, r, &e, id);
	json_decref(rec);
}

/* ---- across nodes (docs/multi-node.md) ---- */

/* A change of a transfer that did not start here (delivered or synced
 * from the other side's node): saved with its history row, its clocks
 * met or stopped, announced locally, audited; as `by` (the other node's
 * actor). 0, or -1 with e set. */
static int
apply_remote(collab *c, kit_req *r, json_t *rec, const char *action,
    const char *from_state, json_t *changes, int insert, kit_err *e)
{
	const char *k;
	json_t     *v;

	json_object_foreach(changes, k, v) json_object_set(rec, k, v);
	json_object_set_new(rec, "updated_ms", json_integer(r->now_ms));
	if (kit_record_write(r, KIND, rec, insert, action, from_state,
	        str(changes, "return_reason"), e)
	    != 0)
		return -1;
	if (!insert && clocks_after(c, rec, str(rec, "state")) != 0) {
		kit_err_set(e, KIT_E_STORE_ERROR, "%s", c->kit.store.err);
		return -1;
	}
	return 0;
}

struct delivery {
	collab *c;
	char    id[80];
	char    to[64];
};

/* The error code of an error reply ("" when none). */
static void
reply_code(const xz_msg *reply, char *code, size_t n)
{
	json_t *o
	    = reply ? json_loadb(reply->data, reply->len, 0, NULL) : NULL;
	const char *s = str(json_object_get(o, "error"), "code");
	snprintf(code, n, "%s", s ? s : "");
	json_decref(o);
}

/*
 * The receiving node acknowledged (or not) a delivered transfer. An
 * acknowledgement (also of a resend: the receiver keeps one record per
 * transfer id and answers "duplicate") ends it: ACKNOWLEDGED, history
 * "delivered". Otherwise (no link up, the node down, no answer in time)
 * the transfer is sent again after deliver_retry_ms, doubling up to
 * deliver_retry_max_ms (a clock deliver.N, so a restart of this node
 * resends too): delivery PENDING with attempts, the last error and
 * next_ms; history "undelivered" at the first failure only. After
 * deliver_give_up_s since the first sending, or at a bad_request from
 * the receiver (resending the same cannot help), FAILED with the reason.
 */
static void
on_delivered(void *ud, int status, const xz_msg *reply)
{
	struct delivery *d = ud;
	collab          *c = d->c;
	kit_req          r;
	kit_err          e;
	json_t          *rec = NULL;
	int  ok = status == XZ_OK && reply && !(reply->flags & XZ_MSG_ERROR);
	char why[300], code[64] = "";
	const char *state  = "ACKNOWLEDGED";
	int64_t     tries  = 1;
	int         logged = 0; /* a history row for this outcome */

	if (reply != NULL && (reply->flags & XZ_MSG_ERROR))
		reply_code(reply, code, sizeof(code));
	if (reply != NULL)
		snprintf(why, sizeof(why), "%s: %.*s", d->to,
		    (int) (reply->len > 200 ? 200 : reply->len),
		    (const char *) reply->data);
	else
		snprintf(why, sizeof(why), "%s: %s", d->to,
		    status == XZ_ENORESPONDERS
		        ? "no route to its node (no link up, or its collab "
		          "is not running)"
		        : status == XZ_ETIMEDOUT ? "no answer in 15 s"
		                                 : "not sent");
	kit_req_internal(&c->kit, &r, "collab",
	    json_pack("{s:s}", "purpose", "delivery to the receiving node"));
	if (kit_tx_begin(&c->kit, &e) != 0
	    || (rec = kit_store_load(&c->kit.store, KIND, d->id)) == NULL) {
		kit_tx_abort(&c->kit);
		goto out;
	}
	json_t *old   = json_object_get(rec, "delivery");
	int64_t first = kit_int(old, "first_ms", r.now_ms);
	tries         = kit_int(old, "attempts", 0) + 1;
	if (json_is_string(json_object_get(old, "state"))
	    && strcmp(str(old, "state"), "PENDING") != 0) {
		/* Already settled (a late answer to an earlier sending). */
		kit_tx_abort(&c->kit);
		goto out;
	}
	json_t *del = json_pack("{s:s,s:s,s:I,s:I,s:I}", "state", state,
	    "node_of", d->to, "at_ms", (json_int_t) r.now_ms, "attempts",
	    (json_int_t) tries, "first_ms", (json_int_t) first);
	if (!ok) {
		int64_t wait = c->retry_ms;
		for (int64_t i = 1; i < tries && wait < c->retry_max_ms; i++)
			wait *= 2;
		if (wait > c->retry_max_ms)
			wait = c->retry_max_ms;
		if (strcmp(code, "bad_request") == 0
		    || r.now_ms - first >= c->give_up_s * 1000) {
			char full[400];
			state = "FAILED";
			snprintf(full, sizeof(full),
			    "%s (%lld sendings in %lld s, %s)", why,
			    (long long) tries,
			    (long long) ((r.now_ms - first) / 1000),
			    code[0] && strcmp(code, "bad_request") == 0
			        ? "refused by the receiving node"
			        : "gave up after deliver_give_up_s");
			snprintf(why, sizeof(why), "%s", full);
		} else {
			char clk[32];
			state = "PENDING";
			snprintf(clk, sizeof(clk), "deliver.%lld",
			    (long long) tries);
			json_object_set_new(
			    del, "next_ms", json_integer(r.now_ms + wait));
			if (kit_store_clock_add(&c->kit.store, KIND, d->id,
			        clk, r.now_ms + wait)
			    != 0) {
				json_decref(del);
				kit_tx_abort(&c->kit);
				goto out;
			}
		}
		json_object_set_new(del, "state", json_string(state));
		json_object_set_new(del, "error", json_string(why));
	}
	json_object_set_new(rec, "delivery", del);
	/* History: the outcome, and the first failure (not each resend). */
	logged = ok || strcmp(state, "FAILED") == 0 || tries == 1;
	if ((logged ? kit_record_write(&r, KIND, rec, 0,
	         ok ? "delivered" : "undelivered", str(rec, "state"),
	         ok ? d->to : why, &e)
	            : kit_store_save(&c->kit.store, KIND, rec, 0))
	        != 0
	    || kit_tx_commit(&c->kit, &e) != 0) {
		kit_tx_abort(&c->kit);
		goto out;
	}
	if (strcmp(state, "PENDING") == 0)
		arm(c);
out:
	c->kit.host->counter_add(c->kit.self,
	    ok                                 ? "delivered"
	        : strcmp(state, "FAILED") == 0 ? "deliver_failed"
	                                       : "deliver_retried",
	    1);
	if (!ok)
		c->kit.host->log(c->kit.self,
		    strcmp(state, "FAILED") == 0 ? XZ_LOG_WARN : XZ_LOG_INFO,
		    TR("transfer %s not acknowledged by %s's node (sending "
		       "%lld): "
		       "%s%s"),
		    d->id, d->to, (long long) tries, why,
		    strcmp(state, "PENDING") == 0 ? TR("; sent again later")
		                                  : "");
	json_decref(rec);
	kit_req_done(&r);
	free(d);
}

/* Send a transfer just sent here to the receiving agency's node:
 * collab.transfer.deliver.<agency> {"transfer": the record}. */
static void
deliver(collab *c, json_t *rec)
{
	json_t          *pkg = json_object_get(rec, "package");
	struct delivery *d   = calloc(1, sizeof(*d));
	char             topic[128], ag[64];
	json_t          *o = json_pack("{s:O}", "transfer", rec);
	char            *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	if (d == NULL || s == NULL) {
		free(d);
		free(s);
		return;
	}
	d->c = c;
	snprintf(d->id, sizeof(d->id), "%s", str(rec, "id"));
	snprintf(d->to, sizeof(d->to), "%s", str(pkg, "to_agency"));
	lower(d->to, ag, sizeof(ag));
	snprintf(topic, sizeof(topic), "collab.transfer.deliver.%s", ag);
	if (c->kit.host->request(
	        c->kit.self, topic, s, strlen(s), 15000, on_delivered, d)
	    != XZ_OK) {
		/* nothing routes there (no link up): sent again later */
		on_delivered(d, XZ_ENORESPONDERS, NULL);
	}
	free(s);
}

/* Send again the transfers (ids) whose resend clock came due, unless
 * settled meanwhile. Outside any transaction. */
static void
redeliver(collab *c, json_t *ids)
{
	size_t  i;
	json_t *v;

	json_array_foreach(ids, i, v)
	{
		json_t *rec = kit_store_load(
		    &c->kit.store, KIND, json_string_value(v));
		json_t *del = json_object_get(rec, "delivery");
		if (rec != NULL
		    && json_is_string(json_object_get(del, "state"))
		    && strcmp(str(del, "state"), "PENDING") == 0)
			deliver(c, rec);
		json_decref(rec);
	}
}

/* Only another node (or the administrator) brings transfers in. */
static int
from_node(collab *c, const xz_msg *m)
{
	const xz_caller *who = XZ_HAS_MEMBER(c->kit.host, xz_host, caller)
	    ? c->kit.host->caller(c->kit.self, m)
	    : NULL;
	if (who == NULL)
		return 1;
	if (strncmp(who->user, "node:", 5) == 0)
		return 1;
	for (const char *const *ro = who->roles; ro && *ro; ro++)
		if (strcmp(*ro, "admin") == 0)
			return 1;
	return 0;
}

/* collab.transfer.deliver.<agency> {"transfer"}: a transfer another node
 * sent to an agency of this node, stored here as SENT with the same id,
 * package hash and clocks (from its sending), then acknowledged. Again:
 * acknowledged, nothing changes. */
static void
on_deliver(void *ud, const xz_msg *m)
{
	collab     *c = ud;
	kit_req     r;
	kit_err     e;
	json_t     *body = json_loadb(m->data, m->len, 0, NULL);
	json_t     *t = json_object_get(body, "transfer"), *rec = NULL;
	json_t     *pkg = json_object_get(t, "package");
	const char *id  = str(t, "id");
	char       *canon;
	char        hash[XZ_SHA256_HEX];

	if (m->kind != XZ_KIND_REQUEST) {
		json_decref(body);
		return;
	}
	kit_req_adopt(&c->kit, m, body, &r);
	if (!from_node(c, m)) {
		refuse(c, &r, KIT_E_FORBIDDEN, id,
		    "collab.transfer.deliver: only a linked node delivers "
		    "transfers");
		goto done;
	}
	canon = json_is_object(pkg)
	    ? json_dumps(pkg, JSON_COMPACT | JSON_SORT_KEYS)
	    : NULL;
	if (canon != NULL)
		xz_sha256_hex(canon, strlen(canon), hash);
	free(canon);
	if (canon == NULL || !valid_id(id) || str(t, "package_hash") == NULL
	    || strcmp(hash, str(t, "package_hash")) != 0
	    || !is_local(c, str(pkg, "to_agency"))
	    || collab_instrument_find(&c->cat, str(pkg, "type")) == NULL) {
		refuse(c, &r, KIT_E_BAD_REQUEST, id,
		    "collab.transfer.deliver: not a transfer to an agency of "
		    "this node (id, package, package_hash, to_agency, type)");
		goto done;
	}
	if (kit_tx_begin(&c->kit, &e) != 0)
		goto refused;
	if ((rec = kit_store_load(&c->kit.store, KIND, id)) != NULL) {
		kit_tx_abort(&c->kit);
		kit_reply(&r,
		    json_pack("{s:s,s:b,s:O}", "transfer_id", id, "duplicate",
		        1, "state", json_object_get(rec, "state")));
		goto done;
	}
	int64_t sent_ms = kit_int(t, "created_ms", r.now_ms);
	rec = json_pack("{s:s,s:s,s:I,s:I,s:s,s:O}", "id", id, "state", "SENT",
	    "created_ms", (json_int_t) sent_ms, "updated_ms",
	    (json_int_t) r.now_ms, "package_hash", hash, "package", pkg);
	if (rec == NULL
	    || kit_record_write(&r, KIND, rec, 1, "delivered", NULL,
	           str(pkg, "from_agency"), &e)
	        != 0
	    || add_clocks(c, id, pkg, sent_ms) != 0) {
		if (e.code == 0)
			kit_err_set(
			    &e, KIT_E_STORE_ERROR, "%s", c->kit.store.err);
		kit_tx_abort(&c->kit);
		goto refused;
	}
	announce(c, &r, rec, "sent", NULL, str(pkg, "reason"),
	    str(pkg, "to_agency"));
	audit_subject(&r, rec, "delivered", "CREATE", "SENT");
	if (kit_tx_commit(&c->kit, &e) != 0)
		goto refused;
	kit_reply(&r,
	    json_pack("{s:s,s:b,s:s}", "transfer_id", id, "duplicate", 0,
	        "state", "SENT"));
	c->kit.host->counter_add(c->kit.self, "received_from_nodes", 1);
	arm(c);
	goto done;
refused:
	refuse_err(c, &r, &e, id);
done:
	json_decref(rec);
	kit_req_done(&r);
}

/* After a change here of a transfer whose other side is on another
 * node: tell it (collab.transfer.sync.<agency>), so its copy, history
 * and clocks follow. */
static void
sync_out(collab *c, kit_req *r, json_t *rec, const char *action,
    const char *from_state)
{
	json_t     *pkg   = json_object_get(rec, "package");
	const char *from  = str(pkg, "from_agency"),
	           *to    = str(pkg, "to_agency");
	const char *other = is_local(c, from) ? to : from;
	char        topic[128], ag[64];

	if (is_local(c, other))
		return;
	json_t *changes = json_object();
	for (const char *const *k
	     = (const char *const[]) { "state", "return_reason", "decision",
	         "decision_no", "months", "community_rehab_months",
	         "accepted_documents", "missing_documents", NULL };
	     *k; k++)
		if (json_object_get(rec, *k) != NULL)
			json_object_set(changes, *k, json_object_get(rec, *k));
	json_t *o = json_pack("{s:O,s:s,s:s,s:o,s:{s:s?,s:s?,s:s?}}",
	    "transfer_id", json_object_get(rec, "id"), "action", action,
	    "from_state", from_state, "changes", changes, "by", "user",
	    r->actor.user, "role", r->actor.role, "agency", r->actor.agency);
	lower(other, ag, sizeof(ag));
	snprintf(topic, sizeof(topic), "collab.transfer.sync.%s", ag);
	if (o != NULL)
		kit_emit(&c->kit, topic, o);
}

/* collab.transfer.sync.<agency>: the other side changed a transfer. */
static void
on_sync(void *ud, const xz_msg *m)
{
	collab     *c      = ud;
	json_t     *body   = json_loadb(m->data, m->len, 0, NULL);
	const char *id     = str(body, "transfer_id"),
	           *action = str(body, "action");
	json_t *changes = json_object_get(body, "changes"), *rec = NULL;
	json_t *by = json_object_get(body, "by");
	kit_req r;
	kit_err e;
	char    from_state[32];

	if (m->kind != XZ_KIND_EVENT || !from_node(c, m) || !valid_id(id)
	    || action == NULL || !json_is_object(changes)
	    || !json_is_string(json_object_get(changes, "state"))) {
		json_decref(body);
		return;
	}
	kit_req_internal(&c->kit, &r,
	    str(by, "user") ? str(by, "user") : "node",
	    json_pack("{s:s}", "purpose", "the other side's change"));
	r.actor.role   = str(by, "role");
	r.actor.agency = str(by, "agency");
	if (kit_tx_begin(&c->kit, &e) != 0)
		goto out;
	if ((rec = kit_store_load(&c->kit.store, KIND, id)) == NULL) {
		kit_tx_abort(&c->kit);
		goto out;
	}
	snprintf(from_state, sizeof(from_state), "%s", str(rec, "state"));
	if (apply_remote(c, &r, rec, action, from_state, changes, 0, &e)
	    != 0) {
		kit_tx_abort(&c->kit);
		goto out;
	}
	const char *to = str(rec, "state");
	announce(c, &r, rec, action, from_state, str(changes, "return_reason"),
	    strcmp(to, "RETURNED") == 0 || strcmp(to, "DECIDED") == 0
	        ? str(json_object_get(rec, "package"), "from_agency")
	        : NULL);
	audit_subject(&r, rec, "synced", "UPDATE", to);
	if (kit_tx_commit(&c->kit, &e) == 0) {
		c->kit.host->counter_add(c->kit.self, "synced_from_nodes", 1);
		arm(c);
	}
out:
	json_decref(rec);
	kit_req_done(&r);
	json_decref(body); /* after: the actor's strings point into it */
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
	char        code[64];
	json_t     *rec, *pkg;
	kit_err     e;

	if (need_actor(c, r, code) != 0)
		return;
	if (fk_check(r->body, get_fields, &e) != 0) {
		refuse_err(c, r, &e, NULL);
		return;
	}
	if (need_role(c, r, (char *const *) reader_roles, id) != 0)
		return;
	if ((rec = load(c, id, &e)) == NULL) {
		refuse_err(c, r, &e, id);
		return;
	}
	pkg = json_object_get(rec, "package");
	if (c->check_agency && !is_party(code, pkg)) {
		refuse(c, r, KIT_E_FORBIDDEN, id,
		    TR("transfer '%s' is between %s and %s; the actor's "
		       "agency is '%s'"),
		    id, str(pkg, "from_agency"), str(pkg, "to_agency"),
		    r->actor.agency);
		json_decref(rec);
		return;
	}
	kit_reply(r,
	    view(c, rec, !json_is_false(json_object_get(r->body, "history"))));
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
	json_t        *o = r->body, *lim = json_object_get(o, "limit");
	const char    *state = str(o, "state"), *type = str(o, "type");
	const char    *dir   = str(o, "direction");
	int64_t        limit = lim ? json_integer_value(lim) : 100;
	char           code[64], ag[64] = "", outcome[64];
	sqlite3_stmt  *row;
	json_t        *out;
	int            rc;
	kit_err        e;
	const fk_field list_fields[] = {
		{ "state", FK_ONEOF, 0, 0, 0, transfer_states },
		{ "type", FK_STR, 0, 0, 64, NULL },
		{ "direction", FK_ONEOF, 0, 0, 0, directions },
		{ "agency", FK_STR, 0, 0, 64, NULL },
		{ "limit", FK_INT, 0, 1, c->list_max, NULL },
		{ NULL, 0, 0, 0, 0, NULL },
	};

	if (need_actor(c, r, code) != 0)
		return;
	if (fk_check(o, list_fields, &e) != 0) {
		refuse_err(c, r, &e, NULL);
		return;
	}
	if (need_role(c, r, (char *const *) reader_roles, NULL) != 0)
		return;
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
		    TR("%s: the payload must be a JSON object"), m->topic);
	else if (r.actor_refused[0] != '\0') {
		/* a payload's actor that is not the caller: refused as
		 * kit_req_parse does (its record names the code, never the
		 * forged name) */
		kit_err e;
		kit_err_set(
		    &e, KIT_E_FORBIDDEN, "%s: %s", m->topic, r.actor_refused);
		kit_reply_err(&r, &e, NULL, NULL);
		c->kit.host->counter_add(c->kit.self, "refused", 1);
	} else if (strcmp(action, "send") == 0)
		do_send(c, &r);
	else if (strcmp(action, "get") == 0)
		do_get(c, &r);
	else if (strcmp(action, "list") == 0)
		do_list(c, &r);
	else
		do_transition(c, &r, action);
	kit_req_done(&r);
}

/* collab.catalog.get {}: the catalog as loaded (agency types, agencies,
 * instruments with their senders, receivers, roles, clocks and basis). */
static void
on_catalog(void *ud, const xz_msg *m)
{
	collab *c  = ud;
	json_t *ty = json_array(), *ag = json_array(), *in = json_array();
	char   *s;

	if (m->kind != XZ_KIND_REQUEST)
		return;
	for (size_t i = 0; i < c->cat.ntypes; i++)
		json_array_append_new(ty,
		    json_pack("{s:s,s:s}", "id", c->cat.types[i].id, "name",
		        c->cat.types[i].name));
	for (size_t i = 0; i < c->cat.nagencies; i++)
		json_array_append_new(ag,
		    json_pack("{s:s,s:s,s:s}", "id", c->cat.agencies[i].id,
		        "type", c->cat.agencies[i].type, "name",
		        c->cat.agencies[i].name));
	for (size_t i = 0; i < c->cat.ninstruments; i++) {
		const collab_instrument *x = &c->cat.instruments[i];
		json_t                  *f = json_array(), *t = json_array(),
		       *ro = json_array(), *cl = json_array();
		for (char **p = x->from; *p; p++)
			json_array_append_new(f, json_string(*p));
		for (char **p = x->to; *p; p++)
			json_array_append_new(t, json_string(*p));
		for (char **p = x->send_roles; *p; p++)
			json_array_append_new(ro, json_string(*p));
		for (size_t j = 0; j < x->nclocks; j++)
			json_array_append_new(cl,
			    json_pack("{s:s,s:I,s:s,s:s?}", "name",
			        x->clocks[j].name, "days",
			        (json_int_t) x->clocks[j].days, "met",
			        x->clocks[j].met, "to", x->clocks[j].to));
		json_array_append_new(in,
		    json_pack("{s:s,s:s,s:s?,s:o,s:o,s:o,s:o}", "id", x->id,
		        "name", x->name, "basis", x->basis, "from", f, "to", t,
		        "send_roles", ro, "clocks", cl));
	}
	json_t *o = json_pack("{s:o,s:o,s:o}", "agency_types", ty, "agencies",
	    ag, "instruments", in);
	s         = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s) {
		c->kit.host->reply(c->kit.self, m, s, strlen(s));
		free(s);
	}
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
		/* seq in the order they were written (the store takes the
		 * next from the rows: store.h, hist_seq) */
		"INSERT INTO history(seq, kind, id, action, from_state,"
		" to_state, who, role, at_ms, why, agency) SELECT"
		" row_number() OVER (ORDER BY n), 'transfer',"
		" transfer_id, action, from_state, to_state,"
		" coalesce(by_user, '?'), by_role, at_ms, reason, by_agency"
		" FROM collab_v0_history",
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
	host->opt_int(self, "notify_days", &c->notify_days);
	{
		const char *path = host->opt_string(self, "catalog");
		if (collab_catalog_load(&c->cat, path && *path ? path : NULL,
		        collab_catalog_builtin, err, sizeof(err))
		    != 0)
			goto fail;
	}
	host->opt_int(self, "list_limit_max", &c->list_max);
	host->opt_int(self, "deliver_retry_ms", &c->retry_ms);
	host->opt_int(self, "deliver_retry_max_ms", &c->retry_max_ms);
	host->opt_int(self, "deliver_give_up_s", &c->give_up_s);
	if (c->retry_max_ms < c->retry_ms)
		c->retry_max_ms = c->retry_ms;
	{
		const char *ags = host->opt_string(self, "agencies");
		char       *dup = ags && *ags ? strdup(ags) : NULL, *sv = NULL;
		for (char *t = dup ? strtok_r(dup, ", ", &sv) : NULL; t;
		     t       = strtok_r(NULL, ", ", &sv)) {
			char **v
			    = realloc(c->local, (c->nlocal + 1) * sizeof(*v));
			if (v == NULL)
				break;
			c->local = v;
			if ((c->local[c->nlocal] = strdup(t)) != NULL)
				c->nlocal++;
		}
		free(dup);
	}
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
	/* collab.catalog.get: the agencies and instruments */
	if (host->subscribe(
	        self, "collab.catalog.get", NULL, on_catalog, c, NULL)) {
		kit_ctx_fini(&c->kit);
		collab_catalog_free(&c->cat);
		free(c);
		return XZ_EINVAL;
	}
	for (int i = 0; reqs[i]; i++) {
		char topic[64];
		snprintf(topic, sizeof(topic), "collab.transfer.%s", reqs[i]);
		if (host->subscribe(self, topic, NULL, on_request, c, NULL)) {
			kit_ctx_fini(&c->kit);
			collab_catalog_free(&c->cat);
			free(c);
			return XZ_EINVAL;
		}
	}
	/* Transfers and changes from other nodes, for this node's agencies
	 * (option agencies). */
	for (size_t i = 0; i < c->nlocal; i++) {
		char topic[128], ag[64];
		lower(c->local[i], ag, sizeof(ag));
		snprintf(
		    topic, sizeof(topic), "collab.transfer.deliver.%s", ag);
		if (host->subscribe(self, topic, NULL, on_deliver, c, NULL))
			goto fail_sub;
		snprintf(topic, sizeof(topic), "collab.transfer.sync.%s", ag);
		if (host->subscribe(self, topic, NULL, on_sync, c, NULL))
			goto fail_sub;
	}
	*state = c;
	return XZ_OK;
fail_sub:
	kit_ctx_fini(&c->kit);
	collab_catalog_free(&c->cat);
	for (size_t i = 0; i < c->nlocal; i++)
		free(c->local[i]);
	free(c->local);
	free(c);
	return XZ_EINVAL;
fail:
	host->log(self, XZ_LOG_ERROR, "%s", err);
	collab_catalog_free(&c->cat);
	for (size_t i = 0; i < c->nlocal; i++)
		free(c->local[i]);
	free(c->local);
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
	collab_catalog_free(&c->cat);
	for (size_t i = 0; i < c->nlocal; i++)
		free(c->local[i]);
	free(c->local);
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
