/* kmsg.c - the node's reference-counted message (see kmsg.h). */
#include <stdlib.h>
#include <string.h>

#include "wire/kmsg.h"

xz_kmsg *
xz_kmsg_new(int kind, const char *topic, size_t topic_len, const char *source,
    const void *data, size_t len)
{
	size_t   slen = source ? strlen(source) : 0;
	xz_kmsg *m = malloc(sizeof(*m) + topic_len + 1 + slen + 1 + len + 1);

	if (m == NULL)
		return NULL;
	memset(m, 0, sizeof(*m));
	atomic_init(&m->refs, 1);
	m->pub.struct_size = sizeof(xz_msg);
	m->pub.kind        = (uint8_t) kind;
	char *p            = m->buf;
	memcpy(p, topic, topic_len);
	p[topic_len]     = '\0';
	m->pub.topic     = p;
	m->pub.topic_len = topic_len;
	p += topic_len + 1;
	if (slen)
		memcpy(p, source, slen);
	p[slen]       = '\0';
	m->pub.source = p;
	p += slen + 1;
	if (len)
		memcpy(p, data, len);
	p[len]      = '\0';
	m->pub.data = p;
	m->pub.len  = len;
	return m;
}

void
xz_kmsg_unref(xz_kmsg *m)
{
	if (m != NULL
	    && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel)
	        == 1)
		free(m);
}
