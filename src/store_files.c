/*
 * store_files: the jsonl source's resume state (one row per followed file)
 * and the bad lines counted per job.  A statement per call rather than a
 * prepared one kept in the store: the source writes these once per chunk
 * it reads (hundreds of kilobytes), not once per point.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "store.h"
#include "store_internal.h"
#include "xmalloc.h"

static sqlite3_stmt *
store_files_prepare(struct store *st, const char *sql, int *rc)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (store_db(st) == NULL) { /* a reopen failed */
		*rc = store_rc(st, SQLITE_CANTOPEN);
		return NULL;
	}
	r = sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL);
	*rc = r == SQLITE_OK ? 0 : store_rc(st, r);
	return s;
}

/* Step a write statement once and finalize it. */
static int
store_files_run(struct store *st, sqlite3_stmt *s)
{
	int r = sqlite3_step(s), rc = r == SQLITE_DONE ? 0 : store_rc(st, r);

	sqlite3_finalize(s);
	return rc;
}

int
store_file_get(struct store *st, const char *source, const char *path, struct store_file_pos *pos)
{
	int rc, r;
	sqlite3_stmt *s = store_files_prepare(
	        st,
	        "SELECT dev, ino, generation, offset, line, last_step, job FROM jsonl_files"
	        " WHERE source = ?1 AND path = ?2",
	        &rc);

	if (rc < 0)
		return rc;
	sqlite3_bind_text(s, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, path, -1, SQLITE_STATIC);
	if ((r = sqlite3_step(s)) == SQLITE_ROW) {
		pos->dev = sqlite3_column_int64(s, 0);
		pos->ino = sqlite3_column_int64(s, 1);
		pos->generation = sqlite3_column_int64(s, 2);
		pos->offset = sqlite3_column_int64(s, 3);
		pos->line = sqlite3_column_int64(s, 4);
		pos->last_step =
		        sqlite3_column_type(s, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 5);
		pos->job = sqlite3_column_type(s, 6) == SQLITE_NULL
		                   ? NULL
		                   : xstrdup((const char *)sqlite3_column_text(s, 6));
		rc = 0;
	} else {
		rc = r == SQLITE_DONE ? -ENOENT : store_rc(st, r);
	}
	sqlite3_finalize(s);
	return rc;
}

int
store_file_put(struct store *st, const char *source, const char *path,
               const struct store_file_pos *pos, int64_t now)
{
	int rc;
	sqlite3_stmt *s;

	if (!store_in_transaction(st))
		return -EINVAL;
	s = store_files_prepare(st,
	                        "INSERT OR REPLACE INTO jsonl_files (source, path, dev, ino,"
	                        " generation, offset, line, last_step, job, updated_at)"
	                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	                        &rc);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(s, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, pos->dev);
	sqlite3_bind_int64(s, 4, pos->ino);
	sqlite3_bind_int64(s, 5, pos->generation);
	sqlite3_bind_int64(s, 6, pos->offset);
	sqlite3_bind_int64(s, 7, pos->line);
	if (pos->last_step < 0)
		sqlite3_bind_null(s, 8);
	else
		sqlite3_bind_int64(s, 8, pos->last_step);
	if (pos->job)
		sqlite3_bind_text(s, 9, pos->job, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 9);
	sqlite3_bind_int64(s, 10, now);
	return store_files_run(st, s);
}

int
store_job_bad_line(struct store *st, int64_t job_id, int64_t line, const char *reason, int64_t now)
{
	int rc;
	sqlite3_stmt *s;

	if (!store_in_transaction(st))
		return -EINVAL;
	s = store_files_prepare(
	        st,
	        "INSERT INTO job_bad_lines (job_id, count, last_line, last_reason, last_at)"
	        " VALUES (?1, 1, ?2, ?3, ?4) ON CONFLICT (job_id) DO UPDATE SET"
	        " count = count + 1, last_line = ?2, last_reason = ?3, last_at = ?4",
	        &rc);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(s, 1, job_id);
	sqlite3_bind_int64(s, 2, line);
	sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	return store_files_run(st, s);
}

int
store_query_bad_lines(struct store *st, int64_t job_id, cJSON *job)
{
	int rc, r;
	sqlite3_stmt *s = store_files_prepare(
	        st,
	        "SELECT count, last_line, last_reason, last_at FROM job_bad_lines WHERE job_id = ?1",
	        &rc);
	cJSON *last;

	if (rc < 0)
		return rc;
	sqlite3_bind_int64(s, 1, job_id);
	if ((r = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON_AddNumberToObject(job, "bad_lines", (double)sqlite3_column_int64(s, 0));
		last = cJSON_AddObjectToObject(job, "last_bad_line");
		cJSON_AddNumberToObject(last, "line", (double)sqlite3_column_int64(s, 1));
		cJSON_AddStringToObject(last, "reason", (const char *)sqlite3_column_text(s, 2));
		cJSON_AddNumberToObject(last, "at", (double)sqlite3_column_int64(s, 3));
		rc = 0;
	} else if (r == SQLITE_DONE) {
		cJSON_AddNumberToObject(job, "bad_lines", 0);
		cJSON_AddNullToObject(job, "last_bad_line");
		rc = 0;
	} else {
		rc = store_rc(st, r);
	}
	sqlite3_finalize(s);
	return rc;
}
