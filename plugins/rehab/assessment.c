/*
 * assessment.c - assessments of a resident: kind ADMISSION, DETOX, PHASE,
 * ONE_YEAR or PRE_EXPIRY; four dimensions: physiological detox (five items
 * scored × 20: passed at 100), psycho-physical rehabilitation (PASS/FAIL),
 * behaviour (PASS/FAIL), social environment and adaptability (GOOD/FAIR).
 * They come from the assessor team (request rehab.assessment.record) or
 * from the AI+AR assessment system (event rehab.assessment.scored), and
 * count for a phase transition once the diagnosis-evaluation centre has
 * approved them.
 */
#include <stdio.h>
#include <string.h>

#include "rehab.h"

static const char *const detox_items[] = { "drug_test_negative",
	"withdrawal_medication_stopped", "acute_symptoms_gone",
	"no_marked_protracted_symptoms", "no_drug_induced_psychosis", NULL };
static const char *const kinds[]
    = { "ADMISSION", "DETOX", "PHASE", "ONE_YEAR", "PRE_EXPIRY", NULL };

static const char *const pass_fail[] = { "PASS", "FAIL", NULL };
static const char *const good_fair[] = { "GOOD", "FAIR", NULL };
/* The AI+AR system's result: a closed record, except "measures" (craving,
 * cue reactivity: 身心康复), kept whole as received. */
static const fk_field scored_fields[] = { { "resident_id", FK_STR, 1, 0, 32,
	                                      NULL },
	{ "kind", FK_ONEOF, 1, 0, 0, kinds },
	{ "detox", FK_OBJ, 1, 0, 0, NULL },
	{ "psycho_physical", FK_ONEOF, 0, 0, 0, pass_fail },
	{ "behaviour", FK_ONEOF, 0, 0, 0, pass_fail },
	{ "social", FK_ONEOF, 0, 0, 0, good_fair },
	{ "evidence", FK_STR, 0, 0, 1024, NULL },
	{ "session_id", FK_STR, 1, 0, 64, NULL },
	{ "measures", FK_OBJ, 0, 0, 0, NULL },
	{ "system", FK_STR, 0, 0, 64, NULL }, { NULL, 0, 0, 0, 0, NULL } };

