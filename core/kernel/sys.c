/*
 * sys.c - the kernel's own actor, "sys": answers the node's management
 * requests on the bus, so the CLI (and any plugin) reaches them the same
 * way as anything else.
 *
 *   xz.sys.ping              {}                 -> {"pong":true,"node":..}
 *   xz.sys.status            {}                 -> the status document
 *   xz.sys.clock.now         {}                 -> {"now_ms":..}
 *   xz.sys.clock.advance     {"ms":N}           -> {"now_ms":..}
 *                            (only with node.test_clock = true, else
 *                            `forbidden`: it moves every SLA deadline)
 *   xz.sys.reload            {"name":"x"} | {}  -> {"reloaded":[..]}
 *   xz.sys.store.reset       {"store","reason"} -> {"reset":..,"store_id"}
 *                            (admin; docs/audit.md)
 *   xz.sys.log.level         {"level":"debug"}  -> {"level":..,"was":..}
 *                            {}                 -> {"level":..}
 */
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kernel/isolate.h"
#include "bus/durable.h"
#include "kernel/kernel_priv.h"
#include "util/msg.h"

static const char *const phase_names[]
    = { "loaded", "inited", "running", "stopped", "failed" };

/* "published" (messages sent: publish, request, reply), "published_by_
 * class", "delivered_by_class" (to its mailbox) and "dropped_by_class"
 * (best-effort, at its full mailbox), each {topic class: n} with the
 * classes of that direction seen so far, and, once its store committed,
 * "store_commits" {"count","sum_us","le_us":[..],"counts":[..]} (counts
 * cumulative, one more for +Inf) of plugin p, into its status object o. */
static void
status_traffic(json_t *o, xz_plugin *p)
{
	json_t  *by = json_object(), *in = json_object(), *dr = json_object();
	uint64_t all = 0;
	unsigned n
	    = atomic_load_explicit(&p->out.nclasses, memory_order_acquire);

	for (unsigned i = 0; i <= XZ_OUT_CLASSES; i++) {
		const xz_out_class *c = &p->out.cls[i];
		const char         *name;
		uint64_t v = atomic_load_explicit(&c->n, memory_order_relaxed);
		uint64_t d
		    = atomic_load_explicit(&c->in, memory_order_relaxed);
		uint64_t x
		    = atomic_load_explicit(&c->dropped, memory_order_relaxed);
		if (i < n)
			name = c->name;
		else if (i == XZ_OUT_CLASSES)
			name = "other";
		else
			continue;
		if (v > 0)
			json_object_set_new(
			    by, name, json_integer((json_int_t) v));
		if (d > 0)
			json_object_set_new(
			    in, name, json_integer((json_int_t) d));
		if (x > 0)
			json_object_set_new(
			    dr, name, json_integer((json_int_t) x));
		all += v;
	}
	json_object_set_new(o, "published", json_integer((json_int_t) all));
	json_object_set_new(o, "published_by_class", by);
	json_object_set_new(o, "delivered_by_class", in);
	json_object_set_new(o, "dropped_by_class", dr);
	uint64_t c = atomic_load_explicit(&p->commits.n, memory_order_relaxed);
	if (c == 0)
		return;
	json_t  *le = json_array(), *cnt = json_array();
	uint64_t cum = 0;
	for (size_t i = 0; i <= XZ_COMMIT_BUCKETS; i++) {
		cum += atomic_load_explicit(
		    &p->commits.le[i], memory_order_relaxed);
		if (i < XZ_COMMIT_BUCKETS)
			json_array_append_new(
			    le, json_integer(xz_commit_le_us[i]));
		json_array_append_new(cnt, json_integer((json_int_t) cum));
	}
	json_object_set_new(o, "store_commits",
	    json_pack("{s:I,s:I,s:o,s:o,s:I,s:I}", "count", (json_int_t) cum,
	        "sum_us",
	        (json_int_t) (atomic_load_explicit(
	                          &p->commits.ns_sum, memory_order_relaxed)
	            / 1000u),
	        "le_us", le, "counts", cnt, "checkpoints_background",
	        (json_int_t) atomic_load_explicit(
	            &p->commits.ckpt_background, memory_order_relaxed),
	        "checkpoints_inline",
	        (json_int_t) atomic_load_explicit(
	            &p->commits.ckpt_inline, memory_order_relaxed)));
}

