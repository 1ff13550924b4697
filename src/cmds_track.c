/*
 * cmds_track: track, untrack and poll, which ask a source and may wait
 * for its answer (see cmds_internal.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "cmds_internal.h"
#include "conf.h"
#include "control.h"
#include "logreq.h"
#include "proto.h"
#include "source.h"
#include "store.h"
#include "util.h"
#include "watch.h"
#include "xmalloc.h"

/* A client held until a source answers (track asks the API first). */
struct cmds_wait {
	struct cmds *c;
	struct control_client *cl; /* held */
	cJSON *id;                 /* owned copy of the request id */
	struct source *src;        /* borrowed: it answers or cancels before it goes */
	bool answered;             /* the reply is being sent: gone() leaves w alone */
};

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

cJSON *
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
const char *
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
void
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

void
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

void
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
