/*
 * link.c - the node's nng endpoints: the control endpoint and the bus
 * listeners, all on one pair1 socket in polyamorous mode, one pipe per
 * connected peer (a CLI, a subscriber process, another node).
 *
 * Why poly pair1 with credits: pair1 keeps order and carries any message
 * kind both ways, and poly mode lets one listening socket serve many peers
 * addressed by pipe. But nng's poly mode *drops* a message when the
 * target pipe's 2-deep send queue is full (pair1_poly.c, tryput). So each
 * peer gets flow control on top: the node sends at most LINK_WINDOW
 * batches a peer has not acknowledged with a CREDIT envelope, which keeps
 * that queue from ever being full. Nothing is dropped on a link; a slow
 * peer pushes back on the publishers like a slow plugin does.
 *
 * Receiving: one thread reads every pipe's batches with blocking
 * nng_recvmsg (never an aio callback: routing may wait on backpressure,
 * and an aio callback must not block). It validates a whole batch before
 * acting on any of it; a malformed one is counted and dropped.
 *
 * Sending: one thread per peer takes what is queued for it, packs it into
 * one nng message (up to LINK_BATCH_BYTES), and sends.
 */
#include <errno.h>
#include <limits.h>
#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/supplemental/tls/tls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "link/link.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/msg.h"
#include "util/topic.h"
#include "wire/certproof.h"
#include "wire/envelope.h"

#define LINK_WINDOW 2
#define LINK_BATCH_BYTES (256 * 1024)
#define LINK_BATCH_MAX 4096
/* Inbound batches a peer may have queued: exactly what it may send
 * before the node grants more, so the receiver never waits for room. */
#define LINK_INQ XZ_LINK_CREDIT_INITIAL

/* An inbound batch, decoded once: the envelopes point into msg's body,
 * which lives as long as the batch. Owned by whoever holds it: the
 * receiver, then the peer's queue, then the peer's worker. */
struct inbatch {
	nng_msg *msg;
	size_t   n;
	xz_env   env[];
};

static void
inbatch_free(struct inbatch *b)
{
	nng_msg_free(b->msg);
	free(b);
}

struct xz_peer {
	xz_target       target; /* first: the bus delivers through it */
	atomic_int      refs;
	struct xz_link *l;
	nng_pipe        pipe;
	char            name[XZ_SOURCE_MAX + 1];
	pthread_mutex_t mu;
	/* Each waits for one thing, and is woken only when that thing
	 * changes (a wake-up is a context switch, per message if careless):
	 * tx_cv the sender (something to send, window open), rx_cv the
	 * worker (a batch in inq), room_cv publishers waiting for room in q
	 * (room_waiters of them). */
	pthread_cond_t tx_cv, rx_cv, room_cv;
	uint32_t       room_waiters;
	xz_kmsg      **q; /* ring of 2*cap: cap for events, the rest for
	                      replies, which never wait */
	uint32_t cap, head, count;
	int      outstanding;
	/* Inbound flow control: batches the peer may still send (the
	 * initial credit, then what the node granted), and credits freed by
	 * the worker that the sender must still grant. */
	uint32_t  in_credit, grant_owed;
	bool      dead, tx_started;
	pthread_t tx;
	/* Inbound: batches from this peer wait here for the peer's own
	 * worker, which routes them (and may wait on backpressure); the
	 * receiver thread only takes CREDITs itself, so a full queue can
	 * never hold back the credits that would empty it. */
	struct inbatch **inq; /* ring of LINK_INQ batches (owned) */
	uint32_t         inhead, incount;
	pthread_t        rxw;
	bool             rxw_started;
	/* Who is acting on this connection (one reference, or NULL: not
	 * authenticated yet). Written by the peer's worker (HELLO) under
	 * mu, read by it without. */
	xz_principal *who;
	int           transport; /* T_* of the door it came through */
	char          why[200]; /* why it has no principal */
	bool          refused; /* unauthenticated: nothing more is routed */
	/* Refused: closed by the receiver thread once this (monotonic) time
	 * passed, so the error it was sent reaches it first. 0: never. */
	atomic_uint_fast64_t close_at_us;
	/* Permissions of who: decisions cached per topic. pub_cache is the
	 * worker's; rx_cache (what may be delivered) is used under mu. */
	bool unrestricted; /* may do everything: no checks */
	/* The nonce this connection was given for a certificate-bound
	 * HELLO (certproof.h), "" when none is pending; the worker's. */
	char nonce[XZ_CERTPROOF_NONCE_HEX + 1];
	/* The certificate this connection proved, with the nonce and the
	 * signature of its HELLO (owned, under mu; NULL when it proved
	 * none): checked again against the door's CA and CRL on a reload
	 * and when either file changes (xz_link_certs_recheck). */
	char           *cert, *cert_nonce, *cert_sig;
	char            cert_cn[65];
	xz_authz_cache  pub_cache, rx_cache;
	atomic_bool     rxw_done;
	struct xz_peer *next;
};

/* How a door authenticates (link.h, xz_link_auth). */
enum { T_IPC = 1, T_INPROC, T_TLS, T_TCP };

struct door_kind {
	/* nng_listener_id; a reopened door (door_watch) gets a new one, read
	 * by nng's threads adding pipes. */
	_Atomic uint32_t listener;
	int              transport; /* T_* */
	/* To open it again (owned copies of the config's strings). */
	char        *url, *cert, *key;
	bool         control;
	bool         down; /* closed by door_watch, not listening again yet */
	nng_listener lst;
	/* door_watch: its accept errors that may have stopped it ("other",
	 * "canceled", "disconnect") as last seen, and the probe dialing it. */
	uint64_t    bad_seen;
	bool        probing;
	bool        probe_warned; /* a probe could not dial it: said once */
	uint64_t    reprobe_at; /* probe again then (0: no) */
	atomic_bool probe_up; /* the probe's dial got through */
	nng_socket  probe;
	uint64_t    probe_events, probe_until_us;
	uint64_t    absorb_until; /* the probe's own end, counted by then */
	/* tls+tcp: the CA client certificates must chain to, and the CRL
	 * (owned copies, NULL when not set). A certificate-bound HELLO
	 * (certproof.h) is checked against them. */
	char *ca, *crl;
	/* What the two files were (size, mtime, inode) when the live
	 * connections' certificates were last checked, and when last looked
	 * at: a change that stayed for a second rechecks them (a file being
	 * copied in place is not read half-written). */
	char ca_sig[96], crl_sig[96], ca_seen[96], crl_seen[96];
};

struct xz_link {
	xz_link_cfg          cfg; /* strings borrowed */
	struct door_kind    *doors; /* owned */
	struct pipe_cred    *creds; /* owned, under mu */
	size_t               ndoors;
	atomic_uint_fast64_t unauthenticated, denied;
	xz_bus              *bus;
	xz_clock            *clk;
	atomic_uint_fast64_t rejected, tx_failed, violations, revoked;
	atomic_uint_fast64_t doors_reopened;
	uint64_t             next_door_us; /* rx thread: door_watch */
	pthread_mutex_t      recheck_mu; /* one certificate recheck at once */
	uint64_t             next_watch_us; /* rx thread: look at CA/CRL */
	uint64_t             last_tx_log_us;
	nng_socket           sock;
	bool                 open;
	pthread_t            rx;
	bool                 rx_started;
	pthread_mutex_t      mu; /* peers list */
	struct xz_peer      *peers;
	size_t               npeers;
	atomic_bool          stop;
	atomic_bool          reap_wanted; /* a peer's worker finished */
	uint64_t             last_reject_log_us;
};

static void
peer_ref(xz_target *t)
{
	atomic_fetch_add(&((struct xz_peer *) t)->refs, 1);
}

static void
peer_unref(xz_target *t)
{
	struct xz_peer *peer = (struct xz_peer *) t;
	if (atomic_fetch_sub(&peer->refs, 1) != 1)
		return;
	while (peer->count > 0) {
		xz_kmsg_unref(peer->q[peer->head]);
		peer->head = (peer->head + 1) % (2 * peer->cap);
		peer->count--;
	}
	free(peer->q);
	while (peer->inq != NULL && peer->incount > 0) {
		inbatch_free(peer->inq[peer->inhead]);
		peer->inhead = (peer->inhead + 1) % LINK_INQ;
		peer->incount--;
	}
	free(peer->inq);
	xz_principal_unref(peer->who);
	free(peer->cert);
	free(peer->cert_nonce);
	free(peer->cert_sig);
	xz_authz_cache_fini(&peer->pub_cache);
	xz_authz_cache_fini(&peer->rx_cache);
	pthread_mutex_destroy(&peer->mu);
	pthread_cond_destroy(&peer->tx_cv);
	pthread_cond_destroy(&peer->rx_cv);
	pthread_cond_destroy(&peer->room_cv);
	free(peer);
}

void
xz_link_stats_get(xz_link *l, xz_link_stats *st)
{
	pthread_mutex_lock(&l->mu);
	st->peers = l->npeers;
	pthread_mutex_unlock(&l->mu);
	st->rejected        = atomic_load(&l->rejected);
	st->tx_failed       = atomic_load(&l->tx_failed);
	st->violations      = atomic_load(&l->violations);
	st->revoked         = atomic_load(&l->revoked);
	st->unauthenticated = atomic_load(&l->unauthenticated);
	st->denied          = atomic_load(&l->denied);
	st->doors_reopened  = atomic_load(&l->doors_reopened);
}

static int
peer_deliver(
    xz_target *t, xz_kmsg *msg, bool best_effort, uint64_t deadline_mono_us)
{
	struct xz_peer *peer  = (struct xz_peer *) t;
	bool            reply = msg->pub.kind == XZ_KIND_REPLY;

	pthread_mutex_lock(&peer->mu);
	/* A wildcard subscription may catch a topic the principal may not
	 * receive: not sent, as if it had not matched. */
	if (!reply && !peer->unrestricted
	    && !xz_authz_cached(
	        &peer->rx_cache, XZ_AUTHZ_SUBSCRIBE, msg->pub.topic)) {
		pthread_mutex_unlock(&peer->mu);
		return XZ_OK;
	}
	for (;;) {
		if (peer->dead) {
			pthread_mutex_unlock(&peer->mu);
			return XZ_ECLOSED;
		}
		if (reply ? peer->count < 2 * peer->cap
		          : peer->count < peer->cap)
			break;
		if (best_effort && !reply) {
			pthread_mutex_unlock(&peer->mu);
			return XZ_EFULL;
		}
		if (xz_mono_us() >= deadline_mono_us) {
			pthread_mutex_unlock(&peer->mu);
			return XZ_ETIMEDOUT;
		}
		struct timespec ts;
		xz_mono_abs(deadline_mono_us, &ts);
		peer->room_waiters++;
		pthread_cond_timedwait(&peer->room_cv, &peer->mu, &ts);
		peer->room_waiters--;
	}
	peer->q[(peer->head + peer->count) % (2 * peer->cap)]
	    = xz_kmsg_ref(msg);
	/* The sender sleeps on an empty queue or a closed window: only the
	 * first message into an empty queue can be news to it. */
	if (peer->count++ == 0 && peer->outstanding < LINK_WINDOW)
		pthread_cond_signal(&peer->tx_cv);
	pthread_mutex_unlock(&peer->mu);
	return XZ_OK;
}

