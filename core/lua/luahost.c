/* Placeholder until the Lua host lands: Lua plugins are refused clearly. */
#include "luahost.h"

int
xz_lua_describe(const xz_plugin_cfg *pc, const xz_config *cfg, xz_diag *d,
    xz_plugin_ext **out)
{
	(void) cfg;
	*out = NULL;
	xz_diag_add(d, pc->file, pc->line,
	    "plugin '%s': Lua plugins are not supported by this build",
	    pc->name);
	return XZ_EINVAL;
}

const xz_plugin_desc *
xz_lua_console_desc(void)
{
	return NULL;
}
