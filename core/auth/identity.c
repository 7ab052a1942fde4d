/*
 * identity.c - the identity database (see identity.h): users with argon2id
 * password hashes, session tokens stored as their SHA-256, an in-memory
 * copy of both for microsecond checks, the failed-login limiter and the
 * login thread that keeps argon2 off the bus workers.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "auth/identity.h"
#include <xiezhi/xiezhi.h>

#define TOKEN_PREFIX "xzt_"
#define TOKEN_BYTES 32
/* An expired or revoked session is remembered this long past its expiry,
 * so its check says "expired"/"revoked" rather than "unknown". */
#define SESSION_GRACE_MS (24ull * 3600u * 1000u)
#define LIMITER_MAX 8192
#define PRUNE_EVERY_MS 60000u

typedef struct user_rec {
	char   *user, *name, *agency, *hash; /* owned; hash NULL: none */
	char  **roles; /* owned, NULL-terminated */
	bool    locked;
	int64_t created_ms, updated_ms;
} user_rec;

typedef struct sess {
	uint8_t      h[crypto_hash_sha256_BYTES];
	char        *user; /* owned */
	uint64_t     expires_ms, revoked_ms; /* revoked_ms 0: live */
	struct sess *next;
} sess;

typedef struct lim {
	char     key[160];
	unsigned failures;
	uint64_t until_ms, last_ms;
} lim;

typedef struct job {
	int           kind; /* 0 login, 1 posted work */
	char         *user, *password, *source; /* owned (login) */
	xz_login_done done;
	void (*fn)(void *ud);
	void       *ud;
	struct job *next;
} job;

struct xz_identity {
	xz_identity_cfg cfg; /* path copied below */
	char           *path; /* owned */
	pthread_mutex_t mu; /* everything below but the queue */
	sqlite3        *db; /* owned */

	user_rec **users; /* owned, sorted by user id */
	size_t     nusers;

	sess   **buckets; /* owned; chains of owned sess */
	size_t   nbuckets, nsess;
	uint64_t last_prune_ms;

	lim   *lims; /* owned */
	size_t nlims;

	char            dummy[XZ_IDENTITY_HASH_MAX]; /* for unknown users */
	pthread_mutex_t dummy_mu;

	xz_identity_stats stats;

	/* The login thread and its queue. */
	pthread_mutex_t qmu;
	pthread_cond_t  qcv;
	job            *qhead, *qtail;
	size_t          qlen;
	bool            closing;
	pthread_t       thread;
	bool            thread_started;
};

/* ---- small helpers ---- */

static uint64_t
now_ms(xz_identity *id)
{
	struct timespec ts;
	if (id->cfg.now_ms != NULL)
		return id->cfg.now_ms(id->cfg.now_ud);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

static char **
roles_dup(const char *const *roles)
{
	size_t n = 0;
	while (roles != NULL && roles[n] != NULL)
		n++;
	char **v = calloc(n + 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((v[i] = strdup(roles[i])) == NULL) {
			for (size_t j = 0; j < i; j++)
				free(v[j]);
			free(v);
			return NULL;
		}
	return v;
}

static void
roles_free(char **roles)
{
	for (size_t i = 0; roles != NULL && roles[i] != NULL; i++)
		free(roles[i]);
	free(roles);
}

/* "a b c" -> {"a","b","c",NULL} (owned) */
static char **
roles_parse(const char *text)
{
	const char *v[XZ_IDENTITY_MAX_ROLES + 1];
	char        buf[XZ_IDENTITY_MAX_ROLES * 40];
	size_t      n = 0;

	snprintf(buf, sizeof(buf), "%s", text ? text : "");
	for (char *save = NULL, *t = strtok_r(buf, " ", &save);
	     t != NULL && n < XZ_IDENTITY_MAX_ROLES;
	     t = strtok_r(NULL, " ", &save))
		v[n++] = t;
	v[n] = NULL;
	return roles_dup(v);
}

static int
roles_join(const char *const *roles, char *out, size_t len)
{
	size_t off = 0;
	out[0]     = '\0';
	for (size_t i = 0; roles != NULL && roles[i] != NULL; i++) {
		int n = snprintf(
		    out + off, len - off, "%s%s", i ? " " : "", roles[i]);
		if (n < 0 || (size_t) n >= len - off)
			return -1;
		off += (size_t) n;
	}
	return 0;
}

static void
user_rec_free(user_rec *u)
{
	if (u == NULL)
		return;
	free(u->user);
	free(u->name);
	free(u->agency);
	if (u->hash != NULL)
		sodium_memzero(u->hash, strlen(u->hash));
	free(u->hash);
	roles_free(u->roles);
	free(u);
}

void
xz_ident_user_clear(xz_ident_user *u)
{
	if (u == NULL)
		return;
	free(u->user);
	free(u->name);
	free(u->agency);
	roles_free(u->roles);
	memset(u, 0, sizeof(*u));
}

static int
user_copy(const user_rec *r, xz_ident_user *out)
{
	memset(out, 0, sizeof(*out));
	out->user         = strdup(r->user);
	out->name         = strdup(r->name);
	out->agency       = strdup(r->agency);
	out->roles        = roles_dup((const char *const *) r->roles);
	out->locked       = r->locked;
	out->has_password = r->hash != NULL;
	out->created_ms   = r->created_ms;
	out->updated_ms   = r->updated_ms;
	if (!out->user || !out->name || !out->agency || !out->roles) {
		xz_ident_user_clear(out);
		return XZ_ENOMEM;
	}
	return XZ_OK;
}

/* Index of user in the sorted array, or where it would go (~index). */
static ssize_t
user_find(xz_identity *id, const char *user)
{
	size_t lo = 0, hi = id->nusers;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int    c   = strcmp(id->users[mid]->user, user);
		if (c == 0)
			return (ssize_t) mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return ~(ssize_t) lo;
}

static int
user_insert(xz_identity *id, user_rec *r)
{
	ssize_t at = user_find(id, r->user);
	if (at >= 0)
		return XZ_EEXIST;
	size_t     pos = (size_t) ~at;
	user_rec **v   = realloc(id->users, (id->nusers + 1) * sizeof(*v));
	if (v == NULL)
		return XZ_ENOMEM;
	id->users = v;
	memmove(v + pos + 1, v + pos, (id->nusers - pos) * sizeof(*v));
	v[pos] = r;
	id->nusers++;
	return XZ_OK;
}

/* ---- sessions in memory ---- */

static size_t
sess_slot(xz_identity *id, const uint8_t *h)
{
	uint64_t k;
	memcpy(&k, h, sizeof(k));
	return (size_t) (k & (id->nbuckets - 1));
}

static sess *
sess_find(xz_identity *id, const uint8_t *h)
{
	for (sess *s = id->buckets[sess_slot(id, h)]; s != NULL; s = s->next)
		if (sodium_memcmp(s->h, h, sizeof(s->h)) == 0)
			return s;
	return NULL;
}

static void
sess_grow(xz_identity *id)
{
	size_t nb = id->nbuckets * 2;
	sess **b  = calloc(nb, sizeof(*b));
	if (b == NULL)
		return; /* chains just get longer */
	for (size_t i = 0; i < id->nbuckets; i++)
		for (sess *s = id->buckets[i], *nx; s != NULL; s = nx) {
			uint64_t k;
			nx = s->next;
			memcpy(&k, s->h, sizeof(k));
			size_t j = (size_t) (k & (nb - 1));
			s->next  = b[j];
			b[j]     = s;
		}
	free(id->buckets);
	id->buckets  = b;
	id->nbuckets = nb;
}

static int
sess_add(xz_identity *id, const uint8_t *h, const char *user,
    uint64_t expires_ms, uint64_t revoked_ms)
{
	sess *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->user = strdup(user)) == NULL) {
		free(s);
		return XZ_ENOMEM;
	}
	memcpy(s->h, h, sizeof(s->h));
	s->expires_ms = expires_ms;
	s->revoked_ms = revoked_ms;
	if (id->nsess >= id->nbuckets * 2)
		sess_grow(id);
	size_t j       = sess_slot(id, h);
	s->next        = id->buckets[j];
	id->buckets[j] = s;
	id->nsess++;
	return XZ_OK;
}

