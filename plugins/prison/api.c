/*
 * api.c - every request topic of the prison plugin, as one table: the
 * declared schema of its fields (schema.h: a wrong type, a fraction, an
 * object or an unknown key is bad_request naming the field), the roles
 * that may call it (forbidden names the roles needed), and the handler.
 * A person acts for their own agency only: the prison's staff for this
 * prison (option agency), the provincial bureau for the bureau.
 *
 * Who acts comes from the kernel (host->caller, SDK 1.3) through
 * kit_req_parse: a person in the roles the kernel gives them; the node, a
 * plugin or the administrator's tools may relay for the person named in
 * the payload's actor. A plugin or an operator script itself (role
 * plugin or SYSTEM, or a user named plugin:* / script:*) may call the
 * rows that list "plugin".
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "prison.h"

/* ---- schemas --------------------------------------------------------------
 */

#define ID KIT_FIELD_STR("id", 1, 1, 64)
#define LOC(n, req) KIT_FIELD_STR(n, req, 1, 128)
#define TEXT(n, req) KIT_FIELD_STR(n, req, 1, 2000)
#define MS(n, req) KIT_FIELD_INT(n, req, 0, INT64_C(253402300799999))

static const kit_field f_id[] = { ID, KIT_FIELD_END };
static const kit_field f_get[]
    = { ID, KIT_FIELD_BOOL("history", 0), KIT_FIELD_END };
static const kit_field f_list[] = { KIT_FIELD_STR("state", 0, 1, 64),
	LOC("location", 0), KIT_FIELD_STR("owner", 0, 1, 64),
	KIT_FIELD_INT("limit", 0, 1, 100000),
	KIT_FIELD_INT("offset", 0, 0, INT64_C(1) << 40), KIT_FIELD_END };
static const kit_field f_none[] = { KIT_FIELD_END };

static const kit_field f_str_item[] = { KIT_FIELD_STR(NULL, 1, 1, 128) };

/* alarms */
static const kit_field f_alarm_raise[] = {
	KIT_FIELD_ENUM("kind", 1, prison_alarm_kinds),
	KIT_FIELD_INT("level", 0, 1, 3),
	LOC("location", 1),
	KIT_FIELD_ENUM("source", 0, prison_alarm_sources),
	TEXT("description", 0),
	KIT_FIELD_STR("device", 0, 1, 128),
	KIT_FIELD_ARR("prisoners", 0, 0, 100, f_str_item),
	KIT_FIELD_END,
};
static const kit_field f_alarm_ack[] = { ID, TEXT("note", 0), KIT_FIELD_END };
static const kit_field f_alarm_dispatch[]
    = { ID, KIT_FIELD_STR("unit", 1, 1, 128), KIT_FIELD_END };
static const kit_field f_alarm_resolve[]
    = { ID, TEXT("outcome", 1), KIT_FIELD_END };
static const kit_field f_alarm_dismiss[]
    = { ID, TEXT("outcome", 0), KIT_FIELD_END };
static const kit_field f_alarm_escalate[]
    = { ID, KIT_FIELD_INT("level", 0, 1, 3), KIT_FIELD_END };
static const kit_field f_evidence[] = {
	KIT_FIELD_ENUM("kind", 1, prison_evidence_kinds),
	KIT_FIELD_STR("ref", 1, 1, 256),
	KIT_FIELD_STR("sha256", 0, 64, 64),
	KIT_FIELD_END,
};
static const kit_field f_alarm_evidence[]
    = { ID, KIT_FIELD_OBJ("evidence", 1, f_evidence), KIT_FIELD_END };

/* roll calls */
static const kit_field f_count[] = {
	LOC("location", 1),
	KIT_FIELD_INT("expected", 0, 0, 100000),
	KIT_FIELD_INT("counted", 1, 0, 100000),
	KIT_FIELD_INT("out", 0, 0, 100000),
	KIT_FIELD_INT("elsewhere", 0, 0, 100000),
	KIT_FIELD_END,
};
static const kit_field f_count_item[] = { KIT_FIELD_OBJ(NULL, 1, f_count) };
static const kit_field f_rc_schedule[]
    = { LOC("location", 1), MS("at_ms", 0), KIT_FIELD_END };
static const kit_field f_rc_submit[]
    = { ID, KIT_FIELD_ARR("counts", 1, 1, 1000, f_count_item), KIT_FIELD_END };
