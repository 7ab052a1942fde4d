/*
 * host.c - the host table handed to every plugin: the SDK's only door into
 * the kernel. Every entry checks its arguments, because a plugin's bug
 * must come back as an error value, not crash the node.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/durable.h"
#include "kernel/kernel_priv.h"
#include "util/msg.h"
#include "util/errors.h"
#include "util/topic.h"

#include <jansson.h>

/* The caller of a message when nothing better is known (no plugin):
 * never handed out on a running node, where the node's principal is. */
static const char *const nobody_roles[]   = { NULL };
static const xz_caller   xz_caller_nobody = { .struct_size = sizeof(xz_caller),
	  .user                                            = "node",
	  .name                                            = "node",
	  .agency                                          = "",
	  .roles                                           = nobody_roles,
	  .auth                                            = "node" };

static const char *
h_strerror(int err)
{
	return xz_strerror(err);
}

static void
h_log(xz_plugin *self, int level, const char *fmt, ...)
{
	char    buf[2048];
	va_list ap;

	if (self == NULL || fmt == NULL || level > xz_log_level())
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), xz_text(fmt), ap); /* util/msg.h */
	va_end(ap);
	xz_log(level, self->name, "%s", buf);
}

/* A plugin refused by its grants: counted (auth.denied in status),
 * logged, and published on audit.sys.denied by the kernel. */
static int
grant_denied(xz_plugin *self, const char *what, const char *topic)
{
	xz_kernel *k = self->k;
	char      *s;

	atomic_fetch_add(&k->denied, 1);
	xz_log(XZ_LOG_WARN, self->name,
	    "forbidden: plugin '%s' has no %s grant for '%s'", self->name,
	    what, topic);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I}",
	    "who", self->who->pub.user, "role", "plugin", "action", "REFUSE",
	    "subject_type", "topic", "subject_id", topic, "purpose", what,
	    "outcome", "forbidden", "service", "kernel", "auth", "plugin",
	    "time", (json_int_t) (xz_clock_now_us(&k->clock) / 1000u));
	if (o != NULL && (s = json_dumps(o, JSON_COMPACT)) != NULL) {
		if (xz_bus_publish(k->bus, "kernel", "audit.sys.denied", 16, s,
		        strlen(s), XZ_CT_JSON, NULL)
		    != XZ_OK)
			xz_kaudit_lost(k);
		free(s);
	}
	json_decref(o);
	return XZ_EPERM;
}

/* Whether self may publish (or request) on topic: its grants when the
 * config gives any; and audit records only of its own subject
 * (audit.<name>.>), unless it is the audit plugin. audit.append (a
 * plugin's spool handed to the audit plugin, which alone may answer
 * audit.* and records the requester as the source) is open to all. */
static bool
may_publish(xz_plugin *self, const char *topic)
{
	if (strncmp(topic, "audit.", 6) == 0 && self->who != self->k->who
	    && strcmp(self->desc->name, "audit") != 0
	    && strcmp(topic, "audit.append") != 0) {
		size_t n = strlen(self->name);
		if (strncmp(topic + 6, self->name, n) != 0
		    || topic[6 + n] != '.')
			return false;
	}
	/* the grants in force (a reload may change them) */
	return xz_authz_role_may(
	    self->k->grants, self->name, XZ_AUTHZ_PUBLISH, topic);
}

static bool
may_subscribe(xz_plugin *self, const char *pattern)
{
	return xz_authz_role_may(
	    self->k->grants, self->name, XZ_AUTHZ_SUBSCRIBE, pattern);
}

/* The slot of topic's class in self's traffic counts (plugin.h).
 * Lock-free but for a class seen first. */
static xz_out_class *
class_slot(xz_plugin *self, const char *topic)
{
	xz_out_stats *o = &self->out;
	size_t        n = strcspn(topic, ".");
	unsigned      k, i;

	k = atomic_load_explicit(&o->nclasses, memory_order_acquire);
	for (i = 0; i < k; i++)
		if (strncmp(o->cls[i].name, topic, n) == 0
		    && o->cls[i].name[n] == '\0')
			break;
	if (i == k && k == XZ_OUT_CLASSES) /* all named: no lock */
		return &o->cls[XZ_OUT_CLASSES];
	if (i == k) {
		pthread_mutex_lock(&self->cmu);
		k = atomic_load_explicit(&o->nclasses, memory_order_relaxed);
		for (i = 0; i < k; i++)
			if (strncmp(o->cls[i].name, topic, n) == 0
			    && o->cls[i].name[n] == '\0')
				break;
		if (i == k
		    && (k == XZ_OUT_CLASSES || n == 0
		        || n >= sizeof(o->cls[0].name)))
			i = XZ_OUT_CLASSES;
		else if (i == k) {
			memcpy(o->cls[k].name, topic, n);
			o->cls[k].name[n] = '\0';
			atomic_store_explicit(
			    &o->nclasses, k + 1, memory_order_release);
		}
		pthread_mutex_unlock(&self->cmu);
	}
	return &o->cls[i];
}

