#!/usr/bin/env bash
# t_identity.sh - people logging in to a real node (real SQLite, real
# argon2id): the demo identity set of a first start, login -> credentials
# file (0600) -> a CLI call as that user (xz.sys.auth.whoami), and every
# refusal: unknown user, wrong password, locked user, expired token,
# revoked token, the failed-login backoff (audited and counted); user
# administration through the node (admin only); a login never holds up
# other traffic.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_test "jq is not installed"

xz_setup
# No credentials file of the person running the test may leak in.
export HOME="$XZ_T/home"
mkdir -p "$HOME"
unset XZ_CREDS
DATA="$XZ_T/n1/data"
PORT=$((20000 + ($$ + 11) % 20000))
xz_config <<EOF
bus = { listen = ( { url = "tcp://127.0.0.1:$PORT"; insecure = true; } ); };
auth = {
  demo_users = true;
  token_ttl_s = 600;
  login_free_failures = 3;
  login_backoff_ms = 60000;
  login_backoff_max_ms = 600000;
  # Real argon2id at its least cost: the defaults (t = 3, 64 MiB) make
  # the 22 demo users and 30 logins of this test take minutes on a busy
  # machine (test_identity checks the defaults).
  argon2_ops = 1;
  argon2_mem_kib = 8192;
};
EOF
start_node

# ---- the demo identity set of a first start ----
wait_for 120 test -f "$DATA/demo-passwords.txt" ||
	die "no $DATA/demo-passwords.txt after 120 s"
wait_for 30 grep -q "demo users: 22 made" "$XZ_T/n1.log" ||
	fail "the log does not say the demo users were made"
assert_eq "demo-passwords.txt is private" 600 \
	"$(stat -c %a "$DATA/demo-passwords.txt")"
assert_eq "identity.db is private" 600 "$(stat -c %a "$DATA/identity.db")"
assert_eq "the CA key is private" 600 "$(stat -c %a "$DATA/pki/ca.key")"
assert_contains "the log names the passwords file" \
	"$DATA/demo-passwords.txt" "$(cat "$XZ_T/n1.log")"
assert_eq "one demo user per role" 22 \
	"$(grep -vc '^#' "$DATA/demo-passwords.txt")"
assert_eq "the people's mediator of the demo set" "mediator township-01 林秀英" \
	"$(awk -F'\t' '$1 == "mediator1" { print $3, $4, $5 }' "$DATA/demo-passwords.txt")"
# refused_for WHY: the node turned the last connection away as
# unauthenticated, saying WHY (in the reply or, when the connection was
# closed first, in its log).
refused_for() {
	if wait_for 60 grep -q "refused: unauthenticated: .*$1" "$XZ_T/n1.log"; then
		pass "the node says unauthenticated: $1"
	else
		fail "no 'unauthenticated: ... $1' in the node's log; the CLI said: $ERR"
	fi
}
pw_of() { awk -v u="$1" '$1 == u { print $2 }' "$DATA/demo-passwords.txt"; }
for u in duty1 leader1 area1 admin; do
	pw_of "$u" >"$XZ_T/pw-$u"
	chmod 600 "$XZ_T/pw-$u"
done
echo "not the password" >"$XZ_T/pw-wrong"

# ---- login -> credentials -> a call as that user ----
C1="$XZ_T/creds-duty1"
check "duty1 logs in" xz login --user duty1 --password-file "$XZ_T/pw-duty1" \
	--creds "$C1"
assert_contains "login names the user" "logged in as duty1 (张伟, prison-01, command_duty)" "$OUT"
assert_eq "the credentials file is 0600" 600 "$(stat -c %a "$C1")"
check "whoami with the credentials" xz whoami --json --creds "$C1"
assert_eq "whoami: user" duty1 "$(echo "$OUT" | json .user)"
assert_eq "whoami: name" "张伟" "$(echo "$OUT" | json .name)"
assert_eq "whoami: agency" prison-01 "$(echo "$OUT" | json .agency)"
assert_eq "whoami: roles" command_duty "$(echo "$OUT" | json '.roles | join(",")')"
assert_contains "whoami: proven by a token" "token t-" "$(echo "$OUT" | json .auth)"
# The environment variable chooses the file too.
assert_eq "XZ_CREDS" duty1 "$(XZ_CREDS="$C1" xz whoami --json | json .user)"
assert_exit "a named credentials file that is missing" 1 \
	xz whoami --json --creds "$XZ_T/none"
