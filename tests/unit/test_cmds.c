/*
 * test_cmds: the control command table (cmds.c) behind the real transport
 * (control.c) on a private loop, with a store on ":memory:", a stub
 * cmds_host and two stub sources.  A test client writes request lines and
 * reads reply lines over the socket.  Every wait is bounded (TEST_WAIT_MS)
 * and waits for an event, never a delay; "nothing happened yet" is read
 * from the stubs' own state.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <uv.h>

#include "buf.h"
#include "clock.h"
#include "cmds.h"
#include "conf.h"
#include "control.h"
#include "ingest.h"
#include "log.h"
#include "proto.h"
#include "source.h"
#include "store.h"
#include "tap.h"
#include "testdb.h"
#include "testsock.h"
#include "watch.h"
#include "xmalloc.h"

#define TEST_WAIT_MS 5000
/* The stub's track answer: rc 0, -ENOENT, or never (the test waits for a
 * cancel instead). */
#define TEST_NEVER 1

static uv_loop_t test_loop;
static uv_timer_t test_tick; /* keeps UV_RUN_ONCE from blocking for long */
static char test_dir[64], test_path[100];

struct test_cli {
	int fd;
	struct buf b;
	bool eof;
};

/* A stub source; base first, so the source_ops get it back by a cast. */
struct test_src {
	struct source base;
	int npoll;
	int64_t last_poll;
	int nuntrack;
	int64_t last_untrack;
	/* track: one request at a time, answered by a timer */
	int ntrack, nanswered, ncancel;
	char ext[64];
	source_track_done done;
	void *done_data, *cancel_data;
	bool pending;
	int answer_rc;
	uv_timer_t answer;
	struct test_cli *watch; /* the client whose bytes are counted at the answer */
	long seen_before;       /* bytes it had received when the stub answered */
};

static struct {
	struct store *st;
	struct ingest *in;
	struct watch *watch;
	struct cmds *cmds;
	struct control *ctl;
	struct test_src alpha, beta;
	bool may_mutate, reload_fails;
	int nreload, nmutate;
	uid_t peer_uid;
	int64_t job_run, job_done, job_queued;
} H;

static const struct conf_source test_conf_openai = {.name = "alpha", .type = CONF_SOURCE_OPENAI};
static const struct conf_source test_conf_jsonl = {.name = "beta", .type = CONF_SOURCE_JSONL};

static void
test_tick_cb(uv_timer_t *t)
{
}

/* Run the loop until cond(arg) holds or TEST_WAIT_MS pass. */
static bool
test_pump_until(bool (*cond)(void *), void *arg)
{
	return testsock_pump_until(&test_loop, TEST_WAIT_MS, cond, arg);
}

static bool
test_int_reaches(void *arg)
{
	int **p = arg;
	return *p[0] >= *p[1];
}

/* Pump until *counter >= want. */
static bool
test_wait_count(int *counter, int want)
{
	int *p[2] = {counter, &want};
	return test_pump_until(test_int_reaches, p);
}

/* ---- the test client ---- */

static void
test_cli_open(struct test_cli *cli)
{
	memset(cli, 0, sizeof(*cli));
	cli->fd = testsock_connect(test_path);
}

static void
test_cli_close(struct test_cli *cli)
{
	if (cli->fd >= 0)
		close(cli->fd);
	cli->fd = -1;
	buf_free(&cli->b);
}

/* Read what is there; remember EOF.  Always false, so it can be a cond. */
static bool
test_cli_poll(void *arg)
{
	struct test_cli *cli = arg;

	testsock_read(cli->fd, &cli->b, &cli->eof);
	return false;
}

static bool
test_cli_has_line(void *arg)
{
	struct test_cli *cli = arg;

	test_cli_poll(cli);
	return cli->b.len > 0 && memchr(cli->b.data, '\n', cli->b.len) != NULL;
}

static bool
test_cli_eof(void *arg)
{
	test_cli_poll(arg);
	return ((struct test_cli *)arg)->eof;
}

/* Write all of s (single quotes become double quotes, to keep the JSON
 * in this file readable) and a newline. */
static void
test_cli_write(struct test_cli *cli, const char *s)
{
	char *line = xasprintf("%s\n", s);

	for (char *p = line; *p; p++)
		if (*p == '\'')
			*p = '"';
	testsock_write(&test_loop, TEST_WAIT_MS, cli->fd, line, strlen(line));
	free(line);
}

/* The last reply read; each read frees the one before. */
static struct {
	cJSON *root;
	bool ok;
	const cJSON *payload;
	const char *code;    /* "ok", an error code, or "(no reply)" */
	const char *message; /* the error message, or "" */
} R;

static void
test_reply_clear(void)
{
	cJSON_Delete(R.root);
	memset(&R, 0, sizeof(R));
	R.code = "(no reply)";
	R.message = "";
}

/* Wait for one reply line from cli and parse it into R. */
static bool
test_cli_read(struct test_cli *cli)
{
	char *nl;
	size_t len;

	test_reply_clear();
	if (!test_pump_until(test_cli_has_line, cli))
		return false;
	nl = memchr(cli->b.data, '\n', cli->b.len);
	len = (size_t)(nl - cli->b.data);
	if (proto_parse_reply(cli->b.data, len, &R.root, &R.ok, &R.payload) < 0) {
		TAP_DIAG("  not a reply: %.*s", (int)len, cli->b.data);
		buf_consume(&cli->b, len + 1);
		return false;
	}
	buf_consume(&cli->b, len + 1);
	if (R.ok) {
		R.code = "ok";
	} else {
		R.code = cJSON_GetStringValue(cJSON_GetObjectItem(R.payload, "code"));
		R.message = cJSON_GetStringValue(cJSON_GetObjectItem(R.payload, "message"));
		R.code = R.code ? R.code : "(no code)";
		R.message = R.message ? R.message : "";
	}
	return true;
}

/* One request, one reply; returns R.code. */
static const char *
test_call(struct test_cli *cli, const char *req)
{
	test_cli_write(cli, req);
	test_cli_read(cli);
	return R.code;
}

