/*
 * sha256.h - SHA-256 (FIPS 180-4), self-contained: the audit chain and the
 * case-transfer package hashes use it, and neither wants OpenSSL.
 *
 * Compiled into the audit and collab plugins and into xzcore (for
 * `xiezhi audit verify`), so the names stay file-local to each binary.
 */
#ifndef XZ_SHA256_H
#define XZ_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define XZ_SHA256_LEN 32
#define XZ_SHA256_HEX 65 /* 64 hex digits and the NUL */

typedef struct xz_sha256 {
	uint32_t h[8];
	uint64_t total; /* bytes hashed so far */
	uint8_t  buf[64];
	size_t   used;
} xz_sha256;

void xz_sha256_init(xz_sha256 *s);
void xz_sha256_update(xz_sha256 *s, const void *data, size_t len);
void xz_sha256_final(xz_sha256 *s, uint8_t out[XZ_SHA256_LEN]);
/* One call: the digest of data as 64 lowercase hex digits into hex. */
void xz_sha256_hex(const void *data, size_t len, char hex[XZ_SHA256_HEX]);
/* Lowercase hex of a digest. */
void xz_sha256_tohex(const uint8_t d[XZ_SHA256_LEN], char hex[XZ_SHA256_HEX]);

#endif
