# nats_lib.sh - what the NATS bridge tests share (source after lib.sh):
# the nats-server they start and the collector script their nodes run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup

# ---- nats-server (XZ_NATS_SERVER, PATH, /usr/sbin, /usr/local/sbin) ----
NATS_SERVER=${XZ_NATS_SERVER:-$(PATH="$PATH:/usr/sbin:/usr/local/sbin" command -v nats-server || true)}
[ -n "$NATS_SERVER" ] && [ -x "$NATS_SERVER" ] || skip_test "nats-server not installed (Debian package nats-server)"
[ -f "$XZ_PLUGIN_DIR/nats.so" ] || skip_test "the nats plugin was not built (libnats-dev missing)"
NATS_PORT=-1
# nats_start: run nats-server with JetStream in $XZ_T/js on NATS_PORT (a
# free one the first time, chosen by the server; the same one after).
nats_start() {
	local log="$XZ_T/nats-server.log" i
	: >"$log"
	"$NATS_SERVER" -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$XZ_T/js" >>"$log" 2>&1 &
	NATS_PID=$!
	for i in $(seq 1 200); do
		if grep -q "Listening for client connections on" "$log"; then
			NATS_PORT=$(sed -n 's/.*Listening for client connections on [0-9.]*:\([0-9]*\).*/\1/p' "$log" | head -1)
			return 0
		fi
		kill -0 "$NATS_PID" 2>/dev/null || die "nats-server exited: $(tail -5 "$log")"
		sleep 0.1
	done
	die "nats-server does not listen after 20 s"
}
nats_start
echo "  nats-server on port $NATS_PORT"

# A collector on each node: counts events per topic prefix and message
# key, answers collect.stats {"prefix":...} with total, distinct, dups.
cat >"$XZ_T/collect.lua" <<'EOF'
local seen, events = {}, {}
xz.subscribe("site.>", function(d, topic)
	local key = topic .. "#" .. tostring(d.n)
	seen[key] = (seen[key] or 0) + 1
	events[#events + 1] = topic
end)
xz.subscribe("collect.stats", function(d)
	local total, distinct, dups = 0, 0, 0
	for k, c in pairs(seen) do
		if k:sub(1, #d.prefix) == d.prefix then
			total = total + c
			distinct = distinct + 1
			dups = dups + (c - 1)
		end
	end
	return { total = total, distinct = distinct, dups = dups }
end)
EOF
