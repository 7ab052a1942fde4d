/*
 * catalog.c - the agencies and instruments of collaboration, read from a
 * libconfig file (config/collab-catalog.cfg) or the copy built into the
 * plugin, and validated: every error names FILE:LINE and the setting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <xiezhi/i18n.h>

#include "collab.h"

/* The catalog's check errors in 简体中文, by LANG (<xiezhi/i18n.h>); each
 * format takes two strings (bad()), as the English does. */
static const xz_tr catalog_zh[] = {
	{ "instrument: \"%s\" must be a non-empty array of %s",
	    "文书：\"%s\" 必须是非空的%s数组" },
	{ "role ids", "角色编号" },
	{ "agency types", "机构类型" },
	{ "out of memory%s%s", "内存不足%s%s" },
	{ "instrument: \"%s\" holds a non-string%s",
	    "文书：\"%s\" 含有非字符串的值%s" },
	{ "unknown agency type '%s' in \"%s\"",
	    "未知的机构类型 '%s'（位于 \"%s\"）" },
	{ "\"agency_types\" (a list of {id, name}) is missing%s%s",
	    "缺少 \"agency_types\"（由 {id, name} 组成的列表）%s%s" },
	{ "\"agencies\" (a list of {id, type, name}) is missing%s%s",
	    "缺少 \"agencies\"（由 {id, type, name} 组成的列表）%s%s" },
	{ "\"instruments\" (a list) is missing%s%s",
	    "缺少 \"instruments\"（列表）%s%s" },
	{ "agency type: \"id\" and \"name\" (strings) are required%s%s",
	    "机构类型：必须给出 \"id\" 和 \"name\"（字符串）%s%s" },
	{ "agency type '%s' is given twice%s", "机构类型 '%s' 重复给出%s" },
	{ "agency: \"id\", \"type\" and \"name\" (strings) are required%s%s",
	    "机构：必须给出 \"id\"、\"type\" 和 \"name\"（字符串）%s%s" },
	{ "agency '%s': unknown agency type '%s'",
	    "机构 '%s'：未知的机构类型 '%s'" },
	{ "agency '%s' is given twice%s", "机构 '%s' 重复给出%s" },
	{ "instrument: \"id\" and \"name\" (strings) are required%s%s",
	    "文书：必须给出 \"id\" 和 \"name\"（字符串）%s%s" },
	{ "instrument '%s' is given twice%s", "文书 '%s' 重复给出%s" },
	{ "instrument '%s': \"clocks\" must be a list%s",
	    "文书 '%s'：\"clocks\" 必须是列表%s" },
	{ "instrument '%s': a clock needs \"name\", \"days\" (1..365) and "
	  "\"met\"%s",
	    "文书 '%s'：时限须有 \"name\"、\"days\"（1..365）和 \"met\"%s" },
	{ "clock '%s': \"met\" must be RECEIVED, ACCEPTED or DECIDED, not "
	  "'%s'",
	    "时限 '%s'：\"met\" 必须是 RECEIVED、ACCEPTED 或 DECIDED，而不是 "
	    "'%s'" },
	{ "clock '%s': \"to\" is '%s', which may not receive this instrument",
	    "时限 '%s'：\"to\" 为 '%s'，但它不能接收此文书" },
	{ "%s: cannot read the catalog", "%s：无法读取目录" },
	{ "(built-in catalog)", "（内置目录）" },
	{ NULL, NULL },
};
#define CT(s) XZ_TR(catalog_zh, s)

static const char *const states_met[]
    = { "RECEIVED", "ACCEPTED", "DECIDED", NULL };

static char *
dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void
strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

void
collab_catalog_free(collab_catalog *cat)
{
	for (size_t i = 0; i < cat->ntypes; i++) {
		free(cat->types[i].id);
		free(cat->types[i].name);
	}
	for (size_t i = 0; i < cat->nagencies; i++) {
		free(cat->agencies[i].id);
		free(cat->agencies[i].type);
		free(cat->agencies[i].name);
	}
	for (size_t i = 0; i < cat->ninstruments; i++) {
		collab_instrument *in = &cat->instruments[i];
		free(in->id);
		free(in->name);
		free(in->basis);
		strv_free(in->from);
		strv_free(in->to);
		strv_free(in->send_roles);
		for (size_t j = 0; j < in->nclocks; j++) {
			free(in->clocks[j].name);
			free(in->clocks[j].met);
			free(in->clocks[j].to);
		}
		free(in->clocks);
	}
	free(cat->types);
	free(cat->agencies);
	free(cat->instruments);
	memset(cat, 0, sizeof(*cat));
}

/* "FILE:LINE: " of setting s into err, then the message. */
static int
bad(const config_setting_t *s, const char *file, char *err, size_t n,
    const char *fmt, const char *a, const char *b)
{
	const char *f = config_setting_source_file(s);
	int         l = (int) config_setting_source_line(s);
	size_t      k = (size_t) snprintf(
	         err, n, "%s:%d: ", f ? f : file, l > 0 ? l : 0);
	if (k < n)
		snprintf(err + k, n - k, fmt, a ? a : "", b ? b : "");
	return -1;
}