static const xz_target_ops peer_ops = {
	.deliver = peer_deliver,
	.ref     = peer_ref,
	.unref   = peer_unref,
};

static size_t
env_of(const xz_kmsg *m, xz_env *e)
{
	memset(e, 0, sizeof(*e));
	e->kind         = m->pub.kind;
	e->content_type = m->pub.content_type;
	e->flags        = m->pub.flags;
	memcpy(e->id, m->pub.id, 16);
	memcpy(e->corr, m->pub.corr, 16);
	e->timestamp_us = m->pub.timestamp_us;
	e->deadline_us  = m->pub.deadline_us;
	e->topic        = m->pub.topic;
	e->topic_len    = m->pub.topic_len;
	e->source       = m->pub.source;
	e->source_len   = strlen(m->pub.source);
	if (e->source_len > XZ_SOURCE_MAX)
		e->source_len = XZ_SOURCE_MAX;
	e->payload     = m->pub.data;
	e->payload_len = m->pub.len;
	return xz_env_size(e);
}

static bool
peer_is_dead(struct xz_peer *peer)
{
	pthread_mutex_lock(&peer->mu);
	bool dead = peer->dead;
	pthread_mutex_unlock(&peer->mu);
	return dead;
}

/* A batch that could not be sent (out of memory, or the pipe closed
 * under it): counted in status, logged at most once a second. */
static void
tx_failed(xz_link *l, struct xz_peer *peer, size_t n, int rc)
{
	uint64_t now = xz_mono_us();

	atomic_fetch_add(&l->tx_failed, n);
	if (now - l->last_tx_log_us > 1000000u) {
		l->last_tx_log_us = now;
		xz_log(XZ_LOG_ERROR, "link", "%zu messages to %s not sent: %s",
		    n, peer->name, nng_strerror(rc));
	}
}

/* Whether owed credits are worth a batch of their own: grants ride on
 * data batches when there are any; alone, they go out only once the peer
 * has used half its credit. A short-lived client (a `call`) thus gets no
 * message it does not need, and a busy sender is never held up. */
static bool
grant_due(const struct xz_peer *peer)
{
	return peer->grant_owed > 0
	    && peer->in_credit < XZ_LINK_CREDIT_INITIAL / 2;
}

static void *
tx_main(void *arg)
{
	struct xz_peer *peer = arg;
	xz_link        *l    = peer->l;
	xz_kmsg        *batch[LINK_BATCH_MAX];

	pthread_mutex_lock(&peer->mu);
	for (;;) {
		while (!peer->dead
		    && ((peer->count == 0 && !grant_due(peer))
		        || peer->outstanding >= LINK_WINDOW))
			pthread_cond_wait(&peer->tx_cv, &peer->mu);
		if (peer->dead)
			break;
		size_t   n = 0, bytes = 0;
		uint32_t grant = peer->grant_owed;
		uint8_t  grant_le[4];
		xz_env   ge;
		if (grant > 0) {
			/* Granted before it is sent: the peer may use it as
			 * soon as it arrives. */
			peer->in_credit += grant;
			peer->grant_owed = 0;
			grant_le[0]      = (uint8_t) grant;
			grant_le[1]      = (uint8_t) (grant >> 8);
			grant_le[2]      = (uint8_t) (grant >> 16);
			grant_le[3]      = (uint8_t) (grant >> 24);
			ge               = (xz_env) { .kind = XZ_KIND_CREDIT,
				              .topic        = "xz.credit",
				              .topic_len    = 9,
				              .payload      = grant_le,
				              .payload_len  = 4 };
			bytes += 4 + xz_env_size(&ge);
		}
		while (peer->count > 0 && n < LINK_BATCH_MAX
		    && bytes < LINK_BATCH_BYTES) {
			xz_kmsg *m = peer->q[peer->head];
			xz_env   e;
			bytes += 4 + env_of(m, &e);
			batch[n++] = m;
			peer->head = (peer->head + 1) % (2 * peer->cap);
			peer->count--;
		}
		peer->outstanding++;
		if (peer->room_waiters > 0)
			pthread_cond_broadcast(&peer->room_cv);
		pthread_mutex_unlock(&peer->mu);

		nng_msg *out = NULL;
		int      rc  = nng_msg_alloc(&out, bytes);
		if (rc == 0) {
			uint8_t *p = nng_msg_body(out);
			if (grant > 0)
				p += xz_batch_append(&ge, p, bytes);
			for (size_t i = 0; i < n; i++) {
				xz_env e;
				size_t sz = env_of(batch[i], &e);
				p[0]      = (uint8_t) sz;
				p[1]      = (uint8_t) (sz >> 8);
				p[2]      = (uint8_t) (sz >> 16);
				p[3]      = (uint8_t) (sz >> 24);
				xz_env_encode(&e, p + 4, sz);
				p += 4 + sz;
			}
			nng_msg_set_pipe(out, peer->pipe);
			/* nng owns out only when the send succeeds. The
			 * socket's send timeout lets a send to a peer that
			 * went away (or a node that is stopping) give up. */
			while ((rc = nng_sendmsg(l->sock, out, 0))
			        == NNG_ETIMEDOUT
			    && !peer_is_dead(peer) && !atomic_load(&l->stop))
				;
			if (rc != 0)
				nng_msg_free(out);
		}
		for (size_t i = 0; i < n; i++)
			xz_kmsg_unref(batch[i]);
		pthread_mutex_lock(&peer->mu);
		if (rc != 0) {
			/* The batch is lost: no credit will come back for
			 * it, so return its slot, and say so. A grant in it
			 * is owed again. */
			peer->outstanding--;
			peer->in_credit -= grant;
			peer->grant_owed += grant;
			tx_failed(l, peer, n, rc);
		}
	}
	pthread_mutex_unlock(&peer->mu);
	return NULL;
}

static void *rxw_main(void *arg);
static void  peer_kill(struct xz_peer *peer);

/* who (the peer's reference, may be NULL) acts on peer from now on:
 * permissions start afresh. Under peer->mu, or before the peer is
 * shared. */
static void
peer_set_who(xz_link *l, struct xz_peer *peer, xz_principal *who)
{
	const xz_authz *az = l->cfg.auth ? l->cfg.auth->authz : NULL;

	peer->who          = who;
	peer->unrestricted = az == NULL || xz_authz_unrestricted(az, who);
	if (peer->pub_cache.a == NULL) {
		xz_authz_cache_init(&peer->pub_cache, az, who);
		xz_authz_cache_init(&peer->rx_cache, az, who);
	} else {
		xz_authz_cache_reset(&peer->pub_cache, who);
		xz_authz_cache_reset(&peer->rx_cache, who);
	}
}

/* The door pipe came through, or NULL when unknown. */
static const struct door_kind *
pipe_door(xz_link *l, nng_pipe pipe)
{
	uint32_t id = (uint32_t) nng_listener_id(nng_pipe_listener(pipe));

	for (size_t i = 0; i < l->ndoors; i++)
		if (atomic_load(&l->doors[i].listener) == id)
			return &l->doors[i];
	return NULL;
}

/* The door pipe came through: T_*, or 0 when unknown. */
static int
pipe_transport(xz_link *l, nng_pipe pipe)
{
	const struct door_kind *dk = pipe_door(l, pipe);
	return dk != NULL ? dk->transport : 0;
}

/* What the connection of pipe itself proves (link.h, xz_link_auth):
 * *who (a new reference), or why when it proves nobody. */
static void
pipe_auth(xz_link *l, nng_pipe pipe, int *transport, xz_principal **who,
    char *why, size_t whylen)
{
	const xz_link_auth *a = l->cfg.auth;
	char                how[64];
	int64_t             uid = -1, gid = -1;
	uint64_t            u;

	*transport = pipe_transport(l, pipe);
	if (a == NULL)
		return;
	switch (*transport) {
	case T_INPROC:
		if (a->admin != NULL)
			*who = xz_principal_with_auth(a->admin, "inproc", 0);
		return;
	case T_IPC:
		if (nng_pipe_get_uint64(pipe, NNG_OPT_IPC_PEER_UID, &u) != 0) {
			snprintf(why, whylen,
			    "the peer's credentials of this ipc connection "
			    "cannot be read");
			return;
		}
		uid = (int64_t) u;
		if (nng_pipe_get_uint64(pipe, NNG_OPT_IPC_PEER_GID, &u) == 0)
			gid = (int64_t) u;
		snprintf(
		    how, sizeof(how), "peercred uid=%lld", (long long) uid);
		if (a->ids_lock != NULL)
			pthread_rwlock_rdlock(a->ids_lock);
		for (int pass = 0; pass < 2; pass++)
			for (size_t i = 0; i < a->nids; i++) {
				const xz_link_id *m = &a->ids[i];
				if ((pass == 0 && m->kind == XZ_LINK_ID_UID
				        && m->id == uid)
				    || (pass == 1 && m->kind == XZ_LINK_ID_GID
				        && m->id == gid)) {
					if (pass == 1)
						snprintf(how, sizeof(how),
						    "peercred uid=%lld "
						    "gid=%lld",
						    (long long) uid,
						    (long long) gid);
					*who = xz_principal_with_auth(
					    m->who, how, 0);
					if (a->ids_lock != NULL)
						pthread_rwlock_unlock(
						    a->ids_lock);
					return;
				}
			}
		if (a->ids_lock != NULL)
			pthread_rwlock_unlock(a->ids_lock);
		if ((uid == 0 || (uid_t) uid == geteuid())
		    && a->admin != NULL) {
			*who = xz_principal_with_auth(a->admin, how, 0);
			return;
		}
		snprintf(why, whylen,
		    "uid %lld (gid %lld) is not in auth.local and sent no "
		    "session token: log in first",
		    (long long) uid, (long long) gid);
		return;
	case T_TLS:
		snprintf(why, whylen,
		    "the TLS handshake does not tell the node which "
		    "certificate was used: prove it in the HELLO (v2, the "
		    "client library does it given a certificate and key) or "
		    "send a session token");
		return;
	default:
		snprintf(why, whylen,
		    "this door proves no identity: send a session token");
		return;
	}
}

/* Credentials read when a pipe is added (its peer may be created only
 * after the pipe is gone: a client that sent and closed at once). */
