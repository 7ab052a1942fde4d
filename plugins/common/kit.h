/*
 * kit.h - what the platform's plugins (prison, rehab, collab) share:
 * parsing a request and its actor, replies and error replies (codes of
 * reply.h), events published after the transaction that made them
 * commits, audit events in the one format of docs/audit.md, deadline
 * clocks on the kernel clock, and the generic record operations (create,
 * apply an action of a state machine, get, list) on top of store.h and
 * fsm.h. Hex and ISO time come from the chain library (sha256.h,
 * chain.h); one-off SQL from sql.h.
 *
 * Topics: a record kind K of scenario S answers S.K.get, S.K.list and
 * S.K.<action> for each action of its machine, and publishes
 * S.K.<event> (the transition's past tense) after each change.
 */
#ifndef XZ_KIT_KIT_H
#define XZ_KIT_KIT_H

#include <stdint.h>

#include <jansson.h>
#include <xiezhi/xiezhi.h>

#include "fsm.h"
#include "kjson.h"
#include "reply.h"
#include "store.h"

/* The most spooled audit records one audit.append carries: the audit
 * plugin commits each append once, so a larger batch costs it fewer
 * commits per record, and the spool fewer round trips. One append is in
 * flight at a time, so this over the append's round trip is the most
 * records a second the spool can hand over: at 512, a busy machine's
 * round trips of 7 ms and more held the prison's alarm flow (four records
 * a flow) under 18,000 flows/s and filled the spool. */
#define KIT_DRAIN_MAX 2048
/* and stops adding records past this many bytes of body, so that a
 * batch of long records stays below the bus's max_payload (1 MiB by
 * default; an append the bus refuses as too large is sent again with
 * half as many records) */
#define KIT_DRAIN_BYTES (512u * 1024u)
/* A single record the bus still refuses as too large (a bus.max_payload
 * smaller than the record) can never be delivered: it is moved to the
 * table audit_spool_aside (with the reason and time), the log says so and
 * the counter audit_spool_set_aside counts it, and the drain goes on with
 * the next record instead of retrying that one forever. */

/* What a deadline clock runs when it is due (see kit_clock_arm). */
typedef void (*kit_clock_fn)(void *ud);

typedef struct kit_ctx {
	xz_plugin     *self;
	const xz_host *host;
	const char    *scenario; /* "prison": topic and audit prefix */
	kit_store      store;
	/* Events, each encoded when emitted (kit_emit: topic and text
	 * owned, the array grown here), published after their commit:
	 * ev[0, nev_batch) those of the batch's committed changes (group
	 * commit), ev[nev_batch, nev) those of the open transaction. */
	struct kit_event   *ev;
	size_t              nev, nev_batch, cap_ev;
	int                 in_tx;
	int64_t             list_max; /* largest page a list returns */
	struct kit_binding *bindings; /* made by kit_serve, freed in fini */
	/* group commit (SDK 1.1 batch_end): one transaction per batch of
	 * messages, one savepoint per request (or held writes: lazy);
	 * replies and events wait for
	 * the batch's commit */
	int                  group;
	int                  lazy; /* kit_lazy_enable */
	int                  batch_open;
	struct kit_deferred *deferred;
	size_t               ndeferred, cap_deferred;
	/* deadline clocks: one kernel timer for the earliest PENDING one */
	kit_clock_fn clock_fn;
	void        *clock_ud;
	uint64_t     clock_timer;
	int          clock_armed;
	/* the audit spool (docs/audit.md, "Fail-closed"): each audit record
	 * is written into audit_spool in the change's own transaction, then
	 * sent in order to the audit plugin (audit.append) and deleted once
	 * it acknowledged it. A row holds one record, or (topic '*') the
	 * records of a batch of a group commit, n of them, as the text of
	 * audit.append's records joined by commas; a row's id is the number
	 * of its last record (ids grow by n), so the spool holds max(id) -
	 * (the first row's id - its n) records. */
	int64_t spool_max; /* changes refused at this many records */
	/* Under group commit, the open batch's records, as such a text
	 * (owned, grown; written as one row before the batch commits),
	 * spool_nrec of them; spool_mark and spool_nrec_mark: where the
	 * open change's own begin (a refused change drops them). */
	kit_buf spool_batch;
	size_t  spool_nrec, spool_mark, spool_nrec_mark;
	/* The spool's size in rows' records as read at the open batch's
	 * first change, or -1: the changes after it take it from here
	 * instead of reading both ends of the spool each. Within a batch
	 * the spool changes only through this file, which drops it at each
	 * such write (a drain's delete shrinks it: dropping it there only
	 * makes it exact again) and when the batch ends. */
	int64_t spool_known;
	/* a spooled record's id: the first 8 of 16 random bytes drawn once
	 * by kit_ctx_init, then a counter started at the other 8 (unique
	 * without a system call per record) */
	uint8_t  rid_base[16];
	uint64_t rid_next;
	int      audit_failed; /* a record of the open tx failed */
	int      drain_inflight;
	int      drain_timer_armed;
	uint64_t drain_timer;
	/* the rows in flight, in order: their ids and records; drain_n
	 * rows, drain_nrec records */
	int64_t drain_ids[KIT_DRAIN_MAX];
	int64_t drain_recs[KIT_DRAIN_MAX];
	size_t  drain_n, drain_nrec;
	/* the most records the next append carries (0: KIT_DRAIN_MAX);
	 * halved while the bus refuses a batch as too large */
	size_t drain_cap;
	/* prepared once (SQLITE_PREPARE_PERSISTENT), finalized by
	 * kit_ctx_fini: insert, size, the drain's read, its delete */
	struct sqlite3_stmt *spool_ins, *spool_size, *spool_read, *spool_del,
	    *spool_ins_batch;
} kit_ctx;

