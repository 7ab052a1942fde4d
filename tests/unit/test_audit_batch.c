/*
 * test_audit_batch.c - the audit plugin's reader of audit.append requests
 * (plugins/audit/batch.c) against jansson: every request it takes must be
 * one json_loadb(JSON_REJECT_DUPLICATES) accepts, with the same records,
 * field for field, and the same rows and hashes once stored through the
 * chain library (xz_audit_insert into two SQLite databases in memory);
 * and the data texts it republishes must read back as the same objects.
 * The requests: a spool's batch, escapes, unicode, null and absent
 * fields, extra keys (the detail), nested values, keys twice, malformed
 * texts, every UTF-8 lead byte, every \u escape, and mutations of a
 * batch byte by byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "batch.h"

/* what on_append_json appends: the records up to the first that is not
 * {"id":string,"topic":"audit.*","data":object} */
static size_t
json_records(json_t *o)
{
	json_t *recs = json_object_get(o, "records"), *rec;
	size_t  i;

	json_array_foreach(recs, i, rec)
	{
		const char *topic
		    = json_string_value(json_object_get(rec, "topic"));
		if (!json_is_string(json_object_get(rec, "id"))
		    || topic == NULL || strncmp(topic, "audit.", 6) != 0
		    || !json_is_object(json_object_get(rec, "data")))
			return i;
	}
	return json_array_size(recs);
}

static sqlite3 *
mem_db(void)
{
	sqlite3 *db = NULL;
	char     err[256];

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(xz_audit_schema(db, err, sizeof(err)), 0);
	return db;
}

