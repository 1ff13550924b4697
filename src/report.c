/*
 * report: the self-contained HTML report (see report.h).
 */
#include "config.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "axis.h"
#include "render.h"
#include "report.h"
#include "xmalloc.h"

static const char report_css[] =
        "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d2430;"
        "background:#fff;margin:24px auto;max-width:760px;padding:0 12px}"
        "h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;"
        "overflow-wrap:anywhere}h3{font-size:15px;margin:16px 0 4px}"
        ".meta{color:#5a6472;margin:0 0 16px}"
        "table{border-collapse:collapse;margin:4px 0 8px}"
        "td,th{text-align:left;padding:2px 12px 2px 0;vertical-align:top;"
        "overflow-wrap:anywhere}th{color:#5a6472;font-weight:normal}"
        ".status{display:inline-block;padding:0 8px;border-radius:9px;font-size:12px;"
        "background:#e4e8ee}.s-succeeded{background:#d6f5dc}.s-failed,.s-cancelled"
        "{background:#fadcdc}.s-running{background:#dce9fa}"
        ".legend span{margin-right:16px;white-space:nowrap}"
        ".sw{display:inline-block;width:18px;height:3px;vertical-align:middle;"
        "margin-right:6px}.none{color:#5a6472}"
        ".firing{color:#b00020;font-weight:bold}svg{display:block}"
        "section.job{border-top:1px solid #d5dbe3;margin-top:24px}";

void
report_escape(struct buf *out, const char *s)
{
	for (; s != NULL && *s; s++) {
		switch (*s) {
		case '&':
			buf_puts(out, "&amp;");
			break;
		case '<':
			buf_puts(out, "&lt;");
			break;
		case '>':
			buf_puts(out, "&gt;");
			break;
		case '"':
			buf_puts(out, "&quot;");
			break;
		case '\'':
			buf_puts(out, "&#39;");
			break;
		default:
			buf_append(out, s, 1);
		}
	}
}

/* Escaped after the same repair as terminal text: no control characters. */
static void
report_text(struct buf *out, const char *s)
{
	char *t = xstrdup(s ? s : "");

	render_sanitize(t);
	report_escape(out, t);
	free(t);
}

const char *
report_color(const char *name, size_t i)
{
	static const char *const palette[] = {"#2ca02c", "#ff7f0e", "#8c564b",
	                                      "#e377c2", "#17becf", "#7f7f7f"};

	if (strstr(name, "full_valid") != NULL)
		return "#9467bd";
	if (strstr(name, "valid") != NULL)
		return "#d62728";
	if (strstr(name, "train") != NULL)
		return "#1f77b4";
	return palette[i % (sizeof(palette) / sizeof(palette[0]))];
}

/* A Unix time as "2026-12-01 12:34 UTC", or "-" for none. */
static void
report_time(struct buf *out, const cJSON *t)
{
	time_t v;
	struct tm tm;
	char b[64];

	if (!cJSON_IsNumber(t) || t->valuedouble <= 0) {
		buf_puts(out, "-");
		return;
	}
	v = (time_t)t->valuedouble;
	if (gmtime_r(&v, &tm) == NULL || strftime(b, sizeof(b), "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(b, sizeof(b), "%.0f", t->valuedouble);
	buf_puts(out, b);
}

/* A JSON value for a table cell: strings escaped, numbers as %.4g. */
static void
report_value(struct buf *out, const cJSON *v)
{
	char b[64];

	if (cJSON_IsString(v))
		report_text(out, v->valuestring);
	else if (cJSON_IsNumber(v))
		buf_puts(out, v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 1e15
		                      ? (snprintf(b, sizeof(b), "%.0f", v->valuedouble), b)
		                      : render_number(v->valuedouble, b, sizeof(b)));
	else
		buf_puts(out, "-");
}

static const cJSON *
report_get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* ---- the best checkpoint ---- */

struct report_best {
	bool have;
	double step, value;
	const char *metric;     /* borrowed */
	const char *checkpoint; /* borrowed, may be NULL */
};

/* The checkpoint of job.checkpoints with the lowest metric, if any. */
static bool
report_best_of(const cJSON *job, const char *metric, struct report_best *b)
{
	const cJSON *c;

	cJSON_ArrayForEach (c, report_get(job, "checkpoints")) {
		const cJSON *v = report_get(report_get(c, "metrics"), metric);
		const cJSON *step = report_get(c, "step");
		if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || !cJSON_IsNumber(step))
			continue;
		if (b->have && v->valuedouble >= b->value)
			continue;
		*b = (struct report_best){true, step->valuedouble, v->valuedouble, metric,
		                          cJSON_GetStringValue(report_get(c, "id"))};
	}
	return b->have;
}

static void
report_best_find(const cJSON *job, struct report_best *b)
{
	const cJSON *bc = report_get(job, "best_checkpoint");
	const cJSON *step = report_get(bc, "step"), *value = report_get(bc, "value");
	const char *metric = cJSON_GetStringValue(report_get(bc, "metric"));

	*b = (struct report_best){0};
	if (cJSON_IsNumber(step) && cJSON_IsNumber(value) && metric != NULL) {
		*b = (struct report_best){true, step->valuedouble, value->valuedouble, metric,
		                          cJSON_GetStringValue(report_get(bc, "checkpoint"))};
		return;
	}
	if (!report_best_of(job, "full_valid_loss", b))
		report_best_of(job, "valid_loss", b);
}

/* ---- charts ---- */

struct report_chart {
	const cJSON *curves[16]; /* borrowed metric arrays, named by ->string */
	size_t n;
	struct axis xa, ya;
};

static bool
report_point(const cJSON *pt, double *x, double *y)
{
	const cJSON *a = cJSON_GetArrayItem(pt, 0), *b = cJSON_GetArrayItem(pt, 1);

	if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b))
		return false;
	*x = a->valuedouble;
	*y = b->valuedouble;
	return isfinite(*x) && isfinite(*y);
}

