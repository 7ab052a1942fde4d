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
 *     Each appended member says "Since 1.x"; test for it with
 *     XZ_HAS_MEMBER(). 1.1: xz_plugin_desc.batch_end. 1.2: xz_host.version.
 *     1.3: xz_host.caller (the authenticated sender of a message), the
 *     error XZ_EAUTH and the reply code "unauthenticated"; sessions
 *     (session_open, session_close, request_as, subscribe_as).
 *     1.4: xz_plugin_desc.check_options (options checked by `xiezhi
 *     check`); durable subscriptions (xz_host.subscribe_durable,
 *     xz_host.ack), the message flags XZ_MSG_REDELIVERED and
 *     XZ_MSG_DURABLE, the error XZ_EDURABLEFULL and the reply code
 *     "durable_full".
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
#define XZ_ABI_MINOR 4

/* The SDK's version. The node that loads a plugin may be newer: ask it with
 * host->version() (since 1.2). sdk/CMakeLists.txt checks that the string
 * and the three numbers agree with the project version. */
#define XZ_VERSION_MAJOR 0
#define XZ_VERSION_MINOR 1
#define XZ_VERSION_PATCH 0
#define XZ_VERSION_STRING "0.1.0"

/*
 * Compiler attributes. GCC and Clang get them; any other compiler gets
 * nothing, and the header still compiles (as C11 or C++).
 */
#ifdef __GNUC__
#define XZ_PRINTF_LIKE(fmt, first) __attribute__((format(printf, fmt, first)))
#define XZ_EXPORT __attribute__((visibility("default")))
#else
#define XZ_PRINTF_LIKE(fmt, first)
#define XZ_EXPORT
#endif

/*
 * Does *ptr, a struct of type `type` that starts with its struct_size, hold
 * `member`? Use it before touching a member appended after 1.0 (each is
 * marked "Since 1.x"), e.g. on a host older than your headers:
 *
 *   if (XZ_HAS_MEMBER(host, xz_host, version))
 *           host->log(self, XZ_LOG_INFO, "node %s", host->version());
 */
#define XZ_HAS_MEMBER(ptr, type, member)                                      \
	((size_t) (ptr)->struct_size                                          \
	    >= offsetof(type, member) + sizeof(((type *) 0)->member))

/*
 * The error list: the single source of enum xz_err, of host->strerror()'s
 * messages and of the wire names the kernel writes in
 * {"error":{"code":WIRE,...}} when a host call fails for a remote caller.
 *
 *   X(symbol, value, "wire_name", "message")
 *
 * Values are ABI: never change or reuse one; a new code takes the next
 * value and goes last. Every wire name is a reply code
 * (XZ_REPLY_CODE_LIST below), so a caller across a link sees one
 * vocabulary whichever side failed; several errors may share one.
 */
#define XZ_ERROR_LIST(X)                                                      \
	X(XZ_OK, 0, "ok", "ok")                                               \
	/* invalid argument (bad topic, bad option name) */                   \
	X(XZ_EINVAL, 1, "bad_request", "invalid argument")                    \
	X(XZ_ENOMEM, 2, "internal", "out of memory")                          \
	/* no such thing (option, subscription, timer) */                     \
	X(XZ_ENOENT, 3, "not_found", "not found")                             \
	X(XZ_EEXIST, 4, "exists", "already exists")                           \
	/* deadline passed (request, backpressure wait) */                    \
	X(XZ_ETIMEDOUT, 5, "timeout", "timed out")                            \
	/* a request matched no subscriber */                                 \
	X(XZ_ENORESPONDERS, 6, "no_responders", "no responders")              \
	/* the node or the link is shutting down */                           \
	X(XZ_ECLOSED, 7, "unavailable", "closed")                             \
	/* a bounded queue is full */                                         \
	X(XZ_EFULL, 8, "capacity_exceeded", "queue full")                     \
	/* payload or topic over the configured limit */                      \
	X(XZ_ETOOBIG, 9, "too_large", "too big")                              \
	/* malformed envelope or protocol violation */                        \
	X(XZ_EPROTO, 10, "bad_request", "protocol error")                     \
	/* not allowed in the current state */                                \
	X(XZ_ESTATE, 11, "invalid_state", "invalid state")                    \
	/* I/O or store error */                                              \
	X(XZ_EIO, 12, "store_error", "I/O error")                             \
	X(XZ_EPERM, 13, "forbidden", "not permitted")                         \
	/* wrong type (option read with the wrong getter) */                  \
	X(XZ_ETYPE, 14, "bad_request", "wrong type")                          \
	/* a resource limit was hit */                                        \
	X(XZ_ELIMIT, 15, "capacity_exceeded", "limit exceeded")               \
	/* a bug: please report */                                            \
	X(XZ_EINTERNAL, 16, "internal", "internal error")                     \
	/* the sender could not be authenticated (since 1.3) */               \
	X(XZ_EAUTH, 17, "unauthenticated", "not authenticated")               \
	/* the node's durable log is full (bus.durable_max_bytes): the        \
	 * event on a durable topic was not taken (since 1.4) */              \
	X(XZ_EDURABLEFULL, 18, "durable_full", "durable log full")