static const char *
test_result_str(const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(R.payload, key));
}

static double
test_num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* The sum of an object's numbers ({status: n}). */
static double
test_sum(const cJSON *o)
{
	const cJSON *e;
	double n = 0;

	cJSON_ArrayForEach (e, o)
		n += e->valuedouble;
	return n;
}

/* ---- stub sources ---- */

static int
test_src_poll_now(struct source *src, int64_t job_id)
{
	struct test_src *s = (struct test_src *)src;

	s->npoll++;
	s->last_poll = job_id;
	return 0;
}

static int
test_src_untrack(struct source *src, int64_t job_id)
{
	struct test_src *s = (struct test_src *)src;

	s->nuntrack++;
	s->last_untrack = job_id;
	return 0;
}

static cJSON *
test_src_status(struct source *src)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "health", "ok");
	/* What the source polls now: cmds must replace it with the store's. */
	cJSON_AddNumberToObject(o, "jobs", 99);
	return o;
}

/* The answer, on a later loop iteration: the job is stored first, as a
 * real source's check-then-ingest would. */
static void
test_src_answer_cb(uv_timer_t *t)
{
	struct test_src *s = t->data;
	int64_t job_id = -1;

	if (s->watch) {
		test_cli_poll(s->watch);
		s->seen_before = (long)s->watch->b.len;
	}
	if (s->answer_rc == 0 &&
	    (store_begin(H.st) < 0 ||
	     store_job_ensure(H.st, s->base.name, s->ext, "queued", &job_id) < 0 ||
	     store_commit(H.st) < 0))
		TAP_DIAG("stub: cannot store %s/%s", s->base.name, s->ext);
	s->pending = false;
	s->nanswered++;
	s->done(s->done_data, s->answer_rc, job_id,
	        s->answer_rc == 0 ? NULL : "the API has no such job");
}

static int
test_src_track(struct source *src, const char *external_id, source_track_done done, void *data,
               char **err)
{
	struct test_src *s = (struct test_src *)src;

	s->ntrack++;
	snprintf(s->ext, sizeof(s->ext), "%s", external_id);
	s->done = done;
	s->done_data = data;
	s->pending = true;
	s->seen_before = -1;
	if (s->answer_rc != TEST_NEVER)
		uv_timer_start(&s->answer, test_src_answer_cb, 5, 0);
	return 0;
}

static void
test_src_track_cancel(struct source *src, void *data)
{
	struct test_src *s = (struct test_src *)src;

	s->ncancel++;
	s->cancel_data = data;
	if (s->pending && s->done_data == data) {
		uv_timer_stop(&s->answer);
		s->pending = false;
	}
}

static const struct source_ops test_tracking_ops = {
        .poll_now = test_src_poll_now,
        .track = test_src_track,
        .track_cancel = test_src_track_cancel,
        .untrack = test_src_untrack,
        .status = test_src_status,
};

/* beta cannot track by id. */
static const struct source_ops test_plain_ops = {
        .poll_now = test_src_poll_now,
        .untrack = test_src_untrack,
        .status = test_src_status,
};

static void
test_src_init(struct test_src *s, const char *name, const struct source_ops *ops,
              const struct conf_source *conf)
{
	memset(s, 0, sizeof(*s));
	s->base.ops = ops;
	s->base.name = xstrdup(name);
	s->base.conf = conf;
	s->last_poll = s->last_untrack = -1;
	uv_timer_init(&test_loop, &s->answer);
	s->answer.data = s;
}

/* ---- stub host ---- */

static int
test_host_reload(void *data, char ***errors)
{
	H.nreload++;
	if (!H.reload_fails)
		return 0;
	*errors = xcalloc(3, sizeof(char *));
	(*errors)[0] = xstrdup("ftmon.conf:3: unknown key 'pol_interval'");
	(*errors)[1] = xstrdup("ftmon.conf:9: [source beta]: path is required");
	return -1;
}

static size_t
test_host_source_count(void *data)
{
	return 2;
}

static struct source *
test_host_source_at(void *data, size_t i)
{
	return i == 0 ? &H.alpha.base : &H.beta.base;
}

static void
test_host_describe(void *data, cJSON *status)
{
	cJSON_AddStringToObject(status, "version", "test-1.0");
}

static bool
test_host_may_mutate(void *data, const struct control_peer *peer)
{
	H.nmutate++;
	H.peer_uid = peer->uid;
	return H.may_mutate;
}

static const char *
test_host_admin_group(void *data)
{
	return "ftmon-admins";
}

static const struct cmds_host_ops test_host_ops = {
        .reload = test_host_reload,
        .source_count = test_host_source_count,
        .source_at = test_host_source_at,
        .describe = test_host_describe,
        .may_mutate = test_host_may_mutate,
        .admin_group = test_host_admin_group,
};

/* ---- setup ---- */

static int64_t
test_job_add(const char *source, const char *ext, const char *status)
{
	struct store_job_info info = STORE_JOB_INFO_INIT;
	int64_t id = -1;

	info.status = status;
	if (store_job_ensure(H.st, source, ext, "queued", &id) != 1 ||
	    store_job_update(H.st, id, &info, NULL) < 0)
		TAP_DIAG("setup: job %s/%s", source, ext);
	return id;
}

/* alpha: a running job with points and events, a succeeded one sharing
 * its id prefix; beta: a queued job and an untracked one. */
