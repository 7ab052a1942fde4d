/*
 * records.c - the prison's records other than alarms and roll calls:
 * incident reports, visits, prisoners, the location tree with capacity,
 * and kiosk legal-aid requests.
 */
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "prison.h"

static int
in_list(const char *const *list, const char *s)
{
	for (; s && *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

static void
refuse(kit_req *r, const char *subject_type, kit_code code, const char *msg)
{
	kit_err e;
	kit_err_set(&e, code, "%s", msg);
	kit_reply_err(r, &e, subject_type, NULL);
}

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
static const char *const prisoner_roles[] = { "ASSAILANT", "VICTIM",
	"PERPETRATOR", "INVOLVED", "WITNESS", "SUSPECTED", NULL };
static const char *const staff_roles[]    = { "FIRST_ON_SCENE", "ACTIONED",
	   "INVOLVED", "WITNESS", "AUTHORISING", NULL };

static int
check_people(
    json_t *arr, const char *what, const char *const *roles, kit_err *e)
{
	size_t  i;
	json_t *v;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		goto bad;
	json_array_foreach(arr, i, v)
	{
		if (kit_str(v, "id") == NULL
		    || !in_list(roles, kit_str(v, "role")))
			goto bad;
	}
	return 0;
bad:
	kit_err_set(e, KIT_E_BAD_REQUEST,
	    "incident: \"%s\" must be an array of {\"id\",\"role\"} with role "
	    "one of %s%s%s%s%s",
	    what, roles[0], roles[1] ? ", " : "", roles[1] ? roles[1] : "",
	    roles[2] ? ", " : "", roles[2] ? roles[2] : "");
	return -1;
}

json_t *
prison_incident_from_alarm_tx(prison *p, kit_req *r, json_t *alarm, kit_err *e)
{
	char    desc[256];
	json_t *fields;

	snprintf(desc, sizeof(desc),
	    "Drafted from alarm %s (%s, level %lld)%s%s", kit_str(alarm, "id"),
	    kit_str(alarm, "kind"), (long long) kit_int(alarm, "level", 1),
	    kit_str(alarm, "outcome") ? ": " : "",
	    kit_str(alarm, "outcome") ? kit_str(alarm, "outcome") : "");
	fields = json_pack("{s:s,s:s?,s:I,s:s,s:s,s:s}", "type",
	    kit_str(alarm, "kind"), "location", kit_str(alarm, "location"),
	    "occurred_ms", (json_int_t) kit_int(alarm, "raised_ms", 0),
	    "description", desc, "alarm_id", kit_str(alarm, "id"), "owner",
	    kit_str(alarm, "id"));
	if (json_object_get(alarm, "prisoners"))
		json_object_set(
		    fields, "prisoners", json_object_get(alarm, "prisoners"));
	return kit_create_tx(&p->kinds[PK_INCIDENT], r, fields,
	    json_pack("{s:s}", "alarm_id", kit_str(alarm, "id")), e);
}

/* prison.incident.draft {"alarm_id"} or {"type","location",...} */
static void
incident_draft_fn(const kit_kind *k, kit_req *r)
{
	prison     *p        = k->ud;
	const char *alarm_id = kit_str(r->body, "alarm_id");
	kit_err     e;
	json_t     *fields;

	if (alarm_id) {
		json_t *alarm = kit_store_load(&p->c.store, "alarm", alarm_id);
		json_t *rec;
		if (alarm == NULL) {
			kit_err_set(&e, KIT_E_NOT_FOUND, "no alarm with id %s",
			    alarm_id);
			kit_reply_err(r, &e, "incident", NULL);
			return;
		}
		if (kit_str(alarm, "incident_id")) {
			kit_err_set(&e, KIT_E_EXISTS,
			    "alarm %s already has incident report %s",
			    alarm_id, kit_str(alarm, "incident_id"));
			json_decref(alarm);
			kit_reply_err(r, &e, "incident", NULL);
			return;
		}
		if (kit_tx_begin(&p->c, &e) != 0) {
			json_decref(alarm);
			kit_reply_err(r, &e, "incident", NULL);
			return;
		}
		rec = prison_incident_from_alarm_tx(p, r, alarm, &e);
		if (rec) {
			json_object_set_new(alarm, "incident_id",
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
		refuse(r, "incident", KIT_E_BAD_REQUEST,
		    "prison.incident.draft: give \"alarm_id\", or \"type\" "
		    "and \"location\"");
		return;
	}
	if (check_people(json_object_get(r->body, "prisoners"), "prisoners",
	        prisoner_roles, &e)
	        != 0
	    || check_people(
	           json_object_get(r->body, "staff"), "staff", staff_roles, &e)
	        != 0) {
		kit_reply_err(r, &e, "incident", NULL);
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
	json_t *ch = json_object_get(r->body, "changes");

	(void) k;
	(void) ev;
	if (strcmp(t->action, "update") != 0)
		return 0;
	if (!json_is_object(ch)) {
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    "prison.incident.update: \"changes\" must be an object "
		    "with any of description, prisoners, staff, outcomes");
		return -1;
	}
	if (check_people(json_object_get(ch, "prisoners"), "prisoners",
	        prisoner_roles, e)
	        != 0
	    || check_people(
	           json_object_get(ch, "staff"), "staff", staff_roles, e)
	        != 0)
		return -1;
	copy_keys(rec, ch, incident_keys);
	return 0;
}

/* ---- the location tree ----------------------------------------------- */

static const char *const location_types[]
    = { "PRISON", "AREA", "WING", "LANDING", "CELL", NULL };
static const char *const specialist_types[]
    = { "SAFE_CELL", "CONSTANT_SUPERVISION", "MEDICAL", NULL };
static const char *const deactivation_reasons[]
    = { "DAMAGED", "SECURITY_SEALED", "STAFF_SHORTAGE", NULL };

/* Prisoners IN at a location (exactly there, or below with subtree). */
static int64_t
occupancy(prison *p, const char *loc)
{
	json_t *page
	    = kit_store_list(&p->c.store, "prisoner", "IN", loc, NULL, 1, 0);
	int64_t n = kit_int(page, "total", 0);
	json_decref(page);
	return n;
}

/* prison.location.create {"id":"P1.A.1.2.005","type","name","capacity":
 * {"certified","working","max"},"specialist"} */
static void
location_create_fn(const kit_kind *k, kit_req *r)
{
	prison     *p    = k->ud;
	const char *id   = kit_str(r->body, "id");
	const char *type = kit_str(r->body, "type");
	const char *sp   = kit_str(r->body, "specialist");
	json_t     *cap  = json_object_get(r->body, "capacity");
	const char *dot;
	json_t     *fields;
	char        msg[400];

	if (id == NULL || !in_list(location_types, type)) {
		refuse(r, "location", KIT_E_BAD_REQUEST,
		    "prison.location.create: \"id\" (a dotted path such as "
		    "P1.A.1.2.005) and \"type\" (PRISON, AREA, WING, LANDING "
		    "or CELL) are required");
		return;
	}
	if (sp && !in_list(specialist_types, sp)) {
		refuse(r, "location", KIT_E_BAD_REQUEST,
		    "prison.location.create: \"specialist\" must be "
		    "SAFE_CELL, CONSTANT_SUPERVISION or MEDICAL");
		return;
	}
	if (strcmp(type, "CELL") == 0
	    && (kit_int(cap, "working", -1) < 0
	        || kit_int(cap, "certified", -1) < 0)) {
		refuse(r, "location", KIT_E_BAD_REQUEST,
		    "prison.location.create: a CELL needs \"capacity\": "
		    "{\"certified\":N,\"working\":N,\"max\":N}");
		return;
	}
	dot = strrchr(id, '.');
	if ((dot == NULL) != (strcmp(type, "PRISON") == 0)) {
		refuse(r, "location", KIT_E_BAD_REQUEST,
		    "prison.location.create: a PRISON id has no dot; every "
		    "other location is PARENT.CHILD");
		return;
	}
	fields = json_object();
	copy_keys(fields, r->body,
	    (const char *const[]) {
	        "id", "type", "name", "capacity", "specialist", NULL });
	json_object_set_new(fields, "location", json_string(id));
	if (dot) {
		char    parent[256];
		json_t *pr;
		snprintf(parent, sizeof(parent), "%.*s", (int) (dot - id), id);
		pr = kit_store_load(&p->c.store, "location", parent);
		if (pr == NULL) {
			snprintf(msg, sizeof(msg),
			    "prison.location.create: parent location %s does "
			    "not exist",
			    parent);
			json_decref(fields);
			refuse(r, "location", KIT_E_NOT_FOUND, msg);
			return;
		}
		json_decref(pr);
		json_object_set_new(fields, "parent", json_string(parent));
	}
	kit_create_reply(k, r, fields, json_pack("{s:s}", "type", type));
}

static void
location_on_get(const kit_kind *k, kit_req *r, json_t *rec)
{
	(void) r;
	json_object_set_new(rec, "occupancy",
	    json_integer(occupancy(k->ud, kit_str(rec, "id"))));
}

static int
location_on_action(const kit_kind *k, kit_req *r, const kit_transition *t,
    json_t *rec, json_t *ev, kit_err *e)
{
	const char *why = kit_str(r->body, "deactivation_reason");

	(void) k;
	if (strcmp(t->action, "deactivate") != 0) {
		json_object_del(rec, "deactivation_reason");
		return 0;
	}
	if (!in_list(deactivation_reasons, why)) {
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    "prison.location.deactivate: \"deactivation_reason\" must "
		    "be DAMAGED, SECURITY_SEALED or STAFF_SHORTAGE");
		return -1;
	}
	json_object_set_new(rec, "deactivation_reason", json_string(why));
	json_object_set_new(ev, "deactivation_reason", json_string(why));
	return 0;
}

/* A cell can take one more prisoner: exists, is a CELL, ACTIVE and below
 * its working capacity. */
static int
check_cell(prison *p, const char *cell, kit_err *e)
{
	json_t *loc = kit_store_load(&p->c.store, "location", cell);
	int     rc  = -1;

	if (loc == NULL)
		kit_err_set(
		    e, KIT_E_NOT_FOUND, "no location with id %s", cell);
	else if (strcmp(kit_str(loc, "type"), "CELL") != 0)
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    "location %s is a %s, not a CELL", cell,
		    kit_str(loc, "type"));
	else if (strcmp(kit_str(loc, "state"), "ACTIVE") != 0)
		kit_err_set(e, KIT_E_INVALID_STATE,
		    "cell %s is %s (%s): it takes no prisoner", cell,
		    kit_str(loc, "state"),
		    kit_str(loc, "deactivation_reason")
		        ? kit_str(loc, "deactivation_reason")
		        : "no reason");
	else {
		int64_t working
		    = kit_int(json_object_get(loc, "capacity"), "working", 0);
		int64_t occ = occupancy(p, cell);
		if (occ >= working)
			kit_err_set(e, KIT_E_CAPACITY_EXCEEDED,
			    "cell %s is full: %lld of working capacity %lld",
			    cell, (long long) occ, (long long) working);
		else
			rc = 0;
	}
	json_decref(loc);
	return rc;
}

/* ---- prisoners ------------------------------------------------------- */

static const char *const legal_statuses[]
    = { "REMAND", "CONVICTED_UNSENTENCED", "SENTENCED", "RECALL", NULL };

/* prison.prisoner.admit {"id":"A1234BC","name","legal_status","category",
 * "cell","release_date","alerts":[]} */
static void
prisoner_admit_fn(const kit_kind *k, kit_req *r)
{
	prison     *p    = k->ud;
	const char *id   = kit_str(r->body, "id");
	const char *cell = kit_str(r->body, "cell");
	const char *pat
	    = p->c.host->opt_string(p->c.self, "prisoner_number_pattern");
	regex_t re;
	kit_err e;
	json_t *fields;
	char    msg[300];

	if (id == NULL || kit_str(r->body, "name") == NULL || cell == NULL
	    || !in_list(legal_statuses, kit_str(r->body, "legal_status"))) {
		refuse(r, "prisoner", KIT_E_BAD_REQUEST,
		    "prison.prisoner.admit: \"id\" (prisoner number), "
		    "\"name\", \"cell\" and \"legal_status\" (REMAND, "
		    "CONVICTED_UNSENTENCED, SENTENCED, RECALL) are required");
		return;
	}
	if (pat && regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) == 0) {
		int ok = regexec(&re, id, 0, NULL, 0) == 0;
		regfree(&re);
		if (!ok) {
			snprintf(msg, sizeof(msg),
			    "prison.prisoner.admit: prisoner number %s does "
			    "not match %s (option prisoner_number_pattern)",
			    id, pat);
			refuse(r, "prisoner", KIT_E_BAD_REQUEST, msg);
			return;
		}
	}
	if (check_cell(p, cell, &e) != 0) {
		kit_reply_err(r, &e, "prisoner", id);
		return;
	}
	fields = json_object();
	copy_keys(fields, r->body,
	    (const char *const[]) { "id", "name", "legal_status", "category",
	        "cell", "release_date", "alerts", NULL });
	json_object_set_new(fields, "location", json_string(cell));
	json_object_set_new(fields, "reception_ms", json_integer(r->now_ms));
	kit_create_reply(k, r, fields, json_pack("{s:s}", "cell", cell));
}

static int
prisoner_on_action(const kit_kind *k, kit_req *r, const kit_transition *t,
    json_t *rec, json_t *ev, kit_err *e)
{
	prison     *p    = k->ud;
	const char *cell = kit_str(r->body, "cell");

	if (strcmp(t->action, "move") == 0
	    || strcmp(t->action, "receive") == 0) {
		if (cell == NULL) {
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    "prison.prisoner.%s: \"cell\" is missing",
			    t->action);
			return -1;
		}
		if (check_cell(p, cell, e) != 0)
			return -1;
		json_object_set_new(ev, "from_cell",
		    json_string(
		        kit_str(rec, "cell") ? kit_str(rec, "cell") : ""));
		json_object_set_new(ev, "cell", json_string(cell));
		json_object_set_new(rec, "cell", json_string(cell));
		json_object_set_new(rec, "location", json_string(cell));
	}
	return 0;
}

