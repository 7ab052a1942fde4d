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
 */
#include <stdio.h>
#include <stdlib.h>

#include <xiezhi/client.h>

int
main(int argc, char **argv)
{
	char           err[XZC_ERRMSG_MAX];
	xzc_client    *c     = NULL;
	const xzc_msg *reply = NULL;
	char          *buf   = NULL; /* the payload, owned here */
	size_t         len = 0, cap = 0, n;
	int            rc, tmo      = argc > 3 ? atoi(argv[3]) : 10000;

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
