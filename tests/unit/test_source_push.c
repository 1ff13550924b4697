/*
 * test_source_push: the push source on a real loop and an in-memory store:
 * requests of one loop turn commit in one step and are answered only after
 * it, in order; a point without a step takes the next one (also after the
 * source is rebuilt on the same store); duplicates are not new; status
 * ends the job; a failed step answers every request in it with the error
 * and leaves nothing behind; a cancelled request is stored, not answered;
 * destroy stores and answers what is queued.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "clock.h"
#include "conf.h"
#include "ingest.h"
#include "logreq.h"
#include "source.h"
#include "source_push.h"
#include "store.h"
#include "tap.h"
#include "testdb.h"

static uv_loop_t loop;
static struct store *st;
static struct ingest *in;
static struct source_env env;
static struct conf_source cs = {.name = "push", .type = CONF_SOURCE_PUSH};

/* What the answers said, in the order they came. */
static struct {
	int n;
	int rc[16];
	char who[16];
	size_t values[16], fresh[16];
	char why[128];
} A;

static void
done_cb(void *data, int rc, const struct source_log_result *res, const char *why)
{
	int i = A.n++;

	A.rc[i] = rc;
	A.who[i] = *(const char *)data;
	A.values[i] = res ? res->values : 0;
	A.fresh[i] = res ? res->new_values : 0;
	if (why)
		snprintf(A.why, sizeof(A.why), "%s", why);
}

/* Queue a log request from JSON arguments; 0 or the op's error. */
static int
push(struct source *s, const char *json, const char *who)
{
	cJSON *args = cJSON_Parse(json);
	struct logreq req;
	char *why = NULL;
	int rc;

	if (logreq_parse(args, &req, &why) < 0) {
		TAP_DIAG("bad test request %s: %s", json, why);
		free(why);
		cJSON_Delete(args);
		return -EINVAL;
	}
	rc = s->ops->log(s, req.job, &req, done_cb, (void *)who, &why);
	free(why);
	logreq_clear(&req);
	cJSON_Delete(args);
	return rc;
}

static int
fail_txn(void *data, struct store *s, const struct ingest_batch *b)
{
	return -EIO;
}

static double
counter(struct source *s, const char *name)
{
	cJSON *o = s->ops->status(s);
	double v = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "counters"), name)->valuedouble;

	cJSON_Delete(o);
	return v;
}

static int64_t
count(const char *sql)
{
	return sql_int(st, sql);
}

static void
test_batching(struct source *s)
{
	static const char a = 'a', b = 'b', c = 'c';

	ok(push(s, "{\"job\":\"r1\",\"step\":1,\"metrics\":{\"loss\":2,\"acc\":\"nan\"}}", &a) ==
	                   0 &&
	           push(s, "{\"job\":\"r1\",\"metrics\":{\"loss\":1.5}}", &b) == 0 &&
	           push(s,
	                "{\"job\":\"r2\",\"points\":[{\"step\":5,\"metrics\":{\"x\":1}},"
	                "{\"step\":1,\"metrics\":{\"x\":2}}]}",
	                &c) == 0,
	   "three requests queued");
	is_int(A.n, 0, "none answered from inside log()");
	is_int(count("SELECT count(*) FROM points"), 0, "nothing stored before the turn");
	uv_run(&loop, UV_RUN_NOWAIT);
	is_int(A.n, 3, "one turn answers all three");
	ok(A.who[0] == 'a' && A.who[1] == 'b' && A.who[2] == 'c', "in the order they were made");
	ok(A.rc[0] == 0 && A.rc[1] == 0 && A.rc[2] == 0, "all stored");
	ok(A.values[0] == 2 && A.fresh[0] == 2 && A.values[2] == 2 && A.fresh[2] == 2,
	   "values and new values counted per request");
	is_int(counter(s, "commits"), 1, "in one commit");
	is_int(count("SELECT count(*) FROM metric_points WHERE job = 'r1' AND step = 2 AND "
	             "metric = 'loss' AND value = 1.5"),
	       1, "a point without a step takes the next step");
	is_int(count("SELECT count(*) FROM metric_points WHERE job = 'r1' AND metric = 'acc' AND "
	             "value IS NULL"),
	       1, "nan stored as NULL");
	is_int(count("SELECT count(*) FROM jobs WHERE status = 'running'"), 2,
	       "both jobs created running");

	A.n = 0;
	push(s, "{\"job\":\"r1\",\"step\":1,\"metrics\":{\"loss\":9}}", &a);
	push(s, "{\"job\":\"r2\",\"metrics\":{\"x\":3}}", &b);
	uv_run(&loop, UV_RUN_NOWAIT);
	ok(A.n == 2 && A.fresh[0] == 0, "a duplicate step is not new");
	is_int(count("SELECT value FROM metric_points WHERE job = 'r1' AND step = 1 AND "
	             "metric = 'loss'"),
	       2, "and leaves the stored value");
	is_int(count("SELECT count(*) FROM metric_points WHERE job = 'r2' AND step = 6"), 1,
	       "the next step follows the highest step, not the last sent");
}

