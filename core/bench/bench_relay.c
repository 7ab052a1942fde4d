/*
 * bench_relay.c - process -> node -> process (and the same for
 * nats-server, bench_nats.c): the bench's side and the xz_client peers.
 */
#include "bench/bench_relay.h"

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_proc.h"
#include "util/clock.h"
#include "wire/client.h"

#include <xiezhi/xiezhi.h>

/* Generous bounds: a run of 1,000,000 takes seconds; these only stop a
 * broken one. */
#define READY_MS 15000
#define RUN_MS 300000

void
xz_relay_payload(uint8_t p[XZ_RELAY_PAYLOAD], uint64_t seq)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t) (seq >> (8 * i));
	for (int i = 8; i < XZ_RELAY_PAYLOAD; i++)
		p[i] = (uint8_t) ('a' + i % 26);
}

int
xz_relay_take(xz_relay_count *c, const uint8_t *p, size_t len)
{
	uint64_t seq = 0;

	if (len != XZ_RELAY_PAYLOAD) {
		c->bad_size++;
	} else {
		for (int i = 0; i < 8; i++)
			seq |= (uint64_t) p[i] << (8 * i);
		if (seq != c->next)
			c->disorder++;
		c->next = seq + 1;
	}
	if (++c->got != c->count)
		return 0;
	c->end_us = xz_mono_us();
	return 1;
}

void
xz_relay_say_ready(void)
{
	printf("READY\n");
	fflush(stdout);
}

int
xz_relay_wait_go(void)
{
	char line[16];

	return fgets(line, sizeof(line), stdin) != NULL
	        && strncmp(line, "GO", 2) == 0
	    ? 0
	    : -1;
}

int
xz_relay_report_sub(xz_relay_count *c, long long dropped)
{
	printf("got=%" PRIu64 " disorder=%" PRIu64 " bad_size=%" PRIu64
	       " dropped=%lld end_us=%" PRIu64 "\n",
	    c->got, c->disorder, c->bad_size, dropped, c->end_us);
	fflush(stdout);
	return c->got == c->count && c->disorder == 0 && c->bad_size == 0 ? 0
	                                                                  : 1;
}

int
xz_relay_report_pub(uint64_t sent, uint64_t refused)
{
	printf("sent=%" PRIu64 " refused=%" PRIu64 "\n", sent, refused);
	fflush(stdout);
	return refused == 0 ? 0 : 1;
}

/* ---- the bench's side ---- */

static void
fail(xz_relay_result *r, const char *what)
{
	snprintf(r->why, sizeof(r->why), "%s", what);
}

void
xz_bench_relay(const char *self_exe, const char *kind, const char *url,
    const char *topic, const char *pattern, unsigned count, xz_relay_result *r)
{
	xz_bench_proc      sub, pub;
	char               mode_sub[32], mode_pub[32], num[32], line[256];
	unsigned long long got = 0, disorder = 0, bad = 0, end_us = 0,
	                   sent = 0, refused = 0;
	long long dropped = -1;
	uint64_t  t0;

	memset(r, 0, sizeof(*r));
	r->msgs_per_s = NAN;
	r->lost       = -1;
	snprintf(mode_sub, sizeof(mode_sub), "%s-sub", kind);
	snprintf(mode_pub, sizeof(mode_pub), "%s-pub", kind);
	snprintf(num, sizeof(num), "%u", count);
	char *sargv[] = { (char *) self_exe, "bench-peer", mode_sub,
		(char *) url, (char *) pattern, num, NULL };
	char *pargv[] = { (char *) self_exe, "bench-peer", mode_pub,
		(char *) url, (char *) topic, num, NULL };

	/* A peer that dies must not take the bench with it (EPIPE). */
	signal(SIGPIPE, SIG_IGN);
	if (xz_bench_proc_start(&sub, "/proc/self/exe", sargv, -1) != 0) {
		fail(r, "could not start the subscriber process");
		return;
	}
	if (xz_bench_proc_line(&sub, line, sizeof(line), READY_MS) != 0
	    || strcmp(line, "READY") != 0) {
		fail(r, "the subscriber process did not get ready");
		xz_bench_proc_end(&sub, SIGKILL, 1000);
		return;
	}
	if (xz_bench_proc_start(&pub, "/proc/self/exe", pargv, -1) != 0) {
		fail(r, "could not start the publisher process");
		xz_bench_proc_end(&sub, SIGKILL, 1000);
		return;
	}
	if (xz_bench_proc_line(&pub, line, sizeof(line), READY_MS) != 0
	    || strcmp(line, "READY") != 0) {
		fail(r, "the publisher process did not get ready");
		goto out;
	}
	t0 = xz_mono_us();
	if (xz_bench_proc_say(&pub, "GO") != 0) {
		fail(r, "the publisher process went away");
		goto out;
	}
	if (xz_bench_proc_line(&pub, line, sizeof(line), RUN_MS) != 0
	    || sscanf(line, "sent=%llu refused=%llu", &sent, &refused) != 2) {
		fail(r, "the publisher process did not finish");
		goto out;
	}
	if (xz_bench_proc_line(&sub, line, sizeof(line), RUN_MS) != 0
	    || sscanf(line,
	           "got=%llu disorder=%llu bad_size=%llu dropped=%lld "
	           "end_us=%llu",
	           &got, &disorder, &bad, &dropped, &end_us)
	        != 5) {
		fail(r, "the subscriber process did not report");
		goto out;
	}
	r->lost     = (long) count - (long) got;
	r->disorder = (unsigned) disorder;
	if (got == count && disorder == 0 && bad == 0 && end_us > t0)
		r->msgs_per_s
		    = (double) count / ((double) (end_us - t0) / 1e6);
	else if (got < count)
		snprintf(r->why, sizeof(r->why),
		    "%ld of %u messages lost (publisher: %llu sent, %llu "
		    "refused; subscriber library dropped %lld)",
		    r->lost, count, sent, refused, dropped);
	else
		snprintf(r->why, sizeof(r->why),
		    "%llu received, %llu out of order, %llu of a wrong size",
		    got, disorder, bad);
out:
	/* Both reported: a peer that then fails to exit cleanly does not
	 * change what was counted, but people should hear of it. */
	if (xz_bench_proc_end(&pub, 0, 5000) != 0 && r->why[0] == '\0')
		fprintf(stderr,
		    "xiezhi bench: the %s publisher did not exit "
		    "cleanly\n",
		    kind);
	if (xz_bench_proc_end(&sub, 0, 5000) != 0 && r->why[0] == '\0')
		fprintf(stderr,
		    "xiezhi bench: the %s subscriber did not exit "
		    "cleanly\n",
		    kind);
}

