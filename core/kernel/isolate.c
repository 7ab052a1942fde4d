/*
 * isolate.c - the node's side of isolated plugins (isolation = "process")
 * and the watch on handlers of plugins in the node. See isolate.h.
 *
 * Per isolated plugin one supervisor thread owns the child: it spawns
 * it, writes the frames queued for it, reads its frames and makes its
 * host calls through the real host table on the plugin's instance (so
 * grants, audit of refusals, backpressure and principals are the same
 * as in the node), and kills it when it crashes, overruns
 * handler_timeout_ms or memory_limit_mb, writes garbage or floods.
 *
 * Workers never wait for a child: a message for the child is a frame
 * queued here. At most `window` frames may be unanswered (sent, no
 * DONE yet); a worker that finds the window full waits, and the
 * supervisor's handler_timeout_ms bounds that wait (the child that does
 * not answer is killed, which empties the window).
 *
 * ud of a subscription, timer or request made for the child encodes
 * (generation << 40 | the child's id), so a callback for a child that
 * is gone is recognised and not sent to its successor.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "kernel/isolate.h"
#include "kernel/kernel_priv.h"
#include "util/errors.h"
#include "util/msg.h"

/* ---- frames ---------------------------------------------------------- */

static void
buf_room(xz_iso_buf *b, size_t n)
{
	if (b->oom || b->len + n <= b->cap)
		return;
	size_t   cap = b->cap ? b->cap : 256;
	uint8_t *p;
	while (cap < b->len + n)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL) {
		b->oom = true;
		return;
	}
	b->p   = p;
	b->cap = cap;
}

void
xz_iso_raw(xz_iso_buf *b, const void *p, size_t n)
{
	buf_room(b, n);
	if (!b->oom && n > 0) {
		memcpy(b->p + b->len, p, n);
		b->len += n;
	}
}

void
xz_iso_u8(xz_iso_buf *b, uint8_t v)
{
	xz_iso_raw(b, &v, 1);
}

void
xz_iso_u16(xz_iso_buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t) v, (uint8_t) (v >> 8) };
	xz_iso_raw(b, x, 2);
}

void
xz_iso_u32(xz_iso_buf *b, uint32_t v)
{
	uint8_t x[4];
	for (int i = 0; i < 4; i++)
		x[i] = (uint8_t) (v >> (8 * i));
	xz_iso_raw(b, x, 4);
}

void
xz_iso_u64(xz_iso_buf *b, uint64_t v)
{
	uint8_t x[8];
	for (int i = 0; i < 8; i++)
		x[i] = (uint8_t) (v >> (8 * i));
	xz_iso_raw(b, x, 8);
}

void
xz_iso_str(xz_iso_buf *b, const void *s, size_t n)
{
	xz_iso_u32(b, (uint32_t) n);
	xz_iso_raw(b, s, n);
	xz_iso_u8(b, 0);
}

void
xz_iso_begin(xz_iso_buf *b, uint8_t t)
{
	b->len = 0;
	xz_iso_u32(b, 0);
	xz_iso_u8(b, t);
}

int
xz_iso_end(xz_iso_buf *b)
{
	if (b->oom || b->len < 5)
		return -1;
	uint32_t n = (uint32_t) (b->len - 4);
	for (int i = 0; i < 4; i++)
		b->p[i] = (uint8_t) (n >> (8 * i));
	return 0;
}

