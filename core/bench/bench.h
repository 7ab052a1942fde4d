/*
 * bench.h - `xiezhi bench`: the platform and raw nng measured in the same
 * run, on the same machine, with the same 64-byte payloads, so the ratio
 * means something even on a noisy shared host.
 */
#ifndef XZ_BENCH_H
#define XZ_BENCH_H

#include <stdbool.h>

/* Run every measurement and print a report (or one JSON object).
 * count 0: defaults. self_exe: argv[0], to spawn the ipc peer. */
int xz_bench_main(
    bool json, unsigned count, const char *plugin_dir, const char *self_exe);
/* `xiezhi bench-peer URL PATTERN COUNT`: the out-of-process subscriber. */
int xz_bench_peer_main(int argc, char **argv);

#endif
