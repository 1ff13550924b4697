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
#include "render.h"
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
	size_t points = 0;

	for (int i = 1; i < a->npos; i++) {
		if (util_startswith(a->pos[i], "status="))
			status = a->pos[i] + 7;
		else if (!util_startswith(a->pos[i], "step="))
			points++;
	}
	if (points > 0)
		return cli_mutate_say(c, xasprintf("logged %zu point%s to %s%s%s%s", points,
		                                   points == 1 ? "" : "s", job,
		                                   status ? " (status " : "", status ? status : "",
		                                   status ? ")" : ""));
	return cli_mutate_say(c, xasprintf("set status of %s to %s", job, status ? status : "?"));
}

/*
 * Add one `log` operand (step=N, status=STATUS or NAME=VALUE) to args or
 * metrics.  Values are strict doubles ("nan" and "inf" included); a NaN
 * goes out as null and an infinity as the string "inf"/"-inf", since JSON
 * has no number for either.  Returns false after printing a usage error.
 */
static bool
cli_mutate_log_arg(const char *arg, cJSON *args, cJSON *metrics)
{
	const char *eq = strchr(arg, '='), *val = eq ? eq + 1 : NULL;
	char *name = eq ? xstrndup(arg, (size_t)(eq - arg)) : NULL;
	bool good = false;
	int64_t step;
	double v;
	int rc;

	if (name == NULL || *name == '\0')
		cli_fail(CLI_EXIT_USAGE, "log: expected NAME=VALUE, got '%s'", arg);
	else if (cJSON_GetObjectItemCaseSensitive(
	                 strcmp(name, "step") == 0 || strcmp(name, "status") == 0 ? args : metrics,
	                 name) != NULL)
		cli_fail(CLI_EXIT_USAGE, "log: %s given twice", name);
	else if (strcmp(name, "step") == 0 && (util_parse_int64(val, &step) < 0 || step < 0))
		cli_fail(CLI_EXIT_USAGE, "log: step must be a non-negative integer, got '%s'", val);
	else if (strcmp(name, "status") == 0 && *val == '\0')
		cli_fail(CLI_EXIT_USAGE, "log: status needs a value, e.g. status=succeeded");
	else if (strcmp(name, "step") == 0)
		good = cJSON_AddNumberToObject(args, "step", (double)step) != NULL;
	else if (strcmp(name, "status") == 0)
		good = cJSON_AddStringToObject(args, "status", val) != NULL;
	else if ((rc = util_parse_double(val, &v)) < 0)
		cli_fail(CLI_EXIT_USAGE,
		         rc == -ERANGE ? "log: value of %s is out of range: '%s'"
		                       : "log: value of %s is not a number: '%s'",
		         name, val);
	else if (isnan(v))
		good = cJSON_AddNullToObject(metrics, name) != NULL;
	else if (isinf(v))
		good = cJSON_AddStringToObject(metrics, name, v < 0 ? "-inf" : "inf") != NULL;
	else
		good = cJSON_AddNumberToObject(metrics, name, v) != NULL;
	free(name);
	return good;
}

/* Build the args of `log JOB [step=N] [NAME=VALUE]... [status=STATUS]`;
 * NULL after printing a usage error. */
static cJSON *
cli_mutate_log_args(const struct cli_args *a)
{
	cJSON *args = cJSON_CreateObject(), *metrics = cJSON_CreateObject();

	cJSON_AddStringToObject(args, "job", a->pos[0]);
	for (int i = 1; i < a->npos; i++) {
		if (!cli_mutate_log_arg(a->pos[i], args, metrics))
			goto bad;
	}
	if (cJSON_GetArraySize(metrics) == 0 && cli_json_get(args, "status") == NULL) {
		cli_fail(CLI_EXIT_USAGE, "log: nothing to log: give NAME=VALUE or status=STATUS");
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
