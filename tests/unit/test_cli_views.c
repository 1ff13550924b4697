/*
 * test_cli_views: golden output of ftmonctl's views.  Fixed results go in,
 * the exact text that comes out is compared with the expected text, at a
 * fixed "now" so ages are deterministic.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "cli_board.h"
#include "cli_views.h"
#include "tap.h"
#include "util.h"
#include "xmalloc.h"
#define TESTJSON_NO_GOLDEN
#include "testjson.h"

/* 2025-12-01T14:40:00Z */
#define NOW 1764600000

/* Compare the text in out with want, line by line for a readable diff,
 * then empty out. */
static void
test_golden(struct buf *out, const char *want, const char *name)
{
	const char *got = out->data ? out->data : "";
	int eq = strcmp(got, want) == 0;

	if (!ok(eq, "%s", name)) {
		TAP_DIAG("got:");
		for (const char *p = got; *p;) {
			size_t n = strcspn(p, "\n");
			TAP_DIAG("|%.*s|", (int)n, p);
			p += n + (p[n] == '\n');
		}
		TAP_DIAG("want:");
		for (const char *p = want; *p;) {
			size_t n = strcspn(p, "\n");
			TAP_DIAG("|%.*s|", (int)n, p);
			p += n + (p[n] == '\n');
		}
	}
	buf_reset(out);
}

static const char *const test_status_json =
        "{'version': '0.1.0', 'pid': 4242, 'uptime_s': 10925,"
        " 'config': '/etc/ftmon/ftmon.conf', 'config_error': null,"
        " 'database': {'path': '/var/lib/ftmon/ftmon.db', 'size_bytes': 12882912},"
        " 'sources': ["
        "  {'name': 'openai', 'type': 'openai', 'health': 'ok', 'last_poll': 1764599995,"
        "   'last_error': null, 'jobs': 4, 'requests': 1200, 'errors': 3},"
        "  {'name': 'lab', 'type': 'jsonl', 'health': 'error', 'last_poll': null,"
        "   'last_error': 'glob matched nothing', 'jobs': 0, 'requests': 0, 'errors': 1}],"
        " 'jobs': {'running': 1, 'succeeded': 3},"
        " 'alerts_firing': 1, 'deliveries_pending': 0}";

static const char *const test_job1 =
        "{'name': 'openai/ftjob-abc123', 'source': 'openai', 'id': 'ftjob-abc123',"
        " 'status': 'running', 'model': 'gpt-4o-mini-2024-07-18', 'fine_tuned_model': null,"
        " 'step': 120, 'total_steps': 300,"
        " 'metrics': {'train_loss': 0.4321, 'valid_loss': 0.5123,"
        "             'train_mean_token_accuracy': 0.88},"
        " 'created_at': 1764589200, 'finished_at': null, 'updated_at': 1764599988,"
        " 'tracked': true}";

static const char *const test_job2 =
        "{'name': 'lab/r\xc3\xbcn-2', 'source': 'lab', 'id': 'r\xc3\xbcn-2',"
        " 'status': 'succeeded', 'model': null, 'fine_tuned_model': null, 'step': 50,"
        " 'total_steps': null, 'metrics': {'train_loss': null}, 'created_at': null,"
        " 'finished_at': 1764513600, 'updated_at': 1764427200}";

static const char *const test_alert =
        "{'id': 7, 'job': 'openai/ftjob-abc123', 'rule': 'divergence',"
        " 'metric': 'valid_loss', 'state': 'firing', 'value': 0.5123, 'step': 120,"
        " 'message': 'valid_loss stopped improving for 3 evaluations\\u001b[31m',"
        " 'fired_at': 1764599700, 'resolved_at': null, 'acked': false}";

static void
test_status(void)
{
	struct buf out = BUF_INIT;
	cJSON *r = test_json(test_status_json);

	cli_views_status(r, NOW, NULL, &out);
	test_golden(
	        &out,
	        "daemon:      ftmond 0.1.0, pid 4242\n"
	        "uptime:      3h 2m\n"
	        "config:      /etc/ftmon/ftmon.conf\n"
	        "database:    /var/lib/ftmon/ftmon.db (12 MiB)\n"
	        "jobs:        1 running, 3 succeeded\n"
	        "alerts:      1 firing\n"
	        "deliveries:  0 pending\n"
	        "\n"
	        "SOURCE  TYPE    HEALTH  LAST POLL  JOBS  REQUESTS  ERRORS  LAST ERROR\n"
	        "openai  openai  ok      5s ago        4      1200       3\n"
	        "lab     jsonl   error   never         0         0       1  glob matched nothing\n",
	        "status: daemon block and sources table");
	cJSON_Delete(r);
	r = test_json("{}");
	cli_views_status(r, NOW, NULL, &out);
	test_golden(&out,
	            "daemon:      ftmond -, pid -\n"
	            "uptime:      -\n"
	            "config:      -\n"
	            "database:    -\n"
	            "jobs:        none\n"
	            "alerts:      - firing\n"
	            "deliveries:  - pending\n"
	            "\n"
	            "no sources configured\n",
	            "status of an empty result: dashes, no sources");
	cJSON_Delete(r);
	buf_free(&out);
}

