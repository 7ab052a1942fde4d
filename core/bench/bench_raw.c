/*
 * bench_raw.c - raw nng baselines (pair1 throughput, req0/rep0 latency).
 *
 * The receiving side always listens and runs in its own thread; the caller
 * dials. Every blocking call has a 10 s timeout so that a broken transport
 * ends the run with NNG_ETIMEDOUT instead of hanging `xiezhi bench`.
 * nng (1.5.2) unlinks an ipc listener's socket file when the socket
 * closes; test_bench_raw checks that, so repeated runs on one path work.
 */
#include "bench/bench_raw.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#define BENCH_TIMEOUT_MS 10000

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Socket options both ends get: bounded waits, and a receive limit that
 * admits exactly our payload (nng's default of 1 MiB would refuse larger
 * benchmark messages and drop the pipe). */
static int
sock_setup(nng_socket s, size_t payload)
{
	int rv;

	if ((rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, BENCH_TIMEOUT_MS))
	        != 0
	    || (rv = nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, BENCH_TIMEOUT_MS))
	        != 0
	    || (rv = nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, payload + 64))
	        != 0)
		return rv;
	return 0;
}

/* ---- pair1 throughput ---- */

struct tp_rx {
	nng_socket sock;
	size_t     payload;
	unsigned   count;
	double     elapsed;
	int        rv;
};

static void *
tp_receiver(void *arg)
{
	struct tp_rx *rx = arg;
	nng_msg      *msg;
	double        start;
	int           rv;

	/* The zero-length start message. */
	if ((rv = nng_recvmsg(rx->sock, &msg, 0)) != 0) {
		rx->rv = rv;
		return NULL;
	}
	nng_msg_free(msg);
	start = now_s();
	for (unsigned i = 0; i < rx->count; i++) {
		if ((rv = nng_recvmsg(rx->sock, &msg, 0)) != 0) {
			rx->rv = rv;
			return NULL;
		}
		size_t len = nng_msg_len(msg);
		nng_msg_free(msg);
		if (len != rx->payload) {
			rx->rv = NNG_EPROTO;
			return NULL;
		}
	}
	rx->elapsed = now_s() - start;
	rx->rv      = 0;
	return NULL;
}

/* Sends the start message, then count messages; each nng_msg is owned by
 * the socket once nng_sendmsg succeeds, by us (and freed) otherwise. */
static int
tp_send_all(nng_socket s, size_t payload, unsigned count)
{
	nng_msg *msg;
	int      rv;

	for (unsigned i = 0; i <= count; i++) {
		size_t len = i == 0 ? 0 : payload;
		if ((rv = nng_msg_alloc(&msg, len)) != 0)
			return rv;
		if (len > 0)
			memset(nng_msg_body(msg), (int) (i & 0xff), len);
		if ((rv = nng_sendmsg(s, msg, 0)) != 0) {
			nng_msg_free(msg);
			return rv;
		}
	}
	return 0;
}

int
xz_bench_raw_pair_throughput(
    const char *url, size_t payload, unsigned count, double *msgs_per_s)
{
	nng_socket   tx = NNG_SOCKET_INITIALIZER;
	struct tp_rx rx = { .sock = NNG_SOCKET_INITIALIZER };
	pthread_t    th;
	int          started = 0;
	int          rv;

	if (url == NULL || count == 0 || msgs_per_s == NULL)
		return NNG_EINVAL;
	rx.payload = payload;
	rx.count   = count;
	rx.rv      = NNG_EINTERNAL;
	if ((rv = nng_pair1_open(&rx.sock)) != 0
	    || (rv = sock_setup(rx.sock, payload)) != 0
	    || (rv = nng_socket_set_int(rx.sock, NNG_OPT_RECVBUF, 128)) != 0
	    || (rv = nng_listen(rx.sock, url, NULL, 0)) != 0)
		goto out;
	if (pthread_create(&th, NULL, tp_receiver, &rx) != 0) {
		rv = NNG_ENOMEM;
		goto out;
	}
	started = 1;
	if ((rv = nng_pair1_open(&tx)) != 0
	    || (rv = sock_setup(tx, payload)) != 0
	    || (rv = nng_socket_set_int(tx, NNG_OPT_SENDBUF, 128)) != 0
	    || (rv = nng_dial(tx, url, NULL, 0)) != 0
	    || (rv = tp_send_all(tx, payload, count)) != 0)
		goto out;
	/* All sent: wait for the receiver to take the last one before
	 * closing anything (closing drops what is still queued). */
	pthread_join(th, NULL);
	started = 0;
	rv      = rx.rv;
	if (rv == 0)
		*msgs_per_s
		    = rx.elapsed > 0 ? (double) count / rx.elapsed : INFINITY;
out:
	/* On failure, closing the receiving socket ends its blocked
	 * nng_recvmsg with NNG_ECLOSED, so the join cannot hang. */
	nng_close(rx.sock);
	if (started)
		pthread_join(th, NULL);
	nng_close(tx);
	return rv;
}

