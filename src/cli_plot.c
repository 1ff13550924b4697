/*
 * cli_plot: metrics and plot (see cli_plot.h).
 */
#include "config.h"

#include <errno.h>
#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli_plot.h"
#include "cli_series.h"
#include "util.h"
#include "xmalloc.h"

/* --since after --until selects nothing: a usage error, not "no points". */
static int
cli_plot_check_range(const char *cmd, const struct cli_args *a)
{
	if (a->has_since && a->has_until && a->since > a->until)
		return cli_fail(CLI_EXIT_USAGE,
		                "%s: --since %lld is after --until %lld: the range is empty", cmd,
		                (long long)a->since, (long long)a->until);
	return -1;
}

/* The args shared by `metrics` and `plot`. */
static cJSON *
cli_plot_args(const struct cli_args *a, int64_t points)
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

static int
cli_plot_render_metrics(struct cli *c, const struct cli_args *a, const cJSON *r)
{
	struct cli_series *s;
	size_t ns;

	if (cli_series_load(r, NULL, &s, &ns) < 0)
		return cli_fail(CLI_EXIT_UNREACHABLE, "malformed metrics reply from the daemon");
	if (a->csv)
		cli_series_csv(s, ns, &c->out.text);
	else if (cli_series_points(s, ns) == 0)
		buf_printf(&c->out.text, "no metric points for %s\n", a->pos[0]);
	else
		cli_series_table(s, ns, &c->out.text);
	cli_series_free(s, ns);
	return CLI_EXIT_OK;
}

int
cli_plot_metrics(struct cli *c, struct cli_args *a)
{
	int rc = cli_plot_check_range("metrics", a);

	if (rc >= 0)
		return rc;
	return cli_call(c, "metrics", cli_plot_args(a, a->has_points ? a->points : 0),
	                cli_plot_render_metrics, a);
}

/* Columns of the terminal stdout is on, else $COLUMNS, else 80. */
static int
cli_plot_term_width(void)
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
cli_plot_use_color(void)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (nc != NULL && *nc != '\0')
		return false;
	if (term != NULL && strcmp(term, "dumb") == 0)
		return false;
	return isatty(STDOUT_FILENO) == 1;
}

/* Braille needs a UTF-8 locale (main() ran setlocale(LC_CTYPE, "")). */
static bool
cli_plot_use_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);
	return cs != NULL && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
}

/* Draw (or with --json describe) the picked series of a loaded reply. */
static int
cli_plot_draw(struct cli *c, const struct cli_args *a, const struct cli_series *s, size_t ns)
{
	struct plot_opts o = {.width = a->width, .height = a->height, .log = a->log};
	size_t *idx = xcalloc(ns + 1, sizeof(*idx));
	size_t nidx = cli_series_pick(s, ns, (const char *const *)a->metrics, a->nmetrics, idx);
	int rc = CLI_EXIT_OK;

	if (c->out.json) {
		cJSON *j = cli_series_plot_json(s, idx, nidx, a->log);
		rc = cli_out_json(&c->out, NULL, 0, j);
		cJSON_Delete(j);
		free(idx);
		return rc;
	}
	o.color = cli_plot_use_color();
	o.braille = cli_plot_use_utf8();
	switch (cli_series_plot(s, idx, nidx, &o, &c->out.text)) {
	case -ENODATA:
		if (a->log)
			rc = cli_fail(CLI_EXIT_REFUSED,
			              "plot --log: no positive value to draw for %s", a->pos[0]);
		else
			buf_printf(&c->out.text, "no metric points to plot for %s\n", a->pos[0]);
		break;
	case -EINVAL:
		rc = cli_fail(CLI_EXIT_USAGE, "plot: --width or --height too small");
		break;
	}
	free(idx);
	return rc == CLI_EXIT_OK ? cli_out_flush(&c->out) : rc;
}

int
cli_plot_plot(struct cli *c, struct cli_args *a)
{
	const cJSON *result;
	struct cli_series *s;
	cJSON *root, *args;
	size_t ns;
	int rc = cli_plot_check_range("plot", a);

	if (rc >= 0)
		return rc;
	if (a->width == 0) {
		int w = cli_plot_term_width();
		a->width = w < PLOT_MIN_WIDTH   ? PLOT_MIN_WIDTH
		           : w > PLOT_MAX_WIDTH ? PLOT_MAX_WIDTH
		                                : w;
	}
	if (a->height == 0)
		a->height = 20;
	/* Two points per column: braille cells are two dots wide.  totals
	 * tells the legend how many points the daemon had. */
	args = cli_plot_args(a, (int64_t)a->width * 2);
	cJSON_AddBoolToObject(args, "totals", true);
	if ((rc = cli_conn_call(&c->conn, "metrics", args, true, &root, &result)) != CLI_EXIT_OK)
		return rc;
	if (cli_series_load(cJSON_GetObjectItemCaseSensitive(result, "metrics"),
	                    cJSON_GetObjectItemCaseSensitive(result, "totals"), &s, &ns) < 0) {
		cJSON_Delete(root);
		return cli_fail(CLI_EXIT_UNREACHABLE, "malformed metrics reply from the daemon");
	}
	rc = cli_plot_draw(c, a, s, ns);
	cli_series_free(s, ns);
	cJSON_Delete(root);
	return rc;
}
