/*
 * durable.c - the node's durable log (see durable.h).
 *
 * Tables:
 *   msg(seq, id, topic, source, ct, ts, data, size): one row per event
 *   pending(consumer, seq): one row per consumer that has not acked it
 *   consumer(name, pattern): the durable subscriptions ever made
 *
 * Writes go through one queue of operations (append, ack, consumer). The
 * first thread that finds no writer running becomes the leader: it takes
 * the whole queue, writes it in one transaction, and wakes the publishers
 * whose events it committed. Publishers that came meanwhile queue behind
 * it, so under load many publishers share one commit. Acks do not wait.
 *
 * Reads (replay, status) use a second connection: WAL lets them run
 * beside the writer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "bus/durable.h"
#include "util/log.h"
#include "util/topic.h"

enum { OP_APPEND = 1, OP_ACK, OP_CONSUMER };

/* A durable consumer: a plugin instance, by name. Never freed before the
 * log is closed, so operations may point to it. */
typedef struct dcons {
	char         *name; /* owned */
	char        **pats; /* owned, each owned */
	size_t        npats;
	uint64_t      pending; /* under mu */
	bool          live; /* subscribed in this run */
	struct dcons *next;
} dcons;

typedef struct dop {
	struct dop *next;
	int         kind;
	bool        done;
	int         rc;
	/* append */
	xz_kmsg *m; /* borrowed: the publisher waits */
	dcons  **cons; /* owned array */
	size_t   ncons;
	uint64_t size;
	/* ack */
	dcons  *c;
	uint8_t id[16];
	bool    acked;
	int64_t freed; /* bytes of the event deleted with the last ack */
	/* consumer */
	const char *pattern;
} dop;

/* A replay of a consumer's pending events under one pattern. */
typedef struct rjob {
	struct rjob *next;
	char        *name, *pattern; /* owned */
	uint64_t     sub_id;
	int64_t      after, upto;
} rjob;

struct xz_durable {
	sqlite3        *db; /* the leader's */
	sqlite3        *rdb; /* reads, under rmu */
	pthread_mutex_t mu, rmu;
	pthread_cond_t  cv;
	dop            *qhead, **qtail;
	bool            leader;
	size_t          waiters;
	int64_t         next_seq; /* the leader's */
	_Atomic int64_t last_seq;

	xz_tindex *topics; /* bus.durable */
	xz_tindex *cons_ix; /* pattern -> dcons */
	dcons     *cons;
	uint64_t   bytes, reserved, max_bytes, events;
	uint64_t   written; /* events written since open */

	sqlite3_stmt *ins_msg, *ins_pend, *sel_seq, *del_pend, *del_msg,
	    *ins_cons;

	int (*deliver)(void *ud, uint64_t sub_id, xz_kmsg *msg);
	void           *deliver_ud;
	pthread_t       thr;
	bool            thr_started, stopping;
	pthread_cond_t  rcv;
	rjob           *jobs; /* under jmu */
	rjob           *watches; /* live subscriptions between ticks (jmu) */
	pthread_mutex_t jmu;
	uint32_t        redeliver_ms;
	int64_t         tick_seq; /* last_seq at the previous tick */
};

static const char schema[]
    = "PRAGMA journal_mode=WAL;"
      "PRAGMA synchronous=NORMAL;"
      "CREATE TABLE IF NOT EXISTS msg(seq INTEGER PRIMARY KEY, id BLOB "
      "NOT NULL UNIQUE, topic TEXT NOT NULL, source TEXT NOT NULL, ct "
      "INTEGER NOT NULL, ts INTEGER NOT NULL, data BLOB NOT NULL, size "
      "INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS pending(consumer TEXT NOT NULL, seq "
      "INTEGER NOT NULL, PRIMARY KEY(consumer, seq)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS consumer(name TEXT NOT NULL, pattern "
      "TEXT NOT NULL, PRIMARY KEY(name, pattern)) WITHOUT ROWID;";

