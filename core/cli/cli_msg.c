/*
 * cli_msg.c - the xiezhi command's texts (usage, errors, audit output) in
 * 简体中文.
 *
 * Keys are the English format strings exactly as the code writes them
 * (gettext style); the Chinese keeps every printf conversion in order
 * (tests/unit/test_msg.c checks it). Registered with xz_text_register.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/audit_cli.h"
#include "util/msg.h"

const xz_tr xz_cli_zh[] = {
	{ "xiezhi %s: -%c needs a non-negative integer, got '%s'\n",
	    "xiezhi %s：-%c 需要非负整数，实为 '%s'\n" },
	{ "xiezhi %s: payload is not valid JSON: %s (column %d)\n",
	    "xiezhi %s：载荷不是有效的 JSON：%s（第 %d 列）\n" },
	{ "xiezhi: error reply from '%s'\n", "xiezhi：'%s' 返回错误应答\n" },
	{ "xiezhi call: invalid topic '%s'\n",
	    "xiezhi call：无效的主题 '%s'\n" },
	{ "xiezhi pub: invalid topic '%s'\n",
	    "xiezhi pub：无效的主题 '%s'\n" },
	{ "xiezhi pub: stdin line %ld skipped\n",
	    "xiezhi pub：已跳过标准输入第 %ld 行\n" },
	{ "xiezhi pub: %zu published, %d failed\n",
	    "xiezhi pub：已发布 %zu 条，失败 %d 条\n" },
	{ "xiezhi sub: invalid pattern '%s'\n",
	    "xiezhi sub：无效的模式 '%s'\n" },
	{ "xiezhi sub: invalid queue group '%s' (1..64 printable bytes, no "
	  "spaces)\n",
	    "xiezhi sub：无效的队列组 '%s'（1 到 64 "
	    "个可打印字节，不含空格）\n" },
	{ "xiezhi console: no random bytes\n",
	    "xiezhi console：无法取得随机字节\n" },
	{ "%s: ok (node '%s', %zu plugins and scripts enabled)\n",
	    "%s: ok（节点 '%s'，启用了 %zu 个插件和脚本）\n" },
	{ "xiezhi run: cannot open the log file %s: %s\n",
	    "xiezhi run：无法打开日志文件 %s：%s\n" },
	{ "xiezhi run: not starting (see `xiezhi check`)\n",
	    "xiezhi run：未启动（见 `xiezhi check`）\n" },
	{ "xiezhi: unknown command '%s'\n\n%s",
	    "xiezhi：未知命令 '%s'\n\n%s" },
	{ "xiezhi %s: cannot read the deployment to find the node (give -u "
	  "URL or -c FILE)\n",
	    "xiezhi %s：无法读取部署文件以找到节点（请给出 -u URL 或 -c "
	    "FILE）\n" },
	{ "xiezhi %s: cannot read %s: %s\n", "xiezhi %s：无法读取 %s：%s\n" },
	{ "xiezhi %s: warning: %s is readable by others (mode %03o); chmod "
	  "600 it\n",
	    "xiezhi %s：警告：%s 可被他人读取（权限 %03o）；请 chmod 600\n" },
	{ "xiezhi %s: %s holds no session token (run `xiezhi login` again)\n",
	    "xiezhi %s：%s 中没有会话令牌（请重新运行 `xiezhi login`）\n" },
	{ "xiezhi %s: no credentials file %s (run `xiezhi login --creds %s` "
	  "first)\n",
	    "xiezhi %s：没有凭据文件 %s（请先运行 `xiezhi login --creds "
	    "%s`）\n" },
	{ "xiezhi audit %s: -%c needs a %s integer, got '%s'\n",
	    "xiezhi audit %s：-%c 需要%s整数，实为 '%s'\n" },
	{ "xiezhi audit %s: unexpected argument '%s'\n%s",
	    "xiezhi audit %s：多余的参数 '%s'\n%s" },
	{ "xiezhi %s: out of memory\n", "xiezhi %s：内存不足\n" },
	{ "xiezhi %s: the reply is not JSON\n", "xiezhi %s：应答不是 JSON\n" },
	{ "FAIL: checkpoint %lld: record %lld: %s: %s\n",
	    "FAIL: 检查点 %lld：记录 %lld：%s：%s\n" },
	{ "ok: %lld checkpoints match (last signs record %lld",
	    "ok: %lld 个检查点一致（最后一个签署到记录 %lld" },
	{ ", %lld of pruned records", "，其中 %lld 条为已清理记录" },
	{ ")\n", "）\n" },
	{ "xiezhi audit verify: warning: no --key given: the key of the first "
	  "checkpoint was trusted\n",
	    "xiezhi audit verify：警告：未给出 "
	    "--key：已信任第一个检查点的密钥\n" },
	{ "xiezhi audit verify: cannot read %s: %s\n",
	    "xiezhi audit verify：无法读取 %s：%s\n" },
	{ "FAIL: checkpoint 1: record %lld: wiped: the log %s is gone, %s "
	  "signs records up to %lld\n",
	    "FAIL: 检查点 1：记录 %lld：已被清除：日志 %s 不存在，而 %s "
	    "签署了截至 %lld 的记录\n" },
	{ "xiezhi audit verify: cannot open %s: %s\n",
	    "xiezhi audit verify：无法打开 %s：%s\n" },
	{ "xiezhi audit verify: %s is not an audit log (%s)\n",
	    "xiezhi audit verify：%s 不是审计日志（%s）\n" },
	{ "ok: %lld records", "ok: %lld 条记录" },
	{ " (last seq %lld%s)", "（最后序号 %lld%s）" },
	{ ", earlier ones pruned", "，更早的记录已清理" },
	{ "xiezhi audit verify: warning: no head file %s (a cut tail with its "
	  "anchor row would go unnoticed)\n",
	    "xiezhi audit verify：警告：没有头文件 "
	    "%s（连同锚定行一起截掉的尾部将无法发现）\n" },
	{ "FAIL: record %lld: %s: %s\n", "FAIL: 记录 %lld：%s：%s\n" },
	{ "xiezhi audit verify: give -f, or -c/-u, not both\n",
	    "xiezhi audit verify：-f 与 -c/-u 只能给出其一\n" },
	{ "xiezhi audit verify: --offline needs -c FILE\n",
	    "xiezhi audit verify：--offline 需要 -c FILE\n" },
	{ "ok: %lld records\n", "ok: %lld 条记录\n" },
	{ "xiezhi audit query: queries go through the node (so they are "
	  "audited); give -c or -u\n",
	    "xiezhi audit query：查询须经节点进行（以便被审计）；请给出 -c 或 "
	    "-u\n" },
	{ "xiezhi audit query: '%s' is not a time "
	  "(YYYY-MM-DD[THH:MM[:SS[.mmm]]][Z] UTC, or ms)\n",
	    "xiezhi audit query：'%s' "
	    "不是时间（YYYY-MM-DD[THH:MM[:SS[.mmm]]][Z] UTC，或毫秒数）\n" },
	{ "xiezhi audit query: --subject needs TYPE:ID or TYPE\n",
	    "xiezhi audit query：--subject 需要 TYPE:ID 或 TYPE\n" },
	{ "xiezhi audit: unknown subcommand '%s'\n%s",
	    "xiezhi audit：未知子命令 '%s'\n%s" },
	{ "xiezhi audit verify: %s\n", "xiezhi audit verify：%s\n" },
	{ "xiezhi audit verify: %s: %s\n", "xiezhi audit verify：%s：%s\n" },
	{ "xiezhi pub: %s\n", "xiezhi pub：%s\n" },
	{ "xiezhi pub: %s%s\n", "xiezhi pub：%s%s\n" },
	{ "xiezhi sub: subscribing to %s\n", "xiezhi sub：正在订阅 %s\n" },
	{ "xiezhi sub: %s\n", "xiezhi sub：%s\n" },
	/* the line scripts wait for keeps its English words */
	{ "xiezhi sub: ready\n", "xiezhi sub: ready（已就绪）\n" },
	{ "xiezhi %s (plugin ABI %d.%d, nng %s, %s, malloc: %s)\n",
	    "xiezhi %s（插件 ABI %d.%d，nng %s，%s，内存分配：%s）\n" },
	{ "xiezhi %s: %s\n", "xiezhi %s：%s\n" },
	/* ident_cli.c: login, logout, whoami, identity */
	{ "xiezhi %s: at most %d roles\n", "xiezhi %s：最多 %d 个角色\n" },
	{ "xiezhi %s: at most 16 --dns\n", "xiezhi %s：最多 16 个 --dns\n" },
	{ "xiezhi %s: --days needs 1..36500, got '%s'\n",
	    "xiezhi %s：--days 需要 1 到 36500，实为 '%s'\n" },
	{ "xiezhi %s: cannot read a password from %s: %s\n",
	    "xiezhi %s：无法从 %s 读取口令：%s\n" },
	{ "the file is empty", "文件为空" },
	{ "Password for %s: ", "%s 的口令：" },
	{ "Again: ", "再输入一次：" },
	{ "xiezhi %s: no password given\n", "xiezhi %s：未给出口令\n" },
	{ "xiezhi %s: the passwords differ\n",
	    "xiezhi %s：两次输入的口令不同\n" },
	{ "xiezhi %s: no password (give --password-file FILE, or one line on "
	  "stdin)\n",
	    "xiezhi %s：没有口令（请给出 --password-file "
	    "FILE，或在标准输入给出一行）\n" },
	{ "xiezhi %s: %s: %s\n", "xiezhi %s：%s：%s\n" },
	{ "(no message)", "（无说明）" },
	{ "xiezhi login: no HOME: give --creds FILE or XZ_CREDS\n",
	    "xiezhi login：没有 HOME：请给出 --creds FILE 或 XZ_CREDS\n" },
	{ "xiezhi login: cannot write %s: %s (the session stays open on the "
	  "node until it expires)\n",
	    "xiezhi login：无法写入 "
	    "%s：%s（该会话在节点上保持打开，直至过期）\n" },
	{ "logged in as %s (%s, %s, %s) until %s; credentials in %s\n",
	    "已登录为 %s（%s，%s，%s），有效期至 %s；凭据在 %s\n" },
	{ "xiezhi logout: not logged in (no %s)\n",
	    "xiezhi logout：未登录（没有 %s）\n" },
	{ "credentials file", "凭据文件" },
	{ "xiezhi logout: cannot remove %s: %s\n",
	    "xiezhi logout：无法删除 %s：%s\n" },
	{ "logged out %s; removed %s\n", "%s 已退出登录；已删除 %s\n" },
	{ "user:   %s\n", "用户：%s\n" },
	{ "name:   %s\n", "姓名：%s\n" },
	{ "agency: %s\n", "机构：%s\n" },
	{ "(none)", "（无）" },
	{ "role:   %s (%s)\n", "角色：%s（%s）\n" },
	{ "role:   %s\n", "角色：%s\n" },
	{ "proven: %s\n", "认证：%s\n" },
	{ "USER", "用户" },
	{ "STATE", "状态" },
	{ "AGENCY", "机构" },
	{ "SESSIONS", "会话数" },
	{ "PASSWORD", "口令" },
	{ "ROLES / NAME", "角色 / 姓名" },
	{ "active", "正常" },
	{ "locked", "已锁定" },
	{ "set", "已设置" },
	{ "none", "无" },
	{ "user %s added%s\n", "用户 %s 已添加%s\n" },
	{ " without a password (set one with `xiezhi identity user passwd`)",
	    "，未设口令（用 `xiezhi identity user passwd` 设置）" },
	{ "user %s: %s done\n", "用户 %s：%s 已完成\n" },
	{ "xiezhi identity: cannot read the deployment to find its data "
	  "folder (give -c FILE or --pki DIR)\n",
	    "xiezhi identity：无法读取部署文件以找到其数据目录（请给出 -c "
	    "FILE "
	    "或 --pki DIR）\n" },
	{ "xiezhi identity ca init: %s\n", "xiezhi identity ca init：%s\n" },
	{ "CA '%s' created: %s/ca.pem (give it to peers), %s/ca.key (mode "
	  "0600), %s/crl.pem\n",
	    "CA '%s' 已创建：%s/ca.pem（交给对端），%s/ca.key（权限 "
	    "0600），%s/crl.pem\n" },
	{ "xiezhi identity cert issue: %s\n",
	    "xiezhi identity cert issue：%s\n" },
	{ "%s certificate for '%s' (serial %s): %s/%s.pem, key %s/%s.key "
	  "(0600), CA %s/ca.pem\n",
	    "%s 证书已签发给 '%s'（序列号 %s）：%s/%s.pem，私钥 "
	    "%s/%s.key（0600），CA %s/ca.pem\n" },
	{ "xiezhi identity cert revoke: %s\n",
	    "xiezhi identity cert revoke：%s\n" },
	{ "revoked %d certificate%s of '%s'; CRL rewritten: %s/crl.pem\n",
	    "已吊销 %d 个证书%s（'%s'）；CRL 已重写：%s/crl.pem\n" },
	{ "xiezhi identity cert list: %s\n",
	    "xiezhi identity cert list：%s\n" },
	{ "SERIAL", "序列号" },
	{ "KIND", "类型" },
	{ "NOT AFTER", "有效期至" },
	{ "revoked", "已吊销" },
	{ "valid", "有效" },
	{ "xiezhi identity: unknown group '%s' (user, ca, cert)\n",
	    "xiezhi identity：未知的分组 '%s'（user、ca、cert）\n" },
	/* the header of a credentials file (ident_cli.c) */
	{ "# xiezhi credentials, written by `xiezhi login`. Keep this file "
	  "private (0600):\n"
	  "# the token acts as this user until it expires or `xiezhi logout` "
	  "ends it.\n"
	  "# user: %s (%s), agency %s, roles %s\n"
	  "# node: %s\n"
	  "# session: %s, expires %s\n",
	    "# xiezhi 登录凭据，由 `xiezhi login` 写入。请妥善保管本文件"
	    "（权限 0600）：\n"
	    "# 在令牌过期或 `xiezhi logout` "
	    "注销前，持有该令牌即以此用户身份操作。\n"
	    "# 用户：%s（%s），机构 %s，角色 %s\n"
	    "# 节点：%s\n"
	    "# 会话：%s，%s 到期\n" },
	{ "xiezhi audit reset: give --store NAME and --reason TEXT (the "
	  "reason goes into the audit record)\n",
	    "xiezhi audit reset：请给出 --store NAME 和 --reason "
	    "TEXT（原因记入审计记录）\n" },
	{ "reset: store '%s' (identity %s) by %s, on record; %s\n",
	    "已重置：存储 '%s'（标识 %s），操作人 %s，已记录；%s\n" },
	{ "restart the node: the plugin starts with an empty store",
	    "请重启节点：该插件将以空存储启动" },
	{ "FAIL: record %lld: reset not anchored: no checkpoint after the "
	  "reset signs its record yet (one comes every anchor_every records, "
	  "anchor_interval_s seconds and at stop)\n",
	    "失败：记录 %lld：重置未锚定：重置之后还没有检查点签署其记录（每 "
	    "anchor_every 条记录、每 anchor_interval_s "
	    "秒以及停止时各签一个）\n" },
	{ "reset: checkpoints 1..%lld sign the log before the recorded reset "
	  "(record %lld, time %lld, by %s: %s)\n",
	    "重置：检查点 1..%lld 签署的是有记录的重置之前的日志（记录 %lld，"
	    "时间 %lld，操作人 %s：%s）\n" },
	{ NULL, NULL },
};

