/*
 * test_identity.c - the identity store (core/auth/identity.c) on a real
 * SQLite file with real argon2id: users, logins, tokens (expiry,
 * revocation, locking), the failed-login limiter, persistence across a
 * reopen, and the login thread.
 *
 * Most cases hash at a low argon2 cost (t = 1, 1 MiB) so the suite stays
 * quick; test_default_cost checks the deployed parameters.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/identity.h"
#include <xiezhi/xiezhi.h>

static uint64_t fake_now = 1700000000000ull;

static uint64_t
clock_fn(void *ud)
{
	(void) ud;
	return __atomic_load_n(&fake_now, __ATOMIC_SEQ_CST);
}

typedef struct fx {
	char         dir[64];
	char         path[128];
	xz_identity *id;
} fx;

static xz_identity *
open_id(fx *f, uint64_t ttl_ms)
{
	char            why[256] = "";
	xz_identity_cfg c        = { .path = f->path,
		       .token_ttl_ms       = ttl_ms,
		       .ops_limit          = 1,
		       .mem_limit          = 1u << 20,
		       .free_failures      = 3,
		       .backoff_ms         = 1000,
		       .backoff_max_ms     = 8000,
		       .now_ms             = clock_fn };
	xz_identity    *id       = NULL;
	int             rc       = xz_identity_open(&id, &c, why, sizeof(why));
	if (rc != XZ_OK)
		fprintf(stderr, "open: %s\n", why);
	assert_int_equal(rc, XZ_OK);
	return id;
}

static int
setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/xz-identity-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/identity.db", f->dir);
	fake_now = 1700000000000ull;
	f->id    = open_id(f, 3600000);
	*state   = f;
	return 0;
}

static int
teardown(void **state)
{
	fx  *f = *state;
	char cmd[128];
	xz_identity_close(f->id);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static const char *const officer[] = { "command_duty", NULL };

static void
add(xz_identity *id, const char *user, const char *pw)
{
	const char *why = NULL;
	int         rc  = xz_identity_user_add(
	             id, user, "张伟", "prison-01", officer, pw, &why);
	if (rc != XZ_OK)
		fprintf(stderr, "add %s: %s\n", user, why);
	assert_int_equal(rc, XZ_OK);
}

static void
test_file_mode(void **state)
{
	fx         *f = *state;
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void
test_add_validation(void **state)
{
	fx               *f          = *state;
	const char       *why        = NULL;
	const char *const bad_role[] = { "Bad-Role", NULL };
	const char *const none[]     = { NULL };

	add(f->id, "duty1", "correct horse");
	assert_int_equal(
	    xz_identity_user_add(f->id, "duty1", "x", "", officer, NULL, &why),
	    XZ_EEXIST);
	assert_int_equal(xz_identity_user_add(
	                     f->id, "Duty 1", "x", "", officer, NULL, &why),
	    XZ_EINVAL);
	assert_non_null(strstr(why, "user id"));
	assert_int_equal(xz_identity_user_add(
	                     f->id, "u2", "\xff\xfe", "", officer, NULL, &why),
	    XZ_EINVAL);
	assert_non_null(strstr(why, "UTF-8"));
	assert_int_equal(xz_identity_user_add(f->id, "u2", "x", "Prison 1",
	                     officer, NULL, &why),
	    XZ_EINVAL);
	assert_int_equal(
	    xz_identity_user_add(f->id, "u2", "x", "", bad_role, NULL, &why),
	    XZ_EINVAL);
	assert_int_equal(
	    xz_identity_user_add(f->id, "u2", "x", "", none, NULL, &why),
	    XZ_EINVAL);
	assert_int_equal(
	    xz_identity_user_add(f->id, "u2", "x", "", officer, "short", &why),
	    XZ_EINVAL);
	assert_non_null(strstr(why, "8..1024"));
	assert_int_equal(xz_identity_user_count(f->id), 1);
	/* A user without a password exists but cannot log in. */
	assert_int_equal(xz_identity_user_add(f->id, "nopw", "无密码",
	                     "prison-01", officer, NULL, &why),
	    XZ_OK);
	xz_login_result r;
	xz_identity_login(f->id, "nopw", "anything at all", "t", &r);
	assert_int_equal(r.rc, XZ_EPERM);
	xz_ident_user_clear(&r.user);
}

