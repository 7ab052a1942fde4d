/*
 * rawpair.c - a raw nng pair1 client for t_links.sh. It does not use the
 * core's codec: it writes bytes by hand, to send a node what a correct
 * client never would.
 *
 *   xz_rawpair URL bad      send the malformed messages below, then one
 *                           valid event on raw.ok {"n":1}; print how many
 *                           messages must be rejected
 *   xz_rawpair URL huge     send one 8 MiB message (over the receive limit)
 *
 * Every message here is a whole batch the node must reject (and count in
 * rejected_envelopes), taking nothing from it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/supplemental/util/platform.h>

static nng_socket sock;
static int        sent_bad;

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t) (v >> (8 * i));
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
}

static void
send_buf(const uint8_t *b, size_t n, int bad)
{
	int rc = nng_send(sock, (void *) b, n, 0);
	if (rc != 0) {
		fprintf(stderr, "xz_rawpair: send: %s\n", nng_strerror(rc));
		exit(1);
	}
	sent_bad += bad;
}

/* One record [u32 len][64-byte header][topic][payload] at p; returns its
 * size. kind 1 = event. */
static size_t
record(uint8_t *p, uint8_t kind, const char *topic, const char *payload)
{
	size_t   tl = strlen(topic), pl = strlen(payload);
	uint8_t *h = p + 4;

	memset(h, 0, 64);
	h[0] = 'X';
	h[1] = 1;
	h[2] = kind;
	h[3] = 0; /* JSON */
	put16(h + 6, (uint16_t) tl);
	h[8] = 0; /* no source */
	put32(h + 12, (uint32_t) pl);
	for (int i = 0; i < 16; i++)
		h[16 + i] = (uint8_t) (rand() & 0xff);
	memcpy(h + 64, topic, tl);
	memcpy(h + 64 + tl, payload, pl);
	put32(p, (uint32_t) (64 + tl + pl));
	return 4 + 64 + tl + pl;
}

static void
send_bad_cases(void)
{
	uint8_t b[4096] = { 0 };
	size_t  n;

	send_buf(b, 0, 1); /* empty */
	memset(b, 0x41, 3);
	send_buf(b, 3, 1); /* shorter than a length prefix */
	put32(b, 0xffffffffu);
	memset(b + 4, 0, 60);
	send_buf(b, 64, 1); /* length beyond the message */
	put32(b, 64);
	memset(b + 4, 'Y', 64);
	send_buf(b, 68, 1); /* bad magic */
	n     = record(b, 1, "raw.ok", "{\"n\":9}");
	b[13] = 1; /* reserved byte set */
	send_buf(b, n, 1);
	n = record(b, 1, "raw.ok", "{\"n\":9}");
	put16(b + 4 + 6, 0); /* topic length 0 */
	send_buf(b, n, 1);
	n = record(b, 1, "raw.ok", "{\"n\":9}");
	put32(b + 4 + 12, 1000); /* payload longer than the record */
	send_buf(b, n, 1);
	n = record(b, 1, "raw.ok", "{\"n\":9}"); /* a good record, then junk */
	put32(b + n, 70);
	memset(b + n + 4, 0x5a, 70);
	send_buf(b, n + 74, 1);
	n = record(b, 4, "raw.ok", "{}"); /* ACK from a client */
	send_buf(b, n, 1);
	n = record(b, 1, "raw.ok", "{\"n\":9}");
	put16(b + 4 + 4, 0x8000); /* unknown flag */
	send_buf(b, n, 1);
	n = record(b, 1, "raw.*", "{\"n\":9}"); /* wildcard in a topic */
	send_buf(b, n, 1);
	n = record(b, 99, "raw.ok", "{\"n\":9}"); /* unknown kind */
	send_buf(b, n, 1);
	/* Random bytes behind a consistent length prefix (no magic). */
	srand(2);
	for (int i = 0; i < 100; i++) {
		size_t len = 64 + (size_t) (rand() % 400);
		for (size_t j = 0; j < len; j++)
			b[4 + j] = (uint8_t) (rand() & 0xff);
		if (b[4] == 'X')
			b[4] = 'x';
		put32(b, (uint32_t) len);
		send_buf(b, 4 + len, 1);
	}
	/* Still served: a valid event arrives. */
	n = record(b, 1, "raw.ok", "{\"n\":1}");
	send_buf(b, n, 0);
}

int
main(int argc, char **argv)
{
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: xz_rawpair URL bad|huge\n");
		return 2;
	}
	if ((rc = nng_pair1_open(&sock)) != 0
	    || (rc = nng_dial(sock, argv[1], NULL, 0)) != 0) {
		fprintf(
		    stderr, "xz_rawpair: %s: %s\n", argv[1], nng_strerror(rc));
		return 1;
	}
	if (strcmp(argv[2], "huge") == 0) {
		size_t   n = 8u << 20;
		uint8_t *b = calloc(1, n);
		if (b == NULL)
			return 1;
		put32(b, (uint32_t) (n - 4));
		send_buf(b, n, 0);
		free(b);
	} else {
		send_bad_cases();
		printf("%d\n", sent_bad);
	}
	nng_msleep(300); /* let the messages leave before closing */
	nng_close(sock);
	return 0;
}
