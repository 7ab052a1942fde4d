/*
 * xzclient.c - the public client library (<xiezhi/client.h>) on top of
 * the link client (client.c) and the envelope (envelope.c): nothing of the
 * protocol is written twice. What this file adds is what a program needs
 * around the protocol: subscriptions routed to handlers or to a pull
 * queue, requests whose stray traffic is kept for later, refusals of
 * publishes reported by xzc_flush, and errors as enum xz_err values with a
 * message for people.
 *
 * These objects, with util/topic.c and util/errors.c, are also
 * libxiezhi-client (core/CMakeLists.txt): built with hidden visibility, so
 * the library exports the xzc_* calls (XZ_EXPORT in client.h) and nothing
 * else. The CLI links the same objects.
 *
 * Every message handed out is a copy (a `held`): topic, source and payload
 * NUL-terminated in one allocation, independent of the nng batch it came
 * in, so a handler may call into the client (which reads the connection
 * and frees batches) while its message stays valid.
 */
#include <errno.h>
#include <nng/nng.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xiezhi/client.h>

#include "util/errors.h"
#include "util/topic.h"
#include "wire/client.h"

#define DISPATCH_MAX 256 /* messages one xzc_dispatch hands out */
#define DUP_WINDOW 64 /* ids remembered to drop a node's extra copies */
#define NAME_MAX_LEN 48
#define TOKEN_MAX_LEN 256
#define GROUP_MAX_LEN 64

/* One received message, copied out of its batch. */
typedef struct held {
	struct held *next;
	xzc_msg      m;
	char         buf[]; /* topic \0 source \0 payload \0 */
} held;

typedef struct heldq {
	held *head, *tail;
} heldq;

typedef struct sub {
	struct sub *next;
	uint64_t    id;
	xzc_handler fn; /* NULL: a pull subscription */
	void       *ud;
	bool        dead; /* unsubscribed while a handler ran */
	char       *group; /* owned; NULL: none */
	char        pattern[];
} sub;

struct xzc_client {
	xz_client link; /* the protocol: wire/client.c */
	sub      *subs; /* owned, in subscription order */
	sub      *graveyard; /* owned: unsubscribed inside a handler, freed
	                        once no handler runs */
	uint64_t last_sub_id;
	heldq    backlog; /* owned: arrived while a request waited */
	heldq    pulled; /* owned: for pull subscriptions, for xzc_next */
	held    *reply; /* owned: the last xzc_request's reply */
	held    *out; /* owned: the last message xzc_next returned */
	sub    **chosen; /* owned scratch of route() */
	size_t   chosen_cap;
	int      depth; /* handlers running */
	unsigned lost; /* messages dropped for lack of memory, not yet
	                  reported */
	/* Publishes the node refused: since the last xzc_flush, and ever. */
	unsigned refused;
	int      refused_err;
	uint64_t refused_total;
	char     refused_msg[XZC_ERRMSG_MAX];
	uint8_t  dup[DUP_WINDOW][16];
	unsigned dup_pos;
	char     errmsg[XZC_ERRMSG_MAX];
};

/* ---- small helpers ------------------------------------------------- */

static uint64_t
mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/* Record why a call failed and return err. */
static int
fail(xzc_client *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof(c->errmsg), XZ_TR(xz_client_zh, fmt), ap);
	va_end(ap);
	return err;
}

/* The xz_err of a code of the link client: its own calls return nng
 * errors, its buffer XZ_ENOMEM / XZ_EINVAL / XZ_EINTERNAL (which share
 * values with NNG_ENOMEM, NNG_EINTR and NNG_EPERM, none of which the
 * client's socket returns). */
static int
link_err(int rc)
{
	switch (rc) {
	case 0:
		return XZ_OK;
	case NNG_ETIMEDOUT:
		return XZ_ETIMEDOUT;
	case NNG_ENOMEM:
		return XZ_ENOMEM;
	case XZ_EINVAL: /* == NNG_EINTR */
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
	case NNG_ENOTSUP:
		return XZ_EINVAL;
	case XZ_EINTERNAL: /* == NNG_EPERM */
		return XZ_EINTERNAL;
	case NNG_EMSGSIZE:
		return XZ_ETOOBIG;
	case NNG_EPEERAUTH:
	case NNG_ECRYPTO:
		return XZ_EPERM;
	case NNG_ECLOSED:
	case NNG_ECONNREFUSED:
	case NNG_ECONNRESET:
	case NNG_ECONNSHUT:
	case NNG_ECONNABORTED:
	case NNG_EUNREACHABLE:
	case NNG_ENOENT: /* no ipc socket at the path */
		return XZ_ECLOSED;
	default:
		return XZ_EIO;
	}
}

