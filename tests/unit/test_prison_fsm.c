/*
 * test_prison_fsm.c - the scenario plugins' state machines, checked table
 * by table against the domain model (docs/scenarios.md) (what each state allows, and the exact
 * refusal), and the scenario kit's record store on a real SQLite file.
 * Built from the plugins' own tables, linked with the kit (plugins/common).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../plugins/prison/prison_fsm.c"
#undef N
#include "../../plugins/rehab/rehab_fsm.c"

/* state -> the actions it allows, as an operator reads them */
typedef struct allowed {
	const char *state;
	const char *actions;
} allowed;

static void
check_machine(const kit_fsm *m, const allowed *want, size_t n)
{
	char buf[512];

	for (size_t i = 0; i < n; i++) {
		kit_fsm_allowed(m, want[i].state, buf, sizeof(buf));
		if (strcmp(buf, want[i].actions) != 0)
			fail_msg("%s %s: allowed '%s', expected '%s'", m->name,
			    want[i].state, buf, want[i].actions);
	}
	/* every state reached by a row is listed above */
	for (size_t r = 0; r < m->nrows; r++) {
		int seen_from = 0, seen_to = 0;
		for (size_t i = 0; i < n; i++) {
			seen_from
			    |= strcmp(want[i].state, m->rows[r].from) == 0;
			seen_to |= strcmp(want[i].state, m->rows[r].to) == 0;
		}
		if (!seen_from || !seen_to)
			fail_msg("%s: row %s %s->%s has an unlisted state",
			    m->name, m->rows[r].action, m->rows[r].from,
			    m->rows[r].to);
	}
}

/* Every (state, action) pair: allowed exactly when listed. */
static void
check_refusals(const kit_fsm *m, const allowed *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t r = 0; r < m->nrows; r++) {
			const char *a = m->rows[r].action;
			char        pat[64];
			int         listed = 0;
			snprintf(pat, sizeof(pat), "%s", a);
			/* exact token match in the comma list */
			const char *s = want[i].actions;
			while (*s) {
				size_t len = strcspn(s, ",");
				if (len == strlen(a)
				    && strncmp(s, a, len) == 0)
					listed = 1;
				s += len;
				while (*s == ',' || *s == ' ')
					s++;
			}
			const kit_transition *t
			    = kit_fsm_find(m, want[i].state, a);
			if ((t != NULL) != listed)
				fail_msg("%s %s %s: %s", m->name,
				    want[i].state, a,
				    t ? "allowed but not listed"
				      : "refused but listed");
		}
	}
}

#define CHECK(m, w)                                                           \
	do {                                                                  \
		check_machine(&(m), (w), sizeof(w) / sizeof((w)[0]));         \
		check_refusals(&(m), (w), sizeof(w) / sizeof((w)[0]));        \
	} while (0)

static void
test_alarm(void **st)
{
	(void) st;
	static const allowed w[] = {
		{ "RAISED",
		    "acknowledge, dismiss, escalate, attach-evidence" },
		{ "ACKNOWLEDGED",
		    "dispatch, resolve, dismiss, escalate, "
		    "attach-evidence" },
		{ "DISPATCHED", "arrive, resolve, escalate, attach-evidence" },
		{ "ON_SCENE", "handle, resolve, escalate, attach-evidence" },
		{ "HANDLING", "resolve, escalate, attach-evidence" },
		{ "RESOLVED", "close, reopen, attach-evidence" },
		{ "REOPENED", "acknowledge, escalate, attach-evidence" },
		{ "CLOSED", "none" },
		{ "FALSE_ALARM", "none" },
	};
	CHECK(prison_alarm_fsm, w);
	assert_string_equal(prison_alarm_fsm.initial, "RAISED");
	assert_true(kit_fsm_is_terminal(&prison_alarm_fsm, "CLOSED"));
	assert_true(kit_fsm_is_terminal(&prison_alarm_fsm, "FALSE_ALARM"));
	assert_false(kit_fsm_is_terminal(&prison_alarm_fsm, "RESOLVED"));
	assert_string_equal(
	    kit_fsm_find(&prison_alarm_fsm, "RAISED", "acknowledge")->event,
	    "acknowledged");
	assert_string_equal(
	    kit_fsm_find(&prison_alarm_fsm, "HANDLING", "escalate")->to,
	    "HANDLING");
}

static void
test_refusal_text(void **st)
{
	char buf[300];

	(void) st;
	kit_fsm_refusal(&prison_alarm_fsm, "ALM-00000001", "CLOSED",
	    "acknowledge", buf, sizeof(buf));
	assert_string_equal(buf,
	    "alarm ALM-00000001 is CLOSED: acknowledge "
	    "is not allowed (allowed: none)");
	kit_fsm_refusal(&prison_alarm_fsm, "ALM-00000002", "RESOLVED",
	    "dispatch", buf, sizeof(buf));
	assert_string_equal(buf,
	    "alarm ALM-00000002 is RESOLVED: dispatch is "
	    "not allowed (allowed: close, reopen, "
	    "attach-evidence)");
	/* a buffer too small is cut, never overrun */
	kit_fsm_allowed(&prison_alarm_fsm, "ACKNOWLEDGED", buf, 12);
	assert_string_equal(buf, "dispatch");
}

