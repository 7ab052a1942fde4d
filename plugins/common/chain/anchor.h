/*
 * anchor.h - signed checkpoints ("anchors") of the audit chain's head.
 *
 * Every N records and every T seconds the audit plugin signs the head of
 * the chain (seq, hash, time) with an Ed25519 key kept outside the audit
 * database and appends the checkpoint, one line, to a sink file outside
 * the data folder (and may publish it on audit.anchor). `xiezhi audit
 * verify --anchors FILE` then checks the local chain against every
 * checkpoint: a consistent rewrite, a cut tail or a wiped log before the
 * last checkpoint no longer verifies.
 *
 * A line of the sink file:
 *   xiezhi-anchor-v1 node=NAME seq=N hash=HEX64 time=MS key=HEX64 sig=HEX128
 * The signature is Ed25519 (nettle, RFC 8032) over the text
 *   "xiezhi-anchor-v1\nnode=NAME\nseq=N\nhash=HEX64\ntime=MS\n".
 */
#ifndef XZ_AUDIT_ANCHOR_H
#define XZ_AUDIT_ANCHOR_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

#define XZ_ANCHOR_KEY_SIZE 32
#define XZ_ANCHOR_SIG_SIZE 64

typedef struct xz_anchor_key {
	uint8_t priv[XZ_ANCHOR_KEY_SIZE];
	uint8_t pub[XZ_ANCHOR_KEY_SIZE];
} xz_anchor_key;

typedef struct xz_anchor {
	char    node[64]; /* [A-Za-z0-9._-], no spaces */
	int64_t seq;
	char    hash[XZ_SHA256_HEX];
	int64_t time_ms;
	uint8_t pub[XZ_ANCHOR_KEY_SIZE];
	uint8_t sig[XZ_ANCHOR_SIG_SIZE];
} xz_anchor;

/* Load the private key (one line: 64 hex digits, the Ed25519 seed). With
 * create, a missing file is made (0600, random seed) and its public key
 * written beside it to PATH.pub. 0, or -1 with err. */
int xz_anchor_key_load(
    const char *path, int create, xz_anchor_key *k, char *err, size_t errlen);

/* Read a public key file (64 hex digits; a PATH.pub as written above).
 * 0 or -1 with err. */
int xz_anchor_pub_load(const char *path, uint8_t pub[XZ_ANCHOR_KEY_SIZE],
    char *err, size_t errlen);

/* Sign a: fills a->pub and a->sig from k. */
void xz_anchor_sign(xz_anchor *a, const xz_anchor_key *k);
/* 1 when a->sig is a valid signature of a by a->pub. */
int xz_anchor_sig_ok(const xz_anchor *a);

/* The sink line of a, with its newline. */
void xz_anchor_format(const xz_anchor *a, char *out, size_t n);
/* Parse one line (with or without its newline). 0 or -1. */
int xz_anchor_parse(const char *line, xz_anchor *a);

/* Append a's line to path (O_APPEND, created 0600) and fsync it. 0 or -1
 * with err. */
int xz_anchor_append(
    const char *path, const xz_anchor *a, char *err, size_t errlen);

/* The last well-formed line of path signed by pub (NULL: any key): 1 and
 * *a, 0 when there is none (or no file), -1 when it cannot be read. */
int xz_anchor_last(const char *path, const uint8_t *pub, xz_anchor *a);

typedef struct xz_anchor_verdict {
	int     ok;
	int64_t checked; /* checkpoints compared with the log */
	int64_t skipped; /* checkpoints of pruned records */
	int64_t bad_line; /* 1-based line of the first bad checkpoint */
	int64_t bad_seq; /* the record it names (0: none) */
	char    reason[24]; /* malformed|signature|rekeyed|reordered|
	                       truncated|rewritten */
	char    detail[320];
	int64_t last_seq; /* the newest checkpoint's seq */
	int     key_from_file; /* 0: the first line's key was trusted */
	int64_t reset_before; /* xz_anchor_check_reset: the last line signed
	                         before the reset (0: none) */
} xz_anchor_verdict;

/* A recorded reset of a store (`xiezhi audit reset`): the kernel's
 * audit.sys.reset record in the log. */
typedef struct xz_anchor_reset {
	int64_t seq; /* the reset record */
	int64_t time_ms; /* its time */
	char    who[128];
	char    reason[512];
} xz_anchor_reset;

/*
 * Check the log in db against every checkpoint of anchors_path signed by
 * pub (NULL: trust the key of the first line, and refuse any other). A
 * checkpoint of seq S must match record S's stored hash (or the pruned
 * prefix's checkpoint when S is its last seq); S beyond the log is a cut
 * tail or a wiped log. Returns 0 (v says ok or not) or -1 when a file
 * cannot be read (v->detail).
 */
int xz_anchor_check(sqlite3 *db, const char *anchors_path, const uint8_t *pub,
    xz_anchor_verdict *v);

/* The newest recorded reset of store in db: 1 and *r, 0 when there is
 * none (or the log cannot be read). */
int xz_anchor_last_reset(sqlite3 *db, const char *store, xz_anchor_reset *r);

/*
 * xz_anchor_check across the recorded reset r: the checkpoints signed up
 * to r's time sign the log that was lost, and are checked for their
 * signature and key only; the later ones are checked against the log, and
 * one of them must sign r's record or a later one (the reset is itself
 * anchored), else v says reason "unanchored". v->reset_before is the last
 * line signed before the reset. Returns as xz_anchor_check.
 */
int xz_anchor_check_reset(sqlite3 *db, const char *anchors_path,
    const uint8_t *pub, const xz_anchor_reset *r, xz_anchor_verdict *v);

#endif