static void
test_login_and_token(void **state)
{
	fx             *f = *state;
	xz_login_result r;
	xz_ident_user   u;
	const char     *why = NULL;
	char            sid[XZ_IDENTITY_SID_LEN];

	add(f->id, "duty1", "correct horse");
	xz_identity_login(f->id, "duty1", "correct horse", "uid=1000", &r);
	assert_int_equal(r.rc, XZ_OK);
	assert_true(xz_identity_valid_token(r.token));
	assert_int_equal(strncmp(r.token, "xzt_", 4), 0);
	assert_int_equal(strlen(r.token), 4 + 43);
	assert_int_equal(r.expires_ms, fake_now + 3600000);
	assert_string_equal(r.user.name, "张伟");
	assert_string_equal(r.user.roles[0], "command_duty");
	assert_null(r.user.roles[1]);
	xz_ident_user_clear(&r.user);

	assert_int_equal(
	    xz_identity_token_user(f->id, r.token, &u, sid, &why), XZ_OK);
	assert_string_equal(u.user, "duty1");
	assert_string_equal(u.agency, "prison-01");
	assert_string_equal(sid, r.sid);
	assert_int_equal(strncmp(sid, "t-", 2), 0);
	xz_ident_user_clear(&u);

	/* Another token of the right shape: unknown. */
	char forged[80];
	snprintf(forged, sizeof(forged), "%s", r.token);
	forged[10] = forged[10] == 'A' ? 'B' : 'A';
	assert_int_equal(
	    xz_identity_token_user(f->id, forged, &u, NULL, &why), XZ_EPERM);
	assert_string_equal(why, "unknown");
	assert_int_equal(
	    xz_identity_token_user(f->id, "garbage", &u, NULL, &why),
	    XZ_EPERM);
	assert_string_equal(why, "unknown");

	/* Wrong password and unknown user: refused, told apart only in
	 * why (the reply to the caller is the same). */
	xz_identity_login(f->id, "duty1", "wrong horse", "uid=1000", &r);
	assert_int_equal(r.rc, XZ_EPERM);
	assert_string_equal(r.why, "wrong_password");
	assert_string_equal(r.token, "");
	xz_identity_login(f->id, "nobody", "wrong horse", "uid=1001", &r);
	assert_int_equal(r.rc, XZ_EPERM);
	assert_string_equal(r.why, "unknown_user");

	xz_identity_stats s;
	xz_identity_stats_get(f->id, &s);
	assert_int_equal(s.logins_ok, 1);
	assert_int_equal(s.logins_failed, 2);
	assert_int_equal(s.sessions_live, 1);
}

static void
test_expiry_lock_logout(void **state)
{
	fx             *f = *state;
	xz_login_result r, r2;
	xz_ident_user   u;
	const char     *why = NULL;
	char            who[80];

	add(f->id, "duty1", "correct horse");
	xz_identity_login(f->id, "duty1", "correct horse", "s", &r);
	assert_int_equal(r.rc, XZ_OK);
	xz_ident_user_clear(&r.user);

	/* Locked: the token says so, a login too; unlock restores. */
	assert_int_equal(
	    xz_identity_user_lock(f->id, "duty1", true, &why), XZ_OK);
	assert_int_equal(
	    xz_identity_token_user(f->id, r.token, &u, NULL, &why), XZ_EPERM);
	assert_string_equal(why, "locked");
	xz_identity_login(f->id, "duty1", "correct horse", "s", &r2);
	assert_int_equal(r2.rc, XZ_EPERM);
	assert_string_equal(r2.why, "locked");
	xz_ident_user_clear(&r2.user);
	assert_int_equal(xz_identity_user(f->id, "duty1", &u, &why), XZ_EPERM);
	assert_string_equal(why, "locked");
	assert_int_equal(
	    xz_identity_user_lock(f->id, "duty1", false, &why), XZ_OK);
	assert_int_equal(
	    xz_identity_token_user(f->id, r.token, &u, NULL, &why), XZ_OK);
	xz_ident_user_clear(&u);
	assert_int_equal(xz_identity_user(f->id, "duty1", &u, &why), XZ_OK);
	xz_ident_user_clear(&u);
	assert_int_equal(
	    xz_identity_user(f->id, "ghost", &u, &why), XZ_ENOENT);
	assert_int_equal(
	    xz_identity_user_lock(f->id, "ghost", true, &why), XZ_ENOENT);

	/* Expiry on the given clock. */
	__atomic_add_fetch(&fake_now, 3600000, __ATOMIC_SEQ_CST);
	assert_int_equal(
	    xz_identity_token_user(f->id, r.token, &u, NULL, &why), XZ_EPERM);
	assert_string_equal(why, "expired");
	assert_int_equal(
	    xz_identity_logout(f->id, r.token, who, sizeof(who), &why),
	    XZ_ESTATE);
	assert_string_equal(why, "expired");

	/* Logout revokes. */
	xz_identity_login(f->id, "duty1", "correct horse", "s", &r);
	assert_int_equal(r.rc, XZ_OK);
	xz_ident_user_clear(&r.user);
	assert_int_equal(
	    xz_identity_logout(f->id, r.token, who, sizeof(who), &why), XZ_OK);
	assert_string_equal(who, "duty1");
	assert_int_equal(
	    xz_identity_token_user(f->id, r.token, &u, NULL, &why), XZ_EPERM);
	assert_string_equal(why, "revoked");
	assert_int_equal(
	    xz_identity_logout(f->id, r.token, who, sizeof(who), &why),
	    XZ_ESTATE);
	assert_string_equal(why, "revoked");
}