/* Errors are values. XZ_OK is 0; host->strerror() names the others. */
#define XZ_ERR_ENUM_(sym, val, wire, msg) sym = val,
enum xz_err { XZ_ERROR_LIST(XZ_ERR_ENUM_) XZ_ERR_COUNT };
#undef XZ_ERR_ENUM_

/*
 * Reply codes: the closed set of "code" values in an error reply
 * {"error":{"code":CODE,"message":TEXT}} (host->reply_error). Use the
 * constants, never a free string; put the details a person needs (which
 * field, which state, which limit) in the message.
 *
 *   X(SYMBOL, "wire_string", "meaning", http_status)
 *
 * http_status is how an HTTP gateway answers a caller that got the code.
 * Codes are only ever added; none is renamed or removed.
 */
#define XZ_REPLY_BAD_REQUEST "bad_request"
#define XZ_REPLY_NOT_FOUND "not_found"
#define XZ_REPLY_INVALID_STATE "invalid_state"
#define XZ_REPLY_FORBIDDEN "forbidden"
#define XZ_REPLY_EXISTS "exists"
#define XZ_REPLY_CAPACITY_EXCEEDED "capacity_exceeded"
#define XZ_REPLY_STORE_ERROR "store_error"
#define XZ_REPLY_TIMEOUT "timeout"
#define XZ_REPLY_NO_RESPONDERS "no_responders"
#define XZ_REPLY_UNAVAILABLE "unavailable"
#define XZ_REPLY_TOO_LARGE "too_large"
#define XZ_REPLY_INTERNAL "internal"
#define XZ_REPLY_UNAUTHENTICATED "unauthenticated"
#define XZ_REPLY_AUDIT_UNAVAILABLE "audit_unavailable"
#define XZ_REPLY_DURABLE_FULL "durable_full"

#define XZ_REPLY_CODE_LIST(X)                                                 \
	X(XZ_REPLY_BAD_REQUEST, "bad_request",                                \
	    "the payload is malformed or a field is missing, of the wrong "   \
	    "type or out of range (the message names it): fix the request, "  \
	    "do not retry it as is",                                          \
	    400)                                                              \
	X(XZ_REPLY_NOT_FOUND, "not_found",                                    \
	    "the record the request names does not exist: check the id", 404) \
	X(XZ_REPLY_INVALID_STATE, "invalid_state",                            \
	    "the record exists but its state does not allow this action "     \
	    "(the message names the state and the allowed actions): read "    \
	    "it again before deciding",                                       \
	    409)                                                              \
	X(XZ_REPLY_FORBIDDEN, "forbidden",                                    \
	    "the acting principal may not do this (refusal audited): do not " \
	    "retry with the same actor",                                      \
	    403)                                                              \
	X(XZ_REPLY_EXISTS, "exists",                                          \
	    "a record with this id or key already exists: use it, or create " \
	    "with another id",                                                \
	    409)                                                              \
	X(XZ_REPLY_CAPACITY_EXCEEDED, "capacity_exceeded",                    \
	    "a business limit or quota is reached (a full cell, a case "      \
	    "load, a rate): retry later or choose another target",            \
	    429)                                                              \
	X(XZ_REPLY_STORE_ERROR, "store_error",                                \
	    "the responder's database failed and nothing was changed (the "   \
	    "message has the SQLite error): retry later, operators see the "  \
	    "log",                                                            \
	    500)                                                              \
	X(XZ_REPLY_TIMEOUT, "timeout",                                        \
	    "no reply before the deadline (the kernel's, or the responder's " \
	    "own downstream request): the action may or may not have "        \
	    "happened, retry only idempotent requests",                       \
	    504)                                                              \
	X(XZ_REPLY_NO_RESPONDERS, "no_responders",                            \
	    "nothing subscribes to the topic (plugin not loaded or not "      \
	    "started; the kernel sends it): nothing was done",                \
	    503)                                                              \
	X(XZ_REPLY_UNAVAILABLE, "unavailable",                                \
	    "the responder cannot serve now (stopping, restarting, or a "     \
	    "service it needs is down): nothing was done, retry with "        \
	    "backoff",                                                        \
	    503)                                                              \
	X(XZ_REPLY_TOO_LARGE, "too_large",                                    \
	    "the payload, a field or a result is over a size limit (the "     \
	    "message names the limit): send less or page through it",         \
	    413)                                                              \
	X(XZ_REPLY_INTERNAL, "internal",                                      \
	    "a bug or resource failure on the responder's side (logged "      \
	    "there): report it, retrying rarely helps",                       \
	    500)                                                              \
	X(XZ_REPLY_UNAUTHENTICATED, "unauthenticated",                        \
	    "the connection presented no credential the node accepts (an "    \
	    "unknown uid, certificate or an expired token): log in again; "   \
	    "the node closed the connection",                                 \
	    401)                                                              \
	X(XZ_REPLY_AUDIT_UNAVAILABLE, "audit_unavailable",                    \
	    "the change was not made because its audit record could not be "  \
	    "made durable (the audit spool is full or failing); reads still " \
	    "work: retry later, operators see the log",                       \
	    503)                                                              \
	X(XZ_REPLY_DURABLE_FULL, "durable_full",                              \
	    "the event is on a durable topic (bus.durable) and the node's "   \
	    "durable log is full (a durable subscriber lags, see status): "   \
	    "nothing was published, retry later",                             \
	    503)

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
/* Since 1.4. Delivered again from the node's durable log (after a restart,
 * or because it was not acknowledged): the id is the one of the first
 * delivery, so a handler that keeps the ids it committed skips it. */
