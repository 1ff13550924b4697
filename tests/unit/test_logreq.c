/*
 * test_logreq: the `log` request's pieces: values as text (nan/inf/-inf in
 * any case, decimals only, out of range refused), steps as text, metric
 * and job names (length, UTF-8, control characters), statuses, and the
 * parse of the socket arguments (single point, batched points, limits,
 * and errors that name the point and metric at fault).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jobname.h"
#include "logreq.h"
#include "tap.h"

static void
test_value_text(void)
{
	static const char *const bad[] = {
	        "",   "abc", "1.5x", "0x10", "infinity", "nan(1)", "-",   ".",    "1e",
	        "e5", " 1",  "1 ",   "--1",  "1e999",    "-1e999", "+-1", "nanx", "in f",
	};
	double v = 0;

	ok(logreq_value_text("1.25", &v) == NULL && v == 1.25, "a decimal");
	ok(logreq_value_text("-3", &v) == NULL && v == -3, "a negative integer");
	ok(logreq_value_text("2.5e-3", &v) == NULL && v == 2.5e-3, "an exponent");
	ok(logreq_value_text("+7", &v) == NULL && v == 7, "a leading plus");
	ok(logreq_value_text("nan", &v) == NULL && isnan(v), "nan");
	ok(logreq_value_text("NaN", &v) == NULL && isnan(v), "NaN in any case");
	ok(logreq_value_text("inf", &v) == NULL && isinf(v) && v > 0, "inf");
	ok(logreq_value_text("INF", &v) == NULL && isinf(v) && v > 0, "INF");
	ok(logreq_value_text("-Inf", &v) == NULL && isinf(v) && v < 0, "-Inf");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(logreq_value_text(bad[i], &v) != NULL, "value \"%s\" refused", bad[i]);
	is_str(logreq_value_text("", &v), "a value must not be empty", "empty says so");
	ok(strstr(logreq_value_text("1e999", &v), "out of range") != NULL, "1e999 is out of range");
}

static void
test_step_text(void)
{
	int64_t s = -5;

	ok(logreq_step_text("0", &s) == NULL && s == 0, "step 0");
	ok(logreq_step_text("9007199254740991", &s) == NULL && s == LOGREQ_STEP_MAX, "step 2^53-1");
	ok(logreq_step_text("9007199254740992", &s) != NULL, "step 2^53 refused");
	ok(logreq_step_text("-1", &s) != NULL, "step -1 refused");
	ok(logreq_step_text("abc", &s) != NULL, "step abc refused");
	ok(logreq_step_text("1.5", &s) != NULL, "step 1.5 refused");
	ok(logreq_step_text("", &s) != NULL, "empty step refused");
	ok(logreq_step_text("+3", &s) != NULL, "step +3 refused");
	ok(logreq_step_text("99999999999999999999999", &s) != NULL, "a huge step refused");
}

static void
test_names(void)
{
	char big[202];

	memset(big, 'a', 200);
	big[200] = '\0';
	ok(logreq_metric_check("train_loss") == NULL, "a plain metric name");
	ok(logreq_metric_check("eval/loss \xc3\xa9 $x `y` \"q\"") == NULL,
	   "slashes, spaces, quotes, unicode");
	ok(logreq_metric_check(big) == NULL, "200 bytes");
	big[200] = 'a';
	big[201] = '\0';
	ok(logreq_metric_check(big) != NULL, "201 bytes refused");
	ok(logreq_metric_check("") != NULL, "empty refused");
	ok(logreq_metric_check("a\tb") != NULL, "a tab refused");
	ok(logreq_metric_check("a\x1b[31m") != NULL, "an escape refused");
	ok(logreq_metric_check("a\x7f") != NULL, "DEL refused");
	ok(logreq_metric_check("a\xc2\x85") != NULL, "a C1 control (U+0085) refused");
	ok(logreq_metric_check("\xc2\xa0") == NULL, "U+00A0 is not a control");
	ok(logreq_metric_check("\xff\xfe") != NULL, "invalid UTF-8 refused");
	ok(jobname_check("run 1: lr=3e-4 \"$HOME\"") == NULL, "a job name with shell bytes");
	ok(jobname_check("") != NULL, "an empty job name refused");
	ok(jobname_check("a\nb") != NULL, "a newline in a job name refused");
	ok(jobname_check("\xc0\xaf") != NULL, "an overlong form in a job name refused");
	memset(big, 'j', 201);
	ok(jobname_check(big) != NULL, "a 201-byte job name refused");
	big[200] = '\0';
	ok(jobname_check(big) == NULL, "a 200-byte job name");
	ok(logreq_status_check("succeeded") == NULL, "succeeded");
	ok(logreq_status_check("running") == NULL, "running");
	ok(logreq_status_check("missing") != NULL, "missing is ftmon's own");
	ok(logreq_status_check("done") != NULL, "done is no status");
}

/* Parse a JSON text of arguments; 0 or -EINVAL with *why. */
static int
parse(const char *json, cJSON **args, struct logreq *req, char **why)
{
	*args = cJSON_Parse(json);
	return logreq_parse(*args, req, why);
}