static void
test_rollcall_incident_visit(void **st)
{
	(void) st;
	static const allowed rc[] = {
		{ "SCHEDULED", "start" },
		{ "IN_PROGRESS", "reconcile, flag" },
		{ "DISCREPANCY", "reconcile" },
		{ "RECONCILED", "none" },
	};
	static const allowed inc[] = {
		{ "DRAFT",
		    "update, submit, mark-duplicate, "
		    "mark-not-reportable" },
		{ "AWAITING_REVIEW",
		    "request-changes, close, mark-duplicate, "
		    "mark-not-reportable" },
		{ "NEEDS_UPDATING", "update" },
		{ "UPDATED", "request-changes, close" },
		{ "CLOSED", "reopen" },
		{ "REOPENED", "update, close" },
		{ "DUPLICATE", "none" },
		{ "NOT_REPORTABLE", "none" },
	};
	static const allowed vis[] = {
		{ "REQUESTED", "approve, reject, cancel" },
		{ "APPROVED", "book, cancel" },
		{ "BOOKED", "complete, cancel" },
		{ "REJECTED", "none" },
		{ "COMPLETED", "none" },
		{ "CANCELLED", "none" },
	};
	CHECK(prison_rollcall_fsm, rc);
	CHECK(prison_incident_fsm, inc);
	CHECK(prison_visit_fsm, vis);
}

static void
test_rehab(void **st)
{
	(void) st;
	static const allowed res[] = {
		{ "PHYSIOLOGICAL_DETOX", "advance, release, issue-handbook" },
		{ "EDUCATION_ADAPTATION", "advance, release" },
		{ "REHABILITATION_CONSOLIDATION", "advance, release" },
		{ "RETURN_GUIDANCE", "release" },
		{ "RELEASED", "none" },
	};
	/* proposed by the centre, submitted to the deciding authority,
	 * decided there (approve / reject come from collab) */
	static const allowed disp[] = {
		{ "PROPOSED", "submit, withdraw" },
		{ "SUBMITTED", "approve, reject" },
		{ "APPROVED", "none" },
		{ "REJECTED", "none" },
		{ "WITHDRAWN", "none" },
	};
	static const allowed plan[] = {
		{ "DRAFT", "update, submit" },
		{ "SUBMITTED", "return, approve" },
		{ "APPROVED", "start, end" },
		{ "IN_PROGRESS", "record-session, complete, end" },
		{ "COMPLETED", "none" },
		{ "ENDED", "none" },
	};
	static const allowed as[] = {
		{ "SCORED", "approve, reject" },
		{ "APPROVED", "none" },
		{ "REJECTED", "none" },
	};
	CHECK(rehab_resident_fsm, res);
	CHECK(rehab_disposition_fsm, disp);
	CHECK(rehab_plan_fsm, plan);
	CHECK(rehab_assessment_fsm, as);
	/* the phases follow the national model, in order */
	assert_string_equal(
	    kit_fsm_find(&rehab_resident_fsm, "PHYSIOLOGICAL_DETOX", "advance")
	        ->to,
	    "EDUCATION_ADAPTATION");
	assert_string_equal(kit_fsm_find(&rehab_resident_fsm,
	                        "REHABILITATION_CONSOLIDATION", "advance")
	                        ->to,
	    "RETURN_GUIDANCE");
}

static json_t *
rec(const char *id, const char *state, const char *loc, int64_t due)
{
	return json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:i}", "id", id, "state",
	    state, "location", loc, "due_ms", (json_int_t) due, "created_ms",
	    (json_int_t) 1, "updated_ms", (json_int_t) 1, "level", 1);
}

/* The record store on a real SQLite file: save, load, history, list with
 * the location-subtree filter and paging, due list, and persistence
 * across a close and reopen. */
