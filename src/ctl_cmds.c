/*
 * ctl_cmds: the control commands (see ctl_cmds.h).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "conf.h"
#include "control.h"
#include "ctl_cmds.h"
#include "daemon.h"
#include "log.h"
#include "proto.h"
#include "source.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

/* What a handler returns: a result, or an error code and message. */
struct ctl_reply {
	cJSON *result;    /* owned until sent */
	const char *code; /* static PROTO_E_* when failing */
	char *message;    /* owned */
};

struct ctl_ctx {
	struct daemon *d;
	struct control_client *cl;
	const cJSON *args;
};

typedef void (*ctl_handler)(struct ctl_ctx *ctx, struct ctl_reply *r);

struct ctl_cmd {
	const char *name;
	bool mutating;
	ctl_handler handler; /* NULL: arrives with a later feature */
};

static void
ctl_fail(struct ctl_reply *r, const char *code, char *message)
{
	r->code = code;
	r->message = message;
}

static void
ctl_fail_store(struct ctl_reply *r, struct daemon *d, int rc)
{
	ctl_fail(r, PROTO_E_INTERNAL,
	         xasprintf("database error: %s",
	                   rc == -ENOSPC ? "disk full" : store_errmsg(d->store)));
}

static bool
ctl_arg_error(struct ctl_reply *r, int rc, const char *name, const char *type)
{
	if (rc == 0)
		return false;
	ctl_fail(r, PROTO_E_INVALID_ARGUMENT, xasprintf("argument \"%s\" must be %s", name, type));
	return true;
}

/* Resolve the "job" argument (required) to a job id. */
static bool
ctl_job_arg(struct ctl_ctx *ctx, struct ctl_reply *r, int64_t *job_id)
{
	const char *spec;
	char *why = NULL;
	int rc;

	if (ctl_arg_error(r, proto_arg_string(ctx->args, "job", &spec), "job", "a string"))
		return false;
	if (spec == NULL || *spec == '\0') {
		ctl_fail(r, PROTO_E_INVALID_ARGUMENT, xstrdup("argument \"job\" is required"));
		return false;
	}
	rc = store_job_resolve(ctx->d->store, spec, job_id, &why);
	if (rc == -ENOENT)
		ctl_fail(r, PROTO_E_NOT_FOUND, xasprintf("no job matches '%s'", spec));
	else if (rc == -EEXIST)
		ctl_fail(r, PROTO_E_AMBIGUOUS,
		         xasprintf("'%s' matches several jobs: %s", spec, why));
	else if (rc < 0)
		ctl_fail_store(r, ctx->d, rc);
	free(why);
	return rc == 0;
}

static void
ctl_ping(struct ctl_ctx *ctx, struct ctl_reply *r)
{
	r->result = cJSON_CreateString("pong");
}

static void
ctl_status(struct ctl_ctx *ctx, struct ctl_reply *r)
{
	struct daemon *d = ctx->d;
	int rc;
	cJSON *counts = store_query_counts(d->store, &rc);
	cJSON *res, *db, *sources;

	if (counts == NULL) {
		ctl_fail_store(r, d, rc);
		return;
	}
	res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "version", PACKAGE_VERSION);
	cJSON_AddNumberToObject(res, "pid", (double)getpid());
	cJSON_AddNumberToObject(res, "uptime_s", (double)(util_now() - d->started_at));
	cJSON_AddStringToObject(res, "config", d->conf->path);
	if (d->config_error)
		cJSON_AddStringToObject(res, "config_error", d->config_error);
	else
		cJSON_AddNullToObject(res, "config_error");
	db = cJSON_AddObjectToObject(res, "database");
	cJSON_AddStringToObject(db, "path", d->conf->database);
	cJSON_AddNumberToObject(db, "size_bytes", (double)store_size_bytes(d->store));
	cJSON_AddNumberToObject(db, "schema_version", store_schema_version());
	sources = cJSON_AddArrayToObject(res, "sources");
	for (size_t i = 0; i < d->nsources; i++) {
		struct source *s = d->sources[i];
		cJSON *o = s->ops->status(s);
		cJSON_AddItemToObject(o, "name", cJSON_CreateString(s->name));
		cJSON_AddItemToObject(o, "type",
		                      cJSON_CreateString(conf_source_type_name(s->conf->type)));
		cJSON_AddItemToArray(sources, o);
	}
	cJSON_AddItemToObject(res, "jobs", cJSON_DetachItemFromObject(counts, "jobs"));
	cJSON_AddItemToObject(res, "alerts_firing",
	                      cJSON_DetachItemFromObject(counts, "alerts_firing"));
	cJSON_AddItemToObject(res, "deliveries_pending",
	                      cJSON_DetachItemFromObject(counts, "deliveries_pending"));
	cJSON_AddNumberToObject(res, "clients", (double)control_nclients(d->control));
	cJSON_Delete(counts);
	r->result = res;
}

