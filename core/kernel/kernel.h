/*
 * kernel.h - the microkernel: plugin instances as actors, worker pool,
 * timers, the bus and the node's lifecycle. Internal to core/: plugins see
 * only the host table (sdk/include/xiezhi/xiezhi.h).
 *
 * Lifecycle of a node:
 *   xz_kernel_new      config in, nothing started
 *   xz_kernel_load     open every enabled plugin (dlopen / Lua compile),
 *                      check ABI, options, requires; `xiezhi check` stops here
 *   xz_kernel_start    workers, timers, init + start in requires order,
 *                      then bind the control endpoint and bus listeners
 *   xz_kernel_run      serve until xz_kernel_stop (SIGTERM/SIGINT)
 *   xz_kernel_free     stop intake, drain every mailbox, stop plugins in
 *                      reverse order, fini, close stores
 */
#ifndef XZ_KERNEL_H
#define XZ_KERNEL_H

#include <xiezhi/i18n.h>
#include <stdint.h>

#include "config/config.h"
#include "util/diag.h"
#include "util/log.h"
#include "wire/principal.h"
#include <xiezhi/xiezhi.h>

typedef struct xz_kernel xz_kernel;

/*
 * A descriptor the core builds itself (Lua plugins) extends xz_plugin_desc
 * with hooks. desc must be the first member and desc.struct_size stays
 * sizeof(xz_plugin_desc); the loader knows which instances carry one (it
 * got them from xz_lua_describe), so ext_magic is only a sanity marker.
 */
#define XZ_PLUGIN_EXT_MAGIC 0x787a6578u /* "xzex" */
typedef struct xz_plugin_ext {
	xz_plugin_desc desc;
	uint32_t       ext_magic;
	/* Optional: hot reload, called in the plugin's actor context. Return
	 * XZ_OK, or an error with the reasons in d (the old version must then
	 * keep running). */
	int (*reload)(void *state, xz_diag *d);
	/* Optional: free this descriptor after fini (or after a failed
	 * load). */
	void (*release)(struct xz_plugin_ext *ext);
	void *ctx; /* the builder's own data */
} xz_plugin_ext;

/*
 * What a layer above the kernel plugs in (the Lua host: core/lua), so the
 * kernel never calls up into it. Without one, Lua plugins and scripts in
 * a config are refused with a clear error.
 */
typedef struct xz_kernel_ext {
	/* Build a descriptor for a Lua plugin or script entry. */
	int (*describe)(const xz_plugin_cfg *pc, const xz_config *cfg,
	    xz_diag *d, xz_plugin_ext **out);
	/* A built-in actor added at start as `console`, or NULL. */
	const xz_plugin_desc *(*console)(void);
} xz_kernel_ext;

/*
 * Lifecycle notifications for a service manager. The CLI passes systemd's
 * sd_notify here, so no layer of core/ links libsystemd. fn gets one
 * string of newline-separated assignments:
 *   "READY=1\nSTATUS=..."    once the node serves (end of xz_kernel_start)
 *   "STOPPING=1\nSTATUS=..." when the drain starts
 *   "WATCHDOG=1"             every watchdog_us (0: never), from a timer of
 *                            the built-in `sys` actor: it is sent only while
 *                            the timer thread runs and a worker is free to
 *                            run the kernel's own actor, so a wedged node
 *                            goes silent and the manager restarts it.
 * fn runs on the main thread and on worker threads: it must be
 * thread-safe and must not call into the kernel.
 */
typedef struct xz_kernel_notify {
	void (*fn)(void *ud, const char *state);
	void    *ud;
	uint64_t watchdog_us;
} xz_kernel_notify;

/* Create a kernel for cfg (borrowed: it must outlive the kernel). */
int xz_kernel_new(xz_kernel **out, xz_config *cfg, xz_diag *d);
/* Plug in ext (borrowed; static) before xz_kernel_load. */
void xz_kernel_set_ext(xz_kernel *k, const xz_kernel_ext *ext);
/* Before xz_kernel_load: a plugin whose store the data folder's
 * MANIFEST lists but is missing is not started (logged, FAILED in
 * status, with the plugins that require it) instead of refusing the
 * node, so `xiezhi audit reset` can accept the loss on record. `xiezhi
 * run` sets it; `check` does not (it reports the store). */