/* A failed reload lists every problem: one line each, in status and in
 * the refusal; without the lists, today's single line. */
static void
test_config_errors(void)
{
	struct buf out = BUF_INIT;
	cJSON *r =
	        test_json("{'version': '0.2.0', 'pid': 7, 'uptime_s': 65, 'config': '/etc/f.conf',"
	                  " 'config_error': 'reload failed, keeping the running configuration',"
	                  " 'config_errors': ['/etc/f.conf:3: unknown key \\'intervl\\'',"
	                  "                   '/etc/f.conf:9: [source x]: type is missing'],"
	                  " 'database': {'path': '/d.db', 'size_bytes': 4096},"
	                  " 'jobs': {}, 'alerts_firing': 0, 'deliveries_pending': 0,"
	                  " 'sources': []}");

	cli_views_status(r, NOW, NULL, &out);
	test_golden(&out,
	            "daemon:         ftmond 0.2.0, pid 7\n"
	            "uptime:         1m 5s\n"
	            "config:         /etc/f.conf\n"
	            "config errors:  /etc/f.conf:3: unknown key \"intervl\"\n"
	            "                /etc/f.conf:9: [source x]: type is missing\n"
	            "database:       /d.db (4.0 KiB)\n"
	            "jobs:           none\n"
	            "alerts:         0 firing\n"
	            "deliveries:     0 pending\n"
	            "\n"
	            "no sources configured\n",
	            "status: each config error on its own line");
	cJSON_ReplaceItemInObject(r, "config_errors",
	                          test_json("['/etc/f.conf:3: unknown key \\'intervl\\'']"));
	cli_views_status(r, NOW, NULL, &out);
	test_golden(&out,
	            "daemon:        ftmond 0.2.0, pid 7\n"
	            "uptime:        1m 5s\n"
	            "config:        /etc/f.conf\n"
	            "config error:  /etc/f.conf:3: unknown key \"intervl\"\n"
	            "database:      /d.db (4.0 KiB)\n"
	            "jobs:          none\n"
	            "alerts:        0 firing\n"
	            "deliveries:    0 pending\n"
	            "\n"
	            "no sources configured\n",
	            "status: a single config error");
	cJSON_ReplaceItemInObject(r, "config_errors", cJSON_CreateArray());
	cJSON_ReplaceItemInObject(r, "config_error", cJSON_CreateString("/etc/f.conf:3: bad"));
	cli_views_status(r, NOW, NULL, &out);
	test_golden(&out,
	            "daemon:        ftmond 0.2.0, pid 7\n"
	            "uptime:        1m 5s\n"
	            "config:        /etc/f.conf\n"
	            "config error:  /etc/f.conf:3: bad\n"
	            "database:      /d.db (4.0 KiB)\n"
	            "jobs:          none\n"
	            "alerts:        0 firing\n"
	            "deliveries:    0 pending\n"
	            "\n"
	            "no sources configured\n",
	            "status: empty config_errors falls back to config_error");
	cJSON_DeleteItemFromObject(r, "config_errors");
	cJSON_ReplaceItemInObject(r, "config_error", cJSON_CreateNull());
	cli_views_status(r, NOW, NULL, &out);
	test_golden(&out,
	            "daemon:      ftmond 0.2.0, pid 7\n"
	            "uptime:      1m 5s\n"
	            "config:      /etc/f.conf\n"
	            "database:    /d.db (4.0 KiB)\n"
	            "jobs:        none\n"
	            "alerts:      0 firing\n"
	            "deliveries:  0 pending\n"
	            "\n"
	            "no sources configured\n",
	            "status: no config error line when all is well");
	cJSON_Delete(r);

	r = test_json(
	        "{'code': 'config', 'message': 'reload failed, keeping the running"
	        " configuration', 'errors': ['f.conf:3: unknown key', 'f.conf:9: bad\\u001b[2J']}");
	cli_views_refusal(r, &out);
	test_golden(&out,
	            "config: reload failed, keeping the running configuration\n"
	            "f.conf:3: unknown key\n"
	            "f.conf:9: bad?[2J\n",
	            "refusal: the message, then each error on its own line, sanitized");
	cJSON_Delete(r);
	r = test_json("{'code': 'config_error', 'message': 'f.conf:3: unknown key'}");
	cli_views_refusal(r, &out);
	test_golden(&out, "config_error: f.conf:3: unknown key\n",
	            "refusal without a list: one line");
	cJSON_Delete(r);
	r = test_json("{'errors': 'not a list'}");
	cli_views_refusal(r, &out);
	test_golden(&out, "error: the daemon refused the request\n",
	            "refusal without code or message, errors not a list: the fallback line");
	cJSON_Delete(r);
	buf_free(&out);
}

/* Source health says since when, or until when a backoff lasts, and the
 * last error says when it happened; fields an older daemon does not send
 * leave the cell as it was. */
