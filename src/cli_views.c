/*
 * cli_views: the tables and lines of ftmonctl, from results to text.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_json.h"
#include "cli_views.h"
#include "render.h"
#include "util.h"
#include "xmalloc.h"

/* A Unix time as RFC 3339, relative ("12s ago"), or both. */
enum cli_views_time_style { CLI_VIEWS_ABS, CLI_VIEWS_REL, CLI_VIEWS_BOTH };

static const char *
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
static const char *
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

/* ---- status ---- */

/* "ok", "down since 10:42:07Z", "backing off until 10:43:00Z", ... */
static const char *
cli_views_health(const cJSON *s, int64_t now, char *buf, size_t size)
{
	const char *h = cli_json_str(s, "health");
	char clock[40];
	double t;

	if (h == NULL)
		return cli_json_fmt(cli_json_get(s, "health"), buf, size);
	if (strcmp(h, "backing_off") == 0) {
		if (cli_json_num(s, "backoff_until", &t))
			snprintf(buf, size, "backing off until %s",
			         cli_views_clock(t, now, clock, sizeof(clock)));
		else if (cli_json_num(s, "health_since", &t))
			snprintf(buf, size, "backing off since %s",
			         cli_views_clock(t, now, clock, sizeof(clock)));
		else
			snprintf(buf, size, "backing off");
		return buf;
	}
	/* Good states need no date: "ok since" would only add noise. */
	if (strcmp(h, "ok") == 0 || strcmp(h, "idle") == 0 || strcmp(h, "inactive") == 0 ||
	    !cli_json_num(s, "health_since", &t))
		return h;
	snprintf(buf, size, "%s since %s", h, cli_views_clock(t, now, clock, sizeof(clock)));
	return buf;
}

/* The last error, prefixed with when it happened if the daemon says. */
static void
cli_views_last_error(struct render_table *t, const cJSON *s, int64_t now)
{
	const char *msg = cli_json_str(s, "last_error");
	char clock[40];
	double at;

	if (msg != NULL && cli_json_num(s, "last_error_at", &at))
		render_table_cellf(t, "%s %s", cli_views_clock(at, now, clock, sizeof(clock)), msg);
	else
		render_table_cell(t, msg);
}

static void
cli_views_sources(const cJSON *sources, int64_t now, struct buf *out)
{
	static const char *const hdr[] = {"SOURCE", "TYPE",     "HEALTH", "LAST POLL",
	                                  "JOBS",   "REQUESTS", "ERRORS", "LAST ERROR"};
	struct render_table *t = render_table_new(8, hdr);
	const cJSON *s;
	char b[128];

	for (size_t i = 4; i <= 6; i++)
		render_table_align(t, i, RENDER_RIGHT);
	cJSON_ArrayForEach (s, sources) {
		const cJSON *last = cli_json_get(s, "last_poll");
		render_table_row(t);
		render_table_cell(t, cli_json_fmt(cli_json_get(s, "name"), b, sizeof(b)));
		render_table_cell(t, cli_json_fmt(cli_json_get(s, "type"), b, sizeof(b)));
		render_table_cell(t, cli_views_health(s, now, b, sizeof(b)));
		render_table_cell(t, cJSON_IsNumber(last) ? cli_views_time(last, now, CLI_VIEWS_REL,
		                                                           b, sizeof(b))
		                                          : "never");
		render_table_cell(t, cli_json_fmt(cli_json_get(s, "jobs"), b, sizeof(b)));
		render_table_cell(t, cli_json_fmt(cli_json_get(s, "requests"), b, sizeof(b)));
		render_table_cell(t, cli_json_fmt(cli_json_get(s, "errors"), b, sizeof(b)));
		cli_views_last_error(t, s, now);
	}
	buf_puts(out, "\n");
	if (render_table_rows(t) > 0)
		render_table_print(t, out);
	else
		buf_puts(out, "no sources configured\n");
	render_table_free(t);
}

/* Every error of the last failed reload on its own line when the daemon
 * lists them (config_errors), else its one-line config_error. */
static void
cli_views_config_errors(const cJSON *r, struct render_table *kv)
{
	const cJSON *list = cli_json_get(r, "config_errors"), *e;
	int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0, i = 0;
	char b[64];

	if (n == 0)
		list = NULL;
	if (n == 0 && cli_json_str(r, "config_error") != NULL) {
		render_table_row(kv);
		render_table_cell(kv, "config error:");
		render_table_cell(kv, cli_json_str(r, "config_error"));
	}
	cJSON_ArrayForEach (e, list) {
		render_table_row(kv);
		render_table_cell(kv, i++ > 0 ? "" : n == 1 ? "config error:" : "config errors:");
		render_table_cell(kv, cli_json_fmt(e, b, sizeof(b)));
	}
}

