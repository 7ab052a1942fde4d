/*
 * plugin_host.c - the child of an isolated plugin: `xiezhi plugin-host
 * CONFIG NAME FD NOW_US`, exec'd by the node (isolate.c), never by hand.
 *
 * It reads the same deployment file, opens the one plugin (shared object
 * or Lua) as the node would, and hands it a host table whose calls go to
 * the node over FD: publish, subscribe, request, reply, timers, log and
 * counters travel; options, the store (<data_dir>/<name>.db, opened here),
 * name and version are answered here. One thread runs everything, so the
 * plugin's callbacks never overlap (the actor rule). A call that needs
 * the node's answer (publish, subscribe, request, reply, timer_start,
 * timer_cancel) waits for it; frames that arrive meanwhile wait in order.
 * Every callback the node asked for is answered with DONE, which is how
 * the node times handlers. The kernel clock is the node's: each frame
 * carries it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bus/bus.h"
#include "kernel/isolate.h"
#include "kernel/kernel_priv.h"
#include "util/u64map.h"

typedef struct dframe {
	struct dframe *next;
	size_t         len;
	uint8_t        data[];
} dframe;

typedef struct cmsg {
	xz_msg      pub; /* first: handlers get &pub */
	int         refs;
	uint64_t    seq; /* the node's seq of a request, for the answer */
	xz_caller   caller;
	const char *roles[33];
	uint8_t    *frame; /* owned: the strings point into it */
} cmsg;

typedef struct csub {
	xz_handler fn;
	void      *ud;
} csub;

typedef struct ctimer {
	xz_timer_fn fn;
	void       *ud;
	uint64_t    period;
} ctimer;

typedef struct creq {
	xz_reply_fn fn;
	void       *ud;
} creq;

typedef struct ccounter {
	char   *name; /* owned */
	int64_t delta;
} ccounter;

static struct {
	int        fd;
	xz_plugin *p;
	int64_t    clock_off_us; /* node clock - monotonic */
	dframe    *dhead, *dtail; /* frames that came during a call */
	uint64_t   next_id;
	xz_u64map  subs, timers, reqs; /* values owned */
	ccounter  *counters; /* owned; flushed when idle */
	size_t     ncounters;
	bool       stopping;
} C;

static const char *const node_roles[] = { "admin", "node", NULL };
static const xz_caller   node_caller  = { .struct_size = sizeof(xz_caller),
	   .user                                       = "node",
	   .name                                       = "node",
	   .agency                                     = "",
	   .roles                                      = node_roles,
	   .auth                                       = "node" };

/* The node is gone or broke the protocol: nothing left to serve. */
static _Noreturn void
lost(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "xiezhi plugin-host: %s\n", why);
	_exit(why ? 70 : 0);
}

static void
send_all(const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(C.fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			lost(NULL); /* the node closed the link */
		p += w;
		n -= (size_t) w;
	}
}

static void
send_frame(xz_iso_buf *b)
{
	if (xz_iso_end(b) != 0)
		lost("out of memory");
	send_all(b->p, b->len);
	free(b->p);
	b->p   = NULL;
	b->len = b->cap = 0;
}

static bool
read_all(uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = recv(C.fd, p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t) r;
	}
	return true;
}

/* The next frame from the socket (owned by the caller), or exit. */
static dframe *
read_frame(void)
{
	uint8_t  h[4];
	uint32_t len;
	dframe  *f;

	if (!read_all(h, 4))
		lost(NULL);
	len = h[0] | (h[1] << 8) | (h[2] << 16) | ((uint32_t) h[3] << 24);
	if (len < 9 || len > (1u << 30)
	    || (f = malloc(sizeof(*f) + len)) == NULL)
		lost("bad frame from the node");
	f->next = NULL;
	f->len  = len;
	if (!read_all(f->data, len))
		lost(NULL);
	/* Every node frame: type, then the node's clock. */
	xz_iso_rd r    = { .p = f->data, .len = len, .off = 1 };
	C.clock_off_us = (int64_t) xz_iso_rd_u64(&r) - (int64_t) xz_mono_us();
	return f;
}

