/*
 * xiezhi.h - the plugin SDK of the xiezhi integration platform.
 *
 * This is the only header a plugin sees. A plugin never links against the
 * core: it exports one symbol, xz_plugin_entry(), returning a static
 * descriptor, and the kernel hands it a table of function pointers (the host
 * table) at init.
 *
 * ABI rules
 *   - XZ_ABI_MAJOR changes break plugins: the kernel refuses another major.
 *   - XZ_ABI_MINOR grows when members are appended to xz_host or xz_msg or
 *     xz_plugin_desc. Members are only ever appended; every struct that can
 *     grow starts with its size. A plugin built against an older minor keeps
 *     loading; a plugin built against a newer minor than the host is refused.
 *
 * Threading: a plugin is an actor. The kernel runs its callbacks (init,
 * start, stop, fini, message handlers, timer and reply callbacks) one at a
 * time, never two at once, though not always on the same thread. A plugin
 * must not block for long in a callback and must not start threads of its
 * own that call the host table (everything goes through the kernel).
 *
 * Ownership is written above each call. Strings and buffers passed *to* the
 * host are copied before the call returns unless said otherwise.
 */
#ifndef XIEZHI_XIEZHI_H
#define XIEZHI_XIEZHI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XZ_ABI_MAJOR 1
#define XZ_ABI_MINOR 1

#define XZ_VERSION_STRING "0.1.0"

/* Errors are values. XZ_OK is 0; host->strerror() names the others.
 * One list: X(symbol, value, wire code of an error reply, message). */
#define XZ_ERROR_LIST(X)                                                      \
	X(XZ_OK, 0, "ok", "ok")                                               \
	X(XZ_EINVAL, 1, "bad_request", "invalid argument")                    \
	X(XZ_ENOMEM, 2, "internal", "out of memory")                          \
	X(XZ_ENOENT, 3, "not_found", "not found")                             \
	X(XZ_EEXIST, 4, "exists", "already exists")                           \
	X(XZ_ETIMEDOUT, 5, "timeout", "timed out")                            \
	X(XZ_ENORESPONDERS, 6, "no_responders", "no responders")              \
	X(XZ_ECLOSED, 7, "unavailable", "closed")                             \
	X(XZ_EFULL, 8, "capacity_exceeded", "queue full")                     \
	X(XZ_ETOOBIG, 9, "too_large", "too big")                              \
	X(XZ_EPROTO, 10, "bad_request", "protocol error")                     \
	X(XZ_ESTATE, 11, "invalid_state", "invalid state")                    \
	X(XZ_EIO, 12, "store_error", "I/O error")                             \
	X(XZ_EPERM, 13, "forbidden", "not permitted")                         \
	X(XZ_ETYPE, 14, "bad_request", "wrong type")                          \
	X(XZ_ELIMIT, 15, "capacity_exceeded", "limit exceeded")               \
	X(XZ_EINTERNAL, 16, "internal", "internal error")

#define XZ_ERR_ENUM_(sym, val, wire, msg) sym = val,
enum xz_err { XZ_ERROR_LIST(XZ_ERR_ENUM_) XZ_ERR_COUNT };
#undef XZ_ERR_ENUM_

enum xz_log_level {
	XZ_LOG_ERROR = 0,
	XZ_LOG_WARN  = 1,
	XZ_LOG_INFO  = 2,
	XZ_LOG_DEBUG = 3,
};

/* Kinds of envelope on the bus. */
enum xz_kind {
	XZ_KIND_EVENT   = 1,
	XZ_KIND_REQUEST = 2,
	XZ_KIND_REPLY   = 3,
	XZ_KIND_ACK     = 4,
};

/* Message flags. */
#define XZ_MSG_ERROR 0x0001u /* a reply whose payload is {"error":{...}} */

/* Content types (one byte on the wire). */
enum xz_content_type {
	XZ_CT_JSON   = 0,
	XZ_CT_BINARY = 1,
	XZ_CT_TEXT   = 2,
};

/*
 * A message as a handler sees it. Read-only, and valid only during the
 * callback it was passed to, unless retained with host->msg_retain().
 * Pass the pointer you were given back to the host (reply, retain); never a
 * copy of the struct.
 */
