/*
 * test_bench_raw.c - the raw nng baselines run on real sockets, give sane
 * numbers, clean up their ipc files and refuse what they cannot do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include "bench/bench_raw.h"

static char ipc_path[128];
static char ipc_url[160];

static int
setup(void **state)
{
	(void) state;
	snprintf(ipc_path, sizeof(ipc_path), "/tmp/xz-test-bench-%ld.ipc",
	    (long) getpid());
	snprintf(ipc_url, sizeof(ipc_url), "ipc://%s", ipc_path);
	unlink(ipc_path);
	return 0;
}

static int
ipc_file_exists(void)
{
	struct stat st;
	return stat(ipc_path, &st) == 0;
}

static void
test_throughput(void **state)
{
	const char *urls[] = { "inproc://xz-test-bench-tp", ipc_url };

	(void) state;
	for (int u = 0; u < 2; u++)
		for (int run = 0; run < 2; run++) {
			double rate = -1;
			int    rv   = xz_bench_raw_pair_throughput(
			         urls[u], 100, 2000, &rate);
			if (rv != 0)
				fail_msg("%s run %d: %s", urls[u], run,
				    nng_strerror(rv));
			assert_true(isfinite(rate));
			assert_true(rate > 0);
			/* the socket file is gone after each run */
			assert_false(ipc_file_exists());
		}
}

static void
test_throughput_large(void **state)
{
	double rate = -1;

	(void) state;
	/* above nng's default 1 MiB receive limit */
	assert_int_equal(
	    xz_bench_raw_pair_throughput(ipc_url, (size_t) 2 << 20, 4, &rate),
	    0);
	assert_true(isfinite(rate) && rate > 0);
	assert_int_equal(xz_bench_raw_pair_throughput(
	                     "inproc://xz-test-bench-0", 0, 1, &rate),
	    0);
	assert_true(isfinite(rate) && rate > 0);
	assert_false(ipc_file_exists());
}

static void
test_latency(void **state)
{
	const char *urls[] = { "inproc://xz-test-bench-lat", ipc_url };

	(void) state;
	for (int u = 0; u < 2; u++)
		for (int run = 0; run < 2; run++) {
			double p50 = -1, p99 = -1;
			int    rv = xz_bench_raw_reqrep_latency(
			       urls[u], 64, 300, &p50, &p99);
			if (rv != 0)
				fail_msg("%s run %d: %s", urls[u], run,
				    nng_strerror(rv));
			assert_true(isfinite(p50) && isfinite(p99));
			assert_true(p50 > 0);
			assert_true(p99 >= p50);
			/* a local round trip takes well under a second */
			assert_true(p50 < 1e6);
			assert_false(ipc_file_exists());
		}
}

static void
test_refusals(void **state)
{
	double     a = -1, b = -1;
	nng_socket other;

	(void) state;
	assert_int_equal(
	    xz_bench_raw_pair_throughput(ipc_url, 10, 0, &a), NNG_EINVAL);
	assert_int_equal(
	    xz_bench_raw_pair_throughput(NULL, 10, 10, &a), NNG_EINVAL);
	assert_int_equal(
	    xz_bench_raw_reqrep_latency(ipc_url, 10, 0, &a, &b), NNG_EINVAL);
	assert_int_equal(
	    xz_bench_raw_reqrep_latency(ipc_url, 10, 10, NULL, &b),
	    NNG_EINVAL);
	assert_int_equal(
	    xz_bench_raw_pair_throughput("nosuch://x", 10, 10, &a),
	    NNG_ENOTSUP);
	assert_true(a == -1 && b == -1);

	/* Someone else listens on the path: refused, and their socket file
	 * is left alone. */
	assert_int_equal(nng_pair1_open(&other), 0);
	assert_int_equal(nng_listen(other, ipc_url, NULL, 0), 0);
	assert_true(ipc_file_exists());
	assert_int_equal(
	    xz_bench_raw_pair_throughput(ipc_url, 10, 10, &a), NNG_EADDRINUSE);
	assert_int_equal(xz_bench_raw_reqrep_latency(ipc_url, 10, 10, &a, &b),
	    NNG_EADDRINUSE);
	assert_true(ipc_file_exists());
	nng_close(other);
	unlink(ipc_path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_throughput),
		cmocka_unit_test(test_throughput_large),
		cmocka_unit_test(test_latency),
		cmocka_unit_test(test_refusals),
	};
	int rv = cmocka_run_group_tests(tests, setup, NULL);
	nng_fini();
	return rv;
}
