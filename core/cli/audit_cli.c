/*
 * audit_cli.c - `xiezhi audit verify|query`: the command line of the
 * hash-chained audit trail (plugins/audit, docs/audit.md).
 *
 * verify -f FILE checks a database file offline with the plugin's own code
 * (the xz_audit_chain library of plugins/common); verify -c/-u asks a
 * running node (audit.verify). query always asks the node (audit.query),
 * so the query is itself audited.
 *
 * Exit codes as the rest of the CLI: 0 ok, 1 error or a chain that fails
 * verification, 2 usage, 3 timeout or no responders.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "cli/audit_cli.h"
#include "cli/cli_common.h"
#include "cli/ident_cli.h"
#include "anchor.h"
#include "chain.h"
#include "config/config.h"
#include "util/msg.h"

/* Each English text has its Chinese right below: edit both. */
static const xz_usage usage_audit = {
	"usage: xiezhi audit verify [-f DBFILE | -c FILE [--offline] | -u "
	"URL]\n"
	"                           [--head FILE | --no-head] [--name NAME]\n"
	"                           [--anchors FILE [--key PUBFILE]]\n"
	"       xiezhi audit query  [-c FILE|-u URL] [--subject TYPE:ID]\n"
	"                           [--actor WHO] [--since TIME] [--until "
	"TIME]\n"
	"                           [-n LIMIT] [--purpose TEXT] [--user "
	"NAME]\n"
	"                           [--role ROLE] [--agency AGENCY] [-t MS]\n"
	"       xiezhi audit reset  [-c FILE|-u URL] --store NAME --reason "
	"TEXT\n"
	"`xiezhi audit verify --help`, `query --help` and `reset --help` say "
	"more.\n",

	"用法：xiezhi audit verify [-f DBFILE | -c FILE [--offline] | -u "
	"URL]\n"
	"                           [--head FILE | --no-head] [--name NAME]\n"
	"                           [--anchors FILE [--key PUBFILE]]\n"
	"      xiezhi audit query  [-c FILE|-u URL] [--subject TYPE:ID]\n"
	"                           [--actor WHO] [--since TIME] [--until "
	"TIME]\n"
	"                           [-n LIMIT] [--purpose TEXT] [--user "
	"NAME]\n"
	"                           [--role ROLE] [--agency AGENCY] [-t MS]\n"
	"      xiezhi audit reset  [-c FILE|-u URL] --store NAME --reason "
	"TEXT\n"
	"详见 `xiezhi audit verify --help`、`query --help` 和 `reset "
	"--help`。\n",
};

static const xz_usage usage_verify = {
	"usage: xiezhi audit verify [-f DBFILE | -c FILE [--offline] | -u "
	"URL]\n"
	"                           [--head FILE | --no-head] [--name NAME]\n"
	"                           [--anchors FILE [--key PUBFILE]]\n"
	"Check the whole hash chain of the audit log and name the first "
	"record\n"
	"that was edited, deleted, reordered or truncated.\n"
	"  -f DBFILE   verify a database file offline (opened read-only); "
	"its\n"
	"              head file is DBFILE with .db replaced by .head\n"
	"  -c FILE     ask the node of this deployment (audit.verify); with\n"
	"              --offline, verify <data_dir>/<NAME>.db directly\n"
	"  -u URL      ask the node at URL\n"
	"  --head FILE the side file to compare with (default: beside "
	"DBFILE)\n"
	"  --no-head   do not compare with a side file\n"
	"  --anchors FILE  also check the log against the signed checkpoints\n"
	"              of this sink file (the audit plugin's anchor_file)\n"
	"  --key PUBFILE   the node's public key (default: FILE.key.pub when\n"
	"              it exists, else the key of the first checkpoint)\n"
	"  --name NAME the audit plugin's instance name (default: audit)\n"
	"  -t MS       request deadline (default 30000)\n"
	"Prints \"ok: N records\" (exit 0), or the first bad record and why\n"
	"(exit 1). Exit 2 on usage errors, 3 when no node answers.\n",

	"用法：xiezhi audit verify [-f DBFILE | -c FILE [--offline] | -u "
	"URL]\n"
	"                           [--head FILE | --no-head] [--name NAME]\n"
	"                           [--anchors FILE [--key PUBFILE]]\n"
	"校验审计日志的整条哈希链，指出第一条被修改、删除、重排或截断的记录。"
	"\n"
	"  -f DBFILE   离线校验数据库文件（只读打开）；其头文件为把 DBFILE "
	"的\n"
	"              .db 换成 .head 的文件\n"
	"  -c FILE     询问本部署的节点（audit.verify）；加 --offline "
	"时直接校验\n"
	"              <data_dir>/<NAME>.db\n"
	"  -u URL      询问 URL 处的节点\n"
	"  --head FILE 用于比对的头文件（默认：DBFILE 旁边的）\n"
	"  --no-head   不与头文件比对\n"
	"  --anchors FILE  同时用此输出文件（审计插件的 "
	"anchor_file）中的签名\n"
	"              检查点校验日志\n"
	"  --key PUBFILE   节点的公钥（默认：存在时为 FILE.key.pub，否则为\n"
	"              第一个检查点的密钥）\n"
	"  --name NAME 审计插件的实例名（默认：audit）\n"
	"  -t MS       请求期限（默认 30000）\n"
	"输出 \"ok: N 条记录\"（退出码 "
	"0），或第一条有问题的记录及原因（退出码\n"
	"1）。用法错误退出码为 2，无节点应答为 3。\n",
};