static void
sess_prune(xz_identity *id, uint64_t now)
{
	if (now - id->last_prune_ms < PRUNE_EVERY_MS && id->last_prune_ms)
		return;
	id->last_prune_ms = now;
	for (size_t i = 0; i < id->nbuckets; i++) {
		sess **pp = &id->buckets[i];
		while (*pp != NULL) {
			sess *s = *pp;
			if (s->expires_ms + SESSION_GRACE_MS < now) {
				*pp = s->next;
				free(s->user);
				free(s);
				id->nsess--;
			} else {
				pp = &s->next;
			}
		}
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(id->db,
	        "DELETE FROM sessions WHERE expires_ms < ?", -1, &st, NULL)
	    == SQLITE_OK) {
		sqlite3_bind_int64(
		    st, 1, (sqlite3_int64) (now - SESSION_GRACE_MS));
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
}

static void
token_hash(const char *token, uint8_t *h)
{
	crypto_hash_sha256(h, (const unsigned char *) token, strlen(token));
}

static void
sid_of(const uint8_t *h, char *sid)
{
	static const char hex[] = "0123456789abcdef";
	sid[0]                  = 't';
	sid[1]                  = '-';
	for (int i = 0; i < 6; i++) {
		sid[2 + 2 * i] = hex[h[i] >> 4];
		sid[3 + 2 * i] = hex[h[i] & 15];
	}
	sid[14] = '\0';
}

/* ---- validation ---- */

static bool
chars_ok(
    const char *s, size_t min, size_t max, const char *first, const char *rest)
{
	size_t n = s ? strlen(s) : 0;
	if (n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strchr(i == 0 ? first : rest, s[i]) == NULL)
			return false;
	return true;
}

#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define DIGIT "0123456789"

bool
xz_identity_valid_user(const char *s)
{
	return chars_ok(s, 1, 64, LOWER DIGIT, LOWER DIGIT "_.-");
}

bool
xz_identity_valid_agency(const char *s)
{
	return s != NULL
	    && (s[0] == '\0'
	        || chars_ok(s, 1, 64, LOWER DIGIT, LOWER DIGIT "_-"));
}

bool
xz_identity_valid_role(const char *s)
{
	return chars_ok(s, 1, 32, LOWER, LOWER DIGIT "_");
}

bool
xz_identity_valid_token(const char *s)
{
	return chars_ok(s, 5, XZ_IDENTITY_TOKEN_MAX - 1, "x",
	           "abcdefghijklmnopqrstuvwxyz"
	           "ABCDEFGHIJKLMNOPQRSTUVWXYZ" DIGIT "_-")
	    && strncmp(s, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) == 0;
}

/* UTF-8, 1..128 bytes, no control characters. */
bool
xz_identity_valid_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 128)
		return false;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char) s[i];
		size_t        len;
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80)
			len = 1;
		else if ((c & 0xe0) == 0xc0 && c >= 0xc2)
			len = 2;
		else if ((c & 0xf0) == 0xe0)
			len = 3;
		else if ((c & 0xf8) == 0xf0 && c <= 0xf4)
			len = 4;
		else
			return false;
		if (i + len > n)
			return false;
		for (size_t j = 1; j < len; j++)
			if (((unsigned char) s[i + j] & 0xc0) != 0x80)
				return false;
		i += len;
	}
	return true;
}

