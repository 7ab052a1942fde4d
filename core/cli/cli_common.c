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

const char *
xz_cli_default_config(void)
{
	static char path[4096];
	ssize_t     n = readlink("/proc/self/exe", path, sizeof(path) - 64);
	char       *slash;

	/* An installed binary PREFIX/bin/xiezhi reads its own deployment:
	 * PREFIX/etc/xiezhi, or /etc/xiezhi for the prefix /usr, as
	 * packaging/install_deployment.cmake lays them out. */
	if (n > 0) {
		path[n] = '\0';
		for (int up = 0; up < 2 && (slash = strrchr(path, '/')); up++)
			*slash = '\0';
		if (strcmp(path, "/usr") == 0)
			strcpy(path, XZ_SYSTEM_CONFIG);
		else
			strcat(path, "/etc/xiezhi/xiezhi.cfg");
		if (access(path, F_OK) == 0)
			return path;
	}
	return XZ_DEFAULT_CONFIG;
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
	if (xz_cli_load_config(config ? config : xz_cli_default_config(), &cfg)
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

int
xz_cli_connect(const char *what, const char *config, const char *url,
    const char *name, xzc_client **c)
{
	xzc_options o = XZC_OPTIONS_INIT;
	char        err[XZC_ERRMSG_MAX];
	char       *u = xz_cli_node_url(what, config, url);
	int         rc;

	if (u == NULL)
		return -1;
	o.name               = name;
	o.connect_timeout_ms = 1000;
	if ((rc = xzc_open(c, u, &o, err, sizeof(err))) != XZ_OK)
		fprintf(stderr, "xiezhi %s: %s\n", what, err);
	free(u);
	return rc != XZ_OK ? -1 : 0;
}

int
xz_cli_no_reply(const char *prefix, xzc_client *c, int rc)
{
	fprintf(stderr, "%s: %s\n", prefix, xzc_errmsg(c));
	return rc == XZ_ETIMEDOUT ? XZ_EXIT_TIMEOUT : 1;
}

int
xz_cli_exit_for_reply(const xzc_msg *reply)
{
	int err = xzc_msg_error(reply);

	return err == XZ_ETIMEDOUT || err == XZ_ENORESPONDERS ? XZ_EXIT_TIMEOUT
	                                                      : 1;
}