static dcons *
cons_get(xz_durable *d, const char *name)
{
	dcons *c;

	for (c = d->cons; c != NULL; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	if ((c = calloc(1, sizeof(*c))) == NULL
	    || (c->name = strdup(name)) == NULL) {
		free(c);
		return NULL;
	}
	c->next = d->cons;
	d->cons = c;
	return c;
}

/* Under mu. 1 added, 0 already there, -1 no memory or bad pattern. */
static int
cons_add_pattern(xz_durable *d, dcons *c, const char *pattern)
{
	char **v;

	for (size_t i = 0; i < c->npats; i++)
		if (strcmp(c->pats[i], pattern) == 0)
			return 0;
	if ((v = realloc(c->pats, (c->npats + 1) * sizeof(*v))) == NULL)
		return -1;
	c->pats = v;
	if ((v[c->npats] = strdup(pattern)) == NULL)
		return -1;
	if (xz_tindex_add(d->cons_ix, v[c->npats], c) != 0) {
		free(v[c->npats]);
		return -1;
	}
	c->npats++;
	return 1;
}

static int
prep(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v3(
	    db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
}

static void *replay_main(void *arg);

int
xz_durable_open(
    xz_durable **out, const xz_durable_cfg *cfg, char *err, size_t errlen)
{
	xz_durable   *d = calloc(1, sizeof(*d));
	sqlite3_stmt *st;
	int           flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
	    | SQLITE_OPEN_FULLMUTEX;

	*out = NULL;
	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return XZ_ENOMEM;
	}
	pthread_mutex_init(&d->mu, NULL);
	pthread_mutex_init(&d->rmu, NULL);
	pthread_mutex_init(&d->jmu, NULL);
	pthread_cond_init(&d->cv, NULL);
	pthread_cond_init(&d->rcv, NULL);
	d->qtail        = &d->qhead;
	d->max_bytes    = cfg->max_bytes;
	d->deliver      = cfg->deliver;
	d->deliver_ud   = cfg->deliver_ud;
	d->redeliver_ms = cfg->redeliver_ms ? cfg->redeliver_ms : 30000;
	d->topics       = xz_tindex_new();
	d->cons_ix      = xz_tindex_new();
	if (d->topics == NULL || d->cons_ix == NULL)
		goto nomem;
	for (size_t i = 0; i < cfg->npatterns; i++)
		if (xz_tindex_add(d->topics, cfg->patterns[i], d) != 0)
			goto nomem;
	if (sqlite3_open_v2(cfg->path, &d->db, flags, NULL) != SQLITE_OK
	    || sqlite3_busy_timeout(d->db, 5000) != SQLITE_OK
	    || sqlite3_exec(d->db, schema, NULL, NULL, NULL) != SQLITE_OK
	    || sqlite3_open_v2(cfg->path, &d->rdb, flags, NULL) != SQLITE_OK
	    || sqlite3_busy_timeout(d->rdb, 5000) != SQLITE_OK
	    || prep(d->db,
	        "INSERT INTO msg(seq, id, topic, source, ct, ts, data, "
	        "size) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	        &d->ins_msg)
	    || prep(d->db,
	        "INSERT OR IGNORE INTO pending(consumer, seq) VALUES(?1, ?2)",
	        &d->ins_pend)
	    || prep(d->db, "SELECT seq FROM msg WHERE id = ?1", &d->sel_seq)
	    || prep(d->db,
	        "DELETE FROM pending WHERE consumer = ?1 AND seq = ?2",
	        &d->del_pend)
	    || prep(d->db,
	        "DELETE FROM msg WHERE seq = ?1 AND NOT EXISTS (SELECT 1 "
	        "FROM pending WHERE seq = ?1) RETURNING size",
	        &d->del_msg)
	    || prep(d->db,
	        "INSERT OR IGNORE INTO consumer(name, pattern) VALUES(?1, "
	        "?2)",
	        &d->ins_cons)) {
		snprintf(err, errlen, "durable log %s: %s", cfg->path,
		    d->db ? sqlite3_errmsg(d->db) : "cannot open");
		xz_durable_close(d);
		return XZ_EIO;
	}
	/* What the last run left: consumers, their pending counts, size. */
	if (sqlite3_prepare_v2(
	        d->db, "SELECT name, pattern FROM consumer", -1, &st, NULL)
	    == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			dcons *c = cons_get(
			    d, (const char *) sqlite3_column_text(st, 0));
			const char *p
			    = (const char *) sqlite3_column_text(st, 1);
			if (c == NULL || p == NULL
			    || !xz_pattern_valid(p, strlen(p))
			    || cons_add_pattern(d, c, p) < 0) {
				sqlite3_finalize(st);
				goto nomem;
			}
		}
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(d->db,
	        "SELECT consumer, count(*) FROM pending GROUP BY consumer", -1,
	        &st, NULL)
	    == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			dcons *c = cons_get(
			    d, (const char *) sqlite3_column_text(st, 0));
			if (c == NULL) {
				sqlite3_finalize(st);
				goto nomem;
			}
			c->pending = (uint64_t) sqlite3_column_int64(st, 1);
		}
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(d->db,
	        "SELECT coalesce(sum(size), 0), count(*), coalesce(max(seq), "
	        "0) FROM msg",
	        -1, &st, NULL)
	    == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			d->bytes    = (uint64_t) sqlite3_column_int64(st, 0);
			d->events   = (uint64_t) sqlite3_column_int64(st, 1);
			d->next_seq = sqlite3_column_int64(st, 2);
		}
		sqlite3_finalize(st);
	}
	d->last_seq = d->next_seq;
	if (pthread_create(&d->thr, NULL, replay_main, d) != 0) {
		snprintf(err, errlen, "durable log: cannot start a thread");
		xz_durable_close(d);
		return XZ_ENOMEM;
	}
	d->thr_started = true;
	*out           = d;
	return XZ_OK;
