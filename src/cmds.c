/*
 * cmds: the control commands (see cmds.h).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "buf.h"
#include "cmds.h"
#include "conf.h"
#include "control.h"
#include "logreq.h"
#include "proto.h"
#include "source.h"
#include "store.h"
#include "util.h"
#include "watch.h"
#include "xmalloc.h"

#include "cmds_internal.h"

static void cmds_status_alerts(cJSON *res);
static void cmds_job_best(struct cmds *c, int64_t job_id, cJSON *job);

struct cmds_cmd {
	const char *name;
	bool mutating;
	cmds_handler handler;
};

void
cmds_fail(struct cmds_reply *r, const char *code, char *message)
{
	r->code = code;
	r->message = message;
}

void
cmds_fail_store(struct cmds_reply *r, struct cmds *c, int rc)
{
	cmds_fail(r, PROTO_E_INTERNAL,
	          xasprintf("database error: %s",
	                    rc == -ENOSPC ? "disk full" : store_errmsg(c->host.store)));
}

bool
cmds_arg_error(struct cmds_reply *r, int rc, const char *name, const char *type)
{
	if (rc == 0)
		return false;
	cmds_fail(r, PROTO_E_INVALID_ARGUMENT, xasprintf("argument \"%s\" must be %s", name, type));
	return true;
}

struct source *
cmds_source_find(struct cmds *c, const char *name)
{
	size_t n = c->host.ops->source_count(c->host.data);

	for (size_t i = 0; i < n; i++) {
		struct source *s = c->host.ops->source_at(c->host.data, i);
		if (strcmp(s->name, name) == 0)
			return s;
	}
	return NULL;
}

/* Resolve the "job" argument (required) to a job id. */
bool
cmds_job_arg(struct cmds_ctx *ctx, struct cmds_reply *r, int64_t *job_id)
{
	const char *spec;
	char *why = NULL;
	int rc;

	if (cmds_arg_error(r, proto_arg_string(ctx->args, "job", &spec), "job", "a string"))
		return false;
	if (spec == NULL || *spec == '\0') {
		cmds_fail(r, PROTO_E_INVALID_ARGUMENT, xstrdup("argument \"job\" is required"));
		return false;
	}
	rc = store_job_resolve(ctx->c->host.store, spec, job_id, &why);
	if (rc == -ENOENT)
		cmds_fail(r, PROTO_E_NOT_FOUND, xasprintf("no job matches '%s'", spec));
	else if (rc == -EEXIST)
		cmds_fail(r, PROTO_E_AMBIGUOUS,
		          xasprintf("'%s' matches several jobs: %s", spec, why));
	else if (rc < 0)
		cmds_fail_store(r, ctx->c, rc);
	free(why);
	return rc == 0;
}

static void
cmds_ping(struct cmds_ctx *ctx, struct cmds_reply *r)
{
	r->result = cJSON_CreateString("pong");
}

/* A source's stored jobs, every status (its own "jobs" would say how many
 * it polls now, which falls as jobs finish). */
static void
cmds_source_counts(cJSON *o, const cJSON *by_status)
{
	const cJSON *e;
	double total = 0;

	cJSON_DeleteItemFromObject(o, "jobs");
	cJSON_DeleteItemFromObject(o, "jobs_by_status");
	cJSON_ArrayForEach (e, by_status)
		total += e->valuedouble;
	cJSON_AddNumberToObject(o, "jobs", total);
	cJSON_AddItemToObject(o, "jobs_by_status",
	                      by_status ? cJSON_Duplicate(by_status, true) : cJSON_CreateObject());
}

