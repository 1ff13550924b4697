/*
 * cli_watch: the watch stream on a terminal or into a pipe (cli_watch.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli_board.h"
#include "cli_json.h"
#include "cli_watch.h"
#include "proto.h"
#include "util.h"

/* Redraws at most this often: a busy stream must not flicker. */
#define CLI_WATCH_REDRAW_MS 250

/* cli_watch_parse's answer for an event (exit statuses are >= 0). */
#define CLI_WATCH_EVENT (-1)

/* One stream line: CLI_WATCH_EVENT for an event (*ev set, owned by
 * *root), 0 for the acknowledgement, else an exit status after saying
 * why. */
static int
cli_watch_parse(const char *text, size_t len, cJSON **root, const cJSON **ev)
{
	const cJSON *payload;
	bool ok;

	*root = cJSON_ParseWithLength(text, len);
	if (!cJSON_IsObject(*root))
		return cli_fail(CLI_EXIT_UNREACHABLE, "malformed line from the daemon");
	*ev = *root;
	if (cli_json_get(*root, "ok") == NULL)
		return CLI_WATCH_EVENT;
	cJSON_Delete(*root);
	if (proto_parse_reply(text, len, root, &ok, &payload) < 0)
		return cli_fail(CLI_EXIT_UNREACHABLE, "malformed reply from the daemon");
	return ok ? 0 : cli_conn_refused(payload);
}

/* The end of a stream: Ctrl-C is success, anything else the daemon. */
static int
cli_watch_eof(int rc)
{
	if (rc == 1 && cli_conn_interrupted())
		return CLI_EXIT_OK;
	if (rc == 1)
		return cli_fail(CLI_EXIT_UNREACHABLE, "the daemon closed the watch stream");
	return rc;
}

static int
cli_watch_start(struct cli *c, struct cli_args *a)
{
	cJSON *args = cJSON_CreateObject();
	char *line;
	int rc;

	if (a->npos > 0)
		cJSON_AddStringToObject(args, "job", a->pos[0]);
	line = proto_build_request(1, "watch", args);
	rc = cli_conn_open(&c->conn, false);
	if (rc == CLI_EXIT_OK)
		rc = cli_conn_send(&c->conn, line);
	free(line);
	return rc;
}

/* Piped or --json: every event line goes out as it came. */
static int
cli_watch_lines(struct cli *c)
{
	size_t len;
	int rc;

	for (;;) {
		cJSON *root = NULL;
		const cJSON *ev;
		if (cli_conn_interrupted())
			return CLI_EXIT_OK; /* caught outside a system call */
		if ((rc = cli_conn_read_line(&c->conn, &len)) != 0)
			return cli_watch_eof(rc);
		rc = cli_watch_parse(c->conn.in.data, len, &root, &ev);
		if (rc == CLI_WATCH_EVENT) {
			buf_append(&c->out.text, c->conn.in.data, len);
			buf_puts(&c->out.text, "\n");
			rc = cli_out_flush(&c->out);
		}
		cJSON_Delete(root);
		buf_consume(&c->conn.in, len + 1);
		if (rc != CLI_EXIT_OK || c->out.stdout_gone)
			return rc;
	}
}

/* What a result of a one-off request is, or NULL (quietly: the board
 * starts empty then and the stream fills it). */
static cJSON *
cli_watch_fetch(struct cli *c, const char *cmd, cJSON *args)
{
	struct cli_conn conn = CLI_CONN_INIT;
	cJSON *root = NULL, *copy = NULL;
	const cJSON *result;

	conn.socket = c->conn.socket;
	if (cli_conn_call(&conn, cmd, args, true, &root, &result) == CLI_EXIT_OK)
		copy = cJSON_Duplicate(result, true);
	cJSON_Delete(root);
	cli_conn_close(&conn);
	return copy;
}

/* Draw the board over the last one: up as many lines as it had, clear. */
static int
cli_watch_draw(struct cli *c, const struct cli_board *b, int *lines)
{
	struct cli_views_opts o = cli_out_views_opts();

	if (*lines > 0)
		buf_printf(&c->out.text, "\r\033[%dA\033[J", *lines);
	*lines = cli_board_render(b, util_now(), &o, &c->out.text);
	return cli_out_flush(&c->out);
}

