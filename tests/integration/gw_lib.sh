# gw_lib.sh - helpers of the gateway tests (source after lib.sh).
#
#   gw_port                  a free TCP port on 127.0.0.1 -> $GW_PORT
#   gw_start PLUGINS_EXTRA GATEWAY_OPTIONS
#                            a node with the prison plugin and the gateway
#                            on $GW_PORT; logins through the node's login
#                            service when it has one, else open access
#                            ($GW_OPEN = 1); $GW_URL
#   gw_login USER PASSWORD   POST /api/v1/login -> $GW_TOKEN, $GW_CSRF
#   gw_user ROLE             a demo user of ROLE -> $GW_USER $GW_PASSWORD
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

_gw_config() {
	local open=$1 extra=$2 opts=$3
	xz_config <<EOF2
plugins = (
  { name = "prison"; kind = "so"; },
  $extra
  { name = "gateway"; kind = "so"; impersonate = true;
    options = { port = $GW_PORT; open_access = $open; $opts }; }
);
auth = { demo_users = true; };
EOF2
}

gw_start() {
	local extra=${1:-} opts=${2:-}
	[ -f "$XZ_PLUGIN_DIR/gateway.so" ] || skip_test "gateway.so not built (libwebsockets-dev missing)"
	gw_port
	local scheme=http
	case "$opts" in *tls_cert*) scheme=https ;; esac
	GW_URL="$scheme://127.0.0.1:$GW_PORT"
	GW_OPEN=0
	_gw_config false "$extra" "$opts"
	start_node
	local rc=0
	xz call xz.sys.auth.login '{"user":"-","password":"-"}' >/dev/null 2>&1 || rc=$?
	if [ "$rc" = 3 ]; then
		# No login service on this node (yet): the gateway's open access.
		stop_node
		GW_OPEN=1
		_gw_config true "$extra" "$opts"
		start_node
	fi
	wait_for 20 curl -sfk "$GW_URL/healthz" || die "gateway does not answer on $GW_URL"
}

gw_user() {
	local role=$1 f="$XZ_T/n1/data/demo-passwords.txt"
	if [ "$GW_OPEN" = 1 ]; then
		GW_USER="test-$role"
		GW_PASSWORD="any"
		return 0
	fi
	[ -f "$f" ] || die "no $f"
	GW_USER=$(awk -F'\t' -v r="$role" '$3 == r { print $1; exit }' "$f")
	GW_PASSWORD=$(awk -F'\t' -v r="$role" '$3 == r { print $2; exit }' "$f")
	[ -n "$GW_USER" ] || die "no demo user with role $role in $f"
}

gw_login() {
	local r
	r=$(curl -sk -H 'Content-Type: application/json' \
		-d "{\"user\":\"$1\",\"password\":\"$2\"}" "$GW_URL/api/v1/login")
	GW_TOKEN=$(echo "$r" | jq -r .token)
	GW_CSRF=$(echo "$r" | jq -r .csrf)
	[ -n "$GW_TOKEN" ] && [ "$GW_TOKEN" != null ] || die "login as $1 failed: $r"
}

gw_metric() {
	local v
	v=$(curl -s "$GW_URL/metrics" | awk -v k="$1" '$1 == k { print $2 }')
	echo "${v:-0}"
}