static const kit_field f_rc_recount[]
    = { ID, KIT_FIELD_ARR("counts", 0, 1, 1000, f_count_item), KIT_FIELD_END };

/* incident reports */
static const kit_field f_person_p[] = { KIT_FIELD_STR("id", 1, 1, 64),
	KIT_FIELD_ENUM("role", 1, prison_incident_prisoner_roles),
	KIT_FIELD_END };
static const kit_field f_person_s[] = { KIT_FIELD_STR("id", 1, 1, 64),
	KIT_FIELD_ENUM("role", 1, prison_incident_staff_roles),
	KIT_FIELD_END };
static const kit_field f_person_p_item[]
    = { KIT_FIELD_OBJ(NULL, 1, f_person_p) };
static const kit_field f_person_s_item[]
    = { KIT_FIELD_OBJ(NULL, 1, f_person_s) };
static const kit_field f_text_item[]   = { KIT_FIELD_STR(NULL, 1, 1, 2000) };
static const kit_field f_inc_changes[] = {
	TEXT("description", 0),
	KIT_FIELD_ARR("prisoners", 0, 0, 100, f_person_p_item),
	KIT_FIELD_ARR("staff", 0, 0, 100, f_person_s_item),
	KIT_FIELD_ARR("outcomes", 0, 0, 100, f_text_item),
	KIT_FIELD_END,
};
static const kit_field f_inc_draft[] = {
	KIT_FIELD_STR("alarm_id", 0, 1, 64),
	KIT_FIELD_ENUM("type", 0, prison_alarm_kinds),
	LOC("location", 0),
	MS("occurred_ms", 0),
	TEXT("description", 0),
	KIT_FIELD_ARR("prisoners", 0, 0, 100, f_person_p_item),
	KIT_FIELD_ARR("staff", 0, 0, 100, f_person_s_item),
	KIT_FIELD_ARR("outcomes", 0, 0, 100, f_text_item),
	KIT_FIELD_END,
};
static const kit_field f_inc_update[]
    = { ID, KIT_FIELD_OBJ("changes", 1, f_inc_changes), KIT_FIELD_END };

/* locations */
static const kit_field f_loc_create[] = {
	KIT_FIELD_STR("id", 1, 1, 128),
	KIT_FIELD_ENUM("type", 1, prison_location_types),
	KIT_FIELD_STR("name", 0, 1, 128),
	KIT_FIELD_INT("capacity", 0, 0, 10000),
	KIT_FIELD_ENUM("zone", 0, prison_zone_kinds),
	KIT_FIELD_ARR("cameras", 0, 0, 64, f_str_item),
	KIT_FIELD_END,
};
static const kit_field f_loc_deactivate[] = { ID,
	KIT_FIELD_ENUM("deactivation_reason", 1, prison_deactivation_reasons),
	KIT_FIELD_END };

/* prisoners */
static const kit_field f_key[] = {
	KIT_FIELD_ENUM("risk", 1, prison_risk_grades),
	KIT_FIELD_ARR("reasons", 1, 1, 4,
	    ((const kit_field[]) {
	        KIT_FIELD_ENUM(NULL, 1, prison_risk_reasons) })),
	TEXT("note", 0),
	KIT_FIELD_END,
};
static const kit_field f_admit[] = {
	KIT_FIELD_STR("id", 1, 1, 32),
	KIT_FIELD_STR("name", 1, 1, 128),
	KIT_FIELD_IDCARD("id_number", 0),
	KIT_FIELD_ENUM("crime", 1, prison_crime_categories),
	KIT_FIELD_ENUM("sentence_type", 0, prison_sentence_types),
	KIT_FIELD_STR("sentence_start", 1, 10, 10),
	KIT_FIELD_STR("sentence_end", 0, 10, 10),
	KIT_FIELD_STR("treatment", 0, 1, 32),
	KIT_FIELD_OBJ("key", 0, f_key),
	LOC("cell", 1),
	KIT_FIELD_END,
};
static const kit_field f_move[] = { ID, LOC("cell", 1), KIT_FIELD_END };
static const kit_field f_grade[]
    = { ID, KIT_FIELD_STR("treatment", 1, 1, 32), KIT_FIELD_END };