void xz_kernel_hold_lost(xz_kernel *k);
/* Set the notification hook (copied) before xz_kernel_start. */
void xz_kernel_set_notify(xz_kernel *k, const xz_kernel_notify *n);
/*
 * How the node gives freed memory back to the system, every 5 s from the
 * `sys` actor (so it returns to its idle size after a burst): fn is the
 * allocator's own call when the binary brings one (the CLI passes
 * jemalloc's purge); NULL (the default) calls glibc's malloc_trim. fn
 * runs on a worker thread and must not call into the kernel.
 */
void xz_kernel_set_trim(xz_kernel *k, void (*fn)(void));
/*
 * Let fn turn the session tokens of link connections into principals
 * (a HELLO {"name":..,"token":".."}: a token, when present, wins over the
 * peer credentials or certificate of the connection). fn may be set or
 * replaced at any time, also from a plugin's init; NULL: tokens are
 * refused. ud is the verifier's own. See wire/principal.h.
 */
void xz_kernel_set_token_verifier(
    xz_kernel *k, xz_token_verify_fn fn, void *ud);
/* The node's own principal ("node:<name>"), borrowed. */
xz_principal *xz_kernel_principal(xz_kernel *k);
/* Load and validate every enabled plugin of the config. Returns the number
 * of errors appended to d; the config's warnings follow them in d as
 * "FILE:LINE: WARN ..." lines, not counted. */
int xz_kernel_load(xz_kernel *k, xz_diag *d);
/* `check`: try the links this node dials (docs/multi-node.md); WARN
 * lines in d for those that cannot connect or are refused. */
void xz_kernel_probe_links(xz_kernel *k, xz_diag *d);
/* Add an instance from a descriptor (built-in actors, bench plugins),
 * before xz_kernel_start. The kernel never frees desc unless it is an
 * xz_plugin_ext with release. */
int xz_kernel_add(
    xz_kernel *k, const char *name, const xz_plugin_desc *desc, xz_diag *d);
/* Start workers and timers, init and start every plugin in requires
 * order, bind endpoints. Errors go to d; on error everything started is
 * stopped again. */
int xz_kernel_start(xz_kernel *k, xz_diag *d);
/* Block until xz_kernel_stop is called (or a signal handler calls it). */
void xz_kernel_run(xz_kernel *k);
/* Ask the node to stop; async-signal-safe. */
void xz_kernel_stop(xz_kernel *k);
/* Hot-reload every Lua plugin and script (SIGHUP); async-signal-safe. */
void xz_kernel_reload_all(xz_kernel *k);
/* Graceful shutdown (if started) and free. */
void xz_kernel_free(xz_kernel *k);

/* The host table every plugin gets. */
const xz_host   *xz_kernel_host(void);
const xz_config *xz_kernel_config(const xz_kernel *k);

/* Introspection used by the Lua host and built-in actors. */
xz_kernel            *xz_plugin_kernel(xz_plugin *p);
const xz_plugin_desc *xz_plugin_desc_of(xz_plugin *p);
const xz_plugin_cfg  *xz_plugin_cfg_of(xz_plugin *p); /* NULL: built-in */
xz_plugin            *xz_kernel_find(xz_kernel *k, const char *name);
/* Exchange p's resolved options with *vals (a Lua reload applies its new
 * schema): p takes *vals, the caller gets the old ones back to free.
 * Only in p's actor context, where the plugin reads its options. */
void xz_plugin_swap_options(xz_plugin *p, xz_optvals *vals);

/* Run fn(arg) in p's actor context, after what is already queued. Never
 * blocks and never drops (it does not count against the mailbox bound).
 * XZ_OK, or XZ_ECLOSED/XZ_ENOMEM and fn is not called. */
int xz_plugin_post(xz_plugin *p, void (*fn)(void *arg), void *arg);

/* Publish with an explicit source name and flags (kernel and links). */
int xz_kernel_publish(xz_kernel *k, const char *source, const char *topic,
    const void *data, size_t len);

/* The kernel's operator log lines and check texts in 简体中文
 * (kernel_msg.c; util/msg.h). */
extern const xz_tr xz_kernel_zh[];

#endif
