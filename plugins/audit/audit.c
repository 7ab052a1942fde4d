/*
 * audit.c - the audit plugin: every event on audit.> (and xz.sys.audit.>)
 * becomes an append-only, hash-chained record in the plugin's SQLite store;
 * requests audit.verify, audit.query and audit.prune. See docs/audit.md.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>
#include <xiezhi/i18n.h>
#include <xiezhi/xiezhi.h>

#include "anchor.h"
#include "batch.h"
#include "chain.h"
#include "kjson.h"
#include "reply.h"

/* The audit plugin's log lines in 简体中文, by LANG (<xiezhi/i18n.h>). */
static const xz_tr audit_zh[] = {
	{ "audit: anchor: cannot read the head: %s",
	    "audit：锚定：无法读取链头：%s" },
	{ "audit: checkpoint of record %lld not anchored: %s",
	    "audit：记录 %lld 的检查点未能锚定：%s" },
	{ "audit: cannot write the head file %s",
	    "audit：无法写入链头文件 %s" },
	{ "audit: record from topic '%s' not written: %s",
	    "audit：来自主题 '%s' 的记录未能写入：%s" },
	{ "audit: begin: %s", "audit：开始事务：%s" },
	{ "audit: commit of %lld record(s) failed: %s",
	    "audit：%lld 条记录提交失败：%s" },
	{ "audit: prune: %s", "audit：清理：%s" },
	{ "audit: pruned records %lld..%lld (older than %lld days); "
	  "checkpoint "
	  "record %lld",
	    "audit：已清理记录 %lld..%lld（早于 %lld 天）；检查点记录 %lld" },
	{ "audit: signing checkpoints with key %s%s%s",
	    "audit：用密钥 %s 签署检查点%s%s" },
	{ " into ", "，写入 " },
	{ "audit: the log in %s disagrees with checkpoint %lld of %s (%s): %s",
	    "audit：%s 中的日志与检查点 %lld（%s）不符（%s）：%s" },
	{ "audit: %s", "audit：%s" },
	{ "audit: the log in %s fails verification at record %lld (%s): %s",
	    "audit：%s 中的日志在记录 %lld 处未通过校验（%s）：%s" },
	{ NULL, NULL },
};
#define AT(s) XZ_TR(audit_zh, s)

#define DAY_MS 86400000LL

typedef struct audit_state {
	xz_plugin     *self;
	const xz_host *h;
	sqlite3       *db;
	char          *head_path; /* side file, owned */
	/* the append statements, prepared once; finalized by audit_fini */
	xz_audit_writer w;
	/* a batch (audit.append): one transaction; the head of the chain,
	 * read once at its start and moved by each record written in it
	 * (batch_n of them); the anchor row moves once, at its end */
	int      in_batch;
	int64_t  batch_n, batch_seq;
	char     batch_hash[XZ_SHA256_HEX];
	int64_t  retention_days;
	int64_t  query_limit_max;
	int      durable; /* audit.> is a durable subscription */
	uint64_t prune_timer;
	/* signed checkpoints (anchor.h); anchoring 0: off */
	int           anchoring;
	const char   *anchor_path; /* sink file, kernel-owned; NULL: none */
	int           anchor_publish;
	int64_t       anchor_every;
	xz_anchor_key key;
	char          node[64];
	int64_t       anchored_seq;
	char          anchored_hash[XZ_SHA256_HEX];
	uint64_t      anchor_timer;
} audit_state;

static const xz_option_decl options[] = {
	{ "retention_days", XZ_OPT_INT, "183", 0,
	    "days a record is kept before pruning (Cybersecurity Law art. 21: "
	    "at least 6 months); pruning leaves a PRUNE checkpoint record",
	    183, 36500 },
	{ "prune_interval_s", XZ_OPT_INT, "3600", 0,
	    "how often the retention check runs (kernel clock)", 1, 604800 },
	{ "query_limit_max", XZ_OPT_INT, "10000", 0,
	    "the most records one audit.query returns", 1, 1000000 },
	{ "anchor_file", XZ_OPT_STRING, "", 0,
	    "append-only sink of signed checkpoints of the chain's head, "
	    "outside the data folder (empty: none)",
	    0, 0 },
	{ "anchor_key", XZ_OPT_STRING, "", 0,
	    "the Ed25519 signing key file, made (0600) when missing; its "
	    "public key goes beside it as KEY.pub (empty: ANCHOR_FILE.key)",
	    0, 0 },
	{ "anchor_every", XZ_OPT_INT, "100", 0,
	    "sign a checkpoint at least every this many records", 1, 1000000 },
	{ "anchor_interval_s", XZ_OPT_INT, "60", 0,
	    "and at least this often (kernel clock) when the head moved", 1,
	    86400 },
	{ "anchor_publish", XZ_OPT_BOOL, "false", 0,
	    "also publish each checkpoint as an event on audit.anchor", 0, 0 },
	{ "anchor_node", XZ_OPT_STRING, "", 0,
	    "the node name written in checkpoints (empty: the host name)", 0,
	    0 },
	{ NULL, 0, NULL, 0, NULL, 0, 0 }
};

/* Sign the head of the chain and send it off the node (sink file, bus),
 * unless it is the one signed last (force: sign anyway). */
