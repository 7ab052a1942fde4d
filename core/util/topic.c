/*
 * topic.c - subject validation, pattern matching and the subscription index.
 *
 * The index is a token trie. Each node stands for one token of a pattern and
 * holds:
 *   - its literal children in a small open-addressing hash table (linear
 *     probing, capacity a power of two, load <= 1/2, backward-shift
 *     deletion so there are no tombstones). Each child caches the FNV-1a
 *     hash of its token, so a probe compares a 32-bit hash before it looks
 *     at bytes;
 *   - two dedicated slots for a '*' child and a '>' child, which every
 *     lookup has to try anyway, so they never cost a probe;
 *   - the items subscribed with exactly this pattern, in a growable array
 *     (duplicates allowed, kept in insertion order).
 *
 * Matching a topic tokenises it once into a stack array (offset, length and
 * hash per token; a topic of 255 bytes has at most 128 tokens), validating it
 * on the way, then walks the trie: at depth d, the '>' child's items match if
 * at least one token remains, the '*' child is followed to depth d+1, and the
 * literal child found by hash is followed to depth d+1. Every trie node is
 * reached by at most one path, so a match costs at most one visit per node
 * and usually a handful. Nothing is allocated and no string is measured
 * twice.
 *
 * Removing the last item of a node frees the node and every ancestor that is
 * left with neither items nor children, so the trie only holds live
 * patterns.
 */
#include "util/topic.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* At most one token per two bytes, plus one. */
#define XZ_TOKENS_MAX ((XZ_TOPIC_MAX + 1) / 2)

struct tnode {
	struct tnode  *parent;
	struct tnode **kids; /* hash table of literal children, or NULL */
	uint32_t       kcap; /* 0 or a power of two */
	uint32_t       kcount;
	struct tnode  *star; /* child for '*' */
	struct tnode  *gt; /* child for '>' (a leaf) */
	void         **items;
	uint32_t       nitems;
	uint32_t       icap;
	uint32_t       hash; /* of tok, for literal nodes */
	uint8_t        toklen;
	char           tok[]; /* literal token bytes, not NUL-terminated */
};

struct xz_tindex {
	struct tnode *root;
	size_t        size; /* (pattern, item) pairs */
	size_t        nodes; /* including the root */
};

/* Tokens of a topic or pattern, split once. */
struct toks {
	size_t   n;
	uint8_t  off[XZ_TOKENS_MAX];
	uint8_t  len[XZ_TOKENS_MAX];
	uint32_t hash[XZ_TOKENS_MAX];
};

#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u

static int
is_token_byte(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != '.' && c != '*' && c != '>';
}

static int
name_valid(const char *s, size_t len, int pattern)
{
	size_t start = 0;

	if (s == NULL || len == 0 || len > XZ_TOPIC_MAX)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		size_t tl = i - start;
		if (tl == 0)
			return 0;
		if (pattern && tl == 1 && s[start] == '*') {
			/* one token */
		} else if (pattern && tl == 1 && s[start] == '>') {
			if (i != len)
				return 0; /* '>' only as the last token */
		} else {
			for (size_t j = start; j < i; j++)
				if (!is_token_byte((unsigned char) s[j]))
					return 0;
		}
		start = i + 1;
	}
	return 1;
}

int
xz_topic_valid(const char *t, size_t len)
{
	return name_valid(t, len, 0);
}

int
xz_pattern_valid(const char *p, size_t len)
{
	return name_valid(p, len, 1);
}

int
xz_topic_match(const char *pattern, const char *topic)
{
	const char *p = pattern;
	const char *t = topic;

	if (*p == '\0' || *t == '\0')
		return 0;
	for (;;) {
		/* Both p and t are at the start of a token. */
		if (p[0] == '>' && p[1] == '\0')
			return 1; /* t has at least this token left */
		if (p[0] == '*' && (p[1] == '.' || p[1] == '\0')) {
			p++;
			while (*t != '\0' && *t != '.')
				t++;
		} else {
			while (*p != '\0' && *p != '.') {
				if (*p != *t)
					return 0;
				p++;
				t++;
			}
		}
		if (*p == '\0' || *t == '\0')
			return *p == *t;
		if (*t != '.')
			return 0; /* the topic token is longer */
		p++;
		t++;
	}
}

