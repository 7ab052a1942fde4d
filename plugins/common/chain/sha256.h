/*
 * sha256.h - SHA-256 digests as lowercase hex, on nettle's implementation
 * (Debian nettle-dev). Code that hashes a message in pieces uses nettle's
 * own sha256_init/sha256_update/sha256_digest (<nettle/sha2.h>) and
 * xz_hex_encode for the text form.
 *
 * The audit chain hashes its records with it (chain.c), collab its case
 * transfer packages.
 */
#ifndef XZ_SHA256_H
#define XZ_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of a digest (nettle's SHA256_DIGEST_SIZE). */
#define XZ_SHA256_LEN 32
#define XZ_SHA256_HEX 65 /* 64 hex digits and the NUL */

/* The digest of data as 64 lowercase hex digits and a NUL, into hex. */
void xz_sha256_hex(const void *data, size_t len, char hex[XZ_SHA256_HEX]);

/* n bytes as 2n lowercase hex digits and a NUL, into out (2n + 1 bytes). */
void xz_hex_encode(const uint8_t *bytes, size_t n, char *out);

#endif