static void
anchor_now(audit_state *st, int force)
{
	xz_anchor a;
	char      err[300];

	if (!st->anchoring)
		return;
	memset(&a, 0, sizeof(a));
	if (xz_audit_head(st->db, &a.seq, a.hash) != 0) {
		st->h->log(st->self, XZ_LOG_ERROR,
		    AT("audit: anchor: cannot read the head: %s"),
		    sqlite3_errmsg(st->db));
		st->h->counter_add(st->self, "anchor_failed", 1);
		return;
	}
	if (a.seq == 0)
		return; /* nothing to sign yet */
	if (!force && a.seq == st->anchored_seq
	    && strcmp(a.hash, st->anchored_hash) == 0)
		return;
	snprintf(a.node, sizeof(a.node), "%s", st->node);
	a.time_ms = (int64_t) st->h->now_ms(st->self);
	xz_anchor_sign(&a, &st->key);
	if (st->anchor_path != NULL
	    && xz_anchor_append(st->anchor_path, &a, err, sizeof(err)) != 0) {
		st->h->log(st->self, XZ_LOG_ERROR,
		    AT("audit: checkpoint of record %lld not anchored: %s"),
		    (long long) a.seq, err);
		st->h->counter_add(st->self, "anchor_failed", 1);
		return;
	}
	if (st->anchor_publish) {
		char    line[512], key[65], sig[129];
		json_t *o;
		xz_anchor_format(&a, line, sizeof(line));
		line[strcspn(line, "\n")] = '\0';
		xz_hex_encode(a.pub, sizeof(a.pub), key);
		xz_hex_encode(a.sig, sizeof(a.sig), sig);
		o = json_pack("{s:s,s:I,s:s,s:I,s:s,s:s,s:s}", "node", a.node,
		    "seq", (json_int_t) a.seq, "hash", a.hash, "time",
		    (json_int_t) a.time_ms, "key", key, "sig", sig, "line",
		    line);
		char *js = o ? json_dumps(o, JSON_COMPACT) : NULL;
		if (js == NULL
		    || st->h->publish(st->self, "audit.anchor", js, strlen(js))
		        != XZ_OK)
			st->h->counter_add(
			    st->self, "anchor_publish_failed", 1);
		free(js);
		json_decref(o);
	}
	st->anchored_seq = a.seq;
	memcpy(st->anchored_hash, a.hash, XZ_SHA256_HEX);
	st->h->counter_add(st->self, "anchors", 1);
}

static void
on_anchor_timer(void *ud, uint64_t id)
{
	(void) id;
	anchor_now(ud, 0);
}

/* After a commit of n records (the last: seq, hash): the side file,
 * the counter, the signed checkpoint when due. */
static void
appended(audit_state *st, int64_t n, int64_t seq, const char *hash)
{
	if (xz_audit_head_write(st->head_path, seq, hash) != 0)
		st->h->log(st->self, XZ_LOG_WARN,
		    AT("audit: cannot write the head file %s"), st->head_path);
	st->h->counter_add(st->self, "records", n);
	if (st->anchoring && seq - st->anchored_seq >= st->anchor_every)
		anchor_now(st, 0);
}

static int
exec_ok(audit_state *st, const char *sql)
{
	return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK;
}

/* Insert r in the open transaction; 0 written, 1 duplicate event id, -1
 * error (logged). */
static int
insert_rec(audit_state *st, xz_audit_rec *r, char *err, size_t errlen)
{
	return xz_audit_writer_insert(&st->w, r, err, errlen);
}

static int
append_failed(audit_state *st, xz_audit_rec *r, int rc, const char *err)
{
	if (rc < 0) {
		st->h->log(st->self, XZ_LOG_ERROR,
		    AT("audit: record from topic '%s' not written: %s"),
		    r->f[XZ_AF_TOPIC] ? r->f[XZ_AF_TOPIC] : "?", err);
		st->h->counter_add(st->self, "errors", 1);
	} else {
		st->h->counter_add(st->self, "duplicates", 1);
	}
	return rc;
}

/*
 * Append one record: in its own transaction and move the side file, or,
 * inside a batch, after the batch's head in the batch's transaction (the
 * batch moves the anchor row, commits and moves the side file once). A
 * record is one INSERT statement: one that fails leaves nothing of itself
 * in the transaction, and the batch stops there.
 * 0 written, 1 duplicate event id, -1 error (logged).
 */
static int
append(audit_state *st, xz_audit_rec *r)
{
	char err[256];
	int  rc;

	r->at_ms = (int64_t) st->h->now_ms(st->self);
	if (st->in_batch) {
		rc = xz_audit_writer_insert_after(&st->w, r, st->batch_seq,
		    st->batch_hash, err, sizeof(err));
		if (rc != 0)
			return append_failed(st, r, rc, err);
		st->batch_n++;
		st->batch_seq = r->seq;
		memcpy(st->batch_hash, r->hash, XZ_SHA256_HEX);
		return 0;
	}
	if (!exec_ok(st, "BEGIN IMMEDIATE")) {
		st->h->log(st->self, XZ_LOG_ERROR, AT("audit: begin: %s"),
		    sqlite3_errmsg(st->db));
		st->h->counter_add(st->self, "errors", 1);
		return -1;
	}
	rc = insert_rec(st, r, err, sizeof(err));
	if (rc == 0 && !exec_ok(st, "COMMIT")) {
		snprintf(
		    err, sizeof(err), "commit: %s", sqlite3_errmsg(st->db));
		rc = -1;
	}
	if (rc != 0) {
		exec_ok(st, "ROLLBACK");
		return append_failed(st, r, rc, err);
	}
	appended(st, 1, r->seq, r->hash);
	return 0;
}

/* Open a batch: one transaction for the records of one audit.append. */
static int
batch_begin(audit_state *st)
{
	if (!exec_ok(st, "BEGIN IMMEDIATE")) {
		st->h->log(st->self, XZ_LOG_ERROR, AT("audit: begin: %s"),
		    sqlite3_errmsg(st->db));
		st->h->counter_add(st->self, "errors", 1);
		return -1;
	}
	if (xz_audit_writer_head(&st->w, &st->batch_seq, st->batch_hash)
	    != 0) {
		st->h->log(st->self, XZ_LOG_ERROR, AT("audit: begin: %s"),
		    sqlite3_errmsg(st->db));
		st->h->counter_add(st->self, "errors", 1);
		exec_ok(st, "ROLLBACK");
		return -1;
	}
	st->in_batch = 1;
	st->batch_n  = 0;
	return 0;
}

/* Commit the batch: 0, or -1 (rolled back, logged: nothing of it is in
 * the chain, so nothing of it may be acknowledged). */
static int
batch_end(audit_state *st)
{
	st->in_batch = 0;
	if (st->batch_n == 0) {
		exec_ok(st, "ROLLBACK");
		return 0;
	}
	/* a failed statement may have ended the transaction (SQLite rolls
	 * it back on a full disk or an I/O error): nothing of it is left */
	char err[256] = "";
	if (sqlite3_get_autocommit(st->db)
	    || xz_audit_writer_anchor(
	           &st->w, st->batch_seq, st->batch_hash, err, sizeof(err))
	        != 0
	    || !exec_ok(st, "COMMIT")) {
		st->h->log(st->self, XZ_LOG_ERROR,
		    AT("audit: commit of %lld record(s) failed: %s"),
		    (long long) st->batch_n,
		    err[0] ? err : sqlite3_errmsg(st->db));
		st->h->counter_add(st->self, "errors", 1);
		exec_ok(st, "ROLLBACK");
		return -1;
	}
	appended(st, st->batch_n, st->batch_seq, st->batch_hash);
	return 0;
}