static void
test_source_health(void)
{
	struct buf out = BUF_INIT;
	cJSON *r = test_json(
	        "{'sources': ["
	        " {'name': 'a', 'type': 'openai', 'health': 'ok', 'health_since': 1764590000,"
	        "  'backoff_until': null, 'last_poll': 1764599995, 'last_error': null,"
	        "  'last_error_at': null, 'jobs': 4, 'requests': 1200, 'errors': 0},"
	        " {'name': 'b', 'type': 'openai', 'health': 'down', 'health_since': 1764598927,"
	        "  'backoff_until': null, 'last_poll': 1764599951,"
	        "  'last_error': 'job list: Failed to connect to api.openai.com',"
	        "  'last_error_at': 1764598951, 'jobs': 12, 'requests': 80, 'errors': 17},"
	        " {'name': 'c', 'type': 'openai', 'health': 'backing_off',"
	        "  'health_since': 1764599940, 'backoff_until': 1764600180,"
	        "  'last_poll': 1764599940, 'last_error': 'HTTP 429', 'last_error_at': 1764599940,"
	        "  'jobs': 2, 'requests': 9, 'errors': 3},"
	        " {'name': 'd', 'type': 'openai', 'health': 'unauthorized',"
	        "  'health_since': 1764427200, 'last_poll': 1764599000,"
	        "  'last_error': 'HTTP 401', 'last_error_at': 1764599000, 'jobs': 0,"
	        "  'requests': 5, 'errors': 5},"
	        " {'name': 'e', 'type': 'push', 'health': 'idle', 'health_since': null,"
	        "  'last_poll': null, 'last_error': null, 'jobs': 1, 'requests': 0, 'errors': 0},"
	        " {'name': 'f', 'type': 'openai', 'health': 'backing_off', 'backoff_until': null,"
	        "  'health_since': null, 'last_poll': null, 'last_error': 'HTTP 503',"
	        "  'jobs': 0, 'requests': 1, 'errors': 1},"
	        " {'name': 'g', 'type': 'openai', 'health': 'inactive', 'health_since': 1764590000,"
	        "  'last_poll': 1764590000, 'jobs': 3, 'requests': 10, 'errors': 0},"
	        " {'name': 'h', 'type': 'openai', 'health': 'error', 'health_since': 1764599990,"
	        "  'last_poll': null, 'last_error': 'api_key_env K is not set',"
	        "  'last_error_at': 1764599990, 'jobs': 0, 'requests': 0, 'errors': 1},"
	        " {'name': 'old', 'type': 'openai', 'health': 'degraded', 'last_poll': 1764599995,"
	        "  'last_error': 'database is locked'},"
	        " {'name': 'bare'}]}");

	cli_views_status(r, NOW, NULL, &out);
	test_golden(
	        &out,
	        "daemon:      ftmond -, pid -\n"
	        "uptime:      -\n"
	        "config:      -\n"
	        "database:    -\n"
	        "jobs:        none\n"
	        "alerts:      - firing\n"
	        "deliveries:  - pending\n"
	        "\n"
	        "SOURCE  TYPE    HEALTH                                   LAST POLL  JOBS  REQUESTS  ERRORS  LAST ERROR\n"
	        "a       openai  ok                                       5s ago        4      1200       0\n"
	        "b       openai  down since 14:22:07Z                     49s ago      12        80      17  14:22:31Z job list: Failed to connect to api.openai.com\n"
	        "c       openai  backing off until 14:43:00Z              1m ago        2         9       3  14:39:00Z HTTP 429\n"
	        "d       openai  unauthorized since 2025-11-29T14:40:00Z  16m ago       0         5       5  14:23:20Z HTTP 401\n"
	        "e       push    idle                                     never         1         0       0\n"
	        "f       openai  backing off                              never         0         1       1  HTTP 503\n"
	        "g       openai  inactive                                 2h ago        3        10       0\n"
	        "h       openai  error since 14:39:50Z                    never         0         0       1  14:39:50Z api_key_env K is not set\n"
	        "old     openai  degraded                                 5s ago        -         -       -  database is locked\n"
	        "bare    -       -                                        never         -         -       -\n",
	        "status: source health since/until, last error with its time");
	cJSON_Delete(r);
	buf_free(&out);
}

static void
test_jobs(void)
{
	struct buf out = BUF_INIT;
	char *text = xasprintf("[%s, %s]", test_job1, test_job2);
	cJSON *r = test_json(text);

	cli_views_jobs(r, NOW, NULL, &out);
	test_golden(
	        &out,
	        "NAME                 STATUS        STEP  DONE  ETA  TRAIN_LOSS  VALID_LOSS  UPDATED\n"
	        "openai/ftjob-abc123  running    120/300   40%  -        0.4321      0.5123  12s ago\n"
	        "lab/rün-2            succeeded       50     -  -           nan           -  2d ago\n",
	        "jobs: steps, losses, nan, ages");
	cJSON_Delete(r);
	r = test_json("[]");
	cli_views_jobs(r, NOW, NULL, &out);
	test_golden(&out, "no jobs\n", "jobs: none");
	cJSON_Delete(r);
	free(text);
	buf_free(&out);
}

