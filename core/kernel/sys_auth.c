/*
 * sys_auth.c - logging in, sessions and identity administration, answered
 * by the kernel's `sys` actor on top of the identity store (core/auth):
 *
 *   xz.sys.auth.login     {"user","password"}
 *                         -> {"token","session","expires_ms","user","name",
 *                             "agency","roles"}
 *   xz.sys.auth.logout    {"token"}           -> {"logged_out":"t-.."}
 *   xz.sys.auth.whoami    {}                  -> the caller's principal
 *   xz.sys.identity.user.add     {"user","name","agency","roles":[..],
 *                                 "password"?}  (admin)
 *   xz.sys.identity.user.lock    {"user"}       (admin)
 *   xz.sys.identity.user.unlock  {"user"}       (admin)
 *   xz.sys.identity.user.passwd  {"user","password"}   (admin)
 *   xz.sys.identity.user.list    {}             (admin)
 *
 * Argon2id (login, add, passwd) runs on the identity's own login thread,
 * never on a bus worker: a login that takes 300 ms holds up no other
 * message. Its reply and its audit record leave from that thread (bus
 * calls are thread-safe). Every login, success or failure, is an
 * `audit.sys.login` record and a counter of `sys` in `xiezhi status`.
 *
 * At start the store opens DATA_DIR/identity.db, and the kernel asks it
 * to check the session tokens connections present in their HELLO. With
 * auth.demo_users = true, a first start also makes the node CA
 * (DATA_DIR/pki) and one user per role, passwords in
 * DATA_DIR/demo-passwords.txt (0600).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "auth/identity.h"
#include "auth/pki.h"
#include "kernel/kernel_priv.h"
#include "util/fs.h"
#include "util/msg.h"

typedef struct sys_auth {
	xz_plugin     *self;
	const xz_host *h;
	xz_kernel     *k;
	xz_identity   *id; /* owned; NULL after stop */
	char           data_dir[4096];
} sys_auth;

/* ---- replies and audit ---- */

static void
reply_obj(sys_auth *a, const xz_msg *m, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (s == NULL)
		a->h->reply_error(
		    a->self, m, XZ_REPLY_INTERNAL, "out of memory");
	else
		a->h->reply(a->self, m, s, strlen(s));
	free(s);
	json_decref(o);
}

static json_t *
roles_json(char *const *roles)
{
	json_t *v = json_array();
	for (size_t i = 0; roles != NULL && roles[i] != NULL; i++)
		json_array_append_new(v, json_string(roles[i]));
	return v;
}

static json_t *
croles_json(const char *const *roles)
{
	json_t *v = json_array();
	for (size_t i = 0; roles != NULL && roles[i] != NULL; i++)
		json_array_append_new(v, json_string(roles[i]));
	return v;
}

/* An audit record of the identity system: topic audit.sys.<what>. A
 * change (what "identity") is durable in the kernel's spool when XZ_OK;
 * a login or a refusal is a best-effort event, counted when lost
 * (kaudit.c). */
static int
audit(sys_auth *a, const char *what, const char *who, const char *role,
    const char *agency, const char *action, const char *subject_type,
    const char *subject_id, const char *outcome, json_t *extra)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I}",
	    "who", who ? who : "", "role", role ? role : "", "agency",
	    agency ? agency : "", "action", action, "subject_type",
	    subject_type, "subject_id", subject_id ? subject_id : "",
	    "purpose", "authentication", "service", "sys", "outcome", outcome,
	    "time", (json_int_t) (xz_clock_now_us(&a->k->clock) / 1000u));
	if (o != NULL && extra != NULL)
		json_object_update(o, extra);
	json_decref(extra);
	char *s  = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int   rc = XZ_ENOMEM;
	char  topic[64];
	snprintf(topic, sizeof(topic), "audit.sys.%s", what);
	if (s != NULL)
		rc = strcmp(what, "identity") == 0
		    ? xz_kaudit_write(a->k, topic, s)
		    : xz_kaudit_event(a->k, "sys", topic, s, strlen(s));
	else if (strcmp(what, "identity") != 0)
		xz_kaudit_lost(a->k);
	free(s);
	json_decref(o);
	return rc;
}

static const xz_caller *
caller_of(sys_auth *a, const xz_msg *m)
{
	return a->h->caller(a->self, m);
}

static const char *
first_role(const char *const *roles)
{
	return roles != NULL && roles[0] != NULL ? roles[0] : "";
}

static bool
is_admin(const xz_caller *c)
{
	for (size_t i = 0; c != NULL && c->roles && c->roles[i]; i++)
		if (strcmp(c->roles[i], "admin") == 0)
			return true;
	return false;
}

/* Identity administration is for administrators, whatever permissions
 * the config grants on the topic. */
