/*
 * batch.h - the records of an audit.append request
 * ({"records":[{"id","topic","data"}]}, sent by the scenario plugins'
 * audit spools, plugins/common/kit.c) read straight from its text, and
 * the fields of a record from an event's payload object.
 *
 * A spool's record holds its own fields only (who .. time, strings, null
 * and the time as an integer): audit_batch_read takes those from the text
 * without building a jansson tree of the whole request, and hands the
 * data object of any other record (other keys, which go to the detail;
 * nested values, true, false, real numbers) to jansson alone. What it
 * reads is what json_loadb(JSON_REJECT_DUPLICATES) and
 * audit_rec_from_json make of the same text, byte for byte
 * (tests/unit/test_audit_batch.c compares the two): strings decoded as
 * jansson decodes them, an integer as json_dumps writes it. A request it
 * does not take whole (another shape, a key twice, a text jansson would
 * refuse, anything it is not sure of) is left to the caller, who reads
 * it with jansson as before.
 */
#ifndef XZ_AUDIT_BATCH_H
#define XZ_AUDIT_BATCH_H

#include <stddef.h>

#include <jansson.h>

#include "chain.h"

typedef struct audit_batch_rec {
	const char *id, *topic; /* decoded, in the batch's buf */
	/* with data NULL: the data object's own fields (XZ_AF_WHO ..
	 * XZ_AF_TIME; NULL for null or absent), in the batch's buf */
	const char *f[XZ_AF_COUNT];
	json_t *data; /* else the data object as jansson reads it (owned) */
	const char *raw; /* the data object's text in the request */
	size_t      rawlen;
} audit_batch_rec;

typedef struct audit_batch {
	char            *buf; /* the decoded texts (owned) */
	audit_batch_rec *rec; /* the records in order (owned) */
	size_t           n, cap;
} audit_batch;

/*
 * The records of the request text s (len bytes, no NUL needed) into *b:
 * 0, and the caller frees b with audit_batch_free; or -1 (b holds
 * nothing, nothing to free) when the caller must read the request with
 * jansson. b's pointers into s (raw) are valid while s is.
 */
int  audit_batch_read(const char *s, size_t len, audit_batch *b);
void audit_batch_free(audit_batch *b);

/* A JSON value as record text: a string as it is, another value as
 * compact JSON with sorted keys; NULL for null or absent (v NULL). The
 * result is malloc'd, the caller frees it. */
char *audit_field_text(json_t *v);

/*
 * The fields a payload object o gives a record: r->f[XZ_AF_WHO ..
 * XZ_AF_TIME] (strings as they are, other values as compact JSON, null
 * or absent as NULL; who, role and agency from {"actor":{"user","role",
 * "agency"}} when o has none), and r->f[XZ_AF_DETAIL], the other keys as
 * compact JSON with sorted keys (NULL when there are none). The texts
 * point into o or into own[] (malloc'd, the caller frees each; NULL
 * where none was made), so r is valid while o and own are.
 */
void audit_rec_from_json(json_t *o, xz_audit_rec *r, char *own[XZ_AF_COUNT]);

#endif
