/*
 * cli_read: ping, status, jobs, show, metrics, plot, events, alerts.
 */
#include "config.h"

#include <errno.h>
#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli_json.h"
#include "cli_read.h"
#include "cli_series.h"
#include "cli_views.h"
#include "proto.h"
#include "util.h"

static int
cli_read_render_pong(struct cli *c, const struct cli_args *a, const cJSON *r)
{
	char b[64];

	buf_printf(&c->out.text, "%s\n", cli_json_fmt(r, b, sizeof(b)));
	return CLI_EXIT_OK;
}

int
cli_read_ping(struct cli *c, struct cli_args *a)
{
	return cli_call(c, "ping", NULL, cli_read_render_pong, a);
}

static int
cli_read_render_status(struct cli *c, const struct cli_args *a, const cJSON *r)
{
	struct cli_views_opts o = cli_out_views_opts();

	cli_views_status(r, c->now, &o, &c->out.text);
	return CLI_EXIT_OK;
}

int
cli_read_status(struct cli *c, struct cli_args *a)
{
	return cli_call(c, "status", NULL, cli_read_render_status, a);
}

static int
cli_read_render_jobs(struct cli *c, const struct cli_args *a, const cJSON *r)
{
	struct cli_views_opts o = cli_out_views_opts();

	cli_views_jobs(r, c->now, &o, &c->out.text);
	return CLI_EXIT_OK;
}

int
cli_read_jobs(struct cli *c, struct cli_args *a)
{
	cJSON *args = cJSON_CreateObject();

	cJSON_AddBoolToObject(args, "all", a->all);
	if (a->status != NULL)
		cJSON_AddStringToObject(args, "status", a->status);
	if (a->source != NULL)
		cJSON_AddStringToObject(args, "source", a->source);
	return cli_call(c, "jobs", args, cli_read_render_jobs, a);
}

/* The job's curves for its sparklines: a second, small request (a few
 * dozen points per metric); without them `show` still shows the rest. */
static cJSON *
cli_read_show_series(struct cli *c, const char *name, const struct cli_views_opts *o)
{
	struct cli_conn conn = CLI_CONN_INIT;
	cJSON *args, *root = NULL, *series = NULL;
	const cJSON *result;

	if (!o->utf8)
		return NULL;
	conn.socket = c->conn.socket;
	args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "job", name);
	cJSON_AddNumberToObject(args, "points", 48);
	if (cli_conn_call(&conn, "metrics", args, true, &root, &result) == CLI_EXIT_OK)
		series = cJSON_Duplicate(result, true);
	cJSON_Delete(root);
	cli_conn_close(&conn);
	return series;
}

static int
cli_read_render_show(struct cli *c, const struct cli_args *a, const cJSON *r)
{
	struct cli_views_opts o = cli_out_views_opts();
	const char *name = cli_json_str(r, "name");
	cJSON *series = cli_read_show_series(c, name ? name : a->pos[0], &o);

	cli_views_show(r, series, c->now, &o, &c->out.text);
	cJSON_Delete(series);
	return CLI_EXIT_OK;
}

int
cli_read_show(struct cli *c, struct cli_args *a)
{
	cJSON *args = cJSON_CreateObject();

	cJSON_AddStringToObject(args, "job", a->pos[0]);
	return cli_call(c, "job", args, cli_read_render_show, a);
}

/* ---- metrics and plot ---- */

static int
cli_read_render_metrics(struct cli *c, const struct cli_args *a, const cJSON *r)
{
	struct cli_series *s;
	size_t ns;

	if (cli_series_load(r, &s, &ns) < 0)
		return cli_fail(CLI_EXIT_UNREACHABLE, "malformed metrics reply from the daemon");
	if (cli_series_points(s, ns) == 0 && !a->csv)
		buf_printf(&c->out.text, "no metric points for %s\n", a->pos[0]);
	else
		cli_series_table(s, ns, a->csv, &c->out.text);
	cli_series_free(s, ns);
	return CLI_EXIT_OK;
}

