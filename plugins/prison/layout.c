/*
 * layout.c - the registered locations (监狱 → 监区 → 分监区 → 监舍, and
 * zones) from a libconfig layout (layout.cfg is the format and the
 * built-in default). Everything is checked before anything is stored; a
 * mistake is logged as FILE:LINE: what is wrong, and the plugin does not
 * start. Locations already in the store are kept as they are (their
 * state, say, may have changed since); new ones are created.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "idcard.h"
#include "prison.h"

extern const char prison_layout_default[];

typedef struct layout {
	prison     *p;
	const char *file;
	json_t     *locs; /* array of location records to make present */
	char        err[600];
} layout;

static int
fail(layout *l, const config_setting_t *s, const char *fmt, const char *a,
    const char *b)
{
	char msg[400];
	snprintf(msg, sizeof(msg), fmt, a ? a : "", b ? b : "");
	snprintf(l->err, sizeof(l->err), "%s:%d: %s", l->file,
	    s ? config_setting_source_line(s) : 0, msg);
	return -1;
}

static int
code_ok(const char *c)
{
	if (c == NULL || c[0] == '\0' || strlen(c) > 32)
		return 0;
	for (; *c; c++)
		if (!isalnum((unsigned char) *c) && *c != '-' && *c != '_')
			return 0;
	return 1;
}

/* Keys a group may have, checked so a typo is an error, not ignored. */
static int
only_keys(layout *l, const config_setting_t *g, const char *const *keys)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *m    = config_setting_get_elem(g, i);
		const char       *name = config_setting_name(m);
		if (name && !prison_in_list(keys, name))
			return fail(l, m, PT("unknown setting \"%s\" here%s"),
			    name, "");
	}
	return 0;
}

static int
get_str(layout *l, const config_setting_t *g, const char *key, int required,
    const char **out)
{
	config_setting_t *s = config_setting_get_member(g, key);
	*out                = NULL;
	if (s == NULL)
		return required
		    ? fail(l, g, PT("\"%s\" is missing%s"), key, "")
		    : 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(l, s, PT("\"%s\" must be a string%s"), key, "");
	*out = config_setting_get_string(s);
	return 0;
}

static int
cameras(layout *l, const config_setting_t *g, json_t *rec)
{
	config_setting_t *s = config_setting_get_member(g, "cameras");
	json_t           *a;
	if (s == NULL)
		return 0;
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return fail(l, s,
		    PT("\"cameras\" must be a list of strings%s%s"), "", "");
	a = json_array();
	for (int i = 0; i < config_setting_length(s); i++) {
		config_setting_t *c = config_setting_get_elem(s, i);
		if (config_setting_type(c) != CONFIG_TYPE_STRING) {
			json_decref(a);
			return fail(l, c,
			    PT("\"cameras\" must be a list of strings%s%s"),
			    "", "");
		}
		json_array_append_new(
		    a, json_string(config_setting_get_string(c)));
	}
	json_object_set_new(rec, "cameras", a);
	return 0;
}

/* Add a location: id = parent.code; checks the code and uniqueness. */
static json_t *
add(layout *l, const config_setting_t *s, const char *parent, const char *code,
    const char *type, const char *name)
{
	char    id[256];
	size_t  i;
	json_t *it;

	if (!code_ok(code)) {
		fail(l, s,
		    PT("code \"%s\" must be 1 to 32 ASCII letters, digits, "
		       "'-' or '_'%s"),
		    code, "");
		return NULL;
	}
	snprintf(id, sizeof(id), "%s%s%s", parent ? parent : "",
	    parent ? "." : "", code);
	json_array_foreach(l->locs, i, it)
	{
		if (strcmp(kit_str(it, "id"), id) == 0) {
			fail(l, s, PT("location %s is defined twice%s"), id,
			    "");
			return NULL;
		}
	}
	it = json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", id, "location", id,
	    "type", type, "code", code, "name", name ? name : code);
	if (parent)
		json_object_set_new(it, "parent", json_string(parent));
	json_array_append_new(l->locs, it);
	return it;
}

