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
 * NaN handling: when cJSON rejects a body, a copy is made in which the bare
 * tokens NaN, Infinity and -Infinity (outside string literals) become
 * marker strings that begin with a control character no real metric value
 * carries; metric readers turn the markers back into doubles.  Only bodies
 * that fail strict parsing pay for the copy.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "openai_parse.h"
#include "xmalloc.h"

/* The result file may hold at most this many points. */
#define OAI_MAX_POINTS 10000000

/* Decoded marker strings, and the JSON the sanitizer writes for each token. */
#define OAI_MARK_NAN  "\001ftmon-nan"
#define OAI_MARK_INF  "\001ftmon-inf"
#define OAI_MARK_NINF "\001ftmon-ninf"

static const struct {
	const char *token;
	const char *json;
} oai_nonfinite[] = {
        /* Longest first, so "-Infinity" is not read as "-" and "Infinity". */
        {"-Infinity", "\"\\u0001ftmon-ninf\""}, {"Infinity", "\"\\u0001ftmon-inf\""},
        {"-NaN", "\"\\u0001ftmon-nan\""},       {"NaN", "\"\\u0001ftmon-nan\""},
        {"-inf", "\"\\u0001ftmon-ninf\""},      {"inf", "\"\\u0001ftmon-inf\""},
        {"-nan", "\"\\u0001ftmon-nan\""},       {"nan", "\"\\u0001ftmon-nan\""},
};

static int
oai_fail(const char **why, const char *msg)
{
	if (why != NULL)
		*why = msg;
	return -EINVAL;
}

/* ---- JSON helpers ---- */

static bool
oai_json_wordchar(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.';
}

/* If a non-finite token starts at body[i], return its table index. */
static int
oai_json_token_at(const char *body, size_t len, size_t i)
{
	if (i > 0 && (oai_json_wordchar(body[i - 1]) || body[i - 1] == '-'))
		return -1;
	for (size_t k = 0; k < sizeof(oai_nonfinite) / sizeof(oai_nonfinite[0]); k++) {
		size_t tl = strlen(oai_nonfinite[k].token);
		if (len - i < tl || memcmp(body + i, oai_nonfinite[k].token, tl) != 0)
			continue;
		if (i + tl < len && oai_json_wordchar(body[i + tl]))
			continue;
		return (int)k;
	}
	return -1;
}

/*
 * Copy body into out with bare non-finite tokens replaced by marker
 * strings.  String literals are copied untouched (a message saying "NaN"
 * stays a message).  Returns the number of replacements.
 */
static size_t
oai_json_sanitize(const char *body, size_t len, struct buf *out)
{
	size_t i, start = 0, count = 0;
	bool in_str = false;

	for (i = 0; i < len; i++) {
		char c = body[i];
		int k;

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"') {
			in_str = true;
			continue;
		}
		if (c != 'N' && c != 'I' && c != 'n' && c != 'i' && c != '-')
			continue;
		k = oai_json_token_at(body, len, i);
		if (k < 0)
			continue;
		buf_append(out, body + start, i - start);
		buf_puts(out, oai_nonfinite[k].json);
		i += strlen(oai_nonfinite[k].token) - 1;
		start = i + 1;
		count++;
	}
	if (start < len)
		buf_append(out, body + start, len - start);
	return count;
}

/* Parse a body, retrying with non-finite tokens sanitized. */
static cJSON *
oai_json_parse(const char *body, size_t len, const char **why)
{
	struct buf clean = BUF_INIT;
	cJSON *root;

	if (body == NULL || len == 0) {
		oai_fail(why, "empty body");
		return NULL;
	}
	root = cJSON_ParseWithLength(body, len);
	if (root != NULL)
		return root;
	if (oai_json_sanitize(body, len, &clean) > 0)
		root = cJSON_ParseWithLength(clean.data, clean.len);
	buf_free(&clean);
	if (root == NULL)
		oai_fail(why, "invalid JSON");
	return root;
}

/* Is it one of the sanitizer's marker strings?  Stores its value. */
static bool
oai_json_marker(const cJSON *it, double *out)
{
	const char *s;

	if (!cJSON_IsString(it) || it->valuestring == NULL || it->valuestring[0] != '\001')
		return false;
	s = it->valuestring;
	if (strcmp(s, OAI_MARK_NAN) == 0)
		*out = NAN;
	else if (strcmp(s, OAI_MARK_INF) == 0)
		*out = INFINITY;
	else if (strcmp(s, OAI_MARK_NINF) == 0)
		*out = -INFINITY;
	else
		return false;
	return true;
}

