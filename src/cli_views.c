/*
 * cli_views: the tables and lines of ftmonctl, from results to text.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_json.h"
#include "cli_views.h"
#include "cli_views_internal.h"
#include "render.h"
#include "util.h"
#include "xmalloc.h"

const char *
cli_views_time(const cJSON *v, int64_t now, enum cli_views_time_style style, char *buf, size_t size)
{
	char abs[40], rel[32];

	if (!cJSON_IsNumber(v))
		return cli_json_fmt(v, buf, size);
	util_format_rfc3339((int64_t)v->valuedouble, abs, sizeof(abs));
	render_reltime((int64_t)v->valuedouble, now, rel, sizeof(rel));
	if (style == CLI_VIEWS_ABS)
		snprintf(buf, size, "%s", abs);
	else if (style == CLI_VIEWS_REL)
		snprintf(buf, size, "%s", rel);
	else
		snprintf(buf, size, "%s (%s)", abs, rel);
	return buf;
}

/* "10:42:07Z" when t falls on now's UTC day, else the full RFC 3339 time:
 * short where a column has little room, never ambiguous. */
const char *
cli_views_clock(double t, int64_t now, char *buf, size_t size)
{
	char today[40];

	util_format_rfc3339((int64_t)t, buf, size);
	util_format_rfc3339(now, today, sizeof(today));
	if (strlen(buf) == 20 && strncmp(buf, today, 11) == 0)
		memmove(buf, buf + 11, strlen(buf + 11) + 1);
	return buf;
}

/* A job that was untracked: its status and step are the last ones seen. */
static bool
cli_views_untracked(const cJSON *job)
{
	const cJSON *v = cli_json_get(job, "tracked");

	/* A boolean from store_query.c; 0 from anything that passes the
	 * column through. */
	return cJSON_IsFalse(v) || (cJSON_IsNumber(v) && v->valuedouble == 0);
}

static const struct cli_views_opts cli_views_plain = {0};

const struct cli_views_opts *
cli_views_o(const struct cli_views_opts *o)
{
	return o ? o : &cli_views_plain;
}

static bool
cli_views_final(const char *status)
{
	return status && (strcmp(status, "succeeded") == 0 || strcmp(status, "failed") == 0 ||
	                  strcmp(status, "cancelled") == 0);
}

/* Green for going well, red for broken, yellow for waiting or stopped. */
static int
cli_views_status_color(const char *status)
{
	if (status == NULL)
		return 0;
	if (strcmp(status, "running") == 0 || strcmp(status, "succeeded") == 0 ||
	    strcmp(status, "ok") == 0)
		return 32;
	if (strcmp(status, "failed") == 0 || strcmp(status, "down") == 0 ||
	    strcmp(status, "unauthorized") == 0 || strcmp(status, "error") == 0)
		return 31;
	if (strcmp(status, "idle") == 0 || strcmp(status, "inactive") == 0)
		return 0;
	return 33;
}

/* A status or health cell: "● running" (the dot with utf8), coloured. */
void
cli_views_status_cell(struct render_table *t, const char *text, const char *status,
                      const struct cli_views_opts *o)
{
	render_table_cellf(t, "%s%s", o->utf8 ? "\u25cf " : "", text);
	if (o->color)
		render_table_color(t, cli_views_status_color(status));
}

/* ---- jobs and show ---- */

/* "120/300", "120" or "-". */
static const char *
cli_views_step(const cJSON *job, char *buf, size_t size)
{
	double step, total;

	if (!cli_json_num(job, "step", &step))
		return "-";
	if (cli_json_num(job, "total_steps", &total))
		snprintf(buf, size, "%.0f/%.0f", step, total);
	else
		snprintf(buf, size, "%.0f", step);
	return buf;
}

/* "running", or "running (untracked)" once the daemon stopped polling. */
static const char *
cli_views_status_word(const cJSON *job, char *buf, size_t size)
{
	char b[128];
	const char *s = cli_json_fmt(cli_json_get(job, "status"), b, sizeof(b));

	snprintf(buf, size, "%s%s", s, cli_views_untracked(job) ? " (untracked)" : "");
	return buf;
}

