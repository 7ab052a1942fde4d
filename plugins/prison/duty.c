/*
 * duty.c - the command center's duty: the 值班表 (duty roster: per day and
 * configured shift, the duty officer and the duty leader), the 交接班
 * (shift handover: the outgoing officer opens it with their open alarms,
 * the shift's counts and notes; the incoming officer accepts it; a
 * handover not accepted within handover_accept_s is escalated to the
 * duty leader, then to the prison's leadership), and the reports to the
 * provincial bureau: the 日报 (daily report) and the 零报告 (zero report,
 * when nothing notable happened), generated every day at
 * daily_report_at for the day before, with a deadline for the bureau's
 * acknowledgement (report_ack_s): a report not acknowledged in time is
 * sent again and the prison's leaders are told, each time the clock
 * lapses, until the bureau acknowledges it.
 *
 * Every clock is a named deadline of the store (store.h), on the kernel
 * clock: one timer for the earliest (kit_clock_arm), re-armed after each
 * change and at start, so a clock that lapsed while the node was down
 * fires at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prison.h"
#include "sql.h"

#define DAY_MS INT64_C(86400000)
#define MIN_MS INT64_C(60000)

/* ---- days and shifts ---------------------------------------------------- */

static int64_t
tz_ms(prison *p)
{
	return p->tz_offset_min * MIN_MS;
}

/* The local day (days since 1970-01-01) of instant ms. */
static int64_t
day_of(prison *p, int64_t ms)
{
	int64_t l = ms + tz_ms(p);
	return (l - ((l % DAY_MS) + DAY_MS) % DAY_MS) / DAY_MS;
}

/* "YYYY-MM-DD" of a day number (civil from days, Howard Hinnant). */
void
prison_format_day(int64_t z, char out[11])
{
	z += 719468;
	int64_t  era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t  doe = z - era * 146097;
	int64_t  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t  y   = yoe + era * 400;
	int64_t  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t  mp  = (5 * doy + 2) / 153;
	unsigned d   = (unsigned) (doy - (153 * mp + 2) / 5 + 1);
	unsigned m   = (unsigned) (mp < 10 ? mp + 3 : mp - 9);
	snprintf(out, 11, "%04d-%02u-%02u", (int) (y + (m <= 2)) % 10000,
	    m % 100, d % 100);
}

/* The instant local minute `min` of day begins. */
static int64_t
at_of(prison *p, int64_t day, int min)
{
	return day * DAY_MS + min * MIN_MS - tz_ms(p);
}

