/*
 * durable.h - the node's durable log: at-least-once delivery of the events
 * on the topics listed in bus.durable (docs/architecture.md, "Durable
 * topics").
 *
 * A SQLite database in WAL mode (<data_dir>/bus-durable.db) holds each
 * such event (id, topic, source, payload, time) and, for every durable
 * consumer (a plugin instance that subscribed with subscribe_durable) whose
 * pattern matches it, one pending row. The publisher is answered only once
 * the event is committed; concurrent publishers share one commit (a leader
 * writes what every waiting publisher queued). An ack deletes the pending
 * row (batched, without waiting), and the event when no consumer still
 * needs it. What stays pending is delivered again, flagged
 * XZ_MSG_REDELIVERED, when the consumer subscribes at the next start, and
 * every redeliver_ms while it stays subscribed.
 *
 * The log is bounded: an event that would take it past max_bytes is
 * refused with XZ_EDURABLEFULL, so nothing is lost silently.
 *
 * This file calls nothing above the wire layer: the replay thread hands
 * each message to the deliver function it was given (the bus).
 */
#ifndef XZ_BUS_DURABLE_H
#define XZ_BUS_DURABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "wire/kmsg.h"

typedef struct xz_durable xz_durable;

typedef struct xz_durable_cfg {
	const char        *path; /* the database file */
	const char *const *patterns; /* bus.durable; borrowed */
	size_t             npatterns;
	uint64_t           max_bytes; /* bus.durable_max_bytes */
	/* Hand msg (the caller's reference goes with it on XZ_OK) to the
	 * subscription sub_id; XZ_ETIMEDOUT / XZ_EFULL: try again later;
	 * anything else: the subscription is gone. */
	int (*deliver)(void *ud, uint64_t sub_id, xz_kmsg *msg);
	void *deliver_ud;
	/* Every this often (0: 30000 ms), what a subscribed consumer has
	 * left unacknowledged for a whole period is delivered again. */
	uint32_t redeliver_ms;
} xz_durable_cfg;

/* Open (or create) the log. XZ_OK, or an error with the reason in err. */
int xz_durable_open(
    xz_durable **out, const xz_durable_cfg *cfg, char *err, size_t errlen);
/* Stop the replay thread (before the subscriptions go away). */
void xz_durable_stop(xz_durable *d);
void xz_durable_close(xz_durable *d);

/* Is topic listed in bus.durable? */
bool xz_durable_topic(xz_durable *d, const char *topic);

/* Log msg (an event on a durable topic) for every consumer whose pattern
 * matches it, except the one named like its source. Waits for the
 * commit. Sets XZ_MSG_DURABLE on msg when it was kept. XZ_OK (also when
 * no consumer wants it), XZ_EDURABLEFULL, XZ_EIO, XZ_ENOMEM. */
int xz_durable_append(xz_durable *d, xz_kmsg *msg);

/* Consumer name (a plugin instance) subscribed durably to pattern as
 * subscription sub_id: remember it (in the log, for events published
 * while it is down) and deliver what it has pending under pattern. */
int xz_durable_subscribe(
    xz_durable *d, const char *name, const char *pattern, uint64_t sub_id);

/* Consumer name committed the event id. Queued, written with the next
 * commit (or at once when none is running). */
int xz_durable_ack(xz_durable *d, const char *name, const uint8_t id[16]);

/* {"bytes","max_bytes","events","written" (events written since open),
 * "redeliver_ms",
 * "consumers":[{"name","patterns","subscribed","pending","oldest_ms"}]}
 * (now_us: the kernel clock). New reference. */
json_t *xz_durable_status(xz_durable *d, uint64_t now_us);

#endif
