/*
 * records.c - the prison's records other than alarms and roll calls:
 * incident reports (狱内事件), the location tree 监狱 → 监区 → 分监区 →
 * 监舍 with capacity, the register of prisoners (罪犯), visits (会见) in
 * visiting hours and rooms, and kiosk legal-aid requests. Field types are
 * the schemas' (api.c); the rules here are the ones a schema cannot say.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "idcard.h"
#include "prison.h"

/* Copy the listed keys of src into dst when present. */
static void
copy_keys(json_t *dst, json_t *src, const char *const *keys)
{
	for (; *keys; keys++) {
		json_t *v = json_object_get(src, *keys);
		if (v)
			json_object_set(dst, *keys, v);
	}
}

/* ---- incident reports ------------------------------------------------ */

static const char *const incident_keys[] = { "type", "location", "occurred_ms",
	"description", "prisoners", "staff", "outcomes", NULL };

json_t *
prison_incident_from_alarm_tx(prison *p, kit_req *r, json_t *alarm, kit_err *e)
{
	char        desc[2300];
	json_t     *fields, *outcomes, *prisoners;
	const char *id      = kit_str(alarm, "id");
	const char *kind    = kit_str(alarm, "kind");
	const char *outcome = kit_str(alarm, "outcome");

	snprintf(desc, sizeof(desc),
	    PT("Drafted from alarm %s (%s, level %lld)%s%s"), id, kind,
	    (long long) kit_int(alarm, "level", 1), outcome ? ": " : "",
	    outcome ? outcome : "");
	fields = kit_obj_strs(NULL, "type", kind, "location",
	    kit_str(alarm, "location"), "description", desc, "alarm_id", id,
	    "owner", id, NULL);
	json_object_set_new_nocheck(fields, "occurred_ms",
	    json_integer(kit_int(alarm, "raised_ms", 0)));
	outcomes = json_array();
	json_array_append_new(
	    outcomes, outcome ? json_string(outcome) : json_null());
	json_object_set_new_nocheck(fields, "outcomes", outcomes);
	if ((prisoners = json_object_get(alarm, "prisoners")) != NULL)
		json_object_set(fields, "prisoners", prisoners);
	return kit_create_tx(&p->kinds[PK_INCIDENT], r, fields,
	    kit_obj_strs(NULL, "alarm_id", id, NULL), e);
}

int
prison_incident_alarm_resolved_tx(
    prison *p, kit_req *r, json_t *alarm, kit_err *e)
{
	const char *id  = kit_str(alarm, "incident_id");
	json_t     *inc = kit_store_load(&p->c.store, "incident", id);
	json_t     *out;
	char        from[64];
	char        desc[2300];
	int         rc;

	if (inc == NULL)
		return 0; /* removed as a duplicate: nothing to update */
	snprintf(from, sizeof(from), "%s", kit_str(inc, "state"));
	out = json_object_get(inc, "outcomes");
	if (!json_is_array(out)) {
		out = json_array();
		json_object_set_new_nocheck(inc, "outcomes", out);
	}
	if (kit_str(alarm, "outcome"))
		json_array_append_new(
		    out, json_string(kit_str(alarm, "outcome")));
	snprintf(desc, sizeof(desc),
	    PT("%s\nAlarm %s resolved again (level %lld)%s%s"),
	    kit_str(inc, "description") ? kit_str(inc, "description") : "",
	    kit_str(alarm, "id"), (long long) kit_int(alarm, "level", 1),
	    kit_str(alarm, "outcome") ? ": " : "",
	    kit_str(alarm, "outcome") ? kit_str(alarm, "outcome") : "");
	json_object_set_new_nocheck(inc, "description", json_string(desc));
	json_object_set_new_nocheck(
	    inc, "updated_ms", json_integer(r->now_ms));
	/* a closed report comes back for review; a draft stays a draft */
	if (strcmp(from, "CLOSED") == 0
	    || strcmp(from, "AWAITING_REVIEW") == 0)
		json_object_set_new_nocheck(inc, "state",
		    json_string(strcmp(from, "CLOSED") == 0
		            ? "REOPENED"
		            : "NEEDS_UPDATING"));
	rc = kit_record_write(
	    r, "incident", inc, 0, "alarm-resolved", from, r->why, e);
	if (rc == 0) {
		kit_emit(&p->c, "prison.incident.updated",
		    json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s,s:I}", "id", id,
		        "from", from, "to", kit_str(inc, "state"), "alarm_id",
		        kit_str(alarm, "id"), "outcome",
		        kit_str(alarm, "outcome"), "who", r->actor.user,
		        "at_ms", (json_int_t) r->now_ms));
		kit_audit(r, "UPDATE", "incident", id, "ok");
	}
	json_decref(inc);
	return rc;
}

