/*
 * store: the SQLite database, the daemon's single writer.  WAL mode with a
 * busy timeout so readers (sqlite3, Python, Grafana) can open the file at
 * any time and never see half a batch; the schema (sql/NNN-*.sql, compiled
 * in) is versioned with PRAGMA user_version and migrated forward on open.
 *
 * Writes are grouped by the caller with store_begin()/store_commit(): a
 * batch of points and the cursor that produced it commit together, so a
 * crash can repeat work but never lose or double a point.
 *
 * Functions return 0 (or a documented positive value) on success and a
 * negative errno on failure (-EIO for database errors, -ENOSPC when the
 * disk is full, -ENOENT when a row does not exist); store_errmsg() gives
 * SQLite's message for the last failure, taken when it happened (so it
 * survives the rollback that follows).  Nothing here logs.
 *
 * The daemon keeps one struct store for its whole life: when the file is
 * deleted or replaced under it, store_reopen() opens the path again inside
 * the same struct, so every holder of the pointer stays valid.
 */
#ifndef FTMON_STORE_H
#define FTMON_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct store;

/* Open (creating if needed), check that the file, its -wal and -shm files
 * and its directory can be written (a committed write, so a database this
 * process may only read is refused now rather than at every write later),
 * and migrate.  On failure returns NULL and sets *err to a malloc'd
 * one-line message naming the file and the cause; the caller frees it. */
struct store *store_open(const char *path, char **err);
/* NULL is fine.  Rolls back an open transaction. */
void store_close(struct store *st);
const char *store_errmsg(struct store *st);
/* The schema version this build writes. */
int store_schema_version(void);
/* Database file size in bytes (main file plus WAL). */
int64_t store_size_bytes(struct store *st);
/* Whether the path still names the file that is open (its inode against
 * the open file's, one stat): 0, or
 * -ENOENT (deleted), -ESTALE (another file is there now), -EBADF (no file
 * is open: the last store_reopen failed). */
int store_check_file(struct store *st);
/* Close the connection (rolling back an open transaction) and open the
 * path again as store_open does, creating and migrating a new file when
 * there is none.  When the open file had been deleted or replaced, its
 * -wal and -shm files at the path are removed first (they are its, and
 * SQLite would read them into the file there now).  0, or a negative errno with *err (malloc'd, the caller
 * frees): the store then has no database, every call fails (-EIO, with
 * *err as store_errmsg) until a reopen succeeds. */
int store_reopen(struct store *st, char **err);

/* ---- the WAL (walckpt.h runs the checkpoints) ---- */

/* Call cb(arg, frames) after every commit of the writer connection, on the
 * committing thread, with the number of frames the WAL holds.  This
 * replaces SQLite's automatic checkpoint (every 1000 frames, inside the
 * commit that crosses them): the hook's owner checkpoints instead.  Kept
 * across store_reopen.  cb NULL restores the automatic checkpoint.  arg is
 * borrowed. */
void store_set_wal_hook(struct store *st, void (*cb)(void *arg, int frames), void *arg);
/* A PASSIVE checkpoint on the writer connection, on the caller's thread
 * (it may sync the disk; the hook may call it): *log frames in the WAL,
 * *ckpt of them in the main file.  0, -EBUSY (another checkpoint runs) or
 * a negative errno (store_errmsg). */
int store_checkpoint(struct store *st, int *log, int *ckpt);
/* The database path (borrowed, as long as st lives). */
const char *store_path(struct store *st);
/* Bumped by every successful open and reopen: another connection to the
 * path opened at an older generation may hold a file that is gone. */
unsigned store_generation(struct store *st);

/* Every write below needs an open transaction (-EINVAL otherwise): the
 * sources write through ingest.h, which opens one per step. */
int store_begin(struct store *st);
int store_commit(struct store *st);
/* Roll back the open transaction, if any. */
void store_rollback(struct store *st);
bool store_in_transaction(struct store *st);

/* ---- jobs ---- */

/* Fields a source reports about a job.  NULL strings and -1 integers mean
 * "not reported": the stored value is kept. */
struct store_job_info {
	const char *status;
	const char *model;
	const char *fine_tuned_model;
	const char *error;
	int64_t created_at;
	int64_t finished_at;
	int64_t total_steps;
	int64_t trained_tokens;
	int64_t estimated_finish;
};
#define STORE_JOB_INFO_INIT                                \
	{                                                  \
		NULL, NULL, NULL, NULL, -1, -1, -1, -1, -1 \
	}