struct pipe_cred {
	uint32_t          pipe;
	int               transport;
	xz_principal     *who; /* one reference, or NULL */
	char              why[200];
	uint64_t          gone_us; /* 0 while the pipe lives */
	struct pipe_cred *next;
};

static void
on_pipe_added(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	xz_link          *l = arg;
	struct pipe_cred *c = calloc(1, sizeof(*c));

	(void) ev;
	if (c == NULL)
		return; /* the peer is then refused: unauthenticated */
	c->pipe = (uint32_t) nng_pipe_id(pipe);
	pipe_auth(l, pipe, &c->transport, &c->who, c->why, sizeof(c->why));
	pthread_mutex_lock(&l->mu);
	c->next  = l->creds;
	l->creds = c;
	pthread_mutex_unlock(&l->mu);
}

/* Take the credentials of pipe into peer (l->mu held). */
static void
peer_take_cred(xz_link *l, struct xz_peer *peer)
{
	uint32_t id = (uint32_t) nng_pipe_id(peer->pipe);

	for (struct pipe_cred **pp = &l->creds; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->pipe == id) {
			struct pipe_cred *c = *pp;
			*pp                 = c->next;
			peer->transport     = c->transport;
			peer->who           = c->who;
			memcpy(peer->why, c->why, sizeof(peer->why));
			free(c);
			return;
		}
	/* Not recorded (no memory then): ask now, while the pipe lives. */
	pipe_auth(l, peer->pipe, &peer->transport, &peer->who, peer->why,
	    sizeof(peer->why));
}

/* Drop credentials of pipes gone for over 5 s that never sent anything
 * (l->mu held); all of them with all. */
static void
creds_reap(xz_link *l, bool all)
{
	uint64_t now = xz_mono_us();

	for (struct pipe_cred **pp = &l->creds; *pp != NULL;) {
		struct pipe_cred *c = *pp;
		if (all || (c->gone_us != 0 && now - c->gone_us > 5000000u)) {
			*pp = c->next;
			xz_principal_unref(c->who);
			free(c);
		} else
			pp = &c->next;
	}
}

/* The peer of pipe; created if create (else NULL when unknown). */
static struct xz_peer *
peer_get(xz_link *l, nng_pipe pipe, bool create)
{
	struct xz_peer *peer;

	pthread_mutex_lock(&l->mu);
	for (peer = l->peers; peer != NULL; peer = peer->next)
		if (nng_pipe_id(peer->pipe) == nng_pipe_id(pipe))
			break;
	if (peer != NULL || !create
	    || (peer = calloc(1, sizeof(*peer))) == NULL) {
		pthread_mutex_unlock(&l->mu);
		return peer;
	}
	atomic_init(&peer->refs, 1); /* the list's reference */
	peer->l          = l;
	peer->pipe       = pipe;
	peer->target.ops = &peer_ops;
	peer->in_credit  = XZ_LINK_CREDIT_INITIAL;
	peer->cap        = l->cfg.queue_capacity;
	snprintf(peer->name, sizeof(peer->name), "link-%u",
	    (unsigned) nng_pipe_id(pipe));
	xz_mutex_init_hot(&peer->mu);
	xz_cond_init_mono(&peer->tx_cv);
	xz_cond_init_mono(&peer->rx_cv);
	xz_cond_init_mono(&peer->room_cv);
	peer->q   = calloc(2 * (size_t) peer->cap, sizeof(*peer->q));
	peer->inq = calloc(LINK_INQ, sizeof(*peer->inq));
	if (peer->q == NULL || peer->inq == NULL
	    || pthread_create(&peer->tx, NULL, tx_main, peer) != 0) {
		pthread_mutex_unlock(&l->mu);
		peer_unref(&peer->target);
		return NULL;
	}
	peer->tx_started = true;
	/* A batch can arrive after its pipe was removed (the client's last
	 * credit, sent as it closes): route it, but as a peer already dead,
	 * which is reaped once its worker drained it. nng finds no address
	 * for a pipe that is gone. */
	nng_sockaddr sa;
	if (nng_pipe_get_addr(pipe, NNG_OPT_REMADDR, &sa) == NNG_ENOENT
	    || nng_pipe_get_addr(pipe, NNG_OPT_LOCADDR, &sa) == NNG_ENOENT)
		peer->dead = true;
	if (l->cfg.auth != NULL)
		peer_take_cred(l, peer);
	else
		peer->transport = pipe_transport(l, pipe);
	peer_set_who(l, peer, peer->who);
	if (pthread_create(&peer->rxw, NULL, rxw_main, peer) != 0) {
		pthread_mutex_unlock(&l->mu);
		peer_kill(peer);
		pthread_join(peer->tx, NULL);
		peer_unref(&peer->target);
		return NULL;
	}
	peer->rxw_started = true;
	peer->next        = l->peers;
	l->peers          = peer;
	l->npeers++;
	pthread_mutex_unlock(&l->mu);
	return peer;
}

static void
peer_kill(struct xz_peer *peer)
{
	pthread_mutex_lock(&peer->mu);
	peer->dead = true;
	pthread_cond_broadcast(&peer->tx_cv);
	pthread_cond_broadcast(&peer->rx_cv);
	pthread_cond_broadcast(&peer->room_cv);
	pthread_mutex_unlock(&peer->mu);
}

/* Join and free dead peers (rx thread, or stop). */
static void
reap(xz_link *l, bool all)
{
	struct xz_peer *dead = NULL;

	uint64_t now = xz_mono_us();
	nng_pipe shut[16];
	size_t   nshut = 0;
	pthread_mutex_lock(&l->mu);
	/* Refused peers whose error had time to reach them (closed after the
	 * lock is released; the rest next time). */
	for (struct xz_peer *p = l->peers; p != NULL && nshut < 16;
	     p                 = p->next) {
		uint64_t at = atomic_load(&p->close_at_us);
		if (at != 0 && now >= at) {
			atomic_store(&p->close_at_us, 0);
			shut[nshut++] = p->pipe;
		}
	}
	for (struct xz_peer **pp = &l->peers; *pp != NULL;) {
		struct xz_peer *p = *pp;
		/* A dead peer's worker may still be routing what it sent
		 * (and waiting on backpressure): reap it once it is done. */
		if (all
		    || (p->dead
		        && (!p->rxw_started || atomic_load(&p->rxw_done)))) {
			*pp     = p->next;
			p->next = dead;
			dead    = p;
			l->npeers--;
		} else {
			pp = &p->next;
		}
	}
	pthread_mutex_unlock(&l->mu);
	for (size_t i = 0; i < nshut; i++)
		nng_pipe_close(shut[i]);
	while (dead != NULL) {
		struct xz_peer *p = dead;
		dead              = p->next;
		peer_kill(p);
		if (p->tx_started)
			pthread_join(p->tx, NULL);
		if (p->rxw_started)
			pthread_join(p->rxw, NULL);
		xz_bus_unsubscribe_all(l->bus, NULL, &p->target);
		peer_unref(&p->target);
	}
}

static void
on_pipe_removed(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	xz_link *l = arg;
	(void) ev;
	pthread_mutex_lock(&l->mu);
	for (struct xz_peer *p = l->peers; p != NULL; p = p->next)
		if (nng_pipe_id(p->pipe) == nng_pipe_id(pipe)) {
			peer_kill(p);
			break;
		}
	for (struct pipe_cred *c = l->creds; c != NULL; c = c->next)
		if (c->pipe == (uint32_t) nng_pipe_id(pipe))
			c->gone_us = xz_mono_us();
	creds_reap(l, false);
	pthread_mutex_unlock(&l->mu);
	atomic_store(&l->reap_wanted, true);
}

/* Send one envelope to a peer right away (error replies from the link). */
static void
peer_reply_error(xz_link *l, struct xz_peer *peer, const uint8_t corr[16],
    const char *topic, size_t topic_len, const char *code, const char *text)
{
	size_t   n;
	char    *e = xz_error_json(code, text, &n);
	xz_kmsg *m = e ? xz_bus_msg(l->bus, XZ_KIND_REPLY, topic, topic_len,
	                 l->cfg.node_name, e, n)
	               : NULL;
	free(e);
	if (m == NULL)
		return;
	memcpy(m->pub.corr, corr, 16);
	m->pub.flags = XZ_MSG_ERROR;
	peer_deliver(&peer->target, m, false, xz_mono_us() + 1000000u);
	xz_kmsg_unref(m);
}

/* A peer that breaks the link protocol is disconnected: logged with the
 * reason, counted; what it sent before is kept. */
static void
peer_violation(xz_link *l, struct xz_peer *peer, const char *why)
{
	atomic_fetch_add(&l->violations, 1);
	xz_log(XZ_LOG_WARN, "link", "%s disconnected: %s", peer->name, why);
	nng_pipe_close(peer->pipe);
}

/* Whether peer may act now: it has a principal, not expired. */
static bool
peer_authorized(xz_link *l, struct xz_peer *peer)
{
	const xz_link_auth *a = l->cfg.auth;

	if (peer->who == NULL)
		return false;
	if (peer->who->expires_ms != 0 && a->now_ms != NULL
	    && a->now_ms(a->now_ud) >= peer->who->expires_ms) {
		snprintf(peer->why, sizeof(peer->why),
		    "the session of '%s' expired: log in again",
		    peer->who->pub.user);
		return false;
	}
	return true;
}

/* Refuse the connection: an "unauthenticated" error for what it sent
 * (with the reason), counted and logged, then closed 2 s later unless the
 * client closed first. Nothing it sends afterwards is routed; its
 * requests get the same error. */
static void
peer_unauthenticated(
    xz_link *l, struct xz_peer *peer, const xz_env *e, const char *topic)
{
	char text[300];

	peer->refused = true;
	atomic_fetch_add(&l->unauthenticated, 1);
	xz_log(XZ_LOG_WARN, "link", "%s refused: unauthenticated: %s",
	    peer->name, peer->why[0] ? peer->why : "no credential");
	snprintf(text, sizeof(text), "unauthenticated: %s",
	    peer->why[0] ? peer->why : "no credential");
	peer_reply_error(l, peer, e->id, topic, strlen(topic),
	    XZ_REPLY_UNAUTHENTICATED, text);
	/* Our clients close on the refusal (above); the node's own close is
	 * for those that do not. */
	atomic_store(&peer->close_at_us, xz_mono_us() + 2000000u);
	atomic_store(&l->reap_wanted, true);
}

/* Refuse what peer's principal may not do (what: "publish",
 * "subscribe"): counted, logged, published on audit.sys.denied, and the
 * peer gets a `forbidden` error naming the topic and the permission. */