/* Wait for the answer to a call; what else comes waits its turn. */
static int
call(xz_iso_buf *b)
{
	send_frame(b);
	for (;;) {
		dframe *f = read_frame();
		if (f->data[0] == XZ_ISO_RESULT) {
			xz_iso_rd r
			    = { .p = f->data, .len = f->len, .off = 9 };
			int rc = (int) xz_iso_rd_u32(&r);
			free(f);
			return rc;
		}
		if (C.dtail)
			C.dtail->next = f;
		else
			C.dhead = f;
		C.dtail = f;
	}
}

static uint64_t
new_id(void)
{
	return ++C.next_id;
}

/* ---- the host table of the child ---- */

static void
c_log(xz_plugin *self, int level, const char *fmt, ...)
{
	char       buf[2048];
	va_list    ap;
	xz_iso_buf b = { 0 };

	if (self == NULL || fmt == NULL || level > xz_log_level())
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	xz_iso_begin(&b, XZ_ISO_LOG);
	xz_iso_u32(&b, (uint32_t) (level < 0 ? 0 : level));
	xz_iso_str(&b, buf, strlen(buf));
	send_frame(&b);
}

static int
c_publish(xz_plugin *self, const char *topic, const void *data, size_t len)
{
	xz_iso_buf b = { 0 };

	if (self == NULL || topic == NULL || (data == NULL && len > 0))
		return XZ_EINVAL;
	xz_iso_begin(&b, XZ_ISO_PUB);
	xz_iso_str(&b, topic, strlen(topic));
	xz_iso_str(&b, data, len);
	return call(&b);
}

/* SUB, or SUBD (durable: the node makes the instance a consumer of its
 * durable log, so what this child leaves unacknowledged, also when it
 * crashes, is delivered again to the child that follows). */
static int
sub_frame(xz_plugin *self, const char *pattern, const char *group,
    bool durable, xz_handler handler, void *ud, uint64_t *sub_id)
{
	xz_iso_buf b = { 0 };
	csub      *s;
	uint64_t   id;
	int        rc;

	if (self == NULL || handler == NULL || pattern == NULL)
		return XZ_EINVAL;
	if ((s = malloc(sizeof(*s))) == NULL)
		return XZ_ENOMEM;
	s->fn = handler;
	s->ud = ud;
	id    = new_id();
	if (xz_u64map_put(&C.subs, id, s) != 0) {
		free(s);
		return XZ_ENOMEM;
	}
	xz_iso_begin(&b, durable ? XZ_ISO_SUBD : XZ_ISO_SUB);
	xz_iso_u64(&b, id);
	xz_iso_str(&b, pattern, strlen(pattern));
	if (!durable)
		xz_iso_str(&b, group ? group : "", group ? strlen(group) : 0);
	if ((rc = call(&b)) != XZ_OK)
		free(xz_u64map_del(&C.subs, id));
	else if (sub_id != NULL)
		*sub_id = id;
	return rc;
}

static int
c_subscribe(xz_plugin *self, const char *pattern, const char *group,
    xz_handler handler, void *ud, uint64_t *sub_id)
{
	return sub_frame(self, pattern, group, false, handler, ud, sub_id);
}

static int
c_subscribe_durable(xz_plugin *self, const char *pattern, xz_handler handler,
    void *ud, uint64_t *sub_id)
{
	return sub_frame(self, pattern, NULL, true, handler, ud, sub_id);
}

/* An ack travels without waiting, like the node's own (queued for the
 * log's next commit); one a crash loses only makes the event come
 * again. */
static int
c_ack(xz_plugin *self, const xz_msg *msg)
{
	xz_iso_buf b = { 0 };

	if (self == NULL || msg == NULL)
		return XZ_EINVAL;
	if (!(msg->flags & XZ_MSG_DURABLE))
		return XZ_OK;
	xz_iso_begin(&b, XZ_ISO_ACK);
	xz_iso_raw(&b, msg->id, 16);
	send_frame(&b);
	return XZ_OK;
}

static int
c_unsubscribe(xz_plugin *self, uint64_t id)
{
	xz_iso_buf b = { 0 };
	csub      *s;

	if (self == NULL)
		return XZ_EINVAL;
	if ((s = xz_u64map_del(&C.subs, id)) == NULL)
		return XZ_ENOENT;
	free(s);
	xz_iso_begin(&b, XZ_ISO_UNSUB);
	xz_iso_u64(&b, id);
	return call(&b);
}