char *
xz_status_json(xz_kernel *k)
{
	json_t *plugins = json_array();
	json_t *root;
	char   *s;

	for (size_t i = 0; i < k->nplugins; i++) {
		xz_plugin *p        = k->plugins[i];
		json_t    *counters = json_object();
		uint32_t   depth;

		pthread_mutex_lock(&p->actor.mu);
		depth = p->actor.count;
		pthread_mutex_unlock(&p->actor.mu);
		pthread_mutex_lock(&p->cmu);
		for (size_t j = 0; j < p->ncounters; j++)
			json_object_set_new(counters, p->counters[j].name,
			    json_integer(p->counters[j].value));
		pthread_mutex_unlock(&p->cmu);
		json_array_append_new(plugins,
		    json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:o}",
		        "name", p->name, "plugin", p->desc->name, "version",
		        p->desc->version, "state",
		        phase_names[atomic_load(&p->phase)], "queue_depth",
		        (json_int_t) depth, "queue_capacity",
		        (json_int_t) p->actor.cap, "delivered",
		        (json_int_t) atomic_load(&p->actor.delivered),
		        "handled", (json_int_t) atomic_load(&p->actor.handled),
		        "dropped", (json_int_t) atomic_load(&p->actor.dropped),
		        "backpressure_timeouts",
		        (json_int_t) atomic_load(&p->actor.timeouts),
		        "counters", counters));
		/* Isolation and the handler watch (isolate.c). */
		json_t *pl
		    = json_array_get(plugins, json_array_size(plugins) - 1);
		json_t *iso = xz_isolate_status(p);
		if (pl != NULL && iso != NULL)
			json_object_set_new(pl, "isolation", iso);
		else
			json_decref(iso);
		if (pl != NULL && iso == NULL)
			json_object_set_new(pl, "handler_timeouts",
			    json_integer((json_int_t) atomic_load(
			        &p->handler_timeouts)));
	}
	/* What each instance sent by topic class, its store's commits. */
	for (size_t i = 0; i < k->nplugins; i++)
		status_traffic(json_array_get(plugins, i), k->plugins[i]);
	xz_bus_stats  bs;
	xz_link_stats ls = { 0 };
	xz_bus_stats_get(k->bus, &bs);
	if (k->link != NULL)
		xz_link_stats_get(k->link, &ls);
	uint64_t now = xz_clock_now_us(&k->clock);
	/* Every loss the node knows of is a number here: drops on best-effort
	 * topics, backpressure timeouts, rejected envelopes, envelopes a
	 * link could not send, replies that found no memory (their
	 * requesters got a timeout), timers handed over late. */
	root = json_pack("{s:s,s:s,s:I,s:I,s:o,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
	                 "s:I,s:I,s:I,s:I,s:I,s:I}}",
	    "node", k->cfg->node_name, "version", XZ_VERSION_STRING, "now_ms",
	    (json_int_t) (now / 1000u), "uptime_ms",
	    (json_int_t) ((now - k->started_at_us) / 1000u), "plugins",
	    plugins, "bus", "published", (json_int_t) bs.published,
	    "delivered", (json_int_t) bs.delivered, "dropped",
	    (json_int_t) bs.dropped, "backpressure_timeouts",
	    (json_int_t) bs.backpressure_timeouts, "rejected_envelopes",
	    (json_int_t) ls.rejected, "link_violations",
	    (json_int_t) ls.violations, "link_send_failed",
	    (json_int_t) ls.tx_failed, "reply_failed",
	    (json_int_t) bs.failed_replies, "timer_retries",
	    (json_int_t) xz_timers_retries(k->timers), "subscriptions",
	    (json_int_t) bs.subscriptions, "pending_requests",
	    (json_int_t) bs.pending, "links", (json_int_t) ls.peers,
	    "doors_reopened", (json_int_t) ls.doors_reopened);
	/* Who was turned away: connections without a credential. */
	if (root != NULL)
		json_object_set_new(root, "auth",
		    json_pack("{s:I,s:I}", "unauthenticated",
		        (json_int_t) ls.unauthenticated, "denied",
		        (json_int_t) (ls.denied + atomic_load(&k->denied))));
	/* The kernel's own audit records (kaudit.c). */
	json_t *ka = root != NULL ? xz_kaudit_status(k) : NULL;
	if (ka != NULL)
		json_object_set_new(root, "kernel_audit", ka);
	/* The durable log: its size and each durable consumer's lag. */
	if (root != NULL && k->durable != NULL)
		json_object_set_new(
		    root, "durable", xz_durable_status(k->durable, now));
	/* Links to other nodes: state, retries, last error, traffic. */
	if (root != NULL && k->nodelink != NULL)
		json_object_set_new(
		    root, "node_links", xz_nodelink_status(k->nodelink));
	s = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	return s;
}