static void
ctl_jobs(struct ctl_ctx *ctx, struct ctl_reply *r)
{
	struct store_jobs_filter f = {0};
	int rc;

	if (ctl_arg_error(r, proto_arg_string(ctx->args, "status", &f.status), "status",
	                  "a string") ||
	    ctl_arg_error(r, proto_arg_string(ctx->args, "source", &f.source), "source",
	                  "a string") ||
	    ctl_arg_error(r, proto_arg_bool(ctx->args, "all", false, &f.all), "all", "a boolean"))
		return;
	r->result = store_query_jobs(ctx->d->store, &f, &rc);
	if (r->result == NULL)
		ctl_fail_store(r, ctx->d, rc);
}

static void
ctl_job(struct ctl_ctx *ctx, struct ctl_reply *r)
{
	int64_t job_id;
	int rc;

	if (!ctl_job_arg(ctx, r, &job_id))
		return;
	r->result = store_query_job(ctx->d->store, job_id, &rc);
	if (r->result == NULL)
		ctl_fail_store(r, ctx->d, rc);
}

/* The "metric" argument: a string or a list of strings; NULL for all. */
static bool
ctl_metric_names(struct ctl_ctx *ctx, struct ctl_reply *r, const char ***names)
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
	ctl_arg_error(r, -EINVAL, "metric", "a string or a list of strings");
	return false;
}

static void
ctl_metrics(struct ctl_ctx *ctx, struct ctl_reply *r)
{
	int64_t job_id, since, until, points;
	const char **names;
	int rc;

	if (ctl_arg_error(r, proto_arg_int(ctx->args, "since", INT64_MIN, &since), "since",
	                  "an integer step") ||
	    ctl_arg_error(r, proto_arg_int(ctx->args, "until", INT64_MAX, &until), "until",
	                  "an integer step") ||
	    ctl_arg_error(r, proto_arg_int(ctx->args, "points", 0, &points), "points",
	                  "an integer"))
		return;
	if (points < 0 || points == 1 || points > 1000000) {
		/* One point cannot hold both ends of a curve. */
		ctl_fail(r, PROTO_E_INVALID_ARGUMENT,
		         xstrdup("argument \"points\" must be 0 (all) or between 2 and 1000000"));
		return;
	}
	if (!ctl_metric_names(ctx, r, &names))
		return;
	if (!ctl_job_arg(ctx, r, &job_id)) {
		free(names);
		return;
	}
	r->result = store_query_metrics(ctx->d->store, job_id, names, since, until, (size_t)points,
	                                &rc);
	free(names);
	if (r->result == NULL)
		ctl_fail_store(r, ctx->d, rc);
}

static void
ctl_events(struct ctl_ctx *ctx, struct ctl_reply *r)
{
	int64_t job_id, limit;
	int rc;

	if (ctl_arg_error(r, proto_arg_int(ctx->args, "limit", 50, &limit), "limit", "an integer"))
		return;
	if (limit < 1 || limit > 100000) {
		ctl_fail(r, PROTO_E_INVALID_ARGUMENT,
		         xstrdup("argument \"limit\" must be between 1 and 100000"));
		return;
	}
	if (!ctl_job_arg(ctx, r, &job_id))
		return;
	r->result = store_query_events(ctx->d->store, job_id, limit, &rc);
	if (r->result == NULL)
		ctl_fail_store(r, ctx->d, rc);
}

