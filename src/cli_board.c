/*
 * cli_board: the watch board's model and text (see cli_board.h).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_board.h"
#include "cli_json.h"
#include "render.h"
#include "util.h"
#include "xmalloc.h"

struct cli_board_job {
	char *name;
	char *status;
	double step, total;
	bool has_step, has_total;
	int64_t est;    /* estimated_finish, 0 = none */
	cJSON *metrics; /* owned: the latest value of each metric seen */
	int alerts;     /* firing */
	/* steps/s: the first and the latest step seen on the stream */
	bool sampled;
	double step0, step1;
	uint64_t ms0, ms1;
};

struct cli_board {
	char *only;
	struct cli_board_job *jobs;
	size_t njobs, cap;
	char *events[CLI_BOARD_EVENTS]; /* oldest first, each one line */
	size_t nevents;
	int64_t updated; /* time of the last line folded in */
};

struct cli_board *
cli_board_new(const char *only)
{
	struct cli_board *b = xcalloc(1, sizeof(*b));

	b->only = only ? xstrdup(only) : NULL;
	return b;
}

void
cli_board_free(struct cli_board *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->njobs; i++) {
		free(b->jobs[i].name);
		free(b->jobs[i].status);
		cJSON_Delete(b->jobs[i].metrics);
	}
	for (size_t i = 0; i < b->nevents; i++)
		free(b->events[i]);
	free(b->jobs);
	free(b->only);
	free(b);
}

static struct cli_board_job *
cli_board_job(struct cli_board *b, const char *name, bool create)
{
	struct cli_board_job *j;

	for (size_t i = 0; i < b->njobs; i++)
		if (strcmp(b->jobs[i].name, name) == 0)
			return &b->jobs[i];
	if (!create)
		return NULL;
	if (b->njobs == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->jobs = xreallocarray(b->jobs, b->cap, sizeof(*b->jobs));
	}
	j = &b->jobs[b->njobs++];
	memset(j, 0, sizeof(*j));
	j->name = xstrdup(name);
	j->status = xstrdup("-");
	j->metrics = cJSON_CreateObject();
	return j;
}

static void
cli_board_set_status(struct cli_board_job *j, const char *status)
{
	if (status == NULL)
		return;
	free(j->status);
	j->status = xstrdup(status);
}

/* Status, step, total steps, estimate and metrics of a jobs entry or a
 * points line (the same names). */
static void
cli_board_fields(struct cli_board_job *j, const cJSON *o)
{
	const cJSON *m = cli_json_get(o, "metrics"), *it;
	double v;

	cli_board_set_status(j, cli_json_str(o, "status"));
	if (cli_json_num(o, "step", &v)) {
		j->step = v;
		j->has_step = true;
	}
	if (cli_json_num(o, "total_steps", &v) && v > 0) {
		j->total = v;
		j->has_total = true;
	}
	if (cli_json_num(o, "estimated_finish", &v))
		j->est = (int64_t)v;
	cJSON_ArrayForEach (it, m) {
		if (it->string == NULL)
			continue;
		/* In place: the losses keep their order from draw to draw. */
		if (cJSON_GetObjectItemCaseSensitive(j->metrics, it->string) != NULL)
			cJSON_ReplaceItemInObjectCaseSensitive(j->metrics, it->string,
			                                       cJSON_Duplicate(it, false));
		else
			cJSON_AddItemToObject(j->metrics, it->string, cJSON_Duplicate(it, false));
	}
}

static bool
cli_board_wanted(const struct cli_board *b, const char *name)
{
	return name != NULL && (b->only == NULL || strcmp(b->only, name) == 0);
}

void
cli_board_seed(struct cli_board *b, const cJSON *jobs, const cJSON *alerts)
{
	const cJSON *it;
	struct cli_board_job *j;

	if (!cJSON_IsArray(jobs))
		jobs = NULL;
	if (!cJSON_IsArray(alerts))
		alerts = NULL;
	cJSON_ArrayForEach (it, jobs) {
		const char *name = cli_json_str(it, "name");
		if (cli_board_wanted(b, name) && !cJSON_IsFalse(cli_json_get(it, "tracked")))
			cli_board_fields(cli_board_job(b, name, true), it);
	}
	cJSON_ArrayForEach (it, alerts) {
		const char *state = cli_json_str(it, "state"), *name = cli_json_str(it, "job");
		if (cli_board_wanted(b, name) && state && strcmp(state, "firing") == 0 &&
		    (j = cli_board_job(b, name, false)) != NULL)
			j->alerts++;
	}
}

