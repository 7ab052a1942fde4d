#!/usr/bin/env bash
# t_lang_cli.sh - the command, `check` and the node's operator log speak
# 简体中文 or English by LC_ALL / LC_MESSAGES / LANG (the first non-empty;
# "zh*" is Chinese), without any zh_CN locale installed: check's FILE:LINE
# errors, plugin load failures, an unknown command, a refused call (error
# code stays ASCII) and the node's start and stop lines.
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

echo "-- a node: start line, a refused call, stop line"
xz_config <<EOF2
auth = {
  local = ( { uid = $(id -u); user = "zhangwei"; name = "张伟";
              agency = "prison-01"; roles = [ "auditor" ]; } );
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
stop_node
assert_contains "stopped in English" "INFO  kernel: stopped" "$(cat "$XZ_T/n1.log")"
finish
