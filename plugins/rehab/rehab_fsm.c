/* rehab_fsm.c - the rehabilitation centre's state machines
 * (docs/scenarios.md). */
#include "rehab.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A resident's state is the phase of the national unified model; the
 * gates (a passing assessment, the phase minimum) are in resident.c. */
static const kit_transition resident_rows[] = {
	{ "advance", "PHYSIOLOGICAL_DETOX", "EDUCATION_ADAPTATION",
	    "phase-advanced" },
	{ "advance", "EDUCATION_ADAPTATION", "REHABILITATION_CONSOLIDATION",
	    "phase-advanced" },
	{ "advance", "REHABILITATION_CONSOLIDATION", "RETURN_GUIDANCE",
	    "phase-advanced" },
	{ "release", "PHYSIOLOGICAL_DETOX", "RELEASED", "released" },
	{ "release", "EDUCATION_ADAPTATION", "RELEASED", "released" },
	{ "release", "REHABILITATION_CONSOLIDATION", "RELEASED", "released" },
	{ "release", "RETURN_GUIDANCE", "RELEASED", "released" },
	{ "issue-handbook", "PHYSIOLOGICAL_DETOX", "PHYSIOLOGICAL_DETOX",
	    "handbook-issued" },
};
static const char *const resident_terminal[] = { "RELEASED", NULL };
const kit_fsm rehab_resident_fsm = { "resident", "PHYSIOLOGICAL_DETOX",
	resident_rows, N(resident_rows), resident_terminal };

/* Assessment: scored (by the assessor team or the AI+AR system), then
 * approved or rejected by the diagnosis-evaluation centre. */
static const kit_transition assessment_rows[] = {
	{ "approve", "SCORED", "APPROVED", "approved" },
	{ "reject", "SCORED", "REJECTED", "rejected" },
};
static const char *const assessment_terminal[]
    = { "APPROVED", "REJECTED", NULL };
const kit_fsm rehab_assessment_fsm = { "assessment", "SCORED", assessment_rows,
	N(assessment_rows), assessment_terminal };

/* Disposition proposal: proposed by an officer, submitted by the centre
 * leader to the deciding authority through collab, decided there
 * (approve / reject come only from collab's decided event). */
static const kit_transition disposition_rows[] = {
	{ "submit", "PROPOSED", "SUBMITTED", "submitted" },
	{ "withdraw", "PROPOSED", "WITHDRAWN", "withdrawn" },
	{ "approve", "SUBMITTED", "APPROVED", "approved" },
	{ "reject", "SUBMITTED", "REJECTED", "rejected" },
};
static const char *const disposition_terminal[]
    = { "APPROVED", "REJECTED", "WITHDRAWN", NULL };
const kit_fsm rehab_disposition_fsm = { "disposition", "PROPOSED",
	disposition_rows, N(disposition_rows), disposition_terminal };

/* Correction plan: DRAFT → SUBMITTED → APPROVED → IN_PROGRESS →
 * COMPLETED / ENDED, with sessions and attendance while in progress. */
static const kit_transition plan_rows[] = {
	{ "update", "DRAFT", "DRAFT", "updated" },
	{ "submit", "DRAFT", "SUBMITTED", "submitted" },
	{ "return", "SUBMITTED", "DRAFT", "returned" },
	{ "approve", "SUBMITTED", "APPROVED", "approved" },
	{ "start", "APPROVED", "IN_PROGRESS", "started" },
	{ "record-session", "IN_PROGRESS", "IN_PROGRESS", "session-recorded" },
	{ "complete", "IN_PROGRESS", "COMPLETED", "completed" },
	{ "end", "IN_PROGRESS", "ENDED", "ended" },
	{ "end", "APPROVED", "ENDED", "ended" },
};
static const char *const plan_terminal[] = { "COMPLETED", "ENDED", NULL };
const kit_fsm            rehab_plan_fsm
    = { "plan", "DRAFT", plan_rows, N(plan_rows), plan_terminal };