static void
cmds_status(struct cmds_ctx *ctx, struct cmds_reply *r)
{
	struct cmds *c = ctx->c;
	size_t n = c->host.ops->source_count(c->host.data);
	int rc;
	cJSON *counts = store_query_counts(c->host.store, &rc);
	cJSON *res, *sources;

	if (counts == NULL) {
		cmds_fail_store(r, c, rc);
		return;
	}
	res = cJSON_CreateObject();
	c->host.ops->describe(c->host.data, res);
	sources = cJSON_AddArrayToObject(res, "sources");
	for (size_t i = 0; i < n; i++) {
		struct source *s = c->host.ops->source_at(c->host.data, i);
		cJSON *o = s->ops->status(s);
		cmds_source_counts(o, cJSON_GetObjectItemCaseSensitive(
		                              cJSON_GetObjectItem(counts, "by_source"), s->name));
		cJSON_AddItemToObject(o, "name", cJSON_CreateString(s->name));
		cJSON_AddItemToObject(o, "type",
		                      cJSON_CreateString(conf_source_type_name(s->conf->type)));
		cJSON_AddItemToArray(sources, o);
	}
	cJSON_AddItemToObject(res, "jobs", cJSON_DetachItemFromObject(counts, "jobs"));
	cJSON_AddItemToObject(res, "untracked", cJSON_DetachItemFromObject(counts, "untracked"));
	cJSON_AddItemToObject(res, "alerts_firing",
	                      cJSON_DetachItemFromObject(counts, "alerts_firing"));
	cJSON_AddItemToObject(res, "deliveries_pending",
	                      cJSON_DetachItemFromObject(counts, "deliveries_pending"));
	cJSON_Delete(counts);
	cmds_status_alerts(res);
	r->result = res;
}

/* Whether name is one of values (a JSON array of strings). */
static bool
cmds_in_list(const cJSON *values, const char *name)
{
	const cJSON *v;

	cJSON_ArrayForEach (v, values)
		if (cJSON_IsString(v) && strcmp(v->valuestring, name) == 0)
			return true;
	return false;
}

/* When name is neither a known nor a stored source (what "source") or
 * status (what "status"): the message listing the ones there are
 * (malloc'd); else NULL. */
static char *
cmds_jobs_unknown(struct cmds *c, const char *what, const char *name)
{
	static const char *const statuses[] = {"validating_files", "queued", "running",  "paused",
	                                       "succeeded",        "failed", "cancelled"};
	bool source = strcmp(what, "source") == 0;
	size_t n = source ? c->host.ops->source_count(c->host.data) : ARRAY_SIZE(statuses);
	char *list, *msg = NULL;
	cJSON *known;
	int rc;

	if (name == NULL || (known = store_query_job_values(c->host.store, what, &rc)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *v =
		        source ? c->host.ops->source_at(c->host.data, i)->name : statuses[i];
		if (!cmds_in_list(known, v))
			cJSON_AddItemToArray(known, cJSON_CreateString(v));
	}
	if (!cmds_in_list(known, name)) {
		list = cJSON_PrintUnformatted(known);
		msg = xasprintf("no %s named '%s'; known: %s", what, name, list ? list : "[]");
		cJSON_free(list);
	}
	cJSON_Delete(known);
	return msg;
}

static void
cmds_jobs(struct cmds_ctx *ctx, struct cmds_reply *r)
{
	struct store_jobs_filter f = {0};
	struct buf line = BUF_INIT;
	size_t n;
	int rc;

	if (cmds_arg_error(r, proto_arg_string(ctx->args, "status", &f.status), "status",
	                   "a string") ||
	    cmds_arg_error(r, proto_arg_string(ctx->args, "source", &f.source), "source",
	                   "a string") ||
	    cmds_arg_error(r, proto_arg_bool(ctx->args, "all", false, &f.all), "all", "a boolean"))
		return;
	/* Written as text: a tree of 10,000 jobs cost most of the reply's time
	 * in malloc and cJSON's number printing. */
	proto_reply_ok_open(&line, ctx->id);
	if ((rc = store_query_jobs_json(ctx->c->host.store, &f, &line, &n)) < 0) {
		buf_free(&line);
		cmds_fail_store(r, ctx->c, rc);
		return;
	}
	proto_reply_ok_close(&line);
	r->line = buf_steal(&line);
	if (n == 0) {
		/* An empty answer to a typo would read as "no jobs". */
		char *msg = cmds_jobs_unknown(ctx->c, "source", f.source);
		if (msg == NULL)
			msg = cmds_jobs_unknown(ctx->c, "status", f.status);
		if (msg != NULL) {
			free(r->line);
			r->line = NULL;
			cmds_fail(r, PROTO_E_NOT_FOUND, msg);
		}
	}
}

static void
cmds_job(struct cmds_ctx *ctx, struct cmds_reply *r)
{
	int64_t job_id;
	int rc;

	if (!cmds_job_arg(ctx, r, &job_id))
		return;
	r->result = store_query_job(ctx->c->host.store, job_id, &rc);
	if (r->result == NULL)
		cmds_fail_store(r, ctx->c, rc);
	else
		cmds_job_best(ctx->c, job_id, r->result);
}

/* The "metric" argument: a string or a list of strings; NULL for all. */
static bool
cmds_metric_names(struct cmds_ctx *ctx, struct cmds_reply *r, const char ***names)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(ctx->args, "metric");
	const cJSON *e;
	size_t n = 0;

	*names = NULL;
	if (m == NULL || cJSON_IsNull(m))
		return true;
	if (cJSON_IsString(m)) {
		*names = xcalloc(2, sizeof(char *));
		(*names)[0] = m->valuestring;
		return true;
	}
	if (!cJSON_IsArray(m) || cJSON_GetArraySize(m) > 1000)
		goto bad;
	*names = xcalloc((size_t)cJSON_GetArraySize(m) + 1, sizeof(char *));
	cJSON_ArrayForEach (e, m) {
		if (!cJSON_IsString(e)) {
			free(*names);
			*names = NULL;
			goto bad;
		}
		(*names)[n++] = e->valuestring;
	}
	if (n == 0) {
		free(*names);
		*names = NULL;
	}
	return true;
bad:
	cmds_arg_error(r, -EINVAL, "metric", "a string or a list of strings");
	return false;
}