/* fail() for a failure of the link client, with the usual words. */
static int
fail_link(xzc_client *c, int rc, const char *what)
{
	int err = link_err(rc);

	if (err == XZ_ECLOSED)
		return fail(
		    c, err, "%s: the node closed the connection", what);
	if (err == XZ_ETIMEDOUT)
		return fail(c, err, "%s: timed out", what);
	if (err == XZ_ENOMEM || err == XZ_EINTERNAL || err == XZ_EINVAL)
		return fail(c, err, "%s: %s", what, xz_strerror(err));
	return fail(c, err, "%s: %s", what, xz_client_strerror(rc));
}

static const struct {
	const char *code;
	int         err;
} reply_codes[] = {
	{ XZ_REPLY_BAD_REQUEST, XZ_EINVAL },
	{ XZ_REPLY_NOT_FOUND, XZ_ENOENT },
	{ XZ_REPLY_INVALID_STATE, XZ_ESTATE },
	{ XZ_REPLY_FORBIDDEN, XZ_EPERM },
	{ XZ_REPLY_EXISTS, XZ_EEXIST },
	{ XZ_REPLY_CAPACITY_EXCEEDED, XZ_EFULL },
	{ XZ_REPLY_STORE_ERROR, XZ_EIO },
	{ XZ_REPLY_TIMEOUT, XZ_ETIMEDOUT },
	{ XZ_REPLY_NO_RESPONDERS, XZ_ENORESPONDERS },
	{ XZ_REPLY_UNAVAILABLE, XZ_ECLOSED },
	{ XZ_REPLY_TOO_LARGE, XZ_ETOOBIG },
	{ XZ_REPLY_INTERNAL, XZ_EINTERNAL },
};

/*
 * The xz_err of an error reply's payload {"error":{"code":"...",..}}. The
 * node writes it (jansson, compact), so a plain scan for the "code" member
 * is enough; anything unexpected is XZ_EINTERNAL.
 */
static int
payload_err(const char *p, size_t n)
{
	static const char key[] = "\"code\"";
	const char       *end   = p + n, *q;

	for (q = p; q + sizeof(key) - 1 <= end; q++)
		if (memcmp(q, key, sizeof(key) - 1) == 0)
			break;
	if (q + sizeof(key) - 1 > end)
		return XZ_EINTERNAL;
	for (q += sizeof(key) - 1; q < end && (*q == ' ' || *q == ':'); q++)
		;
	if (q >= end || *q++ != '"')
		return XZ_EINTERNAL;
	for (size_t i = 0; i < sizeof(reply_codes) / sizeof(reply_codes[0]);
	     i++) {
		size_t len = strlen(reply_codes[i].code);
		if ((size_t) (end - q) > len
		    && memcmp(q, reply_codes[i].code, len) == 0
		    && q[len] == '"')
			return reply_codes[i].err;
	}
	return XZ_EINTERNAL;
}

/* ---- received messages --------------------------------------------- */

/* A copy of e (the caller owns it), or NULL without memory. */
static held *
held_new(const xz_env *e)
{
	size_t sz
	    = sizeof(held) + e->topic_len + e->source_len + e->payload_len + 3;
	held *h = malloc(sz);
	char *p;

	if (h == NULL)
		return NULL;
	memset(h, 0, sizeof(*h));
	p = h->buf;
	memcpy(p, e->topic, e->topic_len);
	p[e->topic_len] = '\0';
	h->m.topic      = p;
	h->m.topic_len  = e->topic_len;
	p += e->topic_len + 1;
	if (e->source_len > 0)
		memcpy(p, e->source, e->source_len);
	p[e->source_len] = '\0';
	h->m.source      = p;
	h->m.source_len  = e->source_len;
	p += e->source_len + 1;
	if (e->payload_len > 0)
		memcpy(p, e->payload, e->payload_len);
	p[e->payload_len] = '\0';
	h->m.data         = p;
	h->m.len          = e->payload_len;
	h->m.kind         = e->kind;
	h->m.content_type = e->content_type;
	h->m.flags        = e->flags;
	h->m.timestamp_us = e->timestamp_us;
	h->m.deadline_us  = e->deadline_us;
	memcpy(h->m.id, e->id, 16);
	memcpy(h->m.corr, e->corr, 16);
	return h;
}

static void
q_push(heldq *q, held *h)
{
	h->next = NULL;
	if (q->tail != NULL)
		q->tail->next = h;
	else
		q->head = h;
	q->tail = h;
}

static held *
q_pop(heldq *q)
{
	held *h = q->head;

	if (h != NULL && (q->head = h->next) == NULL)
		q->tail = NULL;
	return h;
}

static void
q_free(heldq *q)
{
	held *h;

	while ((h = q_pop(q)) != NULL)
		free(h);
}

/* An error reply nobody waits for: the node refused one of our
 * publishes (or answered a request after we stopped waiting). */