static const char *
get_str(const config_setting_t *g, const char *key)
{
	const char *v = NULL;
	return config_setting_lookup_string(g, key, &v) ? v : NULL;
}

int
collab_type_known(const collab_catalog *cat, const char *id)
{
	for (size_t i = 0; id && i < cat->ntypes; i++)
		if (strcmp(cat->types[i].id, id) == 0)
			return 1;
	return 0;
}

const collab_agency *
collab_agency_find(const collab_catalog *cat, const char *id)
{
	for (size_t i = 0; id && i < cat->nagencies; i++)
		if (strcmp(cat->agencies[i].id, id) == 0)
			return &cat->agencies[i];
	return NULL;
}

const collab_instrument *
collab_instrument_find(const collab_catalog *cat, const char *id)
{
	for (size_t i = 0; id && i < cat->ninstruments; i++)
		if (strcmp(cat->instruments[i].id, id) == 0)
			return &cat->instruments[i];
	return NULL;
}

int
collab_strv_has(char *const *v, const char *s)
{
	for (; v && s && *v; v++)
		if (strcmp(*v, s) == 0)
			return 1;
	return 0;
}

/* A list of agency-type ids (or role ids with roles != 0) -> strv. */
static int
type_list(collab_catalog *cat, const config_setting_t *g, const char *key,
    const char *file, char ***out, int roles, char *err, size_t n)
{
	const config_setting_t *l = config_setting_get_member(g, key);
	int                     c;

	if (l == NULL && roles) {
		*out = calloc(2, sizeof(char *));
		if (*out)
			(*out)[0] = strdup("case_clerk");
		return 0;
	}
	if (l == NULL || !config_setting_is_array(l)
	    || (c = config_setting_length(l)) < 1)
		return bad(l ? l : g, file, err, n,
		    CT("instrument: \"%s\" must be a non-empty array of "
		       "%s"),
		    key, roles ? CT("role ids") : CT("agency types"));
	*out = calloc((size_t) c + 1, sizeof(char *));
	if (*out == NULL)
		return bad(
		    g, file, err, n, CT("out of memory%s%s"), NULL, NULL);
	for (int i = 0; i < c; i++) {
		const config_setting_t *e = config_setting_get_elem(l, i);
		const char             *v = config_setting_get_string(e);
		if (v == NULL)
			return bad(e, file, err, n,
			    CT("instrument: \"%s\" holds a non-string%s"), key,
			    NULL);
		if (!roles && !collab_type_known(cat, v))
			return bad(e, file, err, n,
			    CT("unknown agency type '%s' in \"%s\""), v, key);
		(*out)[i] = strdup(v);
	}
	return 0;
}

