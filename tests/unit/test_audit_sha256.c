/*
 * test_audit_sha256.c - SHA-256 (nettle, with the hex wrapper of
 * plugins/common/chain/sha256.h) against the FIPS 180-2 appendix B
 * vectors (and the empty message), in one call and fed in awkward pieces
 * as the audit chain feeds it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <nettle/sha2.h>

#include "sha256.h"

/* The digest held in c, as hex. */
static void
digest_hex(struct sha256_ctx *c, char hex[XZ_SHA256_HEX])
{
	uint8_t d[XZ_SHA256_LEN];

	sha256_digest(c, sizeof(d), d);
	xz_hex_encode(d, sizeof(d), hex);
}

static void
test_empty(void **s)
{
	char hex[XZ_SHA256_HEX];
	(void) s;
	xz_sha256_hex("", 0, hex);
	assert_string_equal(hex,
	    "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
}

static void
test_abc(void **s) /* FIPS 180-2 B.1 */
{
	char hex[XZ_SHA256_HEX];
	(void) s;
	xz_sha256_hex("abc", 3, hex);
	assert_string_equal(hex,
	    "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
}

static void
test_two_blocks(void **s) /* FIPS 180-2 B.2: 448 bits, padding spills */
{
	const char *m
	    = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char hex[XZ_SHA256_HEX];
	(void) s;
	xz_sha256_hex(m, strlen(m), hex);
	assert_string_equal(hex,
	    "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1");
	/* The same fed one byte at a time. */
	struct sha256_ctx c;
	sha256_init(&c);
	for (size_t i = 0; i < strlen(m); i++)
		sha256_update(&c, 1, (const uint8_t *) m + i);
	digest_hex(&c, hex);
	assert_string_equal(hex,
	    "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1");
}

static void
test_million_a(void **s) /* FIPS 180-2 B.3: one million 'a' */
{
	struct sha256_ctx c;
	char              hex[XZ_SHA256_HEX];
	uint8_t           chunk[1000];
	(void) s;
	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&c);
	/* 1000 pieces of 1000 bytes: never block-aligned. */
	for (int i = 0; i < 1000; i++)
		sha256_update(&c, sizeof(chunk), chunk);
	digest_hex(&c, hex);
	assert_string_equal(hex,
	    "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0");
}

static void
test_55_56_64(void **s) /* padding edges: 55, 56 and 64 bytes */
{
	char buf[64], hex[XZ_SHA256_HEX];
	(void) s;
	memset(buf, 'a', sizeof(buf));
	xz_sha256_hex(buf, 55, hex);
	assert_string_equal(hex,
	    "9f4390f8d30c2dd92ec9f095b65e2b9a"
	    "e9b0a925a5258e241c9f1e910f734318");
	xz_sha256_hex(buf, 56, hex);
	assert_string_equal(hex,
	    "b35439a4ac6f0948b6d6f9e3c6af0f5f"
	    "590ce20f1bde7090ef7970686ec6738a");
	xz_sha256_hex(buf, 64, hex);
	assert_string_equal(hex,
	    "ffe054fe7ae0cb6dc65c3af9b61d5209"
	    "f439851db43d0ba5997337df154668eb");
}

static void
test_hex(void **s) /* the encoder alone: every nibble, in order */
{
	const uint8_t b[] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
	char          hex[2 * sizeof(b) + 1];
	(void) s;
	memset(hex, 'x', sizeof(hex));
	xz_hex_encode(b, sizeof(b), hex);
	assert_string_equal(hex, "0123456789abcdef");
	xz_hex_encode(b, 0, hex);
	assert_string_equal(hex, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_abc),
		cmocka_unit_test(test_two_blocks),
		cmocka_unit_test(test_million_a),
		cmocka_unit_test(test_55_56_64),
		cmocka_unit_test(test_hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
