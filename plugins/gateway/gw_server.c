/*
 * gw_server.c - the gateway's server thread: libwebsockets serving HTTP/1.1
 * (static files, the JSON API, Server-Sent Events) and WebSocket, HTTPS
 * when a certificate is configured.
 *
 * This thread owns every connection (struct conn, hung on the lws wsi as
 * its opaque user data) and never touches the bus: whatever needs the bus
 * becomes a gw_job for the actor (gw_post), whose answer comes back as a
 * gw_out (HTTP) or as frames in a gw_client ring (events), announced by
 * lws_cancel_service() -> LWS_CALLBACK_EVENT_WAIT_CANCELLED here.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gw.h"

_Static_assert(GW_LWS_PRE >= LWS_PRE, "GW_LWS_PRE below LWS_PRE");

#define CONN_BUCKETS 1024
#define STATIC_MAX (4u << 20) /* largest static file served */
#define HDR_MAX 4096
#define SSE_PING_US (10 * LWS_US_PER_SEC)

enum { M_OTHER, M_GET, M_POST };

/* One connection (HTTP keep-alive or WebSocket). Owned by the server
 * thread: created on first sight of its wsi, freed at WSI_DESTROY. */
typedef struct conn {
	struct conn *hnext; /* id hash chain */
	struct conn *cnext, *cprev; /* event clients list */
	uint64_t     id;
	struct lws  *wsi;
	int          got_request;
	int          is_ws;
	/* The request being read. */
	gw_job *job; /* owned until posted */
	char   *body; /* owned */
	size_t  blen;
	int     body_over;
	int     awaiting; /* a job is out; a gw_out will come */
	/* The response being written. */
	gw_out *resp; /* owned */
	int     close_after;
	/* Event stream (WebSocket or SSE). */
	gw_client *client; /* one reference, owned */
	int        sse_started;
	int        ping_due; /* SSE: write a comment to find dead peers */
	int        ws_hello; /* WebSocket: {"subscribed":..} was sent */
	int        ws_refuse; /* WebSocket: close at once with this code */
	int        unsub_posted;
	int        slow_armed; /* over its queue: closed in slow_grace_s */
	int        slow_closed; /* closed as slow with a reason */
	/* WebSocket upgrade: what the filter saw. */
	char token[GW_TOKEN_MAX];
	char pattern[GW_TOPIC_MAX];
	char peer[GW_PEER_MAX];
	int  lang; /* of the request being read (conn_lang) */
} conn;

struct gw_server {
	gw_shared             *sh;
	gw_opts                o;
	struct lws_context    *ctx;
	pthread_t              th;
	atomic_bool            stop;
	uint64_t               next_id;
	conn                  *buckets[CONN_BUCKETS];
	conn                  *clients; /* list of conns with a client */
	lws_sorted_usec_list_t ping; /* SSE keep-alive, every SSE_PING_US */
	int                    tls;
	unsigned char         *scratch; /* owned: one batch of frames */
	size_t                 scratch_cap;
};

static void
stat_inc(gw_shared *sh, int which)
{
	atomic_fetch_add_explicit(&sh->stats[which], 1, memory_order_relaxed);
}

/* ---- shared objects ---- */

gw_frame *
gw_frame_new(size_t len)
{
	gw_frame *f = malloc(sizeof(*f) + GW_LWS_PRE + len + 1);
	if (f == NULL)
		return NULL;
	atomic_init(&f->refs, 1);
	f->len                   = len;
	f->buf[GW_LWS_PRE + len] = '\0';
	return f;
}

void
gw_frame_unref(gw_frame *f)
{
	if (f != NULL && atomic_fetch_sub(&f->refs, 1) == 1)
		free(f);
}