#define XZ_MSG_REDELIVERED 0x0002u
/* Since 1.4. The event is kept in the node's durable log for this
 * subscriber until host->ack(). */
#define XZ_MSG_DURABLE 0x0004u

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

/*
 * Since 1.3. Who sent a message, as the kernel authenticated it (never
 * what the payload claims): host->caller(). Every string is NUL-terminated
 * UTF-8 and owned by the kernel.
 */
typedef struct xz_caller {
	uint32_t    struct_size;
	const char *user; /* principal id: "zhangwei", "plugin:prison",
	                     "node:bureau", "svc:kiosk-03" */
	const char        *name; /* display name ("张伟") */
	const char        *agency; /* agency id ("prison-01"), "" if none */
	const char *const *roles; /* NULL-terminated role ids */
	const char        *auth; /* how it was proven: "peercred uid=0",
	                            "token t-1a2b..", "cert CN=..", "plugin" */
} xz_caller;

/* Since 1.3. A logged-in person a plugin acts for (host->session_open);
 * opaque, owned by the kernel until host->session_close. */
typedef struct xz_session xz_session;

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
 * {"error":{"code":"...","message":"..."}} with XZ_MSG_ERROR set. When the
 * node stops before the answer came, it runs with the error reply
 * "unavailable" before the plugin's stop.
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

	/* Since 1.1. Optional. Runs in the actor context after each batch of
	 * messages and jobs the kernel handed the plugin in one turn (up to a
	 * few hundred, more under load). A plugin may keep one store
	 * transaction open across the batch and commit it here, then send the
	 * replies and events it held back: group commit, so a busy plugin
	 * pays one commit per batch instead of one per request. */
	void (*batch_end)(void *state);

	/* Since 1.4. Optional. Check the options beyond their declared type
	 * and range (a format, a combination), so that `xiezhi check`
	 * refuses what init would: the kernel calls it when it loads the
	 * plugin (for `check` and at the node's start), after resolving the
	 * options and before init. Read them with host->opt_*(self, ...) and
	 * make no other host call: nothing runs yet, there is no state. Return
	 * XZ_OK, or XZ_EINVAL with *option set to the option at fault (a
	 * static string, or NULL) and why (why_len bytes, NUL-terminated) the
	 * reason: reported as an error at the FILE:LINE of that option in the
	 * config, with the plugin's name. A plugin whose descriptor has it
	 * still checks in init (an older host never calls it). */
	int (*check_options)(xz_plugin *self, const xz_host *host,
	    const char **option, char *why, size_t why_len);
} xz_plugin_desc;

/*
 * The host table. The kernel owns it; it stays valid until fini returns.
 * Members without a mark are ABI 1.0; before using one marked "Since 1.x",
 * check XZ_HAS_MEMBER(host, xz_host, member) if the plugin may run on an
 * older host (it set .abi_minor below XZ_ABI_MINOR).
 */
