/*
 * payload: event -> hook bodies and exec environment (see payload.h).
 */
#include "config.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "payload.h"
#include "utf8.h"
#include "util.h"
#include "xmalloc.h"

/* Job events stay "firing" this long in Alertmanager, then resolve. */
#define PAYLOAD_AM_JOB_EVENT_S 300

/* ---- cleaning ---- */

/* Length of the UTF-8 sequence starting with byte c (valid text). */
static size_t
payload_seqlen(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	return 2;
}

/* A C1 control is U+0080..U+009F: 0xC2 0x80..0x9F in UTF-8. */
static bool
payload_is_control(const unsigned char *p)
{
	return p[0] < 0x20 || p[0] == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f);
}

char *
payload_clean(const char *s, size_t max, int oneline)
{
	char *v;
	struct buf b = BUF_INIT;
	size_t i = 0, n;

	if (s == NULL)
		return NULL;
	v = utf8_repair(s, strlen(s));
	while (v[i] != '\0') {
		n = payload_seqlen((unsigned char)v[i]);
		if (b.len + n > max) {
			buf_puts(&b, "...");
			break;
		}
		if (oneline && payload_is_control((const unsigned char *)v + i))
			buf_puts(&b, " ");
		else
			buf_append(&b, v + i, n);
		i += n;
	}
	free(v);
	if (b.data == NULL)
		buf_puts(&b, "");
	return buf_steal(&b);
}

/* ---- the summary line ---- */

static const char *
payload_or(const char *s, const char *dflt)
{
	return s && *s ? s : dflt;
}

/* A data JSON member as a string, or NULL (borrowed from o). */
static const char *
payload_data_str(const cJSON *o, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
}

static void
payload_summary_job(struct buf *b, const struct payload_event *ev, const cJSON *data)
{
	const struct payload_job *j = &ev->job;
	const char *prev = payload_data_str(data, "previous");

	if (strcmp(ev->type, "job.discovered") == 0)
		buf_printf(b, "discovered (%s%s%s)", payload_or(j->status, "?"),
		           j->model ? ", " : "", j->model ? j->model : "");
	else if (strcmp(ev->type, "job.finished") == 0)
		buf_printf(b, "finished: %s", payload_or(j->status, "?"));
	else
		buf_printf(b, "status %s -> %s", payload_or(prev, "?"), payload_or(j->status, "?"));
	if (j->step >= 0 && j->total_steps > 0)
		buf_printf(b, " at step %lld/%lld", (long long)j->step, (long long)j->total_steps);
	else if (j->step >= 0)
		buf_printf(b, " at step %lld", (long long)j->step);
}

static void
payload_summary_alert(struct buf *b, const struct payload_event *ev)
{
	const struct payload_alert *a = ev->alert;
	bool fired = strcmp(ev->type, "alert.fired") == 0;

	buf_printf(b, "alert %s %s", payload_or(a ? a->rule : NULL, "?"),
	           fired ? "fired" : "resolved");
	if (a && a->metric && !isnan(a->value))
		buf_printf(b, ": %s=%.6g", a->metric, a->value);
	if (a && a->step >= 0)
		buf_printf(b, " at step %lld", (long long)a->step);
	if (a && a->message && *a->message)
		buf_printf(b, " (%s)", a->message);
}

char *
payload_summary(const struct payload_event *ev)
{
	struct buf b = BUF_INIT;
	cJSON *data = ev->data_json ? cJSON_Parse(ev->data_json) : NULL;
	char *line;

	buf_printf(&b, "ftmon: job %s/%s ", payload_or(ev->job.source, "?"),
	           payload_or(ev->job.id, "?"));
	if (strncmp(ev->type, "alert.", 6) == 0)
		payload_summary_alert(&b, ev);
	else
		payload_summary_job(&b, ev, data);
	cJSON_Delete(data);
	line = payload_clean(b.data, PAYLOAD_MAX_LINE, 1);
	buf_free(&b);
	return line;
}

/* ---- JSON ---- */

static void
payload_add_str(cJSON *o, const char *name, const char *s)
{
	char *c = payload_clean(s, PAYLOAD_MAX_FIELD, 0);

	if (c)
		cJSON_AddStringToObject(o, name, c);
	else
		cJSON_AddNullToObject(o, name);
	free(c);
}

static void
payload_add_int(cJSON *o, const char *name, int64_t v)
{
	if (v < 0)
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddNumberToObject(o, name, (double)v);
}

