/*
 * ftmonctl: the command-line client of ftmond's control socket.
 *
 * Each command sends one request line and reads one reply line (watch keeps
 * reading until EOF or Ctrl-C), then prints the reply's result either as a
 * table for people or, with --json, as the JSON document itself for
 * scripts.  Commands are rows of a declarative table: name, synopsis, help,
 * accepted options, operand counts and the function that builds the
 * request and renders the result.  All formatting goes through render.c.
 *
 * Exit status: 0 success, 1 the daemon refused the request (ok:false),
 * 2 usage error, 3 the daemon cannot be reached or did not answer properly.
 * Every error is one line on stderr.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "log.h"
#include "proto.h"
#include "render.h"
#include "util.h"
#include "xmalloc.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* The daemon's default (conf.h): systemd's /run, whatever the prefix. */
#define CTL_DEFAULT_SOCKET "/run/ftmon/ftmon.sock"
/* Metric replies may exceed the request limit; anything past this is a
 * broken or hostile peer, not data. */
#define CTL_MAX_REPLY (64u * 1024 * 1024)
#define CTL_TIMEOUT_S 30

enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_REFUSED = 1,
	CTL_EXIT_USAGE = 2,
	CTL_EXIT_UNREACHABLE = 3,
};

/* Long-only option codes (short ones use their letter). */
enum {
	CTL_OPT_JSON = 256,
	CTL_OPT_VERSION,
	CTL_OPT_ALL,
	CTL_OPT_STATUS,
	CTL_OPT_SOURCE,
	CTL_OPT_SINCE,
	CTL_OPT_UNTIL,
	CTL_OPT_POINTS,
	CTL_OPT_CSV,
	CTL_OPT_WIDTH,
	CTL_OPT_HEIGHT,
	CTL_OPT_LIMIT,
};

/* The parsed command line of one command. */
struct ctl_args {
	bool all, csv;
	const char *status, *source;
	const char **metrics;
	size_t nmetrics;
	bool has_since, has_until, has_points, has_limit;
	int64_t since, until, points, limit;
	int width, height; /* 0 = default */
	char **pos;        /* operands, borrowed from argv */
	int npos;
};

struct ctl {
	const char *socket;
	bool json;
	int fd;
	struct buf in;    /* bytes received and not yet consumed */
	size_t scanned;   /* bytes of in already searched for '\n' */
	struct buf out;   /* human output, written at the end */
	struct buf reply; /* the last reply line, raw */
	int64_t now;
	bool stdout_gone; /* the reader of stdout went away (EPIPE) */
};

struct ctl_cmd {
	const char *name;
	const char *synopsis; /* operands and options after the name */
	const char *summary;  /* one line for the command list */
	const char *help;     /* description and options for COMMAND --help */
	const struct option *opts;
	int min_pos, max_pos; /* operand counts; max -1 = unlimited */
	int (*run)(struct ctl *c, const struct ctl_cmd *cmd, struct ctl_args *a);
};

static volatile sig_atomic_t ctl_interrupted;

/* ---- errors and output ---- */

/* Print "ftmonctl: MESSAGE" on stderr, sanitized to one line; returns
 * status so callers can write `return ctl_fail(...)`. */
static int __attribute__((format(printf, 2, 3))) ctl_fail(int status, const char *fmt, ...)
{
	va_list ap;
	char line[1024];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	render_sanitize(line);
	fflush(stdout);
	fprintf(stderr, "ftmonctl: %s\n", line);
	return status;
}

/* Write what is buffered in c->out to stdout.  A reader that went away
 * (EPIPE, e.g. `| head`) is not an error worth a message. */
static int
ctl_flush(struct ctl *c)
{
	if (c->out.len > 0)
		fwrite(c->out.data, 1, c->out.len, stdout);
	buf_reset(&c->out);
	if (fflush(stdout) == 0 && !ferror(stdout))
		return CTL_EXIT_OK;
	if (errno == EPIPE) {
		c->stdout_gone = true;
		return CTL_EXIT_OK;
	}
	return ctl_fail(CTL_EXIT_REFUSED, "cannot write output: %s", strerror(errno));
}

/* Print the last reply's result as one document on its own line, so
 * scripts can read it with a line reader as well as a JSON parser.  The
 * daemon's own text is copied verbatim when it can be found (a re-encoding
 * would print 2.0 as 2); v is the fallback. */
static int
ctl_print_json(struct ctl *c, const cJSON *v)
{
	size_t off, n;
	char *text;

	if (render_json_member(c->reply.data, c->reply.len, "result", &off, &n)) {
		buf_append(&c->out, c->reply.data + off, n);
		buf_puts(&c->out, "\n");
		return ctl_flush(c);
	}
	text = cJSON_PrintUnformatted(v);
	if (text == NULL)
		return ctl_fail(CTL_EXIT_UNREACHABLE, "cannot encode the reply as JSON");
	buf_puts(&c->out, text);
	buf_puts(&c->out, "\n");
	cJSON_free(text);
	return ctl_flush(c);
}

/* ---- JSON accessors for results ---- */