/* Every wanted name is one of the job's metrics; else fail r naming the
 * unknown one and listing those the job has (a typo must not pass as "no
 * points"). */
static bool
cmds_metrics_known(struct cmds_ctx *ctx, struct cmds_reply *r, int64_t job_id,
                   const char *const *names)
{
	int rc;
	cJSON *known = store_query_metric_names(ctx->c->host.store, job_id, &rc), *e;
	struct buf list = BUF_INIT;
	const char *missing = NULL;

	if (known == NULL) {
		cmds_fail_store(r, ctx->c, rc);
		return false;
	}
	for (size_t i = 0; names[i] != NULL && missing == NULL; i++) {
		bool found = false;
		cJSON_ArrayForEach (e, known)
			found |= strcmp(e->valuestring, names[i]) == 0;
		if (!found)
			missing = names[i];
	}
	cJSON_ArrayForEach (e, known)
		buf_printf(&list, "%s%s", list.len ? ", " : "", e->valuestring);
	if (missing != NULL)
		cmds_fail(r, PROTO_E_NOT_FOUND,
		          list.len ? xasprintf("no metric '%.200s' in this job; known: %s", missing,
		                               list.data)
		                   : xasprintf("no metric '%.200s': this job has no metrics yet",
		                               missing));
	buf_free(&list);
	cJSON_Delete(known);
	return missing == NULL;
}

/* The numeric arguments of metrics: since, until, points, totals. */
static bool
cmds_metrics_range(struct cmds_ctx *ctx, struct cmds_reply *r, int64_t *since, int64_t *until,
                   int64_t *points, bool *totals)
{
	if (cmds_arg_error(r, proto_arg_int(ctx->args, "since", INT64_MIN, since), "since",
	                   "an integer step") ||
	    cmds_arg_error(r, proto_arg_int(ctx->args, "until", INT64_MAX, until), "until",
	                   "an integer step") ||
	    cmds_arg_error(r, proto_arg_int(ctx->args, "points", 0, points), "points",
	                   "an integer") ||
	    cmds_arg_error(r, proto_arg_bool(ctx->args, "totals", false, totals), "totals",
	                   "a boolean"))
		return false;
	if (*points < 0 || *points == 1 || *points > 1000000) {
		/* One point cannot hold both ends of a curve. */
		cmds_fail(r, PROTO_E_INVALID_ARGUMENT,
		          xstrdup("argument \"points\" must be 0 (all) or between 2 and 1000000"));
		return false;
	}
	if (*since > *until) {
		cmds_fail(r, PROTO_E_INVALID_ARGUMENT,
		          xstrdup("argument \"since\" is after \"until\": the range is empty"));
		return false;
	}
	return true;
}

/* With "totals": {"metrics": {...}, "totals": {name: stored points in the
 * range}}, so a plot can say how much it downsampled; without, the plain
 * {name: [[step, value], ...]} of SPEC. */