static void
test_store_fill(void)
{
	int n = 0;

	is_int(store_begin(H.st), 0, "setup: begin");
	H.job_run = test_job_add("alpha", "ftjob-aaa111", "running");
	H.job_done = test_job_add("alpha", "ftjob-aaa222", "succeeded");
	H.job_queued = test_job_add("beta", "run-1", "queued");
	store_job_set_tracked(H.st, test_job_add("beta", "run-2", "running"), false);
	for (int step = 1; step <= 3; step++)
		n += store_insert_point(H.st, H.job_run, "train_loss", step, 1.0 / step, 1000);
	n += store_insert_point(H.st, H.job_run, "valid_loss", 3, 0.5, 1000);
	n += store_insert_event(H.st, H.job_run, "ev-1", "message", "info", "Step 1", NULL, 100,
	                        NULL);
	n += store_insert_event(H.st, H.job_run, "ev-2", "message", "info", "Step 2", NULL, 200,
	                        NULL);
	is_int(n, 6, "setup: 4 points and 2 events inserted");
	is_int(store_commit(H.st), 0, "setup: commit");
}

static void
test_setup(void)
{
	struct cmds_host host = {&test_host_ops, NULL, NULL, NULL};
	char *err = NULL;

	H.st = store_open(":memory:", &err);
	if (H.st == NULL) {
		printf("Bail out! store_open: %s\n", err);
		exit(1);
	}
	test_store_fill();
	test_src_init(&H.alpha, "alpha", &test_tracking_ops, &test_conf_openai);
	test_src_init(&H.beta, "beta", &test_plain_ops, &test_conf_jsonl);
	host.store = H.st;
	H.in = ingest_new(H.st, &clock_system);
	H.watch = watch_new(H.in, H.st, &clock_system);
	host.watch = H.watch;
	H.cmds = cmds_new(&host);
	H.may_mutate = true;
	snprintf(test_path, sizeof(test_path), "%s/ctl.sock", test_dir);
	H.ctl = control_new(&test_loop, -1, test_path, 0600, cmds_dispatch, H.cmds, &err);
	if (H.ctl == NULL) {
		printf("Bail out! control_new: %s\n", err);
		exit(1);
	}
}

/* ---- the commands ---- */

static void
test_table(void)
{
	struct test_cli cli;

	test_cli_open(&cli);
	is_str(test_call(&cli, "{'id':1,'cmd':'ping'}"), "ok", "ping");
	ok(cJSON_IsString(R.payload) && strcmp(R.payload->valuestring, "pong") == 0,
	   "answers pong");
	is_int(test_num(R.root, "id"), 1, "with the request's id");
	is_str(test_call(&cli, "{'id':2,'cmd':'frobnicate'}"), PROTO_E_UNKNOWN_COMMAND,
	       "an unknown command");
	ok(strstr(R.message, "frobnicate") != NULL, "is named: %s", R.message);
	is_int(test_num(R.root, "id"), 2, "the error carries the id");
	is_str(test_call(&cli, "not json"), PROTO_E_PARSE, "a line that is not JSON");
	is_str(test_call(&cli, "{'id':4,'cmd':'ping'}"), "ok", "the client is still served");
	test_cli_close(&cli);
}

static void
test_permission(void)
{
	struct test_cli cli;
	int asked = H.nmutate;

	test_cli_open(&cli);
	H.may_mutate = false;
	is_str(test_call(&cli, "{'id':1,'cmd':'reload'}"), PROTO_E_PERMISSION,
	       "reload without permission is refused");
	ok(strstr(R.message, "ftmon-admins") != NULL, "naming the admin group: %s", R.message);
	is_int(H.nreload, 0, "and the host's reload is not called");
	is_str(test_call(&cli, "{'id':2,'cmd':'poll'}"), PROTO_E_PERMISSION, "poll is refused");
	is_str(test_call(&cli, "{'id':3,'cmd':'track','args':{'job':'alpha/ftjob-x'}}"),
	       PROTO_E_PERMISSION, "track is refused");
	ok(H.alpha.npoll == 0 && H.beta.npoll == 0 && H.alpha.ntrack == 0,
	   "no source was asked anything");
	is_int(H.nmutate - asked, 3, "may_mutate was asked for each mutating command");
	is_int(H.peer_uid, getuid(), "with the peer's credentials");
	is_str(test_call(&cli, "{'id':4,'cmd':'jobs'}"), "ok", "reading commands still work");
	is_int(H.nmutate - asked, 3, "without asking may_mutate");
	H.may_mutate = true;
	test_cli_close(&cli);
}

static const cJSON *
test_status_source(const cJSON *sources, const char *name)
{
	const cJSON *s;

	cJSON_ArrayForEach (s, sources) {
		const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(s, "name"));
		if (n && strcmp(n, name) == 0)
			return s;
	}
	return NULL;
}

static void
test_status(void)
{
	struct test_cli cli;
	const cJSON *sources, *a, *b, *jobs;

	test_cli_open(&cli);
	is_str(test_call(&cli, "{'id':1,'cmd':'status'}"), "ok", "status");
	is_str(test_result_str("version"), "test-1.0", "has the host's described field");
	sources = cJSON_GetObjectItem(R.payload, "sources");
	is_int(cJSON_GetArraySize(sources), 2, "lists both sources");
	a = test_status_source(sources, "alpha");
	b = test_status_source(sources, "beta");
	ok(a && b, "by name");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(a, "type")), "openai", "alpha's type");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(b, "type")), "jsonl", "beta's type");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(a, "health")), "ok",
	       "the source's own status fields are kept");
	is_int(test_num(a, "jobs"), 2, "alpha's jobs are the store's count, not the source's");
	is_int(test_num(cJSON_GetObjectItem(a, "jobs_by_status"), "running"), 1,
	       "alpha: 1 running");
	is_int(test_num(cJSON_GetObjectItem(a, "jobs_by_status"), "succeeded"), 1,
	       "alpha: 1 succeeded");
	is_int(test_num(b, "jobs"), 1, "beta: its one tracked job");
	is_int(test_sum(cJSON_GetObjectItem(a, "jobs_by_status")), test_num(a, "jobs"),
	       "alpha's jobs_by_status adds up to its jobs");
	is_int(test_sum(cJSON_GetObjectItem(b, "jobs_by_status")), test_num(b, "jobs"),
	       "beta's jobs_by_status adds up to its jobs");
	jobs = cJSON_GetObjectItem(R.payload, "jobs");
	is_int(test_sum(jobs), test_num(a, "jobs") + test_num(b, "jobs"),
	       "the sources' jobs add up to the total jobs");
	is_int(test_num(R.payload, "untracked"), 1, "the untracked job is counted apart");
	ok(cJSON_IsNumber(cJSON_GetObjectItem(R.payload, "alerts_firing")) &&
	           cJSON_IsNumber(cJSON_GetObjectItem(R.payload, "deliveries_pending")),
	   "alerts_firing and deliveries_pending are there");
	test_cli_close(&cli);
}

