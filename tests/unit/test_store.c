/*
 * test_store: store.c and store_query.c on an in-memory database.  Every
 * write happens inside store_begin()/store_commit(), as the daemon's do.
 * The few checks the public interface cannot see (user_version, NULL in
 * the points table) read the connection through store_internal.h.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "store.h"
#include "store_internal.h"
#include "tap.h"
#include "testdb.h"
#include "xmalloc.h"

static double
json_num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *
json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t
ensure(struct store *st, const char *source, const char *id)
{
	int64_t job = -1;
	int rc = store_job_ensure(st, source, id, "queued", &job);
	if (rc != 1)
		TAP_DIAG("store_job_ensure(%s/%s) = %d", source, id, rc);
	return job;
}

static struct store *
test_open(void)
{
	char *err = (char *)"unset";
	struct store *st = store_open(":memory:", &err);

	ok(st != NULL && err == NULL, "store_open accepts :memory:");
	if (st == NULL) {
		TAP_DIAG("  %s", err ? err : "(no message)");
		free(err);
		return NULL;
	}
	ok(store_schema_version() >= 1, "schema version is at least 1");
	is_int(sql_int(st, "PRAGMA user_version"), store_schema_version(),
	       "migrations set user_version to the build's schema version");
	is_int(sql_int(st, "SELECT count(*) FROM sqlite_master WHERE name = 'points'"), 1,
	       "migrations created the points table");
	return st;
}

static void
test_open_fails(void)
{
	char *err = NULL;
	struct store *st = store_open("/nonexistent-ftmon-dir/x.db", &err);

	ok(st == NULL && err != NULL && strstr(err, "/nonexistent-ftmon-dir/x.db") != NULL,
	   "store_open of an impossible path fails naming it");
	store_close(st);
	free(err);
	store_close(NULL);
	ok(1, "store_close(NULL) is a no-op");
}

static void
test_job_ensure(struct store *st, int64_t *job)
{
	int64_t again = -1;

	is_int(store_begin(st), 0, "begin");
	is_int(store_job_ensure(st, "openai", "ftjob-abc123", "queued", job), 1,
	       "job_ensure creates a new job (1)");
	is_int(store_job_ensure(st, "openai", "ftjob-abc123", "running", &again), 0,
	       "job_ensure of an existing job returns 0");
	is_int(again, *job, "... with the same id");
	is_int(store_commit(st), 0, "commit");
}

static void
test_job_update_change(struct store *st, int64_t job)
{
	struct store_job_info info = STORE_JOB_INFO_INIT;
	char *old = (char *)"unset";

	info.status = "running";
	info.model = "gpt-4o-mini";
	info.total_steps = 100;
	is_int(store_begin(st), 0, "begin");
	is_int(store_job_update(st, job, &info, &old), 1, "job_update with a new status returns 1");
	is_str(old, "queued", "... and the old status");
	free(old);
	old = (char *)"unset";
	info.model = NULL;
	info.total_steps = -1;
	info.trained_tokens = 5000;
	is_int(store_job_update(st, job, &info, &old), 0, "same status again returns 0");
	ok(old == NULL, "... and no old status");
	is_int(store_job_update(st, job, &info, NULL), 0, "old_status may be NULL");
	is_int(store_job_update(st, 99999, &info, NULL), -ENOENT, "job_update of no job: -ENOENT");
	is_int(store_commit(st), 0, "commit");
}

static void
test_job_update_keeps(struct store *st, int64_t job)
{
	struct store_job_info none = STORE_JOB_INFO_INIT;
	char *old = (char *)"unset";
	int rc;
	cJSON *j;

	is_int(store_begin(st), 0, "begin");
	is_int(store_job_update(st, job, &none, &old), 0, "an update reporting nothing returns 0");
	ok(old == NULL, "... and no old status");
	is_int(store_commit(st), 0, "commit");
	j = store_query_job(st, job, &rc);
	ok(j != NULL && rc == 0, "query_job of the job");
	is_str(json_str(j, "status"), "running", "status kept");
	is_str(json_str(j, "model"), "gpt-4o-mini", "unreported model kept");
	is_double(json_num(j, "total_steps"), 100, 0, "unreported total_steps kept");
	is_double(json_num(j, "trained_tokens"), 5000, 0, "trained_tokens stored");
	is_str(json_str(j, "name"), "openai/ftjob-abc123", "name is SOURCE/ID");
	cJSON_Delete(j);
}

static void
test_points_insert(struct store *st, int64_t job)
{
	is_int(store_begin(st), 0, "begin");
	is_int(store_insert_point(st, job, "train_loss", 1, 0.5, 1000), 1, "point step 1 inserted");
	is_int(store_insert_point(st, job, "train_loss", 3, 0.3, 1000), 1, "point step 3 inserted");
	is_int(store_insert_point(st, job, "train_loss", 2, 0.4, 1000), 1, "point step 2 inserted");
	is_int(store_insert_point(st, job, "train_loss", 1, 9.9, 1001), 0,
	       "same (job, metric, step) again returns 0");
	is_int(store_insert_point(st, job, "acc", 2, NAN, 1000), 1, "NaN point inserted");
	is_int(store_commit(st), 0, "commit");
	is_int(sql_int(st, "SELECT count(*) FROM points"), 4, "four points stored");
	is_int(sql_int(st, "SELECT count(*) FROM points p JOIN metric_names m ON m.id ="
	                   " p.metric_id WHERE m.name = 'acc' AND p.value IS NULL"),
	       1, "NaN is stored as NULL");
	is_int(sql_int(st, "SELECT count(*) FROM points WHERE value = 9.9"), 0,
	       "the duplicate did not overwrite the first value");
}

static void
test_points_latest(struct store *st, int64_t job)
{
	int rc;
	cJSON *j = store_query_job(st, job, &rc);
	cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "metrics");

	is_double(json_num(j, "step"), 3, 0, "jobs.last_step is the highest step after commit");
	is_double(json_num(m, "train_loss"), 0.3, 1e-12, "latest train_loss is step 3's");
	ok(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(m, "acc")), "latest NaN is null");
	cJSON_Delete(j);

	is_int(store_begin(st), 0, "begin");
	is_int(store_insert_point(st, job, "train_loss", 0, 0.9, 1002), 1, "older step 0 inserted");
	is_int(store_commit(st), 0, "commit");
	j = store_query_job(st, job, &rc);
	m = cJSON_GetObjectItemCaseSensitive(j, "metrics");
	is_double(json_num(j, "step"), 3, 0, "an older step does not lower last_step");
	is_double(json_num(m, "train_loss"), 0.3, 1e-12, "... nor replace the latest value");
	cJSON_Delete(j);
}

/* [[step, value], ...] of one metric as "s:v s:v" (null as "n"). */
static char *
series_str(const cJSON *metrics, const char *name)
{
	static char out[512];
	const cJSON *pair;
	size_t len = 0;

	out[0] = '\0';
	cJSON_ArrayForEach (pair, cJSON_GetObjectItemCaseSensitive(metrics, name)) {
		const cJSON *s = cJSON_GetArrayItem(pair, 0), *v = cJSON_GetArrayItem(pair, 1);
		if (len + 40 >= sizeof(out))
			break;
		if (cJSON_IsNumber(v))
			len += snprintf(out + len, sizeof(out) - len, "%s%g:%g", len ? " " : "",
			                s->valuedouble, v->valuedouble);
		else
			len += snprintf(out + len, sizeof(out) - len, "%s%g:n", len ? " " : "",
			                s->valuedouble);
	}
	return out;
}

