/*
 * authz.c - permissions per role (see authz.h): each role keeps its
 * patterns in tries (util/topic.h), so a check is one trie walk a role.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bus/authz.h"
#include "util/topic.h"

typedef struct role {
	char        *id; /* owned */
	xz_tindex   *ix[2][2]; /* [what][deny] owned */
	char       **pats[2][2]; /* the patterns, for subscribe checks */
	size_t       npats[2][2];
	bool         cfg; /* from the config: replaced by a reload */
	struct role *next;
} role;

/* The roles are read under the read lock (checks) and changed under the
 * write lock (add, replace); gen counts the replacements, so a cache
 * sees with one atomic load that its decisions are stale. */
struct xz_authz {
	pthread_rwlock_t     lk;
	role                *roles; /* owned */
	size_t               nroles;
	bool                 admin_defined;
	atomic_uint_fast64_t gen;
};

xz_authz *
xz_authz_new(void)
{
	xz_authz *a = calloc(1, sizeof(xz_authz));

	if (a != NULL && pthread_rwlock_init(&a->lk, NULL) != 0) {
		free(a);
		return NULL;
	}
	return a;
}

static void
roles_free(role *list)
{
	while (list != NULL) {
		role *r = list;
		list    = r->next;
		for (int w = 0; w < 2; w++)
			for (int d = 0; d < 2; d++) {
				xz_tindex_free(r->ix[w][d]);
				for (size_t i = 0; i < r->npats[w][d]; i++)
					free(r->pats[w][d][i]);
				free(r->pats[w][d]);
			}
		free(r->id);
		free(r);
	}
}

void
xz_authz_free(xz_authz *a)
{
	if (a == NULL)
		return;
	roles_free(a->roles);
	pthread_rwlock_destroy(&a->lk);
	free(a);
}

static role *
role_find(const xz_authz *a, const char *id)
{
	for (role *r = a->roles; r != NULL; r = r->next)
		if (strcmp(r->id, id) == 0)
			return r;
	return NULL;
}

static int
add_locked(xz_authz *a, const char *id, int what, bool deny,
    const char *const *patterns, size_t n)
{
	role *r = role_find(a, id);
	int   d = deny ? 1 : 0;

	if (what != XZ_AUTHZ_PUBLISH && what != XZ_AUTHZ_SUBSCRIBE)
		return XZ_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!xz_pattern_valid(patterns[i], strlen(patterns[i])))
			return XZ_EINVAL;
	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL
		    || (r->id = strdup(id)) == NULL) {
			free(r);
			return XZ_ENOMEM;
		}
		r->next  = a->roles;
		a->roles = r;
		a->nroles++;
		if (strcmp(id, "admin") == 0)
			a->admin_defined = true;
	}
	if (r->ix[what][d] == NULL
	    && (r->ix[what][d] = xz_tindex_new()) == NULL)
		return XZ_ENOMEM;
	char **v = realloc(
	    r->pats[what][d], (r->npats[what][d] + n) * sizeof(char *));
	if (v == NULL && r->npats[what][d] + n > 0)
		return XZ_ENOMEM;
	r->pats[what][d] = v;
	for (size_t i = 0; i < n; i++) {
		char *p = strdup(patterns[i]);
		if (p == NULL)
			return XZ_ENOMEM;
		v[r->npats[what][d]++] = p;
		if (xz_tindex_add(r->ix[what][d], p, p) != 0)
			return XZ_ENOMEM;
	}
	return XZ_OK;
}

int
xz_authz_add(xz_authz *a, const char *id, int what, bool deny,
    const char *const *patterns, size_t n)
{
	pthread_rwlock_wrlock(&a->lk);
	int rc = add_locked(a, id, what, deny, patterns, n);
	pthread_rwlock_unlock(&a->lk);
	return rc;
}

void
xz_authz_mark_config(xz_authz *a)
{
	pthread_rwlock_wrlock(&a->lk);
	for (role *r = a->roles; r != NULL; r = r->next)
		r->cfg = true;
	pthread_rwlock_unlock(&a->lk);
}

