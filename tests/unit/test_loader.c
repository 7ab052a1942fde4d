/*
 * test_loader.c - every refusal of the plugin loader, each with a
 * purpose-built broken plugin (tests/plugins/) and its exact message, from
 * real config files through xz_config_load + xz_kernel_new + xz_kernel_load;
 * a failing init after which no callback runs; declared options.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ktest.h"

/* realpath of the plugin folder (the loader reports resolved paths). */
static const char *
plugin_dir(void)
{
	static char buf[PATH_MAX];
	if (buf[0] == '\0')
		assert_non_null(realpath(XZ_TEST_PLUGIN_DIR, buf));
	return buf;
}

/* Load a config whose line 2 is `plugins`; expect exactly one diagnostic,
 * equal to "<cfg>:2: " followed by the formatted text. */
static void
expect_refusal(const char *plugins, const char *fmt, ...)
{
	kt_node n = { 0 };
	char    want[2048], msg[1800];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int errors = kt_open(&n, NULL, plugins);
	snprintf(want, sizeof(want), "%s:2: %s", n.path, msg);
	if (errors != 1)
		kt_print_diag(&n);
	assert_int_equal(errors, 1);
	assert_string_equal(n.d.lines[0], want);
	kt_destroy(&n);
}

#define ONE(name) "plugins = ( { name = \"" name "\"; kind = \"so\"; } );\n"

static void
test_no_entry_symbol(void **state)
{
	(void) state;
	expect_refusal(ONE("bad_noentry"),
	    "plugin 'bad_noentry': %s/bad_noentry.so exports no "
	    "xz_plugin_entry symbol (is it built with XZ_EXPORT?)",
	    plugin_dir());
}

static void
test_abi_major_mismatch(void **state)
{
	(void) state;
	expect_refusal(ONE("bad_abi_major"),
	    "plugin 'bad_abi_major': built for SDK ABI %d.0, this host has "
	    "ABI %d.%d (major versions differ): rebuild it",
	    XZ_ABI_MAJOR + 1, XZ_ABI_MAJOR, XZ_ABI_MINOR);
}

static void
test_abi_minor_newer(void **state)
{
	(void) state;
	expect_refusal(ONE("bad_abi_minor"),
	    "plugin 'bad_abi_minor': built for SDK ABI %d.%d, newer than this "
	    "host's ABI %d.%d: upgrade xiezhi",
	    XZ_ABI_MAJOR, XZ_ABI_MINOR + 1, XZ_ABI_MAJOR, XZ_ABI_MINOR);
}

static void
test_descriptor_too_small(void **state)
{
	(void) state;
	expect_refusal(ONE("bad_size"),
	    "plugin 'bad_size': descriptor is %zu bytes, expected at least "
	    "%zu",
	    offsetof(xz_plugin_desc, options),
	    /* the ABI 1.0 descriptor: up to and including fini */
	    offsetof(xz_plugin_desc, fini) + sizeof(void (*)(void *)));
}

static void
test_missing_init(void **state)
{
	(void) state;
	expect_refusal(ONE("bad_noinit"),
	    "plugin 'bad_noinit': missing mandatory callback init");
}

static void
test_missing_fini(void **state)
{
	(void) state;
	expect_refusal(ONE("bad_nofini"),
	    "plugin 'bad_nofini': missing mandatory callback fini");
}

static void
test_unresolved_symbol(void **state)
{
	(void) state;
	expect_refusal(ONE("bad_undef"),
	    "plugin 'bad_undef': cannot load: %s/bad_undef.so: undefined "
	    "symbol: xz_test_no_such_function",
	    plugin_dir());
}

static void
test_not_a_shared_object(void **state)
{
	kt_node n = { 0 };
	char    rest[512], junk[300], want[1024];
	(void) state;

	/* Make the folder, then a "plugin" that is plain text. */
	kt_open(&n, NULL, "");
	kt_close(&n);
	snprintf(junk, sizeof(junk), "%s/junk.so", n.dir);
	kt_write_file(junk,
	    "this is not an ELF file, just some text that "
	    "is long enough to hold an ELF header\n");
	snprintf(rest, sizeof(rest),
	    "plugins = ( { name = \"junk\"; kind = \"so\"; path = "
	    "\"junk.so\"; } );\n");
	assert_int_equal(kt_open(&n, NULL, rest), 1);
	snprintf(want, sizeof(want),
	    "%s:2: plugin 'junk': cannot load: %s: invalid ELF header", n.path,
	    junk);
	assert_string_equal(n.d.lines[0], want);
	kt_destroy(&n);
}

static void
test_missing_file(void **state)
{
	(void) state;
	expect_refusal("plugins = ( { name = \"gone\"; kind = \"so\"; path = "
	               "\"/nonexistent/xz/gone.so\"; } );\n",
	    "plugin 'gone': cannot find /nonexistent/xz/gone.so (tried "
	    "/nonexistent/xz/gone.so)");
	/* Found by name in the plugin path: every place tried is named. */
	kt_node n = { 0 };
	assert_int_equal(kt_open(&n, NULL, ONE("nosuch")), 1);
	char want[8192];
	snprintf(want, sizeof(want),
	    "%s:2: plugin 'nosuch': cannot find nosuch.so (tried %s/nosuch.so",
	    n.path, plugin_dir());
	assert_memory_equal(n.d.lines[0], want, strlen(want));
	kt_destroy(&n);
}

