/*
 * main.c - the xiezhi command line.
 *
 * Exit codes: 0 ok, 1 error (including an error reply), 2 usage,
 * 3 timeout or no responders.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <jansson.h>
#include <nng/nng.h>
#include <systemd/sd-daemon.h>
#ifdef XZ_ALLOCATOR_NAME
#include <jemalloc/jemalloc.h>
#endif

#include "cli/audit_cli.h"
#include "bench/bench.h"
#include "cli/cli_common.h"
#include "cli/ident_cli.h"
#include "cli/jcache.h"
#include "config/config.h"
#include "kernel/isolate.h"
#include "kernel/kernel.h"
#include "lua/luahost.h"
#include "util/topic.h"
#include "util/msg.h"

/* A kernel with the Lua host plugged in: what `run` and `check` load. */
static int
node_new(xz_kernel **k, xz_config *cfg, xz_diag *d)
{
	int rc = xz_kernel_new(k, cfg, d);
	if (rc == XZ_OK)
		xz_kernel_set_ext(*k, xz_lua_kernel_ext());
	return rc;
}

/* Usage texts are named by their command, not looked up by their English
 * (which would lose the Chinese silently on any edit of it): each English
 * text has its Chinese right below; edit both (tests/integration/
 * t_lang_cli.sh asks every command's --help in both languages). */
static const xz_usage usage_main = {
	"usage: xiezhi COMMAND [options]\n"
	"\n"
	"commands:\n"
	"  run     [-c FILE]                      run a node "
	"(default " XZ_DEFAULT_CONFIG ")\n"
	"  check   [-c FILE]                      validate config, plugins "
	"and "
	"scripts as run would\n"
	"  pub     [-c FILE|-u URL] TOPIC [JSON|-] publish (- : one JSON "
	"payload per stdin line)\n"
	"  sub     [-c FILE|-u URL] PATTERN [-n COUNT] [-q GROUP] [-t MS]\n"
	"                                         print one JSON line per "
	"event\n"
	"  call    [-c FILE|-u URL] TOPIC [JSON] [-t MS]  send a request, "
	"print "
	"the reply\n"
	"  status  [-c FILE|-u URL]               plugins, queues, counters, "
	"drops (JSON)\n"
	"  reload  [-c FILE|-u URL] [NAME]        hot-reload a Lua "
	"plugin/script (all if no NAME)\n"
	"  console [-c FILE|-u URL] [-e CHUNK]    Lua console on a running "
	"node\n"
	"  audit   verify|query ...               check or search the "
	"hash-chained audit trail\n"
	"  login   [-c FILE|-u URL] --user NAME   log in; the token goes to "
	"a credentials file\n"
	"  logout  [-c FILE|-u URL]               end the session, remove the "
	"credentials file\n"
	"  whoami  [-c FILE|-u URL] [--json]      who the node takes you for\n"
	"  identity user|ca|cert ...              users, the node CA, "
	"certificates\n"
	"  bench   [--json] [-n COUNT]            built-in benchmark with raw "
	"nng baselines\n"
	"  version                                print the version\n"
	"\n"
	"`xiezhi COMMAND --help` describes one command.\n"
	"Commands that talk to a node present the session token of "
	"--creds FILE,\n"
	"$XZ_CREDS or ~/.config/xiezhi/creds when there is one (`xiezhi "
	"login`).\n"
	"A tls+tcp:// node (-u) takes --ca FILE, and --cert FILE --key FILE "
	"to act as\nthe certificate's principal.\n"
	"Messages are in 简体中文 when LC_ALL, LC_MESSAGES or LANG (the first "
	"set) starts\nwith zh, else in English.\n"
	"exit codes: 0 ok, 1 error, 2 usage, 3 timeout or no responders\n",

	"用法：xiezhi 命令 [选项]\n"
	"\n"
	"命令：\n"
	"  run     [-c FILE]                      "
	"运行节点（默认 " XZ_DEFAULT_CONFIG "）\n"
	"  check   [-c FILE]                      按 run "
	"的方式检查配置、插件和"
	"脚本\n"
	"  pub     [-c FILE|-u URL] TOPIC [JSON|-] 发布事件（- "
	"：标准输入每行一个 "
	"JSON）\n"
	"  sub     [-c FILE|-u URL] PATTERN [-n COUNT] [-q GROUP] [-t MS]\n"
	"                                         每个事件输出一行 JSON\n"
	"  call    [-c FILE|-u URL] TOPIC [JSON] [-t MS]  发送请求并输出应答\n"
	"  status  [-c FILE|-u URL]               插件、队列、计数器、丢弃数"
	"（JSON）\n"
	"  reload  [-c FILE|-u URL] [NAME]        热加载 Lua 插件/脚本（不给 "
	"NAME 则全部）\n"
	"  console [-c FILE|-u URL] [-e CHUNK]    运行中节点的 Lua 控制台\n"
	"  audit   verify|query ...               校验或检索哈希链审计记录\n"
	"  login   [-c FILE|-u URL] --user NAME   登录；令牌写入凭据文件\n"
	"  logout  [-c FILE|-u URL]               结束会话，删除凭据文件\n"
	"  whoami  [-c FILE|-u URL] [--json]      节点认定的当前身份\n"
	"  identity user|ca|cert ...              用户、节点 CA、证书\n"
	"  bench   [--json] [-n COUNT]            内置性能测试（含 nng "
	"原始基线）\n"
	"  version                                输出版本\n"
	"\n"
	"`xiezhi 命令 --help` 说明单个命令。\n"
	"与节点通信的命令在有会话令牌时出示它：--creds FILE、\n"
	"$XZ_CREDS 或 ~/.config/xiezhi/creds（`xiezhi login`）。\n"
	"tls+tcp:// 节点（-u）需要 --ca FILE，并可用 --cert FILE --key FILE\n"
	"以证书的主体身份行事。\n"
	"LC_ALL、LC_MESSAGES 或 LANG（第一个已设置者）以 zh "
	"开头时输出简体中文，"
	"\n否则输出英文。\n"
	"退出码：0 成功，1 错误，2 用法错误，3 超时或无响应者\n",
};

