/*
 * kernel_impl.h - the kernel's private structures, shared by the files of
 * the kernel layer (kernel.c, actor.c, bus.c, timer.c, link.c, host.c,
 * sys.c, loader.c, store.c). Nothing outside core/ includes this.
 *
 * Lock order (never take an earlier lock while holding a later one):
 *   bus.lock (rwlock)  ->  actor.mu / peer.mu  ->  kernel.rq_mu
 *   pending_mu and timers.mu are leaves: nothing is taken while held,
 *   except that the timer thread takes actor.mu after dropping timers.mu.
 */
#ifndef XZ_KERNEL_IMPL_H
#define XZ_KERNEL_IMPL_H

#include <nng/nng.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "kernel.h"
#include "topic.h"
#include "u64map.h"

struct sqlite3;
struct xz_peer;

/*
 * A message inside the node: reference-counted, one copy shared by every
 * subscriber of a fan-out. pub.topic/source/data point into buf. Freed by
 * xz_kmsg_unref when the last reference goes.
 */
typedef struct xz_kmsg {
	xz_msg     pub;
	atomic_int refs;
	uint64_t   key; /* requests: the pending-table key */
	char       buf[]; /* topic NUL source NUL payload NUL */
} xz_kmsg;

/* Allocate a message; the caller owns the one reference. NULL on ENOMEM. */
xz_kmsg *xz_kmsg_new(xz_kernel *k, int kind, const char *topic,
    size_t topic_len, const char *source, const void *data, size_t len);
static inline xz_kmsg *
xz_kmsg_ref(xz_kmsg *m)
{
	atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
	return m;
}
void xz_kmsg_unref(xz_kmsg *m);
static inline xz_kmsg *
xz_kmsg_of(const xz_msg *m)
{
	return (xz_kmsg *) (void *) ((char *) m - offsetof(xz_kmsg, pub));
}

/* A subscription: of an actor (owner) or of a link peer (peer). */
typedef struct xz_sub {
	atomic_int      refs;
	atomic_bool     active;
	uint64_t        id;
	xz_plugin      *owner;
	struct xz_peer *peer;
	char           *pattern; /* owned */
	char           *group; /* owned, NULL: no queue group */
	xz_handler      fn;
	void           *ud;
} xz_sub;

void xz_sub_unref(xz_sub *s);

/* A mailbox slot. */
typedef struct xz_slot {
	xz_kmsg *msg;
	xz_sub  *sub; /* holds a reference */
} xz_slot;

/* Control-lane jobs: never bounded, never dropped (they are bounded by
 * what created them: timers, pending requests, posts). */
enum xz_job_type { XZ_JOB_TIMER, XZ_JOB_REPLY, XZ_JOB_POST };
typedef struct xz_job {
	struct xz_job *next;
	int            type;
	union {
		uint64_t timer_id;
		struct {
			struct xz_pending *pending; /* owned by the job */
			xz_kmsg           *reply; /* one reference */
			int                status;
		} reply;
		struct {
			void (*fn)(void *);
			void *arg;
		} post;
	} u;
} xz_job;

typedef struct xz_counter {
	char   *name; /* owned */
	int64_t value;
} xz_counter;

enum xz_phase {
	XZ_PHASE_LOADED = 0,
	XZ_PHASE_INITED,
	XZ_PHASE_STARTED,
	XZ_PHASE_STOPPED,
	XZ_PHASE_FAILED,
};

/* A plugin instance: an actor. */
struct xz_plugin {
	xz_kernel            *k;
	char                 *name; /* owned */
	const xz_plugin_desc *desc;
	xz_plugin_ext        *ext; /* desc as an extension (Lua), or NULL;
	                              released by the loader */
	const xz_plugin_cfg *pc; /* NULL for built-ins */
	xz_optvals           opts;
	void                *dl; /* dlopen handle, or NULL */
	void                *state;
	void (*batch_end)(void *state); /* desc->batch_end if it has one */
	atomic_int phase; /* enum xz_phase; read by workers */
	int        index; /* start order */

	pthread_mutex_t   mu;
	pthread_cond_t    not_full;
	xz_slot          *ring; /* owned, cap slots */
	uint32_t          cap, head, count;
	uint32_t          waiters;
	uint64_t          last_wake_us; /* of blocked publishers */
	xz_job           *jobs, *jobs_tail;
	bool              scheduled;
	bool              closed;
	struct xz_plugin *rq_next;

	atomic_uint_fast64_t delivered, handled, dropped, timeouts, errors;

	pthread_mutex_t cmu; /* counters */
	xz_counter     *counters;
	size_t          ncounters;

	struct sqlite3 *db;
};