static void
test_query_metrics(struct store *st, int64_t job)
{
	const char *only_acc[] = {"acc", NULL};
	int rc;
	cJSON *m = store_query_metrics(st, job, NULL, INT64_MIN, INT64_MAX, 0, NULL, &rc);

	ok(m != NULL && rc == 0, "query_metrics of every metric");
	is_int(cJSON_GetArraySize(m), 2, "two metrics");
	is_str(series_str(m, "train_loss"), "0:0.9 1:0.5 2:0.4 3:0.3", "train_loss in step order");
	is_str(series_str(m, "acc"), "2:n", "acc's NaN comes back as null");
	cJSON_Delete(m);
	m = store_query_metrics(st, job, only_acc, INT64_MIN, INT64_MAX, 0, NULL, &rc);
	ok(m != NULL && cJSON_GetArraySize(m) == 1 && series_str(m, "acc")[0] != '\0',
	   "a metric filter returns only that metric");
	cJSON_Delete(m);
	m = store_query_metrics(st, job, NULL, 1, 2, 0, NULL, &rc);
	is_str(series_str(m, "train_loss"), "1:0.5 2:0.4", "since/until bound the steps");
	cJSON_Delete(m);
}

static void
test_query_downsample(struct store *st, int64_t job)
{
	int rc, n = 0;
	cJSON *m;

	is_int(store_begin(st), 0, "begin");
	for (int i = 0; i < 200; i++)
		n += store_insert_point(st, job, "lr", i, i % 7, 1003) == 1;
	is_int(n, 200, "200 lr points inserted");
	is_int(store_commit(st), 0, "commit");
	m = store_query_metrics(st, job, NULL, INT64_MIN, INT64_MAX, 20, NULL, &rc);
	n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "lr"));
	ok(rc == 0 && n >= 2 && n <= 20, "max_points 20 downsamples 200 points (%d)", n);
	is_str(series_str(m, "train_loss"), "0:0.9 1:0.5 2:0.4 3:0.3",
	       "a series under max_points is returned whole");
	cJSON_Delete(m);
}

