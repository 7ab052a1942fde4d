/*
 * casework.c - dispositions and correction plans of a resident.
 *
 * A disposition is the centre's proposal to the deciding public-security
 * authority (决定机关, 禁毒法 art. 47):
 *   EARLY_RELEASE  after one year counted from the decision, on an
 *                  approved, passing ONE_YEAR assessment
 *   EXTENSION      1..12 months, at most 12 months in total (approved and
 *                  pending together), before the term ends
 * An officer proposes it (PROPOSED); the centre leader submits it
 * (rehab.disposition.submit), which sends it to the authority as one
 * collab transfer (REHAB_EARLY_RELEASE_PROPOSAL / REHAB_EXTENSION_
 * PROPOSAL) and makes it SUBMITTED; nobody enters it twice. The
 * authority's decision in collab (collab.transfer.decided, published by
 * the collab plugin) makes it APPROVED or REJECTED: an approved extension
 * moves the term end, an approved early release authorizes
 * rehab.resident.release (with the 社区康复 months the authority ordered,
 * 禁毒法 art. 48).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rehab.h"
#include "sha256.h"

static const char *
day_of(int64_t ms, char buf[16])
{
	time_t    t = (time_t) (ms / 1000 + 8 * 3600);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 16, "%Y-%m-%d", &tm);
	return buf;
}

/* Months of EXTENSION dispositions of resident rid in state. */
static int64_t
extension_months(rehab *h, const char *rid, const char *state)
{
	json_t *page = kit_store_list(
	    &h->c.store, "disposition", state, NULL, rid, 100000, 0);
	json_t *d;
	size_t  i;
	int64_t n = 0;

	json_array_foreach(json_object_get(page, "items"), i, d)
	{
		if (strcmp(kit_str(d, "type") ?: "", "EXTENSION") == 0)
			n += kit_int(d, "months", 0);
	}
	json_decref(page);
	return n;
}

/* rehab.disposition.propose {"resident_id","type","months"?,"grounds"?} */
void
rehab_propose_fn(const kit_kind *k, kit_req *r)
{
	rehab      *h      = k->ud;
	const char *rid    = kit_str(r->body, "resident_id");
	const char *type   = kit_str(r->body, "type");
	int64_t     months = kit_int(r->body, "months", 0);
	json_t     *res, *f = NULL;
	kit_err     e;
	char        d1[16], d2[16];

	res = kit_store_load(&h->c.store, "resident", rid);
	if (res == NULL) {
		kit_err_set(&e, KIT_E_NOT_FOUND, RTR("no %s with id %s"),
		    RTR("resident"), rid);
		goto refuse;
	}
	if (strcmp(kit_str(res, "state"), "RELEASED") == 0) {
		kit_err_set(&e, KIT_E_INVALID_STATE,
		    RTR("resident %s is RELEASED: no disposition"), rid);
		goto refuse;
	}
	f = json_pack("{s:s,s:s,s:s,s:s}", "resident_id", rid, "owner", rid,
	    "type", type, "authority", kit_str(res, "deciding_agency"));
	if (strcmp(type, "EARLY_RELEASE") == 0) {
		int64_t decided = kit_int(res, "decided_ms", 0);
		int64_t year
		    = rehab_add_months(decided, REHAB_EARLY_MIN_MONTHS);
		json_t *a;
		if (r->now_ms < year) {
			kit_err_set(&e, KIT_E_INVALID_STATE,
			    RTR("禁毒法 art. 47: early release may be "
			        "proposed "
			        "after one year counted from the decision "
			        "(%s); "
			        "resident %s has served %lld day(s), the year "
			        "ends on %s"),
			    kit_str(res, "decision_date"), rid,
			    (long long) ((r->now_ms - decided) / REHAB_DAY_MS),
			    day_of(year, d1));
			goto refuse;
		}
		a = rehab_passing_assessment(
		    h, rid, (const char *const[]) { "ONE_YEAR", NULL }, NULL);
		if (a == NULL) {
			kit_err_set(&e, KIT_E_INVALID_STATE,
			    RTR("resident %s has no approved, passing "
			        "ONE_YEAR "
			        "assessment: early release cannot be "
			        "proposed"),
			    rid);
			goto refuse;
		}
		json_object_set_new(f, "basis", json_string(kit_str(a, "id")));
		json_decref(a);
	} else {
		int64_t done, pending;
		if (months == 0) {
			kit_err_set(&e, KIT_E_BAD_REQUEST, "%s",
			    RTR("an EXTENSION needs \"months\" (1..12)"));
			goto refuse;
		}
		if (r->now_ms >= kit_int(res, "term_end_ms", 0)) {
			kit_err_set(&e, KIT_E_INVALID_STATE,
			    RTR("resident %s: the term has ended (%s): no "
			        "extension"),
			    rid,
			    day_of(kit_int(res, "term_end_ms", 0) - 1, d2));
			goto refuse;
		}
		done    = kit_int(res, "extension_months", 0);
		pending = extension_months(h, rid, "PROPOSED")
		    + extension_months(h, rid, "SUBMITTED");
		if (done + pending + months > REHAB_EXTENSION_MAX_MONTHS) {
			kit_err_set(&e, KIT_E_INVALID_STATE,
			    RTR("禁毒法 art. 47: an extension is at most 1 "
			        "year "
			        "(12 months) in total; resident %s has %lld "
			        "month(s) approved and %lld pending, %lld "
			        "more "
			        "is refused"),
			    rid, (long long) done, (long long) pending,
			    (long long) months);
			goto refuse;
		}
		json_object_set_new(f, "months", json_integer(months));
	}
	if (kit_str(r->body, "grounds"))
		json_object_set(
		    f, "grounds", json_object_get(r->body, "grounds"));
	json_decref(res);
	kit_create_reply(k, r, f,
	    json_pack("{s:s,s:s,s:I,s:s?}", "resident_id", rid, "type", type,
	        "months", (json_int_t) months, "authority",
	        kit_str(f, "authority")));
	return;
refuse:
	json_decref(f);
	json_decref(res);
	kit_reply_err(r, &e, "disposition", NULL);
}

