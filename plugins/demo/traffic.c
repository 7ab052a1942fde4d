/*
 * traffic.c - what the demo does on each tick: raise a sensor alarm, move
 * an alarm one step along the operator's actions, run a roll call (count
 * and, now and then, a discrepancy and its recount), or publish an AI+AR
 * assessment result. Everything goes over the bus.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "demo.h"

enum {
	J_PRISONERS,
	J_RESIDENTS,
	J_RAISE,
	J_ACTION,
	J_RC_SCHEDULE,
	J_RC_START,
	J_RC_SUBMIT,
	J_RC_RECOUNT
};

static const char *const next_action[]
    = { "acknowledge", "dispatch", "arrive", "handle", "resolve", "close" };
#define N_STAGES 6

static const char *const sensor_kinds[] = { "PERIMETER", "FIGHT", "SELF_HARM",
	"FIRE", "MEDICAL", "DRONE", "CONTRABAND" };

uint32_t
demo_rand(demo *d, uint32_t n)
{
	/* xorshift64*: enough for traffic */
	d->rng ^= d->rng >> 12;
	d->rng ^= d->rng << 25;
	d->rng ^= d->rng >> 27;
	return n ? (uint32_t) ((d->rng * 2685821657736338717ULL) >> 33) % n
	         : 0;
}

static demo_job *
job_new(demo *d, int type)
{
	for (int i = 0; i < DEMO_MAX_JOBS; i++) {
		if (!d->jobs[i].used) {
			memset(&d->jobs[i], 0, sizeof(d->jobs[i]));
			d->jobs[i].d    = d;
			d->jobs[i].used = 1;
			d->jobs[i].type = type;
			return &d->jobs[i];
		}
	}
	return NULL; /* too much in flight: skip this unit */
}

static void on_reply(void *ud, int status, const xz_msg *reply);
static int  find_alarm(demo *d, const char *id);

/* Send a request (body stolen) as the demo operator. */
static void
send(demo *d, demo_job *j, const char *topic, json_t *body)
{
	char *s;
	int   rc;

	/* the rehab centre's reads need its officer role and agency */
	int rehab = strncmp(topic, "rehab.", 6) == 0;
	json_object_set_new(body, "actor",
	    json_pack("{s:s,s:s,s:s}", "user", "demo-operator", "role",
	        rehab ? "rehab_officer" : "OFFICER", "agency",
	        rehab ? "rehab-01" : "demo"));
	json_object_set_new(body, "purpose", json_string("demo traffic"));
	s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (s == NULL) {
		j->used = 0;
		return;
	}
	rc = d->host->request(d->self, topic, s, strlen(s), 5000, on_reply, j);
	free(s);
	if (rc != XZ_OK) {
		j->used = 0; /* the callback never runs */
		if (j->type == J_PRISONERS || j->type == J_RESIDENTS)
			d->loading--;
		if (j->type == J_ACTION && find_alarm(d, j->id) >= 0)
			d->alarms[find_alarm(d, j->id)].busy = 0;
		d->host->counter_add(d->self, "requests_failed", 1);
	}
}

void
demo_load(demo *d)
{
	demo_job *j;

	if (d->nplaces == 0 && (j = job_new(d, J_PRISONERS))) {
		d->loading++;
		send(d, j, "prison.prisoner.list",
		    json_pack("{s:s,s:i}", "state", "IN", "limit", 1000));
	}
	if (d->nresidents == 0 && (j = job_new(d, J_RESIDENTS))) {
		d->loading++;
		send(d, j, "rehab.resident.list",
		    json_pack("{s:i}", "limit", 1000));
	}
}

static void
add_place(demo *d, const char *cell)
{
	const char *dot = strrchr(cell, '.');
	char        landing[64];
	int         n = dot ? (int) (dot - cell) : (int) strlen(cell);

	snprintf(landing, sizeof(landing), "%.*s", n, cell);
	for (int i = 0; i < d->nplaces; i++) {
		if (strcmp(d->places[i].path, landing) == 0) {
			d->places[i].prisoners++;
			return;
		}
	}
	if (d->nplaces < DEMO_MAX_PLACES) {
		snprintf(d->places[d->nplaces].path, sizeof(d->places[0].path),
		    "%s", landing);
		d->places[d->nplaces++].prisoners = 1;
	}
}

static void
track_alarm(demo *d, const char *id)
{
	if (id == NULL || d->nalarms >= DEMO_MAX_ALARMS)
		return;
	snprintf(d->alarms[d->nalarms].id, sizeof(d->alarms[0].id), "%s", id);
	d->alarms[d->nalarms].busy    = 0;
	d->alarms[d->nalarms++].stage = 0;
}

static int
find_alarm(demo *d, const char *id)
{
	for (int i = 0; i < d->nalarms; i++)
		if (strcmp(d->alarms[i].id, id) == 0)
			return i;
	return -1;
}

static void
drop_alarm(demo *d, int i)
{
	d->alarms[i] = d->alarms[--d->nalarms];
}