static bool
require_admin(sys_auth *a, const xz_msg *m)
{
	const xz_caller *c = caller_of(a, m);
	char             msg[256];

	if (is_admin(c))
		return true;
	snprintf(msg, sizeof(msg),
	    xz_text("%s needs the role admin; %s has none of it"), m->topic,
	    c && c->user ? c->user : xz_text("the caller"));
	a->h->reply_error(a->self, m, XZ_REPLY_FORBIDDEN, msg);
	audit(a, "denied", c ? c->user : "", c ? first_role(c->roles) : "",
	    c ? c->agency : "", "DENY", "topic", m->topic, "forbidden", NULL);
	return false;
}

static json_t *
body_of(sys_auth *a, const xz_msg *m)
{
	json_error_t e;
	json_t      *o
	    = m->len ? json_loadb(m->data, m->len, 0, &e) : json_object();
	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		a->h->reply_error(a->self, m, XZ_REPLY_BAD_REQUEST,
		    "expected a JSON object");
		return NULL;
	}
	return o;
}

static const char *
str_of(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* ---- the token verifier: link threads, microseconds ---- */

static xz_principal *
verify_token(void *ud, const char *token, const char **why)
{
	sys_auth     *a = ud;
	xz_ident_user u;
	char          sid[XZ_IDENTITY_SID_LEN], auth[64];

	if (a->id == NULL) {
		*why = "the node is stopping";
		return NULL;
	}
	if (xz_identity_token_user(a->id, token, &u, sid, why) != XZ_OK) {
		/* Said to the peer and logged by the link. */
		if (strcmp(*why, "expired") == 0)
			*why = "the session token has expired: log in again";
		else if (strcmp(*why, "revoked") == 0)
			*why
			    = "the session token was revoked (logged out or a "
			      "new password): log in again";
		else if (strcmp(*why, "locked") == 0)
			*why = "the session token's user is locked";
		else if (strcmp(*why, "unknown") == 0)
			*why = "unknown session token";
		return NULL;
	}
	snprintf(auth, sizeof(auth), "token %s", sid);
	xz_principal *p = xz_principal_new(
	    u.user, u.name, u.agency, (const char *const *) u.roles, auth);
	xz_ident_user_clear(&u);
	if (p == NULL)
		*why = "out of memory";
	return p;
}

/* ---- login ---- */

typedef struct login_ctx {
	sys_auth     *a;
	const xz_msg *m; /* retained */
	char          source[160];
} login_ctx;

static const char *
refusal_text(const xz_login_result *r)
{
	if (strcmp(r->why, "locked") == 0)
		return "this account is locked (ask an administrator)";
	if (strcmp(r->why, "rate_limited") == 0)
		return "too many failed logins: try again later";
	return "invalid user or password";
}

/* On the login thread. */
static void
login_done(void *ud, xz_login_result *r)
{
	login_ctx  *c    = ud;
	sys_auth   *a    = c->a;
	json_t     *body = json_loadb(c->m->data, c->m->len, 0, NULL);
	const char *name = body ? str_of(body, "user") : "";
	char        outcome[64];

	if (r->rc == XZ_OK) {
		a->h->counter_add(a->self, "login_ok", 1);
		reply_obj(a, c->m,
		    json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:o}", "token",
		        r->token, "session", r->sid, "expires_ms",
		        (json_int_t) r->expires_ms, "user", r->user.user,
		        "name", r->user.name, "agency", r->user.agency,
		        "roles", roles_json(r->user.roles)));
		xz_log(XZ_LOG_INFO, "auth", "login: %s (%s) from %s, %s",
		    r->user.user, r->user.name, c->source, r->sid);
		audit(a, "login", r->user.user,
		    first_role((const char *const *) r->user.roles),
		    r->user.agency, "LOGIN", "session", r->sid, "ok",
		    json_pack("{s:s,s:I,s:I}", "source", c->source, "took_ms",
		        (json_int_t) r->took_ms, "expires_ms",
		        (json_int_t) r->expires_ms));
	} else if (r->rc == XZ_EPERM) {
		char msg[256];
		bool limited = strcmp(r->why, "rate_limited") == 0;
		a->h->counter_add(a->self,
		    limited ? "login_rate_limited" : "login_failed", 1);
		if (limited)
			snprintf(msg, sizeof(msg), "%s (retry after %llu ms)",
			    refusal_text(r),
			    (unsigned long long) r->retry_after_ms);
		else
			snprintf(msg, sizeof(msg), "%s", refusal_text(r));
		a->h->reply_error(a->self, c->m,
		    limited ? XZ_REPLY_CAPACITY_EXCEEDED
		            : XZ_REPLY_UNAUTHENTICATED,
		    msg);
		xz_log(XZ_LOG_WARN, "auth", "login refused: '%s' from %s: %s",
		    name ? name : "", c->source, r->why);
		snprintf(outcome, sizeof(outcome), "%s:%s",
		    limited ? "refused" : "failed", r->why);
		audit(a, "login", name ? name : "",
		    r->user.user
		        ? first_role((const char *const *) r->user.roles)
		        : "",
		    r->user.user ? r->user.agency : "", "LOGIN", "user",
		    name ? name : "", outcome,
		    json_pack("{s:s,s:I,s:I}", "source", c->source, "took_ms",
		        (json_int_t) r->took_ms, "retry_after_ms",
		        (json_int_t) r->retry_after_ms));
	} else {
		a->h->counter_add(a->self, "login_failed", 1);
		a->h->reply_error(a->self, c->m,
		    r->rc == XZ_ECLOSED ? XZ_REPLY_UNAVAILABLE
		                        : XZ_REPLY_STORE_ERROR,
		    r->why ? r->why : "login failed");
		snprintf(outcome, sizeof(outcome), "error");
		audit(a, "login", name ? name : "", "", "", "LOGIN", "user",
		    name ? name : "", outcome,
		    json_pack("{s:s,s:s}", "source", c->source, "reason",
		        r->why ? r->why : ""));
	}
	json_decref(body);
	xz_ident_user_clear(&r->user);
	a->h->msg_release(a->self, c->m);
	free(c);
}