static const xz_usage usage_query = {
	"usage: xiezhi audit query [-c FILE|-u URL] [--subject TYPE:ID]\n"
	"                          [--actor WHO] [--since TIME] [--until "
	"TIME]\n"
	"                          [-n LIMIT] [--purpose TEXT] [--user NAME]\n"
	"                          [--role ROLE] [--agency AGENCY] [-t MS]\n"
	"Ask the node's audit plugin (audit.query) and print one JSON line "
	"per\n"
	"record, oldest first. The query is itself recorded in the audit log\n"
	"(action VIEW, subject_type audit_log) under --user (default $USER),\n"
	"--role (default AUDITOR), --agency and --purpose.\n"
	"  --subject TYPE:ID  records about one subject (TYPE alone: any id)\n"
	"  --actor WHO        records of one actor (the `who` field)\n"
	"  --since/--until    UTC times YYYY-MM-DD[THH:MM[:SS[.mmm]]][Z], or "
	"ms\n"
	"                     since the epoch; a date alone as --until means\n"
	"                     the whole day\n"
	"  -n LIMIT           at most LIMIT records (default 100)\n"
	"Exit 0, 1 on an error reply, 2 on usage errors, 3 when no node "
	"answers.\n",

	"用法：xiezhi audit query [-c FILE|-u URL] [--subject TYPE:ID]\n"
	"                          [--actor WHO] [--since TIME] [--until "
	"TIME]\n"
	"                          [-n LIMIT] [--purpose TEXT] [--user NAME]\n"
	"                          [--role ROLE] [--agency AGENCY] [-t MS]\n"
	"询问节点的审计插件（audit.query），每条记录输出一行 "
	"JSON，由旧到新。\n"
	"查询本身也记入审计日志（action VIEW，subject_type audit_log），记在\n"
	"--user（默认 $USER）、--role（默认 AUDITOR）、--agency 和 --purpose "
	"名下。\n"
	"  --subject TYPE:ID  关于某一对象的记录（只给 TYPE：任意编号）\n"
	"  --actor WHO        某一行为人的记录（`who` 字段）\n"
	"  --since/--until    UTC 时间 "
	"YYYY-MM-DD[THH:MM[:SS[.mmm]]][Z]，或自纪元\n"
	"                     起的毫秒数；--until 只给日期时表示整天\n"
	"  -n LIMIT           最多 LIMIT 条记录（默认 100）\n"
	"成功退出码为 0，错误应答为 1，用法错误为 2，无节点应答为 3。\n",
};

typedef struct aopts {
	const char *config, *url, *file, *head, *name, *anchors, *key;
	const char *subject, *actor, *since, *until, *purpose, *user, *role,
	    *agency;
	int  offline, no_head;
	long limit, timeout_ms;
} aopts;

