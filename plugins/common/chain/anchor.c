/* anchor.c - signed checkpoints of the audit chain's head (see anchor.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/eddsa.h>

#include "anchor.h"
#include "chain.h"

static int
hex_decode(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		if (!strchr("0123456789abcdefABCDEF", s[2 * i])
		    || !strchr("0123456789abcdefABCDEF", s[2 * i + 1]))
			return -1;
		out[i] = (uint8_t) v;
	}
	return 0;
}

/* The first line of a small file, without its newline, into buf. */
static int
read_line(const char *path, char *buf, size_t n, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		snprintf(
		    err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (fgets(buf, (int) n, f) == NULL) {
		fclose(f);
		snprintf(err, errlen, "%s is empty", path);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

static int
write_new(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	size_t  len = strlen(text);
	ssize_t w   = write(fd, text, len);
	if (w != (ssize_t) len || fsync(fd) != 0) {
		close(fd);
		unlink(path);
		return -1;
	}
	return close(fd);
}

int
xz_anchor_key_load(
    const char *path, int create, xz_anchor_key *k, char *err, size_t errlen)
{
	char line[160], pubpath[4096], hex[2 * XZ_ANCHOR_KEY_SIZE + 2];

	if (access(path, F_OK) != 0 && errno == ENOENT && create) {
		if (getrandom(k->priv, sizeof(k->priv), 0)
		    != (ssize_t) sizeof(k->priv)) {
			snprintf(err, errlen, "no random bytes for a key: %s",
			    strerror(errno));
			return -1;
		}
		xz_hex_encode(k->priv, sizeof(k->priv), hex);
		strcat(hex, "\n");
		if (write_new(path, hex, 0600) != 0) {
			snprintf(err, errlen, "cannot create the key %s: %s",
			    path, strerror(errno));
			return -1;
		}
		ed25519_sha512_public_key(k->pub, k->priv);
		snprintf(pubpath, sizeof(pubpath), "%s.pub", path);
		xz_hex_encode(k->pub, sizeof(k->pub), hex);
		strcat(hex, "\n");
		unlink(pubpath);
		if (write_new(pubpath, hex, 0644) != 0) {
			snprintf(err, errlen, "cannot write %s: %s", pubpath,
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	if (read_line(path, line, sizeof(line), err, errlen) != 0)
		return -1;
	if (strlen(line) != 2 * XZ_ANCHOR_KEY_SIZE
	    || hex_decode(line, k->priv, sizeof(k->priv)) != 0) {
		snprintf(err, errlen,
		    "%s: not an anchor key (64 hex digits expected)", path);
		return -1;
	}
	ed25519_sha512_public_key(k->pub, k->priv);
	return 0;
}

int
xz_anchor_pub_load(const char *path, uint8_t pub[XZ_ANCHOR_KEY_SIZE],
    char *err, size_t errlen)
{
	char line[160];

	if (read_line(path, line, sizeof(line), err, errlen) != 0)
		return -1;
	if (strlen(line) != 2 * XZ_ANCHOR_KEY_SIZE
	    || hex_decode(line, pub, XZ_ANCHOR_KEY_SIZE) != 0) {
		snprintf(err, errlen,
		    "%s: not a public key (64 hex digits expected)", path);
		return -1;
	}
	return 0;
}

static size_t
signed_text(const xz_anchor *a, char *out, size_t n)
{
	int w = snprintf(out, n,
	    "xiezhi-anchor-v1\nnode=%s\nseq=%" PRId64
	    "\nhash=%s\ntime=%" PRId64 "\n",
	    a->node, a->seq, a->hash, a->time_ms);
	return w < 0 ? 0 : (size_t) w < n ? (size_t) w : n - 1;
}

void
xz_anchor_sign(xz_anchor *a, const xz_anchor_key *k)
{
	char   msg[256];
	size_t n = signed_text(a, msg, sizeof(msg));

	memcpy(a->pub, k->pub, sizeof(a->pub));
	ed25519_sha512_sign(k->pub, k->priv, n, (const uint8_t *) msg, a->sig);
}

int
xz_anchor_sig_ok(const xz_anchor *a)
{
	char   msg[256];
	size_t n = signed_text(a, msg, sizeof(msg));

	return ed25519_sha512_verify(a->pub, n, (const uint8_t *) msg, a->sig);
}

void
xz_anchor_format(const xz_anchor *a, char *out, size_t n)
{
	char key[2 * XZ_ANCHOR_KEY_SIZE + 1], sig[2 * XZ_ANCHOR_SIG_SIZE + 1];

	xz_hex_encode(a->pub, sizeof(a->pub), key);
	xz_hex_encode(a->sig, sizeof(a->sig), sig);
	snprintf(out, n,
	    "xiezhi-anchor-v1 node=%s seq=%" PRId64 " hash=%s time=%" PRId64
	    " key=%s sig=%s\n",
	    a->node, a->seq, a->hash, a->time_ms, key, sig);
}

int
xz_anchor_parse(const char *line, xz_anchor *a)
{
	char      node[64], hash[80], key[80], sig[160];
	long long seq, t;
	int       end = 0;

	memset(a, 0, sizeof(*a));
	if (sscanf(line,
	        "xiezhi-anchor-v1 node=%63s seq=%lld hash=%79s time=%lld "
	        "key=%79s sig=%159s%n",
	        node, &seq, hash, &t, key, sig, &end)
	        != 6
	    || strlen(hash) != 64 || strlen(key) != 64 || strlen(sig) != 128
	    || seq < 0)
		return -1;
	if (line[end] != '\0' && line[end] != '\n')
		return -1;
	snprintf(a->node, sizeof(a->node), "%s", node);
	a->seq     = seq;
	a->time_ms = t;
	memcpy(a->hash, hash, XZ_SHA256_HEX);
	for (char *p = a->hash; *p; p++)
		if (!strchr("0123456789abcdef", *p))
			return -1;
	if (hex_decode(key, a->pub, sizeof(a->pub)) != 0
	    || hex_decode(sig, a->sig, sizeof(a->sig)) != 0)
		return -1;
	return 0;
}

int
xz_anchor_append(
    const char *path, const xz_anchor *a, char *err, size_t errlen)
{
	char line[512];
	int  fd;

	xz_anchor_format(a, line, sizeof(line));
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(
		    err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	size_t  len = strlen(line);
	ssize_t w   = write(fd, line, len);
	if (w != (ssize_t) len || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path,
		    w < 0 || w == (ssize_t) len ? strerror(errno)
		                                : "short write");
		close(fd);
		return -1;
	}
	if (close(fd) != 0) {
		snprintf(
		    err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
xz_anchor_last(const char *path, const uint8_t *pub, xz_anchor *a)
{
	FILE     *f = fopen(path, "r");
	char      line[1024];
	xz_anchor t;
	int       found = 0;

	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (xz_anchor_parse(line, &t) != 0 || !xz_anchor_sig_ok(&t))
			continue;
		if (pub != NULL && memcmp(pub, t.pub, sizeof(t.pub)) != 0)
			continue;
		*a    = t;
		found = 1;
	}
	fclose(f);
	return found;
}

static void bad(xz_anchor_verdict *v, int64_t line, int64_t seq,
    const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
bad(xz_anchor_verdict *v, int64_t line, int64_t seq, const char *reason,
    const char *fmt, ...)
{
	va_list ap;

	v->ok       = 0;
	v->bad_line = line;
	v->bad_seq  = seq;
	snprintf(v->reason, sizeof(v->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
}

/* The stored hash of record seq: 1 found, 0 absent, -1 error. */
static int
record_hash(sqlite3 *db, int64_t seq, char out[XZ_SHA256_HEX])
{
	sqlite3_stmt *st = NULL;
	int           rc;

	if (sqlite3_prepare_v2(
	        db, "SELECT hash FROM audit_log WHERE seq = ?", -1, &st, NULL)
	    != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, seq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *h = sqlite3_column_text(st, 0);
		snprintf(out, XZ_SHA256_HEX, "%s", h ? (const char *) h : "");
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Checkpoint row of a pruned prefix: seq and hash, 0 when none. */
static int64_t
pruned_to(sqlite3 *db, char hash[XZ_SHA256_HEX])
{
	sqlite3_stmt *st = NULL;
	int64_t       s  = 0;

	hash[0] = '\0';
	if (sqlite3_prepare_v2(db,
	        "SELECT last_seq, last_hash FROM audit_checkpoint WHERE id = "
	        "1",
	        -1, &st, NULL)
	    != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *h = sqlite3_column_text(st, 1);
		s                      = sqlite3_column_int64(st, 0);
		snprintf(hash, XZ_SHA256_HEX, "%s", h ? (const char *) h : "");
	}
	sqlite3_finalize(st);
	return s;
}

/* xz_anchor_check; checkpoints of time <= reset_ms only need their
 * signature and key (INT64_MIN: no reset). */
static int
check_log(sqlite3 *db, const char *anchors_path, const uint8_t *pub,
    int64_t reset_ms, xz_anchor_verdict *v)
{
	FILE     *f;
	char      line[1024], cp_hash[XZ_SHA256_HEX], h[XZ_SHA256_HEX];
	uint8_t   trusted[XZ_ANCHOR_KEY_SIZE];
	int       have_key = pub != NULL;
	int64_t   n = 0, prev_seq = -1, prev_time = INT64_MIN, last = 0, cp;
	xz_anchor a;

	memset(v, 0, sizeof(*v));
	v->ok            = 1;
	v->key_from_file = have_key;
	if (pub != NULL)
		memcpy(trusted, pub, sizeof(trusted));
	f = fopen(anchors_path, "r");
	if (f == NULL) {
		snprintf(v->detail, sizeof(v->detail), "cannot read %s: %s",
		    anchors_path, strerror(errno));
		v->ok = 0;
		return -1;
	}
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(v->detail, sizeof(v->detail),
		    "cannot read the audit log: %s", sqlite3_errmsg(db));
		fclose(f);
		v->ok = 0;
		return -1;
	}
	cp = pruned_to(db, cp_hash);
	{
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db,
		        "SELECT coalesce(max(seq), 0) FROM audit_log", -1, &st,
		        NULL)
		        == SQLITE_OK
		    && sqlite3_step(st) == SQLITE_ROW)
			last = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (last < cp)
			last = cp;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		n++;
		if (line[0] == '\n' || line[0] == '#')
			continue;
		if (xz_anchor_parse(line, &a) != 0) {
			bad(v, n, 0, "malformed",
			    "checkpoint %lld (line %lld of %s) is not a "
			    "checkpoint line",
			    (long long) n, (long long) n, anchors_path);
			break;
		}
		if (!have_key) {
			memcpy(trusted, a.pub, sizeof(trusted));
			have_key = 1;
		}
		if (!xz_anchor_sig_ok(&a)) {
			bad(v, n, a.seq, "signature",
			    "checkpoint %lld (record %lld): the signature "
			    "does not verify (the line was altered or forged)",
			    (long long) n, (long long) a.seq);
			break;
		}
		if (memcmp(a.pub, trusted, sizeof(trusted)) != 0) {
			bad(v, n, a.seq, "rekeyed",
			    "checkpoint %lld (record %lld) is signed by "
			    "another key than the node's",
			    (long long) n, (long long) a.seq);
			break;
		}
		if (a.time_ms <= reset_ms) { /* signs the log that was reset */
			v->reset_before = n;
			prev_time       = a.time_ms;
			continue;
		}
		if (a.seq < prev_seq || a.time_ms < prev_time) {
			bad(v, n, a.seq, "reordered",
			    "checkpoint %lld (record %lld) goes back from "
			    "record %lld: the chain was restarted or the sink "
			    "reordered",
			    (long long) n, (long long) a.seq,
			    (long long) prev_seq);
			break;
		}
		prev_seq    = a.seq;
		prev_time   = a.time_ms;
		v->last_seq = a.seq;
		if (a.seq == 0)
			continue;
		if (a.seq > last) {
			bad(v, n, a.seq, "truncated",
			    "checkpoint %lld signs record %lld but the log "
			    "ends at record %lld (cut or wiped)",
			    (long long) n, (long long) a.seq,
			    (long long) last);
			break;
		}
		if (a.seq < cp) {
			v->skipped++;
			continue;
		}
		int rc = a.seq == cp
		    ? (snprintf(h, sizeof(h), "%s", cp_hash), 1)
		    : record_hash(db, a.seq, h);
		if (rc < 0) {
			snprintf(v->detail, sizeof(v->detail),
			    "cannot read the audit log: %s",
			    sqlite3_errmsg(db));
			v->ok = 0;
			break;
		}
		if (rc == 0) {
			bad(v, n, a.seq, "truncated",
			    "checkpoint %lld signs record %lld, which is "
			    "missing from the log",
			    (long long) n, (long long) a.seq);
			break;
		}
		if (strcmp(h, a.hash) != 0) {
			bad(v, n, a.seq, "rewritten",
			    "checkpoint %lld signs record %lld with hash "
			    "%.16s..., the log has %.16s...: the chain was "
			    "rewritten at or before record %lld",
			    (long long) n, (long long) a.seq, a.hash, h,
			    (long long) a.seq);
			break;
		}
		v->checked++;
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	fclose(f);
	if (v->ok && v->detail[0] == '\0' && n == 0)
		snprintf(v->detail, sizeof(v->detail), "%s has no checkpoints",
		    anchors_path);
	return v->ok || v->bad_line > 0 ? 0 : -1;
}

int
xz_anchor_check(sqlite3 *db, const char *anchors_path, const uint8_t *pub,
    xz_anchor_verdict *v)
{
	return check_log(db, anchors_path, pub, INT64_MIN, v);
}

int
xz_anchor_last_reset(sqlite3 *db, const char *store, xz_anchor_reset *r)
{
	sqlite3_stmt *st    = NULL;
	int           found = 0;

	memset(r, 0, sizeof(*r));
	if (sqlite3_prepare_v2(db,
	        "SELECT seq, time, who, purpose FROM audit_log WHERE topic = "
	        "'audit.sys.reset' AND subject_type = 'store' AND "
	        "subject_id = ? AND source = 'sys' ORDER BY seq DESC LIMIT 1",
	        -1, &st, NULL)
	    != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, store, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t   = sqlite3_column_text(st, 1);
		const unsigned char *w   = sqlite3_column_text(st, 2);
		const unsigned char *why = sqlite3_column_text(st, 3);
		r->seq                   = sqlite3_column_int64(st, 0);
		r->time_ms
		    = t != NULL ? strtoll((const char *) t, NULL, 10) : 0;
		snprintf(
		    r->who, sizeof(r->who), "%s", w ? (const char *) w : "?");
		snprintf(r->reason, sizeof(r->reason), "%s",
		    why ? (const char *) why : "");
		found = r->time_ms > 0;
	}
	sqlite3_finalize(st);
	return found;
}

int
xz_anchor_check_reset(sqlite3 *db, const char *anchors_path,
    const uint8_t *pub, const xz_anchor_reset *r, xz_anchor_verdict *v)
{
	int rc = check_log(db, anchors_path, pub, r->time_ms, v);
	if (rc == 0 && v->ok && (v->checked == 0 || v->last_seq < r->seq))
		bad(v, 0, r->seq, "unanchored",
		    "record %lld: the reset is not anchored: no checkpoint "
		    "after it signs its record yet",
		    (long long) r->seq);
	return rc;
}
