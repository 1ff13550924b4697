/*
 * openai_parse: the OpenAI fine-tuning wire format as pure functions.
 *
 * Everything here is defensive because real servers are looser than the
 * published schema (reference/openai-api.md): data is null on message
 * events, error is {} on healthy jobs, result_files is null on Azure, steps
 * arrive as 100.0, and Python-based servers may write NaN or Infinity as
 * bare tokens, which strict JSON parsers (cJSON included) refuse.  A value
 * of the wrong type is treated as absent; only a body that gives nothing
 * usable is an error.
 *
 * JSON goes through jsonlax (NaN and Infinity as bare tokens); this file
 * keeps only the mapping of the wire format to ftmon's structs.  The result
 * file (CSV through csv, or base64) is read in openai_parse_result.c.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonlax.h"
#include "openai_parse.h"
#include "openai_parse_internal.h"
#include "util.h"
#include "xmalloc.h"

/* JSON bodies: the HTTP layer's response cap, and far more nesting than
 * any real body has (cJSON's own limit, so nothing that parsed before is
 * refused now). */
#define OAI_MAX_BODY  (16u * 1024 * 1024)
#define OAI_MAX_DEPTH 1000

int
oai_fail(const char **why, const char *msg)
{
	if (why != NULL)
		*why = msg;
	return -EINVAL;
}

/* ---- JSON helpers ---- */

/* Real bodies nest a few levels; the HTTP layer caps their size. */
static const struct jsonlax_limits oai_json_limits = {
        .max_bytes = OAI_MAX_BODY,
        .max_depth = OAI_MAX_DEPTH,
};

static cJSON *
oai_json_parse(const char *body, size_t len, const char **why)
{
	return jsonlax_parse(body, len, &oai_json_limits, why);
}

/* A non-negative integral number up to OAI_MAX_STEP (100.0 is fine). */
static bool
oai_json_count(const cJSON *it, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(it))
		return false;
	d = it->valuedouble;
	if (!isfinite(d) || d != trunc(d) || d < 0 || d > (double)OAI_MAX_STEP)
		return false;
	*out = (int64_t)d;
	return true;
}

static int64_t
oai_json_count_or(const cJSON *obj, const char *key, int64_t def)
{
	int64_t v;

	if (oai_json_count(cJSON_GetObjectItemCaseSensitive(obj, key), &v))
		return v;
	return def;
}

/* ---- strings ---- */

/* Ids are short runs of visible ASCII: they go into URLs and keys. */
bool
oai_id_valid(const char *s, const char **why)
{
	const char *msg = NULL;
	size_t n;

	if (s == NULL || s[0] == '\0')
		msg = "is empty";
	else if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		msg = "is a dot segment (\".\" or \"..\")";
	for (n = 0; msg == NULL && s[n] != '\0'; n++) {
		if (n >= OAI_MAX_ID)
			msg = "is longer than 256 bytes";
		else if (s[n] < 0x21 || s[n] > 0x7e)
			msg = "holds a byte that is not visible ASCII (a space, a control "
			      "character, DEL or non-ASCII)";
	}
	if (msg != NULL && why != NULL)
		*why = msg;
	return msg == NULL;
}

static bool
oai_id_ok(const char *s)
{
	return oai_id_valid(s, NULL);
}

/* The text of a string item, or NULL: not a string, or it held a NUL. */
static const char *
oai_str(const cJSON *it)
{
	if (!cJSON_IsString(it) || it->valuestring == NULL || jsonlax_is_nul(it))
		return NULL;
	return it->valuestring;
}

bool
oai_name_ok(const char *s)
{
	size_t n;

	if (s == NULL || s[0] == '\0')
		return false;
	for (n = 0; s[n] != '\0'; n++) {
		if (n >= OAI_MAX_METRIC_NAME || !isgraph((unsigned char)s[n]))
			return false;
	}
	return true;
}

/* A copy of at most OAI_MAX_TEXT bytes, cut on a UTF-8 character boundary. */
static char *
oai_text_dup(const char *s)
{
	size_t n = strnlen(s, OAI_MAX_TEXT + 1);

	if (n > OAI_MAX_TEXT) {
		n = OAI_MAX_TEXT;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return xstrndup(s, n);
}

/* The string at key, copied and truncated, or NULL when it is not a string. */
static char *
oai_json_text(const cJSON *obj, const char *key)
{
	const char *s = oai_str(cJSON_GetObjectItemCaseSensitive(obj, key));

	return s ? oai_text_dup(s) : NULL;
}

/* The id at key if it is a valid id, else NULL (not copied). */
static const char *
oai_json_id(const cJSON *obj, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsString(it) || !oai_id_ok(it->valuestring))
		return NULL;
	return it->valuestring;
}

