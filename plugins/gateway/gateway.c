/*
 * gateway - the node's HTTP/WebSocket door (docs/http.md): the JSON API
 * (login, calls, event streams), /metrics, /healthz, /readyz and the web
 * dashboard's static files, on libwebsockets.
 *
 * This file is the actor half: sessions, every bus call and subscription,
 * metrics. It runs only in the plugin's callbacks. The server thread
 * (gw_server.c) hands it gw_jobs and gets gw_outs back (gw.h says how).
 *
 * Every bus operation made for a user goes through one function per
 * operation below (gw_request, gw_subscribe, gw_session_open,
 * gw_session_close): that is where the on-behalf-of calls of the SDK go.
 *
 * Counters (xiezhi status): calls, logins, logins_denied, events_out,
 * slow_clients, bad_requests.
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include <xiezhi/i18n.h>
#include <xiezhi/xiezhi.h>

#include "gw.h"

#ifndef GW_WEB_ROOT_BUILD
#define GW_WEB_ROOT_BUILD ""
#endif
#ifndef GW_WEB_ROOT_INSTALL
#define GW_WEB_ROOT_INSTALL "/usr/share/xiezhi/web"
#endif

#define NBUCKETS 14
static const double lat_bounds[NBUCKETS] = { 0.0005, 0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

/* HTTP status of each reply code (the SDK's table). */
#define ROW(sym, wire, meaning, http) { wire, http },
static const struct {
	const char *code;
	int         http;
} reply_http[] = { XZ_REPLY_CODE_LIST(ROW) };
#undef ROW
#define ROW(sym, value, wire, message) [sym] = wire,
static const char *const wire_of[XZ_ERR_COUNT] = { XZ_ERROR_LIST(ROW) };
#undef ROW

enum bad {
	B_MALFORMED,
	B_BAD_TOPIC,
	B_UNAUTH,
	B_EXPIRED,
	B_CSRF,
	B_FORBIDDEN,
	B_NO_RESPONDERS,
	B_TIMEOUT,
	B__COUNT
};
static const char *const bad_names[B__COUNT]
    = { "malformed_json", "bad_topic", "unauthenticated", "session_expired",
	      "csrf", "forbidden", "no_responders", "timeout" };

/* One logged-in user. Owned by the gateway's session list. */
typedef struct sess {
	struct sess *next;
	char         token[GW_TOKEN_MAX];
	char         csrf[40];
	json_t      *who; /* {user,name,agency,roles}; owned */
	uint64_t     expires_ms;
	void        *bus; /* the host's session handle, when it has one */
} sess;

/* One bus subscription: one session's pattern, shared by every stream
 * the session opened on it (one handler call per event, then a loop).
 * Owned by the gateway's list. */
typedef struct sub {
	struct sub *next;
	struct gw  *g;
	char        token[GW_TOKEN_MAX];
	char        pattern[GW_TOPIC_MAX];
	uint64_t    id;
	gw_client **clients; /* owned array; one reference each */
	size_t      n, cap;
} sub;

/* Failed logins per client address. */
typedef struct limit {
	char     peer[GW_PEER_MAX];
	uint64_t since_ms;
	int      fails;
} limit;

#define LIMITS 256

typedef struct gw {
	xz_plugin     *self;
	const xz_host *host;
	gw_opts        o;
	char           web_root[1024];
	int64_t        call_timeout_ms, login_max_failures, login_window_s;
	int            sessions_ok; /* the host acts for our users */
	gw_shared      sh;
	gw_server     *server;
	uint64_t       sweep;
	sess          *sessions;
	sub           *subs;
	limit          limits[LIMITS];
	/* The last event's frames, shared by every client of a fan-out. */
	uint8_t   last_id[16];
	gw_frame *last_ws, *last_sse;
	int       dirty;
	/* Metrics of the actor. */
	uint64_t lat_counts[NBUCKETS + 1];
	double   lat_sum;
	uint64_t lat_n;
	uint64_t bad[B__COUNT];
	uint64_t logins_ok, logins_denied, logins_limited, logouts;
	uint64_t events_out, events_overflow, calls;
	uint64_t status_counts[600];
	int      stopping;
} gw;

/* ---- small helpers ---- */

static uint64_t
mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static void
random_hex(char *out, size_t bytes)
{
	unsigned char b[64];
	if (bytes > sizeof(b))
		bytes = sizeof(b);
	if (getrandom(b, bytes, 0) != (ssize_t) bytes)
		for (size_t i = 0; i < bytes;
		     i++) /* never: getrandom blocks */
			b[i] = (unsigned char) (rand() ^ (int) mono_us());
	for (size_t i = 0; i < bytes; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static int
http_of_code(const char *code)
{
	for (size_t i = 0; i < sizeof(reply_http) / sizeof(reply_http[0]); i++)
		if (strcmp(reply_http[i].code, code) == 0)
			return reply_http[i].http;
	if (strcmp(code, "unauthenticated") == 0)
		return 401;
	return 500;
}

/* Answer connection conn: status, body (stolen), extra headers (stolen). */
static void
answer(gw *g, uint64_t conn, int status, char *body, size_t len, char *headers)
{
	gw_out *o = calloc(1, sizeof(*o));
	if (status > 0 && status < 600)
		g->status_counts[status]++;
	if (o == NULL) {
		free(body);
		free(headers);
		return; /* the client times out */
	}
	o->conn    = conn;
	o->status  = status;
	o->ctype   = "application/json";
	o->body    = body;
	o->len     = len;
	o->headers = headers;
	gw_answer(&g->sh, o);
}

static void
answer_json(gw *g, uint64_t conn, int status, json_t *v, char *headers)
{
	char *s = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	answer(g, conn, status, s, s ? strlen(s) : 0, headers);
}

/* An error answer; fmt (English, GE) in language lang. */
static void answer_error(gw *g, uint64_t conn, int lang, int status,
    const char *code, const char *fmt, ...) XZ_PRINTF_LIKE(6, 7);

#include <stdarg.h>
static void
answer_error(gw *g, uint64_t conn, int lang, int status, const char *code,
    const char *fmt, ...)
{
	char    msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), gw_text(lang, fmt), ap);
	va_end(ap);
	answer_json(g, conn, status,
	    json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg),
	    NULL);
}

/* ---- the bus, one function per operation (on behalf of a session) ---- */

/* A session the host knows (s->bus set) acts as its person: the kernel
 * checks that person's permissions and the responders see them as the
 * caller. Otherwise (a host without sessions, no impersonate grant) the
 * gateway acts itself and names the person in the payload's actor
 * (gw_acts_for_itself). */
static int
gw_request(gw *g, sess *s, const char *topic, const void *data, size_t len,
    uint32_t timeout_ms, xz_reply_fn fn, void *ud)
{
#ifdef GW_HAS_SESSIONS
	if (s != NULL && s->bus != NULL)
		return g->host->request_as(g->self, (xz_session *) s->bus,
		    topic, data, len, timeout_ms, fn, ud);
#endif
	(void) s;
	return g->host->request(g->self, topic, data, len, timeout_ms, fn, ud);
}

static int
gw_subscribe(
    gw *g, sess *s, const char *pattern, xz_handler fn, void *ud, uint64_t *id)
{
#ifdef GW_HAS_SESSIONS
	if (s != NULL && s->bus != NULL)
		return g->host->subscribe_as(
		    g->self, (xz_session *) s->bus, pattern, fn, ud, id);
#endif
	(void) s;
	return g->host->subscribe(g->self, pattern, NULL, fn, ud, id);
}

/* XZ_OK (s->bus set when the host acts for the person), or an error with
 * why. */
static int
gw_session_open(gw *g, sess *s, char *why, size_t whylen)
{
	s->bus = NULL;
#ifdef GW_HAS_SESSIONS
	if (g->sessions_ok && XZ_HAS_MEMBER(g->host, xz_host, session_open)) {
		xz_session *xs = NULL;
		const char *w  = NULL;
		int rc = g->host->session_open(g->self, s->token, &xs, &w);
		if (rc == XZ_OK) {
			s->bus = xs;
			return XZ_OK;
		}
		if (rc == XZ_EPERM) {
			g->sessions_ok = 0;
			g->host->log(g->self, XZ_LOG_ERROR, "%s",
			    GT("the node refuses to let the gateway act for "
			       "logged-in users (add impersonate = true to "
			       "its "
			       "plugin entry): calls now run as the gateway"));
			return XZ_OK;
		}
		snprintf(why, whylen, "%s", w ? w : g->host->strerror(rc));
		return rc;
	}
#else
	(void) g;
#endif
	(void) why;
	(void) whylen;
	return XZ_OK;
}

static void
gw_session_close(gw *g, sess *s)
{
#ifdef GW_HAS_SESSIONS
	if (s->bus != NULL)
		g->host->session_close(g->self, (xz_session *) s->bus);
#else
	(void) g;
#endif
	s->bus = NULL;
}

static int
gw_acts_for_itself(gw *g, sess *s)
{
	(void) g;
	return s == NULL || s->bus == NULL;
}

/* ---- sessions ---- */

static void
sess_free(gw *g, sess *s)
{
	gw_session_close(g, s);
	json_decref(s->who);
	free(s);
}

static sess *
sess_find(gw *g, const char *token)
{
	for (sess *s = g->sessions; s; s = s->next)
		if (strcmp(s->token, token) == 0)
			return s;
	return NULL;
}

