/*
 * bus.c - local routing (see bus.h).
 *
 * The bus routes itself instead of using nng PUB/SUB, which drops under
 * load: a publish matches the topic against the subscription trie under
 * a read lock, takes a reference on each chosen subscription, drops the
 * lock, and hands one shared, reference-counted message to each target's
 * bounded mailbox (an actor's, or a remote target's outbound queue).
 *
 * Requests: the requester's completion is kept in the pending table under
 * the counter half of the request id. The first reply removes it; the
 * deadline timer removes it otherwise. Whoever removes it delivers the
 * completion, so it runs exactly once. A reply message is allocated
 * before the pending request is taken: when memory runs out the request
 * stays pending and its deadline answers it, never silence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bus/bus.h"
#include "bus/durable.h"
#include "util/log.h"
#include "util/topic.h"
#include "util/u64map.h"

/* A subscription: of an actor (owner) or of a remote target (peer). */
typedef struct xz_sub {
	xz_recv        recv; /* first: mailboxes hold it; refs, active */
	uint64_t       id;
	xz_actor      *owner;
	xz_target     *peer; /* holds a reference */
	char          *pattern; /* owned */
	char          *group; /* owned, NULL: no queue group */
	struct xz_sub *gone_next; /* unsubscribe's list, under the lock */
} xz_sub;

typedef struct xz_qgroup {
	char             *name; /* owned */
	atomic_uint       rr;
	int               refs; /* under the write lock */
	struct xz_qgroup *next;
} xz_qgroup;

/* A pending request. Its completion for an actor runs as the actor's job
 * (embedded: completing needs no allocation). */
typedef struct xz_pending {
	xz_job      job; /* first */
	uint64_t    key;
	uint8_t     internal_id[16]; /* the id routed on this node */
	uint8_t     req_id[16]; /* the id the requester knows */
	char       *topic; /* owned, for error messages */
	xz_actor   *requester; /* or NULL */
	xz_target  *peer; /* or NULL (holds a reference) */
	xz_reply_fn fn;
	void       *ud;
	uint64_t    timer_id;
	uint32_t    timeout_ms;
	xz_kmsg    *reply; /* set when completed (one reference) */
	int         status;
} xz_pending;

struct xz_bus {
	xz_timers *timers;
	xz_clock  *clk;
	xz_idgen  *ids;
	uint32_t   max_payload, publish_timeout_ms, request_timeout_ms;

	pthread_rwlock_t     lock;
	xz_tindex           *subs;
	xz_tindex           *best_effort;
	size_t               nbest_effort;
	xz_tindex           *reserved; /* pattern -> owner actor */
	char               **reserved_pats; /* owned */
	size_t               nreserved;
	xz_u64map            subs_by_id; /* id -> xz_sub (the index's ref) */
	xz_qgroup           *groups;
	atomic_uint_fast64_t next_sub_id;
	atomic_bool          closed;
	atomic_bool          requests_closed; /* xz_bus_cancel_requests ran */
	atomic_uint_fast64_t published, delivered, dropped, bp_timeouts,
	    failed_replies;

	pthread_mutex_t pending_mu;
	xz_u64map       pending; /* key -> xz_pending (owned) */

	xz_durable *durable; /* borrowed; NULL: no bus.durable */

	xz_bus_count_fn count; /* NULL: none */
	void           *count_ud;
};

static void
sub_destroy(xz_recv *r)
{
	xz_sub *s = (xz_sub *) r;
	if (s->peer != NULL)
		s->peer->ops->unref(s->peer);
	free(s->pattern);
	free(s->group);
	free(s);
}

static void
pending_free(xz_pending *pd)
{
	if (pd->peer != NULL)
		pd->peer->ops->unref(pd->peer);
	xz_kmsg_unref(pd->reply);
	free(pd->topic);
	free(pd);
}

int
xz_bus_new(xz_bus **out, const xz_bus_cfg *c, xz_timers *timers, xz_clock *clk,
    xz_idgen *ids)
{
	xz_bus *k = calloc(1, sizeof(*k));

	*out = NULL;
	if (k == NULL)
		return XZ_ENOMEM;
	k->timers             = timers;
	k->clk                = clk;
	k->ids                = ids;
	k->max_payload        = c->max_payload;
	k->publish_timeout_ms = c->publish_timeout_ms;
	k->request_timeout_ms = c->request_timeout_ms;
	k->count              = c->count;
	k->count_ud           = c->count_ud;
	pthread_rwlock_init(&k->lock, NULL);
	pthread_mutex_init(&k->pending_mu, NULL);
	xz_u64map_init(&k->pending);
	xz_u64map_init(&k->subs_by_id);
	k->subs        = xz_tindex_new();
	k->best_effort = xz_tindex_new();
	if (k->subs == NULL || k->best_effort == NULL) {
		xz_bus_free(k);
		return XZ_ENOMEM;
	}
	k->nbest_effort = c->nbest_effort;
	for (size_t i = 0; i < c->nbest_effort; i++)
		if (xz_tindex_add(k->best_effort, c->best_effort[i],
		        (void *) c->best_effort[i])
		    != 0) {
			xz_bus_free(k);
			return XZ_EINVAL;
		}
	*out = k;
	return XZ_OK;
}

