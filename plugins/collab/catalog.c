/*
 * catalog.c - the agencies and instruments of collaboration, read from a
 * libconfig file (config/collab-catalog.cfg) or the copy built into the
 * plugin, and validated: every error names FILE:LINE and the setting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "collab.h"

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
		    "instrument: \"%s\" must be a non-empty array of "
		    "%s",
		    key, roles ? "role ids" : "agency types");
	*out = calloc((size_t) c + 1, sizeof(char *));
	if (*out == NULL)
		return bad(g, file, err, n, "out of memory%s%s", NULL, NULL);
	for (int i = 0; i < c; i++) {
		const config_setting_t *e = config_setting_get_elem(l, i);
		const char             *v = config_setting_get_string(e);
		if (v == NULL)
			return bad(e, file, err, n,
			    "instrument: \"%s\" holds a non-string%s", key,
			    NULL);
		if (!roles && !collab_type_known(cat, v))
			return bad(e, file, err, n,
			    "unknown agency type '%s' in \"%s\"", v, key);
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
		    "\"agency_types\" (a list of {id, name}) is missing%s%s",
		    NULL, NULL);
	if (!ags || !config_setting_is_list(ags))
		return bad(ags ? ags : root, file, err, n,
		    "\"agencies\" (a list of {id, type, name}) is "
		    "missing%s%s",
		    NULL, NULL);
	if (!ins || !config_setting_is_list(ins))
		return bad(ins ? ins : root, file, err, n,
		    "\"instruments\" (a list) is missing%s%s", NULL, NULL);

	c          = config_setting_length(types);
	cat->types = calloc((size_t) c + 1, sizeof(*cat->types));
	for (int i = 0; cat->types && i < c; i++) {
		const config_setting_t *g  = config_setting_get_elem(types, i);
		const char             *id = get_str(g, "id");
		const char             *nm = get_str(g, "name");
		if (!id || !nm)
			return bad(g, file, err, n,
			    "agency type: \"id\" and \"name\" (strings) are "
			    "required%s%s",
			    NULL, NULL);
		if (collab_type_known(cat, id))
			return bad(g, file, err, n,
			    "agency type '%s' is given twice%s", id, NULL);
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
			    "agency: \"id\", \"type\" and \"name\" (strings) "
			    "are required%s%s",
			    NULL, NULL);
		if (!collab_type_known(cat, ty))
			return bad(config_setting_get_member(g, "type"), file,
			    err, n, "agency '%s': unknown agency type '%s'",
			    id, ty);
		if (collab_agency_find(cat, id))
			return bad(g, file, err, n,
			    "agency '%s' is given twice%s", id, NULL);
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
			    "instrument: \"id\" and \"name\" (strings) are "
			    "required%s%s",
			    NULL, NULL);
		if (collab_instrument_find(cat, id))
			return bad(g, file, err, n,
			    "instrument '%s' is given twice%s", id, NULL);
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
			    "instrument '%s': \"clocks\" must be a list%s", id,
			    NULL);
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
				    "instrument '%s': a clock needs \"name\", "
				    "\"days\" (1..365) and \"met\"%s",
				    id, NULL);
			int ok = 0;
			for (const char *const *s = states_met; *s; s++)
				ok |= strcmp(*s, met) == 0;
			if (!ok)
				return bad(config_setting_get_member(k, "met"),
				    file, err, n,
				    "clock '%s': \"met\" must be RECEIVED, "
				    "ACCEPTED or DECIDED, not '%s'",
				    cn, met);
			if (to && !collab_strv_has(in->to, to))
				return bad(config_setting_get_member(k, "to"),
				    file, err, n,
				    "clock '%s': \"to\" is '%s', which may "
				    "not "
				    "receive this instrument",
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
		    root, file, err, n, "out of memory%s%s", NULL, NULL);
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
			snprintf(err, n, "%s: cannot read the catalog", path);
		else
			snprintf(err, n, "%s:%d: %s",
			    config_error_file(&cf) ? config_error_file(&cf)
			        : path             ? path
			                           : "(built-in catalog)",
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
