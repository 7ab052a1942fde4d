/*
 * client.h - the xiezhi client library (libxiezhi-client): how a program
 * outside the node joins its bus. A video platform, a door controller, a
 * sensor gateway or another agency's case system connects to a node,
 * publishes events, subscribes, sends requests with a deadline and answers
 * the requests routed to it.
 *
 * The library is the link protocol of the node's own command line
 * (docs/architecture.md, "Links"): one nng pair1 connection, envelopes in
 * batches, credits in both directions. docs/client.md is the guide.
 *
 * Errors are values of enum xz_err (<xiezhi/xiezhi.h>): XZ_OK is 0,
 * xzc_strerror() names the others and xzc_errmsg() says what the last
 * failed call on a client was about (the URL, the topic, the node's reply).
 *
 * Threading: the simplest honest contract. A client handle is used by one
 * thread at a time: calls on one handle must never overlap (a handle may
 * move to another thread between calls). Separate handles are independent
 * and may be used by separate threads at once. Handlers run on the thread
 * that called xzc_dispatch or xzc_next, inside that call. xzc_strerror and
 * xzc_version may be called from any thread at any time.
 *
 * Ownership is written above each call. Strings and buffers passed to the
 * library are copied before the call returns unless said otherwise.
 */
#ifndef XIEZHI_CLIENT_H
#define XIEZHI_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <xiezhi/xiezhi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the client API. The shared library's soname carries
 * XZC_ABI_MAJOR (libxiezhi-client.so.1); XZC_ABI_MINOR grows when calls or
 * members (xzc_options, xzc_msg) are appended. */
#define XZC_ABI_MAJOR 1
#define XZC_ABI_MINOR 0

/* A connection to one node. Opaque; created by xzc_open, freed by
 * xzc_close. */
typedef struct xzc_client xzc_client;

/*
 * A message received from the node: an event or a request routed to one
 * of this client's subscriptions, or the reply to its own request.
 * Read-only; the library owns it, and how long it stays valid is written
 * at the call that hands it out. Members are only ever appended.
 */
typedef struct xzc_msg {
	uint8_t     kind; /* XZ_KIND_EVENT, XZ_KIND_REQUEST, XZ_KIND_REPLY */
	uint8_t     content_type; /* enum xz_content_type */
	uint16_t    flags; /* XZ_MSG_ERROR: {"error":{"code","message"}} */
	const char *topic; /* NUL-terminated */
	size_t      topic_len;
	const char *source; /* who published it (plugin or peer), NUL-term. */
	size_t      source_len;
	const void *data; /* payload; NUL-terminated for convenience */
	size_t      len; /* payload length, without the NUL */
	uint8_t     id[16];
	uint8_t     corr[16]; /* a reply: the id of the request */
	uint64_t    timestamp_us; /* microseconds since the epoch */
	uint64_t    deadline_us; /* a request: answer before this, else 0 */
	uint64_t    sub_id; /* the subscription it was delivered for (0 for
	                       a reply) */
} xzc_msg;

/* A subscription's handler: runs inside xzc_dispatch or xzc_next, on the
 * calling thread. msg is valid until the handler returns. */
typedef void (*xzc_handler)(void *ud, const xzc_msg *msg);

/*
 * Options of xzc_open. Start from XZC_OPTIONS_INIT (all defaults) and set
 * what you need; struct_size lets later versions append members.
 */
typedef struct xzc_options {
	uint32_t struct_size; /* sizeof(xzc_options) */
	/* Shown in the node's log and status as NAME-PID. 1..48 bytes of
	 * [A-Za-z0-9_.-]; NULL: "client". */
	const char *name;
	/* How long xzc_open retries while nothing accepts the connection
	 * yet (the node is starting). 0: 1000 ms. */
	int connect_timeout_ms;
	/* tls+tcp:// only (any of them set with another scheme: XZ_EINVAL).
	 * ca_file (PEM) is required: the node's certificate must chain to
	 * it and carry server_name (default: the URL's host). cert_file and
	 * key_file (PEM; the key may be in cert_file, then key_file is NULL)
	 * are this client's certificate, for a node that asks for one;
	 * without a token, xzc_open proves it in the HELLO by signing a
	 * nonce the node sends, and the node acts for the principal its CN
	 * names. */
	const char *tls_ca_file;
	const char *tls_cert_file;
	const char *tls_key_file;
	const char *tls_server_name;
	/*
	 * A session token (what `xiezhi login` writes to a credentials file,
	 * or the "token" of an xz.sys.auth.login reply): presented in the
	 * connection's HELLO, and the node then acts for its user (its
	 * name, agency and roles) instead of the connection's peer
	 * credentials or certificate. 1..256 of A-Z a-z 0-9 _ - . (else
	 * XZ_EINVAL); NULL: none. A token the node refuses (expired,
	 * revoked, locked user) makes its requests fail with
	 * `unauthenticated`. A client certificate (tls_cert_file) needs
	 * nothing here.
	 */
	const char *token;
} xzc_options;

