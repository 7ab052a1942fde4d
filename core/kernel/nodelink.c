/*
 * nodelink.c - nodes linked to nodes (see nodelink.h, docs/multi-node.md).
 *
 * One record per configured link. It is a remote target of the bus
 * (xz_target): the bus hands it what the other node's interest matched,
 * and it queues that for the link's thread, which frames it and sends it:
 * through the client library (xzc_publish on xz.node.in) when this node
 * dialed, or as an event on xz.node.out.<name>, which the other node's
 * connection subscribed, when it was dialed. Frames from the other node
 * arrive in an xzc handler (dialer) or at the target subscribed to
 * xz.node.in (acceptor), and are routed here on behalf of the other
 * node's principal.
 *
 * The nodes a message passed travel with it ("v"); while a frame from a
 * link is routed here, the thread-local tl_via holds them, so a link
 * target the bus calls during that route knows where the message has
 * been. A message is never sent to a node in "v"; "v" also names the
 * nodes this node sends it to itself, so a node that got it does not
 * pass it on to another that gets it directly (no duplicates in a
 * triangle).
 *
 * Threads: one per link (dial, reconnect with backoff, send, and for a
 * dialer receive), one hub (recompute the interest each link is told,
 * expire silent dialers).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/random.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <xiezhi/client.h>

#include "kernel/nodelink.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/fs.h"
#include "util/msg.h"
#include "util/id.h"
#include "util/log.h"
#include "util/topic.h"
#include "wire/envelope.h"

#define NL_PING_US 1000000u /* a dialer says it lives */
#define NL_EXPIRE_US 5000000u /* an acceptor gives up on a silent one */
#define NL_BACKOFF_MIN_MS 200u
#define NL_BACKOFF_MAX_MS 10000u
#define NL_VIA_MAX 512
/* Business events a link may have sent and not had acknowledged (the
 * other node's credits for them, see "Business events" below). */
#define NL_WINDOW 256u

/* NL_REVOKED: down because the certificate the other node proved no
 * longer passes this node's CA and CRL (xz.link.revoked, link.h); it
 * stays so, with the reason, until it proves another one. */
enum { NL_DOWN = 0, NL_CONNECTING = 1, NL_UP = 2, NL_REVOKED = 3 };
static const char *const state_names[]
    = { "down", "connecting", "up", "revoked" };

/* What a frame from a link is routed with (see above). */
static _Thread_local const char *tl_via;

typedef struct nl_item {
	xz_kmsg *m; /* one reference */
	char    *via; /* owned: where it has been and goes, "a,b" */
	bool     be; /* a best-effort topic: not kept while down */
	uint64_t seq; /* a business event's number on this link */
} nl_item;

/* A business event from the other node, waiting for the link's delivery
 * thread. m NULL: refused here; it only counts as done. */
typedef struct nl_in {
	xz_kmsg *m; /* one reference, or NULL */
	char    *via; /* owned */
	uint64_t seq, epoch;
} nl_in;

typedef struct nl_int {
	char *p, *v; /* owned */
} nl_int;

typedef struct nl_link {
	xz_target               target; /* first */
	atomic_int              refs;
	struct xz_nodelink     *nl; /* borrowed while not closed */
	const xz_node_link_cfg *cfg; /* borrowed */
	const xz_authz         *authz; /* borrowed */
	bool                    dial;
	xz_principal           *who; /* the other node, here (owned) */
	char                    out_topic[96]; /* xz.node.out.<dialer> */

	pthread_mutex_t mu;
	pthread_cond_t  cv;
	nl_item        *q; /* ring of 2*cap: cap for events and requests,
	                      the rest for replies (owned) */
	uint32_t    cap, head, count;
	atomic_bool closed;
	int         state;
	uint64_t    retries, connects, ev_in, ev_out, rq_in, rq_out, rp_in,
	    rp_out, denied, frames_bad, dropped_down;
	/* Events of bus.durable topics the durable log refused (full, or a
	 * failed write): not routed here. */
	uint64_t durable_refused;
	/* Business messages kept while the link was down (queued then, or
	 * queued when it dropped), and those not kept: the queue was full. */
	uint64_t             held_down, held_overflow;
	atomic_uint_fast64_t loops, not_exported;
	char                 last_error[256];
	char                 peer_auth[128]; /* how it proved itself */
	/* Its certificate stopped passing (NL_REVOKED): how many times, and
	 * the auth ("cert sha256:..") of the one revoked last, whose frames
	 * are ignored from then on. */
	uint64_t revoked;
	char     revoked_auth[128];
	/* bus.best_effort of the other node as it said (compact JSON array,
	 * sorted; owned; NULL: it has not said), whether it differs from
	 * this node's, and (acceptor) that this node's is to be told. */
	char    *peer_be;
	bool     be_differs, be_due;
	uint64_t up_since_us, last_seen_us, backoff_ms;
	/*
	 * Business events (see "Business events" below). To the other node:
	 * bq, with at most cap not sent yet; its first bsent were sent and
	 * wait for the other node's ack; each has a number (next_seq counts
	 * them) of this node's epoch. From it: iq, a ring of NL_WINDOW that
	 * the delivery thread routes; r_last is the highest number taken (of
	 * the sender's r_epoch), r_done the highest routed, r_acked the
	 * highest acknowledged to it.
	 */
	nl_item *bq; /* owned: a ring of bcap = cap + NL_WINDOW */
	uint32_t bcap, bhead, bcount, bsent;
	uint64_t next_seq, epoch, resent;
	uint64_t b_acked; /* the other node acknowledged up to it */
	uint64_t bmax; /* the highest number handed to a connection */
	bool     b_rewind; /* a new connection: send unacked ones again */
	nl_in   *iq; /* owned */
	uint32_t ihead, icount;
	uint64_t r_epoch, r_last, r_done, r_acked, dup_dropped;
	uint64_t r_saved; /* r_done as last written (recv_save) */
	bool     r_save_failing; /* recv_save's last write failed */
	bool     r_ack_due;
	pthread_cond_t icv; /* iq got an item, or stop */
	pthread_t      dth;
	bool           dth_started;
	nl_int        *rint; /* the other node's interest (owned) */
	size_t         nrint;
	char          *adv; /* the interest it was last told (owned) */
	bool           adv_due;

	pthread_mutex_t smu; /* subs: this target's subscriptions */
	char          **subs; /* owned patterns */
	size_t          nsubs;

	pthread_t   th;
	bool        th_started;
	xzc_client *c; /* dialer: its thread's only */
} nl_link;

struct xz_nodelink {
	const xz_config  *cfg;
	xz_bus           *bus;
	xz_clock         *clk;
	xz_authz         *authz;
	xz_principal     *self; /* borrowed */
	xz_link_verifier  verifier;
	xz_link_verifier *fallback;
	nl_link         **links; /* owned (one reference each) */
	size_t            n;
	xz_target         in_target;
	bool              in_subscribed;
	xz_target         rev_target; /* xz.link.revoked */
	bool              rev_subscribed;
	atomic_bool       stop;
	pthread_mutex_t   mu;
	pthread_cond_t    cv;
	bool              kick;
	pthread_t         hub;
	bool              hub_started;
	bool              started; /* subscriptions may exist */
	char             *be; /* bus.best_effort, sorted JSON array (owned) */
};

static uint64_t
now_ms_wall(xz_nodelink *nl)
{
	return xz_clock_now_us(nl->clk) / 1000u;
}

/* ---- small helpers ------------------------------------------------- */

