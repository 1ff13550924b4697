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

/* ---- the fast path ----
 *
 * Training scripts write the same simple shape line after line: an object
 * of plain keys and numbers, maybe nested, maybe a status.  Reading that
 * by hand costs a fraction of a cJSON tree (a node allocation and a
 * locale lookup per value), which the loop would otherwise spend once per
 * line.  The fast path accepts only what it is sure of -- strict JSON
 * numbers, keys and strings without escapes or control bytes, the bare
 * NaN/Infinity/-Infinity tokens, acceptable step, status and job values --
 * and gives up on anything else, which the cJSON path then reads.  Its
 * results for what it accepts are the cJSON path's (test_mutate compares
 * the two on every damaged line).
 */

struct metricline_fast {
	const char *p, *end;
	struct metricline *ml;
	struct metricline_path path;
	size_t status_at, job_at;
};

static void
metricline_fast_ws(struct metricline_fast *f)
{
	while (f->p < f->end && (*f->p == ' ' || *f->p == '\t' || *f->p == '\n' || *f->p == '\r'))
		f->p++;
}

/* A string without escapes or control bytes: [*s, *s + *n). */
static bool
metricline_fast_string(struct metricline_fast *f, const char **s, size_t *n)
{
	const char *q = ++f->p;

	while (q < f->end && *q != '"') {
		if (*q == '\\' || (unsigned char)*q < 0x20 || *q == 0x7f)
			return false;
		q++;
	}
	if (q == f->end)
		return false;
	*s = f->p;
	*n = (size_t)(q - f->p);
	f->p = q + 1;
	return true;
}

static bool
metricline_fast_digits(const char **q, const char *end)
{
	const char *start = *q;

	while (*q < end && **q >= '0' && **q <= '9')
		(*q)++;
	return *q > start;
}

/* The value of the valid JSON number [s, end) without strtod when that is
 * exact (Clinger's fast path): its digits as an integer m <= 2^53 and a
 * power of ten 10^|e| <= 10^22, both exact doubles, so the one
 * multiplication or division rounds correctly, as strtod does.  Python's
 * repr of a loss (0.6230334079604861) mostly fits. */
static bool
metricline_fast_exact(const char *s, const char *end, double *v)
{
	static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
	                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
	                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	uint64_t m = 0;
	int e = 0, x = 0, xsign = 1;
	bool neg = *s == '-', frac = false;

	for (s += neg; s < end && *s != 'e' && *s != 'E'; s++) {
		if (*s == '.') {
			frac = true;
			continue;
		}
		if (m > (UINT64_C(1) << 53) / 10)
			return false;
		m = m * 10 + (uint64_t)(*s - '0');
		e -= frac;
	}
	if (m > (UINT64_C(1) << 53))
		return false;
	if (s < end) { /* the exponent: [eE][+-]?digits */
		s++;
		if (*s == '+' || *s == '-')
			xsign = *s++ == '-' ? -1 : 1;
		for (; s < end; s++)
			if ((x = x * 10 + (*s - '0')) > 400)
				return false;
	}
	e += xsign * x;
	if (e < -22 || e > 22)
		return false;
	*v = e < 0 ? (double)m / pow10[-e] : (double)m * pow10[e];
	if (neg)
		*v = -*v;
	return true;
}

/* A number in strict JSON grammar, or a bare non-finite token. */
static bool
metricline_fast_number(struct metricline_fast *f, double *v)
{
	static const struct {
		const char *tok;
		size_t len;
		double v;
	} toks[] = {{"NaN", 3, NAN}, {"Infinity", 8, INFINITY}, {"-Infinity", 9, -INFINITY}};
	const char *q = f->p;
	char num[64];

	for (size_t i = 0; i < sizeof(toks) / sizeof(toks[0]); i++)
		if ((size_t)(f->end - q) >= toks[i].len &&
		    memcmp(q, toks[i].tok, toks[i].len) == 0) {
			f->p += toks[i].len;
			*v = toks[i].v;
			return true;
		}
	if (q < f->end && *q == '-')
		q++;
	if (q < f->end && *q == '0')
		q++;
	else if (!metricline_fast_digits(&q, f->end))
		return false;
	if (q < f->end && *q == '.' && (q++, !metricline_fast_digits(&q, f->end)))
		return false;
	if (q < f->end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < f->end && (*q == '+' || *q == '-'))
			q++;
		if (!metricline_fast_digits(&q, f->end))
			return false;
	}
	if ((size_t)(q - f->p) >= 48) /* cJSON reads at most 63 characters */
		return false;
	if (!metricline_fast_exact(f->p, q, v)) {
		memcpy(num, f->p, (size_t)(q - f->p));
		num[q - f->p] = '\0';
		*v = strtod(num, NULL);
	}
	f->p = q;
	return true;
}

static bool metricline_fast_object(struct metricline_fast *f, unsigned depth);