/* One message sent by self on topic (or in reply to it). */
static void
count_out(xz_plugin *self, const char *topic, int rc)
{
	if (rc == XZ_OK)
		atomic_fetch_add_explicit(
		    &class_slot(self, topic)->n, 1, memory_order_relaxed);
}

void
xz_host_count_delivery(
    void *ud, xz_actor *owner, const char *topic, bool dropped)
{
	xz_out_class *c = class_slot(xz_plugin_of(owner), topic);

	(void) ud;
	atomic_fetch_add_explicit(
	    dropped ? &c->dropped : &c->in, 1, memory_order_relaxed);
}

static int
h_publish(xz_plugin *self, const char *topic, const void *data, size_t len)
{
	int rc;

	if (self == NULL || topic == NULL || (data == NULL && len > 0))
		return XZ_EINVAL;
	if (!may_publish(self, topic))
		return grant_denied(self, "publish", topic);
	/* The console's record of a chunk: durable before the chunk runs
	 * (kaudit.c); a record that cannot be written refuses it. */
	if (self->pc == NULL && strcmp(self->name, "console") == 0
	    && strncmp(topic, "audit.", 6) == 0 && len > 0) {
		char *js = strndup(data, len);
		rc = js ? xz_kaudit_write(self->k, topic, js) : XZ_ENOMEM;
		free(js);
		count_out(self, topic, rc);
		return rc;
	}
	rc = xz_bus_publish(self->k->bus, self->name, topic, strlen(topic),
	    data, len, XZ_CT_JSON, self->who);
	count_out(self, topic, rc);
	return rc;
}

static int
h_subscribe(xz_plugin *self, const char *pattern, const char *queue_group,
    xz_handler handler, void *ud, uint64_t *sub_id)
{
	if (self == NULL || handler == NULL)
		return XZ_EINVAL;
	if (pattern != NULL && xz_pattern_valid(pattern, strlen(pattern))
	    && !may_subscribe(self, pattern))
		return grant_denied(self, "subscribe", pattern);
	return xz_bus_subscribe(self->k->bus, &self->actor, NULL, pattern,
	    queue_group, handler, ud, sub_id);
}

/* subscribe, and a durable consumer of the node's durable log under the
 * instance's name (plain subscribe on a node without bus.durable). */
static int
h_subscribe_durable(xz_plugin *self, const char *pattern, xz_handler handler,
    void *ud, uint64_t *sub_id)
{
	uint64_t id = 0;
	int      rc = h_subscribe(self, pattern, NULL, handler, ud, &id);

	if (rc == XZ_OK && self->k->durable != NULL
	    && (rc = xz_durable_subscribe(
	            self->k->durable, self->name, pattern, id))
	        != XZ_OK)
		xz_bus_unsubscribe_id(self->k->bus, &self->actor, id);
	if (rc == XZ_OK && sub_id != NULL)
		*sub_id = id;
	return rc;
}

static int
h_ack(xz_plugin *self, const xz_msg *msg)
{
	if (self == NULL || msg == NULL)
		return XZ_EINVAL;
	if (!(msg->flags & XZ_MSG_DURABLE) || self->k->durable == NULL)
		return XZ_OK;
	return xz_durable_ack(self->k->durable, self->name, msg->id);
}

static int
h_unsubscribe(xz_plugin *self, uint64_t sub_id)
{
	if (self == NULL)
		return XZ_EINVAL;
	return xz_bus_unsubscribe_id(self->k->bus, &self->actor, sub_id);
}

static int
h_request(xz_plugin *self, const char *topic, const void *data, size_t len,
    uint32_t timeout_ms, xz_reply_fn fn, void *ud)
{
	if (self == NULL || topic == NULL || fn == NULL
	    || (data == NULL && len > 0))
		return XZ_EINVAL;
	if (!may_publish(self, topic))
		return grant_denied(self, "publish", topic);
	int rc = xz_bus_request(self->k->bus, &self->actor, NULL, NULL,
	    self->name, topic, strlen(topic), data, len, timeout_ms, fn, ud,
	    self->who);
	count_out(self, topic, rc);
	return rc;
}

