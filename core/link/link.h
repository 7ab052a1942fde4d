/*
 * link.h - the node's nng endpoints: the control endpoint and the bus
 * listeners, one pair1 socket in polyamorous mode, one pipe per connected
 * peer (a CLI, a subscriber process, another node). Each peer is a remote
 * target of the bus (bus.h: xz_target).
 */
#ifndef XZ_LINK_LINK_H
#define XZ_LINK_LINK_H

#include <stddef.h>
#include <pthread.h>
#include <stdint.h>

#include "bus/authz.h"
#include "bus/bus.h"
#include "util/diag.h"
#include "wire/principal.h"

typedef struct xz_link xz_link;

/* A bus listener. For tls+tcp://, cert and key are the node's PEM files;
 * with ca, a client must present a certificate signed by it
 * (NNG_TLS_AUTH_MODE_REQUIRED), without ca none is asked for. crl (PEM)
 * lists revoked certificates: read at every certificate-bound HELLO, so a
 * revocation applies to the next connection without a restart. Paths
 * NULL when not given. */
typedef struct xz_link_listen {
	const char *url;
	const char *tls_ca;
	const char *tls_cert;
	const char *tls_key;
	const char *tls_crl;
} xz_link_listen;

/*
 * Authentication of link connections. Before the first envelope of a
 * connection is routed it has a principal, or it is refused
 * ("unauthenticated" error, connection closed, counted):
 *   - ipc: the peer's uid / gid (SO_PEERCRED) looked up in ids[] (uid
 *     entries first), else uid 0 and the node's own uid get admin;
 *   - inproc: the node's own process: admin;
 *   - a session token in the HELLO ({"name":..,"token":".."}) wins over
 *     both, through verifier (wire/principal.h);
 *   - tls+tcp with a CA: a certificate-bound HELLO (wire/certproof.h):
 *     the client asks for a nonce (xz.hello.challenge, answered by the
 *     link), then sends its certificate and a signature over the nonce;
 *     the certificate must chain to the door's CA, be unexpired and not
 *     in its CRL; its CN is looked up in ids[] (XZ_LINK_ID_CN), and the
 *     principal's auth says "cert sha256:<fingerprint>". nng 1.5.2 does
 *     not show which certificate the TLS handshake verified, so the
 *     HELLO's proof, not the handshake, names the principal;
 *   - tcp (and tls+tcp): a token.
 * A principal that expires (expires_ms, kernel clock) ends the
 * connection at its next envelope.
 */
enum { XZ_LINK_ID_UID = 1, XZ_LINK_ID_GID = 2, XZ_LINK_ID_CN = 3 };

typedef struct xz_link_id {
	int           kind; /* XZ_LINK_ID_* */
	int64_t       id; /* uid or gid */
	const char   *cn; /* certificate common name */
	xz_principal *who; /* borrowed */
} xz_link_id;

/* Set by the kernel at any time (xz_kernel_set_token_verifier). */
typedef struct xz_link_verifier {
	_Atomic(xz_token_verify_fn) fn;
	void                       *ud;
} xz_link_verifier;

typedef struct xz_link_auth {
	const xz_link_id *ids; /* borrowed */
	size_t            nids;
	/* Held (read) while ids and nids are read; the kernel replaces them
	 * under it (write) when a reload changes auth.local or auth.certs.
	 * Borrowed; NULL: they never change. */
	pthread_rwlock_t *ids_lock;
	xz_principal     *admin; /* uid 0, own uid, inproc; borrowed */
	xz_link_verifier *verifier; /* borrowed */
	uint64_t (*now_ms)(void *ud); /* the kernel clock, for expiry */
	void *now_ud;
	/* Permissions (authz.h), checked before routing: a publish or
	 * request the principal may not make gets a `forbidden` error, a
	 * subscription it may not hold is refused, a message a wildcard
	 * subscription caught on a topic it may not receive is not sent.
	 * Each denial is counted and published on audit.sys.denied. NULL:
	 * no checks. Borrowed. */
	const xz_authz *authz;
} xz_link_auth;

/* What the link needs of the deployment (strings borrowed for the
 * link's life; listen[] is read by xz_link_start only). */
typedef struct xz_link_cfg {
	const char           *node_name;
	const char           *control_url;
	const xz_link_listen *listen;
	size_t                nlisten;
	uint32_t              max_payload;
	uint32_t              queue_capacity; /* messages queued per peer */
	const char           *config_file; /* for diagnostics */
	/* Borrowed for the link's life. NULL: no authentication (tests of
	 * the link alone): every peer's messages carry no principal. */
	const xz_link_auth *auth;
} xz_link_cfg;

typedef struct xz_link_stats {
	size_t   peers;
	uint64_t rejected; /* malformed or oversized envelopes */
	uint64_t tx_failed; /* envelopes lost to a failed send (logged) */
	uint64_t violations; /* peers disconnected for breaking the protocol */
	uint64_t revoked; /* connections closed: their certificate no
	                     longer passes the door's CA and CRL */
	uint64_t unauthenticated; /* connections refused: no credential */
	uint64_t denied; /* publish, request, subscribe refused */
	uint64_t doors_reopened; /* listeners that had stopped accepting
	                            (nng 1.5.2), closed and opened again */
} xz_link_stats;

/* Bind every endpoint and start serving. On error *out may still hold a
 * link to stop (xz_link_stop frees it). */
int  xz_link_start(xz_link **out, const xz_link_cfg *cfg, xz_bus *bus,
     xz_clock *clk, xz_diag *d);
void xz_link_stop(xz_link *l);
void xz_link_stats_get(xz_link *l, xz_link_stats *st);
/* The permissions (cfg.auth->authz) were reloaded: every remote
 * subscription they now forbid is dropped (logged, counted, refused to
 * its peer with `forbidden` and written to audit.sys.denied). Returns how
 * many were dropped. */
size_t xz_link_authz_changed(xz_link *l);
/* Check the certificate every live connection proved (a certificate-bound
 * HELLO) again against its door's CA and CRL as they are now: one that no
 * longer passes (revoked, expired, no longer chaining to the CA) is
 * logged with the reason, counted (stats.revoked), audited on
 * audit.sys.login (outcome "revoked"), announced on xz.link.revoked
 * ({"user","cn","sha256","why","peer"}; node links read it), refused and
 * closed; its next HELLO meets the same check. cause says why ("a
 * reload"). The link also does it by itself within about a second of a
 * change of a door's CA or CRL file. Returns how many were closed; any
 * thread; NULL is ignored. */
size_t xz_link_certs_recheck(xz_link *l, const char *cause);
/* "SIZE MTIME INODE" of path into out ("" when it cannot be read, or path
 * is NULL): what a watch of a CA or CRL file compares. */
void xz_link_file_sig(const char *path, char *out, size_t n);

#endif