/* A metric of a job's latest metrics, formatted, "nan" for null. */
static const char *
cli_views_metric(const cJSON *metrics, const char *name, char *buf, size_t size)
{
	const cJSON *v = cli_json_get(metrics, name);

	if (cJSON_IsNull(v))
		return "nan";
	if (!cJSON_IsNumber(v))
		return "-";
	return render_number(v->valuedouble, buf, size);
}

/* "40%" of total_steps, or "-". */
static const char *
cli_views_progress(const cJSON *job, char *buf, size_t size)
{
	double step, total;

	if (!cli_json_num(job, "step", &step) || !cli_json_num(job, "total_steps", &total) ||
	    total <= 0)
		return "-";
	snprintf(buf, size, "%.0f%%", floor(100 * (step > total ? total : step) / total));
	return buf;
}

/* "in 20m" while a polled, unfinished job has a finish ahead; else "-"
 * (an estimate nobody updates, or one that has passed, says nothing). */
static const char *
cli_views_eta(const cJSON *job, int64_t now, char *buf, size_t size)
{
	double t;

	if (cli_views_untracked(job) || cli_views_final(cli_json_str(job, "status")) ||
	    !cli_json_num(job, "estimated_finish", &t) || (int64_t)t <= now)
		return "-";
	return render_reltime((int64_t)t, now, buf, size);
}

void
cli_views_jobs(const cJSON *r, int64_t now, const struct cli_views_opts *o, struct buf *out)
{
	static const char *const hdr[] = {"NAME", "STATUS",     "STEP",       "DONE",
	                                  "ETA",  "TRAIN_LOSS", "VALID_LOSS", "UPDATED"};
	struct render_table *t;
	const cJSON *job;
	char b[128];

	o = cli_views_o(o);
	if (cJSON_GetArraySize(r) == 0) {
		buf_puts(out, "no jobs\n");
		return;
	}
	t = render_table_new(8, hdr);
	for (size_t i = 2; i <= 6; i++)
		render_table_align(t, i, i == 4 ? RENDER_LEFT : RENDER_RIGHT);
	/* DONE is right-aligned: percentages line up. */
	render_table_fit(t, o->width, o->utf8);
	/* Too wide: the age, the validation loss and the ETA go first; the
	 * name is cut only then (it is what people grep for and type: an
	 * OpenAI job's full name, 37 columns, still fits 80); never the
	 * status. */
	render_table_shrink(t, 7, 0, RENDER_DROP);
	render_table_shrink(t, 6, 0, RENDER_DROP);
	render_table_shrink(t, 4, 0, RENDER_DROP);
	render_table_shrink(t, 0, 10, RENDER_CUT_MIDDLE);
	cJSON_ArrayForEach (job, r) {
		const cJSON *m = cli_json_get(job, "metrics"),
		            *up = cli_json_get(job, "updated_at");
		render_table_row(t);
		render_table_cell(t, cli_json_fmt(cli_json_get(job, "name"), b, sizeof(b)));
		cli_views_status_cell(t, cli_views_status_word(job, b, sizeof(b)),
		                      cli_views_untracked(job) ? NULL : cli_json_str(job, "status"),
		                      o);
		render_table_cell(t, cli_views_step(job, b, sizeof(b)));
		render_table_cell(t, cli_views_progress(job, b, sizeof(b)));
		render_table_cell(t, cli_views_eta(job, now, b, sizeof(b)));
		render_table_cell(t, cli_views_metric(m, "train_loss", b, sizeof(b)));
		render_table_cell(t, cli_views_metric(m, "valid_loss", b, sizeof(b)));
		/* Untracked, the age would keep growing as if the job were
		 * still watched: show the moment instead. */
		if (cli_views_untracked(job) && cJSON_IsNumber(up))
			render_table_cell(t, cli_views_clock(up->valuedouble, now, b, sizeof(b)));
		else
			render_table_cell(t, cli_views_time(up, now, CLI_VIEWS_REL, b, sizeof(b)));
	}
	render_table_print(t, out);
	render_table_free(t);
}

