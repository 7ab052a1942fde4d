/*
 * test_jcache.c - the per-thread cache of jansson's blocks (core/cli/
 * jcache.c), installed as `xiezhi` installs it: a freed value's blocks
 * serve the next values of their sizes; what jansson hands out
 * (json_dumps) is freed with free(); blocks that malloc gave elsewhere
 * may come back through jansson; a thread keeps a bounded amount, and
 * gives it back when it ends (valgrind and the sanitizer pass see no
 * leak); values built, shared and freed across threads stay intact.
 * Skipped in a sanitizer build, where the cache is not installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/jcache.h"

/* Whether malloc is glibc's: under valgrind it is valgrind's, whose
 * usable sizes and statistics are not glibc's, so the checks of what
 * is kept do not apply (the rest still runs, for valgrind's checks). */
static int
glibc_malloc(void)
{
	const char *p = getenv("LD_PRELOAD");
	return p == NULL || strstr(p, "vgpreload") == NULL;
}

/* The blocks one small object with a member takes. */
static json_t *
small(int i)
{
	json_t *o = json_object();
	json_object_set_new(o, "n", json_integer(i));
	return o;
}

static void
test_reuse(void **state)
{
	(void) state;
	if (!glibc_malloc())
		skip();
	/* a string value: the block freed is the next one of its size */
	json_t *a = json_string("sixteen bytes ok");
	void   *p = (void *) json_string_value(a);
	json_decref(a);
	json_t *b = json_string("sixteen bytes ok");
	assert_ptr_equal(json_string_value(b), p);
	json_decref(b);
	/* a tree of 120 objects (two blocks of one size each, under the
	 * 256 a size keeps): freed, its blocks stay with the thread
	 * (in use to malloc), and serve the same tree built again */
	json_t *arr = json_array();
	for (int i = 0; i < 120; i++)
		json_array_append_new(arr, small(i));
	struct mallinfo2 m1 = mallinfo2();
	json_decref(arr);
	struct mallinfo2 m2 = mallinfo2();
	/* malloc got back the array's table at most (a few KiB) */
	assert_true(m2.uordblks + 8 * 1024 > m1.uordblks);
	arr = json_array();
	for (int i = 0; i < 120; i++)
		json_array_append_new(arr, small(i));
	struct mallinfo2 m3 = mallinfo2();
	/* only the array's table is new */
	assert_true(m3.uordblks < m2.uordblks + 8 * 1024);
	json_decref(arr);
}

static void
test_dumps_free(void **state)
{
	(void) state;
	json_t *o = json_pack("{s:s,s:i}", "id", "ALM-00000001", "n", 7);
	char   *t = json_dumps(o, JSON_COMPACT);
	assert_string_equal(t, "{\"id\":\"ALM-00000001\",\"n\":7}");
	free(t); /* a plain malloc'd block */
	json_decref(o);
	/* a block malloc gave elsewhere, freed by jansson's free */
	char *s = malloc(40);
	strcpy(s, "a text jansson takes over");
	json_t *v = json_stringn_nocheck(s, strlen(s));
	free(s);
	json_decref(v);
	/* a block larger than any class goes straight back */
	char big[4000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	json_t *w            = json_string(big);
	assert_int_equal(json_string_length(w), sizeof(big) - 1);
	json_decref(w);
}

static void
test_bounded(void **state)
{
	(void) state;
	if (!glibc_malloc())
		skip();
	/* free far more than a thread keeps: the rest goes back to
	 * malloc, so memory in use falls back near where it was */
	struct mallinfo2 m0  = mallinfo2();
	json_t          *arr = json_array();
	for (int i = 0; i < 50000; i++)
		json_array_append_new(arr, small(i));
	json_decref(arr);
	struct mallinfo2 m1 = mallinfo2();
	assert_true(m1.uordblks < m0.uordblks + 2 * 256 * 1024);
}

/* Built on one thread, freed on another, which ends with its cache full. */
static void *
consume(void *arg)
{
	json_t *arr = arg;
	for (size_t i = 0; i < json_array_size(arr); i++)
		assert_int_equal(json_integer_value(json_object_get(
		                     json_array_get(arr, i), "n")),
		    (json_int_t) i);
	json_decref(arr);
	/* and build and free its own */
	for (int k = 0; k < 100; k++) {
		json_t *o = small(k);
		json_decref(o);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	(void) state;
	pthread_t t[4];
	for (int k = 0; k < 4; k++) {
		json_t *arr = json_array();
		for (int i = 0; i < 2000; i++)
			json_array_append_new(arr, small(i));
		assert_int_equal(pthread_create(&t[k], NULL, consume, arr), 0);
	}
	for (int k = 0; k < 4; k++)
		assert_int_equal(pthread_join(t[k], NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_dumps_free),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_threads),
	};
	if (!xz_jcache_install()) {
		puts("SKIP: the cache is not installed in this build");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