static void
test_jobs(struct test_cli *cli)
{
	is_str(test_call(cli, "{'id':1,'cmd':'jobs','args':{'all':true}}"), "ok", "jobs all");
	is_int(cJSON_GetArraySize(R.payload), 4, "four jobs");
	is_str(test_call(cli, "{'id':1,'cmd':'jobs','args':{'source':'beta','all':true}}"), "ok",
	       "jobs of a source");
	is_int(cJSON_GetArraySize(R.payload), 2, "beta has two");
	is_str(test_call(cli, "{'id':1,'cmd':'jobs','args':{'status':'running','source':'alpha'}}"),
	       "ok", "jobs by status and source");
	ok(cJSON_GetArraySize(R.payload) == 1 &&
	           strcmp(cJSON_GetStringValue(
	                          cJSON_GetObjectItem(cJSON_GetArrayItem(R.payload, 0), "name")),
	                  "alpha/ftjob-aaa111") == 0,
	   "the one running alpha job");
	is_str(test_call(cli, "{'id':1,'cmd':'jobs','args':{'status':5}}"),
	       PROTO_E_INVALID_ARGUMENT, "status must be a string");
	ok(strstr(R.message, "\"status\"") != NULL, "the message names it: %s", R.message);
	is_str(test_call(cli, "{'id':1,'cmd':'jobs','args':{'source':[]}}"),
	       PROTO_E_INVALID_ARGUMENT, "source must be a string");
	is_str(test_call(cli, "{'id':1,'cmd':'jobs','args':{'all':'yes'}}"),
	       PROTO_E_INVALID_ARGUMENT, "all must be a boolean");
	is_str(test_call(cli, "{'id':1,'cmd':'jobs','args':{'source':'nope'}}"), PROTO_E_NOT_FOUND,
	       "jobs of an unknown source is an error, not an empty list");
	ok(strstr(R.message, "'nope'") && strstr(R.message, "\"alpha\"") &&
	           strstr(R.message, "\"beta\""),
	   "listing the known sources: %s", R.message);
	is_str(test_call(cli, "{'id':1,'cmd':'jobs','args':{'status':'bogus'}}"), PROTO_E_NOT_FOUND,
	       "jobs of an unknown status is an error");
	ok(strstr(R.message, "\"running\"") && strstr(R.message, "\"paused\""),
	   "listing the known statuses: %s", R.message);
	is_str(test_call(cli, "{'id':1,'cmd':'jobs','args':{'status':'paused'}}"), "ok",
	       "a known status without jobs is an empty list");
	is_int(cJSON_GetArraySize(R.payload), 0, "empty");
	is_str(test_call(cli, "{'id':1,'cmd':'jobs','args':{'source':'alpha','status':'bogus'}}"),
	       PROTO_E_NOT_FOUND, "a known source with an unknown status is an error too");
}

static void
test_job(struct test_cli *cli)
{
	is_str(test_call(cli, "{'id':1,'cmd':'job','args':{'job':'ftjob-aaa1'}}"), "ok",
	       "job by a unique prefix");
	is_str(test_result_str("name"), "alpha/ftjob-aaa111", "finds the job");
	is_str(test_call(cli, "{'id':1,'cmd':'job','args':{'job':'beta/run-2'}}"), "ok",
	       "job by SOURCE/ID");
	is_str(test_result_str("status"), "running", "with its status");
	is_str(test_call(cli, "{'id':1,'cmd':'job','args':{'job':'ftjob-aaa'}}"), PROTO_E_AMBIGUOUS,
	       "a prefix of two jobs is ambiguous");
	ok(strstr(R.message, "alpha/ftjob-aaa111") && strstr(R.message, "alpha/ftjob-aaa222"),
	   "naming both: %s", R.message);
	is_str(test_call(cli, "{'id':1,'cmd':'job','args':{'job':'nope'}}"), PROTO_E_NOT_FOUND,
	       "an unknown job");
	is_str(test_call(cli, "{'id':1,'cmd':'job','args':{'job':17}}"), PROTO_E_INVALID_ARGUMENT,
	       "job must be a string");
	is_str(test_call(cli, "{'id':1,'cmd':'job'}"), PROTO_E_INVALID_ARGUMENT, "job is required");
}