static void
peer_denied(xz_link *l, struct xz_peer *peer, const xz_env *e,
    const char *topic, const char *what)
{
	const xz_caller *c          = &peer->who->pub;
	char             roles[160] = "", text[500];
	size_t           off        = 0;

	for (size_t i = 0; c->roles[i] != NULL && off < sizeof(roles); i++)
		off += (size_t) snprintf(roles + off, sizeof(roles) - off,
		    "%s%s", i ? ", " : "", c->roles[i]);
	atomic_fetch_add(&l->denied, 1);
	snprintf(text, sizeof(text), /* util/msg.h: the node's language */
	    xz_text("forbidden: '%s' (roles: %s) has no %s permission for "
	            "'%s'"),
	    c->user, roles[0] ? roles : xz_text("none"), xz_text(what), topic);
	xz_log(XZ_LOG_WARN, "link", "%s: %s", peer->name, text);
	/* A refused pattern may hold wildcards, which no reply's topic
	 * may: the error of a SUB says xz.sub (corr: the SUB's id). */
	const char *rt
	    = xz_topic_valid(topic, strlen(topic)) ? topic : "xz.sub";
	peer_reply_error(
	    l, peer, e->id, rt, strlen(rt), XZ_REPLY_FORBIDDEN, text);
	json_t *o = json_pack(
	    "{s:s,s:s?,s:s?,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "who", c->user,
	    "role", c->roles[0], "agency", c->agency[0] ? c->agency : NULL,
	    "action", "REFUSE", "subject_type", "topic", "subject_id", topic,
	    "purpose", what, "outcome", "forbidden", "service", "kernel",
	    "auth", c->auth, "time",
	    (json_int_t) (l->cfg.auth->now_ms
	            ? l->cfg.auth->now_ms(l->cfg.auth->now_ud)
	            : 0));
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (s != NULL)
		xz_bus_publish(l->bus, l->cfg.node_name, "audit.sys.denied",
		    16, s, strlen(s), XZ_CT_JSON, NULL);
	free(s);
	json_decref(o);
}

/* The subscriptions of remote peers, gathered from the bus (patterns
 * copied: owned). */
struct sub_list {
	struct {
		const xz_target *peer;
		char            *pattern;
	} * v;
	size_t n, cap;
	bool   oom;
};

static void
sub_collect(void *ud, const char *pattern, const xz_actor *owner,
    const xz_target *peer)
{
	struct sub_list *sl = ud;

	if (owner != NULL || peer == NULL || sl->oom)
		return;
	if (sl->n == sl->cap) {
		size_t cap = sl->cap ? 2 * sl->cap : 32;
		void  *v   = realloc(sl->v, cap * sizeof(*sl->v));
		if (v == NULL) {
			sl->oom = true;
			return;
		}
		sl->v   = v;
		sl->cap = cap;
	}
	if ((sl->v[sl->n].pattern = strdup(pattern)) == NULL) {
		sl->oom = true;
		return;
	}
	sl->v[sl->n++].peer = peer;
}

size_t
xz_link_authz_changed(xz_link *l)
{
	struct sub_list sl      = { 0 };
	size_t          dropped = 0;

	if (l == NULL || l->cfg.auth == NULL || l->cfg.auth->authz == NULL)
		return 0;
	const xz_authz *az = l->cfg.auth->authz;
	xz_bus_each_sub(l->bus, sub_collect, &sl);
	for (size_t i = 0; i < sl.n; i++) {
		struct xz_peer *peer = NULL;
		xz_principal   *who  = NULL;
		bool            keep = true;
		/* A live peer of this link holding it (its principal read
		 * under its lock). */
		pthread_mutex_lock(&l->mu);
		for (struct xz_peer *p = l->peers; p != NULL; p = p->next)
			if (&p->target == sl.v[i].peer && !p->dead) {
				peer = p;
				peer_ref(&p->target);
				break;
			}
		pthread_mutex_unlock(&l->mu);
		if (peer == NULL) {
			free(sl.v[i].pattern);
			continue;
		}
		pthread_mutex_lock(&peer->mu);
		peer->unrestricted = xz_authz_unrestricted(az, peer->who);
		if (!peer->unrestricted && peer->who != NULL)
			who = xz_principal_ref(peer->who);
		pthread_mutex_unlock(&peer->mu);
		if (who != NULL)
			keep
			    = xz_authz_may_subscribe(az, who, sl.v[i].pattern);
		if (!keep) {
			xz_env e = { 0 };
			xz_bus_unsubscribe_pattern(
			    l->bus, &peer->target, sl.v[i].pattern);
			dropped++;
			xz_log(XZ_LOG_WARN, "link",
			    "%s: subscription '%s' of '%s' dropped: the "
			    "reloaded permissions forbid it",
			    peer->name, sl.v[i].pattern, who->pub.user);
			/* an error to the peer, a count and audit.sys.denied
			 */
			peer_denied(l, peer, &e, sl.v[i].pattern, "subscribe");
		}
		xz_principal_unref(who);
		peer_unref(&peer->target);
		free(sl.v[i].pattern);
	}
	free(sl.v);
	if (sl.oom)
		xz_log(XZ_LOG_ERROR, "link",
		    "permissions reloaded, but out of memory listing the "
		    "subscriptions: some were not checked");
	return dropped;
}

/* A HELLO's session token: through the verifier, it names who acts on
 * this connection from now on; a token that does not verify refuses the
 * connection. */
static void
peer_auth_token(
    xz_link *l, struct xz_peer *peer, const xz_env *e, const char *token)
{
	const xz_link_auth *a = l->cfg.auth;
	xz_token_verify_fn  fn
	    = a->verifier ? atomic_load(&a->verifier->fn) : NULL;
	const char   *why = NULL;
	xz_principal *who = NULL;

	if (token == NULL)
		why = "the HELLO's token must be a string";
	else if (fn == NULL)
		why = "this node accepts no session tokens (no identity "
		      "store)";
	else if ((who = fn(a->verifier->ud, token, &why)) == NULL
	    && why == NULL)
		why = "the session token is invalid";
	pthread_mutex_lock(&peer->mu);
	xz_principal *old = peer->who;
	peer_set_who(l, peer, who);
	if (who == NULL)
		snprintf(peer->why, sizeof(peer->why), "%s", why);
	pthread_mutex_unlock(&peer->mu);
	xz_principal_unref(old);
	if (who == NULL)
		peer_unauthenticated(l, peer, e, "xz.hello");
}

/* A login-style audit record of the link (audit.sys.login): who (a CN,
 * or what the connection is called), outcome "ok" or "unauthenticated",
 * reason, auth (how: "cert sha256:.."). */
static void
link_audit_login(xz_link *l, const struct xz_peer *peer, const char *who,
    const xz_principal *p, const char *outcome, const char *reason,
    const char *auth)
{
	const xz_link_auth *a = l->cfg.auth;
	json_t             *o = json_pack(
	                "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "who",
            p ? p->pub.user : who, "role",
            p && p->pub.roles[0] ? p->pub.roles[0] : "", "agency",
            p ? p->pub.agency : "", "action", "LOGIN", "subject_type",
	                "connection", "subject_id", peer->name, "purpose",
	                "authentication", "service", "kernel", "outcome", outcome,
	                "method", "certificate", "reason", reason ? reason : "", "auth",
            auth ? auth : "", "time",
	                (json_int_t) (a->now_ms ? a->now_ms(a->now_ud) : 0));
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (s != NULL)
		xz_bus_publish(l->bus, l->cfg.node_name, "audit.sys.login", 15,
		    s, strlen(s), XZ_CT_JSON, NULL);
	free(s);
	json_decref(o);
}

/* xz.hello.challenge (certproof.h): a fresh nonce for this connection's
 * certificate-bound HELLO, answered by the link itself (never routed),
 * before the connection has a principal. Only a door that checks client
 * certificates against a CA gives one. */
static void
peer_challenge(xz_link *l, struct xz_peer *peer, const xz_env *e)
{
	const struct door_kind *dk = pipe_door(l, peer->pipe);
	char                    text[200];

	if (l->cfg.auth == NULL || dk == NULL || dk->transport != T_TLS
	    || dk->ca == NULL) {
		snprintf(text, sizeof(text),
		    "unauthenticated: this door checks no client "
		    "certificates (a tls+tcp:// listener with tls.ca does)");
		peer_reply_error(l, peer, e->id, XZ_CERTPROOF_TOPIC,
		    strlen(XZ_CERTPROOF_TOPIC), XZ_REPLY_UNAUTHENTICATED,
		    text);
		return;
	}
	if (xz_certproof_nonce(peer->nonce) != 0) {
		peer->nonce[0] = '\0';
		peer_reply_error(l, peer, e->id, XZ_CERTPROOF_TOPIC,
		    strlen(XZ_CERTPROOF_TOPIC), "internal",
		    "no randomness for a nonce");
		return;
	}
	snprintf(text, sizeof(text), "{\"v\":%d,\"nonce\":\"%s\"}",
	    XZ_CERTPROOF_VERSION, peer->nonce);
	xz_kmsg *m = xz_bus_msg(l->bus, XZ_KIND_REPLY, XZ_CERTPROOF_TOPIC,
	    strlen(XZ_CERTPROOF_TOPIC), l->cfg.node_name, text, strlen(text));
	if (m == NULL)
		return;
	memcpy(m->pub.corr, e->id, 16);
	m->pub.content_type = XZ_CT_JSON;
	peer_deliver(&peer->target, m, false, xz_mono_us() + 1000000u);
	xz_kmsg_unref(m);
}

/* A HELLO that proves a certificate (v2, certproof.h): checked against
 * the door's CA and CRL and this connection's nonce; its CN, through
 * auth.certs, names who acts on this connection from now on. Anything
 * wrong refuses the connection (unauthenticated, the reason, an
 * audit.sys.login record, the counter). */
