/*
 * gw.h - the gateway plugin's two halves and what passes between them.
 *
 * The server thread (gw_server.c) runs libwebsockets: it owns every
 * connection and never calls the host table, except host->timer_start to
 * wake the actor (see gw_post). The actor half (gateway.c) owns the
 * sessions, every bus call and subscription, and the metrics; it runs only
 * in the plugin's callbacks. They meet in two queues under one mutex:
 *
 *   server -> actor   gw_job   (a parsed request to carry out)
 *   actor  -> server  gw_out   (an HTTP answer for one connection),
 *                     gw_client rings (events for one WebSocket/SSE client)
 *
 * The actor wakes the server with lws_cancel_service() (thread-safe by the
 * library's contract); the server wakes the actor with a one-shot timer of
 * delay 0, which the kernel hands to the actor's control lane.
 */
#ifndef XZ_GATEWAY_GW_H
#define XZ_GATEWAY_GW_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xiezhi/i18n.h>
#include <xiezhi/xiezhi.h>

#define GW_TOKEN_MAX 160
#define GW_TOPIC_MAX 256
#define GW_PEER_MAX 64
#define GW_LWS_PRE 16 /* >= LWS_PRE, checked in gw_server.c */

struct lws_context;

/* The gateway's texts in 简体中文 (msg_zh.c). gw_log_zh: its log lines, in
 * the node's language (GT). gw_http_zh: the messages of its answers, in
 * the language of the request (gw_lang of its Accept-Language header or
 * lang= query parameter): GE marks an English text of that catalog where
 * it is written (it stays English there) and the code that makes the
 * answer puts it into the request's language (gw_text). */
extern const xz_tr gw_log_zh[];
extern const xz_tr gw_http_zh[];
#define GT(s) XZ_TR(gw_log_zh, s)
#define XZ_TR_LATER(cat, en) (en)
#define GE(en) XZ_TR_LATER(gw_http_zh, en)
/* en (a key of gw_http_zh, or any text) in lang: XZ_LANG_ZH or XZ_LANG_EN.
 * A text the catalog lacks is returned as it is. */
const char *gw_text(int lang, const char *en);
/* The language an Accept-Language value asks for (zh or en, by their
 * weights; at equal weight the first named), or the node's (xz_lang) when
 * it names neither. NULL or "" too. */
int gw_lang(const char *accept_language);

/* One event as it goes out: built once, shared by every client of the
 * fan-out. buf holds GW_LWS_PRE spare bytes, then len bytes of text. */
typedef struct gw_frame {
	atomic_int refs;
	size_t     len;
	char       buf[]; /* GW_LWS_PRE + len + 1 */
} gw_frame;

gw_frame *gw_frame_new(size_t len);
void      gw_frame_unref(gw_frame *f);

/* A live event client (WebSocket or SSE). Shared: one reference for the
 * server's connection, one for the actor's subscription. */
typedef struct gw_client {
	atomic_int      refs;
	pthread_mutex_t mu;
	gw_frame      **ring; /* cap slots; owned, frames referenced */
	uint32_t        cap, head, n;
	size_t          bytes, max_bytes;
	int             sse; /* 1: Server-Sent Events framing */
	/* Written by the actor under mu. */
	int   overflow; /* queue full: the server closes it with reason */
	int   ready; /* subscribed */
	int   fail_status; /* refused: HTTP-ish status, fail_msg the reason */
	char *fail_msg; /* owned */
	/* Written by the server under mu. */
	int         gone; /* connection closed: the actor drops the frames */
	atomic_bool wake; /* something for the server to look at */
	uint64_t    conn;
	int         lang; /* of its messages: XZ_LANG_ZH or XZ_LANG_EN */
} gw_client;

void gw_client_unref(gw_client *c);

enum gw_job_kind {
	GJ_CALL = 1,
	GJ_LOGIN,
	GJ_LOGOUT,
	GJ_ME,
	GJ_SUB,
	GJ_UNSUB,
	GJ_METRICS,
	GJ_READY,
};

