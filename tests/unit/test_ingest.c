/*
 * test_ingest: the one write path, on an in-memory store with a fake clock:
 * status changes become the same events for every source, observers see
 * each batch inside the transaction (and can abort it) and after COMMIT,
 * and nothing is written outside a step.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "clock.h"
#include "ingest.h"
#include "store.h"
#include "store_internal.h"
#include "tap.h"
#include "testclock.h"
#include "testdb.h"
#include "utf8.h"

/* What an observer saw, copied out of the batch. */
struct seen {
	int calls;
	size_t points, changes, events, jobs;
	int64_t last_step;
	double last_value;
	char metric[32];
	char status[32], previous[32];
	bool finished;
	int64_t rows_at_call; /* points visible inside the transaction */
	int fail;             /* return this from the txn observer */
	struct store *st;
	struct ingest *in; /* set: the commit observer tries to begin a step */
	int nested_rc;
};

static void
seen_copy(struct seen *w, const struct ingest_batch *b)
{
	w->calls++;
	w->points += b->npoints;
	w->changes += b->nchanges;
	w->events += b->nevents;
	w->jobs += b->njobs;
	if (b->npoints) {
		w->last_step = b->points[b->npoints - 1].step;
		w->last_value = b->points[b->npoints - 1].value;
		snprintf(w->metric, sizeof(w->metric), "%s", b->points[b->npoints - 1].metric);
	}
	if (b->nchanges) {
		const struct ingest_change *c = &b->changes[b->nchanges - 1];
		snprintf(w->status, sizeof(w->status), "%s", c->status);
		snprintf(w->previous, sizeof(w->previous), "%s", c->previous ? c->previous : "-");
		w->finished = c->finished;
	}
}

static int
txn_cb(void *data, struct store *st, const struct ingest_batch *b)
{
	struct seen *w = data;
	seen_copy(w, b);
	w->rows_at_call = sql_int(st, "SELECT count(*) FROM points");
	return w->fail;
}

static void
commit_cb(void *data, const struct ingest_batch *b)
{
	struct seen *w = data;
	seen_copy(w, b);
	w->rows_at_call = sql_int(w->st, "SELECT count(*) FROM points");
	if (w->in)
		w->nested_rc = ingest_begin(w->in);
}

static void
test_events(struct store *st, struct ingest *in)
{
	struct store_job_info info = STORE_JOB_INFO_INIT;
	int64_t id = 0, id2 = 0;
	char *prev = NULL;

	is_int(ingest_job(in, "s", "job-1", "queued", &id), -EINVAL, "no write outside a step");
	is_int(store_insert_point(st, 1, "m", 1, 1.0, 0), -EINVAL,
	       "the store refuses a point outside a transaction");
	is_int(ingest_begin(in), 0, "begin");
	is_int(ingest_begin(in), -EBUSY, "one step at a time");
	is_int(ingest_job(in, "s", "job-1", "queued", &id), 1, "a new job is created");
	is_int(ingest_job(in, "s", "job-1", "running", &id2), 0, "and found the second time");
	ok(id == id2 && id > 0, "with the same id");
	info.status = "running";
	is_int(ingest_job_fields(in, id, &info, &prev), 1, "a status change returns 1");
	is_str(prev, "queued", "with the previous status");
	free(prev);
	is_int(ingest_job_fields(in, id, &info, &prev), 0, "the same status again is no change");
	ok(prev == NULL, "and gives no previous status");
	info.status = "failed";
	is_int(ingest_job_fields(in, id, &info, NULL), 1, "running -> failed");
	is_int(ingest_commit(in), 0, "commit");
	is_int(sql_int(st, "SELECT count(*) FROM events WHERE type = 'job.discovered'"), 1,
	       "one job.discovered");
	is_int(sql_int(st, "SELECT count(*) FROM events WHERE type = 'job.status'"), 2,
	       "one job.status per change");
	is_int(sql_int(st, "SELECT count(*) FROM events WHERE type = 'job.finished'"), 1,
	       "one job.finished on entering a final status");
	is_int(sql_int(st, "SELECT count(DISTINCT message) FROM events WHERE type IN "
	                   "('job.status', 'job.finished') AND message LIKE '%failed%'"),
	       2, "job.status and job.finished say different things");
	is_int(sql_int(st, "SELECT created_at FROM events WHERE type = 'job.finished'"), fake_now,
	       "events take the injected clock's time");
	is_int(ingest_begin(in), 0, "begin");
	info.status = "cancelled";
	is_int(ingest_job_fields(in, id, &info, NULL), 1, "failed -> cancelled");
	is_int(ingest_commit(in), 0, "commit");
	is_int(sql_int(st, "SELECT count(*) FROM events WHERE type = 'job.finished'"), 1,
	       "final -> final is a status change, not a second finish");
}

