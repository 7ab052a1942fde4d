/*
 * ident_cli.c - `xiezhi login`, `logout`, `whoami` and `identity`.
 *
 * People go through the running node: login asks xz.sys.auth.login and
 * writes the token to a credentials file (0600), which every later
 * command presents (cli_common.c). `identity user ...` goes through the
 * node too (xz.sys.identity.user.*, administrators only), so the node's
 * in-memory copy of the store is never stale. `identity ca|cert ...` work
 * on the PKI folder (DATA_DIR/pki of the deployment, or --pki DIR)
 * directly: certificates are files, the node need not run.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "auth/identity.h"
#include "auth/pki.h"
#include "cli/cli_common.h"
#include "cli/ident_cli.h"
#include "util/fs.h"

/* ---- usage ---- */

/* Each English text has its Chinese right below: edit both. */
const xz_usage xz_usage_login = {
	"usage: xiezhi login [-c FILE|-u URL] --user NAME [--password-file "
	"FILE] [--creds FILE]\n"
	"\n"
	"Log in to the node as NAME and write the session token to a "
	"credentials file\n"
	"(mode 0600): --creds FILE, else $XZ_CREDS, else "
	"~/.config/xiezhi/creds. Every\n"
	"command that talks to the node presents it from then on. The "
	"password is read\n"
	"from FILE's first line, else asked for without echo on a terminal, "
	"else read\n"
	"from the first line of stdin.\n",

	"用法：xiezhi login [-c FILE|-u URL] --user NAME [--password-file "
	"FILE] [--creds FILE]\n"
	"\n"
	"以 NAME 身份登录节点，并把会话令牌写入凭据文件（权限 0600）：\n"
	"--creds FILE，否则 $XZ_CREDS，否则 ~/.config/xiezhi/creds。"
	"此后每个\n与节点通信的命令都出示它。口令取自 FILE 的第一行，"
	"否则在终端上\n不回显地询问，否则取自标准输入的第一行。\n",
};
const xz_usage xz_usage_logout = {
	"usage: xiezhi logout [-c FILE|-u URL] [--creds FILE]\n"
	"\n"
	"End the session of the credentials file on the node and remove the "
	"file.\n",

	"用法：xiezhi logout [-c FILE|-u URL] [--creds FILE]\n"
	"\n"
	"在节点上结束凭据文件的会话，并删除该文件。\n",
};
const xz_usage xz_usage_whoami = {
	"usage: xiezhi whoami [-c FILE|-u URL] [--creds FILE] [--json]\n"
	"                     [--ca FILE --cert FILE --key FILE]\n"
	"\n"
	"Who the node takes this command for (xz.sys.auth.whoami): user, "
	"name, agency,\n"
	"roles, and how it was proven; --json prints the node's reply as "
	"it is.\n",

	"用法：xiezhi whoami [-c FILE|-u URL] [--creds FILE] [--json]\n"
	"                     [--ca FILE --cert FILE --key FILE]\n"
	"\n"
	"节点把本命令认定为谁（xz.sys.auth.whoami）：用户、姓名、机构、\n"
	"角色以及身份的证明方式；--json 原样输出节点的应答。\n",
};
const xz_usage xz_usage_identity = {
	"usage: xiezhi identity user add NAME --name TEXT --agency ID --role "
	"ROLE [--role ROLE]\n"
	"                                [--password-file FILE]\n"
	"       xiezhi identity user lock|unlock NAME\n"
	"       xiezhi identity user passwd NAME [--password-file FILE]\n"
	"       xiezhi identity user list [--json]\n"
	"       xiezhi identity ca init [--cn NAME]\n"
	"       xiezhi identity cert issue --cn CN [--kind "
	"client|server|node] "
	"[--dns NAME]...\n"
	"                                  [--days N] --out DIR\n"
	"       xiezhi identity cert revoke CN|SERIAL\n"
	"       xiezhi identity cert list [--json]\n"
	"\n"
	"common options: -c FILE (the deployment; default "
	"config/xiezhi.cfg), -u URL,\n"
	"  --creds FILE, --pki DIR (the CA folder; default DATA_DIR/pki of "
	"the deployment)\n"
	"\n"
	"`user` commands go through the running node and need the admin "
	"role (the node's\n"
	"own Unix user has it). `ca` and `cert` work on the CA folder "
	"directly.\n",

	"用法：xiezhi identity user add NAME --name TEXT --agency ID --role "
	"ROLE [--role ROLE]\n"
	"                                [--password-file FILE]\n"
	"      xiezhi identity user lock|unlock NAME\n"
	"      xiezhi identity user passwd NAME [--password-file FILE]\n"
	"      xiezhi identity user list [--json]\n"
	"      xiezhi identity ca init [--cn NAME]\n"
	"      xiezhi identity cert issue --cn CN [--kind client|server|node] "
	"[--dns NAME]...\n"
	"                                  [--days N] --out DIR\n"
	"      xiezhi identity cert revoke CN|SERIAL\n"
	"      xiezhi identity cert list [--json]\n"
	"\n"
	"通用选项：-c FILE（部署文件；默认 config/xiezhi.cfg）、-u URL、\n"
	"  --creds FILE、--pki DIR（CA 目录；默认为部署的 DATA_DIR/pki）\n"
	"\n"
	"`user` 命令经由运行中的节点执行，需要 admin 角色（节点自身的\n"
	"Unix 用户具有该角色）。`ca` 和 `cert` 直接操作 CA 目录。\n",
};