/* A request from the server thread to the actor. Owned by whoever holds
 * it; gw_job_free frees it and what it points to. */
typedef struct gw_job {
	struct gw_job *next;
	int            kind;
	uint64_t       conn;
	uint64_t       t0_us; /* monotonic, when the request was complete */
	char           topic[GW_TOPIC_MAX]; /* CALL: topic; SUB: pattern */
	char          *body; /* owned, NUL-terminated; NULL: none */
	size_t         len;
	char           token[GW_TOKEN_MAX]; /* "" none */
	int            cookie; /* token came from the cookie: CSRF applies */
	char           csrf[GW_TOKEN_MAX]; /* X-CSRF-Token header */
	char           peer[GW_PEER_MAX];
	int            lang; /* of the answer's message (gw_lang) */
	gw_client     *client; /* SUB: one reference, owned */
} gw_job;

void gw_job_free(gw_job *j);

/* An HTTP answer from the actor to the server thread. Owned likewise. */
typedef struct gw_out {
	struct gw_out *next;
	uint64_t       conn;
	int            status;
	const char    *ctype; /* static */
	char          *headers; /* owned: "Name: value\r\n"..., or NULL */
	char          *body; /* owned */
	size_t         len;
} gw_out;

void gw_out_free(gw_out *o);

/* Counters of the server thread, read by the actor for /metrics. */
enum gw_stat {
	GS_CONNECTIONS,
	GS_REQUESTS,
	GS_STATIC,
	GS_NOT_FOUND,
	GS_TRAVERSAL,
	GS_TOO_LARGE,
	GS_BAD_METHOD,
	GS_INCOMPLETE,
	GS_WS_OPENED,
	GS_WS_REFUSED_LIMIT,
	GS_WS_REFUSED_ORIGIN,
	GS_SSE_OPENED,
	GS_SLOW_CLOSED,
	GS_EVENTS_SENT,
	GS__COUNT,
};

typedef struct gw_opts {
	const char *listen; /* address */
	int64_t     port;
	const char *web_root;
	const char *tls_cert, *tls_key;
	int64_t     max_payload;
	int64_t     max_ws_clients;
	int64_t     client_queue_max; /* events queued per client */
	int64_t     client_queue_bytes;
	int64_t     header_timeout_s;
	int64_t     slow_grace_s; /* a client over its queue that reads
	                             nothing is cut off after this */
} gw_opts;

typedef struct gw_server gw_server;

/* The shared part: both halves see it. */
typedef struct gw_shared {
	pthread_mutex_t mu;
	gw_job         *jobs, **jobs_tail; /* server -> actor */
	int             wake_armed; /* a drain timer is pending */
	/* The actor answered in the batch it runs: its batch_end takes the
	 * jobs queued meanwhile, so a job needs no drain timer. Set by
	 * gw_answer, cleared by batch_end as it takes the queue. */
	int                  actor_busy;
	gw_out              *outs, **outs_tail; /* actor -> server */
	atomic_bool          clients_dirty; /* some client has wake set */
	atomic_uint_fast64_t stats[GS__COUNT];
	atomic_int           ws_clients, sse_clients, conns_open;
	xz_plugin           *self;
	const xz_host       *host;
	void (*drain)(void *ud, uint64_t timer_id); /* actor side */
	void               *drain_ud;
	struct lws_context *ctx; /* set once the server runs */
} gw_shared;

/* Server thread. gw_server_start binds and starts the thread (actor
 * context, from start); gw_server_stop joins it and frees everything
 * (actor context, from stop). */
int  gw_server_start(gw_shared *sh, const gw_opts *o, gw_server **out,
     char *err, size_t errlen);
void gw_server_stop(gw_server *s);

/* Queue a job for the actor and wake it (server thread). */
void gw_post(gw_shared *sh, gw_job *j);
/* Queue an answer for a connection and wake the server (actor). */
void gw_answer(gw_shared *sh, gw_out *o);
/* Wake the server to look at the clients (actor). */
void gw_kick(gw_shared *sh);

#endif
