/* bad_noentry: loader refusal "exports no xz_plugin_entry symbol". The
 * function exists but hide_all.map keeps it out of the dynamic table. */
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
	.name    = "bad_noentry",
	.version = "1.0.0",
	.init    = p_init,
	.fini    = p_fini,
};

const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