/* A pending request. */
typedef struct xz_pending {
	uint64_t        key;
	uint8_t         internal_id[16]; /* the id routed on this node */
	uint8_t         req_id[16]; /* the id the requester knows */
	char           *topic; /* owned, for error messages */
	xz_plugin      *requester; /* or NULL */
	struct xz_peer *peer; /* or NULL (holds a reference) */
	xz_reply_fn     fn;
	void           *ud;
	uint64_t        timer_id;
	uint32_t        timeout_ms;
} xz_pending;

/* Timers: a min-heap on the kernel clock. */
typedef struct xz_timer {
	uint64_t    id;
	uint64_t    due_us;
	uint64_t    period_us;
	size_t      heap_ix;
	xz_plugin  *owner; /* NULL: a pending-request deadline */
	uint64_t    pending; /* pending key when owner is NULL */
	xz_timer_fn fn;
	void       *ud;
	bool        fired; /* one-shot already handed to the actor */
} xz_timer;

typedef struct xz_qgroup {
	char             *name;
	atomic_uint       rr;
	int               refs; /* under bus lock */
	struct xz_qgroup *next;
} xz_qgroup;

struct xz_kernel {
	xz_config           *cfg;
	int                  log_level;
	uint64_t             node_prefix; /* random high half of message ids */
	atomic_uint_fast64_t next_id;

	/* clock: realtime at start + monotonic elapsed + offset */
	uint64_t            base_real_us;
	uint64_t            base_mono_us;
	atomic_int_fast64_t clock_offset_us;

	/* plugins */
	xz_plugin **plugins; /* owned; in start order after sort */
	size_t      nplugins;
	bool        loaded, started;

	/* workers */
	pthread_t      *workers;
	int             nworkers;
	pthread_mutex_t rq_mu;
	pthread_cond_t  rq_cv;
	xz_plugin      *rq_head, *rq_tail;
	int             rq_idle;
	atomic_int      rq_len; /* run queue length, for spinning workers */
	bool            rq_stop;
	atomic_long     inflight; /* queued or running messages + jobs */
	pthread_mutex_t quiet_mu;
	pthread_cond_t  quiet_cv;

	/* bus */
	pthread_rwlock_t     bus_lock;
	xz_tindex           *subs;
	xz_tindex           *best_effort;
	size_t               nbest_effort_patterns;
	uint32_t             publish_timeout_ms;
	xz_u64map            subs_by_id; /* id -> xz_sub (the index's ref) */
	xz_qgroup           *groups;
	atomic_uint_fast64_t next_sub_id;
	atomic_uint_fast64_t published, delivered_total, dropped_total,
	    rejected_envelopes, backpressure_timeouts;

	/* pending requests */
	pthread_mutex_t pending_mu;
	xz_u64map       pending;

	/* timers */
	pthread_mutex_t      tm_mu;
	pthread_cond_t       tm_cv;
	pthread_t            tm_thread;
	bool                 tm_running, tm_stop, tm_plugins_paused;
	xz_timer           **heap; /* owned array */
	size_t               nheap, capheap;
	xz_u64map            timers; /* id -> xz_timer */
	atomic_uint_fast64_t next_timer_id;

	/* links */
	struct xz_link *link;

	/* stop */
	int         stop_pipe[2];
	atomic_bool stopping;
	uint64_t    started_at_us;
};

/* Thread-local: the actor whose callback runs on this thread, or NULL. */
extern _Thread_local xz_plugin *xz_current;

/* kernel.c */
uint64_t xz_now_us(const xz_kernel *k);
void     xz_new_id(xz_kernel *k, uint8_t id[16], uint64_t *key);

/* actor.c */
void xz_mutex_init_hot(pthread_mutex_t *mu);
int  xz_actor_init(xz_plugin *p, uint32_t cap);
void xz_actor_fini(xz_plugin *p);
/* Deliver msg to p for sub. XZ_OK; XZ_EFULL when dropped (best effort, or
 * a full mailbox of the calling actor itself); XZ_ETIMEDOUT after waiting
 * until deadline_us (kernel monotonic clock); XZ_ECLOSED. Takes no
 * reference from the caller: adds its own. */
int xz_actor_deliver(xz_plugin *p, xz_kmsg *msg, xz_sub *sub, bool best_effort,
    uint64_t deadline_mono_us);
/* Append a control-lane job (owned by the actor from now on). */
void xz_actor_job(xz_plugin *p, xz_job *job);
int  xz_workers_start(xz_kernel *k, int n);
void xz_workers_stop(xz_kernel *k);
/* Wait until no message or job is queued or running (or timeout_ms).
 * 0 when quiet. */
int xz_wait_quiet(xz_kernel *k, int timeout_ms);
/* Run fn(arg) in p's context and wait for it to return. */
int      xz_actor_call(xz_plugin *p, void (*fn)(void *), void *arg);
uint64_t xz_mono_us(void);