const void *
xz_iso_rd_raw(xz_iso_rd *r, size_t n)
{
	const void *p;
	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

uint8_t
xz_iso_rd_u8(xz_iso_rd *r)
{
	const uint8_t *x = xz_iso_rd_raw(r, 1);
	return x ? x[0] : 0;
}

uint16_t
xz_iso_rd_u16(xz_iso_rd *r)
{
	const uint8_t *x = xz_iso_rd_raw(r, 2);
	return x ? (uint16_t) (x[0] | (x[1] << 8)) : 0;
}

uint32_t
xz_iso_rd_u32(xz_iso_rd *r)
{
	const uint8_t *x = xz_iso_rd_raw(r, 4);
	uint32_t       v = 0;
	for (int i = 0; x && i < 4; i++)
		v |= (uint32_t) x[i] << (8 * i);
	return v;
}

uint64_t
xz_iso_rd_u64(xz_iso_rd *r)
{
	const uint8_t *x = xz_iso_rd_raw(r, 8);
	uint64_t       v = 0;
	for (int i = 0; x && i < 8; i++)
		v |= (uint64_t) x[i] << (8 * i);
	return v;
}

const char *
xz_iso_rd_str(xz_iso_rd *r, size_t *n)
{
	uint32_t    len = xz_iso_rd_u32(r);
	const char *s;

	if (r->bad || (size_t) len >= r->len - r->off) {
		r->bad = true;
		return NULL;
	}
	s = xz_iso_rd_raw(r, (size_t) len + 1);
	if (s == NULL || s[len] != '\0') {
		r->bad = true;
		return NULL;
	}
	if (n != NULL)
		*n = len;
	return s;
}

void
xz_iso_put_msg(xz_iso_buf *b, xz_plugin *p, const xz_msg *m)
{
	const xz_caller *c      = xz_kernel_host()->caller(p, m);
	uint32_t         nroles = 0;

	xz_iso_u8(b, m->kind);
	xz_iso_u8(b, m->content_type);
	xz_iso_u16(b, m->flags);
	xz_iso_str(b, m->topic, m->topic_len);
	xz_iso_str(b, m->source, m->source ? strlen(m->source) : 0);
	xz_iso_str(b, m->data, m->len);
	xz_iso_raw(b, m->id, 16);
	xz_iso_raw(b, m->corr, 16);
	xz_iso_u64(b, m->timestamp_us);
	xz_iso_u64(b, m->deadline_us);
	xz_iso_str(b, c->user, strlen(c->user));
	xz_iso_str(b, c->name, strlen(c->name));
	xz_iso_str(b, c->agency, strlen(c->agency));
	xz_iso_str(b, c->auth, strlen(c->auth));
	while (c->roles[nroles] != NULL && nroles < 32)
		nroles++;
	xz_iso_u32(b, nroles);
	for (uint32_t i = 0; i < nroles; i++)
		xz_iso_str(b, c->roles[i], strlen(c->roles[i]));
}

/* ---- the supervisor -------------------------------------------------- */

enum { ISO_STARTING, ISO_UP, ISO_BACKOFF, ISO_STOPPED };
static const char *const iso_state_names[]
    = { "starting", "running", "backoff", "stopped" };

#define ISO_GEN_SHIFT 40
#define ISO_ID_MASK ((UINT64_C(1) << ISO_GEN_SHIFT) - 1)
/* Log and counter records a child may send in one second. */
#define ISO_FLOOD_PER_S 5000
/* Most unanswered frames to one child. */
#define ISO_WINDOW_MAX 1024u

typedef struct iso_frame {
	struct iso_frame *next;
	uint64_t          seq; /* 0: a RESULT, not answered by DONE */
	size_t            len, off;
	char              what[96]; /* for the log: the topic or "timer" */
	uint8_t           data[];
} iso_frame;

typedef struct iso_req {
	struct iso_req *next;
	uint64_t        seq;
	const xz_msg   *msg; /* one reference (host msg_retain) */
} iso_req;

typedef struct iso_pair {
	uint64_t child, node, period;
} iso_pair;

typedef struct xz_isolate {
	xz_plugin     *p;
	xz_kernel     *k;
	const xz_host *h;
	pthread_t      thr;
	bool           thr_started;
	int            wake[2];
	char           exe[PATH_MAX];
	char cfgpath[PATH_MAX]; /* absolute: the child's cwd may differ */

	uint32_t timeout_ms, start_ms, window;
	uint64_t memory_limit_kib; /* 0: none */

	pthread_mutex_t mu;
	pthread_cond_t  cv;
	/* under mu */
	int        state;
	bool       stop, ready_once, restart_now, planned;
	int        first_rc;
	uint64_t   gen;
	int        fd;
	pid_t      pid;
	iso_frame *qhead, *qtail; /* to write */
	iso_frame *fhead, *ftail; /* written, waiting for DONE */
	uint64_t   seq, done, unanswered;
	uint64_t   busy_since_us; /* monotonic */
	iso_req   *reqs;
	iso_pair  *subs, *timers;
	size_t     nsubs, ntimers, capsubs, captimers;
	char       restart_why[160];
	/* status */
	uint64_t restarts, dropped, unavailable, kills_timeout;
	uint64_t backoff_ms, next_start_mono_us, up_since_mono_us;
	uint32_t failures;
	char     last_exit[200];

	/* the supervisor thread's own */
	uint8_t *rbuf;
	size_t   rlen, rcap;
	uint64_t flood_window_us, flood_count;
	uint64_t start_deadline_us;
} xz_isolate;

static uint64_t
gen_ud(xz_isolate *iso, uint64_t id)
{
	return (iso->gen << ISO_GEN_SHIFT) | (id & ISO_ID_MASK);
}

static void
iso_wake(xz_isolate *iso)
{
	char c = 1;
	(void) !write(iso->wake[1], &c, 1);
}

/* Queue a frame (mu held). seq frames count against the window. */
static void
queue_frame(xz_isolate *iso, xz_iso_buf *b, uint64_t seq, const char *what)
{
	iso_frame *f;

	if (xz_iso_end(b) != 0 || (f = malloc(sizeof(*f) + b->len)) == NULL) {
		xz_log(XZ_LOG_ERROR, iso->p->name,
		    "isolation: no memory for a frame to the child");
		return;
	}
	f->next = NULL;
	f->seq  = seq;
	f->len  = b->len;
	f->off  = 0;
	snprintf(f->what, sizeof(f->what), "%s", what ? what : "");
	memcpy(f->data, b->p, b->len);
	if (iso->qtail)
		iso->qtail->next = f;
	else
		iso->qhead = f;
	iso->qtail = f;
	if (seq != 0) {
		if (iso->unanswered++ == 0)
			iso->busy_since_us = xz_mono_us();
	}
	iso_wake(iso);
}

/* The node's clock follows each frame's type. */
static void
node_begin(xz_isolate *iso, xz_iso_buf *b, uint8_t t)
{
	xz_iso_begin(b, t);
	xz_iso_u64(b, xz_clock_now_us(&iso->k->clock));
}

/* The child takes frames (mu held): up, or starting. A starting child
 * keeps what comes while its init waits for a call's result and handles
 * it once ready, so a message for a subscription it made in init (the
 * durable log's redelivery above all) is queued, not dropped. */
static bool
child_live(const xz_isolate *iso)
{
	return iso->state == ISO_UP || iso->state == ISO_STARTING;
}

/* Wait (mu held) until the window has room or the child is gone. */
static bool
window_wait(xz_isolate *iso, uint64_t gen)
{
	while (child_live(iso) && iso->gen == gen
	    && iso->unanswered >= iso->window && !iso->stop)
		pthread_cond_wait(&iso->cv, &iso->mu);
	return child_live(iso) && iso->gen == gen && !iso->stop;
}

static void
say_unavailable(xz_isolate *iso, const xz_msg *m, const char *why)
{
	char text[320];

	snprintf(text, sizeof(text),
	    "plugin '%s' runs in its own process, which is %s: nothing was "
	    "done, retry with backoff",
	    iso->p->name, why);
	iso->h->reply_error(iso->p, m, XZ_REPLY_UNAVAILABLE, text);
}

/* A message for one of the child's subscriptions (a worker, in the
 * plugin's actor context). */
static void
fwd_deliver(void *ud, const xz_msg *m)
{
	xz_plugin  *p   = xz_plugin_current();
	xz_isolate *iso = p ? p->iso : NULL;
	uint64_t    v   = (uint64_t) (uintptr_t) ud;
	xz_iso_buf  b   = { 0 };
	const char *why = NULL;

	if (iso == NULL)
		return;
	pthread_mutex_lock(&iso->mu);
	if ((v >> ISO_GEN_SHIFT) != iso->gen || !child_live(iso))
		why = iso->state == ISO_STOPPED ? "stopped" : "restarting";
	else if (!window_wait(iso, v >> ISO_GEN_SHIFT))
		why = "restarting";
	if (why == NULL) {
		uint64_t seq = ++iso->seq;
		node_begin(iso, &b, XZ_ISO_DELIVER);
		xz_iso_u64(&b, seq);
		xz_iso_u64(&b, v & ISO_ID_MASK);
		xz_iso_put_msg(&b, p, m);
		if (m->kind == XZ_KIND_REQUEST) {
			iso_req *r = malloc(sizeof(*r));
			if (r != NULL) {
				r->seq    = seq;
				r->msg    = iso->h->msg_retain(p, m);
				r->next   = iso->reqs;
				iso->reqs = r;
			}
		}
		queue_frame(iso, &b, seq, m->topic);
	} else {
		if (m->kind == XZ_KIND_REQUEST)
			iso->unavailable++;
		else
			iso->dropped++;
	}
	pthread_mutex_unlock(&iso->mu);
	free(b.p);
	if (why != NULL && m->kind == XZ_KIND_REQUEST)
		say_unavailable(iso, m, why);
}

/* Queue (mu held) a callback frame of type t for the child's id in v:
 * [seq][id], then for a reply its status and message. Nothing when v is
 * of a child that is gone, or the child goes while the window is full. */
static void
queue_callback(xz_isolate *iso, xz_plugin *p, uint64_t v, uint8_t t,
    const char *what, int status, const xz_msg *reply)
{
	xz_iso_buf b = { 0 };
	uint64_t   seq;

	if ((v >> ISO_GEN_SHIFT) != iso->gen
	    || !window_wait(iso, v >> ISO_GEN_SHIFT))
		return;
	seq = ++iso->seq;
	node_begin(iso, &b, t);
	xz_iso_u64(&b, seq);
	xz_iso_u64(&b, v & ISO_ID_MASK);
	if (t == XZ_ISO_REPLY) {
		xz_iso_u32(&b, (uint32_t) status);
		xz_iso_put_msg(&b, p, reply);
	}
	queue_frame(iso, &b, seq, what);
	free(b.p);
}

static void
fwd_timer(void *ud, uint64_t node_id)
{
	xz_plugin  *p   = xz_plugin_current();
	xz_isolate *iso = p ? p->iso : NULL;

	if (iso == NULL)
		return;
	pthread_mutex_lock(&iso->mu);
	for (size_t i = 0; i < iso->ntimers; i++)
		if (iso->timers[i].node == node_id
		    && iso->timers[i].period == 0) {
			iso->timers[i] = iso->timers[--iso->ntimers];
			break;
		}
	queue_callback(iso, p, (uint64_t) (uintptr_t) ud, XZ_ISO_TIMER,
	    "a timer", 0, NULL);
	pthread_mutex_unlock(&iso->mu);
}

static void
fwd_reply(void *ud, int status, const xz_msg *reply)
{
	xz_plugin  *p   = xz_plugin_current();
	xz_isolate *iso = p ? p->iso : NULL;

	if (iso == NULL)
		return;
	pthread_mutex_lock(&iso->mu);
	queue_callback(iso, p, (uint64_t) (uintptr_t) ud, XZ_ISO_REPLY,
	    "a reply", status, reply);
	pthread_mutex_unlock(&iso->mu);
}

static int
pair_add(iso_pair **v, size_t *n, size_t *cap, iso_pair e)
{
	if (*n == *cap) {
		size_t    c = *cap ? *cap * 2 : 8;
		iso_pair *g = realloc(*v, c * sizeof(*g));
		if (g == NULL)
			return -1;
		*v   = g;
		*cap = c;
	}
	(*v)[(*n)++] = e;
	return 0;
}

static bool
pair_take(iso_pair *v, size_t *n, uint64_t child, iso_pair *out)
{
	for (size_t i = 0; i < *n; i++)
		if (v[i].child == child) {
			*out = v[i];
			v[i] = v[--*n];
			return true;
		}
	return false;
}

/* Take (under mu) the pair of the child's id from *v: its node id. */
static bool
pair_take_locked(
    xz_isolate *iso, iso_pair **v, size_t *n, uint64_t child, uint64_t *node)
{
	iso_pair e = { 0 };
	bool     found;

	pthread_mutex_lock(&iso->mu);
	found = pair_take(*v, n, child, &e);
	pthread_mutex_unlock(&iso->mu);
	*node = e.node;
	return found;
}

/* ---- one frame from the child (supervisor thread) ---- */

static void
send_result(xz_isolate *iso, int rc)
{
	xz_iso_buf b = { 0 };
	pthread_mutex_lock(&iso->mu);
	node_begin(iso, &b, XZ_ISO_RESULT);
	xz_iso_u32(&b, (uint32_t) rc);
	queue_frame(iso, &b, 0, NULL);
	pthread_mutex_unlock(&iso->mu);
	free(b.p);
}

/* 0, or -1 with *why (garbage, a flood). */
static int
handle_frame(
    xz_isolate *iso, const uint8_t *f, size_t len, char *why, size_t whylen)
{
	xz_iso_rd      r = { .p = f, .len = len };
	uint8_t        t = xz_iso_rd_u8(&r);
	xz_plugin     *p = iso->p;
	const xz_host *h = iso->h;
	const char    *s, *s2;
	size_t         n;
	uint64_t       a, c;
	int            rc = XZ_OK;

	if (t == XZ_ISO_LOG || t == XZ_ISO_COUNTER) {
		uint64_t now = xz_mono_us();
		if (now - iso->flood_window_us > 1000000u) {
			iso->flood_window_us = now;
			iso->flood_count     = 0;
		}
		if (++iso->flood_count > ISO_FLOOD_PER_S) {
			snprintf(why, whylen,
			    "flooded its link: more than %d log and counter "
			    "records in one second",
			    ISO_FLOOD_PER_S);
			return -1;
		}
	}
	switch (t) {
	case XZ_ISO_READY:
		rc = (int) xz_iso_rd_u32(&r);
		if (r.bad)
			break;
		pthread_mutex_lock(&iso->mu);
		if (iso->state != ISO_STARTING) {
			pthread_mutex_unlock(&iso->mu);
			snprintf(why, whylen, "sent READY twice");
			return -1;
		}
		if (rc == XZ_OK) {
			iso->state            = ISO_UP;
			iso->up_since_mono_us = xz_mono_us();
			/* what was queued during the start is timed from
			 * now: the handlers could not run before */
			if (iso->unanswered > 0)
				iso->busy_since_us = iso->up_since_mono_us;
		}
		if (!iso->ready_once) {
			iso->ready_once = true;
			iso->first_rc   = rc;
		}
		pthread_cond_broadcast(&iso->cv);
		pthread_mutex_unlock(&iso->mu);
		if (rc != XZ_OK) {
			snprintf(why, whylen, "init or start failed: %s",
			    xz_strerror(rc));
			return -1;
		}
		xz_log(XZ_LOG_INFO, p->name, "isolated: child pid %ld running",
		    (long) iso->pid);
		return 0;
	case XZ_ISO_DONE:
		a = xz_iso_rd_u64(&r);
		if (r.bad)
			break;
		pthread_mutex_lock(&iso->mu);
		if (iso->fhead == NULL || iso->fhead->seq != a) {
			pthread_mutex_unlock(&iso->mu);
			snprintf(why, whylen,
			    "answered a callback it was not running (DONE "
			    "%llu)",
			    (unsigned long long) a);
			return -1;
		}
		iso_frame *fr = iso->fhead;
		if ((iso->fhead = fr->next) == NULL)
			iso->ftail = NULL;
		free(fr);
		iso->done = a;
		iso->unanswered--;
		iso->busy_since_us = xz_mono_us();
		pthread_cond_broadcast(&iso->cv);
		pthread_mutex_unlock(&iso->mu);
		return 0;
	case XZ_ISO_LOG:
		a = xz_iso_rd_u32(&r);
		s = xz_iso_rd_str(&r, NULL);
		if (r.bad)
			break;
		h->log(
		    p, (int) (a > XZ_LOG_DEBUG ? XZ_LOG_DEBUG : a), "%s", s);
		return 0;
	case XZ_ISO_COUNTER:
		a = xz_iso_rd_u64(&r);
		s = xz_iso_rd_str(&r, NULL);
		if (r.bad)
			break;
		h->counter_add(p, s, (int64_t) a);
		return 0;
	case XZ_ISO_PUB:
		s  = xz_iso_rd_str(&r, NULL);
		s2 = xz_iso_rd_str(&r, &n);
		if (r.bad)
			break;
		send_result(iso, h->publish(p, s, s2, n));
		return 0;
	case XZ_ISO_SUB:
	case XZ_ISO_SUBD: {
		uint64_t id = 0;
		a           = xz_iso_rd_u64(&r);
		s           = xz_iso_rd_str(&r, NULL);
		s2          = t == XZ_ISO_SUB ? xz_iso_rd_str(&r, NULL) : "";
		if (r.bad || a == 0 || a > ISO_ID_MASK)
			break;
		pthread_mutex_lock(&iso->mu);
		c = gen_ud(iso, a);
		pthread_mutex_unlock(&iso->mu);
		/* Durable: the instance is the log's consumer, so what a
		 * child left unacknowledged (it crashed) is delivered again
		 * when its successor subscribes. */
		rc = t == XZ_ISO_SUBD
		    ? h->subscribe_durable(
		        p, s, fwd_deliver, (void *) (uintptr_t) c, &id)
		    : h->subscribe(p, s, s2[0] ? s2 : NULL, fwd_deliver,
		        (void *) (uintptr_t) c, &id);
		if (rc == XZ_OK) {
			pthread_mutex_lock(&iso->mu);
			if (pair_add(&iso->subs, &iso->nsubs, &iso->capsubs,
			        (iso_pair) { a, id, 0 })
			    != 0) {
				pthread_mutex_unlock(&iso->mu);
				h->unsubscribe(p, id);
				rc = XZ_ENOMEM;
			} else
				pthread_mutex_unlock(&iso->mu);
		}
		send_result(iso, rc);
		return 0;
	}
	case XZ_ISO_UNSUB:
	case XZ_ISO_TCANCEL: {
		bool unsub = t == XZ_ISO_UNSUB;
		a          = xz_iso_rd_u64(&r);
		if (r.bad)
			break;
		if (!pair_take_locked(iso, unsub ? &iso->subs : &iso->timers,
		        unsub ? &iso->nsubs : &iso->ntimers, a, &c))
			rc = XZ_ENOENT;
		else
			rc = unsub ? h->unsubscribe(p, c)
			           : h->timer_cancel(p, c);
		send_result(iso, rc);
		return 0;
	}
	case XZ_ISO_REQ: {
		uint32_t to;
		a  = xz_iso_rd_u64(&r);
		to = xz_iso_rd_u32(&r);
		s  = xz_iso_rd_str(&r, NULL);
		s2 = xz_iso_rd_str(&r, &n);
		if (r.bad || a == 0 || a > ISO_ID_MASK)
			break;
		pthread_mutex_lock(&iso->mu);
		c = gen_ud(iso, a);
		pthread_mutex_unlock(&iso->mu);
		send_result(iso,
		    h->request(
		        p, s, s2, n, to, fwd_reply, (void *) (uintptr_t) c));
		return 0;
	}
	case XZ_ISO_ANSWER: {
		iso_req *q = NULL, **pp;
		uint16_t fl;
		a  = xz_iso_rd_u64(&r);
		fl = xz_iso_rd_u16(&r);
		s  = xz_iso_rd_str(&r, &n);
		if (r.bad)
			break;
		pthread_mutex_lock(&iso->mu);
		for (pp = &iso->reqs; *pp != NULL; pp = &(*pp)->next)
			if ((*pp)->seq == a) {
				q   = *pp;
				*pp = q->next;
				break;
			}
		pthread_mutex_unlock(&iso->mu);
		if (q == NULL)
			rc = XZ_ENOENT; /* answered already, or expired */
		else if (n > iso->k->cfg->max_payload)
			rc = XZ_ETOOBIG;
		else
			rc = xz_bus_complete(iso->k->bus, q->msg->id,
			    xz_kmsg_of(q->msg)->key, p->name, s, n,
			    fl & XZ_MSG_ERROR, p->who);
		if (q != NULL) {
			h->msg_release(p, q->msg);
			free(q);
		}
		send_result(iso, rc);
		return 0;
	}
	case XZ_ISO_TSTART: {
		uint64_t id = 0, delay, period;
		a           = xz_iso_rd_u64(&r);
		delay       = xz_iso_rd_u64(&r);
		period      = xz_iso_rd_u64(&r);
		if (r.bad || a == 0 || a > ISO_ID_MASK)
			break;
		pthread_mutex_lock(&iso->mu);
		c = gen_ud(iso, a);
		/* Under mu: a timer due at once finds its pair. */
		rc = h->timer_start(
		    p, delay, period, fwd_timer, (void *) (uintptr_t) c, &id);
		if (rc == XZ_OK
		    && pair_add(&iso->timers, &iso->ntimers, &iso->captimers,
		           (iso_pair) { a, id, period })
		        != 0) {
			h->timer_cancel(p, id);
			rc = XZ_ENOMEM;
		}
		pthread_mutex_unlock(&iso->mu);
		send_result(iso, rc);
		return 0;
	}
	case XZ_ISO_ACK: {
		const void *id = xz_iso_rd_raw(&r, 16);
		xz_msg      m;
		if (r.bad || r.off != r.len)
			break;
		memset(&m, 0, sizeof(m));
		m.kind  = XZ_KIND_EVENT;
		m.flags = XZ_MSG_DURABLE;
		memcpy(m.id, id, 16);
		(void) h->ack(p, &m);
		return 0;
	}
	case XZ_ISO_STORE:
		s = xz_iso_rd_str(&r, &n);
		a = xz_iso_rd_u64(&r);
		c = xz_iso_rd_u64(&r);
		if (r.bad || n != 32 || strspn(s, "0123456789abcdef") != 32)
			break;
		(void) xz_store_manifest_note(
		    iso->k, p->name, s, (int64_t) a, (int64_t) c);
		return 0;
	default:
		snprintf(why, whylen,
		    "wrote garbage on its link (frame type %u)", t);
		return -1;
	}
	snprintf(why, whylen,
	    "wrote garbage on its link (a malformed frame of type %u)", t);
	return -1;
}

/* ---- spawning, reaping ---- */

static int
spawn(xz_isolate *iso, char *why, size_t whylen)
{
	int   sv[2];
	char  fdarg[16], nowarg[32];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(why, whylen, "socketpair: %s", strerror(errno));
		return -1;
	}
	snprintf(fdarg, sizeof(fdarg), "%d", 3);
	snprintf(nowarg, sizeof(nowarg), "%llu",
	    (unsigned long long) xz_clock_now_us(&iso->k->clock));
	char *argv[] = { iso->exe, "plugin-host", iso->cfgpath, iso->p->name,
		fdarg, nowarg, NULL };
	pid          = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls until exec. */
		if (sv[1] == 3)
			(void) fcntl(3, F_SETFD, 0);
		else if (dup2(sv[1], 3) != 3)
			_exit(126);
		(void) prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(iso->exe, argv);
		_exit(127);
	}
	close(sv[1]);
	(void) fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	pthread_mutex_lock(&iso->mu);
	iso->fd    = sv[0];
	iso->pid   = pid;
	iso->state = ISO_STARTING;
	pthread_mutex_unlock(&iso->mu);
	iso->start_deadline_us
	    = xz_mono_us() + (uint64_t) iso->start_ms * 1000u;
	iso->rlen = 0;
	return 0;
}