static void
on_login(void *ud, const xz_msg *m)
{
	sys_auth        *a = ud;
	json_t          *o = body_of(a, m);
	const xz_caller *who;
	login_ctx       *c;
	int              rc;

	if (o == NULL)
		return;
	const char *user = str_of(o, "user"), *pw = str_of(o, "password");
	if (user == NULL || pw == NULL) {
		json_decref(o);
		a->h->reply_error(a->self, m, XZ_REPLY_BAD_REQUEST,
		    "expected {\"user\": \"..\", \"password\": \"..\"}");
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		json_decref(o);
		a->h->reply_error(
		    a->self, m, XZ_REPLY_INTERNAL, "out of memory");
		return;
	}
	/* The source the limiter counts: how the connection was proven
	 * (a uid, a certificate), else the peer's name. */
	who = caller_of(a, m);
	snprintf(c->source, sizeof(c->source), "%s",
	    who && who->auth && who->auth[0] ? who->auth : m->source);
	c->a = a;
	c->m = a->h->msg_retain(a->self, m);
	rc   = xz_identity_login_async(
	      a->id, user, pw, c->source, login_done, c);
	json_decref(o); /* the password was copied */
	if (rc != XZ_OK) {
		a->h->reply_error(a->self, m,
		    rc == XZ_EFULL ? XZ_REPLY_CAPACITY_EXCEEDED
		                   : XZ_REPLY_UNAVAILABLE,
		    rc == XZ_EFULL ? "too many logins waiting: try again"
		                   : "the node is stopping");
		a->h->msg_release(a->self, c->m);
		free(c);
	}
}

static void
on_logout(void *ud, const xz_msg *m)
{
	sys_auth   *a        = ud;
	json_t     *o        = body_of(a, m);
	const char *why      = NULL;
	char        user[80] = "";

	if (o == NULL)
		return;
	const char *token = str_of(o, "token");
	if (token == NULL) {
		json_decref(o);
		a->h->reply_error(a->self, m, XZ_REPLY_BAD_REQUEST,
		    "expected {\"token\": \"..\"}");
		return;
	}
	int rc = xz_identity_logout(a->id, token, user, sizeof(user), &why);
	if (rc == XZ_OK) {
		a->h->counter_add(a->self, "logouts", 1);
		reply_obj(a, m,
		    json_pack("{s:b,s:s}", "logged_out", 1, "user", user));
		audit(a, "login", user, "", "", "LOGOUT", "session", user,
		    "ok", NULL);
	} else {
		char msg[128];
		snprintf(msg, sizeof(msg),
		    "no live session for this token (%s)", why);
		a->h->reply_error(a->self, m,
		    rc == XZ_EIO ? XZ_REPLY_STORE_ERROR : XZ_REPLY_NOT_FOUND,
		    msg);
	}
	json_decref(o);
}

static void
on_whoami(void *ud, const xz_msg *m)
{
	sys_auth        *a = ud;
	const xz_caller *c = caller_of(a, m);

	reply_obj(a, m,
	    json_pack("{s:s,s:s,s:s,s:o,s:s}", "user", c->user ? c->user : "",
	        "name", c->name ? c->name : "", "agency",
	        c->agency ? c->agency : "", "roles", croles_json(c->roles),
	        "auth", c->auth ? c->auth : ""));
}

/* ---- identity administration ---- */

