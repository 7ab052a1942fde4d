#include "bench/bench_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"

int
xz_bench_proc_start(
    xz_bench_proc *p, const char *path, char *const argv[], int err_fd)
{
	int in[2], out[2];

	memset(p, 0, sizeof(*p));
	p->pid = -1;
	p->in = p->out = -1;
	/* O_CLOEXEC: a child must not hold another child's pipe open, or
	 * that one would never see end of file. */
	if (pipe2(in, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) != 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	if ((p->pid = fork()) == 0) {
		/* dup2 clears O_CLOEXEC on the new descriptor. */
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0
		    || (err_fd >= 0 && dup2(err_fd, 2) < 0))
			_exit(127);
		execv(path, argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (p->pid < 0) {
		close(in[1]);
		close(out[0]);
		return -1;
	}
	p->in  = in[1];
	p->out = out[0];
	return 0;
}

int
xz_bench_proc_line(xz_bench_proc *p, char *line, size_t n, int timeout_ms)
{
	uint64_t end = xz_mono_us() + (uint64_t) timeout_ms * 1000u;

	for (;;) {
		char *nl = memchr(p->buf, '\n', p->len);
		if (nl != NULL) {
			size_t k = (size_t) (nl - p->buf);
			size_t c = k < n - 1 ? k : n - 1;
			memcpy(line, p->buf, c);
			line[c] = '\0';
			memmove(p->buf, nl + 1, p->len - k - 1);
			p->len -= k + 1;
			return 0;
		}
		if (p->out < 0 || p->len == sizeof(p->buf))
			return -1;
		uint64_t now = xz_mono_us();
		if (now >= end)
			return -1;
		struct pollfd pf = { .fd = p->out, .events = POLLIN };
		int rc = poll(&pf, 1, (int) ((end - now) / 1000u) + 1);
		if (rc < 0 && errno != EINTR)
			return -1;
		if (rc <= 0)
			continue;
		ssize_t r
		    = read(p->out, p->buf + p->len, sizeof(p->buf) - p->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p->len += (size_t) r;
	}
}

int
xz_bench_proc_say(xz_bench_proc *p, const char *line)
{
	size_t len = strlen(line);

	if (p->in < 0)
		return -1;
	/* The bench ignores SIGPIPE: a child that died gives EPIPE here. */
	if (write(p->in, line, len) != (ssize_t) len
	    || write(p->in, "\n", 1) != 1)
		return -1;
	return 0;
}

int
xz_bench_proc_end(xz_bench_proc *p, int sig, int timeout_ms)
{
	int st, rc = -1;

	if (p->in >= 0)
		close(p->in);
	if (p->out >= 0)
		close(p->out);
	p->in = p->out = -1;
	if (p->pid <= 0)
		return -1;
	if (sig != 0)
		kill(p->pid, sig);
	for (int waited = 0;; waited += 10) {
		pid_t w = waitpid(p->pid, &st, WNOHANG);
		if (w == p->pid)
			break;
		if (w < 0 && errno != EINTR) {
			p->pid = -1;
			return -1;
		}
		if (waited >= timeout_ms) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &st, 0);
			break;
		}
		nanosleep(&(struct timespec) { .tv_nsec = 10000000 }, NULL);
	}
	if (WIFEXITED(st))
		rc = WEXITSTATUS(st);
	p->pid = -1;
	return rc;
}