static void
note_refusal(xzc_client *c, const xz_env *e)
{
	c->refused_total++;
	if (c->refused++ > 0)
		return;
	c->refused_err
	    = payload_err((const char *) e->payload, e->payload_len);
	snprintf(c->refused_msg, sizeof(c->refused_msg),
	    XZ_TR(xz_client_zh, "the node refused '%.*s': %.*s"),
	    (int) e->topic_len, e->topic,
	    (int) (e->payload_len > 300 ? 300 : e->payload_len),
	    (const char *) e->payload);
}

/* What the link client reads while xz_client_request waits for its reply:
 * subscription traffic is kept, in order, for xzc_dispatch / xzc_next. */
static void
on_other(const xz_env *e, void *arg)
{
	xzc_client *c = arg;
	held       *h;

	if (e->kind == XZ_KIND_REPLY) {
		if (e->flags & XZ_MSG_ERROR)
			note_refusal(c, e);
		return;
	}
	if (e->kind != XZ_KIND_EVENT && e->kind != XZ_KIND_REQUEST)
		return;
	if ((h = held_new(e)) == NULL) {
		c->lost++;
		return;
	}
	q_push(&c->backlog, h);
}

/* XZ_ENOMEM if a message was dropped for lack of memory since the last
 * report, else rc. */
static int
report_lost(xzc_client *c, int rc)
{
	if (c->lost == 0)
		return rc;
	rc      = fail(c, XZ_ENOMEM,
	         "%u message(s) for this client's subscriptions were dropped: out "
	              "of memory",
	         c->lost);
	c->lost = 0;
	return rc;
}

/*
 * The next message for the subscriptions: the backlog first, then the
 * connection, waiting until deadline (monotonic us; 0: do not wait;
 * UINT64_MAX: no limit). The caller owns *out. Refusals and replies
 * nobody waits for are taken care of here.
 */
static int
take(xzc_client *c, uint64_t deadline, held **out)
{
	xz_env e;
	int    rc;

	if ((*out = q_pop(&c->backlog)) != NULL)
		return XZ_OK;
	for (;;) {
		int tmo = -1;
		if (deadline != UINT64_MAX) {
			uint64_t now = mono_us();
			uint64_t ms  = deadline > now
			     ? (deadline - now + 999) / 1000
			     : 0;
			tmo          = ms > 0x7fffffff ? 0x7fffffff : (int) ms;
		}
		if ((rc = xz_client_next(&c->link, &e, tmo)) != 0)
			return rc == NNG_ETIMEDOUT
			    ? XZ_ETIMEDOUT
			    : fail_link(c, rc, "receive");
		if (e.kind == XZ_KIND_REPLY) {
			if (e.flags & XZ_MSG_ERROR)
				note_refusal(c, &e);
			continue;
		}
		if (e.kind != XZ_KIND_EVENT && e.kind != XZ_KIND_REQUEST)
			continue;
		if ((*out = held_new(&e)) == NULL)
			return fail(c, XZ_ENOMEM,
			    "a message on '%.*s' was dropped: out of memory",
			    (int) e.topic_len, e.topic);
		return XZ_OK;
	}
}

/* ---- subscriptions ------------------------------------------------- */

static bool
same_key(const sub *a, const char *pattern, const char *group)
{
	return strcmp(a->pattern, pattern) == 0
	    && ((a->group == NULL && group == NULL)
	        || (a->group != NULL && group != NULL
	            && strcmp(a->group, group) == 0));
}

/* Another live subscription of this client under the same (pattern,
 * group): the node has one subscription for all of them. */
static bool
key_in_use(const xzc_client *c, const sub *except, const char *pattern,
    const char *group)
{
	for (const sub *s = c->subs; s != NULL; s = s->next)
		if (s != except && same_key(s, pattern, group))
			return true;
	return false;
}

/* No earlier subscription in the list has o's key. */
static bool
first_of_key(const xzc_client *c, const sub *o)
{
	for (const sub *s = c->subs; s != o; s = s->next)
		if (same_key(s, o->pattern, o->group))
			return false;
	return true;
}

static int
put_sub(xzc_client *c, int kind, const char *pattern, const char *group)
{
	xz_env e = { .kind   = (uint8_t) kind,
		.topic       = pattern,
		.topic_len   = strlen(pattern),
		.payload     = (const uint8_t *) (group ? group : ""),
		.payload_len = group ? strlen(group) : 0 };

	xz_client_id(&c->link, e.id);
	e.timestamp_us = xz_client_now_us();
	return xz_client_put(&c->link, &e);
}

static void
reap(xzc_client *c)
{
	sub *s;

	while ((s = c->graveyard) != NULL) {
		c->graveyard = s->next;
		free(s->group);
		free(s);
	}
}

