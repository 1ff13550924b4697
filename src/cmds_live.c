/*
 * cmds_live: watch (held streams, watch.h) and forget (see
 * cmds_internal.h).
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

/* Stream committed points and events of one job or all (watch.h). */
void
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
void
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
