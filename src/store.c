/*
 * store: SQLite storage and writes.  Opening (pragmas, the write probe,
 * migrations), closing and reopening the file live in store_open.c; read-side
 * queries that build JSON for the control socket in store_query.c.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "store.h"
#include "store_internal.h"
#include "xmalloc.h"

const char *const store_sql[ST__COUNT] = {
        [ST_BEGIN] = "BEGIN IMMEDIATE",
        [ST_COMMIT] = "COMMIT",
        [ST_ROLLBACK] = "ROLLBACK",
        [ST_JOB_FIND] = "SELECT id FROM jobs WHERE source = ?1 AND external_id = ?2",
        [ST_JOB_INSERT] =
                "INSERT INTO jobs (source, external_id, status, discovered_at, updated_at)"
                " VALUES (?1, ?2, ?3, ?4, ?4)",
        [ST_JOB_GET_STATUS] = "SELECT status FROM jobs WHERE id = ?1",
        [ST_JOB_UPDATE] =
                "UPDATE jobs SET status = coalesce(?2, status), model = coalesce(?3, model),"
                " fine_tuned_model = coalesce(?4, fine_tuned_model),"
                " error = CASE WHEN ?5 IS NULL THEN error WHEN ?5 = '' THEN NULL ELSE ?5 END,"
                " created_at = coalesce(?6, created_at), finished_at = coalesce(?7, finished_at),"
                " total_steps = coalesce(?8, total_steps),"
                " trained_tokens = coalesce(?9, trained_tokens),"
                " estimated_finish = coalesce(?10, estimated_finish), updated_at = ?11"
                " WHERE id = ?1",
        [ST_JOB_SET_CURSOR] = "UPDATE jobs SET event_cursor = ?2 WHERE id = ?1",
        [ST_JOB_SET_RESULTS] = "UPDATE jobs SET results_done = ?2 WHERE id = ?1",
        [ST_JOB_SET_TRACKED] = "UPDATE jobs SET tracked = ?2, updated_at = ?3 WHERE id = ?1",
        [ST_METRIC_FIND] = "SELECT id FROM metric_names WHERE name = ?1",
        [ST_METRIC_INSERT] = "INSERT INTO metric_names (name) VALUES (?1)",
        [ST_POINT_INSERT] = "INSERT OR IGNORE INTO points (job_id, metric_id, step, value,"
                            " recorded_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        [ST_LATEST_UPSERT] =
                "INSERT INTO latest_metrics (job_id, metric_id, step, value) VALUES (?1, ?2, ?3, ?4)"
                " ON CONFLICT (job_id, metric_id) DO UPDATE SET step = excluded.step,"
                " value = excluded.value WHERE excluded.step >= latest_metrics.step",
        [ST_JOB_LAST_STEP] = "UPDATE jobs SET last_step = ?2, updated_at = ?3 WHERE id = ?1"
                             " AND (last_step IS NULL OR last_step < ?2)",
        [ST_EVENT_INSERT] = "INSERT OR IGNORE INTO events (job_id, source_event_id, type, level,"
                            " message, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        [ST_CKPT_UPSERT] =
                "INSERT INTO checkpoints (job_id, checkpoint_id, step, model, metrics, created_at)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (job_id, checkpoint_id) DO UPDATE"
                " SET step = excluded.step, model = excluded.model, metrics = excluded.metrics,"
                " created_at = excluded.created_at",
};

static int store_flush_pending(struct store *st);

sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

void
store_note_error(struct store *st, const char *msg)
{
	snprintf(st->errmsg, sizeof(st->errmsg), "%s", msg);
}

/* Every call that needs the connection, when there is none. */
static int
store_not_open(struct store *st)
{
	if (st->errmsg[0] == '\0')
		store_note_error(st, "the database is not open");
	return -EIO;
}

int
store_rc_map(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	default:
		return -EIO;
	}
}

int
store_rc(struct store *st, int rc)
{
	int ret = store_rc_map(rc);

	if (ret < 0 && st->db)
		store_note_error(st, sqlite3_errmsg(st->db));
	return ret;
}

const char *
store_errmsg(struct store *st)
{
	if (st == NULL)
		return "no database";
	if (st->errmsg[0])
		return st->errmsg;
	return st->db ? sqlite3_errmsg(st->db) : "no database";
}

/* Step a prepared statement to completion and reset it. */
static int
store_exec(struct store *st, enum store_stmt_id id)
{
	int rc = sqlite3_step(st->stmt[id]);
	int ret = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_rc(st, rc);
	sqlite3_reset(st->stmt[id]);
	sqlite3_clear_bindings(st->stmt[id]);
	return ret;
}