/* The rows of db as one text (every column, quoted). Caller frees. */
static char *
rows(sqlite3 *db)
{
	sqlite3_stmt *st;
	size_t        cap = 1 << 16, len = 0;
	char         *out = malloc(cap);

	assert_non_null(out);
	out[0] = '\0';
	assert_int_equal(
	    sqlite3_prepare_v2(db,
	        "SELECT quote(seq) || '|' || quote(at_ms) || '|' "
	        "|| quote(at) || '|' || quote(event_id) || '|' || "
	        "quote(topic) || '|' || quote(source) || '|' || "
	        "quote(who) || '|' || quote(role) || '|' || "
	        "quote(agency) || '|' || quote(action) || '|' || "
	        "quote(subject_type) || '|' || quote(subject_id) "
	        "|| '|' || quote(purpose) || '|' || "
	        "quote(recipient) || '|' || quote(service) || '|' "
	        "|| quote(outcome) || '|' || quote(corr) || '|' "
	        "|| quote(time) || '|' || quote(detail) || '|' || "
	        "prev_hash || '|' || hash FROM audit_log ORDER BY "
	        "seq",
	        -1, &st, NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *) sqlite3_column_text(st, 0);
		size_t      n = strlen(t);
		while (len + n + 2 > cap) {
			cap *= 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		memcpy(out + len, t, n);
		len += n;
		out[len++] = '\n';
		out[len]   = '\0';
	}
	sqlite3_finalize(st);
	return out;
}

static void
same_text(const char *a, const char *b, const char *what, size_t i)
{
	if (a == NULL && b == NULL)
		return;
	if (a == NULL || b == NULL || strcmp(a, b) != 0)
		fail_msg("record %zu: %s: '%s' read from the text, '%s' by "
		         "jansson",
		    i, what, a ? a : "(null)", b ? b : "(null)");
}

static int took_fast; /* requests audit_batch_read took */
/* 1: store the records of both through SQLite and compare the rows; 0
 * (the bulk tests): compare the fields and the hashes only */
static int with_db = 1;

/*
 * text as both paths read it. expect: 1 audit_batch_read takes it with
 * every record's fields from the text, 2 it takes it with some records
 * read by jansson (data != NULL), 0 it leaves it to jansson, -1 any.
 * When it takes it, jansson must accept it and agree on everything.
 */
static void
compare_n(const char *text, size_t len, int expect)
{
	audit_batch b;
	int         fast = audit_batch_read(text, len, &b) == 0;
	json_t     *o    = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);

	if (expect == 0 && fast)
		fail_msg("taken from the text, but should not be: %.*s",
		    (int) len, text);
	if (expect > 0 && !fast)
		fail_msg("not taken from the text: %.*s", (int) len, text);
	if (!fast) {
		json_decref(o);
		return;
	}
	took_fast++;
	if (!json_is_array(json_object_get(o, "records")))
		fail_msg("taken from the text, but jansson refuses it: %.*s",
		    (int) len, text);
	assert_int_equal(b.n, json_array_size(json_object_get(o, "records")));
	size_t n = json_records(o), nf = 0, some_json = 0;
	while (nf < b.n && strncmp(b.rec[nf].topic, "audit.", 6) == 0)
		nf++;
	assert_int_equal(nf, n);

	sqlite3 *dbf = with_db ? mem_db() : NULL;
	sqlite3 *dbj = with_db ? mem_db() : NULL;
	for (size_t i = 0; i < n; i++) {
		json_t *rec = json_array_get(json_object_get(o, "records"), i);
		json_t *data = json_object_get(rec, "data");
		xz_audit_rec rf, rj;
		char        *own[XZ_AF_COUNT] = { 0 }, err[256];

		memset(&rf, 0, sizeof(rf));
		memset(&rj, 0, sizeof(rj));
		if (b.rec[i].data != NULL) {
			some_json++;
			assert_true(json_equal(b.rec[i].data, data));
			audit_rec_from_json(b.rec[i].data, &rf, own);
		} else {
			memcpy(rf.f, b.rec[i].f, sizeof(rf.f));
		}
		rf.f[XZ_AF_EVENT_ID] = b.rec[i].id;
		rf.f[XZ_AF_TOPIC]    = b.rec[i].topic;
		rj.f[XZ_AF_EVENT_ID]
		    = json_string_value(json_object_get(rec, "id"));
		rj.f[XZ_AF_TOPIC]
		    = json_string_value(json_object_get(rec, "topic"));
		char *ownj[XZ_AF_COUNT] = { 0 };
		audit_rec_from_json(data, &rj, ownj);
		rf.f[XZ_AF_SOURCE] = rj.f[XZ_AF_SOURCE] = "prison";
		rf.at_ms = rj.at_ms = 1764720000000LL + (int64_t) i;
		for (int k = 0; k < XZ_AF_COUNT; k++)
			same_text(
			    rf.f[k], rj.f[k], xz_audit_field_names[k], i);
		/* the text republished reads back as the data object */
		json_t *raw = json_loadb(b.rec[i].raw, b.rec[i].rawlen,
		    JSON_REJECT_DUPLICATES, NULL);
		if (!json_equal(raw, data))
			fail_msg("record %zu: the data text '%.*s' is not its "
			         "object",
			    i, (int) b.rec[i].rawlen, b.rec[i].raw);
		json_decref(raw);
		/* the event ids may repeat in a request: kept once by
		 * both */
		if (with_db)
			assert_int_equal(
			    xz_audit_insert(dbf, &rf, err, sizeof(err)),
			    xz_audit_insert(dbj, &rj, err, sizeof(err)));
		rf.seq = rj.seq = (int64_t) i + 1;
		xz_audit_iso(rf.at_ms, rf.at);
		xz_audit_iso(rj.at_ms, rj.at);
		xz_audit_hash(&rf);
		xz_audit_hash(&rj);
		assert_string_equal(rf.hash, rj.hash);
		for (int k = 0; k < XZ_AF_COUNT; k++) {
			free(own[k]);
			free(ownj[k]);
		}
	}
	if (with_db) {
		char *tf = rows(dbf), *tj = rows(dbj);
		assert_string_equal(tf, tj);
		free(tf);
		free(tj);
		sqlite3_close(dbf);
		sqlite3_close(dbj);
	}
	if (expect == 1 && some_json > 0)
		fail_msg("%zu record(s) read by jansson: %.*s", some_json,
		    (int) len, text);
	if (expect == 2 && some_json == 0)
		fail_msg("no record read by jansson: %.*s", (int) len, text);
	audit_batch_free(&b);
	json_decref(o);
}

static void
compare(const char *text, int expect)
{
	compare_n(text, strlen(text), expect);
}

/* {"records":[{"id":"e1","topic":"audit.prison.update","data":DATA}]} */
static void
compare_data(const char *data, int expect)
{
	char text[4096];

	snprintf(text, sizeof(text),
	    "{\"records\":[{\"id\":\"e1\",\"topic\":\"audit.prison.update\","
	    "\"data\":%s}]}",
	    data);
	compare(text, expect);
}

