/*
 * test_xzclient.c - the public client library (<xiezhi/client.h>) against
 * a real link layer and bus (links xz_link and the layers below, like
 * test_link.c): a test actor that counts events and echoes requests, and
 * events published on the bus towards the client. What a program using the
 * library sees: open errors with their messages, publishes confirmed by
 * xzc_flush, requests and error replies, handlers and the pull iterator
 * (each message once per subscription, in order), traffic that arrives
 * during a request kept for later, queue groups, unsubscribing inside a
 * handler, a client answering another client's requests, a publish the
 * node refuses, a node that goes away, and tls+tcp with mutual TLS against
 * a bare nng listener (certificates from tests/data/tls/make.sh; the
 * node's own TLS doors are tested by t_doors.sh).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/supplemental/tls/tls.h>

#include <xiezhi/client.h>

#include "link/link.h"
#include "wire/envelope.h"

#define WAIT_MS 30000 /* generous: the machine may be loaded */

typedef struct world {
	char       dir[64], url[128];
	xz_clock   clk;
	xz_idgen   ids;
	xz_sched  *sched;
	xz_timers *timers;
	xz_bus    *bus;
	xz_link   *link;
	xz_actor   actor;
	/* what the actor saw */
	pthread_mutex_t mu;
	long            n, out_of_order;
} world;

static world W;

static void
on_event(void *ud, const xz_msg *m)
{
	world *w = ud;
	long   v = strtol((const char *) m->data, NULL, 10);
	pthread_mutex_lock(&w->mu);
	if (v != w->n)
		w->out_of_order++;
	w->n++;
	pthread_mutex_unlock(&w->mu);
}

static void
on_echo(void *ud, const xz_msg *m)
{
	world *w = ud;
	xz_bus_complete(w->bus, m->id, xz_kmsg_of(m)->key, "echo", m->data,
	    m->len, 0, NULL);
}

static long
seen(void)
{
	pthread_mutex_lock(&W.mu);
	long n = W.n;
	pthread_mutex_unlock(&W.mu);
	return n;
}

static int
setup(void **state)
{
	xz_bus_cfg  bc = { .max_payload = 65536,
		 .publish_timeout_ms    = 20000,
		 .request_timeout_ms    = 5000 };
	xz_diag     d;
	xz_link_cfg lc;

	(void) state;
	memset(&W, 0, sizeof(W));
	snprintf(W.dir, sizeof(W.dir), "/tmp/xz-test-xzclient-XXXXXX");
	assert_non_null(mkdtemp(W.dir));
	snprintf(W.url, sizeof(W.url), "ipc://%s/ctl", W.dir);
	pthread_mutex_init(&W.mu, NULL);
	xz_clock_init(&W.clk);
	xz_idgen_init(&W.ids);
	W.sched  = xz_sched_new();
	W.timers = xz_timers_new(&W.clk);
	assert_non_null(W.sched);
	assert_non_null(W.timers);
	assert_int_equal(xz_bus_new(&W.bus, &bc, W.timers, &W.clk, &W.ids), 0);
	assert_int_equal(xz_actor_init(&W.actor, W.sched, "t", 256), 0);
	assert_int_equal(xz_timers_start(W.timers), 0);
	assert_int_equal(xz_sched_start(W.sched, 2), 0);
	assert_int_equal(xz_bus_subscribe(W.bus, &W.actor, NULL, "up.>", NULL,
	                     on_event, &W, NULL),
	    0);
	assert_int_equal(xz_bus_subscribe(W.bus, &W.actor, NULL, "svc.echo",
	                     NULL, on_echo, &W, NULL),
	    0);
	/* What the node's sys actor answers for xzc_flush. */
	assert_int_equal(xz_bus_subscribe(W.bus, &W.actor, NULL, "xz.sys.ping",
	                     NULL, on_echo, &W, NULL),
	    0);
	lc = (xz_link_cfg) { .node_name = "test-node",
		.control_url            = W.url,
		.max_payload            = 65536,
		.queue_capacity         = 64 };
	xz_diag_init(&d);
	int rc = xz_link_start(&W.link, &lc, W.bus, &W.clk, &d);
	if (rc != XZ_OK)
		xz_diag_print(&d, stderr);
	xz_diag_free(&d);
	assert_int_equal(rc, XZ_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void) state;
	if (W.link != NULL)
		xz_link_stop(W.link);
	xz_bus_close_intake(W.bus);
	xz_sched_wait_quiet(W.sched, WAIT_MS);
	xz_bus_unsubscribe_all(W.bus, &W.actor, NULL);
	xz_actor_close(&W.actor);
	xz_sched_stop(W.sched);
	xz_timers_stop(W.timers);
	xz_bus_free(W.bus);
	xz_timers_free(W.timers);
	xz_actor_fini(&W.actor);
	xz_sched_free(W.sched);
	pthread_mutex_destroy(&W.mu);
	char path[160];
	snprintf(path, sizeof(path), "%s/ctl", W.dir);
	unlink(path);
	rmdir(W.dir);
	nng_fini();
	return 0;
}

