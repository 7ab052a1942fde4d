/*
 * resident.c - residents: admission (term end, handbook deadline), phase
 * advances gated by a passing, approved assessment of the right kind taken
 * in the current phase and by the phase's minimum stay, and release
 * (at term end, or on an approved disposition).
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include "sha256.h"

#include "rehab.h"

int64_t
rehab_add_months(int64_t ms, int64_t months)
{
	time_t    t = (time_t) (ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	tm.tm_mon += (int) months;
	return (int64_t) timegm(&tm) * 1000 + ms % 1000;
}

/* YYYY-MM-DD of ms (UTC+8, the calendar of the decision) into buf. */
static const char *
day_of(int64_t ms, char buf[16])
{
	time_t    t = (time_t) (ms / 1000 + 8 * 3600);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 16, "%Y-%m-%d", &tm);
	return buf;
}

/* rehab.resident.admit {"id","name","id_number","decision_no",
 * "decision_date","deciding_agency","admitted_date"?,"term_months"?}: the
 * term is 2 years from the public-security decision (禁毒法 art. 47;
 * 戒毒条例 art. 27: time in a public-security centre counts). Dates are
 * Beijing calendar days (00:00 UTC+8). */
void
rehab_admit_fn(const kit_kind *k, kit_req *r)
{
	rehab      *h       = k->ud;
	const char *dd      = kit_str(r->body, "decision_date");
	const char *ad      = kit_str(r->body, "admitted_date");
	int64_t     decided = 0, admitted = r->now_ms;
	char        b1[16], b2[16];
	kit_err     e;
	json_t     *f;

	if (json_object_get(r->body, "term_months")
	    && kit_int(r->body, "term_months", 0) != REHAB_TERM_MONTHS) {
		kit_err_set(&e, KIT_E_BAD_REQUEST,
		    RTR("禁毒法 art. 47: the term of compulsory isolated "
		        "rehabilitation is 2 years (24 months), counted from "
		        "the public-security decision; \"term_months\" %lld "
		        "is "
		        "refused"),
		    (long long) kit_int(r->body, "term_months", 0));
		kit_reply_err(r, &e, "resident", NULL);
		return;
	}
	fk_date(dd, &decided);
	decided -= 8 * 3600 * 1000LL;
	if (ad) {
		fk_date(ad, &admitted);
		admitted -= 8 * 3600 * 1000LL;
	}
	if (decided > r->now_ms) {
		kit_err_set(&e, KIT_E_BAD_REQUEST,
		    RTR("\"decision_date\" %s is in the future"), dd);
		kit_reply_err(r, &e, "resident", NULL);
		return;
	}
	if (decided > admitted) {
		kit_err_set(&e, KIT_E_BAD_REQUEST,
		    RTR("\"decision_date\" %s is after the admission %s"), dd,
		    day_of(admitted, b1));
		kit_reply_err(r, &e, "resident", NULL);
		return;
	}
	int64_t end = rehab_add_months(decided, REHAB_TERM_MONTHS);
	f = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
	              "s:s}",
	    "id", kit_str(r->body, "id"), "name", kit_str(r->body, "name"),
	    "id_number", kit_str(r->body, "id_number"), "decision_no",
	    kit_str(r->body, "decision_no"), "decision_date", dd,
	    "deciding_agency", kit_str(r->body, "deciding_agency"),
	    "decided_ms", (json_int_t) decided, "admitted_ms",
	    (json_int_t) admitted, "term_months",
	    (json_int_t) REHAB_TERM_MONTHS, "term_end_ms", (json_int_t) end,
	    "extension_months", (json_int_t) 0, "handbook_due_ms",
	    (json_int_t) (admitted + h->handbook_days * REHAB_DAY_MS),
	    "phase_since_ms", (json_int_t) admitted, "term_end_date",
	    day_of(end - 1, b2));
	kit_create_reply(k, r, f,
	    json_pack("{s:s,s:I}", "phase", "PHYSIOLOGICAL_DETOX",
	        "term_end_ms", (json_int_t) end));
}

