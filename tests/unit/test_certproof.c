/*
 * test_certproof.c - the certificate-bound HELLO's cryptography
 * (core/wire/certproof.c) against certificates of the node CA
 * (core/auth/pki.c): a proof over the node's nonce verifies and names the
 * CN and fingerprint; the same signature under another nonce (a replayed
 * HELLO), a certificate of another CA, a revoked one, an expired one, a
 * key that is not the certificate's, and malformed fields are each
 * refused with the reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "auth/pki.h"
#include "wire/certproof.h"

static char dir[64], pki[128], other[128], out[128], fout[128];
static char ca[160], crl[160];

static void
path(char *buf, size_t n, const char *d, const char *file)
{
	snprintf(buf, n, "%s/%s", d, file);
}

static int
setup(void **state)
{
	char why[200];
	(void) state;
	snprintf(dir, sizeof(dir), "/tmp/xz-certproof-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	path(pki, sizeof(pki), dir, "pki");
	path(other, sizeof(other), dir, "other");
	path(out, sizeof(out), dir, "certs");
	path(fout, sizeof(fout), dir, "foreign");
	path(ca, sizeof(ca), pki, "ca.pem");
	path(crl, sizeof(crl), pki, "crl.pem");
	if (xz_pki_ca_init(pki, "t-ca", 0, why, sizeof(why)) != 0
	    || xz_pki_ca_init(other, "other-ca", 0, why, sizeof(why)) != 0)
		return -1;
	const char *cns[] = { "kiosk-03", "kiosk-04" };
	for (int i = 0; i < 2; i++)
		if (xz_pki_issue(pki, cns[i], "client", NULL, 0, out, NULL,
		        why, sizeof(why))
		    != 0)
			return -1;
	return xz_pki_issue(other, "kiosk-03", "client", NULL, 0, fout, NULL,
	    why, sizeof(why));
}

static int
teardown(void **state)
{
	char cmd[128];
	(void) state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Sign nonce with CN's certificate and key of folder d. */
static void
sign(const char *d, const char *cn, const char *nonce, char **cert, char **sig)
{
	char c[200], k[200], file[80], why[200] = "";
	snprintf(file, sizeof(file), "%s.pem", cn);
	path(c, sizeof(c), d, file);
	snprintf(file, sizeof(file), "%s.key", cn);
	path(k, sizeof(k), d, file);
	if (xz_certproof_sign(c, k, nonce, cert, sig, why, sizeof(why)) != 0)
		fail_msg("sign as %s: %s", cn, why);
}

static void
test_good_and_replayed(void **state)
{
	char            n1[XZ_CERTPROOF_NONCE_HEX + 1], n2[sizeof(n1)];
	char           *cert, *sig, why[300] = "", fp[65], cn[65], pem[200];
	xz_certproof_id id;
	(void) state;

	assert_int_equal(xz_certproof_nonce(n1), 0);
	assert_int_equal(xz_certproof_nonce(n2), 0);
	assert_int_equal(strlen(n1), XZ_CERTPROOF_NONCE_HEX);
	assert_string_not_equal(n1, n2);
	sign(out, "kiosk-03", n1, &cert, &sig);

	/* Over its own nonce: the CN and the fingerprint of the file. */
	if (xz_certproof_verify(ca, crl, cert, n1, sig, &id, why, sizeof(why))
	    != 0)
		fail_msg("verify: %s", why);
	assert_string_equal(id.cn, "kiosk-03");
	path(pem, sizeof(pem), out, "kiosk-03.pem");
	assert_int_equal(
	    xz_pki_cert_info(pem, fp, cn, sizeof(cn), why, sizeof(why)), 0);
	assert_string_equal(id.sha256, fp);

	/* The same HELLO on a connection given another nonce. */
	assert_int_equal(
	    xz_certproof_verify(ca, crl, cert, n2, sig, &id, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "signature over the node's nonce"));
	assert_string_equal(id.cn, "kiosk-03"); /* named all the same */

	/* Malformed fields. */
	assert_int_equal(xz_certproof_verify(
	                     ca, crl, cert, "abc", sig, &id, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "nonce is malformed"));
	assert_int_equal(xz_certproof_verify(ca, crl, "not base64!", n1, sig,
	                     &id, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "not a base64 DER certificate"));
	assert_int_equal(xz_certproof_verify(
	                     ca, crl, "AAAA", n1, sig, &id, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "not a DER X.509 certificate"));
	assert_int_equal(xz_certproof_verify(
	                     ca, crl, cert, n1, "@@@@", &id, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "sig is not base64"));
	assert_int_equal(xz_certproof_verify("/nonexistent/ca.pem", NULL, cert,
	                     n1, sig, &id, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "cannot be read"));
	free(cert);
	free(sig);
}