static void
test_rate_limit(void **state)
{
	fx             *f = *state;
	xz_login_result r;

	add(f->id, "duty1", "correct horse");
	add(f->id, "leader1", "another horse");
	for (int i = 0; i < 3; i++) {
		xz_identity_login(f->id, "duty1", "nope nope", "uid=1000", &r);
		assert_string_equal(r.why, "wrong_password");
	}
	/* Refused without hashing, even with the right password. */
	xz_identity_login(f->id, "duty1", "correct horse", "uid=2000", &r);
	assert_int_equal(r.rc, XZ_EPERM);
	assert_string_equal(r.why, "rate_limited");
	assert_int_equal(r.retry_after_ms, 1000);
	/* The source is limited too, for another user. */
	xz_identity_login(f->id, "leader1", "another horse", "uid=1000", &r);
	assert_string_equal(r.why, "rate_limited");
	/* After the wait, one more failure doubles it. */
	__atomic_add_fetch(&fake_now, 1000, __ATOMIC_SEQ_CST);
	xz_identity_login(f->id, "duty1", "nope nope", "uid=3000", &r);
	assert_string_equal(r.why, "wrong_password");
	xz_identity_login(f->id, "duty1", "correct horse", "uid=3000", &r);
	assert_string_equal(r.why, "rate_limited");
	assert_int_equal(r.retry_after_ms, 2000);
	/* Bounded: failures past the cap wait backoff_max_ms. */
	for (int i = 0; i < 6; i++) {
		__atomic_add_fetch(&fake_now, 8000, __ATOMIC_SEQ_CST);
		xz_identity_login(f->id, "duty1", "nope nope", "uid=4000", &r);
		assert_string_equal(r.why, "wrong_password");
	}
	xz_identity_login(f->id, "duty1", "correct horse", "uid=5000", &r);
	assert_string_equal(r.why, "rate_limited");
	assert_int_equal(r.retry_after_ms, 8000);
	__atomic_add_fetch(&fake_now, 8000, __ATOMIC_SEQ_CST);
	xz_identity_login(f->id, "duty1", "correct horse", "uid=5000", &r);
	assert_int_equal(r.rc, XZ_OK);
	xz_ident_user_clear(&r.user);
	/* A success clears the user's count. */
	xz_identity_login(f->id, "duty1", "nope nope", "uid=5000", &r);
	assert_string_equal(r.why, "wrong_password");
	xz_identity_login(f->id, "duty1", "correct horse", "uid=5000", &r);
	assert_int_equal(r.rc, XZ_OK);
	xz_ident_user_clear(&r.user);
	xz_identity_stats s;
	xz_identity_stats_get(f->id, &s);
	assert_int_equal(s.logins_rate_limited, 4);
}

