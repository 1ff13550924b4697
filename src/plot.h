/*
 * plot: metric curves drawn as text for a terminal.  Pure: the caller
 * decides about Unicode and colour (from the locale and the terminal) and
 * gets the drawing in a struct buf.
 *
 * Every series is a curve of (x, y) points in x order, consecutive points
 * joined by lines; a point with a non-finite y (and, with a log y axis, a
 * y <= 0) is not drawn and breaks the line.  Both axes carry round-number
 * ticks (axis.h); x ticks are whole steps.
 *
 * With braille each character cell holds 2x4 dots (U+2800 block) and the
 * axes are box-drawing lines; otherwise one ASCII mark per cell, the
 * series' marker ('*', '+', 'o', 'x', '#', '@', '%', '&', then again).
 *
 * Telling curves apart: with colour, all series share one chart and each
 * gets an ANSI colour (a cell crossed by several takes the colour of the
 * series with most dots in it, the later one on a tie).  Without colour,
 * several series are drawn in separate panels stacked over one shared x
 * axis, so no curve can ever hide another.
 *
 * Layout: per panel a title line (several panels only) and its rows; then
 * the x axis rule, the x tick labels, "y: log scale" with --log, and one
 * legend line per series: marker, name, how many points it has and how
 * many are drawn when not all are ("240 points, 160 drawn"), its last
 * value, and its NaN count and, with --log, how many values <= 0 it skipped.  Every line fits in width
 * columns.
 */
#ifndef FTMON_PLOT_H
#define FTMON_PLOT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define PLOT_MIN_WIDTH  20
#define PLOT_MAX_WIDTH  10000
#define PLOT_MIN_HEIGHT 2
#define PLOT_MAX_HEIGHT 1000

struct plot_series {
	const char *name; /* borrowed; shown in the legend */
	const double *x;  /* borrowed; n values, ascending */
	const double *y;  /* borrowed; n values, NaN allowed */
	size_t n;         /* points handed over */
	size_t total;     /* points the series has before downsampling; 0 = n */
};

struct plot_opts {
	int width;    /* total columns, PLOT_MIN_WIDTH .. PLOT_MAX_WIDTH */
	int height;   /* rows of plot area (split between panels), >= PLOT_MIN_HEIGHT */
	bool braille; /* Unicode braille dots and box-drawing axes */
	bool color;   /* ANSI colours, all series in one chart */
	bool log;     /* log10 y axis */
};

/* Append the drawing to out.  Returns 0, -EINVAL when width or height is
 * out of range, or -ENODATA when no point of any series can be drawn
 * (nothing is appended then). */
int plot_render(const struct plot_series *series, size_t nseries, const struct plot_opts *o,
                struct buf *out);

/* Whether point i of s is drawn: x and y finite, and y > 0 with log. */
bool plot_drawable(const struct plot_series *s, size_t i, bool log);

/* The ASCII marker and the ANSI colour code (e.g. 31 for red) of series i. */
char plot_marker(size_t i);
int plot_color(size_t i);

#endif