static bool
via_has(const char *via, const char *name)
{
	size_t n = strlen(name);

	if (via == NULL)
		return false;
	for (const char *p = via; *p;) {
		const char *e = strchr(p, ',');
		size_t      l = e ? (size_t) (e - p) : strlen(p);
		if (l == n && memcmp(p, name, n) == 0)
			return true;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return false;
}

/* via + "," + name into buf (unless already there). */
static void
via_add(char *buf, size_t cap, const char *name)
{
	size_t len = strlen(buf);

	if (via_has(buf, name))
		return;
	snprintf(buf + len, cap - len, "%s%s", len ? "," : "", name);
}

static bool
pats_match(char *const *pats, size_t n, const char *topic)
{
	for (size_t i = 0; i < n; i++)
		if (xz_topic_match(pats[i], topic))
			return true;
	return false;
}

static void
hex16(const uint8_t id[16], char out[33])
{
	static const char h[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		out[2 * i]     = h[id[i] >> 4];
		out[2 * i + 1] = h[id[i] & 15];
	}
	out[32] = '\0';
}

static int
unhex16(const char *s, uint8_t id[16])
{
	if (s == NULL || strlen(s) != 32)
		return -1;
	for (int i = 0; i < 32; i++) {
		char c = s[i];
		int  v = c >= '0' && c <= '9' ? c - '0'
		     : c >= 'a' && c <= 'f'   ? c - 'a' + 10
		                              : -1;
		if (v < 0)
			return -1;
		if (i % 2 == 0)
			id[i / 2] = (uint8_t) (v << 4);
		else
			id[i / 2] |= (uint8_t) v;
	}
	return 0;
}

/* ---- the link as a bus target --------------------------------------- */

static void
link_ref(xz_target *t)
{
	atomic_fetch_add(&((nl_link *) t)->refs, 1);
}

static void
link_free(nl_link *k)
{
	while (k->count > 0) {
		nl_item *it = &k->q[k->head];
		xz_kmsg_unref(it->m);
		free(it->via);
		k->head = (k->head + 1) % (2 * k->cap);
		k->count--;
	}
	free(k->q);
	for (uint32_t i = 0; k->bq != NULL && i < k->bcount; i++) {
		nl_item *it = &k->bq[(k->bhead + i) % k->bcap];
		xz_kmsg_unref(it->m);
		free(it->via);
	}
	free(k->bq);
	for (uint32_t i = 0; k->iq != NULL && i < k->icount; i++) {
		nl_in *in = &k->iq[(k->ihead + i) % NL_WINDOW];
		if (in->m != NULL)
			xz_kmsg_unref(in->m);
		free(in->via);
	}
	free(k->iq);
	pthread_cond_destroy(&k->icv);
	for (size_t i = 0; i < k->nrint; i++) {
		free(k->rint[i].p);
		free(k->rint[i].v);
	}
	free(k->rint);
	for (size_t i = 0; i < k->nsubs; i++)
		free(k->subs[i]);
	free(k->subs);
	free(k->adv);
	free(k->peer_be);
	xz_principal_unref(k->who);
	pthread_mutex_destroy(&k->mu);
	pthread_mutex_destroy(&k->smu);
	pthread_cond_destroy(&k->cv);
	free(k);
}

static void
link_unref(xz_target *t)
{
	nl_link *k = (nl_link *) t;
	if (atomic_fetch_sub(&k->refs, 1) == 1)
		link_free(k);
}

/* Whether k's subscriptions let topic through (the bus matched one of
 * them, or another target of this node's links asks). */
static bool
link_wants(nl_link *k, const char *topic)
{
	bool yes = false;
	pthread_mutex_lock(&k->smu);
	yes = pats_match(k->subs, k->nsubs, topic);
	pthread_mutex_unlock(&k->smu);
	return yes;
}

static bool
link_exports(nl_link *k, const char *topic)
{
	return pats_match(k->cfg->export, k->cfg->nexport, topic)
	    && (k->authz == NULL
	        || xz_authz_may_receive(k->authz, k->who, topic));
}

/*
 * Business events. They have a lane of their own on each link: numbered,
 * sent while fewer than NL_WINDOW wait for the other node's ack, kept
 * until it acknowledges them (then dropped) and sent again from the
 * oldest unacknowledged one after a reconnect. The other node takes them
 * off the connection without waiting (at most NL_WINDOW can be on their
 * way), drops a number it already took, and routes them in order on the
 * link's delivery thread, waiting as long as a subscriber needs; it
 * acknowledges each once routed. So a slow subscriber on the far side
 * fills the window, then this queue, then holds up the publishers of
 * business events for it (up to publish_timeout_ms, as inside one node),
 * while the link's thread keeps sending the rest (requests, replies,
 * best-effort events, interest, pings) and its acks.
 */
/* A publisher waits for room on one of k's queues (k->mu held): XZ_OK
 * to look again (woken, or a while passed), or XZ_ETIMEDOUT once deadline
 * passed. Both queues' waits are this one. */
static int
queue_wait(nl_link *k, uint64_t deadline)
{
	struct timespec ts;

	if (xz_mono_us() >= deadline)
		return XZ_ETIMEDOUT;
	xz_mono_abs(deadline, &ts);
	pthread_cond_timedwait(&k->cv, &k->mu, &ts);
	return XZ_OK;
}

/* Not queued: releases k->mu, frees via, returns rc. */
static int
queue_refuse(nl_link *k, char *via, int rc)
{
	pthread_mutex_unlock(&k->mu);
	free(via);
	return rc;
}

static int
biz_deliver(nl_link *k, xz_kmsg *m, char *via, uint64_t deadline)
{
	int rc;

	pthread_mutex_lock(&k->mu);
	/* Room: fewer than cap not sent (all of them while down). */
	while (k->bcount - k->bsent >= k->cap) {
		if (atomic_load(&k->closed) || k->state != NL_UP) {
			if (!atomic_load(&k->closed)) {
				k->held_overflow++;
				k->dropped_down++;
			}
			return queue_refuse(k, via, XZ_ECLOSED);
		}
		if ((rc = queue_wait(k, deadline)) != XZ_OK)
			return queue_refuse(k, via, rc);
	}
	if (atomic_load(&k->closed))
		return queue_refuse(k, via, XZ_ECLOSED);
	if (k->state != NL_UP)
		k->held_down++; /* kept for the reconnect */
	nl_item *it = &k->bq[(k->bhead + k->bcount) % k->bcap];
	it->m       = xz_kmsg_ref(m);
	it->via     = via;
	it->be      = false;
	it->seq     = ++k->next_seq;
	k->bcount++;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
	return XZ_OK;
}

static int
link_deliver(xz_target *t, xz_kmsg *m, bool best_effort, uint64_t deadline)
{
	nl_link    *k               = (nl_link *) t;
	bool        reply           = m->pub.kind == XZ_KIND_REPLY;
	char        via[NL_VIA_MAX] = "";
	const char *topic           = m->pub.topic;

	if (atomic_load(&k->closed))
		return XZ_ECLOSED;
	if (!reply) {
		xz_nodelink *nl = k->nl;
		if (strncmp(topic, "xz.", 3) == 0)
			return XZ_ECLOSED;
		if (via_has(tl_via, k->cfg->name)) {
			atomic_fetch_add(&k->loops, 1);
			return XZ_ECLOSED;
		}
		if (!link_exports(k, topic)) {
			atomic_fetch_add(&k->not_exported, 1);
			return XZ_ECLOSED;
		}
		/* Where it has been, this node, and every link of this node
		 * that gets it too (none of them passes it on to another). */
		if (tl_via != NULL)
			snprintf(via, sizeof(via), "%s", tl_via);
		via_add(via, sizeof(via), nl->cfg->node_name);
		for (size_t i = 0; i < nl->n; i++) {
			nl_link *o = nl->links[i];
			if (o != k
			    && (via_has(tl_via, o->cfg->name)
			        || !link_wants(o, topic)
			        || !link_exports(o, topic)))
				continue;
			via_add(via, sizeof(via), o->cfg->name);
		}
	}
	char *vcopy = reply ? NULL : strdup(via);
	if (!reply && vcopy == NULL)
		return XZ_ENOMEM;
	if (!best_effort && m->pub.kind == XZ_KIND_EVENT)
		return biz_deliver(k, m, vcopy, deadline);
	pthread_mutex_lock(&k->mu);
	for (;;) {
		int rc;
		if (atomic_load(&k->closed))
			return queue_refuse(k, vcopy, XZ_ECLOSED);
		if (k->state != NL_UP) {
			/* Down: a business event (or a reply) waits in the
			 * queue for the reconnect, without holding up its
			 * publisher; a best-effort one and a request (its
			 * requester hears no_responders now) do not. */
			bool keep = reply
			    || (!best_effort && m->pub.kind == XZ_KIND_EVENT);
			bool room = reply ? k->count < 2 * k->cap
			                  : k->count < k->cap;
			if (keep && room) {
				k->held_down++;
				break;
			}
			if (keep)
				k->held_overflow++;
			k->dropped_down++;
			return queue_refuse(k, vcopy, XZ_ECLOSED);
		}
		if (reply ? k->count < 2 * k->cap : k->count < k->cap)
			break;
		if (best_effort && !reply)
			return queue_refuse(k, vcopy, XZ_EFULL);
		if ((rc = queue_wait(k, deadline)) != XZ_OK)
			return queue_refuse(k, vcopy, rc);
	}
	nl_item *it = &k->q[(k->head + k->count) % (2 * k->cap)];
	it->m       = xz_kmsg_ref(m);
	it->via     = vcopy;
	it->be      = best_effort && !reply;
	k->count++;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
	return XZ_OK;
}

static const xz_target_ops link_ops = {
	.deliver = link_deliver,
	.ref     = link_ref,
	.unref   = link_unref,
};

/* ---- interest -------------------------------------------------------- */

/* Make k's subscriptions on the bus the patterns the other node asked
 * for (those that did not pass this node). */
static void
link_resubscribe(nl_link *k)
{
	xz_nodelink *nl = k->nl;
	char       **want;
	size_t       nwant = 0;

	pthread_mutex_lock(&k->mu);
	want = calloc(k->nrint + 1, sizeof(*want));
	for (size_t i = 0; want != NULL && i < k->nrint; i++) {
		const nl_int *e   = &k->rint[i];
		bool          dup = false;
		if (via_has(e->v, nl->cfg->node_name)
		    || strncmp(e->p, "xz.", 3) == 0)
			continue;
		for (size_t j = 0; j < nwant; j++)
			dup = dup || strcmp(want[j], e->p) == 0;
		if (!dup && (want[nwant] = strdup(e->p)) != NULL)
			nwant++;
	}
	pthread_mutex_unlock(&k->mu);
	if (want == NULL)
		return;
	pthread_mutex_lock(&k->smu);
	/* Withdraw what is no longer wanted, then add what is new. */
	for (size_t i = 0; i < k->nsubs;) {
		bool keep = false;
		for (size_t j = 0; j < nwant; j++)
			keep = keep || strcmp(k->subs[i], want[j]) == 0;
		if (keep) {
			i++;
			continue;
		}
		xz_bus_unsubscribe_pattern(nl->bus, &k->target, k->subs[i]);
		free(k->subs[i]);
		k->subs[i] = k->subs[--k->nsubs];
	}
	for (size_t j = 0; j < nwant; j++) {
		bool have = false;
		for (size_t i = 0; i < k->nsubs; i++)
			have = have || strcmp(k->subs[i], want[j]) == 0;
		char **v = have
		    ? NULL
		    : realloc(k->subs, (k->nsubs + 1) * sizeof(*v));
		if (v == NULL)
			continue;
		k->subs = v;
		if (xz_bus_subscribe(nl->bus, NULL, &k->target, want[j], NULL,
		        NULL, NULL, NULL)
		    == XZ_OK) {
			k->subs[k->nsubs++] = want[j];
			want[j]             = NULL;
		}
	}
	pthread_mutex_unlock(&k->smu);
	for (size_t j = 0; j < nwant; j++)
		free(want[j]);
	free(want);
}

/* The link went down. The other node's interest stays (so business
 * events for it keep being queued, up to the queue's capacity) until it
 * reconnects and tells it again; what is queued stays too, but for
 * best-effort events, which are dropped and counted. */
static void
link_forget(nl_link *k)
{
	pthread_mutex_lock(&k->mu);
	free(k->adv);
	k->adv     = NULL; /* tell it everything again */
	k->adv_due = false;
	uint32_t n = k->count, ring = 2 * k->cap, kept = 0;
	for (uint32_t i = 0; i < n; i++) {
		nl_item it = k->q[(k->head + i) % ring];
		if (it.be) {
			xz_kmsg_unref(it.m);
			free(it.via);
			k->dropped_down++;
			continue;
		}
		k->q[(k->head + kept) % ring] = it;
		kept++;
	}
	k->held_down += kept;
	k->count = kept;
	/* Business events: what the connection took may never have arrived;
	 * send again from the oldest the other node has not acknowledged. */
	k->held_down += k->bcount;
	k->resent += k->bsent;
	k->bsent = 0;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
}

static void
hub_kick(xz_nodelink *nl)
{
	pthread_mutex_lock(&nl->mu);
	nl->kick = true;
	pthread_cond_broadcast(&nl->cv);
	pthread_mutex_unlock(&nl->mu);
}

struct adv {
	char       **e; /* "pattern\tvia", owned */
	size_t       n, cap;
	xz_nodelink *nl;
};

static void
adv_add(struct adv *a, const char *p, const char *v)
{
	char *s;
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 16;
		char **e   = realloc(a->e, cap * sizeof(*e));
		if (e == NULL)
			return;
		a->e   = e;
		a->cap = cap;
	}
	size_t len = strlen(p) + strlen(v) + 2;
	if ((s = malloc(len)) == NULL)
		return;
	snprintf(s, len, "%s\t%s", p, v);
	a->e[a->n++] = s;
}

