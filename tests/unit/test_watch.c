/*
 * test_watch: the watch streams (watch.c) behind the real transport
 * (control.c) on a private loop, with a store on ":memory:" written
 * through ingest and a fake clock.  A stub dispatch starts a stream per
 * request line ("all", or "job N").  Every wait is bounded (TEST_WAIT_MS)
 * and waits for an event; "no line for that client" is proved by a later
 * line that arrives first.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "buf.h"
#include "clock.h"
#include "control.h"
#include "ingest.h"
#include "log.h"
#include "proto.h"
#include "store.h"
#include "tap.h"
#include "testclock.h"
#include "testsock.h"
#include "watch.h"
#include "xmalloc.h"

#define TEST_WAIT_MS 5000

static uv_loop_t test_loop;
static uv_timer_t test_tick;
static char test_dir[64], test_path[100];
static struct {
	struct store *st;
	struct ingest *in;
	struct watch *w;
	struct control *ctl;
} H;

struct test_cli {
	int fd;
	struct buf b;
	bool eof;
	cJSON *line; /* the last line read */
};

static void
test_tick_cb(uv_timer_t *t)
{
}

/* "all" or "job N": start a stream. */
static void
test_dispatch_cb(void *data, struct control_client *cl, const char *line, size_t len)
{
	long long id = 0;
	cJSON *rid = cJSON_CreateNumber(7);

	if (len > 4 && memcmp(line, "job ", 4) == 0)
		id = strtoll(line + 4, NULL, 10);
	watch_add(H.w, cl, rid, id, id ? "alpha/job" : NULL);
	cJSON_Delete(rid);
}

static bool
test_cli_has_line(void *arg)
{
	struct test_cli *c = arg;

	testsock_read(c->fd, &c->b, &c->eof);
	return c->b.len > 0 && memchr(c->b.data, '\n', c->b.len) != NULL;
}

/* The next line of c parsed into c->line, or NULL after TEST_WAIT_MS. */
static cJSON *
test_cli_next(struct test_cli *c)
{
	char *nl;

	cJSON_Delete(c->line);
	c->line = NULL;
	if (!testsock_pump_until(&test_loop, TEST_WAIT_MS, test_cli_has_line, c))
		return NULL;
	nl = memchr(c->b.data, '\n', c->b.len);
	c->line = cJSON_ParseWithLength(c->b.data, (size_t)(nl - c->b.data));
	buf_consume(&c->b, (size_t)(nl - c->b.data) + 1);
	return c->line;
}

static void
test_cli_open(struct test_cli *c, const char *req)
{
	memset(c, 0, sizeof(*c));
	c->fd = testsock_connect(test_path);
	testsock_write(&test_loop, TEST_WAIT_MS, c->fd, req, strlen(req));
}

static void
test_cli_close(struct test_cli *c)
{
	close(c->fd);
	buf_free(&c->b);
	cJSON_Delete(c->line);
}

static const char *
test_str(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
	return s ? s : "(none)";
}

static double
test_num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : -999;
}

static bool
test_count_is(void *arg)
{
	return watch_count(H.w) == *(size_t *)arg;
}

/* One step: job (created running if new) and its points. */
static int64_t
test_step(const char *ext, const int64_t *steps, const double *values, const char *const *names,
          size_t n)
{
	int64_t job;

	ingest_begin(H.in);
	ingest_job(H.in, "alpha", ext, "running", &job);
	for (size_t i = 0; i < n; i++)
		ingest_point(H.in, job, names[i], steps[i], values[i]);
	if (ingest_commit(H.in) < 0)
		printf("Bail out! commit: %s\n", ingest_errmsg(H.in));
	return job;
}