void
xz_authz_replace(xz_authz *a, xz_authz *next)
{
	role *keep = NULL, *drop = NULL;

	pthread_rwlock_wrlock(&a->lk);
	/* The roles added since (not from the config) stay, unless the new
	 * table defines them itself. */
	while (a->roles != NULL) {
		role *r  = a->roles;
		a->roles = r->next;
		if (!r->cfg && role_find(next, r->id) == NULL) {
			r->next = keep;
			keep    = r;
		} else {
			r->next = drop;
			drop    = r;
		}
	}
	a->nroles        = 0;
	a->admin_defined = false;
	for (role *r = next->roles; r != NULL; r = r->next) {
		r->cfg = true;
		a->nroles++;
		if (strcmp(r->id, "admin") == 0)
			a->admin_defined = true;
	}
	for (role *r = keep; r != NULL; r = r->next)
		a->nroles++;
	/* next's roles first, then the kept ones */
	role **tail = &next->roles;
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail       = keep;
	a->roles    = next->roles;
	next->roles = NULL;
	atomic_fetch_add(&a->gen, 1);
	pthread_rwlock_unlock(&a->lk);
	roles_free(drop);
	xz_authz_free(next);
}

uint64_t
xz_authz_gen(const xz_authz *a)
{
	return atomic_load_explicit(
	    &((xz_authz *) a)->gen, memory_order_acquire);
}

size_t
xz_authz_roles(const xz_authz *a)
{
	pthread_rwlock_rdlock(&((xz_authz *) a)->lk);
	size_t n = a->nroles;
	pthread_rwlock_unlock(&((xz_authz *) a)->lk);
	return n;
}

bool
xz_authz_has_role(const xz_authz *a, const char *id)
{
	pthread_rwlock_rdlock(&((xz_authz *) a)->lk);
	bool found = role_find(a, id) != NULL;
	pthread_rwlock_unlock(&((xz_authz *) a)->lk);
	return found;
}

static bool
unrestricted(const xz_authz *a, const xz_principal *p)
{
	if (p == NULL)
		return true; /* the node itself */
	if (xz_principal_has_role(p, "node"))
		return true;
	return !a->admin_defined && xz_principal_has_role(p, "admin");
}

bool
xz_authz_unrestricted(const xz_authz *a, const xz_principal *p)
{
	pthread_rwlock_rdlock(&((xz_authz *) a)->lk);
	bool u = unrestricted(a, p);
	pthread_rwlock_unlock(&((xz_authz *) a)->lk);
	return u;
}

/* Whether role r lets topic through for what. */
static bool
role_topic(const role *r, int what, const char *topic)
{
	return r->ix[what][0] != NULL
	    && xz_tindex_match(r->ix[what][0], topic, NULL, NULL) > 0
	    && (r->ix[what][1] == NULL
	        || xz_tindex_match(r->ix[what][1], topic, NULL, NULL) == 0);
}

/* Requests every authenticated principal may send, whatever its roles:
 * the ping, its own session (login, logout, whoami) and the identity
 * requests, whose handler (sys_auth.c) itself requires the role admin
 * and says so. */
static bool
self_service(const char *topic)
{
	return strcmp(topic, "xz.sys.ping") == 0
	    || strncmp(topic, "xz.sys.auth.", 12) == 0
	    || strncmp(topic, "xz.sys.identity.", 16) == 0;
}

static bool
may_topic_locked(
    const xz_authz *a, const xz_principal *p, int what, const char *topic)
{
	if (unrestricted(a, p))
		return true;
	/* A deployment without auth.roles leaves the bus open to every
	 * authenticated principal: the plugins' own role tables decide
	 * (docs/security.md). */
	if (a->nroles == 0)
		return true;
	if (what == XZ_AUTHZ_PUBLISH && self_service(topic))
		return true;
	for (size_t i = 0; i < p->nroles; i++) {
		const role *r = role_find(a, p->pub.roles[i]);
		if (r != NULL && role_topic(r, what, topic))
			return true;
	}
	return false;
}

static bool
may_topic(
    const xz_authz *a, const xz_principal *p, int what, const char *topic)
{
	pthread_rwlock_rdlock(&((xz_authz *) a)->lk);
	bool ok = may_topic_locked(a, p, what, topic);
	pthread_rwlock_unlock(&((xz_authz *) a)->lk);
	return ok;
}

bool
xz_authz_role_may(
    const xz_authz *a, const char *id, int what, const char *topic)
{
	pthread_rwlock_rdlock(&((xz_authz *) a)->lk);
	const role *r  = role_find(a, id);
	bool        ok = r == NULL;
	if (r != NULL && what == XZ_AUTHZ_PUBLISH)
		ok = role_topic(r, what, topic);
	else if (r != NULL)
		for (size_t j = 0; !ok && j < r->npats[1][0]; j++)
			ok = xz_pattern_within(topic, r->pats[1][0][j]);
	pthread_rwlock_unlock(&((xz_authz *) a)->lk);
	return ok;
}

