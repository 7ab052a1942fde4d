/*
 * casework.c - dispositions and correction plans of a resident.
 *
 * A disposition is a proposal to the outside deciding authority (public
 * security), published as rehab.disposition.proposed; the authority's
 * decision comes back as rehab.disposition.approve / .reject:
 *   ON_SCHEDULE      release at term end
 *   EARLY_RELEASE    after >= early_release_min_days served and an
 *                    approved, passing ONE_YEAR assessment
 *   EXTENSION        1..extension_max_months more (moves the term end)
 *   COMMUNITY_REHAB  1..community_rehab_max_months in the community
 * An approved release-type disposition authorizes rehab.resident.release.
 */
#include <stdio.h>
#include <string.h>

#include "rehab.h"

static const char *const disposition_types[]
    = { "ON_SCHEDULE", "EARLY_RELEASE", "EXTENSION", "COMMUNITY_REHAB", NULL };

static int
in_list(const char *const *list, const char *s)
{
	for (; s && *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

/* rehab.disposition.propose {"resident_id","type","months"?,"grounds"} */
static void
propose_fn(const kit_kind *k, kit_req *r)
{
	rehab      *h      = k->ud;
	const char *rid    = kit_str(r->body, "resident_id");
	const char *type   = kit_str(r->body, "type");
	int64_t     months = kit_int(r->body, "months", 0);
	json_t     *res;
	json_t     *f;
	kit_err     e;

	if (rid == NULL || !in_list(disposition_types, type)) {
		kit_err_set(&e, KIT_E_BAD_REQUEST,
		    "rehab.disposition.propose: \"resident_id\" and \"type\" "
		    "(ON_SCHEDULE, EARLY_RELEASE, EXTENSION, COMMUNITY_REHAB) "
		    "are required");
		goto refuse;
	}
	res = kit_store_load(&h->c.store, "resident", rid);
	if (res == NULL) {
		kit_err_set(
		    &e, KIT_E_NOT_FOUND, "no resident with id %s", rid);
		goto refuse;
	}
	if (strcmp(kit_str(res, "state"), "RELEASED") == 0) {
		kit_err_set(&e, KIT_E_INVALID_STATE,
		    "resident %s is RELEASED: no disposition", rid);
		json_decref(res);
		goto refuse;
	}
	f = json_pack(
	    "{s:s,s:s,s:s}", "resident_id", rid, "owner", rid, "type", type);
	if (strcmp(type, "EARLY_RELEASE") == 0) {
		int64_t days = (r->now_ms - kit_int(res, "admitted_ms", 0))
		    / REHAB_DAY_MS;
		json_t *a;
		if (days < h->early_release_min_days) {
			kit_err_set(&e, KIT_E_INVALID_STATE,
			    "resident %s has served %lld day(s): early "
			    "release "
			    "needs at least %lld",
			    rid, (long long) days,
			    (long long) h->early_release_min_days);
			goto refuse_f;
		}
		a = rehab_passing_assessment(
		    h, rid, (const char *const[]) { "ONE_YEAR", NULL }, NULL);
		if (a == NULL) {
			kit_err_set(&e, KIT_E_INVALID_STATE,
			    "resident %s has no approved, passing ONE_YEAR "
			    "assessment: early release cannot be proposed",
			    rid);
			goto refuse_f;
		}
		json_object_set_new(f, "basis", json_string(kit_str(a, "id")));
		json_decref(a);
	} else if (strcmp(type, "EXTENSION") == 0
	    || strcmp(type, "COMMUNITY_REHAB") == 0) {
		int64_t max = type[0] == 'E' ? h->extension_max_months
		                             : h->community_rehab_max_months;
		if (months < 1 || months > max) {
			kit_err_set(&e, KIT_E_BAD_REQUEST,
			    "rehab.disposition.propose: %s needs \"months\" "
			    "1..%lld",
			    type, (long long) max);
			goto refuse_f;
		}
		json_object_set_new(f, "months", json_integer(months));
	}
	if (json_object_get(r->body, "grounds"))
		json_object_set(
		    f, "grounds", json_object_get(r->body, "grounds"));
	json_object_set_new(
	    f, "authority", json_string(kit_str(res, "deciding_authority")));
	json_decref(res);
	kit_create_reply(k, r, f,
	    json_pack("{s:s,s:s,s:I,s:s?}", "resident_id", rid, "type", type,
	        "months", (json_int_t) months, "authority",
	        kit_str(f, "authority")));
	return;
refuse_f:
	json_decref(f);
	json_decref(res);
refuse:
	kit_reply_err(r, &e, "disposition", NULL);
}

/* The authority's approval changes the resident in the same transaction. */
static int
disposition_on_action(const kit_kind *k, kit_req *r, const kit_transition *t,
    json_t *rec, json_t *ev, kit_err *e)
{
	rehab      *h    = k->ud;
	const char *rid  = kit_str(rec, "resident_id");
	const char *type = kit_str(rec, "type");
	json_t     *res;
	kit_change  ch;

	json_object_set_new(ev, "resident_id", json_string(rid));
	json_object_set_new(ev, "type", json_string(type));
	if (kit_str(r->body, "decision_no"))
		json_object_set_new(rec, "decision_no",
		    json_string(kit_str(r->body, "decision_no")));
	if (strcmp(t->action, "approve") != 0)
		return 0;
	res = kit_store_load(&h->c.store, "resident", rid);
	if (res == NULL) {
		kit_err_set(e, KIT_E_NOT_FOUND, "no resident with id %s", rid);
		return -1;
	}
	if (strcmp(type, "EXTENSION") == 0) {
		int64_t end = rehab_add_months(
		    kit_int(res, "term_end_ms", 0), kit_int(rec, "months", 0));
		json_object_set_new(res, "term_end_ms", json_integer(end));
		json_object_set_new(ev, "term_end_ms", json_integer(end));
	} else {
		json_object_set_new(res, "release_authorized_by",
		    json_string(kit_str(rec, "id")));
		json_object_set_new(res, "release_type", json_string(type));
		if (kit_int(rec, "months", 0) > 0)
			json_object_set_new(res, "community_rehab_months",
			    json_integer(kit_int(rec, "months", 0)));
	}
	json_object_set_new(res, "updated_ms", json_integer(r->now_ms));
	ch = (kit_change) { .action = "disposition-approved",
		.from               = kit_str(res, "state"),
		.to                 = kit_str(res, "state"),
		.who                = r->actor.user,
		.role               = r->actor.role,
		.why                = kit_str(rec, "id"),
		.at_ms              = r->now_ms };
	if (kit_store_save(&h->c.store, "resident", res, 0) != 0
	    || kit_store_history_add(&h->c.store, "resident", rid, &ch) != 0) {
		kit_err_set(e, KIT_E_STORE_ERROR, "%s", h->c.store.err);
		json_decref(res);
		return -1;
	}
	json_decref(res);
	return 0;
}

/* rehab.plan.draft {"resident_id","goals":[...],"centre"} */
static void
plan_draft_fn(const kit_kind *k, kit_req *r)
{
	rehab      *h   = k->ud;
	const char *rid = kit_str(r->body, "resident_id");
	json_t     *res;
	json_t     *f;
	kit_err     e;

	if (rid == NULL || !json_is_array(json_object_get(r->body, "goals"))) {
		kit_err_set(&e, KIT_E_BAD_REQUEST,
		    "rehab.plan.draft: \"resident_id\" and \"goals\" (an "
		    "array) are required");
		kit_reply_err(r, &e, "plan", NULL);
		return;
	}
	res = kit_store_load(&h->c.store, "resident", rid);
	if (res == NULL) {
		kit_err_set(
		    &e, KIT_E_NOT_FOUND, "no resident with id %s", rid);
		kit_reply_err(r, &e, "plan", NULL);
		return;
	}
	json_decref(res);
	f = json_pack("{s:s,s:s,s:O,s:[]}", "resident_id", rid, "owner", rid,
	    "goals", json_object_get(r->body, "goals"), "sessions");
	if (kit_str(r->body, "centre"))
		json_object_set_new(
		    f, "centre", json_string(kit_str(r->body, "centre")));
	kit_create_reply(k, r, f, json_pack("{s:s}", "resident_id", rid));
}

static int
plan_on_action(const kit_kind *k, kit_req *r, const kit_transition *t,
    json_t *rec, json_t *ev, kit_err *e)
{
	(void) k;
	json_object_set_new(
	    ev, "resident_id", json_string(kit_str(rec, "resident_id")));
	if (strcmp(t->action, "update") == 0) {
		json_t *g = json_object_get(r->body, "goals");
		if (!json_is_array(g)) {
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    "rehab.plan.update: \"goals\" (an array) is "
			    "missing");
			return -1;
		}
		json_object_set(rec, "goals", g);
	} else if (strcmp(t->action, "record-session") == 0) {
		json_t *s   = json_object_get(r->body, "session");
		json_t *arr = json_object_get(rec, "sessions");
		if (!json_is_object(s)
		    || !json_is_boolean(json_object_get(s, "attended"))) {
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    "rehab.plan.record-session: \"session\" must be "
			    "{\"topic\":..,\"at_ms\":..,\"attended\":true|"
			    "false}");
			return -1;
		}
		if (!json_is_array(arr)) {
			arr = json_array();
			json_object_set_new(rec, "sessions", arr);
		}
		json_array_append(arr, s);
		json_object_set(
		    ev, "attended", json_object_get(s, "attended"));
		json_object_set_new(
		    ev, "sessions", json_integer(json_array_size(arr)));
	}
	return 0;
}

int
rehab_casework_serve(rehab *h)
{
	kit_kind *d = &h->kinds[RK_DISPOSITION];
	kit_kind *p = &h->kinds[RK_PLAN];
	int       rc;

	d->on_action = disposition_on_action;
	p->on_action = plan_on_action;
	if ((rc = kit_serve_kind(&h->c, d)) != XZ_OK
	    || (rc = kit_serve_kind(&h->c, p)) != XZ_OK)
		return rc;
	if ((rc = kit_serve(
	         &h->c, "rehab.disposition.propose", d, propose_fn, 1))
	    != XZ_OK)
		return rc;
	return kit_serve(&h->c, "rehab.plan.draft", p, plan_draft_fn, 1);
}