typedef struct kit_actor {
	const char *user;
	const char *role;
	const char *agency;
} kit_actor;

/* One request being served (or an internal action: msg NULL). */
typedef struct kit_req {
	kit_ctx      *c;
	const xz_msg *msg; /* NULL for internal actions (timers) */
	json_t       *body; /* owned: the decoded payload */
	/* Who acts: the authenticated caller (host->caller: user, its first
	 * role, agency); the payload's "actor" only when the caller is the
	 * node, a plugin or an administrator. */
	kit_actor actor;
	/* Why the payload's actor was refused (it names someone else or
	 * another agency than the caller), or "" */
	char        actor_refused[200];
	const char *why; /* body.reason, may be NULL */
	const char *purpose; /* body.purpose, may be NULL */
	char        corr[33];
	int64_t     now_ms;
} kit_req;

/* An error to reply with: a code of the closed set (reply.h) and a
 * sentence for people. */
typedef struct kit_err {
	kit_code code;
	char     msg[512];
} kit_err;

typedef struct kit_kind kit_kind;

/* Hook run inside the transaction after rec's state was set to t->to and
 * before it is saved. It may change rec, add fields to the event it will
 * publish, create other records; return -1 with e set to refuse (the
 * whole transaction is rolled back). */
typedef int (*kit_on_action)(const kit_kind *k, kit_req *r,
    const kit_transition *t, json_t *rec, json_t *event, kit_err *e);
/* Hook run after the transaction committed (timers, ...). */
typedef void (*kit_after_action)(
    const kit_kind *k, kit_req *r, const kit_transition *t, json_t *rec);

struct kit_kind {
	const char      *name; /* "alarm": store kind and topic */
	const char      *prefix; /* id prefix: "ALM" */
	const char      *created_event; /* "raised" */
	const char      *subject_type; /* audit subject type */
	const kit_fsm   *fsm;
	int              personal; /* reads are audited as VIEW */
	kit_on_action    on_action;
	kit_after_action after_action;
	/* Optional: add computed fields to a record before S.K.get replies. */
	void (*on_get)(const kit_kind *k, kit_req *r, json_t *rec);
	void *ud; /* the plugin's state */
};

int  kit_ctx_init(kit_ctx *c, xz_plugin *self, const xz_host *host,
     const char *scenario, char *err, size_t errlen);
void kit_ctx_fini(kit_ctx *c);

/* Decode a request; on failure reply bad_request and return -1. With
 * need_actor, body.actor.user is required. kit_req_done frees it. */
