/*
 * principal.c - the authenticated principal (see principal.h): one
 * allocation holding the record, the roles array and every string.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/principal.h"

xz_principal *
xz_principal_new(const char *user, const char *name, const char *agency,
    const char *const *roles, const char *auth)
{
	size_t        nroles = 0, need;
	xz_principal *p;
	char         *s;

	if (user == NULL)
		return NULL;
	if (name == NULL)
		name = user;
	if (agency == NULL)
		agency = "";
	if (auth == NULL)
		auth = "";
	while (roles != NULL && roles[nroles] != NULL)
		nroles++;
	need = sizeof(*p) + (nroles + 1) * sizeof(char *) + strlen(user)
	    + strlen(name) + strlen(agency) + strlen(auth) + 4;
	for (size_t i = 0; i < nroles; i++)
		need += strlen(roles[i]) + 1;
	if ((p = calloc(1, need)) == NULL)
		return NULL;
	atomic_init(&p->refs, 1);
	p->nroles = nroles;
	char **rv = (char **) (void *) p->buf;
	s         = p->buf + (nroles + 1) * sizeof(char *);
#define PUT(dst, v)                                                           \
	do {                                                                  \
		size_t n_ = strlen(v) + 1;                                    \
		memcpy(s, v, n_);                                             \
		(dst) = s;                                                    \
		s += n_;                                                      \
	} while (0)
	PUT(p->pub.user, user);
	PUT(p->pub.name, name);
	PUT(p->pub.agency, agency);
	PUT(p->pub.auth, auth);
	for (size_t i = 0; i < nroles; i++)
		PUT(rv[i], roles[i]);
#undef PUT
	rv[nroles]         = NULL;
	p->pub.roles       = (const char *const *) rv;
	p->pub.struct_size = sizeof(xz_caller);
	return p;
}

void
xz_principal_unref(xz_principal *p)
{
	if (p != NULL
	    && atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel)
	        == 1)
		free(p);
}

int
xz_principal_has_role(const xz_principal *p, const char *role)
{
	if (p == NULL || role == NULL)
		return 0;
	for (size_t i = 0; i < p->nroles; i++)
		if (strcmp(p->pub.roles[i], role) == 0)
			return 1;
	return 0;
}

xz_principal *
xz_principal_with_auth(
    const xz_principal *p, const char *auth, uint64_t expires_ms)
{
	xz_principal *q = xz_principal_new(
	    p->pub.user, p->pub.name, p->pub.agency, p->pub.roles, auth);

	if (q != NULL)
		q->expires_ms = expires_ms;
	return q;
}