static xzc_client *
open_client(const char *name)
{
	xzc_options o = XZC_OPTIONS_INIT;
	xzc_client *c = NULL;
	char        err[XZC_ERRMSG_MAX];

	o.name               = name;
	o.connect_timeout_ms = 5000;
	if (xzc_open(&c, W.url, &o, err, sizeof(err)) != XZ_OK)
		fail_msg("xzc_open: %s", err);
	return c;
}

static void
bus_publish(const char *topic, const char *data)
{
	assert_int_equal(xz_bus_publish(W.bus, "test", topic, strlen(topic),
	                     data, strlen(data), XZ_CT_JSON, NULL),
	    XZ_OK);
}

/* ---- open ------------------------------------------------------------ */

static void
test_open_errors(void **state)
{
	xzc_options o = XZC_OPTIONS_INIT;
	xzc_client *c = (xzc_client *) 1;
	char        err[XZC_ERRMSG_MAX], url[160];

	(void) state;
	snprintf(url, sizeof(url), "ipc://%s/nobody", W.dir);
	o.connect_timeout_ms = 100;
	assert_int_equal(xzc_open(&c, url, &o, err, sizeof(err)), XZ_ECLOSED);
	assert_null(c);
	assert_non_null(strstr(err, "cannot reach the node at "));
	assert_non_null(strstr(err, url));

	o.name = "has space";
	assert_int_equal(xzc_open(&c, W.url, &o, err, sizeof(err)), XZ_EINVAL);
	assert_non_null(strstr(err, "invalid client name 'has space'"));
	o.name = NULL;

	o.token = "not a token";
	assert_int_equal(xzc_open(&c, W.url, &o, err, sizeof(err)), XZ_EINVAL);
	assert_non_null(strstr(err, "invalid token"));
	o.token = NULL;

	o.tls_ca_file = "/etc/hostname";
	assert_int_equal(xzc_open(&c, W.url, &o, err, sizeof(err)), XZ_EINVAL);
	assert_non_null(strstr(err, "not a tls+tcp:// URL"));
	o.tls_ca_file = NULL;
	assert_int_equal(
	    xzc_open(&c, "tls+tcp://127.0.0.1:1", &o, err, sizeof(err)),
	    XZ_EINVAL);
	assert_non_null(strstr(err, "needs tls_ca_file"));
	o.tls_ca_file = "/nonexistent/ca.pem";
	assert_int_equal(
	    xzc_open(&c, "tls+tcp://127.0.0.1:1", &o, err, sizeof(err)),
	    XZ_ENOENT);
	assert_non_null(strstr(err, "cannot read /nonexistent/ca.pem"));
	o.tls_ca_file = NULL;

	assert_int_equal(
	    xzc_open(&c, "bogus://x", NULL, err, sizeof(err)), XZ_EINVAL);
	assert_non_null(strstr(err, "invalid URL 'bogus://x'"));

	/* An old caller's shorter options: only what it knows is read. */
	o.struct_size = offsetof(xzc_options, tls_ca_file);
	o.token       = "ignored: beyond struct_size";
	assert_int_equal(xzc_open(&c, W.url, &o, err, sizeof(err)), XZ_OK);
	xzc_close(c);
	assert_string_equal(xzc_strerror(XZ_ETIMEDOUT), "timed out");
	assert_string_equal(xzc_version(), XZ_VERSION_STRING);
}

