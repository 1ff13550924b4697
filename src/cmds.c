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

struct cmds_logwait;

struct cmds {
	struct cmds_host host;
	LIST_HEAD(, cmds_logwait) logwaits; /* clients pinned by log */
};

/* A client held until a source answers (track asks the API first). */
struct cmds_wait {
	struct cmds *c;
	struct control_client *cl; /* held */
	cJSON *id;                 /* owned copy of the request id */
	struct source *src;        /* borrowed: it answers or cancels before it goes */
	bool answered;             /* the reply is being sent: gone() leaves w alone */
};

/* What a handler returns: a result, or an error code and message. */
struct cmds_reply {
	cJSON *result;    /* owned until sent */
	char *line;       /* owned: the whole reply line, written as text; sent instead of result */
	const char *code; /* static PROTO_E_* when failing */
	char *message;    /* owned */
	char **errors;    /* owned, NULL-terminated: one line per problem, or NULL */
	bool held;        /* the handler keeps the client: it answers later */
};

struct cmds_ctx {
	struct cmds *c;
	struct control_client *cl;
	const cJSON *id;
	const cJSON *args;
};

typedef void (*cmds_handler)(struct cmds_ctx *ctx, struct cmds_reply *r);

static void cmds_status_alerts(cJSON *res);
static void cmds_job_best(struct cmds *c, int64_t job_id, cJSON *job);

struct cmds_cmd {
	const char *name;
	bool mutating;
	cmds_handler handler; /* NULL: arrives with a later feature */
};

static void
cmds_fail(struct cmds_reply *r, const char *code, char *message)
{
	r->code = code;
	r->message = message;
}

static void
cmds_fail_store(struct cmds_reply *r, struct cmds *c, int rc)
{
	cmds_fail(r, PROTO_E_INTERNAL,
	          xasprintf("database error: %s",
	                    rc == -ENOSPC ? "disk full" : store_errmsg(c->host.store)));
}

static bool
cmds_arg_error(struct cmds_reply *r, int rc, const char *name, const char *type)
{
	if (rc == 0)
		return false;
	cmds_fail(r, PROTO_E_INVALID_ARGUMENT, xasprintf("argument \"%s\" must be %s", name, type));
	return true;
}

static struct source *
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
static bool
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

/* The source a stored job belongs to. */
static struct source *
cmds_job_source(struct cmds_ctx *ctx, struct cmds_reply *r, int64_t job_id)
{
	int rc;
	cJSON *job = store_query_job(ctx->c->host.store, job_id, &rc);
	struct source *s = NULL;

	if (job == NULL) {
		cmds_fail_store(r, ctx->c, rc);
		return NULL;
	}
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(job, "source"));
	if (name == NULL || (s = cmds_source_find(ctx->c, name)) == NULL)
		cmds_fail(r, PROTO_E_NOT_FOUND,
		          xasprintf("job's source '%s' is not configured", name ? name : "?"));
	cJSON_Delete(job);
	return s;
}

static cJSON *
cmds_job_result(struct cmds *c, int64_t job_id)
{
	int rc;
	cJSON *job = store_query_job(c->host.store, job_id, &rc);
	cJSON *res = cJSON_CreateObject();
	cJSON *name = job ? cJSON_GetObjectItem(job, "name") : NULL;
	cJSON_AddStringToObject(res, "job", cJSON_IsString(name) ? name->valuestring : "?");
	cJSON_Delete(job);
	return res;
}

static void
cmds_wait_free(struct cmds_wait *w)
{
	cJSON_Delete(w->id);
	free(w);
}

/* The client went away before the source answered. */
static void
cmds_wait_gone_cb(struct control_client *cl, void *data)
{
	struct cmds_wait *w = data;

	/* From inside the reply's send (over the stream cap): the source has
	 * answered already and cmds_track_done_cb still holds w. */
	if (w->answered)
		return;
	if (w->src->ops->track_cancel)
		w->src->ops->track_cancel(w->src, w);
	cmds_wait_free(w);
}

/* What a source's refusal of a track means to the client: the job does
 * not exist, the name is wrong, or the source cannot answer now (its API
 * is unreachable or refuses the key, or it is being reconfigured). */
static const char *
cmds_track_code(int rc)
{
	switch (rc) {
	case -ENOENT:
		return PROTO_E_NOT_FOUND;
	case -EINVAL:
		return PROTO_E_INVALID_ARGUMENT;
	case -EIO:
	case -EACCES:
	case -ECANCELED:
	case -EBUSY:
		return PROTO_E_UNAVAILABLE;
	default:
		return PROTO_E_INTERNAL;
	}
}