/* Seen this id among the last DUP_WINDOW messages that several of our
 * subscriptions matched? Remembers it if not. */
static bool
seen_before(xzc_client *c, const uint8_t id[16])
{
	for (unsigned i = 0; i < DUP_WINDOW; i++)
		if (memcmp(c->dup[i], id, 16) == 0)
			return true;
	memcpy(c->dup[c->dup_pos], id, 16);
	c->dup_pos = (c->dup_pos + 1) % DUP_WINDOW;
	return false;
}

/*
 * Hand h to the subscriptions it matches: each handler subscription's
 * handler runs (one member per queue group). Returns true when a pull
 * subscription matches too (h->m.sub_id is then the first such one): the
 * caller keeps h for xzc_next; otherwise the caller frees it.
 *
 * The node sends one copy per subscription of ours that matches (it knows
 * nothing of our handlers), so when several match, the first copy goes to
 * all of them and the others are dropped by id.
 */
static bool
route(xzc_client *c, held *h)
{
	size_t     n = 0, k = 0;
	const sub *pull = NULL;

	for (sub *s = c->subs; s != NULL; s = s->next)
		if (xz_topic_match(s->pattern, h->m.topic))
			k++;
	if (k == 0 || (k > 1 && seen_before(c, h->m.id)))
		return false;
	if (k > c->chosen_cap) {
		sub **v = realloc(c->chosen, k * sizeof(*v));
		if (v == NULL) {
			c->lost++;
			return false;
		}
		c->chosen     = v;
		c->chosen_cap = k;
	}
	/* Choose first (handlers may subscribe and unsubscribe). */
	for (sub *s = c->subs; s != NULL; s = s->next) {
		bool taken = false;
		if (!xz_topic_match(s->pattern, h->m.topic))
			continue;
		for (size_t i = 0; s->group != NULL && i < n; i++)
			taken |= c->chosen[i]->group != NULL
			    && strcmp(c->chosen[i]->group, s->group) == 0;
		if (s->group != NULL && pull != NULL && pull->group != NULL)
			taken |= strcmp(pull->group, s->group) == 0;
		if (taken)
			continue;
		if (s->fn == NULL) {
			if (pull == NULL)
				pull = s;
			continue;
		}
		c->chosen[n++] = s;
	}
	c->depth++;
	for (size_t i = 0; i < n; i++) {
		if (c->chosen[i]->dead)
			continue;
		h->m.sub_id = c->chosen[i]->id;
		c->chosen[i]->fn(c->chosen[i]->ud, &h->m);
	}
	/* A handler may have unsubscribed the pull subscription too. */
	h->m.sub_id = pull != NULL && !pull->dead ? pull->id : 0;
	if (--c->depth == 0)
		reap(c);
	return h->m.sub_id != 0;
}

/* ---- the API ------------------------------------------------------- */

static bool
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z')
		        || (s[i] >= 'A' && s[i] <= 'Z')
		        || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'
		        || s[i] == '-' || s[i] == '.'))
			return false;
	return true;
}

/* A token is opaque to the client; its characters are checked only so
 * that it goes into the HELLO's JSON as it is. */
static bool
token_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > TOKEN_MAX_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z')
		        || (s[i] >= 'A' && s[i] <= 'Z')
		        || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'
		        || s[i] == '-' || s[i] == '.'))
			return false;
	return true;
}

static int
open_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err,
		    errlen < XZC_ERRMSG_MAX ? errlen : XZC_ERRMSG_MAX,
		    XZ_TR(xz_client_zh, fmt), ap);
		va_end(ap);
	}
	return rc;
}

/* A member of opts, or NULL when the caller's struct predates it. */
#define OPT(opts, member)                                                     \
	((opts) != NULL && XZ_HAS_MEMBER(opts, xzc_options, member)           \
	        ? (opts)->member                                              \
	        : 0)

