/*
 * authz.h - permissions, NATS-style: per role, allow and deny lists of
 * topic patterns for publishing (events and requests) and for subscribing.
 * A principal may do what one of its roles allows: an allow pattern
 * matches and no deny pattern of that role does (union over the roles).
 * Role "admin" and the node ("node") may do everything unless the table
 * defines "admin" itself.
 *
 * Subscribing to a pattern needs the pattern to lie inside an allowed
 * pattern ("prison.alarm.*" inside "prison.>"), and not inside a denied
 * one; what a wildcard subscription would receive from a denied topic is
 * filtered out when it is delivered (xz_authz_may_receive).
 *
 * Any thread may check against a table (a read lock); a reload replaces
 * the roles that came from the config with a new table's
 * (xz_authz_replace) and bumps a generation counter. A cache
 * (xz_authz_cache) remembers decisions per topic for one principal:
 * bounded (direct-mapped), one thread at a time; it forgets them all when
 * it sees the generation changed (one atomic load a check).
 */
#ifndef XZ_BUS_AUTHZ_H
#define XZ_BUS_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/principal.h"

typedef struct xz_authz xz_authz;

enum { XZ_AUTHZ_PUBLISH = 0, XZ_AUTHZ_SUBSCRIBE = 1 };

/* An empty table; NULL on ENOMEM. */
xz_authz *xz_authz_new(void);
void      xz_authz_free(xz_authz *a);
/* Add (or extend) role id's allow / deny patterns for what (publish or
 * subscribe). Patterns copied. XZ_OK, XZ_EINVAL (bad pattern), XZ_ENOMEM. */
int xz_authz_add(xz_authz *a, const char *role, int what, bool deny,
    const char *const *patterns, size_t n);
/* Whether principal p may publish / request on topic. */
bool xz_authz_may_publish(
    const xz_authz *a, const xz_principal *p, const char *topic);
/* Whether p may subscribe to pattern. */
bool xz_authz_may_subscribe(
    const xz_authz *a, const xz_principal *p, const char *pattern);
/* Whether p may receive a message on topic (its subscription matched). */
bool xz_authz_may_receive(
    const xz_authz *a, const xz_principal *p, const char *topic);
/* Mark every role now in a as from the config: xz_authz_replace drops
 * them. Roles added later (a node link's own) are kept by a replace. */
void xz_authz_mark_config(xz_authz *a);
/* Replace a's config roles by next's (consumed: freed here), keep the
 * others, and bump the generation: every cache forgets its decisions. */
void xz_authz_replace(xz_authz *a, xz_authz *next);
/* The generation: how many replacements a has seen. */
uint64_t xz_authz_gen(const xz_authz *a);
/* Whether the table has role id. */
bool xz_authz_has_role(const xz_authz *a, const char *id);
/* Role id alone (a plugin's grants): publish, topic matches an allow and
 * no deny pattern; subscribe, pattern lies inside an allow pattern. A
 * role the table does not have allows everything. */
bool xz_authz_role_may(
    const xz_authz *a, const char *id, int what, const char *topic);
/* Whether p may do everything (no check needed at all). */
bool xz_authz_unrestricted(const xz_authz *a, const xz_principal *p);
/* The roles table as read from the config: how many roles. */
size_t xz_authz_roles(const xz_authz *a);

/* 1 if every topic matching pattern sub also matches pattern sup. */
int xz_pattern_within(const char *sub, const char *sup);

/* Decisions for one principal, per topic. Bounded: XZ_AUTHZ_CACHE slots,
 * a new topic replaces the one in its slot. */
#define XZ_AUTHZ_CACHE 256
typedef struct xz_authz_cache {
	const xz_authz     *a; /* borrowed */
	const xz_principal *p; /* borrowed: the owner keeps a reference */
	uint64_t            gen; /* a's generation the decisions are of */
	struct {
		uint64_t hash;
		char    *topic; /* owned */
		bool     ok;
	} slot[XZ_AUTHZ_CACHE];
	uint64_t hits, misses;
} xz_authz_cache;

void xz_authz_cache_init(
    xz_authz_cache *c, const xz_authz *a, const xz_principal *p);
/* Forget every decision (the principal changed). */
void xz_authz_cache_reset(xz_authz_cache *c, const xz_principal *p);
void xz_authz_cache_fini(xz_authz_cache *c);
/* xz_authz_may_publish (what 0) or _may_receive (what 1), cached. */
bool xz_authz_cached(xz_authz_cache *c, int what, const char *topic);

#endif
