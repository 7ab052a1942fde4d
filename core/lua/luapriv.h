/*
 * luapriv.h - internals of the Lua host, shared by the files of core/lua/.
 *
 * One xz_lua_vm is one sandboxed lua_State with its allocator, its limits
 * and what it registered with the kernel (subscriptions, timers). The vm
 * struct outlives its lua_State: a retired vm (reload, quarantine, fini)
 * has L == NULL and stays allocated while replies to its requests may
 * still arrive (refs counts them), so a late reply finds "dead" instead of
 * freed memory.
 *
 * The files form a stack: each uses symbols of the files below it only,
 * never of one above (issue 8: no object file may reach, through any
 * chain, a file that uses one of its own symbols). A lower file calls up
 * through the hooks the upper one hands it (xz_lua_vm_hooks).
 *
 *   luaconsole.c the console actor                        uses all below
 *   luahost.c    Lua plugins and operator scripts          uses all below
 *   luaxz.c      the `xz` module; xz_lua_vm_new wires the vm's hooks
 *                                                  uses luafail and below
 *   luafail.c    failed calls: log, counters, quarantine  uses luavm
 *   luavm.c      allocator, sandbox, limits, coroutine calls, require
 *                                                  uses luajson, luabuf
 *   luajson.c    JSON <-> Lua values, xz.null             uses luabuf
 *   luabuf.c     the growable byte buffer                 uses libc only
 */
#ifndef XZ_LUAPRIV_H
#define XZ_LUAPRIV_H

#include <lauxlib.h>
#include <lua.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include <xiezhi/xiezhi.h>

/* Defaults when the config's `lua` group leaves a limit at 0. */
#define XZ_LUA_DEFAULT_MEMORY_KB 16384u
#define XZ_LUA_DEFAULT_INSTRUCTIONS 10000000u
#define XZ_LUA_DEFAULT_TIME_MS 500u
#define XZ_LUA_DEFAULT_MAX_FAILURES 5u

/* Subscriptions and timers one state may hold: their C side is not
 * counted by the state's allocator, so a loop must not create millions. */
#define XZ_LUA_MAX_SUBS 4096u
#define XZ_LUA_MAX_TIMERS 4096u

/* The JSON scratch buffer is released after a call that grew it past
 * this (a state is not charged for it). */
#define XZ_LUA_ENC_KEEP (256u * 1024u)

/* Instructions between two runs of the count hook. */
#define XZ_LUA_HOOK_STEP 1000

enum xz_lua_limit {
	XZ_LUA_LIMIT_NONE = 0,
	XZ_LUA_LIMIT_INSTR,
	XZ_LUA_LIMIT_TIME,
	XZ_LUA_LIMIT_MEMORY,
	XZ_LUA_LIMIT_CLOSING, /* finalizers at lua_close get no budget */
};

typedef struct xz_lua_vm      xz_lua_vm;
typedef struct xz_lua_call    xz_lua_call;
typedef struct xz_lua_script  xz_lua_script;
typedef struct xz_lua_pending xz_lua_pending;

/*
 * What the layer above luavm.c gives a vm at creation, so that luavm.c
 * reaches the xz module and the failure policy without using their
 * symbols. Every hook is required.
 */
typedef struct xz_lua_vm_hooks {
	/* Install the globals above the sandbox (the xz module, an empty
	 * xz.config). Runs once, in protected mode, while the vm is
	 * created; L is vm->L. */
	void (*open)(lua_State *L, xz_lua_vm *vm);
	/* A call of vm failed (msg may be NULL; limit_kind is an enum
	 * xz_lua_limit) / completed normally. */
	void (*failed)(
	    xz_lua_vm *vm, const char *what, const char *msg, int limit_kind);
	void (*ok)(xz_lua_vm *vm);
} xz_lua_vm_hooks;

/* ---- luabuf.c ---- */

/* Growable byte buffer (malloc), owned by whoever holds it; a zeroed
 * struct is an empty buffer. p stays NUL-terminated after an add. */
