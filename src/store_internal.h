/*
 * store_internal: what the files of the store module share, nothing else
 * (store.h is the module's interface): store.c (writes), store_open.c (the
 * connection: open, migrations, reopen) and store_query.c (reads, which use
 * only store_db and store_rc).  Every pointer handed across is borrowed.
 */
#ifndef FTMON_STORE_INTERNAL_H
#define FTMON_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

struct store;

/* Statements prepared once at open and reused for every write. */
enum store_stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_JOB_FIND,
	ST_JOB_INSERT,
	ST_JOB_GET_STATUS,
	ST_JOB_UPDATE,
	ST_JOB_SET_CURSOR,
	ST_JOB_SET_RESULTS,
	ST_JOB_SET_TRACKED,
	ST_METRIC_FIND,
	ST_METRIC_INSERT,
	ST_POINT_INSERT,
	ST_LATEST_UPSERT,
	ST_JOB_LAST_STEP,
	ST_EVENT_INSERT,
	ST_CKPT_UPSERT,
	ST__COUNT,
};

/* The SQL of each statement (store.c), prepared by store_open.c. */
extern const char *const store_sql[ST__COUNT];

/* A small cache of metric name ids: jobs report the same handful of names. */
#define STORE_METRIC_CACHE 256

/* The newest new point per (job, metric) of the open transaction: written
 * to latest_metrics and jobs.last_step once at commit, not two statements
 * per point (they were two thirds of the cost of storing a page). */
#define STORE_PENDING_MAX 64

struct store_pending {
	int64_t job_id, metric_id, step, now;
	double value;
};

/* Statements other files of the module prepare on first use (one slot
 * each, store_alerts.c), kept until the connection goes. */
#define STORE_LAZY_MAX 24
/* store_query.c's, from the top so store_alerts.c's enum does not meet them. */
#define STORE_LAZY_JOBS        (STORE_LAZY_MAX - 1)
#define STORE_LAZY_JOBS_LATEST (STORE_LAZY_MAX - 2)

struct store {
	sqlite3 *db; /* NULL after a reopen failed: every call fails until one succeeds */
	char *path;
	/* SQLite's message for the last failure, taken when it happened: the
	 * rollback that follows a failed write resets sqlite3_errmsg() to
	 * "not an error" before the caller gets to read it. */
	char errmsg[512];
	sqlite3_stmt *stmt[ST__COUNT];
	sqlite3_stmt *lazy[STORE_LAZY_MAX];
	struct {
		char *name;
		int64_t id;
	} metrics[STORE_METRIC_CACHE];
	size_t nmetrics;
	struct store_pending pending[STORE_PENDING_MAX];
	size_t npending;
	/* store_set_wal_hook's callback (NULL: SQLite's own checkpoints), put
	 * on every connection store_connect opens. */
	void (*wal_cb)(void *arg, int frames);
	void *wal_arg;
	unsigned generation; /* successful opens so far */
};

/* The statement of slot, prepared from sql on first use; reset it after
 * use.  NULL with *rc (a negative errno) when it cannot be prepared. */
sqlite3_stmt *store_lazy(struct store *st, int slot, const char *sql, int *rc);
/* The connection (borrowed). */
sqlite3 *store_db(struct store *st);
/* Map an SQLite result code to 0 or a negative errno. */
int store_rc(struct store *st, int rc);
/* The same, without taking SQLite's message (the probe has its own). */
int store_rc_map(int rc);
/* Keep msg as the message of the last failure (copied). */
void store_note_error(struct store *st, const char *msg);

/* store_files.c: add {"bad_lines": n, "last_bad_line": {"line", "reason",
 * "at"} or null} to a job object of store_query_job. */
int store_query_bad_lines(struct store *st, int64_t job_id, cJSON *job);

/* ---- read helpers shared by store_query.c and store_jobs.c ---- */

/* The job columns `jobs` and `job` show (jobs j). */
#define STORE_JOB_COLUMNS                                               \
	"j.source || '/' || j.external_id AS name, j.source AS source," \
	" j.external_id AS id, j.status AS status, j.model AS model,"   \
	" j.fine_tuned_model AS fine_tuned_model, j.last_step AS step," \
	" j.total_steps AS total_steps, j.created_at AS created_at,"    \
	" j.finished_at AS finished_at, j.updated_at AS updated_at,"    \
	" j.tracked AS tracked, j.id AS rowid"

/* Add column i of s to obj as a JSON value of its natural type. */
void store_query_add_column(cJSON *obj, const char *name, sqlite3_stmt *s, int i);
/* One object per row, keys from the column names; finalizes s.  NULL
 * with *rc set on an error. */
cJSON *store_query_rows(struct store *st, sqlite3_stmt *s, int *rc);
/* (store_jobs.c) Replace each job's "rowid" by its "metrics" object of
 * latest values and make "tracked" a boolean; 0 or a negative errno. */
int store_query_attach_latest(struct store *st, cJSON *jobs);
/* Prepare sql, NULL with *rc set on an error. */
sqlite3_stmt *store_query_prepare(struct store *st, const char *sql, int *rc);

#endif
