/*
 * render: tables, numbers, times and the terminal plot for ftmonctl.
 *
 * Everything here writes into a struct buf and depends on nothing but its
 * arguments, so the unit tests can compare exact strings.  Widths count
 * code points, not bytes, because job names, model names and messages from
 * the API may carry non-ASCII text; wide (CJK) characters are rare enough
 * in these fields that counting each as one column is the accepted error.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "render.h"
#include "xmalloc.h"

size_t
render_width(const char *s)
{
	size_t n = 0;

	/* Every byte that is not a UTF-8 continuation byte starts a code
	 * point; invalid sequences thus still count each lead byte once. */
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Bytes of the first n code points of s. */
static size_t
render_prefix_bytes(const char *s, size_t n)
{
	size_t i = 0;

	for (; s[i] != '\0'; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (n == 0)
				break;
			n--;
		}
	}
	return i;
}

char *
render_cut_middle(const char *s, size_t width, bool utf8)
{
	size_t w = render_width(s), head, tail;
	const char *dots = utf8 ? "\u2026" : "~";

	if (w <= width)
		return xstrdup(s);
	if (width == 0)
		return xstrdup("");
	/* The end tells jobs apart more often than the start: give it the
	 * odd column. */
	head = (width - 1) / 2;
	tail = width - 1 - head;
	return xasprintf("%.*s%s%s", (int)render_prefix_bytes(s, head), s, dots,
	                 s + render_prefix_bytes(s, w - tail));
}

char *
render_cut_end(const char *s, size_t width, bool utf8)
{
	if (render_width(s) <= width)
		return xstrdup(s);
	if (width == 0)
		return xstrdup("");
	return xasprintf("%.*s%s", (int)render_prefix_bytes(s, width - 1), s,
	                 utf8 ? "\u2026" : "~");
}

void
render_sanitize(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++) {
		unsigned char c = (unsigned char)*r;
		if (c == '\t' || c == '\n' || c == '\r') {
			*w++ = ' ';
		} else if (c < 0x20 || c == 0x7f) {
			*w++ = '?';
		} else if (c == 0xc2 && (unsigned char)r[1] >= 0x80 &&
		           (unsigned char)r[1] <= 0x9f) {
			/* U+0080..U+009F: C1 controls, e.g. CSI (U+009B). */
			*w++ = '?';
			r++;
		} else {
			*w++ = (char)c;
		}
	}
	*w = '\0';
}

char *
render_number(double v, char *buf, size_t size)
{
	if (isnan(v))
		snprintf(buf, size, "nan");
	else if (isinf(v))
		snprintf(buf, size, v < 0 ? "-inf" : "inf");
	else
		snprintf(buf, size, "%.4g", v == 0 ? 0.0 : v); /* no "-0" */
	return buf;
}

char *
render_reltime(int64_t t, int64_t now, char *buf, size_t size)
{
	int64_t d = now - t;
	bool future = d < 0;
	uint64_t a = future ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
	char amount[24];

	if (a == 0) {
		snprintf(buf, size, "just now");
		return buf;
	}
	if (a < 60)
		snprintf(amount, sizeof(amount), "%" PRIu64 "s", a);
	else if (a < 3600)
		snprintf(amount, sizeof(amount), "%" PRIu64 "m", a / 60);
	else if (a < 86400)
		snprintf(amount, sizeof(amount), "%" PRIu64 "h", a / 3600);
	else
		snprintf(amount, sizeof(amount), "%" PRIu64 "d", a / 86400);
	snprintf(buf, size, future ? "in %s" : "%s ago", amount);
	return buf;
}

char *
render_duration(int64_t secs, char *buf, size_t size)
{
	static const struct {
		int64_t len;
		char unit;
	} units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};

	if (secs <= 0) {
		snprintf(buf, size, "0s");
		return buf;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (secs < units[i].len)
			continue;
		int64_t major = secs / units[i].len;
		int64_t rest = secs % units[i].len;
		if (i + 1 < sizeof(units) / sizeof(units[0]) && rest / units[i + 1].len > 0)
			snprintf(buf, size, "%" PRId64 "%c %" PRId64 "%c", major, units[i].unit,
			         rest / units[i + 1].len, units[i + 1].unit);
		else
			snprintf(buf, size, "%" PRId64 "%c", major, units[i].unit);
		break;
	}
	return buf;
}