int
prison_shifts_init(prison *p)
{
	const char *s = p->c.host->opt_string(p->c.self, "shifts");
	char        cover[1440];
	char       *save, *tok;
	int         n = 0;

	memset(cover, 0, sizeof(cover));
	p->shift_buf = strdup(s ? s : "");
	if (p->shift_buf == NULL)
		return -1;
	for (tok = strtok_r(p->shift_buf, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		char *eq = strchr(tok, '=');
		int   h1, m1, h2, m2, used = 0;
		if (n == PRISON_MAX_SHIFTS || eq == NULL || eq == tok
		    || sscanf(
		           eq + 1, "%d:%d-%d:%d%n", &h1, &m1, &h2, &m2, &used)
		        != 4
		    || eq[1 + used] != '\0' || h1 < 0 || h1 > 23 || m1 < 0
		    || m1 > 59 || h2 < 0 || h2 > 24 || m2 < 0 || m2 > 59) {
			p->c.host->log(p->c.self, XZ_LOG_ERROR,
			    PT("option shifts: \"%s\" is not NAME=HH:MM-HH:MM "
			       "(at most %d shifts)"),
			    tok, PRISON_MAX_SHIFTS);
			return -1;
		}
		*eq               = '\0';
		p->shifts[n].name = tok;
		p->shifts[n].from = h1 * 60 + m1;
		p->shifts[n].to   = (h2 * 60 + m2) % 1440;
		for (int m = p->shifts[n].from;;) {
			cover[m]++;
			m = (m + 1) % 1440;
			if (m == p->shifts[n].to)
				break;
		}
		n++;
	}
	p->nshifts = n;
	for (int m = 0; m < 1440; m++)
		if (cover[m] != 1) {
			p->c.host->log(p->c.self, XZ_LOG_ERROR,
			    PT("option shifts: \"%s\": %02d:%02d is covered "
			       "by "
			       "%d "
			       "shifts; the shifts must cover the day once"),
			    s ? s : "", m / 60, m % 60, cover[m]);
			return -1;
		}
	return 0;
}

/* One shift of one day: the day it starts on, its index, its bounds. */
typedef struct shift_at {
	int64_t day;
	int     i;
	int64_t start_ms, end_ms;
	char    id[80]; /* "2026-12-02.DAY": the roster record's id */
	char    date[11];
} shift_at;

static void
shift_fill(prison *p, shift_at *s, int64_t day, int i)
{
	int len     = (p->shifts[i].to - p->shifts[i].from + 1440) % 1440;
	s->day      = day;
	s->i        = i;
	s->start_ms = at_of(p, day, p->shifts[i].from);
	s->end_ms   = s->start_ms + (len ? len : 1440) * MIN_MS;
	prison_format_day(day, s->date);
	snprintf(s->id, sizeof(s->id), "%s.%s", s->date, p->shifts[i].name);
}

/* The shift at instant ms. */
static void
shift_at_ms(prison *p, int64_t ms, shift_at *s)
{
	int64_t day = day_of(p, ms);
	int     m   = (int) ((ms + tz_ms(p) - day * DAY_MS) / MIN_MS);

	for (int i = 0; i < p->nshifts; i++) {
		int f = p->shifts[i].from, t = p->shifts[i].to;
		if (f < t ? (m >= f && m < t) : (m >= f || m < t)) {
			shift_fill(p, s, f < t || m >= f ? day : day - 1, i);
			return;
		}
	}
	shift_fill(p, s, day, 0); /* cannot happen: the day is covered */
}

/* A shift by date and name: 0, or -1 (no such shift or date). */
static int
shift_named(prison *p, const char *date, const char *name, shift_at *s)
{
	int64_t day;

	if (prison_parse_date(date, &day) != 0)
		return -1;
	for (int i = 0; i < p->nshifts; i++)
		if (strcmp(p->shifts[i].name, name) == 0) {
			shift_fill(p, s, day, i);
			return 0;
		}
	return -1;
}

static void
shift_names(prison *p, char *buf, size_t n)
{
	size_t off = 0;
	buf[0]     = '\0';
	for (int i = 0; i < p->nshifts && off < n; i++)
		off += (size_t) snprintf(buf + off, n - off, "%s%s",
		    i ? ", " : "", p->shifts[i].name);
}

/* ---- clocks ---------------------------------------------------------------
 */

static void on_clock(void *ud);

void
prison_duty_arm(prison *p)
{
	kit_clock_arm(&p->c, on_clock, p);
}

/* ---- the roster (值班表)
 * ---------------------------------------------------- */

static json_t *
person(const char *user, const char *name)
{
	return json_pack(
	    "{s:s,s:s}", "user", user, "name", name ? name : user);
}

/* prison.roster.set {"date","shift","officer","officer_name","leader",
 * "leader_name"}: create or change one shift's entry. */
void
prison_roster_set_fn(const kit_kind *k, kit_req *r)
{
	prison     *p    = k->ud;
	const char *date = kit_str(r->body, "date");
	const char *name = kit_str(r->body, "shift");
	shift_at    s;
	json_t     *rec;
	char        names[200];
	kit_err     e = { 0 };

	if (prison_parse_date(date, &s.day) != 0) {
		prison_refuse(r, "roster", KIT_E_BAD_REQUEST,
		    PT("%s: \"%s\": expected a date YYYY-MM-DD"),
		    r->msg->topic, "date");
		return;
	}
	if (shift_named(p, date, name, &s) != 0) {
		shift_names(p, names, sizeof(names));
		prison_refuse(r, "roster", KIT_E_BAD_REQUEST,
		    PT("%s: \"shift\": %s is not a shift of the roster (%s; "
		       "option shifts)"),
		    r->msg->topic, name, names);
		return;
	}
	if (strcmp(kit_str(r->body, "officer"), kit_str(r->body, "leader"))
	    == 0) {
		prison_refuse(r, "roster", KIT_E_BAD_REQUEST,
		    PT("%s: the duty officer and the duty leader of a shift "
		       "are "
		       "two people"),
		    r->msg->topic);
		return;
	}
	rec = kit_store_load(&p->c.store, "roster", s.id);
	if (rec != NULL) {
		json_decref(rec);
		rec = kit_apply(k, r, s.id, "set", &e);
		if (rec == NULL) {
			kit_reply_err(r, &e, "roster", s.id);
			return;
		}
		kit_reply(r, rec);
		return;
	}
	kit_create_reply(k, r,
	    json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:I,s:I}", "id", s.id, "owner",
	        s.date, "date", s.date, "shift", name, "officer",
	        person(kit_str(r->body, "officer"),
	            kit_str(r->body, "officer_name")),
	        "leader",
	        person(kit_str(r->body, "leader"),
	            kit_str(r->body, "leader_name")),
	        "start_ms", (json_int_t) s.start_ms, "end_ms",
	        (json_int_t) s.end_ms),
	    json_pack("{s:s,s:s,s:s,s:s}", "date", s.date, "shift", name,
	        "officer", kit_str(r->body, "officer"), "leader",
	        kit_str(r->body, "leader")));
}