static int
c_request(xz_plugin *self, const char *topic, const void *data, size_t len,
    uint32_t timeout_ms, xz_reply_fn fn, void *ud)
{
	xz_iso_buf b = { 0 };
	creq      *q;
	uint64_t   id;
	int        rc;

	if (self == NULL || topic == NULL || fn == NULL
	    || (data == NULL && len > 0))
		return XZ_EINVAL;
	if ((q = malloc(sizeof(*q))) == NULL)
		return XZ_ENOMEM;
	q->fn = fn;
	q->ud = ud;
	id    = new_id();
	if (xz_u64map_put(&C.reqs, id, q) != 0) {
		free(q);
		return XZ_ENOMEM;
	}
	xz_iso_begin(&b, XZ_ISO_REQ);
	xz_iso_u64(&b, id);
	xz_iso_u32(&b, timeout_ms);
	xz_iso_str(&b, topic, strlen(topic));
	xz_iso_str(&b, data, len);
	if ((rc = call(&b)) != XZ_OK)
		free(xz_u64map_del(&C.reqs, id));
	return rc;
}

static int
answer(const xz_msg *req, uint16_t flags, const void *data, size_t len)
{
	xz_iso_buf b = { 0 };

	xz_iso_begin(&b, XZ_ISO_ANSWER);
	xz_iso_u64(&b, ((const cmsg *) (const void *) req)->seq);
	xz_iso_u16(&b, flags);
	xz_iso_str(&b, data, len);
	return call(&b);
}

static int
c_reply(xz_plugin *self, const xz_msg *req, const void *data, size_t len)
{
	if (self == NULL || req == NULL || req->kind != XZ_KIND_REQUEST
	    || (data == NULL && len > 0))
		return XZ_EINVAL;
	return answer(req, 0, data, len);
}

static int
c_reply_error(
    xz_plugin *self, const xz_msg *req, const char *code, const char *message)
{
	size_t n;
	char  *e;
	int    rc;

	if (self == NULL || req == NULL || req->kind != XZ_KIND_REQUEST
	    || code == NULL)
		return XZ_EINVAL;
	if ((e = xz_error_json(code, message, &n)) == NULL)
		return XZ_ENOMEM;
	rc = answer(req, XZ_MSG_ERROR, e, n);
	free(e);
	return rc;
}

static const xz_msg *
c_msg_retain(xz_plugin *self, const xz_msg *msg)
{
	(void) self;
	if (msg == NULL)
		return NULL;
	((cmsg *) (void *) (uintptr_t) msg)->refs++;
	return msg;
}

static void
cmsg_unref(cmsg *m)
{
	if (m != NULL && --m->refs == 0) {
		free(m->frame);
		free(m);
	}
}

static void
c_msg_release(xz_plugin *self, const xz_msg *msg)
{
	(void) self;
	cmsg_unref((cmsg *) (void *) (uintptr_t) msg);
}

static int
c_timer_start(xz_plugin *self, uint64_t delay_ms, uint64_t period_ms,
    xz_timer_fn fn, void *ud, uint64_t *timer_id)
{
	xz_iso_buf b = { 0 };
	ctimer    *t;
	uint64_t   id;
	int        rc;

	if (self == NULL || fn == NULL || delay_ms > UINT64_MAX / 1000
	    || period_ms > UINT64_MAX / 1000)
		return XZ_EINVAL;
	if ((t = malloc(sizeof(*t))) == NULL)
		return XZ_ENOMEM;
	t->fn     = fn;
	t->ud     = ud;
	t->period = period_ms;
	id        = new_id();
	if (xz_u64map_put(&C.timers, id, t) != 0) {
		free(t);
		return XZ_ENOMEM;
	}
	xz_iso_begin(&b, XZ_ISO_TSTART);
	xz_iso_u64(&b, id);
	xz_iso_u64(&b, delay_ms);
	xz_iso_u64(&b, period_ms);
	if ((rc = call(&b)) != XZ_OK)
		free(xz_u64map_del(&C.timers, id));
	else if (timer_id != NULL)
		*timer_id = id;
	return rc;
}

static int
c_timer_cancel(xz_plugin *self, uint64_t id)
{
	xz_iso_buf b = { 0 };
	ctimer    *t;

	if (self == NULL)
		return XZ_EINVAL;
	if ((t = xz_u64map_del(&C.timers, id)) == NULL)
		return XZ_ENOENT;
	free(t);
	xz_iso_begin(&b, XZ_ISO_TCANCEL);
	xz_iso_u64(&b, id);
	return call(&b);
}