int kit_req_parse(kit_ctx *c, const xz_msg *m, kit_req *r, int need_actor);
/* Fill r for request m from its decoded payload body (the request takes
 * it, whatever it is: the caller checks json_is_object(r->body)). For a
 * plugin that answers a malformed payload itself; kit_req_done frees it.
 * The actor's user may be NULL. */
void kit_req_adopt(kit_ctx *c, const xz_msg *m, json_t *body, kit_req *r);
/* An internal request (timer, subscription) acting as `user`. Takes
 * ownership of body (may be NULL; its "reason" and "purpose" are used). */
void kit_req_internal(kit_ctx *c, kit_req *r, const char *user, json_t *body);
void kit_req_done(kit_req *r);

/* Reply to r with obj (stolen). No-op for internal requests. */
void kit_reply(kit_req *r, json_t *obj);
/* kit_reply of rec (stolen), the record the request saved last and has
 * not changed since (what kit_create_tx, kit_apply and kit_apply_loaded
 * return): the reply is the text the save wrote, not encoded again.
 * Any other rec is encoded as kit_reply does. */
void kit_reply_saved(kit_req *r, json_t *rec);
/* Reply with an error and publish the REFUSE audit event. */
void kit_reply_err(kit_req *r, const kit_err *e, const char *subject_type,
    const char *subject_id);
