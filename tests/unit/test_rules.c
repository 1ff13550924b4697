/*
 * test_rules: the rules engine on a real store and ingest with a fake
 * clock and a private loop: one alert per episode; a step that rolls back
 * leaves neither alert nor rule state (so a kill -9 repeats it cleanly);
 * points out of order within a step are evaluated in step order and older
 * ones skipped; a finished job gets only what its final state warrants;
 * finishing resolves threshold/stale/spike alerts but keeps nan; jobs globs
 * match SOURCE/ID and the bare id; an action is asked once after the commit
 * and an action left 'sent' by a crash is never asked again.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "clock.h"
#include "conf.h"
#include "ingest.h"
#include "rules.h"
#include "store.h"
#include "tap.h"
#include "testclock.h"
#include "testdb.h"

struct acts {
	int calls;
	int64_t alert_id;
	char action[16];
};

static void
test_act(void *data, int64_t alert_id, int64_t job_id, const char *action)
{
	struct acts *a = data;

	(void)job_id;
	a->calls++;
	a->alert_id = alert_id;
	snprintf(a->action, sizeof(a->action), "%s", action);
}

struct env {
	uv_loop_t loop;
	struct store *st;
	struct ingest *in;
	struct conf *conf;
	struct rules *rules;
	struct acts acts;
	char path[64];
};

static const char *const test_conf_text = "[source src]\n"
                                          "type = openai\n"
                                          "api_key_env = K\n"
                                          "[rule stale]\n"
                                          "enabled = no\n"
                                          "[rule acc]\n"
                                          "type = threshold\n"
                                          "metric = accuracy\n"
                                          "op = >=\n"
                                          "value = 0.9\n"
                                          "[rule other]\n"
                                          "type = threshold\n"
                                          "metric = accuracy\n"
                                          "op = >=\n"
                                          "value = 0.5\n"
                                          "jobs = elsewhere/*\n"
                                          "[rule bare]\n"
                                          "type = threshold\n"
                                          "metric = lr\n"
                                          "op = >\n"
                                          "value = 1\n"
                                          "jobs = job*\n"
                                          "action = cancel\n";

static void
env_open(struct env *e)
{
	char *err = NULL;

	memset(e, 0, sizeof(*e));
	snprintf(e->path, sizeof(e->path), "/tmp/test_rules.%ld.db", (long)getpid());
	unlink(e->path);
	uv_loop_init(&e->loop);
	e->st = store_open(e->path, &err);
	if (e->st == NULL)
		TAP_DIAG("store_open: %s", err);
	e->in = ingest_new(e->st, &fake_clock);
	e->conf = conf_load_string(test_conf_text, "t.conf", &err);
	if (e->conf == NULL)
		TAP_DIAG("conf: %s", err);
	e->rules = rules_new(&e->loop, e->in, e->st, &fake_clock, e->conf, test_act, &e->acts);
	rules_start(e->rules);
}

/* A restart: a new engine on the same database. */
static void
env_restart(struct env *e)
{
	rules_free(e->rules);
	uv_run(&e->loop, UV_RUN_NOWAIT);
	e->rules = rules_new(&e->loop, e->in, e->st, &fake_clock, e->conf, test_act, &e->acts);
	rules_start(e->rules);
	uv_run(&e->loop, UV_RUN_NOWAIT);
}

static void
env_close(struct env *e)
{
	rules_free(e->rules);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	uv_loop_close(&e->loop);
	ingest_free(e->in);
	store_close(e->st);
	conf_free(e->conf);
	unlink(e->path);
}

struct pt {
	const char *metric;
	int64_t step;
	double value;
};

/* One step for job SOURCE "src", id "job1" (or external) in status. */
static int
step(struct env *e, const char *external, const char *status, const struct pt *pts, size_t n)
{
	struct store_job_info info = STORE_JOB_INFO_INIT;
	int64_t id;
	int rc;

	info.status = status;
	if ((rc = ingest_begin(e->in)) < 0 ||
	    (rc = ingest_job(e->in, "src", external, status, &id)) < 0 ||
	    (rc = ingest_job_fields(e->in, id, &info, NULL)) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if ((rc = ingest_point(e->in, id, pts[i].metric, pts[i].step, pts[i].value)) < 0)
			goto fail;
	rc = ingest_commit(e->in);
	uv_run(&e->loop, UV_RUN_NOWAIT); /* the action timer, if any */
	return rc;
fail:
	ingest_rollback(e->in);
	return rc;
}

static int64_t
count(struct env *e, const char *where)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM alerts WHERE %s", where);
	return sql_int(e->st, sql);
}