void
gw_client_unref(gw_client *c)
{
	if (c == NULL || atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	for (uint32_t i = 0; i < c->n; i++)
		gw_frame_unref(c->ring[(c->head + i) % c->cap]);
	free(c->ring);
	free(c->fail_msg);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

void
gw_job_free(gw_job *j)
{
	if (j == NULL)
		return;
	free(j->body);
	gw_client_unref(j->client);
	free(j);
}

void
gw_out_free(gw_out *o)
{
	if (o == NULL)
		return;
	free(o->headers);
	free(o->body);
	free(o);
}

void
gw_post(gw_shared *sh, gw_job *j)
{
	int arm;

	j->next = NULL;
	pthread_mutex_lock(&sh->mu);
	*sh->jobs_tail = j;
	sh->jobs_tail  = &j->next;
	/* An actor busy answering takes the queue at its batch's end
	 * (gw_take_jobs from batch_end): no wake-up needed. */
	arm = !sh->wake_armed && !sh->actor_busy;
	if (arm)
		sh->wake_armed = 1;
	pthread_mutex_unlock(&sh->mu);
	/* The one host call this thread makes: a one-shot timer of delay 0
	 * runs the drain in the actor. xz_timer_add is mutex-protected and
	 * keyed on nothing thread-bound (core/sched/timer.c); at most one is
	 * pending at a time. */
	if (arm
	    && sh->host->timer_start(
	           sh->self, 0, 0, sh->drain, sh->drain_ud, NULL)
	        != XZ_OK) {
		pthread_mutex_lock(&sh->mu);
		sh->wake_armed = 0; /* the actor's periodic sweep drains it */
		pthread_mutex_unlock(&sh->mu);
	}
}

void
gw_answer(gw_shared *sh, gw_out *o)
{
	int wake;

	o->next = NULL;
	pthread_mutex_lock(&sh->mu);
	/* The server takes the whole list when woken: answers added to a
	 * list it has not taken yet need no wake-up (a write to the
	 * library's pipe) of their own. */
	wake           = sh->outs == NULL;
	*sh->outs_tail = o;
	sh->outs_tail  = &o->next;
	sh->actor_busy = 1; /* see gw_post */
	pthread_mutex_unlock(&sh->mu);
	if (wake && sh->ctx != NULL)
		lws_cancel_service(sh->ctx);
}

void
gw_kick(gw_shared *sh)
{
	if (sh->ctx != NULL)
		lws_cancel_service(sh->ctx);
}

/* ---- connections ---- */

static conn *
conn_of(gw_server *s, struct lws *wsi)
{
	conn *c = lws_get_opaque_user_data(wsi);
	if (c != NULL)
		return c;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->id  = ++s->next_id;
	c->wsi = wsi;
	lws_set_opaque_user_data(wsi, c);
	c->hnext                         = s->buckets[c->id % CONN_BUCKETS];
	s->buckets[c->id % CONN_BUCKETS] = c;
	stat_inc(s->sh, GS_CONNECTIONS);
	atomic_fetch_add(&s->sh->conns_open, 1);
	return c;
}

static conn *
conn_find(gw_server *s, uint64_t id)
{
	for (conn *c = s->buckets[id % CONN_BUCKETS]; c; c = c->hnext)
		if (c->id == id)
			return c;
	return NULL;
}

static void
client_list_add(gw_server *s, conn *c)
{
	c->cprev = NULL;
	c->cnext = s->clients;
	if (s->clients)
		s->clients->cprev = c;
	s->clients = c;
}

static void
client_list_del(gw_server *s, conn *c)
{
	if (c->cprev)
		c->cprev->cnext = c->cnext;
	else if (s->clients == c)
		s->clients = c->cnext;
	if (c->cnext)
		c->cnext->cprev = c->cprev;
	c->cprev = c->cnext = NULL;
}

static void
post_unsub(gw_server *s, conn *c)
{
	gw_job *j;

	if (c->client == NULL || c->unsub_posted)
		return;
	c->unsub_posted = 1;
	pthread_mutex_lock(&c->client->mu);
	c->client->gone = 1;
	pthread_mutex_unlock(&c->client->mu);
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return; /* the subscription stays until shutdown; frames
		           dropped */
	j->kind = GJ_UNSUB;
	j->conn = c->id;
	gw_post(s->sh, j);
}

static void
conn_free(gw_server *s, conn *c)
{
	conn **pp = &s->buckets[c->id % CONN_BUCKETS];
	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	if (c->client != NULL) {
		post_unsub(s, c);
		client_list_del(s, c);
		if (c->client->sse)
			atomic_fetch_sub(&s->sh->sse_clients, 1);
		else
			atomic_fetch_sub(&s->sh->ws_clients, 1);
		gw_client_unref(c->client);
	}
	gw_job_free(c->job);
	free(c->body);
	gw_out_free(c->resp);
	free(c);
	atomic_fetch_sub(&s->sh->conns_open, 1);
}

static void
request_reset(conn *c)
{
	gw_job_free(c->job);
	c->job = NULL;
	free(c->body);
	c->body      = NULL;
	c->blen      = 0;
	c->body_over = 0;
	c->awaiting  = 0;
	gw_out_free(c->resp);
	c->resp        = NULL;
	c->close_after = 0;
}

/* ---- responses ---- */

static void
respond(conn *c, int status, const char *ctype, char *body, size_t len,
    char *headers)
{
	gw_out *o = calloc(1, sizeof(*o));
	if (o == NULL) {
		free(body);
		free(headers);
		c->close_after = 1;
		lws_callback_on_writable(c->wsi);
		return;
	}
	o->status  = status;
	o->ctype   = ctype;
	o->body    = body;
	o->len     = len;
	o->headers = headers;
	gw_out_free(c->resp);
	c->resp = o;
	lws_callback_on_writable(c->wsi);
}

/* msg as the body of a JSON string into out (len bytes): quotes,
 * backslashes and control bytes escaped; cut at len. */
static void
json_escape(char *out, size_t len, const char *msg)
{
	size_t o = 0;
	for (; *msg != '\0' && o + 7 < len; msg++) {
		unsigned char ch = (unsigned char) *msg;
		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char) ch;
		} else if (ch < 0x20) {
			o += (size_t) snprintf(
			    out + o, len - o, "\\u%04x", ch);
		} else {
			out[o++] = (char) ch;
		}
	}
	out[o] = '\0';
}

/* An error answer {"error":{"code":..,"message":..}}: msg (English, GE)
 * in the request's language. */
static void
respond_error(conn *c, int status, const char *code, const char *msg)
{
	char  m[1024];
	char *b = NULL;
	json_escape(m, sizeof(m), gw_text(c->lang, msg));
	int n = asprintf(
	    &b, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code, m);
	if (n < 0)
		b = NULL, n = 0;
	respond(c, status, "application/json", b, b ? (size_t) n : 0, NULL);
}

/* A scratch buffer up to this size stays for the next write. */
#define SCRATCH_KEEP (512u << 10)

/* Grow the server's scratch buffer to LWS_PRE + len; NULL when out of
 * memory. */
static unsigned char *
scratch(gw_server *s, size_t len)
{
	if (LWS_PRE + len > s->scratch_cap) {
		size_t         need = LWS_PRE + len;
		size_t         cap = need > SCRATCH_KEEP / 2 ? need : need * 2;
		unsigned char *p   = realloc(s->scratch, cap);
		if (p == NULL)
			return NULL;
		s->scratch     = p;
		s->scratch_cap = cap;
	}
	return s->scratch + LWS_PRE;
}

/* After a write: a buffer grown past SCRATCH_KEEP for one large answer (a
 * static file) is given back, so that it does not stay resident. */
static void
scratch_trim(gw_server *s)
{
	if (s->scratch_cap > SCRATCH_KEEP) {
		free(s->scratch);
		s->scratch     = NULL;
		s->scratch_cap = 0;
	}
}

static int
add_header(struct lws *wsi, const char *name, const char *val,
    unsigned char **p, unsigned char *end)
{
	return lws_add_http_header_by_name(wsi, (const unsigned char *) name,
	    (const unsigned char *) val, (int) strlen(val), p, end);
}

/* Status line and headers into start..end (end exclusive); *out gets
 * where they end. -1 when they do not fit. */
