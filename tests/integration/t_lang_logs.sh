#!/usr/bin/env bash
# t_lang_logs.sh - the operator log of the shipped default deployment
# (config/xiezhi.cfg) follows LANG: started under LANG=zh_CN.UTF-8 the
# plugins' start-up lines (prison layout and demo register, rehab seeding,
# hello's heartbeat, the gateway listening, legal's provisional calendar,
# the demo's first look at the prison) are in 简体中文, and no log line is
# English prose; started again from nothing under LANG=C the same lines are
# in English. The header of a credentials file written by `xiezhi login`
# follows LANG too. No zh_CN locale needs to be installed: only the
# variable's value is read.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
unset LC_ALL LC_MESSAGES XZ_CREDS
export HOME="$XZ_T/home"

# A free TCP port on 127.0.0.1 for the gateway (as gw_lib.sh finds one).
free_port() {
	local p
	for p in $(seq $((20000 + ($$ + $1) % 20000)) 65000); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	die "no free port"
}

# english_prose < LOG: the log lines whose message (after the time, the
# level and "SOURCE: ") is English prose: no byte outside ASCII and at
# least 3 words of 2 or more letters once quoted values ('..', "..") are
# taken out. Identifiers (xz_snake_case, topic.names, paths, URLs, codes
# with digits) are no words: a token counts only if it is letters alone.
english_prose() {
	LC_ALL=C awk '
	{
		msg = $0
		sub(/^[^ ]+ +[A-Z]+ +[^ ]+: /, "", msg)
		if (msg ~ /[\200-\377]/)
			next
		gsub(/"[^"]*"/, " ", msg)
		gsub(/\047[^\047]*\047/, " ", msg)
		n = split(msg, w, /[ \t,;:()\[\]]+/)
		words = 0
		for (i = 1; i <= n; i++)
			if (w[i] ~ /^[A-Za-z][a-z]+$/ || w[i] ~ /^[A-Z]+$/ && length(w[i]) > 1)
				words++
		if (words >= 3)
			print
	}'
}

echo "-- the prose filter itself"
SAMPLE='2026-12-02T13:51:09.380Z INFO  prison: layout layout.cfg (built in): 28 locations, 28 new
2026-12-02T13:51:09.380Z INFO  prison: 场所布局 layout.cfg（内置）：共 28 个场所，新建 28 个
2026-12-02T13:51:09.403Z INFO  gateway: XZ_GATEWAY_PORT=0: not listening
2026-12-02T13:51:09.403Z WARN  nats: prison.alarm.raised ipc:///tmp/x.sock "a b c d" R0001..R0012'
GOT=$(printf '%s\n' "$SAMPLE" | english_prose)
assert_eq "an English line is prose, a Chinese one and identifiers are not" \
	"2026-12-02T13:51:09.380Z INFO  prison: layout layout.cfg (built in): 28 locations, 28 new" \
	"$GOT"

# deploy NAME: the shipped config/ in $XZ_T/NAME (its sockets moved into
# the temp dir, cheap password hashing for the demo users, Lua's time
# limit raised, the gateway on a free port); sets CFG and DATA.
deploy() {
	local dep="$XZ_T/$1"
	mkdir -p "$dep"
	cp -r "$XZ_SRC/config" "$dep/config"
	ln -s "$XZ_SRC/plugins" "$dep/plugins"
	ln -s "$XZ_SRC/scripts" "$dep/scripts"
	CFG="$dep/config/xiezhi.cfg"
	DATA="$dep/var/xiezhi-1"
	sed -i -e "s|ipc:///tmp/xiezhi-1.sock|ipc://$dep/ctl.sock|" \
		-e "s|ipc:///tmp/xiezhi-1-bus.sock|ipc://$dep/bus.sock|" "$CFG"
	sed -i -e "s|^\( *demo_users *= *true;\)|\1 argon2_ops = 1; argon2_mem_kib = 8192;|" \
		"$dep/config/auth.cfg"
	# a loaded sanitizer build is slow: legal's start (its calendars) may
	# take longer than a handler's 500 ms
	sed -i -e "s|^\( *time_limit_ms *= *\)500;|\15000;|" "$CFG"
	grep -q "time_limit_ms *= *5000;" "$CFG" || die "cannot raise lua.time_limit_ms"
	grep -q "ipc://$dep/ctl.sock" "$CFG" || die "cannot move the control socket"
	grep -q "argon2_ops = 1" "$dep/config/auth.cfg" || die "cannot set argon2 cost"
	XZ_CFG="$CFG"
}