nomem:
	snprintf(err, errlen, "durable log %s: out of memory", cfg->path);
	xz_durable_close(d);
	return XZ_ENOMEM;
}

void
xz_durable_stop(xz_durable *d)
{
	if (d == NULL || !d->thr_started)
		return;
	pthread_mutex_lock(&d->jmu);
	d->stopping = true;
	pthread_cond_broadcast(&d->rcv);
	pthread_mutex_unlock(&d->jmu);
	pthread_join(d->thr, NULL);
	d->thr_started = false;
}

void
xz_durable_close(xz_durable *d)
{
	if (d == NULL)
		return;
	xz_durable_stop(d);
	while (d->jobs != NULL || d->watches != NULL) {
		rjob *j = d->jobs ? d->jobs : d->watches;
		if (j == d->jobs)
			d->jobs = j->next;
		else
			d->watches = j->next;
		free(j->name);
		free(j->pattern);
		free(j);
	}
	/* Acks still queued (no commit ran since): they come again. */
	while (d->qhead != NULL) {
		dop *o   = d->qhead;
		d->qhead = o->next;
		if (o->kind == OP_ACK)
			free(o);
	}
	sqlite3_finalize(d->ins_msg);
	sqlite3_finalize(d->ins_pend);
	sqlite3_finalize(d->sel_seq);
	sqlite3_finalize(d->del_pend);
	sqlite3_finalize(d->del_msg);
	sqlite3_finalize(d->ins_cons);
	sqlite3_close(d->rdb);
	sqlite3_close(d->db);
	while (d->cons != NULL) {
		dcons *c = d->cons;
		d->cons  = c->next;
		for (size_t i = 0; i < c->npats; i++)
			free(c->pats[i]);
		free(c->pats);
		free(c->name);
		free(c);
	}
	xz_tindex_free(d->topics);
	xz_tindex_free(d->cons_ix);
	pthread_cond_destroy(&d->cv);
	pthread_cond_destroy(&d->rcv);
	pthread_mutex_destroy(&d->mu);
	pthread_mutex_destroy(&d->rmu);
	pthread_mutex_destroy(&d->jmu);
	free(d);
}

bool
xz_durable_topic(xz_durable *d, const char *topic)
{
	/* The pattern index is never changed after open: no lock. */
	return d != NULL && xz_tindex_match(d->topics, topic, NULL, NULL) > 0;
}

static int
step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