/* The job (source, external_id), created with initial_status when absent.
 * Sets *job_id; returns 1 when the job was created, 0 when it existed. */
int store_job_ensure(struct store *st, const char *source, const char *external_id,
                     const char *initial_status, int64_t *job_id);
/* Update a job.  When the status changes, *old_status receives the
 * previous one (malloc'd, caller frees) and the function returns 1;
 * otherwise 0 and *old_status is NULL.  old_status may be NULL. */
int store_job_update(struct store *st, int64_t job_id, const struct store_job_info *info,
                     char **old_status);
int store_job_set_cursor(struct store *st, int64_t job_id, const char *cursor);
int store_job_set_results_done(struct store *st, int64_t job_id, bool done);
int store_job_set_tracked(struct store *st, int64_t job_id, bool tracked);

/* What a source needs to resume a job after a restart. */
struct store_job_state {
	int64_t id;
	char *external_id; /* owned */
	char *status;      /* owned */
	char *cursor;      /* owned, may be NULL */
	bool results_done;
	bool tracked;
};
void store_job_state_clear(struct store_job_state *s);
/* Every job of a source (tracked or not), in id order; the caller frees
 * each element with store_job_state_clear and the array with free(). */
int store_jobs_of_source(struct store *st, const char *source, struct store_job_state **out,
                         size_t *n);

/* Resolve what a user typed: "SOURCE/EXTERNAL_ID", an external id, or a
 * unique prefix of one.  Returns 0 and *job_id, -ENOENT (no match) or
 * -EEXIST (ambiguous: *why names candidates, malloc'd). */
int store_job_resolve(struct store *st, const char *spec, int64_t *job_id, char **why);

/* ---- points, events, checkpoints ---- */

/* Insert a point unless (job, metric, step) exists.  NaN is stored as NULL.
 * Returns 1 when inserted, 0 when it was already there.  latest_metrics and
 * jobs.last_step follow at store_commit(). */
int store_insert_point(struct store *st, int64_t job_id, const char *metric, int64_t step,
                       double value, int64_t now);
/* Insert an event; source_event_id may be NULL (ftmon's own events) and
 * duplicates of a non-NULL one are ignored.  Returns 1 inserted (with its
 * row id in *event_id, which may be NULL), 0 for a duplicate. */
int store_insert_event(struct store *st, int64_t job_id, const char *source_event_id,
                       const char *type, const char *level, const char *message,
                       const char *data_json, int64_t created_at, int64_t *event_id);
int store_upsert_checkpoint(struct store *st, int64_t job_id, const char *checkpoint_id,
                            int64_t step, const char *model, const char *metrics_json,
                            int64_t created_at);

/* ---- queries for the control socket: each returns a new cJSON the
 * caller owns, or NULL with a negative errno in *rc. ---- */

struct store_jobs_filter {
	const char *status; /* NULL: any */
	const char *source; /* NULL: any */
	bool all;           /* false: unfinished jobs and those finished in the last 24h */
};
cJSON *store_query_jobs(struct store *st, const struct store_jobs_filter *f, int *rc);
struct buf;
/* The same list as JSON text appended to out (the caller's), the bytes
 * cJSON_PrintUnformatted() makes of store_query_jobs(), without building
 * the tree: 10,000 jobs are a 2.6 MB reply.  Sets *count to the number of
 * jobs.  0, or a negative errno with out holding a partial array. */
int store_query_jobs_json(struct store *st, const struct store_jobs_filter *f, struct buf *out,
                          size_t *count);
cJSON *store_query_job(struct store *st, int64_t job_id, int *rc);
/* metrics: NULL-terminated names or NULL for all; since/until INT64_MIN/MAX
 * for no bound; max_points 0 for no downsampling.  totals (borrowed, may be
 * NULL) gets {name: points in the range before downsampling}. */
cJSON *store_query_metrics(struct store *st, int64_t job_id, const char *const *metrics,
                           int64_t since, int64_t until, size_t max_points, cJSON *totals, int *rc);
/* The names of a job's metrics, sorted: a JSON array of strings. */
cJSON *store_query_metric_names(struct store *st, int64_t job_id, int *rc);
cJSON *store_query_events(struct store *st, int64_t job_id, int64_t limit, int *rc);
cJSON *store_query_alerts(struct store *st, bool all, int *rc);
/* Counts for `status`: {"jobs": {status: n} (tracked jobs), "by_source":
 * {source: {status: n}} (the same jobs by source, so the two add up),
 * "untracked": n, "alerts_firing": n, "deliveries_pending": n}. */
