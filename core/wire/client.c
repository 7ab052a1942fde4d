#include "wire/client.h"

#include "wire/certproof.h"

#include <nng/protocol/pair1/pair.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <xiezhi/xiezhi.h>

#define CLIENT_BATCH_BYTES (256 * 1024)

uint64_t
xz_client_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

void
xz_client_id(xz_client *c, uint8_t id[16])
{
	uint64_t n = ++c->counter;
	for (int i = 0; i < 8; i++) {
		id[i]     = (uint8_t) (c->prefix >> (8 * i));
		id[8 + i] = (uint8_t) (n >> (8 * i));
	}
}

/* Blocking sends and receives wake up this often to notice that the node
 * went away: a pair1 socket whose peer is gone just waits for a new one,
 * so without this `xiezhi pub` or `sub` would hang forever on a node that
 * stopped. */
#define CLIENT_POLL_MS 100

static void
on_pipe_gone(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	xz_client *c = arg;
	(void) p;
	(void) ev;
	atomic_store(&c->gone, 1);
}

/* A connection the node ended is over (a new one would need a new HELLO),
 * but nng 1.5.2's dialer dials again on its own, at once about half the
 * time whatever its reconnect time (a negative random back-off). That
 * new connection is turned away here, once its handshake is through: a
 * client that left in the middle of one could stop the node's listener
 * for good (nng issue #1518; link.c's door watch). */
static void
on_pipe_add(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	xz_client *c = arg;
	(void) ev;
	if (atomic_load(&c->dialed)) {
		atomic_store(&c->redialed, 1);
		nng_pipe_close(p);
	}
}

/* A whole (small) file as a NUL-terminated string (owned by the caller),
 * or NULL with *rc set. */
static char *
read_pem(const char *path, int *rc)
{
	FILE  *f = fopen(path, "rb");
	char  *buf;
	long   n;
	size_t got;

	if (f == NULL) {
		*rc = NNG_ENOENT;
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > (1 << 20)
	    || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		*rc = NNG_EINVAL;
		return NULL;
	}
	if ((buf = malloc((size_t) n + 1)) == NULL) {
		fclose(f);
		*rc = NNG_ENOMEM;
		return NULL;
	}
	got = fread(buf, 1, (size_t) n, f);
	fclose(f);
	buf[got] = '\0';
	return buf;
}

/* The TLS configuration of a dial (the caller frees it), or an error. */
static int
tls_config(const xz_client_tls *tls, nng_tls_config **out)
{
	nng_tls_config *tc;
	int             rc;

	if ((rc = nng_tls_config_alloc(&tc, NNG_TLS_MODE_CLIENT)) != 0)
		return rc;
	if (tls->ca_file != NULL)
		rc = nng_tls_config_ca_file(tc, tls->ca_file);
	if (rc == 0 && tls->server_name != NULL)
		rc = nng_tls_config_server_name(tc, tls->server_name);
	if (rc == 0 && tls->cert_file != NULL && tls->key_file == NULL)
		rc = nng_tls_config_cert_key_file(tc, tls->cert_file, NULL);
	else if (rc == 0 && tls->cert_file != NULL) {
		char *cert = read_pem(tls->cert_file, &rc);
		char *key  = cert ? read_pem(tls->key_file, &rc) : NULL;
		if (key != NULL)
			rc = nng_tls_config_own_cert(tc, cert, key, NULL);
		free(cert);
		free(key);
	}
	if (rc != 0) {
		nng_tls_config_free(tc);
		return rc;
	}
	*out = tc;
	return 0;
}

static int
dial_once(xz_client *c, const char *url, nng_tls_config *tc)
{
	nng_dialer d;
	int        rc;

	if ((rc = nng_dialer_create(&d, c->sock, url)) != 0)
		return rc;
	if (tc != NULL
	    && (rc = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, tc)) != 0) {
		nng_dialer_close(d);
		return rc;
	}
	if ((rc = nng_dialer_start(d, 0)) != 0) {
		nng_dialer_close(d);
		return rc;
	}
	/* Connected. A connection the node ends is over for this client (a
	 * new one would need a new HELLO): a reconnect time of a day, so that
	 * nng seldom dials again behind its back. It still does at once about
	 * half the time (nng 1.5.2 draws the back-off as a signed random
	 * number): on_pipe_add turns such a connection away. */
	nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, 24 * 3600 * 1000);
	nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT, 24 * 3600 * 1000);
	return 0;
}