int
xzc_open(xzc_client **out, const char *url, const xzc_options *opts, char *err,
    size_t errlen)
{
	const char   *name    = OPT(opts, name) ? OPT(opts, name) : "client";
	int           tmo     = OPT(opts, connect_timeout_ms);
	xz_client_tls tls     = { .ca_file = OPT(opts, tls_ca_file),
		    .cert_file             = OPT(opts, tls_cert_file),
		    .key_file              = OPT(opts, tls_key_file),
		    .server_name           = OPT(opts, tls_server_name) };
	const char   *files[] = { tls.ca_file, tls.cert_file, tls.key_file };
	const char   *token   = OPT(opts, token);
	bool          is_tls, any_tls;
	char          hello[NAME_MAX_LEN + TOKEN_MAX_LEN + 64];
	xzc_client   *c;
	int           rc, n;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL)
		return XZ_EINVAL;
	*out = NULL;
	if (url == NULL || url[0] == '\0')
		return open_fail(err, errlen, XZ_EINVAL, "no URL given");
	if (opts != NULL && opts->struct_size < sizeof(uint32_t))
		return open_fail(err, errlen, XZ_EINVAL,
		    "xzc_options.struct_size is not set (use "
		    "XZC_OPTIONS_INIT)");
	if (!name_ok(name))
		return open_fail(err, errlen, XZ_EINVAL,
		    "invalid client name '%s' (1..%d of A-Z a-z 0-9 _ - .)",
		    name, NAME_MAX_LEN);
	if (tmo < 0)
		return open_fail(err, errlen, XZ_EINVAL,
		    "connect_timeout_ms must not be negative");
	if (token != NULL && !token_ok(token))
		return open_fail(err, errlen, XZ_EINVAL,
		    "invalid token (1..%d of A-Z a-z 0-9 _ - .; a session "
		    "token from `xiezhi login`)",
		    TOKEN_MAX_LEN);
	is_tls = strncmp(url, "tls+tcp://", 10) == 0;
	any_tls
	    = tls.ca_file || tls.cert_file || tls.key_file || tls.server_name;
	if (any_tls && !is_tls)
		return open_fail(err, errlen, XZ_EINVAL,
		    "TLS options given for %s, which is not a tls+tcp:// URL",
		    url);
	if (is_tls && tls.ca_file == NULL)
		return open_fail(err, errlen, XZ_EINVAL,
		    "%s: tls+tcp:// needs tls_ca_file (the CA the node's "
		    "certificate must chain to)",
		    url);
	if (tls.key_file != NULL && tls.cert_file == NULL)
		return open_fail(err, errlen, XZ_EINVAL,
		    "tls_key_file given without tls_cert_file");
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (files[i] != NULL && access(files[i], R_OK) != 0)
			return open_fail(err, errlen, XZ_ENOENT,
			    "cannot read %s: %s", files[i], strerror(errno));
	/* nng checks the name only when it is given: default it to the
	 * URL's host, or any certificate of the CA would do. */
	char host[256];
	if (is_tls && tls.server_name == NULL) {
		const char *h = url + 10, *e;
		size_t      hl;
		if (*h == '[') /* [v6]:port */
			e = strchr(++h, ']');
		else
			e = strrchr(h, ':');
		hl = e != NULL ? (size_t) (e - h) : 0;
		if (hl == 0 || hl >= sizeof(host))
			return open_fail(err, errlen, XZ_EINVAL,
			    "invalid URL '%s' (tls+tcp://HOST:PORT)", url);
		memcpy(host, h, hl);
		host[hl]        = '\0';
		tls.server_name = host;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return open_fail(err, errlen, XZ_ENOMEM, "out of memory");
	/* A session token rides in the HELLO; the node turns it into the
	 * connection's principal (its characters need no JSON escape). */
	if (token != NULL)
		n = snprintf(hello, sizeof(hello),
		    "{\"name\":\"%s-%d\",\"token\":\"%s\"}", name,
		    (int) getpid(), token);
	else
		n = snprintf(hello, sizeof(hello), "{\"name\":\"%s-%d\"}",
		    name, (int) getpid());
	rc = xz_client_dial(&c->link, url, is_tls ? &tls : NULL, hello,
	    (size_t) n, tmo > 0 ? tmo : 1000);
	if (rc != 0) {
		int  e = link_err(rc);
		char why[sizeof(c->link.why)];
		memcpy(why, c->link.why, sizeof(why));
		free(c);
		if (why[0] != '\0')
			return open_fail(err, errlen, e,
			    "the node at %s did not accept the certificate "
			    "%s: %s",
			    url, tls.cert_file, why);
		if (e == XZ_EPERM)
			return open_fail(err, errlen, e,
			    "TLS with the node at %s failed: %s", url,
			    xz_client_strerror(rc));
		if (e == XZ_EINVAL)
			return open_fail(err, errlen, e,
			    "invalid URL '%s': %s", url,
			    xz_client_strerror(rc));
		return open_fail(err, errlen, e,
		    "cannot reach the node at %s: %s", url,
		    xz_client_strerror(rc));
	}
	*out = c;
	return XZ_OK;
}

void
xzc_close(xzc_client *c)
{
	if (c == NULL)
		return;
	xz_client_close(&c->link);
	while (c->subs != NULL) {
		sub *s  = c->subs;
		c->subs = s->next;
		free(s->group);
		free(s);
	}
	reap(c);
	q_free(&c->backlog);
	q_free(&c->pulled);
	free(c->reply);
	free(c->out);
	free(c->chosen);
	free(c);
}

/* The node already dropped us: every send would fail later anyway. */
static int
check_open(xzc_client *c, const char *what)
{
	if (atomic_load(&c->link.gone))
		return fail(
		    c, XZ_ECLOSED, "%s: the node closed the connection", what);
	return XZ_OK;
}

