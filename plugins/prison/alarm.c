/*
 * alarm.c - command-center alarms: raise (at registered locations only,
 * with the location's cameras as video-linkage references), the operator
 * actions of the alarm machine (prison_fsm.c), per-level SLA clocks on
 * the kernel clock and the escalation chain, statistics.
 *
 * SLA: a RAISED (or REOPENED) alarm must be acknowledged within
 * ack_sla_s[level] of being raised; an ACKNOWLEDGED alarm must be
 * dispatched (or resolved) within dispatch_sla_s[level] of its
 * acknowledgement. The due time is stored with the alarm (due_ms), so a
 * restarted node re-arms every timer from the store; an overdue alarm
 * escalates at once.
 *
 * A missed clock publishes prison.alarm.sla-breached and moves the alarm
 * one step up the chain (prison.alarm.escalated, with "notify"): step 1
 * the duty leader (值班领导), step 2 the prison's leadership (监狱领导),
 * step 3 the provincial bureau (省监狱管理局), told on prison.report.upward;
 * each step raises the level by one up to 3 and has its own clock
 * (chain_s[step]). After the bureau the clock repeats every chain_s[3]
 * with a new upward report until someone acts: no alarm goes silent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prison.h"
#include "kstr.h"

struct sla_slot {
	sla_slot *next;
	prison   *p;
	uint64_t  timer;
	char      id[48];
};

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
		json_object_set_new_nocheck(rec, "due_ms", json_integer(0));
		json_object_del(rec, "sla_stage");
		return;
	}
	s = strcmp(stage, "acknowledge") == 0 ? p->ack_sla_s[level]
	                                      : p->dispatch_sla_s[level];
	json_object_set_new_nocheck(
	    rec, "due_ms", json_integer(now + s * 1000));
	json_object_set_new_nocheck(rec, "sla_stage", json_string(stage));
}

/* The cameras of a location (its record `where`, loaded already, read
 * only), or of its nearest ancestor that has any (video linkage: the
 * operator's screen shows these); a new array the caller owns. */
static json_t *
cameras_of(prison *p, const char *loc, json_t *where)
{
	char id[256];

	kstr_copy(id, sizeof(id), loc);
	for (json_t *rec = json_incref(where);;
	     rec         = kit_store_peek(&p->c.store, "location", id)) {
		json_t *cams = rec ? json_object_get(rec, "cameras") : NULL;
		char   *dot;
		if (json_is_array(cams) && json_array_size(cams) > 0) {
			/* the alarm's own: rec may be the store's */
			cams = json_deep_copy(cams);
			json_decref(rec);
			return cams ? cams : json_array();
		}
		json_decref(rec);
		if ((dot = strrchr(id, '.')) == NULL)
			return json_array();
		*dot = '\0';
	}
}

json_t *
prison_alarm_raise_tx(prison *p, kit_req *r, json_t *fields, kit_err *e)
{
	const char *kind  = kit_str(fields, "kind");
	int64_t     level = kit_int(fields, "level", 1);
	const char *loc   = kit_str(fields, "location");
	json_t     *where = NULL;
	json_t     *rec, *extra;

	if (!prison_location_known(p, loc, &where)) {
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    PT("prison.alarm.raise: \"location\": %s is not a "
		       "registered location (see prison.location.list)"),
		    loc ? loc : "-");
		goto fail;
	}
	if (strcmp(kit_str(where, "state"), "ACTIVE") != 0) {
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    PT("prison.alarm.raise: \"location\": %s is %s"), loc,
		    prison_label(kit_str(where, "state")));
		goto fail;
	}
	if (kit_str(fields, "source") == NULL)
		json_object_set_new_nocheck(
		    fields, "source", json_string("staff"));
	json_object_set_new_nocheck(fields, "level", json_integer(level));
	json_object_set_new_nocheck(fields, "state", json_string("RAISED"));
	json_object_set_new_nocheck(
	    fields, "raised_ms", json_integer(r->now_ms));
	json_object_set_new_nocheck(fields, "chain_step", json_integer(0));
	json_object_set_new_nocheck(
	    fields, "cameras", cameras_of(p, loc, where));
	json_object_set_new_nocheck(fields, "location_name",
	    json_string(
	        kit_str(where, "name") ? kit_str(where, "name") : loc));
	json_decref(where);
	set_due(p, fields, r->now_ms);
	extra = kit_obj_strs(NULL, "kind", kind, "location", loc, "source",
	    kit_str(fields, "source"), NULL);
	json_object_set_new_nocheck(extra, "level", json_integer(level));
	json_object_set_new_nocheck(
	    extra, "due_ms", json_integer(kit_int(fields, "due_ms", 0)));
	json_object_set_nocheck(
	    extra, "cameras", json_object_get(fields, "cameras"));
	rec = kit_create_tx(&p->kinds[PK_ALARM], r, fields, extra, e);
	return rec;