bool
xz_identity_valid_password(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n >= 8 && n <= 1024;
}

/* ---- the database ---- */

static const char schema[]
    = "PRAGMA journal_mode=WAL;"
      "PRAGMA synchronous=NORMAL;"
      "CREATE TABLE IF NOT EXISTS users ("
      " id TEXT PRIMARY KEY, name TEXT NOT NULL, agency TEXT NOT NULL,"
      " roles TEXT NOT NULL,"
      " state TEXT NOT NULL CHECK (state IN ('active','locked')),"
      " hash TEXT, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS sessions ("
      " id TEXT PRIMARY KEY, user TEXT NOT NULL, created_ms INTEGER NOT NULL,"
      " expires_ms INTEGER NOT NULL, revoked_ms INTEGER, source TEXT);"
      "CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user);";

static void
hex_of(const uint8_t *h, char *out)
{
	sodium_bin2hex(out, crypto_hash_sha256_BYTES * 2 + 1, h,
	    crypto_hash_sha256_BYTES);
}

static int
load(xz_identity *id, char *whybuf, size_t whylen)
{
	sqlite3_stmt *st  = NULL;
	uint64_t      now = now_ms(id);

	if (sqlite3_prepare_v2(id->db,
	        "SELECT id, name, agency, roles, state, hash, created_ms,"
	        " updated_ms FROM users",
	        -1, &st, NULL)
	    != SQLITE_OK)
		goto fail;
	while (sqlite3_step(st) == SQLITE_ROW) {
		user_rec *r = calloc(1, sizeof(*r));
		if (r == NULL)
			goto fail;
		r->user   = strdup((const char *) sqlite3_column_text(st, 0));
		r->name   = strdup((const char *) sqlite3_column_text(st, 1));
		r->agency = strdup((const char *) sqlite3_column_text(st, 2));
		r->roles
		    = roles_parse((const char *) sqlite3_column_text(st, 3));
		r->locked = strcmp((const char *) sqlite3_column_text(st, 4),
		                "locked")
		    == 0;
		if (sqlite3_column_type(st, 5) != SQLITE_NULL)
			r->hash = strdup(
			    (const char *) sqlite3_column_text(st, 5));
		r->created_ms = sqlite3_column_int64(st, 6);
		r->updated_ms = sqlite3_column_int64(st, 7);
		if (!r->user || !r->name || !r->agency || !r->roles
		    || user_insert(id, r) != XZ_OK) {
			user_rec_free(r);
			goto fail;
		}
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(id->db,
	        "SELECT id, user, expires_ms, revoked_ms FROM sessions"
	        " WHERE expires_ms >= ?",
	        -1, &st, NULL)
	    != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64) (now - SESSION_GRACE_MS));
	while (sqlite3_step(st) == SQLITE_ROW) {
		uint8_t     h[crypto_hash_sha256_BYTES];
		size_t      hl  = 0;
		const char *hex = (const char *) sqlite3_column_text(st, 0);
		if (sodium_hex2bin(
		        h, sizeof(h), hex, strlen(hex), NULL, &hl, NULL)
		        != 0
		    || hl != sizeof(h))
			continue;
		if (sess_add(id, h, (const char *) sqlite3_column_text(st, 1),
		        (uint64_t) sqlite3_column_int64(st, 2),
		        (uint64_t) sqlite3_column_int64(st, 3))
		    != XZ_OK)
			goto fail;
	}
	sqlite3_finalize(st);
	return XZ_OK;
fail:
	snprintf(whybuf, whylen, "%s: %s", id->path, sqlite3_errmsg(id->db));
	sqlite3_finalize(st);
	return XZ_EIO;
}

static void *login_thread(void *arg);

