/*
 * report: the HTML report of `ftmonctl report`, one self-contained
 * document (inline CSS and SVG: no scripts, no fonts, images or styles
 * from the network) with, per job, its summary, a loss chart and an
 * accuracy chart (every metric whose name holds "loss", resp. "acc";
 * training and validation overlaid), its alerts marked on the charts and
 * listed, and its best checkpoint marked.  Every text from the daemon is
 * HTML-escaped.  Pure: the caller fetches the replies and writes the file.
 *
 * The best checkpoint is the job reply's "best_checkpoint" ({"step",
 * "metric", "value", "checkpoint"}) when present; else, from its
 * "checkpoints", the one with the lowest full_valid_loss, else valid_loss.
 */
#ifndef FTMON_REPORT_H
#define FTMON_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"

/* Chart geometry in CSS pixels (the SVG is drawn at 1:1): the plot area
 * spans x REPORT_AREA_X0..X1 and y REPORT_AREA_Y0..Y1 inside each chart,
 * filled with REPORT_AREA_FILL, the axes' first and last ticks on its
 * edges. */
#define REPORT_CHART_W   720
#define REPORT_CHART_H   280
#define REPORT_AREA_X0   64
#define REPORT_AREA_X1   704
#define REPORT_AREA_Y0   16
#define REPORT_AREA_Y1   244
#define REPORT_AREA_FILL "#f4f7fb"

struct report_job {
	const cJSON *job;     /* the `job` result, borrowed */
	const cJSON *metrics; /* its `metrics` result {name: [[step, value], ...]}, borrowed */
};

/* Append the whole document for jobs[0..n) to out; now (Unix seconds) is
 * when it was made, shown in its header. */
void report_html(const struct report_job *jobs, size_t n, int64_t now, struct buf *out);

/* The stroke colour ("#rrggbb") of metric name in the charts: training
 * metrics blue (#1f77b4), validation red (#d62728), full validation purple
 * (#9467bd), others from a fixed palette by their index i in the chart. */
const char *report_color(const char *name, size_t i);

/* Append s with &, <, >, " and ' escaped for HTML text and attributes. */
void report_escape(struct buf *out, const char *s);

#endif
