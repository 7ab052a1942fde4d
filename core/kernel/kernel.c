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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernel/isolate.h"
#include "bus/durable.h"
#include "kernel/kernel_priv.h"
#include "util/msg.h"
#include "util/errors.h"

static uint64_t
auth_now_ms(void *ud)
{
	return xz_clock_now_us(ud) / 1000u;
}

/* The principals the config names by uid, gid or certificate (auth.local,
 * auth.certs), and the default administrator. 0 or -1 (no memory). */
static int
auth_build(xz_kernel *k)
{
	const xz_config *c         = k->cfg;
	const char      *admin_r[] = { "admin", NULL };

	k->admin = xz_principal_new("admin", "admin", "", admin_r, "");
	if (k->admin == NULL)
		return -1;
	if (c->nauth_ids > 0
	    && (k->link_ids = calloc(c->nauth_ids, sizeof(*k->link_ids)))
	        == NULL)
		return -1;
	for (size_t i = 0; i < c->nauth_ids; i++) {
		const xz_auth_id_cfg *a = &c->auth_ids[i];
		xz_link_id           *m = &k->link_ids[k->nlink_ids];
		m->kind                 = a->kind;
		m->id                   = a->id;
		m->cn                   = a->cn;
		m->who = xz_principal_new(a->user, a->name, a->agency,
		    (const char *const *) a->roles, "");
		if (m->who == NULL)
			return -1;
		k->nlink_ids++;
	}
	if ((k->authz = xz_perms_build(c, false)) == NULL
	    || (k->grants = xz_perms_build(c, true)) == NULL)
		return -1;
	/* A reload replaces these; a node link's own roles stay. */
	xz_authz_mark_config(k->authz);
	xz_authz_mark_config(k->grants);
	k->link_auth = (xz_link_auth) { .authz = k->authz,
		.ids                           = k->link_ids,
		.nids                          = k->nlink_ids,
		.admin                         = k->admin,
		.verifier                      = &k->verifier,
		.now_ms                        = auth_now_ms,
		.now_ud                        = &k->clock };
	return 0;
}

int
xz_kernel_new(xz_kernel **out, xz_config *cfg, xz_diag *d)
{
	xz_kernel *k = calloc(1, sizeof(*k));
	xz_bus_cfg bc;

	*out = NULL;
	xz_text_register(xz_kernel_zh); /* kernel_msg.c: operator logs in zh */
	if (k == NULL) {
		xz_diag_add(d, NULL, 0, "out of memory");
		return XZ_ENOMEM;
	}
	k->cfg = cfg;
	if (xz_store_ckpt_new(k) != 0) {
		free(k);
		xz_diag_add(d, NULL, 0, "out of memory");
		return XZ_ENOMEM;
	}
	pthread_rwlock_init(&k->ids_lock, NULL);
	xz_log_set_level(cfg->log_level);
	xz_log_set_format(cfg->log_format);
	xz_idgen_init(&k->ids);
	xz_clock_init(&k->clock);
	k->stop_pipe[0] = k->stop_pipe[1] = -1;
	bc                                = (xz_bus_cfg) {
		                               .max_payload        = cfg->max_payload,
		                               .publish_timeout_ms = cfg->publish_timeout_ms,
		                               .request_timeout_ms = cfg->request_timeout_ms,
		                               .best_effort        = (const char *const *) cfg->best_effort,
		                               .nbest_effort       = cfg->nbest_effort,
		                               .count              = xz_host_count_delivery,
	};
	char        user[96];
	const char *roles[] = { "admin", "node", NULL };
	snprintf(user, sizeof(user), "node:%s", cfg->node_name);
	k->who = xz_principal_new(user, cfg->node_name, "", roles, "node");
	if (k->who == NULL || auth_build(k) != 0
	    || pipe2(k->stop_pipe, O_CLOEXEC) != 0
	    || (k->sched = xz_sched_new()) == NULL
	    || (k->timers = xz_timers_new(&k->clock)) == NULL
	    || xz_bus_new(&k->bus, &bc, k->timers, &k->clock, &k->ids) != XZ_OK
	    || xz_nodelink_new(&k->nodelink, cfg, k->bus, &k->clock, k->authz,
	           &k->verifier, k->who, d)
	        != XZ_OK) {
		xz_diag_add(d, NULL, 0, "cannot create the kernel: %s",
		    strerror(errno));
		xz_kernel_free(k);
		return XZ_ENOMEM;
	}
	/* audit.> requests are the audit plugin's alone, loaded or not:
	 * with no audit plugin they reach nobody (no_responders), so no
	 * client can answer audit.verify or acknowledge a spool. */
	if (xz_bus_reserve(k->bus, "audit.>", &k->audit_guard) != XZ_OK) {
		xz_diag_add(d, NULL, 0, "out of memory");
		xz_kernel_free(k);
		return XZ_ENOMEM;
	}
	/* Tokens of linked nodes are tried before session tokens. */
	if (k->nodelink != NULL)
		k->link_auth.verifier = xz_nodelink_verifier(k->nodelink);
	/* Linked nodes that prove a certificate: its CN names the link's
	 * principal (before auth.certs). */
	size_t before = k->nlink_ids;
	if (xz_nodelink_add_cert_ids(k->nodelink, &k->link_ids, &k->nlink_ids)
	    != 0) {
		xz_diag_add(d, NULL, 0, "out of memory");
		xz_kernel_free(k);
		return XZ_ENOMEM;
	}
	k->nlink_cert_ids     = k->nlink_ids - before;
	k->link_auth.ids      = k->link_ids;
	k->link_auth.nids     = k->nlink_ids;
	k->link_auth.ids_lock = &k->ids_lock;
	*out                  = k;
	return XZ_OK;
}