static void
test_parse_ok(void)
{
	struct logreq req;
	cJSON *args;
	char *why;

	ok(parse("{\"job\":\"r1\",\"step\":3,\"metrics\":{\"loss\":0.5,\"acc\":\"NaN\"}}", &args,
	         &req, &why) == 0,
	   "a single point");
	is_str(req.job, "r1", "job");
	is_int(req.npoints, 1, "one point");
	is_int(req.points[0].step, 3, "its step");
	is_int(req.nvalues, 2, "two values");
	is_str(req.points[0].metrics[0].name, "loss", "first metric");
	ok(req.points[0].metrics[0].value == 0.5, "its value");
	ok(isnan(req.points[0].metrics[1].value), "\"NaN\" is NaN");
	ok(req.status == NULL, "no status");
	logreq_clear(&req);
	cJSON_Delete(args);

	ok(parse("{\"job\":\"r1\",\"metrics\":{\"loss\":\"-inf\"}}", &args, &req, &why) == 0,
	   "a point without a step");
	is_int(req.points[0].step, LOGREQ_NEXT_STEP, "takes the next step");
	ok(isinf(req.points[0].metrics[0].value) && req.points[0].metrics[0].value < 0, "-inf");
	logreq_clear(&req);
	cJSON_Delete(args);

	ok(parse("{\"job\":\"r1\",\"points\":[{\"step\":1,\"metrics\":{\"a\":1}},"
	         "{\"step\":2,\"metrics\":{\"a\":2,\"b\":3}},{\"metrics\":{\"a\":4}}],"
	         "\"status\":\"succeeded\"}",
	         &args, &req, &why) == 0,
	   "batched points and a status");
	is_int(req.npoints, 3, "three points");
	is_int(req.nvalues, 4, "four values");
	is_int(req.points[2].step, LOGREQ_NEXT_STEP, "the last one without a step");
	is_str(req.status, "succeeded", "status");
	logreq_clear(&req);
	cJSON_Delete(args);

	ok(parse("{\"job\":\"r1\",\"status\":\"failed\"}", &args, &req, &why) == 0,
	   "a status alone");
	is_int(req.npoints, 0, "no points");
	logreq_clear(&req);
	cJSON_Delete(args);

	ok(parse("{\"job\":\"r1\",\"step\":9007199254740991,\"metrics\":{\"a\":1e308}}", &args,
	         &req, &why) == 0,
	   "the largest step and a huge value");
	logreq_clear(&req);
	cJSON_Delete(args);
}

/* args must be refused with a message containing want. */
static void
refused(const char *json, const char *want)
{
	struct logreq req;
	cJSON *args;
	char *why = NULL;
	int rc = parse(json, &args, &req, &why);

	if (!ok(rc == -EINVAL && why && strstr(why, want), "refused: %.60s", json))
		TAP_DIAG("  rc %d, why \"%s\", want \"%s\"", rc, why ? why : "(null)", want);
	ok(req.npoints == 0 && req.points == NULL, "  and left empty");
	free(why);
	cJSON_Delete(args);
}