/* ---- visits ---------------------------------------------------------- */

static const char *const visit_types[] = { "SOCIAL", "LEGAL", "VIDEO", NULL };
static const char *const visit_outcomes[] = { "ATTENDED", "VISITOR_NO_SHOW",
	"PRISONER_REFUSED", "TERMINATED_EARLY", NULL };

/* prison.visit.request {"prisoner_id","type","visitor":{...},"slot_ms"} */
static void
visit_request_fn(const kit_kind *k, kit_req *r)
{
	prison     *p    = k->ud;
	const char *pid  = kit_str(r->body, "prisoner_id");
	const char *type = kit_str(r->body, "type");
	json_t     *pr;
	json_t     *fields;
	char        msg[256];

	if (pid == NULL || !in_list(visit_types, type)
	    || !json_is_object(json_object_get(r->body, "visitor"))) {
		refuse(r, "visit", KIT_E_BAD_REQUEST,
		    "prison.visit.request: \"prisoner_id\", \"type\" (SOCIAL, "
		    "LEGAL, VIDEO) and \"visitor\" ({\"name\",...}) are "
		    "required");
		return;
	}
	pr = kit_store_load(&p->c.store, "prisoner", pid);
	if (pr == NULL || strcmp(kit_str(pr, "state"), "IN") != 0) {
		snprintf(msg, sizeof(msg), "prisoner %s is %s", pid,
		    pr ? kit_str(pr, "state") : "unknown");
		json_decref(pr);
		refuse(r, "visit", pr ? KIT_E_INVALID_STATE : KIT_E_NOT_FOUND,
		    msg);
		return;
	}
	json_decref(pr);
	fields = json_object();
	copy_keys(fields, r->body,
	    (const char *const[]) { "prisoner_id", "type", "visitor",
	        "slot_ms", "legal_aid_id", NULL });
	json_object_set_new(fields, "owner", json_string(pid));
	kit_create_reply(k, r, fields,
	    json_pack("{s:s,s:s}", "prisoner_id", pid, "type", type));
}