static void close_streams(gw *g, const char *token, const char *why);

static void
sess_remove(gw *g, sess *s)
{
	close_streams(g, s->token, GE("session ended: log in again"));
	for (sess **pp = &g->sessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			sess_free(g, s);
			return;
		}
}

static const char *
sess_str(sess *s, const char *k)
{
	const char *v = json_string_value(json_object_get(s->who, k));
	return v ? v : "";
}

static const char *
sess_role0(sess *s)
{
	const char *v = json_string_value(
	    json_array_get(json_object_get(s->who, "roles"), 0));
	return v ? v : "";
}

/* A token this gateway did not issue (a login made elsewhere): the host
 * verifies it and says whose it is. NULL when it cannot. */
static sess *
sess_adopt(gw *g, const char *token)
{
#ifdef GW_HAS_SESSIONS
	sess *s;
	char  why[256];

	if (!g->sessions_ok || !XZ_HAS_MEMBER(g->host, xz_host, session_caller)
	    || strlen(token) >= sizeof(s->token)
	    || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	snprintf(s->token, sizeof(s->token), "%s", token);
	if (gw_session_open(g, s, why, sizeof(why)) != XZ_OK
	    || s->bus == NULL) {
		sess_free(g, s);
		return NULL;
	}
	const xz_caller *c
	    = g->host->session_caller(g->self, (xz_session *) s->bus);
	json_t *roles = json_array();
	for (const char *const *r = c ? c->roles : NULL; r && *r; r++)
		json_array_append_new(roles, json_string(*r));
	s->who = json_pack("{s:s,s:s,s:s,s:o}", "user", c ? c->user : "",
	    "name", c && c->name ? c->name : "", "agency",
	    c && c->agency ? c->agency : "", "roles", roles);
	random_hex(s->csrf, 16);
	/* The host knows the expiry: its XZ_EAUTH ends the session. */
	s->expires_ms = UINT64_MAX / 2;
	s->next       = g->sessions;
	g->sessions   = s;
	return s;
#else
	(void) g;
	(void) token;
	return NULL;
#endif
}

/* The session of a job, or NULL after answering 401/403. */
static sess *
authenticate(gw *g, gw_job *j, int csrf)
{
	sess *s;

	if (j->token[0] == '\0') {
		g->bad[B_UNAUTH]++;
		answer_error(g, j->conn, j->lang, 401, "unauthenticated",
		    GE("login required: POST /api/v1/login, then send the "
		       "cookie or Authorization: Bearer TOKEN"));
		return NULL;
	}
	if ((s = sess_find(g, j->token)) == NULL
	    && (s = sess_adopt(g, j->token)) == NULL) {
		g->bad[B_UNAUTH]++;
		answer_error(g, j->conn, j->lang, 401, "unauthenticated",
		    GE("unknown or expired session: log in again"));
		return NULL;
	}
	if (g->host->now_ms(g->self) >= s->expires_ms) {
		g->bad[B_EXPIRED]++;
		sess_remove(g, s);
		answer_error(g, j->conn, j->lang, 401, "unauthenticated",
		    GE("session expired: log in again"));
		return NULL;
	}
	if (csrf && j->cookie && strcmp(j->csrf, s->csrf) != 0) {
		g->bad[B_CSRF]++;
		answer_error(g, j->conn, j->lang, 403, "forbidden", "%s",
		    gw_text(j->lang,
		        j->csrf[0]
		            ? GE("wrong X-CSRF-Token header (a cookie "
		                 "session sends the csrf value of its "
		                 "login or /api/v1/me)")
		            : GE("missing X-CSRF-Token header (a cookie "
		                 "session sends the csrf value of its "
		                 "login or /api/v1/me)")));
		return NULL;
	}
	return s;
}

static json_t *
sess_view(sess *s)
{
	json_t *v = json_deep_copy(s->who);
	json_object_set_new(
	    v, "expires_ms", json_integer((json_int_t) s->expires_ms));
	json_object_set_new(v, "csrf", json_string(s->csrf));
	return v;
}

static void
audit_login(gw *g, const char *user, const char *action, const char *outcome)
{
	json_t *e = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s}",
	    "who", user, "role", "", "agency", "", "action", action,
	    "subject_type", "session", "subject_id", user, "purpose",
	    "web sign-in", "outcome", outcome, "corr", "", "time",
	    (json_int_t) g->host->now_ms(g->self), "service", "gateway");
	char   *s = e ? json_dumps(e, JSON_COMPACT) : NULL;
	json_decref(e);
	if (s != NULL) {
		g->host->publish(g->self, "audit.gateway.login", s, strlen(s));
		free(s);
	}
}

/* Failed logins from one address in the window. */
static limit *
limit_of(gw *g, const char *peer, int create)
{
	uint64_t now       = g->host->now_ms(g->self);
	limit   *free_slot = NULL, *oldest = &g->limits[0];
	for (int i = 0; i < LIMITS; i++) {
		limit *l = &g->limits[i];
		if (l->peer[0]
		    && now - l->since_ms
		        > (uint64_t) g->login_window_s * 1000u)
			l->peer[0] = '\0';
		if (l->peer[0] && strcmp(l->peer, peer) == 0)
			return l;
		if (!l->peer[0] && free_slot == NULL)
			free_slot = l;
		if (l->since_ms < oldest->since_ms)
			oldest = l;
	}
	if (!create)
		return NULL;
	limit *l = free_slot ? free_slot : oldest;
	snprintf(l->peer, sizeof(l->peer), "%s", peer);
	l->since_ms = now;
	l->fails    = 0;
	return l;
}

static char *
cookie_header(gw *g, sess *s, int clear)
{
	char *h   = NULL;
	int   tls = g->o.tls_cert && *g->o.tls_cert;
	if (clear)
		(void) !asprintf(&h,
		    "Set-Cookie: xz_session=; Path=/; HttpOnly; "
		    "SameSite=Strict; Max-Age=0%s\r\n",
		    tls ? "; Secure" : "");
	else {
		uint64_t now = g->host->now_ms(g->self);
		uint64_t age
		    = s->expires_ms > now ? (s->expires_ms - now) / 1000u : 0;
		(void) !asprintf(&h,
		    "Set-Cookie: xz_session=%s; Path=/; HttpOnly; "
		    "SameSite=Strict; Max-Age=%llu%s\r\n",
		    s->token, (unsigned long long) age, tls ? "; Secure" : "");
	}
	return h;
}

/* A session from a login reply; answers the login. */
static void
login_done(gw *g, uint64_t conn, int lang, const char *token, json_t *who,
    uint64_t expires_ms)
{
	sess *s        = calloc(1, sizeof(*s));
	char  why[256] = "";

	if (s == NULL || strlen(token) >= sizeof(s->token)) {
		free(s);
		json_decref(who);
		answer_error(g, conn, lang, 500, "internal",
		    GE("session token too long"));
		return;
	}
	snprintf(s->token, sizeof(s->token), "%s", token);
	random_hex(s->csrf, 16);
	s->who        = who;
	s->expires_ms = expires_ms;
	if (gw_session_open(g, s, why, sizeof(why)) != XZ_OK) {
		sess_free(g, s);
		g->logins_denied++;
		answer_error(g, conn, lang, 401, "unauthenticated", "%s", why);
		return;
	}
	s->next     = g->sessions;
	g->sessions = s;
	g->logins_ok++;
	g->host->counter_add(g->self, "logins", 1);
	audit_login(g, sess_str(s, "user"), "login", "ok");
	json_t *v = sess_view(s);
	json_object_set_new(v, "token", json_string(s->token));
	answer_json(g, conn, 200, v, cookie_header(g, s, 0));
}

struct login_ctx {
	gw      *g;
	uint64_t conn;
	char     peer[GW_PEER_MAX];
	char     user[128];
	int      lang;
};

static void
on_login_reply(void *ud, int status, const xz_msg *reply)
{
	struct login_ctx *lc = ud;
	gw               *g  = lc->g;
	json_t           *r  = json_loadb(reply->data, reply->len, 0, NULL);

	(void) status;
	if (reply->flags & XZ_MSG_ERROR || !json_is_object(r)) {
		const char *code = json_string_value(
		    json_object_get(json_object_get(r, "error"), "code"));
		const char *msg = json_string_value(
		    json_object_get(json_object_get(r, "error"), "message"));
		code = code ? code : "internal";
		if (strcmp(code, "no_responders") == 0
		    || strcmp(code, "timeout") == 0)
			answer_error(g, lc->conn, lc->lang, http_of_code(code),
			    code, GE("login service: %s"), msg ? msg : code);
		else {
			limit *l = limit_of(g, lc->peer, 1);
			l->fails++;
			g->logins_denied++;
			g->host->counter_add(g->self, "logins_denied", 1);
			audit_login(g, lc->user, "login", "denied");
			answer_error(g, lc->conn, lc->lang, 401,
			    "unauthenticated", GE("wrong user or password"));
		}
		json_decref(r);
		free(lc);
		return;
	}
	const char *token = json_string_value(json_object_get(r, "token"));
	json_t     *exp   = json_object_get(r, "expires_ms");
	if (token == NULL || !json_is_integer(exp)) {
		answer_error(g, lc->conn, lc->lang, 500, "internal",
		    GE("login service reply without token or expires_ms"));
		json_decref(r);
		free(lc);
		return;
	}
	json_t                  *who = json_object();
	static const char *const keys[]
	    = { "user", "name", "agency", "roles" };
	for (size_t i = 0; i < 4; i++) {
		json_t *v = json_object_get(r, keys[i]);
		json_object_set_new(who, keys[i],
		    v ? json_incref(v)
		      : (i == 3 ? json_array() : json_string("")));
	}
	login_done(g, lc->conn, lc->lang, token, who,
	    (uint64_t) json_integer_value(exp));
	json_decref(r);
	free(lc);
}