typedef struct xz_lua_buf {
	char  *p;
	size_t len;
	size_t cap;
} xz_lua_buf;

/* Make room for more bytes plus a NUL. Returns 0, or -1 (b unchanged). */
int xz_lua_buf_reserve(xz_lua_buf *b, size_t more);
/* Append n bytes. Returns 0, or -1 on out of memory (b unchanged). */
int xz_lua_buf_add(xz_lua_buf *b, const void *p, size_t n);
/* Free the bytes; b is an empty buffer again. */
void xz_lua_buf_free(xz_lua_buf *b);

/*
 * One handler invocation running in a coroutine of the vm. Owned by the
 * vm's call list; freed when the coroutine ends or the vm is retired.
 */
struct xz_lua_call {
	xz_lua_vm    *vm;
	lua_State    *co;
	int           co_ref; /* registry ref anchoring co */
	const xz_msg *req; /* request being handled, or NULL */
	int           retained; /* req was retained (must be released) */
	int           replied;
	int           waiting; /* yielded in xz.request */
	char          what[128]; /* "handler of TOPIC" for error lines */
	/* Completion: default replies with the handler's return value. */
	void (*done)(xz_lua_call *c, int ok, int nres);
	void *done_ud;
	/* A durable event (xz.subscribe_durable): acknowledged with this id
	 * when the handler returns without error. */
	bool         ack;
	uint8_t      ack_id[16];
	xz_lua_call *prev, *next;
};

typedef struct xz_lua_sub {
	xz_lua_vm *vm;
	int        fn_ref;
	uint64_t   id;
	bool       durable; /* xz.subscribe_durable */
} xz_lua_sub;

typedef struct xz_lua_timer {
	xz_lua_vm *vm;
	int        fn_ref;
	uint64_t   id;
	int        periodic;
	int        firing; /* a one-shot is freed after its run */
	int        cancelled;
} xz_lua_timer;

struct xz_lua_vm {
	lua_State *L;
	/* Given at creation; static storage, never freed. */
	const xz_lua_vm_hooks *hooks;

	/* Counting allocator. */
	size_t mem_used;
	size_t mem_limit; /* bytes; 0: unlimited */
	size_t mem_peak;
	int    mem_slack; /* error handling may exceed the cap a little */

	/* Limits of the current call. */
	xz_lua_limits lim;
	uint64_t      instr_used;
	uint64_t      deadline_ns; /* CLOCK_MONOTONIC */
	int           limit_hit; /* enum xz_lua_limit */
	int           limited; /* a call is running under limits */

	/* Binding to a node (NULL host: a scratch state for describe/tests).
	 */
	const xz_host *host;
	xz_plugin     *self;
	xz_lua_script *sc;
	const char    *name; /* for log lines; owned elsewhere */
	char          *dir; /* directory of the script, for require */

	int db_used; /* xz.db reached the store (console: roll back) */

	int refs; /* owner + pending requests; freed at 0 */
	int detached; /* quarantined: subscriptions and timers removed */
	/* Where this vm's outstanding requests are listed (the owner frees
	 * what is left at fini); NULL: xz.request is not available. */
	xz_lua_pending **pend_list;

	/* Registry refs. */
	int ref_array_mt; /* xz.json.array */
	int ref_protected; /* weak set of read-only tables */
	int ref_modules; /* require cache */
	int ref_plugin; /* the table the chunk returned, or LUA_NOREF */

	/* What the vm registered with the kernel. */
	xz_lua_sub   **subs;
	size_t         nsubs, capsubs;
	xz_lua_timer **timers;
	size_t         ntimers, captimers;
	xz_lua_call   *calls; /* running or suspended */

	/* Idle coroutines kept for reuse (anchored by registry refs). */
	lua_State *pool[16];
	int        pool_ref[16];
	int        npool;

	/* print(): to the log, or captured (console). */
	xz_lua_buf *capture;

	xz_lua_buf enc; /* scratch JSON encoding buffer */
};

/* The vm of a state: luavm.c gives every state the vm as its allocator's
 * ud. Inline so that the files below luavm.c can find their vm without
 * depending on it. */