/* The value of one `show` field; untracked jobs get no live-looking age
 * and no projected finish (nobody updates it any more).  NULL leaves the
 * row out. */
static const char *
cli_views_show_value(const cJSON *job, const char *key, bool time, int64_t now, char *buf,
                     size_t size)
{
	const cJSON *v = cli_json_get(job, key);
	bool untracked = cli_views_untracked(job);
	char abs[40];

	if (strcmp(key, "status") == 0)
		return cli_views_status_word(job, buf, size);
	if (!time)
		return cli_json_fmt(v, buf, size);
	/* "finished: -" says nothing; "created: -" says it is unknown. */
	if (!cJSON_IsNumber(v) && strcmp(key, "created_at") != 0)
		return NULL;
	/* A finished job's estimate is history that reads as a promise. */
	if (strcmp(key, "estimated_finish") == 0 &&
	    (untracked || cli_views_final(cli_json_str(job, "status")) ||
	     cJSON_IsNumber(cli_json_get(job, "finished_at"))))
		return NULL;
	if (untracked && strcmp(key, "updated_at") == 0) {
		util_format_rfc3339((int64_t)v->valuedouble, abs, sizeof(abs));
		snprintf(buf, size, "%s (untracked: not polled since)", abs);
		return buf;
	}
	return cli_views_time(v, now, CLI_VIEWS_BOTH, buf, size);
}

/* The "key: value" block at the top of `show`. */
/* The checkpoint with the lowest full_valid_loss, else valid_loss. */
static const cJSON *
cli_views_best_of(const cJSON *cps, const char **metric, double *value)
{
	static const char *const keys[] = {"full_valid_loss", "valid_loss"};
	const cJSON *cp, *best = NULL;
	double v;

	for (size_t k = 0; k < ARRAY_SIZE(keys) && best == NULL; k++) {
		cJSON_ArrayForEach (cp, cps) {
			if (cli_json_num(cli_json_get(cp, "metrics"), keys[k], &v) && !isnan(v) &&
			    (best == NULL || v < *value)) {
				best = cp;
				*value = v;
				*metric = keys[k];
			}
		}
	}
	return best;
}

/* "step 100: full_valid_loss=0.55 (ftckpt-1)": the rules engine's
 * best_checkpoint when the daemon has one, else the lowest loss among the
 * checkpoints. */
static void
cli_views_best(const cJSON *job, struct render_table *kv)
{
	const cJSON *b = cli_json_get(job, "best_checkpoint");
	const char *metric = NULL, *id;
	char s[32], v[32];
	double value = 0;

	if (cJSON_IsObject(b)) {
		metric = cli_json_str(b, "metric");
		id = cli_json_str(b, "checkpoint");
		cli_json_num(b, "value", &value);
	} else if ((b = cli_views_best_of(cli_json_get(job, "checkpoints"), &metric, &value))) {
		id = cli_json_str(b, "id");
	} else {
		return;
	}
	render_table_row(kv);
	render_table_cell(kv, "best checkpoint:");
	render_table_cellf(kv, "step %s: %s=%s%s%s%s",
	                   cli_json_fmt(cli_json_get(b, "step"), s, sizeof(s)),
	                   metric ? metric : "?", render_number(value, v, sizeof(v)),
	                   id ? " (" : "", id ? id : "", id ? ")" : "");
}

/* Local runs: lines of the metrics file that could not be read. */
static void
cli_views_bad_lines(const cJSON *job, struct render_table *kv)
{
	const cJSON *last = cli_json_get(job, "last_bad_line");
	double n, line;

	if (!cli_json_num(job, "bad_lines", &n))
		return;
	render_table_row(kv);
	render_table_cell(kv, "bad lines:");
	if (n > 0 && cli_json_num(last, "line", &line))
		render_table_cellf(kv, "%.0f (last: line %.0f: %s)", n, line,
		                   cli_json_str(last, "reason") ? cli_json_str(last, "reason")
		                                                : "?");
	else
		render_table_cellf(kv, "%.0f", n);
}

