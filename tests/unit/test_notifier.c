/*
 * test_notifier: delivery rows are written inside the step that wrote the
 * event (contract 4), one per subscribed hook, also for events an earlier
 * txn observer wrote (the rules engine's alert events); a rolled-back step
 * leaves none and is seen again; message events get none; the dispatcher
 * runs exec hooks and records each outcome; reload drops a hook from
 * status and leaves its pending rows alone.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <uv.h>

#include "clock.h"
#include "conf.h"
#include "http.h"
#include "ingest.h"
#include "notifier.h"
#include "store.h"
#include "tap.h"
#include "testdb.h"

static const char conf_text[] = "[daemon]\n"
                                "database = /x.db\nsocket = /x.sock\n"
                                "[hook fin]\ntype = exec\ncommand = /bin/true\n"
                                "events = job.finished alert.fired\n"
                                "[hook all]\ntype = exec\ncommand = /bin/true\n"
                                "[hook bad]\ntype = exec\ncommand = /bin/false\n"
                                "events = job.discovered\nmax_attempts = 1\n"
                                "[hook gone]\ntype = exec\ncommand = /nonexistent/hook\n"
                                "events = job.discovered\nmax_attempts = 1\n";

/* Stands in for the rules engine: an alert and its event in the step. */
static int
rules_cb(void *data, struct store *st, const struct ingest_batch *b)
{
	int *on = data;

	if (!*on || b->njobs == 0)
		return 0;
	return store_insert_event(st, b->job_ids[0], NULL, "alert.fired", NULL, "nan",
	                          "{\"alert_id\":77}", 1700000000, NULL) < 0
	               ? -EIO
	               : 0;
}

static int64_t
rows(struct store *st, const char *hook)
{
	char sql[200];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM deliveries WHERE hook = '%s'", hook);
	return sql_int(st, sql);
}

static void
timeout_cb(uv_timer_t *t)
{
	uv_stop(t->loop);
}

/* Run the loop until cond holds, at most 10 s. */
static bool
run_until(uv_loop_t *loop, struct store *st, const char *cond_sql)
{
	uv_timer_t t;
	bool met = false;

	uv_timer_init(loop, &t);
	for (int i = 0; i < 200 && !(met = sql_int(st, cond_sql) == 1); i++) {
		uv_timer_start(&t, timeout_cb, 50, 0);
		uv_run(loop, UV_RUN_DEFAULT);
	}
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return met;
}

static void
test_rows(struct store *st, struct ingest *in, int *rules_on)
{
	int64_t job_id;
	struct store_job_info fin = STORE_JOB_INFO_INIT;

	ingest_begin(in);
	ingest_job(in, "src", "job-1", "running", &job_id);
	ingest_event(in, job_id, "ev-api-1", "message", "info", "hello", NULL, 1700000000);
	is_int(ingest_commit(in), 0, "a step with a new job commits");
	is_int(rows(st, "all"), 1, "all: one row (job.discovered; message events get none)");
	is_int(rows(st, "fin"), 0, "fin: none (not subscribed)");
	is_int(rows(st, "bad"), 1, "bad: one");

	/* A rolled-back step leaves nothing, and its event ids come back. */
	ingest_begin(in);
	ingest_job(in, "src", "job-2", "running", &job_id);
	ingest_rollback(in);
	is_int(rows(st, "all"), 1, "a rolled-back step wrote no delivery");

	*rules_on = 1;
	ingest_begin(in);
	ingest_job(in, "src", "job-3", "running", &job_id);
	fin.status = "succeeded";
	ingest_job_fields(in, job_id, &fin, NULL);
	is_int(ingest_commit(in), 0, "a step where rules also writes an alert event commits");
	*rules_on = 0;
	/* job.discovered, job.status, job.finished, alert.fired */
	is_int(rows(st, "all"), 5, "all: every hookable event of the step, the alert's too");
	is_int(rows(st, "fin"), 2, "fin: job.finished and alert.fired");
	is_int(sql_int(st, "SELECT count(*) FROM deliveries WHERE event = 'alert.fired' AND "
	                   "alert_id = 77"),
	       2, "the alert rows name their alert");
	is_int(sql_int(st, "SELECT count(DISTINCT event_id) FROM deliveries"), 5,
	       "one event id per event, shared by its hooks");
	is_int(sql_int(st, "SELECT count(*) FROM deliveries WHERE payload LIKE '{\"id\":\"ev_%'"),
	       sql_int(st, "SELECT count(*) FROM deliveries"), "payloads are stored with the row");
}

int
main(void)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", &err);
	struct conf *conf = conf_load_string(conf_text, "test.conf", &err);
	uv_loop_t *loop = uv_default_loop();
	struct ingest *in;
	struct http *http;
	struct notifier *n;
	int rules_on = 0;
	cJSON *status;

	if (st == NULL || conf == NULL) {
		printf("Bail out! %s\n", err);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN); /* as ftmond: /bin/true does not read its stdin */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	in = ingest_new(st, &clock_system);
	http = http_new(loop);
	ingest_observe_txn(in, rules_cb, &rules_on);
	n = notifier_new(loop, in, st, http, &clock_system, conf, &err);
	ok(n != NULL, "notifier_new");
	test_rows(st, in, &rules_on);

	ok(run_until(
	           loop, st,
	           "SELECT count(*) = 0 FROM deliveries WHERE state = 'pending' AND hook != 'bad'"),
	   "the dispatcher runs the exec hooks");
	is_int(sql_int(st, "SELECT count(*) FROM deliveries WHERE hook IN ('all', 'fin') AND "
	                   "state = 'delivered' AND attempts = 1"),
	       7, "exit 0: delivered after one attempt");
	ok(run_until(loop, st,
	             "SELECT count(*) = 2 FROM deliveries WHERE hook = 'bad' AND state = 'failed'"),
	   "exit 1 with max_attempts = 1: failed");
	ok(run_until(loop, st,
	             "SELECT count(*) = 2 FROM deliveries WHERE hook = 'gone' AND state = 'failed' "
	             "AND last_error LIKE 'cannot run /nonexistent/hook: %'"),
	   "a command that cannot be spawned: failed, with the reason");
	status = cJSON_CreateObject();
	notifier_describe(n, status);
	is_int(cJSON_GetArraySize(cJSON_GetObjectItem(status, "hooks")), 4, "status: four hooks");
	cJSON_Delete(status);

	/* Reload without "all": it leaves status; a new event skips it. */
	conf_free(conf);
	conf = conf_load_string("[hook fin]\ntype = exec\ncommand = /bin/true\n", "t2", &err);
	notifier_reload(n, conf);
	status = cJSON_CreateObject();
	notifier_describe(n, status);
	is_int(cJSON_GetArraySize(cJSON_GetObjectItem(status, "hooks")), 1,
	       "after a reload: the one hook left");
	cJSON_Delete(status);
	{
		int64_t job_id;
		ingest_begin(in);
		ingest_job(in, "src", "job-4", "running", &job_id);
		ingest_commit(in);
	}
	is_int(rows(st, "all"), 5, "a removed hook gets no new rows");
	is_int(rows(st, "fin"), 3, "the remaining hook does");

	notifier_free(n);
	http_free(http);
	uv_run(loop, UV_RUN_DEFAULT);
	ok(uv_loop_close(loop) == 0, "every handle closed");
	ingest_free(in);
	store_close(st);
	conf_free(conf);
	curl_global_cleanup();
	return tap_done();
}