static void
test_streams(void)
{
	static const char *const names[] = {"train_loss", "train_loss", "valid_loss", "acc"};
	static const int64_t steps[] = {1, 2, 2, 2};
	const double values[] = {2.5, 2.25, 2.75, NAN};
	struct test_cli all, one;
	size_t want = 2;
	int64_t a, b;
	cJSON *l, *m;

	/* Job b exists before the streams start, so its id is known. */
	b = test_step("b", NULL, NULL, NULL, 0);
	test_cli_open(&all, "all\n");
	l = test_cli_next(&all);
	ok(l && cJSON_IsTrue(cJSON_GetObjectItem(l, "ok")), "watch is acknowledged");
	is_str(test_str(cJSON_GetObjectItem(l, "result"), "watching"), "all", "watching all");
	is_int((int)test_num(l, "id"), 7, "with the request's id");
	{
		char req[32];
		snprintf(req, sizeof(req), "job %lld\n", (long long)b);
		test_cli_open(&one, req);
	}
	l = test_cli_next(&one);
	is_str(test_str(cJSON_GetObjectItem(l, "result"), "watching"), "alpha/job",
	       "a job stream names its job");
	ok(testsock_pump_until(&test_loop, TEST_WAIT_MS, test_count_is, &want), "two streams");

	a = test_step("a", steps, values, names, 4);
	ok(a != b, "a new job");
	l = test_cli_next(&all);
	is_str(test_str(l, "event"), "points", "the points come first");
	is_str(test_str(l, "job"), "alpha/a", "named SOURCE/EXTERNAL_ID");
	is_int((int)test_num(l, "points"), 4, "four points coalesced into one line");
	is_int((int)test_num(l, "step"), 2, "the job's newest step");
	is_str(test_str(l, "status"), "running", "its status");
	is_int((int)test_num(l, "time"), (int)fake_now, "stamped with the clock");
	m = cJSON_GetObjectItem(l, "metrics");
	is_double(test_num(m, "train_loss"), 2.25, 1e-9, "each metric at its newest step");
	is_double(test_num(m, "valid_loss"), 2.75, 1e-9, "every metric of the step");
	ok(cJSON_IsNull(cJSON_GetObjectItem(m, "acc")), "NaN as null");
	l = test_cli_next(&all);
	is_str(test_str(l, "event"), "job.discovered", "then the job's event");
	is_str(test_str(l, "job"), "alpha/a", "of that job");
	is_str(test_str(cJSON_GetObjectItem(l, "data"), "status"), "running", "its data parsed");
	ok(test_num(l, "id") > 0, "with its event id");

	/* b's stream saw nothing of a: its next line is b's. */
	test_step("b", steps, values, names, 1);
	l = test_cli_next(&one);
	is_str(test_str(l, "job"), "alpha/b", "a job's stream skips other jobs' lines");
	is_int((int)test_num(l, "points"), 1, "and gets its job's points");
	l = test_cli_next(&all);
	is_str(test_str(l, "job"), "alpha/b", "the all stream gets them too");

	/* A step without new points (a duplicate) is not a line. */
	test_step("b", steps, values, names, 1);
	ingest_begin(H.in);
	ingest_job_fields(H.in, b,
	                  &(struct store_job_info){.status = "succeeded",
	                                           .model = NULL,
	                                           .fine_tuned_model = NULL,
	                                           .error = NULL,
	                                           .created_at = -1,
	                                           .finished_at = -1,
	                                           .total_steps = -1,
	                                           .trained_tokens = -1,
	                                           .estimated_finish = -1},
	                  NULL);
	ingest_commit(H.in);
	l = test_cli_next(&one);
	is_str(test_str(l, "event"), "job.status",
	       "a duplicate point sends nothing; a status does");
	is_str(test_str(cJSON_GetObjectItem(l, "data"), "status"), "succeeded", "the new status");
	l = test_cli_next(&one);
	is_str(test_str(l, "event"), "job.finished", "and the finish");

	test_cli_close(&one);
	want = 1;
	ok(testsock_pump_until(&test_loop, TEST_WAIT_MS, test_count_is, &want),
	   "a client that leaves is forgotten");
	test_step("a", (const int64_t[]){3}, (const double[]){1.5}, names, 1);
	/* b's lines are still queued for the all stream. */
	for (int i = 0; i < 3 && (l = test_cli_next(&all)) && strcmp(test_str(l, "job"), "alpha/a");
	     i++)
		;
	is_int((int)test_num(l, "step"), 3, "the others still stream");
	test_cli_close(&all);
	want = 0;
	ok(testsock_pump_until(&test_loop, TEST_WAIT_MS, test_count_is, &want), "none left");
}

