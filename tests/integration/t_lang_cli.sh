#!/usr/bin/env bash
# t_lang_cli.sh - the command, `check` and the node's operator log speak
# 简体中文 or English by LC_ALL / LC_MESSAGES / LANG (the first non-empty;
# "zh*" is Chinese), without any zh_CN locale installed: check's FILE:LINE
# errors, plugin load failures, an unknown command, a refused call (error
# code stays ASCII) and the node's start and stop lines; every command's
# --help; whoami, identity user add/list, a connection's forbidden reply,
# an identity administration refusal and the client library's connect
# error.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
unset LC_ALL LC_MESSAGES
ZH=zh_CN.UTF-8

echo "-- check on a broken deployment"
cat >"$XZ_T/bad.cfg" <<EOF2
node = { name = "n1"; plugin_path = [ "$XZ_PLUGIN_DIR" ];
  log_levle = "info"; };
plugins = ( { name = "hello"; kind = "sox"; },
            { name = "nosuch"; kind = "so"; },
            { name = "abi"; kind = "so"; path = "$XZ_PLUGIN_DIR/bad_abi_major.so"; } );
EOF2
OUT=$(LANG=$ZH "$XZ_BIN" check -c "$XZ_T/bad.cfg" 2>&1) && RC=0 || RC=$?
assert_eq "check refuses (zh)" 1 "$RC"
assert_contains "unknown setting in Chinese with FILE:LINE" \
	"$XZ_T/bad.cfg:2: 未知设置 'log_levle'，位于 node（是否应为 'log_level'？）" "$OUT"
assert_contains "bad kind in Chinese" \
	"$XZ_T/bad.cfg:3: plugin 'hello': kind 应为 \"so\" 或 \"lua\"，实为 \"sox\"" "$OUT"
assert_contains "missing plugin in Chinese" \
	"$XZ_T/bad.cfg:4: plugin 'nosuch'：找不到 nosuch.so（已尝试 " "$OUT"
OUT=$(LANG=C "$XZ_BIN" check -c "$XZ_T/bad.cfg" 2>&1) && RC=0 || RC=$?
assert_eq "check refuses (C)" 1 "$RC"
assert_contains "unknown setting in English" \
	"$XZ_T/bad.cfg:2: unknown setting 'log_levle' in node (did you mean 'log_level'?)" "$OUT"
assert_contains "missing plugin in English" \
	"$XZ_T/bad.cfg:4: plugin 'nosuch': cannot find nosuch.so (tried " "$OUT"
# a plugin that loads but was built for another ABI: the loader's text
cat >"$XZ_T/abi.cfg" <<EOF2
node = { name = "n1"; plugin_path = [ "$XZ_PLUGIN_DIR" ]; };
plugins = ( { name = "abi"; kind = "so"; path = "$XZ_PLUGIN_DIR/bad_abi_major.so"; } );
EOF2
OUT=$(LANG=$ZH "$XZ_BIN" check -c "$XZ_T/abi.cfg" 2>&1) || true
assert_contains "loader refusal in Chinese" "（主版本不同）：请重新构建" "$OUT"
OUT=$(LANG=C "$XZ_BIN" check -c "$XZ_T/abi.cfg" 2>&1) || true
assert_contains "loader refusal in English" "(major versions differ): rebuild it" "$OUT"

echo "-- which variable decides"
OUT=$(LC_ALL=C LANG=$ZH "$XZ_BIN" check -c "$XZ_T/bad.cfg" 2>&1) || true
assert_contains "LC_ALL wins over LANG" "unknown setting 'log_levle'" "$OUT"
OUT=$(LC_ALL= LC_MESSAGES=zh_TW.UTF-8 LANG=C "$XZ_BIN" check -c "$XZ_T/bad.cfg" 2>&1) || true
assert_contains "empty LC_ALL is skipped; LC_MESSAGES zh*" "未知设置 'log_levle'" "$OUT"
OUT=$(LANG=en_US.UTF-8 "$XZ_BIN" check -c "$XZ_T/bad.cfg" 2>&1) || true
assert_contains "en_US is English" "unknown setting 'log_levle'" "$OUT"

