/* schema.c - strict request fields (see schema.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <xiezhi/i18n.h>

#include "idcard.h"
#include "kstr.h"
#include "schema.h"

static const xz_tr schema_zh[] = {
	{ "a string of %lld to %lld bytes",
	    "长度为 %lld 至 %lld 字节的字符串" },
	{ "an integer from %lld to %lld", "%lld 至 %lld 之间的整数" },
	{ "true or false", "true 或 false" },
	{ "one of %s", "以下之一：%s" },
	{ "an object", "对象" },
	{ "an object with the fields %s", "含字段 %s 的对象" },
	{ "an array of %lld to %lld items", "含 %lld 至 %lld 项的数组" },
	{ "an 18-character citizen identity number (GB 11643) with a "
	  "correct check character",
	    "18 位公民身份号码（GB 11643），校验码正确" },
	{ "a string", "字符串" },
	{ "an integer", "整数" },
	{ "a number with a fraction", "带小数的数" },
	{ "an array", "数组" },
	{ "null", "null" },
	{ "%s\"%s\": expected %s, got %s", "%s字段 \"%s\"：应为%s，实际为%s" },
	{ "%s\"%s\": expected %s", "%s字段 \"%s\"：应为%s" },
	{ "%s\"%s\" is missing: expected %s", "%s缺少字段 \"%s\"：应为%s" },
	{ "%s\"%s\" is not a field of this request (fields: %s)",
	    "%s\"%s\" 不是此请求的字段（可用字段：%s）" },
	{ "%spayload must be a JSON object", "%s请求内容必须是 JSON 对象" },
	{ NULL, NULL },
};

#define T(s) XZ_TR(schema_zh, s)

static const kit_field actor_fields[] = {
	KIT_FIELD_STR("user", 0, 1, 128),
	KIT_FIELD_STR("name", 0, 0, 128),
	KIT_FIELD_STR("role", 0, 1, 64),
	KIT_FIELD_STR("agency", 0, 0, 64),
	KIT_FIELD_END,
};

const kit_field kit_common_fields[] = {
	KIT_FIELD_OBJ("actor", 0, actor_fields),
	KIT_FIELD_STR("reason", 0, 0, 2000),
	KIT_FIELD_STR("purpose", 0, 0, 500),
	KIT_FIELD_END,
};

/* What a value is, for "got ..." */
static const char *
got(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return T("a string");
	case JSON_INTEGER:
		return T("an integer");
	case JSON_REAL:
		return T("a number with a fraction");
	case JSON_OBJECT:
		return T("an object");
	case JSON_ARRAY:
		return T("an array");
	case JSON_TRUE:
	case JSON_FALSE:
		return T("true or false");
	default:
		return T("null");
	}
}

static void
join_names(const kit_field *f, char *buf, size_t n)
{
	size_t off = 0;
	buf[0]     = '\0';
	for (; f && f->name && off + 1 < n; f++)
		off += (size_t) snprintf(
		    buf + off, n - off, "%s%s", off ? ", " : "", f->name);
}

static void
join_values(const char *const *v, char *buf, size_t n)
{
	size_t off = 0;
	buf[0]     = '\0';
	for (; v && *v && off + 1 < n; v++)
		off += (size_t) snprintf(
		    buf + off, n - off, "%s%s", off ? ", " : "", *v);
}

/* What a field expects, in words. */
static void
expected(const kit_field *f, char *buf, size_t n)
{
	char list[600];

	switch (f->type) {
	case KIT_F_STR:
		snprintf(buf, n, T("a string of %lld to %lld bytes"),
		    (long long) f->min, (long long) f->max);
		break;
	case KIT_F_INT:
		snprintf(buf, n, T("an integer from %lld to %lld"),
		    (long long) f->min, (long long) f->max);
		break;
	case KIT_F_BOOL:
		snprintf(buf, n, "%s", T("true or false"));
		break;
	case KIT_F_ENUM:
		join_values(f->values, list, sizeof(list));
		snprintf(buf, n, T("one of %s"), list);
		break;
	case KIT_F_OBJ:
		if (f->sub == NULL) {
			snprintf(buf, n, "%s", T("an object"));
			break;
		}
		join_names(f->sub, list, sizeof(list));
		snprintf(buf, n, T("an object with the fields %s"), list);
		break;
	case KIT_F_ARR:
		snprintf(buf, n, T("an array of %lld to %lld items"),
		    (long long) f->min, (long long) f->max);
		break;
	case KIT_F_IDCARD:
		snprintf(buf, n, "%s",
		    T("an 18-character citizen identity number (GB 11643) "
		      "with a correct check character"));
		break;
	}
}