/* After `untrack`, the last status and step are history: the job must not
 * look live (a status of "running" and an age that keeps growing). */
static void
test_untracked(void)
{
	struct buf out = BUF_INIT;
	cJSON *jobs = test_json("[{'name': 'openai/ftjob-t1', 'status': 'running', 'step': 60,"
	                        " 'total_steps': 300, 'metrics': {'train_loss': 1.25},"
	                        " 'updated_at': 1764599700, 'tracked': false},"
	                        " {'name': 'openai/ftjob-t2', 'status': 'running', 'step': 80,"
	                        " 'total_steps': 300, 'metrics': {}, 'updated_at': 1764599990,"
	                        " 'tracked': true},"
	                        " {'name': 'openai/ftjob-t0', 'status': 'succeeded', 'step': 300,"
	                        " 'total_steps': 300, 'metrics': {}, 'updated_at': 1764427200,"
	                        " 'tracked': false}]");
	cJSON *job = cJSON_Duplicate(cJSON_GetArrayItem(jobs, 0), true);

	cli_views_jobs(jobs, NOW, NULL, &out);
	test_golden(
	        &out,
	        "NAME             STATUS                    STEP  DONE  ETA  TRAIN_LOSS  VALID_LOSS  UPDATED\n"
	        "openai/ftjob-t1  running (untracked)     60/300   20%  -          1.25           -  14:35:00Z\n"
	        "openai/ftjob-t2  running                 80/300   26%  -             -           -  10s ago\n"
	        "openai/ftjob-t0  succeeded (untracked)  300/300  100%  -             -           -  2025-11-29T14:40:00Z\n",
	        "jobs: an untracked job says so and shows a time, not an age");
	cJSON_AddNumberToObject(job, "estimated_finish", NOW + 600);
	cJSON_AddNumberToObject(job, "created_at", NOW - 3600);
	cli_views_show(job, NULL, NOW, NULL, &out);
	test_golden(&out,
	            "name:              openai/ftjob-t1\n"
	            "source:            -\n"
	            "id:                -\n"
	            "status:            running (untracked)\n"
	            "step:              60/300\n"
	            "model:             -\n"
	            "fine-tuned model:  -\n"
	            "trained tokens:    -\n"
	            "created:           2025-12-01T13:40:00Z (1h ago)\n"
	            "updated:           2025-12-01T14:35:00Z (untracked: not polled since)\n"
	            "\n"
	            "latest metrics:\n"
	            "  train_loss  1.25\n",
	            "show: untracked status, last update as a time, no estimate");
	cJSON_Delete(job);
	cJSON_Delete(jobs);
	buf_free(&out);
}

static void
test_show(void)
{
	struct buf out = BUF_INIT;
	cJSON *job = test_json(test_job1);

	cJSON_AddNullToObject(job, "error");
	cJSON_AddNumberToObject(job, "trained_tokens", 123456);
	cJSON_AddNumberToObject(job, "estimated_finish", NOW + 1200);
	cJSON_AddItemToObject(job, "alerts", cJSON_CreateArray());
	cJSON_AddItemToArray(cJSON_GetObjectItem(job, "alerts"), test_json(test_alert));
	cJSON_AddItemToObject(
	        job, "checkpoints",
	        test_json("[{'id': 'ftckpt-1', 'step': 100,"
	                  " 'model': 'ft:gpt-4o-mini:org::abc:ckpt-step-100',"
	                  " 'created_at': 1764599400,"
	                  " 'metrics': {'full_valid_loss': 0.55, 'valid_loss': 0.56}}]"));
	cli_views_show(job, NULL, NOW, NULL, &out);
	test_golden(
	        &out,
	        "name:              openai/ftjob-abc123\n"
	        "source:            openai\n"
	        "id:                ftjob-abc123\n"
	        "status:            running\n"
	        "step:              120/300\n"
	        "model:             gpt-4o-mini-2024-07-18\n"
	        "fine-tuned model:  -\n"
	        "trained tokens:    123456\n"
	        "created:           2025-12-01T11:40:00Z (3h ago)\n"
	        "estimated finish:  2025-12-01T15:00:00Z (in 20m)\n"
	        "updated:           2025-12-01T14:39:48Z (12s ago)\n"
	        "best checkpoint:   step 100: full_valid_loss=0.55 (ftckpt-1)\n"
	        "\n"
	        "latest metrics:\n"
	        "  train_loss                 0.4321\n"
	        "  valid_loss                 0.5123\n"
	        "  train_mean_token_accuracy    0.88\n"
	        "\n"
	        "checkpoints:\n"
	        "STEP  CREATED  MODEL                                  METRICS\n"
	        " 100  10m ago  ft:gpt-4o-mini:org::abc:ckpt-step-100  full_valid_loss=0.55 valid_loss=0.56\n"
	        "\n"
	        "alerts:\n"
	        "ID  RULE        METRIC      STATE    VALUE  STEP  FIRED   ACKED  MESSAGE\n"
	        " 7  divergence  valid_loss  firing  0.5123   120  5m ago  no     valid_loss stopped improving for 3 evaluations?[31m\n",
	        "show: fields, metrics, checkpoints, alerts");
	cJSON_Delete(job);
	job = test_json(test_job2);
	cJSON_AddItemToObject(job, "error",
	                      test_json("{'code': 'invalid_file', 'message': 'bad line 3'}"));
	cli_views_show(job, NULL, NOW, NULL, &out);
	test_golden(&out,
	            "name:              lab/rün-2\n"
	            "source:            lab\n"
	            "id:                rün-2\n"
	            "status:            succeeded\n"
	            "step:              50\n"
	            "model:             -\n"
	            "fine-tuned model:  -\n"
	            "trained tokens:    -\n"
	            "created:           -\n"
	            "finished:          2025-11-30T14:40:00Z (1d ago)\n"
	            "updated:           2025-11-29T14:40:00Z (2d ago)\n"
	            "error:             bad line 3\n"
	            "\n"
	            "latest metrics:\n"
	            "  train_loss  nan\n",
	            "show: a finished job with an error, unknown creation");
	cJSON_Delete(job);
	buf_free(&out);
}

