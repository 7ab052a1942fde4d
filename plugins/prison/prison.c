/*
 * prison.c - the prison plugin: descriptor, options, life cycle, and the
 * demo seed (a small prison and its prisoners, on an empty store when
 * seed_demo_data is true).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prison.h"

static const xz_option_decl options[] = {
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
	{ "rollcall_alarm_level", XZ_OPT_INT, "1", 0,
	    "level of the alarm a roll-call discrepancy raises", 1, 3 },
	{ "incident_auto_draft", XZ_OPT_BOOL, "true", 0,
	    "draft an incident report when an alarm is resolved", 0, 0 },
	{ "kiosk_forward_h", XZ_OPT_INT, "24", 0,
	    "hours within which a kiosk legal-aid request must be forwarded",
	    1, 168 },
	{ "prisoner_number_pattern", XZ_OPT_STRING, "^[A-Z][0-9]{4}[A-Z]{2}$",
	    0, "POSIX extended regex a prisoner number must match", 0, 0 },
	{ "sweep_s", XZ_OPT_INT, "60", 0,
	    "how often overdue kiosk requests are looked for, seconds", 1,
	    3600 },
	{ "list_max", XZ_OPT_INT, "1000", 0,
	    "largest page a list request returns", 1, 100000 },
	{ "seed_demo_data", XZ_OPT_BOOL, "false", 0,
	    "on an empty store, create a demo prison P1 with 32 cells and "
	    "40 prisoners",
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
	p->ack_sla_s[1]         = opt_i(p, "alarm_ack_sla_s", 15);
	p->dispatch_sla_s[1]    = opt_i(p, "alarm_dispatch_sla_s", 60);
	p->ack_sla_s[2]         = opt_i(p, "alarm_ack_sla_l2_s", 10);
	p->dispatch_sla_s[2]    = opt_i(p, "alarm_dispatch_sla_l2_s", 45);
	p->ack_sla_s[3]         = opt_i(p, "alarm_ack_sla_l3_s", 5);
	p->dispatch_sla_s[3]    = opt_i(p, "alarm_dispatch_sla_l3_s", 30);
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

	if ((rc = prison_alarm_serve(p)) == XZ_OK
	    && (rc = prison_rollcall_serve(p)) == XZ_OK)
		rc = prison_records_serve(p);
	if (rc != XZ_OK) {
		host->log(
		    self, XZ_LOG_ERROR, "subscribe: %s", host->strerror(rc));
		kit_ctx_fini(&p->c);
		free(p);
		return rc;
	}
	*state = p;
	return XZ_OK;
}

static const char *const surnames[] = { "Wang", "Li", "Zhang", "Liu", "Chen",
	"Yang", "Zhao", "Huang", "Zhou", "Wu" };
static const char *const given[]
    = { "Wei", "Fang", "Jun", "Lei", "Ming", "Qiang", "Hao", "Tao" };

/* One record created by the seed; -1 with e set on failure. */
static int
seed_one(prison *p, kit_req *r, int kind, json_t *fields, kit_err *e)
{
	json_t *rec = kit_create_tx(&p->kinds[kind], r, fields, NULL, e);
	json_decref(rec);
	return rec ? 0 : -1;
}

/* The demo prison: P1 → areas A, B → wings 1, 2 → landings 1, 2 → cells
 * 001..004 (47 locations; working capacity 2; cell 004 of each landing is
 * a specialist cell), and 40 prisoners A0001AA... in cells 001..003. */
