/*
 * logreq: the `log` command's request (push sources), checked before any
 * of it reaches a source, and the pieces of text syntax the client shares
 * with the daemon (`ftmonctl log JOB step=N NAME=VALUE`).
 *
 * Arguments: "job" (required), then a single point as "step" (optional)
 * and "metrics" {name: value}, or "points" [{"step", "metrics"}, ...],
 * and/or "status".  A value is a JSON number or one of the strings "nan",
 * "inf", "-inf" (any case), since JSON cannot carry those.  A step is an
 * integer 0..2^53-1; a point without one takes the next step after the
 * job's last (LOGREQ_NEXT_STEP).
 *
 * Pure: no I/O, no logging.
 */
#ifndef FTMON_LOGREQ_H
#define FTMON_LOGREQ_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define LOGREQ_MAX_POINTS  100000
#define LOGREQ_MAX_METRICS 1000                      /* per point */
#define LOGREQ_NAME_MAX    200                       /* bytes of a metric name */
#define LOGREQ_STEP_MAX    INT64_C(9007199254740991) /* 2^53 - 1: exact in JSON */
#define LOGREQ_NEXT_STEP   INT64_C(-1)

struct logreq_metric {
	const char *name; /* borrowed from the arguments */
	double value;     /* may be NaN or infinite */
};

struct logreq_point {
	int64_t step; /* or LOGREQ_NEXT_STEP */
	size_t nmetrics;
	struct logreq_metric *metrics; /* owned by the request */
};

struct logreq {
	const char *job;    /* borrowed from the arguments */
	const char *status; /* borrowed; NULL when not given */
	size_t npoints;
	struct logreq_point *points; /* owned; NULL when npoints is 0 */
	size_t nvalues;              /* metric values over every point */
};

/* A value as text: a decimal number (no hex, no words, finite), or nan,
 * inf, -inf in any case.  NULL, or a static reason. */
const char *logreq_value_text(const char *s, double *v);
/* A step as text: decimal digits, at most LOGREQ_STEP_MAX.  NULL, or a
 * static reason. */
const char *logreq_step_text(const char *s, int64_t *step);
/* A metric name: 1..LOGREQ_NAME_MAX bytes of valid UTF-8 without control
 * characters.  NULL, or a static reason. */
const char *logreq_metric_check(const char *name);
/* A status a person may report: validating_files, queued, running,
 * succeeded, failed, cancelled.  NULL, or a static reason. */
const char *logreq_status_check(const char *status);

/* Parse the arguments (borrowed: req points into them, so they must
 * outlive it).  The job name is checked with jobname_check().  0, or
 * -EINVAL with *why (malloc'd, the caller frees) naming the argument,
 * point and metric at fault; req is then empty. */
int logreq_parse(const cJSON *args, struct logreq *req, char **why);
/* Free what parse allocated; the request is left empty. */
void logreq_clear(struct logreq *req);

#endif