void
xz_bus_free(xz_bus *k)
{
	if (k == NULL)
		return;
	/* Subscriptions still registered (built-ins, peers at shutdown). */
	for (size_t i = 0; i < k->subs_by_id.cap; i++) {
		uint64_t key = k->subs_by_id.keys[i];
		if (key != 0 && key != UINT64_MAX)
			xz_recv_unref(k->subs_by_id.vals[i]);
	}
	xz_u64map_fini(&k->subs_by_id);
	xz_tindex_free(k->subs);
	xz_tindex_free(k->best_effort);
	xz_tindex_free(k->reserved);
	for (size_t i = 0; i < k->nreserved; i++)
		free(k->reserved_pats[i]);
	free(k->reserved_pats);
	while (k->groups != NULL) {
		xz_qgroup *g = k->groups;
		k->groups    = g->next;
		free(g->name);
		free(g);
	}
	/* Pending requests left at shutdown: their requesters are gone. */
	for (size_t i = 0; i < k->pending.cap; i++) {
		uint64_t key = k->pending.keys[i];
		if (key != 0 && key != UINT64_MAX)
			pending_free(k->pending.vals[i]);
	}
	xz_u64map_fini(&k->pending);
	pthread_mutex_destroy(&k->pending_mu);
	pthread_rwlock_destroy(&k->lock);
	free(k);
}

void
xz_bus_close_intake(xz_bus *k)
{
	atomic_store(&k->closed, true);
}

void
xz_bus_stats_get(xz_bus *k, xz_bus_stats *st)
{
	st->published             = atomic_load(&k->published);
	st->delivered             = atomic_load(&k->delivered);
	st->dropped               = atomic_load(&k->dropped);
	st->backpressure_timeouts = atomic_load(&k->bp_timeouts);
	st->failed_replies        = atomic_load(&k->failed_replies);
	pthread_mutex_lock(&k->pending_mu);
	st->pending = k->pending.count;
	pthread_mutex_unlock(&k->pending_mu);
	pthread_rwlock_rdlock(&k->lock);
	st->subscriptions = xz_tindex_size(k->subs);
	pthread_rwlock_unlock(&k->lock);
}

xz_kmsg *
xz_bus_msg(xz_bus *k, int kind, const char *topic, size_t topic_len,
    const char *source, const void *data, size_t len)
{
	xz_kmsg *m = xz_kmsg_new(kind, topic, topic_len, source, data, len);

	if (m != NULL) {
		xz_idgen_next(k->ids, m->pub.id, &m->key);
		m->pub.timestamp_us = xz_clock_now_us(k->clk);
	}
	return m;
}

int
xz_bus_reserve(xz_bus *k, const char *pattern, xz_actor *owner)
{
	char  *p;
	char **v;
	int    rc = XZ_OK;

	if (pattern == NULL || !xz_pattern_valid(pattern, strlen(pattern)))
		return XZ_EINVAL;
	if ((p = strdup(pattern)) == NULL)
		return XZ_ENOMEM;
	pthread_rwlock_wrlock(&k->lock);
	v = realloc(k->reserved_pats, (k->nreserved + 1) * sizeof(*v));
	if (v == NULL
	    || (k->reserved == NULL && (k->reserved = xz_tindex_new()) == NULL)
	    || xz_tindex_add(k->reserved, p, owner) != 0) {
		if (v != NULL)
			k->reserved_pats = v;
		free(p);
		rc = XZ_ENOMEM;
	} else {
		k->reserved_pats                 = v;
		k->reserved_pats[k->nreserved++] = p;
	}
	pthread_rwlock_unlock(&k->lock);
	return rc;
}

/* The owners of a reserved topic (several: the kernel's guard, the
 * audit plugin, an instance made by a reload). */
struct owners {
	void  *v[8];
	size_t n;
};

static void
owner_visit(void *ctx, void *item)
{
	struct owners *o = ctx;
	if (o->n < sizeof(o->v) / sizeof(o->v[0]))
		o->v[o->n++] = item;
}

