/*
 * ingest: one write path for every source, with observers (see ingest.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "ingest.h"
#include "store.h"
#include "utf8.h"
#include "xmalloc.h"

/* One observer: exactly one of txn and commit is set. */
struct ingest_obs {
	ingest_txn_fn txn;
	ingest_commit_fn commit;
	void *data;
};

/* A growable array of fixed-size items. */
struct ingest_vec {
	void *v;
	size_t n, cap;
};

struct ingest {
	struct store *st;        /* borrowed */
	const struct clock *clk; /* borrowed */
	struct ingest_obs *obs;  /* both phases, in registration order */
	size_t nobs;
	bool open;
	bool committing; /* the commit observers are running */
	/* What the open step added, kept only while someone observes. */
	struct ingest_vec points;  /* struct ingest_point, metric names in names */
	struct ingest_vec changes; /* struct ingest_change, strings owned */
	struct ingest_vec events;  /* int64_t */
	struct ingest_vec jobs;    /* int64_t */
	struct ingest_vec names;   /* char *: the step's distinct metric names */
};

static void *
ingest_vec_push(struct ingest_vec *vec, size_t size)
{
	if (vec->n == vec->cap) {
		vec->cap = vec->cap ? vec->cap * 2 : 16;
		vec->v = xreallocarray(vec->v, vec->cap, size);
	}
	return (char *)vec->v + size * vec->n++;
}

static bool
ingest_observed(const struct ingest *in)
{
	return in->nobs > 0;
}

/* Forget the step's batch (after commit or rollback). */
static void
ingest_batch_reset(struct ingest *in)
{
	struct ingest_change *c = in->changes.v;
	char **names = in->names.v;

	for (size_t i = 0; i < in->changes.n; i++) {
		free((char *)c[i].previous);
		free((char *)c[i].status);
	}
	for (size_t i = 0; i < in->names.n; i++)
		free(names[i]);
	in->points.n = in->changes.n = in->events.n = in->jobs.n = in->names.n = 0;
}

struct ingest *
ingest_new(struct store *st, const struct clock *clk)
{
	struct ingest *in = xcalloc(1, sizeof(*in));

	in->st = st;
	in->clk = clk;
	return in;
}

void
ingest_free(struct ingest *in)
{
	if (in == NULL)
		return;
	ingest_rollback(in);
	free(in->obs);
	free(in->points.v);
	free(in->changes.v);
	free(in->events.v);
	free(in->jobs.v);
	free(in->names.v);
	free(in);
}

const char *
ingest_errmsg(struct ingest *in)
{
	return store_errmsg(in->st);
}

static size_t
ingest_obs_find(const struct ingest *in, struct ingest_obs o)
{
	size_t i;

	for (i = 0; i < in->nobs; i++)
		if (in->obs[i].txn == o.txn && in->obs[i].commit == o.commit &&
		    in->obs[i].data == o.data)
			break;
	return i;
}

static int
ingest_obs_add(struct ingest *in, struct ingest_obs o)
{
	if (ingest_obs_find(in, o) < in->nobs)
		return -EEXIST;
	in->obs = xreallocarray(in->obs, in->nobs + 1, sizeof(*in->obs));
	in->obs[in->nobs++] = o;
	return 0;
}

static void
ingest_obs_remove(struct ingest *in, struct ingest_obs o)
{
	size_t i = ingest_obs_find(in, o);

	if (i == in->nobs)
		return;
	memmove(&in->obs[i], &in->obs[i + 1], (in->nobs - i - 1) * sizeof(*in->obs));
	in->nobs--;
}

int
ingest_observe_txn(struct ingest *in, ingest_txn_fn fn, void *data)
{
	return ingest_obs_add(in, (struct ingest_obs){fn, NULL, data});
}

void
ingest_unobserve_txn(struct ingest *in, ingest_txn_fn fn, void *data)
{
	ingest_obs_remove(in, (struct ingest_obs){fn, NULL, data});
}

