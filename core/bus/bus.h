/*
 * bus.h - local routing: subscriptions, publish with backpressure, queue
 * groups, request/reply with deadlines and an explicit "no responders".
 *
 * A subscription delivers to one of two kinds of target: an actor (a
 * plugin instance: the message lands in its mailbox) or a remote target
 * (xz_target: a link peer, implemented by the link layer above). The bus
 * calls a remote target only through its ops, so it never depends on the
 * link layer.
 *
 * Lock order: bus.lock (rwlock) -> actor.mu / a target's own lock.
 * pending_mu is a leaf.
 */
#ifndef XZ_BUS_BUS_H
#define XZ_BUS_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched/actor.h"
#include "sched/timer.h"
#include "util/clock.h"
#include "util/id.h"
#include "wire/kmsg.h"

typedef struct xz_bus    xz_bus;
typedef struct xz_target xz_target;

typedef struct xz_target_ops {
	/* Queue msg (adds its own reference). XZ_OK, XZ_EFULL (best effort
	 * and no room), XZ_ETIMEDOUT (no room until deadline), XZ_ECLOSED
	 * (the target went away). Replies must always find room. */
	int (*deliver)(xz_target *t, xz_kmsg *msg, bool best_effort,
	    uint64_t deadline_mono_us);
	void (*ref)(xz_target *t);
	void (*unref)(xz_target *t);
} xz_target_ops;

/* Embedded as the first member of the implementer's struct. */
struct xz_target {
	const xz_target_ops *ops;
};

/* Told of each message handed to an actor's mailbox (dropped false) and
 * of each best-effort message dropped at a full one (dropped true), on the
 * thread that delivers, outside the bus's locks; topic is the message's.
 * It must be quick and must not call into the bus. The kernel counts
 * messages in and drops per plugin and topic class with it. */
typedef void (*xz_bus_count_fn)(
    void *ud, xz_actor *owner, const char *topic, bool dropped);

typedef struct xz_bus_cfg {
	uint32_t           max_payload;
	uint32_t           publish_timeout_ms;
	uint32_t           request_timeout_ms;
	const char *const *best_effort; /* patterns; borrowed */
	size_t             nbest_effort;
	xz_bus_count_fn    count; /* NULL: nobody counts */
	void              *count_ud;
} xz_bus_cfg;

typedef struct xz_bus_stats {
	uint64_t published, delivered, dropped, backpressure_timeouts;
	uint64_t failed_replies; /* completions that found no memory */
	size_t   pending, subscriptions;
} xz_bus_stats;

/* A bus using timers, clock and ids (borrowed; they outlive it). The
 * best-effort patterns are copied. XZ_EINVAL for a bad pattern. */
int  xz_bus_new(xz_bus **out, const xz_bus_cfg *cfg, xz_timers *timers,
     xz_clock *clk, xz_idgen *ids);
void xz_bus_free(xz_bus *b);
/* Stop intake: publishes from outside any actor get XZ_ECLOSED. */
void xz_bus_close_intake(xz_bus *b);

/* The node stops: every request an actor of this node still waits for is
 * answered now with the error reply `unavailable` ("the node is stopping"),
 * its completion queued as the actor's job as usual, so each completion
 * runs exactly once and what its ud holds is freed. From then on an
 * actor's request is refused with XZ_ECLOSED (its completion never runs).
 * Requests of peers are left to their links. Returns how many were
 * answered. */
size_t xz_bus_cancel_requests(xz_bus *b);
void   xz_bus_stats_get(xz_bus *b, xz_bus_stats *st);

/* A message with a fresh id and the kernel clock's timestamp. The caller
 * owns the reference; NULL on ENOMEM. */
xz_kmsg *xz_bus_msg(xz_bus *b, int kind, const char *topic, size_t topic_len,
    const char *source, const void *data, size_t len);
/* Route msg (EVENT or REQUEST) to the matching subscriptions. XZ_OK or
 * the first delivery error; *ntargets (if not NULL) gets the number of
 * successful deliveries. The caller keeps its reference. */
int xz_bus_route(xz_bus *b, xz_kmsg *msg, size_t *ntargets);
/* xz_bus_route for an event that must not be lost on the way (a node
 * link's business events, kernel/nodelink.c): a target with no room is
 * waited for again, publish_timeout_ms at a time, until it takes msg,
 * goes away, or *stop is set (then XZ_ETIMEDOUT). A best-effort topic
 * routes as with xz_bus_route. */
