/*
 * test_openai_parse: the OpenAI wire-format parsers against the reference's
 * literal examples and every quirk it lists (null data, {} errors, unknown
 * statuses, Azure nulls and floats, bare NaN tokens, base64 result files),
 * plus hostile input: wrong types, truncated JSON, huge numbers, big pages.
 * Status classes and retry delays are tested in test_retry.c, the event walk
 * in test_openai_walk.c.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ingest.h"
#include "openai_parse.h"
#include "tap.h"
#include "xmalloc.h"

#define S(lit) lit, sizeof(lit) - 1

static const char test_spec_job[] =
        "{\"object\":\"fine_tuning.job\",\"id\":\"ftjob-abc123\",\"model\":\"davinci-002\","
        "\"created_at\":1692661014,\"finished_at\":1692661190,"
        "\"fine_tuned_model\":\"ft:davinci-002:my-org:custom_suffix:7q8mpxmy\","
        "\"organization_id\":\"org-123\",\"result_files\":[\"file-abc123\"],"
        "\"status\":\"succeeded\",\"validation_file\":null,\"training_file\":\"file-abc123\","
        "\"hyperparameters\":{\"n_epochs\":4,\"batch_size\":1,\"learning_rate_multiplier\":1.0},"
        "\"trained_tokens\":5768,\"integrations\":[],\"seed\":0,\"estimated_finish\":0,"
        "\"method\":{\"type\":\"supervised\",\"supervised\":{\"hyperparameters\":"
        "{\"n_epochs\":4,\"batch_size\":1,\"learning_rate_multiplier\":1.0}}}}";

static const char test_guide_event[] =
        "{\"object\":\"fine_tuning.job.event\",\"id\":\"ftevent-abc-123\","
        "\"created_at\":1693582679,\"level\":\"info\","
        "\"message\":\"Step 300/300: training loss=0.15, validation loss=0.27, full "
        "validation loss=0.40\","
        "\"data\":{\"step\":300,\"train_loss\":0.14991648495197296,"
        "\"valid_loss\":0.26569826706596045,\"total_steps\":300,"
        "\"full_valid_loss\":0.4032616495084362,"
        "\"train_mean_token_accuracy\":0.9444444179534912,"
        "\"valid_mean_token_accuracy\":0.9565217391304348,"
        "\"full_valid_mean_token_accuracy\":0.9089635854341737},"
        "\"type\":\"metrics\"}";

static const char test_azure_event[] =
        "{\"id\":\"ftevent-008dd9a2143e297008dd9a2143e29700\",\"created_at\":1748022182,"
        "\"level\":\"info\",\"message\":\"Step 100: training loss=0.0007721185684204102\","
        "\"object\":\"fine_tuning.job.event\","
        "\"data\":{\"step\":100,\"train_loss\":0.0007721185684204102,"
        "\"train_mean_token_accuracy\":1,\"valid_loss\":1.5302696228027344,"
        "\"valid_mean_token_accuracy\":0.7857142857142857,"
        "\"full_valid_loss\":2.278649262820973,"
        "\"full_valid_mean_token_accuracy\":0.7176470588235294},"
        "\"type\":\"metrics\"}";

static const char test_spec_checkpoint[] =
        "{\"object\":\"fine_tuning.job.checkpoint\",\"id\":\"ftckpt_qtZ5Gyk4BLq1SfLFWp3RtO3P\","
        "\"created_at\":1712211699,"
        "\"fine_tuned_model_checkpoint\":\"ft:gpt-4o-mini-2024-07-18:my-org:custom_suffix:"
        "9ABel2dg:ckpt-step-88\","
        "\"fine_tuning_job_id\":\"ftjob-fpbNQ3H1GrMehXRf8cO97xTN\","
        "\"metrics\":{\"step\":88,\"train_loss\":0.478,\"train_mean_token_accuracy\":0.924,"
        "\"valid_loss\":10.112,\"valid_mean_token_accuracy\":0.145,\"full_valid_loss\":0.567,"
        "\"full_valid_mean_token_accuracy\":0.944},"
        "\"step_number\":88}";

/* ---- helpers ---- */

static int
test_job(const char *json, struct oai_job *job, const char **why)
{
	*why = NULL;
	return oai_parse_job_body(json, strlen(json), job, why);
}

/* A page of one element given as JSON text. */
static int
test_event1(const char *elem, struct oai_event_page *page)
{
	char *body = xasprintf("{\"object\":\"list\",\"data\":[%s],\"has_more\":false}", elem);
	const char *why = NULL;
	int rc = oai_parse_event_page(body, strlen(body), page, &why);

	free(body);
	return rc;
}

static const struct oai_metric *
test_metric(const struct oai_event *ev, const char *name)
{
	for (size_t i = 0; i < ev->nmetrics; i++) {
		if (strcmp(ev->metrics[i].name, name) == 0)
			return &ev->metrics[i];
	}
	return NULL;
}

static double
test_metric_value(const struct oai_event *ev, const char *name)
{
	const struct oai_metric *m = test_metric(ev, name);
	return m ? m->value : -12345.0;
}

static char *
test_base64(const char *s, size_t len, size_t wrap)
{
	static const char tbl[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct buf b = BUF_INIT;
	size_t col = 0;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;
		char q[4];

		if (i + 1 < len)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < len)
			v |= (unsigned char)s[i + 2];
		q[0] = tbl[(v >> 18) & 63];
		q[1] = tbl[(v >> 12) & 63];
		q[2] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? tbl[v & 63] : '=';
		buf_append(&b, q, 4);
		col += 4;
		if (wrap && col >= wrap) {
			buf_puts(&b, "\n");
			col = 0;
		}
	}
	return buf_steal(&b);
}