/* Wait for the child to end (killed first, or given 5 s to exit before
 * it is) and say how it ended. */
static void
reap(pid_t pid, bool kill_first, char *how, size_t howlen)
{
	int st = 0;

	/* One that closed its link may still be exiting (a leak checker
	 * at exit takes a while): 5 s. */
	int tries = 1000;
	if (kill_first) {
		kill(pid, SIGKILL);
		tries = 60;
	}
	for (int i = 0; i < tries; i++) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			goto done;
		if (w < 0 && errno != EINTR) {
			snprintf(how, howlen, xz_text("lost (%s)"),
			    strerror(errno));
			return;
		}
		usleep(5000);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
done:
	if (WIFSIGNALED(st))
		snprintf(how, howlen, xz_text("killed by signal %d (%s)"),
		    WTERMSIG(st), strsignal(WTERMSIG(st)));
	else if (WIFEXITED(st))
		snprintf(how, howlen, xz_text("exited with status %d"),
		    WEXITSTATUS(st));
	else
		snprintf(how, howlen, xz_text("ended (wait status %d)"), st);
}

static void
frames_free(iso_frame *f)
{
	while (f != NULL) {
		iso_frame *n = f->next;
		free(f);
		f = n;
	}
}

/* The child is gone or must go: kill, reap, answer its requests,
 * cancel its timers, schedule the restart. why: what the node saw
 * (NULL: it ended by itself); during_start: it never became ready. */