int
xzc_publish(xzc_client *c, const char *topic, const void *data, size_t len)
{
	size_t tl;
	int    rc;

	if (c == NULL || topic == NULL || (data == NULL && len > 0))
		return c ? fail(c, XZ_EINVAL, "publish: NULL argument")
		         : XZ_EINVAL;
	tl = strlen(topic);
	if (!xz_topic_valid(topic, tl))
		return fail(
		    c, XZ_EINVAL, "publish: invalid topic '%.300s'", topic);
	if (len > c->link.max_payload)
		return fail(c, XZ_ETOOBIG,
		    "publish to '%s': %zu bytes is over the client's limit of "
		    "%zu",
		    topic, len, c->link.max_payload);
	if ((rc = check_open(c, "publish")) != XZ_OK)
		return rc;
	xz_env e = { .kind   = XZ_KIND_EVENT,
		.topic       = topic,
		.topic_len   = tl,
		.payload     = len > 0 ? data : (const void *) "",
		.payload_len = len };
	xz_client_id(&c->link, e.id);
	e.timestamp_us = xz_client_now_us();
	if ((rc = xz_client_put(&c->link, &e)) != 0)
		return fail_link(c, rc, "publish");
	return XZ_OK;
}

int
xzc_subscribe(xzc_client *c, const char *pattern, const char *queue_group,
    xzc_handler fn, void *ud, uint64_t *sub_id)
{
	size_t pl;
	sub   *s, **tail;
	int    rc;

	if (c == NULL || pattern == NULL)
		return c ? fail(c, XZ_EINVAL, "subscribe: NULL pattern")
		         : XZ_EINVAL;
	pl = strlen(pattern);
	if (!xz_pattern_valid(pattern, pl))
		return fail(c, XZ_EINVAL,
		    "subscribe: invalid pattern '%.300s'", pattern);
	if (queue_group != NULL) {
		size_t gl = strlen(queue_group);
		bool   ok = gl > 0 && gl <= GROUP_MAX_LEN;
		for (size_t i = 0; ok && i < gl; i++)
			ok = queue_group[i] > 0x20 && queue_group[i] < 0x7f;
		if (!ok)
			return fail(c, XZ_EINVAL,
			    "subscribe: invalid queue group '%.100s' (1..%d "
			    "printable bytes, no spaces)",
			    queue_group, GROUP_MAX_LEN);
	}
	if ((rc = check_open(c, "subscribe")) != XZ_OK)
		return rc;
	if ((s = calloc(1, sizeof(*s) + pl + 1)) == NULL
	    || (queue_group != NULL
	        && (s->group = strdup(queue_group)) == NULL)) {
		free(s);
		return fail(c, XZ_ENOMEM, "subscribe: out of memory");
	}
	memcpy(s->pattern, pattern, pl + 1);
	s->fn = fn;
	s->ud = ud;
	if (!key_in_use(c, NULL, pattern, queue_group)
	    && (rc = put_sub(c, XZ_KIND_SUB, pattern, queue_group)) != 0) {
		free(s->group);
		free(s);
		return fail_link(c, rc, "subscribe");
	}
	s->id = ++c->last_sub_id;
	for (tail = &c->subs; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = s;
	if (sub_id != NULL)
		*sub_id = s->id;
	return XZ_OK;
}

int
xzc_unsubscribe(xzc_client *c, uint64_t sub_id)
{
	sub **pp, *s;
	int   rc = 0;

	if (c == NULL)
		return XZ_EINVAL;
	for (pp = &c->subs; *pp != NULL && (*pp)->id != sub_id;
	     pp = &(*pp)->next)
		;
	if ((s = *pp) == NULL)
		return fail(c, XZ_ENOENT, "unsubscribe: no subscription %llu",
		    (unsigned long long) sub_id);
	*pp = s->next;
	if (!key_in_use(c, s, s->pattern, s->group)) {
		/* UNSUB removes every subscription of ours under the pattern,
		 * whatever its group: put back the other groups' ones. */
		rc = put_sub(c, XZ_KIND_UNSUB, s->pattern, NULL);
		for (sub *o = c->subs; rc == 0 && o != NULL; o = o->next)
			if (strcmp(o->pattern, s->pattern) == 0
			    && first_of_key(c, o))
				rc = put_sub(
				    c, XZ_KIND_SUB, o->pattern, o->group);
	}
	/* What was kept for it is not handed out any more. */
	for (held **hp = &c->pulled.head; *hp != NULL;) {
		held *h = *hp;
		if (h->m.sub_id != sub_id) {
			hp = &h->next;
			continue;
		}
		*hp = h->next;
		free(h);
	}
	c->pulled.tail = NULL;
	for (held *h = c->pulled.head; h != NULL; h = h->next)
		c->pulled.tail = h;
	if (c->depth > 0) {
		s->dead      = true; /* route() may still hold it */
		s->next      = c->graveyard;
		c->graveyard = s;
	} else {
		free(s->group);
		free(s);
	}
	return rc != 0 ? fail_link(c, rc, "unsubscribe") : XZ_OK;
}

int
xzc_flush(xzc_client *c, int timeout_ms)
{
	xz_env r;
	int    rc;

	if (c == NULL)
		return XZ_EINVAL;
	if (timeout_ms < 0)
		return fail(c, XZ_EINVAL, "flush: negative timeout");
	if (timeout_ms == 0) {
		rc = xz_client_flush(&c->link);
		return rc != 0 ? fail_link(c, rc, "flush") : report_lost(c, 0);
	}
	/* A ping after everything sent: the node routes a peer's batches in
	 * order, so its reply means all before it was taken, and an error
	 * reply to any of it came first (on_other counts it). */
	rc = xz_client_request(
	    &c->link, "xz.sys.ping", "{}", 2, timeout_ms, &r, on_other, c);
	if (rc != 0)
		return fail_link(c, rc, "flush: waiting for the node");
	if (c->refused > 0) {
		rc         = fail(c, c->refused_err,
		            "%u publish(es) refused; the first: %s", c->refused,
		            c->refused_msg);
		c->refused = 0;
		return rc;
	}
	if (r.flags & XZ_MSG_ERROR)
		return fail(c,
		    payload_err((const char *) r.payload, r.payload_len),
		    "flush: the node did not confirm: %.*s",
		    (int) (r.payload_len > 300 ? 300 : r.payload_len),
		    (const char *) r.payload);
	return report_lost(c, XZ_OK);
}

int
xzc_request(xzc_client *c, const char *topic, const void *data, size_t len,
    int timeout_ms, const xzc_msg **reply)
{
	xz_env r;
	int    rc;

	if (reply != NULL)
		*reply = NULL;
	if (c == NULL || topic == NULL || reply == NULL
	    || (data == NULL && len > 0))
		return c ? fail(c, XZ_EINVAL, "request: NULL argument")
		         : XZ_EINVAL;
	if (!xz_topic_valid(topic, strlen(topic)))
		return fail(
		    c, XZ_EINVAL, "request: invalid topic '%.300s'", topic);
	if (timeout_ms <= 0)
		return fail(c, XZ_EINVAL,
		    "request to '%s': the deadline must be > 0 ms", topic);
	if (len > c->link.max_payload)
		return fail(c, XZ_ETOOBIG,
		    "request to '%s': %zu bytes is too big", topic, len);
	if ((rc = check_open(c, "request")) != XZ_OK)
		return rc;
	free(c->reply);
	c->reply = NULL;
	rc       = xz_client_request(&c->link, topic, len > 0 ? data : "", len,
	          timeout_ms, &r, on_other, c);
	if (rc == NNG_ETIMEDOUT)
		return fail(c, XZ_ETIMEDOUT, "no reply to '%s' within %d ms",
		    topic, timeout_ms);
	if (rc != 0) {
		char what[300];
		snprintf(what, sizeof(what),
		    XZ_TR(xz_client_zh, "request to '%s'"), topic);
		return fail_link(c, rc, what);
	}
	if ((c->reply = held_new(&r)) == NULL)
		return fail(c, XZ_ENOMEM,
		    "the reply to '%s' was dropped: out of "
		    "memory",
		    topic);
	*reply = &c->reply->m;
	if (c->reply->m.flags & XZ_MSG_ERROR)
		fail(c, XZ_OK, "'%s' answered an error: %.300s", topic,
		    (const char *) c->reply->m.data);
	return report_lost(c, XZ_OK);
}

static int
put_reply(xzc_client *c, const xzc_msg *request, const void *data, size_t len,
    uint16_t flags)
{
	int rc;

	if (c == NULL || request == NULL || (data == NULL && len > 0))
		return c ? fail(c, XZ_EINVAL, "reply: NULL argument")
		         : XZ_EINVAL;
	if (request->kind != XZ_KIND_REQUEST)
		return fail(c, XZ_EINVAL, "reply: '%s' was not a request",
		    request->topic);
	if ((rc = check_open(c, "reply")) != XZ_OK)
		return rc;
	xz_env e = { .kind   = XZ_KIND_REPLY,
		.flags       = flags,
		.topic       = request->topic,
		.topic_len   = request->topic_len,
		.payload     = len > 0 ? data : (const void *) "",
		.payload_len = len };
	xz_client_id(&c->link, e.id);
	memcpy(e.corr, request->id, 16);
	e.timestamp_us = xz_client_now_us();
	if ((rc = xz_client_put(&c->link, &e)) != 0)
		return fail_link(c, rc, "reply");
	return XZ_OK;
}

int
xzc_reply(xzc_client *c, const xzc_msg *request, const void *data, size_t len)
{
	return put_reply(c, request, data, len, 0);
}

/* Append s as a JSON string body (no quotes) to b; false if full. */
static bool
json_escape(char *b, size_t cap, size_t *n, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char) *s;
		char          esc[8];
		size_t        el;
		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char) ch;
			el     = 2;
		} else if (ch < 0x20) {
			el = (size_t) snprintf(
			    esc, sizeof(esc), "\\u%04x", ch);
		} else {
			esc[0] = (char) ch;
			el     = 1;
		}
		if (*n + el >= cap)
			return false;
		memcpy(b + *n, esc, el);
		*n += el;
	}
	return true;
}

