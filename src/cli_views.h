/*
 * cli_views: what ftmonctl shows people.  Each view takes a command's
 * result as the daemon sent it (borrowed; members missing or of another
 * type, as from an older daemon, print as "-" or are left out) and appends
 * text to out (the caller's buffer).  Pure: no I/O, no clock, no
 * environment.  now is the Unix time ages are measured at, so the output
 * is a function of its arguments.
 *
 * Times are UTC: RFC 3339, or "HH:MM:SSZ" for a moment on now's day where
 * a column needs to stay narrow.
 */
#ifndef FTMON_CLI_VIEWS_H
#define FTMON_CLI_VIEWS_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"

/* `status`: the daemon, its configuration (each error of a failed reload
 * on its own line), the database, job counts, and one row per source: its
 * health with the moment it began ("down since 10:42:07Z", "backing off
 * until 10:43:00Z"), last poll, stored jobs, requests, errors, and the last
 * error with its time. */
void cli_views_status(const cJSON *r, int64_t now, struct buf *out);

/* `jobs`: one row per job.  A job the daemon no longer polls (tracked is
 * false) says so in its status and shows when it last changed as a time,
 * not as an age that looks live. */
void cli_views_jobs(const cJSON *r, int64_t now, struct buf *out);

/* `show`: one job's fields, latest metrics, checkpoints and alerts.  An
 * untracked job says so, and leaves out the estimated finish. */
void cli_views_show(const cJSON *job, int64_t now, struct buf *out);

/* `events` of job (the name the user gave, borrowed, for "no events"). */
void cli_views_events(const cJSON *r, const char *job, struct buf *out);

/* `alerts`; all says whether resolved alerts were asked for. */
void cli_views_alerts(const cJSON *r, bool all, int64_t now, struct buf *out);

/* One `watch` event as one line: time (now when it has none), kind, job,
 * then key=value pairs, sanitized. */
void cli_views_watch(const cJSON *ev, int64_t now, struct buf *out);

/* An ok:false reply's error object: "CODE: message", then each entry of
 * its "errors" list (e.g. every problem of a refused reload), one per line,
 * each line ending in '\n'. */
void cli_views_refusal(const cJSON *err, struct buf *out);

#endif