static void
test_events(struct store *st, int64_t job)
{
	int rc;
	cJSON *ev, *first;

	is_int(store_begin(st), 0, "begin");
	is_int(store_insert_event(st, job, "ftevent-1", "message", "info", "Step 1", NULL, 100,
	                          NULL),
	       1, "event inserted");
	is_int(store_insert_event(st, job, "ftevent-1", "message", "info", "Step 1", NULL, 100,
	                          NULL),
	       0, "duplicate source_event_id ignored");
	is_int(store_insert_event(st, job, NULL, "job.status", "info", "running", "{\"to\":\"r\"}",
	                          200, NULL),
	       1, "own event with NULL id inserted");
	is_int(store_insert_event(st, job, NULL, "job.status", "info", "running", "{\"to\":\"r\"}",
	                          200, NULL),
	       1, "a second NULL id is not a duplicate");
	is_int(store_commit(st), 0, "commit");
	ev = store_query_events(st, job, 10, &rc);
	ok(ev != NULL && rc == 0, "query_events");
	is_int(cJSON_GetArraySize(ev), 3, "three events stored");
	first = cJSON_GetArrayItem(ev, 0);
	is_double(json_num(first, "time"), 200, 0, "newest event first");
	is_str(json_str(cJSON_GetObjectItemCaseSensitive(first, "data"), "to"), "r",
	       "data comes back as JSON, not text");
	is_str(json_str(cJSON_GetArrayItem(ev, 2), "message"), "Step 1", "oldest event last");
	cJSON_Delete(ev);
	ev = store_query_events(st, job, 1, &rc);
	is_int(cJSON_GetArraySize(ev), 1, "limit 1 returns one event");
	cJSON_Delete(ev);
}

static void
test_checkpoints(struct store *st, int64_t job)
{
	int rc;
	cJSON *j, *cps, *cp;

	is_int(store_begin(st), 0, "begin");
	is_int(store_upsert_checkpoint(st, job, "ftckpt-1", 10, "m:ckpt-10", "{\"loss\":0.5}", 300),
	       0, "checkpoint inserted");
	is_int(store_upsert_checkpoint(st, job, "ftckpt-1", 20, "m:ckpt-20", "{\"loss\":0.25}",
	                               400),
	       0, "same checkpoint upserted");
	is_int(store_upsert_checkpoint(st, job, "ftckpt-2", 5, "m:ckpt-5", NULL, 250), 0,
	       "second checkpoint inserted");
	is_int(store_commit(st), 0, "commit");
	j = store_query_job(st, job, &rc);
	cps = cJSON_GetObjectItemCaseSensitive(j, "checkpoints");
	is_int(cJSON_GetArraySize(cps), 2, "two checkpoints, not three");
	cp = cJSON_GetArrayItem(cps, 1);
	is_str(json_str(cp, "id"), "ftckpt-1", "checkpoints in step order");
	is_double(json_num(cp, "step"), 20, 0, "upsert replaced the step");
	is_str(json_str(cp, "model"), "m:ckpt-20", "... the model");
	is_double(json_num(cJSON_GetObjectItemCaseSensitive(cp, "metrics"), "loss"), 0.25, 0,
	          "... and the metrics (as JSON)");
	ok(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "alerts")), "query_job has alerts");
	cJSON_Delete(j);
}

