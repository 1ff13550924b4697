/*
 * cli_cmds: the command table of ftmonctl and the parsing it drives.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli_cmds.h"
#include "cli_mutate.h"
#include "cli_plot.h"
#include "cli_read.h"
#include "cli_report.h"
#include "cli_watch.h"
#include "util.h"
#include "xmalloc.h"

struct cli_cmd {
	const char *name;
	const char *synopsis; /* operands and options after the name */
	const char *summary;  /* one line for the command list */
	const char *help;     /* description and options for COMMAND --help */
	const struct option *opts;
	int min_pos, max_pos; /* operand counts; max -1 = unlimited */
	int (*run)(struct cli *c, struct cli_args *a);
};

/* Long-only option codes (short ones use their letter). */
enum {
	CLI_CMDS_OPT_JSON = 256,
	CLI_CMDS_OPT_ALL,
	CLI_CMDS_OPT_STATUS,
	CLI_CMDS_OPT_SOURCE,
	CLI_CMDS_OPT_SINCE,
	CLI_CMDS_OPT_UNTIL,
	CLI_CMDS_OPT_POINTS,
	CLI_CMDS_OPT_CSV,
	CLI_CMDS_OPT_WIDTH,
	CLI_CMDS_OPT_HEIGHT,
	CLI_CMDS_OPT_LIMIT,
	CLI_CMDS_OPT_LOG,
	CLI_CMDS_OPT_FORCE,
};

#define CLI_CMDS_SYN_METRICS "JOB [-m METRIC]... [--since STEP] [--until STEP] [--points N] [--csv]"