/* ---- job ---- */

/* "code: message" when the error has a message; {} and all-null are healthy. */
static char *
oai_job_error(const cJSON *err)
{
	const char *msg, *code;
	char *s, *t;

	if (!cJSON_IsObject(err))
		return NULL;
	msg = oai_str(cJSON_GetObjectItemCaseSensitive(err, "message"));
	if (msg == NULL || msg[0] == '\0')
		return NULL;
	code = oai_str(cJSON_GetObjectItemCaseSensitive(err, "code"));
	if (code != NULL && code[0] != '\0')
		s = xasprintf("%s: %s", code, msg);
	else
		s = xstrdup(msg);
	t = oai_text_dup(s);
	free(s);
	return t;
}

/* The result file ids; never NULL, invalid entries dropped. */
static char **
oai_job_files(const cJSON *arr)
{
	const cJSON *it;
	char **files;
	size_t n = 0;

	if (!cJSON_IsArray(arr))
		return xcalloc(1, sizeof(*files));
	cJSON_ArrayForEach (it, arr)
		n++;
	files = xcalloc(n + 1, sizeof(*files));
	n = 0;
	cJSON_ArrayForEach (it, arr) {
		if (cJSON_IsString(it) && oai_id_ok(it->valuestring))
			files[n++] = xstrdup(it->valuestring);
	}
	return files;
}

int
oai_parse_job(const cJSON *obj, struct oai_job *out, const char **why)
{
	const char *id, *st;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(obj))
		return oai_fail(why, "job is not an object");
	id = oai_json_id(obj, "id");
	if (id == NULL)
		return oai_fail(why, "job has no valid id");
	st = oai_str(cJSON_GetObjectItemCaseSensitive(obj, "status"));
	if (st == NULL || st[0] == '\0')
		return oai_fail(why, "job has no status");

	out->id = xstrdup(id);
	out->status = oai_text_dup(st);
	out->model = oai_json_text(obj, "model");
	out->fine_tuned_model = oai_json_text(obj, "fine_tuned_model");
	out->created_at = oai_json_count_or(obj, "created_at", -1);
	out->finished_at = oai_json_count_or(obj, "finished_at", -1);
	out->estimated_finish = oai_json_count_or(obj, "estimated_finish", -1);
	out->trained_tokens = oai_json_count_or(obj, "trained_tokens", -1);
	out->error = oai_job_error(cJSON_GetObjectItemCaseSensitive(obj, "error"));
	out->result_files = oai_job_files(cJSON_GetObjectItemCaseSensitive(obj, "result_files"));
	return 0;
}

int
oai_parse_job_body(const char *body, size_t len, struct oai_job *out, const char **why)
{
	cJSON *root;
	int rc;

	memset(out, 0, sizeof(*out));
	root = oai_json_parse(body, len, why);
	if (root == NULL)
		return -EINVAL;
	rc = oai_parse_job(root, out, why);
	cJSON_Delete(root);
	return rc;
}

void
oai_job_clear(struct oai_job *job)
{
	if (job == NULL)
		return;
	free(job->id);
	free(job->status);
	free(job->model);
	free(job->fine_tuned_model);
	free(job->error);
	if (job->result_files != NULL) {
		for (char **f = job->result_files; *f != NULL; f++)
			free(*f);
		free(job->result_files);
	}
	memset(job, 0, sizeof(*job));
}

/* ---- events ---- */

static void
oai_event_add_metric(struct oai_event *ev, const char *name, double value)
{
	if (ev->nmetrics >= OAI_MAX_METRICS || !oai_name_ok(name))
		return;
	/* A repeated key keeps its first value. */
	for (size_t i = 0; i < ev->nmetrics; i++) {
		if (strcmp(ev->metrics[i].name, name) == 0)
			return;
	}
	if (ev->nmetrics == 0 || (ev->nmetrics & (ev->nmetrics - 1)) == 0)
		ev->metrics = xreallocarray(ev->metrics, ev->nmetrics ? ev->nmetrics * 2 : 4,
		                            sizeof(*ev->metrics));
	ev->metrics[ev->nmetrics].name = xstrdup(name);
	ev->metrics[ev->nmetrics].value = value;
	ev->nmetrics++;
}