static void
resolve_ok(struct store *st, const char *spec, int64_t want)
{
	int64_t id = -1;
	char *why = (char *)"unset";
	int rc = store_job_resolve(st, spec, &id, &why);

	ok(rc == 0 && id == want && why == NULL, "resolve '%s'", spec);
	if (rc != 0 || id != want)
		TAP_DIAG("  rc %d, id %lld, want %lld", rc, (long long)id, (long long)want);
}

static void
resolve_fails(struct store *st, const char *spec, int want_rc, const char *const *names)
{
	int64_t id = -1;
	char *why = NULL;
	int rc = store_job_resolve(st, spec, &id, &why);
	int good = rc == want_rc && (names == NULL) == (why == NULL);

	for (size_t i = 0; names && names[i] && good; i++)
		good = strstr(why, names[i]) != NULL;
	ok(good, "resolve '%s' fails (%d)", spec, want_rc);
	if (!good)
		TAP_DIAG("  rc %d, why %s", rc, why ? why : "(null)");
	free(why);
}

static void
test_resolve(struct store *st, int64_t a)
{
	const char *both_abc[] = {"openai/ftjob-abc123", "azure/ftjob-abc123", NULL};
	const char *all_ab[] = {"openai/ftjob-abc123", "openai/ftjob-abd456", "azure/ftjob-abc123",
	                        NULL};
	int64_t b, c, d;

	is_int(store_begin(st), 0, "begin");
	b = ensure(st, "openai", "ftjob-abd456");
	c = ensure(st, "azure", "ftjob-abc123");
	d = ensure(st, "azure", "ftjob-xyz");
	is_int(store_commit(st), 0, "commit");
	resolve_ok(st, "openai/ftjob-abc123", a);
	resolve_ok(st, "azure/ftjob-abc123", c);
	resolve_ok(st, "ftjob-abd456", b);
	resolve_ok(st, "ftjob-x", d);
	resolve_ok(st, "ftjob-abd", b);
	resolve_ok(st, "azure/ftjob-x", d);
	resolve_fails(st, "ftjob-abc123", -EEXIST, both_abc);
	resolve_fails(st, "ftjob-ab", -EEXIST, all_ab);
	resolve_fails(st, "ftjob-nope", -ENOENT, NULL);
	resolve_fails(st, "nosource/ftjob-abc123", -ENOENT, NULL);
	resolve_fails(st, "ftjob-a%", -ENOENT, NULL);
}

static void
test_query_jobs(struct store *st)
{
	struct store_jobs_filter all = {NULL, NULL, true};
	struct store_jobs_filter azure = {NULL, "azure", false};
	struct store_jobs_filter running = {"running", NULL, false};
	int rc;
	cJSON *jobs = store_query_jobs(st, &all, &rc), *counts;

	ok(jobs != NULL && rc == 0, "query_jobs");
	is_int(cJSON_GetArraySize(jobs), 4, "four jobs");
	is_str(json_str(cJSON_GetArrayItem(jobs, 0), "name"), "openai/ftjob-abc123",
	       "jobs in id order");
	ok(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(jobs, 0), "tracked")),
	   "tracked is a boolean");
	ok(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(jobs, 0), "rowid") == NULL,
	   "the internal rowid is not exposed");
	cJSON_Delete(jobs);
	jobs = store_query_jobs(st, &azure, &rc);
	is_int(cJSON_GetArraySize(jobs), 2, "source filter: two azure jobs");
	cJSON_Delete(jobs);
	jobs = store_query_jobs(st, &running, &rc);
	is_int(cJSON_GetArraySize(jobs), 1, "status filter: one running job");
	cJSON_Delete(jobs);
	counts = store_query_counts(st, &rc);
	is_double(json_num(cJSON_GetObjectItemCaseSensitive(counts, "jobs"), "queued"), 3, 0,
	          "counts: three queued");
	is_double(json_num(counts, "alerts_firing"), 0, 0, "counts: no alert firing");
	is_double(json_num(counts, "deliveries_pending"), 0, 0, "counts: no delivery pending");
	cJSON_Delete(counts);
	jobs = store_query_alerts(st, true, &rc);
	ok(jobs != NULL && rc == 0 && cJSON_GetArraySize(jobs) == 0, "query_alerts: none");
	cJSON_Delete(jobs);
}

