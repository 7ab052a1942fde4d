/*
 * bench-http - load and probe tool for the gateway (docs/http.md).
 *
 *   bench-http call   [-u HOST:PORT] [-t TOKEN|-U USER -P PASS] [-c CLIENTS]
 *                     [-n CALLS] [-T TOPIC]
 *       CLIENTS keep-alive connections (16) each POST /api/v1/call/TOPIC
 *       (xz.sys.ping) in a loop until CALLS (20000) in all; prints p50,
 *       p99 and calls/s as one JSON line.
 *   bench-http fanout [-u ..] [-t ..|-U .. -P ..] [-c CLIENTS] [-n EVENTS]
 *                     -x PUBLISH_COMMAND
 *       CLIENTS WebSocket clients (200) on
 * /api/v1/events?pattern=bench.fanout; once all are subscribed,
 * PUBLISH_COMMAND (run by sh) gets EVENTS lines {"seq":N} on its stdin (e.g.
 * "./build/xiezhi pub -c config/xiezhi.cfg bench.fanout -"); prints
 * deliveries/s and how many were lost as one JSON line. bench-http ws     [-u
 * ..] [-t ..] -p PATTERN [-n COUNT] [-s STALL_S]
 *                     [-r RCVBUF] [-o ORIGIN] [-w WAIT_S]
 *       one WebSocket client: prints each event as a line, "close CODE
 *       REASON" when the server closes; exits after COUNT events (0: until
 *       closed), or after WAIT_S (30) seconds. STALL_S: read nothing for
 *       that long first (a slow consumer); RCVBUF: socket receive buffer.
 *
 *   bench-http rss    [-u ..] [-t ..|-U .. -P ..] -x NODE_PID [-c CLIENTS]
 *                     [-p PATTERN]
 *       the node's VmRSS, then CLIENTS (200) idle WebSocket clients on
 *       PATTERN (prison.>), all subscribed, and VmRSS again once it has
 *       not grown for a second; prints both and the bytes per client as
 *       one JSON line (plugins/gateway/bench/rss.sh runs it).
 *
 * HOST:PORT defaults to 127.0.0.1:8348. Exit 0 ok, 1 error, 2 usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char        host[64] = "127.0.0.1";
static int         port     = 8348;
static char        token[256];
static const char *user, *pass;

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
dial(int rcvbuf)
{
	struct sockaddr_in a
	    = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return -1;
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *) &a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t) k;
	}
	return 0;
}

/* One HTTP response on a keep-alive connection: status, body in buf. */
static int
http_read(int fd, char *buf, size_t cap, size_t *have, int *status,
    char **body, size_t *blen)
{
	for (;;) {
		char *end = memmem(buf, *have, "\r\n\r\n", 4);
		if (end != NULL) {
			size_t hl = (size_t) (end - buf) + 4, cl = 0;
			char  *h = strcasestr(buf, "\r\ncontent-length:");
			if (h != NULL && h < end)
				cl = (size_t) atol(h + 17);
			if (*have >= hl + cl) {
				*status = atoi(buf + 9);
				*body   = buf + hl;
				*blen   = cl;
				return (int) (hl + cl);
			}
		}
		if (*have >= cap - 1)
			return -1;
		ssize_t k = read(fd, buf + *have, cap - 1 - *have);
		if (k <= 0)
			return -1;
		*have += (size_t) k;
		buf[*have] = '\0';
	}
}

static int
http_post(int fd, const char *path, const char *body, char *buf, size_t cap,
    int *status, char **rbody, size_t *rlen)
{
	char   req[1024];
	size_t have = 0;
	int    n    = snprintf(req, sizeof(req),
	          "POST %s HTTP/1.1\r\nHost: %s:%d\r\n%s%s%s"
	                "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	          path, host, port, token[0] ? "Authorization: Bearer " : "", token,
            token[0] ? "\r\n" : "", strlen(body), body);
	if (write_all(fd, req, (size_t) n))
		return -1;
	return http_read(fd, buf, cap, &have, status, rbody, rlen) < 0 ? -1
	                                                               : 0;
}