assert_contains "it says so" "no credentials file" "$ERR"
# Without credentials the caller is the connection's own principal.
check "whoami without credentials" xz whoami --json
assert_eq "not duty1 without credentials" 0 \
	"$(echo "$OUT" | json '.user' | grep -c '^duty1$' || true)"

# ---- a door that proves nobody: log in there, then act with the token ----
TCP="tcp://127.0.0.1:$PORT"
assert_exit "no credential on the tcp door" 1 timeout 30 "$XZ_BIN" call \
	-u "$TCP" xz.sys.ping
refused_for "this door proves no identity"
check "but a login is answered there" timeout 60 "$XZ_BIN" login -u "$TCP" \
	--user duty1 --password-file "$XZ_T/pw-duty1" --creds "$XZ_T/c-tcp"
check "and its token acts there" timeout 30 "$XZ_BIN" whoami --json -u "$TCP" \
	--creds "$XZ_T/c-tcp"
assert_eq "as duty1" duty1 "$(echo "$OUT" | json .user)"

# ---- refusals: unknown user, wrong password ----
assert_exit "unknown user" 1 xz login --user ghost \
	--password-file "$XZ_T/pw-wrong" --creds "$XZ_T/c-ghost"
assert_contains "unknown user: unauthenticated" "unauthenticated: invalid user or password" "$ERR"
assert_exit "wrong password" 1 xz login --user leader1 \
	--password-file "$XZ_T/pw-wrong" --creds "$XZ_T/c-l1"
assert_contains "wrong password: the same words" "unauthenticated: invalid user or password" "$ERR"
[ ! -e "$XZ_T/c-l1" ] && pass "no credentials file after a refusal" ||
	fail "a refused login wrote $XZ_T/c-l1"

# ---- administration through the node: admin only ----
CA="$XZ_T/creds-admin"
check "admin logs in" xz login --user admin --password-file "$XZ_T/pw-admin" \
	--creds "$CA"
printf 'zhangsan-secret-1\n' >"$XZ_T/pw-new"
assert_exit "a command-duty officer may not add users" 1 \
	xz identity user add zhangsan --name 张三 --agency prison-01 \
	--role area_officer --password-file "$XZ_T/pw-new" --creds "$C1"
assert_contains "forbidden, naming the role" "forbidden" "$ERR"
assert_contains "naming admin" "admin" "$ERR"
check "admin adds a user" xz identity user add zhangsan --name 张三 \
	--agency prison-01 --role area_officer --password-file "$XZ_T/pw-new" \
	--creds "$CA"
assert_exit "adding it twice" 1 xz identity user add zhangsan --name 张三 \
	--agency prison-01 --role area_officer --creds "$CA" </dev/null
assert_contains "exists" "exists" "$ERR"
assert_exit "a bad role id" 1 xz identity user add lisi --name 李四 \
	--role 'Bad Role' --creds "$CA" </dev/null
assert_contains "bad_request" "invalid role id" "$ERR"
check "the new user logs in" xz login --user zhangsan \
	--password-file "$XZ_T/pw-new" --creds "$XZ_T/c-zs"
assert_eq "and is who it says" "张三/area_officer" \
	"$(xz whoami --json --creds "$XZ_T/c-zs" | json '.name + "/" + .roles[0]')"
check "identity user list" xz identity user list --json --creds "$CA"
assert_eq "23 users listed (22 demo users and one added)" 23 "$(echo "$OUT" | json '.users | length')"
assert_eq "zhangsan has a live session" 1 \
	"$(echo "$OUT" | json '.users[] | select(.user == "zhangsan") | .sessions')"

# ---- a locked user ----
check "lock leader1" xz identity user lock leader1 --creds "$CA"
assert_exit "a locked user cannot log in" 1 xz login --user leader1 \
	--password-file "$XZ_T/pw-leader1" --creds "$XZ_T/c-l1"
assert_contains "locked" "locked" "$ERR"
check "lock zhangsan, who has a session" xz identity user lock zhangsan --creds "$CA"
assert_exit "a locked user's token is refused" 1 xz whoami --creds "$XZ_T/c-zs"
refused_for locked
check "unlock leader1" xz identity user unlock leader1 --creds "$CA"
check "leader1 logs in again" xz login --user leader1 \
	--password-file "$XZ_T/pw-leader1" --creds "$XZ_T/c-l1"

