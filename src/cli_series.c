/*
 * cli_series: metric series for `metrics` and `plot`.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_series.h"
#include "render.h"
#include "xmalloc.h"

static int
cli_series_point_cmp(const void *a, const void *b)
{
	double x = ((const struct cli_point *)a)->x, y = ((const struct cli_point *)b)->x;
	return (x > y) - (x < y);
}

static int
cli_series_double_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void
cli_series_free(struct cli_series *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i].p);
	free(s);
}

/* One metric's [[step, value], ...] into cur; false if the shape is wrong. */
static bool
cli_series_load_one(const cJSON *m, struct cli_series *cur)
{
	const cJSON *pt;

	if (!cJSON_IsArray(m) || m->string == NULL)
		return false;
	cur->name = m->string;
	cur->p = xcalloc((size_t)cJSON_GetArraySize(m) + 1, sizeof(*cur->p));
	cJSON_ArrayForEach (pt, m) {
		const cJSON *x = cJSON_GetArrayItem(pt, 0), *y = cJSON_GetArrayItem(pt, 1);
		if (!cJSON_IsArray(pt) || !cJSON_IsNumber(x) ||
		    !(cJSON_IsNumber(y) || cJSON_IsNull(y)))
			return false;
		cur->p[cur->n].x = x->valuedouble;
		cur->p[cur->n++].y = cJSON_IsNumber(y) ? y->valuedouble : NAN;
	}
	qsort(cur->p, cur->n, sizeof(*cur->p), cli_series_point_cmp);
	return true;
}

int
cli_series_load(const cJSON *r, const cJSON *totals, struct cli_series **out, size_t *nout)
{
	size_t n = 0, cap = (size_t)cJSON_GetArraySize(r);
	struct cli_series *s = xcalloc(cap ? cap : 1, sizeof(*s));
	const cJSON *m;

	*out = NULL;
	*nout = 0;
	if (!cJSON_IsObject(r))
		goto bad;
	cJSON_ArrayForEach (m, r) {
		if (!cli_series_load_one(m, &s[n++]))
			goto bad;
		const cJSON *tot = cJSON_GetObjectItemCaseSensitive(totals, m->string);
		s[n - 1].total = s[n - 1].n;
		if (cJSON_IsNumber(tot) && tot->valuedouble > (double)s[n - 1].n &&
		    tot->valuedouble < 1e15)
			s[n - 1].total = (size_t)tot->valuedouble;
	}
	*out = s;
	*nout = n;
	return 0;
bad:
	cli_series_free(s, n);
	return -EINVAL;
}

size_t
cli_series_points(const struct cli_series *s, size_t n)
{
	size_t points = 0;

	for (size_t i = 0; i < n; i++)
		points += s[i].n;
	return points;
}

/* A step as an integer when it is one. */
static const char *
cli_series_fmt_step(double x, char *buf, size_t size)
{
	if (x == floor(x) && fabs(x) < 1e15)
		snprintf(buf, size, "%.0f", x);
	else
		snprintf(buf, size, "%.17g", x);
	return buf;
}

/* The shortest text that reads back as the same double, for CSV. */
static const char *
cli_series_fmt_exact(double v, char *buf, size_t size)
{
	if (!isfinite(v))
		return render_number(v, buf, size);
	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

/* A CSV field, quoted when it holds a comma, quote or line break. */
static void
cli_series_csv_field(struct buf *out, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		buf_puts(out, s);
		return;
	}
	buf_puts(out, "\"");
	for (; *s; s++) {
		if (*s == '"')
			buf_puts(out, "\"");
		buf_append(out, s, 1);
	}
	buf_puts(out, "\"");
}

/* Every step present in any series, sorted, without duplicates. */
static double *
cli_series_steps(const struct cli_series *s, size_t ns, size_t *nsteps)
{
	size_t n = 0;
	double *steps = xcalloc(cli_series_points(s, ns) + 1, sizeof(*steps));

	for (size_t i = 0; i < ns; i++)
		for (size_t j = 0; j < s[i].n; j++)
			steps[n++] = s[i].p[j].x;
	qsort(steps, n, sizeof(*steps), cli_series_double_cmp);
	*nsteps = 0;
	for (size_t i = 0; i < n; i++)
		if (*nsteps == 0 || steps[*nsteps - 1] != steps[i])
			steps[(*nsteps)++] = steps[i];
	return steps;
}