static int64_t
events(struct env *e, const char *type)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE type = '%s'", type);
	return sql_int(e->st, sql);
}

static void
test_nan_episodes(struct env *e)
{
	struct pt a[] = {{"train_loss", 1, 1.0}, {"train_loss", 2, NAN}};
	struct pt b[] = {{"train_loss", 3, INFINITY}};
	struct pt c[] = {{"train_loss", 4, 0.9}};
	struct pt d[] = {{"train_loss", 5, NAN}};

	is_int(step(e, "job1", "running", a, 2), 0, "nan: a step with a NaN commits");
	is_int(count(e, "rule = 'nan' AND state = 'firing'"), 1, "nan: fires");
	is_int(events(e, "alert.fired"), 1, "nan: with one alert.fired event");
	step(e, "job1", "running", b, 1);
	is_int(count(e, "rule = 'nan'"), 1, "nan: the same episode does not fire again");
	env_restart(e);
	step(e, "job1", "running", b, 1);
	is_int(count(e, "rule = 'nan'"), 1, "nan: nor after a restart");
	step(e, "job1", "running", c, 1);
	is_int(count(e, "rule = 'nan' AND state = 'resolved'"), 1, "nan: a finite loss resolves");
	is_int(events(e, "alert.resolved"), 1, "nan: with one alert.resolved event");
	step(e, "job1", "running", d, 1);
	is_int(count(e, "rule = 'nan'"), 2, "nan: a new episode is a new alert");
	is_int(count(e, "rule = 'nan' AND state = 'firing' AND step = 5 AND value IS NULL"), 1,
	       "nan: the alert has the step, and NULL for the value");
}

/* Two losses NaN at once: one alert for (job, rule), resolved by its own
 * metric only. */
static void
test_one_per_rule(struct env *e)
{
	struct pt a[] = {{"train_loss", 1, NAN}, {"valid_loss", 1, NAN}};
	struct pt b[] = {{"valid_loss", 2, 1.0}};
	struct pt c[] = {{"train_loss", 3, 1.0}};

	step(e, "job7", "running", a, 2);
	is_int(count(e, "job = 'job7' AND rule = 'nan'"), 1,
	       "one per rule: two NaN losses, one alert");
	step(e, "job7", "running", b, 1);
	is_int(count(e, "job = 'job7' AND state = 'firing'"), 1,
	       "one per rule: the other loss recovering does not resolve it");
	step(e, "job7", "running", c, 1);
	is_int(count(e, "job = 'job7' AND state = 'resolved'"), 1,
	       "one per rule: its own metric recovering does");
}

/* A txn observer after the engine that fails: the whole step rolls back. */
static int fail_next;

static int
test_failing_txn(void *data, struct store *st, const struct ingest_batch *b)
{
	(void)data;
	(void)st;
	(void)b;
	return fail_next ? -EIO : 0;
}

static void
test_rollback(struct env *e)
{
	struct pt a[] = {{"train_loss", 1, 1.0}, {"train_loss", 2, NAN}};
	int64_t states;

	ingest_observe_txn(e->in, test_failing_txn, NULL);
	fail_next = 1;
	ok(step(e, "job2", "running", a, 2) < 0, "rollback: a failing observer fails the step");
	is_int(count(e, "job = 'job2'"), 0, "rollback: no alert survives it");
	states = sql_int(e->st, "SELECT count(*) FROM rule_state s JOIN jobs j ON j.id = s.job_id"
	                        " WHERE j.external_id = 'job2'");
	is_int(states, 0, "rollback: nor any rule state");
	fail_next = 0;
	is_int(step(e, "job2", "running", a, 2), 0, "rollback: the repeated step commits");
	is_int(count(e, "job = 'job2' AND rule = 'nan'"), 1, "rollback: and fires once");
	ingest_unobserve_txn(e->in, test_failing_txn, NULL);
}

static void
test_order(struct env *e)
{
	/* Given out of order within a step: evaluated in step order. */
	struct pt a[] = {{"train_loss", 9, 1.0}, {"train_loss", 8, NAN}, {"train_loss", 7, 1.0}};
	struct pt b[] = {{"train_loss", 3, NAN}};

	step(e, "job3", "running", a, 3);
	is_int(count(e, "job = 'job3' AND rule = 'nan' AND step = 8 AND state = 'resolved'"), 1,
	       "order: NaN at 8 then finite at 9 fired and resolved (a running job: news)");
	step(e, "job3", "running", b, 1);
	is_int(count(e, "job = 'job3'"), 1,
	       "order: an older step than the rule has seen is skipped");
}