/* A spool's batch (kit.c audit_text), n records. Caller frees. */
static char *
spool_batch(int n)
{
	size_t cap = 512 + (size_t) n * 512, len = 0;
	char  *t = malloc(cap);

	assert_non_null(t);
	len += (size_t) snprintf(t + len, cap - len, "{\"records\":[");
	for (int i = 0; i < n; i++)
		len += (size_t) snprintf(t + len, cap - len,
		    "%s{\"id\":\"%032x\",\"topic\":\"audit.prison.%s\","
		    "\"data\":{\"who\":\"officer-7\",\"role\":\"area_"
		    "officer\","
		    "\"agency\":%s,\"action\":\"UPDATE\",\"subject_type\":"
		    "\"alarm\",\"subject_id\":\"ALM-%08d\",\"purpose\":"
		    "\"alarm "
		    "handling\",\"outcome\":\"ok\",\"service\":\"prison\","
		    "\"corr\":\"%016x\",\"time\":%lld}}",
		    i ? "," : "", (unsigned) i * 2654435761u,
		    i % 3 ? "update" : "create",
		    i % 5 ? "\"prison-01\"" : "null", i, (unsigned) i,
		    1764720000000LL + i);
	snprintf(t + len, cap - len, "]}");
	return t;
}

static void
test_spool_batch(void **state)
{
	(void) state;
	char *t = spool_batch(512);
	compare(t, 1);
	free(t);
	compare("{\"records\":[]}", 1);
	compare(" \t\r\n{ \"records\" : [ { \"data\" : { \"who\" : \"a\" , "
	        "\"time\" : -12 } , \"topic\" : \"audit.x\" , \"id\" : \"1\" "
	        "} ] } \n",
	    1);
	/* a record with an event id twice: kept once by both */
	compare("{\"records\":[{\"id\":\"a\",\"topic\":\"audit.x\",\"data\":{"
	        "\"who\":\"1\"}},{\"id\":\"a\",\"topic\":\"audit.x\",\"data\""
	        ":{\"who\":\"2\"}}]}",
	    1);
	/* a topic outside audit.: both stop there */
	compare("{\"records\":[{\"id\":\"a\",\"topic\":\"audit.x\",\"data\":{"
	        "}},{\"id\":\"b\",\"topic\":\"prison.x\",\"data\":{}},{\"id\":"
	        "\"c\",\"topic\":\"audit.x\",\"data\":{}}]}",
	    1);
}

static void
test_escapes_unicode(void **state)
{
	(void) state;
	compare_data("{\"who\":\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\"}", 1);
	compare_data("{\"who\":\"caf\\u00e9 \\u4E2D\\u6587 \\ud83d\\ude00 "
	             "\\u0001\\u001f\\u007f\\uffff\"}",
	    1);
	compare_data("{\"who\":\"\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 "
	             "\xc3\xa9\x7f\"}",
	    1);
	compare("{\"records\":[{\"id\":\"\\u0041\\n\",\"topic\":\"audit."
	        "\\u4e2d\",\"data\":{}}]}",
	    1);
	/* jansson refuses these: so must the reader */
	const char *bad[] = { "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00\"",
		"\"\\ud800\\u0041\"", "\"\\ud800x\"", "\"\\u12\"", "\"\\x\"",
		"\"\\U0041\"", "\"a\nb\"", "\"a\tb\"", "\"\x01\"",
		"\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
		"\"\xe0\x80\xaf\"", "\"\xf0\x80\x80\xaf\"", "\"\x80\"",
		"\"\xff\"", "\"\xe4\xb8\"", "\"abc", "\"\\" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char d[64];
		snprintf(d, sizeof(d), "{\"who\":%s}", bad[i]);
		compare_data(d, 0);
	}
}

