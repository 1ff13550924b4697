/*
 * ingest: the one path by which every source writes to the store.
 *
 * A step is one transaction: ingest_begin(), then what the step learned
 * (job fields, points, events, checkpoints, the source's cursor), then
 * ingest_commit().  A kill -9 anywhere repeats at most that step.  A job's
 * status change becomes its event here, the same way for every source:
 *   - a new job                      -> job.discovered  {"status"}
 *   - any change of status           -> job.status      {"status","previous"}
 *   - and when it enters succeeded, failed or cancelled from an unfinished
 *     status, also                   -> job.finished    {"status","previous"}
 *     (the two say different things: "status running -> failed" and
 *     "finished: failed").
 *
 * Observers see what a step adds, in two phases:
 *   - txn observers run inside the transaction, just before COMMIT, with
 *     the step's new points (duplicates already dropped) and status
 *     changes.  They may write in the same transaction through the store
 *     they are given (rules: an alert, its event, its delivery rows), so a
 *     crash leaves the points and their consequences together or neither.
 *     A negative return aborts the whole step.
 *   - commit observers run after COMMIT with what was committed (event
 *     ids, job ids, the points): the notifier's wake-up, watch streams.
 * Observers are registered and unregistered by (fn, data); one must not
 * unregister itself (or another) from inside its own call.
 *
 * Every text a step stores (ids, names, statuses, messages, JSON) is kept
 * as valid UTF-8: an ill-formed sequence becomes U+FFFD here (utf8.h), so
 * the database and the replies built from it are valid whatever a source
 * was sent.
 *
 * Nothing here logs; functions return 0 (or a documented positive value)
 * or a negative errno as the store does (store.h), ingest_errmsg() gives
 * the database's message.  Every write function requires an open step
 * (-EINVAL otherwise).
 */
#ifndef FTMON_INGEST_H
#define FTMON_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct clock;
struct ingest;

struct ingest_point {
	int64_t job_id;
	const char *metric; /* valid during the observer's call */
	int64_t step;
	double value; /* may be NaN */
};

struct ingest_change {
	int64_t job_id;
	const char *previous; /* NULL for a new job */
	const char *status;
	bool finished; /* entered a final status */
};

/* What one step added; every pointer is valid only during the call. */
struct ingest_batch {
	const struct ingest_point *points;
	size_t npoints;
	const struct ingest_change *changes;
	size_t nchanges;
	const int64_t *event_ids; /* events inserted, in order */
	size_t nevents;
	const int64_t *job_ids; /* jobs the step wrote to, each once */
	size_t njobs;
};

/* Inside the transaction; st is the open transaction's store. */
typedef int (*ingest_txn_fn)(void *data, struct store *st, const struct ingest_batch *b);
/* After COMMIT. */
typedef void (*ingest_commit_fn)(void *data, const struct ingest_batch *b);

/* st and clk are borrowed and must outlive the ingest. */
struct ingest *ingest_new(struct store *st, const struct clock *clk);
/* NULL is fine; rolls back an open step. */
void ingest_free(struct ingest *in);
const char *ingest_errmsg(struct ingest *in);

/* Register (0, or -EEXIST for the same fn and data twice) and unregister
 * (a no-op when absent). */
int ingest_observe_txn(struct ingest *in, ingest_txn_fn fn, void *data);
void ingest_unobserve_txn(struct ingest *in, ingest_txn_fn fn, void *data);
int ingest_observe_commit(struct ingest *in, ingest_commit_fn fn, void *data);
void ingest_unobserve_commit(struct ingest *in, ingest_commit_fn fn, void *data);

/* ---- one step ---- */

/* -EBUSY when a step is already open, or from a commit observer (the
 * batch it was given is still in use: write later, e.g. from a timer). */
int ingest_begin(struct ingest *in);
/* Run the txn observers, COMMIT, then the commit observers.  On failure
 * the step is rolled back. */
int ingest_commit(struct ingest *in);
/* Roll back the open step, if any; its observers are not called. */
void ingest_rollback(struct ingest *in);

/* The job (source, external_id), created in status when absent (with its
 * job.discovered event).  Sets *job_id; returns 1 when created, else 0. */
int ingest_job(struct ingest *in, const char *source, const char *external_id, const char *status,
               int64_t *job_id);
/* Report a job's fields (store.h: NULL and -1 are "not reported").  A
 * status change writes its events and returns 1, with the previous status
 * in *previous (malloc'd; previous may be NULL); otherwise 0. */
int ingest_job_fields(struct ingest *in, int64_t job_id, const struct store_job_info *info,
                      char **previous);
/* Returns 1 when the point is new, 0 when (job, metric, step) was stored. */
int ingest_point(struct ingest *in, int64_t job_id, const char *metric, int64_t step, double value);
/* source_event_id may be NULL (ftmon's own events); a duplicate of a
 * non-NULL one is ignored.  Returns 1 when inserted, 0 for a duplicate. */
int ingest_event(struct ingest *in, int64_t job_id, const char *source_event_id, const char *type,
                 const char *level, const char *message, const char *data_json, int64_t created_at);
int ingest_checkpoint(struct ingest *in, int64_t job_id, const char *checkpoint_id, int64_t step,
                      const char *model, const char *metrics_json, int64_t created_at);
/* The source's resume state for a job. */
int ingest_cursor(struct ingest *in, int64_t job_id, const char *cursor);
int ingest_results_done(struct ingest *in, int64_t job_id, bool done);
int ingest_tracked(struct ingest *in, int64_t job_id, bool tracked);

/* succeeded, failed, cancelled: the final statuses of every source. */
bool ingest_status_final(const char *status);

/* ---- jsonl: a file's resume state, bad lines ---- */

/* Where (source, path) was read up to (store.h), in the step that stored
 * what those bytes held. */
int ingest_file_pos(struct ingest *in, const char *source, const char *path,
                    const struct store_file_pos *pos);
/* Count a bad line of a job (its number in the file, a reason). */
int ingest_bad_line(struct ingest *in, int64_t job_id, int64_t line, const char *reason);

#endif