static int
h_reply(xz_plugin *self, const xz_msg *req, const void *data, size_t len)
{
	if (self == NULL || req == NULL || req->kind != XZ_KIND_REQUEST
	    || (data == NULL && len > 0))
		return XZ_EINVAL;
	if (len > self->k->cfg->max_payload)
		return XZ_ETOOBIG;
	int rc = xz_bus_complete(self->k->bus, req->id, xz_kmsg_of(req)->key,
	    self->name, data, len, 0, self->who);
	count_out(self, req->topic, rc);
	return rc;
}

static int
h_reply_error(
    xz_plugin *self, const xz_msg *req, const char *code, const char *message)
{
	size_t n;
	char  *e;
	int    rc;

	if (self == NULL || req == NULL || req->kind != XZ_KIND_REQUEST
	    || code == NULL)
		return XZ_EINVAL;
	if ((e = xz_error_json(code, message, &n)) == NULL)
		return XZ_ENOMEM;
	rc = xz_bus_complete(self->k->bus, req->id, xz_kmsg_of(req)->key,
	    self->name, e, n, XZ_MSG_ERROR, self->who);
	free(e);
	count_out(self, req->topic, rc);
	return rc;
}

static const xz_msg *
h_msg_retain(xz_plugin *self, const xz_msg *msg)
{
	(void) self;
	if (msg == NULL)
		return NULL;
	xz_kmsg_ref(xz_kmsg_of(msg));
	return msg;
}

static void
h_msg_release(xz_plugin *self, const xz_msg *msg)
{
	(void) self;
	if (msg != NULL)
		xz_kmsg_unref(xz_kmsg_of(msg));
}

/* A plugin timer came due (timer thread): hand it to the plugin's actor.
 * -1 when no memory: the timer layer tries again shortly. */
struct timer_job {
	xz_job     job; /* first */
	xz_plugin *p;
	uint64_t   id;
};

static void
timer_job_run(xz_job *j)
{
	struct timer_job *tj = (struct timer_job *) j;
	xz_any_fn         cb;
	void             *ud;

	if (xz_timer_take(tj->p->k->timers, tj->id, &cb, &ud))
		((xz_timer_fn) cb)(ud, tj->id);
	free(tj);
}

static void
timer_job_drop(xz_job *j)
{
	free(j);
}

static int
timer_due(void *ud, uint64_t arg, uint64_t id)
{
	xz_plugin        *p  = ud;
	struct timer_job *tj = calloc(1, sizeof(*tj));

	(void) arg;
	if (tj == NULL)
		return -1;
	tj->job.run  = timer_job_run;
	tj->job.drop = timer_job_drop;
	tj->p        = p;
	tj->id       = id;
	xz_actor_job(&p->actor, &tj->job);
	return 0;
}

static int
h_timer_start(xz_plugin *self, uint64_t delay_ms, uint64_t period_ms,
    xz_timer_fn fn, void *ud, uint64_t *timer_id)
{
	if (self == NULL || fn == NULL || delay_ms > UINT64_MAX / 1000
	    || period_ms > UINT64_MAX / 1000)
		return XZ_EINVAL;
	return xz_timer_add(self->k->timers, self, delay_ms * 1000u,
	    period_ms * 1000u, 0, timer_due, self, 0, (xz_any_fn) fn, ud,
	    timer_id);
}

static int
h_timer_cancel(xz_plugin *self, uint64_t id)
{
	if (self == NULL)
		return XZ_EINVAL;
	return xz_timer_cancel(self->k->timers, self, id);
}

static uint64_t
h_now_ms(xz_plugin *self)
{
	return self ? xz_clock_now_us(&self->k->clock) / 1000u : 0;
}

static const xz_optval *
opt_get(xz_plugin *self, const char *name, int type, int *rc)
{
	const xz_optval *v;

	if (self == NULL || name == NULL) {
		*rc = XZ_EINVAL;
		return NULL;
	}
	v = xz_optvals_find(&self->opts, name);
	if (v == NULL || !v->set) {
		*rc = XZ_ENOENT;
		return NULL;
	}
	if (v->decl->type != type) {
		*rc = XZ_ETYPE;
		return NULL;
	}
	*rc = XZ_OK;
	return v;
}