struct cmd_help {
	const char     *name;
	const xz_usage *text;
};
static const struct cmd_help helps[] = {
	{ "run",
	    &(const xz_usage) {
	        "usage: xiezhi run [-c FILE]\n"
	        "Run a node from a deployment file (default: an installed "
	        "binary's own,\nPREFIX/etc/xiezhi/xiezhi.cfg "
	        "or " XZ_SYSTEM_CONFIG ", else " XZ_DEFAULT_CONFIG
	        ").\nSIGTERM/SIGINT stop it "
	        "gracefully (drain, stop plugins in reverse order, exit 0);\n"
	        "SIGHUP reopens the log file and reloads every "
	        "Lua plugin and script.\n",
	        "用法：xiezhi run [-c FILE]\n"
	        "按部署文件运行节点（默认：安装后的程序用其自带的\n"
	        "PREFIX/etc/xiezhi/xiezhi.cfg 或 " XZ_SYSTEM_CONFIG
	        "，否则用 " XZ_DEFAULT_CONFIG "）。\nSIGTERM/SIGINT "
	        "使其平稳停止（排空消息，按相反顺序停止插件，退出码 0）；\n"
	        "SIGHUP 重新打开日志文件并重新加载所有 Lua 插件和脚本。\n" } },
	{ "check",
	    &(const xz_usage) {
	        "usage: xiezhi check [-c FILE]\n"
	        "Validate the deployment exactly as run does before "
	        "starting anything:\nconfig syntax and keys, plugins "
	        "(open, ABI, options, requires), scripts.\nPrints every "
	        "problem as FILE:LINE: message; exit 0 when all is "
	        "well.\n",
	        "用法：xiezhi check [-c FILE]\n"
	        "与 run 启动前完全相同地检查部署：\n配置语法和键、插件"
	        "（打开、ABI、选项、依赖）、脚本。\n每个问题输出为 "
	        "文件:行号: 说明；全部正常时退出码为 0。\n" } },
	{ "pub",
	    &(const xz_usage) {
	        "usage: xiezhi pub [-c FILE|-u URL] TOPIC [JSON|-]\n"
	        "Publish one event (payload JSON, default {}), or with - one "
	        "event per line\nof standard input. Exit 1 if the node "
	        "refused any of them.\n",
	        "用法：xiezhi pub [-c FILE|-u URL] TOPIC [JSON|-]\n"
	        "发布一个事件（载荷为 JSON，默认 {}），或用 - "
	        "从标准输入每行发布一个\n事件。节点拒绝其中任何一个时"
	        "退出码为 1。\n" } },
	{ "sub",
	    &(const xz_usage) {
	        "usage: xiezhi sub [-c FILE|-u URL] PATTERN [-n COUNT] [-q "
	        "GROUP] [-t MS]\n"
	        "Subscribe (wildcards * and >) and print one JSON line per "
	        "event:\n{\"topic\":..,\"source\":..,\"data\":..}. Stops "
	        "after "
	        "COUNT events, or after MS ms\nwithout one (exit 3).\n",
	        "用法：xiezhi sub [-c FILE|-u URL] PATTERN [-n COUNT] [-q "
	        "GROUP] [-t MS]\n"
	        "订阅（通配符 * 和 >），每个事件输出一行 JSON：\n"
	        "{\"topic\":..,\"source\":..,\"data\":..}。收到 COUNT "
	        "个事件后停止，或在 MS 毫秒内\n没有事件时停止（退出码 "
	        "3）。\n" } },
	{ "call",
	    &(const xz_usage) {
	        "usage: xiezhi call [-c FILE|-u URL] TOPIC [JSON] [-t MS]\n"
	        "Send a request (default deadline 5000 ms) and print the "
	        "reply.\nExit 0 on a reply, 1 on an error reply, 3 on "
	        "timeout or no responders.\n",
	        "用法：xiezhi call [-c FILE|-u URL] TOPIC [JSON] [-t MS]\n"
	        "发送请求（默认期限 5000 毫秒）并输出应答。\n收到应答"
	        "退出码为 0，错误应答为 1，超时或无响应者为 3。\n" } },
	{ "status",
	    &(const xz_usage) { "usage: xiezhi status [-c FILE|-u URL]\n"
	                        "Print the node's status as JSON.\n",
	        "用法：xiezhi status [-c FILE|-u URL]\n"
	        "以 JSON 输出节点状态。\n" } },
	{ "reload",
	    &(const xz_usage) {
	        "usage: xiezhi reload [-c FILE|-u URL] [NAME]\n"
	        "Hot-reload a Lua plugin or script (every one without "
	        "NAME). A broken\nversion leaves the old one running and "
	        "the reason is printed (exit 1).\n",
	        "用法：xiezhi reload [-c FILE|-u URL] [NAME]\n"
	        "热加载一个 Lua 插件或脚本（不给 NAME 则全部）。新版本"
	        "有错时\n原版本继续运行，并输出原因（退出码 1）。\n" } },
	{ "console",
	    &(const xz_usage) {
	        "usage: xiezhi console [-c FILE|-u URL] [-e CHUNK]\n"
	        "An interactive Lua prompt on a running node (sandboxed, "
	        "with the xz module);\n-e runs one chunk and prints its "
	        "results.\n",
	        "用法：xiezhi console [-c FILE|-u URL] [-e CHUNK]\n"
	        "运行中节点上的交互式 Lua 提示符（沙箱内，带 xz 模块）；\n"
	        "-e 运行一段代码并输出其结果。\n" } },
	{ "bench",
	    &(const xz_usage) {
	        "usage: xiezhi bench [--json] [-n COUNT]\n"
	        "Measure the platform and raw nng in the same run (64-byte "
	        "payloads).\n",
	        "用法：xiezhi bench [--json] [-n COUNT]\n"
	        "在同一次运行中测量平台和原始 nng（64 字节载荷）。\n" } },
	{ "version",
	    &(const xz_usage) {
	        "usage: xiezhi version\n", "用法：xiezhi version\n" } },
	{ "login", &xz_usage_login },
	{ "logout", &xz_usage_logout },
	{ "whoami", &xz_usage_whoami },
	{ "identity", &xz_usage_identity },
};

