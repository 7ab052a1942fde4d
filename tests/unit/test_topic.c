/*
 * test_topic.c - topic/pattern validation, xz_topic_match and the
 * subscription index, checked against a reference written here
 * independently (split into tokens, then match recursively).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/topic.h"

/* ---- a fixed-seed PRNG (splitmix64) ---- */

static uint64_t rng_state;

static void
rng_seed(uint64_t s)
{
	rng_state = s;
}

static uint64_t
rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z          = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z          = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned
rng_below(unsigned n)
{
	return (unsigned) (rng_next() % n);
}

/* ---- the reference: split on '.', keep empty tokens ---- */

#define REF_MAX 300

struct ref_toks {
	int         n;
	const char *t[REF_MAX];
	size_t      len[REF_MAX];
};

static void
ref_split(const char *s, size_t len, struct ref_toks *rt)
{
	size_t start = 0;

	rt->n = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			rt->t[rt->n]     = s + start;
			rt->len[rt->n++] = i - start;
			start            = i + 1;
		}
	}
}

static int
ref_tok_is(const struct ref_toks *rt, int i, const char *w)
{
	return rt->len[i] == strlen(w) && memcmp(rt->t[i], w, rt->len[i]) == 0;
}

static int
ref_valid(const char *s, size_t len, int pattern)
{
	struct ref_toks rt;

	if (len < 1 || len > 255)
		return 0;
	ref_split(s, len, &rt);
	for (int i = 0; i < rt.n; i++) {
		if (rt.len[i] == 0)
			return 0;
		if (pattern && ref_tok_is(&rt, i, "*"))
			continue;
		if (pattern && ref_tok_is(&rt, i, ">") && i == rt.n - 1)
			continue;
		for (size_t j = 0; j < rt.len[i]; j++) {
			unsigned char c = (unsigned char) rt.t[i][j];
			if (c <= ' ' || c >= 127 || c == '.' || c == '*'
			    || c == '>')
				return 0;
		}
	}
	return 1;
}

static int
ref_match_toks(
    const struct ref_toks *p, int pi, const struct ref_toks *t, int ti)
{
	if (pi == p->n)
		return ti == t->n;
	if (ref_tok_is(p, pi, ">"))
		return ti < t->n;
	if (ti == t->n)
		return 0;
	if (!ref_tok_is(p, pi, "*")
	    && (p->len[pi] != t->len[ti]
	        || memcmp(p->t[pi], t->t[ti], t->len[ti]) != 0))
		return 0;
	return ref_match_toks(p, pi + 1, t, ti + 1);
}

static int
ref_match(const char *pattern, const char *topic)
{
	struct ref_toks p, t;

	ref_split(pattern, strlen(pattern), &p);
	ref_split(topic, strlen(topic), &t);
	return ref_match_toks(&p, 0, &t, 0);
}

/* ---- generators: a small alphabet so that matches are frequent ---- */

static const char *const alphabet[] = { "a", "b", "c", "dd", "prison" };
#define NALPHA (sizeof(alphabet) / sizeof(alphabet[0]))

static void
gen_topic(char *out)
{
	unsigned n = 1 + rng_below(5);

	out[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			strcat(out, ".");
		strcat(out, alphabet[rng_below(NALPHA)]);
	}
}

static void
gen_pattern(char *out)
{
	unsigned n = 1 + rng_below(5);

	out[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		unsigned r = rng_below(10);
		if (i > 0)
			strcat(out, ".");
		if (i == n - 1 && r < 2)
			strcat(out, ">");
		else if (r < 5)
			strcat(out, "*");
		else
			strcat(out, alphabet[rng_below(NALPHA)]);
	}
}

/* ---- validation ---- */

struct vcase {
	const char *s;
	int         topic;
	int         pattern;
};

