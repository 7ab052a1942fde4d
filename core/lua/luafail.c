/*
 * luafail.c - what happens when a script's call fails: a log line with
 * file:line and traceback, per-script counters, and quarantine after
 * max_failures limit hits in a row (subscriptions and timers removed,
 * xz.script.failed published).
 *
 * Uses luavm.c only. luavm.c calls back here through the failed and ok
 * hooks that xz_lua_vm_new (luaxz.c) installs, never by symbol.
 */
#include "lua/luapriv.h"
#include "util/msg.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- failures and quarantine ---- */

void
xz_lua_script_ok(xz_lua_vm *vm)
{
	if (vm->sc != NULL)
		vm->sc->failures = 0;
}

const char *
xz_lua_kind_word(int kind)
{
	return kind == XZ_PLUGIN_SCRIPT ? "script" : "Lua plugin";
}

static void
quarantine(xz_lua_script *sc, xz_lua_vm *vm, const char *msg)
{
	char    reason[512];
	json_t *j;
	char   *s;

	snprintf(reason, sizeof(reason),
	    xz_text("hit its limits %u times in a row; last: %.*s"),
	    sc->failures, (int) strcspn(msg, "\n"), msg);
	xz_lua_vm_detach(vm);
	sc->quarantined = 1;
	sc->host->log(sc->self, XZ_LOG_ERROR,
	    "%s '%s' quarantined (subscriptions and timers removed): %s",
	    xz_text(xz_lua_kind_word(sc->ctx->kind)), sc->ctx->name, reason);
	sc->host->counter_add(sc->self, "lua_quarantined", 1);
	j = json_pack("{s:s,s:s}", "name", sc->ctx->name, "reason", reason);
	if (j != NULL && (s = json_dumps(j, JSON_COMPACT)) != NULL) {
		sc->host->publish(sc->self, "xz.script.failed", s, strlen(s));
		free(s);
	}
	json_decref(j);
}

void
xz_lua_script_failed(
    xz_lua_vm *vm, const char *what, const char *msg, int limit_kind)
{
	xz_lua_script *sc = vm->sc;

	if (msg == NULL)
		msg = "error";
	xz_lua_log(vm, XZ_LOG_ERROR, "error in %s: %s", what, msg);
	if (vm->host == NULL)
		return;
	vm->host->counter_add(vm->self, "lua_errors", 1);
	if (limit_kind == XZ_LUA_LIMIT_NONE)
		return;
	vm->host->counter_add(vm->self, "lua_limit_hits", 1);
	if (sc == NULL || sc->vm != vm || sc->quarantined)
		return;
	if (++sc->failures >= vm->lim.max_failures)
		quarantine(sc, vm, msg);
}