/* "1 running, 3 succeeded" or "none". */
static void
cli_views_job_counts(const cJSON *jobs, struct buf *counts)
{
	const cJSON *it;
	char b[64];

	cJSON_ArrayForEach (it, jobs) {
		buf_printf(counts, "%s%s %s", counts->len ? ", " : "",
		           cli_json_fmt(it, b, sizeof(b)), it->string ? it->string : "?");
	}
	if (counts->len == 0)
		buf_puts(counts, "none");
}

void
cli_views_status(const cJSON *r, int64_t now, struct buf *out)
{
	struct render_table *kv = render_table_new(2, NULL);
	const cJSON *db = cli_json_get(r, "database");
	struct buf counts = BUF_INIT;
	char b[128], b2[64];
	double d;

	render_table_cell(kv, "daemon:");
	render_table_cellf(kv, "ftmond %s, pid %s",
	                   cli_json_fmt(cli_json_get(r, "version"), b, sizeof(b)),
	                   cli_json_fmt(cli_json_get(r, "pid"), b2, sizeof(b2)));
	render_table_row(kv);
	render_table_cell(kv, "uptime:");
	render_table_cell(kv, cli_json_num(r, "uptime_s", &d)
	                              ? render_duration((int64_t)d, b, sizeof(b))
	                              : "-");
	render_table_row(kv);
	render_table_cell(kv, "config:");
	render_table_cell(kv, cli_json_fmt(cli_json_get(r, "config"), b, sizeof(b)));
	cli_views_config_errors(r, kv);
	render_table_row(kv);
	render_table_cell(kv, "database:");
	if (cli_json_num(db, "size_bytes", &d) && d >= 0)
		render_table_cellf(kv, "%s (%s)",
		                   cli_json_fmt(cli_json_get(db, "path"), b, sizeof(b)),
		                   render_bytes((uint64_t)d, b2, sizeof(b2)));
	else
		render_table_cell(kv, cli_json_fmt(cli_json_get(db, "path"), b, sizeof(b)));
	cli_views_job_counts(cli_json_get(r, "jobs"), &counts);
	render_table_row(kv);
	render_table_cell(kv, "jobs:");
	render_table_cell(kv, counts.data);
	render_table_row(kv);
	render_table_cell(kv, "alerts:");
	render_table_cellf(kv, "%s firing",
	                   cli_json_fmt(cli_json_get(r, "alerts_firing"), b, sizeof(b)));
	render_table_row(kv);
	render_table_cell(kv, "deliveries:");
	render_table_cellf(kv, "%s pending",
	                   cli_json_fmt(cli_json_get(r, "deliveries_pending"), b, sizeof(b)));
	render_table_print(kv, out);
	render_table_free(kv);
	buf_free(&counts);
	cli_views_sources(cli_json_get(r, "sources"), now, out);
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

void
cli_views_jobs(const cJSON *r, int64_t now, struct buf *out)
{
	static const char *const hdr[] = {"NAME",       "STATUS",     "STEP",
	                                  "TRAIN_LOSS", "VALID_LOSS", "UPDATED"};
	struct render_table *t;
	const cJSON *job;
	char b[128];

	if (cJSON_GetArraySize(r) == 0) {
		buf_puts(out, "no jobs\n");
		return;
	}
	t = render_table_new(6, hdr);
	for (size_t i = 2; i <= 4; i++)
		render_table_align(t, i, RENDER_RIGHT);
	cJSON_ArrayForEach (job, r) {
		const cJSON *m = cli_json_get(job, "metrics"),
		            *up = cli_json_get(job, "updated_at");
		render_table_row(t);
		render_table_cell(t, cli_json_fmt(cli_json_get(job, "name"), b, sizeof(b)));
		render_table_cell(t, cli_views_status_word(job, b, sizeof(b)));
		render_table_cell(t, cli_views_step(job, b, sizeof(b)));
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
	if (untracked && strcmp(key, "estimated_finish") == 0)
		return NULL;
	if (untracked && strcmp(key, "updated_at") == 0) {
		util_format_rfc3339((int64_t)v->valuedouble, abs, sizeof(abs));
		snprintf(buf, size, "%s (untracked: not polled since)", abs);
		return buf;
	}
	return cli_views_time(v, now, CLI_VIEWS_BOTH, buf, size);
}

/* The "key: value" block at the top of `show`. */
static void
cli_views_show_fields(const cJSON *job, int64_t now, struct buf *out)
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
	}
	if (err != NULL && !cJSON_IsNull(err)) {
		/* OpenAI reports {code, message, param}; show the message. */
		const char *msg = cli_json_str(err, "message");
		render_table_row(kv);
		render_table_cell(kv, "error:");
		render_table_cell(kv, msg ? msg : cli_json_fmt(err, b, sizeof(b)));
	}
	render_table_print(kv, out);
	render_table_free(kv);
}

