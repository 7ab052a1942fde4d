/* bad_nofini: no fini callback (mandatory): refused. */
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

static const xz_plugin_desc desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name    = "bad_nofini",
	.version = "1.0.0",
	.init    = p_init,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
