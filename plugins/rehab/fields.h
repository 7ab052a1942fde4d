/*
 * fields.h - strict request fields for the rehab and collab plugins: each
 * request declares its fields (name, type, range or allowed values,
 * required or not) and is a closed record: a string where a number
 * belongs, a fraction, an object, a value out of range, an unknown field
 * is bad_request naming the field and what was expected, in 简体中文 or
 * English (<xiezhi/i18n.h>). Nothing is coerced. "actor", "reason" and
 * "purpose" are allowed in every request.
 * Header-only (static functions): included by both plugins.
 */
#ifndef XZ_REHAB_FIELDS_H
#define XZ_REHAB_FIELDS_H

#include <stdio.h>
#include <string.h>

#include <xiezhi/i18n.h>

#include "idcard.h"
#include "kit.h"

enum fk_type {
	FK_STR = 1, /* string, 1..max characters (max 0: 256) */
	FK_INT, /* integer min..max */
	FK_BOOL,
	FK_OBJ, /* any object (kept whole) */
	FK_ARR, /* array of strings, 1..max items (max 0: 64) */
	FK_ONEOF, /* one of the NULL-terminated oneof strings */
	FK_IDNUM, /* GB 11643-1999 identity number */
	FK_DATE, /* YYYY-MM-DD, a real calendar date */
	FK_ANY_ARR, /* any array (kept whole) */
};

typedef struct fk_field {
	const char        *name;
	int                type; /* enum fk_type */
	int                required;
	int64_t            min, max;
	const char *const *oneof;
} fk_field;

static const xz_tr fk_zh[] = {
	{ "field \"%s\" is required", "缺少必填字段 \"%s\"" },
	{ "field \"%s\" is not part of this request (allowed: %s)",
	    "字段 \"%s\" 不属于该请求（允许的字段：%s）" },
	{ "field \"%s\": expected an integer %lld..%lld, got %s",
	    "字段 \"%s\"：应为 %lld..%lld 之间的整数，实际为%s" },
	{ "field \"%s\": expected a string of 1..%lld characters, got %s",
	    "字段 \"%s\"：应为 1..%lld 个字符的字符串，实际为%s" },
	{ "field \"%s\": expected true or false, got %s",
	    "字段 \"%s\"：应为 true 或 false，实际为%s" },
	{ "field \"%s\": expected an object, got %s",
	    "字段 \"%s\"：应为对象，实际为%s" },
	{ "field \"%s\": expected an array, got %s",
	    "字段 \"%s\"：应为数组，实际为%s" },
	{ "field \"%s\": expected an array of 1..%lld strings",
	    "字段 \"%s\"：应为包含 1..%lld 个字符串的数组" },
	{ "field \"%s\": expected one of %s, got %s",
	    "字段 \"%s\"：应为 %s 之一，实际为%s" },
	{ "field \"%s\": expected a citizen identity number (GB 11643-1999: "
	  "18 characters, a valid birth date and check digit)",
	    "字段 \"%s\"：应为公民身份号码（GB 11643-1999：18 "
	    "位，出生日期有效，"
	    "校验码正确）" },
	{ "field \"%s\": expected a date YYYY-MM-DD",
	    "字段 \"%s\"：应为日期 YYYY-MM-DD" },
	{ "a string", "字符串" },
	{ "an integer", "整数" },
	{ "a fraction", "小数" },
	{ "true/false", "布尔值" },
	{ "an object", "对象" },
	{ "an array", "数组" },
	{ "null", "null" },
	{ "a value out of range", "超出范围的值" },
	{ "another value", "其他值" },
	{ NULL, NULL },
};

static inline const char *
fk_type_name(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return XZ_TR(fk_zh, "a string");
	case JSON_INTEGER:
		return XZ_TR(fk_zh, "an integer");
	case JSON_REAL:
		return XZ_TR(fk_zh, "a fraction");
	case JSON_TRUE:
	case JSON_FALSE:
		return XZ_TR(fk_zh, "true/false");
	case JSON_OBJECT:
		return XZ_TR(fk_zh, "an object");
	case JSON_ARRAY:
		return XZ_TR(fk_zh, "an array");
	default:
		return XZ_TR(fk_zh, "null");
	}
}

