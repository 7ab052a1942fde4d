/*
 * config_msg.c - the config layer's texts (xiezhi check, config errors) in
 * 简体中文.
 *
 * Keys are the English format strings exactly as the code writes them
 * (gettext style); the Chinese keeps every printf conversion in order
 * (tests/unit/test_msg.c checks it). Registered with xz_text_register.
 */
#include "util/msg.h"

const xz_tr xz_config_zh[] = {
	{ "out of memory", "内存不足" },
	{ " (did you mean '%s'?)", "（是否应为 '%s'？）" },
	{ "%s: invalid URL '%s' (must start with ipc://, tcp://, tls+tcp:// "
	  "or inproc://)",
	    "%s：无效的 URL '%s'（应以 ipc://、tcp://、tls+tcp:// 或 "
	    "inproc:// 开头）" },
	{ "%s: invalid URL '%s' (nothing after %s)",
	    "%s：无效的 URL '%s'（%s 之后没有内容）" },
	{ "%s: invalid URL '%s' (ipc path longer than 107 bytes)",
	    "%s：无效的 URL '%s'（ipc 路径超过 107 字节）" },
	{ "%s: invalid URL '%s' (%s needs HOST:PORT)",
	    "%s：无效的 URL '%s'（%s 需要 主机:端口）" },
	{ "%s%s must be an integer, got %s", "%s%s 应为整数，实为 %s" },
	{ "%s = %s does not fit in a 32-bit integer, which is how a number "
	  "without the suffix L is read: write %sL",
	    "%s = %s 超出 32 位整数范围（不带后缀 L 的数按 32 位读取）："
	    "请写作 %sL" },
	{ "%s%s must be between %lld and %lld, got %lld",
	    "%s%s 应在 %lld 与 %lld 之间，实为 %lld" },
	{ "%s%s must be a boolean, got %s", "%s%s 应为布尔值，实为 %s" },
	{ "%s%s must be a string, got %s", "%s%s 应为字符串，实为 %s" },
	{ "%s%s must not be empty", "%s%s 不能为空" },
	{ "%s%s must be an array of strings, got %s",
	    "%s%s 应为字符串数组，实为 %s" },
	{ "%s%s[%d] must be a string, got %s",
	    "%s%s[%d] 应为字符串，实为 %s" },
	{ "%s%s[%d] must not be empty", "%s%s[%d] 不能为空" },
	{ "unknown setting '%s' in %s%s", "未知设置 '%s'，位于 %s%s" },
	{ "%s must be a group, got %s", "%s 应为组，实为 %s" },
	{ "%s%s: cannot read %s", "%s%s：无法读取 %s" },
	{ "%s must not be empty", "%s 不能为空" },
	{ "%surl is required", "%surl 为必填项" },
	{ "%stls must be a group, got %s", "%stls 应为组，实为 %s" },
	{ "%s must be a URL string or a group, got %s",
	    "%s 应为 URL 字符串或组，实为 %s" },
	{ "%s: '%s': the CLI cannot dial tls+tcp:// (it has no certificate); "
	  "use ipc://",
	    "%s：'%s'：命令行工具无法连接 tls+tcp://（它没有证书）；请使用 "
	    "ipc://" },
	{ "%stls applies only to tls+tcp:// URLs, not '%s'",
	    "%stls 只适用于 tls+tcp:// 地址，不适用于 '%s'" },
	{ "%s: '%s' is an insecure door (no encryption, no authentication: "
	  "whoever reaches it may call every topic, the Lua console "
	  "included); use ipc:// or tls+tcp:// with tls = { ca; cert; key; }, "
	  "or write { url = \"%s\"; insecure = true; } to accept the risk",
	    "%s：'%s' "
	    "是不安全的入口（不加密、不认证：任何能连到它的人都可以调用所有主"
	    "题，包括 Lua 控制台）；请使用 ipc:// 或带 tls = { ca; cert; key; "
	    "} 的 tls+tcp://，或写 { url = \"%s\"; insecure = true; } "
	    "表示接受该风险" },
	{ "%s: '%s' is an insecure door (insecure = true): no encryption, no "
	  "authentication",
	    "%s：'%s' 是不安全的入口（insecure = true）：不加密、不认证" },
	{ "%s: '%s' needs tls.cert and tls.key (the node's certificate and "
	  "key, PEM), and tls.ca to require client certificates",
	    "%s：'%s' 需要 tls.cert 和 tls.key（节点的证书和私钥，PEM "
	    "格式），要求客户端证书还需 tls.ca" },
	{ "%s: '%s' requires no client certificate (no tls.ca): whoever "
	  "reaches it may call every topic; add tls.ca, or insecure = true to "
	  "accept the risk",
	    "%s：'%s' 不要求客户端证书（没有 "
	    "tls.ca）：任何能连到它的人都可以调用所有主题；请添加 "
	    "tls.ca，或写 insecure = true 表示接受该风险" },
	{ "%s: '%s' is an insecure door (insecure = true): no client "
	  "certificate required",
	    "%s：'%s' 是不安全的入口（insecure = true）：不要求客户端证书" },
	{ "node.log_file: '%s' is a folder", "node.log_file：'%s' 是文件夹" },
	{ "node.log_file: cannot write '%s': %s",
	    "node.log_file：无法写入 '%s'：%s" },
	{ "node.log_file: the folder '%s' does not exist",
	    "node.log_file：文件夹 '%s' 不存在" },
	{ "node.log_file: '%s' is not a folder",
	    "node.log_file：'%s' 不是文件夹" },
	{ "node.log_file: cannot create '%s': %s",
	    "node.log_file：无法创建 '%s'：%s" },
	{ "missing required section 'node'", "缺少必需的 'node' 部分" },
	{ "node.name '%s' is invalid (must match [a-z0-9_-]{1,63})",
	    "node.name '%s' 无效（应匹配 [a-z0-9_-]{1,63}）" },
	{ "node.name is required", "node.name 为必填项" },
	{ "node.log_level must be one of error, warn, info, debug, got '%s'",
	    "node.log_level 应为 error、warn、info、debug 之一，实为 '%s'" },
	{ "node.log_format must be one of text, json, got '%s'",
	    "node.log_format 应为 text、json 之一，实为 '%s'" },
	{ "node.test_clock = true: any client may move this node's clock "
	  "(xz.sys.clock.advance) and with it every SLA and statutory "
	  "deadline; for tests only",
	    "node.test_clock = "
	    "true：任何客户端都可以拨动本节点的时钟（xz.sys.clock."
	    "advance），从而改变所有时限和法定期限；仅供测试使用" },
	{ "bus.listen must be an array of URLs or a list of doors, got %s",
	    "bus.listen 应为 URL 数组或入口列表，实为 %s" },
	{ "bus.best_effort[%d]: invalid topic pattern '%s'",
	    "bus.best_effort[%d]：无效的主题模式 '%s'" },
	{ "bus.durable[%d]: invalid topic pattern '%s'",
	    "bus.durable[%d]：无效的主题模式 '%s'" },
	{ "auth.login_backoff_max_ms must not be below auth.login_backoff_ms",
	    "auth.login_backoff_max_ms 不能小于 auth.login_backoff_ms" },
	{ "nothing: no node.plugin_path and no built-in plugin directory",
	    "无：没有 node.plugin_path，也没有内置插件目录" },
	{ "%s: cannot find %s (tried %s)", "%s：找不到 %s（已尝试 %s）" },
	{ "%s[%d] must be a group, got %s", "%s[%d] 应为组，实为 %s" },
	{ "%s name '%s' is invalid (must match [a-z][a-z0-9_-]{0,62})",
	    "%s 名称 '%s' 无效（应匹配 [a-z][a-z0-9_-]{0,62}）" },
	{ "%s: name is required", "%s：name 为必填项" },
	{ "duplicate name '%s' (first declared at %s:%d)",
	    "名称 '%s' 重复（首次声明于 %s:%d）" },
	{ "%skind must be \"so\" or \"lua\", got \"%s\"",
	    "%skind 应为 \"so\" 或 \"lua\"，实为 \"%s\"" },
	{ "%skind is required (\"so\" or \"lua\")",
	    "%skind 为必填项（\"so\" 或 \"lua\"）" },
	{ "%spath is required%s", "%spath 为必填项%s" },
	{ "%slua must be a group, got %s", "%slua 应为组，实为 %s" },
	{ "%slua limits apply to Lua plugins and scripts, not to a kind = "
	  "\"so\" plugin",
	    "%slua 限制只适用于 Lua 插件和脚本，不适用于 kind = \"so\" "
	    "的插件" },
	{ "%soptions must be a group, got %s", "%soptions 应为组，实为 %s" },
	{ "%sgrants must be a group { publish = [...]; subscribe = [...]; }, "
	  "got %s",
	    "%sgrants 应为组 { publish = [...]; subscribe = [...]; }，实为 "
	    "%s" },
	{ "%s must be a list, got %s", "%s 应为列表，实为 %s" },
	{ "auth.%s[%d] must be a group, got %s",
	    "auth.%s[%d] 应为组，实为 %s" },
	{ "%scn is required", "%scn 为必填项" },
	{ "%sgive uid or gid, not both", "%s只能给出 uid 或 gid 之一" },
	{ "%suid or gid is required", "%suid 或 gid 为必填项" },
	{ "%suser '%s' is invalid (must match [a-z0-9_:.-]{1,63})",
	    "%suser '%s' 无效（应匹配 [a-z0-9_:.-]{1,63}）" },
	{ "%suser is required", "%suser 为必填项" },
	{ "%sroles[%d] '%s' is invalid (must match [a-z0-9_:.-]{1,63})",
	    "%sroles[%d] '%s' 无效（应匹配 [a-z0-9_:.-]{1,63}）" },
	{ "%sroles is required (a list of role ids)",
	    "%sroles 为必填项（角色编号列表）" },
	{ "%s%s[%d] '%s' is not a valid topic pattern (dot-separated tokens; "
	  "'*' one token, '>' the rest)",
	    "%s%s[%d] '%s' 不是有效的主题模式（以点分隔的词；'*' "
	    "匹配一个词，'>' 匹配其余全部）" },
	{ "%s%s must be a group { allow = [...]; deny = [...]; }, got %s",
	    "%s%s 应为组 { allow = [...]; deny = [...]; }，实为 %s" },
	{ "auth.roles must be a group { role = { ... }; }, got %s",
	    "auth.roles 应为组 { role = { ... }; }，实为 %s" },
	{ "auth.roles: role id '%s' is invalid (must match [a-z0-9_.-]{1,63})",
	    "auth.roles：角色编号 '%s' 无效（应匹配 [a-z0-9_.-]{1,63}）" },
	{ "auth.roles.%s must be a group, got %s",
	    "auth.roles.%s 应为组，实为 %s" },
	{ "auth.%s must be a list ( { ... }, ... ), got %s",
	    "auth.%s 应为列表 ( { ... }, ... )，实为 %s" },
	{ "cannot open include file '%s' (tried %s/%s)",
	    "无法打开包含文件 '%s'（已尝试 %s/%s）" },
	{ "cannot read %s: %s", "无法读取 %s：%s" },
	{ "unknown section '%s' (expected node, bus, lua, plugins, scripts, "
	  "auth or links)%s",
	    "未知部分 '%s'（应为 node、bus、lua、plugins、scripts、auth 或 "
	    "links）%s" },
	{ "%s: out of memory", "%s：内存不足" },
	{ "%s: option '%s' must be %s %s, got %s",
	    "%s：选项 '%s' 应为%s%s，实为 %s" },
	{ "%s: option '%s' has an unknown type %d (a bug in the plugin)",
	    "%s：选项 '%s' 的类型 %d 未知（插件的缺陷）" },
	{ "%s: option '%s' has an invalid default '%s' for type %s (a bug in "
	  "the plugin)",
	    "%s：选项 '%s' 的默认值 '%s' 不符合类型 %s（插件的缺陷）" },
	{ "%s: missing required option '%s' (%s)",
	    "%s：缺少必需的选项 '%s'（%s）" },
	{ "%s: unknown option '%s'%s", "%s：未知选项 '%s'%s" },
	{ "group", "组" },
	{ "integer", "整数" },
	{ "float", "浮点数" },
	{ "number", "数值" },
	{ "string", "字符串" },
	{ "boolean", "布尔值" },
	{ "array", "数组" },
	{ "list", "列表" },
	{ "nothing", "无" },
	{ "syntax error", "语法错误" },
	{ "parse error", "解析错误" },
	{ "cannot open include file", "无法打开包含文件" },
	{ "node.socket_owner must be a user name or a uid (0..2147483647), "
	  "got %lld",
	    "node.socket_owner 应为用户名或 uid（0..2147483647），实为 %lld" },
	{ "node.socket_owner must be a user name or a uid, got %s",
	    "node.socket_owner 应为用户名或 uid，实为 %s" },
	{ "node.socket_owner: no user named '%s' on this host",
	    "node.socket_owner：本机没有名为 '%s' 的用户" },
	{ "node.socket_group must be a group name or a gid (0..2147483647), "
	  "got %lld",
	    "node.socket_group 应为组名或 gid（0..2147483647），实为 %lld" },
	{ "node.socket_group must be a group name or a gid, got %s",
	    "node.socket_group 应为组名或 gid，实为 %s" },
	{ "node.socket_group: no group named '%s' on this host",
	    "node.socket_group：本机没有名为 '%s' 的组" },
	{ "node.socket_mode must be octal digits from \"0600\" to \"0666\" "
	  "with the owner's read and write (no execute bits), got '%s'",
	    "node.socket_mode 应为 \"0600\" 到 \"0666\" "
	    "之间的八进制数字，须含属主读写权限（不含执行位），实为 '%s'" },
	{ NULL, NULL },
};
