/*
 * msg_zh.c - the gateway's texts in 简体中文 (<xiezhi/i18n.h>): its log
 * lines (gw_log_zh, by the node's LANG) and the messages of its HTTP and
 * WebSocket answers (gw_http_zh, by the request's Accept-Language, or by
 * the node's LANG when the request names neither Chinese nor English).
 * Keyed by the English format strings; error codes stay ASCII.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw.h"

const xz_tr gw_log_zh[] = {
	{ "the node refuses to let the gateway act for logged-in users (add "
	  "impersonate = true to its plugin entry): calls now run as the "
	  "gateway",
	    "节点不允许网关代表已登录用户操作（请在其插件条目中加上 "
	    "impersonate = true）：调用现以网关自身身份进行" },
	{ "option tls_cert and tls_key go together (one is empty)",
	    "选项 tls_cert 与 tls_key 须同时给出（其中一个为空）" },
	{ "XZ_GATEWAY_PORT=%s: not listening", "XZ_GATEWAY_PORT=%s：不监听" },
	{ "cannot serve (options listen, port, tls_cert, tls_key): %s",
	    "无法提供服务（选项 listen、port、tls_cert、tls_key）：%s" },
	{ "listening on %s://%s:%lld/ (web %s)",
	    "正在监听 %s://%s:%lld/（网页目录 %s）" },
	{ "%s: not a PEM file", "%s：不是 PEM 文件" },
	{ "cannot listen on %s:%lld: %s", "无法在 %s:%lld 上监听：%s" },
	{ "cannot listen on %s:%lld%s (address in use, or a bad certificate)",
	    "无法在 %s:%lld%s 上监听（地址已被占用，或证书有误）" },
	{ "cannot start the server thread", "无法启动服务线程" },
	{ "out of memory", "内存不足" },
	{ NULL, NULL },
};

const xz_tr gw_http_zh[] = {
	/* sessions and logins */
	{ "login required: POST /api/v1/login, then send the cookie or "
	  "Authorization: Bearer TOKEN",
	    "需要登录：先 POST /api/v1/login，再带上会话 cookie 或 "
	    "Authorization: Bearer TOKEN" },
	{ "unknown or expired session: log in again",
	    "会话不存在或已过期：请重新登录" },
	{ "session expired: log in again", "会话已过期：请重新登录" },
	{ "session ended: log in again", "会话已结束：请重新登录" },
	{ "missing X-CSRF-Token header (a cookie session sends the csrf value "
	  "of its login or /api/v1/me)",
	    "缺少 X-CSRF-Token 请求头（cookie 会话须发送其登录或 /api/v1/me "
	    "返回的 csrf 值）" },
	{ "wrong X-CSRF-Token header (a cookie session sends the csrf value "
	  "of its login or /api/v1/me)",
	    "X-CSRF-Token 请求头不正确（cookie 会话须发送其登录或 /api/v1/me "
	    "返回的 csrf 值）" },
	{ "session token too long", "会话令牌过长" },
	{ "login service: %s", "登录服务：%s" },
	{ "login service (xz.sys.auth.login): %s",
	    "登录服务（xz.sys.auth.login）：%s" },
	{ "wrong user or password", "用户名或密码错误" },
	{ "login service reply without token or expires_ms",
	    "登录服务的应答缺少 token 或 expires_ms" },
	{ "%d failed logins from %s in %lld s: wait",
	    "%d 次登录失败（来自 %s，%lld 秒内）：请稍后再试" },
	{ "body must be {\"user\":\"...\",\"password\":\"...\"}",
	    "请求体应为 {\"user\":\"...\",\"password\":\"...\"}" },
	/* calls */
	{ "topic '%.64s': dotted tokens of [A-Za-z0-9_-], no wildcards",
	    "主题 '%.64s'：应为以点分隔的 [A-Za-z0-9_-] 词段，不能含通配符" },
	{ "body is not a JSON object (line %d column %d: %s)",
	    "请求体不是 JSON 对象（第 %d 行第 %d 列：%s）" },
	{ "not an object", "不是对象" },
	{ "%s: %s", "%s：%s" },
	{ "no responders (no plugin serves this topic)",
	    "无响应方（没有插件提供此主题）" },
	{ "the node is stopping", "节点正在停止" },
	{ "out of memory", "内存不足" },
	/* event streams */
	{ "login required", "需要登录" },
	{ "bad pattern", "模式无效" },
	{ "not allowed to subscribe to this pattern", "无权订阅此模式" },
	{ "query parameter pattern", "缺少查询参数 pattern" },
	{ "too many event clients", "事件客户端过多" },
	{ "WebSocket only on /api/v1/events",
	    "WebSocket 仅在 /api/v1/events 上提供" },
	{ "Origin is not this server (cross-site WebSocket refused)",
	    "Origin 不是本服务器（拒绝跨站 WebSocket）" },
	{ "slow consumer: over %u events or %zu bytes queued unread; re-fetch "
	  "lists and reconnect",
	    "消费过慢：未读事件超过 %u 条或 %zu 字节；请重新获取列表并重连" },
	{ "slow consumer: re-fetch lists and reconnect",
	    "消费过慢：请重新获取列表并重连" },
	/* the server's own refusals */
	{ "no such file", "没有此文件" },
	{ "path traversal refused: the path holds '..', a backslash or a "
	  "control character",
	    "拒绝路径穿越：路径中含有 '..'、反斜杠或控制字符" },
	{ "only GET and POST", "只接受 GET 和 POST" },
	{ "static files: GET", "静态文件只接受 GET" },
	{ "use GET", "请使用 GET" },
	{ "use POST", "请使用 POST" },
	{ "no such API path", "没有此 API 路径" },
	{ "body over max_payload (%lld bytes)",
	    "请求体超过 max_payload（%lld 字节）" },
	/* readiness (/readyz reasons) */
	{ "xz.sys.status did not answer", "xz.sys.status 没有应答" },
	{ "plugin %s is %s", "插件 %s 处于 %s 状态" },
	{ "plugin %s has %lld quarantined script(s)",
	    "插件 %s 有 %lld 个被隔离的脚本" },
	{ "gateway store cannot be opened", "网关存储无法打开" },
	{ "store not writable: %s", "存储不可写：%s" },
	{ NULL, NULL },
};