/* Record one event (o: its decoded payload, NULL when it is not JSON;
 * raw: the payload as it came). Returns what append returns. */
static int
record_payload(audit_state *st, const char *event_id, const char *topic,
    const char *source, json_t *o, const char *raw, size_t rawlen)
{
	xz_audit_rec r;
	char        *own[XZ_AF_COUNT] = { 0 }; /* owned texts, freed below */
	int          rc;

	memset(&r, 0, sizeof(r));
	r.f[XZ_AF_EVENT_ID] = event_id;
	r.f[XZ_AF_TOPIC]    = topic;
	r.f[XZ_AF_SOURCE]   = source;
	if (json_is_object(o)) {
		audit_rec_from_json(o, &r, own);
	} else {
		/* Not an object: keep what came, never drop it. */
		json_t *d = json_pack(
		    "{s:s%}", "malformed_payload", raw ? raw : "", rawlen);
		r.f[XZ_AF_DETAIL] = own[XZ_AF_DETAIL]
		    = d ? json_dumps(d, JSON_COMPACT) : NULL;
		r.f[XZ_AF_OUTCOME] = "malformed";
		json_decref(d);
		st->h->counter_add(st->self, "malformed", 1);
	}
	rc = append(st, &r);
	for (int i = 0; i < XZ_AF_COUNT; i++)
		free(own[i]);
	return rc;
}

/* 0 recorded, 1 not recorded again (its own, or an id already in the
 * chain: a redelivery from the node's durable log), -1 error (logged). */
static int
record_event(audit_state *st, const xz_msg *m)
{
	char         id[33];
	json_error_t je;
	json_t      *o;
	int          rc;

	/* What the plugin publishes itself on audit.> (its checkpoints, the
	 * records it took through audit.append, republished for observers)
	 * is not recorded again. */
	if (m->source != NULL && strcmp(m->source, st->h->name(st->self)) == 0)
		return 1;
	o = kit_json_loadb(m->data, m->len, 0, &je);
	/* The message id: the same when the node delivers it again. */
	xz_hex_encode(m->id, 16, id);
	rc = record_payload(
	    st, id, m->topic, m->source, o, (const char *) m->data, m->len);
	json_decref(o);
	if (rc == 1 && (m->flags & XZ_MSG_REDELIVERED))
		st->h->counter_add(st->self, "redelivered_skipped", 1);
	return rc;
}

/* Past the JSON string at p (at its opening quote) in [p, end); NULL
 * when it does not end there. */