/* ---- options ---- */

typedef struct iopts {
	const char *config, *url, *user, *password_file, *name, *agency;
	const char *roles[XZ_IDENTITY_MAX_ROLES + 1];
	size_t      nroles;
	const char *dns[17];
	size_t      ndns;
	const char *cn, *kind, *out, *pki;
	long        days;
	bool        json;
	int         argc;
	char      **argv;
} iopts;

static int
parse(const char *cmd, const xz_usage *usage, int argc, char **argv, iopts *o)
{
	static const struct option lo[] = { { "help", no_argument, 0, 'h' },
		{ "user", required_argument, 0, 'U' },
		{ "password-file", required_argument, 0, 'P' },
		{ "creds", required_argument, 0, 'C' },
		{ "name", required_argument, 0, 'N' },
		{ "agency", required_argument, 0, 'A' },
		{ "role", required_argument, 0, 'R' },
		{ "cn", required_argument, 0, 'n' },
		{ "kind", required_argument, 0, 'k' },
		{ "dns", required_argument, 0, 'D' },
		{ "days", required_argument, 0, 'd' },
		{ "out", required_argument, 0, 'o' },
		{ "pki", required_argument, 0, 'p' },
		{ "json", no_argument, 0, 'J' },
		{ "ca", required_argument, 0, 1001 },
		{ "cert", required_argument, 0, 1002 },
		{ "key", required_argument, 0, 1003 }, { 0, 0, 0, 0 } };
	int                        ch;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:u:h", lo, NULL)) != -1) {
		switch (ch) {
		case 1001:
			xz_cli_set_tls(optarg, NULL, NULL);
			break;
		case 1002:
			xz_cli_set_tls(NULL, optarg, NULL);
			break;
		case 1003:
			xz_cli_set_tls(NULL, NULL, optarg);
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'u':
			o->url = optarg;
			break;
		case 'U':
			o->user = optarg;
			break;
		case 'P':
			o->password_file = optarg;
			break;
		case 'C':
			xz_cli_set_creds(optarg);
			break;
		case 'N':
			o->name = optarg;
			break;
		case 'A':
			o->agency = optarg;
			break;
		case 'R':
			if (o->nroles == XZ_IDENTITY_MAX_ROLES) {
				fprintf(stderr,
				    xz_text("xiezhi %s: at most %d roles\n"),
				    cmd, XZ_IDENTITY_MAX_ROLES);
				return XZ_EXIT_USAGE;
			}
			o->roles[o->nroles++] = optarg;
			break;
		case 'n':
			o->cn = optarg;
			break;
		case 'k':
			o->kind = optarg;
			break;
		case 'D':
			if (o->ndns == 16) {
				fprintf(stderr,
				    xz_text("xiezhi %s: at most 16 --dns\n"),
				    cmd);
				return XZ_EXIT_USAGE;
			}
			o->dns[o->ndns++] = optarg;
			break;
		case 'd': {
			char *end;
			errno   = 0;
			o->days = strtol(optarg, &end, 10);
			if (errno || *end || o->days < 1 || o->days > 36500) {
				fprintf(stderr,
				    xz_text("xiezhi %s: --days needs "
				            "1..36500, got "
				            "'%s'\n"),
				    cmd, optarg);
				return XZ_EXIT_USAGE;
			}
			break;
		}
		case 'o':
			o->out = optarg;
			break;
		case 'p':
			o->pki = optarg;
			break;
		case 'J':
			o->json = true;
			break;
		case 'h':
			fputs(xz_usage_text(usage), stdout);
			return -1;
		default:
			fputs(xz_usage_text(usage), stderr);
			return XZ_EXIT_USAGE;
		}
	}
	o->argc = argc - optind;
	o->argv = argv + optind;
	return 0;
}