echo "-- usage errors"
OUT=$(LANG=$ZH "$XZ_BIN" frobnicate 2>&1) && RC=0 || RC=$?
assert_eq "unknown command exits 2" 2 "$RC"
assert_contains "unknown command (zh)" "xiezhi：未知命令 'frobnicate'" "$OUT"
assert_contains "usage (zh)" "用法：xiezhi 命令 [选项]" "$OUT"
OUT=$(LANG=C "$XZ_BIN" frobnicate 2>&1) || true
assert_contains "unknown command (C)" "xiezhi: unknown command 'frobnicate'" "$OUT"
OUT=$(LANG=$ZH "$XZ_BIN" call -c "$XZ_T/bad.cfg" 'no topic' 2>&1) || true
assert_contains "invalid topic (zh)" "xiezhi call：无效的主题 'no topic'" "$OUT"

echo "-- every command's --help in both languages"
for c in run check pub sub call status reload console login logout whoami identity bench version \
	audit "audit verify" "audit query"; do
	# shellcheck disable=SC2086 # "audit verify": two words
	OUT=$(LANG=$ZH "$XZ_BIN" $c --help 2>&1) || true
	case "$OUT" in
	"用法：xiezhi $c"*) pass "$c --help (zh)" ;;
	*) fail "$c --help (zh) is not Chinese: $(echo "$OUT" | head -1)" ;;
	esac
	# shellcheck disable=SC2086
	OUT=$(LANG=C "$XZ_BIN" $c --help 2>&1) || true
	case "$OUT" in
	"usage: xiezhi $c"*) pass "$c --help (C)" ;;
	*) fail "$c --help (C) is not English: $(echo "$OUT" | head -1)" ;;
	esac
done
OUT=$(LANG=$ZH "$XZ_BIN" --help 2>&1) || true
assert_contains "the main usage (zh)" "退出码：0 成功" "$OUT"

echo "-- the client library's connect error"
OUT=$(LANG=$ZH "$XZ_BIN" whoami -u "ipc://$XZ_T/nobody.sock" 2>&1) && RC=0 || RC=$?
assert_eq "no node: exit 1" 1 "$RC"
assert_contains "connect error (zh)" "xiezhi whoami：无法连接 ipc://$XZ_T/nobody.sock 处的节点：" "$OUT"
OUT=$(LANG=C "$XZ_BIN" whoami -u "ipc://$XZ_T/nobody.sock" 2>&1) || true
assert_contains "connect error (C)" "xiezhi whoami: cannot reach the node at ipc://$XZ_T/nobody.sock: " "$OUT"
OUT=$(LANG=$ZH "$XZ_BIN" whoami -u "tls+tcp://127.0.0.1:1" 2>&1) || true
assert_contains "a client option error (zh)" "tls+tcp:// 需要 tls_ca_file" "$OUT"

echo "-- a node: start line, a refused call, stop line"
xz_config <<EOF2
auth = {
  local = ( { uid = $(id -u); user = "zhangwei"; name = "张伟";
              agency = "prison-01"; roles = [ "auditor" ]; } );
  roles = {
    auditor = { publish = { allow = [ "xz.sys.>" ];
                            deny = [ "xz.sys.console.>" ]; }; };
  };
};
EOF2
LANG=$ZH start_node
wait_for 20 grep -q "节点 'n1' 运行中：[0-9]* 个插件，控制入口 ipc://" "$XZ_T/n1.log" &&
	pass "start line in Chinese" || fail "start line in Chinese: $(tail -3 "$XZ_T/n1.log")"
OUT=$(LANG=$ZH "$XZ_BIN" call -c "$XZ_CFG" xz.sys.clock.advance '{"ms":1000}' 2>"$XZ_T/err") && RC=0 || RC=$?
assert_eq "refused call exits 1" 1 "$RC"
assert_eq "the code stays ASCII" forbidden "$(echo "$OUT" | jq -r .error.code)"
assert_eq "refusal in Chinese" "xz.sys.clock.advance：'zhangwei' 无权执行此操作：需要 admin 角色" \
	"$(echo "$OUT" | jq -r .error.message)"
assert_contains "the CLI's line in Chinese" "xiezhi：'xz.sys.clock.advance' 返回错误应答" "$(cat "$XZ_T/err")"
OUT=$(LANG=$ZH "$XZ_BIN" whoami -c "$XZ_CFG" 2>&1) || true
assert_contains "whoami (zh): user" "用户：zhangwei" "$OUT"
assert_contains "whoami (zh): the role and what it is" "角色：auditor（审计员）" "$OUT"
assert_contains "whoami (zh): how it was proven" "认证：peercred uid=" "$OUT"
OUT=$(LANG=$ZH "$XZ_BIN" call -c "$XZ_CFG" xz.sys.console.eval '{"chunk":"return 1"}' 2>/dev/null) || true
assert_eq "the connection's refusal keeps its code" forbidden "$(echo "$OUT" | jq -r .error.code)"
assert_eq "the connection's refusal in Chinese" \
	"禁止：'zhangwei'（角色：auditor）没有发布 'xz.sys.console.eval' 的权限" \
	"$(echo "$OUT" | jq -r .error.message)"
