/*
 * walvfs.c - the plugins' stores write each WAL commit in a few large
 * writes instead of two system calls a page.
 *
 * SQLite writes a transaction's frames to the WAL one after the other,
 * each as two writes: its 24-byte header, then the page. On this platform
 * a commit of the prison's batch is about 75 frames, so 150 pwrite calls,
 * each a trip into the kernel. This VFS sits over the default one ("unix")
 * and, for a WAL file only, gathers writes that follow each other in a
 * buffer, writing it out:
 *   - once the commit frame's page is in: a frame header whose second
 *     word (the database size in pages) is not zero marks the last frame
 *     of a transaction; the write of the page after it completes the
 *     commit, and the buffer goes to the file before SQLite's write
 *     returns, so before SQLite publishes the new frames in the WAL index
 *     (other connections, the checkpointer's too, read only frames the
 *     index names: every byte of them is in the file by then);
 *   - when a write does not follow the buffered ones, or would not fit;
 *   - before anything else is done with the file (read, sync, truncate,
 *     size, lock, close, file control), so that SQLite, which reads back
 *     frames of its own transaction, always sees the file as it wrote it.
 * Frames of a transaction that spilled pages before its commit stay
 * buffered until then or until a read: readers never use them before the
 * commit. The database file and every other file go straight through. A
 * write the buffer deferred that then fails is reported by the call that
 * writes it out (the commit's last write, or the next call), as SQLite's
 * own writes fail: the transaction fails, nothing is acknowledged.
 * (Gathered bytes are dropped with the error, as SQLite drops the
 * transaction.)
 *
 * Locks, shared memory and memory maps are the default VFS's: any other
 * connection (the checkpointer, `xiezhi audit verify`, the sqlite3 shell)
 * works on the same files with the default VFS.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "walvfs.h"

/* The most bytes gathered before a write: about 15 frames of 4 KiB. */
#define WAL_BUF_CAP (64 * 1024)

typedef struct wal_file {
	sqlite3_file  base; /* pMethods: &wal_io or &pass_io */
	sqlite3_file *real; /* the default VFS's file, after this struct */
	/* WAL files only: the bytes not written yet (buf, owned, allocated
	 * by the first write after a flush, freed by the flush or at close),
	 * len of them at file offset off; commit_next: the header just
	 * buffered was a commit frame's */
	char         *buf;
	sqlite3_int64 off;
	int           len;
	int           commit_next;
} wal_file;

static sqlite3_vfs  wal_vfs;
static sqlite3_vfs *base_vfs;

/* Write out what is gathered: SQLITE_OK or the write's error (what was
 * gathered is dropped either way: SQLite fails the transaction). The
 * buffer goes back to the allocator: an idle store keeps none (a store
 * commits every few milliseconds at most; the next write takes one). */
static int
wal_flush(wal_file *f)
{
	int rc;

	if (f->len == 0)
		return SQLITE_OK;
	rc     = f->real->pMethods->xWrite(f->real, f->buf, f->len, f->off);
	f->len = 0;
	free(f->buf);
	f->buf = NULL;
	return rc;
}

static int
wal_write(sqlite3_file *pf, const void *data, int amt, sqlite3_int64 ofst)
{
	wal_file *f = (wal_file *) pf;
	int       rc;

	if (f->len > 0
	    && (ofst != f->off + f->len || f->len + amt > WAL_BUF_CAP)) {
		if ((rc = wal_flush(f)) != SQLITE_OK)
			return rc;
	}
	if (f->buf == NULL && (f->buf = malloc(WAL_BUF_CAP)) == NULL)
		return f->real->pMethods->xWrite(f->real, data, amt, ofst);
	if (amt > WAL_BUF_CAP) {
		if ((rc = wal_flush(f)) != SQLITE_OK)
			return rc;
		return f->real->pMethods->xWrite(f->real, data, amt, ofst);
	}
	if (f->len == 0)
		f->off = ofst;
	memcpy(f->buf + f->len, data, (size_t) amt);
	f->len += amt;
	if (f->commit_next) { /* the commit frame's page: out it goes */
		f->commit_next = 0;
		return wal_flush(f);
	}
	/* a frame header (24 bytes; the WAL header is 32) whose database
	 * size is not zero: the frame of a commit */
	if (amt == 24) {
		const unsigned char *h = data;
		f->commit_next         = (h[4] | h[5] | h[6] | h[7]) != 0;
	}
	return SQLITE_OK;
}

/* Every other call: what is gathered goes first. */
#define FLUSHED(f)                                                            \
	do {                                                                  \
		int frc_ = wal_flush(f);                                      \
		if (frc_ != SQLITE_OK)                                        \
			return frc_;                                          \
	} while (0)