/* The value of a result point, or -12345 when there is none. */
static double
test_point(const struct oai_result *r, int64_t step, const char *name)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->points[i].step == step && strcmp(r->points[i].name, name) == 0)
			return r->points[i].value;
	}
	return -12345.0;
}

static int
test_result(const char *body, struct oai_result *r)
{
	const char *why = NULL;
	return oai_parse_result_file(body, strlen(body), r, &why);
}

/* ---- jobs ---- */

static void
test_job_spec(void)
{
	struct oai_job job;
	const char *why;

	is_int(test_job(test_spec_job, &job, &why), 0, "SPEC job parses");
	is_str(job.id, "ftjob-abc123", "job id");
	is_str(job.status, "succeeded", "job status");
	is_str(job.model, "davinci-002", "job model");
	is_str(job.fine_tuned_model, "ft:davinci-002:my-org:custom_suffix:7q8mpxmy",
	       "fine_tuned_model");
	is_int(job.created_at, 1692661014, "created_at");
	is_int(job.finished_at, 1692661190, "finished_at");
	is_int(job.estimated_finish, 0, "estimated_finish 0 kept");
	is_int(job.trained_tokens, 5768, "trained_tokens");
	is_str(job.error, NULL, "no error");
	is_str(job.result_files[0], "file-abc123", "result file");
	ok(job.result_files[1] == NULL, "one result file");
	ok(ingest_status_final(job.status), "succeeded is finished");
	oai_job_clear(&job);
}

static void
test_job_running(void)
{
	struct oai_job job;
	const char *why;

	is_int(test_job("{\"id\":\"ftjob-1\",\"status\":\"running\",\"finished_at\":null,"
	                "\"trained_tokens\":null,\"fine_tuned_model\":null,\"error\":{},"
	                "\"result_files\":[],\"hyperparameters\":{\"n_epochs\":\"auto\","
	                "\"batch_size\":null,\"learning_rate_multiplier\":\"auto\"}}",
	                &job, &why),
	       0, "running job with nulls parses");
	is_int(job.finished_at, -1, "finished_at null is -1");
	is_int(job.trained_tokens, -1, "trained_tokens null is -1");
	is_int(job.created_at, -1, "created_at missing is -1");
	is_int(job.estimated_finish, -1, "estimated_finish missing is -1");
	ok(job.fine_tuned_model == NULL, "fine_tuned_model null is NULL");
	ok(job.model == NULL, "model missing is NULL");
	ok(job.error == NULL, "error {} is no error");
	ok(job.result_files != NULL && job.result_files[0] == NULL, "result_files [] empty");
	ok(!ingest_status_final(job.status), "running is not finished");
	oai_job_clear(&job);

	/* Azure: pending, nulls, -1 hyperparameters, all-null error. */
	is_int(test_job("{\"id\":\"ftjob-0123456789abcdef0123456789abcdef\",\"status\":\"pending\","
	                "\"organization_id\":null,\"result_files\":null,\"integrations\":null,"
	                "\"method\":null,\"hyperparameters\":{\"n_epochs\":-1,\"batch_size\":-1},"
	                "\"error\":{\"code\":null,\"message\":null,\"param\":null}}",
	                &job, &why),
	       0, "Azure job parses");
	is_str(job.status, "pending", "pending stored as given");
	ok(job.result_files != NULL && job.result_files[0] == NULL, "result_files null empty");
	ok(job.error == NULL, "all-null error is no error");
	ok(!ingest_status_final("pending") && !ingest_status_final("paused") &&
	           ingest_status_final("failed") && ingest_status_final("cancelled") &&
	           !ingest_status_final(NULL) && !ingest_status_final("Succeeded"),
	   "finished statuses");
	oai_job_clear(&job);

	is_int(test_job("{\"id\":\"j\",\"status\":\"paused\"}", &job, &why), 0, "paused parses");
	is_str(job.status, "paused", "paused stored");
	oai_job_clear(&job);
}

static void
test_job_errors(void)
{
	struct oai_job job;
	const char *why;

	test_job("{\"id\":\"j\",\"status\":\"failed\",\"error\":{\"code\":"
	         "\"invalid_training_file\",\"message\":\"bad file\",\"param\":"
	         "\"training_file\"}}",
	         &job, &why);
	is_str(job.error, "invalid_training_file: bad file", "error code: message");
	oai_job_clear(&job);
	test_job("{\"id\":\"j\",\"status\":\"failed\",\"error\":{\"code\":null,"
	         "\"message\":\"x y\"}}",
	         &job, &why);
	is_str(job.error, "x y", "error without code");
	oai_job_clear(&job);
	test_job("{\"id\":\"j\",\"status\":\"failed\",\"error\":{\"code\":7,\"message\":\"m\"}}",
	         &job, &why);
	is_str(job.error, "m", "numeric code ignored");
	oai_job_clear(&job);
	test_job("{\"id\":\"j\",\"status\":\"failed\",\"error\":{\"code\":\"c\",\"message\":\"\"}}",
	         &job, &why);
	ok(job.error == NULL, "empty message is no error");
	oai_job_clear(&job);
	test_job("{\"id\":\"j\",\"status\":\"failed\",\"error\":\"boom\"}", &job, &why);
	ok(job.error == NULL, "string error ignored");
	oai_job_clear(&job);
	test_job("{\"id\":\"j\",\"status\":\"failed\",\"error\":{\"message\":42}}", &job, &why);
	ok(job.error == NULL, "numeric message ignored");
	oai_job_clear(&job);
}

