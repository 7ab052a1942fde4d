/*
 * prison.c - the prison plugin: descriptor, options, life cycle. The
 * locations come from the layout (layout.c) at start; on an empty
 * register seed_demo_data admits demo prisoners.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prison.h"

static const xz_option_decl options[] = {
	{ "agency", XZ_OPT_STRING, "prison-01", 0,
	    "this prison's agency id: its staff act for it", 0, 0 },
	{ "bureau_agency", XZ_OPT_STRING, "bureau", 0,
	    "the provincial prison bureau's agency id", 0, 0 },
	{ "layout_file", XZ_OPT_STRING, "", 0,
	    "the locations (libconfig, see plugins/prison/layout.cfg); "
	    "empty: the built-in demo layout",
	    0, 0 },
	{ "alarm_ack_sla_s", XZ_OPT_INT, "15", 0,
	    "seconds to acknowledge a level-1 alarm", 1, 86400 },
	{ "alarm_dispatch_sla_s", XZ_OPT_INT, "60", 0,
	    "seconds from acknowledgement to dispatch, level 1", 1, 86400 },
	{ "alarm_ack_sla_l2_s", XZ_OPT_INT, "10", 0,
	    "seconds to acknowledge a level-2 alarm", 1, 86400 },
	{ "alarm_dispatch_sla_l2_s", XZ_OPT_INT, "45", 0,
	    "seconds from acknowledgement to dispatch, level 2", 1, 86400 },
	{ "alarm_ack_sla_l3_s", XZ_OPT_INT, "5", 0,
	    "seconds to acknowledge a level-3 alarm", 1, 86400 },
	{ "alarm_dispatch_sla_l3_s", XZ_OPT_INT, "30", 0,
	    "seconds from acknowledgement to dispatch, level 3", 1, 86400 },
	{ "escalate_leader_s", XZ_OPT_INT, "60", 0,
	    "seconds the duty leader has once told, before the prison's "
	    "leadership is",
	    1, 86400 },
	{ "escalate_leadership_s", XZ_OPT_INT, "120", 0,
	    "seconds the prison's leadership has once told, before the "
	    "bureau is",
	    1, 86400 },
	{ "bureau_renotify_s", XZ_OPT_INT, "600", 0,
	    "seconds between upward reports while nobody acts", 1, 86400 },
	{ "rollcall_alarm_level", XZ_OPT_INT, "1", 0,
	    "level of the alarm a roll-call discrepancy raises", 1, 3 },
	{ "incident_auto_draft", XZ_OPT_BOOL, "true", 0,
	    "draft an incident report when an alarm is resolved", 0, 0 },
	{ "kiosk_forward_h", XZ_OPT_INT, "24", 0,
	    "hours within which a kiosk legal-aid request must be forwarded",
	    1, 168 },
	{ "prisoner_number_pattern", XZ_OPT_STRING, "^[0-9]{10}$", 0,
	    "POSIX extended regex a prisoner number (罪犯编号) must match", 0,
	    0 },
	{ "treatment_levels", XZ_OPT_STRING,
	    "STRICT,OBSERVATION,ORDINARY,LENIENT", 0,
	    "the 分级处遇 levels, strictest first", 0, 0 },
	{ "treatment_default", XZ_OPT_STRING, "ORDINARY", 0,
	    "the level of a prisoner admitted without one", 0, 0 },
	{ "visit_hours", XZ_OPT_STRING, "09:00-11:30,14:00-17:00", 0,
	    "visiting hours (会见时间), local time", 0, 0 },
	{ "visit_days", XZ_OPT_STRING, "1-5", 0,
	    "visiting days, 1 = Monday .. 7 = Sunday", 0, 0 },
	{ "visit_rooms", XZ_OPT_STRING, "HJ-1,HJ-2,HJ-3", 0, "visiting rooms",
	    0, 0 },
	{ "visit_slot_min", XZ_OPT_INT, "30", 0, "minutes of one visit slot",
	    5, 480 },
	{ "tz_offset_min", XZ_OPT_INT, "480", 0,
	    "local time's offset from UTC in minutes (Beijing: 480)", -720,
	    840 },
	{ "sweep_s", XZ_OPT_INT, "60", 0,
	    "how often overdue kiosk requests are looked for, seconds", 1,
	    3600 },
	{ "list_max", XZ_OPT_INT, "1000", 0,
	    "largest page a list request returns", 1, 100000 },
	{ "shifts", XZ_OPT_STRING, "DAY=08:00-20:00,NIGHT=20:00-08:00", 0,
	    "the duty roster's shifts (值班), NAME=HH:MM-HH:MM local time, "
	    "covering the day once",
	    0, 0 },
	{ "handover_accept_s", XZ_OPT_INT, "1800", 0,
	    "seconds the incoming duty officer has to accept a handover "
	    "(交接班) before the duty leader is told",
	    1, 86400 },
	{ "daily_report_at", XZ_OPT_STRING, "08:00", 0,
	    "local time the daily report (日报 / 零报告) of the day before "
	    "goes to the bureau",
	    0, 0 },
	{ "report_ack_s", XZ_OPT_INT, "7200", 0,
	    "seconds the bureau has to acknowledge a report before it is "
	    "sent again and the prison's leaders are told",
	    1, 604800 },
	{ "report_notable_level", XZ_OPT_INT, "2", 0,
	    "an alarm from this level on makes the day's report a daily "
	    "report (日报) instead of a zero report (零报告)",
	    1, 3 },
	{ "legal_visit_check", XZ_OPT_BOOL, "true", 0,
	    "check a LEGAL visit's lawyer licence and assignment letter with "
	    "the legal plugin, then approve and book it (or reject it)",
	    0, 0 },
	{ "legal_timeout_ms", XZ_OPT_INT, "5000", 0,
	    "how long a request to the legal plugin may take", 100, 60000 },
	{ "seed_demo_data", XZ_OPT_BOOL, "false", 0,
	    "on an empty register, admit 40 demo prisoners to the layout's "
	    "cells",
	    0, 0 },
	{ NULL, 0, NULL, 0, NULL, 0, 0 },
};

static int64_t
opt_i(prison *p, const char *name, int64_t def)
{
	int64_t v;
	return p->c.host->opt_int(p->c.self, name, &v) == XZ_OK ? v : def;
}

static void
kind_init(prison *p, int i, const char *name, const char *prefix,
    const char *created, const kit_fsm *fsm, int personal)
{
	kit_kind *k      = &p->kinds[i];
	k->name          = name;
	k->prefix        = prefix;
	k->created_event = created;
	k->subject_type  = name;
	k->fsm           = fsm;
	k->personal      = personal;
	k->ud            = p;
}

/* Split option treatment_levels into p->treatment (p owns the buffer). */
static int
treatment_init(prison *p)
{
	const char *s = p->c.host->opt_string(p->c.self, "treatment_levels");
	const char *d = p->c.host->opt_string(p->c.self, "treatment_default");
	char       *save, *tok;
	int         n = 0, has_default = 0;

	p->treatment_buf = strdup(s ? s : "");
	if (p->treatment_buf == NULL)
		return -1;
	for (tok = strtok_r(p->treatment_buf, ", ", &save);
	     tok && n < PRISON_MAX_LIST; tok = strtok_r(NULL, ", ", &save)) {
		p->treatment[n++] = tok;
		if (d && strcmp(d, tok) == 0)
			has_default = 1;
	}
	p->treatment[n] = NULL;
	if (n == 0 || !has_default) {
		p->c.host->log(p->c.self, XZ_LOG_ERROR,
		    PT("option treatment_default \"%s\" is not one of "
		       "treatment_levels \"%s\""),
		    d ? d : "", s ? s : "");
		return -1;
	}
	return 0;
}

