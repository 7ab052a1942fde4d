/*
 * test_kjson.c - kit_json_dumps (plugins/common/kjson.c) writes exactly
 * what jansson's json_dumps(v, JSON_COMPACT) writes, and fails where it
 * fails: chosen edge cases (every control character, quotes, UTF-8 of 1
 * to 4 bytes, each kind of invalid UTF-8, embedded NUL, integer limits,
 * reals, deep nesting) and 20,000 random values from a fixed seed.
 * kit_json_loadb reads what json_loadb reads into equal values with the
 * same member order, and refuses what it refuses with the same message:
 * chosen texts and 20,000 random ones, whole and damaged. kit_buf_json_str
 * writes a string as json_dumps writes it inside an array, and a growing
 * kit_buf stays one NUL-terminated text until a string that is not UTF-8
 * stops it. Plain text read and written eight bytes at a time: one byte
 * that needs a look (each kind) at every place of texts of 1 to 40 bytes
 * is written and read as jansson does. The format-free builders write
 * what snprintf writes (kstr.h, every buffer size) and kit_obj_strs builds
 * what json_pack builds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../plugins/common/kit.h"
#include "../../plugins/common/kjson.h"
#include "../../plugins/common/kstr.h"

/* Both encoders agree on v (which this consumes): the same text, or
 * both refuse. */
static void
same(json_t *v)
{
	size_t n    = 0;
	char  *ours = kit_json_dumps(v, &n);
	char  *ref  = json_dumps(v, JSON_COMPACT);

	if (ref == NULL) {
		assert_null(ours);
	} else {
		assert_non_null(ours);
		assert_string_equal(ours, ref);
		assert_int_equal(n, strlen(ref));
	}
	free(ours);
	free(ref);
	json_decref(v);
}

static json_t *
wrap(json_t *s)
{
	return json_pack("{s:o,s:[o]}", "k", json_incref(s), "a", s);
}

static void
test_edges(void **state)
{
	char s[2];
	(void) state;

	/* every byte below 0x20, and the ones ASCII escapes */
	for (int c = 1; c < 0x80; c++) {
		s[0] = (char) c;
		s[1] = '\0';
		same(wrap(json_string(s)));
	}
	same(wrap(json_stringn("a\0b", 3))); /* embedded NUL: \u0000 */
	same(wrap(json_string("a/b \"q\" \\ 监舍 101 \xf0\x9f\x98\x80 end")));
	/* not UTF-8 (made without jansson's check): both refuse */
	static const char *const bad[]
	    = { "\xc0\x80", "\xe0\x80\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		      "\xe4\xb8", "\x80", "\xf5\x80\x80\x80", "ok\xff" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		same(wrap(json_stringn_nocheck(bad[i], strlen(bad[i]))));
	/* a key that needs escapes */
	json_t *o = json_object();
	json_object_set_new_nocheck(o, "k\"\n\x01", json_true());
	same(o);
	/* a key that is not UTF-8: jansson 2.14 ignores the failure and
	 * writes a broken text ({"k\"\n\u0001":true,":false}); refused */
	o = json_object();
	json_object_set_new_nocheck(o, "k", json_true());
	json_object_set_new_nocheck(o, "\xc3\x28", json_false());
	assert_null(kit_json_dumps(o, NULL));
	json_decref(o);
	same(json_pack("[I,I,I,I,I]", (json_int_t) 0, (json_int_t) -1,
	    (json_int_t) INT64_MIN, (json_int_t) INT64_MAX, (json_int_t) 10));
	same(json_pack("[f,f,f,f,f]", 0.1, 1e300, -0.0, 3.0, -2.5e-7));
	same(json_pack(
	    "{s:{},s:[],s:[{}],s:b,s:n}", "e", "a", "x", "t", 1, "z"));
	same(json_object());
	same(json_array());
	/* a top-level value that is neither: both refuse */
	same(json_string("x"));
	same(json_integer(1));
	same(json_null());
	/* deep nesting, past KJSON_MAX_DEPTH */
	json_t *d = json_array();
	for (int i = 0; i < KJSON_MAX_DEPTH + 100; i++)
		d = json_pack("{s:o}", "d", d);
	same(d);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned) (rng % n);
}