fail:
	json_decref(where);
	json_decref(fields);
	return NULL;
}

/* prison.alarm.raise (fields checked by the schema, api.c) */
void
prison_alarm_raise_fn(const kit_kind *k, kit_req *r)
{
	prison     *p = k->ud;
	kit_err     e;
	json_t     *fields = json_object(); /* the record to be */
	json_t     *rec, *v;
	const char *key;

	/* the request's fields but who acts and why (its values shared:
	 * the record gets new values, it never changes these) */
	json_object_foreach(r->body, key, v)
	{
		if (strcmp(key, "reason") != 0 && strcmp(key, "purpose") != 0
		    && strcmp(key, "actor") != 0)
			json_object_set(fields, key, v);
	}
	if (kit_tx_begin(&p->c, &e) != 0) {
		json_decref(fields);
		kit_reply_err(r, &e, "alarm", NULL);
		return;
	}
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
	kit_reply_saved(r, rec);
}

static const char *const chain_who[]
    = { "command_duty", "duty_leader", "prison_leader", "prison_bureau" };

/* One step up the escalation chain, inside the escalate transaction of
 * an internal (clock) request: the level rises by one up to 3, the next
 * in the chain is named on the event, and the bureau's step publishes the
 * upward report. The step's own clock replaces the stage's. */
static void
chain_step(prison *p, kit_req *r, json_t *rec, json_t *ev)
{
	int64_t step  = kit_int(rec, "chain_step", 0) + 1;
	int64_t level = kit_int(rec, "level", 1);

	if (step > 3)
		step = 3;
	json_object_set_new_nocheck(rec, "chain_step", json_integer(step));
	json_object_set_new_nocheck(ev, "chain_step", json_integer(step));
	json_object_set_new_nocheck(
	    ev, "notify", json_string(chain_who[step]));
	if (level < 3)
		json_object_set_new_nocheck(
		    rec, "level", json_integer(level + 1));
	json_object_set_new_nocheck(
	    rec, "due_ms", json_integer(r->now_ms + p->chain_s[step] * 1000));
	if (step == 3) {
		json_object_set_new_nocheck(
		    rec, "bureau_notified_ms", json_integer(r->now_ms));
		json_object_set_new_nocheck(rec, "bureau_reports",
		    json_integer(kit_int(rec, "bureau_reports", 0) + 1));
		kit_emit(&p->c, "prison.report.upward",
		    json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:I,s:I,"
		              "s:I}",
		        "type", "ALARM", "to", p->bureau_agency, "agency",
		        p->agency, "alarm_id", kit_str(rec, "id"), "kind",
		        kit_str(rec, "kind"), "level",
		        (json_int_t) kit_int(rec, "level", 3), "location",
		        kit_str(rec, "location"), "state",
		        kit_str(rec, "state"), "stage",
		        kit_str(rec, "sla_stage") ?: "", "raised_ms",
		        (json_int_t) kit_int(rec, "raised_ms", 0), "report",
		        (json_int_t) kit_int(rec, "bureau_reports", 1),
		        "at_ms", (json_int_t) r->now_ms));
	}
}