int
ingest_observe_commit(struct ingest *in, ingest_commit_fn fn, void *data)
{
	return ingest_obs_add(in, (struct ingest_obs){NULL, fn, data});
}

void
ingest_unobserve_commit(struct ingest *in, ingest_commit_fn fn, void *data)
{
	ingest_obs_remove(in, (struct ingest_obs){NULL, fn, data});
}

/* ---- the step ---- */

int
ingest_begin(struct ingest *in)
{
	int rc;

	if (in->open || in->committing)
		return -EBUSY;
	if ((rc = store_begin(in->st)) < 0)
		return rc;
	in->open = true;
	return 0;
}

void
ingest_rollback(struct ingest *in)
{
	if (!in->open)
		return;
	store_rollback(in->st);
	ingest_batch_reset(in);
	in->open = false;
}

static int
ingest_cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The batch as observers see it: job ids sorted, each once. */
static struct ingest_batch
ingest_batch_view(struct ingest *in)
{
	int64_t *jobs = in->jobs.v;
	size_t n = 0;

	if (in->jobs.n > 1) {
		qsort(jobs, in->jobs.n, sizeof(*jobs), ingest_cmp_id);
		for (size_t i = 0; i < in->jobs.n; i++)
			if (n == 0 || jobs[n - 1] != jobs[i])
				jobs[n++] = jobs[i];
		in->jobs.n = n;
	}
	return (struct ingest_batch){in->points.v, in->points.n, in->changes.v, in->changes.n,
	                             in->events.v, in->events.n, in->jobs.v,    in->jobs.n};
}

int
ingest_commit(struct ingest *in)
{
	struct ingest_batch b;
	int rc = 0;

	if (!in->open)
		return -EINVAL;
	b = ingest_batch_view(in);
	for (size_t i = 0; i < in->nobs && rc >= 0; i++)
		if (in->obs[i].txn)
			rc = in->obs[i].txn(in->obs[i].data, in->st, &b);
	if (rc >= 0)
		rc = store_commit(in->st);
	if (rc < 0) {
		ingest_rollback(in);
		return rc;
	}
	in->open = false;
	/* b points into the step's batch: no step may start until it is
	 * reset (a commit observer that must write does so later). */
	in->committing = true;
	for (size_t i = 0; i < in->nobs; i++)
		if (in->obs[i].commit)
			in->obs[i].commit(in->obs[i].data, &b);
	in->committing = false;
	ingest_batch_reset(in);
	return 0;
}

/* ---- what a step writes ---- */

/* The repaired copies of one call's texts: at most one per argument. */
struct ingest_text {
	char *fixed[5];
	size_t n;
};

/* s as the store may keep it: valid UTF-8 (utf8.h), so that every reply
 * built from the database is valid JSON.  Valid text, by far the common
 * case, is passed through uncopied. */
static const char *
ingest_text(struct ingest_text *t, const char *s)
{
	size_t len;

	if (s == NULL || utf8_valid(s, len = strlen(s)))
		return s;
	if (t->n == sizeof(t->fixed) / sizeof(t->fixed[0]))
		abort(); /* a caller with more texts than fixed[] holds: a bug */
	return t->fixed[t->n++] = utf8_repair(s, len);
}

static void
ingest_text_free(struct ingest_text *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->fixed[i]);
	t->n = 0;
}

static void
ingest_note_job(struct ingest *in, int64_t job_id)
{
	int64_t *jobs = in->jobs.v;

	if (!ingest_observed(in) || (in->jobs.n > 0 && jobs[in->jobs.n - 1] == job_id))
		return;
	*(int64_t *)ingest_vec_push(&in->jobs, sizeof(int64_t)) = job_id;
}