static void
cmds_metrics(struct cmds_ctx *ctx, struct cmds_reply *r)
{
	int64_t job_id, since, until, points;
	const char **names;
	bool want_totals;
	cJSON *totals = NULL;
	int rc;

	if (!cmds_metrics_range(ctx, r, &since, &until, &points, &want_totals) ||
	    !cmds_metric_names(ctx, r, &names))
		return;
	if (!cmds_job_arg(ctx, r, &job_id) ||
	    (names != NULL && !cmds_metrics_known(ctx, r, job_id, names))) {
		free(names);
		return;
	}
	if (want_totals)
		totals = cJSON_CreateObject();
	r->result = store_query_metrics(ctx->c->host.store, job_id, names, since, until,
	                                (size_t)points, totals, &rc);
	free(names);
	if (r->result == NULL) {
		cJSON_Delete(totals);
		cmds_fail_store(r, ctx->c, rc);
	} else if (totals != NULL) {
		cJSON *res = cJSON_CreateObject();
		cJSON_AddItemToObject(res, "metrics", r->result);
		cJSON_AddItemToObject(res, "totals", totals);
		r->result = res;
	}
}

static void
cmds_events(struct cmds_ctx *ctx, struct cmds_reply *r)
{
	int64_t job_id, limit;
	int rc;

	if (cmds_arg_error(r, proto_arg_int(ctx->args, "limit", 50, &limit), "limit", "an integer"))
		return;
	if (limit < 1 || limit > 100000) {
		cmds_fail(r, PROTO_E_INVALID_ARGUMENT,
		          xstrdup("argument \"limit\" must be between 1 and 100000"));
		return;
	}
	if (!cmds_job_arg(ctx, r, &job_id))
		return;
	r->result = store_query_events(ctx->c->host.store, job_id, limit, &rc);
	if (r->result == NULL)
		cmds_fail_store(r, ctx->c, rc);
}

static void
cmds_alerts(struct cmds_ctx *ctx, struct cmds_reply *r)
{
	bool all;
	int rc;

	if (cmds_arg_error(r, proto_arg_bool(ctx->args, "all", false, &all), "all", "a boolean"))
		return;
	r->result = store_query_alerts(ctx->c->host.store, all, &rc);
	if (r->result == NULL)
		cmds_fail_store(r, ctx->c, rc);
}

/* ---- rules: ack, and what status and job add ---- */

static void
cmds_ack(struct cmds_ctx *ctx, struct cmds_reply *r)
{
	struct store *st = ctx->c->host.store;
	int64_t id;
	int rc;

	if (cmds_arg_error(r, proto_arg_int(ctx->args, "alert", -1, &id), "alert", "an integer"))
		return;
	if (id < 1) {
		cmds_fail(r, PROTO_E_INVALID_ARGUMENT,
		          xstrdup("argument \"alert\" must be an alert id"));
		return;
	}
	if (store_in_transaction(st)) {
		cmds_fail(r, PROTO_E_BUSY, xstrdup("the database is busy; try again"));
		return;
	}
	if ((rc = store_begin(st)) < 0 || (rc = store_alert_ack(st, id)) < 0 ||
	    (rc = store_commit(st)) < 0) {
		store_rollback(st);
		if (rc == -ENOENT)
			cmds_fail(r, PROTO_E_NOT_FOUND, xasprintf("no alert %lld", (long long)id));
		else
			cmds_fail_store(r, ctx->c, rc);
		return;
	}
	r->result = cJSON_CreateObject();
	cJSON_AddNumberToObject(r->result, "alert", (double)id);
	cJSON_AddBoolToObject(r->result, "acked", true);
}

/* status: "alerts": {"firing": N} beside the older flat count. */
static void
cmds_status_alerts(cJSON *res)
{
	cJSON *n = cJSON_GetObjectItemCaseSensitive(res, "alerts_firing");
	cJSON *o = cJSON_AddObjectToObject(res, "alerts");

	cJSON_AddNumberToObject(o, "firing", cJSON_IsNumber(n) ? n->valuedouble : 0);
}