static void
cli_views_show_fields(const cJSON *job, int64_t now, const struct cli_views_opts *o,
                      struct buf *out)
{
	static const struct {
		const char *key, *label;
		bool time;
	} fields[] = {
	        {"name", "name:", false},
	        {"source", "source:", false},
	        {"id", "id:", false},
	        {"status", "status:", false},
	        {"model", "model:", false},
	        {"fine_tuned_model", "fine-tuned model:", false},
	        {"trained_tokens", "trained tokens:", false},
	        {"created_at", "created:", true},
	        {"finished_at", "finished:", true},
	        {"estimated_finish", "estimated finish:", true},
	        {"updated_at", "updated:", true},
	};
	struct render_table *kv = render_table_new(2, NULL);
	const cJSON *err = cli_json_get(job, "error");
	char b[512];

	render_table_fit(kv, o->width, o->utf8);
	render_table_shrink(kv, 1, 20, RENDER_WRAP);

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		const char *text;
		if (strcmp(fields[i].key, "model") == 0) {
			/* step after status, where people look for it */
			render_table_row(kv);
			render_table_cell(kv, "step:");
			render_table_cell(kv, cli_views_step(job, b, sizeof(b)));
		}
		text = cli_views_show_value(job, fields[i].key, fields[i].time, now, b, sizeof(b));
		if (text == NULL)
			continue;
		render_table_row(kv);
		render_table_cell(kv, fields[i].label);
		render_table_cell(kv, text);
		/* Coloured, but no dot: "status: running" stays greppable. */
		if (strcmp(fields[i].key, "status") == 0 && o->color && !cli_views_untracked(job))
			render_table_color(kv, cli_views_status_color(cli_json_str(job, "status")));
	}
	if (err != NULL && !cJSON_IsNull(err)) {
		/* OpenAI reports {code, message, param}; show the message. */
		const char *msg = cli_json_str(err, "message");
		render_table_row(kv);
		render_table_cell(kv, "error:");
		render_table_cell(kv, msg ? msg : cli_json_fmt(err, b, sizeof(b)));
	}
	cli_views_best(job, kv);
	cli_views_bad_lines(job, kv);
	render_table_print(kv, out);
	render_table_free(kv);
}

void
cli_views_sparkline(const cJSON *points, size_t width, struct buf *out)
{
	int n = cJSON_GetArraySize(points);
	double *v, lo = INFINITY, hi = -INFINITY;
	size_t cols, finite = 0;

	if (n < 2 || width == 0)
		return;
	cols = (size_t)n < width ? (size_t)n : width;
	v = xcalloc(cols, sizeof(*v));
	/* Bucket means: the line shows the trend, the plot the detail. */
	for (size_t c = 0; c < cols; c++) {
		size_t from = c * (size_t)n / cols, to = (c + 1) * (size_t)n / cols, k = 0;
		double sum = 0;
		for (size_t i = from; i < to; i++) {
			const cJSON *y = cJSON_GetArrayItem(cJSON_GetArrayItem(points, (int)i), 1);
			if (cJSON_IsNumber(y) && isfinite(y->valuedouble)) {
				sum += y->valuedouble;
				k++;
			}
		}
		v[c] = k ? sum / (double)k : NAN;
		if (k) {
			finite++;
			lo = v[c] < lo ? v[c] : lo;
			hi = v[c] > hi ? v[c] : hi;
		}
	}
	for (size_t c = 0; finite >= 2 && c < cols; c++) {
		int level = isnan(v[c]) ? -1
		            : hi > lo   ? (int)((v[c] - lo) / (hi - lo) * 7 + 0.5)
		                        : 3;
		if (level < 0)
			buf_puts(out, " ");
		else /* U+2581 LOWER ONE EIGHTH BLOCK .. U+2588 FULL BLOCK */
			buf_printf(out, "\xe2\x96%c", (char)(0x81 + level));
	}
	free(v);
}

