/*
 * traffic.c - what the demo does on each tick: the simulated time since
 * the last tick (node-clock time times speed) decides how many alarms to
 * raise (alarms_per_shift, a little random), which operator steps are due
 * (one every step_min per alarm), which roll calls are due (each
 * rollcall_times crossed: every sub-area is counted, now and then with a
 * discrepancy that is recounted later) and how many assessment results to
 * publish. Everything goes over the bus, as the roles that would do it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "demo.h"

enum {
	J_PLACES,
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
/* who takes each step (the prison's role table) */
static const char *const step_role[] = { "command_duty", "command_duty",
	"area_officer", "area_officer", "command_duty", "duty_leader" };
#define N_STAGES 6

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

/* Send a request (body stolen) as the demo's officer holding role. */
static void
send(demo *d, demo_job *j, const char *topic, json_t *body, const char *role)
{
	char *s;
	int   rc;

	/* a person acts for their own agency: the rehab centre's reads as
	 * its officer */
	json_object_set_new(body, "actor",
	    json_pack("{s:s,s:s,s:s}", "user", "demo:officer", "role", role,
	        "agency",
	        strncmp(topic, "rehab.", 6) == 0 ? "rehab-01" : "prison-01"));
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
		if (j->type == J_PLACES || j->type == J_PRISONERS
		    || j->type == J_RESIDENTS)
			d->loading--;
		if (j->type == J_ACTION && find_alarm(d, j->id) >= 0)
			d->alarms[find_alarm(d, j->id)].busy = 0;
		d->host->counter_add(d->self, "requests_failed", 1);
	}
}

static void
demo_load(demo *d)
{
	demo_job *j;

	if (!d->have_places && (j = job_new(d, J_PLACES))) {
		d->loading++;
		send(d, j, "prison.location.list",
		    json_pack("{s:s,s:i}", "state", "ACTIVE", "limit", 1000),
		    "command_duty");
	}
	if (d->have_places == 1 && (j = job_new(d, J_PRISONERS))) {
		d->have_places = 2; /* asked for the register */
		d->loading++;
		send(d, j, "prison.prisoner.list",
		    json_pack("{s:s,s:i}", "state", "SERVING", "limit", 1000),
		    "command_duty");
	}
	if (!d->have_residents && (j = job_new(d, J_RESIDENTS))) {
		d->loading++;
		send(d, j, "rehab.resident.list",
		    json_pack("{s:i}", "limit", 1000), "rehab_officer");
	}
}

static int
find_place(demo *d, const char *path)
{
	for (int i = 0; i < d->nplaces; i++)
		if (strcmp(d->places[i].path, path) == 0)
			return i;
	return -1;
}

static void
add_place(demo *d, const char *id, const char *type)
{
	if (d->nplaces >= DEMO_MAX_PLACES || find_place(d, id) >= 0)
		return;
	if (strcmp(type, "SUBAREA") != 0 && strcmp(type, "CELL") != 0
	    && strcmp(type, "ZONE") != 0)
		return;
	snprintf(
	    d->places[d->nplaces].path, sizeof(d->places[0].path), "%s", id);
	d->places[d->nplaces].prisoners = 0;
	d->places[d->nplaces++].subarea = strcmp(type, "SUBAREA") == 0;
}

/* A prisoner in cell A.B.C.D counts in sub-area A.B.C. */
static void
count_prisoner(demo *d, const char *cell)
{
	const char *dot = strrchr(cell, '.');
	char        sub[64];
	int         k;

	if (dot == NULL)
		return;
	snprintf(sub, sizeof(sub), "%.*s", (int) (dot - cell), cell);
	if ((k = find_place(d, sub)) >= 0)
		d->places[k].prisoners++;
}