static void
test_metrics(struct test_cli *cli)
{
	const cJSON *loss;

	is_str(test_call(cli, "{'id':1,'cmd':'metrics','args':{'job':'alpha/ftjob-aaa111'}}"), "ok",
	       "metrics of a job");
	loss = cJSON_GetObjectItem(R.payload, "train_loss");
	is_int(cJSON_GetArraySize(loss), 3, "three train_loss points");
	is_int(cJSON_GetArraySize(R.payload), 2, "and both metrics");
	is_str(test_call(cli, "{'id':1,'cmd':'metrics','args':{'job':'ftjob-aaa111',"
	                      "'metric':['valid_loss'],'since':2}}"),
	       "ok", "metrics with a metric list and since");
	ok(cJSON_GetArraySize(R.payload) == 1 && cJSON_GetObjectItem(R.payload, "valid_loss"),
	   "only that metric");
	is_str(test_call(cli, "{'id':1,'cmd':'metrics','args':{'job':'ftjob-aaa111',"
	                      "'metric':'train_loss','until':1}}"),
	       "ok", "a metric string and until");
	is_int(cJSON_GetArraySize(cJSON_GetObjectItem(R.payload, "train_loss")), 1,
	       "until bounds the steps");
	is_str(test_call(cli,
	                 "{'id':1,'cmd':'metrics','args':{'job':'ftjob-aaa111','metric':[1]}}"),
	       PROTO_E_INVALID_ARGUMENT, "a metric list of numbers");
	is_str(test_call(cli, "{'id':1,'cmd':'metrics','args':{'job':'ftjob-aaa111','since':'x'}}"),
	       PROTO_E_INVALID_ARGUMENT, "since must be an integer");
	is_str(test_call(cli, "{'id':1,'cmd':'metrics','args':{'job':'ftjob-aaa111','points':1}}"),
	       PROTO_E_INVALID_ARGUMENT, "one point is refused");
	is_str(test_call(cli, "{'id':1,'cmd':'metrics','args':{'job':'ftjob-aaa','points':10}}"),
	       PROTO_E_AMBIGUOUS, "an ambiguous job");
	is_str(test_call(cli, "{'id':1,'cmd':'metrics','args':{'job':'ftjob-aaa111',"
	                      "'metric':['train_loss','nosuch']}}"),
	       PROTO_E_NOT_FOUND, "an unknown metric is an error, not an empty result");
	ok(strstr(R.message, "'nosuch'") && strstr(R.message, "known: train_loss, valid_loss"),
	   "naming it and the job's metrics: %s", R.message);
	is_str(test_call(cli, "{'id':1,'cmd':'metrics','args':{'job':'ftjob-aaa111',"
	                      "'since':10,'until':5}}"),
	       PROTO_E_INVALID_ARGUMENT, "since after until is refused");
	ok(strstr(R.message, "empty") != NULL, "saying the range is empty: %s", R.message);
	is_str(test_call(cli, "{'id':1,'cmd':'metrics','args':{'job':'ftjob-aaa111',"
	                      "'since':3,'until':3}}"),
	       "ok", "since equal to until is one step");
	is_str(test_call(cli, "{'id':1,'cmd':'metrics','args':{'job':'ftjob-aaa111',"
	                      "'metric':'train_loss','points':2,'totals':true}}"),
	       "ok", "metrics with totals");
	ok(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(R.payload, "metrics"),
	                                          "train_loss")) == 2,
	   "totals: the downsampled points under \"metrics\"");
	is_int((int)cJSON_GetNumberValue(
	               cJSON_GetObjectItem(cJSON_GetObjectItem(R.payload, "totals"), "train_loss")),
	       3, "totals: the stored count before downsampling");
	is_str(test_call(cli, "{'id':1,'cmd':'metrics','args':{'job':'ftjob-aaa111','totals':1}}"),
	       PROTO_E_INVALID_ARGUMENT, "totals must be a boolean");
	is_str(test_call(cli, "{'id':1,'cmd':'metrics','args':{'job':'nope'}}"), PROTO_E_NOT_FOUND,
	       "an unknown job");
}

static void
test_events(struct test_cli *cli)
{
	is_str(test_call(cli, "{'id':1,'cmd':'events','args':{'job':'ftjob-aaa111'}}"), "ok",
	       "events");
	is_int(cJSON_GetArraySize(R.payload), 2, "both events");
	is_str(test_call(cli, "{'id':1,'cmd':'events','args':{'job':'ftjob-aaa111','limit':1}}"),
	       "ok", "events with a limit");
	is_int(cJSON_GetArraySize(R.payload), 1, "one event");
	is_str(test_call(cli,
	                 "{'id':1,'cmd':'events','args':{'job':'ftjob-aaa111','limit':'many'}}"),
	       PROTO_E_INVALID_ARGUMENT, "limit must be an integer");
	is_str(test_call(cli, "{'id':1,'cmd':'events','args':{'job':'ftjob-aaa111','limit':0}}"),
	       PROTO_E_INVALID_ARGUMENT, "limit 0 is refused");
	is_str(test_call(cli, "{'id':1,'cmd':'events','args':{'job':'ftjob-aaa'}}"),
	       PROTO_E_AMBIGUOUS, "an ambiguous job");
	is_str(test_call(cli, "{'id':1,'cmd':'events','args':{'job':'nope'}}"), PROTO_E_NOT_FOUND,
	       "an unknown job");
}

static void
test_queries(void)
{
	struct test_cli cli;

	test_cli_open(&cli);
	test_jobs(&cli);
	test_job(&cli);
	test_metrics(&cli);
	test_events(&cli);
	test_cli_close(&cli);
}

static void
test_reload(void)
{
	struct test_cli cli;
	const cJSON *errors;

	test_cli_open(&cli);
	H.reload_fails = true;
	is_str(test_call(&cli, "{'id':9,'cmd':'reload'}"), PROTO_E_CONFIG,
	       "a failed reload is a config_error");
	is_int(H.nreload, 1, "the host's reload was called");
	ok(strstr(R.message, "2 errors") != NULL, "the message counts them: %s", R.message);
	errors = cJSON_GetObjectItem(R.payload, "errors");
	is_int(cJSON_GetArraySize(errors), 2, "error.errors has the two entries");
	is_str(cJSON_GetStringValue(cJSON_GetArrayItem(errors, 0)),
	       "ftmon.conf:3: unknown key 'pol_interval'", "the first");
	is_str(cJSON_GetStringValue(cJSON_GetArrayItem(errors, 1)),
	       "ftmon.conf:9: [source beta]: path is required", "the second");
	H.reload_fails = false;
	is_str(test_call(&cli, "{'id':10,'cmd':'reload'}"), "ok", "a good reload");
	ok(cJSON_IsTrue(cJSON_GetObjectItem(R.payload, "reloaded")), "says reloaded");
	test_cli_close(&cli);
}

/* Send a track request that alpha answers with rc; the reply must come
 * only after the stub answered. */
