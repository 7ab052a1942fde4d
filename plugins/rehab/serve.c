/*
 * serve.c - every request of the rehab plugin: its fields (a closed
 * record, fields.h), the roles that may call it (docs/roles.md role ids)
 * and the agency they must act for (this centre), then the handler: a
 * record kind's get and list, an action of its state machine, or a
 * special handler (admit, record, propose, submit, draft).
 */
#include <stdio.h>
#include <string.h>

#include "rehab.h"

static const char *const staff[]
    = { "rehab_officer", "rehab_evaluator", "rehab_leader", "auditor", NULL };
static const char *const officer[]   = { "rehab_officer", NULL };
static const char *const evaluator[] = { "rehab_evaluator", NULL };
static const char *const leader[]    = { "rehab_leader", NULL };

static const char *const assessment_kinds[]
    = { "ADMISSION", "DETOX", "PHASE", "ONE_YEAR", "PRE_EXPIRY", NULL };
static const char *const pass_fail[] = { "PASS", "FAIL", NULL };
static const char *const good_fair[] = { "GOOD", "FAIR", NULL };
static const char *const disposition_types[]
    = { "EARLY_RELEASE", "EXTENSION", NULL };

#define END                                                                   \
	{                                                                     \
		NULL, 0, 0, 0, 0, NULL                                        \
	}
static const fk_field id_only[] = { { "id", FK_STR, 1, 0, 64, NULL }, END };
static const fk_field get_f[]   = { { "id", FK_STR, 1, 0, 64, NULL },
	  { "history", FK_BOOL, 0, 0, 0, NULL }, END };
static const fk_field list_f[]  = { { "state", FK_STR, 0, 0, 64, NULL },
	 { "owner", FK_STR, 0, 0, 64, NULL },
	 { "limit", FK_INT, 0, 1, 100000, NULL },
	 { "offset", FK_INT, 0, 0, 1000000000, NULL }, END };
static const fk_field admit_f[]
    = { { "id", FK_STR, 1, 0, 32, NULL }, { "name", FK_STR, 1, 0, 64, NULL },
	      { "id_number", FK_IDNUM, 1, 0, 0, NULL },
	      { "decision_no", FK_STR, 1, 0, 64, NULL },
	      { "decision_date", FK_DATE, 1, 0, 0, NULL },
	      { "deciding_agency", FK_STR, 1, 0, 64, NULL },
	      { "admitted_date", FK_DATE, 0, 0, 0, NULL },
	      { "term_months", FK_INT, 0, 1, 1200, NULL }, END };
static const fk_field record_f[] = { { "resident_id", FK_STR, 1, 0, 32, NULL },
	{ "kind", FK_ONEOF, 1, 0, 0, assessment_kinds },
	{ "detox", FK_OBJ, 1, 0, 0, NULL },
	{ "psycho_physical", FK_ONEOF, 0, 0, 0, pass_fail },
	{ "behaviour", FK_ONEOF, 0, 0, 0, pass_fail },
	{ "social", FK_ONEOF, 0, 0, 0, good_fair },
	{ "assessors", FK_ARR, 0, 0, 16, NULL },
	{ "evidence", FK_STR, 0, 0, 1024, NULL },
	{ "session_id", FK_STR, 0, 0, 64, NULL },
	{ "measures", FK_OBJ, 0, 0, 0, NULL }, END };
static const fk_field propose_f[]
    = { { "resident_id", FK_STR, 1, 0, 32, NULL },
	      { "type", FK_ONEOF, 1, 0, 0, disposition_types },
	      { "months", FK_INT, 0, 1, 12, NULL },
	      { "grounds", FK_STR, 0, 0, 1024, NULL }, END };
static const fk_field draft_f[]  = { { "resident_id", FK_STR, 1, 0, 32, NULL },
	 { "goals", FK_ARR, 1, 0, 32, NULL },
	 { "centre", FK_STR, 0, 0, 64, NULL }, END };
static const fk_field update_f[] = { { "id", FK_STR, 1, 0, 64, NULL },
	{ "goals", FK_ARR, 1, 0, 32, NULL }, END };
static const fk_field session_f[] = { { "id", FK_STR, 1, 0, 64, NULL },
	{ "session", FK_OBJ, 1, 0, 0, NULL }, END };

/* One request topic. action: a state-machine action (NULL: fn, or get /
 * list by the topic's last token). */
typedef struct route {
	const char        *topic;
	int                kind;
	const char        *action;
	kit_req_fn         fn;
	const char *const *roles;
	const fk_field    *fields;
} route;