cJSON *store_query_counts(struct store *st, int *rc);

/* ---- rules and alerts (store_alerts.c): writes need a transaction ---- */

/* A job's identity and status (each malloc'd; clear frees them). */
struct store_job_brief {
	char *source, *external_id, *status;
};
void store_job_brief_clear(struct store_job_brief *b);
/* 0, or -ENOENT. */
int store_job_brief(struct store *st, int64_t job_id, struct store_job_brief *out);
/* The rules' saved state of a job (JSON text, see sql/002-rules.sql):
 * 1 and *text (malloc'd), or 0 when none. */
int store_rule_state_get(struct store *st, int64_t job_id, char **text);
/* Save it, with now as when the job last brought points (the stale rule's
 * clock). */
int store_rule_state_put(struct store *st, int64_t job_id, const char *text, int64_t now);

/* A firing alert of a job (rule and metric malloc'd). */
struct store_alert_open {
	int64_t id;
	char *rule, *metric;
};
/* The job's firing alerts; free with store_alerts_open_free. */
int store_alerts_firing(struct store *st, int64_t job_id, struct store_alert_open **out, size_t *n);
void store_alerts_open_free(struct store_alert_open *a, size_t n);

struct store_alert_new {
	int64_t job_id;
	const char *rule, *metric, *message;
	double value;                /* NaN and infinities are stored as NULL */
	int64_t step;                /* -1: none */
	const char *action;          /* "cancel", "pause" or NULL */
	const char *best_checkpoint; /* JSON text or NULL */
	int64_t now;
};
/* A new firing alert (action_state 'pending' when it has an action). */
int store_alert_fire(struct store *st, const struct store_alert_new *a, int64_t *alert_id);
int store_alert_resolve(struct store *st, int64_t alert_id, int64_t now);
/* 1 when acked now, 0 when it already was, -ENOENT. */
int store_alert_ack(struct store *st, int64_t alert_id);
int store_alert_set_action(struct store *st, int64_t alert_id, const char *state,
                           const char *result);
/* Alerts whose action is in state (e.g. 'pending'), in id order, with
 * their job ids and actions ("cancel"/"pause", malloc'd). */
struct store_alert_action {
	int64_t id, job_id;
	char *action;
};
int store_alerts_with_action(struct store *st, const char *state, struct store_alert_action **out,
                             size_t *n);
void store_alert_actions_free(struct store_alert_action *a, size_t n);
/* Running, tracked jobs with no new point since before (or, never having
 * had one, discovered before it) and no firing alert of rule. */
int store_jobs_quiet(struct store *st, const char *rule, int64_t before, int64_t **ids, size_t *n);
/* The job's best checkpoint so far: {"step", "metric", "value",
 * "checkpoint"} from the lowest full_valid_loss, else valid_loss
 * ("checkpoint" is the API's model name of the checkpoint at that step,
 * or null).  NULL with *rc 0 when the job has neither metric. */
cJSON *store_best_checkpoint(struct store *st, int64_t job_id, int *rc);
/* ---- jsonl files and bad lines (store_files.c) ---- */

/* Where a followed file was read up to (sql/003-jsonl.sql). */
struct store_file_pos {
	int64_t dev, ino;   /* the file's identity when it was read */
	int64_t generation; /* 1 for the first; +1 each truncation or replacement */
	int64_t offset;     /* bytes after the last whole line taken */
	int64_t line;       /* lines taken in this generation */
	int64_t last_step;  /* the step a line without one follows; -1: none */
	char *job;          /* the last "job" key read, NULL: named by the glob.  Owned
	            * after store_file_get (free it), borrowed by store_file_put. */
};
/* 0 and *pos, or -ENOENT when (source, path) was never stored. */
int store_file_get(struct store *st, const char *source, const char *path,
                   struct store_file_pos *pos);
/* Insert or replace the row of (source, path); needs a transaction. */
int store_file_put(struct store *st, const char *source, const char *path,
                   const struct store_file_pos *pos, int64_t now);
/* Count one bad line of a job, which becomes its last (line from 1). */
int store_job_bad_line(struct store *st, int64_t job_id, int64_t line, const char *reason,
                       int64_t now);