/* Nothing accepts the dial yet: the node may still be starting. */
static bool
dial_retryable(int rc)
{
	return rc == NNG_ECONNREFUSED || rc == NNG_ENOENT
	    || rc == NNG_ECONNRESET || rc == NNG_ECONNSHUT;
}

/* The value of "key":"..." in a flat JSON text without escapes (the
 * node's challenge reply) into out; false when absent or too long. */
static bool
json_str(const uint8_t *p, size_t n, const char *key, char *out, size_t len)
{
	char        pat[32];
	int         pl = snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	const char *s  = memmem(p, n, pat, (size_t) pl), *e;

	if (s == NULL)
		return false;
	s += pl;
	e = memchr(s, '"', n - (size_t) (s - (const char *) p));
	if (e == NULL || (size_t) (e - s) >= len)
		return false;
	memcpy(out, s, (size_t) (e - s));
	out[e - s] = '\0';
	return true;
}

/*
 * The certificate-bound HELLO (certproof.h): ask the node for a nonce,
 * sign it with the key of tls->cert_file, and make *out (malloc'ed, the
 * caller frees) the HELLO hello[0..len) with the proof added. 0, or
 * NNG_EPEERAUTH (the node gave no nonce: it refused, or predates v2),
 * NNG_ECRYPTO (the certificate or key cannot be used), or a link error.
 */
static int
cert_hello(xz_client *c, const xz_client_tls *tls, const char *hello,
    size_t len, int timeout_ms, char **out, char *why, size_t whylen)
{
	static const char ask[] = "{\"v\":2}";
	xz_env            r;
	char              nonce[XZ_CERTPROOF_NONCE_HEX + 1];
	char             *cert = NULL, *sig = NULL;
	int               rc;

	*out = NULL;
	if (len < 2 || hello[len - 1] != '}')
		return NNG_EINVAL;
	rc = xz_client_request(c, XZ_CERTPROOF_TOPIC, ask, sizeof(ask) - 1,
	    timeout_ms > 0 ? timeout_ms : 5000, &r, NULL, NULL);
	if (rc != 0) {
		snprintf(why, whylen, "%s",
		    XZ_TR(xz_client_zh,
		        "no answer to the certificate challenge"));
		return rc;
	}
	if ((r.flags & XZ_MSG_ERROR) != 0) {
		/* The node's error text says why. */
		if (!json_str(
		        r.payload, r.payload_len, "message", why, whylen))
			snprintf(why, whylen, "%s",
			    XZ_TR(xz_client_zh,
			        "the node refused the certificate challenge"));
		return NNG_EPEERAUTH;
	}
	if (!json_str(
	        r.payload, r.payload_len, "nonce", nonce, sizeof(nonce))) {
		snprintf(why, whylen, "%s",
		    XZ_TR(xz_client_zh, "the node sent no nonce"));
		return NNG_EPEERAUTH;
	}
	if (xz_certproof_sign(
	        tls->cert_file, tls->key_file, nonce, &cert, &sig, why, whylen)
	    != 0)
		return NNG_ECRYPTO;
	size_t n = len + strlen(cert) + strlen(sig) + 128;
	if ((*out = malloc(n)) != NULL)
		snprintf(*out, n,
		    "%.*s%s\"v\":%d,\"nonce\":\"%s\",\"cert\":\"%s\","
		    "\"sig\":\"%s\"}",
		    (int) (len - 1), hello, len > 2 ? "," : "",
		    XZ_CERTPROOF_VERSION, nonce, cert, sig);
	free(cert);
	free(sig);
	return *out != NULL ? 0 : NNG_ENOMEM;
}

/* Wait for the node's answer to the certificate HELLO whose id is id:
 * 0 when it took the certificate, NNG_EPEERAUTH with why when it did
 * not, or a link error. */
