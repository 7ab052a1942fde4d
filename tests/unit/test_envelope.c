/*
 * test_envelope.c - the wire envelope and link batches: round trips of every
 * field, the exact byte layout, truncation, corruption and random input
 * against a reference decoder written here from the table in envelope.h.
 * Buffers handed to the decoder are heap copies of exactly the given
 * length, so that the sanitizer build catches any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire/envelope.h"
#include <xiezhi/xiezhi.h>

static uint64_t rng_state;

static uint64_t
rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z          = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z          = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned
rng_below(unsigned n)
{
	return (unsigned) (rng_next() % n);
}

/* ---- the reference decoder ---- */

static unsigned
le(const uint8_t *b, int n)
{
	unsigned v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v * 256 + b[i];
	return v;
}

static int
ref_name_ok(const uint8_t *s, size_t n, int pattern)
{
	size_t tok = 0; /* bytes in the current token */

	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (c == '.') {
			if (tok == 0)
				return 0;
			tok = 0;
			continue;
		}
		if (pattern && (c == '*' || c == '>')) {
			/* alone in its token; '>' also last */
			if (tok != 0 || (i + 1 < n && s[i + 1] != '.'))
				return 0;
			if (c == '>' && i + 1 != n)
				return 0;
			tok = 1;
			continue;
		}
		if (c < 0x21 || c > 0x7e || c == '*' || c == '>')
			return 0;
		tok++;
	}
	return n > 0 && n <= 255 && tok > 0;
}

static int
ref_decode(const uint8_t *b, size_t len, size_t max_payload)
{
	if (len < 64)
		return XZ_EPROTO;
	unsigned kind = b[2], tl = le(b + 6, 2), sl = b[8];
	unsigned pl = le(b + 12, 4);
	int known   = (kind >= 1 && kind <= 4) || (kind >= 16 && kind <= 19);
	if (b[0] != 'X' || b[1] != 1 || !known || b[3] > 2 || le(b + 4, 2) > 1
	    || tl < 1 || tl > 255 || sl > 64 || b[9] || b[10] || b[11])
		return XZ_EPROTO;
	if (pl > max_payload)
		return XZ_ETOOBIG;
	if (64 + (size_t) tl + sl + pl != len)
		return XZ_EPROTO;
	if (kind == 18 && pl != 4)
		return XZ_EPROTO;
	if (!ref_name_ok(b + 64, tl, kind == 16 || kind == 17))
		return XZ_EPROTO;
	for (unsigned i = 0; i < sl; i++)
		if (b[64 + tl + i] < 0x20 || b[64 + tl + i] > 0x7e)
			return XZ_EPROTO;
	return XZ_OK;
}

/* ---- helpers ---- */

/* A heap copy of exactly n bytes (at least one byte allocated), so that the
 * sanitizers see a read past n. Caller frees. */
static uint8_t *
dup_exact(const uint8_t *b, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);
	assert_non_null(c);
	if (n)
		memcpy(c, b, n);
	return c;
}

static int
decode_copy(const uint8_t *b, size_t n, size_t max, xz_env *out)
{
	uint8_t *c = dup_exact(b, n);
	int      rv;
	xz_env   tmp;

	memset(&tmp, 0xa5, sizeof(tmp));
	rv = xz_env_decode(c, n, max, &tmp);
	if (rv == XZ_OK && out != NULL) {
		/* Re-encoding must give the same bytes back. */
		uint8_t *again = malloc(n);
		assert_non_null(again);
		assert_int_equal(xz_env_encode(&tmp, again, n), n);
		assert_memory_equal(again, c, n);
		free(again);
		*out = tmp;
		/* pointers into c are not kept past this call */
		out->topic = out->source = NULL;
		out->payload             = NULL;
	} else if (rv != XZ_OK) {
		xz_env untouched;
		memset(&untouched, 0xa5, sizeof(untouched));
		assert_memory_equal(&tmp, &untouched, sizeof(tmp));
	}
	free(c);
	return rv;
}