static int
roster_on_action(const kit_kind *k, kit_req *r, const kit_transition *t,
    json_t *rec, json_t *ev, kit_err *e)
{
	(void) k;
	(void) t;
	(void) e;
	json_object_set_new(rec, "officer",
	    person(kit_str(r->body, "officer"),
	        kit_str(r->body, "officer_name")));
	json_object_set_new(rec, "leader",
	    person(
	        kit_str(r->body, "leader"), kit_str(r->body, "leader_name")));
	json_object_set_new(
	    ev, "officer", json_string(kit_str(r->body, "officer")));
	json_object_set_new(
	    ev, "leader", json_string(kit_str(r->body, "leader")));
	return 0;
}

/* The roster entry of shift s, or a stand-in with no one on duty. */
static json_t *
roster_of(prison *p, const shift_at *s)
{
	json_t *rec = kit_store_load(&p->c.store, "roster", s->id);
	if (rec == NULL)
		rec = json_pack("{s:s,s:s,s:s,s:n,s:n}", "id", s->id, "date",
		    s->date, "shift", p->shifts[s->i].name, "officer",
		    "leader");
	json_object_set_new(rec, "start_ms", json_integer(s->start_ms));
	json_object_set_new(rec, "end_ms", json_integer(s->end_ms));
	return rec;
}

/* The user of rec.who ("officer", "leader", "to"), or "". */
static const char *
user_of(json_t *rec, const char *who)
{
	const char *u = kit_str(json_object_get(rec, who), "user");
	return u ? u : "";
}

/* prison.roster.current {}: the shift on now, who is on duty, and the
 * next shift. */
void
prison_roster_current_fn(const kit_kind *k, kit_req *r)
{
	prison  *p = k->ud;
	shift_at s, n;
	json_t  *cur;

	shift_at_ms(p, r->now_ms, &s);
	shift_at_ms(p, s.end_ms, &n);
	cur = roster_of(p, &s);
	json_object_set_new(cur, "next", roster_of(p, &n));
	json_object_set_new(cur, "now_ms", json_integer(r->now_ms));
	kit_reply(r, cur);
}

/* ---- counts of a period ------------------------------------------------- */

/* Records of kind whose time field is in [from, to) and that satisfy
 * cond (a constant SQL condition), or -1. */
static int64_t
count_between(prison *p, const char *kind, const char *field, int64_t from,
    int64_t to, const char *cond)
{
	sqlite3_stmt *row = NULL;
	char          sql[512];
	int64_t       n = -1;

	snprintf(sql, sizeof(sql),
	    "SELECT count(*) FROM records WHERE kind=?1 AND "
	    "json_extract(data,'$.%s')>=?2 AND json_extract(data,'$.%s')<?3 "
	    "AND (%s)",
	    field, field, cond ? cond : "1");
	if (kit_sql_row(p->c.store.db, &row, sql, "tii", kind, from, to)
	    == SQLITE_ROW)
		n = sqlite3_column_int64(row, 0);
	sqlite3_finalize(row);
	return n;
}

static int64_t
count_state(prison *p, const char *kind, const char *state)
{
	json_t *page
	    = kit_store_list(&p->c.store, kind, state, NULL, NULL, 1, 0);
	int64_t n = kit_int(page, "total", 0);
	json_decref(page);
	return n;
}

/* The counts of [from, to): alarms raised (all, by level, that reached
 * the bureau, roll-call discrepancies), incidents drafted, roll calls,
 * handovers escalated, and the register now. */
