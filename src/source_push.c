/*
 * source_push: points pushed over the control socket (see source_push.h).
 *
 * A log request is copied into a push_req and queued.  A check handle (run
 * once per loop iteration, after I/O) stores every queued request in one
 * ingest step and then answers them in order, so a pipelined stream of
 * single-point requests costs one transaction per turn, not per request.
 * An idle handle runs while requests wait, only so that the loop does not
 * block in I/O polling before the check runs (a request dispatched by the
 * control socket's own idle turn would otherwise wait for the next event).
 *
 * The jobs seen are cached (id and last step, for points sent without a
 * step); the cache is dropped when a step fails (its rows are gone) and on
 * resync (the database was replaced).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <uv.h>

#include "clock.h"
#include "conf.h"
#include "ingest.h"
#include "logreq.h"
#include "source.h"
#include "source_push.h"
#include "store.h"
#include "xmalloc.h"

struct spush_value {
	const char *metric; /* in the request's names block */
	double value;
};

struct spush_point {
	int64_t step;    /* or LOGREQ_NEXT_STEP */
	size_t first, n; /* its values */
};

struct spush_req {
	TAILQ_ENTRY(spush_req) link;
	source_log_done done; /* NULL once cancelled: stored, not answered */
	void *data;
	char *job;    /* external id, owned */
	char *status; /* owned, may be NULL */
	char *names;  /* every metric name, NUL-separated, owned */
	struct spush_point *points;
	size_t npoints;
	struct spush_value *values;
	size_t nvalues;
	struct source_log_result res;
};

TAILQ_HEAD(spush_reqs, spush_req);

struct spush_job {
	LIST_ENTRY(spush_job) link;
	char *name;
	int64_t id;
	int64_t last_step; /* -1: none */
};

struct spush {
	struct source base;
	struct ingest *in;
	struct store *st;
	const struct clock *clk;
	uv_check_t check;
	uv_idle_t idle;
	int open_handles;
	bool destroying;
	struct spush_reqs pending;   /* waiting for the next step */
	struct spush_reqs answering; /* committed or failed, being answered */
	LIST_HEAD(, spush_job) jobs;
	/* status */
	uint64_t requests, values, new_values, commits, failed_commits;
	int64_t since, last_push, last_error_at;
	char *last_error;
	bool failing;
};

static void
spush_req_free(struct spush_req *r)
{
	free(r->job);
	free(r->status);
	free(r->names);
	free(r->points);
	free(r->values);
	free(r);
}

static void
spush_jobs_drop(struct spush *p)
{
	struct spush_job *j;

	while ((j = LIST_FIRST(&p->jobs))) {
		LIST_REMOVE(j, link);
		free(j->name);
		free(j);
	}
}

/* The job's cache entry, storing the job (running) when it is new. */
static int
spush_job(struct spush *p, const char *name, struct spush_job **out)
{
	struct spush_job *j;
	cJSON *row, *step;
	int64_t id;
	int rc;

	for (j = LIST_FIRST(&p->jobs); j; j = LIST_NEXT(j, link)) {
		if (strcmp(j->name, name) == 0) {
			*out = j;
			return 0;
		}
	}
	if ((rc = ingest_job(p->in, p->base.name, name, "running", &id)) < 0)
		return rc;
	if ((row = store_query_job(p->st, id, &rc)) == NULL)
		return rc < 0 ? rc : -EIO;
	step = cJSON_GetObjectItemCaseSensitive(row, "step");
	j = xcalloc(1, sizeof(*j));
	j->name = xstrdup(name);
	j->id = id;
	j->last_step = cJSON_IsNumber(step) ? (int64_t)step->valuedouble : -1;
	cJSON_Delete(row);
	LIST_INSERT_HEAD(&p->jobs, j, link);
	*out = j;
	return 0;
}

static int
spush_apply(struct spush *p, struct spush_req *r)
{
	struct spush_job *j = NULL;
	int rc;

	if ((rc = spush_job(p, r->job, &j)) < 0)
		return rc;
	r->res.job_id = j->id;
	for (size_t i = 0; i < r->npoints; i++) {
		const struct spush_point *pt = &r->points[i];
		int64_t step = pt->step == LOGREQ_NEXT_STEP ? j->last_step + 1 : pt->step;
		for (size_t k = pt->first; k < pt->first + pt->n; k++) {
			if ((rc = ingest_point(p->in, j->id, r->values[k].metric, step,
			                       r->values[k].value)) < 0)
				return rc;
			r->res.new_values += (size_t)rc;
		}
		if (step > j->last_step)
			j->last_step = step;
	}
	if (r->status) {
		struct store_job_info info = STORE_JOB_INFO_INIT;
		info.status = r->status;
		if (ingest_status_final(r->status))
			info.finished_at = clock_now(p->clk);
		if ((rc = ingest_job_fields(p->in, j->id, &info, NULL)) < 0)
			return rc;
	}
	return 0;
}

