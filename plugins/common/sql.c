/* sql.c - one-off statements in one call (see sql.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "sql.h"
#include "store.h"

/* Prepare and bind; the statement, or NULL with *rc the SQLite code. */
static sqlite3_stmt *
prepare(sqlite3 *db, const char *sql, const char *types, va_list ap, int *rc)
{
	sqlite3_stmt *s = NULL;

	*rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	if (*rc != SQLITE_OK)
		return NULL;
	for (int i = 0; types && types[i]; i++) {
		if (types[i] == 't') {
			const char *v = va_arg(ap, const char *);
			*rc           = v ? sqlite3_bind_text(
			                    s, i + 1, v, -1, SQLITE_TRANSIENT)
			                  : sqlite3_bind_null(s, i + 1);
		} else if (types[i] == 'i') {
			*rc = sqlite3_bind_int64(
			    s, i + 1, va_arg(ap, int64_t));
		} else {
			*rc = SQLITE_MISUSE; /* a bug in the caller's types */
		}
		if (*rc != SQLITE_OK) {
			sqlite3_finalize(s);
			return NULL;
		}
	}
	return s;
}

int
kit_sql_row(
    sqlite3 *db, sqlite3_stmt **row, const char *sql, const char *types, ...)
{
	va_list       ap;
	int           rc;
	sqlite3_stmt *s;

	*row = NULL;
	kit_store_settle_db(db);
	va_start(ap, types);
	s = prepare(db, sql, types, ap, &rc);
	va_end(ap);
	if (s == NULL)
		return rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*row = s;
	else
		sqlite3_finalize(s);
	return rc;
}

int
kit_sql_run(sqlite3 *db, const char *sql, const char *types, ...)
{
	va_list       ap;
	int           rc;
	sqlite3_stmt *s;

	kit_store_settle_db(db);
	va_start(ap, types);
	s = prepare(db, sql, types, ap, &rc);
	va_end(ap);
	if (s == NULL)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	sqlite3_finalize(s);
	return rc;
}