/* The sentences the audit chain library (plugins/common/chain: chain.c,
 * anchor.c) writes into a verdict's detail, and its reason codes, in
 * 简体中文. The library is shared with the audit plugin and stays
 * English; `xiezhi audit verify` puts what it prints into the reader's
 * language here (xz_cli_audit_text), keyed by the library's English
 * formats (tests/unit/test_msg.c checks each key is still a text of the
 * library and each verdict sentence of the library is here). */
const xz_tr xz_audit_zh[] = {
	/* reason codes (stay as they are; the Chinese follows in brackets) */
	{ "edited", "被修改" },
	{ "deleted", "被删除" },
	{ "reordered", "顺序被打乱" },
	{ "truncated", "被截断" },
	{ "inserted", "被插入" },
	{ "malformed", "格式错误" },
	{ "signature", "签名无效" },
	{ "rekeyed", "密钥被更换" },
	{ "rewritten", "被重写" },
	{ "unanchored", "未锚定" },
	/* chain.c */
	{ "record %lld holds the record written as %lld",
	    "记录 %lld 的位置上是原写为 %lld 的记录" },
	{ "record %lld is the record written as %lld: %lld record(s) before "
	  "it were deleted and the rest renumbered",
	    "记录 %lld 是原写为 %lld 的记录：其前 %lld "
	    "条记录被删除，其余被重新编号" },
	{ "record %lld does not match its hash (a field was changed)",
	    "记录 %lld 与其哈希不符（有字段被改动）" },
	{ "the chain should continue the pruned prefix at record %lld, but "
	  "starts at %lld",
	    "链应在记录 %lld 处接续已清理的前段，实际却从 %lld 开始" },
	{ "record %lld is missing (next present: %lld)",
	    "记录 %lld 缺失（下一条现存记录：%lld）" },
	{ "record %lld does not follow %s", "记录 %lld 未接续%s" },
	{ "the pruned prefix's checkpoint", "已清理前段的检查点" },
	{ "the start of the chain", "链的起点" },
	{ "record %lld's hash was changed (record %lld still links to the "
	  "original)",
	    "记录 %lld 的哈希被改动（记录 %lld 仍链接到原哈希）" },
	{ "records 1..%lld are gone but no PRUNE record in the chain accounts "
	  "for them",
	    "记录 1..%lld 已不存在，但链中没有说明其清理的 PRUNE 记录" },
	{ "the log ends at record %lld but its anchor says %lld",
	    "日志止于记录 %lld，但其锚点行记为 %lld" },
	{ "records after %lld were added outside the audit plugin (the "
	  "anchor ends there)",
	    "记录 %lld 之后的记录是在审计插件之外添加的（锚点行止于该处）" },
	{ "record %lld differs from the anchor's hash",
	    "记录 %lld 与锚点行的哈希不符" },
	{ "the anchor row is missing (the log ends at record %lld)",
	    "锚点行缺失（日志止于记录 %lld）" },
	{ "the log ends at record %lld, the anchor row is missing and the "
	  "head file says %lld",
	    "日志止于记录 %lld，锚点行缺失，而头文件记为 %lld" },
	{ "the log ends at record %lld but the head file says %lld",
	    "日志止于记录 %lld，但头文件记为 %lld" },
	{ "record %lld differs from the head file's hash (the chain was "
	  "rewritten from there or before)",
	    "记录 %lld 与头文件中的哈希不符（链自该处或更早处被重写）" },
	{ "cannot read the audit log: %s", "无法读取审计日志：%s" },
	{ "head file %s is malformed", "头文件 %s 格式错误" },
	/* anchor.c */
	{ "record %lld: the reset is not anchored: no checkpoint after it "
	  "signs its record yet",
	    "记录 %lld：该重置未锚定：重置之后尚无检查点签署其记录" },
	{ "cannot read %s: %s", "无法读取 %s：%s" },
	{ "%s is empty", "%s 为空" },
	{ "%s: not a public key (64 hex digits expected)",
	    "%s：不是公钥（应为 64 位十六进制数字）" },
	{ "%s: not an anchor key (64 hex digits expected)",
	    "%s：不是锚点密钥（应为 64 位十六进制数字）" },
	{ "checkpoint %lld (line %lld of %s) is not a checkpoint line",
	    "检查点 %lld（第 %lld 行，%s）不是检查点行" },
	{ "checkpoint %lld (record %lld): the signature does not verify (the "
	  "line was altered or forged)",
	    "检查点 %lld（记录 %lld）：签名验证失败（该行被改动或伪造）" },
	{ "checkpoint %lld (record %lld) is signed by another key than the "
	  "node's",
	    "检查点 %lld（记录 %lld）由节点以外的密钥签署" },
	{ "checkpoint %lld (record %lld) goes back from record %lld: the "
	  "chain was restarted or the sink reordered",
	    "检查点 %lld（记录 %lld）从记录 %lld "
	    "倒退：链被重新开始，或存放文件的顺序被打乱" },
	{ "checkpoint %lld signs record %lld but the log ends at record %lld "
	  "(cut or wiped)",
	    "检查点 %lld 签署了记录 %lld，但日志止于记录 "
	    "%lld（被截断或清除）" },
	{ "checkpoint %lld signs record %lld, which is missing from the log",
	    "检查点 %lld 签署了记录 %lld，但日志中没有该记录" },
	{ "checkpoint %lld signs record %lld with hash %.16s..., the log has "
	  "%.16s...: the chain was rewritten at or before record %lld",
	    "检查点 %lld 签署的记录 %lld 的哈希为 %.16s...，日志中为 "
	    "%.16s...：链在记录 %lld 或更早处被重写" },
	{ "%s has no checkpoints", "%s 中没有检查点" },
	{ NULL, NULL },
};

