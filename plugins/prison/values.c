/*
 * values.c - what the prison's files share below the request table: the
 * value lists of the schemas and handlers, and small helpers (refusals,
 * list membership, registered locations). It calls nothing of the other
 * files, so the plugin's objects link one way: api.c -> handlers ->
 * values.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "prison.h"

/* ---- value lists -------------------------------------------------------- */

const char *const prison_alarm_kinds[] = { "PERIMETER", "FIGHT", "SELF_HARM",
	"FIRE", "MEDICAL", "DRONE", "ROLLCALL_DISCREPANCY", "ESCAPE",
	"CONTRABAND", "ASSAULT_ON_STAFF", "EQUIPMENT", NULL };
const char *const prison_alarm_sources[]
    = { "sensor", "staff", "video", "system", NULL };
const char *const prison_location_types[]
    = { "PRISON", "AREA", "SUBAREA", "CELL", "ZONE", NULL };
const char *const prison_zone_kinds[] = { "PERIMETER", "AB_DOOR", "WORKSHOP",
	"HOSPITAL", "VISIT_ROOM", "YARD", "CANTEEN", "GATE", NULL };
/* the ten chapters of the special part of the Criminal Law (刑法分则) */
const char *const prison_crime_categories[] = { "STATE_SECURITY",
	"PUBLIC_SECURITY", "ECONOMIC_ORDER", "PERSONAL_RIGHTS", "PROPERTY",
	"SOCIAL_ADMINISTRATION", "NATIONAL_DEFENCE", "CORRUPTION",
	"DERELICTION", "MILITARY_DUTY", NULL };
const char *const prison_sentence_types[]
    = { "FIXED_TERM", "LIFE", "DEATH_SUSPENDED", NULL };
const char *const prison_risk_grades[] = { "HIGH", "MEDIUM", "LOW", NULL };
const char *const prison_risk_reasons[]
    = { "ESCAPE", "VIOLENCE", "SELF_HARM", "OTHER", NULL };
const char *const prison_visit_types[] = { "FAMILY", "LEGAL", "VIDEO", NULL };
const char *const prison_visit_outcomes[] = { "ATTENDED", "VISITOR_NO_SHOW",
	"PRISONER_REFUSED", "TERMINATED_EARLY", NULL };
const char *const prison_evidence_kinds[]
    = { "VIDEO", "PHOTO", "AUDIO", "DOCUMENT", NULL };
const char *const prison_deactivation_reasons[]
    = { "DAMAGED", "SECURITY_SEALED", "STAFF_SHORTAGE", NULL };
const char *const prison_incident_prisoner_roles[] = { "ASSAILANT", "VICTIM",
	"PERPETRATOR", "INVOLVED", "WITNESS", "SUSPECTED", NULL };
const char *const prison_incident_staff_roles[]    = { "FIRST_ON_SCENE",
	   "ACTIONED", "INVOLVED", "WITNESS", "AUTHORISING", NULL };

int
prison_in_list(const char *const *list, const char *s)
{
	for (; s && list && *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

void
prison_refuse(
    kit_req *r, const char *subject_type, kit_code code, const char *fmt, ...)
{
	kit_err e;
	va_list ap;

	e.code = code;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	kit_reply_err(r, &e, subject_type, NULL);
}

int
prison_location_known(prison *p, const char *id, json_t **out)
{
	json_t *loc = id ? kit_store_load(&p->c.store, "location", id) : NULL;
	if (out)
		*out = loc;
	else
		json_decref(loc);
	return loc != NULL;
}