/* ---- req0/rep0 latency ---- */

struct echo {
	nng_socket sock;
};

static void *
rep_echo(void *arg)
{
	struct echo *ec = arg;
	nng_msg     *msg;

	/* Echo until the socket is closed (or a receive times out). */
	while (nng_recvmsg(ec->sock, &msg, 0) == 0)
		if (nng_sendmsg(ec->sock, msg, 0) != 0)
			nng_msg_free(msg);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of n sorted values. */
static double
percentile(const double *v, unsigned n, double p)
{
	double   rank = ceil(p / 100.0 * n);
	unsigned i    = rank < 1 ? 0 : (unsigned) rank - 1;
	return v[i < n ? i : n - 1];
}

/* One round trip with *msg (payload bytes); on success *msg is the reply,
 * owned by the caller; on failure *msg is NULL (already freed). */
static int
round_trip(nng_socket s, nng_msg **msg, size_t payload)
{
	int rv;

	if ((rv = nng_sendmsg(s, *msg, 0)) != 0) {
		nng_msg_free(*msg);
		*msg = NULL;
		return rv;
	}
	*msg = NULL;
	if ((rv = nng_recvmsg(s, msg, 0)) != 0)
		return rv;
	if (nng_msg_len(*msg) != payload) {
		nng_msg_free(*msg);
		*msg = NULL;
		return NNG_EPROTO;
	}
	return 0;
}

int
xz_bench_raw_reqrep_latency(const char *url, size_t payload, unsigned count,
    double *p50_us, double *p99_us)
{
	struct echo ec  = { .sock = NNG_SOCKET_INITIALIZER };
	nng_socket  req = NNG_SOCKET_INITIALIZER;
	nng_msg    *msg = NULL;
	double     *rtt = NULL;
	pthread_t   th;
	int         started = 0;
	int         rv;

	if (url == NULL || count == 0 || p50_us == NULL || p99_us == NULL)
		return NNG_EINVAL;
	if ((rtt = malloc(count * sizeof(*rtt))) == NULL)
		return NNG_ENOMEM;
	if ((rv = nng_rep0_open(&ec.sock)) != 0
	    || (rv = sock_setup(ec.sock, payload)) != 0
	    || (rv = nng_listen(ec.sock, url, NULL, 0)) != 0)
		goto out;
	if (pthread_create(&th, NULL, rep_echo, &ec) != 0) {
		rv = NNG_ENOMEM;
		goto out;
	}
	started = 1;
	if ((rv = nng_req0_open(&req)) != 0
	    || (rv = sock_setup(req, payload)) != 0
	    || (rv = nng_dial(req, url, NULL, 0)) != 0
	    || (rv = nng_msg_alloc(&msg, payload)) != 0)
		goto out;
	if (payload > 0)
		memset(nng_msg_body(msg), 'x', payload);
	/* Warm-up: the first round trip pays for connection set-up. */
	if ((rv = round_trip(req, &msg, payload)) != 0)
		goto out;
	for (unsigned i = 0; i < count; i++) {
		double t0 = now_s();
		if ((rv = round_trip(req, &msg, payload)) != 0)
			goto out;
		rtt[i] = (now_s() - t0) * 1e6;
	}
	qsort(rtt, count, sizeof(*rtt), cmp_double);
	*p50_us = percentile(rtt, count, 50);
	*p99_us = percentile(rtt, count, 99);
out:
	if (msg != NULL)
		nng_msg_free(msg);
	nng_close(req);
	/* Closing the rep socket ends the echo loop. */
	nng_close(ec.sock);
	if (started)
		pthread_join(th, NULL);
	free(rtt);
	return rv;
}
