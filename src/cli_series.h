/*
 * cli_series: a `metrics` result as series of (step, value) points, and
 * what ftmonctl makes of them: the step-by-metric table, long CSV, the
 * curves handed to plot_render and the JSON of what a plot draws.  Pure:
 * output goes to the caller's buffer.
 */
#ifndef FTMON_CLI_SERIES_H
#define FTMON_CLI_SERIES_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "plot.h"

struct cli_point {
	double x, y; /* step, value (NaN for a null value) */
};

struct cli_series {
	const char *name;    /* borrowed from the result */
	struct cli_point *p; /* owned, n points sorted by step */
	size_t n;
	size_t total; /* points stored before the daemon downsampled (>= n) */
};

/* Decode {"metric": [[step, value], ...], ...} (borrowed: the names stay
 * pointers into it) into *out, n series (free with cli_series_free).
 * totals (borrowed, may be NULL) is the daemon's {"metric": N} of stored
 * points; a series without one has total = n.  Returns 0, or -EINVAL if
 * the shape is wrong (*out NULL then). */
int cli_series_load(const cJSON *r, const cJSON *totals, struct cli_series **out, size_t *n);
void cli_series_free(struct cli_series *s, size_t n);

/* Total points of all series. */
size_t cli_series_points(const struct cli_series *s, size_t n);

/* One row per step of the union of all steps, one column per metric, blank
 * where a metric has no point at that step. */
void cli_series_table(const struct cli_series *s, size_t n, struct buf *out);

/* CSV for spreadsheets and pandas: a "step,metric,value" header, then one
 * row per point, metric by metric in step order; names are quoted as RFC
 * 4180 says, values read back exactly ("nan" for NaN). */
void cli_series_csv(const struct cli_series *s, size_t n, struct buf *out);

/* Which series a plot draws: those named in want (nwant names, borrowed),
 * or with none wanted every series whose name contains "loss" (all of
 * them if none does).  Fills idx (room for n) and returns how many. */
size_t cli_series_pick(const struct cli_series *s, size_t n, const char *const *want, size_t nwant,
                       size_t *idx);

/* Draw series idx[0..nidx) with opts.  Returns plot_render's result
 * (-ENODATA: nothing to draw, -EINVAL: too small). */
int cli_series_plot(const struct cli_series *s, const size_t *idx, size_t nidx,
                    const struct plot_opts *opts, struct buf *out);

/* What that plot draws, as a new JSON document the caller owns:
 * {"log": bool, "series": [{"metric", "points" (stored), "drawn" (count),
 * "data": [[step, value], ...]}]}, data holding exactly the drawn points
 * (finite, and positive with log) in step order. */
cJSON *cli_series_plot_json(const struct cli_series *s, const size_t *idx, size_t nidx, bool log);

#endif