/* prison.incident.draft {"alarm_id"} or {"type","location",...} */
void
prison_incident_draft_fn(const kit_kind *k, kit_req *r)
{
	prison     *p        = k->ud;
	const char *alarm_id = kit_str(r->body, "alarm_id");
	kit_err     e;
	json_t     *fields;

	if (alarm_id) {
		json_t *alarm = kit_store_load(&p->c.store, "alarm", alarm_id);
		json_t *rec;
		if (alarm == NULL) {
			prison_refuse(r, "incident", KIT_E_NOT_FOUND,
			    PT("no %s with id %s"), prison_label("alarm"),
			    alarm_id);
			return;
		}
		if (kit_str(alarm, "incident_id")) {
			prison_refuse(r, "incident", KIT_E_EXISTS,
			    PT("alarm %s already has incident report %s"),
			    alarm_id, kit_str(alarm, "incident_id"));
			json_decref(alarm);
			return;
		}
		if (kit_tx_begin(&p->c, &e) != 0) {
			json_decref(alarm);
			kit_reply_err(r, &e, "incident", NULL);
			return;
		}
		rec = prison_incident_from_alarm_tx(p, r, alarm, &e);
		if (rec) {
			json_object_set_new_nocheck(alarm, "incident_id",
			    json_string(kit_str(rec, "id")));
			if (kit_store_save(&p->c.store, "alarm", alarm, 0)
			    != 0) {
				kit_err_set(&e, KIT_E_STORE_ERROR, "%s",
				    p->c.store.err);
				json_decref(rec);
				rec = NULL;
			}
		}
		json_decref(alarm);
		if (rec == NULL) {
			kit_tx_abort(&p->c);
			kit_reply_err(r, &e, "incident", NULL);
			return;
		}
		if (kit_tx_commit(&p->c, &e) != 0) {
			json_decref(rec);
			kit_reply_err(r, &e, "incident", NULL);
			return;
		}
		kit_reply(r, rec);
		return;
	}
	if (kit_str(r->body, "type") == NULL
	    || kit_str(r->body, "location") == NULL) {
		prison_refuse(r, "incident", KIT_E_BAD_REQUEST,
		    PT("prison.incident.draft: give \"alarm_id\", or "
		       "\"type\" and \"location\""));
		return;
	}
	if (!prison_location_known(p, kit_str(r->body, "location"), NULL)) {
		prison_refuse(r, "incident", KIT_E_BAD_REQUEST,
		    PT("prison.incident.draft: \"location\": %s is not a "
		       "registered location"),
		    kit_str(r->body, "location"));
		return;
	}
	fields = json_object();
	copy_keys(fields, r->body, incident_keys);
	kit_create_reply(k, r, fields,
	    json_pack("{s:s}", "type", kit_str(r->body, "type")));
}

static int
incident_on_action(const kit_kind *k, kit_req *r, const kit_transition *t,
    json_t *rec, json_t *ev, kit_err *e)
{
	(void) k;
	(void) ev;
	(void) e;
	if (strcmp(t->action, "update") == 0)
		copy_keys(
		    rec, json_object_get(r->body, "changes"), incident_keys);
	return 0;
}

/* ---- the location tree ----------------------------------------------- */

/* The type a location's parent must have. */
static const char *
parent_type(const char *type)
{
	if (strcmp(type, "AREA") == 0)
		return "PRISON";
	if (strcmp(type, "SUBAREA") == 0)
		return "AREA";
	if (strcmp(type, "CELL") == 0)
		return "SUBAREA";
	return NULL; /* a ZONE hangs anywhere; a PRISON is the root */
}