int
xz_identity_open(
    xz_identity **out, const xz_identity_cfg *cfg, char *whybuf, size_t whylen)
{
	xz_identity *id;
	int          fd;

	*out = NULL;
	if (sodium_init() < 0) {
		snprintf(whybuf, whylen, "libsodium cannot start");
		return XZ_EINTERNAL;
	}
	if ((id = calloc(1, sizeof(*id))) == NULL) {
		snprintf(whybuf, whylen, "out of memory");
		return XZ_ENOMEM;
	}
	id->cfg = *cfg;
	if (!id->cfg.token_ttl_ms)
		id->cfg.token_ttl_ms = XZ_IDENTITY_TTL_MS;
	if (!id->cfg.ops_limit)
		id->cfg.ops_limit = XZ_IDENTITY_OPS;
	if (!id->cfg.mem_limit)
		id->cfg.mem_limit = XZ_IDENTITY_MEM;
	if (!id->cfg.free_failures)
		id->cfg.free_failures = 3;
	if (!id->cfg.backoff_ms)
		id->cfg.backoff_ms = 1000;
	if (!id->cfg.backoff_max_ms)
		id->cfg.backoff_max_ms = 300000;
	pthread_mutex_init(&id->mu, NULL);
	pthread_mutex_init(&id->dummy_mu, NULL);
	pthread_mutex_init(&id->qmu, NULL);
	pthread_cond_init(&id->qcv, NULL);
	id->nbuckets = 64;
	id->path     = strdup(cfg->path);
	id->buckets  = calloc(id->nbuckets, sizeof(*id->buckets));
	id->lims     = calloc(LIMITER_MAX, sizeof(*id->lims));
	if (id->path == NULL || id->buckets == NULL || id->lims == NULL) {
		snprintf(whybuf, whylen, "out of memory");
		xz_identity_close(id);
		return XZ_ENOMEM;
	}
	/* Created 0600 before SQLite opens it; its -wal and -shm files take
	 * the same mode. An existing file is tightened too. */
	fd = open(cfg->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0) {
		snprintf(whybuf, whylen, "cannot create %s: %s", cfg->path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		xz_identity_close(id);
		return XZ_EIO;
	}
	close(fd);
	if (sqlite3_open_v2(cfg->path, &id->db,
	        SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL)
	        != SQLITE_OK
	    || sqlite3_busy_timeout(id->db, 5000) != SQLITE_OK
	    || sqlite3_exec(id->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(whybuf, whylen, "%s: %s", cfg->path,
		    id->db ? sqlite3_errmsg(id->db) : "cannot open");
		xz_identity_close(id);
		return XZ_EIO;
	}
	int rc = load(id, whybuf, whylen);
	if (rc != XZ_OK) {
		xz_identity_close(id);
		return rc;
	}
	if (pthread_create(&id->thread, NULL, login_thread, id) != 0) {
		snprintf(whybuf, whylen, "cannot start the login thread");
		xz_identity_close(id);
		return XZ_ENOMEM;
	}
	id->thread_started = true;
	*out               = id;
	return XZ_OK;
}

static void
job_free(job *j)
{
	if (j->password != NULL)
		sodium_memzero(j->password, strlen(j->password));
	free(j->user);
	free(j->password);
	free(j->source);
	free(j);
}

void
xz_identity_close(xz_identity *id)
{
	if (id == NULL)
		return;
	if (id->thread_started) {
		pthread_mutex_lock(&id->qmu);
		id->closing = true;
		pthread_cond_broadcast(&id->qcv);
		pthread_mutex_unlock(&id->qmu);
		pthread_join(id->thread, NULL);
	}
	for (size_t i = 0; i < id->nusers; i++)
		user_rec_free(id->users[i]);
	free(id->users);
	for (size_t i = 0; id->buckets != NULL && i < id->nbuckets; i++)
		for (sess *s = id->buckets[i], *nx; s != NULL; s = nx) {
			nx = s->next;
			free(s->user);
			free(s);
		}
	free(id->buckets);
	free(id->lims);
	if (id->db != NULL)
		sqlite3_close(id->db);
	pthread_mutex_destroy(&id->mu);
	pthread_mutex_destroy(&id->dummy_mu);
	pthread_mutex_destroy(&id->qmu);
	pthread_cond_destroy(&id->qcv);
	free(id->path);
	free(id);
}

size_t
xz_identity_user_count(xz_identity *id)
{
	pthread_mutex_lock(&id->mu);
	size_t n = id->nusers;
	pthread_mutex_unlock(&id->mu);
	return n;
}

/* ---- tokens ---- */

int
xz_identity_token_user(xz_identity *id, const char *token, xz_ident_user *out,
    char *sid, const char **why)
{
	uint8_t h[crypto_hash_sha256_BYTES];
	int     rc = XZ_EPERM;

	memset(out, 0, sizeof(*out));
	if (!xz_identity_valid_token(token)) {
		*why = "unknown";
		pthread_mutex_lock(&id->mu);
		id->stats.token_checks++;
		id->stats.token_refused++;
		pthread_mutex_unlock(&id->mu);
		return XZ_EPERM;
	}
	token_hash(token, h);
	pthread_mutex_lock(&id->mu);
	id->stats.token_checks++;
	sess    *s   = sess_find(id, h);
	uint64_t now = now_ms(id);
	ssize_t  at  = s ? user_find(id, s->user) : -1;
	if (s == NULL || at < 0)
		*why = "unknown";
	else if (s->revoked_ms != 0)
		*why = "revoked";
	else if (now >= s->expires_ms)
		*why = "expired";
	else if (id->users[at]->locked)
		*why = "locked";
	else
		rc = user_copy(id->users[at], out);
	if (rc != XZ_OK)
		id->stats.token_refused++;
	pthread_mutex_unlock(&id->mu);
	if (rc == XZ_ENOMEM)
		*why = "out of memory";
	if (rc == XZ_OK && sid != NULL)
		sid_of(h, sid);
	return rc;
}

int
xz_identity_user(
    xz_identity *id, const char *user, xz_ident_user *out, const char **why)
{
	int rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&id->mu);
	ssize_t at = user ? user_find(id, user) : -1;
	if (at < 0) {
		*why = "unknown";
		rc   = XZ_ENOENT;
	} else if (id->users[at]->locked) {
		*why = "locked";
		rc   = XZ_EPERM;
	} else {
		rc = user_copy(id->users[at], out);
		if (rc != XZ_OK)
			*why = "out of memory";
	}
	pthread_mutex_unlock(&id->mu);
	return rc;
}

int
xz_identity_logout(xz_identity *id, const char *token, char *userbuf,
    size_t userlen, const char **why)
{
	uint8_t h[crypto_hash_sha256_BYTES];
	char    hex[crypto_hash_sha256_BYTES * 2 + 1];
	int     rc = XZ_OK;

	if (!xz_identity_valid_token(token)) {
		*why = "unknown";
		return XZ_ENOENT;
	}
	token_hash(token, h);
	hex_of(h, hex);
	pthread_mutex_lock(&id->mu);
	sess    *s   = sess_find(id, h);
	uint64_t now = now_ms(id);
	if (s == NULL) {
		*why = "unknown";
		rc   = XZ_ENOENT;
	} else if (s->revoked_ms != 0) {
		*why = "revoked";
		rc   = XZ_ESTATE;
	} else if (now >= s->expires_ms) {
		*why = "expired";
		rc   = XZ_ESTATE;
	} else {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(id->db,
		        "UPDATE sessions SET revoked_ms = ? WHERE id = ?", -1,
		        &st, NULL)
		        != SQLITE_OK
		    || sqlite3_bind_int64(st, 1, (sqlite3_int64) now)
		    || sqlite3_bind_text(st, 2, hex, -1, SQLITE_STATIC)
		    || sqlite3_step(st) != SQLITE_DONE) {
			*why = "the identity database cannot be written";
			rc   = XZ_EIO;
		} else {
			s->revoked_ms = now ? now : 1;
			if (userbuf != NULL)
				snprintf(userbuf, userlen, "%s", s->user);
		}
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&id->mu);
	return rc;
}

