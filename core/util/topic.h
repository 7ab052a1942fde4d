/*
 * topic.h - subjects and subscription patterns.
 *
 * A topic is dot-separated tokens: "prison.alarm.raised". A token is one or
 * more bytes in 0x21..0x7e other than '.', '*' and '>'. A pattern may also
 * use NATS wildcards as whole tokens: '*' matches exactly one token, '>'
 * (last token only) matches one or more remaining tokens. Topics are at most
 * XZ_TOPIC_MAX bytes.
 */
#ifndef XZ_TOPIC_H
#define XZ_TOPIC_H

#include <stddef.h>

#define XZ_TOPIC_MAX 255

/* 1 if t[0..len) is a valid concrete topic (no wildcards), else 0. */
int xz_topic_valid(const char *t, size_t len);
/* 1 if p[0..len) is a valid pattern, else 0. */
int xz_pattern_valid(const char *p, size_t len);
/* 1 if the (valid) pattern matches the (valid) topic. NUL-terminated. */
int xz_topic_match(const char *pattern, const char *topic);

/*
 * Subscription index: a token trie from patterns to opaque items. Not
 * thread-safe: the bus holds its lock around every call. Matching does not
 * allocate. The index never owns items.
 */
typedef struct xz_tindex xz_tindex;

/* Returns NULL on out of memory. */
xz_tindex *xz_tindex_new(void);
void       xz_tindex_free(xz_tindex *ix);
/* Add item under a valid pattern. 0, or -1 on out of memory/bad pattern.
 * The same (pattern, item) may be added twice and is then matched twice. */
int xz_tindex_add(xz_tindex *ix, const char *pattern, void *item);
/* Remove one (pattern, item) pair. 0, or -1 if absent. Empty nodes are
 * freed. */
int xz_tindex_remove(xz_tindex *ix, const char *pattern, void *item);
/* Call fn(ctx, item) once per (pattern, item) whose pattern matches topic.
 * Returns the number of matches (fn may be NULL to only count them). An
 * invalid topic matches nothing. */
typedef void (*xz_tindex_visit)(void *ctx, void *item);
size_t xz_tindex_match(
    const xz_tindex *ix, const char *topic, xz_tindex_visit fn, void *ctx);
/* Number of (pattern, item) pairs held. */
size_t xz_tindex_size(const xz_tindex *ix);
/* Number of trie nodes, the root included (1 when empty): lets tests check
 * that removal frees what it no longer needs. */
size_t xz_tindex_node_count(const xz_tindex *ix);

#endif