static void
sample_env(xz_env *e, uint8_t kind, const char *topic, const char *source,
    const void *payload, size_t plen)
{
	memset(e, 0, sizeof(*e));
	e->kind         = kind;
	e->content_type = XZ_CT_JSON;
	e->flags        = 0;
	for (int i = 0; i < 16; i++) {
		e->id[i]   = (uint8_t) (0x10 + i);
		e->corr[i] = (uint8_t) (0xf0 - i);
	}
	e->timestamp_us = 0x0102030405060708ull;
	e->deadline_us  = 0xfedcba9876543210ull;
	e->topic        = topic;
	e->topic_len    = strlen(topic);
	e->source       = source;
	e->source_len   = source ? strlen(source) : 0;
	e->payload      = payload;
	e->payload_len  = plen;
}

static void
assert_env_equal(const xz_env *a, const xz_env *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->content_type, b->content_type);
	assert_int_equal(a->flags, b->flags);
	assert_memory_equal(a->id, b->id, 16);
	assert_memory_equal(a->corr, b->corr, 16);
	assert_true(a->timestamp_us == b->timestamp_us);
	assert_true(a->deadline_us == b->deadline_us);
	assert_int_equal(a->topic_len, b->topic_len);
	assert_memory_equal(a->topic, b->topic, a->topic_len);
	assert_int_equal(a->source_len, b->source_len);
	if (a->source_len)
		assert_memory_equal(a->source, b->source, a->source_len);
	assert_int_equal(a->payload_len, b->payload_len);
	if (a->payload_len)
		assert_memory_equal(a->payload, b->payload, a->payload_len);
}

/* ---- tests ---- */

static void
test_layout(void **state)
{
	static const char    payload[] = "{\"x\":1}";
	static const uint8_t want_hdr[64]
	    = { 'X', 1, 2, 0, 0x01, 0x00, 19, 0x00, 3, 0, 0, 0, 7, 0, 0, 0,
		      /* id */
		      0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
		      0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
		      /* corr */
		      0xf0, 0xef, 0xee, 0xed, 0xec, 0xeb, 0xea, 0xe9, 0xe8,
		      0xe7, 0xe6, 0xe5, 0xe4, 0xe3, 0xe2, 0xe1,
		      /* timestamp, deadline */
		      0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x10,
		      0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe };
	xz_env  e;
	uint8_t buf[128];

	(void) state;
	sample_env(
	    &e, XZ_KIND_REQUEST, "prison.alarm.raised", "gui", payload, 7);
	e.flags = XZ_MSG_ERROR;
	assert_int_equal(xz_env_size(&e), 64 + 19 + 3 + 7);
	assert_int_equal(xz_env_encode(&e, buf, sizeof(buf)), 93);
	assert_memory_equal(buf, want_hdr, 64);
	assert_memory_equal(buf + 64, "prison.alarm.raisedgui{\"x\":1}", 29);
}