static const char *
skip_str(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

static const char *
skip_ws(const char *p, const char *end)
{
	while (
	    p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* Past the JSON value at p; NULL when it does not end before end. Only
 * the nesting and the strings are followed: the text was parsed whole
 * already, this finds where its parts are. */
static const char *
skip_val(const char *p, const char *end)
{
	int depth = 0;

	do {
		p = skip_ws(p, end);
		if (p >= end)
			return NULL;
		if (*p == '"') {
			if ((p = skip_str(p, end)) == NULL)
				return NULL;
		} else if (*p == '{' || *p == '[') {
			depth++;
			p++;
		} else if (*p == '}' || *p == ']') {
			depth--;
			p++;
		} else {
			p++;
		}
	} while (depth > 0);
	return p;
}

/* At a `"key" :` in an object: *k, *klen (quotes included) and the
 * start of its value; NULL when the text is not that. */
static const char *
member(const char *p, const char *end, const char **k, size_t *klen)
{
	const char *ke;

	p = skip_ws(p, end);
	if (p >= end || *p != '"' || (ke = skip_str(p, end)) == NULL)
		return NULL;
	*k    = p;
	*klen = (size_t) (ke - p);
	p     = skip_ws(ke, end);
	if (p >= end || *p++ != ':')
		return NULL;
	return skip_ws(p, end);
}

/*
 * The text of the "data" value of each of the first n records of
 * {"records":[...]} in [p, end) into span[i] (start, length), as it came:
 * what the spool sent, republished without encoding it again. 0, or -1
 * when the text is not in that shape (the caller encodes instead).
 */
static int
data_spans(
    const char *p, const char *end, size_t n, const char **at, size_t *len)
{
	size_t i = 0;

	p = skip_ws(p, end);
	if (p >= end || *p++ != '{')
		return -1;
	for (;;) { /* the top object's keys */
		const char *k;
		size_t      kn;
		if ((p = member(p, end, &k, &kn)) == NULL)
			return -1;
		if (kn == 9 && memcmp(k, "\"records\"", 9) == 0 && p < end
		    && *p == '[')
			break;
		if ((p = skip_val(p, end)) == NULL)
			return -1;
		p = skip_ws(p, end);
		if (p >= end || *p++ != ',')
			return -1;
	}
	p++; /* [ */
	for (i = 0; i < n; i++) {
		p = skip_ws(p, end);
		if (i > 0) {
			if (p >= end || *p++ != ',')
				return -1;
			p = skip_ws(p, end);
		}
		if (p >= end || *p++ != '{')
			return -1;
		at[i] = NULL;
		for (;;) { /* the record's keys (no key twice: on_append) */
			p = skip_ws(p, end);
			if (p < end && *p == '}')
				break;
			const char *k, *v;
			size_t      kn;
			if ((v = member(p, end, &k, &kn)) == NULL
			    || (p = skip_val(v, end)) == NULL)
				return -1;
			if (kn == 6 && memcmp(k, "\"data\"", 6) == 0) {
				at[i]  = v;
				len[i] = (size_t) (p - v);
			}
			p = skip_ws(p, end);
			if (p < end && *p == ',')
				p++;
		}
		p++; /* } */
		if (at[i] == NULL)
			return -1;
	}
	return 0;
}

/* The end of an append: commit the batch (when one was begun) and answer
 * how many of its records are in the chain; that many (0 when the commit
 * failed: they are sent again and kept once by their ids). */
static size_t
append_answer(audit_state *st, const xz_msg *m, int batch, size_t acked)
{
	char out[64];

	if (batch && batch_end(st) != 0)
		acked = 0;
	snprintf(out, sizeof(out), "{\"acked\":%zu}", acked);
	st->h->reply(st->self, m, out, strlen(out));
	return acked;
}

/* audit.append (see on_append) read with jansson: a request of another
 * shape than the spools', or one audit_batch_read left alone. */
static void
on_append_json(audit_state *st, const xz_msg *m)
{
	/* duplicate keys refused: the records are republished from their
	 * text (data_spans), which must be the very values chained here */
	json_t *o
	    = kit_json_loadb(m->data, m->len, JSON_REJECT_DUPLICATES, NULL);
	json_t *recs = json_object_get(o, "records");
	json_t *rec;
	size_t  i, acked = 0;

	if (!json_is_array(recs)) {
		kit_reply_error(st->h, st->self, m, KIT_E_BAD_REQUEST,
		    "audit.append takes {\"records\":[{\"id\",\"topic\","
		    "\"data\"}]}");
		json_decref(o);
		return;
	}
	/* one transaction for the batch: acknowledged only once committed */
	int batch = batch_begin(st) == 0;
	json_array_foreach(recs, i, rec)
	{
		const char *id = json_string_value(json_object_get(rec, "id"));
		const char *topic
		    = json_string_value(json_object_get(rec, "topic"));
		json_t *data = json_object_get(rec, "data");
		if (id == NULL || topic == NULL
		    || strncmp(topic, "audit.", 6) != 0
		    || !json_is_object(data))
			break;
		if (record_payload(st, id, topic, m->source, data, NULL, 0)
		    < 0)
			break;
		acked++;
	}
	acked = append_answer(st, m, batch, acked);
	/* each data object as it came in the request (found by data_spans;
	 * owned by the caller's arrays, freed below), else encoded again */
	const char **at  = acked ? malloc(acked * sizeof(*at)) : NULL;
	size_t      *len = acked ? malloc(acked * sizeof(*len)) : NULL;
	int          raw = at != NULL && len != NULL
	    && data_spans((const char *) m->data,
	           (const char *) m->data + m->len, acked, at, len)
	        == 0;
	for (i = 0; i < acked; i++) {
		rec = json_array_get(recs, i);
		const char *topic
		    = json_string_value(json_object_get(rec, "topic"));
		char *js = raw
		    ? NULL
		    : json_dumps(json_object_get(rec, "data"), JSON_COMPACT);
		if ((raw || js != NULL)
		    && st->h->publish(st->self, topic, raw ? at[i] : js,
		           raw ? len[i] : strlen(js))
		        != XZ_OK)
			st->h->counter_add(st->self, "republish_failed", 1);
		free(js);
	}
	free(at);
	free(len);
	json_decref(o);
}

/* on_append for a request audit_batch_read took (batch.h): the same
 * records, reply and events as on_append_json makes of it. */
static void
on_append_batch(audit_state *st, const xz_msg *m, const audit_batch *b)
{
	size_t i, acked = 0;

	/* one transaction for the batch: acknowledged only once committed */
	int batch = batch_begin(st) == 0;
	for (i = 0; i < b->n; i++) {
		const audit_batch_rec *rec = &b->rec[i];
		int                    rc;
		if (strncmp(rec->topic, "audit.", 6) != 0)
			break;
		if (rec->data != NULL) {
			rc = record_payload(st, rec->id, rec->topic, m->source,
			    rec->data, NULL, 0);
		} else {
			xz_audit_rec r;
			memset(&r, 0, sizeof(r));
			memcpy(r.f, rec->f, sizeof(r.f));
			r.f[XZ_AF_EVENT_ID] = rec->id;
			r.f[XZ_AF_TOPIC]    = rec->topic;
			r.f[XZ_AF_SOURCE]   = m->source;
			rc                  = append(st, &r);
		}
		if (rc < 0)
			break;
		acked++;
	}
	acked = append_answer(st, m, batch, acked);
	/* each data object as it came in the request */
	for (i = 0; i < acked; i++)
		if (st->h->publish(st->self, b->rec[i].topic, b->rec[i].raw,
		        b->rec[i].rawlen)
		    != XZ_OK)
			st->h->counter_add(st->self, "republish_failed", 1);
}

/*
 * audit.append {"records":[{"id","topic","data"}]}: the spool of a
 * scenario plugin (plugins/common kit.c). Each record is appended in
 * order under its id (a record sent again is kept once) with the
 * requester as its source; the reply {"acked":N} says the first N are in
 * the chain. Then each is published on its topic for observers. A
 * spool's request is read from its text (batch.h), any other with
 * jansson.
 */
static void
on_append(audit_state *st, const xz_msg *m)
{
	audit_batch b; /* owned here, freed below */

	if (audit_batch_read((const char *) m->data, m->len, &b) != 0) {
		on_append_json(st, m);
		return;
	}
	on_append_batch(st, m, &b);
	audit_batch_free(&b);
}

/* Record a request the plugin served (VIEW of the log, PRUNE, ALERT). */
static void
record_own(audit_state *st, const xz_msg *req, const char *action,
    const char *subject_id, const char *purpose, const char *outcome,
    json_t *detail)
{
	xz_audit_rec r;
	char         corr[33];
	json_t      *o = req ? json_loadb(req->data, req->len, 0, NULL) : NULL;
	json_t      *actor = json_object_get(o, "actor");
	char        *who   = audit_field_text(json_object_get(actor, "user"));
	char        *role  = audit_field_text(json_object_get(actor, "role"));
	char        *ag = audit_field_text(json_object_get(actor, "agency"));
	char *det = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS)
	                   : NULL;

	memset(&r, 0, sizeof(r));
	if (req != NULL)
		xz_hex_encode(req->id, 16, corr);
	r.f[XZ_AF_TOPIC]        = req ? req->topic : "audit.internal";
	r.f[XZ_AF_SOURCE]       = req ? req->source : st->h->name(st->self);
	r.f[XZ_AF_WHO]          = who ? who : (req ? NULL : "audit");
	r.f[XZ_AF_ROLE]         = role ? role : (req ? NULL : "SYSTEM");
	r.f[XZ_AF_AGENCY]       = ag;
	r.f[XZ_AF_ACTION]       = action;
	r.f[XZ_AF_SUBJECT_TYPE] = "audit_log";
	r.f[XZ_AF_SUBJECT_ID]   = subject_id;
	r.f[XZ_AF_PURPOSE]      = purpose;
	r.f[XZ_AF_SERVICE]      = "audit";
	r.f[XZ_AF_OUTCOME]      = outcome;
	r.f[XZ_AF_CORR]         = req ? corr : NULL;
	r.f[XZ_AF_DETAIL]       = det;
	append(st, &r);
	free(who);
	free(role);
	free(ag);
	free(det);
	json_decref(o);
}

static json_t *
verdict_json(const xz_audit_verdict *v)
{
	json_t *o = json_pack(
	    "{s:b,s:I}", "ok", v->ok, "records", (json_int_t) v->records);
	if (!v->ok) {
		json_object_set_new(
		    o, "first_bad_seq", json_integer(v->first_bad_seq));
		json_object_set_new(o, "reason", json_string(v->reason));
		json_object_set_new(o, "detail", json_string(v->detail));
	} else {
		json_object_set_new(o, "last_seq", json_integer(v->last_seq));
		json_object_set_new(o, "last_hash", json_string(v->last_hash));
	}
	if (v->pruned_to > 0)
		json_object_set_new(
		    o, "pruned_to", json_integer(v->pruned_to));
	json_object_set_new(o, "head_file",
	    json_string(v->head_file == 1 ? "checked"
	            : v->head_file == 0   ? "missing"
	                                  : "not checked"));
	return o;
}

static void
reply_json(audit_state *st, const xz_msg *m, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (s == NULL)
		kit_reply_error(
		    st->h, st->self, m, KIT_E_INTERNAL, "out of memory");
	else
		st->h->reply(st->self, m, s, strlen(s));
	free(s);
	json_decref(o);
}

/* The log against the checkpoints of the sink; when they disagree and
 * the log holds a recorded reset of this store (`xiezhi audit reset`),
 * across that reset (r->seq > 0 then). As xz_anchor_check. */
static int
check_anchors(audit_state *st, xz_anchor_verdict *av, xz_anchor_reset *r)
{
	int rc = xz_anchor_check(st->db, st->anchor_path, st->key.pub, av);

	memset(r, 0, sizeof(*r));
	if (rc == 0 && !av->ok
	    && xz_anchor_last_reset(st->db, st->h->name(st->self), r))
		rc = xz_anchor_check_reset(
		    st->db, st->anchor_path, st->key.pub, r, av);
	return rc;
}

static void
on_verify(audit_state *st, const xz_msg *m)
{
	xz_audit_verdict v;

	if (xz_audit_verify(st->db, st->head_path, &v) != 0) {
		kit_reply_error(
		    st->h, st->self, m, KIT_E_STORE_ERROR, v.detail);
		return;
	}
	json_t *o = verdict_json(&v);
	if (v.ok && st->anchor_path != NULL) {
		xz_anchor_verdict av;
		xz_anchor_reset   r;
		if (check_anchors(st, &av, &r) != 0) {
			json_decref(o);
			kit_reply_error(
			    st->h, st->self, m, KIT_E_STORE_ERROR, av.detail);
			return;
		}
		json_object_set_new(o, "anchors_checked",
		    json_integer((json_int_t) av.checked));
		if (r.seq > 0)
			json_object_set_new(o, "reset",
			    json_pack("{s:I,s:I,s:s,s:s,s:I}", "seq",
			        (json_int_t) r.seq, "time",
			        (json_int_t) r.time_ms, "who", r.who, "reason",
			        r.reason, "checkpoints_before",
			        (json_int_t) av.reset_before));
		if (!av.ok) {
			json_object_set_new(o, "ok", json_false());
			json_object_set_new(o, "first_bad_seq",
			    json_integer((json_int_t) av.bad_seq));
			json_object_set_new(
			    o, "reason", json_string(av.reason));
			json_object_set_new(
			    o, "detail", json_string(av.detail));
			json_object_set_new(o, "checkpoint",
			    json_integer((json_int_t) av.bad_line));
		}
	}
	reply_json(st, m, o);
}

static int
opt_str(json_t *o, const char *k, const char **out)
{
	json_t *v = json_object_get(o, k);
	*out      = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = json_string_value(v);
	return 0;
}

static json_t *
row_json(sqlite3_stmt *q)
{
	json_t *r = json_object();
	json_object_set_new(
	    r, "seq", json_integer(sqlite3_column_int64(q, 0)));
	json_object_set_new(
	    r, "at", json_string((const char *) sqlite3_column_text(q, 1)));
	for (int i = 0; i < XZ_AF_COUNT; i++) {
		const char *t = (const char *) sqlite3_column_text(q, 2 + i);
		if (t == NULL)
			continue;
		if (i == XZ_AF_DETAIL) {
			json_t *d = json_loads(t, JSON_DECODE_ANY, NULL);
			json_object_set_new(
			    r, "detail", d ? d : json_string(t));
		} else {
			json_object_set_new(
			    r, xz_audit_field_names[i], json_string(t));
		}
	}
	json_object_set_new(r, "prev_hash",
	    json_string(
	        (const char *) sqlite3_column_text(q, 2 + XZ_AF_COUNT)));
	json_object_set_new(r, "hash",
	    json_string(
	        (const char *) sqlite3_column_text(q, 3 + XZ_AF_COUNT)));
	return r;
}

static void
on_query(audit_state *st, const xz_msg *m)
{
	json_t       *o = json_loadb(m->data, m->len, 0, NULL);
	const char   *stype, *sid, *who, *from, *to, *purpose;
	int64_t       from_ms = INT64_MIN, to_ms = INT64_MAX, limit = 100;
	json_t       *lim = json_object_get(o, "limit");
	sqlite3_stmt *q   = NULL;
	char          sql[1024], msg[256];

	if (!json_is_object(o) || opt_str(o, "subject_type", &stype)
	    || opt_str(o, "subject_id", &sid) || opt_str(o, "who", &who)
	    || opt_str(o, "from", &from) || opt_str(o, "to", &to)
	    || opt_str(o, "purpose", &purpose)
	    || (lim != NULL && !json_is_integer(lim))) {
		kit_reply_error(st->h, st->self, m, KIT_E_BAD_REQUEST,
		    "audit.query takes {subject_type, subject_id, who, from, "
		    "to, purpose: strings; limit: integer}");
		record_own(
		    st, m, "REFUSE", "query", NULL, "bad_request", NULL);
		json_decref(o);
		return;
	}
	if ((from && xz_audit_parse_time(from, 0, &from_ms))
	    || (to && xz_audit_parse_time(to, 1, &to_ms))) {
		snprintf(msg, sizeof(msg),
		    "audit.query: '%s' is not a time (YYYY-MM-DD"
		    "[THH:MM[:SS[.mmm]]][Z] UTC, or ms since the epoch)",
		    from && xz_audit_parse_time(from, 0, &from_ms) ? from
		                                                   : to);
		kit_reply_error(st->h, st->self, m, KIT_E_BAD_REQUEST, msg);
		record_own(
		    st, m, "REFUSE", "query", purpose, "bad_request", NULL);
		json_decref(o);
		return;
	}
	if (lim != NULL)
		limit = json_integer_value(lim);
	else if (limit > st->query_limit_max)
		limit = st->query_limit_max;
	if (limit < 1 || limit > st->query_limit_max) {
		snprintf(msg, sizeof(msg),
		    "audit.query: limit must be 1..%" PRId64,
		    st->query_limit_max);
		kit_reply_error(st->h, st->self, m, KIT_E_BAD_REQUEST, msg);
		record_own(
		    st, m, "REFUSE", "query", purpose, "bad_request", NULL);
		json_decref(o);
		return;
	}
	snprintf(sql, sizeof(sql),
	    "SELECT seq, at, event_id, topic, source, who, role, agency,"
	    " action, subject_type, subject_id, purpose, recipient, service,"
	    " outcome, corr, time, detail, prev_hash, hash FROM audit_log"
	    " WHERE (?1 IS NULL OR subject_type = ?1)"
	    " AND (?2 IS NULL OR subject_id = ?2)"
	    " AND (?3 IS NULL OR who = ?3) AND at_ms >= ?4 AND at_ms <= ?5"
	    " ORDER BY seq LIMIT ?6");
	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) {
		kit_reply_error(st->h, st->self, m, KIT_E_STORE_ERROR,
		    sqlite3_errmsg(st->db));
		json_decref(o);
		return;
	}
	if (stype)
		sqlite3_bind_text(q, 1, stype, -1, SQLITE_STATIC);
	if (sid)
		sqlite3_bind_text(q, 2, sid, -1, SQLITE_STATIC);
	if (who)
		sqlite3_bind_text(q, 3, who, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, from_ms);
	sqlite3_bind_int64(q, 5, to_ms);
	sqlite3_bind_int64(q, 6, limit);
	json_t *recs = json_array();
	while (sqlite3_step(q) == SQLITE_ROW)
		json_array_append_new(recs, row_json(q));
	sqlite3_finalize(q);
	size_t n = json_array_size(recs);

	/* The query itself is a VIEW of the audit log. */
	json_t *filter = json_deep_copy(o);
	json_object_del(filter, "actor");
	json_object_del(filter, "purpose");
	char sub[160];
	snprintf(sub, sizeof(sub), "%s%s%s%s%s", stype ? stype : "",
	    stype || sid ? ":" : "", sid ? sid : "",
	    who ? (stype || sid ? " who=" : "who=") : "", who ? who : "");
	snprintf(msg, sizeof(msg), "ok: %zu records", n);
	record_own(st, m, "VIEW", sub[0] ? sub : "*", purpose, msg, filter);
	json_decref(filter);
	reply_json(st, m,
	    json_pack("{s:o,s:I}", "records", recs, "count", (json_int_t) n));
	json_decref(o);
}

/* Prune by retention; 1 if something was pruned. */
static int
prune(audit_state *st, const xz_msg *req, json_t **result)
{
	int64_t now    = (int64_t) st->h->now_ms(st->self);
	int64_t cutoff = now - st->retention_days * DAY_MS;
	int64_t lo = 0, hi = 0;
	char    hash[XZ_SHA256_HEX], err[256];
	int     rc;

	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)
	    != SQLITE_OK)
		return -1;
	rc = xz_audit_prune(
	    st->db, cutoff, now, &lo, &hi, hash, err, sizeof(err));
	if (rc <= 0) {
		sqlite3_exec(
		    st->db, rc < 0 ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
		if (rc < 0)
			st->h->log(st->self, XZ_LOG_ERROR,
			    AT("audit: prune: %s"), err);
		if (result)
			*result = json_pack("{s:I}", "pruned", (json_int_t) 0);
		return rc;
	}
	/* The PRUNE record goes into the same transaction: no prune without
	 * its record. */
	xz_audit_rec r;
	char         sub[64], out[64], corr[33];
	json_t      *d   = json_pack("{s:I,s:I,s:s,s:I,s:I}", "pruned_from",
	           (json_int_t) lo, "pruned_to", (json_int_t) hi, "pruned_hash", hash,
	           "retention_days", (json_int_t) st->retention_days, "cutoff_ms",
	           (json_int_t) cutoff);
	char        *det = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	memset(&r, 0, sizeof(r));
	snprintf(
	    sub, sizeof(sub), "%lld-%lld", (long long) lo, (long long) hi);
	snprintf(out, sizeof(out), "pruned %lld records",
	    (long long) (hi - lo + 1));
	if (req)
		xz_hex_encode(req->id, 16, corr);
	r.at_ms                 = now;
	r.f[XZ_AF_TOPIC]        = req ? req->topic : "audit.retention";
	r.f[XZ_AF_SOURCE]       = req ? req->source : st->h->name(st->self);
	r.f[XZ_AF_WHO]          = "audit";
	r.f[XZ_AF_ROLE]         = "SYSTEM";
	r.f[XZ_AF_ACTION]       = "PRUNE";
	r.f[XZ_AF_SUBJECT_TYPE] = "audit_log";
	r.f[XZ_AF_SUBJECT_ID]   = sub;
	r.f[XZ_AF_PURPOSE]      = "retention";
	r.f[XZ_AF_SERVICE]      = "audit";
	r.f[XZ_AF_OUTCOME]      = out;
	r.f[XZ_AF_CORR]         = req ? corr : NULL;
	r.f[XZ_AF_DETAIL]       = det;
	rc = xz_audit_writer_insert(&st->w, &r, err, sizeof(err));
	if (rc != 0
	    || sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		st->h->log(
		    st->self, XZ_LOG_ERROR, AT("audit: prune: %s"), err);
		free(det);
		json_decref(d);
		return -1;
	}
	xz_audit_head_write(st->head_path, r.seq, r.hash);
	st->h->log(st->self, XZ_LOG_INFO,
	    AT("audit: pruned records %lld..%lld (older than %lld days); "
	       "checkpoint record %lld"),
	    (long long) lo, (long long) hi, (long long) st->retention_days,
	    (long long) r.seq);
	st->h->counter_add(st->self, "pruned", hi - lo + 1);
	if (result) {
		json_object_set_new(
		    d, "pruned", json_integer((json_int_t) (hi - lo + 1)));
		json_object_set_new(d, "checkpoint_seq", json_integer(r.seq));
		*result = json_incref(d);
	}
	free(det);
	json_decref(d);
	return 1;
}

