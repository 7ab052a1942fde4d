/*
 * rollcall.c - roll calls: scheduled per location, counted, reconciled or
 * flagged (清点). Counts per location: expected, counted, out (court,
 * hospital, work party) and elsewhere (in another part of the prison); a
 * location balances when counted + out + elsewhere == expected; a count
 * without "expected" takes it from the register (prisoners SERVING at
 * that location and below). Every location must be registered. A discrepancy
 * raises a ROLLCALL_DISCREPANCY alarm in the same transaction (with its SLA
 * clock).
 */
#include <string.h>

#include "prison.h"

/* Check counts [{location, expected, counted, out, elsewhere}] (types
 * are the schema's): every location registered; writes the sum of
 * expected - accounted into *missing. -1 with e set. */
static int
check_counts(prison *p, json_t *counts, int64_t *missing, kit_err *e)
{
	size_t  i;
	json_t *c;

	*missing = 0;
	if (!json_is_array(counts) || json_array_size(counts) == 0) {
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    PT("roll call: \"counts\" must be a non-empty array of "
		       "{\"location\",\"expected\",\"counted\",\"out\","
		       "\"elsewhere\"}"));
		return -1;
	}
	json_array_foreach(counts, i, c)
	{
		if (!prison_location_known(p, kit_str(c, "location"), NULL)) {
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    PT("roll call: \"counts[%zu].location\": %s is "
			       "not a registered location"),
			    i, kit_str(c, "location"));
			return -1;
		}
		*missing += kit_int(c, "expected", 0)
		    - kit_int(c, "counted", 0) - kit_int(c, "out", 0)
		    - kit_int(c, "elsewhere", 0);
	}
	return 0;
}

/* Counts without "expected" take it from the register: the prisoners
 * SERVING at that location and below. */
static void
fill_expected(prison *p, json_t *counts)
{
	size_t  i;
	json_t *c;

	json_array_foreach(counts, i, c)
	{
		const char *loc = kit_str(c, "location");
		json_t     *page;
		if (json_object_get(c, "expected") || loc == NULL)
			continue;
		page = kit_store_list(
		    &p->c.store, "prisoner", "SERVING", loc, NULL, 1, 0);
		json_object_set_new(
		    c, "expected", json_integer(kit_int(page, "total", 0)));
		json_decref(page);
	}
}

static int
on_action(const kit_kind *k, kit_req *r, const kit_transition *t, json_t *rec,
    json_t *ev, kit_err *e)
{
	prison *p      = k->ud;
	json_t *counts = json_object_get(r->body, "counts");
	int64_t missing;

	if (strcmp(t->from, "IN_PROGRESS") != 0
	    && !(strcmp(t->from, "DISCREPANCY") == 0 && counts))
		return 0;
	fill_expected(p, counts);
	if (check_counts(p, counts, &missing, e) != 0)
		return -1;
	if (strcmp(t->action, "reconcile") == 0 && missing != 0) {
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    PT("roll call %s does not balance (%lld unaccounted "
		       "for): flag it instead of reconciling"),
		    kit_str(rec, "id"), (long long) missing);
		return -1;
	}
	if (strcmp(t->action, "flag") == 0 && missing == 0) {
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    PT("roll call %s balances: reconcile it instead of "
		       "flagging"),
		    kit_str(rec, "id"));
		return -1;
	}
	json_object_set(rec, "counts", counts);
	json_object_set_new(rec, "missing", json_integer(missing));
	json_object_set_new(ev, "missing", json_integer(missing));
	if (strcmp(t->action, "flag") == 0) {
		json_t *fields = json_pack("{s:s,s:I,s:s,s:s,s:s,s:I}", "kind",
		    "ROLLCALL_DISCREPANCY", "level",
		    (json_int_t) p->rollcall_alarm_level, "location",
		    kit_str(rec, "location"), "source", "system",
		    "rollcall_id", kit_str(rec, "id"), "missing",
		    (json_int_t) missing);
		json_t *alarm  = prison_alarm_raise_tx(p, r, fields, e);
		if (alarm == NULL)
			return -1;
		json_object_set_new(
		    rec, "alarm_id", json_string(kit_str(alarm, "id")));
		json_object_set_new(
		    ev, "alarm_id", json_string(kit_str(alarm, "id")));
		json_decref(alarm);
	}
	return 0;
}