/* Write one operation in the open transaction. 0 or -1. */
static int
write_op(xz_durable *d, dop *o)
{
	sqlite3_stmt *st;
	int64_t       seq;

	switch (o->kind) {
	case OP_APPEND: {
		const xz_msg *m = &o->m->pub;
		seq             = ++d->next_seq;
		st              = d->ins_msg;
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_bind_blob(st, 2, m->id, 16, SQLITE_STATIC);
		sqlite3_bind_text(
		    st, 3, m->topic, (int) m->topic_len, SQLITE_STATIC);
		sqlite3_bind_text(
		    st, 4, m->source ? m->source : "", -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 5, m->content_type);
		sqlite3_bind_int64(st, 6, (int64_t) m->timestamp_us);
		sqlite3_bind_blob(st, 7, m->data ? m->data : "", (int) m->len,
		    SQLITE_STATIC);
		sqlite3_bind_int64(st, 8, (int64_t) o->size);
		if (step_done(st) != 0)
			return -1;
		for (size_t i = 0; i < o->ncons; i++) {
			st = d->ins_pend;
			sqlite3_bind_text(
			    st, 1, o->cons[i]->name, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, seq);
			if (step_done(st) != 0)
				return -1;
		}
		return 0;
	}
	case OP_ACK:
		st = d->sel_seq;
		sqlite3_bind_blob(st, 1, o->id, 16, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return 0; /* acked before */
		}
		seq = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		st = d->del_pend;
		sqlite3_bind_text(st, 1, o->c->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, seq);
		if (step_done(st) != 0)
			return -1;
		o->acked = sqlite3_changes(d->db) > 0;
		if (!o->acked)
			return 0;
		st = d->del_msg;
		sqlite3_bind_int64(st, 1, seq);
		if (sqlite3_step(st) == SQLITE_ROW)
			o->freed = sqlite3_column_int64(st, 0);
		/* RETURNING: step to the end so the delete completes */
		while (sqlite3_step(st) == SQLITE_ROW)
			;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return 0;
	case OP_CONSUMER:
		st = d->ins_cons;
		sqlite3_bind_text(st, 1, o->c->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, o->pattern, -1, SQLITE_STATIC);
		return step_done(st);
	}
	return -1;
}

/* The leader: write batch (taken off the queue) in one transaction,
 * without mu. */
static int
write_batch(xz_durable *d, dop *batch)
{
	int64_t seq0 = d->next_seq;
	int     bad  = 0;

	if (sqlite3_exec(d->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)
	    != SQLITE_OK)
		bad = 1;
	for (dop *o = batch; !bad && o != NULL; o = o->next)
		if (write_op(d, o) != 0)
			bad = 1;
	if (!bad
	    && sqlite3_exec(d->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		bad = 1;
	if (bad) {
		xz_log(XZ_LOG_ERROR, "kernel",
		    "durable log: a batch of %s was not written: %s",
		    batch->kind == OP_APPEND ? "events" : "acks",
		    sqlite3_errmsg(d->db));
		sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
		d->next_seq = seq0;
		return XZ_EIO;
	}
	atomic_store(&d->last_seq, d->next_seq);
	return XZ_OK;
}

/* With mu held: write what is queued until mine (if any) is done. A
 * leader keeps writing while operations wait and no publisher waits to
 * take over (so queued acks are never left behind). */
static void
pump(xz_durable *d, dop *mine)
{
	for (;;) {
		if (!d->leader && d->qhead != NULL
		    && (mine == NULL || !mine->done || d->waiters == 0)) {
			dop *batch = d->qhead;
			d->qhead   = NULL;
			d->qtail   = &d->qhead;
			d->leader  = true;
			pthread_mutex_unlock(&d->mu);
			int rc = write_batch(d, batch);
			pthread_mutex_lock(&d->mu);
			while (batch != NULL) {
				dop *o = batch;
				batch  = o->next;
				o->rc  = rc;
				if (o->kind == OP_APPEND) {
					d->reserved -= o->size;
					if (rc == XZ_OK) {
						d->bytes += o->size;
						d->events++;
						d->written++;
						for (size_t i = 0;
						     i < o->ncons; i++)
							o->cons[i]->pending++;
					}
				} else if (o->kind == OP_ACK) {
					if (rc == XZ_OK && o->acked) {
						if (o->c->pending > 0)
							o->c->pending--;
						if (o->freed > 0) {
							d->bytes
							    -= (uint64_t)
							           o->freed;
							d->events--;
						}
					}
					free(o);
					continue;
				}
				o->done = true;
			}
			d->leader = false;
			pthread_cond_broadcast(&d->cv);
			continue;
		}
		if (mine == NULL || mine->done)
			return;
		d->waiters++;
		pthread_cond_wait(&d->cv, &d->mu);
		d->waiters--;
	}
}

static void
enqueue(xz_durable *d, dop *o)
{
	o->next   = NULL;
	*d->qtail = o;
	d->qtail  = &o->next;
}

struct collect {
	dcons      *local[8];
	dcons     **v;
	size_t      n, cap;
	const char *source;
	bool        oom;
};

static void
collect_visit(void *ctx, void *item)
{
	struct collect *c  = ctx;
	dcons          *cs = item;

	if (c->source != NULL && strcmp(cs->name, c->source) == 0)
		return; /* its own events */
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i] == cs)
			return;
	if (c->n == c->cap) {
		size_t  cap = c->cap * 2;
		dcons **v   = malloc(cap * sizeof(*v));
		if (v == NULL) {
			c->oom = true;
			return;
		}
		memcpy(v, c->v, c->n * sizeof(*v));
		if (c->v != c->local)
			free(c->v);
		c->v   = v;
		c->cap = cap;
	}
	c->v[c->n++] = cs;
}