/* -1: --help printed (exit 0); 0 ok; XZ_EXIT_USAGE. */
static int
parse(const char *sub, const xz_usage *usage, int argc, char **argv, aopts *o)
{
	enum {
		O_HEAD = 256,
		O_NOHEAD,
		O_NAME,
		O_OFFLINE,
		O_SUBJECT,
		O_ACTOR,
		O_SINCE,
		O_UNTIL,
		O_PURPOSE,
		O_USER,
		O_ROLE,
		O_AGENCY,
		O_ANCHORS,
		O_KEY
	};
	static const struct option lo[] = { { "help", no_argument, 0, 'h' },
		{ "head", required_argument, 0, O_HEAD },
		{ "no-head", no_argument, 0, O_NOHEAD },
		{ "name", required_argument, 0, O_NAME },
		{ "offline", no_argument, 0, O_OFFLINE },
		{ "subject", required_argument, 0, O_SUBJECT },
		{ "actor", required_argument, 0, O_ACTOR },
		{ "since", required_argument, 0, O_SINCE },
		{ "until", required_argument, 0, O_UNTIL },
		{ "purpose", required_argument, 0, O_PURPOSE },
		{ "user", required_argument, 0, O_USER },
		{ "role", required_argument, 0, O_ROLE },
		{ "agency", required_argument, 0, O_AGENCY },
		{ "anchors", required_argument, 0, O_ANCHORS },
		{ "key", required_argument, 0, O_KEY }, { 0, 0, 0, 0 } };
	int                        ch;

	memset(o, 0, sizeof(*o));
	o->limit      = -1;
	o->timeout_ms = -1;
	o->name       = "audit";
	optind        = 1;
	while ((ch = getopt_long(argc, argv, "c:u:f:n:t:h", lo, NULL)) != -1) {
		char *end;
		long  v;
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'u':
			o->url = optarg;
			break;
		case 'f':
			o->file = optarg;
			break;
		case 'n':
		case 't':
			errno = 0;
			v     = strtol(optarg, &end, 10);
			if (errno || *end || v < (ch == 'n' ? 1 : 0)) {
				fprintf(stderr,
				    xz_text("xiezhi audit %s: -%c needs a %s "
				            "integer, "
				            "got '%s'\n"),
				    sub, ch,
				    ch == 'n' ? "positive" : "non-negative",
				    optarg);
				return XZ_EXIT_USAGE;
			}
			if (ch == 'n')
				o->limit = v;
			else
				o->timeout_ms = v;
			break;
		case O_HEAD:
			o->head = optarg;
			break;
		case O_NOHEAD:
			o->no_head = 1;
			break;
		case O_NAME:
			o->name = optarg;
			break;
		case O_OFFLINE:
			o->offline = 1;
			break;
		case O_SUBJECT:
			o->subject = optarg;
			break;
		case O_ACTOR:
			o->actor = optarg;
			break;
		case O_SINCE:
			o->since = optarg;
			break;
		case O_UNTIL:
			o->until = optarg;
			break;
		case O_PURPOSE:
			o->purpose = optarg;
			break;
		case O_USER:
			o->user = optarg;
			break;
		case O_ROLE:
			o->role = optarg;
			break;
		case O_AGENCY:
			o->agency = optarg;
			break;
		case O_ANCHORS:
			o->anchors = optarg;
			break;
		case O_KEY:
			o->key = optarg;
			break;
		case 'h':
			fputs(xz_usage_text(usage), stdout);
			return -1;
		default:
			fputs(xz_usage_text(usage), stderr);
			return XZ_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr,
		    xz_text("xiezhi audit %s: unexpected argument '%s'\n%s"),
		    sub, argv[optind], xz_usage_text(usage));
		return XZ_EXIT_USAGE;
	}
	return 0;
}

/*
 * Send one request to the node (-u, $XZ_URL, or -c's control URL) and wait
 * for its reply. Returns 0 and *reply (caller decrefs); an error reply is
 * printed and gives 1 (or 3 for timeout/no_responders); transport failures
 * 1 or 3.
 */
