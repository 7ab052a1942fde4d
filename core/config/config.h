/*
 * config.h - the deployment file (libconfig), parsed and validated. Only
 * config.c sees libconfig: what it hands on (xz_config, each plugin's
 * options as an xz_cfg_option list) is plain C data.
 *
 * libconfig 1.5 reads an integer without the suffix L as 32 bits and keeps
 * its low 32 bits silently; the loader reads each int setting's literal
 * again from its source line and refuses one that does not fit, naming its
 * path (check_int_literals in config.c).
 *
 * Layout of a deployment (every section optional but `node`):
 *
 *   node = {
 *     name      = "xiezhi-1";                     # [a-z0-9_-]+, required
 *     control   = "ipc:///tmp/xiezhi-1.sock";     # CLI endpoint, mode 0600
 *     data_dir  = "../var/xiezhi-1";              # SQLite files live here
 *     log_level = "info";                         # error|warn|info|debug
 *     log_file  = "/var/log/xiezhi/xiezhi.log";   # default: stderr
 *     log_format = "text";                        # text | json
 *     workers   = 2;                              # actor worker threads
 *     plugin_path = [ "/opt/xiezhi/plugins" ];    # where `so` plugins are
 *     test_clock = false;     # true: xz.sys.clock.advance is allowed
 *     handler_timeout_ms = 10000;     # longer handlers: reported/killed
 *     restart_backoff_ms = 200;       # isolated plugin: first restart wait
 *     restart_backoff_max_ms = 30000; # doubled up to this
 *   };
 *   bus = {
 *     listen             = [ "ipc:///tmp/xiezhi-1-bus.sock" ];  # doors
 *     mailbox_capacity   = 4096;     # messages per plugin mailbox
 *     max_payload        = 1048576;  # bytes
 *     publish_timeout_ms = 5000;     # backpressure wait on business topics
 *     request_timeout_ms = 5000;     # default request deadline
 *     best_effort        = [ "telemetry.>" ];  # topics that may drop
 *     durable            = ( "prison.alarm.>", "audit.>" );  # logged
 *     durable_max_bytes  = 67108864; # bound of data/bus-durable.db
 *     durable_redeliver_ms = 30000;  # unacknowledged: delivered again
 *   };
 *   lua = {                          # defaults for every Lua state
 *     memory_limit_kb   = 16384;
 *     instruction_limit = 10000000;  # per handler call
 *     time_limit_ms     = 500;       # per handler call
 *     max_failures      = 5;         # limit hits before quarantine
 *   };
 *   auth = {                         # the identity store (core/auth)
 *     demo_users  = false;   # true: first start seeds one user per role
 *     token_ttl_s = 28800;   # session token lifetime, 1..2592000
 *     login_free_failures  = 3;       # failed logins before backoff
 *     login_backoff_ms     = 1000;    # then wait this, doubled each time
 *     login_backoff_max_ms = 300000;  # up to this
 *   };
 *   plugins = (
 *     { name = "prison"; kind = "so"; path = "prison.so"; enabled = true;
 *       options = { alarm_ack_sla_s = 15; }; },
 *     { name = "rules"; kind = "lua"; path = "rules.lua";
 *       lua = { instruction_limit = 200000; }; }   # own limits
 *   );
 *   auth = {                         # who may connect (docs/security.md)
 *     local = ( { uid = 1001; user = "zhangwei"; name = "张伟";
 *                 agency = "prison-01"; roles = [ "command_duty" ]; },
 *               { gid = 1500; user = "ops"; roles = [ "admin" ]; } );
 *     certs = ( { cn = "kiosk-03"; user = "svc:kiosk-03";
 *                 roles = [ "kiosk" ]; agency = "prison-01"; } );
 *   };
 *   scripts = (                      # operator Lua scripts
 *     { name = "sla_report"; path = "../scripts/sla_report.lua";
 *       enabled = true; options = { every_s = 60; }; }
 *   );
 *
 * Relative paths (data_dir, log_file, plugin path, script path,
 * plugin_path entries; ipc:// file names are left alone) are resolved
 * against the directory of the file that declares them. `@include "file"`
 * is resolved against the main file's directory, also inside an included
 * file (libconfig 1.5 joins every include with that directory, so
 * absolute includes do not work).
 *
 * Defaults and ranges (an absent setting takes its default):
 *   node.control      "ipc:///tmp/xiezhi-<name>.sock"
 *   node.data_dir     "var/<name>", relative to the main file's directory
 *   node.log_level    "info"
 *   node.log_file     none: the log goes to stderr. Appended to; its
 *                     folder must exist (check says so if it does not)
 *   node.log_format   "text"
 *   node.workers      2, 1..64
 *   node.handler_timeout_ms      10000, 10..3600000
 *   node.restart_backoff_ms      200, 1..3600000
 *   node.restart_backoff_max_ms  30000, 1..86400000, >= restart_backoff_ms
 *   node.drain_timeout_ms  30000, 100..60000 (the SIGTERM drain's bound)
 *   node.socket_owner  none; a user name or uid: the ipc sockets' owner
 *                      (another user than the node's needs root)
 *   node.socket_group  none; a group name or gid: the ipc sockets' group
 *   node.socket_mode   "0600" ("0660" with socket_group); "0600".."0666",
 *                      a string of octal digits, owner read-write
 *   plugin isolation  "none" ("process": a supervised child process)
 *   plugin handler_timeout_ms    the node's, 10..3600000
 *   plugin memory_limit_mb       0 (none), 0..1048576; needs isolation
 *   bus.mailbox_capacity   4096, 1..16777216
 *   bus.max_payload        1048576, 1024..1073741824
 *   bus.publish_timeout_ms 5000, 0..3600000
 *   bus.request_timeout_ms 5000, 1..3600000
 *   lua.memory_limit_kb    16384, 64..4194304
 *   lua.instruction_limit  10000000, 1000..1000000000000
 *   lua.time_limit_ms      500, 1..3600000
 *   lua.max_failures       5, 1..1000000
 *   plugin/script enabled  true
 * URLs start with ipc://, tcp://, tls+tcp:// or inproc:// (tcp needs a
 * port).
 *
 * Doors: node.control and each bus.listen entry is a URL string or a group
 *   { url = "tls+tcp://0.0.0.0:7443";
 *     tls = { ca = "ca.pem"; cert = "node.pem"; key = "node.key";
 *             crl = "crl.pem"; }; }       # crl optional
 *   { url = "tcp://127.0.0.1:7000"; insecure = true; }
 * (bus.listen is then a list, `( ... )`: a libconfig array holds only
 * scalars). A door anyone on the network can use without a credential is
 * an error unless its entry says `insecure = true`: a tcp:// URL, or a
 * tls+tcp:// one whose tls group has no `ca` (clients then need no
 * certificate; with `ca`, a client certificate signed by it is required).
 * A tls+tcp:// listener needs tls.cert and tls.key (PEM files, resolved
 * like other paths); `tls` on any other scheme is an error. node.control
 * takes no `tls` (the CLI dials without a certificate). Every accepted
 * insecure door, and node.test_clock, becomes a warning (xz_config
 * .warnings): `check` prints them, `run` logs them at WARN on each start.
 *
 * Plugin and script names match [a-z][a-z0-9_-]{0,62} and are unique
 * across both lists. A `so` plugin without path is "<name>.so" searched in
 * node.plugin_path, then in the built-in plugin directory; a relative path
 * is tried next to the declaring file first, then by its file name in the
 * same directories. Lua plugins and scripts need a path that exists.
 * Disabled entries are checked like the others, except that a file that
 * cannot be found is not an error (resolved stays NULL).
 *
 * Every error is reported as "FILE:LINE: message" naming the setting, and
 * validation goes on to report every problem it can find.
 */