/* ---- publish, request ------------------------------------------------ */

static void
test_publish_flush(void **state)
{
	xzc_client *c = open_client("pub");
	char        num[16];

	(void) state;
	for (int i = 0; i < 3000; i++) {
		snprintf(num, sizeof(num), "%d", i);
		assert_int_equal(
		    xzc_publish(c, "up.x", num, strlen(num)), XZ_OK);
	}
	assert_int_equal(xzc_publish(c, "up.*", "1", 1), XZ_EINVAL);
	assert_non_null(strstr(xzc_errmsg(c), "invalid topic 'up.*'"));
	/* Confirmed: the node took every event, in order. */
	assert_int_equal(xzc_flush(c, WAIT_MS), XZ_OK);
	uint64_t end = xz_mono_us() + WAIT_MS * 1000ull;
	while (seen() < 3000 && xz_mono_us() < end)
		usleep(2000);
	assert_int_equal(seen(), 3000);
	assert_int_equal(W.out_of_order, 0);
	assert_int_equal(xzc_refused(c), 0);
	xzc_close(c);
}

static void
test_request(void **state)
{
	xzc_client    *c = open_client("req");
	const xzc_msg *r;

	(void) state;
	assert_int_equal(
	    xzc_request(c, "svc.echo", "{\"a\":1}", 7, WAIT_MS, &r), XZ_OK);
	assert_int_equal(r->kind, XZ_KIND_REPLY);
	assert_int_equal(r->flags & XZ_MSG_ERROR, 0);
	assert_string_equal(r->data, "{\"a\":1}");
	assert_int_equal(r->len, 7);
	assert_string_equal(r->topic, "svc.echo");
	assert_int_equal(xzc_msg_error(r), XZ_OK);

	/* Nobody listens: the node's error reply, as a reply. */
	assert_int_equal(
	    xzc_request(c, "nobody.here", "{}", 2, WAIT_MS, &r), XZ_OK);
	assert_true(r->flags & XZ_MSG_ERROR);
	assert_int_equal(xzc_msg_error(r), XZ_ENORESPONDERS);
	assert_non_null(strstr(r->data, "\"code\":\"no_responders\""));

	assert_int_equal(
	    xzc_request(c, "svc.echo", "{}", 2, 0, &r), XZ_EINVAL);
	assert_null(r);
	xzc_close(c);
}

/* ---- subscriptions ---------------------------------------------------- */

typedef struct seen_log {
	char        text[64][32]; /* "sub:topic:data" */
	int         n;
	uint64_t    unsub; /* unsubscribe this one on its first message */
	xzc_client *c;
	int         dispatch_rc; /* xzc_dispatch from inside a handler */
} seen_log;

static void
log_handler(void *ud, const xzc_msg *m)
{
	seen_log *l = ud;

	assert_int_equal(m->topic_len, strlen(m->topic));
	assert_int_equal(m->len, strlen(m->data));
	if (l->n < 64)
		snprintf(l->text[l->n++], sizeof(l->text[0]), "%llu:%s:%s",
		    (unsigned long long) m->sub_id, m->topic,
		    (const char *) m->data);
	if (l->unsub != 0 && m->sub_id == l->unsub) {
		assert_int_equal(xzc_unsubscribe(l->c, l->unsub), XZ_OK);
		l->unsub = 0;
	}
	l->dispatch_rc = xzc_dispatch(l->c, 0);
}