/* bus.c */
int  xz_bus_init(xz_kernel *k);
void xz_bus_fini(xz_kernel *k);
/* Route msg (kind EVENT or REQUEST) to matching subscribers. Returns
 * XZ_OK, or the first delivery error; *ntargets gets the number of
 * subscriptions chosen. */
int xz_bus_route(xz_kernel *k, xz_kmsg *msg, size_t *ntargets);
int xz_bus_subscribe(xz_kernel *k, xz_plugin *owner, struct xz_peer *peer,
    const char *pattern, const char *group, xz_handler fn, void *ud,
    uint64_t *id);
/* Remove subscription id if owner (NULL: a peer's) holds it; XZ_ENOENT
 * otherwise. */
int xz_bus_unsubscribe_id(xz_kernel *k, xz_plugin *owner, uint64_t id);
/* Remove every subscription of an owner or a peer. */
void xz_bus_unsubscribe_all(
    xz_kernel *k, xz_plugin *owner, struct xz_peer *peer);
/* Remove the subscriptions of owner/peer (with that pattern if given). */
void xz_bus_unsubscribe_pattern_of(
    xz_kernel *k, xz_plugin *owner, struct xz_peer *peer, const char *pattern);
void xz_bus_unsubscribe_pattern(
    xz_kernel *k, struct xz_peer *peer, const char *pattern);
/* Publish from the kernel or a link. */
int xz_bus_publish(xz_kernel *k, const char *source, const char *topic,
    size_t topic_len, const void *data, size_t len, int content_type);
/* Start a request; fn/peer gets the completion. XZ_ENORESPONDERS when
 * nothing matches (then nothing is kept). */
int xz_bus_request(xz_kernel *k, xz_plugin *requester, struct xz_peer *peer,
    const uint8_t *peer_req_id, const char *source, const char *topic,
    size_t topic_len, const void *data, size_t len, uint32_t timeout_ms,
    xz_reply_fn fn, void *ud);
/* Complete the pending request whose id is corr with a reply payload.
 * XZ_ENOENT when it already completed or timed out. */
int xz_bus_complete(xz_kernel *k, const uint8_t corr[16], uint64_t key,
    const char *source, const void *data, size_t len, uint16_t flags);
/* Timer thread: a pending request's deadline passed. */
void xz_bus_timeout(xz_kernel *k, uint64_t key);
/* Build the JSON error payload; caller frees. */
char *xz_error_json(const char *code, const char *message, size_t *len);
/* Lookup key from a 16-byte id. */
uint64_t xz_id_key(const uint8_t id[16]);

/* timer.c */
int  xz_timers_init(xz_kernel *k);
void xz_timers_fini(xz_kernel *k);
int  xz_timer_add(xz_kernel *k, xz_plugin *owner, uint64_t pending_key,
     uint64_t delay_us, uint64_t period_us, xz_timer_fn fn, void *ud,
     uint64_t *id);
/* Cancel timer id if owner holds it (NULL: a request deadline). */
int xz_timer_cancel(xz_kernel *k, xz_plugin *owner, uint64_t id);
/* Called by the actor running a timer job: returns 1 and the callback if
 * the timer is still alive. */
int  xz_timer_take(xz_kernel *k, uint64_t id, xz_timer_fn *fn, void **ud);
void xz_timers_kick(xz_kernel *k); /* clock moved */
void xz_timers_advance(xz_kernel *k, uint64_t delta_us);
void xz_timers_pause_plugins(xz_kernel *k);
void xz_timers_drop_owner(xz_kernel *k, xz_plugin *owner);

/* link.c */
int  xz_link_start(xz_kernel *k, xz_diag *d);
void xz_link_stop(xz_kernel *k);
/* Queue a message to a peer (subscription delivery or reply). */
int  xz_peer_deliver(struct xz_peer *peer, xz_kmsg *msg, bool best_effort,
     uint64_t deadline_mono_us);
void xz_peer_ref(struct xz_peer *peer);
void xz_peer_unref(struct xz_peer *peer);
const char *xz_peer_name(const struct xz_peer *peer);
size_t      xz_link_peer_count(xz_kernel *k);

/* loader.c */
int xz_loader_open(
    xz_kernel *k, const xz_plugin_cfg *pc, xz_plugin **out, xz_diag *d);
void xz_loader_close(xz_plugin *p);

/* store.c */
struct sqlite3 *xz_store_open(xz_plugin *p);
void            xz_store_close(xz_plugin *p);

/* sys.c */
const xz_plugin_desc *xz_sys_desc(void);
/* Publish an audit event on audit.sys.* (reloads, configuration). */
void xz_sys_audit(xz_kernel *k, const char *who, const char *action,
    const char *subject_type, const char *subject_id, const char *purpose,
    const char *outcome);
/* Reload every plugin with a reload hook; results are logged. */
void xz_sys_reload_all(xz_kernel *k);
/* Status of the node as a JSON string; caller frees. */
char *xz_status_json(xz_kernel *k);

#endif