/* The args shared by `metrics` and `plot`. */
static cJSON *
cli_read_metrics_args(const struct cli_args *a, int64_t points)
{
	cJSON *args = cJSON_CreateObject();

	cJSON_AddStringToObject(args, "job", a->pos[0]);
	if (a->nmetrics > 0)
		cJSON_AddItemToObject(args, "metric",
		                      cJSON_CreateStringArray(a->metrics, (int)a->nmetrics));
	if (a->has_since)
		cJSON_AddNumberToObject(args, "since", (double)a->since);
	if (a->has_until)
		cJSON_AddNumberToObject(args, "until", (double)a->until);
	if (points > 0)
		cJSON_AddNumberToObject(args, "points", (double)points);
	return args;
}

int
cli_read_metrics(struct cli *c, struct cli_args *a)
{
	return cli_call(c, "metrics", cli_read_metrics_args(a, a->has_points ? a->points : 0),
	                cli_read_render_metrics, a);
}

/* Columns of the terminal stdout is on, else $COLUMNS, else 80. */
static int
cli_read_term_width(void)
{
	struct winsize ws;
	uint64_t cols;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (util_parse_uint(getenv("COLUMNS"), 10000, &cols) == 0 && cols > 0)
		return (int)cols;
	return 80;
}

/* Colour only for a terminal, and never when NO_COLOR is set (no-color.org)
 * or TERM is dumb. */
static bool
cli_read_use_color(void)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (nc != NULL && *nc != '\0')
		return false;
	if (term != NULL && strcmp(term, "dumb") == 0)
		return false;
	return isatty(STDOUT_FILENO) == 1;
}

static bool
cli_read_use_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);
	return cs != NULL && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
}

static int
cli_read_render_plot(struct cli *c, const struct cli_args *a, const cJSON *r)
{
	struct render_plot_opts o = {.width = a->width, .height = a->height};
	struct cli_series *s;
	size_t ns;
	int rc;

	if (cli_series_load(r, &s, &ns) < 0)
		return cli_fail(CLI_EXIT_UNREACHABLE, "malformed metrics reply from the daemon");
	o.color = cli_read_use_color();
	o.braille = cli_read_use_utf8();
	rc = cli_series_plot(s, ns, a->metrics, a->nmetrics, &o, &c->out.text);
	if (rc == -ENODATA)
		buf_printf(&c->out.text, "no metric points to plot for %s\n", a->pos[0]);
	cli_series_free(s, ns);
	if (rc == -EINVAL)
		return cli_fail(CLI_EXIT_USAGE, "plot: --width or --height too small");
	return CLI_EXIT_OK;
}

int
cli_read_plot(struct cli *c, struct cli_args *a)
{
	if (a->width == 0)
		a->width = cli_read_term_width() < 20 ? 20 : cli_read_term_width();
	if (a->height == 0)
		a->height = 20;
	/* Two points per column: braille cells are two dots wide. */
	return cli_call(c, "metrics", cli_read_metrics_args(a, (int64_t)a->width * 2),
	                cli_read_render_plot, a);
}

/* ---- events and alerts ---- */

static int
cli_read_render_events(struct cli *c, const struct cli_args *a, const cJSON *r)
{
	struct cli_views_opts o = cli_out_views_opts();

	cli_views_events(r, a->pos[0], c->now, &o, &c->out.text);
	return CLI_EXIT_OK;
}

int
cli_read_events(struct cli *c, struct cli_args *a)
{
	cJSON *args = cJSON_CreateObject();

	cJSON_AddStringToObject(args, "job", a->pos[0]);
	if (a->has_limit)
		cJSON_AddNumberToObject(args, "limit", (double)a->limit);
	return cli_call(c, "events", args, cli_read_render_events, a);
}

static int
cli_read_render_alerts(struct cli *c, const struct cli_args *a, const cJSON *r)
{
	struct cli_views_opts o = cli_out_views_opts();

	cli_views_alerts(r, a->all, c->now, &o, &c->out.text);
	return CLI_EXIT_OK;
}

int
cli_read_alerts(struct cli *c, struct cli_args *a)
{
	cJSON *args = cJSON_CreateObject();

	cJSON_AddBoolToObject(args, "all", a->all);
	return cli_call(c, "alerts", args, cli_read_render_alerts, a);
}
