#!/usr/bin/env bash
# The SDK as an integrator gets it: `cmake --install` into a temporary
# prefix, which is then moved (the package files must be relocatable); the
# example plugin and the installed template are copied out of the source
# tree and built against that prefix only, with CMake (CMAKE_PREFIX_PATH)
# and with make + pkg-config (PKG_CONFIG_PATH). A real node then loads
# both and the CLI drives them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup

: "${XZ_BUILD:?XZ_BUILD must point to the build tree}"
for tool in cmake make pkg-config nm jq; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done

# A toolchain environment that cannot see anything but the prefix.
unset PKG_CONFIG_PATH CMAKE_PREFIX_PATH xiezhi_DIR
export PKG_CONFIG_LIBDIR="${PKG_CONFIG_LIBDIR:-$(pkg-config --variable pc_path pkg-config)}"
# Out-of-tree plugins take their flags from the environment, as an
# integrator's would; under the sanitizer build they are instrumented too.
unset CFLAGS LDFLAGS
if sanitized; then
	export CFLAGS="-g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
	export LDFLAGS="-fsanitize=address,undefined"
fi

# --- install, then move the prefix --------------------------------------
check "cmake --install into a temp prefix" \
	cmake --install "$XZ_BUILD" --prefix "$XZ_T/stage"
mv "$XZ_T/stage" "$XZ_T/sdk"
P="$XZ_T/sdk"
for f in include/xiezhi/xiezhi.h lib/pkgconfig/xiezhi.pc \
	lib/cmake/xiezhi/xiezhiConfig.cmake \
	lib/cmake/xiezhi/xiezhiConfigVersion.cmake \
	share/xiezhi/template/CMakeLists.txt share/xiezhi/template/Makefile \
	share/xiezhi/template/template.c share/doc/xiezhi/sdk.md \
	lib/xiezhi/plugins/hello.so bin/xiezhi; do
	if [ -f "$P/$f" ]; then pass "installed $f"; else fail "not installed: $f"; fi
done
leaks=$(grep -rl -e "$XZ_T/stage" -e "$XZ_SRC" "$P/lib/pkgconfig" \
	"$P/lib/cmake" || true)
assert_eq "package files name neither the install path nor the sources" \
	"" "$leaks"

# --- pkg-config -----------------------------------------------------------
PC="env PKG_CONFIG_PATH=$P/lib/pkgconfig pkg-config"
assert_eq "pkg-config version = xiezhi version" \
	"$("$XZ_BIN" version | grep -o '[0-9]*\.[0-9]*\.[0-9]*' | head -n1)" \
	"$($PC --modversion xiezhi)"
assert_eq "pkg-config abi_major" "$(sed -n 's/^#define XZ_ABI_MAJOR //p' \
	"$P/include/xiezhi/xiezhi.h")" "$($PC --variable=abi_major xiezhi)"
inc=$($PC --cflags-only-I xiezhi | sed 's/^-I//; s/ *$//')
assert_eq "pkg-config include dir is the moved prefix's" \
	"$(readlink -f "$P/include")" "$(readlink -f "$inc")"
assert_eq "pkg-config gives no libs (plugins never link the core)" \
	"" "$($PC --libs xiezhi | tr -d ' ')"

# --- the header alone --------------------------------------------------------
printf '#include <xiezhi/xiezhi.h>\nint main(void) { return XZ_OK; }\n' \
	>"$XZ_T/header.c"
check "the installed header compiles alone as strict C11" \
	cc -std=c11 -Wall -Wextra -Werror -pedantic -I"$P/include" \
	-c "$XZ_T/header.c" -o "$XZ_T/header.o"
if command -v c++ >/dev/null; then
	check "the installed header compiles as C++17" \
		c++ -std=c++17 -Wall -Wextra -Werror -pedantic -I"$P/include" \
		-x c++ -c "$XZ_T/header.c" -o "$XZ_T/header.o"
else
	skip "the installed header compiles as C++17: no c++ compiler"
fi

# --- builds -----------------------------------------------------------------
cp -r "$XZ_SRC/examples/c-plugin" "$XZ_T/example"
cp -r "$P/share/xiezhi/template" "$XZ_T/tpl-cmake"
cp -r "$P/share/xiezhi/template" "$XZ_T/tpl-make"
rm -rf "$XZ_T/example/build"

cmake_build() { # SRC BUILD
	cmake -S "$1" -B "$2" -DCMAKE_PREFIX_PATH="$P" \
		-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
		-DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_BUILD_TYPE=Debug &&
		cmake --build "$2"
}
check "example configures and builds against the prefix" \
	cmake_build "$XZ_T/example" "$XZ_T/example/build"
check "template configures and builds against the prefix" \
	cmake_build "$XZ_T/tpl-cmake" "$XZ_T/tpl-cmake/build"
check "template builds with make and pkg-config" \
	make -C "$XZ_T/tpl-make" PKG_CONFIG_PATH="$P/lib/pkgconfig"
assert_eq "example found xiezhiConfig.cmake in the prefix" \
	"$P/lib/cmake/xiezhi" \
	"$(sed -n 's/^xiezhi_DIR:PATH=//p' "$XZ_T/example/build/CMakeCache.txt")"
assert_eq "no compile command refers to the xiezhi sources" "" \
	"$(grep -h -o -e "$XZ_SRC[^ \"]*" \
		"$XZ_T/example/build/compile_commands.json" \
		"$XZ_T/tpl-cmake/build/compile_commands.json" || true)"
for so in "$XZ_T/example/build/visitor-log.so" \
	"$XZ_T/tpl-cmake/build/template.so" "$XZ_T/tpl-make/template.so"; do
	assert_eq "$(basename "$(dirname "$so")")/$(basename "$so") exports only xz_plugin_entry" \
		"xz_plugin_entry" \
		"$(nm -D --defined-only "$so" 2>/dev/null | awk '{ print $3 }' |
			tr '\n' ' ' | sed 's/ $//')"