/* Run handlers until n messages were logged. */
static void
dispatch_until(xzc_client *c, seen_log *l, int n)
{
	uint64_t end = xz_mono_us() + WAIT_MS * 1000ull;
	while (l->n < n && xz_mono_us() < end) {
		int rc = xzc_dispatch(c, 200);
		assert_true(rc == XZ_OK || rc == XZ_ETIMEDOUT);
	}
	assert_int_equal(l->n, n);
}

static void
test_handlers_and_pull(void **state)
{
	xzc_client    *c = open_client("sub");
	seen_log       l = { .c = c };
	uint64_t       h1, h2, p1;
	const xzc_msg *m;
	char           want[32];

	(void) state;
	assert_int_equal(
	    xzc_subscribe(c, "down.a", NULL, log_handler, &l, &h1), XZ_OK);
	assert_int_equal(
	    xzc_subscribe(c, "down.*", NULL, log_handler, &l, &h2), XZ_OK);
	assert_int_equal(
	    xzc_subscribe(c, "down.>", NULL, NULL, NULL, &p1), XZ_OK);
	assert_int_equal(
	    xzc_subscribe(c, "down.*.*.", NULL, NULL, NULL, NULL), XZ_EINVAL);
	assert_int_equal(xzc_flush(c, WAIT_MS), XZ_OK); /* in place */

	bus_publish("down.a", "1"); /* h1, h2 and p1: three copies come */
	bus_publish("down.b", "2"); /* h2 and p1 */
	bus_publish("down.b.c", "3"); /* p1 */
	dispatch_until(c, &l, 3);
	snprintf(want, sizeof(want), "%llu:down.a:1", (unsigned long long) h1);
	assert_string_equal(l.text[0], want);
	snprintf(want, sizeof(want), "%llu:down.a:1", (unsigned long long) h2);
	assert_string_equal(l.text[1], want);
	snprintf(want, sizeof(want), "%llu:down.b:2", (unsigned long long) h2);
	assert_string_equal(l.text[2], want);
	assert_int_equal(l.dispatch_rc, XZ_ESTATE); /* not from a handler */

	/* The pull subscription's messages were kept, once each, in order. */
	const char *pulled[] = { "down.a:1", "down.b:2", "down.b.c:3" };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(xzc_next(c, WAIT_MS, &m), XZ_OK);
		snprintf(want, sizeof(want), "%s:%s", m->topic,
		    (const char *) m->data);
		assert_string_equal(want, pulled[i]);
		assert_int_equal(m->sub_id, p1);
		assert_int_equal(m->kind, XZ_KIND_EVENT);
		assert_string_equal(m->source, "test");
	}
	assert_int_equal(xzc_next(c, 100, &m), XZ_ETIMEDOUT);
	assert_null(m);
	assert_int_equal(l.n, 3); /* no extra copy reached a handler */

	/* Unsubscribed inside its own handler: it never runs again, and the
	 * node stops sending what nothing else here wants. */
	l.unsub = h1;
	bus_publish("down.a", "4");
	bus_publish("down.a", "5");
	dispatch_until(c, &l, 6); /* h1:4, h2:4, h2:5 */
	snprintf(want, sizeof(want), "%llu:down.a:5", (unsigned long long) h2);
	assert_string_equal(l.text[5], want);
	assert_int_equal(xzc_unsubscribe(c, h1), XZ_ENOENT);
	assert_int_equal(xzc_unsubscribe(c, p1), XZ_OK);
	assert_int_equal(xzc_unsubscribe(c, h2), XZ_OK);
	assert_int_equal(xzc_flush(c, WAIT_MS), XZ_OK);
	bus_publish("down.a", "6");
	assert_int_equal(xzc_dispatch(c, 200), XZ_ETIMEDOUT);
	/* 4 and 5 were kept for p1: gone with it. */
	assert_int_equal(xzc_next(c, 100, &m), XZ_ETIMEDOUT);
	assert_int_equal(l.n, 6);
	xzc_close(c);
}

/* Publishes n events "0".."n-1" on down.x (backpressure may make it
 * wait: it must never fail). */