static void
test_events_alerts(void)
{
	struct buf out = BUF_INIT;
	cJSON *r = test_json("[{'id': 'ev-2', 'time': 1764599940, 'type': 'metrics',"
	                     " 'level': 'info', 'message': 'Step 120/300: training loss=0.43'},"
	                     " {'id': 'ev-1', 'time': 1764596400, 'type': 'message',"
	                     " 'level': 'warn', 'message': 'Fine-tuning job started'}]");
	char *text = xasprintf("[%s]", test_alert);

	cli_views_events(r, "ftjob", NOW, NULL, &out);
	test_golden(&out,
	            "TIME          AGE  TYPE     LEVEL  MESSAGE\n"
	            "14:39:00Z  1m ago  metrics  info   Step 120/300: training loss=0.43\n"
	            "13:40:00Z  1h ago  message  warn   Fine-tuning job started\n",
	            "events: the time and how long ago, newest first as given");
	cJSON_Delete(r);
	r = test_json("[]");
	cli_views_events(r, "ftjob", NOW, NULL, &out);
	test_golden(&out, "no events for ftjob\n", "events: none");
	cli_views_alerts(r, false, NOW, NULL, &out);
	test_golden(&out, "no firing alerts\n", "alerts: none firing");
	cli_views_alerts(r, true, NOW, NULL, &out);
	test_golden(&out, "no alerts\n", "alerts --all: none");
	cJSON_Delete(r);
	r = test_json(text);
	cli_views_alerts(r, false, NOW, NULL, &out);
	test_golden(
	        &out,
	        "ID  JOB                  RULE        METRIC      STATE    VALUE  STEP  FIRED   ACKED  MESSAGE\n"
	        " 7  openai/ftjob-abc123  divergence  valid_loss  firing  0.5123   120  5m ago  no     valid_loss stopped improving for 3 evaluations?[31m\n",
	        "alerts: the escape in the message is neutralised");
	cJSON_Delete(r);
	free(text);
	buf_free(&out);
}

static void
test_watch(void)
{
	struct buf out = BUF_INIT;
	const char *const evs[] = {
	        "{'event': 'job.status', 'time': 1764600000,"
	        " 'job': {'name': 'openai/ftjob-abc123', 'status': 'running'}}",
	        "{'type': 'point', 'job': 'push/run1', 'step': 11,"
	        " 'metrics': {'train_loss': 1.5, 'valid_loss': null}}",
	        "{'event': 'alert.fired', 'time': 1764599940, 'job': {'name': 'push/run1'},"
	        " 'alert': {'id': 9, 'rule': 'nan', 'metric': 'valid_loss'},"
	        " 'message': 'valid_loss is NaN'}",
	};

	for (size_t i = 0; i < ARRAY_SIZE(evs); i++) {
		cJSON *ev = test_json(evs[i]);
		cli_views_watch(ev, NOW, &out);
		cJSON_Delete(ev);
	}
	test_golden(
	        &out,
	        "2025-12-01T14:40:00Z job.status openai/ftjob-abc123 status=running\n"
	        "2025-12-01T14:40:00Z point push/run1 step=11 train_loss=1.5 valid_loss=nan\n"
	        "2025-12-01T14:39:00Z alert.fired push/run1 id=9 rule=nan metric=valid_loss \"valid_loss is NaN\"\n",
	        "watch: one line per event, missing time is now");
	buf_free(&out);
}

/* Tables at 60, 80 and 200 columns: long names cut in the middle, the
 * status never; every line fits when it can. */