/* The curves of metrics whose name holds key, and the axes over them.
 * False when none has a finite point. */
static bool
report_chart_collect(const cJSON *metrics, const char *key, struct report_chart *ch)
{
	double xlo = 0, xhi = 0, ylo = 0, yhi = 0, x, y;
	bool any = false;
	const cJSON *m, *pt;

	ch->n = 0;
	cJSON_ArrayForEach (m, metrics) {
		if (m->string == NULL || strstr(m->string, key) == NULL || ch->n == 16)
			continue;
		ch->curves[ch->n++] = m;
		cJSON_ArrayForEach (pt, m) {
			if (!report_point(pt, &x, &y))
				continue;
			xlo = any ? fmin(xlo, x) : x;
			xhi = any ? fmax(xhi, x) : x;
			ylo = any ? fmin(ylo, y) : y;
			yhi = any ? fmax(yhi, y) : y;
			any = true;
		}
	}
	if (any) {
		axis_ticks(xlo, xhi, 6, 1, &ch->xa);
		axis_ticks(ylo, yhi, 5, 0, &ch->ya);
	}
	return any;
}

static double
report_x(const struct report_chart *ch, double x)
{
	return REPORT_AREA_X0 +
	       (x - ch->xa.lo) / (ch->xa.hi - ch->xa.lo) * (REPORT_AREA_X1 - REPORT_AREA_X0);
}

/* y on the chart, clamped to the plot area (a marker's value may lie
 * outside the curves' range). */
static double
report_y(const struct report_chart *ch, double y)
{
	double v = REPORT_AREA_Y1 -
	           (y - ch->ya.lo) / (ch->ya.hi - ch->ya.lo) * (REPORT_AREA_Y1 - REPORT_AREA_Y0);
	return fmin(fmax(v, REPORT_AREA_Y0), REPORT_AREA_Y1);
}

/* The plot area, grid lines and tick labels. */
static void
report_chart_frame(const struct report_chart *ch, struct buf *out)
{
	char b[64];

	buf_printf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>\n",
	           REPORT_AREA_X0, REPORT_AREA_Y0, REPORT_AREA_X1 - REPORT_AREA_X0,
	           REPORT_AREA_Y1 - REPORT_AREA_Y0, REPORT_AREA_FILL);
	buf_puts(out, "<g stroke=\"#d9dfe7\" stroke-width=\"1\">\n");
	for (int i = 0; i < ch->ya.nticks; i++) {
		double y = report_y(ch, axis_tick(&ch->ya, i));
		buf_printf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>\n",
		           REPORT_AREA_X0, REPORT_AREA_X1, y, y);
	}
	for (int i = 0; i < ch->xa.nticks; i++) {
		double x = report_x(ch, axis_tick(&ch->xa, i));
		buf_printf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>\n", x, x,
		           REPORT_AREA_Y0, REPORT_AREA_Y1);
	}
	buf_puts(out, "</g>\n<g fill=\"#5a6472\" font-size=\"11\">\n");
	for (int i = 0; i < ch->ya.nticks; i++) {
		double v = axis_tick(&ch->ya, i);
		buf_printf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
		           REPORT_AREA_X0 - 6, report_y(ch, v) + 4,
		           axis_label(&ch->ya, v, b, sizeof(b)));
	}
	for (int i = 0; i < ch->xa.nticks; i++) {
		double v = axis_tick(&ch->xa, i);
		buf_printf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
		           report_x(ch, v), REPORT_AREA_Y1 + 16,
		           axis_label(&ch->xa, v, b, sizeof(b)));
	}
	buf_printf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">step</text>\n</g>\n",
	           REPORT_AREA_X1, REPORT_CHART_H - 4);
}

