/*
 * luaxz.c - the `xz` module: the host table as seen from Lua.
 *
 * Every kernel callback (message, timer, reply) enters the vm through
 * xz_lua_vm_protect and runs the script's function in a coroutine, so a
 * handler may call xz.request, which yields until the reply or the
 * deadline. Handlers and timer functions are held by registry reference.
 *
 * This file is the top of the vm stack (see luapriv.h): xz_lua_vm_new
 * hands luavm.c the module and luafail.c's failure policy as hooks, so
 * neither of them uses a symbol of a file above it.
 */
#include "lua/luapriv.h"
#include "util/errors.h"

#include <sqlite3.h>
#include <xiezhi/i18n.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct xz_lua_pending {
	xz_lua_vm      *vm;
	xz_lua_call    *call;
	int             abandoned; /* the call was resumed with an error */
	xz_lua_pending *prev, *next;
};

static xz_lua_vm *
vm_checked(lua_State *L)
{
	return xz_lua_vm_of(L);
}

/* Encode argument idx (absent: {}) into vm->enc; raises on error. */
static void
encode_arg(lua_State *L, xz_lua_vm *vm, int idx, const char *fn)
{
	char err[256];

	vm->enc.len = 0;
	if (lua_isnone(L, idx)) {
		if (xz_lua_buf_add(&vm->enc, "{}", 2) != 0)
			luaL_error(L, "%s: out of memory", fn);
		return;
	}
	if (xz_lua_json_encode(vm, L, idx, &vm->enc, err, sizeof(err)) != 0)
		luaL_error(L, "%s: %s", fn, err);
}

/* ---- messages ---- */

int
xz_lua_push_msg(xz_lua_vm *vm, lua_State *L, const xz_msg *msg)
{
	char err[256];

	if (msg->content_type != XZ_CT_JSON
	    || xz_lua_json_decode(vm, L, msg->data, msg->len, err, sizeof(err))
	        != 0)
		lua_pushlstring(L, msg->data, msg->len);
	lua_pushlstring(L, msg->topic, msg->topic_len);
	lua_pushstring(L, msg->source ? msg->source : "");
	xz_lua_push_caller(vm, L, msg);
	return 4;
}

