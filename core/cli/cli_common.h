/*
 * cli_common.h - what every `xiezhi` subcommand that talks to a node needs:
 * where plugins are, reading a deployment, and finding the node's URL.
 * Shared by main.c and audit_cli.c.
 */
#ifndef XZ_CLI_COMMON_H
#define XZ_CLI_COMMON_H

#include "config/config.h"

#define XZ_DEFAULT_CONFIG "config/xiezhi.cfg"

/* Where `so` plugins given without a path are found: $XZ_PLUGIN_DIR, else
 * <exe>/../lib/xiezhi/plugins (an installed tree, wherever it was moved),
 * else the build tree's folder, else the configured install folder. The
 * string is static. */
const char *xz_cli_plugin_dir(void);
/* Read a deployment; errors are printed to stderr. 0 or -1. */
int xz_cli_load_config(const char *path, xz_config *cfg);
/* The node to reach: url if given, else $XZ_URL (when no config was
 * given), else the control URL of config (default XZ_DEFAULT_CONFIG).
 * Returns a malloc'd string, or NULL after printing why ("xiezhi WHAT:"). */
char *xz_cli_node_url(const char *what, const char *config, const char *url);

#endif
