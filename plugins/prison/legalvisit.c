/*
 * legalvisit.c - the prison decides on a lawyer's visit (律师会见). A
 * LEGAL visit requested with the provider's directory id and a legal-aid
 * case (by the legal plugin after an assignment, or by the lawyer) is
 * checked with the legal plugin before anyone approves it:
 *   1. legal.provider.get: the provider is in the legal-aid directory,
 *      active, and its licence number is the visitor's;
 *   2. legal.aid.get: the case names that provider and this prisoner, is
 *      in force (ASSIGNED or IN_SERVICE), and its assignment letter (指派
 *      函, the 法律援助公函) is the one the request carries.
 * Both hold: the prison approves and books the first free slot in its
 * visiting hours (records.c), at once (律师会见监狱在押罪犯规定 art. 8:
 * at once or within 48 hours). One fails: the visit is rejected with the
 * reason. The legal plugin cannot be asked (not loaded, timeout): the
 * visit stays REQUESTED for the 狱政科 (prison_admin) to decide, and
 * prison.visit.check-failed says why. Legal learns the outcome from the
 * visit's events (approved, booked, rejected).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prison.h"

/* One check in flight: freed by the last callback. */
typedef struct vcheck {
	prison  *p;
	char     id[64];
	json_t  *visit; /* the visit record (owned) */
	uint64_t timer;
} vcheck;

static void
check_free(vcheck *v)
{
	json_decref(v->visit);
	free(v);
}

static const char *
visitor(vcheck *v, const char *key)
{
	return kit_str(json_object_get(v->visit, "visitor"), key);
}

/* Apply action (approve, book, reject) as the prison itself, with why. */
static json_t *
apply(
    vcheck *v, const char *action, const char *why, json_t *check, kit_err *e)
{
	kit_req r;
	json_t *rec;

	kit_req_internal(&v->p->c, &r, "plugin:prison",
	    json_pack("{s:s,s:s}", "reason", why, "purpose", "legal visit"));
	if (check)
		json_object_set(r.body, "check", check);
	rec = kit_apply(&v->p->kinds[PK_VISIT], &r, v->id, action, e);
	kit_req_done(&r);
	return rec;
}

static void
reject(vcheck *v, const char *why)
{
	kit_err e = { 0 };
	json_t *check
	    = json_pack("{s:s,s:s}", "result", "MISMATCH", "reason", why);
	json_t *rec = apply(v, "reject", why, check, &e);

	if (rec == NULL)
		v->p->c.host->log(v->p->c.self, XZ_LOG_ERROR,
		    PT("visit %s: cannot reject: %s"), v->id, e.msg);
	else
		v->p->c.host->log(v->p->c.self, XZ_LOG_INFO,
		    PT("visit %s rejected: %s"), v->id, why);
	json_decref(check);
	json_decref(rec);
	check_free(v);
}

static void
unavailable(vcheck *v, const char *why)
{
	v->p->c.host->log(v->p->c.self, XZ_LOG_WARN,
	    PT("visit %s: the legal plugin could not be asked (%s): left for "
	       "the prison administration (prison_admin) to decide"),
	    v->id, why);
	kit_emit(&v->p->c, "prison.visit.check-failed",
	    json_pack("{s:s,s:s,s:I}", "id", v->id, "error", why, "at_ms",
	        (json_int_t) v->p->c.host->now_ms(v->p->c.self)));
	check_free(v);
}