/* ---- to collab and back ---- */

/* A submit waiting for collab's reply: the leader's request (retained)
 * and who they are. */
typedef struct pending {
	rehab        *h;
	const xz_msg *msg; /* retained */
	char          id[40], user[128], role[64], agency[64];
} pending;

static void
on_sent(void *ud, int status, const xz_msg *reply)
{
	pending              *p = ud;
	rehab                *h = p->h;
	json_t               *o = json_loadb(reply->data, reply->len, 0, NULL);
	kit_req               r;
	kit_err               e;
	json_t               *rec;
	const kit_transition *t = NULL;

	kit_req_adopt(&h->c, p->msg, json_object(), &r);
	r.actor.user   = p->user;
	r.actor.role   = p->role;
	r.actor.agency = p->agency;
	if (status != XZ_OK || (reply->flags & XZ_MSG_ERROR)
	    || kit_str(o, "transfer_id") == NULL) {
		json_t *err = json_object_get(o, "error");
		kit_err_set(&e,
		    status == XZ_ETIMEDOUT           ? KIT_E_TIMEOUT
		        : status == XZ_ENORESPONDERS ? KIT_E_NO_RESPONDERS
		                                     : KIT_E_UNAVAILABLE,
		    RTR("the deciding authority could not be reached through "
		        "collab: %s"),
		    kit_str(err, "message") ? kit_str(err, "message")
		                            : h->c.host->strerror(status));
		if (kit_str(err, "code")
		    && strcmp(kit_str(err, "code"), "forbidden") == 0)
			e.code = KIT_E_FORBIDDEN;
		else if (kit_str(err, "code")
		    && strcmp(kit_str(err, "code"), "bad_request") == 0)
			e.code = KIT_E_BAD_REQUEST;
		kit_reply_err(&r, &e, "disposition", p->id);
		goto done;
	}
	json_object_set(
	    r.body, "transfer_id", json_object_get(o, "transfer_id"));
	if (kit_tx_begin(&h->c, &e) != 0)
		goto fail;
	rec = kit_apply_tx(
	    &h->kinds[RK_DISPOSITION], &r, p->id, "submit", &t, &e);
	if (rec == NULL) {
		kit_tx_abort(&h->c);
		goto fail;
	}
	if (kit_tx_commit(&h->c, &e) != 0) {
		json_decref(rec);
		goto fail;
	}
	json_object_set_new(rec, "transfer", json_incref(o));
	kit_reply(&r, rec);
	goto done;
fail:
	kit_reply_err(&r, &e, "disposition", p->id);
done:
	kit_req_done(&r);
	h->c.host->msg_release(h->c.self, p->msg);
	json_decref(o);
	free(p);
}

/* rehab.disposition.submit {"id"}: the centre leader sends the proposal
 * to the deciding authority through collab. */