/* A metric value: any JSON number (huge ones are inf already) or a marker. */
static bool
oai_json_double(const cJSON *it, double *out)
{
	if (cJSON_IsNumber(it)) {
		*out = it->valuedouble;
		return true;
	}
	return oai_json_marker(it, out);
}

/* A non-negative integral number that fits int64_t (100.0 is fine). */
static bool
oai_json_count(const cJSON *it, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(it))
		return false;
	d = it->valuedouble;
	if (!isfinite(d) || d != trunc(d) || d < 0 || d >= 9223372036854775808.0)
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

/* Turn marker strings back into nulls before re-serialising a subtree. */
static void
oai_json_unmark(cJSON *node)
{
	double unused;

	for (cJSON *c = node->child; c != NULL; c = c->next) {
		if (oai_json_marker(c, &unused)) {
			cJSON_free(c->valuestring);
			c->valuestring = NULL;
			c->type = cJSON_NULL;
		} else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
			oai_json_unmark(c);
		}
	}
}

/* ---- strings ---- */

/* Ids are short runs of visible ASCII: they go into URLs and keys. */
static bool
oai_id_ok(const char *s)
{
	size_t n;

	if (s == NULL || s[0] == '\0')
		return false;
	for (n = 0; s[n] != '\0'; n++) {
		if (n >= OAI_MAX_ID || s[n] < 0x21 || s[n] > 0x7e)
			return false;
	}
	return true;
}

static bool
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
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsString(it) || it->valuestring == NULL)
		return NULL;
	return oai_text_dup(it->valuestring);
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
	const cJSON *msg, *code;
	char *s, *t;

	if (!cJSON_IsObject(err))
		return NULL;
	msg = cJSON_GetObjectItemCaseSensitive(err, "message");
	if (!cJSON_IsString(msg) || msg->valuestring == NULL || msg->valuestring[0] == '\0')
		return NULL;
	code = cJSON_GetObjectItemCaseSensitive(err, "code");
	if (cJSON_IsString(code) && code->valuestring != NULL && code->valuestring[0] != '\0')
		s = xasprintf("%s: %s", code->valuestring, msg->valuestring);
	else
		s = xstrdup(msg->valuestring);
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
	const cJSON *st;
	const char *id;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(obj))
		return oai_fail(why, "job is not an object");
	id = oai_json_id(obj, "id");
	if (id == NULL)
		return oai_fail(why, "job has no valid id");
	st = cJSON_GetObjectItemCaseSensitive(obj, "status");
	if (!cJSON_IsString(st) || st->valuestring == NULL || st->valuestring[0] == '\0')
		return oai_fail(why, "job has no status");

	out->id = xstrdup(id);
	out->status = oai_text_dup(st->valuestring);
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