/* A "status" or "job" value at the top: an acceptable name, copied. */
static bool
metricline_fast_name(struct metricline_fast *f, size_t *at)
{
	const char *s;
	size_t n, off;

	if (f->p == f->end || *f->p != '"' || !metricline_fast_string(f, &s, &n))
		return false;
	off = metricline_put(f->ml, s, n);
	if (jobname_check(f->ml->text + off) != NULL)
		return false;
	*at = off;
	return true;
}

static bool
metricline_fast_step(struct metricline_fast *f)
{
	double d;

	if (f->p == f->end || !(*f->p == '-' || (*f->p >= '0' && *f->p <= '9')) ||
	    !metricline_fast_number(f, &d))
		return false;
	if (!(d >= 0 && d <= (double)METRICLINE_MAX_STEP) || floor(d) != d)
		return false;
	f->ml->step = (int64_t)d;
	f->ml->has_step = true;
	return true;
}

/* One member's value, its key k[0..kn) already read. */
static bool
metricline_fast_value(struct metricline_fast *f, const char *k, size_t kn, unsigned depth)
{
	size_t saved = f->path.len;
	const char *s;
	size_t n;
	double v;
	bool ok;

	if (depth == 1 && kn == 4 && memcmp(k, "step", 4) == 0)
		return metricline_fast_step(f);
	if (depth == 1 && kn == 6 && memcmp(k, "status", 6) == 0)
		return metricline_fast_name(f, &f->status_at);
	if (depth == 1 && kn == 3 && memcmp(k, "job", 3) == 0)
		return metricline_fast_name(f, &f->job_at);
	if (f->p == f->end)
		return false;
	switch (*f->p) {
	case '"':
		return metricline_fast_string(f, &s, &n);
	case 't':
	case 'f':
	case 'n': {
		const char *w = *f->p == 't' ? "true" : *f->p == 'f' ? "false" : "null";
		size_t wn = strlen(w);
		if ((size_t)(f->end - f->p) < wn || memcmp(f->p, w, wn) != 0)
			return false;
		f->p += wn;
		return true;
	}
	}
	if (kn == 0 || !utf8_valid(k, kn) ||
	    f->path.len + (f->path.len > 0) + kn > METRICLINE_MAX_NAME)
		return false;
	if (f->path.len > 0)
		f->path.name[f->path.len++] = '/';
	memcpy(f->path.name + f->path.len, k, kn);
	f->path.len += kn;
	if (*f->p == '{')
		ok = metricline_fast_object(f, depth + 1);
	else
		ok = metricline_fast_number(f, &v) && metricline_add(f->ml, &f->path, v) == NULL;
	f->path.len = saved;
	return ok;
}

static bool
metricline_fast_object(struct metricline_fast *f, unsigned depth)
{
	const char *k;
	size_t kn;

	if (depth >= METRICLINE_MAX_DEPTH || f->p == f->end || *f->p != '{')
		return false;
	f->p++;
	metricline_fast_ws(f);
	if (f->p < f->end && *f->p == '}')
		return f->p++, true;
	for (;;) {
		if (f->p == f->end || *f->p != '"' || !metricline_fast_string(f, &k, &kn))
			return false;
		metricline_fast_ws(f);
		if (f->p == f->end || *f->p++ != ':')
			return false;
		metricline_fast_ws(f);
		if (!metricline_fast_value(f, k, kn, depth))
			return false;
		metricline_fast_ws(f);
		if (f->p == f->end)
			return false;
		if (*f->p == '}')
			return f->p++, true;
		if (*f->p++ != ',')
			return false;
		metricline_fast_ws(f);
	}
}

/* True when the fast path read the whole line (ml filled, offsets set). */
static bool
metricline_fast(struct metricline *ml, const char *line, size_t len, size_t *status_at,
                size_t *job_at)
{
	struct metricline_fast f = {line, line + len, ml, {.len = 0}, SIZE_MAX, SIZE_MAX};

	metricline_fast_ws(&f);
	if (!metricline_fast_object(&f, 1))
		return false;
	metricline_fast_ws(&f);
	if (f.p != f.end)
		return false;
	*status_at = f.status_at;
	*job_at = f.job_at;
	return true;
}

static int
metricline_parse_with(struct metricline *ml, const char *line, size_t len, const char **why,
                      bool fast)
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
	if (fast && metricline_fast(ml, line, len, &status_at, &job_at))
		goto done;
	metricline_reset(ml);
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
done:
	for (size_t i = 0; i < ml->nmetrics; i++)
		ml->metrics[i].name = ml->text + (uintptr_t)ml->metrics[i].name;
	ml->status = status_at == SIZE_MAX ? NULL : ml->text + status_at;
	ml->job = job_at == SIZE_MAX ? NULL : ml->text + job_at;
	return METRICLINE_OK;
}

int
metricline_parse(struct metricline *ml, const char *line, size_t len, const char **why)
{
	return metricline_parse_with(ml, line, len, why, true);
}

int
metricline_parse_slow(struct metricline *ml, const char *line, size_t len, const char **why)
{
	return metricline_parse_with(ml, line, len, why, false);
}

void
metricline_free(struct metricline *ml)
{
	free(ml->text);
	free(ml->metrics);
	*ml = (struct metricline)METRICLINE_INIT;
}
