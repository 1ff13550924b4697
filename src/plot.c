/*
 * plot: curves as braille or ASCII text (see plot.h).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axis.h"
#include "plot.h"
#include "render.h"
#include "xmalloc.h"

static const char plot_markers[] = "*+ox#@%&";
static const int plot_colors[] = {34, 31, 32, 33, 35, 36};

char
plot_marker(size_t i)
{
	return plot_markers[i % (sizeof(plot_markers) - 1)];
}

int
plot_color(size_t i)
{
	return plot_colors[i % (sizeof(plot_colors) / sizeof(plot_colors[0]))];
}

bool
plot_drawable(const struct plot_series *s, size_t i, bool log)
{
	return isfinite(s->x[i]) && isfinite(s->y[i]) && (!log || s->y[i] > 0);
}

/*
 * The raster of one panel: pixels hold (series index + 1), 0 = empty, row 0
 * at the top.  Each character cell covers sx by sy pixels (1x1, or 2x4 for
 * braille).
 */
struct plot_canvas {
	int pw, ph, sx, sy;
	unsigned char *pix;
};

/* One panel: the series [first, first + count) over one y axis. */
struct plot_panel {
	size_t first, count;
	int rows;
	struct axis ya;
	char **labels; /* rows entries, NULL or the tick label of that row */
};

/* What every panel shares. */
struct plot_frame {
	const struct plot_series *series;
	size_t nseries;
	const struct plot_opts *o;
	struct axis xa;
	int labw, cols;
};

static double
plot_yval(const struct plot_series *s, size_t i, bool log)
{
	return log ? log10(s->y[i]) : s->y[i];
}

/* The drawable extent of series [first, first + count): x values into
 * xlo and xhi, y values (log10 with log) into ylo and yhi.  False if none. */
static bool
plot_extent(const struct plot_series *series, size_t first, size_t count, bool log, double *xlo,
            double *xhi, double *ylo, double *yhi)
{
	bool any = false;

	for (size_t s = first; s < first + count; s++) {
		for (size_t i = 0; i < series[s].n; i++) {
			if (!plot_drawable(&series[s], i, log))
				continue;
			double x = series[s].x[i], y = plot_yval(&series[s], i, log);
			if (!any) {
				*xlo = *xhi = x;
				*ylo = *yhi = y;
				any = true;
			}
			*xlo = fmin(*xlo, x);
			*xhi = fmax(*xhi, x);
			*ylo = fmin(*ylo, y);
			*yhi = fmax(*yhi, y);
		}
	}
	return any;
}

static char *
plot_ylabel(const struct plot_panel *p, double v, bool log, char *buf, size_t size)
{
	return log ? axis_label_pow10(v, buf, size) : axis_label(&p->ya, v, buf, size);
}

/* The panel's y axis (log axes step by whole decades) and the width of its
 * widest label. */
static int
plot_panel_axis(const struct plot_frame *f, struct plot_panel *p)
{
	double xlo, xhi, ylo, yhi;
	int target = p->rows / 2 < 2 ? 2 : p->rows / 2 > 6 ? 6 : p->rows / 2, w = 0;
	char b[64];

	/* A log axis marks every decade the rows have room for. */
	if (f->o->log)
		target = p->rows < 8 ? p->rows : 8;
	plot_extent(f->series, p->first, p->count, f->o->log, &xlo, &xhi, &ylo, &yhi);
	axis_ticks(ylo, yhi, target, f->o->log ? 1 : 0, &p->ya);
	for (int i = 0; i < p->ya.nticks; i++) {
		int n = (int)strlen(plot_ylabel(p, axis_tick(&p->ya, i), f->o->log, b, sizeof(b)));
		w = n > w ? n : w;
	}
	return w;
}

static void
plot_canvas_set(struct plot_canvas *cv, int px, int py, unsigned char v)
{
	if (px >= 0 && px < cv->pw && py >= 0 && py < cv->ph)
		cv->pix[(size_t)py * (size_t)cv->pw + (size_t)px] = v;
}

/* Bresenham's line between two pixels, inclusive. */
static void
plot_canvas_line(struct plot_canvas *cv, int x0, int y0, int x1, int y1, unsigned char v)
{
	int dx = abs(x1 - x0), dy = -abs(y1 - y0);
	int stepx = x0 < x1 ? 1 : -1, stepy = y0 < y1 ? 1 : -1;
	int err = dx + dy;

	for (;;) {
		plot_canvas_set(cv, x0, y0, v);
		if (x0 == x1 && y0 == y1)
			break;
		int e2 = 2 * err;
		if (e2 >= dy) {
			err += dy;
			x0 += stepx;
		}
		if (e2 <= dx) {
			err += dx;
			y0 += stepy;
		}
	}
}