bool
oai_status_finished(const char *status)
{
	return status != NULL &&
	       (strcmp(status, "succeeded") == 0 || strcmp(status, "failed") == 0 ||
	        strcmp(status, "cancelled") == 0);
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
	const cJSON *it;
	double v;

	ev->step = oai_json_count_or(data, "step", -1);
	ev->total_steps = oai_json_count_or(data, "total_steps", -1);
	cJSON_ArrayForEach (it, data) {
		if (it->string == NULL || strcmp(it->string, "step") == 0 ||
		    strcmp(it->string, "total_steps") == 0)
			continue;
		if (oai_json_double(it, &v))
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
	data = cJSON_GetObjectItemCaseSensitive(obj, "data");
	type = cJSON_GetObjectItemCaseSensitive(obj, "type");
	if (cJSON_IsObject(data)) {
		out->is_metrics = cJSON_IsString(type) && type->valuestring != NULL &&
		                  strcmp(type->valuestring, "metrics") == 0;
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
	oai_json_unmark(metrics);
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
	cJSON_ArrayForEach (it, data) {
		if (oai_parse_job(it, &out->jobs[out->n], NULL) == 0)
			out->n++;
		else
			out->nbad++;
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

/* ---- the event walk ---- */

/*
 * A throwaway hash set of event ids (open addressing over indices into the
 * walk's events), rebuilt for each page so that dedupe stays linear per
 * page instead of quadratic over the walk.
 */
struct oai_idset {
	size_t *slot; /* index + 1, 0 = empty */
	size_t mask;
};

static size_t
oai_idset_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static void
oai_idset_init(struct oai_idset *set, size_t n)
{
	size_t size = 16;

	while (size < 2 * n)
		size *= 2;
	set->slot = xcalloc(size, sizeof(*set->slot));
	set->mask = size - 1;
}

/* The index of the event with this id, or SIZE_MAX. */
static size_t
oai_idset_find(const struct oai_idset *set, const struct oai_event *ev, const char *id)
{
	size_t h = oai_idset_hash(id) & set->mask;

	for (; set->slot[h] != 0; h = (h + 1) & set->mask) {
		if (strcmp(ev[set->slot[h] - 1].id, id) == 0)
			return set->slot[h] - 1;
	}
	return SIZE_MAX;
}

static void
oai_idset_add(struct oai_idset *set, const struct oai_event *ev, size_t idx)
{
	size_t h = oai_idset_hash(ev[idx].id) & set->mask;

	while (set->slot[h] != 0)
		h = (h + 1) & set->mask;
	set->slot[h] = idx + 1;
}

void
oai_walk_init(struct oai_walk *w, const char *stop_id, unsigned max_pages)
{
	memset(w, 0, sizeof(*w));
	if (stop_id != NULL && stop_id[0] != '\0')
		w->stop_id = xstrdup(stop_id);
	w->max_pages = max_pages ? max_pages : 1;
}

static void
oai_walk_reserve(struct oai_walk *w, size_t extra)
{
	size_t cap = w->cap ? w->cap : 16;

	if (w->n + extra <= w->cap)
		return;
	while (cap < w->n + extra)
		cap *= 2;
	w->events = xreallocarray(w->events, cap, sizeof(*w->events));
	w->cap = cap;
}

/* Move the page's events into the walk up to stop_id, skipping repeats. */
static void
oai_walk_take(struct oai_walk *w, struct oai_event_page *page, struct oai_idset *set)
{
	oai_walk_reserve(w, page->n);
	for (size_t i = 0; i < page->n; i++) {
		struct oai_event *ev = &page->events[i];

		if (w->stop_id != NULL && strcmp(ev->id, w->stop_id) == 0) {
			w->found_stop = true;
			return;
		}
		if (oai_idset_find(set, w->events, ev->id) != SIZE_MAX)
			continue;
		w->events[w->n] = *ev;
		memset(ev, 0, sizeof(*ev));
		oai_idset_add(set, w->events, w->n);
		w->n++;
	}
}

enum oai_walk_next
oai_walk_feed(struct oai_walk *w, struct oai_event_page *page)
{
	struct oai_idset set;
	bool has_more = page->has_more, repeated;
	char *cursor;

	w->pages++;
	if (page->n == 0 || w->found_stop || w->finished) {
		/* Nothing to follow: if the server claims more, we cannot reach it. */
		if (page->n == 0 && has_more)
			w->truncated = true;
		oai_event_page_clear(page);
		return OAI_WALK_DONE;
	}
	oai_idset_init(&set, w->n + page->n);
	for (size_t i = 0; i < w->n; i++)
		oai_idset_add(&set, w->events, i);
	/*
	 * Every cursor used so far is the id of an event collected from an
	 * earlier page (the last one of its page), so a next cursor found among
	 * those is a repeated cursor: following it would make the server serve
	 * old pages again, forever if it is broken.
	 */
	cursor = xstrdup(page->events[page->n - 1].id);
	repeated = oai_idset_find(&set, w->events, cursor) != SIZE_MAX;
	oai_walk_take(w, page, &set);
	free(set.slot);
	oai_event_page_clear(page);

	if (w->found_stop || !has_more) {
		free(cursor);
		return OAI_WALK_DONE;
	}
	if (repeated || w->pages >= w->max_pages) {
		w->truncated = true;
		free(cursor);
		return OAI_WALK_DONE;
	}
	free(w->after);
	w->after = cursor;
	return OAI_WALK_MORE;
}

const char *
oai_walk_newest_id(const struct oai_walk *w)
{
	if (w->n == 0)
		return NULL;
	return w->finished ? w->events[w->n - 1].id : w->events[0].id;
}

void
oai_walk_finish(struct oai_walk *w)
{
	if (w->finished)
		return;
	for (size_t i = 0, j = w->n; i + 1 < j; i++, j--) {
		struct oai_event tmp = w->events[i];
		w->events[i] = w->events[j - 1];
		w->events[j - 1] = tmp;
	}
	w->finished = true;
}

void
oai_walk_clear(struct oai_walk *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->n; i++)
		oai_event_clear(&w->events[i]);
	free(w->events);
	free(w->stop_id);
	free(w->after);
	memset(w, 0, sizeof(*w));
}

/* ---- result file ---- */

/* A CSV reader over a buffer: cells of the current record, NUL-separated. */
struct oai_csv {
	const char *p, *end;
	struct buf text;
	size_t *off;
	size_t n, cap;
};

static void
oai_csv_start_cell(struct oai_csv *c)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->off = xreallocarray(c->off, c->cap, sizeof(*c->off));
	}
	c->off[c->n++] = c->text.len;
}

/* Read the next record (RFC 4180 quoting, LF, CRLF or CR); false at the end. */
static bool
oai_csv_next(struct oai_csv *c)
{
	bool quoted = false;

	if (c->p >= c->end)
		return false;
	buf_reset(&c->text);
	c->n = 0;
	oai_csv_start_cell(c);
	while (c->p < c->end) {
		const char *run = c->p;
		char ch;

		/* Copy plain bytes in one go to keep big files cheap. */
		while (c->p < c->end && *c->p != '"' && *c->p != ',' && *c->p != '\n' &&
		       *c->p != '\r')
			c->p++;
		if (quoted) {
			while (c->p < c->end && *c->p != '"')
				c->p++;
		}
		buf_append(&c->text, run, (size_t)(c->p - run));
		if (c->p >= c->end)
			break;
		ch = *c->p++;
		if (ch == '"') {
			if (quoted && c->p < c->end && *c->p == '"') {
				buf_append(&c->text, "\"", 1);
				c->p++;
			} else if (quoted) {
				quoted = false;
			} else if (c->text.len == c->off[c->n - 1]) {
				quoted = true;
			} else {
				buf_append(&c->text, "\"", 1);
			}
		} else if (ch == ',') {
			buf_append(&c->text, "", 1);
			oai_csv_start_cell(c);
		} else {
			if (ch == '\r' && c->p < c->end && *c->p == '\n')
				c->p++;
			break;
		}
	}
	buf_append(&c->text, "", 1);
	return true;
}

/* Cell i, trimmed of blanks in place. */
static char *
oai_csv_cell(struct oai_csv *c, size_t i)
{
	char *s = c->text.data + c->off[i];
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

static bool
oai_csv_blank(struct oai_csv *c)
{
	return c->n == 1 && c->text.data[c->off[0]] == '\0';
}

static void
oai_csv_free(struct oai_csv *c)
{
	buf_free(&c->text);
	free(c->off);
}

/* A step cell: a non-negative integer ("100.0" allowed). */
static bool
oai_result_step(const char *s, int64_t *out)
{
	char *end;
	double d;

	if (*s == '\0' || *s == '-' || *s == '+')
		return false;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*end == '\0' && errno == 0) {
		*out = v;
		return true;
	}
	d = strtod(s, &end);
	if (*end != '\0' || !isfinite(d) || d != trunc(d) || d >= 9223372036854775808.0)
		return false;
	*out = (int64_t)d;
	return true;
}

/* A value cell: empty or non-numeric is missing; nan/inf are kept. */
static bool
oai_result_value(const char *s, double *out)
{
	char *end;

	if (*s == '\0')
		return false;
	*out = strtod(s, &end);
	return *end == '\0';
}

/*
 * Map header cells to columns: col[i] is -2 for the step column, -1 for a
 * column that is ignored, else an index into res->names.  Returns the step
 * column or -1.
 */
static long
oai_result_header(struct oai_csv *c, struct oai_result *res, int *col)
{
	long step = -1;
	size_t nnames = 0;

	res->names = xcalloc(c->n + 1, sizeof(*res->names));
	for (size_t i = 0; i < c->n; i++) {
		const char *name = oai_csv_cell(c, i);
		size_t k;

		col[i] = -1;
		if (i == 0 && strncmp(name, "\xef\xbb\xbf", 3) == 0)
			name += 3;
		if (strcmp(name, "step") == 0) {
			if (step < 0) {
				step = (long)i;
				col[i] = -2;
			}
			continue;
		}
		if (strcmp(name, "train_accuracy") == 0)
			name = "train_mean_token_accuracy";
		if (!oai_name_ok(name) || nnames >= OAI_MAX_METRICS)
			continue;
		for (k = 0; k < nnames && strcmp(res->names[k], name) != 0; k++)
			;
		if (k < nnames)
			continue;
		res->names[nnames] = xstrdup(name);
		col[i] = (int)nnames++;
	}
	return step;
}

static void
oai_result_push(struct oai_result *res, size_t *cap, int64_t step, const char *name, double v)
{
	if (res->n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		res->points = xreallocarray(res->points, *cap, sizeof(*res->points));
	}
	res->points[res->n].step = step;
	res->points[res->n].name = name;
	res->points[res->n].value = v;
	res->n++;
}

/* One data row; false when it cannot be read (counted by the caller).
 * val and have are scratch arrays of ncol entries. */
static bool
oai_result_row(struct oai_csv *c, const int *col, size_t ncol, long stepcol, struct oai_result *res,
               size_t *cap, double *val, bool *have)
{
	size_t nvals = 0;
	int64_t step;

	if (c->n != ncol || !oai_result_step(oai_csv_cell(c, (size_t)stepcol), &step))
		return false;
	for (size_t i = 0; i < ncol; i++) {
		have[i] = col[i] >= 0 && oai_result_value(oai_csv_cell(c, i), &val[i]);
		nvals += have[i];
	}
	/* All of a row or none of it, so a capped file ends on a whole step. */
	if (res->n + nvals > OAI_MAX_POINTS)
		return false;
	for (size_t i = 0; i < ncol; i++) {
		if (have[i])
			oai_result_push(res, cap, step, res->names[col[i]], val[i]);
	}
	return true;
}

/* Parse CSV text with a step column somewhere in its header. */
static int
oai_result_csv(const char *p, size_t len, struct oai_result *res, const char **why)
{
	struct oai_csv c = {.p = p, .end = p + len};
	size_t ncol, cap = 0;
	long stepcol;
	double *val;
	bool *have;
	int *col;

	if (!oai_csv_next(&c)) {
		oai_csv_free(&c);
		return oai_fail(why, "empty result file");
	}
	ncol = c.n;
	col = xcalloc(ncol, sizeof(*col));
	stepcol = oai_result_header(&c, res, col);
	if (stepcol < 0) {
		free(col);
		oai_csv_free(&c);
		oai_result_clear(res);
		return oai_fail(why, "result file has no step column");
	}
	val = xcalloc(ncol, sizeof(*val));
	have = xcalloc(ncol, sizeof(*have));
	while (oai_csv_next(&c)) {
		if (oai_csv_blank(&c))
			continue;
		if (!oai_result_row(&c, col, ncol, stepcol, res, &cap, val, have))
			res->nbad++;
	}
	free(val);
	free(have);
	free(col);
	oai_csv_free(&c);
	return 0;
}

/* Skip a UTF-8 byte order mark and leading whitespace. */
static const char *
oai_result_skip(const char *p, size_t *len)
{
	if (*len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
		p += 3;
		*len -= 3;
	}
	while (*len > 0 && isspace((unsigned char)*p)) {
		p++;
		(*len)--;
	}
	return p;
}

static int
oai_base64_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

/* Decode base64 ignoring whitespace; NULL when it is not base64. */
static char *
oai_base64_decode(const char *s, size_t len, size_t *outlen)
{
	char *out = xmalloc(len / 4 * 3 + 3);
	size_t o = 0, nsig = 0, npad = 0;
	uint32_t acc = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		int v;

		if (isspace(ch))
			continue;
		if (ch == '=') {
			npad++;
			continue;
		}
		v = oai_base64_value(ch);
		if (v < 0 || npad > 0)
			goto bad;
		acc = (acc << 6) | (uint32_t)v;
		if (++nsig % 4 == 0) {
			out[o++] = (char)(acc >> 16);
			out[o++] = (char)(acc >> 8);
			out[o++] = (char)acc;
		}
	}
	if (nsig == 0 || nsig % 4 == 1 || npad > 2 || (npad > 0 && (nsig + npad) % 4 != 0))
		goto bad;
	if (nsig % 4 == 2) {
		out[o++] = (char)(acc >> 4);
	} else if (nsig % 4 == 3) {
		out[o++] = (char)(acc >> 10);
		out[o++] = (char)(acc >> 2);
	}
	*outlen = o;
	return out;
bad:
	free(out);
	return NULL;
}