/* YYYY-MM-DD of a real date: 1, and the day's 00:00 UTC in *ms. */
static inline int
fk_date(const char *s, int64_t *ms)
{
	static const int md[]
	    = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int     y, m, d, n = 0;
	int64_t days;

	if (s == NULL || strlen(s) != 10
	    || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10
	    || s[4] != '-' || s[7] != '-' || y < 1970 || y > 2099 || m < 1
	    || m > 12)
		return 0;
	if (d < 1
	    || d > md[m - 1]
	            + (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 0;
	/* days from the civil date (H. Hinnant's algorithm) */
	y -= m <= 2;
	{
		int64_t era = y / 400, yoe = y - era * 400;
		int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
		int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
		days        = era * 146097 + doe - 719468;
	}
	if (ms)
		*ms = days * 86400000LL;
	return 1;
}

static inline int
fk_in(const char *const *l, const char *s)
{
	for (; l && s && *l; l++)
		if (strcmp(*l, s) == 0)
			return 1;
	return 0;
}

/* Check body against spec (ended by a {NULL} entry). 0, or -1 with e set
 * (bad_request naming the field). */
static inline int
fk_check(json_t *body, const fk_field *spec, kit_err *e)
{
	const char *key;
	json_t     *v;

	json_object_foreach(body, key, v)
	{
		const fk_field *f = spec;
		if (strcmp(key, "actor") == 0) {
			if (!json_is_object(v))
				goto obj_err;
			continue;
		}
		if (strcmp(key, "reason") == 0
		    || strcmp(key, "purpose") == 0) {
			if (!json_is_string(v)
			    || json_string_length(v) > 1024) {
				kit_err_set(e, KIT_E_BAD_REQUEST,
				    XZ_TR(fk_zh,
				        "field \"%s\": expected a string of "
				        "1..%lld characters, got %s"),
				    key, 1024LL, fk_type_name(v));
				return -1;
			}
			continue;
		}
		for (; f->name; f++)
			if (strcmp(f->name, key) == 0)
				break;
		if (f->name == NULL) {
			char   allowed[400];
			size_t n   = 0;
			allowed[0] = '\0';
			for (f = spec; f->name && n < sizeof(allowed); f++)
				n += (size_t) snprintf(allowed + n,
				    sizeof(allowed) - n, "%s%s", n ? ", " : "",
				    f->name);
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    XZ_TR(fk_zh,
			        "field \"%s\" is not part of this request "
			        "(allowed: %s)"),
			    key, allowed);
			return -1;
		}
		switch (f->type) {
		case FK_STR: {
			int64_t max = f->max ? f->max : 256;
			if (!json_is_string(v) || json_string_length(v) < 1
			    || (int64_t) json_string_length(v) > max) {
				kit_err_set(e, KIT_E_BAD_REQUEST,
				    XZ_TR(fk_zh,
				        "field \"%s\": expected a string of "
				        "1..%lld characters, got %s"),
				    key, (long long) max, fk_type_name(v));
				return -1;
			}
			break;
		}
		case FK_INT:
			if (!json_is_integer(v)
			    || json_integer_value(v) < f->min
			    || json_integer_value(v) > f->max) {
				kit_err_set(e, KIT_E_BAD_REQUEST,
				    XZ_TR(fk_zh,
				        "field \"%s\": expected an integer "
				        "%lld..%lld, got %s"),
				    key, (long long) f->min,
				    (long long) f->max,
				    json_is_integer(v)
				        ? XZ_TR(fk_zh, "a value out of range")
				        : fk_type_name(v));
				return -1;
			}
			break;
		case FK_BOOL:
			if (!json_is_boolean(v)) {
				kit_err_set(e, KIT_E_BAD_REQUEST,
				    XZ_TR(fk_zh,
				        "field \"%s\": expected true or "
				        "false, "
				        "got %s"),
				    key, fk_type_name(v));
				return -1;
			}
			break;
		case FK_OBJ:
			if (!json_is_object(v))
				goto obj_err;
			break;
		case FK_ANY_ARR:
			if (!json_is_array(v)) {
				kit_err_set(e, KIT_E_BAD_REQUEST,
				    XZ_TR(fk_zh,
				        "field \"%s\": expected an array, got "
				        "%s"),
				    key, fk_type_name(v));
				return -1;
			}
			break;
		case FK_ARR: {
			int64_t max = f->max ? f->max : 64;
			size_t  i;
			json_t *it;
			int bad = !json_is_array(v) || json_array_size(v) < 1
			    || (int64_t) json_array_size(v) > max;
			json_array_foreach(v, i, it) if (!json_is_string(it)
			    || json_string_length(it) < 1
			    || json_string_length(it) > 256) bad
			    = 1;
			if (bad) {
				kit_err_set(e, KIT_E_BAD_REQUEST,
				    XZ_TR(fk_zh,
				        "field \"%s\": expected an array of "
				        "1..%lld strings"),
				    key, (long long) max);
				return -1;
			}
			break;
		}
		case FK_ONEOF:
			if (!json_is_string(v)
			    || !fk_in(f->oneof, json_string_value(v))) {
				char   list[300];
				size_t n = 0;
				list[0]  = '\0';
				for (const char *const *o = f->oneof;
				     *o && n < sizeof(list); o++)
					n += (size_t) snprintf(list + n,
					    sizeof(list) - n, "%s%s",
					    n ? ", " : "", *o);
				kit_err_set(e, KIT_E_BAD_REQUEST,
				    XZ_TR(fk_zh,
				        "field \"%s\": expected one of %s, "
				        "got %s"),
				    key, list,
				    json_is_string(v)
				        ? XZ_TR(fk_zh, "another value")
				        : fk_type_name(v));
				return -1;
			}
			break;
		case FK_IDNUM:
			if (!json_is_string(v)
			    || !kit_idcard_valid(json_string_value(v))) {
				kit_err_set(e, KIT_E_BAD_REQUEST,
				    XZ_TR(fk_zh,
				        "field \"%s\": expected a citizen "
				        "identity number (GB 11643-1999: 18 "
				        "characters, a valid birth date and "
				        "check digit)"),
				    key);
				return -1;
			}
			break;
		case FK_DATE:
			if (!json_is_string(v)
			    || !fk_date(json_string_value(v), NULL)) {
				kit_err_set(e, KIT_E_BAD_REQUEST,
				    XZ_TR(fk_zh,
				        "field \"%s\": expected a date "
				        "YYYY-MM-DD"),
				    key);
				return -1;
			}
			break;
		}
	}
	for (const fk_field *f = spec; f->name; f++)
		if (f->required && json_object_get(body, f->name) == NULL) {
			kit_err_set(e, KIT_E_BAD_REQUEST,
			    XZ_TR(fk_zh, "field \"%s\" is required"), f->name);
			return -1;
		}
	return 0;
obj_err:
	kit_err_set(e, KIT_E_BAD_REQUEST,
	    XZ_TR(fk_zh, "field \"%s\": expected an object, got %s"), key,
	    fk_type_name(v));
	return -1;
}

#endif
