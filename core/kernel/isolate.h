/*
 * isolate.h - plugins in child processes (isolation = "process"), and the
 * watch on handlers that run too long. Files of core/kernel only.
 *
 * The node keeps the plugin's instance (its actor, subscriptions, timers,
 * counters, principal and grants) and runs none of its code: a child
 * process of the same binary (`xiezhi plugin-host`, plugin_host.c) opens
 * the plugin and hands it a host table whose calls travel to the node over
 * a private socketpair, where isolate.c makes them through the real host
 * table on the instance. The node supervises the child: a crash, an exit,
 * a handler over handler_timeout_ms, memory over memory_limit_mb, garbage
 * or a flood on the link kill it; requests in flight get `unavailable`;
 * it is restarted with exponential backoff and its init and start run
 * again (so its subscriptions and timers come back).
 *
 * The link: frames [u32 length][u8 type][u64 node clock us, node to
 * child only][fields], little endian; a string is [u32 n][n bytes][NUL].
 * Why not core/link's envelopes: docs/architecture.md, "Isolated plugins".
 */
#ifndef XZ_KERNEL_ISOLATE_H
#define XZ_KERNEL_ISOLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/kernel.h"

struct json_t;

/* Frame types. Node to child: */
enum {
	XZ_ISO_DELIVER = 1, /* seq, sub, msg: a message for a subscription */
	XZ_ISO_TIMER   = 2, /* seq, timer: a timer came due */
	XZ_ISO_RESULT  = 3, /* rc: the answer to the child's last call */
	XZ_ISO_REPLY   = 4, /* seq, token, status, msg: a request's reply */
	XZ_ISO_STOP    = 5, /* seq: run stop and fini, then exit 0 */
	/* Child to node (those marked "call" are answered by RESULT): */
	XZ_ISO_READY   = 10, /* rc of init + start */
	XZ_ISO_DONE    = 11, /* seq: that callback returned */
	XZ_ISO_LOG     = 12, /* level, text */
	XZ_ISO_COUNTER = 13, /* delta, name */
	XZ_ISO_PUB     = 14, /* call: topic, data */
	XZ_ISO_SUB     = 15, /* call: sub, pattern, group ("" none) */
	XZ_ISO_UNSUB   = 16, /* call: sub */
	XZ_ISO_REQ     = 17, /* call: token, timeout_ms, topic, data */
	XZ_ISO_ANSWER  = 18, /* call: seq of the request, flags, data */
	XZ_ISO_TSTART  = 19, /* call: timer, delay_ms, period_ms */
	XZ_ISO_TCANCEL = 20, /* call: timer */
	XZ_ISO_STORE   = 21, /* id, generation, schema: the store the child
	                        made or opened, for the data folder's
	                        MANIFEST (no answer) */
	XZ_ISO_SUBD = 22, /* call: sub, pattern: a durable subscription */
	XZ_ISO_ACK  = 23, /* id (16 bytes): a durable event is committed
	                     (no answer) */
};

/* A frame being built; owned by whoever built it (free(b->p)). */
typedef struct xz_iso_buf {
	uint8_t *p;
	size_t   len, cap;
	bool     oom;
} xz_iso_buf;

/* Start a frame of type t (node frames carry now_us after the type). */
void xz_iso_begin(xz_iso_buf *b, uint8_t t);
void xz_iso_u8(xz_iso_buf *b, uint8_t v);
void xz_iso_u16(xz_iso_buf *b, uint16_t v);
void xz_iso_u32(xz_iso_buf *b, uint32_t v);
void xz_iso_u64(xz_iso_buf *b, uint64_t v);
void xz_iso_raw(xz_iso_buf *b, const void *p, size_t n);
/* [u32 n][n bytes][NUL]; s may be NULL (n 0). */
void xz_iso_str(xz_iso_buf *b, const void *s, size_t n);
/* Write the length in front; 0, or -1 when out of memory. */
int xz_iso_end(xz_iso_buf *b);

/* Reading a frame's fields (the frame without its length prefix). */
typedef struct xz_iso_rd {
	const uint8_t *p;
	size_t         len, off;
	bool           bad; /* a field ran past the end */
} xz_iso_rd;
uint8_t     xz_iso_rd_u8(xz_iso_rd *r);
uint16_t    xz_iso_rd_u16(xz_iso_rd *r);
uint32_t    xz_iso_rd_u32(xz_iso_rd *r);
uint64_t    xz_iso_rd_u64(xz_iso_rd *r);
const void *xz_iso_rd_raw(xz_iso_rd *r, size_t n);
/* A string (NUL-terminated in the frame); *n its length. */
const char *xz_iso_rd_str(xz_iso_rd *r, size_t *n);

/* A message (as a handler sees it) in a frame. */
void xz_iso_put_msg(xz_iso_buf *b, xz_plugin *p, const xz_msg *m);

/* kernel.c: the supervisor of an isolated plugin. start spawns the child
 * and waits (up to the start deadline) for its first init and start; a
 * child that fails is restarted in the background, the plugin's requests
 * answered `unavailable` meanwhile. XZ_OK unless no memory or thread. */
int  xz_isolate_start(xz_plugin *p);
void xz_isolate_stop(xz_plugin *p); /* stop and fini in the child, wait */
void xz_isolate_free(xz_plugin *p); /* after stop (or never started) */
/* Kill and restart the child now (reload); XZ_ESTATE if not isolated. */
int xz_isolate_restart(xz_plugin *p, const char *why);
/* sys.c: what status shows of p's isolation (a new reference), or NULL
 * for an instance in the node. */
struct json_t *xz_isolate_status(xz_plugin *p);

/* kernel.c: the thread that watches handlers of plugins in the node:
 * an instance that finishes no batch of work for handler_timeout_ms is
 * reported (log, handler_timeouts in status, the counter). */
int  xz_watch_start(xz_kernel *k);
void xz_watch_stop(xz_kernel *k);

/* plugin_host.c: `xiezhi plugin-host CONFIG NAME FD NOW_US`, the child. */
int xz_plugin_host_main(
    int argc, char **argv, const xz_kernel_ext *ext, const char *plugin_dir);

#endif