static void
on_prune_timer(void *ud, uint64_t id)
{
	(void) id;
	prune(ud, NULL, NULL);
}

static void
on_audit(void *ud, const xz_msg *m)
{
	audit_state *st = ud;

	if (m->kind == XZ_KIND_REQUEST) {
		if (strcmp(m->topic, "audit.verify") == 0)
			on_verify(st, m);
		else if (strcmp(m->topic, "audit.query") == 0)
			on_query(st, m);
		else if (strcmp(m->topic, "audit.append") == 0)
			on_append(st, m);
		else if (strcmp(m->topic, "audit.prune") == 0) {
			json_t *res = NULL;
			if (prune(st, m, &res) < 0)
				kit_reply_error(st->h, st->self, m,
				    KIT_E_STORE_ERROR,
				    "prune failed (see the node log)");
			else
				reply_json(st, m, res);
		} else {
			char msg[300];
			snprintf(msg, sizeof(msg),
			    "'%s' is not an audit request (audit.verify, "
			    "audit.append, "
			    "audit.query, audit.prune); audit records are "
			    "published as events",
			    m->topic);
			kit_reply_error(
			    st->h, st->self, m, KIT_E_NOT_FOUND, msg);
		}
		return;
	}
	/* Each record is committed by append() before the ack: an event
	 * the node logged durably (bus.durable) that a crash kept from the
	 * chain comes again at the next start; one already chained is
	 * skipped by its id, so it is in the chain exactly once. A failed
	 * write is not acked: it comes again at the next start. */
	if (m->kind == XZ_KIND_EVENT && record_event(st, m) >= 0
	    && (m->flags & XZ_MSG_DURABLE) && st->durable)
		st->h->ack(st->self, m);
}