void
rehab_submit_fn(const kit_kind *k, kit_req *r)
{
	rehab      *h  = k->ud;
	const char *id = kit_str(r->body, "id");
	json_t     *d, *res = NULL, *a = NULL, *pkg, *docs;
	kit_err     e;
	char        hash[XZ_SHA256_HEX], name[80];
	char       *s;
	pending    *p;

	d = kit_store_load(&h->c.store, "disposition", id);
	if (d == NULL) {
		kit_err_set(&e, KIT_E_NOT_FOUND, RTR("no %s with id %s"),
		    RTR("disposition"), id);
		goto refuse;
	}
	if (strcmp(kit_str(d, "state"), "PROPOSED") != 0) {
		kit_err_set(&e, KIT_E_INVALID_STATE,
		    RTR("disposition %s is %s: only a PROPOSED one can be "
		        "submitted"),
		    id, kit_str(d, "state"));
		goto refuse;
	}
	res = kit_store_load(
	    &h->c.store, "resident", kit_str(d, "resident_id"));
	if (res == NULL) {
		kit_err_set(&e, KIT_E_NOT_FOUND, RTR("no %s with id %s"),
		    RTR("resident"), kit_str(d, "resident_id"));
		goto refuse;
	}
	/* the documents: the proposal and, for an early release, the
	 * assessment it rests on, as content hashes */
	docs = json_array();
	s    = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	xz_sha256_hex(s, strlen(s), hash);
	snprintf(name, sizeof(name), "proposal-%s.json", id);
	json_array_append_new(docs,
	    json_pack("{s:s,s:s,s:s,s:I}", "name", name, "media_type",
	        "application/json", "sha256", hash, "size",
	        (json_int_t) strlen(s)));
	free(s);
	if (kit_str(d, "basis")
	    && (a = kit_store_load(
	            &h->c.store, "assessment", kit_str(d, "basis")))) {
		s = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
		xz_sha256_hex(s, strlen(s), hash);
		snprintf(name, sizeof(name), "assessment-%s.json",
		    kit_str(d, "basis"));
		json_array_append_new(docs,
		    json_pack("{s:s,s:s,s:s,s:I}", "name", name, "media_type",
		        "application/json", "sha256", hash, "size",
		        (json_int_t) strlen(s)));
		free(s);
		json_decref(a);
	}
	pkg = json_pack("{s:s,s:s,s:s,s:{s:s,s:s},s:s,s:o}", "type",
	    strcmp(kit_str(d, "type"), "EXTENSION") == 0
	        ? "REHAB_EXTENSION_PROPOSAL"
	        : "REHAB_EARLY_RELEASE_PROPOSAL",
	    "from_agency", h->agency, "to_agency",
	    kit_str(res, "deciding_agency"), "subject", "type", "disposition",
	    "id", id, "person_id", kit_str(res, "id_number"), "documents",
	    docs);
	if (kit_str(d, "grounds"))
		json_object_set(pkg, "reason", json_object_get(d, "grounds"));
	p = calloc(1, sizeof(*p));
	if (p == NULL || pkg == NULL) {
		free(p);
		json_decref(pkg);
		kit_err_set(&e, KIT_E_INTERNAL, "out of memory");
		goto refuse;
	}
	p->h   = h;
	p->msg = h->c.host->msg_retain(h->c.self, r->msg);
	snprintf(p->id, sizeof(p->id), "%s", id);
	snprintf(p->user, sizeof(p->user), "%s", r->actor.user);
	snprintf(p->role, sizeof(p->role), "%s", r->actor.role);
	snprintf(p->agency, sizeof(p->agency), "%s", r->actor.agency);
	json_decref(d);
	json_decref(res);
	rehab_collab_send(h, r, pkg, on_sent, p); /* on_sent replies */
	return;
refuse:
	json_decref(d);
	json_decref(res);
	kit_reply_err(r, &e, "disposition", id);
}

/* collab.transfer.decided from the collab plugin: the deciding
 * authority's decision on one of this centre's proposals. */