static void
approve(vcheck *v)
{
	char    why[400];
	kit_err e = { 0 };
	json_t *rec;
	json_t *check;

	snprintf(why, sizeof(why),
	    PT("licence %s of provider %s and assignment letter %s of case %s "
	       "checked with the legal plugin"),
	    visitor(v, "licence"), visitor(v, "provider_id"),
	    kit_str(v->visit, "letter"), kit_str(v->visit, "legal_aid_id"));
	check = json_pack("{s:s,s:s?,s:s?,s:s?}", "result", "VERIFIED",
	    "provider_id", visitor(v, "provider_id"), "licence",
	    visitor(v, "licence"), "letter", kit_str(v->visit, "letter"));
	rec   = apply(v, "approve", why, check, &e);
	json_decref(check);
	if (rec == NULL) {
		v->p->c.host->log(v->p->c.self, XZ_LOG_ERROR,
		    PT("visit %s: cannot approve: %s"), v->id, e.msg);
		check_free(v);
		return;
	}
	json_decref(rec);
	rec = apply(v, "book", "booked in the visiting hours", NULL, &e);
	if (rec == NULL)
		v->p->c.host->log(v->p->c.self, XZ_LOG_WARN,
		    PT("visit %s approved but not booked: %s"), v->id, e.msg);
	json_decref(rec);
	check_free(v);
}

/* The reply's object, or NULL with code and message of its error. */
static json_t *
reply_of(
    int status, const xz_msg *m, char *code, size_t cn, char *text, size_t tn)
{
	json_t *o
	    = (m && m->data) ? json_loadb(m->data, m->len, 0, NULL) : NULL;
	json_t *err = json_object_get(o, "error");

	if (status == XZ_OK && json_is_object(o) && err == NULL)
		return o;
	snprintf(code, cn, "%s",
	    kit_str(err, "code")
	        ? kit_str(err, "code")
	        : (status == XZ_ETIMEDOUT ? "timeout" : "unavailable"));
	snprintf(text, tn, "%s",
	    kit_str(err, "message") ? kit_str(err, "message") : "no reply");
	json_decref(o);
	return NULL;
}

static int ask(vcheck *v, const char *topic, const char *id, xz_reply_fn fn);

static void
on_case(void *ud, int status, const xz_msg *m)
{
	vcheck *v = ud;
	char    code[64], text[400], why[600];
	json_t *c
	    = reply_of(status, m, code, sizeof(code), text, sizeof(text));
	const char *st;

	if (c == NULL) {
		snprintf(why, sizeof(why), "legal.aid.get %s: %s: %s",
		    kit_str(v->visit, "legal_aid_id"), code, text);
		if (strcmp(code, "not_found") == 0)
			reject(v, why);
		else
			unavailable(v, why);
		return;
	}
	st = kit_str(c, "state") ? kit_str(c, "state") : "-";
	if (strcmp(kit_str(c, "provider_id") ? kit_str(c, "provider_id") : "",
	        visitor(v, "provider_id"))
	    != 0)
		snprintf(why, sizeof(why),
		    PT("legal-aid case %s is assigned to provider %s, not to "
		       "%s"),
		    kit_str(v->visit, "legal_aid_id"),
		    kit_str(c, "provider_id") ? kit_str(c, "provider_id")
		                              : "-",
		    visitor(v, "provider_id"));
	else if (strcmp(st, "ASSIGNED") != 0 && strcmp(st, "IN_SERVICE") != 0)
		snprintf(why, sizeof(why),
		    PT("legal-aid case %s is %s: no assignment in force"),
		    kit_str(v->visit, "legal_aid_id"), st);
	else if (kit_str(c, "prisoner_id") == NULL
	    || strcmp(
	           kit_str(c, "prisoner_id"), kit_str(v->visit, "prisoner_id"))
	        != 0)
		snprintf(why, sizeof(why),
		    PT("legal-aid case %s is not for prisoner %s"),
		    kit_str(v->visit, "legal_aid_id"),
		    kit_str(v->visit, "prisoner_id"));
	else if (kit_str(c, "assignment_letter") == NULL
	    || strcmp(kit_str(c, "assignment_letter"),
	           kit_str(v->visit, "letter"))
	        != 0)
		snprintf(why, sizeof(why),
		    PT("assignment letter %s does not match the letter of "
		       "legal-aid case %s (%s)"),
		    kit_str(v->visit, "letter"),
		    kit_str(v->visit, "legal_aid_id"),
		    kit_str(c, "assignment_letter")
		        ? kit_str(c, "assignment_letter")
		        : "-");
	else
		why[0] = '\0';
	json_decref(c);
	if (why[0])
		reject(v, why);
	else
		approve(v);
}

