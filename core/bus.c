/*
 * bus.c - local routing: subscriptions, publish with backpressure, queue
 * groups, request/reply with deadlines and explicit "no responders".
 *
 * The bus routes itself instead of using nng PUB/SUB, which drops under
 * load (DESIGN.md): a publish matches the topic against the subscription
 * trie under a read lock, takes a reference on each chosen subscription,
 * drops the lock, and hands one shared, reference-counted message to each
 * target's bounded mailbox (an actor's, or a link peer's outbound queue).
 *
 * Requests: the requester's completion is kept in the pending table under
 * the low 64 bits of the request id (a per-node counter). The first reply
 * removes it; the deadline timer removes it otherwise. Whoever removes it
 * delivers the completion, so it runs exactly once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kernel_impl.h"

xz_kmsg *
xz_kmsg_new(xz_kernel *k, int kind, const char *topic, size_t topic_len,
    const char *source, const void *data, size_t len)
{
	size_t   slen = source ? strlen(source) : 0;
	xz_kmsg *m = malloc(sizeof(*m) + topic_len + 1 + slen + 1 + len + 1);

	if (m == NULL)
		return NULL;
	memset(&m->pub, 0, sizeof(m->pub));
	atomic_init(&m->refs, 1);
	m->pub.struct_size = sizeof(xz_msg);
	m->pub.kind        = (uint8_t) kind;
	char *p            = m->buf;
	memcpy(p, topic, topic_len);
	p[topic_len]     = '\0';
	m->pub.topic     = p;
	m->pub.topic_len = topic_len;
	p += topic_len + 1;
	if (slen)
		memcpy(p, source, slen);
	p[slen]       = '\0';
	m->pub.source = p;
	p += slen + 1;
	if (len)
		memcpy(p, data, len);
	p[len]      = '\0';
	m->pub.data = p;
	m->pub.len  = len;
	if (k != NULL) {
		xz_new_id(k, m->pub.id, &m->key);
		m->pub.timestamp_us = xz_now_us(k);
	}
	return m;
}

void
xz_kmsg_unref(xz_kmsg *m)
{
	if (m != NULL
	    && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel)
	        == 1)
		free(m);
}

uint64_t
xz_id_key(const uint8_t id[16])
{
	uint64_t v = 0;
	for (int i = 15; i >= 8; i--)
		v = (v << 8) | id[i];
	return v;
}

void
xz_sub_unref(xz_sub *s)
{
	if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (s->peer != NULL)
		xz_peer_unref(s->peer);
	free(s->pattern);
	free(s->group);
	free(s);
}

int
xz_bus_init(xz_kernel *k)
{
	xz_config *c = k->cfg;

	pthread_rwlock_init(&k->bus_lock, NULL);
	pthread_mutex_init(&k->pending_mu, NULL);
	xz_u64map_init(&k->pending);
	xz_u64map_init(&k->subs_by_id);
	k->subs        = xz_tindex_new();
	k->best_effort = xz_tindex_new();
	if (k->subs == NULL || k->best_effort == NULL)
		return XZ_ENOMEM;
	k->nbest_effort_patterns = c ? c->nbest_effort : 0;
	k->publish_timeout_ms    = c ? c->publish_timeout_ms : 5000;
	for (size_t i = 0; c != NULL && i < c->nbest_effort; i++)
		if (xz_tindex_add(k->best_effort, c->best_effort[i],
		        (void *) c->best_effort[i])
		    != 0)
			return XZ_EINVAL;
	return XZ_OK;
}

void
xz_bus_fini(xz_kernel *k)
{
	/* Subscriptions still registered (built-ins, peers at shutdown). */
	for (size_t i = 0; i < k->subs_by_id.cap; i++) {
		uint64_t key = k->subs_by_id.keys[i];
		if (key != 0 && key != UINT64_MAX)
			xz_sub_unref(k->subs_by_id.vals[i]);
	}
	xz_u64map_fini(&k->subs_by_id);
	xz_tindex_free(k->subs);
	xz_tindex_free(k->best_effort);
	while (k->groups != NULL) {
		xz_qgroup *g = k->groups;
		k->groups    = g->next;
		free(g->name);
		free(g);
	}
	/* Pending requests left at shutdown: their requesters are gone. */
	for (size_t i = 0; i < k->pending.cap; i++) {
		uint64_t key = k->pending.keys[i];
		if (key == 0 || key == UINT64_MAX)
			continue;
		xz_pending *pd = k->pending.vals[i];
		if (pd->peer)
			xz_peer_unref(pd->peer);
		free(pd->topic);
		free(pd);
	}
	xz_u64map_fini(&k->pending);
	pthread_mutex_destroy(&k->pending_mu);
	pthread_rwlock_destroy(&k->bus_lock);
}