static void
test_values(void **state)
{
	(void) state;
	compare_data("{}", 1);
	compare_data("{\"who\":null,\"role\":null,\"time\":null}", 1);
	compare_data("{\"recipient\":\"court\",\"time\":0}", 1);
	compare_data("{\"time\":123456789012345678}", 1);
	compare_data("{\"time\":-123456789012345678}", 1);
	compare_data("{\"time\":\"2026-12-03T18:00:00Z\"}", 1);
	/* values the text keeps as jansson writes them back: jansson's */
	compare_data("{\"time\":1234567890123456789}", 2);
	compare_data("{\"time\":-0}", 2);
	compare_data("{\"time\":1.5}", 2);
	compare_data("{\"time\":1e3}", 2);
	compare_data("{\"time\":true,\"who\":false}", 2);
	compare_data("{\"who\":{\"b\":1,\"a\":[1,\"x\"]}}", 2);
	compare_data("{\"who\":[]}", 2);
	/* other keys: the detail */
	compare_data("{\"who\":\"a\",\"extra\":\"x\",\"topic\":\"t\","
	             "\"detail\":{\"z\":1,\"a\":null}}",
	    2);
	compare_data("{\"actor\":{\"user\":\"u\",\"role\":\"r\","
	             "\"agency\":\"g\"},\"role\":\"mine\"}",
	    2);
	compare_data("{\"w\\u0068o\":\"escaped key\"}", 2);
	compare_data("{\"who\":\"a\",\"\":\"empty key\"}", 2);
	/* refused by jansson */
	compare_data("{\"time\":01}", 0);
	compare_data("{\"time\":99999999999999999999}", 0);
	compare_data("{\"time\":1.}", 0);
	compare_data("{\"time\":nul}", 0);
	compare_data("{\"time\":nullx}", 0);
	compare_data("{\"time\":null1}", 0);
	compare_data("{\"time\":-}", 0);
	compare_data("{\"time\":+1}", 0);
	compare_data("{\"who\":\"a\",}", 0);
	compare_data("{\"who\" \"a\"}", 0);
	compare_data("{\"who\":\"a\" \"role\":\"b\"}", 0);
	compare_data("{\"x\":{\"a\":1,\"a\":2}}", 0);
	compare_data("{\"x\":\"\\u0000\"}", 0);
}

static void
test_duplicates(void **state)
{
	(void) state;
	/* a key twice, anywhere: refused by jansson, not taken */
	compare_data("{\"who\":\"a\",\"who\":\"b\"}", 0);
	compare_data("{\"who\":\"a\",\"extra\":1,\"who\":\"b\"}", 0);
	compare_data("{\"extra\":1,\"extra\":2}", 0);
	compare_data("{\"who\":\"a\",\"w\\u0068o\":\"b\"}", 0);
	compare("{\"records\":[{\"id\":\"a\",\"id\":\"b\",\"topic\":\"audit."
	        "x\",\"data\":{}}]}",
	    0);
	compare("{\"records\":[{\"id\":\"a\",\"topic\":\"audit.x\",\"data\":{"
	        "},\"data\":{}}]}",
	    0);
	compare("{\"records\":[],\"records\":[]}", 0);
}

static void
test_malformed(void **state)
{
	(void) state;
	/* other shapes: left to jansson (which refuses them, or reads the
	 * records before the odd one) */
	const char *other[] = { "", "[]", "{}", "{\"records\":{}}",
		"{\"records\":[1]}", "{\"records\":[{}]}",
		"{\"records\":[{\"id\":\"a\",\"topic\":\"audit.x\"}]}",
		"{\"records\":[{\"id\":1,\"topic\":\"audit.x\",\"data\":{}}]}",
		"{\"records\":[{\"id\":\"a\",\"topic\":\"audit.x\",\"data\":"
		"\"x\"}]}",
		"{\"records\":[{\"id\":\"a\",\"topic\":\"audit.x\",\"data\":{}"
		","
		"\"more\":1}]}",
		"{\"records\":[],\"more\":1}", "{\"more\":1,\"records\":[]}",
		"{\"records\":[]} x", "{\"records\":[],}",
		"{\"records\":[{\"id\":\"a\",\"topic\":"
		"\"audit.x\",\"data\":{}},]}",
		"{\"records\":[{\"id\":\"a\",\"topic\":\"audit.x\",\"data\":{}"
		"}",
		"\xef\xbb\xbf{\"records\":[]}", "{\"rec\\u006frds\":[]}" };
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		compare_n(other[i], strlen(other[i]), 0);
	compare_n("{\"records\":[]}\0", 15, 0); /* a NUL after it */
	audit_batch b;
	assert_int_equal(audit_batch_read(NULL, 0, &b), -1); /* no body */
	/* a malformed record among good ones: the whole request is
	 * jansson's, which refuses it */
	char *t = spool_batch(20), *p = strstr(t, "ALM-00000007");
	p[0] = '\x01';
	compare(t, 0);
	free(t);
	/* nesting far deeper than a spool's: jansson's */
	char   deep[600];
	size_t n = 0;
	n += (size_t) snprintf(deep, sizeof(deep), "{\"x\":");
	for (int i = 0; i < 100; i++)
		deep[n++] = '[';
	for (int i = 0; i < 100; i++)
		deep[n++] = ']';
	snprintf(deep + n, sizeof(deep) - n, "}");
	compare_data(deep, 0);
}

