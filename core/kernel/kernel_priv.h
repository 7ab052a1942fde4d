/*
 * kernel_priv.h - the kernel record and the kernel layer's internal calls,
 * grouped by the file that owns them. Files of core/kernel only.
 *
 * Inside the layer calls go one way: plugin_host.c -> kernel.c -> sys.c ->
 * isolate.c -> sys_auth.c -> host.c -> store.c, loader.c -> plugin.c.
 * Nothing below calls kernel.c.
 * kernel.c and sys.c also call nodelink.c (links to other nodes).
 */
#ifndef XZ_KERNEL_PRIV_H
#define XZ_KERNEL_PRIV_H

#include <stdatomic.h>
#include <stdbool.h>

#include "bus/bus.h"
#include "kernel/plugin.h"
#include "kernel/nodelink.h"
#include "link/link.h"
#include "sched/timer.h"
#include "util/clock.h"
#include "util/id.h"

struct xz_kernel {
	xz_config           *cfg; /* borrowed */
	const xz_kernel_ext *ext; /* Lua loader, console; or NULL */
	xz_clock             clock;
	xz_idgen             ids;
	xz_sched            *sched; /* owned */
	xz_timers           *timers; /* owned */
	xz_bus              *bus; /* owned */
	xz_link             *link; /* owned, while started */
	xz_nodelink         *nodelink; /* owned; NULL: no `links` */

	xz_plugin **plugins; /* owned; in start order after sort */
	size_t      nplugins;
	bool        loaded, started;

	xz_kernel_notify notify; /* fn NULL: nobody to tell */
	void (*trim)(
	    void); /* NULL: glibc's malloc_trim (xz_kernel_set_trim) */

	/* The node's own principal ("node:<name>", role admin): the sender
	 * of kernel messages, and the caller of a message without one. */
	xz_principal    *who; /* owned */
	xz_link_verifier verifier; /* session tokens; fn NULL: none */
	xz_principal    *admin; /* "admin": root and the node's uid (owned) */
	xz_link_id      *link_ids; /* auth.local + auth.certs (owned, each
	                              with one reference on its who) */
	size_t nlink_ids;
	/* The first nlink_cert_ids of link_ids are the node links' own
	 * certificate ids; the rest come from auth.local and auth.certs,
	 * replaced by a reload under ids_lock (sys_auth.c). id_cns: the
	 * certificate names a reload copied (owned; one slot per link_ids
	 * entry, NULL where the name is borrowed), or NULL. */
	size_t               nlink_cert_ids;
	pthread_rwlock_t     ids_lock;
	char               **id_cns;
	xz_link_auth         link_auth; /* what the link is given */
	xz_authz            *authz; /* auth.roles (owned) */
	xz_authz            *grants; /* plugins' grants, a role each (owned) */
	atomic_uint_fast64_t denied; /* plugin grant violations */

	struct xz_store_node *storenode; /* store.c: lock and manifest */
	/* store.c: the stores' background checkpoints (owned; its thread
	 * starts with the first store opened). */
	struct xz_ckpt *ckpt;
	/* The child of an isolated plugin has no manifest of its own: its
	 * store's identity, generation and schema go to the node by this
	 * (plugin_host.c), which lists them (xz_store_manifest_note). */
	void (*store_note)(
	    xz_plugin *p, const char *id, int64_t gen, int64_t schema);

	/* Plugins not started because their listed store is missing
	 * (hold_lost, set by `xiezhi run`: the node runs without them, so
	 * `xiezhi audit reset` can accept the loss on record; otherwise such
	 * a store refuses the node). Owned list. */
	bool                  hold_lost;
	struct xz_store_held *held;

	/* bus.durable: the durable log (owned), NULL when not configured.
	 * Opened at start, after the data folder's lock. */
	struct xz_durable *durable;

	struct xz_watch *watch; /* isolate.c: the handler watch (owned) */

	/* kaudit.c: the kernel's audit spool (owned), NULL without a data
	 * folder. Opened at start, after the data folder's lock. */
	struct xz_kaudit *kaudit;

	/* The owner of the kernel's reservation of audit.> requests: an
	 * actor that never subscribes, so with no audit plugin nobody
	 * answers audit.* (never run; only its address is used). */
	xz_actor audit_guard;

	int         stop_pipe[2];
	atomic_bool stopping;
	uint64_t    started_at_us;
};

/* host.c: the bus's count hook (xz_bus_cfg.count): a message delivered
 * to (or dropped at) the mailbox of owner, a plugin instance, by topic
 * class (plugin.h). */
void xz_host_count_delivery(
    void *ud, xz_actor *owner, const char *topic, bool dropped);

/* loader.c: open a configured plugin / free an instance not running. */
int xz_loader_open(
    xz_kernel *k, const xz_plugin_cfg *pc, xz_plugin **out, xz_diag *d);
void xz_loader_close(xz_plugin *p);