/* ---- the failed-login limiter (id->mu held) ---- */

static lim *
lim_get(xz_identity *id, const char *kind, const char *key, bool create,
    uint64_t now)
{
	char k[sizeof(((lim *) 0)->key)];
	snprintf(k, sizeof(k), "%s:%s", kind, key ? key : "");
	for (size_t i = 0; i < id->nlims; i++)
		if (strcmp(id->lims[i].key, k) == 0)
			return &id->lims[i];
	if (!create)
		return NULL;
	size_t at = id->nlims;
	if (at == LIMITER_MAX) {
		/* Full: reuse the entry idle longest (bounded memory; an
		 * attacker cycling sources still meets the per-user one). */
		at = 0;
		for (size_t i = 1; i < id->nlims; i++)
			if (id->lims[i].last_ms < id->lims[at].last_ms)
				at = i;
	} else {
		id->nlims++;
	}
	memset(&id->lims[at], 0, sizeof(id->lims[at]));
	snprintf(id->lims[at].key, sizeof(id->lims[at].key), "%s", k);
	id->lims[at].last_ms = now;
	return &id->lims[at];
}

static void
lim_fail(xz_identity *id, lim *l, uint64_t now)
{
	if (l == NULL)
		return;
	l->failures++;
	l->last_ms = now;
	if (l->failures >= id->cfg.free_failures) {
		unsigned e     = l->failures - id->cfg.free_failures;
		uint64_t delay = id->cfg.backoff_max_ms;
		if (e < 40) {
			uint64_t d = id->cfg.backoff_ms << e;
			if ((d >> e) == id->cfg.backoff_ms && d < delay)
				delay = d;
		}
		l->until_ms = now + delay;
	}
}

static void
lim_clear(xz_identity *id, lim *l)
{
	if (l == NULL)
		return;
	size_t i    = (size_t) (l - id->lims);
	id->lims[i] = id->lims[--id->nlims];
}

/* ---- login ---- */

static const char *
dummy_hash(xz_identity *id)
{
	pthread_mutex_lock(&id->dummy_mu);
	if (id->dummy[0] == '\0') {
		char pw[33];
		randombytes_buf(pw, 16);
		sodium_bin2hex(pw, sizeof(pw), (unsigned char *) pw, 16);
		if (crypto_pwhash_str_alg(id->dummy, pw, strlen(pw),
		        id->cfg.ops_limit, id->cfg.mem_limit,
		        crypto_pwhash_ALG_ARGON2ID13)
		    != 0)
			id->dummy[0] = '\0';
	}
	pthread_mutex_unlock(&id->dummy_mu);
	return id->dummy;
}

