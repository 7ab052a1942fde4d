/*
 * prison_fsm.c - the prison's state machines as transition tables
 * (docs/scenarios.md). Rows whose from equals to change data, not state.
 */
#include "prison.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Alarm (the command center): RAISED → ACKNOWLEDGED → DISPATCHED →
 * ON_SCENE → HANDLING → RESOLVED → CLOSED; FALSE_ALARM from RAISED or
 * ACKNOWLEDGED; REOPENED from RESOLVED. An acknowledged alarm may be
 * resolved without dispatch (handled over the intercom or on video). */
static const kit_transition alarm_rows[] = {
	{ "acknowledge", "RAISED", "ACKNOWLEDGED", "acknowledged" },
	{ "acknowledge", "REOPENED", "ACKNOWLEDGED", "acknowledged" },
	{ "dispatch", "ACKNOWLEDGED", "DISPATCHED", "dispatched" },
	{ "arrive", "DISPATCHED", "ON_SCENE", "arrived" },
	{ "handle", "ON_SCENE", "HANDLING", "handling-started" },
	{ "resolve", "ACKNOWLEDGED", "RESOLVED", "resolved" },
	{ "resolve", "DISPATCHED", "RESOLVED", "resolved" },
	{ "resolve", "ON_SCENE", "RESOLVED", "resolved" },
	{ "resolve", "HANDLING", "RESOLVED", "resolved" },
	{ "dismiss", "RAISED", "FALSE_ALARM", "dismissed" },
	{ "dismiss", "ACKNOWLEDGED", "FALSE_ALARM", "dismissed" },
	{ "close", "RESOLVED", "CLOSED", "closed" },
	{ "reopen", "RESOLVED", "REOPENED", "reopened" },
	{ "escalate", "RAISED", "RAISED", "escalated" },
	{ "escalate", "ACKNOWLEDGED", "ACKNOWLEDGED", "escalated" },
	{ "escalate", "DISPATCHED", "DISPATCHED", "escalated" },
	{ "escalate", "ON_SCENE", "ON_SCENE", "escalated" },
	{ "escalate", "HANDLING", "HANDLING", "escalated" },
	{ "escalate", "REOPENED", "REOPENED", "escalated" },
	{ "attach-evidence", "RAISED", "RAISED", "evidence-attached" },
	{ "attach-evidence", "ACKNOWLEDGED", "ACKNOWLEDGED",
	    "evidence-attached" },
	{ "attach-evidence", "DISPATCHED", "DISPATCHED", "evidence-attached" },
	{ "attach-evidence", "ON_SCENE", "ON_SCENE", "evidence-attached" },
	{ "attach-evidence", "HANDLING", "HANDLING", "evidence-attached" },
	{ "attach-evidence", "RESOLVED", "RESOLVED", "evidence-attached" },
	{ "attach-evidence", "REOPENED", "REOPENED", "evidence-attached" },
};
static const char *const alarm_terminal[] = { "CLOSED", "FALSE_ALARM", NULL };
const kit_fsm            prison_alarm_fsm
    = { "alarm", "RAISED", alarm_rows, N(alarm_rows), alarm_terminal };

/* Roll call: SCHEDULED → IN_PROGRESS → RECONCILED or DISCREPANCY; a
 * discrepancy is reconciled after a recount. */
static const kit_transition rollcall_rows[] = {
	{ "start", "SCHEDULED", "IN_PROGRESS", "started" },
	{ "reconcile", "IN_PROGRESS", "RECONCILED", "reconciled" },
	{ "flag", "IN_PROGRESS", "DISCREPANCY", "discrepancy-found" },
	{ "reconcile", "DISCREPANCY", "RECONCILED", "reconciled" },
};
static const char *const rollcall_terminal[] = { "RECONCILED", NULL };
const kit_fsm prison_rollcall_fsm = { "rollcall", "SCHEDULED", rollcall_rows,
	N(rollcall_rows), rollcall_terminal };

/* Incident report: DRAFT → AWAITING_REVIEW → NEEDS_UPDATING ⇄ UPDATED →
 * CLOSED; DUPLICATE, NOT_REPORTABLE; REOPENED from CLOSED. */
static const kit_transition incident_rows[] = {
	{ "update", "DRAFT", "DRAFT", "updated" },
	{ "submit", "DRAFT", "AWAITING_REVIEW", "submitted" },
	{ "request-changes", "AWAITING_REVIEW", "NEEDS_UPDATING",
	    "changes-requested" },
	{ "update", "NEEDS_UPDATING", "UPDATED", "updated" },
	{ "request-changes", "UPDATED", "NEEDS_UPDATING",
	    "changes-requested" },
	{ "close", "AWAITING_REVIEW", "CLOSED", "closed" },
	{ "close", "UPDATED", "CLOSED", "closed" },
	{ "mark-duplicate", "DRAFT", "DUPLICATE", "marked-duplicate" },
	{ "mark-duplicate", "AWAITING_REVIEW", "DUPLICATE",
	    "marked-duplicate" },
	{ "mark-not-reportable", "DRAFT", "NOT_REPORTABLE",
	    "marked-not-reportable" },
	{ "mark-not-reportable", "AWAITING_REVIEW", "NOT_REPORTABLE",
	    "marked-not-reportable" },
	{ "reopen", "CLOSED", "REOPENED", "reopened" },
	{ "update", "REOPENED", "UPDATED", "updated" },
	{ "close", "REOPENED", "CLOSED", "closed" },
};
static const char *const incident_terminal[]
    = { "DUPLICATE", "NOT_REPORTABLE", NULL };
