/*
 * pki.c - the node CA on OpenSSL libcrypto (see pki.h). No cryptography
 * is written here: keys, signatures and encodings are OpenSSL's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "auth/pki.h"
#include "util/fs.h"
#include <xiezhi/xiezhi.h>

static int
fail(char *why, size_t wl, int rc, const char *fmt, ...)
{
	va_list ap;
	size_t  n;

	va_start(ap, fmt);
	vsnprintf(why, wl, fmt, ap);
	va_end(ap);
	n               = strlen(why);
	unsigned long e = ERR_get_error();
	if (e != 0 && n + 4 < wl) {
		snprintf(why + n, wl - n, ": ");
		ERR_error_string_n(e, why + n + 2, wl - n - 2);
	}
	ERR_clear_error();
	return rc;
}

bool
xz_pki_valid_cn(const char *cn)
{
	size_t n = cn ? strlen(cn) : 0;
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c  = cn[i];
		bool an = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		    || (c >= '0' && c <= '9');
		if (!an && (i == 0 || strchr("_.-", c) == NULL))
			return false;
	}
	return true;
}

static void
path_of(char *out, size_t len, const char *dir, const char *file)
{
	snprintf(out, len, "%s/%s", dir, file);
}

bool
xz_pki_ca_exists(const char *dir)
{
	char a[4096], b[4096];
	path_of(a, sizeof(a), dir, "ca.pem");
	path_of(b, sizeof(b), dir, "ca.key");
	return access(a, F_OK) == 0 && access(b, F_OK) == 0;
}

/* Open path for writing with mode (created or truncated, mode forced). */
static FILE *
open_mode(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return NULL;
	if (fchmod(fd, mode) != 0) {
		close(fd);
		return NULL;
	}
	FILE *f = fdopen(fd, "w");
	if (f == NULL)
		close(fd);
	return f;
}