static void
test_track_answered(struct test_cli *cli, const char *req, int rc, const char *want_ext)
{
	int tracks = H.alpha.ntrack, answers = H.alpha.nanswered;

	H.alpha.answer_rc = rc;
	H.alpha.watch = cli;
	test_cli_write(cli, req);
	ok(test_cli_read(cli), "a reply to %s", req);
	is_int(H.alpha.ntrack, tracks + 1, "alpha was asked to track");
	is_str(H.alpha.ext, want_ext, "the external id");
	is_int(H.alpha.nanswered, answers + 1, "the reply came after alpha answered");
	is_int(H.alpha.seen_before, 0, "and nothing reached the client before that");
	H.alpha.watch = NULL;
}

static void
test_track(void)
{
	struct test_cli cli;
	int tracks;

	test_cli_open(&cli);
	test_track_answered(&cli,
	                    "{'id':7,'cmd':'track','args':{'source':'alpha','job':'ftjob-n1'}}", 0,
	                    "ftjob-n1");
	is_str(R.code, "ok", "track with source and job succeeds");
	is_str(test_result_str("job"), "alpha/ftjob-n1", "naming the job");
	is_int(test_num(R.root, "id"), 7, "the late reply carries the request's id");
	test_track_answered(&cli, "{'id':8,'cmd':'track','args':{'job':'alpha/ftjob-n2'}}", 0,
	                    "ftjob-n2");
	is_str(test_result_str("job"), "alpha/ftjob-n2", "SOURCE/ID without source works");
	test_track_answered(&cli,
	                    "{'id':9,'cmd':'track','args':{'source':'alpha',"
	                    "'job':'alpha/ftjob-n3'}}",
	                    0, "ftjob-n3");
	is_str(test_result_str("job"), "alpha/ftjob-n3", "SOURCE/ID with the same source works");
	test_track_answered(&cli, "{'id':10,'cmd':'track','args':{'job':'alpha/ftjob-gone'}}",
	                    -ENOENT, "ftjob-gone");
	is_str(R.code, PROTO_E_NOT_FOUND, "the source's -ENOENT is not_found");
	is_str(R.message, "the API has no such job", "with the source's reason");
	test_track_answered(&cli, "{'id':12,'cmd':'track','args':{'job':'alpha/ftjob-down'}}", -EIO,
	                    "ftjob-down");
	is_str(R.code, PROTO_E_UNAVAILABLE,
	       "an API that cannot answer is unavailable, not a bad id");
	test_track_answered(&cli, "{'id':13,'cmd':'track','args':{'job':'alpha/ftjob-db'}}",
	                    -ENOSPC, "ftjob-db");
	is_str(R.code, PROTO_E_INTERNAL, "a failure of our own is internal_error");
	test_track_answered(&cli, "{'id':15,'cmd':'track','args':{'job':'ftjob-aaa1'}}", 0,
	                    "ftjob-aaa111");
	is_str(R.code, "ok", "track by a unique prefix of a stored job: its source and full id");
	tracks = H.alpha.ntrack;
	is_str(test_call(&cli, "{'id':16,'cmd':'track','args':{'job':'ftjob-aaa'}}"),
	       PROTO_E_AMBIGUOUS, "track by an ambiguous prefix");
	ok(strstr(R.message, "alpha/ftjob-aaa111") && strstr(R.message, "alpha/ftjob-aaa222"),
	   "lists the candidates: %s", R.message);
	is_str(test_call(&cli, "{'id':17,'cmd':'track','args':{'job':'run-2'}}"),
	       PROTO_E_INVALID_ARGUMENT, "track of a stored job whose source cannot track");
	ok(strstr(R.message, "'beta'") != NULL, "naming the source: %s", R.message);
	is_str(test_call(&cli, "{'id':11,'cmd':'track','args':{'job':'gamma/x'}}"),
	       PROTO_E_NOT_FOUND, "an unknown source is not_found");
	ok(strstr(R.message, "'gamma'") != NULL, "naming it: %s", R.message);
	is_str(test_call(&cli, "{'id':12,'cmd':'track','args':{'job':'ftjob-x'}}"),
	       PROTO_E_INVALID_ARGUMENT, "an id without a source is refused");
	is_str(test_call(&cli, "{'id':13,'cmd':'track','args':{'source':'beta','job':'x'}}"),
	       PROTO_E_INVALID_ARGUMENT, "a source that cannot track is refused");
	is_str(test_call(&cli, "{'id':14,'cmd':'track','args':{'job':3}}"),
	       PROTO_E_INVALID_ARGUMENT, "job must be a string");
	is_int(H.alpha.ntrack, tracks, "none of those reached alpha");
	test_cli_close(&cli);
}

/* The held client's next request waits for the track's answer. */
static void
test_track_order(void)
{
	struct test_cli cli;

	test_cli_open(&cli);
	H.alpha.answer_rc = 0;
	test_cli_write(&cli, "{'id':1,'cmd':'track','args':{'job':'alpha/ftjob-n4'}}\n"
	                     "{'id':2,'cmd':'ping'}");
	ok(test_cli_read(&cli) && test_num(R.root, "id") == 1, "the track's reply comes first");
	is_str(test_result_str("job"), "alpha/ftjob-n4", "and names the job");
	ok(test_cli_read(&cli) && test_num(R.root, "id") == 2, "then the ping's");
	test_cli_close(&cli);
}

static bool
test_nclients_is(void *arg)
{
	return control_nclients(H.ctl) == *(size_t *)arg;
}

static void
test_track_gone(void)
{
	struct test_cli cli;
	int tracks = H.alpha.ntrack, cancels = H.alpha.ncancel, answers = H.alpha.nanswered;
	size_t none = 0;

	H.alpha.answer_rc = TEST_NEVER;
	test_cli_open(&cli);
	test_cli_write(&cli, "{'id':1,'cmd':'track','args':{'job':'alpha/ftjob-slow'}}");
	ok(test_wait_count(&H.alpha.ntrack, tracks + 1), "the track reached alpha");
	test_cli_poll(&cli);
	is_int(cli.b.len, 0, "no reply while alpha has not answered");
	test_cli_close(&cli);
	ok(test_wait_count(&H.alpha.ncancel, cancels + 1), "the client leaving cancels the track");
	ok(H.alpha.cancel_data == H.alpha.done_data, "with the data the track was given");
	ok(!H.alpha.pending, "alpha has nothing pending");
	ok(test_pump_until(test_nclients_is, &none), "the client is closed");
	is_int(H.alpha.ncancel, cancels + 1, "track_cancel was called once");
	is_int(H.alpha.nanswered, answers, "alpha never answered, so nothing was replied");
}