static const cJSON *
ctl_get(const cJSON *obj, const char *key)
{
	return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

static const char *
ctl_get_str(const cJSON *obj, const char *key)
{
	const cJSON *v = ctl_get(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool
ctl_get_num(const cJSON *obj, const char *key, double *out)
{
	const cJSON *v = ctl_get(obj, key);
	if (!cJSON_IsNumber(v))
		return false;
	*out = v->valuedouble;
	return true;
}

/* A JSON value as display text: "-" for missing or null, integers without
 * a fraction, other numbers as %.4g, objects as compact JSON.  Returns buf
 * or the value's own string. */
static const char *
ctl_fmt(const cJSON *v, char *buf, size_t size)
{
	char *text;

	if (v == NULL || cJSON_IsNull(v))
		return "-";
	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "yes" : "no";
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (d == floor(d) && fabs(d) < 1e15)
			snprintf(buf, size, "%.0f", d);
		else
			render_number(d, buf, size);
		return buf;
	}
	text = cJSON_PrintUnformatted(v);
	snprintf(buf, size, "%s", text ? text : "?");
	cJSON_free(text);
	return buf;
}

/* A Unix time as RFC 3339, relative ("12s ago"), or both. */
enum ctl_time_style { CTL_TIME_ABS, CTL_TIME_REL, CTL_TIME_BOTH };

static const char *
ctl_fmt_time(const struct ctl *c, const cJSON *v, enum ctl_time_style style, char *buf, size_t size)
{
	char abs[40], rel[32];

	if (!cJSON_IsNumber(v))
		return ctl_fmt(v, buf, size);
	util_format_rfc3339((int64_t)v->valuedouble, abs, sizeof(abs));
	render_reltime((int64_t)v->valuedouble, c->now, rel, sizeof(rel));
	if (style == CTL_TIME_ABS)
		snprintf(buf, size, "%s", abs);
	else if (style == CTL_TIME_REL)
		snprintf(buf, size, "%s", rel);
	else
		snprintf(buf, size, "%s (%s)", abs, rel);
	return buf;
}

/* Append "name=value" pairs of a flat object, space separated. */
static void
ctl_fmt_pairs(const cJSON *obj, struct buf *out)
{
	const cJSON *it;
	char num[64];

	cJSON_ArrayForEach (it, obj) {
		if (out->len > 0 && out->data[out->len - 1] != ' ')
			buf_puts(out, " ");
		if (cJSON_IsNull(it) && it->string != NULL)
			buf_printf(out, "%s=nan", it->string); /* null metric = NaN */
		else
			buf_printf(out, "%s=%s", it->string ? it->string : "?",
			           ctl_fmt(it, num, sizeof(num)));
	}
}

/* ---- the connection ---- */

static int
ctl_connect(struct ctl *c, bool timeout)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = CTL_TIMEOUT_S};

	if (strlen(c->socket) >= sizeof(sa.sun_path))
		return ctl_fail(CTL_EXIT_UNREACHABLE, "cannot connect to %s: %s", c->socket,
		                strerror(ENAMETOOLONG));
	memcpy(sa.sun_path, c->socket, strlen(c->socket) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return ctl_fail(CTL_EXIT_UNREACHABLE, "cannot create a socket: %s",
		                strerror(errno));
	if (timeout && (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	                setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0))
		return ctl_fail(CTL_EXIT_UNREACHABLE, "cannot set socket timeout: %s",
		                strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return ctl_fail(CTL_EXIT_UNREACHABLE, "cannot connect to %s: %s", c->socket,
		                strerror(errno));
	return CTL_EXIT_OK;
}

static int
ctl_send(struct ctl *c, const char *line)
{
	size_t len = strlen(line), off = 0;

	while (off < len) {
		ssize_t n = send(c->fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ctl_fail(CTL_EXIT_UNREACHABLE, "cannot send to %s: %s", c->socket,
			                errno == EAGAIN ? "timed out" : strerror(errno));
		off += (size_t)n;
	}
	return CTL_EXIT_OK;
}

/*
 * Read until c->in holds a complete line.  Returns 0 and sets *len to the
 * line's length (without the newline), 1 at a clean EOF, or an exit status
 * (> 1) after printing why.  The caller consumes *len + 1 bytes.
 */
static int
ctl_read_line(struct ctl *c, size_t *len)
{
	char chunk[65536];

	for (;;) {
		char *nl = c->in.len > c->scanned
		                   ? memchr(c->in.data + c->scanned, '\n', c->in.len - c->scanned)
		                   : NULL;
		if (nl != NULL) {
			*len = (size_t)(nl - c->in.data);
			c->scanned = 0;
			return 0;
		}
		c->scanned = c->in.len;
		if (c->in.len > CTL_MAX_REPLY)
			return ctl_fail(CTL_EXIT_UNREACHABLE,
			                "reply from the daemon is longer than %u MiB",
			                CTL_MAX_REPLY >> 20);
		ssize_t n = recv(c->fd, chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR && !ctl_interrupted)
			continue;
		if (n < 0 && errno == EINTR)
			return 1;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return ctl_fail(CTL_EXIT_UNREACHABLE, "no reply from %s within %ds",
			                c->socket, CTL_TIMEOUT_S);
		if (n < 0)
			return ctl_fail(CTL_EXIT_UNREACHABLE, "cannot read from %s: %s", c->socket,
			                strerror(errno));
		if (n == 0 && c->in.len == 0)
			return 1;
		if (n == 0)
			return ctl_fail(CTL_EXIT_UNREACHABLE,
			                "the daemon closed the "
			                "connection in the middle of a reply");
		buf_append(&c->in, chunk, (size_t)n);
	}
}

/* Report an ok:false reply as "CODE: message". */
static int
ctl_refused(const cJSON *err)
{
	const char *code = ctl_get_str(err, "code");
	const char *msg = ctl_get_str(err, "message");

	return ctl_fail(CTL_EXIT_REFUSED, "%s: %s", code ? code : "error",
	                msg ? msg : "the daemon refused the request");
}

/*
 * Send one request (taking ownership of args) and read its reply.  On
 * success returns 0 with *root (the caller deletes it) and *result
 * borrowed from it; otherwise an exit status after printing why.
 */
static int
ctl_call(struct ctl *c, const char *cmd, cJSON *args, bool timeout, cJSON **root,
         const cJSON **result)
{
	char *line = proto_build_request(1, cmd, args);
	const cJSON *payload, *id;
	size_t len;
	bool ok;
	int rc;

	*root = NULL;
	rc = ctl_connect(c, timeout);
	if (rc == CTL_EXIT_OK)
		rc = ctl_send(c, line);
	free(line);
	if (rc != CTL_EXIT_OK)
		return rc;
	rc = ctl_read_line(c, &len);
	if (rc == 1)
		return ctl_fail(CTL_EXIT_UNREACHABLE, "the daemon closed the connection without "
		                                      "replying");
	if (rc != 0)
		return rc;
	if (proto_parse_reply(c->in.data, len, root, &ok, &payload) < 0)
		return ctl_fail(CTL_EXIT_UNREACHABLE, "malformed reply from the daemon");
	buf_reset(&c->reply);
	buf_append(&c->reply, c->in.data, len);
	buf_consume(&c->in, len + 1);
	id = ctl_get(*root, "id");
	if (cJSON_IsNumber(id) && id->valuedouble != 1) {
		cJSON_Delete(*root);
		*root = NULL;
		return ctl_fail(CTL_EXIT_UNREACHABLE, "reply from the daemon has the wrong id");
	}
	if (!ok) {
		rc = ctl_refused(payload);
		cJSON_Delete(*root);
		*root = NULL;
		return rc;
	}
	*result = payload;
	return CTL_EXIT_OK;
}

/*
 * The common shape of a command: call, then print JSON or hand the result
 * to the renderer.
 */
static int
ctl_simple(struct ctl *c, const char *cmd, cJSON *args,
           int (*render)(struct ctl *c, struct ctl_args *a, const cJSON *result),
           struct ctl_args *a)
{
	const cJSON *result;
	cJSON *root;
	int rc = ctl_call(c, cmd, args, true, &root, &result);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (c->json)
		rc = ctl_print_json(c, result);
	else if ((rc = render(c, a, result)) == CTL_EXIT_OK)
		rc = ctl_flush(c);
	cJSON_Delete(root);
	return rc;
}

/* Call cmd and print the confirmation that confirm builds. */
static int
ctl_confirm(struct ctl *c, const char *cmd, cJSON *args,
            void (*confirm)(struct ctl *c, const struct ctl_args *a, const cJSON *r),
            const struct ctl_args *a)
{
	const cJSON *result;
	cJSON *root;
	int rc = ctl_call(c, cmd, args, true, &root, &result);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (c->json) {
		rc = ctl_print_json(c, result);
	} else {
		confirm(c, a, result);
		rc = ctl_flush(c);
	}
	cJSON_Delete(root);
	return rc;
}

/* ---- ping and status ---- */

static void
ctl_confirm_pong(struct ctl *c, const struct ctl_args *a, const cJSON *r)
{
	char b[64];

	buf_printf(&c->out, "%s\n", ctl_fmt(r, b, sizeof(b)));
}

static int
ctl_run_ping(struct ctl *c, const struct ctl_cmd *cmd, struct ctl_args *a)
{
	return ctl_confirm(c, "ping", NULL, ctl_confirm_pong, a);
}

static void
ctl_status_sources(struct ctl *c, const cJSON *sources)
{
	static const char *const hdr[] = {"SOURCE", "TYPE",     "HEALTH", "LAST POLL",
	                                  "JOBS",   "REQUESTS", "ERRORS", "LAST ERROR"};
	struct render_table *t = render_table_new(8, hdr);
	const cJSON *s;
	char b[128];

	for (size_t i = 4; i <= 6; i++)
		render_table_align(t, i, RENDER_RIGHT);
	cJSON_ArrayForEach (s, sources) {
		render_table_row(t);
		render_table_cell(t, ctl_fmt(ctl_get(s, "name"), b, sizeof(b)));
		render_table_cell(t, ctl_fmt(ctl_get(s, "type"), b, sizeof(b)));
		render_table_cell(t, ctl_fmt(ctl_get(s, "health"), b, sizeof(b)));
		const cJSON *last = ctl_get(s, "last_poll");
		render_table_cell(t, cJSON_IsNumber(last)
		                             ? ctl_fmt_time(c, last, CTL_TIME_REL, b, sizeof(b))
		                             : "never");
		render_table_cell(t, ctl_fmt(ctl_get(s, "jobs"), b, sizeof(b)));
		render_table_cell(t, ctl_fmt(ctl_get(s, "requests"), b, sizeof(b)));
		render_table_cell(t, ctl_fmt(ctl_get(s, "errors"), b, sizeof(b)));
		render_table_cell(t, ctl_get_str(s, "last_error"));
	}
	buf_puts(&c->out, "\n");
	if (render_table_rows(t) > 0)
		render_table_print(t, &c->out);
	else
		buf_puts(&c->out, "no sources configured\n");
	render_table_free(t);
}

static int
ctl_render_status(struct ctl *c, struct ctl_args *a, const cJSON *r)
{
	struct render_table *kv = render_table_new(2, NULL);
	const cJSON *db = ctl_get(r, "database"), *jobs = ctl_get(r, "jobs"), *it;
	struct buf counts = BUF_INIT;
	char b[128], b2[64];
	double d;

	render_table_cell(kv, "daemon:");
	render_table_cellf(kv, "ftmond %s, pid %s", ctl_fmt(ctl_get(r, "version"), b, sizeof(b)),
	                   ctl_fmt(ctl_get(r, "pid"), b2, sizeof(b2)));
	render_table_row(kv);
	render_table_cell(kv, "uptime:");
	render_table_cell(kv, ctl_get_num(r, "uptime_s", &d)
	                              ? render_duration((int64_t)d, b, sizeof(b))
	                              : "-");
	render_table_row(kv);
	render_table_cell(kv, "config:");
	render_table_cell(kv, ctl_fmt(ctl_get(r, "config"), b, sizeof(b)));
	if (ctl_get_str(r, "config_error") != NULL) {
		render_table_row(kv);
		render_table_cell(kv, "config error:");
		render_table_cell(kv, ctl_get_str(r, "config_error"));
	}
	render_table_row(kv);
	render_table_cell(kv, "database:");
	if (ctl_get_num(db, "size_bytes", &d) && d >= 0)
		render_table_cellf(kv, "%s (%s)", ctl_fmt(ctl_get(db, "path"), b, sizeof(b)),
		                   render_bytes((uint64_t)d, b2, sizeof(b2)));
	else
		render_table_cell(kv, ctl_fmt(ctl_get(db, "path"), b, sizeof(b)));
	cJSON_ArrayForEach (it, jobs) {
		buf_printf(&counts, "%s%s %s", counts.len ? ", " : "", ctl_fmt(it, b, sizeof(b)),
		           it->string ? it->string : "?");
	}
	render_table_row(kv);
	render_table_cell(kv, "jobs:");
	render_table_cell(kv, counts.len ? counts.data : "none");
	render_table_row(kv);
	render_table_cell(kv, "alerts:");
	render_table_cellf(kv, "%s firing", ctl_fmt(ctl_get(r, "alerts_firing"), b, sizeof(b)));
	render_table_row(kv);
	render_table_cell(kv, "deliveries:");
	render_table_cellf(kv, "%s pending",
	                   ctl_fmt(ctl_get(r, "deliveries_pending"), b, sizeof(b)));
	render_table_print(kv, &c->out);
	render_table_free(kv);
	buf_free(&counts);
	ctl_status_sources(c, ctl_get(r, "sources"));
	return CTL_EXIT_OK;
}

static int
ctl_run_status(struct ctl *c, const struct ctl_cmd *cmd, struct ctl_args *a)
{
	return ctl_simple(c, "status", NULL, ctl_render_status, a);
}

/* ---- jobs and show ---- */

/* "120/300", "120" or "-". */
static const char *
ctl_fmt_step(const cJSON *job, char *buf, size_t size)
{
	double step, total;

	if (!ctl_get_num(job, "step", &step))
		return "-";
	if (ctl_get_num(job, "total_steps", &total))
		snprintf(buf, size, "%.0f/%.0f", step, total);
	else
		snprintf(buf, size, "%.0f", step);
	return buf;
}

/* A metric of a job's latest metrics, formatted, "nan" for null. */
static const char *
ctl_fmt_metric(const cJSON *metrics, const char *name, char *buf, size_t size)
{
	const cJSON *v = ctl_get(metrics, name);

	if (cJSON_IsNull(v))
		return "nan";
	if (!cJSON_IsNumber(v))
		return "-";
	return render_number(v->valuedouble, buf, size);
}

static int
ctl_render_jobs(struct ctl *c, struct ctl_args *a, const cJSON *r)
{
	static const char *const hdr[] = {"NAME",       "STATUS",     "STEP",
	                                  "TRAIN_LOSS", "VALID_LOSS", "UPDATED"};
	struct render_table *t;
	const cJSON *job;
	char b[128];

	if (cJSON_GetArraySize(r) == 0) {
		buf_puts(&c->out, "no jobs\n");
		return CTL_EXIT_OK;
	}
	t = render_table_new(6, hdr);
	for (size_t i = 2; i <= 4; i++)
		render_table_align(t, i, RENDER_RIGHT);
	cJSON_ArrayForEach (job, r) {
		const cJSON *m = ctl_get(job, "metrics");
		render_table_row(t);
		render_table_cell(t, ctl_fmt(ctl_get(job, "name"), b, sizeof(b)));
		render_table_cell(t, ctl_fmt(ctl_get(job, "status"), b, sizeof(b)));
		render_table_cell(t, ctl_fmt_step(job, b, sizeof(b)));
		render_table_cell(t, ctl_fmt_metric(m, "train_loss", b, sizeof(b)));
		render_table_cell(t, ctl_fmt_metric(m, "valid_loss", b, sizeof(b)));
		render_table_cell(
		        t, ctl_fmt_time(c, ctl_get(job, "updated_at"), CTL_TIME_REL, b, sizeof(b)));
	}
	render_table_print(t, &c->out);
	render_table_free(t);
	return CTL_EXIT_OK;
}

static int
ctl_run_jobs(struct ctl *c, const struct ctl_cmd *cmd, struct ctl_args *a)
{
	cJSON *args = cJSON_CreateObject();

	cJSON_AddBoolToObject(args, "all", a->all);
	if (a->status != NULL)
		cJSON_AddStringToObject(args, "status", a->status);
	if (a->source != NULL)
		cJSON_AddStringToObject(args, "source", a->source);
	return ctl_simple(c, "jobs", args, ctl_render_jobs, a);
}

/* The "key: value" block at the top of `show`. */
static void
ctl_show_fields(struct ctl *c, const cJSON *job)
{
	static const struct {
		const char *key, *label;
		bool time;
	} fields[] = {
	        {"name", "name:", false},
	        {"source", "source:", false},
	        {"id", "id:", false},
	        {"status", "status:", false},
	        {"model", "model:", false},
	        {"fine_tuned_model", "fine-tuned model:", false},
	        {"trained_tokens", "trained tokens:", false},
	        {"created_at", "created:", true},
	        {"finished_at", "finished:", true},
	        {"estimated_finish", "estimated finish:", true},
	        {"updated_at", "updated:", true},
	};
	struct render_table *kv = render_table_new(2, NULL);
	const cJSON *err = ctl_get(job, "error");
	char b[512];

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		const cJSON *v = ctl_get(job, fields[i].key);
		if (i == 4) { /* step after status, where people look for it */
			render_table_row(kv);
			render_table_cell(kv, "step:");
			render_table_cell(kv, ctl_fmt_step(job, b, sizeof(b)));
		}
		if (fields[i].time && !cJSON_IsNumber(v) && i != 7)
			continue; /* "finished: -" says nothing */
		render_table_row(kv);
		render_table_cell(kv, fields[i].label);
		render_table_cell(kv, fields[i].time
		                              ? ctl_fmt_time(c, v, CTL_TIME_BOTH, b, sizeof(b))
		                              : ctl_fmt(v, b, sizeof(b)));
	}
	if (err != NULL && !cJSON_IsNull(err)) {
		/* OpenAI reports {code, message, param}; show the message. */
		const char *msg = ctl_get_str(err, "message");
		render_table_row(kv);
		render_table_cell(kv, "error:");
		render_table_cell(kv, msg ? msg : ctl_fmt(err, b, sizeof(b)));
	}
	render_table_print(kv, &c->out);
	render_table_free(kv);
}

static void
ctl_show_metrics(struct ctl *c, const cJSON *metrics)
{
	struct render_table *t = render_table_new(2, NULL);
	const cJSON *it;
	char b[64];

	render_table_align(t, 1, RENDER_RIGHT);
	cJSON_ArrayForEach (it, metrics) {
		render_table_row(t);
		render_table_cellf(t, "  %s", it->string ? it->string : "?");
		if (cJSON_IsNumber(it))
			render_table_cell(t, render_number(it->valuedouble, b, sizeof(b)));
		else
			render_table_cell(t, cJSON_IsNull(it) ? "nan" : ctl_fmt(it, b, sizeof(b)));
	}
	if (render_table_rows(t) > 0) {
		buf_puts(&c->out, "\nlatest metrics:\n");
		render_table_print(t, &c->out);
	}
	render_table_free(t);
}

static void
ctl_show_checkpoints(struct ctl *c, const cJSON *cps)
{
	static const char *const hdr[] = {"STEP", "CREATED", "METRICS", "MODEL"};
	struct render_table *t;
	const cJSON *cp;
	char b[512];

	if (cJSON_GetArraySize(cps) == 0)
		return;
	t = render_table_new(4, hdr);
	render_table_align(t, 0, RENDER_RIGHT);
	cJSON_ArrayForEach (cp, cps) {
		struct buf m = BUF_INIT;
		ctl_fmt_pairs(ctl_get(cp, "metrics"), &m);
		render_table_row(t);
		render_table_cell(t, ctl_fmt(ctl_get(cp, "step"), b, sizeof(b)));
		render_table_cell(
		        t, ctl_fmt_time(c, ctl_get(cp, "created_at"), CTL_TIME_REL, b, sizeof(b)));
		render_table_cell(t, m.len ? m.data : "-");
		render_table_cell(t, ctl_fmt(ctl_get(cp, "model"), b, sizeof(b)));
		buf_free(&m);
	}
	buf_puts(&c->out, "\ncheckpoints:\n");
	render_table_print(t, &c->out);
	render_table_free(t);
}

/* The alerts table, shared by `alerts` and `show` (which leaves out the
 * JOB column: it is the job being shown). */
static void
ctl_alerts_table(struct ctl *c, const cJSON *alerts, bool with_job)
{
	static const char *const hdr[] = {"ID",    "JOB",  "RULE",  "METRIC", "STATE",
	                                  "VALUE", "STEP", "FIRED", "ACKED",  "MESSAGE"};
	const char *cols[ARRAY_SIZE(hdr)];
	size_t n = 0;
	struct render_table *t;
	const cJSON *al;
	char b[256];

	for (size_t i = 0; i < ARRAY_SIZE(hdr); i++)
		if (with_job || i != 1)
			cols[n++] = hdr[i];
	t = render_table_new(n, cols);
	render_table_align(t, 0, RENDER_RIGHT);
	render_table_align(t, with_job ? 5 : 4, RENDER_RIGHT);
	render_table_align(t, with_job ? 6 : 5, RENDER_RIGHT);
	cJSON_ArrayForEach (al, alerts) {
		const cJSON *v = ctl_get(al, "value");
		render_table_row(t);
		render_table_cell(t, ctl_fmt(ctl_get(al, "id"), b, sizeof(b)));
		if (with_job)
			render_table_cell(t, ctl_fmt(ctl_get(al, "job"), b, sizeof(b)));
		render_table_cell(t, ctl_fmt(ctl_get(al, "rule"), b, sizeof(b)));
		render_table_cell(t, ctl_fmt(ctl_get(al, "metric"), b, sizeof(b)));
		render_table_cell(t, ctl_fmt(ctl_get(al, "state"), b, sizeof(b)));
		render_table_cell(t, cJSON_IsNumber(v) ? render_number(v->valuedouble, b, sizeof(b))
		                                       : ctl_fmt(v, b, sizeof(b)));
		render_table_cell(t, ctl_fmt(ctl_get(al, "step"), b, sizeof(b)));
		render_table_cell(
		        t, ctl_fmt_time(c, ctl_get(al, "fired_at"), CTL_TIME_REL, b, sizeof(b)));
		render_table_cell(t, cJSON_IsTrue(ctl_get(al, "acked")) ? "yes" : "no");
		render_table_cell(t, ctl_get_str(al, "message"));
	}
	render_table_print(t, &c->out);
	render_table_free(t);
}

static int
ctl_render_show(struct ctl *c, struct ctl_args *a, const cJSON *job)
{
	const cJSON *alerts = ctl_get(job, "alerts");

	ctl_show_fields(c, job);
	ctl_show_metrics(c, ctl_get(job, "metrics"));
	ctl_show_checkpoints(c, ctl_get(job, "checkpoints"));
	if (cJSON_GetArraySize(alerts) > 0) {
		buf_puts(&c->out, "\nalerts:\n");
		ctl_alerts_table(c, alerts, false);
	}
	return CTL_EXIT_OK;
}

static int
ctl_run_show(struct ctl *c, const struct ctl_cmd *cmd, struct ctl_args *a)
{
	cJSON *args = cJSON_CreateObject();

	cJSON_AddStringToObject(args, "job", a->pos[0]);
	return ctl_simple(c, "job", args, ctl_render_show, a);
}

/* ---- metrics and plot ---- */

struct ctl_point {
	double x, y;
};

struct ctl_series {
	const char *name; /* borrowed from the reply */
	struct ctl_point *p;
	size_t n;
};

static int
ctl_point_cmp(const void *a, const void *b)
{
	double x = ((const struct ctl_point *)a)->x, y = ((const struct ctl_point *)b)->x;
	return (x > y) - (x < y);
}

static int
ctl_double_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void
ctl_series_free(struct ctl_series *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i].p);
	free(s);
}