int
xz_sys_audit(xz_kernel *k, const char *who, const char *action,
    const char *subject_type, const char *subject_id, const char *purpose,
    const char *outcome)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "who",
	    who, "role", "SYSTEM", "agency", k->cfg->node_name, "action",
	    action, "subject_type", subject_type, "subject_id", subject_id,
	    "purpose", purpose, "outcome", outcome, "time",
	    (json_int_t) (xz_clock_now_us(&k->clock) / 1000u));
	char   *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	char    topic[64];

	int rc = XZ_ENOMEM;

	snprintf(topic, sizeof(topic), "audit.sys.%s",
	    strcmp(subject_type, "plugin") == 0 ? "reload" : "config");
	/* a change of the node: durable before the caller goes on */
	if (s != NULL)
		rc = xz_kaudit_write(k, topic, s);
	free(s);
	json_decref(o);
	return rc;
}

typedef struct sys_state {
	xz_plugin     *self;
	const xz_host *h;
	void          *auth; /* sys_auth.c's state */
} sys_state;

static void
reply_json(sys_state *st, const xz_msg *req, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (s == NULL)
		st->h->reply_error(
		    st->self, req, XZ_REPLY_INTERNAL, "out of memory");
	else
		st->h->reply(st->self, req, s, strlen(s));
	free(s);
	json_decref(o);
}

static void
on_ping(void *ud, const xz_msg *m)
{
	sys_state *st = ud;
	reply_json(st, m,
	    json_pack(
	        "{s:b,s:s}", "pong", 1, "node", st->self->k->cfg->node_name));
}

static void
on_status(void *ud, const xz_msg *m)
{
	sys_state *st = ud;
	char      *s  = xz_status_json(st->self->k);
	if (s == NULL) {
		st->h->reply_error(
		    st->self, m, XZ_REPLY_INTERNAL, "out of memory");
		return;
	}
	st->h->reply(st->self, m, s, strlen(s));
	free(s);
}

/* Administration is privileged: only the node, role admin and plugins
 * (code the administrator installed, bounded by their grants) may move
 * the clock, reload plugins or change the log level. Replies forbidden
 * (naming the role required) and returns false otherwise. */
static bool
require_admin(sys_state *st, const xz_msg *m)
{
	const xz_caller *c = st->h->caller(st->self, m);
	char             msg[300];

	for (size_t i = 0; c->roles[i] != NULL; i++)
		if (strcmp(c->roles[i], "admin") == 0
		    || strcmp(c->roles[i], "node") == 0
		    || strcmp(c->roles[i], "plugin") == 0)
			return true;
	snprintf(msg, sizeof(msg),
	    xz_text("%s: '%s' may not do this: it needs the role admin"),
	    m->topic, c->user);
	st->h->reply_error(st->self, m, XZ_REPLY_FORBIDDEN, msg);
	return false;
}