static uint64_t
c_now_ms(xz_plugin *self)
{
	(void) self;
	return (uint64_t) ((int64_t) xz_mono_us() + C.clock_off_us) / 1000u;
}

static void
c_counter_add(xz_plugin *self, const char *name, int64_t delta)
{
	if (self == NULL || name == NULL)
		return;
	for (size_t i = 0; i < C.ncounters; i++)
		if (strcmp(C.counters[i].name, name) == 0) {
			C.counters[i].delta += delta;
			return;
		}
	ccounter *v = realloc(C.counters, (C.ncounters + 1) * sizeof(*v));
	if (v == NULL)
		return;
	C.counters = v;
	if ((v[C.ncounters].name = strdup(name)) == NULL)
		return;
	v[C.ncounters++].delta = delta;
}

/* Counters travel when the plugin is idle, summed. */
static void
counters_flush(void)
{
	for (size_t i = 0; i < C.ncounters; i++) {
		xz_iso_buf b = { 0 };
		if (C.counters[i].delta == 0)
			continue;
		xz_iso_begin(&b, XZ_ISO_COUNTER);
		xz_iso_u64(&b, (uint64_t) C.counters[i].delta);
		xz_iso_str(&b, C.counters[i].name, strlen(C.counters[i].name));
		send_frame(&b);
		C.counters[i].delta = 0;
	}
}

static const xz_caller *
c_caller(xz_plugin *self, const xz_msg *msg)
{
	(void) self;
	return msg ? &((const cmsg *) (const void *) msg)->caller
	           : &node_caller;
}

static int
c_session_open(
    xz_plugin *self, const char *token, xz_session **sess, const char **why)
{
	(void) self;
	(void) token;
	if (sess != NULL)
		*sess = NULL;
	if (why != NULL)
		*why = "sessions are not available to a plugin with isolation "
		       "= \"process\"";
	return XZ_EPERM;
}

static void
c_session_close(xz_plugin *self, xz_session *s)
{
	(void) self;
	(void) s;
}

static int
c_request_as(xz_plugin *self, xz_session *s, const char *topic,
    const void *data, size_t len, uint32_t timeout_ms, xz_reply_fn fn,
    void *ud)
{
	(void) self, (void) s, (void) topic, (void) data, (void) len;
	(void) timeout_ms, (void) fn, (void) ud;
	return XZ_EPERM;
}

static int
c_subscribe_as(xz_plugin *self, xz_session *s, const char *pattern,
    xz_handler handler, void *ud, uint64_t *sub_id)
{
	(void) self, (void) s, (void) pattern, (void) handler, (void) ud;
	(void) sub_id;
	return XZ_EPERM;
}

static const xz_caller *
c_session_caller(xz_plugin *self, xz_session *s)
{
	(void) self;
	(void) s;
	return NULL;
}

/* ---- frames from the node ---- */

/* A message in a frame; takes f's data (f is freed by the caller, the
 * message keeps a copy of its bytes). NULL if malformed. */
static cmsg *
msg_read(xz_iso_rd *r, dframe *f)
{
	cmsg    *m = calloc(1, sizeof(*m));
	size_t   n;
	uint32_t nroles;

	if (m == NULL)
		return NULL;
	m->refs               = 1;
	m->pub.struct_size    = sizeof(xz_msg);
	m->pub.kind           = xz_iso_rd_u8(r);
	m->pub.content_type   = xz_iso_rd_u8(r);
	m->pub.flags          = xz_iso_rd_u16(r);
	m->pub.topic          = xz_iso_rd_str(r, &m->pub.topic_len);
	m->pub.source         = xz_iso_rd_str(r, NULL);
	m->pub.data           = xz_iso_rd_str(r, &n);
	m->pub.len            = n;
	const void *id        = xz_iso_rd_raw(r, 16);
	const void *corr      = xz_iso_rd_raw(r, 16);
	m->pub.timestamp_us   = xz_iso_rd_u64(r);
	m->pub.deadline_us    = xz_iso_rd_u64(r);
	m->caller.struct_size = sizeof(xz_caller);
	m->caller.user        = xz_iso_rd_str(r, NULL);
	m->caller.name        = xz_iso_rd_str(r, NULL);
	m->caller.agency      = xz_iso_rd_str(r, NULL);
	m->caller.auth        = xz_iso_rd_str(r, NULL);
	nroles                = xz_iso_rd_u32(r);
	for (uint32_t i = 0; !r->bad && i < nroles && i < 32; i++)
		m->roles[i] = xz_iso_rd_str(r, NULL);
	m->caller.roles = m->roles;
	if (r->bad || nroles > 32) {
		free(m);
		return NULL;
	}
	memcpy(m->pub.id, id, 16);
	memcpy(m->pub.corr, corr, 16);
	/* The strings point into f: the message owns f's bytes from now. */
	m->frame = (uint8_t *) f;
	return m;
}

