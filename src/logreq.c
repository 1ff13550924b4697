/*
 * logreq: the `log` command's request (see logreq.h).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jobname.h"
#include "logreq.h"
#include "utf8.h"
#include "util.h"
#include "xmalloc.h"

static const char *const logreq_statuses[] = {
        "validating_files", "queued", "running", "succeeded", "failed", "cancelled",
};

/* The three values JSON cannot write as numbers. */
static bool
logreq_special(const char *s, double *v)
{
	if (strcasecmp(s, "nan") == 0)
		*v = NAN;
	else if (strcasecmp(s, "inf") == 0)
		*v = INFINITY;
	else if (strcasecmp(s, "-inf") == 0)
		*v = -INFINITY;
	else
		return false;
	return true;
}

const char *
logreq_value_text(const char *s, double *v)
{
	if (s == NULL || *s == '\0')
		return "a value must not be empty";
	if (logreq_special(s, v))
		return NULL;
	/* strtod also takes hex, "infinity" and "nan(...)": only decimals
	 * here, so what the client accepts is what the daemon does. */
	if (strspn(s, "0123456789.eE+-") != strlen(s) || strpbrk(s, "0123456789") == NULL)
		return "a value must be a decimal number, nan, inf or -inf";
	int rc = util_parse_double(s, v);
	if (rc == -ERANGE)
		return "a value is out of range (write inf or -inf)";
	if (rc < 0)
		return "a value must be a decimal number, nan, inf or -inf";
	return NULL;
}

const char *
logreq_step_text(const char *s, int64_t *step)
{
	uint64_t u;

	if (s == NULL || *s == '\0')
		return "a step must not be empty";
	if (strspn(s, "0123456789") != strlen(s))
		return "a step must be a non-negative integer";
	if (util_parse_uint(s, (uint64_t)LOGREQ_STEP_MAX, &u) < 0)
		return "a step must be at most 2^53-1 (9007199254740991)";
	*step = (int64_t)u;
	return NULL;
}

const char *
logreq_metric_check(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0)
		return "a metric name must not be empty";
	if (len > LOGREQ_NAME_MAX)
		return "a metric name must be at most 200 bytes";
	if (!utf8_valid(name, len))
		return "a metric name must be valid UTF-8";
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];
		/* C0 controls, DEL, and C1 (U+0080..U+009F: 0xC2 0x80..0x9F). */
		if (ch < 0x20 || ch == 0x7f ||
		    (ch == 0xc2 && i + 1 < len && (unsigned char)name[i + 1] < 0xa0))
			return "a metric name must not hold control characters";
	}
	return NULL;
}

const char *
logreq_status_check(const char *status)
{
	for (size_t i = 0; i < ARRAY_SIZE(logreq_statuses); i++)
		if (status && strcmp(status, logreq_statuses[i]) == 0)
			return NULL;
	return "a status must be one of validating_files, queued, running, succeeded, failed, "
	       "cancelled";
}

/* "points[3]" or "" for the single point of "step" + "metrics". */
static char *
logreq_where(size_t i, bool many)
{
	return many ? xasprintf("points[%zu]: ", i) : xstrdup("");
}

static char *
logreq_fail_metric(size_t i, bool many, const char *name, const char *reason)
{
	char *where = logreq_where(i, many);
	char *shown = utf8_show(name, 64);
	char *why = xasprintf("%smetric \"%s\": %s", where, shown, reason);

	free(where);
	free(shown);
	return why;
}

static const char *
logreq_value_json(const cJSON *v, double *out)
{
	if (cJSON_IsNumber(v)) {
		if (!isfinite(v->valuedouble))
			return "a value is out of range (send \"inf\" or \"-inf\")";
		*out = v->valuedouble;
		return NULL;
	}
	if (cJSON_IsString(v) && logreq_special(v->valuestring, out))
		return NULL;
	return "a value must be a number or one of the strings \"nan\", \"inf\", \"-inf\"";
}

static const char *
logreq_step_json(const cJSON *v, int64_t *step)
{
	if (v == NULL || cJSON_IsNull(v)) {
		*step = LOGREQ_NEXT_STEP;
		return NULL;
	}
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) ||
	    v->valuedouble > (double)LOGREQ_STEP_MAX ||
	    (double)(int64_t)v->valuedouble != v->valuedouble)
		return "\"step\" must be an integer from 0 to 2^53-1";
	*step = (int64_t)v->valuedouble;
	return NULL;
}