static json_t *
period_counts(prison *p, int64_t from, int64_t to)
{
	return json_pack("{s:I,s:[I,I,I],s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
	    "alarms",
	    (json_int_t) count_between(
	        p, "alarm", "raised_ms", from, to, NULL),
	    "alarms_by_level",
	    (json_int_t) count_between(
	        p, "alarm", "raised_ms", from, to, "level=1"),
	    (json_int_t) count_between(
	        p, "alarm", "raised_ms", from, to, "level=2"),
	    (json_int_t) count_between(
	        p, "alarm", "raised_ms", from, to, "level>=3"),
	    "alarms_to_bureau",
	    (json_int_t) count_between(p, "alarm", "raised_ms", from, to,
	        "json_extract(data,'$.bureau_reports')>0"),
	    "rollcall_discrepancies",
	    (json_int_t) count_between(p, "alarm", "raised_ms", from, to,
	        "json_extract(data,'$.kind')='ROLLCALL_DISCREPANCY'"),
	    "incidents",
	    (json_int_t) count_between(
	        p, "incident", "created_ms", from, to, NULL),
	    "rollcalls",
	    (json_int_t) count_between(
	        p, "rollcall", "created_ms", from, to, NULL),
	    "handovers_escalated",
	    (json_int_t) count_between(
	        p, "handover", "escalated_ms", from, to, NULL),
	    "prisoners_serving",
	    (json_int_t) count_state(p, "prisoner", "SERVING"),
	    "alarms_open_now",
	    (json_int_t) (count_state(p, "alarm", "RAISED")
	        + count_state(p, "alarm", "ACKNOWLEDGED")
	        + count_state(p, "alarm", "DISPATCHED")
	        + count_state(p, "alarm", "ON_SCENE")
	        + count_state(p, "alarm", "HANDLING")
	        + count_state(p, "alarm", "REOPENED")));
}

/* ---- the handover (交接班) -------------------------------------------------
 */

static const char *const open_alarm_states[]
    = { "RAISED", "REOPENED", "ACKNOWLEDGED", "DISPATCHED", "ON_SCENE",
	      "HANDLING", "RESOLVED", NULL };

/* The alarms not closed: what the incoming officer takes over. */
static json_t *
open_alarms(prison *p)
{
	json_t *out = json_array();

	for (const char *const *st = open_alarm_states; *st; st++) {
		json_t *page = kit_store_list(
		    &p->c.store, "alarm", *st, NULL, NULL, 500, 0);
		size_t  i;
		json_t *a;
		json_array_foreach(json_object_get(page, "items"), i, a)
		    json_array_append_new(out,
		        json_pack("{s:O,s:O,s:O,s:O,s:O*,s:O*}", "id",
		            json_object_get(a, "id"), "kind",
		            json_object_get(a, "kind"), "level",
		            json_object_get(a, "level"), "state",
		            json_object_get(a, "state"), "location",
		            json_object_get(a, "location"), "raised_ms",
		            json_object_get(a, "raised_ms")));
		json_decref(page);
	}
	return out;
}

/* The shift being handed over by the actor: the named one, else the
 * current one, else (a late handover) the one before it. 0, or -1 with
 * the refusal sent. */
static int
handover_shift(prison *p, kit_req *r, shift_at *s, json_t **ros)
{
	const char *date = kit_str(r->body, "date");
	const char *name = kit_str(r->body, "shift");
	char        names[200];

	*ros = NULL;
	if ((date == NULL) != (name == NULL)) {
		prison_refuse(r, "handover", KIT_E_BAD_REQUEST,
		    PT("%s: give both \"date\" and \"shift\", or neither (the "
		       "shift on now)"),
		    r->msg->topic);
		return -1;
	}
	if (date) {
		if (shift_named(p, date, name, s) != 0) {
			shift_names(p, names, sizeof(names));
			prison_refuse(r, "handover", KIT_E_BAD_REQUEST,
			    PT("%s: \"shift\": %s of %s is not a shift of the "
			       "roster (%s; option shifts)"),
			    r->msg->topic, name, date, names);
			return -1;
		}
		*ros = kit_store_load(&p->c.store, "roster", s->id);
	} else {
		shift_at prev;
		shift_at_ms(p, r->now_ms, s);
		*ros = kit_store_load(&p->c.store, "roster", s->id);
		shift_at_ms(p, s->start_ms - 1, &prev);
		if ((*ros == NULL
		        || strcmp(user_of(*ros, "officer"), r->actor.user)
		            != 0)) {
			json_t *pr
			    = kit_store_load(&p->c.store, "roster", prev.id);
			if (pr
			    && strcmp(user_of(pr, "officer"), r->actor.user)
			        == 0) {
				json_decref(*ros);
				*ros = pr;
				*s   = prev;
			} else
				json_decref(pr);
		}
	}
	if (*ros == NULL) {
		prison_refuse(r, "handover", KIT_E_INVALID_STATE,
		    PT("%s: shift %s has no duty roster entry: set it first "
		       "(prison.roster.set)"),
		    r->msg->topic, s->id);
		return -1;
	}
	if (strcmp(user_of(*ros, "officer"), r->actor.user) != 0) {
		prison_refuse(r, "handover", KIT_E_FORBIDDEN,
		    PT("%s: the duty officer of shift %s is %s, not %s: only "
		       "the outgoing duty officer opens its handover"),
		    r->msg->topic, s->id, user_of(*ros, "officer"),
		    r->actor.user);
		json_decref(*ros);
		*ros = NULL;
		return -1;
	}
	return 0;
}

