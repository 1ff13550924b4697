/*
 * test_report: the HTML report is self-contained, escapes what the daemon
 * sends, and draws the curves, alerts and best checkpoint where the data
 * says.
 */
#include "config.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "report.h"
#include "tap.h"
#include "xmalloc.h"
#include "testjson.h"

/* train_loss 2.0 -> 1.0 over steps 0..100, valid_loss 1.25 every 10 steps
 * with a NaN at 50, train_accuracy 0.5 -> 0.9. */
static cJSON *
test_metrics(void)
{
	cJSON *m = cJSON_CreateObject();
	cJSON *tl = cJSON_AddArrayToObject(m, "train_loss");
	cJSON *vl = cJSON_AddArrayToObject(m, "valid_loss");
	cJSON *acc = cJSON_AddArrayToObject(m, "train_accuracy");

	for (int s = 0; s <= 100; s++) {
		double a[2] = {s, 2.0 - s / 100.0}, c[2] = {s, 0.5 + 0.004 * s};
		cJSON_AddItemToArray(tl, cJSON_CreateDoubleArray(a, 2));
		cJSON_AddItemToArray(acc, cJSON_CreateDoubleArray(c, 2));
		if (s % 10 == 0) {
			cJSON *pt = cJSON_CreateArray();
			cJSON_AddItemToArray(pt, cJSON_CreateNumber(s));
			cJSON_AddItemToArray(pt, s == 50 ? cJSON_CreateNull()
			                                 : cJSON_CreateNumber(1.25));
			cJSON_AddItemToArray(vl, pt);
		}
	}
	return m;
}

static const char test_job_text[] =
        "{'name': 'push/run-<script>x</script>&\\'\\u0007', 'status': 'succeeded',"
        " 'model': 'gpt-4o-mini', 'step': 100, 'total_steps': 100, 'created_at': 1764590000,"
        " 'metrics': {'train_loss': 1.0},"
        " 'checkpoints': [{'id': 'ckpt-a', 'step': 40, 'metrics': {'valid_loss': 1.3}},"
        "                 {'id': 'ckpt-b', 'step': 80, 'metrics': {'valid_loss': 1.25}}],"
        " 'alerts': [{'rule': 'spike', 'metric': 'train_loss', 'state': 'firing',"
        "             'value': 1.7, 'step': 30, 'message': 'jump <b>big</b>'}]}";

static void
test_self_contained(const char *html)
{
	ok(strncmp(html, "<!DOCTYPE html>\n", 16) == 0, "a whole HTML5 document");
	ok(strstr(html, "<script") == NULL, "no script element");
	ok(strstr(html, "http:") == NULL && strstr(html, "https:") == NULL &&
	           strstr(html, "url(") == NULL && strstr(html, "@import") == NULL &&
	           strstr(html, "<link") == NULL && strstr(html, "<img") == NULL,
	   "nothing fetched from anywhere: no URLs, links, imports or images");
	ok(strstr(html, "<style>") != NULL && strstr(html, "<svg ") != NULL,
	   "inline CSS and inline SVG");
	ok(strstr(html, "</html>\n") != NULL, "the document is closed");
}

static void
test_escaped(const char *html)
{
	ok(strstr(html, "run-&lt;script&gt;x&lt;/script&gt;&amp;&quot;?") != NULL,
	   "a hostile job name is escaped (and its control character replaced)");
	ok(strstr(html, "jump &lt;b&gt;big&lt;/b&gt;") != NULL && strstr(html, "<b>") == NULL,
	   "an alert message is escaped");
}

/* The n-th "x,y" pair of the first polyline stroked with colour. */
static bool
test_polyline_point(const char *html, const char *color, int n, double *x, double *y)
{
	char needle[64];
	const char *p;

	snprintf(needle, sizeof(needle), "stroke=\"%s\"", color);
	if ((p = strstr(html, needle)) == NULL || (p = strstr(p, "points=\"")) == NULL)
		return false;
	p += 8;
	for (int i = 0; i < n; i++)
		if ((p = strchr(p, ' ')) == NULL)
			return false;
		else
			p++;
	return sscanf(p, "%lf,%lf", x, y) == 2;
}