static int
zones(layout *l, const config_setting_t *g, const char *parent)
{
	static const char *const keys[]
	    = { "code", "name", "zone", "cameras", NULL };
	config_setting_t *zs = config_setting_get_member(g, "zones");
	if (zs == NULL)
		return 0;
	if (!config_setting_is_list(zs))
		return fail(
		    l, zs, PT("\"%s\" must be a list ( ... )%s"), "zones", "");
	for (int i = 0; i < config_setting_length(zs); i++) {
		config_setting_t *z = config_setting_get_elem(zs, i);
		const char       *code, *name, *kind;
		json_t           *rec;
		if (!config_setting_is_group(z))
			return fail(l, z,
			    PT("\"%s\" must be a list of "
			       "groups { ... }%s"),
			    "zones", "");
		if (only_keys(l, z, keys) || get_str(l, z, "code", 1, &code)
		    || get_str(l, z, "name", 1, &name)
		    || get_str(l, z, "zone", 1, &kind))
			return -1;
		if (!prison_in_list(prison_zone_kinds, kind))
			return fail(l, z,
			    PT("zone \"%s\" must be PERIMETER, AB_DOOR, "
			       "WORKSHOP, HOSPITAL, VISIT_ROOM, YARD, CANTEEN "
			       "or GATE%s"),
			    kind, "");
		if ((rec = add(l, z, parent, code, "ZONE", name)) == NULL)
			return -1;
		json_object_set_new(rec, "zone", json_string(kind));
		if (cameras(l, z, rec))
			return -1;
	}
	return 0;
}

static int
cells(layout *l, const config_setting_t *sa, const char *parent)
{
	static const char *const keys[]
	    = { "code", "capacity", "cameras", NULL };
	config_setting_t *cs  = config_setting_get_member(sa, "cells");
	int               cap = 0;
	config_setting_t *dc  = config_setting_get_member(sa, "cell_capacity");

	if (dc) {
		if (config_setting_type(dc) != CONFIG_TYPE_INT
		    || config_setting_get_int(dc) < 1
		    || config_setting_get_int(dc) > 1000)
			return fail(l, dc,
			    PT("\"cell_capacity\" must be an integer from 1 "
			       "to 1000%s%s"),
			    "", "");
		cap = config_setting_get_int(dc);
	}
	if (cs == NULL)
		return fail(l, sa, PT("\"%s\" is missing%s"), "cells", "");
	if (!config_setting_is_array(cs) && !config_setting_is_list(cs))
		return fail(l, cs,
		    PT("\"cells\" must be a list of codes or groups%s%s"), "",
		    "");
	for (int i = 0; i < config_setting_length(cs); i++) {
		config_setting_t *c = config_setting_get_elem(cs, i);
		const char       *code;
		int               ccap = cap;
		json_t           *rec;
		char              cname[64];
		if (config_setting_type(c) == CONFIG_TYPE_STRING) {
			code = config_setting_get_string(c);
		} else if (config_setting_is_group(c)) {
			config_setting_t *k;
			if (only_keys(l, c, keys)
			    || get_str(l, c, "code", 1, &code))
				return -1;
			if ((k = config_setting_get_member(c, "capacity"))) {
				if (config_setting_type(k) != CONFIG_TYPE_INT
				    || config_setting_get_int(k) < 1
				    || config_setting_get_int(k) > 1000)
					return fail(l, k,
					    PT("\"capacity\" must be an "
					       "integer from 1 to 1000%s%s"),
					    "", "");
				ccap = config_setting_get_int(k);
			}
		} else {
			return fail(l, c,
			    PT("\"cells\" must be a list of codes or "
			       "groups%s%s"),
			    "", "");
		}
		if (ccap == 0)
			return fail(l, c,
			    PT("cell \"%s\" has no capacity: give "
			       "cell_capacity or capacity%s"),
			    code, "");
		snprintf(cname, sizeof(cname), "%s监舍", code);
		if ((rec = add(l, c, parent, code, "CELL", cname)) == NULL)
			return -1;
		json_object_set_new(rec, "capacity", json_integer(ccap));
		if (config_setting_is_group(c) && cameras(l, c, rec))
			return -1;
	}
	return 0;
}

