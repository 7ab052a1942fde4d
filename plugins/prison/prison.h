/*
 * prison.h - the smart-prison (智慧监狱) command center plugin: the
 * location tree 监狱 → 监区 → 分监区 → 监舍 (layout.c), the register of
 * sentenced prisoners (罪犯) with 分级处遇 and 重点罪犯, alarms with
 * per-level clocks and the escalation chain up to the provincial bureau,
 * roll calls (清点), incident reports, visits (会见), kiosk legal-aid
 * requests. Every request goes through api.c: a declared schema (strict
 * types), the role table (who may), then the handler; every message for
 * people comes from the catalog in msg_zh.c (简体中文 or English by LANG).
 */
#ifndef XZ_PRISON_H
#define XZ_PRISON_H

#include <xiezhi/i18n.h>

#include "kit.h"
#include "schema.h"

enum prison_kind_id {
	PK_ALARM,
	PK_ROLLCALL,
	PK_INCIDENT,
	PK_VISIT,
	PK_PRISONER,
	PK_LOCATION,
	PK_KIOSK,
	PK_ROSTER,
	PK_HANDOVER,
	PK_REPORT,
	PK_N
};

/* The state machines (prison_fsm.c). */
extern const kit_fsm prison_alarm_fsm;
extern const kit_fsm prison_rollcall_fsm;
extern const kit_fsm prison_incident_fsm;
extern const kit_fsm prison_visit_fsm;
extern const kit_fsm prison_prisoner_fsm;
extern const kit_fsm prison_location_fsm;
extern const kit_fsm prison_kiosk_fsm;
extern const kit_fsm prison_roster_fsm;
extern const kit_fsm prison_handover_fsm;
extern const kit_fsm prison_report_fsm;

/* The message catalog (msg_zh.c): PT("English") is the text in the
 * node's language. */
extern const xz_tr prison_zh[];
#define PT(en) XZ_TR(prison_zh, en)
/* The 中文 label of a state, kind or role id ("RAISED" -> "待确认"), or
 * the id itself. */
const char *prison_label(const char *id);
/* The 中文 label of a role id (the id itself under an English LANG). */
const char *prison_role_label(const char *role);

typedef struct sla_slot sla_slot;

#define PRISON_MAX_LIST 16
#define PRISON_MAX_SHIFTS 8

/* One shift of the duty roster (option shifts): its name and local
 * minutes of the day; to < from runs past midnight. */
typedef struct prison_shift {
	const char *name;
	int         from, to;
} prison_shift;

typedef struct prison {
	kit_ctx     c;
	kit_kind    kinds[PK_N];
	int64_t     ack_sla_s[4]; /* by level 1..3 */
	int64_t     dispatch_sla_s[4]; /* by level 1..3 */
	int64_t     chain_s[4]; /* escalation chain clocks, by step 1..3 */
	int64_t     rollcall_alarm_level;
	int         incident_auto_draft;
	int64_t     kiosk_forward_h;
	const char *agency; /* this prison's agency id (option agency) */
	const char *bureau_agency; /* the provincial bureau's */
	/* 分级处遇 levels (option treatment_levels), owned strings */
	char       *treatment_buf;
	const char *treatment[PRISON_MAX_LIST + 1];
	int64_t     tz_offset_min; /* local time (Beijing: 480) */
	/* the duty roster's shifts (option shifts), names in shift_buf
	 * (owned) */
	char        *shift_buf;
	prison_shift shifts[PRISON_MAX_SHIFTS];
	int          nshifts;
	int64_t      handover_accept_s;
	int64_t      report_at_min; /* daily_report_at, minutes */
	int64_t      report_ack_s;
	int64_t      report_notable_level;
	/* armed SLA timers, one per open alarm, by alarm id (alarm.c): a
	 * table of slot_cap chains (a power of two; malloc'd, owned, with the
	 * slots: prison_alarm_disarm_all frees them) */
	sla_slot **slots;
	size_t     slot_cap, nslots;
	uint64_t   sweep_timer; /* statutory clocks (kiosk forwarding) */
} prison;