int
xz_durable_append(xz_durable *d, xz_kmsg *m)
{
	struct collect c;
	dop            o;

	memset(&o, 0, sizeof(o));
	c.v      = c.local;
	c.n      = 0;
	c.cap    = sizeof(c.local) / sizeof(c.local[0]);
	c.source = m->pub.source;
	c.oom    = false;
	pthread_mutex_lock(&d->mu);
	xz_tindex_match(d->cons_ix, m->pub.topic, collect_visit, &c);
	if (c.oom || c.n == 0) {
		pthread_mutex_unlock(&d->mu);
		if (c.v != c.local)
			free(c.v);
		return c.oom ? XZ_ENOMEM : XZ_OK;
	}
	o.kind  = OP_APPEND;
	o.m     = m;
	o.cons  = c.v;
	o.ncons = c.n;
	o.size  = m->pub.topic_len + m->pub.len
	    + (m->pub.source ? strlen(m->pub.source) : 0) + 64 + 32 * c.n;
	if (d->bytes + d->reserved + o.size > d->max_bytes) {
		pthread_mutex_unlock(&d->mu);
		if (c.v != c.local)
			free(c.v);
		return XZ_EDURABLEFULL;
	}
	d->reserved += o.size;
	enqueue(d, &o);
	pump(d, &o);
	pthread_mutex_unlock(&d->mu);
	if (c.v != c.local)
		free(c.v);
	if (o.rc == XZ_OK)
		m->pub.flags |= XZ_MSG_DURABLE;
	return o.rc;
}

int
xz_durable_ack(xz_durable *d, const char *name, const uint8_t id[16])
{
	dcons *c;
	dop   *o;

	pthread_mutex_lock(&d->mu);
	for (c = d->cons; c != NULL; c = c->next)
		if (strcmp(c->name, name) == 0)
			break;
	if (c == NULL) {
		pthread_mutex_unlock(&d->mu);
		return XZ_OK; /* not a durable consumer: nothing kept */
	}
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		pthread_mutex_unlock(&d->mu);
		return XZ_ENOMEM;
	}
	o->kind = OP_ACK;
	o->c    = c;
	memcpy(o->id, id, 16);
	enqueue(d, o);
	pump(d, NULL);
	pthread_mutex_unlock(&d->mu);
	return XZ_OK;
}

int
xz_durable_subscribe(
    xz_durable *d, const char *name, const char *pattern, uint64_t sub_id)
{
	dop    o;
	dcons *c;
	rjob  *j;
	int    added;

	memset(&o, 0, sizeof(o));
	pthread_mutex_lock(&d->mu);
	if ((c = cons_get(d, name)) == NULL
	    || (added = cons_add_pattern(d, c, pattern)) < 0) {
		pthread_mutex_unlock(&d->mu);
		return XZ_ENOMEM;
	}
	c->live = true;
	if (added) {
		o.kind    = OP_CONSUMER;
		o.c       = c;
		o.pattern = pattern;
		enqueue(d, &o);
		pump(d, &o);
		if (o.rc != XZ_OK) {
			pthread_mutex_unlock(&d->mu);
			return o.rc;
		}
	}
	pthread_mutex_unlock(&d->mu);
	if ((j = calloc(1, sizeof(*j))) == NULL
	    || (j->name = strdup(name)) == NULL
	    || (j->pattern = strdup(pattern)) == NULL) {
		if (j != NULL)
			free(j->name);
		free(j);
		return XZ_ENOMEM;
	}
	j->sub_id = sub_id;
	j->upto   = atomic_load(&d->last_seq);
	pthread_mutex_lock(&d->jmu);
	j->next = d->jobs;
	d->jobs = j;
	pthread_cond_broadcast(&d->rcv);
	pthread_mutex_unlock(&d->jmu);
	return XZ_OK;
}