static void
track_alarm(demo *d, const char *id, int level, int64_t sim)
{
	if (id == NULL || d->nalarms >= DEMO_MAX_ALARMS)
		return;
	snprintf(d->alarms[d->nalarms].id, sizeof(d->alarms[0].id), "%s", id);
	d->alarms[d->nalarms].busy        = 0;
	d->alarms[d->nalarms].level       = level;
	d->alarms[d->nalarms].next_sim_ms = sim + d->step_ms;
	d->alarms[d->nalarms++].stage     = 0;
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
	        "out", 0),
	    "area_officer");
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

	if (err) {
		d->host->counter_add(d->self, "replies_refused", 1);
		if (reply && reply->len)
			d->host->log(d->self, XZ_LOG_DEBUG, "refused: %.*s",
			    (int) reply->len, (const char *) reply->data);
	}
	switch (j->type) {
	case J_PLACES:
		d->loading--;
		json_array_foreach(json_object_get(o, "items"), i, it)
		{
			add_place(d,
			    json_string_value(json_object_get(it, "id")) ?: "",
			    json_string_value(json_object_get(it, "type"))
			        ?: "");
		}
		if (!err)
			d->have_places = 1;
		break;
	case J_PRISONERS:
		d->loading--;
		json_array_foreach(json_object_get(o, "items"), i, it)
		{
			const char *cell
			    = json_string_value(json_object_get(it, "cell"));
			if (cell)
				count_prisoner(d, cell);
		}
		if (err)
			d->have_places = 1; /* ask again */
		else
			d->host->log(d->self, XZ_LOG_INFO,
			    "%d places, %zu prisoners", d->nplaces,
			    json_array_size(json_object_get(o, "items")));
		break;
	case J_RESIDENTS:
		d->loading--;
		json_array_foreach(json_object_get(o, "items"), i, it)
		{
			const char *rid
			    = json_string_value(json_object_get(it, "id"));
			const char *ph
			    = json_string_value(json_object_get(it, "state"));
			if (rid && d->nresidents < DEMO_MAX_RESIDENTS) {
				snprintf(d->residents[d->nresidents].id,
				    sizeof(d->residents[0].id), "%s", rid);
				snprintf(d->residents[d->nresidents++].phase,
				    sizeof(d->residents[0].phase), "%s",
				    ph ? ph : "");
			}
		}
		d->have_residents = 1; /* none (no rehab plugin) is fine too */
		break;
	case J_RAISE:
		if (id)
			track_alarm(d, id,
			    (int) json_integer_value(
			        json_object_get(o, "level")),
			    d->last_sim_ms);
		break;
	case J_ACTION:
		k = find_alarm(d, j->id);
		if (k < 0)
			break;
		d->alarms[k].busy        = 0;
		d->alarms[k].next_sim_ms = d->last_sim_ms + d->step_ms;
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
				    json_pack("{s:s}", "id", id),
				    "area_officer");
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
			    json_string_value(json_object_get(o, "alarm_id")),
			    1, d->last_sim_ms);
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
	static const char *const sensor_kinds[] = { "PERIMETER", "FIGHT",
		"SELF_HARM", "FIRE", "MEDICAL", "DRONE", "CONTRABAND" };
	demo_job                *j              = job_new(d, J_RAISE);
	int                      p = (int) demo_rand(d, (uint32_t) d->nplaces);
	int                      lv   = demo_rand(d, 10) == 0 ? 2 : 1;
	const char              *kind = sensor_kinds[demo_rand(d, 7)];

	if (j == NULL)
		return;
	send(d, j, "prison.alarm.raise",
	    json_pack("{s:s,s:i,s:s,s:s}", "kind", kind, "level", lv,
	        "location", d->places[p].path, "source",
	        demo_rand(d, 3) ? "sensor" : "video"),
	    "sensor");
}

/* The next step of alarm k, as the role that takes it. */
static void
step_alarm(demo *d, int k)
{
	demo_alarm *a = &d->alarms[k];
	demo_job   *j = job_new(d, J_ACTION);
	const char *action, *role;
	json_t     *body;
	char        topic[64];

	if (j == NULL)
		return;
	action  = next_action[a->stage];
	role    = step_role[a->stage];
	a->busy = 1;
	snprintf(j->id, sizeof(j->id), "%s", a->id);
	if (a->stage == 0 && demo_rand(d, 8) == 0)
		action = "dismiss";
	body = json_pack("{s:s}", "id", a->id);
	if (strcmp(action, "dispatch") == 0)
		json_object_set_new(body, "unit",
		    json_string(demo_rand(d, 2) ? "处置一组" : "处置二组"));
	if (strcmp(action, "resolve") == 0)
		json_object_set_new(
		    body, "outcome", json_string("现场已控制"));
	if (strcmp(action, "dismiss") == 0)
		json_object_set_new(body, "reason", json_string("误报：大风"));
	snprintf(topic, sizeof(topic), "prison.alarm.%s", action);
	send(d, j, topic, body, role);
}