char *
render_bytes(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(buf, size, "%" PRIu64 " B", bytes);
		return buf;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
	return buf;
}

/* ---- raw JSON spans ---- */

static size_t
render_json_ws(const char *t, size_t len, size_t i)
{
	while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
		i++;
	return i;
}

/* Index just past the string starting at t[i] == '"'. */
static size_t
render_json_string(const char *t, size_t len, size_t i)
{
	for (i++; i < len && t[i] != '"'; i++)
		if (t[i] == '\\')
			i++;
	return i < len ? i + 1 : len;
}

/* Index just past the value starting at t[i]. */
static size_t
render_json_value(const char *t, size_t len, size_t i)
{
	size_t depth = 0;

	if (i < len && t[i] == '"')
		return render_json_string(t, len, i);
	if (i < len && t[i] != '{' && t[i] != '[') {
		while (i < len && strchr(",}] \t\r\n", t[i]) == NULL)
			i++;
		return i;
	}
	while (i < len) {
		if (t[i] == '"') {
			i = render_json_string(t, len, i);
			continue;
		}
		if (t[i] == '{' || t[i] == '[')
			depth++;
		else if ((t[i] == '}' || t[i] == ']') && --depth == 0)
			return i + 1;
		i++;
	}
	return len;
}

bool
render_json_member(const char *t, size_t len, const char *key, size_t *off, size_t *n)
{
	size_t klen = strlen(key);
	size_t i = render_json_ws(t, len, 0);

	if (i >= len || t[i] != '{')
		return false;
	for (i++;;) {
		i = render_json_ws(t, len, i);
		if (i >= len || t[i] != '"')
			return false;
		size_t kstart = i + 1, kend = render_json_string(t, len, i) - 1;
		i = render_json_ws(t, len, kend + 1);
		if (i >= len || t[i] != ':')
			return false;
		i = render_json_ws(t, len, i + 1);
		size_t vend = render_json_value(t, len, i);
		if (kend - kstart == klen && memcmp(t + kstart, key, klen) == 0) {
			*off = i;
			*n = vend - i;
			return vend > i;
		}
		i = render_json_ws(t, len, vend);
		if (i >= len || t[i] != ',')
			return false;
		i++;
	}
}

/* ---- tables ---- */

struct render_table {
	size_t ncols;
	char **headers;           /* ncols strings, or NULL */
	enum render_align *align; /* ncols */
	char **cells;             /* nrows * ncols, NULL = empty */
	size_t nrows;
	size_t cap_rows;
	size_t next_col; /* where the next cell of the last row goes */
	int *colors;     /* nrows * ncols ANSI codes, 0 = none */
	size_t width;    /* render_table_fit: 0 = never cut */
	bool utf8;
	struct {
		size_t col, min;
		enum render_shrink how;
	} shrink[8];
	size_t nshrink;
};

struct render_table *
render_table_new(size_t ncols, const char *const *headers)
{
	struct render_table *t = xcalloc(1, sizeof(*t));

	t->ncols = ncols;
	t->align = xcalloc(ncols, sizeof(*t->align));
	if (headers != NULL) {
		t->headers = xcalloc(ncols, sizeof(*t->headers));
		for (size_t i = 0; i < ncols; i++) {
			t->headers[i] = xstrdup(headers[i] ? headers[i] : "");
			render_sanitize(t->headers[i]);
		}
	}
	return t;
}

struct render_table *
render_table_free(struct render_table *t)
{
	if (t == NULL)
		return NULL;
	for (size_t i = 0; t->headers != NULL && i < t->ncols; i++)
		free(t->headers[i]);
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->headers);
	free(t->cells);
	free(t->colors);
	free(t->align);
	free(t);
	return NULL;
}