static void
adv_local(void *ud, const char *pattern, const xz_actor *owner,
    const xz_target *peer)
{
	struct adv *a = ud;
	(void) owner;
	if (peer == &a->nl->in_target
	    || (peer != NULL && peer->ops == &link_ops)
	    || strncmp(pattern, "xz.", 3) == 0)
		return;
	adv_add(a, pattern, a->nl->cfg->node_name);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The interest frame link k is to be told: local subscriptions and what
 * the other links asked for, within k's import. Malloc'ed. */
static char *
adv_build(xz_nodelink *nl, nl_link *k, struct adv *local)
{
	struct adv  a    = { .nl = nl };
	const char *self = nl->cfg->node_name;

	for (size_t i = 0; i < local->n; i++) {
		char *tab = strchr(local->e[i], '\t');
		*tab      = '\0';
		adv_add(&a, local->e[i], tab + 1);
		*tab = '\t';
	}
	for (size_t i = 0; i < nl->n; i++) {
		nl_link *o = nl->links[i];
		if (o == k)
			continue;
		pthread_mutex_lock(&o->mu);
		for (size_t j = 0; j < o->nrint; j++) {
			const nl_int *e = &o->rint[j];
			char          v[NL_VIA_MAX];
			if (via_has(e->v, self) || via_has(e->v, k->cfg->name))
				continue;
			snprintf(v, sizeof(v), "%s", e->v);
			via_add(v, sizeof(v), self);
			adv_add(&a, e->p, v);
		}
		pthread_mutex_unlock(&o->mu);
	}
	/* Within import: a pattern inside an import pattern stays; an
	 * import pattern inside a wider one replaces it. */
	json_t *arr = json_array();
	if (a.n > 1)
		qsort(a.e, a.n, sizeof(*a.e), str_cmp);
	for (size_t i = 0; i < a.n; i++) {
		if (i > 0 && strcmp(a.e[i], a.e[i - 1]) == 0)
			continue;
		char *tab     = strchr(a.e[i], '\t');
		*tab          = '\0';
		const char *p = a.e[i], *v = tab + 1;
		for (size_t j = 0; j < k->cfg->nimport; j++) {
			const char *ip = k->cfg->import[j];
			if (xz_pattern_within(p, ip)) {
				json_array_append_new(arr,
				    json_pack("{s:s,s:s}", "p", p, "v", v));
				break;
			}
			if (xz_pattern_within(ip, p))
				json_array_append_new(arr,
				    json_pack("{s:s,s:s}", "p", ip, "v", v));
		}
	}
	for (size_t i = 0; i < a.n; i++)
		free(a.e[i]);
	free(a.e);
	json_t *o = json_pack("{s:s,s:o}", "k", "int", "i", arr);
	char   *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

/* ---- frames -------------------------------------------------------- */

/* Send hdr + "\n" + payload to the other node. */
static int
send_frame(nl_link *k, json_t *hdr, const void *payload, size_t len)
{
	char  *h = hdr ? json_dumps(hdr, JSON_COMPACT) : NULL;
	size_t hl, n;
	char  *buf;
	int    rc;

	json_decref(hdr);
	if (h == NULL)
		return XZ_ENOMEM;
	hl = strlen(h);
	n  = hl + 1 + len;
	if ((buf = malloc(n + 1)) == NULL) {
		free(h);
		return XZ_ENOMEM;
	}
	memcpy(buf, h, hl);
	buf[hl] = '\n';
	if (len > 0)
		memcpy(buf + hl + 1, payload, len);
	free(h);
	if (k->dial) {
		rc = xzc_publish(k->c, "xz.node.in", buf, n);
	} else {
		xz_nodelink *nl = k->nl;
		size_t       nt = 0;
		xz_kmsg *m = xz_bus_msg(nl->bus, XZ_KIND_EVENT, k->out_topic,
		    strlen(k->out_topic), nl->cfg->node_name, buf, n);
		if (m == NULL) {
			free(buf);
			return XZ_ENOMEM;
		}
		m->pub.content_type = XZ_CT_BINARY;
		rc                  = xz_bus_route(nl->bus, m, &nt);
		xz_kmsg_unref(m);
		if (rc == XZ_OK && nt == 0)
			rc = XZ_ECLOSED; /* its connection is gone */
	}
	free(buf);
	return rc;
}

static int
send_item(nl_link *k, nl_item *it)
{
	xz_nodelink *nl = k->nl;
	xz_msg      *m  = &it->m->pub;
	char         hx[33];
	json_t      *h = NULL;

	switch (m->kind) {
	case XZ_KIND_EVENT:
		h = json_pack("{s:s,s:s,s:s,s:s,s:i}", "k", "ev", "t",
		    m->topic, "s", m->source, "v", it->via, "ct",
		    (int) m->content_type);
		if (h != NULL && it->seq != 0) {
			json_object_set_new(
			    h, "n", json_integer((json_int_t) it->seq));
			json_object_set_new(
			    h, "e", json_integer((json_int_t) k->epoch));
		}
		break;
	case XZ_KIND_REQUEST: {
		uint64_t now = xz_clock_now_us(nl->clk);
		if (m->deadline_us != 0 && m->deadline_us <= now)
			return XZ_OK; /* its requester has had its timeout */
		uint64_t ms = m->deadline_us
		    ? (m->deadline_us - now + 999u) / 1000u
		    : 0;
		hex16(m->id, hx);
		h = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:i}", "k", "rq", "t",
		    m->topic, "s", m->source, "v", it->via, "id", hx, "ms",
		    (json_int_t) ms, "ct", (int) m->content_type);
		break;
	}
	case XZ_KIND_REPLY:
		hex16(m->corr, hx);
		h = json_pack("{s:s,s:s,s:i,s:s}", "k", "rp", "c", hx, "f",
		    (int) m->flags, "s", m->source);
		break;
	default:
		return XZ_OK;
	}
	int rc = send_frame(k, h, m->data, m->len);
	if (rc == XZ_OK) {
		pthread_mutex_lock(&k->mu);
		if (m->kind == XZ_KIND_EVENT)
			k->ev_out++;
		else if (m->kind == XZ_KIND_REQUEST)
			k->rq_out++;
		else
			k->rp_out++;
		pthread_mutex_unlock(&k->mu);
	}
	return rc;
}

/* {"k":"be","be":[..]}: this node's bus.best_effort. */
static int
nl_be_send(nl_link *k)
{
	json_error_t je;
	json_t      *be = k->nl->be ? json_loads(k->nl->be, 0, &je) : NULL;
	if (be == NULL)
		return XZ_ENOMEM;
	return send_frame(
	    k, json_pack("{s:s,s:o}", "k", "be", "be", be), NULL, 0);
}

/* Take off bq what the other node acknowledged; after a new connection,
 * send the rest again. The link's thread only. */
static void
biz_acked(nl_link *k)
{
	uint32_t n = 0;

	pthread_mutex_lock(&k->mu);
	if (k->b_rewind) {
		k->resent += k->bsent;
		k->bsent    = 0;
		k->b_rewind = false;
	}
	while (k->bcount > 0 && k->bq[k->bhead].seq <= k->b_acked) {
		nl_item *it = &k->bq[k->bhead];
		xz_kmsg_unref(it->m);
		free(it->via);
		it->m    = NULL;
		it->via  = NULL;
		k->bhead = (k->bhead + 1) % k->bcap;
		k->bcount--;
		if (k->bsent > 0)
			k->bsent--;
		n++;
	}
	if (n > 0)
		pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
}

/* Send what is queued (at most 256): XZ_OK or the send's error. Only
 * the link's thread takes items off the queue: the head is sent, and
 * taken off once the connection took it (a send that failed on the
 * connection leaves it for the next connection; one that can never be
 * sent, too big or malformed, is dropped). */
static int
drain(nl_link *k, bool *any)
{
	*any = false;
	for (int i = 0; i < 256; i++) {
		nl_item it;
		pthread_mutex_lock(&k->mu);
		if (k->count == 0) {
			pthread_mutex_unlock(&k->mu);
			break;
		}
		it = k->q[k->head];
		pthread_mutex_unlock(&k->mu);
		*any   = true;
		int rc = send_item(k, &it);
		if (rc != XZ_OK && rc != XZ_EINVAL && rc != XZ_ETOOBIG
		    && rc != XZ_ENOMEM)
			return rc;
		pthread_mutex_lock(&k->mu);
		k->head = (k->head + 1) % (2 * k->cap);
		k->count--;
		if (rc != XZ_OK)
			k->dropped_down++;
		pthread_cond_broadcast(&k->cv);
		pthread_mutex_unlock(&k->mu);
		xz_kmsg_unref(it.m);
		free(it.via);
	}
	/* The acceptor's bus.best_effort, once per HELLO. */
	pthread_mutex_lock(&k->mu);
	bool be_due = k->be_due;
	k->be_due   = false;
	pthread_mutex_unlock(&k->mu);
	if (be_due && nl_be_send(k) != XZ_OK) {
		pthread_mutex_lock(&k->mu);
		k->be_due = true;
		pthread_mutex_unlock(&k->mu);
	}
	/* Acks first: they are the other node's credits. */
	pthread_mutex_lock(&k->mu);
	bool     ack_due = k->r_ack_due;
	uint64_t ack_n = k->r_done, ack_e = k->r_epoch;
	k->r_ack_due = false;
	pthread_mutex_unlock(&k->mu);
	if (ack_due) {
		int rc = send_frame(k,
		    json_pack("{s:s,s:I,s:I}", "k", "ack", "e",
		        (json_int_t) ack_e, "n", (json_int_t) ack_n),
		    NULL, 0);
		pthread_mutex_lock(&k->mu);
		if (rc == XZ_OK)
			k->r_acked = ack_n;
		else
			k->r_ack_due = true;
		pthread_mutex_unlock(&k->mu);
		if (rc != XZ_OK)
			return rc;
		*any = true;
	}
	/* Business events, while the window has room. Each stays in bq
	 * until its ack; only this thread takes them off. */
	biz_acked(k);
	for (int i = 0; i < 256; i++) {
		nl_item it;
		pthread_mutex_lock(&k->mu);
		if (k->bsent >= k->bcount || k->bsent >= NL_WINDOW) {
			pthread_mutex_unlock(&k->mu);
			break;
		}
		it = k->bq[(k->bhead + k->bsent) % k->bcap];
		if (it.seq > k->bmax)
			k->bmax = it.seq;
		pthread_mutex_unlock(&k->mu);
		*any   = true;
		int rc = send_item(k, &it);
		if (rc != XZ_OK && rc != XZ_EINVAL && rc != XZ_ETOOBIG
		    && rc != XZ_ENOMEM)
			return rc;
		pthread_mutex_lock(&k->mu);
		/* One that can never be sent counts as sent: the other node
		 * takes the gap in the numbers, and its ack drops it here. */
		k->bsent++;
		if (rc != XZ_OK)
			k->dropped_down++;
		/* Room for one more not sent: a publisher may wait for it. */
		pthread_cond_broadcast(&k->cv);
		pthread_mutex_unlock(&k->mu);
	}
	pthread_mutex_lock(&k->mu);
	char *adv  = k->adv_due && k->adv ? strdup(k->adv) : NULL;
	k->adv_due = false;
	pthread_mutex_unlock(&k->mu);
	if (adv != NULL) {
		json_error_t je;
		json_t      *h = json_loads(adv, 0, &je);
		free(adv);
		int rc = send_frame(k, h, NULL, 0);
		if (rc != XZ_OK) {
			pthread_mutex_lock(&k->mu);
			k->adv_due = true;
			pthread_mutex_unlock(&k->mu);
			return rc;
		}
	}
	return XZ_OK;
}