/* A client that never reads is dropped at the stream cap, not the loop. */
static void
test_overflow(void)
{
	struct test_cli slow;
	size_t want = 1, zero = 0;
	char name[32];
	bool eof = false;
	int n = 0;

	control_set_stream_limit(H.ctl, 4096);
	test_cli_open(&slow, "all\n");
	ok(testsock_pump_until(&test_loop, TEST_WAIT_MS, test_count_is, &want), "a slow stream");
	for (int i = 0; i < 4000 && watch_count(H.w) > 0; i++) {
		snprintf(name, sizeof(name), "over%d", i);
		test_step(name, (const int64_t[]){1}, (const double[]){1.0},
		          (const char *const[]){"loss"}, 1);
		uv_run(&test_loop, UV_RUN_NOWAIT);
	}
	ok(testsock_pump_until(&test_loop, TEST_WAIT_MS, test_count_is, &zero),
	   "is dropped past the cap");
	testsock_pump_until(&test_loop, TEST_WAIT_MS, test_cli_has_line, &slow);
	while (!eof && test_cli_next(&slow) != NULL) {
		const cJSON *e = cJSON_GetObjectItem(slow.line, "error");
		eof = strcmp(test_str(e, "code"), PROTO_E_OVERFLOW) == 0;
		n++;
	}
	ok(eof, "with an overflow error as its last line (after %d lines)", n);
	test_cli_close(&slow);
	control_set_stream_limit(H.ctl, CONTROL_MAX_STREAM_OUTPUT);
}

static bool
test_true(void *arg)
{
	return (*(int *)arg)-- <= 0;
}

int
main(void)
{
	char *err = NULL;
	int spins = 5;
	size_t one = 1;
	struct test_cli held;

	snprintf(test_dir, sizeof(test_dir), "/tmp/test_watch.XXXXXX");
	if (mkdtemp(test_dir) == NULL || uv_loop_init(&test_loop) < 0) {
		printf("Bail out! setup: %s\n", strerror(errno));
		return 1;
	}
	log_set_level(LOG_LEVEL_ERR);
	/* As in the daemon: a peer gone is an error return, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	uv_timer_init(&test_loop, &test_tick);
	uv_timer_start(&test_tick, test_tick_cb, 2, 2);
	snprintf(test_path, sizeof(test_path), "%s/ctl.sock", test_dir);
	if ((H.st = store_open(":memory:", &err)) == NULL) {
		printf("Bail out! store_open: %s\n", err);
		return 1;
	}
	H.in = ingest_new(H.st, &fake_clock);
	H.w = watch_new(H.in, H.st, &fake_clock);
	H.ctl = control_new(&test_loop, -1, test_path, 0600, test_dispatch_cb, NULL, &err);
	if (H.ctl == NULL) {
		printf("Bail out! control_new: %s\n", err);
		return 1;
	}
	test_streams();
	test_overflow();

	/* watch_free with a stream still held releases it. */
	test_cli_open(&held, "all\n");
	ok(testsock_pump_until(&test_loop, TEST_WAIT_MS, test_count_is, &one), "held at the end");
	watch_free(H.w);
	H.w = NULL;
	control_free(H.ctl);
	testsock_pump_until(&test_loop, TEST_WAIT_MS, test_true, &spins);
	test_cli_close(&held);
	ingest_free(H.in);
	store_close(H.st);
	uv_close((uv_handle_t *)&test_tick, NULL);
	uv_run(&test_loop, UV_RUN_DEFAULT);
	is_int(uv_loop_close(&test_loop), 0, "every handle closed");
	rmdir(test_dir);
	return tap_done();
}