static void
test_store(void **st)
{
	char       path[] = "/tmp/xz-test-store-XXXXXX";
	int        fd     = mkstemp(path);
	sqlite3   *db;
	kit_store  s;
	json_t    *r, *page;
	kit_change ch = { "acknowledge", "RAISED", "ACKNOWLEDGED", "o7",
		"OFFICER", "checked CCTV", 5, "prison-1" };

	(void) st;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(kit_store_init(&s, db), 0);
	assert_int_equal(kit_store_begin(&s), 0);
	int64_t n1, n2;
	assert_int_equal(kit_store_next_seq(&s, "alarm", &n1), 0);
	assert_int_equal(kit_store_next_seq(&s, "alarm", &n2), 0);
	assert_int_equal(n1, 1);
	assert_int_equal(n2, 2);
	const char *ids[]  = { "A1", "A2", "A3", "A4" };
	const char *locs[] = { "P1.A", "P1.A.1.2", "P1.AB", "P1.B.1" };
	for (int i = 0; i < 4; i++) {
		r = rec(ids[i], i == 3 ? "CLOSED" : "RAISED", locs[i],
		    i == 3 ? 0 : 100 + i);
		assert_int_equal(kit_store_save(&s, "alarm", r, 1), 0);
		json_decref(r);
	}
	/* the same id twice is refused */
	r = rec("A1", "RAISED", "P1", 0);
	assert_int_equal(kit_store_save(&s, "alarm", r, 1), -1);
	json_decref(r);
	assert_int_equal(kit_store_history_add(&s, "alarm", "A1", &ch), 0);
	assert_int_equal(kit_store_commit(&s), 0);

	/* location P1.A: itself and below, not P1.AB */
	page = kit_store_list(&s, "alarm", NULL, "P1.A", NULL, 10, 0);
	assert_int_equal(
	    json_integer_value(json_object_get(page, "total")), 2);
	json_decref(page);
	page = kit_store_list(&s, "alarm", "RAISED", NULL, NULL, 2, 0);
	assert_int_equal(
	    json_integer_value(json_object_get(page, "total")), 3);
	assert_int_equal(json_array_size(json_object_get(page, "items")), 2);
	assert_int_equal(
	    json_integer_value(json_object_get(page, "next_offset")), 2);
	json_decref(page);
	page = kit_store_list(&s, "alarm", "RAISED", NULL, NULL, 2, 2);
	assert_null(json_object_get(page, "next_offset"));
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(page, "items"), 0), "id")),
	    "A3");
	json_decref(page);
	kit_store_fini(&s);
	sqlite3_close(db);

	/* reopened: the records, their history and due times are there */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(kit_store_init(&s, db), 0);
	r = kit_store_load(&s, "alarm", "A2");
	assert_non_null(r);
	assert_string_equal(
	    json_string_value(json_object_get(r, "location")), "P1.A.1.2");
	json_decref(r);
	assert_null(kit_store_load(&s, "alarm", "nope"));
	assert_string_equal(s.err, "");
	r = kit_store_history(&s, "alarm", "A1");
	assert_int_equal(json_array_size(r), 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(r, 0), "why")),
	    "checked CCTV");
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(r, 0), "agency")),
	    "prison-1");
	assert_int_equal(
	    json_integer_value(json_object_get(json_array_get(r, 0), "at_ms")),
	    5);
	json_decref(r);
	r = kit_store_due(&s, "alarm");
	assert_int_equal(json_array_size(r), 3);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(r, 0), "id")),
	    "A1");
	json_decref(r);
	r = kit_store_stats(&s, "alarm");
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(r, "RAISED"), "1")),
	    3);
	json_decref(r);
	kit_store_fini(&s);
	sqlite3_close(db);
	unlink(path);
}

/* A store made before history had an agency column (as prison and rehab
 * wrote it until the kit moved to plugins/common) opens, keeps its rows
 * and records the agency from then on. */
static void
test_store_old_history(void **st)
{
	char       path[] = "/tmp/xz-test-store-XXXXXX";
	int        fd     = mkstemp(path);
	sqlite3   *db;
	kit_store  s;
	json_t    *h;
	kit_change ch = { "close", "RAISED", "CLOSED", "o8", "OFFICER", NULL,
		9, "prison-2" };

	(void) st;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                     "CREATE TABLE history(seq INTEGER PRIMARY KEY,"
	                     " kind TEXT NOT NULL, id TEXT NOT NULL,"
	                     " action TEXT NOT NULL, from_state TEXT,"
	                     " to_state TEXT NOT NULL, who TEXT NOT NULL,"
	                     " role TEXT, at_ms INTEGER NOT NULL, why TEXT);"
	                     "INSERT INTO history(kind, id, action, to_state,"
	                     " who, at_ms) VALUES('alarm', 'A1', 'create',"
	                     " 'RAISED', 'o7', 1);",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(kit_store_init(&s, db), 0);
	assert_int_equal(kit_store_history_add(&s, "alarm", "A1", &ch), 0);
	h = kit_store_history(&s, "alarm", "A1");
	assert_int_equal(json_array_size(h), 2);
	assert_true(
	    json_is_null(json_object_get(json_array_get(h, 0), "agency")));
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(h, 1), "agency")),
	    "prison-2");
	json_decref(h);
	kit_store_fini(&s);
	sqlite3_close(db);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alarm),
		cmocka_unit_test(test_refusal_text),
		cmocka_unit_test(test_rollcall_incident_visit),
		cmocka_unit_test(test_rehab),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_store_old_history),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