static json_t *
user_json(const xz_ident_user *u)
{
	return json_pack("{s:s,s:s,s:s,s:o,s:s,s:b,s:I,s:I,s:I}", "user",
	    u->user, "name", u->name, "agency", u->agency, "roles",
	    roles_json(u->roles), "state", u->locked ? "locked" : "active",
	    "has_password", u->has_password, "sessions",
	    (json_int_t) u->sessions, "created_ms", (json_int_t) u->created_ms,
	    "updated_ms", (json_int_t) u->updated_ms);
}

static const char *
code_of(int rc)
{
	switch (rc) {
	case XZ_EINVAL:
		return XZ_REPLY_BAD_REQUEST;
	case XZ_EEXIST:
		return XZ_REPLY_EXISTS;
	case XZ_ENOENT:
		return XZ_REPLY_NOT_FOUND;
	case XZ_EIO:
		return XZ_REPLY_STORE_ERROR;
	default:
		return XZ_REPLY_INTERNAL;
	}
}

/* add and passwd hash a password: they run on the login thread. */
typedef struct admin_job {
	sys_auth     *a;
	const xz_msg *m; /* retained */
	json_t       *body; /* owned */
	char          who[80], who_role[40], who_agency[80];
	bool          add;
} admin_job;

static void
admin_run(void *ud)
{
	admin_job  *j   = ud;
	sys_auth   *a   = j->a;
	const char *why = NULL, *user = str_of(j->body, "user");
	int         rc;

	/* The change's record is durable before the change is made: none
	 * without it (kaudit.c); the outcome follows in a second record. */
	if (audit(a, "identity", j->who, j->who_role, j->who_agency,
	        j->add ? "CREATE" : "UPDATE", "user", user ? user : "",
	        "submitted",
	        json_pack("{s:s}", "change", j->add ? "add" : "passwd"))
	    != XZ_OK) {
		a->h->reply_error(a->self, j->m, XZ_REPLY_AUDIT_UNAVAILABLE,
		    "not changed: the change's audit record cannot be "
		    "written");
		a->h->msg_release(a->self, j->m);
		json_decref(j->body);
		free(j);
		return;
	}
	if (j->add) {
		json_t     *jr = json_object_get(j->body, "roles");
		const char *roles[XZ_IDENTITY_MAX_ROLES + 1];
		size_t      n = 0, i;
		json_t     *v;
		if (!json_is_array(jr)
		    || json_array_size(jr) > XZ_IDENTITY_MAX_ROLES) {
			rc  = XZ_EINVAL;
			why = "roles must be an array of 1..16 role ids";
			goto done;
		}
		json_array_foreach(jr, i, v)
		{
			if (!json_is_string(v)) {
				rc  = XZ_EINVAL;
				why = "roles must be strings";
				goto done;
			}
			roles[n++] = json_string_value(v);
		}
		roles[n]           = NULL;
		const char *agency = str_of(j->body, "agency");
		rc = xz_identity_user_add(a->id, user, str_of(j->body, "name"),
		    agency ? agency : "", roles, str_of(j->body, "password"),
		    &why);
	} else {
		rc = xz_identity_user_passwd(
		    a->id, user, str_of(j->body, "password"), &why);
	}
done:
	if (rc == XZ_OK) {
		reply_obj(a, j->m,
		    json_pack("{s:s,s:s}", "user", user,
		        j->add ? "added" : "password",
		        j->add ? "yes" : "set"));
		xz_log(XZ_LOG_INFO, "auth", "%s %s (by %s)",
		    j->add ? xz_text("user added:") : xz_text("password set:"),
		    user, j->who);
	} else {
		char msg[256];
		snprintf(msg, sizeof(msg), "%s '%s': %s",
		    j->add ? "cannot add user" : "cannot set the password of",
		    user ? user : "", why);
		a->h->reply_error(a->self, j->m, code_of(rc), msg);
	}
	audit(a, "identity", j->who, j->who_role, j->who_agency,
	    j->add ? "CREATE" : "UPDATE", "user", user ? user : "",
	    rc == XZ_OK ? "ok" : "failed",
	    json_pack("{s:s}", "change", j->add ? "add" : "passwd"));
	a->h->msg_release(a->self, j->m);
	json_decref(j->body);
	free(j);
}

static void
admin_async(sys_auth *a, const xz_msg *m, json_t *o, bool add)
{
	const xz_caller *c = caller_of(a, m);
	admin_job       *j = calloc(1, sizeof(*j));

	if (str_of(o, "user") == NULL
	    || (!add && str_of(o, "password") == NULL)) {
		a->h->reply_error(a->self, m, XZ_REPLY_BAD_REQUEST,
		    add ? "expected "
		          "{\"user\",\"name\",\"agency\",\"roles\":[..],"
		          "\"password\"?}"
		        : "expected {\"user\": \"..\", \"password\": \"..\"}");
		json_decref(o);
		free(j);
		return;
	}
	if (j == NULL) {
		a->h->reply_error(
		    a->self, m, XZ_REPLY_INTERNAL, "out of memory");
		json_decref(o);
		return;
	}
	j->a    = a;
	j->m    = a->h->msg_retain(a->self, m);
	j->body = o;
	j->add  = add;
	snprintf(j->who, sizeof(j->who), "%s", c->user ? c->user : "");
	snprintf(j->who_role, sizeof(j->who_role), "%s", first_role(c->roles));
	snprintf(j->who_agency, sizeof(j->who_agency), "%s",
	    c->agency ? c->agency : "");
	if (xz_identity_post(a->id, admin_run, j) != XZ_OK) {
		a->h->reply_error(
		    a->self, m, XZ_REPLY_UNAVAILABLE, "the node is stopping");
		a->h->msg_release(a->self, j->m);
		json_decref(o);
		free(j);
	}
}