static bool
owner_in(const struct owners *o, const void *who)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->v[i] == who)
			return true;
	return false;
}

/* Called with the bus write lock held. */
static xz_qgroup *
group_get(xz_bus *k, const char *name)
{
	for (xz_qgroup *g = k->groups; g != NULL; g = g->next)
		if (strcmp(g->name, name) == 0) {
			g->refs++;
			return g;
		}
	xz_qgroup *g = calloc(1, sizeof(*g));
	if (g == NULL || (g->name = strdup(name)) == NULL) {
		free(g);
		return NULL;
	}
	g->refs   = 1;
	g->next   = k->groups;
	k->groups = g;
	return g;
}

static xz_qgroup *
group_find(xz_bus *k, const char *name)
{
	for (xz_qgroup *g = k->groups; g != NULL; g = g->next)
		if (strcmp(g->name, name) == 0)
			return g;
	return NULL;
}

int
xz_bus_subscribe(xz_bus *k, xz_actor *owner, xz_target *peer,
    const char *pattern, const char *group, xz_handler fn, void *ud,
    uint64_t *id)
{
	xz_sub *s;

	if (pattern == NULL || !xz_pattern_valid(pattern, strlen(pattern)))
		return XZ_EINVAL;
	if (group != NULL && group[0] == '\0')
		group = NULL;
	if (group != NULL && strlen(group) > 64)
		return XZ_EINVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return XZ_ENOMEM;
	s->pattern = strdup(pattern);
	s->group   = group ? strdup(group) : NULL;
	if (s->pattern == NULL || (group && s->group == NULL)) {
		free(s->pattern);
		free(s->group);
		free(s);
		return XZ_ENOMEM;
	}
	atomic_init(&s->recv.refs, 1); /* the index's reference */
	atomic_init(&s->recv.active, true);
	s->recv.fn      = fn;
	s->recv.ud      = ud;
	s->recv.destroy = sub_destroy;
	s->id           = atomic_fetch_add(&k->next_sub_id, 1) + 1;
	s->owner        = owner;
	s->peer         = peer;
	if (peer != NULL)
		peer->ops->ref(peer);

	pthread_rwlock_wrlock(&k->lock);
	if (s->group != NULL && group_get(k, s->group) == NULL) {
		pthread_rwlock_unlock(&k->lock);
		xz_recv_unref(&s->recv);
		return XZ_ENOMEM;
	}
	if (xz_tindex_add(k->subs, s->pattern, s) != 0
	    || xz_u64map_put(&k->subs_by_id, s->id, s) != 0) {
		xz_tindex_remove(k->subs, s->pattern, s);
		pthread_rwlock_unlock(&k->lock);
		xz_recv_unref(&s->recv);
		return XZ_ENOMEM;
	}
	pthread_rwlock_unlock(&k->lock);
	if (id != NULL)
		*id = s->id;
	return XZ_OK;
}

/* Called with the write lock held: detach s from the index. */
static void
sub_detach(xz_bus *k, xz_sub *s)
{
	xz_tindex_remove(k->subs, s->pattern, s);
	if (s->group != NULL) {
		xz_qgroup **pp = &k->groups;
		while (*pp != NULL && strcmp((*pp)->name, s->group) != 0)
			pp = &(*pp)->next;
		if (*pp != NULL && --(*pp)->refs == 0) {
			xz_qgroup *g = *pp;
			*pp          = g->next;
			free(g->name);
			free(g);
		}
	}
	atomic_store_explicit(&s->recv.active, false, memory_order_release);
}

int
xz_bus_unsubscribe_id(xz_bus *k, xz_actor *owner, uint64_t id)
{
	xz_sub *s;

	pthread_rwlock_wrlock(&k->lock);
	/* Only the owner may remove a subscription: a plugin passing another
	 * one's id (or the sys actor's) gets XZ_ENOENT. */
	s = xz_u64map_get(&k->subs_by_id, id);
	if (s != NULL && s->owner == owner) {
		xz_u64map_del(&k->subs_by_id, id);
		sub_detach(k, s);
	} else
		s = NULL;
	pthread_rwlock_unlock(&k->lock);
	if (s == NULL)
		return XZ_ENOENT;
	xz_recv_unref(&s->recv);
	return XZ_OK;
}

/* Detach every matching subscription, chaining them through gone_next
 * (deleting from the id map leaves tombstones, so the scan stays valid),
 * and drop the index's references once the lock is released. */