void
xz_kernel_set_ext(xz_kernel *k, const xz_kernel_ext *ext)
{
	k->ext = ext;
}

void
xz_kernel_hold_lost(xz_kernel *k)
{
	k->hold_lost = true;
}

void
xz_kernel_set_notify(xz_kernel *k, const xz_kernel_notify *n)
{
	k->notify = *n;
}

void
xz_kernel_set_trim(xz_kernel *k, void (*fn)(void))
{
	k->trim = fn;
}

void
xz_kernel_set_token_verifier(xz_kernel *k, xz_token_verify_fn fn, void *ud)
{
	k->verifier.ud = ud;
	atomic_store(&k->verifier.fn, fn);
}

void
xz_kernel_probe_links(xz_kernel *k, xz_diag *d)
{
	xz_nodelink_probe(k->cfg, d);
}

xz_principal *
xz_kernel_principal(xz_kernel *k)
{
	return k->who;
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

static void durable_warn(xz_kernel *k, xz_diag *d);

int
xz_kernel_load(xz_kernel *k, xz_diag *d)
{
	size_t before = d->count, errors;

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
	if (d->count == before)
		xz_store_check_all(k, d);
	errors = d->count - before;
	if (errors == 0)
		durable_warn(k, d);
	/* Warnings go to `check`'s output but are not errors. */
	for (size_t i = 0; i < k->cfg->nwarnings; i++) {
		const xz_cfg_warning *w = &k->cfg->warnings[i];
		xz_diag_add(d, w->file, w->line, "WARN %s", w->text);
	}
	return (int) errors;
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
		xz_plugin_fail(p);
}

static int
plugin_call(xz_plugin *p, int which)
{
	struct cb_ctx c = { .p = p, .which = which };
	xz_actor_call(&p->actor, run_cb, &c);
	return c.rc;
}

/* Undo a plugin that failed after init: no callback but fini runs. */
static void
plugin_isolate(xz_kernel *k, xz_plugin *p, bool inited)
{
	xz_plugin_fail(p); /* from now on, only fini runs */
	xz_bus_unsubscribe_all(k->bus, &p->actor, NULL);
	xz_timers_drop_owner(k->timers, p);
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

/* The durable log's replay hands a message to one subscription. */
static int
durable_deliver(void *ud, uint64_t sub_id, xz_kmsg *m)
{
	xz_kernel *k = ud;
	return xz_bus_deliver_sub(k->bus, sub_id, m, 200);
}

/* bus.durable: open <data_dir>/bus-durable.db and hand it to the bus.
 * 0, or 1 with the reason in d. */
static int
durable_open(xz_kernel *k, xz_diag *d)
{
	const xz_config *c = k->cfg;
	char             path[4200], err[512];

	if (c->ndurable == 0 || c->data_dir == NULL || k->durable != NULL)
		return 0;
	snprintf(path, sizeof(path), "%s/bus-durable.db", c->data_dir);
	xz_durable_cfg dc = { .path = path,
		.patterns           = (const char *const *) c->durable,
		.npatterns          = c->ndurable,
		.max_bytes          = c->durable_max_bytes,
		.redeliver_ms       = c->durable_redeliver_ms,
		.deliver            = durable_deliver,
		.deliver_ud         = k };
	if (xz_durable_open(&k->durable, &dc, err, sizeof(err)) != XZ_OK) {
		xz_diag_add(d, NULL, 0, "%s", err);
		return 1;
	}
	xz_bus_set_durable(k->bus, k->durable);
	return 0;
}

/* A bus.durable pattern no plugin of the deployment can be behind: its
 * first token names no loaded plugin (topics start with their plugin's
 * name) nor the kernel's audit.sys / xz namespaces. */
static void
durable_warn(xz_kernel *k, xz_diag *d)
{
	const xz_config *c = k->cfg;

	for (size_t i = 0; i < c->ndurable; i++) {
		const char *p   = c->durable[i];
		size_t      len = strcspn(p, ".");
		bool        hit = (len == 1 && (p[0] == '*' || p[0] == '>'))
		    || (len == 5 && strncmp(p, "audit", 5) == 0)
		    || (len == 2 && strncmp(p, "xz", 2) == 0);
		for (size_t j = 0; !hit && j < k->nplugins; j++) {
			const char *a = k->plugins[j]->name;
			const char *b = k->plugins[j]->desc->name;
			hit = (strlen(a) == len && strncmp(a, p, len) == 0)
			    || (b != NULL && strlen(b) == len
			        && strncmp(b, p, len) == 0);
		}
		if (!hit)
			xz_diag_add(d,
			    c->durable_file ? c->durable_file[i] : NULL,
			    c->durable_line ? c->durable_line[i] : 0,
			    "WARN bus.durable[%zu] '%s' matches no topic of "
			    "this deployment: no plugin named '%.*s' is "
			    "loaded",
			    i, p, (int) len, p);
	}
}

/* node.socket_owner / socket_group / socket_mode on one ipc socket the link
 * listens on (url "ipc://PATH"; others are left alone). 0, or 1 with
 * the reason in d. */
static int
socket_access(xz_kernel *k, const char *url, xz_diag *d)
{
	const xz_config *c = k->cfg;
	const char      *path;

	if (url == NULL || strncmp(url, "ipc://", 6) != 0
	    || c->socket_mode == 0)
		return 0;
	path = url + 6;
	if ((c->socket_uid >= 0 || c->socket_gid >= 0)
	    && chown(path,
	           c->socket_uid >= 0 ? (uid_t) c->socket_uid : (uid_t) -1,
	           c->socket_gid >= 0 ? (gid_t) c->socket_gid : (gid_t) -1)
	        != 0) {
		xz_diag_add(d, c->path, 0,
		    "node.socket_owner/socket_group: cannot give the socket "
		    "%s "
		    "to uid %lld, gid %lld: %s",
		    path, (long long) c->socket_uid, (long long) c->socket_gid,
		    strerror(errno));
		return 1;
	}
	if (chmod(path, (mode_t) c->socket_mode) != 0) {
		xz_diag_add(d, c->path, 0,
		    "node.socket_mode: cannot set the mode of the socket %s "
		    "to %04o: %s",
		    path, (unsigned) c->socket_mode, strerror(errno));
		return 1;
	}
	return 0;
}

int
xz_kernel_start(xz_kernel *k, xz_diag *d)
{
	const xz_plugin_desc *console
	    = k->ext && k->ext->console ? k->ext->console() : NULL;
	int rc;

	if (!k->loaded && xz_kernel_load(k, d) != 0)
		return XZ_EINVAL;
	if (xz_store_node_open(k, d) != 0)
		return XZ_EINVAL;
	if (durable_open(k, d) != 0)
		return XZ_EINVAL;
	if (xz_kaudit_open(k, d) != 0)
		return XZ_EINVAL;
	if (xz_kernel_add(k, "sys", xz_sys_desc(), d) != XZ_OK)
		return XZ_EINVAL;
	if (console != NULL
	    && xz_kernel_add(k, "console", console, d) != XZ_OK)
		return XZ_EINVAL;
	if (order_plugins(k, d) != 0)
		return XZ_EINVAL;
	k->started_at_us = xz_clock_now_us(&k->clock);
	if ((rc = xz_timers_start(k->timers)) != XZ_OK
	    || (rc = xz_sched_start(
	            k->sched, k->cfg->workers > 1 ? k->cfg->workers : 2))
	        != XZ_OK) {
		xz_diag_add(d, NULL, 0, "cannot start threads");
		return rc;
	}
	k->started = true;
	if (xz_watch_start(k) != XZ_OK)
		xz_log(XZ_LOG_WARN, "kernel",
		    "cannot start the handler watch: long handlers go "
		    "unreported");
	for (size_t i = 0; i < k->nplugins; i++) {
		xz_plugin  *p    = k->plugins[i];
		const char *held = xz_store_held(k, p->name);
		if (held != NULL) {
			xz_log(XZ_LOG_ERROR, p->name, "not started: %s", held);
			xz_plugin_fail(p);
			continue;
		}
		if (p->pc != NULL && p->pc->isolation == XZ_ISOLATION_PROCESS
		    && !requirement_failed(k, p)) {
			/* Its init runs in its child, at start. */
			p->phase = XZ_PHASE_INITED;
			continue;
		}
		if (requirement_failed(k, p)) {
			xz_log(XZ_LOG_ERROR, p->name,
			    "not started: a plugin it requires failed");
			xz_plugin_fail(p);
			continue;
		}
		if ((rc = plugin_call(p, 0)) != XZ_OK) {
			xz_log(XZ_LOG_ERROR, p->name,
			    "init failed: %s; the plugin is disabled",
			    xz_strerror(rc));
			plugin_isolate(k, p, false);
			continue;
		}
		p->phase = XZ_PHASE_INITED;
	}
	for (size_t i = 0; i < k->nplugins; i++) {
		xz_plugin *p = k->plugins[i];
		if (p->phase != XZ_PHASE_INITED)
			continue;
		if (p->pc != NULL
		    && p->pc->isolation == XZ_ISOLATION_PROCESS) {
			if ((rc = xz_isolate_start(p)) != XZ_OK) {
				xz_log(XZ_LOG_ERROR, p->name,
				    "cannot supervise a child: %s; the plugin "
				    "is disabled",
				    xz_strerror(rc));
				xz_plugin_fail(p);
				continue;
			}
			p->phase = XZ_PHASE_STARTED;
			continue;
		}
		if (requirement_failed(k, p)) {
			xz_log(XZ_LOG_ERROR, p->name,
			    "not started: a plugin it requires failed");
			plugin_isolate(k, p, true);
			continue;
		}
		if ((rc = plugin_call(p, 1)) != XZ_OK) {
			xz_log(XZ_LOG_ERROR, p->name,
			    "start failed: %s; the plugin is disabled",
			    xz_strerror(rc));
			plugin_isolate(k, p, true);
			continue;
		}
		p->phase = XZ_PHASE_STARTED;
	}
	xz_link_listen *ls = calloc(k->cfg->nlisten + 1, sizeof(*ls));
	if (ls == NULL) {
		xz_diag_add(d, NULL, 0, "out of memory");
		return XZ_ENOMEM;
	}
	for (size_t i = 0; i < k->cfg->nlisten; i++) {
		const xz_door_cfg *door = &k->cfg->listen[i];
		ls[i].url               = door->url;
		ls[i].tls_ca            = door->tls_ca;
		ls[i].tls_cert          = door->tls_cert;
		ls[i].tls_key           = door->tls_key;
		ls[i].tls_crl           = door->tls_crl;
	}
	xz_link_cfg lc = {
		.node_name      = k->cfg->node_name,
		.control_url    = k->cfg->control_url,
		.listen         = ls,
		.nlisten        = k->cfg->nlisten,
		.max_payload    = k->cfg->max_payload,
		.queue_capacity = k->cfg->mailbox_capacity,
		.config_file    = k->cfg->path,
		.auth           = &k->link_auth,
	};
	rc = xz_link_start(&k->link, &lc, k->bus, &k->clock, d);
	free(ls);
	if (rc != XZ_OK)
		return rc;
	/* The group and mode the operators' CLI needs (node.socket_*). */
	if (socket_access(k, k->cfg->control_url, d) != 0)
		return XZ_EINVAL;
	for (size_t i = 0; i < k->cfg->nlisten; i++)
		if (socket_access(k, k->cfg->listen[i].url, d) != 0)
			return XZ_EINVAL;
	if ((rc = xz_nodelink_start(k->nodelink)) != XZ_OK) {
		xz_diag_add(d, NULL, 0, "cannot start the node links");
		return rc;
	}
	/* Said at every start, so a risky setting never goes unnoticed. */
	for (size_t i = 0; i < k->cfg->nwarnings; i++) {
		const xz_cfg_warning *w = &k->cfg->warnings[i];
		xz_log(XZ_LOG_WARN, "kernel", "%s:%d: %s", w->file, w->line,
		    w->text);
	}

	size_t failed = 0;
	for (size_t i = 0; i < k->nplugins; i++)
		failed += k->plugins[i]->phase == XZ_PHASE_FAILED;
	xz_log(XZ_LOG_INFO, "kernel",
	    "node '%s' running: %zu plugins, "
	    "control %s",
	    k->cfg->node_name, k->nplugins, k->cfg->control_url);
	xz_sys_notify(k,
	    "READY=1\nSTATUS=node '%s' running: %zu plugins, %zu failed",
	    k->cfg->node_name, k->nplugins, failed);
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
		if (c == 'H') {
			/* logrotate moved the file away: write to a new one */
			int e = xz_log_reopen();
			if (e != 0)
				xz_log(XZ_LOG_ERROR, "kernel",
				    "SIGHUP: cannot reopen the log file: %s "
				    "(still writing to the old one)",
				    strerror(e));
			xz_log(XZ_LOG_INFO, "kernel",
			    "SIGHUP: log reopened; reloading the Lua plugins "
			    "and scripts");
			char why[1024];
			xz_kernel_perms_reload(k, why, sizeof(why));
			xz_sys_reload_all(k);
		}
	}
}

static void
shutdown_node(xz_kernel *k)
{
	atomic_store(&k->stopping, true);
	xz_sys_notify(k, "STOPPING=1\nSTATUS=stopping: draining the bus");
	xz_bus_close_intake(k->bus);
	xz_log(XZ_LOG_INFO, "kernel", "stopping: draining the bus");
	xz_nodelink_stop(k->nodelink);
	xz_link_stop(k->link);
	k->link = NULL;
	xz_watch_stop(k);
	xz_timers_pause_owned(k->timers);
	xz_durable_stop(k->durable); /* no more redeliveries */
	if (xz_sched_wait_quiet(k->sched, (int) k->cfg->drain_timeout_ms)
	    != 0) {
		/* What is still queued is not handled: an event on a durable
		 * topic is in the durable log and delivered again at the next
		 * start (its consumer did not acknowledge it); the others are
		 * dropped, and a request among them gets no reply (its caller
		 * times out). */
		size_t left = 0;
		for (size_t i = 0; i < k->nplugins; i++) {
			pthread_mutex_lock(&k->plugins[i]->actor.mu);
			left += k->plugins[i]->actor.count;
			pthread_mutex_unlock(&k->plugins[i]->actor.mu);
		}
		xz_log(XZ_LOG_WARN, "kernel",
		    "drain not done after node.drain_timeout_ms (%u ms): "
		    "stopping with %zu message(s) still queued; events on "
		    "durable topics are delivered again at the next start, "
		    "the others are dropped",
		    (unsigned) k->cfg->drain_timeout_ms, left);
	}
	/* What the plugins still wait for will not come (the timers that
	 * would answer it with a timeout are paused): each gets the error
	 * reply `unavailable` before its plugin stops, so every completion
	 * runs once and frees what it holds. */
	size_t waiting = xz_bus_cancel_requests(k->bus);
	if (waiting > 0) {
		xz_log(XZ_LOG_INFO, "kernel",
		    "stopping: %zu request(s) the plugins still waited for "
		    "answered unavailable",
		    waiting);
		xz_sched_wait_quiet(k->sched, 5000);
	}
	/* The plugins' stops share 20 s (at most 10 s each), so drain and
	 * stops stay under the unit's TimeoutStopSec (90 s). */
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = k->nplugins; i-- > 0;) {
		xz_plugin *p = k->plugins[i];
		if (p->phase != XZ_PHASE_STARTED
		    && p->phase != XZ_PHASE_INITED)
			continue;
		if (p->iso != NULL)
			xz_isolate_stop(p); /* stop and fini in its child */
		else
			plugin_call(p, 2);
		atomic_store(&p->phase, XZ_PHASE_STOPPED);
		struct timespec t1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		int64_t used = (int64_t) (t1.tv_sec - t0.tv_sec) * 1000
		    + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		int64_t left = 20000 - used;
		xz_sched_wait_quiet(k->sched,
		    (int) (left > 10000  ? 10000
		            : left < 100 ? 100
		                         : left));
	}
	for (size_t i = 0; i < k->nplugins; i++) {
		xz_bus_unsubscribe_all(k->bus, &k->plugins[i]->actor, NULL);
		xz_actor_close(&k->plugins[i]->actor);
	}
	xz_sched_stop(k->sched);
	xz_timers_stop(k->timers);
	for (size_t i = k->nplugins; i-- > 0;) {
		xz_plugin *p = k->plugins[i];
		if (p->phase != XZ_PHASE_STOPPED || p->iso != NULL)
			continue;
		xz_current_actor = &p->actor;
		p->desc->fini(p->state);
		xz_current_actor = NULL;
	}
	xz_log(XZ_LOG_INFO, "kernel", "stopped");
}

