/*
 * kernel.c - the node's lifecycle: load, order, start, run, drain, stop.
 *
 * Static problems (config, a plugin that cannot be opened, bad options,
 * a requires cycle) are found by xz_kernel_load, which is all that
 * `xiezhi check` runs. At run time a plugin whose init or start fails is
 * isolated: it is logged, marked FAILED in status, never called again, and
 * the plugins that require it are not started; the node keeps running.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "kernel_impl.h"
#include "lua/luahost.h"

static const char *const level_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };
static pthread_mutex_t   log_mu        = PTHREAD_MUTEX_INITIALIZER;

void
xz_log(const xz_kernel *k, int level, const char *who, const char *fmt, ...)
{
	char            msg[2048], ts[40];
	struct timespec now;
	struct tm       tm;
	va_list         ap;

	if (level > (k ? k->log_level : XZ_LOG_INFO) || level < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One record, one line: fold embedded newlines. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	pthread_mutex_lock(&log_mu);
	fprintf(stderr, "%s.%03ldZ %-5s %s: %s\n", ts, now.tv_nsec / 1000000,
	    level_names[level > 3 ? 3 : level], who ? who : "kernel", msg);
	fflush(stderr);
	pthread_mutex_unlock(&log_mu);
}

uint64_t
xz_now_us(const xz_kernel *k)
{
	return k->base_real_us + (xz_mono_us() - k->base_mono_us)
	    + (uint64_t) atomic_load_explicit(
	        &k->clock_offset_us, memory_order_relaxed);
}

void
xz_new_id(xz_kernel *k, uint8_t id[16], uint64_t *key)
{
	uint64_t n
	    = atomic_fetch_add_explicit(&k->next_id, 1, memory_order_relaxed)
	    + 1;
	uint64_t p = k->node_prefix;

	for (int i = 0; i < 8; i++) {
		id[i]     = (uint8_t) (p >> (8 * i));
		id[8 + i] = (uint8_t) (n >> (8 * i));
	}
	if (key != NULL)
		*key = n;
}

int
xz_kernel_new(xz_kernel **out, xz_config *cfg, xz_diag *d)
{
	xz_kernel      *k = calloc(1, sizeof(*k));
	struct timespec rt;

	*out = NULL;
	if (k == NULL) {
		xz_diag_add(d, NULL, 0, "out of memory");
		return XZ_ENOMEM;
	}
	k->cfg       = cfg;
	k->log_level = cfg->log_level;
	if (getrandom(&k->node_prefix, sizeof(k->node_prefix), 0)
	    != (ssize_t) sizeof(k->node_prefix))
		k->node_prefix
		    = (uint64_t) getpid() << 32 ^ (uint64_t) time(NULL);
	clock_gettime(CLOCK_REALTIME, &rt);
	k->base_real_us
	    = (uint64_t) rt.tv_sec * 1000000u + (uint64_t) rt.tv_nsec / 1000u;
	k->base_mono_us = xz_mono_us();
	xz_mutex_init_hot(&k->rq_mu);
	pthread_cond_init(&k->rq_cv, NULL);
	pthread_mutex_init(&k->quiet_mu, NULL);
	pthread_cond_init(&k->quiet_cv, NULL);
	k->stop_pipe[0] = k->stop_pipe[1] = -1;
	if (pipe2(k->stop_pipe, O_CLOEXEC) != 0 || xz_bus_init(k) != XZ_OK) {
		xz_diag_add(d, NULL, 0, "cannot create the kernel: %s",
		    strerror(errno));
		xz_kernel_free(k);
		return XZ_ENOMEM;
	}
	*out = k;
	return XZ_OK;
}

const xz_config *
xz_kernel_config(const xz_kernel *k)
{
	return k->cfg;
}

xz_kernel *
xz_plugin_kernel(xz_plugin *p)
{
	return p->k;
}

const xz_plugin_desc *
xz_plugin_desc_of(xz_plugin *p)
{
	return p->desc;
}

const xz_plugin_cfg *
xz_plugin_cfg_of(xz_plugin *p)
{
	return p->pc;
}

xz_plugin *
xz_kernel_find(xz_kernel *k, const char *name)
{
	for (size_t i = 0; i < k->nplugins; i++)
		if (strcmp(k->plugins[i]->name, name) == 0)
			return k->plugins[i];
	return NULL;
}

int
xz_kernel_publish(xz_kernel *k, const char *source, const char *topic,
    const void *data, size_t len)
{
	return xz_bus_publish(
	    k, source, topic, strlen(topic), data, len, XZ_CT_JSON);
}

/* Index of the plugin providing `name` (instance or descriptor name). */
static ssize_t
provider(xz_kernel *k, const char *name)
{
	for (size_t i = 0; i < k->nplugins; i++)
		if (strcmp(k->plugins[i]->name, name) == 0)
			return (ssize_t) i;
	for (size_t i = 0; i < k->nplugins; i++)
		if (strcmp(k->plugins[i]->desc->name, name) == 0)
			return (ssize_t) i;
	return -1;
}