static const struct option cli_cmds_opts_none[] = {{NULL, 0, NULL, 0}};
static const struct option cli_cmds_opts_jobs[] = {
        {"all", no_argument, NULL, CLI_CMDS_OPT_ALL},
        {"status", required_argument, NULL, CLI_CMDS_OPT_STATUS},
        {"source", required_argument, NULL, CLI_CMDS_OPT_SOURCE},
        {NULL, 0, NULL, 0},
};
static const struct option cli_cmds_opts_metrics[] = {
        {"metric", required_argument, NULL, 'm'},
        {"since", required_argument, NULL, CLI_CMDS_OPT_SINCE},
        {"until", required_argument, NULL, CLI_CMDS_OPT_UNTIL},
        {"points", required_argument, NULL, CLI_CMDS_OPT_POINTS},
        {"csv", no_argument, NULL, CLI_CMDS_OPT_CSV},
        {NULL, 0, NULL, 0},
};
static const struct option cli_cmds_opts_plot[] = {
        {"metric", required_argument, NULL, 'm'},
        {"width", required_argument, NULL, CLI_CMDS_OPT_WIDTH},
        {"height", required_argument, NULL, CLI_CMDS_OPT_HEIGHT},
        {"since", required_argument, NULL, CLI_CMDS_OPT_SINCE},
        {"until", required_argument, NULL, CLI_CMDS_OPT_UNTIL},
        {"log", no_argument, NULL, CLI_CMDS_OPT_LOG},
        {NULL, 0, NULL, 0},
};
static const struct option cli_cmds_opts_report[] = {
        {"output", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
};
static const struct option cli_cmds_opts_events[] = {
        {"limit", required_argument, NULL, CLI_CMDS_OPT_LIMIT},
        {NULL, 0, NULL, 0},
};
static const struct option cli_cmds_opts_forget[] = {
        {"force", no_argument, NULL, CLI_CMDS_OPT_FORCE},
        {NULL, 0, NULL, 0},
};
static const struct option cli_cmds_opts_alerts[] = {
        {"all", no_argument, NULL, CLI_CMDS_OPT_ALL},
        {NULL, 0, NULL, 0},
};

static const struct cli_cmd cli_cmds_table[] = {
        {"ping", "", "check that the daemon answers",
         "Ask the daemon for a sign of life; it answers \"pong\".\n", cli_cmds_opts_none, 0, 0,
         cli_read_ping},
        {"status", "", "daemon health: sources, job counts, alerts, database",
         "Show the daemon's version and uptime, the health and last poll of each\n"
         "source, job counts by status, firing alerts and pending hook deliveries.\n",
         cli_cmds_opts_none, 0, 0, cli_read_status},
        {"jobs", "[--all] [--status STATUS] [--source NAME]",
         "list jobs with their progress and latest losses",
         "List jobs: name, status, step, latest training and validation loss, and\n"
         "when the job last changed.\n"
         "\n"
         "Options:\n"
         "  --all            include every job the daemon knows of\n"
         "  --status STATUS  only jobs in this status (running, succeeded, ...)\n"
         "  --source NAME    only jobs of this [source NAME]\n",
         cli_cmds_opts_jobs, 0, 0, cli_read_jobs},
        {"show", "JOB", "one job in full: fields, metrics, checkpoints, alerts",
         "Show one job in full: its fields, latest metric values, checkpoints and\n"
         "alerts.\n",
         cli_cmds_opts_none, 1, 1, cli_read_show},
        {"metrics", CLI_CMDS_SYN_METRICS, "a job's metric points as a table or CSV",
         "Print the stored metric points of JOB, one row per step and one column\n"
         "per metric; a blank cell means that metric has no point at that step,\n"
         "\"nan\" a NaN value.  A metric the job does not have is an error that\n"
         "lists the ones it has.\n"
         "\n"
         "Options:\n"
         "  -m, --metric METRIC  only this metric (repeat for several; default: all)\n"
         "      --since STEP     only steps >= STEP\n"
         "      --until STEP     only steps <= STEP (not below --since)\n"
         "      --points N       at most N points per metric (N >= 4), downsampled\n"
         "                       by the daemon keeping each metric's first and last\n"
         "                       point, its lowest and highest, and its NaNs\n"
         "      --csv            print CSV for spreadsheets and pandas: a header\n"
         "                       \"step,metric,value\", then one row per point,\n"
         "                       values at full precision\n"
         "\n"
         "Example:\n"
         "  ftmonctl metrics ftjob-abc -m valid_loss --since 100 --points 50 --csv\n",
         cli_cmds_opts_metrics, 1, 1, cli_plot_metrics},
        {"plot", "JOB [-m METRIC]... [--width COLS] [--height ROWS] [--log]",
         "a job's loss curves drawn in the terminal",
         "Draw metric curves of JOB in the terminal, step on the x axis, with\n"
         "round-number ticks on both axes.  Braille dots in a UTF-8 locale, ASCII\n"
         "marks ('*', '+', 'o', ...) otherwise.  On a terminal (unless NO_COLOR is\n"
         "set) all curves share one chart, each in its colour; without colour each\n"
         "curve gets its own panel over a shared x axis, so none hides another.\n"
         "The legend gives each curve's points and, when the daemon downsampled\n"
         "it to the width, how many are drawn (\"240 points, 160 drawn\"); NaN\n"
         "values are left out of the curve and counted.  With --json, the series\n"
         "exactly as drawn.\n"
         "\n"
         "Options:\n"
         "  -m, --metric METRIC  plot this metric (repeat for several; default:\n"
         "                       every metric whose name contains \"loss\")\n"
         "      --width COLS     total width in columns, y labels included\n"
         "                       (default: the terminal's width, else 80; min 20)\n"
         "      --height ROWS    rows of plot area, shared by the panels\n"
         "                       (default: 20; min 2)\n"
         "      --since STEP     only steps >= STEP\n"
         "      --until STEP     only steps <= STEP\n"
         "      --log            log10 y axis; values <= 0 are left out and counted\n"
         "\n"
         "Example:\n"
         "  ftmonctl plot ftjob-abc -m train_loss -m valid_loss --height 12\n",
         cli_cmds_opts_plot, 1, 1, cli_plot_plot},
        {"report", "JOB... -o FILE.html", "an HTML report of jobs with their curves",
         "Write one self-contained HTML file (inline SVG and CSS; no scripts, no\n"
         "fonts or images from the network) with, for each JOB, its summary, its\n"
         "loss curves and its accuracy curves (training and validation overlaid),\n"
         "its alerts marked on the curves, and its best checkpoint.  Open it in\n"
         "any browser, or mail it.\n"
         "\n"
         "Options:\n"
         "  -o, --output FILE  where to write (required; replaced atomically)\n"
         "\n"
         "Example:\n"
         "  ftmonctl report ftjob-abc openai/ftjob-def -o runs.html\n",
         cli_cmds_opts_report, 1, 100, cli_report_run},
        {"events", "JOB [--limit N]", "a job's newest stored events",
         "List the newest stored events of JOB, newest first.\n"
         "\n"
         "Options:\n"
         "  --limit N  at most N events (default: the daemon's)\n",
         cli_cmds_opts_events, 1, 1, cli_read_events},
        {"alerts", "[--all]", "firing alerts (or all of them)",
         "List firing alerts.  Alert ids are what `ftmonctl ack` takes.\n"
         "\n"
         "Options:\n"
         "  --all  include resolved alerts\n",
         cli_cmds_opts_alerts, 0, 0, cli_read_alerts},
        {"ack", "ALERT_ID", "silence further notifications of an alert",
         "Acknowledge an alert: it stays listed, but no further notifications are\n"
         "sent for it.  Needs root or the daemon's admin group.\n",
         cli_cmds_opts_none, 1, 1, cli_mutate_ack},
        {"track", "SOURCE EXTERNAL_ID | SOURCE/EXTERNAL_ID", "start watching a job of a source",
         "Start watching job EXTERNAL_ID of [source SOURCE], for sources that do\n"
         "not discover jobs themselves.  The daemon first asks the source's API\n"
         "for the job and refuses one it does not know, storing nothing.  Needs\n"
         "root or the admin group.\n",
         cli_cmds_opts_none, 1, 2, cli_mutate_track},
        {"untrack", "JOB", "stop watching a job",
         "Stop polling JOB.  Its stored points stay in the database.  Needs root\n"
         "or the admin group.\n",
         cli_cmds_opts_none, 1, 1, cli_mutate_untrack},
        {"forget", "JOB [--force]", "remove a job and everything stored about it",
         "Delete JOB from the database: its points, events, checkpoints, alerts\n"
         "and deliveries, in one transaction.  A job that is still running and\n"
         "tracked is refused: untrack it first, or give --force, which untracks\n"
         "it and then forgets it.  A source that discovers jobs (openai with\n"
         "discovery) finds a job its API still lists again, as a new job.\n"
         "Needs root or the admin group.\n"
         "\n"
         "Options:\n"
         "  --force  forget a running tracked job too\n",
         cli_cmds_opts_forget, 1, 1, cli_mutate_forget},
        {"poll", "[JOB]", "poll one job, or all, now",
         "Poll JOB now, or every source when no job is given, instead of waiting\n"
         "for the next poll interval.  Needs root or the admin group.\n",
         cli_cmds_opts_none, 0, 1, cli_mutate_poll},
        {"reload", "", "reload the configuration (like SIGHUP)",
         "Reload the configuration file.  A broken file is refused and the old\n"
         "configuration kept; the error says why.  Needs root or the admin group.\n",
         cli_cmds_opts_none, 0, 0, cli_mutate_reload},
        {"log", "JOB [step=N] [NAME=VALUE]... [status=STATUS]",
         "record metric points or the status of a push job",
         "Record points for JOB of a `push` source; the job is created on first\n"
         "use.  JOB is SOURCE/NAME, or NAME for the only push source.  Each\n"
         "NAME=VALUE is one metric at step N (without step=, the step after the\n"
         "job's last); values are decimal numbers, or nan, inf and -inf.  A point\n"
         "already stored at that step is kept.  status=succeeded (or failed,\n"
         "cancelled) ends the job.  Needs root or the admin group.\n"
         "\n"
         "Example:\n"
         "  ftmonctl log push/run1 step=10 train_loss=1.93 valid_loss=2.01\n",
         cli_cmds_opts_none, 1, -1, cli_mutate_log},
        {"watch", "[JOB]", "print events and new points as they happen",
         "Print one line per new event or metric point, of JOB or of every job,\n"
         "until the daemon closes the connection or Ctrl-C.  With --json each\n"
         "line is one JSON object.\n",
         cli_cmds_opts_none, 0, 1, cli_watch_run},
};

void
cli_cmds_usage(FILE *f)
{
	fprintf(f,
	        "Usage: ftmonctl [-s SOCKET] [--json] COMMAND [ARGS]...\n"
	        "\n"
	        "Ask the ftmond training monitor about jobs, metrics and alerts, and\n"
	        "tell it what to do.\n"
	        "\n"
	        "Options:\n"
	        "  -s, --socket SOCKET  the daemon's control socket (default: $FTMON_SOCKET,\n"
	        "                       else %s)\n"
	        "      --json           print the daemon's answer as JSON, for scripts\n"
	        "  -h, --help           show this help and exit\n"
	        "      --version        show the version and exit\n"
	        "\n"
	        "Commands:\n",
	        CLI_CONN_DEFAULT_SOCKET);
	for (size_t i = 0; i < ARRAY_SIZE(cli_cmds_table); i++)
		fprintf(f, "  %-9s %s\n", cli_cmds_table[i].name, cli_cmds_table[i].summary);
	fprintf(f, "\n"
	           "JOB is SOURCE/EXTERNAL_ID, or a unique external id or prefix of one.\n"
	           "A command may be shortened to a unique prefix.  Run\n"
	           "'ftmonctl COMMAND --help' for its arguments and options.\n"
	           "\n"
	           "Exit status: 0 success, 1 the daemon refused the request, 2 usage\n"
	           "error, 3 the daemon could not be reached or sent no valid reply.\n");
}

static void
cli_cmds_cmd_usage(const struct cli_cmd *cmd)
{
	printf("Usage: ftmonctl [-s SOCKET] [--json] %s%s%s\n\n%s", cmd->name,
	       *cmd->synopsis ? " " : "", cmd->synopsis, cmd->help);
}

/* Exact name, else a unique prefix; NULL after printing why not. */
static const struct cli_cmd *
cli_cmds_find(const char *name)
{
	const struct cli_cmd *found = NULL;
	struct buf matches = BUF_INIT;
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(cli_cmds_table); i++)
		if (strcmp(cli_cmds_table[i].name, name) == 0)
			return &cli_cmds_table[i];
	for (size_t i = 0; *name != '\0' && i < ARRAY_SIZE(cli_cmds_table); i++) {
		if (!util_startswith(cli_cmds_table[i].name, name))
			continue;
		found = &cli_cmds_table[i];
		buf_printf(&matches, "%s%s", n++ ? ", " : "", cli_cmds_table[i].name);
	}
	if (n == 0)
		cli_fail(CLI_EXIT_USAGE, "unknown command '%s' (see 'ftmonctl --help')", name);
	else if (n > 1)
		cli_fail(CLI_EXIT_USAGE, "ambiguous command '%s': %s", name, matches.data);
	buf_free(&matches);
	return n == 1 ? found : NULL;
}