/* A denial: counted, logged, audited; a request gets `forbidden`. */
static void
frame_denied(nl_link *k, const char *topic, const char *what)
{
	xz_nodelink *nl = k->nl;

	pthread_mutex_lock(&k->mu);
	k->denied++;
	pthread_mutex_unlock(&k->mu);
	xz_log(XZ_LOG_WARN, "nodelink",
	    "link '%s': forbidden: node '%s' (agency %s) has no %s "
	    "permission for '%s'",
	    k->cfg->name, k->who->pub.user,
	    k->who->pub.agency[0] ? k->who->pub.agency : "none", what, topic);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I}",
	    "who", k->who->pub.user, "role", "node", "agency",
	    k->who->pub.agency, "action", "REFUSE", "subject_type", "topic",
	    "subject_id", topic, "purpose", what, "outcome", "forbidden",
	    "service", "kernel", "auth", k->who->pub.auth, "time",
	    (json_int_t) now_ms_wall(nl));
	char   *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (s != NULL)
		xz_bus_publish(nl->bus, nl->cfg->node_name, "audit.sys.denied",
		    16, s, strlen(s), XZ_CT_JSON, NULL);
	free(s);
	json_decref(o);
}

/* An error reply to a request of the other node. */
static void
frame_reply_error(
    nl_link *k, const char *id_hex, const char *code, const char *text)
{
	size_t n;
	char  *e = xz_error_json(code, text, &n);
	if (e == NULL)
		return;
	json_t *h = json_pack("{s:s,s:s,s:i,s:s}", "k", "rp", "c", id_hex, "f",
	    XZ_MSG_ERROR, "s", k->nl->cfg->node_name);
	/* From the link's own thread (dialer) or a link worker (acceptor):
	 * queue it like any reply so only the link's thread sends. */
	xz_kmsg *m = xz_bus_msg(k->nl->bus, XZ_KIND_REPLY, "xz.node.error", 13,
	    k->nl->cfg->node_name, e, n);
	free(e);
	json_decref(h);
	if (m == NULL)
		return;
	m->pub.flags = XZ_MSG_ERROR;
	unhex16(id_hex, m->pub.corr);
	link_deliver(&k->target, m, false, xz_mono_us() + 1000000u);
	xz_kmsg_unref(m);
}

static void
link_up(nl_link *k)
{
	pthread_mutex_lock(&k->mu);
	if (k->state != NL_UP) {
		k->state       = NL_UP;
		k->up_since_us = xz_mono_us();
		k->connects++;
		k->backoff_ms = 0;
		free(k->adv);
		k->adv = NULL; /* tell it everything again */
		xz_log(XZ_LOG_INFO, "nodelink", "link '%s' is up (%s)%s",
		    k->cfg->name,
		    k->dial ? k->cfg->url : xz_text("it dialed us"),
		    k->count > 0 ? xz_text(": sending what was kept for it")
		                 : "");
		pthread_cond_broadcast(&k->cv);
	}
	k->last_seen_us = xz_mono_us();
	pthread_mutex_unlock(&k->mu);
}

/* An event of a bus.durable topic from the other node goes to this
 * node's durable log before it is routed, as a local publish does: the
 * frame is taken (and, for a connection this node accepted, its batch
 * credited by the link's worker) only after the commit. XZ_OK: route it;
 * otherwise it is refused here, counted and logged (a link event has no
 * one to answer). */
static int
durable_log(nl_link *k, xz_kmsg *m)
{
	int rc = xz_bus_durable_log(k->nl->bus, m);

	if (rc != XZ_OK) {
		pthread_mutex_lock(&k->mu);
		uint64_t n = ++k->durable_refused;
		pthread_mutex_unlock(&k->mu);
		if (n <= 3 || n % 1000 == 0)
			xz_log(XZ_LOG_ERROR, "nodelink",
			    "link '%s': event '%s' of a durable topic not "
			    "taken: %s (%llu so far)",
			    k->cfg->name, m->pub.topic, xz_strerror(rc),
			    (unsigned long long) n);
	}
	return rc;
}

/* A business event numbered seq of the sender's epoch arrived: 1 to
 * take it, 0 for one already taken (dropped: it was sent again after a
 * reconnect), -1 when the sender overran its window (dropped, counted;
 * it sends it again on its next connection). */
static int
biz_check(nl_link *k, uint64_t seq, uint64_t epoch)
{
	int rc = 1;

	pthread_mutex_lock(&k->mu);
	if (epoch != k->r_epoch) {
		/* The other node started again (or this one did): its
		 * numbers start where they are. */
		k->r_epoch = epoch;
		k->r_last = k->r_done = k->r_acked = seq - 1;
	}
	if (seq <= k->r_last) {
		k->dup_dropped++;
		k->r_ack_due = true; /* it may not have heard the ack */
		pthread_cond_broadcast(&k->cv);
		rc = 0;
	} else if (k->icount >= NL_WINDOW) {
		k->frames_bad++;
		rc = -1;
	}
	pthread_mutex_unlock(&k->mu);
	return rc;
}

/* Queue a checked business event for the delivery thread (m NULL: it
 * was refused, it only counts). Takes m's reference and via. */
static void
biz_push(nl_link *k, xz_kmsg *m, const char *via, uint64_t seq, uint64_t epoch)
{
	char *v = via && m ? strdup(via) : NULL;

	pthread_mutex_lock(&k->mu);
	if (epoch == k->r_epoch && seq > k->r_last && k->icount < NL_WINDOW
	    && (m == NULL || v != NULL)) {
		k->iq[(k->ihead + k->icount) % NL_WINDOW]
		    = (nl_in) { .m = m, .via = v, .seq = seq, .epoch = epoch };
		k->icount++;
		k->r_last = seq;
		pthread_cond_signal(&k->icv);
		m = NULL;
		v = NULL;
	}
	pthread_mutex_unlock(&k->mu);
	if (m != NULL)
		xz_kmsg_unref(m);
	free(v);
}

/* The delivery thread: routes the other node's business events in
 * order, waiting as long as a subscriber needs (never on the thread that
 * reads the connection), and marks each one done for the ack. */