static void
cli_views_show_metrics(const cJSON *metrics, struct buf *out)
{
	struct render_table *t = render_table_new(2, NULL);
	const cJSON *it;
	char b[64];

	render_table_align(t, 1, RENDER_RIGHT);
	cJSON_ArrayForEach (it, metrics) {
		render_table_row(t);
		render_table_cellf(t, "  %s", it->string ? it->string : "?");
		if (cJSON_IsNumber(it))
			render_table_cell(t, render_number(it->valuedouble, b, sizeof(b)));
		else
			render_table_cell(t, cJSON_IsNull(it) ? "nan"
			                                      : cli_json_fmt(it, b, sizeof(b)));
	}
	if (render_table_rows(t) > 0) {
		buf_puts(out, "\nlatest metrics:\n");
		render_table_print(t, out);
	}
	render_table_free(t);
}

static void
cli_views_show_checkpoints(const cJSON *cps, int64_t now, struct buf *out)
{
	static const char *const hdr[] = {"STEP", "CREATED", "METRICS", "MODEL"};
	struct render_table *t;
	const cJSON *cp;
	char b[512];

	if (cJSON_GetArraySize(cps) == 0)
		return;
	t = render_table_new(4, hdr);
	render_table_align(t, 0, RENDER_RIGHT);
	cJSON_ArrayForEach (cp, cps) {
		struct buf m = BUF_INIT;
		cli_json_pairs(cli_json_get(cp, "metrics"), &m);
		render_table_row(t);
		render_table_cell(t, cli_json_fmt(cli_json_get(cp, "step"), b, sizeof(b)));
		render_table_cell(t, cli_views_time(cli_json_get(cp, "created_at"), now,
		                                    CLI_VIEWS_REL, b, sizeof(b)));
		render_table_cell(t, m.len ? m.data : "-");
		render_table_cell(t, cli_json_fmt(cli_json_get(cp, "model"), b, sizeof(b)));
		buf_free(&m);
	}
	buf_puts(out, "\ncheckpoints:\n");
	render_table_print(t, out);
	render_table_free(t);
}

/* The alerts table, shared by `alerts` and `show` (which leaves out the
 * JOB column: it is the job being shown). */
static void
cli_views_alerts_table(const cJSON *alerts, bool with_job, int64_t now, struct buf *out)
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
	cJSON_ArrayForEach (al, alerts) {
		const cJSON *v = cli_json_get(al, "value");
		render_table_row(t);
		render_table_cell(t, cli_json_fmt(cli_json_get(al, "id"), b, sizeof(b)));
		if (with_job)
			render_table_cell(t, cli_json_fmt(cli_json_get(al, "job"), b, sizeof(b)));
		render_table_cell(t, cli_json_fmt(cli_json_get(al, "rule"), b, sizeof(b)));
		render_table_cell(t, cli_json_fmt(cli_json_get(al, "metric"), b, sizeof(b)));
		render_table_cell(t, cli_json_fmt(cli_json_get(al, "state"), b, sizeof(b)));
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
cli_views_show(const cJSON *job, int64_t now, struct buf *out)
{
	const cJSON *alerts = cli_json_get(job, "alerts");

	cli_views_show_fields(job, now, out);
	cli_views_show_metrics(cli_json_get(job, "metrics"), out);
	cli_views_show_checkpoints(cli_json_get(job, "checkpoints"), now, out);
	if (cJSON_GetArraySize(alerts) > 0) {
		buf_puts(out, "\nalerts:\n");
		cli_views_alerts_table(alerts, false, now, out);
	}
}

/* ---- events, alerts, watch ---- */

void
cli_views_events(const cJSON *r, const char *job, struct buf *out)
{
	static const char *const hdr[] = {"TIME", "TYPE", "LEVEL", "MESSAGE"};
	struct render_table *t;
	const cJSON *ev;
	char b[256];

	if (cJSON_GetArraySize(r) == 0) {
		buf_printf(out, "no events for %s\n", job);
		return;
	}
	t = render_table_new(4, hdr);
	cJSON_ArrayForEach (ev, r) {
		render_table_row(t);
		render_table_cell(t, cli_views_time(cli_json_get(ev, "time"), 0, CLI_VIEWS_ABS, b,
		                                    sizeof(b)));
		render_table_cell(t, cli_json_fmt(cli_json_get(ev, "type"), b, sizeof(b)));
		render_table_cell(t, cli_json_fmt(cli_json_get(ev, "level"), b, sizeof(b)));
		render_table_cell(t, cli_json_str(ev, "message"));
	}
	render_table_print(t, out);
	render_table_free(t);
}

void
cli_views_alerts(const cJSON *r, bool all, int64_t now, struct buf *out)
{
	if (cJSON_GetArraySize(r) == 0)
		buf_puts(out, all ? "no alerts\n" : "no firing alerts\n");
	else
		cli_views_alerts_table(r, true, now, out);
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
		    strcmp(k, "job") == 0 || strcmp(k, "id") == 0)
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
