/*
 * chain.h - the hash-chained audit log in SQLite: schema, canonical record
 * serialisation, append and verification. The library xz_audit_chain,
 * linked by the audit plugin and by xzcore, so `xiezhi audit verify -f
 * FILE` runs the same code as the plugin's audit.verify request.
 *
 * A record's hash is SHA-256 over "xiezhi-audit-v1\n" followed by one line
 * per field in a fixed order: "seq=N\n", "at_ms=N\n", then for each text
 * field "name=LEN:VALUE\n" (or "name=-\n" for NULL), and last
 * "prev=HEX\n" (the previous record's hash; 64 zeros for the first record
 * or the checkpoint hash after a prune). Lengths make the encoding
 * unambiguous.
 */
#ifndef XZ_AUDIT_CHAIN_H
#define XZ_AUDIT_CHAIN_H

#include <sqlite3.h>
#include <stdint.h>

#include "sha256.h"

/* Text fields of a record, in hashing (and column) order. */
enum xz_audit_field {
	XZ_AF_EVENT_ID, /* bus message id (hex), for idempotence */
	XZ_AF_TOPIC, /* the audit.* topic it came on */
	XZ_AF_SOURCE, /* publishing plugin or link peer */
	XZ_AF_WHO,
	XZ_AF_ROLE,
	XZ_AF_AGENCY,
	XZ_AF_ACTION, /* CREATE|UPDATE|VIEW|EXPORT|DISCLOSE|REFUSE|PRUNE|.. */
	XZ_AF_SUBJECT_TYPE,
	XZ_AF_SUBJECT_ID,
	XZ_AF_PURPOSE,
	XZ_AF_RECIPIENT,
	XZ_AF_SERVICE,
	XZ_AF_OUTCOME,
	XZ_AF_CORR,
	XZ_AF_TIME, /* the time the publisher claims, as given */
	XZ_AF_DETAIL, /* other keys of the event, compact sorted JSON */
	XZ_AF_COUNT
};

extern const char *const xz_audit_field_names[XZ_AF_COUNT];

typedef struct xz_audit_rec {
	int64_t     seq;
	int64_t     at_ms; /* kernel clock when recorded */
	char        at[32]; /* the same, ISO 8601 UTC with ms */
	const char *f[XZ_AF_COUNT]; /* NULL allowed; not owned */
	char        prev_hash[XZ_SHA256_HEX];
	char        hash[XZ_SHA256_HEX];
} xz_audit_rec;

typedef struct xz_audit_verdict {
	int     ok;
	int64_t records; /* records present (after any pruned prefix) */
	int64_t first_bad_seq; /* when !ok */
	char    reason[16]; /* edited|deleted|reordered|truncated|inserted */
	char    detail[256]; /* a sentence for people */
	int64_t last_seq; /* head of the chain as walked */
	char    last_hash[XZ_SHA256_HEX];
	int64_t pruned_to; /* seqs 1..pruned_to were pruned (0: none) */
	int     head_file; /* 1 checked, 0 missing, -1 not asked */
} xz_audit_verdict;

/* Create the tables, indexes and append-only triggers (idempotent).
 * 0, or -1 with the SQLite message in err (size errlen). */
int xz_audit_schema(sqlite3 *db, char *err, size_t errlen);

/* Format ms since the epoch as ISO 8601 UTC with milliseconds. */
void xz_audit_iso(int64_t ms, char out[32]);
/* Parse "YYYY-MM-DD[THH:MM[:SS[.mmm]]][Z]" (UTC) or an integer of ms.
 * end_of_day: a date alone means its last millisecond. 0 or -1. */
int xz_audit_parse_time(const char *s, int end_of_day, int64_t *ms);

/* Compute r->hash from r->seq, r->at_ms, r->at, r->f and r->prev_hash. */
void xz_audit_hash(xz_audit_rec *r);

/*
 * The current head: the last record's seq and hash, or the checkpoint of
 * a pruned prefix, or (0, zeros) for an empty log. 0 or -1.
 */
int xz_audit_head(sqlite3 *db, int64_t *seq, char hash[XZ_SHA256_HEX]);

/*
 * Append r after the head (seq, prev_hash, hash are filled in) and move
 * the anchor row, inside the caller's transaction. 0, 1 when a record with
 * the same event id is already there (nothing written), -1 on error.
 */
int xz_audit_insert(sqlite3 *db, xz_audit_rec *r, char *err, size_t errlen);

/*
 * The same, with the statements prepared once per connection: a writer
 * holds them (owned; prepared on first use, finalized by
 * xz_audit_writer_fini, which must run before the connection closes).
 */
enum { XZ_AW_HEAD, XZ_AW_CHECKPOINT, XZ_AW_INSERT, XZ_AW_ANCHOR, XZ_AW_N };
typedef struct xz_audit_writer {
	sqlite3             *db; /* not owned */
	struct sqlite3_stmt *st[XZ_AW_N];
} xz_audit_writer;
void xz_audit_writer_init(xz_audit_writer *w, sqlite3 *db);
void xz_audit_writer_fini(xz_audit_writer *w);
int  xz_audit_writer_head(
     xz_audit_writer *w, int64_t *seq, char hash[XZ_SHA256_HEX]);
int xz_audit_writer_insert(
    xz_audit_writer *w, xz_audit_rec *r, char *err, size_t errlen);
/*
 * For a batch in one transaction: append r after the given head (seq,
 * hash: the head the caller read once with xz_audit_writer_head and moved
 * with each record it wrote since), without moving the anchor row; the
 * caller moves it once with xz_audit_writer_anchor before its commit.
 * The record is one INSERT statement, so a failed one leaves nothing of
 * itself behind. Returns what xz_audit_writer_insert returns.
 */
int xz_audit_writer_insert_after(xz_audit_writer *w, xz_audit_rec *r,
    int64_t head_seq, const char *head_hash, char *err, size_t errlen);
/* Move the anchor row to (seq, hash), inside the caller's transaction.
 * 0 or -1 (err set). */
int xz_audit_writer_anchor(xz_audit_writer *w, int64_t seq, const char *hash,
    char *err, size_t errlen);

/*
 * Write "SEQ HASH\n" to path so that no reader sees part of it: over the
 * old line in place (one pwrite under an exclusive flock, which
 * xz_audit_verify's read waits for) when path is a regular file of one
 * link that no reader holds locked, else a temporary file renamed over
 * it. 0/-1.
 */
int xz_audit_head_write(const char *path, int64_t seq, const char *hash);
/* The side file of a database file: "x/audit.db" -> "x/audit.head". The
 * result is malloc'd; the caller frees it. */
char *xz_audit_head_path(const char *db_path);

/*
 * Walk the whole chain and check the anchor row and, when head_path is
 * not NULL, the side file. Fills *v. Returns 0 (v says ok or not), or -1
 * when the database cannot be read (v->detail says why).
 */
int xz_audit_verify(sqlite3 *db, const char *head_path, xz_audit_verdict *v);

/*
 * Delete the prefix of records recorded before cutoff_ms and write the
 * checkpoint (last pruned seq and its hash), inside the caller's
 * transaction; the caller then appends the PRUNE record whose detail
 * carries {"pruned_from","pruned_to","pruned_hash"}. 1 and the range and
 * hash when something was pruned, 0 when nothing was, -1 on error.
 */
int xz_audit_prune(sqlite3 *db, int64_t cutoff_ms, int64_t now_ms,
    int64_t *from, int64_t *to, char hash[XZ_SHA256_HEX], char *err,
    size_t errlen);

#endif
