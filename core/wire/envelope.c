/*
 * envelope.c - the bus envelope on the wire, and link batches.
 *
 * All multi-byte fields are little-endian and read or written a byte at a
 * time: buffers come from the network at any alignment, so no field is ever
 * accessed through a cast pointer. Decoding checks everything before it
 * fills *out, so a rejected buffer leaves *out untouched.
 */
#include "wire/envelope.h"

#include "util/topic.h"

#include <string.h>

#include <xiezhi/xiezhi.h>

static void
put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t) v;
	b[1] = (uint8_t) (v >> 8);
}

static void
put32(uint8_t *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t) (v >> (8 * i));
}

static void
put64(uint8_t *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t) (v >> (8 * i));
}

static uint16_t
get16(const uint8_t *b)
{
	return (uint16_t) (b[0] | (b[1] << 8));
}

static uint32_t
get32(const uint8_t *b)
{
	return (uint32_t) b[0] | ((uint32_t) b[1] << 8)
	    | ((uint32_t) b[2] << 16) | ((uint32_t) b[3] << 24);
}

static uint64_t
get64(const uint8_t *b)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

static int
kind_known(uint8_t k)
{
	return (k >= XZ_KIND_EVENT && k <= XZ_KIND_ACK)
	    || (k >= XZ_KIND_SUB && k <= XZ_KIND_HELLO);
}

size_t
xz_env_size(const xz_env *e)
{
	return XZ_ENV_HDR + e->topic_len + e->source_len + e->payload_len;
}

size_t
xz_env_encode(const xz_env *e, uint8_t *buf, size_t cap)
{
	size_t   n;
	uint8_t *p;

	if (e->topic == NULL || e->topic_len == 0
	    || e->topic_len > XZ_TOPIC_MAX || e->source_len > XZ_SOURCE_MAX
	    || (e->source_len > 0 && e->source == NULL)
	    || (uint64_t) e->payload_len > UINT32_MAX
	    || (e->payload_len > 0 && e->payload == NULL))
		return 0;
	n = xz_env_size(e);
	if (buf == NULL || cap < n)
		return 0;
	buf[0] = XZ_ENV_MAGIC;
	buf[1] = XZ_ENV_VERSION;
	buf[2] = e->kind;
	buf[3] = e->content_type;
	put16(buf + 4, e->flags);
	put16(buf + 6, (uint16_t) e->topic_len);
	buf[8]  = (uint8_t) e->source_len;
	buf[9]  = 0;
	buf[10] = 0;
	buf[11] = 0;
	put32(buf + 12, (uint32_t) e->payload_len);
	memcpy(buf + 16, e->id, 16);
	memcpy(buf + 32, e->corr, 16);
	put64(buf + 48, e->timestamp_us);
	put64(buf + 56, e->deadline_us);
	p = buf + XZ_ENV_HDR;
	memcpy(p, e->topic, e->topic_len);
	p += e->topic_len;
	if (e->source_len > 0)
		memcpy(p, e->source, e->source_len);
	p += e->source_len;
	if (e->payload_len > 0)
		memcpy(p, e->payload, e->payload_len);
	return n;
}

int
xz_env_decode(const uint8_t *buf, size_t len, size_t max_payload, xz_env *out)
{
	uint8_t     kind;
	uint16_t    flags;
	size_t      tl, sl, pl;
	const char *topic, *source;

	if (buf == NULL || len < XZ_ENV_HDR)
		return XZ_EPROTO;
	kind  = buf[2];
	flags = get16(buf + 4);
	tl    = get16(buf + 6);
	sl    = buf[8];
	pl    = get32(buf + 12);
	if (buf[0] != XZ_ENV_MAGIC || buf[1] != XZ_ENV_VERSION
	    || !kind_known(kind) || buf[3] > XZ_CT_TEXT
	    || (flags & ~XZ_MSG_ERROR) != 0 || tl == 0 || tl > XZ_TOPIC_MAX
	    || sl > XZ_SOURCE_MAX || buf[9] != 0 || buf[10] != 0
	    || buf[11] != 0)
		return XZ_EPROTO;
	if (pl > max_payload)
		return XZ_ETOOBIG;
	/* tl + sl <= 319 and pl < 2^32: the sum cannot overflow 64 bits. */
	if ((uint64_t) XZ_ENV_HDR + tl + sl + pl != (uint64_t) len)
		return XZ_EPROTO;
	/* A credit carries exactly one u32. */
	if (kind == XZ_KIND_CREDIT && pl != 4)
		return XZ_EPROTO;
	topic  = (const char *) buf + XZ_ENV_HDR;
	source = topic + tl;
	if (kind == XZ_KIND_SUB || kind == XZ_KIND_UNSUB) {
		if (!xz_pattern_valid(topic, tl))
			return XZ_EPROTO;
	} else if (!xz_topic_valid(topic, tl)) {
		return XZ_EPROTO;
	}
	for (size_t i = 0; i < sl; i++)
		if ((unsigned char) source[i] < 0x20
		    || (unsigned char) source[i] > 0x7e)
			return XZ_EPROTO;

	out->kind         = kind;
	out->content_type = buf[3];
	out->flags        = flags;
	memcpy(out->id, buf + 16, 16);
	memcpy(out->corr, buf + 32, 16);
	out->timestamp_us = get64(buf + 48);
	out->deadline_us  = get64(buf + 56);
	out->topic        = topic;
	out->topic_len    = tl;
	out->source       = source;
	out->source_len   = sl;
	out->payload      = buf + XZ_ENV_HDR + tl + sl;
	out->payload_len  = pl;
	return XZ_OK;
}

size_t
xz_batch_append(const xz_env *e, uint8_t *buf, size_t cap)
{
	size_t n;

	if (buf == NULL || cap < 4)
		return 0;
	n = xz_env_encode(e, buf + 4, cap - 4);
	if (n == 0 || n > UINT32_MAX)
		return 0;
	put32(buf, (uint32_t) n);
	return 4 + n;
}

int
xz_batch_next(const uint8_t *buf, size_t len, size_t *off, const uint8_t **rec,
    size_t *rec_len)
{
	size_t o = *off;
	size_t n;

	if (o == len)
		return 0;
	if (buf == NULL || o > len || len - o < 4)
		return -1;
	n = get32(buf + o);
	if (n < XZ_ENV_HDR || n > len - o - 4)
		return -1;
	*rec     = buf + o + 4;
	*rec_len = n;
	*off     = o + 4 + n;
	return 1;
}