void kit_err_set(kit_err *e, kit_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Publish data (stolen) on topic: queued until commit inside a
 * transaction, at once outside. */
void kit_emit(kit_ctx *c, const char *topic, json_t *data);
/* The audit record audit.<scenario>.<action lowercased>:
 * {"who","role","agency","action","subject_type","subject_id","purpose",
 * "outcome","service","corr","time"}, time in integer ms since the epoch
 * (docs/audit.md). Written into the store's audit spool: inside a
 * transaction as part of it (if it cannot be written, the transaction's
 * commit fails with audit_unavailable: no change without its record),
 * outside one at once; the spool is drained to the audit plugin in order.
 */
void kit_audit(kit_req *r, const char *action, const char *subject_type,
    const char *subject_id, const char *outcome);
/* The same on audit.<scenario>.<what> (NULL: the action lowercased), with
 * the keys of extra (stolen, may be NULL) added: the audit trail keeps
 * them in the record's detail. */
void kit_audit_ex(kit_req *r, const char *what, const char *action,
    const char *subject_type, const char *subject_id, const char *outcome,
    json_t *extra);

/* Group commit: from now on (call it at the end of start when the host
 * has SDK 1.1, whose batch_end calls kit_batch_end) changes of one batch
 * share a transaction. kit_batch_end commits it, then publishes the
 * batch's events and sends its replies; on a failed commit every request
 * of the batch gets a store_error reply and no event is published. */
void kit_group_enable(kit_ctx *c);

/* With group commit: a request takes no savepoint of its own; its
 * writes are held until its end (store.h: "Held writes"), so a refusal
 * has nothing to undo, and a request that reads or runs its own SQL
 * after writing takes its savepoint then. Should writing the held
 * writes fail part-way (a full disk, an I/O error), the whole batch is
 * rolled back as on a failed commit: every request of it gets a
 * store_error reply. For a plugin whose requests write through the kit
 * and store.h, or through kit_sql_row/kit_sql_run (sql.h); one that steps
 * statements of its own on the store's connection inside a change should
 * not enable it (such a write and then a refusal fails the batch). */
void kit_lazy_enable(kit_ctx *c);
void kit_batch_end(kit_ctx *c);

/* Begin a change: refused with audit_unavailable while the audit spool
 * holds spool_max records the audit plugin has not acknowledged. */
int  kit_tx_begin(kit_ctx *c, kit_err *e);
int  kit_tx_commit(kit_ctx *c, kit_err *e);
void kit_tx_abort(kit_ctx *c);

/* Inside a transaction: save rec (insert != 0: a new record) and append
 * its history row {action, from, to: rec.state, the actor, r->now_ms,
 * why}. 0, or -1 with e set (store_error). rec stays the caller's. */
int kit_record_write(kit_req *r, const char *kind, json_t *rec, int insert,
    const char *action, const char *from, const char *why, kit_err *e);

/* Inside a transaction: create a record of kind k from fields (stolen;
 * "id" taken from it if present, else PREFIX-00000001 from the kind's
 * sequence), in state fields.state or the machine's initial state. Saves
 * it, writes history, queues the created event (with the given extra
 * event fields, stolen, may be NULL) and a CREATE audit. Returns the
 * record (the caller owns it: json_decref) or NULL with e set. */
json_t *kit_create_tx(const kit_kind *k, kit_req *r, json_t *fields,
    json_t *event_extra, kit_err *e);

/* Begin, kit_create_tx, commit, reply with the record (or the error). */
void kit_create_reply(
    const kit_kind *k, kit_req *r, json_t *fields, json_t *event_extra);

/* Inside a transaction: apply `action` to record `id`. Returns the new
 * record (caller owns it) or NULL with e set (invalid_state names the
 * current state and the allowed actions). *tp gets the transition. */
json_t *kit_apply_tx(const kit_kind *k, kit_req *r, const char *id,
    const char *action, const kit_transition **tp, kit_err *e);

/* Begin, kit_apply_tx, commit and after_action: returns the record
 * (caller owns it) or NULL with e set. */
json_t *kit_apply(const kit_kind *k, kit_req *r, const char *id,
    const char *action, kit_err *e);

/* kit_apply on a record the handler loaded already in this request (the
 * plugin's messages are served one at a time, so it is still what the
 * store holds): not loaded and decoded a second time. Takes ownership of
 * rec (freed on failure). */
json_t *kit_apply_loaded(const kit_kind *k, kit_req *r, json_t *rec,
    const char *action, kit_err *e);

/* Subscribe the generic handlers of kind k: <s>.<k>.get, <s>.<k>.list
 * and one per action of its machine. */
int kit_serve_kind(kit_ctx *c, const kit_kind *k);

/* Subscribe one request handler: fn(k, r) runs with the parsed request
 * (need_actor as in kit_req_parse) and must reply. */
typedef void (*kit_req_fn)(const kit_kind *k, kit_req *r);
int kit_serve(kit_ctx *c, const char *topic, const kit_kind *k, kit_req_fn fn,
    int need_actor);

/* Helpers to read request fields. */
const char *kit_str(json_t *o, const char *key);
int64_t     kit_int(json_t *o, const char *key, int64_t def);

/* An object of string fields, as json_pack("{s:s?,...}") builds it
 * without reading a format: pairs of a key (a literal: not checked) and
 * a value (checked as UTF-8; NULL sets null), up to a NULL key. o, or a
 * new object when o is NULL; NULL when out of memory or a value is not
 * UTF-8 (o is then released). The caller owns the result. */
json_t *kit_obj_strs(json_t *o, ...);

/* Free the bindings made by kit_serve (call from fini). */
void kit_serve_free(kit_ctx *c);

/* Statutory clocks kept as a due time in a record: every record of kind k
 * in `state` whose integer field due_field is past (<= now), that has no
 * skip_field (may be NULL: the thing was done) and was not reported yet,
 * is marked (field overdue_ms, a history row "overdue") and reported on
 * `topic` as {"id","due_ms","at_ms"}. One transaction; returns how many
 * were reported, or -1 (logged). */
int kit_sweep_overdue(kit_ctx *c, const kit_kind *k, const char *state,
    const char *due_field, const char *skip_field, const char *topic);

/* Named deadline clocks (store.h: kit_store_clock_*): keep one kernel
 * timer for the earliest PENDING clock of the store; when it is due,
 * fn(ud) runs (it handles kit_store_clock_due and arms again). Call after
 * every change to the clocks and at start: a clock that lapsed while the
 * node was down fires at once. A failed arm is logged and counted
 * (clock_arm_failed); the next arm retries. */
void kit_clock_arm(kit_ctx *c, kit_clock_fn fn, void *ud);
/* Cancel the timer (call from stop). */
void kit_clock_disarm(kit_ctx *c);

/* Records in the audit spool not yet acknowledged by the audit plugin
 * (-1 on error). */
int64_t kit_spool_size(kit_ctx *c);

#endif
