/*
 * test_sdk_header.c - what the SDK header promises by itself: the error
 * list (dense values, unique wire names, the kernel's strerror reading the
 * same messages), the closed set of reply codes, XZ_HAS_MEMBER on structs
 * shorter and longer than the headers', the version macros, the host
 * table's header, and a plugin built against SDK 1.1 loading and running
 * on this host. The C++ build of the header is t_sdk_header_cxx.sh.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ktest.h"

struct err_row {
	int         sym; /* the enum constant */
	int         value; /* the value written in the list */
	const char *name; /* "XZ_EINVAL" */
	const char *wire;
	const char *message;
};

#define ERR_ROW(sym, val, wire, msg) { sym, val, #sym, wire, msg },
static const struct err_row errs[] = { XZ_ERROR_LIST(ERR_ROW) };
#undef ERR_ROW
#define N_ERRS (sizeof(errs) / sizeof(errs[0]))

struct reply_row {
	const char *constant; /* what XZ_REPLY_X expands to */
	const char *name; /* "XZ_REPLY_X" */
	const char *wire;
	const char *meaning;
	int         http;
};

#define REPLY_ROW(sym, wire, meaning, http) { sym, #sym, wire, meaning, http },
static const struct reply_row replies[] = { XZ_REPLY_CODE_LIST(REPLY_ROW) };
#undef REPLY_ROW
#define N_REPLIES (sizeof(replies) / sizeof(replies[0]))

/* A wire word: [a-z][a-z_]*, not ending in '_'. */
static void
assert_snake(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || !islower((unsigned char) s[0]) || s[n - 1] == '_')
		fail_msg("'%s' is not a lowercase snake word", s);
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char) s[i]) && s[i] != '_')
			fail_msg("'%s' is not a lowercase snake word", s);
}

/* Values 0..N-1 in order (the enum is dense), each symbol has the value
 * written beside it, and XZ_ERR_COUNT is one past the last. */
static void
test_error_values_dense(void **state)
{
	(void) state;
	assert_int_equal(N_ERRS, XZ_ERR_COUNT);
	assert_int_equal(XZ_OK, 0);
	for (size_t i = 0; i < N_ERRS; i++) {
		if (errs[i].value != (int) i || errs[i].sym != errs[i].value)
			fail_msg("%s: value %d at position %zu (enum says %d)",
			    errs[i].name, errs[i].value, i, errs[i].sym);
		assert_int_equal(strncmp(errs[i].name, "XZ_", 3), 0);
	}
	/* The ABI: the values of SDK 1.0 have not moved. */
	assert_int_equal(XZ_EINVAL, 1);
	assert_int_equal(XZ_ETIMEDOUT, 5);
	assert_int_equal(XZ_ENORESPONDERS, 6);
	assert_int_equal(XZ_ECLOSED, 7);
	assert_int_equal(XZ_EIO, 12);
	assert_int_equal(XZ_EINTERNAL, 16);
}

/* Every error's wire name is a reply code: a caller across a link sees
 * one vocabulary, whichever side failed. */
static void
test_error_wire_names_are_reply_codes(void **state)
{
	(void) state;
	for (size_t i = 0; i < N_ERRS; i++) {
		int found = i == XZ_OK; /* "ok" is never sent as an error */
		assert_snake(errs[i].wire);
		assert_true(errs[i].message[0] != '\0');
		for (size_t j = 0; j < N_REPLIES; j++)
			if (strcmp(errs[i].wire, replies[j].wire) == 0)
				found = 1;
		if (!found)
			fail_msg("%s: wire name '%s' is not a reply code",
			    errs[i].name, errs[i].wire);
		for (size_t j = 0; j < i; j++)
			if (strcmp(errs[i].message, errs[j].message) == 0)
				fail_msg("%s and %s share the message '%s'",
				    errs[j].name, errs[i].name,
				    errs[i].message);
	}
	assert_string_equal(errs[XZ_ETOOBIG].wire, XZ_REPLY_TOO_LARGE);
	assert_string_equal(errs[XZ_ECLOSED].wire, XZ_REPLY_UNAVAILABLE);
	assert_string_equal(errs[XZ_EFULL].wire, XZ_REPLY_CAPACITY_EXCEEDED);
	assert_string_equal(errs[XZ_ENOMEM].wire, XZ_REPLY_INTERNAL);
}

/* An error whose wire name is also a reply code means the same thing: the
 * two lists share one vocabulary. */
