/*
 * test_link.c - the link layer alone (links xz_link and the layers below):
 * a bus with one test actor, a link listening on an ipc socket in a temp
 * folder, and real clients (wire/client.c) dialing it. Events both ways,
 * requests and their error replies, a malformed batch rejected without
 * harm to the connection, and a slow reader that holds a publisher back
 * (credits) without losing or reordering anything.
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

#include "link/link.h"
#include "wire/client.h"
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

static uint64_t
now_ms(void)
{
	return xz_mono_us() / 1000u;
}

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
	xz_bus_complete(
	    w->bus, m->id, xz_kmsg_of(m)->key, "echo", m->data, m->len, 0, NULL);
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
	snprintf(W.dir, sizeof(W.dir), "/tmp/xz-test-link-XXXXXX");
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

static void
put(xz_client *c, int kind, const char *topic, const char *payload,
    uint8_t id[16])
{
	xz_env e = { .kind   = (uint8_t) kind,
		.topic       = topic,
		.topic_len   = strlen(topic),
		.payload     = (const uint8_t *) payload,
		.payload_len = strlen(payload) };
	xz_client_id(c, e.id);
	if (kind == XZ_KIND_REQUEST)
		e.deadline_us = xz_client_now_us() + 10000000u;
	if (id != NULL)
		memcpy(id, e.id, 16);
	assert_int_equal(xz_client_put(c, &e), 0);
}

/* The next envelope of kind, skipping others; fails after WAIT_MS. */
static void
next_of(xz_client *c, int kind, xz_env *e)
{
	uint64_t end = now_ms() + WAIT_MS;
	while (now_ms() < end) {
		int rc = xz_client_next(c, e, 200);
		if (rc == NNG_ETIMEDOUT)
			continue;
		assert_int_equal(rc, 0);
		if (e->kind == kind)
			return;
	}
	fail_msg("no envelope of kind %d within %d ms", kind, WAIT_MS);
}

static void
test_events_in(void **state)
{
	xz_client c;
	char      num[16];

	(void) state;
	assert_int_equal(xz_client_open(&c, W.url, "t", 5000), 0);
	for (int i = 0; i < 3000; i++) {
		snprintf(num, sizeof(num), "%d", i);
		put(&c, XZ_KIND_EVENT, "up.x", num, NULL);
	}
	assert_int_equal(xz_client_flush(&c), 0);
	uint64_t end = now_ms() + WAIT_MS;
	while (seen() < 3000 && now_ms() < end)
		usleep(2000);
	assert_int_equal(seen(), 3000);
	assert_int_equal(W.out_of_order, 0);
	xz_client_close(&c);
}

static void
test_request_reply(void **state)
{
	xz_client c;
	xz_env    e;
	uint8_t   id[16];

	(void) state;
	assert_int_equal(xz_client_open(&c, W.url, "t", 5000), 0);
	put(&c, XZ_KIND_REQUEST, "svc.echo", "{\"a\":1}", id);
	assert_int_equal(xz_client_flush(&c), 0);
	next_of(&c, XZ_KIND_REPLY, &e);
	assert_memory_equal(e.corr, id, 16);
	assert_int_equal(e.flags & XZ_MSG_ERROR, 0);
	assert_int_equal(e.payload_len, 7);
	assert_memory_equal(e.payload, "{\"a\":1}", 7);

	/* Nobody listens: an error reply with the closed-set code. */
	put(&c, XZ_KIND_REQUEST, "nobody.here", "{}", id);
	assert_int_equal(xz_client_flush(&c), 0);
	next_of(&c, XZ_KIND_REPLY, &e);
	assert_memory_equal(e.corr, id, 16);
	assert_true(e.flags & XZ_MSG_ERROR);
	assert_non_null(memmem(
	    e.payload, e.payload_len, "\"code\":\"no_responders\"", 22));
	xz_client_close(&c);
}