static void
on_identity(void *ud, const xz_msg *m)
{
	sys_auth   *a   = ud;
	const char *op  = m->topic + strlen("xz.sys.identity.user.");
	const char *why = NULL;
	json_t     *o;

	if (!require_admin(a, m) || (o = body_of(a, m)) == NULL)
		return;
	if (strcmp(op, "add") == 0 || strcmp(op, "passwd") == 0) {
		admin_async(a, m, o, op[0] == 'a');
		return;
	}
	if (strcmp(op, "list") == 0) {
		xz_ident_user *v   = NULL;
		size_t         n   = 0;
		json_t        *arr = json_array();
		if (xz_identity_users(a->id, &v, &n) != XZ_OK) {
			json_decref(arr);
			json_decref(o);
			a->h->reply_error(
			    a->self, m, XZ_REPLY_INTERNAL, "out of memory");
			return;
		}
		for (size_t i = 0; i < n; i++) {
			json_array_append_new(arr, user_json(&v[i]));
			xz_ident_user_clear(&v[i]);
		}
		free(v);
		reply_obj(a, m,
		    json_pack(
		        "{s:o,s:I}", "users", arr, "count", (json_int_t) n));
		json_decref(o);
		return;
	}
	bool lock = strcmp(op, "lock") == 0;
	if (!lock && strcmp(op, "unlock") != 0) {
		json_decref(o);
		a->h->reply_error(a->self, m, XZ_REPLY_NOT_FOUND,
		    "unknown identity request (add, lock, unlock, passwd, "
		    "list)");
		return;
	}
	const char      *user = str_of(o, "user");
	const xz_caller *c    = caller_of(a, m);
	if (user != NULL
	    && audit(a, "identity", c->user, first_role(c->roles), c->agency,
	           "UPDATE", "user", user, "submitted",
	           json_pack("{s:s}", "change", lock ? "lock" : "unlock"))
	        != XZ_OK) {
		a->h->reply_error(a->self, m, XZ_REPLY_AUDIT_UNAVAILABLE,
		    "not changed: the change's audit record cannot be "
		    "written");
		json_decref(o);
		return;
	}
	int rc = user ? xz_identity_user_lock(a->id, user, lock, &why)
	              : XZ_EINVAL;
	if (user == NULL)
		why = "expected {\"user\": \"..\"}";
	if (rc == XZ_OK) {
		reply_obj(a, m,
		    json_pack("{s:s,s:s}", "user", user, "state",
		        lock ? "locked" : "active"));
		xz_log(XZ_LOG_INFO, "auth", "user %s %s (by %s)", user,
		    lock ? xz_text("locked") : xz_text("unlocked"), c->user);
	} else {
		a->h->reply_error(a->self, m, code_of(rc), why);
	}
	audit(a, "identity", c->user, first_role(c->roles), c->agency,
	    "UPDATE", "user", user ? user : "", rc == XZ_OK ? "ok" : "failed",
	    json_pack("{s:s}", "change", lock ? "lock" : "unlock"));
	json_decref(o);
}

/* ---- the demo identity set ---- */

/* One user per role of docs/roles.md, agencies of the demo deployment. */
static const struct demo_user {
	const char *user, *name, *agency, *role;
} demo_users[] = {
	{ "duty1", "张伟", "prison-01", "command_duty" },
	{ "leader1", "李强", "prison-01", "duty_leader" },
	{ "area1", "王磊", "prison-01", "area_officer" },
	{ "padmin1", "刘洋", "prison-01", "prison_admin" },
	{ "pleader1", "陈静", "prison-01", "prison_leader" },
	{ "bureau1", "杨帆", "bureau", "prison_bureau" },
	{ "rehab1", "赵敏", "rehab-01", "rehab_officer" },
	{ "eval1", "黄丽", "rehab-01", "rehab_evaluator" },
	{ "rleader1", "周杰", "rehab-01", "rehab_leader" },
	{ "hotline1", "吴芳", "legal-01", "hotline_operator" },
	{ "reviewer1", "徐婷", "legal-01", "legal_reviewer" },
	{ "lhead1", "孙涛", "legal-01", "legal_head" },
	{ "lawyer1", "马超", "legal-01", "lawyer" },
	{ "dlawyer1", "朱琳", "legal-01", "duty_lawyer" },
	{ "justice1", "胡军", "justice-01", "justice_bureau" },
	{ "clerk1", "郭敏", "prison-01", "case_clerk" },
	{ "mediator1", "林秀英", "township-01", "mediator" },
	{ "kiosk1", "自助终端 1 号", "prison-01", "kiosk" },
	{ "sensor1", "周界感知网关", "prison-01", "sensor" },
	{ "ai1", "AI+AR 评估系统", "rehab-01", "ai_assessor" },
	{ "admin", "系统管理员", "", "admin" },
	{ "auditor1", "何平", "", "auditor" },
};
#define NDEMO (sizeof(demo_users) / sizeof(demo_users[0]))