static void
test_roundtrip(void **state)
{
	static const uint8_t  kinds[] = { 1, 2, 3, 4, 16, 17, 18, 19 };
	static const size_t   plens[] = { 0, 1, 4, 1000, 70000 };
	static const uint64_t times[]
	    = { 0, 1, 0x0102030405060708ull, UINT64_MAX };
	char     topic255[256], source64[65];
	uint8_t *payload = malloc(70000);
	uint8_t *buf     = malloc(64 + 255 + 64 + 70000);
	unsigned n       = 0;

	(void) state;
	assert_non_null(payload);
	assert_non_null(buf);
	rng_state = 11;
	for (size_t i = 0; i < 70000; i++)
		payload[i] = (uint8_t) rng_next();
	for (int i = 0; i < 255; i++)
		topic255[i] = (i % 4 == 3) ? '.' : (char) ('a' + i % 26);
	topic255[255] = '\0';
	for (int i = 0; i < 64; i++)
		source64[i] = (char) (' ' + i);
	source64[64] = '\0';

	for (size_t k = 0; k < sizeof(kinds); k++)
		for (int ct = 0; ct <= 2; ct++)
			for (uint16_t fl = 0; fl <= 1; fl++)
				for (size_t p = 0; p < 5; p++)
					for (int shape = 0; shape < 3;
					     shape++) {
						const char *topics[]  = { "a",
							 "prison.alarm.raised",
							 topic255 };
						const char *sources[] = { NULL,
							"rehab", source64 };
						xz_env      e, d;
						size_t      plen = plens[p];

						if (kinds[k] == 18
						    && plen != 4)
							continue;
						sample_env(&e, kinds[k],
						    topics[shape],
						    sources[shape], payload,
						    plen);
						e.content_type = (uint8_t) ct;
						e.flags        = fl;
						e.timestamp_us
						    = times[(p + shape) % 4];
						e.deadline_us
						    = times[(p + shape + 1)
						        % 4];
						e.id[shape] = (uint8_t) p;
						e.corr[15]  = (uint8_t) k;
						size_t sz   = xz_env_size(&e);
						assert_int_equal(
						    xz_env_encode(&e, buf, sz),
						    sz);
						assert_int_equal(
						    xz_env_decode(
						        buf, sz, plen, &d),
						    XZ_OK);
						assert_env_equal(&e, &d);
						/* views into buf, no copies */
						assert_ptr_equal(d.topic,
						    (char *) buf + 64);
						assert_ptr_equal(d.payload,
						    buf + sz - plen);
						n++;
					}
	assert_int_equal(n, (7 * 5 + 1) * 3 * 2 * 3);

	/* SUB/UNSUB carry a pattern; events may not. */
	xz_env e, d;
	sample_env(&e, XZ_KIND_SUB, "prison.*.>", "n1", "", 0);
	size_t sz = xz_env_encode(&e, buf, 1000);
	assert_int_equal(xz_env_decode(buf, sz, 0, &d), XZ_OK);
	assert_int_equal(d.topic_len, 10);
	buf[2] = XZ_KIND_UNSUB;
	assert_int_equal(xz_env_decode(buf, sz, 0, &d), XZ_OK);
	for (uint8_t k = 1; k <= 4; k++) {
		buf[2] = k;
		assert_int_equal(xz_env_decode(buf, sz, 0, &d), XZ_EPROTO);
	}
	buf[2] = XZ_KIND_HELLO;
	assert_int_equal(xz_env_decode(buf, sz, 0, &d), XZ_EPROTO);
	free(payload);
	free(buf);
}

static void
test_encode_limits(void **state)
{
	char    t[300];
	uint8_t buf[1024];
	xz_env  e;

	(void) state;
	memset(t, 'a', sizeof(t));
	t[256] = '\0';
	sample_env(&e, XZ_KIND_EVENT, t, "src", "{}", 2);
	assert_int_equal(e.topic_len, 256);
	assert_int_equal(xz_env_encode(&e, buf, sizeof(buf)), 0);
	e.topic_len = 255;
	assert_int_equal(xz_env_encode(&e, buf, sizeof(buf)), 64 + 255 + 5);
	e.topic_len = 0;
	assert_int_equal(xz_env_encode(&e, buf, sizeof(buf)), 0);
	e.topic_len  = 1;
	e.source     = t;
	e.source_len = 65;
	assert_int_equal(xz_env_encode(&e, buf, sizeof(buf)), 0);
	e.source_len = 64;
	assert_int_equal(xz_env_encode(&e, buf, sizeof(buf)), 64 + 1 + 64 + 2);
	/* cap: exact fits, one less does not and writes nothing */
	size_t sz = xz_env_size(&e);
	memset(buf, 0x77, sizeof(buf));
	assert_int_equal(xz_env_encode(&e, buf, sz - 1), 0);
	assert_int_equal(buf[0], 0x77);
	assert_int_equal(xz_env_encode(&e, buf, sz), sz);
	e.payload_len = (size_t) UINT32_MAX + 1;
	assert_int_equal(xz_env_encode(&e, buf, sizeof(buf)), 0);
}