/* step and total_steps are job data; every other numeric key is a metric. */
static void
oai_event_data(const cJSON *data, struct oai_event *ev)
{
	const cJSON *it, *step = cJSON_GetObjectItemCaseSensitive(data, "step");
	double v;

	if (!oai_json_count(step, &ev->step)) {
		ev->step = -1;
		ev->nrefused += step != NULL && !cJSON_IsNull(step);
	}
	ev->total_steps = oai_json_count_or(data, "total_steps", -1);
	cJSON_ArrayForEach (it, data) {
		if (jsonlax_key_is_nul(it) || jsonlax_is_nul(it)) {
			ev->nrefused++;
			continue;
		}
		if (it->string == NULL || strcmp(it->string, "step") == 0 ||
		    strcmp(it->string, "total_steps") == 0)
			continue;
		if (jsonlax_number(it, &v))
			oai_event_add_metric(ev, it->string, v);
	}
}

static int
oai_parse_event(const cJSON *obj, struct oai_event *out)
{
	const cJSON *data, *type;
	const char *id;

	memset(out, 0, sizeof(*out));
	out->step = out->total_steps = -1;
	if (!cJSON_IsObject(obj))
		return -EINVAL;
	id = oai_json_id(obj, "id");
	if (id == NULL)
		return -EINVAL;
	out->id = xstrdup(id);
	out->created_at = oai_json_count_or(obj, "created_at", 0);
	out->level = oai_json_text(obj, "level");
	out->message = oai_json_text(obj, "message");
	out->nrefused += jsonlax_is_nul(cJSON_GetObjectItemCaseSensitive(obj, "level")) +
	                 jsonlax_is_nul(cJSON_GetObjectItemCaseSensitive(obj, "message"));
	data = cJSON_GetObjectItemCaseSensitive(obj, "data");
	type = cJSON_GetObjectItemCaseSensitive(obj, "type");
	if (cJSON_IsObject(data)) {
		out->is_metrics =
		        oai_str(type) != NULL && strcmp(type->valuestring, "metrics") == 0;
		oai_event_data(data, out);
	}
	return 0;
}

void
oai_event_clear(struct oai_event *ev)
{
	if (ev == NULL)
		return;
	free(ev->id);
	free(ev->level);
	free(ev->message);
	for (size_t i = 0; i < ev->nmetrics; i++)
		free(ev->metrics[i].name);
	free(ev->metrics);
	memset(ev, 0, sizeof(*ev));
	ev->step = ev->total_steps = -1;
}

/* ---- checkpoints ---- */

static int
oai_parse_checkpoint(cJSON *obj, struct oai_checkpoint *out)
{
	cJSON *metrics;
	const char *id;
	char *s;

	memset(out, 0, sizeof(*out));
	out->step = -1;
	if (!cJSON_IsObject(obj))
		return -EINVAL;
	id = oai_json_id(obj, "id");
	if (id == NULL)
		return -EINVAL;
	out->id = xstrdup(id);
	out->created_at = oai_json_count_or(obj, "created_at", 0);
	out->model = oai_json_text(obj, "fine_tuned_model_checkpoint");
	metrics = cJSON_GetObjectItemCaseSensitive(obj, "metrics");
	out->step = oai_json_count_or(obj, "step_number", -1);
	if (!cJSON_IsObject(metrics))
		return 0;
	if (out->step < 0)
		out->step = oai_json_count_or(metrics, "step", -1);
	jsonlax_unmark(metrics);
	s = cJSON_PrintUnformatted(metrics);
	if (s != NULL) {
		out->metrics_json = xstrdup(s);
		cJSON_free(s);
	}
	return 0;
}

void
oai_checkpoint_clear(struct oai_checkpoint *ck)
{
	if (ck == NULL)
		return;
	free(ck->id);
	free(ck->model);
	free(ck->metrics_json);
	memset(ck, 0, sizeof(*ck));
	ck->step = -1;
}

/* ---- list pages ---- */

