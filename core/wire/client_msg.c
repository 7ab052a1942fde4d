/*
 * client_msg.c - the client library's error texts (xzc_errmsg, xzc_open's
 * err, the link client's `why`) in 简体中文, chosen by the process's
 * LC_ALL / LC_MESSAGES / LANG (<xiezhi/i18n.h>). Keys are the English
 * format strings exactly as xzclient.c and client.c write them; the
 * Chinese keeps every printf conversion in order (tests/unit/test_msg.c
 * checks it, tests/integration/t_msg_keys.sh that every key is used).
 * Hidden: the shared library exports only the xzc_* calls.
 */
#include <nng/nng.h>

#include "wire/client.h"

const xz_tr xz_client_zh[] = {
	/* xzc_open */
	{ "no URL given", "未给出 URL" },
	{ "xzc_options.struct_size is not set (use XZC_OPTIONS_INIT)",
	    "未设置 xzc_options.struct_size（请用 XZC_OPTIONS_INIT）" },
	{ "invalid client name '%s' (1..%d of A-Z a-z 0-9 _ - .)",
	    "无效的客户端名称 '%s'（应为 1 到 %d 个 A-Z a-z 0-9 _ - . "
	    "字符）" },
	{ "connect_timeout_ms must not be negative",
	    "connect_timeout_ms 不能为负数" },
	{ "invalid token (1..%d of A-Z a-z 0-9 _ - .; a session token from "
	  "`xiezhi login`)",
	    "无效的令牌（应为 1 到 %d 个 A-Z a-z 0-9 _ - . 字符；即 `xiezhi "
	    "login` 得到的会话令牌）" },
	{ "TLS options given for %s, which is not a tls+tcp:// URL",
	    "为 %s 给出了 TLS 选项，但它不是 tls+tcp:// URL" },
	{ "%s: tls+tcp:// needs tls_ca_file (the CA the node's certificate "
	  "must chain to)",
	    "%s：tls+tcp:// 需要 tls_ca_file（节点证书须链接到的 CA）" },
	{ "tls_key_file given without tls_cert_file",
	    "给出了 tls_key_file 却没有 tls_cert_file" },
	{ "cannot read %s: %s", "无法读取 %s：%s" },
	{ "invalid URL '%s' (tls+tcp://HOST:PORT)",
	    "无效的 URL '%s'（应为 tls+tcp://主机:端口）" },
	{ "out of memory", "内存不足" },
	{ "the node at %s did not accept the certificate %s: %s",
	    "%s 处的节点不接受证书 %s：%s" },
	{ "TLS with the node at %s failed: %s",
	    "与 %s 处节点的 TLS 连接失败：%s" },
	{ "invalid URL '%s': %s", "无效的 URL '%s'：%s" },
	{ "cannot reach the node at %s: %s", "无法连接 %s 处的节点：%s" },
	/* calls on an open client */
	{ "%s: the node closed the connection", "%s：节点关闭了连接" },
	{ "%s: timed out", "%s：超时" },
	{ "%s: %s", "%s：%s" },
	{ "%u message(s) for this client's subscriptions were dropped: out "
	  "of memory",
	    "本客户端订阅的 %u 条消息因内存不足被丢弃" },
	{ "a message on '%.*s' was dropped: out of memory",
	    "'%.*s' 上的一条消息因内存不足被丢弃" },
	{ "the node refused '%.*s': %.*s", "节点拒绝了 '%.*s'：%.*s" },
	{ "publish: NULL argument", "publish：参数为 NULL" },
	{ "publish: invalid topic '%.300s'", "publish：无效的主题 '%.300s'" },
	{ "publish to '%s': %zu bytes is over the client's limit of %zu",
	    "发布到 '%s'：%zu 字节超过客户端上限 %zu" },
	{ "subscribe: NULL pattern", "subscribe：模式为 NULL" },
	{ "subscribe: invalid pattern '%.300s'",
	    "subscribe：无效的模式 '%.300s'" },
	{ "subscribe: invalid queue group '%.100s' (1..%d printable bytes, "
	  "no spaces)",
	    "subscribe：无效的队列组 '%.100s'（1 到 %d "
	    "个可打印字节，不含空格）" },
	{ "subscribe: out of memory", "subscribe：内存不足" },
	{ "unsubscribe: no subscription %llu", "unsubscribe：没有订阅 %llu" },
	{ "flush: negative timeout", "flush：超时为负数" },
	{ "flush: the node did not confirm: %.*s", "flush：节点未确认：%.*s" },
	{ "request: NULL argument", "request：参数为 NULL" },
	{ "request: invalid topic '%.300s'", "request：无效的主题 '%.300s'" },
	{ "request to '%s': the deadline must be > 0 ms",
	    "发往 '%s' 的请求：期限必须大于 0 毫秒" },
	{ "request to '%s': %zu bytes is too big",
	    "发往 '%s' 的请求：%zu 字节过大" },
	{ "request to '%s'", "发往 '%s' 的请求" },
	{ "no reply to '%s' within %d ms", "'%s' 在 %d 毫秒内没有应答" },
	{ "the reply to '%s' was dropped: out of memory",
	    "发往 '%s' 的请求的应答因内存不足被丢弃" },
	{ "'%s' answered an error: %.300s", "'%s' 返回错误：%.300s" },
	{ "reply: NULL argument", "reply：参数为 NULL" },
	{ "reply: '%s' was not a request", "reply：'%s' 不是请求" },
	{ "reply_error: NULL code", "reply_error：代码为 NULL" },
	{ "reply_error: '%.100s' is not a reply code (XZ_REPLY_*)",
	    "reply_error：'%.100s' 不是应答代码（XZ_REPLY_*）" },
	{ "reply_error: the message is over %zu bytes",
	    "reply_error：消息超过 %zu 字节" },
	{ "xzc_dispatch called from a handler",
	    "不能在处理函数中调用 xzc_dispatch" },
	{ "no message within %d ms", "%d 毫秒内没有消息" },
	{ "next: NULL argument", "next：参数为 NULL" },
	{ "xzc_next called from a handler", "不能在处理函数中调用 xzc_next" },
	{ "no client", "没有客户端" },
	/* the link client's why (client.c) */
	{ "no answer to the certificate challenge", "证书质询没有应答" },
	{ "the node refused the certificate challenge", "节点拒绝了证书质询" },
	{ "the node sent no nonce", "节点未发送随机数" },
	{ "no answer to the certificate HELLO", "证书 HELLO 没有应答" },
	{ "the node closed the connection after the certificate HELLO",
	    "节点在证书 HELLO 后关闭了连接" },
	{ "the node refused the certificate", "节点拒绝了该证书" },
	/* certproof.c: signing the HELLO, checking a HELLO at the door */
	{ "the node's nonce is too long", "节点的随机数过长" },
	{ "cannot read %s", "无法读取 %s" },
	{ "%s holds no PEM certificate", "%s 中没有 PEM 证书" },
	{ "%s holds no PEM private key", "%s 中没有 PEM 私钥" },
	{ "the key of %s does not belong to %s", "%s 的密钥与 %s 不匹配" },
	{ "cannot encode %s", "无法编码 %s" },
	{ "cannot sign with the key of %s", "无法用 %s 的密钥签名" },
	{ "the HELLO's nonce is malformed", "HELLO 中的随机数格式不正确" },
	{ "the HELLO's cert is not a base64 DER certificate",
	    "HELLO 中的 cert 不是 base64 编码的 DER 证书" },
	{ "the HELLO's cert is not a DER X.509 certificate",
	    "HELLO 中的 cert 不是 DER 格式的 X.509 证书" },
	{ "the certificate has no common name", "该证书没有通用名称（CN）" },
	{ "the door's CA %s cannot be read", "入口的 CA %s 无法读取" },
	{ "the door's CRL %s cannot be read: no certificate is accepted",
	    "入口的 CRL %s 无法读取：不接受任何证书" },
	{ "certificate '%s' (serial %s): %s", "证书 '%s'（序列号 %s）：%s" },
	{ "the HELLO's sig is not base64", "HELLO 中的 sig 不是 base64 编码" },
	{ "certificate '%s': the signature over the node's nonce does not "
	  "verify (not made by its key, or over another nonce)",
	    "证书 "
	    "'%s'：对节点随机数的签名校验失败（不是由其密钥签署，或签署的是"
	    "其他随机数）" },
	{ NULL, NULL },
};

const char *
xz_client_strerror(int rc)
{
	static const struct {
		int         rc;
		const char *zh;
	} zh[] = {
		{ NNG_ECONNREFUSED, "连接被拒绝" },
		{ NNG_ENOENT, "不存在（节点未运行？）" },
		{ NNG_ETIMEDOUT, "超时" },
		{ NNG_ECLOSED, "连接已关闭" },
		{ NNG_ECONNRESET, "连接被重置" },
		{ NNG_ECONNSHUT, "连接已关闭" },
		{ NNG_EADDRINVAL, "地址无效" },
		{ NNG_EPERM, "权限不足" },
		{ NNG_EPEERAUTH, "对端认证失败" },
		{ NNG_ECRYPTO, "加密错误" },
		{ NNG_EUNREACHABLE, "目标不可达" },
		{ NNG_ENOTSUP, "不支持" },
		{ NNG_ENOMEM, "内存不足" },
	};
	if (xz_lang() == XZ_LANG_ZH)
		for (size_t i = 0; i < sizeof(zh) / sizeof(zh[0]); i++)
			if (zh[i].rc == rc)
				return zh[i].zh;
	return nng_strerror(rc);
}
