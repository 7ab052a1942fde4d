/*
 * bench_relay.h - process -> broker -> process throughput, measured the
 * same way for the xiezhi node and for nats-server.
 *
 * Two `xiezhi bench-peer` processes: a subscriber (KIND-sub), started first
 * and READY once its subscription is confirmed by the broker, and a
 * publisher (KIND-pub), READY once connected. The bench takes the
 * monotonic clock (shared by every process of the machine) and says GO;
 * the publisher sends count messages of XZ_RELAY_PAYLOAD bytes, each
 * carrying its sequence number, flushes, waits for the broker to confirm,
 * and reports; the subscriber counts what arrives, checks the order, and
 * reports the clock when the last one arrived (or gives up after
 * XZ_RELAY_IDLE_MS without a message). msgs/s = count / (last - GO), and
 * only for a run where every message arrived, in order: a lossy run has
 * no figure, only the count of what was lost.
 */
#ifndef XZ_BENCH_RELAY_H
#define XZ_BENCH_RELAY_H

#include <stddef.h>
#include <stdint.h>

#define XZ_RELAY_PAYLOAD 64
#define XZ_RELAY_IDLE_MS 10000

typedef struct xz_relay_result {
	double   msgs_per_s; /* NAN unless all count arrived, in order */
	long     lost; /* count minus what arrived; -1: not measured */
	unsigned disorder; /* messages whose predecessor was not the last */
	char     why[200]; /* when msgs_per_s is NAN: why, for people */
} xz_relay_result;

/* One run through the broker at url: kind "relay" (xz_client peers, url is
 * a node's bus endpoint) or "nats" (libnats peers, url nats://...).
 * self_exe is argv[0] of the bench (the peers are /proc/self/exe). */
void xz_bench_relay(const char *self_exe, const char *kind, const char *url,
    const char *topic, const char *pattern, unsigned count,
    xz_relay_result *r);

/* ---- what the peers share ---- */

/* Fill the payload of message seq. */
void xz_relay_payload(uint8_t p[XZ_RELAY_PAYLOAD], uint64_t seq);

/* The subscriber's tally. */
typedef struct xz_relay_count {
	uint64_t count; /* how many are expected */
	uint64_t next; /* sequence number expected next */
	uint64_t got, disorder, bad_size;
	uint64_t end_us; /* monotonic clock when the count-th arrived */
} xz_relay_count;

/* Count one received payload (stamping end_us at the count-th); true
 * once count have arrived. */
int xz_relay_take(xz_relay_count *c, const uint8_t *p, size_t len);

/* Peer side of the protocol above, on stdin/stdout. */
void xz_relay_say_ready(void);
/* Block until the bench says GO. 0, or -1 (stdin closed). */
int xz_relay_wait_go(void);
/* The subscriber's report; dropped is
 * what the client library says it dropped (-1: unknown). Returns the exit
 * code: 0 when all arrived in order. */
int xz_relay_report_sub(xz_relay_count *c, long long dropped);
/* The publisher's report; refused: messages the broker refused or the
 * library failed to send. Returns the exit code. */
int xz_relay_report_pub(uint64_t sent, uint64_t refused);

/* `xiezhi bench-peer relay-pub URL TOPIC COUNT` and
 * `xiezhi bench-peer relay-sub URL PATTERN COUNT` (argv[1] is the mode). */
int xz_bench_relay_peer(int argc, char **argv);

#endif