/* Does the text start with a header whose first cell is step? */
static bool
oai_result_plain(const char *p, size_t len)
{
	size_t n = 4;

	if (len >= 6 && memcmp(p, "\"step\"", 6) == 0)
		n = 6;
	else if (len < 4 || memcmp(p, "step", 4) != 0)
		return false;
	return len == n || p[n] == ',' || p[n] == '\r' || p[n] == '\n';
}

int
oai_parse_result_file(const char *body, size_t len, struct oai_result *out, const char **why)
{
	size_t rest = len, dlen;
	const char *p;
	char *dec;
	int rc;

	memset(out, 0, sizeof(*out));
	if (body == NULL || len == 0)
		return oai_fail(why, "empty result file");
	p = oai_result_skip(body, &rest);
	if (oai_result_plain(p, rest))
		return oai_result_csv(p, rest, out, why);
	dec = oai_base64_decode(body, len, &dlen);
	if (dec != NULL) {
		rest = dlen;
		p = oai_result_skip(dec, &rest);
		rc = oai_result_csv(p, rest, out, why);
		free(dec);
		return rc;
	}
	/* Not base64: maybe plain CSV with the step column further right. */
	rc = oai_result_csv(p, rest, out, why);
	if (rc < 0)
		oai_fail(why, "result file is neither CSV with a step column nor base64");
	return rc;
}

