/* sha256.c - SHA-256 as hex, on nettle (see sha256.h). */
#include <nettle/sha2.h>

#include "sha256.h"

_Static_assert(XZ_SHA256_LEN == SHA256_DIGEST_SIZE, "digest size");

void
xz_hex_encode(const uint8_t *bytes, size_t n, char *out)
{
	static const char digit[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i]     = digit[bytes[i] >> 4];
		out[2 * i + 1] = digit[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

void
xz_sha256_hex(const void *data, size_t len, char hex[XZ_SHA256_HEX])
{
	struct sha256_ctx s;
	uint8_t           d[SHA256_DIGEST_SIZE];

	sha256_init(&s);
	sha256_update(&s, len, data);
	sha256_digest(&s, sizeof(d), d);
	xz_hex_encode(d, sizeof(d), hex);
}