static void
do_login(gw *g, gw_job *j)
{
	json_t     *b = j->body ? json_loads(j->body, 0, NULL) : NULL;
	const char *user, *pw;
	limit      *l = limit_of(g, j->peer, 0);

	if (l != NULL && l->fails >= g->login_max_failures) {
		g->logins_limited++;
		answer_error(g, j->conn, j->lang, 429, "capacity_exceeded",
		    GE("%d failed logins from %s in %lld s: wait"), l->fails,
		    j->peer, (long long) g->login_window_s);
		json_decref(b);
		return;
	}
	user = json_string_value(json_object_get(b, "user"));
	pw   = json_string_value(json_object_get(b, "password"));
	if (!json_is_object(b) || user == NULL || pw == NULL || !*user
	    || strlen(user) > 64) {
		g->bad[B_MALFORMED]++;
		answer_error(g, j->conn, j->lang, 400, "bad_request",
		    GE("body must be "
		       "{\"user\":\"...\",\"password\":\"...\"}"));
		json_decref(b);
		return;
	}
	struct login_ctx *lc = calloc(1, sizeof(*lc));
	int               rc;
	if (lc == NULL) {
		json_decref(b);
		answer_error(
		    g, j->conn, j->lang, 500, "internal", GE("out of memory"));
		return;
	}
	lc->g    = g;
	lc->lang = j->lang;
	lc->conn = j->conn;
	snprintf(lc->peer, sizeof(lc->peer), "%s", j->peer);
	snprintf(lc->user, sizeof(lc->user), "%s", user);
	json_t *q   = json_pack("{s:s,s:s}", "user", user, "password", pw);
	char   *req = q ? json_dumps(q, JSON_COMPACT) : NULL; /* owned */
	json_decref(q);
	rc = req
	    ? g->host->request(g->self, "xz.sys.auth.login", req, strlen(req),
	        (uint32_t) g->call_timeout_ms, on_login_reply, lc)
	    : XZ_ENOMEM;
	free(req);
	json_decref(b);
	if (rc != XZ_OK) {
		free(lc);
		answer_error(g, j->conn, j->lang,
		    rc == XZ_ENORESPONDERS ? 503 : 500, wire_of[rc],
		    GE("login service (xz.sys.auth.login): %s"),
		    g->host->strerror(rc));
	}
}

static void
on_logout_reply(void *ud, int status, const xz_msg *reply)
{
	(void) ud;
	(void) status;
	(void) reply;
}

static void
do_logout(gw *g, gw_job *j)
{
	sess *s = authenticate(g, j, 1);
	if (s == NULL)
		return;
	json_t *b = json_pack("{s:s}", "token", s->token);
	char   *q = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	if (q)
		gw_request(g, s, "xz.sys.auth.logout", q, strlen(q),
		    (uint32_t) g->call_timeout_ms, on_logout_reply, NULL);
	free(q);
	audit_login(g, sess_str(s, "user"), "logout", "ok");
	g->logouts++;
	sess_remove(g, s);
	answer_json(g, j->conn, 200, json_pack("{s:b}", "logged_out", 1),
	    cookie_header(g, NULL, 1));
}

/* ---- calls ---- */