static int
build_headers(conn *c, int status, const char *ctype, const char *extra,
    int64_t content_len, unsigned char *start, unsigned char *end,
    unsigned char **out)
{
	unsigned char *p = start;

	if (lws_add_http_header_status(c->wsi, (unsigned) status, &p, end)
	    || lws_add_http_header_by_token(c->wsi,
	        WSI_TOKEN_HTTP_CONTENT_TYPE, (const unsigned char *) ctype,
	        (int) strlen(ctype), &p, end)
	    || add_header(c->wsi, "cache-control:", "no-store", &p, end)
	    || add_header(
	        c->wsi, "x-content-type-options:", "nosniff", &p, end)
	    || add_header(c->wsi, "x-frame-options:", "DENY", &p, end)
	    || add_header(c->wsi, "referrer-policy:", "no-referrer", &p, end)
	    || add_header(c->wsi, "content-security-policy:",
	        "default-src 'self'; connect-src 'self' ws: wss:; "
	        "img-src 'self' data:; frame-ancestors 'none'",
	        &p, end))
		return -1;
	if (content_len >= 0
	    && lws_add_http_header_content_length(
	        c->wsi, (lws_filepos_t) content_len, &p, end))
		return -1;
	if (c->close_after
	    && add_header(c->wsi, "connection:", "close", &p, end))
		return -1;
	/* extra: "name: value\r\n" lines from the actor (Set-Cookie, ...). */
	for (const char *l = extra; l && *l;) {
		const char *colon = strchr(l, ':'), *eol = strstr(l, "\r\n");
		char        name[64], val[1024];
		if (colon == NULL || eol == NULL || colon > eol
		    || (size_t) (colon - l) + 2 > sizeof(name)
		    || (size_t) (eol - colon) > sizeof(val))
			break;
		size_t nl = (size_t) (colon - l);
		for (size_t i = 0; i < nl; i++)
			name[i]
			    = (char) (l[i] >= 'A' && l[i] <= 'Z' ? l[i] + 32
			                                         : l[i]);
		name[nl]      = ':';
		name[nl + 1]  = '\0';
		const char *v = colon + 1;
		while (*v == ' ')
			v++;
		memcpy(val, v, (size_t) (eol - v));
		val[eol - v] = '\0';
		if (add_header(c->wsi, name, val, &p, end))
			return -1;
		l = eol + 2;
	}
	if (lws_finalize_http_header(c->wsi, &p, end))
		return -1;
	*out = p;
	return 0;
}

/* Status line and headers alone (an SSE stream's start); -1 when they do
 * not fit or cannot be sent. */
static int
write_headers(gw_server *s, conn *c, int status, const char *ctype,
    const char *extra, int64_t content_len)
{
	unsigned char  buf[LWS_PRE + HDR_MAX];
	unsigned char *start = buf + LWS_PRE, *p = start;

	(void) s;
	if (build_headers(c, status, ctype, extra, content_len, start,
	        buf + sizeof(buf) - 1, &p))
		return -1;
	return lws_write(
	           c->wsi, start, (size_t) (p - start), LWS_WRITE_HTTP_HEADERS)
	        < 0
	    ? -1
	    : 0;
}

/* Write the whole answer; -1 closes the connection. */
static int
write_response(gw_server *s, conn *c)
{
	gw_out *o = c->resp;
	int     rc;

	if (o == NULL)
		return 0;
	c->resp = NULL;
	if (c->close_after)
		lws_http_mark_sse(c->wsi); /* no keep-alive after this one */
	/* HTTP/1.1: headers and body in one buffer, handed to the socket in
	 * one write (the library sends what it is given as it is): one TCP
	 * segment for a small answer, and the client woken once. An HTTP/2
	 * stream (under TLS, by ALPN) is a child of its connection's wsi: the
	 * library frames the headers and the body apart. */
	int            h1 = lws_get_network_wsi(c->wsi) == c->wsi;
	unsigned char *b = scratch(s, HDR_MAX + o->len), *p = b;
	rc = b == NULL ? -1
	               : build_headers(c, o->status, o->ctype, o->headers,
	                   (int64_t) o->len, b, b + HDR_MAX, &p);
	if (rc == 0 && !h1) {
		if (lws_write(
		        c->wsi, b, (size_t) (p - b), LWS_WRITE_HTTP_HEADERS)
		    < 0)
			rc = -1;
		p = b;
	}
	if (rc == 0) {
		if (o->len)
			memcpy(p, o->body, o->len);
		if (lws_write(c->wsi, b, (size_t) (p - b) + o->len,
		        LWS_WRITE_HTTP_FINAL)
		    < 0)
			rc = -1;
	}
	scratch_trim(s);
	gw_out_free(o);
	if (rc || c->close_after)
		return -1;
	request_reset(c);
	if (lws_http_transaction_completed(c->wsi))
		return -1;
	return 0;
}

/* ---- requests ---- */

static void
hdr_copy(struct lws *wsi, enum lws_token_indexes t, char *buf, int len)
{
	buf[0] = '\0';
	if (lws_hdr_total_length(wsi, t) > 0
	    && lws_hdr_total_length(wsi, t) < len)
		lws_hdr_copy(wsi, buf, len, t);
}

/* The session token: Authorization: Bearer, else the xz_session cookie,
 * else (event streams only) ?token=. */
static void
find_token(struct lws *wsi, char *tok, size_t len, int *cookie, int query)
{
	char        buf[2048];
	const char *v;

	tok[0]  = '\0';
	*cookie = 0;
	hdr_copy(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, buf, (int) sizeof(buf));
	if (strncasecmp(buf, "Bearer ", 7) == 0) {
		snprintf(tok, len, "%s", buf + 7);
		return;
	}
	hdr_copy(wsi, WSI_TOKEN_HTTP_COOKIE, buf, (int) sizeof(buf));
	for (char *p = buf; (p = strstr(p, "xz_session=")) != NULL; p++) {
		if (p != buf && p[-1] != ' ' && p[-1] != ';')
			continue;
		p += strlen("xz_session=");
		size_t n = strcspn(p, ";");
		if (n > 0 && n < len) {
			memcpy(tok, p, n);
			tok[n]  = '\0';
			*cookie = 1;
		}
		return;
	}
	if (query
	    && (v = lws_get_urlarg_by_name(
	            wsi, "token=", buf, (int) sizeof(buf)))
	        != NULL)
		snprintf(tok, len, "%s", v);
}

/* The language the request asks for: its lang= query parameter, else its
 * Accept-Language header (gw_lang), else the node's. */
