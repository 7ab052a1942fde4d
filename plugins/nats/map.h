/*
 * map.h - the nats bridge's subject mappings: lists of topic patterns read
 * from a string option, and the mapping between bus topics and NATS
 * subjects. Pure functions (no libnats, no host), so they are easy to read
 * and to check.
 *
 * A list is patterns separated by commas and/or white space:
 *   "prison.alarm.>, prison.rollcall.completed"
 * A pattern is dot-separated tokens of bytes 0x21..0x7e other than '.',
 * '*' and '>'; '*' (one token) and '>' (the rest, last token only) are
 * wildcards, as on the bus and in NATS.
 */
#ifndef XZ_NATS_MAP_H
#define XZ_NATS_MAP_H

#include <stddef.h>

#define NB_SUBJECT_MAX 255

/* A parsed list. v[i] are owned by the list (nb_list_free). */
typedef struct nb_list {
	char **v;
	size_t n;
} nb_list;

/* Parse text into *out. 0, or -1 with a reason in err (the first bad
 * pattern quoted) and *out empty. text NULL or blank gives an empty list.
 * wild: 0 refuses wildcards (a literal topic list). */
int nb_list_parse(
    const char *text, int wild, nb_list *out, char *err, size_t errlen);
void nb_list_free(nb_list *l);

/* Check a prefix: "" or tokens each followed by a '.'. wild: '*' tokens
 * allowed (an import prefix matching several sites). 0, or -1 with err. */
int nb_prefix_check(const char *prefix, int wild, char *err, size_t errlen);
/* Number of tokens of a checked prefix ("xiezhi.*." is 2). */
size_t nb_prefix_tokens(const char *prefix);

/* 1 if the valid pattern p matches the valid concrete subject s. */
int nb_match(const char *p, const char *s);
/* 1 if every subject matched by pattern p is also matched by pattern
 * cover (so a stream with subject cover captures p). */
int nb_covers(const char *cover, const char *p);

/* subject = a + b into out. 0, or -1 when over NB_SUBJECT_MAX. */
int nb_join(char *out, size_t outlen, const char *a, const char *b);
/* The topic of subject s after dropping its first ntok tokens: a pointer
 * into s, or NULL when s has no more than ntok tokens. */
const char *nb_strip(const char *s, size_t ntok);

/* 32 lowercase hex digits of a 16-byte id into out (33 bytes). */
void nb_hex16(const unsigned char id[16], char out[33]);
/* 64-bit FNV-1a of s, as 16 hex digits into out (17 bytes). */
void nb_fnv_hex(const char *s, char out[17]);

#endif
