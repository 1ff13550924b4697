/*
 * cli_views_status: the `status` view (see cli_views.h).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_json.h"
#include "cli_views.h"
#include "cli_views_internal.h"
#include "render.h"
#include "util.h"
#include "xmalloc.h"

/* "ok", "down since 10:42:07Z", "backing off until 10:43:00Z", ... */
static const char *
cli_views_health(const cJSON *s, int64_t now, char *buf, size_t size)
{
	const char *h = cli_json_str(s, "health");
	char clock[40];
	double t;

	if (h == NULL)
		return cli_json_fmt(cli_json_get(s, "health"), buf, size);
	if (strcmp(h, "backing_off") == 0) {
		if (cli_json_num(s, "backoff_until", &t))
			snprintf(buf, size, "backing off until %s",
			         cli_views_clock(t, now, clock, sizeof(clock)));
		else if (cli_json_num(s, "health_since", &t))
			snprintf(buf, size, "backing off since %s",
			         cli_views_clock(t, now, clock, sizeof(clock)));
		else
			snprintf(buf, size, "backing off");
		return buf;
	}
	/* Good states need no date: "ok since" would only add noise. */
	if (strcmp(h, "ok") == 0 || strcmp(h, "idle") == 0 || strcmp(h, "inactive") == 0 ||
	    !cli_json_num(s, "health_since", &t))
		return h;
	snprintf(buf, size, "%s since %s", h, cli_views_clock(t, now, clock, sizeof(clock)));
	return buf;
}

/* The last error, prefixed with when it happened if the daemon says. */
static void
cli_views_last_error(struct render_table *t, const cJSON *s, int64_t now)
{
	const char *msg = cli_json_str(s, "last_error");
	char clock[40];
	double at;

	if (msg != NULL && cli_json_num(s, "last_error_at", &at))
		render_table_cellf(t, "%s %s", cli_views_clock(at, now, clock, sizeof(clock)), msg);
	else
		render_table_cell(t, msg);
}

/* "openai", or "jsonl (3 files)" when the source says how many it follows. */
static void
cli_views_source_type(struct render_table *t, const cJSON *s)
{
	char b[64];
	double files;

	if (cli_json_num(s, "files", &files))
		render_table_cellf(t, "%s (%.0f file%s)",
		                   cli_json_fmt(cli_json_get(s, "type"), b, sizeof(b)), files,
		                   files == 1 ? "" : "s");
	else
		render_table_cell(t, cli_json_fmt(cli_json_get(s, "type"), b, sizeof(b)));
}

static void
cli_views_sources(const cJSON *sources, int64_t now, const struct cli_views_opts *o,
                  struct buf *out)
{
	static const char *const hdr[] = {"SOURCE", "TYPE",     "HEALTH", "LAST POLL",
	                                  "JOBS",   "REQUESTS", "ERRORS", "LAST ERROR"};
	struct render_table *t = render_table_new(8, hdr);
	const cJSON *s;
	char b[128];

	for (size_t i = 4; i <= 6; i++)
		render_table_align(t, i, RENDER_RIGHT);
	render_table_fit(t, o->width, o->utf8);
	render_table_shrink(t, 7, 20, RENDER_WRAP);
	render_table_shrink(t, 0, 10, RENDER_CUT_MIDDLE);
	cJSON_ArrayForEach (s, sources) {
		const cJSON *last = cli_json_get(s, "last_poll");
		render_table_row(t);
		render_table_cell(t, cli_json_fmt(cli_json_get(s, "name"), b, sizeof(b)));
		cli_views_source_type(t, s);
		cli_views_status_cell(t, cli_views_health(s, now, b, sizeof(b)),
		                      cli_json_str(s, "health"), o);
		render_table_cell(t, cJSON_IsNumber(last) ? cli_views_time(last, now, CLI_VIEWS_REL,
		                                                           b, sizeof(b))
		                                          : "never");
		render_table_cell(t, cli_json_fmt(cli_json_get(s, "jobs"), b, sizeof(b)));
		render_table_cell(t, cli_json_fmt(cli_json_get(s, "requests"), b, sizeof(b)));
		render_table_cell(t, cli_json_fmt(cli_json_get(s, "errors"), b, sizeof(b)));
		cli_views_last_error(t, s, now);
	}
	buf_puts(out, "\n");
	if (render_table_rows(t) > 0)
		render_table_print(t, out);
	else
		buf_puts(out, "no sources configured\n");
	render_table_free(t);
}

