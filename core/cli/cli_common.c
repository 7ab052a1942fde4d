#include "cli/cli_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *
xz_cli_plugin_dir(void)
{
	static char dir[4096];
	const char *env = getenv("XZ_PLUGIN_DIR");
	ssize_t     n;

	if (env != NULL && env[0] != '\0')
		return env;
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 64);
	if (n > 0) {
		dir[n]      = '\0';
		char *slash = strrchr(dir, '/');
		if (slash != NULL) {
			strcpy(slash, "/../lib/xiezhi/plugins");
			if (access(dir, R_OK) == 0)
				return dir;
		}
	}
	return access(XZ_BUILD_PLUGIN_DIR, R_OK) == 0 ? XZ_BUILD_PLUGIN_DIR
	                                              : XZ_INSTALL_PLUGIN_DIR;
}

int
xz_cli_load_config(const char *path, xz_config *cfg)
{
	xz_diag d;
	int     rc;

	xz_diag_init(&d);
	rc = xz_config_load(cfg, path, xz_cli_plugin_dir(), &d);
	if (rc != 0)
		xz_diag_print(&d, stderr);
	xz_diag_free(&d);
	return rc;
}

char *
xz_cli_node_url(const char *what, const char *config, const char *url)
{
	const char *env = getenv("XZ_URL");
	xz_config   cfg;
	char       *out;

	if (url != NULL)
		return strdup(url);
	if (config == NULL && env != NULL && env[0] != '\0')
		return strdup(env);
	if (xz_cli_load_config(config ? config : XZ_DEFAULT_CONFIG, &cfg)
	    != 0) {
		fprintf(stderr,
		    "xiezhi %s: cannot read the deployment to find the node "
		    "(give -u URL or -c FILE)\n",
		    what);
		return NULL;
	}
	out = strdup(cfg.control_url);
	xz_config_free(&cfg);
	return out;
}