OUT=$(LANG=$ZH "$XZ_BIN" identity user list -c "$XZ_CFG" 2>&1) && RC=0 || RC=$?
assert_eq "identity user list needs admin" 1 "$RC"
assert_contains "identity refusal in Chinese" \
	"xiezhi identity：forbidden：xz.sys.identity.user.list 需要 admin 角色；zhangwei 没有该角色" "$OUT"
stop_node
assert_contains "stop lines in Chinese" "正在停止：排空消息总线" "$(cat "$XZ_T/n1.log")"
assert_contains "stopped in Chinese" "已停止" "$(cat "$XZ_T/n1.log")"
: >"$XZ_T/n1.log"
LANG=C start_node
wait_for 20 grep -q "node 'n1' running: [0-9]* plugins, control ipc://" "$XZ_T/n1.log" &&
	pass "start line in English" || fail "start line in English"
OUT=$(LANG=C "$XZ_BIN" call -c "$XZ_CFG" xz.sys.clock.advance '{"ms":1000}' 2>"$XZ_T/err") || true
assert_eq "refusal in English" "xz.sys.clock.advance: 'zhangwei' may not do this: it needs the role admin" \
	"$(echo "$OUT" | jq -r .error.message)"
assert_contains "the CLI's line in English" "xiezhi: error reply from 'xz.sys.clock.advance'" "$(cat "$XZ_T/err")"
OUT=$(LANG=C "$XZ_BIN" whoami -c "$XZ_CFG" 2>&1) || true
assert_contains "whoami (C): user" "user:   zhangwei" "$OUT"
assert_contains "whoami (C): the role and what it is" "role:   auditor (auditor)" "$OUT"
assert_eq "whoami --json stays JSON" zhangwei \
	"$(LANG=$ZH "$XZ_BIN" whoami -c "$XZ_CFG" --json | jq -r .user)"
OUT=$(LANG=C "$XZ_BIN" call -c "$XZ_CFG" xz.sys.console.eval '{"chunk":"return 1"}' 2>/dev/null) || true
assert_eq "the connection's refusal in English" \
	"forbidden: 'zhangwei' (roles: auditor) has no publish permission for 'xz.sys.console.eval'" \
	"$(echo "$OUT" | jq -r .error.message)"
OUT=$(LANG=C "$XZ_BIN" identity user list -c "$XZ_CFG" 2>&1) || true
assert_contains "identity refusal in English" \
	"xiezhi identity: forbidden: xz.sys.identity.user.list needs the role admin; zhangwei has none of it" "$OUT"
stop_node
assert_contains "stopped in English" "INFO  kernel: stopped" "$(cat "$XZ_T/n1.log")"

echo "-- identity administration as admin"
sed -i 's/roles = \[ "auditor" \]/roles = [ "admin" ]/' "$XZ_CFG"
grep -q 'roles = \[ "admin" \]' "$XZ_CFG" || die "cannot make zhangwei an admin in $XZ_CFG"
LANG=$ZH start_node
OUT=$(LANG=$ZH "$XZ_BIN" identity user add lisi -c "$XZ_CFG" --name "李四" \
	--agency prison-01 --role area_officer </dev/null 2>&1) && RC=0 || RC=$?
assert_eq "identity user add" 0 "$RC"
assert_contains "user added (zh)" "用户 lisi 已添加，未设口令" "$OUT"
OUT=$(LANG=$ZH "$XZ_BIN" identity user list -c "$XZ_CFG" 2>&1) || true
assert_contains "identity list header (zh)" "用户" "$(echo "$OUT" | head -1)"
assert_contains "identity list header (zh): roles / name" "角色 / 姓名" "$(echo "$OUT" | head -1)"
assert_contains "identity list row (zh)" "lisi         正常" "$OUT"
assert_contains "identity list row (zh): no password" "0        无" "$(echo "$OUT" | grep lisi)"
OUT=$(LANG=C "$XZ_BIN" identity user list -c "$XZ_CFG" 2>&1) || true
assert_contains "identity list header (C)" "USER         STATE    AGENCY" "$(echo "$OUT" | head -1)"
assert_contains "identity list row (C)" "lisi         active   prison-01" "$OUT"
stop_node
finish