void
oai_result_clear(struct oai_result *res)
{
	if (res == NULL)
		return;
	free(res->points);
	if (res->names != NULL) {
		for (char **n = res->names; *n != NULL; n++)
			free(*n);
		free(res->names);
	}
	memset(res, 0, sizeof(*res));
}

/* ---- HTTP status and retries ---- */

enum oai_http_class
oai_classify_status(long status)
{
	if (status == 0)
		return OAI_HTTP_RETRY;
	if (status >= 200 && status <= 299)
		return OAI_HTTP_OK;
	if (status == 401 || status == 403)
		return OAI_HTTP_AUTH;
	if (status == 404)
		return OAI_HTTP_NOT_FOUND;
	if (status == 408 || status == 409 || status == 429 || (status >= 500 && status <= 599))
		return OAI_HTTP_RETRY;
	return OAI_HTTP_FATAL;
}

/* A plain decimal number of units (no hex, nan or inf) as milliseconds. */
static bool
oai_retry_number(const char *s, double scale, double *ms)
{
	char *end;
	double v;

	if (s == NULL)
		return false;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0' || strspn(s, "0123456789.eE+- \t") != strlen(s))
		return false;
	v = strtod(s, &end);
	while (isspace((unsigned char)*end))
		end++;
	if (end == s || *end != '\0' || !isfinite(v))
		return false;
	*ms = v < 0 ? 0 : v * scale;
	return true;
}