static void
test_job_state(struct store *st, int64_t job)
{
	struct store_job_state *v = NULL;
	size_t n = 0;

	is_int(store_begin(st), 0, "begin");
	is_int(store_job_set_cursor(st, job, "ftevent-1"), 0, "set_cursor");
	is_int(store_job_set_results_done(st, job, true), 0, "set_results_done");
	is_int(store_job_set_tracked(st, job, false), 0, "set_tracked false");
	is_int(store_job_set_cursor(st, 99999, "x"), -ENOENT, "set_cursor of no job: -ENOENT");
	is_int(store_commit(st), 0, "commit");
	is_int(store_jobs_of_source(st, "openai", &v, &n), 0, "jobs_of_source");
	is_int(n, 2, "two openai jobs");
	if (n == 2) {
		is_int(v[0].id, job, "in id order");
		is_str(v[0].external_id, "ftjob-abc123", "external id");
		is_str(v[0].status, "running", "status");
		is_str(v[0].cursor, "ftevent-1", "cursor");
		ok(v[0].results_done && !v[0].tracked, "results_done and untracked");
		ok(v[1].cursor == NULL && !v[1].results_done && v[1].tracked,
		   "defaults of a new job");
	}
	for (size_t i = 0; i < n; i++)
		store_job_state_clear(&v[i]);
	free(v);
}

static void
test_rollback(struct store *st, int64_t job)
{
	int64_t gone = -1, id;
	char *why = NULL;
	int rc;
	cJSON *m;

	is_int(store_begin(st), 0, "begin");
	is_int(store_job_ensure(st, "openai", "ftjob-rolled", "queued", &gone), 1, "job created");
	is_int(store_insert_point(st, job, "rolled_metric", 1000, 1.0, 1004), 1, "point inserted");
	is_int(store_insert_event(st, job, "ftevent-rolled", "message", "info", "x", NULL, 500,
	                          NULL),
	       1, "event inserted");
	store_rollback(st);
	is_int(store_job_resolve(st, "ftjob-rolled", &id, &why), -ENOENT, "rolled-back job gone");
	free(why);
	m = store_query_job(st, job, &rc);
	is_double(json_num(m, "step"), 199, 0, "last_step not raised by the rolled-back point");
	cJSON_Delete(m);
	m = store_query_events(st, job, 10, &rc);
	is_int(cJSON_GetArraySize(m), 3, "rolled-back event gone");
	cJSON_Delete(m);
	/* The metric name's row was rolled back too: its id must not be reused. */
	is_int(store_begin(st), 0, "begin");
	is_int(store_insert_point(st, job, "rolled_metric", 7, 2.0, 1005), 1,
	       "a rolled-back metric name can be inserted again");
	is_int(store_commit(st), 0, "commit");
	m = store_query_metrics(st, job, NULL, INT64_MIN, INT64_MAX, 0, NULL, &rc);
	is_str(series_str(m, "rolled_metric"), "7:2", "only the committed point is there");
	cJSON_Delete(m);
}

/* Run SQL on the connection behind the store's back (a test's fault). */
static int
sql_exec(struct store *st, const char *sql)
{
	return sqlite3_exec(store_db(st), sql, NULL, NULL, NULL);
}

/* A failed write is reported with SQLite's message even though the
 * rollback after it resets the connection's own to "not an error". */
