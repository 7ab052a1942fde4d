/*
 * alarm.c - command-center alarms: raise, the operator actions of the
 * alarm machine (prison_fsm.c), per-level SLA timers on the kernel clock
 * and automatic escalation, statistics.
 *
 * SLA: a RAISED (or REOPENED) alarm must be acknowledged within
 * ack_sla_s[level] of being raised (or escalated); an ACKNOWLEDGED alarm
 * must be dispatched (or resolved) within dispatch_sla_s[level] of its
 * acknowledgement. The due time is stored with the alarm (due_ms), so a
 * restarted node re-arms every timer from the store; an overdue alarm
 * escalates at once. A missed SLA publishes prison.alarm.sla-breached and
 * escalates the alarm one level (prison.alarm.escalated, with a new due
 * time for the new level); at level 3 the breach is published and the
 * clock stops (the alarm is at the top already).
 */
#include <stdlib.h>
#include <string.h>

#include "prison.h"

struct sla_slot {
	sla_slot *next;
	prison   *p;
	uint64_t  timer;
	char      id[48];
};

static const char *const alarm_kinds[] = { "PERIMETER", "FIGHT", "SELF_HARM",
	"FIRE", "MEDICAL", "DRONE", "ROLLCALL_DISCREPANCY", "ESCAPE",
	"CONTRABAND", "ASSAULT_ON_STAFF", "EQUIPMENT", NULL };

static const char *const alarm_sources[]
    = { "sensor", "staff", "video", "system", NULL };

static int
in_list(const char *const *list, const char *s)
{
	for (; s && *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

/* The SLA stage of a state: what must happen next, or NULL. */
static const char *
sla_stage(const char *state)
{
	if (strcmp(state, "RAISED") == 0 || strcmp(state, "REOPENED") == 0)
		return "acknowledge";
	if (strcmp(state, "ACKNOWLEDGED") == 0)
		return "dispatch";
	return NULL;
}

/* Set due_ms and sla_stage of rec from its state and level, from now. */
static void
set_due(prison *p, json_t *rec, int64_t now)
{
	const char *stage = sla_stage(kit_str(rec, "state"));
	int64_t     level = kit_int(rec, "level", 1);
	int64_t     s;

	if (level < 1 || level > 3)
		level = 1;
	if (stage == NULL) {
		json_object_set_new(rec, "due_ms", json_integer(0));
		json_object_del(rec, "sla_stage");
		return;
	}
	s = strcmp(stage, "acknowledge") == 0 ? p->ack_sla_s[level]
	                                      : p->dispatch_sla_s[level];
	json_object_set_new(rec, "due_ms", json_integer(now + s * 1000));
	json_object_set_new(rec, "sla_stage", json_string(stage));
}

json_t *
prison_alarm_raise_tx(prison *p, kit_req *r, json_t *fields, kit_err *e)
{
	const char *kind  = kit_str(fields, "kind");
	int64_t     level = kit_int(fields, "level", 1);
	const char *loc   = kit_str(fields, "location");
	const char *src   = kit_str(fields, "source");
	json_t     *rec;

	if (!in_list(alarm_kinds, kind)) {
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    "prison.alarm.raise: \"kind\" must be one of PERIMETER, "
		    "FIGHT, SELF_HARM, FIRE, MEDICAL, DRONE, "
		    "ROLLCALL_DISCREPANCY, ESCAPE, CONTRABAND, "
		    "ASSAULT_ON_STAFF, EQUIPMENT");
		goto fail;
	}
	if (level < 1 || level > 3) {
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    "prison.alarm.raise: \"level\" must be 1, 2 or 3");
		goto fail;
	}
	if (loc == NULL || loc[0] == '\0') {
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    "prison.alarm.raise: \"location\" (a location id such as "
		    "\"P1.A.1\") is missing");
		goto fail;
	}
	if (src == NULL)
		json_object_set_new(fields, "source", json_string("staff"));
	else if (!in_list(alarm_sources, src)) {
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    "prison.alarm.raise: \"source\" must be sensor, staff, "
		    "video or system");
		goto fail;
	}
	json_object_del(fields, "id"); /* alarm ids are ours */
	json_object_del(fields, "state");
	json_object_del(fields, "actor");
	json_object_set_new(fields, "level", json_integer(level));
	json_object_set_new(fields, "state", json_string("RAISED"));
	json_object_set_new(fields, "raised_ms", json_integer(r->now_ms));
	set_due(p, fields, r->now_ms);
	rec = kit_create_tx(&p->kinds[PK_ALARM], r, fields,
	    json_pack("{s:s,s:I,s:s,s:s,s:I}", "kind", kind, "level",
	        (json_int_t) level, "location", loc, "source",
	        kit_str(fields, "source"), "due_ms",
	        (json_int_t) kit_int(fields, "due_ms", 0)),
	    e);
	return rec;