void
render_table_align(struct render_table *t, size_t col, enum render_align align)
{
	if (col < t->ncols)
		t->align[col] = align;
}

void
render_table_row(struct render_table *t)
{
	if (t->nrows == t->cap_rows) {
		t->cap_rows = t->cap_rows ? t->cap_rows * 2 : 16;
		t->cells = xreallocarray(t->cells, t->cap_rows * t->ncols, sizeof(*t->cells));
		t->colors = xreallocarray(t->colors, t->cap_rows * t->ncols, sizeof(*t->colors));
	}
	memset(t->cells + t->nrows * t->ncols, 0, t->ncols * sizeof(*t->cells));
	memset(t->colors + t->nrows * t->ncols, 0, t->ncols * sizeof(*t->colors));
	t->nrows++;
	t->next_col = 0;
}

/* Store an already allocated string as the next cell; takes ownership. */
static void
render_table_put(struct render_table *t, char *text)
{
	if (t->nrows == 0)
		render_table_row(t);
	if (t->next_col >= t->ncols) {
		free(text);
		return;
	}
	if (text != NULL)
		render_sanitize(text);
	t->cells[(t->nrows - 1) * t->ncols + t->next_col++] = text;
}

void
render_table_cell(struct render_table *t, const char *text)
{
	render_table_put(t, xstrdup(text));
}

void
render_table_cellf(struct render_table *t, const char *fmt, ...)
{
	va_list ap;
	char *text;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		render_table_put(t, NULL);
		return;
	}
	text = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(text, (size_t)n + 1, fmt, ap);
	va_end(ap);
	render_table_put(t, text);
}

size_t
render_table_rows(const struct render_table *t)
{
	return t->nrows;
}

void
render_table_color(struct render_table *t, int code)
{
	if (t->nrows > 0 && t->next_col > 0)
		t->colors[(t->nrows - 1) * t->ncols + t->next_col - 1] = code;
}

void
render_table_fit(struct render_table *t, size_t width, bool utf8)
{
	t->width = width;
	t->utf8 = utf8;
}

void
render_table_shrink(struct render_table *t, size_t col, size_t min, enum render_shrink how)
{
	if (col >= t->ncols || t->nshrink == sizeof(t->shrink) / sizeof(t->shrink[0]))
		return;
	t->shrink[t->nshrink].col = col;
	t->shrink[t->nshrink].min = min;
	t->shrink[t->nshrink++].how = how;
}

/* How column c gives up room; -1 when it does not. */
static int
render_table_how(const struct render_table *t, size_t c)
{
	for (size_t i = 0; i < t->nshrink; i++)
		if (t->shrink[i].col == c)
			return (int)t->shrink[i].how;
	return -1;
}

/* The part of a wrapped cell that fits width: up to the last space that
 * fits, else a hard break.  Returns its length in bytes; *next is where
 * the rest starts (spaces skipped). */
static size_t
render_wrap_part(const char *s, size_t width, const char **next)
{
	size_t fit = render_prefix_bytes(s, width), brk = fit;

	if (s[fit] == '\0') {
		*next = s + fit;
		return fit;
	}
	while (brk > 0 && s[brk] != ' ')
		brk--;
	if (brk == 0)
		brk = fit;
	*next = s + brk;
	while (**next == ' ')
		(*next)++;
	return brk;
}

/* The width of a column left out (RENDER_DROP). */
#define RENDER_DROPPED SIZE_MAX

