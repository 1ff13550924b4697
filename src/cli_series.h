/*
 * cli_series: a `metrics` result as series of (step, value) points, and
 * what ftmonctl makes of them: the step-by-metric table, CSV, and the
 * selection of curves handed to render_plot.  Pure: output goes to the
 * caller's buffer.
 */
#ifndef FTMON_CLI_SERIES_H
#define FTMON_CLI_SERIES_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "render.h"

struct cli_point {
	double x, y; /* step, value (NaN for a null value) */
};

struct cli_series {
	const char *name;    /* borrowed from the result */
	struct cli_point *p; /* owned, n points sorted by step */
	size_t n;
};

/* Decode {"metric": [[step, value], ...], ...} (borrowed: the names stay
 * pointers into it) into *out, n series (free with cli_series_free).
 * Returns 0, or -EINVAL if the shape is wrong (*out NULL then). */
int cli_series_load(const cJSON *r, struct cli_series **out, size_t *n);
void cli_series_free(struct cli_series *s, size_t n);

/* Total points of all series. */
size_t cli_series_points(const struct cli_series *s, size_t n);

/* One row per step of the union of all steps, one column per metric, blank
 * where a metric has no point at that step: an aligned table, or with csv a
 * "step,NAME,..." header and values that read back exactly. */
void cli_series_table(const struct cli_series *s, size_t n, bool csv, struct buf *out);

/* Plot the series named in want (nwant names, borrowed), or with none
 * wanted every series whose name contains "loss" (all of them if none
 * does).  opts gives size and colour; braille is used only if opts->braille
 * allows it and colour or a single curve tells the curves apart.  Returns
 * render_plot's result (-ENODATA: nothing to plot, -EINVAL: too small). */
int cli_series_plot(const struct cli_series *s, size_t n, const char *const *want, size_t nwant,
                    const struct render_plot_opts *opts, struct buf *out);

#endif