fail:
	json_decref(fields);
	return NULL;
}

static void
raise_fn(const kit_kind *k, kit_req *r)
{
	prison *p = k->ud;
	kit_err e;
	json_t *fields = json_deep_copy(r->body);
	json_t *rec;

	if (kit_tx_begin(&p->c, &e) != 0) {
		json_decref(fields);
		kit_reply_err(r, &e, "alarm", NULL);
		return;
	}
	json_object_del(fields, "reason");
	json_object_del(fields, "purpose");
	rec = prison_alarm_raise_tx(p, r, fields, &e);
	if (rec == NULL) {
		kit_tx_abort(&p->c);
		kit_reply_err(r, &e, "alarm", NULL);
		return;
	}
	if (kit_tx_commit(&p->c, &e) != 0) {
		json_decref(rec);
		kit_reply_err(r, &e, "alarm", NULL);
		return;
	}
	prison_alarm_arm(p, kit_str(rec, "id"), kit_int(rec, "due_ms", 0));
	kit_reply(r, rec);
}

/* In the transaction of an alarm action: levels, SLA, action data. */
static int
on_action(const kit_kind *k, kit_req *r, const kit_transition *t, json_t *rec,
    json_t *ev, kit_err *e)
{
	prison     *p     = k->ud;
	int64_t     level = kit_int(rec, "level", 1);
	const char *a     = t->action;

	if (strcmp(a, "escalate") == 0) {
		int64_t to = kit_int(r->body, "level", level + 1);
		if (to <= level || to > 3) {
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    "alarm %s is at level %lld: escalate needs a "
			    "higher "
			    "level, at most 3",
			    kit_str(rec, "id"), (long long) level);
			return -1;
		}
		json_object_set_new(rec, "level", json_integer(to));
		json_object_set_new(ev, "from_level", json_integer(level));
		json_object_set_new(ev, "to_level", json_integer(to));
		json_object_set_new(rec, "escalations",
		    json_integer(kit_int(rec, "escalations", 0) + 1));
		set_due(p, rec, r->now_ms);
	} else if (strcmp(a, "dispatch") == 0) {
		const char *unit = kit_str(r->body, "unit");
		if (unit == NULL) {
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    "prison.alarm.dispatch: \"unit\" (the response "
			    "team sent) is missing");
			return -1;
		}
		json_object_set_new(rec, "unit", json_string(unit));
		json_object_set_new(ev, "unit", json_string(unit));
	} else if (strcmp(a, "attach-evidence") == 0) {
		json_t *evd = json_object_get(r->body, "evidence");
		json_t *arr = json_object_get(rec, "evidence");
		if (!json_is_object(evd)) {
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    "prison.alarm.attach-evidence: \"evidence\" must "
			    "be an object such as {\"kind\":\"VIDEO\","
			    "\"ref\":\"cam-12/2026-11-29T05:00\","
			    "\"sha256\":\"...\"}");
			return -1;
		}
		if (!json_is_array(arr)) {
			arr = json_array();
			json_object_set_new(rec, "evidence", arr);
		}
		json_array_append(arr, evd);
		json_object_set_new(
		    ev, "evidence_count", json_integer(json_array_size(arr)));
	} else if (strcmp(a, "resolve") == 0 || strcmp(a, "dismiss") == 0) {
		const char *outcome = kit_str(r->body, "outcome");
		if (outcome)
			json_object_set_new(
			    rec, "outcome", json_string(outcome));
		json_object_set_new(
		    rec, "resolved_ms", json_integer(r->now_ms));
	}
	if (strcmp(t->from, t->to) != 0)
		set_due(p, rec, r->now_ms);
	json_object_set_new(
	    ev, "level", json_integer(kit_int(rec, "level", 1)));
	json_object_set_new(
	    ev, "location", json_string(kit_str(rec, "location") ?: ""));
	/* the incident report drafted from a resolved alarm */
	if (strcmp(a, "resolve") == 0 && p->incident_auto_draft
	    && json_object_get(rec, "incident_id") == NULL) {
		json_t *inc = prison_incident_from_alarm_tx(p, r, rec, e);
		if (inc == NULL)
			return -1;
		json_object_set_new(
		    rec, "incident_id", json_string(kit_str(inc, "id")));
		json_object_set_new(
		    ev, "incident_id", json_string(kit_str(inc, "id")));
		json_decref(inc);
	}
	return 0;
}

