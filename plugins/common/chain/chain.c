/*
 * chain.c - the hash-chained audit log in SQLite (see chain.h).
 *
 * Tables:
 *   audit_log        the records; UPDATE always refused and DELETE refused
 *                    unless the prune gate is open (triggers: they stop
 *                    mistakes and casual edits, not an attacker, who can
 *                    drop them; the hashes are what detects tampering)
 *   audit_anchor     one row: the last seq and hash, written in the same
 *                    transaction as each record (catches a cut tail)
 *   audit_checkpoint one row after a prune: the last pruned seq and its
 *                    hash, where the remaining chain starts
 *   audit_gate       one row: 1 while the plugin prunes
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <nettle/sha2.h>

#include "chain.h"

const char *const xz_audit_field_names[XZ_AF_COUNT]
    = { "event_id", "topic", "source", "who", "role", "agency", "action",
	      "subject_type", "subject_id", "purpose", "recipient", "service",
	      "outcome", "corr", "time", "detail" };

static const char zero_hash[XZ_SHA256_HEX]
    = "0000000000000000000000000000000000000000000000000000000000000000";

static void
set_err(char *err, size_t errlen, const char *what, sqlite3 *db)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", what,
		    db ? sqlite3_errmsg(db) : "out of memory");
}

int
xz_audit_schema(sqlite3 *db, char *err, size_t errlen)
{
	static const char sql[]
	    = "CREATE TABLE IF NOT EXISTS audit_log ("
	      " seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL,"
	      " at TEXT NOT NULL, event_id TEXT, topic TEXT, source TEXT,"
	      " who TEXT, role TEXT, agency TEXT, action TEXT,"
	      " subject_type TEXT, subject_id TEXT, purpose TEXT,"
	      " recipient TEXT, service TEXT, outcome TEXT, corr TEXT,"
	      " time TEXT, detail TEXT, prev_hash TEXT NOT NULL,"
	      " hash TEXT NOT NULL);"
	      "CREATE UNIQUE INDEX IF NOT EXISTS audit_log_event ON"
	      " audit_log(event_id) WHERE event_id IS NOT NULL;"
	      "CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log(at_ms);"
	      /* Stores made before kept indexes on (subject_type,
	       * subject_id), who and hash: no query used them (audit.query
	       * goes by at_ms, its other filters are optional; hash is
	       * looked up only to classify a broken chain) and each record
	       * paid for three more B-tree inserts. */
	      "DROP INDEX IF EXISTS audit_log_subject;"
	      "DROP INDEX IF EXISTS audit_log_who;"
	      "DROP INDEX IF EXISTS audit_log_hash;"
	      "CREATE TABLE IF NOT EXISTS audit_anchor ("
	      " id INTEGER PRIMARY KEY CHECK (id = 1),"
	      " last_seq INTEGER NOT NULL, last_hash TEXT NOT NULL);"
	      "CREATE TABLE IF NOT EXISTS audit_checkpoint ("
	      " id INTEGER PRIMARY KEY CHECK (id = 1),"
	      " last_seq INTEGER NOT NULL, last_hash TEXT NOT NULL,"
	      " at_ms INTEGER NOT NULL);"
	      "CREATE TABLE IF NOT EXISTS audit_gate ("
	      " id INTEGER PRIMARY KEY CHECK (id = 1), open INTEGER NOT NULL);"
	      "INSERT OR IGNORE INTO audit_gate(id, open) VALUES (1, 0);"
	      "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE"
	      " ON audit_log BEGIN"
	      " SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
	      "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE"
	      " ON audit_log WHEN (SELECT open FROM audit_gate WHERE id = 1)"
	      " IS NOT 1 BEGIN"
	      " SELECT RAISE(ABORT, 'audit_log is append-only'); END;";
	char *e = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &e) != SQLITE_OK) {
		if (err != NULL && errlen > 0)
			snprintf(
			    err, errlen, "audit schema: %s", e ? e : "failed");
		sqlite3_free(e);
		return -1;
	}
	return 0;
}