/*
 * Decode {"metric": [[step, value], ...], ...} into series sorted by step;
 * a null value is NaN.  Returns 0, or -EINVAL if the shape is wrong.
 */
static int
ctl_series_load(const cJSON *r, struct ctl_series **out, size_t *nout)
{
	size_t n = 0, cap = (size_t)cJSON_GetArraySize(r);
	struct ctl_series *s = xcalloc(cap ? cap : 1, sizeof(*s));
	const cJSON *m, *pt;

	*out = NULL;
	*nout = 0;
	if (!cJSON_IsObject(r))
		goto bad;
	cJSON_ArrayForEach (m, r) {
		struct ctl_series *cur = &s[n++];
		if (!cJSON_IsArray(m) || m->string == NULL)
			goto bad;
		cur->name = m->string;
		cur->p = xcalloc((size_t)cJSON_GetArraySize(m) + 1, sizeof(*cur->p));
		cJSON_ArrayForEach (pt, m) {
			const cJSON *x = cJSON_GetArrayItem(pt, 0), *y = cJSON_GetArrayItem(pt, 1);
			if (!cJSON_IsArray(pt) || !cJSON_IsNumber(x) ||
			    !(cJSON_IsNumber(y) || cJSON_IsNull(y)))
				goto bad;
			cur->p[cur->n].x = x->valuedouble;
			cur->p[cur->n++].y = cJSON_IsNumber(y) ? y->valuedouble : NAN;
		}
		qsort(cur->p, cur->n, sizeof(*cur->p), ctl_point_cmp);
	}
	*out = s;
	*nout = n;
	return 0;
bad:
	ctl_series_free(s, n);
	return -EINVAL;
}

