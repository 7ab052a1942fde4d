/*
 * test_client.c - the client side of a link (links xz_wire only), against a
 * bare nng pair1 socket playing the node: HELLO first, envelopes batched
 * into one nng message per flush, one CREDIT per received batch, records
 * of a batch handed out in order, and a node that goes away noticed.
 */
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

#include "wire/client.h"
#include <xiezhi/xiezhi.h>

typedef struct fake_node {
	char       dir[64], url[128];
	nng_socket sock;
} fake_node;

static fake_node N;

static int
setup(void **state)
{
	(void) state;
	snprintf(N.dir, sizeof(N.dir), "/tmp/xz-test-client-XXXXXX");
	assert_non_null(mkdtemp(N.dir));
	snprintf(N.url, sizeof(N.url), "ipc://%s/node", N.dir);
	assert_int_equal(nng_pair1_open(&N.sock), 0);
	nng_socket_set_ms(N.sock, NNG_OPT_RECVTIMEO, 10000);
	assert_int_equal(nng_listen(N.sock, N.url, NULL, 0), 0);
	return 0;
}

static int
teardown(void **state)
{
	char path[160];
	(void) state;
	nng_close(N.sock);
	snprintf(path, sizeof(path), "%s/node", N.dir);
	unlink(path);
	rmdir(N.dir);
	nng_fini();
	return 0;
}

/* Receive one nng message and decode its records into e[] (up to max). */
static size_t
recv_batch(xz_env *e, size_t max, nng_msg **keep)
{
	nng_msg       *m;
	const uint8_t *rec;
	size_t         off = 0, rlen, n = 0;

	assert_int_equal(nng_recvmsg(N.sock, &m, 0), 0);
	while (
	    xz_batch_next(nng_msg_body(m), nng_msg_len(m), &off, &rec, &rlen)
	    == 1) {
		assert_true(n < max);
		assert_int_equal(xz_env_decode(rec, rlen, 1u << 20, &e[n]), 0);
		n++;
	}
	assert_int_equal(off, nng_msg_len(m));
	*keep = m; /* e[] points into it */
	return n;
}

static void
send_events(int first, int count)
{
	uint8_t buf[4096];
	size_t  len = 0;
	char    num[16];

	for (int i = first; i < first + count; i++) {
		snprintf(num, sizeof(num), "%d", i);
		xz_env e = { .kind   = XZ_KIND_EVENT,
			.topic       = "a.b",
			.topic_len   = 3,
			.payload     = (const uint8_t *) num,
			.payload_len = strlen(num) };
		size_t w = xz_batch_append(&e, buf + len, sizeof(buf) - len);
		assert_true(w > 0);
		len += w;
	}
	assert_int_equal(nng_send(N.sock, buf, len, 0), 0);
}

static void
test_hello_batching_credit(void **state)
{
	xz_client c;
	xz_env    e[8];
	nng_msg  *m;
	uint8_t   id[16];

	(void) state;
	assert_int_equal(xz_client_open(&c, N.url, "tester", 5000), 0);

	/* First: HELLO with our name. */
	assert_int_equal(recv_batch(e, 8, &m), 1);
	assert_int_equal(e[0].kind, XZ_KIND_HELLO);
	assert_non_null(
	    memmem(e[0].payload, e[0].payload_len, "\"name\":\"tester-", 15));
	nng_msg_free(m);

	/* Three puts, one flush: one nng message holding three records. */
	for (int i = 0; i < 3; i++) {
		xz_env ev = { .kind  = XZ_KIND_EVENT,
			.topic       = "x.y",
			.topic_len   = 3,
			.payload     = (const uint8_t *) "{}",
			.payload_len = 2 };
		xz_client_id(&c, ev.id);
		if (i == 2)
			memcpy(id, ev.id, 16);
		assert_int_equal(xz_client_put(&c, &ev), 0);
	}
	assert_int_equal(xz_client_flush(&c), 0);
	assert_int_equal(recv_batch(e, 8, &m), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(e[i].kind, XZ_KIND_EVENT);
	/* Ids are unique and the last one is the one we were given. */
	assert_memory_not_equal(e[0].id, e[1].id, 16);
	assert_memory_equal(e[2].id, id, 16);
	nng_msg_free(m);

	/* A batch of two from the node: handed out in order, then exactly
	 * one CREDIT of 1 goes back. */
	send_events(0, 2);
	xz_env got;
	assert_int_equal(xz_client_next(&c, &got, 10000), 0);
	assert_int_equal(got.payload_len, 1);
	assert_int_equal(got.payload[0], '0');
	assert_int_equal(xz_client_next(&c, &got, 10000), 0);
	assert_int_equal(got.payload[0], '1');
	assert_int_equal(recv_batch(e, 8, &m), 1);
	assert_int_equal(e[0].kind, XZ_KIND_CREDIT);
	assert_int_equal(e[0].payload_len, 4);
	assert_int_equal(e[0].payload[0], 1);
	nng_msg_free(m);

	/* Nothing more: a timeout, not an error. */
	assert_int_equal(xz_client_next(&c, &got, 150), NNG_ETIMEDOUT);
	xz_client_close(&c);
}

static void
test_node_gone(void **state)
{
	xz_client c;
	xz_env    e[4], got;
	nng_msg  *m;

	(void) state;
	assert_int_equal(xz_client_open(&c, N.url, "tester", 5000), 0);
	assert_int_equal(recv_batch(e, 4, &m), 1);
	nng_msg_free(m);
	nng_close(N.sock);
	/* The client notices within its poll slices, not never. */
	int rc = xz_client_next(&c, &got, 20000);
	assert_int_equal(rc, NNG_ECLOSED);
	xz_client_close(&c);
	assert_int_equal(nng_pair1_open(&N.sock), 0); /* for teardown */
}

static void
test_dial_nobody(void **state)
{
	xz_client c;
	char      url[160];

	(void) state;
	snprintf(url, sizeof(url), "ipc://%s/nobody", N.dir);
	assert_int_not_equal(xz_client_open(&c, url, "tester", 200), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_hello_batching_credit, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_node_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_dial_nobody, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