/* The assessment kinds that open each phase's exit. */
static const char *const *
gate_kinds(const char *phase, int64_t *min_days, const rehab *h)
{
	static const char *const detox[]   = { "DETOX", NULL };
	static const char *const phase_k[] = { "PHASE", NULL };
	static const char *const late[]    = { "PHASE", "ONE_YEAR", NULL };

	if (strcmp(phase, "PHYSIOLOGICAL_DETOX") == 0) {
		*min_days = h->phase_min_days[0];
		return detox;
	}
	if (strcmp(phase, "EDUCATION_ADAPTATION") == 0) {
		*min_days = h->phase_min_days[1];
		return phase_k;
	}
	*min_days = h->phase_min_days[2];
	return late;
}

static int
on_action(const kit_kind *k, kit_req *r, const kit_transition *t, json_t *rec,
    json_t *ev, kit_err *e)
{
	rehab      *h   = k->ud;
	const char *rid = kit_str(rec, "id");

	if (strcmp(t->action, "advance") == 0) {
		int64_t            min_days;
		const char *const *kinds = gate_kinds(t->from, &min_days, h);
		int64_t            since = kit_int(rec, "phase_since_ms", 0);
		json_t            *a;

		if (r->now_ms - since < min_days * REHAB_DAY_MS) {
			kit_err_set(e, KIT_E_INVALID_STATE,
			    RTR("resident %s has been in %s for %lld day(s): "
			        "the minimum is %lld"),
			    rid,
			    xz_lang() == XZ_LANG_ZH ? rehab_label(t->from)
			                            : t->from,
			    (long long) ((r->now_ms - since) / REHAB_DAY_MS),
			    (long long) min_days);
			return -1;
		}
		a = rehab_passing_assessment(h, rid, kinds, t->from);
		if (a == NULL) {
			kit_err_set(e, KIT_E_INVALID_STATE,
			    RTR("resident %s cannot leave %s: no approved, "
			        "passing %s assessment taken in this phase"),
			    rid,
			    xz_lang() == XZ_LANG_ZH ? rehab_label(t->from)
			                            : t->from,
			    kinds[1] ? "PHASE/ONE_YEAR" : kinds[0]);
			return -1;
		}
		json_object_set_new(
		    ev, "assessment_id", json_string(kit_str(a, "id")));
		json_object_set_new(
		    rec, "phase_since_ms", json_integer(r->now_ms));
		json_decref(a);
	} else if (strcmp(t->action, "release") == 0) {
		const char *disp = kit_str(rec, "release_authorized_by");
		char        day[16];
		if (disp == NULL
		    && r->now_ms < kit_int(rec, "term_end_ms", 0)) {
			kit_err_set(e, KIT_E_INVALID_STATE,
			    RTR("resident %s: the term ends on %s and no "
			        "decision of the deciding authority "
			        "authorizes "
			        "an earlier release"),
			    rid,
			    day_of(kit_int(rec, "term_end_ms", 0) - 1, day));
			return -1;
		}
		json_object_set_new(
		    rec, "released_ms", json_integer(r->now_ms));
		json_object_set_new(ev, "release_type",
		    json_string(kit_str(rec, "release_type")
		            ? kit_str(rec, "release_type")
		            : "ON_SCHEDULE"));
		if (disp)
			json_object_set_new(
			    ev, "disposition_id", json_string(disp));
	} else if (strcmp(t->action, "issue-handbook") == 0) {
		if (json_object_get(rec, "handbook_ms")) {
			kit_err_set(e, KIT_E_EXISTS,
			    RTR("resident %s already has a handbook"), rid);
			return -1;
		}
		json_object_set_new(
		    rec, "handbook_ms", json_integer(r->now_ms));
	}
	return 0;
}

static void
on_get(const kit_kind *k, kit_req *r, json_t *rec)
{
	(void) k;
	json_object_set_new(rec, "days_served",
	    json_integer((r->now_ms - kit_int(rec, "admitted_ms", r->now_ms))
	        / REHAB_DAY_MS));
	json_object_set_new(rec, "days_since_decision",
	    json_integer((r->now_ms - kit_int(rec, "decided_ms", r->now_ms))
	        / REHAB_DAY_MS));
	json_object_set_new(rec, "phase_label",
	    json_string(rehab_label(kit_str(rec, "state"))));
	json_object_set_new(rec, "days_in_phase",
	    json_integer(
	        (r->now_ms - kit_int(rec, "phase_since_ms", r->now_ms))
	        / REHAB_DAY_MS));
}

