/*
 * luabuf.c - the growable byte buffer of the Lua host.
 *
 * The bottom of core/lua/: it uses libc only, so the JSON codec, the vm
 * and the console can all share one buffer without depending on each
 * other.
 */
#include "luapriv.h"

#include <stdlib.h>
#include <string.h>

int
xz_lua_buf_reserve(xz_lua_buf *b, size_t more)
{
	size_t cap;
	char  *p;

	if (b->cap - b->len > more)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len <= more) {
		if (cap > ((size_t) -1) / 2)
			return -1;
		cap *= 2;
	}
	if ((p = realloc(b->p, cap)) == NULL)
		return -1;
	b->p   = p;
	b->cap = cap;
	return 0;
}

int
xz_lua_buf_add(xz_lua_buf *b, const void *p, size_t n)
{
	if (xz_lua_buf_reserve(b, n) != 0)
		return -1;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

void
xz_lua_buf_free(xz_lua_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