/* Called with the bus write lock held. */
static xz_qgroup *
group_get(xz_kernel *k, const char *name)
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
group_find(xz_kernel *k, const char *name)
{
	for (xz_qgroup *g = k->groups; g != NULL; g = g->next)
		if (strcmp(g->name, name) == 0)
			return g;
	return NULL;
}

int
xz_bus_subscribe(xz_kernel *k, xz_plugin *owner, struct xz_peer *peer,
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
	atomic_init(&s->refs, 1); /* the index's reference */
	atomic_init(&s->active, true);
	s->id    = atomic_fetch_add(&k->next_sub_id, 1) + 1;
	s->owner = owner;
	s->peer  = peer;
	s->fn    = fn;
	s->ud    = ud;
	if (peer != NULL)
		xz_peer_ref(peer);

	pthread_rwlock_wrlock(&k->bus_lock);
	if (s->group != NULL && group_get(k, s->group) == NULL) {
		pthread_rwlock_unlock(&k->bus_lock);
		xz_sub_unref(s);
		return XZ_ENOMEM;
	}
	if (xz_tindex_add(k->subs, s->pattern, s) != 0
	    || xz_u64map_put(&k->subs_by_id, s->id, s) != 0) {
		xz_tindex_remove(k->subs, s->pattern, s);
		pthread_rwlock_unlock(&k->bus_lock);
		xz_sub_unref(s);
		return XZ_ENOMEM;
	}
	pthread_rwlock_unlock(&k->bus_lock);
	if (id != NULL)
		*id = s->id;
	return XZ_OK;
}

/* Called with the write lock held: detach s from the index. */
static void
sub_detach(xz_kernel *k, xz_sub *s)
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
	atomic_store_explicit(&s->active, false, memory_order_release);
}

int
xz_bus_unsubscribe_id(xz_kernel *k, xz_plugin *owner, uint64_t id)
{
	xz_sub *s;

	pthread_rwlock_wrlock(&k->bus_lock);
	/* Only the owner may remove a subscription: a plugin passing another
	 * one's id (or the sys actor's) gets XZ_ENOENT. */
	s = xz_u64map_get(&k->subs_by_id, id);
	if (s != NULL && s->owner == owner) {
		xz_u64map_del(&k->subs_by_id, id);
		sub_detach(k, s);
	} else
		s = NULL;
	pthread_rwlock_unlock(&k->bus_lock);
	if (s == NULL)
		return XZ_ENOENT;
	xz_sub_unref(s);
	return XZ_OK;
}

void
xz_bus_unsubscribe_all(xz_kernel *k, xz_plugin *owner, struct xz_peer *peer)
{
	xz_bus_unsubscribe_pattern_of(k, owner, peer, NULL);
}

void
xz_bus_unsubscribe_pattern(
    xz_kernel *k, struct xz_peer *peer, const char *pattern)
{
	xz_bus_unsubscribe_pattern_of(k, NULL, peer, pattern);
}

