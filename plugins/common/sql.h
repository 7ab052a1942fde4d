/*
 * sql.h - one-off SQLite statements in one call: prepare, bind, step.
 * For the queries a plugin runs now and then (a lookup, a filtered list,
 * a migration); the record store (store.h) keeps its hot statements
 * prepared.
 *
 * Parameters ?1..?N are bound from the variadic arguments as `types`
 * says, one letter each:
 *   't'  const char *: text, copied (a NULL pointer binds NULL)
 *   'i'  int64_t: integer
 *
 * Both first write what a store of this plugin on db holds of the
 * request in progress (kit_store_settle_db, store.h: "Held writes"), so
 * that the statement sees the request's own writes and a write it makes
 * is undone with the request.
 */
#ifndef XZ_KIT_SQL_H
#define XZ_KIT_SQL_H

#include <sqlite3.h>

/* Prepare sql, bind, and step once. SQLITE_ROW: *row is the statement on
 * its first row, the caller steps on and sqlite3_finalize()s it.
 * SQLITE_DONE: no row. Any other SQLite code is the error
 * (sqlite3_errmsg(db) says why). *row is NULL unless SQLITE_ROW. */
int kit_sql_row(
    sqlite3 *db, sqlite3_stmt **row, const char *sql, const char *types, ...);

/* Prepare sql, bind, step to the end and finalize: SQLITE_DONE, or the
 * SQLite error code. */
int kit_sql_run(sqlite3 *db, const char *sql, const char *types, ...);

#endif