static void
test_valid_cases(void **state)
{
	static const struct vcase cases[] = {
		{ "a", 1, 1 },
		{ "prison.alarm.raised", 1, 1 },
		{ "~!@#$%^&()_+-=[]{}|;:',<?/", 1, 1 },
		{ "", 0, 0 },
		{ ".", 0, 0 },
		{ "a.", 0, 0 },
		{ ".a", 0, 0 },
		{ "a..b", 0, 0 },
		{ "*", 0, 1 },
		{ ">", 0, 1 },
		{ "a.*", 0, 1 },
		{ "*.alarm.*", 0, 1 },
		{ "a.>", 0, 1 },
		{ "*.*.>", 0, 1 },
		{ "a.>.b", 0, 0 },
		{ ">.a", 0, 0 },
		{ ">.>", 0, 0 },
		{ "a*", 0, 0 },
		{ "*a", 0, 0 },
		{ "**", 0, 0 },
		{ "a>", 0, 0 },
		{ ">>", 0, 0 },
		{ "a b", 0, 0 },
		{ " a", 0, 0 },
		{ "a\tb", 0, 0 },
		{ "a\x7f", 0, 0 },
		{ "caf\xc3\xa9", 0, 0 },
		{ "a.*.", 0, 0 },
		{ "a.>.", 0, 0 },
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vcase *c = &cases[i];
		size_t              n = strlen(c->s);
		if (xz_topic_valid(c->s, n) != c->topic
		    || xz_pattern_valid(c->s, n) != c->pattern)
			fail_msg("\"%s\": topic %d pattern %d, want %d %d",
			    c->s, xz_topic_valid(c->s, n),
			    xz_pattern_valid(c->s, n), c->topic, c->pattern);
	}
	/* The length is the caller's, not strlen. */
	assert_int_equal(xz_topic_valid("a.b", 1), 1);
	assert_int_equal(xz_topic_valid("a.b", 2), 0);
	assert_int_equal(xz_topic_valid("a\0b", 3), 0);
	assert_int_equal(xz_pattern_valid("a.>x", 3), 1);
	assert_int_equal(xz_topic_valid(NULL, 0), 0);
}

static void
test_valid_limits(void **state)
{
	char buf[300];

	(void) state;
	memset(buf, 'a', sizeof(buf));
	assert_int_equal(xz_topic_valid(buf, 255), 1);
	assert_int_equal(xz_topic_valid(buf, 256), 0);
	assert_int_equal(xz_pattern_valid(buf, 255), 1);
	assert_int_equal(xz_pattern_valid(buf, 256), 0);

	/* 128 one-byte tokens: "a.a. ... .a" is exactly 255 bytes. */
	for (int i = 0; i < 255; i++)
		buf[i] = (i % 2) ? '.' : 'a';
	buf[255] = '\0';
	assert_int_equal(xz_topic_valid(buf, 255), 1);
	/* The same as a pattern of 127 '*' and a final '>'. */
	for (int i = 0; i < 255; i += 2)
		buf[i] = '*';
	buf[254] = '>';
	assert_int_equal(xz_pattern_valid(buf, 255), 1);
	assert_int_equal(xz_topic_valid(buf, 255), 0);
}

static void
test_valid_random(void **state)
{
	/* Mostly letters and dots, so that valid cases are common. */
	static const char pool[] = "aaaaaabbbbb.....**>>~ \t\x7f\xc3";
	char              buf[16];
	unsigned          ok_topic = 0, ok_pattern = 0;

	(void) state;
	rng_seed(1);
	for (int i = 0; i < 60000; i++) {
		size_t n = rng_below(9);
		for (size_t j = 0; j < n; j++)
			buf[j] = pool[rng_below(sizeof(pool) - 1)];
		int t = xz_topic_valid(buf, n);
		int p = xz_pattern_valid(buf, n);
		if (t != ref_valid(buf, n, 0) || p != ref_valid(buf, n, 1))
			fail_msg("case %d: '%.*s' topic %d pattern %d", i,
			    (int) n, buf, t, p);
		ok_topic += (unsigned) t;
		ok_pattern += (unsigned) p;
	}
	/* The generator must exercise both outcomes. */
	assert_true(ok_topic > 5000);
	assert_true(ok_pattern > ok_topic + 1000);
	assert_true(ok_pattern < 55000);
}