static void
cli_views_show_metrics(const cJSON *metrics, const cJSON *series, const struct cli_views_opts *o,
                       struct buf *out)
{
	struct render_table *t = render_table_new(3, NULL);
	const cJSON *it;
	char b[64];

	render_table_align(t, 1, RENDER_RIGHT);
	cJSON_ArrayForEach (it, metrics) {
		struct buf spark = BUF_INIT;
		render_table_row(t);
		render_table_cellf(t, "  %s", it->string ? it->string : "?");
		if (cJSON_IsNumber(it))
			render_table_cell(t, render_number(it->valuedouble, b, sizeof(b)));
		else
			render_table_cell(t, cJSON_IsNull(it) ? "nan"
			                                      : cli_json_fmt(it, b, sizeof(b)));
		if (o->utf8 && it->string)
			cli_views_sparkline(cli_json_get(series, it->string), 24, &spark);
		render_table_cell(t, spark.data);
		buf_free(&spark);
	}
	if (render_table_rows(t) > 0) {
		buf_puts(out, "\nlatest metrics:\n");
		render_table_print(t, out);
	}
	render_table_free(t);
}

static void
cli_views_show_checkpoints(const cJSON *cps, int64_t now, const struct cli_views_opts *o,
                           struct buf *out)
{
	static const char *const hdr[] = {"STEP", "CREATED", "MODEL", "METRICS"};
	struct render_table *t;
	const cJSON *cp;
	char b[512];

	if (cJSON_GetArraySize(cps) == 0)
		return;
	t = render_table_new(4, hdr);
	render_table_align(t, 0, RENDER_RIGHT);
	render_table_fit(t, o->width, o->utf8);
	/* The model name's ends say which checkpoint it is; its middle is the
	 * base model again.  Cut that before metrics wrap inside their names. */
	render_table_shrink(t, 2, 24, RENDER_CUT_MIDDLE);
	render_table_shrink(t, 3, 20, RENDER_WRAP);
	cJSON_ArrayForEach (cp, cps) {
		struct buf m = BUF_INIT;
		cli_json_pairs(cli_json_get(cp, "metrics"), &m);
		render_table_row(t);
		render_table_cell(t, cli_json_fmt(cli_json_get(cp, "step"), b, sizeof(b)));
		render_table_cell(t, cli_views_time(cli_json_get(cp, "created_at"), now,
		                                    CLI_VIEWS_REL, b, sizeof(b)));
		render_table_cell(t, cli_json_fmt(cli_json_get(cp, "model"), b, sizeof(b)));
		render_table_cell(t, m.len ? m.data : "-");
		buf_free(&m);
	}
	buf_puts(out, "\ncheckpoints:\n");
	render_table_print(t, out);
	render_table_free(t);
}

/* The alerts table, shared by `alerts` and `show` (which leaves out the
 * JOB column: it is the job being shown). */
