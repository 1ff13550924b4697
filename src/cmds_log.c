/*
 * cmds_log: the log command, points pushed to a push source; a client's
 * pipelined requests join one step and are answered in order (see
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

void
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
bool
cmds_log_defer(struct cmds *c, struct control_client *cl, const char *cmd)
{
	if (cmds_logwait_find(c, cl) == NULL || (cmd && strcmp(cmd, "log") == 0))
		return false;
	control_client_defer(cl);
	return true;
}
