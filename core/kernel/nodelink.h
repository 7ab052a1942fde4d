/*
 * nodelink.h - nodes linked to nodes (docs/multi-node.md).
 *
 * Each entry of the config's `links` is one link to another node: this
 * node dials it (the entry has a url) through the client library, or the
 * other node dials this one (no url) and presents the entry's token in
 * its HELLO, or, without a token, proves in its HELLO the certificate
 * whose CN the entry names (certproof.h) on a tls+tcp:// listener with
 * tls.ca, which checks it against that CA and its CRL. Over the one connection
 * both sides exchange frames on two topics that never leave the node they are
 * on:
 *
 *   xz.node.in           dialer -> acceptor (the dialer publishes)
 *   xz.node.out.<name>   acceptor -> dialer <name> (it subscribes)
 *
 * A frame is a compact JSON header, a newline, then the message payload:
 *   {"k":"hello","node":N}                       the dialer, on connect
 *   {"k":"int","i":[{"p":PATTERN,"v":[N,..]}]}   what the sender wants
 *   {"k":"ev","t":T,"s":SRC,"v":[N,..],"ct":C}   an event
 *   {"k":"ev",...,"n":SEQ,"e":EPOCH}             a business event (numbered)
 *   {"k":"ack","e":EPOCH,"n":SEQ}                routed up to SEQ (credits)
 *   {"k":"rq","t":T,"s":SRC,"v":[..],"id":HEX,"ms":REMAINING}
 *   {"k":"rp","c":HEX,"f":FLAGS,"s":SRC}         the reply to an rq
 *   {"k":"ping"}                                 every second (dialer)
 *
 * Interest: each side tells the other which patterns it wants (its local
 * subscriptions, and what its other links asked for, within the link's
 * import), each with the nodes the interest passed; the other subscribes
 * a target of the link to them on its bus, so an event crosses only when
 * somebody on the other side wants it (and it is within export and the
 * other node's permissions). "v" on a message lists the nodes it passed:
 * it is never sent to one of them (three nodes in a triangle). Topics
 * under xz. never cross.
 *
 * The other node is a principal here (node:<name>, the entry's agency and
 * roles): what it publishes or requests is checked against its roles like
 * anything from a link (bus/authz.c), refused with `forbidden`, counted and
 * audited on audit.sys.denied.
 */
#ifndef XZ_KERNEL_NODELINK_H
#define XZ_KERNEL_NODELINK_H

#include <jansson.h>

#include "bus/authz.h"
#include "bus/bus.h"
#include "config/config.h"
#include "link/link.h"

typedef struct xz_nodelink xz_nodelink;

/*
 * The links of cfg (NULL in *out when it has none). Adds to authz, for
 * each link, the role that lets the other node use its two topics (when
 * authz has roles at all). fallback is the kernel's own token verifier:
 * the one of xz_nodelink_verifier tries the node tokens first, then it.
 * Everything borrowed outlives the nodelink.
 */
int xz_nodelink_new(xz_nodelink **out, const xz_config *cfg, xz_bus *bus,
    xz_clock *clk, xz_authz *authz, xz_link_verifier *fallback,
    xz_principal *self, xz_diag *d);
xz_link_verifier *xz_nodelink_verifier(xz_nodelink *nl);
/* Put in front of *ids (realloc'ed; *nids grows) one certificate id for
 * each link the other node dials without a token: its cert_cn names the
 * link's principal (a new reference each, the owner of *ids drops them).
 * 0, or -1 (no memory; *ids unchanged). */
int xz_nodelink_add_cert_ids(xz_nodelink *nl, xz_link_id **ids, size_t *nids);
/* Subscribe, start dialing. */
int xz_nodelink_start(xz_nodelink *nl);
/* Stop the threads and withdraw every subscription (before the link
 * layer stops). */
void xz_nodelink_stop(xz_nodelink *nl);
/* After the bus is freed. NULL is ignored. */
void xz_nodelink_free(xz_nodelink *nl);
/* Try each link this node dials once (`check`): a WARN in d for one
 * that cannot connect or whose token is refused. */
void xz_nodelink_probe(const xz_config *cfg, xz_diag *d);
/* [{name, dial, url, state, retries, last_error, ...}], a new reference. */
json_t *xz_nodelink_status(xz_nodelink *nl);

#endif
