/*
 * luaconsole.c - the console actor: answers xz.sys.console.eval requests
 * {"chunk":"...","session":"id"} by running the chunk in the session's own
 * sandboxed state (with the xz module: xz.request("xz.sys.status"),
 * xz.publish, ...), and replies {"results":[...],"output":"..."}: the
 * chunk's return values as JSON, and what print() wrote. A chunk that is
 * an expression is evaluated as `return <chunk>`, as in the lua REPL.
 * Sessions are closed after idle_timeout_s without use.
 */
#include "lua/luahost.h"
#include "lua/luapriv.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONSOLE_MAX_SESSIONS 64

typedef struct session {
	char       id[64];
	char       owner[192]; /* who opened it: only they reach it */
	xz_lua_vm *vm;
	uint64_t   last_ms;
	xz_lua_buf out;
} session;

typedef struct console {
	xz_plugin      *self;
	const xz_host  *host;
	xz_lua_limits   lim;
	session         s[CONSOLE_MAX_SESSIONS];
	int             max_sessions;
	int64_t         idle_ms;
	uint64_t        timer;
	xz_lua_pending *pending;
} console;

static const xz_option_decl console_opts[] = {
	{ "idle_timeout_s", XZ_OPT_INT, "300", 0,
	    "close a console session after this many idle seconds", 1, 86400 },
	{ "max_sessions", XZ_OPT_INT, "16", 0,
	    "console sessions kept at once (least recently used goes)", 1,
	    CONSOLE_MAX_SESSIONS },
	{ NULL, 0, NULL, 0, NULL, 0, 0 },
};

static void
session_close(session *s)
{
	if (s->vm != NULL) {
		xz_lua_vm_retire(s->vm);
		xz_lua_vm_unref(s->vm);
	}
	xz_lua_buf_free(&s->out);
	memset(s, 0, sizeof(*s));
}

/* Sessions belong to the console: closed by session_close (idle sweep,
 * eviction, fini). */
/* Find or open session id of owner (a session of another owner with the
 * same id is another session); NULL on out of memory. */
static session *
session_get(console *c, const char *id, const char *owner)
{
	uint64_t now    = c->host->now_ms(c->self);
	session *free_s = NULL, *lru = NULL;

	for (int i = 0; i < c->max_sessions; i++) {
		session *s = &c->s[i];
		if (s->vm != NULL && strcmp(s->id, id) == 0
		    && strcmp(s->owner, owner) == 0) {
			s->last_ms = now;
			return s;
		}
		if (s->vm == NULL && free_s == NULL)
			free_s = s;
		if (s->vm != NULL
		    && (lru == NULL || s->last_ms < lru->last_ms))
			lru = s;
	}
	if (free_s == NULL) {
		c->host->log(c->self, XZ_LOG_INFO,
		    "console session '%s' closed (too many sessions)",
		    lru->id);
		session_close(lru);
		free_s = lru;
	}
	free_s->vm = xz_lua_vm_new(&c->lim, c->host, c->self, "console", NULL);
	if (free_s->vm == NULL)
		return NULL;
	free_s->vm->pend_list = &c->pending;
	snprintf(free_s->id, sizeof(free_s->id), "%s", id);
	snprintf(free_s->owner, sizeof(free_s->owner), "%s", owner);
	free_s->last_ms = now;
	return free_s;
}

/* Append s as a JSON string; bytes that are not UTF-8 become \u00XX. */
static void
json_string_lossy(xz_lua_buf *b, const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	char   *t;

	if (j != NULL && (t = json_dumps(j, JSON_ENCODE_ANY)) != NULL) {
		xz_lua_buf_add(b, t, strlen(t));
		free(t);
		json_decref(j);
		return;
	}
	json_decref(j);
	xz_lua_buf_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char) s[i];
		char          e[8];
		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
			xz_lua_buf_add(b, s + i, 1);
		else {
			snprintf(e, sizeof(e), "\\u%04x", ch);
			xz_lua_buf_add(b, e, 6);
		}
	}
	xz_lua_buf_add(b, "\"", 1);
}

/* A transaction the chunk left open ends with the call: rolled back.
 * 1 when there was one. */
static int
end_transaction(xz_lua_vm *vm)
{
	sqlite3 *db;

	if (!vm->db_used || (db = vm->host->store(vm->self)) == NULL
	    || sqlite3_get_autocommit(db))
		return 0;
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	vm->host->log(vm->self, XZ_LOG_WARN,
	    "a transaction left open by a chunk was rolled back");
	return 1;
}