/*
 * Split a NUL-terminated topic into tk, validating it as it goes.
 * Returns the token count, or 0 if the topic is not a valid topic.
 */
static size_t
split_topic(const char *topic, struct toks *tk)
{
	size_t   i = 0, start = 0, n = 0;
	uint32_t h = FNV_OFFSET;

	for (;; i++) {
		unsigned char c = (unsigned char) topic[i];
		if (c == '.' || c == '\0') {
			if (i == start || i > XZ_TOPIC_MAX)
				return 0;
			tk->off[n]    = (uint8_t) start;
			tk->len[n]    = (uint8_t) (i - start);
			tk->hash[n++] = h;
			if (c == '\0')
				break;
			start = i + 1;
			h     = FNV_OFFSET;
			continue;
		}
		if (!is_token_byte(c) || i >= XZ_TOPIC_MAX)
			return 0;
		h = (h ^ c) * FNV_PRIME;
	}
	tk->n = n;
	return n;
}

/* Split a pattern already checked with xz_pattern_valid. */
static void
split_pattern(const char *p, size_t len, struct toks *tk)
{
	size_t   start = 0, n = 0;
	uint32_t h = FNV_OFFSET;

	for (size_t i = 0; i <= len; i++) {
		if (i == len || p[i] == '.') {
			tk->off[n]    = (uint8_t) start;
			tk->len[n]    = (uint8_t) (i - start);
			tk->hash[n++] = h;
			start         = i + 1;
			h             = FNV_OFFSET;
			continue;
		}
		h = (h ^ (unsigned char) p[i]) * FNV_PRIME;
	}
	tk->n = n;
}

static struct tnode *
kid_find(const struct tnode *n, const char *tok, size_t len, uint32_t h)
{
	if (n->kcount == 0)
		return NULL;
	uint32_t mask = n->kcap - 1;
	for (uint32_t i = h & mask;; i = (i + 1) & mask) {
		struct tnode *k = n->kids[i];
		if (k == NULL)
			return NULL;
		if (k->hash == h && k->toklen == len
		    && memcmp(k->tok, tok, len) == 0)
			return k;
	}
}

static void
kid_place(struct tnode **kids, uint32_t cap, struct tnode *k)
{
	uint32_t mask = cap - 1;
	uint32_t i    = k->hash & mask;
	while (kids[i] != NULL)
		i = (i + 1) & mask;
	kids[i] = k;
}

/* Rehash n's children into a new table of cap slots, owned by n (freed when
 * n loses its last child or is freed). -1 on out of memory. */
static int
kid_resize(struct tnode *n, uint32_t cap)
{
	struct tnode **kids = calloc(cap, sizeof(*kids));
	if (kids == NULL)
		return -1;
	for (uint32_t i = 0; i < n->kcap; i++)
		if (n->kids[i] != NULL)
			kid_place(kids, cap, n->kids[i]);
	free(n->kids);
	n->kids = kids;
	n->kcap = cap;
	return 0;
}

static int
kid_insert(struct tnode *n, struct tnode *k)
{
	if ((n->kcount + 1) * 2 > n->kcap
	    && kid_resize(n, n->kcap ? n->kcap * 2 : 4) != 0)
		return -1;
	kid_place(n->kids, n->kcap, k);
	n->kcount++;
	return 0;
}

