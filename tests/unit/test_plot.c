/*
 * test_plot: the terminal plot and its axis ticks, as golden text.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "axis.h"
#include "buf.h"
#include "plot.h"
#include "render.h"
#include "tap.h"
#include "xmalloc.h"
#include "testjson.h"

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

/* Columns line fills on a terminal: code points, ANSI escapes not counted. */
static int
test_visible_width(const char *line)
{
	int w = 0;

	for (const char *p = line; *p; p++) {
		if (*p == '\033') {
			while (*p && *p != 'm')
				p++;
			if (!*p)
				break;
			continue;
		}
		w += ((unsigned char)*p & 0xc0) != 0x80;
	}
	return w;
}

static void
test_axis(void)
{
	struct axis a;
	char b[64];

	axis_ticks(0, 237, 6, 1, &a);
	ok(a.lo == 0 && a.hi == 250 && a.step == 50 && a.nticks == 6, "axis: 0..237 by 50 to 250");
	axis_ticks(0.13, 2.71, 5, 0, &a);
	ok(a.lo == 0 && a.hi == 3 && a.step == 1, "axis: 0.13..2.71 by 1");
	axis_ticks(0.31, 0.36, 5, 0, &a);
	ok(fabs(a.step - 0.02) < 1e-12 && a.decimals == 2, "axis: a narrow range steps by 0.02");
	is_str(axis_label(&a, axis_tick(&a, 1), b, sizeof(b)), "0.32", "axis: tick 1 is 0.32");
	axis_ticks(0, 3, 10, 1, &a);
	ok(a.step == 1 && a.decimals == 0, "axis: a step axis never steps by less than 1");
	axis_ticks(-7, -7, 4, 0, &a);
	ok(a.lo < -7 && a.hi > -7, "axis: a flat value gets room on both sides");
	axis_ticks(-0.3, 0.3, 3, 0, &a);
	is_str(axis_label(&a, axis_tick(&a, 1), b, sizeof(b)), "0.0", "axis: no -0");
	axis_ticks(0, 4e7, 4, 1, &a);
	is_str(axis_label(&a, a.hi, b, sizeof(b)), "4e+07", "axis: huge labels as %%g");
	is_str(axis_label_pow10(-2, b, sizeof(b)), "0.01", "axis: 10^-2");
	is_str(axis_label_pow10(3, b, sizeof(b)), "1000", "axis: 10^3");
	is_str(axis_label_pow10(-7, b, sizeof(b)), "1e-7", "axis: 10^-7");
}

static void
test_ascii_line(void)
{
	double x[] = {0, 5, 10}, y[] = {0, 0.5, 1};
	struct plot_series s = {"loss", x, y, 3, 0};
	struct plot_opts o = {.width = 40, .height = 10};
	struct buf out = BUF_INIT;

	is_int(plot_render(&s, 1, &o, &out), 0, "ascii: a straight line");
	test_golden(&out,
	            "1.0 +                                ***\n"
	            "    |                            ****\n"
	            "    |                        ****\n"
	            "    |                    ****\n"
	            "0.5 +                ****\n"
	            "    |            ****\n"
	            "    |         ***\n"
	            "    |      ***\n"
	            "    |  ****\n"
	            "0.0 +**\n"
	            "    ++----------------+----------------+\n"
	            "     0                5               10\n"
	            "  * loss  3 points, last 1\n",
	            "ascii: round ticks on both axes, the line corner to corner, legend");
	buf_free(&out);
}

static void
test_panels(void)
{
	double x[] = {0, 10, 20, 30, 40}, a[] = {3, 2, 1.5, 1.2, 1}, b[] = {3, 2.5, 2, NAN, 2.2};
	struct plot_series s[2] = {{"train_loss", x, a, 5, 0}, {"valid_loss", x, b, 5, 0}};
	struct plot_opts o = {.width = 30, .height = 4};
	struct buf out = BUF_INIT;

	is_int(plot_render(s, 2, &o, &out), 0, "panels: two series without colour");
	/* Both start at (0, 3): in one chart one would hide the other there. */
	test_golden(&out,
	            "   * train_loss\n"
	            "4 +****\n"
	            "2 +    ***********************\n"
	            "0 +\n"
	            "   + valid_loss\n"
	            "3 +++++\n"
	            "  |    ++++++\n"
	            "2 +          ++++            +\n"
	            "  ++------------+------------+\n"
	            "   0            20          40\n"
	            "  * train_loss  5 points, last\n"
	            "  + valid_loss  5 points, 4 dr\n",
	            "panels: one per series over a shared x axis, the NaN breaks the line");
	o.braille = true;
	is_int(plot_render(s, 2, &o, &out), 0, "panels: braille");
	ok(strstr(out.data, "   ⣿ train_loss\n") && strstr(out.data, "   ⣿ valid_loss\n") &&
	           strstr(out.data, "└┬") && strstr(out.data, "┤"),
	   "panels: braille titles and box-drawing axes");
	buf_free(&out);
}