static void
eval_done(xz_lua_call *call, int ok, int nres)
{
	session    *s  = call->done_ud;
	xz_lua_vm  *vm = call->vm;
	xz_lua_buf  b  = { 0 };
	char        err[256];
	const char *m;
	int         rolled_back;

	vm->capture = NULL;
	rolled_back = end_transaction(vm);
	if (!ok) {
		m          = lua_tostring(vm->L, -1);
		m          = m ? m : "error";
		char *line = strndup(m, strcspn(m, "\n"));
		vm->host->reply_error(vm->self, call->req,
		    XZ_REPLY_BAD_REQUEST, line ? line : m);
		free(line);
		s->out.len = 0;
		return;
	}
	xz_lua_buf_add(&b, "{\"results\":[", 12);
	for (int i = 0; i < nres; i++) {
		int    idx = -nres + i;
		size_t mark;
		if (i > 0)
			xz_lua_buf_add(&b, ",", 1);
		mark = b.len;
		if (xz_lua_json_encode(vm, call->co, idx, &b, err, sizeof(err))
		    != 0) {
			size_t      l;
			const char *t;
			b.len = mark;
			t     = luaL_tolstring(call->co, idx, &l);
			json_string_lossy(&b, t, l);
			lua_pop(call->co, 1);
		}
	}
	xz_lua_buf_add(&b, "],\"output\":", 11);
	json_string_lossy(&b, s->out.p ? s->out.p : "", s->out.len);
	if (rolled_back)
		xz_lua_buf_add(&b, ",\"rolled_back\":true", 19);
	xz_lua_buf_add(&b, "}", 1);
	s->out.len = 0;
	if (b.p != NULL)
		vm->host->reply(vm->self, call->req, b.p, b.len);
	else
		vm->host->reply_error(
		    vm->self, call->req, "internal", "out of memory");
	xz_lua_buf_free(&b);
}

struct eval_job {
	session      *s;
	const xz_msg *msg;
	const char   *chunk;
};

static int
run_eval(lua_State *L, void *ud)
{
	struct eval_job *j  = ud;
	xz_lua_vm       *vm = j->s->vm;
	xz_lua_call     *c;
	size_t           n   = strlen(j->chunk);
	char            *ret = malloc(n + 8);

	if (ret == NULL)
		return luaL_error(L, "out of memory");
	memcpy(ret, "return ", 7);
	memcpy(ret + 7, j->chunk, n + 1);
	if (luaL_loadbufferx(L, ret, n + 7, "=console", "t") != LUA_OK) {
		lua_pop(L, 1);
		if (luaL_loadbufferx(L, j->chunk, n, "=console", "t")
		    != LUA_OK) {
			free(ret);
			vm->host->reply_error(vm->self, j->msg,
			    XZ_REPLY_BAD_REQUEST, lua_tostring(L, -1));
			lua_pop(L, 1);
			return 0;
		}
	}
	free(ret);
	j->s->out.len = 0;
	vm->capture   = &j->s->out;
	c             = xz_lua_call_new(vm, j->msg, eval_done, j->s);
	lua_xmove(L, c->co, 1);
	xz_lua_call_resume(c, 0, "console");
	return 0;
}

/* Who sent msg, as sessions are bound to it: the sending connection's
 * name and, with principals, the caller. */
static void
owner_of(console *c, const xz_msg *msg, char *out, size_t n)
{
	const xz_caller *who = c->host->caller(c->self, msg);

	snprintf(out, n, "%s|%s", msg->source ? msg->source : "?",
	    who && who->user ? who->user : "?");
}

/*
 * Every chunk is an audit record before it runs (audit.console.eval,
 * docs/audit.md): who, the session (a digest, not the id), the chunk.
 * 0, or -1 when it could not be published (the chunk is refused).
 */
static int
audit_chunk(console *c, const xz_msg *msg, const char *owner, const char *sid,
    const char *chunk)
{
	char     corr[33], sess[17];
	uint64_t h = 1469598103934665603ULL; /* FNV-1a of the id */
	json_t  *ev;
	char    *js;
	int      rc;

	for (const char *p = sid; *p; p++)
		h = (h ^ (unsigned char) *p) * 1099511628211ULL;
	snprintf(sess, sizeof(sess), "%016llx", (unsigned long long) h);
	for (int i = 0; i < 16; i++)
		snprintf(corr + 2 * i, 3, "%02x", msg->id[i]);
	const xz_caller *who = c->host->caller(c->self, msg);
	ev                   = json_pack(
	                      "{s:s,s:s?,s:s?,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s}", "who",
            who && who->user ? who->user : owner, "role",
            who && who->roles ? who->roles[0] : NULL, "agency",
            who && who->agency && *who->agency ? who->agency : NULL,
	                      "connection", owner, "action", "EXEC", "subject_type", "console",
	                      "subject_id", sess, "purpose", "console", "outcome", "submitted",
	                      "service", "console", "corr", corr, "time",
	                      (json_int_t) c->host->now_ms(c->self), "chunk", chunk);
	if (ev == NULL || (js = json_dumps(ev, JSON_COMPACT)) == NULL) {
		json_decref(ev);
		return -1;
	}
	rc = c->host->publish(c->self, "audit.console.eval", js, strlen(js));
	free(js);
	json_decref(ev);
	if (rc != XZ_OK) {
		c->host->log(c->self, XZ_LOG_ERROR,
		    "chunk of %s refused: its audit record was not "
		    "published (%s)",
		    owner, c->host->strerror(rc));
		c->host->counter_add(c->self, "audit_refused", 1);
		return -1;
	}
	return 0;
}