/* One point from its step (may be NULL) and metrics object. */
static int
logreq_point(const cJSON *step, const cJSON *metrics, size_t i, bool many, struct logreq_point *p,
             char **why)
{
	const char *reason = logreq_step_json(step, &p->step);
	const cJSON *m;
	int n;

	if (reason == NULL && !cJSON_IsObject(metrics))
		reason = "\"metrics\" must be an object {name: value}";
	if (reason == NULL && ((n = cJSON_GetArraySize(metrics)) == 0 || n > LOGREQ_MAX_METRICS))
		reason = "\"metrics\" must hold 1 to 1000 metrics";
	if (reason) {
		char *where = logreq_where(i, many);
		*why = xasprintf("%s%s", where, reason);
		free(where);
		return -EINVAL;
	}
	p->metrics = xcalloc((size_t)n, sizeof(*p->metrics));
	cJSON_ArrayForEach (m, metrics) {
		struct logreq_metric *lm = &p->metrics[p->nmetrics];
		if ((reason = logreq_metric_check(m->string)) ||
		    (reason = logreq_value_json(m, &lm->value))) {
			*why = logreq_fail_metric(i, many, m->string, reason);
			return -EINVAL;
		}
		lm->name = m->string;
		p->nmetrics++;
	}
	return 0;
}

static int
logreq_points(const cJSON *points, struct logreq *req, char **why)
{
	const cJSON *e;
	int n = cJSON_GetArraySize(points);

	if (!cJSON_IsArray(points) || n == 0) {
		*why = xstrdup(
		        "argument \"points\" must be a non-empty list of {\"step\", \"metrics\"}");
		return -EINVAL;
	}
	if (n > LOGREQ_MAX_POINTS) {
		*why = xasprintf("too many points in one request (%d; at most %d): split it", n,
		                 LOGREQ_MAX_POINTS);
		return -EINVAL;
	}
	req->points = xcalloc((size_t)n, sizeof(*req->points));
	cJSON_ArrayForEach (e, points) {
		size_t i = req->npoints;
		const cJSON *k;
		if (!cJSON_IsObject(e)) {
			*why = xasprintf("points[%zu]: must be an object {\"step\", \"metrics\"}",
			                 i);
			return -EINVAL;
		}
		cJSON_ArrayForEach (k, e)
			if (strcmp(k->string, "step") != 0 && strcmp(k->string, "metrics") != 0) {
				char *shown = utf8_show(k->string, 64);
				*why = xasprintf("points[%zu]: unknown key \"%s\" (step, metrics)",
				                 i, shown);
				free(shown);
				return -EINVAL;
			}
		req->npoints++;
		if (logreq_point(cJSON_GetObjectItemCaseSensitive(e, "step"),
		                 cJSON_GetObjectItemCaseSensitive(e, "metrics"), i, true,
		                 &req->points[i], why) < 0)
			return -EINVAL;
		req->nvalues += req->points[i].nmetrics;
	}
	return 0;
}

static int
logreq_job_status(const cJSON *args, struct logreq *req, char **why)
{
	const cJSON *job = cJSON_GetObjectItemCaseSensitive(args, "job");
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(args, "status");
	const char *reason;

	if (!cJSON_IsString(job)) {
		*why = xstrdup("argument \"job\" is required (a string)");
		return -EINVAL;
	}
	if ((reason = jobname_check(job->valuestring))) {
		*why = xasprintf("argument \"job\": %s", reason);
		return -EINVAL;
	}
	req->job = job->valuestring;
	if (status == NULL || cJSON_IsNull(status))
		return 0;
	if (!cJSON_IsString(status) || (reason = logreq_status_check(status->valuestring))) {
		*why = xasprintf("argument \"status\": %s",
		                 cJSON_IsString(status) ? reason : "must be a string");
		return -EINVAL;
	}
	req->status = status->valuestring;
	return 0;
}

static int
logreq_parse_points(const cJSON *args, struct logreq *req, char **why)
{
	const cJSON *points = cJSON_GetObjectItemCaseSensitive(args, "points");
	const cJSON *step = cJSON_GetObjectItemCaseSensitive(args, "step");
	const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(args, "metrics");

	if (points && (step || metrics)) {
		*why = xstrdup("give either \"points\" or \"step\" and \"metrics\", not both");
		return -EINVAL;
	}
	if (points)
		return logreq_points(points, req, why);
	if (metrics == NULL) {
		if (step) {
			*why = xstrdup("argument \"step\" needs \"metrics\"");
			return -EINVAL;
		}
		if (req->status == NULL) {
			*why = xstrdup(
			        "nothing to log: give \"metrics\", \"points\" or \"status\"");
			return -EINVAL;
		}
		return 0;
	}
	req->points = xcalloc(1, sizeof(*req->points));
	req->npoints = 1;
	if (logreq_point(step, metrics, 0, false, &req->points[0], why) < 0)
		return -EINVAL;
	req->nvalues = req->points[0].nmetrics;
	return 0;
}

int
logreq_parse(const cJSON *args, struct logreq *req, char **why)
{
	memset(req, 0, sizeof(*req));
	*why = NULL;
	if (!cJSON_IsObject(args)) {
		*why = xstrdup("arguments must be an object");
		return -EINVAL;
	}
	if (logreq_job_status(args, req, why) < 0 || logreq_parse_points(args, req, why) < 0) {
		logreq_clear(req);
		return -EINVAL;
	}
	return 0;
}

void
logreq_clear(struct logreq *req)
{
	for (size_t i = 0; i < req->npoints; i++)
		free(req->points[i].metrics);
	free(req->points);
	memset(req, 0, sizeof(*req));
}
