/*
 * test_payload: every hook format against golden output
 * (tests/unit/golden/payload.txt: a name line, then the body line), with
 * hostile text in the job name, metric names and the alert message
 * (quotes, a newline, backticks, $(...), a control character, invalid
 * UTF-8, Slack's <!channel>); 100 KB strings cut to size; the exec
 * environment holds the FTMON_* fields and PATH/LANG/HOME only, one line
 * each.  UPDATE_GOLDEN=1 rewrites the golden file (then review the diff).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "payload.h"
#include "tap.h"
#include "utf8.h"

#ifndef GOLDEN_DIR
#define GOLDEN_DIR "tests/unit/golden"
#endif

static const char *const format_names[] = {"json", "slack", "text", "alertmanager"};

static struct payload_metric metrics[] = {
        {"train_loss", 0.25}, {"valid_loss", NAN}, {"weird\"\n$(x)", 1.5}};

static const char hostile_id[] = "ftjob-\"q\"\n`id`$(touch pwned)\x01\xff<!channel>&";

/* A job.finished event, as the notifier builds it from the jobs row. */
static struct payload_event
job_event(void)
{
	return (struct payload_event){
	        "ev_7_00000000000000ab",
	        "job.finished",
	        1796126941,
	        "{\"status\":\"succeeded\",\"previous\":\"running\"}",
	        {"openai", hostile_id, "succeeded", "gpt-4o-mini", NULL, 100, 100, metrics, 3},
	        NULL};
}

/* An alerts row and its alert.fired event (the rules engine's data). */
static struct payload_alert alert_row = {
        42,       "divergence", "valid_loss",
        1.75,     60,           "valid_loss rose\nfor 3 evals \"$(rm -rf /)\"",
        "firing", 1796126000,   -1,
        0};

static struct payload_event
alert_event(void)
{
	return (struct payload_event){
	        "ev_9_00000000000000cd",
	        "alert.fired",
	        1796126001,
	        "{\"alert_id\":42,\"action\":\"cancel\",\"best_checkpoint\":{\"step\":40,\"metric\":"
	        "\"valid_loss\",\"value\":1.2,\"checkpoint\":\"ft:x:ckpt-step-40\"}}",
	        {"openai", "ftjob-1", "running", "gpt-4o-mini", NULL, 60, 100, metrics, 1},
	        &alert_row};
}

struct golden {
	char name[64];
	char *body;
};

/* Every body this test makes, in the golden file's order. */
static size_t
make_all(struct golden *g)
{
	struct payload_event ev = job_event(), al = alert_event();
	struct payload_alert resolved = alert_row;
	size_t n = 0;

	for (int f = 0; f < 4; f++) {
		snprintf(g[n].name, sizeof(g[n].name), "JOB %s", format_names[f]);
		g[n++].body = payload_build(&ev, (enum conf_hook_format)f);
	}
	for (int f = 0; f < 4; f++) {
		snprintf(g[n].name, sizeof(g[n].name), "ALERT %s", format_names[f]);
		g[n++].body = payload_build(&al, (enum conf_hook_format)f);
	}
	resolved.state = "resolved";
	resolved.resolved_at = 1796126500;
	al.alert = &resolved;
	al.type = "alert.resolved";
	al.time = 1796126500;
	snprintf(g[n].name, sizeof(g[n].name), "RESOLVED am");
	g[n++].body = payload_build(&al, CONF_FORMAT_ALERTMANAGER);
	return n;
}

static char *
read_line(FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len = getline(&line, &cap, f);

	if (len < 0) {
		free(line);
		return NULL;
	}
	if (len > 0 && line[len - 1] == '\n')
		line[len - 1] = '\0';
	return line;
}

