/*
 * rehab.c - the rehab plugin: descriptor, options, life cycle, and the
 * demo seed (residents across the four phases, on an empty store when
 * seed_demo_data is true).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rehab.h"

/* The term (2 years), the extension cap (1 year in total) and the year
 * before an early release are statute (禁毒法 art. 47), not options. */
static const xz_option_decl options[] = {
	{ "agency", XZ_OPT_STRING, "rehab-01", 0,
	    "this centre's agency id: staff act for it, proposals are sent "
	    "from it",
	    0, 0 },
	{ "community_rehab_agency", XZ_OPT_STRING, "township-01", 0,
	    "the 乡镇人民政府/街道办事处 that takes over 社区康复 on release",
	    0, 0 },
	{ "collab_plugin", XZ_OPT_STRING, "collab", 0,
	    "the plugin whose collab.transfer.decided events are the deciding "
	    "authority's decisions",
	    0, 0 },
	{ "handbook_days", XZ_OPT_INT, "7", 0,
	    "days after admission within which the handbook is created", 1,
	    60 },
	{ "detox_min_days", XZ_OPT_INT, "30", 0,
	    "minimum stay in 生理脱毒期 (PHYSIOLOGICAL_DETOX) before "
	    "advancing",
	    0, 365 },
	{ "education_min_days", XZ_OPT_INT, "90", 0,
	    "minimum stay in 教育适应期 (EDUCATION_ADAPTATION) before "
	    "advancing",
	    0, 730 },
	{ "consolidation_min_days", XZ_OPT_INT, "180", 0,
	    "minimum stay in 康复巩固期 (REHABILITATION_CONSOLIDATION) before "
	    "advancing",
	    0, 730 },
	{ "sweep_s", XZ_OPT_INT, "3600", 0,
	    "how often overdue handbooks are looked for, seconds", 1, 86400 },
	{ "list_max", XZ_OPT_INT, "1000", 0,
	    "largest page a list request returns", 1, 100000 },
	{ "seed_demo_data", XZ_OPT_BOOL, "false", 0,
	    "on an empty store, admit 12 demo residents R0001..R0012", 0, 0 },
	{ NULL, 0, NULL, 0, NULL, 0, 0 },
};

static int64_t
opt_i(rehab *h, const char *name, int64_t def)
{
	int64_t v;
	return h->c.host->opt_int(h->c.self, name, &v) == XZ_OK ? v : def;
}

static void
kind_init(rehab *h, int i, const char *name, const char *prefix,
    const char *created, const kit_fsm *fsm)
{
	kit_kind *k      = &h->kinds[i];
	k->name          = name;
	k->prefix        = prefix;
	k->created_event = created;
	k->subject_type  = name;
	k->fsm           = fsm;
	k->personal      = 1; /* health and drug data: every read audited */
	k->ud            = h;
}

/* init allocates the plugin state; fini frees it. */
static int
rehab_init(xz_plugin *self, const xz_host *host, void **state)
{
	rehab *h = calloc(1, sizeof(*h));
	char   err[300];
	int    rc;

	if (h == NULL)
		return XZ_ENOMEM;
	if (kit_ctx_init(&h->c, self, host, "rehab", err, sizeof(err)) != 0) {
		host->log(self, XZ_LOG_ERROR, "%s", err);
		kit_ctx_fini(&h->c);
		free(h);
		return XZ_EIO;
	}
	h->agency           = host->opt_string(self, "agency");
	h->community_agency = host->opt_string(self, "community_rehab_agency");
	h->collab_plugin    = host->opt_string(self, "collab_plugin");
	h->handbook_days    = opt_i(h, "handbook_days", 7);
	h->phase_min_days[0] = opt_i(h, "detox_min_days", 30);
	h->phase_min_days[1] = opt_i(h, "education_min_days", 90);
	h->phase_min_days[2] = opt_i(h, "consolidation_min_days", 180);
	h->c.list_max        = opt_i(h, "list_max", 1000);

	kind_init(
	    h, RK_RESIDENT, "resident", "R", "admitted", &rehab_resident_fsm);
	kind_init(h, RK_ASSESSMENT, "assessment", "AS", "recorded",
	    &rehab_assessment_fsm);
	kind_init(h, RK_DISPOSITION, "disposition", "DSP", "proposed",
	    &rehab_disposition_fsm);
	kind_init(h, RK_PLAN, "plan", "CP", "drafted", &rehab_plan_fsm);

	rehab_resident_hooks(h);
	rehab_casework_hooks(h);
	if ((rc = rehab_serve_all(h)) != XZ_OK
	    || (rc = rehab_assessment_subscribe(h)) != XZ_OK
	    || (rc = rehab_casework_subscribe(h)) != XZ_OK) {
		host->log(self, XZ_LOG_ERROR, RTR("subscribe: %s"),
		    host->strerror(rc));
		kit_ctx_fini(&h->c);
		free(h);
		return rc;
	}
	*state = h;
	return XZ_OK;
}

static const char *const phases[]
    = { "PHYSIOLOGICAL_DETOX", "EDUCATION_ADAPTATION",
	      "REHABILITATION_CONSOLIDATION", "RETURN_GUIDANCE" };
static const char *const names[] = { "孙浩", "马林", "朱岩", "胡波", "郭靖",
	"何平", "高宇", "林涛", "罗琦", "郑凯", "梁锐", "谢楠" };

