/*
 * plugin.c - what every file of the kernel layer (and the Lua host above
 * it) asks of an instance: its kernel, descriptor, config, name lookup,
 * and posting work into its actor. The bottom of the kernel layer: it
 * calls nothing else in it.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel_priv.h"

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

void
xz_plugin_swap_options(xz_plugin *p, xz_optvals *vals)
{
	xz_optvals old = p->opts;

	p->opts = *vals;
	*vals   = old;
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
	return xz_bus_publish(k->bus, source, topic, strlen(topic), data, len,
	    XZ_CT_JSON, k->who);
}

struct post_job {
	xz_job job; /* first */
	void (*fn)(void *);
	void *arg;
};

static void
post_run(xz_job *j)
{
	struct post_job *pj = (struct post_job *) j;
	pj->fn(pj->arg);
	free(pj);
}

static void
post_drop(xz_job *j)
{
	free(j);
}

int
xz_plugin_post(xz_plugin *p, void (*fn)(void *arg), void *arg)
{
	struct post_job *pj;
	int              phase = atomic_load(&p->phase);

	if (phase == XZ_PHASE_FAILED || phase == XZ_PHASE_STOPPED)
		return XZ_ECLOSED;
	if ((pj = calloc(1, sizeof(*pj))) == NULL)
		return XZ_ENOMEM;
	pj->job.run    = post_run;
	pj->job.drop   = post_drop;
	pj->job.kernel = true;
	pj->fn         = fn;
	pj->arg        = arg;
	xz_actor_job(&p->actor, &pj->job);
	return XZ_OK;
}