/* In the transaction of an alarm action: levels, SLA, action data. */
static int
on_action(const kit_kind *k, kit_req *r, const kit_transition *t, json_t *rec,
    json_t *ev, kit_err *e)
{
	prison     *p     = k->ud;
	int64_t     level = kit_int(rec, "level", 1);
	const char *a     = t->action;

	if (strcmp(a, "escalate") == 0 && r->msg == NULL) {
		chain_step(p, r, rec, ev);
		json_object_set_new_nocheck(
		    ev, "from_level", json_integer(level));
		json_object_set_new_nocheck(ev, "to_level",
		    json_integer(kit_int(rec, "level", level)));
		json_object_set_new_nocheck(rec, "escalations",
		    json_integer(kit_int(rec, "escalations", 0) + 1));
	} else if (strcmp(a, "escalate") == 0) {
		int64_t to = kit_int(r->body, "level", level + 1);
		if (to <= level || to > 3) {
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    PT("alarm %s is at level %lld: escalate needs a "
			       "higher level, at most 3"),
			    kit_str(rec, "id"), (long long) level);
			return -1;
		}
		json_object_set_new_nocheck(rec, "level", json_integer(to));
		json_object_set_new_nocheck(
		    ev, "from_level", json_integer(level));
		json_object_set_new_nocheck(ev, "to_level", json_integer(to));
		json_object_set_new_nocheck(rec, "escalations",
		    json_integer(kit_int(rec, "escalations", 0) + 1));
		set_due(p, rec, r->now_ms);
	} else if (strcmp(a, "dispatch") == 0) {
		const char *unit = kit_str(r->body, "unit");
		json_object_set_new_nocheck(rec, "unit", json_string(unit));
		json_object_set_new_nocheck(ev, "unit", json_string(unit));
	} else if (strcmp(a, "attach-evidence") == 0) {
		json_t *evd = json_object_get(r->body, "evidence");
		json_t *arr = json_object_get(rec, "evidence");
		if (!json_is_array(arr)) {
			arr = json_array();
			json_object_set_new_nocheck(rec, "evidence", arr);
		}
		json_array_append(arr, evd);
		json_object_set_new_nocheck(
		    ev, "evidence_count", json_integer(json_array_size(arr)));
	} else if (strcmp(a, "resolve") == 0 || strcmp(a, "dismiss") == 0) {
		const char *outcome = kit_str(r->body, "outcome");
		if (outcome)
			json_object_set_new_nocheck(
			    rec, "outcome", json_string(outcome));
		json_object_set_new_nocheck(
		    rec, "resolved_ms", json_integer(r->now_ms));
	}
	if (strcmp(t->from, t->to) != 0)
		set_due(p, rec, r->now_ms);
	json_object_set_new_nocheck(
	    ev, "level", json_integer(kit_int(rec, "level", 1)));
	json_object_set_new_nocheck(
	    ev, "location", json_string(kit_str(rec, "location") ?: ""));
	if (strcmp(a, "resolve") != 0 || !p->incident_auto_draft)
		return 0;
	/* the incident report: drafted from the first resolve, updated
	 * with the outcome of every later one */
	if (json_object_get(rec, "incident_id") == NULL) {
		json_t *inc = prison_incident_from_alarm_tx(p, r, rec, e);
		if (inc == NULL)
			return -1;
		json_object_set_new_nocheck(
		    rec, "incident_id", json_string(kit_str(inc, "id")));
		json_object_set_new_nocheck(
		    ev, "incident_id", json_string(kit_str(inc, "id")));
		json_decref(inc);
		return 0;
	}
	json_object_set_new_nocheck(
	    ev, "incident_id", json_string(kit_str(rec, "incident_id")));
	return prison_incident_alarm_resolved_tx(p, r, rec, e);
}