/* A valid demo identity number (GB 11643-1999) for resident i. */
static void
demo_id_number(int i, char out[19])
{
	static const int w[17]
	    = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
	int sum = 0;

	snprintf(out, 19, "51010419%02d0%d%02d%03d", 80 + i % 15, 1 + i % 9,
	    10 + i, 100 + i);
	for (int j = 0; j < 17; j++)
		sum += (out[j] - '0') * w[j];
	out[17] = "10X98765432"[sum % 11];
	out[18] = '\0';
}

/* Twelve residents, three per phase, admitted 10 to 700 days ago. */
static int
seed(rehab *h)
{
	kit_req r;
	kit_err e;
	json_t *page
	    = kit_store_list(&h->c.store, "resident", NULL, NULL, NULL, 1, 0);
	int64_t have = kit_int(page, "total", 0);
	char    id[16], dec[96], idn[19], day[16];

	json_decref(page);
	if (have > 0)
		return 0;
	kit_req_internal(&h->c, &r, "system:seed", NULL);
	if (kit_tx_begin(&h->c, &e) != 0)
		goto fail;
	for (int i = 0; i < 12; i++) {
		int64_t at = r.now_ms - (int64_t) (10 + i * 62) * REHAB_DAY_MS;
		/* 3 months in a public-security centre before (戒毒条例
		 * art. 27): the term runs from the decision */
		int64_t decided
		    = (at - 90 * REHAB_DAY_MS) / REHAB_DAY_MS * REHAB_DAY_MS;
		time_t    t = (time_t) (decided / 1000);
		struct tm tm;
		json_t   *rec;
		gmtime_r(&t, &tm);
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
		snprintf(id, sizeof(id), "R%04d", i + 1);
		snprintf(dec, sizeof(dec), "某公(禁)强戒决字〔2026〕%d号",
		    1000 + i);
		demo_id_number(i, idn);
		rec = kit_create_tx(&h->kinds[RK_RESIDENT], &r,
		    json_pack(
		        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,"
		        "s:I,s:I}",
		        "id", id, "state", phases[i / 3], "name", names[i],
		        "id_number", idn, "decision_no", dec, "decision_date",
		        day, "deciding_agency", "police-01", "decided_ms",
		        (json_int_t) decided, "admitted_ms", (json_int_t) at,
		        "extension_months", (json_int_t) 0, "term_months",
		        (json_int_t) REHAB_TERM_MONTHS, "term_end_ms",
		        (json_int_t) rehab_add_months(
		            decided, REHAB_TERM_MONTHS),
		        "handbook_due_ms",
		        (json_int_t) (at + h->handbook_days * REHAB_DAY_MS),
		        "phase_since_ms",
		        (json_int_t) (r.now_ms
		            - (int64_t) (i % 3 + 1) * 20 * REHAB_DAY_MS)),
		    NULL, &e);
		if (rec == NULL) {
			kit_tx_abort(&h->c);
			goto fail;
		}
		json_decref(rec);
	}
	if (kit_tx_commit(&h->c, &e) != 0)
		goto fail;
	h->c.host->log(h->c.self, XZ_LOG_INFO, "%s",
	    RTR("seeded 12 demo residents R0001..R0012"));
	kit_req_done(&r);
	return 0;
fail:
	h->c.host->log(h->c.self, XZ_LOG_ERROR, RTR("seed: %s"), e.msg);
	kit_req_done(&r);
	return -1;
}

/* A resident without a handbook handbook_days after admission is reported
 * on rehab.resident.handbook-overdue, once. */
static void
on_sweep(void *ud, uint64_t timer_id)
{
	rehab *h = ud;

	(void) timer_id;
	kit_sweep_overdue(&h->c, &h->kinds[RK_RESIDENT], "PHYSIOLOGICAL_DETOX",
	    "handbook_due_ms", "handbook_ms",
	    "rehab.resident.handbook-overdue");
}

static int
rehab_start(void *state)
{
	rehab *h = state;
	int    s = 0;

	h->c.host->opt_bool(h->c.self, "seed_demo_data", &s);
	if (s && seed(h) != 0)
		return XZ_EIO;
	kit_group_enable(&h->c);
	kit_lazy_enable(&h->c);
	return h->c.host->timer_start(h->c.self,
	    (uint64_t) opt_i(h, "sweep_s", 3600) * 1000,
	    (uint64_t) opt_i(h, "sweep_s", 3600) * 1000, on_sweep, h,
	    &h->sweep_timer);
}

/* The group-commit point (see kit_batch_end). */
static void
rehab_batch_end(void *state)
{
	rehab *h = state;
	kit_batch_end(&h->c);
}

static void
rehab_stop(void *state)
{
	rehab *h = state;
	kit_batch_end(&h->c);
	if (h->sweep_timer)
		h->c.host->timer_cancel(h->c.self, h->sweep_timer);
	h->sweep_timer = 0;
}

static void
rehab_fini(void *state)
{
	rehab *h = state;
	kit_ctx_fini(&h->c);
	free(h);
}

static const xz_plugin_desc desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name        = "rehab",
	.version     = "0.1.0",
	.description = "compulsory isolated drug rehabilitation: residents, "
	               "phases, assessments, dispositions, correction plans",
	.options     = options,
	.init        = rehab_init,
	.start       = rehab_start,
	.stop        = rehab_stop,
	.fini        = rehab_fini,
	.batch_end   = rehab_batch_end,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