/* ---- passwords ---- */

/* One line of f into buf without its newline: 0, or -1 at EOF. */
static int
read_line(FILE *f, char *buf, size_t len)
{
	if (fgets(buf, (int) len, f) == NULL)
		return -1;
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

/* Ask on the terminal without echo. */
static int
prompt(const char *text, char *buf, size_t len)
{
	FILE          *tty = fopen("/dev/tty", "r+");
	struct termios old, quiet;
	int            rc;

	if (tty == NULL)
		return -1;
	fputs(text, tty);
	fflush(tty);
	tcgetattr(fileno(tty), &old);
	quiet = old;
	quiet.c_lflag &= (tcflag_t) ~ECHO;
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	rc = read_line(tty, buf, len);
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputs("\n", tty);
	fclose(tty);
	return rc;
}

/* The password: from file, else the terminal (twice when confirm), else
 * stdin's first line. 0, or -1 after saying why. */
static int
get_password(const char *cmd, const char *file, const char *user, bool confirm,
    char *buf, size_t len)
{
	char text[160];

	if (file != NULL) {
		FILE *f = fopen(file, "r");
		if (f == NULL || read_line(f, buf, len) != 0) {
			fprintf(stderr,
			    xz_text("xiezhi %s: cannot read a password from "
			            "%s: %s\n"),
			    cmd, file,
			    f ? xz_text("the file is empty")
			      : strerror(errno));
			if (f)
				fclose(f);
			return -1;
		}
		fclose(f);
		return 0;
	}
	if (isatty(STDIN_FILENO)) {
		char again[1100];
		snprintf(
		    text, sizeof(text), xz_text("Password for %s: "), user);
		if (prompt(text, buf, len) != 0) {
			fprintf(stderr,
			    xz_text("xiezhi %s: no password given\n"), cmd);
			return -1;
		}
		if (!confirm)
			return 0;
		if (prompt(xz_text("Again: "), again, sizeof(again)) != 0
		    || strcmp(again, buf) != 0) {
			fprintf(stderr,
			    xz_text("xiezhi %s: the passwords differ\n"), cmd);
			return -1;
		}
		return 0;
	}
	if (read_line(stdin, buf, len) != 0) {
		fprintf(stderr,
		    xz_text("xiezhi %s: no password (give --password-file "
		            "FILE, or "
		            "one line on stdin)\n"),
		    cmd);
		return -1;
	}
	return 0;
}

/* ---- requests ---- */

/* Send topic body; on a good reply *out gets its JSON (caller decrefs).
 * Returns an exit code, after printing any error. */
static int
ask(const char *cmd, xzc_client *c, const char *topic, json_t *body,
    int tmo_ms, json_t **out)
{
	const xzc_msg *r;
	char          *s = json_dumps(body, JSON_COMPACT);
	int            rc;

	*out = NULL;
	json_decref(body);
	if (s == NULL) {
		fprintf(stderr, xz_text("xiezhi %s: out of memory\n"), cmd);
		return 1;
	}
	rc = xzc_request(c, topic, s, strlen(s), tmo_ms, &r);
	free(s);
	if (rc != XZ_OK) {
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "xiezhi %s", cmd);
		return xz_cli_no_reply(prefix, c, rc);
	}
	json_t *v = json_loadb(r->data, r->len, 0, NULL);
	if (r->flags & XZ_MSG_ERROR) {
		json_t     *e = json_object_get(v, "error");
		const char *msg
		    = json_string_value(json_object_get(e, "message"));
		const char *code
		    = json_string_value(json_object_get(e, "code"));
		fprintf(stderr, xz_text("xiezhi %s: %s: %s\n"), cmd,
		    code ? code : "error",
		    msg ? msg : xz_text("(no message)"));
		json_decref(v);
		return xz_cli_exit_for_reply(r);
	}
	if (v == NULL) {
		fprintf(stderr, xz_text("xiezhi %s: the reply is not JSON\n"),
		    cmd);
		return 1;
	}
	*out = v;
	return 0;
}

