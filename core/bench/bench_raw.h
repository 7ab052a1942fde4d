/*
 * bench_raw.h - raw nng baselines for `xiezhi bench`.
 *
 * The bus's numbers only mean something next to what nng itself does on the
 * same machine, measured the way nng's own perf tool measures it: pair1
 * sockets for throughput, req0/rep0 for round-trip latency. Each call sets
 * up its own sockets and thread on url ("inproc://name" or
 * "ipc:///path"), runs, and tears everything down again (an ipc socket
 * file does not outlive the call), so calls can be repeated on one url.
 * A call blocks for the whole run; it gives up with NNG_ETIMEDOUT if the
 * peer stalls for 10 s.
 */
#ifndef XZ_BENCH_RAW_H
#define XZ_BENCH_RAW_H

#include <stddef.h>

/*
 * One sender, one receiver thread: count messages of payload bytes, each
 * sent with nng_sendmsg and received with nng_recvmsg. A zero-length
 * message goes first so that connection set-up is not timed; the clock runs
 * from its receipt to the receipt of the last message.
 * *msgs_per_s = count / elapsed. Returns 0 or an nng error code
 * (NNG_EINVAL for count 0 or a NULL argument).
 */
int xz_bench_raw_pair_throughput(
    const char *url, size_t payload, unsigned count, double *msgs_per_s);

/*
 * A rep0 thread echoes every request; the caller sends count requests of
 * payload bytes one after another (after one untimed warm-up round trip)
 * and times each round trip with CLOCK_MONOTONIC. *p50_us and *p99_us are
 * nearest-rank percentiles in microseconds. Returns 0 or an nng error code
 * (NNG_EINVAL for count 0 or a NULL argument).
 */
int xz_bench_raw_reqrep_latency(const char *url, size_t payload,
    unsigned count, double *p50_us, double *p99_us);

#endif