static const kit_field f_mark_key[]
    = { ID, KIT_FIELD_ENUM("risk", 1, prison_risk_grades),
	      KIT_FIELD_ARR("reasons", 1, 1, 4,
	          ((const kit_field[]) {
	              KIT_FIELD_ENUM(NULL, 1, prison_risk_reasons) })),
	      TEXT("note", 0), KIT_FIELD_END };
static const kit_field f_parole[]
    = { ID, KIT_FIELD_STR("ruling", 1, 1, 128), KIT_FIELD_END };
static const kit_field f_outside[]
    = { ID, KIT_FIELD_STR("decision", 1, 1, 128), KIT_FIELD_END };
static const kit_field f_transfer[]
    = { ID, KIT_FIELD_STR("to_agency", 1, 1, 64), KIT_FIELD_END };

/* visits */
static const kit_field f_visitor[] = {
	KIT_FIELD_STR("name", 1, 1, 128),
	KIT_FIELD_STR("relation", 0, 1, 64),
	KIT_FIELD_IDCARD("id_number", 0),
	KIT_FIELD_STR("provider_id", 0, 1, 64),
	KIT_FIELD_STR("licence", 0, 1, 64),
	KIT_FIELD_STR("type", 0, 1, 64),
	KIT_FIELD_STR("firm", 0, 1, 128),
	KIT_FIELD_END,
};
static const kit_field f_visit_request[] = {
	KIT_FIELD_STR("prisoner_id", 1, 1, 32),
	KIT_FIELD_ENUM("type", 1, prison_visit_types),
	KIT_FIELD_OBJ("visitor", 1, f_visitor),
	MS("slot_ms", 0),
	KIT_FIELD_STR("legal_aid_id", 0, 1, 64),
	KIT_FIELD_STR("letter", 0, 1, 128),
	KIT_FIELD_END,
};
static const kit_field f_visit_book[]
    = { ID, MS("slot_ms", 0), KIT_FIELD_STR("room", 0, 1, 64), KIT_FIELD_END };
static const kit_field f_visit_complete[] = { ID,
	KIT_FIELD_ENUM("outcome", 1, prison_visit_outcomes), KIT_FIELD_END };

/* kiosk */
static const kit_field f_kiosk[] = {
	KIT_FIELD_STR("prisoner_id", 1, 1, 32),
	TEXT("matter", 1),
	KIT_FIELD_STR("language", 0, 1, 16),
	KIT_FIELD_END,
};

/* duty: roster, handover, reports to the bureau */
static const kit_field f_roster_set[] = {
	KIT_FIELD_STR("date", 1, 10, 10),
	KIT_FIELD_STR("shift", 1, 1, 32),
	KIT_FIELD_STR("officer", 1, 1, 64),
	KIT_FIELD_STR("officer_name", 0, 1, 128),
	KIT_FIELD_STR("leader", 1, 1, 64),
	KIT_FIELD_STR("leader_name", 0, 1, 128),
	KIT_FIELD_END,
};
static const kit_field f_ho_open[] = {
	TEXT("notes", 0),
	KIT_FIELD_STR("date", 0, 10, 10),
	KIT_FIELD_STR("shift", 0, 1, 32),
	KIT_FIELD_END,
};
static const kit_field f_note[] = { ID, TEXT("note", 0), KIT_FIELD_END };
static const kit_field f_rep_gen[]
    = { KIT_FIELD_STR("date", 0, 10, 10), KIT_FIELD_END };

/* ---- roles ----------------------------------------------------------------
 */

#define R(...) ((const char *const[]) { __VA_ARGS__, NULL })
#define READERS                                                               \
	R("command_duty", "duty_leader", "area_officer", "prison_admin",      \
	    "prison_leader", "prison_bureau", "auditor", "plugin")
#define REGISTER_READERS                                                      \
	R("command_duty", "duty_leader", "area_officer", "prison_admin",      \
	    "prison_leader", "auditor", "plugin")

#define DUTY_READERS                                                          \
	R("command_duty", "duty_leader", "prison_leader", "prison_admin",     \
	    "auditor", "plugin")
#define REPORT_READERS                                                        \
	R("duty_leader", "prison_leader", "prison_bureau", "prison_admin",    \
	    "auditor", "plugin")

typedef struct route {
	const char        *topic;
	int                kind;
	const kit_field   *schema;
	const char *const *roles;
	kit_req_fn         fn; /* NULL: get, list or the action of the topic */
} route;