static void
after_action(
    const kit_kind *k, kit_req *r, const kit_transition *t, json_t *rec)
{
	(void) r;
	(void) t;
	prison_alarm_arm(k->ud, kit_str(rec, "id"), kit_int(rec, "due_ms", 0));
}

/* An SLA missed at level 3: there is no higher level; the breach is
 * recorded in the history and the clock stops. */
static void
stop_clock(prison *p, kit_req *r, json_t *rec, const char *why)
{
	kit_err    e;
	kit_change ch = { .action = "sla-breach",
		.from             = kit_str(rec, "state"),
		.to               = kit_str(rec, "state"),
		.who              = r->actor.user,
		.role             = r->actor.role,
		.why              = why,
		.at_ms            = r->now_ms };

	json_object_set_new(rec, "due_ms", json_integer(0));
	json_object_del(rec, "sla_stage");
	json_object_set_new(rec, "updated_ms", json_integer(r->now_ms));
	if (kit_tx_begin(&p->c, &e) != 0)
		goto fail;
	if (kit_store_save(&p->c.store, "alarm", rec, 0) != 0
	    || kit_store_history_add(
	           &p->c.store, "alarm", kit_str(rec, "id"), &ch)
	        != 0) {
		kit_err_set(&e, KIT_E_STORE_ERROR, "%s", p->c.store.err);
		kit_tx_abort(&p->c);
		goto fail;
	}
	if (kit_tx_commit(&p->c, &e) == 0)
		return;
fail:
	p->c.host->log(p->c.self, XZ_LOG_ERROR, "alarm %s: %s",
	    kit_str(rec, "id"), e.msg);
}