static int
hello_verdict(
    xz_client *c, const uint8_t id[16], int timeout_ms, char *why, size_t len)
{
	uint64_t end = xz_client_now_us()
	    + (uint64_t) (timeout_ms > 0 ? timeout_ms : 5000) * 1000u;
	xz_env r;
	int    rc;

	for (;;) {
		uint64_t now = xz_client_now_us();
		if (now >= end) {
			snprintf(why, len, "%s",
			    XZ_TR(xz_client_zh,
			        "no answer to the certificate HELLO"));
			return NNG_ETIMEDOUT;
		}
		if ((rc = xz_client_next(
		         c, &r, (int) ((end - now) / 1000u) + 1))
		    != 0) {
			snprintf(why, len, "%s",
			    XZ_TR(xz_client_zh,
			        "the node closed the connection after the "
			        "certificate HELLO"));
			return rc == NNG_ETIMEDOUT ? rc : NNG_EPEERAUTH;
		}
		if (r.kind != XZ_KIND_REPLY || memcmp(r.corr, id, 16) != 0)
			continue;
		if ((r.flags & XZ_MSG_ERROR) == 0)
			return 0;
		if (!json_str(r.payload, r.payload_len, "message", why, len))
			snprintf(why, len, "%s",
			    XZ_TR(xz_client_zh,
			        "the node refused the certificate"));
		return NNG_EPEERAUTH;
	}
}

int
xz_client_dial(xz_client *c, const char *url, const xz_client_tls *tls,
    const char *hello, size_t hello_len, int timeout_ms)
{
	nng_tls_config *tc = NULL;
	int             rc;

	memset(c, 0, sizeof(*c));
	c->max_payload = 64u * 1024u * 1024u;
	c->credit      = XZ_LINK_CREDIT_INITIAL;
	if (getrandom(&c->prefix, sizeof(c->prefix), 0) != sizeof(c->prefix))
		c->prefix = (uint64_t) getpid() << 20 ^ xz_client_now_us();
	/* A certificate and a key that do not belong together fail here,
	 * saying so, rather than as a TLS handshake nobody can explain. */
	if (tls != NULL && tls->cert_file != NULL) {
		char *cb = NULL, *sb = NULL;
		rc = xz_certproof_sign(tls->cert_file, tls->key_file, "check",
		    &cb, &sb, c->why, sizeof(c->why));
		free(cb);
		free(sb);
		if (rc != 0)
			return NNG_ECRYPTO;
	}
	if (tls != NULL && (rc = tls_config(tls, &tc)) != 0)
		return rc;
	c->tls = tls != NULL;
	if ((rc = nng_pair1_open(&c->sock)) != 0) {
		if (tc != NULL)
			nng_tls_config_free(tc);
		return rc;
	}
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, 256u * 1024u * 1024u);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 20);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 200);
	nng_socket_set_ms(c->sock, NNG_OPT_SENDTIMEO, CLIENT_POLL_MS);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, on_pipe_gone, c);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_PRE, on_pipe_add, c);
	/* Retry the dial until the node is up or the time is over. */
	for (int waited = 0;; waited += 50) {
		rc = dial_once(c, url, tc);
		if (rc == 0 || !dial_retryable(rc) || waited >= timeout_ms)
			break;
		nng_msleep(50);
	}
	if (tc != NULL)
		nng_tls_config_free(tc); /* the dialer holds its own */
	if (rc != 0) {
		nng_close(c->sock);
		return rc;
	}
	atomic_store(&c->dialed, 1);
	/* A certificate and no token: prove the certificate in the HELLO
	 * (certproof.h), which then names who this client is. */
	char *proved = NULL;
	if (tls != NULL && tls->cert_file != NULL
	    && memmem(hello, hello_len, "\"token\"", 7) == NULL) {
		char why[sizeof(c->why)] = "";
		if ((rc = cert_hello(c, tls, hello, hello_len, timeout_ms,
		         &proved, why, sizeof(why)))
		    != 0) {
			xz_client_close(c);
			snprintf(c->why, sizeof(c->why), "%s", why);
			return rc;
		}
		hello     = proved;
		hello_len = strlen(proved);
	}
	xz_env e = { .kind   = XZ_KIND_HELLO,
		.topic       = "xz.hello",
		.topic_len   = 8,
		.payload     = (const uint8_t *) hello,
		.payload_len = hello_len };
	xz_client_id(c, e.id);
	c->send_until_us = xz_client_now_us()
	    + (uint64_t) (timeout_ms > 0 ? timeout_ms : 0) * 1000u + 1000000u;
	if ((rc = xz_client_put(c, &e)) == 0)
		rc = xz_client_flush(c);
	c->send_until_us = 0;
	free(proved);
	/* The node answers a certificate HELLO: the principal, or why not. */
	if (rc == 0 && proved != NULL) {
		char why[sizeof(c->why)] = "";
		if ((rc = hello_verdict(c, e.id, timeout_ms, why, sizeof(why)))
		    != 0) {
			xz_client_close(c);
			snprintf(c->why, sizeof(c->why), "%s", why);
		}
	}
	return rc;
}