/* One physical line: the cells' texts (already cut) with the widths. */
static void
render_table_emit(const struct render_table *t, const char *const *texts, const int *colors,
                  const size_t *widths, struct buf *out)
{
	size_t last = 0;

	/* Trailing empty cells print nothing, so no line ends in blanks. */
	bool first = true;

	for (size_t c = 0; c < t->ncols; c++)
		if (texts[c] != NULL && texts[c][0] != '\0' && widths[c] != RENDER_DROPPED)
			last = c + 1;
	for (size_t c = 0; c < last; c++) {
		const char *s = texts[c] ? texts[c] : "";
		size_t w = render_width(s), pad = widths[c] > w ? widths[c] - w : 0;

		if (widths[c] == RENDER_DROPPED)
			continue;
		if (!first)
			buf_puts(out, "  ");
		first = false;
		if (t->align[c] == RENDER_RIGHT)
			buf_printf(out, "%*s", (int)pad, "");
		if (colors && colors[c])
			buf_printf(out, "\033[%dm%s\033[0m", colors[c], s);
		else
			buf_puts(out, s);
		if (t->align[c] == RENDER_LEFT && c + 1 < last)
			buf_printf(out, "%*s", (int)pad, "");
	}
	buf_puts(out, "\n");
}

/* Append one row (or the header), cutting and wrapping as the widths say. */
static void
render_table_line(const struct render_table *t, char *const *cells, const int *colors,
                  const size_t *widths, struct buf *out)
{
	char **texts = xcalloc(t->ncols, sizeof(*texts));
	const char **rest = xcalloc(t->ncols, sizeof(*rest));
	bool more = false;

	for (size_t c = 0; c < t->ncols; c++) {
		const char *s = cells[c] ? cells[c] : "";
		int how = render_table_how(t, c);
		if (render_width(s) <= widths[c] || how < 0 || how == RENDER_DROP)
			texts[c] = xstrdup(s);
		else if (how == RENDER_CUT_MIDDLE)
			texts[c] = render_cut_middle(s, widths[c], t->utf8);
		else if (how == RENDER_CUT_END)
			texts[c] = render_cut_end(s, widths[c], t->utf8);
		else
			rest[c] = s;
	}
	do {
		more = false;
		for (size_t c = 0; c < t->ncols; c++) {
			const char *start = rest[c];
			size_t n;
			if (start == NULL)
				continue;
			n = render_wrap_part(start, widths[c], &rest[c]);
			free(texts[c]);
			texts[c] = xstrndup(start, n);
			if (*rest[c] == '\0')
				rest[c] = NULL;
			else
				more = true;
		}
		render_table_emit(t, (const char *const *)texts, colors, widths, out);
		/* Continuation lines hold only what is left of wrapped cells. */
		for (size_t c = 0; more && c < t->ncols; c++) {
			if (rest[c] == NULL) {
				free(texts[c]);
				texts[c] = NULL;
			}
		}
		if (more)
			colors = NULL;
	} while (more);
	for (size_t c = 0; c < t->ncols; c++)
		free(texts[c]);
	free(texts);
	free(rest);
}