static inline xz_lua_vm *
xz_lua_vm_of(lua_State *L)
{
	void *ud;

	lua_getallocf(L, &ud);
	return ud;
}

/* ---- luajson.c ---- */

/* The light userdata xz.null points at (JSON null, SQL NULL). */
extern const char xz_lua_null_tag;
#define XZ_LUA_NULL ((void *) &xz_lua_null_tag)

/* Encode the value at idx into b (appending). Returns 0, or -1 with a
 * message in err. Never raises a Lua error for bad input (a Lua memory
 * error may still propagate). */
int xz_lua_json_encode(xz_lua_vm *vm, lua_State *L, int idx, xz_lua_buf *b,
    char *err, size_t errlen);
/* Decode s[0..len) and push the value. Returns 0, or -1 with nothing
 * pushed and a message in err. */
int xz_lua_json_decode(xz_lua_vm *vm, lua_State *L, const char *s, size_t len,
    char *err, size_t errlen);
/* Register xz.json (table at the top of the stack gets field json). */
void xz_lua_json_open(lua_State *L, xz_lua_vm *vm);

/* ---- luavm.c ---- */

/* Create a sandboxed state with the base subset, string (no dump), table,
 * math and utf8, then run hooks->open. host may be NULL (scratch state).
 * Returns NULL on out of memory. The caller holds the vm's one ref:
 * xz_lua_vm_retire, then xz_lua_vm_unref. */
xz_lua_vm *xz_lua_vm_create(const xz_lua_vm_hooks *hooks,
    const xz_lua_limits *lim, const xz_host *host, xz_plugin *self,
    const char *name, const char *script_path);
/* Unsubscribe, cancel timers, release retained requests and close the
 * state. The struct stays until its last ref goes. Idempotent. */
void xz_lua_vm_retire(xz_lua_vm *vm);
void xz_lua_vm_unref(xz_lua_vm *vm);

/* Effective limits: the config's values with 0 replaced by defaults. */
void xz_lua_limits_effective(const xz_lua_limits *in, xz_lua_limits *out);

/* Start limits for one call (instructions, deadline) / end them. */
void xz_lua_limits_begin(xz_lua_vm *vm, lua_State *L);
void xz_lua_limits_end(xz_lua_vm *vm);
/* Text for a limit kind ("instruction limit exceeded"...). */
const char *xz_lua_limit_text(int kind);

/* Load a script file in text mode with the sandbox env. Pushes the chunk
 * or returns non-zero with the message on the stack. */
int xz_lua_loadfile(lua_State *L, const char *path, const char *chunkname);

/* Call the function below nargs args on L's stack under the limits, with
 * a traceback on error. Not yieldable (load, init, start, stop). Returns
 * LUA_OK with nres results, or an error status with the message (with
 * traceback) on the stack. */
int xz_lua_pcall(xz_lua_vm *vm, int nargs, int nres);

/* Run fn(L, ud) in protected mode on the vm's main state (every entry from
 * a kernel callback goes through here, so a memory error never escapes).
 * An error is logged and counted as `what`. Returns the Lua status. */
int xz_lua_vm_protect(xz_lua_vm *vm, const char *what,
    int (*fn)(lua_State *L, void *ud), void     *ud);

/* A new call: a coroutine (from the pool) linked into the vm's calls.
 * Push the function and its args on c->co, then xz_lua_call_resume. Raises
 * a Lua error on out of memory; use inside xz_lua_vm_protect. The call is
 * freed when it completes. */
xz_lua_call *xz_lua_call_new(xz_lua_vm *vm, const xz_msg *req,
    void (*done)(xz_lua_call *, int, int), void          *done_ud);
/* Resume c with nargs values pushed on c->co (the first run: the function
 * and its args). Handles completion, errors and limits. */
void xz_lua_call_resume(xz_lua_call *c, int nargs, const char *what);
/* what NULL keeps the call's previous description. */
/* Default completion: a request handler's non-nil return value is the
 * reply. */
