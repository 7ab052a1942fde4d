/*
 * rollcall.c - roll calls: scheduled per location, counted, reconciled or
 * flagged. Counts per location: expected, counted, out (court, hospital,
 * work party) and in reception; a location balances when counted + out +
 * reception == expected; a count without "expected" takes it from the
 * prisoners IN at that location and below. A discrepancy raises a
 * ROLLCALL_DISCREPANCY alarm in the same transaction (with its SLA clock).
 */
#include <string.h>

#include "prison.h"

/* Check counts [{location, expected, counted, out, reception}]: writes
 * the sum of expected - accounted into *missing. -1 with e set if the
 * counts are malformed. */
static int
check_counts(json_t *counts, int64_t *missing, kit_err *e)
{
	size_t  i;
	json_t *c;

	*missing = 0;
	if (!json_is_array(counts) || json_array_size(counts) == 0) {
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    "roll call: \"counts\" must be a non-empty array of "
		    "{\"location\",\"expected\",\"counted\",\"out\","
		    "\"reception\"}");
		return -1;
	}
	json_array_foreach(counts, i, c)
	{
		int64_t exp = kit_int(c, "expected", -1);
		int64_t cnt = kit_int(c, "counted", -1);
		if (kit_str(c, "location") == NULL || exp < 0 || cnt < 0) {
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    "roll call: counts[%zu] needs \"location\", "
			    "\"expected\" >= 0 and \"counted\" >= 0",
			    i);
			return -1;
		}
		*missing += exp - cnt - kit_int(c, "out", 0)
		    - kit_int(c, "reception", 0);
	}
	return 0;
}

/* Counts without "expected" take it from the register: the prisoners IN
 * at that location and below. */
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
		    &p->c.store, "prisoner", "IN", loc, NULL, 1, 0);
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
	if (check_counts(counts, &missing, e) != 0)
		return -1;
	if (strcmp(t->action, "reconcile") == 0 && missing != 0) {
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    "roll call %s does not balance (%lld unaccounted for): "
		    "flag it instead of reconciling",
		    kit_str(rec, "id"), (long long) missing);
		return -1;
	}
	if (strcmp(t->action, "flag") == 0 && missing == 0) {
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    "roll call %s balances: reconcile it instead of flagging",
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
static void
schedule_fn(const kit_kind *k, kit_req *r)
{
	prison     *p   = k->ud;
	const char *loc = kit_str(r->body, "location");
	kit_err     e;
	json_t     *rec;

	if (loc == NULL) {
		kit_err_set(&e, KIT_E_BAD_REQUEST,
		    "prison.rollcall.schedule: \"location\" is missing");
		kit_reply_err(r, &e, "rollcall", NULL);
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
static void
submit_fn(const kit_kind *k, kit_req *r)
{
	const char *id = kit_str(r->body, "id");
	int64_t     missing;
	kit_err     e;
	json_t     *rec;

	if (id == NULL) {
		kit_err_set(&e, KIT_E_BAD_REQUEST,
		    "prison.rollcall.submit: \"id\" is missing");
		kit_reply_err(r, &e, "rollcall", NULL);
		return;
	}
	fill_expected(k->ud, json_object_get(r->body, "counts"));
	if (check_counts(json_object_get(r->body, "counts"), &missing, &e)
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

int
prison_rollcall_serve(prison *p)
{
	kit_kind *k = &p->kinds[PK_ROLLCALL];
	int       rc;

	k->on_action    = on_action;
	k->after_action = after_action;
	if ((rc = kit_serve_kind(&p->c, k)) != XZ_OK)
		return rc;
	if ((rc = kit_serve(
	         &p->c, "prison.rollcall.schedule", k, schedule_fn, 1))
	    != XZ_OK)
		return rc;
	return kit_serve(&p->c, "prison.rollcall.submit", k, submit_fn, 1);
}
