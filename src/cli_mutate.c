/*
 * cli_mutate: ack, track, untrack, forget, poll, reload and log.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli_json.h"
#include "cli_mutate.h"
#include "jobname.h"
#include "logreq.h"
#include "render.h"
#include "utf8.h"
#include "util.h"
#include "xmalloc.h"

/* The job name the daemon resolved, when the result carries one. */
static const char *
cli_mutate_result_job(const cJSON *r, const char *fallback)
{
	if (cJSON_IsString(r))
		return r->valuestring;
	if (cli_json_str(r, "name") != NULL)
		return cli_json_str(r, "name");
	if (cli_json_str(r, "job") != NULL)
		return cli_json_str(r, "job");
	return fallback;
}

/* Append line (owned, freed here) sanitized, as the confirmation. */
static int
cli_mutate_say(struct cli *c, char *line)
{
	render_sanitize(line);
	buf_printf(&c->out.text, "%s\n", line);
	free(line);
	return CLI_EXIT_OK;
}

static int
cli_mutate_confirm_ack(struct cli *c, const struct cli_args *a, const cJSON *r)
{
	buf_printf(&c->out.text, "acknowledged alert %s\n", a->pos[0]);
	return CLI_EXIT_OK;
}

int
cli_mutate_ack(struct cli *c, struct cli_args *a)
{
	uint64_t id;
	cJSON *args;

	/* Alert ids are JSON numbers: keep them within 2^53. */
	if (util_parse_uint(a->pos[0], (1ULL << 53), &id) < 0 || id == 0)
		return cli_fail(CLI_EXIT_USAGE,
		                "ack: invalid alert id '%s' (see 'ftmonctl alerts')", a->pos[0]);
	args = cJSON_CreateObject();
	cJSON_AddNumberToObject(args, "alert", (double)id);
	return cli_call(c, "ack", args, cli_mutate_confirm_ack, a);
}

static int
cli_mutate_confirm_track(struct cli *c, const struct cli_args *a, const cJSON *r)
{
	char *name = xasprintf("%s/%s", a->pos[0], a->pos[1]);

	cli_mutate_say(c, xasprintf("tracking %s", cli_mutate_result_job(r, name)));
	free(name);
	return CLI_EXIT_OK;
}

int
cli_mutate_track(struct cli *c, struct cli_args *a)
{
	cJSON *args = cJSON_CreateObject();

	/* `track SOURCE/EXTERNAL_ID`, the name form used everywhere else, or
	 * `track SOURCE EXTERNAL_ID`; the daemon splits the first. */
	if (a->npos == 1) {
		cJSON_AddStringToObject(args, "job", a->pos[0]);
	} else {
		cJSON_AddStringToObject(args, "source", a->pos[0]);
		cJSON_AddStringToObject(args, "job", a->pos[1]);
	}
	return cli_call(c, "track", args, cli_mutate_confirm_track, a);
}

static int
cli_mutate_confirm_untrack(struct cli *c, const struct cli_args *a, const cJSON *r)
{
	return cli_mutate_say(
	        c, xasprintf("no longer tracking %s", cli_mutate_result_job(r, a->pos[0])));
}

int
cli_mutate_untrack(struct cli *c, struct cli_args *a)
{
	cJSON *args = cJSON_CreateObject();

	cJSON_AddStringToObject(args, "job", a->pos[0]);
	return cli_call(c, "untrack", args, cli_mutate_confirm_untrack, a);
}

static int
cli_mutate_confirm_forget(struct cli *c, const struct cli_args *a, const cJSON *r)
{
	return cli_mutate_say(
	        c, xasprintf("forgot %s and all its rows", cli_mutate_result_job(r, a->pos[0])));
}

int
cli_mutate_forget(struct cli *c, struct cli_args *a)
{
	cJSON *args = cJSON_CreateObject();

	cJSON_AddStringToObject(args, "job", a->pos[0]);
	if (a->force)
		cJSON_AddBoolToObject(args, "force", true);
	return cli_call(c, "forget", args, cli_mutate_confirm_forget, a);
}

static int
cli_mutate_confirm_poll(struct cli *c, const struct cli_args *a, const cJSON *r)
{
	double n;

	if (a->npos > 0)
		return cli_mutate_say(c,
		                      xasprintf("polling %s", cli_mutate_result_job(r, a->pos[0])));
	if (cli_json_num(r, "sources", &n))
		return cli_mutate_say(
		        c, xasprintf("polling all jobs of %.0f source%s", n, n == 1 ? "" : "s"));
	return cli_mutate_say(c, xasprintf("polling all jobs"));
}

int
cli_mutate_poll(struct cli *c, struct cli_args *a)
{
	cJSON *args = cJSON_CreateObject();

	if (a->npos > 0)
		cJSON_AddStringToObject(args, "job", a->pos[0]);
	return cli_call(c, "poll", args, cli_mutate_confirm_poll, a);
}

static int
cli_mutate_confirm_reload(struct cli *c, const struct cli_args *a, const cJSON *r)
{
	buf_puts(&c->out.text, "reloaded\n");
	return CLI_EXIT_OK;
}