/* The malloc this binary runs on (XZ_ALLOCATOR in CMakeLists.txt), as
 * `version` says it: jemalloc's own version when linked with it. */
static const char *
allocator_name(void)
{
#ifdef XZ_ALLOCATOR_NAME
	static char name[80];
	const char *v  = NULL;
	size_t      vn = sizeof(v);
	if (mallctl("version", &v, &vn, NULL, 0) == 0 && v != NULL) {
		snprintf(name, sizeof(name), "%s %.*s", XZ_ALLOCATOR_NAME,
		    (int) strcspn(v, "-"), v);
		return name;
	}
	return XZ_ALLOCATOR_NAME;
#else
	return "system"; /* glibc's, or a sanitizer's in such a build */
#endif
}

#ifdef XZ_ALLOCATOR_NAME
/* jemalloc's settings for the node (MALLOC_CONF in the environment still
 * overrides them): two arenas, and thread caches for small sizes only, a
 * few slots each. The defaults (four arenas a CPU, caches up to 32 KiB)
 * hold about 2 MiB more at idle, over the 16 MiB an idle node may take
 * (tests/integration/t_memory.sh), for a few percent on the alarm flow,
 * within the noise; these keep it within 0.5 MiB of glibc's idle size.
 * Read by jemalloc at its first call. */
const char *malloc_conf
    = "narenas:2,tcache_max:1024,tcache_nslots_small_max:32";

/* jemalloc's trim (xz_kernel_set_trim): purge the unused dirty pages of
 * every arena now rather than after its decay time. */
