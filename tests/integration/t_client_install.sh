#!/usr/bin/env bash
# The client library as an integrator gets it: `cmake --install` into a
# temporary prefix, which is then moved (the package files must be
# relocatable); examples/gateway-client is copied out of the source tree and
# built against that prefix only, with CMake (find_package(xiezhi-client),
# shared and static) and with make + pkg-config. Each build then runs
# against a real node with the prison plugin: the alarms it raises are
# stored and published, its events reach a subscriber, and its errors give
# a non-zero exit with the reason.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup

: "${XZ_BUILD:?XZ_BUILD must point to the build tree}"
for tool in cmake make pkg-config nm jq ldd; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done

# A toolchain environment that cannot see anything but the prefix.
unset PKG_CONFIG_PATH CMAKE_PREFIX_PATH xiezhi-client_DIR 2>/dev/null || true
export PKG_CONFIG_LIBDIR="${PKG_CONFIG_LIBDIR:-$(pkg-config --variable pc_path pkg-config)}"
# Out-of-tree programs take their flags from the environment, as an
# integrator's would; under the sanitizer build they are instrumented too.
unset CFLAGS LDFLAGS
if sanitized; then
	export CFLAGS="-g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
	export LDFLAGS="-fsanitize=address,undefined"
fi

# --- install, then move the prefix --------------------------------------
check "cmake --install into a temp prefix" \
	cmake --install "$XZ_BUILD" --prefix "$XZ_T/stage"
mv "$XZ_T/stage" "$XZ_T/prefix"
P="$XZ_T/prefix"
LIB="$P/lib"
[ -d "$LIB/pkgconfig" ] || LIB=$(dirname "$(find "$P" -name xiezhi-client.pc | head -n1)")/..
LIB=$(readlink -f "$LIB")
for f in include/xiezhi/client.h include/xiezhi/xiezhi.h \
	share/doc/xiezhi/client.md; do
	if [ -f "$P/$f" ]; then pass "installed $f"; else fail "not installed: $f"; fi
done
for f in libxiezhi-client.so.1 libxiezhi-client.a pkgconfig/xiezhi-client.pc \
	cmake/xiezhi-client/xiezhi-clientConfig.cmake \
	cmake/xiezhi-client/xiezhi-clientConfigVersion.cmake \
	cmake/xiezhi-client/xiezhi-client-targets.cmake; do
	if [ -e "$LIB/$f" ]; then pass "installed lib/$f"; else fail "not installed: lib/$f"; fi
done
leaks=$(grep -rl -e "$XZ_T/stage" -e "$XZ_SRC" "$LIB/pkgconfig" \
	"$LIB/cmake/xiezhi-client" || true)
assert_eq "package files name neither the install path nor the sources" \
	"" "$leaks"

# --- what the libraries offer: the xzc_* calls, nothing else ----------------
api=$(sed -n 's/^XZ_EXPORT [^(]*[ *]\(xzc_[a-z_]*\)(.*/\1/p' \
	"$P/include/xiezhi/client.h" | sort | tr '\n' ' ')
assert_eq "the shared library exports exactly the header's calls" "$api" \
	"$(nm -D --defined-only "$LIB/libxiezhi-client.so.1" |
		awk '$2 ~ /^[TDBR]$/ { print $3 }' | sort | tr '\n' ' ')"
assert_eq "the static library defines exactly the header's calls" "$api" \
	"$(nm --defined-only "$LIB/libxiezhi-client.a" 2>/dev/null |
		awk '$2 ~ /^[TDBR]$/ { print $3 }' | sort | tr '\n' ' ')"

# --- pkg-config -----------------------------------------------------------
PC="env PKG_CONFIG_PATH=$LIB/pkgconfig pkg-config"
assert_eq "pkg-config version = xiezhi version" \
	"$("$XZ_BIN" version | grep -o '[0-9]*\.[0-9]*\.[0-9]*' | head -n1)" \
	"$($PC --modversion xiezhi-client)"