static json_t *
random_string(int key)
{
	static const char *const pieces[]
	    = { "a", "Z", "9", " ", "\"", "\\", "/", "\n", "\t", "\x01",
		      "\x1f", "\x7f", "监", "舍", "\xc3\xa9",
		      "\xf0\x9f\x98\x80", "\xc0", "\xed\xa0\x80", "\xff" };
	char   buf[200];
	size_t n = 0, k = rnd(12);
	/* mostly valid text; an invalid byte now and then */
	int allow_bad = !key && rnd(20) == 0; /* keys: see test_edges */

	for (size_t i = 0; i < k; i++) {
		const char *p = pieces[rnd(allow_bad ? 19 : 16) % 19];
		size_t      l = strlen(p);
		memcpy(buf + n, p, l);
		n += l;
	}
	if (key) {
		buf[n] = '\0';
		return json_string_nocheck(buf);
	}
	return json_stringn_nocheck(buf, n);
}

static json_t *
random_value(int depth)
{
	unsigned t = rnd(depth > 4 ? 6 : 8);
	switch (t) {
	case 0:
		return random_string(0);
	case 1:
		return json_integer((json_int_t) rnd(2000000) - 1000000);
	case 2:
		return json_real((double) rnd(100000) / 7.0);
	case 3:
		return json_true();
	case 4:
		return json_false();
	case 5:
		return json_null();
	case 6: {
		json_t  *o = json_object();
		unsigned n = rnd(6);
		for (unsigned i = 0; i < n; i++) {
			json_t *k = random_string(1);
			json_object_set_new_nocheck(
			    o, json_string_value(k), random_value(depth + 1));
			json_decref(k);
		}
		return o;
	}
	default: {
		json_t  *a = json_array();
		unsigned n = rnd(6);
		for (unsigned i = 0; i < n; i++)
			json_array_append_new(a, random_value(depth + 1));
		return a;
	}
	}
}

static void
test_random(void **state)
{
	(void) state;
	for (int i = 0; i < 20000; i++) {
		json_t *v = random_value(0);
		if (!json_is_object(v) && !json_is_array(v))
			v = json_pack("{s:o}", "v", v);
		same(v);
	}
}

/* Both readers agree on text: equal values with the same member order
 * (compared by their text), or both refuse with the same message. */
static void
same_read(const char *text, size_t n, size_t flags)
{
	json_error_t e1, e2;
	json_t      *ours = kit_json_loadb(text, n, flags, &e1);
	json_t      *ref  = json_loadb(text, n, flags, &e2);

	if (ref == NULL) {
		assert_null(ours);
		assert_string_equal(e1.text, e2.text);
		assert_int_equal(e1.position, e2.position);
		return;
	}
	assert_non_null(ours);
	assert_true(json_equal(ours, ref));
	char *a = json_dumps(ours, JSON_COMPACT | JSON_ENCODE_ANY);
	char *b = json_dumps(ref, JSON_COMPACT | JSON_ENCODE_ANY);
	assert_string_equal(a, b);
	free(a);
	free(b);
	json_decref(ours);
	json_decref(ref);
}

static void
same_read_s(const char *text)
{
	same_read(text, strlen(text), 0);
	same_read(text, strlen(text), JSON_REJECT_DUPLICATES);
}