#ifndef XZ_CONFIG_H
#define XZ_CONFIG_H

#include <xiezhi/i18n.h>
#include <stddef.h>
#include <stdint.h>

#include "util/diag.h"
#include <xiezhi/xiezhi.h>

enum xz_plugin_kind {
	XZ_PLUGIN_SO     = 1, /* shared object */
	XZ_PLUGIN_LUA    = 2, /* Lua plugin (a script returning a plugin) */
	XZ_PLUGIN_SCRIPT = 3, /* operator script from the `scripts` list */
};

/* The type of an option value as the file writes it. A group, array or
 * list keeps only its type: options are scalars, and the type is what an
 * error about it names. */
enum xz_cfg_type {
	XZ_CFG_INT    = 1, /* int or int64 (5, 5000000000L, 0x10) */
	XZ_CFG_FLOAT  = 2,
	XZ_CFG_BOOL   = 3,
	XZ_CFG_STRING = 4,
	XZ_CFG_GROUP  = 5, /* { ... } */
	XZ_CFG_ARRAY  = 6, /* [ ... ] */
	XZ_CFG_LIST   = 7, /* ( ... ) */
};

/* Limits of one Lua state (per handler call, except memory). */
typedef struct xz_lua_limits {
	uint32_t memory_limit_kb;
	uint64_t instruction_limit;
	uint32_t time_limit_ms;
	uint32_t max_failures;
} xz_lua_limits;

