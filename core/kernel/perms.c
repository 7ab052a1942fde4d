/*
 * perms.c - the permissions in force: built from the config at start
 * (auth.roles, the plugins' grants) and rebuilt by a reload (SIGHUP,
 * xz.sys.reload), which drops the remote subscriptions they now forbid.
 * Its own file so that kernel.c and sys.c both call it, not each other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel_priv.h"
#include "util/errors.h"
#include "util/log.h"

/* The permissions of c: auth.roles (grants false) or the plugins' grants
 * (true: one role a plugin that has them, named after it). NULL on
 * ENOMEM. */
xz_authz *
xz_perms_build(const xz_config *c, bool grants)
{
	xz_authz *a = xz_authz_new();

	for (size_t i = 0; a != NULL && !grants && i < c->nroles; i++) {
		const xz_role_cfg *r     = &c->roles[i];
		const xz_perm_cfg *pm[2] = { &r->publish, &r->subscribe };
		for (int w = 0; w < 2; w++)
			if (xz_authz_add(a, r->id, w, false,
			        (const char *const *) pm[w]->allow,
			        pm[w]->nallow)
			        != XZ_OK
			    || xz_authz_add(a, r->id, w, true,
			           (const char *const *) pm[w]->deny,
			           pm[w]->ndeny)
			        != XZ_OK)
				goto fail;
	}
	for (size_t i = 0; a != NULL && grants && i < c->nplugins; i++) {
		const xz_plugin_cfg *pc = &c->plugins[i];
		if (!pc->has_grants)
			continue;
		if (xz_authz_add(a, pc->name, XZ_AUTHZ_PUBLISH, false,
		        (const char *const *) pc->grant_publish.allow,
		        pc->grant_publish.nallow)
		        != XZ_OK
		    || xz_authz_add(a, pc->name, XZ_AUTHZ_SUBSCRIBE, false,
		           (const char *const *) pc->grant_subscribe.allow,
		           pc->grant_subscribe.nallow)
		        != XZ_OK)
			goto fail;
	}
	return a;
fail:
	xz_authz_free(a);
	return NULL;
}

/* The folder `so` plugins named without a path were found in (the
 * built-in one), from the running config; NULL when none was. */
static char *
builtin_dir(const xz_config *c)
{
	for (size_t i = 0; i < c->nplugins; i++) {
		const xz_plugin_cfg *pc = &c->plugins[i];
		if (pc->kind == XZ_PLUGIN_SO && pc->path == NULL
		    && pc->resolved != NULL) {
			char *d = strdup(pc->resolved), *slash;
			if (d != NULL && (slash = strrchr(d, '/')) != NULL)
				*slash = '\0';
			return d;
		}
	}
	return NULL;
}

int
xz_kernel_perms_reload(xz_kernel *k, char *why, size_t n)
{
	xz_config nc = { 0 };
	xz_diag   d;
	char     *dir = builtin_dir(k->cfg);
	int       rc;

	why[0] = '\0';
	xz_diag_init(&d);
	rc = xz_config_load(&nc, k->cfg->path, dir, &d);
	free(dir);
	if (rc != 0) {
		/* Refused as a whole: the running permissions stay. */
		size_t off = 0;
		for (size_t i = 0; i < d.count && off < n; i++) {
			xz_log(
			    XZ_LOG_ERROR, "kernel", "reload: %s", d.lines[i]);
			off += (size_t) snprintf(why + off, n - off, "%s%s",
			    i ? "; " : "", d.lines[i]);
		}
		xz_log(XZ_LOG_ERROR, "kernel",
		    "reload: the config has errors; the permissions in force "
		    "stay as they were");
		xz_diag_free(&d);
		return XZ_EINVAL;
	}
	xz_diag_free(&d);
	xz_authz *roles  = xz_perms_build(&nc, false);
	xz_authz *grants = xz_perms_build(&nc, true);
	size_t    nroles = nc.nroles;
	/* auth.local and auth.certs too, on record (sys_auth.c) */
	(void) xz_auth_ids_reload(k, &nc);
	xz_config_free(&nc);
	if (roles == NULL || grants == NULL) {
		xz_authz_free(roles);
		xz_authz_free(grants);
		snprintf(why, n, "out of memory");
		return XZ_ENOMEM;
	}
	xz_authz_replace(k->authz, roles);
	xz_authz_replace(k->grants, grants);
	size_t dropped = xz_link_authz_changed(k->link);
	xz_link_certs_recheck(k->link, "a reload");
	xz_log(XZ_LOG_INFO, "kernel",
	    "reload: permissions in force: %zu roles from %s; %zu "
	    "subscriptions dropped",
	    nroles, k->cfg->path, dropped);
	return XZ_OK;
}