static int
visit_on_action(const kit_kind *k, kit_req *r, const kit_transition *t,
    json_t *rec, json_t *ev, kit_err *e)
{
	(void) k;
	if (strcmp(t->action, "book") == 0) {
		int64_t slot
		    = kit_int(r->body, "slot_ms", kit_int(rec, "slot_ms", 0));
		if (slot <= 0) {
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    "prison.visit.book: \"slot_ms\" (when) is "
			    "missing");
			return -1;
		}
		json_object_set_new(rec, "slot_ms", json_integer(slot));
		json_object_set_new(ev, "slot_ms", json_integer(slot));
	} else if (strcmp(t->action, "complete") == 0) {
		const char *o = kit_str(r->body, "outcome");
		if (!in_list(visit_outcomes, o)) {
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    "prison.visit.complete: \"outcome\" must be "
			    "ATTENDED, VISITOR_NO_SHOW, PRISONER_REFUSED or "
			    "TERMINATED_EARLY");
			return -1;
		}
		json_object_set_new(rec, "outcome", json_string(o));
		json_object_set_new(ev, "outcome", json_string(o));
	}
	json_object_set_new(
	    ev, "prisoner_id", json_string(kit_str(rec, "prisoner_id")));
	json_object_set_new(ev, "type", json_string(kit_str(rec, "type")));
	return 0;
}

