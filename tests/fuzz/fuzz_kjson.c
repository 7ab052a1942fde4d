/*
 * fuzz_kjson.c - libFuzzer target: plugins/common/kjson.c against jansson.
 * The input's first byte picks the flags (odd: JSON_REJECT_DUPLICATES), the
 * rest is the text. kit_json_loadb and json_loadb must both refuse it with
 * the same message, or both read values that are equal and written the
 * same; kit_json_dumps must write what json_dumps writes. Build and run
 * with tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kjson.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t e1, e2;
	size_t       flags;
	const char  *text;
	json_t      *ours, *ref;

	if (size == 0)
		return 0;
	flags = (data[0] & 1) ? JSON_REJECT_DUPLICATES : 0;
	text  = (const char *) data + 1;
	ours  = kit_json_loadb(text, size - 1, flags, &e1);
	ref   = json_loadb(text, size - 1, flags, &e2);
	if ((ours == NULL) != (ref == NULL))
		abort();
	if (ref == NULL) {
		if (strcmp(e1.text, e2.text) != 0
		    || e1.position != e2.position)
			abort();
		return 0;
	}
	if (!json_equal(ours, ref))
		abort();
	char *a = kit_json_dumps(ours, NULL);
	char *b = json_dumps(ref, JSON_COMPACT);
	if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
		abort();
	free(a);
	free(b);
	json_decref(ours);
	json_decref(ref);
	return 0;
}