/* End a run of a curve: close its polyline, and give a lone point a dot
 * (a polyline of one point draws nothing). */
static void
report_chart_run_end(const char *color, int npts, double x, double y, struct buf *out)
{
	if (npts == 0)
		return;
	buf_puts(out, "\"/>\n");
	if (npts == 1)
		buf_printf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n", x, y,
		           color);
}

/* One curve as polylines: a NaN (null) point breaks it. */
static void
report_chart_curve(const struct report_chart *ch, size_t i, struct buf *out)
{
	const char *color = report_color(ch->curves[i]->string, i);
	const cJSON *pt;
	int npts = 0;
	double x, y, px = 0, py = 0;

	cJSON_ArrayForEach (pt, ch->curves[i]) {
		if (!report_point(pt, &x, &y)) {
			report_chart_run_end(color, npts, px, py, out);
			npts = 0;
			continue;
		}
		if (npts == 0)
			buf_printf(out,
			           "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
			           "stroke-linejoin=\"round\" points=\"",
			           color);
		px = report_x(ch, x);
		py = report_y(ch, y);
		buf_printf(out, "%s%.1f,%.1f", npts ? " " : "", px, py);
		npts++;
	}
	report_chart_run_end(color, npts, px, py, out);
}

static bool
report_chart_has(const struct report_chart *ch, const char *metric)
{
	for (size_t i = 0; metric != NULL && i < ch->n; i++)
		if (strcmp(ch->curves[i]->string, metric) == 0)
			return true;
	return false;
}

/* Each alert on one of the chart's metrics: a dashed line at its step,
 * its rule above, a dot at its value; the message as a tooltip. */
static void
report_chart_alerts(const struct report_chart *ch, const cJSON *alerts, struct buf *out)
{
	const cJSON *a;

	cJSON_ArrayForEach (a, alerts) {
		const cJSON *step = report_get(a, "step"), *value = report_get(a, "value");
		const char *metric = cJSON_GetStringValue(report_get(a, "metric"));
		if (!cJSON_IsNumber(step) || !report_chart_has(ch, metric))
			continue;
		double x = report_x(ch, step->valuedouble);
		if (x < REPORT_AREA_X0 || x > REPORT_AREA_X1)
			continue;
		buf_printf(out, "<g class=\"alert\"><title>alert: ");
		report_text(out, cJSON_GetStringValue(report_get(a, "rule")));
		buf_puts(out, " on ");
		report_text(out, metric);
		buf_printf(out, " at step %.0f: ", step->valuedouble);
		report_text(out, cJSON_GetStringValue(report_get(a, "message")));
		buf_printf(
		        out,
		        "</title><line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#b00020\" "
		        "stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>",
		        x, x, REPORT_AREA_Y0, REPORT_AREA_Y1);
		buf_printf(out, "<text x=\"%.1f\" y=\"%d\" fill=\"#b00020\" font-size=\"11\">",
		           x + 4, REPORT_AREA_Y0 + 12);
		report_text(out, cJSON_GetStringValue(report_get(a, "rule")));
		buf_puts(out, "</text>");
		if (cJSON_IsNumber(value) && isfinite(value->valuedouble))
			buf_printf(out,
			           "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#b00020\"/>", x,
			           report_y(ch, value->valuedouble));
		buf_puts(out, "</g>\n");
	}
}

/* The best checkpoint, when its metric is on the chart: a ring on the
 * curve and a label. */