static void
test_color(void)
{
	double x[] = {0, 10}, a[] = {0, 1}, b[] = {0, 1};
	struct plot_series s[2] = {{"train_loss", x, a, 2, 0}, {"valid_loss", x, b, 2, 0}};
	struct plot_opts o = {.width = 20, .height = 2, .braille = true, .color = true};
	struct buf out = BUF_INIT;
	char line[256];

	is_int(plot_render(s, 2, &o, &out), 0, "colour: two identical curves in one chart");
	test_line(out.data, 0, line, sizeof(line));
	/* Top row: the last cell holds the top dots (1 and 4, U+2809); a tie
	 * goes to the later series (red). */
	size_t len = strlen(line);
	ok(len > 7 && strcmp(line + len - 7, "\xe2\xa0\x89\033[0m") == 0,
	   "colour: top-right braille dot, colour reset at the end");
	ok(strstr(line, "\033[31m") != NULL, "colour: the tie goes to the later series");
	ok(strstr(out.data, "\033[34m⣿\033[0m train_loss") &&
	           strstr(out.data, "\033[31m⣿\033[0m valid_loss"),
	   "colour: the legend names each colour");
	buf_free(&out);

	/* Where most dots are one series', the cell is that series' colour. */
	double y3[] = {0.5, 0.5};
	struct plot_series t[2] = {{"flat", x, y3, 2, 0}, {"up", x, a, 2, 0}};
	o.height = 3;
	is_int(plot_render(t, 2, &o, &out), 0, "colour: a flat and a rising curve");
	test_line(out.data, 1, line, sizeof(line));
	ok(strstr(line, "\033[34m") != NULL, "colour: the flat curve keeps its row's colour");
	buf_free(&out);
}

static void
test_log(void)
{
	double x[] = {1, 2, 3, 4, 5}, y[] = {100, 10, 0, 0.1, 0.01}, z[] = {0, -1, 0, -2, 0};
	struct plot_series s = {"lr", x, y, 5, 0}, neg = {"neg", x, z, 5, 0};
	struct plot_opts o = {.width = 24, .height = 5, .log = true};
	struct buf out = BUF_INIT;

	is_int(plot_render(&s, 1, &o, &out), 0, "log: drawn");
	test_golden(&out,
	            " 100 +   **\n"
	            "  10 +     ***\n"
	            "   1 +\n"
	            " 0.1 +              **\n"
	            "0.01 +                **\n"
	            "     ++----------------+\n"
	            "      0                5\n"
	            "  y: log scale\n"
	            "  * lr  5 points, 4 draw\n",
	            "log: a decade per row, the zero skipped and the line broken there");
	o.width = 60;
	plot_render(&s, 1, &o, &out);
	ok(strstr(out.data, "  * lr  5 points, 4 drawn, last 0.01, 1 <= 0 skipped\n") != NULL,
	   "log: the legend counts the value <= 0 it skipped");
	buf_reset(&out);
	is_int(plot_render(&neg, 1, &o, &out), -ENODATA, "log: nothing positive, nothing drawn");
	is_int((int)out.len, 0, "log: nothing appended then");
	buf_free(&out);
}