static void
on_decided(void *ud, const xz_msg *m)
{
	rehab                *h = ud;
	json_t               *ev, *subj, *by, *d = NULL;
	const char           *did, *decision;
	kit_req               r;
	kit_err               e;
	const kit_transition *t = NULL;

	if (m->kind != XZ_KIND_EVENT
	    || strcmp(m->source ? m->source : "", h->collab_plugin) != 0)
		return; /* only the collab plugin's word counts */
	if (XZ_HAS_MEMBER(h->c.host, xz_host, caller)) {
		const xz_caller *who = h->c.host->caller(h->c.self, m);
		char             want[128];
		snprintf(want, sizeof(want), "plugin:%s", h->collab_plugin);
		if (strcmp(who->user, want) != 0)
			return; /* a link peer named like the plugin */
	}
	ev       = json_loadb(m->data, m->len, 0, NULL);
	subj     = json_object_get(ev, "subject");
	by       = json_object_get(ev, "by");
	did      = kit_str(subj, "id");
	decision = kit_str(ev, "decision");
	if (strcmp(kit_str(subj, "type") ?: "", "disposition") != 0
	    || strcmp(kit_str(ev, "from_agency") ?: "", h->agency) != 0
	    || did == NULL || decision == NULL) {
		json_decref(ev);
		return; /* not about one of ours */
	}
	kit_req_internal(&h->c, &r, "system:collab", NULL);
	d = kit_store_load(&h->c.store, "disposition", did);
	if (d == NULL
	    || strcmp(kit_str(d, "transfer_id") ?: "",
	           kit_str(ev, "transfer_id") ?: "")
	        != 0
	    || strcmp(
	           kit_str(d, "authority") ?: "", kit_str(by, "agency") ?: "")
	        != 0) {
		h->c.host->log(h->c.self, XZ_LOG_WARN,
		    RTR("collab decision on %s ignored: not the transfer or "
		        "not "
		        "the deciding authority of a submitted disposition"),
		    did);
		h->c.host->counter_add(h->c.self, "decision_ignored", 1);
		goto done;
	}
	/* the authority acts: its clerk and agency, from collab's event */
	r.actor.user   = kit_str(by, "user");
	r.actor.role   = kit_str(by, "role");
	r.actor.agency = kit_str(by, "agency");
	json_object_set(r.body, "decision", json_object_get(ev, "decision"));
	if (json_object_get(ev, "decision_no"))
		json_object_set(
		    r.body, "decision_no", json_object_get(ev, "decision_no"));
	if (json_object_get(ev, "months"))
		json_object_set(
		    r.body, "months", json_object_get(ev, "months"));
	if (json_object_get(ev, "community_rehab_months"))
		json_object_set(r.body, "community_rehab_months",
		    json_object_get(ev, "community_rehab_months"));
	if (kit_tx_begin(&h->c, &e) != 0)
		goto fail;
	json_t *rec = kit_apply_tx(&h->kinds[RK_DISPOSITION], &r, did,
	    strcmp(decision, "REJECTED") == 0 ? "reject" : "approve", &t, &e);
	if (rec == NULL) {
		kit_tx_abort(&h->c);
		goto fail;
	}
	json_decref(rec);
	if (kit_tx_commit(&h->c, &e) != 0)
		goto fail;
	h->c.host->counter_add(h->c.self, "decisions_applied", 1);
	goto done;
fail:
	h->c.host->log(h->c.self, XZ_LOG_ERROR,
	    RTR("collab decision on %s not applied: %s"), did, e.msg);
	h->c.host->counter_add(h->c.self, "decision_failed", 1);
done:
	json_decref(d);
	json_decref(ev);
	kit_req_done(&r);
}

/* Submit records the transfer; the authority's approval changes the
 * resident in the same transaction. */
