/*
 * source_openai_cycle: one job's poll cycle, one request at a time:
 *   job object -> events -> checkpoints -> result file
 * each step committing its own transaction (see source_openai.c), and the
 * machinery under it: the watch list, each watch's timer, the ready queue
 * and the pump that starts requests while there is room.  The events phase
 * (the walk and the storing of its pages) is in source_openai_events.c.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "http.h"
#include "log.h"
#include "openai_parse.h"
#include "openai_walk.h"
#include "retry.h"
#include "source.h"
#include "source_openai_internal.h"
#include "store.h"
#include "util.h"
#include "workq.h"
#include "xmalloc.h"

/* ---- a step that failed ---- */

/* A 200 whose body could not be used: retry it like a transient error. */
void
soai_malformed(struct soai_src *s, struct soai_watch *j, const char *what, const char *why)
{
	uint64_t delay = retry_delay_ms(j ? j->attempt : 0, NULL, NULL, 0, soai_rand01(s),
	                                SOAI_BACKOFF_CAP_MS);
	s->malformed++;
	soai_error(s, "%s: unusable response (%s); retrying in %llu ms", what, why,
	           (unsigned long long)delay);
	if (j) {
		j->attempt++;
		soai_job_schedule(j, delay);
	}
}

void
soai_store_failed(struct soai_src *s, struct soai_watch *j, const char *what, int rc)
{
	ingest_rollback(s->in);
	if (!s->store_failing)
		s->store_failing_since = soai_now(s);
	s->store_failing = true;
	soai_error(s, "%s: storing failed (%s): %s; will retry", what,
	           rc == -ENOSPC ? "disk full" : strerror(-rc), ingest_errmsg(s->in));
	j->attempt++;
	soai_job_schedule(j, retry_delay_ms(j->attempt, NULL, NULL, 0, 0.5, SOAI_BACKOFF_CAP_MS));
}

/* ---- job status bookkeeping ---- */

/* Mark a job that answered 404. */
static void
soai_job_missing(struct soai_src *s, struct soai_watch *j)
{
	struct store_job_info info = STORE_JOB_INFO_INIT;
	char *prev = NULL;
	int rc;

	info.status = "missing";
	if ((rc = ingest_begin(s->in)) < 0 ||
	    (rc = ingest_job_fields(s->in, j->id, &info, &prev)) < 0 ||
	    (rc = ingest_commit(s->in)) < 0) {
		free(prev);
		soai_store_failed(s, j, "marking job missing", rc);
		return;
	}
	free(prev);
	free(j->status);
	j->status = xstrdup("missing");
	soai_watch_forget(j);
	j->missing = true;
	log_warn("source %s: job %s is gone (HTTP 404); marked missing", s->base.name,
	         j->external_id);
}

/* ---- the poll cycle ---- */

/* A step of its own: nothing more will come for the job's results. */
static int
soai_set_results_done(struct soai_src *s, struct soai_watch *j)
{
	int rc;

	if ((rc = ingest_begin(s->in)) < 0 || (rc = ingest_results_done(s->in, j->id, true)) < 0 ||
	    (rc = ingest_commit(s->in)) < 0)
		ingest_rollback(s->in);
	return rc;
}

/* The cycle ended: sleep until the next one, or stop for good. */
static void
soai_job_cycle_done(struct soai_watch *j)
{
	uint64_t delay = soai_poll_delay(j->src), cut_delay;

	j->attempt = 0;
	j->phase = SOAI_PH_JOB;
	j->src->store_failing = false; /* a whole cycle went through */
	if (j->done) {
		log_debug("source %s: job %s finished and complete; no more polls",
		          j->src->base.name, j->external_id);
		/* The store has everything: the watch is no longer needed (track
		 * brings it back if asked). */
		soai_watch_remove(j);
		return;
	}
	/* A walk cut again and again (a server whose pages never end) backs
	 * off, so it costs bounded bandwidth and disk; a backlog still gets
	 * through, one walk at a time. */
	if (j->cuts > 0) {
		cut_delay = retry_backoff_ms(j->cuts - 1, soai_rand01(j->src), SOAI_CUT_CAP_MS);
		delay = cut_delay > delay ? cut_delay : delay;
	}
	soai_job_schedule(j, delay);
}