/* ---- replay ---- */

#define PAGE 128

/* Read the next page of j's pending events (seq order) as messages.
 * Returns how many, or -1 on a read error. */
static int
read_page(xz_durable *d, rjob *j, xz_kmsg **out, int64_t *seqs)
{
	sqlite3_stmt *st = NULL;
	int           n  = 0;

	pthread_mutex_lock(&d->rmu);
	if (sqlite3_prepare_v2(d->rdb,
	        "SELECT m.seq, m.id, m.topic, m.source, m.ct, m.ts, m.data "
	        "FROM pending p JOIN msg m ON m.seq = p.seq WHERE p.consumer "
	        "= ?1 AND p.seq > ?2 AND p.seq <= ?3 ORDER BY p.seq LIMIT "
	        "128",
	        -1, &st, NULL)
	    != SQLITE_OK) {
		pthread_mutex_unlock(&d->rmu);
		return -1;
	}
	sqlite3_bind_text(st, 1, j->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, j->after);
	sqlite3_bind_int64(st, 3, j->upto);
	while (n < PAGE && sqlite3_step(st) == SQLITE_ROW) {
		const char *topic = (const char *) sqlite3_column_text(st, 2);
		const char *src   = (const char *) sqlite3_column_text(st, 3);
		const void *id    = sqlite3_column_blob(st, 1);
		const void *data  = sqlite3_column_blob(st, 6);
		size_t      len   = (size_t) sqlite3_column_bytes(st, 6);
		int64_t     seq   = sqlite3_column_int64(st, 0);
		j->after          = seq;
		if (topic == NULL || id == NULL
		    || sqlite3_column_bytes(st, 1) != 16
		    || !xz_topic_match(j->pattern, topic))
			continue;
		xz_kmsg *m = xz_kmsg_new(XZ_KIND_EVENT, topic, strlen(topic),
		    src ? src : "", data, len);
		if (m == NULL) {
			j->after = seq - 1;
			break;
		}
		memcpy(m->pub.id, id, 16);
		m->pub.content_type = (uint8_t) sqlite3_column_int(st, 4);
		m->pub.timestamp_us = (uint64_t) sqlite3_column_int64(st, 5);
		m->pub.flags        = XZ_MSG_REDELIVERED | XZ_MSG_DURABLE;
		seqs[n]             = seq;
		out[n++]            = m;
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&d->rmu);
	return n;
}

/* Wait up to ms or until stopping. With jmu held. */
static void
nap(xz_durable *d, long ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_cond_timedwait(&d->rcv, &d->jmu, &ts);
}