# ---- logout revokes ----
cp "$XZ_T/c-l1" "$XZ_T/c-l1-copy"
check "logout" xz logout --creds "$XZ_T/c-l1"
[ ! -e "$XZ_T/c-l1" ] && pass "logout removes the file" ||
	fail "$XZ_T/c-l1 is still there"
assert_exit "a revoked token is refused" 1 xz whoami --creds "$XZ_T/c-l1-copy"
refused_for revoked
assert_exit "logout again" 1 xz logout --creds "$XZ_T/c-l1-copy"
assert_contains "says the session is over" "revoked" "$ERR"

# ---- a login never holds up other traffic ----
# Four logins queue on the login thread (each an argon2id of 64 MiB);
# while they are still being hashed, pings are answered.
pids=()
for i in 1 2 3 4; do
	xz login --user area1 --password-file "$XZ_T/pw-area1" \
		--creds "$XZ_T/c-a$i" >/dev/null 2>&1 &
	pids+=($!)
done
answered=0
for i in $(seq 1 5); do
	if xz call xz.sys.ping '{}' -t 5000 >/dev/null; then
		answered=$((answered + 1))
	fi
done
still=0
for p in "${pids[@]}"; do
	kill -0 "$p" 2>/dev/null && still=$((still + 1))
done
assert_eq "pings answered while logins hash" 5 "$answered"
if [ "$still" -gt 0 ]; then
	pass "the pings were answered before the last login ended ($still still running)"
else
	skip "every login ended before the pings (a very fast machine)"
fi
for p in "${pids[@]}"; do wait "$p" || fail "a queued login failed"; done
assert_eq "every queued login succeeded" 4 "$(ls "$XZ_T"/c-a* | wc -l)"

# ---- the failed-login backoff, audited and counted ----
xz_bg sub 'audit.sys.login' -n 5 -t 60000 >"$XZ_T/audit.jsonl" 2>/dev/null &
sub_pid=$!
xz call xz.sys.ping >/dev/null
sleep 0.5 # the subscription is made before sub's first ping returns
for i in 1 2 3; do
	assert_exit "failure $i" 1 xz login --user duty1 \
		--password-file "$XZ_T/pw-wrong" --creds "$XZ_T/c-x"
done
assert_exit "the right password, after 3 failures" 1 xz login --user duty1 \
	--password-file "$XZ_T/pw-duty1" --creds "$XZ_T/c-x"
assert_contains "rate limited" "too many failed logins" "$ERR"
assert_contains "says when to retry" "retry after" "$ERR"
assert_exit "another user from the same connection source" 1 xz login \
	--user area1 --password-file "$XZ_T/pw-area1" --creds "$XZ_T/c-x"
assert_contains "the source is limited too" "too many failed logins" "$ERR"
wait "$sub_pid" || true
assert_eq "5 login audit records" 5 "$(wc -l <"$XZ_T/audit.jsonl")"
assert_eq "3 wrong passwords audited" 3 \
	"$(jq -r '.data.outcome' "$XZ_T/audit.jsonl" | grep -c '^failed:wrong_password$' || true)"
assert_eq "2 refusals audited" 2 \
	"$(jq -r '.data.outcome' "$XZ_T/audit.jsonl" | grep -c '^refused:rate_limited$' || true)"
assert_eq "the audit names the user" duty1 "$(head -1 "$XZ_T/audit.jsonl" | json .data.who)"
assert_le "failed logins counted" 5 "$(counter sys login_failed)"
assert_eq "rate-limited logins counted" 2 "$(counter sys login_rate_limited)"
assert_le "successful logins counted" 9 "$(counter sys login_ok)"

# ---- an expired token (the test clock moves past token_ttl_s) ----
check "duty1 still acts" xz whoami --json --creds "$C1"
check "advance the clock past the token's life" \
	xz call xz.sys.clock.advance '{"ms":601000}' --creds "$CA"
assert_exit "an expired token is refused" 1 xz whoami --creds "$C1"
refused_for expired

# ---- the store survives a restart ----
stop_node
start_node
assert_exit "a revoked token stays revoked" 1 xz whoami --creds "$XZ_T/c-l1-copy"
check "admin logs in after the restart" xz login --user admin \
	--password-file "$XZ_T/pw-admin" --creds "$CA"
assert_eq "users are kept" 23 \
	"$(xz identity user list --json --creds "$CA" | json '.users | length')"
assert_eq "no second demo set" 22 "$(grep -vc '^#' "$DATA/demo-passwords.txt")"
stop_node
finish