/* Prisoners SERVING at a location (exactly there, or below). */
static int64_t
occupancy(prison *p, const char *loc)
{
	json_t *page = kit_store_list(
	    &p->c.store, "prisoner", "SERVING", loc, NULL, 1, 0);
	int64_t n = kit_int(page, "total", 0);
	json_decref(page);
	return n;
}

/* prison.location.create {"id":"5101.01.1.105","type":"CELL","name",
 * "capacity":12,"cameras":[...],"zone"} */
void
prison_location_create_fn(const kit_kind *k, kit_req *r)
{
	prison     *p    = k->ud;
	const char *id   = kit_str(r->body, "id");
	const char *type = kit_str(r->body, "type");
	const char *dot  = strrchr(id, '.');
	const char *pt   = parent_type(type);
	json_t     *fields;

	if ((dot == NULL) != (strcmp(type, "PRISON") == 0)) {
		prison_refuse(r, "location", KIT_E_BAD_REQUEST,
		    PT("prison.location.create: a PRISON id has no dot; "
		       "every other location is PARENT.CODE"));
		return;
	}
	if (strcmp(type, "CELL") == 0
	    && json_object_get(r->body, "capacity") == NULL) {
		prison_refuse(r, "location", KIT_E_BAD_REQUEST,
		    PT("prison.location.create: a CELL needs \"capacity\" "
		       "(the number of prisoners it is rated for)"));
		return;
	}
	fields = json_object();
	copy_keys(fields, r->body,
	    (const char *const[]) {
	        "id", "type", "name", "capacity", "cameras", "zone", NULL });
	json_object_set_new_nocheck(fields, "location", json_string(id));
	if (dot) {
		char    parent[256];
		json_t *pr;
		snprintf(parent, sizeof(parent), "%.*s", (int) (dot - id), id);
		if (!prison_location_known(p, parent, &pr)) {
			json_decref(fields);
			prison_refuse(r, "location", KIT_E_NOT_FOUND,
			    PT("prison.location.create: parent location %s "
			       "does not exist"),
			    parent);
			return;
		}
		if (pt && strcmp(kit_str(pr, "type"), pt) != 0) {
			prison_refuse(r, "location", KIT_E_BAD_REQUEST,
			    PT("prison.location.create: a %s belongs in a "
			       "%s, and %s is a %s"),
			    type, pt, parent, kit_str(pr, "type"));
			json_decref(pr);
			json_decref(fields);
			return;
		}
		json_decref(pr);
		json_object_set_new_nocheck(
		    fields, "parent", json_string(parent));
	}
	kit_create_reply(k, r, fields, json_pack("{s:s}", "type", type));
}

static void
location_on_get(const kit_kind *k, kit_req *r, json_t *rec)
{
	(void) r;
	json_object_set_new_nocheck(rec, "occupancy",
	    json_integer(occupancy(k->ud, kit_str(rec, "id"))));
}

static int
location_on_action(const kit_kind *k, kit_req *r, const kit_transition *t,
    json_t *rec, json_t *ev, kit_err *e)
{
	const char *why = kit_str(r->body, "deactivation_reason");

	(void) k;
	(void) e;
	if (strcmp(t->action, "deactivate") != 0) {
		json_object_del(rec, "deactivation_reason");
		return 0;
	}
	json_object_set_new_nocheck(
	    rec, "deactivation_reason", json_string(why));
	json_object_set_new_nocheck(
	    ev, "deactivation_reason", json_string(why));
	return 0;
}

/* A cell can take one more prisoner: registered, a CELL, ACTIVE and
 * below its capacity. */