/* A step as an integer when it is one. */
static const char *
ctl_fmt_step_value(double x, char *buf, size_t size)
{
	if (x == floor(x) && fabs(x) < 1e15)
		snprintf(buf, size, "%.0f", x);
	else
		snprintf(buf, size, "%.17g", x);
	return buf;
}

/* The shortest text that reads back as the same double, for CSV. */
static const char *
ctl_fmt_exact(double v, char *buf, size_t size)
{
	if (!isfinite(v))
		return render_number(v, buf, size);
	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

/* A CSV field, quoted when it holds a comma, quote or line break. */
static void
ctl_csv_field(struct buf *out, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		buf_puts(out, s);
		return;
	}
	buf_puts(out, "\"");
	for (; *s; s++) {
		if (*s == '"')
			buf_puts(out, "\"");
		buf_append(out, s, 1);
	}
	buf_puts(out, "\"");
}

/* Every step present in any series, sorted, without duplicates. */
static double *
ctl_series_steps(const struct ctl_series *s, size_t ns, size_t *nsteps)
{
	size_t total = 0, n = 0;
	double *steps;

	for (size_t i = 0; i < ns; i++)
		total += s[i].n;
	steps = xcalloc(total + 1, sizeof(*steps));
	for (size_t i = 0; i < ns; i++)
		for (size_t j = 0; j < s[i].n; j++)
			steps[n++] = s[i].p[j].x;
	qsort(steps, n, sizeof(*steps), ctl_double_cmp);
	*nsteps = 0;
	for (size_t i = 0; i < n; i++)
		if (*nsteps == 0 || steps[*nsteps - 1] != steps[i])
			steps[(*nsteps)++] = steps[i];
	return steps;
}

/*
 * One row per step of the union of all steps, one column per metric, blank
 * where a metric has no point at that step.  Table or CSV.
 */
static void
ctl_metrics_print(struct ctl *c, const struct ctl_series *s, size_t ns, bool csv)
{
	size_t nsteps, *at = xcalloc(ns + 1, sizeof(*at));
	double *steps = ctl_series_steps(s, ns, &nsteps);
	struct render_table *t = render_table_new(ns + 1, NULL);
	char b[64];

	render_table_cell(t, "STEP");
	for (size_t i = 0; i <= ns; i++)
		render_table_align(t, i, RENDER_RIGHT);
	for (size_t i = 0; i < ns; i++)
		render_table_cell(t, s[i].name);
	if (csv) {
		buf_puts(&c->out, "step");
		for (size_t i = 0; i < ns; i++) {
			buf_puts(&c->out, ",");
			ctl_csv_field(&c->out, s[i].name);
		}
		buf_puts(&c->out, "\n");
	}
	for (size_t r = 0; r < nsteps; r++) {
		render_table_row(t);
		render_table_cell(t, ctl_fmt_step_value(steps[r], b, sizeof(b)));
		if (csv)
			buf_puts(&c->out, b);
		for (size_t i = 0; i < ns; i++) {
			/* Each series is sorted, so a cursor per series walks
			 * it once; a duplicate step shows its last value. */
			const char *cell = "";
			while (at[i] < s[i].n && s[i].p[at[i]].x <= steps[r]) {
				if (s[i].p[at[i]].x == steps[r])
					cell = csv ? ctl_fmt_exact(s[i].p[at[i]].y, b, sizeof(b))
					           : render_number(s[i].p[at[i]].y, b, sizeof(b));
				at[i]++;
			}
			render_table_cell(t, cell);
			if (csv)
				buf_printf(&c->out, ",%s", cell);
		}
		if (csv)
			buf_puts(&c->out, "\n");
	}
	if (!csv)
		render_table_print(t, &c->out);
	render_table_free(t);
	free(steps);
	free(at);
}

static int
ctl_render_metrics(struct ctl *c, struct ctl_args *a, const cJSON *r)
{
	struct ctl_series *s;
	size_t ns, points = 0;

	if (ctl_series_load(r, &s, &ns) < 0)
		return ctl_fail(CTL_EXIT_UNREACHABLE, "malformed metrics reply from the daemon");
	for (size_t i = 0; i < ns; i++)
		points += s[i].n;
	if (points == 0 && !a->csv)
		buf_printf(&c->out, "no metric points for %s\n", a->pos[0]);
	else
		ctl_metrics_print(c, s, ns, a->csv);
	ctl_series_free(s, ns);
	return CTL_EXIT_OK;
}

/* The args shared by `metrics` and `plot`. */
static cJSON *
ctl_metrics_args(const struct ctl_args *a, int64_t points)
{
	cJSON *args = cJSON_CreateObject();

	cJSON_AddStringToObject(args, "job", a->pos[0]);
	if (a->nmetrics > 0)
		cJSON_AddItemToObject(args, "metric",
		                      cJSON_CreateStringArray(a->metrics, (int)a->nmetrics));
	if (a->has_since)
		cJSON_AddNumberToObject(args, "since", (double)a->since);
	if (a->has_until)
		cJSON_AddNumberToObject(args, "until", (double)a->until);
	if (points > 0)
		cJSON_AddNumberToObject(args, "points", (double)points);
	return args;
}

static int
ctl_run_metrics(struct ctl *c, const struct ctl_cmd *cmd, struct ctl_args *a)
{
	return ctl_simple(c, "metrics", ctl_metrics_args(a, a->has_points ? a->points : 0),
	                  ctl_render_metrics, a);
}

/* Columns of the terminal stdout is on, else $COLUMNS, else 80. */
static int
ctl_term_width(void)
{
	struct winsize ws;
	uint64_t cols;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (util_parse_uint(getenv("COLUMNS"), 10000, &cols) == 0 && cols > 0)
		return (int)cols;
	return 80;
}

/* Colour only for a terminal, and never when NO_COLOR is set (no-color.org)
 * or TERM is dumb. */
static bool
ctl_use_color(void)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (nc != NULL && *nc != '\0')
		return false;
	if (term != NULL && strcmp(term, "dumb") == 0)
		return false;
	return isatty(STDOUT_FILENO) == 1;
}

