/*
 * certproof.c - the certificate-bound HELLO (certproof.h) on OpenSSL
 * libcrypto: no cryptography of our own, only the library's X.509 chain
 * check, CRL lookup and EVP signatures.
 */
#include "wire/certproof.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/client.h"

/* The errors in 简体中文 (wire/client_msg.c), by LANG. */
#define CT(s) XZ_TR(xz_client_zh, s)

static int
fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	ERR_clear_error();
	return -1;
}

static void
hex(const unsigned char *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i]     = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int
xz_certproof_nonce(char out[XZ_CERTPROOF_NONCE_HEX + 1])
{
	unsigned char b[XZ_CERTPROOF_NONCE_HEX / 2];

	if (RAND_bytes(b, (int) sizeof(b)) != 1) {
		ERR_clear_error();
		return -1;
	}
	hex(b, sizeof(b), out);
	return 0;
}

/* base64 of b[0..n), malloc'ed (the caller frees), or NULL. */
static char *
b64_encode(const unsigned char *b, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (out != NULL)
		EVP_EncodeBlock((unsigned char *) out, b, (int) n);
	return out;
}

/* Decode base64 s into a malloc'ed buffer (the caller frees), *n its
 * length; NULL when s is not base64. */
static unsigned char *
b64_decode(const char *s, size_t *n)
{
	size_t         len = strlen(s), pad = 0;
	unsigned char *out;
	int            got;

	if (len == 0 || len % 4 != 0 || len > (1u << 20))
		return NULL;
	if ((out = malloc(len / 4 * 3 + 1)) == NULL)
		return NULL;
	if ((got = EVP_DecodeBlock(out, (const unsigned char *) s, (int) len))
	    < 0) {
		free(out);
		return NULL;
	}
	pad = (s[len - 1] == '=') + (s[len - 2] == '=');
	*n  = (size_t) got - pad;
	return out;
}

/* The digest a key signs with: NULL for Ed25519 and Ed448 (they hash
 * themselves), else SHA-256. */
static const EVP_MD *
md_of(EVP_PKEY *k)
{
	int id = EVP_PKEY_get_base_id(k);
	return id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? NULL
	                                                      : EVP_sha256();
}

/* The signed message: context, then the nonce's text. */
static size_t
message(const char *nonce, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s%s", XZ_CERTPROOF_CONTEXT, nonce);
	return n > 0 && (size_t) n < len ? (size_t) n : 0;
}

int
xz_certproof_sign(const char *cert_file, const char *key_file,
    const char *nonce, char **cert_b64, char **sig_b64, char *why,
    size_t whylen)
{
	FILE          *f;
	X509          *x   = NULL;
	EVP_PKEY      *key = NULL;
	EVP_MD_CTX    *mc  = NULL;
	unsigned char *der = NULL, *sig = NULL;
	char           msg[160];
	size_t         mlen = message(nonce, msg, sizeof(msg)), slen = 0;
	int            dlen, rc                                      = -1;

	*cert_b64 = *sig_b64 = NULL;
	if (mlen == 0)
		return fail(
		    why, whylen, "%s", CT("the node's nonce is too long"));
	if ((f = fopen(cert_file, "r")) == NULL)
		return fail(why, whylen, CT("cannot read %s"), cert_file);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL)
		return fail(
		    why, whylen, CT("%s holds no PEM certificate"), cert_file);
	const char *kf = key_file != NULL ? key_file : cert_file;
	if ((f = fopen(kf, "r")) == NULL) {
		fail(why, whylen, CT("cannot read %s"), kf);
		goto out;
	}
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (key == NULL) {
		fail(why, whylen, CT("%s holds no PEM private key"), kf);
		goto out;
	}
	if (X509_check_private_key(x, key) != 1) {
		fail(why, whylen, CT("the key of %s does not belong to %s"),
		    kf, cert_file);
		goto out;
	}
	if ((dlen = i2d_X509(x, &der)) <= 0
	    || (*cert_b64 = b64_encode(der, (size_t) dlen)) == NULL) {
		fail(why, whylen, CT("cannot encode %s"), cert_file);
		goto out;
	}
	if ((mc = EVP_MD_CTX_new()) == NULL
	    || EVP_DigestSignInit(mc, NULL, md_of(key), NULL, key) != 1
	    || EVP_DigestSign(mc, NULL, &slen, (unsigned char *) msg, mlen)
	        != 1
	    || (sig = malloc(slen)) == NULL
	    || EVP_DigestSign(mc, sig, &slen, (unsigned char *) msg, mlen) != 1
	    || (*sig_b64 = b64_encode(sig, slen)) == NULL) {
		fail(why, whylen, CT("cannot sign with the key of %s"), kf);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0) {
		free(*cert_b64);
		*cert_b64 = NULL;
	}
	EVP_MD_CTX_free(mc);
	OPENSSL_free(der);
	free(sig);
	EVP_PKEY_free(key);
	X509_free(x);
	ERR_clear_error();
	return rc;
}

/* The CRL is the door's own file, rewritten at every revocation: its
 * nextUpdate says nothing about its freshness here, so a CRL past it
 * still counts (else every certificate would be refused 30 days after
 * the last `revoke`). Everything else stands as OpenSSL decided. */
static int
verify_cb(int ok, X509_STORE_CTX *vc)
{
	int e = X509_STORE_CTX_get_error(vc);

	if (!ok
	    && (e == X509_V_ERR_CRL_HAS_EXPIRED
	        || e == X509_V_ERR_CRL_NOT_YET_VALID))
		return 1;
	return ok;
}