static void
test_read_edges(void **state)
{
	static const char *const texts[] = { "{}", "[]", " { } ", "\n[\t]\r",
		"{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
		"{\"a\":1,\"a\":2}", "{\"a\":1,\"b\":2,\"a\":3}",
		"{\"s\":\"q\\\"b\\\\s\\/n\\nt\\tr\\rb\\bf\\f\"}",
		"{\"u\":\"\\u00e9\\ud83d\\ude00\"}", "{\"u\":\"\\u0000\"}",
		"{\"u\":\"\\ud800\"}", "{\"k\\u0000\":1}",
		"[1.5,2e3,-0.0,1E-2]", "[123456789012345678]",
		"[1234567890123456789]", "[9223372036854775807]",
		"[9223372036854775808]", "[-9223372036854775808]",
		"[-9223372036854775809]", "[01]", "[-]", "[-0]", "[0]", "[1,]",
		"{\"a\":1,}", "[1 2]", "{\"a\" 1}", "{a:1}", "[\"\x01\"]",
		"[\"\xc0\x80\"]", "[\"监舍\"]", "[\"\xe4\xb8\"]", "[\"\\x\"]",
		"[tru]", "[truex]", "[nul]", "{}x", "{} {}", "", " ", "1",
		"\"s\"", "true", "null", "[", "{", "[\"open",
		"{\"a\":", "[[[[[[[[]]]]]]]]" };
	(void) state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		same_read_s(texts[i]);
	same_read("[1]\0", 4, 0); /* a NUL after the value */
	same_read("[\"a\0b\"]", 7, 0); /* a NUL inside a string */
	/* nesting past KJSON_MAX_DEPTH, and past jansson's own limit */
	for (int depth = KJSON_MAX_DEPTH + 10; depth <= 3000;
	     depth += 3000 - KJSON_MAX_DEPTH - 10) {
		char *t = malloc((size_t) depth * 2 + 1);
		memset(t, '[', (size_t) depth);
		memset(t + depth, ']', (size_t) depth);
		t[depth * 2] = '\0';
		same_read_s(t);
		free(t);
	}
	/* other flags: jansson's reader */
	same_read("1", 1, JSON_DECODE_ANY);
	same_read("[1] x", 5, JSON_DISABLE_EOF_CHECK);
}

static void
test_read_random(void **state)
{
	(void) state;
	for (int i = 0; i < 20000; i++) {
		json_t *v = random_value(0);
		if (!json_is_object(v) && !json_is_array(v))
			v = json_pack("{s:o}", "v", v);
		char *t = json_dumps(
		    v, JSON_COMPACT | (i % 3 ? 0 : JSON_INDENT(1)));
		json_decref(v);
		if (t == NULL)
			continue; /* not UTF-8: nothing to read */
		size_t n = strlen(t);
		same_read(t, n, i & 1 ? JSON_REJECT_DUPLICATES : 0);
		/* damaged: a byte changed, or the text cut short */
		if (n > 2) {
			char             *d  = strdup(t);
			size_t            at = rnd((unsigned) n);
			static const char junk[]
			    = "{}[],:\"\\ 0-eE.tfn\x01\xc3";
			d[at] = junk[rnd(sizeof(junk) - 1)];
			same_read(d, n, 0);
			same_read(d, rnd((unsigned) n), 0);
			free(d);
		}
		free(t);
	}
}

/* The string s (n bytes) as json_dumps writes it in ["..."], or NULL
 * when it refuses (malloc'd). */
static char *
ref_str(const char *s, size_t n)
{
	json_t *a = json_pack("[s%]", s, n);
	char   *t = a ? json_dumps(a, JSON_COMPACT) : NULL;

	json_decref(a);
	if (t == NULL)
		return NULL;
	t[strlen(t) - 1] = '\0'; /* the ']' */
	memmove(t, t + 1, strlen(t)); /* the '[' */
	return t;
}

static void
test_buf(void **state)
{
	static const char *const ok[]
	    = { "", "plain", "q\"uo\\te", "\b\f\n\r\t\x01\x1f\x7f",
		      "中文 一二三", "\xf0\x9f\x98\x80 emoji", "a/b" };
	kit_buf b = { 0 };

	(void) state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char   *ref = ref_str(ok[i], strlen(ok[i]));
		kit_buf one = { 0 };
		assert_non_null(ref);
		kit_buf_json_str(&one, ok[i]);
		assert_int_equal(one.err, 0);
		assert_string_equal(one.p, ref);
		assert_int_equal(one.len, strlen(ref));
		free(one.p);
		free(ref);
	}
	kit_buf_json_str(&b, NULL);
	assert_string_equal(b.p, "\"\"");
	/* one text, NUL-terminated as it grows past its first room */
	for (int i = 0; i < 200; i++) {
		kit_buf_puts(&b, ",");
		kit_buf_json_str(&b, "中文 and \"quotes\"");
	}
	assert_int_equal(b.err, 0);
	assert_int_equal(strlen(b.p), b.len);
	assert_int_equal(
	    b.len, 2 + 200 * (1 + strlen("\"中文 and \\\"quotes\\\"\"")));
	/* not UTF-8: refused as json_dumps refuses it, nothing more is put */
	size_t len = b.len;
	assert_null(ref_str("bad \xc3\x28", 6));
	kit_buf_json_str(&b, "bad \xc3\x28");
	assert_int_not_equal(b.err, 0);
	kit_buf_puts(&b, "more");
	assert_true(b.len <= len + 8);
	free(b.p);
}