static void
unsubscribe_where(
    xz_bus *k, xz_actor *owner, xz_target *peer, const char *pattern)
{
	xz_sub *gone = NULL;

	pthread_rwlock_wrlock(&k->lock);
	for (size_t i = 0; i < k->subs_by_id.cap; i++) {
		uint64_t key = k->subs_by_id.keys[i];
		if (key == 0 || key == UINT64_MAX)
			continue;
		xz_sub *s = k->subs_by_id.vals[i];
		if (s->owner != owner || s->peer != peer
		    || (pattern != NULL && strcmp(s->pattern, pattern) != 0))
			continue;
		xz_u64map_del(&k->subs_by_id, key);
		sub_detach(k, s);
		s->gone_next = gone;
		gone         = s;
	}
	pthread_rwlock_unlock(&k->lock);
	while (gone != NULL) {
		xz_sub *s = gone;
		gone      = s->gone_next;
		xz_recv_unref(&s->recv);
	}
}

void
xz_bus_unsubscribe_all(xz_bus *k, xz_actor *owner, xz_target *peer)
{
	unsubscribe_where(k, owner, peer, NULL);
}

void
xz_bus_unsubscribe_pattern(xz_bus *k, xz_target *peer, const char *pattern)
{
	unsubscribe_where(k, NULL, peer, pattern);
}

void
xz_bus_each_sub(xz_bus *k,
    void (*fn)(void *ud, const char *pattern, const xz_actor *owner,
        const xz_target *peer),
    void *ud)
{
	pthread_rwlock_rdlock(&k->lock);
	for (size_t i = 0; i < k->subs_by_id.cap; i++) {
		uint64_t key = k->subs_by_id.keys[i];
		if (key == 0 || key == UINT64_MAX)
			continue;
		const xz_sub *s = k->subs_by_id.vals[i];
		fn(ud, s->pattern, s->owner, s->peer);
	}
	pthread_rwlock_unlock(&k->lock);
}

/* Matching subscriptions, collected under the read lock. */
struct collect {
	xz_sub  *local[32];
	xz_sub **v;
	size_t   n, cap;
	bool     oom;
};

static void
collect_visit(void *ctx, void *item)
{
	struct collect *c = ctx;

	if (c->n == c->cap) {
		size_t   cap = c->cap * 2;
		xz_sub **v   = c->v == c->local
		      ? malloc(cap * sizeof(*v))
		      : realloc(c->v, cap * sizeof(*v));
		if (v == NULL) {
			c->oom = true;
			return;
		}
		if (c->v == c->local)
			memcpy(v, c->local, c->n * sizeof(*v));
		c->v   = v;
		c->cap = cap;
	}
	c->v[c->n++] = item;
}

/* Keep one member per queue group (round robin), every plain
 * subscription, and take a reference on each kept one. Read lock held. */
static void
collect_choose(xz_bus *k, struct collect *c)
{
	size_t out = 0;

	for (size_t i = 0; i < c->n; i++) {
		xz_sub *s = c->v[i];
		if (s == NULL)
			continue;
		if (s->group == NULL) {
			c->v[out++] = s;
			xz_recv_ref(&s->recv);
			continue;
		}
		/* Members of this group among the rest; blank them out. */
		size_t members = 0;
		for (size_t j = i; j < c->n; j++)
			if (c->v[j] != NULL && c->v[j]->group != NULL
			    && strcmp(c->v[j]->group, s->group) == 0)
				members++;
		xz_qgroup *g   = group_find(k, s->group);
		size_t  pick   = g ? atomic_fetch_add(&g->rr, 1) % members : 0;
		xz_sub *chosen = NULL;
		for (size_t j = i, m = 0; j < c->n; j++) {
			xz_sub *t = c->v[j];
			if (t == NULL || t->group == NULL
			    || strcmp(t->group, s->group) != 0)
				continue;
			if (m++ == pick)
				chosen = t;
			if (j != i)
				c->v[j] = NULL;
		}
		c->v[out++] = chosen;
		xz_recv_ref(&chosen->recv);
	}
	c->n = out;
}

static void
count_visit(void *ctx, void *item)
{
	(void) item;
	*(bool *) ctx = true;
}

/* Deliver msg to every chosen target, consuming the references
 * collect_choose took, and the caller's reference on msg when give is
 * set. Returns XZ_OK or the first error; *ok gets the number of
 * successful deliveries. */
