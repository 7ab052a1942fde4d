/*
 * nats - a bus bridge to a NATS server or cluster (libnats), with
 * JetStream for the topics that must survive restarts. docs/nats.md is the
 * operator's guide; this comment is the design.
 *
 * What crosses, per direction (options below):
 *   export          bus events on these patterns -> NATS core publish on
 *                   export_prefix + topic (at most once: buffered while
 *                   the connection is down, up to reconnect_buffer_bytes,
 *                   then counted in `dropped`)
 *   import          NATS core messages on import_prefix + pattern -> bus
 *                   events on the subject minus the prefix's tokens
 *   durable_export  bus events -> an outbox table in this plugin's store
 *                   -> JetStream publish (stream `stream`, subject
 *                   durable_prefix + export_prefix + topic, Nats-Msg-Id =
 *                   the bus message id); a row leaves the outbox only when
 *                   the stream acknowledged it, so nothing is lost while
 *                   NATS is down; a full outbox (outbox_max rows) refuses
 *                   new events and counts them in `outbox_refused`
 *   durable_import  a durable push consumer per pattern on the stream ->
 *                   bus events; the JetStream message is acknowledged
 *                   only after the bus accepted the event for every local
 *                   subscriber and its id is recorded in the `seen` table
 *                   (a redelivered id is acknowledged and dropped:
 *                   `dup_dropped`)
 *   request_export  bus requests on these patterns -> NATS requests on
 *                   export_prefix + topic, with the time left before the
 *                   bus deadline (header Xz-Timeout-Ms); the NATS reply
 *                   (or no_responders / timeout) answers the bus request.
 *                   The bridge is then the responder of these topics.
 *   request_import  NATS requests on import_prefix + pattern -> bus
 *                   requests (timeout from Xz-Timeout-Ms, else the
 *                   node's), whose replies go back to the NATS reply
 *                   subject (an error reply with header Xz-Error: 1)
 * A request on an `export`/`durable_export` topic is left to the local
 * responders (counted in `requests_skipped`), and a NATS request on an
 * `import` subject is carried as an event.
 *
 * Loops: an event this plugin published on the bus (its source is this
 * instance) is never exported; the connection is opened with no-echo; and
 * every message carries an Xz-Origin header (option origin) that the
 * import side drops when it is its own (`echo_dropped`).
 *
 * Threads: libnats runs its own threads. They never call the host table:
 * connection events and publish acknowledgements go through atomics and a
 * mutex-protected list; subscriptions are synchronous (libnats queues the
 * messages) and a timer of poll_ms drains everything in the actor.
 */
#include <jansson.h>
#include <nats/nats.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xiezhi/i18n.h>
#include <xiezhi/xiezhi.h>

#include "map.h"

/* The bridge's log lines in 简体中文, by LANG (<xiezhi/i18n.h>). */
static const xz_tr nats_zh[] = {
	{ "store schema: %s", "存储结构：%s" },
	{ "store: %s", "存储：%s" },
	{ "export %s: not sent to NATS: %s (counted in dropped)",
	    "导出 %s：未发送到 NATS：%s（计入 dropped）" },
	{ "durable export %s: subject over %d bytes: refused",
	    "持久导出 %s：主题超过 %d 字节：已拒绝" },
	{ "durable export %s: outbox full (%lld events waiting for "
	  "JetStream): "
	  "refused, counted in outbox_refused",
	    "持久导出 %s：发件箱已满（%lld 个事件等待 "
	    "JetStream）：已拒绝，计入 "
	    "outbox_refused" },
	{ "durable export %s: outbox: %s: refused",
	    "持久导出 %s：发件箱：%s：已拒绝" },
	{ "import %s: not published on the bus: %s (counted in dropped)",
	    "导入 %s：未在总线上发布：%s（计入 dropped）" },
	{ "durable import %s: refused by the bus: %s (acknowledged, counted "
	  "in "
	  "dropped)",
	    "持久导入 %s：被总线拒绝：%s（已确认，计入 dropped）" },
	{ "import %s: cannot subscribe: %s", "导入 %s：无法订阅：%s" },
	{ "request_import %s: cannot subscribe: %s",
	    "request_import %s：无法订阅：%s" },
	{ "stream %s exists with memory storage: durable topics need file "
	  "storage (delete the stream or name another with option stream)",
	    "流 %s "
	    "已存在且为内存存储：持久主题需要文件存储（请删除该流，或用选项 "
	    "stream 指定另一个）" },
	{ "stream %s exists but does not capture %s (option durable_prefix): "
	  "fix the stream or the option",
	    "流 %s 已存在但不包含 %s（选项 "
	    "durable_prefix）：请修正该流或选项" },
	{ "stream %s: cannot read it: %s (jetstream error %d); retrying",
	    "流 %s：无法读取：%s（jetstream 错误 %d）；正在重试" },
	{ "stream %s: cannot create it on %s: %s (jetstream error %d); "
	  "retrying",
	    "流 %s：无法在 %s 上创建：%s（jetstream 错误 %d）；正在重试" },
	{ "stream %s created: subjects %s, file storage, duplicate window "
	  "%lld "
	  "s",
	    "已创建流 %s：主题 %s，文件存储，去重窗口 %lld 秒" },
	{ "jetstream: %s", "jetstream：%s" },
	{ "durable import %s (consumer %s): %s (jetstream error %d); retrying",
	    "持久导入 %s（消费者 %s）：%s（jetstream 错误 %d）；正在重试" },
	{ "durable import %s from stream %s (consumer %s)",
	    "持久导入 %s，来自流 %s（消费者 %s）" },
	{ "reconnected to NATS (%s)", "已重新连接 NATS（%s）" },
	{ "NATS %s unreachable; retrying with backoff",
	    "NATS %s 无法连接；正在退避重试" },
	{ "option %s: %s", "选项 %s：%s" },
	{ "missing", "缺失" },
	{ "option durable_prefix: must not be empty with durable topics (the "
	  "stream captures durable_prefix + \">\")",
	    "选项 durable_prefix：有持久主题时不能为空（流捕获 durable_prefix "
	    "+ "
	    "\">\"）" },
	{ "option stream: '%s' is not a stream name (no '.', '*', '>' or "
	  "spaces)",
	    "选项 stream：'%s' 不是流名称（不得含 '.'、'*'、'>' 或空格）" },
	{ "option export: '%s' would be published under durable_prefix '%s': "
	  "use durable_export for it",
	    "选项 export：'%s' 会发布在 durable_prefix '%s' 之下：请改用 "
	    "durable_export" },
	{ "option durable_import: '%s': subject over %d bytes",
	    "选项 durable_import：'%s'：主题超过 %d 字节" },
	{ "NATS %s not reachable yet; the node runs and the bridge keeps "
	  "trying",
	    "NATS %s 暂时无法连接；节点照常运行，桥接持续重试" },
	{ "NATS %s: %s", "NATS %s：%s" },
	{ "bridge to %s as '%s': %zu export, %zu import, %zu durable export, "
	  "%zu durable import, %zu request export, %zu request import "
	  "pattern(s)",
	    "桥接到 %s，身份 '%s'：导出 %zu 个、导入 %zu 个、持久导出 %zu 个、"
	    "持久导入 %zu 个、请求导出 %zu 个、请求导入 %zu 个模式" },
	{ "store commit: %s (durable imports not acknowledged: they come "
	  "again)",
	    "存储提交：%s（持久导入未确认：将再次送达）" },
	{ NULL, NULL },
};
#define NT(s) XZ_TR(nats_zh, s)

#define NB_DRAIN_MAX 512 /* messages taken per subscription per tick */
#define NB_NS_PER_MS 1000000LL

/* libnats is process-wide: the last instance to finish closes it. */
static atomic_int nb_lib_users;