static void
after_action(
    const kit_kind *k, kit_req *r, const kit_transition *t, json_t *rec)
{
	(void) r;
	(void) t;
	prison_alarm_arm(k->ud, kit_str(rec, "id"), kit_int(rec, "due_ms", 0));
}

/* FNV-1a of an alarm id. */
static uint64_t
slot_hash(const char *id)
{
	uint64_t h = 14695981039346656037ull;

	for (const char *c = id; *c; c++)
		h = (h ^ (uint8_t) *c) * 1099511628211ull;
	return h;
}

/* The chain of alarm id's slot. */
static sla_slot **
slot_chain(prison *p, const char *id)
{
	return &p->slots[slot_hash(id) & (p->slot_cap - 1)];
}

/* Take alarm id's slot out of the table (NULL: none armed). */
static sla_slot *
slot_take(prison *p, const char *id)
{
	sla_slot **pp, *s;

	if (p->slots == NULL)
		return NULL;
	for (pp = slot_chain(p, id); (s = *pp) != NULL; pp = &s->next)
		if (strcmp(s->id, id) == 0) {
			*pp = s->next;
			p->nslots--;
			return s;
		}
	return NULL;
}

/* Put s in the table, which doubles past one slot a chain (a table that
 * cannot grow keeps its chains, only longer): 0, or -1 when there is no
 * table at all (out of memory). */
static int
slot_put(prison *p, sla_slot *s)
{
	if (p->slots == NULL || p->nslots >= p->slot_cap) {
		size_t     cap = p->slot_cap ? p->slot_cap * 2 : 64;
		sla_slot **t   = calloc(cap, sizeof(*t));
		if (t == NULL && p->slots == NULL)
			return -1;
		if (t != NULL) {
			for (size_t i = 0; i < p->slot_cap; i++)
				while (p->slots[i] != NULL) {
					sla_slot *m = p->slots[i];
					size_t    b
					    = slot_hash(m->id) & (cap - 1);
					p->slots[i] = m->next;
					m->next     = t[b];
					t[b]        = m;
				}
			free(p->slots);
			p->slots    = t;
			p->slot_cap = cap;
		}
	}
	sla_slot **chain = slot_chain(p, s->id);
	s->next          = *chain;
	*chain           = s;
	p->nslots++;
	return 0;
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
	char       why[200]; /* the record's reason: English, stored */
	char       why_log[300]; /* the same in the log's language */

	(void) timer_id;
	for (pp = slot_chain(p, s->id); *pp && *pp != s; pp = &(*pp)->next)
		;
	if (*pp) {
		*pp = s->next;
		p->nslots--;
	}
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
	int64_t     step  = kit_int(rec, "chain_step", 0);
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
	    json_pack("{s:s,s:s,s:I,s:I,s:I,s:s,s:I}", "id", id, "stage",
	        stage, "level", (json_int_t) level, "chain_step",
	        (json_int_t) step, "due_ms", (json_int_t) due, "location",
	        kit_str(rec, "location") ?: "", "at_ms",
	        (json_int_t) r.now_ms));
	if (step == 0) {
		snprintf(why, sizeof(why), "%s SLA of level %lld missed",
		    stage, (long long) level);
		snprintf(why_log, sizeof(why_log),
		    PT("%s SLA of level %lld missed"), stage,
		    (long long) level);
	} else {
		snprintf(why, sizeof(why),
		    "%s still pending at level %lld after %s was told", stage,
		    (long long) level, chain_who[step]);
		snprintf(why_log, sizeof(why_log),
		    PT("%s still pending at level %lld after %s was told"),
		    stage, (long long) level,
		    prison_role_label(chain_who[step]));
	}
	json_object_set_new_nocheck(r.body, "reason", json_string(why));
	r.why = kit_str(r.body, "reason");
	json_decref(rec);
	rec = kit_apply(&p->kinds[PK_ALARM], &r, id, "escalate", &e);
	if (rec == NULL)
		p->c.host->log(p->c.self, XZ_LOG_ERROR,
		    PT("alarm %s: SLA escalation failed: %s"), id, e.msg);
	else
		p->c.host->log(p->c.self, XZ_LOG_INFO,
		    PT("alarm %s: %s; now level %lld, %s told"), id, why_log,
		    (long long) kit_int(rec, "level", 1),
		    prison_role_label(
		        chain_who[kit_int(rec, "chain_step", 1) & 3]));
	json_decref(rec);
	kit_req_done(&r);
}