static int
deliver_all(xz_bus *k, xz_kmsg *msg, struct collect *c, bool be, bool give,
    const atomic_bool *until, size_t *ok)
{
	int    first_err = XZ_OK;
	size_t nactors   = 0;
	bool   peers     = false;
	/* Computed from the clock only if a mailbox is full (most publishes
	 * never wait), then shared by the remaining targets. */
	xz_deadline dl = { (uint64_t) k->publish_timeout_ms * 1000u, 0 };

	*ok = 0;
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i]->owner != NULL)
			nactors++;
		else
			peers = true;
	/* A mailbox takes over one reference: take them all in one write.
	 * A given reference serves as one of them, unless a peer (which
	 * takes its own) still needs msg after the last mailbox had it. */
	bool keep = !give || peers || nactors == 0
	    || k->count != NULL; /* it reads the topic after each */
	size_t more = keep ? nactors : nactors - 1;
	if (more > 0)
		atomic_fetch_add_explicit(
		    &msg->refs, (int) more, memory_order_relaxed);
	for (size_t i = 0; i < c->n; i++) {
		xz_sub *s = c->v[i];
		int     rc;
		if (s->owner != NULL) {
			/* On XZ_OK the mailbox keeps both references: from
			 * then on s may be gone (the actor handled msg and
			 * dropped the last reference of an unsubscribed s),
			 * so only owner, which outlives its subscriptions,
			 * and msg, which keep holds, are read after it. */
			xz_actor *owner = s->owner;
			rc = xz_actor_deliver(owner, msg, &s->recv, be, &dl);
			while (rc == XZ_ETIMEDOUT && until != NULL
			    && !atomic_load(until)) {
				dl.mono_us = 0; /* another slice */
				rc         = xz_actor_deliver(
				            owner, msg, &s->recv, be, &dl);
			}
			if (k->count != NULL
			    && (rc == XZ_OK || (rc == XZ_EFULL && be)))
				k->count(k->count_ud, owner, msg->pub.topic,
				    rc != XZ_OK);
			if (rc == XZ_OK) {
				(*ok)++;
				continue;
			}
			xz_kmsg_unref(msg);
		} else {
			rc = s->peer->ops->deliver(
			    s->peer, msg, be, xz_deadline_mono(&dl));
			while (rc == XZ_ETIMEDOUT && until != NULL
			    && !atomic_load(until)) {
				dl.mono_us = 0;
				rc         = s->peer->ops->deliver(
				            s->peer, msg, be, xz_deadline_mono(&dl));
			}
		}
		if (rc == XZ_OK) {
			(*ok)++;
		} else if (rc == XZ_EFULL && be) {
			atomic_fetch_add(&k->dropped, 1);
		} else if (rc == XZ_ECLOSED && s->owner == NULL) {
			/* A peer that went away (its subscriptions are
			 * reaped later): as if it had unsubscribed, not the
			 * publisher's error. */
		} else {
			if (rc == XZ_ETIMEDOUT)
				atomic_fetch_add(&k->bp_timeouts, 1);
			if (first_err == XZ_OK)
				first_err = rc;
		}
		xz_recv_unref(&s->recv);
	}
	if (give && keep)
		xz_kmsg_unref(msg);
	if (*ok > 0)
		atomic_fetch_add_explicit(
		    &k->delivered, *ok, memory_order_relaxed);
	if (c->v != c->local)
		free(c->v);
	return first_err;
}

/* xz_bus_route; give: the caller's reference on msg goes with it. */
static int
route(xz_bus *k, xz_kmsg *msg, bool give, const atomic_bool *until,
    size_t *ntargets)
{
	struct collect c; /* not zeroed: local[] is 256 bytes a publish */
	size_t         ok;
	bool           be = false;
	int            rc;

	c.v   = c.local;
	c.n   = 0;
	c.cap = sizeof(c.local) / sizeof(c.local[0]);
	c.oom = false;
	pthread_rwlock_rdlock(&k->lock);
	xz_tindex_match(k->subs, msg->pub.topic, collect_visit, &c);
	if (k->nreserved > 0 && msg->pub.kind == XZ_KIND_REQUEST) {
		/* A reserved request reaches its owners only; a topic
		 * reserved by the kernel's guard alone reaches no one. */
		struct owners own = { .n = 0 };
		xz_tindex_match(
		    k->reserved, msg->pub.topic, owner_visit, &own);
		if (own.n > 0) {
			size_t out = 0;
			for (size_t i = 0; i < c.n; i++)
				if (c.v[i]->owner != NULL
				    && owner_in(&own, c.v[i]->owner))
					c.v[out++] = c.v[i];
			c.n = out;
		}
	}
	collect_choose(k, &c);
	if (c.n > 0 && k->nbest_effort > 0)
		xz_tindex_match(
		    k->best_effort, msg->pub.topic, count_visit, &be);
	pthread_rwlock_unlock(&k->lock);
	atomic_fetch_add_explicit(&k->published, 1, memory_order_relaxed);
	if (ntargets != NULL)
		*ntargets = 0;
	if (c.oom) {
		for (size_t i = 0; i < c.n; i++)
			xz_recv_unref(&c.v[i]->recv);
		if (c.v != c.local)
			free(c.v);
		if (give)
			xz_kmsg_unref(msg);
		return XZ_ENOMEM;
	}
	rc = deliver_all(k, msg, &c, be, give, be ? NULL : until, &ok);
	if (ntargets != NULL)
		*ntargets = ok;
	return rc;
}

