/*
 * bench_proc.h - the processes `xiezhi bench` starts (its `bench-peer`
 * publishers and subscribers, nats-server) and the one-line messages it
 * exchanges with them over pipes. Every wait is bounded, so a stuck child
 * ends a measurement instead of hanging the bench.
 */
#ifndef XZ_BENCH_PROC_H
#define XZ_BENCH_PROC_H

#include <stddef.h>
#include <sys/types.h>

typedef struct xz_bench_proc {
	pid_t  pid;
	int    in; /* write end of the child's stdin, or -1 */
	int    out; /* read end of the child's stdout, or -1 */
	char   buf[512]; /* bytes read from out, not yet returned */
	size_t len;
} xz_bench_proc;

/* Start the program at path (no PATH search) with argv; its stdin and
 * stdout are pipes to p->in and p->out, its stderr is err_fd (inherited
 * when err_fd < 0). 0, or -1 with errno set. */
int xz_bench_proc_start(
    xz_bench_proc *p, const char *path, char *const argv[], int err_fd);
/* Read one line of the child's stdout, without its newline, waiting up to
 * timeout_ms. 0, or -1 on timeout, end of file or error. */
int xz_bench_proc_line(xz_bench_proc *p, char *line, size_t n, int timeout_ms);
/* Write line and a newline to the child's stdin. 0 or -1. */
int xz_bench_proc_say(xz_bench_proc *p, const char *line);
/* Close the pipes, send sig (0: none), wait up to timeout_ms for the
 * child to exit, then SIGKILL it. The child's exit code, or -1 when it
 * was killed by a signal or had not started. */
int xz_bench_proc_end(xz_bench_proc *p, int sig, int timeout_ms);

#endif