/* ---- hooks: events to deliver, delivery rows (the notifier) ---- */

/* An events row of a type hooks receive (job.discovered, job.status,
 * job.finished, alert.fired, alert.resolved). */
struct store_hook_event {
	int64_t id, job_id, created_at;
	char *type; /* owned */
	char *data; /* owned, may be NULL */
};
/* Such rows with id > after, in id order, at most limit; the caller frees
 * them with store_hook_events_free.  *max_id: the highest id of any type
 * looked at (so the caller's mark passes message events too). */
int store_hook_events_after(struct store *st, int64_t after, size_t limit,
                            struct store_hook_event **out, size_t *n, int64_t *max_id);
void store_hook_events_free(struct store_hook_event *v, size_t n);
/* The highest events id (0 when none). */
int store_events_max_id(struct store *st, int64_t *id);

/* A job as a payload shows it; every string owned (NULL when unset). */
struct store_job_row {
	char *source, *external_id, *status, *model, *fine_tuned_model;
	int64_t last_step, total_steps; /* -1 when unset */
	char **metric_names;            /* latest value of each metric */
	double *metric_values;          /* NaN for a stored NaN */
	size_t nmetrics;
};
/* 0, -ENOENT, or a database error. */
int store_job_row_get(struct store *st, int64_t job_id, struct store_job_row *out);
void store_job_row_clear(struct store_job_row *r);

struct store_alert_row {
	int64_t id;
	char *rule, *metric, *state, *message; /* owned, may be NULL */
	double value;                          /* NaN when NULL */
	int64_t step, fired_at, resolved_at;   /* -1 when NULL */
	bool acked;
};
int store_alert_row_get(struct store *st, int64_t alert_id, struct store_alert_row *out);
void store_alert_row_clear(struct store_alert_row *r);

/* A pending delivery (in a transaction); alert_id 0 for job events.
 * Returns 1 inserted, 0 when (event_id, hook) was there. */
int store_delivery_insert(struct store *st, const char *event_id, const char *hook,
                          const char *event, const char *payload, int64_t alert_id, int64_t now);
struct store_delivery {
	int64_t rowid;
	char *event_id, *event, *payload; /* owned */
	unsigned attempts;
	int64_t alert_id; /* 0: none */
};
/* A hook's pending rows due at now, oldest first, at most limit. */
int store_deliveries_due(struct store *st, const char *hook, int64_t now, size_t limit,
                         struct store_delivery **out, size_t *n);
void store_deliveries_free(struct store_delivery *v, size_t n);
/* The earliest next_attempt_at of a hook's pending rows: 1 and *at, or 0
 * when it has none. */
int store_delivery_next(struct store *st, const char *hook, int64_t *at);
/* Record an attempt (in a transaction): state "pending" (with next_at),
 * "delivered" or "failed"; last_error may be NULL. */
int store_delivery_set(struct store *st, int64_t rowid, const char *state, unsigned attempts,
                       const char *last_error, int64_t next_at, int64_t now);
/* {"pending", "failed", "delivered", "skipped", "last_error"} of a hook
 * (skipped: failed rows whose last_error starts "skipped:"). */
cJSON *store_query_hook(struct store *st, const char *hook, int *rc);
/* ---- live: watch streams and forget ---- */

/* The rows of events ids[0..n) that still exist, in id order, each
 * {"id", "job_id", "job" (SOURCE/EXTERNAL_ID), "time", "type", "level",
 * "message", "data" (parsed JSON or null)}. */
cJSON *store_query_events_by_id(struct store *st, const int64_t *ids, size_t n, int *rc);
/* What a watch line says of a job: {"job", "status", "step",
 * "total_steps", "estimated_finish", "tracked"}; -ENOENT when gone. */
cJSON *store_query_job_brief(struct store *st, int64_t job_id, int *rc);
/* The distinct values of jobs.source or jobs.status (column is "source"
 * or "status"; anything else is -EINVAL), sorted, as a JSON array. */
cJSON *store_query_job_values(struct store *st, const char *column, int *rc);
/* Delete a job and every row that belongs to it (points, latest metrics,
 * events and their deliveries, checkpoints, alerts, and any table added
 * later that references jobs with ON DELETE CASCADE).  Needs an open
 * transaction (-EINVAL); -ENOENT when there is no such job. */
int store_job_delete(struct store *st, int64_t job_id);

#endif