static void
peer_auth_cert(xz_link *l, struct xz_peer *peer, const xz_env *e, json_t *o)
{
	const xz_link_auth     *a  = l->cfg.auth;
	const struct door_kind *dk = pipe_door(l, peer->pipe);
	const char     *cert  = json_string_value(json_object_get(o, "cert"));
	const char     *nonce = json_string_value(json_object_get(o, "nonce"));
	const char     *sig   = json_string_value(json_object_get(o, "sig"));
	json_t         *v     = json_object_get(o, "v");
	char            why[300] = "", auth[80] = "";
	xz_certproof_id id;
	xz_principal   *who = NULL;

	memset(&id, 0, sizeof(id));
	if (dk == NULL || dk->transport != T_TLS || dk->ca == NULL)
		snprintf(why, sizeof(why),
		    "a certificate is proven only on a tls+tcp:// door with "
		    "tls.ca");
	else if (!json_is_integer(v)
	    || json_integer_value(v) != XZ_CERTPROOF_VERSION)
		snprintf(why, sizeof(why),
		    "the certificate HELLO must say \"v\":%d",
		    XZ_CERTPROOF_VERSION);
	else if (peer->nonce[0] == '\0')
		snprintf(why, sizeof(why),
		    "no nonce was asked for on this connection (%s first)",
		    XZ_CERTPROOF_TOPIC);
	else if (nonce == NULL || strcmp(nonce, peer->nonce) != 0)
		snprintf(why, sizeof(why),
		    "the HELLO's nonce is not the one this node gave this "
		    "connection (a replayed HELLO?)");
	else if (xz_certproof_verify(
	             dk->ca, dk->crl, cert, nonce, sig, &id, why, sizeof(why))
	    == 0) {
		snprintf(auth, sizeof(auth), "cert sha256:%s", id.sha256);
		if (a->ids_lock != NULL)
			pthread_rwlock_rdlock(a->ids_lock);
		for (size_t i = 0; i < a->nids; i++)
			if (a->ids[i].kind == XZ_LINK_ID_CN
			    && a->ids[i].cn != NULL
			    && strcmp(a->ids[i].cn, id.cn) == 0) {
				who = xz_principal_with_auth(
				    a->ids[i].who, auth, 0);
				break;
			}
		if (a->ids_lock != NULL)
			pthread_rwlock_unlock(a->ids_lock);
		if (who == NULL)
			snprintf(why, sizeof(why),
			    "certificate '%s' (sha256:%.16s..) is valid but "
			    "names no principal of this node (no auth.certs "
			    "entry for cn '%s')",
			    id.cn, id.sha256, id.cn);
	}
	/* A nonce serves one HELLO. */
	peer->nonce[0] = '\0';
	if (auth[0] == '\0' && id.sha256[0] != '\0')
		snprintf(auth, sizeof(auth), "cert sha256:%s", id.sha256);
	char *kc = who ? strdup(cert) : NULL, *kn = who ? strdup(nonce) : NULL,
	     *ks = who ? strdup(sig) : NULL;
	pthread_mutex_lock(&peer->mu);
	xz_principal *old = peer->who;
	peer_set_who(l, peer, who);
	if (who == NULL)
		snprintf(peer->why, sizeof(peer->why), "%s", why);
	/* Kept for the recheck (none kept, no memory: it is not rechecked,
	 * as before). */
	free(peer->cert);
	free(peer->cert_nonce);
	free(peer->cert_sig);
	peer->cert = peer->cert_nonce = peer->cert_sig = NULL;
	if (kc != NULL && kn != NULL && ks != NULL) {
		peer->cert       = kc;
		peer->cert_nonce = kn;
		peer->cert_sig   = ks;
		kc = kn = ks = NULL;
		snprintf(peer->cert_cn, sizeof(peer->cert_cn), "%s", id.cn);
	}
	pthread_mutex_unlock(&peer->mu);
	free(kc);
	free(kn);
	free(ks);
	xz_principal_unref(old);
	if (who == NULL) {
		link_audit_login(l, peer, id.cn[0] ? id.cn : peer->name, NULL,
		    "unauthenticated", why, auth);
		peer_unauthenticated(l, peer, e, "xz.hello");
		return;
	}
	xz_log(XZ_LOG_INFO, "link", "%s is %s (%s)", peer->name, who->pub.user,
	    auth);
	link_audit_login(l, peer, id.cn, who, "ok", "", auth);
	/* The client waits for this verdict (a refusal is the error reply
	 * of peer_unauthenticated). */
	json_t  *ok  = json_pack("{s:i,s:s,s:s}", "v", XZ_CERTPROOF_VERSION,
	      "user", who->pub.user, "auth", auth);
	char    *txt = ok ? json_dumps(ok, JSON_COMPACT) : NULL;
	xz_kmsg *m   = txt ? xz_bus_msg(l->bus, XZ_KIND_REPLY, "xz.hello", 8,
	                   l->cfg.node_name, txt, strlen(txt))
	                   : NULL;
	if (m != NULL) {
		memcpy(m->pub.corr, e->id, 16);
		m->pub.content_type = XZ_CT_JSON;
		peer_deliver(&peer->target, m, false, xz_mono_us() + 1000000u);
		xz_kmsg_unref(m);
	}
	free(txt);
	json_decref(ok);
}

static void
handle_env(xz_link *l, struct xz_peer *peer, const xz_env *e)
{
	char topic[XZ_TOPIC_MAX + 1];
	char text[400];
	int  rc;

	memcpy(topic, e->topic, e->topic_len);
	topic[e->topic_len] = '\0';
	if (peer->refused) {
		/* Its requests get the refusal too: a client waiting on one
		 * (a flush's ping) learns it now and closes first. The node
		 * closing a client's connection makes nng 1.5.2's dialer
		 * dial again at once, which door_watch must then clean up
		 * after when the client leaves mid-handshake. */
		if (e->kind == XZ_KIND_REQUEST) {
			snprintf(text, sizeof(text), "unauthenticated: %s",
			    peer->why[0] ? peer->why : "no credential");
			peer_reply_error(l, peer, e->id, topic, strlen(topic),
			    XZ_REPLY_UNAUTHENTICATED, text);
		}
		return;
	}
	if (e->kind == XZ_KIND_REQUEST
	    && strcmp(topic, XZ_CERTPROOF_TOPIC) == 0) {
		peer_challenge(l, peer, e);
		return;
	}
	/* A connection that proves nobody may still ask to log in: that is
	 * how a person on a door without credentials gets a token (then
	 * presented in the HELLO of the next connection). */
	if (e->kind != XZ_KIND_HELLO && e->kind != XZ_KIND_CREDIT
	    && l->cfg.auth != NULL && !peer_authorized(l, peer)
	    && !(e->kind == XZ_KIND_REQUEST
	        && strcmp(topic, "xz.sys.auth.login") == 0)) {
		peer_unauthenticated(l, peer, e, topic);
		return;
	}
	if ((e->kind == XZ_KIND_EVENT || e->kind == XZ_KIND_REQUEST)
	    && !peer->unrestricted
	    && !xz_authz_cached(&peer->pub_cache, XZ_AUTHZ_PUBLISH, topic)) {
		peer_denied(l, peer, e, topic, "publish");
		return;
	}
	if (e->kind == XZ_KIND_SUB && !peer->unrestricted
	    && !xz_authz_may_subscribe(l->cfg.auth->authz, peer->who, topic)) {
		peer_denied(l, peer, e, topic, "subscribe");
		return;
	}
	switch (e->kind) {
	case XZ_KIND_EVENT:
		rc = xz_bus_publish(l->bus, peer->name, topic, e->topic_len,
		    e->payload, e->payload_len, e->content_type, peer->who);
		if (rc != XZ_OK) {
			snprintf(text, sizeof(text), "publish to '%s': %s",
			    topic, xz_strerror(rc));
			peer_reply_error(l, peer, e->id, topic, e->topic_len,
			    xz_err_code(rc), text);
		}
		break;
	case XZ_KIND_REQUEST: {
		/* The peer's deadline is in real time: compare it with the
		 * kernel clock minus what xz.sys.clock.advance added. */
		uint64_t now = xz_clock_real_us(l->clk);
		uint32_t tmo = 0;
		if (e->deadline_us > now)
			tmo = (uint32_t) ((e->deadline_us - now) / 1000u);
		else if (e->deadline_us != 0)
			tmo = 1;
		rc = xz_bus_request(l->bus, NULL, &peer->target, e->id,
		    peer->name, topic, e->topic_len, e->payload,
		    e->payload_len, tmo, NULL, NULL, peer->who);
		if (rc != XZ_OK) {
			if (rc == XZ_ENORESPONDERS)
				snprintf(text, sizeof(text),
				    "no subscriber for '%s'", topic);
			else
				snprintf(text, sizeof(text),
				    "request to '%s': %s", topic,
				    xz_strerror(rc));
			peer_reply_error(l, peer, e->id, topic, e->topic_len,
			    xz_err_code(rc), text);
		}
		break;
	}
	case XZ_KIND_REPLY:
		xz_bus_complete(l->bus, e->corr, xz_id_key(e->corr),
		    peer->name, e->payload, e->payload_len, e->flags,
		    peer->who);
		break;
	case XZ_KIND_SUB: {
		char group[65] = "";
		if (e->payload_len < sizeof(group)) {
			memcpy(group, e->payload, e->payload_len);
			group[e->payload_len] = '\0';
		}
		xz_bus_subscribe(l->bus, NULL, &peer->target, topic,
		    group[0] ? group : NULL, NULL, NULL, NULL);
		break;
	}
	case XZ_KIND_UNSUB:
		xz_bus_unsubscribe_pattern(l->bus, &peer->target, topic);
		break;
	case XZ_KIND_CREDIT: {
		uint32_t n = 1;
		if (e->payload_len == 4)
			n = (uint32_t) e->payload[0]
			    | (uint32_t) e->payload[1] << 8
			    | (uint32_t) e->payload[2] << 16
			    | (uint32_t) e->payload[3] << 24;
		/* A peer whose pipe is gone may still acknowledge what it
		 * took before it closed: not a violation. */
		pthread_mutex_lock(&peer->mu);
		bool owed = n <= (uint32_t) peer->outstanding || peer->dead;
		peer->outstanding = n <= (uint32_t) peer->outstanding
		    ? peer->outstanding - (int) n
		    : 0;
		pthread_cond_signal(&peer->tx_cv);
		pthread_mutex_unlock(&peer->mu);
		if (!owed)
			peer_violation(
			    l, peer, "acknowledged batches never sent");
		break;
	}
	case XZ_KIND_HELLO: {
		json_error_t je;
		json_t      *o = json_loadb(
		         (const char *) e->payload, e->payload_len, 0, &je);
		json_t *nm = o ? json_object_get(o, "name") : NULL;
		json_t *tk = o ? json_object_get(o, "token") : NULL;
		if (json_is_string(nm)) {
			pthread_mutex_lock(&peer->mu);
			snprintf(peer->name, sizeof(peer->name), "%s",
			    json_string_value(nm));
			for (char *p = peer->name; *p; p++)
				if (*p < 0x21 || *p > 0x7e)
					*p = '_';
			pthread_mutex_unlock(&peer->mu);
		}
		/* A token wins over a certificate. */
		if (tk != NULL && l->cfg.auth != NULL)
			peer_auth_token(l, peer, e,
			    json_is_string(tk) ? json_string_value(tk) : NULL);
		else if (json_object_get(o, "cert") != NULL
		    && l->cfg.auth != NULL)
			peer_auth_cert(l, peer, e, o);
		json_decref(o);
		break;
	}
	default:
		break;
	}
}