void
xz_kernel_free(xz_kernel *k)
{
	if (k == NULL)
		return;
	if (k->started)
		shutdown_node(k);
	for (size_t i = 0; k->bus != NULL && i < k->nplugins; i++)
		xz_bus_unsubscribe_all(k->bus, &k->plugins[i]->actor, NULL);
	/* The bus first: its pending requests hold timers' deadlines. */
	xz_bus_free(k->bus);
	xz_durable_close(k->durable);
	xz_kaudit_close(k);
	xz_nodelink_free(k->nodelink);
	xz_timers_free(k->timers);
	for (size_t i = 0; i < k->nplugins; i++) {
		xz_isolate_free(k->plugins[i]);
		xz_loader_close(k->plugins[i]);
	}
	xz_store_ckpt_free(k); /* every store is closed */
	xz_store_node_close(k);
	xz_store_held_free(k);
	xz_sched_free(k->sched);
	free(k->plugins);
	if (k->stop_pipe[0] >= 0)
		close(k->stop_pipe[0]);
	if (k->stop_pipe[1] >= 0)
		close(k->stop_pipe[1]);
	xz_principal_unref(k->who);
	xz_principal_unref(k->admin);
	for (size_t i = 0; i < k->nlink_ids; i++) {
		xz_principal_unref(k->link_ids[i].who);
		if (k->id_cns != NULL)
			free(k->id_cns[i]);
	}
	free(k->id_cns);
	free(k->link_ids);
	pthread_rwlock_destroy(&k->ids_lock);
	xz_authz_free(k->authz);
	xz_authz_free(k->grants);
	free(k);
}