/* Read the anchor options, load (or make) the key. 0 or -1 with err. */
static int
anchor_setup(audit_state *st, char *err, size_t errlen)
{
	const char *file = st->h->opt_string(st->self, "anchor_file");
	const char *key  = st->h->opt_string(st->self, "anchor_key");
	const char *node = st->h->opt_string(st->self, "anchor_node");
	char        keybuf[PATH_MAX], dd[PATH_MAX], ad[PATH_MAX], *slash;
	int         publish = 0;

	st->h->opt_bool(st->self, "anchor_publish", &publish);
	st->h->opt_int(st->self, "anchor_every", &st->anchor_every);
	st->anchor_publish = publish;
	st->anchor_path    = file && *file ? file : NULL;
	if (st->anchor_path == NULL && !publish)
		return 0;
	if (key == NULL || *key == '\0') {
		if (st->anchor_path == NULL) {
			snprintf(err, errlen,
			    "anchor_publish needs anchor_key (or "
			    "anchor_file)");
			return -1;
		}
		snprintf(keybuf, sizeof(keybuf), "%s.key", st->anchor_path);
		key = keybuf;
	}
	/* The sink and the key must not live in the data folder: whoever
	 * holds the folder could rewrite them with the log. */
	if (realpath(sqlite3_db_filename(st->db, "main"), dd) != NULL
	    && (slash = strrchr(dd, '/')) != NULL) {
		*slash = '\0';
		for (int i = 0; i < 2; i++) {
			const char *p = i == 0 ? st->anchor_path : key;
			if (p == NULL)
				continue;
			snprintf(ad, sizeof(ad), "%s", p);
			char *s = strrchr(ad, '/');
			if (s != NULL)
				*s = '\0';
			else
				snprintf(ad, sizeof(ad), ".");
			char real[PATH_MAX];
			if (realpath(ad, real) == NULL) {
				snprintf(err, errlen, "%s: cannot resolve %s",
				    i == 0 ? "anchor_file" : "anchor_key", ad);
				return -1;
			}
			size_t n = strlen(dd);
			if (strncmp(real, dd, n) == 0
			    && (real[n] == '\0' || real[n] == '/')) {
				snprintf(err, errlen,
				    "%s %s is inside the data folder %s: keep "
				    "it elsewhere (a second disk, another "
				    "host's mount)",
				    i == 0 ? "anchor_file" : "anchor_key", p,
				    dd);
				return -1;
			}
		}
	}
	if (xz_anchor_key_load(key, 1, &st->key, err, errlen) != 0)
		return -1;
	if (node != NULL && *node != '\0')
		snprintf(st->node, sizeof(st->node), "%s", node);
	else if (gethostname(st->node, sizeof(st->node)) != 0)
		snprintf(st->node, sizeof(st->node), "node");
	st->node[sizeof(st->node) - 1] = '\0';
	for (char *p = st->node; *p; p++)
		if (!strchr(
		        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		        "0123456789._-",
		        *p))
			*p = '_';
	st->anchoring = 1;
	return 0;
}