static void
reject(xz_link *l, const char *why, uint32_t pipe)
{
	uint64_t now = xz_mono_us();
	atomic_fetch_add(&l->rejected, 1);
	/* At most one log line per second: garbage must not flood logs. */
	if (now - l->last_reject_log_us > 1000000u) {
		l->last_reject_log_us = now;
		xz_log(XZ_LOG_WARN, "link",
		    "rejected a message from pipe %u: %s", pipe, why);
	}
}

/* Decode a whole batch once: NULL (counted and logged) when any record
 * is malformed, oversized or of a kind a peer may not send, or when the
 * batch is truncated or empty. Takes msg in every case. */
static struct inbatch *
decode_batch(xz_link *l, nng_msg *msg)
{
	const uint8_t  *buf = nng_msg_body(msg), *rec;
	size_t          len = nng_msg_len(msg), off = 0, rlen, n = 0;
	unsigned        pipe = (unsigned) nng_pipe_id(nng_msg_get_pipe(msg));
	struct inbatch *b;
	int             r;

	/* Count the records (lengths only), then decode each once. */
	while ((r = xz_batch_next(buf, len, &off, &rec, &rlen)) == 1)
		n++;
	if (r < 0 || n == 0) {
		reject(l, "truncated batch", pipe);
		nng_msg_free(msg);
		return NULL;
	}
	if ((b = malloc(sizeof(*b) + n * sizeof(b->env[0]))) == NULL) {
		reject(l, "out of memory", pipe);
		nng_msg_free(msg);
		return NULL;
	}
	b->msg = msg;
	b->n   = 0;
	off    = 0;
	while (xz_batch_next(buf, len, &off, &rec, &rlen) == 1) {
		xz_env *e  = &b->env[b->n];
		int     rc = xz_env_decode(rec, rlen, l->cfg.max_payload, e);
		if (rc != XZ_OK || e->kind == XZ_KIND_ACK) {
			reject(l,
			    rc == XZ_ETOOBIG  ? "payload over max_payload"
			        : rc != XZ_OK ? "malformed envelope"
			                      : "unexpected envelope kind",
			    pipe);
			inbatch_free(b);
			return NULL;
		}
		b->n++;
	}
	return b;
}

/* A batch is taken whole or not at all. The receiver takes the CREDITs
 * itself and hands the batch to the peer's worker if anything else is in
 * it. Takes msg. */
static void
handle_batch(xz_link *l, nng_msg *msg)
{
	nng_pipe        pipe = nng_msg_get_pipe(msg);
	struct inbatch *b    = decode_batch(l, msg);
	struct xz_peer *peer;
	size_t          other = 0;

	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++)
		other += b->env[i].kind != XZ_KIND_CREDIT;
	/* Credits from a peer already reaped (its last acknowledgements,
	 * sent as it closed) concern nothing any more: no peer is made for
	 * them. */
	if ((peer = peer_get(l, pipe, other > 0)) == NULL) {
		inbatch_free(b);
		return;
	}
	for (size_t i = 0; i < b->n; i++)
		if (b->env[i].kind == XZ_KIND_CREDIT)
			handle_env(l, peer, &b->env[i]);
	if (other == 0) {
		inbatch_free(b);
		return;
	}
	/* Never waits: a peer sends a batch only with a credit, and the
	 * queue holds as many batches as it has credits. */
	pthread_mutex_lock(&peer->mu);
	if (peer->in_credit == 0 || peer->incount == LINK_INQ) {
		pthread_mutex_unlock(&peer->mu);
		inbatch_free(b);
		peer_violation(l, peer, "sent a batch without credit");
		return;
	}
	bool due = grant_due(peer);
	peer->in_credit--;
	peer->inq[(peer->inhead + peer->incount) % LINK_INQ] = b;
	if (peer->incount++ == 0)
		pthread_cond_signal(&peer->rx_cv);
	if (!due && grant_due(peer))
		pthread_cond_signal(&peer->tx_cv);
	pthread_mutex_unlock(&peer->mu);
}

/* The peer's worker: routes its batches in order; may wait on
 * backpressure without holding anyone else up. Drains what was queued
 * even after the peer went away (it was accepted), then exits. */
static void *
rxw_main(void *arg)
{
	struct xz_peer *peer = arg;
	xz_link        *l    = peer->l;

	for (;;) {
		pthread_mutex_lock(&peer->mu);
		while (peer->incount == 0 && !peer->dead)
			pthread_cond_wait(&peer->rx_cv, &peer->mu);
		if (peer->incount == 0) {
			pthread_mutex_unlock(&peer->mu);
			break;
		}
		struct inbatch *b = peer->inq[peer->inhead];
		peer->inhead      = (peer->inhead + 1) % LINK_INQ;
		peer->incount--;
		pthread_mutex_unlock(&peer->mu);

		for (size_t i = 0; i < b->n; i++)
			if (b->env[i].kind != XZ_KIND_CREDIT)
				handle_env(l, peer, &b->env[i]);
		inbatch_free(b);
		/* Routed: the peer may send one more. */
		pthread_mutex_lock(&peer->mu);
		bool due = grant_due(peer);
		peer->grant_owed++;
		if (!due && grant_due(peer))
			pthread_cond_signal(&peer->tx_cv);
		pthread_mutex_unlock(&peer->mu);
	}
	atomic_store(&peer->rxw_done, true);
	atomic_store(&l->reap_wanted, true);
	return NULL;
}

void
xz_link_file_sig(const char *path, char *out, size_t n)
{
	struct stat st;

	out[0] = '\0';
	if (path != NULL && stat(path, &st) == 0)
		snprintf(out, n, "%lld %lld.%09ld %llu",
		    (long long) st.st_size, (long long) st.st_mtim.tv_sec,
		    (long) st.st_mtim.tv_nsec, (unsigned long long) st.st_ino);
}

/* One connection whose certificate no longer passes: logged (the
 * reason), counted, audited (audit.sys.login, outcome "revoked"), told
 * on xz.link.revoked (the node links read it, nodelink.c), refused from
 * now on and closed. */
static void
peer_revoked(xz_link *l, struct xz_peer *peer, const char *cn, const char *sha,
    const char *why, const char *cause)
{
	char auth[80];

	snprintf(auth, sizeof(auth), "cert sha256:%s", sha);
	pthread_mutex_lock(&peer->mu);
	xz_principal *who = xz_principal_ref(peer->who);
	snprintf(peer->why, sizeof(peer->why),
	    "certificate '%s' no longer passes: %s", cn, why);
	peer->refused = true;
	pthread_mutex_unlock(&peer->mu);
	atomic_fetch_add(&l->revoked, 1);
	xz_log(XZ_LOG_WARN, "link",
	    "%s (%s, certificate '%s') disconnected on %s: its certificate "
	    "no longer passes: %s",
	    peer->name, who ? who->pub.user : "?", cn, xz_text(cause), why);
	link_audit_login(l, peer, cn, who, "revoked", why, auth);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "user",
	    who ? who->pub.user : "", "cn", cn, "sha256", sha, "why", why,
	    "peer", peer->name);
	char   *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (s != NULL)
		xz_bus_publish(l->bus, l->cfg.node_name, "xz.link.revoked", 15,
		    s, strlen(s), XZ_CT_JSON, NULL);
	free(s);
	json_decref(o);
	xz_principal_unref(who);
	nng_pipe_close(peer->pipe);
	atomic_store(&l->reap_wanted, true);
}

size_t
xz_link_certs_recheck(xz_link *l, const char *cause)
{
	struct xz_peer **v = NULL;
	size_t           n = 0, cap = 0, gone = 0;

	if (l == NULL)
		return 0;
	pthread_mutex_lock(&l->recheck_mu);
	pthread_mutex_lock(&l->mu);
	for (struct xz_peer *p = l->peers; p != NULL; p = p->next) {
		if (p->dead)
			continue;
		if (n == cap) {
			size_t           c2 = cap ? 2 * cap : 8;
			struct xz_peer **v2 = realloc(v, c2 * sizeof(*v2));
			if (v2 == NULL)
				break;
			v   = v2;
			cap = c2;
		}
		peer_ref(&p->target);
		v[n++] = p;
	}
	pthread_mutex_unlock(&l->mu);
	for (size_t i = 0; i < n; i++) {
		struct xz_peer         *p  = v[i];
		const struct door_kind *dk = pipe_door(l, p->pipe);
		char           *cert = NULL, *nonce = NULL, *sig = NULL;
		char            why[300] = "";
		xz_certproof_id id;

		memset(&id, 0, sizeof(id));
		pthread_mutex_lock(&p->mu);
		if (p->cert != NULL && !p->refused) {
			cert  = strdup(p->cert);
			nonce = strdup(p->cert_nonce);
			sig   = strdup(p->cert_sig);
		}
		pthread_mutex_unlock(&p->mu);
		/* No door: the connection is already gone (closed since the
		 * list was made); a door's CA never goes away. */
		if (cert != NULL && nonce != NULL && sig != NULL && dk != NULL
		    && dk->ca != NULL) {
			if (xz_certproof_verify(dk->ca, dk->crl, cert, nonce,
			        sig, &id, why, sizeof(why))
			    != 0) {
				peer_revoked(l, p,
				    id.cn[0] ? id.cn : p->cert_cn, id.sha256,
				    why, cause);
				gone++;
			}
		}
		free(cert);
		free(nonce);
		free(sig);
		peer_unref(&p->target);
	}
	free(v);
	pthread_mutex_unlock(&l->recheck_mu);
	if (n > 0)
		xz_log(XZ_LOG_INFO, "link",
		    "certificates of %zu connections checked again (%s): %zu "
		    "no longer pass",
		    n, xz_text(cause), gone);
	return gone;
}

/* The rx thread, once a second: a door's CA or CRL file changed (a
 * revocation written, the CA replaced) and stayed so for a second:
 * recheck. */
static void
certs_watch(xz_link *l)
{
	bool changed = false;

	for (size_t i = 0; i < l->ndoors; i++) {
		struct door_kind *dk = &l->doors[i];
		char              a[96], c[96];
		if (dk->ca == NULL)
			continue;
		xz_link_file_sig(dk->ca, a, sizeof(a));
		xz_link_file_sig(dk->crl, c, sizeof(c));
		bool steady = strcmp(a, dk->ca_seen) == 0
		    && strcmp(c, dk->crl_seen) == 0;
		memcpy(dk->ca_seen, a, sizeof(a));
		memcpy(dk->crl_seen, c, sizeof(c));
		if (steady
		    && (strcmp(a, dk->ca_sig) != 0
		        || strcmp(c, dk->crl_sig) != 0)) {
			changed = true;
			memcpy(dk->ca_sig, a, sizeof(a));
			memcpy(dk->crl_sig, c, sizeof(c));
		}
	}
	if (changed)
		xz_link_certs_recheck(l, "a change of the CA or CRL file");
}

