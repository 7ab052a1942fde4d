/*
 * link.h - the node's nng endpoints: the control endpoint and the bus
 * listeners, one pair1 socket in polyamorous mode, one pipe per connected
 * peer (a CLI, a subscriber process, another node). Each peer is a remote
 * target of the bus (bus.h: xz_target).
 */
#ifndef XZ_LINK_LINK_H
#define XZ_LINK_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "bus/bus.h"
#include "util/diag.h"

typedef struct xz_link xz_link;

/* A bus listener. For tls+tcp://, cert and key are the node's PEM files;
 * with ca, a client must present a certificate signed by it
 * (NNG_TLS_AUTH_MODE_REQUIRED), without ca none is asked for. Paths NULL
 * when not given. */
typedef struct xz_link_listen {
	const char *url;
	const char *tls_ca;
	const char *tls_cert;
	const char *tls_key;
} xz_link_listen;

/* What the link needs of the deployment (strings borrowed for the
 * link's life; listen[] is read by xz_link_start only). */
typedef struct xz_link_cfg {
	const char           *node_name;
	const char           *control_url;
	const xz_link_listen *listen;
	size_t                nlisten;
	uint32_t              max_payload;
	uint32_t              queue_capacity; /* messages queued per peer */
	const char           *config_file; /* for diagnostics */
} xz_link_cfg;

typedef struct xz_link_stats {
	size_t   peers;
	uint64_t rejected; /* malformed or oversized envelopes */
	uint64_t tx_failed; /* envelopes lost to a failed send (logged) */
	uint64_t violations; /* peers disconnected for breaking the protocol */
} xz_link_stats;

/* Bind every endpoint and start serving. On error *out may still hold a
 * link to stop (xz_link_stop frees it). */
int  xz_link_start(xz_link **out, const xz_link_cfg *cfg, xz_bus *bus,
     xz_clock *clk, xz_diag *d);
void xz_link_stop(xz_link *l);
void xz_link_stats_get(xz_link *l, xz_link_stats *st);

#endif
