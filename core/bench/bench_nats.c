#include "bench/bench_nats.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_relay.h"
#include "util/clock.h"

#ifdef XZ_HAVE_NATS
#include <nats/nats.h>
#endif

#ifdef XZ_HAVE_NATS
/* XZ_NATS_SERVER names the program; else PATH, then /usr/sbin (where
 * Debian installs it, often not in a user's PATH). */
static const char *
find_server(void)
{
	static char path[1024];
	const char *env = getenv("PATH");
	const char *set = getenv("XZ_NATS_SERVER");
	char        dirs[4096];

	if (set != NULL)
		return access(set, X_OK) == 0 ? set : NULL;
	snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/usr/local/sbin",
	    env ? env : "/usr/bin");
	for (char *save, *d = strtok_r(dirs, ":", &save); d != NULL;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(path), "%s/nats-server", d);
		if (access(path, X_OK) == 0)
			return path;
	}
	return NULL;
}
#endif

const char *
xz_bench_nats_missing(const char **server)
{
#ifndef XZ_HAVE_NATS
	(void) server;
	return "this xiezhi was built without libnats (Debian libnats-dev; "
	       "CMake option XZ_BENCH_NATS)";
#else
	if ((*server = find_server()) == NULL)
		return getenv("XZ_NATS_SERVER") != NULL
		    ? "XZ_NATS_SERVER does not name an executable file"
		    : "nats-server not found (in PATH, /usr/sbin, "
		      "/usr/local/sbin; Debian package nats-server)";
	return NULL;
#endif
}

/* A port nobody listens on now: bind port 0 and see what the kernel
 * picked. nats-server could lose it to another program in between; it
 * then exits and the bench reports that. */
static int
free_port(void)
{
	struct sockaddr_in a  = { .sin_family = AF_INET,
		 .sin_addr.s_addr             = htonl(INADDR_LOOPBACK) };
	socklen_t          n  = sizeof(a);
	int                fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0
	    && getsockname(fd, (struct sockaddr *) &a, &n) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int
accepts(int port)
{
	struct sockaddr_in a  = { .sin_family = AF_INET,
		 .sin_port                    = htons((uint16_t) port),
		 .sin_addr.s_addr             = htonl(INADDR_LOOPBACK) };
	int                fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	if (fd < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *) &a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

int
xz_bench_nats_start(const char *path, const char *log_path, xz_bench_proc *p,
    char *url, size_t url_n, char *why, size_t why_n)
{
	int  port = free_port();
	char ports[16];
	int  log;

	if (port < 0) {
		snprintf(why, why_n, "no free loopback port");
		return -1;
	}
	snprintf(ports, sizeof(ports), "%d", port);
	char *argv[] = { (char *) path, "-a", "127.0.0.1", "-p", ports, NULL };
	if ((log = open(
	         log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600))
	    < 0) {
		snprintf(why, why_n, "cannot write %s", log_path);
		return -1;
	}
	int rc = xz_bench_proc_start(p, path, argv, log);
	close(log);
	if (rc != 0) {
		snprintf(why, why_n, "could not start %s", path);
		return -1;
	}
	for (int waited = 0; waited < 10000; waited += 20) {
		if (accepts(port)) {
			snprintf(url, url_n, "nats://127.0.0.1:%d", port);
			return 0;
		}
		nanosleep(&(struct timespec) { .tv_nsec = 20000000 }, NULL);
	}
	xz_bench_proc_end(p, SIGKILL, 1000);
	snprintf(why, why_n,
	    "%s did not accept connections on port %d "
	    "within 10 s (see its log)",
	    path, port);
	return -1;
}

#ifdef XZ_HAVE_NATS

/* libnats buffers publishes and writes them from its flusher; Flush at the
 * end is a PING/PONG round trip: the server has read every one before. */
static int
nats_pub(natsConnection *nc, const char *subject, uint64_t count)
{
	uint8_t  pl[XZ_RELAY_PAYLOAD];
	uint64_t sent = 0, refused = 0;

	xz_relay_say_ready();
	if (xz_relay_wait_go() != 0)
		return 1;
	for (; sent < count; sent++) {
		xz_relay_payload(pl, sent);
		if (natsConnection_Publish(nc, subject, pl, sizeof(pl))
		    != NATS_OK)
			refused++;
	}
	if (natsConnection_FlushTimeout(nc, 60000) != NATS_OK)
		refused = count;
	return xz_relay_report_pub(sent, refused);
}

static int
nats_sub(natsConnection *nc, const char *subject, uint64_t count)
{
	natsSubscription *sub     = NULL;
	xz_relay_count    n       = { .count = count };
	int64_t           dropped = -1;
	natsMsg          *m;
	natsStatus        s;

	if (natsConnection_SubscribeSync(&sub, nc, subject) != NATS_OK
	    || natsConnection_Flush(nc) != NATS_OK)
		return 1;
	xz_relay_say_ready();
	while (n.got < count) {
		s = natsSubscription_NextMsg(&m, sub, XZ_RELAY_IDLE_MS);
		if (s == NATS_SLOW_CONSUMER)
			continue; /* told once; counted by GetDropped */
		if (s != NATS_OK)
			break;
		xz_relay_take(&n, (const uint8_t *) natsMsg_GetData(m),
		    (size_t) natsMsg_GetDataLength(m));
		natsMsg_Destroy(m);
	}
	natsSubscription_GetDropped(sub, &dropped);
	natsSubscription_Destroy(sub);
	return xz_relay_report_sub(&n, (long long) dropped);
}

int
xz_bench_nats_peer(int argc, char **argv)
{
	natsConnection *nc = NULL;
	int             rc = 1;

	if (argc != 5) {
		fprintf(stderr,
		    "usage: xiezhi bench-peer nats-pub URL SUBJECT COUNT\n"
		    "       xiezhi bench-peer nats-sub URL SUBJECT COUNT\n");
		return 2;
	}
	uint64_t count = strtoull(argv[4], NULL, 10);
	if (natsConnection_ConnectTo(&nc, argv[2]) != NATS_OK) {
		fprintf(stderr,
		    "xiezhi bench-peer: cannot connect to %s: %s\n", argv[2],
		    nats_GetLastError(NULL));
		return 1;
	}
	rc = strcmp(argv[1], "nats-pub") == 0 ? nats_pub(nc, argv[3], count)
	                                      : nats_sub(nc, argv[3], count);
	natsConnection_Destroy(nc);
	nats_Close();
	return rc;
}

#else

int
xz_bench_nats_peer(int argc, char **argv)
{
	(void) argc;
	(void) argv;
	fprintf(
	    stderr, "xiezhi bench-peer: %s\n", xz_bench_nats_missing(NULL));
	return 2;
}

#endif
