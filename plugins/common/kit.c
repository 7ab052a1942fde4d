/* kit.c - requests, replies, events and generic record operations shared
 * by the scenario plugins (see kit.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <xiezhi/i18n.h>

#include "kit.h"
#include "kjson.h"
#include "kstr.h"
#include "sha256.h"
#include "sql.h"

/* The kit's refusals in 简体中文, chosen by LANG (<xiezhi/i18n.h>): the
 * English format is the key; each translation keeps its conversions in
 * the same order. */
static const xz_tr kit_zh[] = {
	{ "the payload's actor '%s' is not the authenticated caller '%s'",
	    "请求内容中的操作人 '%s' 不是经认证的调用者 '%s'" },
	{ "'%s' acts for agency '%s', not '%s'",
	    "'%s' 代表机构 '%s'，不能代表 '%s'" },
	{ "%s: payload must be a JSON object (%s)",
	    "%s：请求内容必须是 JSON 对象（%s）" },
	{ "not an object", "不是对象" },
	{ "%s: who acts is missing: give "
	  "\"actor\":{\"user\":..,\"role\":..,\"agency\":..}",
	    "%s：缺少操作人：请提供 "
	    "\"actor\":{\"user\":..,\"role\":..,\"agency\":..}" },
	{ "out of memory", "内存不足" },
	{ "the audit spool cannot be read (%s): no change is made without "
	  "its audit record",
	    "审计暂存区无法读取（%s）：没有审计记录的变更一律不做" },
	{ "the audit spool is full (the audit plugin has not acknowledged "
	  "its records): no change is made until it drains; reads still work",
	    "审计暂存区已满（审计插件尚未确认其记录）：在其清空前不做任何变更"
	    "；"
	    "查询仍可进行" },
	{ "the change was not made: its audit record could not be written "
	  "(see the node log)",
	    "变更未执行：其审计记录无法写入（见节点日志）" },
	{ "the change was not stored: the commit failed",
	    "变更未保存：提交失败" },
	{ "the request was refused (%s), but the refusal was not recorded: "
	  "the commit failed",
	    "请求已被拒绝（%s），但拒绝未能记录：提交失败" },
	{ "%s %s already exists", "%s %s 已存在" },
	{ "no %s with id %s", "%s %s 不存在" },
	/* the operator's log */
	{ "audit record on %s not spooled: %s",
	    "%s 上的审计记录未能写入暂存区：%s" },
	{ "audit spool: cannot delete acknowledged records: %s",
	    "审计暂存区：无法删除已确认的记录：%s" },
	{ "%s: %s", "%s：%s" },
	{ "publish %s: %s", "发布 %s：%s" },
	{ "audit record %s %s:%s not built (a field is not UTF-8, or out of "
	  "memory)",
	    "审计记录 %s %s:%s 未能生成（某字段不是 UTF-8，或内存不足）" },
	{ "group commit of %zu change(s) failed: %s",
	    "%zu 项变更的批量提交失败：%s" },
	{ "a change wrote to the database around the store and was then "
	  "refused",
	    "某项变更绕过存储写入了数据库，随后被拒绝" },
	{ "%s: overdue sweep: %s", "%s：超时清查：%s" },
	{ "clocks not armed: %s", "时限计时器未能设置：%s" },
	{ "%s: audit spool: %s", "%s：审计暂存区：%s" },
	{ "audit record %s on %s (%zu bytes) set aside in audit_spool_aside: "
	  "the bus refuses it as too large (bus.max_payload), it can never "
	  "reach the audit chain",
	    "审计记录 %s（%s，%zu 字节）已移入 audit_spool_aside："
	    "总线以过大为由拒收（bus.max_payload），它永远无法进入审计链" },
	{ "audit record %s on %s could not be set aside: %s",
	    "审计记录 %s（%s）未能移出暂存区：%s" },
	{ "%s: cannot open the plugin's store", "%s：无法打开插件的存储" },
	{ NULL, NULL },
};
#define KT(s) XZ_TR(kit_zh, s)

/* A reply held back until the batch's commit: a change's, or (code >= 0)
 * a refusal's, whose audit record is in the batch too. */
typedef struct kit_deferred {
	const xz_msg *msg; /* retained */
	char  *data; /* malloc'd: the JSON reply, or the refusal's text */
	size_t len; /* of data */
	int    code; /* -1, or the refusal's kit_code */
} kit_deferred;

typedef struct kit_binding {
	struct kit_binding *next;
	kit_ctx            *c;
	const kit_kind     *k;
	kit_req_fn          fn;
	const char         *action; /* generic action handlers */
	int                 need_actor;
} kit_binding;

/* ---- the audit spool ---- */

static void drain_kick(kit_ctx *c);
static void batch_fail(kit_ctx *c, const char *why);
static void events_drop(kit_ctx *c, size_t from);

static int
spool_init(kit_ctx *c, char *err, size_t errlen)
{
	sqlite3 *db = c->store.db;
	int64_t  max;

	const char *env;

	/* the plugin's option audit_spool_max if it declares one, else
	 * XZ_AUDIT_SPOOL_MAX from the environment, else 10000 */
	c->spool_max = 10000;
	if ((env = getenv("XZ_AUDIT_SPOOL_MAX")) != NULL && atoll(env) > 0)
		c->spool_max = atoll(env);
	if (c->host->opt_int(c->self, "audit_spool_max", &max) == XZ_OK
	    && max > 0)
		c->spool_max = max;
	/* id: the order of the records, and what an acknowledgement
	 * deletes up to (drain). Not AUTOINCREMENT, which costs every
	 * record a write of sqlite_sequence (a page more in each request's
	 * savepoint and each commit): a row is deleted only once the drain
	 * that sent it is acknowledged, so an id comes again only after the
	 * spool was empty, when nothing in flight names it. A record is
	 * told from another by its rid, not its id. (A store made before
	 * 2026-12-03 keeps AUTOINCREMENT.) */
	sqlite3_stmt *probe = NULL;
	if (sqlite3_exec(db,
	        "CREATE TABLE IF NOT EXISTS audit_spool("
	        " id INTEGER PRIMARY KEY, rid TEXT NOT NULL,"
	        " topic TEXT NOT NULL, data TEXT NOT NULL,"
	        " n INTEGER NOT NULL DEFAULT 1)",
	        NULL, NULL, NULL)
	    != SQLITE_OK)
		goto fail;
	/* a spool made before 2026-12-03 holds one record a row: n = 1 */
	if (sqlite3_prepare_v2(
	        db, "SELECT n FROM audit_spool", -1, &probe, NULL)
	        != SQLITE_OK
	    && sqlite3_exec(db,
	           "ALTER TABLE audit_spool ADD COLUMN n INTEGER NOT NULL "
	           "DEFAULT 1",
	           NULL, NULL, NULL)
	        != SQLITE_OK) {
		sqlite3_finalize(probe);
		goto fail;
	}
	sqlite3_finalize(probe);
	if (sqlite3_prepare_v3(db,
	        "INSERT INTO audit_spool(rid, topic, data) "
	        "VALUES(?1,?2,?3)",
	        -1, SQLITE_PREPARE_PERSISTENT, &c->spool_ins, NULL)
	        != SQLITE_OK
	    /* a batch's records in one row, its id the number of its last
	     * record (kit.h) */
	    || sqlite3_prepare_v3(db,
	           "INSERT INTO audit_spool(id, rid, topic, data, n) VALUES("
	           "coalesce((SELECT max(id) FROM audit_spool), 0) + ?3,"
	           " ?1, '*', ?2, ?3)",
	           -1, SQLITE_PREPARE_PERSISTENT, &c->spool_ins_batch, NULL)
	        != SQLITE_OK
	    /* ids number the records and the drain deletes from the front:
	     * the last id less the records before the first row's is the
	     * count; each end alone in its query reads one end of the rowid
	     * b-tree (together in one query they would scan the whole spool,
	     * at every change) */
	    || sqlite3_prepare_v3(db,
	           "SELECT coalesce((SELECT max(id) FROM audit_spool)"
	           " - (SELECT id - n FROM audit_spool ORDER BY id LIMIT 1),"
	           " 0)",
	           -1, SQLITE_PREPARE_PERSISTENT, &c->spool_size, NULL)
	        != SQLITE_OK
	    || sqlite3_prepare_v3(db,
	           "SELECT id, rid, topic, data, n FROM audit_spool ORDER BY "
	           "id LIMIT ?1",
	           -1, SQLITE_PREPARE_PERSISTENT, &c->spool_read, NULL)
	        != SQLITE_OK
	    || sqlite3_prepare_v3(db, "DELETE FROM audit_spool WHERE id <= ?1",
	           -1, SQLITE_PREPARE_PERSISTENT, &c->spool_del, NULL)
	        != SQLITE_OK)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, KT("%s: audit spool: %s"), c->scenario,
	    sqlite3_errmsg(db));
	sqlite3_finalize(c->spool_ins);
	sqlite3_finalize(c->spool_ins_batch);
	sqlite3_finalize(c->spool_size);
	sqlite3_finalize(c->spool_read);
	sqlite3_finalize(c->spool_del);
	c->spool_ins = c->spool_ins_batch = c->spool_size = c->spool_read
	    = c->spool_del                                = NULL;
	return -1;
}