static int
seed(prison *p)
{
	kit_req r;
	kit_err e;
	json_t *page
	    = kit_store_list(&p->c.store, "location", NULL, NULL, NULL, 1, 0);
	int64_t have = kit_int(page, "total", 0);
	int     rc = -1, n = 0;
	char    id[64], num[16], name[64];

	json_decref(page);
	if (have > 0)
		return 0;
	kit_req_internal(&p->c, &r, "system:seed", NULL);
	if (kit_tx_begin(&p->c, &e) != 0)
		goto out;
	if (seed_one(p, &r, PK_LOCATION,
	        json_pack("{s:s,s:s,s:s,s:s}", "id", "P1", "location", "P1",
	            "type", "PRISON", "name", "Provincial Prison No. 1"),
	        &e))
		goto abort;
	for (char a = 'A'; a <= 'B'; a++) {
		snprintf(id, sizeof(id), "P1.%c", a);
		if (seed_one(p, &r, PK_LOCATION,
		        json_pack("{s:s,s:s,s:s,s:s}", "id", id, "location",
		            id, "type", "AREA", "parent", "P1"),
		        &e))
			goto abort;
		for (int w = 1; w <= 2; w++) {
			snprintf(id, sizeof(id), "P1.%c.%d", a, w);
			if (seed_one(p, &r, PK_LOCATION,
			        json_pack("{s:s,s:s,s:s}", "id", id,
			            "location", id, "type", "WING"),
			        &e))
				goto abort;
			for (int l = 1; l <= 2; l++) {
				snprintf(
				    id, sizeof(id), "P1.%c.%d.%d", a, w, l);
				if (seed_one(p, &r, PK_LOCATION,
				        json_pack("{s:s,s:s,s:s}", "id", id,
				            "location", id, "type", "LANDING"),
				        &e))
					goto abort;
				for (int c = 1; c <= 4; c++) {
					json_t *f;
					snprintf(id, sizeof(id),
					    "P1.%c.%d.%d.%03d", a, w, l, c);
					f = json_pack(
					    "{s:s,s:s,s:s,s:{s:i,s:i,s:i}}",
					    "id", id, "location", id, "type",
					    "CELL", "capacity", "certified", 2,
					    "working", 2, "max", 3);
					if (c == 4)
						json_object_set_new(f,
						    "specialist",
						    json_string(a == 'A'
						            ? "SAFE_CELL"
						            : "MEDICAL"));
					if (seed_one(
					        p, &r, PK_LOCATION, f, &e))
						goto abort;
					for (int b = 0;
					     b < 2 && c < 4 && n < 40;
					     b++, n++) {
						snprintf(num, sizeof(num),
						    "A%04d%c%c", n + 1,
						    'A' + n / 26,
						    'A' + n % 26);
						snprintf(name, sizeof(name),
						    "%s %s", surnames[n % 10],
						    given[(n / 10 + n) % 8]);
						if (seed_one(p, &r,
						        PK_PRISONER,
						        json_pack(
						            "{s:s,s:s,s:s,s:s,"
						            "s:s,s:s,s:I}",
						            "id", num, "name",
						            name,
						            "legal_status",
						            n % 5 ? "SENTENCED"
						                  : "REMAND",
						            "category",
						            n % 3 ? "C" : "B",
						            "cell", id,
						            "location", id,
						            "reception_ms",
						            (json_int_t)
						                r.now_ms),
						        &e))
							goto abort;
					}
				}
			}
		}
	}
	if (kit_tx_commit(&p->c, &e) != 0)
		goto out;
	p->c.host->log(p->c.self, XZ_LOG_INFO,
	    "seeded the demo prison P1: 47 locations (32 cells), %d "
	    "prisoners",
	    n);
	rc = 0;
	goto out;
abort:
	kit_tx_abort(&p->c);
out:
	if (rc != 0)
		p->c.host->log(p->c.self, XZ_LOG_ERROR, "seed: %s", e.msg);
	kit_req_done(&r);
	return rc;
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

	p->c.host->opt_bool(p->c.self, "seed_demo_data", &s);
	if (s && seed(p) != 0)
		return XZ_EIO;
	if (prison_alarm_reload(p) != 0)
		return XZ_EIO;
	kit_group_enable(&p->c);
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
	free(p);
}

static const xz_plugin_desc desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name        = "prison",
	.version     = "0.1.0",
	.description = "smart-prison command center: alarms with SLA "
	               "escalation, roll calls, incidents, visits, kiosk",
	.options     = options,
	.init        = prison_init,
	.start       = prison_start,
	.stop        = prison_stop,
	.fini        = prison_fini,
	.batch_end   = prison_batch_end,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