/* Every error of the last failed reload on its own line when the daemon
 * lists them (config_errors), else its one-line config_error. */
static void
cli_views_config_errors(const cJSON *r, struct render_table *kv)
{
	const cJSON *list = cli_json_get(r, "config_errors"), *e;
	int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0, i = 0;
	char b[64];

	if (n == 0)
		list = NULL;
	if (n == 0 && cli_json_str(r, "config_error") != NULL) {
		render_table_row(kv);
		render_table_cell(kv, "config error:");
		render_table_cell(kv, cli_json_str(r, "config_error"));
	}
	cJSON_ArrayForEach (e, list) {
		render_table_row(kv);
		render_table_cell(kv, i++ > 0 ? "" : n == 1 ? "config error:" : "config errors:");
		render_table_cell(kv, cli_json_fmt(e, b, sizeof(b)));
	}
}

/* "1 running, 3 succeeded" or "none". */
static void
cli_views_job_counts(const cJSON *jobs, struct buf *counts)
{
	const cJSON *it;
	char b[64];

	cJSON_ArrayForEach (it, jobs) {
		buf_printf(counts, "%s%s %s", counts->len ? ", " : "",
		           cli_json_fmt(it, b, sizeof(b)), it->string ? it->string : "?");
	}
	if (counts->len == 0)
		buf_puts(counts, "none");
}

/* One "hooks:" row per hook (contract: name, type, pending, failed,
 * delivered, last_error); without the list, the pending count alone. */
static void
cli_views_hooks(const cJSON *r, struct render_table *kv, const struct cli_views_opts *o)
{
	const cJSON *hooks = cli_json_get(r, "hooks"), *h;
	char b[128], p[32], f[32], d[32];
	bool first = true;
	double failed = 0;

	if (!cJSON_IsArray(hooks) || cJSON_GetArraySize(hooks) == 0) {
		render_table_row(kv);
		render_table_cell(kv, "deliveries:");
		render_table_cellf(
		        kv, "%s pending",
		        cli_json_fmt(cli_json_get(r, "deliveries_pending"), b, sizeof(b)));
		return;
	}
	cJSON_ArrayForEach (h, hooks) {
		const char *err = cli_json_str(h, "last_error");
		render_table_row(kv);
		render_table_cell(kv, first ? "hooks:" : "");
		first = false;
		render_table_cellf(kv, "%s (%s): %s pending, %s failed, %s delivered%s%s",
		                   cli_json_fmt(cli_json_get(h, "name"), b, sizeof(b)),
		                   cli_json_str(h, "type") ? cli_json_str(h, "type") : "-",
		                   cli_json_fmt(cli_json_get(h, "pending"), p, sizeof(p)),
		                   cli_json_fmt(cli_json_get(h, "failed"), f, sizeof(f)),
		                   cli_json_fmt(cli_json_get(h, "delivered"), d, sizeof(d)),
		                   err ? "; last error: " : "", err ? err : "");
		if (o->color && cli_json_num(h, "failed", &failed) && failed > 0)
			render_table_color(kv, 31);
	}
}

/* "2 cut (openai: Step 512 page ...)" when a source's event walk was cut
 * short (its page limit): the points behind the cut are missing. */