static void
child_down(xz_isolate *iso, const char *why, bool kill_first)
{
	char      how[96];
	iso_req  *reqs;
	iso_pair *timers;
	size_t    ntimers;
	pid_t     pid;
	bool      starting, stopping;
	uint64_t  backoff, up_us = 0;

	pthread_mutex_lock(&iso->mu);
	pid      = iso->pid;
	starting = iso->state == ISO_STARTING;
	stopping = iso->stop;
	if (iso->state == ISO_UP)
		up_us = xz_mono_us() - iso->up_since_mono_us;
	if (iso->fd >= 0)
		close(iso->fd);
	iso->fd = -1;
	iso->gen++;
	iso->state   = stopping ? ISO_STOPPED : ISO_BACKOFF;
	reqs         = iso->reqs;
	iso->reqs    = NULL;
	timers       = iso->timers;
	ntimers      = iso->ntimers;
	iso->timers  = NULL;
	iso->ntimers = iso->captimers = 0;
	frames_free(iso->qhead);
	frames_free(iso->fhead);
	iso->qhead = iso->qtail = iso->fhead = iso->ftail = NULL;
	iso->unanswered                                   = 0;
	pthread_cond_broadcast(&iso->cv);
	pthread_mutex_unlock(&iso->mu);

	reap(pid, kill_first, how, sizeof(how));

	for (size_t i = 0; i < ntimers; i++)
		iso->h->timer_cancel(iso->p, timers[i].node);
	free(timers);
	size_t nreq = 0;
	while (reqs != NULL) {
		iso_req *q = reqs;
		reqs       = q->next;
		if (q->msg->deadline_us == 0
		    || q->msg->deadline_us > xz_clock_now_us(&iso->k->clock)) {
			say_unavailable(iso, q->msg,
			    stopping ? "stopping"
			             : "restarting after a failure");
			nreq++;
		}
		iso->h->msg_release(iso->p, q->msg);
		free(q);
	}

	pthread_mutex_lock(&iso->mu);
	iso->unavailable += nreq;
	/* A child that served a while starts the backoff over; a restart
	 * asked for (reload) is no failure. */
	if (up_us >= (uint64_t) iso->k->cfg->restart_backoff_max_ms * 1000u
	    || iso->planned)
		iso->failures = 0;
	if (!iso->planned)
		iso->failures++;
	bool planned = iso->planned;
	iso->planned = false;
	backoff      = iso->k->cfg->restart_backoff_ms;
	for (uint32_t i = 1; !planned && i < iso->failures
	     && backoff < iso->k->cfg->restart_backoff_max_ms;
	     i++)
		backoff *= 2;
	if (backoff > iso->k->cfg->restart_backoff_max_ms)
		backoff = iso->k->cfg->restart_backoff_max_ms;
	iso->backoff_ms         = stopping ? 0 : backoff;
	iso->next_start_mono_us = xz_mono_us() + backoff * 1000u;
	snprintf(iso->last_exit, sizeof(iso->last_exit), "%s%s%s%s",
	    why ? why : "", why ? "; " : "", how,
	    starting && why == NULL ? " during start" : "");
	pthread_cond_broadcast(&iso->cv);
	pthread_mutex_unlock(&iso->mu);
	if (stopping && why == NULL)
		xz_log(XZ_LOG_INFO, iso->p->name, "isolated: child pid %ld %s",
		    (long) pid, how);
	else if (planned)
		xz_log(XZ_LOG_INFO, iso->p->name,
		    "isolated: child pid %ld %s (%s); %zu request(s) in "
		    "flight answered unavailable; restart in %llu ms",
		    (long) pid, why ? why : xz_text("restarted"), how, nreq,
		    (unsigned long long) backoff);
	else
		xz_log(XZ_LOG_WARN, iso->p->name,
		    "isolated: child pid %ld: %s%s%s%s; %zu request(s) in "
		    "flight answered unavailable; restart in %llu ms",
		    (long) pid, why ? why : "", why ? "; " : "", how,
		    starting && why == NULL ? xz_text(" during start") : "",
		    nreq, (unsigned long long) (stopping ? 0 : backoff));
}

