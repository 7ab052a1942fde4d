/*
 * envelope.h - the bus envelope on the wire, and link batches.
 *
 * Every message that crosses a process boundary is one envelope: a fixed
 * 64-byte little-endian header, then the topic, the source name and the
 * payload, with nothing after it.
 *
 *   off size field
 *     0   1  magic 'X' (0x58)
 *     1   1  version (1)
 *     2   1  kind (enum xz_kind, or a link control kind below)
 *     3   1  content type (enum xz_content_type)
 *     4   2  flags (XZ_MSG_*; unknown bits rejected)
 *     6   2  topic length (1..255)
 *     8   1  source length (0..64)
 *     9   3  reserved, must be 0
 *    12   4  payload length (<= the node's max_payload)
 *    16  16  id
 *    32  16  correlation id
 *    48   8  timestamp, microseconds since the epoch
 *    56   8  deadline, microseconds since the epoch (0: none)
 *    64      topic, source, payload
 *
 * A link message (one nng message) is a batch: one or more records of
 * [u32 length LE][envelope of that length], filling the message exactly.
 *
 * Decoding never trusts its input: every length is checked against the
 * buffer and the limits, the topic (pattern for SUB/UNSUB) is validated,
 * reserved bytes must be zero. A rejected buffer is never partially used.
 */
#ifndef XZ_ENVELOPE_H
#define XZ_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#define XZ_ENV_MAGIC 0x58
#define XZ_ENV_VERSION 1
#define XZ_ENV_HDR 64
#define XZ_SOURCE_MAX 64

/*
 * Flow control on a link, in both directions, counted in batches (one nng
 * message each): a side may have at most this many batches holding
 * anything but CREDITs in flight to the other before the other has
 * granted more. CREDIT(n) from the node to a peer grants n more batches;
 * CREDIT(n) from a peer acknowledges n batches it took off its socket.
 * A batch of CREDITs only never needs (nor uses) a credit: credits must
 * always be able to flow, or each side could wait for the other's.
 */
#define XZ_LINK_CREDIT_INITIAL 64

/* Link control kinds (never seen by plugins). */
enum xz_link_kind {
	XZ_KIND_SUB    = 16, /* topic = pattern; payload = queue group or "" */
	XZ_KIND_UNSUB  = 17, /* topic = pattern */
	XZ_KIND_CREDIT = 18, /* payload = u32 LE batches the peer consumed */
	XZ_KIND_HELLO  = 19, /* payload = JSON {"name":..}; first message */
};

/* A decoded envelope: pointers into the decoded buffer, no copies. */
typedef struct xz_env {
	uint8_t        kind;
	uint8_t        content_type;
	uint16_t       flags;
	uint8_t        id[16];
	uint8_t        corr[16];
	uint64_t       timestamp_us;
	uint64_t       deadline_us;
	const char    *topic; /* not NUL-terminated on decode */
	size_t         topic_len;
	const char    *source;
	size_t         source_len;
	const uint8_t *payload;
	size_t         payload_len;
} xz_env;

/* Bytes xz_env_encode will write. */
size_t xz_env_size(const xz_env *e);
/* Encode into buf; returns bytes written, or 0 if cap is too small or a
 * field is out of range (topic 1..255, source 0..64, payload < 4 GiB). */
size_t xz_env_encode(const xz_env *e, uint8_t *buf, size_t cap);
/*
 * Decode exactly len bytes. 0 on success, else an XZ_E* code:
 * XZ_EPROTO (bad magic, version, kind, content type, flags, reserved,
 * lengths that do not add up, invalid topic/pattern, a source byte outside
 * printable ASCII 0x20..0x7e, a CREDIT payload other than 4 bytes),
 * XZ_ETOOBIG (payload over max_payload). On error *out is not touched.
 */
int xz_env_decode(
    const uint8_t *buf, size_t len, size_t max_payload, xz_env *out);

/* Batch iteration: returns 1 and the next record in (*rec, *rec_len),
 * 0 at a clean end, or -1 (XZ_EPROTO) on a truncated or zero-length
 * record (or one shorter than XZ_ENV_HDR, which no envelope is). *off
 * starts at 0. */
int xz_batch_next(const uint8_t *buf, size_t len, size_t *off,
    const uint8_t **rec, size_t *rec_len);
/* Append one record ([u32 length][envelope]) at buf: returns the bytes
 * written (4 + xz_env_size(e)), or 0 as xz_env_encode does. */
size_t xz_batch_append(const xz_env *e, uint8_t *buf, size_t cap);

#endif
