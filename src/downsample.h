/*
 * downsample: reduce a metric curve to at most N points for display and for
 * the `metrics` command's `points` argument, keeping the first and last
 * point and the shape of the curve (the minimum and the maximum of each
 * bucket), never plain striding.  Pure.
 */
#ifndef FTMON_DOWNSAMPLE_H
#define FTMON_DOWNSAMPLE_H

#include <stddef.h>
#include <stdint.h>

struct ds_point {
	int64_t step;
	double value; /* may be NaN or infinite */
};

/*
 * in: n points sorted by step.  out: room for max points.  Returns the
 * number written (n when n <= max: a plain copy).  max < 2 is treated as 2
 * when n >= 2.  Output stays sorted by step; a bucket holding a non-finite
 * value keeps that point (a NaN must never be smoothed away).  The lowest
 * and the highest point of in are kept too once max >= 4 (max >= 8 when
 * in holds NaNs).
 */
size_t downsample_minmax(const struct ds_point *in, size_t n, struct ds_point *out, size_t max);

#endif