static void
cli_views_alerts_table(const cJSON *alerts, bool with_job, int64_t now,
                       const struct cli_views_opts *o, struct buf *out)
{
	static const char *const hdr[] = {"ID",    "JOB",  "RULE",  "METRIC", "STATE",
	                                  "VALUE", "STEP", "FIRED", "ACKED",  "MESSAGE"};
	const char *cols[ARRAY_SIZE(hdr)];
	size_t n = 0;
	struct render_table *t;
	const cJSON *al;
	char b[256];

	for (size_t i = 0; i < ARRAY_SIZE(hdr); i++)
		if (with_job || i != 1)
			cols[n++] = hdr[i];
	t = render_table_new(n, cols);
	render_table_align(t, 0, RENDER_RIGHT);
	render_table_align(t, with_job ? 5 : 4, RENDER_RIGHT);
	render_table_align(t, with_job ? 6 : 5, RENDER_RIGHT);
	render_table_fit(t, o->width, o->utf8);
	render_table_shrink(t, n - 1, 20, RENDER_WRAP);
	if (with_job)
		render_table_shrink(t, 1, 12, RENDER_CUT_MIDDLE);
	cJSON_ArrayForEach (al, alerts) {
		const cJSON *v = cli_json_get(al, "value");
		render_table_row(t);
		render_table_cell(t, cli_json_fmt(cli_json_get(al, "id"), b, sizeof(b)));
		if (with_job)
			render_table_cell(t, cli_json_fmt(cli_json_get(al, "job"), b, sizeof(b)));
		render_table_cell(t, cli_json_fmt(cli_json_get(al, "rule"), b, sizeof(b)));
		render_table_cell(t, cli_json_fmt(cli_json_get(al, "metric"), b, sizeof(b)));
		render_table_cell(t, cli_json_fmt(cli_json_get(al, "state"), b, sizeof(b)));
		if (o->color && cli_json_str(al, "state") &&
		    strcmp(cli_json_str(al, "state"), "firing") == 0)
			render_table_color(t, 31);
		render_table_cell(t, cJSON_IsNumber(v) ? render_number(v->valuedouble, b, sizeof(b))
		                                       : cli_json_fmt(v, b, sizeof(b)));
		render_table_cell(t, cli_json_fmt(cli_json_get(al, "step"), b, sizeof(b)));
		render_table_cell(t, cli_views_time(cli_json_get(al, "fired_at"), now,
		                                    CLI_VIEWS_REL, b, sizeof(b)));
		render_table_cell(t, cJSON_IsTrue(cli_json_get(al, "acked")) ? "yes" : "no");
		render_table_cell(t, cli_json_str(al, "message"));
	}
	render_table_print(t, out);
	render_table_free(t);
}

void
cli_views_show(const cJSON *job, const cJSON *series, int64_t now, const struct cli_views_opts *o,
               struct buf *out)
{
	const cJSON *alerts = cli_json_get(job, "alerts");

	o = cli_views_o(o);
	cli_views_show_fields(job, now, o, out);
	cli_views_show_metrics(cli_json_get(job, "metrics"), series, o, out);
	cli_views_show_checkpoints(cli_json_get(job, "checkpoints"), now, o, out);
	if (cJSON_GetArraySize(alerts) > 0) {
		buf_puts(out, "\nalerts:\n");
		cli_views_alerts_table(alerts, false, now, o, out);
	}
}

/* ---- events, alerts, watch ---- */

void
cli_views_events(const cJSON *r, const char *job, int64_t now, const struct cli_views_opts *o,
                 struct buf *out)
{
	static const char *const hdr[] = {"TIME", "AGE", "TYPE", "LEVEL", "MESSAGE"};
	struct render_table *t;
	const cJSON *ev;
	char b[256];

	o = cli_views_o(o);
	if (cJSON_GetArraySize(r) == 0) {
		buf_printf(out, "no events for %s\n", job);
		return;
	}
	t = render_table_new(5, hdr);
	render_table_align(t, 1, RENDER_RIGHT);
	render_table_fit(t, o->width, o->utf8);
	render_table_shrink(t, 4, 20, RENDER_WRAP);
	cJSON_ArrayForEach (ev, r) {
		const cJSON *time = cli_json_get(ev, "time");
		const char *level = cli_json_str(ev, "level");
		render_table_row(t);
		if (cJSON_IsNumber(time)) {
			render_table_cell(t, cli_views_clock(time->valuedouble, now, b, sizeof(b)));
			render_table_cell(t,
			                  cli_views_time(time, now, CLI_VIEWS_REL, b, sizeof(b)));
		} else {
			render_table_cell(t, cli_json_fmt(time, b, sizeof(b)));
			render_table_cell(t, "-");
		}
		render_table_cell(t, cli_json_fmt(cli_json_get(ev, "type"), b, sizeof(b)));
		render_table_cell(t, cli_json_fmt(cli_json_get(ev, "level"), b, sizeof(b)));
		if (o->color && level &&
		    (strcmp(level, "error") == 0 || strcmp(level, "warn") == 0))
			render_table_color(t, strcmp(level, "error") == 0 ? 31 : 33);
		render_table_cell(t, cli_json_str(ev, "message"));
	}
	render_table_print(t, out);
	render_table_free(t);
}