#define XZC_OPTIONS_INIT                                                      \
	{                                                                     \
		sizeof(xzc_options), NULL, 0, NULL, NULL, NULL, NULL, NULL    \
	}

/* Longest message of xzc_errmsg and of xzc_open's err, NUL included. */
#define XZC_ERRMSG_MAX 512

/*
 * Connect to the node at url: "ipc:///path" (the node's control endpoint
 * or a bus.listen socket), "tcp://host:port" or "tls+tcp://host:port".
 * opts may be NULL (all defaults). Waits until the connection is up (up
 * to opts->connect_timeout_ms while nothing accepts it).
 * On XZ_OK the caller owns *out and frees it with xzc_close. On error
 * *out is NULL and, when err is not NULL, err (errlen bytes, up to
 * XZC_ERRMSG_MAX used) says why, naming the URL. Errors: XZ_EINVAL (bad
 * URL, name or options; a malformed token), XZ_ECLOSED (nothing accepts the
 * connection: no node there), XZ_EPERM (TLS: the node's certificate is
 * not trusted or the node refused ours), XZ_ENOENT (a TLS file cannot be
 * read), XZ_ENOMEM, XZ_EIO (another transport error).
 */
XZ_EXPORT int xzc_open(xzc_client **out, const char *url,
    const xzc_options *opts, char *err, size_t errlen);

/*
 * Send what is still buffered (waiting for the node's credits if need
 * be), close the connection and free c and everything it handed out.
 * Never from a handler. c may be NULL.
 */
XZ_EXPORT void xzc_close(xzc_client *c);

/*
 * Publish an event: topic (no wildcards) and data (JSON by convention;
 * not checked here) are copied into the send buffer, which leaves when
 * it fills (256 KiB), at xzc_flush, or when a call waits for the node
 * (xzc_request, xzc_dispatch, xzc_next). XZ_OK means buffered, not
 * delivered: the node may still refuse it (backpressure past its publish
 * deadline, over its payload limit), and xzc_flush with a timeout reports
 * that. XZ_EINVAL bad topic; XZ_ETOOBIG over 64 MiB; XZ_ECLOSED the node
 * dropped the connection.
 */
XZ_EXPORT int xzc_publish(
    xzc_client *c, const char *topic, const void *data, size_t len);

/*
 * Subscribe to pattern ('*' one token, '>' the rest). With a queue group,
 * the node gives each message to one member of the group. With fn, the
 * handler fn(ud, msg) runs for each message inside xzc_dispatch or
 * xzc_next; with fn NULL, the messages are returned by xzc_next (a pull
 * subscription). A message that matches several subscriptions of this
 * client reaches each of them once (queue groups: one of this client's
 * members). The id goes to *sub_id if not NULL.
 * Keep reading (xzc_dispatch or xzc_next): a subscriber that does not
 * read holds back the node's publishers of business topics (up to the
 * node's publish deadline), as a slow plugin does.
 * The subscription is buffered like a publish: it is in place at the node
 * once a later xzc_flush with a timeout has returned XZ_OK. pattern and
 * queue_group are copied. XZ_EINVAL bad pattern or group (1..64 bytes).
 * May be called from a handler.
 */
XZ_EXPORT int xzc_subscribe(xzc_client *c, const char *pattern,
    const char *queue_group, xzc_handler fn, void *ud, uint64_t *sub_id);

/*
 * Remove a subscription. Once this returns, its handler never runs again
 * and xzc_next returns no message for it. XZ_ENOENT unknown id. May be
 * called from a handler (also for the subscription being handled).
 */
XZ_EXPORT int xzc_unsubscribe(xzc_client *c, uint64_t sub_id);