/* One member of a plugin's `options` group, copied out of the file with
 * the place it was written, for diagnostics. Owned by xz_config. */
typedef struct xz_cfg_option {
	char *name;
	int   type; /* enum xz_cfg_type */
	union {
		int64_t i;
		double  f;
		int     b;
		char   *s;
	} v; /* unused for a group, array or list */
	const char *file; /* declaring file, as diagnostics name it */
	int         line;
} xz_cfg_option;

/* Patterns a role (or a plugin) may publish / subscribe: allowed when an
 * allow pattern matches and no deny pattern does. Owned by xz_config. */
typedef struct xz_perm_cfg {
	char **allow, **deny;
	size_t nallow, ndeny;
} xz_perm_cfg;

/* One entry of `plugins` or `scripts`. All strings owned by xz_config. */
typedef struct xz_plugin_cfg {
	char *name;
	int   kind; /* enum xz_plugin_kind */
	char *path; /* as written, or NULL when not given (so: <name>.so) */
	char *resolved; /* absolute path if found, else NULL */
	int   enabled;
	/* The `options` group, in file order; NULL when absent or empty. */
	xz_cfg_option *options;
	size_t         noptions;
	/* Lua limits of this plugin or script: the node's `lua` group,
	 * overridden by the entry's own `lua` group (unused for `so`). */
	xz_lua_limits lua;
	const char   *file; /* declaring file (owned by cfg) */
	int           line; /* line of the entry */
	/* grants = { publish = [...]; subscribe = [...]; }: what the plugin
	 * may publish (and request) and subscribe to; absent (has_grants 0):
	 * everything but another plugin's audit.<name>.> records. Only
	 * allow lists. */
	int         has_grants;
	xz_perm_cfg grant_publish, grant_subscribe; /* allow lists only */
	/* impersonate = true: may act for a logged-in person
	 * (host->session_open, request_as, subscribe_as). */
	int impersonate;
	/* reserve = [ "audit.*" ]: requests on these topics reach only this
	 * plugin (nobody else may answer them). */
	char **reserve;
	size_t nreserve;
	/* isolation = "process": the plugin runs in a child process the
	 * node supervises (kernel/isolate.c); "none" (default): in the
	 * node. handler_timeout_ms: the entry's own limit, 0: the node's. */
	int      isolation; /* enum xz_isolation */
	uint32_t handler_timeout_ms;
	/* memory_limit_mb: an isolated child resident over it is
	 * restarted; 0: no limit. */
	uint32_t memory_limit_mb;
} xz_plugin_cfg;

enum xz_isolation {
	XZ_ISOLATION_NONE    = 0,
	XZ_ISOLATION_PROCESS = 1,
};

/* One door: a URL the node listens on and how it is guarded. Strings
 * owned by xz_config. */
typedef struct xz_door_cfg {
	char       *url;
	int         insecure; /* the entry said insecure = true */
	char       *tls_ca; /* absolute PEM paths, NULL when absent; */
	char       *tls_cert; /* with tls_ca, clients must present a */
	char       *tls_key; /* certificate it signed */
	char       *tls_crl; /* revoked client certificates (PEM) */
	const char *file; /* declaring file (owned by cfg) */
	int         line;
} xz_door_cfg;

/* A setting that is valid but weakens the node. Text owned by
 * xz_config; no FILE:LINE in it. */
typedef struct xz_cfg_warning {
	const char *file; /* owned by cfg */
	int         line;
	char       *text;
} xz_cfg_warning;

/* One principal the node knows by a credential of its connection
 * (auth.local: a uid or gid; auth.certs: a certificate's common name).
 * Strings owned by xz_config. */
typedef struct xz_auth_id_cfg {
	int         kind; /* 1 uid, 2 gid, 3 cn (link.h XZ_LINK_ID_*) */
	int64_t     id;
	char       *cn;
	char       *user, *name, *agency; /* name, agency may be NULL */
	char      **roles; /* NULL-terminated */
	size_t      nroles;
	const char *file; /* owned by cfg */
	int         line;
} xz_auth_id_cfg;