static void
test_errmsg_kept(struct store *st, int64_t job)
{
	is_int(sql_exec(st, "CREATE TRIGGER t_fail BEFORE INSERT ON points"
	                    " BEGIN SELECT RAISE(ABORT, 'injected point failure'); END;"),
	       SQLITE_OK, "a trigger that refuses points");
	is_int(store_begin(st), 0, "begin");
	ok(store_insert_point(st, job, "errmsg_metric", 1, 1.0, 1) < 0, "the insert fails");
	store_rollback(st);
	is_str(store_errmsg(st), "injected point failure",
	       "store_errmsg after the rollback is the failure's message");
	is_int(sql_exec(st, "DROP TRIGGER t_fail;"
	                    "CREATE TRIGGER t_fail BEFORE INSERT ON latest_metrics"
	                    " BEGIN SELECT RAISE(ABORT, 'injected commit failure'); END;"),
	       SQLITE_OK, "a trigger that refuses the commit's bookkeeping");
	is_int(store_begin(st), 0, "begin");
	is_int(store_insert_point(st, job, "errmsg_metric", 2, 1.0, 1), 1, "the point goes in");
	ok(store_commit(st) < 0, "the commit fails (and rolls back)");
	ok(!store_in_transaction(st), "no transaction is left open");
	is_str(store_errmsg(st), "injected commit failure",
	       "store_errmsg after a failed commit is the failure's message");
	is_int(sql_exec(st, "DROP TRIGGER t_fail"), SQLITE_OK, "trigger dropped");
	is_int(store_begin(st), 0, "a new step begins");
	ok(strcmp(store_errmsg(st), "injected commit failure") != 0,
	   "and does not carry the old failure's message");
	store_rollback(st);
}

static int64_t
file_ino(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (int64_t)sb.st_ino : -1;
}

/* A job with one point, committed: the file is in use. */
static int
put_one(struct store *st, const char *id)
{
	int64_t job = -1;
	int rc;

	if ((rc = store_begin(st)) < 0 ||
	    (rc = store_job_ensure(st, "s", id, "running", &job)) < 0 ||
	    (rc = store_insert_point(st, job, "m", 1, 1.0, 1)) < 0 || (rc = store_commit(st)) < 0)
		store_rollback(st);
	return rc;
}

/* The file deleted, replaced, and its directory gone under an open store. */
static void
test_file_checks(void)
{
	char dir[] = "/tmp/ftmon-test-store.XXXXXX", *sub, *moved, *path, *other, *err = NULL;
	struct store *st, *st2;
	int64_t id;
	char *why = NULL;
	int rc;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	sub = xasprintf("%s/sub", dir);
	moved = xasprintf("%s/moved", dir);
	path = xasprintf("%s/a.db", sub);
	other = xasprintf("%s/b.db", sub);
	mkdir(sub, 0700);
	st = store_open(path, &err);
	ok(st != NULL, "store_open of a file");
	if (st == NULL) {
		TAP_DIAG("  %s", err);
		free(err);
		goto out;
	}
	is_int(put_one(st, "ftjob-old"), 0, "a job stored");
	is_int(store_check_file(st), 0, "the path names the open file");
	unlink(path);
	is_int(store_check_file(st), -ENOENT, "deleted: -ENOENT");
	is_int(store_reopen(st, &err), 0, "reopened");
	ok(file_ino(path) > 0, "a new file is at the path");
	is_int(store_check_file(st), 0, "and it is the open one");
	is_int(store_job_resolve(st, "ftjob-old", &id, &why), -ENOENT,
	       "the new file does not have the old job");
	free(why);
	why = NULL;
	is_int(put_one(st, "ftjob-new"), 0, "the new file takes writes");
	is_int(sql_int(st, "PRAGMA user_version"), store_schema_version(), "and is migrated");

	st2 = store_open(other, &err);
	ok(st2 != NULL && put_one(st2, "ftjob-other") == 0, "another database");
	store_close(st2);
	is_int(rename(other, path), 0, "moved over the open one");
	is_int(store_check_file(st), -ESTALE, "replaced: -ESTALE");
	is_int(store_reopen(st, &err), 0, "reopened");
	is_int(store_job_resolve(st, "ftjob-other", &id, &why), 0,
	       "the store now reads the file that replaced it");
	free(why);
	why = NULL;
	is_int(store_job_resolve(st, "ftjob-new", &id, &why), -ENOENT,
	       "and nothing of the old file's WAL is read into it");
	free(why);
	why = NULL;

	unlink(path);
	is_int(rename(sub, moved), 0, "its directory moved away");
	ok(store_reopen(st, &err) < 0 && err && strstr(err, path),
	   "no directory: the reopen fails naming the file");
	is_int(store_check_file(st), -EBADF, "no file is open: -EBADF");
	is_int(store_begin(st), -EIO, "writes fail with -EIO");
	ok(strstr(store_errmsg(st), path) != NULL, "store_errmsg says why");
	ok(store_query_counts(st, &rc) == NULL && rc == -EIO, "queries fail with -EIO");
	ok(!store_in_transaction(st), "not in a transaction");
	store_rollback(st);
	free(err);
	err = NULL;
	is_int(rename(moved, sub), 0, "the directory is back");
	is_int(store_reopen(st, &err), 0, "the next reopen works");
	is_int(put_one(st, "ftjob-back"), 0, "and takes writes");
	store_close(st);
out:
	free(err);
	for (int i = 0; i < 6; i++) {
		char *f = xasprintf("%s%s", i < 3 ? path : other,
		                    (const char *[]){"", "-wal", "-shm"}[i % 3]);
		unlink(f);
		free(f);
	}
	rmdir(sub);
	rmdir(dir);
	free(sub);
	free(moved);
	free(path);
	free(other);
}