static void
on_eval(void *ud, const xz_msg *msg)
{
	console        *c = ud;
	json_t         *req, *jchunk, *jsess;
	json_error_t    je;
	session        *s;
	struct eval_job j;

	if (msg->kind != XZ_KIND_REQUEST)
		return;
	/* Arbitrary Lua in the node: administrators only. */
	const xz_caller *who   = c->host->caller(c->self, msg);
	bool             admin = false;
	for (size_t i = 0; who->roles[i] != NULL; i++)
		admin = admin || strcmp(who->roles[i], "admin") == 0
		    || strcmp(who->roles[i], "node") == 0
		    || strcmp(who->roles[i], "plugin") == 0;
	if (!admin) {
		char m[256];
		snprintf(m, sizeof(m),
		    "xz.sys.console.eval: '%s' may not run Lua in the node: "
		    "it "
		    "needs the role admin",
		    who->user);
		c->host->reply_error(c->self, msg, XZ_REPLY_FORBIDDEN, m);
		return;
	}
	req    = json_loadb(msg->data, msg->len, 0, &je);
	jchunk = req ? json_object_get(req, "chunk") : NULL;
	jsess  = req ? json_object_get(req, "session") : NULL;
	if (!json_is_string(jchunk)
	    || (jsess != NULL && !json_is_string(jsess))) {
		c->host->reply_error(c->self, msg, XZ_REPLY_BAD_REQUEST,
		    "expected {\"chunk\":\"lua code\",\"session\":\"id\"}");
		json_decref(req);
		return;
	}
	char owner[192];
	owner_of(c, msg, owner, sizeof(owner));
	const char *sid = jsess ? json_string_value(jsess) : "default";
	if (audit_chunk(c, msg, owner, sid, json_string_value(jchunk)) != 0) {
		c->host->reply_error(c->self, msg, "audit_unavailable",
		    "the chunk was not run: its audit record could not be "
		    "made");
		json_decref(req);
		return;
	}
	s = session_get(c, sid, owner);
	if (s == NULL) {
		c->host->reply_error(c->self, msg, XZ_REPLY_INTERNAL,
		    "cannot open a console session: out of memory");
		json_decref(req);
		return;
	}
	j.s     = s;
	j.msg   = msg;
	j.chunk = json_string_value(jchunk);
	if (xz_lua_vm_protect(s->vm, "console", run_eval, &j) != LUA_OK)
		c->host->reply_error(c->self, msg, XZ_REPLY_INTERNAL,
		    "console state out of memory");
	if (s->vm->L != NULL)
		s->vm->capture = NULL;
	json_decref(req);
}

static void
on_sweep(void *ud, uint64_t id)
{
	console *c   = ud;
	uint64_t now = c->host->now_ms(c->self);

	(void) id;
	for (int i = 0; i < c->max_sessions; i++) {
		session *s = &c->s[i];
		if (s->vm != NULL && s->vm->calls == NULL
		    && now - s->last_ms > (uint64_t) c->idle_ms) {
			c->host->log(c->self, XZ_LOG_DEBUG,
			    "console session '%s' closed after %lld s idle",
			    s->id, (long long) (c->idle_ms / 1000));
			session_close(s);
		}
	}
}

/* The console state is freed by console_fini. */
static int
console_init(xz_plugin *self, const xz_host *host, void **state)
{
	console         *c = calloc(1, sizeof(*c));
	const xz_config *cfg;
	int64_t          v;
	int              r;

	if (c == NULL)
		return XZ_ENOMEM;
	c->self         = self;
	c->host         = host;
	c->max_sessions = 16;
	c->idle_ms      = 300000;
	if (host->opt_int(self, "idle_timeout_s", &v) == XZ_OK)
		c->idle_ms = v * 1000;
	if (host->opt_int(self, "max_sessions", &v) == XZ_OK && v >= 1
	    && v <= CONSOLE_MAX_SESSIONS)
		c->max_sessions = (int) v;
	cfg = xz_kernel_config(xz_plugin_kernel(self));
	xz_lua_limits_effective(cfg ? &cfg->lua : NULL, &c->lim);
	r = host->subscribe(
	    self, "xz.sys.console.eval", NULL, on_eval, c, NULL);
	if (r == XZ_OK)
		r = host->timer_start(
		    self, 10000, 10000, on_sweep, c, &c->timer);
	if (r != XZ_OK) {
		free(c);
		return r;
	}
	*state = c;
	return XZ_OK;
}

static void
console_fini(void *state)
{
	console *c = state;

	c->host->timer_cancel(c->self, c->timer);
	for (int i = 0; i < CONSOLE_MAX_SESSIONS; i++)
		session_close(&c->s[i]);
	xz_lua_pending_free_all(&c->pending);
	free(c);
}

static const xz_plugin_desc console_desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name        = "console",
	.version     = XZ_VERSION_STRING,
	.description = "Lua console: evaluates xz.sys.console.eval chunks in "
	               "sandboxed sessions",
	.options     = console_opts,
	.init        = console_init,
	.fini        = console_fini,
};

const xz_plugin_desc *
xz_lua_console_desc(void)
{
	return &console_desc;
}
