/*
 * metricline: one line of a training script's JSONL stream into a step,
 * its metrics and the job's status (SPEC "Sources", jsonl).
 *
 *   {"step": 10, "train_loss": 1.93, "eval": {"loss": 2.01}, "lr": NaN}
 *
 * Every numeric member other than the top-level "step" is a metric, nested
 * objects flattened with '/' ("eval/loss", as TensorBoard and W&B name
 * them); NaN, Infinity and -Infinity are numbers (Python's json.dumps
 * writes them; jsonlax.h reads them).  "epoch", "time" and "timestamp" are
 * metrics like any other.  A top-level string "status" reports the job's
 * status and a string "job" names the job.  Other strings, booleans, nulls
 * and arrays are ignored.
 *
 * A bad line gets a static reason: not JSON, not an object, a "step" that
 * is not an integer in 0..2^53-1, longer than METRICLINE_MAX_BYTES,
 * nested deeper than METRICLINE_MAX_DEPTH, more than METRICLINE_MAX_METRICS
 * metrics, a metric name that is empty, too long, not UTF-8 or holds a
 * control character, a "status" or "job" that is not an acceptable name.
 *
 * Pure: no I/O, no logging.  One struct metricline is reused line after
 * line so the hot path allocates nothing once its buffers have grown.
 */
#ifndef FTMON_METRICLINE_H
#define FTMON_METRICLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICLINE_MAX_BYTES   (1024 * 1024) /* one line, without its newline */
#define METRICLINE_MAX_DEPTH   16            /* nested objects and arrays */
#define METRICLINE_MAX_METRICS 1024
#define METRICLINE_MAX_NAME    512                /* bytes of a flattened metric name */
#define METRICLINE_MAX_STEP    9007199254740991LL /* 2^53 - 1: exact in a double */

struct metricline_metric {
	const char *name; /* points into the metricline's buffer */
	double value;     /* may be NaN or infinite */
};

struct metricline {
	/* The parsed line, valid until the next parse or metricline_free. */
	bool has_step;
	int64_t step;
	const char *status; /* NULL when absent */
	const char *job;    /* NULL when absent */
	struct metricline_metric *metrics;
	size_t nmetrics;
	/* Storage, reused between lines. */
	char *text;
	size_t text_len, text_cap;
	size_t metrics_cap;
};

#define METRICLINE_INIT \
	{               \
		0       \
	}

/* Results of metricline_parse. */
#define METRICLINE_OK    0
#define METRICLINE_BLANK 1 /* only white space: not a line at all */
#define METRICLINE_BAD   (-1)

/* Parse len bytes of line (no newline; a trailing '\r' is ignored; need not
 * be NUL-terminated) into ml.  Returns METRICLINE_OK, METRICLINE_BLANK, or
 * METRICLINE_BAD with *why set to a static reason. */
int metricline_parse(struct metricline *ml, const char *line, size_t len, const char **why);

/* The same through cJSON only, without the fast path for the common
 * shape: the reference test_mutate compares metricline_parse with. */
int metricline_parse_slow(struct metricline *ml, const char *line, size_t len, const char **why);

/* Free ml's storage (ml itself is the caller's); METRICLINE_INIT again. */
void metricline_free(struct metricline *ml);

#endif