const char *
gw_text(int lang, const char *en)
{
	if (lang != XZ_LANG_ZH || en == NULL)
		return en;
	for (const xz_tr *t = gw_http_zh; t->en != NULL; t++)
		if (strcmp(t->en, en) == 0)
			return t->zh;
	return en;
}

/* "zh", "zh-CN", "zh_TW"...: the language tag's primary subtag. */
static int
tag_is(const char *tag, size_t n, const char *lang)
{
	size_t l = strlen(lang);
	return n >= l && strncasecmp(tag, lang, l) == 0
	    && (n == l || tag[l] == '-' || tag[l] == '_');
}

int
gw_lang(const char *v)
{
	double zh = -1, en = -1;
	int    first = -1; /* which came first at equal weight */

	for (const char *p = v; p != NULL && *p != '\0';) {
		const char *e = strchr(p, ',');
		size_t      n = e ? (size_t) (e - p) : strlen(p);
		while (n > 0 && (*p == ' ' || *p == '\t'))
			p++, n--;
		size_t tl = 0;
		while (tl < n && p[tl] != ';' && p[tl] != ' ')
			tl++;
		double      q = 1;
		const char *qp
		    = memchr(p, ';', n) ? strstr(p, "q=") : NULL; /* ;q=0.8 */
		if (qp != NULL && qp < p + n)
			q = strtod(qp + 2, NULL);
		if (q > 0 && tag_is(p, tl, "zh") && q > zh) {
			zh = q;
			if (first < 0)
				first = XZ_LANG_ZH;
		} else if (q > 0 && tag_is(p, tl, "en") && q > en) {
			en = q;
			if (first < 0)
				first = XZ_LANG_EN;
		}
		p = e ? e + 1 : NULL;
	}
	if (zh < 0 && en < 0)
		return xz_lang();
	if (zh != en)
		return zh > en ? XZ_LANG_ZH : XZ_LANG_EN;
	return first;
}