/* prison.handover.open {"notes","date","shift"}: the outgoing duty
 * officer hands the shift over to the next shift's officer. */
void
prison_handover_open_fn(const kit_kind *k, kit_req *r)
{
	prison  *p = k->ud;
	shift_at s, n;
	json_t  *ros = NULL, *next = NULL, *fields, *rec, *page;
	int64_t  due, to;
	kit_err  e = { 0 };

	if (handover_shift(p, r, &s, &ros) != 0)
		return;
	page = kit_store_list(&p->c.store, "handover", NULL, NULL, s.id, 1, 0);
	if (kit_int(page, "total", 0) > 0) {
		prison_refuse(r, "handover", KIT_E_EXISTS,
		    PT("%s: shift %s was handed over already (%s)"),
		    r->msg->topic, s.id,
		    kit_str(json_array_get(json_object_get(page, "items"), 0),
		        "id"));
		json_decref(page);
		json_decref(ros);
		return;
	}
	json_decref(page);
	shift_at_ms(p, s.end_ms, &n);
	next = kit_store_load(&p->c.store, "roster", n.id);
	if (next == NULL) {
		prison_refuse(r, "handover", KIT_E_INVALID_STATE,
		    PT("%s: the next shift %s has no duty roster entry: "
		       "nobody "
		       "to hand over to (prison.roster.set)"),
		    r->msg->topic, n.id);
		json_decref(ros);
		return;
	}
	due    = r->now_ms + p->handover_accept_s * 1000;
	to     = r->now_ms < s.end_ms ? r->now_ms : s.end_ms;
	fields = json_pack("{s:s,s:s,s:s,s:s,s:O,s:O,s:O,s:o,s:o,s:I,s:I,s:I}",
	    "owner", s.id, "date", s.date, "shift", p->shifts[s.i].name,
	    "next_shift", n.id, "from", json_object_get(ros, "officer"), "to",
	    json_object_get(next, "officer"), "leader",
	    json_object_get(ros, "leader"), "open_alarms", open_alarms(p),
	    "counts", period_counts(p, s.start_ms, to), "shift_start_ms",
	    (json_int_t) s.start_ms, "shift_end_ms", (json_int_t) s.end_ms,
	    "accept_by_ms", (json_int_t) due);
	if (kit_str(r->body, "notes"))
		json_object_set(
		    fields, "notes", json_object_get(r->body, "notes"));
	if (kit_tx_begin(&p->c, &e) != 0) {
		json_decref(fields);
		goto fail;
	}
	rec = kit_create_tx(k, r, fields,
	    json_pack("{s:s,s:s,s:s,s:s,s:I}", "shift", s.id, "next_shift",
	        n.id, "from", user_of(ros, "officer"), "to",
	        user_of(next, "officer"), "accept_by_ms", (json_int_t) due),
	    &e);
	if (rec
	    && kit_store_clock_add(
	           &p->c.store, "handover", kit_str(rec, "id"), "accept", due)
	        != 0) {
		kit_err_set(&e, KIT_E_STORE_ERROR, "%s", p->c.store.err);
		json_decref(rec);
		rec = NULL;
	}
	if (rec == NULL) {
		kit_tx_abort(&p->c);
		goto fail;
	}
	if (kit_tx_commit(&p->c, &e) != 0) {
		json_decref(rec);
		goto fail;
	}
	json_decref(ros);
	json_decref(next);
	prison_duty_arm(p);
	kit_reply(r, rec);
	return;
fail:
	json_decref(ros);
	json_decref(next);
	kit_reply_err(r, &e, "handover", NULL);
}