static int check_obj(const kit_field *fields, const kit_field *common,
    json_t *obj, const char *pre, const char *path, char *err, size_t n);

/* Whether v is a good value of f, a field of a scalar type (string,
 * integer, boolean, enum, identity number); 0 for the others. */
static int
scalar_ok(const kit_field *f, json_t *v)
{
	const char *s;

	switch (f->type) {
	case KIT_F_STR:
		return json_is_string(v)
		    && (int64_t) json_string_length(v) >= f->min
		    && (int64_t) json_string_length(v) <= f->max
		    && strlen(json_string_value(v)) == json_string_length(v);
	case KIT_F_INT:
		return json_is_integer(v) && json_integer_value(v) >= f->min
		    && json_integer_value(v) <= f->max;
	case KIT_F_BOOL:
		return json_is_boolean(v);
	case KIT_F_ENUM:
		s = json_string_value(v);
		for (const char *const *e = f->values; s && e && *e; e++)
			if (strcmp(*e, s) == 0)
				return 1;
		return 0;
	case KIT_F_IDCARD:
		return json_is_string(v)
		    && kit_idcard_valid(json_string_value(v));
	case KIT_F_OBJ:
	case KIT_F_ARR:
		break;
	}
	return 0;
}

/* Check one value v of field f at path; 0 or -1 with err set. */
static int
check_value(const kit_field *f, json_t *v, const char *pre, const char *path,
    char *err, size_t n)
{
	char exp[700];
	int  ok = 1;

	switch (f->type) {
	case KIT_F_STR:
	case KIT_F_INT:
	case KIT_F_BOOL:
	case KIT_F_ENUM:
	case KIT_F_IDCARD:
		ok = scalar_ok(f, v);
		break;
	case KIT_F_OBJ:
		if (!json_is_object(v)) {
			ok = 0;
			break;
		}
		return f->sub ? check_obj(f->sub, NULL, v, pre, path, err, n)
		              : 0;
	case KIT_F_ARR:
		if (!json_is_array(v) || (int64_t) json_array_size(v) < f->min
		    || (int64_t) json_array_size(v) > f->max) {
			ok = 0;
			break;
		}
		if (f->sub) {
			size_t  i;
			json_t *it;
			char    ipath[200];
			json_array_foreach(v, i, it)
			{
				snprintf(
				    ipath, sizeof(ipath), "%s[%zu]", path, i);
				if (check_value(f->sub, it, pre, ipath, err, n)
				    != 0)
					return -1;
			}
		}
		return 0;
	}
	if (ok)
		return 0;
	expected(f, exp, sizeof(exp));
	if (json_typeof(v) == JSON_STRING && f->type != KIT_F_STR
	    && f->type != KIT_F_ENUM && f->type != KIT_F_IDCARD) {
		char g[200];
		snprintf(g, sizeof(g), "%s (\"%.40s\")", got(v),
		    json_string_value(v));
		snprintf(err, n, T("%s\"%s\": expected %s, got %s"), pre, path,
		    exp, g);
	} else if (json_typeof(v) == JSON_INTEGER && f->type == KIT_F_INT) {
		char g[64];
		snprintf(
		    g, sizeof(g), "%lld", (long long) json_integer_value(v));
		snprintf(err, n, T("%s\"%s\": expected %s, got %s"), pre, path,
		    exp, g);
	} else if (json_typeof(v) == JSON_STRING) {
		snprintf(err, n, T("%s\"%s\": expected %s"), pre, path, exp);
	} else {
		snprintf(err, n, T("%s\"%s\": expected %s, got %s"), pre, path,
		    exp, got(v));
	}
	return -1;
}