/* ---- matching ---- */

struct mcase {
	const char *pattern;
	const char *topic;
	int         match;
};

static const struct mcase match_cases[] = {
	{ "a", "a", 1 },
	{ "a", "b", 0 },
	{ "a", "ab", 0 },
	{ "ab", "a", 0 },
	{ "a", "a.b", 0 },
	{ "a.b", "a", 0 },
	{ "*", "a", 1 },
	{ "*", "a.b", 0 },
	{ "*.b", "a.b", 1 },
	{ "*.b", "a.c", 0 },
	{ "a.*", "a", 0 },
	{ ">", "a", 1 },
	{ ">", "a.b.c", 1 },
	{ "a.>", "a", 0 },
	{ "a.>", "a.b", 1 },
	{ "a.>", "a.b.c", 1 },
	{ "a.>", "ab.c", 0 },
	{ "a.*.>", "a.b", 0 },
	{ "a.*.>", "a.b.c", 1 },
	{ "*.alarm.*", "prison.alarm.raised", 1 },
	{ "*.alarm.*", "prison.alarm", 0 },
	{ "*.alarm.*", "prison.alarms.raised", 0 },
	{ "prison.>", "prison.alarm.raised", 1 },
	{ "prison.>", "prisons.alarm", 0 },
	{ "prison.alarm.raised", "prison.alarm.raised", 1 },
	{ "prison.alarm.raise", "prison.alarm.raised", 0 },
};

static size_t
count_visit_ctx(const xz_tindex *ix, const char *topic)
{
	return xz_tindex_match(ix, topic, NULL, NULL);
}

static void
test_match_cases(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]);
	     i++) {
		const struct mcase *c = &match_cases[i];
		xz_tindex          *ix;
		int                 dummy;

		if (xz_topic_match(c->pattern, c->topic) != c->match)
			fail_msg("'%s' vs '%s': want %d", c->pattern, c->topic,
			    c->match);
		assert_int_equal(ref_match(c->pattern, c->topic), c->match);
		ix = xz_tindex_new();
		assert_non_null(ix);
		assert_int_equal(xz_tindex_add(ix, c->pattern, &dummy), 0);
		if (count_visit_ctx(ix, c->topic) != (size_t) c->match)
			fail_msg("index '%s' vs '%s': want %d", c->pattern,
			    c->topic, c->match);
		xz_tindex_free(ix);
	}
}

static void
test_match_random(void **state)
{
	char     p[64], t[64];
	unsigned matches = 0;

	(void) state;
	rng_seed(2);
	for (int i = 0; i < 60000; i++) {
		gen_pattern(p);
		gen_topic(t);
		int want = ref_match(p, t);
		if (xz_topic_match(p, t) != want)
			fail_msg("'%s' vs '%s': want %d", p, t, want);
		matches += (unsigned) want;
	}
	assert_true(matches > 3000);
	assert_true(matches < 57000);
}

/* ---- the index ---- */

#define NPAT 300

struct tally {
	unsigned counts[NPAT + 1];
	size_t   calls;
};

static void
tally_visit(void *ctx, void *item)
{
	struct tally *ta = ctx;
	uintptr_t     i  = (uintptr_t) item;

	assert_true(i >= 1 && i <= NPAT);
	ta->counts[i]++;
	ta->calls++;
}

/* Compare xz_tindex_match with the reference over live patterns, for
 * ntopics generated topics. Returns the total number of matches. */
static size_t
check_index(const xz_tindex *ix, char pats[][64], const int *live, int ntopics)
{
	char   t[64];
	size_t total = 0;

	for (int k = 0; k < ntopics; k++) {
		struct tally ta;
		size_t       want_total = 0;

		memset(&ta, 0, sizeof(ta));
		gen_topic(t);
		size_t n = xz_tindex_match(ix, t, tally_visit, &ta);
		assert_int_equal(n, ta.calls);
		for (int i = 0; i < NPAT; i++) {
			unsigned want
			    = live[i] && ref_match(pats[i], t) ? live[i] : 0;
			if (ta.counts[i + 1] != want)
				fail_msg("topic '%s' pattern '%s' (item %d): "
				         "%u matches, want %u",
				    t, pats[i], i + 1, ta.counts[i + 1], want);
			want_total += want;
		}
		assert_int_equal(n, want_total);
		total += n;
	}
	return total;
}

