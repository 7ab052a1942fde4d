/*
 * test_config.c - the deployment file: every error kind with its exact
 * FILE:LINE text, defaults, relative paths, plugin lookup, options.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "util/log.h"

#define CFG(name) XZ_TEST_DATA "/config/" name
#define X10 "xxxxxxxxxx"
#define X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10

/* realpath of a fixture path, in a static buffer per call site. */
static char *
real(const char *p, char *buf)
{
	char *r = realpath(p, buf);

	assert_non_null(r);
	return r;
}

/* Load a file that must fail and compare every diagnostic exactly. */
static void
expect_errors(
    const char *path, const char *builtin, size_t n, const char *const *want)
{
	xz_config c;
	xz_diag   d;

	memset(&c, 0xa5, sizeof(c)); /* load must not rely on a zeroed c */
	xz_diag_init(&d);
	assert_int_equal(xz_config_load(&c, path, builtin, &d), -1);
	for (size_t i = 0; i < d.count && i < n; i++)
		assert_string_equal(d.lines[i], want[i]);
	assert_int_equal(d.count, n);
	/* freed already, and freeing again is harmless */
	assert_null(c.path);
	assert_null(c.plugins);
	xz_config_free(&c);
	xz_diag_free(&d);
}

#define EXPECT(path, ...)                                                     \
	do {                                                                  \
		const char *const want_[] = { __VA_ARGS__ };                  \
		expect_errors(                                                \
		    path, NULL, sizeof(want_) / sizeof(want_[0]), want_);     \
	} while (0)

static void
load_ok(xz_config *c, const char *path, const char *builtin)
{
	xz_diag d;

	xz_diag_init(&d);
	if (xz_config_load(c, path, builtin, &d) != 0) {
		xz_diag_print(&d, stderr);
		fail_msg("%s did not load", path);
	}
	assert_int_equal(d.count, 0);
	xz_diag_free(&d);
}

static const xz_plugin_cfg *
find_plugin(const xz_config *c, const char *name)
{
	for (size_t i = 0; i < c->nplugins; i++)
		if (strcmp(c->plugins[i].name, name) == 0)
			return &c->plugins[i];
	fail_msg("no plugin %s", name);
	return NULL;
}

/* ---- temp trees for plugin lookup ------------------------------------ */

static char tmp_root[256]; /* short: paths built on it fit PATH_MAX */

static void
mkdirs(const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", tmp_root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void
put_file(const char *rel, const char *text)
{
	char  p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmp_root, rel);
	assert_non_null(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
}

static int
tmp_setup(void **state)
{
	char tmpl[] = "/tmp/xz-test-config-XXXXXX";
	char r[PATH_MAX];

	(void) state;
	if (mkdtemp(tmpl) == NULL || realpath(tmpl, r) == NULL
	    || strlen(r) >= sizeof(tmp_root))
		return -1;
	strcpy(tmp_root, r);
	return 0;
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void) st;
	(void) flag;
	(void) ftw;
	return remove(p);
}