static int
load(collab_catalog *cat, config_t *cf, const char *file, char *err, size_t n)
{
	const config_setting_t *types = config_lookup(cf, "agency_types");
	const config_setting_t *ags   = config_lookup(cf, "agencies");
	const config_setting_t *ins   = config_lookup(cf, "instruments");
	const config_setting_t *root  = config_root_setting(cf);
	int                     c;

	if (!types || !config_setting_is_list(types))
		return bad(types ? types : root, file, err, n,
		    CT("\"agency_types\" (a list of {id, name}) is "
		       "missing%s%s"),
		    NULL, NULL);
	if (!ags || !config_setting_is_list(ags))
		return bad(ags ? ags : root, file, err, n,
		    CT("\"agencies\" (a list of {id, type, name}) is "
		       "missing%s%s"),
		    NULL, NULL);
	if (!ins || !config_setting_is_list(ins))
		return bad(ins ? ins : root, file, err, n,
		    CT("\"instruments\" (a list) is missing%s%s"), NULL, NULL);

	c          = config_setting_length(types);
	cat->types = calloc((size_t) c + 1, sizeof(*cat->types));
	for (int i = 0; cat->types && i < c; i++) {
		const config_setting_t *g  = config_setting_get_elem(types, i);
		const char             *id = get_str(g, "id");
		const char             *nm = get_str(g, "name");
		if (!id || !nm)
			return bad(g, file, err, n,
			    CT("agency type: \"id\" and \"name\" (strings) "
			       "are "
			       "required%s%s"),
			    NULL, NULL);
		if (collab_type_known(cat, id))
			return bad(g, file, err, n,
			    CT("agency type '%s' is given twice%s"), id, NULL);
		cat->types[cat->ntypes].id     = dup(id);
		cat->types[cat->ntypes++].name = dup(nm);
	}

	c             = config_setting_length(ags);
	cat->agencies = calloc((size_t) c + 1, sizeof(*cat->agencies));
	for (int i = 0; cat->agencies && i < c; i++) {
		const config_setting_t *g  = config_setting_get_elem(ags, i);
		const char             *id = get_str(g, "id");
		const char             *ty = get_str(g, "type");
		const char             *nm = get_str(g, "name");
		if (!id || !ty || !nm)
			return bad(g, file, err, n,
			    CT("agency: \"id\", \"type\" and \"name\" "
			       "(strings) "
			       "are required%s%s"),
			    NULL, NULL);
		if (!collab_type_known(cat, ty))
			return bad(config_setting_get_member(g, "type"), file,
			    err, n,
			    CT("agency '%s': unknown agency type '%s'"), id,
			    ty);
		if (collab_agency_find(cat, id))
			return bad(g, file, err, n,
			    CT("agency '%s' is given twice%s"), id, NULL);
		cat->agencies[cat->nagencies].id     = dup(id);
		cat->agencies[cat->nagencies].type   = dup(ty);
		cat->agencies[cat->nagencies++].name = dup(nm);
	}

	c                = config_setting_length(ins);
	cat->instruments = calloc((size_t) c + 1, sizeof(*cat->instruments));
	for (int i = 0; cat->instruments && i < c; i++) {
		const config_setting_t *g  = config_setting_get_elem(ins, i);
		const char             *id = get_str(g, "id");
		const char             *nm = get_str(g, "name");
		const config_setting_t *cl
		    = config_setting_get_member(g, "clocks");
		collab_instrument *in;
		if (!id || !nm)
			return bad(g, file, err, n,
			    CT("instrument: \"id\" and \"name\" (strings) are "
			       "required%s%s"),
			    NULL, NULL);
		if (collab_instrument_find(cat, id))
			return bad(g, file, err, n,
			    CT("instrument '%s' is given twice%s"), id, NULL);
		in        = &cat->instruments[cat->ninstruments++];
		in->id    = dup(id);
		in->name  = dup(nm);
		in->basis = dup(get_str(g, "basis"));
		if (type_list(cat, g, "from", file, &in->from, 0, err, n) != 0
		    || type_list(cat, g, "to", file, &in->to, 0, err, n) != 0
		    || type_list(cat, g, "send_roles", file, &in->send_roles,
		           1, err, n)
		        != 0)
			return -1;
		if (cl == NULL)
			continue;
		if (!config_setting_is_list(cl))
			return bad(cl, file, err, n,
			    CT("instrument '%s': \"clocks\" must be a list%s"),
			    id, NULL);
		int nc     = config_setting_length(cl);
		in->clocks = calloc((size_t) nc + 1, sizeof(*in->clocks));
		for (int j = 0; in->clocks && j < nc; j++) {
			const config_setting_t *k
			    = config_setting_get_elem(cl, j);
			const char *cn   = get_str(k, "name");
			const char *met  = get_str(k, "met");
			const char *to   = get_str(k, "to");
			int         days = 0;
			if (!cn || !met
			    || !config_setting_lookup_int(k, "days", &days)
			    || days < 1 || days > 365)
				return bad(k, file, err, n,
				    CT("instrument '%s': a clock needs "
				       "\"name\", "
				       "\"days\" (1..365) and \"met\"%s"),
				    id, NULL);
			int ok = 0;
			for (const char *const *s = states_met; *s; s++)
				ok |= strcmp(*s, met) == 0;
			if (!ok)
				return bad(config_setting_get_member(k, "met"),
				    file, err, n,
				    CT("clock '%s': \"met\" must be RECEIVED, "
				       "ACCEPTED or DECIDED, not '%s'"),
				    cn, met);
			if (to && !collab_strv_has(in->to, to))
				return bad(config_setting_get_member(k, "to"),
				    file, err, n,
				    CT("clock '%s': \"to\" is '%s', which may "
				       "not "
				       "receive this instrument"),
				    cn, to);
			in->clocks[j].name = dup(cn);
			in->clocks[j].met  = dup(met);
			in->clocks[j].to   = dup(to);
			in->clocks[j].days = days;
			in->nclocks++;
		}
	}
	if (cat->types == NULL || cat->agencies == NULL
	    || cat->instruments == NULL)
		return bad(
		    root, file, err, n, CT("out of memory%s%s"), NULL, NULL);
	return 0;
}

int
collab_catalog_load(collab_catalog *cat, const char *path, const char *text,
    char *err, size_t n)
{
	config_t cf;
	int      rc;

	memset(cat, 0, sizeof(*cat));
	config_init(&cf);
	if (path)
		rc = config_read_file(&cf, path);
	else
		rc = config_read_string(&cf, text);
	if (rc != CONFIG_TRUE) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
			snprintf(
			    err, n, CT("%s: cannot read the catalog"), path);
		else
			snprintf(err, n, "%s:%d: %s",
			    config_error_file(&cf) ? config_error_file(&cf)
			        : path             ? path
			                           : CT("(built-in catalog)"),
			    config_error_line(&cf), config_error_text(&cf));
		config_destroy(&cf);
		return -1;
	}
	rc = load(cat, &cf, path ? path : "(built-in catalog)", err, n);
	config_destroy(&cf);
	if (rc != 0)
		collab_catalog_free(cat);
	return rc;
}