static void
test_index_random(void **state)
{
	static char pats[NPAT][64];
	int         live[NPAT]; /* how many times pats[i] is added */
	xz_tindex  *ix   = xz_tindex_new();
	size_t      size = 0;

	(void) state;
	assert_non_null(ix);
	rng_seed(3);
	for (int i = 0; i < NPAT; i++) {
		gen_pattern(pats[i]);
		live[i] = 1 + (rng_below(4) == 0); /* some twice */
		for (int k = 0; k < live[i]; k++) {
			assert_int_equal(xz_tindex_add(ix, pats[i],
			                     (void *) (uintptr_t) (i + 1)),
			    0);
			size++;
		}
	}
	assert_int_equal(xz_tindex_size(ix), size);
	assert_true(check_index(ix, pats, live, 4000) > 4000);

	/* Remove a random half, one pair at a time, and check again. */
	for (int i = 0; i < NPAT; i++) {
		if (rng_below(2) == 0)
			continue;
		assert_int_equal(xz_tindex_remove(ix, pats[i],
		                     (void *) (uintptr_t) (i + 1)),
		    0);
		live[i]--;
		size--;
	}
	assert_int_equal(xz_tindex_size(ix), size);
	check_index(ix, pats, live, 2000);

	/* Remove everything left; a pair not held is refused. */
	for (int i = 0; i < NPAT; i++) {
		while (live[i] > 0) {
			assert_int_equal(xz_tindex_remove(ix, pats[i],
			                     (void *) (uintptr_t) (i + 1)),
			    0);
			live[i]--;
			size--;
		}
		assert_int_equal(xz_tindex_remove(ix, pats[i],
		                     (void *) (uintptr_t) (i + 1)),
		    -1);
	}
	assert_int_equal(xz_tindex_size(ix), 0);
	assert_int_equal(xz_tindex_node_count(ix), 1);
	assert_int_equal(check_index(ix, pats, live, 100), 0);
	xz_tindex_free(ix);
}

static void
collect_visit(void *ctx, void *item)
{
	int **out = ctx;
	*(*out)++ = *(int *) item;
}

