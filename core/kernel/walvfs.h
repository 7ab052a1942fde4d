/*
 * walvfs.h - a VFS over SQLite's default one that writes each WAL commit
 * in a few large writes (walvfs.c says how and why it is safe).
 */
#ifndef XZ_WALVFS_H
#define XZ_WALVFS_H

/* Register the VFS (once; not as the default). Its name, for
 * sqlite3_open_v2, or NULL when the default VFS cannot be wrapped (then
 * open with the default). Call before any thread opens with it. */
const char *xz_walvfs_register(void);

#endif