static void
on_clock(void *ud, const xz_msg *m)
{
	sys_state   *st = ud;
	xz_kernel   *k  = st->self->k;
	json_error_t e;

	if (strcmp(m->topic, "xz.sys.clock.advance") == 0) {
		if (!k->cfg->test_clock) {
			st->h->reply_error(st->self, m, XZ_REPLY_FORBIDDEN,
			    "xz.sys.clock.advance is disabled: this node "
			    "has no test clock (set node.test_clock = true "
			    "in its config, for tests only)");
			return;
		}
		if (!require_admin(st, m))
			return;
		json_t *o  = json_loadb(m->data, m->len, 0, &e);
		json_t *ms = o ? json_object_get(o, "ms") : NULL;
		if (!json_is_integer(ms) || json_integer_value(ms) < 0) {
			json_decref(o);
			st->h->reply_error(st->self, m, XZ_REPLY_BAD_REQUEST,
			    "expected {\"ms\": <non-negative integer>}");
			return;
		}
		xz_timers_advance(
		    k->timers, (uint64_t) json_integer_value(ms) * 1000u);
		json_decref(o);
	}
	reply_json(st, m,
	    json_pack("{s:I}", "now_ms",
	        (json_int_t) (xz_clock_now_us(&k->clock) / 1000u)));
}

/* The node's log level at run time; an audit record names who changed
 * it. node.log_level in the file is the level at the next start. */
static void
on_log_level(void *ud, const xz_msg *m)
{
	sys_state   *st = ud;
	json_error_t e;
	json_t      *o
	    = m->len > 0 ? json_loadb(m->data, m->len, 0, &e) : json_object();
	json_t *level = o ? json_object_get(o, "level") : NULL;
	int     was = xz_log_level(), now = was;

	if (level != NULL && !require_admin(st, m)) {
		json_decref(o);
		return;
	}

	if (o == NULL || !json_is_object(o)
	    || (level != NULL
	        && (now = xz_log_level_parse(json_string_value(level))) < 0)) {
		json_decref(o);
		st->h->reply_error(st->self, m, XZ_REPLY_BAD_REQUEST,
		    "expected {\"level\": \"error\"|\"warn\"|\"info\"|"
		    "\"debug\"} or {}");
		return;
	}
	json_decref(o);
	if (level == NULL) {
		reply_json(st, m,
		    json_pack("{s:s}", "level", xz_log_level_name(was)));
		return;
	}
	/* no change without its record */
	if (xz_sys_audit(st->self->k, m->source, "UPDATE", "config",
	        "node.log_level", "runtime log level", "ok")
	    != XZ_OK) {
		st->h->reply_error(st->self, m, XZ_REPLY_AUDIT_UNAVAILABLE,
		    "the log level stays: its audit record cannot be written");
		return;
	}
	/* Said at the more verbose of the two levels, so it shows. */
	if (was >= XZ_LOG_INFO)
		xz_log(XZ_LOG_INFO, "sys", "log level %s -> %s (asked by %s)",
		    xz_log_level_name(was), xz_log_level_name(now), m->source);
	xz_log_set_level(now);
	if (was < XZ_LOG_INFO)
		xz_log(XZ_LOG_INFO, "sys", "log level %s -> %s (asked by %s)",
		    xz_log_level_name(was), xz_log_level_name(now), m->source);
	reply_json(st, m,
	    json_pack("{s:s,s:s}", "level", xz_log_level_name(now), "was",
	        xz_log_level_name(was)));
}

/* One reload: run in the target's actor context, answer from there. */
typedef struct reload_batch {
	pthread_mutex_t mu;
	int             left;
	json_t         *done; /* names reloaded */
	json_t         *failed; /* {name: reason} */
	xz_plugin      *sys;
	const xz_msg   *req; /* retained, or NULL (SIGHUP) */
} reload_batch;

typedef struct reload_job {
	reload_batch *b;
	xz_plugin    *target;
} reload_job;