void
prison_alarm_arm(prison *p, const char *id, int64_t due_ms)
{
	sla_slot *s;
	int64_t   now = (int64_t) p->c.host->now_ms(p->c.self);
	int       rc;

	if ((s = slot_take(p, id)) != NULL) {
		p->c.host->timer_cancel(p->c.self, s->timer);
		free(s);
	}
	if (due_ms <= 0)
		return;
	/* freed by on_timer when it fires, or here / in disarm_all when
	 * cancelled */
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return;
	s->p = p;
	kstr_copy(s->id, sizeof(s->id), id);
	rc = p->c.host->timer_start(p->c.self,
	    due_ms > now ? (uint64_t) (due_ms - now) : 0, 0, on_timer, s,
	    &s->timer);
	if (rc != XZ_OK) {
		p->c.host->log(p->c.self, XZ_LOG_ERROR,
		    PT("alarm %s: cannot arm the SLA timer: %s"), id,
		    p->c.host->strerror(rc));
		free(s);
		return;
	}
	if (slot_put(p, s) != 0) {
		p->c.host->timer_cancel(p->c.self, s->timer);
		p->c.host->log(p->c.self, XZ_LOG_ERROR,
		    PT("alarm %s: cannot arm the SLA timer: %s"), id,
		    p->c.host->strerror(XZ_ENOMEM));
		free(s);
	}
}

void
prison_alarm_disarm_all(prison *p)
{
	for (size_t i = 0; i < p->slot_cap; i++)
		while (p->slots[i] != NULL) {
			sla_slot *s = p->slots[i];
			p->slots[i] = s->next;
			p->c.host->timer_cancel(p->c.self, s->timer);
			free(s);
		}
	free(p->slots);
	p->slots    = NULL;
	p->slot_cap = 0;
	p->nslots   = 0;
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
	    PT("re-armed %zu alarm SLA timer(s) from the store (%zu overdue)"),
	    json_array_size(due), overdue);
	json_decref(due);
	return 0;
}

/* prison.alarm.stats {}: open alarms by state and level, SLA settings,
 * the SLA clocks running (one per alarm with a due time). */
void
prison_alarm_stats_fn(const kit_kind *k, kit_req *r)
{
	prison *p = k->ud;
	kit_reply(r,
	    json_pack("{s:o,s:[I,I,I],s:[I,I,I],s:[I,I,I],s:I,s:I}",
	        "by_state", kit_store_stats(&p->c.store, "alarm"), "ack_sla_s",
	        (json_int_t) p->ack_sla_s[1], (json_int_t) p->ack_sla_s[2],
	        (json_int_t) p->ack_sla_s[3], "dispatch_sla_s",
	        (json_int_t) p->dispatch_sla_s[1],
	        (json_int_t) p->dispatch_sla_s[2],
	        (json_int_t) p->dispatch_sla_s[3], "chain_s",
	        (json_int_t) p->chain_s[1], (json_int_t) p->chain_s[2],
	        (json_int_t) p->chain_s[3], "now_ms", (json_int_t) r->now_ms,
	        "sla_clocks", (json_int_t) p->nslots));
}

void
prison_alarm_hooks(prison *p)
{
	p->kinds[PK_ALARM].on_action    = on_action;
	p->kinds[PK_ALARM].after_action = after_action;
}