int
cli_mutate_reload(struct cli *c, struct cli_args *a)
{
	return cli_call(c, "reload", NULL, cli_mutate_confirm_reload, a);
}

/* ---- log ---- */

static int
cli_mutate_confirm_log(struct cli *c, const struct cli_args *a, const cJSON *r)
{
	const char *job = cli_mutate_result_job(r, a->pos[0]);
	const char *status = NULL;
	const cJSON *points = cli_json_get(r, "points"), *fresh = cli_json_get(r, "new_points");
	double n = cJSON_IsNumber(points) ? points->valuedouble : 0;

	for (int i = 1; i < a->npos; i++)
		if (util_startswith(a->pos[i], "status="))
			status = a->pos[i] + 7;
	if (n > 0)
		return cli_mutate_say(c, xasprintf("logged %.0f point%s to %s (%.0f new)%s%s%s", n,
		                                   n == 1 ? "" : "s", job,
		                                   cJSON_IsNumber(fresh) ? fresh->valuedouble : n,
		                                   status ? ", status " : "", status ? status : "",
		                                   ""));
	return cli_mutate_say(c, xasprintf("set status of %s to %s", job, status ? status : "?"));
}

/* A usage error about arg, shown escaped and cut short (a 10 KB name or
 * a control character must not reach the terminal as it is). */
static bool
cli_mutate_log_usage(const char *arg, const char *reason)
{
	char *shown = utf8_show(arg, 60);

	cli_fail(CLI_EXIT_USAGE, "log: '%s': %s", shown, reason);
	free(shown);
	return false;
}

/*
 * Add one `log` operand (step=N, status=STATUS or NAME=VALUE) to args or
 * metrics, checked as the daemon will (logreq.h).  JSON has no number for
 * NaN or an infinity: those go out as the strings "nan", "inf", "-inf".
 * Returns false after printing a usage error.
 */
static bool
cli_mutate_log_arg(const char *arg, cJSON *args, cJSON *metrics)
{
	const char *eq = strchr(arg, '='), *val = eq ? eq + 1 : NULL, *why;
	char *name = eq ? xstrndup(arg, (size_t)(eq - arg)) : NULL;
	bool is_step = name && strcmp(name, "step") == 0;
	bool is_status = name && strcmp(name, "status") == 0;
	int64_t step;
	double v;

	if (name == NULL || *name == '\0')
		why = "expected NAME=VALUE, step=N or status=STATUS";
	else if (cJSON_GetObjectItemCaseSensitive(is_step || is_status ? args : metrics, name))
		why = "given twice";
	else if (is_step)
		why = logreq_step_text(val, &step);
	else if (is_status)
		why = logreq_status_check(val);
	else if ((why = logreq_metric_check(name)) == NULL)
		why = logreq_value_text(val, &v);
	if (why == NULL && is_step)
		cJSON_AddNumberToObject(args, "step", (double)step);
	else if (why == NULL && is_status)
		cJSON_AddStringToObject(args, "status", val);
	else if (why == NULL && isfinite(v))
		cJSON_AddNumberToObject(metrics, name, v);
	else if (why == NULL)
		cJSON_AddStringToObject(metrics, name, isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
	free(name);
	return why == NULL || cli_mutate_log_usage(arg, why);
}

/* Build the args of `log JOB [step=N] [NAME=VALUE]... [status=STATUS]`;
 * NULL after printing a usage error. */
static cJSON *
cli_mutate_log_args(const struct cli_args *a)
{
	cJSON *args = cJSON_CreateObject(), *metrics = cJSON_CreateObject();
	const char *why = jobname_check(a->pos[0]);

	if (why) {
		cli_mutate_log_usage(a->pos[0], why);
		goto bad;
	}
	cJSON_AddStringToObject(args, "job", a->pos[0]);
	for (int i = 1; i < a->npos; i++) {
		if (!cli_mutate_log_arg(a->pos[i], args, metrics))
			goto bad;
	}
	if (cJSON_GetArraySize(metrics) == 0 && cli_json_get(args, "status") == NULL) {
		cli_fail(CLI_EXIT_USAGE, "log: nothing to log: give NAME=VALUE or status=STATUS");
		goto bad;
	}
	if (cJSON_GetArraySize(metrics) == 0 && cli_json_get(args, "step") != NULL) {
		cli_fail(CLI_EXIT_USAGE, "log: step=N needs at least one NAME=VALUE");
		goto bad;
	}
	if (cJSON_GetArraySize(metrics) > 0)
		cJSON_AddItemToObject(args, "metrics", metrics);
	else
		cJSON_Delete(metrics);
	return args;
bad:
	cJSON_Delete(metrics);
	cJSON_Delete(args);
	return NULL;
}

int
cli_mutate_log(struct cli *c, struct cli_args *a)
{
	cJSON *args = cli_mutate_log_args(a);

	if (args == NULL)
		return CLI_EXIT_USAGE;
	return cli_call(c, "log", args, cli_mutate_confirm_log, a);
}