static void
on_provider(void *ud, int status, const xz_msg *m)
{
	vcheck *v = ud;
	char    code[64], text[400], why[600];
	json_t *pr
	    = reply_of(status, m, code, sizeof(code), text, sizeof(text));

	if (pr == NULL) {
		if (strcmp(code, "not_found") == 0) {
			snprintf(why, sizeof(why),
			    PT("provider %s is not in the legal-aid "
			       "directory"),
			    visitor(v, "provider_id"));
			reject(v, why);
		} else {
			snprintf(why, sizeof(why),
			    "legal.provider.get %s: %s: %s",
			    visitor(v, "provider_id"), code, text);
			unavailable(v, why);
		}
		return;
	}
	if (kit_str(pr, "licence") == NULL
	    || strcmp(kit_str(pr, "licence"), visitor(v, "licence")) != 0)
		snprintf(why, sizeof(why),
		    PT("licence %s is not the licence of provider %s in the "
		       "legal-aid directory (%s)"),
		    visitor(v, "licence"), visitor(v, "provider_id"),
		    kit_str(pr, "licence") ? kit_str(pr, "licence") : "-");
	else if (json_is_false(json_object_get(pr, "active")))
		snprintf(why, sizeof(why),
		    PT("provider %s is not active in the legal-aid directory"),
		    visitor(v, "provider_id"));
	else
		why[0] = '\0';
	json_decref(pr);
	if (why[0]) {
		reject(v, why);
		return;
	}
	if (ask(v, "legal.aid.get", kit_str(v->visit, "legal_aid_id"), on_case)
	    != 0)
		return;
}

/* Ask the legal plugin; on a failed send the check ends (unavailable).
 * 0 if sent. */
static int
ask(vcheck *v, const char *topic, const char *id, xz_reply_fn fn)
{
	json_t *q = json_pack("{s:{s:s,s:s,s:s},s:s,s:s}", "actor", "user",
	    "plugin:prison", "role", "plugin", "agency", v->p->agency, "id",
	    id, "purpose", "legal visit check");
	char   *s = q ? json_dumps(q, JSON_COMPACT) : NULL;
	int64_t t = 5000;
	int     rc;
	char    why[200];

	json_decref(q);
	v->p->c.host->opt_int(v->p->c.self, "legal_timeout_ms", &t);
	rc = s ? v->p->c.host->request(
	         v->p->c.self, topic, s, strlen(s), (uint32_t) t, fn, v)
	       : XZ_ENOMEM;
	free(s);
	if (rc != XZ_OK) {
		snprintf(why, sizeof(why), "%s: %s", topic,
		    v->p->c.host->strerror(rc));
		unavailable(v, why);
		return -1;
	}
	return 0;
}

static void
on_start(void *ud, uint64_t timer_id)
{
	vcheck *v = ud;

	(void) timer_id;
	v->visit = kit_store_load(&v->p->c.store, "visit", v->id);
	if (v->visit == NULL
	    || strcmp(kit_str(v->visit, "state"), "REQUESTED") != 0) {
		check_free(v);
		return;
	}
	ask(v, "legal.provider.get", visitor(v, "provider_id"), on_provider);
}

void
prison_legal_visit_check(prison *p, const char *visit_id)
{
	vcheck *v  = calloc(1, sizeof(*v)); /* freed when the check ends */
	int     on = 1;

	p->c.host->opt_bool(p->c.self, "legal_visit_check", &on);
	if (v == NULL || !on) {
		free(v);
		return;
	}
	v->p = p;
	snprintf(v->id, sizeof(v->id), "%s", visit_id);
	/* after this request's reply went out (its batch committed) */
	if (p->c.host->timer_start(p->c.self, 0, 0, on_start, v, &v->timer)
	    != XZ_OK)
		free(v);
}