static void
batch_finish(reload_batch *b)
{
	const xz_host *h = xz_kernel_host();

	if (b->req != NULL) {
		if (json_object_size(b->failed) > 0) {
			char       *s   = json_dumps(b->failed, JSON_COMPACT);
			const char *one = NULL;
			json_t     *v   = NULL;
			json_object_foreach(b->failed, one, v) break;
			char msg[1536];
			snprintf(msg, sizeof(msg), "%s",
			    json_object_size(b->failed) == 1 && v
			        ? json_string_value(v)
			        : (s ? s : "reload failed"));
			h->reply_error(
			    b->sys, b->req, XZ_REPLY_INVALID_STATE, msg);
			free(s);
		} else {
			json_t *o = json_pack("{s:O}", "reloaded", b->done);
			char   *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
			if (s)
				h->reply(b->sys, b->req, s, strlen(s));
			free(s);
			json_decref(o);
		}
		h->msg_release(b->sys, b->req);
	}
	xz_log(XZ_LOG_INFO, "sys", "reload: %zu reloaded, %zu failed",
	    json_array_size(b->done), json_object_size(b->failed));
	json_decref(b->done);
	json_decref(b->failed);
	pthread_mutex_destroy(&b->mu);
	free(b);
}

static void
reload_run(void *arg)
{
	reload_job    *j   = arg;
	reload_batch  *b   = j->b;
	xz_plugin     *p   = j->target;
	xz_plugin_ext *ext = p->ext;
	xz_diag        d;
	int            rc;
	bool           last;

	xz_diag_init(&d);
	rc = ext->reload(p->state, &d);
	pthread_mutex_lock(&b->mu);
	if (rc == XZ_OK) {
		json_array_append_new(b->done, json_string(p->name));
		xz_log(XZ_LOG_INFO, p->name, "reloaded");
	} else {
		char   buf[1024] = "";
		size_t off       = 0;
		for (size_t i = 0; i < d.count && off < sizeof(buf) - 2; i++)
			off += (size_t) snprintf(buf + off, sizeof(buf) - off,
			    "%s%s", i ? "; " : "", d.lines[i]);
		if (d.count == 0)
			snprintf(buf, sizeof(buf), "%s",
			    xz_kernel_host()->strerror(rc));
		json_object_set_new(b->failed, p->name, json_string(buf));
		xz_log(XZ_LOG_ERROR, p->name,
		    "reload failed, the running version stays: %s", buf);
	}
	last = --b->left == 0;
	pthread_mutex_unlock(&b->mu);
	/* Every reload is an audit record (who asked, what, the outcome). */
	xz_sys_audit(p->k, b->req ? b->req->source : "signal:SIGHUP", "UPDATE",
	    "plugin", p->name, "hot reload", rc == XZ_OK ? "ok" : "failed");
	xz_diag_free(&d);
	free(j);
	if (last)
		batch_finish(b);
}

static bool
reloadable(xz_plugin *p)
{
	return p->phase == XZ_PHASE_STARTED && p->ext != NULL
	    && p->ext->reload != NULL && p->iso == NULL;
}

/* Start reloads of targets (NULL name: all). Returns the number queued,
 * or -1 with *why set. */