static int
request(const char *sub, const aopts *o, const char *topic, json_t *body,
    long tmo, json_t **reply)
{
	xzc_client    *c;
	const xzc_msg *r;
	char           what[64], prefix[80];
	char          *json;
	int            rc;

	*reply = NULL;
	snprintf(what, sizeof(what), "audit %s", sub);
	if (xz_cli_connect(what, o->config, o->url, "audit", &c) != 0)
		return 1;
	if ((json = json_dumps(body, JSON_COMPACT)) == NULL) {
		fprintf(stderr, xz_text("xiezhi %s: out of memory\n"), what);
		xzc_close(c);
		return 1;
	}
	rc = xzc_request(c, topic, json, strlen(json),
	    tmo > INT_MAX ? INT_MAX : (int) tmo, &r);
	free(json);
	if (rc != XZ_OK) {
		snprintf(prefix, sizeof(prefix), "xiezhi %s", what);
		rc = xz_cli_no_reply(prefix, c, rc);
		xzc_close(c);
		return rc;
	}
	json_t *v = json_loadb(r->data, r->len, 0, NULL);
	if (r->flags & XZ_MSG_ERROR) {
		json_t     *err = json_object_get(v, "error");
		const char *code
		    = json_string_value(json_object_get(err, "code"));
		const char *msg
		    = json_string_value(json_object_get(err, "message"));
		printf("%.*s\n", (int) r->len, (const char *) r->data);
		fprintf(stderr, xz_text("xiezhi %s: %s: %s\n"), what,
		    code ? code : "error", msg ? msg : "");
		rc = xz_cli_exit_for_reply(r);
	} else if (v == NULL) {
		fprintf(stderr, xz_text("xiezhi %s: the reply is not JSON\n"),
		    what);
		rc = 1;
	} else {
		*reply = v;
		v      = NULL;
	}
	json_decref(v);
	xzc_close(c);
	return rc;
}

/* Print the stored row of seq (if any) as one JSON line. */
static void
print_row(sqlite3 *db, int64_t seq)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(
	        db, "SELECT * FROM audit_log WHERE seq = ?", -1, &st, NULL)
	    != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, seq);
	if (sqlite3_step(st) == SQLITE_ROW) {
		json_t *o = json_object();
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			if (sqlite3_column_type(st, i) == SQLITE_INTEGER)
				json_object_set_new(o,
				    sqlite3_column_name(st, i),
				    json_integer(sqlite3_column_int64(st, i)));
			else if (sqlite3_column_type(st, i) != SQLITE_NULL)
				json_object_set_new(o,
				    sqlite3_column_name(st, i),
				    json_string(
				        (const char *) sqlite3_column_text(
				            st, i)));
		}
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(o);
	}
	sqlite3_finalize(st);
}

/* Print the checkpoint v found bad, and its record. Returns 1. */
static int
anchor_fail(sqlite3 *db, const xz_anchor_verdict *v)
{
	char tr[640], why[64];

	printf(xz_text("FAIL: checkpoint %lld: record %lld: %s: %s\n"),
	    (long long) v->bad_line, (long long) v->bad_seq,
	    xz_cli_audit_reason(v->reason, why, sizeof(why)),
	    xz_cli_audit_text(v->detail, tr, sizeof(tr)));
	if (v->bad_seq > 0)
		print_row(db, v->bad_seq);
	return 1;
}

/* The log in db against the checkpoints of o->anchors: 0 ok, 1 not. */
static int verify_anchors_reset(
    sqlite3 *db, const aopts *o, const uint8_t *trusted);

