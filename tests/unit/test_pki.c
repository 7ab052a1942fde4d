/*
 * test_pki.c - the node CA (core/auth/pki.c): a CA is made once with a
 * private key file, issued certificates verify against it with OpenSSL's
 * own verifier (and carry the usage of their kind), a revoked one is in
 * the CRL and then fails verification with CRL checking on.
 */
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
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "auth/pki.h"
#include <xiezhi/xiezhi.h>

static char dir[64], pki[128], out[128];

static X509 *
read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

/* OpenSSL's verdict on cert against the CA (and the CRL if given). */
static int
verify(const char *cert, bool with_crl)
{
	char        p[256];
	X509_STORE *store = X509_STORE_new();
	X509       *ca, *x = read_cert(cert);

	snprintf(p, sizeof(p), "%s/ca.pem", pki);
	ca = read_cert(p);
	X509_STORE_add_cert(store, ca);
	if (with_crl) {
		snprintf(p, sizeof(p), "%s/crl.pem", pki);
		FILE     *f = fopen(p, "r");
		X509_CRL *crl
		    = f ? PEM_read_X509_CRL(f, NULL, NULL, NULL) : NULL;
		if (f)
			fclose(f);
		assert_non_null(crl);
		X509_STORE_add_crl(store, crl);
		X509_CRL_free(crl);
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	}
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_STORE_CTX_init(ctx, store, x, NULL);
	int ok  = X509_verify_cert(ctx);
	int err = X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(ca);
	X509_free(x);
	return ok == 1 ? X509_V_OK : err;
}

static void
test_ca_issue_revoke(void **state)
{
	char        why[512], p[256], serial[41], sha[65], cn[80];
	struct stat st;
	int         count;
	(void) state;

	assert_false(xz_pki_ca_exists(pki));
	assert_int_equal(
	    xz_pki_ca_init(pki, "n1-ca", 0, why, sizeof(why)), XZ_OK);
	assert_true(xz_pki_ca_exists(pki));
	snprintf(p, sizeof(p), "%s/ca.key", pki);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(pki, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Never overwritten. */
	assert_int_equal(
	    xz_pki_ca_init(pki, "n1-ca", 0, why, sizeof(why)), XZ_EEXIST);
	assert_non_null(strstr(why, "never overwritten"));

	assert_int_equal(xz_pki_issue(pki, "kiosk-03", "client", NULL, 0, out,
	                     serial, why, sizeof(why)),
	    XZ_OK);
	const char *const dns[] = { "localhost", NULL };
	assert_int_equal(xz_pki_issue(pki, "bureau", "node", dns, 30, out,
	                     NULL, why, sizeof(why)),
	    XZ_OK);
	snprintf(p, sizeof(p), "%s/kiosk-03.key", out);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(p, sizeof(p), "%s/ca.pem", out);
	assert_int_equal(access(p, R_OK), 0);

	snprintf(p, sizeof(p), "%s/kiosk-03.pem", out);
	assert_int_equal(verify(p, true), X509_V_OK);
	X509 *x = read_cert(p);
	assert_true(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT);
	assert_false(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
	assert_int_equal(X509_check_host(x, "kiosk-03", 0, 0, NULL), 1);
	X509_free(x);
	assert_int_equal(
	    xz_pki_cert_info(p, sha, cn, sizeof(cn), why, sizeof(why)), XZ_OK);
	assert_string_equal(cn, "kiosk-03");
	assert_int_equal(strlen(sha), 64);

	snprintf(p, sizeof(p), "%s/bureau.pem", out);
	x = read_cert(p);
	assert_true(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
	assert_true(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT);
	assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
	X509_free(x);

	xz_pki_cert *v = NULL;
	size_t       n = 0;
	assert_int_equal(xz_pki_list(pki, &v, &n, why, sizeof(why)), XZ_OK);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].cn, "kiosk-03");
	assert_string_equal(v[0].serial, serial);
	assert_string_equal(v[0].sha256, sha);
	assert_string_equal(v[1].kind, "node");
	assert_int_equal(v[0].revoked_at, 0);
	free(v);

	/* Revoke by CN: the CRL names it, verification with it fails. */
	assert_int_equal(
	    xz_pki_revoke(pki, "kiosk-03", &count, why, sizeof(why)), XZ_OK);
	assert_int_equal(count, 1);
	snprintf(p, sizeof(p), "%s/kiosk-03.pem", out);
	assert_int_equal(verify(p, true), X509_V_ERR_CERT_REVOKED);
	assert_int_equal(verify(p, false), X509_V_OK);
	snprintf(p, sizeof(p), "%s/bureau.pem", out);
	assert_int_equal(verify(p, true), X509_V_OK);
	assert_int_equal(
	    xz_pki_revoke(pki, "kiosk-03", &count, why, sizeof(why)),
	    XZ_ENOENT);
	assert_int_equal(xz_pki_list(pki, &v, &n, why, sizeof(why)), XZ_OK);
	assert_true(v[0].revoked_at > 0);
	assert_int_equal(v[1].revoked_at, 0);
	free(v);
}

static void
test_bad_input(void **state)
{
	char why[512];
	(void) state;

	assert_int_equal(xz_pki_issue(pki, "kiosk-03", "client", NULL, 0, out,
	                     NULL, why, sizeof(why)),
	    XZ_ENOENT);
	assert_non_null(strstr(why, "identity ca init"));
	assert_int_equal(
	    xz_pki_ca_init(pki, "bad cn", 0, why, sizeof(why)), XZ_EINVAL);
	assert_int_equal(
	    xz_pki_ca_init(pki, "n1-ca", 0, why, sizeof(why)), XZ_OK);
	assert_int_equal(xz_pki_issue(pki, "../etc", "client", NULL, 0, out,
	                     NULL, why, sizeof(why)),
	    XZ_EINVAL);
	assert_int_equal(xz_pki_issue(pki, "k1", "admin", NULL, 0, out, NULL,
	                     why, sizeof(why)),
	    XZ_EINVAL);
	assert_non_null(strstr(why, "client, server or node"));
}

static int
setup(void **state)
{
	(void) state;
	snprintf(dir, sizeof(dir), "/tmp/xz-pki-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(pki, sizeof(pki), "%s/pki", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];
	(void) state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_ca_issue_revoke, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_bad_input, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
