/*
 * fs.h - small file-system helpers shared by the layers.
 */
#ifndef XZ_UTIL_FS_H
#define XZ_UTIL_FS_H

#include <sys/types.h>

/* mkdir -p path with mode for each folder it creates (folders that exist
 * are left as they are). 0, or -1 with errno set. */
int xz_mkdirs(const char *path, mode_t mode);

#endif