static int
check_cell(prison *p, const char *cell, kit_err *e)
{
	json_t *loc = NULL;
	int     rc  = -1;

	if (!prison_location_known(p, cell, &loc))
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    PT("\"cell\": %s is not a registered location"), cell);
	else if (strcmp(kit_str(loc, "type"), "CELL") != 0)
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    PT("\"cell\": location %s is a %s, not a CELL"), cell,
		    kit_str(loc, "type"));
	else if (strcmp(kit_str(loc, "state"), "ACTIVE") != 0)
		kit_err_set(e, KIT_E_INVALID_STATE,
		    PT("cell %s is %s (%s): it takes no prisoner"), cell,
		    kit_str(loc, "state"),
		    kit_str(loc, "deactivation_reason")
		        ? kit_str(loc, "deactivation_reason")
		        : "-");
	else {
		int64_t cap = kit_int(loc, "capacity", 0);
		int64_t occ = occupancy(p, cell);
		if (occ >= cap)
			kit_err_set(e, KIT_E_CAPACITY_EXCEEDED,
			    PT("cell %s is full: %lld of capacity %lld"), cell,
			    (long long) occ, (long long) cap);
		else
			rc = 0;
	}
	json_decref(loc);
	return rc;
}

/* ---- prisoners ------------------------------------------------------- */

static int
treatment_ok(prison *p, const char *t, char *list, size_t n)
{
	size_t off = 0;
	int    ok  = 0;
	list[0]    = '\0';
	for (int i = 0; p->treatment[i]; i++) {
		if (strcmp(p->treatment[i], t ? t : "") == 0)
			ok = 1;
		off += (size_t) snprintf(list + off, n - off, "%s%s",
		    off ? ", " : "", p->treatment[i]);
		if (off >= n)
			break;
	}
	return ok;
}

/* prison.prisoner.admit: a sentenced offender received (收监, 监狱法
 * arts. 15-16) with the documents' data. */
void
prison_prisoner_admit_fn(const kit_kind *k, kit_req *r)
{
	prison     *p     = k->ud;
	const char *id    = kit_str(r->body, "id");
	const char *cell  = kit_str(r->body, "cell");
	const char *stype = kit_str(r->body, "sentence_type");
	const char *tr    = kit_str(r->body, "treatment");
	const char *pat
	    = p->c.host->opt_string(p->c.self, "prisoner_number_pattern");
	int64_t start, end;
	regex_t re;
	kit_err e;
	json_t *fields;
	char    list[400];

	if (stype == NULL)
		stype = "FIXED_TERM";
	if (pat && regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) == 0) {
		int ok = regexec(&re, id, 0, NULL, 0) == 0;
		regfree(&re);
		if (!ok) {
			prison_refuse(r, "prisoner", KIT_E_BAD_REQUEST,
			    PT("prison.prisoner.admit: \"id\": prisoner "
			       "number %s does not match %s (option "
			       "prisoner_number_pattern)"),
			    id, pat);
			return;
		}
	}
	if (prison_parse_date(kit_str(r->body, "sentence_start"), &start)
	    != 0) {
		prison_refuse(r, "prisoner", KIT_E_BAD_REQUEST,
		    PT("prison.prisoner.admit: \"%s\": expected a date "
		       "YYYY-MM-DD"),
		    "sentence_start");
		return;
	}
	if (strcmp(stype, "FIXED_TERM") == 0) {
		if (prison_parse_date(kit_str(r->body, "sentence_end"), &end)
		    != 0) {
			prison_refuse(r, "prisoner", KIT_E_BAD_REQUEST,
			    PT("prison.prisoner.admit: \"%s\": expected a "
			       "date YYYY-MM-DD"),
			    "sentence_end");
			return;
		}
		if (end <= start) {
			prison_refuse(r, "prisoner", KIT_E_BAD_REQUEST,
			    PT("prison.prisoner.admit: \"sentence_end\" must "
			       "be after \"sentence_start\""));
			return;
		}
	} else if (json_object_get(r->body, "sentence_end")) {
		prison_refuse(r, "prisoner", KIT_E_BAD_REQUEST,
		    PT("prison.prisoner.admit: a %s sentence has no "
		       "\"sentence_end\""),
		    stype);
		return;
	}
	if (tr && !treatment_ok(p, tr, list, sizeof(list))) {
		prison_refuse(r, "prisoner", KIT_E_BAD_REQUEST,
		    PT("%s: \"treatment\": expected one of %s"),
		    "prison.prisoner.admit", list);
		return;
	}
	if (check_cell(p, cell, &e) != 0) {
		kit_reply_err(r, &e, "prisoner", id);
		return;
	}
	fields = json_object();
	copy_keys(fields, r->body,
	    (const char *const[]) { "id", "name", "id_number", "crime",
	        "sentence_start", "sentence_end", "treatment", "key", "cell",
	        NULL });
	json_object_set_new_nocheck(
	    fields, "sentence_type", json_string(stype));
	if (tr == NULL)
		json_object_set_new_nocheck(fields, "treatment",
		    json_string(p->c.host->opt_string(
		        p->c.self, "treatment_default")));
	json_object_set_new_nocheck(fields, "key_prisoner",
	    json_boolean(json_object_get(r->body, "key") != NULL));
	json_object_set_new_nocheck(fields, "location", json_string(cell));
	json_object_set_new_nocheck(
	    fields, "admitted_ms", json_integer(r->now_ms));
	kit_create_reply(k, r, fields, json_pack("{s:s}", "cell", cell));
}

