/*
 * cli_common.h - what every `xiezhi` subcommand that talks to a node needs:
 * where plugins are, reading a deployment, finding and dialing the node,
 * and the messages and exit codes of a request that failed.
 * Shared by main.c and audit_cli.c.
 */
#ifndef XZ_CLI_COMMON_H
#define XZ_CLI_COMMON_H

#include "config/config.h"

#include <xiezhi/client.h>

#define XZ_DEFAULT_CONFIG "config/xiezhi.cfg"
#define XZ_SYSTEM_CONFIG "/etc/xiezhi/xiezhi.cfg"

/* Exit codes of every command: 0 ok, 1 error (including an error reply). */
#define XZ_EXIT_USAGE 2
#define XZ_EXIT_TIMEOUT 3 /* timeout or no responders */

/* Where `so` plugins given without a path are found: $XZ_PLUGIN_DIR, else
 * <exe>/../lib/xiezhi/plugins (an installed tree, wherever it was moved),
 * else the build tree's folder, else the configured install folder. The
 * string is static. */
const char *xz_cli_plugin_dir(void);
/* The deployment of a command without -c: an installed binary
 * PREFIX/bin/xiezhi reads PREFIX/etc/xiezhi/xiezhi.cfg (XZ_SYSTEM_CONFIG
 * for the prefix /usr) if it exists; otherwise, as a binary of a build
 * tree, XZ_DEFAULT_CONFIG. The string is static. */
const char *xz_cli_default_config(void);
/* Read a deployment; errors are printed to stderr. 0 or -1. */
int xz_cli_load_config(const char *path, xz_config *cfg);
/* The node to reach: url if given, else $XZ_URL (when no config was
 * given), else the control URL of config (default
 * xz_cli_default_config()).
 * Returns a malloc'd string, or NULL after printing why ("xiezhi WHAT:"). */
char *xz_cli_node_url(const char *what, const char *config, const char *url);
/* Connect to the node (found as xz_cli_node_url does) as name, through
 * the client library. 0 with *c (close it with xzc_close), or -1 after
 * printing why ("xiezhi WHAT: cannot reach the node at URL: ..."). */
int xz_cli_connect(const char *what, const char *config, const char *url,
    const char *name, xzc_client **c);
/* Print why xzc_request on c returned rc without a reply, as "PREFIX:
 * ...", and return the exit code (XZ_EXIT_TIMEOUT for a timeout, else 1).
 */
int xz_cli_no_reply(const char *prefix, xzc_client *c, int rc);
/* The exit code of an error reply: XZ_EXIT_TIMEOUT for timeout and
 * no_responders, else 1. */
int xz_cli_exit_for_reply(const xzc_msg *reply);

#endif
