/* reply.c - the closed set of reply codes (see reply.h). */
#include "reply.h"

#define KIT_CODE_NAME_(sym, wire, meaning, http) wire,
static const char *const names[] = { XZ_REPLY_CODE_LIST(KIT_CODE_NAME_) };
#undef KIT_CODE_NAME_
_Static_assert(sizeof(names) / sizeof(names[0]) == KIT_E_COUNT,
    "KIT_CODE_LIST must list XZ_REPLY_CODE_LIST's codes, in its order");

const char *
kit_code_name(kit_code code)
{
	return (unsigned) code < KIT_E_COUNT ? names[code] : "internal";
}

int
kit_reply_error(const xz_host *host, xz_plugin *self, const xz_msg *req,
    kit_code code, const char *message)
{
	return host->reply_error(self, req, kit_code_name(code), message);
}
