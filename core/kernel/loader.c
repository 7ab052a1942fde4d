/*
 * loader.c - opening plugins and checking them before anything runs.
 *
 * A shared object is opened with dlopen(RTLD_NOW | RTLD_LOCAL): every
 * undefined symbol fails here, not at the first call, and no plugin's
 * symbols leak into another's. Every refusal names the plugin and the
 * cause: missing file, dlerror() text, no entry symbol, ABI major
 * mismatch, minor newer than the host, a descriptor of the wrong size,
 * missing mandatory callbacks, bad options.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/kernel_priv.h"

/* Size of xz_plugin_desc in ABI 1.0 (members after fini are newer). */
#define XZ_DESC_SIZE_1_0                                                      \
	(offsetof(xz_plugin_desc, fini) + sizeof(((xz_plugin_desc *) 0)->fini))

static int
check_desc(const xz_plugin_cfg *pc, const char *name, const xz_plugin_desc *d,
    xz_diag *diag)
{
	const char *file = pc ? pc->file : NULL;
	int         line = pc ? pc->line : 0;

	if (d->abi_major != XZ_ABI_MAJOR) {
		xz_diag_add(diag, file, line,
		    "plugin '%s': built for SDK ABI %u.%u, this host has "
		    "ABI %u.%u (major versions differ): rebuild it",
		    name, d->abi_major, d->abi_minor, XZ_ABI_MAJOR,
		    XZ_ABI_MINOR);
		return -1;
	}
	if (d->abi_minor > XZ_ABI_MINOR) {
		xz_diag_add(diag, file, line,
		    "plugin '%s': built for SDK ABI %u.%u, newer than this "
		    "host's ABI %u.%u: upgrade xiezhi",
		    name, d->abi_major, d->abi_minor, XZ_ABI_MAJOR,
		    XZ_ABI_MINOR);
		return -1;
	}
	/* A plugin built against an older minor has a shorter descriptor:
	 * accept anything that holds the ABI 1.0 members. */
	if (d->struct_size < XZ_DESC_SIZE_1_0) {
		xz_diag_add(diag, file, line,
		    "plugin '%s': descriptor is %u bytes, expected at least "
		    "%zu",
		    name, d->struct_size, XZ_DESC_SIZE_1_0);
		return -1;
	}
	if (d->name == NULL || d->version == NULL) {
		xz_diag_add(diag, file, line,
		    "plugin '%s': descriptor has no %s", name,
		    d->name == NULL ? "name" : "version");
		return -1;
	}
	if (d->init == NULL || d->fini == NULL) {
		xz_diag_add(diag, file, line,
		    "plugin '%s': missing mandatory callback %s", name,
		    d->init == NULL ? "init" : "fini");
		return -1;
	}
	return 0;
}

/* Since 1.4: the plugin's own check of its resolved options (`check`
 * refuses what its init would). 0, or -1 with the reason in d at the
 * option's FILE:LINE. */
static int
check_options(xz_plugin *p, const xz_plugin_cfg *pc, xz_diag *d)
{
	const xz_plugin_desc *desc      = p->desc;
	const char           *opt       = NULL;
	const char           *file      = pc->file;
	int                   line      = pc->line;
	char                  why[1024] = "";

	if (desc->abi_minor < 4
	    || desc->struct_size < offsetof(xz_plugin_desc, check_options)
	            + sizeof(desc->check_options)
	    || desc->check_options == NULL)
		return 0;
	if (desc->check_options(p, xz_kernel_host(), &opt, why, sizeof(why))
	    == XZ_OK)
		return 0;
	for (size_t i = 0; opt != NULL && i < pc->noptions; i++)
		if (strcmp(pc->options[i].name, opt) == 0) {
			file = pc->options[i].file;
			line = pc->options[i].line;
		}
	why[sizeof(why) - 1] = '\0';
	xz_diag_add(d, file, line, "plugin '%s': %s", p->name,
	    why[0] != '\0' ? why : "its options are refused");
	return -1;
}

static xz_plugin *
plugin_new(xz_kernel *k, const char *name)
{
	xz_plugin *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->name = strdup(name)) == NULL) {
		free(p);
		return NULL;
	}
	p->k = k;
	if (strcmp(name, "sys") == 0)
		p->who = xz_principal_ref(k->who);
	else {
		char        user[96];
		const char *roles[] = { "plugin", NULL };
		snprintf(user, sizeof(user), "plugin:%s", name);
		p->who = xz_principal_new(user, name, "", roles, "plugin");
	}
	if (p->who == NULL) {
		free(p->name);
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->cmu, NULL);
	if (xz_actor_init(&p->actor, k->sched, p->name,
	        k->cfg ? k->cfg->mailbox_capacity
	               : XZ_DEFAULT_MAILBOX_CAPACITY)
	    != XZ_OK) {
		pthread_mutex_destroy(&p->cmu);
		xz_principal_unref(p->who);
		free(p->name);
		free(p);
		return NULL;
	}
	return p;
}

/* Build an instance from a descriptor (shared by so, lua and built-ins).
 * On success the instance owns dl (and an ext descriptor). */
