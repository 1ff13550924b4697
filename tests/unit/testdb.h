/*
 * testdb: read-only SQL the store's unit tests use to look at what the
 * public interface does not show (through store_internal.h).
 */
#ifndef FTMON_TESTDB_H
#define FTMON_TESTDB_H

#include <stdint.h>

#include <sqlite3.h>

#include "store.h"
#include "store_internal.h"

/* The first column of the first row of a read-only query, or -999. */
static inline int64_t
sql_int(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t v = -999;

	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		return v;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

#endif