static void
test_widths(void)
{
	struct buf out = BUF_INIT;
	cJSON *r = test_json(
	        "[{'name': 'openai/ftjob-0123456789abcdefghijklmnopqrstuvwxyz', 'status': 'running',"
	        "  'step': 120, 'total_steps': 300, 'estimated_finish': 1764601200,"
	        "  'metrics': {'train_loss': 0.4321, 'valid_loss': 0.5123},"
	        "  'updated_at': 1764599988, 'tracked': true},"
	        " {'name': 'lab/r2', 'status': 'succeeded', 'step': 50, 'total_steps': 50,"
	        "  'estimated_finish': 1764601200, 'metrics': {}, 'updated_at': 1764427200}]");
	struct cli_views_opts o = {.width = 60};

	cli_views_jobs(r, NOW, &o, &out);
	test_golden(&out,
	            "NAME                    STATUS        STEP  DONE  TRAIN_LOSS\n"
	            "openai/ftj~pqrstuvwxyz  running    120/300   40%      0.4321\n"
	            "lab/r2                  succeeded    50/50  100%           -\n",
	            "jobs at 60: the age, validation loss and ETA go, then the name is cut; "
	            "the status never");
	o.width = 80;
	cli_views_jobs(r, NOW, &o, &out);
	test_golden(
	        &out,
	        "NAME                                        STATUS        STEP  DONE  TRAIN_LOSS\n"
	        "openai/ftjob-0123456~fghijklmnopqrstuvwxyz  running    120/300   40%      0.4321\n"
	        "lab/r2                                      succeeded    50/50  100%           -\n",
	        "jobs at 80: the optional columns go before the name is cut to fit exactly");
	{
		cJSON *real = test_json("[{'name': 'openai/ftjob-abcdefghijklmnopqrstuvwx',"
		                        " 'status': 'running', 'step': 1, 'total_steps': 300,"
		                        " 'metrics': {'train_loss': 2.5}, 'tracked': true}]");
		o.width = 80;
		cli_views_jobs(real, NOW, &o, &out);
		ok(strstr(out.data, "openai/ftjob-abcdefghijklmnopqrstuvwx  running") != NULL,
		   "jobs at 80: an OpenAI job's full name (37 columns) is not cut");
		buf_reset(&out);
		cJSON_Delete(real);
	}
	o.width = 200;
	o.utf8 = true;
	cli_views_jobs(r, NOW, &o, &out);
	test_golden(
	        &out,
	        "NAME                                               STATUS          STEP  DONE  ETA     TRAIN_LOSS  VALID_LOSS  UPDATED\n"
	        "openai/ftjob-0123456789abcdefghijklmnopqrstuvwxyz  \u25cf running    120/300   40%  in 20m      0.4321      0.5123  12s ago\n"
	        "lab/r2                                             \u25cf succeeded    50/50  100%  -                -           -  2d ago\n",
	        "jobs at 200: nothing cut; a dot before the status with utf8");
	o.width = 40;
	o.utf8 = true;
	cli_views_jobs(r, NOW, &o, &out);
	ok(strstr(out.data, "open\u2026vwxyz") != NULL, "a cut name uses an ellipsis with utf8");
	buf_reset(&out);
	o.color = true;
	o.utf8 = false;
	cli_views_jobs(r, NOW, &o, &out);
	ok(strstr(out.data, "\033[32mrunning\033[0m") != NULL, "colour: a running job is green");
	buf_reset(&out);
	cJSON_Delete(r);
	buf_free(&out);
}

/* show at 60 columns wraps the checkpoint metrics; a finished job shows no
 * estimate (defect 6); the contract fields (best_checkpoint, bad_lines)
 * print when present; sparklines with utf8. */