static void door_watch(xz_link *l);

static void *
rx_main(void *arg)
{
	xz_link *l = arg;

	while (!atomic_load(&l->stop)) {
		nng_msg *msg;
		int      rc = nng_recvmsg(l->sock, &msg, 0);
		if (rc == NNG_ETIMEDOUT
		    || atomic_exchange(&l->reap_wanted, false))
			reap(l, false);
		if (xz_mono_us() >= l->next_watch_us) {
			l->next_watch_us = xz_mono_us() + 1000000u;
			certs_watch(l);
		}
		door_watch(l);
		if (rc == NNG_ETIMEDOUT)
			continue;
		if (rc != 0)
			break;
		handle_batch(l, msg);
	}
	return NULL;
}

/* mkdir -p the folder of an ipc socket path (0755: other users' CLIs
 * must reach the socket; the control socket itself is 0600). */
static int
ipc_folder(const xz_link *l, const char *path, xz_diag *d)
{
	char        dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t      n     = slash ? (size_t) (slash - path) : 0;

	if (n == 0 || n >= sizeof(dir))
		return 0;
	memcpy(dir, path, n);
	dir[n] = '\0';
	if (xz_mkdirs(dir, 0755) != 0) {
		xz_diag_add(d, l->cfg.config_file, 0,
		    "cannot create the socket folder %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* The whole of a small file (a PEM certificate or key), NUL-terminated.
 * Malloc'ed; the caller frees. NULL with errno set on failure. */
static char *
slurp(const char *path)
{
	FILE  *f = fopen(path, "r");
	char  *buf;
	long   len;
	size_t got;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0
	    || fseek(f, 0, SEEK_SET) != 0
	    || (buf = malloc((size_t) len + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	got      = fread(buf, 1, (size_t) len, f);
	buf[got] = '\0';
	fclose(f);
	return buf;
}

/* Give a tls+tcp listener the node's certificate and, with a CA, require
 * client certificates signed by it. Reports to d. */
static int
listener_tls(
    xz_link *l, nng_listener lst, const xz_link_listen *ls, xz_diag *d)
{
	nng_tls_config *tls;
	char           *cert = NULL, *key = NULL;
	const char     *what = "";
	int             rc;

	if ((rc = nng_tls_config_alloc(&tls, NNG_TLS_MODE_SERVER)) != 0) {
		what = "TLS";
		goto out;
	}
	if (ls->tls_cert == NULL || ls->tls_key == NULL
	    || (cert = slurp(ls->tls_cert)) == NULL
	    || (key = slurp(ls->tls_key)) == NULL) {
		xz_diag_add(d, l->cfg.config_file, 0,
		    "cannot listen on %s: cannot read %s: %s", ls->url,
		    cert == NULL ? ls->tls_cert : ls->tls_key,
		    strerror(errno));
		nng_tls_config_free(tls);
		free(cert);
		return NNG_EINVAL;
	}
	if ((rc = nng_tls_config_own_cert(tls, cert, key, NULL)) != 0)
		what = ls->tls_cert;
	else if (ls->tls_ca != NULL
	    && (rc = nng_tls_config_ca_file(tls, ls->tls_ca)) != 0)
		what = ls->tls_ca;
	else if ((rc = nng_tls_config_auth_mode(tls,
	              ls->tls_ca != NULL ? NNG_TLS_AUTH_MODE_REQUIRED
	                                 : NNG_TLS_AUTH_MODE_NONE))
	    != 0)
		what = "auth mode";
	else if ((rc = nng_listener_set_ptr(lst, NNG_OPT_TLS_CONFIG, tls))
	    != 0)
		what = "TLS config";
	/* The listener holds its own reference. */
	nng_tls_config_free(tls);
out:
	free(cert);
	free(key);
	if (rc != 0)
		xz_diag_add(d, l->cfg.config_file, 0,
		    "cannot listen on %s: %s: %s", ls->url, what,
		    nng_strerror(rc));
	return rc;
}

/* Create, configure and start dk's listener (dk->url and its TLS files):
 * at start, and again when door_watch reopens it. Reports to d. */
static int
door_listen(xz_link *l, struct door_kind *dk, xz_diag *d)
{
	const char  *url = dk->url;
	nng_listener lst;
	int          rc;

	/* An ipc socket's folder (/run/xiezhi of an installed node) may not
	 * exist yet outside systemd, which creates it (RuntimeDirectory). */
	if (strncmp(url, "ipc://", 6) == 0 && ipc_folder(l, url + 6, d) != 0)
		return NNG_EINVAL;
	if ((rc = nng_listener_create(&lst, l->sock, url)) != 0) {
		xz_diag_add(d, l->cfg.config_file, 0,
		    "cannot listen on %s: %s", url, nng_strerror(rc));
		return rc;
	}
	if (dk->control && dk->transport == T_IPC)
		nng_listener_set_int(lst, NNG_OPT_IPC_PERMISSIONS, 0600);
	if (dk->transport == T_TLS
	    && (rc = listener_tls(l, lst,
	            &(xz_link_listen) { .url = url,
	                .tls_ca              = dk->ca,
	                .tls_cert            = dk->cert,
	                .tls_key             = dk->key },
	            d))
	        != 0) {
		nng_listener_close(lst);
		return rc;
	}
	/* Set before it starts: its first pipe looks the door up. */
	atomic_store(&dk->listener, (uint32_t) nng_listener_id(lst));
	if ((rc = nng_listener_start(lst, 0)) != 0) {
		xz_diag_add(d, l->cfg.config_file, 0,
		    "cannot listen on %s: %s%s", url, nng_strerror(rc),
		    rc == NNG_EADDRINUSE ? " (is another node running?)" : "");
		nng_listener_close(lst);
		return rc;
	}
	if (dk->control && dk->transport == T_IPC)
		chmod(url + 6, 0600);
	dk->lst      = lst;
	dk->down     = false;
	dk->bad_seen = 0; /* a new listener's statistics start at 0 */
	return 0;
}

static int
listen_one(xz_link *l, const xz_link_listen *ls, bool control, xz_diag *d)
{
	const char *url = ls->url;

	/* Room for every door was made at start: pipes of doors already
	 * listening read this table. */
	struct door_kind *dk = &l->doors[l->ndoors];
	dk->url              = strdup(url);
	dk->cert             = ls->tls_cert ? strdup(ls->tls_cert) : NULL;
	dk->key              = ls->tls_key ? strdup(ls->tls_key) : NULL;
	dk->ca               = ls->tls_ca ? strdup(ls->tls_ca) : NULL;
	dk->crl              = ls->tls_crl ? strdup(ls->tls_crl) : NULL;
	dk->control          = control;
	if (dk->url == NULL || (ls->tls_cert && dk->cert == NULL)
	    || (ls->tls_key && dk->key == NULL)
	    || (ls->tls_ca && dk->ca == NULL)
	    || (ls->tls_crl && dk->crl == NULL)) {
		xz_diag_add(d, l->cfg.config_file, 0,
		    "cannot listen on %s: out of memory", url);
		l->ndoors++; /* freed at stop */
		return NNG_ENOMEM;
	}
	xz_link_file_sig(dk->ca, dk->ca_sig, sizeof(dk->ca_sig));
	xz_link_file_sig(dk->crl, dk->crl_sig, sizeof(dk->crl_sig));
	memcpy(dk->ca_seen, dk->ca_sig, sizeof(dk->ca_seen));
	memcpy(dk->crl_seen, dk->crl_sig, sizeof(dk->crl_seen));
	dk->transport = strncmp(url, "ipc://", 6) == 0 ? T_IPC
	    : strncmp(url, "inproc://", 9) == 0        ? T_INPROC
	    : strncmp(url, "tls+tcp://", 10) == 0      ? T_TLS
	                                               : T_TCP;
	l->ndoors++;
	return door_listen(l, dk, d);
}

/* ---- doors that stop accepting ----
 *
 * nng 1.5.2 stops a listener for good when a client leaves in the middle
 * of the SP handshake (nng issue #1518): the transport hands the closed
 * connection's NNG_ECLOSED to the listener's accept, which takes it for
 * its own close and accepts nothing more. Connections still complete the
 * transport's handshake, so clients see their dial succeed and then no
 * answer, ever. One `connect` and `close` by any local user shut a door.
 *
 * So the rx thread watches each door's accept errors in nng's statistics.
 * After one that may have stopped it ("other", "canceled", "disconnect":
 * nng also counts there every connection that ends), it dials the door
 * itself; a live listener takes that dial (or counts its failure) within
 * DOOR_PROBE_US. If the dial got through and nothing of it reached the
 * listener, the door is closed and listened on again: the connections
 * through it are closed (clients and node links connect again), logged
 * and counted (status: bus.doors_reopened). A plain (not TLS) dial that
 * did not get through at all says nothing of the listener (a stopped one
 * still completes handshakes): it is said once and tried again, never a
 * reason to reopen. */
#define DOOR_PROBE_US 5000000u

/* The statistics of the listener with nng_listener_id id under st.
 * (nng 1.5.2's nng_stat_find_listener returns the first listener's.) */
static nng_stat *
listener_stat(nng_stat *st, int id)
{
	for (; st != NULL; st = nng_stat_next(st)) {
		if (nng_stat_type(st) != NNG_STAT_SCOPE)
			continue;
		if (strcmp(nng_stat_name(st), "listener") == 0) {
			nng_stat *c = nng_stat_child(st);
			for (; c != NULL; c = nng_stat_next(c))
				if (strcmp(nng_stat_name(c), "id") == 0)
					break;
			if (c != NULL && nng_stat_value(c) == (uint64_t) id)
				return st;
			continue;
		}
		nng_stat *in = listener_stat(nng_stat_child(st), id);
		if (in != NULL)
			return in;
	}
	return NULL;
}

/* dk's counts in nng's statistics: *bad, the errors that may have
 * stopped it (nng also counts there every connection that ends, a client
 * leaving); *took, the handshakes its accept saw through (taken, or
 * refused for TLS, protocol or time). False when nng has none. */
static bool
door_counts(
    nng_stat *root, struct door_kind *dk, uint64_t *bad, uint64_t *took)
{
	nng_stat *ls = listener_stat(root, nng_listener_id(dk->lst));

	if (ls == NULL)
		return false;
	*bad = *took = 0;
	for (nng_stat *c = nng_stat_child(ls); c != NULL;
	     c           = nng_stat_next(c)) {
		const char *n = nng_stat_name(c);
		if (nng_stat_type(c) != NNG_STAT_COUNTER)
			continue;
		if (strcmp(n, "other") == 0 || strcmp(n, "canceled") == 0
		    || strcmp(n, "disconnect") == 0)
			*bad += nng_stat_value(c);
		else if (strcmp(n, "accept") == 0 || strcmp(n, "auth") == 0
		    || strcmp(n, "proto") == 0 || strcmp(n, "timeout") == 0)
			*took += nng_stat_value(c);
	}
	return true;
}

static void
on_probe_pipe(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	struct door_kind *dk = arg;
	(void) pipe;
	(void) ev;
	atomic_store(&dk->probe_up, true);
}

/* Dial dk as a client would (TLS without checking the node's certificate:
 * a refused handshake counts as an answer too). A listener on every
 * address (0.0.0.0, ::, *) is dialed on the loopback. */
static void
door_probe_start(struct door_kind *dk, uint64_t took)
{
	char            url[300];
	const char     *u = dk->url, *host = strstr(u, "://");
	nng_dialer      dl;
	nng_tls_config *tc = NULL;

	if (host == NULL || nng_pair1_open(&dk->probe) != 0)
		return;
	host += 3;
	if (dk->transport == T_TCP || dk->transport == T_TLS) {
		const char *port = strrchr(host, ':');
		size_t      hl   = port ? (size_t) (port - host) : 0;
		if (port != NULL
		    && (hl == 0 || (hl == 1 && host[0] == '*')
		        || (hl == 7 && strncmp(host, "0.0.0.0", 7) == 0)
		        || (hl == 4 && strncmp(host, "[::]", 4) == 0))) {
			snprintf(url, sizeof(url), "%.*s127.0.0.1%s",
			    (int) (host - u), u, port);
			u = url;
		}
	}
	atomic_store(&dk->probe_up, false);
	nng_pipe_notify(dk->probe, NNG_PIPE_EV_ADD_POST, on_probe_pipe, dk);
	if (nng_dialer_create(&dl, dk->probe, u) != 0) {
		nng_close(dk->probe);
		return;
	}
	if (dk->transport == T_TLS
	    && nng_tls_config_alloc(&tc, NNG_TLS_MODE_CLIENT) == 0) {
		nng_tls_config_auth_mode(tc, NNG_TLS_AUTH_MODE_NONE);
		nng_dialer_set_ptr(dl, NNG_OPT_TLS_CONFIG, tc);
		nng_tls_config_free(tc); /* the dialer holds its own */
	}
	/* One attempt: a refused one (TLS) is an answer already. */
	nng_dialer_set_ms(
	    dl, NNG_OPT_RECONNMINT, (int) (DOOR_PROBE_US / 1000));
	nng_dialer_set_ms(
	    dl, NNG_OPT_RECONNMAXT, (int) (DOOR_PROBE_US / 1000));
	nng_dialer_start(dl, NNG_FLAG_NONBLOCK);
	dk->probing        = true;
	dk->probe_events   = took;
	dk->probe_until_us = xz_mono_us() + DOOR_PROBE_US;
}

static void
door_reopen(xz_link *l, struct door_kind *dk)
{
	xz_diag d;

	xz_diag_init(&d);
	if (!dk->down) {
		nng_listener_close(dk->lst);
		dk->down = true;
		xz_log(XZ_LOG_WARN, "link",
		    "%s stopped taking connections (a client left during the "
		    "handshake; nng 1.5.2): closing it, with its connections, "
		    "and listening again",
		    dk->url);
	}
	if (door_listen(l, dk, &d) == 0) {
		atomic_fetch_add(&l->doors_reopened, 1);
		xz_log(XZ_LOG_INFO, "link", "%s is listening again", dk->url);
	} else if (d.count > 0)
		xz_log(XZ_LOG_ERROR, "link", "%s (trying again in a second)",
		    d.lines[0]);
	xz_diag_free(&d);
}

/* The rx thread: once a second, and every turn while a probe is out. */
static void
door_watch(xz_link *l)
{
	uint64_t  now  = xz_mono_us();
	bool      busy = false;
	nng_stat *root = NULL;

	if (now < l->next_door_us)
		return;
	for (size_t i = 0; i < l->ndoors; i++) {
		struct door_kind *dk = &l->doors[i];
		uint64_t          bad, took;
		if (dk->transport == T_INPROC)
			continue;
		if (dk->down) {
			door_reopen(l, dk);
			continue;
		}
		if (root == NULL && nng_stats_get(&root) != 0) {
			/* No statistics in this nng: nothing to see. */
			l->next_door_us = now + 1000000u;
			return;
		}
		if (!door_counts(root, dk, &bad, &took))
			continue;
		if (dk->probing) {
			bool answered = took != dk->probe_events;
			bool over     = now >= dk->probe_until_us;
			if (!over
			    && !(answered && atomic_load(&dk->probe_up))) {
				busy = true;
				continue;
			}
			/* Closed once its dial is through or the time is
			 * over: a probe leaving mid-handshake would itself
			 * stop the door. */
			nng_close(dk->probe);
			dk->probing = false;
			/* bad_seen stays what it was when the probe went
			 * out: an error counted meanwhile (the one that
			 * stopped the door, maybe, after the probe was
			 * taken) gets a probe of its own. The probe's own
			 * end is counted too, soon (a connection that
			 * ended): that one is not a reason for another. */
			dk->absorb_until
			    = atomic_load(&dk->probe_up) ? now + 2000000u : 0;
			xz_log(XZ_LOG_DEBUG, "link",
			    answered ? "%s: the listener took the probe"
			             : "%s: nothing of the probe reached the "
			               "listener",
			    dk->url);
			if (!answered && !atomic_load(&dk->probe_up)
			    && dk->transport != T_TLS) {
				if (!dk->probe_warned)
					xz_log(XZ_LOG_WARN, "link",
					    "%s: the door watch cannot dial "
					    "it to check it still takes "
					    "connections; it tries again "
					    "every 5 s",
					    dk->url);
				dk->probe_warned = true;
				dk->reprobe_at   = now + DOOR_PROBE_US;
			} else if (!answered)
				door_reopen(l, dk);
			continue;
		}
		if (dk->reprobe_at != 0 && now >= dk->reprobe_at) {
			dk->reprobe_at = 0;
			door_probe_start(dk, took);
			busy = busy || dk->probing;
			continue;
		}
		if (bad == dk->bad_seen + 1 && now < dk->absorb_until) {
			dk->bad_seen     = bad;
			dk->absorb_until = 0;
		} else if (bad != dk->bad_seen) {
			xz_log(XZ_LOG_DEBUG, "link",
			    "%s: accept errors %llu -> %llu: probing it",
			    dk->url, (unsigned long long) dk->bad_seen,
			    (unsigned long long) bad);
			dk->bad_seen     = bad;
			dk->absorb_until = 0;
			door_probe_start(dk, took);
			busy = busy || dk->probing;
		}
	}
	if (root != NULL)
		nng_stats_free(root);
	l->next_door_us = now + (busy ? 100000u : 1000000u);
}

int
xz_link_start(xz_link **out, const xz_link_cfg *cfg, xz_bus *bus,
    xz_clock *clk, xz_diag *d)
{
	xz_link *l = calloc(1, sizeof(*l));
	size_t   maxrecv;
	int      rc;

	*out = l;
	if (l == NULL)
		return XZ_ENOMEM;
	l->cfg = *cfg;
	l->bus = bus;
	l->clk = clk;
	pthread_mutex_init(&l->mu, NULL);
	pthread_mutex_init(&l->recheck_mu, NULL);
	if ((rc = nng_pair1_open_poly(&l->sock)) != 0) {
		xz_diag_add(d, NULL, 0, "cannot open the link socket: %s",
		    nng_strerror(rc));
		return XZ_EIO;
	}
	l->open = true;
	if ((l->doors = calloc(cfg->nlisten + 1, sizeof(*l->doors))) == NULL)
		return XZ_ENOMEM;
	/* A batch may hold many envelopes; bound it all the same. */
	maxrecv = (size_t) cfg->max_payload * 2 + LINK_BATCH_BYTES;
	nng_socket_set_size(l->sock, NNG_OPT_RECVMAXSZ, maxrecv);
	nng_socket_set_ms(l->sock, NNG_OPT_RECVTIMEO, 200);
	/* nng 1.5.2 can block a send to a pipe whose queue is full even
	 * after the socket was closed: bounded, then retried while the peer
	 * lives (tx_main). */
	nng_socket_set_ms(l->sock, NNG_OPT_SENDTIMEO, 200);
	nng_pipe_notify(l->sock, NNG_PIPE_EV_REM_POST, on_pipe_removed, l);
	if (cfg->auth != NULL)
		/* Before the pipe is added: nothing it sends can be read
		 * before its credentials are recorded. */
		nng_pipe_notify(
		    l->sock, NNG_PIPE_EV_ADD_PRE, on_pipe_added, l);
	if (listen_one(
	        l, &(xz_link_listen) { .url = cfg->control_url }, true, d)
	    != 0)
		return XZ_EIO;
	for (size_t i = 0; i < cfg->nlisten; i++)
		if (listen_one(l, &cfg->listen[i], false, d) != 0)
			return XZ_EIO;
	l->cfg.listen  = NULL; /* not kept */
	l->cfg.nlisten = 0;
	if (pthread_create(&l->rx, NULL, rx_main, l) != 0)
		return XZ_ENOMEM;
	l->rx_started = true;
	return XZ_OK;
}

void
xz_link_stop(xz_link *l)
{
	if (l == NULL)
		return;
	atomic_store(&l->stop, true);
	/* Kill the peers before joining rx: rx may be blocked delivering a
	 * reply to a peer that does not read (a `pub` mid-burst gets one
	 * "closed" error per event once intake stops), and nothing goes out
	 * to peers any more anyway. */
	pthread_mutex_lock(&l->mu);
	for (struct xz_peer *p = l->peers; p != NULL; p = p->next)
		peer_kill(p);
	pthread_mutex_unlock(&l->mu);
	if (l->rx_started)
		pthread_join(l->rx, NULL);
	for (size_t i = 0; l->doors != NULL && i < l->ndoors; i++)
		if (l->doors[i].probing)
			nng_close(l->doors[i].probe);
	/* Kill first, close next (unblocks a send to a peer that stopped
	 * reading), join last. */
	pthread_mutex_lock(&l->mu);
	for (struct xz_peer *p = l->peers; p != NULL; p = p->next)
		peer_kill(p);
	pthread_mutex_unlock(&l->mu);
	if (l->open)
		nng_close(l->sock);
	reap(l, true);
	creds_reap(l, true);
	pthread_mutex_destroy(&l->mu);
	pthread_mutex_destroy(&l->recheck_mu);
	for (size_t i = 0; l->doors != NULL && i < l->ndoors; i++) {
		free(l->doors[i].url);
		free(l->doors[i].cert);
		free(l->doors[i].key);
		free(l->doors[i].ca);
		free(l->doors[i].crl);
	}
	free(l->doors);
	free(l);
}