static int
prisoner_on_action(const kit_kind *k, kit_req *r, const kit_transition *t,
    json_t *rec, json_t *ev, kit_err *e)
{
	prison     *p    = k->ud;
	const char *a    = t->action;
	const char *cell = kit_str(r->body, "cell");
	char        list[400];

	if (strcmp(a, "move") == 0 || strcmp(a, "readmit") == 0) {
		if (check_cell(p, cell, e) != 0)
			return -1;
		json_object_set_new_nocheck(ev, "from_cell",
		    json_string(
		        kit_str(rec, "cell") ? kit_str(rec, "cell") : ""));
		json_object_set_new_nocheck(ev, "cell", json_string(cell));
		json_object_set_new_nocheck(rec, "cell", json_string(cell));
		json_object_set_new_nocheck(
		    rec, "location", json_string(cell));
	} else if (strcmp(a, "grade") == 0) {
		const char *tr = kit_str(r->body, "treatment");
		if (!treatment_ok(p, tr, list, sizeof(list))) {
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    PT("%s: \"treatment\": expected one of %s"),
			    "prison.prisoner.grade", list);
			return -1;
		}
		json_object_set_new_nocheck(
		    ev, "from", json_string(kit_str(rec, "treatment") ?: ""));
		json_object_set_new_nocheck(ev, "treatment", json_string(tr));
		json_object_set_new_nocheck(rec, "treatment", json_string(tr));
	} else if (strcmp(a, "mark-key") == 0) {
		json_t *key = json_pack("{s:s,s:O,s:s?}", "risk",
		    kit_str(r->body, "risk"), "reasons",
		    json_object_get(r->body, "reasons"), "note",
		    kit_str(r->body, "note"));
		json_object_set_new_nocheck(rec, "key", key);
		json_object_set_new_nocheck(rec, "key_prisoner", json_true());
		json_object_set_new_nocheck(
		    ev, "risk", json_string(kit_str(r->body, "risk")));
	} else if (strcmp(a, "clear-key") == 0) {
		json_object_del(rec, "key");
		json_object_set_new_nocheck(rec, "key_prisoner", json_false());
	} else if (strcmp(a, "parole") == 0) {
		json_object_set_new_nocheck(
		    rec, "ruling", json_string(kit_str(r->body, "ruling")));
		json_object_set_new_nocheck(
		    ev, "ruling", json_string(kit_str(r->body, "ruling")));
	} else if (strcmp(a, "execute-outside") == 0) {
		json_object_set_new_nocheck(rec, "decision",
		    json_string(kit_str(r->body, "decision")));
		json_object_set_new_nocheck(
		    ev, "decision", json_string(kit_str(r->body, "decision")));
	} else if (strcmp(a, "transfer") == 0) {
		json_object_set_new_nocheck(rec, "to_agency",
		    json_string(kit_str(r->body, "to_agency")));
		json_object_set_new_nocheck(ev, "to_agency",
		    json_string(kit_str(r->body, "to_agency")));
	}
	/* out of the prison: the cell is free again */
	if (strcmp(t->to, "SERVING") != 0) {
		json_object_set_new_nocheck(
		    rec, "left_ms", json_integer(r->now_ms));
		json_object_set_new_nocheck(rec, "location", json_string(""));
	}
	return 0;
}

/* ---- visits ---------------------------------------------------------- */