static int
login(void)
{
	char   body[512], buf[8192], *rb;
	size_t rl;
	int    st, fd;

	if (token[0] || user == NULL)
		return 0;
	if ((fd = dial(0)) < 0)
		return -1;
	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"%s\"}",
	    user, pass ? pass : "");
	if (http_post(
	        fd, "/api/v1/login", body, buf, sizeof(buf), &st, &rb, &rl)
	    || st != 200) {
		fprintf(stderr, "bench-http: login failed (%d)\n", st);
		close(fd);
		return -1;
	}
	char *t = strstr(rb, "\"token\":\"");
	if (t == NULL) {
		close(fd);
		return -1;
	}
	t += 9;
	size_t n = strcspn(t, "\"");
	snprintf(token, sizeof(token), "%.*s", (int) n, t);
	close(fd);
	return 0;
}

/* ---- call ---- */

static const char     *topic  = "xz.sys.ping";
static long            ncalls = 20000, nclients = 16;
static long            next_call;
static pthread_mutex_t call_mu = PTHREAD_MUTEX_INITIALIZER;
static double         *lats;
static long            errors;

static void *
call_main(void *arg)
{
	char   path[300], buf[16384], *rb;
	size_t rl;
	int    st, fd = dial(0);
	(void) arg;
	snprintf(path, sizeof(path), "/api/v1/call/%s", topic);
	for (;;) {
		long i;
		pthread_mutex_lock(&call_mu);
		i = next_call < ncalls ? next_call++ : -1;
		pthread_mutex_unlock(&call_mu);
		if (i < 0)
			break;
		double t0 = now_s();
		if (fd < 0
		    || http_post(
		        fd, path, "{}", buf, sizeof(buf), &st, &rb, &rl)
		    || st != 200) {
			__atomic_add_fetch(&errors, 1, __ATOMIC_RELAXED);
			if (fd >= 0)
				close(fd);
			fd      = dial(0);
			lats[i] = -1;
			continue;
		}
		lats[i] = now_s() - t0;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;
	return x < y ? -1 : x > y;
}

static int
run_call(void)
{
	pthread_t th[256];
	if (nclients > 256)
		nclients = 256;
	if (login())
		return 1;
	lats      = calloc((size_t) ncalls, sizeof(double));
	double t0 = now_s();
	for (long i = 0; i < nclients; i++)
		pthread_create(&th[i], NULL, call_main, NULL);
	for (long i = 0; i < nclients; i++)
		pthread_join(th[i], NULL);
	double el = now_s() - t0;
	long   ok = 0;
	for (long i = 0; i < ncalls; i++)
		if (lats[i] >= 0)
			lats[ok++] = lats[i];
	qsort(lats, (size_t) ok, sizeof(double), cmp_d);
	printf("{\"bench\":\"http_call\",\"topic\":\"%s\",\"clients\":%ld,"
	       "\"calls\":%ld,\"errors\":%ld,\"seconds\":%.3f,"
	       "\"calls_per_s\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n",
	    topic, nclients, ok, errors, el, (double) ok / el,
	    ok ? lats[ok / 2] * 1e3 : 0, ok ? lats[(ok * 99) / 100] * 1e3 : 0);
	free(lats);
	return errors ? 1 : 0;
}

/* ---- WebSocket client ---- */

typedef struct wsc {
	int    fd;
	char  *buf; /* owned */
	size_t have, cap;
	int    upgraded, subscribed, closed;
	long   events;
	int    close_code;
	char   close_reason[256];
} wsc;

static int
ws_open(wsc *w, const char *pattern, const char *origin, int rcvbuf)
{
	char   req[1024], pat[512];
	size_t o = 0;
	for (const char *p = pattern; *p && o + 4 < sizeof(pat); p++)
		if (*p == '>')
			o += (size_t) sprintf(pat + o, "%%3E");
		else
			pat[o++] = *p;
	pat[o] = '\0';
	memset(w, 0, sizeof(*w));
	w->cap = 1 << 16;
	w->buf = malloc(w->cap);
	if ((w->fd = dial(rcvbuf)) < 0)
		return -1;
	int n = snprintf(req, sizeof(req),
	    "GET /api/v1/events?pattern=%s&token=%s HTTP/1.1\r\nHost: "
	    "%s:%d\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n%s%s%s\r\n",
	    pat, token, host, port, origin ? "Origin: " : "",
	    origin ? origin : "", origin ? "\r\n" : "");
	return write_all(w->fd, req, (size_t) n);
}

/* Parse what is buffered; cb per text frame. -1 on a protocol error. */
static int
ws_parse(wsc *w, void (*cb)(wsc *, const char *, size_t))
{
	size_t off = 0;
	if (!w->upgraded) {
		char *end = memmem(w->buf, w->have, "\r\n\r\n", 4);
		if (end == NULL)
			return 0;
		if (strncmp(w->buf, "HTTP/1.1 101", 12) != 0) {
			w->closed     = 1;
			w->close_code = atoi(w->buf + 9);
			snprintf(w->close_reason, sizeof(w->close_reason),
			    "%s", "upgrade refused");
			return -1;
		}
		w->upgraded = 1;
		off         = (size_t) (end - w->buf) + 4;
	}
	while (w->have - off >= 2) {
		unsigned char *p   = (unsigned char *) w->buf + off;
		int            op  = p[0] & 0x0f;
		uint64_t       len = p[1] & 0x7f;
		size_t         hl  = 2;
		if (len == 126) {
			if (w->have - off < 4)
				break;
			len = (uint64_t) p[2] << 8 | p[3];
			hl  = 4;
		} else if (len == 127) {
			if (w->have - off < 10)
				break;
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | p[2 + i];
			hl = 10;
		}
		if (w->have - off < hl + len)
			break;
		const char *pl = (const char *) p + hl;
		if (op == 1)
			cb(w, pl, (size_t) len);
		else if (op == 8) {
			w->closed     = 1;
			w->close_code = len >= 2 ? ((unsigned char) pl[0] << 8
			                    | (unsigned char) pl[1])
			                         : 0;
			snprintf(w->close_reason, sizeof(w->close_reason),
			    "%.*s", len > 2 ? (int) len - 2 : 0, pl + 2);
		}
		off += hl + (size_t) len;
	}
	memmove(w->buf, w->buf + off, w->have - off);
	w->have -= off;
	return 0;
}

static int
ws_read(wsc *w, void (*cb)(wsc *, const char *, size_t))
{
	if (w->have == w->cap) {
		w->cap *= 2;
		w->buf = realloc(w->buf, w->cap);
	}
	ssize_t k = read(w->fd, w->buf + w->have, w->cap - w->have);
	if (k <= 0) {
		w->closed = 1;
		return -1;
	}
	w->have += (size_t) k;
	return ws_parse(w, cb);
}

static long want = 0;

static void
print_cb(wsc *w, const char *p, size_t n)
{
	if (n > 15 && memcmp(p, "{\"subscribed\":", 14) == 0) {
		w->subscribed = 1;
		fprintf(stderr, "subscribed\n");
		return;
	}
	w->events++;
	printf("%.*s\n", (int) n, p);
	fflush(stdout);
}

static int
run_ws(
    const char *pattern, int stall, int rcvbuf, const char *origin, int wait_s)
{
	wsc w;
	if (login() || ws_open(&w, pattern, origin, rcvbuf) != 0) {
		fprintf(stderr, "bench-http: cannot connect\n");
		return 1;
	}
	if (stall > 0) {
		/* Wait for the upgrade only, then read nothing. */
		char  *b  = w.buf;
		double t0 = now_s();
		while (
		    !memmem(b, w.have, "\r\n\r\n", 4) && now_s() - t0 < 10) {
			ssize_t k = read(w.fd, b + w.have, 1);
			if (k <= 0)
				break;
			w.have++;
		}
		fprintf(stderr, "stalling %d s\n", stall);
		sleep((unsigned) stall);
	}
	double t0 = now_s();
	while (!w.closed && (want == 0 || w.events < want)
	    && now_s() - t0 < wait_s) {
		struct pollfd pf = { .fd = w.fd, .events = POLLIN };
		if (poll(&pf, 1, 200) > 0)
			ws_read(&w, print_cb);
	}
	if (w.closed)
		printf("close %d %s\n", w.close_code, w.close_reason);
	close(w.fd);
	free(w.buf);
	return 0;
}

/* ---- fan-out ---- */

static void
count_cb(wsc *w, const char *p, size_t n)
{
	if (n > 15 && memcmp(p, "{\"subscribed\":", 14) == 0)
		w->subscribed = 1;
	else
		w->events++;
}

static int
run_fanout(const char *cmd, long nevents)
{
	wsc           *w          = calloc((size_t) nclients, sizeof(*w));
	struct pollfd *pf         = calloc((size_t) nclients, sizeof(*pf));
	long           subscribed = 0, total = 0, expect = nclients * nevents;

	if (login())
		return 1;
	for (long i = 0; i < nclients; i++)
		if (ws_open(&w[i], "bench.fanout", NULL, 0) != 0) {
			fprintf(stderr,
			    "bench-http: client %ld cannot connect\n", i);
			return 1;
		}
	double t0 = now_s(), first = 0, last = 0;
	FILE  *pub = NULL;
	while (now_s() - t0 < 120 && total < expect) {
		for (long i = 0; i < nclients; i++) {
			pf[i].fd     = w[i].closed ? -1 : w[i].fd;
			pf[i].events = POLLIN;
		}
		if (poll(pf, (nfds_t) nclients, 200) < 0)
			break;
		for (long i = 0; i < nclients; i++) {
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			long before = w[i].events;
			int  was    = w[i].subscribed;
			ws_read(&w[i], count_cb);
			if (!was && w[i].subscribed)
				subscribed++;
			if (w[i].events > before) {
				total += w[i].events - before;
				last = now_s();
			}
			if (w[i].closed && w[i].close_code)
				fprintf(stderr, "client %ld closed: %d %s\n",
				    i, w[i].close_code, w[i].close_reason);
		}
		if (pub == NULL && subscribed == nclients) {
			signal(SIGPIPE, SIG_IGN);
			/* timed from here: the clients are not read while the
			 * publisher runs, so the first delivery read would
			 * leave out the time it took */
			first = now_s();
			if ((pub = popen(cmd, "w")) == NULL)
				return 1;
			for (long e = 0; e < nevents; e++)
				fprintf(pub, "{\"seq\":%ld}\n", e);
			fflush(pub);
			pclose(pub); /* waits for the publisher */
		}
	}
	double el = last > first ? last - first : 1e-9;
	printf("{\"bench\":\"ws_fanout\",\"clients\":%ld,\"events\":%ld,"
	       "\"deliveries\":%ld,\"lost\":%ld,\"seconds\":%.3f,"
	       "\"deliveries_per_s\":%.0f}\n",
	    nclients, nevents, total, expect - total, el, (double) total / el);
	for (long i = 0; i < nclients; i++) {
		close(w[i].fd);
		free(w[i].buf);
	}
	free(w);
	free(pf);
	return total == expect ? 0 : 1;
}

/* ---- idle clients' memory ---- */

/* VmRSS of pid in KiB; -1 when it cannot be read. */
static long
vm_rss_kib(long pid)
{
	char  path[64], line[256];
	long  kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = atol(line + 6);
	fclose(f);
	return kib;
}

/* VmRSS once it stopped growing for a second (at most 30 s). */
static long
settled_rss(long pid)
{
	long last = vm_rss_kib(pid), now;
	for (int i = 0; i < 30; i++) {
		usleep(1000000);
		now = vm_rss_kib(pid);
		if (now <= last)
			return now;
		last = now;
	}
	return last;
}

static int
run_rss(long pid, const char *pattern)
{
	wsc           *w          = calloc((size_t) nclients, sizeof(*w));
	struct pollfd *pf         = calloc((size_t) nclients, sizeof(*pf));
	long           subscribed = 0, before, after;

	if (w == NULL || pf == NULL || login())
		return 1;
	if ((before = settled_rss(pid)) < 0) {
		fprintf(stderr, "bench-http: no VmRSS for pid %ld\n", pid);
		return 1;
	}
	for (long i = 0; i < nclients; i++)
		if (ws_open(&w[i], pattern, NULL, 0) != 0) {
			fprintf(stderr,
			    "bench-http: client %ld cannot connect\n", i);
			return 1;
		}
	double t0 = now_s();
	while (subscribed < nclients && now_s() - t0 < 60) {
		for (long i = 0; i < nclients; i++) {
			pf[i].fd     = w[i].closed ? -1 : w[i].fd;
			pf[i].events = POLLIN;
		}
		if (poll(pf, (nfds_t) nclients, 200) < 0)
			break;
		for (long i = 0; i < nclients; i++) {
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			int was = w[i].subscribed;
			ws_read(&w[i], count_cb);
			if (!was && w[i].subscribed)
				subscribed++;
			if (w[i].closed)
				fprintf(stderr, "client %ld closed: %d %s\n",
				    i, w[i].close_code, w[i].close_reason);
		}
	}
	after = settled_rss(pid);
	printf("{\"bench\":\"ws_idle_rss\",\"pattern\":\"%s\","
	       "\"clients\":%ld,\"subscribed\":%ld,\"rss_before_kib\":%ld,"
	       "\"rss_after_kib\":%ld,\"bytes_per_client\":%.0f}\n",
	    pattern, nclients, subscribed, before, after,
	    (double) (after - before) * 1024.0 / (double) nclients);
	for (long i = 0; i < nclients; i++) {
		close(w[i].fd);
		free(w[i].buf);
	}
	free(w);
	free(pf);
	return subscribed == nclients ? 0 : 1;
}

static int
usage(void)
{
	fprintf(stderr,
	    "usage: bench-http call|fanout|ws|rss [-u HOST:PORT] [-t TOKEN] "
	    "[-U "
	    "USER -P PASS]\n"
	    "       [-c CLIENTS] [-n COUNT] [-T TOPIC] [-x "
	    "PUBLISH_CMD|NODE_PID] [-p "
	    "PATTERN]\n"
	    "       [-s STALL_S] [-r RCVBUF] [-o ORIGIN] [-w WAIT_S]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL, *x = NULL,
	           *pattern = NULL, *origin = NULL;
	long n     = -1;
	int  stall = 0, rcvbuf = 0, wait_s = 30, o, cset = 0;

	if (cmd == NULL)
		return usage();
	optind = 2;
	while ((o = getopt(argc, argv, "u:t:U:P:c:n:T:x:p:s:r:o:w:")) != -1)
		switch (o) {
		case 'u': {
			char *c = strrchr(optarg, ':');
			if (c == NULL)
				return usage();
			snprintf(host, sizeof(host), "%.*s",
			    (int) (c - optarg), optarg);
			port = atoi(c + 1);
			break;
		}
		case 't':
			snprintf(token, sizeof(token), "%s", optarg);
			break;
		case 'U':
			user = optarg;
			break;
		case 'P':
			pass = optarg;
			break;
		case 'c':
			nclients = atol(optarg);
			cset     = 1;
			break;
		case 'n':
			n = atol(optarg);
			break;
		case 'T':
			topic = optarg;
			break;
		case 'x':
			x = optarg;
			break;
		case 'p':
			pattern = optarg;
			break;
		case 's':
			stall = atoi(optarg);
			break;
		case 'r':
			rcvbuf = atoi(optarg);
			break;
		case 'o':
			origin = optarg;
			break;
		case 'w':
			wait_s = atoi(optarg);
			break;
		default:
			return usage();
		}
	if (nclients < 1)
		return usage();
	if (strcmp(cmd, "call") == 0) {
		if (n > 0)
			ncalls = n;
		return run_call();
	}
	if (strcmp(cmd, "fanout") == 0) {
		if (x == NULL)
			return usage();
		if (!cset)
			nclients = 200;
		return run_fanout(x, n > 0 ? n : 1000);
	}
	if (strcmp(cmd, "rss") == 0) {
		if (x == NULL || atol(x) <= 0)
			return usage();
		if (!cset)
			nclients = 200;
		return run_rss(atol(x), pattern ? pattern : "prison.>");
	}
	if (strcmp(cmd, "ws") == 0) {
		if (pattern == NULL)
			return usage();
		want = n > 0 ? n : 0;
		return run_ws(pattern, stall, rcvbuf, origin, wait_s);
	}
	return usage();
}