static void
test_show_fit(void)
{
	struct buf out = BUF_INIT;
	cJSON *job = test_json(
	        "{'name': 'lab/run-7', 'source': 'lab', 'id': 'run-7', 'status': 'succeeded',"
	        " 'step': 300, 'total_steps': 300, 'metrics': {'train_loss': 0.25},"
	        " 'created_at': 1764589200, 'finished_at': 1764599400,"
	        " 'estimated_finish': 1764600012, 'updated_at': 1764599400, 'tracked': true,"
	        " 'bad_lines': 3, 'last_bad_line': {'line': 17, 'reason': 'not valid JSON'},"
	        " 'best_checkpoint': {'step': 200, 'metric': 'valid_loss', 'value': 0.31,"
	        "   'checkpoint': 'ckpt-200'},"
	        " 'checkpoints': [{'id': 'ckpt-200', 'step': 200, 'model': 'm', 'created_at': 1764599000,"
	        "   'metrics': {'full_valid_loss': 0.3333, 'full_valid_mean_token_accuracy': 0.91,"
	        "   'train_loss': 0.29, 'train_mean_token_accuracy': 0.93, 'valid_loss': 0.31}}]}");
	cJSON *series =
	        test_json("{'train_loss': [[0, 2.0], [1, 1.5], [2, 1.0], [3, 0.5], [4, 0.25]]}");
	struct cli_views_opts o = {.width = 60};

	cli_views_show(job, NULL, NOW, &o, &out);
	test_golden(&out,
	            "name:              lab/run-7\n"
	            "source:            lab\n"
	            "id:                run-7\n"
	            "status:            succeeded\n"
	            "step:              300/300\n"
	            "model:             -\n"
	            "fine-tuned model:  -\n"
	            "trained tokens:    -\n"
	            "created:           2025-12-01T11:40:00Z (3h ago)\n"
	            "finished:          2025-12-01T14:30:00Z (10m ago)\n"
	            "updated:           2025-12-01T14:30:00Z (10m ago)\n"
	            "best checkpoint:   step 200: valid_loss=0.31 (ckpt-200)\n"
	            "bad lines:         3 (last: line 17: not valid JSON)\n"
	            "\n"
	            "latest metrics:\n"
	            "  train_loss  0.25\n"
	            "\n"
	            "checkpoints:\n"
	            "STEP  CREATED  MODEL  METRICS\n"
	            " 200  16m ago  m      full_valid_loss=0.3333\n"
	            "                      full_valid_mean_token_accuracy=0.91\n"
	            "                      train_loss=0.29\n"
	            "                      train_mean_token_accuracy=0.93\n"
	            "                      valid_loss=0.31\n",
	            "show at 60: no estimate once finished, metrics wrapped, contract fields");
	o.utf8 = true;
	o.width = 200;
	cli_views_show(job, series, NOW, &o, &out);
	ok(strstr(out.data, "  train_loss  0.25  \u2588\u2586\u2584\u2582\u2581\n") != NULL,
	   "a sparkline per metric with utf8");
	ok(strstr(out.data, "full_valid_loss=0.3333 full_valid_mean_token_accuracy=0.91 "
	                    "train_loss=0.29") != NULL,
	   "at 200 the metrics stay on one line");
	ok(strstr(out.data, "estimated finish") == NULL, "never an estimate for a finished job");
	buf_reset(&out);
	cJSON_DeleteItemFromObject(job, "best_checkpoint");
	o.utf8 = false;
	cli_views_show(job, NULL, NOW, &o, &out);
	ok(strstr(out.data, "best checkpoint:   step 200: full_valid_loss=0.3333 (ckpt-200)\n"),
	   "without best_checkpoint, the lowest full_valid_loss among the checkpoints");
	buf_reset(&out);
	cJSON_Delete(series);
	cJSON_Delete(job);
	buf_free(&out);
}

/* status with what other parts add when present: firing alerts as an
 * object, per-hook deliveries, jsonl files, database error, walks cut. */
static void
test_status_fields(void)
{
	struct buf out = BUF_INIT;
	cJSON *r = test_json(
	        "{'version': '0.3.0', 'pid': 9, 'uptime_s': 65, 'config': '/c',"
	        " 'database': {'path': '/d.db', 'size_bytes': 4096, 'error': 'disk full'},"
	        " 'jobs': {'running': 2}, 'untracked': 1, 'alerts': {'firing': 2},"
	        " 'alerts_firing': 0, 'deliveries_pending': 3,"
	        " 'hooks': [{'name': 'slack', 'type': 'webhook', 'pending': 3, 'failed': 1,"
	        "   'delivered': 40, 'last_error': 'HTTP 500'},"
	        "  {'name': 'page', 'type': 'exec', 'pending': 0, 'failed': 0, 'delivered': 2,"
	        "   'last_error': null}],"
	        " 'sources': [{'name': 'lab', 'type': 'jsonl', 'files': 3, 'health': 'ok',"
	        "   'last_poll': 1764599999, 'jobs': 2, 'requests': 0, 'errors': 0,"
	        "   'last_error': null},"
	        "  {'name': 'openai', 'type': 'openai', 'health': 'down',"
	        "   'health_since': 1764599000, 'last_poll': 1764599999, 'jobs': 1,"
	        "   'requests': 10, 'errors': 4, 'counters': {'walks_cut': 2},"
	        "   'last_walk_cut': 'ftjob-x at 100 pages',"
	        "   'last_error': 'connection refused by api.openai.com while listing jobs',"
	        "   'last_error_at': 1764599990}]}");
	struct cli_views_opts o = {.width = 80};

	cli_views_status(r, NOW, &o, &out);
	test_golden(
	        &out,
	        "daemon:          ftmond 0.3.0, pid 9\n"
	        "uptime:          1m 5s\n"
	        "config:          /c\n"
	        "database:        /d.db (4.0 KiB)\n"
	        "database error:  disk full\n"
	        "jobs:            2 running (and 1 untracked)\n"
	        "alerts:          2 firing\n"
	        "hooks:           slack (webhook): 3 pending, 1 failed, 40 delivered; last error:\n"
	        "                 HTTP 500\n"
	        "                 page (exec): 0 pending, 0 failed, 2 delivered\n"
	        "walks cut:       2, last: ftjob-x at 100 pages\n"
	        "\n"
	        "SOURCE  TYPE             HEALTH                LAST POLL  JOBS  REQUESTS  ERRORS  LAST ERROR\n"
	        "lab     jsonl (3 files)  ok                    1s ago        2         0       0\n"
	        "openai  openai           down since 14:23:20Z  1s ago        1        10       4  14:39:50Z connection\n"
	        "                                                                                  refused by\n"
	        "                                                                                  api.openai.com while\n"
	        "                                                                                  listing jobs\n",
	        "status at 80: contract fields, wrapped");
	o.color = true;
	cli_views_status(r, NOW, &o, &out);
	ok(strstr(out.data, "\033[31mdown since") != NULL, "colour: a source down is red");
	ok(strstr(out.data, "\033[31m2 firing\033[0m") != NULL, "colour: firing alerts are red");
	buf_reset(&out);
	cJSON_Delete(r);
	buf_free(&out);
}