static int
wal_close(sqlite3_file *pf)
{
	wal_file *f  = (wal_file *) pf;
	int       rc = wal_flush(f);
	int       cr = f->real->pMethods->xClose(f->real);

	free(f->buf);
	f->buf = NULL;
	return rc != SQLITE_OK ? rc : cr;
}

static int
wal_read(sqlite3_file *pf, void *data, int amt, sqlite3_int64 ofst)
{
	wal_file *f = (wal_file *) pf;

	FLUSHED(f);
	return f->real->pMethods->xRead(f->real, data, amt, ofst);
}

static int
wal_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
	wal_file *f = (wal_file *) pf;

	FLUSHED(f);
	return f->real->pMethods->xTruncate(f->real, size);
}

static int
wal_sync(sqlite3_file *pf, int flags)
{
	wal_file *f = (wal_file *) pf;

	FLUSHED(f);
	return f->real->pMethods->xSync(f->real, flags);
}

static int
wal_size(sqlite3_file *pf, sqlite3_int64 *size)
{
	wal_file *f = (wal_file *) pf;

	FLUSHED(f);
	return f->real->pMethods->xFileSize(f->real, size);
}

static int
wal_lock(sqlite3_file *pf, int lock)
{
	wal_file *f = (wal_file *) pf;

	FLUSHED(f);
	return f->real->pMethods->xLock(f->real, lock);
}

static int
wal_unlock(sqlite3_file *pf, int lock)
{
	wal_file *f = (wal_file *) pf;

	FLUSHED(f);
	return f->real->pMethods->xUnlock(f->real, lock);
}

static int
wal_reserved(sqlite3_file *pf, int *out)
{
	wal_file *f = (wal_file *) pf;

	FLUSHED(f);
	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int
wal_fcntl(sqlite3_file *pf, int op, void *arg)
{
	wal_file *f = (wal_file *) pf;

	FLUSHED(f);
	return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int
wal_sector(sqlite3_file *pf)
{
	wal_file *f = (wal_file *) pf;
	return f->real->pMethods->xSectorSize(f->real);
}

static int
wal_devchar(sqlite3_file *pf)
{
	wal_file *f = (wal_file *) pf;
	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

/* The methods of version 2 (shared memory) and 3 (memory maps): the
 * default VFS's when its file has them (the unix VFS's have both). */
static int
wal_shmmap(sqlite3_file *pf, int pg, int pgsz, int extend, void volatile **p)
{
	wal_file *f = (wal_file *) pf;
	return f->real->pMethods->iVersion >= 2
	    ? f->real->pMethods->xShmMap(f->real, pg, pgsz, extend, p)
	    : SQLITE_IOERR_SHMMAP;
}

static int
wal_shmlock(sqlite3_file *pf, int offset, int n, int flags)
{
	wal_file *f = (wal_file *) pf;
	return f->real->pMethods->iVersion >= 2
	    ? f->real->pMethods->xShmLock(f->real, offset, n, flags)
	    : SQLITE_IOERR_SHMLOCK;
}

static void
wal_shmbarrier(sqlite3_file *pf)
{
	wal_file *f = (wal_file *) pf;
	if (f->real->pMethods->iVersion >= 2)
		f->real->pMethods->xShmBarrier(f->real);
}

static int
wal_shmunmap(sqlite3_file *pf, int del)
{
	wal_file *f = (wal_file *) pf;
	return f->real->pMethods->iVersion >= 2
	    ? f->real->pMethods->xShmUnmap(f->real, del)
	    : SQLITE_OK;
}

static int
wal_fetch(sqlite3_file *pf, sqlite3_int64 ofst, int amt, void **pp)
{
	wal_file *f = (wal_file *) pf;

	FLUSHED(f);
	if (f->real->pMethods->iVersion < 3) {
		*pp = NULL; /* not mapped: SQLite reads instead */
		return SQLITE_OK;
	}
	return f->real->pMethods->xFetch(f->real, ofst, amt, pp);
}

static int
wal_unfetch(sqlite3_file *pf, sqlite3_int64 ofst, void *p)
{
	wal_file *f = (wal_file *) pf;
	return f->real->pMethods->iVersion >= 3
	    ? f->real->pMethods->xUnfetch(f->real, ofst, p)
	    : SQLITE_OK;
}

/* A WAL file's methods, and (pass_io: the same without gathering) every
 * other file's. */
static const sqlite3_io_methods wal_io = { 3, wal_close, wal_read, wal_write,
	wal_truncate, wal_sync, wal_size, wal_lock, wal_unlock, wal_reserved,
	wal_fcntl, wal_sector, wal_devchar, wal_shmmap, wal_shmlock,
	wal_shmbarrier, wal_shmunmap, wal_fetch, wal_unfetch };

static int
pass_write(sqlite3_file *pf, const void *data, int amt, sqlite3_int64 ofst)
{
	wal_file *f = (wal_file *) pf;
	return f->real->pMethods->xWrite(f->real, data, amt, ofst);
}

static const sqlite3_io_methods pass_io = { 3, wal_close, wal_read, pass_write,
	wal_truncate, wal_sync, wal_size, wal_lock, wal_unlock, wal_reserved,
	wal_fcntl, wal_sector, wal_devchar, wal_shmmap, wal_shmlock,
	wal_shmbarrier, wal_shmunmap, wal_fetch, wal_unfetch };

static int
wal_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *pf, int flags,
    int *out_flags)
{
	wal_file *f = (wal_file *) pf;
	int       rc;

	(void) vfs;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *) (f + 1);
	rc      = base_vfs->xOpen(base_vfs, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK || f->real->pMethods == NULL) {
		/* nothing to close: SQLite calls no method of ours */
		f->base.pMethods = NULL;
		return rc;
	}
	f->base.pMethods = (flags & SQLITE_OPEN_WAL) ? &wal_io : &pass_io;
	return SQLITE_OK;
}

static int
wal_delete(sqlite3_vfs *vfs, const char *name, int sync)
{
	(void) vfs;
	return base_vfs->xDelete(base_vfs, name, sync);
}

static int
wal_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void) vfs;
	return base_vfs->xAccess(base_vfs, name, flags, out);
}

