/*
 * schema.h - strict request fields: a small declared schema per request,
 * checked before anything else reads the payload. A value of the wrong
 * type is refused, never coerced: "3" is not 3, 3.9 is not 3, {} is not
 * a level; a key the schema does not declare is refused too (every
 * record is closed). The message names the field (with its path, such as
 * counts[2].expected) and what was expected, in 简体中文 or English
 * (<xiezhi/i18n.h>, chosen by LANG).
 *
 *     static const kit_field raise[] = {
 *         KIT_FIELD_ENUM("kind", 1, alarm_kinds),
 *         KIT_FIELD_INT("level", 0, 1, 3),
 *         KIT_FIELD_STR("location", 1, 1, 64),
 *         KIT_FIELD_END
 *     };
 *     if (kit_schema_check(raise, body, "prison.alarm.raise", err, n) != 0)
 *         reply bad_request with err
 */
#ifndef XZ_KIT_SCHEMA_H
#define XZ_KIT_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

typedef enum kit_ftype {
	KIT_F_STR = 1, /* a string of min..max bytes of UTF-8 */
	KIT_F_INT, /* an integer (no fraction, no string) in min..max */
	KIT_F_BOOL, /* true or false */
	KIT_F_ENUM, /* a string among values */
	KIT_F_OBJ, /* an object: closed by sub (NULL: any keys) */
	KIT_F_ARR, /* an array of min..max items, each checked by sub[0] */
	KIT_F_IDCARD, /* a GB 11643 citizen identity number (idcard.h) */
} kit_ftype;

typedef struct kit_field {
	const char             *name; /* NULL ends a list */
	kit_ftype               type;
	int                     required;
	int64_t                 min, max;
	const char *const      *values; /* KIT_F_ENUM: NULL-terminated */
	const struct kit_field *sub; /* KIT_F_OBJ: fields; KIT_F_ARR: item */
} kit_field;

#define KIT_FIELD_STR(n, req, lo, hi)                                         \
	{                                                                     \
		(n), KIT_F_STR, (req), (lo), (hi), NULL, NULL                 \
	}
#define KIT_FIELD_INT(n, req, lo, hi)                                         \
	{                                                                     \
		(n), KIT_F_INT, (req), (lo), (hi), NULL, NULL                 \
	}
#define KIT_FIELD_BOOL(n, req)                                                \
	{                                                                     \
		(n), KIT_F_BOOL, (req), 0, 0, NULL, NULL                      \
	}
#define KIT_FIELD_ENUM(n, req, vals)                                          \
	{                                                                     \
		(n), KIT_F_ENUM, (req), 0, 0, (vals), NULL                    \
	}
#define KIT_FIELD_OBJ(n, req, fields)                                         \
	{                                                                     \
		(n), KIT_F_OBJ, (req), 0, 0, NULL, (fields)                   \
	}
#define KIT_FIELD_ARR(n, req, lo, hi, item)                                   \
	{                                                                     \
		(n), KIT_F_ARR, (req), (lo), (hi), NULL, (item)               \
	}
#define KIT_FIELD_IDCARD(n, req)                                              \
	{                                                                     \
		(n), KIT_F_IDCARD, (req), 18, 18, NULL, NULL                  \
	}
#define KIT_FIELD_END                                                         \
	{                                                                     \
		NULL, 0, 0, 0, 0, NULL, NULL                                  \
	}

/* The fields every request may carry besides its own: actor (an object of
 * user, role, agency strings), reason and purpose (strings). */
extern const kit_field kit_common_fields[];

/* Check obj (a JSON object) against fields plus kit_common_fields: types
 * and ranges of the keys present first, then unknown keys, then missing
 * required keys. 0 when it conforms; -1 with a message for people in err
 * ("TOPIC: \"level\": expected an integer from 1 to 3, got a string
 * (\"3\")"), topic may be NULL. */
int kit_schema_check(const kit_field *fields, json_t *obj, const char *topic,
    char *err, size_t errlen);

/* The schema as JSON, for clients and tests: {"level":{"type":"integer",
 * "required":false,"min":1,"max":3}, ...}; caller owns it. */
json_t *kit_schema_describe(const kit_field *fields);

#endif