static int
verify_anchors(sqlite3 *db, const aopts *o)
{
	uint8_t           pub[XZ_ANCHOR_KEY_SIZE];
	const uint8_t    *trusted = NULL;
	char              err[300], def[PATH_MAX], tr[640];
	xz_anchor_verdict av;
	int               rc;

	if (o->key != NULL) {
		if (xz_anchor_pub_load(o->key, pub, err, sizeof(err)) != 0) {
			fprintf(stderr, xz_text("xiezhi audit verify: %s\n"),
			    xz_cli_audit_text(err, tr, sizeof(tr)));
			return 1;
		}
		trusted = pub;
	} else {
		snprintf(def, sizeof(def), "%s.key.pub", o->anchors);
		if (access(def, R_OK) == 0) {
			if (xz_anchor_pub_load(def, pub, err, sizeof(err))
			    != 0) {
				fprintf(stderr,
				    xz_text("xiezhi audit verify: %s\n"),
				    xz_cli_audit_text(err, tr, sizeof(tr)));
				return 1;
			}
			trusted = pub;
		}
	}
	if (xz_anchor_check(db, o->anchors, trusted, &av) != 0) {
		fprintf(stderr, xz_text("xiezhi audit verify: %s\n"),
		    xz_cli_audit_text(av.detail, tr, sizeof(tr)));
		return 1;
	}
	if (!av.ok && (rc = verify_anchors_reset(db, o, trusted)) >= 0)
		return rc; /* a recorded reset accounts for the old ones */
	if (!av.ok)
		return anchor_fail(db, &av);
	printf(xz_text("ok: %lld checkpoints match (last signs record %lld"),
	    (long long) av.checked, (long long) av.last_seq);
	if (av.skipped > 0)
		printf(xz_text(", %lld of pruned records"),
		    (long long) av.skipped);
	printf("%s", xz_text(")\n")); /* closes the "(" above */
	if (trusted == NULL)
		fprintf(stderr,
		    xz_text("xiezhi audit verify: warning: no --key given: "
		            "the key of "
		            "the first checkpoint was trusted\n"));
	return 0;
}

