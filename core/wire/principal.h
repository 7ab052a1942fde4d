/*
 * principal.h - who is acting: an authenticated principal, immutable and
 * reference-counted, shared by every message it sent (xz_kmsg.who), the
 * connection that proved it, and the plugin it belongs to.
 *
 * pub is what plugins see (host->caller, <xiezhi/xiezhi.h> xz_caller); its
 * strings live in the same allocation as the record. A principal never
 * changes once made, so any thread may read it while it holds a
 * reference.
 */
#ifndef XZ_WIRE_PRINCIPAL_H
#define XZ_WIRE_PRINCIPAL_H

#include <stdatomic.h>
#include <stdint.h>

#include <xiezhi/xiezhi.h>

typedef struct xz_principal {
	atomic_int refs;
	xz_caller  pub;
	uint64_t   expires_ms; /* kernel clock, ms since epoch; 0: never */
	size_t     nroles;
	char       buf[]; /* roles[] pointers, then the strings */
} xz_principal;

/* A principal (every string copied; NULL name: user, NULL agency and
 * auth: ""). roles ends with NULL (NULL: none). One reference to the
 * caller; NULL on ENOMEM or a NULL user. */
xz_principal *xz_principal_new(const char *user, const char *name,
    const char *agency, const char *const *roles, const char *auth);

/* Add a reference; NULL is passed through. */
static inline xz_principal *
xz_principal_ref(xz_principal *p)
{
	if (p != NULL)
		atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
	return p;
}

/* Drop one reference; the last frees it. NULL is ignored. */
void xz_principal_unref(xz_principal *p);

/* 1 if p holds role, else 0 (NULL p: 0). */
int xz_principal_has_role(const xz_principal *p, const char *role);

/* A copy of p with another auth string (how it was proven) and expiry.
 * One reference to the caller; NULL on ENOMEM. */
xz_principal *xz_principal_with_auth(
    const xz_principal *p, const char *auth, uint64_t expires_ms);

/*
 * Turns a session token (the "token" of a link HELLO) into a principal:
 * a new reference, or NULL with *why (a static or verifier-owned string,
 * may be left NULL) saying why not. Runs on a link thread: must not
 * block for long. ud is the verifier's own.
 */
typedef xz_principal *(*xz_token_verify_fn)(
    void *ud, const char *token, const char **why);

#endif