static int
make_token(char *token, uint8_t *h)
{
	uint8_t raw[TOKEN_BYTES];
	size_t  pl = strlen(TOKEN_PREFIX);

	randombytes_buf(raw, sizeof(raw));
	memcpy(token, TOKEN_PREFIX, pl);
	sodium_bin2base64(token + pl, XZ_IDENTITY_TOKEN_MAX - pl, raw,
	    sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	token_hash(token, h);
	return XZ_OK;
}

void
xz_identity_login(xz_identity *id, const char *user, const char *password,
    const char *source, xz_login_result *res)
{
	uint64_t t0   = mono_ms(), now;
	char    *hash = NULL;
	bool     known, ok;

	memset(res, 0, sizeof(*res));
	res->rc = XZ_EPERM;
	if (user == NULL || password == NULL) {
		res->rc  = XZ_EINVAL;
		res->why = "user and password are required";
		return;
	}
	pthread_mutex_lock(&id->mu);
	now            = now_ms(id);
	lim     *lu    = lim_get(id, "u", user, false, now);
	lim     *ls    = source ? lim_get(id, "s", source, false, now) : NULL;
	uint64_t until = 0;
	if (lu != NULL && lu->until_ms > until)
		until = lu->until_ms;
	if (ls != NULL && ls->until_ms > until)
		until = ls->until_ms;
	if (until > now) {
		res->why            = "rate_limited";
		res->retry_after_ms = until - now;
		id->stats.logins_rate_limited++;
		pthread_mutex_unlock(&id->mu);
		return;
	}
	ssize_t at = xz_identity_valid_user(user) ? user_find(id, user) : -1;
	known      = at >= 0 && id->users[at]->hash != NULL;
	if (known)
		hash = strdup(id->users[at]->hash);
	pthread_mutex_unlock(&id->mu);
	if (known && hash == NULL) {
		res->rc  = XZ_ENOMEM;
		res->why = "out of memory";
		return;
	}

	/* The slow part, outside the lock. An unknown user is checked
	 * against a hash of a random password of the same cost. */
	const char *check = known ? hash : dummy_hash(id);
	ok = crypto_pwhash_str_verify(check, password, strlen(password)) == 0
	    && known;
	if (hash != NULL) {
		sodium_memzero(hash, strlen(hash));
		free(hash);
	}

	pthread_mutex_lock(&id->mu);
	now = now_ms(id);
	at  = xz_identity_valid_user(user) ? user_find(id, user) : -1;
	if (!ok || at < 0) {
		res->why = known ? "wrong_password" : "unknown_user";
		lim_fail(id, lim_get(id, "u", user, true, now), now);
		if (source != NULL)
			lim_fail(id, lim_get(id, "s", source, true, now), now);
		id->stats.logins_failed++;
	} else if (id->users[at]->locked) {
		res->why = "locked";
		user_copy(id->users[at], &res->user);
		id->stats.logins_failed++;
	} else {
		uint8_t       h[crypto_hash_sha256_BYTES];
		char          hex[crypto_hash_sha256_BYTES * 2 + 1];
		sqlite3_stmt *st = NULL;

		lim_clear(id, lim_get(id, "u", user, false, now));
		if (source != NULL)
			lim_clear(id, lim_get(id, "s", source, false, now));
		make_token(res->token, h);
		hex_of(h, hex);
		sid_of(h, res->sid);
		res->expires_ms = now + id->cfg.token_ttl_ms;
		sess_prune(id, now);
		if (sqlite3_prepare_v2(id->db,
		        "INSERT INTO sessions (id, user, created_ms,"
		        " expires_ms, source) VALUES (?, ?, ?, ?, ?)",
		        -1, &st, NULL)
		        != SQLITE_OK
		    || sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC)
		    || sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC)
		    || sqlite3_bind_int64(st, 3, (sqlite3_int64) now)
		    || sqlite3_bind_int64(
		        st, 4, (sqlite3_int64) res->expires_ms)
		    || sqlite3_bind_text(st, 5, source, -1, SQLITE_STATIC)
		    || sqlite3_step(st) != SQLITE_DONE) {
			res->rc  = XZ_EIO;
			res->why = "the identity database cannot be written";
		} else if (sess_add(id, h, user, res->expires_ms, 0) != XZ_OK
		    || user_copy(id->users[at], &res->user) != XZ_OK) {
			res->rc  = XZ_ENOMEM;
			res->why = "out of memory";
		} else {
			res->rc = XZ_OK;
			id->stats.logins_ok++;
		}
		sqlite3_finalize(st);
		if (res->rc != XZ_OK) {
			sodium_memzero(res->token, sizeof(res->token));
			res->token[0] = '\0';
		}
	}
	pthread_mutex_unlock(&id->mu);
	res->took_ms = mono_ms() - t0;
}

static void *
login_thread(void *arg)
{
	xz_identity *id = arg;

	for (;;) {
		pthread_mutex_lock(&id->qmu);
		while (id->qhead == NULL && !id->closing)
			pthread_cond_wait(&id->qcv, &id->qmu);
		job *j = id->qhead;
		if (j != NULL) {
			id->qhead = j->next;
			if (id->qhead == NULL)
				id->qtail = NULL;
			id->qlen--;
		}
		bool closing = id->closing;
		pthread_mutex_unlock(&id->qmu);
		if (j == NULL)
			break;
		if (j->kind == 0) {
			xz_login_result res;
			if (closing) {
				/* Do not make a closing node wait for
				 * hashes: refuse what still waits. */
				memset(&res, 0, sizeof(res));
				res.rc  = XZ_ECLOSED;
				res.why = "the node is stopping";
			} else {
				xz_identity_login(
				    id, j->user, j->password, j->source, &res);
			}
			j->done(j->ud, &res);
			sodium_memzero(res.token, sizeof(res.token));
		} else {
			j->fn(j->ud);
		}
		job_free(j);
	}
	return NULL;
}

static int
enqueue(xz_identity *id, job *j)
{
	int rc = XZ_OK;
	pthread_mutex_lock(&id->qmu);
	if (id->closing)
		rc = XZ_ECLOSED;
	else if (j->kind == 0 && id->qlen >= XZ_IDENTITY_QUEUE)
		rc = XZ_EFULL;
	else {
		if (id->qtail)
			id->qtail->next = j;
		else
			id->qhead = j;
		id->qtail = j;
		id->qlen++;
		pthread_cond_signal(&id->qcv);
	}
	pthread_mutex_unlock(&id->qmu);
	if (rc != XZ_OK)
		job_free(j);
	return rc;
}

int
xz_identity_login_async(xz_identity *id, const char *user,
    const char *password, const char *source, xz_login_done done, void *ud)
{
	job *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return XZ_ENOMEM;
	j->kind     = 0;
	j->user     = strdup(user ? user : "");
	j->password = strdup(password ? password : "");
	j->source   = source ? strdup(source) : NULL;
	j->done     = done;
	j->ud       = ud;
	if (!j->user || !j->password || (source && !j->source)) {
		job_free(j);
		return XZ_ENOMEM;
	}
	return enqueue(id, j);
}