/* Keep the event as a line of the tail, dropping the oldest. */
static void
cli_board_remember(struct cli_board *b, const cJSON *ev)
{
	struct buf line = BUF_INIT;

	cli_views_watch(ev, b->updated, &line);
	if (line.len > 0 && line.data[line.len - 1] == '\n')
		line.data[--line.len] = '\0';
	if (b->nevents == CLI_BOARD_EVENTS) {
		free(b->events[0]);
		memmove(b->events, b->events + 1, (CLI_BOARD_EVENTS - 1) * sizeof(char *));
		b->nevents--;
	}
	b->events[b->nevents++] = line.data ? line.data : xstrdup("");
}

static void
cli_board_points(struct cli_board_job *j, const cJSON *ev, uint64_t now_ms)
{
	cli_board_fields(j, ev);
	if (!j->has_step)
		return;
	if (!j->sampled) {
		j->sampled = true;
		j->step0 = j->step1 = j->step;
		j->ms0 = j->ms1 = now_ms;
	} else {
		j->step1 = j->step;
		j->ms1 = now_ms;
	}
}

bool
cli_board_apply(struct cli_board *b, const cJSON *ev, uint64_t now_ms)
{
	const char *kind = cli_json_str(ev, "event"), *name = cli_json_str(ev, "job");
	const cJSON *data = cli_json_get(ev, "data");
	struct cli_board_job *j;
	double t;

	if (kind == NULL || !cli_board_wanted(b, name))
		return false;
	if (cli_json_num(ev, "time", &t))
		b->updated = (int64_t)t;
	j = cli_board_job(b, name,
	                  strcmp(kind, "points") == 0 || strcmp(kind, "job.discovered") == 0);
	if (strcmp(kind, "points") == 0) {
		cli_board_points(j, ev, now_ms);
		return true;
	}
	if (j != NULL && util_startswith(kind, "job."))
		cli_board_set_status(j, cli_json_str(data, "status"));
	else if (j != NULL && strcmp(kind, "alert.fired") == 0)
		j->alerts++;
	else if (j != NULL && strcmp(kind, "alert.resolved") == 0 && j->alerts > 0)
		j->alerts--;
	cli_board_remember(b, ev);
	return true;
}

/* ---- drawing ---- */

static bool
cli_board_running(const struct cli_board_job *j)
{
	return strcmp(j->status, "succeeded") != 0 && strcmp(j->status, "failed") != 0 &&
	       strcmp(j->status, "cancelled") != 0;
}

/* Steps per second over what the stream showed; 0 when unknown. */
static double
cli_board_rate(const struct cli_board_job *j)
{
	/* Under a second of history says more about batching than speed. */
	if (!j->sampled || j->ms1 < j->ms0 + 1000 || j->step1 <= j->step0)
		return 0;
	return (j->step1 - j->step0) * 1000.0 / (double)(j->ms1 - j->ms0);
}

static void
cli_board_bar(const struct cli_board_job *j, const struct cli_views_opts *o, struct buf *out)
{
	const int cells = 16;
	double frac = j->step / j->total;
	int full = (int)floor((frac > 1 ? 1 : frac < 0 ? 0 : frac) * cells);

	buf_puts(out, o->utf8 ? "" : "[");
	for (int i = 0; i < cells; i++)
		buf_puts(out, i < full ? (o->utf8 ? "\u2588" : "#") : (o->utf8 ? "\u2591" : "-"));
	buf_puts(out, o->utf8 ? " " : "] ");
}

/* Everything after the name but the losses: progress, rate, ETA, alerts. */
static void
cli_board_middle(const struct cli_board_job *j, int64_t now, const struct cli_views_opts *o,
                 struct buf *out, size_t *alert_at)
{
	double rate = cli_board_rate(j);
	char b[32];

	if (j->has_total) {
		cli_board_bar(j, o, out);
		buf_printf(out, "%.0f/%.0f", j->step, j->total);
	} else if (j->has_step) {
		buf_printf(out, "step %.0f", j->step);
	} else {
		buf_puts(out, j->status);
	}
	if (rate > 0)
		buf_printf(out, "  %.3g steps/s", rate);
	if (j->est > now)
		buf_printf(out, "  ETA %s", render_duration(j->est - now, b, sizeof(b)));
	else if (rate > 0 && j->has_total && j->total > j->step)
		buf_printf(
		        out, "  ETA %s",
		        render_duration((int64_t)ceil((j->total - j->step) / rate), b, sizeof(b)));
	*alert_at = out->len;
	if (j->alerts > 0)
		buf_printf(out, "  %s %d alert%s", o->utf8 ? "\u26a0" : "!", j->alerts,
		           j->alerts == 1 ? "" : "s");
}

