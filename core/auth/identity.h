/*
 * identity.h - the node's identity database: people and services that log
 * in with a password, their session tokens, and the failed-login limiter.
 *
 * One SQLite file, DATA_DIR/identity.db (mode 0600):
 *   users    (id, name, agency, roles, state, hash, created_ms, updated_ms)
 *   sessions (id = SHA-256 of the token, hex; user, created_ms,
 *             expires_ms, revoked_ms, source)
 * Passwords are stored only as argon2id strings (libsodium crypto_pwhash,
 * t = 3, m = 64 MiB, p = 1 by default: 50-500 ms a login, by design).
 * Tokens are 32 random bytes, "xzt_" + base64url, given once to the
 * client; the database keeps only their hash.
 *
 * Every user and every live session is also held in memory, so a token
 * check (a SHA-256 and a hash-table lookup) costs microseconds and never
 * touches the disk. All calls are thread-safe (one mutex; argon2 runs
 * outside it).
 *
 * Failed logins are rate-limited per user name and per source (what the
 * caller says the connection is: a peer name, a uid, an address): after
 * `free_failures` failures in a row, each further attempt is refused
 * without hashing for base_ms * 2^(failures - free_failures), at most
 * max_ms. A success clears the user's and the source's counts. The
 * limiter lives in memory: a restart clears it.
 */
#ifndef XZ_AUTH_IDENTITY_H
#define XZ_AUTH_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct xz_identity xz_identity;

typedef struct xz_identity_cfg {
	const char *path; /* the database file; created 0600 */
	uint64_t    token_ttl_ms; /* 0: 8 h */
	/* argon2id cost of new hashes (verification reads the cost from
	 * the stored string). 0: t = 3, 64 MiB. */
	unsigned long long ops_limit;
	size_t             mem_limit; /* bytes */
	unsigned           free_failures; /* 0: 3 */
	uint64_t           backoff_ms; /* 0: 1000 */
	uint64_t           backoff_max_ms; /* 0: 300000 */
	/* The clock of expiry and backoff, in ms since the epoch; NULL: wall
	 * time. The kernel gives its own clock (so xz.sys.clock.advance on a
	 * test node moves token expiry too). */
	uint64_t (*now_ms)(void *ud);
	void *now_ud;
} xz_identity_cfg;

#define XZ_IDENTITY_TTL_MS (8ull * 3600u * 1000u)
#define XZ_IDENTITY_OPS 3ull
#define XZ_IDENTITY_MEM (64u * 1024u * 1024u)
#define XZ_IDENTITY_MAX_ROLES 16
#define XZ_IDENTITY_TOKEN_MAX 128 /* longest token string, NUL included */

/* A user as the store holds it. Every string is owned by the struct; free
 * with xz_ident_user_clear. roles is NULL-terminated. */
typedef struct xz_ident_user {
	char    *user, *name, *agency;
	char   **roles;
	bool     locked;
	bool     has_password;
	int64_t  created_ms, updated_ms;
	uint32_t sessions; /* live (unexpired, unrevoked) sessions */
} xz_ident_user;

void xz_ident_user_clear(xz_ident_user *u);

/* Open (creating) the database at cfg->path. XZ_OK and *out (the caller
 * owns it: xz_identity_close), or an error with *why (static text or the
 * SQLite message copied into whybuf). */
int  xz_identity_open(xz_identity **out, const xz_identity_cfg *cfg,
     char *whybuf, size_t whylen);
void xz_identity_close(xz_identity *id);

/* The number of users (for "is this a fresh database?"). */
size_t xz_identity_user_count(xz_identity *id);

/*
 * Check a token. XZ_OK and *out filled (the caller owns it:
 * xz_ident_user_clear), plus the session's public id "t-" + 12 hex of its
 * hash in sid (XZ_IDENTITY_SID_LEN bytes) when sid is not NULL; or
 * XZ_EPERM with *why one of "unknown", "expired", "revoked", "locked".
 * Never touches the disk.
 */
#define XZ_IDENTITY_SID_LEN 16
int xz_identity_token_user(xz_identity *id, const char *token,
    xz_ident_user *out, char *sid, const char **why);

/* A user by id (config uid/certificate mappings that name a user): XZ_OK
 * and *out (caller owns), or XZ_ENOENT ("unknown") / XZ_EPERM ("locked")
 * with *why. */
int xz_identity_user(
    xz_identity *id, const char *user, xz_ident_user *out, const char **why);