static void
test_error_wire_names_agree_with_reply_codes(void **state)
{
	static const struct {
		int         err;
		const char *code;
	} same[] = {
		{ XZ_EINVAL, XZ_REPLY_BAD_REQUEST },
		{ XZ_ENOENT, XZ_REPLY_NOT_FOUND },
		{ XZ_EEXIST, XZ_REPLY_EXISTS },
		{ XZ_ETIMEDOUT, XZ_REPLY_TIMEOUT },
		{ XZ_ENORESPONDERS, XZ_REPLY_NO_RESPONDERS },
		{ XZ_ESTATE, XZ_REPLY_INVALID_STATE },
		{ XZ_EIO, XZ_REPLY_STORE_ERROR },
		{ XZ_EPERM, XZ_REPLY_FORBIDDEN },
		{ XZ_ELIMIT, XZ_REPLY_CAPACITY_EXCEEDED },
		{ XZ_EINTERNAL, XZ_REPLY_INTERNAL },
	};
	(void) state;
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		assert_string_equal(errs[same[i].err].wire, same[i].code);
}

/* host->strerror reads the list's messages; out of range: one text. */
static void
test_strerror_is_the_list(void **state)
{
	const xz_host *h = xz_kernel_host();
	(void) state;
	for (size_t i = 0; i < N_ERRS; i++)
		assert_string_equal(
		    h->strerror(errs[i].value), errs[i].message);
	assert_string_equal(h->strerror(XZ_ERR_COUNT), "unknown error");
	assert_string_equal(h->strerror(-1), "unknown error");
}

static void
test_reply_codes_closed_set(void **state)
{
	char want[64];
	(void) state;

	assert_int_equal(N_REPLIES, 15);
	for (size_t i = 0; i < N_REPLIES; i++) {
		const struct reply_row *r = &replies[i];

		assert_snake(r->wire);
		/* The constant is the wire string, and is named after it. */
		assert_string_equal(r->constant, r->wire);
		snprintf(want, sizeof(want), "XZ_REPLY_%s", r->wire);
		for (char *p = want; *p; p++)
			*p = (char) toupper((unsigned char) *p);
		assert_string_equal(r->name, want);
		assert_true(strlen(r->meaning) > 20);
		assert_in_range(r->http, 400, 599);
		for (size_t j = 0; j < i; j++)
			if (strcmp(r->wire, replies[j].wire) == 0)
				fail_msg(
				    "reply code '%s' listed twice", r->wire);
	}
}

/* The gateway mapping of the set, as the header documents it. */
static void
test_reply_codes_http(void **state)
{
	static const struct {
		const char *code;
		int         http;
	} want[] = {
		{ "bad_request", 400 },
		{ "not_found", 404 },
		{ "invalid_state", 409 },
		{ "forbidden", 403 },
		{ "exists", 409 },
		{ "capacity_exceeded", 429 },
		{ "store_error", 500 },
		{ "timeout", 504 },
		{ "no_responders", 503 },
		{ "unavailable", 503 },
		{ "too_large", 413 },
		{ "internal", 500 },
		{ "unauthenticated", 401 },
		{ "audit_unavailable", 503 },
		{ "durable_full", 503 },
	};
	(void) state;
	assert_int_equal(N_REPLIES, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < N_REPLIES; i++) {
		assert_string_equal(replies[i].wire, want[i].code);
		assert_int_equal(replies[i].http, want[i].http);
	}
}

/* XZ_HAS_MEMBER on a struct written by an older and by a newer SDK. */
static void
test_has_member(void **state)
{
	xz_host        h;
	xz_plugin_desc d;
	size_t         end_name = offsetof(xz_host, name) + sizeof(h.name);
	size_t end_ver  = offsetof(xz_host, version) + sizeof(h.version);
	size_t end_fini = offsetof(xz_plugin_desc, fini) + sizeof(d.fini);
	(void) state;

	memset(&h, 0, sizeof(h));
	memset(&d, 0, sizeof(d));
	/* A 1.1 host table ends with name. */
	h.struct_size = (uint32_t) end_name;
	assert_true(XZ_HAS_MEMBER(&h, xz_host, name));
	assert_false(XZ_HAS_MEMBER(&h, xz_host, version));
	/* One byte short of the member is still without it. */
	h.struct_size = (uint32_t) end_ver - 1;
	assert_false(XZ_HAS_MEMBER(&h, xz_host, version));
	h.struct_size = (uint32_t) end_ver;
	assert_true(XZ_HAS_MEMBER(&h, xz_host, version));
	/* A newer host's table is longer than ours. */
	h.struct_size = (uint32_t) sizeof(xz_host) + 64;
	assert_true(XZ_HAS_MEMBER(&h, xz_host, version));
	assert_true(XZ_HAS_MEMBER(&h, xz_host, strerror));
	/* A 1.0 descriptor has no batch_end; a 1.1 one has. */
	d.struct_size = (uint32_t) end_fini;
	assert_true(XZ_HAS_MEMBER(&d, xz_plugin_desc, fini));
	assert_false(XZ_HAS_MEMBER(&d, xz_plugin_desc, batch_end));
	d.struct_size = (uint32_t) sizeof(xz_plugin_desc);
	assert_true(XZ_HAS_MEMBER(&d, xz_plugin_desc, batch_end));
	/* A 1.3 descriptor ends with batch_end: no check_options (1.4). */
	d.struct_size = (uint32_t) (offsetof(xz_plugin_desc, batch_end)
	    + sizeof(d.batch_end));
	assert_false(XZ_HAS_MEMBER(&d, xz_plugin_desc, check_options));
	d.struct_size = (uint32_t) sizeof(xz_plugin_desc);
	assert_true(XZ_HAS_MEMBER(&d, xz_plugin_desc, check_options));
	/* Works through a const pointer (as host tables are handed out). */
	const xz_host *ch = &h;
	h.struct_size     = 0;
	assert_false(XZ_HAS_MEMBER(ch, xz_host, strerror));
}

