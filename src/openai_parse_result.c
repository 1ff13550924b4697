/*
 * openai_parse_result: a finished job's result file (reference/openai-api.md):
 * CSV with a step column, or that CSV base64-encoded, into points (pure).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "csv.h"
#include "openai_parse.h"
#include "openai_parse_internal.h"
#include "xmalloc.h"

/* The result file may hold at most this many points. */
#define OAI_MAX_POINTS 10000000
/* Result file records: far wider than any real header (there are at most
 * OAI_MAX_METRICS named columns worth keeping), cells far longer than a
 * number. */
#define OAI_CSV_MAX_FIELDS 1024
#define OAI_CSV_MAX_FIELD  65536

/* Cell i, trimmed of blanks in place. */
static char *
oai_result_cell(struct csv *c, size_t i)
{
	char *s = csv_field(c, i);
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
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
		return v <= OAI_MAX_STEP;
	}
	d = strtod(s, &end);
	if (*end != '\0' || !isfinite(d) || d != trunc(d) || d > (double)OAI_MAX_STEP)
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
oai_result_header(struct csv *c, struct oai_result *res, int *col)
{
	long step = -1;
	size_t nnames = 0;

	res->names = xcalloc(csv_nfields(c) + 1, sizeof(*res->names));
	for (size_t i = 0; i < csv_nfields(c); i++) {
		const char *name = oai_result_cell(c, i);
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
oai_result_row(struct csv *c, const int *col, size_t ncol, long stepcol, struct oai_result *res,
               size_t *cap, double *val, bool *have)
{
	size_t nvals = 0;
	int64_t step;

	if (csv_overflow(c) || csv_nfields(c) != ncol ||
	    !oai_result_step(oai_result_cell(c, (size_t)stepcol), &step))
		return false;
	for (size_t i = 0; i < ncol; i++) {
		have[i] = col[i] >= 0 && oai_result_value(oai_result_cell(c, i), &val[i]);
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
	static const struct csv_limits lim = {OAI_CSV_MAX_FIELDS, OAI_CSV_MAX_FIELD};
	struct csv c;
	size_t ncol, cap = 0;
	long stepcol;
	double *val;
	bool *have;
	int *col;

	csv_init(&c, p, len, &lim);
	if (!csv_next(&c)) {
		csv_free(&c);
		return oai_fail(why, "empty result file");
	}
	if (csv_overflow(&c)) {
		csv_free(&c);
		return oai_fail(why, "result file header too wide");
	}
	ncol = csv_nfields(&c);
	col = xcalloc(ncol, sizeof(*col));
	stepcol = oai_result_header(&c, res, col);
	if (stepcol < 0) {
		free(col);
		csv_free(&c);
		oai_result_clear(res);
		return oai_fail(why, "result file has no step column");
	}
	val = xcalloc(ncol, sizeof(*val));
	have = xcalloc(ncol, sizeof(*have));
	while (csv_next(&c)) {
		if (csv_blank(&c))
			continue;
		if (!oai_result_row(&c, col, ncol, stepcol, res, &cap, val, have))
			res->nbad++;
	}
	free(val);
	free(have);
	free(col);
	csv_free(&c);
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
	if (base64_decode(body, len, &dec, &dlen) == 0) {
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