static int
conn_lang(struct lws *wsi)
{
	char        buf[256];
	const char *v
	    = lws_get_urlarg_by_name(wsi, "lang=", buf, (int) sizeof(buf));
	if (v != NULL && *v != '\0')
		return gw_lang(v);
	hdr_copy(wsi, WSI_TOKEN_HTTP_ACCEPT_LANGUAGE, buf, (int) sizeof(buf));
	return gw_lang(buf);
}

static gw_job *
job_new(conn *c, int kind, const char *topic)
{
	gw_job *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return NULL;
	j->kind = kind;
	j->conn = c->id;
	j->lang = c->lang;
	if (topic)
		snprintf(j->topic, sizeof(j->topic), "%s", topic);
	find_token(c->wsi, j->token, sizeof(j->token), &j->cookie, 0);
	/* Only what the job needs: the CSRF header matters to a cookie
	 * session, the peer's address to the login limit (a system call). */
	if (j->cookie)
		lws_hdr_custom_copy(c->wsi, j->csrf, (int) sizeof(j->csrf),
		    "x-csrf-token:", 13);
	if (kind == GJ_LOGIN)
		lws_get_peer_simple(c->wsi, j->peer, sizeof(j->peer));
	return j;
}

static uint64_t
mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static void
post_job(gw_server *s, conn *c, gw_job *j)
{
	j->t0_us    = mono_us();
	c->awaiting = 1;
	gw_post(s->sh, j);
}

static const char *
mime_of(const char *path)
{
	const char *dot = strrchr(path, '.');
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".png", "image/png" },
		{ ".svg", "image/svg+xml" },
		{ ".ico", "image/x-icon" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

/* A path that could leave web_root: "..", a backslash, a NUL or a
 * control byte anywhere. */
static int
path_unsafe(const char *p)
{
	if (strstr(p, "..") || strchr(p, '\\'))
		return 1;
	for (; *p; p++)
		if ((unsigned char) *p < 0x20)
			return 1;
	return 0;
}

static void
serve_static(gw_server *s, conn *c, const char *uri)
{
	char        path[1024];
	struct stat st;
	int         fd;
	char       *b;

	if (strcmp(uri, "/") == 0)
		uri = "/index.html";
	if ((size_t) snprintf(path, sizeof(path), "%s%s", s->o.web_root, uri)
	        >= sizeof(path)
	    || (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		stat_inc(s->sh, GS_NOT_FOUND);
		respond_error(c, 404, "not_found", GE("no such file"));
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)
	    || st.st_size > (off_t) STATIC_MAX
	    || (b = malloc((size_t) st.st_size + 1)) == NULL) {
		close(fd);
		stat_inc(s->sh, GS_NOT_FOUND);
		respond_error(c, 404, "not_found", GE("no such file"));
		return;
	}
	size_t got = 0;
	while (got < (size_t) st.st_size) {
		ssize_t n = read(fd, b + got, (size_t) st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t) n;
	}
	close(fd);
	stat_inc(s->sh, GS_STATIC);
	respond(c, 200, mime_of(path), b, got, NULL);
}

static gw_client *
client_new(gw_server *s, conn *c, int sse)
{
	gw_client *cl = calloc(1, sizeof(*cl));
	if (cl == NULL)
		return NULL;
	cl->cap  = (uint32_t) s->o.client_queue_max;
	cl->ring = calloc(cl->cap, sizeof(*cl->ring));
	if (cl->ring == NULL) {
		free(cl);
		return NULL;
	}
	atomic_init(&cl->refs, 1);
	pthread_mutex_init(&cl->mu, NULL);
	cl->max_bytes = (size_t) s->o.client_queue_bytes;
	cl->sse       = sse;
	cl->conn      = c->id;
	cl->lang      = c->lang;
	return cl;
}

/* Start an event stream: the client goes to the actor, which subscribes
 * (or refuses) and says so through the client's flags. */
static int
start_stream(gw_server *s, conn *c, int sse, const char *pattern,
    const char *token, int cookie)
{
	gw_job *j = job_new(c, GJ_SUB, pattern);

	if (j == NULL || (c->client = client_new(s, c, sse)) == NULL) {
		gw_job_free(j);
		return -1;
	}
	if (token != NULL) {
		snprintf(j->token, sizeof(j->token), "%s", token);
		j->cookie = cookie;
	}
	atomic_fetch_add(&c->client->refs, 1);
	j->client = c->client;
	client_list_add(s, c);
	if (sse)
		atomic_fetch_add(&s->sh->sse_clients, 1);
	else
		atomic_fetch_add(&s->sh->ws_clients, 1);
	post_job(s, c, j);
	return 0;
}

static int
on_http(gw_server *s, conn *c, const char *uri)
{
	int  method = M_OTHER;
	char cl[32];

	request_reset(c);
	c->got_request = 1;
	c->lang        = conn_lang(c->wsi);
	stat_inc(s->sh, GS_REQUESTS);
	if (lws_hdr_total_length(c->wsi, WSI_TOKEN_GET_URI) > 0)
		method = M_GET;
	else if (lws_hdr_total_length(c->wsi, WSI_TOKEN_POST_URI) > 0)
		method = M_POST;
	if (path_unsafe(uri)) {
		stat_inc(s->sh, GS_TRAVERSAL);
		respond_error(c, 400, "bad_request",
		    GE("path traversal refused: the path holds '..', a "
		       "backslash or a control character"));
		return 0;
	}
	if (method == M_OTHER) {
		stat_inc(s->sh, GS_BAD_METHOD);
		c->close_after = 1;
		respond_error(c, 405, "bad_request", GE("only GET and POST"));
		return 0;
	}
	if (strcmp(uri, "/healthz") == 0) {
		char *b = strdup("{\"status\":\"ok\"}\n");
		respond(
		    c, 200, "application/json", b, b ? strlen(b) : 0, NULL);
		return 0;
	}
	if (strcmp(uri, "/readyz") == 0 || strcmp(uri, "/metrics") == 0) {
		gw_job *j
		    = job_new(c, uri[1] == 'r' ? GJ_READY : GJ_METRICS, NULL);
		if (j == NULL)
			return -1;
		post_job(s, c, j);
		return 0;
	}
	if (strncmp(uri, "/api/", 5) != 0) {
		if (method != M_GET) {
			stat_inc(s->sh, GS_BAD_METHOD);
			c->close_after = 1;
			respond_error(
			    c, 405, "bad_request", GE("static files: GET"));
			return 0;
		}
		serve_static(s, c, uri);
		return 0;
	}
	if (strcmp(uri, "/api/v1/events") == 0 && method == M_GET) {
		char        buf[GW_TOPIC_MAX + 16];
		const char *pat = lws_get_urlarg_by_name(
		    c->wsi, "pattern=", buf, (int) sizeof(buf));
		if (pat == NULL || *pat == '\0') {
			respond_error(c, 400, "bad_request",
			    GE("query parameter pattern"));
			return 0;
		}
		if (atomic_load(&s->sh->ws_clients)
		        + atomic_load(&s->sh->sse_clients)
		    >= s->o.max_ws_clients) {
			stat_inc(s->sh, GS_WS_REFUSED_LIMIT);
			respond_error(c, 503, "capacity_exceeded",
			    GE("too many event clients"));
			return 0;
		}
		char tok[GW_TOKEN_MAX];
		int  cookie;
		find_token(c->wsi, tok, sizeof(tok), &cookie, 1);
		stat_inc(s->sh, GS_SSE_OPENED);
		return start_stream(s, c, 1, pat, tok, cookie);
	}
	struct {
		const char *path;
		int         method, kind;
	} routes[] = {
		{ "/api/v1/login", M_POST, GJ_LOGIN },
		{ "/api/v1/logout", M_POST, GJ_LOGOUT },
		{ "/api/v1/me", M_GET, GJ_ME },
		{ "/api/v1/call/", M_POST, GJ_CALL },
	};
	int kind = 0;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		size_t n     = strlen(routes[i].path);
		int    match = routes[i].kind == GJ_CALL
		       ? strncmp(uri, routes[i].path, n) == 0
		       : strcmp(uri, routes[i].path) == 0;
		if (!match)
			continue;
		if (method != routes[i].method) {
			stat_inc(s->sh, GS_BAD_METHOD);
			c->close_after = 1;
			respond_error(c, 405, "bad_request",
			    routes[i].method == M_GET ? GE("use GET")
			                              : GE("use POST"));
			return 0;
		}
		kind = routes[i].kind;
		break;
	}
	if (kind == 0) {
		stat_inc(s->sh, GS_NOT_FOUND);
		respond_error(c, 404, "not_found", GE("no such API path"));
		return 0;
	}
	c->job = job_new(
	    c, kind, kind == GJ_CALL ? uri + strlen("/api/v1/call/") : NULL);
	if (c->job == NULL)
		return -1;
	if (method == M_GET) {
		gw_job *j = c->job;
		c->job    = NULL;
		post_job(s, c, j);
		return 0;
	}
	hdr_copy(c->wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, cl, (int) sizeof(cl));
	long long want = cl[0] ? atoll(cl) : 0;
	if (want > s->o.max_payload) {
		char msg[160];
		stat_inc(s->sh, GS_TOO_LARGE);
		snprintf(msg, sizeof(msg),
		    gw_text(c->lang, GE("body over max_payload (%lld bytes)")),
		    (long long) s->o.max_payload);
		c->close_after = 1;
		gw_job_free(c->job);
		c->job = NULL;
		respond_error(c, 413, "too_large", msg);
		return 0;
	}
	if (want <= 0) { /* no body: nothing more will come */
		gw_job *j = c->job;
		c->job    = NULL;
		post_job(s, c, j);
	}
	return 0;
}

