/*
 * cli_read: ping, status, jobs, show, events, alerts, watch.
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
	cli_views_status(r, c->now, &c->out.text);
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
	cli_views_jobs(r, c->now, &c->out.text);
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

static int
cli_read_render_show(struct cli *c, const struct cli_args *a, const cJSON *r)
{
	cli_views_show(r, c->now, &c->out.text);
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
	cli_views_events(r, a->pos[0], &c->out.text);
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
	cli_views_alerts(r, a->all, c->now, &c->out.text);
	return CLI_EXIT_OK;
}

int
cli_read_alerts(struct cli *c, struct cli_args *a)
{
	cJSON *args = cJSON_CreateObject();

	cJSON_AddBoolToObject(args, "all", a->all);
	return cli_call(c, "alerts", args, cli_read_render_alerts, a);
}

/* ---- watch ---- */

/*
 * Handle one line of a watch stream.  A protocol reply (it has "ok") is
 * either the daemon refusing, the acknowledgement of the request, or an
 * event wrapped as a result; any other object is an event.  Returns 0 to go
 * on or an exit status.
 */
static int
cli_read_watch_line(struct cli *c, const char *text, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(text, len);
	const cJSON *ev = root, *payload;
	bool ok;
	int rc = CLI_EXIT_OK;

	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return cli_fail(CLI_EXIT_UNREACHABLE, "malformed line from the daemon");
	}
	if (cli_json_get(root, "ok") != NULL) {
		cJSON_Delete(root);
		if (proto_parse_reply(text, len, &root, &ok, &payload) < 0)
			return cli_fail(CLI_EXIT_UNREACHABLE, "malformed reply from the daemon");
		if (!ok) {
			rc = cli_conn_refused(payload);
			cJSON_Delete(root);
			return rc;
		}
		ev = payload;
		/* The acknowledgement carries no event: nothing to show. */
		if (!cJSON_IsObject(ev) ||
		    (cli_json_get(ev, "event") == NULL && cli_json_get(ev, "type") == NULL)) {
			cJSON_Delete(root);
			return CLI_EXIT_OK;
		}
	}
	if (c->out.json && ev != root) {
		/* An event wrapped as a result: print the result alone. */
		rc = cli_out_json(&c->out, text, len, ev);
		cJSON_Delete(root);
		return rc;
	}
	if (c->out.json) {
		buf_append(&c->out.text, text, len);
		buf_puts(&c->out.text, "\n");
	} else {
		cli_views_watch(ev, util_now(), &c->out.text);
	}
	cJSON_Delete(root);
	return cli_out_flush(&c->out);
}

int
cli_read_watch(struct cli *c, struct cli_args *a)
{
	cJSON *args = cJSON_CreateObject();
	char *line;
	size_t len;
	int rc;

	cli_conn_catch_signals();
	if (a->npos > 0)
		cJSON_AddStringToObject(args, "job", a->pos[0]);
	line = proto_build_request(1, "watch", args);
	rc = cli_conn_open(&c->conn, false);
	if (rc == CLI_EXIT_OK)
		rc = cli_conn_send(&c->conn, line);
	free(line);
	for (bool first = true; rc == CLI_EXIT_OK && !cli_conn_interrupted() && !c->out.stdout_gone;
	     first = false) {
		rc = cli_conn_read_line(&c->conn, &len);
		if (rc == 1 && first && !cli_conn_interrupted())
			return cli_fail(CLI_EXIT_UNREACHABLE,
			                "the daemon closed the connection without replying");
		if (rc == 1)
			return CLI_EXIT_OK;
		if (rc != 0)
			return rc;
		rc = cli_read_watch_line(c, c->conn.in.data, len);
		buf_consume(&c->conn.in, len + 1);
	}
	return rc;
}