static void
jemalloc_purge(void)
{
	char cmd[64];
	snprintf(
	    cmd, sizeof(cmd), "arena.%u.purge", (unsigned) MALLCTL_ARENAS_ALL);
	mallctl(cmd, NULL, NULL, NULL, 0);
}
#endif

static int
print_help(const char *cmd, FILE *out)
{
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		if (strcmp(helps[i].name, cmd) == 0) {
			fputs(xz_usage_text(helps[i].text), out);
			return 0;
		}
	fputs(xz_usage_text(&usage_main), out);
	return 0;
}

/* Common options of the commands. */
typedef struct opts {
	const char *config;
	const char *url;
	long        count;
	long        timeout_ms;
	const char *group;
	const char *chunk;
	bool        json;
	int         argc; /* positional */
	char      **argv;
} opts;

static int
parse_opts(const char *cmd, int argc, char **argv, opts *o)
{
	static const struct option lo[] = { { "help", no_argument, 0, 'h' },
		{ "json", no_argument, 0, 'J' },
		{ "creds", required_argument, 0, 'C' },
		{ "ca", required_argument, 0, 'A' },
		{ "cert", required_argument, 0, 'E' },
		{ "key", required_argument, 0, 'K' }, { 0, 0, 0, 0 } };
	int                        ch;

	memset(o, 0, sizeof(*o));
	o->count      = -1;
	o->timeout_ms = -1;
	optind        = 1;
	while (
	    (ch = getopt_long(argc, argv, "c:u:n:t:q:e:h", lo, NULL)) != -1) {
		char *end;
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'u':
			o->url = optarg;
			break;
		case 'n':
		case 't':
			errno  = 0;
			long v = strtol(optarg, &end, 10);
			if (errno || *end || v < 0) {
				fprintf(stderr,
				    xz_text(
				        "xiezhi %s: -%c needs a non-negative "
				        "integer, got '%s'\n"),
				    cmd, ch, optarg);
				return XZ_EXIT_USAGE;
			}
			if (ch == 'n')
				o->count = v;
			else
				o->timeout_ms = v;
			break;
		case 'q':
			o->group = optarg;
			break;
		case 'e':
			o->chunk = optarg;
			break;
		case 'J':
			o->json = true;
			break;
		case 'C':
			xz_cli_set_creds(optarg);
			break;
		case 'A':
			xz_cli_set_tls(optarg, NULL, NULL);
			break;
		case 'E':
			xz_cli_set_tls(NULL, optarg, NULL);
			break;
		case 'K':
			xz_cli_set_tls(NULL, NULL, optarg);
			break;
		case 'h':
			print_help(cmd, stdout);
			return -1;
		default:
			print_help(cmd, stderr);
			return XZ_EXIT_USAGE;
		}
	}
	o->argc = argc - optind;
	o->argv = argv + optind;
	return 0;
}

static int
connect_node(const char *cmd, const opts *o, xzc_client **c)
{
	return xz_cli_connect(cmd, o->config, o->url, cmd, c) != 0 ? 1 : 0;
}

/* Check that text is one JSON value; the bus carries JSON objects. */
static int
check_json(const char *cmd, const char *text, size_t len)
{
	json_error_t e;
	json_t      *v = json_loadb(text, len, JSON_DECODE_ANY, &e);

	if (v == NULL) {
		fprintf(stderr,
		    xz_text("xiezhi %s: payload is not valid JSON: %s "
		            "(column %d)\n"),
		    cmd, e.text, e.column);
		return -1;
	}
	json_decref(v);
	return 0;
}

/* Send a request and wait for its reply; prints the reply on stdout. */
static int
do_request(
    xzc_client *c, const char *topic, const char *json, long tmo, bool pretty)
{
	const xzc_msg *r;
	int            rc = xzc_request(c, topic, json, strlen(json),
            tmo > INT_MAX ? INT_MAX : (int) tmo, &r);

	if (rc != XZ_OK)
		return xz_cli_no_reply("xiezhi", c, rc);
	if (pretty) {
		json_t *v = json_loadb(r->data, r->len, JSON_DECODE_ANY, NULL);
		char   *s = v ? json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY)
		              : NULL;
		if (s)
			printf("%s\n", s);
		else
			printf("%.*s\n", (int) r->len, (const char *) r->data);
		free(s);
		json_decref(v);
	} else {
		printf("%.*s\n", (int) r->len, (const char *) r->data);
	}
	fflush(stdout);
	if (r->flags & XZ_MSG_ERROR) {
		fprintf(
		    stderr, xz_text("xiezhi: error reply from '%s'\n"), topic);
		return xz_cli_exit_for_reply(r);
	}
	return 0;
}

