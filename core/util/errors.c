/* errors.c - messages and wire codes of enum xz_err, from one list. */
#include "util/errors.h"

#define XZ_ERR_MSG(sym, val, wire, msg) [sym] = msg,
#define XZ_ERR_WIRE(sym, val, wire, msg) [sym] = wire,

static const char *const messages[XZ_ERR_COUNT]
    = { XZ_ERROR_LIST(XZ_ERR_MSG) };
static const char *const wires[XZ_ERR_COUNT] = { XZ_ERROR_LIST(XZ_ERR_WIRE) };

const char *
xz_strerror(int err)
{
	if (err < 0 || err >= XZ_ERR_COUNT || messages[err] == NULL)
		return "unknown error";
	return messages[err];
}

const char *
xz_err_code(int err)
{
	if (err < 0 || err >= XZ_ERR_COUNT || wires[err] == NULL)
		return "internal";
	return wires[err];
}