/* A late reply over a held client's stream cap drops the client, which
 * calls gone() from inside the send: the wait must survive that. */
static void
test_track_overflow(void)
{
	struct test_cli cli;
	int cancels = H.alpha.ncancel, answers = H.alpha.nanswered;

	control_set_stream_limit(H.ctl, 8);
	H.alpha.answer_rc = 0;
	test_cli_open(&cli);
	test_cli_write(&cli, "{'id':1,'cmd':'track','args':{'job':'alpha/ftjob-big'}}");
	ok(test_pump_until(test_cli_eof, &cli),
	   "a track reply over the stream cap drops the client");
	is_int(H.alpha.nanswered, answers + 1, "after alpha answered");
	ok(cli.b.len > 0 && strstr(cli.b.data, PROTO_E_OVERFLOW) != NULL,
	   "the client got the overflow line");
	is_int(H.alpha.ncancel, cancels, "an answered track is not cancelled");
	control_set_stream_limit(H.ctl, CONTROL_MAX_STREAM_OUTPUT);
	test_cli_close(&cli);
}

static void
test_poll(void)
{
	struct test_cli cli;

	test_cli_open(&cli);
	is_str(test_call(&cli, "{'id':1,'cmd':'poll'}"), "ok", "poll without a job");
	is_int(test_num(R.payload, "sources"), 2, "counts the sources");
	ok(H.alpha.npoll == 1 && H.beta.npoll == 1, "every source's poll_now was called once");
	ok(H.alpha.last_poll == 0 && H.beta.last_poll == 0, "for every job (0)");
	is_str(test_call(&cli, "{'id':2,'cmd':'poll','args':{'job':'ftjob-aaa111'}}"), "ok",
	       "poll of one job");
	is_int(H.alpha.last_poll, H.job_run, "asks its source for that job");
	is_int(H.beta.npoll, 1, "and no other source");
	is_str(test_result_str("job"), "alpha/ftjob-aaa111", "naming it");
	is_str(test_call(&cli, "{'id':3,'cmd':'poll','args':{'job':false}}"),
	       PROTO_E_INVALID_ARGUMENT, "poll's job must be a string");
	is_str(test_call(&cli, "{'id':4,'cmd':'untrack','args':{'job':'beta/run-1'}}"), "ok",
	       "untrack");
	ok(H.beta.nuntrack == 1 && H.beta.last_untrack == H.job_queued,
	   "asks the job's source to untrack it");
	is_str(test_result_str("job"), "beta/run-1", "naming it");
	is_str(test_call(&cli, "{'id':5,'cmd':'untrack','args':{'job':'ftjob-aaa'}}"),
	       PROTO_E_AMBIGUOUS, "untrack of an ambiguous job");
	test_cli_close(&cli);
}

/* log reaches only push sources; the stubs are openai and jsonl. */
static void
test_log_refused(void)
{
	struct test_cli cli;

	test_cli_open(&cli);
	is_str(test_call(&cli, "{'id':1,'cmd':'log','args':{'job':'run1','step':1,"
	                       "'metrics':{'loss':1}}}"),
	       PROTO_E_NOT_FOUND, "log to a bare name without a push source");
	ok(strstr(R.message, "no push source") != NULL, "says so: %s", R.message);
	is_str(test_call(&cli, "{'id':2,'cmd':'log','args':{'job':'alpha/x','step':1,"
	                       "'metrics':{'loss':1}}}"),
	       PROTO_E_INVALID_ARGUMENT, "log to an openai source");
	ok(strstr(R.message, "of type openai") != NULL, "names its type: %s", R.message);
	is_str(test_call(&cli, "{'id':3,'cmd':'log','args':{'job':'beta/x','metrics':{'a':1}}}"),
	       PROTO_E_INVALID_ARGUMENT, "log to a jsonl source");
	is_str(test_call(&cli, "{'id':4,'cmd':'log','args':{'job':'gamma/x','metrics':{'a':1}}}"),
	       PROTO_E_NOT_FOUND, "log to an unknown source");
	is_str(test_call(&cli, "{'id':5,'cmd':'log','args':{'job':'alpha/x','step':'1',"
	                       "'metrics':{'a':1}}}"),
	       PROTO_E_INVALID_ARGUMENT, "a malformed request is refused before any source");
	ok(strstr(R.message, "\"step\"") != NULL, "naming the argument: %s", R.message);
	is_str(test_call(&cli, "{'id':6,'cmd':'ping'}"), "ok", "the client is still served");
	test_cli_close(&cli);
}

/* watch through the table: refusals, the acknowledgement, then a line
 * for what a step commits. */
static void
test_watch(void)
{
	struct test_cli cli, one;
	int64_t job;

	test_cli_open(&cli);
	is_str(test_call(&cli, "{'id':1,'cmd':'watch','args':{'job':'nope'}}"), PROTO_E_NOT_FOUND,
	       "watch of an unknown job");
	is_str(test_call(&cli, "{'id':2,'cmd':'watch','args':{'job':3}}"), PROTO_E_INVALID_ARGUMENT,
	       "watch's job must be a string");
	is_str(test_call(&cli, "{'id':3,'cmd':'watch'}"), "ok", "watch of every job");
	is_str(test_result_str("watching"), "all", "says so");
	test_cli_open(&one);
	is_str(test_call(&one, "{'id':4,'cmd':'watch','args':{'job':'ftjob-aaa111'}}"), "ok",
	       "watch of one job by prefix");
	is_str(test_result_str("watching"), "alpha/ftjob-aaa111", "names it");
	is_int(watch_count(H.watch), 2, "two streams");
	ingest_begin(H.in);
	ingest_job(H.in, "alpha", "ftjob-aaa111", "running", &job);
	ingest_point(H.in, job, "train_loss", 4, 0.25);
	is_int(ingest_commit(H.in), 0, "a step commits");
	ok(test_pump_until(test_cli_has_line, &one) && strstr(one.b.data, "\"points\"") &&
	           strstr(one.b.data, "alpha/ftjob-aaa111"),
	   "the job's stream gets its points line");
	ok(test_pump_until(test_cli_has_line, &cli) && strstr(cli.b.data, "\"points\""),
	   "so does the all stream");
	test_cli_close(&cli);
	test_cli_close(&one);
}