/* One role of auth.roles (docs/roles.md). */
typedef struct xz_role_cfg {
	char       *id;
	xz_perm_cfg publish; /* publish and request */
	xz_perm_cfg subscribe;
	const char *file; /* owned by cfg */
	int         line;
} xz_role_cfg;

/*
 * One entry of `links` (docs/multi-node.md): another node this one
 * exchanges messages with. With url, this node dials it; without, the
 * other node dials this one and must present the same token, or, with no
 * creds, prove a certificate whose CN is `cn` (default: name) on a
 * tls+tcp:// listener with tls.ca (the certificate HELLO). A dialer of a
 * tls+tcp:// url with tls.cert and no creds proves its certificate.
 *   { name = "bureau"; url = "ipc:///tmp/xz-bureau-bus.sock";
 *     creds = "tokens/prison.token";      # the token (a credentials file)
 *     agency = "bureau"; roles = [ "node_bureau" ];   # it, as a principal
 *     import = [ "legal.>" ]; export = [ "prison.>" ];
 *     tls = { ca = "ca.pem"; cert = "node.pem"; key = "node.key";
 *             server_name = "bureau"; }; }   # tls+tcp:// only
 * Strings owned by xz_config.
 */
typedef struct xz_node_link_cfg {
	char       *name; /* the other node's node.name */
	char       *url; /* NULL: the other node dials this one */
	char       *creds; /* absolute path of the token file, or NULL */
	char       *token; /* the token read from it, or NULL: certificate */
	char       *cert_cn; /* no url and no creds: the CN it proves */
	char       *agency; /* "" when absent */
	char      **roles; /* NULL-terminated; what it may do here */
	size_t      nroles;
	char      **import, **export; /* topic patterns */
	size_t      nimport, nexport;
	char       *tls_ca, *tls_cert, *tls_key, *tls_server_name;
	const char *file; /* owned by cfg */
	int         line;
} xz_node_link_cfg;

/* auth: the identity store's settings (core/auth/identity.h). */
typedef struct xz_identity_settings {
	int      demo_users; /* auth.demo_users: seed one user per role */
	uint32_t token_ttl_s; /* auth.token_ttl_s */
	uint32_t login_free_failures; /* failures before the backoff */
	uint32_t login_backoff_ms; /* first wait, doubled each failure */
	uint32_t login_backoff_max_ms; /* longest wait */
	uint32_t argon2_ops; /* auth.argon2_ops: passes (t), 0: 3 */
	uint32_t argon2_mem_kib; /* auth.argon2_mem_kib (m), 0: 65536 */
} xz_identity_settings;

typedef struct xz_config {
	char *path; /* the main file as given */
	char *dir; /* its directory (absolute) */

	char  *node_name;
	char  *control_url; /* == control.url */
	char  *data_dir; /* absolute */
	int    log_level; /* enum xz_log_level */
	char  *log_file; /* absolute, or NULL: stderr */
	int    log_format; /* enum xz_log_format (util/log.h) */
	int    workers;
	char **plugin_path; /* absolute directories */
	size_t nplugin_path;
	int    test_clock; /* node.test_clock: clock.advance allowed */

	xz_door_cfg control; /* node.control */

	xz_door_cfg *listen;
	size_t       nlisten;
	uint32_t     mailbox_capacity;
	uint32_t     max_payload;
	uint32_t     publish_timeout_ms;
	uint32_t     request_timeout_ms;
	char       **best_effort;
	size_t       nbest_effort;
	/* bus.durable: patterns of the topics kept in the durable log, with
	 * where each was written (file owned by cfg) */
	char       **durable;
	size_t       ndurable;
	const char **durable_file;
	int         *durable_line;
	uint64_t     durable_max_bytes; /* bus.durable_max_bytes */
	uint32_t     durable_redeliver_ms; /* bus.durable_redeliver_ms */

	xz_lua_limits lua;

	xz_identity_settings identity; /* auth.* of the identity store */

	/* auth.local then auth.certs, in file order. */
	xz_auth_id_cfg *auth_ids;
	size_t          nauth_ids;
	xz_role_cfg    *roles; /* auth.roles, in file order */
	size_t          nroles;

	xz_node_link_cfg *links; /* `links`, in file order */
	size_t            nlinks;

	xz_plugin_cfg *plugins; /* `plugins` then `scripts`, in file order */
	size_t         nplugins;

	/* Accepted but risky settings (an insecure door, the test clock),
	 * in the order parsed. */
	xz_cfg_warning *warnings;
	size_t          nwarnings;

	/* Every file the tree was read from (main + includes), private;
	 * `file` members above point into it. */
	struct xz_config_file **files;
	size_t                  nfiles;

	/* node.handler_timeout_ms: a handler running longer is reported
	 * (in the node) or its child is killed and restarted (isolation =
	 * "process"); node.restart_backoff_ms / restart_backoff_max_ms: the
	 * first wait before a restart, doubled at each failure up to the
	 * maximum. */
	uint32_t handler_timeout_ms;
	uint32_t restart_backoff_ms;
	uint32_t restart_backoff_max_ms;
	/* node.drain_timeout_ms: how long SIGTERM waits for the queues to
	 * empty; what is left is counted and logged (docs/operations.md) */
	uint32_t drain_timeout_ms;
	/* node.socket_owner: the owner (-1: unchanged) of every ipc socket */
	int64_t socket_uid;
	/* node.socket_group / node.socket_mode: the group (-1: unchanged)
	 * and mode (0: the defaults, 0600 for the control socket, the umask
	 * for the bus's) of every ipc socket the node listens on, so that an
	 * operators group can use the CLI (docs/operations.md). */
	int64_t socket_gid;
	int     socket_mode;
} xz_config;