int
ingest_event(struct ingest *in, int64_t job_id, const char *source_event_id, const char *type,
             const char *level, const char *message, const char *data_json, int64_t created_at)
{
	struct ingest_text t = {0};
	int64_t id = 0;
	int rc;

	if (!in->open)
		return -EINVAL;
	rc = store_insert_event(in->st, job_id, ingest_text(&t, source_event_id),
	                        ingest_text(&t, type), ingest_text(&t, level),
	                        ingest_text(&t, message), ingest_text(&t, data_json), created_at,
	                        &id);
	ingest_text_free(&t);
	if (rc > 0 && ingest_observed(in)) {
		*(int64_t *)ingest_vec_push(&in->events, sizeof(int64_t)) = id;
		ingest_note_job(in, job_id);
	}
	return rc;
}

/* ftmon's own job.* event for a status. */
static int
ingest_status_event(struct ingest *in, int64_t job_id, const char *type, const char *message,
                    const char *status, const char *previous)
{
	cJSON *data = cJSON_CreateObject();
	char *json;
	int rc;

	cJSON_AddStringToObject(data, "status", status);
	if (previous)
		cJSON_AddStringToObject(data, "previous", previous);
	json = cJSON_PrintUnformatted(data);
	cJSON_Delete(data);
	rc = ingest_event(in, job_id, NULL, type, "info", message, json, clock_now(in->clk));
	cJSON_free(json);
	return rc;
}

static void
ingest_note_change(struct ingest *in, int64_t job_id, const char *previous, const char *status,
                   bool finished)
{
	struct ingest_change *c;

	if (!ingest_observed(in))
		return;
	c = ingest_vec_push(&in->changes, sizeof(*c));
	c->job_id = job_id;
	c->previous = previous ? xstrdup(previous) : NULL;
	c->status = xstrdup(status);
	c->finished = finished;
}

/* The events a change of status means (see ingest.h). */
static int
ingest_status_changed(struct ingest *in, int64_t job_id, const char *previous, const char *status)
{
	bool finished = ingest_status_final(status) && !ingest_status_final(previous);
	char *msg = xasprintf("status %s -> %s", previous, status);
	int rc = ingest_status_event(in, job_id, "job.status", msg, status, previous);

	free(msg);
	if (rc >= 0 && finished) {
		msg = xasprintf("finished: %s", status);
		rc = ingest_status_event(in, job_id, "job.finished", msg, status, previous);
		free(msg);
	}
	if (rc >= 0)
		ingest_note_change(in, job_id, previous, status, finished);
	return rc;
}

int
ingest_job(struct ingest *in, const char *source, const char *external_id, const char *status,
           int64_t *job_id)
{
	struct ingest_text t = {0};
	char *msg;
	int rc, created;

	if (!in->open)
		return -EINVAL;
	source = ingest_text(&t, source);
	external_id = ingest_text(&t, external_id);
	status = ingest_text(&t, status);
	if ((created = rc = store_job_ensure(in->st, source, external_id, status, job_id)) <= 0)
		goto out;
	msg = xasprintf("discovered, status %s", status);
	rc = ingest_status_event(in, *job_id, "job.discovered", msg, status, NULL);
	free(msg);
	if (rc < 0)
		goto out;
	ingest_note_change(in, *job_id, NULL, status, false);
	rc = created;
out:
	ingest_text_free(&t);
	return rc;
}

int
ingest_job_fields(struct ingest *in, int64_t job_id, const struct store_job_info *info,
                  char **previous)
{
	struct store_job_info clean = *info;
	struct ingest_text t = {0};
	char *prev = NULL;
	int rc;

	if (previous)
		*previous = NULL;
	if (!in->open)
		return -EINVAL;
	clean.status = ingest_text(&t, info->status);
	clean.model = ingest_text(&t, info->model);
	clean.fine_tuned_model = ingest_text(&t, info->fine_tuned_model);
	clean.error = ingest_text(&t, info->error);
	if ((rc = store_job_update(in->st, job_id, &clean, &prev)) < 0)
		goto out;
	ingest_note_job(in, job_id); /* fields changed or not: the step wrote them */
	if (rc == 0)
		goto out;
	if ((rc = ingest_status_changed(in, job_id, prev, clean.status)) < 0) {
		free(prev);
		goto out;
	}
	if (previous)
		*previous = prev;
	else
		free(prev);
	rc = 1;
out:
	ingest_text_free(&t);
	return rc;
}