void
soai_job_after_events(struct soai_watch *j)
{
	bool finished = ingest_status_final(j->status);

	if (j->new_events && !j->ckpt_due)
		j->ckpt_due = ++j->cycles_since_ckpt >= SOAI_CHECKPOINT_EVERY;
	if (j->ckpt_due || finished) {
		j->ckpt_due = false;
		j->cycles_since_ckpt = 0;
		j->phase = SOAI_PH_CHECKPOINTS;
		j->ckpt_pages = 0;
		free(j->ckpt_after);
		j->ckpt_after = NULL;
		soai_job_request(j);
		return;
	}
	soai_job_cycle_done(j);
}

static void
soai_job_after_checkpoints(struct soai_watch *j)
{
	if (ingest_status_final(j->status) && !j->results_done) {
		if (j->result_file) {
			j->phase = SOAI_PH_RESULTS;
			soai_job_request(j);
			return;
		}
		/* Finished without a result file (failed early, cancelled):
		 * the events are all there is. */
		int rc = soai_set_results_done(j->src, j);
		if (rc < 0) {
			soai_store_failed(j->src, j, "results done", rc);
			return;
		}
		j->results_done = true;
	}
	j->done = ingest_status_final(j->status) && j->results_done;
	soai_job_cycle_done(j);
}

/* What a job object says, as the store's fields (borrowed from job). */
void
soai_job_info(const struct oai_job *job, struct store_job_info *info)
{
	info->status = job->status;
	info->model = job->model;
	info->fine_tuned_model = job->fine_tuned_model;
	info->error = job->error ? job->error : "";
	info->created_at = job->created_at;
	info->finished_at = job->finished_at;
	info->trained_tokens = job->trained_tokens;
	info->estimated_finish = job->estimated_finish;
}

/* The job object arrived: store what changed, then walk the events. */
static void
soai_job_on_job(struct soai_watch *j, struct http_response *r)
{
	struct soai_src *s = j->src;
	struct store_job_info info = STORE_JOB_INFO_INIT;
	struct oai_job job;
	const char *why;
	char *prev = NULL;
	int rc;

	uint64_t hash = util_hash64(r->body.data, r->body.len);
	if (hash == j->job_hash) {
		soai_job_start_events(j);
		return;
	}
	if (oai_parse_job_body(r->body.data, r->body.len, &job, &why) < 0) {
		soai_malformed(s, j, "job object", why);
		return;
	}
	soai_job_info(&job, &info);
	if ((rc = ingest_begin(s->in)) < 0 ||
	    (rc = ingest_job_fields(s->in, j->id, &info, &prev)) < 0)
		goto fail;
	if ((rc = ingest_commit(s->in)) < 0)
		goto fail;
	free(j->status);
	j->status = xstrdup(job.status);
	if (prev)
		log_info("source %s: job %s: %s -> %s", s->base.name, j->external_id, prev,
		         job.status);
	free(prev);
	free(j->result_file);
	j->result_file = xstrdup(job.result_files[0]);
	oai_job_clear(&job);
	j->job_hash = hash;
	soai_job_start_events(j);
	return;
fail:
	free(prev);
	oai_job_clear(&job);
	j->job_hash = 0;
	soai_store_failed(s, j, "job object", rc);
}