static const xz_option_decl nb_options[] = {
	{ .name          = "url",
	    .type        = XZ_OPT_STRING,
	    .def         = "nats://127.0.0.1:4222",
	    .description = "NATS server URL(s), comma-separated" },
	{ .name          = "origin",
	    .type        = XZ_OPT_STRING,
	    .def         = "",
	    .description = "this bridge's name in the Xz-Origin header and "
	                   "its consumers' names; default host:instance" },
	{ .name          = "export",
	    .type        = XZ_OPT_STRING,
	    .def         = "",
	    .description = "bus topic patterns published to NATS (core)" },
	{ .name          = "import",
	    .type        = XZ_OPT_STRING,
	    .def         = "",
	    .description = "NATS subject patterns (after import_prefix) "
	                   "published on the bus" },
	{ .name          = "durable_export",
	    .type        = XZ_OPT_STRING,
	    .def         = "",
	    .description = "bus topic patterns published to JetStream" },
	{ .name          = "durable_import",
	    .type        = XZ_OPT_STRING,
	    .def         = "",
	    .description = "JetStream subject patterns (after durable_prefix "
	                   "and import_prefix) published on the bus" },
	{ .name          = "export_prefix",
	    .type        = XZ_OPT_STRING,
	    .def         = "",
	    .description = "put before an exported topic, e.g. "
	                   "\"xiezhi.prison-01.\"" },
	{ .name          = "import_prefix",
	    .type        = XZ_OPT_STRING,
	    .def         = "",
	    .description = "put before import patterns and removed from "
	                   "imported subjects; '*' tokens allowed" },
	{ .name          = "durable_prefix",
	    .type        = XZ_OPT_STRING,
	    .def         = "xzd.",
	    .description = "first tokens of every durable subject; the "
	                   "stream captures durable_prefix + \">\"" },
	{ .name          = "stream",
	    .type        = XZ_OPT_STRING,
	    .def         = "XIEZHI",
	    .description = "JetStream stream of the durable topics" },
	{ .name          = "stream_max_age_s",
	    .type        = XZ_OPT_INT,
	    .def         = "604800",
	    .description = "how long the stream keeps a message (created "
	                   "streams only)",
	    .min         = 60,
	    .max         = 31536000 },
	{ .name          = "stream_replicas",
	    .type        = XZ_OPT_INT,
	    .def         = "1",
	    .description = "copies of the stream in a NATS cluster (created "
	                   "streams only)",
	    .min         = 1,
	    .max         = 5 },
	{ .name          = "dedup_window_s",
	    .type        = XZ_OPT_INT,
	    .def         = "120",
	    .description = "the stream's duplicate window (Nats-Msg-Id)",
	    .min         = 1,
	    .max         = 86400 },
	{ .name          = "ack_wait_ms",
	    .type        = XZ_OPT_INT,
	    .def         = "30000",
	    .description = "redelivery delay of an unacknowledged durable "
	                   "message",
	    .min         = 100,
	    .max         = 3600000 },
	{ .name          = "max_ack_pending",
	    .type        = XZ_OPT_INT,
	    .def         = "1024",
	    .description = "durable messages delivered and not yet "
	                   "acknowledged, per consumer (created consumers)",
	    .min         = 1,
	    .max         = 1000000 },
	{ .name          = "outbox_max",
	    .type        = XZ_OPT_INT,
	    .def         = "100000",
	    .description = "durable events kept while JetStream is "
	                   "unreachable; more are refused and counted",
	    .min         = 1,
	    .max         = 100000000 },
	{ .name          = "seen_max",
	    .type        = XZ_OPT_INT,
	    .def         = "100000",
	    .description = "recent durable message ids kept to drop "
	                   "redeliveries",
	    .min         = 100,
	    .max         = 100000000 },
	{ .name          = "poll_ms",
	    .type        = XZ_OPT_INT,
	    .def         = "5",
	    .description = "period of the drain of NATS messages and acks",
	    .min         = 1,
	    .max         = 1000 },
	{ .name          = "reconnect_wait_ms",
	    .type        = XZ_OPT_INT,
	    .def         = "100",
	    .description = "first reconnect delay; doubles per attempt",
	    .min         = 10,
	    .max         = 60000 },
	{ .name          = "reconnect_wait_max_ms",
	    .type        = XZ_OPT_INT,
	    .def         = "5000",
	    .description = "longest reconnect delay",
	    .min         = 10,
	    .max         = 600000 },
	{ .name          = "reconnect_buffer_bytes",
	    .type        = XZ_OPT_INT,
	    .def         = "8388608",
	    .description = "core exports kept while disconnected; beyond, "
	                   "dropped and counted",
	    .min         = 0,
	    .max         = 1073741824 },
	{ .name          = "request_export",
	    .type        = XZ_OPT_STRING,
	    .def         = "",
	    .description = "bus request topic patterns answered over NATS "
	                   "request/reply" },
	{ .name          = "request_import",
	    .type        = XZ_OPT_STRING,
	    .def         = "",
	    .description = "NATS request subject patterns (after "
	                   "import_prefix) made bus requests" },
	{ .name          = "requests_max",
	    .type        = XZ_OPT_INT,
	    .def         = "1024",
	    .description = "bus requests waiting for a NATS reply at once; "
	                   "more get capacity_exceeded",
	    .min         = 1,
	    .max         = 1000000 },
	{ NULL },
};

/* Counters shown from the start (xiezhi status). */
static const char *const nb_counters[] = { "connected", "reconnects",
	"disconnects", "exported", "imported", "dropped", "echo_dropped",
	"requests_skipped", "js_published", "js_acked", "js_redelivered",
	"dup_dropped", "outbox", "outbox_refused", "js_errors",
	"requests_exported", "requests_imported", "replies_exported",
	"replies_imported", "request_errors" };

/* A bus request waiting for its NATS reply. */
struct nb_pend {
	natsSubscription *sub; /* owned: its own reply subject, so that a
	                          no-responders status names it */
	const xz_msg *req; /* retained; released when answered/expired */
	uint64_t      deadline_ms; /* kernel clock */
};

/* A NATS request carried onto the bus: where its reply goes. */
struct nb_ireq {
	struct nb *b;
	char      *reply; /* owned: the NATS reply subject */
};

/* One durable import: a push consumer and its subscription. */
struct nb_dsub {
	char              filter[NB_SUBJECT_MAX + 1];
	char              durable[64];
	natsSubscription *sub; /* owned; NULL until set up */
	int64_t           lost; /* libnats' dropped count, already counted */
};

struct nb {
	xz_plugin     *self;
	const xz_host *host;
	/* Options; strings owned by the kernel unless marked. */
	const char *url, *export_prefix, *import_prefix, *durable_prefix;
	const char *stream;
	char       *origin; /* owned */
	nb_list     exp, imp, dexp, dimp, rexp, rimp; /* owned */
	size_t      import_strip, durable_strip;
	int64_t max_age_s, replicas, max_ack, dedup_s, ack_wait_ms, outbox_max,
	    seen_max;
	int64_t poll_ms, rwait_ms, rwait_max_ms, rbuf, req_max;

	/* NATS objects, owned; NULL until start. */
	natsOptions       *opts;
	natsConnection    *nc;
	jsCtx             *js;
	natsSubscription **isubs; /* one per import pattern */
	int64_t           *isub_lost; /* their dropped counts, counted */
	natsSubscription **rsubs; /* one per request_import pattern */
	int64_t           *rsub_lost;
	char              *inbox; /* owned: "_INBOX.<nuid>" */
	struct nb_pend    *pend; /* owned: requests waiting, unordered */
	size_t             npend;
	uint64_t           req_seq;
	struct nb_dsub    *dsubs; /* one per durable_import pattern */
	int                core_ready, js_ready;
	int                lib_open; /* counted in nb_lib_users */
	uint64_t           js_retry_at; /* kernel ms of the next JS setup */

	/* Shared with libnats threads. */
	atomic_int      reconnected, disconnected;
	pthread_mutex_t mu; /* guards acked[], resend */
	int64_t        *acked; /* outbox seqs the stream acknowledged */
	size_t          nacked, capacked;
	int             resend; /* an async publish failed: send again */

	/* Actor state. */
	uint64_t      timer;
	int           shown_connected;
	int64_t       outbox_n, sent_upto, last_ack_ms;
	sqlite3      *db; /* owned by the kernel */
	sqlite3_stmt *ins_out, *sel_out, *del_out, *ins_seen, *has_seen,
	    *prune_seen;
	uint64_t  seen_inserts;
	int       in_tx; /* a store transaction is open until batch_end */
	natsMsg **held; /* owned: durable imports to ack after the commit */
	size_t    nheld, capheld;
	uint64_t  warn_at; /* kernel ms: rate limit of repeated warnings */
};

static void
count(struct nb *b, const char *name, int64_t d)
{
	b->host->counter_add(b->self, name, d);
}

/* A warning at most once a second (a dead server must not flood logs). */
static int
warn_ok(struct nb *b)
{
	uint64_t now = b->host->now_ms(b->self);

	if (now < b->warn_at)
		return 0;
	b->warn_at = now + 1000;
	return 1;
}

/* ---- libnats threads: no host calls here ---- */

static void
on_disconnected(natsConnection *nc, void *ud)
{
	(void) nc;
	atomic_fetch_add(&((struct nb *) ud)->disconnected, 1);
}

static void
on_reconnected(natsConnection *nc, void *ud)
{
	(void) nc;
	atomic_fetch_add(&((struct nb *) ud)->reconnected, 1);
}

static void
on_connected(natsConnection *nc, void *ud)
{
	(void) nc;
	(void) ud; /* the tick reads natsConnection_Status */
}

/* Exponential backoff: rwait_ms, doubled per attempt, at most
 * rwait_max_ms. */