/* The jsonl source's resume state and bad lines (store_files.c). */
static void
test_jsonl_files(struct store *st, int64_t job)
{
	struct store_file_pos pos = {10, 20, 2, 4096, 37, 36, (char *)"sweep 1"}, got = {0};
	int rc;
	cJSON *j;

	is_int(store_file_put(st, "lab", "/r/a.jsonl", &pos, 5), -EINVAL,
	       "a file position needs a transaction");
	is_int(store_file_get(st, "lab", "/r/a.jsonl", &got), -ENOENT, "an unknown file: -ENOENT");
	j = store_query_job(st, job, &rc);
	ok(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "bad_lines")) == 0 &&
	           cJSON_IsNull(cJSON_GetObjectItem(j, "last_bad_line")),
	   "a job without bad lines: bad_lines 0, last_bad_line null");
	cJSON_Delete(j);
	store_begin(st);
	is_int(store_file_put(st, "lab", "/r/a.jsonl", &pos, 5), 0, "a file position is stored");
	pos.job = NULL;
	pos.last_step = -1;
	is_int(store_file_put(st, "lab", "/r/b.jsonl", &pos, 5), 0, "and another without job");
	is_int(store_job_bad_line(st, job, 3, "not JSON", 7), 0, "a bad line is counted");
	is_int(store_job_bad_line(st, job, 9, "step is not an integer in 0..2^53-1", 8), 0,
	       "and a second");
	store_commit(st);
	is_int(store_file_get(st, "lab", "/r/a.jsonl", &got), 0, "the position reads back");
	ok(got.dev == 10 && got.ino == 20 && got.generation == 2 && got.offset == 4096 &&
	           got.line == 37 && got.last_step == 36,
	   "  identity, generation, offset, line and implicit step");
	is_str(got.job, "sweep 1", "  and the \"job\" key");
	free(got.job);
	is_int(store_file_get(st, "lab", "/r/b.jsonl", &got), 0, "the other reads back");
	ok(got.job == NULL && got.last_step == -1, "  with no job and no step");
	is_int(store_file_get(st, "other", "/r/a.jsonl", &got), -ENOENT,
	       "positions are per source");
	j = store_query_job(st, job, &rc);
	is_int(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "bad_lines")), 2,
	       "the job reply counts its bad lines");
	is_int(cJSON_GetNumberValue(
	               cJSON_GetObjectItem(cJSON_GetObjectItem(j, "last_bad_line"), "line")),
	       9, "  the last one's line");
	is_str(cJSON_GetStringValue(
	               cJSON_GetObjectItem(cJSON_GetObjectItem(j, "last_bad_line"), "reason")),
	       "step is not an integer in 0..2^53-1", "  and its reason");
	cJSON_Delete(j);
}

/* Many jobs: the latest metrics come from one ordered scan; each job must
 * get exactly its own, jobs without points an empty object. */