/* The store's identity for the node's MANIFEST (k->store_note). */
static void
c_store_note(xz_plugin *self, const char *id, int64_t gen, int64_t schema)
{
	xz_iso_buf b = { 0 };

	(void) self;
	xz_iso_begin(&b, XZ_ISO_STORE);
	xz_iso_str(&b, id, strlen(id));
	xz_iso_u64(&b, (uint64_t) gen);
	xz_iso_u64(&b, (uint64_t) schema);
	send_frame(&b);
}

static void
send_done(uint64_t seq)
{
	xz_iso_buf b = { 0 };
	xz_iso_begin(&b, XZ_ISO_DONE);
	xz_iso_u64(&b, seq);
	send_frame(&b);
}

/* Handle one frame; f is consumed. */
static void
handle(dframe *f)
{
	xz_iso_rd  r = { .p = f->data, .len = f->len, .off = 9 };
	uint8_t    t = f->data[0];
	uint64_t   seq, id;
	xz_plugin *p = C.p;

	switch (t) {
	case XZ_ISO_DELIVER: {
		seq     = xz_iso_rd_u64(&r);
		id      = xz_iso_rd_u64(&r);
		cmsg *m = msg_read(&r, f);
		if (m == NULL)
			lost("malformed message from the node");
		m->seq  = seq;
		csub *s = xz_u64map_get(&C.subs, id);
		if (s != NULL)
			s->fn(s->ud, &m->pub);
		cmsg_unref(m);
		send_done(seq);
		return;
	}
	case XZ_ISO_TIMER: {
		seq       = xz_iso_rd_u64(&r);
		id        = xz_iso_rd_u64(&r);
		ctimer *t = xz_u64map_get(&C.timers, id);
		free(f);
		if (t != NULL) {
			xz_timer_fn fn = t->fn;
			void       *ud = t->ud;
			if (t->period == 0)
				free(xz_u64map_del(&C.timers, id));
			fn(ud, id);
		}
		send_done(seq);
		return;
	}
	case XZ_ISO_REPLY: {
		seq          = xz_iso_rd_u64(&r);
		id           = xz_iso_rd_u64(&r);
		int   status = (int) xz_iso_rd_u32(&r);
		cmsg *m      = msg_read(&r, f);
		if (m == NULL)
			lost("malformed reply from the node");
		creq *q = xz_u64map_del(&C.reqs, id);
		if (q != NULL) {
			q->fn(q->ud, status, &m->pub);
			free(q);
		}
		cmsg_unref(m);
		send_done(seq);
		return;
	}
	case XZ_ISO_STOP:
		seq = xz_iso_rd_u64(&r);
		free(f);
		if (p->desc->stop)
			p->desc->stop(p->state);
		if (p->desc->batch_end != NULL && p->desc->abi_minor >= 1)
			p->desc->batch_end(p->state);
		p->desc->fini(p->state);
		counters_flush();
		/* Closed before DONE: its last generation reaches the
		 * MANIFEST while the node still reads the link. */
		xz_store_close(p);
		C.stopping = true;
		send_done(seq);
		return;
	default:
		free(f); /* a stray RESULT: nothing waits for it */
		return;
	}
}

static bool
readable(void)
{
	struct pollfd pf = { C.fd, POLLIN, 0 };
	return poll(&pf, 1, 0) > 0;
}

static void
free_map(xz_u64map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i] != 0 && m->keys[i] != UINT64_MAX)
			free(m->vals[i]);
	xz_u64map_fini(m);
}