static int64_t
on_reconnect_delay(natsConnection *nc, int attempts, void *ud)
{
	struct nb *b = ud;
	int64_t    d = b->rwait_ms;

	(void) nc;
	for (int i = 1; i < attempts && d < b->rwait_max_ms; i++)
		d *= 2;
	return d < b->rwait_max_ms ? d : b->rwait_max_ms;
}

static void
on_pub_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *ud)
{
	struct nb  *b   = ud;
	const char *seq = NULL;

	(void) js;
	(void) pae;
	pthread_mutex_lock(&b->mu);
	if (pa != NULL && natsMsgHeader_Get(msg, "Xz-Seq", &seq) == NATS_OK) {
		if (b->nacked == b->capacked) {
			size_t   nc = b->capacked ? 2 * b->capacked : 256;
			int64_t *na = realloc(b->acked, nc * sizeof(*na));
			if (na != NULL) {
				b->acked    = na;
				b->capacked = nc;
			}
		}
		if (b->nacked < b->capacked)
			b->acked[b->nacked++] = strtoll(seq, NULL, 10);
		else
			b->resend = 1; /* acked again on the resend */
	} else {
		b->resend = 1;
	}
	pthread_mutex_unlock(&b->mu);
	natsMsg_Destroy(msg);
}

/* ---- the store ---- */

static const char nb_schema[]
    = "CREATE TABLE IF NOT EXISTS outbox ("
      " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
      " msgid TEXT NOT NULL, subject TEXT NOT NULL, source TEXT NOT NULL,"
      " data BLOB NOT NULL);"
      "CREATE TABLE IF NOT EXISTS seen ("
      " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
      " msgid TEXT NOT NULL UNIQUE);";

static int
store_open(struct nb *b)
{
	struct {
		sqlite3_stmt **st;
		const char    *sql;
	} q[] = {
		{ &b->ins_out,
		    "INSERT INTO outbox(msgid,subject,source,data) "
		    "VALUES(?,?,?,?)" },
		{ &b->sel_out,
		    "SELECT seq,msgid,subject,source,data FROM outbox "
		    "WHERE seq>? ORDER BY seq LIMIT 256" },
		{ &b->del_out, "DELETE FROM outbox WHERE seq=?" },
		{ &b->ins_seen,
		    "INSERT OR IGNORE INTO seen(msgid) VALUES(?)" },
		{ &b->has_seen, "SELECT 1 FROM seen WHERE msgid=?" },
		{ &b->prune_seen,
		    "DELETE FROM seen WHERE seq <= "
		    "(SELECT max(seq) FROM seen) - ?" },
	};
	sqlite3_stmt *st;
	char         *err = NULL;

	if ((b->db = b->host->store(b->self)) == NULL)
		return -1;
	if (sqlite3_exec(b->db, nb_schema, NULL, NULL, &err) != SQLITE_OK) {
		b->host->log(b->self, XZ_LOG_ERROR, NT("store schema: %s"),
		    err ? err : "?");
		sqlite3_free(err);
		return -1;
	}
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		if (sqlite3_prepare_v2(b->db, q[i].sql, -1, q[i].st, NULL)
		    != SQLITE_OK) {
			b->host->log(b->self, XZ_LOG_ERROR, NT("store: %s"),
			    sqlite3_errmsg(b->db));
			return -1;
		}
	if (sqlite3_prepare_v2(
	        b->db, "SELECT count(*) FROM outbox", -1, &st, NULL)
	        == SQLITE_OK
	    && sqlite3_step(st) == SQLITE_ROW)
		b->outbox_n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* Open the batch's store transaction (committed in batch_end: one
 * commit per batch of messages, not per message). */