static int
disposition_on_action(const kit_kind *k, kit_req *r, const kit_transition *t,
    json_t *rec, json_t *ev, kit_err *e)
{
	rehab      *h    = k->ud;
	const char *rid  = kit_str(rec, "resident_id");
	const char *type = kit_str(rec, "type");
	json_t     *res;
	kit_change  ch;

	json_object_set_new(ev, "resident_id", json_string(rid));
	json_object_set_new(ev, "type", json_string(type));
	if (strcmp(t->action, "submit") == 0) {
		/* on_sent put collab's transfer id in the body */
		json_object_set(rec, "transfer_id",
		    json_object_get(r->body, "transfer_id"));
		json_object_set(ev, "transfer_id",
		    json_object_get(r->body, "transfer_id"));
		return 0;
	}
	if (kit_str(r->body, "decision_no"))
		json_object_set_new(rec, "decision_no",
		    json_string(kit_str(r->body, "decision_no")));
	if (strcmp(t->action, "approve") != 0)
		return 0;
	json_object_set_new(rec, "decided_by", json_string(r->actor.agency));
	res = kit_store_load(&h->c.store, "resident", rid);
	if (res == NULL) {
		kit_err_set(e, KIT_E_NOT_FOUND, RTR("no %s with id %s"),
		    RTR("resident"), rid);
		return -1;
	}
	if (strcmp(type, "EXTENSION") == 0) {
		int64_t months = kit_int(r->body, "months", 0);
		if (months < 1 || months > kit_int(rec, "months", 0))
			months = kit_int(rec, "months", 0);
		int64_t end
		    = rehab_add_months(kit_int(res, "term_end_ms", 0), months);
		json_object_set_new(
		    rec, "approved_months", json_integer(months));
		json_object_set_new(res, "term_end_ms", json_integer(end));
		json_object_set_new(res, "extension_months",
		    json_integer(
		        kit_int(res, "extension_months", 0) + months));
		json_object_set_new(ev, "term_end_ms", json_integer(end));
	} else {
		json_object_set_new(res, "release_authorized_by",
		    json_string(kit_str(rec, "id")));
		json_object_set_new(res, "release_type", json_string(type));
		if (kit_int(r->body, "community_rehab_months", 0) > 0)
			json_object_set_new(res, "community_rehab_months",
			    json_integer(kit_int(
			        r->body, "community_rehab_months", 0)));
	}
	json_object_set_new(res, "updated_ms", json_integer(r->now_ms));
	ch = (kit_change) { .action = "disposition-approved",
		.from               = kit_str(res, "state"),
		.to                 = kit_str(res, "state"),
		.who                = r->actor.user,
		.role               = r->actor.role,
		.agency             = r->actor.agency,
		.why                = kit_str(rec, "id"),
		.at_ms              = r->now_ms };
	if (kit_store_save(&h->c.store, "resident", res, 0) != 0
	    || kit_store_history_add(&h->c.store, "resident", rid, &ch) != 0) {
		kit_err_set(e, KIT_E_STORE_ERROR, "%s", h->c.store.err);
		json_decref(res);
		return -1;
	}
	json_decref(res);
	return 0;
}

/* rehab.plan.draft {"resident_id","goals":[...],"centre"?} */
void
rehab_plan_draft_fn(const kit_kind *k, kit_req *r)
{
	rehab      *h   = k->ud;
	const char *rid = kit_str(r->body, "resident_id");
	json_t     *res;
	json_t     *f;
	kit_err     e;

	res = kit_store_load(&h->c.store, "resident", rid);
	if (res == NULL) {
		kit_err_set(&e, KIT_E_NOT_FOUND, RTR("no %s with id %s"),
		    RTR("resident"), rid);
		kit_reply_err(r, &e, "plan", NULL);
		return;
	}
	json_decref(res);
	f = json_pack("{s:s,s:s,s:O,s:[]}", "resident_id", rid, "owner", rid,
	    "goals", json_object_get(r->body, "goals"), "sessions");
	if (kit_str(r->body, "centre"))
		json_object_set_new(
		    f, "centre", json_string(kit_str(r->body, "centre")));
	kit_create_reply(k, r, f, json_pack("{s:s}", "resident_id", rid));
}

static int
plan_on_action(const kit_kind *k, kit_req *r, const kit_transition *t,
    json_t *rec, json_t *ev, kit_err *e)
{
	(void) k;
	json_object_set_new(
	    ev, "resident_id", json_string(kit_str(rec, "resident_id")));
	if (strcmp(t->action, "update") == 0) {
		json_object_set(
		    rec, "goals", json_object_get(r->body, "goals"));
	} else if (strcmp(t->action, "record-session") == 0) {
		json_t *s   = json_object_get(r->body, "session");
		json_t *arr = json_object_get(rec, "sessions");
		json_t *tp  = json_object_get(s, "topic");
		if (!json_is_boolean(json_object_get(s, "attended"))
		    || (tp && !json_is_string(tp))) {
			kit_err_set(e, KIT_E_BAD_REQUEST, "%s",
			    RTR("rehab.plan.record-session: \"session\" must "
			        "be {\"topic\":..,\"attended\":true|false}"));
			return -1;
		}
		if (!json_is_array(arr)) {
			arr = json_array();
			json_object_set_new(rec, "sessions", arr);
		}
		json_array_append(arr, s);
		json_object_set(
		    ev, "attended", json_object_get(s, "attended"));
		json_object_set_new(
		    ev, "sessions", json_integer(json_array_size(arr)));
	}
	return 0;
}

void
rehab_casework_hooks(rehab *h)
{
	h->kinds[RK_DISPOSITION].on_action = disposition_on_action;
	h->kinds[RK_PLAN].on_action        = plan_on_action;
}

int
rehab_casework_subscribe(rehab *h)
{
	return h->c.host->subscribe(
	    h->c.self, "collab.transfer.decided", NULL, on_decided, h, NULL);
}
