/* collab_fsm.c - the case transfer's state machine (docs/collab.md) and
 * who may act. */
#include <stdio.h>
#include <string.h>

#include <xiezhi/i18n.h>

#include "collab.h"

static const xz_tr fsm_zh[] = {
	{ "transfer '%s' is %s: cannot %s; allowed: %s",
	    "案卷“%s”处于 %s 状态：不能执行 %s；允许的操作：%s" },
	{ "none (final state)", "无（终态）" },
	{ NULL, NULL },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Rows grouped by action in the order the refusal lists them. */
static const kit_transition transfer_rows[] = {
	{ "receive", "SENT", "RECEIVED", "received" },
	{ "accept", "RECEIVED", "ACCEPTED", "accepted" },
	{ "accept", "PARTIALLY_ACCEPTED", "ACCEPTED", "accepted" },
	{ "partially-accept", "RECEIVED", "PARTIALLY_ACCEPTED",
	    "partially-accepted" },
	{ "return", "RECEIVED", "RETURNED", "returned" },
	{ "return", "PARTIALLY_ACCEPTED", "RETURNED", "returned" },
	{ "decide", "ACCEPTED", "DECIDED", "decided" },
	{ "decide", "PARTIALLY_ACCEPTED", "DECIDED", "decided" },
	{ "close", "DECIDED", "CLOSED", "closed" },
	{ "close", "RETURNED", "CLOSED", "closed" },
};
static const char *const transfer_terminal[] = { "CLOSED", NULL };
const kit_fsm collab_transfer_fsm = { "transfer", "SENT", transfer_rows,
	N(transfer_rows), transfer_terminal };

enum collab_party
collab_party(const char *action)
{
	/* The receiver handles the package; either side may close it. */
	return strcmp(action, "close") == 0 ? COLLAB_EITHER : COLLAB_RECEIVER;
}

void
collab_refusal(const char *id, const char *state, const char *action,
    char *buf, size_t size)
{
	char allowed[256];

	if (kit_fsm_is_terminal(&collab_transfer_fsm, state))
		snprintf(allowed, sizeof(allowed), "%s",
		    XZ_TR(fsm_zh, "none (final state)"));
	else
		kit_fsm_allowed(
		    &collab_transfer_fsm, state, allowed, sizeof(allowed));
	snprintf(buf, size,
	    XZ_TR(fsm_zh, "transfer '%s' is %s: cannot %s; allowed: %s"), id,
	    state, action, allowed);
}