const kit_fsm prison_incident_fsm = { "incident", "DRAFT", incident_rows,
	N(incident_rows), incident_terminal };

/* Visit: REQUESTED → APPROVED / REJECTED → BOOKED → COMPLETED / CANCELLED. */
static const kit_transition visit_rows[] = {
	{ "approve", "REQUESTED", "APPROVED", "approved" },
	{ "reject", "REQUESTED", "REJECTED", "rejected" },
	{ "book", "APPROVED", "BOOKED", "booked" },
	{ "complete", "BOOKED", "COMPLETED", "completed" },
	{ "cancel", "REQUESTED", "CANCELLED", "cancelled" },
	{ "cancel", "APPROVED", "CANCELLED", "cancelled" },
	{ "cancel", "BOOKED", "CANCELLED", "cancelled" },
};
static const char *const visit_terminal[]
    = { "REJECTED", "COMPLETED", "CANCELLED", NULL };
const kit_fsm prison_visit_fsm
    = { "visit", "REQUESTED", visit_rows, N(visit_rows), visit_terminal };

/* Prisoner (罪犯): the legal status is the state. A 监狱 holds sentenced
 * offenders only (监狱法 art. 2); remand is a 看守所's. SERVING (服刑) →
 * RELEASED (刑满释放, art. 35), PAROLED (假释, art. 32: by the court's
 * ruling), TEMP_OUTSIDE (暂予监外执行, arts. 25-28: by the decision),
 * TRANSFERRED (调出); a paroled or outside prisoner may be readmitted
 * (收监, arts. 28 and 33). Moves, 分级处遇 and the 重点罪犯 flag change
 * data, not state. */
static const kit_transition prisoner_rows[] = {
	{ "move", "SERVING", "SERVING", "moved" },
	{ "grade", "SERVING", "SERVING", "graded" },
	{ "mark-key", "SERVING", "SERVING", "marked-key" },
	{ "clear-key", "SERVING", "SERVING", "key-cleared" },
	{ "release", "SERVING", "RELEASED", "released" },
	{ "parole", "SERVING", "PAROLED", "paroled" },
	{ "execute-outside", "SERVING", "TEMP_OUTSIDE", "executed-outside" },
	{ "transfer", "SERVING", "TRANSFERRED", "transferred" },
	{ "readmit", "PAROLED", "SERVING", "readmitted" },
	{ "readmit", "TEMP_OUTSIDE", "SERVING", "readmitted" },
	{ "release", "TEMP_OUTSIDE", "RELEASED", "released" },
};
static const char *const prisoner_terminal[]
    = { "RELEASED", "TRANSFERRED", NULL };
const kit_fsm prison_prisoner_fsm = { "prisoner", "SERVING", prisoner_rows,
	N(prisoner_rows), prisoner_terminal };

/* Location status: ACTIVE, INACTIVE (with a deactivation reason). */
static const kit_transition location_rows[] = {
	{ "deactivate", "ACTIVE", "INACTIVE", "deactivated" },
	{ "reactivate", "INACTIVE", "ACTIVE", "reactivated" },
};
const kit_fsm prison_location_fsm
    = { "location", "ACTIVE", location_rows, N(location_rows), NULL };

/* Kiosk legal-aid request: SUBMITTED until legal services forward it. */
static const kit_transition kiosk_rows[] = {
	{ "forward", "SUBMITTED", "FORWARDED", "forwarded" },
};
static const char *const kiosk_terminal[] = { "FORWARDED", NULL };
const kit_fsm            prison_kiosk_fsm
    = { "kiosk", "SUBMITTED", kiosk_rows, N(kiosk_rows), kiosk_terminal };

/* Duty roster entry (值班表, one per day and shift): SET, changed in
 * place. */
static const kit_transition roster_rows[] = {
	{ "set", "SET", "SET", "changed" },
};
const kit_fsm prison_roster_fsm
    = { "roster", "SET", roster_rows, N(roster_rows), NULL };

/* Shift handover (交接班): OPEN → ACCEPTED by the incoming duty officer;
 * not accepted in time: ESCALATED (the duty leader, then the prison's
 * leadership, each told once), still to be accepted. */
static const kit_transition handover_rows[] = {
	{ "accept", "OPEN", "ACCEPTED", "accepted" },
	{ "escalate", "OPEN", "ESCALATED", "escalated" },
	{ "escalate", "ESCALATED", "ESCALATED", "escalated" },
	{ "accept", "ESCALATED", "ACCEPTED", "accepted" },
};
static const char *const handover_terminal[] = { "ACCEPTED", NULL };
const kit_fsm prison_handover_fsm = { "handover", "OPEN", handover_rows,
	N(handover_rows), handover_terminal };

/* Report to the bureau (日报 / 零报告): SENT → ACKNOWLEDGED by the
 * bureau; not acknowledged in time: OVERDUE (sent again, the prison's
 * leaders told, each time its clock lapses) until acknowledged. */
static const kit_transition report_rows[] = {
	{ "ack", "SENT", "ACKNOWLEDGED", "acknowledged" },
	{ "escalate", "SENT", "OVERDUE", "overdue" },
	{ "escalate", "OVERDUE", "OVERDUE", "overdue" },
	{ "ack", "OVERDUE", "ACKNOWLEDGED", "acknowledged" },
};
static const char *const report_terminal[] = { "ACKNOWLEDGED", NULL };
const kit_fsm            prison_report_fsm
    = { "report", "SENT", report_rows, N(report_rows), report_terminal };