static void
cmds_track_done_cb(void *data, int rc, int64_t job_id, const char *why)
{
	struct cmds_wait *w = data;
	char *line;

	if (rc < 0)
		line = proto_reply_error(w->id, cmds_track_code(rc),
		                         why ? why : "cannot track that job");
	else
		line = proto_reply_ok(w->id, cmds_job_result(w->c, job_id));
	w->answered = true;
	/* A failed send has ended the hold (gone() ran): cl is forgotten. */
	if (control_client_send(w->cl, line))
		control_client_release(w->cl);
	cmds_wait_free(w);
}

/* A bare id or prefix of a stored job: 0 with *s, *ext and *resolved (the
 * id, owned by the caller) set; -1 after failing r (ambiguous, or the job's
 * source is gone); 1 when the store knows no such job. */
static int
cmds_track_stored(struct cmds_ctx *ctx, struct cmds_reply *r, struct source **s, const char **ext,
                  char **resolved)
{
	int64_t job_id;
	char *why = NULL;
	int rc = store_job_resolve(ctx->c->host.store, *ext, &job_id, &why);
	cJSON *job;

	if (rc == -ENOENT)
		return 1;
	if (rc == -EEXIST)
		cmds_fail(r, PROTO_E_AMBIGUOUS,
		          xasprintf("'%s' matches several jobs: %s", *ext, why));
	else if (rc < 0)
		cmds_fail_store(r, ctx->c, rc);
	free(why);
	if (rc < 0 || (*s = cmds_job_source(ctx, r, job_id)) == NULL)
		return -1;
	if ((job = store_query_job(ctx->c->host.store, job_id, &rc)) == NULL) {
		cmds_fail_store(r, ctx->c, rc);
		return -1;
	}
	*resolved = xstrdup(cJSON_GetStringValue(cJSON_GetObjectItem(job, "id")));
	*ext = *resolved;
	cJSON_Delete(job);
	return 0;
}

/* "SOURCE/ID" when no source is named; "ID" (or "SOURCE/ID" again) when
 * one is; or the id or a unique prefix of a job the store knows.  Sets *s
 * and *ext (borrowed from args, or *resolved, owned by the caller) or
 * fails r. */
static bool
cmds_track_args(struct cmds_ctx *ctx, struct cmds_reply *r, struct source **s, const char **ext,
                char **resolved)
{
	const char *name, *slash;

	if (cmds_arg_error(r, proto_arg_string(ctx->args, "source", &name), "source", "a string") ||
	    cmds_arg_error(r, proto_arg_string(ctx->args, "job", ext), "job", "a string"))
		return false;
	if (*ext == NULL || **ext == '\0') {
		cmds_fail(r, PROTO_E_INVALID_ARGUMENT, xstrdup("argument \"job\" is required"));
		return false;
	}
	slash = strchr(*ext, '/');
	if (name == NULL && slash == NULL) {
		/* A job the store knows (untracked, say) by its id or a prefix. */
		int rc = cmds_track_stored(ctx, r, s, ext, resolved);
		if (rc <= 0)
			return rc == 0;
		cmds_fail(r, PROTO_E_INVALID_ARGUMENT,
		          xstrdup("name the source: \"source\" and \"job\", or \"job\": "
		                  "\"SOURCE/EXTERNAL_ID\""));
		return false;
	}
	if (name == NULL || (slash && strncmp(*ext, name, (size_t)(slash - *ext)) == 0 &&
	                     name[slash - *ext] == '\0')) {
		char *src_name = xstrndup(*ext, (size_t)(slash - *ext));
		*s = cmds_source_find(ctx->c, src_name);
		if (*s == NULL)
			cmds_fail(r, PROTO_E_NOT_FOUND,
			          xasprintf("no source named '%s'", src_name));
		free(src_name);
		*ext = slash + 1;
		return *s != NULL;
	}
	if ((*s = cmds_source_find(ctx->c, name)) == NULL)
		cmds_fail(r, PROTO_E_NOT_FOUND, xasprintf("no source named '%s'", name));
	return *s != NULL;
}