int
xz_client_open(xz_client *c, const char *url, const char *name, int timeout_ms)
{
	char hello[160];
	int  n = snprintf(hello, sizeof(hello), "{\"name\":\"%s-%d\"}", name,
	     (int) getpid());

	return xz_client_dial(c, url, NULL, hello,
	    n > 0 && (size_t) n < sizeof(hello) ? (size_t) n : strlen(hello),
	    timeout_ms);
}

void
xz_client_close(xz_client *c)
{
	xz_client_flush(c);
	if (c->in != NULL)
		nng_msg_free(c->in);
	/* Take what is still queued off the socket: nng 1.5.2's close can
	 * hang for good when it races a message arriving on the pipe
	 * (nng issues #1236, #1543). */
	for (nng_msg *m; nng_recvmsg(c->sock, &m, NNG_FLAG_NONBLOCK) == 0;)
		nng_msg_free(m);
	/* Over TLS a send (the last CREDIT) may still be on its way out
	 * when the socket closes, and nng 1.5.2's TLS close can then wait
	 * for good: give it a moment, taking whatever arrives meanwhile. */
	if (c->tls) {
		nng_socket_set_ms(c->sock, NNG_OPT_RECVTIMEO, 10);
		for (int i = 0; i < 5; i++) {
			nng_msg *m;
			if (nng_recvmsg(c->sock, &m, 0) == 0)
				nng_msg_free(m);
		}
	}
	while (c->held_count > 0) {
		nng_msg_free(c->held[c->held_head]);
		c->held_head = (c->held_head + 1) % c->held_cap;
		c->held_count--;
	}
	free(c->held);
	free(c->out);
	/* The node ended the connection: nng may be dialing again right now
	 * (on_pipe_add). Closing in the middle of that handshake could stop
	 * the node's listener, so give it a moment to come through (and be
	 * turned away); half the time no redial comes at all. */
	for (int i = 0;
	     atomic_load(&c->gone) && !atomic_load(&c->redialed) && i < 30;
	     i++)
		nng_msleep(10);
	/* Let queued messages leave before the socket goes. */
	nng_close(c->sock);
	memset(c, 0, sizeof(*c));
}

int
xz_client_put(xz_client *c, const xz_env *e)
{
	size_t sz = xz_env_size(e);
	int    rc;

	if (c->out_len > 0 && c->out_len + 4 + sz > CLIENT_BATCH_BYTES
	    && (rc = xz_client_flush(c)) != 0)
		return rc;
	if (c->out_len + 4 + sz > c->out_cap) {
		size_t   cap = (c->out_len + 4 + sz) * 2;
		uint8_t *p   = realloc(c->out, cap);
		if (p == NULL)
			return XZ_ENOMEM;
		c->out     = p;
		c->out_cap = cap;
	}
	uint8_t *p = c->out + c->out_len;
	p[0]       = (uint8_t) sz;
	p[1]       = (uint8_t) (sz >> 8);
	p[2]       = (uint8_t) (sz >> 16);
	p[3]       = (uint8_t) (sz >> 24);
	if (xz_env_encode(e, p + 4, sz) != sz)
		return XZ_EINVAL;
	c->out_len += 4 + sz;
	return 0;
}

/* Acknowledge one received batch: a batch of its own (CREDITs never need
 * a credit, so this never waits for the node). */