static const kit_field *
find(const kit_field *fields, const char *name)
{
	for (; fields && fields->name; fields++)
		if (strcmp(fields->name, name) == 0)
			return fields;
	return NULL;
}

static int
check_obj(const kit_field *fields, const kit_field *common, json_t *obj,
    const char *pre, const char *path, char *err, size_t n)
{
	const char      *key;
	json_t          *v;
	const kit_field *f;
	char             sub[200];
	char             exp[700];
	int              unknown = 0; /* a key that is not a field */

	/* types of what is there first: a wrong value is the likelier
	 * mistake, and it names the field the caller meant */
	json_object_foreach(obj, key, v)
	{
		if ((f = find(fields, key)) == NULL
		    && (f = find(common, key)) == NULL) {
			unknown = 1;
			continue;
		}
		/* the path is written only for a message or a level down */
		if (scalar_ok(f, v))
			continue;
		kstr_join(
		    sub, sizeof(sub), path[0] ? "." : "", path, key, NULL);
		if (check_value(f, v, pre, sub, err, n) != 0)
			return -1;
	}
	/* then a field it does not know (looked for again only when the
	 * first pass met one) */
	json_object_foreach(obj, key, v)
	{
		if (!unknown)
			break;
		if (find(fields, key) || find(common, key))
			continue;
		char names[800];
		join_names(fields, names, sizeof(names));
		snprintf(
		    sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", key);
		snprintf(err, n,
		    T("%s\"%s\" is not a field of this request (fields: %s)"),
		    pre, sub, names);
		return -1;
	}
	for (f = fields; f && f->name; f++) {
		if (!f->required || json_object_get(obj, f->name))
			continue;
		expected(f, exp, sizeof(exp));
		snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "",
		    f->name);
		snprintf(err, n, T("%s\"%s\" is missing: expected %s"), pre,
		    sub, exp);
		return -1;
	}
	return 0;
}

int
kit_schema_check(const kit_field *fields, json_t *obj, const char *topic,
    char *err, size_t errlen)
{
	char pre[160];

	kstr_join(
	    pre, sizeof(pre), "", topic ? topic : "", topic ? ": " : "", NULL);
	if (!json_is_object(obj)) {
		snprintf(
		    err, errlen, T("%spayload must be a JSON object"), pre);
		return -1;
	}
	return check_obj(fields, kit_common_fields, obj, pre, "", err, errlen);
}

static const char *
type_name(kit_ftype t)
{
	switch (t) {
	case KIT_F_STR:
		return "string";
	case KIT_F_INT:
		return "integer";
	case KIT_F_BOOL:
		return "boolean";
	case KIT_F_ENUM:
		return "enum";
	case KIT_F_OBJ:
		return "object";
	case KIT_F_ARR:
		return "array";
	case KIT_F_IDCARD:
		return "idcard";
	}
	return "?";
}

static json_t *
describe_one(const kit_field *f)
{
	json_t *o = json_pack(
	    "{s:s,s:b}", "type", type_name(f->type), "required", f->required);

	if (f->type == KIT_F_STR || f->type == KIT_F_INT
	    || f->type == KIT_F_ARR) {
		json_object_set_new(o, "min", json_integer(f->min));
		json_object_set_new(o, "max", json_integer(f->max));
	}
	if (f->type == KIT_F_ENUM) {
		json_t *a = json_array();
		for (const char *const *v = f->values; v && *v; v++)
			json_array_append_new(a, json_string(*v));
		json_object_set_new(o, "values", a);
	}
	if (f->type == KIT_F_OBJ && f->sub)
		json_object_set_new(o, "fields", kit_schema_describe(f->sub));
	if (f->type == KIT_F_ARR && f->sub)
		json_object_set_new(o, "items", describe_one(f->sub));
	return o;
}

json_t *
kit_schema_describe(const kit_field *fields)
{
	json_t *o = json_object();
	for (; fields && fields->name; fields++)
		json_object_set_new(o, fields->name, describe_one(fields));
	return o;
}