/* Option daily_report_at into p->report_at_min; -1 logged. */
static int
report_at_init(prison *p)
{
	const char *at = p->c.host->opt_string(p->c.self, "daily_report_at");
	int         h = -1, m = -1, used = 0;

	if (at == NULL || sscanf(at, "%d:%d%n", &h, &m, &used) != 2
	    || at[used] != '\0' || h < 0 || h > 23 || m < 0 || m > 59) {
		p->c.host->log(p->c.self, XZ_LOG_ERROR,
		    PT("option daily_report_at: \"%s\" is not a time HH:MM"),
		    at ? at : "");
		return -1;
	}
	p->report_at_min = h * 60 + m;
	return 0;
}

/* Where check_log writes the first error (the kernel loads plugins one
 * at a time, on one thread). */
static _Thread_local char  *check_why;
static _Thread_local size_t check_len;

static void
check_log(xz_plugin *self, int level, const char *fmt, ...)
{
	va_list ap;

	(void) self;
	(void) level;
	if (check_why == NULL || check_why[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(check_why, check_len, fmt, ap);
	va_end(ap);
}

/* `xiezhi check`: the options init parses, by the same code as init, on
 * a scratch state whose log goes to why. */
static int
prison_check_options(xz_plugin *self, const xz_host *host, const char **option,
    char *why, size_t why_len)
{
	prison *p  = calloc(1, sizeof(*p));
	xz_host h  = *host;
	int     rc = XZ_OK;

	if (p == NULL)
		return XZ_ENOMEM;
	h.log     = check_log;
	p->c.host = &h;
	p->c.self = self;
	why[0]    = '\0';
	check_why = why;
	check_len = why_len;
	if (treatment_init(p) != 0) {
		*option = "treatment_default";
		rc      = XZ_EINVAL;
	} else if (report_at_init(p) != 0) {
		*option = "daily_report_at";
		rc      = XZ_EINVAL;
	} else if (prison_shifts_init(p) != 0) {
		*option = "shifts";
		rc      = XZ_EINVAL;
	}
	check_why = NULL;
	free(p->treatment_buf);
	free(p->shift_buf);
	free(p);
	return rc;
}

/* init allocates the plugin state; fini frees it. */
static int
prison_init(xz_plugin *self, const xz_host *host, void **state)
{
	prison *p = calloc(1, sizeof(*p));
	char    err[300];
	int     b  = 1;
	int     rc = XZ_OK;

	if (p == NULL)
		return XZ_ENOMEM;
	if (kit_ctx_init(&p->c, self, host, "prison", err, sizeof(err)) != 0) {
		host->log(self, XZ_LOG_ERROR, "%s", err);
		kit_ctx_fini(&p->c);
		free(p);
		return XZ_EIO;
	}
	/* every alarm and record reads its location (and the parents for
	 * cameras), which change rarely: kept decoded */
	(void) kit_store_cache_kind(&p->c.store, "location");
	/* an alarm is loaded again at each step after its raise: its saved
	 * text is kept (parsed, not read from the database) */
	(void) kit_store_cache_text(&p->c.store, "alarm");
	p->ack_sla_s[1]      = opt_i(p, "alarm_ack_sla_s", 15);
	p->dispatch_sla_s[1] = opt_i(p, "alarm_dispatch_sla_s", 60);
	p->ack_sla_s[2]      = opt_i(p, "alarm_ack_sla_l2_s", 10);
	p->dispatch_sla_s[2] = opt_i(p, "alarm_dispatch_sla_l2_s", 45);
	p->ack_sla_s[3]      = opt_i(p, "alarm_ack_sla_l3_s", 5);
	p->dispatch_sla_s[3] = opt_i(p, "alarm_dispatch_sla_l3_s", 30);
	p->chain_s[1]        = opt_i(p, "escalate_leader_s", 60);
	p->chain_s[2]        = opt_i(p, "escalate_leadership_s", 120);
	p->chain_s[3]        = opt_i(p, "bureau_renotify_s", 600);
	p->agency            = host->opt_string(self, "agency");
	p->bureau_agency     = host->opt_string(self, "bureau_agency");
	if (treatment_init(p) != 0) {
		kit_ctx_fini(&p->c);
		free(p);
		return XZ_EINVAL;
	}
	p->tz_offset_min        = opt_i(p, "tz_offset_min", 480);
	p->handover_accept_s    = opt_i(p, "handover_accept_s", 1800);
	p->report_ack_s         = opt_i(p, "report_ack_s", 7200);
	p->report_notable_level = opt_i(p, "report_notable_level", 2);
	if (report_at_init(p) != 0) {
		kit_ctx_fini(&p->c);
		free(p->treatment_buf);
		free(p);
		return XZ_EINVAL;
	}
	if (prison_shifts_init(p) != 0) {
		kit_ctx_fini(&p->c);
		free(p->treatment_buf);
		free(p->shift_buf);
		free(p);
		return XZ_EINVAL;
	}
	p->rollcall_alarm_level = opt_i(p, "rollcall_alarm_level", 1);
	p->kiosk_forward_h      = opt_i(p, "kiosk_forward_h", 24);
	p->c.list_max           = opt_i(p, "list_max", 1000);
	host->opt_bool(self, "incident_auto_draft", &b);
	p->incident_auto_draft = b;

	kind_init(p, PK_ALARM, "alarm", "ALM", "raised", &prison_alarm_fsm, 0);
	kind_init(p, PK_ROLLCALL, "rollcall", "RC", "scheduled",
	    &prison_rollcall_fsm, 0);
	kind_init(p, PK_INCIDENT, "incident", "INC", "drafted",
	    &prison_incident_fsm, 1);
	kind_init(
	    p, PK_VISIT, "visit", "VIS", "requested", &prison_visit_fsm, 1);
	kind_init(p, PK_PRISONER, "prisoner", "P", "admitted",
	    &prison_prisoner_fsm, 1);
	kind_init(p, PK_LOCATION, "location", "LOC", "created",
	    &prison_location_fsm, 0);
	kind_init(p, PK_KIOSK, "kiosk", "KIO", "legal-aid-requested",
	    &prison_kiosk_fsm, 1);

	kind_init(
	    p, PK_ROSTER, "roster", "ROS", "assigned", &prison_roster_fsm, 0);
	kind_init(p, PK_HANDOVER, "handover", "HO", "opened",
	    &prison_handover_fsm, 0);
	kind_init(
	    p, PK_REPORT, "report", "RPT", "generated", &prison_report_fsm, 0);

	prison_alarm_hooks(p);
	prison_duty_hooks(p);
	prison_rollcall_hooks(p);
	prison_records_hooks(p);
	if ((rc = prison_api_serve(p)) != XZ_OK) {
		host->log(self, XZ_LOG_ERROR, PT("subscribe: %s"),
		    host->strerror(rc));
		kit_ctx_fini(&p->c);
		free(p->treatment_buf);
		free(p->shift_buf);
		free(p);
		return rc;
	}
	*state = p;
	return XZ_OK;
}

/* A kiosk legal-aid request not forwarded within kiosk_forward_h is
 * reported on prison.kiosk.forward-overdue, once. */
static void
on_sweep(void *ud, uint64_t timer_id)
{
	prison *p = ud;

	(void) timer_id;
	kit_sweep_overdue(&p->c, &p->kinds[PK_KIOSK], "SUBMITTED",
	    "forward_by_ms", NULL, "prison.kiosk.forward-overdue");
}

static int
prison_start(void *state)
{
	prison *p = state;
	int     s = 0;

	if (prison_layout_load(p) != 0)
		return XZ_EINVAL;
	p->c.host->opt_bool(p->c.self, "seed_demo_data", &s);
	if (s && prison_seed_prisoners(p) != 0)
		return XZ_EIO;
	if (prison_alarm_reload(p) != 0)
		return XZ_EIO;
	if (prison_duty_start(p) != 0)
		return XZ_EIO;
	kit_group_enable(&p->c);
	kit_lazy_enable(&p->c);
	return p->c.host->timer_start(p->c.self,
	    (uint64_t) opt_i(p, "sweep_s", 60) * 1000,
	    (uint64_t) opt_i(p, "sweep_s", 60) * 1000, on_sweep, p,
	    &p->sweep_timer);
}

/* The group-commit point: the batch's changes become durable, then its
 * events and replies go out. */
static void
prison_batch_end(void *state)
{
	prison *p = state;
	kit_batch_end(&p->c);
}

static void
prison_stop(void *state)
{
	prison *p = state;
	kit_batch_end(&p->c);
	prison_alarm_disarm_all(p);
	kit_clock_disarm(&p->c);
	if (p->sweep_timer)
		p->c.host->timer_cancel(p->c.self, p->sweep_timer);
	p->sweep_timer = 0;
}

static void
prison_fini(void *state)
{
	prison *p = state;
	prison_alarm_disarm_all(p);
	kit_ctx_fini(&p->c);
	free(p->treatment_buf);
	free(p->shift_buf);
	free(p);
}

static const xz_plugin_desc desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name    = "prison",
	.version = "0.2.0",
	.description
	= "smart prison (智慧监狱) command center: alarms with SLA "
	  "escalation up to the bureau, roll calls, incidents, "
	  "the register, visits, kiosk",
	.options   = options,
	.init      = prison_init,
	.start     = prison_start,
	.stop      = prison_stop,
	.fini      = prison_fini,
	.batch_end = prison_batch_end,
	/* since 1.4 */
	.check_options = prison_check_options,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