static void
ctl_alerts(struct ctl_ctx *ctx, struct ctl_reply *r)
{
	bool all;
	int rc;

	if (ctl_arg_error(r, proto_arg_bool(ctx->args, "all", false, &all), "all", "a boolean"))
		return;
	r->result = store_query_alerts(ctx->d->store, all, &rc);
	if (r->result == NULL)
		ctl_fail_store(r, ctx->d, rc);
}

static void
ctl_reload(struct ctl_ctx *ctx, struct ctl_reply *r)
{
	char *err = NULL;

	if (daemon_reload(ctx->d, &err) < 0) {
		ctl_fail(r, PROTO_E_CONFIG, err);
		return;
	}
	r->result = cJSON_CreateObject();
	cJSON_AddBoolToObject(r->result, "reloaded", true);
	cJSON_AddStringToObject(r->result, "config", ctx->d->conf->path);
}

/* The source named by the "source" argument. */
static struct source *
ctl_source_arg(struct ctl_ctx *ctx, struct ctl_reply *r)
{
	const char *name;
	struct source *s;

	if (ctl_arg_error(r, proto_arg_string(ctx->args, "source", &name), "source", "a string"))
		return NULL;
	if (name == NULL) {
		ctl_fail(r, PROTO_E_INVALID_ARGUMENT, xstrdup("argument \"source\" is required"));
		return NULL;
	}
	if ((s = source_find(ctx->d, name)) == NULL)
		ctl_fail(r, PROTO_E_NOT_FOUND, xasprintf("no source named '%s'", name));
	return s;
}

/* The source a stored job belongs to. */
static struct source *
ctl_job_source(struct ctl_ctx *ctx, struct ctl_reply *r, int64_t job_id)
{
	int rc;
	cJSON *job = store_query_job(ctx->d->store, job_id, &rc);
	struct source *s = NULL;

	if (job == NULL) {
		ctl_fail_store(r, ctx->d, rc);
		return NULL;
	}
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(job, "source"));
	if (name == NULL || (s = source_find(ctx->d, name)) == NULL)
		ctl_fail(r, PROTO_E_NOT_FOUND,
		         xasprintf("job's source '%s' is not configured", name ? name : "?"));
	cJSON_Delete(job);
	return s;
}

static cJSON *
ctl_job_result(struct ctl_ctx *ctx, int64_t job_id)
{
	int rc;
	cJSON *job = store_query_job(ctx->d->store, job_id, &rc);
	cJSON *res = cJSON_CreateObject();
	cJSON *name = job ? cJSON_GetObjectItem(job, "name") : NULL;
	cJSON_AddStringToObject(res, "job", cJSON_IsString(name) ? name->valuestring : "?");
	cJSON_Delete(job);
	return res;
}

static void
ctl_track(struct ctl_ctx *ctx, struct ctl_reply *r)
{
	struct source *s = ctl_source_arg(ctx, r);
	const char *ext;
	char *err = NULL;
	int64_t job_id;

	if (s == NULL ||
	    ctl_arg_error(r, proto_arg_string(ctx->args, "job", &ext), "job", "a string"))
		return;
	if (ext == NULL || *ext == '\0') {
		ctl_fail(r, PROTO_E_INVALID_ARGUMENT, xstrdup("argument \"job\" is required"));
		return;
	}
	if (s->ops->track == NULL) {
		ctl_fail(r, PROTO_E_INVALID_ARGUMENT,
		         xasprintf("source '%s' does not track jobs by id", s->name));
		return;
	}
	if (s->ops->track(s, ext, &job_id, &err) < 0) {
		ctl_fail(r, PROTO_E_INVALID_ARGUMENT, err ? err : xstrdup("cannot track that job"));
		return;
	}
	r->result = ctl_job_result(ctx, job_id);
}