static int
on_body(gw_server *s, conn *c, const void *in, size_t len)
{
	if (c->job == NULL || c->body_over)
		return 0;
	if (c->blen + len > (size_t) s->o.max_payload) {
		char msg[160];
		c->body_over = 1;
		stat_inc(s->sh, GS_TOO_LARGE);
		snprintf(msg, sizeof(msg),
		    gw_text(c->lang, GE("body over max_payload (%lld bytes)")),
		    (long long) s->o.max_payload);
		c->close_after = 1;
		gw_job_free(c->job);
		c->job = NULL;
		respond_error(c, 413, "too_large", msg);
		return 0;
	}
	char *b = realloc(c->body, c->blen + len + 1);
	if (b == NULL)
		return -1;
	memcpy(b + c->blen, in, len);
	c->body = b;
	c->blen += len;
	b[c->blen] = '\0';
	return 0;
}

static void
on_body_done(gw_server *s, conn *c)
{
	gw_job *j = c->job;
	if (j == NULL)
		return;
	c->job  = NULL;
	j->body = c->body;
	j->len  = c->blen;
	c->body = NULL;
	c->blen = 0;
	post_job(s, c, j);
}

/* ---- event streams ---- */

/* Events written per writable callback, at most: one write each way. */
#define BATCH_FRAMES 256
#define BATCH_BYTES (256u << 10)

/* Take queued frames for one write: up to BATCH_FRAMES, and past the
 * first no more than BATCH_BYTES; report the client's flags. */
static uint32_t
take_frames(gw_client *cl, gw_frame **out, int *overflow, int *ready,
    int *fail_status, char *fail, size_t faillen, int *more)
{
	uint32_t n     = 0;
	size_t   bytes = 0;
	pthread_mutex_lock(&cl->mu);
	atomic_store(&cl->wake, false);
	*overflow    = cl->overflow;
	*ready       = cl->ready;
	*fail_status = cl->fail_status;
	if (cl->fail_msg)
		snprintf(fail, faillen, "%s", cl->fail_msg);
	while (n < BATCH_FRAMES && cl->n > 0) {
		gw_frame *f = cl->ring[cl->head];
		if (n > 0 && bytes + f->len > BATCH_BYTES)
			break;
		cl->head = (cl->head + 1) % cl->cap;
		cl->n--;
		cl->bytes -= f->len;
		bytes += f->len;
		out[n++] = f;
	}
	*more = cl->n > 0;
	pthread_mutex_unlock(&cl->mu);
	return n;
}

/* A server-to-client WebSocket text frame's header (RFC 6455 5.2: FIN,
 * opcode 1, unmasked) for len bytes, into h; its length. */