/* prison.visit.request {"prisoner_id","type","visitor":{...},"slot_ms",
 * "letter"} */
void
prison_visit_request_fn(const kit_kind *k, kit_req *r)
{
	prison     *p    = k->ud;
	const char *pid  = kit_str(r->body, "prisoner_id");
	const char *type = kit_str(r->body, "type");
	json_t     *vis  = json_object_get(r->body, "visitor");
	json_t     *pr;
	json_t     *fields, *rec;
	kit_err     e = { 0 };

	pr = kit_store_load(&p->c.store, "prisoner", pid);
	if (pr == NULL) {
		prison_refuse(r, "visit", KIT_E_BAD_REQUEST,
		    PT("\"prisoner_id\": %s is not in the register"), pid);
		return;
	}
	if (strcmp(kit_str(pr, "state"), "SERVING") != 0) {
		prison_refuse(r, "visit", KIT_E_INVALID_STATE,
		    PT("prisoner %s is %s"), pid,
		    prison_label(kit_str(pr, "state")));
		json_decref(pr);
		return;
	}
	json_decref(pr);
	/* a lawyer's visit: the licence and the letter (法律援助公函 or the
	 * firm's letter), 律师会见监狱在押罪犯规定 */
	if (strcmp(type, "LEGAL") == 0
	    && (kit_str(vis, "licence") == NULL
	        || kit_str(r->body, "letter") == NULL)) {
		prison_refuse(r, "visit", KIT_E_BAD_REQUEST,
		    PT("%s: a LEGAL visit needs the lawyer's licence "
		       "(\"visitor\".\"licence\") and the letter (\"letter\": "
		       "the assignment letter of a legal-aid case, or the law "
		       "firm's)"),
		    r->msg->topic);
		return;
	}
	if (strcmp(type, "LEGAL") == 0
	    && (kit_str(vis, "provider_id") != NULL)
	        != (kit_str(r->body, "legal_aid_id") != NULL)) {
		prison_refuse(r, "visit", KIT_E_BAD_REQUEST,
		    PT("%s: a legal-aid visit names both the provider "
		       "(\"visitor\".\"provider_id\") and the case "
		       "(\"legal_aid_id\")"),
		    r->msg->topic);
		return;
	}
	fields = json_object();
	copy_keys(fields, r->body,
	    (const char *const[]) { "prisoner_id", "type", "visitor",
	        "slot_ms", "legal_aid_id", "letter", NULL });
	json_object_set_new_nocheck(fields, "owner", json_string(pid));
	if (kit_tx_begin(&p->c, &e) != 0) {
		json_decref(fields);
		kit_reply_err(r, &e, "visit", NULL);
		return;
	}
	rec = kit_create_tx(k, r, fields,
	    json_pack("{s:s,s:s,s:s?}", "prisoner_id", pid, "type", type,
	        "legal_aid_id", kit_str(r->body, "legal_aid_id")),
	    &e);
	if (rec == NULL) {
		kit_tx_abort(&p->c);
		kit_reply_err(r, &e, "visit", NULL);
		return;
	}
	if (kit_tx_commit(&p->c, &e) != 0) {
		json_decref(rec);
		kit_reply_err(r, &e, "visit", NULL);
		return;
	}
	/* a legal-aid lawyer's visit: checked with the legal plugin, then
	 * approved and booked, or rejected (legalvisit.c) */
	if (strcmp(type, "LEGAL") == 0 && kit_str(vis, "provider_id"))
		prison_legal_visit_check(p, kit_str(rec, "id"));
	kit_reply(r, rec);
}

/* Visiting hours (会见时间): option visit_hours "HH:MM-HH:MM,..." on the
 * weekdays of visit_days ("1-5": Monday to Friday), local time at
 * tz_offset_min; one visit per room and slot of visit_slot_min. */
typedef struct vwin {
	int from, to; /* minutes of the day */
} vwin;

static int
parse_hours(const char *s, vwin *w, int max)
{
	int n = 0;
	while (s && *s && n < max) {
		int h1, m1, h2, m2, used = 0;
		if (sscanf(s, "%d:%d-%d:%d%n", &h1, &m1, &h2, &m2, &used) != 4)
			break;
		w[n].from = h1 * 60 + m1;
		w[n].to   = h2 * 60 + m2;
		n++;
		s += used;
		while (*s == ',' || *s == ' ')
			s++;
	}
	return n;
}