assert_eq "pkg-config abi_major = the soname's" \
	"$(sed -n 's/^#define XZC_ABI_MAJOR //p' "$P/include/xiezhi/client.h")" \
	"$($PC --variable=abi_major xiezhi-client)"
assert_eq "pkg-config libdir is the moved prefix's" \
	"$LIB" "$(readlink -f "$($PC --variable=libdir xiezhi-client)")"
assert_contains "pkg-config --libs" "-lxiezhi-client" \
	"$($PC --libs xiezhi-client)"

# --- the header alone --------------------------------------------------------
printf '#include <xiezhi/client.h>\nint main(void) { xzc_options o = XZC_OPTIONS_INIT; return (int) o.struct_size == 0; }\n' \
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
for d in shared static make; do
	cp -r "$XZ_SRC/examples/gateway-client" "$XZ_T/gw-$d"
	rm -rf "$XZ_T/gw-$d/build" "$XZ_T/gw-$d/gateway-client"
done
cmake_build() { # SRC BUILD ARGS...
	local src=$1 bld=$2
	shift 2
	cmake -S "$src" -B "$bld" -DCMAKE_PREFIX_PATH="$P" \
		-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
		-DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_BUILD_TYPE=Debug "$@" &&
		cmake --build "$bld"
}
check "gateway builds with find_package(xiezhi-client), shared" \
	cmake_build "$XZ_T/gw-shared" "$XZ_T/gw-shared/build"
check "gateway builds with find_package(xiezhi-client), static" \
	cmake_build "$XZ_T/gw-static" "$XZ_T/gw-static/build" -DGATEWAY_STATIC=ON
check "gateway builds with make and pkg-config" \
	make -C "$XZ_T/gw-make" PKG_CONFIG_PATH="$LIB/pkgconfig"
assert_eq "CMake found xiezhi-clientConfig.cmake in the prefix" \
	"$LIB/cmake/xiezhi-client" \
	"$(readlink -f "$(sed -n 's/^xiezhi-client_DIR:PATH=//p' \
		"$XZ_T/gw-shared/build/CMakeCache.txt")")"
assert_eq "no compile command refers to the xiezhi sources" "" \
	"$(grep -h -o -e "$XZ_SRC[^ \"]*" \
		"$XZ_T/gw-shared/build/compile_commands.json" \
		"$XZ_T/gw-static/build/compile_commands.json" || true)"
GW_SHARED="$XZ_T/gw-shared/build/gateway-client"
GW_STATIC="$XZ_T/gw-static/build/gateway-client"
GW_MAKE="$XZ_T/gw-make/gateway-client"
libof() { # PROGRAM: where libxiezhi-client comes from ("" if linked in)
	ldd "$1" | awk '/libxiezhi-client/ { print $3 }' | xargs -r readlink -f
}
assert_eq "shared build loads the prefix's library" \
	"$(readlink -f "$LIB/libxiezhi-client.so.1")" "$(libof "$GW_SHARED")"
assert_eq "make build loads the prefix's library (run path)" \
	"$(readlink -f "$LIB/libxiezhi-client.so.1")" "$(libof "$GW_MAKE")"
assert_eq "static build has the library linked in" "" "$(libof "$GW_STATIC")"

# --- against a real node ------------------------------------------------------
BUS="ipc://$XZ_T/bus.sock"
xz_config <<EOF
bus = { listen = [ "$BUS" ]; };
plugins = ( { name = "prison"; kind = "so"; } );
EOF
CTL=$(sed -n 's/.*control = "\(.*\)";/\1/p' "$XZ_CFG")

assert_exit "no node: exit 1" 1 "$GW_SHARED" -u "$CTL" </dev/null
assert_contains "the reason names the URL" "cannot reach the node at $CTL" "$ERR"

start_node
XZ_SUB_READY=1 xz_bg sub 'prison.sensor.>' -n 2 -t 60000 >"$XZ_T/sensor.out" 2>"$XZ_T/sensor.err" &
SUB=$!
wait_for 20 grep -q ready "$XZ_T/sensor.err" || die "subscriber not ready: $(cat "$XZ_T/sensor.err")"

