/*
 * resident.c - residents: admission (term end, handbook deadline), phase
 * advances gated by a passing, approved assessment of the right kind taken
 * in the current phase and by the phase's minimum stay, and release
 * (at term end, or on an approved disposition).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rehab.h"

int64_t
rehab_add_months(int64_t ms, int64_t months)
{
	time_t    t = (time_t) (ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	tm.tm_mon += (int) months;
	return (int64_t) timegm(&tm) * 1000 + ms % 1000;
}

/* prison-style refusal helper */
static void
refuse(kit_req *r, kit_code code, const char *msg)
{
	kit_err e;
	kit_err_set(&e, code, "%s", msg);
	kit_reply_err(r, &e, "resident", NULL);
}

/* rehab.resident.admit {"id","name","decision_no","deciding_authority",
 * "admitted_ms"?,"term_months"?} */
static void
admit_fn(const kit_kind *k, kit_req *r)
{
	rehab      *h      = k->ud;
	const char *id     = kit_str(r->body, "id");
	int64_t     at     = kit_int(r->body, "admitted_ms", r->now_ms);
	int64_t     months = kit_int(r->body, "term_months", h->term_months);
	json_t     *f;

	if (id == NULL || kit_str(r->body, "name") == NULL
	    || kit_str(r->body, "decision_no") == NULL) {
		refuse(r, KIT_E_BAD_REQUEST,
		    "rehab.resident.admit: \"id\" (resident number), \"name\" "
		    "and \"decision_no\" (the public security decision) are "
		    "required");
		return;
	}
	if (months < 1 || months > 36) {
		refuse(r, KIT_E_BAD_REQUEST,
		    "rehab.resident.admit: \"term_months\" must be 1..36");
		return;
	}
	f = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "id", id,
	    "name", kit_str(r->body, "name"), "decision_no",
	    kit_str(r->body, "decision_no"), "deciding_authority",
	    kit_str(r->body, "deciding_authority")
	        ? kit_str(r->body, "deciding_authority")
	        : "public security",
	    "admitted_ms", (json_int_t) at, "term_months", (json_int_t) months,
	    "term_end_ms", (json_int_t) rehab_add_months(at, months),
	    "handbook_due_ms",
	    (json_int_t) (at + h->handbook_days * REHAB_DAY_MS),
	    "phase_since_ms", (json_int_t) at);
	kit_create_reply(k, r, f,
	    json_pack("{s:s,s:I}", "phase", "PHYSIOLOGICAL_DETOX",
	        "term_end_ms", (json_int_t) kit_int(f, "term_end_ms", 0)));
}

/* The assessment kinds that open each phase's exit. */
static const char *const *
gate_kinds(const char *phase, int64_t *min_days, const rehab *h)
{
	static const char *const detox[]   = { "DETOX", NULL };
	static const char *const phase_k[] = { "PHASE", NULL };
	static const char *const late[]    = { "PHASE", "ONE_YEAR", NULL };

	if (strcmp(phase, "PHYSIOLOGICAL_DETOX") == 0) {
		*min_days = h->phase_min_days[0];
		return detox;
	}
	if (strcmp(phase, "EDUCATION_ADAPTATION") == 0) {
		*min_days = h->phase_min_days[1];
		return phase_k;
	}
	*min_days = h->phase_min_days[2];
	return late;
}

static int
on_action(const kit_kind *k, kit_req *r, const kit_transition *t, json_t *rec,
    json_t *ev, kit_err *e)
{
	rehab      *h   = k->ud;
	const char *rid = kit_str(rec, "id");

	if (strcmp(t->action, "advance") == 0) {
		int64_t            min_days;
		const char *const *kinds = gate_kinds(t->from, &min_days, h);
		int64_t            since = kit_int(rec, "phase_since_ms", 0);
		json_t            *a;

		if (r->now_ms - since < min_days * REHAB_DAY_MS) {
			kit_err_set(e, KIT_E_INVALID_STATE,
			    "resident %s has been in %s for %lld day(s): the "
			    "minimum is %lld",
			    rid, t->from,
			    (long long) ((r->now_ms - since) / REHAB_DAY_MS),
			    (long long) min_days);
			return -1;
		}
		a = rehab_passing_assessment(h, rid, kinds, t->from);
		if (a == NULL) {
			kit_err_set(e, KIT_E_INVALID_STATE,
			    "resident %s cannot leave %s: no approved, "
			    "passing "
			    "%s%s assessment taken in this phase",
			    rid, t->from, kinds[0],
			    kinds[1] ? " or ONE_YEAR" : "");
			return -1;
		}
		json_object_set_new(
		    ev, "assessment_id", json_string(kit_str(a, "id")));
		json_object_set_new(
		    rec, "phase_since_ms", json_integer(r->now_ms));
		json_decref(a);
	} else if (strcmp(t->action, "release") == 0) {
		const char *disp = kit_str(rec, "release_authorized_by");
		if (disp == NULL
		    && r->now_ms < kit_int(rec, "term_end_ms", 0)) {
			kit_err_set(e, KIT_E_INVALID_STATE,
			    "resident %s: the term ends at %lld ms and no "
			    "approved disposition authorizes an earlier "
			    "release",
			    rid, (long long) kit_int(rec, "term_end_ms", 0));
			return -1;
		}
		json_object_set_new(
		    rec, "released_ms", json_integer(r->now_ms));
		json_object_set_new(ev, "release_type",
		    json_string(kit_str(rec, "release_type")
		            ? kit_str(rec, "release_type")
		            : "ON_SCHEDULE"));
		if (disp)
			json_object_set_new(
			    ev, "disposition_id", json_string(disp));
	} else if (strcmp(t->action, "issue-handbook") == 0) {
		if (json_object_get(rec, "handbook_ms")) {
			kit_err_set(e, KIT_E_EXISTS,
			    "resident %s already has a handbook", rid);
			return -1;
		}
		json_object_set_new(
		    rec, "handbook_ms", json_integer(r->now_ms));
	}
	return 0;
}

static void
on_get(const kit_kind *k, kit_req *r, json_t *rec)
{
	(void) k;
	json_object_set_new(rec, "days_served",
	    json_integer((r->now_ms - kit_int(rec, "admitted_ms", r->now_ms))
	        / REHAB_DAY_MS));
	json_object_set_new(rec, "days_in_phase",
	    json_integer(
	        (r->now_ms - kit_int(rec, "phase_since_ms", r->now_ms))
	        / REHAB_DAY_MS));
}

int
rehab_resident_serve(rehab *h)
{
	kit_kind *k = &h->kinds[RK_RESIDENT];
	int       rc;

	k->on_action = on_action;
	k->on_get    = on_get;
	if ((rc = kit_serve_kind(&h->c, k)) != XZ_OK)
		return rc;
	return kit_serve(&h->c, "rehab.resident.admit", k, admit_fn, 1);
}