static int
day_ok(const char *days, int wday /* 1=Mon..7=Sun */)
{
	int a, b, used;
	while (days && *days) {
		if (sscanf(days, "%d-%d%n", &a, &b, &used) == 2) {
			if (wday >= a && wday <= b)
				return 1;
		} else if (sscanf(days, "%d%n", &a, &used) == 1) {
			if (wday == a)
				return 1;
		} else
			return 0;
		days += used;
		while (*days == ',' || *days == ' ')
			days++;
	}
	return 0;
}

/* Is room busy at slot (another BOOKED visit overlapping)? */
static int
room_busy(prison *p, const char *room, int64_t slot, int64_t len_ms,
    const char *self_id)
{
	json_t *page = kit_store_list(
	    &p->c.store, "visit", "BOOKED", NULL, NULL, INT64_MAX, 0);
	size_t  i;
	json_t *v;
	int     busy = 0;

	json_array_foreach(json_object_get(page, "items"), i, v)
	{
		int64_t s = kit_int(v, "slot_ms", 0);
		if (strcmp(kit_str(v, "id"), self_id) != 0
		    && kit_str(v, "room")
		    && strcmp(kit_str(v, "room"), room) == 0
		    && s < slot + len_ms && slot < s + len_ms)
			busy = 1;
	}
	json_decref(page);
	return busy;
}

/* The first slot at or after want, in visiting hours with a free room
 * (room in out); 0 if none within 14 days. */
static int64_t
next_slot(prison *p, int64_t want, const char *room_wanted, const char *id,
    char *out, size_t outlen)
{
	vwin w[8];
	int  nw = parse_hours(
	     p->c.host->opt_string(p->c.self, "visit_hours"), w, 8);
	const char *days  = p->c.host->opt_string(p->c.self, "visit_days");
	const char *rooms = p->c.host->opt_string(p->c.self, "visit_rooms");
	int64_t     tz = 0, slot_min = 30;
	int64_t     day_ms = 86400000;

	p->c.host->opt_int(p->c.self, "tz_offset_min", &tz);
	p->c.host->opt_int(p->c.self, "visit_slot_min", &slot_min);
	int64_t local = want + tz * 60000;
	int64_t day0  = local - (local % day_ms + day_ms) % day_ms;
	for (int d = 0; d < 15; d++) {
		int64_t day  = day0 + d * day_ms;
		int     wday = (int) (((day / day_ms) % 7 + 7 + 3) % 7) + 1;
		if (!day_ok(days, wday))
			continue;
		for (int i = 0; i < nw; i++) {
			for (int64_t m = w[i].from; m + slot_min <= w[i].to;
			     m += slot_min) {
				int64_t t = day + m * 60000;
				char    buf[256], *save, *tok;
				if (t < local)
					continue;
				snprintf(buf, sizeof(buf), "%s", rooms);
				for (tok = strtok_r(buf, ", ", &save); tok;
				     tok = strtok_r(NULL, ", ", &save)) {
					if (room_wanted
					    && strcmp(room_wanted, tok) != 0)
						continue;
					if (!room_busy(p, tok, t - tz * 60000,
					        slot_min * 60000, id)) {
						snprintf(
						    out, outlen, "%s", tok);
						return t - tz * 60000;
					}
				}
			}
		}
	}
	return 0;
}

