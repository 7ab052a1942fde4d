/*
 * host.c - the host table handed to every plugin: the SDK's only door into
 * the kernel. Every entry checks its arguments, because a plugin's bug
 * must come back as an error value, not crash the node.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel_priv.h"
#include "util/errors.h"

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
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	xz_log(level, self->name, "%s", buf);
}

static int
h_publish(xz_plugin *self, const char *topic, const void *data, size_t len)
{
	if (self == NULL || topic == NULL || (data == NULL && len > 0))
		return XZ_EINVAL;
	return xz_bus_publish(self->k->bus, self->name, topic, strlen(topic),
	    data, len, XZ_CT_JSON, self->who);
}

static int
h_subscribe(xz_plugin *self, const char *pattern, const char *queue_group,
    xz_handler handler, void *ud, uint64_t *sub_id)
{
	if (self == NULL || handler == NULL)
		return XZ_EINVAL;
	return xz_bus_subscribe(self->k->bus, &self->actor, NULL, pattern,
	    queue_group, handler, ud, sub_id);
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
	return xz_bus_request(self->k->bus, &self->actor, NULL, NULL,
	    self->name, topic, strlen(topic), data, len, timeout_ms, fn, ud,
	    self->who);
}

static int
h_reply(xz_plugin *self, const xz_msg *req, const void *data, size_t len)
{
	if (self == NULL || req == NULL || req->kind != XZ_KIND_REQUEST
	    || (data == NULL && len > 0))
		return XZ_EINVAL;
	if (len > self->k->cfg->max_payload)
		return XZ_ETOOBIG;
	return xz_bus_complete(self->k->bus, req->id, xz_kmsg_of(req)->key,
	    self->name, data, len, 0, self->who);
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

static const xz_host host_table = {
	.struct_size  = sizeof(xz_host),
	.abi_major    = XZ_ABI_MAJOR,
	.abi_minor    = XZ_ABI_MINOR,
	.strerror     = h_strerror,
	.log          = h_log,
	.publish      = h_publish,
	.subscribe    = h_subscribe,
	.unsubscribe  = h_unsubscribe,
	.request      = h_request,
	.reply        = h_reply,
	.reply_error  = h_reply_error,
	.msg_retain   = h_msg_retain,
	.msg_release  = h_msg_release,
	.timer_start  = h_timer_start,
	.timer_cancel = h_timer_cancel,
	.now_ms       = h_now_ms,
	.opt_int      = h_opt_int,
	.opt_float    = h_opt_float,
	.opt_bool     = h_opt_bool,
	.opt_string   = h_opt_string,
	.store        = h_store,
	.counter_add  = h_counter_add,
	.name         = h_name,
	.version      = h_version,
	.caller       = h_caller,
};

const xz_host *
xz_kernel_host(void)
{
	return &host_table;
}
