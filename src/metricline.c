/*
 * metricline: one JSONL line into a step, metrics, status and job name.
 * Names are written into one reused text buffer; the metric array keeps
 * offsets into it while it may still move and pointers once it is done.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jobname.h"
#include "jsonlax.h"
#include "metricline.h"
#include "utf8.h"
#include "xmalloc.h"

static const struct jsonlax_limits metricline_limits = {
        .max_bytes = METRICLINE_MAX_BYTES,
        .max_depth = METRICLINE_MAX_DEPTH,
};

/* Where the name of a metric being built stands: the prefix so far. */
struct metricline_path {
	char name[METRICLINE_MAX_NAME + 1];
	size_t len;
};

/* Append s[0..n) and a NUL to the text; returns its offset. */
static size_t
metricline_put(struct metricline *ml, const char *s, size_t n)
{
	size_t at = ml->text_len;

	if (ml->text_len + n + 1 > ml->text_cap) {
		ml->text_cap = (ml->text_len + n + 1) * 2;
		ml->text = xrealloc(ml->text, ml->text_cap);
	}
	memcpy(ml->text + at, s, n);
	ml->text[at + n] = '\0';
	ml->text_len += n + 1;
	return at;
}

static const char *
metricline_add(struct metricline *ml, const struct metricline_path *p, double value)
{
	if (ml->nmetrics == METRICLINE_MAX_METRICS)
		return "more than 1024 metrics in one line";
	if (ml->nmetrics == ml->metrics_cap) {
		ml->metrics_cap = ml->metrics_cap ? ml->metrics_cap * 2 : 16;
		ml->metrics = xreallocarray(ml->metrics, ml->metrics_cap, sizeof(*ml->metrics));
	}
	/* An offset until the text stops moving (metricline_finish). */
	ml->metrics[ml->nmetrics].name =
	        (const char *)(uintptr_t)metricline_put(ml, p->name, p->len);
	ml->metrics[ml->nmetrics++].value = value;
	return NULL;
}

/* A key as one segment of a metric name. */
static const char *
metricline_key_ok(const cJSON *it)
{
	const unsigned char *k = (const unsigned char *)it->string;
	size_t len;

	if (jsonlax_key_is_nul(it))
		return "metric name holds a NUL";
	if (k == NULL || k[0] == '\0')
		return "empty metric name";
	len = strlen((const char *)k);
	for (size_t i = 0; i < len; i++)
		if (k[i] < 0x20 || k[i] == 0x7f)
			return "metric name holds a control character";
	if (!utf8_valid((const char *)k, len))
		return "metric name is not valid UTF-8";
	return NULL;
}

/* p += "/" key (no slash at the top); false when the name gets too long. */
static bool
metricline_path_push(struct metricline_path *p, const char *key)
{
	size_t klen = strlen(key), sep = p->len > 0;

	if (p->len + sep + klen > METRICLINE_MAX_NAME)
		return false;
	if (sep)
		p->name[p->len] = '/';
	memcpy(p->name + p->len + sep, key, klen);
	p->len += sep + klen;
	p->name[p->len] = '\0';
	return true;
}

/* One member below the top level (or a top-level metric): numbers are
 * metrics, objects recurse, everything else is ignored. */
static const char *
metricline_walk(struct metricline *ml, const cJSON *it, struct metricline_path *p)
{
	size_t saved = p->len;
	const char *why = NULL;
	double v;
	bool num = jsonlax_number(it, &v);

	if (!num && !cJSON_IsObject(it))
		return NULL;
	if ((why = metricline_key_ok(it)) != NULL)
		return why;
	if (!metricline_path_push(p, it->string))
		return "metric name longer than 512 bytes";
	if (num) {
		why = metricline_add(ml, p, v);
	} else {
		for (const cJSON *c = it->child; c != NULL && why == NULL; c = c->next)
			why = metricline_walk(ml, c, p);
	}
	p->len = saved;
	p->name[saved] = '\0';
	return why;
}

static bool
metricline_step(const cJSON *it, int64_t *step)
{
	double d;

	if (!cJSON_IsNumber(it))
		return false;
	d = it->valuedouble;
	if (!(d >= 0 && d <= (double)METRICLINE_MAX_STEP) || floor(d) != d)
		return false;
	*step = (int64_t)d;
	return true;
}