static void
spush_fail(struct spush *p, int rc)
{
	free(p->last_error);
	p->last_error = xasprintf("storing pushed points failed: %s",
	                          rc == -ENOSPC ? "disk full" : ingest_errmsg(p->in));
	p->last_error_at = clock_now(p->clk);
	if (!p->failing)
		p->since = p->last_error_at;
	p->failing = true;
	p->failed_commits++;
	spush_jobs_drop(p);
}

/* The step, begun, for every request in answering; 0 or its error. */
static int
spush_store(struct spush *p)
{
	struct spush_req *r;
	int rc = 0;

	for (r = TAILQ_FIRST(&p->answering); r; r = TAILQ_NEXT(r, link)) {
		if ((rc = spush_apply(p, r)) < 0)
			break;
	}
	if (rc == 0)
		rc = ingest_commit(p->in);
	if (rc < 0) {
		ingest_rollback(p->in);
		spush_fail(p, rc);
		return rc;
	}
	p->commits++;
	p->last_push = clock_now(p->clk);
	if (p->failing)
		p->since = p->last_push;
	p->failing = false;
	for (r = TAILQ_FIRST(&p->answering); r; r = TAILQ_NEXT(r, link)) {
		p->new_values += r->res.new_values;
	}
	return 0;
}

/* Store what is pending, then answer it.  A done callback may queue new
 * requests (they wait for the next turn) or cancel some being answered. */
static void
spush_flush(struct spush *p)
{
	struct spush_req *r;
	int rc;

	if (TAILQ_EMPTY(&p->pending)) {
		uv_check_stop(&p->check);
		uv_idle_stop(&p->idle);
		return;
	}
	/* Another writer's step open now (none is, between callbacks): not
	 * ours to roll back; the requests wait for the next turn. */
	if ((rc = ingest_begin(p->in)) == -EBUSY)
		return;
	uv_check_stop(&p->check);
	uv_idle_stop(&p->idle);
	TAILQ_CONCAT(&p->answering, &p->pending, link);
	if (rc == 0)
		rc = spush_store(p);
	else
		spush_fail(p, rc);
	while ((r = TAILQ_FIRST(&p->answering))) {
		TAILQ_REMOVE(&p->answering, r, link);
		if (r->done)
			r->done(r->data, rc, rc < 0 ? NULL : &r->res,
			        rc < 0 ? p->last_error : NULL);
		spush_req_free(r);
	}
}

static void
spush_check_cb(uv_check_t *h)
{
	spush_flush(h->data);
}

static void
spush_idle_cb(uv_idle_t *h)
{
	/* Nothing: being active keeps the loop's I/O poll from blocking. */
}

/* The request as the source keeps it: one block of names, flat values. */
static struct spush_req *
spush_req_copy(const char *external_id, const struct logreq *req)
{
	struct spush_req *r = xcalloc(1, sizeof(*r));
	size_t names_len = 0, v = 0;
	char *at;

	for (size_t i = 0; i < req->npoints; i++)
		for (size_t k = 0; k < req->points[i].nmetrics; k++)
			names_len += strlen(req->points[i].metrics[k].name) + 1;
	r->job = xstrdup(external_id);
	r->status = req->status ? xstrdup(req->status) : NULL;
	r->names = at = xmalloc(names_len + 1);
	r->npoints = req->npoints;
	r->points = xcalloc(req->npoints + 1, sizeof(*r->points));
	r->nvalues = req->nvalues;
	r->values = xcalloc(req->nvalues + 1, sizeof(*r->values));
	for (size_t i = 0; i < req->npoints; i++) {
		const struct logreq_point *lp = &req->points[i];
		r->points[i] = (struct spush_point){lp->step, v, lp->nmetrics};
		for (size_t k = 0; k < lp->nmetrics; k++, v++) {
			size_t len = strlen(lp->metrics[k].name) + 1;
			memcpy(at, lp->metrics[k].name, len);
			r->values[v] = (struct spush_value){at, lp->metrics[k].value};
			at += len;
		}
	}
	r->res.values = req->nvalues;
	return r;
}

static int
spush_log(struct source *src, const char *external_id, const struct logreq *req,
          source_log_done done, void *data, char **err)
{
	struct spush *p = (struct spush *)src;
	struct spush_req *r;

	if (p->destroying) {
		*err = xasprintf("source '%s' is being reconfigured", src->name);
		return -EBUSY;
	}
	r = spush_req_copy(external_id, req);
	r->done = done;
	r->data = data;
	TAILQ_INSERT_TAIL(&p->pending, r, link);
	p->requests++;
	p->values += req->nvalues;
	uv_check_start(&p->check, spush_check_cb);
	uv_idle_start(&p->idle, spush_idle_cb);
	return 0;
}

