#!/usr/bin/env bash
# The SDK header outside the C11 build of the tree: as C++ (11 to 20, each
# standard g++ knows), as strict C11/C17, and on a compiler without GNU
# extensions (attributes fall back to nothing). A plugin written in C++
# loads into a node and answers with a reply-code constant. Skipped (77)
# when g++ is missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
if ! command -v g++ >/dev/null 2>&1; then
	echo "SKIP $XZ_TEST_NAME: no g++"
	exit 77
fi
xz_setup
INC="$XZ_SRC/sdk/include"
CXXFLAGS=(-I"$INC" -Wall -Wextra -Werror -pedantic)

# --- the header alone, in every language mode ---------------------------
for std in c++11 c++14 c++17 c++20; do
	if ! g++ -std=$std -x c++ -E /dev/null >/dev/null 2>&1; then
		echo "  (g++ has no -std=$std)"
		continue
	fi
	check "header compiles as $std" \
		g++ -std=$std "${CXXFLAGS[@]}" -fsyntax-only -x c++ "$INC/xiezhi/xiezhi.h"
done
CC=${CC:-cc}
for std in c11 c17; do
	check "header compiles as strict $std" \
		"$CC" -std=$std -I"$INC" -Wall -Wextra -Werror -pedantic \
		-fsyntax-only -x c "$INC/xiezhi/xiezhi.h"
done
# Without __GNUC__ the attribute macros are empty and the header still
# compiles (gcc accepts -U__GNUC__ for this purpose).
check "header compiles without __GNUC__" \
	"$CC" -std=c11 -U__GNUC__ -I"$INC" -Wall -Werror -fsyntax-only \
	-x c "$INC/xiezhi/xiezhi.h"

# --- the lists and macros, used from C++ ---------------------------------
cat >"$XZ_T/lists.cpp" <<'EOF2'
#include <xiezhi/xiezhi.h>

#include <cstdio>
#include <cstring>

struct row { int value; const char *wire; const char *message; };
#define ROW(sym, val, wire, msg) { sym, wire, msg },
static const row errs[] = { XZ_ERROR_LIST(ROW) };
#undef ROW
static_assert(sizeof(errs) / sizeof(errs[0]) == XZ_ERR_COUNT,
    "one row per error");

struct code { const char *wire; int http; };
#define CODE(sym, wire, meaning, http) { sym, http },
static const code codes[] = { XZ_REPLY_CODE_LIST(CODE) };
#undef CODE

int
main()
{
	xz_host h;
	std::memset(&h, 0, sizeof h);
	h.struct_size = offsetof(xz_host, version);
	if (XZ_HAS_MEMBER(&h, xz_host, version))
		return 1;
	h.struct_size = sizeof h;
	if (!XZ_HAS_MEMBER(&h, xz_host, version))
		return 2;
	for (const row &r : errs)
		std::printf("%d %s\n", r.value, r.wire);
	for (const code &c : codes)
		std::printf("%s %d\n", c.wire, c.http);
	return 0;
}
EOF2
check "lists and XZ_HAS_MEMBER build as C++11" \
	g++ -std=c++11 "${CXXFLAGS[@]}" -o "$XZ_T/lists" "$XZ_T/lists.cpp"
check "and run" "$XZ_T/lists"
assert_contains "error 6 is no_responders" "6 no_responders" "$OUT"
assert_contains "not_found maps to 404" "not_found 404" "$OUT"

# host->log is checked like printf (GNU compilers).
cat >"$XZ_T/badfmt.cpp" <<'EOF2'
#include <xiezhi/xiezhi.h>
void
f(const xz_host *h, xz_plugin *self)
{
	h->log(self, XZ_LOG_INFO, "%s", 42);
}
EOF2
assert_exit "a wrong host->log format is a compile error" 1 \
	g++ -std=c++17 "${CXXFLAGS[@]}" -fsyntax-only "$XZ_T/badfmt.cpp"
assert_contains "named by -Wformat" "[-Werror=format" "$ERR"

# --- a plugin written in C++ -----------------------------------------------
cat >"$XZ_T/cxx_plugin.cpp" <<'EOF2'
// A C++ plugin: no designated initializers before C++20, so the
// descriptor is filled in a function.
#include <xiezhi/xiezhi.h>

#include <cstring>

namespace {

struct state {
	xz_plugin     *self;
	const xz_host *host;
};

void
on_find(void *ud, const xz_msg *msg)
{
	state *s = static_cast<state *>(ud);
	if (msg->kind == XZ_KIND_REQUEST)
		s->host->reply_error(s->self, msg, XZ_REPLY_NOT_FOUND,
		    "cxx.find: no such record");
}

int
p_init(xz_plugin *self, const xz_host *host, void **st)
{
	state *s = new state{ self, host };
	if (XZ_HAS_MEMBER(host, xz_host, version) && host->version)
		host->log(self, XZ_LOG_INFO, "on node %s", host->version());
	int rc = host->subscribe(self, "cxx.find", nullptr, on_find, s, nullptr);
	if (rc != XZ_OK) {
		delete s;
		return rc;
	}
	*st = s;
	return XZ_OK;
}

void
p_fini(void *st)
{
	delete static_cast<state *>(st);
}

xz_plugin_desc
make_desc()
{
	xz_plugin_desc d;
	std::memset(&d, 0, sizeof d);
	d.struct_size = sizeof d;
	d.abi_major   = XZ_ABI_MAJOR;
	d.abi_minor   = XZ_ABI_MINOR;
	d.name        = "cxx";
	d.version     = "1.0.0";
	d.description = "a plugin in C++";
	d.init        = p_init;
	d.fini        = p_fini;
	return d;
}

const xz_plugin_desc desc = make_desc();

} // namespace

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
EOF2
check "a C++ plugin builds" \
	g++ -std=c++11 "${CXXFLAGS[@]}" -fPIC -fvisibility=hidden -shared \
	-o "$XZ_T/cxx.so" "$XZ_T/cxx_plugin.cpp"
assert_eq "it exports only xz_plugin_entry" "xz_plugin_entry" \
	"$(nm -D --defined-only "$XZ_T/cxx.so" | awk '$2 == "T" { print $3 }' | tr '\n' ' ' | sed 's/ $//')"
xz_config <<EOF2
plugins = ( { name = "cxx"; kind = "so"; path = "$XZ_T/cxx.so"; } );
EOF2
check "xiezhi check accepts it" xz check
start_node
assert_exit "its request answers with an error reply" 1 xz call cxx.find '{}'
assert_eq "code from XZ_REPLY_NOT_FOUND" \
	'{"error":{"code":"not_found","message":"cxx.find: no such record"}}' "$OUT"
stop_node
finish