/*
 * Send everything buffered. timeout_ms 0: return once it is handed to the
 * transport. timeout_ms > 0: then wait until the node has taken all of it
 * in order (one round trip): XZ_OK means every publish, subscription and
 * reply before this call reached the node's bus, or the node refused it
 * and XZ_OK is not returned: the error of the first publish refused since
 * the previous xzc_flush (XZ_ETIMEDOUT backpressure, XZ_ETOOBIG, ...; the
 * node's message and the count in xzc_errmsg). XZ_ETIMEDOUT when the node
 * did not confirm within timeout_ms (plus one second); XZ_ECLOSED when it
 * dropped the connection; XZ_EINVAL timeout_ms < 0. Messages for this
 * client's subscriptions that arrive meanwhile are kept, in order, for
 * xzc_dispatch and xzc_next.
 */
XZ_EXPORT int xzc_flush(xzc_client *c, int timeout_ms);

/*
 * Send a request (data copied) whose deadline is timeout_ms (> 0) from
 * now, and wait for its reply. XZ_OK with *reply: the reply, which may be
 * an error reply (XZ_MSG_ERROR set; xzc_msg_error() gives its code as an
 * xz_err): the node's `timeout` when no responder answered in time,
 * `no_responders` when nothing subscribes to topic. *reply is owned by c
 * and valid until the next xzc_request on c or xzc_close.
 * Without a reply *reply is NULL: XZ_ETIMEDOUT (nothing, not even the
 * node's timeout reply, within timeout_ms plus one second), XZ_ECLOSED,
 * XZ_EINVAL (bad topic, timeout_ms <= 0). No handler runs inside this
 * call; messages for subscriptions that arrive meanwhile are kept, in
 * order, for xzc_dispatch and xzc_next. May be called from a handler.
 */
XZ_EXPORT int xzc_request(xzc_client *c, const char *topic, const void *data,
    size_t len, int timeout_ms, const xzc_msg **reply);

/*
 * Answer a request this client received (request->kind ==
 * XZ_KIND_REQUEST, from a handler or xzc_next); data is copied and
 * buffered like a publish. The node takes the first answer; one after the
 * deadline is dropped there. xzc_reply_error answers
 * {"error":{"code":code,"message":message}} (code: an XZ_REPLY_* of
 * <xiezhi/xiezhi.h>). XZ_EINVAL when request is not a request.
 */
XZ_EXPORT int xzc_reply(
    xzc_client *c, const xzc_msg *request, const void *data, size_t len);
XZ_EXPORT int xzc_reply_error(xzc_client *c, const xzc_msg *request,
    const char *code, const char *message);

/*
 * Run handlers: wait up to timeout_ms (< 0: without limit) for a message,
 * then hand it and those already received (at most 256 in one call) to
 * the handlers of the subscriptions they match. A message for a pull
 * subscription is kept for xzc_next. Sends what is buffered first.
 * XZ_OK when at least one message was taken, XZ_ETIMEDOUT when none came,
 * XZ_ECLOSED when the node dropped the connection, XZ_ESTATE from inside
 * a handler.
 */
XZ_EXPORT int xzc_dispatch(xzc_client *c, int timeout_ms);

/*
 * The pull iterator: the next message for a pull subscription (fn NULL),
 * waiting up to timeout_ms (< 0: without limit). Messages for handler
 * subscriptions met on the way run their handlers, inside this call.
 * XZ_OK with *msg, owned by c and valid until the next xzc_next on c or
 * xzc_close; XZ_ETIMEDOUT (*msg NULL), XZ_ECLOSED, XZ_ESTATE from inside
 * a handler.
 */
XZ_EXPORT int xzc_next(xzc_client *c, int timeout_ms, const xzc_msg **msg);

/* How many publishes the node refused since xzc_open (xzc_flush reports
 * the first of each round). */
XZ_EXPORT uint64_t xzc_refused(const xzc_client *c);

/* XZ_OK for a message without XZ_MSG_ERROR; otherwise the xz_err of its
 * reply code ("timeout": XZ_ETIMEDOUT, "invalid_state": XZ_ESTATE, ...;
 * an unknown code: XZ_EINTERNAL). */
XZ_EXPORT int xzc_msg_error(const xzc_msg *msg);

/* What the last call on c that failed was about, for people (the URL, the
 * topic, the node's error reply). Owned by c; valid until the next call on
 * c. "" when nothing failed yet. */
XZ_EXPORT const char *xzc_errmsg(const xzc_client *c);

/* The message of an xz_err ("timed out", ...): a static string. */
XZ_EXPORT const char *xzc_strerror(int err);

/* The library's version, as XZ_VERSION_STRING: a static string. */
XZ_EXPORT const char *xzc_version(void);

#ifdef __cplusplus
}
#endif

#endif /* XIEZHI_CLIENT_H */
