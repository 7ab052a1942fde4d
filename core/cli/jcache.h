/*
 * jcache.h - a per-thread cache of freed blocks for jansson's values
 * (jcache.c), installed once at start with json_set_alloc_funcs. Every
 * block is a plain malloc'd one: what jansson hands out (json_dumps) is
 * still freed with free().
 */
#ifndef XZ_JCACHE_H
#define XZ_JCACHE_H

/* Install the cache (before the first thread starts): 1 when installed,
 * 0 when not (a sanitizer build, XZ_JSON_CACHE=0, no thread key). */
int xz_jcache_install(void);

#endif