int xz_bus_route_until(
    xz_bus *b, xz_kmsg *msg, const atomic_bool *stop, size_t *ntargets);

/* Subscribe owner (an actor: fn runs in its context) or peer (a remote
 * target; fn unused). *id (if not NULL) gets the subscription's id. */
int xz_bus_subscribe(xz_bus *b, xz_actor *owner, xz_target *peer,
    const char *pattern, const char *group, xz_handler fn, void *ud,
    uint64_t *id);
/* Remove subscription id if owner holds it (NULL: a peer's); XZ_ENOENT
 * otherwise. */
int xz_bus_unsubscribe_id(xz_bus *b, xz_actor *owner, uint64_t id);
/* Remove every subscription of owner / peer (with that pattern if given).
 * Allocates nothing, so it cannot fail. */
void xz_bus_unsubscribe_all(xz_bus *b, xz_actor *owner, xz_target *peer);
void xz_bus_unsubscribe_pattern(
    xz_bus *b, xz_target *peer, const char *pattern);

/* Call fn for every subscription, under the read lock: its pattern
 * (valid during the call only), its owner actor or remote target. fn must
 * not call into the bus. Node links read what this node is interested in
 * this way (kernel/nodelink.c). */
void xz_bus_each_sub(xz_bus *b,
    void (*fn)(void *ud, const char *pattern, const xz_actor *owner,
        const xz_target *peer),
    void *ud);

/* Reserve requests on pattern for owner: a request whose topic matches it
 * is delivered only to owner's subscriptions (nobody else can answer it,
 * nor see its payload). Several owners may reserve one pattern: the
 * request reaches the subscriptions of any of them, and none at all when
 * no owner subscribes (the kernel's guard of audit.>, which never does).
 * Pattern copied. XZ_OK, XZ_EINVAL, XZ_ENOMEM. */
int xz_bus_reserve(xz_bus *b, const char *pattern, xz_actor *owner);

/* Publish an event (topic and data copied) sent by who (borrowed: the
 * message takes its own reference; NULL: the node). */
int xz_bus_publish(xz_bus *b, const char *source, const char *topic,
    size_t topic_len, const void *data, size_t len, int content_type,
    xz_principal *who);
/*
 * Start a request from an actor (fn runs once in its context) or for a
 * peer (the reply goes to it with corr = peer_req_id). timeout_ms 0: the
 * bus's default. XZ_OK, or an error and nothing is kept:
 * XZ_ENORESPONDERS when nothing matched.
 */
int xz_bus_request(xz_bus *b, xz_actor *requester, xz_target *peer,
    const uint8_t *peer_req_id, const char *source, const char *topic,
    size_t topic_len, const void *data, size_t len, uint32_t timeout_ms,
    xz_reply_fn fn, void *ud, xz_principal *who);
/* Complete the pending request whose id is corr (key: its counter half).
 * XZ_ENOENT when it already completed or timed out. */
int xz_bus_complete(xz_bus *b, const uint8_t corr[16], uint64_t key,
    const char *source, const void *data, size_t len, uint16_t flags,
    xz_principal *who);

/* Log events on durable topics in d (borrowed; NULL: none) before they
 * are routed: xz_bus_publish then answers XZ_EDURABLEFULL or XZ_EIO
 * when the log cannot take one. Set before the first publish. */
struct xz_durable;
void xz_bus_set_durable(xz_bus *b, struct xz_durable *d);
/* Write event msg to the durable log when its topic is in bus.durable
 * and a durable consumer wants it (waits for the commit; sets
 * XZ_MSG_DURABLE), before it is routed with xz_bus_route: what
 * xz_bus_publish does, for messages built elsewhere (events from another
 * node). XZ_OK (also when nothing was written), XZ_EDURABLEFULL, XZ_EIO,
 * XZ_ENOMEM: then do not route it. */
int xz_bus_durable_log(xz_bus *b, xz_kmsg *msg);
/* Hand msg to subscription sub_id alone (a redelivery from the durable
 * log), waiting up to wait_ms for room. XZ_OK (the caller's reference
 * on msg went with it), XZ_ETIMEDOUT, XZ_ENOENT (no such subscription),
 * XZ_ECLOSED. */
int xz_bus_deliver_sub(
    xz_bus *b, uint64_t sub_id, xz_kmsg *msg, uint32_t wait_ms);

/* {"error":{"code":code,"message":message}}; the caller frees. */
char *xz_error_json(const char *code, const char *message, size_t *len);

#endif