/* A "status" or "job" string, copied into the text (offset in *at). */
static const char *
metricline_name(struct metricline *ml, const cJSON *it, const char *not_string, size_t *at)
{
	const char *why;

	if (!cJSON_IsString(it) || it->valuestring == NULL || jsonlax_nonfinite(it, &(double){0}))
		return not_string;
	if (jsonlax_is_nul(it))
		return "a name holds a NUL";
	if ((why = jobname_check(it->valuestring)) != NULL)
		return why;
	*at = metricline_put(ml, it->valuestring, strlen(it->valuestring));
	return NULL;
}

static const char *
metricline_top(struct metricline *ml, const cJSON *root, size_t *status_at, size_t *job_at)
{
	struct metricline_path p = {.len = 0};
	const char *why = NULL;

	for (const cJSON *c = root->child; c != NULL && why == NULL; c = c->next) {
		if (c->string != NULL && strcmp(c->string, "step") == 0) {
			if (!metricline_step(c, &ml->step))
				return "step is not an integer in 0..2^53-1";
			ml->has_step = true;
		} else if (c->string != NULL && strcmp(c->string, "status") == 0) {
			why = metricline_name(ml, c, "status is not a string", status_at);
		} else if (c->string != NULL && strcmp(c->string, "job") == 0) {
			why = metricline_name(ml, c, "job is not a string", job_at);
		} else {
			why = metricline_walk(ml, c, &p);
		}
	}
	return why;
}

static void
metricline_reset(struct metricline *ml)
{
	ml->has_step = false;
	ml->step = 0;
	ml->status = ml->job = NULL;
	ml->nmetrics = 0;
	ml->text_len = 0;
}

static bool
metricline_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

/* Does the object that opens the line close at its end?  cJSON stops at
 * the end of the first value and ignores what follows, so "{...}}" or
 * "{...} junk" would pass as one line otherwise. */
static bool
metricline_ends_at_close(const char *s, size_t len)
{
	unsigned depth = 0;
	bool in_str = false;
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == len || s[i] != '{')
		return true; /* not an object: the parse says so */
	for (; i < len; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = false;
		} else if (s[i] == '"') {
			in_str = true;
		} else if (s[i] == '{' || s[i] == '[') {
			depth++;
		} else if ((s[i] == '}' || s[i] == ']') && --depth == 0) {
			break;
		}
	}
	return i < len && metricline_blank(s + i + 1, len - i - 1);
}

int
metricline_parse(struct metricline *ml, const char *line, size_t len, const char **why)
{
	size_t status_at = SIZE_MAX, job_at = SIZE_MAX;
	cJSON *root;

	metricline_reset(ml);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > METRICLINE_MAX_BYTES) {
		*why = "line longer than 1 MiB";
		return METRICLINE_BAD;
	}
	if (metricline_blank(line, len))
		return METRICLINE_BLANK;
	if (!metricline_ends_at_close(line, len)) {
		*why = "not JSON";
		return METRICLINE_BAD;
	}
	if ((root = jsonlax_parse(line, len, &metricline_limits, why)) == NULL) {
		if (strcmp(*why, "JSON nested too deeply") != 0)
			*why = "not JSON";
		return METRICLINE_BAD;
	}
	*why = cJSON_IsObject(root) ? metricline_top(ml, root, &status_at, &job_at)
	                            : "not a JSON object";
	cJSON_Delete(root);
	if (*why != NULL) {
		metricline_reset(ml);
		return METRICLINE_BAD;
	}
	for (size_t i = 0; i < ml->nmetrics; i++)
		ml->metrics[i].name = ml->text + (uintptr_t)ml->metrics[i].name;
	ml->status = status_at == SIZE_MAX ? NULL : ml->text + status_at;
	ml->job = job_at == SIZE_MAX ? NULL : ml->text + job_at;
	return METRICLINE_OK;
}

void
metricline_free(struct metricline *ml)
{
	free(ml->text);
	free(ml->metrics);
	*ml = (struct metricline)METRICLINE_INIT;
}