static void
test_requires_missing(void **state)
{
	(void) state;
	expect_refusal(ONE("req_missing"),
	    "plugin 'req_missing' requires 'no_such_plugin', which is not in "
	    "this deployment (or is disabled)");
	/* A disabled requirement is a missing one. */
	expect_refusal(
	    "plugins = ( { name = \"req_cycle_a\"; kind = \"so\"; },\n"
	    "  { name = \"req_cycle_b\"; kind = \"so\"; enabled = "
	    "false; } );\n",
	    "plugin 'req_cycle_a' requires 'req_cycle_b', which is not in "
	    "this deployment (or is disabled)");
}

static void
test_requires_cycle(void **state)
{
	kt_node n = { 0 };
	char    want[1024];
	(void) state;

	assert_int_equal(
	    kt_open(&n, NULL,
	        "plugins = ( { name = \"req_cycle_a\"; kind = \"so\"; },\n"
	        "  { name = \"req_cycle_b\"; kind = \"so\"; } );\n"),
	    2);
	snprintf(want, sizeof(want),
	    "%s:2: plugin 'req_cycle_a' is part of a requires cycle", n.path);
	assert_string_equal(n.d.lines[0], want);
	snprintf(want, sizeof(want),
	    "%s:3: plugin 'req_cycle_b' is part of a requires cycle", n.path);
	assert_string_equal(n.d.lines[1], want);
	/* run refuses too: start does not start anything */
	assert_int_not_equal(kt_start(&n), XZ_OK);
	kt_destroy(&n);
}

/* Several broken plugins in one file: every one is reported, in order. */
static void
test_every_refusal_reported(void **state)
{
	kt_node n = { 0 };
	(void) state;

	assert_int_equal(
	    kt_open(&n, NULL,
	        "plugins = ( { name = \"bad_noinit\"; kind = \"so\"; },\n"
	        "  { name = \"t_slow\"; kind = \"so\"; },\n"
	        "  { name = \"bad_abi_major\"; kind = \"so\"; },\n"
	        "  { name = \"bad_nofini\"; kind = \"so\"; } );\n"),
	    3);
	assert_non_null(strstr(n.d.lines[0], ":2: plugin 'bad_noinit'"));
	assert_non_null(strstr(n.d.lines[1], ":4: plugin 'bad_abi_major'"));
	assert_non_null(strstr(n.d.lines[2], ":5: plugin 'bad_nofini'"));
	kt_destroy(&n);
}

/* A probe's reply callback stores the reply. */
typedef struct reply_box {
	atomic_long done;
	int         status;
	char        text[1024];
} reply_box;

static void
on_reply(void *ud, int status, const xz_msg *reply)
{
	reply_box *b = ud;
	b->status    = status;
	snprintf(b->text, sizeof(b->text), "%.*s", (int) reply->len,
	    (const char *) reply->data);
	atomic_fetch_add(&b->done, 1);
}

/* Send a request from the probe and wait for its completion. */
static void
ask(xz_plugin *probe, const char *topic, reply_box *b)
{
	memset(b, 0, sizeof(*b));
	assert_int_equal(xz_kernel_host()->request(
	                     probe, topic, "{}", 2, 2000, on_reply, b),
	    XZ_OK);
	assert_int_equal(kt_wait_count(&b->done, 1, 5000), 1);
}

/* The marker file of bad_initfail lists the callbacks that ran. */
static void
expect_no_marker(const char *marker)
{
	char *ran = kt_read_file(marker);
	if (ran != NULL) {
		fprintf(stderr, "callbacks that ran after a failed init:\n%s",
		    ran);
		free(ran);
		fail_msg("bad_initfail: a callback ran after its init failed");
	}
}