/* ---- the xz_client peers ---- */

static void
count_refused(const xz_env *e, void *arg)
{
	if (e->kind == XZ_KIND_REPLY && (e->flags & XZ_MSG_ERROR))
		++*(uint64_t *) arg;
}

static int
relay_pub(const char *url, const char *topic, uint64_t count)
{
	xz_client c;
	uint8_t   pl[XZ_RELAY_PAYLOAD];
	uint64_t  sent = 0, refused = 0;
	xz_env    r;

	if (xz_client_open(&c, url, "bench-pub", 5000) != 0)
		return 1;
	xz_relay_say_ready();
	if (xz_relay_wait_go() != 0) {
		xz_client_close(&c);
		return 1;
	}
	xz_env e = { .kind    = XZ_KIND_EVENT,
		.content_type = XZ_CT_BINARY,
		.topic        = topic,
		.topic_len    = strlen(topic),
		.payload      = pl,
		.payload_len  = sizeof(pl) };
	for (; sent < count; sent++) {
		xz_relay_payload(pl, sent);
		xz_client_id(&c, e.id);
		if (xz_client_put(&c, &e) != 0)
			break;
	}
	refused = count - sent;
	/* The ping's reply means the node took every event before it, in
	 * order; error replies for refused events come first. */
	if (xz_client_request(
	        &c, "xz.sys.ping", "{}", 2, 60000, &r, count_refused, &refused)
	    != 0)
		refused = count;
	xz_client_close(&c);
	return xz_relay_report_pub(sent, refused);
}

static int
relay_sub(const char *url, const char *pattern, uint64_t count)
{
	xz_client      c;
	xz_relay_count n = { .count = count };
	xz_env         e;

	if (xz_client_open(&c, url, "bench-sub", 5000) != 0)
		return 1;
	xz_env s = { .kind = XZ_KIND_SUB,
		.topic     = pattern,
		.topic_len = strlen(pattern) };
	xz_client_id(&c, s.id);
	/* The ping's reply proves the node has the subscription. */
	if (xz_client_put(&c, &s) != 0
	    || xz_client_request(
	           &c, "xz.sys.ping", "{}", 2, 5000, &e, NULL, NULL)
	        != 0) {
		xz_client_close(&c);
		return 1;
	}
	xz_relay_say_ready();
	while (n.got < count && xz_client_next(&c, &e, XZ_RELAY_IDLE_MS) == 0)
		if (e.kind == XZ_KIND_EVENT)
			xz_relay_take(&n, e.payload, e.payload_len);
	xz_client_close(&c);
	return xz_relay_report_sub(&n, -1);
}

int
xz_bench_relay_peer(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr,
		    "usage: xiezhi bench-peer relay-pub URL TOPIC COUNT\n"
		    "       xiezhi bench-peer relay-sub URL PATTERN COUNT\n");
		return 2;
	}
	uint64_t count = strtoull(argv[4], NULL, 10);
	return strcmp(argv[1], "relay-pub") == 0
	    ? relay_pub(argv[2], argv[3], count)
	    : relay_sub(argv[2], argv[3], count);
}
