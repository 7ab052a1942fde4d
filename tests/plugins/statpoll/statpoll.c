/*
 * statpoll.c - poll a node's xz.sys.status every INTERVAL_MS over one
 * connection until the file STOP exists; print one line:
 *   polls=N max_ms=M over_100ms=H over=K unanswered=U
 * where over counts answers slower than LIMIT_MS, over_100ms those slower
 * than 100 ms, and unanswered those that got no reply within 10 s. Exit 0 when every poll answered within
 * LIMIT_MS, 1 otherwise, 2 on a usage or connection error.
 *
 *   xz_statpoll URL INTERVAL_MS LIMIT_MS STOP
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "wire/client.h"
#include <xiezhi/xiezhi.h>

static uint64_t
mono_ms(void)
{
	return nng_clock();
}

int
main(int argc, char **argv)
{
	xz_client c;
	long      polls = 0, over = 0, over100 = 0, unanswered = 0;
	uint64_t  worst = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: %s URL INTERVAL_MS LIMIT_MS STOP\n",
		    argv[0]);
		return 2;
	}
	int interval = atoi(argv[2]), limit = atoi(argv[3]);
	if (xz_client_open(&c, argv[1], "statpoll", 10000) != 0) {
		fprintf(stderr, "statpoll: cannot connect to %s\n", argv[1]);
		return 2;
	}
	while (access(argv[4], F_OK) != 0) {
		xz_env  req = { .kind = XZ_KIND_REQUEST,
			 .topic       = "xz.sys.status",
			 .topic_len   = 13,
			 .payload     = (const uint8_t *) "{}",
			 .payload_len = 2 };
		uint8_t id[16];
		xz_client_id(&c, req.id);
		memcpy(id, req.id, 16);
		req.deadline_us = xz_client_now_us() + 10000000u;
		uint64_t t0     = mono_ms();
		if (xz_client_put(&c, &req) != 0 || xz_client_flush(&c) != 0) {
			fprintf(stderr, "statpoll: the node went away\n");
			return 2;
		}
		int answered = 0;
		while (!answered && mono_ms() - t0 < 10000) {
			xz_env e;
			int    rc = xz_client_next(&c, &e, 100);
			if (rc == NNG_ETIMEDOUT)
				continue;
			if (rc != 0) {
				fprintf(stderr, "statpoll: %s\n",
				    nng_strerror(rc));
				return 2;
			}
			answered = e.kind == XZ_KIND_REPLY
			    && memcmp(e.corr, id, 16) == 0;
		}
		uint64_t dt = mono_ms() - t0;
		polls++;
		if (!answered)
			unanswered++;
		else if (dt > (uint64_t) limit)
			over++;
		if (answered && dt > 100)
			over100++;
		if (dt > worst)
			worst = dt;
		if (dt < (uint64_t) interval)
			nng_msleep((nng_duration) (interval - dt));
	}
	xz_client_close(&c);
	printf("polls=%ld max_ms=%llu over_100ms=%ld over=%ld unanswered=%ld\n",
	    polls, (unsigned long long) worst, over100, over, unanswered);
	return over == 0 && unanswered == 0 && polls > 0 ? 0 : 1;
}
