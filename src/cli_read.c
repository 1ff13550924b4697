/*
 * cli_read: ping, status, jobs, show, events, alerts.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_json.h"
#include "cli_read.h"
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
