/*
 * axis: round-number axis ticks for the terminal plot and the HTML report.
 * A tick step is 1, 2 or 5 times a power of ten, never below a caller's
 * minimum (1 for steps, so a step axis never shows "120.5"), and the axis
 * range is widened to whole steps so the first and the last tick sit on
 * its ends.  Pure.
 */
#ifndef FTMON_AXIS_H
#define FTMON_AXIS_H

#include <stddef.h>

struct axis {
	double lo, hi; /* the axis range: lo = first tick, hi = last tick */
	double step;   /* between ticks, 1/2/5 x 10^k */
	int nticks;    /* lo, lo + step, ..., hi */
	int decimals;  /* digits after the point a label needs (0 for integers) */
};

/* Ticks for data spanning [lo, hi] (finite, lo <= hi) with about target
 * ticks (>= 2) and a step of at least min_step (0: no minimum).  A zero
 * span is widened around the value first. */
void axis_ticks(double lo, double hi, int target, double min_step, struct axis *a);

/* Tick i (0 .. nticks - 1), computed as lo + i * step and rounded to the
 * step's precision so that 0.1 * 3 prints as 0.3. */
double axis_tick(const struct axis *a, int i);

/* A tick label: fixed point with a->decimals digits, or %g for very large
 * or small magnitudes; "-0" prints as "0".  Writes into buf (size >= 32)
 * and returns it. */
char *axis_label(const struct axis *a, double v, char *buf, size_t size);

/* A log10 axis label: 10^e as a plain number ("1000", "0.01") when short,
 * else "1e+06".  Writes into buf (size >= 32) and returns it. */
char *axis_label_pow10(double e, char *buf, size_t size);

#endif