void
xz_lua_push_caller(xz_lua_vm *vm, lua_State *L, const xz_msg *msg)
{
	const xz_caller *c
	    = vm->host != NULL ? vm->host->caller(vm->self, msg) : NULL;

	if (c == NULL) {
		lua_pushnil(L);
		return;
	}
	lua_createtable(L, 0, 5);
	lua_pushstring(L, c->user);
	lua_setfield(L, -2, "user");
	lua_pushstring(L, c->name);
	lua_setfield(L, -2, "name");
	lua_pushstring(L, c->agency);
	lua_setfield(L, -2, "agency");
	lua_pushstring(L, c->auth);
	lua_setfield(L, -2, "auth");
	lua_newtable(L);
	for (int i = 0; c->roles[i] != NULL; i++) {
		lua_pushstring(L, c->roles[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "roles");
}

struct msg_job {
	xz_lua_vm    *vm;
	int           fn_ref;
	const xz_msg *msg;
	bool          durable; /* a durable subscription's */
};

/* A durable event's handler returned without error (also after waiting
 * in xz.request): acknowledge it, so the node's log forgets it. An error
 * does not, and the event comes again. */
static void
done_ack(xz_lua_call *c, int ok, int nres)
{
	xz_lua_vm *vm = c->vm;
	xz_msg     m;

	(void) nres;
	if (!ok || !c->ack || vm->host == NULL || vm->host->ack == NULL)
		return;
	memset(&m, 0, sizeof(m));
	m.kind  = XZ_KIND_EVENT;
	m.flags = XZ_MSG_DURABLE;
	memcpy(m.id, c->ack_id, 16);
	if (vm->host->ack(vm->self, &m) != XZ_OK)
		xz_lua_log(vm, XZ_LOG_WARN,
		    "durable event %s: acknowledgement not queued (it will "
		    "come again)",
		    c->what);
}

/* The 5th argument of a durable subscription's handler:
 * {id = "32 hex digits", redelivered = bool}. */
static void
push_durable_info(lua_State *L, const xz_msg *msg)
{
	static const char hx[] = "0123456789abcdef";
	char              id[33];

	for (int i = 0; i < 16; i++) {
		id[2 * i]     = hx[msg->id[i] >> 4];
		id[2 * i + 1] = hx[msg->id[i] & 15];
	}
	id[32] = '\0';
	lua_createtable(L, 0, 2);
	lua_pushstring(L, id);
	lua_setfield(L, -2, "id");
	lua_pushboolean(L, (msg->flags & XZ_MSG_REDELIVERED) != 0);
	lua_setfield(L, -2, "redelivered");
}

static int
run_msg(lua_State *L, void *ud)
{
	struct msg_job *j   = ud;
	bool            ack = j->durable && j->msg->kind == XZ_KIND_EVENT
	    && (j->msg->flags & XZ_MSG_DURABLE);
	xz_lua_call *c;
	int          n;

	lua_rawgeti(L, LUA_REGISTRYINDEX, j->fn_ref);
	n = xz_lua_push_msg(j->vm, L, j->msg);
	if (j->durable) {
		push_durable_info(L, j->msg);
		n++;
	}
	c = xz_lua_call_new(j->vm,
	    j->msg->kind == XZ_KIND_REQUEST ? j->msg : NULL,
	    ack ? done_ack : xz_lua_call_done_reply, NULL);
	if (ack) {
		c->ack = true;
		memcpy(c->ack_id, j->msg->id, 16);
	}
	if (!lua_checkstack(c->co, n + 1))
		return luaL_error(L, "out of stack");
	lua_xmove(L, c->co, n + 1);
	xz_lua_call_resume(c, n, j->msg->topic);
	return 0;
}

static void
on_msg(void *ud, const xz_msg *msg)
{
	xz_lua_sub    *s = ud;
	struct msg_job j = { s->vm, s->fn_ref, msg, s->durable };

	if (j.vm->L == NULL || j.vm->detached)
		return;
	xz_lua_vm_protect(j.vm, msg->topic, run_msg, &j);
}

static int subscribe(xz_lua_vm *vm, lua_State *L, const char *pattern,
    const char *group, bool durable, uint64_t *id);

int
xz_lua_subscribe(xz_lua_vm *vm, lua_State *L, const char *pattern,
    const char *group, uint64_t *id)
{
	return subscribe(vm, L, pattern, group, false, id);
}

int
xz_lua_subscribe_durable(
    xz_lua_vm *vm, lua_State *L, const char *pattern, uint64_t *id)
{
	return subscribe(vm, L, pattern, NULL, true, id);
}

/* The subscription record is owned by the vm: freed by xz.unsubscribe or
 * xz_lua_vm_detach. */
static int
subscribe(xz_lua_vm *vm, lua_State *L, const char *pattern, const char *group,
    bool durable, uint64_t *id)
{
	xz_lua_sub *s;
	int         r;

	*id = 0;
	if (vm->host == NULL) { /* scratch state: describe only */
		lua_pop(L, 1);
		return XZ_OK;
	}
	if (vm->nsubs >= XZ_LUA_MAX_SUBS) {
		lua_pop(L, 1);
		return XZ_ELIMIT;
	}
	if (vm->nsubs == vm->capsubs) {
		size_t       cap = vm->capsubs ? vm->capsubs * 2 : 8;
		xz_lua_sub **ns  = realloc(vm->subs, cap * sizeof(*ns));
		if (ns == NULL) {
			lua_pop(L, 1);
			return XZ_ENOMEM;
		}
		vm->subs    = ns;
		vm->capsubs = cap;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		lua_pop(L, 1);
		return XZ_ENOMEM;
	}
	s->vm      = vm;
	s->durable = durable;
	s->fn_ref  = luaL_ref(L, LUA_REGISTRYINDEX);
	if (!durable)
		r = vm->host->subscribe(
		    vm->self, pattern, group, on_msg, s, &s->id);
	else if (vm->host->subscribe_durable == NULL || vm->host->ack == NULL)
		r = XZ_ESTATE;
	else
		r = vm->host->subscribe_durable(
		    vm->self, pattern, on_msg, s, &s->id);
	if (r != XZ_OK) {
		luaL_unref(L, LUA_REGISTRYINDEX, s->fn_ref);
		free(s);
		return r;
	}
	vm->subs[vm->nsubs++] = s;
	*id                   = s->id;
	return XZ_OK;
}

static int
l_subscribe(lua_State *L)
{
	xz_lua_vm  *vm      = vm_checked(L);
	const char *pattern = luaL_checkstring(L, 1);
	const char *group   = luaL_optstring(L, 3, NULL);
	uint64_t    id;
	int         r;

	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_settop(L, 2);
	if ((r = xz_lua_subscribe(vm, L, pattern, group, &id)) == XZ_ELIMIT)
		return luaL_error(L,
		    "xz.subscribe('%s'): too many subscriptions (%d)", pattern,
		    (int) XZ_LUA_MAX_SUBS);
	if (r != XZ_OK)
		return luaL_error(L, "xz.subscribe('%s'): %s", pattern,
		    vm->host ? vm->host->strerror(r) : "failed");
	lua_pushinteger(L, (lua_Integer) id);
	return 1;
}

/* xz.subscribe_durable(pattern, fn): at-least-once delivery of the
 * events of bus.durable topics (docs/lua.md, "Durable subscriptions"). */
static int
l_subscribe_durable(lua_State *L)
{
	xz_lua_vm  *vm      = vm_checked(L);
	const char *pattern = luaL_checkstring(L, 1);
	uint64_t    id;
	int         r;

	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_settop(L, 2);
	if ((r = xz_lua_subscribe_durable(vm, L, pattern, &id)) == XZ_ELIMIT)
		return luaL_error(L,
		    "xz.subscribe_durable('%s'): too many subscriptions (%d)",
		    pattern, (int) XZ_LUA_MAX_SUBS);
	if (r != XZ_OK)
		return luaL_error(L, "xz.subscribe_durable('%s'): %s", pattern,
		    vm->host ? vm->host->strerror(r) : "failed");
	lua_pushinteger(L, (lua_Integer) id);
	return 1;
}

static int
l_unsubscribe(lua_State *L)
{
	xz_lua_vm *vm = vm_checked(L);
	uint64_t   id = (uint64_t) luaL_checkinteger(L, 1);

	for (size_t i = 0; i < vm->nsubs; i++) {
		xz_lua_sub *s = vm->subs[i];
		if (s->id != id)
			continue;
		if (vm->host != NULL)
			vm->host->unsubscribe(vm->self, id);
		luaL_unref(L, LUA_REGISTRYINDEX, s->fn_ref);
		vm->subs[i] = vm->subs[--vm->nsubs];
		free(s);
		lua_pushboolean(L, 1);
		return 1;
	}
	lua_pushboolean(L, 0);
	return 1;
}

static int
l_publish(lua_State *L)
{
	xz_lua_vm  *vm    = vm_checked(L);
	const char *topic = luaL_checkstring(L, 1);
	int         r;

	encode_arg(L, vm, 2, "xz.publish");
	if (vm->host == NULL) {
		lua_pushboolean(L, 1);
		return 1;
	}
	r = vm->host->publish(vm->self, topic, vm->enc.p, vm->enc.len);
	if (r != XZ_OK) {
		if (r == XZ_EINVAL)
			return luaL_error(
			    L, "xz.publish: invalid topic '%s'", topic);
		lua_pushnil(L);
		lua_pushstring(L, vm->host->strerror(r));
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* ---- request / reply ---- */

/* A failed request's code: the wire code of the error (the SDK's closed
 * set of reply codes), as a reply from a remote node would carry it. */
static const char *
status_code(int status)
{
	return xz_err_code(status == XZ_OK ? XZ_EINTERNAL : status);
}

struct reply_job {
	xz_lua_call  *c;
	int           status;
	const xz_msg *reply;
};

/* Push the results of xz.request on L: the reply, or nil, code, message. */
static int
push_reply(lua_State *L, xz_lua_vm *vm, int status, const xz_msg *reply)
{
	char err[256];

	if (status == XZ_OK && (reply->flags & XZ_MSG_ERROR) == 0) {
		if (reply->content_type != XZ_CT_JSON
		    || xz_lua_json_decode(
		           vm, L, reply->data, reply->len, err, sizeof(err))
		        != 0)
			lua_pushlstring(L, reply->data, reply->len);
		return 1;
	}
	lua_pushnil(L);
	lua_pushstring(L, status_code(status));
	lua_pushstring(
	    L, vm->host->strerror(status == XZ_OK ? XZ_EINTERNAL : status));
	/* {"error":{"code":..,"message":..}} says more than the status */
	if (reply != NULL && reply->len > 0
	    && xz_lua_json_decode(
	           vm, L, reply->data, reply->len, err, sizeof(err))
	        == 0) {
		int t = lua_gettop(L);
		if (lua_istable(L, t)
		    && lua_getfield(L, t, "error") == LUA_TTABLE) {
			if (lua_getfield(L, t + 1, "code") == LUA_TSTRING)
				lua_replace(L, t - 2);
			else
				lua_pop(L, 1);
			if (lua_getfield(L, t + 1, "message") == LUA_TSTRING)
				lua_replace(L, t - 1);
			else
				lua_pop(L, 1);
		}
		lua_settop(L, t - 1);
	}
	return 3;
}

static int
run_reply(lua_State *L, void *ud)
{
	struct reply_job *j = ud;
	int               n = push_reply(L, j->c->vm, j->status, j->reply);

	if (!lua_checkstack(j->c->co, n))
		return luaL_error(L, "out of stack");
	lua_xmove(L, j->c->co, n);
	xz_lua_call_resume(j->c, n, NULL);
	return 0;
}

static void
pending_unlink(xz_lua_pending *p)
{
	xz_lua_vm *vm = p->vm;

	if (p->prev != NULL)
		p->prev->next = p->next;
	else if (vm->pend_list != NULL && *vm->pend_list == p)
		*vm->pend_list = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
}

/* Runs exactly once per request sent. The vm may have been retired (a
 * reload) since: then its struct is still here (we hold a ref) but its
 * state and calls are gone, and the reply is dropped. */
static void
on_reply(void *ud, int status, const xz_msg *reply)
{
	xz_lua_pending  *p  = ud;
	xz_lua_vm       *vm = p->vm;
	struct reply_job j  = { p->call, status, reply };

	pending_unlink(p);
	if (vm->L != NULL && !vm->detached && !p->abandoned)
		xz_lua_vm_protect(vm, "reply", run_reply, &j);
	free(p);
	xz_lua_vm_unref(vm);
}

void
xz_lua_pending_free_all(xz_lua_pending **head)
{
	while (*head != NULL) {
		xz_lua_pending *p  = *head;
		xz_lua_vm      *vm = p->vm;
		*head              = p->next;
		free(p);
		xz_lua_vm_unref(vm);
	}
}

static int
run_abandon(lua_State *L, void *ud)
{
	xz_lua_call *c = ud;

	if (!lua_checkstack(c->co, 3))
		return luaL_error(L, "out of stack");
	lua_pushnil(c->co);
	lua_pushstring(c->co, xz_err_code(XZ_ECLOSED));
	lua_pushstring(c->co,
	    "the plugin was reloaded while this request waited for its "
	    "reply");
	xz_lua_call_resume(c, 3, NULL);
	return 0;
}

void
xz_lua_pending_abandon(xz_lua_vm *vm)
{
	int again = 1;

	if (vm == NULL || vm->L == NULL || vm->pend_list == NULL)
		return;
	/* A resumed handler may send another request (added at the head):
	 * start over until every waiting call of vm has seen its error. */
	while (again) {
		again = 0;
		for (xz_lua_pending *p = *vm->pend_list; p != NULL;
		     p                 = p->next) {
			if (p->vm != vm || p->abandoned)
				continue;
			p->abandoned = 1;
			xz_lua_vm_protect(vm, "reload", run_abandon, p->call);
			again = 1;
			break;
		}
	}
}

/* The pending record (and the vm ref it holds) is freed by on_reply, or
 * by xz_lua_pending_free_all at fini. */
static int
l_request(lua_State *L)
{
	xz_lua_vm      *vm    = vm_checked(L);
	xz_lua_call    *c     = xz_lua_call_current(L);
	const char     *topic = luaL_checkstring(L, 1);
	lua_Integer     tmo   = luaL_optinteger(L, 3, 0);
	xz_lua_pending *p;
	int             r;

	if (c == NULL || vm->host == NULL || vm->pend_list == NULL)
		return luaL_error(L,
		    "xz.request: only in a handler or timer "
		    "function, not at load or in init");
	if (!lua_isyieldable(L))
		return luaL_error(L,
		    "xz.request: cannot wait here (inside "
		    "a metamethod, iterator or sort "
		    "function)");
	if (tmo < 0 || tmo > 3600000)
		return luaL_error(
		    L, "xz.request: timeout %d ms out of range", (int) tmo);
	encode_arg(L, vm, 2, "xz.request");
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return luaL_error(L, "xz.request: out of memory");
	p->vm   = vm;
	p->call = c;
	p->next = *vm->pend_list;
	if (p->next != NULL)
		p->next->prev = p;
	*vm->pend_list = p;
	vm->refs++;
	r = vm->host->request(vm->self, topic, vm->enc.p, vm->enc.len,
	    (uint32_t) tmo, on_reply, p);
	if (r != XZ_OK) {
		pending_unlink(p);
		free(p);
		vm->refs--;
		if (r == XZ_EINVAL)
			return luaL_error(
			    L, "xz.request: invalid topic '%s'", topic);
		lua_pushnil(L);
		lua_pushstring(L, status_code(r));
		lua_pushstring(L, vm->host->strerror(r));
		return 3;
	}
	c->waiting = 1;
	return lua_yield(L, 0);
}

static xz_lua_call *
check_request(lua_State *L, const char *fn)
{
	xz_lua_call *c = xz_lua_call_current(L);

	if (c == NULL || c->req == NULL || c->req->kind != XZ_KIND_REQUEST)
		luaL_error(L, "%s: not handling a request", fn);
	return c;
}

static int
l_reply(lua_State *L)
{
	xz_lua_vm   *vm = vm_checked(L);
	xz_lua_call *c  = check_request(L, "xz.reply");

	if (c->replied) {
		lua_pushboolean(L, 0);
		return 1;
	}
	encode_arg(L, vm, 1, "xz.reply");
	c->replied = 1;
	if (vm->host != NULL)
		vm->host->reply(vm->self, c->req, vm->enc.p, vm->enc.len);
	lua_pushboolean(L, 1);
	return 1;
}

static int
l_reply_error(lua_State *L)
{
	xz_lua_vm   *vm   = vm_checked(L);
	xz_lua_call *c    = check_request(L, "xz.reply_error");
	const char  *code = luaL_checkstring(L, 1);
	const char  *msg  = luaL_optstring(L, 2, code);

	if (c->replied) {
		lua_pushboolean(L, 0);
		return 1;
	}
	c->replied = 1;
	if (vm->host != NULL)
		vm->host->reply_error(vm->self, c->req, code, msg);
	lua_pushboolean(L, 1);
	return 1;
}

/* ---- timers ---- */

struct timer_job {
	xz_lua_timer *t;
	uint64_t      id;
};

static int
run_timer(lua_State *L, void *ud)
{
	struct timer_job *j = ud;
	xz_lua_call      *c;

	lua_rawgeti(L, LUA_REGISTRYINDEX, j->t->fn_ref);
	lua_pushinteger(L, (lua_Integer) j->id);
	c = xz_lua_call_new(j->t->vm, NULL, xz_lua_call_done_reply, NULL);
	lua_xmove(L, c->co, 2);
	xz_lua_call_resume(c, 1, "timer");
	return 0;
}

static void
timer_remove(xz_lua_vm *vm, xz_lua_timer *t)
{
	for (size_t i = 0; i < vm->ntimers; i++)
		if (vm->timers[i] == t) {
			vm->timers[i] = vm->timers[--vm->ntimers];
			break;
		}
	if (vm->L != NULL)
		luaL_unref(vm->L, LUA_REGISTRYINDEX, t->fn_ref);
}

static void
on_timer(void *ud, uint64_t id)
{
	xz_lua_timer    *t  = ud;
	xz_lua_vm       *vm = t->vm;
	struct timer_job j  = { t, id };

	if (t->cancelled || vm->L == NULL || vm->detached)
		return;
	t->firing = 1;
	xz_lua_vm_protect(vm, "timer", run_timer, &j);
	t->firing = 0;
	if (t->cancelled) {
		free(t); /* cancelled while running: already unlisted */
	} else if (!t->periodic) {
		timer_remove(vm, t);
		free(t);
	}
}

/* The timer record is owned by the vm: freed after a one-shot fires, by
 * xz.timer.cancel or by xz_lua_vm_detach. */
static int
timer_start(lua_State *L, int periodic)
{
	xz_lua_vm    *vm = vm_checked(L);
	lua_Integer   ms = luaL_checkinteger(L, 1);
	xz_lua_timer *t;
	int           r;

	luaL_checktype(L, 2, LUA_TFUNCTION);
	if (ms < 0 || (periodic && ms == 0))
		return luaL_error(L, "xz.timer.%s: bad interval %d ms",
		    periodic ? "every" : "after", (int) ms);
	lua_settop(L, 2);
	if (vm->host == NULL) {
		lua_pushinteger(L, 0);
		return 1;
	}
	if (vm->ntimers >= XZ_LUA_MAX_TIMERS)
		return luaL_error(L, "xz.timer: too many timers (%d)",
		    (int) XZ_LUA_MAX_TIMERS);
	if (vm->ntimers == vm->captimers) {
		size_t         cap = vm->captimers ? vm->captimers * 2 : 8;
		xz_lua_timer **nt  = realloc(vm->timers, cap * sizeof(*nt));
		if (nt == NULL)
			return luaL_error(L, "xz.timer: out of memory");
		vm->timers    = nt;
		vm->captimers = cap;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return luaL_error(L, "xz.timer: out of memory");
	t->vm       = vm;
	t->periodic = periodic;
	t->fn_ref   = luaL_ref(L, LUA_REGISTRYINDEX);
	r           = vm->host->timer_start(vm->self, (uint64_t) ms,
            periodic ? (uint64_t) ms : 0, on_timer, t, &t->id);
	if (r != XZ_OK) {
		luaL_unref(L, LUA_REGISTRYINDEX, t->fn_ref);
		free(t);
		return luaL_error(L, "xz.timer: %s", vm->host->strerror(r));
	}
	vm->timers[vm->ntimers++] = t;
	lua_pushinteger(L, (lua_Integer) t->id);
	return 1;
}

static int
l_timer_after(lua_State *L)
{
	return timer_start(L, 0);
}

static int
l_timer_every(lua_State *L)
{
	return timer_start(L, 1);
}

static int
l_timer_cancel(lua_State *L)
{
	xz_lua_vm *vm = vm_checked(L);
	uint64_t   id = (uint64_t) luaL_checkinteger(L, 1);

	for (size_t i = 0; i < vm->ntimers; i++) {
		xz_lua_timer *t = vm->timers[i];
		if (t->id != id)
			continue;
		if (vm->host != NULL)
			vm->host->timer_cancel(vm->self, id);
		timer_remove(vm, t);
		t->cancelled = 1;
		if (!t->firing)
			free(t);
		lua_pushboolean(L, 1);
		return 1;
	}
	lua_pushboolean(L, 0);
	return 1;
}

/* ---- misc ---- */

static int
l_now(lua_State *L)
{
	xz_lua_vm *vm = vm_checked(L);

	if (vm->host != NULL) {
		lua_pushinteger(L, (lua_Integer) vm->host->now_ms(vm->self));
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		lua_pushinteger(
		    L, (lua_Integer) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	}
	return 1;
}

static int
l_log(lua_State *L)
{
	static const char *const levels[]
	    = { "error", "warn", "info", "debug", NULL };
	xz_lua_vm  *vm    = vm_checked(L);
	int         level = luaL_checkoption(L, 1, NULL, levels);
	int         n     = lua_gettop(L);
	luaL_Buffer b;

	luaL_buffinit(L, &b);
	for (int i = 2; i <= n; i++) {
		if (i > 2)
			luaL_addchar(&b, ' ');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	xz_lua_log(vm, level, "%s", lua_tostring(L, -1));
	return 0;
}

static int
l_readonly(lua_State *L)
{
	return luaL_error(L, "xz.config is read-only (key '%s')",
	    luaL_tolstring(L, 2, NULL));
}

static int
config_next(lua_State *L)
{
	lua_settop(L, 2);
	if (lua_next(L, 1))
		return 2;
	lua_pushnil(L);
	return 1;
}

static int
l_config_pairs(lua_State *L)
{
	lua_getmetatable(L, 1);
	lua_pushcfunction(L, config_next);
	lua_getfield(L, -2, "__index");
	lua_pushnil(L);
	return 3;
}

void
xz_lua_set_config(xz_lua_vm *vm)
{
	lua_State *L = vm->L;

	lua_newtable(L); /* the proxy */
	lua_createtable(L, 0, 5);
	lua_pushvalue(L, -3);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, l_readonly);
	lua_setfield(L, -2, "__newindex");
	lua_pushcfunction(L, l_config_pairs);
	lua_setfield(L, -2, "__pairs");
	lua_pushliteral(L, "read-only");
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
	xz_lua_protect(L, -1); /* and rawset refuses it */
	lua_getglobal(L, "xz");
	lua_pushvalue(L, -2);
	lua_setfield(L, -2, "config");
	lua_pop(L, 3);
}

/* ---- xz.db ---- */

typedef struct stmt_box {
	sqlite3_stmt *stmt;
} stmt_box;

static int
stmt_gc(lua_State *L)
{
	stmt_box *b = lua_touserdata(L, 1);

	if (b->stmt != NULL)
		sqlite3_finalize(b->stmt);
	b->stmt = NULL;
	return 0;
}

/* Pragmas that take an argument and only read. */
static const char *const read_pragmas[] = { "table_info", "table_xinfo",
	"index_list", "index_info", "index_xinfo", "foreign_key_list",
	"foreign_key_check", "integrity_check", "quick_check", NULL };

/*
 * What a script may do with its store: anything inside it, nothing that
 * reaches another file or changes how the connection works. ATTACH and
 * DETACH (and so VACUUM, which attaches its target), load_extension()
 * and pragmas that set a value are refused while the statement is
 * prepared ("not authorized").
 */
static int
db_authorize(void *ud, int action, const char *a1, const char *a2,
    const char *dbname, const char *trigger)
{
	(void) ud;
	(void) dbname;
	(void) trigger;
	switch (action) {
	case SQLITE_ATTACH:
	case SQLITE_DETACH:
		return SQLITE_DENY;
	case SQLITE_FUNCTION:
		return a2 != NULL && strcasecmp(a2, "load_extension") == 0
		    ? SQLITE_DENY
		    : SQLITE_OK;
	case SQLITE_PRAGMA:
		if (a2 == NULL)
			return SQLITE_OK;
		for (const char *const *r = read_pragmas; *r; r++)
			if (a1 != NULL && strcasecmp(a1, *r) == 0)
				return SQLITE_OK;
		return SQLITE_DENY;
	default:
		return SQLITE_OK;
	}
}

static sqlite3 *
db_get(lua_State *L, xz_lua_vm *vm, const char *fn)
{
	sqlite3 *db;

	if (vm->host == NULL)
		luaL_error(L,
		    "%s: no store while the node checks the script (use "
		    "xz.db in init or in handlers)",
		    fn);
	if ((db = vm->host->store(vm->self)) == NULL)
		luaL_error(L, "%s: no store available for this plugin", fn);
	/* Cheap enough to set on every use (the connection is the
	 * plugin's, opened by the kernel). */
	sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
	sqlite3_set_authorizer(db, db_authorize, NULL);
	vm->db_used = 1;
	return db;
}

/* Prepare sql with parameters from stack index 2 on; the statement lives
 * in a userdata box (finalized by __gc if an error intervenes). */
static stmt_box *
db_prepare(lua_State *L, sqlite3 *db, const char *fn)
{
	size_t      sl;
	const char *sql = luaL_checklstring(L, 1, &sl);
	const char *tail;
	int         n = lua_gettop(L);
	stmt_box   *b = lua_newuserdatauv(L, sizeof(*b), 0);

	b->stmt = NULL;
	if (luaL_newmetatable(L, "xz.db.stmt")) {
		lua_pushcfunction(L, stmt_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	if (sqlite3_prepare_v2(db, sql, (int) sl, &b->stmt, &tail)
	    != SQLITE_OK)
		luaL_error(L, "%s: %s", fn, sqlite3_errmsg(db));
	if (b->stmt == NULL)
		luaL_error(L, "%s: empty statement", fn);
	for (int i = 2; i <= n; i++) {
		int rc, p = i - 1;
		switch (lua_type(L, i)) {
		case LUA_TNIL:
			rc = sqlite3_bind_null(b->stmt, p);
			break;
		case LUA_TBOOLEAN:
			rc = sqlite3_bind_int(b->stmt, p, lua_toboolean(L, i));
			break;
		case LUA_TNUMBER:
			if (lua_isinteger(L, i))
				rc = sqlite3_bind_int64(b->stmt, p,
				    (sqlite3_int64) lua_tointeger(L, i));
			else
				rc = sqlite3_bind_double(
				    b->stmt, p, (double) lua_tonumber(L, i));
			break;
		case LUA_TSTRING: {
			size_t      l;
			const char *s = lua_tolstring(L, i, &l);
			rc            = sqlite3_bind_text(
			               b->stmt, p, s, (int) l, SQLITE_TRANSIENT);
			break;
		}
		case LUA_TLIGHTUSERDATA:
			if (lua_touserdata(L, i) == XZ_LUA_NULL) {
				rc = sqlite3_bind_null(b->stmt, p);
				break;
			}
			/* fall through */
		default:
			return (stmt_box *) (intptr_t) luaL_error(L,
			    "%s: cannot bind a %s value (parameter %d)", fn,
			    luaL_typename(L, i), p);
		}
		if (rc != SQLITE_OK)
			luaL_error(L, "%s: parameter %d: %s", fn, p,
			    sqlite3_errmsg(db));
	}
	return b;
}

static int
l_db_exec(lua_State *L)
{
	xz_lua_vm *vm = vm_checked(L);
	sqlite3   *db = db_get(L, vm, "xz.db.exec");
	stmt_box  *b;
	int        rc;

	if (lua_gettop(L) == 1) { /* no parameters: may hold several */
		char *err = NULL;
		if (sqlite3_exec(db, luaL_checkstring(L, 1), NULL, NULL, &err)
		    != SQLITE_OK) {
			lua_pushfstring(L, "xz.db.exec: %s",
			    err ? err : sqlite3_errmsg(db));
			sqlite3_free(err);
			return lua_error(L);
		}
		lua_pushinteger(L, sqlite3_changes(db));
		return 1;
	}
	b = db_prepare(L, db, "xz.db.exec");
	while ((rc = sqlite3_step(b->stmt)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		lua_pushfstring(L, "xz.db.exec: %s", sqlite3_errmsg(db));
		sqlite3_finalize(b->stmt);
		b->stmt = NULL;
		return lua_error(L);
	}
	sqlite3_finalize(b->stmt);
	b->stmt = NULL;
	lua_pushinteger(L, sqlite3_changes(db));
	return 1;
}

static int
l_db_query(lua_State *L)
{
	xz_lua_vm  *vm  = vm_checked(L);
	sqlite3    *db  = db_get(L, vm, "xz.db.query");
	stmt_box   *b   = db_prepare(L, db, "xz.db.query");
	lua_Integer row = 0;
	int         rc, ncol;

	lua_newtable(L);
	lua_rawgeti(L, LUA_REGISTRYINDEX, vm->ref_array_mt);
	lua_setmetatable(L, -2);
	ncol = sqlite3_column_count(b->stmt);
	while ((rc = sqlite3_step(b->stmt)) == SQLITE_ROW) {
		lua_createtable(L, 0, ncol);
		for (int i = 0; i < ncol; i++) {
			switch (sqlite3_column_type(b->stmt, i)) {
			case SQLITE_INTEGER:
				lua_pushinteger(L,
				    (lua_Integer) sqlite3_column_int64(
				        b->stmt, i));
				break;
			case SQLITE_FLOAT:
				lua_pushnumber(
				    L, sqlite3_column_double(b->stmt, i));
				break;
			case SQLITE_NULL:
				lua_pushlightuserdata(L, XZ_LUA_NULL);
				break;
			default:
				lua_pushlstring(L,
				    (const char *) sqlite3_column_blob(
				        b->stmt, i),
				    (size_t) sqlite3_column_bytes(b->stmt, i));
			}
			lua_setfield(L, -2, sqlite3_column_name(b->stmt, i));
		}
		lua_rawseti(L, -2, ++row);
	}
	if (rc != SQLITE_DONE) {
		lua_pushfstring(L, "xz.db.query: %s", sqlite3_errmsg(db));
		sqlite3_finalize(b->stmt);
		b->stmt = NULL;
		return lua_error(L);
	}
	sqlite3_finalize(b->stmt);
	b->stmt = NULL;
	return 1;
}

/* Push the xz module table for vm. */
static void
xz_open(lua_State *L, xz_lua_vm *vm)
{
	static const luaL_Reg fns[]
	    = { { "publish", l_publish }, { "subscribe", l_subscribe },
		      { "subscribe_durable", l_subscribe_durable },
		      { "unsubscribe", l_unsubscribe },
		      { "request", l_request }, { "call", l_request },
		      { "reply", l_reply }, { "reply_error", l_reply_error },
		      { "log", l_log }, { "now", l_now }, { NULL, NULL } };
	static const luaL_Reg timer[]
	    = { { "after", l_timer_after }, { "every", l_timer_every },
		      { "cancel", l_timer_cancel }, { NULL, NULL } };
	static const luaL_Reg db[] = { { "exec", l_db_exec },
		{ "query", l_db_query }, { NULL, NULL } };

	luaL_newlib(L, fns);
	luaL_newlib(L, timer);
	lua_setfield(L, -2, "timer");
	luaL_newlib(L, db);
	lua_setfield(L, -2, "db");
	xz_lua_json_open(L, vm);
	lua_pushlightuserdata(L, XZ_LUA_NULL);
	lua_setfield(L, -2, "null");
	lua_pushstring(L, vm->name ? vm->name : "");
	lua_setfield(L, -2, "name");
	/* The node's language for human-facing text (<xiezhi/i18n.h>: the
	 * first non-empty of LC_ALL, LC_MESSAGES, LANG; "zh*" is Chinese):
	 * the sandbox has no os.getenv. */
	lua_pushstring(L, xz_lang() == XZ_LANG_ZH ? "zh" : "en");
	lua_setfield(L, -2, "lang");
}

/* ---- the vm of a plugin, script or console ---- */

/* The open hook: the xz module and an empty xz.config, installed as the
 * last step of the sandbox. */
static void
vm_open(lua_State *L, xz_lua_vm *vm)
{
	xz_open(L, vm);
	lua_setglobal(L, "xz");
	lua_newtable(L); /* no options until the owner sets them */
	xz_lua_set_config(vm);
}

static const xz_lua_vm_hooks vm_hooks = {
	.open   = vm_open,
	.failed = xz_lua_script_failed,
	.ok     = xz_lua_script_ok,
};

xz_lua_vm *
xz_lua_vm_new(const xz_lua_limits *lim, const xz_host *host, xz_plugin *self,
    const char *name, const char *script_path)
{
	return xz_lua_vm_create(&vm_hooks, lim, host, self, name, script_path);
}