static int
h_opt_int(xz_plugin *self, const char *name, int64_t *out)
{
	int              rc;
	const xz_optval *v = opt_get(self, name, XZ_OPT_INT, &rc);
	if (v != NULL && out != NULL)
		*out = v->v.i;
	return rc;
}

static int
h_opt_float(xz_plugin *self, const char *name, double *out)
{
	int              rc;
	const xz_optval *v = opt_get(self, name, XZ_OPT_FLOAT, &rc);
	if (v != NULL && out != NULL)
		*out = v->v.f;
	return rc;
}

static int
h_opt_bool(xz_plugin *self, const char *name, int *out)
{
	int              rc;
	const xz_optval *v = opt_get(self, name, XZ_OPT_BOOL, &rc);
	if (v != NULL && out != NULL)
		*out = v->v.b;
	return rc;
}

static const char *
h_opt_string(xz_plugin *self, const char *name)
{
	int              rc;
	const xz_optval *v = opt_get(self, name, XZ_OPT_STRING, &rc);
	return v ? v->v.s : NULL;
}

static struct sqlite3 *
h_store(xz_plugin *self)
{
	return self ? xz_store_open(self) : NULL;
}

static void
h_counter_add(xz_plugin *self, const char *name, int64_t delta)
{
	if (self == NULL || name == NULL)
		return;
	pthread_mutex_lock(&self->cmu);
	for (size_t i = 0; i < self->ncounters; i++)
		if (strcmp(self->counters[i].name, name) == 0) {
			self->counters[i].value += delta;
			pthread_mutex_unlock(&self->cmu);
			return;
		}
	xz_counter *v
	    = realloc(self->counters, (self->ncounters + 1) * sizeof(*v));
	if (v != NULL) {
		self->counters           = v;
		v[self->ncounters].name  = strdup(name);
		v[self->ncounters].value = delta;
		if (v[self->ncounters].name != NULL)
			self->ncounters++;
	}
	pthread_mutex_unlock(&self->cmu);
}

static const char *
h_name(xz_plugin *self)
{
	return self ? self->name : NULL;
}

/* Since ABI 1.2: the node's version, for plugins built elsewhere. */
static const char *
h_version(void)
{
	return XZ_VERSION_STRING;
}

/* Since ABI 1.3: who sent msg. A message without a principal came from
 * the node itself. */
static const xz_caller *
h_caller(xz_plugin *self, const xz_msg *msg)
{
	xz_principal *who = msg ? xz_kmsg_of(msg)->who : NULL;

	if (who == NULL && self != NULL)
		who = self->k->who;
	return who ? &who->pub : &xz_caller_nobody;
}

/* ---- sessions (since ABI 1.3): acting for a logged-in person ---- */

struct xz_session {
	xz_principal *who; /* one reference */
	xz_plugin    *owner;
};

static int
h_session_open(
    xz_plugin *self, const char *token, xz_session **sess, const char **why)
{
	const char        *w = NULL;
	xz_token_verify_fn fn;
	xz_principal      *who;
	xz_session        *s;

	if (why != NULL)
		*why = NULL;
	if (self == NULL || token == NULL || sess == NULL)
		return XZ_EINVAL;
	*sess = NULL;
	if (self->pc == NULL || !self->pc->impersonate) {
		if (why != NULL)
			*why
			    = "this plugin may not act for people (its config "
			      "entry has no impersonate = true)";
		return grant_denied(self, "impersonate", "session_open");
	}
	fn = atomic_load(&self->k->verifier.fn);
	if (fn == NULL) {
		if (why != NULL)
			*why = "this node accepts no session tokens (no "
			       "identity store)";
		return XZ_EAUTH;
	}
	if ((who = fn(self->k->verifier.ud, token, &w)) == NULL) {
		if (why != NULL)
			*why = w ? w : "the session token is invalid";
		return XZ_EAUTH;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		xz_principal_unref(who);
		return XZ_ENOMEM;
	}
	s->who   = who;
	s->owner = self;
	*sess    = s;
	return XZ_OK;
}

static void
h_session_close(xz_plugin *self, xz_session *s)
{
	if (s == NULL || s->owner != self)
		return;
	xz_principal_unref(s->who);
	free(s);
}

static const xz_caller *
h_session_caller(xz_plugin *self, xz_session *s)
{
	return s != NULL && s->owner == self ? &s->who->pub : NULL;
}

/* A session's principal may still act: XZ_OK or XZ_EAUTH (expired). */
static int
session_live(xz_plugin *self, xz_session *s)
{
	if (s == NULL || s->owner != self)
		return XZ_EINVAL;
	if (s->who->expires_ms != 0
	    && xz_clock_now_us(&self->k->clock) / 1000u >= s->who->expires_ms)
		return XZ_EAUTH;
	return XZ_OK;
}

