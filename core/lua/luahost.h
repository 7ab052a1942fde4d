/*
 * luahost.h - Lua 5.4 plugins, operator scripts and the console.
 *
 * The kernel treats a Lua plugin like any other plugin: xz_lua_describe()
 * compiles the script in a scratch sandboxed state, reads its name,
 * version and options schema, and returns an xz_plugin_ext whose
 * init/start/stop/fini drive the real state, and whose reload hook does the
 * hot reload. Everything a script does goes through the same host table as
 * a C plugin.
 */
#ifndef XZ_LUAHOST_H
#define XZ_LUAHOST_H

#include "config/config.h"
#include "util/diag.h"
#include "kernel/kernel.h"

/* Build the descriptor of a Lua plugin (kind lua) or operator script (kind
 * script). Errors (FILE:LINE) go to d; returns XZ_OK or an error. The
 * descriptor is freed through its release hook. */
int xz_lua_describe(const xz_plugin_cfg *pc, const xz_config *cfg, xz_diag *d,
    xz_plugin_ext **out);

/* The console actor (built in, name "console"): answers
 * xz.sys.console.eval requests {"chunk": "..."} with the printed results. */
const xz_plugin_desc *xz_lua_console_desc(void);

/* The Lua host as the kernel's extension (xz_kernel_set_ext): Lua
 * plugins, operator scripts and the `console` actor. */
const xz_kernel_ext *xz_lua_kernel_ext(void);

#endif
