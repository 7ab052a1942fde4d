/*
 * cli_msg.c - the xiezhi command's texts (usage, errors, audit output) in
 * 简体中文.
 *
 * Keys are the English format strings exactly as the code writes them
 * (gettext style); the Chinese keeps every printf conversion in order
 * (tests/unit/test_msg.c checks it). Registered with xz_text_register.
 */
#include "util/msg.h"

const xz_tr xz_cli_zh[] = {
	{ "usage: xiezhi COMMAND [options]\n\ncommands:\n  run     [-c FILE]  "
	  "                    run a node (default config/xiezhi.cfg)\n  "
	  "check   [-c FILE]                      validate config, plugins "
	  "and scripts as run would\n  pub     [-c FILE|-u URL] TOPIC "
	  "[JSON|-] publish (- : one JSON payload per stdin line)\n  sub     "
	  "[-c FILE|-u URL] PATTERN [-n COUNT] [-q GROUP] [-t MS]\n           "
	  "                              print one JSON line per event\n  "
	  "call    [-c FILE|-u URL] TOPIC [JSON] [-t MS]  send a request, "
	  "print the reply\n  status  [-c FILE|-u URL]               plugins, "
	  "queues, counters, drops (JSON)\n  reload  [-c FILE|-u URL] [NAME]  "
	  "      hot-reload a Lua plugin/script (all if no NAME)\n  console "
	  "[-c FILE|-u URL] [-e CHUNK]    Lua console on a running node\n  "
	  "audit   verify|query ...               check or search the "
	  "hash-chained audit trail\n  login   [-c FILE|-u URL] --user NAME   "
	  "log in; the token goes to a credentials file\n  logout  [-c "
	  "FILE|-u URL]               end the session, remove the credentials "
	  "file\n  whoami  [-c FILE|-u URL]               who the node takes "
	  "you for\n  identity user|ca|cert ...              users, the node "
	  "CA, certificates\n  bench   [--json] [-n COUNT]            "
	  "built-in benchmark with raw nng baselines\n  version               "
	  "                 print the version\n\n`xiezhi COMMAND --help` "
	  "describes one command.\nCommands that talk to a node present the "
	  "session token of --creds FILE,\n$XZ_CREDS or "
	  "~/.config/xiezhi/creds when there is one (`xiezhi login`).\n"
	  "A tls+tcp:// node (-u) takes --ca FILE, and --cert FILE --key FILE "
	  "to act as\nthe certificate's principal.\nexit "
	  "codes: 0 ok, 1 error, 2 usage, 3 timeout or no responders\n",
	    "用法：xiezhi 命令 [选项]\n\n命令：\n  run     [-c FILE]          "
	    "            运行节点（默认 config/xiezhi.cfg）\n  check   [-c "
	    "FILE]                      按 run 的方式检查配置、插件和脚本\n  "
	    "pub     [-c FILE|-u URL] TOPIC [JSON|-] 发布事件（- "
	    "：标准输入每行一个 JSON）\n  sub     [-c FILE|-u URL] PATTERN "
	    "[-n COUNT] [-q GROUP] [-t MS]\n                                  "
	    "       每个事件输出一行 JSON\n  call    [-c FILE|-u URL] TOPIC "
	    "[JSON] [-t MS]  发送请求并输出应答\n  status  [-c FILE|-u URL]   "
	    "            插件、队列、计数器、丢弃数（JSON）\n  reload  [-c "
	    "FILE|-u URL] [NAME]        热加载 Lua 插件/脚本（不给 NAME "
	    "则全部）\n  console [-c FILE|-u URL] [-e CHUNK]    运行中节点的 "
	    "Lua 控制台\n  audit   verify|query ...               "
	    "校验或检索哈希链审计记录\n  login   [-c FILE|-u URL] --user NAME "
	    "  登录；令牌写入凭据文件\n  logout  [-c FILE|-u URL]             "
	    "  结束会话，删除凭据文件\n  whoami  [-c FILE|-u URL]             "
	    "  节点认定的当前身份\n  identity user|ca|cert ...              "
	    "用户、节点 CA、证书\n  bench   [--json] [-n COUNT]            "
	    "内置性能测试（含 nng 原始基线）\n  version                       "
	    "         输出版本\n\n`xiezhi 命令 --help` "
	    "说明单个命令。\n与节点通信的命令在有会话令牌时出示它：--creds "
	    "FILE、\n$XZ_CREDS 或 ~/.config/xiezhi/creds（`xiezhi "
	    "login`）。\n"
	    "tls+tcp:// 节点（-u）需要 --ca FILE，并可用 --cert FILE --key "
	    "FILE\n"
	    "以证书的主体身份行事。\n退出码：0 成功，1 错误，2 用法错误，3 "
	    "超时或无响应者\n" },
	{ "usage: xiezhi check [-c FILE]\nValidate the deployment exactly as "
	  "run does before starting anything:\nconfig syntax and keys, "
	  "plugins (open, ABI, options, requires), scripts.\nPrints every "
	  "problem as FILE:LINE: message; exit 0 when all is well.\n",
	    "用法：xiezhi check [-c FILE]\n与 run "
	    "启动前完全相同地检查部署：\n配置语法和键、插件（打开、ABI、选项、"
	    "依赖）、脚本。\n每个问题输出为 文件:行号: "
	    "说明；全部正常时退出码为 0。\n" },
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
	{ "timeout", "超时" },
	{ "no responders", "无响应者" },
	{ NULL, NULL },
};