int
xz_plugin_host_main(
    int argc, char **argv, const xz_kernel_ext *ext, const char *plugin_dir)
{
	static xz_host       host;
	xz_config            cfg = { 0 };
	xz_diag              d   = { 0 };
	xz_kernel           *k   = NULL;
	const xz_plugin_cfg *pc  = NULL;
	xz_plugin           *p   = NULL;
	xz_iso_buf           b   = { 0 };
	int                  rc, batch = 0;
	bool                 has_batch_end;

	if (argc != 5) {
		fprintf(stderr,
		    "xiezhi plugin-host: started by the node for a plugin "
		    "with isolation = \"process\", not by hand\n");
		return 64;
	}
	signal(SIGPIPE, SIG_IGN);
	C.fd = atoi(argv[3]);
	C.clock_off_us
	    = (int64_t) strtoull(argv[4], NULL, 10) - (int64_t) xz_mono_us();
	xz_u64map_init(&C.subs);
	xz_u64map_init(&C.timers);
	xz_u64map_init(&C.reqs);
	if (xz_config_load(&cfg, argv[1], plugin_dir, &d) != 0) {
		xz_diag_print(&d, stderr);
		xz_diag_free(&d);
		return 2;
	}
	for (size_t i = 0; i < cfg.nplugins; i++)
		if (strcmp(cfg.plugins[i].name, argv[2]) == 0)
			pc = &cfg.plugins[i];
	if (pc == NULL || xz_kernel_new(&k, &cfg, &d) != XZ_OK) {
		fprintf(stderr, "xiezhi plugin-host: no plugin '%s' in %s\n",
		    argv[2], argv[1]);
		xz_config_free(&cfg);
		xz_diag_free(&d);
		return 2;
	}
	xz_kernel_set_ext(k, ext);
	k->store_note = c_store_note;
	if (xz_loader_open(k, pc, &p, &d) != XZ_OK) {
		xz_diag_print(&d, stderr);
		xz_kernel_free(k);
		xz_config_free(&cfg);
		xz_diag_free(&d);
		return 2;
	}
	C.p                 = p;
	host                = *xz_kernel_host();
	host.log            = c_log;
	host.publish        = c_publish;
	host.subscribe      = c_subscribe;
	host.unsubscribe    = c_unsubscribe;
	host.request        = c_request;
	host.reply          = c_reply;
	host.reply_error    = c_reply_error;
	host.msg_retain     = c_msg_retain;
	host.msg_release    = c_msg_release;
	host.timer_start    = c_timer_start;
	host.timer_cancel   = c_timer_cancel;
	host.now_ms         = c_now_ms;
	host.counter_add    = c_counter_add;
	host.caller         = c_caller;
	host.session_open   = c_session_open;
	host.session_close  = c_session_close;
	host.request_as     = c_request_as;
	host.subscribe_as   = c_subscribe_as;
	host.session_caller = c_session_caller;
	/* Durable subscriptions and acks travel too: the log's consumer is
	 * the instance, in the node. */
	host.subscribe_durable = c_subscribe_durable;
	host.ack               = c_ack;
	has_batch_end          = p->desc->abi_minor >= 1
	    && p->desc->struct_size >= offsetof(xz_plugin_desc, batch_end)
	            + sizeof(p->desc->batch_end)
	    && p->desc->batch_end != NULL;

	xz_current_actor = &p->actor;
	rc               = p->desc->init(p, &host, &p->state);
	if (rc == XZ_OK && p->desc->start != NULL
	    && (rc = p->desc->start(p->state)) != XZ_OK)
		p->desc->fini(p->state);
	xz_iso_begin(&b, XZ_ISO_READY);
	xz_iso_u32(&b, (uint32_t) rc);
	send_frame(&b);
	if (rc != XZ_OK)
		_exit(3);

	while (!C.stopping) {
		dframe *f = C.dhead;
		if (f != NULL) {
			if ((C.dhead = f->next) == NULL)
				C.dtail = NULL;
		} else
			f = read_frame();
		handle(f);
		/* Group commit when nothing more waits, or every 256. */
		if (!C.stopping
		    && (++batch >= 256 || (C.dhead == NULL && !readable()))) {
			batch = 0;
			if (has_batch_end)
				p->desc->batch_end(p->state);
			counters_flush();
		}
	}
	xz_current_actor = NULL;
	free_map(&C.subs);
	free_map(&C.timers);
	free_map(&C.reqs);
	for (size_t i = 0; i < C.ncounters; i++)
		free(C.counters[i].name);
	free(C.counters);
	xz_loader_close(p);
	xz_kernel_free(k);
	xz_config_free(&cfg);
	xz_diag_free(&d);
	close(C.fd);
	return 0;
}