/* One argument of a matched sentence: where it is in the text. */
typedef struct cap {
	const char *at;
	size_t      len;
} cap;

/* The conversion at f ('%' not "%%"): its length, its letter in *conv and
 * its precision (for "%.16s") in *prec, -1 when none. */
static size_t
conv_at(const char *f, char *conv, int *prec)
{
	size_t      k   = 1 + strspn(f + 1, "-+ #0123456789.*hlzjtL");
	const char *dot = memchr(f, '.', k);

	*conv = f[k];
	*prec = dot != NULL ? atoi(dot + 1) : -1;
	return k + 1;
}

/* Does text s match format f? The arguments go to c[n..]; returns how
 * many there are in all, or -1. %d-like conversions take digits, %s any
 * text (the shortest that lets the rest match). */
static int
match(const char *f, const char *s, cap *c, int n, int max)
{
	while (*f != '\0' && *f != '%') {
		if (*f++ != *s++)
			return -1;
	}
	if (*f == '\0')
		return *s == '\0' ? n : -1;
	if (f[1] == '%')
		return *s == '%' ? match(f + 2, s + 1, c, n, max) : -1;
	if (n >= max)
		return -1;
	char   conv;
	int    prec;
	size_t k = conv_at(f, &conv, &prec);
	size_t l = strlen(s), lo = 0, hi = l;
	if (conv == 'd' || conv == 'i' || conv == 'u') {
		lo = *s == '-' ? 1 : 0;
		hi = lo;
		while (s[hi] >= '0' && s[hi] <= '9')
			hi++;
		if (hi == lo)
			return -1;
		lo = hi; /* every digit */
	} else if (conv != 's') {
		return -1;
	} else if (prec >= 0 && hi > (size_t) prec) {
		hi = (size_t) prec;
	}
	for (size_t len = lo; len <= hi; len++) {
		int r = match(f + k, s + len, c, n + 1, max);
		if (r >= 0) {
			c[n].at  = s;
			c[n].len = len;
			return r;
		}
	}
	return -1;
}