static bool
ctl_use_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);
	return cs != NULL && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
}

/* Whether -m named this metric. */
static bool
ctl_wanted(const struct ctl_args *a, const char *name)
{
	for (size_t i = 0; i < a->nmetrics; i++)
		if (strcmp(a->metrics[i], name) == 0)
			return true;
	return false;
}

static int
ctl_render_plot(struct ctl *c, struct ctl_args *a, const cJSON *r)
{
	struct ctl_series *s;
	struct render_series *rs;
	struct render_plot_opts o = {.width = a->width, .height = a->height};
	size_t ns, nplot = 0, nloss = 0;
	int rc;

	if (ctl_series_load(r, &s, &ns) < 0)
		return ctl_fail(CTL_EXIT_UNREACHABLE, "malformed metrics reply from the daemon");
	/* By default the losses; a job without any gets every metric. */
	for (size_t i = 0; i < ns; i++)
		nloss += strstr(s[i].name, "loss") != NULL;
	rs = xcalloc(ns + 1, sizeof(*rs));
	for (size_t i = 0; i < ns; i++) {
		if (a->nmetrics == 0 && nloss > 0 && strstr(s[i].name, "loss") == NULL)
			continue;
		if (a->nmetrics > 0 && !ctl_wanted(a, s[i].name))
			continue;
		double *xy = xcalloc(2 * s[i].n + 1, sizeof(*xy));
		for (size_t j = 0; j < s[i].n; j++) {
			xy[j] = s[i].p[j].x;
			xy[s[i].n + j] = s[i].p[j].y;
		}
		rs[nplot++] = (struct render_series){s[i].name, xy, xy + s[i].n, s[i].n};
	}
	o.color = ctl_use_color();
	/* Braille dots cannot tell curves apart without colour. */
	o.braille = ctl_use_utf8() && (o.color || nplot == 1);
	rc = render_plot(rs, nplot, &o, &c->out);
	if (rc == -ENODATA)
		buf_printf(&c->out, "no metric points to plot for %s\n", a->pos[0]);
	for (size_t i = 0; i < nplot; i++)
		free((void *)rs[i].x);
	free(rs);
	ctl_series_free(s, ns);
	if (rc == -EINVAL)
		return ctl_fail(CTL_EXIT_USAGE, "plot: --width or --height too small");
	return CTL_EXIT_OK;
}

static int
ctl_run_plot(struct ctl *c, const struct ctl_cmd *cmd, struct ctl_args *a)
{
	if (a->width == 0)
		a->width = ctl_term_width() < 20 ? 20 : ctl_term_width();
	if (a->height == 0)
		a->height = 20;
	/* Two points per column: braille cells are two dots wide. */
	return ctl_simple(c, "metrics", ctl_metrics_args(a, (int64_t)a->width * 2), ctl_render_plot,
	                  a);
}

/* ---- events and alerts ---- */

static int
ctl_render_events(struct ctl *c, struct ctl_args *a, const cJSON *r)
{
	static const char *const hdr[] = {"TIME", "TYPE", "LEVEL", "MESSAGE"};
	struct render_table *t;
	const cJSON *ev;
	char b[256];

	if (cJSON_GetArraySize(r) == 0) {
		buf_printf(&c->out, "no events for %s\n", a->pos[0]);
		return CTL_EXIT_OK;
	}
	t = render_table_new(4, hdr);
	cJSON_ArrayForEach (ev, r) {
		render_table_row(t);
		render_table_cell(t,
		                  ctl_fmt_time(c, ctl_get(ev, "time"), CTL_TIME_ABS, b, sizeof(b)));
		render_table_cell(t, ctl_fmt(ctl_get(ev, "type"), b, sizeof(b)));
		render_table_cell(t, ctl_fmt(ctl_get(ev, "level"), b, sizeof(b)));
		render_table_cell(t, ctl_get_str(ev, "message"));
	}
	render_table_print(t, &c->out);
	render_table_free(t);
	return CTL_EXIT_OK;
}

static int
ctl_run_events(struct ctl *c, const struct ctl_cmd *cmd, struct ctl_args *a)
{
	cJSON *args = cJSON_CreateObject();

	cJSON_AddStringToObject(args, "job", a->pos[0]);
	if (a->has_limit)
		cJSON_AddNumberToObject(args, "limit", (double)a->limit);
	return ctl_simple(c, "events", args, ctl_render_events, a);
}

static int
ctl_render_alerts(struct ctl *c, struct ctl_args *a, const cJSON *r)
{
	if (cJSON_GetArraySize(r) == 0)
		buf_puts(&c->out, a->all ? "no alerts\n" : "no firing alerts\n");
	else
		ctl_alerts_table(c, r, true);
	return CTL_EXIT_OK;
}

static int
ctl_run_alerts(struct ctl *c, const struct ctl_cmd *cmd, struct ctl_args *a)
{
	cJSON *args = cJSON_CreateObject();

	cJSON_AddBoolToObject(args, "all", a->all);
	return ctl_simple(c, "alerts", args, ctl_render_alerts, a);
}

/* ---- mutating commands: one confirmation line each ---- */

/* The job name the daemon resolved, when the result carries one. */
static const char *
ctl_result_job(const cJSON *r, const char *fallback)
{
	if (cJSON_IsString(r))
		return r->valuestring;
	if (ctl_get_str(r, "name") != NULL)
		return ctl_get_str(r, "name");
	if (ctl_get_str(r, "job") != NULL)
		return ctl_get_str(r, "job");
	return fallback;
}

static void
ctl_confirm_ack(struct ctl *c, const struct ctl_args *a, const cJSON *r)
{
	buf_printf(&c->out, "acknowledged alert %s\n", a->pos[0]);
}

static int
ctl_run_ack(struct ctl *c, const struct ctl_cmd *cmd, struct ctl_args *a)
{
	uint64_t id;
	cJSON *args;

	/* Alert ids are JSON numbers: keep them within 2^53. */
	if (util_parse_uint(a->pos[0], (1ULL << 53), &id) < 0 || id == 0)
		return ctl_fail(CTL_EXIT_USAGE,
		                "ack: invalid alert id '%s' (see 'ftmonctl alerts')", a->pos[0]);
	args = cJSON_CreateObject();
	cJSON_AddNumberToObject(args, "alert", (double)id);
	return ctl_confirm(c, "ack", args, ctl_confirm_ack, a);
}

static void
ctl_confirm_track(struct ctl *c, const struct ctl_args *a, const cJSON *r)
{
	char *name = xasprintf("%s/%s", a->pos[0], a->pos[1]);
	char *line = xasprintf("tracking %s", ctl_result_job(r, name));

	render_sanitize(line);
	buf_printf(&c->out, "%s\n", line);
	free(line);
	free(name);
}

static int
ctl_run_track(struct ctl *c, const struct ctl_cmd *cmd, struct ctl_args *a)
{
	cJSON *args = cJSON_CreateObject();

	cJSON_AddStringToObject(args, "source", a->pos[0]);
	cJSON_AddStringToObject(args, "job", a->pos[1]);
	return ctl_confirm(c, "track", args, ctl_confirm_track, a);
}

static void
ctl_confirm_untrack(struct ctl *c, const struct ctl_args *a, const cJSON *r)
{
	char *line = xasprintf("no longer tracking %s", ctl_result_job(r, a->pos[0]));

	render_sanitize(line);
	buf_printf(&c->out, "%s\n", line);
	free(line);
}

static int
ctl_run_untrack(struct ctl *c, const struct ctl_cmd *cmd, struct ctl_args *a)
{
	cJSON *args = cJSON_CreateObject();

	cJSON_AddStringToObject(args, "job", a->pos[0]);
	return ctl_confirm(c, "untrack", args, ctl_confirm_untrack, a);
}

static void
ctl_confirm_poll(struct ctl *c, const struct ctl_args *a, const cJSON *r)
{
	char *line;
	double n;

	if (a->npos > 0)
		line = xasprintf("polling %s", ctl_result_job(r, a->pos[0]));
	else if (ctl_get_num(r, "sources", &n))
		line = xasprintf("polling all jobs of %.0f source%s", n, n == 1 ? "" : "s");
	else
		line = xasprintf("polling all jobs");
	render_sanitize(line);
	buf_printf(&c->out, "%s\n", line);
	free(line);
}

static int
ctl_run_poll(struct ctl *c, const struct ctl_cmd *cmd, struct ctl_args *a)
{
	cJSON *args = cJSON_CreateObject();

	if (a->npos > 0)
		cJSON_AddStringToObject(args, "job", a->pos[0]);
	return ctl_confirm(c, "poll", args, ctl_confirm_poll, a);
}

static void
ctl_confirm_reload(struct ctl *c, const struct ctl_args *a, const cJSON *r)
{
	buf_puts(&c->out, "reloaded\n");
}

static int
ctl_run_reload(struct ctl *c, const struct ctl_cmd *cmd, struct ctl_args *a)
{
	return ctl_confirm(c, "reload", NULL, ctl_confirm_reload, a);
}

