/*
 * store_internal: what store.c shares with store_query.c, nothing else.
 */
#ifndef FTMON_STORE_INTERNAL_H
#define FTMON_STORE_INTERNAL_H

#include <sqlite3.h>

struct store;

/* The connection (borrowed). */
sqlite3 *store_db(struct store *st);
/* Map an SQLite result code to 0 or a negative errno. */
int store_rc(struct store *st, int rc);

#endif