/* An integer option value within [min, max]; false after a usage error. */
static bool
cli_cmds_opt_int(const struct cli_cmd *cmd, const char *opt, const char *val, int64_t min,
                 int64_t max, int64_t *out)
{
	if (util_parse_int64(val, out) == 0 && *out >= min && *out <= max)
		return true;
	if (min == INT64_MIN)
		cli_fail(CLI_EXIT_USAGE, "%s: %s needs an integer, got '%s'", cmd->name, opt, val);
	else
		cli_fail(CLI_EXIT_USAGE, "%s: %s needs an integer from %lld to %lld, got '%s'",
		         cmd->name, opt, (long long)min, (long long)max, val);
	return false;
}

/* A string option (--status, --source, -m); false after a usage error. */
static bool
cli_cmds_opt_string(const struct cli_cmd *cmd, int opt, const char *val, struct cli_args *a)
{
	if (*val == '\0') {
		cli_fail(CLI_EXIT_USAGE, "%s: empty option value", cmd->name);
		return false;
	}
	if (opt == CLI_CMDS_OPT_STATUS) {
		a->status = val;
	} else if (opt == CLI_CMDS_OPT_SOURCE) {
		a->source = val;
	} else {
		a->metrics = xreallocarray(a->metrics, a->nmetrics + 1, sizeof(*a->metrics));
		a->metrics[a->nmetrics++] = val;
	}
	return true;
}