/* The n decimal digits of v (0 <= v < 10^n) at p. */
static void
put_digits(char *p, int v, int n)
{
	while (n-- > 0) {
		p[n] = (char) ('0' + v % 10);
		v /= 10;
	}
}

void
xz_audit_iso(int64_t ms, char out[32])
{
	time_t    t = (time_t) (ms / 1000);
	struct tm tm;

	char buf[96];

	gmtime_r(&t, &tm);
	/* by hand where the format's widths hold (every record: snprintf
	 * showed in profiles), the same text as the snprintf below */
	if (ms >= 0 && tm.tm_year + 1900 >= 0 && tm.tm_year + 1900 <= 9999) {
		put_digits(out, tm.tm_year + 1900, 4);
		out[4] = '-';
		put_digits(out + 5, tm.tm_mon + 1, 2);
		out[7] = '-';
		put_digits(out + 8, tm.tm_mday, 2);
		out[10] = 'T';
		put_digits(out + 11, tm.tm_hour, 2);
		out[13] = ':';
		put_digits(out + 14, tm.tm_min, 2);
		out[16] = ':';
		put_digits(out + 17, tm.tm_sec, 2);
		out[19] = '.';
		put_digits(out + 20, (int) (ms % 1000), 3);
		out[23] = 'Z';
		out[24] = '\0';
		return;
	}
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int) (ms % 1000));
	snprintf(out, 32, "%.31s", buf);
}

int
xz_audit_parse_time(const char *s, int end_of_day, int64_t *ms)
{
	struct tm tm;
	int       y, mo, d, h = 0, mi = 0, sec = 0, milli = 0, n = 0;
	char     *end;

	if (s == NULL || *s == '\0')
		return -1;
	errno       = 0;
	long long v = strtoll(s, &end, 10);
	if (*end == '\0' && errno == 0 && v >= 0 && strlen(s) > 8) {
		*ms = v;
		return 0;
	}
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
		return -1;
	const char *p         = s + n;
	int         date_only = 1;
	if (*p == 'T' || *p == ' ') {
		int m     = 0;
		date_only = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &m) != 2)
			return -1;
		p += 1 + m;
		if (*p == ':') {
			if (sscanf(p + 1, "%2d%n", &sec, &m) != 1)
				return -1;
			p += 1 + m;
			if (*p == '.') {
				if (sscanf(p + 1, "%3d%n", &milli, &m) != 1)
					return -1;
				for (int i = m; i < 3; i++)
					milli *= 10;
				p += 1 + m;
			}
		}
	}
	if (*p == 'Z')
		p++;
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23
	    || mi > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon  = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min  = mi;
	tm.tm_sec  = sec;
	time_t t   = timegm(&tm);
	if (t == (time_t) -1)
		return -1;
	*ms = (int64_t) t * 1000 + milli;
	if (date_only && end_of_day)
		*ms += 86400000 - 1;
	return 0;
}

static void
put(struct sha256_ctx *s, const void *p, size_t n)
{
	sha256_update(s, n, p);
}

/* "name=" at p (name: a field name, shorter than 24); returns the end. */
static char *
put_name(char *p, const char *name)
{
	size_t n = strlen(name);

	memcpy(p, name, n);
	p[n] = '=';
	return p + n + 1;
}

/* The decimal digits of v at p; returns the end. By hand: this runs
 * twice for every field of every record (snprintf showed in profiles). */