bool
xz_authz_may_publish(
    const xz_authz *a, const xz_principal *p, const char *topic)
{
	return may_topic(a, p, XZ_AUTHZ_PUBLISH, topic);
}

bool
xz_authz_may_receive(
    const xz_authz *a, const xz_principal *p, const char *topic)
{
	return may_topic(a, p, XZ_AUTHZ_SUBSCRIBE, topic);
}

/* The next token of *s (advanced past it and its dot): length. */
static size_t
token(const char **s)
{
	const char *t = *s, *dot = strchr(t, '.');
	size_t      n = dot ? (size_t) (dot - t) : strlen(t);

	*s = dot ? dot + 1 : t + n;
	return n;
}

int
xz_pattern_within(const char *sub, const char *sup)
{
	for (;;) {
		if (*sup == '\0' || *sub == '\0')
			return *sup == '\0' && *sub == '\0';
		const char *st = sub, *pt = sup;
		size_t      sn = token(&sub), pn = token(&sup);
		if (pn == 1 && pt[0] == '>')
			return 1; /* the rest, whatever it is (one or more) */
		if (sn == 1 && st[0] == '>')
			return 0; /* sub goes on where sup does not */
		if (pn == 1 && pt[0] == '*')
			continue; /* one token: a literal or '*' */
		if (sn == 1 && st[0] == '*')
			return 0;
		if (sn != pn || memcmp(st, pt, sn) != 0)
			return 0;
	}
}

static bool
may_subscribe_locked(
    const xz_authz *a, const xz_principal *p, const char *pattern)
{
	if (unrestricted(a, p) || a->nroles == 0)
		return true;
	for (size_t i = 0; i < p->nroles; i++) {
		const role *r  = role_find(a, p->pub.roles[i]);
		bool        in = false;
		if (r == NULL)
			continue;
		for (size_t j = 0; !in && j < r->npats[1][0]; j++)
			in = xz_pattern_within(pattern, r->pats[1][0][j]);
		for (size_t j = 0; in && j < r->npats[1][1]; j++)
			if (xz_pattern_within(pattern, r->pats[1][1][j]))
				in = false;
		if (in)
			return true;
	}
	return false;
}

bool
xz_authz_may_subscribe(
    const xz_authz *a, const xz_principal *p, const char *pattern)
{
	pthread_rwlock_rdlock(&((xz_authz *) a)->lk);
	bool ok = may_subscribe_locked(a, p, pattern);
	pthread_rwlock_unlock(&((xz_authz *) a)->lk);
	return ok;
}

void
xz_authz_cache_init(
    xz_authz_cache *c, const xz_authz *a, const xz_principal *p)
{
	memset(c, 0, sizeof(*c));
	c->a   = a;
	c->p   = p;
	c->gen = a != NULL ? xz_authz_gen(a) : 0;
}

void
xz_authz_cache_reset(xz_authz_cache *c, const xz_principal *p)
{
	const xz_authz *a = c->a;

	xz_authz_cache_fini(c);
	xz_authz_cache_init(c, a, p);
}

void
xz_authz_cache_fini(xz_authz_cache *c)
{
	for (size_t i = 0; i < XZ_AUTHZ_CACHE; i++)
		free(c->slot[i].topic);
	memset(c->slot, 0, sizeof(c->slot));
}

bool
xz_authz_cached(xz_authz_cache *c, int what, const char *topic)
{
	uint64_t h = 14695981039346656037ull ^ (uint64_t) what;
	size_t   n = 0;

	for (const char *s = topic; *s; s++, n++)
		h = (h ^ (uint8_t) *s) * 1099511628211ull;
	size_t i = (size_t) (h ^ (h >> 32)) & (XZ_AUTHZ_CACHE - 1);
	/* The permissions were reloaded: every decision is stale. */
	uint64_t g = xz_authz_gen(c->a);
	if (g != c->gen) {
		xz_authz_cache_fini(c);
		c->gen = g;
	}
	if (c->slot[i].topic != NULL && c->slot[i].hash == h
	    && memcmp(c->slot[i].topic, topic, n + 1) == 0) {
		c->hits++;
		return c->slot[i].ok;
	}
	c->misses++;
	bool  ok = what == XZ_AUTHZ_PUBLISH
	     ? xz_authz_may_publish(c->a, c->p, topic)
	     : xz_authz_may_receive(c->a, c->p, topic);
	char *t  = strdup(topic);
	if (t != NULL) {
		free(c->slot[i].topic);
		c->slot[i].topic = t;
		c->slot[i].hash  = h;
		c->slot[i].ok    = ok;
	}
	return ok;
}