static void
test_query_jobs_many(struct store *st)
{
	struct store_jobs_filter f = {.all = true};
	int64_t ids[100];
	int rc, good = 0, empty_ok = 0;
	cJSON *jobs, *j;

	store_begin(st);
	for (int i = 0; i < 100; i++) {
		char ext[32];
		snprintf(ext, sizeof(ext), "many-%03d", i);
		store_job_ensure(st, "many", ext, "running", &ids[i]);
		if (i % 3 != 0)
			store_insert_point(st, ids[i], "loss", 1, (double)i, 1000);
	}
	is_int(store_commit(st), 0, "many: 100 jobs, two thirds with a point");
	f.source = "many";
	jobs = store_query_jobs(st, &f, &rc);
	is_int(cJSON_GetArraySize(jobs), 100, "many: all listed");
	cJSON_ArrayForEach (j, jobs) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(j, "name"));
		int i = name ? atoi(name + strlen("many/many-")) : -1;
		cJSON *m = cJSON_GetObjectItem(j, "metrics");
		if (i % 3 == 0 && cJSON_IsObject(m) && cJSON_GetArraySize(m) == 0)
			empty_ok++;
		else if (i % 3 != 0 && cJSON_GetArraySize(m) == 1 &&
		         cJSON_GetObjectItem(m, "loss")->valuedouble == (double)i)
			good++;
		if (cJSON_GetObjectItem(j, "rowid") != NULL)
			good = -1000;
	}
	is_int(good, 66, "many: each job has its own latest value, no rowid left");
	is_int(empty_ok, 34, "many: jobs without points have an empty metrics object");
	cJSON_Delete(jobs);
}

/* The text of store_query_jobs_json is the bytes cJSON prints from
 * store_query_jobs' tree, for the filters `jobs` takes. */
static void
test_query_jobs_json_same(struct store *st, const struct store_jobs_filter *f, const char *what)
{
	struct buf b = BUF_INIT;
	int rc;
	size_t n = 12345;
	cJSON *tree = store_query_jobs(st, f, &rc);
	char *want = tree ? cJSON_PrintUnformatted(tree) : NULL;

	is_int(store_query_jobs_json(st, f, &b, &n), 0, "jobs json %s: written", what);
	is_str(b.data, want ? want : "(no tree)", "jobs json %s: the tree's bytes", what);
	is_int((int)n, cJSON_GetArraySize(tree), "jobs json %s: the count", what);
	cJSON_free(want);
	cJSON_Delete(tree);
	buf_free(&b);
}

static void
test_query_jobs_json(struct store *st)
{
	struct store_jobs_filter all = {.all = true}, recent = {0};
	struct store_jobs_filter many = {.source = "many", .all = true};
	struct store_jobs_filter running = {.status = "running"}, none = {.source = "nosuch"};
	int64_t id;

	store_begin(st);
	store_job_ensure(st, "odd", "q\"uote\tand \xc3\xa9", "failed", &id);
	store_insert_point(st, id, "a \"name\"", 3, 1.0 / 3, 1000);
	store_insert_point(st, id, "big", 3, 12345678901234567.0, 1000);
	store_insert_point(st, id, "neg", 3, -0.25, 1000);
	is_int(store_commit(st), 0, "jobs json: a job with escapes and odd values");
	test_query_jobs_json_same(st, &all, "all");
	test_query_jobs_json_same(st, &recent, "default");
	test_query_jobs_json_same(st, &many, "one source");
	test_query_jobs_json_same(st, &running, "one status");
	test_query_jobs_json_same(st, &none, "no match");
	/* Twice more: the kept statements are reset and rebound each time. */
	test_query_jobs_json_same(st, &running, "one status again");
	test_query_jobs_json_same(st, &all, "all again");
}

int
main(void)
{
	struct store *st = test_open();
	int64_t job = -1;

	test_open_fails();
	if (st == NULL)
		return tap_done();
	test_job_ensure(st, &job);
	test_job_update_change(st, job);
	test_job_update_keeps(st, job);
	test_points_insert(st, job);
	test_points_latest(st, job);
	test_query_metrics(st, job);
	test_query_downsample(st, job);
	test_events(st, job);
	test_checkpoints(st, job);
	test_resolve(st, job);
	test_query_jobs(st);
	test_query_jobs_many(st);
	test_query_jobs_json(st);
	test_job_state(st, job);
	test_rollback(st, job);
	test_errmsg_kept(st, job);
	test_jsonl_files(st, job);
	store_close(st);
	test_file_checks();
	return tap_done();
}