/* t += ms */
static void
add_ms(struct timespec *t, uint32_t ms)
{
	t->tv_sec += (time_t) (ms / 1000);
	t->tv_nsec += (long) (ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static void *
replay_main(void *arg)
{
	xz_durable *d = arg;
	xz_kmsg    *page[PAGE];
	int64_t     seqs[PAGE];

	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	add_ms(&next, d->redeliver_ms);
	pthread_mutex_lock(&d->jmu);
	d->tick_seq = atomic_load(&d->last_seq);
	while (!d->stopping) {
		rjob           *j = d->jobs;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (j == NULL
		    && (now.tv_sec > next.tv_sec
		        || (now.tv_sec == next.tv_sec
		            && now.tv_nsec >= next.tv_nsec))) {
			/* The tick: what a live durable subscriber has left
			 * unacknowledged for a whole period (its commit
			 * failed, or its live delivery did) is delivered
			 * again. */
			int64_t upto = d->tick_seq;
			d->tick_seq  = atomic_load(&d->last_seq);
			for (rjob *w = d->watches; w != NULL; w = w->next) {
				w->after = 0;
				w->upto  = upto;
			}
			d->jobs    = d->watches;
			d->watches = NULL;
			next       = now;
			add_ms(&next, d->redeliver_ms);
			continue;
		}
		if (j == NULL) {
			long left = (long) (next.tv_sec - now.tv_sec) * 1000L
			    + (next.tv_nsec - now.tv_nsec) / 1000000L;
			nap(d, left > 0 ? left : 1);
			continue;
		}
		pthread_mutex_unlock(&d->jmu);
		int64_t before = j->after;
		int     n      = read_page(d, j, page, seqs);
		bool    gone   = n < 0;
		int     i      = 0;
		size_t  sent   = 0;
		for (; i < n && !gone; i++) {
			int rc;
			while ((rc = d->deliver(
			            d->deliver_ud, j->sub_id, page[i]))
			        == XZ_ETIMEDOUT
			    || rc == XZ_EFULL) {
				pthread_mutex_lock(&d->jmu);
				bool stop = d->stopping;
				if (!stop)
					nap(d, 20);
				pthread_mutex_unlock(&d->jmu);
				if (stop) {
					rc = XZ_ECLOSED;
					break;
				}
			}
			if (rc != XZ_OK) {
				gone = true;
				break;
			}
			sent++;
		}
		for (; i < n; i++)
			xz_kmsg_unref(page[i]);
		if (sent > 0)
			xz_log(XZ_LOG_INFO, "kernel",
			    "durable log: %zu unacknowledged event(s) of %s "
			    "delivered again",
			    sent, j->name);
		pthread_mutex_lock(&d->jmu);
		if (gone || j->after == before) {
			/* done: watched until the next tick, or freed when its
			 * subscription went away (or is watched already) */
			rjob **pp = &d->jobs;
			while (*pp != j)
				pp = &(*pp)->next;
			*pp      = j->next;
			bool dup = false;
			for (rjob *w = d->watches; w != NULL; w = w->next)
				dup = dup || w->sub_id == j->sub_id;
			if (gone || dup) {
				free(j->name);
				free(j->pattern);
				free(j);
			} else {
				j->next    = d->watches;
				d->watches = j;
			}
		}
	}
	pthread_mutex_unlock(&d->jmu);
	return NULL;
}

json_t *
xz_durable_status(xz_durable *d, uint64_t now_us)
{
	json_t       *arr = json_array();
	json_t       *root;
	sqlite3_stmt *st = NULL;

	pthread_mutex_lock(&d->mu);
	root = json_pack("{s:I,s:I,s:I,s:I,s:I}", "bytes",
	    (json_int_t) d->bytes, "max_bytes", (json_int_t) d->max_bytes,
	    "events", (json_int_t) d->events, "written",
	    (json_int_t) d->written, "redeliver_ms",
	    (json_int_t) d->redeliver_ms);
	for (dcons *c = d->cons; c != NULL && arr != NULL; c = c->next) {
		json_t *pats = json_array();
		for (size_t i = 0; i < c->npats; i++)
			json_array_append_new(pats, json_string(c->pats[i]));
		json_array_append_new(arr,
		    json_pack("{s:s,s:o,s:b,s:I,s:I}", "name", c->name,
		        "patterns", pats, "subscribed", c->live, "pending",
		        (json_int_t) c->pending, "oldest_ms", (json_int_t) 0));
	}
	pthread_mutex_unlock(&d->mu);
	/* The age of each consumer's oldest pending event. */
	pthread_mutex_lock(&d->rmu);
	if (sqlite3_prepare_v2(d->rdb,
	        "SELECT m.ts FROM pending p JOIN msg m ON m.seq = p.seq "
	        "WHERE p.consumer = ?1 ORDER BY p.seq LIMIT 1",
	        -1, &st, NULL)
	    == SQLITE_OK) {
		size_t  i;
		json_t *c;
		json_array_foreach(arr, i, c)
		{
			sqlite3_bind_text(st, 1,
			    json_string_value(json_object_get(c, "name")), -1,
			    SQLITE_TRANSIENT);
			if (sqlite3_step(st) == SQLITE_ROW) {
				int64_t ts  = sqlite3_column_int64(st, 0);
				int64_t age = ((int64_t) now_us - ts) / 1000;
				json_object_set_new(c, "oldest_ms",
				    json_integer(age > 0 ? age : 0));
			}
			sqlite3_reset(st);
		}
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&d->rmu);
	if (root != NULL && arr != NULL)
		json_object_set_new(root, "consumers", arr);
	else
		json_decref(arr);
	return root;
}