int
store_begin(struct store *st)
{
	if (st->db == NULL)
		return store_not_open(st);
	/* A step's failure is reported with its own message, never an older one. */
	st->errmsg[0] = '\0';
	return store_exec(st, ST_BEGIN);
}

int
store_commit(struct store *st)
{
	int rc;

	if (st->db == NULL)
		return store_not_open(st);
	if ((rc = store_flush_pending(st)) == 0)
		rc = store_exec(st, ST_COMMIT);
	if (rc < 0)
		store_rollback(st);
	return rc;
}

void
store_rollback(struct store *st)
{
	st->npending = 0;
	if (st->db && !sqlite3_get_autocommit(st->db))
		store_exec(st, ST_ROLLBACK);
	/* Cached metric ids may name rows that were just rolled back. */
	for (size_t i = 0; i < st->nmetrics; i++)
		free(st->metrics[i].name);
	st->nmetrics = 0;
}

static void
store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

/* SQLite cannot store NaN: it is stored as NULL, as readers are told. */
static void
store_bind_value(sqlite3_stmt *s, int i, double v)
{
	if (isnan(v))
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_double(s, i, v);
}

/* -1 means "not reported" and binds NULL. */
static void
store_bind_opt_int(sqlite3_stmt *s, int i, int64_t v)
{
	if (v >= 0)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

bool
store_in_transaction(struct store *st)
{
	return st->db && !sqlite3_get_autocommit(st->db);
}

int
store_job_ensure(struct store *st, const char *source, const char *external_id,
                 const char *initial_status, int64_t *job_id)
{
	sqlite3_stmt *s = st->stmt[ST_JOB_FIND];
	int rc;

	if (!store_in_transaction(st))
		return -EINVAL;

	store_bind_text(s, 1, source);
	store_bind_text(s, 2, external_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*job_id = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		return 0;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_rc(st, rc);
	s = st->stmt[ST_JOB_INSERT];
	store_bind_text(s, 1, source);
	store_bind_text(s, 2, external_id);
	store_bind_text(s, 3, initial_status);
	sqlite3_bind_int64(s, 4, (int64_t)time(NULL));
	if ((rc = store_exec(st, ST_JOB_INSERT)) < 0)
		return rc;
	*job_id = sqlite3_last_insert_rowid(st->db);
	return 1;
}

int
store_job_update(struct store *st, int64_t job_id, const struct store_job_info *info,
                 char **old_status)
{
	sqlite3_stmt *s = st->stmt[ST_JOB_GET_STATUS];
	char *prev = NULL;
	int rc, changed = 0;

	if (old_status)
		*old_status = NULL;
	if (!store_in_transaction(st))
		return -EINVAL;
	sqlite3_bind_int64(s, 1, job_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		prev = xstrdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? -ENOENT : store_rc(st, rc);
	if (info->status && strcmp(prev, info->status) != 0)
		changed = 1;

	s = st->stmt[ST_JOB_UPDATE];
	sqlite3_bind_int64(s, 1, job_id);
	store_bind_text(s, 2, info->status);
	store_bind_text(s, 3, info->model);
	store_bind_text(s, 4, info->fine_tuned_model);
	store_bind_text(s, 5, info->error);
	store_bind_opt_int(s, 6, info->created_at);
	store_bind_opt_int(s, 7, info->finished_at);
	store_bind_opt_int(s, 8, info->total_steps);
	store_bind_opt_int(s, 9, info->trained_tokens);
	store_bind_opt_int(s, 10, info->estimated_finish);
	sqlite3_bind_int64(s, 11, (int64_t)time(NULL));
	if ((rc = store_exec(st, ST_JOB_UPDATE)) < 0) {
		free(prev);
		return rc;
	}
	if (changed && old_status)
		*old_status = prev;
	else
		free(prev);
	return changed;
}

static int
store_job_set(struct store *st, enum store_stmt_id id, int64_t job_id, int64_t v, const char *text)
{
	sqlite3_stmt *s = st->stmt[id];

	if (!store_in_transaction(st))
		return -EINVAL;
	sqlite3_bind_int64(s, 1, job_id);
	if (id == ST_JOB_SET_CURSOR)
		store_bind_text(s, 2, text);
	else
		sqlite3_bind_int64(s, 2, v);
	if (id == ST_JOB_SET_TRACKED)
		sqlite3_bind_int64(s, 3, (int64_t)time(NULL));
	int rc = store_exec(st, id);
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		return -ENOENT;
	return rc;
}

int
store_job_set_cursor(struct store *st, int64_t job_id, const char *cursor)
{
	return store_job_set(st, ST_JOB_SET_CURSOR, job_id, 0, cursor);
}

int
store_job_set_results_done(struct store *st, int64_t job_id, bool done)
{
	return store_job_set(st, ST_JOB_SET_RESULTS, job_id, done, NULL);
}

int
store_job_set_tracked(struct store *st, int64_t job_id, bool tracked)
{
	return store_job_set(st, ST_JOB_SET_TRACKED, job_id, tracked, NULL);
}

void
store_job_state_clear(struct store_job_state *s)
{
	free(s->external_id);
	free(s->status);
	free(s->cursor);
	memset(s, 0, sizeof(*s));
}

int
store_jobs_of_source(struct store *st, const char *source, struct store_job_state **out, size_t *n)
{
	sqlite3_stmt *s;
	struct store_job_state *v = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (st->db == NULL)
		return store_not_open(st);
	rc = sqlite3_prepare_v2(
	        st->db,
	        "SELECT id, external_id, status, event_cursor, results_done, tracked"
	        " FROM jobs WHERE source = ?1 ORDER BY id",
	        -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_rc(st, rc);
	store_bind_text(s, 1, source);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, len + 1, sizeof(*v));
		struct store_job_state *j = &v[len++];
		j->id = sqlite3_column_int64(s, 0);
		j->external_id = xstrdup((const char *)sqlite3_column_text(s, 1));
		j->status = xstrdup((const char *)sqlite3_column_text(s, 2));
		j->cursor = xstrdup((const char *)sqlite3_column_text(s, 3));
		j->results_done = sqlite3_column_int(s, 4) != 0;
		j->tracked = sqlite3_column_int(s, 5) != 0;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		for (size_t i = 0; i < len; i++)
			store_job_state_clear(&v[i]);
		free(v);
		return store_rc(st, rc);
	}
	*out = v;
	*n = len;
	return 0;
}

/* The id of a metric name, inserting it when new. */
static int
store_metric_id(struct store *st, const char *name, int64_t *id)
{
	sqlite3_stmt *s;
	int rc;

	for (size_t i = 0; i < st->nmetrics; i++) {
		if (strcmp(st->metrics[i].name, name) == 0) {
			*id = st->metrics[i].id;
			return 0;
		}
	}
	s = st->stmt[ST_METRIC_FIND];
	store_bind_text(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE) {
		store_bind_text(st->stmt[ST_METRIC_INSERT], 1, name);
		if ((rc = store_exec(st, ST_METRIC_INSERT)) < 0)
			return rc;
		*id = sqlite3_last_insert_rowid(st->db);
	} else if (rc != SQLITE_ROW) {
		return store_rc(st, rc);
	}
	if (st->nmetrics < STORE_METRIC_CACHE) {
		st->metrics[st->nmetrics].name = xstrdup(name);
		st->metrics[st->nmetrics++].id = *id;
	}
	return 0;
}

/* jobs.last_step once per job: from the first pending entry of each job,
 * the newest step (and time) of all its entries. */
static int
store_flush_last_step(struct store *st, size_t first)
{
	const struct store_pending *p = &st->pending[first];
	int64_t step = p->step, now = p->now;
	sqlite3_stmt *s = st->stmt[ST_JOB_LAST_STEP];

	for (size_t i = 0; i < first; i++)
		if (st->pending[i].job_id == p->job_id)
			return 0; /* done with that entry */
	for (size_t i = first + 1; i < st->npending; i++) {
		if (st->pending[i].job_id != p->job_id)
			continue;
		step = st->pending[i].step > step ? st->pending[i].step : step;
		now = st->pending[i].now > now ? st->pending[i].now : now;
	}
	sqlite3_bind_int64(s, 1, p->job_id);
	sqlite3_bind_int64(s, 2, step);
	sqlite3_bind_int64(s, 3, now);
	return store_exec(st, ST_JOB_LAST_STEP);
}

/* Write the pending newest points: per (job, metric) one latest_metrics
 * upsert, per job one last_step update (which only ever raises it). */
static int
store_flush_pending(struct store *st)
{
	int rc = 0;

	for (size_t i = 0; i < st->npending && rc == 0; i++) {
		struct store_pending *p = &st->pending[i];
		sqlite3_stmt *s = st->stmt[ST_LATEST_UPSERT];
		sqlite3_bind_int64(s, 1, p->job_id);
		sqlite3_bind_int64(s, 2, p->metric_id);
		sqlite3_bind_int64(s, 3, p->step);
		store_bind_value(s, 4, p->value);
		rc = store_exec(st, ST_LATEST_UPSERT);
	}
	for (size_t i = 0; i < st->npending && rc == 0; i++)
		rc = store_flush_last_step(st, i);
	st->npending = 0;
	return rc;
}

/* Remember a new point as its metric's newest if it is. */
static int
store_note_latest(struct store *st, int64_t job_id, int64_t metric_id, int64_t step, double value,
                  int64_t now)
{
	struct store_pending *p = NULL;
	int rc;

	for (size_t i = 0; i < st->npending; i++) {
		if (st->pending[i].job_id == job_id && st->pending[i].metric_id == metric_id) {
			p = &st->pending[i];
			break;
		}
	}
	if (p == NULL) {
		if (st->npending == STORE_PENDING_MAX && (rc = store_flush_pending(st)) < 0)
			return rc;
		p = &st->pending[st->npending++];
		*p = (struct store_pending){job_id, metric_id, step, now, value};
	} else if (step >= p->step) { /* as the upsert: a later equal step wins */
		p->step = step;
		p->value = value;
		p->now = now > p->now ? now : p->now;
	}
	return 0;
}

int
store_insert_point(struct store *st, int64_t job_id, const char *metric, int64_t step, double value,
                   int64_t now)
{
	sqlite3_stmt *s = st->stmt[ST_POINT_INSERT];
	int64_t metric_id = 0;
	int rc;

	if (!store_in_transaction(st))
		return -EINVAL;
	if ((rc = store_metric_id(st, metric, &metric_id)) < 0)
		return rc;
	sqlite3_bind_int64(s, 1, job_id);
	sqlite3_bind_int64(s, 2, metric_id);
	sqlite3_bind_int64(s, 3, step);
	store_bind_value(s, 4, value);
	sqlite3_bind_int64(s, 5, now);
	if ((rc = store_exec(st, ST_POINT_INSERT)) < 0)
		return rc;
	if (sqlite3_changes(st->db) == 0)
		return 0;
	if ((rc = store_note_latest(st, job_id, metric_id, step, value, now)) < 0)
		return rc;
	return 1;
}

int
store_insert_event(struct store *st, int64_t job_id, const char *source_event_id, const char *type,
                   const char *level, const char *message, const char *data_json,
                   int64_t created_at, int64_t *event_id)
{
	sqlite3_stmt *s = st->stmt[ST_EVENT_INSERT];
	int rc;

	if (!store_in_transaction(st))
		return -EINVAL;
	sqlite3_bind_int64(s, 1, job_id);
	store_bind_text(s, 2, source_event_id);
	store_bind_text(s, 3, type);
	store_bind_text(s, 4, level);
	store_bind_text(s, 5, message);
	store_bind_text(s, 6, data_json);
	sqlite3_bind_int64(s, 7, created_at);
	if ((rc = store_exec(st, ST_EVENT_INSERT)) < 0)
		return rc;
	if (sqlite3_changes(st->db) == 0)
		return 0;
	if (event_id)
		*event_id = sqlite3_last_insert_rowid(st->db);
	return 1;
}

int
store_upsert_checkpoint(struct store *st, int64_t job_id, const char *checkpoint_id, int64_t step,
                        const char *model, const char *metrics_json, int64_t created_at)
{
	sqlite3_stmt *s = st->stmt[ST_CKPT_UPSERT];

	if (!store_in_transaction(st))
		return -EINVAL;
	sqlite3_bind_int64(s, 1, job_id);
	store_bind_text(s, 2, checkpoint_id);
	store_bind_opt_int(s, 3, step);
	store_bind_text(s, 4, model);
	store_bind_text(s, 5, metrics_json);
	store_bind_opt_int(s, 6, created_at);
	return store_exec(st, ST_CKPT_UPSERT);
}

/* ---- forget ---- */

int
store_job_delete(struct store *st, int64_t job_id)
{
	/* Deliveries name their event by id as text, without a foreign key;
	 * everything else hangs off jobs with ON DELETE CASCADE. */
	static const char *const sql[] = {
	        "DELETE FROM deliveries WHERE CAST(event_id AS INTEGER) IN"
	        " (SELECT id FROM events WHERE job_id = ?1)",
	        "DELETE FROM jobs WHERE id = ?1",
	};
	int rc = 0;

	if (!store_in_transaction(st))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]) && rc == 0; i++) {
		sqlite3_stmt *s = NULL;
		int r = sqlite3_prepare_v2(st->db, sql[i], -1, &s, NULL);
		if (r == SQLITE_OK) {
			sqlite3_bind_int64(s, 1, job_id);
			r = sqlite3_step(s);
		}
		sqlite3_finalize(s);
		if (r != SQLITE_DONE)
			rc = store_rc(st, r);
		else if (i == 1 && sqlite3_changes(st->db) == 0)
			rc = -ENOENT;
	}
	return rc;
}