static int
wal_fullpath(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void) vfs;
	return base_vfs->xFullPathname(base_vfs, name, n, out);
}

static void *
wal_dlopen(sqlite3_vfs *vfs, const char *name)
{
	(void) vfs;
	return base_vfs->xDlOpen(base_vfs, name);
}

static void
wal_dlerror(sqlite3_vfs *vfs, int n, char *msg)
{
	(void) vfs;
	base_vfs->xDlError(base_vfs, n, msg);
}

static void (*wal_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void) vfs;
	return base_vfs->xDlSym(base_vfs, h, sym);
}

static void
wal_dlclose(sqlite3_vfs *vfs, void *h)
{
	(void) vfs;
	base_vfs->xDlClose(base_vfs, h);
}

static int
wal_random(sqlite3_vfs *vfs, int n, char *out)
{
	(void) vfs;
	return base_vfs->xRandomness(base_vfs, n, out);
}

static int
wal_sleep(sqlite3_vfs *vfs, int us)
{
	(void) vfs;
	return base_vfs->xSleep(base_vfs, us);
}

static int
wal_time(sqlite3_vfs *vfs, double *t)
{
	(void) vfs;
	return base_vfs->xCurrentTime(base_vfs, t);
}

static int
wal_lasterr(sqlite3_vfs *vfs, int n, char *msg)
{
	(void) vfs;
	return base_vfs->xGetLastError
	    ? base_vfs->xGetLastError(base_vfs, n, msg)
	    : 0;
}

static int
wal_time64(sqlite3_vfs *vfs, sqlite3_int64 *t)
{
	(void) vfs;
	return base_vfs->xCurrentTimeInt64(base_vfs, t);
}

const char *
xz_walvfs_register(void)
{
	if (base_vfs != NULL)
		return wal_vfs.zName;
	if ((base_vfs = sqlite3_vfs_find(NULL)) == NULL
	    || base_vfs->iVersion < 2 || base_vfs->xCurrentTimeInt64 == NULL) {
		base_vfs = NULL;
		return NULL;
	}
	wal_vfs = (sqlite3_vfs) { .iVersion = 2,
		.szOsFile      = (int) sizeof(wal_file) + base_vfs->szOsFile,
		.mxPathname    = base_vfs->mxPathname,
		.zName         = "xz-wal",
		.xOpen         = wal_open,
		.xDelete       = wal_delete,
		.xAccess       = wal_access,
		.xFullPathname = wal_fullpath,
		.xDlOpen       = wal_dlopen,
		.xDlError      = wal_dlerror,
		.xDlSym        = wal_dlsym,
		.xDlClose      = wal_dlclose,
		.xRandomness   = wal_random,
		.xSleep        = wal_sleep,
		.xCurrentTime  = wal_time,
		.xGetLastError = wal_lasterr,
		.xCurrentTimeInt64 = wal_time64 };
	if (sqlite3_vfs_register(&wal_vfs, 0) != SQLITE_OK) {
		base_vfs = NULL;
		return NULL;
	}
	return wal_vfs.zName;
}