void
cli_views_alerts(const cJSON *r, bool all, int64_t now, const struct cli_views_opts *o,
                 struct buf *out)
{
	if (cJSON_GetArraySize(r) == 0)
		buf_puts(out, all ? "no alerts\n" : "no firing alerts\n");
	else
		cli_views_alerts_table(r, true, now, cli_views_o(o), out);
}

/* The members of a watch event after time, kind and job. */
static void
cli_views_watch_rest(const cJSON *ev, struct buf *line)
{
	const cJSON *it;
	char b[256];

	cJSON_ArrayForEach (it, ev) {
		const char *k = it->string ? it->string : "";
		if (strcmp(k, "time") == 0 || strcmp(k, "event") == 0 || strcmp(k, "type") == 0 ||
		    strcmp(k, "job") == 0 || strcmp(k, "id") == 0 || cJSON_IsNull(it))
			continue;
		if (cJSON_IsObject(it))
			cli_json_pairs(it, line); /* metrics, alert: flatten */
		else if (strcmp(k, "message") == 0 && cJSON_IsString(it))
			buf_printf(line, "%s\"%s\"", line->data[line->len - 1] == ' ' ? "" : " ",
			           it->valuestring);
		else
			buf_printf(line, "%s%s=%s", line->data[line->len - 1] == ' ' ? "" : " ", k,
			           cli_json_fmt(it, b, sizeof(b)));
	}
}

void
cli_views_watch(const cJSON *ev, int64_t now, struct buf *out)
{
	const cJSON *time = cli_json_get(ev, "time"), *job = cli_json_get(ev, "job");
	const char *kind = cli_json_str(ev, "event");
	struct buf line = BUF_INIT;
	char b[256];

	if (kind == NULL)
		kind = cli_json_str(ev, "type");
	if (cJSON_IsNumber(time))
		buf_puts(&line, cli_views_time(time, now, CLI_VIEWS_ABS, b, sizeof(b)));
	else if (cJSON_IsString(time))
		buf_puts(&line, time->valuestring);
	else
		buf_puts(&line, util_format_rfc3339(now, b, sizeof(b)));
	buf_printf(&line, " %s", kind ? kind : "-");
	if (cJSON_IsString(job))
		buf_printf(&line, " %s", job->valuestring);
	else if (cli_json_str(job, "name") != NULL)
		buf_printf(&line, " %s", cli_json_str(job, "name"));
	if (cli_json_str(job, "status") != NULL)
		buf_printf(&line, " status=%s", cli_json_str(job, "status"));
	buf_puts(&line, " ");
	cli_views_watch_rest(ev, &line);
	while (line.len > 0 && line.data[line.len - 1] == ' ')
		line.data[--line.len] = '\0';
	render_sanitize(line.data);
	buf_printf(out, "%s\n", line.data);
	buf_free(&line);
}

/* ---- refusals ---- */

void
cli_views_refusal(const cJSON *err, struct buf *out)
{
	const char *code = cli_json_str(err, "code");
	const char *msg = cli_json_str(err, "message");
	const cJSON *list = cli_json_get(err, "errors"), *e;
	char b[64];
	char *line = xasprintf("%s: %s", code ? code : "error",
	                       msg ? msg : "the daemon refused the request");

	render_sanitize(line);
	buf_printf(out, "%s\n", line);
	free(line);
	if (!cJSON_IsArray(list))
		list = NULL;
	cJSON_ArrayForEach (e, list) {
		line = xstrdup(cli_json_fmt(e, b, sizeof(b)));
		render_sanitize(line);
		buf_printf(out, "%s\n", line);
		free(line);
	}
}