void
cli_series_table(const struct cli_series *s, size_t ns, struct buf *out)
{
	size_t nsteps, *at = xcalloc(ns + 1, sizeof(*at));
	double *steps = cli_series_steps(s, ns, &nsteps);
	struct render_table *t = render_table_new(ns + 1, NULL);
	char b[64];

	render_table_cell(t, "STEP");
	for (size_t i = 0; i <= ns; i++)
		render_table_align(t, i, RENDER_RIGHT);
	for (size_t i = 0; i < ns; i++)
		render_table_cell(t, s[i].name);
	for (size_t r = 0; r < nsteps; r++) {
		render_table_row(t);
		render_table_cell(t, cli_series_fmt_step(steps[r], b, sizeof(b)));
		for (size_t i = 0; i < ns; i++) {
			/* Each series is sorted, so a cursor per series walks
			 * it once; a duplicate step shows its last value. */
			const char *cell = "";
			while (at[i] < s[i].n && s[i].p[at[i]].x <= steps[r]) {
				if (s[i].p[at[i]].x == steps[r])
					cell = render_number(s[i].p[at[i]].y, b, sizeof(b));
				at[i]++;
			}
			render_table_cell(t, cell);
		}
	}
	render_table_print(t, out);
	render_table_free(t);
	free(steps);
	free(at);
}

void
cli_series_csv(const struct cli_series *s, size_t ns, struct buf *out)
{
	char b[64];

	buf_puts(out, "step,metric,value\n");
	for (size_t i = 0; i < ns; i++) {
		for (size_t j = 0; j < s[i].n; j++) {
			buf_printf(out, "%s,", cli_series_fmt_step(s[i].p[j].x, b, sizeof(b)));
			cli_series_csv_field(out, s[i].name);
			buf_printf(out, ",%s\n", cli_series_fmt_exact(s[i].p[j].y, b, sizeof(b)));
		}
	}
}

static bool
cli_series_wanted(const char *const *want, size_t nwant, const char *name)
{
	for (size_t i = 0; i < nwant; i++)
		if (strcmp(want[i], name) == 0)
			return true;
	return false;
}

size_t
cli_series_pick(const struct cli_series *s, size_t ns, const char *const *want, size_t nwant,
                size_t *idx)
{
	size_t n = 0, nloss = 0;

	/* By default the losses; a job without any gets every metric. */
	for (size_t i = 0; i < ns; i++)
		nloss += strstr(s[i].name, "loss") != NULL;
	for (size_t i = 0; i < ns; i++) {
		if (nwant == 0 && nloss > 0 && strstr(s[i].name, "loss") == NULL)
			continue;
		if (nwant > 0 && !cli_series_wanted(want, nwant, s[i].name))
			continue;
		idx[n++] = i;
	}
	return n;
}

int
cli_series_plot(const struct cli_series *s, const size_t *idx, size_t nidx,
                const struct plot_opts *opts, struct buf *out)
{
	struct plot_series *ps = xcalloc(nidx + 1, sizeof(*ps));
	int rc;

	for (size_t k = 0; k < nidx; k++) {
		const struct cli_series *si = &s[idx[k]];
		double *xy = xcalloc(2 * si->n + 1, sizeof(*xy));
		for (size_t j = 0; j < si->n; j++) {
			xy[j] = si->p[j].x;
			xy[si->n + j] = si->p[j].y;
		}
		ps[k] = (struct plot_series){si->name, xy, xy + si->n, si->n, si->total};
	}
	rc = plot_render(ps, nidx, opts, out);
	for (size_t k = 0; k < nidx; k++)
		free((void *)ps[k].x);
	free(ps);
	return rc;
}

cJSON *
cli_series_plot_json(const struct cli_series *s, const size_t *idx, size_t nidx, bool log)
{
	cJSON *root = cJSON_CreateObject(), *arr;

	cJSON_AddBoolToObject(root, "log", log);
	arr = cJSON_AddArrayToObject(root, "series");
	for (size_t k = 0; k < nidx; k++) {
		const struct cli_series *si = &s[idx[k]];
		cJSON *o = cJSON_CreateObject(), *data = cJSON_CreateArray();
		double drawn = 0;
		for (size_t j = 0; j < si->n; j++) {
			double x = si->p[j].x, y = si->p[j].y;
			if (!isfinite(x) || !isfinite(y) || (log && y <= 0))
				continue;
			cJSON *pt = cJSON_CreateArray();
			cJSON_AddItemToArray(pt, cJSON_CreateNumber(x));
			cJSON_AddItemToArray(pt, cJSON_CreateNumber(y));
			cJSON_AddItemToArray(data, pt);
			drawn++;
		}
		cJSON_AddStringToObject(o, "metric", si->name);
		cJSON_AddNumberToObject(o, "points", (double)si->total);
		cJSON_AddNumberToObject(o, "drawn", drawn);
		cJSON_AddItemToObject(o, "data", data);
		cJSON_AddItemToArray(arr, o);
	}
	return root;
}