done

# --- a node with both plugins ---------------------------------------------
mkdir -p "$XZ_T/plugins"
cp "$XZ_T/example/build/visitor-log.so" "$XZ_T/tpl-make/template.so" \
	"$XZ_T/plugins/"
node_cfg() { # MAX_VISITS
	XZ_PLUGIN_DIR="$XZ_T/plugins" xz_config <<EOC
plugins = (
  { name = "visitor-log"; kind = "so"; options = { max_visits = $1; }; },
  { name = "template"; kind = "so"; options = { tick_ms = 100; }; }
);
EOC
}
node_cfg 100000
assert_exit "check refuses max_visits out of range" 1 xz check
line=$(grep -n max_visits "$XZ_CFG" | cut -d: -f1)
assert_contains "the error names file, line, plugin and option" \
	"$XZ_CFG:$line: plugin 'visitor-log': option 'max_visits' must be between 1 and 10000, got 100000" \
	"$ERR"

node_cfg 2
check "check accepts the deployment" xz check
start_node

nsubs=$(status_get .bus.subscriptions)
xz_bg sub 'audit.visitor-log.>' -n 3 -t 20000 >"$XZ_T/audit.out" 2>&1 &
SUB_PID=$!
more_subs() { [ "$(status_get .bus.subscriptions)" -gt "$nsubs" ]; }
wait_for 20 more_subs || die "the audit subscriber never subscribed"

check "publish six visit events" xz pub prison.visit.completed - <<'EOF2'
{"visit_id":"V-1","prisoner":"A1234BC","type":"LEGAL"}
{"visit_id":"V-2","prisoner":"A1234BC","type":"SOCIAL"}
{"visit_id":"V-1","prisoner":"A1234BC","type":"LEGAL"}
{"visit_id":"V-3","prisoner":"B2222CD","type":"SOCIAL"}
{"visit_id":"V-4","prisoner":"A1234BC","type":"PHONE"}
{"visit_id":"V-5","prisoner":"A1234BC","type":"VIDEO"}
EOF2
ACTOR='"actor":{"user":"officer-7","role":"OFFICER","agency":"prison-1"}'
check "visitor-log.counts answers" xz call visitor-log.counts "{$ACTOR}"
assert_eq "counts per visit type" \
	'{"counts":{"LEGAL":1,"SOCIAL":2,"VIDEO":1},"total":4}' "$OUT"
check "visitor-log.visits answers" xz call visitor-log.visits \
	"{$ACTOR,\"prisoner\":\"A1234BC\",\"purpose\":\"legal-aid review\"}"
assert_eq "visits of A1234BC, oldest first, max_visits=2" \
	"A1234BC V-1:LEGAL V-2:SOCIAL" \
	"$(echo "$OUT" | jq -r '[.prisoner, (.visits[] | "\(.visit_id):\(.type)")] | join(" ")')"
assert_exit "visits without a purpose is refused" 1 xz call \
	visitor-log.visits "{$ACTOR,\"prisoner\":\"A1234BC\"}"
assert_eq "refusal reply" \
	'{"error":{"code":"bad_request","message":"visitor-log.visits: \"prisoner\" and a non-empty \"purpose\" are required"}}' \
	"$OUT"
assert_exit "counts without an actor is refused" 1 \
	xz call visitor-log.counts '{}'
assert_eq "refusal reply" \
	'{"error":{"code":"bad_request","message":"visitor-log: \"actor.user\" is required"}}' \
	"$OUT"

if wait "$SUB_PID"; then pass "three audit events arrived"; else
	fail "audit subscriber: $(cat "$XZ_T/audit.out")"; fi
assert_eq "audit events: topic action who subject outcome" \
	"audit.visitor-log.view VIEW officer-7 A1234BC ok
audit.visitor-log.refuse REFUSE officer-7 A1234BC bad_request
audit.visitor-log.refuse REFUSE null null bad_request" \
	"$(jq -r '"\(.topic) \(.data.action) \(.data.who) \(.data.subject_id) \(.data.outcome)"' "$XZ_T/audit.out")"

assert_eq "counter visits" 4 "$(counter visitor-log visits)"
assert_eq "counter duplicates" 1 "$(counter visitor-log duplicates)"
assert_eq "counter rejected" 1 "$(counter visitor-log rejected)"
assert_contains "the rejected event is logged with its topic" \
	"prison.visit.completed from pub-" "$(cat "$XZ_T/n1.log")"

# The template built with make: store, request, timer, event handler.
check "template.note.added twice (same id)" xz pub template.note.added - <<'EOF2'
{"id":"n-1","text":"first"}
{"id":"n-1","text":"again"}
EOF2
check "template.count answers" xz call template.count '{}'
assert_eq "template counts one note" '{"notes":1}' "$OUT"
assert_exit "template.count refuses a payload that is no object" 1 \
	xz call template.count '[1]'
assert_eq "with the reply code XZ_REPLY_BAD_REQUEST" \
	'{"error":{"code":"bad_request","message":"template.count: the payload must be a JSON object"}}' \
	"$OUT"
check "template ticks" xz sub template.tick -n 1 -t 5000
assert_contains "tick payload" '"data":{"seq":' "$OUT"
stop_node

# The store outlives the node.
start_node
check "counts after a restart" xz call visitor-log.counts "{$ACTOR}"
assert_eq "counts survive a restart" \
	'{"counts":{"LEGAL":1,"SOCIAL":2,"VIDEO":1},"total":4}' "$OUT"
stop_node
finish