/* Order plugins so each comes after what it requires (stable: config
 * order otherwise). Reports missing requirements and cycles. */
static int
order_plugins(xz_kernel *k, xz_diag *d)
{
	size_t      n      = k->nplugins;
	int        *state  = calloc(n + 1, sizeof(*state));
	xz_plugin **sorted = calloc(n + 1, sizeof(*sorted));
	size_t      out = 0, errors = 0;

	if (state == NULL || sorted == NULL) {
		free(state);
		free(sorted);
		xz_diag_add(d, NULL, 0, "out of memory");
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		xz_plugin *p = k->plugins[i];
		for (const char *const *r = p->desc->requires; r && *r; r++)
			if (provider(k, *r) < 0) {
				xz_diag_add(d, p->pc ? p->pc->file : NULL,
				    p->pc ? p->pc->line : 0,
				    "plugin '%s' requires '%s', which is not "
				    "in this deployment (or is disabled)",
				    p->name, *r);
				errors++;
			}
	}
	/* Repeatedly emit the first plugin whose requirements are out. */
	while (errors == 0 && out < n) {
		bool progress = false;
		for (size_t i = 0; i < n; i++) {
			if (state[i])
				continue;
			xz_plugin *p     = k->plugins[i];
			bool       ready = true;
			for (const char *const *r = p->desc->requires; r && *r;
			     r++) {
				ssize_t j = provider(k, *r);
				if (j >= 0 && (size_t) j != i && !state[j])
					ready = false;
			}
			if (ready) {
				state[i]      = 1;
				sorted[out++] = p;
				progress      = true;
				break;
			}
		}
		if (!progress) {
			for (size_t i = 0; i < n; i++) {
				if (state[i])
					continue;
				xz_plugin *p = k->plugins[i];
				xz_diag_add(d, p->pc ? p->pc->file : NULL,
				    p->pc ? p->pc->line : 0,
				    "plugin '%s' is part of a requires cycle",
				    p->name);
				errors++;
			}
			break;
		}
	}
	if (errors == 0) {
		if (n > 0)
			memcpy(k->plugins, sorted, n * sizeof(*sorted));
		for (size_t i = 0; i < n; i++)
			k->plugins[i]->index = (int) i;
	}
	free(state);
	free(sorted);
	return (int) errors;
}

int
xz_kernel_load(xz_kernel *k, xz_diag *d)
{
	size_t before = d->count;

	for (size_t i = 0; i < k->cfg->nplugins; i++) {
		const xz_plugin_cfg *pc = &k->cfg->plugins[i];
		xz_plugin           *p;
		if (!pc->enabled)
			continue;
		if (xz_loader_open(k, pc, &p, d) != XZ_OK)
			continue;
		xz_plugin **v
		    = realloc(k->plugins, (k->nplugins + 1) * sizeof(*v));
		if (v == NULL) {
			xz_loader_close(p);
			xz_diag_add(d, NULL, 0, "out of memory");
			break;
		}
		k->plugins                = v;
		k->plugins[k->nplugins++] = p;
	}
	k->loaded = true;
	if (d->count == before)
		order_plugins(k, d);
	return (int) (d->count - before);
}