static void
seed_demo(void *ud)
{
	sys_auth *a = ud;
	char      pw[NDEMO][24], hash[NDEMO][XZ_IDENTITY_HASH_MAX];
	char      path[4200], tmp[4300];
	size_t    added = 0;

	if (xz_identity_user_count(a->id) > 0)
		return;
	xz_log(XZ_LOG_INFO, "auth",
	    "auth.demo_users: making %zu demo users (one per role)", NDEMO);
	for (size_t i = 0; i < NDEMO; i++) {
		if (xz_identity_closing(a->id)) {
			/* Nothing written: the next start makes them. */
			xz_log(XZ_LOG_INFO, "auth",
			    "demo users: stopping before they were made");
			return;
		}
		xz_identity_random_password(pw[i], sizeof(pw[i]));
		if (xz_identity_hash(a->id, pw[i], hash[i]) != XZ_OK) {
			xz_log(XZ_LOG_ERROR, "auth",
			    "demo users: cannot hash a password");
			return;
		}
	}
	/* The file first: users without their passwords would be lost. */
	snprintf(path, sizeof(path), "%s/demo-passwords.txt", a->data_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int   fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f  = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f == NULL) {
		if (fd >= 0)
			close(fd);
		xz_log(XZ_LOG_ERROR, "auth", "demo users: cannot write %s: %s",
		    tmp, strerror(errno));
		return;
	}
	fprintf(f, /* the comment in the language of LANG (kernel_msg.c) */
	    xz_text("# Demo users of node '%s' (auth.demo_users = true), one "
	            "per role.\n# Written once, at the first start; keep it "
	            "private. Log in with:\n#   ./build/xiezhi login --user "
	            "duty1 --password-file FILE\n"
	            "# user\tpassword\trole\tagency\tname\n"),
	    a->k->cfg->node_name);
	for (size_t i = 0; i < NDEMO; i++)
		fprintf(f, "%s\t%s\t%s\t%s\t%s\n", demo_users[i].user, pw[i],
		    demo_users[i].role,
		    demo_users[i].agency[0] ? demo_users[i].agency : "-",
		    demo_users[i].name);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		xz_log(
		    XZ_LOG_ERROR, "auth", "demo users: cannot write %s", path);
		return;
	}
	for (size_t i = 0; i < NDEMO; i++) {
		const char *roles[] = { demo_users[i].role, NULL };
		const char *why     = NULL;
		if (xz_identity_user_add_hashed(a->id, demo_users[i].user,
		        demo_users[i].name, demo_users[i].agency, roles,
		        hash[i], &why)
		    == XZ_OK)
			added++;
		else
			xz_log(XZ_LOG_ERROR, "auth", "demo user %s: %s",
			    demo_users[i].user, why);
	}
	xz_log(XZ_LOG_INFO, "auth",
	    "demo users: %zu made; their passwords are in %s (mode 0600, "
	    "written once)",
	    added, path);
	audit(a, "identity", "node", "admin", "", "CREATE", "user",
	    "demo users", "ok",
	    json_pack("{s:I,s:s}", "count", (json_int_t) added, "change",
	        "demo_users"));
}

static void
demo_pki(sys_auth *a)
{
	char dir[4200], why[512], ca[128], out[4300];

	snprintf(dir, sizeof(dir), "%s/pki", a->data_dir);
	if (xz_pki_ca_exists(dir))
		return;
	snprintf(ca, sizeof(ca), "%s-ca", a->k->cfg->node_name);
	if (xz_pki_ca_init(dir, ca, 0, why, sizeof(why)) != XZ_OK) {
		xz_log(
		    XZ_LOG_ERROR, "auth", "cannot make the node CA: %s", why);
		return;
	}
	snprintf(out, sizeof(out), "%s/node", dir);
	if (xz_pki_issue(dir, a->k->cfg->node_name, "node", NULL, 0, out, NULL,
	        why, sizeof(why))
	    != XZ_OK)
		xz_log(XZ_LOG_ERROR, "auth",
		    "cannot issue the node's certificate: %s", why);
	xz_log(XZ_LOG_INFO, "auth",
	    "node CA made: %s/ca.pem (key ca.key, mode 0600); the node's "
	    "certificate: %s/%s.pem",
	    dir, out, a->k->cfg->node_name);
}