/* Track asks the source, which asks its API: the client waits. */
static void
cmds_track(struct cmds_ctx *ctx, struct cmds_reply *r)
{
	struct source *s = NULL;
	struct cmds_wait *w;
	const char *ext;
	char *err = NULL, *resolved = NULL;
	int rc;

	if (!cmds_track_args(ctx, r, &s, &ext, &resolved) || s->ops->track == NULL) {
		if (s != NULL && s->ops->track == NULL && r->code == NULL)
			cmds_fail(r, PROTO_E_INVALID_ARGUMENT,
			          xasprintf("source '%s' does not track jobs by id", s->name));
		free(resolved);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->c = ctx->c;
	w->cl = ctx->cl;
	w->id = ctx->id ? cJSON_Duplicate(ctx->id, true) : NULL;
	w->src = s;
	rc = s->ops->track(s, ext, cmds_track_done_cb, w, &err);
	free(resolved);
	if (rc < 0) {
		cmds_wait_free(w);
		cmds_fail(r, cmds_track_code(rc), err ? err : xstrdup("cannot track that job"));
		return;
	}
	control_client_hold(ctx->cl, cmds_wait_gone_cb, w);
	r->held = true;
}

static void
cmds_untrack(struct cmds_ctx *ctx, struct cmds_reply *r)
{
	int64_t job_id;
	struct source *s;

	if (!cmds_job_arg(ctx, r, &job_id) || (s = cmds_job_source(ctx, r, job_id)) == NULL)
		return;
	if (s->ops->untrack == NULL || s->ops->untrack(s, job_id) < 0) {
		cmds_fail(r, PROTO_E_INVALID_ARGUMENT, xstrdup("that job cannot be untracked"));
		return;
	}
	r->result = cmds_job_result(ctx->c, job_id);
}

static void
cmds_poll(struct cmds_ctx *ctx, struct cmds_reply *r)
{
	const char *spec;
	int64_t job_id;
	struct source *s;

	if (cmds_arg_error(r, proto_arg_string(ctx->args, "job", &spec), "job", "a string"))
		return;
	if (spec == NULL) {
		size_t n = ctx->c->host.ops->source_count(ctx->c->host.data);
		for (size_t i = 0; i < n; i++) {
			struct source *src = ctx->c->host.ops->source_at(ctx->c->host.data, i);
			if (src->ops->poll_now)
				src->ops->poll_now(src, 0);
		}
		r->result = cJSON_CreateObject();
		cJSON_AddNumberToObject(r->result, "sources", (double)n);
		return;
	}
	if (!cmds_job_arg(ctx, r, &job_id) || (s = cmds_job_source(ctx, r, job_id)) == NULL)
		return;
	if (s->ops->poll_now == NULL || s->ops->poll_now(s, job_id) < 0) {
		cmds_fail(r, PROTO_E_INVALID_ARGUMENT,
		          xstrdup("that job is not being polled (finished or untracked)"));
		return;
	}
	r->result = cmds_job_result(ctx->c, job_id);
}

/* ---- log: points pushed to a push source ---- */

/* One request waiting for its step: its id and the job it named. */
struct cmds_logreq_wait {
	cJSON *id; /* owned copy */
	char *job; /* owned: "SOURCE/ID" */
};

/* A client whose log requests wait for a push source's step.  It is pinned
 * (control_client_pin), not held, so that its next requests still arrive
 * and join the same step; the answers go out in order, and a request that
 * must not overtake them (another command, another source) is deferred
 * until the last one is out. */
struct cmds_logwait {
	LIST_ENTRY(cmds_logwait) link;
	struct control_client *cl;
	struct source *src; /* borrowed: it answers or cancels before it goes */
	struct cmds_logreq_wait *q;
	size_t head, n, cap; /* the FIFO q[head..head+n) */
};

static struct cmds_logwait *
cmds_logwait_find(struct cmds *c, const struct control_client *cl)
{
	struct cmds_logwait *w;

	for (w = LIST_FIRST(&c->logwaits); w; w = LIST_NEXT(w, link)) {
		if (w->cl == cl)
			return w;
	}
	return NULL;
}

static void
cmds_logwait_free(struct cmds_logwait *w)
{
	for (size_t i = w->head; i < w->head + w->n; i++) {
		cJSON_Delete(w->q[i].id);
		free(w->q[i].job);
	}
	LIST_REMOVE(w, link);
	free(w->q);
	free(w);
}

static void
cmds_logwait_gone_cb(struct control_client *cl, void *data)
{
	struct cmds_logwait *w = data;

	w->src->ops->log_cancel(w->src, w);
	cmds_logwait_free(w);
}

static void
cmds_logwait_push(struct cmds_logwait *w, const cJSON *id, char *job)
{
	if (w->head > 0 && w->head + w->n == w->cap) {
		memmove(w->q, w->q + w->head, w->n * sizeof(*w->q));
		w->head = 0;
	}
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 8;
		w->q = xrealloc(w->q, w->cap * sizeof(*w->q));
	}
	w->q[w->head + w->n++] =
	        (struct cmds_logreq_wait){id ? cJSON_Duplicate(id, true) : NULL, job};
}