static size_t
ws_header(unsigned char *h, size_t len)
{
	h[0] = 0x81;
	if (len < 126) {
		h[1] = (unsigned char) len;
		return 2;
	}
	if (len < 65536) {
		h[1] = 126;
		h[2] = (unsigned char) (len >> 8);
		h[3] = (unsigned char) len;
		return 4;
	}
	h[1] = 127;
	for (int i = 0; i < 8; i++)
		h[2 + i] = (unsigned char) ((uint64_t) len >> (56 - 8 * i));
	return 10;
}

/* The queued events of one client as one write: every event its own
 * WebSocket frame (or SSE record), all frames in one buffer handed to the
 * library in one lws_write (LWS_WRITE_HTTP: sent as they are; what the
 * socket does not take at once the library keeps and sends before the
 * next writable callback). */
static int
write_batch(gw_server *s, conn *c, gw_frame **f, uint32_t n, int ws,
    const char *hello, size_t hlen)
{
	size_t total = hlen + (ws && hlen ? 10 : 0);
	for (uint32_t i = 0; i < n; i++)
		total += f[i]->len + (ws ? 10 : 0);
	if (total == 0)
		return 0;
	unsigned char *b = scratch(s, total), *p = b;
	if (b == NULL)
		return -1;
	if (hlen) {
		if (ws)
			p += ws_header(p, hlen);
		memcpy(p, hello, hlen);
		p += hlen;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (ws)
			p += ws_header(p, f[i]->len);
		memcpy(p, f[i]->buf + GW_LWS_PRE, f[i]->len);
		p += f[i]->len;
	}
	int rc = lws_write(c->wsi, b, (size_t) (p - b), LWS_WRITE_HTTP);
	scratch_trim(s);
	if (rc < 0)
		return -1;
	atomic_fetch_add_explicit(
	    &s->sh->stats[GS_EVENTS_SENT], n, memory_order_relaxed);
	return 0;
}

static int
ws_writeable(gw_server *s, conn *c)
{
	gw_frame *f[BATCH_FRAMES];
	int       overflow, ready, fst, more, rc = 0;
	char      fail[256] = "", hello[GW_TOPIC_MAX + 32];
	size_t    hlen      = 0;
	uint32_t  n;

	if (c->client == NULL)
		return 0;
	if (lws_send_pipe_choked(c->wsi)) { /* the library still sends */
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	n = take_frames(
	    c->client, f, &overflow, &ready, &fst, fail, sizeof(fail), &more);
	if (ready && !c->ws_hello) {
		/* The first frame says the subscription is live: events
		 * published from now on arrive. */
		hlen        = (size_t) snprintf(hello, sizeof(hello),
		           "{\"subscribed\":\"%s\"}", c->pattern);
		c->ws_hello = 1;
	}
	if (write_batch(s, c, f, n, 1, hello, hlen) < 0)
		rc = -1;
	for (uint32_t k = 0; k < n; k++)
		gw_frame_unref(f[k]);
	if (rc < 0)
		return -1;
	if (fst) {
		char reason[300];
		snprintf(reason, sizeof(reason), "%d %s", fst, fail);
		lws_close_reason(c->wsi, (enum lws_close_status)(4000 + fst),
		    (unsigned char *) reason, strlen(reason));
		return -1;
	}
	if (overflow && !more) {
		char reason[200];
		stat_inc(s->sh, GS_SLOW_CLOSED);
		c->slow_closed = 1;
		snprintf(reason, sizeof(reason),
		    gw_text(c->client->lang,
		        GE("slow consumer: over %u events or %zu bytes queued "
		           "unread; re-fetch lists and reconnect")),
		    c->client->cap, c->client->max_bytes);
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
		    (unsigned char *) reason, strlen(reason));
		return -1;
	}
	if (more)
		lws_callback_on_writable(c->wsi);
	return 0;
}

static int
sse_writeable(gw_server *s, conn *c)
{
	gw_frame *f[BATCH_FRAMES];
	int       overflow, ready, fst, more, rc = 0;
	char      fail[256] = "";
	uint32_t  n, i;

	if (c->sse_started && lws_send_pipe_choked(c->wsi)) {
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	n = take_frames(
	    c->client, f, &overflow, &ready, &fst, fail, sizeof(fail), &more);
	if (!c->sse_started && fst) {
		for (i = 0; i < n; i++)
			gw_frame_unref(f[i]);
		const char *code = fst == 401 ? "unauthenticated"
		    : fst == 403              ? "forbidden"
		                              : "bad_request";
		respond_error(c, fst, code, fail);
		c->close_after = 1;
		return write_response(s, c);
	}
	if (!c->sse_started && !ready) {
		for (i = 0; i < n; i++)
			gw_frame_unref(f[i]);
		return 0;
	}
	const char *hello = NULL;
	if (!c->sse_started) {
		c->sse_started = 1;
		c->awaiting    = 0;
		if (write_headers(s, c, 200, "text/event-stream", NULL, -1)) {
			for (i = 0; i < n; i++)
				gw_frame_unref(f[i]);
			return -1;
		}
		lws_http_mark_sse(c->wsi);
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_HTTP_CONTENT, 0);
		hello = ": subscribed\n\n";
	} else if (n == 0 && c->ping_due)
		hello = ": ping\n\n";
	c->ping_due = 0;
	if (write_batch(s, c, f, n, 0, hello, hello ? strlen(hello) : 0) < 0)
		rc = -1;
	for (i = 0; i < n; i++)
		gw_frame_unref(f[i]);
	if (rc < 0)
		return -1;
	if (overflow && !more) {
		unsigned char b[LWS_PRE + 256];
		int           bl = snprintf((char *) b + LWS_PRE, 256,
		              "event: error\ndata: "
		                        "{\"error\":{\"code\":\"capacity_exceeded\","
		                        "\"message\":\"%s\"}}\n\n",
		              gw_text(c->client->lang,
		                  GE("slow consumer: re-fetch lists and "
		                               "reconnect")));
		stat_inc(s->sh, GS_SLOW_CLOSED);
		c->slow_closed = 1;
		if (bl > 0 && bl < 256)
			lws_write(
			    c->wsi, b + LWS_PRE, (size_t) bl, LWS_WRITE_HTTP);
		return -1;
	}
	if (more)
		lws_callback_on_writable(c->wsi);
	return 0;
}

