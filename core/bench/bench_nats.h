/*
 * bench_nats.h - the NATS baseline of `xiezhi bench`: a nats-server the
 * bench starts on a free loopback port, and libnats peers for
 * bench_relay.c's protocol. libnats is optional (CMake defines
 * XZ_HAVE_NATS when it finds it); without it the peers refuse to run and
 * xz_bench_nats_missing says why.
 */
#ifndef XZ_BENCH_NATS_H
#define XZ_BENCH_NATS_H

#include <stddef.h>

#include "bench/bench_proc.h"

/* Why the NATS figure cannot be measured here (no libnats in this build,
 * no nats-server found), or NULL when it can; *server is then the
 * nats-server program's path: $XZ_NATS_SERVER if set, else the first found
 * in PATH, /usr/sbin, /usr/local/sbin. */
const char *xz_bench_nats_missing(const char **server);

/* Start the nats-server at path on 127.0.0.1 and a free port, its log in
 * log_path; wait until it accepts connections. 0 with *p running and url
 * ("nats://127.0.0.1:PORT"), or -1 with why. Stop it with
 * xz_bench_proc_end(p, SIGTERM, ...). */
int xz_bench_nats_start(const char *path, const char *log_path,
    xz_bench_proc *p, char *url, size_t url_n, char *why, size_t why_n);

/* `xiezhi bench-peer nats-pub URL SUBJECT COUNT` and
 * `xiezhi bench-peer nats-sub URL SUBJECT COUNT` (argv[1] is the mode). */
int xz_bench_nats_peer(int argc, char **argv);

#endif