static void
kid_delete(struct tnode *n, struct tnode *k)
{
	uint32_t mask = n->kcap - 1;
	uint32_t i    = k->hash & mask;

	while (n->kids[i] != k)
		i = (i + 1) & mask;
	n->kids[i] = NULL;
	n->kcount--;
	/* Backward shift: pull up every later entry of the probe run that
	 * would no longer be reachable from its home slot across the hole. */
	for (uint32_t j = (i + 1) & mask; n->kids[j] != NULL;
	     j          = (j + 1) & mask) {
		uint32_t home = n->kids[j]->hash & mask;
		/* Entry j stays if its home lies cyclically in (i, j]. */
		int stays = i <= j ? (home > i && home <= j)
		                   : (home > i || home <= j);
		if (!stays) {
			n->kids[i] = n->kids[j];
			n->kids[j] = NULL;
			i          = j;
		}
	}
	if (n->kcount == 0) {
		free(n->kids);
		n->kids = NULL;
		n->kcap = 0;
	} else if (n->kcap > 4 && n->kcount * 8 < n->kcap) {
		(void) kid_resize(n, n->kcap / 2); /* on failure keep it */
	}
}

/* The node is freed by node_unlink_free/xz_tindex_free. */
static struct tnode *
node_new(struct tnode *parent, const char *tok, size_t len, uint32_t h)
{
	struct tnode *n = calloc(1, sizeof(*n) + len);
	if (n == NULL)
		return NULL;
	n->parent = parent;
	n->hash   = h;
	n->toklen = (uint8_t) len;
	memcpy(n->tok, tok, len);
	return n;
}

static void
node_free_tree(struct tnode *n)
{
	if (n == NULL)
		return;
	for (uint32_t i = 0; i < n->kcap; i++)
		node_free_tree(n->kids[i]);
	node_free_tree(n->star);
	node_free_tree(n->gt);
	free(n->kids);
	free(n->items);
	free(n);
}

static int
node_empty(const struct tnode *n)
{
	return n->nitems == 0 && n->kcount == 0 && n->star == NULL
	    && n->gt == NULL;
}

/* Free n and every ancestor left empty, up to (not including) the root. */
static void
prune(xz_tindex *ix, struct tnode *n)
{
	while (n != ix->root && node_empty(n)) {
		struct tnode *p = n->parent;
		if (p->star == n)
			p->star = NULL;
		else if (p->gt == n)
			p->gt = NULL;
		else
			kid_delete(p, n);
		free(n->kids);
		free(n->items);
		free(n);
		ix->nodes--;
		n = p;
	}
}

/* Caller frees with xz_tindex_free. */
xz_tindex *
xz_tindex_new(void)
{
	xz_tindex *ix = calloc(1, sizeof(*ix));
	if (ix == NULL)
		return NULL;
	ix->root = node_new(NULL, "", 0, FNV_OFFSET);
	if (ix->root == NULL) {
		free(ix);
		return NULL;
	}
	ix->nodes = 1;
	return ix;
}

void
xz_tindex_free(xz_tindex *ix)
{
	if (ix == NULL)
		return;
	node_free_tree(ix->root);
	free(ix);
}

/* Split and validate a NUL-terminated pattern. 0, or -1 if invalid. */
static int
pattern_toks(const char *pattern, struct toks *tk)
{
	size_t len;

	if (pattern == NULL)
		return -1;
	len = strnlen(pattern, XZ_TOPIC_MAX + 1);
	if (!xz_pattern_valid(pattern, len))
		return -1;
	split_pattern(pattern, len, tk);
	return 0;
}

static int
is_wild(const char *tok, size_t len, char w)
{
	return len == 1 && tok[0] == w;
}

/* Nodes and item arrays created here belong to the index: freed when their
 * last pattern is removed, or by xz_tindex_free. */