static void
test_job_bad(void)
{
	struct oai_job job;
	const char *why;
	char *s, *id;

	is_int(test_job("{\"status\":\"running\"}", &job, &why), -EINVAL, "missing id");
	is_str(why, "job has no valid id", "missing id why");
	is_int(test_job("{\"id\":12,\"status\":\"running\"}", &job, &why), -EINVAL, "numeric id");
	is_int(test_job("{\"id\":\"a b\",\"status\":\"running\"}", &job, &why), -EINVAL,
	       "id with space");
	is_int(test_job("{\"id\":\"a\\u0001\",\"status\":\"running\"}", &job, &why), -EINVAL,
	       "id with control char");
	is_int(test_job("{\"id\":\"\",\"status\":\"running\"}", &job, &why), -EINVAL, "empty id");
	is_int(test_job("{\"id\":\"j\"}", &job, &why), -EINVAL, "missing status");
	is_str(why, "job has no status", "missing status why");
	is_int(test_job("{\"id\":\"j\",\"status\":3}", &job, &why), -EINVAL, "numeric status");
	is_int(test_job("{\"id\":\"j\",\"status\":\"\"}", &job, &why), -EINVAL, "empty status");
	is_int(test_job("{\"id\":\"j\",\"status\":null}", &job, &why), -EINVAL, "null status");
	is_int(test_job("[1,2]", &job, &why), -EINVAL, "array body");
	is_str(why, "job is not an object", "array body why");
	is_int(test_job("null", &job, &why), -EINVAL, "null body");
	is_int(test_job("{\"id\":\"j\",\"status\":\"runn", &job, &why), -EINVAL, "truncated JSON");
	is_str(why, "invalid JSON", "truncated JSON why");
	is_int(oai_parse_job_body("", 0, &job, &why), -EINVAL, "empty body");
	is_int(oai_parse_job_body(NULL, 0, &job, NULL), -EINVAL, "NULL body, NULL why");
	is_int(test_job("<html>502 Bad Gateway</html>", &job, &why), -EINVAL, "HTML body");

	id = xmalloc(OAI_MAX_ID + 2);
	memset(id, 'a', OAI_MAX_ID + 1);
	id[OAI_MAX_ID + 1] = '\0';
	s = xasprintf("{\"id\":\"%s\",\"status\":\"running\"}", id);
	is_int(test_job(s, &job, &why), -EINVAL, "id of %d bytes rejected", OAI_MAX_ID + 1);
	free(s);
	id[OAI_MAX_ID] = '\0';
	s = xasprintf("{\"id\":\"%s\",\"status\":\"running\"}", id);
	is_int(test_job(s, &job, &why), 0, "id of %d bytes accepted", OAI_MAX_ID);
	oai_job_clear(&job);
	free(s);
	free(id);

	/* Wrong types everywhere are treated as absent. */
	is_int(test_job("{\"id\":\"j\",\"status\":\"running\",\"created_at\":\"1692661014\","
	                "\"finished_at\":1e300,\"trained_tokens\":-5,\"estimated_finish\":1.5,"
	                "\"model\":5,\"fine_tuned_model\":[],\"error\":[],"
	                "\"result_files\":[1,\"file-a\",null,\"bad id\",{}]}",
	                &job, &why),
	       0, "wrong types tolerated");
	is_int(job.created_at, -1, "string created_at is -1");
	is_int(job.finished_at, -1, "1e300 is -1");
	is_int(job.trained_tokens, -1, "negative is -1");
	is_int(job.estimated_finish, -1, "non-integral is -1");
	ok(job.model == NULL && job.fine_tuned_model == NULL, "non-string models NULL");
	ok(job.result_files[0] != NULL && strcmp(job.result_files[0], "file-a") == 0 &&
	           job.result_files[1] == NULL,
	   "only valid result file ids kept");
	oai_job_clear(&job);

	is_int(test_job("{\"id\":\"j\",\"status\":\"running\",\"result_files\":\"file-x\"}", &job,
	                &why),
	       0, "result_files string parses");
	ok(job.result_files != NULL && job.result_files[0] == NULL, "result_files string empty");
	oai_job_clear(&job);

	/* A bare NaN elsewhere in a job body does not lose the job. */
	is_int(test_job("{\"id\":\"j\",\"status\":\"running\",\"trained_tokens\":NaN}", &job, &why),
	       0, "job with NaN parses");
	is_int(job.trained_tokens, -1, "NaN count is -1");
	oai_job_clear(&job);
}

static void
test_job_text(void)
{
	struct oai_job job;
	const char *why;
	struct buf b = BUF_INIT;

	/* 4095 ASCII bytes then a 3-byte character: the cut must not split it. */
	buf_puts(&b, "{\"id\":\"j\",\"status\":\"running\",\"fine_tuned_model\":\"");
	for (int i = 0; i < OAI_MAX_TEXT - 1; i++)
		buf_puts(&b, "x");
	buf_puts(&b, "\xe2\x82\xac\xe2\x82\xac\"}");
	is_int(oai_parse_job_body(b.data, b.len, &job, &why), 0, "long text parses");
	is_int(strlen(job.fine_tuned_model), OAI_MAX_TEXT - 1, "cut on a UTF-8 boundary");
	oai_job_clear(&job);
	buf_free(&b);
}