/* Defaults, used when a setting is absent. */
#define XZ_DEFAULT_MAILBOX_CAPACITY 4096u
#define XZ_DEFAULT_MAX_PAYLOAD (1024u * 1024u)
#define XZ_DEFAULT_PUBLISH_TIMEOUT_MS 5000u
#define XZ_DEFAULT_REQUEST_TIMEOUT_MS 5000u
#define XZ_DEFAULT_DURABLE_REDELIVER_MS 30000u
#define XZ_DEFAULT_WORKERS 2
#define XZ_DEFAULT_LOG_LEVEL XZ_LOG_INFO
#define XZ_DEFAULT_LUA_MEMORY_LIMIT_KB 16384u
#define XZ_DEFAULT_LUA_INSTRUCTION_LIMIT 10000000u
#define XZ_DEFAULT_LUA_TIME_LIMIT_MS 500u
#define XZ_DEFAULT_LUA_MAX_FAILURES 5u
#define XZ_DEFAULT_TOKEN_TTL_S (8u * 3600u)
#define XZ_DEFAULT_HANDLER_TIMEOUT_MS 10000u
#define XZ_DEFAULT_RESTART_BACKOFF_MS 200u
#define XZ_DEFAULT_RESTART_BACKOFF_MAX_MS 30000u

/*
 * Read and validate a deployment file. Returns 0 and fills *c (free with
 * xz_config_free) or returns -1 with every problem in d; *c is then freed
 * already. builtin_plugin_dir (may be NULL) is searched after plugin_path
 * for `so` plugins given without a path.
 */
int xz_config_load(xz_config *c, const char *path,
    const char *builtin_plugin_dir, xz_diag *d);
/* Free everything load allocated. Safe on a zeroed struct and twice. */
void xz_config_free(xz_config *c);

/* Resolved option values of one plugin instance. */
typedef struct xz_optval {
	const xz_option_decl *decl; /* points into the plugin's table */
	int                   set; /* has a value (given or default) */
	union {
		int64_t i;
		double  f;
		int     b;
		char   *s; /* owned */
	} v;
} xz_optval;

typedef struct xz_optvals {
	xz_optval *vals; /* owned */
	size_t     count;
} xz_optvals;

/*
 * Check a plugin's options (pc->options) against its declared options and
 * resolve every value (given, else default). Unknown keys, wrong types,
 * out-of-range ints and missing required values are appended to d as
 * FILE:LINE errors naming the plugin and the option. Returns the number of
 * errors; on 0, *out is filled (free with xz_optvals_free).
 */
int  xz_options_resolve(const xz_plugin_cfg *pc, const xz_option_decl *decls,
     xz_optvals *out, xz_diag *d);
void xz_optvals_free(xz_optvals *o);
const xz_optval *xz_optvals_find(const xz_optvals *o, const char *name);

/* "error" -> XZ_LOG_ERROR ...; -1 if unknown. */
int xz_log_level_parse(const char *s);

/* The config layer's texts in 简体中文 (config_msg.c; util/msg.h). */
extern const xz_tr xz_config_zh[];

#endif