/* ---- life ---- */

/* The kernel's token verifier, set here rather than through kernel.c
 * (sys_auth.c sits below it in the layer's call order, kernel_priv.h).
 * fn is stored last when set and first when cleared, so a link thread
 * never pairs it with another ud. */
static void
set_verifier(xz_kernel *k, xz_token_verify_fn fn, void *ud)
{
	if (fn == NULL)
		atomic_store(&k->verifier.fn, NULL);
	k->verifier.ud = ud;
	if (fn != NULL)
		atomic_store(&k->verifier.fn, fn);
}

static uint64_t
kernel_now_ms(void *ud)
{
	xz_kernel *k = ud;
	return xz_clock_now_us(&k->clock) / 1000u;
}

int
xz_sys_auth_init(xz_plugin *self, const xz_host *h, void **out)
{
	xz_kernel                  *k = self->k;
	const xz_identity_settings *s = &k->cfg->identity;
	sys_auth                   *a = calloc(1, sizeof(*a));
	char                        path[4200], why[512];
	int                         rc;

	*out = NULL;
	if (a == NULL)
		return XZ_ENOMEM;
	a->self = self;
	a->h    = h;
	a->k    = k;
	snprintf(a->data_dir, sizeof(a->data_dir), "%s", k->cfg->data_dir);
	if (xz_mkdirs(a->data_dir, 0700) != 0) {
		xz_log(XZ_LOG_ERROR, "auth",
		    "cannot create %s: %s; logins are unavailable",
		    a->data_dir, strerror(errno));
		free(a);
		return XZ_OK;
	}
	snprintf(path, sizeof(path), "%s/identity.db", a->data_dir);
	xz_identity_cfg ic = {
		.path           = path,
		.token_ttl_ms   = (uint64_t) s->token_ttl_s * 1000u,
		.free_failures  = s->login_free_failures,
		.backoff_ms     = s->login_backoff_ms,
		.backoff_max_ms = s->login_backoff_max_ms,
		.ops_limit      = s->argon2_ops,
		.mem_limit      = (size_t) s->argon2_mem_kib * 1024u,
		.now_ms         = kernel_now_ms,
		.now_ud         = k,
	};
	/* Without its store the node still runs (peer credentials and
	 * certificates need none): logins then get no responder. */
	if ((rc = xz_identity_open(&a->id, &ic, why, sizeof(why))) != XZ_OK) {
		xz_log(XZ_LOG_ERROR, "auth",
		    "identity store: %s; logins are unavailable", why);
		free(a);
		return XZ_OK;
	}
	if (h->subscribe(self, "xz.sys.auth.login", NULL, on_login, a, NULL)
	    || h->subscribe(
	        self, "xz.sys.auth.logout", NULL, on_logout, a, NULL)
	    || h->subscribe(
	        self, "xz.sys.auth.whoami", NULL, on_whoami, a, NULL)
	    || h->subscribe(
	        self, "xz.sys.identity.user.*", NULL, on_identity, a, NULL)) {
		xz_identity_close(a->id);
		free(a);
		return XZ_ENOMEM;
	}
	if (s->demo_users) {
		demo_pki(a);
		if (xz_identity_user_count(a->id) == 0)
			xz_identity_post(a->id, seed_demo, a);
	}
	set_verifier(k, verify_token, a);
	*out = a;
	return XZ_OK;
}

void
xz_sys_auth_stop(void *ud)
{
	sys_auth *a = ud;
	if (a == NULL || a->id == NULL)
		return;
	set_verifier(a->k, NULL, NULL);
	/* Logins still waiting are refused; work posted runs first. */
	xz_identity_close(a->id);
	a->id = NULL;
}

void
xz_sys_auth_fini(void *ud)
{
	sys_auth *a = ud;
	xz_sys_auth_stop(a);
	free(a);
}

/* ---- auth.local and auth.certs at a reload ---- */

/* One principal by uid, gid or certificate name, as the record shows it. */
static json_t *
id_json(int kind, int64_t id, const char *cn, const char *user,
    const char *const *roles)
{
	json_t *o = json_pack("{s:s,s:s,s:o}", "kind",
	    kind == XZ_LINK_ID_UID       ? "uid"
	        : kind == XZ_LINK_ID_GID ? "gid"
	                                 : "cn",
	    "user", user ? user : "", "roles", croles_json(roles));
	if (o != NULL && kind == XZ_LINK_ID_CN)
		json_object_set_new(o, "cn", json_string(cn ? cn : ""));
	else if (o != NULL)
		json_object_set_new(o, "id", json_integer((json_int_t) id));
	return o;
}