void xz_lua_call_done_reply(xz_lua_call *c, int ok, int nres);
/* Remove the vm's subscriptions and timers (quarantine, retire). */
void xz_lua_vm_detach(xz_lua_vm *vm);
/* The call a running coroutine belongs to, or NULL. */
xz_lua_call *xz_lua_call_current(lua_State *L);

/* Mark the table at idx read-only for rawset. */
void xz_lua_protect(lua_State *L, int idx);

/* Log through the host (or stderr for a scratch state). */
void xz_lua_log(xz_lua_vm *vm, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- luafail.c, and the script records luahost.c fills ---- */

/* What xz_lua_describe learnt about a script (the descriptor's ctx). */
typedef struct lua_desc_ctx {
	char *name;
	char *path; /* resolved script path */
	char *chunk; /* "@<path as written>" for messages */
	int   kind; /* enum xz_plugin_kind */
	char *version;
	char *description;
	/* The versions and descriptions a reload replaced (owned): a
	 * status being built on another thread may still read the old
	 * text, so it lives as long as the description. */
	char          **retired;
	size_t          nretired;
	xz_option_decl *opts; /* nopts + 1 entries, last {NULL} */
	size_t          nopts;
	xz_lua_limits   lim;
} lua_desc_ctx;

/* One running Lua plugin or operator script (the plugin state). */
struct xz_lua_script {
	xz_plugin      *self;
	const xz_host  *host;
	lua_desc_ctx   *ctx; /* the descriptor's, valid until release */
	xz_lua_vm      *vm; /* current version, NULL once quarantined */
	xz_lua_pending *pending;
	uint32_t        failures; /* limit hits in a row */
	int             quarantined;
};

/* "script" or "Lua plugin". */
const char *xz_lua_kind_word(int kind);

/* A call of vm failed: log it with traceback, count it, and quarantine
 * the script after too many limit hits in a row. The vm's failed hook. */
void xz_lua_script_failed(
    xz_lua_vm *vm, const char *what, const char *msg, int limit_kind);
/* A call of vm completed normally. The vm's ok hook. */
void xz_lua_script_ok(xz_lua_vm *vm);

/* ---- luaxz.c ---- */

/* A vm (xz_lua_vm_create) with the xz module and the failure policy of
 * luafail.c as its hooks. Returns NULL on out of memory. The caller holds
 * the vm's one ref: xz_lua_vm_retire, then xz_lua_vm_unref. */
xz_lua_vm *xz_lua_vm_new(const xz_lua_limits *lim, const xz_host *host,
    xz_plugin *self, const char *name, const char *script_path);
/* Replace xz.config by a read-only view of the table at the top (popped).
 */
void xz_lua_set_config(xz_lua_vm *vm);
/* Push the handler arguments of msg (data, topic, source, caller);
 * returns 4. */
int xz_lua_push_msg(xz_lua_vm *vm, lua_State *L, const xz_msg *msg);
/* The table {user, name, agency, roles = {...}, auth} of msg's sender
 * (host->caller), or nil without a host. */
void xz_lua_push_caller(xz_lua_vm *vm, lua_State *L, const xz_msg *msg);
/* Subscribe fn (at the top of L's stack, popped) to pattern. */
int xz_lua_subscribe(xz_lua_vm *vm, lua_State *L, const char *pattern,
    const char *group, uint64_t *id);
/* The same, durable (xz.subscribe_durable): the handler gets msg as a
 * fifth argument and its return acknowledges the event. */
int xz_lua_subscribe_durable(
    xz_lua_vm *vm, lua_State *L, const char *pattern, uint64_t *id);
/* Free every outstanding request of a list at fini (no callback runs
 * after it); drops their vm refs. */
void xz_lua_pending_free_all(xz_lua_pending **head);
/* Before a reload retires vm: resume every handler of vm waiting in
 * xz.request with (nil, "unavailable", reason), so it sees why its reply
 * will not come; the reply, when it arrives, is dropped. */
void xz_lua_pending_abandon(xz_lua_vm *vm);

#endif
