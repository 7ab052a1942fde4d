/* bad_abi_major: built for another ABI major: refused. */
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
	.struct_size = sizeof(xz_plugin_desc),
	.abi_major   = XZ_ABI_MAJOR + 1,
	.abi_minor   = 0,
	.name        = "bad_abi_major",
	.version     = "1.0.0",
	.init        = p_init,
	.fini        = p_fini,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