/* job: "best_checkpoint" (null when the job has no validation loss). */
static void
cmds_job_best(struct cmds *c, int64_t job_id, cJSON *job)
{
	int rc;
	cJSON *best = store_best_checkpoint(c->host.store, job_id, &rc);

	cJSON_AddItemToObject(job, "best_checkpoint", best ? best : cJSON_CreateNull());
}

static void
cmds_reload(struct cmds_ctx *ctx, struct cmds_reply *r)
{
	char **errors = NULL;

	if (ctx->c->host.ops->reload(ctx->c->host.data, &errors) < 0) {
		size_t n = util_strv_len(errors);
		cmds_fail(r, PROTO_E_CONFIG,
		          xasprintf("reload failed, keeping the running configuration "
		                    "(%zu error%s)",
		                    n, n == 1 ? "" : "s"));
		r->errors = errors;
		return;
	}
	r->result = cJSON_CreateObject();
	cJSON_AddBoolToObject(r->result, "reloaded", true);
}

static const struct cmds_cmd cmds_table[] = {
        {"ping", false, cmds_ping},       {"status", false, cmds_status},
        {"jobs", false, cmds_jobs},       {"job", false, cmds_job},
        {"metrics", false, cmds_metrics}, {"events", false, cmds_events},
        {"alerts", false, cmds_alerts},   {"watch", false, cmds_watch},
        {"ack", true, cmds_ack},          {"track", true, cmds_track},
        {"untrack", true, cmds_untrack},  {"forget", true, cmds_forget},
        {"poll", true, cmds_poll},        {"reload", true, cmds_reload},
        {"log", true, cmds_log},
};

struct cmds *
cmds_new(const struct cmds_host *host)
{
	struct cmds *c = xcalloc(1, sizeof(*c));

	c->host = *host;
	LIST_INIT(&c->logwaits);
	return c;
}

void
cmds_free(struct cmds *c)
{
	if (c == NULL)
		return;
	/* A client waiting on a source is held: control_free, which runs
	 * first, told its gone(), which freed its wait. */
	free(c);
}

static const struct cmds_cmd *
cmds_lookup(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(cmds_table); i++)
		if (strcmp(cmds_table[i].name, name) == 0)
			return &cmds_table[i];
	return NULL;
}

static void
cmds_run(struct cmds *c, struct control_client *cl, const struct proto_request *req,
         struct cmds_reply *r)
{
	const struct cmds_cmd *cmd = cmds_lookup(req->cmd);
	const char *group;

	if (cmd == NULL) {
		cmds_fail(r, PROTO_E_UNKNOWN_COMMAND,
		          xasprintf("unknown command '%.64s'", req->cmd));
	} else if (cmd->mutating &&
	           !c->host.ops->may_mutate(c->host.data, control_client_peer(cl))) {
		group = c->host.ops->admin_group(c->host.data);
		cmds_fail(r, PROTO_E_PERMISSION,
		          xasprintf("'%s' changes state: it needs root or membership of the admin "
		                    "group%s%s",
		                    cmd->name, group ? " " : "", group ? group : ""));
	} else {
		struct cmds_ctx ctx = {c, cl, req->id, req->args};
		cmd->handler(&ctx, r);
	}
}

void
cmds_dispatch(void *data, struct control_client *cl, const char *line, size_t len)
{
	struct cmds *c = data;
	struct proto_request req;
	struct cmds_reply r = {0};
	const char *code, *message;

	if (proto_parse_request(line, len, &req, &code, &message) < 0) {
		if (cmds_log_defer(c, cl, NULL)) {
			proto_request_free(&req);
			return;
		}
		control_client_send(cl, proto_reply_error(req.id, code, message));
		proto_request_free(&req);
		return;
	}
	if (cmds_log_defer(c, cl, req.cmd)) {
		proto_request_free(&req);
		return;
	}
	cmds_run(c, cl, &req, &r);
	if (r.code && r.errors)
		control_client_send(cl, proto_reply_errors(req.id, r.code, r.message,
		                                           (const char *const *)r.errors));
	else if (r.code)
		control_client_send(cl, proto_reply_error(req.id, r.code, r.message));
	else if (r.line)
		control_client_send(cl, r.line);
	else if (!r.held)
		control_client_send(cl, proto_reply_ok(req.id, r.result));
	free(r.message);
	util_strv_free(r.errors);
	proto_request_free(&req);
}