static void
test_malformed_batch(void **state)
{
	xz_client     c;
	xz_env        e;
	xz_link_stats st;
	uint8_t       junk[80], id[16];

	(void) state;
	assert_int_equal(xz_client_open(&c, W.url, "t", 5000), 0);
	xz_link_stats_get(W.link, &st);
	uint64_t before = st.rejected;
	/* A record whose length claims more than the message holds. */
	memset(junk, 0xAB, sizeof(junk));
	junk[0] = 200;
	junk[1] = junk[2] = junk[3] = 0;
	assert_int_equal(nng_send(c.sock, junk, sizeof(junk), 0), 0);
	uint64_t end = now_ms() + WAIT_MS;
	do {
		xz_link_stats_get(W.link, &st);
	} while (st.rejected == before && now_ms() < end && !usleep(2000));
	assert_int_equal(st.rejected, before + 1);
	/* The connection still works. */
	put(&c, XZ_KIND_REQUEST, "svc.echo", "{}", id);
	assert_int_equal(xz_client_flush(&c), 0);
	next_of(&c, XZ_KIND_REPLY, &e);
	assert_memory_equal(e.corr, id, 16);
	xz_client_close(&c);
}

/* Publishes N events on the bus from a thread (backpressure may make it
 * wait: it must never fail). */
#define SLOW_N 20000
static void *
publisher(void *arg)
{
	char num[16];
	long fails = 0;
	(void) arg;
	for (int i = 0; i < SLOW_N; i++) {
		snprintf(num, sizeof(num), "%d", i);
		if (xz_bus_publish(W.bus, "test", "down.x", 6, num,
		        strlen(num), XZ_CT_TEXT, NULL)
		    != XZ_OK)
			fails++;
	}
	return (void *) fails;
}

static void
test_slow_subscriber(void **state)
{
	xz_client    c;
	xz_env       e;
	xz_bus_stats bs;
	pthread_t    t;
	void        *fails;

	(void) state;
	assert_int_equal(xz_client_open(&c, W.url, "t", 5000), 0);
	xz_bus_stats_get(W.bus, &bs);
	size_t subs = bs.subscriptions;
	put(&c, XZ_KIND_SUB, "down.>", "", NULL);
	assert_int_equal(xz_client_flush(&c), 0);
	uint64_t end = now_ms() + WAIT_MS;
	do {
		xz_bus_stats_get(W.bus, &bs);
	} while (bs.subscriptions == subs && now_ms() < end && !usleep(2000));
	assert_int_equal(bs.subscriptions, subs + 1);

	/* The peer's queue holds 64: the publisher must wait for the reader,
	 * which reads slowly at first. */
	assert_int_equal(pthread_create(&t, NULL, publisher, NULL), 0);
	usleep(200000);
	long got = 0, disorder = 0;
	end = now_ms() + 4 * WAIT_MS;
	while (got < SLOW_N && now_ms() < end) {
		int rc = xz_client_next(&c, &e, 200);
		if (rc == NNG_ETIMEDOUT)
			continue;
		assert_int_equal(rc, 0);
		if (e.kind != XZ_KIND_EVENT)
			continue;
		if (strtol((const char *) e.payload, NULL, 10) != got)
			disorder++;
		got++;
	}
	pthread_join(t, &fails);
	assert_int_equal((long) fails, 0);
	assert_int_equal(got, SLOW_N);
	assert_int_equal(disorder, 0);
	xz_bus_stats_get(W.bus, &bs);
	assert_int_equal(bs.dropped, 0);
	xz_client_close(&c);
}

/* ---- a tls+tcp listener ---------------------------------------------- */

#define TLS_DIR XZ_TEST_DATA "/tls/"

/* Dial url over TLS as a raw pair1 peer, presenting name.pem/name.key
 * (NULL: no certificate), send one request to svc.echo and wait up to 5 s
 * for its reply. 0 when the echo came back. */