static int
walk(layout *l, config_t *cf)
{
	static const char *const pkeys[]
	    = { "code", "name", "cameras", "areas", "zones", NULL };
	static const char *const akeys[]
	    = { "code", "name", "cameras", "subareas", "zones", NULL };
	static const char *const skeys[] = { "code", "name", "cameras",
		"cells", "cell_capacity", "zones", NULL };
	config_setting_t        *root    = config_root_setting(cf);
	config_setting_t *pr = config_setting_get_member(root, "prison");
	config_setting_t *as;
	const char       *code, *name;
	json_t           *prec;
	char              pid[64];

	for (int i = 0; i < config_setting_length(root); i++) {
		config_setting_t *m = config_setting_get_elem(root, i);
		if (strcmp(config_setting_name(m), "prison") != 0)
			return fail(l, m, PT("unknown setting \"%s\" here%s"),
			    config_setting_name(m), "");
	}
	if (pr == NULL || !config_setting_is_group(pr))
		return fail(l, pr,
		    PT("a layout is one group prison = { ... }%s%s"), "", "");
	if (only_keys(l, pr, pkeys) || get_str(l, pr, "code", 1, &code)
	    || get_str(l, pr, "name", 1, &name))
		return -1;
	if ((prec = add(l, pr, NULL, code, "PRISON", name)) == NULL
	    || cameras(l, pr, prec))
		return -1;
	snprintf(pid, sizeof(pid), "%s", code);
	if ((as = config_setting_get_member(pr, "areas")) == NULL)
		return fail(l, pr, PT("\"%s\" is missing%s"), "areas", "");
	if (!config_setting_is_list(as))
		return fail(
		    l, as, PT("\"%s\" must be a list ( ... )%s"), "areas", "");
	for (int i = 0; i < config_setting_length(as); i++) {
		config_setting_t *a = config_setting_get_elem(as, i);
		config_setting_t *ss;
		json_t           *arec;
		char              aid[128];
		if (!config_setting_is_group(a))
			return fail(l, a,
			    PT("\"%s\" must be a list of groups { ... }%s"),
			    "areas", "");
		if (only_keys(l, a, akeys) || get_str(l, a, "code", 1, &code)
		    || get_str(l, a, "name", 1, &name))
			return -1;
		if ((arec = add(l, a, pid, code, "AREA", name)) == NULL
		    || cameras(l, a, arec))
			return -1;
		snprintf(aid, sizeof(aid), "%s", kit_str(arec, "id"));
		if ((ss = config_setting_get_member(a, "subareas")) == NULL)
			return fail(
			    l, a, PT("\"%s\" is missing%s"), "subareas", "");
		if (!config_setting_is_list(ss))
			return fail(l, ss,
			    PT("\"%s\" must be a list ( ... )%s"), "subareas",
			    "");
		for (int j = 0; j < config_setting_length(ss); j++) {
			config_setting_t *s = config_setting_get_elem(ss, j);
			json_t           *srec;
			char              sid[160];
			if (!config_setting_is_group(s))
				return fail(l, s,
				    PT("\"%s\" must be a list of groups { "
				       "... }%s"),
				    "subareas", "");
			if (only_keys(l, s, skeys)
			    || get_str(l, s, "code", 1, &code)
			    || get_str(l, s, "name", 1, &name))
				return -1;
			if ((srec = add(l, s, aid, code, "SUBAREA", name))
			        == NULL
			    || cameras(l, s, srec))
				return -1;
			snprintf(sid, sizeof(sid), "%s", kit_str(srec, "id"));
			if (cells(l, s, sid) || zones(l, s, sid))
				return -1;
		}
		if (zones(l, a, aid))
			return -1;
	}
	return zones(l, pr, pid);
}

int
prison_layout_load(prison *p)
{
	const char *file = p->c.host->opt_string(p->c.self, "layout_file");
	layout      l    = { .p = p, .locs = json_array() };
	config_t    cf;
	kit_req     r;
	kit_err     e;
	size_t      i, made = 0;
	json_t     *it;
	int         rc = -1;

	config_init(&cf);
	if (file && file[0]) {
		l.file = file;
		if (config_read_file(&cf, file) != CONFIG_TRUE) {
			snprintf(l.err, sizeof(l.err), "%s:%d: %s",
			    config_error_file(&cf) ? config_error_file(&cf)
			                           : file,
			    config_error_line(&cf), config_error_text(&cf));
			goto out;
		}
	} else {
		l.file = PT("layout.cfg (built in)");
		if (config_read_string(&cf, prison_layout_default)
		    != CONFIG_TRUE) {
			snprintf(l.err, sizeof(l.err), "%s:%d: %s", l.file,
			    config_error_line(&cf), config_error_text(&cf));
			goto out;
		}
	}
	if (walk(&l, &cf) != 0)
		goto out;
	kit_req_internal(&p->c, &r, "system:layout", NULL);
	if (kit_tx_begin(&p->c, &e) != 0) {
		snprintf(l.err, sizeof(l.err), "%s", e.msg);
		kit_req_done(&r);
		goto out;
	}
	json_array_foreach(l.locs, i, it)
	{
		json_t *old = kit_store_load(
		    &p->c.store, "location", kit_str(it, "id"));
		json_t *rec;
		if (old) {
			json_decref(old);
			continue;
		}
		rec = kit_create_tx(&p->kinds[PK_LOCATION], &r,
		    json_deep_copy(it),
		    json_pack("{s:s}", "type", kit_str(it, "type")), &e);
		if (rec == NULL) {
			kit_tx_abort(&p->c);
			snprintf(l.err, sizeof(l.err), "%s", e.msg);
			kit_req_done(&r);
			goto out;
		}
		json_decref(rec);
		made++;
	}
	if (kit_tx_commit(&p->c, &e) != 0) {
		snprintf(l.err, sizeof(l.err), "%s", e.msg);
		kit_req_done(&r);
		goto out;
	}
	kit_req_done(&r);
	p->c.host->log(p->c.self, XZ_LOG_INFO,
	    PT("layout %s: %zu locations, %zu new"), l.file,
	    json_array_size(l.locs), made);
	rc = 0;
out:
	if (rc != 0)
		p->c.host->log(p->c.self, XZ_LOG_ERROR, "%s", l.err);
	config_destroy(&cf);
	json_decref(l.locs);
	return rc;
}