static struct cmds_logwait *
cmds_logwait_new(struct cmds *c, struct control_client *cl, struct source *src)
{
	struct cmds_logwait *w = xcalloc(1, sizeof(*w));

	w->cl = cl;
	w->src = src;
	LIST_INSERT_HEAD(&c->logwaits, w, link);
	return w;
}

static void
cmds_log_done_cb(void *data, int rc, const struct source_log_result *res, const char *why)
{
	struct cmds_logwait *w = data;
	struct cmds_logreq_wait e = w->q[w->head];
	struct control_client *cl = w->cl;
	char *line;

	w->head++;
	w->n--;
	if (rc < 0) {
		/* A failed commit, or the source stopped before it could store. */
		line = proto_reply_error(e.id,
		                         rc == -ECANCELED ? PROTO_E_UNAVAILABLE : PROTO_E_INTERNAL,
		                         why ? why : "cannot store the points");
	} else {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "job", e.job);
		cJSON_AddNumberToObject(o, "points", (double)res->values);
		cJSON_AddNumberToObject(o, "new_points", (double)res->new_values);
		line = proto_reply_ok(e.id, o);
	}
	cJSON_Delete(e.id);
	free(e.job);
	if (!control_client_send(cl, line))
		return; /* gone() has freed w */
	if (w->n == 0) {
		/* The last answer: what the client sent meanwhile gets its turn. */
		cmds_logwait_free(w);
		control_client_unpin(cl);
	}
}

/* The push source a job name means: "SOURCE/ID", or the only push source
 * for a bare name.  Sets *s and *ext (borrowed from name) or fails r. */
static bool
cmds_log_source(struct cmds *c, struct cmds_reply *r, const char *name, struct source **s,
                const char **ext)
{
	const char *slash = strchr(name, '/');
	size_t n = c->host.ops->source_count(c->host.data), found = 0;

	*s = NULL;
	if (slash) {
		char *src_name = xstrndup(name, (size_t)(slash - name));
		if ((*s = cmds_source_find(c, src_name)) == NULL)
			cmds_fail(r, PROTO_E_NOT_FOUND,
			          xasprintf("no source named '%s'", src_name));
		else if ((*s)->ops->log == NULL)
			cmds_fail(r, PROTO_E_INVALID_ARGUMENT,
			          xasprintf("source '%s' is of type %s: only push sources take "
			                    "points",
			                    src_name, conf_source_type_name((*s)->conf->type)));
		else if (slash[1] == '\0')
			cmds_fail(r, PROTO_E_INVALID_ARGUMENT,
			          xstrdup("argument \"job\": nothing after SOURCE/"));
		free(src_name);
		*ext = slash + 1;
		return r->code == NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct source *e = c->host.ops->source_at(c->host.data, i);
		if (e->ops->log && found++ == 0)
			*s = e;
	}
	if (found != 1) {
		cmds_fail(r, found ? PROTO_E_AMBIGUOUS : PROTO_E_NOT_FOUND,
		          found ? xasprintf("%zu push sources are configured: name one, as "
		                            "SOURCE/%s",
		                            found, name)
		                : xstrdup("no push source is configured ([source NAME] with "
		                          "type = push)"));
		return false;
	}
	*ext = name;
	return true;
}

static void
cmds_log(struct cmds_ctx *ctx, struct cmds_reply *r)
{
	struct cmds *c = ctx->c;
	struct cmds_logwait *w = cmds_logwait_find(c, ctx->cl);
	bool fresh = w == NULL;
	struct logreq req;
	struct source *s;
	const char *ext;
	char *why = NULL;
	int rc;

	if (logreq_parse(ctx->args, &req, &why) < 0) {
		cmds_fail(r, PROTO_E_INVALID_ARGUMENT, why);
	} else if (cmds_log_source(c, r, req.job, &s, &ext) && (fresh || s == w->src)) {
		if (fresh)
			w = cmds_logwait_new(c, ctx->cl, s);
		if ((rc = s->ops->log(s, ext, &req, cmds_log_done_cb, w, &why)) < 0) {
			cmds_fail(r, cmds_track_code(rc),
			          why ? why : xstrdup("cannot take the points"));
			if (fresh)
				cmds_logwait_free(w);
		} else {
			cmds_logwait_push(w, ctx->id, xasprintf("%s/%s", s->name, ext));
			r->held = true;
			if (fresh)
				control_client_pin(ctx->cl, cmds_logwait_gone_cb, w);
		}
	}
	logreq_clear(&req);
	if (!fresh && !r->held) {
		/* A refusal, or another source: it must not overtake the answers
		 * before it.  Handled again once they are out. */
		free(r->message);
		r->message = NULL;
		r->code = NULL;
		control_client_defer(ctx->cl);
		r->held = true;
	}
}