static int
reload_start(xz_kernel *k, xz_plugin *sys, const char *name, const xz_msg *req,
    const char **why)
{
	reload_batch *b      = calloc(1, sizeof(*b));
	int           queued = 0;

	if (b == NULL) {
		*why = "out of memory";
		return -1;
	}
	pthread_mutex_init(&b->mu, NULL);
	b->done   = json_array();
	b->failed = json_object();
	b->sys    = sys;
	b->left   = 1; /* held until every job is queued */
	if (req != NULL)
		b->req = xz_kernel_host()->msg_retain(sys, req);
	for (size_t i = 0; i < k->nplugins; i++) {
		xz_plugin *p = k->plugins[i];
		if (name != NULL && strcmp(p->name, name) != 0)
			continue;
		/* Isolated: its child restarts and opens the plugin anew. */
		if (p->iso != NULL && p->phase == XZ_PHASE_STARTED) {
			if (xz_isolate_restart(p, "restarted by a reload")
			    == XZ_OK) {
				pthread_mutex_lock(&b->mu);
				json_array_append_new(
				    b->done, json_string(p->name));
				pthread_mutex_unlock(&b->mu);
				queued++;
			}
			continue;
		}
		if (!reloadable(p)) {
			if (name != NULL) {
				*why = p->phase != XZ_PHASE_STARTED
				    ? "plugin is not running"
				    : "plugin is not a Lua plugin or script "
				      "(a shared object reloads by restarting "
				      "the node)";
				goto none;
			}
			continue;
		}
		reload_job *j = calloc(1, sizeof(*j));
		if (j == NULL)
			continue;
		j->b      = b;
		j->target = p;
		pthread_mutex_lock(&b->mu);
		b->left++;
		pthread_mutex_unlock(&b->mu);
		if (xz_plugin_post(p, reload_run, j) != XZ_OK) {
			free(j);
			pthread_mutex_lock(&b->mu);
			b->left--;
			pthread_mutex_unlock(&b->mu);
			continue;
		}
		queued++;
	}
	if (name != NULL && queued == 0) {
		*why = "no such plugin";
		goto none;
	}
	pthread_mutex_lock(&b->mu);
	bool last = --b->left == 0;
	pthread_mutex_unlock(&b->mu);
	if (last)
		batch_finish(b);
	return queued;
none:
	if (b->req)
		xz_kernel_host()->msg_release(sys, b->req);
	json_decref(b->done);
	json_decref(b->failed);
	pthread_mutex_destroy(&b->mu);
	free(b);
	return -1;
}

/* xz.sys.store.reset {"store","reason"}: accept a lost store on record
 * (docs/audit.md, "Stores that cannot vanish"). The record (who, when,
 * which store, its identity, why) is in the kernel's audit spool before
 * the data folder's MANIFEST forgets the store: a record that cannot be
 * written resets nothing. The store's plugin starts empty at the next
 * start; a plugin running on its store is refused. */