static void
test_geometry(const char *html)
{
	double x, y, w = REPORT_AREA_X1 - REPORT_AREA_X0, h = REPORT_AREA_Y1 - REPORT_AREA_Y0;
	char want[128];

	/* Axes 0..100 and 1.0..2.0: round ticks on the plot area's edges. */
	ok(test_polyline_point(html, "#1f77b4", 0, &x, &y) && fabs(x - REPORT_AREA_X0) < 0.06 &&
	           fabs(y - REPORT_AREA_Y0) < 0.06,
	   "train_loss starts at the top-left corner (step 0, 2.0)");
	ok(test_polyline_point(html, "#1f77b4", 30, &x, &y) &&
	           fabs(x - (REPORT_AREA_X0 + 0.3 * w)) < 0.06 &&
	           fabs(y - (REPORT_AREA_Y0 + 0.3 * h)) < 0.06,
	   "train_loss at step 30 is 0.3 across and 0.3 down (1.7)");
	ok(test_polyline_point(html, "#d62728", 2, &x, &y) &&
	           fabs(x - (REPORT_AREA_X0 + 0.2 * w)) < 0.06 &&
	           fabs(y - (REPORT_AREA_Y0 + 0.75 * h)) < 0.06,
	   "valid_loss in red, 1.25 three quarters down");
	const char *red = strstr(html, "stroke=\"#d62728\"");
	ok(red && strstr(red + 1, "stroke=\"#d62728\"") &&
	           !strstr(strstr(red + 1, "stroke=\"#d62728\"") + 1, "stroke=\"#d62728\""),
	   "the NaN splits valid_loss into two polylines");
	snprintf(want, sizeof(want), "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"7\"",
	         REPORT_AREA_X0 + 0.8 * w, REPORT_AREA_Y0 + 0.75 * h);
	ok(strstr(html, want) != NULL, "the best checkpoint ringed at step 80, 1.25");
	ok(strstr(html, "ckpt-b at step 80, valid_loss 1.25") != NULL,
	   "and named in the summary: the lowest valid_loss");
	snprintf(want, sizeof(want), "<line x1=\"%.1f\" x2=\"%.1f\"", REPORT_AREA_X0 + 0.3 * w,
	         REPORT_AREA_X0 + 0.3 * w);
	ok(strstr(strstr(html, "class=\"alert\""), want) != NULL,
	   "the alert marked at its step on the loss chart");
	ok(strstr(html, ">2.0</text>") && strstr(html, ">1.5</text>") &&
	           strstr(html, ">100</text>"),
	   "round tick labels");
	ok(strstr(html, "<h3>Accuracy</h3>\n<svg") != NULL, "an accuracy chart");
}

static void
test_best_from_reply(void)
{
	cJSON *job = test_json("{'name': 'p/j', 'status': 'running', 'best_checkpoint':"
	                       " {'step': 20, 'metric': 'train_loss', 'value': 1.8,"
	                       "  'checkpoint': 'ck-20'}, 'checkpoints': [], 'alerts': []}");
	cJSON *m = test_metrics();
	struct report_job j = {job, m};
	struct buf out = BUF_INIT;
	char want[128];

	report_html(&j, 1, 0, &out);
	snprintf(want, sizeof(want), "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"7\"",
	         REPORT_AREA_X0 + 0.2 * (REPORT_AREA_X1 - REPORT_AREA_X0),
	         REPORT_AREA_Y0 + 0.2 * (REPORT_AREA_Y1 - REPORT_AREA_Y0));
	ok(strstr(out.data, want) != NULL, "the reply's best_checkpoint wins, marked on its curve");
	ok(strstr(out.data, "no alerts") != NULL, "no alerts: said so");
	buf_free(&out);
	cJSON_Delete(job);
	cJSON_Delete(m);
}

static void
test_empty(void)
{
	cJSON *job = test_json("{'name': 'p/new', 'status': 'queued'}"), *m = test_json("{}");
	struct report_job j = {job, m};
	struct buf out = BUF_INIT;

	report_html(&j, 1, 0, &out);
	ok(strstr(out.data, "no Loss points") && strstr(out.data, "no Accuracy points") &&
	           strstr(out.data, "<svg") == NULL,
	   "a job without points: no charts, said so");
	buf_free(&out);
	cJSON_Delete(m);
	m = test_json("{'valid_loss': [[10, 2.0]]}");
	j.metrics = m;
	report_html(&j, 1, 0, &out);
	ok(strstr(out.data, "points=\"") && strstr(out.data, "r=\"2.5\" fill=\"#d62728\""),
	   "a lone point gets a dot, as a polyline of one point draws nothing");
	buf_free(&out);
	cJSON_Delete(job);
	cJSON_Delete(m);
}

int
main(void)
{
	cJSON *job = test_json(test_job_text), *m = test_metrics();
	struct report_job j = {job, m};
	struct buf out = BUF_INIT;

	report_html(&j, 1, 1764600000, &out);
	if (getenv("TEST_REPORT_DUMP"))
		fputs(out.data, stderr);
	test_self_contained(out.data);
	test_escaped(out.data);
	test_geometry(out.data);
	ok(strstr(out.data, "1 job &middot; made 2025-12-01 14:40 UTC") != NULL, "the header");
	is_str(report_color("full_valid_loss", 0), "#9467bd", "full validation is purple");
	is_str(report_color("lr", 1), "#ff7f0e", "others from the palette");
	buf_free(&out);
	cJSON_Delete(job);
	cJSON_Delete(m);
	test_best_from_reply();
	test_empty();
	return tap_done();
}
