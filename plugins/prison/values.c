/*
 * values.c - what the prison's files share below the request table: the
 * value lists of the schemas and handlers, and small helpers (refusals,
 * list membership, registered locations). It calls nothing of the other
 * files, so the plugin's objects link one way: api.c -> handlers ->
 * values.c.
 */
#include <stdarg.h>
#include <stdint.h>
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
	json_t *loc = id ? kit_store_peek(&p->c.store, "location", id) : NULL;
	if (out)
		*out = loc;
	else
		json_decref(loc);
	return loc != NULL;
}

/* "YYYY-MM-DD" a real date: days since 1970 in *out (prison.h). */
int
prison_parse_date(const char *s, int64_t *out)
{
	static const int md[]
	    = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;
	int n = 0;

	if (s == NULL || strlen(s) != 10
	    || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10
	    || y < 1900 || m < 1 || m > 12 || d < 1 || d > md[m - 1])
		return -1;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 || y % 400 == 0)))
		return -1;
	/* days from civil (Howard Hinnant) */
	y -= m <= 2;
	int64_t era = y / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	*out        = era * 146097 + doe - 719468;
	return 0;
}