/* A long decaying curve, 240 points of which 160 reached the client. */
static void
test_downsampled_and_widths(void)
{
	static double x[240], y[240];
	struct plot_series s[2] = {
	        {"train_loss", x, y, 240, 0},
	        {"a_very_long_metric_name_that_does_not_fit_anywhere", x, y, 160, 240}};
	struct buf out = BUF_INIT;
	char line[1024];
	const int widths[] = {20, 60, 80, 200};
	int fits = 1;

	for (int i = 0; i < 240; i++) {
		x[i] = i;
		y[i] = 2.5 * exp(-i / 60.0) + 0.3;
	}
	for (size_t w = 0; w < 4; w++) {
		for (int color = 0; color < 2; color++) {
			struct plot_opts o = {
			        .width = widths[w], .height = 6, .braille = color, .color = color};
			is_int(plot_render(s, 2, &o, &out), 0, "width %d colour %d: drawn",
			       widths[w], color);
			for (int i = 0; test_line(out.data, i, line, sizeof(line)); i++)
				if (test_visible_width(line) > widths[w]) {
					TAP_DIAG("too wide: |%s|", line);
					fits = 0;
				}
			if (w == 3)
				ok(strstr(out.data, "240 points, 160 drawn") != NULL,
				   "legend says the series was downsampled (colour %d)", color);
			buf_reset(&out);
		}
	}
	ok(fits, "every line fits its width: 20, 60, 80, 200 columns");
	buf_free(&out);
}

/* Whether v is k * 1, 2 or 5 * 10^e (a round tick). */
static bool
test_round(double v, double step)
{
	double m = step / pow(10, floor(log10(step) + 1e-9));
	double k = v / step;

	return (fabs(m - 1) < 1e-6 || fabs(m - 2) < 1e-6 || fabs(m - 5) < 1e-6) &&
	       fabs(k - round(k)) < 1e-6;
}

/* Over many ranges the y labels are multiples of one round step and the
 * x labels are whole steps. */
static void
test_round_ticks(void)
{
	struct buf out = BUF_INIT;
	double x[3], y[3];
	struct plot_series s = {"m", x, y, 3, 0};
	struct plot_opts o = {.width = 60, .height = 12};
	int round_y = 1, int_x = 1, labelled = 1;
	char line[256];

	for (int r = 0; r < 300; r++) {
		x[0] = r * 3;
		x[1] = x[0] + 1 + r % 7;
		x[2] = x[1] + 1 + (r * 37) % 901;
		y[0] = (r % 13) * 0.37 - 1.1;
		y[1] = y[0] + 0.001 * (1 + r % 17) * pow(10, r % 5);
		y[2] = y[0] / 3;
		plot_render(&s, 1, &o, &out);
		double first = NAN, step = NAN;
		int nlab = 0;
		for (int i = 0; i < o.height; i++) {
			test_line(out.data, i, line, sizeof(line));
			char *end;
			double v = strtod(line, &end);
			if (end == line)
				continue;
			if (nlab++ == 0)
				first = v;
			else if (nlab == 2)
				step = first - v;
			if (nlab >= 2 && !test_round(v, step))
				round_y = 0;
		}
		labelled &= nlab >= 2;
		test_line(out.data, o.height + 1, line, sizeof(line));
		for (char *p = line; *p; p++)
			if (*p == '.')
				int_x = 0;
		buf_reset(&out);
	}
	ok(labelled, "ticks: at least two y labels on every chart");
	ok(round_y, "ticks: y labels are multiples of a 1/2/5 x 10^k step");
	ok(int_x, "ticks: x labels are whole steps");
	buf_free(&out);
}

static void
test_limits(void)
{
	double x[] = {0, 1}, y[] = {NAN, NAN};
	struct plot_series s = {"nan", x, y, 2, 0};
	struct plot_opts o = {.width = 40, .height = 5};
	struct buf out = BUF_INIT;

	is_int(plot_render(&s, 1, &o, &out), -ENODATA, "only NaN: nothing to plot");
	is_int((int)out.len, 0, "nothing appended");
	o.width = PLOT_MIN_WIDTH - 1;
	is_int(plot_render(&s, 1, &o, &out), -EINVAL, "too narrow");
	o.width = 40;
	o.height = PLOT_MIN_HEIGHT - 1;
	is_int(plot_render(&s, 1, &o, &out), -EINVAL, "too low");
	double big[] = {-9999999, -9999999 + 2e-6};
	struct plot_series b = {"big", x, big, 2, 0};
	o.width = PLOT_MIN_WIDTH;
	o.height = 5;
	is_int(plot_render(&b, 1, &o, &out), -EINVAL, "labels leaving no room to plot");
	is_int((int)out.len, 0, "nothing appended then");
	buf_free(&out);
}

int
main(void)
{
	test_axis();
	test_ascii_line();
	test_panels();
	test_color();
	test_log();
	test_downsampled_and_widths();
	test_round_ticks();
	test_limits();
	return tap_done();
}