static char *
put_dec(char *p, int64_t v)
{
	char     tmp[24];
	int      n = 0;
	uint64_t u = v < 0 ? 0 - (uint64_t) v : (uint64_t) v;

	if (v < 0)
		*p++ = '-';
	do {
		tmp[n++] = (char) ('0' + u % 10);
		u /= 10;
	} while (u != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

static void
put_num(struct sha256_ctx *s, const char *name, int64_t v)
{
	char  line[64];
	char *p = put_dec(put_name(line, name), v);

	*p++ = '\n';
	put(s, line, (size_t) (p - line));
}

static void
put_text(struct sha256_ctx *s, const char *name, const char *v)
{
	char   head[64];
	char  *p   = put_name(head, name);
	size_t len = v ? strlen(v) : 0;

	if (v == NULL) {
		*p++ = '-';
	} else {
		p    = put_dec(p, (int64_t) len);
		*p++ = ':';
	}
	put(s, head, (size_t) (p - head));
	if (v != NULL)
		put(s, v, len);
	put(s, "\n", 1);
}

void
xz_audit_hash(xz_audit_rec *r)
{
	struct sha256_ctx s;
	uint8_t           d[SHA256_DIGEST_SIZE];

	sha256_init(&s);
	put(&s, "xiezhi-audit-v1\n", 16);
	put_num(&s, "seq", r->seq);
	put_num(&s, "at_ms", r->at_ms);
	put_text(&s, "at", r->at);
	for (int i = 0; i < XZ_AF_COUNT; i++)
		put_text(&s, xz_audit_field_names[i], r->f[i]);
	put_text(&s, "prev", r->prev_hash);
	sha256_digest(&s, sizeof(d), d);
	xz_hex_encode(d, sizeof(d), r->hash);
}

static void
copy_hash(char dst[XZ_SHA256_HEX], const unsigned char *src)
{
	snprintf(dst, XZ_SHA256_HEX, "%s", src ? (const char *) src : "");
}

static const char *const aw_sql[XZ_AW_N] = {
	[XZ_AW_HEAD] = "SELECT seq, hash FROM audit_log ORDER BY seq DESC "
	               "LIMIT 1",
	[XZ_AW_CHECKPOINT]
	= "SELECT last_seq, last_hash FROM audit_checkpoint WHERE id = 1",
	[XZ_AW_INSERT] = "INSERT INTO audit_log (seq, at_ms, at, event_id, "
	                 "topic, source, who, role, agency, action, "
	                 "subject_type, subject_id, purpose, recipient, "
	                 "service, outcome, corr, time, detail, prev_hash, "
	                 "hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
	                 "?,?,?)",
	[XZ_AW_ANCHOR] = "INSERT INTO audit_anchor (id, last_seq, last_hash)"
	                 " VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET"
	                 " last_seq = excluded.last_seq,"
	                 " last_hash = excluded.last_hash",
};

void
xz_audit_writer_init(xz_audit_writer *w, sqlite3 *db)
{
	memset(w, 0, sizeof(*w));
	w->db = db;
}

void
xz_audit_writer_fini(xz_audit_writer *w)
{
	for (int i = 0; i < XZ_AW_N; i++) {
		sqlite3_finalize(w->st[i]);
		w->st[i] = NULL;
	}
}

/* The statement i, reset and unbound, or NULL (prepare failed). */
static sqlite3_stmt *
aw_stmt(xz_audit_writer *w, int i)
{
	if (w->st[i] == NULL
	    && sqlite3_prepare_v3(w->db, aw_sql[i], -1,
	           SQLITE_PREPARE_PERSISTENT, &w->st[i], NULL)
	        != SQLITE_OK) {
		w->st[i] = NULL;
		return NULL;
	}
	return w->st[i];
}

/* Done with statement st: reset it and drop its bindings. */
static void
aw_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

int
xz_audit_writer_head(
    xz_audit_writer *w, int64_t *seq, char hash[XZ_SHA256_HEX])
{
	sqlite3_stmt *st;
	int           rc;

	*seq = 0;
	memcpy(hash, zero_hash, XZ_SHA256_HEX);
	if ((st = aw_stmt(w, XZ_AW_HEAD)) == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		copy_hash(hash, sqlite3_column_text(st, 1));
		aw_done(st);
		return 0;
	}
	aw_done(st);
	if (rc != SQLITE_DONE)
		return -1;
	if ((st = aw_stmt(w, XZ_AW_CHECKPOINT)) == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		copy_hash(hash, sqlite3_column_text(st, 1));
	}
	aw_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int
xz_audit_head(sqlite3 *db, int64_t *seq, char hash[XZ_SHA256_HEX])
{
	xz_audit_writer w;
	int             rc;

	xz_audit_writer_init(&w, db);
	rc = xz_audit_writer_head(&w, seq, hash);
	xz_audit_writer_fini(&w);
	return rc;
}

/* Hash r at head + 1 and insert it (one statement). 0, 1 when its event
 * id is in the chain already (the unique index audit_log_event refuses
 * it: nothing of it is written; no lookup before, which every record
 * would pay for), or -1 (err). */
static int
aw_put(xz_audit_writer *w, xz_audit_rec *r, int64_t head, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	int           rc;

	r->seq = head + 1;
	xz_audit_iso(r->at_ms, r->at);
	xz_audit_hash(r);
	if ((st = aw_stmt(w, XZ_AW_INSERT)) == NULL) {
		set_err(err, errlen, "audit insert", w->db);
		return -1;
	}
	sqlite3_bind_int64(st, 1, r->seq);
	sqlite3_bind_int64(st, 2, r->at_ms);
	sqlite3_bind_text(st, 3, r->at, -1, SQLITE_STATIC);
	for (int i = 0; i < XZ_AF_COUNT; i++)
		if (r->f[i] != NULL)
			sqlite3_bind_text(
			    st, 4 + i, r->f[i], -1, SQLITE_STATIC);
	sqlite3_bind_text(
	    st, 4 + XZ_AF_COUNT, r->prev_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5 + XZ_AF_COUNT, r->hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	/* that index and no other (one added behind the plugin's back is an
	 * error: the record must not pass for one already chained) */
	if (rc == SQLITE_CONSTRAINT && r->f[XZ_AF_EVENT_ID] != NULL
	    && sqlite3_extended_errcode(w->db) == SQLITE_CONSTRAINT_UNIQUE
	    && strcmp(sqlite3_errmsg(w->db),
	           "UNIQUE constraint failed: audit_log.event_id")
	        == 0) {
		aw_done(st);
		return 1;
	}
	if (rc != SQLITE_DONE)
		set_err(err, errlen, "audit insert", w->db);
	aw_done(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
xz_audit_writer_anchor(xz_audit_writer *w, int64_t seq, const char *hash,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int           rc;

	if ((st = aw_stmt(w, XZ_AW_ANCHOR)) == NULL) {
		set_err(err, errlen, "audit anchor", w->db);
		return -1;
	}
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		set_err(err, errlen, "audit anchor", w->db);
	aw_done(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
xz_audit_writer_insert(
    xz_audit_writer *w, xz_audit_rec *r, char *err, size_t errlen)
{
	int64_t head;
	int     rc;

	if (xz_audit_writer_head(w, &head, r->prev_hash) != 0) {
		set_err(err, errlen, "audit head", w->db);
		return -1;
	}
	if ((rc = aw_put(w, r, head, err, errlen)) != 0)
		return rc;
	return xz_audit_writer_anchor(w, r->seq, r->hash, err, errlen);
}

int
xz_audit_writer_insert_after(xz_audit_writer *w, xz_audit_rec *r,
    int64_t head_seq, const char *head_hash, char *err, size_t errlen)
{
	memcpy(r->prev_hash, head_hash, XZ_SHA256_HEX);
	return aw_put(w, r, head_seq, err, errlen);
}

int
xz_audit_insert(sqlite3 *db, xz_audit_rec *r, char *err, size_t errlen)
{
	xz_audit_writer w;
	int             rc;

	xz_audit_writer_init(&w, db);
	rc = xz_audit_writer_insert(&w, r, err, errlen);
	xz_audit_writer_fini(&w);
	return rc;
}

/* The head file replaced whole: a temporary file renamed over it. */
static int
head_replace(const char *path, const char *line, size_t n)
{
	size_t pn  = strlen(path) + 8;
	char  *tmp = malloc(pn);
	int    fd, rc = -1;

	if (tmp == NULL)
		return -1;
	snprintf(tmp, pn, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd >= 0) {
		ssize_t w = write(fd, line, n);
		if (close(fd) == 0 && w == (ssize_t) n
		    && rename(tmp, path) == 0)
			rc = 0;
		else
			unlink(tmp);
	}
	free(tmp);
	return rc;
}

/*
 * Over the line already there, in place, where that is as safe as a
 * replacement: a regular file of one link (a hard-linked copy must keep
 * its line), under an exclusive flock that readers of this library
 * (read_head_file) wait for with a shared one. One pwrite of a few bytes
 * at offset 0 lies in one page: the kernel copies it whole or, when the
 * process is killed before, not at all (neither form is fsynced, as
 * before: the line follows each commit, it is never ahead of one). A
 * rename over the file costs a new inode and, on ext4 (auto_da_alloc),
 * the start of the new file's writeback: about 150 us a batch on the
 * test machine, this about 6. 0, or -1 (the caller replaces the file).
 */
static int
head_overwrite(const char *path, const char *line, size_t n)
{
	struct stat sb;
	int         fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	int         rc = -1;

	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_nlink == 1
	    && flock(fd, LOCK_EX | LOCK_NB) == 0
	    && pwrite(fd, line, n, 0) == (ssize_t) n
	    && (sb.st_size <= (off_t) n || ftruncate(fd, (off_t) n) == 0))
		rc = 0;
	close(fd); /* and with it the lock */
	return rc;
}

int
xz_audit_head_write(const char *path, int64_t seq, const char *hash)
{
	char line[128];
	int  n
	    = snprintf(line, sizeof(line), "%lld %s\n", (long long) seq, hash);

	if (n <= 0 || (size_t) n >= sizeof(line))
		return -1;
	if (head_overwrite(path, line, (size_t) n) == 0)
		return 0;
	return head_replace(path, line, (size_t) n);
}

/* Caller frees the result. */
char *
xz_audit_head_path(const char *db_path)
{
	size_t n = strlen(db_path);
	char  *p = malloc(n + 8);

	if (p == NULL)
		return NULL;
	memcpy(p, db_path, n + 1);
	if (n > 3 && strcmp(p + n - 3, ".db") == 0)
		p[n - 3] = '\0';
	strcat(p, ".head");
	return p;
}

static void fail(xz_audit_verdict *v, int64_t seq, const char *reason,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
fail(
    xz_audit_verdict *v, int64_t seq, const char *reason, const char *fmt, ...)
{
	va_list ap;

	v->ok            = 0;
	v->first_bad_seq = seq;
	snprintf(v->reason, sizeof(v->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
}

/* The seq of the record whose stored hash is h, or 0. */
static int64_t
seq_of_hash(sqlite3 *db, const char *h)
{
	sqlite3_stmt *st  = NULL;
	int64_t       seq = 0;

	if (sqlite3_prepare_v2(db,
	        "SELECT seq FROM audit_log WHERE hash = ?"
	        " ORDER BY seq LIMIT 1",
	        -1, &st, NULL)
	    != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, h, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		seq = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return seq;
}

/* Does r hash to its stored hash when placed at seq s? */
static int
hashes_at(const xz_audit_rec *r, int64_t s, const char *stored)
{
	xz_audit_rec t = *r;
	t.seq          = s;
	xz_audit_hash(&t);
	return strcmp(t.hash, stored) == 0;
}

/* Classify a record whose content does not hash to its stored hash: an
 * intact record hashes at the seq it was written with; look for that seq
 * nearby. Its predecessor still present elsewhere means the records were
 * reordered; gone means records before it were deleted and renumbered. */
static void
classify_mismatch(sqlite3 *db, const xz_audit_rec *r, const char *stored,
    const char *expected_prev, xz_audit_verdict *v)
{
	if (strcmp(r->prev_hash, expected_prev) != 0) {
		for (int64_t k = 1; k <= 64; k++) {
			int64_t s;
			for (int sign = 1; sign >= -1; sign -= 2) {
				s = r->seq + sign * k;
				if (s < 1 || !hashes_at(r, s, stored))
					continue;
				if (seq_of_hash(db, r->prev_hash) > 0
				    || s < r->seq)
					fail(v, r->seq, "reordered",
					    "record %lld holds the record "
					    "written as %lld",
					    (long long) r->seq, (long long) s);
				else
					fail(v, r->seq, "deleted",
					    "record %lld is the record "
					    "written "
					    "as %lld: %lld record(s) before "
					    "it "
					    "were deleted and the rest "
					    "renumbered",
					    (long long) r->seq, (long long) s,
					    (long long) k);
				return;
			}
		}
	}
	fail(v, r->seq, "edited",
	    "record %lld does not match its hash (a field was changed)",
	    (long long) r->seq);
}

static int
read_head_file(const char *path, int64_t *seq, char hash[XZ_SHA256_HEX])
{
	FILE     *f = fopen(path, "r");
	long long s;
	char      h[80];
	int       n;

	if (f == NULL)
		return -1;
	/* the writer overwrites the line in place under LOCK_EX (or
	 * renames a new file over it): read it whole */
	while (flock(fileno(f), LOCK_SH) != 0 && errno == EINTR)
		;
	n = fscanf(f, "%lld %70s", &s, h);
	fclose(f);
	if (n != 2 || strlen(h) != 64)
		return -2;
	*seq = s;
	memcpy(hash, h, XZ_SHA256_HEX);
	return 0;
}

static int
walk(sqlite3 *db, xz_audit_verdict *v, int64_t *hf_seq, const char *hf_hash)
{
	sqlite3_stmt *st   = NULL;
	int64_t       base = 0, expected, cp_seq = 0;
	char          prev[XZ_SHA256_HEX], cp_hash[XZ_SHA256_HEX] = "";
	int64_t       prune_to                  = 0;
	char          prune_hash[XZ_SHA256_HEX] = "";
	int           rc, have_cp = 0;

	memcpy(prev, zero_hash, XZ_SHA256_HEX);
	if (sqlite3_prepare_v2(db,
	        "SELECT last_seq, last_hash FROM audit_checkpoint WHERE id = "
	        "1",
	        -1, &st, NULL)
	    != SQLITE_OK)
		goto dberr;
	if (sqlite3_step(st) == SQLITE_ROW) {
		have_cp = 1;
		cp_seq = base = sqlite3_column_int64(st, 0);
		copy_hash(cp_hash, sqlite3_column_text(st, 1));
		memcpy(prev, cp_hash, XZ_SHA256_HEX);
	}
	sqlite3_finalize(st);
	v->pruned_to = base;
	expected     = base + 1;

	if (sqlite3_prepare_v2(db,
	        "SELECT seq, at_ms, at, event_id, topic, source, who, role,"
	        " agency, action, subject_type, subject_id, purpose,"
	        " recipient, service, outcome, corr, time, detail,"
	        " prev_hash, hash FROM audit_log ORDER BY seq",
	        -1, &st, NULL)
	    != SQLITE_OK)
		goto dberr;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		xz_audit_rec r;
		char         stored[XZ_SHA256_HEX];

		memset(&r, 0, sizeof(r));
		r.seq   = sqlite3_column_int64(st, 0);
		r.at_ms = sqlite3_column_int64(st, 1);
		snprintf(r.at, sizeof(r.at), "%s",
		    sqlite3_column_text(st, 2)
		        ? (const char *) sqlite3_column_text(st, 2)
		        : "");
		for (int i = 0; i < XZ_AF_COUNT; i++)
			r.f[i] = (const char *) sqlite3_column_text(st, 3 + i);
		copy_hash(
		    r.prev_hash, sqlite3_column_text(st, 3 + XZ_AF_COUNT));
		copy_hash(stored, sqlite3_column_text(st, 4 + XZ_AF_COUNT));

		if (r.seq != expected) {
			if (expected == base + 1 && have_cp)
				fail(v, expected, "deleted",
				    "the chain should continue the pruned "
				    "prefix at record %lld, but starts at "
				    "%lld",
				    (long long) expected, (long long) r.seq);
			else
				fail(v, expected, "deleted",
				    "record %lld is missing (next present: "
				    "%lld)",
				    (long long) expected, (long long) r.seq);
			break;
		}
		xz_audit_hash(&r);
		if (strcmp(r.hash, stored) != 0) {
			classify_mismatch(db, &r, stored, prev, v);
			break;
		}
		if (strcmp(r.prev_hash, prev) != 0) {
			if (r.seq == base + 1)
				fail(v, r.seq, have_cp ? "deleted" : "edited",
				    "record %lld does not follow %s",
				    (long long) r.seq,
				    have_cp ? "the pruned prefix's checkpoint"
				            : "the start of the chain");
			else
				fail(v, r.seq - 1, "edited",
				    "record %lld's hash was changed (record "
				    "%lld still links to the original)",
				    (long long) (r.seq - 1),
				    (long long) r.seq);
			break;
		}
		if (r.f[XZ_AF_ACTION] != NULL
		    && strcmp(r.f[XZ_AF_ACTION], "PRUNE") == 0
		    && r.f[XZ_AF_DETAIL] != NULL) {
			json_t *d  = json_loads(r.f[XZ_AF_DETAIL], 0, NULL);
			json_t *to = json_object_get(d, "pruned_to");
			json_t *h  = json_object_get(d, "pruned_hash");
			if (json_is_integer(to) && json_is_string(h)) {
				prune_to = json_integer_value(to);
				snprintf(prune_hash, sizeof(prune_hash), "%s",
				    json_string_value(h));
			}
			json_decref(d);
		}
		memcpy(prev, stored, XZ_SHA256_HEX);
		v->records++;
		expected++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sqlite3_finalize(st);
		goto dberr;
	}
	sqlite3_finalize(st);
	v->last_seq = expected - 1;
	memcpy(v->last_hash, prev, XZ_SHA256_HEX);
	if (!v->ok)
		return 0;

	if (have_cp && (prune_to != cp_seq || strcmp(prune_hash, cp_hash))) {
		fail(v, 1, "deleted",
		    "records 1..%lld are gone but no PRUNE record in the "
		    "chain accounts for them",
		    (long long) cp_seq);
		return 0;
	}

	/* The anchor row, written with each record. */
	if (sqlite3_prepare_v2(db,
	        "SELECT last_seq, last_hash FROM audit_anchor WHERE id = 1",
	        -1, &st, NULL)
	    != SQLITE_OK)
		goto dberr;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int64_t a = sqlite3_column_int64(st, 0);
		char    ah[XZ_SHA256_HEX];
		copy_hash(ah, sqlite3_column_text(st, 1));
		sqlite3_finalize(st);
		if (a > v->last_seq) {
			fail(v, v->last_seq + 1, "truncated",
			    "the log ends at record %lld but its anchor "
			    "says %lld",
			    (long long) v->last_seq, (long long) a);
			return 0;
		}
		if (a < v->last_seq) {
			fail(v, a + 1, "inserted",
			    "records after %lld were added outside the "
			    "audit plugin (the anchor ends there)",
			    (long long) a);
			return 0;
		}
		if (strcmp(ah, v->last_hash) != 0) {
			fail(v, a, "edited",
			    "record %lld differs from the anchor's hash",
			    (long long) a);
			return 0;
		}
	} else {
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			goto dberr;
		if (v->last_seq > 0) {
			fail(v, v->last_seq + 1, "truncated",
			    "the anchor row is missing (the log ends at "
			    "record %lld)",
			    (long long) v->last_seq);
			/* The side file may know where the tail ended. */
			if (*hf_seq > v->last_seq)
				snprintf(v->detail, sizeof(v->detail),
				    "the log ends at record %lld, the anchor "
				    "row is missing and the head file says "
				    "%lld",
				    (long long) v->last_seq,
				    (long long) *hf_seq);
			return 0;
		}
	}

	/* The side file, written after each commit: it may lag, never lead. */
	if (*hf_seq > v->last_seq) {
		fail(v, v->last_seq + 1, "truncated",
		    "the log ends at record %lld but the head file says %lld",
		    (long long) v->last_seq, (long long) *hf_seq);
	} else if (*hf_seq > base) {
		if (sqlite3_prepare_v2(db,
		        "SELECT hash FROM audit_log WHERE seq = ?", -1, &st,
		        NULL)
		    != SQLITE_OK)
			goto dberr;
		sqlite3_bind_int64(st, 1, *hf_seq);
		char h[XZ_SHA256_HEX] = "";
		if (sqlite3_step(st) == SQLITE_ROW)
			copy_hash(h, sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		if (strcmp(h, hf_hash) != 0)
			fail(v, *hf_seq, "edited",
			    "record %lld differs from the head file's hash "
			    "(the chain was rewritten from there or before)",
			    (long long) *hf_seq);
	}
	return 0;
dberr:
	snprintf(v->detail, sizeof(v->detail), "cannot read the audit log: %s",
	    sqlite3_errmsg(db));
	return -1;
}

int
xz_audit_verify(sqlite3 *db, const char *head_path, xz_audit_verdict *v)
{
	int64_t hf_seq                 = 0;
	char    hf_hash[XZ_SHA256_HEX] = "";
	int     rc;

	memset(v, 0, sizeof(*v));
	v->ok        = 1;
	v->head_file = -1;
	/* Read the side file first: it is written after the commit, so the
	 * snapshot read next is at least as new. */
	if (head_path != NULL) {
		int h        = read_head_file(head_path, &hf_seq, hf_hash);
		v->head_file = h == 0 ? 1 : 0;
		if (h == -2) {
			fail(v, 1, "edited", "head file %s is malformed",
			    head_path);
			return 0;
		}
	}
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(v->detail, sizeof(v->detail),
		    "cannot read the audit log: %s", sqlite3_errmsg(db));
		return -1;
	}
	rc = walk(db, v, &hf_seq, hf_hash);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != 0)
		v->ok = 0;
	return rc;
}

int
xz_audit_prune(sqlite3 *db, int64_t cutoff_ms, int64_t now_ms, int64_t *from,
    int64_t *to, char hash[XZ_SHA256_HEX], char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int64_t       lo = 0, hi = 0;
	int           rc;

	/* The prefix strictly older than the cutoff: up to the record before
	 * the first one that is not. */
	if (sqlite3_prepare_v2(db,
	        "SELECT min(seq), (SELECT min(seq) FROM audit_log WHERE"
	        " at_ms >= ?1), max(seq) FROM audit_log",
	        -1, &st, NULL)
	    != SQLITE_OK) {
		set_err(err, errlen, "audit prune", db);
		return -1;
	}
	sqlite3_bind_int64(st, 1, cutoff_ms);
	if (sqlite3_step(st) != SQLITE_ROW
	    || sqlite3_column_type(st, 0) == SQLITE_NULL) {
		sqlite3_finalize(st);
		return 0;
	}
	lo = sqlite3_column_int64(st, 0);
	hi = sqlite3_column_type(st, 1) == SQLITE_NULL
	    ? sqlite3_column_int64(st, 2)
	    : sqlite3_column_int64(st, 1) - 1;
	sqlite3_finalize(st);
	if (hi < lo)
		return 0;
	if (sqlite3_prepare_v2(
	        db, "SELECT hash FROM audit_log WHERE seq = ?", -1, &st, NULL)
	    != SQLITE_OK) {
		set_err(err, errlen, "audit prune", db);
		return -1;
	}
	sqlite3_bind_int64(st, 1, hi);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		copy_hash(hash, sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		set_err(err, errlen, "audit prune", db);
		return -1;
	}
	char sql[256];
	snprintf(sql, sizeof(sql),
	    "UPDATE audit_gate SET open = 1 WHERE id = 1;"
	    "DELETE FROM audit_log WHERE seq <= %lld;"
	    "UPDATE audit_gate SET open = 0 WHERE id = 1;",
	    (long long) hi);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		set_err(err, errlen, "audit prune", db);
		return -1;
	}
	if (sqlite3_prepare_v2(db,
	        "INSERT INTO audit_checkpoint (id, last_seq, last_hash, at_ms)"
	        " VALUES (1, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
	        " last_seq = excluded.last_seq,"
	        " last_hash = excluded.last_hash, at_ms = excluded.at_ms",
	        -1, &st, NULL)
	    != SQLITE_OK) {
		set_err(err, errlen, "audit checkpoint", db);
		return -1;
	}
	sqlite3_bind_int64(st, 1, hi);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		set_err(err, errlen, "audit checkpoint", db);
		return -1;
	}
	*from = lo;
	*to   = hi;
	return 1;
}