static int
topic_ok(const char *t, int pattern)
{
	size_t n = strlen(t), tok = 0;
	if (n == 0 || n >= GW_TOPIC_MAX || t[0] == '.' || t[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = t[i];
		if (ch == '.') {
			if (tok == 0)
				return 0;
			tok = 0;
			continue;
		}
		if (ch == '*' || ch == '>') {
			if (!pattern || tok != 0
			    || (t[i + 1] != '.' && t[i + 1] != '\0')
			    || (ch == '>' && t[i + 1] != '\0'))
				return 0;
			tok++;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
		        || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return 0;
		tok++;
	}
	return 1;
}

struct call_ctx {
	gw      *g;
	uint64_t conn, t0_us;
};

static void
observe_latency(gw *g, uint64_t t0_us)
{
	double s = (double) (mono_us() - t0_us) / 1e6;
	int    i = 0;
	while (i < NBUCKETS && s > lat_bounds[i])
		i++;
	g->lat_counts[i]++;
	g->lat_sum += s;
	g->lat_n++;
}

static void
on_call_reply(void *ud, int status, const xz_msg *reply)
{
	struct call_ctx *cc   = ud;
	gw              *g    = cc->g;
	int              http = 200;
	char            *body;

	(void) status;
	observe_latency(g, cc->t0_us);
	if (reply->flags & XZ_MSG_ERROR) {
		json_t     *r = json_loadb(reply->data, reply->len, 0, NULL);
		const char *code = json_string_value(
		    json_object_get(json_object_get(r, "error"), "code"));
		http = http_of_code(code ? code : "internal");
		if (code && strcmp(code, "forbidden") == 0)
			g->bad[B_FORBIDDEN]++;
		else if (code && strcmp(code, "no_responders") == 0)
			g->bad[B_NO_RESPONDERS]++;
		else if (code && strcmp(code, "timeout") == 0)
			g->bad[B_TIMEOUT]++;
		json_decref(r);
	}
	body = malloc(reply->len + 1);
	if (body != NULL)
		memcpy(body, reply->data, reply->len);
	answer(g, cc->conn, http, body, body ? reply->len : 0, NULL);
	free(cc);
}

static void
do_call(gw *g, gw_job *j)
{
	sess   *s = authenticate(g, j, 1);
	json_t *b;
	char   *req;
	size_t  reqlen = 0;
	int     rc;

	if (s == NULL)
		return;
	if (!topic_ok(j->topic, 0)) {
		g->bad[B_BAD_TOPIC]++;
		answer_error(g, j->conn, j->lang, 400, "bad_request",
		    GE("topic '%.64s': dotted tokens of [A-Za-z0-9_-], no "
		       "wildcards"),
		    j->topic);
		return;
	}
	if (j->body == NULL || j->len == 0)
		b = json_object();
	else {
		json_error_t e;
		b = json_loadb(j->body, j->len, 0, &e);
		if (!json_is_object(b)) {
			g->bad[B_MALFORMED]++;
			answer_error(g, j->conn, j->lang, 400, "bad_request",
			    GE("body is not a JSON object (line %d column %d: "
			       "%s)"),
			    b ? 1 : e.line, b ? 1 : e.column,
			    b ? gw_text(j->lang, GE("not an object"))
			      : e.text);
			json_decref(b);
			return;
		}
	}
	/* Acting as the person, the body goes out as it came (checked to be
	 * an object above); acting as itself, the gateway writes the
	 * person into the payload's actor. */
	if (gw_acts_for_itself(g, s)) {
		json_object_set_new(b, "actor",
		    json_pack("{s:s,s:s,s:s}", "user", sess_str(s, "user"),
		        "role", sess_role0(s), "agency",
		        sess_str(s, "agency")));
		req = json_dumps(b, JSON_COMPACT);
	} else if (j->body == NULL || j->len == 0)
		req = strdup("{}");
	else {
		req     = j->body; /* taken from the job */
		j->body = NULL;
		reqlen  = j->len;
	}
	json_decref(b);
	struct call_ctx *cc = calloc(1, sizeof(*cc));
	if (req == NULL || cc == NULL) {
		free(req);
		free(cc);
		answer_error(
		    g, j->conn, j->lang, 500, "internal", GE("out of memory"));
		return;
	}
	cc->g     = g;
	cc->conn  = j->conn;
	cc->t0_us = j->t0_us;
	g->calls++;
	g->host->counter_add(g->self, "calls", 1);
	if (reqlen == 0)
		reqlen = strlen(req);
	rc = gw_request(g, s, j->topic, req, reqlen,
	    (uint32_t) g->call_timeout_ms, on_call_reply, cc);
	free(req);
	if (rc != XZ_OK) {
		free(cc);
		observe_latency(g, j->t0_us);
		if (rc == XZ_ENORESPONDERS)
			g->bad[B_NO_RESPONDERS]++;
		if (rc == XZ_EPERM)
			g->bad[B_FORBIDDEN]++;
		const char *code
		    = rc < XZ_ERR_COUNT ? wire_of[rc] : "internal";
		answer_error(g, j->conn, j->lang, http_of_code(code), code,
		    GE("%s: %s"), j->topic,
		    rc == XZ_ENORESPONDERS ? gw_text(j->lang,
		        GE("no responders (no plugin serves this "
		           "topic)"))
		                           : g->host->strerror(rc));
	}
}

/* ---- event streams ---- */

static gw_frame *
frame_build(const xz_msg *m, int sse)
{
	const char *src  = m->source ? m->source : "";
	int         json = m->content_type == XZ_CT_JSON && m->len > 0;
	json_t     *str  = json ? NULL : json_stringn(m->data, m->len);
	char       *data = json ? NULL : json_dumps(str, JSON_ENCODE_ANY);
	size_t      dlen = json ? m->len : (data ? strlen(data) : 4);
	size_t      slen = strlen(src);
	gw_frame   *f;
	char       *p;

	json_decref(str);
	/* {"topic":"T","source":"S","data":D} ; SSE: "data: " ... "\n\n" */
	f = gw_frame_new((sse ? 8 : 0) + 40 + m->topic_len + slen + dlen);
	if (f == NULL) {
		free(data);
		return NULL;
	}
	p = f->buf + GW_LWS_PRE;
	if (sse)
		p += sprintf(p, "data: ");
	p += sprintf(p, "{\"topic\":\"%s\",\"source\":\"", m->topic);
	for (size_t i = 0; i < slen;
	     i++) /* peer names: no quotes, no controls */
		*p++ = (src[i] == '"' || src[i] == '\\'
		           || (unsigned char) src[i] < 0x20)
		    ? '_'
		    : src[i];
	p += sprintf(p, "\",\"data\":");
	const char *d = json ? m->data : (data ? data : "null");
	for (size_t i = 0; i < dlen; i++) /* raw newlines are whitespace */
		*p++ = (d[i] == '\n' || d[i] == '\r') ? ' ' : d[i];
	*p++ = '}';
	if (sse) {
		*p++ = '\n';
		*p++ = '\n';
	}
	*p     = '\0';
	f->len = (size_t) (p - (f->buf + GW_LWS_PRE));
	free(data);
	return f;
}

/* Queue one frame for one client; the client is closed as slow when its
 * queue is full (it learns why, and re-reads its lists). */
static void
client_push(gw *g, gw_client *c, gw_frame *f)
{
	pthread_mutex_lock(&c->mu);
	if (c->gone || c->overflow) {
		pthread_mutex_unlock(&c->mu);
		return;
	}
	if (c->n == c->cap || c->bytes + f->len > c->max_bytes) {
		c->overflow = 1;
		g->events_overflow++;
		g->host->counter_add(g->self, "slow_clients", 1);
	} else {
		atomic_fetch_add(&f->refs, 1);
		c->ring[(c->head + c->n) % c->cap] = f;
		c->n++;
		c->bytes += f->len;
		g->events_out++;
	}
	atomic_store(&c->wake, true);
	pthread_mutex_unlock(&c->mu);
}

static void
on_event(void *ud, const xz_msg *m)
{
	sub *sb = ud;
	gw  *g  = sb->g;

	/* Events only: a pattern like prison.> also matches the requests
	 * (prison.alarm.get), which are not the client's business. */
	if (m->kind != XZ_KIND_EVENT || sb->n == 0)
		return;
	if (memcmp(m->id, g->last_id, 16) != 0) {
		gw_frame_unref(g->last_ws);
		gw_frame_unref(g->last_sse);
		g->last_ws = g->last_sse = NULL;
		memcpy(g->last_id, m->id, 16);
	}
	for (size_t i = 0; i < sb->n; i++) {
		gw_client *c    = sb->clients[i];
		gw_frame **slot = c->sse ? &g->last_sse : &g->last_ws;
		if (*slot == NULL && (*slot = frame_build(m, c->sse)) == NULL)
			continue;
		client_push(g, c, *slot);
	}
	g->dirty = 1;
}

/* Refuse or end a stream: msg (English, GE) in the client's language. */
static void
client_fail(gw *g, gw_client *c, int status, const char *msg)
{
	pthread_mutex_lock(&c->mu);
	c->fail_status = status;
	free(c->fail_msg);
	c->fail_msg = strdup(gw_text(c->lang, msg));
	atomic_store(&c->wake, true);
	pthread_mutex_unlock(&c->mu);
	atomic_store(&g->sh.clients_dirty, true);
	gw_kick(&g->sh);
}

static void
do_sub(gw *g, gw_job *j)
{
	gw_client *c = j->client;
	sess      *s;
	sub       *sb;
	int        rc;

	if (j->token[0] == '\0' || (s = sess_find(g, j->token)) == NULL) {
		g->bad[B_UNAUTH]++;
		client_fail(g, c, 401, GE("login required"));
		return;
	}
	if (g->host->now_ms(g->self) >= s->expires_ms) {
		g->bad[B_EXPIRED]++;
		sess_remove(g, s);
		client_fail(g, c, 401, GE("session expired: log in again"));
		return;
	}
	if (!topic_ok(j->topic, 1)) {
		g->bad[B_BAD_TOPIC]++;
		client_fail(g, c, 400, GE("bad pattern"));
		return;
	}
	for (sb = g->subs; sb; sb = sb->next)
		if (strcmp(sb->token, s->token) == 0
		    && strcmp(sb->pattern, j->topic) == 0)
			break;
	if (sb == NULL) {
		if ((sb = calloc(1, sizeof(*sb))) == NULL) {
			client_fail(g, c, 500, GE("out of memory"));
			return;
		}
		sb->g = g;
		snprintf(sb->token, sizeof(sb->token), "%s", s->token);
		snprintf(sb->pattern, sizeof(sb->pattern), "%s", j->topic);
		rc = gw_subscribe(g, s, j->topic, on_event, sb, &sb->id);
		if (rc != XZ_OK) {
			free(sb);
			if (rc == XZ_EPERM)
				g->bad[B_FORBIDDEN]++;
			client_fail(g, c, rc == XZ_EPERM ? 403 : 400,
			    rc == XZ_EPERM
			        ? GE("not allowed to subscribe to this "
			             "pattern")
			        : g->host->strerror(rc));
			return;
		}
		sb->next = g->subs;
		g->subs  = sb;
	}
	if (sb->n == sb->cap) {
		size_t      cap = sb->cap ? sb->cap * 2 : 4;
		gw_client **v   = realloc(sb->clients, cap * sizeof(*v));
		if (v == NULL) {
			client_fail(g, c, 500, GE("out of memory"));
			return; /* an empty sub goes with the next unsub */
		}
		sb->clients = v;
		sb->cap     = cap;
	}
	sb->clients[sb->n++] = c;
	j->client = NULL; /* the subscription holds the reference now */
	pthread_mutex_lock(&c->mu);
	c->ready = 1;
	atomic_store(&c->wake, true);
	pthread_mutex_unlock(&c->mu);
	atomic_store(&g->sh.clients_dirty, true);
	gw_kick(&g->sh);
}

static void
sub_free(gw *g, sub *sb, int unsubscribe)
{
	if (unsubscribe)
		g->host->unsubscribe(g->self, sb->id);
	for (size_t i = 0; i < sb->n; i++)
		gw_client_unref(sb->clients[i]);
	free(sb->clients);
	free(sb);
}

/* A stream went away: out of its subscription, and the subscription off
 * the bus when it was the last one. */
static void
do_unsub(gw *g, gw_job *j)
{
	for (sub **pp = &g->subs; *pp; pp = &(*pp)->next) {
		sub *sb = *pp;
		for (size_t i = 0; i < sb->n; i++)
			if (sb->clients[i]->conn == j->conn) {
				gw_client_unref(sb->clients[i]);
				sb->clients[i] = sb->clients[--sb->n];
				if (sb->n == 0) {
					*pp = sb->next;
					sub_free(g, sb, 1);
				}
				return;
			}
	}
}

/* A session ended (logout, expiry): its streams are closed with the
 * reason; their connections' unsubs remove the subscriptions. */
static void
close_streams(gw *g, const char *token, const char *why)
{
	for (sub *sb = g->subs; sb; sb = sb->next)
		if (strcmp(sb->token, token) == 0)
			for (size_t i = 0; i < sb->n; i++)
				client_fail(g, sb->clients[i], 401, why);
}

/* ---- metrics and readiness ---- */

struct status_ctx {
	gw      *g;
	uint64_t conn;
	int      kind; /* GJ_METRICS or GJ_READY */
	int      lang; /* of the readiness reasons */
	int      pending;
	json_t  *status, *alarms, *clocks; /* owned replies, NULL on error */
};

static void
prom_escape(char *out, size_t n, const char *in)
{
	size_t o = 0;
	for (; in && *in && o + 2 < n; in++) {
		if (*in == '"' || *in == '\\')
			out[o++] = '\\';
		if (*in == '\n') {
			out[o++] = ' ';
			continue;
		}
		out[o++] = *in;
	}
	out[o] = '\0';
}

/* Append printf text to a growing buffer. */
typedef struct buf {
	char  *p;
	size_t n, cap;
} buf;

static void bprintf(buf *b, const char *fmt, ...) XZ_PRINTF_LIKE(2, 3);
static void
bprintf(buf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int k = vsnprintf(b->p ? b->p + b->n : NULL,
		    b->p ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (k < 0)
			return;
		if (b->p && b->n + (size_t) k < b->cap) {
			b->n += (size_t) k;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 16384;
		while (cap < b->n + (size_t) k + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (p == NULL)
			return;
		b->p   = p;
		b->cap = cap;
	}
}

static void
help(buf *b, const char *name, const char *type, const char *text)
{
	bprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void
metrics_status(buf *b, json_t *st)
{
	json_t     *bus = json_object_get(st, "bus"), *v;
	const char *k;
	size_t      i;
	json_t     *p;

	help(
	    b, "xiezhi_up", "gauge", "1 while the node answers xz.sys.status");
	bprintf(b, "xiezhi_up %d\n", st != NULL);
	if (st == NULL)
		return;
	help(b, "xiezhi_uptime_seconds", "gauge",
	    "time since the node started");
	bprintf(b, "xiezhi_uptime_seconds %.3f\n",
	    (double) json_integer_value(json_object_get(st, "uptime_ms"))
	        / 1e3);
	static const struct {
		const char *key, *name, *type, *help;
	} bm[] = {
		{ "published", "xiezhi_bus_published_total", "counter",
		    "messages published on the bus" },
		{ "delivered", "xiezhi_bus_delivered_total", "counter",
		    "deliveries to subscribers" },
		{ "dropped", "xiezhi_bus_dropped_total", "counter",
		    "drops on best-effort topics" },
		{ "backpressure_timeouts",
		    "xiezhi_bus_backpressure_timeouts_total", "counter",
		    "publishes that waited past the deadline" },
		{ "rejected_envelopes", "xiezhi_link_rejected_envelopes_total",
		    "counter", "envelopes refused from links" },
		{ "link_violations", "xiezhi_link_violations_total", "counter",
		    "link protocol violations" },
		{ "link_send_failed", "xiezhi_link_send_failed_total",
		    "counter", "envelopes a link could not send" },
		{ "reply_failed", "xiezhi_bus_reply_failed_total", "counter",
		    "replies that found no memory" },
		{ "timer_retries", "xiezhi_timer_retries_total", "counter",
		    "timers handed over late" },
		{ "subscriptions", "xiezhi_bus_subscriptions", "gauge",
		    "live subscriptions" },
		{ "pending_requests", "xiezhi_bus_pending_requests", "gauge",
		    "requests awaiting a reply" },
		{ "links", "xiezhi_links", "gauge", "connected link peers" },
		{ "doors_reopened", "xiezhi_link_doors_reopened_total",
		    "counter",
		    "listeners that had stopped accepting, reopened" },
	};
	for (i = 0; i < sizeof(bm) / sizeof(bm[0]); i++) {
		help(b, bm[i].name, bm[i].type, bm[i].help);
		bprintf(b, "%s %lld\n", bm[i].name,
		    (long long) json_integer_value(
		        json_object_get(bus, bm[i].key)));
	}
	static const struct {
		const char *key, *name, *type, *help;
	} pm[] = {
		{ "handled", "xiezhi_plugin_messages_handled_total", "counter",
		    "messages the plugin handled" },
		{ "backpressure_timeouts",
		    "xiezhi_plugin_backpressure_timeouts_total", "counter",
		    "publishes to the plugin that timed out on its full "
		    "mailbox" },
		{ "queue_depth", "xiezhi_plugin_mailbox_depth", "gauge",
		    "messages waiting in the plugin's mailbox" },
		{ "queue_capacity", "xiezhi_plugin_mailbox_capacity", "gauge",
		    "the plugin's mailbox capacity" },
	};
	json_t *plugins = json_object_get(st, "plugins");
	for (size_t m = 0; m < sizeof(pm) / sizeof(pm[0]); m++) {
		help(b, pm[m].name, pm[m].type, pm[m].help);
		json_array_foreach(plugins, i, p)
		{
			char n[128];
			prom_escape(n, sizeof(n),
			    json_string_value(json_object_get(p, "name")));
			bprintf(b, "%s{plugin=\"%s\"} %lld\n", pm[m].name, n,
			    (long long) json_integer_value(
			        json_object_get(p, pm[m].key)));
		}
	}
	help(b, "xiezhi_plugin_state", "gauge",
	    "1 for the plugin's state (loaded, inited, running, stopped, "
	    "failed)");
	json_array_foreach(plugins, i, p)
	{
		char n[128], s[64];
		prom_escape(n, sizeof(n),
		    json_string_value(json_object_get(p, "name")));
		prom_escape(s, sizeof(s),
		    json_string_value(json_object_get(p, "state")));
		bprintf(b,
		    "xiezhi_plugin_state{plugin=\"%s\",state=\"%s\"} 1\n", n,
		    s);
	}
	help(b, "xiezhi_plugin_counter", "counter",
	    "the plugins' own counters (xiezhi status), e.g. lua_limit_hits, "
	    "lua_quarantined");
	json_array_foreach(plugins, i, p)
	{
		char n[128], c[128];
		prom_escape(n, sizeof(n),
		    json_string_value(json_object_get(p, "name")));
		json_object_foreach(json_object_get(p, "counters"), k, v)
		{
			prom_escape(c, sizeof(c), k);
			bprintf(b,
			    "xiezhi_plugin_counter{plugin=\"%s\",counter=\"%"
			    "s\"} %lld\n",
			    n, c, (long long) json_integer_value(v));
		}
	}
	/* The links to other nodes: each one's business lane is its credit
	 * window (docs/architecture.md): events sent and not yet acknowledged
	 * by the other node, and those waiting to be sent. in: the key is in
	 * node_links[].business, else in node_links[] itself. */
	static const struct {
		const char *key, *name, *type, *help;
		bool        in_business;
	} lm[] = {
		{ "queued", "xiezhi_node_link_queued", "gauge",
		    "messages waiting to be sent on the link", false },
		{ "unacked", "xiezhi_node_link_credits_used", "gauge",
		    "business events sent to the other node and not yet "
		    "acknowledged (the window is 256)",
		    true },
		{ "in_waiting", "xiezhi_node_link_in_waiting", "gauge",
		    "the other node's business events taken, waiting to be "
		    "routed here",
		    true },
		{ "resent", "xiezhi_node_link_resent_total", "counter",
		    "business events sent again after a reconnect", true },
		{ "duplicates", "xiezhi_node_link_duplicates_total", "counter",
		    "business events received twice and dropped", true },
	};
	json_t *links = json_object_get(st, "node_links");
	help(b, "xiezhi_node_link_up", "gauge",
	    "1 while the link to the other node is up");
	json_array_foreach(links, i, p)
	{
		char n[128];
		prom_escape(n, sizeof(n),
		    json_string_value(json_object_get(p, "name")));
		const char *state
		    = json_string_value(json_object_get(p, "state"));
		bprintf(b, "xiezhi_node_link_up{link=\"%s\"} %d\n", n,
		    state != NULL && strcmp(state, "up") == 0);
	}
	for (size_t m = 0; m < sizeof(lm) / sizeof(lm[0]); m++) {
		help(b, lm[m].name, lm[m].type, lm[m].help);
		json_array_foreach(links, i, p)
		{
			char    n[128];
			json_t *o = lm[m].in_business
			    ? json_object_get(p, "business")
			    : p;
			prom_escape(n, sizeof(n),
			    json_string_value(json_object_get(p, "name")));
			bprintf(b, "%s{link=\"%s\"} %lld\n", lm[m].name, n,
			    (long long) json_integer_value(
			        json_object_get(o, lm[m].key)));
		}
	}
}

/* What each plugin received, sent and lost by topic class, its store's
 * commit latency and its SLA breaches (xz.sys.status: delivered_by_class,
 * published_by_class, dropped_by_class, store_commits, the counter
 * sla_breaches). */
static void
metrics_traffic(buf *b, json_t *st, int prison)
{
	json_t     *plugins = json_object_get(st, "plugins"), *p, *v;
	size_t      i, k;
	const char *cls;
	static const struct {
		const char *key, *name, *help;
	} tm[] = {
		{ "delivered_by_class", "xiezhi_plugin_messages_in_total",
		    "messages delivered to the plugin's mailbox (events and "
		    "requests) by topic class (the topic's first token)" },
		{ "published_by_class", "xiezhi_plugin_messages_out_total",
		    "messages the plugin sent (publish, request, reply) by "
		    "topic class (the topic's first token)" },
		{ "dropped_by_class", "xiezhi_plugin_drops_total",
		    "best-effort messages dropped at the plugin's full "
		    "mailbox by topic class (the topic's first token)" },
	};

	if (st == NULL)
		return;
	for (size_t m = 0; m < sizeof(tm) / sizeof(tm[0]); m++) {
		help(b, tm[m].name, "counter", tm[m].help);
		json_array_foreach(plugins, i, p)
		{
			char n[128], c[64];
			prom_escape(n, sizeof(n),
			    json_string_value(json_object_get(p, "name")));
			json_object_foreach(
			    json_object_get(p, tm[m].key), cls, v)
			{
				prom_escape(c, sizeof(c), cls);
				bprintf(b,
				    "%s{plugin=\"%s\",class=\"%s\"} %lld\n",
				    tm[m].name, n, c,
				    (long long) json_integer_value(v));
			}
		}
	}
	help(b, "xiezhi_store_commit_duration_seconds", "histogram",
	    "time of the plugin's store commits (fsync included)");
	json_array_foreach(plugins, i, p)
	{
		json_t *sc = json_object_get(p, "store_commits");
		json_t *le = json_object_get(sc, "le_us");
		json_t *cn = json_object_get(sc, "counts");
		char    n[128];
		if (!json_is_array(le) || json_array_size(cn) < 1)
			continue;
		prom_escape(n, sizeof(n),
		    json_string_value(json_object_get(p, "name")));
		json_array_foreach(le, k, v) bprintf(b,
		    "xiezhi_store_commit_duration_seconds_bucket{plugin=\"%"
		    "s\","
		    "le=\"%g\"} %lld\n",
		    n, (double) json_integer_value(v) / 1e6,
		    (long long) json_integer_value(json_array_get(cn, k)));
		bprintf(b,
		    "xiezhi_store_commit_duration_seconds_bucket{plugin=\"%"
		    "s\","
		    "le=\"+Inf\"} %lld\n"
		    "xiezhi_store_commit_duration_seconds_sum{plugin=\"%s\"} "
		    "%.6f\n"
		    "xiezhi_store_commit_duration_seconds_count{plugin=\"%s\"}"
		    " "
		    "%lld\n",
		    n,
		    (long long) json_integer_value(
		        json_array_get(cn, json_array_size(cn) - 1)),
		    n,
		    (double) json_integer_value(json_object_get(sc, "sum_us"))
		        / 1e6,
		    n,
		    (long long) json_integer_value(
		        json_object_get(sc, "count")));
	}
	help(b, "xiezhi_sla_breaches_total", "counter",
	    "deadlines missed (the prison's alarm SLAs: the plugin's counter "
	    "sla_breaches)");
	json_array_foreach(plugins, i, p)
	{
		json_t *c = json_object_get(
		    json_object_get(p, "counters"), "sla_breaches");
		char n[128];
		prom_escape(n, sizeof(n),
		    json_string_value(json_object_get(p, "name")));
		/* the prison counts from its first breach: 0 until then */
		if (!json_is_integer(c)
		    && !(prison && strcmp(n, "prison") == 0))
			continue;
		bprintf(b, "xiezhi_sla_breaches_total{plugin=\"%s\"} %lld\n",
		    n, (long long) json_integer_value(c));
	}
}

/* The legal plugin's statutory clocks (legal.clock.stats). */
static void
metrics_clocks(buf *b, json_t *c)
{
	static const char *const st[]
	    = { "running", "paused", "breached", "met" };
	const char *kind;
	json_t     *v;

	if (c == NULL)
		return;
	help(b, "xiezhi_legal_clocks", "gauge",
	    "the legal plugin's statutory clocks by record kind and status");
	json_object_foreach(json_object_get(c, "by_kind"), kind, v)
	{
		char k[64];
		prom_escape(k, sizeof(k), kind);
		for (size_t i = 0; i < 4; i++)
			bprintf(b,
			    "xiezhi_legal_clocks{kind=\"%s\",status=\"%s\"} "
			    "%lld\n",
			    k, st[i],
			    (long long) json_integer_value(
			        json_object_get(v, st[i])));
	}
	help(b, "xiezhi_legal_clocks_at_risk", "gauge",
	    "running statutory clocks due within a day or already past");
	bprintf(b, "xiezhi_legal_clocks_at_risk %lld\n",
	    (long long) json_integer_value(json_object_get(c, "at_risk")));
}

static int
alarm_open(const char *state)
{
	static const char *const closed[]
	    = { "RESOLVED", "CLOSED", "DISMISSED", "FALSE_ALARM", NULL };
	for (int i = 0; closed[i]; i++)
		if (strcmp(state, closed[i]) == 0)
			return 0;
	return 1;
}

static void
metrics_alarms(buf *b, json_t *a)
{
	const char *state, *level;
	json_t     *by, *n;
	int64_t     open[8] = { 0 };

	if (a == NULL)
		return;
	help(b, "xiezhi_alarms", "gauge", "prison alarms by state and level");
	json_object_foreach(json_object_get(a, "by_state"), state, by)
	{
		char s[64];
		prom_escape(s, sizeof(s), state);
		json_object_foreach(by, level, n)
		{
			int lv = atoi(level);
			bprintf(b,
			    "xiezhi_alarms{state=\"%s\",level=\"%d\"} %lld\n",
			    s, lv, (long long) json_integer_value(n));
			if (alarm_open(state) && lv >= 0 && lv < 8)
				open[lv] += json_integer_value(n);
		}
	}
	help(b, "xiezhi_alarms_open", "gauge", "open prison alarms by level");
	for (int lv = 1; lv <= 3; lv++)
		bprintf(b, "xiezhi_alarms_open{level=\"%d\"} %lld\n", lv,
		    (long long) open[lv]);
}

static void
metrics_gateway(gw *g, buf *b)
{
	static const struct {
		int         which;
		const char *name, *help;
	} sm[] = {
		{ GS_CONNECTIONS, "xiezhi_http_connections_total",
		    "TCP connections accepted" },
		{ GS_REQUESTS, "xiezhi_http_requests_total",
		    "HTTP requests read" },
		{ GS_STATIC, "xiezhi_http_static_total",
		    "static files served" },
		{ GS_WS_OPENED, "xiezhi_ws_opened_total",
		    "WebSocket clients accepted" },
		{ GS_SSE_OPENED, "xiezhi_sse_opened_total",
		    "Server-Sent Events clients accepted" },
		{ GS_EVENTS_SENT, "xiezhi_events_sent_total",
		    "events written to WebSocket and SSE clients" },
		{ GS_SLOW_CLOSED, "xiezhi_slow_clients_closed_total",
		    "event clients closed because they did not read (reason "
		    "sent)" },
	};
	for (size_t i = 0; i < sizeof(sm) / sizeof(sm[0]); i++) {
		help(b, sm[i].name, "counter", sm[i].help);
		bprintf(b, "%s %llu\n", sm[i].name,
		    (unsigned long long) atomic_load(
		        &g->sh.stats[sm[i].which]));
	}
	help(b, "xiezhi_http_rejected_total", "counter",
	    "bad input refused, by reason");
	static const struct {
		int         which;
		const char *reason;
	} rm[] = {
		{ GS_NOT_FOUND, "not_found" },
		{ GS_TRAVERSAL, "path_traversal" },
		{ GS_TOO_LARGE, "too_large" },
		{ GS_BAD_METHOD, "bad_method" },
		{ GS_INCOMPLETE, "incomplete_request" },
		{ GS_WS_REFUSED_LIMIT, "event_clients_limit" },
		{ GS_WS_REFUSED_ORIGIN, "websocket_origin" },
	};
	for (size_t i = 0; i < sizeof(rm) / sizeof(rm[0]); i++)
		bprintf(b, "xiezhi_http_rejected_total{reason=\"%s\"} %llu\n",
		    rm[i].reason,
		    (unsigned long long) atomic_load(
		        &g->sh.stats[rm[i].which]));
	for (int i = 0; i < B__COUNT; i++)
		bprintf(b, "xiezhi_http_rejected_total{reason=\"%s\"} %llu\n",
		    bad_names[i], (unsigned long long) g->bad[i]);
	help(b, "xiezhi_http_responses_total", "counter",
	    "API answers by HTTP status");
	for (int i = 100; i < 600; i++)
		if (g->status_counts[i])
			bprintf(b,
			    "xiezhi_http_responses_total{code=\"%d\"} %llu\n",
			    i, (unsigned long long) g->status_counts[i]);
	help(b, "xiezhi_http_connections", "gauge", "open connections");
	bprintf(
	    b, "xiezhi_http_connections %d\n", atomic_load(&g->sh.conns_open));
	help(b, "xiezhi_ws_clients", "gauge", "connected WebSocket clients");
	bprintf(b, "xiezhi_ws_clients %d\n", atomic_load(&g->sh.ws_clients));
	help(b, "xiezhi_sse_clients", "gauge", "connected SSE clients");
	bprintf(b, "xiezhi_sse_clients %d\n", atomic_load(&g->sh.sse_clients));
	help(b, "xiezhi_events_queued_total", "counter",
	    "events queued for event clients");
	bprintf(b, "xiezhi_events_queued_total %llu\n",
	    (unsigned long long) g->events_out);
	help(b, "xiezhi_logins_total", "counter", "web logins by result");
	bprintf(b,
	    "xiezhi_logins_total{result=\"ok\"} %llu\n"
	    "xiezhi_logins_total{result=\"denied\"} %llu\n"
	    "xiezhi_logins_total{result=\"rate_limited\"} %llu\n",
	    (unsigned long long) g->logins_ok,
	    (unsigned long long) g->logins_denied,
	    (unsigned long long) g->logins_limited);
	help(b, "xiezhi_logouts_total", "counter", "web logouts");
	bprintf(
	    b, "xiezhi_logouts_total %llu\n", (unsigned long long) g->logouts);
	int nsess = 0;
	for (sess *s = g->sessions; s; s = s->next)
		nsess++;
	help(b, "xiezhi_sessions", "gauge", "live web sessions");
	bprintf(b, "xiezhi_sessions %d\n", nsess);
	help(b, "xiezhi_http_call_duration_seconds", "histogram",
	    "POST /api/v1/call latency, request read to reply");
	uint64_t cum = 0;
	for (int i = 0; i < NBUCKETS; i++) {
		cum += g->lat_counts[i];
		bprintf(b,
		    "xiezhi_http_call_duration_seconds_bucket{le=\"%g\"} "
		    "%llu\n",
		    lat_bounds[i], (unsigned long long) cum);
	}
	cum += g->lat_counts[NBUCKETS];
	bprintf(b,
	    "xiezhi_http_call_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "xiezhi_http_call_duration_seconds_sum %.6f\n"
	    "xiezhi_http_call_duration_seconds_count %llu\n",
	    (unsigned long long) cum, g->lat_sum,
	    (unsigned long long) g->lat_n);
}

static int
store_writable(gw *g, int lang, char *why, size_t n)
{
	sqlite3 *db  = g->host->store(g->self);
	char    *err = NULL;
	if (db == NULL) {
		snprintf(why, n, "%s",
		    gw_text(lang, GE("gateway store cannot be opened")));
		return 0;
	}
	if (sqlite3_exec(db,
	        "CREATE TABLE IF NOT EXISTS probe(k INTEGER PRIMARY KEY, at "
	        "INTEGER);"
	        "REPLACE INTO probe VALUES(1, strftime('%s','now'));",
	        NULL, NULL, &err)
	    != SQLITE_OK) {
		snprintf(why, n, gw_text(lang, GE("store not writable: %s")),
		    err ? err : "?");
		sqlite3_free(err);
		return 0;
	}
	return 1;
}

static void
status_finish(struct status_ctx *sc)
{
	gw *g = sc->g;

	if (sc->kind == GJ_METRICS) {
		buf b = { 0 };
		metrics_status(&b, sc->status);
		metrics_traffic(&b, sc->status, sc->alarms != NULL);
		metrics_alarms(&b, sc->alarms);
		metrics_clocks(&b, sc->clocks);
		metrics_gateway(g, &b);
		gw_out *o = calloc(1, sizeof(*o));
		if (o != NULL) {
			o->conn   = sc->conn;
			o->status = 200;
			o->ctype  = "text/plain; version=0.0.4; charset=utf-8";
			o->body   = b.p;
			o->len    = b.n;
			g->status_counts[200]++;
			gw_answer(&g->sh, o);
		} else
			free(b.p);
	} else {
		json_t *reasons = json_array(), *p;
		size_t  i;
		char    why[300];
		if (sc->status == NULL)
			json_array_append_new(reasons,
			    json_string(gw_text(sc->lang,
			        GE("xz.sys.status did not answer"))));
		json_array_foreach(
		    json_object_get(sc->status, "plugins"), i, p)
		{
			const char *n
			    = json_string_value(json_object_get(p, "name"));
			const char *s
			    = json_string_value(json_object_get(p, "state"));
			json_t *q = json_object_get(
			    json_object_get(p, "counters"), "lua_quarantined");
			if (s == NULL || strcmp(s, "running") != 0) {
				snprintf(why, sizeof(why),
				    gw_text(sc->lang, GE("plugin %s is %s")),
				    n, s ? s : "?");
				json_array_append_new(
				    reasons, json_string(why));
			}
			if (json_integer_value(q) > 0) {
				snprintf(why, sizeof(why),
				    gw_text(sc->lang,
				        GE("plugin %s has %lld quarantined "
				           "script(s)")),
				    n, (long long) json_integer_value(q));
				json_array_append_new(
				    reasons, json_string(why));
			}
		}
		if (!store_writable(g, sc->lang, why, sizeof(why)))
			json_array_append_new(reasons, json_string(why));
		int ok = json_array_size(reasons) == 0;
		answer_json(g, sc->conn, ok ? 200 : 503,
		    json_pack("{s:b,s:o}", "ready", ok, "reasons", reasons),
		    NULL);
	}
	json_decref(sc->status);
	json_decref(sc->alarms);
	json_decref(sc->clocks);
	free(sc);
}

static void
on_status_reply(void *ud, int status, const xz_msg *reply)
{
	struct status_ctx *sc = ud;
	(void) status;
	if (!(reply->flags & XZ_MSG_ERROR))
		sc->status = json_loadb(reply->data, reply->len, 0, NULL);
	if (--sc->pending == 0)
		status_finish(sc);
}

static void
on_alarms_reply(void *ud, int status, const xz_msg *reply)
{
	struct status_ctx *sc = ud;
	(void) status;
	if (!(reply->flags & XZ_MSG_ERROR))
		sc->alarms = json_loadb(reply->data, reply->len, 0, NULL);
	if (--sc->pending == 0)
		status_finish(sc);
}

static void
on_clocks_reply(void *ud, int status, const xz_msg *reply)
{
	struct status_ctx *sc = ud;
	(void) status;
	if (!(reply->flags & XZ_MSG_ERROR))
		sc->clocks = json_loadb(reply->data, reply->len, 0, NULL);
	if (--sc->pending == 0)
		status_finish(sc);
}

static void
do_status(gw *g, gw_job *j)
{
	struct status_ctx *sc = calloc(1, sizeof(*sc));
	if (sc == NULL) {
		answer_error(
		    g, j->conn, j->lang, 500, "internal", GE("out of memory"));
		return;
	}
	sc->g       = g;
	sc->lang    = j->lang;
	sc->conn    = j->conn;
	sc->kind    = j->kind;
	sc->pending = 1;
	/* The node's own view, asked as the gateway (monitoring has no
	 * user): one reply callback each, the last one answers. */
	if (j->kind == GJ_METRICS) {
		sc->pending++;
		if (g->host->request(g->self, "prison.alarm.stats", "{}", 2,
		        2000, on_alarms_reply, sc)
		    != XZ_OK)
			sc->pending--;
		sc->pending++;
		if (g->host->request(g->self, "legal.clock.stats", "{}", 2,
		        2000, on_clocks_reply, sc)
		    != XZ_OK)
			sc->pending--;
	}
	if (g->host->request(
	        g->self, "xz.sys.status", "{}", 2, 2000, on_status_reply, sc)
	    != XZ_OK)
		sc->pending--;
	if (sc->pending == 0)
		status_finish(sc);
}

/* ---- the actor's intake ---- */

static void
run_job(gw *g, gw_job *j)
{
	switch (j->kind) {
	case GJ_CALL:
		do_call(g, j);
		break;
	case GJ_LOGIN:
		do_login(g, j);
		break;
	case GJ_LOGOUT:
		do_logout(g, j);
		break;
	case GJ_ME: {
		sess *s = authenticate(g, j, 0);
		if (s != NULL)
			answer_json(g, j->conn, 200, sess_view(s), NULL);
		break;
	}
	case GJ_SUB:
		do_sub(g, j);
		break;
	case GJ_UNSUB:
		do_unsub(g, j);
		break;
	case GJ_METRICS:
	case GJ_READY:
		do_status(g, j);
		break;
	}
}

static void
run_jobs(gw *g, gw_job *j)
{
	while (j != NULL) {
		gw_job *next = j->next;
		if (g->stopping && j->kind != GJ_UNSUB)
			answer_error(g, j->conn, j->lang, 503, "unavailable",
			    GE("the node is stopping"));
		else
			run_job(g, j);
		gw_job_free(j);
		j = next;
	}
}

/* The drain timer (armed by gw_post when the actor is idle) and the 1 s
 * sweep: every queued job. */
static void
drain(void *ud, uint64_t timer_id)
{
	gw     *g = ud;
	gw_job *j;

	(void) timer_id;
	pthread_mutex_lock(&g->sh.mu);
	j                = g->sh.jobs;
	g->sh.jobs       = NULL;
	g->sh.jobs_tail  = &g->sh.jobs;
	g->sh.wake_armed = 0;
	pthread_mutex_unlock(&g->sh.mu);
	run_jobs(g, j);
	if (g->dirty) {
		g->dirty = 0;
		atomic_store(&g->sh.clients_dirty, true);
		gw_kick(&g->sh);
	}
}

/* Every second: a drain in case a wake-up could not be armed, and the
 * sessions expired for over SESSION_GRACE_MS go (until then a request
 * with one is told "expired", not "unknown"). */
#define SESSION_GRACE_MS (15u * 60u * 1000u)
static void
sweep(void *ud, uint64_t id)
{
	gw      *g   = ud;
	uint64_t now = g->host->now_ms(g->self);

	drain(g, id);
	for (sess **pp = &g->sessions; *pp;) {
		sess *s = *pp;
		if (now >= s->expires_ms + SESSION_GRACE_MS) {
			close_streams(
			    g, s->token, GE("session expired: log in again"));
			*pp = s->next;
			sess_free(g, s);
		} else
			pp = &s->next;
	}
}

#define BATCH_ROUNDS 8

/* After each batch: the jobs the server queued while the actor was busy
 * answering (gw_post armed no timer for them), until none is left with
 * the actor marked idle; then a new job arms the drain timer again. Under
 * load, calls thus go from the server thread to the actor without a
 * detour through the timer thread. */
static void
gw_batch_end(void *state)
{
	gw *g = state;

	for (int round = 0;; round++) {
		gw_job *j   = NULL;
		int     arm = 0;
		pthread_mutex_lock(&g->sh.mu);
		g->sh.actor_busy = 0;
		if (round < BATCH_ROUNDS) {
			j               = g->sh.jobs;
			g->sh.jobs      = NULL;
			g->sh.jobs_tail = &g->sh.jobs;
		} else if (g->sh.jobs != NULL && !g->sh.wake_armed)
			/* enough for one batch: the rest after the replies
			 * waiting on the control lane */
			g->sh.wake_armed = arm = 1;
		pthread_mutex_unlock(&g->sh.mu);
		if (arm
		    && g->host->timer_start(g->self, 0, 0, drain, g, NULL)
		        != XZ_OK) {
			pthread_mutex_lock(&g->sh.mu);
			g->sh.wake_armed = 0; /* the sweep drains them */
			pthread_mutex_unlock(&g->sh.mu);
		}
		if (j == NULL)
			break;
		run_jobs(g, j);
	}
	if (g->dirty) {
		g->dirty = 0;
		atomic_store(&g->sh.clients_dirty, true);
		gw_kick(&g->sh);
	}
}

/* ---- lifecycle ---- */

static const xz_option_decl gw_options[] = {
	{ .name   = "listen",
	    .type = XZ_OPT_STRING,
	    .def  = "127.0.0.1",
	    .description
	    = "address to listen on (127.0.0.1: this machine only)" },
	{ .name          = "port",
	    .type        = XZ_OPT_INT,
	    .def         = "8348",
	    .description = "TCP port",
	    .min         = 1,
	    .max         = 65535 },
	{ .name   = "web_root",
	    .type = XZ_OPT_STRING,
	    .def  = "",
	    .description
	    = "folder of the dashboard's files (empty: the built-in one)" },
	{ .name          = "tls_cert",
	    .type        = XZ_OPT_STRING,
	    .def         = "",
	    .description = "PEM certificate: HTTPS when set with tls_key" },
	{ .name          = "tls_key",
	    .type        = XZ_OPT_STRING,
	    .def         = "",
	    .description = "PEM private key of tls_cert" },
	{ .name          = "max_payload",
	    .type        = XZ_OPT_INT,
	    .def         = "1048576",
	    .description = "largest request body in bytes (413 above)",
	    .min         = 1024,
	    .max         = 67108864 },
	{ .name          = "max_ws_clients",
	    .type        = XZ_OPT_INT,
	    .def         = "256",
	    .description = "concurrent WebSocket + SSE clients",
	    .min         = 1,
	    .max         = 100000 },
	{ .name   = "client_queue_max",
	    .type = XZ_OPT_INT,
	    .def  = "4096",
	    .description
	    = "events queued for one client before it is closed as slow",
	    .min = 16,
	    .max = 1000000 },
	{ .name   = "client_queue_bytes",
	    .type = XZ_OPT_INT,
	    .def  = "4194304",
	    .description
	    = "bytes queued for one client before it is closed as slow",
	    .min = 65536,
	    .max = 1073741824 },
	{ .name   = "header_timeout_s",
	    .type = XZ_OPT_INT,
	    .def  = "10",
	    .description
	    = "seconds to send a request's headers (slow clients are closed)",
	    .min = 1,
	    .max = 600 },
	{ .name   = "slow_grace_s",
	    .type = XZ_OPT_INT,
	    .def  = "10",
	    .description
	    = "seconds a client over its queue has to read its close reason "
	      "before it is cut off",
	    .min = 1,
	    .max = 3600 },
	{ .name          = "call_timeout_ms",
	    .type        = XZ_OPT_INT,
	    .def         = "5000",
	    .description = "deadline of a bus request made for an HTTP call",
	    .min         = 10,
	    .max         = 600000 },
	{ .name          = "login_max_failures",
	    .type        = XZ_OPT_INT,
	    .def         = "5",
	    .description = "failed logins from one address before 429",
	    .min         = 1,
	    .max         = 1000000 },
	{ .name          = "login_window_s",
	    .type        = XZ_OPT_INT,
	    .def         = "300",
	    .description = "window of login_max_failures",
	    .min         = 1,
	    .max         = 86400 },
	{ NULL },
};

static int
gw_init(xz_plugin *self, const xz_host *host, void **state)
{
	gw *g = calloc(1, sizeof(*g));
	int ok;

	if (g == NULL)
		return XZ_ENOMEM;
	g->self = self;
	g->host = host;
	ok      = (g->o.listen = host->opt_string(self, "listen")) != NULL
	    && host->opt_int(self, "port", &g->o.port) == XZ_OK
	    && (g->o.web_root = host->opt_string(self, "web_root")) != NULL
	    && (g->o.tls_cert = host->opt_string(self, "tls_cert")) != NULL
	    && (g->o.tls_key = host->opt_string(self, "tls_key")) != NULL
	    && host->opt_int(self, "max_payload", &g->o.max_payload) == XZ_OK
	    && host->opt_int(self, "max_ws_clients", &g->o.max_ws_clients)
	        == XZ_OK
	    && host->opt_int(self, "client_queue_max", &g->o.client_queue_max)
	        == XZ_OK
	    && host->opt_int(
	           self, "client_queue_bytes", &g->o.client_queue_bytes)
	        == XZ_OK
	    && host->opt_int(self, "header_timeout_s", &g->o.header_timeout_s)
	        == XZ_OK
	    && host->opt_int(self, "slow_grace_s", &g->o.slow_grace_s) == XZ_OK
	    && host->opt_int(self, "call_timeout_ms", &g->call_timeout_ms)
	        == XZ_OK
	    && host->opt_int(
	           self, "login_max_failures", &g->login_max_failures)
	        == XZ_OK
	    && host->opt_int(self, "login_window_s", &g->login_window_s)
	        == XZ_OK;
	if (!ok) {
		free(g);
		return XZ_EINTERNAL;
	}
	if (*g->o.web_root)
		snprintf(
		    g->web_root, sizeof(g->web_root), "%s", g->o.web_root);
	else {
		struct stat st;
		snprintf(g->web_root, sizeof(g->web_root), "%s",
		    stat(GW_WEB_ROOT_BUILD "/index.html", &st) == 0
		        ? GW_WEB_ROOT_BUILD
		        : GW_WEB_ROOT_INSTALL);
	}
	g->o.web_root = g->web_root;
	if ((*g->o.tls_cert != '\0') != (*g->o.tls_key != '\0')) {
		host->log(self, XZ_LOG_ERROR, "%s",
		    GT("option tls_cert and tls_key go together (one is "
		       "empty)"));
		free(g);
		return XZ_EINVAL;
	}
	pthread_mutex_init(&g->sh.mu, NULL);
	g->sh.jobs_tail = &g->sh.jobs;
	g->sh.outs_tail = &g->sh.outs;
	g->sessions_ok  = 1;
	g->sh.self      = self;
	g->sh.host      = host;
	g->sh.drain     = drain;
	g->sh.drain_ud  = g;
	host->counter_add(self, "calls", 0);
	host->counter_add(self, "logins", 0);
	host->counter_add(self, "logins_denied", 0);
	host->counter_add(self, "slow_clients", 0);
	*state = g;
	return XZ_OK;
}

static int
gw_start(void *state)
{
	gw  *g = state;
	char err[256];
	int  rc;

	const char *env = getenv("XZ_GATEWAY_PORT");
	if (env != NULL && *env) {
		/* Test suites run many default deployments at once: 0 keeps
		 * the gateway from listening, any other value replaces port.
		 */
		g->o.port = atoll(env);
		if (g->o.port <= 0 || g->o.port > 65535) {
			g->host->log(g->self, XZ_LOG_INFO,
			    GT("XZ_GATEWAY_PORT=%s: not listening"), env);
			return XZ_OK;
		}
	}
	rc = gw_server_start(&g->sh, &g->o, &g->server, err, sizeof(err));
	if (rc != XZ_OK) {
		g->host->log(g->self, XZ_LOG_ERROR,
		    GT("cannot serve (options listen, port, tls_cert, "
		       "tls_key): "
		       "%s"),
		    err);
		return rc;
	}
	g->host->timer_start(g->self, 1000, 1000, sweep, g, &g->sweep);
	g->host->log(g->self, XZ_LOG_INFO,
	    GT("listening on %s://%s:%lld/ (web %s)"),
	    *g->o.tls_cert ? "https" : "http", g->o.listen,
	    (long long) g->o.port, g->web_root);
	return XZ_OK;
}

static void
gw_stop(void *state)
{
	gw *g = state;

	if (g->sweep)
		g->host->timer_cancel(g->self, g->sweep);
	g->sweep    = 0;
	g->stopping = 1;
	gw_server_stop(g->server); /* every connection closed */
	g->server = NULL;
	drain(g, 0); /* what they left: unsubscriptions, dropped answers */
	pthread_mutex_lock(&g->sh.mu);
	gw_out *o       = g->sh.outs;
	g->sh.outs      = NULL;
	g->sh.outs_tail = &g->sh.outs;
	pthread_mutex_unlock(&g->sh.mu);
	while (o) {
		gw_out *n = o->next;
		gw_out_free(o);
		o = n;
	}
}

static void
gw_fini(void *state)
{
	gw *g = state;

	if (g->server != NULL) { /* stop did not run (start failed later) */
		gw_server_stop(g->server);
		g->server = NULL;
	}
	g->stopping = 1;
	while (g->sh.jobs) {
		gw_job *j  = g->sh.jobs;
		g->sh.jobs = j->next;
		gw_job_free(j);
	}
	while (g->sh.outs) {
		gw_out *o  = g->sh.outs;
		g->sh.outs = o->next;
		gw_out_free(o);
	}
	while (g->subs) {
		sub *s  = g->subs;
		g->subs = s->next;
		sub_free(g, s, 0); /* the kernel removed the subscriptions */
	}
	while (g->sessions) {
		sess *s     = g->sessions;
		g->sessions = s->next;
		sess_free(g, s);
	}
	gw_frame_unref(g->last_ws);
	gw_frame_unref(g->last_sse);
	pthread_mutex_destroy(&g->sh.mu);
	free(g);
}

static const xz_plugin_desc gw_desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name        = "gateway",
	.version     = "0.1.0",
	.description = "HTTP/WebSocket gateway: JSON API, events, metrics, "
	               "health, the web dashboard",
	.options     = gw_options,
	.init        = gw_init,
	.start       = gw_start,
	.stop        = gw_stop,
	.fini        = gw_fini,
	.batch_end   = gw_batch_end,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &gw_desc;
}