static void *
publisher(void *arg)
{
	long n = (long) arg, fails = 0;
	char num[16];

	for (long i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%ld", i);
		if (xz_bus_publish(W.bus, "test", "down.x", 6, num,
		        strlen(num), XZ_CT_JSON, NULL)
		    != XZ_OK)
			fails++;
	}
	return (void *) fails;
}

static void
test_traffic_during_request(void **state)
{
	xzc_client    *c = open_client("mixed");
	const xzc_msg *m, *r;
	pthread_t      t;
	void          *fails;
	const long     n = 5000;

	(void) state;
	assert_int_equal(
	    xzc_subscribe(c, "down.x", NULL, NULL, NULL, NULL), XZ_OK);
	assert_int_equal(xzc_flush(c, WAIT_MS), XZ_OK);
	/* Events flow while the requests wait: kept, then handed out. */
	assert_int_equal(pthread_create(&t, NULL, publisher, (void *) n), 0);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(
		    xzc_request(c, "svc.echo", "{}", 2, WAIT_MS, &r), XZ_OK);
		assert_string_equal(r->data, "{}");
	}
	for (long i = 0; i < n; i++) {
		assert_int_equal(xzc_next(c, WAIT_MS, &m), XZ_OK);
		assert_int_equal(strtol(m->data, NULL, 10), i);
	}
	pthread_join(t, &fails);
	assert_int_equal((long) fails, 0);
	assert_string_equal(r->data, "{}"); /* still valid: no new request */
	assert_int_equal(xzc_next(c, 100, &m), XZ_ETIMEDOUT);
	xzc_close(c);
}

static void
count_handler(void *ud, const xzc_msg *m)
{
	(void) m;
	(*(int *) ud)++;
}

static void
test_queue_group(void **state)
{
	xzc_client *c = open_client("group");
	int         a = 0, b = 0, plain = 0;

	(void) state;
	assert_int_equal(
	    xzc_subscribe(c, "work.>", "g", count_handler, &a, NULL), XZ_OK);
	assert_int_equal(
	    xzc_subscribe(c, "work.>", "g", count_handler, &b, NULL), XZ_OK);
	assert_int_equal(
	    xzc_subscribe(c, "work.*", NULL, count_handler, &plain, NULL),
	    XZ_OK);
	assert_int_equal(
	    xzc_subscribe(c, "work.>", "bad group", count_handler, &a, NULL),
	    XZ_EINVAL);
	assert_int_equal(xzc_flush(c, WAIT_MS), XZ_OK);
	for (int i = 0; i < 10; i++)
		bus_publish("work.item", "{}");
	uint64_t end = xz_mono_us() + WAIT_MS * 1000ull;
	while (plain < 10 && xz_mono_us() < end)
		xzc_dispatch(c, 200);
	assert_int_equal(xzc_dispatch(c, 200), XZ_ETIMEDOUT);
	assert_int_equal(plain, 10);
	assert_int_equal(a + b, 10); /* one member of the group each time */
	xzc_close(c);
}

/* ---- a client that answers requests ---------------------------------- */

typedef struct responder {
	xzc_client  *c;
	volatile int stop;
} responder;

static void
answer(void *ud, const xzc_msg *m)
{
	responder *r = ud;

	assert_int_equal(m->kind, XZ_KIND_REQUEST);
	assert_true(m->deadline_us > 0);
	if (strcmp(m->data, "\"fail\"") == 0)
		assert_int_equal(
		    xzc_reply_error(r->c, m, XZ_REPLY_INVALID_STATE,
		        "cannot \"fail\" now"),
		    XZ_OK);
	else
		assert_int_equal(xzc_reply(r->c, m, m->data, m->len), XZ_OK);
	assert_int_equal(xzc_reply_error(r->c, m, "made_up", "x"), XZ_EINVAL);
}

static void *
respond(void *arg)
{
	responder *r = arg;
	while (!r->stop) {
		int rc = xzc_dispatch(r->c, 100);
		assert_true(rc == XZ_OK || rc == XZ_ETIMEDOUT);
	}
	return NULL;
}

