/* demo.c - the demo plugin: options, life cycle and its clock. */
#include <stdlib.h>
#include <time.h>

#include "demo.h"

static const xz_option_decl options[] = {
	{ "events_per_s", XZ_OPT_INT, "2", 0,
	    "units of traffic per second (0: silent)", 0, 10000 },
	{ "discrepancy_percent", XZ_OPT_INT, "20", 0,
	    "share of roll calls that come out with a discrepancy", 0, 100 },
	{ "seed", XZ_OPT_INT, "0", 0, "random seed (0: from the clock)", 0,
	    2147483647 },
	{ NULL, 0, NULL, 0, NULL, 0, 0 },
};

/* init allocates the plugin state; fini frees it. */
static int
demo_init(xz_plugin *self, const xz_host *host, void **state)
{
	demo   *d    = calloc(1, sizeof(*d));
	int64_t seed = 0;

	if (d == NULL)
		return XZ_ENOMEM;
	d->self = self;
	d->host = host;
	host->opt_int(self, "events_per_s", &d->rate);
	host->opt_int(self, "discrepancy_percent", &d->discrepancy_pc);
	host->opt_int(self, "seed", &seed);
	d->rng = seed ? (uint64_t) seed : (uint64_t) time(NULL);
	*state = d;
	return XZ_OK;
}

static void
on_tick(void *ud, uint64_t timer_id)
{
	(void) timer_id;
	demo_tick(ud);
}

static int
demo_start(void *state)
{
	demo *d = state;
	int   rc;

	if (d->rate == 0)
		return XZ_OK;
	rc = d->host->timer_start(d->self, 500,
	    d->rate >= 1000 ? 1 : (uint64_t) (1000 / d->rate), on_tick, d,
	    &d->timer);
	if (rc != XZ_OK)
		d->host->log(
		    d->self, XZ_LOG_ERROR, "timer: %s", d->host->strerror(rc));
	return rc;
}

static void
demo_stop(void *state)
{
	demo *d = state;
	if (d->timer)
		d->host->timer_cancel(d->self, d->timer);
	d->timer = 0;
}

static void
demo_fini(void *state)
{
	free(state);
}

static const xz_plugin_desc desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name        = "demo",
	.version     = "0.1.0",
	.description = "demo traffic: sensor alarms, roll calls, AI+AR "
	               "assessment results",
	.options     = options,
	.init        = demo_init,
	.start       = demo_start,
	.stop        = demo_stop,
	.fini        = demo_fini,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