static void get_fn(const kit_kind *k, kit_req *r);
static void list_fn(const kit_kind *k, kit_req *r);
static void action_fn(const kit_kind *k, kit_req *r);
static void schema_fn(const kit_kind *k, kit_req *r);

#define GET get_fn
#define LIST list_fn
#define ACT action_fn

static const route routes[] = {
	/* alarms (the command center) */
	{ "prison.alarm.raise", PK_ALARM, f_alarm_raise,
	    R("command_duty", "duty_leader", "area_officer", "sensor",
	        "plugin"),
	    prison_alarm_raise_fn },
	{ "prison.alarm.acknowledge", PK_ALARM, f_alarm_ack,
	    R("command_duty", "duty_leader"), ACT },
	{ "prison.alarm.dispatch", PK_ALARM, f_alarm_dispatch,
	    R("command_duty", "duty_leader"), ACT },
	{ "prison.alarm.arrive", PK_ALARM, f_id,
	    R("area_officer", "command_duty"), ACT },
	{ "prison.alarm.handle", PK_ALARM, f_id,
	    R("area_officer", "command_duty"), ACT },
	{ "prison.alarm.resolve", PK_ALARM, f_alarm_resolve,
	    R("command_duty", "duty_leader", "area_officer"), ACT },
	/* dismissing a level-3 alarm: the duty leader only (action_fn) */
	{ "prison.alarm.dismiss", PK_ALARM, f_alarm_dismiss,
	    R("command_duty", "duty_leader"), ACT },
	{ "prison.alarm.close", PK_ALARM, f_id, R("duty_leader"), ACT },
	{ "prison.alarm.reopen", PK_ALARM, f_id, R("duty_leader"), ACT },
	{ "prison.alarm.escalate", PK_ALARM, f_alarm_escalate,
	    R("command_duty", "duty_leader", "plugin"), ACT },
	{ "prison.alarm.attach-evidence", PK_ALARM, f_alarm_evidence,
	    R("command_duty", "duty_leader", "area_officer", "sensor"), ACT },
	{ "prison.alarm.get", PK_ALARM, f_get, READERS, GET },
	{ "prison.alarm.list", PK_ALARM, f_list, READERS, LIST },
	{ "prison.alarm.stats", PK_ALARM, f_none, READERS,
	    prison_alarm_stats_fn },
	/* roll calls */
	{ "prison.rollcall.schedule", PK_ROLLCALL, f_rc_schedule,
	    R("area_officer", "command_duty"), prison_rollcall_schedule_fn },
	{ "prison.rollcall.start", PK_ROLLCALL, f_id,
	    R("area_officer", "command_duty"), ACT },
	{ "prison.rollcall.submit", PK_ROLLCALL, f_rc_submit,
	    R("area_officer", "command_duty"), prison_rollcall_submit_fn },
	{ "prison.rollcall.flag", PK_ROLLCALL, f_rc_submit,
	    R("area_officer", "command_duty"), ACT },
	{ "prison.rollcall.reconcile", PK_ROLLCALL, f_rc_recount,
	    R("area_officer", "command_duty"), ACT },
	{ "prison.rollcall.get", PK_ROLLCALL, f_get, READERS, GET },
	{ "prison.rollcall.list", PK_ROLLCALL, f_list, READERS, LIST },
	/* incident reports (狱内事件) */
	{ "prison.incident.draft", PK_INCIDENT, f_inc_draft,
	    R("command_duty", "duty_leader", "area_officer"),
	    prison_incident_draft_fn },
	{ "prison.incident.update", PK_INCIDENT, f_inc_update,
	    R("command_duty", "duty_leader", "area_officer"), ACT },
	{ "prison.incident.submit", PK_INCIDENT, f_id,
	    R("command_duty", "duty_leader", "area_officer"), ACT },
	{ "prison.incident.request-changes", PK_INCIDENT, f_id,
	    R("duty_leader", "prison_leader"), ACT },
	{ "prison.incident.close", PK_INCIDENT, f_id,
	    R("duty_leader", "prison_leader"), ACT },
	{ "prison.incident.mark-duplicate", PK_INCIDENT, f_id,
	    R("duty_leader", "prison_leader"), ACT },
	{ "prison.incident.mark-not-reportable", PK_INCIDENT, f_id,
	    R("duty_leader", "prison_leader"), ACT },
	{ "prison.incident.reopen", PK_INCIDENT, f_id,
	    R("duty_leader", "prison_leader"), ACT },
	{ "prison.incident.get", PK_INCIDENT, f_get, READERS, GET },
	{ "prison.incident.list", PK_INCIDENT, f_list, READERS, LIST },
	/* the register of prisoners (罪犯) */
	{ "prison.prisoner.admit", PK_PRISONER, f_admit, R("prison_admin"),
	    prison_prisoner_admit_fn },
	{ "prison.prisoner.move", PK_PRISONER, f_move,
	    R("prison_admin", "area_officer"), ACT },
	{ "prison.prisoner.grade", PK_PRISONER, f_grade,
	    R("prison_admin", "prison_leader"), ACT },
	{ "prison.prisoner.mark-key", PK_PRISONER, f_mark_key,
	    R("prison_admin", "prison_leader"), ACT },
	{ "prison.prisoner.clear-key", PK_PRISONER, f_id,
	    R("prison_admin", "prison_leader"), ACT },
	{ "prison.prisoner.release", PK_PRISONER, f_id, R("prison_admin"),
	    ACT },
	{ "prison.prisoner.parole", PK_PRISONER, f_parole, R("prison_admin"),
	    ACT },
	{ "prison.prisoner.execute-outside", PK_PRISONER, f_outside,
	    R("prison_admin"), ACT },
	{ "prison.prisoner.readmit", PK_PRISONER, f_move, R("prison_admin"),
	    ACT },
	{ "prison.prisoner.transfer", PK_PRISONER, f_transfer,
	    R("prison_admin"), ACT },
	{ "prison.prisoner.get", PK_PRISONER, f_get, REGISTER_READERS, GET },
	{ "prison.prisoner.list", PK_PRISONER, f_list, REGISTER_READERS,
	    LIST },
	/* locations */
	{ "prison.location.create", PK_LOCATION, f_loc_create,
	    R("prison_admin", "admin"), prison_location_create_fn },
	{ "prison.location.deactivate", PK_LOCATION, f_loc_deactivate,
	    R("prison_admin", "admin"), ACT },
	{ "prison.location.reactivate", PK_LOCATION, f_id,
	    R("prison_admin", "admin"), ACT },
	{ "prison.location.get", PK_LOCATION, f_get, READERS, GET },
	{ "prison.location.list", PK_LOCATION, f_list, READERS, LIST },
	/* visits (会见) */
	{ "prison.visit.request", PK_VISIT, f_visit_request,
	    R("prison_admin", "lawyer", "plugin"), prison_visit_request_fn },
	/* a lawyer's visit: approved by the 狱政科, or by the prison's own
	 * check with the legal plugin (legalvisit.c), never by the requester
	 */
	{ "prison.visit.approve", PK_VISIT, f_id, R("prison_admin"), ACT },
	{ "prison.visit.reject", PK_VISIT, f_id, R("prison_admin"), ACT },
	{ "prison.visit.book", PK_VISIT, f_visit_book, R("prison_admin"),
	    ACT },
	{ "prison.visit.complete", PK_VISIT, f_visit_complete,
	    R("prison_admin", "area_officer"), ACT },
	{ "prison.visit.cancel", PK_VISIT, f_id,
	    R("prison_admin", "area_officer", "plugin"), ACT },
	{ "prison.visit.get", PK_VISIT, f_get,
	    R("prison_admin", "area_officer", "prison_leader", "auditor",
	        "plugin"),
	    GET },
	{ "prison.visit.list", PK_VISIT, f_list,
	    R("prison_admin", "area_officer", "prison_leader", "auditor",
	        "plugin"),
	    LIST },
	/* kiosk legal-aid requests */
	{ "prison.kiosk.legal-aid", PK_KIOSK, f_kiosk, R("kiosk"),
	    prison_kiosk_fn },
	{ "prison.kiosk.forward", PK_KIOSK, f_id,
	    R("plugin", "legal_reviewer", "hotline_operator"), ACT },
	{ "prison.kiosk.get", PK_KIOSK, f_get,
	    R("prison_admin", "auditor", "plugin", "legal_reviewer"), GET },
	{ "prison.kiosk.list", PK_KIOSK, f_list,
	    R("prison_admin", "auditor", "plugin", "legal_reviewer"), LIST },
	/* the duty roster (值班表) */
	{ "prison.roster.set", PK_ROSTER, f_roster_set,
	    R("prison_leader", "prison_admin"), prison_roster_set_fn },
	{ "prison.roster.current", PK_ROSTER, f_none, DUTY_READERS,
	    prison_roster_current_fn },
	{ "prison.roster.get", PK_ROSTER, f_get, DUTY_READERS, GET },
	{ "prison.roster.list", PK_ROSTER, f_list, DUTY_READERS, LIST },
	/* shift handover (交接班): the outgoing and the incoming duty
	 * officer (duty.c checks they are the roster's) */
	{ "prison.handover.open", PK_HANDOVER, f_ho_open, R("command_duty"),
	    prison_handover_open_fn },
	{ "prison.handover.accept", PK_HANDOVER, f_note, R("command_duty"),
	    ACT },
	{ "prison.handover.get", PK_HANDOVER, f_get, DUTY_READERS, GET },
	{ "prison.handover.list", PK_HANDOVER, f_list, DUTY_READERS, LIST },
	/* reports to the bureau (日报, 零报告) */
	{ "prison.report.generate", PK_REPORT, f_rep_gen,
	    R("duty_leader", "prison_leader"), prison_report_generate_fn },
	{ "prison.report.ack", PK_REPORT, f_note, R("prison_bureau"), ACT },
	{ "prison.report.get", PK_REPORT, f_get, REPORT_READERS, GET },
	{ "prison.report.list", PK_REPORT, f_list, REPORT_READERS, LIST },
	/* the schemas and roles themselves, for clients and tests */
	{ "prison.api.describe", PK_ALARM, f_none, NULL, schema_fn },
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* Roles whose holders act for the prison itself: their agency must be
 * this prison's. */
static const char *const prison_staff[]
    = { "command_duty", "duty_leader", "area_officer", "prison_admin",
	      "prison_leader", "kiosk", "sensor", NULL };

/* ---- helpers
 * ---------------------------------------------------------------- */

static const route *
find_route(const char *topic)
{
	for (size_t i = 0; i < NROUTES; i++)
		if (strcmp(routes[i].topic, topic) == 0)
			return &routes[i];
	return NULL;
}

/* The authenticated caller when the host says who it is (SDK 1.3), else
 * NULL. */
static const xz_caller *
caller_of(const kit_req *r)
{
	const xz_host *h = r->c->host;
	if (r->msg == NULL || !XZ_HAS_MEMBER(h, xz_host, caller))
		return NULL;
	return h->caller(r->c->self, r->msg);
}

static int
has_role(const xz_caller *who, const char *role)
{
	for (const char *const *ro = who ? who->roles : NULL; ro && *ro; ro++)
		if (strcmp(*ro, role) == 0)
			return 1;
	return 0;
}

/* A caller that relays for the person it names in the payload (the node,
 * a plugin, the administrator's tools: kit_req_adopt takes their
 * payload's actor). */
static int
relays(const xz_caller *who)
{
	return who == NULL || has_role(who, "plugin") || has_role(who, "node")
	    || has_role(who, "admin");
}

/* A plugin or an operator script acting (see the file comment). */
static int
is_plugin(const kit_req *r)
{
	const char *u = r->actor.user ? r->actor.user : "";
	return (r->actor.role && strcmp(r->actor.role, "SYSTEM") == 0)
	    || (r->actor.role && strcmp(r->actor.role, "plugin") == 0)
	    || strncmp(u, "plugin:", 7) == 0 || strncmp(u, "script:", 7) == 0;
}

/* Does the actor hold role (the kernel's word for a person, the relay's
 * for a relayed actor)? */
static int
acts_as(const kit_req *r, const char *role)
{
	const xz_caller *who = caller_of(r);
	if (!relays(who))
		return has_role(who, role);
	return r->actor.role && strcmp(r->actor.role, role) == 0;
}

/* The role the actor acts in for route rt: a person authenticated by the
 * kernel may hold several, and acts in the first one the route accepts;
 * a relayed actor in the role its relay states. */
static const char *
acting_role(const route *rt, const kit_req *r)
{
	const xz_caller *who = caller_of(r);

	if (!relays(who))
		for (const char *const *ro = who->roles; ro && *ro; ro++)
			if (prison_in_list(rt->roles, *ro))
				return *ro;
	return r->actor.role;
}

static void
join_roles(const char *const *roles, char *buf, size_t n, int zh)
{
	size_t off = 0;
	buf[0]     = '\0';
	for (; roles && *roles && off + 1 < n; roles++) {
		if (zh && strcmp(*roles, prison_role_label(*roles)) != 0)
			off += (size_t) snprintf(buf + off, n - off,
			    "%s%s（%s）", off ? "、" : "", *roles,
			    prison_role_label(*roles));
		else
			off += (size_t) snprintf(buf + off, n - off, "%s%s",
			    off ? (zh ? "、" : ", ") : "", *roles);
	}
}

/* 0 if the actor may call route rt; else -1 with e set (forbidden). */
static int
authorize(prison *p, const route *rt, kit_req *r, kit_err *e)
{
	const char *role = acting_role(rt, r);
	const char *ag   = r->actor.agency ? r->actor.agency : "";
	char        need[400];

	if (rt->roles == NULL || r->msg == NULL)
		return 0;
	if (is_plugin(r)) {
		if (prison_in_list(rt->roles, "plugin"))
			return 0;
	} else if (role && prison_in_list(rt->roles, role)) {
		if (prison_in_list(prison_staff, role)
		    && strcmp(ag, p->agency) != 0) {
			kit_err_set(e, KIT_E_FORBIDDEN,
			    PT("%s: %s acts for agency \"%s\", not for this "
			       "prison (%s): a person acts for their own "
			       "agency only"),
			    rt->topic, r->actor.user, ag, p->agency);
			return -1;
		}
		if (strcmp(role, "prison_bureau") == 0
		    && strcmp(ag, p->bureau_agency) != 0) {
			kit_err_set(e, KIT_E_FORBIDDEN,
			    PT("%s: %s acts for agency \"%s\", not for this "
			       "prison (%s): a person acts for their own "
			       "agency only"),
			    rt->topic, r->actor.user, ag, p->bureau_agency);
			return -1;
		}
		return 0;
	}
	join_roles(rt->roles, need, sizeof(need), xz_lang() == XZ_LANG_ZH);
	kit_err_set(e, KIT_E_FORBIDDEN,
	    PT("%s: role %s may not do this; it needs one of: %s"), rt->topic,
	    role ? role : "-", need);
	return -1;
}

/* ---- generic handlers --------------------------------------------------- */

static const char *
kind_label(const kit_kind *k)
{
	return prison_label(k->name);
}

static void
get_fn(const kit_kind *k, kit_req *r)
{
	const char *id = kit_str(r->body, "id");
	json_t     *rec;
	char        allowed[256];

	rec = kit_store_load(&r->c->store, k->name, id);
	if (rec == NULL) {
		prison_refuse(r, k->subject_type, KIT_E_NOT_FOUND,
		    PT("no %s with id %s"), kind_label(k), id);
		return;
	}
	if (!json_is_false(json_object_get(r->body, "history")))
		json_object_set_new(rec, "history",
		    kit_store_history(&r->c->store, k->name, id));
	kit_fsm_allowed(
	    k->fsm, kit_str(rec, "state"), allowed, sizeof(allowed));
	json_object_set_new(rec, "allowed", json_string(allowed));
	if (k->on_get)
		k->on_get(k, r, rec);
	if (k->personal)
		kit_audit(r, "VIEW", k->subject_type, id, "ok");
	kit_reply(r, rec);
}

static void
list_fn(const kit_kind *k, kit_req *r)
{
	int64_t limit  = kit_int(r->body, "limit", 50);
	int64_t offset = kit_int(r->body, "offset", 0);

	if (limit > r->c->list_max) {
		prison_refuse(r, k->subject_type, KIT_E_BAD_REQUEST,
		    PT("%s: \"limit\": expected an integer from 1 to %lld"),
		    r->msg->topic, (long long) r->c->list_max);
		return;
	}
	if (k->personal)
		kit_audit(r, "VIEW", k->subject_type, "list", "ok");
	kit_reply(r,
	    kit_store_list(&r->c->store, k->name, kit_str(r->body, "state"),
	        kit_str(r->body, "location"), kit_str(r->body, "owner"), limit,
	        offset));
}

/* The invalid-state refusal in the node's language: it names the state
 * and the actions allowed from it. */
static void
refuse_state(kit_req *r, const kit_kind *k, const char *id, const char *state,
    const char *action)
{
	char allowed[256];

	kit_fsm_allowed(k->fsm, state, allowed, sizeof(allowed));
	if (xz_lang() == XZ_LANG_ZH)
		prison_refuse(r, k->subject_type, KIT_E_INVALID_STATE,
		    "%s %s 处于“%s”（%s）状态：不允许执行 "
		    "%s（可执行的操作：%s）",
		    kind_label(k), id, prison_label(state), state, action,
		    strcmp(allowed, "none") == 0 ? "无" : allowed);
	else
		prison_refuse(r, k->subject_type, KIT_E_INVALID_STATE,
		    "%s %s is %s: %s is not allowed (allowed: %s)", k->name,
		    id, state, action, allowed);
}

/* The action of the topic (its last part) on record body.id. */
static void
action_fn(const kit_kind *k, kit_req *r)
{
	const char *action = strrchr(r->msg->topic, '.') + 1;
	const char *id     = kit_str(r->body, "id");
	json_t     *rec    = kit_store_load(&r->c->store, k->name, id);
	kit_err     e;

	if (rec == NULL) {
		prison_refuse(r, k->subject_type, KIT_E_NOT_FOUND,
		    PT("no %s with id %s"), kind_label(k), id);
		return;
	}
	if (kit_fsm_find(k->fsm, kit_str(rec, "state"), action) == NULL) {
		refuse_state(r, k, id, kit_str(rec, "state"), action);
		json_decref(rec);
		return;
	}
	/* dismissing a level-3 alarm is the duty leader's decision */
	if (strcmp(r->msg->topic, "prison.alarm.dismiss") == 0
	    && kit_int(rec, "level", 1) >= 3 && !acts_as(r, "duty_leader")) {
		prison_refuse(r, k->subject_type, KIT_E_FORBIDDEN,
		    PT("%s: alarm %s is at level 3: only the duty leader "
		       "(duty_leader) may dismiss it"),
		    r->msg->topic, id);
		json_decref(rec);
		return;
	}
	rec = kit_apply_loaded(k, r, rec, action, &e);
	if (rec == NULL) {
		kit_reply_err(r, &e, k->subject_type, id);
		return;
	}
	kit_reply_saved(r, rec);
}

static void
schema_fn(const kit_kind *k, kit_req *r)
{
	json_t *o = json_object();

	(void) k;
	for (size_t i = 0; i < NROUTES; i++) {
		json_t *roles = json_array();
		for (const char *const *ro = routes[i].roles; ro && *ro; ro++)
			json_array_append_new(roles, json_string(*ro));
		json_object_set_new(o, routes[i].topic,
		    json_pack("{s:o,s:o}", "fields",
		        kit_schema_describe(routes[i].schema), "roles",
		        roles));
	}
	kit_reply(r, o);
}

/* Every request: schema, then who, then the handler. */
static void
route_fn(const kit_kind *k, kit_req *r)
{
	prison      *p  = k->ud;
	const route *rt = find_route(r->msg->topic);
	char         err[512];
	kit_err      e;

	if (rt == NULL) { /* cannot happen: only routes are subscribed */
		prison_refuse(
		    r, NULL, KIT_E_INTERNAL, "no route for %s", r->msg->topic);
		return;
	}
	k = &p->kinds[rt->kind];
	if (kit_schema_check(rt->schema, r->body, rt->topic, err, sizeof(err))
	    != 0) {
		prison_refuse(
		    r, k->subject_type, KIT_E_BAD_REQUEST, "%s", err);
		return;
	}
	if (rt->roles && r->actor.user == NULL) {
		prison_refuse(r, k->subject_type, KIT_E_FORBIDDEN,
		    PT("%s: who acts is missing: give "
		       "\"actor\":{\"user\":..,\"role\":..,\"agency\":..}"),
		    rt->topic);
		return;
	}
	if (authorize(p, rt, r, &e) != 0) {
		kit_reply_err(r, &e, k->subject_type, kit_str(r->body, "id"));
		return;
	}
	rt->fn(k, r);
}

int
prison_api_serve(prison *p)
{
	for (size_t i = 0; i < NROUTES; i++) {
		int rc = kit_serve(&p->c, routes[i].topic,
		    &p->kinds[routes[i].kind], route_fn, 0);
		if (rc != XZ_OK)
			return rc;
	}
	return XZ_OK;
}