static int
write_key(const char *path, EVP_PKEY *k)
{
	FILE *f = open_mode(path, 0600);
	if (f == NULL)
		return -1;
	int ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int
write_cert(const char *path, X509 *x)
{
	FILE *f = open_mode(path, 0644);
	if (f == NULL)
		return -1;
	int ok = PEM_write_X509(f, x) == 1;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (e == NULL)
		return -1;
	int ok = X509_add_ext(x, e, -1) == 1;
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

/* A random positive 128-bit serial, also as hex. */
static int
set_serial(X509 *x, char *hex)
{
	unsigned char raw[16];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	raw[0] &= 0x7f;
	raw[0] |= 0x40; /* no leading zero byte: a stable 32-digit form */
	BIGNUM *bn = BN_bin2bn(raw, sizeof(raw), NULL);
	int     ok = bn != NULL
	    && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	char *h = ok ? BN_bn2hex(bn) : NULL;
	if (h != NULL) {
		snprintf(hex, 41, "%s", h);
		for (char *p = hex; *p; p++)
			if (*p >= 'A' && *p <= 'F')
				*p = (char) (*p - 'A' + 'a');
	}
	OPENSSL_free(h);
	BN_free(bn);
	return ok && h ? 0 : -1;
}

static X509 *
new_cert(EVP_PKEY *key, const char *cn, int days, char *serial)
{
	X509 *x = X509_new();
	if (x == NULL || X509_set_version(x, 2) != 1 || set_serial(x, serial)
	    || X509_gmtime_adj(X509_getm_notBefore(x), -300) == NULL
	    || X509_gmtime_adj(X509_getm_notAfter(x), (long) days * 86400L)
	        == NULL
	    || X509_set_pubkey(x, key) != 1
	    || X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "O",
	           MBSTRING_UTF8, (const unsigned char *) "xiezhi", -1, -1, 0)
	        != 1
	    || X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	           MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0)
	        != 1) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static void
fingerprint(X509 *x, char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int  n = 0;
	hex[0]          = '\0';
	if (X509_digest(x, EVP_sha256(), md, &n) != 1)
		return;
	for (unsigned i = 0; i < n && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static int
append_index(const char *dir, const char *serial, const char *cn,
    const char *kind, int64_t not_after, const char *sha)
{
	char path[4096];
	path_of(path, sizeof(path), dir, "issued.tsv");
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	char line[512];
	int  n  = snprintf(line, sizeof(line), "%s\t%s\t%s\t%lld\t%s\t0\n",
	      serial, cn, kind, (long long) not_after, sha);
	int  ok = n > 0 && write(fd, line, (size_t) n) == n;
	return close(fd) == 0 && ok ? 0 : -1;
}

static int load_ca(
    const char *dir, X509 **ca, EVP_PKEY **key, char *why, size_t wl);
static int write_crl(const char *dir, X509 *ca, EVP_PKEY *key,
    const xz_pki_cert *certs, size_t n, char *why, size_t wl);

int
xz_pki_ca_init(const char *dir, const char *cn, int days, char *why, size_t wl)
{
	char      serial[41], p[4096];
	EVP_PKEY *key = NULL;
	X509     *x   = NULL;
	int       rc  = XZ_OK;

	if (!xz_pki_valid_cn(cn))
		return fail(why, wl, XZ_EINVAL,
		    "invalid CA name '%s' (1..64 of A-Z a-z 0-9 _ . -)", cn);
	if (xz_pki_ca_exists(dir))
		return fail(why, wl, XZ_EEXIST,
		    "%s already holds a CA (ca.pem, ca.key): it is never "
		    "overwritten",
		    dir);
	if (xz_mkdirs(dir, 0700) != 0 || chmod(dir, 0700) != 0)
		return fail(why, wl, XZ_EIO, "cannot create %s: %s", dir,
		    strerror(errno));
	if ((key = EVP_EC_gen("P-256")) == NULL
	    || (x = new_cert(
	            key, cn, days > 0 ? days : XZ_PKI_CA_DAYS, serial))
	        == NULL
	    || X509_set_issuer_name(x, X509_get_subject_name(x)) != 1
	    || add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE")
	    || add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign")
	    || add_ext(x, x, NID_subject_key_identifier, "hash")
	    || add_ext(x, x, NID_authority_key_identifier, "keyid:always")
	    || X509_sign(x, key, EVP_sha256()) == 0) {
		rc = fail(why, wl, XZ_EINTERNAL, "cannot make the CA");
		goto out;
	}
	path_of(p, sizeof(p), dir, "ca.key");
	if (write_key(p, key) != 0) {
		rc = fail(why, wl, XZ_EIO, "cannot write %s", p);
		goto out;
	}
	path_of(p, sizeof(p), dir, "ca.pem");
	if (write_cert(p, x) != 0) {
		rc = fail(why, wl, XZ_EIO, "cannot write %s", p);
		goto out;
	}
	rc = write_crl(dir, x, key, NULL, 0, why, wl);
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

static int
load_ca(const char *dir, X509 **ca, EVP_PKEY **key, char *why, size_t wl)
{
	char  p[4096];
	FILE *f;

	*ca  = NULL;
	*key = NULL;
	if (!xz_pki_ca_exists(dir))
		return fail(why, wl, XZ_ENOENT,
		    "no CA in %s (create it with `xiezhi identity ca init`)",
		    dir);
	path_of(p, sizeof(p), dir, "ca.pem");
	if ((f = fopen(p, "r")) == NULL)
		return fail(
		    why, wl, XZ_EIO, "cannot read %s: %s", p, strerror(errno));
	*ca = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	path_of(p, sizeof(p), dir, "ca.key");
	if ((f = fopen(p, "r")) == NULL) {
		X509_free(*ca);
		*ca = NULL;
		return fail(
		    why, wl, XZ_EIO, "cannot read %s: %s", p, strerror(errno));
	}
	*key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (*ca == NULL || *key == NULL) {
		X509_free(*ca);
		EVP_PKEY_free(*key);
		*ca  = NULL;
		*key = NULL;
		return fail(
		    why, wl, XZ_EINVAL, "the CA in %s is unreadable", dir);
	}
	return XZ_OK;
}

int
xz_pki_issue(const char *dir, const char *cn, const char *kind,
    const char *const *dns, int days, const char *outdir, char *serial_out,
    char *why, size_t wl)
{
	X509     *ca = NULL, *x = NULL;
	EVP_PKEY *cakey = NULL, *key = NULL;
	char      serial[41], sha[65], p[4096], san[2048], eku[64];
	int       rc;
	size_t    off;

	if (!xz_pki_valid_cn(cn))
		return fail(why, wl, XZ_EINVAL,
		    "invalid CN '%s' (1..64 of A-Z a-z 0-9 _ . -, starting "
		    "with a letter or digit)",
		    cn);
	if (strcmp(kind, "client") == 0)
		snprintf(eku, sizeof(eku), "clientAuth");
	else if (strcmp(kind, "server") == 0)
		snprintf(eku, sizeof(eku), "serverAuth");
	else if (strcmp(kind, "node") == 0)
		snprintf(eku, sizeof(eku), "serverAuth,clientAuth");
	else
		return fail(why, wl, XZ_EINVAL,
		    "invalid kind '%s' (client, server or node)", kind);
	off = (size_t) snprintf(san, sizeof(san), "DNS:%s", cn);
	for (size_t i = 0; dns != NULL && dns[i] != NULL; i++) {
		if (!xz_pki_valid_cn(dns[i]))
			return fail(why, wl, XZ_EINVAL,
			    "invalid DNS name '%s'", dns[i]);
		off += (size_t) snprintf(
		    san + off, sizeof(san) - off, ",DNS:%s", dns[i]);
		if (off >= sizeof(san))
			return fail(why, wl, XZ_EINVAL, "too many names");
	}
	if ((rc = load_ca(dir, &ca, &cakey, why, wl)) != XZ_OK)
		return rc;
	if (xz_mkdirs(outdir, 0700) != 0) {
		rc = fail(why, wl, XZ_EIO, "cannot create %s: %s", outdir,
		    strerror(errno));
		goto out;
	}
	if ((key = EVP_EC_gen("P-256")) == NULL
	    || (x = new_cert(
	            key, cn, days > 0 ? days : XZ_PKI_CERT_DAYS, serial))
	        == NULL
	    || X509_set_issuer_name(x, X509_get_subject_name(ca)) != 1
	    || add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE")
	    || add_ext(
	        x, ca, NID_key_usage, "critical,digitalSignature,keyAgreement")
	    || add_ext(x, ca, NID_ext_key_usage, eku)
	    || add_ext(x, ca, NID_subject_key_identifier, "hash")
	    || add_ext(x, ca, NID_authority_key_identifier, "keyid:always")
	    || add_ext(x, ca, NID_subject_alt_name, san)
	    || X509_sign(x, cakey, EVP_sha256()) == 0) {
		rc = fail(
		    why, wl, XZ_EINTERNAL, "cannot make the certificate");
		goto out;
	}
	path_of(p, sizeof(p), outdir, cn);
	strncat(p, ".key", sizeof(p) - strlen(p) - 1);
	if (write_key(p, key) != 0) {
		rc = fail(why, wl, XZ_EIO, "cannot write %s", p);
		goto out;
	}
	path_of(p, sizeof(p), outdir, cn);
	strncat(p, ".pem", sizeof(p) - strlen(p) - 1);
	if (write_cert(p, x) != 0) {
		rc = fail(why, wl, XZ_EIO, "cannot write %s", p);
		goto out;
	}
	path_of(p, sizeof(p), outdir, "ca.pem");
	if (write_cert(p, ca) != 0) {
		rc = fail(why, wl, XZ_EIO, "cannot write %s", p);
		goto out;
	}
	fingerprint(x, sha);
	if (append_index(dir, serial, cn, kind,
	        (int64_t) time(NULL)
	            + (int64_t) (days > 0 ? days : XZ_PKI_CERT_DAYS) * 86400,
	        sha)
	    != 0) {
		rc = fail(
		    why, wl, XZ_EIO, "cannot append to %s/issued.tsv", dir);
		goto out;
	}
	if (serial_out != NULL)
		snprintf(serial_out, 41, "%s", serial);
	rc = XZ_OK;
out:
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cakey);
	return rc;
}

int
xz_pki_list(
    const char *dir, xz_pki_cert **out, size_t *n, char *why, size_t wl)
{
	char  p[4096], line[1024];
	FILE *f;

	*out = NULL;
	*n   = 0;
	path_of(p, sizeof(p), dir, "issued.tsv");
	if ((f = fopen(p, "r")) == NULL) {
		if (errno == ENOENT)
			return XZ_OK;
		return fail(
		    why, wl, XZ_EIO, "cannot read %s: %s", p, strerror(errno));
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		xz_pki_cert c  = { 0 };
		long long   na = 0, rv = 0;
		if (sscanf(line, "%40s\t%64s\t%7s\t%lld\t%64s\t%lld", c.serial,
		        c.cn, c.kind, &na, c.sha256, &rv)
		    != 6)
			continue;
		c.not_after    = na;
		c.revoked_at   = rv;
		xz_pki_cert *v = realloc(*out, (*n + 1) * sizeof(*v));
		if (v == NULL) {
			fclose(f);
			free(*out);
			*out = NULL;
			*n   = 0;
			return fail(why, wl, XZ_ENOMEM, "out of memory");
		}
		*out       = v;
		(*out)[*n] = c;
		(*n)++;
	}
	fclose(f);
	return XZ_OK;
}

static int
write_crl(const char *dir, X509 *ca, EVP_PKEY *key, const xz_pki_cert *certs,
    size_t n, char *why, size_t wl)
{
	X509_CRL  *crl = X509_CRL_new();
	ASN1_TIME *now = ASN1_TIME_new(), *next = ASN1_TIME_new();
	char       p[4096];
	int        rc = XZ_OK;

	if (crl == NULL || now == NULL || next == NULL
	    || X509_CRL_set_version(crl, 1) != 1
	    || X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) != 1
	    || X509_gmtime_adj(now, 0) == NULL
	    || X509_gmtime_adj(next, 30L * 86400L) == NULL
	    || X509_CRL_set1_lastUpdate(crl, now) != 1
	    || X509_CRL_set1_nextUpdate(crl, next) != 1) {
		rc = fail(why, wl, XZ_EINTERNAL, "cannot make the CRL");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (certs[i].revoked_at == 0)
			continue;
		BIGNUM       *bn = NULL;
		X509_REVOKED *r  = X509_REVOKED_new();
		ASN1_INTEGER *s  = NULL;
		ASN1_TIME    *t
		    = ASN1_TIME_set(NULL, (time_t) certs[i].revoked_at);
		int ok = r != NULL && t != NULL
		    && BN_hex2bn(&bn, certs[i].serial) > 0
		    && (s = BN_to_ASN1_INTEGER(bn, NULL)) != NULL
		    && X509_REVOKED_set_serialNumber(r, s) == 1
		    && X509_REVOKED_set_revocationDate(r, t) == 1
		    && X509_CRL_add0_revoked(crl, r) == 1;
		BN_free(bn);
		ASN1_INTEGER_free(s);
		ASN1_TIME_free(t);
		if (!ok) {
			X509_REVOKED_free(r);
			rc = fail(why, wl, XZ_EINTERNAL,
			    "cannot add serial %s to the CRL",
			    certs[i].serial);
			goto out;
		}
	}
	if (X509_CRL_sort(crl) != 1
	    || X509_CRL_sign(crl, key, EVP_sha256()) == 0) {
		rc = fail(why, wl, XZ_EINTERNAL, "cannot sign the CRL");
		goto out;
	}
	/* Written beside, then renamed: a node reading it never sees half. */
	char tmp[4200];
	path_of(p, sizeof(p), dir, "crl.pem");
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	FILE *f  = open_mode(tmp, 0644);
	int   ok = f != NULL && PEM_write_X509_CRL(f, crl) == 1;
	if (f != NULL && fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, p) != 0) {
		unlink(tmp);
		rc = fail(why, wl, XZ_EIO, "cannot write %s", p);
	}
out:
	ASN1_TIME_free(now);
	ASN1_TIME_free(next);
	X509_CRL_free(crl);
	return rc;
}

int
xz_pki_revoke(
    const char *dir, const char *what, int *count, char *why, size_t wl)
{
	xz_pki_cert *v   = NULL;
	size_t       n   = 0;
	X509        *ca  = NULL;
	EVP_PKEY    *key = NULL;
	char         p[4096], tmp[4200];
	int          rc;
	int64_t      now = (int64_t) time(NULL);

	*count = 0;
	if ((rc = load_ca(dir, &ca, &key, why, wl)) != XZ_OK)
		return rc;
	if ((rc = xz_pki_list(dir, &v, &n, why, wl)) != XZ_OK)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (v[i].revoked_at == 0
		    && (strcmp(v[i].cn, what) == 0
		        || strcasecmp(v[i].serial, what) == 0)) {
			v[i].revoked_at = now;
			(*count)++;
		}
	if (*count == 0) {
		rc = fail(why, wl, XZ_ENOENT,
		    "no unrevoked certificate with CN or serial '%s'", what);
		goto out;
	}
	/* The index first (the record of what was revoked), then the CRL. */
	path_of(p, sizeof(p), dir, "issued.tsv");
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	FILE *f = open_mode(tmp, 0600);
	if (f == NULL) {
		rc = fail(why, wl, XZ_EIO, "cannot write %s", tmp);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\t%s\t%s\t%lld\t%s\t%lld\n", v[i].serial,
		    v[i].cn, v[i].kind, (long long) v[i].not_after,
		    v[i].sha256, (long long) v[i].revoked_at);
	if (fclose(f) != 0 || rename(tmp, p) != 0) {
		unlink(tmp);
		rc = fail(why, wl, XZ_EIO, "cannot write %s", p);
		goto out;
	}
	rc = write_crl(dir, ca, key, v, n, why, wl);
out:
	free(v);
	X509_free(ca);
	EVP_PKEY_free(key);
	return rc;
}

int
xz_pki_cert_info(const char *pem_file, char *sha256, char *cn, size_t cnlen,
    char *why, size_t wl)
{
	FILE *f = fopen(pem_file, "r");
	if (f == NULL)
		return fail(why, wl, XZ_EIO, "cannot read %s: %s", pem_file,
		    strerror(errno));
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL)
		return fail(why, wl, XZ_EINVAL, "%s holds no PEM certificate",
		    pem_file);
	fingerprint(x, sha256);
	cn[0] = '\0';
	X509_NAME_get_text_by_NID(
	    X509_get_subject_name(x), NID_commonName, cn, (int) cnlen);
	X509_free(x);
	return XZ_OK;
}