int
xzc_reply_error(xzc_client *c, const xzc_msg *request, const char *code,
    const char *message)
{
	char   buf[2048];
	size_t n     = 0;
	bool   known = false;
	int    w;

	if (c == NULL || code == NULL)
		return c ? fail(c, XZ_EINVAL, "reply_error: NULL code")
		         : XZ_EINVAL;
	for (size_t i = 0; i < sizeof(reply_codes) / sizeof(reply_codes[0]);
	     i++)
		known |= strcmp(reply_codes[i].code, code) == 0;
	if (!known)
		return fail(c, XZ_EINVAL,
		    "reply_error: '%.100s' is not a reply code (XZ_REPLY_*)",
		    code);
	w = snprintf(buf, sizeof(buf),
	    "{\"error\":{\"code\":\"%s\",\"message\":\"", code);
	n = (size_t) w;
	if (!json_escape(buf, sizeof(buf) - 4, &n, message ? message : ""))
		return fail(c, XZ_ETOOBIG,
		    "reply_error: the message is over %zu bytes",
		    sizeof(buf) - 64);
	memcpy(buf + n, "\"}}", 3);
	n += 3;
	return put_reply(c, request, buf, n, XZ_MSG_ERROR);
}

int
xzc_dispatch(xzc_client *c, int timeout_ms)
{
	uint64_t deadline = timeout_ms < 0
	    ? UINT64_MAX
	    : mono_us() + (uint64_t) timeout_ms * 1000u;
	int      n        = 0, rc;
	held    *h;

	if (c == NULL)
		return XZ_EINVAL;
	if (c->depth > 0)
		return fail(
		    c, XZ_ESTATE, "xzc_dispatch called from a handler");
	while (n < DISPATCH_MAX) {
		rc = take(c, n == 0 ? deadline : 0, &h);
		if (rc == XZ_ETIMEDOUT)
			break;
		if (rc != XZ_OK)
			return rc;
		n++;
		if (route(c, h))
			q_push(&c->pulled, h);
		else
			free(h);
	}
	if (n == 0)
		return fail(
		    c, XZ_ETIMEDOUT, "no message within %d ms", timeout_ms);
	return report_lost(c, XZ_OK);
}