static size_t
valid_sample(uint8_t *buf, size_t cap)
{
	static const char payload[] = "{\"cell\":\"B-12\",\"level\":2}";
	xz_env            e;

	sample_env(&e, XZ_KIND_EVENT, "prison.alarm.raised", "perimeter",
	    payload, strlen(payload));
	return xz_env_encode(&e, buf, cap);
}

static void
test_truncation(void **state)
{
	uint8_t buf[256];
	xz_env  d;
	size_t  n = valid_sample(buf, sizeof(buf));

	(void) state;
	assert_int_equal(n, 64 + 19 + 9 + 25);
	assert_int_equal(decode_copy(buf, n, 1 << 20, &d), XZ_OK);
	for (size_t len = 0; len < n; len++)
		if (decode_copy(buf, len, 1 << 20, &d) != XZ_EPROTO)
			fail_msg("truncated to %zu bytes: not rejected", len);
	/* nothing may follow the payload */
	buf[n] = 0;
	assert_int_equal(decode_copy(buf, n + 1, 1 << 20, &d), XZ_EPROTO);
	assert_int_equal(xz_env_decode(NULL, 0, 0, &d), XZ_EPROTO);
}

/* What a single-byte change of the header must do to the sample. */
static int
expected_after(size_t off, unsigned v, const uint8_t *orig, size_t max)
{
	switch (off) {
	case 0:
	case 1:
	case 5:
	case 6:
	case 7:
	case 8:
	case 9:
	case 10:
	case 11:
		return XZ_EPROTO; /* magic, version, flags, lengths, reserved
		                   */
	case 2:
		return (v >= 1 && v <= 4) || v == 16 || v == 17 || v == 19
		    ? XZ_OK
		    : XZ_EPROTO; /* 18 (credit) needs a 4-byte payload */
	case 3:
		return v <= 2 ? XZ_OK : XZ_EPROTO;
	case 4:
		return v <= 1 ? XZ_OK : XZ_EPROTO;
	case 12:
	case 13:
	case 14:
	case 15: {
		uint8_t b[4];
		memcpy(b, orig + 12, 4);
		b[off - 12] = (uint8_t) v;
		return le(b, 4) > max ? XZ_ETOOBIG : XZ_EPROTO;
	}
	default:
		return XZ_OK; /* id, corr, timestamp, deadline: any value */
	}
}

static void
test_header_corruption(void **state)
{
	uint8_t buf[256], c[256];
	size_t  n = valid_sample(buf, sizeof(buf));
	xz_env  d;

	(void) state;
	for (size_t max = 100; max <= 1000; max += 900)
		for (size_t off = 0; off < XZ_ENV_HDR; off++)
			for (unsigned v = 0; v < 256; v++) {
				if (v == buf[off])
					continue;
				memcpy(c, buf, n);
				c[off]   = (uint8_t) v;
				int want = expected_after(off, v, buf, max);
				int got  = decode_copy(c, n, max, &d);
				if (got != want)
					fail_msg("byte %zu = 0x%02x: got %d, "
					         "want %d",
					    off, v, got, want);
				assert_int_equal(got, ref_decode(c, n, max));
				if (got != XZ_OK)
					continue;
				/* accepted: the field shows the new byte */
				if (off == 2)
					assert_int_equal(d.kind, v);
				if (off >= 16 && off < 32)
					assert_int_equal(d.id[off - 16], v);
				if (off >= 48 && off < 56)
					assert_true(((d.timestamp_us
					                 >> (8 * (off - 48)))
					                & 0xff)
					    == v);
			}
}

