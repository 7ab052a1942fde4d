/*
 * store.c - one SQLite database per plugin instance, under the node's
 * data directory: <data_dir>/<instance>.db, WAL mode, synchronous=NORMAL
 * (a committed transaction survives a process crash such as kill -9; WAL
 * with NORMAL may lose the last transactions only on power loss).
 *
 * Opened on first use, so an idle plugin costs no file and no cache. The
 * connection is used only from the plugin's actor context, one thread at a
 * time, so it is opened with SQLITE_OPEN_NOMUTEX.
 */
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "kernel/kernel_priv.h"
#include "util/fs.h"

struct sqlite3 *
xz_store_open(xz_plugin *p)
{
	const xz_config *c = p->k->cfg;
	char             path[PATH_MAX];
	sqlite3         *db  = NULL;
	char            *err = NULL;

	if (p->db != NULL)
		return p->db;
	if (c == NULL || c->data_dir == NULL) {
		xz_log(XZ_LOG_ERROR, p->name, "store: no data_dir");
		return NULL;
	}
	if (xz_mkdirs(c->data_dir, 0750) != 0) {
		xz_log(XZ_LOG_ERROR, p->name,
		    "store: cannot create data_dir %s: %s", c->data_dir,
		    strerror(errno));
		return NULL;
	}
	if ((size_t) snprintf(
	        path, sizeof(path), "%s/%s.db", c->data_dir, p->name)
	    >= sizeof(path))
		return NULL;
	if (sqlite3_open_v2(path, &db,
	        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
	            | SQLITE_OPEN_NOMUTEX,
	        NULL)
	    != SQLITE_OK) {
		xz_log(XZ_LOG_ERROR, p->name, "store: cannot open %s: %s",
		    path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db,
	        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
	        "PRAGMA foreign_keys=ON;",
	        NULL, NULL, &err)
	    != SQLITE_OK) {
		xz_log(XZ_LOG_ERROR, p->name, "store: %s: %s", path,
		    err ? err : "pragma failed");
		sqlite3_free(err);
		sqlite3_close(db);
		return NULL;
	}
	p->db = db;
	return db;
}

void
xz_store_close(xz_plugin *p)
{
	if (p->db != NULL) {
		/* Finalize whatever statements the plugin forgot. */
		sqlite3_stmt *st;
		while ((st = sqlite3_next_stmt(p->db, NULL)) != NULL)
			sqlite3_finalize(st);
		sqlite3_close(p->db);
		p->db = NULL;
	}
}
