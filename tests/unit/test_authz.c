/*
 * test_authz.c - permissions tables (bus/authz.h): a reload replaces the
 * config's roles, keeps the ones added since, and every cache forgets its
 * decisions at its next check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bus/authz.h"
#include "util/errors.h"

static xz_authz *
table(const char *pub)
{
	xz_authz   *a     = xz_authz_new();
	const char *p[]   = { pub };
	const char *sub[] = { "bar.>" };

	assert_non_null(a);
	assert_int_equal(
	    xz_authz_add(a, "r1", XZ_AUTHZ_PUBLISH, false, p, 1), XZ_OK);
	assert_int_equal(
	    xz_authz_add(a, "r1", XZ_AUTHZ_SUBSCRIBE, false, sub, 1), XZ_OK);
	return a;
}

static void
reload_replaces_and_invalidates(void **state)
{
	(void) state;
	const char   *roles[] = { "r1", "link", NULL };
	xz_principal *p       = xz_principal_new("u", "u", "", roles, "");
	xz_authz     *a       = table("foo.a");
	const char   *lp[]    = { "xz.node.in" };

	xz_authz_mark_config(a);
	/* a node link's own role, added after the config's */
	assert_int_equal(
	    xz_authz_add(a, "link", XZ_AUTHZ_PUBLISH, false, lp, 1), XZ_OK);
	xz_authz_cache c;
	xz_authz_cache_init(&c, a, p);
	assert_true(xz_authz_cached(&c, XZ_AUTHZ_PUBLISH, "foo.a"));
	assert_false(xz_authz_cached(&c, XZ_AUTHZ_PUBLISH, "foo.b"));
	assert_true(xz_authz_cached(&c, XZ_AUTHZ_PUBLISH, "foo.a")); /* hit */
	uint64_t g = xz_authz_gen(a);

	xz_authz_replace(a, table("foo.b")); /* consumed */
	assert_true(xz_authz_gen(a) == g + 1);
	assert_false(xz_authz_cached(&c, XZ_AUTHZ_PUBLISH, "foo.a"));
	assert_true(xz_authz_cached(&c, XZ_AUTHZ_PUBLISH, "foo.b"));
	assert_true(xz_authz_may_publish(a, p, "xz.node.in")); /* kept */
	assert_int_equal(xz_authz_roles(a), 2);
	assert_true(xz_authz_may_subscribe(a, p, "bar.x"));
	assert_false(xz_authz_may_subscribe(a, p, "baz.x"));

	/* a second reload drops the first one's roles again */
	xz_authz_replace(a, table("foo.c"));
	assert_false(xz_authz_cached(&c, XZ_AUTHZ_PUBLISH, "foo.b"));
	assert_true(xz_authz_cached(&c, XZ_AUTHZ_PUBLISH, "foo.c"));
	assert_int_equal(xz_authz_roles(a), 2);
	xz_authz_cache_fini(&c);
	xz_authz_free(a);
	xz_principal_unref(p);
}

static void
role_may(void **state)
{
	(void) state;
	xz_authz *a = table("foo.*");

	assert_true(xz_authz_role_may(a, "r1", XZ_AUTHZ_PUBLISH, "foo.x"));
	assert_false(xz_authz_role_may(a, "r1", XZ_AUTHZ_PUBLISH, "foo.x.y"));
	assert_true(xz_authz_role_may(a, "r1", XZ_AUTHZ_SUBSCRIBE, "bar.*"));
	assert_false(xz_authz_role_may(a, "r1", XZ_AUTHZ_SUBSCRIBE, "bar"));
	/* a plugin without grants: everything */
	assert_true(xz_authz_role_may(a, "none", XZ_AUTHZ_PUBLISH, "any.x"));
	xz_authz_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reload_replaces_and_invalidates),
		cmocka_unit_test(role_may),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