static int
instance_make(xz_kernel *k, const xz_plugin_cfg *pc, const char *name,
    const xz_plugin_desc *desc, void *dl, xz_plugin **out, xz_diag *d)
{
	xz_plugin *p;

	*out = NULL;
	if (check_desc(pc, name, desc, d) != 0)
		return XZ_EINVAL;
	if ((p = plugin_new(k, name)) == NULL) {
		xz_diag_add(d, pc ? pc->file : NULL, pc ? pc->line : 0,
		    "plugin '%s': out of memory", name);
		return XZ_ENOMEM;
	}
	p->desc = desc;
	p->pc   = pc;
	p->dl   = dl;
	/* Members past 1.0 exist only if the plugin's descriptor has them. */
	if (desc->abi_minor >= 1
	    && desc->struct_size >= offsetof(xz_plugin_desc, batch_end)
	            + sizeof(desc->batch_end)) {
		p->actor.batch_end   = desc->batch_end;
		p->actor.batch_state = &p->state;
	}
	/* Requests only this instance may answer (the audit plugin's by
	 * default). */
	for (size_t i = 0; pc != NULL && i < pc->nreserve; i++)
		if (xz_bus_reserve(k->bus, pc->reserve[i], &p->actor) != XZ_OK)
			xz_diag_add(d, pc->file, pc->line,
			    "plugin '%s': cannot reserve '%s'", name,
			    pc->reserve[i]);
	if (pc != NULL && pc->nreserve == 0
	    && strcmp(desc->name, "audit") == 0) {
		/* audit.> too: the kernel's guard holds it (kernel.c), and
		 * the plugin answers a request there ("not an audit
		 * request") */
		xz_bus_reserve(k->bus, "audit.*", &p->actor);
		xz_bus_reserve(k->bus, "audit.>", &p->actor);
	}
	if (pc != NULL
	    && (xz_options_resolve(pc, desc->options, &p->opts, d) != 0
	        || check_options(p, pc, d) != 0)) {
		p->dl   = NULL; /* the caller still owns dl and desc */
		p->desc = NULL;
		xz_loader_close(p);
		return XZ_EINVAL;
	}
	*out = p;
	return XZ_OK;
}

static void
ext_release(xz_plugin_ext *ext)
{
	if (ext != NULL && ext->release != NULL)
		ext->release(ext);
}

int
xz_loader_open(
    xz_kernel *k, const xz_plugin_cfg *pc, xz_plugin **out, xz_diag *d)
{
	const xz_plugin_desc *(*entry)(void);
	const xz_plugin_desc *desc;
	void                 *dl;
	int                   rc;

	*out = NULL;
	if (pc->kind == XZ_PLUGIN_LUA || pc->kind == XZ_PLUGIN_SCRIPT) {
		xz_plugin_ext *ext = NULL;
		if (k->ext == NULL || k->ext->describe == NULL) {
			xz_diag_add(d, pc->file, pc->line,
			    "plugin '%s': this program has no Lua host",
			    pc->name);
			return XZ_EINVAL;
		}
		if ((rc = k->ext->describe(pc, k->cfg, d, &ext)) != XZ_OK)
			return rc;
		rc = instance_make(k, pc, pc->name, &ext->desc, NULL, out, d);
		if (rc != XZ_OK)
			ext_release(ext);
		else
			(*out)->ext = ext;
		return rc;
	}
	if (pc->resolved == NULL) {
		xz_diag_add(d, pc->file, pc->line,
		    "plugin '%s': shared object not found (%s)", pc->name,
		    pc->path ? pc->path : "no path given");
		return XZ_ENOENT;
	}
	dlerror();
	if ((dl = dlopen(pc->resolved, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		const char *e = dlerror();
		xz_diag_add(d, pc->file, pc->line,
		    "plugin '%s': cannot load: %s", pc->name,
		    e ? e : "unknown dlopen error");
		return XZ_EINVAL;
	}
	*(void **) (&entry) = dlsym(dl, "xz_plugin_entry");
	if (entry == NULL) {
		xz_diag_add(d, pc->file, pc->line,
		    "plugin '%s': %s exports no xz_plugin_entry symbol "
		    "(is it built with XZ_EXPORT?)",
		    pc->name, pc->resolved);
		dlclose(dl);
		return XZ_EINVAL;
	}
	if ((desc = entry()) == NULL) {
		xz_diag_add(d, pc->file, pc->line,
		    "plugin '%s': xz_plugin_entry returned no descriptor",
		    pc->name);
		dlclose(dl);
		return XZ_EINVAL;
	}
	rc = instance_make(k, pc, pc->name, desc, dl, out, d);
	if (rc != XZ_OK)
		dlclose(dl);
	return rc;
}

int
xz_kernel_add(
    xz_kernel *k, const char *name, const xz_plugin_desc *desc, xz_diag *d)
{
	xz_plugin  *p;
	xz_plugin **v;

	if (k->started) {
		xz_diag_add(
		    d, NULL, 0, "plugin '%s': node already started", name);
		return XZ_ESTATE;
	}
	if (xz_kernel_find(k, name) != NULL) {
		xz_diag_add(
		    d, NULL, 0, "plugin '%s': name already in use", name);
		return XZ_EEXIST;
	}
	if (instance_make(k, NULL, name, desc, NULL, &p, d) != XZ_OK)
		return XZ_EINVAL;
	v = realloc(k->plugins, (k->nplugins + 1) * sizeof(*v));
	if (v == NULL) {
		xz_loader_close(p);
		return XZ_ENOMEM;
	}
	k->plugins                = v;
	k->plugins[k->nplugins++] = p;
	return XZ_OK;
}

/* Free an instance that is not running (never inited, or after fini). */
void
xz_loader_close(xz_plugin *p)
{
	xz_store_close(p);
	xz_optvals_free(&p->opts);
	xz_actor_fini(&p->actor);
	for (size_t i = 0; i < p->ncounters; i++)
		free(p->counters[i].name);
	free(p->counters);
	pthread_mutex_destroy(&p->cmu);
	ext_release(p->ext);
	if (p->dl != NULL)
		dlclose(p->dl);
	xz_principal_unref(p->who);
	free(p->name);
	free(p);
}