static void
test_failed_step(struct source *s)
{
	static const char a = 'a', b = 'b';
	int64_t before = count("SELECT count(*) FROM points");

	A.n = 0;
	ingest_observe_txn(in, fail_txn, NULL);
	push(s, "{\"job\":\"new1\",\"step\":1,\"metrics\":{\"m\":1}}", &a);
	push(s, "{\"job\":\"r1\",\"metrics\":{\"m\":1}}", &b);
	uv_run(&loop, UV_RUN_NOWAIT);
	ingest_unobserve_txn(in, fail_txn, NULL);
	ok(A.n == 2 && A.rc[0] < 0 && A.rc[1] < 0, "a failed step answers each of its requests "
	                                           "with the error");
	ok(strstr(A.why, "storing pushed points failed") != NULL, "saying why");
	is_int(count("SELECT count(*) FROM points"), before, "and stores nothing");
	is_int(count("SELECT count(*) FROM jobs WHERE external_id = 'new1'"), 0,
	       "not even the new job");
	is_int(counter(s, "failed_commits"), 1, "counted");
	cJSON *o = s->ops->status(s);
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(o, "health")), "error", "health: error");
	cJSON_Delete(o);

	A.n = 0;
	push(s, "{\"job\":\"new1\",\"metrics\":{\"m\":1}}", &a);
	uv_run(&loop, UV_RUN_NOWAIT);
	ok(A.n == 1 && A.rc[0] == 0, "the next step works");
	is_int(count("SELECT step FROM metric_points WHERE job = 'new1'"), 0,
	       "and the job the failed step made is made again, from step 0");
	o = s->ops->status(s);
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(o, "health")), "ok", "health: ok again");
	cJSON_Delete(o);
}

static void
test_cancel_status_destroy(struct source *s)
{
	static const char a = 'a', b = 'b';

	A.n = 0;
	push(s, "{\"job\":\"gone\",\"step\":1,\"metrics\":{\"m\":1}}", &a);
	push(s, "{\"job\":\"r1\",\"status\":\"succeeded\"}", &b);
	s->ops->log_cancel(s, (void *)&a);
	uv_run(&loop, UV_RUN_NOWAIT);
	ok(A.n == 1 && A.who[0] == 'b', "a cancelled request is not answered");
	is_int(count("SELECT count(*) FROM metric_points WHERE job = 'gone'"), 1,
	       "but its point is stored");
	is_int(count("SELECT count(*) FROM jobs WHERE external_id = 'r1' AND status = 'succeeded' "
	             "AND finished_at IS NOT NULL"),
	       1, "status ends the job");
	is_int(count("SELECT count(*) FROM events e JOIN jobs j ON j.id = e.job_id WHERE "
	             "j.external_id = 'r1' AND e.type = 'job.finished'"),
	       1, "with job.finished");

	A.n = 0;
	push(s, "{\"job\":\"last\",\"step\":3,\"metrics\":{\"m\":1}}", &a);
	s->ops->destroy(s);
	ok(A.n == 1 && A.rc[0] == 0, "destroy stores and answers what was queued");
	uv_run(&loop, UV_RUN_DEFAULT);
}

int
main(void)
{
	char *err = NULL;
	struct source *s;

	uv_loop_init(&loop);
	st = store_open(":memory:", &err);
	in = ingest_new(st, &clock_system);
	env = (struct source_env){&loop, in, st, NULL, &clock_system};
	s = source_push_new(&cs, &env, &err);
	ok(s->ops->start(s, &err) == 0, "starts");
	test_batching(s);
	test_failed_step(s);
	test_cancel_status_destroy(s);

	/* A new source on the same store resumes a job's last step. */
	static const char a = 'a';
	s = source_push_new(&cs, &env, &err);
	A.n = 0;
	push(s, "{\"job\":\"r2\",\"metrics\":{\"x\":4}}", &a);
	uv_run(&loop, UV_RUN_NOWAIT);
	is_int(count("SELECT count(*) FROM metric_points WHERE job = 'r2' AND step = 7"), 1,
	       "after a restart a point without a step follows the stored last step");
	s->ops->destroy(s);
	uv_run(&loop, UV_RUN_DEFAULT);
	is_int(uv_loop_close(&loop), 0, "every handle closed");
	ingest_free(in);
	store_close(st);
	return tap_done();
}