/* A value's pixel along an axis of n pixels (0 at lo). */
static int
plot_pixel(const struct axis *a, double v, int n)
{
	return (int)lround((v - a->lo) / (a->hi - a->lo) * (n - 1));
}

/* Draw the panel's series; a point that cannot be drawn breaks the line. */
static void
plot_panel_draw(const struct plot_frame *f, const struct plot_panel *p, struct plot_canvas *cv)
{
	for (size_t s = p->first; s < p->first + p->count; s++) {
		const struct plot_series *se = &f->series[s];
		unsigned char v = (unsigned char)(s % 255 + 1);
		int lx = 0, ly = 0;
		bool have_last = false;

		for (size_t i = 0; i < se->n; i++) {
			if (!plot_drawable(se, i, f->o->log)) {
				have_last = false;
				continue;
			}
			int px = plot_pixel(&f->xa, se->x[i], cv->pw);
			int py = cv->ph - 1 -
			         plot_pixel(&p->ya, plot_yval(se, i, f->o->log), cv->ph);
			if (have_last)
				plot_canvas_line(cv, lx, ly, px, py, v);
			else
				plot_canvas_set(cv, px, py, v);
			lx = px;
			ly = py;
			have_last = true;
		}
	}
}

/* The owner (series index + 1, 0 = empty: the series with most dots in
 * the cell, the later on a tie) and the braille dot mask of a cell. */
static unsigned
plot_cell(const struct plot_canvas *cv, int col, int row, unsigned *dots)
{
	/* Braille dot bits by (y, x) inside the 2x4 cell, per Unicode. */
	static const unsigned bits[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}};
	unsigned vals[8], counts[8], nvals = 0, owner = 0, best = 0;

	*dots = 0;
	for (int y = 0; y < cv->sy; y++) {
		for (int x = 0; x < cv->sx; x++) {
			unsigned v = cv->pix[(size_t)(row * cv->sy + y) * (size_t)cv->pw +
			                     (size_t)(col * cv->sx + x)];
			unsigned k = 0;
			if (v == 0)
				continue;
			if (cv->sy == 4)
				*dots |= bits[y][x];
			while (k < nvals && vals[k] != v)
				k++;
			if (k == nvals) {
				vals[nvals] = v;
				counts[nvals++] = 0;
			}
			counts[k]++;
		}
	}
	for (unsigned k = 0; k < nvals; k++) {
		if (counts[k] > best || (counts[k] == best && vals[k] > owner)) {
			best = counts[k];
			owner = vals[k];
		}
	}
	return owner;
}

/* Append a cell's glyph. */
static void
plot_glyph(const struct plot_canvas *cv, unsigned owner, unsigned dots, struct buf *out)
{
	if (owner == 0) {
		buf_puts(out, " ");
	} else if (cv->sy == 4) {
		/* U+2800 + dots, as three UTF-8 bytes. */
		unsigned cp = 0x2800 + dots;
		char u[4] = {(char)(0xe0 | (cp >> 12)), (char)(0x80 | ((cp >> 6) & 0x3f)),
		             (char)(0x80 | (cp & 0x3f)), 0};
		buf_puts(out, u);
	} else {
		buf_printf(out, "%c", plot_marker(owner - 1));
	}
}

/* Append one row of cells, trimmed, with colour runs. */
static void
plot_row(const struct plot_canvas *cv, int row, int cols, bool color, struct buf *out)
{
	unsigned cur = 0, dots;
	int last = -1;

	for (int c = 0; c < cols; c++)
		if (plot_cell(cv, c, row, &dots) != 0)
			last = c;
	for (int c = 0; c <= last; c++) {
		unsigned owner = plot_cell(cv, c, row, &dots);
		if (color && owner != 0 && owner != cur) {
			buf_printf(out, "\033[%dm", plot_color(owner - 1));
			cur = owner;
		} else if (color && owner == 0 && cur != 0) {
			buf_puts(out, "\033[0m");
			cur = 0;
		}
		plot_glyph(cv, owner, dots, out);
	}
	if (cur != 0)
		buf_puts(out, "\033[0m");
}

/* Put each y tick's label on the row it falls in (the higher tick wins a
 * row two ticks share). */
