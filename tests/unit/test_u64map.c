/* u64map: the hash map behind timers, pending requests and subscriptions.
 * Checked against a plain array model through random put/get/del. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "util/u64map.h"

#define KEYS 5000

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
test_model(void **state)
{
	(void) state;
	xz_u64map m;
	void    **model = calloc(KEYS + 1, sizeof(*model));
	uint64_t  seed  = 0x9e3779b97f4a7c15ULL;
	size_t    live  = 0;

	xz_u64map_init(&m);
	for (int i = 0; i < 200000; i++) {
		uint64_t key = rnd(&seed) % KEYS + 1;
		void    *val = (void *) (uintptr_t) (rnd(&seed) | 1);
		switch (rnd(&seed) % 3) {
		case 0:
			assert_int_equal(xz_u64map_put(&m, key, val), 0);
			live += model[key] == NULL;
			model[key] = val;
			break;
		case 1:
			assert_ptr_equal(xz_u64map_get(&m, key), model[key]);
			break;
		default:
			assert_ptr_equal(xz_u64map_del(&m, key), model[key]);
			live -= model[key] != NULL;
			model[key] = NULL;
		}
		assert_int_equal(m.count, live);
	}
	/* Tombstones do not make the table grow without bound. */
	assert_true(m.cap <= 4 * 8192);
	xz_u64map_fini(&m);
	free(model);
}

static void
test_empty(void **state)
{
	(void) state;
	xz_u64map m;
	xz_u64map_init(&m);
	assert_null(xz_u64map_get(&m, 42));
	assert_null(xz_u64map_del(&m, 42));
	xz_u64map_fini(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