static void
iso_time(uint64_t ms, char *buf, size_t len)
{
	time_t    t = (time_t) (ms / 1000u);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
roles_text(json_t *roles, char *buf, size_t len)
{
	size_t  i, off = 0;
	json_t *v;
	buf[0] = '\0';
	json_array_foreach(roles, i, v)
	{
		int n = snprintf(buf + off, len - off, "%s%s", i ? "," : "",
		    json_string_value(v) ? json_string_value(v) : "");
		if (n < 0 || (size_t) n >= len - off)
			break;
		off += (size_t) n;
	}
}

/* Write the credentials file: beside it first, 0600, then renamed. */
static int
write_creds(const char *path, json_t *r, const char *url)
{
	char  dir[4096], tmp[4200], exp[32], roles[512];
	FILE *f;
	int   fd;

	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (xz_mkdirs(dir, 0700) != 0)
			return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int) getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	iso_time(
	    (uint64_t) json_integer_value(json_object_get(r, "expires_ms")),
	    exp, sizeof(exp));
	roles_text(json_object_get(r, "roles"), roles, sizeof(roles));
	/* the header comment in the language of LANG; the token block after
	 * it is the same in both */
	fprintf(f,
	    xz_text("# xiezhi credentials, written by `xiezhi login`. Keep "
	            "this file private (0600):\n"
	            "# the token acts as this user until it expires or "
	            "`xiezhi logout` ends it.\n"
	            "# user: %s (%s), agency %s, roles %s\n"
	            "# node: %s\n"
	            "# session: %s, expires %s\n"),
	    json_string_value(json_object_get(r, "user")),
	    json_string_value(json_object_get(r, "name")),
	    json_string_value(json_object_get(r, "agency"))[0]
	        ? json_string_value(json_object_get(r, "agency"))
	        : "-",
	    roles, url, json_string_value(json_object_get(r, "session")), exp);
	fprintf(f, "%s\n%s\n%s\n", XZ_CREDS_BEGIN,
	    json_string_value(json_object_get(r, "token")), XZ_CREDS_END);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
xz_cli_login(int argc, char **argv)
{
	iopts       o;
	xzc_client *c;
	char        pw[1100];
	int     rc = parse("login", &xz_usage_login, argc, argv, &o), named;
	json_t *r;

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (o.user == NULL || o.argc != 0) {
		fputs(xz_usage_text(&xz_usage_login), stderr);
		return XZ_EXIT_USAGE;
	}
	const char *path = xz_cli_creds_path(&named);
	if (path == NULL) {
		fprintf(stderr,
		    xz_text("xiezhi login: no HOME: give --creds FILE or "
		            "XZ_CREDS\n"));
		return XZ_EXIT_USAGE;
	}
	if (get_password(
	        "login", o.password_file, o.user, false, pw, sizeof(pw))
	    != 0)
		return 1;
	char *url = xz_cli_node_url("login", o.config, o.url);
	if (url == NULL
	    || xz_cli_connect_anon("login", o.config, o.url, "login", &c)
	        != 0) {
		free(url);
		return 1;
	}
	/* Hashing takes a fraction of a second (more on a busy machine),
	 * and logins queue. */
	rc = ask("login", c, "xz.sys.auth.login",
	    json_pack("{s:s,s:s}", "user", o.user, "password", pw), 60000, &r);
	memset(pw, 0, sizeof(pw));
	xzc_close(c);
	if (rc == 0) {
		char exp[32], roles[512];
		if (write_creds(path, r, url) != 0) {
			fprintf(stderr,
			    xz_text(
			        "xiezhi login: cannot write %s: %s (the "
			        "session "
			        "stays open on the node until it expires)\n"),
			    path, strerror(errno));
			rc = 1;
		} else {
			iso_time((uint64_t) json_integer_value(
			             json_object_get(r, "expires_ms")),
			    exp, sizeof(exp));
			roles_text(
			    json_object_get(r, "roles"), roles, sizeof(roles));
			printf(
			    xz_text("logged in as %s (%s, %s, %s) until %s; "
			            "credentials in %s\n"),
			    json_string_value(json_object_get(r, "user")),
			    json_string_value(json_object_get(r, "name")),
			    json_string_value(json_object_get(r, "agency")),
			    roles, exp, path);
		}
	}
	json_decref(r);
	free(url);
	return rc;
}

int
xz_cli_logout(int argc, char **argv)
{
	iopts       o;
	xzc_client *c;
	char        tok[512];
	int     rc = parse("logout", &xz_usage_logout, argc, argv, &o), named;
	json_t *r;

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (o.argc != 0) {
		fputs(xz_usage_text(&xz_usage_logout), stderr);
		return XZ_EXIT_USAGE;
	}
	const char *path = xz_cli_creds_path(&named);
	int         got
	    = path ? xz_cli_read_token("logout", path, tok, sizeof(tok)) : 0;
	if (got <= 0) {
		if (got == 0)
			fprintf(stderr,
			    xz_text("xiezhi logout: not logged in (no %s)\n"),
			    path ? path : xz_text("credentials file"));
		return 1;
	}
	if (xz_cli_connect_anon("logout", o.config, o.url, "logout", &c) != 0)
		return 1;
	rc = ask("logout", c, "xz.sys.auth.logout",
	    json_pack("{s:s}", "token", tok), 10000, &r);
	xzc_close(c);
	/* The file goes either way: a session the node no longer knows is
	 * over already. */
	if (unlink(path) != 0)
		fprintf(stderr,
		    xz_text("xiezhi logout: cannot remove %s: %s\n"), path,
		    strerror(errno));
	if (rc == 0)
		printf(xz_text("logged out %s; removed %s\n"),
		    json_string_value(json_object_get(r, "user")), path);
	json_decref(r);
	return rc;
}

/* The role ids of docs/roles.md with what they stand for, for people. */
static const struct {
	const char *id, *en, *zh;
} role_names[] = {
	{ "command_duty", "command-center duty officer", "指挥中心值班民警" },
	{ "duty_leader", "duty leader", "值班领导" },
	{ "area_officer", "area officer", "监区民警" },
	{ "prison_admin", "prison administration", "狱政科民警" },
	{ "prison_leader", "prison leadership", "监狱领导" },
	{ "prison_bureau", "provincial prison bureau", "省监狱管理局" },
	{ "rehab_officer", "rehab-centre officer", "戒毒民警" },
	{ "rehab_evaluator", "diagnosis-evaluation officer", "诊断评估人员" },
	{ "rehab_leader", "rehab-centre leader", "戒毒所领导" },
	{ "hotline_operator", "12348 hotline operator", "12348 接待人员" },
	{ "legal_reviewer", "legal-aid reviewer", "法律援助中心审查人员" },
	{ "legal_head", "legal-aid centre head", "法律援助中心主任" },
	{ "lawyer", "assigned lawyer", "律师/法律援助人员" },
	{ "duty_lawyer", "duty lawyer", "值班律师" },
	{ "justice_bureau", "justice bureau officer", "司法行政部门工作人员" },
	{ "mediator", "people's mediator", "人民调解员" },
	{ "case_clerk", "case-collaboration clerk", "协同办案内勤" },
	{ "kiosk", "self-service kiosk", "自助终端" },
	{ "sensor", "sensor gateway", "前端感知设备" },
	{ "ai_assessor", "AI+AR assessment system", "AI+AR 评估系统" },
	{ "admin", "node administrator", "系统管理员" },
	{ "auditor", "auditor", "审计员" },
	{ "plugin", "plugin", "插件" },
	{ "node", "node", "节点" },
};

/* What role id stands for in the process's language, or NULL. */
static const char *
role_name(const char *id)
{
	for (size_t i = 0;
	     id != NULL && i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (strcmp(role_names[i].id, id) == 0)
			return xz_text_zh() ? role_names[i].zh
			                    : role_names[i].en;
	return NULL;
}

int
xz_cli_whoami(int argc, char **argv)
{
	iopts       o;
	xzc_client *c;
	int         rc = parse("whoami", &xz_usage_whoami, argc, argv, &o);
	json_t     *r;

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (o.argc != 0) {
		fputs(xz_usage_text(&xz_usage_whoami), stderr);
		return XZ_EXIT_USAGE;
	}
	if (xz_cli_connect("whoami", o.config, o.url, "whoami", &c) != 0)
		return 1;
	rc = ask("whoami", c, "xz.sys.auth.whoami", json_object(), 10000, &r);
	xzc_close(c);
	if (rc == 0 && o.json) {
		char *s = json_dumps(r, JSON_COMPACT);
		printf("%s\n", s ? s : "{}");
		free(s);
	} else if (rc == 0) {
		const char *ag
		    = json_string_value(json_object_get(r, "agency"));
		size_t  i;
		json_t *v;
		printf(xz_text("user:   %s\n"),
		    json_string_value(json_object_get(r, "user")));
		printf(xz_text("name:   %s\n"),
		    json_string_value(json_object_get(r, "name")));
		printf(xz_text("agency: %s\n"),
		    ag && ag[0] ? ag : xz_text("(none)"));
		json_array_foreach(json_object_get(r, "roles"), i, v)
		{
			const char *id = json_string_value(v);
			const char *rn = role_name(id);
			if (rn != NULL)
				printf(xz_text("role:   %s (%s)\n"), id, rn);
			else
				printf(xz_text("role:   %s\n"), id ? id : "");
		}
		printf(xz_text("proven: %s\n"),
		    json_string_value(json_object_get(r, "auth")));
	}
	json_decref(r);
	return rc;
}

/* Columns on a terminal: how many a UTF-8 text takes (a CJK character
 * two, any other one). */
static int
text_width(const char *s)
{
	int w = 0;

	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
		if (*p < 0x80)
			w++;
		else if (*p >= 0xe0)
			w += 2; /* 3- and 4-byte sequences: CJK, full width */
		else if (*p >= 0xc0)
			w++;
	return w;
}

/* A table row: texts (NULL-ended), each but the last padded to its
 * width (wider ones keep one space after them). */
static void
cols(FILE *out, const char *const *texts, const int *widths)
{
	for (size_t i = 0; texts[i] != NULL; i++) {
		const char *t = texts[i] ? texts[i] : "";
		fputs(t, out);
		if (texts[i + 1] == NULL)
			break;
		int pad = widths[i] - text_width(t);
		fprintf(out, "%*s", pad > 0 ? pad + 1 : 1, "");
	}
	fputc('\n', out);
}

/* ---- identity user ---- */

static int
user_cmd(const char *op, iopts *o)
{
	xzc_client *c;
	json_t     *body, *r = NULL;
	char        pw[1100] = "", topic[64];
	int         rc;
	const char *who = o->argc > 0 ? o->argv[0] : NULL;

	if (strcmp(op, "list") == 0) {
		if (o->argc != 0)
			goto usage;
		body = json_object();
	} else if (strcmp(op, "add") == 0) {
		if (o->argc != 1 || o->name == NULL || o->nroles == 0)
			goto usage;
		json_t *roles = json_array();
		for (size_t i = 0; i < o->nroles; i++)
			json_array_append_new(roles, json_string(o->roles[i]));
		body = json_pack("{s:s,s:s,s:s,s:o}", "user", who, "name",
		    o->name, "agency", o->agency ? o->agency : "", "roles",
		    roles);
		if (o->password_file != NULL || isatty(STDIN_FILENO)) {
			if (get_password("identity", o->password_file, who,
			        true, pw, sizeof(pw))
			    != 0) {
				json_decref(body);
				return 1;
			}
			json_object_set_new(body, "password", json_string(pw));
		}
	} else if (strcmp(op, "passwd") == 0) {
		if (o->argc != 1)
			goto usage;
		if (get_password("identity", o->password_file, who, true, pw,
		        sizeof(pw))
		    != 0)
			return 1;
		body = json_pack("{s:s,s:s}", "user", who, "password", pw);
	} else if (strcmp(op, "lock") == 0 || strcmp(op, "unlock") == 0) {
		if (o->argc != 1)
			goto usage;
		body = json_pack("{s:s}", "user", who);
	} else {
		goto usage;
	}
	if (xz_cli_connect("identity", o->config, o->url, "identity", &c)
	    != 0) {
		json_decref(body);
		return 1;
	}
	snprintf(topic, sizeof(topic), "xz.sys.identity.user.%s", op);
	rc = ask("identity", c, topic, body, 30000, &r);
	memset(pw, 0, sizeof(pw));
	xzc_close(c);
	if (rc != 0)
		return rc;
	if (strcmp(op, "list") == 0 && !o->json) {
		size_t  i;
		json_t *u;
		cols(stdout,
		    (const char *[]) { xz_text("USER"), xz_text("STATE"),
		        xz_text("AGENCY"), xz_text("SESSIONS"),
		        xz_text("PASSWORD"), xz_text("ROLES / NAME"), NULL },
		    (const int[]) { 12, 8, 12, 8, 8 });
		json_array_foreach(json_object_get(r, "users"), i, u)
		{
			char roles[512], sessions[24], line[1024];
			roles_text(
			    json_object_get(u, "roles"), roles, sizeof(roles));
			const char *ag
			    = json_string_value(json_object_get(u, "agency"));
			const char *st
			    = json_string_value(json_object_get(u, "state"));
			snprintf(sessions, sizeof(sessions), "%lld",
			    (long long) json_integer_value(
			        json_object_get(u, "sessions")));
			snprintf(line, sizeof(line), "%s / %s", roles,
			    json_string_value(json_object_get(u, "name")));
			cols(stdout,
			    (const char *[]) {
			        json_string_value(json_object_get(u, "user")),
			        st ? xz_text(st) : "-", ag && ag[0] ? ag : "-",
			        sessions,
			        json_is_true(
			            json_object_get(u, "has_password"))
			            ? xz_text("set")
			            : xz_text("none"),
			        line, NULL },
			    (const int[]) { 12, 8, 12, 8, 8 });
		}
	} else if (strcmp(op, "list") == 0) {
		char *s = json_dumps(r, JSON_INDENT(2));
		printf("%s\n", s ? s : "{}");
		free(s);
	} else if (strcmp(op, "add") == 0) {
		printf(xz_text("user %s added%s\n"), who,
		    pw[0] || json_object_get(body, "password")
		        ? ""
		        : xz_text(" without a password (set one with `xiezhi "
		                  "identity user passwd`)"));
	} else {
		printf(xz_text("user %s: %s done\n"), who, op);
	}
	json_decref(r);
	return 0;
usage:
	fputs(xz_usage_text(&xz_usage_identity), stderr);
	return XZ_EXIT_USAGE;
}

/* ---- identity ca / cert ---- */

/* The CA folder: --pki, else DATA_DIR/pki of the deployment. */
static int
pki_dir(const iopts *o, char *out, size_t len)
{
	xz_config cfg;

	if (o->pki != NULL) {
		snprintf(out, len, "%s", o->pki);
		return 0;
	}
	if (xz_cli_load_config(
	        o->config ? o->config : xz_cli_default_config(), &cfg)
	    != 0) {
		fprintf(stderr,
		    xz_text("xiezhi identity: cannot read the deployment to "
		            "find its "
		            "data folder (give -c FILE or --pki DIR)\n"));
		return -1;
	}
	snprintf(out, len, "%s/pki", cfg.data_dir);
	xz_config_free(&cfg);
	return 0;
}

static int
ca_cmd(const char *op, iopts *o)
{
	char dir[4096], why[1024], cn[80];

	if (strcmp(op, "init") != 0 || o->argc != 0) {
		fputs(xz_usage_text(&xz_usage_identity), stderr);
		return XZ_EXIT_USAGE;
	}
	if (pki_dir(o, dir, sizeof(dir)) != 0)
		return 1;
	snprintf(cn, sizeof(cn), "%s", o->cn ? o->cn : "xiezhi-node-ca");
	int rc = xz_pki_ca_init(dir, cn, (int) o->days, why, sizeof(why));
	if (rc != XZ_OK) {
		fprintf(stderr, xz_text("xiezhi identity ca init: %s\n"), why);
		return 1;
	}
	printf(
	    xz_text("CA '%s' created: %s/ca.pem (give it to peers), %s/ca.key "
	            "(mode 0600), %s/crl.pem\n"),
	    cn, dir, dir, dir);
	return 0;
}

static int
cert_cmd(const char *op, iopts *o)
{
	char dir[4096], why[1024];

	if (pki_dir(o, dir, sizeof(dir)) != 0)
		return 1;
	if (strcmp(op, "issue") == 0) {
		char serial[41];
		if (o->argc != 0 || o->cn == NULL || o->out == NULL)
			goto usage;
		o->dns[o->ndns]  = NULL;
		const char *kind = o->kind ? o->kind : "client";
		if (xz_pki_issue(dir, o->cn, kind, o->dns, (int) o->days,
		        o->out, serial, why, sizeof(why))
		    != XZ_OK) {
			fprintf(stderr,
			    xz_text("xiezhi identity cert issue: %s\n"), why);
			return 1;
		}
		printf(
		    xz_text(
		        "%s certificate for '%s' (serial %s): %s/%s.pem, key "
		        "%s/%s.key (0600), CA %s/ca.pem\n"),
		    kind, o->cn, serial, o->out, o->cn, o->out, o->cn, o->out);
		return 0;
	}
	if (strcmp(op, "revoke") == 0) {
		int n = 0;
		if (o->argc != 1)
			goto usage;
		if (xz_pki_revoke(dir, o->argv[0], &n, why, sizeof(why))
		    != XZ_OK) {
			fprintf(stderr,
			    xz_text("xiezhi identity cert revoke: %s\n"), why);
			return 1;
		}
		printf(
		    xz_text("revoked %d certificate%s of '%s'; CRL rewritten: "
		            "%s/crl.pem\n"),
		    n, n == 1 || xz_text_zh() ? "" : "s", o->argv[0], dir);
		return 0;
	}
	if (strcmp(op, "list") == 0) {
		xz_pki_cert *v = NULL;
		size_t       n = 0;
		if (o->argc != 0)
			goto usage;
		if (xz_pki_list(dir, &v, &n, why, sizeof(why)) != XZ_OK) {
			fprintf(stderr,
			    xz_text("xiezhi identity cert list: %s\n"), why);
			return 1;
		}
		json_t *arr = json_array();
		if (!o->json)
			cols(stdout,
			    (const char *[]) { xz_text("SERIAL"), "CN",
			        xz_text("KIND"), xz_text("NOT AFTER"),
			        xz_text("STATE"), "SHA-256", NULL },
			    (const int[]) { 32, 20, 6, 20, 8 });
		for (size_t i = 0; i < n; i++) {
			char na[32];
			iso_time(
			    (uint64_t) v[i].not_after * 1000u, na, sizeof(na));
			if (o->json)
				json_array_append_new(arr,
				    json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}",
				        "serial", v[i].serial, "cn", v[i].cn,
				        "kind", v[i].kind, "not_after", na,
				        "sha256", v[i].sha256, "revoked_at",
				        (json_int_t) v[i].revoked_at));
			else
				cols(stdout,
				    (const char *[]) { v[i].serial, v[i].cn,
				        v[i].kind, na,
				        v[i].revoked_at ? xz_text("revoked")
				                        : xz_text("valid"),
				        v[i].sha256, NULL },
				    (const int[]) { 32, 20, 6, 20, 8 });
		}
		if (o->json) {
			char *s = json_dumps(arr, JSON_INDENT(2));
			printf("%s\n", s ? s : "[]");
			free(s);
		}
		json_decref(arr);
		free(v);
		return 0;
	}
usage:
	fputs(xz_usage_text(&xz_usage_identity), stderr);
	return XZ_EXIT_USAGE;
}

