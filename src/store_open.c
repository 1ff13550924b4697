/*
 * store_open: the store's connection: open the file (pragmas, a write probe
 * that refuses a database we cannot write, migrations, the prepared
 * statements), close it, notice that the file was deleted or replaced, and
 * reopen it.
 */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "schema.h"
#include "store.h"
#include "store_internal.h"
#include "xmalloc.h"

/* SQLite's default, for when no WAL hook replaces it. */
#define STORE_AUTOCHECKPOINT 1000

int
store_schema_version(void)
{
	return SCHEMA_VERSION;
}

/* Run the migrations from the file's user_version up to ours, each in its
 * own transaction together with the version bump. */
static int
store_migrate(struct store *st, char **err)
{
	sqlite3_stmt *s;
	int version = 0;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		goto sqlerr;
	if (sqlite3_step(s) == SQLITE_ROW)
		version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (version > SCHEMA_VERSION) {
		*err = xasprintf("%s: database schema version %d is newer than this ftmond "
		                 "understands (%d); refusing to touch it (upgrade ftmon)",
		                 st->path, version, SCHEMA_VERSION);
		return -EPROTO;
	}
	for (int v = version; v < SCHEMA_VERSION; v++) {
		char *sql = xasprintf("BEGIN IMMEDIATE;\n%s\nPRAGMA user_version = %d;\nCOMMIT;",
		                      schema_migrations[v], v + 1);
		char *msg = NULL;
		int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);
		free(sql);
		if (rc != SQLITE_OK) {
			*err = xasprintf("%s: migration to schema version %d failed: %s", st->path,
			                 v + 1, msg ? msg : sqlite3_errstr(rc));
			sqlite3_free(msg);
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return store_rc(st, rc);
		}
	}
	return 0;
sqlerr:
	*err = xasprintf("%s: %s", st->path, sqlite3_errmsg(st->db));
	return -EIO;
}

/* Why path (or its -wal/-shm file, or its directory) cannot be written by
 * this process, in words for the one line that refuses the start; "" when
 * nothing visible explains it. */
static void
store_why_unwritable(const char *path, char *buf, size_t size)
{
	static const char *const suffix[] = {"", "-wal", "-shm"};
	struct stat sb;
	char *copy;
	const char *dir;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		char *f = xasprintf("%s%s", path, suffix[i]);
		if (stat(f, &sb) == 0 && access(f, R_OK | W_OK) < 0) {
			snprintf(
			        buf, size,
			        "%s is not writable (%s; mode %04o, owner uid %u, ftmond runs as uid %u)",
			        f, strerror(errno), (unsigned)(sb.st_mode & 07777),
			        (unsigned)sb.st_uid, (unsigned)geteuid());
			free(f);
			return;
		}
		free(f);
	}
	copy = xstrdup(path);
	dir = dirname(copy); /* in copy, or a static "." */
	if (access(dir, W_OK | X_OK) < 0)
		snprintf(buf, size, "the directory %s is not writable (%s; ftmond runs as uid %u)",
		         dir, strerror(errno), (unsigned)geteuid());
	free(copy);
}

/* Refuse a database that cannot be written now rather than fail every
 * write later: SQLite silently opens a file it may not write read-only,
 * and a -wal or -shm file left by another user only fails at the first
 * commit.  So commit a real write (the schema version, unchanged). */
static int
store_probe_write(struct store *st, char **err)
{
	char why[768], *sql, *msg = NULL;
	int version = 0, rc;
	sqlite3_stmt *s = NULL;

	if (sqlite3_db_readonly(st->db, "main") == 1) {
		store_why_unwritable(st->path, why, sizeof(why));
		*err = xasprintf("%s: cannot write the database: %s", st->path,
		                 why[0] ? why : "SQLite opened it read-only");
		return -EACCES;
	}
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sql = xasprintf("BEGIN IMMEDIATE; PRAGMA user_version = %d; COMMIT;", version);
	rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);
	free(sql);
	/* Busy: another writer holds the lock, which says nothing against
	 * our writing; the steps wait for it as usual. */
	if (rc == SQLITE_OK || (rc & 0xff) == SQLITE_BUSY) {
		sqlite3_free(msg);
		if (!sqlite3_get_autocommit(st->db))
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return 0;
	}
	store_why_unwritable(st->path, why, sizeof(why));
	*err = xasprintf("%s: cannot write the database (%s)%s%s", st->path,
	                 msg ? msg : sqlite3_errstr(rc), why[0] ? ": " : "", why);
	sqlite3_free(msg);
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return store_rc_map(rc);
}

/* Drop the connection (rolling back an open transaction) and everything
 * that belongs to it; the struct and its path stay. */
static void
store_disconnect(struct store *st)
{
	st->npending = 0;
	if (st->db && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	for (int i = 0; i < ST__COUNT; i++) {
		sqlite3_finalize(st->stmt[i]);
		st->stmt[i] = NULL;
	}
	for (int i = 0; i < STORE_LAZY_MAX; i++) {
		sqlite3_finalize(st->lazy[i]);
		st->lazy[i] = NULL;
	}
	for (size_t i = 0; i < st->nmetrics; i++)
		free(st->metrics[i].name);
	st->nmetrics = 0;
	sqlite3_close(st->db);
	st->db = NULL;
}

sqlite3_stmt *
store_lazy(struct store *st, int slot, const char *sql, int *rc)
{
	int r;

	*rc = 0;
	if (st->db == NULL) { /* a reopen failed (store_reopen) */
		*rc = store_rc(st, SQLITE_CANTOPEN);
		return NULL;
	}
	if (st->lazy[slot] == NULL) {
		r = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->lazy[slot],
		                       NULL);
		if (r != SQLITE_OK) {
			*rc = store_rc(st, r);
			return NULL;
		}
	}
	return st->lazy[slot];
}

