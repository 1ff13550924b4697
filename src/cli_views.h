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

/* How the views may draw; NULL everywhere means {0}: no width limit, no
 * colour, ASCII only (what goes into a pipe or a file). */
struct cli_views_opts {
	size_t width; /* columns to fit tables into; 0: never cut */
	bool color;   /* ANSI colour for statuses, health and alerts */
	bool utf8;    /* "●" before a status, "…" in cut text, sparklines */
};

/* `status`: the daemon, its configuration (each error of a failed reload
 * on its own line), the database, job counts, and one row per source: its
 * health with the moment it began ("down since 10:42:07Z", "backing off
 * until 10:43:00Z"), last poll, stored jobs, requests, errors, and the last
 * error with its time. */
void cli_views_status(const cJSON *r, int64_t now, const struct cli_views_opts *o, struct buf *out);

/* `jobs`: one row per job, with its progress (percent of total_steps) and
 * the time it is expected to finish.  A job the daemon no longer polls
 * (tracked is false) says so in its status and shows when it last changed
 * as a time, not as an age that looks live.  Long names are cut in the
 * middle to fit o->width; the status never is. */
void cli_views_jobs(const cJSON *r, int64_t now, const struct cli_views_opts *o, struct buf *out);

/* `show`: one job's fields, latest metrics (with a sparkline each when
 * series, a `metrics` result, is given and o->utf8), the best checkpoint
 * (the job's best_checkpoint, else the checkpoint with the lowest
 * full_valid_loss, else valid_loss), bad lines of local runs, checkpoints
 * (their metrics wrapped to fit) and alerts.  An untracked or finished job
 * leaves out the estimated finish. */
void cli_views_show(const cJSON *job, const cJSON *series, int64_t now,
                    const struct cli_views_opts *o, struct buf *out);

/* `events` of job (the name the user gave, borrowed, for "no events"):
 * the time on now's day (or the date) and how long ago. */
void cli_views_events(const cJSON *r, const char *job, int64_t now, const struct cli_views_opts *o,
                      struct buf *out);

/* `alerts`; all says whether resolved alerts were asked for. */
void cli_views_alerts(const cJSON *r, bool all, int64_t now, const struct cli_views_opts *o,
                      struct buf *out);

/* The sparkline of a series ([[step, value], ...], borrowed) in at most
 * width block characters (U+2581..U+2588), NaN as a space; nothing for
 * fewer than two finite values. */
void cli_views_sparkline(const cJSON *points, size_t width, struct buf *out);

/* One `watch` event as one line: time (now when it has none), kind, job,
 * then key=value pairs, sanitized. */
void cli_views_watch(const cJSON *ev, int64_t now, struct buf *out);

/* An ok:false reply's error object: "CODE: message", then each entry of
 * its "errors" list (e.g. every problem of a refused reload), one per line,
 * each line ending in '\n'. */
void cli_views_refusal(const cJSON *err, struct buf *out);

#endif