static void
ctl_confirm_log(struct ctl *c, const struct ctl_args *a, const cJSON *r)
{
	const char *job = ctl_result_job(r, a->pos[0]);
	const char *status = NULL;
	size_t points = 0;
	char *line;

	for (int i = 1; i < a->npos; i++) {
		if (util_startswith(a->pos[i], "status="))
			status = a->pos[i] + 7;
		else if (!util_startswith(a->pos[i], "step="))
			points++;
	}
	if (points > 0)
		line = xasprintf("logged %zu point%s to %s%s%s%s", points, points == 1 ? "" : "s",
		                 job, status ? " (status " : "", status ? status : "",
		                 status ? ")" : "");
	else
		line = xasprintf("set status of %s to %s", job, status ? status : "?");
	render_sanitize(line);
	buf_printf(&c->out, "%s\n", line);
	free(line);
}

/*
 * Add one `log` operand (step=N, status=STATUS or NAME=VALUE) to args or
 * metrics.  Values are strict doubles ("nan" and "inf" included); a NaN
 * goes out as null and an infinity as the string "inf"/"-inf", since JSON
 * has no number for either.  Returns false after printing a usage error.
 */
static bool
ctl_log_arg(const char *arg, cJSON *args, cJSON *metrics)
{
	const char *eq = strchr(arg, '='), *val = eq ? eq + 1 : NULL;
	char *name = eq ? xstrndup(arg, (size_t)(eq - arg)) : NULL;
	bool good = false;
	int64_t step;
	double v;
	int rc;

	if (name == NULL || *name == '\0')
		ctl_fail(CTL_EXIT_USAGE, "log: expected NAME=VALUE, got '%s'", arg);
	else if (cJSON_GetObjectItemCaseSensitive(
	                 strcmp(name, "step") == 0 || strcmp(name, "status") == 0 ? args : metrics,
	                 name) != NULL)
		ctl_fail(CTL_EXIT_USAGE, "log: %s given twice", name);
	else if (strcmp(name, "step") == 0 && (util_parse_int64(val, &step) < 0 || step < 0))
		ctl_fail(CTL_EXIT_USAGE, "log: step must be a non-negative integer, got '%s'", val);
	else if (strcmp(name, "status") == 0 && *val == '\0')
		ctl_fail(CTL_EXIT_USAGE, "log: status needs a value, e.g. status=succeeded");
	else if (strcmp(name, "step") == 0)
		good = cJSON_AddNumberToObject(args, "step", (double)step) != NULL;
	else if (strcmp(name, "status") == 0)
		good = cJSON_AddStringToObject(args, "status", val) != NULL;
	else if ((rc = util_parse_double(val, &v)) < 0)
		ctl_fail(CTL_EXIT_USAGE,
		         rc == -ERANGE ? "log: value of %s is out of range: '%s'"
		                       : "log: value of %s is not a number: '%s'",
		         name, val);
	else if (isnan(v))
		good = cJSON_AddNullToObject(metrics, name) != NULL;
	else if (isinf(v))
		good = cJSON_AddStringToObject(metrics, name, v < 0 ? "-inf" : "inf") != NULL;
	else
		good = cJSON_AddNumberToObject(metrics, name, v) != NULL;
	free(name);
	return good;
}

/* Build the args of `log JOB [step=N] [NAME=VALUE]... [status=STATUS]`;
 * NULL after printing a usage error. */
static cJSON *
ctl_log_args(const struct ctl_args *a)
{
	cJSON *args = cJSON_CreateObject(), *metrics = cJSON_CreateObject();

	cJSON_AddStringToObject(args, "job", a->pos[0]);
	for (int i = 1; i < a->npos; i++) {
		if (!ctl_log_arg(a->pos[i], args, metrics))
			goto bad;
	}
	if (cJSON_GetArraySize(metrics) == 0 && ctl_get(args, "status") == NULL) {
		ctl_fail(CTL_EXIT_USAGE, "log: nothing to log: give NAME=VALUE or status=STATUS");
		goto bad;
	}
	if (cJSON_GetArraySize(metrics) > 0)
		cJSON_AddItemToObject(args, "metrics", metrics);
	else
		cJSON_Delete(metrics);
	return args;
bad:
	cJSON_Delete(metrics);
	cJSON_Delete(args);
	return NULL;
}

static int
ctl_run_log(struct ctl *c, const struct ctl_cmd *cmd, struct ctl_args *a)
{
	cJSON *args = ctl_log_args(a);

	if (args == NULL)
		return CTL_EXIT_USAGE;
	return ctl_confirm(c, "log", args, ctl_confirm_log, a);
}

/* ---- watch ---- */

/* One event as a compact line: time, kind, job, then key=value pairs. */
static void
ctl_watch_format(struct ctl *c, const cJSON *ev)
{
	const cJSON *time = ctl_get(ev, "time"), *job = ctl_get(ev, "job"), *it;
	const char *kind = ctl_get_str(ev, "event");
	struct buf line = BUF_INIT;
	char b[256];

	if (kind == NULL)
		kind = ctl_get_str(ev, "type");
	if (cJSON_IsNumber(time))
		buf_puts(&line, ctl_fmt_time(c, time, CTL_TIME_ABS, b, sizeof(b)));
	else if (cJSON_IsString(time))
		buf_puts(&line, time->valuestring);
	else
		buf_puts(&line, util_format_rfc3339(util_now(), b, sizeof(b)));
	buf_printf(&line, " %s", kind ? kind : "-");
	if (cJSON_IsString(job))
		buf_printf(&line, " %s", job->valuestring);
	else if (ctl_get_str(job, "name") != NULL)
		buf_printf(&line, " %s", ctl_get_str(job, "name"));
	if (ctl_get_str(job, "status") != NULL)
		buf_printf(&line, " status=%s", ctl_get_str(job, "status"));
	buf_puts(&line, " ");
	cJSON_ArrayForEach (it, ev) {
		const char *k = it->string ? it->string : "";
		if (strcmp(k, "time") == 0 || strcmp(k, "event") == 0 || strcmp(k, "type") == 0 ||
		    strcmp(k, "job") == 0 || strcmp(k, "id") == 0)
			continue;
		if (cJSON_IsObject(it))
			ctl_fmt_pairs(it, &line); /* metrics, alert: flatten */
		else if (strcmp(k, "message") == 0 && cJSON_IsString(it))
			buf_printf(&line, "%s\"%s\"", line.data[line.len - 1] == ' ' ? "" : " ",
			           it->valuestring);
		else
			buf_printf(&line, "%s%s=%s", line.data[line.len - 1] == ' ' ? "" : " ", k,
			           ctl_fmt(it, b, sizeof(b)));
	}
	while (line.len > 0 && line.data[line.len - 1] == ' ')
		line.data[--line.len] = '\0';
	render_sanitize(line.data);
	buf_printf(&c->out, "%s\n", line.data);
	buf_free(&line);
}

/*
 * Handle one line of a watch stream.  A protocol reply (it has "ok") is
 * either the daemon refusing, the acknowledgement of the request, or an
 * event wrapped as a result; any other object is an event.  Returns 0 to go
 * on or an exit status.
 */
static int
ctl_watch_line(struct ctl *c, const char *text, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(text, len);
	const cJSON *ev = root, *payload;
	bool ok;
	int rc = CTL_EXIT_OK;

	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return ctl_fail(CTL_EXIT_UNREACHABLE, "malformed line from the daemon");
	}
	if (ctl_get(root, "ok") != NULL) {
		cJSON_Delete(root);
		if (proto_parse_reply(text, len, &root, &ok, &payload) < 0)
			return ctl_fail(CTL_EXIT_UNREACHABLE, "malformed reply from the daemon");
		if (!ok) {
			rc = ctl_refused(payload);
			cJSON_Delete(root);
			return rc;
		}
		ev = payload;
		/* The acknowledgement carries no event: nothing to show. */
		if (!cJSON_IsObject(ev) ||
		    (ctl_get(ev, "event") == NULL && ctl_get(ev, "type") == NULL)) {
			cJSON_Delete(root);
			return CTL_EXIT_OK;
		}
	}
	if (c->json && ev != root) {
		/* An event wrapped as a result: print the result alone. */
		buf_reset(&c->reply);
		buf_append(&c->reply, text, len);
		rc = ctl_print_json(c, ev);
		cJSON_Delete(root);
		return rc;
	}
	if (c->json) {
		buf_append(&c->out, text, len);
		buf_puts(&c->out, "\n");
	} else {
		ctl_watch_format(c, ev);
	}
	cJSON_Delete(root);
	return ctl_flush(c);
}

static void
ctl_watch_sig_cb(int sig)
{
	ctl_interrupted = 1;
}