static void
payload_add_num(cJSON *o, const char *name, double v)
{
	if (!isfinite(v))
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddNumberToObject(o, name, v);
}

static void
payload_add_time(cJSON *o, const char *name, int64_t t)
{
	char ts[32];

	if (t < 0)
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddStringToObject(o, name, util_format_rfc3339(t, ts, sizeof(ts)));
}

static char *
payload_job_name(const struct payload_job *j)
{
	char *raw = xasprintf("%s/%s", payload_or(j->source, "?"), payload_or(j->id, "?"));
	char *name = payload_clean(raw, PAYLOAD_MAX_FIELD, 0);

	free(raw);
	return name;
}

static cJSON *
payload_job_json(const struct payload_job *j)
{
	cJSON *o = cJSON_CreateObject(), *m;
	char *name = payload_job_name(j);

	cJSON_AddStringToObject(o, "name", name);
	free(name);
	payload_add_str(o, "source", j->source);
	payload_add_str(o, "id", j->id);
	payload_add_str(o, "status", j->status);
	payload_add_str(o, "model", j->model);
	payload_add_str(o, "fine_tuned_model", j->fine_tuned_model);
	payload_add_int(o, "step", j->step);
	payload_add_int(o, "total_steps", j->total_steps);
	m = cJSON_AddObjectToObject(o, "metrics");
	for (size_t i = 0; i < j->nmetrics; i++) {
		char *n = payload_clean(j->metrics[i].name, PAYLOAD_MAX_FIELD, 0);
		if (n && !cJSON_HasObjectItem(m, n))
			payload_add_num(m, n, j->metrics[i].value);
		free(n);
	}
	return o;
}

/* action and best_checkpoint from the event's data (the rules engine's). */
static void
payload_alert_extras(cJSON *o, const cJSON *data)
{
	const cJSON *bc = cJSON_GetObjectItemCaseSensitive(data, "best_checkpoint");
	const char *action = payload_data_str(data, "action");
	cJSON *dup;

	payload_add_str(o, "action", action);
	if (bc == NULL || cJSON_IsNull(bc)) {
		cJSON_AddNullToObject(o, "best_checkpoint");
		return;
	}
	/* A deep copy keeps its shape; its size is bounded by the events row.
	 * Text that is not valid UTF-8 (a writer that bypassed ingest) is
	 * dropped rather than passed on. */
	dup = cJSON_Duplicate(bc, true);
	if (dup) {
		char *s = cJSON_PrintUnformatted(dup);
		if (s == NULL || !utf8_valid(s, strlen(s)) || strlen(s) > PAYLOAD_MAX_FIELD) {
			cJSON_Delete(dup);
			dup = NULL;
		}
		free(s);
	}
	cJSON_AddItemToObject(o, "best_checkpoint", dup ? dup : cJSON_CreateNull());
}

static cJSON *
payload_alert_json(const struct payload_alert *a, const cJSON *data)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)a->id);
	payload_add_str(o, "rule", a->rule);
	payload_add_str(o, "metric", a->metric);
	payload_add_num(o, "value", a->value);
	payload_add_int(o, "step", a->step);
	payload_add_str(o, "message", a->message);
	payload_add_str(o, "state", a->state);
	payload_add_time(o, "fired_at", a->fired_at);
	payload_add_time(o, "resolved_at", a->resolved_at);
	payload_alert_extras(o, data);
	return o;
}

static cJSON *
payload_json(const struct payload_event *ev, const cJSON *data)
{
	cJSON *o = cJSON_CreateObject();
	char *sum = payload_summary(ev);

	payload_add_str(o, "id", ev->id);
	payload_add_str(o, "event", ev->type);
	payload_add_time(o, "time", ev->time);
	cJSON_AddStringToObject(o, "summary", sum);
	free(sum);
	cJSON_AddItemToObject(o, "job", payload_job_json(&ev->job));
	if (ev->alert)
		cJSON_AddItemToObject(o, "alert", payload_alert_json(ev->alert, data));
	if (strcmp(ev->type, "job.status") == 0 || strcmp(ev->type, "job.finished") == 0)
		payload_add_str(o, "previous", payload_data_str(data, "previous"));
	return o;
}

/* ---- slack ---- */

/* Slack's three escapes for text it formats (&, <, >), so a job name such
 * as "<!channel>" is shown, not obeyed. */