static void
test_index_duplicates(void **state)
{
	xz_tindex *ix = xz_tindex_new();
	int        x = 1, y = 2;
	int        got[8], *cur;

	(void) state;
	assert_int_equal(xz_tindex_add(ix, "a.b", &x), 0);
	assert_int_equal(xz_tindex_add(ix, "a.b", &y), 0);
	assert_int_equal(xz_tindex_add(ix, "a.b", &x), 0);
	assert_int_equal(xz_tindex_add(ix, "a.*", &x), 0);
	assert_int_equal(xz_tindex_size(ix), 4);
	/* root, a, b, * */
	assert_int_equal(xz_tindex_node_count(ix), 4);

	cur = got;
	assert_int_equal(xz_tindex_match(ix, "a.b", collect_visit, &cur), 4);
	assert_int_equal(cur - got, 4);
	int ones = 0, twos = 0;
	for (int i = 0; i < 4; i++) {
		ones += got[i] == 1;
		twos += got[i] == 2;
	}
	assert_int_equal(ones, 3);
	assert_int_equal(twos, 1);
	assert_int_equal(xz_tindex_match(ix, "a.c", NULL, NULL), 1);

	/* Remove one duplicate at a time. */
	assert_int_equal(xz_tindex_remove(ix, "a.b", &x), 0);
	assert_int_equal(xz_tindex_match(ix, "a.b", NULL, NULL), 3);
	assert_int_equal(xz_tindex_remove(ix, "a.b", &x), 0);
	assert_int_equal(xz_tindex_match(ix, "a.b", NULL, NULL), 2);
	assert_int_equal(xz_tindex_remove(ix, "a.b", &x), -1);
	assert_int_equal(xz_tindex_node_count(ix), 4);
	assert_int_equal(xz_tindex_remove(ix, "a.b", &y), 0);
	/* "b" is gone, "a" stays for "a.*". */
	assert_int_equal(xz_tindex_node_count(ix), 3);
	assert_int_equal(xz_tindex_match(ix, "a.b", NULL, NULL), 1);
	assert_int_equal(xz_tindex_size(ix), 1);

	/* Absent or invalid patterns are refused and change nothing. */
	assert_int_equal(xz_tindex_remove(ix, "a", &x), -1);
	assert_int_equal(xz_tindex_remove(ix, "a.*.c", &x), -1);
	assert_int_equal(xz_tindex_remove(ix, "a.>", &x), -1);
	assert_int_equal(xz_tindex_remove(ix, "a..b", &x), -1);
	assert_int_equal(xz_tindex_add(ix, "a..b", &x), -1);
	assert_int_equal(xz_tindex_add(ix, "a.>.b", &x), -1);
	assert_int_equal(xz_tindex_add(ix, "", &x), -1);
	assert_int_equal(xz_tindex_add(ix, NULL, &x), -1);
	assert_int_equal(xz_tindex_size(ix), 1);
	assert_int_equal(xz_tindex_node_count(ix), 3);

	assert_int_equal(xz_tindex_remove(ix, "a.*", &x), 0);
	assert_int_equal(xz_tindex_size(ix), 0);
	assert_int_equal(xz_tindex_node_count(ix), 1);
	xz_tindex_free(ix);
}

static void
test_index_frees_nodes(void **state)
{
	xz_tindex *ix = xz_tindex_new();
	int        x;

	(void) state;
	assert_int_equal(xz_tindex_add(ix, "a.b.c", &x), 0);
	assert_int_equal(xz_tindex_add(ix, "a.b.d", &x), 0);
	assert_int_equal(xz_tindex_add(ix, "a.*", &x), 0);
	assert_int_equal(xz_tindex_add(ix, "a.>", &x), 0);
	assert_int_equal(xz_tindex_add(ix, "a", &x), 0);
	/* root a b c d * > */
	assert_int_equal(xz_tindex_node_count(ix), 7);
	assert_int_equal(xz_tindex_remove(ix, "a.b.c", &x), 0);
	assert_int_equal(xz_tindex_node_count(ix), 6);
	assert_int_equal(xz_tindex_remove(ix, "a.b.d", &x), 0);
	assert_int_equal(xz_tindex_node_count(ix), 4);
	assert_int_equal(xz_tindex_remove(ix, "a.>", &x), 0);
	assert_int_equal(xz_tindex_remove(ix, "a.*", &x), 0);
	/* "a" still holds an item */
	assert_int_equal(xz_tindex_node_count(ix), 2);
	assert_int_equal(xz_tindex_match(ix, "a", NULL, NULL), 1);
	assert_int_equal(xz_tindex_remove(ix, "a", &x), 0);
	assert_int_equal(xz_tindex_node_count(ix), 1);
	xz_tindex_free(ix);
}

/* Many literal children of one node: grows and shrinks its hash table and
 * exercises deletion in the middle of probe runs. */