/* Read and fold lines until the stream ends; draw when due. */
static int
cli_watch_board_loop(struct cli *c, struct cli_board *b)
{
	uint64_t drawn = 0;
	bool dirty = true;
	int lines = 0, rc = CLI_EXIT_OK;
	size_t len;

	while (rc == CLI_EXIT_OK && !c->out.stdout_gone) {
		cJSON *root = NULL;
		const cJSON *ev;
		/* A signal caught while drawing or parsing interrupts no system
		 * call, and a busy stream never blocks: look at the flag. */
		if (cli_conn_interrupted())
			return CLI_EXIT_OK;
		if (dirty) {
			uint64_t now = util_monotonic_ms();
			int w;
			if (now >= drawn + CLI_WATCH_REDRAW_MS) {
				rc = cli_watch_draw(c, b, &lines);
				drawn = now;
				dirty = false;
				continue;
			}
			if ((w = cli_conn_wait(&c->conn,
			                       (int)(drawn + CLI_WATCH_REDRAW_MS - now))) <= 0) {
				if (w < 0)
					return CLI_EXIT_OK;
				continue;
			}
		}
		if ((rc = cli_conn_read_line(&c->conn, &len)) != 0)
			return cli_watch_eof(rc);
		rc = cli_watch_parse(c->conn.in.data, len, &root, &ev);
		if (rc == CLI_WATCH_EVENT)
			dirty |= cli_board_apply(b, ev, util_monotonic_ms());
		rc = rc == CLI_WATCH_EVENT ? CLI_EXIT_OK : rc;
		cJSON_Delete(root);
		buf_consume(&c->conn.in, len + 1);
	}
	return rc;
}

/* The acknowledgement: the board is made for what the daemon says it
 * watches (the job a prefix resolved to). */
static int
cli_watch_ack(struct cli *c, const struct cli_args *a, struct cli_board **b)
{
	cJSON *root = NULL;
	const cJSON *ev;
	size_t len;
	int rc = cli_conn_read_line(&c->conn, &len);

	if (rc == 1)
		return cli_fail(CLI_EXIT_UNREACHABLE,
		                "the daemon closed the connection without replying");
	if (rc != 0)
		return rc;
	rc = cli_watch_parse(c->conn.in.data, len, &root, &ev);
	if (rc == 0) {
		const char *name = cli_json_str(cli_json_get(root, "result"), "watching");
		*b = cli_board_new(a->npos == 0 ? NULL : name ? name : a->pos[0]);
	} else if (rc == CLI_WATCH_EVENT) {
		rc = cli_fail(CLI_EXIT_UNREACHABLE, "the daemon did not acknowledge the watch");
	}
	cJSON_Delete(root);
	buf_consume(&c->conn.in, len + 1);
	return rc;
}

static int
cli_watch_board(struct cli *c, struct cli_args *a)
{
	struct cli_board *b = NULL;
	cJSON *jobs, *alerts, *args = cJSON_CreateObject();
	int rc;

	/* What runs now, before the stream says what changes. */
	cJSON_AddBoolToObject(args, "all", false);
	jobs = cli_watch_fetch(c, "jobs", args);
	alerts = cli_watch_fetch(c, "alerts", NULL);
	if ((rc = cli_watch_start(c, a)) == CLI_EXIT_OK)
		rc = cli_watch_ack(c, a, &b);
	if (rc == CLI_EXIT_OK) {
		cli_board_seed(b, jobs, alerts);
		/* The cursor would blink over the redraws; back at every exit. */
		buf_puts(&c->out.text, "\033[?25l");
		rc = cli_watch_board_loop(c, b);
		buf_puts(&c->out.text, "\033[?25h");
		cli_out_flush(&c->out);
	}
	cJSON_Delete(jobs);
	cJSON_Delete(alerts);
	cli_board_free(b);
	return rc;
}

int
cli_watch_run(struct cli *c, struct cli_args *a)
{
	cli_conn_catch_signals();
	if (!c->out.json && cli_out_is_terminal())
		return cli_watch_board(c, a);
	if (cli_watch_start(c, a) != CLI_EXIT_OK)
		return CLI_EXIT_UNREACHABLE;
	return cli_watch_lines(c);
}