static void
submit_counts(demo *d, demo_job *prev, const char *id)
{
	demo_job   *j       = job_new(d, J_RC_SUBMIT);
	demo_place *pl      = &d->places[prev->place];
	int         missing = prev->discrepancy ? 1 : 0;

	if (j == NULL)
		return;
	j->place       = prev->place;
	j->discrepancy = prev->discrepancy;
	snprintf(j->id, sizeof(j->id), "%s", id);
	send(d, j, "prison.rollcall.submit",
	    json_pack("{s:s,s:[{s:s,s:i,s:i}]}", "id", id, "counts",
	        "location", pl->path, "counted", pl->prisoners - missing,
	        "out", 0));
}

static void
on_reply(void *ud, int status, const xz_msg *reply)
{
	demo_job *j   = ud;
	demo     *d   = j->d;
	int       err = status != XZ_OK || (reply->flags & XZ_MSG_ERROR);
	json_t *o = err ? NULL : json_loadb(reply->data, reply->len, 0, NULL);
	const char *id
	    = o ? json_string_value(json_object_get(o, "id")) : NULL;
	size_t  i;
	json_t *it;
	int     k;

	if (err)
		d->host->counter_add(d->self, "replies_refused", 1);
	switch (j->type) {
	case J_PRISONERS:
	case J_RESIDENTS:
		d->loading--;
		json_array_foreach(json_object_get(o, "items"), i, it)
		{
			const char *rid
			    = json_string_value(json_object_get(it, "id"));
			if (j->type == J_PRISONERS) {
				const char *cell = json_string_value(
				    json_object_get(it, "cell"));
				if (cell)
					add_place(d, cell);
			} else if (rid && d->nresidents < DEMO_MAX_RESIDENTS) {
				const char *ph = json_string_value(
				    json_object_get(it, "state"));
				snprintf(d->residents[d->nresidents].id,
				    sizeof(d->residents[0].id), "%s", rid);
				snprintf(d->residents[d->nresidents++].phase,
				    sizeof(d->residents[0].phase), "%s",
				    ph ? ph : "");
			}
		}
		if (!err)
			d->host->log(d->self, XZ_LOG_INFO, "%s: %zu record(s)",
			    j->type == J_PRISONERS ? "prisoners" : "residents",
			    json_array_size(json_object_get(o, "items")));
		break;
	case J_RAISE:
		if (id)
			track_alarm(d, id);
		break;
	case J_ACTION:
		k = find_alarm(d, j->id);
		if (k < 0)
			break;
		d->alarms[k].busy = 0;
		if (err || d->alarms[k].stage + 1 >= N_STAGES
		    || strcmp(json_string_value(json_object_get(o, "state"))
		               ?: "",
		           "FALSE_ALARM")
		        == 0)
			drop_alarm(d, k);
		else
			d->alarms[k].stage++;
		break;
	case J_RC_SCHEDULE:
		if (id) {
			demo_job *n = job_new(d, J_RC_START);
			if (n) {
				n->place       = j->place;
				n->discrepancy = j->discrepancy;
				snprintf(n->id, sizeof(n->id), "%s", id);
				send(d, n, "prison.rollcall.start",
				    json_pack("{s:s}", "id", id));
			}
		}
		break;
	case J_RC_START:
		if (!err)
			submit_counts(d, j, j->id);
		break;
	case J_RC_SUBMIT:
		if (o && json_object_get(o, "alarm_id")) {
			track_alarm(d,
			    json_string_value(json_object_get(o, "alarm_id")));
			if (d->nrecounts < DEMO_MAX_RECOUNTS) {
				snprintf(d->recounts[d->nrecounts].id,
				    sizeof(d->recounts[0].id), "%s", j->id);
				d->recounts[d->nrecounts++].place = j->place;
			}
		}
		break;
	default:
		break;
	}
	json_decref(o);
	j->used = 0;
}

static void
raise_alarm(demo *d)
{
	demo_job *j  = job_new(d, J_RAISE);
	int       p  = (int) demo_rand(d, (uint32_t) d->nplaces);
	int       lv = demo_rand(d, 10) == 0 ? 2 : 1;

	if (j == NULL)
		return;
	send(d, j, "prison.alarm.raise",
	    json_pack("{s:s,s:i,s:s,s:s}", "kind",
	        sensor_kinds[demo_rand(d, 7)], "level", lv, "location",
	        d->places[p].path, "source",
	        demo_rand(d, 3) ? "sensor" : "video"));
}