static void
ctl_untrack(struct ctl_ctx *ctx, struct ctl_reply *r)
{
	int64_t job_id;
	struct source *s;

	if (!ctl_job_arg(ctx, r, &job_id) || (s = ctl_job_source(ctx, r, job_id)) == NULL)
		return;
	if (s->ops->untrack == NULL || s->ops->untrack(s, job_id) < 0) {
		ctl_fail(r, PROTO_E_INVALID_ARGUMENT, xstrdup("that job cannot be untracked"));
		return;
	}
	r->result = ctl_job_result(ctx, job_id);
}

static void
ctl_poll(struct ctl_ctx *ctx, struct ctl_reply *r)
{
	const char *spec;
	int64_t job_id;
	struct source *s;

	if (ctl_arg_error(r, proto_arg_string(ctx->args, "job", &spec), "job", "a string"))
		return;
	if (spec == NULL) {
		for (size_t i = 0; i < ctx->d->nsources; i++)
			if (ctx->d->sources[i]->ops->poll_now)
				ctx->d->sources[i]->ops->poll_now(ctx->d->sources[i], 0);
		r->result = cJSON_CreateObject();
		cJSON_AddNumberToObject(r->result, "sources", (double)ctx->d->nsources);
		return;
	}
	if (!ctl_job_arg(ctx, r, &job_id) || (s = ctl_job_source(ctx, r, job_id)) == NULL)
		return;
	if (s->ops->poll_now == NULL || s->ops->poll_now(s, job_id) < 0) {
		ctl_fail(r, PROTO_E_INVALID_ARGUMENT,
		         xstrdup("that job is not being polled (finished or untracked)"));
		return;
	}
	r->result = ctl_job_result(ctx, job_id);
}

static const struct ctl_cmd ctl_table[] = {
        {"ping", false, ctl_ping},
        {"status", false, ctl_status},
        {"jobs", false, ctl_jobs},
        {"job", false, ctl_job},
        {"metrics", false, ctl_metrics},
        {"events", false, ctl_events},
        {"alerts", false, ctl_alerts},
        {"watch", false, NULL},
        {"ack", true, NULL},
        {"track", true, ctl_track},
        {"untrack", true, ctl_untrack},
        {"poll", true, ctl_poll},
        {"reload", true, ctl_reload},
        {"log", true, NULL},
};

/* Root, the daemon's own user, and members of admin_group may mutate;
 * answered from the peer's credentials and admin's cache, never NSS. */
static bool
ctl_peer_is_admin(struct daemon *d, const struct control_peer *p)
{
	return admin_allows(d->admin, p);
}

void
ctl_cmds_dispatch(struct daemon *d, struct control_client *cl, const char *line, size_t len)
{
	struct proto_request req;
	struct ctl_reply r = {0};
	const char *code, *message;
	const struct ctl_cmd *cmd = NULL;

	if (proto_parse_request(line, len, &req, &code, &message) < 0) {
		control_client_send(cl, proto_reply_error(req.id, code, message));
		proto_request_free(&req);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ctl_table); i++)
		if (strcmp(ctl_table[i].name, req.cmd) == 0)
			cmd = &ctl_table[i];
	if (cmd == NULL) {
		ctl_fail(&r, PROTO_E_UNKNOWN_COMMAND,
		         xasprintf("unknown command '%.64s'", req.cmd));
	} else if (cmd->handler == NULL) {
		ctl_fail(&r, PROTO_E_NOT_IMPLEMENTED,
		         xasprintf("command '%s' is not implemented in this version", cmd->name));
	} else if (cmd->mutating && !ctl_peer_is_admin(d, control_client_peer(cl))) {
		ctl_fail(&r, PROTO_E_PERMISSION,
		         xasprintf("'%s' changes state: it needs root or membership of the admin "
		                   "group%s%s",
		                   cmd->name, d->conf->admin_group ? " " : "",
		                   d->conf->admin_group ? d->conf->admin_group : ""));
	} else {
		struct ctl_ctx ctx = {d, cl, req.args};
		cmd->handler(&ctx, &r);
	}
	if (r.code)
		control_client_send(cl, proto_reply_error(req.id, r.code, r.message));
	else
		control_client_send(cl, proto_reply_ok(req.id, r.result));
	free(r.message);
	proto_request_free(&req);
}