/* Resident memory of pid in KiB, or 0. */
static uint64_t
rss_kib(pid_t pid)
{
	char               path[64];
	unsigned long long size = 0, rss = 0;
	FILE              *f;

	snprintf(path, sizeof(path), "/proc/%ld/statm", (long) pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &rss) != 2)
		rss = 0;
	fclose(f);
	return rss * (uint64_t) (sysconf(_SC_PAGESIZE) / 1024);
}

/* Write queued frames; -1 when the socket failed. */
static int
flush_out(xz_isolate *iso)
{
	pthread_mutex_lock(&iso->mu);
	while (iso->qhead != NULL) {
		iso_frame *f = iso->qhead;
		ssize_t    w = send(
		       iso->fd, f->data + f->off, f->len - f->off, MSG_NOSIGNAL);
		if (w < 0) {
			int e = errno;
			pthread_mutex_unlock(&iso->mu);
			return e == EAGAIN || e == EINTR ? 0 : -1;
		}
		f->off += (size_t) w;
		if (f->off < f->len)
			break;
		if ((iso->qhead = f->next) == NULL)
			iso->qtail = NULL;
		f->next = NULL;
		if (f->seq == 0) {
			free(f);
			continue;
		}
		if (iso->ftail)
			iso->ftail->next = f;
		else
			iso->fhead = f;
		iso->ftail = f;
	}
	pthread_mutex_unlock(&iso->mu);
	return 0;
}