/* store.c: the instance's SQLite database, opened on first use. */
struct sqlite3 *xz_store_open(xz_plugin *p);
void            xz_store_close(xz_plugin *p);
/* store.c: the checkpointer of the kernel's stores (k->ckpt): made by
 * xz_kernel_new (0, or -1 out of memory), freed after every store is
 * closed (its thread stopped). */
int  xz_store_ckpt_new(xz_kernel *k);
void xz_store_ckpt_free(xz_kernel *k);
/* store.c: check the loaded plugins' stores against the data folder's
 * manifest (missing, replaced, rolled back, quick_check); the number of
 * errors added to d. */
int xz_store_check_all(xz_kernel *k, xz_diag *d);
/* store.c: take the data folder's lock (a second node is refused) and
 * read its manifest; 0, or 1 with the reason in d. Close releases. */
int  xz_store_node_open(xz_kernel *k, xz_diag *d);
void xz_store_node_close(xz_kernel *k);
/* store.c: list the store of plugin name (made or opened by the child of
 * an isolated plugin) in the manifest; 0, or -1 (logged; also when the
 * manifest lists another identity for it). */
int xz_store_manifest_note(xz_kernel *k, const char *name, const char *id,
    int64_t gen, int64_t schema);

/* store.c: a plugin held at start (its listed store is missing). */
struct xz_store_held {
	struct xz_store_held *next;
	char                 *name, *why; /* owned */
};
/* store.c: the sentence why plugin name is held, or NULL. */
const char *xz_store_held(xz_kernel *k, const char *name);
void        xz_store_held_free(xz_kernel *k);
/* store.c: name's line of the manifest: 1 and id, *gen; 0 not listed. */
int xz_store_manifest_get(
    xz_kernel *k, const char *name, char id[33], int64_t *gen);
/* store.c: drop name's line (with identity id) from the manifest and
 * write it: 0, 1 not listed (so), -1 the file cannot be written (the
 * line stays). */
int xz_store_manifest_drop(xz_kernel *k, const char *name, const char *id);

/* perms.c: the permissions of c, auth.roles (grants false) or the
 * plugins' grants (true: a role each plugin that has them, named after
 * it); NULL on ENOMEM. */
xz_authz *xz_perms_build(const xz_config *c, bool grants);
/* perms.c: read the config file again and put its permissions
 * (auth.roles, the plugins' grants) in force; remote subscriptions they
 * forbid are dropped. A config with errors changes nothing: XZ_EINVAL,
 * the errors (FILE:LINE) in why. */
int xz_kernel_perms_reload(xz_kernel *k, char *why, size_t n);

/* kaudit.c: the kernel's own audit records (docs/audit.md). open: at
 * start, after the data folder's lock; 0, or 1 with the reason in d. */
int  xz_kaudit_open(xz_kernel *k, xz_diag *d);
void xz_kaudit_close(xz_kernel *k);
/* A record of a state change, in the spool and on disk (fdatasync) when
 * XZ_OK; anything else: not written, refuse the change. Without a data
 * folder it is published as an event. Any thread. */
int xz_kaudit_write(xz_kernel *k, const char *topic, const char *json);
/* A best-effort record (a login, a refusal): published as an event; one
 * that could not be is counted (lost). Returns the publish's result. */
int  xz_kaudit_event(xz_kernel *k, const char *source, const char *topic,
     const char *json, size_t len);
void xz_kaudit_lost(xz_kernel *k);
/* {"spooled","written","acked","refused","lost"}, NULL without a spool. */
struct json_t *xz_kaudit_status(xz_kernel *k);
/* Hand the oldest spooled records to audit.append (one batch at a time),
 * from the sys actor. */
void xz_kaudit_drain(xz_kernel *k, xz_plugin *sys, const xz_host *h);

/* sys_auth.c: put auth.local and auth.certs of nc (a config already
 * validated) in force, if they changed, after a kernel audit record of
 * the change (before and after); XZ_OK (also when unchanged), or the
 * old ones stay (logged) when the record cannot be written. */
int xz_auth_ids_reload(xz_kernel *k, const xz_config *nc);

/* sys.c: the built-in `sys` actor (ping, status, clock, reload). */
const xz_plugin_desc *xz_sys_desc(void);
int xz_sys_audit(xz_kernel *k, const char *who, const char *action,
    const char *subject_type, const char *subject_id, const char *purpose,
    const char *outcome);
/* Reload every plugin with a reload hook; results are logged. */
void xz_sys_reload_all(xz_kernel *k);
/* Tell the service manager (xz_kernel_notify), if there is one. */
void xz_sys_notify(xz_kernel *k, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* sys_auth.c: login, sessions, identity administration (xz.sys.auth.*,
 * xz.sys.identity.*), run by the sys actor; *out is its state. stop
 * closes the identity store (after the links are down), fini frees. */
int  xz_sys_auth_init(xz_plugin *self, const xz_host *h, void **out);
void xz_sys_auth_stop(void *auth);
void xz_sys_auth_fini(void *auth);
/* Status of the node as a JSON string; the caller frees. */
char *xz_status_json(xz_kernel *k);

#endif