/* Apply one command option to a; returns false after a usage error. */
static bool
cli_cmds_opt_apply(struct cli *c, const struct cli_cmd *cmd, int opt, const char *val,
                   struct cli_args *a)
{
	int64_t v;

	switch (opt) {
	case CLI_CMDS_OPT_JSON:
		c->out.json = true;
		return true;
	case CLI_CMDS_OPT_ALL:
		a->all = true;
		return true;
	case CLI_CMDS_OPT_CSV:
		a->csv = true;
		return true;
	case CLI_CMDS_OPT_LOG:
		a->log = true;
		return true;
	case 'o':
		a->output = val;
		return true;
	case CLI_CMDS_OPT_FORCE:
		a->force = true;
		return true;
	case CLI_CMDS_OPT_STATUS:
	case CLI_CMDS_OPT_SOURCE:
	case 'm':
		return cli_cmds_opt_string(cmd, opt, val, a);
	case CLI_CMDS_OPT_SINCE:
		a->has_since = true;
		return cli_cmds_opt_int(cmd, "--since", val, INT64_MIN, INT64_MAX, &a->since);
	case CLI_CMDS_OPT_UNTIL:
		a->has_until = true;
		return cli_cmds_opt_int(cmd, "--until", val, INT64_MIN, INT64_MAX, &a->until);
	case CLI_CMDS_OPT_POINTS:
		a->has_points = true;
		return cli_cmds_opt_int(cmd, "--points", val, 4, 1000000, &a->points);
	case CLI_CMDS_OPT_LIMIT:
		a->has_limit = true;
		return cli_cmds_opt_int(cmd, "--limit", val, 1, 100000, &a->limit);
	case CLI_CMDS_OPT_WIDTH:
		if (!cli_cmds_opt_int(cmd, "--width", val, 20, 10000, &v))
			return false;
		a->width = (int)v;
		return true;
	case CLI_CMDS_OPT_HEIGHT:
		if (!cli_cmds_opt_int(cmd, "--height", val, 2, 1000, &v))
			return false;
		a->height = (int)v;
		return true;
	}
	return false;
}