/* Read and handle what the child sent: 0, 1 at EOF, -1 with why. */
static int
read_in(xz_isolate *iso, char *why, size_t whylen)
{
	size_t maxf = (size_t) iso->k->cfg->max_payload + 65536u;

	for (;;) {
		if (iso->rcap - iso->rlen < 65536) {
			size_t   c = iso->rcap ? iso->rcap * 2 : 131072;
			uint8_t *g = realloc(iso->rbuf, c);
			if (g == NULL) {
				snprintf(why, whylen, "no memory to read it");
				return -1;
			}
			iso->rbuf = g;
			iso->rcap = c;
		}
		ssize_t n = recv(
		    iso->fd, iso->rbuf + iso->rlen, iso->rcap - iso->rlen, 0);
		if (n == 0)
			return 1;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			snprintf(why, whylen, "its link failed: %s",
			    strerror(errno));
			return -1;
		}
		iso->rlen += (size_t) n;
		size_t off = 0;
		while (iso->rlen - off >= 4) {
			const uint8_t *q   = iso->rbuf + off;
			uint32_t       len = q[0] | (q[1] << 8) | (q[2] << 16)
			    | ((uint32_t) q[3] << 24);
			if (len == 0 || len > maxf) {
				snprintf(why, whylen,
				    "wrote garbage on its link (a frame of %u "
				    "bytes; at most %zu)",
				    len, maxf);
				return -1;
			}
			if (iso->rlen - off - 4 < len)
				break;
			if (handle_frame(iso, q + 4, len, why, whylen) != 0)
				return -1;
			off += 4 + (size_t) len;
		}
		memmove(iso->rbuf, iso->rbuf + off, iso->rlen - off);
		iso->rlen -= off;
	}
}

/* Drop the subscriptions of a child that is gone (before its successor
 * subscribes anew). */
static void
drop_subs(xz_isolate *iso)
{
	iso_pair *subs;
	size_t    n;

	pthread_mutex_lock(&iso->mu);
	subs       = iso->subs;
	n          = iso->nsubs;
	iso->subs  = NULL;
	iso->nsubs = iso->capsubs = 0;
	pthread_mutex_unlock(&iso->mu);
	for (size_t i = 0; i < n; i++)
		iso->h->unsubscribe(iso->p, subs[i].node);
	free(subs);
}

static void
drain_wake(xz_isolate *iso)
{
	char buf[64];
	while (read(iso->wake[0], buf, sizeof(buf)) > 0)
		;
}