static void *
deliver_main(void *arg)
{
	nl_link     *k  = arg;
	xz_nodelink *nl = k->nl;

	pthread_mutex_lock(&k->mu);
	while (!atomic_load(&nl->stop)) {
		if (k->icount == 0) {
			pthread_cond_wait(&k->icv, &k->mu);
			continue;
		}
		nl_in in = k->iq[k->ihead];
		int   rc = XZ_OK;
		pthread_mutex_unlock(&k->mu);
		/* An event of a durable topic is in this node's log before
		 * it is routed; while the log refuses it (durable_full) it is
		 * neither routed nor acknowledged, and the lane waits. */
		while (in.m != NULL && !atomic_load(&nl->stop)
		    && (rc = durable_log(k, in.m)) != XZ_OK)
			usleep(50 * 1000);
		if (in.m != NULL && rc == XZ_OK) {
			const char *saved = tl_via;
			tl_via            = in.via;
			rc                = xz_bus_route_until(
			                   nl->bus, in.m, &nl->stop, NULL);
			tl_via = saved;
		}
		pthread_mutex_lock(&k->mu);
		if (rc != XZ_OK && atomic_load(&nl->stop))
			break; /* not routed: not acknowledged */
		k->ihead = (k->ihead + 1) % NL_WINDOW;
		k->icount--;
		if (in.epoch == k->r_epoch && in.seq > k->r_done) {
			k->r_done    = in.seq;
			k->r_ack_due = true;
			pthread_cond_broadcast(&k->cv);
		}
		pthread_mutex_unlock(&k->mu);
		if (in.m != NULL)
			xz_kmsg_unref(in.m);
		free(in.via);
		pthread_mutex_lock(&k->mu);
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

/*
 * The count of the other node's business events routed here (its epoch,
 * r_done) is kept in <data_dir>/links/<name>.recv ("EPOCH DONE"): written
 * when it moved (by the hub, about once a second) and when the node
 * stops, read at start. So after this node restarts, the events the other
 * node sends again (it had no ack for them yet) that were routed by the
 * last run are dropped as duplicates, not delivered twice; only those
 * routed in the last second before a kill -9 may come twice.
 */
static void
recv_path(const nl_link *k, char *buf, size_t n, bool dir)
{
	snprintf(buf, n, "%s/links%s%s%s", k->nl->cfg->data_dir,
	    dir ? "" : "/", dir ? "" : k->cfg->name, dir ? "" : ".recv");
}

static void
recv_load(nl_link *k)
{
	char               p[4200];
	unsigned long long e = 0, d = 0;

	if (k->nl->cfg->data_dir == NULL)
		return;
	recv_path(k, p, sizeof(p), false);
	FILE *f = fopen(p, "r");
	if (f == NULL)
		return;
	if (fscanf(f, "%llu %llu", &e, &d) == 2 && e != 0) {
		k->r_epoch = e;
		k->r_last = k->r_done = k->r_acked = k->r_saved = d;
	} else
		xz_log(XZ_LOG_WARN, "nodelink",
		    "link '%s': %s is not \"EPOCH DONE\": ignored (events of "
		    "the other node may be delivered twice)",
		    k->cfg->name, p);
	fclose(f);
}

static void
recv_save(nl_link *k)
{
	char p[4200], t[4300], dir[4200];

	pthread_mutex_lock(&k->mu);
	uint64_t e = k->r_epoch, d = k->r_done;
	bool     moved = e != 0 && d != k->r_saved;
	pthread_mutex_unlock(&k->mu);
	if (!moved || k->nl->cfg->data_dir == NULL)
		return;
	recv_path(k, dir, sizeof(dir), true);
	recv_path(k, p, sizeof(p), false);
	snprintf(t, sizeof(t), "%s.tmp", p);
	FILE *f  = xz_mkdirs(dir, 0700) == 0 ? fopen(t, "w") : NULL;
	bool  ok = f != NULL
	    && fprintf(f, "%llu %llu\n", (unsigned long long) e,
	           (unsigned long long) d)
	        > 0
	    && fflush(f) == 0 && fdatasync(fileno(f)) == 0;
	if (f != NULL && fclose(f) != 0)
		ok = false;
	if (ok && rename(t, p) == 0) {
		pthread_mutex_lock(&k->mu);
		k->r_saved = d;
		pthread_mutex_unlock(&k->mu);
		if (k->r_save_failing)
			xz_log(XZ_LOG_INFO, "nodelink",
			    "link '%s': %s written again", k->cfg->name, p);
		k->r_save_failing = false;
	} else {
		int e = errno;
		unlink(t);
		/* Tried again every second: said once a streak. */
		if (!k->r_save_failing)
			xz_log(XZ_LOG_WARN, "nodelink",
			    "link '%s': cannot write %s: %s (after a restart, "
			    "events of the other node may be delivered twice)",
			    k->cfg->name, p, strerror(e));
		k->r_save_failing = true;
	}
}

/* Whether the link's thread has something to send (k->mu held). */
static bool
link_has_work(nl_link *k)
{
	return k->count > 0 || k->adv_due || k->r_ack_due || k->b_rewind
	    || k->be_due || (k->bsent < k->bcount && k->bsent < NL_WINDOW)
	    || (k->bcount > 0 && k->bq[k->bhead].seq <= k->b_acked);
}

/* patterns as a sorted JSON array without repeats, malloc'ed (compact),
 * or NULL (no memory). */
static char *
be_list(char *const *pats, size_t n)
{
	char  **v   = calloc(n + 1, sizeof(*v));
	json_t *arr = json_array();
	char   *s   = NULL;

	if (v != NULL && arr != NULL) {
		if (n > 0)
			memcpy(v, pats, n * sizeof(*v));
		if (n > 1)
			qsort(v, n, sizeof(*v), str_cmp);
		for (size_t i = 0; i < n; i++)
			if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
				json_array_append_new(arr, json_string(v[i]));
		s = json_dumps(arr, JSON_COMPACT);
	}
	free(v);
	json_decref(arr);
	return s;
}

/* The other node's bus.best_effort (a JSON array of patterns, from its
 * HELLO or its "be" frame): a topic best-effort on one side and a
 * business topic on the other is dropped under load on one side and held
 * back on the other, so a difference is logged (once per list) and shown
 * in status; the link stays up. */
static void
be_compare(nl_link *k, json_t *arr)
{
	xz_nodelink *nl = k->nl;
	size_t       n = json_array_size(arr), got = 0;
	char       **pats = calloc(n + 1, sizeof(*pats));

	if (pats == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const char *p = json_string_value(json_array_get(arr, i));
		if (p != NULL)
			pats[got++] = (char *) p;
	}
	char *there = be_list(pats, got);
	free(pats);
	if (there == NULL || nl->be == NULL) {
		free(there);
		return;
	}
	bool differs = strcmp(there, nl->be) != 0;
	pthread_mutex_lock(&k->mu);
	bool news = k->peer_be == NULL || strcmp(k->peer_be, there) != 0;
	free(k->peer_be);
	k->peer_be    = there;
	k->be_differs = differs;
	pthread_mutex_unlock(&k->mu);
	if (differs && news)
		xz_log(XZ_LOG_WARN, "nodelink",
		    "link '%s': the two nodes disagree on bus.best_effort: "
		    "here %s, on node '%s' %s; a topic best-effort on one "
		    "side and not on the other is dropped under load on one "
		    "side and held back on the other: give both nodes the "
		    "same list",
		    k->cfg->name, nl->be, k->who->pub.user, there);
}

/* One frame from the other node. */
static void
on_frame(nl_link *k, const char *data, size_t len)
{
	xz_nodelink *nl  = k->nl;
	const char  *nlp = memchr(data, '\n', len);
	json_error_t je;
	json_t      *h;

	if (nlp == NULL
	    || (h = json_loadb(data, (size_t) (nlp - data), 0, &je)) == NULL) {
		pthread_mutex_lock(&k->mu);
		k->frames_bad++;
		pthread_mutex_unlock(&k->mu);
		return;
	}
	const char *kind = json_string_value(json_object_get(h, "k"));
	const char *pl   = nlp + 1;
	size_t      plen = len - (size_t) (pl - data);
	const char *t    = json_string_value(json_object_get(h, "t"));
	const char *src  = json_string_value(json_object_get(h, "s"));
	const char *v    = json_string_value(json_object_get(h, "v"));
	char        source[XZ_SOURCE_MAX + 1];

	if (!k->dial)
		link_up(k);
	else {
		pthread_mutex_lock(&k->mu);
		k->last_seen_us = xz_mono_us();
		pthread_mutex_unlock(&k->mu);
	}
	snprintf(
	    source, sizeof(source), "%s:%s", k->cfg->name, src ? src : "?");
	if (kind == NULL)
		kind = "";
	if (strcmp(kind, "int") == 0) {
		json_t *arr = json_object_get(h, "i");
		size_t  n = json_array_size(arr), got = 0;
		nl_int *e = calloc(n + 1, sizeof(*e));
		for (size_t i = 0; e != NULL && i < n; i++) {
			json_t     *o = json_array_get(arr, i);
			const char *p
			    = json_string_value(json_object_get(o, "p"));
			const char *vv
			    = json_string_value(json_object_get(o, "v"));
			if (p == NULL || vv == NULL
			    || !xz_pattern_valid(p, strlen(p)))
				continue;
			e[got].p = strdup(p);
			e[got].v = strdup(vv);
			if (e[got].p == NULL || e[got].v == NULL) {
				free(e[got].p);
				free(e[got].v);
				continue;
			}
			got++;
		}
		if (e != NULL) {
			pthread_mutex_lock(&k->mu);
			for (size_t i = 0; i < k->nrint; i++) {
				free(k->rint[i].p);
				free(k->rint[i].v);
			}
			free(k->rint);
			k->rint  = e;
			k->nrint = got;
			pthread_mutex_unlock(&k->mu);
			link_resubscribe(k);
			hub_kick(nl);
		}
	} else if (strcmp(kind, "ev") == 0 || strcmp(kind, "rq") == 0) {
		bool        rq = kind[0] == 'r';
		const char *id = json_string_value(json_object_get(h, "id"));
		int ct = (int) json_integer_value(json_object_get(h, "ct"));
		json_t  *jn  = json_object_get(h, "n");
		bool     biz = !rq && json_is_integer(jn);
		uint64_t seq = biz ? (uint64_t) json_integer_value(jn) : 0;
		uint64_t ep  = biz
		     ? (uint64_t) json_integer_value(json_object_get(h, "e"))
		     : 0;
		if (t == NULL || !xz_topic_valid(t, strlen(t))
		    || strncmp(t, "xz.", 3) == 0 || v == NULL
		    || (rq && id == NULL) || plen > nl->cfg->max_payload
		    || (biz && seq == 0)) {
			pthread_mutex_lock(&k->mu);
			k->frames_bad++;
			pthread_mutex_unlock(&k->mu);
			if (biz && seq > 0 && biz_check(k, seq, ep) == 1)
				biz_push(k, NULL, NULL, seq, ep);
			goto out;
		}
		if (biz && biz_check(k, seq, ep) != 1)
			goto out;
		pthread_mutex_lock(&k->mu);
		if (rq)
			k->rq_in++;
		else
			k->ev_in++;
		pthread_mutex_unlock(&k->mu);
		/* v names this node too (the sender's recipients): this
		 * node's own targets never send it to a node in v. */
		if (!pats_match(k->cfg->import, k->cfg->nimport, t)
		    || (nl->authz != NULL
		        && !xz_authz_may_publish(nl->authz, k->who, t))) {
			frame_denied(k, t, "publish");
			if (biz)
				biz_push(k, NULL, NULL, seq, ep);
			if (rq) {
				char text[400];
				snprintf(text, sizeof(text),
				    "forbidden: node '%s' may not publish "
				    "'%s' into node '%s'",
				    k->who->pub.user, t, nl->cfg->node_name);
				frame_reply_error(
				    k, id, XZ_REPLY_FORBIDDEN, text);
			}
			goto out;
		}
		if (biz) {
			xz_kmsg *m = xz_bus_msg(nl->bus, XZ_KIND_EVENT, t,
			    strlen(t), source, pl, plen);
			if (m != NULL) {
				m->pub.content_type = (uint8_t) ct;
				m->who              = xz_principal_ref(k->who);
				biz_push(k, m, v, seq, ep);
			}
			/* No memory: not taken, so not acknowledged; it
			 * comes again with the next connection. */
			goto out;
		}
		const char *saved = tl_via;
		tl_via            = v;
		if (!rq) {
			xz_kmsg *m = xz_bus_msg(nl->bus, XZ_KIND_EVENT, t,
			    strlen(t), source, pl, plen);
			if (m != NULL) {
				m->pub.content_type = (uint8_t) ct;
				m->who              = xz_principal_ref(k->who);
				if (durable_log(k, m) == XZ_OK)
					xz_bus_route(nl->bus, m, NULL);
				xz_kmsg_unref(m);
			}
		} else {
			uint8_t    rid[16];
			json_int_t ms
			    = json_integer_value(json_object_get(h, "ms"));
			if (unhex16(id, rid) == 0) {
				int rc = xz_bus_request(nl->bus, NULL,
				    &k->target, rid, source, t, strlen(t), pl,
				    plen, ms > 0 ? (uint32_t) ms : 1, NULL,
				    NULL, k->who);
				if (rc != XZ_OK && rc != XZ_ENORESPONDERS) {
					char text[400];
					snprintf(text, sizeof(text),
					    "request to '%s' on node '%s': %s",
					    t, nl->cfg->node_name,
					    xz_strerror(rc));
					frame_reply_error(
					    k, id, xz_err_code(rc), text);
				}
			}
		}
		tl_via = saved;
	} else if (strcmp(kind, "rp") == 0) {
		const char *c = json_string_value(json_object_get(h, "c"));
		uint8_t     corr[16];
		int f = (int) json_integer_value(json_object_get(h, "f"));
		pthread_mutex_lock(&k->mu);
		k->rp_in++;
		pthread_mutex_unlock(&k->mu);
		if (c != NULL && unhex16(c, corr) == 0)
			xz_bus_complete(nl->bus, corr, xz_id_key(corr), source,
			    pl, plen, (uint16_t) f, k->who);
	} else if (strcmp(kind, "ack") == 0) {
		/* The other node took and routed our business events up to
		 * n: the link's thread drops them and sends more. */
		uint64_t e
		    = (uint64_t) json_integer_value(json_object_get(h, "e"));
		uint64_t n
		    = (uint64_t) json_integer_value(json_object_get(h, "n"));
		pthread_mutex_lock(&k->mu);
		if (e != k->epoch || n > k->bmax)
			k->frames_bad++; /* acks what was never sent */
		else if (n > k->b_acked) {
			k->b_acked = n;
			pthread_cond_broadcast(&k->cv);
		}
		pthread_mutex_unlock(&k->mu);
	} else if (strcmp(kind, "hello") == 0) {
		/* A dialer that (re)connected knows nothing of this node's
		 * interest: tell it all again; and what the old connection
		 * took may not have arrived: send it again. It says its
		 * bus.best_effort; this node answers with its own. */
		if (json_is_array(json_object_get(h, "be")))
			be_compare(k, json_object_get(h, "be"));
		pthread_mutex_lock(&k->mu);
		free(k->adv);
		k->adv      = NULL;
		k->b_rewind = true;
		k->be_due   = true;
		pthread_cond_broadcast(&k->cv);
		pthread_mutex_unlock(&k->mu);
		hub_kick(nl);
	} else if (strcmp(kind, "be") == 0) {
		if (json_is_array(json_object_get(h, "be")))
			be_compare(k, json_object_get(h, "be"));
	}
	/* ping: only that it lives (above). */
out:
	json_decref(h);
}

/* ---- acceptor side: frames arrive on xz.node.in ---------------------- */

static void
noop_target(xz_target *t)
{
	(void) t;
}

static int
in_deliver(xz_target *t, xz_kmsg *m, bool be, uint64_t deadline)
{
	xz_nodelink *nl = (xz_nodelink *) (void *) ((char *) t
	    - offsetof(xz_nodelink, in_target));
	(void) be;
	(void) deadline;
	/* Its connection proved the link's token, or the certificate the
	 * link names (its CN gave the link's principal, see
	 * xz_nodelink_add_cert_ids). */
	if (m->pub.kind != XZ_KIND_EVENT || m->who == NULL
	    || (strncmp(m->who->pub.auth, "node-token ", 11) != 0
	        && strncmp(m->who->pub.auth, "cert ", 5) != 0))
		return XZ_OK;
	for (size_t i = 0; i < nl->n; i++) {
		nl_link *k = nl->links[i];
		if (k->dial || k->who == NULL
		    || strcmp(m->who->pub.user, k->who->pub.user) != 0)
			continue;
		if ((k->cfg->token != NULL)
		    != (strncmp(m->who->pub.auth, "node-token ", 11) == 0))
			break; /* proven otherwise than the link says */
		pthread_mutex_lock(&k->mu);
		if (k->revoked_auth[0] != '\0'
		    && strcmp(k->revoked_auth, m->who->pub.auth) == 0) {
			/* In flight when its certificate was found revoked. */
			pthread_mutex_unlock(&k->mu);
			break;
		}
		snprintf(k->peer_auth, sizeof(k->peer_auth), "%s",
		    m->who->pub.auth);
		pthread_mutex_unlock(&k->mu);
		on_frame(k, m->pub.data, m->pub.len);
		break;
	}
	return XZ_OK;
}

static const xz_target_ops in_ops = {
	.deliver = in_deliver,
	.ref     = noop_target,
	.unref   = noop_target,
};

/* xz.link.revoked (link.h, xz_link_certs_recheck): the connection of a
 * node that dialed this one with a certificate was closed because the
 * certificate no longer passes. The link goes down as "revoked" with the
 * reason (status), counted, logged; frames still in flight from that
 * certificate are ignored; its next HELLO is refused by the link. */
static int
rev_deliver(xz_target *t, xz_kmsg *m, bool be, uint64_t deadline)
{
	xz_nodelink *nl = (xz_nodelink *) (void *) ((char *) t
	    - offsetof(xz_nodelink, rev_target));
	json_error_t je;
	json_t      *o;
	(void) be;
	(void) deadline;
	/* Only the link layer's own (no principal), never a peer's. */
	if (m->pub.kind != XZ_KIND_EVENT || m->who != NULL
	    || strcmp(m->pub.topic, "xz.link.revoked") != 0
	    || (o = json_loadb(m->pub.data, m->pub.len, 0, &je)) == NULL)
		return XZ_OK;
	const char *user = json_string_value(json_object_get(o, "user"));
	const char *cn   = json_string_value(json_object_get(o, "cn"));
	const char *sha  = json_string_value(json_object_get(o, "sha256"));
	const char *why  = json_string_value(json_object_get(o, "why"));
	for (size_t i = 0; user != NULL && i < nl->n; i++) {
		nl_link *k = nl->links[i];
		if (k->dial || k->cfg->token != NULL
		    || strcmp(user, k->who->pub.user) != 0)
			continue;
		char reason[256];
		snprintf(reason, sizeof(reason),
		    "certificate revoked or no longer trusted: '%s' "
		    "(sha256:%.16s..): %s",
		    cn ? cn : "?", sha ? sha : "?", why ? why : "?");
		pthread_mutex_lock(&k->mu);
		bool was = k->state == NL_UP;
		k->revoked++;
		snprintf(k->revoked_auth, sizeof(k->revoked_auth),
		    "cert sha256:%s", sha ? sha : "");
		snprintf(k->last_error, sizeof(k->last_error), "%s", reason);
		k->state = NL_REVOKED;
		pthread_mutex_unlock(&k->mu);
		xz_log(XZ_LOG_WARN, "nodelink",
		    "link '%s': node '%s' disconnected: its certificate '%s' "
		    "no longer passes this node's CA and CRL: %s%s",
		    k->cfg->name, user, cn ? cn : "?", why ? why : "?",
		    was ? "" : xz_text(" (the link was not up)"));
		link_forget(k);
		hub_kick(nl);
		break;
	}
	json_decref(o);
	return XZ_OK;
}

static const xz_target_ops rev_ops = {
	.deliver = rev_deliver,
	.ref     = noop_target,
	.unref   = noop_target,
};

/* Node tokens first (constant time), then the kernel's verifier. */
static xz_principal *
verify(void *ud, const char *token, const char **why)
{
	xz_nodelink *nl = ud;

	for (size_t i = 0; i < nl->n; i++) {
		nl_link    *k   = nl->links[i];
		const char *tok = k->cfg->token;
		if (k->dial || tok == NULL)
			continue;
		size_t   a = strlen(token), b = strlen(tok);
		unsigned diff = a != b;
		for (size_t j = 0; j < b; j++)
			diff |= (unsigned) (tok[j] ^ (j < a ? token[j] : 0));
		if (diff == 0)
			return xz_principal_ref(k->who);
	}
	xz_token_verify_fn fn = atomic_load(&nl->fallback->fn);
	if (fn == NULL) {
		*why = "this node accepts no session tokens and the token is "
		       "no linked node's";
		return NULL;
	}
	return fn(nl->fallback->ud, token, why);
}

/* ---- threads ------------------------------------------------------- */

static void
on_xzc_msg(void *ud, const xzc_msg *m)
{
	on_frame(ud, m->data, m->len);
}

/* Wait ms, or less when stopping. */
static void
nap(nl_link *k, uint64_t ms)
{
	struct timespec ts;
	pthread_mutex_lock(&k->mu);
	xz_mono_abs(xz_mono_us() + ms * 1000u, &ts);
	if (!atomic_load(&k->nl->stop))
		pthread_cond_timedwait(&k->cv, &k->mu, &ts);
	pthread_mutex_unlock(&k->mu);
}

static void
link_down(nl_link *k, const char *why)
{
	pthread_mutex_lock(&k->mu);
	bool was = k->state == NL_UP;
	if (k->state != NL_REVOKED) {
		/* Revoked: the reason stays what it is. */
		k->state = NL_DOWN;
		if (why != NULL)
			snprintf(
			    k->last_error, sizeof(k->last_error), "%s", why);
	}
	pthread_mutex_unlock(&k->mu);
	if (was)
		xz_log(XZ_LOG_WARN, "nodelink", "link '%s' is down: %s",
		    k->cfg->name, why ? why : "closed");
	link_forget(k);
	hub_kick(k->nl);
}

static void *
dial_main(void *arg)
{
	nl_link     *k  = arg;
	xz_nodelink *nl = k->nl;
	char         name[49], sub[96];

	snprintf(name, sizeof(name), "node-%s", nl->cfg->node_name);
	snprintf(sub, sizeof(sub), "xz.node.out.%s", nl->cfg->node_name);
	while (!atomic_load(&nl->stop)) {
		xzc_options o                   = XZC_OPTIONS_INIT;
		char        err[XZC_ERRMSG_MAX] = "";
		o.name                          = name;
		o.connect_timeout_ms            = 1000;
		o.token                         = k->cfg->token;
		o.tls_ca_file                   = k->cfg->tls_ca;
		o.tls_cert_file                 = k->cfg->tls_cert;
		o.tls_key_file                  = k->cfg->tls_key;
		o.tls_server_name               = k->cfg->tls_server_name;
		/* The CA file as this connection's handshake read it. */
		char ca_at[96], ca_seen[96];
		xz_link_file_sig(k->cfg->tls_ca, ca_at, sizeof(ca_at));
		memcpy(ca_seen, ca_at, sizeof(ca_seen));
		bool ca_changed = false;
		pthread_mutex_lock(&k->mu);
		k->state = NL_CONNECTING;
		pthread_mutex_unlock(&k->mu);
		int rc = xzc_open(&k->c, k->cfg->url, &o, err, sizeof(err));
		if (rc == XZ_OK
		    && (rc = xzc_subscribe(
		            k->c, sub, NULL, on_xzc_msg, k, NULL))
		        == XZ_OK) {
			json_error_t je;
			json_t *h = json_pack("{s:s,s:s,s:o*}", "k", "hello",
			    "node", nl->cfg->node_name, "be",
			    nl->be ? json_loads(nl->be, 0, &je) : NULL);
			rc        = send_frame(k, h, NULL, 0);
			if (rc == XZ_OK)
				rc = xzc_flush(k->c, 10000);
			if (rc != XZ_OK && xzc_refused(k->c) > 0)
				/* The node answered the HELLO (and the
				 * flush's ping) with an error: it does not
				 * know the token (or the certificate's
				 * principal may not use the link's topics). */
				snprintf(err, sizeof(err),
				    "%s: unauthenticated: the node refused "
				    "this link's %s (%s)",
				    k->cfg->url,
				    k->cfg->token ? "token" : "certificate",
				    k->cfg->token ? k->cfg->creds
				                  : k->cfg->tls_cert);
			else if (rc != XZ_OK)
				snprintf(err, sizeof(err), "%s: %s",
				    k->cfg->url,
				    xzc_errmsg(k->c)[0] ? xzc_errmsg(k->c)
				                        : xzc_strerror(rc));
		}
		if (rc != XZ_OK && err[0] == '\0')
			snprintf(err, sizeof(err), "%s: %s", k->cfg->url,
			    k->c && xzc_errmsg(k->c)[0] ? xzc_errmsg(k->c)
			                                : xzc_strerror(rc));
		if (rc == XZ_OK) {
			link_up(k);
			hub_kick(nl);
			uint64_t last_ping = xz_mono_us();
			while (!atomic_load(&nl->stop)) {
				bool any = false;
				if ((rc = drain(k, &any)) != XZ_OK)
					break;
				if (xz_mono_us() - last_ping >= NL_PING_US) {
					last_ping = xz_mono_us();
					rc        = send_frame(k,
					           json_pack("{s:s}", "k", "ping"),
					           NULL, 0);
					if (rc != XZ_OK)
						break;
					/* The CA file (and a CRL in it)
					 * changed and stayed so for a second:
					 * this side cannot see the other
					 * node's certificate (nng), so it
					 * connects again and the handshake
					 * checks it against the file as it is
					 * now. */
					char ca_now[96];
					xz_link_file_sig(k->cfg->tls_ca,
					    ca_now, sizeof(ca_now));
					ca_changed
					    = strcmp(ca_now, ca_seen) == 0
					    && strcmp(ca_now, ca_at) != 0;
					memcpy(
					    ca_seen, ca_now, sizeof(ca_seen));
					if (ca_changed) {
						rc = XZ_ECLOSED;
						break;
					}
				}
				if ((rc = xzc_flush(k->c, 0)) != XZ_OK)
					break;
				rc = xzc_dispatch(k->c, any ? 0 : 10);
				if (rc == XZ_ECLOSED)
					break;
			}
			if (ca_changed)
				snprintf(err, sizeof(err),
				    xz_text("%s: the CA file %s changed: "
				            "connecting again so the TLS "
				            "handshake checks the node's "
				            "certificate against it"),
				    k->cfg->url, k->cfg->tls_ca);
			else
				snprintf(err, sizeof(err), "%s: %s",
				    k->cfg->url,
				    rc == XZ_OK ? "stopping"
				        : xzc_errmsg(k->c)[0]
				        ? xzc_errmsg(k->c)
				        : xzc_strerror(rc));
		}
		if (k->c != NULL) {
			xzc_close(k->c);
			k->c = NULL;
		}
		if (atomic_load(&nl->stop))
			break;
		link_down(k, err);
		pthread_mutex_lock(&k->mu);
		k->retries++;
		k->backoff_ms = k->backoff_ms == 0 ? NL_BACKOFF_MIN_MS
		    : k->backoff_ms * 2 > NL_BACKOFF_MAX_MS
		    ? NL_BACKOFF_MAX_MS
		    : k->backoff_ms * 2;
		uint64_t wait = k->backoff_ms;
		pthread_mutex_unlock(&k->mu);
		if (k->retries <= 3 || k->retries % 20 == 0)
			xz_log(XZ_LOG_WARN, "nodelink",
			    "link '%s': %s; retry %llu in %llu ms",
			    k->cfg->name, err, (unsigned long long) k->retries,
			    (unsigned long long) wait);
		nap(k, wait + (uint64_t) (xz_mono_us() % (wait / 4 + 1)));
	}
	return NULL;
}

static void *
accept_main(void *arg)
{
	nl_link     *k  = arg;
	xz_nodelink *nl = k->nl;

	while (!atomic_load(&nl->stop)) {
		struct timespec ts;
		pthread_mutex_lock(&k->mu);
		xz_mono_abs(xz_mono_us() + 200000u, &ts);
		while (!atomic_load(&nl->stop)
		    && (k->state != NL_UP || !link_has_work(k))
		    && pthread_cond_timedwait(&k->cv, &k->mu, &ts) == 0)
			;
		bool     up   = k->state == NL_UP;
		uint64_t seen = k->last_seen_us;
		pthread_mutex_unlock(&k->mu);
		if (atomic_load(&nl->stop))
			break;
		if (up && xz_mono_us() - seen > NL_EXPIRE_US) {
			link_down(k, "nothing heard from it for 5 s");
			continue;
		}
		if (!up)
			continue;
		bool any;
		int  rc = drain(k, &any);
		if (rc == XZ_ECLOSED)
			link_down(k, "its connection closed");
	}
	return NULL;
}

static void *
hub_main(void *arg)
{
	xz_nodelink *nl        = arg;
	uint64_t     next_save = 0;

	while (!atomic_load(&nl->stop)) {
		struct adv local = { .nl = nl };
		xz_bus_each_sub(nl->bus, adv_local, &local);
		for (size_t i = 0; i < nl->n; i++) {
			nl_link *k = nl->links[i];
			pthread_mutex_lock(&k->mu);
			bool up = k->state == NL_UP;
			pthread_mutex_unlock(&k->mu);
			if (!up)
				continue;
			char *s = adv_build(nl, k, &local);
			if (s == NULL)
				continue;
			pthread_mutex_lock(&k->mu);
			if (k->adv == NULL || strcmp(k->adv, s) != 0) {
				free(k->adv);
				k->adv     = s;
				s          = NULL;
				k->adv_due = true;
				pthread_cond_broadcast(&k->cv);
			}
			pthread_mutex_unlock(&k->mu);
			free(s);
		}
		for (size_t i = 0; i < local.n; i++)
			free(local.e[i]);
		free(local.e);
		if (xz_mono_us() >= next_save) {
			next_save = xz_mono_us() + 1000000u;
			for (size_t i = 0; i < nl->n; i++)
				recv_save(nl->links[i]);
		}
		struct timespec ts;
		pthread_mutex_lock(&nl->mu);
		xz_mono_abs(xz_mono_us() + 100000u, &ts);
		while (!nl->kick && !atomic_load(&nl->stop)
		    && pthread_cond_timedwait(&nl->cv, &nl->mu, &ts) == 0)
			;
		nl->kick = false;
		pthread_mutex_unlock(&nl->mu);
	}
	return NULL;
}

/* ---- lifecycle ------------------------------------------------------- */

int
xz_nodelink_new(xz_nodelink **out, const xz_config *cfg, xz_bus *bus,
    xz_clock *clk, xz_authz *authz, xz_link_verifier *fallback,
    xz_principal *self, xz_diag *d)
{
	xz_nodelink *nl;

	*out = NULL;
	if (cfg->nlinks == 0)
		return XZ_OK;
	if ((nl = calloc(1, sizeof(*nl))) == NULL
	    || (nl->links = calloc(cfg->nlinks, sizeof(*nl->links))) == NULL) {
		free(nl);
		xz_diag_add(d, NULL, 0, "out of memory");
		return XZ_ENOMEM;
	}
	nl->cfg            = cfg;
	nl->bus            = bus;
	nl->clk            = clk;
	nl->authz          = authz;
	nl->self           = self;
	nl->fallback       = fallback;
	nl->verifier.ud    = nl;
	nl->in_target.ops  = &in_ops;
	nl->rev_target.ops = &rev_ops;
	nl->be             = be_list(cfg->best_effort, cfg->nbest_effort);
	atomic_store(&nl->verifier.fn, verify);
	pthread_mutex_init(&nl->mu, NULL);
	xz_cond_init_mono(&nl->cv);
	*out = nl;
	for (size_t i = 0; i < cfg->nlinks; i++) {
		const xz_node_link_cfg *c = &cfg->links[i];
		nl_link                *k = calloc(1, sizeof(*k));
		char                    user[96], role[96], auth[160];
		const char            **roles;

		if (k == NULL)
			goto oom;
		atomic_init(&k->refs, 1);
		k->target.ops = &link_ops;
		k->nl         = nl;
		k->cfg        = c;
		k->authz      = authz;
		k->dial       = c->url != NULL;
		k->cap        = cfg->mailbox_capacity;
		k->bcap       = k->cap + NL_WINDOW;
		pthread_mutex_init(&k->mu, NULL);
		pthread_mutex_init(&k->smu, NULL);
		xz_cond_init_mono(&k->cv);
		pthread_cond_init(&k->icv, NULL);
		/* This run's numbering of business events (below 2^53, so
		 * JSON carries it exactly). */
		if (getrandom(&k->epoch, sizeof(k->epoch), 0)
		    != (ssize_t) sizeof(k->epoch))
			k->epoch = xz_mono_us() ^ ((uint64_t) getpid() << 32);
		k->epoch           = (k->epoch & ((1ull << 52) - 1)) | 1u;
		nl->links[nl->n++] = k;
		snprintf(k->out_topic, sizeof(k->out_topic), "xz.node.out.%s",
		    c->name);
		if ((k->q = calloc(2 * (size_t) k->cap, sizeof(*k->q))) == NULL
		    || (k->bq = calloc(k->bcap, sizeof(*k->bq))) == NULL
		    || (k->iq = calloc(NL_WINDOW, sizeof(*k->iq))) == NULL
		    || (roles = calloc(c->nroles + 2, sizeof(*roles))) == NULL)
			goto oom;
		/* Its own role: the two topics of the link, nothing else. */
		snprintf(role, sizeof(role), "xz-node-%s", c->name);
		size_t nr = 0;
		for (size_t j = 0; j < c->nroles; j++)
			roles[nr++] = c->roles[j];
		if (authz != NULL && xz_authz_roles(authz) > 0 && !k->dial) {
			const char *pub[] = { "xz.node.in" };
			const char *sub[] = { k->out_topic };
			if (xz_authz_add(
			        authz, role, XZ_AUTHZ_PUBLISH, false, pub, 1)
			        != XZ_OK
			    || xz_authz_add(authz, role, XZ_AUTHZ_SUBSCRIBE,
			           false, sub, 1)
			        != XZ_OK) {
				free(roles);
				goto oom;
			}
			roles[nr++] = role;
		}
		snprintf(user, sizeof(user), "node:%s", c->name);
		snprintf(auth, sizeof(auth), "%s %s",
		    k->dial        ? "node-link"
		        : c->token ? "node-token"
		                   : "node-cert",
		    c->name);
		k->who = xz_principal_new(
		    user, c->name, c->agency ? c->agency : "", roles, auth);
		free(roles);
		if (k->who == NULL)
			goto oom;
		snprintf(k->last_error, sizeof(k->last_error), "%s",
		    k->dial ? "not dialed yet" : "it has not dialed yet");
	}
	return XZ_OK;
oom:
	xz_diag_add(d, NULL, 0, "out of memory");
	xz_nodelink_free(nl);
	*out = NULL;
	return XZ_ENOMEM;
}

int
xz_nodelink_add_cert_ids(xz_nodelink *nl, xz_link_id **ids, size_t *nids)
{
	size_t      n = 0, j = 0;
	xz_link_id *v;

	for (size_t i = 0; nl != NULL && i < nl->n; i++)
		n += !nl->links[i]->dial && nl->links[i]->cfg->token == NULL;
	if (n == 0)
		return 0;
	if ((v = realloc(*ids, (*nids + n) * sizeof(*v))) == NULL)
		return -1;
	memmove(v + n, v, *nids * sizeof(*v));
	for (size_t i = 0; i < nl->n; i++) {
		nl_link *k = nl->links[i];
		if (k->dial || k->cfg->token != NULL)
			continue;
		v[j++] = (xz_link_id) { .kind = XZ_LINK_ID_CN,
			.cn                   = k->cfg->cert_cn,
			.who                  = xz_principal_ref(k->who) };
	}
	*ids = v;
	*nids += n;
	return 0;
}

xz_link_verifier *
xz_nodelink_verifier(xz_nodelink *nl)
{
	return &nl->verifier;
}

int
xz_nodelink_start(xz_nodelink *nl)
{
	if (nl == NULL)
		return XZ_OK;
	nl->started = true;
	for (size_t i = 0; i < nl->n; i++)
		recv_load(nl->links[i]);
	if (xz_bus_subscribe(nl->bus, NULL, &nl->in_target, "xz.node.in", NULL,
	        NULL, NULL, NULL)
	    != XZ_OK)
		return XZ_ENOMEM;
	nl->in_subscribed = true;
	if (xz_bus_subscribe(nl->bus, NULL, &nl->rev_target, "xz.link.revoked",
	        NULL, NULL, NULL, NULL)
	    != XZ_OK)
		return XZ_ENOMEM;
	nl->rev_subscribed = true;
	for (size_t i = 0; i < nl->n; i++) {
		nl_link *k = nl->links[i];
		if (pthread_create(&k->dth, NULL, deliver_main, k) != 0)
			return XZ_ENOMEM;
		k->dth_started = true;
		if (pthread_create(
		        &k->th, NULL, k->dial ? dial_main : accept_main, k)
		    != 0)
			return XZ_ENOMEM;
		k->th_started = true;
	}
	if (pthread_create(&nl->hub, NULL, hub_main, nl) != 0)
		return XZ_ENOMEM;
	nl->hub_started = true;
	return XZ_OK;
}

void
xz_nodelink_stop(xz_nodelink *nl)
{
	if (nl == NULL || !nl->started)
		return;
	nl->started = false;
	atomic_store(&nl->stop, true);
	hub_kick(nl);
	for (size_t i = 0; i < nl->n; i++) {
		nl_link *k = nl->links[i];
		pthread_mutex_lock(&k->mu);
		pthread_cond_broadcast(&k->cv);
		pthread_cond_broadcast(&k->icv);
		pthread_mutex_unlock(&k->mu);
	}
	if (nl->hub_started)
		pthread_join(nl->hub, NULL);
	nl->hub_started = false;
	for (size_t i = 0; i < nl->n; i++) {
		nl_link *k = nl->links[i];
		if (k->th_started)
			pthread_join(k->th, NULL);
		k->th_started = false;
		if (k->dth_started)
			pthread_join(k->dth, NULL);
		k->dth_started = false;
		recv_save(k);
		atomic_store(&k->closed, true);
		xz_bus_unsubscribe_all(nl->bus, NULL, &k->target);
		pthread_mutex_lock(&k->smu);
		for (size_t j = 0; j < k->nsubs; j++)
			free(k->subs[j]);
		k->nsubs = 0;
		pthread_mutex_unlock(&k->smu);
	}
	if (nl->in_subscribed)
		xz_bus_unsubscribe_all(nl->bus, NULL, &nl->in_target);
	nl->in_subscribed = false;
	if (nl->rev_subscribed)
		xz_bus_unsubscribe_all(nl->bus, NULL, &nl->rev_target);
	nl->rev_subscribed = false;
}

void
xz_nodelink_free(xz_nodelink *nl)
{
	if (nl == NULL)
		return;
	xz_nodelink_stop(nl);
	for (size_t i = 0; i < nl->n; i++) {
		atomic_store(&nl->links[i]->closed, true);
		link_unref(&nl->links[i]->target);
	}
	free(nl->links);
	free(nl->be);
	pthread_mutex_destroy(&nl->mu);
	pthread_cond_destroy(&nl->cv);
	free(nl);
}

json_t *
xz_nodelink_status(xz_nodelink *nl)
{
	json_t *arr = json_array();

	for (size_t i = 0; nl != NULL && i < nl->n; i++) {
		nl_link *k    = nl->links[i];
		json_t  *subs = json_array();
		pthread_mutex_lock(&k->smu);
		for (size_t j = 0; j < k->nsubs; j++)
			json_array_append_new(subs, json_string(k->subs[j]));
		pthread_mutex_unlock(&k->smu);
		pthread_mutex_lock(&k->mu);
		uint64_t up = k->state == NL_UP
		    ? (xz_mono_us() - k->up_since_us) / 1000u
		    : 0;
		char     auth[200];
		if (k->dial && k->cfg->token == NULL)
			snprintf(auth, sizeof(auth), "certificate %s",
			    k->cfg->tls_cert);
		else if (k->dial)
			snprintf(
			    auth, sizeof(auth), "token %s", k->cfg->creds);
		else if (k->cfg->token == NULL)
			snprintf(auth, sizeof(auth), "certificate cn=%s%s%s",
			    k->cfg->cert_cn, k->peer_auth[0] ? ", " : "",
			    k->peer_auth);
		else
			snprintf(
			    auth, sizeof(auth), "token %s", k->cfg->creds);
		json_t *o = json_pack(
		    "{s:s,s:s,s:s,s:s?,s:s,s:s,s:s,s:I,s:I,s:I,"
		    "s:{s:I,s:I,s:I},s:{s:I,s:I,s:I},s:I,s:I,"
		    "s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:{s:I,s:I,s:I,s:I,s:I}}",
		    "name", k->cfg->name, "principal", k->who->pub.user,
		    "auth", auth, "url", k->cfg->url, "dials",
		    k->dial ? "out" : "in", "state", state_names[k->state],
		    "last_error", k->last_error, "retries",
		    (json_int_t) k->retries, "connects",
		    (json_int_t) k->connects, "up_ms", (json_int_t) up, "in",
		    "events", (json_int_t) k->ev_in, "requests",
		    (json_int_t) k->rq_in, "replies", (json_int_t) k->rp_in,
		    "out", "events", (json_int_t) k->ev_out, "requests",
		    (json_int_t) k->rq_out, "replies", (json_int_t) k->rp_out,
		    "denied", (json_int_t) k->denied, "loops_stopped",
		    (json_int_t) atomic_load(&k->loops), "not_exported",
		    (json_int_t) atomic_load(&k->not_exported), "dropped_down",
		    (json_int_t) k->dropped_down, "held_down",
		    (json_int_t) k->held_down, "held_overflow",
		    (json_int_t) k->held_overflow, "bad_frames",
		    (json_int_t) k->frames_bad, "queued",
		    (json_int_t) (k->count + k->bcount), "interest", subs,
		    "business", "unacked", (json_int_t) k->bsent, "resent",
		    (json_int_t) k->resent, "duplicates",
		    (json_int_t) k->dup_dropped, "in_waiting",
		    (json_int_t) k->icount, "in_done", (json_int_t) k->r_done);
		if (o != NULL) {
			json_object_set_new(o, "durable_refused",
			    json_integer((json_int_t) k->durable_refused));
			json_object_set_new(o, "revoked",
			    json_integer((json_int_t) k->revoked));
			json_error_t je;
			json_t      *here
			    = nl->be ? json_loads(nl->be, 0, &je) : NULL;
			json_t *there = k->peer_be
			    ? json_loads(k->peer_be, 0, &je)
			    : NULL;
			json_object_set_new(o, "best_effort",
			    json_pack("{s:o*,s:o*,s:s}", "here", here, "there",
			        there, "agree",
			        k->peer_be == NULL  ? "unknown"
			            : k->be_differs ? "no"
			                            : "yes"));
		}
		pthread_mutex_unlock(&k->mu);
		if (o != NULL)
			json_array_append_new(arr, o);
	}
	return arr;
}

void
xz_nodelink_probe(const xz_config *cfg, xz_diag *d)
{
	for (size_t i = 0; i < cfg->nlinks; i++) {
		const xz_node_link_cfg *k = &cfg->links[i];
		xzc_options             o = XZC_OPTIONS_INIT;
		xzc_client             *c = NULL;
		char                    err[XZC_ERRMSG_MAX], name[49];

		if (k->url == NULL)
			continue;
		snprintf(name, sizeof(name), "check-%s", cfg->node_name);
		o.name               = name;
		o.connect_timeout_ms = 1000;
		o.token              = k->token;
		o.tls_ca_file        = k->tls_ca;
		o.tls_cert_file      = k->tls_cert;
		o.tls_key_file       = k->tls_key;
		o.tls_server_name    = k->tls_server_name;
		int rc = xzc_open(&c, k->url, &o, err, sizeof(err));
		if (rc == XZ_OK && (rc = xzc_flush(c, 2000)) != XZ_OK)
			snprintf(err, sizeof(err), "%s",
			    rc != XZ_OK && xzc_refused(c) > 0 ? (k->token
			            ? "unauthenticated: the node refused "
			              "this link's token"
			            : "unauthenticated: the node refused "
			              "this link's certificate")
			                                      : xzc_errmsg(c));
		xzc_close(c);
		if (rc != XZ_OK)
			xz_diag_add(d, k->file, k->line,
			    "WARN links[%zu] '%s': %s (a running node retries "
			    "with backoff and shows it in status)",
			    i, k->name, err);
	}
}