int
xz_cli_identity(int argc, char **argv)
{
	iopts o;

	/* xiezhi identity GROUP OP [args]: parse what follows OP. */
	if (argc < 2 || strcmp(argv[1], "--help") == 0
	    || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(xz_usage_text(&xz_usage_identity),
		    argc < 2 ? stderr : stdout);
		return argc < 2 ? XZ_EXIT_USAGE : 0;
	}
	if (argc < 3) {
		fputs(xz_usage_text(&xz_usage_identity), stderr);
		return XZ_EXIT_USAGE;
	}
	/* GROUP OP may come after options (`identity -c FILE user list`):
	 * bring the first two words that are not options or their values to
	 * the front. */
	int words[2], nw = 0;
	for (int i = 1; i < argc && nw < 2; i++) {
		if (argv[i][0] == '-') {
			if (strchr("cu", argv[i][1]) != NULL
			    && argv[i][2] == '\0')
				i++;
			else if (argv[i][1] == '-'
			    && strchr(argv[i], '=') == NULL
			    && strcmp(argv[i], "--json") != 0
			    && strcmp(argv[i], "--help") != 0)
				i++;
			continue;
		}
		words[nw++] = i;
	}
	if (nw < 2) {
		fputs(xz_usage_text(&xz_usage_identity), stderr);
		return XZ_EXIT_USAGE;
	}
	for (int k = 0; k < 2; k++) {
		char *w = argv[words[k]];
		memmove(argv + 2 + k, argv + 1 + k,
		    (size_t) (words[k] - 1 - k) * sizeof(char *));
		argv[1 + k] = w;
	}
	const char *group = argv[1], *op = argv[2];
	int rc = parse("identity", &xz_usage_identity, argc - 2, argv + 2, &o);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (strcmp(group, "user") == 0)
		return user_cmd(op, &o);
	if (strcmp(group, "ca") == 0)
		return ca_cmd(op, &o);
	if (strcmp(group, "cert") == 0)
		return cert_cmd(op, &o);
	fprintf(stderr,
	    xz_text("xiezhi identity: unknown group '%s' (user, ca, cert)\n"),
	    group);
	return XZ_EXIT_USAGE;
}