static void
test_client_responder(void **state)
{
	responder      r = { .c = open_client("responder") };
	xzc_client    *c = open_client("asker");
	const xzc_msg *m;
	pthread_t      t;

	(void) state;
	assert_int_equal(
	    xzc_subscribe(r.c, "svc.client", NULL, answer, &r, NULL), XZ_OK);
	assert_int_equal(xzc_flush(r.c, WAIT_MS), XZ_OK);
	assert_int_equal(xzc_reply(r.c, NULL, "x", 1), XZ_EINVAL);
	/* From here on only the responder thread uses r.c. */
	assert_int_equal(pthread_create(&t, NULL, respond, &r), 0);
	assert_int_equal(
	    xzc_request(c, "svc.client", "{\"q\":1}", 7, WAIT_MS, &m), XZ_OK);
	assert_string_equal(m->data, "{\"q\":1}");
	assert_int_equal(
	    xzc_request(c, "svc.client", "\"fail\"", 6, WAIT_MS, &m), XZ_OK);
	assert_int_equal(xzc_msg_error(m), XZ_ESTATE);
	assert_string_equal(m->data,
	    "{\"error\":{\"code\":\"invalid_state\",\"message\":\"cannot "
	    "\\\"fail\\\" now\"}}");
	r.stop = 1;
	pthread_join(t, NULL);
	xzc_close(r.c);
	xzc_close(c);
}

/* ---- refusals, a node that goes away -------------------------------- */

static void
test_refused_publish(void **state)
{
	xzc_client *c = open_client("refused");

	(void) state;
	assert_int_equal(xzc_flush(c, WAIT_MS), XZ_OK);
	xz_bus_close_intake(W.bus); /* the node is shutting down */
	assert_int_equal(xzc_publish(c, "up.x", "1", 1), XZ_OK); /* buffered */
	assert_int_equal(xzc_publish(c, "up.x", "2", 1), XZ_OK);
	assert_int_equal(xzc_flush(c, WAIT_MS), XZ_ECLOSED);
	assert_non_null(strstr(xzc_errmsg(c), "2 publish(es) refused"));
	assert_non_null(strstr(xzc_errmsg(c), "'up.x'"));
	assert_non_null(strstr(xzc_errmsg(c), "\"code\":\"unavailable\""));
	assert_int_equal(xzc_refused(c), 2);
	xzc_close(c);
}

static void
test_node_gone(void **state)
{
	xzc_client    *c = open_client("gone");
	const xzc_msg *m;

	(void) state;
	assert_int_equal(
	    xzc_subscribe(c, "down.>", NULL, NULL, NULL, NULL), XZ_OK);
	assert_int_equal(xzc_flush(c, WAIT_MS), XZ_OK);
	xz_link_stop(W.link);
	W.link = NULL;
	assert_int_equal(xzc_next(c, WAIT_MS, &m), XZ_ECLOSED);
	assert_non_null(
	    strstr(xzc_errmsg(c), "the node closed the connection"));
	assert_int_equal(xzc_publish(c, "up.x", "1", 1), XZ_ECLOSED);
	assert_int_equal(
	    xzc_request(c, "svc.echo", "{}", 2, 1000, &m), XZ_ECLOSED);
	xzc_close(c);
}

/* ---- tls+tcp ---------------------------------------------------------- */

#define TLS_DIR XZ_TEST_DATA "/tls/"

/* A pair1 listener on 127.0.0.1 that presents server.pem and demands a
 * client certificate from ca.pem. Returns the URL's port. */