static void get_fn(const kit_kind *k, kit_req *r);
static void list_fn(const kit_kind *k, kit_req *r);

static const route routes[] = {
	{ "rehab.resident.admit", RK_RESIDENT, NULL, rehab_admit_fn, officer,
	    admit_f },
	{ "rehab.resident.advance", RK_RESIDENT, "advance", NULL, officer,
	    id_only },
	{ "rehab.resident.release", RK_RESIDENT, "release", NULL, officer,
	    id_only },
	{ "rehab.resident.issue-handbook", RK_RESIDENT, "issue-handbook", NULL,
	    officer, id_only },
	{ "rehab.resident.get", RK_RESIDENT, NULL, get_fn, staff, get_f },
	{ "rehab.resident.list", RK_RESIDENT, NULL, list_fn, staff, list_f },
	{ "rehab.assessment.record", RK_ASSESSMENT, NULL,
	    rehab_assessment_record_fn, evaluator, record_f },
	{ "rehab.assessment.approve", RK_ASSESSMENT, "approve", NULL, leader,
	    id_only },
	{ "rehab.assessment.reject", RK_ASSESSMENT, "reject", NULL, leader,
	    id_only },
	{ "rehab.assessment.get", RK_ASSESSMENT, NULL, get_fn, staff, get_f },
	{ "rehab.assessment.list", RK_ASSESSMENT, NULL, list_fn, staff,
	    list_f },
	{ "rehab.disposition.propose", RK_DISPOSITION, NULL, rehab_propose_fn,
	    officer, propose_f },
	{ "rehab.disposition.submit", RK_DISPOSITION, NULL, rehab_submit_fn,
	    leader, id_only },
	{ "rehab.disposition.withdraw", RK_DISPOSITION, "withdraw", NULL,
	    leader, id_only },
	{ "rehab.disposition.get", RK_DISPOSITION, NULL, get_fn, staff,
	    get_f },
	{ "rehab.disposition.list", RK_DISPOSITION, NULL, list_fn, staff,
	    list_f },
	{ "rehab.plan.draft", RK_PLAN, NULL, rehab_plan_draft_fn, officer,
	    draft_f },
	{ "rehab.plan.update", RK_PLAN, "update", NULL, officer, update_f },
	{ "rehab.plan.submit", RK_PLAN, "submit", NULL, officer, id_only },
	{ "rehab.plan.return", RK_PLAN, "return", NULL, leader, id_only },
	{ "rehab.plan.approve", RK_PLAN, "approve", NULL, leader, id_only },
	{ "rehab.plan.start", RK_PLAN, "start", NULL, officer, id_only },
	{ "rehab.plan.record-session", RK_PLAN, "record-session", NULL,
	    officer, session_f },
	{ "rehab.plan.complete", RK_PLAN, "complete", NULL, officer, id_only },
	{ "rehab.plan.end", RK_PLAN, "end", NULL, leader, id_only },
	{ "rehab.plan.get", RK_PLAN, NULL, get_fn, staff, get_f },
	{ "rehab.plan.list", RK_PLAN, NULL, list_fn, staff, list_f },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static const char *
kind_label(const kit_kind *k)
{
	return RTR(k->name);
}

static void
get_fn(const kit_kind *k, kit_req *r)
{
	const char *id = kit_str(r->body, "id");
	json_t     *rec;
	kit_err     e;
	char        allowed[256];

	rec = kit_store_load(&r->c->store, k->name, id);
	if (rec == NULL) {
		kit_err_set(&e, KIT_E_NOT_FOUND, RTR("no %s with id %s"),
		    kind_label(k), id);
		kit_reply_err(r, &e, k->subject_type, id);
		return;
	}
	if (!json_is_false(json_object_get(r->body, "history")))
		json_object_set_new(rec, "history",
		    kit_store_history(&r->c->store, k->name, id));
	kit_fsm_allowed(
	    k->fsm, kit_str(rec, "state"), allowed, sizeof(allowed));
	json_object_set_new(rec, "allowed", json_string(allowed));
	json_object_set_new(rec, "state_label",
	    json_string(rehab_label(kit_str(rec, "state"))));
	if (k->on_get)
		k->on_get(k, r, rec);
	kit_audit(r, "VIEW", k->subject_type, id, "ok");
	kit_reply(r, rec);
}

static void
list_fn(const kit_kind *k, kit_req *r)
{
	int64_t limit  = kit_int(r->body, "limit", 50);
	int64_t offset = kit_int(r->body, "offset", 0);
	kit_err e;

	if (limit > r->c->list_max) {
		kit_err_set(&e, KIT_E_BAD_REQUEST,
		    XZ_TR(fk_zh,
		        "field \"%s\": expected an integer %lld..%lld, got "
		        "%s"),
		    "limit", 1LL, (long long) r->c->list_max,
		    XZ_TR(fk_zh, "a value out of range"));
		kit_reply_err(r, &e, k->subject_type, NULL);
		return;
	}
	kit_audit(r, "VIEW", k->subject_type, "list", "ok");
	kit_reply(r,
	    kit_store_list(&r->c->store, k->name, kit_str(r->body, "state"),
	        NULL, kit_str(r->body, "owner"), limit, offset));
}

/* An action of k's machine on record body.id, with the refusal in the
 * process's language naming the state and the allowed actions. */
static void
action_fn(const kit_kind *k, kit_req *r, const char *action)
{
	const char *id = kit_str(r->body, "id");
	json_t     *rec;
	kit_err     e;

	rec = kit_store_load(&r->c->store, k->name, id);
	if (rec == NULL) {
		kit_err_set(&e, KIT_E_NOT_FOUND, RTR("no %s with id %s"),
		    kind_label(k), id);
		kit_reply_err(r, &e, k->subject_type, id);
		return;
	}
	if (kit_fsm_find(k->fsm, kit_str(rec, "state"), action) == NULL) {
		char allowed[256];
		kit_fsm_allowed(
		    k->fsm, kit_str(rec, "state"), allowed, sizeof(allowed));
		kit_err_set(&e, KIT_E_INVALID_STATE,
		    RTR("%s %s is %s: %s is not allowed (allowed: %s)"),
		    kind_label(k), id, kit_str(rec, "state"),
		    rehab_label(kit_str(rec, "state")), action,
		    strcmp(allowed, "none") == 0 ? RTR("none") : allowed);
		/* the English text has one %s fewer: the label is Chinese */
		if (xz_lang() != XZ_LANG_ZH)
			kit_err_set(&e, KIT_E_INVALID_STATE,
			    "%s %s is %s: %s is not allowed (allowed: %s)",
			    k->name, id, kit_str(rec, "state"), action,
			    allowed);
		json_decref(rec);
		kit_reply_err(r, &e, k->subject_type, id);
		return;
	}
	json_decref(rec);
	rec = kit_apply(k, r, id, action, &e);
	if (rec == NULL) {
		kit_reply_err(r, &e, k->subject_type, id);
		return;
	}
	json_object_set_new(rec, "state_label",
	    json_string(rehab_label(kit_str(rec, "state"))));
	kit_reply(r, rec);
}

/* Role and agency, then the fields, then the handler. */
static void
dispatch(const kit_kind *k, kit_req *r)
{
	rehab       *h  = k->ud;
	const route *rt = NULL;
	kit_err      e;

	for (size_t i = 0; i < NROUTES; i++)
		if (strcmp(routes[i].topic, r->msg->topic) == 0)
			rt = &routes[i];
	if (rt == NULL)
		return;
	if (!fk_in(rt->roles, r->actor.role)) {
		char   need[200];
		size_t n = 0;
		need[0]  = '\0';
		for (const char *const *p = rt->roles; *p && n < sizeof(need);
		     p++)
			n += (size_t) snprintf(need + n, sizeof(need) - n,
			    "%s%s", n ? ", " : "", *p);
		kit_err_set(&e, KIT_E_FORBIDDEN,
		    RTR("%s needs the role %s; the actor's role is '%s'"),
		    rt->topic, need, r->actor.role ? r->actor.role : "");
		kit_reply_err(r, &e, k->subject_type, NULL);
		return;
	}
	if (r->actor.agency == NULL
	    || strcmp(r->actor.agency, h->agency) != 0) {
		kit_err_set(&e, KIT_E_FORBIDDEN,
		    RTR("%s: the actor acts for '%s'; this centre is '%s'"),
		    rt->topic, r->actor.agency ? r->actor.agency : "",
		    h->agency);
		kit_reply_err(r, &e, k->subject_type, NULL);
		return;
	}
	if (fk_check(r->body, rt->fields, &e) != 0) {
		kit_reply_err(r, &e, k->subject_type, NULL);
		return;
	}
	if (rt->action)
		action_fn(k, r, rt->action);
	else
		rt->fn(k, r);
}

int
rehab_serve_all(rehab *h)
{
	int rc;

	for (size_t i = 0; i < NROUTES; i++)
		if ((rc = kit_serve(&h->c, routes[i].topic,
		         &h->kinds[routes[i].kind], dispatch, 1))
		    != XZ_OK)
			return rc;
	return XZ_OK;
}
