/* bad_size: a descriptor whose struct_size is smaller than the host's:
 * refused. */
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
	.struct_size = offsetof(xz_plugin_desc, options),
	.abi_major   = XZ_ABI_MAJOR,
	.abi_minor   = XZ_ABI_MINOR,
	.name        = "bad_size",
	.version     = "1.0.0",
	.init        = p_init,
	.fini        = p_fini,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