/* A client over its queue is closed at its next writable callback, with
 * the reason; one that does not read at all never gets that callback (its
 * socket stays full), so it is cut off slow_grace_s later. */
static void
slow_arm(gw_server *s, conn *c)
{
	int over;
	if (c->slow_armed)
		return;
	pthread_mutex_lock(&c->client->mu);
	over = c->client->overflow;
	pthread_mutex_unlock(&c->client->mu);
	if (!over)
		return;
	c->slow_armed = 1;
	lws_set_timeout(
	    c->wsi, PENDING_TIMEOUT_USER_OK, (int) s->o.slow_grace_s);
}

/* The actor said something: answers for connections, client wakes. */
static void
on_cancelled(gw_server *s)
{
	gw_out *o;

	pthread_mutex_lock(&s->sh->mu);
	o                = s->sh->outs;
	s->sh->outs      = NULL;
	s->sh->outs_tail = &s->sh->outs;
	pthread_mutex_unlock(&s->sh->mu);
	while (o != NULL) {
		gw_out *next = o->next;
		conn   *c    = conn_find(s, o->conn);
		if (c == NULL || !c->awaiting)
			gw_out_free(o);
		else {
			c->awaiting = 0;
			gw_out_free(c->resp);
			c->resp = o;
			lws_callback_on_writable(c->wsi);
		}
		o = next;
	}
	if (atomic_exchange(&s->sh->clients_dirty, false))
		for (conn *c = s->clients; c; c = c->cnext)
			if (atomic_load(&c->client->wake)) {
				lws_callback_on_writable(c->wsi);
				slow_arm(s, c);
			}
}

/* ---- the callback ---- */

static int
same_origin(struct lws *wsi)
{
	char origin[256], host[256];
	hdr_copy(wsi, WSI_TOKEN_ORIGIN, origin, (int) sizeof(origin));
	if (origin[0] == '\0')
		return 1; /* not a browser */
	hdr_copy(wsi, WSI_TOKEN_HOST, host, (int) sizeof(host));
	const char *o = strstr(origin, "://");
	return o != NULL && strcmp(o + 3, host) == 0;
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct lws_context *ctx = lws_get_context(wsi);
	gw_server          *s   = lws_context_user(ctx);
	conn               *c;

	(void) user;
	switch (reason) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		on_cancelled(s);
		return 0;
	case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
		/* An accepted connection (the opaque pointer set at
		 * WSI_CREATE does not survive to here): so one that never
		 * completes a request is counted when it goes. */
		conn_of(s, wsi);
		return 0;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		/* "websocket" only; h2c and others are refused. */
		if (in == NULL || strcmp(in, "websocket") != 0)
			return 1;
		return 0;
	case LWS_CALLBACK_HTTP:
		if ((c = conn_of(s, wsi)) == NULL)
			return -1;
		if (on_http(s, c, in ? (const char *) in : "/"))
			return -1;
		return 0;
	case LWS_CALLBACK_HTTP_BODY:
		if ((c = conn_of(s, wsi)) == NULL)
			return -1;
		return on_body(s, c, in, len);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if ((c = conn_of(s, wsi)) == NULL)
			return -1;
		on_body_done(s, c);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if ((c = lws_get_opaque_user_data(wsi)) == NULL)
			return 0;
		if (c->client != NULL && c->client->sse)
			return sse_writeable(s, c);
		return write_response(s, c);
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
		char uri[64], buf[GW_TOPIC_MAX + 16];
		int  cookie;
		if ((c = conn_of(s, wsi)) == NULL)
			return -1;
		c->got_request = 1;
		c->lang        = conn_lang(wsi);
		hdr_copy(wsi, WSI_TOKEN_GET_URI, uri, (int) sizeof(uri));
		/* Refusals are WebSocket close frames with a reason
		 * (4000 + the HTTP status), sent once established. */
		if (strcmp(uri, "/api/v1/events") != 0) {
			stat_inc(s->sh, GS_NOT_FOUND);
			c->ws_refuse = 404;
			return 0;
		}
		if (!same_origin(wsi)) {
			stat_inc(s->sh, GS_WS_REFUSED_ORIGIN);
			c->ws_refuse = 403;
			return 0;
		}
		const char *pat = lws_get_urlarg_by_name(
		    wsi, "pattern=", buf, (int) sizeof(buf));
		snprintf(c->pattern, sizeof(c->pattern), "%s", pat ? pat : "");
		find_token(wsi, c->token, sizeof(c->token), &cookie, 1);
		lws_get_peer_simple(wsi, c->peer, sizeof(c->peer));
		return 0;
	}
	case LWS_CALLBACK_ESTABLISHED:
		if ((c = conn_of(s, wsi)) == NULL)
			return -1;
		c->is_ws = 1;
		if (c->ws_refuse) {
			char r[124];
			snprintf(r, sizeof(r), "%d %s", c->ws_refuse,
			    gw_text(c->lang,
			        c->ws_refuse == 404
			            ? GE("WebSocket only on /api/v1/events")
			            : GE("Origin is not this server "
			                 "(cross-site WebSocket refused)")));
			lws_close_reason(wsi,
			    (enum lws_close_status)(4000 + c->ws_refuse),
			    (unsigned char *) r, strlen(r));
			return -1;
		}
		stat_inc(s->sh, GS_WS_OPENED);
		if (atomic_load(&s->sh->ws_clients)
		        + atomic_load(&s->sh->sse_clients)
		    >= s->o.max_ws_clients) {
			const char *r
			    = gw_text(c->lang, GE("too many event clients"));
			stat_inc(s->sh, GS_WS_REFUSED_LIMIT);
			lws_close_reason(wsi, (enum lws_close_status) 1013,
			    (unsigned char *) r, strlen(r));
			return -1;
		}
		if (c->pattern[0] == '\0') {
			char r[124];
			snprintf(r, sizeof(r), "400 %s",
			    gw_text(c->lang, GE("query parameter pattern")));
			lws_close_reason(wsi, (enum lws_close_status) 4400,
			    (unsigned char *) r, strlen(r));
			return -1;
		}
		return start_stream(s, c, 0, c->pattern, c->token, 0);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if ((c = lws_get_opaque_user_data(wsi)) == NULL)
			return 0;
		return ws_writeable(s, c);
	case LWS_CALLBACK_RECEIVE:
		return 0; /* nothing is read from clients */
	case LWS_CALLBACK_CLOSED:
	case LWS_CALLBACK_CLOSED_HTTP:
		if ((c = lws_get_opaque_user_data(wsi)) != NULL) {
			/* cut off by slow_arm's timeout: it never read */
			if (c->slow_armed && !c->slow_closed) {
				c->slow_closed = 1;
				stat_inc(s->sh, GS_SLOW_CLOSED);
			}
			post_unsub(s, c);
		}
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		if ((c = lws_get_opaque_user_data(wsi)) != NULL) {
			/* Closed before a whole request: a header timeout
			 * (slowloris), a client that gave up, a port scan. */
			if (!c->got_request && !atomic_load(&s->stop))
				stat_inc(s->sh, GS_INCOMPLETE);
			lws_set_opaque_user_data(wsi, NULL);
			conn_free(s, c);
		}
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{ "xiezhi", callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

/* An SSE peer that went away is only noticed when a write fails: every
 * SSE_PING_US each stream gets a comment line. */
static void
ping_cb(lws_sorted_usec_list_t *sul)
{
	gw_server *s = lws_container_of(sul, gw_server, ping);
	for (conn *c = s->clients; c; c = c->cnext)
		if (c->client->sse && c->sse_started) {
			c->ping_due = 1;
			lws_callback_on_writable(c->wsi);
		}
	lws_sul_schedule(s->ctx, 0, &s->ping, ping_cb, SSE_PING_US);
}

/* A PEM file we can read: checked before the library sees it, for a
 * clear message (and lws 4.1 leaks a little when a context fails). */
static int
pem_ok(const char *path, char *err, size_t errlen)
{
	char  buf[4096];
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return 0;
	}
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (strstr(buf, "-----BEGIN ") == NULL) {
		snprintf(err, errlen, GT("%s: not a PEM file"), path);
		return 0;
	}
	return 1;
}