int
xz_tindex_add(xz_tindex *ix, const char *pattern, void *item)
{
	struct toks   tk;
	struct tnode *n = ix->root;

	if (pattern_toks(pattern, &tk) != 0)
		return -1;
	for (size_t d = 0; d < tk.n; d++) {
		const char   *tok = pattern + tk.off[d];
		size_t        len = tk.len[d];
		struct tnode *k;

		if (is_wild(tok, len, '*'))
			k = n->star;
		else if (is_wild(tok, len, '>'))
			k = n->gt;
		else
			k = kid_find(n, tok, len, tk.hash[d]);
		if (k == NULL) {
			k = node_new(n, tok, len, tk.hash[d]);
			if (k == NULL)
				goto oom;
			if (is_wild(tok, len, '*')) {
				n->star = k;
			} else if (is_wild(tok, len, '>')) {
				n->gt = k;
			} else if (kid_insert(n, k) != 0) {
				free(k);
				goto oom;
			}
			ix->nodes++;
		}
		n = k;
	}
	if (n->nitems == n->icap) {
		uint32_t cap   = n->icap ? n->icap * 2 : 2;
		void   **items = realloc(n->items, cap * sizeof(*items));
		if (items == NULL)
			goto oom;
		n->items = items;
		n->icap  = cap;
	}
	n->items[n->nitems++] = item;
	ix->size++;
	return 0;
oom:
	prune(ix, n);
	return -1;
}

static struct tnode *
pattern_node(const xz_tindex *ix, const char *pattern, const struct toks *tk)
{
	struct tnode *n = ix->root;

	for (size_t d = 0; d < tk->n && n != NULL; d++) {
		const char *tok = pattern + tk->off[d];
		size_t      len = tk->len[d];

		if (is_wild(tok, len, '*'))
			n = n->star;
		else if (is_wild(tok, len, '>'))
			n = n->gt;
		else
			n = kid_find(n, tok, len, tk->hash[d]);
	}
	return n;
}

int
xz_tindex_remove(xz_tindex *ix, const char *pattern, void *item)
{
	struct toks   tk;
	struct tnode *n;

	if (pattern_toks(pattern, &tk) != 0)
		return -1;
	n = pattern_node(ix, pattern, &tk);
	if (n == NULL)
		return -1;
	/* Remove the most recent duplicate; keep the others in order. */
	for (uint32_t i = n->nitems; i-- > 0;) {
		if (n->items[i] != item)
			continue;
		memmove(&n->items[i], &n->items[i + 1],
		    (n->nitems - i - 1) * sizeof(*n->items));
		n->nitems--;
		ix->size--;
		if (n->nitems == 0) {
			free(n->items);
			n->items = NULL;
			n->icap  = 0;
			prune(ix, n);
		}
		return 0;
	}
	return -1;
}

struct walk {
	const char     *topic;
	struct toks     tk;
	xz_tindex_visit fn;
	void           *ctx;
	size_t          calls;
};

static void
visit(const struct tnode *n, struct walk *w)
{
	if (w->fn != NULL)
		for (uint32_t i = 0; i < n->nitems; i++)
			w->fn(w->ctx, n->items[i]);
	w->calls += n->nitems;
}

static void
walk(const struct tnode *n, size_t d, struct walk *w)
{
	/* Recursion only for '*' branches; literal descent is a loop. The
	 * depth is bounded by the token count (<= 128). */
	while (n != NULL) {
		if (d == w->tk.n) {
			visit(n, w);
			return;
		}
		if (n->gt != NULL)
			visit(n->gt, w);
		if (n->star != NULL)
			walk(n->star, d + 1, w);
		n = kid_find(
		    n, w->topic + w->tk.off[d], w->tk.len[d], w->tk.hash[d]);
		d++;
	}
}

size_t
xz_tindex_match(
    const xz_tindex *ix, const char *topic, xz_tindex_visit fn, void *ctx)
{
	struct walk w;

	if (topic == NULL || split_topic(topic, &w.tk) == 0)
		return 0;
	w.topic = topic;
	w.fn    = fn;
	w.ctx   = ctx;
	w.calls = 0;
	walk(ix->root, 0, &w);
	return w.calls;
}

size_t
xz_tindex_size(const xz_tindex *ix)
{
	return ix->size;
}

size_t
xz_tindex_node_count(const xz_tindex *ix)
{
	return ix->nodes;
}