static void
test_job_page(void)
{
	struct oai_job_page page;
	const char *why = NULL;

	is_int(oai_parse_job_page(S("{\"object\":\"list\",\"data\":[{\"id\":\"a\",\"status\":"
	                            "\"queued\"},7,{\"status\":\"running\"},{\"id\":\"b\","
	                            "\"status\":\"validating_files\"}],\"has_more\":true}"),
	                          &page, &why),
	       0, "job page parses");
	is_int(page.n, 2, "two jobs");
	is_int(page.nbad, 2, "two bad elements");
	ok(page.has_more, "has_more true");
	ok(page.n == 2 && strcmp(page.jobs[1].id, "b") == 0, "order kept");
	oai_job_page_clear(&page);

	is_int(oai_parse_job_page(S("{\"data\":\"nope\",\"has_more\":false}"), &page, &why),
	       -EINVAL, "data a string");
	is_str(why, "data is not an array", "data a string why");
	is_int(oai_parse_job_page(S("{\"has_more\":false}"), &page, &why), -EINVAL, "data missing");
	is_int(oai_parse_job_page(S("{\"data\":null}"), &page, &why), -EINVAL, "data null");
	is_int(oai_parse_job_page(S("[]"), &page, &why), -EINVAL, "array body");
	is_int(oai_parse_job_page(S("{\"data\":[],\"has_more\":\"true\"}"), &page, &why), 0,
	       "string has_more parses");
	ok(!page.has_more && page.n == 0, "string has_more is false");
	oai_job_page_clear(&page);
	is_int(oai_parse_job_page(S("{\"error\":{\"message\":\"Incorrect API key\","
	                            "\"type\":\"invalid_request_error\",\"code\":"
	                            "\"invalid_api_key\"}}"),
	                          &page, &why),
	       -EINVAL, "error body is not a page");
}

/* ---- events ---- */

static void
test_event_examples(void)
{
	struct oai_event_page page;
	struct oai_event *ev;

	is_int(test_event1(test_guide_event, &page), 0, "GUIDE event parses");
	ev = &page.events[0];
	is_str(ev->id, "ftevent-abc-123", "event id");
	is_int(ev->created_at, 1693582679, "event created_at");
	is_str(ev->level, "info", "event level");
	ok(ev->message != NULL && strncmp(ev->message, "Step 300/300:", 13) == 0, "message");
	ok(ev->is_metrics, "is metrics");
	is_int(ev->step, 300, "step");
	is_int(ev->total_steps, 300, "total_steps");
	is_int(ev->nmetrics, 6, "six metrics (no step/total_steps)");
	is_double(test_metric_value(ev, "train_loss"), 0.14991648495197296, 0, "train_loss");
	is_double(test_metric_value(ev, "full_valid_mean_token_accuracy"), 0.9089635854341737, 0,
	          "full_valid_mean_token_accuracy");
	ok(test_metric(ev, "step") == NULL && test_metric(ev, "total_steps") == NULL,
	   "step is not a metric");
	oai_event_page_clear(&page);

	is_int(test_event1(test_azure_event, &page), 0, "Azure event parses");
	ev = &page.events[0];
	is_int(ev->step, 100, "Azure step");
	is_int(ev->total_steps, -1, "no total_steps");
	is_int(ev->nmetrics, 6, "Azure six metrics");
	is_double(test_metric_value(ev, "train_mean_token_accuracy"), 1.0, 0,
	          "integer accuracy read as 1.0");
	oai_event_page_clear(&page);

	is_int(test_event1("{\"object\":\"fine_tuning.job.event\",\"id\":\"ft-event-1\","
	                   "\"created_at\":1721764800,\"level\":\"info\",\"message\":"
	                   "\"Fine tuning job successfully completed\",\"data\":null,"
	                   "\"type\":\"message\"}",
	                   &page),
	       0, "message event parses");
	ev = &page.events[0];
	ok(!ev->is_metrics && ev->nmetrics == 0 && ev->step == -1, "data null: no metrics");
	oai_event_page_clear(&page);

	test_event1("{\"id\":\"e\",\"type\":\"metrics\",\"data\":null}", &page);
	ok(page.n == 1 && !page.events[0].is_metrics, "metrics type with null data");
	is_int(page.events[0].created_at, 0, "missing created_at is 0");
	ok(page.events[0].level == NULL && page.events[0].message == NULL, "missing texts NULL");
	oai_event_page_clear(&page);

	test_event1("{\"id\":\"e\",\"type\":\"message\",\"data\":{}}", &page);
	ok(page.n == 1 && !page.events[0].is_metrics, "message with data {}");
	oai_event_page_clear(&page);
}

