#include "cli/cli_common.h"
#include "util/msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
		    xz_text("xiezhi %s: cannot read the deployment to find "
		            "the node "
		            "(give -u URL or -c FILE)\n"),
		    what);
		return NULL;
	}
	out = strdup(cfg.control_url);
	xz_config_free(&cfg);
	return out;
}

static const char *creds_option; /* --creds, borrowed from argv */
/* --ca, --cert, --key: borrowed from argv; NULL: $XZ_TLS_* */
static const char *tls_option[3];

void
xz_cli_set_tls(const char *ca, const char *cert, const char *key)
{
	if (ca != NULL)
		tls_option[0] = ca;
	if (cert != NULL)
		tls_option[1] = cert;
	if (key != NULL)
		tls_option[2] = key;
}

/* --ca/--cert/--key, else the environment variable env. */
static const char *
tls_file_of(int i, const char *env)
{
	const char *v = tls_option[i] ? tls_option[i] : getenv(env);
	return v && v[0] ? v : NULL;
}

void
xz_cli_set_creds(const char *path)
{
	creds_option = path;
}

const char *
xz_cli_creds_path(int *named)
{
	static char path[4096];
	const char *env  = getenv("XZ_CREDS");
	const char *home = getenv("HOME");

	*named = 1;
	if (creds_option != NULL)
		return creds_option;
	if (env != NULL && env[0] != '\0')
		return env;
	*named = 0;
	if (home == NULL || home[0] == '\0')
		return NULL;
	snprintf(path, sizeof(path), "%s/.config/xiezhi/creds", home);
	return path;
}

int
xz_cli_read_token(const char *what, const char *path, char *tok, size_t len)
{
	FILE       *f = fopen(path, "r");
	char        line[512];
	int         in = 0;
	struct stat st;

	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, xz_text("xiezhi %s: cannot read %s: %s\n"),
		    what, path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0)
		fprintf(stderr,
		    xz_text(
		        "xiezhi %s: warning: %s is readable by others (mode "
		        "%03o); "
		        "chmod 600 it\n"),
		    what, path, (unsigned) (st.st_mode & 0777));
	tok[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strcmp(line, XZ_CREDS_BEGIN) == 0)
			in = 1;
		else if (in && line[0] != '\0') {
			snprintf(tok, len, "%s", line);
			break;
		}
	}
	fclose(f);
	if (tok[0] == '\0') {
		fprintf(stderr,
		    xz_text(
		        "xiezhi %s: %s holds no session token (run `xiezhi "
		        "login` again)\n"),
		    what, path);
		return -1;
	}
	return 1;
}

static int
connect_with(const char *what, const char *config, const char *url,
    const char *name, xzc_client **c, const char *token)
{
	xzc_options o = XZC_OPTIONS_INIT;
	char        err[XZC_ERRMSG_MAX];
	char       *u = xz_cli_node_url(what, config, url);
	int         rc;

	if (u == NULL)
		return -1;
	o.name               = name;
	o.connect_timeout_ms = 1000;
	o.token              = token;
	/* A tls+tcp:// door: the CA, and this client's certificate for a
	 * node that asks for one (docs/security.md, "Certificates"). */
	if (strncmp(u, "tls+tcp://", 10) == 0) {
		const char *sn    = getenv("XZ_TLS_SERVER_NAME");
		o.tls_ca_file     = tls_file_of(0, "XZ_TLS_CA");
		o.tls_cert_file   = tls_file_of(1, "XZ_TLS_CERT");
		o.tls_key_file    = tls_file_of(2, "XZ_TLS_KEY");
		o.tls_server_name = sn && sn[0] ? sn : NULL;
	}
	if ((rc = xzc_open(c, u, &o, err, sizeof(err))) != XZ_OK)
		fprintf(stderr, xz_text("xiezhi %s: %s\n"), what, err);
	free(u);
	return rc != XZ_OK ? -1 : 0;
}

int
xz_cli_connect(const char *what, const char *config, const char *url,
    const char *name, xzc_client **c)
{
	char        tok[512];
	int         named = 0, got = 0;
	const char *path = xz_cli_creds_path(&named);

	/* A client certificate given is what the caller means to be: the
	 * default credentials file is left alone (a named one still wins). */
	if (!named && tls_file_of(1, "XZ_TLS_CERT") != NULL)
		path = NULL;
	if (path != NULL) {
		/* The default file (not named by --creds or XZ_CREDS) is only
		 * a convenience: one this user cannot read (another user's
		 * HOME) means no token, and the node knows the caller by its
		 * uid. A named file must be readable. */
		if (!named && access(path, R_OK) != 0 && errno != ENOENT)
			got = 0;
		else
			got = xz_cli_read_token(what, path, tok, sizeof(tok));
		if (got < 0)
			return -1;
		if (got == 0 && named) {
			fprintf(stderr,
			    xz_text("xiezhi %s: no credentials file %s (run "
			            "`xiezhi "
			            "login --creds %s` first)\n"),
			    what, path, path);
			return -1;
		}
	}
	return connect_with(what, config, url, name, c, got > 0 ? tok : NULL);
}

int
xz_cli_connect_anon(const char *what, const char *config, const char *url,
    const char *name, xzc_client **c)
{
	return connect_with(what, config, url, name, c, NULL);
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
