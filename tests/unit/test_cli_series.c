/*
 * test_cli_series: a metrics reply as series: the table, long CSV, which
 * curves a plot picks, how it draws several, and the JSON of what it draws.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "cli_series.h"
#include "tap.h"
#include "xmalloc.h"
#include "testjson.h"

static void
test_series(void)
{
	struct buf out = BUF_INIT;
	cJSON *r = test_json("{'train_loss': [[10, 1.9], [0, 2.5], [20, 1.4], [30, null]],"
	                     " 'valid_loss': [[0, 2.6], [20, 0.1234567890123]],"
	                     " 'a,\\'b': [[1.5, 2e-300]]}");
	cJSON *totals = test_json("{'train_loss': 400, 'valid_loss': 1}");
	struct cli_series *s;
	size_t n;

	ok(cli_series_load(r, totals, &s, &n) == 0 && n == 3, "series: three loaded");
	is_int(cli_series_points(s, n), 7, "series: seven points");
	is_int((int)s[0].total, 400, "series: the daemon's total is kept");
	is_int((int)s[1].total, 2, "series: a total below the points received is ignored");
	is_int((int)s[2].total, 1, "series: no total means the points received");
	cli_series_table(s, n, &out);
	test_golden(&out,
	            "STEP  train_loss  valid_loss    a,\"b\n"
	            "   0         2.5         2.6\n"
	            " 1.5                          2e-300\n"
	            "  10         1.9\n"
	            "  20         1.4      0.1235\n"
	            "  30         nan\n",
	            "metrics table: union of steps, blanks, nan");
	cli_series_csv(s, n, &out);
	test_golden(&out,
	            "step,metric,value\n"
	            "0,train_loss,2.5\n"
	            "10,train_loss,1.9\n"
	            "20,train_loss,1.4\n"
	            "30,train_loss,nan\n"
	            "0,valid_loss,2.6\n"
	            "20,valid_loss,0.1234567890123\n"
	            "1.5,\"a,\"\"b\",2e-300\n",
	            "metrics CSV: step,metric,value rows, RFC 4180 quoted name, exact values");
	cli_series_free(s, n);
	cJSON_Delete(r);
	cJSON_Delete(totals);
	r = test_json("{'x': [[1, 'a']]}");
	is_int(cli_series_load(r, NULL, &s, &n), -EINVAL, "series: a string value is refused");
	ok(s == NULL, "series: nothing returned then");
	cJSON_Delete(r);
	buf_free(&out);
}

/* Whether text holds a braille cell (U+2800..U+28FF: E2 A0..A3 xx). */
static bool
test_has_braille(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; p[0] && p[1]; p++)
		if (p[0] == 0xe2 && p[1] >= 0xa0 && p[1] <= 0xa3)
			return true;
	return false;
}

static void
test_pick(void)
{
	cJSON *r =
	        test_json("{'acc': [[0, 0.1]], 'train_loss': [[0, 2]], 'valid_loss': [[0, 2.5]]}");
	cJSON *r2 = test_json("{'acc': [[0, 0.1]], 'lr': [[0, 1e-4]]}");
	const char *const want[] = {"valid_loss", "acc"};
	struct cli_series *s;
	size_t n, idx[3];

	cli_series_load(r, NULL, &s, &n);
	ok(cli_series_pick(s, n, NULL, 0, idx) == 2 && idx[0] == 1 && idx[1] == 2,
	   "pick: by default the losses only");
	ok(cli_series_pick(s, n, want, 2, idx) == 2 && idx[0] == 0 && idx[1] == 2,
	   "pick: the wanted ones, in the reply's order");
	cli_series_free(s, n);
	cli_series_load(r2, NULL, &s, &n);
	is_int((int)cli_series_pick(s, n, NULL, 0, idx), 2, "pick: no loss metric: all of them");
	cli_series_free(s, n);
	cJSON_Delete(r);
	cJSON_Delete(r2);
}

/* How many lines of text hold needle. */
static int
test_lines_with(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char *line = xstrndup(p, len);
		n += strstr(line, needle) != NULL;
		free(line);
		p = e ? e + 1 : NULL;
	}
	return n;
}

static void
test_plot(void)
{
	struct buf out = BUF_INIT;
	cJSON *r = test_json("{'acc': [[0, 0.1], [10, 0.9]], 'train_loss': [[0, 2], [10, 1]],"
	                     " 'valid_loss': [[0, 2], [10, 1]]}");
	struct plot_opts o = {.width = 40, .height = 8, .braille = true};
	struct cli_series *s;
	size_t n, idx[3], k;

	cli_series_load(r, NULL, &s, &n);
	k = cli_series_pick(s, n, NULL, 0, idx);
	is_int(cli_series_plot(s, idx, k, &o, &out), 0, "plot: drawn");
	/* Identical curves, no colour: a panel each, so neither hides. */
	is_int(test_lines_with(out.data, "train_loss"), 2,
	       "plot: train_loss titles a panel and the legend");
	is_int(test_lines_with(out.data, "valid_loss"), 2, "plot: valid_loss too");
	ok(test_has_braille(out.data), "plot: braille in panels without colour");
	ok(strstr(out.data, "acc") == NULL, "plot: acc not drawn by default");
	buf_reset(&out);
	o.color = true;
	is_int(cli_series_plot(s, idx, k, &o, &out), 0, "plot with colour: drawn");
	is_int(test_lines_with(out.data, "train_loss"), 1,
	       "plot with colour: one chart, legend only");
	ok(strstr(out.data, "\033[34m") && strstr(out.data, "\033[31m"),
	   "plot with colour: blue and red");
	buf_reset(&out);
	o.width = 10;
	is_int(cli_series_plot(s, idx, k, &o, &out), -EINVAL, "plot: too narrow");
	cli_series_free(s, n);
	cJSON_Delete(r);
	buf_free(&out);
}

static void
test_plot_json(void)
{
	cJSON *r = test_json("{'train_loss': [[0, 2], [5, null], [10, 0], [20, -1], [30, 0.5]]}");
	cJSON *totals = test_json("{'train_loss': 240}");
	struct cli_series *s;
	size_t n, idx[1] = {0};
	char *text;
	cJSON *j;

	cli_series_load(r, totals, &s, &n);
	j = cli_series_plot_json(s, idx, 1, false);
	text = cJSON_PrintUnformatted(j);
	is_str(text,
	       "{\"log\":false,\"series\":[{\"metric\":\"train_loss\",\"points\":240,\"drawn\":4,"
	       "\"data\":[[0,2],[10,0],[20,-1],[30,0.5]]}]}",
	       "plot JSON: the drawn points, NaN left out, the stored count");
	free(text);
	cJSON_Delete(j);
	j = cli_series_plot_json(s, idx, 1, true);
	text = cJSON_PrintUnformatted(j);
	is_str(text,
	       "{\"log\":true,\"series\":[{\"metric\":\"train_loss\",\"points\":240,\"drawn\":2,"
	       "\"data\":[[0,2],[30,0.5]]}]}",
	       "plot --log JSON: values <= 0 left out as the chart leaves them out");
	free(text);
	cJSON_Delete(j);
	cli_series_free(s, n);
	cJSON_Delete(r);
	cJSON_Delete(totals);
}

int
main(void)
{
	test_series();
	test_pick();
	test_plot();
	test_plot_json();
	return tap_done();
}