static int
tls_echo(const char *url, const char *name)
{
	nng_socket      s;
	nng_dialer      dl;
	nng_tls_config *tls;
	uint8_t         buf[512];
	char            cert[256], key[256];
	xz_env          e = { .kind   = XZ_KIND_REQUEST,
		         .topic       = "svc.echo",
		         .topic_len   = 8,
		         .payload     = (const uint8_t *) "{\"tls\":1}",
		         .payload_len = 9 };
	size_t          n;
	int             rc, got = -1;

	assert_int_equal(nng_pair1_open(&s), 0);
	assert_int_equal(nng_dialer_create(&dl, s, url), 0);
	assert_int_equal(nng_tls_config_alloc(&tls, NNG_TLS_MODE_CLIENT), 0);
	assert_int_equal(nng_tls_config_ca_file(tls, TLS_DIR "ca.pem"), 0);
	assert_int_equal(nng_tls_config_server_name(tls, "localhost"), 0);
	if (name != NULL) {
		snprintf(cert, sizeof(cert), TLS_DIR "%s.pem", name);
		snprintf(key, sizeof(key), TLS_DIR "%s.key", name);
		char  *c = NULL, *k = NULL;
		FILE  *f;
		size_t len;
		assert_non_null(f = fopen(cert, "r"));
		c   = calloc(1, 8192);
		len = fread(c, 1, 8191, f);
		fclose(f);
		assert_non_null(f = fopen(key, "r"));
		k = calloc(1, 8192);
		len += fread(k, 1, 8191, f);
		fclose(f);
		assert_true(len > 0);
		assert_int_equal(nng_tls_config_own_cert(tls, c, k, NULL), 0);
		free(c);
		free(k);
	}
	assert_int_equal(nng_dialer_set_ptr(dl, NNG_OPT_TLS_CONFIG, tls), 0);
	nng_tls_config_free(tls);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 5000);
	if ((rc = nng_dialer_start(dl, 0)) != 0)
		goto out;
	memset(e.id, 7, sizeof(e.id));
	e.deadline_us = xz_client_now_us() + 5000000u;
	n             = xz_batch_append(&e, buf, sizeof(buf));
	assert_true(n > 0);
	if (nng_send(s, buf, n, 0) != 0)
		goto out;
	for (int i = 0; i < 10 && got != 0; i++) {
		nng_msg *m;
		if (nng_recvmsg(s, &m, 0) != 0)
			break;
		if (memmem(nng_msg_body(m), nng_msg_len(m), "{\"tls\":1}", 9))
			got = 0;
		nng_msg_free(m);
	}
out:
	nng_close(s);
	return got;
}

/* A tls+tcp listener with a CA serves a client whose certificate that CA
 * signed, and nobody else: no certificate, or one of another CA. */
static void
test_tls_listener_requires_client_cert(void **state)
{
	xz_link_listen ls = { .tls_ca = TLS_DIR "ca.pem",
		.tls_cert             = TLS_DIR "node.pem",
		.tls_key              = TLS_DIR "node.key" };
	xz_link       *lk;
	xz_diag        d;
	char           url[64], ctl[300];

	(void) state;
	snprintf(url, sizeof(url), "tls+tcp://127.0.0.1:%d",
	    20000 + (int) (getpid() % 20000));
	snprintf(ctl, sizeof(ctl), "ipc://%s/ctl2", W.dir);
	ls.url         = url;
	xz_link_cfg lc = { .node_name = "tls-node",
		.control_url          = ctl,
		.listen               = &ls,
		.nlisten              = 1,
		.max_payload          = 65536,
		.queue_capacity       = 64 };
	xz_diag_init(&d);
	int rc = xz_link_start(&lk, &lc, W.bus, &W.clk, &d);
	if (rc != XZ_OK)
		xz_diag_print(&d, stderr);
	xz_diag_free(&d);
	assert_int_equal(rc, XZ_OK);
	assert_int_equal(tls_echo(url, "client"), 0);
	assert_int_not_equal(tls_echo(url, NULL), 0);
	assert_int_not_equal(tls_echo(url, "foreign"), 0);
	xz_link_stop(lk);
	unlink(ctl + 6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_events_in, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_request_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_malformed_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_slow_subscriber, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tls_listener_requires_client_cert, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