/* What a login gives back. */
typedef struct xz_login_result {
	int rc; /* XZ_OK, XZ_EPERM (refused), or another error */
	/* Refused: "unknown_user", "wrong_password", "locked",
	 * "rate_limited"; other errors: a short reason. Static text. */
	const char   *why;
	uint64_t      retry_after_ms; /* rate_limited: how long to wait */
	char          token[XZ_IDENTITY_TOKEN_MAX]; /* XZ_OK: the new token */
	char          sid[XZ_IDENTITY_SID_LEN]; /* XZ_OK: its public id */
	uint64_t      expires_ms;
	xz_ident_user user; /* XZ_OK (and locked): the user; caller clears */
	uint64_t      took_ms; /* time spent, hashing included */
} xz_login_result;

/*
 * Verify user + password and create a session. Blocks for the argon2id
 * verification (50-500 ms): never call it on a bus worker; see
 * xz_identity_login_async. source names where the attempt came from (rate
 * limiting); may be NULL. An unknown user costs the same hash as a known
 * one, so the time does not tell whether a name exists.
 */
void xz_identity_login(xz_identity *id, const char *user, const char *password,
    const char *source, xz_login_result *res);

/*
 * The same on the identity's own login thread: returns XZ_OK at once and
 * calls done(ud, res) from that thread later (res is valid during the
 * call; done owns res->user: clear it), or XZ_EFULL when
 * XZ_IDENTITY_QUEUE logins already wait, or XZ_ECLOSED while closing (done
 * is then never called). password is copied (and wiped after use).
 */
#define XZ_IDENTITY_QUEUE 64
typedef void (*xz_login_done)(void *ud, xz_login_result *res);
int xz_identity_login_async(xz_identity *id, const char *user,
    const char *password, const char *source, xz_login_done done, void *ud);

/* Run fn(ud) on the login thread, after the logins queued before it (slow
 * work such as hashing many passwords). XZ_OK or XZ_ECLOSED/XZ_ENOMEM. */
int xz_identity_post(xz_identity *id, void (*fn)(void *ud), void *ud);

/* True once xz_identity_close has begun: long posted work (hashing many
 * passwords) checks it and gives up, so a stopping node does not wait. */
bool xz_identity_closing(xz_identity *id);

/* Revoke the session of token: XZ_OK (the session's user copied into
 * userbuf when not NULL), or XZ_ENOENT ("unknown") / XZ_ESTATE
 * ("revoked", "expired") with *why. */
int xz_identity_logout(xz_identity *id, const char *token, char *userbuf,
    size_t userlen, const char **why);

/* Administration. Each returns XZ_OK or an error with *why (static):
 *   add:    XZ_EINVAL (bad id, name, agency, role, password),
 *           XZ_EEXIST; password may be NULL (no login until passwd)
 *   lock/unlock/passwd/remove: XZ_ENOENT for an unknown user
 * passwd hashes (slow: not on a bus worker) and revokes the user's
 * sessions; lock keeps them (a check says "locked") and unlock lets them
 * live again. */
int xz_identity_user_add(xz_identity *id, const char *user, const char *name,
    const char *agency, const char *const *roles, const char *password,
    const char **why);
int xz_identity_user_lock(
    xz_identity *id, const char *user, bool locked, const char **why);
int xz_identity_user_passwd(
    xz_identity *id, const char *user, const char *password, const char **why);
/* Every user, sorted by id: *out (caller frees each with
 * xz_ident_user_clear, then free(*out)). */
int xz_identity_users(xz_identity *id, xz_ident_user **out, size_t *n);

/* Hash a password with the identity's cost (slow). XZ_OK and out (a
 * string of up to XZ_IDENTITY_HASH_MAX bytes) or XZ_EINVAL/XZ_ENOMEM. */
#define XZ_IDENTITY_HASH_MAX 128
int xz_identity_hash(xz_identity *id, const char *password, char *out);
/* Add a user with a hash made beforehand (demo seeding hashes outside
 * the lock); same errors as xz_identity_user_add. */
int xz_identity_user_add_hashed(xz_identity *id, const char *user,
    const char *name, const char *agency, const char *const *roles,
    const char *hash, const char **why);

/* A random password for a new account: len - 1 characters of base64url
 * (len >= 17: at least 96 bits). */
void xz_identity_random_password(char *out, size_t len);

/* Checks of the fields, shared with the CLI: true when valid. */
bool xz_identity_valid_user(const char *s);
bool xz_identity_valid_name(const char *s);
bool xz_identity_valid_agency(const char *s);
bool xz_identity_valid_role(const char *s);
bool xz_identity_valid_password(const char *s);
bool xz_identity_valid_token(const char *s);

/* Counters since open (for `status`). */
typedef struct xz_identity_stats {
	uint64_t logins_ok, logins_failed, logins_rate_limited;
	uint64_t token_checks, token_refused;
	uint64_t sessions_live;
} xz_identity_stats;
void xz_identity_stats_get(xz_identity *id, xz_identity_stats *s);

#endif