static void
soai_job_on_checkpoints(struct soai_watch *j, struct http_response *r)
{
	struct soai_src *s = j->src;
	struct oai_checkpoint_page page;
	const char *why;
	int rc = 0;

	uint64_t hash = util_hash64(r->body.data, r->body.len);

	if (j->ckpt_pages == 0 && hash == j->ckpt_hash) {
		soai_job_after_checkpoints(j); /* the newest page is the one stored */
		return;
	}
	if (oai_parse_checkpoint_page(r->body.data, r->body.len, &page, &why) < 0) {
		soai_malformed(s, j, "checkpoints page", why);
		return;
	}
	if (page.n > 0) {
		if ((rc = ingest_begin(s->in)) < 0)
			goto fail;
		for (size_t i = 0; i < page.n && rc >= 0; i++) {
			struct oai_checkpoint *c = &page.checkpoints[i];
			rc = ingest_checkpoint(s->in, j->id, c->id, c->step, c->model,
			                       c->metrics_json, c->created_at);
		}
		if (rc < 0 || (rc = ingest_commit(s->in)) < 0)
			goto fail;
	}
	/* Remember a complete single page only: with more pages the first
	 * one alone cannot say that nothing changed. */
	if (j->ckpt_pages == 0)
		j->ckpt_hash = page.has_more ? 0 : hash;
	j->ckpt_pages++;
	/* Follow the pages unless the server repeats itself or never ends. */
	if (page.has_more && page.n > 0 && j->ckpt_pages < SOAI_MAX_CHECKPOINT_PAGES &&
	    (j->ckpt_after == NULL ||
	     strcmp(j->ckpt_after, page.checkpoints[page.n - 1].id) != 0)) {
		free(j->ckpt_after);
		j->ckpt_after = xstrdup(page.checkpoints[page.n - 1].id);
		oai_checkpoint_page_clear(&page);
		soai_job_request(j);
		return;
	}
	oai_checkpoint_page_clear(&page);
	soai_job_after_checkpoints(j);
	return;
fail:
	oai_checkpoint_page_clear(&page);
	soai_store_failed(s, j, "checkpoints", rc);
}

static void
soai_job_on_results(struct soai_watch *j, struct http_response *r)
{
	struct soai_src *s = j->src;
	struct oai_result res;
	const char *why;
	size_t added = 0;
	int rc;

	if (oai_parse_result_file(r->body.data, r->body.len, &res, &why) < 0) {
		soai_malformed(s, j, "result file", why);
		return;
	}
	if ((rc = ingest_begin(s->in)) < 0)
		goto fail;
	for (size_t i = 0; i < res.n; i++) {
		rc = ingest_point(s->in, j->id, res.points[i].name, res.points[i].step,
		                  res.points[i].value);
		if (rc < 0)
			goto fail;
		added += (size_t)rc;
	}
	if ((rc = ingest_results_done(s->in, j->id, true)) < 0 || (rc = ingest_commit(s->in)) < 0)
		goto fail;
	log_info("source %s: job %s: result file stored (%zu points, %zu new)", s->base.name,
	         j->external_id, res.n, added);
	oai_result_clear(&res);
	j->results_done = true;
	j->done = true;
	soai_job_cycle_done(j);
	return;
fail:
	oai_result_clear(&res);
	soai_store_failed(s, j, "result file", rc);
}

static void soai_job_dispatch(struct soai_watch *j, struct http_response *r);

/* A finished job's result file cannot be had (gone, or over the body cap):
 * keep what the events gave and stop asking for it. */
static void
soai_job_give_up_results(struct soai_watch *j, const char *why)
{
	struct soai_src *s = j->src;
	int rc = soai_set_results_done(s, j);

	if (rc < 0) {
		soai_store_failed(s, j, "result file", rc);
		return;
	}
	soai_error(s, "job %s: result file %s: %s; keeping the points from its events",
	           j->external_id, j->result_file ? j->result_file : "?", why);
	j->results_done = true;
	j->done = ingest_status_final(j->status);
	soai_job_cycle_done(j);
}

/* A response over the body cap is no transient fault: retrying returns
 * the same body.  Back off (slowly), or give up on a result file. */
static void
soai_job_too_large(struct soai_watch *j, const char *what)
{
	if (j->phase == SOAI_PH_RESULTS) {
		soai_job_give_up_results(j, "larger than the 16 MiB response cap");
		return;
	}
	soai_malformed(j->src, j, what, "larger than the 16 MiB response cap");
}

/* 404: a result file that is gone is given up; a job object must answer
 * 404 several times in a row before the job is marked missing, so one
 * glitch cannot lose a job. */
static void
soai_job_not_found(struct soai_watch *j)
{
	struct soai_src *s = j->src;

	if (j->phase == SOAI_PH_RESULTS) {
		soai_job_give_up_results(j, "HTTP 404");
	} else if (j->phase != SOAI_PH_JOB) {
		soai_job_cycle_done(j); /* a vanished list: next cycle */
	} else if (++j->not_found >= SOAI_MISSING_AFTER) {
		soai_job_missing(s, j);
	} else {
		j->attempt++;
		soai_job_schedule(
		        j, retry_delay_ms(j->attempt, NULL, NULL, 0, 0.5, SOAI_BACKOFF_CAP_MS));
	}
}