static void after_release(
    const kit_kind *k, kit_req *r, const kit_transition *t, json_t *rec);

void
rehab_resident_hooks(rehab *h)
{
	kit_kind *k     = &h->kinds[RK_RESIDENT];
	k->on_action    = on_action;
	k->on_get       = on_get;
	k->after_action = after_release;
}

/* The township's reply to the 社区康复 handoff: its transfer id (or the
 * error) goes to the resident's record. */
typedef struct handoff {
	rehab *h;
	char   rid[40];
} handoff;

static void
on_handoff(void *ud, int status, const xz_msg *reply)
{
	handoff *ho = ud;
	rehab   *h  = ho->h;
	json_t  *o  = json_loadb(reply->data, reply->len, 0, NULL);
	json_t  *rec;
	kit_req  r;
	kit_err  e;

	kit_req_internal(&h->c, &r, "system:collab", NULL);
	if (kit_tx_begin(&h->c, &e) != 0)
		goto done;
	rec = kit_store_load(&h->c.store, "resident", ho->rid);
	if (rec == NULL) {
		kit_tx_abort(&h->c);
		goto done;
	}
	if (status == XZ_OK && !(reply->flags & XZ_MSG_ERROR)
	    && kit_str(o, "transfer_id")) {
		json_object_set_new(rec, "handoff_transfer_id",
		    json_string(kit_str(o, "transfer_id")));
		json_object_del(rec, "handoff_error");
		h->c.host->counter_add(h->c.self, "handoff_sent", 1);
	} else {
		json_t *err = json_object_get(o, "error");
		json_object_set_new(rec, "handoff_error",
		    json_string(kit_str(err, "message")
		            ? kit_str(err, "message")
		            : h->c.host->strerror(status)));
		h->c.host->counter_add(h->c.self, "handoff_failed", 1);
		h->c.host->log(h->c.self, XZ_LOG_ERROR,
		    RTR("resident %s: the 社区康复 handoff to %s was not "
		        "sent: %s"),
		    ho->rid, h->community_agency,
		    kit_str(rec, "handoff_error"));
	}
	if (kit_record_write(&r, "resident", rec, 0, "handoff",
	        kit_str(rec, "state"), kit_str(rec, "handoff_transfer_id"), &e)
	        != 0
	    || kit_tx_commit(&h->c, &e) != 0)
		kit_tx_abort(&h->c);
	json_decref(rec);
done:
	kit_req_done(&r);
	json_decref(o);
	free(ho);
}

/* After a release: the 社区康复 handoff (禁毒法 arts. 33, 48) to the
 * township through collab, as the releasing officer. */
static void
after_release(
    const kit_kind *k, kit_req *r, const kit_transition *t, json_t *rec)
{
	rehab   *h = k->ud;
	handoff *ho;
	char     hash[XZ_SHA256_HEX], name[80];
	char    *doc;
	json_t  *pkg;

	if (strcmp(t->action, "release") != 0)
		return;
	doc = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	if (doc == NULL)
		return;
	xz_sha256_hex(doc, strlen(doc), hash);
	snprintf(name, sizeof(name), "release-%s.json", kit_str(rec, "id"));
	pkg = json_pack("{s:s,s:s,s:s,s:{s:s,s:s},s:s,s:[{s:s,s:s,s:s,s:I}],"
	                "s:s}",
	    "type", "COMMUNITY_REHAB_HANDOFF", "from_agency", h->agency,
	    "to_agency", h->community_agency, "subject", "type", "resident",
	    "id", kit_str(rec, "id"), "person_id", kit_str(rec, "id_number"),
	    "documents", "name", name, "media_type", "application/json",
	    "sha256", hash, "size", (json_int_t) strlen(doc), "reason",
	    kit_int(rec, "community_rehab_months", 0) > 0
	        ? "社区康复 ordered by the deciding authority"
	        : "解除强制隔离戒毒");
	free(doc);
	ho = calloc(1, sizeof(*ho));
	if (ho == NULL || pkg == NULL) {
		free(ho);
		json_decref(pkg);
		return;
	}
	ho->h = h;
	snprintf(ho->rid, sizeof(ho->rid), "%s", kit_str(rec, "id"));
	rehab_collab_send(h, r, pkg, on_handoff, ho); /* runs on_handoff */
}