typedef struct xz_msg {
	uint32_t    struct_size;
	uint8_t     kind; /* enum xz_kind */
	uint8_t     content_type; /* enum xz_content_type */
	uint16_t    flags; /* XZ_MSG_* */
	const char *topic; /* NUL-terminated */
	size_t      topic_len;
	const char *source; /* publishing plugin or link peer, NUL-term. */
	const void *data; /* payload; NUL-terminated for convenience */
	size_t      len; /* payload length, without the NUL */
	uint8_t     id[16]; /* unique message id */
	uint8_t     corr[16]; /* correlation id (a reply: the request's id) */
	uint64_t    timestamp_us; /* kernel clock, microseconds since epoch */
	uint64_t    deadline_us; /* requests: kernel-clock deadline, else 0 */
} xz_msg;

/* Opaque handle of one plugin instance, owned by the kernel. */
typedef struct xz_plugin xz_plugin;

/* The host table (defined below). */
typedef struct xz_host xz_host;

/* A message handler: runs in the plugin's actor context. */
typedef void (*xz_handler)(void *ud, const xz_msg *msg);

/*
 * A request's completion: runs exactly once, in the plugin's actor context.
 * status is XZ_OK with the reply (which may itself be an error reply from
 * the responder: XZ_MSG_ERROR set), or XZ_ETIMEDOUT; in every case reply is
 * non-NULL, and on error its payload is
 * {"error":{"code":"...","message":"..."}} with XZ_MSG_ERROR set.
 */
typedef void (*xz_reply_fn)(void *ud, int status, const xz_msg *reply);

/* A timer callback: runs in the plugin's actor context. */
typedef void (*xz_timer_fn)(void *ud, uint64_t timer_id);

/* Types of declared option. */
enum xz_opt_type {
	XZ_OPT_INT    = 1, /* libconfig int or int64 */
	XZ_OPT_FLOAT  = 2, /* libconfig float (an int is accepted) */
	XZ_OPT_BOOL   = 3,
	XZ_OPT_STRING = 4,
};

/*
 * A declared option. The kernel validates the plugin's `options` group in
 * the config against these before init: unknown keys, wrong types, values
 * out of [min, max] and missing required values are errors with FILE:LINE.
 * def is the default written as it would be in the config ("15", "true",
 * "text"), or NULL for none. An array of these ends with a {NULL} entry.
 */
typedef struct xz_option_decl {
	const char *name;
	int         type; /* enum xz_opt_type */
	const char *def;
	int         required;
	const char *description;
	int64_t     min; /* XZ_OPT_INT only; checked when min < max */
	int64_t     max;
} xz_option_decl;

/* The static descriptor a plugin returns from xz_plugin_entry(). */
typedef struct xz_plugin_desc {
	uint32_t              struct_size; /* sizeof(xz_plugin_desc) */
	uint16_t              abi_major; /* XZ_ABI_MAJOR */
	uint16_t              abi_minor; /* XZ_ABI_MINOR */
	const char           *name; /* [a-z][a-z0-9_-]* */
	const char           *version;
	const char           *description;
	const xz_option_decl *options; /* may be NULL; ends with {NULL} */
#ifndef __cplusplus
	const char *const *requires; /* plugin names; NULL-terminated */
#else
	const char *const *requires_; /* C++20 reserves `requires` */
#endif

	/* Mandatory. Called once; *state is the plugin's own pointer, passed
	 * to every later callback. Return XZ_OK, or an error after which no
	 * other callback of this plugin runs (not even fini): undo your own
	 * work before returning it. */
	int (*init)(xz_plugin *self, const xz_host *host, void **state);
	/* Optional. After every plugin's init, and after every plugin it
	 * requires has started. An error disables this plugin only (FAILED
	 * in status; its subscriptions and timers are removed, fini runs,
	 * plugins requiring it are not started); the node keeps running. */
	int (*start)(void *state);
	/* Optional. Stop producing; the kernel has drained the bus first. */
	void (*stop)(void *state);
	/* Mandatory. Free everything; no callback runs after it. */
	void (*fini)(void *state);

	/* ABI 1.1. Optional. Runs in the actor context after each batch of
	 * messages and jobs the kernel handed the plugin in one turn (up to a
	 * few hundred, more under load). A plugin may keep one store
	 * transaction open across the batch and commit it here, then send the
	 * replies and events it held back: group commit, so a busy plugin
	 * pays one commit per batch instead of one per request. */
	void (*batch_end)(void *state);
} xz_plugin_desc;

/*
 * The host table. The kernel owns it; it stays valid until fini returns.
 * Check host->struct_size before using a member appended after 1.0.
 */
struct xz_host {
	uint32_t struct_size;
	uint16_t abi_major;
	uint16_t abi_minor;

	const char *(*strerror)(int err);

