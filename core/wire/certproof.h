/*
 * certproof.h - the certificate-bound HELLO (link protocol v2) on OpenSSL
 * libcrypto: a client that holds a certificate and its key proves it to
 * the node by signing a fresh nonce the node gave it; the node checks the
 * certificate against the door's CA (and CRL) and the signature against
 * the certificate's key. docs/security.md, "Certificates on a link".
 *
 * The exchange, on a tls+tcp:// connection, before the HELLO:
 *   client -> node  REQUEST xz.hello.challenge  {"v":2}
 *   node -> client  REPLY                       {"v":2,"nonce":"<64 hex>"}
 *   client -> node  HELLO {"name":..,"v":2,"nonce":"<the nonce>",
 *                          "cert":"<base64 DER>","sig":"<base64>"}
 *   node -> client  REPLY to the HELLO {"v":2,"user":..,"auth":..}, or
 *                   the error `unauthenticated` with the reason (and the
 *                   connection is closed)
 * The signature covers XZ_CERTPROOF_CONTEXT followed by the nonce's hex
 * text; SHA-256 for EC and RSA keys, the key's own hash for Ed25519 and
 * Ed448. A nonce serves one HELLO of one connection.
 */
#ifndef XZ_WIRE_CERTPROOF_H
#define XZ_WIRE_CERTPROOF_H

#include <stddef.h>
#include <stdint.h>

#define XZ_CERTPROOF_VERSION 2
#define XZ_CERTPROOF_TOPIC "xz.hello.challenge"
#define XZ_CERTPROOF_CONTEXT "xiezhi cert-hello v2\n"
#define XZ_CERTPROOF_NONCE_HEX 64 /* characters, NUL not counted */

/* A fresh nonce: XZ_CERTPROOF_NONCE_HEX hex digits and a NUL. 0, or -1
 * when no randomness could be had. */
int xz_certproof_nonce(char out[XZ_CERTPROOF_NONCE_HEX + 1]);

/*
 * Client side: the certificate of cert_file (PEM, the first one) as
 * base64 DER in *cert_b64, and the signature by the key of key_file (or
 * of cert_file when key_file is NULL) over the nonce in *sig_b64. Both
 * malloc'ed, the caller frees them. 0, or -1 with why (a short text).
 */
int xz_certproof_sign(const char *cert_file, const char *key_file,
    const char *nonce, char **cert_b64, char **sig_b64, char *why,
    size_t whylen);

/* What a verified proof names. */
typedef struct xz_certproof_id {
	char cn[65]; /* the subject's commonName */
	char sha256[65]; /* fingerprint of the DER, lowercase hex */
	char serial[41]; /* hex */
} xz_certproof_id;

/*
 * Node side: check a HELLO's proof. The certificate (cert_b64) must chain
 * to a certificate of ca_file (PEM) for client use, be within its
 * validity period (wall clock), not be listed in crl_file (PEM; NULL: no
 * revocation check; one that cannot be read refuses everything), and the
 * signature sig_b64 must verify over nonce with its key. 0 and *id, or
 * -1 with why: what failed ("certificate revoked", "certificate has
 * expired", "unable to get local issuer certificate", "the signature over
 * the nonce does not verify", ...); id->sha256 and id->cn are filled as
 * soon as the certificate could be read, so a refusal can name them.
 */
int xz_certproof_verify(const char *ca_file, const char *crl_file,
    const char *cert_b64, const char *nonce, const char *sig_b64,
    xz_certproof_id *id, char *why, size_t whylen);

#endif