int
xz_bus_route(xz_bus *k, xz_kmsg *msg, size_t *ntargets)
{
	return route(k, msg, false, NULL, ntargets);
}

int
xz_bus_route_until(
    xz_bus *k, xz_kmsg *msg, const atomic_bool *stop, size_t *ntargets)
{
	return route(k, msg, false, stop, ntargets);
}

int
xz_bus_publish(xz_bus *k, const char *source, const char *topic,
    size_t topic_len, const void *data, size_t len, int content_type,
    xz_principal *who)
{
	xz_kmsg *m;

	if (topic == NULL || !xz_topic_valid(topic, topic_len))
		return XZ_EINVAL;
	if (len > k->max_payload)
		return XZ_ETOOBIG;
	if (atomic_load(&k->closed) && xz_current_actor == NULL)
		return XZ_ECLOSED;
	m = xz_bus_msg(k, XZ_KIND_EVENT, topic, topic_len, source, data, len);
	if (m == NULL)
		return XZ_ENOMEM;
	m->pub.content_type = (uint8_t) content_type;
	m->who              = xz_principal_ref(who);
	/* In the log before anyone sees it or the publisher is answered. */
	int rc = xz_bus_durable_log(k, m);
	if (rc != XZ_OK) {
		xz_kmsg_unref(m);
		return rc;
	}
	return route(k, m, true, NULL, NULL); /* m goes with it */
}

int
xz_bus_durable_log(xz_bus *k, xz_kmsg *m)
{
	/* The cheap test first: a topic outside bus.durable writes
	 * nothing (and one no durable consumer wants neither). */
	if (k->durable == NULL || m->pub.kind != XZ_KIND_EVENT
	    || !xz_durable_topic(k->durable, m->pub.topic))
		return XZ_OK;
	return xz_durable_append(k->durable, m);
}

void
xz_bus_set_durable(xz_bus *k, xz_durable *d)
{
	k->durable = d;
}

int
xz_bus_deliver_sub(xz_bus *k, uint64_t sub_id, xz_kmsg *msg, uint32_t wait_ms)
{
	xz_sub     *s;
	xz_deadline dl = { (uint64_t) wait_ms * 1000u, 0 };
	int         rc;

	pthread_rwlock_rdlock(&k->lock);
	s = xz_u64map_get(&k->subs_by_id, sub_id);
	if (s != NULL)
		xz_recv_ref(&s->recv);
	pthread_rwlock_unlock(&k->lock);
	if (s == NULL || s->owner == NULL) {
		if (s != NULL)
			xz_recv_unref(&s->recv);
		return XZ_ENOENT;
	}
	if (k->count != NULL) /* for the topic, once delivered */
		xz_kmsg_ref(msg);
	rc = xz_actor_deliver(s->owner, msg, &s->recv, false, &dl);
	if (rc != XZ_OK)
		xz_recv_unref(&s->recv);
	else
		atomic_fetch_add_explicit(
		    &k->delivered, 1, memory_order_relaxed);
	if (k->count != NULL) {
		if (rc == XZ_OK)
			k->count(k->count_ud, s->owner, msg->pub.topic, false);
		xz_kmsg_unref(msg);
	}
	return rc;
}

char *
xz_error_json(const char *code, const char *message, size_t *len)
{
	json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code,
	    "message", message ? message : "");
	char   *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	*len = s ? strlen(s) : 0;
	return s;
}

static void
reply_run(xz_job *j)
{
	xz_pending *pd = (xz_pending *) j;
	if (pd->fn != NULL)
		pd->fn(pd->ud, pd->status, &pd->reply->pub);
	pending_free(pd);
}

static void
reply_drop(xz_job *j)
{
	pending_free((xz_pending *) j);
}

/* Hand a completion to whoever waits for it. Takes ownership of pd and of
 * the reference on reply. Allocates nothing. */
static void
complete(xz_bus *k, xz_pending *pd, xz_kmsg *reply, int status)
{
	memcpy(reply->pub.corr, pd->req_id, 16);
	pd->reply  = reply;
	pd->status = status;
	if (pd->requester != NULL) {
		pd->job.run  = reply_run;
		pd->job.drop = reply_drop;
		xz_actor_job(pd->requester, &pd->job);
		return;
	}
	if (pd->peer != NULL)
		/* Replies always find room at a peer (its queue keeps room
		 * for them); a peer that is gone gets nothing. */
		pd->peer->ops->deliver(pd->peer, reply, false,
		    xz_mono_us() + (uint64_t) k->publish_timeout_ms * 1000u);
	pending_free(pd);
}