void
xz_bus_unsubscribe_pattern_of(
    xz_kernel *k, xz_plugin *owner, struct xz_peer *peer, const char *pattern)
{
	xz_sub **gone = NULL;
	size_t   n = 0, cap = 0;

	pthread_rwlock_wrlock(&k->bus_lock);
	for (size_t i = 0; i < k->subs_by_id.cap; i++) {
		uint64_t key = k->subs_by_id.keys[i];
		if (key == 0 || key == UINT64_MAX)
			continue;
		xz_sub *s = k->subs_by_id.vals[i];
		if (s->owner != owner || s->peer != peer
		    || (pattern != NULL && strcmp(s->pattern, pattern) != 0))
			continue;
		if (n == cap) {
			size_t   c = cap ? cap * 2 : 16;
			xz_sub **v = realloc(gone, c * sizeof(*v));
			if (v == NULL)
				break;
			gone = v;
			cap  = c;
		}
		gone[n++] = s;
	}
	for (size_t i = 0; i < n; i++) {
		xz_u64map_del(&k->subs_by_id, gone[i]->id);
		sub_detach(k, gone[i]);
	}
	pthread_rwlock_unlock(&k->bus_lock);
	for (size_t i = 0; i < n; i++)
		xz_sub_unref(gone[i]);
	free(gone);
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
collect_choose(xz_kernel *k, struct collect *c)
{
	size_t out = 0;

	for (size_t i = 0; i < c->n; i++) {
		xz_sub *s = c->v[i];
		if (s == NULL)
			continue;
		if (s->group == NULL) {
			c->v[out++] = s;
			atomic_fetch_add_explicit(
			    &s->refs, 1, memory_order_relaxed);
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
		atomic_fetch_add_explicit(
		    &chosen->refs, 1, memory_order_relaxed);
	}
	c->n = out;
}

static void
count_visit(void *ctx, void *item)
{
	(void) item;
	*(bool *) ctx = true;
}

/* Deliver msg to every chosen target. Returns XZ_OK or the first error;
 * *ok gets the number of successful deliveries. */
static int
deliver_all(xz_kernel *k, xz_kmsg *msg, struct collect *c, bool be, size_t *ok)
{
	int      first_err = XZ_OK;
	uint64_t deadline;

	*ok = 0;
	if (c->n == 0)
		return XZ_OK;
	deadline = xz_mono_us() + (uint64_t) k->publish_timeout_ms * 1000u;
	for (size_t i = 0; i < c->n; i++) {
		xz_sub *s = c->v[i];
		int     rc;
		if (s->owner != NULL)
			rc = xz_actor_deliver(s->owner, msg, s, be, deadline);
		else
			rc = xz_peer_deliver(s->peer, msg, be, deadline);
		if (rc == XZ_OK) {
			(*ok)++;
		} else if (rc == XZ_EFULL && be) {
			atomic_fetch_add(&k->dropped_total, 1);
		} else if (rc == XZ_ECLOSED && s->owner == NULL) {
			/* A link peer that went away (its subscriptions
			 * are reaped later): as if it had unsubscribed,
			 * not the publisher's error. */
		} else {
			if (rc == XZ_ETIMEDOUT)
				atomic_fetch_add(&k->backpressure_timeouts, 1);
			if (first_err == XZ_OK)
				first_err = rc;
		}
		xz_sub_unref(s);
	}
	atomic_fetch_add_explicit(
	    &k->delivered_total, *ok, memory_order_relaxed);
	if (c->v != c->local)
		free(c->v);
	return first_err;
}

int
xz_bus_route(xz_kernel *k, xz_kmsg *msg, size_t *ntargets)
{
	struct collect c = { .cap = 32 };
	size_t         ok;
	bool           be = false;
	int            rc;

	c.v = c.local;
	pthread_rwlock_rdlock(&k->bus_lock);
	xz_tindex_match(k->subs, msg->pub.topic, collect_visit, &c);
	collect_choose(k, &c);
	if (c.n > 0 && k->nbest_effort_patterns > 0)
		xz_tindex_match(
		    k->best_effort, msg->pub.topic, count_visit, &be);
	pthread_rwlock_unlock(&k->bus_lock);
	atomic_fetch_add_explicit(&k->published, 1, memory_order_relaxed);
	if (ntargets != NULL)
		*ntargets = c.n;
	if (c.oom) {
		for (size_t i = 0; i < c.n; i++)
			xz_sub_unref(c.v[i]);
		if (c.v != c.local)
			free(c.v);
		return XZ_ENOMEM;
	}
	rc = deliver_all(k, msg, &c, be, &ok);
	if (ntargets != NULL)
		*ntargets = ok;
	return rc;
}

int
xz_bus_publish(xz_kernel *k, const char *source, const char *topic,
    size_t topic_len, const void *data, size_t len, int content_type)
{
	xz_kmsg *m;
	int      rc;

	if (topic == NULL || !xz_topic_valid(topic, topic_len))
		return XZ_EINVAL;
	if (len > k->cfg->max_payload)
		return XZ_ETOOBIG;
	if (atomic_load(&k->stopping) && xz_current == NULL)
		return XZ_ECLOSED;
	m = xz_kmsg_new(k, XZ_KIND_EVENT, topic, topic_len, source, data, len);
	if (m == NULL)
		return XZ_ENOMEM;
	m->pub.content_type = (uint8_t) content_type;
	rc                  = xz_bus_route(k, m, NULL);
	xz_kmsg_unref(m);
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

/* Hand a completion to whoever waits for it. Takes ownership of pd and of
 * the reference on reply. */
static void
complete(xz_kernel *k, xz_pending *pd, xz_kmsg *reply, int status)
{
	if (pd->requester != NULL) {
		xz_job *j = calloc(1, sizeof(*j));
		if (j == NULL) {
			/* Cannot tell the requester: log loudly. */
			xz_log(k, XZ_LOG_ERROR, "kernel",
			    "out of memory completing a request to '%s'",
			    pd->topic);
			xz_kmsg_unref(reply);
			free(pd->topic);
			free(pd);
			return;
		}
		memcpy(reply->pub.corr, pd->req_id, 16);
		j->type            = XZ_JOB_REPLY;
		j->u.reply.pending = pd;
		j->u.reply.reply   = reply;
		j->u.reply.status  = status;
		xz_actor_job(pd->requester, j);
		return;
	}
	if (pd->peer != NULL) {
		memcpy(reply->pub.corr, pd->req_id, 16);
		/* Replies are never dropped for lack of room: wait. */
		xz_peer_deliver(pd->peer, reply, false,
		    xz_mono_us() + (uint64_t) k->publish_timeout_ms * 1000u);
		xz_peer_unref(pd->peer);
	}
	xz_kmsg_unref(reply);
	free(pd->topic);
	free(pd);
}

static xz_pending *
pending_take(xz_kernel *k, uint64_t key, const uint8_t *internal_id)
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

int
xz_bus_request(xz_kernel *k, xz_plugin *requester, struct xz_peer *peer,
    const uint8_t *peer_req_id, const char *source, const char *topic,
    size_t topic_len, const void *data, size_t len, uint32_t timeout_ms,
    xz_reply_fn fn, void *ud)
{
	xz_pending *pd;
	xz_kmsg    *m;
	size_t      n;
	int         rc;

	if (topic == NULL || !xz_topic_valid(topic, topic_len))
		return XZ_EINVAL;
	if (len > k->cfg->max_payload)
		return XZ_ETOOBIG;
	if (timeout_ms == 0)
		timeout_ms = k->cfg->request_timeout_ms;
	m = xz_kmsg_new(
	    k, XZ_KIND_REQUEST, topic, topic_len, source, data, len);
	if (m == NULL)
		return XZ_ENOMEM;
	m->pub.deadline_us
	    = m->pub.timestamp_us + (uint64_t) timeout_ms * 1000u;
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
		xz_peer_ref(peer);

	pthread_mutex_lock(&k->pending_mu);
	rc = xz_u64map_put(&k->pending, pd->key, pd);
	pthread_mutex_unlock(&k->pending_mu);
	if (rc != 0
	    || xz_timer_add(k, NULL, pd->key, (uint64_t) timeout_ms * 1000u, 0,
	           NULL, NULL, &pd->timer_id)
	        != XZ_OK) {
		pending_take(k, pd->key, NULL);
		goto fail_nomem;
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
	xz_timer_cancel(k, NULL, pd->timer_id);
	if (pd->peer)
		xz_peer_unref(pd->peer);
	free(pd->topic);
	free(pd);
	return rc != XZ_OK ? rc : XZ_ENORESPONDERS;

fail_nomem:
	if (pd->peer)
		xz_peer_unref(pd->peer);
	free(pd->topic);
	free(pd);
	xz_kmsg_unref(m);
	return XZ_ENOMEM;
}

int
xz_bus_complete(xz_kernel *k, const uint8_t corr[16], uint64_t key,
    const char *source, const void *data, size_t len, uint16_t flags)
{
	xz_pending *pd = pending_take(k, key, corr);
	xz_kmsg    *r;

	if (pd == NULL)
		return XZ_ENOENT;
	xz_timer_cancel(k, NULL, pd->timer_id);
	r = xz_kmsg_new(
	    k, XZ_KIND_REPLY, pd->topic, strlen(pd->topic), source, data, len);
	if (r == NULL) {
		size_t n;
		char  *e = xz_error_json("internal", "out of memory", &n);
		r        = xz_kmsg_new(NULL, XZ_KIND_REPLY, pd->topic,
		           strlen(pd->topic), source, e, n);
		free(e);
		if (r == NULL) {
			if (pd->peer)
				xz_peer_unref(pd->peer);
			free(pd->topic);
			free(pd);
			return XZ_ENOMEM;
		}
		flags |= XZ_MSG_ERROR;
	}
	r->pub.flags = flags;
	complete(k, pd, r, XZ_OK);
	return XZ_OK;
}

void
xz_bus_timeout(xz_kernel *k, uint64_t key)
{
	xz_pending *pd = pending_take(k, key, NULL);
	char        text[320];
	size_t      n;
	char       *e;
	xz_kmsg    *r;

	if (pd == NULL)
		return;
	snprintf(text, sizeof(text), "no reply to '%s' within %u ms",
	    pd->topic, pd->timeout_ms);
	e = xz_error_json("timeout", text, &n);
	r = xz_kmsg_new(k, XZ_KIND_REPLY, pd->topic, strlen(pd->topic),
	    "kernel", e ? e : "", e ? n : 0);
	free(e);
	if (r == NULL) {
		if (pd->peer)
			xz_peer_unref(pd->peer);
		free(pd->topic);
		free(pd);
		return;
	}
	r->pub.flags = XZ_MSG_ERROR;
	complete(k, pd, r, XZ_ETIMEDOUT);
}