	/* Logging: one line per record (time, level, plugin, message). */
	void (*log)(xz_plugin *self, int level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

	/* Publish an event. Topic and data are copied. On a business topic a
	 * full subscriber mailbox makes this wait up to the node's publish
	 * deadline, then return XZ_ETIMEDOUT (nothing is delivered to that
	 * subscriber); on a best-effort topic the message is dropped for that
	 * subscriber and counted. Returns XZ_OK even with no subscriber. */
	int (*publish)(
	    xz_plugin *self, const char *topic, const void *data, size_t len);

	/* Subscribe to a pattern ('*' one token, '>' the rest). With a
	 * non-NULL queue group, each message goes to one member of the
	 * group. handler(ud, msg) runs in this plugin's actor context. The
	 * subscription id goes to *sub_id if non-NULL. */
	int (*subscribe)(xz_plugin *self, const char *pattern,
	    const char *queue_group, xz_handler handler, void *ud,
	    uint64_t *sub_id);
	int (*unsubscribe)(xz_plugin *self, uint64_t sub_id);

	/* Send a request. timeout_ms 0 means the node's default. XZ_OK means
	 * fn will run exactly once later; any error means it never runs:
	 * XZ_ENORESPONDERS at once when no subscription matches the topic,
	 * XZ_EINVAL for a bad topic, XZ_ETOOBIG, XZ_ETIMEDOUT when every
	 * matching mailbox stayed full past the publish deadline. */
	int (*request)(xz_plugin *self, const char *topic, const void *data,
	    size_t len, uint32_t timeout_ms, xz_reply_fn fn, void *ud);

	/* Reply to a request (msg->kind == XZ_KIND_REQUEST). Data is copied.
	 * The first reply wins; later ones are discarded. */
	int (*reply)(xz_plugin *self, const xz_msg *request, const void *data,
	    size_t len);
	/* Reply with {"error":{"code":code,"message":message}}. */
	int (*reply_error)(xz_plugin *self, const xz_msg *request,
	    const char *code, const char *message);

	/* Keep a message past its callback (for a deferred reply). Returns
	 * the same pointer; each retain needs one release. */
	const xz_msg *(*msg_retain)(xz_plugin *self, const xz_msg *msg);
	void (*msg_release)(xz_plugin *self, const xz_msg *msg);

	/* Timers on the kernel clock. period_ms 0: one shot. The id goes to
	 * *timer_id if non-NULL. A cancelled timer never fires afterwards. */
	int (*timer_start)(xz_plugin *self, uint64_t delay_ms,
	    uint64_t period_ms, xz_timer_fn fn, void *ud, uint64_t *timer_id);
	int (*timer_cancel)(xz_plugin *self, uint64_t timer_id);

	/* The kernel clock: wall time in milliseconds since the epoch, which
	 * tests may advance (xiezhi call xz.sys.clock.advance). Use it, not
	 * time(), for anything a timer is compared with. */
	uint64_t (*now_ms)(xz_plugin *self);

	/* Option values, validated and defaulted by the kernel. XZ_ENOENT for
	 * an undeclared name or an unset option without default, XZ_ETYPE for
	 * the wrong getter. opt_string's result is owned by the kernel and
	 * valid until fini. */
	int (*opt_int)(xz_plugin *self, const char *name, int64_t *out);
	int (*opt_float)(xz_plugin *self, const char *name, double *out);
	int (*opt_bool)(xz_plugin *self, const char *name, int *out);
	const char *(*opt_string)(xz_plugin *self, const char *name);

	/* The plugin's own SQLite database (WAL mode) under the node's data
	 * directory, opened on first call. Owned by the kernel: do not close
	 * it. NULL (and a logged error) if it cannot be opened. Use it only
	 * from this plugin's callbacks. */
	struct sqlite3 *(*store)(xz_plugin *self);

	/* A named counter of this plugin, shown by `xiezhi status`. */
	void (*counter_add)(xz_plugin *self, const char *name, int64_t delta);

	/* The instance name (from the config). Owned by the kernel. */
	const char *(*name)(xz_plugin *self);
};

/* Mark the entry symbol (plugins build with -fvisibility=hidden). */
#define XZ_EXPORT __attribute__((visibility("default")))

/* Fill the ABI header of a descriptor. */
#define XZ_PLUGIN_DESC_HEADER                                                 \
	.struct_size = sizeof(xz_plugin_desc), .abi_major = XZ_ABI_MAJOR,     \
	.abi_minor = XZ_ABI_MINOR

/* Every plugin defines this and returns a pointer to a static descriptor. */
XZ_EXPORT const xz_plugin_desc *xz_plugin_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* XIEZHI_XIEZHI_H */