/* Parse a list body: returns the tree, with *data the array in it. */
static cJSON *
oai_page_open(const char *body, size_t len, cJSON **data, size_t *n, bool *has_more,
              const char **why)
{
	cJSON *root = oai_json_parse(body, len, why);
	cJSON *it;

	if (root == NULL)
		return NULL;
	if (!cJSON_IsObject(root)) {
		oai_fail(why, "body is not an object");
		cJSON_Delete(root);
		return NULL;
	}
	*data = cJSON_GetObjectItemCaseSensitive(root, "data");
	if (!cJSON_IsArray(*data)) {
		oai_fail(why, "data is not an array");
		cJSON_Delete(root);
		return NULL;
	}
	/* Only a real true continues the walk: anything else ends it safely. */
	*has_more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "has_more"));
	*n = 0;
	cJSON_ArrayForEach (it, *data)
		(*n)++;
	return root;
}

/* A job list entry refused: keep what its id was, if it had one. */
static void
oai_job_refused(struct oai_job_page *out, const cJSON *job, size_t cap)
{
	const char *id = oai_str(cJSON_GetObjectItemCaseSensitive(job, "id"));
	struct oai_refused *r;
	size_t len;

	out->nbad++;
	if (id == NULL || oai_id_valid(id, NULL) || out->nrefused == cap)
		return;
	len = strlen(id);
	r = &out->refused[out->nrefused++];
	r->id = xstrndup(id, len < OAI_SHOW_ID ? len : OAI_SHOW_ID); /* copies n bytes */
	r->len = len;
	r->hash = util_hash64(id, len);
	oai_id_valid(id, &r->why);
}

int
oai_parse_job_page(const char *body, size_t len, struct oai_job_page *out, const char **why)
{
	cJSON *root, *data, *it;
	size_t n;

	memset(out, 0, sizeof(*out));
	root = oai_page_open(body, len, &data, &n, &out->has_more, why);
	if (root == NULL)
		return -EINVAL;
	out->jobs = xcalloc(n, sizeof(*out->jobs));
	out->refused = xcalloc(n, sizeof(*out->refused));
	cJSON_ArrayForEach (it, data) {
		if (oai_parse_job(it, &out->jobs[out->n], NULL) == 0)
			out->n++;
		else
			oai_job_refused(out, it, n);
	}
	cJSON_Delete(root);
	return 0;
}

int
oai_parse_event_page(const char *body, size_t len, struct oai_event_page *out, const char **why)
{
	cJSON *root, *data, *it;
	size_t n;

	memset(out, 0, sizeof(*out));
	root = oai_page_open(body, len, &data, &n, &out->has_more, why);
	if (root == NULL)
		return -EINVAL;
	out->events = xcalloc(n, sizeof(*out->events));
	cJSON_ArrayForEach (it, data) {
		if (oai_parse_event(it, &out->events[out->n]) == 0) {
			out->nrefused += out->events[out->n].nrefused;
			out->n++;
		} else {
			oai_event_clear(&out->events[out->n]);
			out->nbad++;
		}
	}
	cJSON_Delete(root);
	return 0;
}

int
oai_parse_checkpoint_page(const char *body, size_t len, struct oai_checkpoint_page *out,
                          const char **why)
{
	cJSON *root, *data, *it;
	size_t n;

	memset(out, 0, sizeof(*out));
	root = oai_page_open(body, len, &data, &n, &out->has_more, why);
	if (root == NULL)
		return -EINVAL;
	out->checkpoints = xcalloc(n, sizeof(*out->checkpoints));
	cJSON_ArrayForEach (it, data) {
		if (oai_parse_checkpoint(it, &out->checkpoints[out->n]) == 0) {
			out->n++;
		} else {
			oai_checkpoint_clear(&out->checkpoints[out->n]);
			out->nbad++;
		}
	}
	cJSON_Delete(root);
	return 0;
}

void
oai_job_page_clear(struct oai_job_page *page)
{
	if (page == NULL)
		return;
	for (size_t i = 0; i < page->n; i++)
		oai_job_clear(&page->jobs[i]);
	free(page->jobs);
	for (size_t i = 0; i < page->nrefused; i++)
		free(page->refused[i].id);
	free(page->refused);
	memset(page, 0, sizeof(*page));
}

void
oai_event_page_clear(struct oai_event_page *page)
{
	if (page == NULL)
		return;
	for (size_t i = 0; i < page->n; i++)
		oai_event_clear(&page->events[i]);
	free(page->events);
	memset(page, 0, sizeof(*page));
}

void
oai_checkpoint_page_clear(struct oai_checkpoint_page *page)
{
	if (page == NULL)
		return;
	for (size_t i = 0; i < page->n; i++)
		oai_checkpoint_clear(&page->checkpoints[i]);
	free(page->checkpoints);
	memset(page, 0, sizeof(*page));
}
