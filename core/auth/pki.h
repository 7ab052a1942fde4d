/*
 * pki.h - the node's certificate authority (OpenSSL libcrypto): EC P-256
 * keys, X.509 v3 certificates for clients (services such as a kiosk or a
 * sensor gateway), servers and nodes (links between agencies), and a CRL.
 *
 * A PKI folder (DATA_DIR/pki by default) holds:
 *   ca.pem       the CA certificate (give it to every peer as `ca`)
 *   ca.key       its private key, mode 0600
 *   crl.pem      the revocation list, rewritten at every revoke
 *   issued.tsv   one line per certificate issued:
 *                serial  cn  kind  not_after(s)  sha256  revoked_at(s|0)
 * Certificates are written to an output folder as CN.pem and CN.key
 * (0600), with a copy of ca.pem. The folder is private (0700).
 */
#ifndef XZ_AUTH_PKI_H
#define XZ_AUTH_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XZ_PKI_CA_DAYS 3650
#define XZ_PKI_CERT_DAYS 825

/* Does dir hold a CA (ca.pem and ca.key)? */
bool xz_pki_ca_exists(const char *dir);

/* Create dir (0700) and a CA in it named cn, valid `days` (0: 10 years),
 * plus an empty CRL. XZ_EEXIST when a CA is there already (never
 * overwritten). Errors: why (whylen bytes) says what failed. */
int xz_pki_ca_init(
    const char *dir, const char *cn, int days, char *why, size_t whylen);

/* Issue a certificate of `kind` "client", "server" or "node" (both
 * usages) for cn ([A-Za-z0-9][A-Za-z0-9_.-]{0,63}), with subjectAltName
 * DNS:cn plus each of dns (NULL-terminated, may be NULL), valid `days`
 * (0: XZ_PKI_CERT_DAYS), signed by the CA in dir. Writes outdir/CN.pem,
 * outdir/CN.key (0600) and outdir/ca.pem; the serial (hex) goes to
 * serial (41 bytes) when not NULL. */
int xz_pki_issue(const char *dir, const char *cn, const char *kind,
    const char *const *dns, int days, const char *outdir, char *serial,
    char *why, size_t whylen);

/* Revoke every unrevoked certificate whose CN or serial is `what`, and
 * rewrite crl.pem. *count gets how many were revoked (XZ_ENOENT: none
 * matched). */
int xz_pki_revoke(
    const char *dir, const char *what, int *count, char *why, size_t whylen);

typedef struct xz_pki_cert {
	char    serial[41];
	char    cn[65];
	char    kind[8];
	int64_t not_after; /* seconds since the epoch */
	char    sha256[65]; /* fingerprint of the DER, hex */
	int64_t revoked_at; /* 0: not revoked */
} xz_pki_cert;

/* Every certificate issued from dir, in issue order; free(*out). */
int xz_pki_list(
    const char *dir, xz_pki_cert **out, size_t *n, char *why, size_t whylen);

/* The SHA-256 fingerprint (hex, 65 bytes) and CN of a PEM certificate
 * file. */
int xz_pki_cert_info(const char *pem_file, char *sha256, char *cn,
    size_t cnlen, char *why, size_t whylen);

bool xz_pki_valid_cn(const char *cn);

#endif