/* api.c: serve every request topic of the plugin. */
int prison_api_serve(prison *p);
/* Reply with an error (code, formatted message) and audit the refusal. */
void prison_refuse(kit_req *r, const char *subject_type, kit_code code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Is value in the NULL-terminated list? */
int prison_in_list(const char *const *list, const char *s);
/* "YYYY-MM-DD" a real date: days since 1970 in *out; else -1. */
int prison_parse_date(const char *s, int64_t *out);
/* The date of a day number, "YYYY-MM-DD" (duty.c). */
void prison_format_day(int64_t day, char out[11]);
/* Does the location exist (a registered location)? Writes its record
 * into *out when out is not NULL: a reference the caller releases and
 * only reads (kit_store_peek: it may be the store's kept copy). */
int prison_location_known(prison *p, const char *id, json_t **out);

/* The value lists the schemas and the handlers share. */
extern const char *const prison_alarm_kinds[];
extern const char *const prison_alarm_sources[];
extern const char *const prison_location_types[];
extern const char *const prison_zone_kinds[];
extern const char *const prison_crime_categories[];
extern const char *const prison_sentence_types[];
extern const char *const prison_risk_grades[];
extern const char *const prison_risk_reasons[];
extern const char *const prison_visit_types[];
extern const char *const prison_visit_outcomes[];
extern const char *const prison_evidence_kinds[];
extern const char *const prison_deactivation_reasons[];
extern const char *const prison_incident_prisoner_roles[];
extern const char *const prison_incident_staff_roles[];

/* Request handlers (api.c routes to them after schema and role checks). */
void prison_alarm_raise_fn(const kit_kind *k, kit_req *r);
void prison_alarm_stats_fn(const kit_kind *k, kit_req *r);
void prison_rollcall_schedule_fn(const kit_kind *k, kit_req *r);
void prison_rollcall_submit_fn(const kit_kind *k, kit_req *r);
void prison_incident_draft_fn(const kit_kind *k, kit_req *r);
void prison_location_create_fn(const kit_kind *k, kit_req *r);
void prison_prisoner_admit_fn(const kit_kind *k, kit_req *r);
void prison_visit_request_fn(const kit_kind *k, kit_req *r);
void prison_kiosk_fn(const kit_kind *k, kit_req *r);
void prison_roster_set_fn(const kit_kind *k, kit_req *r);
void prison_roster_current_fn(const kit_kind *k, kit_req *r);
void prison_handover_open_fn(const kit_kind *k, kit_req *r);
void prison_report_generate_fn(const kit_kind *k, kit_req *r);

/* duty.c: the duty roster, shift handovers and the reports to the
 * bureau, with their clocks. */
int  prison_shifts_init(prison *p); /* option shifts; -1 logged */
void prison_duty_hooks(prison *p);
/* At start: schedule the next daily report and arm the clocks. */
int prison_duty_start(prison *p);
/* Arm the clock timer for the earliest pending clock. */
void prison_duty_arm(prison *p);

/* legalvisit.c: a LEGAL visit the legal plugin (or a lawyer) requests
 * is checked against the legal plugin's directory and the case's
 * assignment letter, then approved and booked, or rejected. */
void prison_legal_visit_check(prison *p, const char *visit_id);

/* alarm.c */
void prison_alarm_hooks(prison *p);
/* Inside a transaction: raise an alarm from fields (stolen). Returns the
 * record (caller owns it) or NULL with e set. Arm it after commit. */
json_t *prison_alarm_raise_tx(
    prison *p, kit_req *r, json_t *fields, kit_err *e);
/* Arm (or re-arm, or disarm when due_ms is 0) the SLA timer of an alarm. */
void prison_alarm_arm(prison *p, const char *id, int64_t due_ms);
/* Re-arm the SLA timers of every open alarm from the store (start). */
int  prison_alarm_reload(prison *p);
void prison_alarm_disarm_all(prison *p);

/* rollcall.c */
void prison_rollcall_hooks(prison *p);

/* records.c: incidents, visits, prisoners, locations, kiosk */
void prison_records_hooks(prison *p);
/* Inside a transaction: draft an incident report from an alarm record. */
json_t *prison_incident_from_alarm_tx(
    prison *p, kit_req *r, json_t *alarm, kit_err *e);
/* Inside a transaction: the alarm was resolved again: its incident
 * report takes the new outcome (and a closed report is reopened). */
int prison_incident_alarm_resolved_tx(
    prison *p, kit_req *r, json_t *alarm, kit_err *e);

/* layout.c: the registered locations from the layout data (a libconfig
 * file, option layout_file, or the built-in default); made present in
 * the store at start. -1 with a FILE:LINE message logged on bad data. */
int prison_layout_load(prison *p);
/* The demo register: prisoners in the layout's cells (seed_demo_data). */
int prison_seed_prisoners(prison *p);

#endif
