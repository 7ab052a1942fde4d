# gw_lib.sh - helpers of the gateway tests (source after lib.sh).
#
#   gw_port                  a free TCP port on 127.0.0.1 -> $GW_PORT
#   gw_start PLUGINS_EXTRA GATEWAY_OPTIONS
#                            a node with the prison plugin and the gateway
#                            on $GW_PORT, its demo users made (real logins
#                            through the node's login service); $GW_URL,
#                            $GW_PASSWORDS (the demo-passwords.txt);
#                            $GW_PRISON_OPTIONS: the prison plugin's options
#   gw_user ROLE             the first demo user of ROLE -> $GW_USER
#                            $GW_PASSWORD $GW_NAME
#   gw_pw USER               the demo password of USER
#   gw_login USER PASSWORD   POST /api/v1/login -> $GW_TOKEN, $GW_CSRF
#   gw_creds USER            `xiezhi login` as USER -> $XZ_T/creds-USER
#                            (the CLI then acts as USER with --creds)
#   gw_metric NAME_AND_LABELS  a value from /metrics (0 when absent)

unset XZ_GATEWAY_PORT # the port of these nodes' config applies

gw_port() {
	local p
	for p in $(seq $((20000 + $$ % 20000)) 65000); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			GW_PORT=$p
			return 0
		fi
	done
	die "no free port"
}

gw_start() {
	local extra=${1:-} opts=${2:-}
	[ -f "$XZ_PLUGIN_DIR/gateway.so" ] || skip_test "gateway.so not built (libwebsockets-dev missing)"
	gw_port
	local scheme=http
	case "$opts" in *tls_cert*) scheme=https ;; esac
	GW_URL="$scheme://127.0.0.1:$GW_PORT"
	# Real argon2id at its least cost: the defaults (64 MiB, t = 3) make
	# the 22 demo users take minutes on a busy machine (t_identity.sh
	# and test_identity check the defaults).
	xz_config <<EOF2
lua = { time_limit_ms = 5000; };  # a loaded sanitizer build is slow
plugins = (
  { name = "prison"; kind = "so"; options = { ${GW_PRISON_OPTIONS:-} }; },
  $extra
  { name = "gateway"; kind = "so"; impersonate = true;
    options = { port = $GW_PORT; $opts }; }
);
auth = { demo_users = true; argon2_ops = 1; argon2_mem_kib = 8192; };
EOF2
	start_node
	GW_PASSWORDS="$XZ_T/n1/data/demo-passwords.txt"
	# (the node may speak Chinese: LANG=zh_CN.UTF-8)
	wait_for 120 grep -qE "demo users: [0-9]* made|演示用户：已创建 [0-9]* 个" "$XZ_T/n1.log" ||
		die "the node made no demo users in 120 s"
	[ -f "$GW_PASSWORDS" ] || die "no $GW_PASSWORDS"
	wait_for 20 curl -sfk "$GW_URL/healthz" || die "gateway does not answer on $GW_URL"
}

gw_user() {
	local role=$1
	GW_USER=$(awk -F'\t' -v r="$role" '$3 == r { print $1; exit }' "$GW_PASSWORDS")
	GW_PASSWORD=$(awk -F'\t' -v r="$role" '$3 == r { print $2; exit }' "$GW_PASSWORDS")
	GW_NAME=$(awk -F'\t' -v r="$role" '$3 == r { print $5; exit }' "$GW_PASSWORDS")
	[ -n "$GW_USER" ] || die "no demo user with role $role in $GW_PASSWORDS"
}

gw_pw() {
	awk -F'\t' -v u="$1" '$1 == u { print $2 }' "$GW_PASSWORDS"
}

gw_login() {
	local r
	r=$(curl -sk -H 'Content-Type: application/json' \
		-d "{\"user\":\"$1\",\"password\":\"$2\"}" "$GW_URL/api/v1/login")
	GW_TOKEN=$(echo "$r" | jq -r .token)
	GW_CSRF=$(echo "$r" | jq -r .csrf)
	[ -n "$GW_TOKEN" ] && [ "$GW_TOKEN" != null ] || die "login as $1 failed: $r"
}

gw_creds() {
	local u=$1
	gw_pw "$u" >"$XZ_T/pw-$u"
	chmod 600 "$XZ_T/pw-$u"
	xz login --user "$u" --password-file "$XZ_T/pw-$u" --creds "$XZ_T/creds-$u" >/dev/null ||
		die "xiezhi login --user $u failed"
}

gw_metric() {
	local v
	v=$(curl -s "$GW_URL/metrics" | awk -v k="$1" '$1 == k { print $2 }')
	echo "${v:-0}"
}