bool
xz_identity_closing(xz_identity *id)
{
	pthread_mutex_lock(&id->qmu);
	bool c = id->closing;
	pthread_mutex_unlock(&id->qmu);
	return c;
}

int
xz_identity_post(xz_identity *id, void (*fn)(void *ud), void *ud)
{
	job *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return XZ_ENOMEM;
	j->kind = 1;
	j->fn   = fn;
	j->ud   = ud;
	return enqueue(id, j);
}

/* ---- administration ---- */

void
xz_identity_random_password(char *out, size_t len)
{
	uint8_t raw[48];
	char    b64[72];
	size_t  n = len > 0 ? len - 1 : 0;

	if (n > 64)
		n = 64;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	memcpy(out, b64, n);
	out[n] = '\0';
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(b64, sizeof(b64));
}

int
xz_identity_hash(xz_identity *id, const char *password, char *out)
{
	if (!xz_identity_valid_password(password))
		return XZ_EINVAL;
	if (crypto_pwhash_str_alg(out, password, strlen(password),
	        id->cfg.ops_limit, id->cfg.mem_limit,
	        crypto_pwhash_ALG_ARGON2ID13)
	    != 0)
		return XZ_ENOMEM;
	return XZ_OK;
}

static int
check_fields(const char *user, const char *name, const char *agency,
    const char *const *roles, const char **why)
{
	size_t n = 0;
	if (!xz_identity_valid_user(user)) {
		*why = "invalid user id (1..64 of a-z 0-9 _ . -, starting "
		       "with a letter or digit)";
		return XZ_EINVAL;
	}
	if (!xz_identity_valid_name(name)) {
		*why = "invalid display name (1..128 bytes of UTF-8, no "
		       "control characters)";
		return XZ_EINVAL;
	}
	if (!xz_identity_valid_agency(agency)) {
		*why = "invalid agency id (up to 64 of a-z 0-9 _ -)";
		return XZ_EINVAL;
	}
	for (; roles != NULL && roles[n] != NULL; n++)
		if (!xz_identity_valid_role(roles[n])) {
			*why = "invalid role id (1..32 of a-z 0-9 _, starting "
			       "with a letter)";
			return XZ_EINVAL;
		}
	if (n == 0 || n > XZ_IDENTITY_MAX_ROLES) {
		*why = "a user needs 1..16 roles";
		return XZ_EINVAL;
	}
	return XZ_OK;
}

int
xz_identity_user_add_hashed(xz_identity *id, const char *user,
    const char *name, const char *agency, const char *const *roles,
    const char *hash, const char **why)
{
	char          rolestr[XZ_IDENTITY_MAX_ROLES * 40];
	sqlite3_stmt *st = NULL;
	int           rc;

	if ((rc = check_fields(user, name, agency, roles, why)) != XZ_OK)
		return rc;
	if (roles_join(roles, rolestr, sizeof(rolestr)) != 0) {
		*why = "too many roles";
		return XZ_EINVAL;
	}
	user_rec *r = calloc(1, sizeof(*r));
	if (r == NULL || !(r->user = strdup(user)) || !(r->name = strdup(name))
	    || !(r->agency = strdup(agency)) || !(r->roles = roles_dup(roles))
	    || (hash && !(r->hash = strdup(hash)))) {
		user_rec_free(r);
		*why = "out of memory";
		return XZ_ENOMEM;
	}
	pthread_mutex_lock(&id->mu);
	r->created_ms = r->updated_ms = (int64_t) now_ms(id);
	if (user_find(id, user) >= 0) {
		*why = "a user with this id exists";
		rc   = XZ_EEXIST;
	} else if (sqlite3_prepare_v2(id->db,
	               "INSERT INTO users (id, name, agency, roles, state,"
	               " hash, created_ms, updated_ms)"
	               " VALUES (?, ?, ?, ?, 'active', ?, ?, ?)",
	               -1, &st, NULL)
	        != SQLITE_OK
	    || sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC)
	    || sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC)
	    || sqlite3_bind_text(st, 3, agency, -1, SQLITE_STATIC)
	    || sqlite3_bind_text(st, 4, rolestr, -1, SQLITE_STATIC)
	    || sqlite3_bind_text(st, 5, hash, -1, SQLITE_STATIC)
	    || sqlite3_bind_int64(st, 6, r->created_ms)
	    || sqlite3_bind_int64(st, 7, r->updated_ms)
	    || sqlite3_step(st) != SQLITE_DONE) {
		*why = "the identity database cannot be written";
		rc   = XZ_EIO;
	} else if ((rc = user_insert(id, r)) != XZ_OK) {
		*why = "out of memory";
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&id->mu);
	if (rc != XZ_OK)
		user_rec_free(r);
	return rc;
}

int
xz_identity_user_add(xz_identity *id, const char *user, const char *name,
    const char *agency, const char *const *roles, const char *password,
    const char **why)
{
	char hash[XZ_IDENTITY_HASH_MAX];
	int  rc;

	if ((rc = check_fields(user, name, agency, roles, why)) != XZ_OK)
		return rc;
	if (password != NULL && !xz_identity_valid_password(password)) {
		*why = "a password needs 8..1024 bytes";
		return XZ_EINVAL;
	}
	if (password != NULL
	    && xz_identity_hash(id, password, hash) != XZ_OK) {
		*why = "cannot hash the password (out of memory)";
		return XZ_ENOMEM;
	}
	rc = xz_identity_user_add_hashed(
	    id, user, name, agency, roles, password ? hash : NULL, why);
	sodium_memzero(hash, sizeof(hash));
	return rc;
}