static void
test_init_failure_runs_no_callback(void **state)
{
	kt_node    n = { 0 };
	kt_capture cap;
	char       rest[1024], marker[300], logpath[300];
	reply_box  b;
	(void) state;

	kt_open(&n, NULL, "");
	kt_close(&n);
	snprintf(marker, sizeof(marker), "%s/marker", n.dir);
	snprintf(logpath, sizeof(logpath), "%s/log", n.dir);
	snprintf(rest, sizeof(rest),
	    "plugins = ( { name = \"bad_initfail\"; kind = \"so\"; options = "
	    "{ marker = \"%s\"; }; },\n"
	    "  { name = \"t_slow\"; kind = \"so\"; options = { pattern = "
	    "\"initfail.*\"; }; } );\n",
	    marker);
	assert_int_equal(kt_open(&n, NULL, rest), 0);
	xz_plugin *probe = kt_add_actor(&n, "probe");
	assert_non_null(probe);
	kt_capture_begin(&cap, logpath);
	int rc = kt_start(&n);
	/* The node runs without it; its subscription and timer are gone. */
	assert_int_equal(
	    xz_kernel_publish(n.k, "test", "initfail.a", "{}", 2), XZ_OK);
	assert_int_equal(
	    xz_kernel_publish(n.k, "test", "initfail.b", "{}", 2), XZ_OK);
	kt_sleep_ms(50);
	char *log = kt_capture_end(&cap);
	assert_int_equal(rc, XZ_OK);
	assert_non_null(log);
	assert_non_null(strstr(log,
	    " ERROR bad_initfail: init failed: I/O error; the plugin is "
	    "disabled\n"));
	free(log);
	/* t_slow (same pattern) got the two events; bad_initfail nothing. */
	ask(probe, "t_slow.count", &b);
	assert_int_equal(b.status, XZ_OK);
	assert_non_null(strstr(b.text, "\"count\":2,"));
	/* A request only it could answer has no responder. */
	memset(&b, 0, sizeof(b));
	assert_int_equal(xz_kernel_host()->request(probe, "initfail.ping.now",
	                     "{}", 2, 500, on_reply, &b),
	    XZ_ENORESPONDERS);
	expect_no_marker(marker);
	/* Nor at shutdown: no stop, no fini. */
	kt_capture_begin(&cap, logpath);
	kt_close(&n);
	free(kt_capture_end(&cap));
	expect_no_marker(marker);
	kt_destroy(&n);
}

/* Options: the values a plugin reads, defaults, and each error kind. */
static void
test_options_values(void **state)
{
	kt_node   n = { 0 };
	reply_box b;
	(void) state;

	assert_int_equal(
	    kt_open(&n, NULL,
	        "plugins = ( { name = \"t_opts\"; kind = \"so\"; options = {\n"
	        "  count = 7; ratio = 2; verbose = true; label = \"x y\"; "
	        "site = \"prison-1\"; }; },\n"
	        "  { name = \"o2\"; kind = \"so\"; path = \"t_opts.so\"; "
	        "options = { site = \"rehab-2\"; }; } );\n"),
	    0);
	xz_plugin *probe = kt_add_actor(&n, "probe");
	assert_int_equal(kt_start(&n), XZ_OK);
	ask(probe, "t_opts.opts", &b);
	assert_string_equal(b.text,
	    "{\"count\":7,\"ratio\":2,\"verbose\":true,\"label\":\"x y\","
	    "\"site\":\"prison-1\",\"undeclared\":\"not found\","
	    "\"wrong_type\":\"wrong type\"}");
	/* Defaults, in a second instance of the same .so. */
	ask(probe, "o2.opts", &b);
	assert_string_equal(b.text,
	    "{\"count\":3,\"ratio\":0.5,\"verbose\":false,\"label\":\"none\","
	    "\"site\":\"rehab-2\",\"undeclared\":\"not found\","
	    "\"wrong_type\":\"wrong type\"}");
	kt_destroy(&n);
}

static void
expect_option_error(const char *opts, const char *msg)
{
	kt_node n = { 0 };
	char    rest[1024];

	snprintf(rest, sizeof(rest),
	    "plugins = ( { name = \"t_opts\"; kind = \"so\";\n"
	    "  options = {\n%s\n  }; } );\n",
	    opts);
	int errors = kt_open(&n, NULL, rest);
	if (errors != 1)
		kt_print_diag(&n);
	assert_int_equal(errors, 1);
	assert_non_null(strstr(n.d.lines[0], n.path));
	if (strstr(n.d.lines[0], msg) == NULL)
		fail_msg("'%s' does not contain '%s'", n.d.lines[0], msg);
	kt_destroy(&n);
}

static void
test_options_errors(void **state)
{
	(void) state;
	expect_option_error("site = \"a\"; colour = 3;", ":4: ");
	expect_option_error("site = \"a\"; colour = 3;", "colour");
	expect_option_error("site = \"a\"; count = \"three\";", ":4: ");
	expect_option_error("site = \"a\"; count = \"three\";", "count");
	expect_option_error("site = \"a\"; count = 11;", ":4: ");
	expect_option_error("site = \"a\"; count = 11;", "11");
	expect_option_error("site = \"a\"; verbose = 1;", "verbose");
	expect_option_error("label = \"b\";", "site");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_entry_symbol),
		cmocka_unit_test(test_abi_major_mismatch),
		cmocka_unit_test(test_abi_minor_newer),
		cmocka_unit_test(test_descriptor_too_small),
		cmocka_unit_test(test_missing_init),
		cmocka_unit_test(test_missing_fini),
		cmocka_unit_test(test_unresolved_symbol),
		cmocka_unit_test(test_not_a_shared_object),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_requires_missing),
		cmocka_unit_test(test_requires_cycle),
		cmocka_unit_test(test_every_refusal_reported),
		cmocka_unit_test(test_init_failure_runs_no_callback),
		cmocka_unit_test(test_options_values),
		cmocka_unit_test(test_options_errors),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	nng_fini(); /* leak checkers: free nng's global state */
	return failed;
}
