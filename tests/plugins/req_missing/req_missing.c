/* req_missing: requires a plugin that is not in the deployment. */
#include <stddef.h>
#include <xiezhi/xiezhi.h>

static int
p_init(xz_plugin *self, const xz_host *host, void **state)
{
	(void) self;
	(void) host;
	*state = NULL;
	return XZ_OK;
}

static void
p_fini(void *state)
{
	(void) state;
}

static const xz_plugin_desc desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name     = "req_missing",
	.version  = "1.0.0",
	.requires = (const char *const[]) { "no_such_plugin", NULL },
	.init     = p_init,
	.fini     = p_fini,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