static int
cmd_call(int argc, char **argv)
{
	opts        o;
	xzc_client *c;
	int         rc = parse_opts("call", argc, argv, &o);

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (o.argc < 1 || o.argc > 2) {
		print_help("call", stderr);
		return XZ_EXIT_USAGE;
	}
	const char *topic = o.argv[0];
	const char *json  = o.argc == 2 ? o.argv[1] : "{}";
	if (!xz_topic_valid(topic, strlen(topic))) {
		fprintf(stderr, xz_text("xiezhi call: invalid topic '%s'\n"),
		    topic);
		return XZ_EXIT_USAGE;
	}
	if (check_json("call", json, strlen(json)) != 0)
		return XZ_EXIT_USAGE;
	if (connect_node("call", &o, &c) != 0)
		return 1;
	rc = do_request(
	    c, topic, json, o.timeout_ms >= 0 ? o.timeout_ms : 5000, false);
	xzc_close(c);
	return rc;
}

static int
simple_request(
    const char *cmd, int argc, char **argv, const char *topic, bool name_arg)
{
	opts        o;
	xzc_client *c;
	int         rc        = parse_opts(cmd, argc, argv, &o);
	char        body[512] = "{}";

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (o.argc > (name_arg ? 1 : 0)) {
		print_help(cmd, stderr);
		return XZ_EXIT_USAGE;
	}
	if (name_arg && o.argc == 1) {
		json_t *b = json_pack("{s:s}", "name", o.argv[0]);
		char   *s = json_dumps(b, JSON_COMPACT);
		snprintf(body, sizeof(body), "%s", s ? s : "{}");
		free(s);
		json_decref(b);
	}
	if (connect_node(cmd, &o, &c) != 0)
		return 1;
	rc = do_request(
	    c, topic, body, o.timeout_ms >= 0 ? o.timeout_ms : 10000, true);
	xzc_close(c);
	return rc;
}

static int
cmd_pub(int argc, char **argv)
{
	opts        o;
	xzc_client *c;
	int         rc = parse_opts("pub", argc, argv, &o), failed = 0;
	size_t      sent = 0;

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (o.argc < 1 || o.argc > 2) {
		print_help("pub", stderr);
		return XZ_EXIT_USAGE;
	}
	const char *topic = o.argv[0];
	const char *json  = o.argc == 2 ? o.argv[1] : "{}";
	bool        lines = strcmp(json, "-") == 0;
	if (!xz_topic_valid(topic, strlen(topic))) {
		fprintf(stderr, xz_text("xiezhi pub: invalid topic '%s'\n"),
		    topic);
		return XZ_EXIT_USAGE;
	}
	if (!lines && check_json("pub", json, strlen(json)) != 0)
		return XZ_EXIT_USAGE;
	if (connect_node("pub", &o, &c) != 0)
		return 1;
	char  *line   = NULL;
	size_t cap    = 0;
	long   lineno = 0;
	for (;;) {
		const char *payload = json;
		size_t      plen    = strlen(json);
		if (lines) {
			ssize_t n = getline(&line, &cap, stdin);
			if (n < 0)
				break;
			lineno++;
			while (n > 0
			    && (line[n - 1] == '\n' || line[n - 1] == '\r'))
				line[--n] = '\0';
			if (n == 0)
				continue;
			if (check_json("pub", line, (size_t) n) != 0) {
				fprintf(stderr,
				    xz_text("xiezhi pub: stdin line %ld "
				            "skipped\n"),
				    lineno);
				failed++;
				continue;
			}
			payload = line;
			plen    = (size_t) n;
		}
		if ((rc = xzc_publish(c, topic, payload, plen)) != XZ_OK) {
			fprintf(stderr, xz_text("xiezhi pub: %s\n"),
			    xzc_errmsg(c));
			failed++;
			break;
		}
		sent++;
		if (!lines)
			break;
	}
	free(line);
	/* Confirmed by the node: every event before it was taken, in order,
	 * or refused (and then counted). */
	if ((rc = xzc_flush(c, 64000)) != XZ_OK) {
		fprintf(stderr, xz_text("xiezhi pub: %s%s\n"),
		    xzc_refused(c) > 0 ? ""
		                       : "no confirmation from the node: ",
		    xzc_errmsg(c));
		failed += xzc_refused(c) > 0 ? (int) xzc_refused(c) : 1;
	}
	size_t refused = (size_t) xzc_refused(c);
	xzc_close(c);
	if (lines)
		fprintf(stderr,
		    xz_text("xiezhi pub: %zu published, %d failed\n"),
		    sent - (refused < sent ? refused : sent), failed);
	return failed ? 1 : 0;
}