struct xz_host {
	uint32_t struct_size;
	uint16_t abi_major;
	uint16_t abi_minor;

	const char *(*strerror)(int err);

	/* Logging: one line per record (time, level, plugin, message). */
	void (*log)(xz_plugin *self, int level, const char *fmt, ...)
	    XZ_PRINTF_LIKE(3, 4);

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
	 * matching mailbox stayed full past the publish deadline, XZ_ECLOSED
	 * once the node stops. */
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
	 * tests may advance (xiezhi call xz.sys.clock.advance, on a node
	 * with node.test_clock = true). Use it, not
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

	/* Since 1.2. The version of the node running the plugin, as its
	 * XZ_VERSION_STRING ("0.1.0"); the node's ABI is abi_major.abi_minor
	 * above. A static string. */
	const char *(*version)(void);

	/* Since 1.3. The authenticated sender of msg (a message this plugin
	 * was handed: a request, an event, a reply), set by the kernel when
	 * the message entered the node: the link connection's principal
	 * (peer credentials, client certificate or session token), or
	 * "plugin:<name>" (role "plugin") for a plugin's own messages, or the
	 * node's principal ("node:<name>") for the kernel's. Never NULL; valid
	 * as long as msg is. */
	const xz_caller *(*caller)(xz_plugin *self, const xz_msg *msg);

	/* Since 1.3. Acting on behalf of a person (a web gateway): only for
	 * a plugin whose config entry says impersonate = true (else
	 * XZ_EPERM). session_open verifies a session token through the
	 * node's identity store: XZ_OK and *sess, or XZ_EAUTH with *why (a
	 * kernel-owned static string) saying why. request_as and
	 * subscribe_as are request and subscribe as that person: the
	 * person's role permissions are checked (XZ_EPERM when refused:
	 * counted and audited as for a link connection) and the messages
	 * carry the person's principal, so responders see them as the
	 * caller. An expired session gets XZ_EAUTH. session_close ends it
	 * (its subscriptions stay the plugin's: unsubscribe them). */
	int (*session_open)(xz_plugin *self, const char *token,
	    xz_session **sess, const char **why);
	void (*session_close)(xz_plugin *self, xz_session *sess);
	int (*request_as)(xz_plugin *self, xz_session *sess, const char *topic,
	    const void *data, size_t len, uint32_t timeout_ms, xz_reply_fn fn,
	    void *ud);
	int (*subscribe_as)(xz_plugin *self, xz_session *sess,
	    const char *pattern, xz_handler handler, void *ud,
	    uint64_t *sub_id);
	/* Since 1.3. The principal of a session (valid until session_close).
	 */
	const xz_caller *(*session_caller)(xz_plugin *self, xz_session *sess);

	/* Since 1.4. subscribe, and durable: an event on a topic the node
	 * lists in bus.durable is written to the node's durable log before
	 * its publisher gets XZ_OK, and kept for this plugin instance until
	 * it calls ack(). What is not acknowledged is delivered again after
	 * a restart (kill -9 included), and every bus.durable_redeliver_ms
	 * (30 s by default) while it runs, with
	 * XZ_MSG_REDELIVERED set and the same msg->id. The durable
	 * subscription is the instance's (by its name) and outlives the
	 * process: events published while it is down wait for it. No queue
	 * group. On a node without bus.durable it is subscribe. An
	 * isolated plugin (isolation = "process") gets the same guarantee:
	 * the subscription and its acks travel to the node. */
	int (*subscribe_durable)(xz_plugin *self, const char *pattern,
	    xz_handler handler, void *ud, uint64_t *sub_id);
	/* Since 1.4. msg (an event this instance was handed through a
	 * durable subscription) is committed: the node may forget it. Call
	 * it after your own commit; acking a message without XZ_MSG_DURABLE
	 * does nothing. Acknowledgements are written in batches: one that a
	 * crash loses makes the message come again (with the same id). */
	int (*ack)(xz_plugin *self, const xz_msg *msg);
};

/* Fill the ABI header of a descriptor. */
#define XZ_PLUGIN_DESC_HEADER                                                 \
	.struct_size = sizeof(xz_plugin_desc), .abi_major = XZ_ABI_MAJOR,     \
	.abi_minor = XZ_ABI_MINOR

/* Every plugin defines this and returns a pointer to a static descriptor.
 * XZ_EXPORT keeps it visible when plugins build with -fvisibility=hidden. */
XZ_EXPORT const xz_plugin_desc *xz_plugin_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* XIEZHI_XIEZHI_H */