# Each build raises one alarm; -w waits until prison.alarm.raised for it
# was seen on the bus (the library's handler path).
n=0
for gw in "$GW_SHARED" "$GW_STATIC" "$GW_MAKE"; do
	n=$((n + 1))
	loc=$(echo "5101.01.1 5101.01.2 5101.02.1" | cut -d' ' -f$n) # registered
	label=$(basename "$(dirname "$gw")")
	[ "$label" = build ] && label=$(basename "$(dirname "$(dirname "$gw")")")
	url=$CTL
	[ "$n" = 2 ] && url=$BUS # a bus.listen address works the same
	assert_exit "$label: ALARM line raises an alarm" 0 "$gw" -u "$url" \
		-n "gw-$n" -w <<EOF
# perimeter sensor $n
ALARM $loc $n PERIMETER fence $n cut, "north" side
EOF
	id=$(printf 'ALM-%08d' "$n")
	assert_eq "$label: the reply is the stored alarm" \
		"$id RAISED PERIMETER $n $loc sensor gw-$n" \
		"$(head -n1 <<<"$OUT" | jq -r '"\(.id) \(.state) \(.kind) \(.level) \(.location) \(.source) \(.created_by)"')"
	assert_eq "$label: and it was seen on the bus" "seen $id on prison.alarm.raised" \
		"$(sed -n 2p <<<"$OUT")"
	check "$label: prison.alarm.get finds it" xz call prison.alarm.get \
		"{\"actor\":{\"user\":\"zhangwei\",\"role\":\"command_duty\",\"agency\":\"prison-01\"},\"id\":\"$id\"}"
	assert_eq "$label: stored with the gateway's description" \
		"RAISED fence $n cut, \"north\" side" \
		"$(jq -r '"\(.state) \(.description)"' <<<"$OUT")"
done

check "EVENT lines are published" "$GW_SHARED" -u "$CTL" <<'EOF'
EVENT prison.sensor.heartbeat {"sensor":"S-1","ok":true}
EVENT prison.sensor.reading {"sensor":"S-2","temp_c":71.5}
EOF
if wait "$SUB"; then pass "the subscriber got both events"; else
	fail "subscriber: $(cat "$XZ_T/sensor.err")"; fi
assert_eq "events in order, from the gateway" \
	"prison.sensor.heartbeat S-1 gateway-
prison.sensor.reading S-2 gateway-" \
	"$(jq -r '"\(.topic) \(.data.sensor) \(.source | sub("[0-9]+$"; ""))"' "$XZ_T/sensor.out")"

assert_exit "a refused alarm: exit 1, the rest still goes" 1 "$GW_STATIC" \
	-u "$CTL" <<'EOF'
ALARM 5101.ZJ 1 TELEPATHY
ALARM 5101.ZJ 9 FIRE
BOGUS line
ALARM 5101.ZJ 3 FIRE
EOF
assert_contains "the node's error reply is printed" \
	'{"error":{"code":"bad_request","message":"prison.alarm.raise: \"kind\": expected one of' "$OUT"
assert_contains "with the line it came from" "line 1: prison.alarm.raise refused" "$ERR"
assert_contains "a bad level is refused before sending" "line 2: level must be 1, 2 or 3, got '9'" "$ERR"
assert_contains "an unknown command is named" "line 3: unknown command 'BOGUS line'" "$ERR"
assert_eq "the last line was still raised" "ALM-00000004 3" \
	"$(tail -n1 <<<"$OUT" | jq -r '"\(.id) \(.level)"')"
check "alarm stats" xz call prison.alarm.stats '{"actor":{"user":"zhangwei","role":"command_duty","agency":"prison-01"}}'
assert_eq "four alarms raised in all" 4 "$(jq -r '[.by_state[][]] | add' <<<"$OUT")"

stop_node
assert_exit "the node gone: exit 1" 1 "$GW_MAKE" -u "$CTL" <<'EOF'
ALARM 5101.01 1 FIRE
EOF
finish
