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
 * the client library. A tls+tcp:// URL takes its CA, client certificate,
 * key and server name from $XZ_TLS_CA, $XZ_TLS_CERT, $XZ_TLS_KEY and
 * $XZ_TLS_SERVER_NAME. 0 with *c (close it with xzc_close), or -1 after
 * printing why ("xiezhi WHAT: cannot reach the node at URL: ..."). */
int xz_cli_connect(const char *what, const char *config, const char *url,
    const char *name, xzc_client **c);
/*
 * Credentials: the session token `xiezhi login` wrote. The file is
 * --creds FILE (xz_cli_set_creds), else $XZ_CREDS, else
 * $HOME/.config/xiezhi/creds. xz_cli_connect presents its token when the
 * file exists (a missing default file means none; a missing file that
 * was named is an error).
 */
#define XZ_CREDS_BEGIN "-----BEGIN XIEZHI SESSION TOKEN-----"
#define XZ_CREDS_END "------END XIEZHI SESSION TOKEN------"
void xz_cli_set_creds(const char *path);
/* --ca FILE, --cert FILE, --key FILE (NULL: unchanged): the TLS files of
 * a tls+tcp:// node, over $XZ_TLS_CA, $XZ_TLS_CERT, $XZ_TLS_KEY. With a
 * client certificate the connection proves it in its HELLO (the node
 * then knows the caller by its CN), and the default credentials file is
 * not read. */
void xz_cli_set_tls(const char *ca, const char *cert, const char *key);
/* The file in use (static string); *named set when it was chosen
 * explicitly (option or environment). NULL when no path can be made. */
const char *xz_cli_creds_path(int *named);
/* Read the token of path into tok (len bytes): 1 found, 0 no such file,
 * -1 after printing why ("xiezhi WHAT: ..."). Warns when the file is
 * readable by others. */
int xz_cli_read_token(
    const char *what, const char *path, char *tok, size_t len);
/* Connect like xz_cli_connect, without presenting any token (login,
 * logout: a stale token must not stand in the way). */
int xz_cli_connect_anon(const char *what, const char *config, const char *url,
    const char *name, xzc_client **c);
/* Print why xzc_request on c returned rc without a reply, as "PREFIX:
 * ...", and return the exit code (XZ_EXIT_TIMEOUT for a timeout, else 1).
 */
int xz_cli_no_reply(const char *prefix, xzc_client *c, int rc);
/* The exit code of an error reply: XZ_EXIT_TIMEOUT for timeout and
 * no_responders, else 1. */
int xz_cli_exit_for_reply(const xzc_msg *reply);

/* The command's texts in 简体中文 (cli_msg.c; util/msg.h). */
extern const xz_tr xz_cli_zh[];

#endif