static void
plot_panel_labels(const struct plot_frame *f, struct plot_panel *p, const struct plot_canvas *cv)
{
	char b[64];

	p->labels = xcalloc((size_t)p->rows, sizeof(*p->labels));
	for (int i = p->ya.nticks - 1; i >= 0; i--) {
		double v = axis_tick(&p->ya, i);
		int row = (cv->ph - 1 - plot_pixel(&p->ya, v, cv->ph)) / cv->sy;
		if (row >= 0 && row < p->rows && p->labels[row] == NULL)
			p->labels[row] = xstrdup(plot_ylabel(p, v, f->o->log, b, sizeof(b)));
	}
}

/* The truncated, sanitized text of s in at most max columns. */
static char *
plot_fit(const char *s, size_t max)
{
	char *t = xstrdup(s ? s : "");
	size_t cps = 0;

	render_sanitize(t);
	for (char *p = t; *p; p++) {
		if (((unsigned char)*p & 0xc0) == 0x80)
			continue;
		if (cps++ == max) {
			*p = '\0';
			break;
		}
	}
	return t;
}

/* A series' legend mark: colour, then braille block or ASCII marker. */
static void
plot_mark(const struct plot_opts *o, size_t s, struct buf *out)
{
	if (o->color)
		buf_printf(out, "\033[%dm", plot_color(s));
	if (o->braille)
		buf_puts(out, "⣿");
	else
		buf_printf(out, "%c", plot_marker(s));
	if (o->color)
		buf_puts(out, "\033[0m");
}

static void
plot_panel_print(const struct plot_frame *f, struct plot_panel *p, bool title, struct buf *out)
{
	const struct plot_opts *o = f->o;
	struct plot_canvas cv = {.sx = o->braille ? 2 : 1, .sy = o->braille ? 4 : 1};

	cv.pw = f->cols * cv.sx;
	cv.ph = p->rows * cv.sy;
	cv.pix = xcalloc((size_t)cv.pw * (size_t)cv.ph, 1);
	plot_panel_draw(f, p, &cv);
	plot_panel_labels(f, p, &cv);
	if (title) {
		char *name = plot_fit(f->series[p->first].name, (size_t)f->cols - 2);
		buf_printf(out, "%*s  ", f->labw, "");
		plot_mark(o, p->first, out);
		buf_printf(out, " %s\n", name);
		free(name);
	}
	for (int row = 0; row < p->rows; row++) {
		const char *axis =
		        p->labels[row] ? (o->braille ? "┤" : "+") : (o->braille ? "│" : "|");
		buf_printf(out, "%*s %s", f->labw, p->labels[row] ? p->labels[row] : "", axis);
		plot_row(&cv, row, f->cols, o->color, out);
		buf_puts(out, "\n");
		free(p->labels[row]);
	}
	free(p->labels);
	free(cv.pix);
}

/* The column of x tick i. */
static int
plot_xtick_col(const struct plot_frame *f, int i)
{
	int sx = f->o->braille ? 2 : 1;
	return plot_pixel(&f->xa, axis_tick(&f->xa, i), f->cols * sx) / sx;
}

/* Whole-step x ticks whose labels fit side by side in the plot's width. */
static void
plot_xaxis_fit(struct plot_frame *f, double lo, double hi)
{
	char b[64];

	for (int target = f->cols / 8 > 2 ? f->cols / 8 : 2;; target--) {
		size_t w = 0;
		axis_ticks(lo, hi, target, 1, &f->xa);
		for (int i = 0; i < f->xa.nticks; i++) {
			size_t n = strlen(axis_label(&f->xa, axis_tick(&f->xa, i), b, sizeof(b)));
			w = n > w ? n : w;
		}
		if (target <= 2 || (size_t)f->xa.nticks * (w + 2) <= (size_t)f->cols)
			return;
	}
}

/* The x axis rule with a mark at each tick, then the tick labels centred
 * under their marks; a label that would overlap its left neighbour or
 * run past the plot is left out (the last one may end at the plot's right
 * edge instead of centring). */
static void
plot_xaxis(const struct plot_frame *f, struct buf *out)
{
	bool br = f->o->braille;
	char *line = xmalloc((size_t)f->cols + 1), b[64];
	int end = -1, last = -1;

	memset(line, ' ', (size_t)f->cols);
	line[f->cols] = '\0';
	buf_printf(out, "%*s %s", f->labw, "", br ? "└" : "+");
	for (int c = 0, t = 0; c < f->cols; c++) {
		bool tick = t < f->xa.nticks && plot_xtick_col(f, t) == c;
		buf_puts(out, tick ? (br ? "┬" : "+") : (br ? "─" : "-"));
		while (t < f->xa.nticks && plot_xtick_col(f, t) <= c)
			t++;
	}
	buf_puts(out, "\n");
	for (int i = 0; i < f->xa.nticks; i++) {
		int n = (int)strlen(axis_label(&f->xa, axis_tick(&f->xa, i), b, sizeof(b)));
		int at = plot_xtick_col(f, i) - (n - 1) / 2;
		if (at + n > f->cols)
			at = f->cols - n; /* the last label ends at the edge */
		if (at < 0)
			at = 0;
		if ((end >= 0 && at <= end + 1) || at + n > f->cols)
			continue;
		memcpy(line + at, b, (size_t)n);
		end = at + n - 1;
		last = end;
	}
	line[last + 1] = '\0';
	buf_printf(out, "%*s  %s\n", f->labw, "", line);
	free(line);
}