static void
test_event_values(void)
{
	struct oai_event_page page;
	struct oai_event *ev;

	test_event1("{\"id\":\"e\",\"type\":\"metrics\",\"data\":{\"step\":\"10\","
	            "\"train_loss\":\"0.5\",\"valid_loss\":1e400,\"n\":null,\"b\":true,"
	            "\"o\":{\"x\":1},\"a\":[1],\"total_steps\":-4,\"ok\":2}}",
	            &page);
	ev = &page.events[0];
	is_int(ev->step, -1, "string step is none");
	is_int(ev->total_steps, -1, "negative total_steps is none");
	ok(test_metric(ev, "train_loss") == NULL, "string metric dropped");
	ok(isinf(test_metric_value(ev, "valid_loss")), "huge metric kept as inf");
	is_int(ev->nmetrics, 2, "only numeric keys are metrics");
	oai_event_page_clear(&page);

	test_event1("{\"id\":\"e\",\"type\":\"metrics\",\"data\":{\"step\":100.0}}", &page);
	is_int(page.events[0].step, 100, "step 100.0 accepted");
	oai_event_page_clear(&page);
	test_event1("{\"id\":\"e\",\"type\":\"metrics\",\"data\":{\"step\":-3}}", &page);
	is_int(page.events[0].step, -1, "negative step invalid");
	oai_event_page_clear(&page);
	test_event1("{\"id\":\"e\",\"type\":\"metrics\",\"data\":{\"step\":1e300}}", &page);
	is_int(page.events[0].step, -1, "step 1e300 invalid");
	oai_event_page_clear(&page);
	test_event1("{\"id\":\"e\",\"type\":\"metrics\",\"data\":{\"step\":2.5}}", &page);
	is_int(page.events[0].step, -1, "step 2.5 invalid");
	oai_event_page_clear(&page);

	/* Names: 64 bytes kept, 65 dropped, control chars, spaces and "" dropped. */
	test_event1("{\"id\":\"e\",\"type\":\"metrics\",\"data\":{\"step\":1,"
	            "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1,"
	            "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\":2,"
	            "\"c\\u0001\":3,\"d\\n\":4,\"e f\":5,\"\":6,\"g\\u00e9\":7,\"h\":8,\"h\":9}}",
	            &page);
	ev = &page.events[0];
	is_int(ev->nmetrics, 2, "only valid names kept, duplicates once");
	ok(ev->nmetrics == 2 && strlen(ev->metrics[0].name) == 64, "64-byte name kept");
	is_double(test_metric_value(ev, "h"), 8, 0, "duplicate key keeps first value");
	oai_event_page_clear(&page);

	/* At most OAI_MAX_METRICS metrics per event. */
	struct buf b = BUF_INIT;
	buf_puts(&b, "{\"id\":\"e\",\"type\":\"metrics\",\"data\":{\"step\":1");
	for (int i = 0; i < OAI_MAX_METRICS + 10; i++)
		buf_printf(&b, ",\"m%d\":%d", i, i);
	buf_puts(&b, "}}");
	test_event1(b.data, &page);
	is_int(page.events[0].nmetrics, OAI_MAX_METRICS, "metrics capped");
	is_double(test_metric_value(&page.events[0], "m63"), 63, 0, "first ones kept");
	oai_event_page_clear(&page);
	buf_free(&b);
}

static void
test_event_nan(void)
{
	struct oai_event_page page;
	struct oai_event *ev;
	const char *why = NULL;

	is_int(oai_parse_event_page(S("{\"data\":[{\"id\":\"e1\",\"type\":\"metrics\","
	                              "\"message\":\"loss is NaN, say \\\"NaN\\\" Infinity\","
	                              "\"data\":{\"step\":5,\"train_loss\":NaN,\"valid_loss\":"
	                              "Infinity,\"x\":-Infinity,\"y\":[NaN],\"z\":0.5}}],"
	                              "\"has_more\":false}"),
	                            &page, &why),
	       0, "page with bare NaN parses");
	ev = &page.events[0];
	ok(page.n == 1 && isnan(test_metric_value(ev, "train_loss")), "NaN metric kept");
	ok(isinf(test_metric_value(ev, "valid_loss")) && test_metric_value(ev, "valid_loss") > 0,
	   "Infinity metric");
	ok(isinf(test_metric_value(ev, "x")) && test_metric_value(ev, "x") < 0, "-Infinity metric");
	is_double(test_metric_value(ev, "z"), 0.5, 0, "other metrics intact");
	is_int(ev->nmetrics, 4, "array value dropped");
	is_str(ev->message, "loss is NaN, say \"NaN\" Infinity", "NaN inside strings untouched");
	oai_event_page_clear(&page);

	is_int(oai_parse_event_page(S("{\"data\":[{\"id\":\"e\",\"data\":{\"step\":NaN}}],"
	                              "\"has_more\":NaNx}"),
	                            &page, &why),
	       -EINVAL, "NaN glued to a word is still invalid");
	is_int(oai_parse_event_page(S("{\"data\":[{\"id\":\"e\",\"data\":{\"step\":NaN}}]}"), &page,
	                            &why),
	       0, "NaN step parses");
	is_int(page.events[0].step, -1, "NaN step is none");
	oai_event_page_clear(&page);
}

static void
test_event_page_shapes(void)
{
	struct oai_event_page page;
	const char *why = NULL;
	struct buf b = BUF_INIT;

	is_int(oai_parse_event_page(S("{\"data\":[1,\"x\",null,{\"id\":5},{\"message\":\"m\"},"
	                              "{\"id\":\"ok\"}],\"has_more\":true}"),
	                            &page, &why),
	       0, "mixed page parses");
	is_int(page.n, 1, "one good event");
	is_int(page.nbad, 5, "five bad elements");
	ok(page.has_more, "has_more");
	oai_event_page_clear(&page);

	is_int(oai_parse_event_page(S("{\"data\":{\"id\":\"e\"}}"), &page, &why), -EINVAL,
	       "data an object");
	is_int(oai_parse_event_page(S("{\"data\":[{\"id\":\"e\""), &page, &why), -EINVAL,
	       "truncated page");
	is_int(oai_parse_event_page(S("{\"data\":[],\"has_more\":false} trailing"), &page, &why), 0,
	       "trailing bytes tolerated");
	oai_event_page_clear(&page);

	for (int i = 0; i < 2000; i++)
		buf_puts(&b, "[");
	is_int(oai_parse_event_page(b.data, b.len, &page, &why), -EINVAL, "deep nesting rejected");
	buf_reset(&b);

	buf_puts(&b, "{\"object\":\"list\",\"data\":[");
	for (int i = 0; i < 10000; i++)
		buf_printf(&b,
		           "%s{\"id\":\"ftevent-%d\",\"created_at\":%d,\"type\":\"metrics\","
		           "\"data\":{\"step\":%d,\"train_loss\":%d.5}}",
		           i ? "," : "", i, 1700000000 + i, i, i);
	buf_puts(&b, "],\"has_more\":false}");
	is_int(oai_parse_event_page(b.data, b.len, &page, &why), 0, "10,000-event page parses");
	is_int(page.n, 10000, "10,000 events");
	ok(page.n == 10000 && strcmp(page.events[9999].id, "ftevent-9999") == 0 &&
	           page.events[9999].step == 9999 && page.events[9999].metrics[0].value == 9999.5,
	   "last event intact");
	oai_event_page_clear(&page);
	buf_free(&b);
}