int
xz_auth_ids_reload(xz_kernel *k, const xz_config *nc)
{
	size_t      nc0 = k->nlink_cert_ids, n = nc0 + nc->nauth_ids;
	json_t     *was = json_array(), *now = json_array();
	xz_link_id *ids = NULL;
	char      **cns = NULL;
	int         rc  = XZ_ENOMEM;

	/* What is in force (after the node links' own ids) and what the
	 * file says now. */
	pthread_rwlock_rdlock(&k->ids_lock);
	for (size_t i = nc0; i < k->nlink_ids; i++) {
		const xz_link_id *m = &k->link_ids[i];
		json_array_append_new(was,
		    id_json(m->kind, m->id, m->cn, m->who->pub.user,
		        m->who->pub.roles));
	}
	pthread_rwlock_unlock(&k->ids_lock);
	for (size_t i = 0; i < nc->nauth_ids; i++) {
		const xz_auth_id_cfg *a = &nc->auth_ids[i];
		json_array_append_new(now,
		    id_json(a->kind, a->id, a->cn, a->user,
		        (const char *const *) a->roles));
	}
	if (json_equal(was, now)) {
		json_decref(was);
		json_decref(now);
		return XZ_OK;
	}
	/* The new table, built before anything changes. */
	if ((ids = calloc(n ? n : 1, sizeof(*ids))) == NULL
	    || (cns = calloc(n ? n : 1, sizeof(*cns))) == NULL)
		goto fail;
	pthread_rwlock_rdlock(&k->ids_lock);
	for (size_t i = 0; i < nc0; i++) {
		ids[i]     = k->link_ids[i];
		ids[i].who = xz_principal_ref(k->link_ids[i].who);
		if (k->id_cns != NULL && k->id_cns[i] != NULL)
			ids[i].cn = cns[i] = strdup(k->id_cns[i]);
	}
	pthread_rwlock_unlock(&k->ids_lock);
	for (size_t i = 0; i < nc->nauth_ids; i++) {
		const xz_auth_id_cfg *a = &nc->auth_ids[i];
		xz_link_id           *m = &ids[nc0 + i];
		m->kind                 = a->kind;
		m->id                   = a->id;
		if (a->cn != NULL
		    && (m->cn = cns[nc0 + i] = strdup(a->cn)) == NULL)
			goto fail;
		m->who = xz_principal_new(a->user, a->name, a->agency,
		    (const char *const *) a->roles, "");
		if (m->who == NULL)
			goto fail;
	}
	/* No change without its record. */
	{
		json_t *o = json_pack(
		    "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:O,s:O}", "who",
		    "sys", "role", "SYSTEM", "agency", k->cfg->node_name,
		    "action", "UPDATE", "subject_type", "config", "subject_id",
		    "auth.local+auth.certs", "purpose", "config reload",
		    "service", "sys", "outcome", "ok", "time",
		    (json_int_t) (xz_clock_now_us(&k->clock) / 1000u),
		    "before", was, "after", now);
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
		rc = s ? xz_kaudit_write(k, "audit.sys.config", s) : XZ_ENOMEM;
		free(s);
		json_decref(o);
		if (rc != XZ_OK) {
			xz_log(XZ_LOG_ERROR, "kernel",
			    "reload: auth.local and auth.certs stay as they "
			    "were: the change's audit record cannot be "
			    "written");
			goto fail;
		}
	}
	/* In force: connections from now on are known by the new table. */
	pthread_rwlock_wrlock(&k->ids_lock);
	xz_link_id *old_ids = k->link_ids;
	char      **old_cns = k->id_cns;
	size_t      old_n   = k->nlink_ids;
	k->link_ids         = ids;
	k->id_cns           = cns;
	k->nlink_ids        = n;
	k->link_auth.ids    = ids;
	k->link_auth.nids   = n;
	pthread_rwlock_unlock(&k->ids_lock);
	for (size_t i = 0; i < old_n; i++) {
		xz_principal_unref(old_ids[i].who);
		if (old_cns != NULL)
			free(old_cns[i]);
	}
	free(old_ids);
	free(old_cns);
	xz_log(XZ_LOG_INFO, "kernel",
	    "reload: auth.local and auth.certs in force: %zu principals "
	    "(were %zu); connections made from now on are known by them",
	    nc->nauth_ids, json_array_size(was));
	json_decref(was);
	json_decref(now);
	return XZ_OK;
fail:
	for (size_t i = 0; ids != NULL && i < n; i++) {
		xz_principal_unref(ids[i].who);
		if (cns != NULL)
			free(cns[i]);
	}
	free(ids);
	free(cns);
	json_decref(was);
	json_decref(now);
	return rc == XZ_OK ? XZ_ENOMEM : rc;
}