static void
on_store_reset(void *ud, const xz_msg *m)
{
	sys_state       *st = ud;
	xz_kernel       *k  = st->self->k;
	const xz_caller *c  = st->h->caller(st->self, m);
	json_t          *o  = json_loadb(m->data, m->len, 0, NULL);
	const char *store   = json_string_value(json_object_get(o, "store"));
	const char *reason  = json_string_value(json_object_get(o, "reason"));
	char        id[33]  = "", msg[512];
	int64_t     gen     = 0;
	const char *code    = NULL;
	bool        admin   = false;

	/* The role admin only (not a plugin's grants). */
	for (size_t i = 0; c->roles[i] != NULL; i++)
		admin = admin || strcmp(c->roles[i], "admin") == 0;
	if (!admin) {
		code = XZ_REPLY_FORBIDDEN;
		snprintf(msg, sizeof(msg),
		    xz_text(
		        "%s: '%s' may not do this: it needs the role admin"),
		    m->topic, c->user);
	} else if (!json_is_object(o) || store == NULL || reason == NULL) {
		code = XZ_REPLY_BAD_REQUEST;
		snprintf(msg, sizeof(msg), "%s",
		    xz_text("expected {\"store\": NAME, \"reason\": TEXT}"));
	} else if (reason[strspn(reason, " \t\r\n")] == '\0') {
		code = XZ_REPLY_BAD_REQUEST;
		snprintf(msg, sizeof(msg), "%s",
		    xz_text("a reset needs a reason (--reason TEXT): it goes "
		            "into the audit record"));
	} else if (k->storenode == NULL) {
		code = XZ_REPLY_INVALID_STATE;
		snprintf(msg, sizeof(msg), "%s",
		    xz_text("this node keeps no data folder (node.data_dir): "
		            "no store to reset"));
	} else if (xz_store_manifest_get(k, store, id, &gen) != 1) {
		code = XZ_REPLY_NOT_FOUND;
		snprintf(msg, sizeof(msg),
		    xz_text("unknown store '%s': the data folder's MANIFEST "
		            "does not list it"),
		    store);
	} else {
		xz_plugin *p = xz_kernel_find(k, store);
		if (p != NULL && atomic_load(&p->phase) != XZ_PHASE_FAILED) {
			code = XZ_REPLY_INVALID_STATE;
			snprintf(msg, sizeof(msg),
			    xz_text("plugin '%s' runs on its store: a reset "
			            "accepts a store that was lost (the node "
			            "holds its plugin at start)"),
			    store);
		}
	}
	if (code != NULL) {
		json_decref(o);
		st->h->reply_error(st->self, m, code, msg);
		return;
	}
	json_t *r = json_pack(
	    "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:I,s:s,s:s}", "who",
	    c->user, "role", c->roles[0] ? c->roles[0] : "", "agency",
	    c->agency, "action", "UPDATE", "subject_type", "store",
	    "subject_id", store, "purpose", reason, "service", "sys",
	    "outcome", "reset", "time",
	    (json_int_t) (xz_clock_now_us(&k->clock) / 1000u), "store_id", id,
	    "store_generation", (json_int_t) gen, "reason", reason, "auth",
	    c->auth);
	char *s = r ? json_dumps(r, JSON_COMPACT) : NULL;
	int   rc
	    = s != NULL ? xz_kaudit_write(k, "audit.sys.reset", s) : XZ_ENOMEM;
	free(s);
	json_decref(r);
	if (rc != XZ_OK) {
		json_decref(o);
		st->h->reply_error(st->self, m, XZ_REPLY_AUDIT_UNAVAILABLE,
		    xz_text(
		        "nothing is reset: the reset's audit record cannot "
		        "be written"));
		return;
	}
	rc = xz_store_manifest_drop(k, store, id);
	if (rc < 0) {
		json_decref(o);
		st->h->reply_error(st->self, m, XZ_REPLY_INTERNAL,
		    xz_text(
		        "the MANIFEST cannot be written: the store is still "
		        "listed (see the node log)"));
		return;
	}
	xz_log(XZ_LOG_WARN, "sys",
	    "store '%s' (identity %s, generation %lld) reset by %s: %s; its "
	    "plugin starts with an empty store at the next start",
	    store, id, (long long) gen, c->user, reason);
	reply_json(st, m,
	    json_pack("{s:s,s:s,s:I,s:s,s:s}", "reset", store, "store_id", id,
	        "store_generation", (json_int_t) gen, "by", c->user, "next",
	        "restart the node: the plugin starts with an empty store"));
	json_decref(o);
}

static void
on_reload(void *ud, const xz_msg *m)
{
	sys_state   *st = ud;
	json_error_t e;
	json_t      *o    = json_loadb(m->data, m->len, 0, &e);
	json_t      *name = o ? json_object_get(o, "name") : NULL;
	const char  *why  = NULL;

	if (!require_admin(st, m)) {
		json_decref(o);
		return;
	}
	if (m->len > 0 && (o == NULL || (name && !json_is_string(name)))) {
		json_decref(o);
		st->h->reply_error(st->self, m, XZ_REPLY_BAD_REQUEST,
		    "expected {\"name\": \"plugin\"} or {}");
		return;
	}
	/* Every reload (no name) reads the permissions again first; a
	 * config with errors refuses the whole reload. */
	if (name == NULL) {
		char err[1024];
		if (xz_kernel_perms_reload(st->self->k, err, sizeof(err))
		    != XZ_OK) {
			char msg[1200];
			snprintf(msg, sizeof(msg),
			    "the config has errors; the permissions in force "
			    "stay: %s",
			    err);
			st->h->reply_error(
			    st->self, m, XZ_REPLY_BAD_REQUEST, msg);
			json_decref(o);
			return;
		}
	}
	if (reload_start(st->self->k, st->self,
	        name ? json_string_value(name) : NULL, m, &why)
	    < 0) {
		char msg[256];
		snprintf(msg, sizeof(msg), xz_text("cannot reload '%s': %s"),
		    name ? json_string_value(name) : "*", why);
		st->h->reply_error(st->self, m, XZ_REPLY_INVALID_STATE, msg);
	}
	json_decref(o);
}