/* Run one UPDATE with (text|int) binds; id->mu held. */
static int
update_user(xz_identity *id, const char *sql, const char *a, int64_t b,
    const char *user)
{
	sqlite3_stmt *st = NULL;
	int ok = sqlite3_prepare_v2(id->db, sql, -1, &st, NULL) == SQLITE_OK
	    && sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC) == SQLITE_OK
	    && sqlite3_bind_int64(st, 2, b) == SQLITE_OK
	    && sqlite3_bind_text(st, 3, user, -1, SQLITE_STATIC) == SQLITE_OK
	    && sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	return ok ? XZ_OK : XZ_EIO;
}

int
xz_identity_user_lock(
    xz_identity *id, const char *user, bool locked, const char **why)
{
	int rc;
	pthread_mutex_lock(&id->mu);
	ssize_t at  = user ? user_find(id, user) : -1;
	int64_t now = (int64_t) now_ms(id);
	if (at < 0) {
		*why = "no such user";
		rc   = XZ_ENOENT;
	} else if ((rc = update_user(id,
	                "UPDATE users SET state = ?, updated_ms = ?"
	                " WHERE id = ?",
	                locked ? "locked" : "active", now, user))
	    != XZ_OK) {
		*why = "the identity database cannot be written";
	} else {
		id->users[at]->locked     = locked;
		id->users[at]->updated_ms = now;
	}
	pthread_mutex_unlock(&id->mu);
	return rc;
}

int
xz_identity_user_passwd(
    xz_identity *id, const char *user, const char *password, const char **why)
{
	char hash[XZ_IDENTITY_HASH_MAX];
	int  rc;

	if (!xz_identity_valid_password(password)) {
		*why = "a password needs 8..1024 bytes";
		return XZ_EINVAL;
	}
	pthread_mutex_lock(&id->mu);
	bool known = user != NULL && user_find(id, user) >= 0;
	pthread_mutex_unlock(&id->mu);
	if (!known) {
		*why = "no such user";
		return XZ_ENOENT;
	}
	if (xz_identity_hash(id, password, hash) != XZ_OK) {
		*why = "cannot hash the password (out of memory)";
		return XZ_ENOMEM;
	}
	char *copy = strdup(hash);
	pthread_mutex_lock(&id->mu);
	ssize_t at  = user_find(id, user);
	int64_t now = (int64_t) now_ms(id);
	if (copy == NULL) {
		*why = "out of memory";
		rc   = XZ_ENOMEM;
	} else if (at < 0) {
		*why = "no such user";
		rc   = XZ_ENOENT;
	} else if ((rc = update_user(id,
	                "UPDATE users SET hash = ?, updated_ms = ?"
	                " WHERE id = ?",
	                hash, now, user))
	    != XZ_OK) {
		*why = "the identity database cannot be written";
	} else {
		user_rec *r = id->users[at];
		if (r->hash != NULL)
			sodium_memzero(r->hash, strlen(r->hash));
		free(r->hash);
		r->hash       = copy;
		copy          = NULL;
		r->updated_ms = now;
		/* A new password ends every session of the old one. */
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(id->db,
		        "UPDATE sessions SET revoked_ms = ?1 WHERE revoked_ms"
		        " IS NULL AND user = ?2",
		        -1, &st, NULL)
		    == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, now);
			sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
			sqlite3_step(st);
		}
		sqlite3_finalize(st);
		for (size_t i = 0; i < id->nbuckets; i++)
			for (sess *s = id->buckets[i]; s; s = s->next)
				if (s->revoked_ms == 0
				    && strcmp(s->user, user) == 0)
					s->revoked_ms = (uint64_t) now;
	}
	pthread_mutex_unlock(&id->mu);
	free(copy);
	sodium_memzero(hash, sizeof(hash));
	return rc;
}

int
xz_identity_users(xz_identity *id, xz_ident_user **out, size_t *n)
{
	*out = NULL;
	*n   = 0;
	pthread_mutex_lock(&id->mu);
	uint64_t       now = now_ms(id);
	xz_ident_user *v   = calloc(id->nusers + 1, sizeof(*v));
	if (v == NULL) {
		pthread_mutex_unlock(&id->mu);
		return XZ_ENOMEM;
	}
	for (size_t i = 0; i < id->nusers; i++) {
		if (user_copy(id->users[i], &v[i]) != XZ_OK) {
			for (size_t j = 0; j < i; j++)
				xz_ident_user_clear(&v[j]);
			free(v);
			pthread_mutex_unlock(&id->mu);
			return XZ_ENOMEM;
		}
	}
	for (size_t b = 0; b < id->nbuckets; b++)
		for (sess *s = id->buckets[b]; s; s = s->next) {
			if (s->revoked_ms != 0 || now >= s->expires_ms)
				continue;
			ssize_t at = user_find(id, s->user);
			if (at >= 0)
				v[at].sessions++;
		}
	*n = id->nusers;
	pthread_mutex_unlock(&id->mu);
	*out = v;
	return XZ_OK;
}

void
xz_identity_stats_get(xz_identity *id, xz_identity_stats *s)
{
	pthread_mutex_lock(&id->mu);
	*s               = id->stats;
	uint64_t now     = now_ms(id);
	s->sessions_live = 0;
	for (size_t b = 0; b < id->nbuckets; b++)
		for (sess *x = id->buckets[b]; x; x = x->next)
			s->sessions_live
			    += x->revoked_ms == 0 && now < x->expires_ms;
	pthread_mutex_unlock(&id->mu);
}