static void
test_body_corruption(void **state)
{
	static const uint8_t values[]
	    = { 0, 0x09, ' ', '.', '*', '>', '~', 0x7f, 0x80, 0xff, 'Q' };
	uint8_t buf[256], c[256];
	size_t  n = valid_sample(buf, sizeof(buf));
	xz_env  d;
	int     accepted = 0, rejected = 0;

	(void) state;
	/* topic (19 bytes) then source (9 bytes) */
	for (size_t off = 64; off < 64 + 19 + 9; off++)
		for (size_t i = 0; i < sizeof(values); i++) {
			memcpy(c, buf, n);
			c[off]   = values[i];
			int want = ref_decode(c, n, 1000);
			int got  = decode_copy(c, n, 1000, &d);
			if (got != want)
				fail_msg("byte %zu = 0x%02x: got %d, want %d",
				    off, values[i], got, want);
			accepted += got == XZ_OK;
			rejected += got != XZ_OK;
		}
	/* e.g. 'Q' and '~' anywhere, ' ' in the source */
	assert_true(accepted > 60);
	assert_true(rejected > 150);

	/* spot checks the reference must agree with */
	memcpy(c, buf, n);
	c[64 + 7] = '.'; /* "prison..larm.raised" */
	assert_int_equal(decode_copy(c, n, 1000, &d), XZ_EPROTO);
	memcpy(c, buf, n);
	c[64 + 19] = ' '; /* source " erimeter" */
	assert_int_equal(decode_copy(c, n, 1000, &d), XZ_OK);
	c[64 + 19] = 0x7f;
	assert_int_equal(decode_copy(c, n, 1000, &d), XZ_EPROTO);
}

static void
test_too_big(void **state)
{
	uint8_t *payload = calloc(1, 1001);
	uint8_t  buf[2048];
	xz_env   e, d;

	(void) state;
	memcpy(payload, "\"", 1);
	sample_env(&e, XZ_KIND_EVENT, "a.b", "s", payload, 1001);
	size_t n = xz_env_encode(&e, buf, sizeof(buf));
	assert_int_equal(n, 64 + 3 + 1 + 1001);
	assert_int_equal(xz_env_decode(buf, n, 1000, &d), XZ_ETOOBIG);
	assert_int_equal(xz_env_decode(buf, n, 1001, &d), XZ_OK);
	/* too big is reported even before the payload has arrived */
	assert_int_equal(xz_env_decode(buf, 64 + 4, 1000, &d), XZ_ETOOBIG);
	e.payload_len = 0;
	n             = xz_env_encode(&e, buf, sizeof(buf));
	assert_int_equal(xz_env_decode(buf, n, 0, &d), XZ_OK);
	free(payload);
}

static void
test_random_buffers(void **state)
{
	uint8_t base[512], b[512];
	size_t  n = valid_sample(base, sizeof(base));
	xz_env  d;
	int     ok = 0, too_big = 0, proto = 0;

	(void) state;
	rng_state = 12345;
	for (int i = 0; i < 100000; i++) {
		size_t len;
		switch (rng_below(4)) {
		case 0: /* noise */
			len = rng_below(200);
			for (size_t j = 0; j < len; j++)
				b[j] = (uint8_t) rng_next();
			break;
		case 1: /* a plausible header over noise */
			len = 64 + rng_below(100);
			for (size_t j = 0; j < len; j++)
				b[j] = (uint8_t) (0x21 + rng_below(0x5e));
			b[0] = 'X';
			b[1] = 1;
			b[2] = (uint8_t) rng_below(21);
			b[3] = (uint8_t) rng_below(4);
			b[4] = (uint8_t) rng_below(3);
			b[5] = 0;
			b[6] = (uint8_t) rng_below(40);
			b[7] = 0;
			b[8] = (uint8_t) rng_below(40);
			b[9] = b[10] = b[11] = 0;
			b[12] = (uint8_t) (len - 64 - b[6] - b[8]);
			b[13] = b[14] = b[15] = 0;
			if (rng_below(8) == 0)
				b[12] = (uint8_t) rng_next();
			break;
		default: /* the valid sample with 1..3 random bytes */
			len = n;
			memcpy(b, base, n);
			for (unsigned k = 1 + rng_below(3); k > 0; k--)
				b[rng_below((unsigned) n)]
				    = (uint8_t) rng_next();
			break;
		}
		size_t max  = 20 + rng_below(40);
		int    want = ref_decode(b, len, max);
		int    got  = decode_copy(b, len, max, &d);
		if (got != want)
			fail_msg("buffer %d (%zu bytes): got %d, want %d", i,
			    len, got, want);
		ok += got == XZ_OK;
		too_big += got == XZ_ETOOBIG;
		proto += got == XZ_EPROTO;
	}
	/* The generator reaches every outcome often. */
	assert_true(ok > 5000);
	assert_true(too_big > 1000);
	assert_true(proto > 30000);
}