static void
test_golden(void)
{
	struct golden g[16];
	size_t n = make_all(g);
	const char *path = GOLDEN_DIR "/payload.txt";
	FILE *f;

	if (getenv("UPDATE_GOLDEN")) {
		f = fopen(path, "w");
		for (size_t i = 0; f && i < n; i++)
			fprintf(f, "%s\n%s\n", g[i].name, g[i].body);
		if (f)
			fclose(f);
	}
	f = fopen(path, "r");
	ok(f != NULL, "golden file %s opens", path);
	for (size_t i = 0; f && i < n; i++) {
		char *name = read_line(f), *body = read_line(f);
		is_str(name, g[i].name, "golden entry %zu is %s", i, g[i].name);
		is_str(g[i].body, body, "%s matches the golden output", g[i].name);
		ok(utf8_valid(g[i].body, strlen(g[i].body)), "%s is valid UTF-8", g[i].name);
		free(name);
		free(body);
	}
	for (size_t i = 0; i < n; i++)
		free(g[i].body);
	if (f)
		fclose(f);
}

/* The JSON forms parse, and one-line forms hold no control character. */
static void
test_shapes(void)
{
	struct payload_event ev = job_event(), al = alert_event();
	char *s;
	cJSON *j;

	s = payload_build(&ev, CONF_FORMAT_JSON);
	j = cJSON_Parse(s);
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "job"), "id")),
	       "ftjob-\"q\"\n`id`$(touch pwned)\x01\xef\xbf\xbd<!channel>&",
	       "json: the job id round-trips, invalid UTF-8 as U+FFFD");
	cJSON_Delete(j);
	free(s);
	s = payload_build(&ev, CONF_FORMAT_TEXT);
	ok(strchr(s, '\n') == NULL && strchr(s, '\x01') == NULL, "text: one line, no controls");
	free(s);
	s = payload_build(&ev, CONF_FORMAT_SLACK);
	ok(strstr(s, "<!channel>") == NULL && strstr(s, "&lt;!channel&gt;") != NULL,
	   "slack: <!channel> in a job name is shown, not obeyed");
	free(s);
	s = payload_build(&al, CONF_FORMAT_ALERTMANAGER);
	j = cJSON_Parse(s);
	ok(cJSON_IsArray(j) && cJSON_GetArraySize(j) == 1, "alertmanager: an array of one alert");
	ok(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "endsAt") == NULL,
	   "alertmanager: a firing alert has no endsAt");
	cJSON_Delete(j);
	free(s);
	is_str(payload_content_type(CONF_FORMAT_TEXT), "text/plain; charset=utf-8", "text type");
	is_str(payload_content_type(CONF_FORMAT_SLACK), "application/json", "slack type");
}

/* 100 KB strings are cut, on a character boundary, to the field cap. */
static void
test_huge(void)
{
	size_t big = 100 * 1024;
	char *name = malloc(big + 1), *s;
	struct payload_event ev = job_event();
	struct payload_metric m = {name, 1.0};

	for (size_t i = 0; i < big; i += 2)
		memcpy(name + i, "\xc3\xa9", 2); /* é, so a cut could split one */
	name[big] = '\0';
	ev.job.id = name;
	ev.job.metrics = &m;
	ev.job.nmetrics = 1;
	for (int f = 0; f < 4; f++) {
		s = payload_build(&ev, (enum conf_hook_format)f);
		ok(strlen(s) < 8 * PAYLOAD_MAX_FIELD,
		   "%s: a 100 KB job id and metric name are cut "
		   "(%zu bytes)",
		   format_names[f], strlen(s));
		ok(utf8_valid(s, strlen(s)), "%s: still valid UTF-8 after the cut",
		   format_names[f]);
		free(s);
	}
	for (size_t i = 0; i < big; i++)
		name[i] = "&<>"[i % 3]; /* each grows fivefold in Slack's escapes */
	s = payload_build(&ev, CONF_FORMAT_SLACK);
	{
		cJSON *j = cJSON_Parse(s);
		const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(j, "text"));
		ok(text && strlen(text) <= PAYLOAD_MAX_LINE + 3,
		   "slack: text stays under %d bytes after escaping (%zu)", PAYLOAD_MAX_LINE + 3,
		   text ? strlen(text) : 0);
		cJSON_Delete(j);
	}
	free(s);
	for (size_t i = 0; i < big; i += 2)
		memcpy(name + i, "\xc3\xa9", 2);
	s = payload_clean(name, 5, 0);
	is_str(s, "\xc3\xa9\xc3\xa9...", "a cut never splits a character");
	free(s);
	free(name);
}