static int
verify_file(const char *path, const aopts *o)
{
	sqlite3         *db = NULL;
	xz_audit_verdict v;
	char            *head = NULL;
	char             tr[640], why[64];
	int              rc;

	if (access(path, R_OK) != 0) {
		int       e = errno;
		xz_anchor a;
		fprintf(stderr,
		    xz_text("xiezhi audit verify: cannot read %s: %s\n"), path,
		    strerror(e));
		if (e == ENOENT && o->anchors != NULL
		    && xz_anchor_last(o->anchors, NULL, &a) == 1)
			printf(
			    xz_text(
			        "FAIL: checkpoint 1: record %lld: wiped: the "
			        "log %s is gone, %s signs records up to "
			        "%lld\n"),
			    (long long) a.seq, path, o->anchors,
			    (long long) a.seq);
		return 1;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL)
	    != SQLITE_OK) {
		fprintf(stderr,
		    xz_text("xiezhi audit verify: cannot open %s: %s\n"), path,
		    db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return 1;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(
	        db, "SELECT 1 FROM audit_log LIMIT 0", NULL, NULL, NULL)
	    != SQLITE_OK) {
		fprintf(stderr,
		    xz_text(
		        "xiezhi audit verify: %s is not an audit log (%s)\n"),
		    path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return 1;
	}
	if (!o->no_head)
		head = o->head ? strdup(o->head) : xz_audit_head_path(path);
	if (xz_audit_verify(db, head, &v) != 0) {
		fprintf(stderr, xz_text("xiezhi audit verify: %s: %s\n"), path,
		    xz_cli_audit_text(v.detail, tr, sizeof(tr)));
		rc = 1;
	} else if (v.ok) {
		printf(xz_text("ok: %lld records"), (long long) v.records);
		if (v.records > 0 || v.pruned_to > 0)
			printf(xz_text(" (last seq %lld%s)"),
			    (long long) v.last_seq,
			    v.pruned_to > 0 ? xz_text(", earlier ones pruned")
			                    : "");
		printf("\n");
		if (v.head_file == 0)
			fprintf(stderr,
			    xz_text("xiezhi audit verify: warning: no head "
			            "file %s "
			            "(a cut tail with its anchor row would go "
			            "unnoticed)\n"),
			    head);
		rc = 0;
	} else {
		printf(xz_text("FAIL: record %lld: %s: %s\n"),
		    (long long) v.first_bad_seq,
		    xz_cli_audit_reason(v.reason, why, sizeof(why)),
		    xz_cli_audit_text(v.detail, tr, sizeof(tr)));
		print_row(db, v.first_bad_seq);
		rc = 1;
	}
	if (rc == 0 && o->anchors != NULL)
		rc = verify_anchors(db, o);
	free(head);
	sqlite3_close(db);
	return rc;
}

static int
cmd_verify(int argc, char **argv)
{
	aopts o;
	int   rc = parse("verify", &usage_verify, argc, argv, &o);

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (o.file != NULL && (o.config || o.url)) {
		fprintf(stderr,
		    xz_text("xiezhi audit verify: give -f, or -c/-u, not "
		            "both\n"));
		return XZ_EXIT_USAGE;
	}
	if (o.file != NULL)
		return verify_file(o.file, &o);
	if (o.offline) {
		xz_config cfg;
		char     *path;
		size_t    n;
		if (o.url) {
			fprintf(stderr,
			    xz_text("xiezhi audit verify: --offline needs "
			            "-c FILE\n"));
			return XZ_EXIT_USAGE;
		}
		if (xz_cli_load_config(
		        o.config ? o.config : xz_cli_default_config(), &cfg)
		    != 0)
			return 1;
		n    = strlen(cfg.data_dir) + strlen(o.name) + 8;
		path = malloc(n);
		if (path == NULL) {
			xz_config_free(&cfg);
			return 1;
		}
		snprintf(path, n, "%s/%s.db", cfg.data_dir, o.name);
		xz_config_free(&cfg);
		rc = verify_file(path, &o);
		free(path);
		return rc;
	}
	json_t *reply = NULL, *body = json_object();
	char    tr[640], why[64];
	rc = request("verify", &o, "audit.verify", body,
	    o.timeout_ms >= 0 ? o.timeout_ms : 30000, &reply);
	json_decref(body);
	if (rc != 0)
		return rc;
	if (json_is_true(json_object_get(reply, "ok"))) {
		printf(xz_text("ok: %lld records\n"),
		    (long long) json_integer_value(
		        json_object_get(reply, "records")));
		rc = 0;
	} else if (json_object_get(reply, "checkpoint") != NULL) {
		printf(xz_text("FAIL: checkpoint %lld: record %lld: %s: %s\n"),
		    (long long) json_integer_value(
		        json_object_get(reply, "checkpoint")),
		    (long long) json_integer_value(
		        json_object_get(reply, "first_bad_seq")),
		    xz_cli_audit_reason(
		        json_string_value(json_object_get(reply, "reason")),
		        why, sizeof(why)),
		    xz_cli_audit_text(
		        json_string_value(json_object_get(reply, "detail")),
		        tr, sizeof(tr)));
		rc = 1;
	} else {
		printf(xz_text("FAIL: record %lld: %s: %s\n"),
		    (long long) json_integer_value(
		        json_object_get(reply, "first_bad_seq")),
		    xz_cli_audit_reason(
		        json_string_value(json_object_get(reply, "reason")),
		        why, sizeof(why)),
		    xz_cli_audit_text(
		        json_string_value(json_object_get(reply, "detail")),
		        tr, sizeof(tr)));
		rc = 1;
	}
	json_decref(reply);
	return rc;
}

static int
cmd_query(int argc, char **argv)
{
	aopts       o;
	int         rc = parse("query", &usage_query, argc, argv, &o);
	int64_t     ms;
	const char *user;

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (o.file || o.offline) {
		fprintf(stderr,
		    xz_text("xiezhi audit query: queries go through the "
		            "node (so they are audited); give -c or -u\n"));
		return XZ_EXIT_USAGE;
	}
	if ((o.since && xz_audit_parse_time(o.since, 0, &ms))
	    || (o.until && xz_audit_parse_time(o.until, 1, &ms))) {
		fprintf(stderr,
		    xz_text("xiezhi audit query: '%s' is not a time "
		            "(YYYY-MM-DD[THH:MM[:SS[.mmm]]][Z] UTC, or ms)\n"),
		    o.since && xz_audit_parse_time(o.since, 0, &ms) ? o.since
		                                                    : o.until);
		return XZ_EXIT_USAGE;
	}
	json_t *body = json_object();
	if (o.subject) {
		const char *colon = strchr(o.subject, ':');
		if (colon == o.subject) {
			fprintf(stderr,
			    xz_text("xiezhi audit query: --subject needs "
			            "TYPE:ID or TYPE\n"));
			json_decref(body);
			return XZ_EXIT_USAGE;
		}
		json_object_set_new(body, "subject_type",
		    colon
		        ? json_stringn(o.subject, (size_t) (colon - o.subject))
		        : json_string(o.subject));
		if (colon && colon[1])
			json_object_set_new(
			    body, "subject_id", json_string(colon + 1));
	}
	if (o.actor)
		json_object_set_new(body, "who", json_string(o.actor));
	if (o.since)
		json_object_set_new(body, "from", json_string(o.since));
	if (o.until)
		json_object_set_new(body, "to", json_string(o.until));
	if (o.limit > 0)
		json_object_set_new(body, "limit", json_integer(o.limit));
	if (o.purpose)
		json_object_set_new(body, "purpose", json_string(o.purpose));
	user          = o.user ? o.user : getenv("USER");
	json_t *actor = json_pack("{s:s,s:s}", "user", user ? user : "unknown",
	    "role", o.role ? o.role : "AUDITOR");
	if (o.agency)
		json_object_set_new(actor, "agency", json_string(o.agency));
	json_object_set_new(body, "actor", actor);

	json_t *reply = NULL;
	rc            = request("query", &o, "audit.query", body,
            o.timeout_ms >= 0 ? o.timeout_ms : 30000, &reply);
	json_decref(body);
	if (rc != 0)
		return rc;
	json_t *recs = json_object_get(reply, "records");
	size_t  i;
	json_t *r;
	json_array_foreach(recs, i, r)
	{
		char *s = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (s)
			printf("%s\n", s);
		free(s);
	}
	json_decref(reply);
	return 0;
}

/* ---- audit reset: accept a lost store on record (docs/audit.md) ---- */

static const xz_usage usage_reset = {
	"usage: xiezhi audit reset [-c FILE|-u URL] --store NAME --reason "
	"TEXT [-t MS]\n"
	"Accept a store the data folder's MANIFEST lists but that is lost (a\n"
	"deleted audit.db, prison.db, ...): the running node writes an audit\n"
	"record (who, when, the store and its identity, the reason), then\n"
	"forgets the store in its MANIFEST; its plugin starts with an empty\n"
	"store at the next start. `verify --anchors` then names the reset\n"
	"instead of a wiped log. Role admin only.\n"
	"Exit 0 reset, 1 refused, 2 usage, 3 no node answered.\n",

	"用法：xiezhi audit reset [-c FILE|-u URL] --store NAME --reason "
	"TEXT [-t MS]\n"
	"确认数据目录 MANIFEST 中登记但已丢失的存储（被删除的 audit.db、\n"
	"prison.db "
	"等）：运行中的节点先写一条审计记录（谁、何时、哪个存储及其\n"
	"标识、原因），再从 MANIFEST 中移除该存储；下次启动时其插件以空存储\n"
	"启动。此后 `verify --anchors` "
	"报告这次有记录的重置，而不是日志被抹除。\n"
	"仅限 admin 角色。\n"
	"退出码：0 已重置，1 被拒绝，2 用法错误，3 无节点应答。\n",
};

static int
cmd_reset(int argc, char **argv)
{
	static const struct option lo[] = { { "help", no_argument, 0, 'h' },
		{ "store", required_argument, 0, 's' },
		{ "reason", required_argument, 0, 'r' }, { 0, 0, 0, 0 } };
	aopts                      o;
	const char                *store = NULL, *reason = NULL;
	int                        ch, rc;

	memset(&o, 0, sizeof(o));
	o.timeout_ms = 30000;
	optind       = 1;
	while ((ch = getopt_long(argc, argv, "c:u:t:h", lo, NULL)) != -1) {
		char *end;
		switch (ch) {
		case 'c':
			o.config = optarg;
			break;
		case 'u':
			o.url = optarg;
			break;
		case 't':
			errno        = 0;
			o.timeout_ms = strtol(optarg, &end, 10);
			if (errno || *end || o.timeout_ms < 0) {
				fprintf(stderr,
				    xz_text("xiezhi audit %s: -%c needs a %s "
				            "integer, "
				            "got '%s'\n"),
				    "reset", ch, "non-negative", optarg);
				return XZ_EXIT_USAGE;
			}
			break;
		case 's':
			store = optarg;
			break;
		case 'r':
			reason = optarg;
			break;
		case 'h':
			fputs(xz_usage_text(&usage_reset), stdout);
			return 0;
		default:
			fputs(xz_usage_text(&usage_reset), stderr);
			return XZ_EXIT_USAGE;
		}
	}
	if (optind != argc || store == NULL || reason == NULL
	    || reason[strspn(reason, " \t\r\n")] == '\0') {
		if (optind == argc)
			fprintf(stderr, "%s",
			    xz_text(
			        "xiezhi audit reset: give --store NAME and "
			        "--reason TEXT (the reason goes into the "
			        "audit record)\n"));
		fputs(xz_usage_text(&usage_reset), stderr);
		return XZ_EXIT_USAGE;
	}
	json_t *reply = NULL,
	       *body
	    = json_pack("{s:s,s:s}", "store", store, "reason", reason);
	rc = request(
	    "reset", &o, "xz.sys.store.reset", body, o.timeout_ms, &reply);
	json_decref(body);
	if (rc != 0)
		return rc;
	printf(
	    xz_text("reset: store '%s' (identity %s) by %s, on record; %s\n"),
	    store, json_string_value(json_object_get(reply, "store_id")),
	    json_string_value(json_object_get(reply, "by")),
	    xz_text(
	        "restart the node: the plugin starts with an empty store"));
	json_decref(reply);
	return 0;
}

/*
 * The log was reset on record (`xiezhi audit reset`): the checkpoints
 * signed before the reset sign the log that was lost (signature and key
 * only), the later ones the log as it is, and one of them the reset
 * record itself. 0 ok (printed), 1 FAIL (printed), -1 no recorded reset
 * applies (the caller reports its verdict).
 */
static int
verify_anchors_reset(sqlite3 *db, const aopts *o, const uint8_t *trusted)
{
	xz_anchor_reset   r;
	xz_anchor_verdict av;
	char              tr[640];

	if (!xz_anchor_last_reset(db, o->name, &r))
		return -1;
	if (xz_anchor_check_reset(db, o->anchors, trusted, &r, &av) != 0) {
		fprintf(stderr, xz_text("xiezhi audit verify: %s\n"),
		    xz_cli_audit_text(av.detail, tr, sizeof(tr)));
		return 1;
	}
	if (!av.ok && strcmp(av.reason, "unanchored") == 0) {
		printf(xz_text("FAIL: record %lld: reset not anchored: no "
		               "checkpoint after the reset signs its record "
		               "yet (one comes every anchor_every records, "
		               "anchor_interval_s seconds and at stop)\n"),
		    (long long) r.seq);
		print_row(db, r.seq);
		return 1;
	}
	if (!av.ok)
		return anchor_fail(db, &av);
	printf(xz_text("reset: checkpoints 1..%lld sign the log before the "
	               "recorded reset (record %lld, time %lld, by %s: %s)\n"),
	    (long long) av.reset_before, (long long) r.seq,
	    (long long) r.time_ms, r.who, r.reason);
	printf(xz_text("ok: %lld checkpoints match (last signs record %lld"),
	    (long long) av.checked, (long long) av.last_seq);
	printf(")\n");
	return 0;
}

int
xz_audit_cli_main(int argc, char **argv)
{
	/* `xiezhi audit -c FILE verify` works too: bring the subcommand to
	 * the front (getopt permutes the rest). */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "verify") == 0
		    || strcmp(argv[i], "query") == 0
		    || strcmp(argv[i], "reset") == 0) {
			char *sub = argv[i];
			memmove(argv + 2, argv + 1,
			    (size_t) (i - 1) * sizeof(char *));
			argv[1] = sub;
			break;
		}
	}
	if (argc < 2) {
		fputs(xz_usage_text(&usage_audit), stderr);
		return XZ_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0
	    || strcmp(argv[1], "help") == 0) {
		fputs(xz_usage_text(&usage_audit), stdout);
		return 0;
	}
	if (strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "query") == 0)
		return cmd_query(argc - 1, argv + 1);
	if (strcmp(argv[1], "reset") == 0)
		return cmd_reset(argc - 1, argv + 1);
	fprintf(stderr, xz_text("xiezhi audit: unknown subcommand '%s'\n%s"),
	    argv[1], xz_usage_text(&usage_audit));
	return XZ_EXIT_USAGE;
}