int64_t
kit_spool_size(kit_ctx *c)
{
	sqlite3_stmt *st = c->spool_size;
	int64_t       n  = -1;

	if (st == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

/* A spooled record's id (rid: 40 bytes): the random half tells this
 * run's records from any other run's, the counter one record from the
 * next. */
static void
spool_rid(kit_ctx *c, char *rid)
{
	uint8_t r[16];

	memcpy(r, c->rid_base, 8);
	for (int i = 0; i < 8; i++)
		r[8 + i] = (uint8_t) (c->rid_next >> (56 - 8 * i));
	c->rid_next++;
	memcpy(rid, "sp-", 3);
	xz_hex_encode(r, sizeof(r), rid + 3);
}

/* Under group commit with a batch open, a record goes into the batch's
 * row (written before its commit, spool_flush): its opening, up to its
 * data, which the caller writes next into c->spool_batch; *at is where
 * it began. */
static void
spool_batch_open(kit_ctx *c, const char *topic, size_t *at)
{
	kit_buf *b = &c->spool_batch;
	char     rid[40];

	spool_rid(c, rid);
	*at = b->len;
	if (b->len > 0)
		kit_buf_put(b, ",", 1);
	kit_buf_put(b, "{\"id\":", 6);
	kit_buf_json_str(b, rid);
	kit_buf_put(b, ",\"topic\":", 9);
	kit_buf_json_str(b, topic);
	kit_buf_put(b, ",\"data\":", 8);
}

/* Close the record spool_batch_open began at `at`: 0, or -1 when its
 * text could not be written (out of memory, or ok 0: the data was not
 * built), and nothing of it is left. */
static int
spool_batch_close(kit_ctx *c, size_t at, int ok)
{
	kit_buf *b = &c->spool_batch;

	kit_buf_put(b, "}", 1);
	if (b->err || !ok) {
		b->err = 0;
		b->len = at;
		if (b->p != NULL)
			b->p[at] = '\0';
		return -1;
	}
	c->spool_nrec++;
	return 0;
}

/* Write one record, the JSON text data, into the spool (in the open
 * transaction, if any). */
static int
spool_add_text(kit_ctx *c, const char *topic, const char *data)
{
	char rid[40];
	int  rc;

	if (c->group && c->batch_open) {
		size_t at;
		spool_batch_open(c, topic, &at);
		kit_buf_puts(&c->spool_batch, data);
		if (spool_batch_close(c, at, 1) != 0) {
			c->host->log(c->self, XZ_LOG_ERROR,
			    KT("audit record on %s not spooled: %s"), topic,
			    KT("out of memory"));
			return -1;
		}
		return 0;
	}
	spool_rid(c, rid);
	c->spool_known = -1;
	sqlite3_bind_text(c->spool_ins, 1, rid, -1, SQLITE_STATIC);
	sqlite3_bind_text(c->spool_ins, 2, topic, -1, SQLITE_STATIC);
	sqlite3_bind_text(c->spool_ins, 3, data, -1, SQLITE_STATIC);
	rc = sqlite3_step(c->spool_ins);
	sqlite3_reset(c->spool_ins);
	sqlite3_clear_bindings(c->spool_ins);
	if (rc != SQLITE_DONE) {
		c->host->log(c->self, XZ_LOG_ERROR,
		    KT("audit record on %s not spooled: %s"), topic,
		    sqlite3_errmsg(c->store.db));
		return -1;
	}
	return 0;
}

/* Forget the batch's records (written, or dropped with the batch). */
static void
spool_batch_reset(kit_ctx *c)
{
	c->spool_batch.len = 0;
	c->spool_batch.err = 0;
	c->spool_nrec = c->spool_mark = c->spool_nrec_mark = 0;
}

/* Write the batch's records as one row of the spool, in the batch's
 * transaction: 0, or -1 (c->store.err says why: the batch cannot
 * commit without them). */
static int
spool_flush(kit_ctx *c)
{
	sqlite3_stmt *s = c->spool_ins_batch;
	int           rc;

	c->spool_known = -1;
	if (c->spool_nrec == 0)
		return 0;
	sqlite3_bind_text(s, 1, "*", 1, SQLITE_STATIC);
	sqlite3_bind_text(
	    s, 2, c->spool_batch.p, (int) c->spool_batch.len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64) c->spool_nrec);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	spool_batch_reset(c);
	if (rc != SQLITE_DONE) {
		snprintf(c->store.err, sizeof(c->store.err),
		    KT("%s: audit spool: %s"), c->scenario,
		    sqlite3_errmsg(c->store.db));
		return -1;
	}
	return 0;
}

/* Spool row id, a batch's records (n > 1) that the bus refuses as too
 * large together: write each as a row of its own, under the numbers the
 * row stood for (kit.h), so that the drain sends fewer at a time and a
 * single record too large is set aside alone. Not inside a transaction
 * (the drain runs between them). 0, or -1 (logged). */
static int
spool_split(kit_ctx *c, int64_t id)
{
	sqlite3      *db  = c->store.db;
	sqlite3_stmt *sel = NULL, *ins = NULL;
	kit_buf       t   = { 0 };
	json_t       *arr = NULL, *rec;
	int64_t       n   = 0;
	size_t        i;
	int           ok = 0;

	if (sqlite3_prepare_v2(db,
	        "SELECT data, n FROM audit_spool WHERE id = ?1 AND topic = "
	        "'*'",
	        -1, &sel, NULL)
	    != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(sel, 1, id);
	if (sqlite3_step(sel) == SQLITE_ROW) {
		kit_buf_put(&t, "[", 1);
		kit_buf_put(&t, (const char *) sqlite3_column_text(sel, 0),
		    (size_t) sqlite3_column_bytes(sel, 0));
		kit_buf_put(&t, "]", 1);
		n = sqlite3_column_int64(sel, 1);
	}
	sqlite3_finalize(sel);
	arr = t.err || t.p == NULL ? NULL
	                           : kit_json_loadb(t.p, t.len, 0, NULL);
	if (!json_is_array(arr) || (int64_t) json_array_size(arr) != n
	    || sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL)
	        != SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(db,
	        "INSERT INTO audit_spool(id, rid, topic, data, n) "
	        "VALUES(?1, ?2, ?3, ?4, 1)",
	        -1, &ins, NULL)
	        != SQLITE_OK
	    || kit_sql_run(
	           db, "DELETE FROM audit_spool WHERE id = ?1", "i", id)
	        != SQLITE_DONE)
		goto rollback;
	json_array_foreach(arr, i, rec)
	{
		char *data
		    = kit_json_dumps(json_object_get(rec, "data"), NULL);
		sqlite3_bind_int64(ins, 1, id - n + 1 + (int64_t) i);
		sqlite3_bind_text(
		    ins, 2, kit_str(rec, "id"), -1, SQLITE_STATIC);
		sqlite3_bind_text(
		    ins, 3, kit_str(rec, "topic"), -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 4, data, -1, SQLITE_STATIC);
		int rc = data != NULL && kit_str(rec, "id") != NULL
		        && kit_str(rec, "topic") != NULL
		    ? sqlite3_step(ins)
		    : SQLITE_MISUSE;
		sqlite3_reset(ins);
		sqlite3_clear_bindings(ins);
		free(data);
		if (rc != SQLITE_DONE)
			goto rollback;
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) {
		ok = 1;
		goto out;
	}
rollback:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
	sqlite3_finalize(ins);
	json_decref(arr);
	free(t.p);
	if (!ok)
		c->host->log(c->self, XZ_LOG_ERROR, KT("%s: audit spool: %s"),
		    c->scenario, sqlite3_errmsg(db));
	return ok ? 0 : -1;
}

/* The same for a record given as an object. */
static int
spool_add(kit_ctx *c, const char *topic, json_t *ev)
{
	char *data = kit_json_dumps(ev, NULL);
	int   rc;

	if (data == NULL)
		return -1;
	rc = spool_add_text(c, topic, data);
	free(data);
	return rc;
}

static void
on_drain_timer(void *ud, uint64_t id)
{
	kit_ctx *c = ud;

	(void) id;
	c->drain_timer_armed = 0;
	drain_kick(c);
}

/* Try again in a second (the audit plugin is not there, or failed). */
static void
drain_later(kit_ctx *c)
{
	if (c->drain_timer_armed)
		return;
	if (c->host->timer_start(
	        c->self, 1000, 0, on_drain_timer, c, &c->drain_timer)
	    == XZ_OK)
		c->drain_timer_armed = 1;
}

static void
on_drain_reply(void *ud, int status, const xz_msg *reply)
{
	kit_ctx *c     = ud;
	json_t  *o     = NULL;
	int64_t  acked = 0;

	c->drain_inflight = 0;
	if (status == XZ_OK && !(reply->flags & XZ_MSG_ERROR)) {
		o     = kit_json_loadb(reply->data, reply->len, 0, NULL);
		acked = kit_int(o, "acked", 0);
		json_decref(o);
	}
	if (acked > (int64_t) c->drain_nrec)
		acked = (int64_t) c->drain_nrec;
	/* the rows all of whose records are acknowledged (a row partly
	 * acknowledged is sent again: its records are kept once) */
	size_t  rows = 0;
	int64_t done = 0;
	while (rows < c->drain_n && done + c->drain_recs[rows] <= acked)
		done += c->drain_recs[rows++];
	if (rows > 0) {
		int drc;
		/* With group commit the delete joins the batch's transaction
		 * (opened here when none is: this reply runs before the
		 * batch's messages, and kit_batch_end commits it with them),
		 * not a commit of its own. Should that commit fail, the
		 * records are sent again: kept once by their ids. */
		if (c->group && !c->batch_open && !c->in_tx
		    && kit_store_begin(&c->store) == 0)
			c->batch_open = 1;
		c->spool_known = -1;
		sqlite3_bind_int64(c->spool_del, 1, c->drain_ids[rows - 1]);
		drc = sqlite3_step(c->spool_del);
		sqlite3_reset(c->spool_del);
		if (drc != SQLITE_DONE) {
			/* sent again later: the audit plugin keeps each record
			 * once (by its id) */
			c->host->log(c->self, XZ_LOG_WARN,
			    KT("audit spool: cannot delete acknowledged "
			       "records: "
			       "%s"),
			    sqlite3_errmsg(c->store.db));
			acked = 0;
		}
	}
	if (acked > 0 && acked == (int64_t) c->drain_nrec) {
		c->drain_cap = 0; /* delivered: full batches again */
		if (!c->batch_open) /* else kit_batch_end kicks, committed */
			drain_kick(c);
	} else {
		c->host->counter_add(c->self, "audit_drain_retries", 1);
		drain_later(c);
	}
}

/* Move the spooled record id to audit_spool_aside (see kit.h): the bus
 * refuses it as too large on its own. Not inside a transaction (the
 * drain runs between them). 0 when moved. */
static int
spool_set_aside(kit_ctx *c, int64_t id)
{
	sqlite3      *db  = c->store.db;
	sqlite3_stmt *sel = NULL, *ins = NULL, *del = NULL;
	char         *rid = NULL, *topic = NULL;
	size_t        len = 0;
	int           rc;

	rc = sqlite3_exec(db,
	    "CREATE TABLE IF NOT EXISTS audit_spool_aside("
	    "id INTEGER PRIMARY KEY, rid TEXT, topic TEXT, data TEXT, "
	    "reason TEXT NOT NULL, aside_ms INTEGER NOT NULL)",
	    NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(db,
	        "SELECT rid, topic, length(data) FROM audit_spool WHERE id = "
	        "?1",
	        -1, &sel, NULL)
	        != SQLITE_OK
	    || sqlite3_prepare_v2(db,
	           "INSERT INTO audit_spool_aside(rid, topic, data, reason, "
	           "aside_ms) SELECT rid, topic, data, 'too_large', ?2 "
	           "FROM audit_spool WHERE id = ?1",
	           -1, &ins, NULL)
	        != SQLITE_OK
	    || sqlite3_prepare_v2(
	           db, "DELETE FROM audit_spool WHERE id = ?1", -1, &del, NULL)
	        != SQLITE_OK)
		goto rollback;
	sqlite3_bind_int64(sel, 1, id);
	if (sqlite3_step(sel) == SQLITE_ROW) {
		const char *t = (const char *) sqlite3_column_text(sel, 0);
		rid           = strdup(t ? t : "-");
		t             = (const char *) sqlite3_column_text(sel, 1);
		topic         = strdup(t ? t : "-");
		len           = (size_t) sqlite3_column_int64(sel, 2);
	}
	sqlite3_reset(sel);
	sqlite3_bind_int64(ins, 1, id);
	sqlite3_bind_int64(ins, 2, (sqlite3_int64) c->host->now_ms(c->self));
	sqlite3_bind_int64(del, 1, id);
	if (sqlite3_step(ins) != SQLITE_DONE
	    || sqlite3_step(del) != SQLITE_DONE
	    || sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto rollback;
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	sqlite3_finalize(del);
	c->host->log(c->self, XZ_LOG_ERROR,
	    KT("audit record %s on %s (%zu bytes) set aside in "
	       "audit_spool_aside: the bus refuses it as too large "
	       "(bus.max_payload), it can never reach the audit chain"),
	    rid ? rid : "-", topic ? topic : "-", len);
	c->host->counter_add(c->self, "audit_spool_set_aside", 1);
	free(rid);
	free(topic);
	return 0;
rollback:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
fail:
	c->host->log(c->self, XZ_LOG_ERROR,
	    KT("audit record %s on %s could not be set aside: %s"),
	    rid ? rid : "-", topic ? topic : "-", sqlite3_errmsg(db));
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	sqlite3_finalize(del);
	free(rid);
	free(topic);
	return -1;
}

/*
 * Send the oldest spooled records to the audit plugin (audit.append
 * {"records":[{"id","topic","data"}]}); it answers {"acked":N}, the
 * first N are durable in the chain and are deleted here. Not while a
 * transaction or batch is open: only committed records leave.
 */
static void
drain_kick(kit_ctx *c)
{
	sqlite3_stmt *st = c->spool_read;
	char         *js;
	int           rc;

	if (c->drain_inflight)
		return;
	if (c->in_tx || c->batch_open) {
		drain_later(c); /* only committed records leave */
		return;
	}
	/* The body is written as text around the stored JSON of each
	 * record (spool_add's json_dumps wrote it): no decoding and
	 * encoding again. */
	kit_buf b     = { 0 };
	size_t  cap   = c->drain_cap ? c->drain_cap : KIT_DRAIN_MAX;
	c->drain_n    = 0;
	c->drain_nrec = 0;
	kit_buf_puts(&b, "{\"records\":[");
	sqlite3_bind_int(st, 1, (int) cap);
	while (c->drain_nrec < cap && b.len < KIT_DRAIN_BYTES
	    && sqlite3_step(st) == SQLITE_ROW) {
		const char *data  = (const char *) sqlite3_column_text(st, 3);
		const char *topic = (const char *) sqlite3_column_text(st, 2);
		int64_t     n     = sqlite3_column_int64(st, 4);
		json_t     *d     = NULL;
		if (n < 1)
			n = 1;
		if (c->drain_n > 0 && c->drain_nrec + (size_t) n > cap)
			break; /* the first row goes whatever its size */
		if (topic != NULL && strcmp(topic, "*") == 0) {
			/* a batch's records, written as the body has them */
			if (c->drain_n > 0)
				kit_buf_puts(&b, ",");
			kit_buf_put(&b, data ? data : "",
			    (size_t) sqlite3_column_bytes(st, 3));
			c->drain_ids[c->drain_n] = sqlite3_column_int64(st, 0);
			c->drain_recs[c->drain_n++] = n;
			c->drain_nrec += (size_t) n;
			continue;
		}
		n = 1;
		if (data == NULL || data[0] != '{') {
			/* not what spool_add wrote: sent as an object anyway,
			 * as the decoded form always was */
			d    = data ? json_loads(data, 0, NULL) : NULL;
			data = NULL;
		}
		if (c->drain_n > 0)
			kit_buf_puts(&b, ",");
		kit_buf_puts(&b, "{\"id\":");
		kit_buf_json_str(
		    &b, (const char *) sqlite3_column_text(st, 1));
		kit_buf_puts(&b, ",\"topic\":");
		kit_buf_json_str(
		    &b, (const char *) sqlite3_column_text(st, 2));
		kit_buf_puts(&b, ",\"data\":");
		if (data != NULL) {
			kit_buf_puts(&b, data);
		} else {
			char *t = json_is_object(d)
			    ? json_dumps(d, JSON_COMPACT)
			    : NULL;
			kit_buf_puts(&b, t ? t : "{}");
			free(t);
		}
		json_decref(d);
		kit_buf_puts(&b, "}");
		c->drain_ids[c->drain_n]    = sqlite3_column_int64(st, 0);
		c->drain_recs[c->drain_n++] = 1;
		c->drain_nrec++;
	}
	sqlite3_reset(st);
	kit_buf_puts(&b, "]}");
	if (c->drain_n == 0) {
		free(b.p);
		return;
	}
	js = b.err ? NULL : b.p;
	if (js == NULL)
		free(b.p);
	rc = js ? c->host->request(c->self, "audit.append", js, strlen(js),
	         10000, on_drain_reply, c)
	        : XZ_ENOMEM;
	free(js);
	if (rc == XZ_OK) {
		c->drain_inflight = 1;
		return;
	}
	if (rc == XZ_ETOOBIG) {
		/* fewer records next time; a single one that is still too
		 * large is set aside, never retried as it is */
		if (c->drain_n > 1)
			c->drain_cap = c->drain_nrec / 2;
		else if (c->drain_recs[0] > 1
		        ? spool_split(c, c->drain_ids[0]) != 0
		        : spool_set_aside(c, c->drain_ids[0]) != 0) {
			c->host->counter_add(
			    c->self, "audit_drain_retries", 1);
			drain_later(c);
			return;
		}
		drain_kick(c);
		return;
	}
	c->host->counter_add(c->self, "audit_drain_retries", 1);
	drain_later(c);
}

int
kit_ctx_init(kit_ctx *c, xz_plugin *self, const xz_host *host,
    const char *scenario, char *err, size_t errlen)
{
	struct sqlite3 *db;

	memset(c, 0, sizeof(*c));
	c->self        = self;
	c->host        = host;
	c->scenario    = scenario;
	c->list_max    = 1000;
	c->spool_known = -1;
	db             = host->store(self);
	if (db == NULL) {
		snprintf(err, errlen, KT("%s: cannot open the plugin's store"),
		    scenario);
		return -1;
	}
	if (kit_store_init(&c->store, db) != 0) {
		snprintf(err, errlen, "%s: %s", scenario, c->store.err);
		return -1;
	}
	if (getrandom(c->rid_base, sizeof(c->rid_base), 0)
	    != (ssize_t) sizeof(c->rid_base)) {
		snprintf(err, errlen, "%s: no random bytes for record ids",
		    scenario);
		kit_store_fini(&c->store);
		return -1;
	}
	/* the counter starts at a random point too */
	for (int i = 8; i < 16; i++)
		c->rid_next = c->rid_next << 8 | c->rid_base[i];
	if (spool_init(c, err, errlen) != 0) {
		kit_store_fini(&c->store);
		return -1;
	}
	/* what a previous run left unacknowledged goes first */
	if (kit_spool_size(c) > 0)
		drain_later(c);
	return 0;
}

void
kit_ctx_fini(kit_ctx *c)
{
	/* the node is going: make the batch durable, answer nobody */
	if (c->batch_open) {
		if (kit_store_commit(&c->store) != 0)
			kit_store_rollback(&c->store);
		c->batch_open = 0;
	}
	c->spool_known = -1;
	for (size_t i = 0; i < c->ndeferred; i++) {
		c->host->msg_release(c->self, c->deferred[i].msg);
		free(c->deferred[i].data);
	}
	free(c->deferred);
	c->deferred  = NULL;
	c->ndeferred = 0;
	if (c->drain_timer_armed)
		c->host->timer_cancel(c->self, c->drain_timer);
	c->drain_timer_armed = 0;
	sqlite3_finalize(c->spool_ins);
	sqlite3_finalize(c->spool_size);
	sqlite3_finalize(c->spool_read);
	sqlite3_finalize(c->spool_del);
	sqlite3_finalize(c->spool_ins_batch);
	c->spool_ins = c->spool_size = c->spool_read = c->spool_del = NULL;
	c->spool_ins_batch                                          = NULL;
	free(c->spool_batch.p);
	memset(&c->spool_batch, 0, sizeof(c->spool_batch));
	kit_store_fini(&c->store);
	events_drop(c, 0);
	free(c->ev);
	c->ev     = NULL;
	c->cap_ev = 0;
	kit_serve_free(c);
}

void
kit_group_enable(kit_ctx *c)
{
	c->group = c->host->abi_minor >= 1;
}

void
kit_lazy_enable(kit_ctx *c)
{
	c->lazy = 1;
}

const char *
kit_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t
kit_int(json_t *o, const char *key, int64_t def)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? json_integer_value(v) : def;
}

json_t *
kit_obj_strs(json_t *o, ...)
{
	va_list     ap;
	const char *k;

	if (o == NULL && (o = json_object()) == NULL)
		return NULL;
	va_start(ap, o);
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		json_t     *j = v != NULL ? json_string(v) : json_null();
		if (j == NULL || json_object_set_new_nocheck(o, k, j) != 0) {
			json_decref(o);
			o = NULL;
			break;
		}
	}
	va_end(ap);
	return o;
}