static int
cmd_sub(int argc, char **argv)
{
	opts           o;
	xzc_client    *c;
	const xzc_msg *e;
	int            rc  = parse_opts("sub", argc, argv, &o);
	long           got = 0;

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (o.argc != 1) {
		print_help("sub", stderr);
		return XZ_EXIT_USAGE;
	}
	const char *pattern = o.argv[0];
	if (!xz_pattern_valid(pattern, strlen(pattern))) {
		fprintf(stderr, xz_text("xiezhi sub: invalid pattern '%s'\n"),
		    pattern);
		return XZ_EXIT_USAGE;
	}
	bool group_ok
	    = o.group == NULL || (o.group[0] != '\0' && strlen(o.group) <= 64);
	for (const char *g = o.group; group_ok && g && *g; g++)
		group_ok = *g > 0x20 && *g < 0x7f;
	if (!group_ok) {
		fprintf(stderr,
		    xz_text("xiezhi sub: invalid queue group '%s' (1..64 "
		            "printable bytes, no spaces)\n"),
		    o.group);
		return XZ_EXIT_USAGE;
	}
	if (connect_node("sub", &o, &c) != 0)
		return 1;
	if (getenv("XZ_SUB_READY") != NULL)
		fprintf(stderr, xz_text("xiezhi sub: subscribing to %s\n"),
		    pattern);
	/* Once the flush is confirmed, the subscription is in place. */
	if ((rc = xzc_subscribe(c, pattern, o.group, NULL, NULL, NULL))
	        != XZ_OK
	    || (rc = xzc_flush(c, 60000)) != XZ_OK) {
		fprintf(stderr, xz_text("xiezhi sub: %s\n"), xzc_errmsg(c));
		xzc_close(c);
		return rc == XZ_ETIMEDOUT ? XZ_EXIT_TIMEOUT : 1;
	}
	if (getenv("XZ_SUB_READY") != NULL)
		fprintf(stderr, xz_text("xiezhi sub: ready\n"));
	while (o.count < 0 || got < o.count) {
		rc = xzc_next(
		    c, o.timeout_ms >= 0 ? (int) o.timeout_ms : -1, &e);
		if (rc == XZ_ETIMEDOUT) {
			xzc_close(c);
			return XZ_EXIT_TIMEOUT;
		}
		if (rc != XZ_OK) {
			fprintf(stderr, xz_text("xiezhi sub: %s\n"),
			    xzc_errmsg(c));
			xzc_close(c);
			return 1;
		}
		json_error_t je;
		json_t      *data
		    = json_loadb(e->data, e->len, JSON_DECODE_ANY, &je);
		if (data == NULL)
			data = json_stringn(e->data, e->len);
		json_t *line = json_pack("{s:s%,s:s%,s:o}", "topic", e->topic,
		    e->topic_len, "source", e->source, e->source_len, "data",
		    data);
		char   *out  = line ? json_dumps(line, JSON_COMPACT) : NULL;
		if (out != NULL) {
			fputs(out, stdout);
			fputc('\n', stdout);
			fflush(stdout);
		}
		free(out);
		json_decref(line);
		got++;
	}
	xzc_close(c);
	return 0;
}

static int
cmd_console(int argc, char **argv)
{
	opts        o;
	xzc_client *c;
	int         rc = parse_opts("console", argc, argv, &o);
	char        session[40];

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (o.argc != 0) {
		print_help("console", stderr);
		return XZ_EXIT_USAGE;
	}
	if (connect_node("console", &o, &c) != 0)
		return 1;
	/* An unguessable session id (the console also binds it to this
	 * connection). */
	{
		uint8_t r[16];
		if (getrandom(r, sizeof(r), 0) != (ssize_t) sizeof(r)) {
			fprintf(stderr,
			    xz_text("xiezhi console: no random bytes\n"));
			xzc_close(c);
			return 1;
		}
		memcpy(session, "cli-", 4);
		for (int i = 0; i < 16; i++)
			snprintf(session + 4 + 2 * i, 3, "%02x", r[i]);
	}
	if (o.chunk != NULL) {
		json_t *b = json_pack(
		    "{s:s,s:s}", "chunk", o.chunk, "session", session);
		char *s = json_dumps(b, JSON_COMPACT);
		rc      = do_request(c, "xz.sys.console.eval", s,
                    o.timeout_ms >= 0 ? o.timeout_ms : 10000, false);
		free(s);
		json_decref(b);
		xzc_close(c);
		return rc;
	}
	char  *line = NULL;
	size_t cap  = 0;
	bool   tty  = isatty(0);
	for (;;) {
		if (tty) {
			fputs("xz> ", stdout);
			fflush(stdout);
		}
		ssize_t n = getline(&line, &cap, stdin);
		if (n < 0)
			break;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		json_t *b = json_pack(
		    "{s:s,s:s}", "chunk", line, "session", session);
		char *s = json_dumps(b, JSON_COMPACT);
		do_request(c, "xz.sys.console.eval", s, 10000, false);
		free(s);
		json_decref(b);
	}
	free(line);
	xzc_close(c);
	return 0;
}

