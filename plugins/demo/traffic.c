/*
 * traffic.c - what the demo does on each tick: the simulated time since
 * the last tick (node-clock time times speed) decides how many alarms to
 * raise (alarms_per_shift, a little random), which operator steps are due
 * (one every step_min per alarm), which roll calls are due (each
 * rollcall_times crossed: every sub-area is counted, now and then with a
 * discrepancy that is recounted later) and how many assessment results to
 * publish; at each change of the prison's duty shifts the outgoing duty
 * officer hands over and the incoming one accepts. Everything goes over
 * the bus, as the roles that would do it.
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
	J_RC_RECOUNT,
	J_ROSTER,
	J_HO_OPEN,
	J_HO_ACCEPT
};

/* The command center's duty teams, in turn from shift to shift: the duty
 * officer (指挥中心值班民警) and the duty leader (值班领导). */
static const struct {
	const char *officer, *officer_name, *leader, *leader_name;
} teams[] = {
	{ "demo:duty-a", "张伟", "demo:leader-a", "李强" },
	{ "demo:duty-b", "刘洋", "demo:leader-b", "周平" },
	{ "demo:duty-c", "王磊", "demo:leader-c", "陈静" },
};
#define N_TEAMS 3

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

/* Send a request (body stolen) as user holding role. */
static void
send_as(demo *d, demo_job *j, const char *topic, json_t *body,
    const char *role, const char *user)
{
	char *s;
	int   rc;

	/* a person acts for their own agency: the rehab centre's reads as
	 * its officer */
	json_object_set_new(body, "actor",
	    json_pack("{s:s,s:s,s:s}", "user", user, "role", role, "agency",
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

/* Send a request (body stolen) as the demo's officer holding role. */
static void
send(demo *d, demo_job *j, const char *topic, json_t *body, const char *role)
{
	send_as(d, j, topic, body, role, "demo:officer");
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
			d->host->log(d->self, XZ_LOG_DEBUG,
			    DT("refused: %.*s"), (int) reply->len,
			    (const char *) reply->data);
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
			    DT("%d places, %zu prisoners"), d->nplaces,
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
	case J_HO_OPEN:
		if (id) {
			/* the incoming duty officer accepts */
			int       t = (int) (((j->seq + 1) % N_TEAMS + N_TEAMS)
                            % N_TEAMS);
			demo_job *n = job_new(d, J_HO_ACCEPT);
			d->host->counter_add(d->self, "handovers_opened", 1);
			if (n)
				send_as(d, n, "prison.handover.accept",
				    json_pack("{s:s,s:s}", "id", id, "note",
				        "已接班，在押人数及未结告警已核对"),
				    "command_duty", teams[t].officer);
		}
		break;
	case J_HO_ACCEPT:
		if (!err)
			d->host->counter_add(d->self, "handovers_accepted", 1);
		break;
	default:
		break;
	}
	json_decref(o);
	j->used = 0;
}

/* ---- the duty: roster and handovers ---- */

#define DAY_MS INT64_C(86400000)

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The number of the shift on at simulated instant sim: local day times
 * nshifts plus its index (a shift belongs to the day it starts on). */
static int64_t
shift_seq(demo *d, int64_t sim)
{
	int64_t l   = sim + d->tz_ms;
	int64_t day = floor_div(l, DAY_MS);
	int     m   = (int) ((l - day * DAY_MS) / 60000);
	int     i   = -1;

	for (int k = 0; k < d->nshifts; k++)
		if (d->shifts[k].from <= m)
			i = k;
	if (i < 0) {
		day--;
		i = d->nshifts - 1;
	}
	return day * d->nshifts + i;
}

/* "YYYY-MM-DD" and the name of shift seq. */
static const char *
shift_date(demo *d, int64_t seq, char date[11])
{
	int64_t  z = floor_div(seq, d->nshifts);
	int      i = (int) (seq - z * d->nshifts);
	int64_t  era, doe, yoe, y, doy, mp;
	unsigned dd, m;

	/* civil from days (Howard Hinnant) */
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y   = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp  = (5 * doy + 2) / 153;
	dd  = (unsigned) (doy - (153 * mp + 2) / 5 + 1);
	m   = (unsigned) (mp < 10 ? mp + 3 : mp - 9);
	snprintf(date, 11, "%04d-%02u-%02u", (int) (y + (m <= 2)) % 10000,
	    m % 100, dd % 100);
	return d->shifts[i].name;
}

/* The 狱政科 puts a team on shift seq (prison.roster.set). */
static void
roster(demo *d, int64_t seq)
{
	demo_job   *j = job_new(d, J_ROSTER);
	char        date[11];
	const char *name = shift_date(d, seq, date);
	int         t    = (int) ((seq % N_TEAMS + N_TEAMS) % N_TEAMS);

	if (j == NULL)
		return;
	send(d, j, "prison.roster.set",
	    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "date", date, "shift", name,
	        "officer", teams[t].officer, "officer_name",
	        teams[t].officer_name, "leader", teams[t].leader,
	        "leader_name", teams[t].leader_name),
	    "prison_admin");
}

/* The outgoing duty officer of shift seq hands it over. */
static void
handover(demo *d, int64_t seq)
{
	demo_job   *j = job_new(d, J_HO_OPEN);
	char        date[11];
	const char *name = shift_date(d, seq, date);
	int         t    = (int) ((seq % N_TEAMS + N_TEAMS) % N_TEAMS);

	if (j == NULL)
		return;
	j->seq = seq;
	send_as(d, j, "prison.handover.open",
	    json_pack("{s:s,s:s,s:s}", "date", date, "shift", name, "notes",
	        "本班次告警均已处置或在办，清点人数相符；请接班民警核对"),
	    "command_duty", teams[t].officer);
}

/* At each change of shift since the last tick: the handover of the shift
 * that ended, and the roster two shifts ahead. */
static void
duty(demo *d, int64_t sim)
{
	int64_t cur;
	int     n = 0;

	if (d->nshifts == 0)
		return;
	cur = shift_seq(d, sim);
	if (!d->duty_started) {
		d->duty_started  = 1;
		d->duty_seq      = cur;
		d->duty_rostered = cur + 1;
		roster(d, cur);
		roster(d, cur + 1);
		return;
	}
	/* a tick spanning many shifts (a node that lagged far behind)
	 * hands over the last few only */
	if (cur - d->duty_seq > 4)
		d->duty_seq = cur - 4;
	if (d->duty_rostered < d->duty_seq - 1)
		d->duty_rostered = d->duty_seq - 1;
	for (; d->duty_seq < cur && n < 4; n++) {
		int64_t q = d->duty_seq++;
		while (d->duty_rostered < q + 2)
			roster(d, ++d->duty_rostered);
		handover(d, q);
	}
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
	duty(d, sim);
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
