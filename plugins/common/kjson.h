/*
 * kjson.h - JSON text of jansson values, written without jansson's encoder.
 *
 * The scenario plugins encode every record they store, every reply and
 * every event with jansson. Its encoder writes through a callback in
 * small pieces, grows its buffer from 16 bytes and formats each integer
 * with snprintf: a tenth of the prison alarm flow's time. kit_json_dumps
 * writes the same text in one pass into one buffer.
 *
 * The output is byte for byte json_dumps(v, JSON_COMPACT) of jansson
 * 2.14, which stays the reference (tests/unit/test_kjson.c compares the
 * two): members in the object's order, no spaces, strings as UTF-8 with
 * only '"', '\\' and the control characters escaped (\b \f \n \r \t, the
 * others \u00XX in upper case), integers in decimal. A real number is
 * written by jansson itself (its shortest form that reads back the same).
 * Like json_dumps it fails (NULL) on a string that is not UTF-8 (also on
 * such a key, where jansson 2.14 writes a broken text) and on a
 * top-level value that is neither an object nor an array; a value nested
 * deeper than KJSON_MAX_DEPTH (a cycle would be infinitely deep) is left
 * to json_dumps, which refuses cycles.
 */
#ifndef XZ_KJSON_H
#define XZ_KJSON_H

#include <jansson.h>
#include <stddef.h>

#define KJSON_MAX_DEPTH 512

/* A growing text: p malloc'd (owned by whoever fills it, who frees it),
 * NUL-terminated once anything is put; err set when a growth failed or a
 * string was not UTF-8 (the text is then incomplete: nothing more is
 * put). Start from kit_buf b = { 0 }. */
typedef struct kit_buf {
	char  *p;
	size_t len, cap;
	int    err;
} kit_buf;

void kit_buf_put(kit_buf *b, const char *s, size_t n);
void kit_buf_puts(kit_buf *b, const char *s);
/* s ("" for NULL) as a JSON string, escaped as kit_json_dumps escapes. */
void kit_buf_json_str(kit_buf *b, const char *s);

/* json_dumps(v, JSON_COMPACT): malloc'd text the caller frees, or NULL.
 * With len, *len is its length. */
char *kit_json_dumps(const json_t *v, size_t *len);

/*
 * json_loadb(s, n, flags, e): the value (the caller owns it) or NULL with
 * e filled in. The common text (objects, arrays, strings without \u
 * escapes, integers of up to 18 digits, true, false, null) is read in one
 * pass straight into jansson values; anything else (a real number, a \u
 * escape, a duplicate key under JSON_REJECT_DUPLICATES, any flag but that
 * one, nesting deeper than KJSON_MAX_DEPTH) and every error is read again
 * by json_loadb itself, so the value, the refusal and its message are
 * always jansson's.
 */
json_t *kit_json_loadb(const char *s, size_t n, size_t flags, json_error_t *e);

#endif