static int
cmd_check(int argc, char **argv)
{
	opts       o;
	xz_config  cfg;
	xz_kernel *k;
	xz_diag    d;
	int        rc = parse_opts("check", argc, argv, &o), errors;

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (o.argc != 0) {
		print_help("check", stderr);
		return XZ_EXIT_USAGE;
	}
	const char *path = o.config ? o.config : xz_cli_default_config();
	if (xz_cli_load_config(path, &cfg) != 0)
		return 1;
	xz_diag_init(&d);
	if (node_new(&k, &cfg, &d) != XZ_OK) {
		xz_diag_print(&d, stderr);
		xz_diag_free(&d);
		xz_config_free(&cfg);
		return 1;
	}
	errors = xz_kernel_load(k, &d);
	if (errors == 0)
		xz_kernel_probe_links(k, &d); /* WARN lines, not errors */
	xz_diag_print(&d, stderr);
	if (errors == 0) {
		size_t n = 0;
		for (size_t i = 0; i < cfg.nplugins; i++)
			n += cfg.plugins[i].enabled ? 1 : 0;
		printf(xz_text("%s: ok (node '%s', %zu plugins and scripts "
		               "enabled)\n"),
		    path, cfg.node_name, n);
	}
	xz_kernel_free(k);
	xz_diag_free(&d);
	xz_config_free(&cfg);
	return errors ? 1 : 0;
}

static xz_kernel *volatile running_kernel;

static void
on_stop_signal(int sig)
{
	(void) sig;
	xz_kernel_stop(running_kernel);
}

static void
on_hup(int sig)
{
	(void) sig;
	xz_kernel_reload_all(running_kernel);
}

/* The kernel's lifecycle notifications go to systemd ($NOTIFY_SOCKET of a
 * Type=notify unit); without a socket sd_notify does nothing. */
static void
notify_systemd(void *ud, const char *state)
{
	(void) ud;
	sd_notify(0, state);
}

/* What load and start said on a good start (a torn or malformed spool
 * line, a bus.durable pattern that matches nothing) goes to the log: on
 * a good start nobody reads the diagnostics otherwise. The config's own
 * warnings, the last nwarn lines of load (the first `loaded`), are
 * logged by the kernel at start. */
static void
run_log_diag(const xz_diag *d, size_t loaded, size_t nwarn)
{
	for (size_t i = 0; i < d->count; i++) {
		const char *l = d->lines[i];
		const char *w = strstr(l, "WARN ");
		if (i < loaded && i + nwarn >= loaded)
			continue;
		if (w == NULL)
			xz_log(XZ_LOG_WARN, "kernel", "%s", l);
		else
			xz_log(XZ_LOG_WARN, "kernel", "%.*s%s", (int) (w - l),
			    l, w + 5);
	}
}

static int
cmd_run(int argc, char **argv)
{
	opts             o;
	xz_config        cfg;
	xz_kernel       *k;
	xz_diag          d;
	struct sigaction sa;
	int              rc = parse_opts("run", argc, argv, &o);

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (o.argc != 0) {
		print_help("run", stderr);
		return XZ_EXIT_USAGE;
	}
	if (xz_cli_load_config(
	        o.config ? o.config : xz_cli_default_config(), &cfg)
	    != 0)
		return 1;
	if (cfg.log_file != NULL && (rc = xz_log_open(cfg.log_file)) != 0) {
		fprintf(stderr,
		    xz_text("xiezhi run: cannot open the log file %s: %s\n"),
		    cfg.log_file, strerror(rc));
		xz_config_free(&cfg);
		return 1;
	}
	xz_diag_init(&d);
	if (node_new(&k, &cfg, &d) == XZ_OK)
		xz_kernel_hold_lost(k);
	if (k == NULL || xz_kernel_load(k, &d) != 0) {
		xz_diag_print(&d, stderr);
		fprintf(stderr,
		    xz_text(
		        "xiezhi run: not starting (see `xiezhi check`)\n"));
		xz_kernel_free(k);
		xz_diag_free(&d);
		xz_config_free(&cfg);
		return 1;
	}
	running_kernel = k;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* WatchdogSec=: fed twice per period, by the kernel's own actor. */
	uint64_t watchdog_us = 0;
	if (sd_watchdog_enabled(0, &watchdog_us) <= 0)
		watchdog_us = 0;
	xz_kernel_set_notify(k,
	    &(xz_kernel_notify) {
	        .fn = notify_systemd, .watchdog_us = watchdog_us / 2 });
#ifdef XZ_ALLOCATOR_NAME
	xz_kernel_set_trim(k, jemalloc_purge);
#endif
	size_t loaded = d.count;
	if (xz_kernel_start(k, &d) != XZ_OK) {
		xz_diag_print(&d, stderr);
		xz_kernel_free(k);
		running_kernel = NULL;
		xz_diag_free(&d);
		xz_config_free(&cfg);
		return 1;
	}
	run_log_diag(&d, loaded, cfg.nwarnings);
	xz_kernel_run(k);
	xz_kernel_free(k);
	running_kernel = NULL;
	xz_diag_free(&d);
	xz_config_free(&cfg);
	return 0;
}