/* At start: the sink's checkpoints against the log; a log that no longer
 * matches is an ALERT record (and an error in the node log). */
static void
anchor_start(audit_state *st)
{
	xz_anchor         last;
	xz_anchor_verdict av;
	xz_anchor_reset   reset;
	char              pub[65];

	if (!st->anchoring)
		return;
	xz_hex_encode(st->key.pub, sizeof(st->key.pub), pub);
	st->h->log(st->self, XZ_LOG_INFO,
	    AT("audit: signing checkpoints with key %s%s%s"), pub,
	    st->anchor_path ? AT(" into ") : "",
	    st->anchor_path ? st->anchor_path : "");
	if (st->anchor_path == NULL)
		return;
	if (xz_anchor_last(st->anchor_path, st->key.pub, &last) == 1) {
		st->anchored_seq = last.seq;
		memcpy(st->anchored_hash, last.hash, XZ_SHA256_HEX);
	}
	/* a recorded reset not signed yet is not a disagreement: its
	 * checkpoint comes with the next ones */
	if (check_anchors(st, &av, &reset) == 0 && !av.ok
	    && strcmp(av.reason, "unanchored") != 0) {
		char out[96];
		st->h->log(st->self, XZ_LOG_ERROR,
		    AT("audit: the log in %s disagrees with checkpoint %lld "
		       "of "
		       "%s (%s): %s"),
		    sqlite3_db_filename(st->db, "main"),
		    (long long) av.bad_line, st->anchor_path, av.reason,
		    av.detail);
		snprintf(out, sizeof(out), "tamper:%s@checkpoint-%lld",
		    av.reason, (long long) av.bad_line);
		json_t *d = json_pack("{s:s,s:I,s:I,s:s}", "reason", av.reason,
		    "checkpoint", (json_int_t) av.bad_line, "seq",
		    (json_int_t) av.bad_seq, "detail", av.detail);
		record_own(st, NULL, "ALERT", "anchors",
		    "integrity check at start", out, d);
		json_decref(d);
		st->h->counter_add(st->self, "integrity_failures", 1);
	}
}

