/*
 * prison.h - the smart-prison command center plugin: prisoners and the
 * location tree, alarms with SLA timers and escalation, roll calls,
 * incident reports, visits, kiosk legal-aid requests.
 */
#ifndef XZ_PRISON_H
#define XZ_PRISON_H

#include "kit.h"

enum prison_kind_id {
	PK_ALARM,
	PK_ROLLCALL,
	PK_INCIDENT,
	PK_VISIT,
	PK_PRISONER,
	PK_LOCATION,
	PK_KIOSK,
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

typedef struct sla_slot sla_slot;

typedef struct prison {
	kit_ctx   c;
	kit_kind  kinds[PK_N];
	int64_t   ack_sla_s[4]; /* by level 1..3 */
	int64_t   dispatch_sla_s[4]; /* by level 1..3 */
	int64_t   rollcall_alarm_level;
	int       incident_auto_draft;
	int64_t   kiosk_forward_h;
	sla_slot *slots; /* armed SLA timers, one per open alarm */
	uint64_t  sweep_timer; /* statutory clocks (kiosk forwarding) */
} prison;

/* alarm.c */
int prison_alarm_serve(prison *p);
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
int prison_rollcall_serve(prison *p);

/* records.c: incidents, visits, prisoners, locations, kiosk */
int prison_records_serve(prison *p);
/* Inside a transaction: draft an incident report from an alarm record. */
json_t *prison_incident_from_alarm_tx(
    prison *p, kit_req *r, json_t *alarm, kit_err *e);

#endif