static void *
supervise(void *arg)
{
	xz_isolate *iso = arg;
	char        why[256];

	for (;;) {
		pthread_mutex_lock(&iso->mu);
		bool stop        = iso->stop;
		int  state       = iso->state;
		int  fd          = iso->fd;
		bool restart     = iso->restart_now;
		iso->restart_now = false;
		pthread_mutex_unlock(&iso->mu);

		if (fd < 0 && (stop || state == ISO_STOPPED))
			break;
		if (fd < 0) {
			uint64_t now = xz_mono_us();
			if (state == ISO_BACKOFF
			    && now < iso->next_start_mono_us) {
				struct pollfd pw = { iso->wake[0], POLLIN, 0 };
				uint64_t      ms
				    = (iso->next_start_mono_us - now + 999)
				    / 1000;
				(void) poll(
				    &pw, 1, ms > 1000 ? 1000 : (int) ms);
				drain_wake(iso);
				continue;
			}
			drop_subs(iso);
			if (spawn(iso, why, sizeof(why)) != 0) {
				xz_log(XZ_LOG_ERROR, iso->p->name,
				    "isolated: cannot start the child: %s",
				    why);
				pthread_mutex_lock(&iso->mu);
				iso->state              = ISO_BACKOFF;
				iso->next_start_mono_us = xz_mono_us()
				    + (uint64_t)
				            iso->k->cfg->restart_backoff_max_ms
				        * 1000u;
				snprintf(iso->last_exit,
				    sizeof(iso->last_exit), "cannot start: %s",
				    why);
				pthread_mutex_unlock(&iso->mu);
				continue;
			}
			pthread_mutex_lock(&iso->mu);
			if (iso->ready_once || iso->restarts > 0
			    || iso->failures > 0)
				iso->restarts++;
			pthread_mutex_unlock(&iso->mu);
			continue;
		}
		if (restart) {
			child_down(iso, iso->restart_why, true);
			continue;
		}
		if (stop && state == ISO_STARTING) {
			child_down(
			    iso, "the node stops during its start", true);
			continue;
		}

		/* Deadlines: start, the oldest unanswered callback, memory. */
		uint64_t now = xz_mono_us(), wait_us = 200000;
		pthread_mutex_lock(&iso->mu);
		bool     want_out = iso->qhead != NULL;
		uint64_t busy     = iso->unanswered ? iso->busy_since_us : 0;
		char     what[96] = "";
		if (iso->fhead)
			snprintf(what, sizeof(what), "%s", iso->fhead->what);
		else if (iso->qhead)
			snprintf(what, sizeof(what), "%s", iso->qhead->what);
		pthread_mutex_unlock(&iso->mu);
		if (state == ISO_STARTING && now >= iso->start_deadline_us) {
			snprintf(why, sizeof(why),
			    "did not finish init and start within %u ms",
			    iso->start_ms);
			child_down(iso, why, true);
			continue;
		}
		if (state == ISO_UP && busy != 0
		    && now - busy >= (uint64_t) iso->timeout_ms * 1000u) {
			snprintf(why, sizeof(why),
			    "a handler (%s) ran over handler_timeout_ms (%u "
			    "ms)",
			    what, iso->timeout_ms);
			pthread_mutex_lock(&iso->mu);
			iso->kills_timeout++;
			pthread_mutex_unlock(&iso->mu);
			child_down(iso, why, true);
			continue;
		}
		if (iso->memory_limit_kib != 0) {
			uint64_t kib = rss_kib(iso->pid);
			if (kib > iso->memory_limit_kib) {
				snprintf(why, sizeof(why),
				    "its memory (%llu KiB resident) went over "
				    "memory_limit_mb (%llu MiB)",
				    (unsigned long long) kib,
				    (unsigned long long) iso->memory_limit_kib
				        / 1024u);
				child_down(iso, why, true);
				continue;
			}
		}
		if (state == ISO_STARTING)
			wait_us = iso->start_deadline_us - now;
		else if (busy != 0) {
			uint64_t end
			    = busy + (uint64_t) iso->timeout_ms * 1000u;
			wait_us = end > now ? end - now : 0;
		}
		if (wait_us > 200000)
			wait_us = 200000;

		struct pollfd pf[2] = {
			{ fd, (short) (POLLIN | (want_out ? POLLOUT : 0)), 0 },
			{ iso->wake[0], POLLIN, 0 },
		};
		int pr = poll(pf, 2, (int) ((wait_us + 999) / 1000));
		if (pr < 0 && errno != EINTR) {
			child_down(iso, "poll failed", true);
			continue;
		}
		if (pf[1].revents)
			drain_wake(iso);
		if (pf[0].revents & POLLOUT && flush_out(iso) != 0) {
			int r = read_in(iso, why, sizeof(why));
			child_down(iso, r < 0 ? why : NULL, r < 0);
			continue;
		}
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			int r = read_in(iso, why, sizeof(why));
			if (r != 0) {
				child_down(iso, r < 0 ? why : NULL, r < 0);
				continue;
			}
		}
		/* Frames queued by the calls just made. */
		if (flush_out(iso) != 0)
			child_down(iso, "its link failed", true);
	}
	return NULL;
}