void
xz_sys_reload_all(xz_kernel *k)
{
	xz_plugin  *sys = xz_kernel_find(k, "sys");
	const char *why = NULL;
	if (sys != NULL)
		reload_start(k, sys, NULL, NULL, &why);
}

void
xz_sys_notify(xz_kernel *k, const char *fmt, ...)
{
	char    state[512];
	va_list ap;

	if (k->notify.fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(state, sizeof(state), fmt, ap);
	va_end(ap);
	k->notify.fn(k->notify.ud, state);
}

/* The service manager's watchdog: this runs as a job of the sys actor, so
 * it proves the timer thread and a worker are alive (docs/operations.md). */
static void
on_watchdog(void *ud, uint64_t id)
{
	sys_state *st = ud;

	(void) id;
	xz_sys_notify(st->self->k, "WATCHDOG=1");
}

/* After a burst, the allocator keeps freed memory in its arenas; hand it
 * back to the system every few seconds so the node returns to its idle
 * size (xz_kernel_set_trim). */
static void
on_trim(void *ud, uint64_t id)
{
	sys_state *st = ud;

	(void) id;
	if (st->self->k->trim != NULL)
		st->self->k->trim();
	else
		malloc_trim(0);
}

/* The kernel's audit spool into the audit plugin (kaudit.c). */
static void
on_kaudit(void *ud, uint64_t id)
{
	sys_state *st = ud;
	(void) id;
	xz_kaudit_drain(st->self->k, st->self, st->h);
}

static int
sys_init(xz_plugin *self, const xz_host *h, void **state)
{
	sys_state *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return XZ_ENOMEM;
	st->self = self;
	st->h    = h;
	*state   = st;
	if (h->subscribe(self, "xz.sys.ping", NULL, on_ping, st, NULL)
	    || h->subscribe(self, "xz.sys.status", NULL, on_status, st, NULL)
	    || h->subscribe(self, "xz.sys.clock.*", NULL, on_clock, st, NULL)
	    || h->subscribe(self, "xz.sys.reload", NULL, on_reload, st, NULL)
	    || h->subscribe(
	        self, "xz.sys.store.reset", NULL, on_store_reset, st, NULL)
	    || h->subscribe(
	        self, "xz.sys.log.level", NULL, on_log_level, st, NULL)
	    || h->timer_start(self, 5000, 5000, on_trim, st, NULL)
	    || h->timer_start(self, 1000, 1000, on_kaudit, st, NULL)) {
		free(st);
		return XZ_ENOMEM;
	}
	uint64_t wd_ms = (self->k->notify.watchdog_us + 999) / 1000;
	if (self->k->notify.fn != NULL && wd_ms > 0
	    && h->timer_start(self, wd_ms, wd_ms, on_watchdog, st, NULL)) {
		free(st);
		return XZ_ENOMEM;
	}
	/* Logins, sessions, identity administration (sys_auth.c). */
	int rc = xz_sys_auth_init(self, h, &st->auth);
	if (rc != XZ_OK)
		free(st);
	return rc;
}

static void
sys_stop(void *state)
{
	xz_sys_auth_stop(((sys_state *) state)->auth);
}

static void
sys_fini(void *state)
{
	xz_sys_auth_fini(((sys_state *) state)->auth);
	free(state);
}

static const xz_plugin_desc sys_desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name        = "sys",
	.version     = XZ_VERSION_STRING,
	.description = "the kernel's management requests (xz.sys.*)",
	.init        = sys_init,
	.stop        = sys_stop,
	.fini        = sys_fini,
};

const xz_plugin_desc *
xz_sys_desc(void)
{
	return &sys_desc;
}