static void
test_version_macros(void **state)
{
	char v[32];
	(void) state;
	snprintf(v, sizeof(v), "%d.%d.%d", XZ_VERSION_MAJOR, XZ_VERSION_MINOR,
	    XZ_VERSION_PATCH);
	assert_string_equal(v, XZ_VERSION_STRING);
	assert_int_equal(XZ_ABI_MAJOR, 1);
	assert_int_equal(XZ_ABI_MINOR, 4);
}

/* The kernel's host table: its header, and the 1.2 version member. */
static void
test_host_table(void **state)
{
	const xz_host *h = xz_kernel_host();
	(void) state;

	assert_int_equal(h->struct_size, sizeof(xz_host));
	assert_int_equal(h->abi_major, XZ_ABI_MAJOR);
	assert_int_equal(h->abi_minor, XZ_ABI_MINOR);
	assert_true(XZ_HAS_MEMBER(h, xz_host, version));
	assert_non_null(h->version);
	assert_string_equal(h->version(), XZ_VERSION_STRING);
}

/* The reply of a request sent from a test actor. */
typedef struct reply_box {
	atomic_long done;
	int         status;
	char        text[256];
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

static void
ask(xz_plugin *probe, const char *topic, reply_box *b)
{
	memset(b, 0, sizeof(*b));
	assert_int_equal(xz_kernel_host()->request(
	                     probe, topic, "{}", 2, 2000, on_reply, b),
	    XZ_OK);
	assert_int_equal(kt_wait_count(&b->done, 1, 5000), 1);
}

/* A plugin built against SDK 1.1 (older minor, shorter descriptor) loads,
 * starts, serves requests and gets its 1.1 callback on a 1.2 host. */
static void
test_abi_1_1_plugin_runs(void **state)
{
	kt_node   n = { 0 };
	reply_box b;
	char      want[64];
	(void) state;

	int errors = kt_open(&n, NULL,
	    "plugins = ( { name = \"t_abi_1_1\"; kind = \"so\"; } );\n");
	if (errors != 0)
		kt_print_diag(&n);
	assert_int_equal(errors, 0);
	xz_plugin *probe = kt_add_actor(&n, "probe");
	assert_non_null(probe);
	assert_int_equal(kt_start(&n), XZ_OK);
	ask(probe, "t_abi_1_1.info", &b);
	assert_int_equal(b.status, XZ_OK);
	snprintf(want, sizeof(want), "{\"host_abi\":\"%d.%d\",", XZ_ABI_MAJOR,
	    XZ_ABI_MINOR);
	assert_non_null(strstr(b.text, want));
	/* The first request ended a batch, so batch_end (1.1) runs; the
	 * reply may overtake it, hence a few tries. */
	for (int i = 0; i < 100; i++) {
		kt_sleep_ms(10);
		ask(probe, "t_abi_1_1.info", &b);
		assert_int_equal(b.status, XZ_OK);
		if (strstr(b.text, "\"batches\":0}") == NULL)
			break;
	}
	assert_null(strstr(b.text, "\"batches\":0}"));
	kt_destroy(&n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_values_dense),
		cmocka_unit_test(test_error_wire_names_are_reply_codes),
		cmocka_unit_test(test_error_wire_names_agree_with_reply_codes),
		cmocka_unit_test(test_strerror_is_the_list),
		cmocka_unit_test(test_reply_codes_closed_set),
		cmocka_unit_test(test_reply_codes_http),
		cmocka_unit_test(test_has_member),
		cmocka_unit_test(test_version_macros),
		cmocka_unit_test(test_host_table),
		cmocka_unit_test(test_abi_1_1_plugin_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