static void
cli_views_walks(const cJSON *sources, struct render_table *kv)
{
	const cJSON *s;
	double n, total = 0;
	const char *last = NULL;

	cJSON_ArrayForEach (s, sources) {
		if (cli_json_num(cli_json_get(s, "counters"), "walks_cut", &n) && n > 0) {
			total += n;
			if (cli_json_str(s, "last_walk_cut"))
				last = cli_json_str(s, "last_walk_cut");
		}
	}
	if (total == 0)
		return;
	render_table_row(kv);
	render_table_cell(kv, "walks cut:");
	render_table_cellf(kv, "%.0f%s%s", total, last ? ", last: " : "", last ? last : "");
}

/* Firing alerts: the rules engine's {"alerts": {"firing": N}}, else the
 * older top-level count. */
static void
cli_views_status_alerts(const cJSON *r, struct render_table *kv, const struct cli_views_opts *o)
{
	const cJSON *n = cli_json_get(cli_json_get(r, "alerts"), "firing");
	char b[32];

	if (!cJSON_IsNumber(n))
		n = cli_json_get(r, "alerts_firing");
	render_table_row(kv);
	render_table_cell(kv, "alerts:");
	render_table_cellf(kv, "%s firing", cli_json_fmt(n, b, sizeof(b)));
	if (o->color && cJSON_IsNumber(n) && n->valuedouble > 0)
		render_table_color(kv, 31);
}

static void
cli_views_status_db(const cJSON *r, struct render_table *kv)
{
	const cJSON *db = cli_json_get(r, "database");
	char b[128], b2[64];
	double d;

	render_table_row(kv);
	render_table_cell(kv, "database:");
	if (cli_json_num(db, "size_bytes", &d) && d >= 0)
		render_table_cellf(kv, "%s (%s)",
		                   cli_json_fmt(cli_json_get(db, "path"), b, sizeof(b)),
		                   render_bytes((uint64_t)d, b2, sizeof(b2)));
	else
		render_table_cell(kv, cli_json_fmt(cli_json_get(db, "path"), b, sizeof(b)));
	if (cli_json_str(db, "error") != NULL) {
		render_table_row(kv);
		render_table_cell(kv, "database error:");
		render_table_cell(kv, cli_json_str(db, "error"));
	}
}

void
cli_views_status(const cJSON *r, int64_t now, const struct cli_views_opts *o, struct buf *out)
{
	struct render_table *kv = render_table_new(2, NULL);
	struct buf counts = BUF_INIT;
	char b[128], b2[64];
	double d;

	o = cli_views_o(o);
	render_table_fit(kv, o->width, o->utf8);
	render_table_shrink(kv, 1, 20, RENDER_WRAP);
	render_table_cell(kv, "daemon:");
	render_table_cellf(kv, "ftmond %s, pid %s",
	                   cli_json_fmt(cli_json_get(r, "version"), b, sizeof(b)),
	                   cli_json_fmt(cli_json_get(r, "pid"), b2, sizeof(b2)));
	render_table_row(kv);
	render_table_cell(kv, "uptime:");
	render_table_cell(kv, cli_json_num(r, "uptime_s", &d)
	                              ? render_duration((int64_t)d, b, sizeof(b))
	                              : "-");
	render_table_row(kv);
	render_table_cell(kv, "config:");
	render_table_cell(kv, cli_json_fmt(cli_json_get(r, "config"), b, sizeof(b)));
	cli_views_config_errors(r, kv);
	cli_views_status_db(r, kv);
	cli_views_job_counts(cli_json_get(r, "jobs"), &counts);
	if (cli_json_num(r, "untracked", &d) && d > 0)
		buf_printf(&counts, " (and %.0f untracked)", d);
	render_table_row(kv);
	render_table_cell(kv, "jobs:");
	render_table_cell(kv, counts.data);
	cli_views_status_alerts(r, kv, o);
	cli_views_hooks(r, kv, o);
	cli_views_walks(cli_json_get(r, "sources"), kv);
	render_table_print(kv, out);
	render_table_free(kv);
	buf_free(&counts);
	cli_views_sources(cli_json_get(r, "sources"), now, o, out);
}