static void
after_action(
    const kit_kind *k, kit_req *r, const kit_transition *t, json_t *rec)
{
	prison *p = k->ud;
	json_t *alarm;

	(void) r;
	if (strcmp(t->action, "flag") != 0)
		return;
	/* arm the SLA clock of the alarm the discrepancy raised */
	alarm = kit_store_load(&p->c.store, "alarm", kit_str(rec, "alarm_id"));
	if (alarm)
		prison_alarm_arm(
		    p, kit_str(alarm, "id"), kit_int(alarm, "due_ms", 0));
	json_decref(alarm);
}

/* prison.rollcall.schedule {"location","at_ms"?} */
void
prison_rollcall_schedule_fn(const kit_kind *k, kit_req *r)
{
	prison     *p   = k->ud;
	const char *loc = kit_str(r->body, "location");
	kit_err     e;
	json_t     *rec;

	if (!prison_location_known(p, loc, NULL)) {
		prison_refuse(r, "rollcall", KIT_E_BAD_REQUEST,
		    PT("prison.rollcall.schedule: \"location\": %s is not a "
		       "registered location"),
		    loc);
		return;
	}
	if (kit_tx_begin(&p->c, &e) != 0) {
		kit_reply_err(r, &e, "rollcall", NULL);
		return;
	}
	rec = kit_create_tx(k, r,
	    json_pack("{s:s,s:I}", "location", loc, "at_ms",
	        (json_int_t) kit_int(r->body, "at_ms", r->now_ms)),
	    json_pack("{s:s}", "location", loc), &e);
	if (rec == NULL) {
		kit_tx_abort(&p->c);
		kit_reply_err(r, &e, "rollcall", NULL);
		return;
	}
	if (kit_tx_commit(&p->c, &e) != 0) {
		json_decref(rec);
		kit_reply_err(r, &e, "rollcall", NULL);
		return;
	}
	kit_reply(r, rec);
}

/* prison.rollcall.submit {"id","counts":[...]}: reconcile when the counts
 * balance, flag a discrepancy (and raise its alarm) when they don't. */
void
prison_rollcall_submit_fn(const kit_kind *k, kit_req *r)
{
	const char *id = kit_str(r->body, "id");
	int64_t     missing;
	kit_err     e;
	json_t     *rec = kit_store_load(&r->c->store, "rollcall", id);

	if (rec == NULL) {
		prison_refuse(r, "rollcall", KIT_E_NOT_FOUND,
		    PT("no %s with id %s"), prison_label("rollcall"), id);
		return;
	}
	if (strcmp(kit_str(rec, "state"), "IN_PROGRESS") != 0) {
		char allowed[128];
		kit_fsm_allowed(
		    k->fsm, kit_str(rec, "state"), allowed, sizeof(allowed));
		if (xz_lang() == XZ_LANG_ZH)
			prison_refuse(r, "rollcall", KIT_E_INVALID_STATE,
			    "点名 %s 处于“%s”（%s）状态：不允许执行 submit"
			    "（可执行的操作：%s）",
			    id, prison_label(kit_str(rec, "state")),
			    kit_str(rec, "state"),
			    strcmp(allowed, "none") == 0 ? "无" : allowed);
		else
			prison_refuse(r, "rollcall", KIT_E_INVALID_STATE,
			    "rollcall %s is %s: submit is not allowed "
			    "(allowed: %s)",
			    id, kit_str(rec, "state"), allowed);
		json_decref(rec);
		return;
	}
	json_decref(rec);
	fill_expected(k->ud, json_object_get(r->body, "counts"));
	if (check_counts(
	        k->ud, json_object_get(r->body, "counts"), &missing, &e)
	    != 0) {
		kit_reply_err(r, &e, "rollcall", id);
		return;
	}
	rec = kit_apply(k, r, id, missing ? "flag" : "reconcile", &e);
	if (rec == NULL) {
		kit_reply_err(r, &e, "rollcall", id);
		return;
	}
	kit_reply(r, rec);
}

void
prison_rollcall_hooks(prison *p)
{
	p->kinds[PK_ROLLCALL].on_action    = on_action;
	p->kinds[PK_ROLLCALL].after_action = after_action;
}