/* Every sub-area is counted at a roll-call time. */
static void
rollcall_all(demo *d)
{
	for (int i = 0; i < d->nplaces; i++) {
		demo_job *j;
		if (!d->places[i].subarea)
			continue;
		if ((j = job_new(d, J_RC_SCHEDULE)) == NULL)
			return;
		j->place = i;
		j->discrepancy
		    = (int64_t) demo_rand(d, 100) < d->discrepancy_pc;
		send(d, j, "prison.rollcall.schedule",
		    json_pack("{s:s}", "location", d->places[i].path),
		    "area_officer");
	}
}

/* A discrepancy found at the last roll call: the recount balances. */
static void
recount(demo *d)
{
	int       k = d->nrecounts - 1;
	demo_job *j = job_new(d, J_RC_RECOUNT);

	if (j == NULL)
		return;
	send(d, j, "prison.rollcall.reconcile",
	    json_pack("{s:s,s:s,s:[{s:s,s:i,s:i}]}", "id", d->recounts[k].id,
	        "reason", "复点：一名罪犯在监狱医院", "counts", "location",
	        d->places[d->recounts[k].place].path, "counted",
	        d->places[d->recounts[k].place].prisoners - 1, "out", 1),
	    "area_officer");
	d->nrecounts--;
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

/* Did the local time of day `minute` pass in (from, to]? */
static int
crossed(demo *d, int minute, int64_t from, int64_t to)
{
	const int64_t day = 86400000;
	int64_t       lf = from + d->tz_ms, lt = to + d->tz_ms;
	int64_t       t = lf - ((lf % day) + day) % day + minute * 60000;

	for (; t <= lt; t += day)
		if (t > lf)
			return 1;
	return 0;
}

void
demo_tick(demo *d)
{
	int64_t now = (int64_t) d->host->now_ms(d->self);
	int64_t sim = d->anchor_sim_ms + (now - d->anchor_node_ms) * d->speed;
	int64_t dt  = sim - d->last_sim_ms;
	int     open;

	d->ticks++;
	if ((!d->have_places || d->have_places == 1 || !d->have_residents)
	    && d->loading == 0)
		demo_load(d);
	if (d->have_places < 2 || dt <= 0) {
		d->last_sim_ms = sim;
		return;
	}
	/* roll calls at their times of day */
	for (int i = 0; i < d->nrc_times; i++)
		if (crossed(d, d->rc_times[i], d->last_sim_ms, sim))
			rollcall_all(d);
	d->last_sim_ms = sim;
	/* a discrepancy is recounted at the next tick */
	while (d->nrecounts > 0)
		recount(d);
	/* the operators' steps that are due, one request per alarm */
	for (int k = 0; k < d->nalarms; k++)
		if (!d->alarms[k].busy && d->alarms[k].next_sim_ms <= sim)
			step_alarm(d, k);
	/* new alarms: alarms_per_shift on average, never more than
	 * max_open of ours open at once */
	d->acc_alarms += (double) d->alarms_per_shift * (double) dt
	    / (double) d->shift_ms * (0.5 + demo_rand(d, 1000) / 1000.0);
	if (d->acc_alarms > (double) d->max_open)
		d->acc_alarms = (double) d->max_open;
	open = d->nalarms;
	for (; d->acc_alarms >= 1.0 && d->nplaces; d->acc_alarms -= 1.0) {
		if (open >= d->max_open)
			continue; /* too much on: this one is not raised */
		raise_alarm(d);
		open++;
	}
	d->acc_assess += (double) d->assessments_per_shift * (double) dt
	    / (double) d->shift_ms;
	if (d->acc_assess > 10.0)
		d->acc_assess = 10.0;
	for (; d->acc_assess >= 1.0; d->acc_assess -= 1.0)
		if (d->nresidents)
			assessment(d);
	d->host->counter_add(d->self, "ticks", 1);
}