static void *
server_main(void *arg)
{
	gw_server *s = arg;
	lws_sul_schedule(s->ctx, 0, &s->ping, ping_cb, SSE_PING_US);
	while (!atomic_load(&s->stop))
		if (lws_service(s->ctx, 0) < 0)
			break;
	return NULL;
}

static void
lws_logger(int level, const char *line)
{
	(void) level;
	(void) line; /* the gateway logs what matters itself */
}

/* Whether iface:port can be bound now (as libwebsockets will, with
 * SO_REUSEADDR): 0, or errno. A name that is no IPv4 address is left to
 * the library. Checked first because libwebsockets 4.1 leaks what it
 * registered when it cannot listen, and says nothing of why. */
static int
port_bindable(const char *iface, int64_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int                fd, one = 1, rc = 0;

	a.sin_port = htons((uint16_t) port);
	if (iface != NULL && *iface
	    && inet_pton(AF_INET, iface, &a.sin_addr) != 1)
		return 0;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	(void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *) &a, sizeof(a)) != 0)
		rc = errno;
	close(fd);
	return rc;
}

int
gw_server_start(
    gw_shared *sh, const gw_opts *o, gw_server **out, char *err, size_t errlen)
{
	int                              busy;
	struct lws_context_creation_info info;
	gw_server                       *s;

	if (o->tls_cert && *o->tls_cert
	    && (!pem_ok(o->tls_cert, err, errlen)
	        || !pem_ok(o->tls_key, err, errlen)))
		return XZ_EINVAL;
	if (o->port > 0 && (busy = port_bindable(o->listen, o->port)) != 0) {
		snprintf(err, errlen, GT("cannot listen on %s:%lld: %s"),
		    o->listen, (long long) o->port, strerror(busy));
		return XZ_EIO;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "%s", GT("out of memory"));
		return XZ_ENOMEM;
	}
	s->sh = sh;
	s->o  = *o;
	lws_set_log_level(LLL_ERR, lws_logger);
	memset(&info, 0, sizeof(info));
	info.port      = (int) o->port;
	info.iface     = o->listen;
	info.protocols = protocols;
	info.user      = s;
	info.options
	    = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
	info.timeout_secs         = (unsigned) o->header_timeout_s;
	info.timeout_secs_ah_idle = (unsigned) o->header_timeout_s;
	info.keepalive_timeout    = 60;
	info.max_http_header_data = 4096;
	info.max_http_header_pool = 256;
	info.ka_time              = 0;
	info.count_threads        = 1;
	info.pt_serv_buf_size     = 32768;
	info.vhost_name           = "xiezhi";
	if (o->tls_cert && *o->tls_cert && o->tls_key && *o->tls_key) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath        = o->tls_cert;
		info.ssl_private_key_filepath = o->tls_key;
		s->tls                        = 1;
	}
	s->ctx = lws_create_context(&info);
	if (s->ctx == NULL) {
		snprintf(err, errlen,
		    GT("cannot listen on %s:%lld%s (address in use, or a bad "
		       "certificate)"),
		    o->listen, (long long) o->port, s->tls ? " (https)" : "");
		free(s);
		return XZ_EIO;
	}
	sh->ctx = s->ctx;
	if (pthread_create(&s->th, NULL, server_main, s) != 0) {
		sh->ctx = NULL;
		lws_context_destroy(s->ctx);
		free(s);
		snprintf(
		    err, errlen, "%s", GT("cannot start the server thread"));
		return XZ_ENOMEM;
	}
	*out = s;
	return XZ_OK;
}

void
gw_server_stop(gw_server *s)
{
	if (s == NULL)
		return;
	atomic_store(&s->stop, true);
	lws_cancel_service(s->ctx);
	pthread_join(s->th, NULL);
	s->sh->ctx = NULL;
	lws_context_destroy(s->ctx); /* closes every connection here */
	for (size_t i = 0; i < CONN_BUCKETS; i++) /* none, normally */
		while (s->buckets[i] != NULL)
			conn_free(s, s->buckets[i]);
	free(s->scratch);
	free(s);
}