/* Natural widths, then the shrinkable columns give up room in turn. */
static void
render_table_widths(const struct render_table *t, size_t *widths)
{
	size_t total = 0;

	for (size_t c = 0; c < t->ncols; c++) {
		if (t->headers != NULL)
			widths[c] = render_width(t->headers[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t w = s ? render_width(s) : 0;
			if (w > widths[c])
				widths[c] = w;
		}
		total += widths[c] + (c > 0 ? 2 : 0);
	}
	for (size_t i = 0; t->width > 0 && i < t->nshrink && total > t->width; i++) {
		size_t c = t->shrink[i].col, min = t->shrink[i].min;
		size_t give;

		if (t->shrink[i].how == RENDER_DROP) {
			total -= widths[c] + 2;
			widths[c] = RENDER_DROPPED;
			continue;
		}
		/* Headers are never cut: they say what the column is. */
		if (t->headers != NULL && render_width(t->headers[c]) > min)
			min = render_width(t->headers[c]);
		give = widths[c] > min ? widths[c] - min : 0;
		if (give > total - t->width)
			give = total - t->width;
		widths[c] -= give;
		total -= give;
	}
}

void
render_table_print(const struct render_table *t, struct buf *out)
{
	size_t *widths = xcalloc(t->ncols, sizeof(*widths));

	render_table_widths(t, widths);
	if (t->headers != NULL)
		render_table_line(t, t->headers, NULL, widths, out);
	for (size_t r = 0; r < t->nrows; r++)
		render_table_line(t, t->cells + r * t->ncols, t->colors + r * t->ncols, widths,
		                  out);
	free(widths);
}

/* ---- the plot ---- */

static const char render_markers[] = "*+ox#@%&";
static const int render_colors[] = {34, 31, 32, 33, 35, 36};

char
render_plot_marker(size_t i)
{
	return render_markers[i % (sizeof(render_markers) - 1)];
}

int
render_plot_color(size_t i)
{
	return render_colors[i % (sizeof(render_colors) / sizeof(render_colors[0]))];
}

/*
 * The raster: pixels of (series index + 1), 0 = empty, row 0 at the top.
 * Each character cell covers sx by sy pixels (1x1, or 2x4 for braille).
 */
struct render_canvas {
	int pw, ph; /* pixels */
	int sx, sy; /* pixels per cell */
	unsigned char *pix;
};

struct render_range {
	double xmin, xmax, ymin, ymax;
};

static void
render_canvas_set(struct render_canvas *cv, int px, int py, unsigned char v)
{
	if (px >= 0 && px < cv->pw && py >= 0 && py < cv->ph)
		cv->pix[(size_t)py * (size_t)cv->pw + (size_t)px] = v;
}

/* Bresenham's line between two pixels, inclusive. */
static void
render_canvas_line(struct render_canvas *cv, int x0, int y0, int x1, int y1, unsigned char v)
{
	int dx = abs(x1 - x0), dy = -abs(y1 - y0);
	int stepx = x0 < x1 ? 1 : -1, stepy = y0 < y1 ? 1 : -1;
	int err = dx + dy;

	for (;;) {
		render_canvas_set(cv, x0, y0, v);
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

/* Map a data point to pixel coordinates (row 0 at the top). */
static void
render_plot_map(const struct render_canvas *cv, const struct render_range *r, double x, double y,
                int *px, int *py)
{
	double fx = r->xmax > r->xmin ? (x - r->xmin) / (r->xmax - r->xmin) : 0.0;
	double fy = (y - r->ymin) / (r->ymax - r->ymin);

	*px = (int)lround(fx * (cv->pw - 1));
	*py = cv->ph - 1 - (int)lround(fy * (cv->ph - 1));
}

/* The data range over every finite point; false when there is none.  A flat
 * curve gets a little room above and below so it sits mid-plot. */
static bool
render_plot_range(const struct render_series *series, size_t nseries, struct render_range *r)
{
	bool any = false;

	for (size_t s = 0; s < nseries; s++) {
		for (size_t i = 0; i < series[s].n; i++) {
			double x = series[s].x[i], y = series[s].y[i];
			if (!isfinite(x) || !isfinite(y))
				continue;
			if (!any) {
				r->xmin = r->xmax = x;
				r->ymin = r->ymax = y;
				any = true;
			}
			r->xmin = fmin(r->xmin, x);
			r->xmax = fmax(r->xmax, x);
			r->ymin = fmin(r->ymin, y);
			r->ymax = fmax(r->ymax, y);
		}
	}
	if (any && !(r->ymax > r->ymin)) {
		double pad = r->ymin == 0 ? 1.0 : fabs(r->ymin) * 0.1;
		r->ymin -= pad;
		r->ymax += pad;
	}
	return any;
}

/* Draw every series; consecutive finite points are joined, NaNs break the
 * line.  Series are drawn in order, so a later one wins shared pixels. */
static void
render_plot_draw(struct render_canvas *cv, const struct render_series *series, size_t nseries,
                 const struct render_range *r)
{
	for (size_t s = 0; s < nseries; s++) {
		unsigned char v = (unsigned char)(s % 255 + 1);
		int lx = 0, ly = 0;
		bool have_last = false;

		for (size_t i = 0; i < series[s].n; i++) {
			double x = series[s].x[i], y = series[s].y[i];
			int px, py;

			if (!isfinite(x) || !isfinite(y)) {
				have_last = false;
				continue;
			}
			render_plot_map(cv, r, x, y, &px, &py);
			if (have_last)
				render_canvas_line(cv, lx, ly, px, py, v);
			else
				render_canvas_set(cv, px, py, v);
			lx = px;
			ly = py;
			have_last = true;
		}
	}
}

/* The owner (series index + 1, 0 = empty) and braille dot mask of a cell. */
static unsigned
render_plot_cell(const struct render_canvas *cv, int col, int row, unsigned *dots)
{
	/* Braille dot bits by (x, y) inside the 2x4 cell, per Unicode. */
	static const unsigned bits[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}};
	unsigned owner = 0;

	*dots = 0;
	for (int y = 0; y < cv->sy; y++) {
		for (int x = 0; x < cv->sx; x++) {
			size_t at = (size_t)(row * cv->sy + y) * (size_t)cv->pw +
			            (size_t)(col * cv->sx + x);
			unsigned v = cv->pix[at];
			if (v == 0)
				continue;
			if (cv->sy == 4)
				*dots |= bits[y][x];
			if (v > owner)
				owner = v;
		}
	}
	return owner;
}

/* Append one plot row: the cells only, trimmed, with colour runs. */
static void
render_plot_row(const struct render_canvas *cv, int row, int cols, bool color, struct buf *out)
{
	unsigned cur = 0;
	int last = -1;
	unsigned dots;

	for (int c = 0; c < cols; c++)
		if (render_plot_cell(cv, c, row, &dots) != 0)
			last = c;
	for (int c = 0; c <= last; c++) {
		unsigned owner = render_plot_cell(cv, c, row, &dots);

		if (color && owner != 0 && owner != cur) {
			buf_printf(out, "\033[%dm", render_plot_color(owner - 1));
			cur = owner;
		} else if (color && owner == 0 && cur != 0) {
			buf_puts(out, "\033[0m");
			cur = 0;
		}
		if (owner == 0) {
			buf_puts(out, " ");
		} else if (cv->sy == 4) {
			/* U+2800 + dots, as three UTF-8 bytes. */
			unsigned cp = 0x2800 + dots;
			char u[4] = {(char)(0xe0 | (cp >> 12)), (char)(0x80 | ((cp >> 6) & 0x3f)),
			             (char)(0x80 | (cp & 0x3f)), 0};
			buf_puts(out, u);
		} else {
			buf_printf(out, "%c", render_plot_marker(owner - 1));
		}
	}
	if (cur != 0)
		buf_puts(out, "\033[0m");
}

/* An x-axis label: steps are integers, anything else goes through %.4g. */
static void
render_plot_xlabel(double x, char *buf, size_t size)
{
	if (x == floor(x) && fabs(x) < 1e15)
		snprintf(buf, size, "%.0f", x);
	else
		render_number(x, buf, size);
}

/* The two axis lines under the plot: the rule, then min/mid/max labels. */
static void
render_plot_xaxis(const struct render_range *r, int labw, int cols, bool braille, struct buf *out)
{
	char lo[32], mid[32], hi[32];
	char *line = xmalloc((size_t)cols + 1);
	size_t nlo, nmid, nhi;

	buf_printf(out, "%*s %s", labw, "", braille ? "└" : "+");
	for (int c = 0; c < cols; c++)
		buf_puts(out, braille ? "─" : "-");
	buf_puts(out, "\n");

	render_plot_xlabel(r->xmin, lo, sizeof(lo));
	render_plot_xlabel(r->xmax, hi, sizeof(hi));
	render_plot_xlabel((r->xmin + r->xmax) / 2, mid, sizeof(mid));
	nlo = strlen(lo);
	nhi = strlen(hi);
	nmid = strlen(mid);
	memset(line, ' ', (size_t)cols);
	line[cols] = '\0';
	if (nlo < (size_t)cols)
		memcpy(line, lo, nlo);
	if (r->xmax > r->xmin && nlo + nhi + 1 < (size_t)cols) {
		memcpy(line + cols - nhi, hi, nhi);
		/* The middle label only when it keeps a gap on both sides. */
		size_t at = ((size_t)cols - nmid) / 2;
		if (at > nlo + 1 && at + nmid + 1 < (size_t)cols - nhi)
			memcpy(line + at, mid, nmid);
	}
	for (int c = cols - 1; c >= 0 && line[c] == ' '; c--)
		line[c] = '\0';
	buf_printf(out, "%*s  %s\n", labw, "", line);
	free(line);
}

/* One legend line per series: marker, name, last value, NaN count. */
static void
render_plot_legend(const struct render_series *series, size_t nseries,
                   const struct render_plot_opts *o, struct buf *out)
{
	for (size_t s = 0; s < nseries; s++) {
		size_t finite = 0, nans = 0;
		double last = NAN;
		char num[32];
		char *name = xstrdup(series[s].name ? series[s].name : "");

		for (size_t i = 0; i < series[s].n; i++) {
			if (isfinite(series[s].y[i]) && isfinite(series[s].x[i])) {
				finite++;
				last = series[s].y[i];
			} else {
				nans++;
			}
		}
		buf_puts(out, "  ");
		if (o->color)
			buf_printf(out, "\033[%dm", render_plot_color(s));
		if (o->braille)
			buf_puts(out, "⣿");
		else
			buf_printf(out, "%c", render_plot_marker(s));
		if (o->color)
			buf_puts(out, "\033[0m");
		render_sanitize(name);
		buf_printf(out, " %s  %zu point%s", name, finite, finite == 1 ? "" : "s");
		free(name);
		if (finite > 0)
			buf_printf(out, ", last %s", render_number(last, num, sizeof(num)));
		if (nans > 0)
			buf_printf(out, ", %zu NaN", nans);
		buf_puts(out, "\n");
	}
}

int
render_plot(const struct render_series *series, size_t nseries, const struct render_plot_opts *o,
            struct buf *out)
{
	struct render_range r = {0};
	struct render_canvas cv;
	char top[32], mid[32], bot[32];
	int labw, cols, midrow;

	if (o->width < 20 || o->height < 2 || o->height > 1000 || o->width > 10000)
		return -EINVAL;
	if (!render_plot_range(series, nseries, &r))
		return -ENODATA;

	render_number(r.ymax, top, sizeof(top));
	render_number(r.ymin, bot, sizeof(bot));
	render_number((r.ymin + r.ymax) / 2, mid, sizeof(mid));
	midrow = o->height >= 5 ? (o->height - 1) / 2 : -1;
	labw = (int)strlen(top);
	labw = (int)strlen(bot) > labw ? (int)strlen(bot) : labw;
	if (midrow >= 0)
		labw = (int)strlen(mid) > labw ? (int)strlen(mid) : labw;
	/* Label, one space, the axis, then the plot columns. */
	cols = o->width - labw - 2;

	cv.sx = o->braille ? 2 : 1;
	cv.sy = o->braille ? 4 : 1;
	cv.pw = cols * cv.sx;
	cv.ph = o->height * cv.sy;
	cv.pix = xcalloc((size_t)cv.pw * (size_t)cv.ph, 1);
	render_plot_draw(&cv, series, nseries, &r);

	for (int row = 0; row < o->height; row++) {
		const char *label = row == 0               ? top
		                    : row == o->height - 1 ? bot
		                    : row == midrow        ? mid
		                                           : "";
		buf_printf(out, "%*s %s", labw, label, o->braille ? "│" : "|");
		render_plot_row(&cv, row, cols, o->color, out);
		buf_puts(out, "\n");
	}
	render_plot_xaxis(&r, labw, cols, o->braille, out);
	render_plot_legend(series, nseries, o, out);
	free(cv.pix);
	return 0;
}