static bool
test_apply(struct cli_board *b, const char *line, uint64_t ms)
{
	cJSON *ev = test_json(line);
	bool changed = cli_board_apply(b, ev, ms);

	cJSON_Delete(ev);
	return changed;
}

/* The watch board: seeded from jobs, folded stream lines, drawn to fit. */
static void
test_board(void)
{
	struct buf out = BUF_INIT;
	struct cli_board *b = cli_board_new(NULL);
	cJSON *jobs = test_json("[{'name': 'openai/ftjob-abc123', 'status': 'running', 'step': 100,"
	                        "  'total_steps': 400, 'metrics': {'train_loss': 0.5}},"
	                        " {'name': 'lab/done', 'status': 'succeeded', 'step': 5,"
	                        "  'total_steps': 5, 'metrics': {}}]");
	cJSON *alerts = test_json("[{'id': 1, 'job': 'openai/ftjob-abc123', 'state': 'firing'}]");
	const char *const lines[] = {
	        "{'event': 'points', 'time': 1764600000, 'job': 'openai/ftjob-abc123',"
	        " 'status': 'running', 'step': 120, 'total_steps': 400, 'points': 2,"
	        " 'metrics': {'train_loss': 0.4, 'valid_loss': 0.45, 'acc': 0.9}}",
	        "{'event': 'points', 'time': 1764600010, 'job': 'openai/ftjob-abc123',"
	        " 'status': 'running', 'step': 200, 'total_steps': 400, 'points': 2,"
	        " 'metrics': {'train_loss': 0.3}}",
	        "{'event': 'points', 'time': 1764600010, 'job': 'push/run-9', 'status': 'running',"
	        " 'step': 7, 'total_steps': null, 'estimated_finish': 1764600600, 'points': 1,"
	        " 'metrics': {'loss': null}}",
	        "{'event': 'alert.fired', 'time': 1764600010, 'job': 'push/run-9', 'id': 5,"
	        " 'level': 'warning', 'message': 'loss is NaN', 'data': {'rule': 'nan'}}",
	};
	struct cli_views_opts o = {.width = 100};

	cli_board_seed(b, jobs, alerts);
	ok(test_apply(b, lines[0], 1000), "a points line changes the board");
	test_apply(b, lines[1], 11000);
	test_apply(b, lines[2], 11000);
	test_apply(b, lines[3], 11000);
	ok(!test_apply(b, "{'ok': true}", 12000), "a line without event: no change");
	is_int(cli_board_render(b, NOW + 10, &o, &out), 5,
	       "five lines: header, two jobs, gap, event");
	test_golden(
	        &out,
	        "ftmon watch: 2 running jobs, updated 14:40:10Z\n"
	        "* openai/ftjob-abc123  [########--------] 200/400  8 steps/s  ETA 25s  ! 1 alert  "
	        "train_loss=0.3 v~\n"
	        "* push/run-9           step 7  ETA 9m 50s  ! 1 alert  loss=nan\n"
	        "\n"
	        "2025-12-01T14:40:10Z alert.fired push/run-9 level=warning \"loss is NaN\" "
	        "rule=nan\n",
	        "board: progress, rate from the stream, ETA from the estimate or the rate, "
	        "alerts, losses cut to fit 99 columns; the finished job is left out");
	o.width = 60;
	cli_board_render(b, NOW + 10, &o, &out);
	test_golden(&out,
	            "ftmon watch: 2 running jobs, updated 14:40:10Z\n"
	            "* opena~abc123  [########--------] 200/400  8 steps/s  ETA~\n"
	            "* push/run-9    step 7  ETA 9m 50s  ! 1 alert  loss=nan\n"
	            "\n"
	            "2025-12-01T14:40:10Z alert.fired push/run-9 level=warning ~\n",
	            "board at 60: the name is cut, every line fits");
	cli_board_free(b);
	b = cli_board_new("push/run-9");
	cli_board_seed(b, jobs, NULL);
	ok(!test_apply(b, lines[0], 1000), "a one-job board ignores other jobs");
	cli_board_free(b);
	cJSON_Delete(jobs);
	cJSON_Delete(alerts);
	buf_free(&out);
}

int
main(void)
{
	test_status();
	test_jobs();
	test_config_errors();
	test_source_health();
	test_show();
	test_untracked();
	test_events_alerts();
	test_watch();
	test_widths();
	test_show_fit();
	test_status_fields();
	test_board();
	return tap_done();
}