static char *
payload_slack_escape(const char *s)
{
	struct buf b = BUF_INIT;

	for (; *s; s++) {
		if (*s == '&')
			buf_puts(&b, "&amp;");
		else if (*s == '<')
			buf_puts(&b, "&lt;");
		else if (*s == '>')
			buf_puts(&b, "&gt;");
		else
			buf_append(&b, s, 1);
	}
	if (b.data == NULL)
		buf_puts(&b, "");
	return buf_steal(&b);
}

static void
payload_slack_field(cJSON *fields, const char *title, const char *value)
{
	cJSON *f;
	char *v, *e;

	if (value == NULL)
		return;
	v = payload_clean(value, PAYLOAD_MAX_FIELD, 1);
	e = payload_slack_escape(v);
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "title", title);
	cJSON_AddStringToObject(f, "value", e);
	cJSON_AddBoolToObject(f, "short", 1);
	cJSON_AddItemToArray(fields, f);
	free(v);
	free(e);
}

static cJSON *
payload_slack(const struct payload_event *ev)
{
	cJSON *o = cJSON_CreateObject(), *att = cJSON_AddArrayToObject(o, "attachments");
	cJSON *a = cJSON_CreateObject(), *fields;
	char *sum = payload_summary(ev), *esc = payload_slack_escape(sum);
	/* Escapes grow the line: cut again, under Discord's 2000. */
	char *text = payload_clean(esc, PAYLOAD_MAX_LINE, 1);
	char *name = payload_job_name(&ev->job);

	cJSON_AddStringToObject(o, "text", text);
	cJSON_AddStringToObject(a, "fallback", text);
	fields = cJSON_AddArrayToObject(a, "fields");
	payload_slack_field(fields, "Job", name);
	payload_slack_field(fields, "Status", ev->job.status);
	payload_slack_field(fields, "Event", ev->type);
	if (ev->alert)
		payload_slack_field(fields, "Rule", ev->alert->rule);
	cJSON_AddItemToArray(att, a);
	free(sum);
	free(esc);
	free(text);
	free(name);
	return o;
}

/* ---- alertmanager ---- */

static const char *
payload_am_severity(const struct payload_event *ev)
{
	const char *st = ev->job.status;

	if (ev->alert)
		return ev->alert->rule && strcmp(ev->alert->rule, "nan") == 0 ? "critical"
		                                                              : "warning";
	if (strcmp(ev->type, "job.finished") == 0 && st && strcmp(st, "failed") == 0)
		return "warning";
	return "info";
}

/* A label value: one line (Alertmanager shows them in titles). */
static void
payload_add_line(cJSON *o, const char *name, const char *s)
{
	char *c = payload_clean(s, PAYLOAD_MAX_FIELD, 1);

	cJSON_AddStringToObject(o, name, c);
	free(c);
}

static cJSON *
payload_am_labels(const struct payload_event *ev)
{
	cJSON *l = cJSON_CreateObject();
	const char *rule = ev->alert ? ev->alert->rule : ev->type;
	char *alertname, *name = payload_job_name(&ev->job);

	if (ev->alert)
		alertname = xasprintf("ftmon_%s", payload_or(rule, "alert"));
	else
		alertname = xasprintf("ftmon_job_%s", ev->type + strlen("job."));
	payload_add_line(l, "alertname", alertname);
	payload_add_line(l, "job", name);
	payload_add_line(l, "source", payload_or(ev->job.source, "?"));
	payload_add_line(l, "rule", payload_or(rule, "?"));
	cJSON_AddStringToObject(l, "severity", payload_am_severity(ev));
	free(alertname);
	free(name);
	return l;
}

static cJSON *
payload_alertmanager(const struct payload_event *ev)
{
	cJSON *arr = cJSON_CreateArray(), *a = cJSON_CreateObject(), *ann;
	char *sum = payload_summary(ev);
	const struct payload_alert *al = ev->alert;

	cJSON_AddItemToObject(a, "labels", payload_am_labels(ev));
	ann = cJSON_AddObjectToObject(a, "annotations");
	cJSON_AddStringToObject(ann, "summary", sum);
	payload_add_str(ann, "description", al && al->message ? al->message : sum);
	payload_add_str(ann, "event_id", ev->id);
	if (al) {
		payload_add_time(a, "startsAt", al->fired_at);
		if (strcmp(ev->type, "alert.resolved") == 0)
			payload_add_time(a, "endsAt",
			                 al->resolved_at >= 0 ? al->resolved_at : ev->time);
	} else {
		payload_add_time(a, "startsAt", ev->time);
		payload_add_time(a, "endsAt", ev->time + PAYLOAD_AM_JOB_EVENT_S);
	}
	cJSON_AddItemToArray(arr, a);
	free(sum);
	return arr;
}

