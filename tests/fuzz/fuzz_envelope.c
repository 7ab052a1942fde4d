/*
 * fuzz_envelope.c - libFuzzer target: the input is a link message (a batch).
 * Every record the batch parser yields is decoded; an accepted envelope
 * must re-encode to exactly its input bytes. The whole input is also
 * decoded as one envelope. Build and run with tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/envelope.h"

static void
check(const uint8_t *rec, size_t len)
{
	xz_env   e;
	uint8_t *again;

	if (xz_env_decode(rec, len, 1 << 20, &e) != 0)
		return;
	if (xz_env_size(&e) != len || (again = malloc(len)) == NULL)
		abort();
	if (xz_env_encode(&e, again, len) != len
	    || memcmp(again, rec, len) != 0)
		abort();
	free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *rec;
	size_t         rec_len, off = 0;

	check(data, size);
	while (xz_batch_next(data, size, &off, &rec, &rec_len) == 1) {
		if (off > size || rec < data || rec + rec_len > data + size)
			abort();
		check(rec, rec_len);
	}
	return 0;
}
