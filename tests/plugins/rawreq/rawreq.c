/*
 * rawreq.c - send one request to a node through the public client library
 * with a payload taken byte for byte from stdin (nothing is checked or
 * re-encoded: invalid UTF-8, a bad key, anything), and print the reply's
 * payload on stdout.
 *
 *   xz_rawreq URL TOPIC [TIMEOUT_MS] < payload
 *
 * Exit 0 for a reply, 1 for an error reply ({"error":{"code",...}}), 2 for
 * a usage or connection error or no reply.
 *
 *   xz_rawreq --answer URL PATTERN REPLY SECONDS
 *
 * A would-be responder: subscribes to PATTERN and answers every request
 * it receives with REPLY for SECONDS, then prints how many it answered
 * ("answered N") and exits 0 (t_audit_reserved.sh: a client that tries to
 * answer for the audit plugin).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xiezhi/client.h>

typedef struct answerer {
	xzc_client *c;
	const char *reply;
	long        answered;
} answerer;

static void
on_request(void *ud, const xzc_msg *m)
{
	answerer *a = ud;

	if (m->kind == XZ_KIND_REQUEST
	    && xzc_reply(a->c, m, a->reply, strlen(a->reply)) == XZ_OK)
		a->answered++;
}

static int
answer(int argc, char **argv)
{
	char        err[XZC_ERRMSG_MAX];
	answerer    a = { 0 };
	xzc_options o = XZC_OPTIONS_INIT;
	time_t      end;

	if (argc != 6 || atoi(argv[5]) <= 0) {
		fprintf(stderr,
		    "usage: %s --answer URL PATTERN REPLY SECONDS\n", argv[0]);
		return 2;
	}
	o.name  = "rogue";
	a.reply = argv[4];
	if (xzc_open(&a.c, argv[2], &o, err, sizeof(err)) != XZ_OK) {
		fprintf(stderr, "rawreq: %s\n", err);
		return 2;
	}
	if (xzc_subscribe(a.c, argv[3], NULL, on_request, &a, NULL) != XZ_OK
	    || xzc_flush(a.c, 5000) != XZ_OK) {
		fprintf(stderr, "rawreq: subscribe %s: %s\n", argv[3],
		    xzc_errmsg(a.c));
		xzc_close(a.c);
		return 2;
	}
	printf("subscribed\n");
	fflush(stdout);
	end = time(NULL) + atoi(argv[5]);
	while (time(NULL) < end) {
		int rc = xzc_dispatch(a.c, 200);
		if (rc != XZ_OK && rc != XZ_ETIMEDOUT)
			break;
	}
	printf("answered %ld\n", a.answered);
	xzc_close(a.c);
	return 0;
}

int
main(int argc, char **argv)
{
	char           err[XZC_ERRMSG_MAX];
	xzc_client    *c     = NULL;
	const xzc_msg *reply = NULL;
	char          *buf   = NULL; /* the payload, owned here */
	size_t         len = 0, cap = 0, n;
	int            rc, tmo      = argc > 3 ? atoi(argv[3]) : 10000;

	if (argc > 1 && strcmp(argv[1], "--answer") == 0)
		return answer(argc, argv);
	if (argc < 3 || argc > 4 || tmo <= 0) {
		fprintf(stderr, "usage: %s URL TOPIC [TIMEOUT_MS] < payload\n",
		    argv[0]);
		return 2;
	}
	for (;;) {
		if (len == cap) {
			char *nb = realloc(buf, cap = cap ? 2 * cap : 4096);
			if (nb == NULL) {
				free(buf);
				fprintf(stderr, "rawreq: out of memory\n");
				return 2;
			}
			buf = nb;
		}
		if ((n = fread(buf + len, 1, cap - len, stdin)) == 0)
			break;
		len += n;
	}
	xzc_options o = XZC_OPTIONS_INIT;
	o.name        = "rawreq";
	if ((rc = xzc_open(&c, argv[1], &o, err, sizeof(err))) != XZ_OK) {
		fprintf(stderr, "rawreq: %s\n", err);
		free(buf);
		return 2;
	}
	rc = xzc_request(c, argv[2], buf, len, tmo, &reply);
	free(buf);
	if (rc != XZ_OK || reply == NULL) {
		fprintf(stderr, "rawreq: %s: %s\n", argv[2], xzc_strerror(rc));
		xzc_close(c);
		return 2;
	}
	fwrite(reply->data, 1, reply->len, stdout);
	fputc('\n', stdout);
	rc = (reply->flags & XZ_MSG_ERROR) ? 1 : 0;
	xzc_close(c);
	return rc;
}