static void
report_chart_best(const struct report_chart *ch, const struct report_best *b, struct buf *out)
{
	char num[32];

	if (!b->have || !report_chart_has(ch, b->metric))
		return;
	double x = report_x(ch, b->step), y = report_y(ch, b->value);
	buf_puts(out, "<g class=\"best\"><title>best checkpoint");
	if (b->checkpoint != NULL) {
		buf_puts(out, " ");
		report_text(out, b->checkpoint);
	}
	buf_printf(out, ": step %.0f, ", b->step);
	report_text(out, b->metric);
	buf_printf(out, " %s</title>", render_number(b->value, num, sizeof(num)));
	buf_printf(out,
	           "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"7\" fill=\"none\" stroke=\"#111\" "
	           "stroke-width=\"2\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#111\" "
	           "text-anchor=\"%s\">best</text></g>\n",
	           x, y, x < REPORT_AREA_X1 - 40 ? x + 10 : x - 10,
	           y > REPORT_AREA_Y0 + 20 ? y - 10 : y + 20,
	           x < REPORT_AREA_X1 - 40 ? "start" : "end");
}

/* The legend under a chart: swatch, name, points, last value. */
static void
report_chart_legend(const struct report_chart *ch, struct buf *out)
{
	char num[32];

	buf_puts(out, "<div class=\"legend\">");
	for (size_t i = 0; i < ch->n; i++) {
		const cJSON *pt, *last = NULL;
		double x, y;
		int n = 0;
		cJSON_ArrayForEach (pt, ch->curves[i]) {
			n++;
			if (report_point(pt, &x, &y))
				last = pt;
		}
		buf_printf(out, "<span><i class=\"sw\" style=\"background:%s\"></i>",
		           report_color(ch->curves[i]->string, i));
		report_text(out, ch->curves[i]->string);
		buf_printf(out, " (%d point%s", n, n == 1 ? "" : "s");
		if (last != NULL)
			buf_printf(out, ", last %s",
			           render_number(cJSON_GetArrayItem(last, 1)->valuedouble, num,
			                         sizeof(num)));
		buf_puts(out, ")</span>");
	}
	buf_puts(out, "</div>\n");
}

static void
report_chart(const cJSON *job, const cJSON *metrics, const char *title, const char *key,
             const struct report_best *best, struct buf *out)
{
	struct report_chart ch;

	buf_printf(out, "<h3>%s</h3>\n", title);
	if (!report_chart_collect(metrics, key, &ch)) {
		buf_printf(out, "<p class=\"none\">no %s points (no metric named *%s*)</p>\n",
		           title, key);
		return;
	}
	buf_printf(out,
	           "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
	           "aria-label=\"%s\" font-family=\"sans-serif\">\n",
	           REPORT_CHART_W, REPORT_CHART_H, REPORT_CHART_W, REPORT_CHART_H, title);
	report_chart_frame(&ch, out);
	for (size_t i = 0; i < ch.n; i++)
		report_chart_curve(&ch, i, out);
	report_chart_alerts(&ch, report_get(job, "alerts"), out);
	report_chart_best(&ch, best, out);
	buf_puts(out, "</svg>\n");
	report_chart_legend(&ch, out);
}

/* ---- the job section ---- */

static void
report_row(struct buf *out, const char *label, const cJSON *v)
{
	buf_printf(out, "<tr><th>%s</th><td>", label);
	report_value(out, v);
	buf_puts(out, "</td></tr>\n");
}

static void
report_row_time(struct buf *out, const char *label, const cJSON *t)
{
	buf_printf(out, "<tr><th>%s</th><td>", label);
	report_time(out, t);
	buf_puts(out, "</td></tr>\n");
}

/* Latest metrics, the best checkpoint and bad lines (when the job has them). */
static void
report_summary_extra(const cJSON *job, const struct report_best *b, struct buf *out)
{
	const cJSON *m, *bad = report_get(job, "bad_lines"),
	                *last = report_get(job, "last_bad_line");
	char num[32];

	buf_puts(out, "<tr><th>latest</th><td>");
	cJSON_ArrayForEach (m, report_get(job, "metrics")) {
		report_text(out, m->string);
		buf_puts(out, " ");
		report_value(out, m);
		buf_puts(out, m->next ? ", " : "");
	}
	buf_puts(out, "</td></tr>\n");
	if (b->have) {
		buf_puts(out, "<tr><th>best checkpoint</th><td>");
		report_text(out, b->checkpoint ? b->checkpoint : "-");
		buf_printf(out, " at step %.0f, ", b->step);
		report_text(out, b->metric);
		buf_printf(out, " %s</td></tr>\n", render_number(b->value, num, sizeof(num)));
	}
	if (cJSON_IsNumber(bad) && bad->valuedouble > 0) {
		buf_printf(out, "<tr><th>bad lines</th><td>%.0f", bad->valuedouble);
		if (cJSON_IsObject(last)) {
			buf_puts(out, " (last: line ");
			report_value(out, report_get(last, "line"));
			buf_puts(out, ": ");
			report_text(out, cJSON_GetStringValue(report_get(last, "reason")));
			buf_puts(out, ")");
		}
		buf_puts(out, "</td></tr>\n");
	}
}