/* One legend line: mark, name, "N points[, M drawn]", the last drawn
 * value, and what was left out. */
static void
plot_legend_line(const struct plot_frame *f, size_t s, struct buf *out)
{
	const struct plot_series *se = &f->series[s];
	size_t total = se->total > se->n ? se->total : se->n, drawn = 0, nan = 0, nonpos = 0;
	struct buf text = BUF_INIT;
	double last = NAN;
	char num[32], *name, *fit;

	for (size_t i = 0; i < se->n; i++) {
		if (plot_drawable(se, i, f->o->log)) {
			drawn++;
			last = se->y[i];
		} else if (!isfinite(se->y[i]) || !isfinite(se->x[i])) {
			nan++;
		} else {
			nonpos++;
		}
	}
	name = plot_fit(se->name, (size_t)f->o->width);
	buf_printf(&text, "%s  %zu point%s", name, total, total == 1 ? "" : "s");
	if (drawn != total)
		buf_printf(&text, ", %zu drawn", drawn);
	if (drawn > 0)
		buf_printf(&text, ", last %s", render_number(last, num, sizeof(num)));
	if (nan > 0)
		buf_printf(&text, ", %zu NaN", nan);
	if (nonpos > 0)
		buf_printf(&text, ", %zu <= 0 skipped", nonpos);
	/* "  M " before the text. */
	fit = plot_fit(text.data, (size_t)f->o->width - 4);
	buf_puts(out, "  ");
	plot_mark(f->o, s, out);
	buf_printf(out, " %s\n", fit);
	free(fit);
	free(name);
	buf_free(&text);
}

/* The panels: one for all series with colour or a single series, else one
 * per series that has something to draw. */
static size_t
plot_panels(const struct plot_frame *f, struct plot_panel *p)
{
	size_t np = 0;
	double a, b, c, d;

	if (f->o->color || f->nseries == 1) {
		p[0] = (struct plot_panel){.first = 0, .count = f->nseries, .rows = f->o->height};
		return 1;
	}
	for (size_t s = 0; s < f->nseries; s++)
		if (plot_extent(f->series, s, 1, f->o->log, &a, &b, &c, &d))
			p[np++] = (struct plot_panel){.first = s, .count = 1};
	for (size_t i = 0; i < np; i++) {
		int rows = f->o->height / (int)np;
		p[i].rows = rows < PLOT_MIN_HEIGHT + 1 ? PLOT_MIN_HEIGHT + 1 : rows;
	}
	return np;
}

int
plot_render(const struct plot_series *series, size_t nseries, const struct plot_opts *o,
            struct buf *out)
{
	struct plot_frame f = {.series = series, .nseries = nseries, .o = o};
	struct plot_panel *p;
	double xlo, xhi, ylo, yhi;
	size_t np;

	if (o->width < PLOT_MIN_WIDTH || o->width > PLOT_MAX_WIDTH || o->height < PLOT_MIN_HEIGHT ||
	    o->height > PLOT_MAX_HEIGHT)
		return -EINVAL;
	if (!plot_extent(series, 0, nseries, o->log, &xlo, &xhi, &ylo, &yhi))
		return -ENODATA;
	p = xcalloc(nseries + 1, sizeof(*p));
	np = plot_panels(&f, p);
	for (size_t i = 0; i < np; i++) {
		int w = plot_panel_axis(&f, &p[i]);
		f.labw = w > f.labw ? w : f.labw;
	}
	/* Label, one space, the axis, then the plot columns. */
	f.cols = o->width - f.labw - 2;
	if (f.cols < 4) {
		free(p); /* labels too wide for the width */
		return -EINVAL;
	}
	plot_xaxis_fit(&f, xlo, xhi);
	for (size_t i = 0; i < np; i++)
		plot_panel_print(&f, &p[i], np > 1, out);
	plot_xaxis(&f, out);
	if (o->log)
		buf_puts(out, "  y: log scale\n");
	for (size_t s = 0; s < nseries; s++)
		plot_legend_line(&f, s, out);
	free(p);
	return 0;
}