/* ---- the body ---- */

static char *
payload_print(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	cJSON_Delete(o);
	if (s == NULL)
		abort(); /* cJSON only fails when allocation does */
	return s;
}

char *
payload_build(const struct payload_event *ev, enum conf_hook_format fmt)
{
	cJSON *data = ev->data_json ? cJSON_Parse(ev->data_json) : NULL;
	char *out;

	switch (fmt) {
	case CONF_FORMAT_SLACK:
		out = payload_print(payload_slack(ev));
		break;
	case CONF_FORMAT_TEXT:
		out = payload_summary(ev);
		break;
	case CONF_FORMAT_ALERTMANAGER:
		out = payload_print(payload_alertmanager(ev));
		break;
	case CONF_FORMAT_JSON:
	default:
		out = payload_print(payload_json(ev, data));
		break;
	}
	cJSON_Delete(data);
	return out;
}

const char *
payload_content_type(enum conf_hook_format fmt)
{
	return fmt == CONF_FORMAT_TEXT ? "text/plain; charset=utf-8" : "application/json";
}

/* ---- exec environment ---- */

struct payload_envb {
	char **v;
	size_t n;
};

static void
payload_setenv(struct payload_envb *e, const char *name, const char *value)
{
	char *c;

	if (value == NULL)
		return;
	c = payload_clean(value, PAYLOAD_MAX_FIELD, 1);
	e->v = xreallocarray(e->v, e->n + 2, sizeof(char *));
	e->v[e->n++] = xasprintf("%s=%s", name, c);
	e->v[e->n] = NULL;
	free(c);
}

/* A member of a json payload as environment text: strings as they are,
 * numbers in full, null and absent members left out. */
static void
payload_setenv_json(struct payload_envb *e, const char *name, const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	char num[64];

	if (cJSON_IsString(v)) {
		payload_setenv(e, name, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		if (v->valuedouble == (double)(int64_t)v->valuedouble)
			snprintf(num, sizeof(num), "%lld", (long long)v->valuedouble);
		else
			snprintf(num, sizeof(num), "%.17g", v->valuedouble);
		payload_setenv(e, name, num);
	}
}

char **
payload_env(const char *payload_json, const char *path, const char *lang, const char *home)
{
	static const char *const top[][2] = {{"FTMON_EVENT", "event"},
	                                     {"FTMON_EVENT_ID", "id"},
	                                     {"FTMON_TIME", "time"},
	                                     {"FTMON_MESSAGE", "summary"},
	                                     {"FTMON_PREVIOUS_STATUS", "previous"}};
	static const char *const job[][2] = {
	        {"FTMON_JOB", "name"},        {"FTMON_JOB_SOURCE", "source"},
	        {"FTMON_JOB_ID", "id"},       {"FTMON_JOB_STATUS", "status"},
	        {"FTMON_JOB_MODEL", "model"}, {"FTMON_FINE_TUNED_MODEL", "fine_tuned_model"},
	        {"FTMON_STEP", "step"},       {"FTMON_TOTAL_STEPS", "total_steps"}};
	static const char *const alert[][2] = {
	        {"FTMON_ALERT_ID", "id"},         {"FTMON_ALERT_RULE", "rule"},
	        {"FTMON_ALERT_METRIC", "metric"}, {"FTMON_ALERT_VALUE", "value"},
	        {"FTMON_ALERT_STEP", "step"},     {"FTMON_ALERT_MESSAGE", "message"},
	        {"FTMON_ALERT_ACTION", "action"}};
	struct payload_envb e = {xcalloc(1, sizeof(char *)), 0};
	cJSON *doc = payload_json ? cJSON_Parse(payload_json) : NULL;
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(doc, "job");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(doc, "alert");

	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
		payload_setenv_json(&e, top[i][0], doc, top[i][1]);
	for (size_t i = 0; i < sizeof(job) / sizeof(job[0]); i++)
		payload_setenv_json(&e, job[i][0], j, job[i][1]);
	for (size_t i = 0; a && i < sizeof(alert) / sizeof(alert[0]); i++)
		payload_setenv_json(&e, alert[i][0], a, alert[i][1]);
	cJSON_Delete(doc);
	payload_setenv(&e, "PATH", path ? path : "/usr/local/bin:/usr/bin:/bin");
	payload_setenv(&e, "LANG", lang);
	payload_setenv(&e, "HOME", home);
	return e.v;
}

void
payload_env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}