static int
send_credit(xz_client *c)
{
	static const uint8_t one[4] = { 1, 0, 0, 0 };
	xz_env               e      = { .kind   = XZ_KIND_CREDIT,
		                   .topic       = "xz.credit",
		                   .topic_len   = 9,
		                   .payload     = one,
		                   .payload_len = 4 };
	uint8_t              buf[4 + XZ_ENV_HDR + 16];
	size_t               n;
	int                  rc;

	xz_client_id(c, e.id);
	if ((n = xz_batch_append(&e, buf, sizeof(buf))) == 0)
		return XZ_EINTERNAL;
	while ((rc = nng_send(c->sock, buf, n, 0)) != 0) {
		if (rc != NNG_ETIMEDOUT || atomic_load(&c->gone))
			return rc == NNG_ETIMEDOUT ? NNG_ECLOSED : rc;
	}
	return 0;
}

/* Count the node's grants in a batch just taken off the socket. */
static void
take_grants(xz_client *c, nng_msg *m)
{
	const uint8_t *rec;
	size_t         off = 0, rlen;
	xz_env         e;

	while (
	    xz_batch_next(nng_msg_body(m), nng_msg_len(m), &off, &rec, &rlen)
	    == 1)
		if (xz_env_decode(rec, rlen, c->max_payload, &e) == 0
		    && e.kind == XZ_KIND_CREDIT && e.payload_len == 4)
			c->credit += (uint32_t) e.payload[0]
			    | (uint32_t) e.payload[1] << 8
			    | (uint32_t) e.payload[2] << 16
			    | (uint32_t) e.payload[3] << 24;
}

/* Receive one batch, waiting in slices of CLIENT_POLL_MS to notice a node
 * that went away; timeout_ms < 0: no limit. Grants are counted and the
 * batch acknowledged at once. */
static int
recv_batch(xz_client *c, nng_msg **out, int timeout_ms)
{
	int rc;

	for (;;) {
		int slice = timeout_ms < 0 || timeout_ms > CLIENT_POLL_MS
		    ? CLIENT_POLL_MS
		    : timeout_ms;
		nng_socket_set_ms(c->sock, NNG_OPT_RECVTIMEO, slice);
		rc = nng_recvmsg(c->sock, out, 0);
		if (rc == 0)
			break;
		*out = NULL;
		if (rc != NNG_ETIMEDOUT)
			return rc;
		if (atomic_load(&c->gone))
			return NNG_ECLOSED;
		if (timeout_ms >= 0 && (timeout_ms -= slice) <= 0)
			return NNG_ETIMEDOUT;
	}
	take_grants(c, *out);
	if ((rc = send_credit(c)) != 0) {
		nng_msg_free(*out);
		*out = NULL;
	}
	return rc;
}

/* True when a batch holds anything but CREDITs. */
static bool
has_data(xz_client *c, nng_msg *m)
{
	const uint8_t *rec;
	size_t         off = 0, rlen;
	xz_env         e;

	while (
	    xz_batch_next(nng_msg_body(m), nng_msg_len(m), &off, &rec, &rlen)
	    == 1)
		if (xz_env_decode(rec, rlen, c->max_payload, &e) != 0
		    || e.kind != XZ_KIND_CREDIT)
			return true;
	return false;
}

/* No credit left: read until the node grants some, keeping what else
 * arrives meanwhile (in order) for xz_client_next. */
/* Milliseconds left before c->send_until_us: -1 without a limit, 0 once
 * it has passed. */
static int
send_left_ms(const xz_client *c)
{
	uint64_t now;

	if (c->send_until_us == 0)
		return -1;
	now = xz_client_now_us();
	if (now >= c->send_until_us)
		return 0;
	return (c->send_until_us - now) / 1000u > INT_MAX
	    ? INT_MAX
	    : (int) ((c->send_until_us - now) / 1000u);
}

static int
wait_credit(xz_client *c)
{
	while (c->credit == 0) {
		nng_msg *m;
		int      left = send_left_ms(c);
		if (left == 0)
			return NNG_ETIMEDOUT;
		int rc = recv_batch(c, &m, left);
		if (rc != 0)
			return rc;
		if (!has_data(c, m)) {
			nng_msg_free(m);
			continue;
		}
		if (c->held_count == c->held_cap) {
			size_t    cap = c->held_cap ? c->held_cap * 2 : 8;
			nng_msg **v   = malloc(cap * sizeof(*v));
			if (v == NULL) {
				nng_msg_free(m);
				return XZ_ENOMEM;
			}
			for (size_t i = 0; i < c->held_count; i++)
				v[i] = c->held[(c->held_head + i)
				    % c->held_cap];
			free(c->held);
			c->held      = v;
			c->held_cap  = cap;
			c->held_head = 0;
		}
		c->held[(c->held_head + c->held_count) % c->held_cap] = m;
		c->held_count++;
	}
	return 0;
}