static void
tx_begin(struct nb *b)
{
	if (!b->in_tx && b->db != NULL
	    && sqlite3_exec(b->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK)
		b->in_tx = 1;
}

static void
store_close(struct nb *b)
{
	sqlite3_finalize(b->ins_out);
	sqlite3_finalize(b->sel_out);
	sqlite3_finalize(b->del_out);
	sqlite3_finalize(b->ins_seen);
	sqlite3_finalize(b->has_seen);
	sqlite3_finalize(b->prune_seen);
}

/* ---- bus -> NATS ---- */

/* Is msg one this instance put on the bus itself? Never send it back. */
static int
is_own(struct nb *b, const xz_msg *msg)
{
	return msg->source != NULL
	    && strcmp(msg->source, b->host->name(b->self)) == 0;
}

static void
on_export(void *ud, const xz_msg *msg)
{
	struct nb *b = ud;
	char       subj[NB_SUBJECT_MAX + 1], id[33];
	natsMsg   *m = NULL;
	natsStatus s;

	if (msg->kind != XZ_KIND_EVENT) {
		count(b, "requests_skipped", 1);
		return;
	}
	if (is_own(b, msg)) {
		count(b, "echo_dropped", 1);
		return;
	}
	nb_hex16(msg->id, id);
	if (nb_join(subj, sizeof(subj), b->export_prefix, msg->topic) != 0
	    || b->nc == NULL) {
		count(b, "dropped", 1);
		return;
	}
	s = natsMsg_Create(&m, subj, NULL, msg->data, (int) msg->len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Xz-Origin", b->origin);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Xz-Id", id);
	if (s == NATS_OK)
		s = natsConnection_PublishMsg(b->nc, m);
	/* Before the first connection libnats does not know whether the
	 * server takes headers: buffer it without them (no-echo and the
	 * source check still keep it from looping). */
	if (s == NATS_NO_SERVER_SUPPORT)
		s = natsConnection_Publish(
		    b->nc, subj, msg->data, (int) msg->len);
	natsMsg_Destroy(m);
	if (s != NATS_OK) {
		count(b, "dropped", 1);
		if (warn_ok(b))
			b->host->log(b->self, XZ_LOG_WARN,
			    NT("export %s: not sent to NATS: %s (counted in "
			       "dropped)"),
			    msg->topic, natsStatus_GetText(s));
		return;
	}
	count(b, "exported", 1);
}

static void
on_durable_export(void *ud, const xz_msg *msg)
{
	struct nb *b = ud;
	char       subj[NB_SUBJECT_MAX + 1], pre[NB_SUBJECT_MAX + 1], id[33];
	int        rc;

	if (msg->kind != XZ_KIND_EVENT) {
		count(b, "requests_skipped", 1);
		return;
	}
	if (is_own(b, msg)) {
		count(b, "echo_dropped", 1);
		return;
	}
	if (nb_join(pre, sizeof(pre), b->durable_prefix, b->export_prefix) != 0
	    || nb_join(subj, sizeof(subj), pre, msg->topic) != 0) {
		count(b, "outbox_refused", 1);
		b->host->log(b->self, XZ_LOG_ERROR,
		    NT("durable export %s: subject over %d bytes: refused"),
		    msg->topic, NB_SUBJECT_MAX);
		return;
	}
	if (b->outbox_n >= b->outbox_max) {
		count(b, "outbox_refused", 1);
		if (warn_ok(b))
			b->host->log(b->self, XZ_LOG_ERROR,
			    NT("durable export %s: outbox full (%lld events "
			       "waiting for JetStream): refused, counted in "
			       "outbox_refused"),
			    msg->topic, (long long) b->outbox_n);
		return;
	}
	nb_hex16(msg->id, id);
	tx_begin(b);
	sqlite3_bind_text(b->ins_out, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(b->ins_out, 2, subj, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(b->ins_out, 3, msg->source ? msg->source : "", -1,
	    SQLITE_TRANSIENT);
	sqlite3_bind_blob(
	    b->ins_out, 4, msg->data, (int) msg->len, SQLITE_TRANSIENT);
	rc = sqlite3_step(b->ins_out);
	sqlite3_reset(b->ins_out);
	sqlite3_clear_bindings(b->ins_out);
	if (rc != SQLITE_DONE) {
		count(b, "outbox_refused", 1);
		b->host->log(b->self, XZ_LOG_ERROR,
		    NT("durable export %s: outbox: %s: refused"), msg->topic,
		    sqlite3_errmsg(b->db));
		return;
	}
	b->outbox_n++;
	count(b, "outbox", 1);
}

/* Send outbox rows not sent yet (asynchronous JetStream publishes). */
static void
outbox_send(struct nb *b)
{
	jsPubOptions po;
	int          n = 0;

	jsPubOptions_Init(&po);
	po.MaxWait = 5000;
	sqlite3_bind_int64(b->sel_out, 1, b->sent_upto);
	while (sqlite3_step(b->sel_out) == SQLITE_ROW) {
		int64_t     seq = sqlite3_column_int64(b->sel_out, 0);
		const char *mid
		    = (const char *) sqlite3_column_text(b->sel_out, 1);
		const char *subj
		    = (const char *) sqlite3_column_text(b->sel_out, 2);
		const void *data = sqlite3_column_blob(b->sel_out, 4);
		int         len  = sqlite3_column_bytes(b->sel_out, 4);
		char        sq[24];
		natsMsg    *m = NULL;
		natsStatus  s;

		snprintf(sq, sizeof(sq), "%lld", (long long) seq);
		s = natsMsg_Create(&m, subj, NULL, data, len);
		if (s == NATS_OK)
			s = natsMsgHeader_Set(m, "Nats-Msg-Id", mid);
		if (s == NATS_OK)
			s = natsMsgHeader_Set(m, "Xz-Origin", b->origin);
		if (s == NATS_OK)
			s = natsMsgHeader_Set(m, "Xz-Seq", sq);
		if (s == NATS_OK)
			s = js_PublishMsgAsync(b->js, &m, &po);
		natsMsg_Destroy(m); /* NULL when libnats took it */
		if (s != NATS_OK)
			break; /* too many in flight, or disconnected */
		b->sent_upto = seq;
		n++;
	}
	sqlite3_reset(b->sel_out);
	(void) n;
}

/* Forget the outbox rows the stream acknowledged; resend after a failure.
 */
static void
outbox_acks(struct nb *b)
{
	int64_t *acked;
	size_t   n;
	int      resend;
	int64_t  gone = 0;

	pthread_mutex_lock(&b->mu);
	acked     = b->acked;
	n         = b->nacked;
	resend    = b->resend;
	b->acked  = NULL;
	b->nacked = b->capacked = 0;
	b->resend               = 0;
	pthread_mutex_unlock(&b->mu);
	if (n > 0) {
		tx_begin(b);
		for (size_t i = 0; i < n; i++) {
			sqlite3_bind_int64(b->del_out, 1, acked[i]);
			if (sqlite3_step(b->del_out) == SQLITE_DONE)
				gone += sqlite3_changes(b->db);
			sqlite3_reset(b->del_out);
		}
		b->last_ack_ms = (int64_t) b->host->now_ms(b->self);
	}
	free(acked);
	if (gone > 0) {
		b->outbox_n -= gone;
		count(b, "outbox", -gone);
		count(b, "js_published", gone);
	}
	/* A failed publish, or rows sent long ago still not acknowledged
	 * (their acks lost with a connection): send every row again from
	 * the first; the stream drops the copies it has (Nats-Msg-Id). */
	if (resend
	    || (b->outbox_n > 0 && b->sent_upto > 0
	        && (int64_t) b->host->now_ms(b->self) - b->last_ack_ms
	            > 10000)) {
		b->sent_upto   = 0;
		b->last_ack_ms = (int64_t) b->host->now_ms(b->self);
	}
}

/* ---- NATS -> bus ---- */

/* The origin header of m, or "". */
static const char *
origin_of(natsMsg *m)
{
	const char *o = NULL;

	return natsMsgHeader_Get(m, "Xz-Origin", &o) == NATS_OK && o ? o : "";
}

/* Publish one core NATS message on the bus. */
static void
import_core(struct nb *b, natsMsg *m)
{
	const char *subj  = natsMsg_GetSubject(m);
	const char *topic = nb_strip(subj, b->import_strip);
	int         rc    = XZ_OK;

	if (strcmp(origin_of(m), b->origin) == 0) {
		count(b, "echo_dropped", 1);
		return;
	}
	if (natsMsg_GetReply(m) != NULL && natsMsg_GetReply(m)[0] != '\0')
		count(b, "requests_skipped", 1); /* carried as an event */
	if (topic == NULL
	    || (rc = b->host->publish(b->self, topic, natsMsg_GetData(m),
	            (size_t) natsMsg_GetDataLength(m)))
	        != XZ_OK) {
		count(b, "dropped", 1);
		if (warn_ok(b))
			b->host->log(b->self, XZ_LOG_WARN,
			    NT("import %s: not published on the bus: %s "
			       "(counted in dropped)"),
			    subj,
			    topic ? b->host->strerror(rc) : "no topic left");
		return;
	}
	count(b, "imported", 1);
}

static int
seen(struct nb *b, const char *id)
{
	int r;

	sqlite3_bind_text(b->has_seen, 1, id, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(b->has_seen) == SQLITE_ROW;
	sqlite3_reset(b->has_seen);
	return r;
}

static void
remember(struct nb *b, const char *id)
{
	tx_begin(b);
	sqlite3_bind_text(b->ins_seen, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_step(b->ins_seen);
	sqlite3_reset(b->ins_seen);
	if (++b->seen_inserts % 1024 == 0) {
		sqlite3_bind_int64(b->prune_seen, 1, b->seen_max);
		sqlite3_step(b->prune_seen);
		sqlite3_reset(b->prune_seen);
	}
}

/* Keep m to acknowledge it once the batch's transaction (its id in
 * `seen`) is committed. 0, or -1 when it could not be kept. */
static int
hold(struct nb *b, natsMsg *m)
{
	if (b->nheld == b->capheld) {
		size_t    nc = b->capheld ? 2 * b->capheld : 64;
		natsMsg **nh = realloc(b->held, nc * sizeof(*nh));
		if (nh == NULL)
			return -1;
		b->held    = nh;
		b->capheld = nc;
	}
	b->held[b->nheld++] = m;
	return 0;
}

/* Publish one JetStream message on the bus; acknowledge it, now or after
 * the commit. Returns 0 (done: the caller destroys m), 1 (m is held for
 * the ack after the commit) or -1 (the bus pushed back: the message is
 * redelivered later; the caller destroys m). */
static int
import_durable(struct nb *b, natsMsg *m)
{
	const char    *subj  = natsMsg_GetSubject(m);
	const char    *topic = nb_strip(subj, b->durable_strip);
	const char    *id    = NULL;
	jsMsgMetaData *meta  = NULL;
	int            rc;

	if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
		if (meta->NumDelivered > 1)
			count(b, "js_redelivered", 1);
		jsMsgMetaData_Destroy(meta);
	}
	if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK)
		id = NULL;
	if (strcmp(origin_of(m), b->origin) == 0) {
		count(b, "echo_dropped", 1);
		natsMsg_Ack(m, NULL);
		return 0;
	}
	if (id != NULL && seen(b, id)) {
		count(b, "dup_dropped", 1);
		natsMsg_Ack(m, NULL);
		return 0;
	}
	if (topic == NULL) {
		count(b, "dropped", 1);
		natsMsg_Ack(m, NULL); /* it can never be delivered */
		return 0;
	}
	rc = b->host->publish(b->self, topic, natsMsg_GetData(m),
	    (size_t) natsMsg_GetDataLength(m));
	if (rc == XZ_ETIMEDOUT || rc == XZ_EFULL || rc == XZ_ECLOSED) {
		natsMsg_NakWithDelay(m, 1000, NULL);
		return -1;
	}
	if (rc != XZ_OK) {
		count(b, "dropped", 1);
		b->host->log(b->self, XZ_LOG_WARN,
		    NT("durable import %s: refused by the bus: %s "
		       "(acknowledged, "
		       "counted in dropped)"),
		    subj, b->host->strerror(rc));
		natsMsg_Ack(m, NULL);
		return 0;
	}
	count(b, "imported", 1);
	if (id != NULL)
		remember(b, id);
	if (b->in_tx && hold(b, m) == 0)
		return 1;
	if (natsMsg_Ack(m, NULL) == NATS_OK)
		count(b, "js_acked", 1);
	return 0;
}

/* Take up to NB_DRAIN_MAX messages queued by libnats on sub. */
enum { NB_CORE, NB_DURABLE, NB_REQUEST };

static void import_request(struct nb *b, natsMsg *m);

static void
drain(struct nb *b, natsSubscription *sub, int kind, int64_t *lost)
{
	int64_t dropped = 0;

	for (int i = 0; i < NB_DRAIN_MAX; i++) {
		int      msgs = 0, bytes = 0;
		natsMsg *m = NULL;

		if (natsSubscription_GetPending(sub, &msgs, &bytes) != NATS_OK
		    || msgs <= 0)
			break;
		if (natsSubscription_NextMsg(&m, sub, 1) != NATS_OK)
			break;
		if (kind == NB_DURABLE) {
			int rc = import_durable(b, m);
			if (rc != 1)
				natsMsg_Destroy(m);
			if (rc < 0)
				break;
			continue;
		}
		if (kind == NB_REQUEST)
			import_request(b, m);
		else
			import_core(b, m);
		natsMsg_Destroy(m);
	}
	/* Messages libnats dropped because we were too slow. */
	if (natsSubscription_GetDropped(sub, &dropped) == NATS_OK
	    && dropped > *lost) {
		count(b, "dropped", dropped - *lost);
		*lost = dropped;
	}
}

/* ---- requests across the bridge ---- */

/* Answer a waiting bus request from its NATS reply. Error replies carry
 * Xz-Error: 1 and an {"error":{...}} payload. */
static void
answer(struct nb *b, const xz_msg *req, natsMsg *m)
{
	const char *flag = NULL;
	const char *data = natsMsg_GetData(m);
	int         len  = natsMsg_GetDataLength(m);

	if (natsMsgHeader_Get(m, "Xz-Error", &flag) == NATS_OK && flag
	    && strcmp(flag, "1") == 0) {
		json_t *j
		    = json_loadb(data ? data : "", (size_t) len, 0, NULL);
		json_t     *e = json_object_get(j, "error");
		const char *c = json_string_value(json_object_get(e, "code"));
		const char *t
		    = json_string_value(json_object_get(e, "message"));
		b->host->reply_error(b->self, req, c ? c : XZ_REPLY_INTERNAL,
		    t ? t : "error over NATS");
		json_decref(j);
		return;
	}
	b->host->reply(b->self, req, data ? data : "", (size_t) len);
}

static void
on_request_export(void *ud, const xz_msg *msg)
{
	struct nb *b = ud;
	char       subj[NB_SUBJECT_MAX + 1], reply[NB_SUBJECT_MAX + 1], t[24];
	uint64_t   now        = b->host->now_ms(b->self), deadline;
	natsMsg   *m          = NULL;
	natsSubscription *sub = NULL;
	natsStatus        s;

	if (msg->kind != XZ_KIND_REQUEST || is_own(b, msg))
		return; /* events are not ours here; never loop our own */
	deadline = msg->deadline_us / 1000;
	if (deadline <= now)
		return; /* the kernel answers timeout */
	if (b->nc == NULL
	    || natsConnection_Status(b->nc) != NATS_CONN_STATUS_CONNECTED) {
		count(b, "request_errors", 1);
		b->host->reply_error(b->self, msg, XZ_REPLY_UNAVAILABLE,
		    "the NATS bridge is not connected");
		return;
	}
	if ((int64_t) b->npend >= b->req_max) {
		count(b, "request_errors", 1);
		b->host->reply_error(b->self, msg, XZ_REPLY_CAPACITY_EXCEEDED,
		    "too many requests waiting for NATS (option "
		    "requests_max)");
		return;
	}
	if (nb_join(subj, sizeof(subj), b->export_prefix, msg->topic) != 0) {
		b->host->reply_error(b->self, msg, XZ_REPLY_TOO_LARGE,
		    "topic too long for NATS with export_prefix");
		return;
	}
	b->req_seq++;
	snprintf(reply, sizeof(reply), "%s.%llu", b->inbox,
	    (unsigned long long) b->req_seq);
	snprintf(t, sizeof(t), "%llu", (unsigned long long) (deadline - now));
	s = natsConnection_SubscribeSync(&sub, b->nc, reply);
	if (s == NATS_OK)
		s = natsSubscription_AutoUnsubscribe(sub, 1);
	if (s == NATS_OK)
		s = natsMsg_Create(&m, subj, reply, msg->data, (int) msg->len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Xz-Origin", b->origin);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Xz-Timeout-Ms", t);
	if (s == NATS_OK)
		s = natsConnection_PublishMsg(b->nc, m);
	natsMsg_Destroy(m);
	if (s != NATS_OK) {
		natsSubscription_Destroy(sub);
		count(b, "request_errors", 1);
		b->host->reply_error(
		    b->self, msg, XZ_REPLY_UNAVAILABLE, natsStatus_GetText(s));
		return;
	}
	b->pend[b->npend].sub         = sub;
	b->pend[b->npend].req         = b->host->msg_retain(b->self, msg);
	b->pend[b->npend].deadline_ms = deadline;
	b->npend++;
	count(b, "requests_exported", 1);
}

/* Answer the waiting requests whose NATS reply (or no-responders
 * status) has arrived. */
static void
pend_poll(struct nb *b)
{
	for (size_t i = 0; i < b->npend;) {
		struct nb_pend *p    = &b->pend[i];
		int             msgs = 0, bytes = 0;
		natsMsg        *m = NULL;
		natsStatus      s;

		if (natsSubscription_GetPending(p->sub, &msgs, &bytes)
		        != NATS_OK
		    || msgs <= 0) {
			i++;
			continue;
		}
		s = natsSubscription_NextMsg(&m, p->sub, 1);
		if (s == NATS_OK) {
			answer(b, p->req, m);
			count(b, "replies_imported", 1);
		} else if (s == NATS_NO_RESPONDERS) {
			b->host->reply_error(b->self, p->req,
			    XZ_REPLY_NO_RESPONDERS,
			    "no responder behind the NATS bridge");
			count(b, "request_errors", 1);
		} else {
			i++;
			continue;
		}
		natsMsg_Destroy(m);
		natsSubscription_Destroy(p->sub);
		b->host->msg_release(b->self, p->req);
		*p = b->pend[--b->npend];
	}
}

/* Release the requests whose deadline passed (the kernel has answered
 * them with timeout), or all of them (all != 0). */
static void
pend_expire(struct nb *b, int all)
{
	uint64_t now = b->host->now_ms(b->self);

	for (size_t i = 0; i < b->npend;) {
		if (all || b->pend[i].deadline_ms <= now) {
			if (all)
				b->host->reply_error(b->self, b->pend[i].req,
				    XZ_REPLY_UNAVAILABLE,
				    "the NATS bridge is stopping");
			b->host->msg_release(b->self, b->pend[i].req);
			natsSubscription_Destroy(b->pend[i].sub);
			b->pend[i] = b->pend[--b->npend];
		} else {
			i++;
		}
	}
}

/* The bus reply to a NATS request goes to its reply subject. */
static void
on_bus_reply(void *ud, int status, const xz_msg *reply)
{
	struct nb_ireq *q = ud;
	struct nb      *b = q->b;
	natsMsg        *m = NULL;
	natsStatus      s;

	(void) status;
	s = natsMsg_Create(&m, q->reply, NULL, reply->data, (int) reply->len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Xz-Origin", b->origin);
	if (s == NATS_OK && (reply->flags & XZ_MSG_ERROR))
		s = natsMsgHeader_Set(m, "Xz-Error", "1");
	if (s == NATS_OK)
		s = natsConnection_PublishMsg(b->nc, m);
	natsMsg_Destroy(m);
	count(b, s == NATS_OK ? "replies_exported" : "request_errors", 1);
	free(q->reply);
	free(q);
}

/* Send an error reply to a NATS request we could not carry. */
static void
nats_reply_error(
    struct nb *b, const char *to, const char *code, const char *text)
{
	json_t *j = json_pack(
	    "{s:{s:s,s:s}}", "error", "code", code, "message", text);
	char    *d = j ? json_dumps(j, JSON_COMPACT) : NULL;
	natsMsg *m = NULL;

	json_decref(j);
	if (d != NULL
	    && natsMsg_Create(&m, to, NULL, d, (int) strlen(d)) == NATS_OK
	    && natsMsgHeader_Set(m, "Xz-Error", "1") == NATS_OK)
		natsConnection_PublishMsg(b->nc, m);
	natsMsg_Destroy(m);
	free(d);
	count(b, "request_errors", 1);
}

/* A NATS request on a request_import subject: a bus request. */
static void
import_request(struct nb *b, natsMsg *m)
{
	const char     *subj  = natsMsg_GetSubject(m);
	const char     *to    = natsMsg_GetReply(m);
	const char     *topic = nb_strip(subj, b->import_strip);
	const char     *t     = NULL;
	uint32_t        tmo   = 0;
	struct nb_ireq *q;
	int             rc;

	if (strcmp(origin_of(m), b->origin) == 0) {
		count(b, "echo_dropped", 1);
		return;
	}
	if (to == NULL || to[0] == '\0') {
		count(b, "dropped", 1); /* not a request: nobody to answer */
		return;
	}
	if (natsMsgHeader_Get(m, "Xz-Timeout-Ms", &t) == NATS_OK && t) {
		unsigned long long v = strtoull(t, NULL, 10);
		tmo                  = v > 3600000 ? 3600000 : (uint32_t) v;
		if (tmo == 0)
			tmo = 1;
	}
	if (topic == NULL || (q = calloc(1, sizeof(*q))) == NULL) {
		nats_reply_error(b, to, XZ_REPLY_BAD_REQUEST,
		    "no bus topic in the subject");
		return;
	}
	q->b = b;
	if ((q->reply = strdup(to)) == NULL) {
		free(q);
		nats_reply_error(b, to, XZ_REPLY_INTERNAL, "out of memory");
		return;
	}
	rc = b->host->request(b->self, topic, natsMsg_GetData(m),
	    (size_t) natsMsg_GetDataLength(m), tmo, on_bus_reply, q);
	if (rc != XZ_OK) {
		free(q->reply);
		free(q);
		nats_reply_error(b, to,
		    rc == XZ_ENORESPONDERS ? XZ_REPLY_NO_RESPONDERS
		                           : XZ_REPLY_UNAVAILABLE,
		    b->host->strerror(rc));
		return;
	}
	count(b, "requests_imported", 1);
}

/* ---- setup once connected ---- */

static int
core_setup(struct nb *b)
{
	char subj[NB_SUBJECT_MAX + 1];

	for (size_t i = 0; i < b->imp.n; i++) {
		natsStatus s;

		if (b->isubs[i] != NULL)
			continue;
		nb_join(subj, sizeof(subj), b->import_prefix, b->imp.v[i]);
		s = natsConnection_SubscribeSync(&b->isubs[i], b->nc, subj);
		if (s != NATS_OK) {
			b->isubs[i] = NULL;
			b->host->log(b->self, XZ_LOG_ERROR,
			    NT("import %s: cannot subscribe: %s"), subj,
			    natsStatus_GetText(s));
			return -1;
		}
		natsSubscription_SetPendingLimits(
		    b->isubs[i], 1 << 20, 1 << 30);
	}
	for (size_t i = 0; i < b->rimp.n; i++) {
		natsStatus s;

		if (b->rsubs[i] != NULL)
			continue;
		nb_join(subj, sizeof(subj), b->import_prefix, b->rimp.v[i]);
		s = natsConnection_SubscribeSync(&b->rsubs[i], b->nc, subj);
		if (s != NATS_OK) {
			b->rsubs[i] = NULL;
			b->host->log(b->self, XZ_LOG_ERROR,
			    NT("request_import %s: cannot subscribe: %s"),
			    subj, natsStatus_GetText(s));
			return -1;
		}
	}
	return 0;
}

/* Make sure the stream exists, with file storage and our subjects. */
static int
stream_setup(struct nb *b)
{
	char           all[NB_SUBJECT_MAX + 1];
	const char    *subs[1] = { all };
	jsStreamInfo  *si      = NULL;
	jsErrCode      jerr    = 0;
	natsStatus     s;
	jsStreamConfig sc;

	nb_join(all, sizeof(all), b->durable_prefix, ">");
	s = js_GetStreamInfo(&si, b->js, b->stream, NULL, &jerr);
	if (s == NATS_OK) {
		int ok = 0;
		if (si->Config->Storage != js_FileStorage) {
			b->host->log(b->self, XZ_LOG_ERROR,
			    NT("stream %s exists with memory storage: durable "
			       "topics need file storage (delete the stream "
			       "or "
			       "name another with option stream)"),
			    b->stream);
			jsStreamInfo_Destroy(si);
			return -2;
		}
		for (int i = 0; i < si->Config->SubjectsLen; i++)
			ok |= nb_covers(si->Config->Subjects[i], all);
		jsStreamInfo_Destroy(si);
		if (!ok) {
			b->host->log(b->self, XZ_LOG_ERROR,
			    NT("stream %s exists but does not capture %s "
			       "(option durable_prefix): fix the stream or "
			       "the "
			       "option"),
			    b->stream, all);
			return -2;
		}
		return 0;
	}
	if (jerr != JSStreamNotFoundErr && s != NATS_NOT_FOUND) {
		b->host->log(b->self, XZ_LOG_WARN,
		    NT("stream %s: cannot read it: %s (jetstream error %d); "
		       "retrying"),
		    b->stream, natsStatus_GetText(s), (int) jerr);
		return -1;
	}
	jsStreamConfig_Init(&sc);
	sc.Name        = b->stream;
	sc.Subjects    = subs;
	sc.SubjectsLen = 1;
	sc.Storage     = js_FileStorage;
	sc.Retention   = js_LimitsPolicy;
	sc.MaxAge      = b->max_age_s * 1000 * NB_NS_PER_MS;
	sc.Duplicates  = b->dedup_s * 1000 * NB_NS_PER_MS;
	sc.Replicas    = b->replicas;
	s              = js_AddStream(&si, b->js, &sc, NULL, &jerr);
	if (s != NATS_OK) {
		b->host->log(b->self, XZ_LOG_WARN,
		    NT("stream %s: cannot create it on %s: %s (jetstream "
		       "error "
		       "%d); retrying"),
		    b->stream, all, natsStatus_GetText(s), (int) jerr);
		return -1;
	}
	jsStreamInfo_Destroy(si);
	b->host->log(b->self, XZ_LOG_INFO,
	    NT("stream %s created: subjects %s, file storage, duplicate "
	       "window "
	       "%lld s"),
	    b->stream, all, (long long) b->dedup_s);
	return 0;
}

static int
js_setup(struct nb *b)
{
	int rc;

	if (b->js == NULL) {
		jsOptions jo;
		jsOptions_Init(&jo);
		jo.Wait                           = 2000;
		jo.PublishAsync.MaxPending        = 1024;
		jo.PublishAsync.StallWait         = 1;
		jo.PublishAsync.AckHandler        = on_pub_ack;
		jo.PublishAsync.AckHandlerClosure = b;
		natsStatus s = natsConnection_JetStream(&b->js, b->nc, &jo);
		if (s != NATS_OK) {
			b->host->log(b->self, XZ_LOG_ERROR,
			    NT("jetstream: %s"), natsStatus_GetText(s));
			return -1;
		}
	}
	if ((rc = stream_setup(b)) != 0)
		return rc;
	for (size_t i = 0; i < b->dimp.n; i++) {
		struct nb_dsub *d    = &b->dsubs[i];
		jsErrCode       jerr = 0;
		jsSubOptions    so;
		natsStatus      s;

		if (d->sub != NULL)
			continue;
		jsSubOptions_Init(&so);
		so.Stream               = b->stream;
		so.ManualAck            = true;
		so.Config.Durable       = d->durable;
		so.Config.AckPolicy     = js_AckExplicit;
		so.Config.DeliverPolicy = js_DeliverAll;
		so.Config.AckWait       = b->ack_wait_ms * NB_NS_PER_MS;
		so.Config.MaxAckPending = b->max_ack;
		s                       = js_SubscribeSync(
		                          &d->sub, b->js, d->filter, NULL, &so, &jerr);
		if (s != NATS_OK) {
			d->sub = NULL;
			b->host->log(b->self, XZ_LOG_WARN,
			    NT("durable import %s (consumer %s): %s "
			       "(jetstream "
			       "error %d); retrying"),
			    d->filter, d->durable, natsStatus_GetText(s),
			    (int) jerr);
			return -1;
		}
		natsSubscription_SetPendingLimits(d->sub, 1 << 20, 1 << 30);
		b->host->log(b->self, XZ_LOG_INFO,
		    NT("durable import %s from stream %s (consumer %s)"),
		    d->filter, b->stream, d->durable);
	}
	return 0;
}

/* ---- the tick ---- */

static void
tick(void *ud, uint64_t id)
{
	struct nb *b = ud;
	int        conn, n;
	uint64_t   now = b->host->now_ms(b->self);

	(void) id;
	if ((n = atomic_exchange(&b->disconnected, 0)) > 0)
		count(b, "disconnects", n);
	if ((n = atomic_exchange(&b->reconnected, 0)) > 0) {
		count(b, "reconnects", n);
		b->host->log(b->self, XZ_LOG_INFO,
		    NT("reconnected to NATS (%s)"), b->url);
		pthread_mutex_lock(&b->mu);
		b->resend = 1; /* acks in flight were lost with the link */
		pthread_mutex_unlock(&b->mu);
	}
	conn = natsConnection_Status(b->nc) == NATS_CONN_STATUS_CONNECTED;
	if (conn != b->shown_connected) {
		count(b, "connected", conn - b->shown_connected);
		b->shown_connected = conn;
		if (!conn && warn_ok(b))
			b->host->log(b->self, XZ_LOG_WARN,
			    NT("NATS %s unreachable; retrying with backoff"),
			    b->url);
	}
	if (conn && !b->core_ready)
		b->core_ready = core_setup(b) == 0;
	if (conn && b->js_ready == 0 && (b->dexp.n + b->dimp.n) > 0
	    && now >= b->js_retry_at) {
		int rc = js_setup(b);
		if (rc == 0)
			b->js_ready = 1;
		else {
			count(b, "js_errors", 1);
			b->js_retry_at = now + (rc == -2 ? 30000 : 1000);
		}
	}
	for (size_t i = 0; b->core_ready && i < b->imp.n; i++)
		drain(b, b->isubs[i], NB_CORE, &b->isub_lost[i]);
	for (size_t i = 0; b->core_ready && i < b->rimp.n; i++)
		drain(b, b->rsubs[i], NB_REQUEST, &b->rsub_lost[i]);
	if (b->npend > 0) {
		pend_poll(b);
		pend_expire(b, 0);
	}
	for (size_t i = 0; i < b->dimp.n; i++)
		if (b->dsubs[i].sub != NULL)
			drain(
			    b, b->dsubs[i].sub, NB_DURABLE, &b->dsubs[i].lost);
	if (b->js != NULL) {
		outbox_acks(b);
		if (conn && b->js_ready && b->outbox_n > 0)
			outbox_send(b);
	}
}

/* ---- lifecycle ---- */

static int
read_list(struct nb *b, const char *opt, int wild, nb_list *out)
{
	char err[256];

	if (nb_list_parse(
	        b->host->opt_string(b->self, opt), wild, out, err, sizeof(err))
	    != 0) {
		b->host->log(
		    b->self, XZ_LOG_ERROR, NT("option %s: %s"), opt, err);
		return -1;
	}
	return 0;
}

static int
check_prefix(struct nb *b, const char *opt, const char *val, int wild)
{
	char err[256];

	if (val == NULL || nb_prefix_check(val, wild, err, sizeof(err)) != 0) {
		b->host->log(b->self, XZ_LOG_ERROR, NT("option %s: %s"), opt,
		    val ? err : NT("missing"));
		return -1;
	}
	return 0;
}

static void
nb_free(struct nb *b)
{
	nb_list_free(&b->exp);
	nb_list_free(&b->imp);
	nb_list_free(&b->dexp);
	nb_list_free(&b->dimp);
	nb_list_free(&b->rexp);
	nb_list_free(&b->rimp);
	free(b->rsubs);
	free(b->rsub_lost);
	free(b->inbox);
	free(b->pend);
	free(b->held);
	free(b->isubs);
	free(b->isub_lost);
	free(b->dsubs);
	free(b->origin);
	free(b->acked);
	pthread_mutex_destroy(&b->mu);
	free(b);
}

static int
nb_init(xz_plugin *self, const xz_host *host, void **state)
{
	struct nb  *b = calloc(1, sizeof(*b));
	const char *origin;
	char        host_name[128], pre[NB_SUBJECT_MAX + 1];
	struct {
		const char *name;
		int64_t    *out;
	} ints[] = {
		{ "stream_max_age_s", NULL },
		{ "dedup_window_s", NULL },
		{ "ack_wait_ms", NULL },
		{ "outbox_max", NULL },
		{ "seen_max", NULL },
		{ "poll_ms", NULL },
		{ "reconnect_wait_ms", NULL },
		{ "reconnect_wait_max_ms", NULL },
		{ "reconnect_buffer_bytes", NULL },
		{ "requests_max", NULL },
		{ "stream_replicas", NULL },
		{ "max_ack_pending", NULL },
	};

	if (b == NULL)
		return XZ_ENOMEM;
	b->self = self;
	b->host = host;
	pthread_mutex_init(&b->mu, NULL);
	ints[0].out  = &b->max_age_s;
	ints[1].out  = &b->dedup_s;
	ints[2].out  = &b->ack_wait_ms;
	ints[3].out  = &b->outbox_max;
	ints[4].out  = &b->seen_max;
	ints[5].out  = &b->poll_ms;
	ints[6].out  = &b->rwait_ms;
	ints[7].out  = &b->rwait_max_ms;
	ints[8].out  = &b->rbuf;
	ints[9].out  = &b->req_max;
	ints[10].out = &b->replicas;
	ints[11].out = &b->max_ack;
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (host->opt_int(self, ints[i].name, ints[i].out) != XZ_OK) {
			nb_free(b);
			return XZ_EINTERNAL;
		}
	b->url            = host->opt_string(self, "url");
	b->export_prefix  = host->opt_string(self, "export_prefix");
	b->import_prefix  = host->opt_string(self, "import_prefix");
	b->durable_prefix = host->opt_string(self, "durable_prefix");
	b->stream         = host->opt_string(self, "stream");
	origin            = host->opt_string(self, "origin");
	if (b->url == NULL || b->stream == NULL || origin == NULL
	    || read_list(b, "export", 1, &b->exp) != 0
	    || read_list(b, "import", 1, &b->imp) != 0
	    || read_list(b, "durable_export", 1, &b->dexp) != 0
	    || read_list(b, "durable_import", 1, &b->dimp) != 0
	    || read_list(b, "request_export", 1, &b->rexp) != 0
	    || read_list(b, "request_import", 1, &b->rimp) != 0
	    || check_prefix(b, "export_prefix", b->export_prefix, 0) != 0
	    || check_prefix(b, "import_prefix", b->import_prefix, 1) != 0
	    || check_prefix(b, "durable_prefix", b->durable_prefix, 0) != 0) {
		nb_free(b);
		return XZ_EINVAL;
	}
	if ((b->dexp.n + b->dimp.n) > 0 && b->durable_prefix[0] == '\0') {
		host->log(self, XZ_LOG_ERROR, "%s",
		    NT("option durable_prefix: must not be empty with durable "
		       "topics (the stream captures durable_prefix + \">\")"));
		nb_free(b);
		return XZ_EINVAL;
	}
	if (b->stream[0] == '\0' || strpbrk(b->stream, ".*> \t") != NULL) {
		host->log(self, XZ_LOG_ERROR,
		    NT("option stream: '%s' is not a stream name (no '.', "
		       "'*', "
		       "'>' or spaces)"),
		    b->stream);
		nb_free(b);
		return XZ_EINVAL;
	}
	/* A core export the stream would capture too would arrive twice. */
	for (size_t i = 0; i < b->exp.n; i++) {
		char all[NB_SUBJECT_MAX + 1], subj[NB_SUBJECT_MAX + 1];
		nb_join(all, sizeof(all), b->durable_prefix, ">");
		if (b->durable_prefix[0] != '\0'
		    && nb_join(
		           subj, sizeof(subj), b->export_prefix, b->exp.v[i])
		        == 0
		    && (nb_covers(all, subj) || nb_covers(subj, all))) {
			host->log(self, XZ_LOG_ERROR,
			    NT("option export: '%s' would be published under "
			       "durable_prefix '%s': use durable_export for "
			       "it"),
			    b->exp.v[i], b->durable_prefix);
			nb_free(b);
			return XZ_EINVAL;
		}
	}
	if (origin[0] != '\0')
		b->origin = strdup(origin);
	else {
		if (gethostname(host_name, sizeof(host_name)) != 0)
			strcpy(host_name, "localhost");
		host_name[sizeof(host_name) - 1] = '\0';
		size_t len = strlen(host_name) + strlen(host->name(self)) + 2;
		if ((b->origin = malloc(len)) != NULL)
			snprintf(b->origin, len, "%s:%s", host_name,
			    host->name(self));
	}
	b->import_strip = nb_prefix_tokens(b->import_prefix);
	b->durable_strip
	    = nb_prefix_tokens(b->durable_prefix) + b->import_strip;
	b->isubs     = calloc(b->imp.n + 1, sizeof(*b->isubs));
	b->isub_lost = calloc(b->imp.n + 1, sizeof(*b->isub_lost));
	b->dsubs     = calloc(b->dimp.n + 1, sizeof(*b->dsubs));
	b->rsubs     = calloc(b->rimp.n + 1, sizeof(*b->rsubs));
	b->rsub_lost = calloc(b->rimp.n + 1, sizeof(*b->rsub_lost));
	b->pend      = calloc((size_t) b->req_max, sizeof(*b->pend));
	if (b->origin == NULL || b->isubs == NULL || b->isub_lost == NULL
	    || b->dsubs == NULL || b->rsubs == NULL || b->rsub_lost == NULL
	    || b->pend == NULL) {
		nb_free(b);
		return XZ_ENOMEM;
	}
	for (size_t i = 0; i < b->dimp.n; i++) {
		struct nb_dsub *d = &b->dsubs[i];
		char            h[17], cons[40];
		size_t          k = 0;

		if (nb_join(
		        pre, sizeof(pre), b->durable_prefix, b->import_prefix)
		        != 0
		    || nb_join(d->filter, sizeof(d->filter), pre, b->dimp.v[i])
		        != 0) {
			host->log(self, XZ_LOG_ERROR,
			    NT("option durable_import: '%s': subject over %d "
			       "bytes"),
			    b->dimp.v[i], NB_SUBJECT_MAX);
			nb_free(b);
			return XZ_EINVAL;
		}
		/* The consumer: origin (its characters NATS allows in a
		 * name) and a hash of the filter, stable across restarts. */
		for (const char *p = b->origin; *p && k < sizeof(cons) - 1;
		     p++)
			cons[k++]
			    = (*p == '.' || *p == '*' || *p == '>' || *p == ' '
			          || *p == '\t' || *p == ':' || *p == '/')
			    ? '_'
			    : *p;
		cons[k] = '\0';
		nb_fnv_hex(d->filter, h);
		snprintf(d->durable, sizeof(d->durable), "%s_%s", cons, h);
	}
	for (size_t i = 0; i < sizeof(nb_counters) / sizeof(nb_counters[0]);
	     i++)
		count(b, nb_counters[i], 0);
	if ((b->dexp.n + b->dimp.n) > 0 && store_open(b) != 0) {
		store_close(b);
		nb_free(b);
		return XZ_EIO;
	}
	if (b->outbox_n > 0)
		count(b, "outbox", b->outbox_n);
	for (size_t i = 0; i < b->exp.n; i++)
		if (host->subscribe(
		        self, b->exp.v[i], NULL, on_export, b, NULL)
		    != XZ_OK) {
			store_close(b);
			nb_free(b);
			return XZ_EINVAL;
		}
	for (size_t i = 0; i < b->dexp.n; i++)
		if (host->subscribe(
		        self, b->dexp.v[i], NULL, on_durable_export, b, NULL)
		    != XZ_OK) {
			store_close(b);
			nb_free(b);
			return XZ_EINVAL;
		}
	for (size_t i = 0; i < b->rexp.n; i++)
		if (host->subscribe(
		        self, b->rexp.v[i], NULL, on_request_export, b, NULL)
		    != XZ_OK) {
			store_close(b);
			nb_free(b);
			return XZ_EINVAL;
		}
	*state = b;
	return XZ_OK;
}

/* url: one URL or several separated by commas (a cluster). */
static natsStatus
set_servers(struct nb *b)
{
	nb_list     l    = { NULL, 0 };
	const char *seps = ", \t";
	const char *p    = b->url;
	natsStatus  s;

	while (*p != '\0') {
		size_t len;
		char **nv;

		p += strspn(p, seps);
		if (*p == '\0')
			break;
		len = strcspn(p, seps);
		nv  = realloc(l.v, (l.n + 1) * sizeof(*nv));
		if (nv == NULL || (nv[l.n] = strndup(p, len)) == NULL) {
			if (nv != NULL)
				l.v = nv;
			nb_list_free(&l);
			return NATS_NO_MEMORY;
		}
		l.v = nv;
		l.n++;
		p += len;
	}
	if (l.n == 0)
		return NATS_INVALID_ARG;
	s = l.n == 1
	    ? natsOptions_SetURL(b->opts, l.v[0])
	    : natsOptions_SetServers(b->opts, (const char **) l.v, (int) l.n);
	nb_list_free(&l);
	return s;
}

static int
nb_start(void *state)
{
	struct nb *b = state;
	natsStatus s;
	int        rc;

	if (atomic_fetch_add(&nb_lib_users, 1) == 0)
		nats_Open(-1);
	b->lib_open = 1;
	if (b->rexp.n > 0) {
		natsInbox *in = NULL;
		if (natsInbox_Create(&in) != NATS_OK
		    || (b->inbox = strdup(in)) == NULL) {
			natsInbox_Destroy(in);
			return XZ_ENOMEM;
		}
		natsInbox_Destroy(in);
	}
	s = natsOptions_Create(&b->opts);
	if (s == NATS_OK)
		s = set_servers(b);
	if (s == NATS_OK)
		s = natsOptions_SetName(b->opts, b->origin);
	if (s == NATS_OK)
		s = natsOptions_SetNoEcho(b->opts, true);
	if (s == NATS_OK)
		s = natsOptions_SetAllowReconnect(b->opts, true);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(b->opts, -1);
	if (s == NATS_OK)
		s = natsOptions_SetCustomReconnectDelay(
		    b->opts, on_reconnect_delay, b);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectBufSize(b->opts, (int) b->rbuf);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(b->opts, 2000);
	if (s == NATS_OK)
		s = natsOptions_SetPingInterval(b->opts, 5000);
	if (s == NATS_OK)
		s = natsOptions_SetMaxPingsOut(b->opts, 2);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(b->opts, on_disconnected, b);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(b->opts, on_reconnected, b);
	if (s == NATS_OK)
		s = natsOptions_SetRetryOnFailedConnect(
		    b->opts, true, on_connected, b);
	if (s == NATS_OK) {
		s = natsConnection_Connect(&b->nc, b->opts);
		if (s == NATS_NOT_YET_CONNECTED) {
			b->host->log(b->self, XZ_LOG_WARN,
			    NT("NATS %s not reachable yet; the node runs and "
			       "the bridge keeps trying"),
			    b->url);
			s = NATS_OK;
		}
	}
	if (s != NATS_OK) {
		b->host->log(b->self, XZ_LOG_ERROR, NT("NATS %s: %s"), b->url,
		    natsStatus_GetText(s));
		return XZ_EINVAL;
	}
	rc = b->host->timer_start(b->self, (uint64_t) b->poll_ms,
	    (uint64_t) b->poll_ms, tick, b, &b->timer);
	if (rc != XZ_OK)
		return rc;
	b->host->log(b->self, XZ_LOG_INFO,
	    NT("bridge to %s as '%s': %zu export, %zu import, %zu durable "
	       "export, %zu durable import, %zu request export, %zu request "
	       "import pattern(s)"),
	    b->url, b->origin, b->exp.n, b->imp.n, b->dexp.n, b->dimp.n,
	    b->rexp.n, b->rimp.n);
	return XZ_OK;
}

/* Commit the batch's transaction, then acknowledge the durable imports
 * it recorded. */
static void
nb_batch_end(void *state)
{
	struct nb *b     = state;
	int64_t    acked = 0;

	if (b->in_tx) {
		if (sqlite3_exec(b->db, "COMMIT", NULL, NULL, NULL)
		    != SQLITE_OK) {
			b->host->log(b->self, XZ_LOG_ERROR,
			    NT("store commit: %s (durable imports not "
			       "acknowledged: they come again)"),
			    sqlite3_errmsg(b->db));
			sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
			for (size_t i = 0; i < b->nheld; i++)
				natsMsg_Destroy(b->held[i]);
			b->nheld = 0;
		}
		b->in_tx = 0;
	}
	for (size_t i = 0; i < b->nheld; i++) {
		acked += natsMsg_Ack(b->held[i], NULL) == NATS_OK;
		natsMsg_Destroy(b->held[i]);
	}
	b->nheld = 0;
	if (acked > 0)
		count(b, "js_acked", acked);
}

static void
nb_stop(void *state)
{
	struct nb *b = state;

	if (b->timer != 0)
		b->host->timer_cancel(b->self, b->timer);
	b->timer = 0;
	pend_expire(b, 1);
	/* Last acknowledgements, so the outbox does not resend them. */
	if (b->js != NULL) {
		jsPubOptions po;
		jsPubOptions_Init(&po);
		po.MaxWait = 1000;
		js_PublishAsyncComplete(b->js, &po);
		outbox_acks(b);
	}
	nb_batch_end(b);
}

static void
nb_fini(void *state)
{
	struct nb *b = state;

	/* Normally nothing is left: the kernel ran batch_end after the last
	 * batch. Only log may be used here, so no counters. */
	if (b->in_tx)
		sqlite3_exec(b->db, "COMMIT", NULL, NULL, NULL);
	for (size_t i = 0; i < b->nheld; i++) {
		natsMsg_Ack(b->held[i], NULL);
		natsMsg_Destroy(b->held[i]);
	}
	b->nheld = 0;
	for (size_t i = 0; i < b->imp.n; i++)
		natsSubscription_Destroy(b->isubs[i]);
	for (size_t i = 0; i < b->dimp.n; i++)
		natsSubscription_Destroy(b->dsubs[i].sub);
	for (size_t i = 0; i < b->rimp.n; i++)
		natsSubscription_Destroy(b->rsubs[i]);
	if (b->nc != NULL)
		natsConnection_Close(b->nc);
	jsCtx_Destroy(b->js);
	natsConnection_Destroy(b->nc);
	natsOptions_Destroy(b->opts);
	/* libnats threads may still hold b until the library is closed. */
	if (b->lib_open && atomic_fetch_sub(&nb_lib_users, 1) == 1)
		nats_CloseAndWait(5000);
	store_close(b);
	nb_free(b);
}

static const xz_plugin_desc nb_desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name        = "nats",
	.version     = "0.1.0",
	.description = "bridge chosen bus topics to and from NATS, durable "
	               "ones through JetStream",
	.options     = nb_options,
	.init        = nb_init,
	.start       = nb_start,
	.stop        = nb_stop,
	.fini        = nb_fini,
	.batch_end   = nb_batch_end,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &nb_desc;
}