static void
test_observers(struct store *st, struct ingest *in)
{
	struct seen t = {0}, c = {0};
	int64_t id = 0;

	c.st = st;
	is_int(ingest_observe_txn(in, txn_cb, &t), 0, "txn observer registered");
	is_int(ingest_observe_txn(in, txn_cb, &t), -EEXIST, "not twice");
	is_int(ingest_observe_commit(in, commit_cb, &c), 0, "commit observer registered");
	ingest_begin(in);
	ingest_job(in, "s", "job-2", "running", &id);
	is_int(ingest_point(in, id, "train_loss", 1, 0.5), 1, "a new point");
	is_int(ingest_point(in, id, "train_loss", 1, 0.7), 0, "a duplicate");
	is_int(ingest_point(in, id, "valid_loss", 2, NAN), 1, "a NaN point");
	is_int(ingest_commit(in), 0, "commit");
	is_int(t.calls, 1, "the txn observer ran once");
	is_int((int)t.points, 2, "and saw the new points only, not the duplicate");
	is_int((int)t.changes, 1, "and the new job");
	is_str(t.status, "running", "with its status");
	is_int(t.rows_at_call, sql_int(st, "SELECT count(*) FROM points"),
	       "inside the transaction, the points are already visible");
	is_str(t.metric, "valid_loss", "metric names are passed");
	ok(isnan(t.last_value), "and NaN values as NaN");
	is_int(c.calls, 1, "the commit observer ran once");
	is_int((int)c.events, 1, "and was given the event ids (job.discovered)");
	is_int((int)c.jobs, 1, "and the job, once");

	/* A txn observer that fails aborts the whole step. */
	int64_t before = sql_int(st, "SELECT count(*) FROM points");
	t.fail = -EIO;
	ingest_begin(in);
	ingest_point(in, id, "train_loss", 2, 0.4);
	is_int(ingest_commit(in), -EIO, "a failing txn observer fails the commit");
	is_int(sql_int(st, "SELECT count(*) FROM points"), before, "and nothing of the step stays");
	is_int(c.calls, 1, "the commit observers are not told");
	t.fail = 0;
	ingest_begin(in);
	is_int(ingest_point(in, id, "train_loss", 2, 0.4), 1, "the same point lands on a retry");
	ingest_commit(in);
	is_int(t.last_step, 2, "and the observer sees it then");

	/* Rolled back: nobody is told. */
	int calls = t.calls;
	ingest_begin(in);
	ingest_point(in, id, "train_loss", 3, 0.3);
	ingest_rollback(in);
	is_int(t.calls, calls, "a rolled back step is not observed");
	is_int(sql_int(st, "SELECT count(*) FROM points WHERE step = 3"), 0, "nor stored");

	ingest_unobserve_txn(in, txn_cb, &t);
	ingest_unobserve_commit(in, commit_cb, &c);
	ingest_begin(in);
	ingest_point(in, id, "train_loss", 4, 0.2);
	ingest_commit(in);
	is_int(t.calls, calls, "an unregistered observer is not called");
	is_int(c.calls, 2, "neither phase");

	/* A step that only reports fields names its job; a commit observer
	 * cannot start a step while its batch is in use. */
	struct store_job_info info = STORE_JOB_INFO_INIT;
	struct seen f = {0};
	f.st = st;
	f.in = in;
	ingest_observe_commit(in, commit_cb, &f);
	ingest_begin(in);
	info.trained_tokens = 1234;
	is_int(ingest_job_fields(in, id, &info, NULL), 0,
	       "a field-only update is no status change");
	is_int(ingest_commit(in), 0, "commit");
	is_int((int)f.jobs, 1, "but the commit observers are told the job was written");
	is_int(f.nested_rc, -EBUSY, "ingest_begin from a commit observer is refused");
	is_int(ingest_begin(in), 0, "and works once the observers are done");
	ingest_rollback(in);
	ingest_unobserve_commit(in, commit_cb, &f);
}

/* The text of the first row of sql, or "(none)": the caller frees it. */
static char *
sql_text(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	char *v = NULL;

	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
		v = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return v ? v : strdup("(none)");
}

static void
test_text_is(struct store *st, const char *sql, const char *want, const char *what)
{
	char *got = sql_text(st, sql);

	is_str(got, want, "%s", what);
	ok(utf8_valid(got, strlen(got)), "  stored as valid UTF-8");
	free(got);
}

/* Ill-formed UTF-8 from a source is repaired on the way in, whatever
 * field it arrives in. */
