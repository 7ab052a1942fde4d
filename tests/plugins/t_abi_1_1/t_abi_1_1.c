/*
 * t_abi_1_1: a plugin as it was built against SDK ABI 1.1 (abi_minor 1, a
 * descriptor that ends with batch_end), loaded by a newer host. It counts
 * its batch_end calls and answers t_abi_1_1.info with what it saw:
 * {"host_abi":"M.m","batches":N}.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <xiezhi/xiezhi.h>

/* What sizeof(xz_plugin_desc) was in SDK 1.1. */
#define DESC_SIZE_1_1                                                         \
	(offsetof(xz_plugin_desc, batch_end)                                  \
	    + sizeof(((xz_plugin_desc *) 0)->batch_end))

struct st {
	xz_plugin     *self;
	const xz_host *host;
	unsigned long  batches;
};

static void
on_info(void *ud, const xz_msg *msg)
{
	struct st *s = ud;
	char       buf[96];
	int        n;

	if (msg->kind != XZ_KIND_REQUEST)
		return;
	n = snprintf(buf, sizeof(buf),
	    "{\"host_abi\":\"%u.%u\",\"batches\":%lu}",
	    (unsigned) s->host->abi_major, (unsigned) s->host->abi_minor,
	    s->batches);
	s->host->reply(s->self, msg, buf, (size_t) n);
}

static int
p_init(xz_plugin *self, const xz_host *host, void **state)
{
	struct st *s = calloc(1, sizeof(*s));
	int        rc;

	if (s == NULL)
		return XZ_ENOMEM;
	s->self = self;
	s->host = host;
	rc = host->subscribe(self, "t_abi_1_1.info", NULL, on_info, s, NULL);
	if (rc != XZ_OK) {
		free(s);
		return rc;
	}
	*state = s;
	return XZ_OK;
}

static void
p_batch_end(void *state)
{
	struct st *s = state;
	s->batches++;
}

static void
p_fini(void *state)
{
	free(state);
}

static const xz_plugin_desc desc = {
	.struct_size = DESC_SIZE_1_1,
	.abi_major   = 1,
	.abi_minor   = 1,
	.name        = "t_abi_1_1",
	.version     = "1.1.0",
	.init        = p_init,
	.fini        = p_fini,
	.batch_end   = p_batch_end,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