static void
test_plain_runs(void **state)
{
	/* each byte or sequence that needs a look, and 0x7f and ' ', which
	 * do not */
	static const char *const odd[]
	    = { "\"", "\\", "\n", "\x01", "\x1f", "\x7f", " ", "\xc3\xa9",
		      "\xe7\x9b\x91", "\xf0\x9f\x98\x80", "\xff", "\xc0" };
	(void) state;
	for (size_t k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
		for (size_t len = 1; len <= 40; len++) {
			for (size_t at = 0; at < len; at++) {
				char   s[64], text[256];
				size_t n = 0, ol = strlen(odd[k]);
				memset(s, 'a', at);
				n = at;
				memcpy(s + n, odd[k], ol);
				n += ol;
				memset(s + n, 'b', len - at - 1);
				n += len - at - 1;
				/* unchecked: invalid UTF-8 too, which both
				 * writers refuse */
				json_t *a = json_array();
				json_array_append_new(
				    a, json_stringn_nocheck(s, n));
				same(a);
				/* the reader: the text as it came, in an array
				 */
				text[0] = '[';
				text[1] = '"';
				memcpy(text + 2, s, n);
				text[n + 2] = '"';
				text[n + 3] = ']';
				same_read(text, n + 4, 0);
			}
		}
	}
}

static void
test_kstr(void **state)
{
	static const char *const words[] = { "", "a", "prison", "alarm",
		"raised", "\xe7\x9b\x91\xe6\x89\x80" };
	static const int64_t     nums[]
	    = { 0, 7, 12345678, 123456789, -5, INT64_MAX, INT64_MIN + 1 };
	const size_t nw = sizeof(words) / sizeof(words[0]);
	(void) state;
	for (size_t size = 1; size <= 40; size++) {
		for (size_t i = 0; i < nw; i++) {
			char got[48], want[48];
			memset(got, 'x', sizeof(got));
			kstr_copy(got, size, words[i]);
			snprintf(want, size, "%s", words[i]);
			assert_string_equal(got, want);
			for (size_t j = 0; j < nw; j++) {
				for (size_t k = 0; k < nw; k++) {
					kstr_join(got, size, ".", words[i],
					    words[j], words[k]);
					snprintf(want, size, "%s.%s.%s",
					    words[i], words[j], words[k]);
					assert_string_equal(got, want);
				}
				kstr_join(
				    got, size, ": ", words[i], words[j], NULL);
				snprintf(
				    want, size, "%s: %s", words[i], words[j]);
				assert_string_equal(got, want);
			}
			for (size_t k = 0; k < sizeof(nums) / sizeof(nums[0]);
			     k++) {
				kstr_seq_id(got, size, words[i], nums[k]);
				snprintf(want, size, "%s-%08lld", words[i],
				    (long long) nums[k]);
				assert_string_equal(got, want);
			}
		}
	}
}

static void
test_obj_strs(void **state)
{
	json_t *a, *b;
	(void) state;
	a = kit_obj_strs(NULL, "id", "ALM-00000001", "state", "RAISED",
	    "outcome", NULL, "where", "\xe7\x9b\x91", NULL);
	b = json_pack("{s:s,s:s,s:s?,s:s}", "id", "ALM-00000001", "state",
	    "RAISED", "outcome", NULL, "where", "\xe7\x9b\x91");
	assert_non_null(a);
	assert_true(json_equal(a, b));
	json_decref(b);
	/* into an object there already, its order kept */
	b = kit_obj_strs(json_pack("{s:i}", "n", 1), "id", "x", NULL);
	assert_int_equal(json_object_size(b), 2);
	assert_string_equal(json_string_value(json_object_get(b, "id")), "x");
	json_decref(b);
	/* a value that is not UTF-8: NULL, as json_pack refuses it */
	assert_null(kit_obj_strs(a, "bad", "\xc3\x28", NULL));
	assert_null(json_pack("{s:s}", "bad", "\xc3\x28"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_read_edges),
		cmocka_unit_test(test_read_random),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_plain_runs),
		cmocka_unit_test(test_kstr),
		cmocka_unit_test(test_obj_strs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