static void
soai_job_response_cb(struct http_response *r, void *data)
{
	struct soai_watch *j = data;
	struct soai_src *s = j->src;
	static const char *const what[] = {
	        [SOAI_PH_JOB] = "job",
	        [SOAI_PH_EVENTS] = "events",
	        [SOAI_PH_CHECKPOINTS] = "checkpoints",
	        [SOAI_PH_RESULTS] = "result file",
	};

	j->req = NULL;
	workq_done(&s->queue);
	if (r->too_large) {
		soai_job_too_large(j, what[j->phase]);
	} else if (!soai_check_response(s, j, r, what[j->phase])) {
		if (r->status == 404 && r->curl_code == 0)
			soai_job_not_found(j);
		soai_pump(s);
		return;
	} else {
		soai_authorized(s);
		soai_job_dispatch(j, r);
	}
	soai_pump(s);
}

/* Hand a usable response to the handler of the job's phase. */
static void
soai_job_dispatch(struct soai_watch *j, struct http_response *r)
{
	if (j->phase == SOAI_PH_JOB)
		j->not_found = 0;
	switch (j->phase) {
	case SOAI_PH_JOB:
		soai_job_on_job(j, r);
		break;
	case SOAI_PH_EVENTS:
		soai_job_on_events(j, r);
		break;
	case SOAI_PH_CHECKPOINTS:
		soai_job_on_checkpoints(j, r);
		break;
	case SOAI_PH_RESULTS:
		soai_job_on_results(j, r);
		break;
	}
}

/* Issue the request for the job's current phase (or queue it). */
void
soai_job_request(struct soai_watch *j)
{
	struct soai_src *s = j->src;
	char *url = NULL;

	if (workq_full(&s->queue) || s->unauthorized || !s->auth_header ||
	    retry_hold_wait_ms(&s->hold, soai_mono(s)) > 0) {
		soai_job_schedule(j, 0);
		return;
	}
	switch (j->phase) {
	case SOAI_PH_JOB:
		url = soai_url(s, "/fine_tuning/jobs", j->external_id, NULL, NULL, NULL, 0);
		break;
	case SOAI_PH_EVENTS:
		/* A job with a cursor usually has few new events: ask for a
		 * small first page (the API's default size) and full pages only
		 * if the cursor is not on it. */
		url = soai_url(
		        s, "/fine_tuning/jobs", j->external_id, "/events", "after", j->walk.after,
		        j->walk.pages == 0 && j->cursor && !j->walk.after ? SOAI_EVENTS_FIRST_PAGE
		                                                          : SOAI_EVENTS_PAGE);
		break;
	case SOAI_PH_CHECKPOINTS:
		url = soai_url(s, "/fine_tuning/jobs", j->external_id, "/checkpoints", "after",
		               j->ckpt_after, 100);
		break;
	case SOAI_PH_RESULTS:
		url = soai_url(s, "/files", j->result_file, "/content", NULL, NULL, 0);
		break;
	}
	j->req = soai_get(s, url, soai_job_response_cb, j);
	if (j->req == NULL) {
		soai_error(s, "job %s: could not start a request", j->external_id);
		j->attempt++;
		soai_job_schedule(
		        j, retry_delay_ms(j->attempt, NULL, NULL, 0, 0.5, SOAI_BACKOFF_CAP_MS));
	}
}

/* ---- scheduling ---- */

static struct soai_watch *
soai_watch_of(struct workq_item *it)
{
	return (struct soai_watch *)((char *)it - offsetof(struct soai_watch, qitem));
}

static void
soai_enqueue(struct soai_watch *j)
{
	struct soai_src *s = j->src;

	if (soai_watch_busy(j) || j->untracked || s->destroying)
		return;
	workq_push(&s->queue, &j->qitem);
}

static void
soai_job_timer_cb(uv_timer_t *t)
{
	struct soai_watch *j = t->data;
	soai_enqueue(j);
	soai_pump(j->src);
}

/* Run the job's next request after delay_ms; 0 queues it now. */
void
soai_job_schedule(struct soai_watch *j, uint64_t delay_ms)
{
	uv_timer_stop(&j->timer);
	if (delay_ms == 0)
		soai_enqueue(j);
	else
		uv_timer_start(&j->timer, soai_job_timer_cb, delay_ms, 0);
}