/* "train_loss=0.43 valid_loss=0.51": the metrics people watch live. */
static void
cli_board_losses(const struct cli_board_job *j, struct buf *out)
{
	const cJSON *it;
	char b[32];

	cJSON_ArrayForEach (it, j->metrics) {
		if (it->string == NULL || strstr(it->string, "loss") == NULL)
			continue;
		buf_printf(out, "%s%s=%s", out->len ? " " : "", it->string,
		           cJSON_IsNumber(it) ? render_number(it->valuedouble, b, sizeof(b))
		                              : "nan");
	}
}

static void
cli_board_line(const struct cli_board_job *j, size_t namew, size_t width, int64_t now,
               const struct cli_views_opts *o, struct buf *out)
{
	struct buf mid = BUF_INIT, loss = BUF_INIT;
	char *name = render_cut_middle(j->name, namew, o->utf8), *cut;
	size_t alert_at, used;

	render_sanitize(name);
	cli_board_middle(j, now, o, &mid, &alert_at);
	cli_board_losses(j, &loss);
	if (o->color)
		buf_printf(out, "\033[%dm%s\033[0m ", strcmp(j->status, "running") == 0 ? 32 : 33,
		           o->utf8 ? "\u25cf" : "*");
	else
		buf_printf(out, "%s ", o->utf8 ? "\u25cf" : "*");
	buf_printf(out, "%s%*s  ", name, (int)(namew - render_width(name)), "");
	used = 2 + namew + 2;
	/* The losses give way first, then the middle is cut at the end. */
	cut = render_cut_end(mid.data ? mid.data : "", used < width ? width - used : 0, o->utf8);
	if (o->color && j->alerts > 0 && strlen(cut) == mid.len)
		buf_printf(out, "%.*s\033[31m%s\033[0m", (int)alert_at, cut, cut + alert_at);
	else
		buf_puts(out, cut);
	used += render_width(cut);
	if (loss.len > 0 && used + 2 < width) {
		char *l = render_cut_end(loss.data, width - used - 2, o->utf8);
		render_sanitize(l);
		buf_printf(out, "  %s", l);
		free(l);
	}
	buf_puts(out, "\n");
	free(cut);
	free(name);
	buf_free(&mid);
	buf_free(&loss);
}

int
cli_board_render(const struct cli_board *b, int64_t now, const struct cli_views_opts *o,
                 struct buf *out)
{
	/* One column short of the edge: a full line would leave the cursor
	 * in the autowrap state and the redraw would count one line off. */
	size_t width = (o->width ? o->width : 80) - 1, namew = 0, running = 0;
	char clock[40];
	int lines = 0;

	for (size_t i = 0; i < b->njobs; i++) {
		if (!cli_board_running(&b->jobs[i]))
			continue;
		running++;
		if (render_width(b->jobs[i].name) > namew)
			namew = render_width(b->jobs[i].name);
	}
	/* Names get what the progress (about 44 columns: bar, steps, rate,
	 * ETA) leaves, but at least 12. */
	if (namew > 12 && namew + 48 > width)
		namew = width > 60 ? width - 48 : 12;
	util_format_rfc3339(b->updated ? b->updated : now, clock, sizeof(clock));
	buf_printf(out, "ftmon watch: %zu running job%s%s%s, updated %s\n", running,
	           running == 1 ? "" : "s", b->only ? " of " : "", b->only ? b->only : "",
	           clock + (strlen(clock) == 20 ? 11 : 0));
	lines++;
	for (size_t i = 0; i < b->njobs; i++) {
		if (!cli_board_running(&b->jobs[i]))
			continue;
		cli_board_line(&b->jobs[i], namew, width, now, o, out);
		lines++;
	}
	if (b->nevents > 0) {
		buf_puts(out, "\n");
		lines++;
	}
	for (size_t i = 0; i < b->nevents; i++) {
		char *e = render_cut_end(b->events[i], width, o->utf8);
		buf_printf(out, "%s\n", e);
		free(e);
		lines++;
	}
	return lines;
}
