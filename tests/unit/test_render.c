/*
 * test_render: the pure formatting helpers of ftmonctl.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "render.h"
#include "tap.h"

/* Line n (0-based) of text, copied into line (without the newline). */
static const char *
test_line(const char *text, int n, char *line, size_t size)
{
	const char *p = text;

	for (int i = 0; i < n && p != NULL; i++) {
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	if (p == NULL || *p == '\0')
		return NULL;
	size_t len = strcspn(p, "\n");
	if (len >= size)
		len = size - 1;
	memcpy(line, p, len);
	line[len] = '\0';
	return line;
}

static int
test_count_lines(const char *text)
{
	int n = 0;
	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static void
test_width_and_sanitize(void)
{
	char s[64];

	is_int(render_width(""), 0, "width of empty string");
	is_int(render_width("abc"), 3, "width of ASCII");
	is_int(render_width("héllo"), 5, "width counts code points, not bytes");
	is_int(render_width("ステップ"), 4, "width of CJK as one column each");

	strcpy(s, "a\tb\nc\033[2Jd");
	render_sanitize(s);
	is_str(s, "a b c?[2Jd", "tabs and newlines become spaces, ESC becomes ?");
	strcpy(s, "x\xc2\x9b"
	          "31my");
	render_sanitize(s);
	is_str(s, "x?31my", "UTF-8 C1 CSI is neutralised");
	strcpy(s, "caf\xc3\xa9");
	render_sanitize(s);
	is_str(s, "caf\xc3\xa9", "ordinary UTF-8 is kept");
}

static void
test_numbers(void)
{
	char b[32];

	is_str(render_number(1.93, b, sizeof(b)), "1.93", "plain number");
	is_str(render_number(0.123456, b, sizeof(b)), "0.1235", "four significant digits");
	is_str(render_number(1234567, b, sizeof(b)), "1.235e+06", "large number");
	is_str(render_number(NAN, b, sizeof(b)), "nan", "NaN");
	is_str(render_number(-INFINITY, b, sizeof(b)), "-inf", "-inf");
	is_str(render_number(-0.0, b, sizeof(b)), "0", "negative zero prints as 0");

	is_str(render_bytes(512, b, sizeof(b)), "512 B", "bytes");
	is_str(render_bytes(1536, b, sizeof(b)), "1.5 KiB", "KiB");
	is_str(render_bytes(50u * 1024 * 1024, b, sizeof(b)), "50 MiB", "MiB");

	is_str(render_duration(0, b, sizeof(b)), "0s", "zero duration");
	is_str(render_duration(45, b, sizeof(b)), "45s", "seconds");
	is_str(render_duration(200, b, sizeof(b)), "3m 20s", "minutes and seconds");
	is_str(render_duration(3600, b, sizeof(b)), "1h", "whole hour");
	is_str(render_duration(2 * 86400 + 4 * 3600 + 59, b, sizeof(b)), "2d 4h", "days and hours");
}

static void
test_reltime(void)
{
	char b[32];
	int64_t now = 1764140846;

	is_str(render_reltime(now, now, b, sizeof(b)), "just now", "same second");
	is_str(render_reltime(now - 12, now, b, sizeof(b)), "12s ago", "seconds ago");
	is_str(render_reltime(now - 59, now, b, sizeof(b)), "59s ago", "59 seconds");
	is_str(render_reltime(now - 60, now, b, sizeof(b)), "1m ago", "one minute");
	is_str(render_reltime(now - 3599, now, b, sizeof(b)), "59m ago", "just under an hour");
	is_str(render_reltime(now - 3 * 3600 - 5, now, b, sizeof(b)), "3h ago", "hours");
	is_str(render_reltime(now - 2 * 86400, now, b, sizeof(b)), "2d ago", "days");
	is_str(render_reltime(now + 90, now, b, sizeof(b)), "in 1m", "future time");
}

static void
test_table(void)
{
	static const char *const hdr[] = {"NAME", "STEP", "LOSS"};
	struct render_table *t = render_table_new(3, hdr);
	struct buf out = BUF_INIT;

	render_table_align(t, 1, RENDER_RIGHT);
	render_table_row(t);
	render_table_cell(t, "openai/ftjob-abc");
	render_table_cellf(t, "%d/%d", 10, 100);
	render_table_cell(t, "1.93");
	render_table_row(t);
	render_table_cell(t, "lab/rün");
	render_table_cellf(t, "%d", 7);
	render_table_cell(t, NULL);
	is_int(render_table_rows(t), 2, "two rows");
	render_table_print(t, &out);
	is_str(out.data,
	       "NAME                STEP  LOSS\n"
	       "openai/ftjob-abc  10/100  1.93\n"
	       "lab/rün                7\n",
	       "columns aligned, right-aligned numbers, UTF-8 width, no trailing blanks");
	t = render_table_free(t);
	ok(t == NULL, "free returns NULL");
	buf_free(&out);

	/* No headers, extra cells dropped, control characters neutralised. */
	t = render_table_new(2, NULL);
	render_table_cell(t, "key:");
	render_table_cell(t, "line1\nline2");
	render_table_cell(t, "dropped");
	render_table_row(t);
	render_table_cell(t, "longer key:");
	render_table_cell(t, "v");
	render_table_print(t, &out);
	is_str(out.data,
	       "key:         line1 line2\n"
	       "longer key:  v\n",
	       "header-less key/value table");
	render_table_free(t);
	render_table_free(NULL);
	buf_free(&out);
}

static void
test_plot_line(void)
{
	double x[] = {0, 5, 10}, y[] = {0, 0.5, 1};
	struct render_series s = {"loss", x, y, 3};
	struct render_plot_opts o = {.width = 40, .height = 10};
	struct buf out = BUF_INIT;
	char line[256];
	int rc;

	rc = render_plot(&s, 1, &o, &out);
	is_int(rc, 0, "plot a straight line");
	/* 10 plot rows, axis, x labels, one legend line. */
	is_int(test_count_lines(out.data), 13, "plot has height + 3 lines");
	/* Labels "1", "0.5", "0": width 3, so the plot starts at column 5. */
	test_line(out.data, 0, line, sizeof(line));
	is_int((int)strlen(line), 40, "top row reaches the right edge");
	ok(line[39] == '*' && line[4] == '|', "top-right corner is the last point");
	ok(strncmp(line, "  1 |", 5) == 0, "top row is labelled with the maximum");
	test_line(out.data, 9, line, sizeof(line));
	ok(strncmp(line, "  0 |*", 6) == 0, "bottom-left corner is the first point");
	is_int((int)strlen(line), 7, "the line leaves the bottom row after two cells");
	test_line(out.data, 4, line, sizeof(line));
	ok(strncmp(line, "0.5 |", 5) == 0, "middle row is labelled with the midpoint");
	test_line(out.data, 10, line, sizeof(line));
	is_str(line, "    +-----------------------------------", "x axis rule");
	test_line(out.data, 11, line, sizeof(line));
	is_str(line, "     0                5               10", "x labels: min, mid, max");
	test_line(out.data, 12, line, sizeof(line));
	is_str(line, "  * loss  3 points, last 1", "legend");
	ok(strchr(out.data, '\033') == NULL, "no escapes without colour");

	/* Every plot line must fit the requested width. */
	int maxw = 0;
	for (int i = 0; test_line(out.data, i, line, sizeof(line)); i++)
		if ((int)render_width(line) > maxw)
			maxw = (int)render_width(line);
	ok(maxw <= 40, "no line wider than the width (%d)", maxw);
	buf_free(&out);
}

static void
test_plot_braille(void)
{
	double x[] = {0, 10}, y[] = {0, 1};
	struct render_series s = {"loss", x, y, 2};
	struct render_plot_opts o = {.width = 20, .height = 2, .braille = true, .color = true};
	struct buf out = BUF_INIT;
	char line[256];

	is_int(render_plot(&s, 1, &o, &out), 0, "braille plot");
	test_line(out.data, 0, line, sizeof(line));
	/* Top row: the last cell holds the top dots (1 and 4, U+2809). */
	size_t len = strlen(line);
	ok(len > 7 && strcmp(line + len - 7, "\xe2\xa0\x89\033[0m") == 0,
	   "top-right braille dot, colour reset at the end");
	ok(strstr(line, "\033[34m") != NULL, "first series is blue");
	test_line(out.data, 1, line, sizeof(line));
	/* Bottom row: first cell holds the bottom dots (7 and 8, U+28C0). */
	ok(strstr(line, "│\033[34m\xe2\xa3\x80") != NULL, "bottom-left braille dots");
	buf_free(&out);
}

static void
test_plot_nan(void)
{
	double x[] = {0, 1, 2, 3, 4}, y[] = {1, NAN, 3, NAN, 1};
	double x2[] = {0, 4}, y2[] = {NAN, NAN};
	struct render_series s[] = {{"train_loss", x, y, 5}, {"valid_loss", x2, y2, 2}};
	struct render_plot_opts o = {.width = 24, .height = 3};
	struct buf out = BUF_INIT;
	char line[256];

	is_int(render_plot(s, 2, &o, &out), 0, "plot with NaN points");
	/* Rows: y=3 at top, 2 in the middle (unlabelled: too few rows), 1 at
	 * the bottom; x 0..4 maps to columns 0, 5, 10, 15, 20 of 21.  The NaN at x=1 breaks the
	 * line, so nothing joins x=0 to x=2. */
	test_line(out.data, 0, line, sizeof(line));
	is_str(line, "3 |          *", "peak at x=2 only");
	test_line(out.data, 1, line, sizeof(line));
	is_str(line, "  |", "no segment across the NaN gaps");
	test_line(out.data, 2, line, sizeof(line));
	is_str(line, "1 |*                   *", "ends at both sides");
	test_line(out.data, 5, line, sizeof(line));
	is_str(line, "  * train_loss  3 points, last 1, 2 NaN", "NaNs counted in the legend");
	test_line(out.data, 6, line, sizeof(line));
	is_str(line, "  + valid_loss  0 points, 2 NaN", "all-NaN series in the legend");
	buf_free(&out);

	is_int(render_plot(&s[1], 1, &o, &out), -ENODATA, "only NaN: nothing to plot");
	is_int((int)out.len, 0, "nothing appended");
	o.width = 10;
	is_int(render_plot(s, 1, &o, &out), -EINVAL, "too narrow");
	buf_free(&out);
}

static void
test_plot_flat(void)
{
	double x[] = {5, 6, 7}, y[] = {2, 2, 2};
	struct render_series s = {"acc", x, y, 3};
	struct render_plot_opts o = {.width = 30, .height = 5};
	struct buf out = BUF_INIT;
	char line[256];

	is_int(render_plot(&s, 1, &o, &out), 0, "flat curve");
	test_line(out.data, 2, line, sizeof(line));
	ok(strncmp(line, "  2 |***", 8) == 0, "flat curve drawn on the middle row");
	test_line(out.data, 0, line, sizeof(line));
	is_str(line, "2.2 |", "range padded above");
	buf_free(&out);
}

/* The raw span of key in text, or "(none)". */
static const char *
test_member(const char *text, const char *key)
{
	static char out[256];
	size_t off, n;

	if (!render_json_member(text, strlen(text), key, &off, &n))
		return "(none)";
	snprintf(out, sizeof(out), "%.*s", (int)n, text + off);
	return out;
}

static void
test_json_member(void)
{
	const char *r = "{\"id\":1,\"ok\":true,\"result\":{\"loss\":[[20,2.0]]}}";

	is_str(test_member(r, "result"), "{\"loss\":[[20,2.0]]}", "object value kept verbatim");
	is_str(test_member(r, "ok"), "true", "scalar value");
	is_str(test_member(r, "id"), "1", "first member");
	is_str(test_member(r, "error"), "(none)", "absent member");
	is_str(test_member(" { \"a\" : \"x}\\\"]\" , \"result\" : [ \"]\" , {\"b\":\"}\"} ] } ",
	                   "result"),
	       "[ \"]\" , {\"b\":\"}\"} ]", "brackets and escapes inside strings");
	is_str(test_member("{\"x\":{\"result\":1},\"result\":2.50}", "result"), "2.50",
	       "only top-level members match");
	is_str(test_member("[1]", "result"), "(none)", "not an object");
	is_str(test_member("{\"result\":", "result"), "(none)", "truncated text");
}

/* Cutting and wrapping cells to fit a width. */
static void
test_table_fit(void)
{
	static const char *const hdr[] = {"NAME", "STATUS", "MESSAGE"};
	struct render_table *t = render_table_new(3, hdr);
	struct buf out = BUF_INIT;
	char *c;

	c = render_cut_middle("abcdefghij", 5, false);
	is_str(c, "ab~ij", "cut in the middle keeps both ends");
	free(c);
	c = render_cut_middle("r\xc3\xbc"
	                      "ckenwind",
	                      6, true);
	is_str(c, "r\xc3\xbc\xe2\x80\xa6ind", "by code points, with an ellipsis in UTF-8");
	free(c);
	c = render_cut_middle("short", 10, false);
	is_str(c, "short", "what fits is unchanged");
	free(c);
	c = render_cut_end("abcdefghij", 4, false);
	is_str(c, "abc~", "cut at the end");
	free(c);
	render_table_cell(t, "a-very-long-job-name");
	render_table_cell(t, "running");
	render_table_cell(t, "one two three four");
	render_table_fit(t, 30, false);
	render_table_shrink(t, 2, 6, RENDER_WRAP);
	render_table_shrink(t, 0, 8, RENDER_CUT_MIDDLE);
	render_table_print(t, &out);
	is_str(out.data,
	       "NAME          STATUS   MESSAGE\n"
	       "a-ver~b-name  running  one two\n"
	       "                       three\n"
	       "                       four\n",
	       "the message wraps down to its header's width, then the name is cut; the status stays");
	buf_reset(&out);
	render_table_fit(t, 0, false);
	render_table_print(t, &out);
	is_str(out.data,
	       "NAME                  STATUS   MESSAGE\n"
	       "a-very-long-job-name  running  one two three four\n",
	       "width 0 never cuts");
	buf_reset(&out);
	render_table_fit(t, 100, false);
	render_table_color(t, 31);
	render_table_print(t, &out);
	is_str(out.data,
	       "NAME                  STATUS   MESSAGE\n"
	       "a-very-long-job-name  running  \033[31mone two three four\033[0m\n",
	       "a coloured cell: escapes do not count as width");
	render_table_free(t);
	buf_free(&out);
}

int
main(void)
{
	test_json_member();
	test_width_and_sanitize();
	test_numbers();
	test_reltime();
	test_table();
	test_table_fit();
	test_plot_line();
	test_plot_braille();
	test_plot_nan();
	test_plot_flat();
	return tap_done();
}