static void
report_summary(const cJSON *job, const struct report_best *b, struct buf *out)
{
	const char *status = cJSON_GetStringValue(report_get(job, "status"));
	const cJSON *err = report_get(job, "error");

	buf_puts(out, "<h2>");
	report_text(out, cJSON_GetStringValue(report_get(job, "name")));
	buf_puts(out, " <span class=\"status s-");
	report_text(out, status);
	buf_puts(out, "\">");
	report_text(out, status ? status : "?");
	buf_puts(out, "</span></h2>\n<table>\n");
	report_row(out, "model", report_get(job, "model"));
	report_row(out, "fine-tuned model", report_get(job, "fine_tuned_model"));
	buf_puts(out, "<tr><th>step</th><td>");
	report_value(out, report_get(job, "step"));
	buf_puts(out, " of ");
	report_value(out, report_get(job, "total_steps"));
	buf_puts(out, "</td></tr>\n");
	report_row_time(out, "created", report_get(job, "created_at"));
	report_row_time(out, "finished", report_get(job, "finished_at"));
	report_summary_extra(job, b, out);
	if (cJSON_IsString(err) && *err->valuestring)
		report_row(out, "error", err);
	buf_puts(out, "</table>\n");
}

static void
report_alerts(const cJSON *alerts, struct buf *out)
{
	const cJSON *a;

	buf_puts(out, "<h3>Alerts</h3>\n");
	if (cJSON_GetArraySize(alerts) == 0) {
		buf_puts(out, "<p class=\"none\">no alerts</p>\n");
		return;
	}
	buf_puts(out, "<table>\n<tr><th>rule</th><th>metric</th><th>state</th><th>step</th>"
	              "<th>value</th><th>fired</th><th>message</th></tr>\n");
	cJSON_ArrayForEach (a, alerts) {
		const char *state = cJSON_GetStringValue(report_get(a, "state"));
		buf_puts(out, "<tr><td>");
		report_value(out, report_get(a, "rule"));
		buf_puts(out, "</td><td>");
		report_value(out, report_get(a, "metric"));
		buf_printf(out, "</td><td%s>",
		           state && strcmp(state, "firing") == 0 ? " class=\"firing\"" : "");
		report_value(out, report_get(a, "state"));
		buf_puts(out, "</td><td>");
		report_value(out, report_get(a, "step"));
		buf_puts(out, "</td><td>");
		report_value(out, report_get(a, "value"));
		buf_puts(out, "</td><td>");
		report_time(out, report_get(a, "fired_at"));
		buf_puts(out, "</td><td>");
		report_value(out, report_get(a, "message"));
		buf_puts(out, "</td></tr>\n");
	}
	buf_puts(out, "</table>\n");
}

static void
report_job(const struct report_job *j, struct buf *out)
{
	struct report_best best;

	report_best_find(j->job, &best);
	buf_puts(out, "<section class=\"job\">\n");
	report_summary(j->job, &best, out);
	report_chart(j->job, j->metrics, "Loss", "loss", &best, out);
	report_chart(j->job, j->metrics, "Accuracy", "acc", &best, out);
	report_alerts(report_get(j->job, "alerts"), out);
	buf_puts(out, "</section>\n");
}

void
report_html(const struct report_job *jobs, size_t n, int64_t now, struct buf *out)
{
	cJSON *t = cJSON_CreateNumber((double)now);

	buf_printf(out,
	           "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	           "<meta name=\"viewport\" content=\"width=device-width\">\n"
	           "<title>ftmon report</title>\n<style>%s</style>\n</head>\n<body>\n"
	           "<h1>ftmon report</h1>\n<p class=\"meta\">%zu job%s &middot; made ",
	           report_css, n, n == 1 ? "" : "s");
	report_time(out, t);
	buf_puts(out, "</p>\n");
	for (size_t i = 0; i < n; i++)
		report_job(&jobs[i], out);
	buf_puts(out, "</body>\n</html>\n");
	cJSON_Delete(t);
}