static void
progress_alarm(demo *d)
{
	int         k = (int) demo_rand(d, (uint32_t) d->nalarms);
	demo_alarm *a;
	demo_job   *j;
	const char *action;
	json_t     *body;

	/* one request at a time per alarm, as one operator works it */
	for (int tries = 0; d->alarms[k].busy && tries < d->nalarms; tries++)
		k = (k + 1) % d->nalarms;
	a = &d->alarms[k];
	if (a->busy)
		return;
	j      = job_new(d, J_ACTION);
	action = next_action[a->stage];
	if (j == NULL)
		return;
	a->busy      = 1;
	size_t idlen = strnlen(a->id, sizeof(j->id) - 1);
	memmove(j->id, a->id, idlen); /* gcc cannot prove they differ */
	j->id[idlen] = '\0';
	if (a->stage == 0 && demo_rand(d, 8) == 0)
		action = "dismiss";
	body = json_pack("{s:s}", "id", a->id);
	if (strcmp(action, "dispatch") == 0)
		json_object_set_new(body, "unit",
		    json_string(demo_rand(d, 2) ? "response-team-1"
		                                : "response-team-2"));
	if (strcmp(action, "resolve") == 0)
		json_object_set_new(
		    body, "outcome", json_string("situation under control"));
	if (strcmp(action, "dismiss") == 0)
		json_object_set_new(
		    body, "reason", json_string("sensor fault: wind"));
	{
		char topic[64];
		snprintf(topic, sizeof(topic), "prison.alarm.%s", action);
		send(d, j, topic, body);
	}
}

static void
rollcall(demo *d)
{
	demo_job *j;

	if (d->nrecounts > 0 && demo_rand(d, 2) == 0) {
		int k = d->nrecounts - 1;
		if ((j = job_new(d, J_RC_RECOUNT)) == NULL)
			return;
		send(d, j, "prison.rollcall.reconcile",
		    json_pack("{s:s,s:s,s:[{s:s,s:i,s:i}]}", "id",
		        d->recounts[k].id, "reason",
		        "recount: one prisoner in healthcare", "counts",
		        "location", d->places[d->recounts[k].place].path,
		        "counted",
		        d->places[d->recounts[k].place].prisoners - 1, "out",
		        1));
		d->nrecounts--;
		return;
	}
	if ((j = job_new(d, J_RC_SCHEDULE)) == NULL)
		return;
	j->place       = (int) demo_rand(d, (uint32_t) d->nplaces);
	j->discrepancy = (int64_t) demo_rand(d, 100) < d->discrepancy_pc;
	send(d, j, "prison.rollcall.schedule",
	    json_pack("{s:s}", "location", d->places[j->place].path));
}

static void
assessment(demo *d)
{
	int         k     = (int) demo_rand(d, (uint32_t) d->nresidents);
	const char *phase = d->residents[k].phase;
	int         detox = strcmp(phase, "PHYSIOLOGICAL_DETOX") == 0;
	int     fail = (int) demo_rand(d, 10) < 3 ? (int) demo_rand(d, 5) : -1;
	char    session[48];
	json_t *ev;
	char   *s;

	snprintf(session, sizeof(session), "demo-%llu-%u",
	    (unsigned long long) d->ticks, demo_rand(d, 1000000));
	ev = json_pack("{s:s,s:s,s:s,s:{s:b,s:b,s:b,s:b,s:b},s:s}",
	    "resident_id", d->residents[k].id, "kind",
	    detox ? "DETOX" : (demo_rand(d, 10) ? "PHASE" : "ONE_YEAR"),
	    "session_id", session, "detox", "drug_test_negative", fail != 0,
	    "withdrawal_medication_stopped", fail != 1, "acute_symptoms_gone",
	    fail != 2, "no_marked_protracted_symptoms", fail != 3,
	    "no_drug_induced_psychosis", fail != 4, "system", "AI+AR");
	if (!detox) {
		json_object_set_new(ev, "psycho_physical",
		    json_string(demo_rand(d, 5) ? "PASS" : "FAIL"));
		json_object_set_new(ev, "behaviour",
		    json_string(demo_rand(d, 5) ? "PASS" : "FAIL"));
		json_object_set_new(ev, "social",
		    json_string(demo_rand(d, 3) ? "GOOD" : "FAIR"));
	}
	s = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	if (s) {
		d->host->publish(
		    d->self, "rehab.assessment.scored", s, strlen(s));
		free(s);
	}
}

void
demo_tick(demo *d)
{
	uint32_t r = demo_rand(d, 100);
	/* an alarm takes six operator steps: raise about one alarm for six
	 * steps, and none while many are being worked, so the open alarms
	 * stay bounded like a real shift's */
	int can_raise = d->nplaces && d->nalarms < DEMO_MAX_ALARMS / 2;

	d->ticks++;
	if ((d->nplaces == 0 || d->nresidents == 0) && d->loading == 0
	    && (d->ticks == 1 || d->ticks % 20 == 0))
		demo_load(d);
	if (r < 12 && can_raise)
		raise_alarm(d);
	else if (r < 72 && d->nalarms)
		progress_alarm(d);
	else if (r < 72 && can_raise)
		raise_alarm(d);
	else if (r < 80 && d->nplaces)
		rollcall(d);
	else if (d->nresidents)
		assessment(d);
	d->host->counter_add(d->self, "ticks", 1);
}