/* Every certificate of a PEM file into st; -1 when none could be read. */
static int
load_cas(X509_STORE *st, const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;
	int   n = 0;

	if (f == NULL)
		return -1;
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(st, x) == 1)
			n++;
		X509_free(x);
	}
	fclose(f);
	ERR_clear_error();
	return n > 0 ? 0 : -1;
}

/* Every CRL of a PEM file into st; -1 when none could be read. */
static int
load_crls(X509_STORE *st, const char *path)
{
	FILE     *f = fopen(path, "r");
	X509_CRL *c;
	int       n = 0;

	if (f == NULL)
		return -1;
	while ((c = PEM_read_X509_CRL(f, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_crl(st, c) == 1)
			n++;
		X509_CRL_free(c);
	}
	fclose(f);
	ERR_clear_error();
	return n > 0 ? 0 : -1;
}

int
xz_certproof_verify(const char *ca_file, const char *crl_file,
    const char *cert_b64, const char *nonce, const char *sig_b64,
    xz_certproof_id *id, char *why, size_t whylen)
{
	unsigned char       *der = NULL, *sig = NULL;
	const unsigned char *p;
	size_t               dlen = 0, slen = 0;
	X509                *x  = NULL;
	X509_STORE          *st = NULL;
	X509_STORE_CTX      *vc = NULL;
	EVP_MD_CTX          *mc = NULL;
	char                 msg[160];
	size_t               mlen = 0;
	int                  rc   = -1;

	memset(id, 0, sizeof(*id));
	if (nonce == NULL || strlen(nonce) != XZ_CERTPROOF_NONCE_HEX
	    || (mlen = message(nonce, msg, sizeof(msg))) == 0)
		return fail(
		    why, whylen, "%s", CT("the HELLO's nonce is malformed"));
	if (cert_b64 == NULL || (der = b64_decode(cert_b64, &dlen)) == NULL)
		return fail(why, whylen, "%s",
		    CT("the HELLO's cert is not a base64 DER certificate"));
	p = der;
	if ((x = d2i_X509(NULL, &p, (long) dlen)) == NULL || p != der + dlen) {
		fail(why, whylen, "%s",
		    CT("the HELLO's cert is not a DER X.509 certificate"));
		goto out;
	}
	/* Name it first, so that a refusal can say whose it was. */
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int  mdlen = 0;
	if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1 && mdlen == 32)
		hex(md, 32, id->sha256);
	X509_NAME *sn = X509_get_subject_name(x);
	if (sn == NULL
	    || X509_NAME_get_text_by_NID(
	           sn, NID_commonName, id->cn, (int) sizeof(id->cn))
	        <= 0)
		id->cn[0] = '\0';
	const ASN1_INTEGER *ser = X509_get0_serialNumber(x);
	BIGNUM             *bn  = ser ? ASN1_INTEGER_to_BN(ser, NULL) : NULL;
	char               *sh  = bn ? BN_bn2hex(bn) : NULL;
	if (sh != NULL)
		snprintf(id->serial, sizeof(id->serial), "%s", sh);
	OPENSSL_free(sh);
	BN_free(bn);
	if (id->cn[0] == '\0') {
		fail(why, whylen, "%s",
		    CT("the certificate has no common name"));
		goto out;
	}

	/* The chain, the validity period and the revocation list. */
	if ((st = X509_STORE_new()) == NULL) {
		fail(why, whylen, "%s", CT("out of memory"));
		goto out;
	}
	if (ca_file == NULL || load_cas(st, ca_file) != 0) {
		fail(why, whylen, CT("the door's CA %s cannot be read"),
		    ca_file ? ca_file : "(none)");
		goto out;
	}
	if (crl_file != NULL) {
		if (load_crls(st, crl_file) != 0) {
			fail(why, whylen,
			    CT("the door's CRL %s cannot be read: no "
			       "certificate is accepted"),
			    crl_file);
			goto out;
		}
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
		X509_STORE_set_verify_cb(st, verify_cb);
	}
	if ((vc = X509_STORE_CTX_new()) == NULL
	    || X509_STORE_CTX_init(vc, st, x, NULL) != 1
	    || X509_STORE_CTX_set_purpose(vc, X509_PURPOSE_SSL_CLIENT) != 1) {
		fail(why, whylen, "%s", CT("out of memory"));
		goto out;
	}
	if (X509_verify_cert(vc) != 1) {
		int e = X509_STORE_CTX_get_error(vc);
		fail(why, whylen, CT("certificate '%s' (serial %s): %s"),
		    id->cn, id->serial, X509_verify_cert_error_string(e));
		goto out;
	}

	/* The key signed this connection's nonce. */
	EVP_PKEY *key = X509_get0_pubkey(x);
	if (sig_b64 == NULL || (sig = b64_decode(sig_b64, &slen)) == NULL) {
		fail(why, whylen, "%s", CT("the HELLO's sig is not base64"));
		goto out;
	}
	if (key == NULL || (mc = EVP_MD_CTX_new()) == NULL
	    || EVP_DigestVerifyInit(mc, NULL, md_of(key), NULL, key) != 1
	    || EVP_DigestVerify(mc, sig, slen, (unsigned char *) msg, mlen)
	        != 1) {
		fail(why, whylen,
		    CT("certificate '%s': the signature over the node's nonce "
		       "does not verify (not made by its key, or over another "
		       "nonce)"),
		    id->cn);
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(mc);
	X509_STORE_CTX_free(vc);
	X509_STORE_free(st);
	X509_free(x);
	free(der);
	free(sig);
	ERR_clear_error();
	return rc;
}