static bool
test_watch_none(void *arg)
{
	return watch_count(H.watch) == 0;
}

/* Rows of table whose column is id. */
static int64_t
test_rows(const char *table, const char *column, int64_t id)
{
	char *sql =
	        xasprintf("SELECT count(*) FROM %s WHERE %s = %lld", table, column, (long long)id);
	int64_t n = sql_int(H.st, sql);

	free(sql);
	return n;
}

static void
test_forget(void)
{
	struct test_cli cli;
	int untracks = H.alpha.nuntrack;
	int64_t njobs = sql_int(H.st, "SELECT count(*) FROM jobs");

	test_pump_until(test_watch_none, NULL);
	test_cli_open(&cli);
	H.may_mutate = false;
	is_str(test_call(&cli, "{'id':1,'cmd':'forget','args':{'job':'beta/run-2'}}"),
	       PROTO_E_PERMISSION, "forget needs permission");
	H.may_mutate = true;
	is_str(test_call(&cli, "{'id':2,'cmd':'forget','args':{'job':'ftjob-aaa111'}}"),
	       PROTO_E_INVALID_ARGUMENT, "a running tracked job is refused");
	ok(strstr(R.message, "untrack") && strstr(R.message, "force"), "saying what to do: %s",
	   R.message);
	is_int(H.alpha.nuntrack, untracks, "and its source is not asked to untrack");
	is_str(test_call(&cli, "{'id':3,'cmd':'job','args':{'job':'ftjob-aaa111'}}"), "ok",
	       "the job is still there");
	is_str(test_call(&cli, "{'id':4,'cmd':'forget','args':{'job':'beta/run-2'}}"), "ok",
	       "an untracked job is forgotten");
	is_str(test_result_str("job"), "beta/run-2", "naming it");
	is_str(test_call(&cli, "{'id':5,'cmd':'job','args':{'job':'beta/run-2'}}"),
	       PROTO_E_NOT_FOUND, "and is gone");
	is_int(H.beta.nuntrack, 1, "an untracked job's source is not asked again");
	is_str(test_call(&cli, "{'id':6,'cmd':'forget','args':{'job':'ftjob-aaa111','force':1}}"),
	       PROTO_E_INVALID_ARGUMENT, "force must be a boolean");
	ok(test_rows("points", "job_id", H.job_run) > 0 &&
	           test_rows("events", "job_id", H.job_run) > 0,
	   "the running job has points and events");
	is_str(test_call(&cli,
	                 "{'id':7,'cmd':'forget','args':{'job':'ftjob-aaa111','force':true}}"),
	       "ok", "with force, a running tracked job is forgotten");
	ok(H.alpha.nuntrack == untracks + 1 && H.alpha.last_untrack == H.job_run,
	   "after its source was told to untrack it");
	is_int(test_rows("jobs", "id", H.job_run), 0, "its row is gone");
	is_int(test_rows("points", "job_id", H.job_run), 0, "its points");
	is_int(test_rows("latest_metrics", "job_id", H.job_run), 0, "its latest metrics");
	is_int(test_rows("events", "job_id", H.job_run), 0, "its events");
	is_int(sql_int(H.st, "SELECT count(*) FROM jobs"), njobs - 2, "the other jobs stay");
	ok(!store_in_transaction(H.st), "no transaction is left open");
	is_str(test_call(&cli, "{'id':8,'cmd':'forget','args':{'job':'ftjob-aaa111'}}"),
	       PROTO_E_NOT_FOUND, "forgetting it again: not found");
	test_cli_close(&cli);
}

static void
test_teardown(void)
{
	int cancels = H.alpha.ncancel;
	int spins = 5;

	control_free(H.ctl);
	/* Close callbacks run on the next iterations. */
	while (spins-- > 0)
		uv_run(&test_loop, UV_RUN_ONCE);
	cmds_free(H.cmds);
	is_int(H.alpha.ncancel, cancels, "cmds_free has no wait left to cancel");
	uv_close((uv_handle_t *)&H.alpha.answer, NULL);
	uv_close((uv_handle_t *)&H.beta.answer, NULL);
	free(H.alpha.base.name);
	free(H.beta.base.name);
	watch_free(H.watch);
	ingest_free(H.in);
	store_close(H.st);
	test_reply_clear();
}

int
main(void)
{
	snprintf(test_dir, sizeof(test_dir), "/tmp/test_cmds.XXXXXX");
	if (mkdtemp(test_dir) == NULL || uv_loop_init(&test_loop) < 0) {
		printf("Bail out! setup: %s\n", strerror(errno));
		return 1;
	}
	log_set_level(LOG_LEVEL_ERR);
	uv_timer_init(&test_loop, &test_tick);
	uv_timer_start(&test_tick, test_tick_cb, 2, 2);
	test_setup();
	test_table();
	test_permission();
	test_status();
	test_queries();
	test_reload();
	test_track();
	test_track_order();
	test_track_gone();
	test_track_overflow();
	test_poll();
	test_log_refused();
	test_watch();
	test_forget();
	test_teardown();
	uv_close((uv_handle_t *)&test_tick, NULL);
	uv_run(&test_loop, UV_RUN_DEFAULT);
	is_int(uv_loop_close(&test_loop), 0, "every handle closed");
	unlink(test_path);
	rmdir(test_dir);
	return tap_done();
}