# run_in NAME LANG: start the deployment NAME under LANG, wait for its
# start-up lines and the demo users, log one of them in (credentials in
# $XZ_T/NAME.creds), stop it. The log is $XZ_T/NAME.log.
run_in() {
	local name=$1 user pw rest
	deploy "$name"
	export LANG=$2
	XZ_GATEWAY_PORT=$(free_port "${#name}")
	export XZ_GATEWAY_PORT
	start_node "$CFG" "$name"
	wait_for 180 test -s "$DATA/demo-passwords.txt" ||
		die "$name: no $DATA/demo-passwords.txt after 180 s"
	wait_for 60 grep -Eq "auth: (demo users: .* made|演示用户：已创建)" \
		"$XZ_T/$name.log" || die "$name: the demo users were not made"
	wait_for 60 grep -q "^[^ ]* *[A-Z]* *demo: " "$XZ_T/$name.log" ||
		die "$name: the demo plugin logged nothing in 60 s"
	IFS=$'\t' read -r user pw rest < <(grep -v "^#" "$DATA/demo-passwords.txt")
	printf '%s\n' "$pw" >"$XZ_T/pw"
	xz login --user "$user" --password-file "$XZ_T/pw" \
		--creds "$XZ_T/$name.creds" >/dev/null ||
		fail "$name: $user cannot log in"
	stop_node "$name"
}

# has NAME WHAT REGEX: the log of NAME has a line matching REGEX (ERE).
has() {
	if grep -Eq -- "$3" "$XZ_T/$1.log"; then
		pass "$1: $2"
	else
		fail "$1: $2: no line matches '$3'"
	fi
}
# lacks NAME WHAT REGEX: no line of the log of NAME matches REGEX.
lacks() {
	if grep -Eq -- "$3" "$XZ_T/$1.log"; then
		fail "$1: $2: '$(grep -E -m1 -- "$3" "$XZ_T/$1.log")'"
	else
		pass "$1: $2"
	fi
}

echo "-- LANG=zh_CN.UTF-8"
run_in zh zh_CN.UTF-8
has zh "prison layout" "prison: 场所布局 layout\.cfg（内置）：共 [0-9]+ 个场所，新建 [0-9]+ 个$"
has zh "prison demo register" "prison: 已生成演示罪犯名册：40 名罪犯$"
has zh "prison SLA timers" "prison: 已从存储恢复 0 个告警处置时限计时器"
has zh "rehab seeding" "rehab: 已生成 12 名演示戒毒人员 R0001\.\.R0012$"
has zh "hello heartbeat" "hello: 每 [0-9]+ 毫秒发送一次心跳$"
has zh "gateway listening" "gateway: 正在监听 http://[^ ]+:$XZ_GATEWAY_PORT/（网页目录 "
has zh "legal calendar" "legal: legal：2027 年日历为临时版本（calendar/cn_2027\.lua）"
has zh "demo's look at the prison" "demo: 演示数据：[0-9]+ 个场所，[0-9]+ 名罪犯$"
has zh "kernel running" "kernel: 节点 'xiezhi-1' 运行中"
lacks zh "no English start-up line" "seeded|locations|listening on|heartbeat every|is provisional|places,"
PROSE=$(english_prose <"$XZ_T/zh.log")
assert_eq "no log line is English prose under zh" "" "$PROSE"
assert_contains "the demo passwords file's header is Chinese" \
	"# 节点 'xiezhi-1' 的演示用户" "$(head -1 "$XZ_T/zh/var/xiezhi-1/demo-passwords.txt")"
assert_contains "the credentials header is Chinese" \
	"# xiezhi 登录凭据，由 \`xiezhi login\` 写入" "$(cat "$XZ_T/zh.creds")"

echo "-- LANG=C"
run_in en C
has en "prison layout" "prison: layout layout\.cfg \(built in\): [0-9]+ locations, [0-9]+ new$"
has en "prison demo register" "prison: seeded the demo register: 40 prisoners$"
has en "prison SLA timers" "prison: re-armed 0 alarm SLA timer\(s\) from the store \(0 overdue\)$"
has en "rehab seeding" "rehab: seeded 12 demo residents R0001\.\.R0012$"
has en "hello heartbeat" "hello: heartbeat every [0-9]+ ms$"
has en "gateway listening" "gateway: listening on http://[^ ]+:$XZ_GATEWAY_PORT/ \(web "
has en "legal calendar" "legal: legal: calendar 2027 is provisional \(calendar/cn_2027\.lua\)"
has en "demo's look at the prison" "demo: [0-9]+ places, [0-9]+ prisoners$"
has en "kernel running" "kernel: node 'xiezhi-1' running"
lacks en "no Chinese start-up line" "场所布局|演示罪犯名册|演示戒毒人员|发送一次心跳|正在监听|临时版本|演示数据"
assert_contains "the demo passwords file's header is English" \
	"# Demo users of node 'xiezhi-1'" "$(head -1 "$XZ_T/en/var/xiezhi-1/demo-passwords.txt")"
assert_contains "the credentials header is English" \
	"# xiezhi credentials, written by \`xiezhi login\`" "$(cat "$XZ_T/en.creds")"

finish