/* ---- checkpoints ---- */

static void
test_checkpoints(void)
{
	struct oai_checkpoint_page page;
	const char *why = NULL;
	char *body;

	body = xasprintf("{\"object\":\"list\",\"data\":[%s],\"first_id\":\"x\",\"last_id\":"
	                 "\"x\",\"has_more\":false}",
	                 test_spec_checkpoint);
	is_int(oai_parse_checkpoint_page(body, strlen(body), &page, &why), 0,
	       "SPEC checkpoint parses");
	free(body);
	is_str(page.checkpoints[0].id, "ftckpt_qtZ5Gyk4BLq1SfLFWp3RtO3P", "checkpoint id");
	is_int(page.checkpoints[0].created_at, 1712211699, "checkpoint created_at");
	is_str(page.checkpoints[0].model,
	       "ft:gpt-4o-mini-2024-07-18:my-org:custom_suffix:9ABel2dg:ckpt-step-88",
	       "checkpoint model");
	is_int(page.checkpoints[0].step, 88, "checkpoint step");
	is_str(page.checkpoints[0].metrics_json,
	       "{\"step\":88,\"train_loss\":0.478,\"train_mean_token_accuracy\":0.924,"
	       "\"valid_loss\":10.112,\"valid_mean_token_accuracy\":0.145,"
	       "\"full_valid_loss\":0.567,\"full_valid_mean_token_accuracy\":0.944}",
	       "metrics re-serialised");
	ok(!page.has_more, "no more checkpoints");
	oai_checkpoint_page_clear(&page);

	is_int(oai_parse_checkpoint_page(
	               S("{\"data\":[{\"id\":\"ftchkpt-1\",\"step_number\":100.0,\"metrics\":"
	                 "{\"step\":100.0,\"train_loss\":NaN}},"
	                 "{\"id\":\"ftchkpt-2\",\"metrics\":{\"step\":7}},"
	                 "{\"id\":\"ftchkpt-3\",\"metrics\":null,\"step_number\":\"9\"},"
	                 "{\"step_number\":3},4],\"has_more\":true}"),
	               &page, &why),
	       0, "Azure checkpoints parse");
	is_int(page.n, 3, "three checkpoints");
	is_int(page.nbad, 2, "two bad");
	is_int(page.checkpoints[0].step, 100, "step_number 100.0 accepted");
	is_str(page.checkpoints[0].metrics_json, "{\"step\":100,\"train_loss\":null}",
	       "NaN metric serialised as null");
	is_int(page.checkpoints[1].step, 7, "step from metrics.step");
	is_int(page.checkpoints[1].created_at, 0, "missing created_at 0");
	ok(page.checkpoints[2].step == -1 && page.checkpoints[2].metrics_json == NULL &&
	           page.checkpoints[2].model == NULL,
	   "no step, no metrics");
	ok(page.has_more, "checkpoint has_more");
	oai_checkpoint_page_clear(&page);
}

/* ---- result file ---- */

static const char test_csv[] =
        "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n"
        "1,1.52347,0.0,,\n"
        "2,1.2,0.5,1.1,0.6\n";

static void
test_result_plain(void)
{
	struct oai_result r;

	is_int(test_result(test_csv, &r), 0, "GUIDE CSV parses");
	is_int(r.n, 6, "six points");
	is_int(r.nbad, 0, "no bad rows");
	is_double(test_point(&r, 1, "train_loss"), 1.52347, 0, "row 1 train_loss");
	is_double(test_point(&r, 1, "train_mean_token_accuracy"), 0.0, 0, "train_accuracy renamed");
	is_double(test_point(&r, 1, "valid_loss"), -12345.0, 0, "empty cell missing");
	is_double(test_point(&r, 2, "valid_mean_token_accuracy"), 0.6, 0, "row 2 last cell");
	ok(r.n > 0 && r.points[0].step == 1 && strcmp(r.points[0].name, "train_loss") == 0,
	   "file order");
	ok(r.names[0] && strcmp(r.names[0], "train_loss") == 0 && r.names[1] &&
	           strcmp(r.names[1], "train_mean_token_accuracy") == 0 && r.names[4] == NULL,
	   "names listed");
	oai_result_clear(&r);

	is_int(test_result("\xef\xbb\xbf \r\n\"step\",\" train_loss \",\"custom,x\"\r\n"
	                   "\"1\",\"0.5\",\"2\"\r\n"
	                   "2,0.25 ,\"3\"\"\"\r\n\r\n"
	                   "3, nan,NaN\r\n"
	                   "4.0,inf,abc\r\n",
	                   &r),
	       0, "BOM, CRLF, quotes parse");
	is_double(test_point(&r, 1, "train_loss"), 0.5, 0, "quoted cell, trimmed header");
	is_double(test_point(&r, 1, "custom,x"), 2, 0, "unknown column under its name");
	is_double(test_point(&r, 2, "train_loss"), 0.25, 0, "trailing blank trimmed");
	ok(isnan(test_point(&r, 3, "train_loss")) && isnan(test_point(&r, 3, "custom,x")),
	   "nan and NaN kept");
	ok(isinf(test_point(&r, 4, "train_loss")), "step 4.0, inf kept");
	is_double(test_point(&r, 4, "custom,x"), -12345.0, 0, "non-number is missing");
	is_int(r.n, 6, "six points with quirks");
	is_int(r.nbad, 0, "a non-number cell does not make a row bad");
	oai_result_clear(&r);

	is_int(test_result("step,train_loss\n1.5,1\nabc,2\n-1,3\n,4\n5,6,7\n6\n7,8\n\n", &r), 0,
	       "bad rows parse");
	is_int(r.nbad, 6, "six bad rows");
	is_int(r.n, 1, "one good row");
	is_double(test_point(&r, 7, "train_loss"), 8, 0, "good row kept");
	oai_result_clear(&r);

	is_int(test_result("train_loss,valid_loss,step\n0.5,,10\n0.4,0.7,20", &r), 0,
	       "reordered plain CSV parses");
	is_double(test_point(&r, 10, "train_loss"), 0.5, 0, "reordered step read by name");
	is_double(test_point(&r, 20, "valid_loss"), 0.7, 0, "last line without newline");
	is_int(r.n, 3, "three points reordered");
	oai_result_clear(&r);

	is_int(test_result("step,loss,loss,train_accuracy,train_mean_token_accuracy\n1,2,3,4,5\n",
	                   &r),
	       0, "duplicate columns parse");
	is_int(r.n, 2, "duplicate columns keep the first");
	is_double(test_point(&r, 1, "loss"), 2, 0, "first loss");
	is_double(test_point(&r, 1, "train_mean_token_accuracy"), 4, 0, "train_accuracy wins");
	oai_result_clear(&r);

	is_int(test_result("step,train_loss\n", &r), 0, "header only");
	ok(r.n == 0 && r.nbad == 0, "header only: nothing");
	oai_result_clear(&r);
}