void
kit_err_set(kit_err *e, kit_code code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

/* Whether the caller may state in the payload whom it acts for: the
 * node, a plugin (relaying for a person or acting itself) and the
 * administrator (operator tools). Everyone else is who the kernel says. */
static int
caller_may_state_actor(const xz_caller *who)
{
	for (const char *const *r = who->roles; *r != NULL; r++)
		if (strcmp(*r, "admin") == 0 || strcmp(*r, "plugin") == 0
		    || strcmp(*r, "node") == 0)
			return 1;
	return 0;
}

void
kit_req_adopt(kit_ctx *c, const xz_msg *m, json_t *body, kit_req *r)
{
	json_t          *actor = json_object_get(body, "actor");
	const xz_caller *who   = XZ_HAS_MEMBER(c->host, xz_host, caller)
	      ? c->host->caller(c->self, m)
	      : NULL;

	memset(r, 0, sizeof(*r));
	c->store.read_failed = 0; /* a new request: see kit_reply */
	r->c                 = c;
	r->msg               = m;
	r->body              = body;
	r->now_ms            = (int64_t) c->host->now_ms(c->self);
	xz_hex_encode(m->id, sizeof(m->id), r->corr);
	r->why     = kit_str(body, "reason");
	r->purpose = kit_str(body, "purpose");
	if (who == NULL || caller_may_state_actor(who)) {
		r->actor.user   = kit_str(actor, "user");
		r->actor.role   = kit_str(actor, "role");
		r->actor.agency = kit_str(actor, "agency");
		if (who != NULL && r->actor.user == NULL) {
			r->actor.user   = who->user;
			r->actor.role   = who->roles[0];
			r->actor.agency = who->agency[0] ? who->agency : NULL;
		}
		return;
	}
	/* The kernel's word, never the payload's. */
	const char *pu  = kit_str(actor, "user"),
	           *pa  = kit_str(actor, "agency");
	r->actor.user   = who->user;
	r->actor.role   = who->roles[0];
	r->actor.agency = who->agency[0] ? who->agency : NULL;
	if (pu != NULL && strcmp(pu, who->user) != 0)
		snprintf(r->actor_refused, sizeof(r->actor_refused),
		    KT("the payload's actor '%s' is not the authenticated "
		       "caller '%s'"),
		    pu, who->user);
	else if (pa != NULL && strcmp(pa, who->agency) != 0)
		snprintf(r->actor_refused, sizeof(r->actor_refused),
		    KT("'%s' acts for agency '%s', not '%s'"), who->user,
		    who->agency[0] ? who->agency : "(none)", pa);
}

int
kit_req_parse(kit_ctx *c, const xz_msg *m, kit_req *r, int need_actor)
{
	json_error_t je;
	json_t      *body;

	if (m->len == 0)
		body = json_object();
	else
		body = kit_json_loadb(m->data, m->len, 0, &je);
	if (!json_is_object(body)) {
		char msg[300];
		snprintf(msg, sizeof(msg),
		    KT("%s: payload must be a JSON object (%s)"), m->topic,
		    body ? KT("not an object") : je.text);
		json_decref(body);
		/* refused, and audited as such: who (the kernel's word) and
		 * the topic; nothing of the payload (it may not even be text)
		 */
		kit_req_adopt(c, m, NULL, r);
		if (r->actor.user == NULL)
			r->actor.user = "anonymous";
		kit_audit(r, "REFUSE", "request", m->topic, "bad_request");
		memset(r, 0, sizeof(*r));
		kit_reply_error(c->host, c->self, m, KIT_E_BAD_REQUEST, msg);
		return -1;
	}
	kit_req_adopt(c, m, body, r);
	if (r->actor_refused[0] != '\0') {
		kit_err e;
		kit_err_set(
		    &e, KIT_E_FORBIDDEN, "%s: %s", m->topic, r->actor_refused);
		kit_reply_err(r, &e, NULL, NULL);
		kit_req_done(r);
		return -1;
	}
	if (need_actor && r->actor.user == NULL) {
		kit_err e;
		kit_err_set(&e, KIT_E_BAD_REQUEST,
		    KT("%s: who acts is missing: give "
		       "\"actor\":{\"user\":..,\"role\":..,\"agency\":..}"),
		    m->topic);
		kit_reply_err(r, &e, NULL, NULL);
		kit_req_done(r);
		return -1;
	}
	if (r->actor.user == NULL)
		r->actor.user = "anonymous";
	return 0;
}

void
kit_req_internal(kit_ctx *c, kit_req *r, const char *user, json_t *body)
{
	memset(r, 0, sizeof(*r));
	c->store.read_failed = 0;
	r->c                 = c;
	r->body              = body ? body : json_object();
	r->actor.user        = user;
	r->actor.role        = "SYSTEM";
	r->actor.agency      = c->host->name(c->self);
	r->why               = kit_str(r->body, "reason");
	r->purpose           = kit_str(r->body, "purpose");
	r->now_ms            = (int64_t) c->host->now_ms(c->self);
	snprintf(r->corr, sizeof(r->corr), "internal");
}

void
kit_req_done(kit_req *r)
{
	json_decref(r->body);
	r->body = NULL;
	if (r->c != NULL)
		r->c->store.read_failed = 0; /* its failed read is answered */
}

/* Hold a reply (data: taken on success) until the batch commits. */
static int
defer_reply(kit_ctx *c, const xz_msg *m, char *data, size_t len)
{
	if (c->ndeferred == c->cap_deferred) {
		size_t        n = c->cap_deferred ? 2 * c->cap_deferred : 64;
		kit_deferred *d = realloc(c->deferred, n * sizeof(*d));
		if (d == NULL)
			return -1;
		c->deferred     = d;
		c->cap_deferred = n;
	}
	c->deferred[c->ndeferred].msg  = c->host->msg_retain(c->self, m);
	c->deferred[c->ndeferred].data = data;
	c->deferred[c->ndeferred].len  = len;
	c->deferred[c->ndeferred].code = -1;
	c->ndeferred++;
	return 0;
}

/* Hold back the refusal of m (code, text) until the batch's commit: its
 * audit record is in the batch, so the refusal is answered only once
 * that record is stored. 0, or -1 (out of memory: answer now). */
static int
defer_refusal(kit_ctx *c, const xz_msg *m, kit_code code, const char *text)
{
	char *t = strdup(text);

	if (t == NULL || defer_reply(c, m, t, strlen(t)) != 0) {
		free(t);
		return -1;
	}
	c->deferred[c->ndeferred - 1].code = (int) code;
	return 0;
}

void
kit_reply(kit_req *r, json_t *obj)
{
	char  *s;
	size_t n;

	if (r->msg == NULL || r->msg->kind != XZ_KIND_REQUEST) {
		json_decref(obj);
		return;
	}
	if (r->c->store.read_failed) {
		/* what was read is incomplete: an error, never an empty or
		 * partial result */
		kit_err e;
		json_decref(obj);
		kit_err_set(&e, KIT_E_STORE_ERROR, "%s: %s", r->msg->topic,
		    r->c->store.err);
		kit_reply_err(r, &e, NULL, NULL);
		return;
	}
	s = kit_json_dumps(obj, &n);
	json_decref(obj);
	if (s == NULL) {
		kit_reply_error(r->c->host, r->c->self, r->msg, KIT_E_INTERNAL,
		    KT("out of memory"));
		return;
	}
	if (r->c->batch_open && defer_reply(r->c, r->msg, s, n) == 0)
		return; /* sent by kit_batch_end, after the commit */
	r->c->host->reply(r->c->self, r->msg, s, n);
	free(s);
}

void
kit_reply_saved(kit_req *r, json_t *rec)
{
	kit_store *st = &r->c->store;
	char      *s  = st->saved_text;
	size_t     n  = st->saved_len;

	if (rec == NULL || rec != st->saved_rec || s == NULL || st->read_failed
	    || r->msg == NULL || r->msg->kind != XZ_KIND_REQUEST) {
		kit_reply(r, rec);
		return;
	}
	st->saved_text = NULL; /* taken */
	st->saved_rec  = NULL;
	json_decref(rec);
	if (r->c->batch_open && defer_reply(r->c, r->msg, s, n) == 0)
		return; /* sent by kit_batch_end, after the commit */
	r->c->host->reply(r->c->self, r->msg, s, n);
	free(s);
}

void
kit_reply_err(kit_req *r, const kit_err *e, const char *subject_type,
    const char *subject_id)
{
	kit_err     serr;
	const char *code;

	if (r->c->store.read_failed && e->code != KIT_E_STORE_ERROR) {
		/* "not found" after a read that failed is a store error */
		kit_err_set(&serr, KIT_E_STORE_ERROR, "%s: %s",
		    r->msg ? r->msg->topic : "internal", r->c->store.err);
		e = &serr;
	}
	code = kit_code_name(e->code);
	kit_audit(r, "REFUSE", subject_type ? subject_type : "request",
	    subject_id ? subject_id : (r->msg ? r->msg->topic : "internal"),
	    code);
	if (r->msg && r->msg->kind == XZ_KIND_REQUEST) {
		/* its audit record went into the open batch: answered when
		 * the batch commits, like the batch's changes */
		if (!r->c->group || !r->c->batch_open
		    || defer_refusal(r->c, r->msg, e->code, e->msg) != 0)
			kit_reply_error(
			    r->c->host, r->c->self, r->msg, e->code, e->msg);
	} else {
		r->c->host->log(
		    r->c->self, XZ_LOG_WARN, KT("%s: %s"), code, e->msg);
	}
}

/* An event of kit_ctx.ev: its topic and JSON text (both malloc'd). */
struct kit_event {
	char  *topic;
	char  *data;
	size_t len;
};

/* Publish s (n bytes) on topic; a failure is counted and logged. */
static void
publish_text(kit_ctx *c, const char *topic, const char *s, size_t n)
{
	int rc = c->host->publish(c->self, topic, s, n);

	if (rc == XZ_ECLOSED) {
		/* a subscriber (a CLI `sub`) went away meanwhile, or the node
		 * is stopping: the others got it */
		c->host->counter_add(c->self, "publish_closed", 1);
	} else if (rc != XZ_OK) {
		c->host->log(c->self, XZ_LOG_ERROR, KT("publish %s: %s"),
		    topic, c->host->strerror(rc));
		c->host->counter_add(c->self, "publish_failed", 1);
	}
}

static void
publish_now(kit_ctx *c, const char *topic, json_t *data)
{
	size_t n;
	char  *s = kit_json_dumps(data, &n);

	if (s != NULL)
		publish_text(c, topic, s, n);
	free(s);
}

/* Drop the events from ev[from] on. */
static void
events_drop(kit_ctx *c, size_t from)
{
	for (size_t i = from; i < c->nev; i++) {
		free(c->ev[i].topic);
		free(c->ev[i].data);
	}
	c->nev = from;
	if (c->nev_batch > from)
		c->nev_batch = from;
}

/* Publish every queued event, in order, then drop them. */
static void
events_publish(kit_ctx *c)
{
	for (size_t i = 0; i < c->nev; i++)
		publish_text(c, c->ev[i].topic, c->ev[i].data, c->ev[i].len);
	events_drop(c, 0);
}

void
kit_emit(kit_ctx *c, const char *topic, json_t *data)
{
	if (c->in_tx) {
		/* encoded now: what is published is the event as emitted */
		size_t n;
		char  *s = kit_json_dumps(data, &n), *t = strdup(topic);
		json_decref(data);
		if (c->nev == c->cap_ev && s != NULL && t != NULL) {
			size_t            cap = c->cap_ev ? 2 * c->cap_ev : 64;
			struct kit_event *e = realloc(c->ev, cap * sizeof(*e));
			if (e != NULL) {
				c->ev     = e;
				c->cap_ev = cap;
			}
		}
		if (s == NULL || t == NULL || c->nev == c->cap_ev) {
			/* not UTF-8, or out of memory: as a failed publish */
			free(s);
			free(t);
			c->host->counter_add(c->self, "publish_failed", 1);
			return;
		}
		c->ev[c->nev++] = (struct kit_event) { t, s, n };
		return;
	}
	publish_now(c, topic, data);
	json_decref(data);
}

/* key (the JSON text of a key and its colon, a literal: "\"who\":"),
 * then the value, a JSON string, or null for NULL (required: NULL is an
 * error). -1 when it is missing, or the text is not UTF-8 (b->err,
 * kit_buf_json_str). */
#define audit_field(b, at, key, v, required)                                  \
	audit_field_(b, at, "," key, sizeof(key), v, required)
static int
audit_field_(kit_buf *b, size_t at, const char *key, size_t keylen,
    const char *v, int required)
{
	if (v == NULL && required)
		return -1;
	/* without the comma after the opening brace (at `at`) */
	if (b->len > at + 1)
		kit_buf_put(b, key, keylen);
	else
		kit_buf_put(b, key + 1, keylen - 1);
	if (v == NULL)
		kit_buf_puts(b, "null");
	else
		kit_buf_json_str(b, v);
	return b->err ? -1 : 0;
}

/* The audit record of kit_audit_ex without extra keys as JSON text (the
 * object its json_pack builds, written directly: no object to build and
 * encode for each change). NULL on a text that is not UTF-8, a missing
 * required field or out of memory; else malloc'd, the caller frees it. */
static int
audit_text_into(kit_buf *b, kit_req *r, const char *action,
    const char *subject_type, const char *subject_id, const char *outcome)
{
	char   num[32];
	size_t at = b->len;

	kit_buf_put(b, "{", 1);
	if (audit_field(b, at, "\"who\":", r->actor.user, 0) != 0
	    || audit_field(b, at, "\"role\":", r->actor.role, 0) != 0
	    || audit_field(b, at, "\"agency\":", r->actor.agency, 0) != 0
	    || audit_field(b, at, "\"action\":", action, 1) != 0
	    || audit_field(b, at, "\"subject_type\":", subject_type, 0) != 0
	    || audit_field(b, at, "\"subject_id\":", subject_id, 0) != 0
	    || audit_field(b, at, "\"purpose\":", r->purpose, 0) != 0
	    || audit_field(b, at, "\"outcome\":", outcome, 0) != 0
	    || audit_field(b, at, "\"service\":", r->c->scenario, 1) != 0
	    || audit_field(b, at, "\"corr\":", r->corr, 1) != 0)
		return -1;
	{ /* ,"time":N} */
		char    *e = num + sizeof(num);
		uint64_t t = r->now_ms < 0 ? 0 : (uint64_t) r->now_ms;
		*--e       = '}';
		do
			*--e = (char) ('0' + t % 10);
		while ((t /= 10) != 0);
		kit_buf_put(b, ",\"time\":", 8);
		kit_buf_put(b, e, (size_t) (num + sizeof(num) - e));
	}
	return b->err ? -1 : 0;
}

/* The same as a text of its own (malloc'd, the caller frees it), or
 * NULL. */
static char *
audit_text(kit_req *r, const char *action, const char *subject_type,
    const char *subject_id, const char *outcome)
{
	kit_buf b = { 0 };

	if (audit_text_into(&b, r, action, subject_type, subject_id, outcome)
	    != 0) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

void
kit_audit_ex(kit_req *r, const char *what, const char *action,
    const char *subject_type, const char *subject_id, const char *outcome,
    json_t *extra)
{
	char    topic[128];
	size_t  n;
	json_t *ev;

	n = strlen(r->c->scenario);
	if (n > sizeof(topic) - 8)
		n = sizeof(topic) - 8;
	memcpy(topic, "audit.", 6);
	memcpy(topic + 6, r->c->scenario, n);
	n += 6;
	topic[n++] = '.';
	for (const char *p = what ? what : action; *p && n + 1 < sizeof(topic);
	     p++)
		topic[n++] = (char) tolower((unsigned char) *p);
	topic[n] = '\0';
	if (json_object_size(extra) == 0) {
		int built, spooled;
		json_decref(extra);
		if (r->c->group && r->c->batch_open) {
			/* straight into the batch's spool row */
			size_t at;
			spool_batch_open(r->c, topic, &at);
			built = spooled
			    = spool_batch_close(r->c, at,
			          audit_text_into(&r->c->spool_batch, r,
			              action, subject_type, subject_id,
			              outcome)
			              == 0)
			    == 0;
		} else {
			char *text = audit_text(
			    r, action, subject_type, subject_id, outcome);
			built = text != NULL;
			spooled
			    = built && spool_add_text(r->c, topic, text) == 0;
			free(text);
		}
		if (!built)
			r->c->host->log(r->c->self, XZ_LOG_ERROR,
			    KT("audit record %s %s:%s not built (a field is "
			       "not UTF-8, or out of memory)"),
			    action ? action : "-",
			    subject_type ? subject_type : "-",
			    subject_id ? subject_id : "-");
		if (!spooled)
			goto failed;
		drain_kick(r->c);
		return;
	}
	ev = json_pack("{s:s?,s:s?,s:s?,s:s,s:s?,s:s?,s:s?,s:s?,s:s,s:s,s:I}",
	    "who", r->actor.user, "role", r->actor.role, "agency",
	    r->actor.agency, "action", action, "subject_type", subject_type,
	    "subject_id", subject_id, "purpose", r->purpose, "outcome",
	    outcome, "service", r->c->scenario, "corr", r->corr, "time",
	    (json_int_t) r->now_ms);
	if (ev == NULL) {
		/* a text that is not UTF-8, or out of memory: inside a change
		 * the change fails with it; a read is answered but says so */
		r->c->host->log(r->c->self, XZ_LOG_ERROR,
		    KT("audit record %s %s:%s not built (a field is not "
		       "UTF-8, "
		       "or out of memory)"),
		    action, subject_type ? subject_type : "-",
		    subject_id ? subject_id : "-");
		json_decref(extra);
		goto failed;
	}
	/* the standard keys win: extra only adds (kept in the detail) */
	json_object_update_missing(ev, extra);
	json_decref(extra);
	if (spool_add(r->c, topic, ev) != 0) {
		json_decref(ev);
		goto failed;
	}
	json_decref(ev);
	drain_kick(r->c);
	return;
failed:
	if (r->c->in_tx)
		r->c->audit_failed = 1; /* the commit refuses the change */
	else
		r->c->host->counter_add(r->c->self, "audit_lost", 1);
}

void
kit_audit(kit_req *r, const char *action, const char *subject_type,
    const char *subject_id, const char *outcome)
{
	kit_audit_ex(r, NULL, action, subject_type, subject_id, outcome, NULL);
}

int
kit_tx_begin(kit_ctx *c, kit_err *e)
{
	int64_t spooled = c->batch_open && c->spool_known >= 0
	    ? c->spool_known
	    : kit_spool_size(c);

	c->spool_mark      = c->spool_batch.len; /* its records from here */
	c->spool_nrec_mark = c->spool_nrec;
	if (spooled >= 0) /* and the open batch's, not written yet */
		spooled += (int64_t) c->spool_nrec;
	if (spooled < 0 || spooled >= c->spool_max) {
		kit_err_set(e, KIT_E_AUDIT_UNAVAILABLE,
		    spooled < 0 ? KT("the audit spool cannot be read (%s): no "
		                     "change is made without its audit record")
		                : "%s",
		    spooled < 0
		        ? sqlite3_errmsg(c->store.db)
		        : KT("the audit spool is full (the audit plugin "
		             "has not acknowledged its records): no change "
		             "is made until it drains; reads still work"));
		c->host->counter_add(c->self, "audit_unavailable", 1);
		drain_kick(c);
		return -1;
	}
	c->audit_failed    = 0;
	c->store.saved_rec = NULL; /* a save of this change sets it */
	if (c->group) {
		if (!c->batch_open) {
			if (kit_store_begin(&c->store) != 0)
				goto fail;
			c->batch_open = 1;
		}
		/* as read before the open batch's own rows (spool_nrec) */
		c->spool_known = spooled - (int64_t) c->spool_nrec;
		if (c->lazy)
			kit_store_lazy_begin(&c->store);
		else if (kit_store_savepoint(&c->store) != 0)
			goto fail;
	} else if (kit_store_begin(&c->store) != 0) {
		goto fail;
	}
	c->in_tx = 1;
	return 0;
fail:
	kit_err_set(e, KIT_E_STORE_ERROR, "%s", c->store.err);
	return -1;
}

int
kit_tx_commit(kit_ctx *c, kit_err *e)
{
	if (c->store.read_failed) {
		/* the change was made on what a failed read left out */
		kit_err_set(e, KIT_E_STORE_ERROR, "%s", c->store.err);
		kit_tx_abort(c);
		c->host->counter_add(c->self, "store_errors", 1);
		return -1;
	}
	if (c->audit_failed) {
		kit_tx_abort(c);
		kit_err_set(e, KIT_E_AUDIT_UNAVAILABLE, "%s",
		    KT("the change was not made: its audit record could not "
		       "be written (see the node log)"));
		c->host->counter_add(c->self, "audit_unavailable", 1);
		return -1;
	}
	if (c->group) {
		int rc = c->lazy ? kit_store_lazy_end(&c->store)
		                 : kit_store_release(&c->store);
		if (rc == -2) {
			/* part of it is in the batch's transaction with no
			 * savepoint to undo it alone */
			kit_err_set(e, KIT_E_STORE_ERROR, "%s", c->store.err);
			c->in_tx        = 0;
			c->audit_failed = 0;
			events_drop(c, c->nev_batch);
			batch_fail(c, c->store.err);
			return -1;
		}
		if (rc != 0) {
			kit_err_set(e, KIT_E_STORE_ERROR, "%s", c->store.err);
			kit_tx_abort(c);
			return -1;
		}
		c->in_tx     = 0;
		c->nev_batch = c->nev; /* published with the batch */
		if (c->spool_batch.len >= KIT_DRAIN_BYTES / 2
		    && spool_flush(c) != 0) {
			/* the batch cannot commit without its records */
			kit_err_set(e, KIT_E_AUDIT_UNAVAILABLE, "%s",
			    KT("the change was not made: its audit record "
			       "could "
			       "not be written (see the node log)"));
			batch_fail(c, c->store.err);
			return -1;
		}
		return 0;
	}
	if (kit_store_commit(&c->store) != 0) {
		kit_err_set(e, KIT_E_STORE_ERROR, "%s", c->store.err);
		kit_tx_abort(c);
		return -1;
	}
	c->in_tx = 0;
	events_publish(c);
	drain_kick(c);
	return 0;
}

void
kit_tx_abort(kit_ctx *c)
{
	int whole = 0;

	if (c->group && c->lazy)
		whole = kit_store_lazy_abort(&c->store) != 0;
	else if (c->group)
		kit_store_rollback_to(&c->store);
	else
		kit_store_rollback(&c->store);
	c->in_tx        = 0;
	c->audit_failed = 0;
	events_drop(c, c->nev_batch);
	if (c->group && c->spool_batch.len >= c->spool_mark) {
		/* its audit records go with it */
		c->spool_batch.len = c->spool_mark;
		c->spool_nrec      = c->spool_nrec_mark;
		if (c->spool_batch.p != NULL)
			c->spool_batch.p[c->spool_mark] = '\0';
	}
	if (whole)
		batch_fail(c,
		    KT("a change wrote to the database around the store and "
		       "was then refused"));
}

/* Send the batch's held replies (ok: the batch committed, else each
 * says store_error) and drop its events (published first when ok). */
static void
batch_finish(kit_ctx *c, int ok)
{
	if (ok)
		events_publish(c);
	else
		events_drop(c, 0);
	for (size_t i = 0; i < c->ndeferred; i++) {
		kit_deferred *d = &c->deferred[i];
		if (ok && d->code >= 0) {
			kit_reply_error(c->host, c->self, d->msg,
			    (kit_code) d->code, d->data);
		} else if (ok) {
			c->host->reply(c->self, d->msg, d->data, d->len);
		} else if (d->code >= 0) {
			/* the refusal stands, its record is lost: not
			 * answered as if it had been recorded */
			char text[256];
			snprintf(text, sizeof(text),
			    KT("the request was refused (%s), but the refusal "
			       "was not recorded: the commit failed"),
			    kit_code_name((kit_code) d->code));
			kit_reply_error(
			    c->host, c->self, d->msg, KIT_E_STORE_ERROR, text);
		} else {
			kit_reply_error(c->host, c->self, d->msg,
			    KIT_E_STORE_ERROR,
			    KT("the change was not stored: the commit "
			       "failed"));
		}
		c->host->msg_release(c->self, d->msg);
		free(d->data);
	}
	c->ndeferred = 0;
}

/* The batch cannot commit (why: for the log): roll it back; every
 * change of it is answered store_error, none of its events published.
 * The next change begins a new batch. */
static void
batch_fail(kit_ctx *c, const char *why)
{
	c->host->log(c->self, XZ_LOG_ERROR,
	    KT("group commit of %zu change(s) failed: %s"), c->ndeferred, why);
	c->batch_open  = 0;
	c->spool_known = -1;
	kit_store_rollback(&c->store);
	spool_batch_reset(c); /* its audit records go with it */
	c->host->counter_add(c->self, "commit_failed", 1);
	batch_finish(c, 0);
}

void
kit_batch_end(kit_ctx *c)
{
	if (!c->batch_open)
		return;
	if (spool_flush(c) != 0 || kit_store_commit(&c->store) != 0) {
		batch_fail(c, c->store.err);
	} else {
		c->batch_open = 0;
		batch_finish(c, 1);
	}
	c->spool_known = -1;
	drain_kick(c);
}

int
kit_record_write(kit_req *r, const char *kind, json_t *rec, int insert,
    const char *action, const char *from, const char *why, kit_err *e)
{
	kit_store *st = &r->c->store;
	kit_change ch = { .action = action,
		.from             = from,
		.to               = kit_str(rec, "state"),
		.who              = r->actor.user,
		.role             = r->actor.role,
		.why              = why,
		.at_ms            = r->now_ms,
		.agency           = r->actor.agency };

	if (kit_store_save(st, kind, rec, insert) != 0
	    || kit_store_history_add(st, kind, kit_str(rec, "id"), &ch) != 0) {
		kit_err_set(e, KIT_E_STORE_ERROR, "%s", st->err);
		return -1;
	}
	return 0;
}

/* The who/when/why fields every event carries. */
static void
event_common(json_t *ev, kit_req *r)
{
	json_object_set_new_nocheck(ev, "who", json_string(r->actor.user));
	if (r->actor.role)
		json_object_set_new_nocheck(
		    ev, "role", json_string(r->actor.role));
	json_object_set_new_nocheck(ev, "at_ms", json_integer(r->now_ms));
	if (r->why)
		json_object_set_new_nocheck(ev, "reason", json_string(r->why));
}

json_t *
kit_create_tx(const kit_kind *k, kit_req *r, json_t *fields,
    json_t *event_extra, kit_err *e)
{
	kit_ctx    *c = r->c;
	char        idbuf[64];
	const char *id = kit_str(fields, "id");
	const char *state;
	json_t     *ev;
	const char *kv;
	json_t     *v;

	if (id == NULL) {
		int64_t n;
		if (kit_store_next_seq(&c->store, k->name, &n) != 0) {
			kit_err_set(e, KIT_E_STORE_ERROR, "%s", c->store.err);
			goto fail;
		}
		kstr_seq_id(idbuf, sizeof(idbuf), k->prefix, n);
		json_object_set_new_nocheck(fields, "id", json_string(idbuf));
		id = kit_str(fields, "id");
	} else {
		json_t *old = kit_store_load(&c->store, k->name, id);
		if (old) {
			json_decref(old);
			kit_err_set(e, KIT_E_EXISTS,
			    KT("%s %s already exists"), k->name, id);
			goto fail;
		}
	}
	if (kit_str(fields, "state") == NULL)
		json_object_set_new_nocheck(
		    fields, "state", json_string(k->fsm->initial));
	state = kit_str(fields, "state");
	json_object_set_new_nocheck(
	    fields, "created_ms", json_integer(r->now_ms));
	json_object_set_new_nocheck(
	    fields, "updated_ms", json_integer(r->now_ms));
	json_object_set_new_nocheck(
	    fields, "created_by", json_string(r->actor.user));
	if (kit_record_write(r, k->name, fields, 1, "create", NULL, r->why, e)
	    != 0)
		goto fail;
	ev = kit_obj_strs(NULL, "id", id, "state", state, NULL);
	json_object_foreach(event_extra, kv, v)
	{
		json_object_set(ev, kv, v);
	}
	json_decref(event_extra);
	event_common(ev, r);
	{
		char topic[128];
		kstr_join(topic, sizeof(topic), ".", c->scenario, k->name,
		    k->created_event);
		kit_emit(c, topic, ev);
	}
	kit_audit(r, "CREATE", k->subject_type, id, "ok");
	return fields;
fail:
	json_decref(fields);
	json_decref(event_extra);
	return NULL;
}

/* kit_apply_tx on rec (owned) when the caller loaded it, else loads
 * record id. */
static json_t *
apply_tx(const kit_kind *k, kit_req *r, const char *id, json_t *rec,
    const char *action, const kit_transition **tp, kit_err *e)
{
	kit_ctx              *c = r->c;
	const kit_transition *t;
	char                  from[64];
	json_t               *ev;

	if (rec == NULL)
		rec = kit_store_load(&c->store, k->name, id);
	if (rec == NULL) {
		if (c->store.err[0])
			kit_err_set(e, KIT_E_STORE_ERROR, "%s", c->store.err);
		else
			kit_err_set(e, KIT_E_NOT_FOUND, KT("no %s with id %s"),
			    k->name, id);
		return NULL;
	}
	kstr_copy(from, sizeof(from),
	    kit_str(rec, "state") ? kit_str(rec, "state") : "(null)");
	t = kit_fsm_find(k->fsm, from, action);
	if (t == NULL) {
		kit_err_set(e, KIT_E_INVALID_STATE, "%s", "");
		kit_fsm_refusal(
		    k->fsm, id, from, action, e->msg, sizeof(e->msg));
		json_decref(rec);
		return NULL;
	}
	json_object_set_new_nocheck(rec, "state", json_string(t->to));
	json_object_set_new_nocheck(
	    rec, "updated_ms", json_integer(r->now_ms));
	ev = kit_obj_strs(
	    NULL, "id", id, "action", action, "from", from, "to", t->to, NULL);
	event_common(ev, r);
	if (k->on_action && k->on_action(k, r, t, rec, ev, e) != 0) {
		json_decref(ev);
		json_decref(rec);
		return NULL;
	}
	if (kit_record_write(r, k->name, rec, 0, action, from, r->why, e) != 0)
		goto fail;
	{
		char topic[128];
		kstr_join(
		    topic, sizeof(topic), ".", c->scenario, k->name, t->event);
		kit_emit(c, topic, ev);
	}
	kit_audit(r, "UPDATE", k->subject_type, id, "ok");
	if (tp)
		*tp = t;
	return rec;
fail:
	json_decref(ev);
	json_decref(rec);
	return NULL;
}

json_t *
kit_apply_tx(const kit_kind *k, kit_req *r, const char *id, const char *action,
    const kit_transition **tp, kit_err *e)
{
	return apply_tx(k, r, id, NULL, action, tp, e);
}

/* kit_apply / kit_apply_loaded: rec owned, NULL to load id */
static json_t *
apply(const kit_kind *k, kit_req *r, const char *id, json_t *rec,
    const char *action, kit_err *e)
{
	const kit_transition *t = NULL;

	if (kit_tx_begin(r->c, e) != 0) {
		json_decref(rec);
		return NULL;
	}
	rec = apply_tx(k, r, id, rec, action, &t, e);
	if (rec == NULL) {
		kit_tx_abort(r->c);
		return NULL;
	}
	if (kit_tx_commit(r->c, e) != 0) {
		json_decref(rec);
		return NULL;
	}
	if (k->after_action)
		k->after_action(k, r, t, rec);
	return rec;
}

json_t *
kit_apply(const kit_kind *k, kit_req *r, const char *id, const char *action,
    kit_err *e)
{
	return apply(k, r, id, NULL, action, e);
}

json_t *
kit_apply_loaded(
    const kit_kind *k, kit_req *r, json_t *rec, const char *action, kit_err *e)
{
	/* a copy: on_action may change rec */
	char   *id = strdup(kit_str(rec, "id") ? kit_str(rec, "id") : "");
	json_t *out;

	if (id == NULL) {
		json_decref(rec);
		kit_err_set(e, KIT_E_INTERNAL, "%s", KT("out of memory"));
		return NULL;
	}
	out = apply(k, r, id, rec, action, e);
	free(id);
	return out;
}

void
kit_create_reply(
    const kit_kind *k, kit_req *r, json_t *fields, json_t *event_extra)
{
	kit_err e;
	json_t *rec;

	if (kit_tx_begin(r->c, &e) != 0) {
		json_decref(fields);
		json_decref(event_extra);
		kit_reply_err(r, &e, k->subject_type, NULL);
		return;
	}
	rec = kit_create_tx(k, r, fields, event_extra, &e);
	if (rec == NULL) {
		kit_tx_abort(r->c);
		kit_reply_err(r, &e, k->subject_type, NULL);
		return;
	}
	if (kit_tx_commit(r->c, &e) != 0) {
		json_decref(rec);
		kit_reply_err(r, &e, k->subject_type, NULL);
		return;
	}
	kit_reply(r, rec);
}

static void
on_request(void *ud, const xz_msg *m)
{
	kit_binding *b = ud;
	kit_req      r;

	if (m->kind != XZ_KIND_REQUEST)
		return; /* someone published on a request topic: not ours */
	if (kit_req_parse(b->c, m, &r, b->need_actor) != 0)
		return;
	b->fn(b->k, &r);
	kit_req_done(&r);
}

/* The generic action handler: {"id":..., "actor":..., "reason":...}. */
static void
on_action(void *ud, const xz_msg *m)
{
	kit_binding *b = ud;
	kit_req      r;
	kit_err      e;
	const char  *id;
	json_t      *rec;

	if (m->kind != XZ_KIND_REQUEST)
		return;
	if (kit_req_parse(b->c, m, &r, 1) != 0)
		return;
	id = kit_str(r.body, "id");
	if (id == NULL) {
		kit_err_set(&e, KIT_E_BAD_REQUEST,
		    "%s: \"id\" (string) is missing", m->topic);
		kit_reply_err(&r, &e, b->k->subject_type, NULL);
	} else if ((rec = kit_apply(b->k, &r, id, b->action, &e)) == NULL) {
		kit_reply_err(&r, &e, b->k->subject_type, id);
	} else {
		kit_reply(&r, rec);
	}
	kit_req_done(&r);
}

static void
get_fn(const kit_kind *k, kit_req *r)
{
	const char *id = kit_str(r->body, "id");
	json_t     *rec;
	kit_err     e;

	if (id == NULL) {
		kit_err_set(&e, KIT_E_BAD_REQUEST,
		    "%s.%s.get: \"id\" is missing", r->c->scenario, k->name);
		kit_reply_err(r, &e, k->subject_type, NULL);
		return;
	}
	rec = kit_store_load(&r->c->store, k->name, id);
	if (rec == NULL) {
		kit_err_set(
		    &e, KIT_E_NOT_FOUND, KT("no %s with id %s"), k->name, id);
		kit_reply_err(r, &e, k->subject_type, id);
		return;
	}
	if (!json_is_false(json_object_get(r->body, "history")))
		json_object_set_new_nocheck(rec, "history",
		    kit_store_history(&r->c->store, k->name, id));
	{
		char allowed[256];
		kit_fsm_allowed(
		    k->fsm, kit_str(rec, "state"), allowed, sizeof(allowed));
		json_object_set_new_nocheck(
		    rec, "allowed", json_string(allowed));
	}
	if (k->on_get)
		k->on_get(k, r, rec);
	if (k->personal)
		kit_audit(r, "VIEW", k->subject_type, id, "ok");
	kit_reply(r, rec);
}

static void
list_fn(const kit_kind *k, kit_req *r)
{
	int64_t limit  = kit_int(r->body, "limit", 50);
	int64_t offset = kit_int(r->body, "offset", 0);
	kit_err e;

	if (limit < 1 || limit > r->c->list_max || offset < 0) {
		kit_err_set(&e, KIT_E_BAD_REQUEST,
		    "%s.%s.list: limit must be 1..%lld and offset >= 0",
		    r->c->scenario, k->name, (long long) r->c->list_max);
		kit_reply_err(r, &e, k->subject_type, NULL);
		return;
	}
	if (k->personal)
		kit_audit(r, "VIEW", k->subject_type, "list", "ok");
	kit_reply(r,
	    kit_store_list(&r->c->store, k->name, kit_str(r->body, "state"),
	        kit_str(r->body, "location"), kit_str(r->body, "owner"), limit,
	        offset));
}

static kit_binding *
bind_new(kit_ctx *c, const kit_kind *k)
{
	kit_binding *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	b->c        = c;
	b->k        = k;
	b->next     = c->bindings;
	c->bindings = b;
	return b;
}

int
kit_serve(kit_ctx *c, const char *topic, const kit_kind *k, kit_req_fn fn,
    int need_actor)
{
	kit_binding *b = bind_new(c, k);
	if (b == NULL)
		return XZ_ENOMEM;
	b->fn         = fn;
	b->need_actor = need_actor;
	return c->host->subscribe(c->self, topic, NULL, on_request, b, NULL);
}

int
kit_serve_kind(kit_ctx *c, const kit_kind *k)
{
	char topic[128];
	int  rc;

	snprintf(topic, sizeof(topic), "%s.%s.get", c->scenario, k->name);
	if ((rc = kit_serve(c, topic, k, get_fn, 0)) != XZ_OK)
		return rc;
	snprintf(topic, sizeof(topic), "%s.%s.list", c->scenario, k->name);
	if ((rc = kit_serve(c, topic, k, list_fn, 0)) != XZ_OK)
		return rc;
	for (size_t i = 0; i < k->fsm->nrows; i++) {
		const char  *a   = k->fsm->rows[i].action;
		int          dup = 0;
		kit_binding *b;
		for (size_t j = 0; j < i; j++)
			if (strcmp(k->fsm->rows[j].action, a) == 0)
				dup = 1;
		if (dup)
			continue;
		if ((b = bind_new(c, k)) == NULL)
			return XZ_ENOMEM;
		b->action = a;
		snprintf(
		    topic, sizeof(topic), "%s.%s.%s", c->scenario, k->name, a);
		rc = c->host->subscribe(
		    c->self, topic, NULL, on_action, b, NULL);
		if (rc != XZ_OK)
			return rc;
	}
	return XZ_OK;
}

void
kit_serve_free(kit_ctx *c)
{
	while (c->bindings) {
		kit_binding *b = c->bindings;
		c->bindings    = b->next;
		free(b);
	}
}

int
kit_sweep_overdue(kit_ctx *c, const kit_kind *k, const char *state,
    const char *due_field, const char *skip_field, const char *topic)
{
	kit_req r;
	kit_err e;
	json_t *page, *rec;
	size_t  i;
	int     n = 0;

	kit_req_internal(c, &r, "system:clock", NULL);
	page = kit_store_list(
	    &c->store, k->name, state, NULL, NULL, INT64_MAX, 0);
	if (kit_tx_begin(c, &e) != 0)
		goto fail;
	json_array_foreach(json_object_get(page, "items"), i, rec)
	{
		int64_t     due = kit_int(rec, due_field, 0);
		const char *id  = kit_str(rec, "id");

		if (due <= 0 || due > r.now_ms
		    || json_object_get(rec, "overdue_ms")
		    || (skip_field && json_object_get(rec, skip_field)))
			continue;
		json_object_set_new_nocheck(
		    rec, "overdue_ms", json_integer(r.now_ms));
		if (kit_record_write(
		        &r, k->name, rec, 0, "overdue", state, due_field, &e)
		    != 0) {
			kit_tx_abort(c);
			goto fail;
		}
		kit_emit(c, topic,
		    json_pack("{s:s,s:I,s:I}", "id", id, "due_ms",
		        (json_int_t) due, "at_ms", (json_int_t) r.now_ms));
		n++;
	}
	if (kit_tx_commit(c, &e) != 0)
		goto fail;
	if (n)
		c->host->counter_add(c->self, "overdue_reported", n);
	json_decref(page);
	kit_req_done(&r);
	return n;
fail:
	c->host->log(c->self, XZ_LOG_ERROR, KT("%s: overdue sweep: %s"),
	    k->name, e.msg);
	json_decref(page);
	kit_req_done(&r);
	return -1;
}

/* The clock timer fired: its id is gone, so the next arm starts afresh. */
static void
clock_fired(void *ud, uint64_t id)
{
	kit_ctx *c = ud;

	(void) id;
	c->clock_armed = 0;
	c->clock_fn(c->clock_ud);
}

void
kit_clock_arm(kit_ctx *c, kit_clock_fn fn, void *ud)
{
	int64_t due, now;
	int     rc;

	kit_clock_disarm(c);
	c->clock_fn = fn;
	c->clock_ud = ud;
	rc          = kit_store_clock_next(&c->store, &due);
	if (rc <= 0) {
		if (rc < 0)
			c->host->log(c->self, XZ_LOG_ERROR,
			    KT("clocks not armed: %s"), c->store.err);
		return;
	}
	now = (int64_t) c->host->now_ms(c->self);
	rc  = c->host->timer_start(c->self,
	     (uint64_t) (due > now ? due - now : 0), 0, clock_fired, c,
	     &c->clock_timer);
	if (rc != XZ_OK) {
		/* not silent: the clocks fire at the next arm (next change or
		 * restart) */
		c->host->log(c->self, XZ_LOG_ERROR, KT("clocks not armed: %s"),
		    c->host->strerror(rc));
		c->host->counter_add(c->self, "clock_arm_failed", 1);
		return;
	}
	c->clock_armed = 1;
}

void
kit_clock_disarm(kit_ctx *c)
{
	if (c->clock_armed)
		c->host->timer_cancel(c->self, c->clock_timer);
	c->clock_armed = 0;
}
