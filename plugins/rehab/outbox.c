/* outbox.c - what the rehab plugin sends to the collab plugin: a package
 * for collab.transfer.send, as the person the request acts for. */
#include <stdlib.h>
#include <string.h>

#include "rehab.h"

/* Calls fn exactly once: with collab's reply, or at once with the error
 * of the request (status, an empty reply). */
int
rehab_collab_send(rehab *h, kit_req *r, json_t *pkg, xz_reply_fn fn, void *ud)
{
	char *s;
	int   rc;

	json_object_set_new(pkg, "actor",
	    json_pack("{s:s?,s:s?,s:s?}", "user", r->actor.user, "role",
	        r->actor.role, "agency", r->actor.agency));
	s = json_dumps(pkg, JSON_COMPACT);
	json_decref(pkg);
	rc = s ? h->c.host->request(
	         h->c.self, "collab.transfer.send", s, strlen(s), 0, fn, ud)
	       : XZ_ENOMEM;
	free(s);
	if (rc != XZ_OK) {
		xz_msg none = { .struct_size = sizeof(none), .data = "" };
		h->c.host->counter_add(h->c.self, "collab_unreachable", 1);
		fn(ud, rc, &none);
	}
	return rc == XZ_OK ? 0 : -1;
}
