/*
 * render: tables, numbers and times for ftmonctl.
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
