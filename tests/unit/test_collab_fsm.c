/*
 * test_collab_fsm.c - the case transfer's state machine (collab_fsm.c, on
 * the common fsm of plugins/common) against docs/collab.md: every (state,
 * action) pair goes where the table says or is refused with the exact
 * text naming the state and the allowed actions; who may act; the paths
 * of a transfer from SENT to CLOSED.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../plugins/collab/collab_fsm.c"

static const char *const states[] = { "SENT", "RECEIVED", "PARTIALLY_ACCEPTED",
	"ACCEPTED", "DECIDED", "RETURNED", "CLOSED" };
static const char *const actions[]
    = { "receive", "accept", "partially-accept", "return", "decide", "close" };

/* The table of docs/collab.md: (action, from) -> to, written out again
 * here so that a change to collab_fsm.c has to change the test too. */
static const struct {
	const char *action, *from, *to, *event;
} want[] = {
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

/* The allowed list of each state, as the refusal names it. */
static const struct {
	const char *state, *allowed;
} allowed[] = {
	{ "SENT", "receive" },
	{ "RECEIVED", "accept, partially-accept, return" },
	{ "PARTIALLY_ACCEPTED", "accept, return, decide" },
	{ "ACCEPTED", "decide" },
	{ "DECIDED", "close" },
	{ "RETURNED", "close" },
	{ "CLOSED", "none (final state)" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *
allowed_in(const char *state)
{
	for (size_t i = 0; i < N(allowed); i++)
		if (strcmp(allowed[i].state, state) == 0)
			return allowed[i].allowed;
	fail_msg("state %s has no allowed list", state);
	return NULL;
}

static void
test_shape(void **s)
{
	(void) s;
	assert_string_equal(collab_transfer_fsm.name, "transfer");
	assert_string_equal(collab_transfer_fsm.initial, "SENT");
	assert_int_equal(collab_transfer_fsm.nrows, N(want));
	for (size_t i = 0; i < N(states); i++)
		assert_int_equal(
		    kit_fsm_is_terminal(&collab_transfer_fsm, states[i]),
		    strcmp(states[i], "CLOSED") == 0);
	for (size_t i = 0; i < N(actions); i++)
		assert_true(
		    kit_fsm_has_action(&collab_transfer_fsm, actions[i]));
	assert_false(kit_fsm_has_action(&collab_transfer_fsm, "send"));
}

/* Every (state, action): the row of the table, or the refusal text. */
static void
test_every_pair(void **s)
{
	char buf[512], msg[512];

	(void) s;
	for (size_t i = 0; i < N(states); i++) {
		for (size_t j = 0; j < N(actions); j++) {
			const kit_transition *t = kit_fsm_find(
			    &collab_transfer_fsm, states[i], actions[j]);
			size_t k;
			for (k = 0; k < N(want); k++)
				if (strcmp(want[k].from, states[i]) == 0
				    && strcmp(want[k].action, actions[j]) == 0)
					break;
			if (k < N(want)) {
				if (t == NULL)
					fail_msg(
					    "%s on %s refused; expected %s",
					    actions[j], states[i], want[k].to);
				assert_string_equal(t->to, want[k].to);
				assert_string_equal(t->event, want[k].event);
				continue;
			}
			if (t != NULL)
				fail_msg("%s on %s allowed (to %s); expected "
				         "a refusal",
				    actions[j], states[i], t->to);
			collab_refusal(
			    "tr-1", states[i], actions[j], buf, sizeof(buf));
			snprintf(msg, sizeof(msg),
			    "transfer 'tr-1' is %s: cannot %s; allowed: %s",
			    states[i], actions[j], allowed_in(states[i]));
			assert_string_equal(buf, msg);
		}
	}
}

/* The exact texts t_collab_transfer.sh and docs/collab.md show. */
static void
test_refusal_text(void **s)
{
	char buf[256];

	(void) s;
	collab_refusal("T1", "SENT", "accept", buf, sizeof(buf));
	assert_string_equal(
	    buf, "transfer 'T1' is SENT: cannot accept; allowed: receive");
	collab_refusal("T1", "RECEIVED", "receive", buf, sizeof(buf));
	assert_string_equal(buf,
	    "transfer 'T1' is RECEIVED: cannot receive; allowed: accept, "
	    "partially-accept, return");
	collab_refusal("T1", "CLOSED", "close", buf, sizeof(buf));
	assert_string_equal(buf,
	    "transfer 'T1' is CLOSED: cannot close; allowed: none (final "
	    "state)");
}

static void
test_parties(void **s)
{
	(void) s;
	assert_int_equal(collab_party("close"), COLLAB_EITHER);
	for (size_t i = 0; i < N(actions); i++)
		if (strcmp(actions[i], "close") != 0)
			assert_int_equal(
			    collab_party(actions[i]), COLLAB_RECEIVER);
}

/* Walk a path of actions from SENT; returns the final state. */
static const char *
walk(const char *const *path)
{
	const char *state = collab_transfer_fsm.initial;

	for (; *path; path++) {
		const kit_transition *t
		    = kit_fsm_find(&collab_transfer_fsm, state, *path);
		if (t == NULL)
			fail_msg("%s refused in %s", *path, state);
		state = t->to;
	}
	return state;
}

static void
test_paths(void **s)
{
	static const char *const full[] = { "receive", "partially-accept",
		"accept", "decide", "close", NULL };
	static const char *const partial[]
	    = { "receive", "partially-accept", "decide", "close", NULL };
	static const char *const returned[]
	    = { "receive", "return", "close", NULL };
	static const char *const late_return[]
	    = { "receive", "partially-accept", "return", "close", NULL };

	(void) s;
	assert_string_equal(walk(full), "CLOSED");
	assert_string_equal(walk(partial), "CLOSED");
	assert_string_equal(walk(returned), "CLOSED");
	assert_string_equal(walk(late_return), "CLOSED");
}

/* The plugins' reply codes are the SDK's closed set, constant by
 * constant (plugins/common/reply.h). */
static void
test_reply_codes_are_the_sdks(void **state)
{
	(void) state;
	assert_string_equal(
	    kit_code_name(KIT_E_BAD_REQUEST), XZ_REPLY_BAD_REQUEST);
	assert_string_equal(
	    kit_code_name(KIT_E_NOT_FOUND), XZ_REPLY_NOT_FOUND);
	assert_string_equal(
	    kit_code_name(KIT_E_INVALID_STATE), XZ_REPLY_INVALID_STATE);
	assert_string_equal(
	    kit_code_name(KIT_E_FORBIDDEN), XZ_REPLY_FORBIDDEN);
	assert_string_equal(kit_code_name(KIT_E_EXISTS), XZ_REPLY_EXISTS);
	assert_string_equal(kit_code_name(KIT_E_CAPACITY_EXCEEDED),
	    XZ_REPLY_CAPACITY_EXCEEDED);
	assert_string_equal(
	    kit_code_name(KIT_E_STORE_ERROR), XZ_REPLY_STORE_ERROR);
	assert_string_equal(kit_code_name(KIT_E_TIMEOUT), XZ_REPLY_TIMEOUT);
	assert_string_equal(
	    kit_code_name(KIT_E_NO_RESPONDERS), XZ_REPLY_NO_RESPONDERS);
	assert_string_equal(
	    kit_code_name(KIT_E_UNAVAILABLE), XZ_REPLY_UNAVAILABLE);
	assert_string_equal(
	    kit_code_name(KIT_E_TOO_LARGE), XZ_REPLY_TOO_LARGE);
	assert_string_equal(kit_code_name(KIT_E_INTERNAL), XZ_REPLY_INTERNAL);
	assert_string_equal(kit_code_name((kit_code) 99), XZ_REPLY_INTERNAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_every_pair),
		cmocka_unit_test(test_refusal_text),
		cmocka_unit_test(test_parties),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_reply_codes_are_the_sdks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