/* An IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT") as milliseconds from now. */
static bool
oai_retry_date(const char *s, int64_t now, double *ms)
{
	struct tm tm;
	const char *end;
	time_t t;

	if (s == NULL)
		return false;
	while (isspace((unsigned char)*s))
		s++;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL)
		return false;
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0')
		return false;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*ms = t <= now ? 0 : ((double)t - (double)now) * 1000.0;
	return true;
}

uint64_t
oai_retry_delay_ms(unsigned attempt, const char *retry_after_ms, const char *retry_after,
                   int64_t now, double rand01, uint64_t cap_ms)
{
	uint64_t base;
	double hint, delay;

	/* A hint of zero, a negative one or a date in the past says "now":
	 * honouring it would retry in a tight loop, so the formula decides. */
	if ((oai_retry_number(retry_after_ms, 1.0, &hint) ||
	     oai_retry_number(retry_after, 1000.0, &hint) ||
	     oai_retry_date(retry_after, now, &hint)) &&
	    hint > 0) {
		hint = ceil(hint);
		return hint >= (double)cap_ms ? cap_ms : (uint64_t)hint;
	}
	/* 500 ms << 40 is already years: stop doubling before it overflows. */
	base = attempt >= 40 ? UINT64_MAX : 500ULL << attempt;
	if (base > cap_ms)
		base = cap_ms;
	if (!(rand01 >= 0))
		rand01 = 0;
	else if (rand01 > 1)
		rand01 = 1;
	delay = (double)base * (1.0 - 0.25 * rand01) + 0.5;
	return delay >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)delay;
}