/* Every lead byte with continuation bytes around the edges: the reader
 * takes a string exactly when jansson does. */
static void
test_utf8_bytes(void **state)
{
	static const unsigned char edge[]
	    = { 0x00, 0x20, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
		      0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xff };
	/* the fourth byte: one that ends a sequence of three, or goes on */
	static const unsigned char last[] = { 0x41, 0x80, 0x9f, 0xbf };
	size_t                     ne     = sizeof(edge);
	(void) state;
	with_db = 0;
	for (unsigned lead = 0x80; lead <= 0xff; lead++)
		for (size_t a = 0; a < ne; a++)
			for (size_t c = 0; c < ne; c++)
				for (size_t d = 0; d < 4; d++) {
					char t[256];
					int  n = snprintf(t, sizeof(t),
					     "{\"records\":[{\"id\":\"e\","
					      "\"topic\":\"audit.x\",\"data\":{"
					      "\"who\":\"%c%c%c%c\"}}]}",
					     (char) lead, (char) edge[a],
					     (char) edge[c], (char) last[d]);
					compare_n(t, (size_t) n, -1);
				}
	with_db = 1;
}

/* Every \u escape (and pairs around the surrogates). */
static void
test_u_escapes(void **state)
{
	(void) state;
	with_db = 0;
	for (unsigned v = 0; v <= 0xffff; v++) {
		char d[64];
		snprintf(d, sizeof(d),
		    "{\"who\":\"\\u%04x\",\"role\":"
		    "\"\\u%04X\"}",
		    v, v);
		compare_data(d, -1);
	}
	static const unsigned hi[]
	    = { 0xd7ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000 };
	for (size_t i = 0; i < 6; i++)
		for (size_t j = 0; j < 6; j++) {
			char d[64];
			snprintf(d, sizeof(d), "{\"who\":\"\\u%04x\\u%04x\"}",
			    hi[i], hi[j]);
			compare_data(d, -1);
		}
	with_db = 1;
}

/* A batch with every kind of record, changed one byte at a time: what
 * the reader takes, jansson takes alike. */
static void
test_mutations(void **state)
{
	static const char base[]
	    = "{\"records\":[{\"id\":\"e1\",\"topic\":\"audit.a\",\"data\":{"
	      "\"who\":\"o\\u00e9\\n\",\"role\":null,\"time\":17,\"agency\":"
	      "\"\xe4\xb8\xad\"}},{\"id\":\"e2\",\"topic\":\"audit.b\","
	      "\"data\":{\"who\":\"x\",\"extra\":[1,{\"k\":true}],\"time\":"
	      "1.5}}]}";
	static const char repl[] = "\"\\{}[],:0-1e.nu \x01\x80\xc3\xe4";
	size_t            len    = sizeof(base) - 1;
	char              t[sizeof(base)];
	(void) state;
	with_db   = 0;
	took_fast = 0;
	for (size_t i = 0; i < len; i++)
		for (size_t r = 0; r < sizeof(repl) - 1; r++) {
			memcpy(t, base, len);
			t[i] = repl[r];
			compare_n(t, len, -1);
			/* and cut short there */
			compare_n(t, i, -1);
		}
	/* most of them are refused; some are taken */
	assert_true(took_fast > 100);
	with_db = 1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spool_batch),
		cmocka_unit_test(test_escapes_unicode),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_utf8_bytes),
		cmocka_unit_test(test_u_escapes),
		cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