static int
handover_on_action(const kit_kind *k, kit_req *r, const kit_transition *t,
    json_t *rec, json_t *ev, kit_err *e)
{
	prison     *p  = k->ud;
	const char *id = kit_str(rec, "id");

	if (strcmp(t->action, "accept") == 0) {
		const char *to = user_of(rec, "to");
		if (r->msg
		    && strcmp(to, r->actor.user ? r->actor.user : "") != 0) {
			kit_err_set(e, KIT_E_FORBIDDEN,
			    PT("%s: handover %s is to %s, the next shift's "
			       "duty "
			       "officer, not to %s"),
			    r->msg->topic, id, to, r->actor.user);
			return -1;
		}
		json_object_set_new(
		    rec, "accepted_ms", json_integer(r->now_ms));
		if (kit_str(r->body, "note")) {
			json_object_set(rec, "accept_note",
			    json_object_get(r->body, "note"));
			json_object_set(
			    ev, "note", json_object_get(r->body, "note"));
		}
		json_object_set_new(ev, "late",
		    json_boolean(r->now_ms > kit_int(rec, "accept_by_ms", 0)));
		if (kit_store_clock_set(
		        &p->c.store, "handover", id, NULL, "MET")
		    != 0) {
			kit_err_set(
			    e, KIT_E_STORE_ERROR, "%s", p->c.store.err);
			return -1;
		}
	} else if (strcmp(t->action, "escalate") == 0) {
		/* step 1: the duty leader of the shift; step 2: the prison's
		 * leadership */
		int64_t step = kit_int(rec, "escalations", 0) + 1;
		json_object_set_new(rec, "escalations", json_integer(step));
		if (step == 1) {
			json_object_set_new(
			    rec, "escalated_ms", json_integer(r->now_ms));
			json_object_set_new(
			    ev, "notify", json_string("duty_leader"));
			json_object_set(ev, "leader",
			    json_object_get(
			        json_object_get(rec, "leader"), "user"));
			if (kit_store_clock_add(&p->c.store, "handover", id,
			        "leader",
			        r->now_ms + p->handover_accept_s * 1000)
			    != 0) {
				kit_err_set(e, KIT_E_STORE_ERROR, "%s",
				    p->c.store.err);
				return -1;
			}
		} else
			json_object_set_new(
			    ev, "notify", json_string("prison_leader"));
		json_object_set_new(ev, "step", json_integer(step));
		json_object_set(ev, "to", json_object_get(rec, "to"));
		json_object_set(ev, "shift", json_object_get(rec, "owner"));
	}
	return 0;
}

static void
after_any(const kit_kind *k, kit_req *r, const kit_transition *t, json_t *rec)
{
	(void) r;
	(void) t;
	(void) rec;
	prison_duty_arm(k->ud);
}

/* ---- reports to the bureau (日报, 零报告)
 * ------------------------------------ */

/* Generate the report of local day `day` (if it does not exist yet)
 * inside its own transaction; the record (caller owns it), or NULL with
 * e set (KIT_E_EXISTS when there is one). */
static json_t *
report_generate(prison *p, kit_req *r, int64_t day, kit_err *e)
{
	char        date[11], id[32];
	int64_t     from = at_of(p, day, 0), to = at_of(p, day + 1, 0);
	json_t     *counts = period_counts(p, from, to);
	json_t     *rec, *fields, *ex;
	int64_t     notable, due;
	const char *type;

	prison_format_day(day, date);
	snprintf(id, sizeof(id), "RPT-%s", date);
	if ((ex = kit_store_load(&p->c.store, "report", id)) != NULL) {
		kit_err_set(e, KIT_E_EXISTS,
		    PT("the report of %s was made already (%s, %s)"), date, id,
		    kit_str(ex, "type"));
		json_decref(ex);
		json_decref(counts);
		return NULL;
	}
	notable = kit_int(counts, "alarms_to_bureau", 0)
	    + kit_int(counts, "rollcall_discrepancies", 0)
	    + kit_int(counts, "incidents", 0)
	    + kit_int(counts, "handovers_escalated", 0)
	    + count_between(p, "alarm", "raised_ms", from, to,
	        p->report_notable_level >= 3       ? "level>=3"
	            : p->report_notable_level == 2 ? "level>=2"
	                                           : "level>=1");
	type   = notable > 0 ? "DAILY" : "ZERO";
	due    = r->now_ms + p->report_ack_s * 1000;
	fields = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:I,s:I,s:I,s:I,s:I}",
	    "id", id, "type", type, "date", date, "to", p->bureau_agency,
	    "agency", p->agency, "counts", counts, "notable",
	    (json_int_t) notable, "period_from_ms", (json_int_t) from,
	    "period_to_ms", (json_int_t) to, "ack_by_ms", (json_int_t) due,
	    "sent", (json_int_t) 1);
	if (kit_tx_begin(&p->c, e) != 0) {
		json_decref(fields);
		return NULL;
	}
	rec = kit_create_tx(&p->kinds[PK_REPORT], r, fields,
	    json_pack("{s:s,s:s,s:I}", "type", type, "date", date, "ack_by_ms",
	        (json_int_t) due),
	    e);
	if (rec
	    && kit_store_clock_add(&p->c.store, "report", id, "ack-1", due)
	        != 0) {
		kit_err_set(e, KIT_E_STORE_ERROR, "%s", p->c.store.err);
		json_decref(rec);
		rec = NULL;
	}
	if (rec) /* the report itself, to the bureau */
		kit_emit(&p->c,
		    strcmp(type, "ZERO") == 0 ? "prison.report.zero"
		                              : "prison.report.daily",
		    json_deep_copy(rec));
	if (rec == NULL) {
		kit_tx_abort(&p->c);
		return NULL;
	}
	if (kit_tx_commit(&p->c, e) != 0) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