static int
ctl_run_watch(struct ctl *c, const struct ctl_cmd *cmd, struct ctl_args *a)
{
	struct sigaction sa = {.sa_handler = ctl_watch_sig_cb};
	cJSON *args = cJSON_CreateObject();
	char *line;
	size_t len;
	int rc;

	/* No SA_RESTART: the blocking recv must return so we exit cleanly. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (a->npos > 0)
		cJSON_AddStringToObject(args, "job", a->pos[0]);
	line = proto_build_request(1, "watch", args);
	rc = ctl_connect(c, false);
	if (rc == CTL_EXIT_OK)
		rc = ctl_send(c, line);
	free(line);
	for (bool first = true; rc == CTL_EXIT_OK && !ctl_interrupted && !c->stdout_gone;
	     first = false) {
		rc = ctl_read_line(c, &len);
		if (rc == 1 && first && !ctl_interrupted)
			return ctl_fail(CTL_EXIT_UNREACHABLE, "the daemon closed the connection "
			                                      "without replying");
		if (rc == 1)
			return CTL_EXIT_OK;
		if (rc != 0)
			return rc;
		rc = ctl_watch_line(c, c->in.data, len);
		buf_consume(&c->in, len + 1);
	}
	return rc;
}

/* ---- the command table ---- */

#define CTL_SYN_METRICS "JOB [-m METRIC]... [--since STEP] [--until STEP] [--points N] [--csv]"

static const struct option ctl_opts_none[] = {{NULL, 0, NULL, 0}};
static const struct option ctl_opts_jobs[] = {
        {"all", no_argument, NULL, CTL_OPT_ALL},
        {"status", required_argument, NULL, CTL_OPT_STATUS},
        {"source", required_argument, NULL, CTL_OPT_SOURCE},
        {NULL, 0, NULL, 0},
};
static const struct option ctl_opts_metrics[] = {
        {"metric", required_argument, NULL, 'm'},
        {"since", required_argument, NULL, CTL_OPT_SINCE},
        {"until", required_argument, NULL, CTL_OPT_UNTIL},
        {"points", required_argument, NULL, CTL_OPT_POINTS},
        {"csv", no_argument, NULL, CTL_OPT_CSV},
        {NULL, 0, NULL, 0},
};
static const struct option ctl_opts_plot[] = {
        {"metric", required_argument, NULL, 'm'},
        {"width", required_argument, NULL, CTL_OPT_WIDTH},
        {"height", required_argument, NULL, CTL_OPT_HEIGHT},
        {NULL, 0, NULL, 0},
};
static const struct option ctl_opts_events[] = {
        {"limit", required_argument, NULL, CTL_OPT_LIMIT},
        {NULL, 0, NULL, 0},
};
static const struct option ctl_opts_alerts[] = {
        {"all", no_argument, NULL, CTL_OPT_ALL},
        {NULL, 0, NULL, 0},
};

static const struct ctl_cmd ctl_cmds[] = {
        {"ping", "", "check that the daemon answers",
         "Ask the daemon for a sign of life; it answers \"pong\".\n", ctl_opts_none, 0, 0,
         ctl_run_ping},
        {"status", "", "daemon health: sources, job counts, alerts, database",
         "Show the daemon's version and uptime, the health and last poll of each\n"
         "source, job counts by status, firing alerts and pending hook deliveries.\n",
         ctl_opts_none, 0, 0, ctl_run_status},
        {"jobs", "[--all] [--status STATUS] [--source NAME]",
         "list jobs with their progress and latest losses",
         "List jobs: name, status, step, latest training and validation loss, and\n"
         "when the job last changed.\n"
         "\n"
         "Options:\n"
         "  --all            include every job the daemon knows of\n"
         "  --status STATUS  only jobs in this status (running, succeeded, ...)\n"
         "  --source NAME    only jobs of this [source NAME]\n",
         ctl_opts_jobs, 0, 0, ctl_run_jobs},
        {"show", "JOB", "one job in full: fields, metrics, checkpoints, alerts",
         "Show one job in full: its fields, latest metric values, checkpoints and\n"
         "alerts.\n",
         ctl_opts_none, 1, 1, ctl_run_show},
        {"metrics", CTL_SYN_METRICS, "a job's metric points as a table or CSV",
         "Print the stored metric points of JOB, one row per step and one column\n"
         "per metric; a blank cell means that metric has no point at that step,\n"
         "\"nan\" a NaN value.\n"
         "\n"
         "Options:\n"
         "  -m, --metric METRIC  only this metric (repeat for several; default: all)\n"
         "      --since STEP     only steps >= STEP\n"
         "      --until STEP     only steps <= STEP\n"
         "      --points N       at most N points per metric, downsampled keeping\n"
         "                       the first, the last and the shape of the curve\n"
         "      --csv            print CSV: a header \"step,METRIC,...\" then one\n"
         "                       line per step, values at full precision\n",
         ctl_opts_metrics, 1, 1, ctl_run_metrics},
        {"plot", "JOB [-m METRIC]... [--width COLS] [--height ROWS]",
         "a job's loss curves drawn in the terminal",
         "Draw metric curves of JOB in the terminal, step on the x axis.  Each\n"
         "metric gets its own marker (and colour on a terminal, unless NO_COLOR is\n"
         "set); NaN values are left out of the curve and counted in the legend.\n"
         "\n"
         "Options:\n"
         "  -m, --metric METRIC  plot this metric (repeat for several; default:\n"
         "                       every metric whose name contains \"loss\")\n"
         "      --width COLS     total width in columns, y labels included\n"
         "                       (default: the terminal's width, else 80; min 20)\n"
         "      --height ROWS    rows of plot area (default: 20; min 2)\n",
         ctl_opts_plot, 1, 1, ctl_run_plot},
        {"events", "JOB [--limit N]", "a job's newest stored events",
         "List the newest stored events of JOB, newest first.\n"
         "\n"
         "Options:\n"
         "  --limit N  at most N events (default: the daemon's)\n",
         ctl_opts_events, 1, 1, ctl_run_events},
        {"alerts", "[--all]", "firing alerts (or all of them)",
         "List firing alerts.  Alert ids are what `ftmonctl ack` takes.\n"
         "\n"
         "Options:\n"
         "  --all  include resolved alerts\n",
         ctl_opts_alerts, 0, 0, ctl_run_alerts},
        {"ack", "ALERT_ID", "silence further notifications of an alert",
         "Acknowledge an alert: it stays listed, but no further notifications are\n"
         "sent for it.  Needs root or the daemon's admin group.\n",
         ctl_opts_none, 1, 1, ctl_run_ack},
        {"track", "SOURCE EXTERNAL_ID", "start watching a job of a source",
         "Start watching job EXTERNAL_ID of [source SOURCE], for sources that do\n"
         "not discover jobs themselves.  Needs root or the admin group.\n",
         ctl_opts_none, 2, 2, ctl_run_track},
        {"untrack", "JOB", "stop watching a job",
         "Stop polling JOB.  Its stored points stay in the database.  Needs root\n"
         "or the admin group.\n",
         ctl_opts_none, 1, 1, ctl_run_untrack},
        {"poll", "[JOB]", "poll one job, or all, now",
         "Poll JOB now, or every source when no job is given, instead of waiting\n"
         "for the next poll interval.  Needs root or the admin group.\n",
         ctl_opts_none, 0, 1, ctl_run_poll},
        {"reload", "", "reload the configuration (like SIGHUP)",
         "Reload the configuration file.  A broken file is refused and the old\n"
         "configuration kept; the error says why.  Needs root or the admin group.\n",
         ctl_opts_none, 0, 0, ctl_run_reload},
        {"log", "JOB [step=N] [NAME=VALUE]... [status=STATUS]",
         "record metric points or the status of a push job",
         "Record points for JOB of a `push` source; the job is created on first\n"
         "use.  Each NAME=VALUE is one metric at step N; values are numbers, and\n"
         "nan, inf and -inf are accepted.  status=succeeded (or failed, cancelled)\n"
         "ends the job.  Needs root or the admin group.\n"
         "\n"
         "Example:\n"
         "  ftmonctl log push/run1 step=10 train_loss=1.93 valid_loss=2.01\n",
         ctl_opts_none, 1, -1, ctl_run_log},
        {"watch", "[JOB]", "print events and new points as they happen",
         "Print one line per new event or metric point, of JOB or of every job,\n"
         "until the daemon closes the connection or Ctrl-C.  With --json each\n"
         "line is one JSON object.\n",
         ctl_opts_none, 0, 1, ctl_run_watch},
};

static void
ctl_usage(FILE *f)
{
	fprintf(f,
	        "Usage: ftmonctl [-s SOCKET] [--json] COMMAND [ARGS]...\n"
	        "\n"
	        "Ask the ftmond training monitor about jobs, metrics and alerts, and\n"
	        "tell it what to do.\n"
	        "\n"
	        "Options:\n"
	        "  -s, --socket SOCKET  the daemon's control socket (default: $FTMON_SOCKET,\n"
	        "                       else %s)\n"
	        "      --json           print the daemon's answer as JSON, for scripts\n"
	        "  -h, --help           show this help and exit\n"
	        "      --version        show the version and exit\n"
	        "\n"
	        "Commands:\n",
	        CTL_DEFAULT_SOCKET);
	for (size_t i = 0; i < ARRAY_SIZE(ctl_cmds); i++)
		fprintf(f, "  %-9s %s\n", ctl_cmds[i].name, ctl_cmds[i].summary);
	fprintf(f, "\n"
	           "JOB is SOURCE/EXTERNAL_ID, or a unique external id or prefix of one.\n"
	           "A command may be shortened to a unique prefix.  Run\n"
	           "'ftmonctl COMMAND --help' for its arguments and options.\n"
	           "\n"
	           "Exit status: 0 success, 1 the daemon refused the request, 2 usage\n"
	           "error, 3 the daemon could not be reached or sent no valid reply.\n");
}

static void
ctl_cmd_usage(const struct ctl_cmd *cmd)
{
	printf("Usage: ftmonctl [-s SOCKET] [--json] %s%s%s\n\n%s", cmd->name,
	       *cmd->synopsis ? " " : "", cmd->synopsis, cmd->help);
}

/* Exact name, else a unique prefix; NULL after printing why not. */
static const struct ctl_cmd *
ctl_cmd_find(const char *name)
{
	const struct ctl_cmd *found = NULL;
	struct buf matches = BUF_INIT;
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(ctl_cmds); i++)
		if (strcmp(ctl_cmds[i].name, name) == 0)
			return &ctl_cmds[i];
	for (size_t i = 0; *name != '\0' && i < ARRAY_SIZE(ctl_cmds); i++) {
		if (!util_startswith(ctl_cmds[i].name, name))
			continue;
		found = &ctl_cmds[i];
		buf_printf(&matches, "%s%s", n++ ? ", " : "", ctl_cmds[i].name);
	}
	if (n == 0)
		ctl_fail(CTL_EXIT_USAGE, "unknown command '%s' (see 'ftmonctl --help')", name);
	else if (n > 1)
		ctl_fail(CTL_EXIT_USAGE, "ambiguous command '%s': %s", name, matches.data);
	buf_free(&matches);
	return n == 1 ? found : NULL;
}

