/* demo.c - the demo plugin: options, life cycle and its clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "demo.h"

static const xz_option_decl options[] = {
	{ "speed", XZ_OPT_INT, "1", 0,
	    "simulated seconds per second of the node's clock (0: silent)", 0,
	    100000 },
	{ "tick_ms", XZ_OPT_INT, "1000", 0,
	    "how often the demo acts, in ms of the node's clock", 10, 60000 },
	{ "shift_h", XZ_OPT_INT, "8", 0, "hours of one shift", 1, 24 },
	{ "alarms_per_shift", XZ_OPT_INT, "4", 0,
	    "sensor alarms raised per shift, on average", 0, 1000 },
	{ "assessments_per_shift", XZ_OPT_INT, "6", 0,
	    "AI+AR assessment results per shift, on average", 0, 10000 },
	{ "max_open_alarms", XZ_OPT_INT, "6", 0,
	    "the demo's own alarms open at once, at most", 1,
	    DEMO_MAX_ALARMS / 2 },
	{ "step_min", XZ_OPT_INT, "3", 0,
	    "simulated minutes between an operator's steps on an alarm", 1,
	    600 },
	{ "rollcall_times", XZ_OPT_STRING, "06:30,12:00,18:00,21:30", 0,
	    "local times of the daily roll calls (清点)", 0, 0 },
	{ "shifts", XZ_OPT_STRING, "DAY=08:00-20:00,NIGHT=20:00-08:00", 0,
	    "the prison's duty shifts (its option shifts): handed over at "
	    "each change; \"\": no handovers",
	    0, 0 },
	{ "discrepancy_percent", XZ_OPT_INT, "10", 0,
	    "share of roll calls that come out with a discrepancy", 0, 100 },
	{ "tz_offset_min", XZ_OPT_INT, "480", 0,
	    "local time's offset from UTC in minutes (Beijing: 480)", -720,
	    840 },
	{ "seed", XZ_OPT_INT, "0", 0, "random seed (0: from the clock)", 0,
	    2147483647 },
	{ NULL, 0, NULL, 0, NULL, 0, 0 },
};

/* "06:30,12:00" into minutes of the day; -1 on a malformed list. */
static int
parse_times(demo *d, const char *s)
{
	d->nrc_times = 0;
	while (s && *s) {
		int h, m, n = 0;
		if (sscanf(s, "%d:%d%n", &h, &m, &n) != 2 || h < 0 || h > 23
		    || m < 0 || m > 59 || d->nrc_times >= DEMO_MAX_TIMES)
			return -1;
		d->rc_times[d->nrc_times++] = h * 60 + m;
		s += n;
		while (*s == ',' || *s == ' ')
			s++;
	}
	return 0;
}

/* "DAY=08:00-20:00,NIGHT=20:00-08:00" into shifts sorted by start (the
 * prison checks they cover the day); -1 on a malformed list. */
static int
parse_shifts(demo *d, const char *s)
{
	d->nshifts = 0;
	while (s && *s) {
		int         h1, m1, h2, m2, n = 0, k;
		const char *eq = strchr(s, '=');
		if (eq == NULL || eq == s || eq - s >= 32
		    || d->nshifts >= DEMO_MAX_SHIFTS
		    || sscanf(eq + 1, "%d:%d-%d:%d%n", &h1, &m1, &h2, &m2, &n)
		        != 4
		    || h1 < 0 || h1 > 23 || m1 < 0 || m1 > 59)
			return -1;
		for (k = d->nshifts;
		     k > 0 && d->shifts[k - 1].from > h1 * 60 + m1; k--)
			d->shifts[k] = d->shifts[k - 1];
		snprintf(d->shifts[k].name, sizeof(d->shifts[k].name), "%.*s",
		    (int) (eq - s), s);
		d->shifts[k].from = h1 * 60 + m1;
		d->nshifts++;
		s = eq + 1 + n;
		while (*s == ',' || *s == ' ')
			s++;
	}
	return 0;
}

/* init allocates the plugin state; fini frees it. */
static int
demo_init(xz_plugin *self, const xz_host *host, void **state)
{
	demo   *d    = calloc(1, sizeof(*d));
	int64_t seed = 0, v = 0;

	if (d == NULL)
		return XZ_ENOMEM;
	d->self = self;
	d->host = host;
	host->opt_int(self, "speed", &d->speed);
	host->opt_int(self, "tick_ms", &d->tick_ms);
	host->opt_int(self, "shift_h", &v);
	d->shift_ms = v * 3600000;
	host->opt_int(self, "alarms_per_shift", &d->alarms_per_shift);
	host->opt_int(
	    self, "assessments_per_shift", &d->assessments_per_shift);
	host->opt_int(self, "max_open_alarms", &d->max_open);
	host->opt_int(self, "step_min", &v);
	d->step_ms = v * 60000;
	host->opt_int(self, "discrepancy_percent", &d->discrepancy_pc);
	host->opt_int(self, "tz_offset_min", &v);
	d->tz_ms = v * 60000;
	host->opt_int(self, "seed", &seed);
	if (parse_times(d, host->opt_string(self, "rollcall_times")) != 0) {
		host->log(self, XZ_LOG_ERROR,
		    DT("option rollcall_times \"%s\": expected "
		       "HH:MM,HH:MM,... "
		       "(at most %d)"),
		    host->opt_string(self, "rollcall_times"), DEMO_MAX_TIMES);
		free(d);
		return XZ_EINVAL;
	}
	if (parse_shifts(d, host->opt_string(self, "shifts")) != 0) {
		host->log(self, XZ_LOG_ERROR,
		    DT("option shifts \"%s\": expected NAME=HH:MM-HH:MM,... "
		       "(at "
		       "most %d)"),
		    host->opt_string(self, "shifts"), DEMO_MAX_SHIFTS);
		free(d);
		return XZ_EINVAL;
	}
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

	if (d->speed == 0)
		return XZ_OK;
	d->anchor_node_ms = (int64_t) d->host->now_ms(d->self);
	d->anchor_sim_ms  = d->anchor_node_ms;
	d->last_sim_ms    = d->anchor_sim_ms;
	rc = d->host->timer_start(d->self, (uint64_t) d->tick_ms,
	    (uint64_t) d->tick_ms, on_tick, d, &d->timer);
	if (rc != XZ_OK)
		d->host->log(d->self, XZ_LOG_ERROR, DT("timer: %s"),
		    d->host->strerror(rc));
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
	.version     = "0.2.0",
	.description = "demo traffic shaped like a prison's shifts: sensor "
	               "alarms, roll calls at their times, AI+AR assessment "
	               "results",
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