/* The schedule: the next generation at daily_report_at (a clock of the
 * pseudo-record report/schedule named after the day it runs on). */
static int
schedule_next(prison *p, int64_t now)
{
	int64_t day = day_of(p, now);
	int64_t at  = at_of(p, day, p->report_at_min);
	char    name[32], date[11];

	if (at <= now) {
		day++;
		at = at_of(p, day, p->report_at_min);
	}
	prison_format_day(day, date);
	snprintf(name, sizeof(name), "gen-%s", date);
	return kit_store_clock_add(
	    &p->c.store, "report", "schedule", name, at);
}

/* prison.report.generate {"date"}: a report made now (a day the schedule
 * missed, or by hand); default: yesterday. */
void
prison_report_generate_fn(const kit_kind *k, kit_req *r)
{
	prison     *p    = k->ud;
	const char *date = kit_str(r->body, "date");
	int64_t     day  = day_of(p, r->now_ms) - 1;
	json_t     *rec;
	kit_err     e = { 0 };

	if (date && prison_parse_date(date, &day) != 0) {
		prison_refuse(r, "report", KIT_E_BAD_REQUEST,
		    PT("%s: \"%s\": expected a date YYYY-MM-DD"),
		    r->msg->topic, "date");
		return;
	}
	if (day >= day_of(p, r->now_ms)) {
		prison_refuse(r, "report", KIT_E_BAD_REQUEST,
		    PT("%s: \"date\": %s is not over yet: a day is reported "
		       "once it has ended"),
		    r->msg->topic, date);
		return;
	}
	rec = report_generate(p, r, day, &e);
	if (rec == NULL) {
		kit_reply_err(r, &e, "report", NULL);
		return;
	}
	prison_duty_arm(p);
	kit_reply(r, rec);
}

static int
report_on_action(const kit_kind *k, kit_req *r, const kit_transition *t,
    json_t *rec, json_t *ev, kit_err *e)
{
	prison     *p  = k->ud;
	const char *id = kit_str(rec, "id");

	if (strcmp(t->action, "ack") == 0) {
		json_object_set_new(rec, "acked_ms", json_integer(r->now_ms));
		json_object_set_new(
		    rec, "acked_by", json_string(r->actor.user));
		if (kit_str(r->body, "note"))
			json_object_set(
			    rec, "ack_note", json_object_get(r->body, "note"));
		json_object_set_new(ev, "late",
		    json_boolean(strcmp(t->from, "OVERDUE") == 0
		        || r->now_ms > kit_int(rec, "ack_by_ms", 0)));
		if (kit_store_clock_set(&p->c.store, "report", id, NULL, "MET")
		    != 0) {
			kit_err_set(
			    e, KIT_E_STORE_ERROR, "%s", p->c.store.err);
			return -1;
		}
	} else if (strcmp(t->action, "escalate") == 0) {
		/* not acknowledged in time: the report goes again, the duty
		 * leader is told (then the prison's leadership), and a new
		 * clock runs */
		int64_t sent = kit_int(rec, "sent", 1) + 1;
		int64_t due  = r->now_ms + p->report_ack_s * 1000;
		char    name[32];
		json_object_set_new(rec, "sent", json_integer(sent));
		json_object_set_new(rec, "ack_by_ms", json_integer(due));
		json_object_set_new(ev, "notify",
		    json_string(sent == 2 ? "duty_leader" : "prison_leader"));
		json_object_set_new(ev, "sent", json_integer(sent));
		json_object_set_new(ev, "ack_by_ms", json_integer(due));
		json_object_set(ev, "type", json_object_get(rec, "type"));
		json_object_set(ev, "date", json_object_get(rec, "date"));
		snprintf(name, sizeof(name), "ack-%lld", (long long) sent);
		if (kit_store_clock_add(&p->c.store, "report", id, name, due)
		    != 0) {
			kit_err_set(
			    e, KIT_E_STORE_ERROR, "%s", p->c.store.err);
			return -1;
		}
		{
			json_t *again = json_deep_copy(rec);
			json_object_set_new(again, "resend", json_true());
			kit_emit(&p->c,
			    strcmp(kit_str(rec, "type"), "ZERO") == 0
			        ? "prison.report.zero"
			        : "prison.report.daily",
			    again);
		}
	}
	return 0;
}