static int
tls_listener(nng_socket *s)
{
	nng_tls_config *tc;
	nng_listener    l;
	int             port = 0;

	assert_int_equal(nng_pair1_open(s), 0);
	nng_socket_set_ms(*s, NNG_OPT_RECVTIMEO, WAIT_MS);
	assert_int_equal(nng_tls_config_alloc(&tc, NNG_TLS_MODE_SERVER), 0);
	FILE *f          = fopen(TLS_DIR "node.pem", "r");
	char  cert[4096] = "", key[4096] = "";
	assert_non_null(f);
	cert[fread(cert, 1, sizeof(cert) - 1, f)] = '\0';
	fclose(f);
	assert_non_null(f = fopen(TLS_DIR "node.key", "r"));
	key[fread(key, 1, sizeof(key) - 1, f)] = '\0';
	fclose(f);
	assert_int_equal(nng_tls_config_own_cert(tc, cert, key, NULL), 0);
	assert_int_equal(nng_tls_config_ca_file(tc, TLS_DIR "ca.pem"), 0);
	assert_int_equal(
	    nng_tls_config_auth_mode(tc, NNG_TLS_AUTH_MODE_REQUIRED), 0);
	assert_int_equal(
	    nng_listener_create(&l, *s, "tls+tcp://127.0.0.1:0"), 0);
	assert_int_equal(nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, tc), 0);
	nng_tls_config_free(tc);
	assert_int_equal(nng_listener_start(l, 0), 0);
	assert_int_equal(
	    nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port), 0);
	return port;
}

static void
test_tls(void **state)
{
	xzc_options    o = XZC_OPTIONS_INIT;
	xzc_client    *c = NULL;
	nng_socket     s;
	nng_msg       *m;
	xz_env         e;
	char           url[64], err[XZC_ERRMSG_MAX];
	size_t         off = 0, rlen;
	const uint8_t *rec;

	(void) state;
	if (strcmp(nng_tls_engine_name(), "none") == 0)
		skip(); /* nng built without TLS */
	snprintf(url, sizeof(url), "tls+tcp://127.0.0.1:%d", tls_listener(&s));
	o.name            = "tls-client";
	o.tls_ca_file     = TLS_DIR "ca.pem";
	o.tls_server_name = "localhost";

	/* No client certificate: the listener refuses the handshake. */
	assert_int_not_equal(xzc_open(&c, url, &o, err, sizeof(err)), XZ_OK);
	assert_null(c);

	/* The node's certificate from another CA: not trusted. */
	o.tls_cert_file = TLS_DIR "client.pem";
	o.tls_key_file  = TLS_DIR "client.key";
	o.tls_ca_file   = TLS_DIR "foreign-ca.pem";
	assert_int_equal(xzc_open(&c, url, &o, err, sizeof(err)), XZ_EPERM);
	assert_non_null(strstr(err, "TLS with the node at "));

	/* The right CA, but the certificate is for localhost, and the name
	 * checked by default is the URL's host. */
	o.tls_ca_file     = TLS_DIR "ca.pem";
	o.tls_server_name = NULL;
	assert_int_equal(xzc_open(&c, url, &o, err, sizeof(err)), XZ_EPERM);

	/* Mutual TLS: connected, and with a client certificate the
	 * certificate-bound HELLO starts by asking for a nonce over it
	 * (wire/certproof.h). This peer is no node and never answers: the
	 * open fails, saying so. t_mtls runs the whole exchange. */
	o.tls_server_name    = "localhost";
	o.connect_timeout_ms = 300;
	assert_int_equal(
	    xzc_open(&c, url, &o, err, sizeof(err)), XZ_ETIMEDOUT);
	assert_null(c);
	assert_non_null(strstr(err, "no answer to the certificate challenge"));
	assert_int_equal(nng_recvmsg(s, &m, 0), 0);
	assert_int_equal(
	    xz_batch_next(nng_msg_body(m), nng_msg_len(m), &off, &rec, &rlen),
	    1);
	assert_int_equal(xz_env_decode(rec, rlen, 1u << 20, &e), 0);
	assert_int_equal(e.kind, XZ_KIND_REQUEST);
	assert_int_equal(e.topic_len, strlen("xz.hello.challenge"));
	assert_memory_equal(e.topic, "xz.hello.challenge", e.topic_len);
	nng_msg_free(m);
	nng_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_publish_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_handlers_and_pull, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_traffic_during_request, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_queue_group, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_client_responder, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_refused_publish, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_node_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