/* An integer option value within [min, max]; false after a usage error. */
static bool
ctl_opt_int(const struct ctl_cmd *cmd, const char *opt, const char *val, int64_t min, int64_t max,
            int64_t *out)
{
	if (util_parse_int64(val, out) == 0 && *out >= min && *out <= max)
		return true;
	if (min == INT64_MIN)
		ctl_fail(CTL_EXIT_USAGE, "%s: %s needs an integer, got '%s'", cmd->name, opt, val);
	else
		ctl_fail(CTL_EXIT_USAGE, "%s: %s needs an integer from %lld to %lld, got '%s'",
		         cmd->name, opt, (long long)min, (long long)max, val);
	return false;
}

/* Apply one command option to a; returns false after a usage error. */
static bool
ctl_opt_apply(struct ctl *c, const struct ctl_cmd *cmd, int opt, const char *val,
              struct ctl_args *a)
{
	int64_t v;

	switch (opt) {
	case CTL_OPT_JSON:
		c->json = true;
		return true;
	case CTL_OPT_ALL:
		a->all = true;
		return true;
	case CTL_OPT_CSV:
		a->csv = true;
		return true;
	case CTL_OPT_STATUS:
	case CTL_OPT_SOURCE:
	case 'm':
		if (*val == '\0') {
			ctl_fail(CTL_EXIT_USAGE, "%s: empty option value", cmd->name);
			return false;
		}
		if (opt == CTL_OPT_STATUS)
			a->status = val;
		else if (opt == CTL_OPT_SOURCE)
			a->source = val;
		else {
			a->metrics =
			        xreallocarray(a->metrics, a->nmetrics + 1, sizeof(*a->metrics));
			a->metrics[a->nmetrics++] = val;
		}
		return true;
	case CTL_OPT_SINCE:
		a->has_since = true;
		return ctl_opt_int(cmd, "--since", val, INT64_MIN, INT64_MAX, &a->since);
	case CTL_OPT_UNTIL:
		a->has_until = true;
		return ctl_opt_int(cmd, "--until", val, INT64_MIN, INT64_MAX, &a->until);
	case CTL_OPT_POINTS:
		a->has_points = true;
		return ctl_opt_int(cmd, "--points", val, 2, 1000000, &a->points);
	case CTL_OPT_LIMIT:
		a->has_limit = true;
		return ctl_opt_int(cmd, "--limit", val, 1, 100000, &a->limit);
	case CTL_OPT_WIDTH:
	case CTL_OPT_HEIGHT:
		if (opt == CTL_OPT_WIDTH && !ctl_opt_int(cmd, "--width", val, 20, 10000, &v))
			return false;
		if (opt == CTL_OPT_HEIGHT && !ctl_opt_int(cmd, "--height", val, 2, 1000, &v))
			return false;
		*(opt == CTL_OPT_WIDTH ? &a->width : &a->height) = (int)v;
		return true;
	}
	return false;
}

/* Report a getopt failure as one line; cmd is NULL for global options. */
static int
ctl_opt_error(const struct ctl_cmd *cmd, int opt, char **argv)
{
	const char *arg = argv[optind - 1];
	char *where = cmd ? xasprintf("%s: ", cmd->name) : xstrdup("");
	char *see = xasprintf("see 'ftmonctl %s%s--help'", cmd ? cmd->name : "", cmd ? " " : "");
	int rc;

	if (opt == ':')
		rc = ctl_fail(CTL_EXIT_USAGE, "%soption '%s' needs an argument (%s)", where, arg,
		              see);
	else if (optopt > 0 && optopt < 256)
		rc = ctl_fail(CTL_EXIT_USAGE, "%sunknown option '-%c' (%s)", where, optopt, see);
	else if (optopt >= 256) /* "--all=x": a flag given a value */
		rc = ctl_fail(CTL_EXIT_USAGE, "%soption '%.*s' takes no argument (%s)", where,
		              (int)strcspn(arg, "="), arg, see);
	else
		rc = ctl_fail(CTL_EXIT_USAGE, "%sunknown option '%s' (%s)", where, arg, see);
	free(where);
	free(see);
	return rc;
}

/*
 * Parse a command's own options and operands (argv[0] is the command).
 * Returns -1 to run the command, else the exit status (0 after --help).
 */
static int
ctl_cmd_parse(struct ctl *c, const struct ctl_cmd *cmd, int argc, char **argv, struct ctl_args *a)
{
	struct option opts[16];
	char shortopts[8] = ":h";
	size_t n = 0;
	int opt;

	for (const struct option *o = cmd->opts; o->name != NULL; o++) {
		opts[n++] = *o;
		if (o->val == 'm')
			strcat(shortopts, "m:");
	}
	opts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	opts[n++] = (struct option){"json", no_argument, NULL, CTL_OPT_JSON};
	opts[n] = (struct option){NULL, 0, NULL, 0};

	optind = 0; /* glibc: start over, argv[0] being the command */
	while ((opt = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		if (opt == 'h') {
			ctl_cmd_usage(cmd);
			return CTL_EXIT_OK;
		}
		if (opt == '?' || opt == ':')
			return ctl_opt_error(cmd, opt, argv);
		if (!ctl_opt_apply(c, cmd, opt, optarg, a))
			return CTL_EXIT_USAGE;
	}
	a->pos = argv + optind;
	a->npos = argc - optind;
	if (a->npos < cmd->min_pos)
		return ctl_fail(CTL_EXIT_USAGE, "%s: missing argument (usage: ftmonctl %s %s)",
		                cmd->name, cmd->name, cmd->synopsis);
	if (cmd->max_pos >= 0 && a->npos > cmd->max_pos)
		return ctl_fail(CTL_EXIT_USAGE,
		                "%s: unexpected argument '%s' (usage: ftmonctl %s%s%s)", cmd->name,
		                a->pos[cmd->max_pos], cmd->name, *cmd->synopsis ? " " : "",
		                cmd->synopsis);
	return -1;
}

/* Global options; returns -1 to go on with argv[*optind], else a status. */
static int
ctl_parse_global(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"socket", required_argument, NULL, 's'},
	        {"json", no_argument, NULL, CTL_OPT_JSON},
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, CTL_OPT_VERSION},
	        {NULL, 0, NULL, 0},
	};
	int opt;

	opterr = 0;
	/* "+": stop at the command, whose options are its own. */
	while ((opt = getopt_long(argc, argv, "+:s:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (*optarg == '\0')
				return ctl_fail(CTL_EXIT_USAGE, "-s needs a socket path");
			c->socket = optarg;
			break;
		case CTL_OPT_JSON:
			c->json = true;
			break;
		case 'h':
			ctl_usage(stdout);
			return CTL_EXIT_OK;
		case CTL_OPT_VERSION:
			printf("ftmonctl %s\n", PACKAGE_VERSION);
			return CTL_EXIT_OK;
		default:
			return ctl_opt_error(NULL, opt, argv);
		}
	}
	if (optind >= argc)
		return ctl_fail(CTL_EXIT_USAGE, "no command given (see 'ftmonctl --help')");
	if (c->socket == NULL) {
		const char *env = getenv("FTMON_SOCKET");
		c->socket = env != NULL && *env != '\0' ? env : CTL_DEFAULT_SOCKET;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	struct ctl c = {.fd = -1, .in = BUF_INIT, .out = BUF_INIT, .reply = BUF_INIT};
	struct ctl_args a = {0};
	const struct ctl_cmd *cmd;
	int rc;

	log_init("ftmonctl");
	setlocale(LC_CTYPE, "");
	/* A closed socket or stdout must be an error return, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	c.now = util_now();

	rc = ctl_parse_global(&c, argc, argv);
	if (rc >= 0)
		goto out;
	cmd = ctl_cmd_find(argv[optind]);
	if (cmd == NULL) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	rc = ctl_cmd_parse(&c, cmd, argc - optind, argv + optind, &a);
	if (rc < 0)
		rc = cmd->run(&c, cmd, &a);
	if (rc == CTL_EXIT_OK)
		rc = ctl_flush(&c);
out:
	if (c.fd >= 0)
		close(c.fd);
	buf_free(&c.in);
	buf_free(&c.out);
	buf_free(&c.reply);
	free(a.metrics);
	return rc;
}