/* ---- the demo register ----------------------------------------------------
 */

static const char *const surnames[]
    = { "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴" };
static const char *const given[]
    = { "伟", "芳", "军", "磊", "明", "强", "浩", "涛" };

/* 40 prisoners in the first three cells of each sub-area: numbers
 * 5101000001.., valid citizen ids, a mix of crimes, sentences,
 * treatment levels and a few key prisoners. */
int
prison_seed_prisoners(prison *p)
{
	kit_req r;
	kit_err e;
	json_t *page
	    = kit_store_list(&p->c.store, "prisoner", NULL, NULL, NULL, 1, 0);
	json_t *cells_page;
	int64_t have = kit_int(page, "total", 0);
	size_t  i;
	json_t *c;
	int     n = 0, rc = -1;

	json_decref(page);
	if (have > 0)
		return 0;
	cells_page = kit_store_list(
	    &p->c.store, "location", "ACTIVE", NULL, NULL, 10000, 0);
	kit_req_internal(&p->c, &r, "system:seed", NULL);
	if (kit_tx_begin(&p->c, &e) != 0)
		goto out;
	json_array_foreach(json_object_get(cells_page, "items"), i, c)
	{
		const char *cell = kit_str(c, "id");
		const char *dot  = strrchr(cell, '.');
		if (strcmp(kit_str(c, "type"), "CELL") != 0 || dot == NULL
		    || cell[strlen(cell) - 1] == '4') /* x04 stay free */
			continue;
		for (int b = 0; b < 4 && n < 40; b++, n++) {
			char    num[16], name[32], idn[20], start[12], end[12];
			json_t *f, *rec;
			snprintf(num, sizeof(num), "5101%06d", n + 1);
			snprintf(name, sizeof(name), "%s%s", surnames[n % 10],
			    given[(n / 10 + n) % 8]);
			/* 510105 (成都), born 1970..1999, sequence */
			snprintf(idn, sizeof(idn), "510105%04d%02d%02d%03d",
			    1970 + n % 30, 1 + n % 12, 1 + n % 28, 100 + n);
			idn[17] = kit_idcard_check_char(idn);
			idn[18] = '\0';
			snprintf(start, sizeof(start), "20%02d-%02d-15",
			    18 + n % 7, 1 + n % 12);
			snprintf(end, sizeof(end), "20%02d-%02d-14",
			    27 + n % 9, 1 + n % 12);
			f = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,"
			              "s:s,s:b,s:I}",
			    "id", num, "name", name, "id_number", idn, "crime",
			    prison_crime_categories[(n * 7) % 10 == 0
			            ? 4
			            : (n * 7) % 10],
			    "sentence_type", "FIXED_TERM", "sentence_start",
			    start, "sentence_end", end, "treatment",
			    p->treatment[n % 4 && p->treatment[n % 4] ? n % 4
			                                              : 0],
			    "cell", cell, "location", cell, "key_prisoner",
			    n % 9 == 4, "admitted_ms", (json_int_t) r.now_ms);
			if (n % 9 == 4)
				json_object_set_new(f, "key",
				    json_pack("{s:s,s:[s],s:s}", "risk",
				        n % 2 ? "HIGH" : "MEDIUM", "reasons",
				        n % 2 ? "ESCAPE" : "SELF_HARM", "note",
				        "入监评估"));
			rec = kit_create_tx(&p->kinds[PK_PRISONER], &r, f,
			    json_pack("{s:s}", "cell", cell), &e);
			if (rec == NULL)
				goto abort;
			json_decref(rec);
		}
	}
	if (kit_tx_commit(&p->c, &e) != 0)
		goto out;
	p->c.host->log(p->c.self, XZ_LOG_INFO,
	    PT("seeded the demo register: %d prisoners"), n);
	rc = 0;
	goto out;
abort:
	kit_tx_abort(&p->c);
out:
	if (rc != 0)
		p->c.host->log(p->c.self, XZ_LOG_ERROR, PT("seed: %s"), e.msg);
	kit_req_done(&r);
	json_decref(cells_page);
	return rc;
}