struct cb_ctx {
	xz_plugin *p;
	int        rc;
	int        which; /* 0 init, 1 start, 2 stop, 3 fini */
};

static void
run_cb(void *arg)
{
	struct cb_ctx *c = arg;
	xz_plugin     *p = c->p;

	switch (c->which) {
	case 0:
		c->rc = p->desc->init(p, xz_kernel_host(), &p->state);
		break;
	case 1:
		c->rc = p->desc->start ? p->desc->start(p->state) : XZ_OK;
		break;
	case 2:
		if (p->desc->stop)
			p->desc->stop(p->state);
		break;
	case 3:
		p->desc->fini(p->state);
		break;
	}
	/* Mark a failure here, in the actor's context, so that no job or
	 * message queued meanwhile (a timer armed or an event published in
	 * init) reaches the plugin once this callback returns. */
	if (c->which <= 1 && c->rc != XZ_OK)
		p->phase = XZ_PHASE_FAILED;
}

static int
plugin_call(xz_plugin *p, int which)
{
	struct cb_ctx c = { .p = p, .which = which };
	xz_actor_call(p, run_cb, &c);
	return c.rc;
}

/* Undo a plugin that failed after init: no callback but fini runs. */
static void
plugin_isolate(xz_kernel *k, xz_plugin *p, bool inited)
{
	p->phase = XZ_PHASE_FAILED; /* from now on, only fini runs */
	xz_bus_unsubscribe_all(k, p, NULL);
	xz_timers_drop_owner(k, p);
	if (inited)
		plugin_call(p, 3);
}

static bool
requirement_failed(xz_kernel *k, xz_plugin *p)
{
	for (const char *const *r = p->desc->requires; r && *r; r++) {
		ssize_t j = provider(k, *r);
		if (j >= 0 && k->plugins[j]->phase == XZ_PHASE_FAILED)
			return true;
	}
	return false;
}

int
xz_kernel_start(xz_kernel *k, xz_diag *d)
{
	const xz_plugin_desc *console = xz_lua_console_desc();
	int                   rc;

	if (!k->loaded && xz_kernel_load(k, d) != 0)
		return XZ_EINVAL;
	if (xz_kernel_add(k, "sys", xz_sys_desc(), d) != XZ_OK)
		return XZ_EINVAL;
	if (console != NULL
	    && xz_kernel_add(k, "console", console, d) != XZ_OK)
		return XZ_EINVAL;
	if (order_plugins(k, d) != 0)
		return XZ_EINVAL;
	k->started_at_us = xz_now_us(k);
	if ((rc = xz_timers_init(k)) != XZ_OK
	    || (rc = xz_workers_start(
	            k, k->cfg->workers > 1 ? k->cfg->workers : 2))
	        != XZ_OK) {
		xz_diag_add(d, NULL, 0, "cannot start threads");
		return rc;
	}
	k->started = true;
	for (size_t i = 0; i < k->nplugins; i++) {
		xz_plugin *p = k->plugins[i];
		if (requirement_failed(k, p)) {
			xz_log(k, XZ_LOG_ERROR, p->name,
			    "not started: a plugin it requires failed");
			p->phase = XZ_PHASE_FAILED;
			continue;
		}
		if ((rc = plugin_call(p, 0)) != XZ_OK) {
			xz_log(k, XZ_LOG_ERROR, p->name,
			    "init failed: %s; the plugin is disabled",
			    xz_kernel_host()->strerror(rc));
			plugin_isolate(k, p, false);
			continue;
		}
		p->phase = XZ_PHASE_INITED;
	}
	for (size_t i = 0; i < k->nplugins; i++) {
		xz_plugin *p = k->plugins[i];
		if (p->phase != XZ_PHASE_INITED)
			continue;
		if (requirement_failed(k, p)) {
			xz_log(k, XZ_LOG_ERROR, p->name,
			    "not started: a plugin it requires failed");
			plugin_isolate(k, p, true);
			continue;
		}
		if ((rc = plugin_call(p, 1)) != XZ_OK) {
			xz_log(k, XZ_LOG_ERROR, p->name,
			    "start failed: %s; the plugin is disabled",
			    xz_kernel_host()->strerror(rc));
			plugin_isolate(k, p, true);
			continue;
		}
		p->phase = XZ_PHASE_STARTED;
	}
	if ((rc = xz_link_start(k, d)) != XZ_OK)
		return rc;

	xz_log(k, XZ_LOG_INFO, "kernel",
	    "node '%s' running: %zu plugins, "
	    "control %s",
	    k->cfg->node_name, k->nplugins, k->cfg->control_url);
	return XZ_OK;
}