static int
audit_init(xz_plugin *self, const xz_host *host, void **state)
{
	audit_state *st = calloc(1, sizeof(*st));
	char         err[256];
	int64_t      v;

	if (st == NULL)
		return XZ_ENOMEM;
	st->self = self;
	st->h    = host;
	host->opt_int(self, "retention_days", &st->retention_days);
	host->opt_int(self, "query_limit_max", &st->query_limit_max);
	st->db = host->store(self);
	if (st->db == NULL) {
		free(st);
		return XZ_EIO;
	}
	if (xz_audit_schema(st->db, err, sizeof(err)) != 0) {
		host->log(self, XZ_LOG_ERROR, "%s", err);
		free(st);
		return XZ_EIO;
	}
	xz_audit_writer_init(&st->w, st->db);
	st->head_path
	    = xz_audit_head_path(sqlite3_db_filename(st->db, "main"));
	if (st->head_path == NULL) {
		free(st);
		return XZ_ENOMEM;
	}
	/* A durable consumer of audit.> where the node has one (SDK 1.4):
	 * events on the topics of bus.durable wait in the node's log until
	 * their record is committed here. */
	st->durable = XZ_HAS_MEMBER(host, xz_host, subscribe_durable)
	    && host->subscribe_durable != NULL && host->ack != NULL;
	if ((st->durable ? host->subscribe_durable(
	         self, "audit.>", on_audit, st, NULL)
	                 : host->subscribe(
	                     self, "audit.>", NULL, on_audit, st, NULL))
	    || host->subscribe(
	        self, "xz.sys.audit.>", NULL, on_audit, st, NULL)) {
		free(st->head_path);
		free(st);
		return XZ_EINVAL;
	}
	(void) v;
	if (anchor_setup(st, err, sizeof(err)) != 0) {
		host->log(self, XZ_LOG_ERROR, AT("audit: %s"), err);
		free(st->head_path);
		free(st);
		return XZ_EINVAL;
	}
	*state = st;
	return XZ_OK;
}

static int
audit_start(void *state)
{
	audit_state     *st = state;
	xz_audit_verdict v;
	int64_t          every;

	if (xz_audit_verify(st->db, st->head_path, &v) == 0 && !v.ok) {
		char out[96];
		st->h->log(st->self, XZ_LOG_ERROR,
		    AT("audit: the log in %s fails verification at record "
		       "%lld "
		       "(%s): %s"),
		    sqlite3_db_filename(st->db, "main"),
		    (long long) v.first_bad_seq, v.reason, v.detail);
		snprintf(out, sizeof(out), "tamper:%s@%lld", v.reason,
		    (long long) v.first_bad_seq);
		json_t *d = json_pack("{s:s,s:I,s:s}", "reason", v.reason,
		    "first_bad_seq", (json_int_t) v.first_bad_seq, "detail",
		    v.detail);
		record_own(st, NULL, "ALERT", "chain",
		    "integrity check at start", out, d);
		json_decref(d);
		st->h->counter_add(st->self, "integrity_failures", 1);
	}
	anchor_start(st);
	prune(st, NULL, NULL);
	anchor_now(st, 0);
	if (st->anchoring) {
		int64_t t;
		st->h->opt_int(st->self, "anchor_interval_s", &t);
		if (st->h->timer_start(st->self, (uint64_t) t * 1000u,
		        (uint64_t) t * 1000u, on_anchor_timer, st,
		        &st->anchor_timer)
		    != XZ_OK)
			return XZ_EINVAL;
	}
	st->h->opt_int(st->self, "prune_interval_s", &every);
	return st->h->timer_start(st->self, (uint64_t) every * 1000u,
	    (uint64_t) every * 1000u, on_prune_timer, st, &st->prune_timer);
}

static void
audit_stop(void *state)
{
	audit_state *st = state;
	st->h->timer_cancel(st->self, st->prune_timer);
	if (st->anchoring) {
		st->h->timer_cancel(st->self, st->anchor_timer);
		anchor_now(st, 0);
	}
}

static void
audit_fini(void *state)
{
	audit_state *st = state;
	xz_audit_writer_fini(&st->w);
	free(st->head_path);
	free(st);
}

static const xz_plugin_desc desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name        = "audit",
	.version     = "0.1.0",
	.description = "append-only, hash-chained audit trail of audit.> "
	               "events; audit.verify, audit.query, audit.prune",
	.options     = options,
	.init        = audit_init,
	.start       = audit_start,
	.stop        = audit_stop,
	.fini        = audit_fini,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