static void
on_timer(void *ud, uint64_t timer_id)
{
	sla_slot  *s = ud;
	prison    *p = s->p;
	sla_slot **pp;
	kit_req    r;
	kit_err    e;
	json_t    *rec;
	char       id[48];
	char       why[160];

	(void) timer_id;
	for (pp = &p->slots; *pp && *pp != s; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = s->next;
	memcpy(id, s->id, sizeof(id));
	free(s);

	kit_req_internal(&p->c, &r, "system:sla", NULL);
	rec = kit_store_load(&p->c.store, "alarm", id);
	if (rec == NULL) {
		kit_req_done(&r);
		return;
	}
	int64_t     due   = kit_int(rec, "due_ms", 0);
	int64_t     level = kit_int(rec, "level", 1);
	const char *stage = kit_str(rec, "sla_stage");
	if (due == 0 || stage == NULL) {
		json_decref(rec);
		kit_req_done(&r);
		return;
	}
	if (due > r.now_ms) { /* fired early (re-armed): wait on */
		prison_alarm_arm(p, id, due);
		json_decref(rec);
		kit_req_done(&r);
		return;
	}
	p->c.host->counter_add(p->c.self, "sla_breaches", 1);
	kit_emit(&p->c, "prison.alarm.sla-breached",
	    json_pack("{s:s,s:s,s:I,s:I,s:s,s:I}", "id", id, "stage", stage,
	        "level", (json_int_t) level, "due_ms", (json_int_t) due,
	        "location", kit_str(rec, "location") ?: "", "at_ms",
	        (json_int_t) r.now_ms));
	snprintf(why, sizeof(why), "%s SLA of level %lld missed", stage,
	    (long long) level);
	json_object_set_new(r.body, "reason", json_string(why));
	r.why = kit_str(r.body, "reason");
	if (level >= 3) {
		stop_clock(p, &r, rec, why);
		json_decref(rec);
		kit_req_done(&r);
		return;
	}
	json_decref(rec);
	rec = kit_apply(&p->kinds[PK_ALARM], &r, id, "escalate", &e);
	if (rec == NULL)
		p->c.host->log(p->c.self, XZ_LOG_ERROR,
		    "alarm %s: SLA escalation failed: %s", id, e.msg);
	else
		p->c.host->log(p->c.self, XZ_LOG_INFO,
		    "alarm %s: %s; now level %lld", id, why,
		    (long long) kit_int(rec, "level", 1));
	json_decref(rec);
	kit_req_done(&r);
}

void
prison_alarm_arm(prison *p, const char *id, int64_t due_ms)
{
	sla_slot **pp;
	sla_slot  *s;
	int64_t    now = (int64_t) p->c.host->now_ms(p->c.self);
	int        rc;

	for (pp = &p->slots; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->id, id) == 0) {
			s   = *pp;
			*pp = s->next;
			p->c.host->timer_cancel(p->c.self, s->timer);
			free(s);
			break;
		}
	}
	if (due_ms <= 0)
		return;
	/* freed by on_timer when it fires, or here / in disarm_all when
	 * cancelled */
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return;
	s->p = p;
	snprintf(s->id, sizeof(s->id), "%s", id);
	rc = p->c.host->timer_start(p->c.self,
	    due_ms > now ? (uint64_t) (due_ms - now) : 0, 0, on_timer, s,
	    &s->timer);
	if (rc != XZ_OK) {
		p->c.host->log(p->c.self, XZ_LOG_ERROR,
		    "alarm %s: cannot arm the SLA timer: %s", id,
		    p->c.host->strerror(rc));
		free(s);
		return;
	}
	s->next  = p->slots;
	p->slots = s;
}

void
prison_alarm_disarm_all(prison *p)
{
	while (p->slots) {
		sla_slot *s = p->slots;
		p->slots    = s->next;
		p->c.host->timer_cancel(p->c.self, s->timer);
		free(s);
	}
}

int
prison_alarm_reload(prison *p)
{
	json_t *due = kit_store_due(&p->c.store, "alarm");
	size_t  i;
	json_t *rec;
	int64_t now     = (int64_t) p->c.host->now_ms(p->c.self);
	size_t  overdue = 0;

	json_array_foreach(due, i, rec)
	{
		int64_t d = kit_int(rec, "due_ms", 0);
		if (d <= now)
			overdue++;
		prison_alarm_arm(p, kit_str(rec, "id"), d);
	}
	p->c.host->log(p->c.self, XZ_LOG_INFO,
	    "re-armed %zu alarm SLA timer(s) from the store (%zu overdue)",
	    json_array_size(due), overdue);
	json_decref(due);
	return 0;
}

/* prison.alarm.stats {}: open alarms by state and level, SLA settings. */
static void
stats_fn(const kit_kind *k, kit_req *r)
{
	prison *p = k->ud;
	kit_reply(r,
	    json_pack("{s:o,s:[I,I,I],s:[I,I,I],s:I}", "by_state",
	        kit_store_stats(&p->c.store, "alarm"), "ack_sla_s",
	        (json_int_t) p->ack_sla_s[1], (json_int_t) p->ack_sla_s[2],
	        (json_int_t) p->ack_sla_s[3], "dispatch_sla_s",
	        (json_int_t) p->dispatch_sla_s[1],
	        (json_int_t) p->dispatch_sla_s[2],
	        (json_int_t) p->dispatch_sla_s[3], "now_ms",
	        (json_int_t) r->now_ms));
}

int
prison_alarm_serve(prison *p)
{
	kit_kind *k = &p->kinds[PK_ALARM];
	int       rc;

	k->on_action    = on_action;
	k->after_action = after_action;
	if ((rc = kit_serve_kind(&p->c, k)) != XZ_OK)
		return rc;
	if ((rc = kit_serve(&p->c, "prison.alarm.raise", k, raise_fn, 1))
	    != XZ_OK)
		return rc;
	return kit_serve(&p->c, "prison.alarm.stats", k, stats_fn, 0);
}
