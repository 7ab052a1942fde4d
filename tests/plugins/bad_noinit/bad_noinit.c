/* bad_noinit: no init callback (mandatory): refused. */
#include <stddef.h>
#include <xiezhi/xiezhi.h>

static void
p_fini(void *state)
{
	(void) state;
}

static const xz_plugin_desc desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name    = "bad_noinit",
	.version = "1.0.0",
	.fini    = p_fini,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
