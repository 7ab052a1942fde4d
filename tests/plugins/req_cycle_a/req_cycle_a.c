/* req_cycle_a: requires req_cycle_b, which requires it back. */
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
	.name     = "req_cycle_a",
	.version  = "1.0.0",
	.requires = (const char *const[]) { "req_cycle_b", NULL },
	.init     = p_init,
	.fini     = p_fini,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