static int
cmd_bench(int argc, char **argv)
{
	opts o;
	int  rc = parse_opts("bench", argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	return xz_bench_main(o.json, o.count > 0 ? (unsigned) o.count : 0,
	    xz_cli_plugin_dir(), argc > 0 ? argv[0] : "xiezhi");
}

static int dispatch(int argc, char **argv);

int
main(int argc, char **argv)
{
	int rc;

#ifndef XZ_ALLOCATOR_NAME
	/* jansson's blocks kept per thread (jemalloc's caches do it there) */
	(void) xz_jcache_install();
#endif
	/* texts in 简体中文 or English by LANG (util/msg.h) */
	xz_text_register(xz_cli_zh);
	xz_text_register(xz_config_zh);
	xz_text_register(xz_kernel_zh);
	rc = dispatch(argc, argv);
	/* Free nng's global state so leak checkers see a clean exit. */
	nng_fini();
	return rc;
}

static int
dispatch(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		fputs(xz_usage_text(&usage_main), stderr);
		return XZ_EXIT_USAGE;
	}
	cmd = argv[1];
	argc--;
	argv++;
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0
	    || strcmp(cmd, "help") == 0) {
		if (argc > 1)
			return print_help(argv[1], stdout);
		fputs(xz_usage_text(&usage_main), stdout);
		return 0;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		if (argc > 1 && strcmp(argv[1], "--help") == 0)
			return print_help("version", stdout);
		printf(xz_text("xiezhi %s (plugin ABI %d.%d, nng %s, %s, "
		               "malloc: %s)\n"),
		    XZ_VERSION_STRING, XZ_ABI_MAJOR, XZ_ABI_MINOR,
		    nng_version(), "Lua 5.4", allocator_name());
		return 0;
	}
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc, argv);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc, argv);
	if (strcmp(cmd, "pub") == 0)
		return cmd_pub(argc, argv);
	if (strcmp(cmd, "sub") == 0)
		return cmd_sub(argc, argv);
	if (strcmp(cmd, "call") == 0)
		return cmd_call(argc, argv);
	if (strcmp(cmd, "status") == 0)
		return simple_request(
		    "status", argc, argv, "xz.sys.status", false);
	if (strcmp(cmd, "reload") == 0)
		return simple_request(
		    "reload", argc, argv, "xz.sys.reload", true);
	if (strcmp(cmd, "console") == 0)
		return cmd_console(argc, argv);
	if (strcmp(cmd, "bench") == 0)
		return cmd_bench(argc, argv);
	if (strcmp(cmd, "audit") == 0)
		return xz_audit_cli_main(argc, argv);
	if (strcmp(cmd, "login") == 0)
		return xz_cli_login(argc, argv);
	if (strcmp(cmd, "logout") == 0)
		return xz_cli_logout(argc, argv);
	if (strcmp(cmd, "whoami") == 0)
		return xz_cli_whoami(argc, argv);
	if (strcmp(cmd, "identity") == 0)
		return xz_cli_identity(argc, argv);
	if (strcmp(cmd, "bench-peer") == 0)
		return xz_bench_peer_main(argc, argv);
	if (strcmp(cmd, "plugin-host") == 0) /* an isolated plugin's child */
		return xz_plugin_host_main(
		    argc, argv, xz_lua_kernel_ext(), xz_cli_plugin_dir());
	fprintf(stderr, xz_text("xiezhi: unknown command '%s'\n\n%s"), cmd,
	    xz_usage_text(&usage_main));
	return XZ_EXIT_USAGE;
}