static const char *
env_get(char **env, const char *name)
{
	size_t n = strlen(name);

	for (; *env; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

static void
test_env(void)
{
	struct payload_event al = alert_event();
	char *json = payload_build(&al, CONF_FORMAT_JSON), **env;
	size_t n = 0;

	setenv("OPENAI_API_KEY", "sk-secret", 1);
	env = payload_env(json, NULL, "C.UTF-8", "/var/lib/ftmon");
	is_str(env_get(env, "FTMON_EVENT"), "alert.fired", "FTMON_EVENT");
	is_str(env_get(env, "FTMON_EVENT_ID"), "ev_9_00000000000000cd", "FTMON_EVENT_ID");
	is_str(env_get(env, "FTMON_JOB"), "openai/ftjob-1", "FTMON_JOB");
	is_str(env_get(env, "FTMON_JOB_STATUS"), "running", "FTMON_JOB_STATUS");
	is_str(env_get(env, "FTMON_STEP"), "60", "FTMON_STEP");
	is_str(env_get(env, "FTMON_ALERT_RULE"), "divergence", "FTMON_ALERT_RULE");
	is_str(env_get(env, "FTMON_ALERT_ID"), "42", "FTMON_ALERT_ID");
	is_str(env_get(env, "FTMON_ALERT_VALUE"), "1.75", "FTMON_ALERT_VALUE");
	is_str(env_get(env, "FTMON_ALERT_ACTION"), "cancel", "FTMON_ALERT_ACTION");
	is_str(env_get(env, "FTMON_ALERT_MESSAGE"), "valid_loss rose for 3 evals \"$(rm -rf /)\"",
	       "FTMON_ALERT_MESSAGE: one line, nothing expanded");
	is_str(env_get(env, "PATH"), "/usr/local/bin:/usr/bin:/bin", "PATH defaults");
	is_str(env_get(env, "HOME"), "/var/lib/ftmon", "HOME as given");
	ok(env_get(env, "OPENAI_API_KEY") == NULL, "the daemon's environment is not passed on");
	ok(env_get(env, "FTMON_FINE_TUNED_MODEL") == NULL, "null fields are left out");
	for (char **e = env; *e; e++, n++) {
		ok(strncmp(*e, "FTMON_", 6) == 0 || strncmp(*e, "PATH=", 5) == 0 ||
		           strncmp(*e, "LANG=", 5) == 0 || strncmp(*e, "HOME=", 5) == 0,
		   "only FTMON_*, PATH, LANG, HOME: %.40s", *e);
		for (const char *c = *e; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f) {
				ok(0, "a control character in %.40s", *e);
				break;
			}
	}
	is_int(n, 21, "21 variables for this alert: 11 job, 7 alert, PATH, LANG, HOME");
	payload_env_free(env);
	free(json);
	{
		struct payload_event ev = job_event();
		json = payload_build(&ev, CONF_FORMAT_JSON);
		env = payload_env(json, "/bin", NULL, NULL);
		is_str(env_get(env, "FTMON_JOB_ID"),
		       "ftjob-\"q\" `id`$(touch pwned) \xef\xbf\xbd<!channel>&",
		       "a hostile job id: one line, valid UTF-8, nothing expanded");
		is_str(env_get(env, "FTMON_PREVIOUS_STATUS"), "running", "FTMON_PREVIOUS_STATUS");
		payload_env_free(env);
		free(json);
	}
	env = payload_env(NULL, "/bin", NULL, NULL);
	is_int(env[0] != NULL && env[1] == NULL, 1, "no payload: PATH alone");
	payload_env_free(env);
}

int
main(void)
{
	test_golden();
	test_shapes();
	test_huge();
	test_env();
	return tap_done();
}
