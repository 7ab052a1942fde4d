/*
 * fsm.h - state machines as transition tables (shared by the plugins:
 * prison, rehab, collab).
 *
 * A machine is a table of (action, from, to, event) rows. An action that
 * has no row for the current state is refused; the refusal names the
 * current state and the actions allowed from it. A row whose from and to
 * are equal is an action that changes data, not state (escalate, attach
 * evidence).
 */
#ifndef XZ_KIT_FSM_H
#define XZ_KIT_FSM_H

#include <stddef.h>

typedef struct kit_transition {
	const char *action; /* request verb: "acknowledge" */
	const char *from; /* state before: "RAISED" */
	const char *to; /* state after: "ACKNOWLEDGED" */
	const char *event; /* event verb (past tense): "acknowledged" */
} kit_transition;

typedef struct kit_fsm {
	const char           *name; /* aggregate: "alarm" */
	const char           *initial; /* state of a new record */
	const kit_transition *rows;
	size_t                nrows;
	const char *const    *terminal; /* NULL-terminated */
} kit_fsm;

/* The row for (state, action), or NULL when the action is refused. */
const kit_transition *kit_fsm_find(
    const kit_fsm *m, const char *state, const char *action);

/* Is `action` a verb of this machine (in any state)? */
int kit_fsm_has_action(const kit_fsm *m, const char *action);

/* Is `state` one of the machine's terminal states? */
int kit_fsm_is_terminal(const kit_fsm *m, const char *state);

/* Write the actions allowed from `state`, comma separated and in table
 * order without duplicates ("none" if there are none), into buf. */
void kit_fsm_allowed(
    const kit_fsm *m, const char *state, char *buf, size_t size);

/* Write the refusal message for (state, action) into buf:
 * "alarm ALM-000001 is CLOSED: acknowledge is not allowed (allowed: none)" */
void kit_fsm_refusal(const kit_fsm *m, const char *id, const char *state,
    const char *action, char *buf, size_t size);

#endif