static int
in_list(const char *const *list, const char *s)
{
	for (; s && *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

/* Score and check an assessment body; the fields of the record to create
 * (caller owns them), or NULL with e set. */
static json_t *
build(rehab *h, json_t *body, const char *source, kit_err *e)
{
	const char *rid   = kit_str(body, "resident_id");
	const char *kind  = kit_str(body, "kind");
	json_t     *detox = json_object_get(body, "detox");
	json_t     *res;
	json_t     *f;
	int         score = 0, passed;
	int         full;

	if (!json_is_object(detox))
		goto bad_detox;
	for (const char *const *it = detox_items; *it; it++) {
		json_t *v = json_object_get(detox, *it);
		if (!json_is_boolean(v))
			goto bad_detox;
		score += json_is_true(v) ? 20 : 0;
	}
	full = strcmp(kind, "ADMISSION") != 0 && strcmp(kind, "DETOX") != 0;
	if (full
	    && (!in_list((const char *const[]) { "PASS", "FAIL", NULL },
	            kit_str(body, "psycho_physical"))
	        || !in_list((const char *const[]) { "PASS", "FAIL", NULL },
	            kit_str(body, "behaviour"))
	        || !in_list((const char *const[]) { "GOOD", "FAIR", NULL },
	            kit_str(body, "social")))) {
		kit_err_set(e, KIT_E_BAD_REQUEST,
		    RTR("assessment: a %s assessment needs "
		        "\"psycho_physical\" (PASS/FAIL), \"behaviour\" "
		        "(PASS/FAIL) and \"social\" (GOOD/FAIR)"),
		    kind);
		return NULL;
	}
	res = kit_store_load(&h->c.store, "resident", rid);
	if (res == NULL) {
		kit_err_set(e, KIT_E_NOT_FOUND, RTR("no %s with id %s"),
		    RTR("resident"), rid);
		return NULL;
	}
	if (strcmp(kit_str(res, "state"), "RELEASED") == 0) {
		kit_err_set(e, KIT_E_INVALID_STATE,
		    RTR("resident %s is RELEASED: no assessment"), rid);
		json_decref(res);
		return NULL;
	}
	passed = score == 100;
	if (full)
		passed = passed
		    && strcmp(kit_str(body, "psycho_physical"), "PASS") == 0
		    && strcmp(kit_str(body, "behaviour"), "PASS") == 0;
	f = json_pack("{s:s,s:s,s:s,s:s,s:O,s:i,s:b,s:s}", "resident_id", rid,
	    "owner", rid, "kind", kind, "phase", kit_str(res, "state"),
	    "detox", detox, "detox_score", score, "passed", passed, "source",
	    source);
	json_decref(res);
	for (const char *const *k = (const char *const[]) { "psycho_physical",
	         "behaviour", "social", "assessors", "evidence", "session_id",
	         "measures", "system", NULL };
	     *k; k++)
		if (json_object_get(body, *k))
			json_object_set(f, *k, json_object_get(body, *k));
	return f;
bad_detox:
	kit_err_set(e, KIT_E_BAD_REQUEST, "%s",
	    RTR("assessment: \"detox\" must give the five items as "
	        "booleans: drug_test_negative, withdrawal_medication_stopped, "
	        "acute_symptoms_gone, no_marked_protracted_symptoms, "
	        "no_drug_induced_psychosis"));
	return NULL;
}

static json_t *
event_of(json_t *f)
{
	return json_pack("{s:s,s:s,s:i,s:b,s:s}", "resident_id",
	    kit_str(f, "resident_id"), "kind", kit_str(f, "kind"),
	    "detox_score", (int) kit_int(f, "detox_score", 0), "passed",
	    json_is_true(json_object_get(f, "passed")), "source",
	    kit_str(f, "source"));
}

/* rehab.assessment.record: from the assessor team. */
void
rehab_assessment_record_fn(const kit_kind *k, kit_req *r)
{
	kit_err e;
	json_t *f = build(k->ud, r->body, "staff", &e);

	if (f == NULL) {
		kit_reply_err(r, &e, "assessment", NULL);
		return;
	}
	kit_create_reply(k, r, f, event_of(f));
}

/* Whether the AI+AR result comes from the AI+AR system (role
 * ai_assessor), a plugin, the node or an administrator's tool: the
 * authenticated sender, never the payload. */
static int
from_assessor(rehab *h, const xz_msg *m)
{
	const xz_caller *who;

	if (!XZ_HAS_MEMBER(h->c.host, xz_host, caller))
		return 1;
	who = h->c.host->caller(h->c.self, m);
	for (const char *const *r = who->roles; r && *r; r++)
		if (strcmp(*r, "ai_assessor") == 0 || strcmp(*r, "plugin") == 0
		    || strcmp(*r, "node") == 0 || strcmp(*r, "admin") == 0)
			return 1;
	return 0;
}

/* rehab.assessment.scored (event): a result of the AI+AR system. The
 * record's id is "AI-" + the session id (or the message id), so a
 * redelivered event is recognised and not stored twice. */
static void
on_scored(void *ud, const xz_msg *m)
{
	kit_kind *k = ud;
	rehab    *h = k->ud;
	kit_req   r;
	kit_err   e;
	json_t   *body, *f, *rec;
	char      id[80];
	char      hex[33];

	if (m->kind != XZ_KIND_EVENT)
		return;
	if (!from_assessor(h, m)) {
		h->c.host->log(h->c.self, XZ_LOG_WARN,
		    RTR("%s from %s refused: it needs the role ai_assessor"),
		    m->topic, m->source);
		h->c.host->counter_add(h->c.self, "scored_forbidden", 1);
		return;
	}
	body = json_loadb(m->data, m->len, 0, NULL);
	if (!json_is_object(body)) {
		h->c.host->log(h->c.self, XZ_LOG_WARN,
		    RTR("%s: payload is not a JSON object (from %s)"),
		    m->topic, m->source);
		h->c.host->counter_add(h->c.self, "scored_rejected", 1);
		json_decref(body);
		return;
	}
	kit_req_internal(&h->c, &r, "system:ai-ar", body);
	if (fk_check(body, scored_fields, &e) != 0) {
		snprintf(id, sizeof(id), "%s", m->topic);
		goto refused;
	}
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", m->id[i]);
	snprintf(id, sizeof(id), "AI-%s",
	    kit_str(body, "session_id") ? kit_str(body, "session_id") : hex);
	f = build(h, body, "ai-ar", &e);
	if (f == NULL)
		goto refused;
	json_object_set_new(f, "id", json_string(id));
	if (kit_tx_begin(&h->c, &e) != 0) {
		json_decref(f);
		goto refused;
	}
	rec = kit_create_tx(k, &r, f, event_of(f), &e);
	if (rec == NULL) {
		kit_tx_abort(&h->c);
		if (e.code == KIT_E_EXISTS) { /* redelivered: done */
			h->c.host->counter_add(
			    h->c.self, "scored_duplicate", 1);
			kit_req_done(&r);
			return;
		}
		goto refused;
	}
	json_decref(rec);
	if (kit_tx_commit(&h->c, &e) != 0)
		goto refused;
	h->c.host->counter_add(h->c.self, "scored_recorded", 1);
	kit_req_done(&r);
	return;
refused:
	h->c.host->counter_add(h->c.self, "scored_rejected", 1);
	kit_reply_err(&r, &e, "assessment", id);
	kit_req_done(&r);
}

json_t *
rehab_passing_assessment(
    rehab *h, const char *rid, const char *const *want, const char *phase)
{
	json_t *page = kit_store_list(
	    &h->c.store, "assessment", "APPROVED", NULL, rid, 100000, 0);
	json_t *items = json_object_get(page, "items");
	json_t *best  = NULL;
	size_t  i;
	json_t *a;

	json_array_foreach(items, i, a)
	{
		if (!json_is_true(json_object_get(a, "passed"))
		    || !in_list(want, kit_str(a, "kind")))
			continue;
		if (phase && strcmp(phase, kit_str(a, "phase") ?: "") != 0)
			continue;
		if (best == NULL
		    || kit_int(a, "created_ms", 0)
		        >= kit_int(best, "created_ms", 0))
			best = a;
	}
	if (best)
		json_incref(best);
	json_decref(page);
	return best;
}

int
rehab_assessment_subscribe(rehab *h)
{
	kit_kind *k = &h->kinds[RK_ASSESSMENT];

	return h->c.host->subscribe(
	    h->c.self, "rehab.assessment.scored", NULL, on_scored, k, NULL);
}