static int
store_wal_cb(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *st = arg;

	(void)db;
	(void)name;
	st->wal_cb(st->wal_arg, frames);
	return SQLITE_OK;
}

/* sqlite3_wal_autocheckpoint is itself a WAL hook: installing ours
 * removes it, removing ours puts it back. */
static void
store_install_wal_hook(struct store *st)
{
	if (st->db == NULL)
		return;
	if (st->wal_cb)
		sqlite3_wal_hook(st->db, store_wal_cb, st);
	else
		sqlite3_wal_autocheckpoint(st->db, STORE_AUTOCHECKPOINT);
}

void
store_set_wal_hook(struct store *st, void (*cb)(void *arg, int frames), void *arg)
{
	st->wal_cb = cb;
	st->wal_arg = arg;
	store_install_wal_hook(st);
}

int
store_checkpoint(struct store *st, int *log, int *ckpt)
{
	*log = *ckpt = 0;
	if (st->db == NULL)
		return store_rc(st, SQLITE_CANTOPEN);
	return store_rc(
	        st, sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, log, ckpt));
}

const char *
store_path(struct store *st)
{
	return st->path;
}

unsigned
store_generation(struct store *st)
{
	return st->generation;
}

/* Open st->path: pragmas, a write probe, migrations, statements. */
static int
store_connect(struct store *st, char **err)
{
	char *msg = NULL;
	int rc;

	*err = NULL;
	st->errmsg[0] = '\0';
	rc = sqlite3_open_v2(st->path, &st->db,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                     NULL);
	if (rc != SQLITE_OK) {
		*err = xasprintf("%s: cannot open database: %s", st->path,
		                 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	/* The writer runs on the event loop: wait for an outside writer's
	 * lock only briefly, then fail the step and retry it later. */
	sqlite3_busy_timeout(st->db, 250);
	/* WAL lets readers work while we write; NORMAL syncs at checkpoints,
	 * which loses at most the last commits on power loss, never corrupts. */
	rc = sqlite3_exec(st->db,
	                  "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
	                  " PRAGMA foreign_keys = ON;",
	                  NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		char why[768];
		store_why_unwritable(st->path, why, sizeof(why));
		*err = xasprintf("%s: %s%s%s", st->path, msg ? msg : sqlite3_errstr(rc),
		                 why[0] ? ": " : "", why);
		sqlite3_free(msg);
		goto fail;
	}
	if ((rc = store_probe_write(st, err)) < 0 || (rc = store_migrate(st, err)) < 0)
		goto fail;
	for (int i = 0; i < ST__COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, store_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		                       &st->stmt[i], NULL) != SQLITE_OK) {
			*err = xasprintf("%s: preparing statement %d: %s", st->path, i,
			                 sqlite3_errmsg(st->db));
			goto fail;
		}
	}
	store_install_wal_hook(st);
	st->generation++;
	return 0;
fail:
	store_disconnect(st);
	return rc < 0 ? rc : -EIO;
}

struct store *
store_open(const char *path, char **err)
{
	struct store *st = xcalloc(1, sizeof(*st));

	st->path = xstrdup(path);
	if (store_connect(st, err) < 0) {
		store_close(st);
		return NULL;
	}
	return st;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	store_disconnect(st);
	free(st->path);
	free(st);
}

int
store_check_file(struct store *st)
{
	struct stat sb;
	int moved = 0;

	if (st->db == NULL)
		return -EBADF;
	/* SQLite compares the open file's inode with the path's (and says
	 * nothing for :memory:). */
	if (sqlite3_file_control(st->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK ||
	    !moved)
		return 0;
	return stat(st->path, &sb) < 0 && (errno == ENOENT || errno == ENOTDIR) ? -ENOENT : -ESTALE;
}

int
store_reopen(struct store *st, char **err)
{
	bool moved = st->db && store_check_file(st) < 0;
	int rc;

	/* SQLite does not checkpoint a file that has moved when it closes it,
	 * so its -wal and -shm files stay at the path, and the file that is
	 * there now (or the new one) would read them as its own: they belong
	 * to the file that is gone, with it. */
	store_disconnect(st);
	if (moved) {
		char *wal = xasprintf("%s-wal", st->path), *shm = xasprintf("%s-shm", st->path);
		unlink(wal);
		unlink(shm);
		free(wal);
		free(shm);
	}
	if ((rc = store_connect(st, err)) < 0)
		store_note_error(st, *err);
	return rc;
}

int64_t
store_size_bytes(struct store *st)
{
	struct stat sb;
	int64_t total = 0;
	char *wal = xasprintf("%s-wal", st->path);

	if (stat(st->path, &sb) == 0)
		total += sb.st_size;
	if (stat(wal, &sb) == 0)
		total += sb.st_size;
	free(wal);
	return total;
}