static void soai_pump_timer_cb(uv_timer_t *t);

/* Start queued requests while there is room. */
void
soai_pump(struct soai_src *s)
{
	uint64_t wait = retry_hold_wait_ms(&s->hold, soai_mono(s));
	struct workq_item *it;

	if (s->destroying || s->unauthorized || s->auth_header == NULL)
		return;
	if (wait > 0) {
		/* Wake when the rate-limit hold ends, with a little spread. */
		uv_timer_start(&s->pump_timer, soai_pump_timer_cb, wait + soai_jitter(s, 250), 0);
		return;
	}
	while ((it = workq_take(&s->queue)) != NULL) {
		struct soai_watch *j = soai_watch_of(it);
		if (j->untracked || soai_watch_busy(j))
			continue;
		soai_job_request(j);
	}
}

static void
soai_pump_timer_cb(uv_timer_t *t)
{
	soai_pump(t->data);
}

/* ---- watched jobs ---- */

static void
soai_watch_closed_cb(uv_handle_t *h)
{
	struct soai_watch *j = h->data;
	struct soai_src *s = j->src;

	oai_walk_clear(&j->walk);
	free(j->external_id);
	free(j->status);
	free(j->cursor);
	free(j->pending_cursor);
	free(j->resume_after);
	free(j->result_file);
	free(j->ckpt_after);
	free(j);
	soai_src_unref(s);
}

struct soai_watch *
soai_watch_add(struct soai_src *s, int64_t id, const char *external_id, const char *status,
               const char *cursor, bool results_done)
{
	struct soai_watch *j = xcalloc(1, sizeof(*j));

	j->src = s;
	j->id = id;
	j->external_id = xstrdup(external_id);
	j->status = xstrdup(status);
	j->cursor = xstrdup(cursor);
	j->results_done = results_done;
	j->missing = strcmp(status, "missing") == 0;
	j->total_steps = -1;
	j->ckpt_due = true; /* read once after (re)start */
	uv_timer_init(s->env->loop, &j->timer);
	j->timer.data = j;
	s->open_handles++;
	j->next = s->jobs;
	s->jobs = j;
	s->njobs++;
	return j;
}

/* Stop watching a job and free it once its timer has closed. */
void
soai_watch_remove(struct soai_watch *j)
{
	struct soai_src *s = j->src;
	struct soai_watch **pp;

	for (pp = &s->jobs; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			s->njobs--;
			break;
		}
	}
	j->untracked = true;
	if (j->req) {
		http_request_cancel(j->req);
		j->req = NULL;
		workq_done(&s->queue);
	}
	soai_parse_orphan(j);
	/* Unlink it so the queue never points at freed memory. */
	workq_remove(&s->queue, &j->qitem);
	uv_close((uv_handle_t *)&j->timer, soai_watch_closed_cb);
}

struct soai_watch *
soai_watch_find(struct soai_src *s, int64_t id)
{
	for (struct soai_watch *j = s->jobs; j; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

void
soai_watch_restart(struct soai_watch *j, int64_t id)
{
	struct soai_src *s = j->src;

	if (j->req) {
		http_request_cancel(j->req);
		j->req = NULL;
		workq_done(&s->queue);
	}
	soai_parse_orphan(j);
	workq_remove(&s->queue, &j->qitem);
	j->id = id;
	free(j->cursor);
	j->cursor = NULL;
	free(j->ckpt_after);
	j->ckpt_after = NULL;
	j->results_done = false;
	j->total_steps = -1;
	j->attempt = 0;
	j->cycles_since_ckpt = 0;
	j->phase = SOAI_PH_JOB;
	oai_walk_clear(&j->walk);
	soai_watch_forget(j);
	soai_job_schedule(j, 0);
}

/* Forget what the watch believes about the job (missing, done, the
 * fingerprints of unchanged responses) so the next poll reads and stores
 * everything again. */
void
soai_watch_forget(struct soai_watch *j)
{
	j->missing = false;
	j->done = false;
	j->not_found = 0;
	j->job_hash = 0;
	j->events_hash = 0;
	j->ckpt_hash = 0;
	j->ckpt_due = true;
	soai_resume_clear(j); /* the next walk starts from the newest page */
	j->cuts = 0;
}