/* A person refused through a gateway: as a link connection's denial. */
static int
session_denied(
    xz_plugin *self, xz_session *s, const char *what, const char *topic)
{
	xz_kernel       *k = self->k;
	const xz_caller *c = &s->who->pub;
	char            *j;

	atomic_fetch_add(&k->denied, 1);
	xz_log(XZ_LOG_WARN, self->name,
	    "forbidden: '%s' (via %s) has no %s permission for '%s'", c->user,
	    self->name, what, topic);
	json_t *o = json_pack("{s:s,s:s?,s:s?,s:s,s:s,s:s,s:s,s:s,s:s,s:s,"
	                      "s:s,s:I}",
	    "who", c->user, "role", c->roles[0], "agency",
	    c->agency[0] ? c->agency : NULL, "action", "REFUSE",
	    "subject_type", "topic", "subject_id", topic, "purpose", what,
	    "outcome", "forbidden", "service", "kernel", "auth", c->auth,
	    "via", self->name, "time",
	    (json_int_t) (xz_clock_now_us(&k->clock) / 1000u));
	if (o != NULL && (j = json_dumps(o, JSON_COMPACT)) != NULL) {
		if (xz_bus_publish(k->bus, "kernel", "audit.sys.denied", 16, j,
		        strlen(j), XZ_CT_JSON, NULL)
		    != XZ_OK)
			xz_kaudit_lost(k);
		free(j);
	}
	json_decref(o);
	return XZ_EPERM;
}

static int
h_request_as(xz_plugin *self, xz_session *s, const char *topic,
    const void *data, size_t len, uint32_t timeout_ms, xz_reply_fn fn,
    void *ud)
{
	int rc;

	if (self == NULL || topic == NULL || fn == NULL
	    || (data == NULL && len > 0))
		return XZ_EINVAL;
	if ((rc = session_live(self, s)) != XZ_OK)
		return rc;
	if (!xz_authz_may_publish(self->k->authz, s->who, topic))
		return session_denied(self, s, "publish", topic);
	rc = xz_bus_request(self->k->bus, &self->actor, NULL, NULL, self->name,
	    topic, strlen(topic), data, len, timeout_ms, fn, ud, s->who);
	count_out(self, topic, rc);
	return rc;
}

static int
h_subscribe_as(xz_plugin *self, xz_session *s, const char *pattern,
    xz_handler handler, void *ud, uint64_t *sub_id)
{
	int rc;

	if (self == NULL || handler == NULL || pattern == NULL)
		return XZ_EINVAL;
	if ((rc = session_live(self, s)) != XZ_OK)
		return rc;
	if (!xz_pattern_valid(pattern, strlen(pattern)))
		return XZ_EINVAL;
	if (!xz_authz_may_subscribe(self->k->authz, s->who, pattern))
		return session_denied(self, s, "subscribe", pattern);
	return xz_bus_subscribe(self->k->bus, &self->actor, NULL, pattern,
	    NULL, handler, ud, sub_id);
}

static const xz_host host_table = {
	.struct_size       = sizeof(xz_host),
	.abi_major         = XZ_ABI_MAJOR,
	.abi_minor         = XZ_ABI_MINOR,
	.strerror          = h_strerror,
	.log               = h_log,
	.publish           = h_publish,
	.subscribe         = h_subscribe,
	.unsubscribe       = h_unsubscribe,
	.request           = h_request,
	.reply             = h_reply,
	.reply_error       = h_reply_error,
	.msg_retain        = h_msg_retain,
	.msg_release       = h_msg_release,
	.timer_start       = h_timer_start,
	.timer_cancel      = h_timer_cancel,
	.now_ms            = h_now_ms,
	.opt_int           = h_opt_int,
	.opt_float         = h_opt_float,
	.opt_bool          = h_opt_bool,
	.opt_string        = h_opt_string,
	.store             = h_store,
	.counter_add       = h_counter_add,
	.name              = h_name,
	.version           = h_version,
	.caller            = h_caller,
	.session_open      = h_session_open,
	.session_close     = h_session_close,
	.request_as        = h_request_as,
	.subscribe_as      = h_subscribe_as,
	.session_caller    = h_session_caller,
	.subscribe_durable = h_subscribe_durable,
	.ack               = h_ack,
};

const xz_host *
xz_kernel_host(void)
{
	return &host_table;
}