int
xz_client_flush(xz_client *c)
{
	nng_msg *m;
	int      rc;

	if (c->out_len == 0)
		return 0;
	if ((rc = wait_credit(c)) != 0)
		return rc;
	if ((rc = nng_msg_alloc(&m, c->out_len)) != 0)
		return rc;
	memcpy(nng_msg_body(m), c->out, c->out_len);
	/* Held back by nng is fine, until the send's own deadline; a node
	 * gone is not. */
	while ((rc = nng_sendmsg(c->sock, m, 0)) != 0) {
		if (rc != NNG_ETIMEDOUT || atomic_load(&c->gone)) {
			nng_msg_free(m);
			return rc == NNG_ETIMEDOUT ? NNG_ECLOSED : rc;
		}
		if (send_left_ms(c) == 0) {
			nng_msg_free(m);
			return NNG_ETIMEDOUT;
		}
	}
	c->credit--;
	c->out_len = 0;
	return 0;
}

int
xz_client_next(xz_client *c, xz_env *e, int timeout_ms)
{
	const uint8_t *rec;
	size_t         rlen;
	int            rc;

	for (;;) {
		if (c->in != NULL) {
			int r = xz_batch_next(nng_msg_body(c->in),
			    nng_msg_len(c->in), &c->in_off, &rec, &rlen);
			if (r == 1
			    && xz_env_decode(rec, rlen, c->max_payload, e)
			        == 0) {
				if (e->kind == XZ_KIND_CREDIT)
					continue; /* counted on receipt */
				return 0;
			}
			if (r == 1)
				continue; /* skip what we cannot read */
			nng_msg_free(c->in);
			c->in = NULL;
		}
		if (c->held_count > 0) {
			c->in        = c->held[c->held_head];
			c->held_head = (c->held_head + 1) % c->held_cap;
			c->held_count--;
			c->in_off = 0;
			continue;
		}
		if ((rc = xz_client_flush(c)) != 0)
			return rc;
		if ((rc = recv_batch(c, &c->in, timeout_ms)) != 0)
			return rc;
		c->in_off = 0;
	}
}

int
xz_client_request(xz_client *c, const char *topic, const void *payload,
    size_t len, int64_t timeout_ms, xz_env *reply, xz_client_other_fn other,
    void *arg)
{
	uint64_t start = xz_client_now_us();
	uint64_t tmo   = timeout_ms > 0 ? (uint64_t) timeout_ms * 1000u : 0;
	uint64_t end   = start + tmo + 1000000u;
	xz_env   e     = { .kind    = XZ_KIND_REQUEST,
		      .topic        = topic,
		      .topic_len    = strlen(topic),
		      .payload      = payload,
		      .payload_len  = len,
		      .timestamp_us = start,
		      .deadline_us  = start + tmo };
	int      rc;

	xz_client_id(c, e.id);
	/* The deadline bounds the send too: a node that grants no credit or
	 * takes nothing off the socket times the request out, as silence
	 * after the send does. */
	uint64_t was     = c->send_until_us;
	c->send_until_us = end;
	if ((rc = xz_client_put(c, &e)) == 0)
		rc = xz_client_flush(c);
	c->send_until_us = was;
	if (rc != 0)
		return rc;
	for (;;) {
		uint64_t now  = xz_client_now_us();
		uint64_t left = now < end ? (end - now) / 1000u : 0;

		/* Past the end, one short wait still takes what has come. */
		rc = xz_client_next(c, reply,
		    left > INT_MAX ? INT_MAX
		        : left > 0 ? (int) left
		                   : 1);
		if (rc != 0)
			return rc;
		if (reply->kind == XZ_KIND_REPLY
		    && memcmp(reply->corr, e.id, sizeof(e.id)) == 0)
			return 0;
		if (other != NULL)
			other(reply, arg);
	}
}