/* Append n bytes of p to out (len bytes, *o used), cut to fit. */
static void
put(char *out, size_t len, size_t *o, const char *p, size_t n)
{
	if (*o + n >= len)
		n = len - *o - 1;
	memcpy(out + *o, p, n);
	*o += n;
	out[*o] = '\0';
}

const char *
xz_cli_audit_text(const char *en, char *out, size_t len)
{
	cap c[8];

	if (en == NULL || len == 0 || !xz_text_zh())
		return en;
	for (const xz_tr *t = xz_audit_zh; t->en != NULL; t++) {
		int n = match(t->en, en, c, 0, 8), i = 0;
		if (n < 0)
			continue;
		size_t o = 0;
		out[0]   = '\0';
		for (const char *z = t->zh; *z != '\0';) {
			const char *pc = strchr(z, '%');
			if (pc == NULL) {
				put(out, len, &o, z, strlen(z));
				break;
			}
			put(out, len, &o, z, (size_t) (pc - z));
			if (pc[1] == '%') {
				put(out, len, &o, "%", 1);
				z = pc + 2;
				continue;
			}
			char conv;
			int  prec;
			z = pc + conv_at(pc, &conv, &prec);
			if (i < n) {
				/* an argument that is a text of the catalog
				 * itself ("the start of the chain") */
				char arg[256];
				snprintf(arg, sizeof(arg), "%.*s",
				    (int) c[i].len, c[i].at);
				const char *a = xz_tr_lookup(xz_audit_zh, arg);
				put(out, len, &o, a, strlen(a));
				i++;
			}
		}
		return out;
	}
	return en;
}

const char *
xz_cli_audit_reason(const char *code, char *out, size_t len)
{
	const char *zh;

	if (code == NULL || len == 0 || !xz_text_zh()
	    || (zh = xz_tr_lookup(xz_audit_zh, code)) == code)
		return code;
	snprintf(out, len, "%s（%s）", code, zh);
	return out;
}