/* The step's copy of a metric name: a step names a handful. */
static const char *
ingest_name(struct ingest *in, const char *metric)
{
	char **names = in->names.v;

	for (size_t i = in->names.n; i-- > 0;)
		if (strcmp(names[i], metric) == 0)
			return names[i];
	return *(char **)ingest_vec_push(&in->names, sizeof(char *)) = xstrdup(metric);
}

int
ingest_point(struct ingest *in, int64_t job_id, const char *metric, int64_t step, double value)
{
	struct ingest_text t = {0};
	struct ingest_point *p;
	int rc;

	if (!in->open)
		return -EINVAL;
	metric = ingest_text(&t, metric);
	rc = store_insert_point(in->st, job_id, metric, step, value, clock_now(in->clk));
	if (rc > 0 && ingest_observed(in)) {
		p = ingest_vec_push(&in->points, sizeof(*p));
		*p = (struct ingest_point){job_id, NULL, step, value};
		p->metric = ingest_name(in, metric);
		ingest_note_job(in, job_id);
	}
	ingest_text_free(&t);
	return rc;
}

int
ingest_checkpoint(struct ingest *in, int64_t job_id, const char *checkpoint_id, int64_t step,
                  const char *model, const char *metrics_json, int64_t created_at)
{
	struct ingest_text t = {0};
	int rc;

	if (!in->open)
		return -EINVAL;
	rc = store_upsert_checkpoint(in->st, job_id, ingest_text(&t, checkpoint_id), step,
	                             ingest_text(&t, model), ingest_text(&t, metrics_json),
	                             created_at);
	if (rc >= 0)
		ingest_note_job(in, job_id);
	ingest_text_free(&t);
	return rc;
}

int
ingest_cursor(struct ingest *in, int64_t job_id, const char *cursor)
{
	struct ingest_text t = {0};
	int rc;

	if (!in->open)
		return -EINVAL;
	rc = store_job_set_cursor(in->st, job_id, ingest_text(&t, cursor));
	ingest_text_free(&t);
	return rc;
}

int
ingest_results_done(struct ingest *in, int64_t job_id, bool done)
{
	return in->open ? store_job_set_results_done(in->st, job_id, done) : -EINVAL;
}

int
ingest_tracked(struct ingest *in, int64_t job_id, bool tracked)
{
	int rc;

	if (!in->open)
		return -EINVAL;
	if ((rc = store_job_set_tracked(in->st, job_id, tracked)) >= 0)
		ingest_note_job(in, job_id);
	return rc;
}

bool
ingest_status_final(const char *status)
{
	return status != NULL &&
	       (strcmp(status, "succeeded") == 0 || strcmp(status, "failed") == 0 ||
	        strcmp(status, "cancelled") == 0);
}

/* ---- jsonl ---- */

int
ingest_file_pos(struct ingest *in, const char *source, const char *path,
                const struct store_file_pos *pos)
{
	struct ingest_text t = {0};
	struct store_file_pos clean = *pos;
	int rc;

	if (!in->open)
		return -EINVAL;
	clean.job = (char *)ingest_text(&t, pos->job);
	rc = store_file_put(in->st, ingest_text(&t, source), ingest_text(&t, path), &clean,
	                    clock_now(in->clk));
	ingest_text_free(&t);
	return rc;
}

int
ingest_bad_line(struct ingest *in, int64_t job_id, int64_t line, const char *reason)
{
	struct ingest_text t = {0};
	int rc;

	if (!in->open)
		return -EINVAL;
	rc = store_job_bad_line(in->st, job_id, line, ingest_text(&t, reason), clock_now(in->clk));
	if (rc >= 0)
		ingest_note_job(in, job_id);
	ingest_text_free(&t);
	return rc;
}