int
xzc_next(xzc_client *c, int timeout_ms, const xzc_msg **msg)
{
	uint64_t deadline = timeout_ms < 0
	    ? UINT64_MAX
	    : mono_us() + (uint64_t) timeout_ms * 1000u;
	held    *h;
	int      rc;

	if (msg != NULL)
		*msg = NULL;
	if (c == NULL || msg == NULL)
		return c ? fail(c, XZ_EINVAL, "next: NULL argument")
		         : XZ_EINVAL;
	if (c->depth > 0)
		return fail(c, XZ_ESTATE, "xzc_next called from a handler");
	free(c->out);
	c->out = NULL;
	while ((h = q_pop(&c->pulled)) == NULL) {
		rc = take(c, deadline, &h);
		if (rc == XZ_ETIMEDOUT)
			return fail(
			    c, rc, "no message within %d ms", timeout_ms);
		if (rc != XZ_OK)
			return rc;
		if (route(c, h))
			break;
		free(h);
	}
	c->out = h;
	*msg   = &h->m;
	return XZ_OK;
}

uint64_t
xzc_refused(const xzc_client *c)
{
	return c != NULL ? c->refused_total : 0;
}

int
xzc_msg_error(const xzc_msg *msg)
{
	if (msg == NULL)
		return XZ_EINVAL;
	if (!(msg->flags & XZ_MSG_ERROR))
		return XZ_OK;
	return payload_err((const char *) msg->data, msg->len);
}

const char *
xzc_errmsg(const xzc_client *c)
{
	return c != NULL ? c->errmsg : XZ_TR(xz_client_zh, "no client");
}

const char *
xzc_strerror(int err)
{
	return xz_strerror(err);
}

const char *
xzc_version(void)
{
	return XZ_VERSION_STRING;
}