void
xz_kernel_stop(xz_kernel *k)
{
	char c = 'S';
	if (k != NULL && k->stop_pipe[1] >= 0)
		(void) !write(k->stop_pipe[1], &c, 1);
}

void
xz_kernel_reload_all(xz_kernel *k)
{
	char c = 'H';
	if (k != NULL && k->stop_pipe[1] >= 0)
		(void) !write(k->stop_pipe[1], &c, 1);
}

void
xz_kernel_run(xz_kernel *k)
{
	char c;

	for (;;) {
		ssize_t n = read(k->stop_pipe[0], &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == 'S')
			break;
		if (c == 'H')
			xz_sys_reload_all(k);
	}
}

static void
shutdown_node(xz_kernel *k)
{
	atomic_store(&k->stopping, true);
	xz_log(k, XZ_LOG_INFO, "kernel", "stopping: draining the bus");
	xz_link_stop(k);
	xz_timers_pause_plugins(k);
	if (xz_wait_quiet(k, 30000) != 0)
		xz_log(k, XZ_LOG_WARN, "kernel",
		    "drain took over 30 s; stopping anyway");
	for (size_t i = k->nplugins; i-- > 0;) {
		xz_plugin *p = k->plugins[i];
		if (p->phase != XZ_PHASE_STARTED
		    && p->phase != XZ_PHASE_INITED)
			continue;
		plugin_call(p, 2);
		p->phase = XZ_PHASE_STOPPED;
		xz_wait_quiet(k, 10000);
	}
	for (size_t i = 0; i < k->nplugins; i++) {
		xz_bus_unsubscribe_all(k, k->plugins[i], NULL);
		pthread_mutex_lock(&k->plugins[i]->mu);
		k->plugins[i]->closed = true;
		pthread_cond_broadcast(&k->plugins[i]->not_full);
		pthread_mutex_unlock(&k->plugins[i]->mu);
	}
	xz_workers_stop(k);
	xz_timers_fini(k);
	for (size_t i = k->nplugins; i-- > 0;) {
		xz_plugin *p = k->plugins[i];
		if (p->phase != XZ_PHASE_STOPPED)
			continue;
		xz_current = p;
		p->desc->fini(p->state);
		xz_current = NULL;
	}
	xz_log(k, XZ_LOG_INFO, "kernel", "stopped");
}

void
xz_kernel_free(xz_kernel *k)
{
	if (k == NULL)
		return;
	if (k->started)
		shutdown_node(k);
	for (size_t i = 0; i < k->nplugins; i++)
		xz_bus_unsubscribe_all(k, k->plugins[i], NULL);
	if (k->subs != NULL)
		xz_bus_fini(k);
	for (size_t i = 0; i < k->nplugins; i++)
		xz_loader_close(k->plugins[i]);
	free(k->plugins);
	if (k->stop_pipe[0] >= 0)
		close(k->stop_pipe[0]);
	if (k->stop_pipe[1] >= 0)
		close(k->stop_pipe[1]);
	pthread_mutex_destroy(&k->rq_mu);
	pthread_cond_destroy(&k->rq_cv);
	pthread_mutex_destroy(&k->quiet_mu);
	pthread_cond_destroy(&k->quiet_cv);
	free(k);
}