static void
test_passwd_and_persistence(void **state)
{
	fx             *f = *state;
	xz_login_result r, r2;
	xz_ident_user   u;
	const char     *why = NULL;

	add(f->id, "duty1", "correct horse");
	xz_identity_login(f->id, "duty1", "correct horse", "s", &r);
	assert_int_equal(r.rc, XZ_OK);
	xz_ident_user_clear(&r.user);
	xz_identity_login(f->id, "duty1", "correct horse", "s", &r2);
	assert_int_equal(r2.rc, XZ_OK);
	xz_ident_user_clear(&r2.user);
	assert_int_equal(
	    xz_identity_logout(f->id, r2.token, NULL, 0, &why), XZ_OK);

	/* Reopen: users and sessions come back from the file. */
	xz_identity_close(f->id);
	f->id = open_id(f, 3600000);
	assert_int_equal(xz_identity_user_count(f->id), 1);
	assert_int_equal(
	    xz_identity_token_user(f->id, r.token, &u, NULL, &why), XZ_OK);
	xz_ident_user_clear(&u);
	assert_int_equal(
	    xz_identity_token_user(f->id, r2.token, &u, NULL, &why), XZ_EPERM);
	assert_string_equal(why, "revoked");

	/* A new password revokes every session and replaces the old. */
	assert_int_equal(
	    xz_identity_user_passwd(f->id, "duty1", "battery staple", &why),
	    XZ_OK);
	assert_int_equal(
	    xz_identity_token_user(f->id, r.token, &u, NULL, &why), XZ_EPERM);
	assert_string_equal(why, "revoked");
	xz_identity_login(f->id, "duty1", "correct horse", "s", &r);
	assert_string_equal(r.why, "wrong_password");
	xz_identity_login(f->id, "duty1", "battery staple", "s", &r);
	assert_int_equal(r.rc, XZ_OK);
	xz_ident_user_clear(&r.user);
	assert_int_equal(
	    xz_identity_user_passwd(f->id, "ghost", "battery staple", &why),
	    XZ_ENOENT);

	xz_ident_user *v = NULL;
	size_t         n = 0;
	assert_int_equal(xz_identity_users(f->id, &v, &n), XZ_OK);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].user, "duty1");
	assert_int_equal(v[0].sessions, 1);
	assert_true(v[0].has_password);
	xz_ident_user_clear(&v[0]);
	free(v);
}

typedef struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	int             done, ok;
	pthread_t       thread;
} waiter;

static void
on_done(void *ud, xz_login_result *r)
{
	waiter *w = ud;
	pthread_mutex_lock(&w->mu);
	w->done++;
	w->ok += r->rc == XZ_OK;
	w->thread = pthread_self();
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	xz_ident_user_clear(&r->user);
}

static void
test_async(void **state)
{
	fx    *f = *state;
	waiter w
	    = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0 };

	add(f->id, "duty1", "correct horse");
	assert_int_equal(xz_identity_login_async(f->id, "duty1",
	                     "correct horse", "s", on_done, &w),
	    XZ_OK);
	assert_int_equal(xz_identity_login_async(
	                     f->id, "duty1", "wrong horse", "s", on_done, &w),
	    XZ_OK);
	pthread_mutex_lock(&w.mu);
	while (w.done < 2)
		pthread_cond_wait(&w.cv, &w.mu);
	pthread_mutex_unlock(&w.mu);
	assert_int_equal(w.ok, 1);
	assert_false(pthread_equal(w.thread, pthread_self()));
}

static void
test_default_cost(void **state)
{
	fx             *f = *state;
	char            why[256], path[160], hash[XZ_IDENTITY_HASH_MAX];
	xz_identity    *id = NULL;
	xz_identity_cfg c  = { .path = path };

	snprintf(path, sizeof(path), "%s/other.db", f->dir);
	assert_int_equal(xz_identity_open(&id, &c, why, sizeof(why)), XZ_OK);
	assert_int_equal(xz_identity_hash(id, "correct horse", hash), XZ_OK);
	assert_non_null(strstr(hash, "$argon2id$v=19$m=65536,t=3,p=1$"));
	assert_int_equal(xz_identity_hash(id, "short", hash), XZ_EINVAL);
	xz_identity_close(id);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_file_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_add_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_login_and_token, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_expiry_lock_logout, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_rate_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_passwd_and_persistence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_default_cost, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