static void
test_text(struct store *st, struct ingest *in)
{
	struct store_job_info info = STORE_JOB_INFO_INIT;
	int64_t id = 0;

	is_int(ingest_begin(in), 0, "begin (text)");
	is_int(ingest_job(in, "s", "bad-\xff", "queued\xfe", &id), 1, "a job with bad bytes");
	info.status = "running\xc0\xaf";
	info.model = "gpt\xed\xa0\x80";
	info.fine_tuned_model = "ft\xf4\x90\x80\x80";
	info.error = "oops \xe2\x82";
	is_int(ingest_job_fields(in, id, &info, NULL), 1, "its fields");
	is_int(ingest_event(in, id, "ev-\x80", "message\xff", "info\xff", "caf\xc3\xa9 \xff\xfe",
	                    "{\"k\":\"\xff\"}", 5),
	       1, "an event with bad bytes");
	is_int(ingest_point(in, id, "loss\xff", 1, 0.5), 1, "a metric name with a bad byte");
	is_int(ingest_checkpoint(in, id, "ck-\xff", 1, "m\xff", "{\"a\":\"\xfe\"}", 5), 0,
	       "a checkpoint with bad bytes");
	is_int(ingest_cursor(in, id, "cur\xff"), 0, "a cursor with a bad byte");
	is_int(ingest_commit(in), 0, "commit (text)");
	test_text_is(st,
	             "SELECT external_id FROM jobs WHERE source = 's' AND id = (SELECT max(id) "
	             "FROM jobs)",
	             "bad-\xef\xbf\xbd", "external id repaired");
	test_text_is(st, "SELECT status FROM jobs ORDER BY id DESC",
	             "running\xef\xbf\xbd\xef\xbf\xbd",
	             "status repaired (an overlong is two U+FFFD)");
	test_text_is(st, "SELECT model FROM jobs ORDER BY id DESC",
	             "gpt\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "model repaired (a surrogate)");
	test_text_is(st, "SELECT fine_tuned_model FROM jobs ORDER BY id DESC",
	             "ft\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	             "fine-tuned model repaired");
	test_text_is(st, "SELECT error FROM jobs ORDER BY id DESC", "oops \xef\xbf\xbd",
	             "error repaired (a cut sequence)");
	test_text_is(st, "SELECT message FROM events WHERE type LIKE 'message%'",
	             "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd", "event message repaired, U+00E9 kept");
	test_text_is(st,
	             "SELECT type || level || source_event_id || data FROM events WHERE "
	             "type LIKE 'message%'",
	             "message\xef\xbf\xbdinfo\xef\xbf\xbd"
	             "ev-\xef\xbf\xbd{\"k\":\"\xef\xbf\xbd\"}",
	             "event type, level, id and data repaired");
	test_text_is(st, "SELECT message FROM events WHERE type = 'job.status' ORDER BY id DESC",
	             "status queued\xef\xbf\xbd -> running\xef\xbf\xbd\xef\xbf\xbd",
	             "ftmon's own status event names the repaired statuses");
	test_text_is(st, "SELECT name FROM metric_names WHERE name LIKE 'loss%'",
	             "loss\xef\xbf\xbd", "metric name repaired");
	test_text_is(st, "SELECT checkpoint_id || model || metrics FROM checkpoints",
	             "ck-\xef\xbf\xbdm\xef\xbf\xbd{\"a\":\"\xef\xbf\xbd\"}", "checkpoint repaired");
	test_text_is(st, "SELECT event_cursor FROM jobs ORDER BY id DESC", "cur\xef\xbf\xbd",
	             "cursor repaired");
}

/* Contract 4: txn observers run in registration order, so one registered
 * after the rules engine sees the events rules wrote in the same step. */
struct order {
	int *log, *n;
	int me;
	bool write;          /* write an event (as rules does) */
	int64_t events_seen; /* events rows visible when called */
};

static int
order_cb(void *data, struct store *st, const struct ingest_batch *b)
{
	struct order *o = data;
	int64_t job_id = b->njobs ? b->job_ids[0] : 0;

	o->log[(*o->n)++] = o->me;
	o->events_seen = sql_int(st, "SELECT count(*) FROM events WHERE type = 'alert.fired'");
	if (o->write && job_id)
		return store_insert_event(st, job_id, NULL, "alert.fired", NULL, NULL,
		                          "{\"alert_id\":1}", fake_now, NULL) < 0
		               ? -EIO
		               : 0;
	return 0;
}

static void
test_observer_order(struct store *st, struct ingest *in)
{
	int log[4], n = 0;
	int64_t job_id;
	struct order rules = {log, &n, 1, true, 0}, notifier = {log, &n, 2, false, 0};

	ingest_observe_txn(in, order_cb, &rules);
	ingest_observe_txn(in, order_cb, &notifier);
	ingest_begin(in);
	ingest_job(in, "src", "order-job", "running", &job_id);
	is_int(ingest_commit(in), 0, "a step with two txn observers commits");
	is_int(n, 2, "both ran once");
	ok(log[0] == 1 && log[1] == 2, "in registration order");
	is_int(notifier.events_seen, 1, "the second sees the event the first wrote in the step");
	ingest_unobserve_txn(in, order_cb, &rules);
	ingest_unobserve_txn(in, order_cb, &notifier);
}

int
main(void)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", &err);
	struct ingest *in;

	if (st == NULL) {
		printf("Bail out! %s\n", err);
		return 1;
	}
	in = ingest_new(st, &fake_clock);
	test_events(st, in);
	test_observers(st, in);
	test_observer_order(st, in);
	test_text(st, in);
	ok(ingest_status_final("succeeded") && ingest_status_final("failed") &&
	           ingest_status_final("cancelled") && !ingest_status_final("running") &&
	           !ingest_status_final(NULL),
	   "final statuses");
	ingest_free(in);
	store_close(st);
	return tap_done();
}