static xz_pending *
pending_take(xz_bus *k, uint64_t key, const uint8_t *internal_id)
{
	xz_pending *pd;

	pthread_mutex_lock(&k->pending_mu);
	pd = xz_u64map_get(&k->pending, key);
	if (pd != NULL && internal_id != NULL
	    && memcmp(pd->internal_id, internal_id, 16) != 0)
		pd = NULL;
	if (pd != NULL)
		xz_u64map_del(&k->pending, key);
	pthread_mutex_unlock(&k->pending_mu);
	return pd;
}

/* Copy of the pending request's topic for a reply, under pending_mu (the
 * request may complete meanwhile): 0, or -1 when it is gone. */
static int
pending_topic(xz_bus *k, uint64_t key, const uint8_t *internal_id, char *buf,
    size_t cap, uint32_t *timeout_ms)
{
	int rc = -1;

	pthread_mutex_lock(&k->pending_mu);
	xz_pending *pd = xz_u64map_get(&k->pending, key);
	if (pd != NULL
	    && (internal_id == NULL
	        || memcmp(pd->internal_id, internal_id, 16) == 0)) {
		/* a copy, cut to cap as snprintf would (no format to read
		 * at every reply) */
		size_t n = strlen(pd->topic);
		if (n >= cap)
			n = cap - 1;
		memcpy(buf, pd->topic, n);
		buf[n] = '\0';
		if (timeout_ms != NULL)
			*timeout_ms = pd->timeout_ms;
		rc = 0;
	}
	pthread_mutex_unlock(&k->pending_mu);
	return rc;
}

/* The timer thread: a request's deadline passed. -1 (retried later) when
 * the timeout reply cannot be allocated: the request stays pending. */
static int
deadline_due(void *ud, uint64_t key, uint64_t timer_id)
{
	xz_bus     *k = ud;
	char        topic[XZ_TOPIC_MAX + 1], text[XZ_TOPIC_MAX + 64];
	uint32_t    tmo = 0;
	size_t      n;
	char       *e;
	xz_kmsg    *r;
	xz_pending *pd;

	(void) timer_id;
	if (pending_topic(k, key, NULL, topic, sizeof(topic), &tmo) != 0)
		return 0; /* already answered */
	snprintf(
	    text, sizeof(text), "no reply to '%s' within %u ms", topic, tmo);
	e = xz_error_json(XZ_REPLY_TIMEOUT, text, &n);
	r = e ? xz_bus_msg(
	        k, XZ_KIND_REPLY, topic, strlen(topic), "kernel", e, n)
	      : NULL;
	free(e);
	if (r == NULL)
		return -1;
	if ((pd = pending_take(k, key, NULL)) == NULL) {
		xz_kmsg_unref(r); /* a reply raced in */
		return 0;
	}
	r->pub.flags = XZ_MSG_ERROR;
	complete(k, pd, r, XZ_ETIMEDOUT);
	return 0;
}