static void
test_index_wide_node(void **state)
{
	enum { N = 600 };
	xz_tindex *ix = xz_tindex_new();
	int        order[N];
	int        live[N];
	char       name[32];

	(void) state;
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "k%d.x", i);
		assert_int_equal(xz_tindex_add(ix, name, &live[i]), 0);
		live[i]  = 1;
		order[i] = i;
	}
	assert_int_equal(xz_tindex_node_count(ix), 1 + 2 * N);
	rng_seed(4);
	for (int i = N - 1; i > 0; i--) {
		int j    = (int) rng_below((unsigned) i + 1);
		int tmp  = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (int r = 0; r < N; r++) {
		int k = order[r];
		snprintf(name, sizeof(name), "k%d.x", k);
		assert_int_equal(xz_tindex_remove(ix, name, &live[k]), 0);
		live[k] = 0;
		/* every 10 removals, check every key */
		if (r % 10 != 0)
			continue;
		for (int i = 0; i < N; i++) {
			snprintf(name, sizeof(name), "k%d.x", i);
			if (xz_tindex_match(ix, name, NULL, NULL)
			    != (size_t) live[i])
				fail_msg("after %d removals: '%s' want %d",
				    r + 1, name, live[i]);
		}
	}
	assert_int_equal(xz_tindex_node_count(ix), 1);
	xz_tindex_free(ix);
}

static void
test_index_invalid_topics(void **state)
{
	xz_tindex *ix = xz_tindex_new();
	int        x;
	char       big[300];

	(void) state;
	assert_int_equal(xz_tindex_add(ix, ">", &x), 0);
	assert_int_equal(xz_tindex_add(ix, "*", &x), 0);
	assert_int_equal(xz_tindex_match(ix, "a", NULL, NULL), 2);
	assert_int_equal(xz_tindex_match(ix, "a.b", NULL, NULL), 1);
	assert_int_equal(xz_tindex_match(ix, "", NULL, NULL), 0);
	assert_int_equal(xz_tindex_match(ix, "a..b", NULL, NULL), 0);
	assert_int_equal(xz_tindex_match(ix, "a.", NULL, NULL), 0);
	assert_int_equal(xz_tindex_match(ix, ".a", NULL, NULL), 0);
	assert_int_equal(xz_tindex_match(ix, "a.*", NULL, NULL), 0);
	assert_int_equal(xz_tindex_match(ix, "a.>", NULL, NULL), 0);
	assert_int_equal(xz_tindex_match(ix, "a b", NULL, NULL), 0);
	assert_int_equal(xz_tindex_match(ix, NULL, NULL, NULL), 0);

	/* 255 bytes match; 256 bytes are not a topic. */
	memset(big, 'a', sizeof(big));
	big[255] = '\0';
	assert_int_equal(xz_tindex_match(ix, big, NULL, NULL), 2);
	big[255] = 'a';
	big[256] = '\0';
	assert_int_equal(xz_tindex_match(ix, big, NULL, NULL), 0);
	/* 128 tokens, the most a topic can have. */
	for (int i = 0; i < 255; i++)
		big[i] = (i % 2) ? '.' : 'a';
	big[255] = '\0';
	assert_int_equal(xz_tindex_match(ix, big, NULL, NULL), 1);
	assert_int_equal(xz_topic_match(">", big), 1);
	big[255] = '.';
	big[256] = 'a';
	big[257] = '\0';
	assert_int_equal(xz_tindex_match(ix, big, NULL, NULL), 0);

	/* A 255-byte pattern is indexed; 256 bytes are refused. */
	for (int i = 0; i < 255; i++)
		big[i] = (i % 2) ? '.' : '*';
	big[255] = '\0';
	assert_int_equal(xz_tindex_add(ix, big, &x), 0);
	for (int i = 0; i < 255; i++)
		big[i] = (i % 2) ? '.' : 'q';
	assert_int_equal(xz_tindex_match(ix, big, NULL, NULL), 2);
	big[255] = 'q';
	big[256] = '\0';
	assert_int_equal(xz_tindex_add(ix, big, &x), -1);
	assert_int_equal(xz_tindex_size(ix), 3);
	xz_tindex_free(ix);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_cases),
		cmocka_unit_test(test_valid_limits),
		cmocka_unit_test(test_valid_random),
		cmocka_unit_test(test_match_cases),
		cmocka_unit_test(test_match_random),
		cmocka_unit_test(test_index_random),
		cmocka_unit_test(test_index_duplicates),
		cmocka_unit_test(test_index_frees_nodes),
		cmocka_unit_test(test_index_wide_node),
		cmocka_unit_test(test_index_invalid_topics),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