static void
test_foreign_revoked_wrong_key(void **state)
{
	char            n[XZ_CERTPROOF_NONCE_HEX + 1];
	char           *cert, *sig, why[300] = "", c[200], k[200];
	xz_certproof_id id;
	int             count = 0;
	(void) state;

	assert_int_equal(xz_certproof_nonce(n), 0);
	/* Another CA's kiosk-03: same CN, not this node's. */
	sign(fout, "kiosk-03", n, &cert, &sig);
	assert_int_equal(
	    xz_certproof_verify(ca, crl, cert, n, sig, &id, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "unable to get local issuer certificate"));
	free(cert);
	free(sig);

	/* Revoked: refused with the CRL, accepted without one. */
	sign(out, "kiosk-04", n, &cert, &sig);
	assert_int_equal(
	    xz_certproof_verify(ca, crl, cert, n, sig, &id, why, sizeof(why)),
	    0);
	assert_int_equal(
	    xz_pki_revoke(pki, "kiosk-04", &count, why, sizeof(why)), 0);
	assert_int_equal(count, 1);
	assert_int_equal(
	    xz_certproof_verify(ca, crl, cert, n, sig, &id, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "'kiosk-04'"));
	assert_non_null(strstr(why, "certificate revoked"));
	assert_int_equal(xz_certproof_verify(ca, "/nonexistent/crl.pem", cert,
	                     n, sig, &id, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "no certificate is accepted"));
	free(cert);
	free(sig);

	/* kiosk-03's certificate with kiosk-04's key: refused at signing. */
	path(c, sizeof(c), out, "kiosk-03.pem");
	path(k, sizeof(k), out, "kiosk-04.key");
	assert_int_equal(
	    xz_certproof_sign(c, k, n, &cert, &sig, why, sizeof(why)), -1);
	assert_null(cert);
	assert_null(sig);
	assert_non_null(strstr(why, "does not belong to"));
}

/* A client certificate for cn signed by the CA of pki, valid from 10
 * days ago until yesterday, written to out/CN.pem and out/CN.key. */
static void
write_expired(const char *cn)
{
	char      p[200], file[80];
	FILE     *f;
	X509     *cax, *x   = X509_new();
	EVP_PKEY *cak, *key = EVP_EC_gen("P-256");

	path(p, sizeof(p), pki, "ca.pem");
	assert_non_null(f = fopen(p, "r"));
	assert_non_null(cax = PEM_read_X509(f, NULL, NULL, NULL));
	fclose(f);
	path(p, sizeof(p), pki, "ca.key");
	assert_non_null(f = fopen(p, "r"));
	assert_non_null(cak = PEM_read_PrivateKey(f, NULL, NULL, NULL));
	fclose(f);
	assert_non_null(x);
	assert_non_null(key);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
	X509_gmtime_adj(X509_getm_notBefore(x), -10L * 86400L);
	X509_gmtime_adj(X509_getm_notAfter(x), -86400L);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *) cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(cax));
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, cak, EVP_sha256()) > 0);
	snprintf(file, sizeof(file), "%s.pem", cn);
	path(p, sizeof(p), out, file);
	assert_non_null(f = fopen(p, "w"));
	PEM_write_X509(f, x);
	fclose(f);
	snprintf(file, sizeof(file), "%s.key", cn);
	path(p, sizeof(p), out, file);
	assert_non_null(f = fopen(p, "w"));
	PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	X509_free(cax);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cak);
}

static void
test_expired(void **state)
{
	char            n[XZ_CERTPROOF_NONCE_HEX + 1];
	char           *cert, *sig, why[300] = "";
	xz_certproof_id id;
	(void) state;

	write_expired("kiosk-old");
	assert_int_equal(xz_certproof_nonce(n), 0);
	sign(out, "kiosk-old", n, &cert, &sig);
	assert_int_equal(
	    xz_certproof_verify(ca, crl, cert, n, sig, &id, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "'kiosk-old'"));
	assert_non_null(strstr(why, "certificate has expired"));
	free(cert);
	free(sig);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_and_replayed),
		cmocka_unit_test(test_foreign_revoked_wrong_key),
		cmocka_unit_test(test_expired),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