/* A request other than log from a client whose log answers are still to
 * come waits for them (control_client_defer).  True when deferred. */
static bool
cmds_log_defer(struct cmds *c, struct control_client *cl, const char *cmd)
{
	if (cmds_logwait_find(c, cl) == NULL || (cmd && strcmp(cmd, "log") == 0))
		return false;
	control_client_defer(cl);
	return true;
}

/* ---- live: watch and forget ---- */

/* Stream committed points and events of one job or all (watch.h). */
static void
cmds_watch(struct cmds_ctx *ctx, struct cmds_reply *r)
{
	const char *spec;
	int64_t job_id = 0;
	cJSON *name = NULL;

	if (cmds_arg_error(r, proto_arg_string(ctx->args, "job", &spec), "job", "a string"))
		return;
	if (ctx->c->host.watch == NULL) {
		cmds_fail(r, PROTO_E_NOT_IMPLEMENTED, xstrdup("this daemon does not stream"));
		return;
	}
	if (spec != NULL) {
		if (!cmds_job_arg(ctx, r, &job_id))
			return;
		name = cmds_job_result(ctx->c, job_id);
	}
	watch_add(ctx->c->host.watch, ctx->cl, ctx->id, job_id,
	          name ? cJSON_GetStringValue(cJSON_GetObjectItem(name, "job")) : NULL);
	cJSON_Delete(name);
	r->held = true;
}

/* Whether job (a `job` result) is still being polled: tracked and not
 * finished.  Forgetting it would leave the source writing to a job that
 * no longer exists. */
static bool
cmds_forget_live(const cJSON *job)
{
	const cJSON *tracked = cJSON_GetObjectItem(job, "tracked");
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItem(job, "status"));

	if (!cJSON_IsTrue(tracked))
		return false;
	return status == NULL ||
	       (strcmp(status, "succeeded") != 0 && strcmp(status, "failed") != 0 &&
	        strcmp(status, "cancelled") != 0);
}

/* Untrack (when the job's source still polls it), then delete the job and
 * its rows in one transaction. */
static void
cmds_forget(struct cmds_ctx *ctx, struct cmds_reply *r)
{
	struct store *st = ctx->c->host.store;
	int64_t job_id;
	bool force;
	int rc;
	cJSON *job, *res;
	struct source *s;

	if (cmds_arg_error(r, proto_arg_bool(ctx->args, "force", false, &force), "force",
	                   "a boolean") ||
	    !cmds_job_arg(ctx, r, &job_id))
		return;
	if ((job = store_query_job(st, job_id, &rc)) == NULL) {
		cmds_fail_store(r, ctx->c, rc);
		return;
	}
	res = cmds_job_result(ctx->c, job_id);
	if (cmds_forget_live(job) && !force) {
		cmds_fail(r, PROTO_E_INVALID_ARGUMENT,
		          xasprintf("%s is %s and tracked: untrack it first, or use force",
		                    cJSON_GetStringValue(cJSON_GetObjectItem(res, "job")),
		                    cJSON_GetStringValue(cJSON_GetObjectItem(job, "status"))));
		goto out;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItem(job, "tracked"))) {
		s = cmds_source_find(ctx->c,
		                     cJSON_GetStringValue(cJSON_GetObjectItem(job, "source")));
		if (s != NULL && s->ops->untrack != NULL && (rc = s->ops->untrack(s, job_id)) < 0) {
			cmds_fail_store(r, ctx->c, rc);
			goto out;
		}
	}
	if (store_in_transaction(st)) {
		cmds_fail(r, PROTO_E_BUSY, xstrdup("the database is busy, try again"));
		goto out;
	}
	if ((rc = store_begin(st)) < 0 || (rc = store_job_delete(st, job_id)) < 0 ||
	    (rc = store_commit(st)) < 0) {
		store_rollback(st);
		cmds_fail_store(r, ctx->c, rc);
		goto out;
	}
	s = cmds_source_find(ctx->c, cJSON_GetStringValue(cJSON_GetObjectItem(job, "source")));
	if (s != NULL && s->ops->forgotten != NULL)
		s->ops->forgotten(s, job_id);
	cJSON_AddBoolToObject(res, "forgotten", true);
	r->result = res;
	res = NULL;
out:
	cJSON_Delete(res);
	cJSON_Delete(job);
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
	} else if (cmd->handler == NULL) {
		cmds_fail(r, PROTO_E_NOT_IMPLEMENTED,
		          xasprintf("command '%s' is not implemented in this version", cmd->name));
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
