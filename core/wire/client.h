/*
 * client.h - the peer side of a link: how the CLI (and any process) talks
 * to a node. A monogamous pair1 socket dialed to the node's control or bus
 * endpoint; envelopes are batched on send, and every received batch is
 * acknowledged with a CREDIT envelope once taken off the socket (the node's
 * flow control, see link.c). Sending follows the node's grants
 * (XZ_LINK_CREDIT_INITIAL, then the CREDITs it sends): with none left, a
 * flush reads the socket until one arrives, keeping (and acknowledging)
 * the batches it reads meanwhile for xz_client_next, so neither side ever
 * waits for the other.
 */
#ifndef XZ_CLIENT_H
#define XZ_CLIENT_H

#include <nng/nng.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xiezhi/i18n.h>

#include "wire/envelope.h"

/* The library's texts in 简体中文 (client_msg.c): XZ_TR(xz_client_zh, en). */
extern const xz_tr xz_client_zh[];
/* nng_strerror(rc) in the process's language. */
const char *xz_client_strerror(int rc);

typedef struct xz_client {
	nng_socket sock;
	uint64_t   prefix, counter; /* message ids */
	uint8_t   *out; /* owned send buffer */
	size_t     out_len, out_cap;
	nng_msg   *in; /* current received batch (owned) */
	size_t     in_off;
	size_t     max_payload;
	atomic_int gone; /* the node dropped the connection */
	/* The first connection is made (later ones are nng's own redials,
	 * turned away) and whether one was. */
	atomic_int dialed, redialed;
	uint32_t   credit; /* batches we may still send */
	nng_msg  **held; /* owned FIFO of batches read while waiting for
	                    credit, already acknowledged */
	size_t held_head, held_count, held_cap;
	/* Why xz_client_dial failed, when it knows more than its error
	 * code (the certificate HELLO: the node's or libcrypto's reason). */
	char why[256];
	bool tls; /* dialed tls+tcp:// */
	/* The xz_client_now_us() after which a flush gives up waiting for
	 * credit or for room on the socket (NNG_ETIMEDOUT); 0: no limit.
	 * xz_client_request and xz_client_dial set it for their own send. */
	uint64_t send_until_us;
} xz_client;

/* Dial url and say hello as `name`. 0 or an nng error (dial waits up to
 * timeout_ms for the node). */
int xz_client_open(
    xz_client *c, const char *url, const char *name, int timeout_ms);
/* What a tls+tcp:// dial presents and checks: PEM file names; NULL
 * members are left unset (server_name then defaults to the URL's host). */
typedef struct xz_client_tls {
	const char *ca_file; /* the node's certificate must chain to these */
	const char
	    *cert_file; /* our certificate (mutual TLS), with key_file */
	const char *key_file;
	const char *server_name;
} xz_client_tls;
/*
 * xz_client_open with everything said: tls (NULL for ipc:// and tcp://)
 * and the HELLO payload itself (hello[0..hello_len), a JSON object). The
 * dial is retried while nothing accepts it yet (refused, no ipc socket)
 * until timeout_ms; other failures return at once. 0 or an nng error
 * (NNG_EPEERAUTH, NNG_ECRYPTO: TLS; NNG_ENOENT: a TLS file is missing).
 * With tls->cert_file and no "token" in hello, the HELLO proves the
 * certificate (wire/certproof.h): a nonce is asked of the node first, and
 * a refusal of it or a key that cannot sign fails the dial with
 * NNG_EPEERAUTH or NNG_ECRYPTO and c->why saying why.
 */
int  xz_client_dial(xz_client *c, const char *url, const xz_client_tls *tls,
     const char *hello, size_t hello_len, int timeout_ms);
void xz_client_close(xz_client *c);
/* A new message id. */
void xz_client_id(xz_client *c, uint8_t id[16]);
/* Queue one envelope (copied); flushed when the buffer fills or on
 * xz_client_flush. 0 or an nng / XZ error. */
int xz_client_put(xz_client *c, const xz_env *e);
int xz_client_flush(xz_client *c);
/* Next envelope from the node, valid until the next call. 0, NNG_ETIMEDOUT,
 * or another error (NNG_ECLOSED once the node dropped the connection).
 * timeout_ms < 0: wait forever. */
int xz_client_next(xz_client *c, xz_env *e, int timeout_ms);
/* Called by xz_client_request for an envelope that is not its reply. */
typedef void (*xz_client_other_fn)(const xz_env *e, void *arg);
/*
 * Send a request to topic (payload copied, deadline timeout_ms from now)
 * and wait for its reply: the REPLY envelope correlated with it. What
 * arrives before it goes to other(e, arg), or is skipped when other is
 * NULL. The wait lasts one second past the deadline, so that the node's
 * own `timeout` error reply comes before a local timeout.
 * Returns 0 with *reply valid until the next call on c (an error reply has
 * XZ_MSG_ERROR in reply->flags); NNG_ETIMEDOUT without a reply;
 * NNG_ECLOSED once the node dropped the connection; or the error of
 * xz_client_put, xz_client_flush or xz_client_next.
 */
int xz_client_request(xz_client *c, const char *topic, const void *payload,
    size_t len, int64_t timeout_ms, xz_env *reply, xz_client_other_fn other,
    void *arg);
/* Wall clock in microseconds. */
uint64_t xz_client_now_us(void);

#endif