static void
spush_cancel_in(struct spush_reqs *list, void *data)
{
	struct spush_req *r;

	for (r = TAILQ_FIRST(list); r; r = TAILQ_NEXT(r, link)) {
		if (r->data == data) {
			r->done = NULL;
			r->data = NULL;
		}
	}
}

static void
spush_log_cancel(struct source *src, void *data)
{
	struct spush *p = (struct spush *)src;

	spush_cancel_in(&p->pending, data);
	spush_cancel_in(&p->answering, data);
}

static int
spush_start(struct source *src, char **err)
{
	return 0;
}

static void
spush_resync(struct source *src)
{
	spush_jobs_drop((struct spush *)src);
}

/* The next log to that name creates the job again. */
static void
spush_forgotten(struct source *src, int64_t job_id)
{
	struct spush *p = (struct spush *)src;

	for (struct spush_job *j = LIST_FIRST(&p->jobs); j; j = LIST_NEXT(j, link)) {
		if (j->id == job_id) {
			LIST_REMOVE(j, link);
			free(j->name);
			free(j);
			return;
		}
	}
}

static void
spush_add_time(cJSON *o, const char *name, int64_t t)
{
	if (t > 0)
		cJSON_AddNumberToObject(o, name, (double)t);
	else
		cJSON_AddNullToObject(o, name);
}

static cJSON *
spush_status(struct source *src)
{
	struct spush *p = (struct spush *)src;
	cJSON *o = cJSON_CreateObject(), *c;

	cJSON_AddStringToObject(o, "health", p->failing ? "error" : "ok");
	spush_add_time(o, "health_since", p->since);
	spush_add_time(o, "last_poll", p->last_push);
	if (p->last_error)
		cJSON_AddStringToObject(o, "last_error", p->last_error);
	else
		cJSON_AddNullToObject(o, "last_error");
	spush_add_time(o, "last_error_at", p->last_error_at);
	cJSON_AddNumberToObject(o, "requests", (double)p->requests);
	c = cJSON_AddObjectToObject(o, "counters");
	/* commits < requests is what batching buys (and what tests check). */
	cJSON_AddNumberToObject(c, "points", (double)p->values);
	cJSON_AddNumberToObject(c, "new_points", (double)p->new_values);
	cJSON_AddNumberToObject(c, "commits", (double)p->commits);
	cJSON_AddNumberToObject(c, "failed_commits", (double)p->failed_commits);
	return o;
}

static void
spush_closed_cb(uv_handle_t *h)
{
	struct spush *p = h->data;

	if (--p->open_handles > 0)
		return;
	free(p->base.name);
	free(p->last_error);
	free(p);
}

/* What is queued is still stored (and answered) before the source goes. */
static void
spush_destroy(struct source *src)
{
	struct spush *p = (struct spush *)src;
	struct spush_req *r;

	spush_flush(p);
	p->destroying = true;
	while ((r = TAILQ_FIRST(&p->pending))) { /* only if the flush could not begin */
		TAILQ_REMOVE(&p->pending, r, link);
		if (r->done)
			r->done(r->data, -ECANCELED, NULL, "the push source was stopped");
		spush_req_free(r);
	}
	spush_jobs_drop(p);
	uv_close((uv_handle_t *)&p->check, spush_closed_cb);
	uv_close((uv_handle_t *)&p->idle, spush_closed_cb);
}

static const struct source_ops spush_ops = {
        .start = spush_start,
        .resync = spush_resync,
        .forgotten = spush_forgotten,
        .status = spush_status,
        .destroy = spush_destroy,
        .log = spush_log,
        .log_cancel = spush_log_cancel,
};

struct source *
source_push_new(const struct conf_source *cs, const struct source_env *env, char **err)
{
	struct spush *p = xcalloc(1, sizeof(*p));

	p->base.ops = &spush_ops;
	p->base.name = xstrdup(cs->name);
	p->base.conf = cs;
	p->base.env = env;
	p->in = env->ingest;
	p->st = env->store;
	p->clk = env->clock;
	p->since = clock_now(p->clk);
	TAILQ_INIT(&p->pending);
	TAILQ_INIT(&p->answering);
	LIST_INIT(&p->jobs);
	uv_check_init(env->loop, &p->check);
	uv_idle_init(env->loop, &p->idle);
	p->check.data = p;
	p->idle.data = p;
	p->open_handles = 2;
	return &p->base;
}