static void
test_parse_refused(void)
{
	char *big, *json;

	refused("{\"step\":1,\"metrics\":{\"a\":1}}", "\"job\" is required");
	refused("{\"job\":\"\",\"metrics\":{\"a\":1}}", "job name is empty");
	refused("{\"job\":\"a\\u0001b\",\"metrics\":{\"a\":1}}", "job name holds a control character");
	refused("{\"job\":\"r\"}", "nothing to log");
	refused("{\"job\":\"r\",\"step\":1}", "\"step\" needs \"metrics\"");
	refused("{\"job\":\"r\",\"step\":-1,\"metrics\":{\"a\":1}}", "\"step\" must be");
	refused("{\"job\":\"r\",\"step\":1.5,\"metrics\":{\"a\":1}}", "\"step\" must be");
	refused("{\"job\":\"r\",\"step\":\"3\",\"metrics\":{\"a\":1}}", "\"step\" must be");
	refused("{\"job\":\"r\",\"step\":9007199254740992,\"metrics\":{\"a\":1}}",
	        "\"step\" must be");
	refused("{\"job\":\"r\",\"metrics\":{}}", "1 to 1000 metrics");
	refused("{\"job\":\"r\",\"metrics\":[1]}", "must be an object");
	refused("{\"job\":\"r\",\"metrics\":{\"loss\":\"abc\"}}", "metric \"loss\": a value");
	refused("{\"job\":\"r\",\"metrics\":{\"loss\":\"1.5\"}}", "metric \"loss\": a value");
	refused("{\"job\":\"r\",\"metrics\":{\"loss\":null}}", "metric \"loss\"");
	refused("{\"job\":\"r\",\"metrics\":{\"loss\":1e999}}", "out of range");
	refused("{\"job\":\"r\",\"metrics\":{\"\":1}}", "must not be empty");
	refused("{\"job\":\"r\",\"metrics\":{\"a\\nb\":1}}", "metric \"a\\x0ab\"");
	refused("{\"job\":\"r\",\"status\":\"done\"}", "argument \"status\"");
	refused("{\"job\":\"r\",\"status\":3}", "argument \"status\": must be a string");
	refused("{\"job\":\"r\",\"points\":[]}", "non-empty list");
	refused("{\"job\":\"r\",\"points\":[{\"step\":1,\"metrics\":{\"a\":1}},3]}",
	        "points[1]: must be an object");
	refused("{\"job\":\"r\",\"points\":[{\"step\":1,\"metrics\":{\"a\":1}},"
	        "{\"step\":2,\"metrics\":{\"b\":\"x\"}}]}",
	        "points[1]: metric \"b\"");
	refused("{\"job\":\"r\",\"points\":[{\"step\":1,\"metric\":{\"a\":1}}]}",
	        "unknown key \"metric\"");
	refused("{\"job\":\"r\",\"points\":[{\"step\":1,\"metrics\":{\"a\":1}}],\"step\":2}",
	        "not both");

	big = malloc(10001);
	memset(big, 'm', 10000);
	big[10000] = '\0';
	json = malloc(10100);
	snprintf(json, 10100, "{\"job\":\"r\",\"metrics\":{\"%s\":1}}", big);
	refused(json, "at most 200 bytes");
	free(json);
	free(big);

	/* One more point than allowed, each as small as can be. */
	size_t n = LOGREQ_MAX_POINTS + 1, len = 64 + n * 20;
	char *at = json = malloc(len);
	at += sprintf(at, "{\"job\":\"r\",\"points\":[");
	for (size_t i = 0; i < n; i++)
		at += sprintf(at, "%s{\"metrics\":{\"a\":1}}", i ? "," : "");
	sprintf(at, "]}");
	refused(json, "too many points");
	free(json);
}

int
main(void)
{
	test_value_text();
	test_step_text();
	test_names();
	test_parse_ok();
	test_parse_refused();
	return tap_done();
}
