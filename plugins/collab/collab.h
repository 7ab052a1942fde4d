/*
 * collab.h - cross-department case collaboration: the case transfer's
 * state machine (collab_fsm.c), on the kit of plugins/common.
 */
#ifndef XZ_COLLAB_H
#define XZ_COLLAB_H

#include <stddef.h>

#include "kit.h"

/* SENT -> RECEIVED -> ACCEPTED | PARTIALLY_ACCEPTED | RETURNED ...
 * (docs/collab.md). Record kind "transfer". */
extern const kit_fsm collab_transfer_fsm;

/* Which side of a transfer may take an action (with check_agency). */
enum collab_party { COLLAB_SENDER, COLLAB_RECEIVER, COLLAB_EITHER };
enum collab_party collab_party(const char *action);

/* The refusal of `action` on transfer `id` in `state`, into buf:
 * "transfer 'T' is SENT: cannot accept; allowed: receive", and
 * "allowed: none (final state)" in a terminal state. */
void collab_refusal(const char *id, const char *state, const char *action,
    char *buf, size_t size);

#endif
