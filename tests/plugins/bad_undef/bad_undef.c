/* bad_undef: calls xz_test_no_such_function, defined nowhere, so
 * dlopen(RTLD_NOW) refuses it with "undefined symbol: ...". */
#include <xiezhi/xiezhi.h>

int xz_test_no_such_function(void);

static int
p_init(xz_plugin *self, const xz_host *host, void **state)
{
	(void) self;
	(void) host;
	*state = NULL;
	return xz_test_no_such_function();
}

static void
p_fini(void *state)
{
	(void) state;
}

static const xz_plugin_desc desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name    = "bad_undef",
	.version = "1.0.0",
	.init    = p_init,
	.fini    = p_fini,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