static xz_isolate *
iso_new(xz_plugin *p)
{
	xz_isolate          *iso = calloc(1, sizeof(*iso));
	const xz_config     *c   = p->k->cfg;
	const xz_plugin_cfg *pc  = p->pc;
	ssize_t              n;

	if (iso == NULL)
		return NULL;
	iso->p          = p;
	iso->k          = p->k;
	iso->h          = xz_kernel_host();
	iso->fd         = -1;
	iso->timeout_ms = pc->handler_timeout_ms ? pc->handler_timeout_ms
	                                         : c->handler_timeout_ms;
	iso->start_ms   = iso->timeout_ms > 10000 ? iso->timeout_ms : 10000;
	iso->window     = c->mailbox_capacity < ISO_WINDOW_MAX
	        ? c->mailbox_capacity
	        : ISO_WINDOW_MAX;
	iso->memory_limit_kib = (uint64_t) pc->memory_limit_mb * 1024u;
	iso->state            = ISO_STARTING;
	n = readlink("/proc/self/exe", iso->exe, sizeof(iso->exe) - 1);
	if (n <= 0 || pipe2(iso->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		free(iso);
		return NULL;
	}
	iso->exe[n] = '\0';
	if (realpath(c->path, iso->cfgpath) == NULL)
		snprintf(iso->cfgpath, sizeof(iso->cfgpath), "%s", c->path);
	pthread_mutex_init(&iso->mu, NULL);
	pthread_cond_init(&iso->cv, NULL);
	return iso;
}

int
xz_isolate_start(xz_plugin *p)
{
	xz_isolate     *iso;
	struct timespec ts;

	if (p->iso == NULL && (p->iso = iso_new(p)) == NULL)
		return XZ_ENOMEM;
	iso = p->iso;
	/* The plugin's code runs in the child only: no group commit here. */
	p->actor.batch_end = NULL;
	if (pthread_create(&iso->thr, NULL, supervise, iso) != 0)
		return XZ_ENOMEM;
	iso->thr_started = true;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += iso->start_ms / 1000 + 1;
	ts.tv_nsec += (long) (iso->start_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&iso->mu);
	while (!iso->ready_once && iso->failures == 0
	    && pthread_cond_timedwait(&iso->cv, &iso->mu, &ts) == 0)
		;
	if (!iso->ready_once || iso->first_rc != XZ_OK)
		xz_log(XZ_LOG_ERROR, p->name,
		    "isolated: the first start failed (%s); restarting with "
		    "backoff, requests answered unavailable meanwhile",
		    iso->last_exit[0] ? iso->last_exit : "no answer");
	pthread_mutex_unlock(&iso->mu);
	return XZ_OK;
}

void
xz_isolate_stop(xz_plugin *p)
{
	xz_isolate *iso = p->iso;
	xz_iso_buf  b   = { 0 };
	uint64_t    end;

	if (iso == NULL || !iso->thr_started)
		return;
	pthread_mutex_lock(&iso->mu);
	if (iso->state == ISO_UP) {
		uint64_t seq = ++iso->seq;
		node_begin(iso, &b, XZ_ISO_STOP);
		xz_iso_u64(&b, seq);
		queue_frame(iso, &b, seq, "stop and fini");
	}
	iso->stop = true;
	pthread_cond_broadcast(&iso->cv);
	pthread_mutex_unlock(&iso->mu);
	free(b.p);
	iso_wake(iso);
	/* The child runs stop and fini, then exits: EOF ends the
	 * supervisor. One that takes too long is killed. */
	end = xz_mono_us() + 10000000u;
	for (;;) {
		pthread_mutex_lock(&iso->mu);
		bool gone = iso->fd < 0;
		if (gone)
			iso->state = ISO_STOPPED;
		pthread_mutex_unlock(&iso->mu);
		if (gone)
			break;
		if (xz_mono_us() >= end) {
			pthread_mutex_lock(&iso->mu);
			snprintf(iso->restart_why, sizeof(iso->restart_why),
			    "did not stop within 10 s");
			iso->restart_now = true;
			pthread_mutex_unlock(&iso->mu);
			iso_wake(iso);
			end = UINT64_MAX;
		}
		usleep(10000);
	}
	pthread_join(iso->thr, NULL);
	iso->thr_started = false;
	drop_subs(iso);
}

void
xz_isolate_free(xz_plugin *p)
{
	xz_isolate *iso = p->iso;

	if (iso == NULL)
		return;
	if (iso->thr_started)
		xz_isolate_stop(p);
	p->iso = NULL;
	while (iso->reqs != NULL) {
		iso_req *q = iso->reqs;
		iso->reqs  = q->next;
		iso->h->msg_release(p, q->msg);
		free(q);
	}
	frames_free(iso->qhead);
	frames_free(iso->fhead);
	free(iso->subs);
	free(iso->timers);
	free(iso->rbuf);
	close(iso->wake[0]);
	close(iso->wake[1]);
	pthread_mutex_destroy(&iso->mu);
	pthread_cond_destroy(&iso->cv);
	free(iso);
}

int
xz_isolate_restart(xz_plugin *p, const char *why)
{
	xz_isolate *iso = p->iso;

	if (iso == NULL || !iso->thr_started)
		return XZ_ESTATE;
	pthread_mutex_lock(&iso->mu);
	snprintf(iso->restart_why, sizeof(iso->restart_why), "%s", why);
	iso->restart_now = true;
	iso->planned     = true;
	pthread_mutex_unlock(&iso->mu);
	iso_wake(iso);
	return XZ_OK;
}

json_t *
xz_isolate_status(xz_plugin *p)
{
	xz_isolate *iso = p->iso;
	json_t     *o;
	uint64_t    now = xz_mono_us();

	if (iso == NULL)
		return NULL;
	pthread_mutex_lock(&iso->mu);
	o = json_pack("{s:s,s:s,s:I,s:I,s:s?,s:I,s:I,s:I,s:I,s:I,s:I}", "mode",
	    "process", "state", iso_state_names[iso->state], "pid",
	    (json_int_t) (iso->fd >= 0 ? iso->pid : 0), "restarts",
	    (json_int_t) iso->restarts, "last_exit",
	    iso->last_exit[0] ? iso->last_exit : NULL, "backoff_ms",
	    (json_int_t) iso->backoff_ms, "restart_in_ms",
	    (json_int_t) (iso->state == ISO_BACKOFF
	                && iso->next_start_mono_us > now
	            ? (iso->next_start_mono_us - now) / 1000u
	            : 0),
	    "handler_timeout_ms", (json_int_t) iso->timeout_ms,
	    "handler_timeouts", (json_int_t) iso->kills_timeout, "unavailable",
	    (json_int_t) iso->unavailable, "dropped",
	    (json_int_t) iso->dropped);
	pthread_mutex_unlock(&iso->mu);
	return o;
}

/* ---- the handler watch (plugins in the node) ------------------------ */

struct xz_watch {
	xz_kernel      *k;
	pthread_t       thr;
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	bool            stop;
};

static void
watch_tick(xz_kernel *k)
{
	uint64_t now = xz_mono_us();

	for (size_t i = 0; i < k->nplugins; i++) {
		xz_plugin *p = k->plugins[i];
		uint64_t   handled, delivered;
		uint32_t   limit;

		if (p->iso != NULL)
			continue;
		limit     = p->pc && p->pc->handler_timeout_ms
		        ? p->pc->handler_timeout_ms
		        : k->cfg->handler_timeout_ms;
		handled   = atomic_load(&p->actor.handled);
		delivered = atomic_load(&p->actor.delivered);
		/* Work waiting and no batch finished since last seen. */
		if (handled != p->wd_handled || delivered == handled
		    || !atomic_load(&p->actor.scheduled)) {
			p->wd_handled  = handled;
			p->wd_since_us = now;
			p->wd_reported = false;
			continue;
		}
		if (!p->wd_reported
		    && now - p->wd_since_us >= (uint64_t) limit * 1000u) {
			p->wd_reported = true;
			atomic_fetch_add(&p->handler_timeouts, 1);
			xz_kernel_host()->counter_add(
			    p, "handler_timeouts", 1);
			xz_log(XZ_LOG_WARN, p->name,
			    "a handler has run over handler_timeout_ms (%u "
			    "ms): %llu message(s) wait; the plugin runs in "
			    "the node, so it holds a worker (isolation = "
			    "\"process\" would restart it)",
			    limit, (unsigned long long) (delivered - handled));
		}
	}
}

static void *
watch_run(void *arg)
{
	struct xz_watch *w     = arg;
	uint32_t         every = 1000;

	/* A quarter of the shortest limit, 10 ms to 1 s. */
	for (size_t i = 0; i < w->k->nplugins; i++) {
		const xz_plugin_cfg *pc    = w->k->plugins[i]->pc;
		uint32_t             limit = pc && pc->handler_timeout_ms
		                ? pc->handler_timeout_ms
		                : w->k->cfg->handler_timeout_ms;
		if (limit / 4 < every)
			every = limit / 4;
	}
	if (w->k->cfg->handler_timeout_ms / 4 < every)
		every = w->k->cfg->handler_timeout_ms / 4;
	if (every < 10)
		every = 10;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long) every * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
		if (w->stop)
			break;
		pthread_mutex_unlock(&w->mu);
		watch_tick(w->k);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int
xz_watch_start(xz_kernel *k)
{
	struct xz_watch *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return XZ_ENOMEM;
	w->k = k;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->thr, NULL, watch_run, w) != 0) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w);
		return XZ_ENOMEM;
	}
	k->watch = w;
	return XZ_OK;
}

void
xz_watch_stop(xz_kernel *k)
{
	struct xz_watch *w = k->watch;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thr, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
	k->watch = NULL;
}