/* ---- kiosk ------------------------------------------------------------ */

/* prison.kiosk.legal-aid {"prisoner_id","matter"}: published as
 * prison.kiosk.legal-aid-requested for legal services, who must receive
 * it within kiosk_forward_h hours. */
static void
kiosk_fn(const kit_kind *k, kit_req *r)
{
	prison     *p   = k->ud;
	const char *pid = kit_str(r->body, "prisoner_id");
	json_t     *pr;
	json_t     *fields;
	int64_t     by;

	if (pid == NULL || kit_str(r->body, "matter") == NULL) {
		refuse(r, "kiosk", KIT_E_BAD_REQUEST,
		    "prison.kiosk.legal-aid: \"prisoner_id\" and \"matter\" "
		    "are required");
		return;
	}
	pr = kit_store_load(&p->c.store, "prisoner", pid);
	if (pr == NULL) {
		char msg[128];
		snprintf(msg, sizeof(msg), "no prisoner with id %s", pid);
		refuse(r, "kiosk", KIT_E_NOT_FOUND, msg);
		return;
	}
	json_decref(pr);
	by     = r->now_ms + p->kiosk_forward_h * 3600 * 1000;
	fields = json_object();
	copy_keys(fields, r->body,
	    (const char *const[]) {
	        "prisoner_id", "matter", "language", NULL });
	json_object_set_new(fields, "owner", json_string(pid));
	json_object_set_new(fields, "forward_by_ms", json_integer(by));
	kit_create_reply(k, r, fields,
	    json_pack("{s:s,s:s,s:s,s:I}", "prisoner_id", pid, "matter",
	        kit_str(r->body, "matter"), "applicant_type", "INMATE",
	        "forward_by_ms", (json_int_t) by));
}