static void
test_result_base64(void)
{
	struct oai_result r;
	const char *why = NULL;
	char *b64;

	b64 = test_base64(test_csv, strlen(test_csv), 76);
	is_int(test_result(b64, &r), 0, "base64 CSV parses");
	is_int(r.n, 6, "base64: six points");
	is_double(test_point(&r, 2, "valid_loss"), 1.1, 0, "base64: values");
	oai_result_clear(&r);
	free(b64);

	b64 = test_base64(S("\xef\xbb\xbfvalid_loss,step\r\n0.9,3\r\n"), 0);
	is_int(test_result(b64, &r), 0, "base64 reordered with BOM");
	is_double(test_point(&r, 3, "valid_loss"), 0.9, 0, "base64 reordered value");
	oai_result_clear(&r);
	free(b64);

	is_int(test_result("c3RlcCx0cmFpbl9sb3NzCjEsMC41", &r), 0, "unpadded base64");
	is_double(test_point(&r, 1, "train_loss"), 0.5, 0, "unpadded base64 value");
	oai_result_clear(&r);

	is_int(test_result("aGVsbG8=", &r), -EINVAL, "base64 of non-CSV");
	is_int(oai_parse_result_file(S("@@@@ not base64 !"), &r, &why), -EINVAL,
	       "garbage rejected");
	ok(why != NULL && strstr(why, "base64") != NULL, "garbage why mentions base64");
	is_int(test_result("c3Rl=cA==", &r), -EINVAL, "padding in the middle rejected");
	is_int(test_result("c3RlcCx0c", &r), -EINVAL, "truncated base64 (1 mod 4) rejected");
	is_int(oai_parse_result_file("", 0, &r, &why), -EINVAL, "empty file rejected");
	is_int(test_result("   \n", &r), -EINVAL, "blank file rejected");
	is_int(test_result("train_loss\n1\n", &r), -EINVAL, "no step column rejected");
	ok(r.points == NULL && r.names == NULL, "failed result is empty");
}

static void
test_result_big(void)
{
	struct oai_result r;
	struct buf b = BUF_INIT;

	buf_puts(&b, "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n");
	for (int i = 1; i <= 200000; i++)
		buf_printf(&b, "%d,%d.25,0.5,,\n", i, i);
	is_int(oai_parse_result_file(b.data, b.len, &r, NULL), 0, "200,000-row file parses");
	is_int(r.n, 400000, "400,000 points");
	ok(r.n == 400000 && r.points[399998].step == 200000 && r.points[399998].value == 200000.25,
	   "last row intact");
	oai_result_clear(&r);
	buf_free(&b);
}

/* ---- hostile text and numbers (issue 8) ---- */

static void
test_id_valid(void)
{
	static const struct {
		const char *id;
		bool valid;
	} cases[] = {
	        {"ftjob-abc123", true}, {"a.b", true},   {"...", true},       {"x", true},
	        {".", false},           {"..", false},   {"", false},         {"ftjob\n", false},
	        {"a b", false},         {"a\tb", false}, {"\x1b[31m", false}, {"a\x7f", false},
	        {"caf\xc3\xa9", false},
	};
	char *longid = xcalloc(OAI_MAX_ID + 2, 1);
	const char *why;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why = NULL;
		ok(oai_id_valid(cases[i].id, &why) == cases[i].valid && (cases[i].valid || why),
		   "id #%zu %s", i, cases[i].valid ? "valid" : "refused with a reason");
	}
	ok(!oai_id_valid(NULL, NULL), "NULL refused (NULL why is fine)");
	memset(longid, 'a', OAI_MAX_ID);
	ok(oai_id_valid(longid, NULL), "256 bytes is valid");
	longid[OAI_MAX_ID] = 'a';
	why = NULL;
	ok(!oai_id_valid(longid, &why) && why && strstr(why, "256"), "257 bytes refused");
	free(longid);
}