int
cli_cmds_opt_error(const char *cmd, int opt, char **argv)
{
	const char *arg = argv[optind - 1];
	char *where = cmd ? xasprintf("%s: ", cmd) : xstrdup("");
	char *see = xasprintf("see 'ftmonctl %s%s--help'", cmd ? cmd : "", cmd ? " " : "");

	if (opt == ':')
		cli_fail(CLI_EXIT_USAGE, "%soption '%s' needs an argument (%s)", where, arg, see);
	else if (optopt > 0 && optopt < 256)
		cli_fail(CLI_EXIT_USAGE, "%sunknown option '-%c' (%s)", where, optopt, see);
	else if (optopt >= 256) /* "--all=x": a flag given a value */
		cli_fail(CLI_EXIT_USAGE, "%soption '%.*s' takes no argument (%s)", where,
		         (int)strcspn(arg, "="), arg, see);
	else
		cli_fail(CLI_EXIT_USAGE, "%sunknown option '%s' (%s)", where, arg, see);
	free(where);
	free(see);
	return CLI_EXIT_USAGE;
}

/* The operand counts of cmd; -1 if they fit, else a usage error. */
static int
cli_cmds_check_operands(const struct cli_cmd *cmd, const struct cli_args *a)
{
	if (a->npos < cmd->min_pos)
		return cli_fail(CLI_EXIT_USAGE, "%s: missing argument (usage: ftmonctl %s %s)",
		                cmd->name, cmd->name, cmd->synopsis);
	if (cmd->max_pos >= 0 && a->npos > cmd->max_pos)
		return cli_fail(CLI_EXIT_USAGE,
		                "%s: unexpected argument '%s' (usage: ftmonctl %s%s%s)", cmd->name,
		                a->pos[cmd->max_pos], cmd->name, *cmd->synopsis ? " " : "",
		                cmd->synopsis);
	return -1;
}

/*
 * Parse a command's own options and operands (argv[0] is the command).
 * Returns -1 to run the command, else the exit status (0 after --help).
 */
static int
cli_cmds_parse(struct cli *c, const struct cli_cmd *cmd, int argc, char **argv, struct cli_args *a)
{
	struct option opts[16];
	char shortopts[16] = ":h";
	size_t n = 0;
	int opt;

	for (const struct option *o = cmd->opts; o->name != NULL; o++) {
		opts[n++] = *o;
		if (o->val == 'm')
			strcat(shortopts, "m:");
		else if (o->val == 'o')
			strcat(shortopts, "o:");
	}
	opts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	opts[n++] = (struct option){"json", no_argument, NULL, CLI_CMDS_OPT_JSON};
	opts[n] = (struct option){NULL, 0, NULL, 0};

	optind = 0; /* glibc: start over, argv[0] being the command */
	while ((opt = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		if (opt == 'h') {
			cli_cmds_cmd_usage(cmd);
			return CLI_EXIT_OK;
		}
		if (opt == '?' || opt == ':')
			return cli_cmds_opt_error(cmd->name, opt, argv);
		if (!cli_cmds_opt_apply(c, cmd, opt, optarg, a))
			return CLI_EXIT_USAGE;
	}
	a->pos = argv + optind;
	a->npos = argc - optind;
	return cli_cmds_check_operands(cmd, a);
}

int
cli_cmds_run(struct cli *c, int argc, char **argv)
{
	const struct cli_cmd *cmd = cli_cmds_find(argv[0]);
	struct cli_args a = {0};
	int rc;

	if (cmd == NULL)
		return CLI_EXIT_USAGE;
	rc = cli_cmds_parse(c, cmd, argc, argv, &a);
	if (rc < 0)
		rc = cmd->run(c, &a);
	free(a.metrics);
	return rc;
}