int
prison_records_serve(prison *p)
{
	struct {
		const char *topic;
		int         kind;
		kit_req_fn  fn;
	} creates[] = {
		{ "prison.incident.draft", PK_INCIDENT, incident_draft_fn },
		{ "prison.location.create", PK_LOCATION, location_create_fn },
		{ "prison.prisoner.admit", PK_PRISONER, prisoner_admit_fn },
		{ "prison.visit.request", PK_VISIT, visit_request_fn },
		{ "prison.kiosk.legal-aid", PK_KIOSK, kiosk_fn },
	};
	int rc;

	p->kinds[PK_INCIDENT].on_action = incident_on_action;
	p->kinds[PK_LOCATION].on_action = location_on_action;
	p->kinds[PK_LOCATION].on_get    = location_on_get;
	p->kinds[PK_PRISONER].on_action = prisoner_on_action;
	p->kinds[PK_VISIT].on_action    = visit_on_action;
	for (int i = PK_INCIDENT; i < PK_N; i++)
		if ((rc = kit_serve_kind(&p->c, &p->kinds[i])) != XZ_OK)
			return rc;
	for (size_t i = 0; i < sizeof(creates) / sizeof(creates[0]); i++) {
		rc = kit_serve(&p->c, creates[i].topic,
		    &p->kinds[creates[i].kind], creates[i].fn, 1);
		if (rc != XZ_OK)
			return rc;
	}
	return XZ_OK;
}