static int
visit_on_action(const kit_kind *k, kit_req *r, const kit_transition *t,
    json_t *rec, json_t *ev, kit_err *e)
{
	prison *p = k->ud;

	if (strcmp(t->action, "book") == 0) {
		int64_t want = kit_int(
		    r->body, "slot_ms", kit_int(rec, "slot_ms", r->now_ms));
		const char *room = kit_str(r->body, "room");
		char        got[64];
		int64_t     slot;

		if (room
		    && !strstr(p->c.host->opt_string(p->c.self, "visit_rooms"),
		        room)) {
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    PT("\"room\": %s is not a visiting room (%s)"),
			    room,
			    p->c.host->opt_string(p->c.self, "visit_rooms"));
			return -1;
		}
		slot = next_slot(p, want < r->now_ms ? r->now_ms : want, room,
		    kit_str(rec, "id"), got, sizeof(got));
		if (slot == 0) {
			kit_err_set(e, KIT_E_CAPACITY_EXCEEDED,
			    PT("no visiting slot free within 14 days (hours "
			       "%s, rooms %s)"),
			    p->c.host->opt_string(p->c.self, "visit_hours"),
			    p->c.host->opt_string(p->c.self, "visit_rooms"));
			return -1;
		}
		if (slot != want)
			json_object_set_new_nocheck(
			    rec, "requested_slot_ms", json_integer(want));
		json_object_set_new_nocheck(
		    rec, "slot_ms", json_integer(slot));
		json_object_set_new_nocheck(rec, "room", json_string(got));
		json_object_set_new_nocheck(ev, "slot_ms", json_integer(slot));
		json_object_set_new_nocheck(ev, "room", json_string(got));
	} else if (strcmp(t->action, "complete") == 0) {
		const char *o = kit_str(r->body, "outcome");
		json_object_set_new_nocheck(rec, "outcome", json_string(o));
		json_object_set_new_nocheck(ev, "outcome", json_string(o));
	}
	/* the prison's own check of a lawyer's visit (legalvisit.c) */
	if (r->msg == NULL && json_object_get(r->body, "check"))
		json_object_set(
		    rec, "check", json_object_get(r->body, "check"));
	if (strcmp(t->action, "approve") == 0
	    || strcmp(t->action, "reject") == 0) {
		json_object_set_new_nocheck(
		    rec, "decided_by", json_string(r->actor.user));
		json_object_set_new_nocheck(
		    rec, "decided_ms", json_integer(r->now_ms));
	}
	if (kit_str(rec, "legal_aid_id"))
		json_object_set(
		    ev, "legal_aid_id", json_object_get(rec, "legal_aid_id"));
	json_object_set_new_nocheck(
	    ev, "prisoner_id", json_string(kit_str(rec, "prisoner_id")));
	json_object_set_new_nocheck(
	    ev, "type", json_string(kit_str(rec, "type")));
	return 0;
}

/* ---- kiosk ------------------------------------------------------------ */

/* prison.kiosk.legal-aid {"prisoner_id","matter"}: published as
 * prison.kiosk.legal-aid-requested for legal services, who must receive
 * it within kiosk_forward_h hours (法律援助法 art. 39: 24 hours). */
void
prison_kiosk_fn(const kit_kind *k, kit_req *r)
{
	prison     *p   = k->ud;
	const char *pid = kit_str(r->body, "prisoner_id");
	json_t     *pr;
	json_t     *fields;
	int64_t     by;

	pr = kit_store_load(&p->c.store, "prisoner", pid);
	if (pr == NULL) {
		prison_refuse(r, "kiosk", KIT_E_BAD_REQUEST,
		    PT("\"prisoner_id\": %s is not in the register"), pid);
		return;
	}
	json_decref(pr);
	by     = r->now_ms + p->kiosk_forward_h * 3600 * 1000;
	fields = json_object();
	copy_keys(fields, r->body,
	    (const char *const[]) {
	        "prisoner_id", "matter", "language", NULL });
	json_object_set_new_nocheck(fields, "owner", json_string(pid));
	json_object_set_new_nocheck(fields, "forward_by_ms", json_integer(by));
	kit_create_reply(k, r, fields,
	    json_pack("{s:s,s:s,s:s,s:I}", "prisoner_id", pid, "matter",
	        kit_str(r->body, "matter"), "applicant_type", "INMATE",
	        "forward_by_ms", (json_int_t) by));
}

void
prison_records_hooks(prison *p)
{
	p->kinds[PK_INCIDENT].on_action = incident_on_action;
	p->kinds[PK_LOCATION].on_action = location_on_action;
	p->kinds[PK_LOCATION].on_get    = location_on_get;
	p->kinds[PK_PRISONER].on_action = prisoner_on_action;
	p->kinds[PK_VISIT].on_action    = visit_on_action;
}