static int
tmp_teardown(void **state)
{
	(void) state;
	return nftw(tmp_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- a good config ---------------------------------------------------- */

static void
test_good_config_resolves_everything(void **state)
{
	xz_config c;
	char dir[PATH_MAX], want[PATH_MAX * 2], r[PATH_MAX], tls[PATH_MAX];
	const xz_plugin_cfg *p;

	(void) state;
	mkdirs("builtin");
	put_file("builtin/prison.so", "not really a shared object\n");
	snprintf(want, sizeof(want), "%s/builtin", tmp_root);
	load_ok(&c, CFG("good/main.cfg"), want);
	real(CFG("good"), dir);

	assert_string_equal(c.path, CFG("good/main.cfg"));
	assert_string_equal(c.dir, dir);
	assert_string_equal(c.node_name, "node-1");
	assert_string_equal(c.control_url, "tcp://127.0.0.1:7001");
	snprintf(want, sizeof(want), "%s/data", dir);
	assert_string_equal(c.data_dir, want);
	assert_int_equal(c.log_level, XZ_LOG_DEBUG);
	assert_int_equal(c.workers, 4);
	assert_int_equal(c.nplugin_path, 2);
	snprintf(want, sizeof(want), "%s/plugins", dir);
	assert_string_equal(c.plugin_path[0], want);
	assert_string_equal(c.plugin_path[1], "/opt/xz/plugins");

	assert_int_equal(c.control.insecure, 1);
	assert_int_equal(c.nlisten, 2);
	assert_string_equal(c.listen[0].url, "ipc:///tmp/xz-test-bus.sock");
	assert_null(c.listen[0].tls_ca);
	assert_string_equal(c.listen[1].url, "tls+tcp://[::1]:7002");
	real(XZ_TEST_DATA "/tls", tls);
	snprintf(want, sizeof(want), "%s/ca.pem", tls);
	assert_string_equal(c.listen[1].tls_ca, want);
	snprintf(want, sizeof(want), "%s/node.pem", tls);
	assert_string_equal(c.listen[1].tls_cert, want);
	snprintf(want, sizeof(want), "%s/node.key", tls);
	assert_string_equal(c.listen[1].tls_key, want);
	assert_int_equal(c.listen[1].insecure, 0);
	assert_int_equal(c.test_clock, 0);
	assert_int_equal(c.nwarnings, 1);
	assert_string_equal(c.warnings[0].file, CFG("good/main.cfg"));
	assert_int_equal(c.warnings[0].line, 4);
	assert_int_equal(c.mailbox_capacity, 128);
	assert_int_equal(c.max_payload, 65536);
	assert_int_equal(c.publish_timeout_ms, 0);
	assert_int_equal(c.request_timeout_ms, 2500);
	assert_int_equal(c.nbest_effort, 2);
	assert_string_equal(c.best_effort[0], "telemetry.>");
	assert_string_equal(c.best_effort[1], "*.alarm.*");

	assert_int_equal(c.lua.memory_limit_kb, 8192);
	assert_true(c.lua.instruction_limit == 5000000000ull);
	assert_int_equal(c.lua.time_limit_ms, 100);
	assert_int_equal(c.lua.max_failures, 3);

	/* plugins (from the include) then scripts */
	assert_int_equal(c.nplugins, 3);
	p = &c.plugins[0];
	assert_string_equal(p->name, "prison");
	assert_int_equal(p->kind, XZ_PLUGIN_SO);
	assert_null(p->path);
	snprintf(want, sizeof(want), "%s/builtin/prison.so", tmp_root);
	assert_string_equal(p->resolved, real(want, r));
	assert_true(p->enabled);
	assert_non_null(p->options);
	assert_string_equal(p->file, CFG("good/inc/plugins.cfg"));
	assert_int_equal(p->line, 3);

	p = &c.plugins[1];
	assert_string_equal(p->name, "legal");
	assert_int_equal(p->kind, XZ_PLUGIN_LUA);
	assert_string_equal(p->path, "../lua/legal.lua");
	snprintf(want, sizeof(want), "%s/lua/legal.lua", dir);
	assert_string_equal(p->resolved, want);
	assert_null(p->options);
	assert_int_equal(p->line, 5);

	p = &c.plugins[2];
	assert_string_equal(p->name, "sla_report");
	assert_int_equal(p->kind, XZ_PLUGIN_SCRIPT);
	assert_false(p->enabled);
	snprintf(want, sizeof(want), "%s/scripts/report.lua", dir);
	assert_string_equal(p->resolved, want);
	assert_string_equal(p->file, CFG("good/main.cfg"));
	assert_int_equal(p->line, 26);

	/* options are copied out with the file and line they were read at */
	p = &c.plugins[0];
	assert_int_equal(p->noptions, 1);
	assert_string_equal(p->options[0].name, "alarm_ack_sla_s");
	assert_int_equal(p->options[0].type, XZ_CFG_INT);
	assert_true(p->options[0].v.i == 15);
	assert_string_equal(p->options[0].file, CFG("good/inc/plugins.cfg"));
	assert_int_equal(p->options[0].line, 4);
	assert_int_equal(c.plugins[1].noptions, 0);

	xz_config_free(&c);
	assert_null(c.path);
	xz_config_free(&c); /* twice is harmless */
}

static void
test_defaults(void **state)
{
	xz_config c;
	char      dir[PATH_MAX], want[PATH_MAX * 2];

	(void) state;
	load_ok(&c, CFG("defaults.cfg"), NULL);
	real(XZ_TEST_DATA "/config", dir);
	assert_string_equal(c.node_name, "mini");
	assert_string_equal(c.control_url, "ipc:///tmp/xiezhi-mini.sock");
	snprintf(want, sizeof(want), "%s/var/mini", dir);
	assert_string_equal(c.data_dir, want);
	assert_int_equal(c.log_level, XZ_LOG_INFO);
	assert_null(c.log_file);
	assert_int_equal(c.log_format, XZ_LOG_TEXT);
	assert_int_equal(c.workers, 2);
	assert_int_equal(c.nplugin_path, 0);
	assert_int_equal(c.nlisten, 0);
	assert_int_equal(c.mailbox_capacity, 4096);
	assert_int_equal(c.max_payload, 1048576);
	assert_int_equal(c.publish_timeout_ms, 5000);
	assert_int_equal(c.request_timeout_ms, 5000);
	assert_int_equal(c.nbest_effort, 0);
	assert_int_equal(c.lua.memory_limit_kb, 16384);
	assert_true(c.lua.instruction_limit == 10000000u);
	assert_int_equal(c.lua.time_limit_ms, 500);
	assert_int_equal(c.lua.max_failures, 5);
	assert_int_equal(c.nplugins, 0);
	xz_config_free(&c);
}

static void
test_relative_paths_follow_declaring_file(void **state)
{
	xz_config c;
	char      dir[PATH_MAX], want[PATH_MAX * 2];

	(void) state;
	load_ok(&c, CFG("rel/main.cfg"), NULL);
	real(CFG("rel"), dir);
	/* declared in rel/sub/node.cfg */
	snprintf(want, sizeof(want), "%s/sub/data", dir);
	assert_string_equal(c.data_dir, want);
	snprintf(want, sizeof(want), "%s/pp", dir);
	assert_string_equal(c.plugin_path[0], want);
	assert_string_equal(c.plugin_path[1], "/abs/pp");
	snprintf(want, sizeof(want), "%s/sub/scripts/tick.lua", dir);
	assert_string_equal(find_plugin(&c, "legal")->resolved, want);
	assert_string_equal(
	    find_plugin(&c, "legal")->file, CFG("rel/sub/node.cfg"));
	/* declared in rel/main.cfg */
	assert_string_equal(find_plugin(&c, "tick")->resolved, want);
	assert_string_equal(
	    find_plugin(&c, "tick")->file, CFG("rel/main.cfg"));
	xz_config_free(&c);
}

/* ---- one test per error kind ------------------------------------------ */

static void
test_missing_file(void **state)
{
	(void) state;
	EXPECT(CFG("nope.cfg"),
	    "cannot read " CFG("nope.cfg") ": No such file or directory");
	EXPECT(CFG("nodir/x.cfg"),
	    "cannot read " CFG("nodir/x.cfg") ": No such file or directory");
	EXPECT(CFG("good"), "cannot read " CFG("good") ": Is a directory");
}

static void
test_syntax_error(void **state)
{
	(void) state;
	EXPECT(CFG("syntax.cfg"), CFG("syntax.cfg") ":4: syntax error");
}

static void
test_unknown_settings(void **state)
{
	(void) state;
	EXPECT(CFG("unknown.cfg"),
	    CFG("unknown.cfg") ":4: unknown setting 'colour' in node",
	    CFG("unknown.cfg") ":5: unknown setting 'worker' in node "
	                       "(did you mean 'workers'?)",
	    CFG("unknown.cfg") ":7: unknown setting 'x' in bus",
	    CFG("unknown.cfg") ":9: unknown setting 'y' in lua",
	    CFG("unknown.cfg") ":13: unknown setting 'colour' in plugin "
	                       "'legal'",
	    CFG("unknown.cfg") ":15: unknown setting 'kind' in script 'rep'",
	    CFG("unknown.cfg") ":16: unknown section 'nodes' (expected node, "
	                       "bus, lua, plugins, scripts, auth or links) "
	                       "(did you mean "
	                       "'node'?)");
}

static void
test_wrong_types(void **state)
{
	(void) state;
	EXPECT(CFG("types.cfg"),
	    CFG("types.cfg") ":4: node.workers must be an integer, got string",
	    CFG("types.cfg") ":5: node.plugin_path must be an array of "
	                     "strings, got string",
	    CFG("types.cfg") ":6: node.log_level must be a string, got "
	                     "integer",
	    CFG("types.cfg") ":9: bus.mailbox_capacity must be an integer, "
	                     "got float",
	    CFG("types.cfg") ":10: bus.listen[0] must be a URL string or a "
	                     "group, got integer",
	    CFG("types.cfg") ":10: bus.listen[1] must be a URL string or a "
	                     "group, got integer",
	    CFG("types.cfg") ":11: bus.best_effort[1] must be a string, got "
	                     "integer",
	    CFG("types.cfg") ":13: lua.time_limit_ms must be an integer, got "
	                     "boolean",
	    CFG("types.cfg") ":15: plugin 'legal': enabled must be a "
	                     "boolean, got string",
	    CFG("types.cfg") ":15: plugin 'legal': options must be a group, "
	                     "got list",
	    CFG("types.cfg") ":16: plugins[1] must be a group, got string",
	    CFG("types.cfg") ":17: scripts must be a list, got group");
}

static void
test_out_of_range(void **state)
{
	(void) state;
	EXPECT(CFG("ranges.cfg"),
	    CFG("ranges.cfg") ":4: node.workers must be between 1 and 64, "
	                      "got 65",
	    CFG("ranges.cfg") ":5: node.log_level must be one of error, "
	                      "warn, info, debug, got 'verbose'",
	    CFG("ranges.cfg") ":8: bus.mailbox_capacity must be between 1 "
	                      "and 16777216, got 0",
	    CFG("ranges.cfg") ":9: bus.max_payload must be between 1024 and "
	                      "1073741824, got 100",
	    CFG("ranges.cfg") ":10: bus.request_timeout_ms must be between 1 "
	                      "and 3600000, got 0",
	    CFG("ranges.cfg") ":11: bus.publish_timeout_ms must be between 0 "
	                      "and 3600000, got -1",
	    CFG("ranges.cfg") ":14: lua.memory_limit_kb must be between 64 "
	                      "and 4194304, got 5000000",
	    CFG("ranges.cfg") ":15: lua.instruction_limit must be between "
	                      "1000 and 1000000000000, got 10",
	    CFG("ranges.cfg") ":16: lua.time_limit_ms must be between 1 and "
	                      "3600000, got 3600001",
	    CFG("ranges.cfg") ":17: lua.max_failures must be between 1 and "
	                      "1000000, got 0");
}

/* libconfig 1.5 keeps the low 32 bits of a number written without L: the
 * loader reads each literal again and names the setting. */
static void
test_int_past_32_bits(void **state)
{
	(void) state;
	EXPECT(CFG("bigint.cfg"),
	    CFG("bigint.cfg") ":5: bus.durable_max_bytes = 10000000000 does "
	                      "not "
	                      "fit in a 32-bit integer, which is how a "
	                      "number without the suffix L is read: write "
	                      "10000000000L",
	    CFG("bigint.cfg") ":6: bus.max_payload = 0x1FFFFFFFF does not fit "
	                      "in "
	                      "a 32-bit integer, which is how a number "
	                      "without the suffix L is read: write "
	                      "0x1FFFFFFFFL",
	    CFG("bigint.cfg") ":11: plugins[0].options.limit = 5000000000 "
	                      "does not fit in a "
	                      "32-bit integer, which is how a number without "
	                      "the suffix L is read: write 5000000000L");
}

static void
test_missing_required(void **state)
{
	(void) state;
	EXPECT(CFG("required.cfg"),
	    CFG("required.cfg") ":2: node.name is required",
	    CFG("required.cfg") ":6: plugins[0]: name is required",
	    CFG("required.cfg") ":7: plugin 'prison': kind is required "
	                        "(\"so\" or \"lua\")",
	    CFG("required.cfg") ":8: plugin 'rehab': kind must be \"so\" or "
	                        "\"lua\", got \"dll\"",
	    CFG("required.cfg") ":9: plugin 'legal': path is required for a "
	                        "lua plugin",
	    CFG("required.cfg") ":12: script 'report': path is required");
	EXPECT(CFG("nonode.cfg"),
	    CFG("nonode.cfg") ": missing required section 'node'");
}

static void
test_bad_names(void **state)
{
	(void) state;
	EXPECT(CFG("names.cfg"),
	    CFG("names.cfg") ":2: node.name 'Node 1' is invalid (must match "
	                     "[a-z0-9_-]{1,63})",
	    CFG("names.cfg") ":4: plugin name 'Prison' is invalid (must "
	                     "match [a-z][a-z0-9_-]{0,62})",
	    CFG("names.cfg") ":5: plugin name '1abc' is invalid (must match "
	                     "[a-z][a-z0-9_-]{0,62})",
	    CFG("names.cfg") ":6: plugin name 'a.b' is invalid (must match "
	                     "[a-z][a-z0-9_-]{0,62})",
	    CFG("names.cfg") ":7: plugin name "
	                     "'a23456789012345678901234567890123456789012345"
	                     "6789012345678901234' is invalid (must match "
	                     "[a-z][a-z0-9_-]{0,62})",
	    CFG("names.cfg") ":8: plugins[4]: name must not be empty");
}

static void
test_duplicate_names(void **state)
{
	(void) state;
	EXPECT(CFG("dup.cfg"),
	    CFG("dup.cfg") ":6: duplicate name 'legal' (first declared "
	                   "at " CFG("dup.cfg") ":4)",
	    CFG("dup.cfg") ":9: duplicate name 'prison' (first declared "
	                   "at " CFG("dup.cfg") ":5)");
}

static void
test_bad_urls_and_patterns(void **state)
{
	(void) state;
	EXPECT(CFG("urls.cfg"),
	    CFG("urls.cfg") ":4: node.control: invalid URL "
	                    "'http://localhost:8080' (must start with ipc://, "
	                    "tcp://, tls+tcp:// or inproc://)",
	    CFG("urls.cfg") ":7: bus.listen[0]: invalid URL "
	                    "'tcp://127.0.0.1' (tcp:// needs HOST:PORT)",
	    CFG("urls.cfg") ":7: bus.listen[1]: invalid URL 'ipc://' "
	                    "(nothing after ipc://)",
	    CFG("urls.cfg") ":7: bus.listen[3]: invalid URL "
	                    "'tls+tcp://host:99999' (tls+tcp:// needs "
	                    "HOST:PORT)",
	    CFG("urls.cfg") ":8: bus.listen[4]: invalid URL 'ipc:///tmp/" X100
	                    ".sock' (ipc path longer than 107 bytes)",
	    CFG("urls.cfg") ":9: bus.best_effort[1]: invalid topic pattern "
	                    "'a..b'",
	    CFG("urls.cfg") ":9: bus.best_effort[2]: invalid topic pattern "
	                    "'a.>.b'",
	    CFG("urls.cfg") ":9: bus.best_effort[3]: invalid topic pattern "
	                    "'a*'",
	    CFG("urls.cfg") ":9: bus.best_effort[4]: invalid topic pattern "
	                    "'b.'");
}

/* ---- doors ---------------------------------------------------------- */

/* The refusal of a door anyone may use without a credential. */
#define INSECURE(what, url)                                                   \
	what ": '" url "' is an insecure door (no encryption, no "            \
	     "authentication: whoever reaches it may call every topic, the "  \
	     "Lua console included); use ipc:// or tls+tcp:// with tls = { "  \
	     "ca; cert; key; }, or write { url = \"" url "\"; insecure = "    \
	     "true; } to accept the risk"

static void
test_insecure_doors_refused(void **state)
{
	char tls[PATH_MAX], nope[PATH_MAX + 32];

	(void) state;
	real(XZ_TEST_DATA "/tls", tls);
	snprintf(nope, sizeof(nope),
	    CFG("doors.cfg") ":12: bus.listen[3]: tls.ca: cannot read "
	                     "%s/nope.pem",
	    tls);
	EXPECT(CFG("doors.cfg"),
	    CFG("doors.cfg") ":4: " INSECURE(
	        "node.control", "tcp://127.0.0.1:7001"),
	    CFG("doors.cfg") ":8: " INSECURE(
	        "bus.listen[0]", "tcp://0.0.0.0:7000"),
	    CFG("doors.cfg") ":9: bus.listen[1]: 'tls+tcp://0.0.0.0:7443' "
	                     "needs tls.cert and tls.key (the node's "
	                     "certificate and key, PEM), and tls.ca to "
	                     "require client certificates",
	    CFG("doors.cfg") ":10: bus.listen[2]: 'tls+tcp://0.0.0.0:7444' "
	                     "requires no client certificate (no tls.ca): "
	                     "whoever reaches it may call every topic; add "
	                     "tls.ca, or insecure = true to accept the risk",
	    nope,
	    CFG("doors.cfg") ":12: bus.listen[3]: tls applies only to "
	                     "tls+tcp:// URLs, not 'ipc:///tmp/xz-doors.sock'",
	    CFG("doors.cfg") ":13: bus.listen[4]: insecure must be a "
	                     "boolean, got string",
	    CFG("doors.cfg") ":13: " INSECURE(
	        "bus.listen[4]", "tcp://127.0.0.1:7002"),
	    CFG("doors.cfg") ":14: unknown setting 'uri' in bus.listen[5] "
	                     "(did you mean 'url'?)",
	    CFG("doors.cfg") ":14: bus.listen[5]: url is required",
	    CFG("doors.cfg") ":15: bus.listen[6] must be a URL string or a "
	                     "group, got integer");
	EXPECT(CFG("doors_control.cfg"),
	    CFG("doors_control.cfg") ":4: node.control: "
	                             "'tls+tcp://127.0.0.1:7001': the CLI "
	                             "cannot dial tls+tcp:// (it has no "
	                             "certificate); use ipc://");
}

/* Secure doors pass silently; insecure ones that say so pass with a
 * warning each, as does the test clock. */
static void
test_doors_accepted_with_warnings(void **state)
{
	xz_config c;
	char      tls[PATH_MAX], want[PATH_MAX + 32];

	(void) state;
	load_ok(&c, CFG("doors_ok.cfg"), NULL);
	real(XZ_TEST_DATA "/tls", tls);
	assert_string_equal(c.control_url, "tcp://127.0.0.1:7001");
	assert_int_equal(c.test_clock, 1);
	assert_int_equal(c.nlisten, 4);
	assert_string_equal(c.listen[0].url, "ipc:///tmp/xz-doors-ok.sock");
	assert_int_equal(c.listen[1].insecure, 1);
	snprintf(want, sizeof(want), "%s/ca.pem", tls);
	assert_string_equal(c.listen[2].tls_ca, want);
	assert_null(c.listen[3].tls_ca);
	snprintf(want, sizeof(want), "%s/node.key", tls);
	assert_string_equal(c.listen[3].tls_key, want);

	assert_int_equal(c.nwarnings, 4);
	for (size_t i = 0; i < c.nwarnings; i++)
		assert_string_equal(c.warnings[i].file, CFG("doors_ok.cfg"));
	assert_int_equal(c.warnings[0].line, 4);
	assert_string_equal(c.warnings[0].text,
	    "node.control: 'tcp://127.0.0.1:7001' is an insecure door "
	    "(insecure = true): no encryption, no authentication");
	assert_int_equal(c.warnings[1].line, 5);
	assert_string_equal(c.warnings[1].text,
	    "node.test_clock = true: any client may move this node's clock "
	    "(xz.sys.clock.advance) and with it every SLA and statutory "
	    "deadline; for tests only");
	assert_int_equal(c.warnings[2].line, 10);
	assert_string_equal(c.warnings[2].text,
	    "bus.listen[1]: 'tcp://127.0.0.1:7000' is an insecure door "
	    "(insecure = true): no encryption, no authentication");
	assert_int_equal(c.warnings[3].line, 13);
	assert_string_equal(c.warnings[3].text,
	    "bus.listen[3]: 'tls+tcp://127.0.0.1:7444' is an insecure door "
	    "(insecure = true): no client certificate required");
	xz_config_free(&c);
}

static void
test_errors_inside_include(void **state)
{
	char dir[PATH_MAX], want[PATH_MAX * 2], want2[PATH_MAX * 2];

	(void) state;
	real(XZ_TEST_DATA "/config", dir);
	/* a validation error in the included file names that file */
	snprintf(want, sizeof(want),
	    "%s:4: plugin 'legal': cannot find missing.lua (tried "
	    "%s/inc/missing.lua)",
	    CFG("inc/bad_plugins.cfg"), dir);
	EXPECT(CFG("inc_main.cfg"),
	    CFG("inc_main.cfg") ":4: unknown setting 'colour' in bus", want);
	/* and so does a syntax error */
	EXPECT(
	    CFG("inc_syntax.cfg"), CFG("inc/syntax.cfg") ":3: syntax error");
	/* a missing include names the include and where it was looked for */
	snprintf(want2, sizeof(want2),
	    "%s:2: cannot open include file 'inc/nope.cfg' (tried "
	    "%s/inc/nope.cfg)",
	    CFG("inc_missing.cfg"), dir);
	EXPECT(CFG("inc_missing.cfg"), want2);
}

/* ---- plugin files ------------------------------------------------------ */

static void
test_so_lookup(void **state)
{
	xz_config            c;
	const xz_plugin_cfg *p;
	char                 cfg[PATH_MAX], want[PATH_MAX];

	(void) state;
	mkdirs("deploy");
	mkdirs("deploy/lib");
	mkdirs("pp1");
	mkdirs("pp2");
	mkdirs("builtin");
	put_file("pp2/alpha.so", "x");
	put_file("builtin/alpha.so", "x");
	put_file("builtin/beta.so", "x");
	put_file("deploy/lib/gamma.so", "x");
	put_file("pp2/gamma.so", "x");
	put_file("pp1/delta.so", "x");
	mkdirs("pp1/omega.so"); /* a directory is not a plugin */
	put_file("builtin/omega.so", "x");
	put_file("deploy/abs.so", "x");
	put_file("deploy/x.cfg",
	    "node = { name = \"n\"; plugin_path = [ \"../pp1\", "
	    "\"../pp2\" ]; };\n"
	    "plugins = (\n"
	    "  { name = \"alpha\"; kind = \"so\"; },\n"
	    "  { name = \"beta\"; kind = \"so\"; },\n"
	    "  { name = \"gamma\"; kind = \"so\"; path = \"lib/gamma.so\"; "
	    "},\n"
	    "  { name = \"delta\"; kind = \"so\"; path = \"lib/delta.so\"; "
	    "},\n"
	    "  { name = \"omega\"; kind = \"so\"; },\n"
	    "  { name = \"epsilon\"; kind = \"so\"; enabled = false; }\n"
	    ");\n");
	/* an absolute path, written from the test's temp root */
	snprintf(cfg, sizeof(cfg), "%s/deploy/y.cfg", tmp_root);
	{
		char text[PATH_MAX * 2];
		snprintf(text, sizeof(text),
		    "node = { name = \"n\"; };\n"
		    "plugins = ( { name = \"abs\"; kind = \"so\"; path = "
		    "\"%s/deploy/abs.so\"; } );\n",
		    tmp_root);
		put_file("deploy/y.cfg", text);
	}

	snprintf(cfg, sizeof(cfg), "%s/deploy/x.cfg", tmp_root);
	snprintf(want, sizeof(want), "%s/builtin", tmp_root);
	load_ok(&c, cfg, want);
	assert_int_equal(c.nplugins, 6);
	/* plugin_path in order, before the built-in directory */
	p = find_plugin(&c, "alpha");
	snprintf(want, sizeof(want), "%s/pp2/alpha.so", tmp_root);
	assert_string_equal(p->resolved, want);
	p = find_plugin(&c, "beta");
	snprintf(want, sizeof(want), "%s/builtin/beta.so", tmp_root);
	assert_string_equal(p->resolved, want);
	/* a relative path: next to the declaring file first */
	p = find_plugin(&c, "gamma");
	snprintf(want, sizeof(want), "%s/deploy/lib/gamma.so", tmp_root);
	assert_string_equal(p->resolved, want);
	/* then its file name in the plugin directories */
	p = find_plugin(&c, "delta");
	snprintf(want, sizeof(want), "%s/pp1/delta.so", tmp_root);
	assert_string_equal(p->resolved, want);
	p = find_plugin(&c, "omega");
	snprintf(want, sizeof(want), "%s/builtin/omega.so", tmp_root);
	assert_string_equal(p->resolved, want);
	/* a disabled plugin that is nowhere is not an error */
	p = find_plugin(&c, "epsilon");
	assert_null(p->resolved);
	assert_false(p->enabled);
	xz_config_free(&c);

	snprintf(cfg, sizeof(cfg), "%s/deploy/y.cfg", tmp_root);
	load_ok(&c, cfg, NULL);
	snprintf(want, sizeof(want), "%s/deploy/abs.so", tmp_root);
	assert_string_equal(c.plugins[0].resolved, want);
	xz_config_free(&c);
}

static void
test_so_not_found(void **state)
{
	char              cfg[PATH_MAX], builtin[PATH_MAX], w[3][PATH_MAX * 6];
	const char *const want[] = { w[0], w[1], w[2] };
	const char       *t      = tmp_root;

	(void) state;
	mkdirs("deploy");
	mkdirs("builtin");
	put_file("deploy/bad.cfg",
	    "node = { name = \"n\"; plugin_path = [ \"../pp1\", "
	    "\"../pp2\" ]; };\n"
	    "plugins = (\n"
	    "  { name = \"zeta\"; kind = \"so\"; },\n"
	    "  { name = \"eta\"; kind = \"so\";\n"
	    "    path = \"/nonexistent/eta.so\"; },\n"
	    "  { name = \"theta\"; kind = \"so\"; path = \"lib/theta.so\"; }\n"
	    ");\n");
	snprintf(cfg, sizeof(cfg), "%s/deploy/bad.cfg", t);
	snprintf(builtin, sizeof(builtin), "%s/builtin", t);
	snprintf(w[0], sizeof(w[0]),
	    "%s:3: plugin 'zeta': cannot find zeta.so (tried %s/pp1/zeta.so, "
	    "%s/pp2/zeta.so, %s/builtin/zeta.so)",
	    cfg, t, t, t);
	snprintf(w[1], sizeof(w[1]),
	    "%s:5: plugin 'eta': cannot find /nonexistent/eta.so (tried "
	    "/nonexistent/eta.so)",
	    cfg);
	snprintf(w[2], sizeof(w[2]),
	    "%s:6: plugin 'theta': cannot find lib/theta.so (tried "
	    "%s/deploy/lib/theta.so, %s/pp1/theta.so, %s/pp2/theta.so, "
	    "%s/builtin/theta.so)",
	    cfg, t, t, t, t);
	expect_errors(cfg, builtin, 3, want);

	/* with nowhere to look, the message says so */
	put_file("deploy/none.cfg",
	    "node = { name = \"n\"; };\n"
	    "plugins = ( { name = \"zeta\"; kind = \"so\"; } );\n");
	snprintf(cfg, sizeof(cfg), "%s/deploy/none.cfg", t);
	snprintf(w[0], sizeof(w[0]),
	    "%s:2: plugin 'zeta': cannot find zeta.so (tried nothing: no "
	    "node.plugin_path and no built-in plugin directory)",
	    cfg);
	expect_errors(cfg, NULL, 1, want);
}

/* ---- options ----------------------------------------------------------- */

static const xz_option_decl prison_opts[] = {
	{ "alarm_ack_sla_s", XZ_OPT_INT, "15", 0, "ack SLA", 1, 3600 },
	{ "sla_level", XZ_OPT_INT, "1", 0, "level", 1, 3 },
	{ "level", XZ_OPT_INT, NULL, 0, "no default", 1, 3 },
	{ "ratio", XZ_OPT_FLOAT, "0.5", 0, "float", 0, 0 },
	{ "verbose", XZ_OPT_BOOL, "false", 0, "bool", 0, 0 },
	{ "region", XZ_OPT_STRING, "south", 0, "string", 0, 0 },
	{ "big", XZ_OPT_INT, "0", 0, "no range", 0, 0 },
	{ "timeout_s", XZ_OPT_FLOAT, "1.5", 0, "default float", 0, 0 },
	{ "strict", XZ_OPT_BOOL, "TRUE", 0, "default bool", 0, 0 },
	{ "neg", XZ_OPT_INT, "-0x10", 0, "hex default", 0, 0 },
	{ "note", XZ_OPT_STRING, NULL, 0, "unset", 0, 0 },
	{ NULL, 0, NULL, 0, NULL, 0, 0 },
};

static void
test_options_given_and_defaults(void **state)
{
	xz_config        c;
	xz_diag          d;
	xz_optvals       o;
	const xz_optval *v;

	(void) state;
	load_ok(&c, CFG("options.cfg"), NULL);
	xz_diag_init(&d);
	assert_int_equal(
	    xz_options_resolve(find_plugin(&c, "prison"), prison_opts, &o, &d),
	    0);
	assert_int_equal(d.count, 0);
	assert_int_equal(o.count, 11);
	v = xz_optvals_find(&o, "alarm_ack_sla_s");
	assert_true(v->set);
	assert_int_equal(v->v.i, 20);
	assert_ptr_equal(v->decl, &prison_opts[0]);
	v = xz_optvals_find(&o, "sla_level");
	assert_true(v->set);
	assert_int_equal(v->v.i, 1);
	assert_false(xz_optvals_find(&o, "level")->set);
	v = xz_optvals_find(&o, "ratio"); /* an integer is a fine float */
	assert_true(v->set);
	assert_true(v->v.f == 2.0);
	assert_true(xz_optvals_find(&o, "verbose")->v.b);
	assert_string_equal(xz_optvals_find(&o, "region")->v.s, "north");
	assert_true(xz_optvals_find(&o, "big")->v.i == 5000000000LL);
	assert_true(xz_optvals_find(&o, "timeout_s")->v.f == 1.5);
	assert_true(xz_optvals_find(&o, "strict")->v.b);
	assert_int_equal(xz_optvals_find(&o, "neg")->v.i, -16);
	assert_false(xz_optvals_find(&o, "note")->set);
	assert_null(xz_optvals_find(&o, "nothing"));
	xz_optvals_free(&o);
	assert_null(o.vals);

	/* no options group: every default */
	assert_int_equal(
	    xz_options_resolve(find_plugin(&c, "empty"), prison_opts, &o, &d),
	    0);
	assert_int_equal(xz_optvals_find(&o, "alarm_ack_sla_s")->v.i, 15);
	assert_true(xz_optvals_find(&o, "ratio")->v.f == 0.5);
	assert_false(xz_optvals_find(&o, "verbose")->v.b);
	assert_string_equal(xz_optvals_find(&o, "region")->v.s, "south");
	xz_optvals_free(&o);
	xz_diag_free(&d);
	xz_config_free(&c);
}

static void
test_options_errors(void **state)
{
	xz_config  c;
	xz_diag    d;
	xz_optvals o = { (xz_optval *) &o, 99 };

	(void) state;
	load_ok(&c, CFG("options.cfg"), NULL);
	xz_diag_init(&d);
	assert_int_equal(
	    xz_options_resolve(find_plugin(&c, "bad"), prison_opts, &o, &d),
	    7);
	assert_null(o.vals);
	assert_int_equal(o.count, 0);
	assert_int_equal(d.count, 7);
	assert_string_equal(d.lines[0],
	    CFG("options.cfg") ":14: plugin 'bad': unknown option 'sla_levl' "
	                       "(did you mean 'sla_level'?)");
	assert_string_equal(d.lines[1],
	    CFG("options.cfg") ":15: plugin 'bad': option 'alarm_ack_sla_s' "
	                       "must be an integer, got string");
	assert_string_equal(d.lines[2],
	    CFG("options.cfg") ":16: plugin 'bad': option 'level' must be "
	                       "between 1 and 3, got 7");
	assert_string_equal(d.lines[3],
	    CFG("options.cfg") ":17: plugin 'bad': option 'ratio' must be a "
	                       "number, got string");
	assert_string_equal(d.lines[4],
	    CFG("options.cfg") ":18: plugin 'bad': option 'verbose' must be "
	                       "a boolean, got integer");
	assert_string_equal(d.lines[5],
	    CFG("options.cfg") ":19: plugin 'bad': option 'region' must be a "
	                       "string, got integer");
	assert_string_equal(d.lines[6],
	    CFG("options.cfg") ":20: plugin 'bad': unknown option 'zzz'");
	xz_diag_free(&d);

	/* a script is named as one; undeclared options are all unknown */
	xz_diag_init(&d);
	assert_int_equal(
	    xz_options_resolve(find_plugin(&c, "report"), NULL, &o, &d), 1);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.lines[0],
	    CFG("options.cfg") ":25: script 'report': unknown option "
	                       "'evry_s'");
	xz_diag_free(&d);
	xz_config_free(&c);
}

/* Every kind of value reaches the option list as plain data, with its
 * line; an aggregate keeps its type for the error that names it. */
static void
test_options_neutral_list(void **state)
{
	static const xz_option_decl decls[] = {
		{ "i", XZ_OPT_INT, NULL, 0, "", 0, 0 },
		{ "g", XZ_OPT_INT, NULL, 0, "", 0, 0 },
		{ "a", XZ_OPT_STRING, NULL, 0, "", 0, 0 },
		{ "l", XZ_OPT_BOOL, NULL, 0, "", 0, 0 },
		{ NULL, 0, NULL, 0, NULL, 0, 0 },
	};
	static const struct {
		const char *name;
		int         type, line;
	} want[] = { { "i", XZ_CFG_INT, 3 }, { "f", XZ_CFG_FLOAT, 4 },
		{ "b", XZ_CFG_BOOL, 5 }, { "s", XZ_CFG_STRING, 6 },
		{ "g", XZ_CFG_GROUP, 7 }, { "a", XZ_CFG_ARRAY, 8 },
		{ "l", XZ_CFG_LIST, 9 } };
	const xz_plugin_cfg *p;
	xz_config            c;
	xz_diag              d;
	xz_optvals           o;
	char                 cfg[PATH_MAX], line[PATH_MAX + 128];

	(void) state;
	put_file("opts.cfg",
	    "node = { name = \"n\"; };\n"
	    "scripts = ( { name = \"s\"; path = \"x.lua\"; enabled = false;\n"
	    "  options = { i = -5000000000L;\n"
	    "    f = 2.5;\n"
	    "    b = true;\n"
	    "    s = \"text\";\n"
	    "    g = { x = 1; };\n"
	    "    a = [ 1, 2 ];\n"
	    "    l = ( 1, \"y\" ); }; } );\n");
	snprintf(cfg, sizeof(cfg), "%s/opts.cfg", tmp_root);
	load_ok(&c, cfg, NULL);
	p = &c.plugins[0];
	assert_int_equal(p->noptions, 7);
	for (size_t k = 0; k < 7; k++) {
		assert_string_equal(p->options[k].name, want[k].name);
		assert_int_equal(p->options[k].type, want[k].type);
		assert_int_equal(p->options[k].line, want[k].line);
		assert_string_equal(p->options[k].file, cfg);
	}
	assert_true(p->options[0].v.i == -5000000000LL);
	assert_true(p->options[1].v.f == 2.5);
	assert_true(p->options[2].v.b);
	assert_string_equal(p->options[3].v.s, "text");

	xz_diag_init(&d);
	assert_int_equal(xz_options_resolve(p, decls, &o, &d), 6);
	assert_int_equal(d.count, 6);
	snprintf(
	    line, sizeof(line), "%s:4: script 's': unknown option 'f'", cfg);
	assert_string_equal(d.lines[0], line);
	snprintf(line, sizeof(line),
	    "%s:7: script 's': option 'g' must be an integer, got group", cfg);
	assert_string_equal(d.lines[3], line);
	snprintf(line, sizeof(line),
	    "%s:8: script 's': option 'a' must be a string, got array", cfg);
	assert_string_equal(d.lines[4], line);
	snprintf(line, sizeof(line),
	    "%s:9: script 's': option 'l' must be a boolean, got list", cfg);
	assert_string_equal(d.lines[5], line);
	xz_diag_free(&d);
	xz_config_free(&c);
}

static void
test_options_required_and_broken_defaults(void **state)
{
	static const xz_option_decl decls[] = {
		{ "db", XZ_OPT_STRING, NULL, 1, "required", 0, 0 },
		{ "n", XZ_OPT_INT, "ten", 0, "broken", 0, 0 },
		{ "lvl", XZ_OPT_INT, "9", 0, "default out of range", 1, 3 },
		{ "on", XZ_OPT_BOOL, "yes", 0, "broken", 0, 0 },
		{ "f", XZ_OPT_FLOAT, "1.2.3", 0, "broken", 0, 0 },
		{ "odd", 42, NULL, 0, "unknown type", 0, 0 },
		{ NULL, 0, NULL, 0, NULL, 0, 0 },
	};
	xz_config  c;
	xz_diag    d;
	xz_optvals o;

	(void) state;
	load_ok(&c, CFG("options.cfg"), NULL);
	xz_diag_init(&d);
	assert_int_equal(
	    xz_options_resolve(find_plugin(&c, "empty"), decls, &o, &d), 6);
	assert_int_equal(d.count, 6);
	assert_string_equal(d.lines[0],
	    CFG("options.cfg") ":22: plugin 'empty': option 'odd' has an "
	                       "unknown type 42 (a bug in the plugin)");
	assert_string_equal(d.lines[1],
	    CFG("options.cfg") ":22: plugin 'empty': missing required option "
	                       "'db' (string)");
	assert_string_equal(d.lines[2],
	    CFG("options.cfg") ":22: plugin 'empty': option 'n' has an "
	                       "invalid default 'ten' for type integer (a bug "
	                       "in the plugin)");
	assert_string_equal(d.lines[3],
	    CFG("options.cfg") ":22: plugin 'empty': option 'lvl' has an "
	                       "invalid default '9' for type integer (a bug "
	                       "in "
	                       "the plugin)");
	assert_string_equal(d.lines[4],
	    CFG("options.cfg") ":22: plugin 'empty': option 'on' has an "
	                       "invalid default 'yes' for type boolean (a bug "
	                       "in the plugin)");
	assert_string_equal(d.lines[5],
	    CFG("options.cfg") ":22: plugin 'empty': option 'f' has an "
	                       "invalid default '1.2.3' for type number (a "
	                       "bug "
	                       "in the plugin)");
	assert_null(o.vals);
	xz_diag_free(&d);

	/* a required option that is given resolves */
	{
		static const xz_option_decl req[] = {
			{ "alarm_ack_sla_s", XZ_OPT_INT, NULL, 1, "", 1, 60 },
			{ "ratio", XZ_OPT_FLOAT, NULL, 0, "", 0, 0 },
			{ "verbose", XZ_OPT_BOOL, NULL, 0, "", 0, 0 },
			{ "region", XZ_OPT_STRING, NULL, 0, "", 0, 0 },
			{ "big", XZ_OPT_INT, NULL, 0, "", 0, 0 },
			{ NULL, 0, NULL, 0, NULL, 0, 0 },
		};
		xz_diag_init(&d);
		assert_int_equal(
		    xz_options_resolve(find_plugin(&c, "prison"), req, &o, &d),
		    0);
		assert_int_equal(
		    xz_optvals_find(&o, "alarm_ack_sla_s")->v.i, 20);
		xz_optvals_free(&o);
		xz_diag_free(&d);
	}
	xz_config_free(&c);
}

static void
test_log_level_parse(void **state)
{
	(void) state;
	assert_int_equal(xz_log_level_parse("error"), XZ_LOG_ERROR);
	assert_int_equal(xz_log_level_parse("warn"), XZ_LOG_WARN);
	assert_int_equal(xz_log_level_parse("info"), XZ_LOG_INFO);
	assert_int_equal(xz_log_level_parse("debug"), XZ_LOG_DEBUG);
	assert_int_equal(xz_log_level_parse("verbose"), -1);
	assert_int_equal(xz_log_level_parse("INFO"), -1);
	assert_int_equal(xz_log_level_parse(NULL), -1);
}

/* node.log_file and node.log_format: a relative file follows the
 * declaring file; what `run` could not open is an error of `check`, and
 * check creates nothing. */
static void
test_log_settings(void **state)
{
	xz_config   c;
	char        path[PATH_MAX], want[PATH_MAX * 2];
	struct stat st;

	(void) state;
	mkdirs("logs");
	put_file("good.cfg",
	    "node = {\n"
	    "  name = \"n1\";\n"
	    "  log_file = \"logs/node.log\";\n"
	    "  log_format = \"json\";\n"
	    "};\n");
	snprintf(path, sizeof(path), "%s/good.cfg", tmp_root);
	load_ok(&c, path, NULL);
	snprintf(want, sizeof(want), "%s/logs/node.log", tmp_root);
	assert_string_equal(c.log_file, want);
	assert_int_equal(c.log_format, XZ_LOG_JSON);
	assert_int_equal(stat(want, &st), -1); /* not created by a load */
	xz_config_free(&c);

	put_file("bad.cfg",
	    "node = {\n"
	    "  name = \"n1\";\n"
	    "  log_format = \"xml\";\n"
	    "  log_file = \"missing/node.log\";\n"
	    "};\n");
	snprintf(path, sizeof(path), "%s/bad.cfg", tmp_root);
	char e1[PATH_MAX * 2], e2[PATH_MAX * 3];
	snprintf(e1, sizeof(e1),
	    "%s:3: node.log_format must be one of text, json, got 'xml'",
	    path);
	snprintf(e2, sizeof(e2),
	    "%s:4: node.log_file: the folder '%s/missing' does not exist",
	    path, tmp_root);
	const char *const want2[] = { e1, e2 };
	expect_errors(path, NULL, 2, want2);

	put_file(
	    "dir.cfg", "node = { name = \"n1\"; log_file = \"logs\"; };\n");
	snprintf(path, sizeof(path), "%s/dir.cfg", tmp_root);
	snprintf(e1, sizeof(e1), "%s:1: node.log_file: '%s/logs' is a folder",
	    path, tmp_root);
	const char *const want3[] = { e1 };
	expect_errors(path, NULL, 1, want3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_good_config_resolves_everything, tmp_setup,
		    tmp_teardown),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_insecure_doors_refused),
		cmocka_unit_test(test_doors_accepted_with_warnings),
		cmocka_unit_test(test_relative_paths_follow_declaring_file),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_unknown_settings),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_int_past_32_bits),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_duplicate_names),
		cmocka_unit_test(test_bad_urls_and_patterns),
		cmocka_unit_test(test_errors_inside_include),
		cmocka_unit_test_setup_teardown(
		    test_so_lookup, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(
		    test_so_not_found, tmp_setup, tmp_teardown),
		cmocka_unit_test(test_options_given_and_defaults),
		cmocka_unit_test(test_options_errors),
		cmocka_unit_test(test_options_required_and_broken_defaults),
		cmocka_unit_test_setup_teardown(
		    test_options_neutral_list, tmp_setup, tmp_teardown),
		cmocka_unit_test(test_log_level_parse),
		cmocka_unit_test_setup_teardown(
		    test_log_settings, tmp_setup, tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