int
xz_bus_request(xz_bus *k, xz_actor *requester, xz_target *peer,
    const uint8_t *peer_req_id, const char *source, const char *topic,
    size_t topic_len, const void *data, size_t len, uint32_t timeout_ms,
    xz_reply_fn fn, void *ud, xz_principal *who)
{
	xz_pending *pd;
	xz_kmsg    *m;
	size_t      n;
	int         rc;

	if (topic == NULL || !xz_topic_valid(topic, topic_len))
		return XZ_EINVAL;
	if (len > k->max_payload)
		return XZ_ETOOBIG;
	if (requester != NULL && atomic_load(&k->requests_closed))
		return XZ_ECLOSED; /* its completion could never run */
	if (timeout_ms == 0)
		timeout_ms = k->request_timeout_ms;
	m = xz_bus_msg(
	    k, XZ_KIND_REQUEST, topic, topic_len, source, data, len);
	if (m == NULL)
		return XZ_ENOMEM;
	m->pub.deadline_us
	    = m->pub.timestamp_us + (uint64_t) timeout_ms * 1000u;
	m->who = xz_principal_ref(who);
	if ((pd = calloc(1, sizeof(*pd))) == NULL
	    || (pd->topic = strndup(topic, topic_len)) == NULL) {
		free(pd);
		xz_kmsg_unref(m);
		return XZ_ENOMEM;
	}
	pd->key = m->key;
	memcpy(pd->internal_id, m->pub.id, 16);
	memcpy(pd->req_id, peer_req_id ? peer_req_id : m->pub.id, 16);
	pd->requester  = requester;
	pd->peer       = peer;
	pd->fn         = fn;
	pd->ud         = ud;
	pd->timeout_ms = timeout_ms;
	if (peer != NULL)
		peer->ops->ref(peer);

	pthread_mutex_lock(&k->pending_mu);
	rc = xz_u64map_put(&k->pending, pd->key, pd);
	pthread_mutex_unlock(&k->pending_mu);
	if (rc != 0
	    || xz_timer_add(k->timers, k, (uint64_t) timeout_ms * 1000u, 0,
	           XZ_TIMER_DEADLINE, deadline_due, k, pd->key, NULL, NULL,
	           &pd->timer_id)
	        != XZ_OK) {
		if (rc == 0)
			pending_take(k, pd->key, NULL);
		pending_free(pd);
		xz_kmsg_unref(m);
		return XZ_ENOMEM;
	}
	/* pd may complete and be freed as soon as the request is routed. */
	uint64_t key = pd->key;
	rc           = xz_bus_route(k, m, &n);
	xz_kmsg_unref(m);
	if (n > 0)
		return XZ_OK;
	/* Nobody got it: withdraw, unless a reply raced in already. */
	if ((pd = pending_take(k, key, NULL)) == NULL)
		return XZ_OK;
	xz_timer_cancel(k->timers, k, pd->timer_id);
	pending_free(pd);
	return rc != XZ_OK ? rc : XZ_ENORESPONDERS;
}

size_t
xz_bus_cancel_requests(xz_bus *k)
{
	xz_pending **out = NULL;
	size_t       n = 0, done = 0;

	atomic_store(&k->requests_closed, true);
	pthread_mutex_lock(&k->pending_mu);
	if (k->pending.count > 0)
		out = malloc(k->pending.count * sizeof(*out));
	for (size_t i = 0; out != NULL && i < k->pending.cap; i++) {
		uint64_t key = k->pending.keys[i];
		if (key != 0 && key != UINT64_MAX
		    && ((xz_pending *) k->pending.vals[i])->requester != NULL)
			out[n++] = k->pending.vals[i];
	}
	for (size_t i = 0; i < n; i++)
		xz_u64map_del(&k->pending, out[i]->key);
	pthread_mutex_unlock(&k->pending_mu);
	for (size_t i = 0; i < n; i++) {
		xz_pending *pd = out[i];
		char        text[XZ_TOPIC_MAX + 64];
		size_t      len;
		char       *e;
		xz_kmsg    *r;

		xz_timer_cancel(k->timers, k, pd->timer_id);
		snprintf(text, sizeof(text),
		    "the node is stopping: no reply to '%s'", pd->topic);
		e = xz_error_json(XZ_REPLY_UNAVAILABLE, text, &len);
		r = e ? xz_bus_msg(k, XZ_KIND_REPLY, pd->topic,
		        strlen(pd->topic), "kernel", e, len)
		      : NULL;
		free(e);
		if (r == NULL) {
			pending_free(pd); /* no memory: it cannot be told */
			continue;
		}
		r->pub.flags = XZ_MSG_ERROR;
		complete(k, pd, r, XZ_OK);
		done++;
	}
	free(out);
	return done;
}

int
xz_bus_complete(xz_bus *k, const uint8_t corr[16], uint64_t key,
    const char *source, const void *data, size_t len, uint16_t flags,
    xz_principal *who)
{
	char        topic[XZ_TOPIC_MAX + 1];
	xz_pending *pd;
	xz_kmsg    *r;

	if (pending_topic(k, key, corr, topic, sizeof(topic), NULL) != 0)
		return XZ_ENOENT;
	r = xz_bus_msg(
	    k, XZ_KIND_REPLY, topic, strlen(topic), source, data, len);
	if (r == NULL) {
		/* The request stays pending: its deadline answers it. */
		atomic_fetch_add(&k->failed_replies, 1);
		xz_log(XZ_LOG_ERROR, source,
		    "out of memory replying to '%s': the requester gets a "
		    "timeout",
		    topic);
		return XZ_ENOMEM;
	}
	if ((pd = pending_take(k, key, corr)) == NULL) {
		xz_kmsg_unref(r);
		return XZ_ENOENT;
	}
	xz_timer_cancel(k->timers, k, pd->timer_id);
	r->pub.flags = flags;
	r->who       = xz_principal_ref(who);
	complete(k, pd, r, XZ_OK);
	return XZ_OK;
}