/* Discovery's list: entries refused for their id are reported. */
static void
test_job_page_refused(void)
{
	struct buf b = BUF_INIT;
	struct oai_job_page page;
	const char *bad[] = {"a b", "a\\tb", "a\\nb", "a\x7f", "caf\xc3\xa9", "..", NULL};
	size_t i;

	buf_puts(&b, "{\"data\":[{\"id\":\"ok-1\",\"status\":\"running\"}");
	for (i = 0; bad[i]; i++)
		buf_printf(&b, ",{\"id\":\"%s\",\"status\":\"running\"}", bad[i]);
	buf_puts(&b, ",{\"id\":\"");
	for (i = 0; i < 10000; i++)
		buf_puts(&b, "x");
	buf_puts(&b, "\",\"status\":\"running\"},{\"status\":\"running\"}],\"has_more\":false}");
	is_int(oai_parse_job_page(b.data, b.len, &page, NULL), 0, "a list with bad ids parses");
	is_int(page.n, 1, "one good job");
	is_int(page.nbad, 8, "every bad entry counted");
	is_int(page.nrefused, 7, "the seven with a string id are reported");
	ok(page.nrefused == 7 && strcmp(page.refused[0].id, "a b") == 0 &&
	           page.refused[0].why != NULL,
	   "with the id as sent and a reason");
	ok(page.nrefused == 7 && page.refused[6].len == 10000 &&
	           strlen(page.refused[6].id) == OAI_SHOW_ID,
	   "a 10 KB id is kept cut to OAI_SHOW_ID bytes, with its length");
	ok(page.nrefused == 7 && page.refused[0].hash != page.refused[1].hash,
	   "ids are told apart by hash");
	oai_job_page_clear(&page);
	buf_free(&b);
}

/* A NUL inside a key or text is refused, not cut short. */
static void
test_event_nul(void)
{
	struct oai_event_page page;
	const struct oai_event *e;

	is_int(test_event1("{\"id\":\"ev-1\",\"type\":\"metrics\",\"data\":{\"step\":3,"
	                   "\"train_loss\\u0000junk\":9.0,\"train_loss\":0.25}}",
	                   &page),
	       0, "an event with a NUL key parses");
	e = page.n ? &page.events[0] : NULL;
	ok(e && e->nmetrics == 1, "the NUL key is skipped");
	is_double(e ? test_metric_value(e, "train_loss") : 0, 0.25, 0,
	          "train_loss is the real key's 0.25, not 9.0");
	is_int(e ? e->nrefused : 0, 1, "and counted as refused");
	is_int(page.nrefused, 1, "in the page too");
	oai_event_page_clear(&page);

	is_int(test_event1("{\"id\":\"ev-2\",\"type\":\"message\",\"level\":\"info\","
	                   "\"message\":\"done\\u0000 (not really)\"}",
	                   &page),
	       0, "a message with a NUL parses");
	ok(page.n == 1 && page.events[0].message == NULL, "the message is dropped, not cut");
	is_int(page.nrefused, 1, "and counted");
	oai_event_page_clear(&page);

	is_int(test_event1("{\"id\":\"ev\\u0000x\",\"type\":\"message\"}", &page), 0,
	       "an id with a NUL: the page parses");
	ok(page.n == 0 && page.nbad == 1, "the event is refused");
	oai_event_page_clear(&page);
}

/* Steps a double cannot hold exactly are refused, not rounded. */
static void
test_step_bound(void)
{
	struct oai_event_page page;
	struct oai_result r;

	is_int(test_event1("{\"id\":\"ev-1\",\"type\":\"metrics\",\"data\":{\"step\":"
	                   "9007199254740993,\"train_loss\":0.5}}",
	                   &page),
	       0, "step 2^53+1 parses");
	ok(page.n == 1 && page.events[0].step == -1, "but the step is refused, not 2^53");
	is_int(page.nrefused, 1, "and counted as refused");
	oai_event_page_clear(&page);
	is_int(test_event1("{\"id\":\"ev-1\",\"type\":\"metrics\",\"data\":{\"step\":"
	                   "9007199254740992,\"train_loss\":0.5}}",
	                   &page),
	       0, "step 2^53 parses");
	ok(page.n == 1 && page.events[0].step == -1, "2^53 is refused as well");
	oai_event_page_clear(&page);
	is_int(test_event1("{\"id\":\"ev-1\",\"type\":\"metrics\",\"data\":{\"step\":"
	                   "9007199254740991,\"train_loss\":0.5}}",
	                   &page),
	       0, "step 2^53-1 parses");
	ok(page.n == 1 && page.events[0].step == OAI_MAX_STEP, "and is kept exactly");
	is_int(page.nrefused, 0, "nothing refused");
	oai_event_page_clear(&page);
	is_int(test_event1("{\"id\":\"ev-1\",\"type\":\"metrics\",\"data\":{\"step\":-1,"
	                   "\"x\":1}}",
	                   &page),
	       0, "a negative step parses");
	is_int(page.nrefused, 1, "and is refused");
	oai_event_page_clear(&page);

	is_int(test_result("step,train_loss\n9007199254740993,0.5\n9007199254740991,0.25\n", &r), 0,
	       "a result file with a huge step");
	is_int(r.nbad, 1, "the row past 2^53 is refused");
	is_double(test_point(&r, OAI_MAX_STEP, "train_loss"), 0.25, 0, "the row at 2^53-1 kept");
	oai_result_clear(&r);
}

int
main(void)
{
	test_job_spec();
	test_job_running();
	test_job_errors();
	test_job_bad();
	test_job_text();
	test_job_page();
	test_event_examples();
	test_event_values();
	test_event_nan();
	test_event_page_shapes();
	test_checkpoints();
	test_result_plain();
	test_result_base64();
	test_result_big();
	test_id_valid();
	test_job_page_refused();
	test_event_nul();
	test_step_bound();
	return tap_done();
}