static void
test_finished_late(struct env *e)
{
	struct pt a[] = {{"train_loss", 10, NAN}, {"train_loss", 11, 1.0}};
	struct pt b[] = {{"train_loss", 20, NAN}, {"train_loss", 19, NAN}};

	step(e, "job4", "succeeded", NULL, 0);
	step(e, "job4", "succeeded", a, 2);
	is_int(count(e, "job = 'job4'"), 0,
	       "late: an episode that begins and ends in a finished job's late points is not news");
	step(e, "job4", "succeeded", b, 2);
	is_int(count(e, "job = 'job4' AND rule = 'nan' AND state = 'firing'"), 1,
	       "late: a finished job still ending in NaN gets its alert");
	is_int(count(e, "job = 'job4' AND rule = 'nan' AND step = 19"), 1,
	       "late: dated at the episode's first step");
}

static void
test_finish_resolves(struct env *e)
{
	struct pt a[] = {{"accuracy", 1, 0.95}, {"train_loss", 1, NAN}};

	step(e, "job5", "running", a, 2);
	is_int(count(e, "job = 'job5' AND state = 'firing'"), 2,
	       "finish: threshold and nan firing");
	step(e, "job5", "succeeded", NULL, 0);
	is_int(count(e, "job = 'job5' AND rule = 'acc' AND state = 'resolved'"), 1,
	       "finish: the job's end resolves the threshold alert");
	is_int(count(e, "job = 'job5' AND rule = 'nan' AND state = 'firing'"), 1,
	       "finish: and keeps the nan alert as the record");
	is_int(sql_int(e->st, "SELECT count(*) FROM events WHERE type = 'alert.resolved'"
	                      " AND message = 'the job finished'"),
	       1, "finish: the resolved event says why");
}

static void
test_globs_and_action(struct env *e)
{
	struct pt a[] = {{"accuracy", 1, 0.6}, {"lr", 1, 2.0}};
	int64_t id;

	step(e, "job6", "running", a, 2);
	is_int(count(e, "job = 'job6' AND rule = 'other'"), 0,
	       "jobs: a glob over another source does not match");
	is_int(count(e, "job = 'job6' AND rule = 'bare'"), 1,
	       "jobs: a glob over the bare id matches");
	id = sql_int(e->st, "SELECT id FROM alerts WHERE job = 'job6' AND rule = 'bare'");
	is_int(e->acts.calls, 1, "action: asked once after the commit");
	is_int(e->acts.alert_id, id, "action: for that alert");
	is_str(e->acts.action, "cancel", "action: cancel");
	is_int(sql_int(e->st, "SELECT action_state = 'sent' FROM alerts WHERE rule = 'bare'"), 1,
	       "action: marked sent before asking");
	rules_action_done(e->rules, id, 0, "HTTP 200");
	is_int(sql_int(e->st, "SELECT action_state = 'done' FROM alerts WHERE rule = 'bare'"), 1,
	       "action: the outcome is recorded");
	/* A crash between asking and the answer: 'sent' at the next start. */
	ingest_begin(e->in);
	store_alert_set_action(e->st, id, "sent", NULL);
	ingest_commit(e->in);
	env_restart(e);
	is_int(e->acts.calls, 1, "action: a restart does not ask again");
	is_int(sql_int(e->st, "SELECT action_state = 'failed' FROM alerts WHERE rule = 'bare'"), 1,
	       "action: it marks the outcome unknown (failed) instead");
	/* A crash after the commit, before 'sent': sent at the next start. */
	ingest_begin(e->in);
	store_alert_set_action(e->st, id, "pending", NULL);
	ingest_commit(e->in);
	uv_run(&e->loop, UV_RUN_NOWAIT); /* nothing is due: no step wrote an action */
	is_int(e->acts.calls, 1, "action: a pending action is not sent by an unrelated step");
	env_restart(e);
	is_int(e->acts.calls, 2, "action: a pending action left by a crash is sent at start");
	is_int(sql_int(e->st, "SELECT action_state = 'sent' FROM alerts WHERE rule = 'bare'"), 1,
	       "action: and marked sent");
}

int
main(void)
{
	struct env e;

	env_open(&e);
	test_nan_episodes(&e);
	test_one_per_rule(&e);
	test_rollback(&e);
	test_order(&e);
	test_finished_late(&e);
	test_finish_resolves(&e);
	test_globs_and_action(&e);
	env_close(&e);
	return tap_done();
}