/* ---- the clock -------------------------------------------------------- */

static void
on_clock(void *ud)
{
	prison *p = ud;
	kit_req r;
	kit_err e = { 0 };
	json_t *due, *d;
	size_t  i;

	kit_req_internal(&p->c, &r, "system:clock",
	    json_pack("{s:s}", "purpose", "duty clock"));
	due = kit_store_clock_due(&p->c.store, r.now_ms);
	json_array_foreach(due, i, d)
	{
		const char *kind = kit_str(d, "kind"), *id = kit_str(d, "id");
		const char *clk = kit_str(d, "clock");
		json_t     *rec = NULL;
		char        why[200];

		if (kit_tx_begin(&p->c, &e) != 0)
			break;
		if (kit_store_clock_set(&p->c.store, kind, id, clk, "OVERDUE")
		    != 0) {
			kit_tx_abort(&p->c);
			break;
		}
		if (kit_tx_commit(&p->c, &e) != 0)
			break;
		if (strcmp(kind, "report") == 0
		    && strcmp(id, "schedule") == 0) {
			int64_t day = day_of(p, kit_int(d, "due_ms", 0)) - 1;
			rec         = report_generate(p, &r, day, &e);
			if (rec == NULL && e.code != KIT_E_EXISTS)
				p->c.host->log(p->c.self, XZ_LOG_ERROR,
				    PT("daily report: %s"), e.msg);
			if (kit_tx_begin(&p->c, &e) == 0) {
				if (schedule_next(p, r.now_ms) == 0)
					kit_tx_commit(&p->c, &e);
				else
					kit_tx_abort(&p->c);
			}
		} else if (strcmp(kind, "report") == 0
		    || strcmp(kind, "handover") == 0) {
			snprintf(why, sizeof(why), "%s clock of %s lapsed",
			    clk, id);
			json_object_set_new(
			    r.body, "reason", json_string(why));
			r.why = kit_str(r.body, "reason");
			rec   = kit_apply(&p->kinds[strcmp(kind, "report") == 0
			                          ? PK_REPORT
			                          : PK_HANDOVER],
			      &r, id, "escalate", &e);
			if (rec == NULL)
				p->c.host->log(p->c.self, XZ_LOG_ERROR,
				    PT("%s %s: escalation failed: %s"), kind,
				    id, e.msg);
		}
		json_decref(rec);
	}
	json_decref(due);
	kit_req_done(&r);
	prison_duty_arm(p);
}

int
prison_duty_start(prison *p)
{
	kit_err e = { 0 };

	if (kit_tx_begin(&p->c, &e) != 0)
		return -1;
	if (schedule_next(p, (int64_t) p->c.host->now_ms(p->c.self)) != 0) {
		kit_tx_abort(&p->c);
		return -1;
	}
	if (kit_tx_commit(&p->c, &e) != 0)
		return -1;
	prison_duty_arm(p);
	return 0;
}

void
prison_duty_hooks(prison *p)
{
	p->kinds[PK_ROSTER].on_action      = roster_on_action;
	p->kinds[PK_HANDOVER].on_action    = handover_on_action;
	p->kinds[PK_HANDOVER].after_action = after_any;
	p->kinds[PK_REPORT].on_action      = report_on_action;
	p->kinds[PK_REPORT].after_action   = after_any;
}
