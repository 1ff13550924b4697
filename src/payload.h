/*
 * payload: an event (with its job and, for alerts, its alert row) as the
 * body a hook receives, in each hook format, and the environment of an
 * exec hook.
 *
 *   json          ftmon's own payload (SPEC "Events and hooks"): id, event,
 *                 time (RFC 3339), summary, job {...}, alert {...} (alerts
 *                 only), previous (job.status / job.finished).
 *   slack         {"text": one readable line, "attachments": [{fields}]}:
 *                 Slack, Mattermost and Discord's /slack endpoint.
 *   text          the summary line alone (ntfy and friends).
 *   alertmanager  an Alertmanager v2 /api/v2/alerts array of one alert.
 *                 Alerts: labels alertname=ftmon_RULE, job, source, rule,
 *                 severity; startsAt = fired_at; alert.resolved sends the
 *                 same labels with endsAt = resolved_at.  Job events are
 *                 points in time: alertname=ftmon_job_EVENT (discovered,
 *                 status, finished), rule = the event name, startsAt = the
 *                 event's time, endsAt = startsAt + 5m, so Alertmanager
 *                 notifies once and lets it resolve by itself.
 *
 * Hostile text: every string is made valid UTF-8 (U+FFFD) and cut to
 * PAYLOAD_MAX_FIELD bytes on a character boundary ("..." appended); JSON
 * escapes quotes, backslashes and control characters; the one-line forms
 * (text, slack's text, the summary) and environment values turn every
 * control character into a space.  Nothing is ever interpreted.
 *
 * Pure: no I/O, no logging.  Every pointer in the structs is borrowed
 * from the caller for the call; results are malloc'd for the caller.
 */
#ifndef FTMON_PAYLOAD_H
#define FTMON_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define PAYLOAD_MAX_FIELD 1024 /* bytes kept of any one string */
#define PAYLOAD_MAX_LINE  1900 /* the summary line (Discord caps at 2000) */

struct payload_metric {
	const char *name;
	double value; /* NaN/inf become null */
};

struct payload_job {
	const char *source; /* the [source NAME] */
	const char *id;     /* external id */
	const char *status;
	const char *model;            /* NULL: null */
	const char *fine_tuned_model; /* NULL: null */
	int64_t step;                 /* -1: null */
	int64_t total_steps;          /* -1: null */
	const struct payload_metric *metrics;
	size_t nmetrics;
};

struct payload_alert {
	int64_t id;
	const char *rule;
	const char *metric; /* NULL: null */
	double value;       /* NaN: null */
	int64_t step;       /* -1: null */
	const char *message;
	const char *state; /* firing | resolved */
	int64_t fired_at;
	int64_t resolved_at; /* -1: not resolved */
	int acked;
};

struct payload_event {
	const char *id;   /* the unique event id (idempotency key) */
	const char *type; /* job.discovered ... alert.resolved */
	int64_t time;     /* Unix seconds */
	/* The events row's data JSON (may be NULL): "previous", and for
	 * alerts "action" and "best_checkpoint", are copied from it. */
	const char *data_json;
	struct payload_job job;
	const struct payload_alert *alert; /* NULL for job events */
};

/* The body for format; the caller frees it. */
char *payload_build(const struct payload_event *ev, enum conf_hook_format fmt);
/* The one-line summary ("ftmon: job openai/ftjob-1 finished: succeeded"),
 * control characters as spaces, at most PAYLOAD_MAX_LINE bytes. */
char *payload_summary(const struct payload_event *ev);
/* Content-Type of a format's body. */
const char *payload_content_type(enum conf_hook_format fmt);

/* An exec hook's environment, from its stdin document (a json payload as
 * payload_build made it): FTMON_EVENT, FTMON_EVENT_ID, FTMON_TIME,
 * FTMON_MESSAGE (the summary), FTMON_PREVIOUS_STATUS, FTMON_JOB
 * (SOURCE/ID), FTMON_JOB_SOURCE, FTMON_JOB_ID, FTMON_JOB_STATUS,
 * FTMON_JOB_MODEL, FTMON_FINE_TUNED_MODEL, FTMON_STEP, FTMON_TOTAL_STEPS,
 * and for alerts FTMON_ALERT_ID, FTMON_ALERT_RULE, FTMON_ALERT_METRIC,
 * FTMON_ALERT_VALUE, FTMON_ALERT_STEP, FTMON_ALERT_MESSAGE,
 * FTMON_ALERT_ACTION; null fields are left out.  Then PATH (path, or
 * /usr/local/bin:/usr/bin:/bin when NULL), LANG and HOME when given:
 * nothing else of the daemon's environment.  Values are one line
 * (control characters as spaces), at most PAYLOAD_MAX_FIELD bytes.  A
 * NULL-terminated malloc'd "NAME=value" list (free with payload_env_free). */
char **payload_env(const char *payload_json, const char *path, const char *lang, const char *home);
void payload_env_free(char **env);

/* A copy of s that is valid UTF-8, its first max bytes at most (cut on a
 * character boundary, then "..." appended); with oneline, control characters
 * (C0, DEL, C1) become spaces.  NULL gives NULL. */
char *payload_clean(const char *s, size_t max, int oneline);

#endif