static void
test_batch(void **state)
{
	uint8_t        batch[1024];
	size_t         len = 0, bounds[4] = { 0 };
	const char    *topics[3] = { "a.b", "prison.alarm.raised", "x" };
	xz_env         e, d;
	const uint8_t *rec;
	size_t         rec_len, off;

	(void) state;
	for (int i = 0; i < 3; i++) {
		sample_env(&e, XZ_KIND_EVENT, topics[i], "s", "{}", 2);
		size_t w
		    = xz_batch_append(&e, batch + len, sizeof(batch) - len);
		assert_int_equal(w, 4 + xz_env_size(&e));
		len += w;
		bounds[i + 1] = len;
	}
	/* whole batch: three records, then a clean end */
	off = 0;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(
		    xz_batch_next(batch, len, &off, &rec, &rec_len), 1);
		assert_ptr_equal(rec, batch + bounds[i] + 4);
		assert_int_equal(rec_len, bounds[i + 1] - bounds[i] - 4);
		assert_int_equal(xz_env_decode(rec, rec_len, 10, &d), XZ_OK);
		assert_int_equal(d.topic_len, strlen(topics[i]));
		assert_memory_equal(d.topic, topics[i], d.topic_len);
	}
	assert_int_equal(off, len);
	assert_int_equal(xz_batch_next(batch, len, &off, &rec, &rec_len), 0);

	/* every truncation: the whole records before the cut, then a clean
	 * end exactly at a boundary and an error anywhere else */
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *c     = dup_exact(batch, cut);
		int      whole = 0, rv;
		off            = 0;
		while ((rv = xz_batch_next(c, cut, &off, &rec, &rec_len)) == 1)
			whole++;
		int at_boundary
		    = cut == bounds[0] || cut == bounds[1] || cut == bounds[2];
		int want_whole = cut >= bounds[2] ? 2 : cut >= bounds[1];
		if (whole != want_whole || rv != (at_boundary ? 0 : -1))
			fail_msg(
			    "cut at %zu: %d records then %d", cut, whole, rv);
		free(c);
	}

	/* bad lengths */
	uint8_t zero[8] = { 0, 0, 0, 0, 1, 2, 3, 4 };
	off             = 0;
	assert_int_equal(xz_batch_next(zero, 8, &off, &rec, &rec_len), -1);
	uint8_t short_rec[4 + 63] = { 63, 0, 0, 0 };
	off                       = 0;
	assert_int_equal(
	    xz_batch_next(short_rec, sizeof(short_rec), &off, &rec, &rec_len),
	    -1);
	uint8_t huge[4 + 64] = { 0xff, 0xff, 0xff, 0xff };
	off                  = 0;
	assert_int_equal(
	    xz_batch_next(huge, sizeof(huge), &off, &rec, &rec_len), -1);
	off = 9;
	assert_int_equal(xz_batch_next(zero, 8, &off, &rec, &rec_len), -1);
	/* a record one byte longer than what follows it */
	uint8_t *one = dup_exact(batch, bounds[1]);
	one[0]++;
	off = 0;
	assert_int_equal(
	    xz_batch_next(one, bounds[1], &off, &rec, &rec_len), -1);
	one[0] -= 2; /* one byte shorter: a record, then 1 stray byte */
	off = 0;
	assert_int_equal(
	    xz_batch_next(one, bounds[1], &off, &rec, &rec_len), 1);
	assert_int_equal(
	    xz_batch_next(one, bounds[1], &off, &rec, &rec_len), -1);
	free(one);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_encode_limits),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_header_corruption),
		cmocka_unit_test(test_body_corruption),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_random_buffers),
		cmocka_unit_test(test_batch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
