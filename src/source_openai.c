/*
 * source_openai: the OpenAI fine-tuning source.
 *
 * Each tracked job runs a poll cycle, one request at a time:
 *   job object -> events (newest first, paged until the stored cursor) ->
 *   checkpoints (when events arrived or the job finished) ->
 *   result file (once, when the job has finished)
 * and then sleeps for poll_interval (with jitter) unless it is done.  Every
 * step commits its own transaction: the event cursor with the points and
 * events it produced, the result file's points with the results_done flag,
 * so a kill -9 anywhere repeats at most one step and never loses or
 * doubles a point.
 *
 * Requests go through a per-source queue so at most max_connections are in
 * flight.  Failures back off per job (retry-after honoured); a 429 also
 * holds the whole source until its retry time.  401/403 stop the source
 * until a slow re-check succeeds or the configuration is reloaded.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "buf.h"
#include "conf.h"
#include "clock.h"
#include "ingest.h"
#include "http.h"
#include "keyfile.h"
#include "log.h"
#include "openai_parse.h"
#include "openai_walk.h"
#include "retry.h"
#include "source.h"
#include "source_openai.h"
#include "store.h"
#include "util.h"
#include "workq.h"
#include "xmalloc.h"

#define SOAI_EVENTS_PAGE          100
#define SOAI_EVENTS_FIRST_PAGE    20
#define SOAI_MAX_EVENT_PAGES      1000
#define SOAI_MAX_CHECKPOINT_PAGES 20
#define SOAI_MAX_DISCOVERY_PAGES  200
#define SOAI_BACKOFF_CAP_MS       (5 * 60 * 1000)
#define SOAI_HINT_CAP_MS          (15 * 60 * 1000)
#define SOAI_AUTH_RECHECK_MIN_MS  (5 * 1000)
#define SOAI_AUTH_RECHECK_MAX_MS  (15 * 60 * 1000)
#define SOAI_OUTAGE_STREAK        4 /* failures in a row that mean "the API is down" */
#define SOAI_OUTAGE_CAP_MS        (60 * 1000)
#define SOAI_MISSING_AFTER        3   /* 404s in a row that mark a job missing */
#define SOAI_MIN_RETRY_MS         100 /* a 0 or tiny retry hint must not loop */
/* Checkpoints are read when the events suggest one was made (a message,
 * an epoch-end full_valid_* metric), when the job finishes, and otherwise
 * after this many cycles that brought new events. */
#define SOAI_CHECKPOINT_EVERY 10

enum soai_phase {
	SOAI_PH_JOB,
	SOAI_PH_EVENTS,
	SOAI_PH_CHECKPOINTS,
	SOAI_PH_RESULTS,
};

struct soai_src;

struct soai_watch {
	struct soai_src *src;
	struct soai_watch *next; /* all jobs of the source */
	struct workq_item qitem; /* in the source's ready queue */
	int64_t id;              /* store job id */
	char *external_id;
	char *status;
	char *cursor;      /* newest stored event id */
	char *result_file; /* from the last job object */
	bool results_done;
	bool done;    /* finished and result file stored */
	bool missing; /* 404: not polled until asked */
	bool untracked;
	bool new_events; /* this cycle stored events */
	enum soai_phase phase;
	/* Fingerprints of the last job object and first events page that
	 * were fully stored: a poll that returns the same bytes has nothing
	 * new, and skips parsing and writing (the common case while a job
	 * runs).  0 = unknown. */
	uint64_t job_hash;
	uint64_t events_hash;
	uint64_t first_page_hash; /* of the walk in progress */
	uint64_t ckpt_hash;       /* of the last checkpoints page stored */
	int64_t total_steps;      /* as stored; -1 unknown */
	bool ckpt_due;            /* events hint that a checkpoint appeared */
	unsigned cycles_since_ckpt;
	unsigned attempt;   /* failures in a row */
	unsigned not_found; /* 404s in a row on the job object */
	unsigned ckpt_pages;
	char *ckpt_after;
	struct oai_walk walk;
	struct http_request *req; /* in flight, or NULL */
	uv_timer_t timer;
};

/* A track request waiting for the API's answer about the job. */
struct soai_probe {
	struct soai_src *src;
	char *external_id;
	source_track_done done;
	void *data;
	struct http_request *req; /* in flight */
	LIST_ENTRY(soai_probe) link;
};

struct soai_src {
	struct source base;
	const struct source_env *env; /* borrowed */
	struct ingest *in;            /* env->ingest */
	struct soai_watch *jobs;
	size_t njobs;
	struct workq queue; /* ready jobs; counts every request in flight */
	char *auth_header;  /* "Authorization: Bearer ..." (secret) */
	char *org_header, *project_header;
	bool unauthorized;
	bool auth_logged; /* the refusal was logged; quiet until it clears */
	bool destroying;
	bool store_failing;     /* the last write failed; cleared by a full cycle */
	int open_handles;       /* timers still to close on destroy */
	struct retry_hold hold; /* 429 and outage holds, monotonic ms */
	uv_timer_t discover_timer;
	uv_timer_t pump_timer;
	uv_timer_t auth_timer;
	char *key_error; /* why there is no usable key, or NULL */
	struct http_request *discover_req;
	LIST_HEAD(, soai_probe) probes;
	char *discover_after;
	unsigned discover_pages;
	int64_t last_poll;
	char *last_error;      /* cleared by the next request that succeeds */
	int64_t last_error_at; /* wall clock, with it */
	/* Since when the source has been unwell (wall clock; 0: it is not):
	 * requests failing since the last success, the key refused, writes
	 * failing. */
	int64_t failing_since, unauthorized_since, store_failing_since, key_error_at;
	uint64_t requests, errors, malformed, retries, auth_failures, not_found;
	uint64_t last_warn_ms;
};

static void soai_job_schedule(struct soai_watch *j, uint64_t delay_ms);
static void soai_job_request(struct soai_watch *j);
static void soai_watch_forget(struct soai_watch *j);
static void soai_watch_remove(struct soai_watch *j);
static void soai_src_unref(struct soai_src *s);
static void soai_pump(struct soai_src *s);
static void soai_discover_start(struct soai_src *s);

/* ---- helpers ---- */

static const struct conf_source *
soai_conf(struct soai_src *s)
{
	return s->base.conf;
}

/* Time and randomness come from the environment's clock, so the
 * scheduler runs on a fake one in tests. */
static int64_t
soai_now(struct soai_src *s)
{
	return clock_now(s->env->clock);
}

static uint64_t
soai_mono(struct soai_src *s)
{
	return clock_monotonic_ms(s->env->clock);
}

static double
soai_rand01(struct soai_src *s)
{
	return clock_random(s->env->clock);
}

/* Random jitter in [0, range). */
static uint64_t
soai_jitter(struct soai_src *s, uint64_t range)
{
	return range ? (uint64_t)((double)range * soai_rand01(s)) : 0;
}

static uint64_t
soai_poll_delay(struct soai_src *s)
{
	uint64_t iv = soai_conf(s)->poll_interval_ms;
	/* poll_interval +-10% so jobs found together drift apart. */
	return iv - iv / 10 + soai_jitter(s, iv / 5 + 1);
}

/* Record an error for `status`, and log it without flooding: at most one
 * warning every 10 s per source, the rest at debug level. */
static void soai_error(struct soai_src *s, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void
soai_error(struct soai_src *s, const char *fmt, ...)
{
	va_list ap;
	char msg[512];
	uint64_t now = soai_mono(s);

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->errors++;
	free(s->last_error);
	s->last_error = xstrdup(msg);
	s->last_error_at = soai_now(s);
	if (now - s->last_warn_ms >= 10000 || s->last_warn_ms == 0) {
		s->last_warn_ms = now;
		log_warn("source %s: %s", s->base.name, msg);
	} else {
		log_debug("source %s: %s", s->base.name, msg);
	}
}

/* Percent-encode an id from the server before it goes into a URL path. */
static void
soai_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			buf_append(b, s, 1);
		else
			buf_printf(b, "%%%02X", c);
	}
}

/* base_url + path (+ "/" + escaped id + suffix) + query + api-version. */
static char *
soai_url(struct soai_src *s, const char *path, const char *id, const char *suffix,
         const char *query_key, const char *query_value, int limit)
{
	const struct conf_source *cs = soai_conf(s);
	struct buf b = BUF_INIT;
	char sep = '?';

	buf_printf(&b, "%s%s", cs->base_url, path);
	if (id) {
		buf_puts(&b, "/");
		soai_escape(&b, id);
	}
	if (suffix)
		buf_puts(&b, suffix);
	if (limit > 0) {
		buf_printf(&b, "%climit=%d", sep, limit);
		sep = '&';
	}
	if (query_key && query_value) {
		buf_printf(&b, "%c%s=", sep, query_key);
		soai_escape(&b, query_value);
		sep = '&';
	}
	if (cs->api_version) {
		buf_printf(&b, "%capi-version=", sep);
		soai_escape(&b, cs->api_version);
	}
	return buf_steal(&b);
}

typedef void (*soai_response_cb)(struct http_response *resp, void *data);

static struct http_request *
soai_get(struct soai_src *s, char *url, soai_response_cb cb, void *data)
{
	const char *headers[5];
	size_t n = 0;
	struct http_request_opts o = {0};
	struct http_request *req;

	headers[n++] = s->auth_header;
	if (s->org_header)
		headers[n++] = s->org_header;
	if (s->project_header)
		headers[n++] = s->project_header;
	headers[n++] = "Accept: application/json";
	headers[n] = NULL;
	o.url = url;
	o.headers = headers;
	o.timeout_ms = soai_conf(s)->timeout_ms;
	req = http_request_start(s->env->http, &o, cb, data);
	free(url);
	if (req) {
		s->requests++;
		workq_start(&s->queue);
		s->last_poll = soai_now(s);
	}
	return req;
}

/* ---- the API key ---- */

static int
soai_setup_auth(struct soai_src *s, char **err)
{
	const struct conf_source *cs = soai_conf(s);
	char *key, *warn;

	if (keyfile_load(cs, &key, &warn, err) < 0)
		return -EINVAL;
	if (warn) {
		log_warn("%s", warn);
		free(warn);
	}
	if (s->auth_header)
		explicit_bzero(s->auth_header, strlen(s->auth_header));
	free(s->auth_header);
	s->auth_header = cs->auth == CONF_AUTH_API_KEY ? xasprintf("api-key: %s", key)
	                                               : xasprintf("Authorization: Bearer %s", key);
	keyfile_free(key);
	free(s->org_header);
	free(s->project_header);
	s->org_header =
	        cs->organization ? xasprintf("OpenAI-Organization: %s", cs->organization) : NULL;
	s->project_header = cs->project ? xasprintf("OpenAI-Project: %s", cs->project) : NULL;
	return 0;
}

/* ---- outcome of a request: retry, auth failure, not found ---- */

/* Classify a response.  Returns true when the body may be used; otherwise
 * arranges what happens next for job j (NULL: discovery). */
static bool
soai_check_response(struct soai_src *s, struct soai_watch *j, struct http_response *r,
                    const char *what)
{
	enum retry_class cls = retry_classify(r->curl_code ? 0 : r->status);
	uint64_t delay;

	if (r->error && r->curl_code == 0 && r->status >= 200 && r->status < 300)
		cls = RETRY_CLASS_RETRY; /* e.g. body over the cap: treat as transient */
	switch (cls) {
	case RETRY_CLASS_OK:
		return true;
	case RETRY_CLASS_AUTH:
		s->auth_failures++;
		s->errors++;
		if (!s->unauthorized)
			s->unauthorized_since = soai_now(s);
		s->unauthorized = true;
		if (!s->auth_logged) {
			s->auth_logged = true;
			free(s->last_error);
			s->last_error = xasprintf("HTTP %ld: the API key was refused", r->status);
			s->last_error_at = soai_now(s);
			log_err("source %s: HTTP %ld on %s: the API key was refused; pausing this "
			        "source (re-checked every few minutes and on reload)",
			        s->base.name, r->status, what);
		}
		if (j)
			soai_job_schedule(j, 0); /* parked: the pump skips it while unauthorized */
		return false;
	case RETRY_CLASS_NOT_FOUND:
		if (j == NULL) {
			soai_error(s, "HTTP 404 on %s: check base_url", what);
			return false;
		}
		s->not_found++;
		return false; /* the caller marks the job missing */
	case RETRY_CLASS_RETRY:
	case RETRY_CLASS_FATAL:
	default:
		break;
	}
	s->retries++;
	if (s->failing_since == 0)
		s->failing_since = soai_now(s);
	delay = retry_delay_ms(
	        j ? j->attempt : 0, r->retry_after_ms, r->retry_after, soai_now(s), soai_rand01(s),
	        r->retry_after_ms || r->retry_after ? SOAI_HINT_CAP_MS : SOAI_BACKOFF_CAP_MS);
	if (delay < SOAI_MIN_RETRY_MS)
		delay = SOAI_MIN_RETRY_MS;
	/* A 429 holds the source; an outage (every request failing) holds it
	 * with its own backoff, so a thousand jobs do not each retry on their
	 * own schedule. */
	retry_hold_failure(&s->hold, soai_mono(s), r->status, delay, soai_rand01(s));
	if (r->curl_code)
		soai_error(s, "%s: %s; retrying in %llu ms", what,
		           r->error ? r->error : "transfer failed", (unsigned long long)delay);
	else
		soai_error(s, "%s: HTTP %ld%s%s; retrying in %llu ms", what, r->status,
		           r->request_id ? " request " : "", r->request_id ? r->request_id : "",
		           (unsigned long long)delay);
	if (j) {
		j->attempt++;
		soai_job_schedule(j, delay);
	}
	return false;
}

/* A successful response: the key works (again), the API is up, and the
 * last error is history (the counters keep it). */
static void
soai_authorized(struct soai_src *s)
{
	retry_hold_success(&s->hold);
	s->unauthorized = false;
	s->unauthorized_since = 0;
	s->failing_since = 0;
	free(s->last_error);
	s->last_error = NULL;
	s->last_error_at = 0;
	if (s->auth_logged) {
		s->auth_logged = false;
		log_info("source %s: the API accepts the key again", s->base.name);
	}
}

/* A 200 whose body could not be used: retry it like a transient error. */
static void
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

static void
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
	soai_job_schedule(j, soai_poll_delay(j->src));
}

static void
soai_job_after_events(struct soai_watch *j)
{
	bool finished = oai_status_finished(j->status);

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
	if (oai_status_finished(j->status) && !j->results_done) {
		if (j->result_file) {
			j->phase = SOAI_PH_RESULTS;
			soai_job_request(j);
			return;
		}
		/* Finished without a result file (failed early, cancelled):
		 * the events are all there is. */
		if (soai_set_results_done(j->src, j) == 0)
			j->results_done = true;
	}
	j->done = oai_status_finished(j->status) && j->results_done;
	soai_job_cycle_done(j);
}

/* Begin the events phase: walk from the newest event to the cursor. */
static void
soai_job_start_events(struct soai_watch *j)
{
	j->phase = SOAI_PH_EVENTS;
	j->new_events = false;
	oai_walk_clear(&j->walk);
	oai_walk_init(&j->walk, j->cursor, SOAI_MAX_EVENT_PAGES);
	soai_job_request(j);
}

/* What a job object says, as the store's fields (borrowed from job). */
static void
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

/* Store the collected events, oldest first, with the new cursor. */
static int
soai_store_events(struct soai_watch *j, int64_t *total_steps)
{
	struct soai_src *s = j->src;
	int rc = 0;

	for (size_t i = 0; i < j->walk.n && rc >= 0; i++) {
		struct oai_event *e = &j->walk.events[i];
		if (e->total_steps >= 0)
			*total_steps = e->total_steps;
		if (!e->is_metrics) {
			j->ckpt_due = true;
			rc = ingest_event(s->in, j->id, e->id, "message", e->level, e->message,
			                  NULL, e->created_at);
			continue;
		}
		for (size_t m = 0; m < e->nmetrics; m++)
			if (util_startswith(e->metrics[m].name, "full_valid"))
				j->ckpt_due = true;
		for (size_t m = 0; m < e->nmetrics && rc >= 0 && e->step >= 0; m++)
			rc = ingest_point(s->in, j->id, e->metrics[m].name, e->step,
			                  e->metrics[m].value);
	}
	return rc;
}

static void
soai_job_on_events(struct soai_watch *j, struct http_response *r)
{
	struct soai_src *s = j->src;
	struct store_job_info info = STORE_JOB_INFO_INIT;
	struct oai_event_page page;
	const char *why, *newest;
	int64_t total_steps = -1;
	int rc;

	if (j->walk.pages == 0) {
		/* The newest page is byte for byte the last one stored: no
		 * event can be new, since new events come first. */
		j->first_page_hash = util_hash64(r->body.data, r->body.len);
		if (j->first_page_hash == j->events_hash) {
			oai_walk_clear(&j->walk);
			soai_job_after_events(j);
			return;
		}
	}
	if (oai_parse_event_page(r->body.data, r->body.len, &page, &why) < 0) {
		soai_malformed(s, j, "events page", why);
		return;
	}
	if (page.n == 0 && page.has_more) {
		/* Ending the walk here would move the cursor past events never
		 * read; ask for the same page again instead. */
		oai_event_page_clear(&page);
		soai_malformed(s, j, "events page", "empty page with has_more");
		return;
	}
	if (page.nbad)
		soai_error(s, "job %s: %zu events could not be read, skipped", j->external_id,
		           page.nbad);
	if (oai_walk_feed(&j->walk, &page) == OAI_WALK_MORE) {
		oai_event_page_clear(&page);
		j->attempt = 0;
		soai_job_request(j); /* next page, same phase */
		return;
	}
	oai_event_page_clear(&page);
	if (j->walk.truncated)
		soai_error(s, "job %s: event pages stopped early (page cap or repeated cursor)",
		           j->external_id);
	newest = oai_walk_newest_id(&j->walk);
	oai_walk_finish(&j->walk);
	if (newest == NULL) {
		oai_walk_clear(&j->walk);
		j->events_hash = j->first_page_hash;
		soai_job_after_events(j);
		return;
	}
	if ((rc = ingest_begin(s->in)) < 0 || (rc = soai_store_events(j, &total_steps)) < 0)
		goto fail;
	info.total_steps = total_steps;
	if (total_steps >= 0 && total_steps != j->total_steps &&
	    (rc = ingest_job_fields(s->in, j->id, &info, NULL)) < 0)
		goto fail;
	if ((rc = ingest_cursor(s->in, j->id, newest)) < 0 || (rc = ingest_commit(s->in)) < 0)
		goto fail;
	free(j->cursor);
	j->cursor = xstrdup(newest);
	if (total_steps >= 0)
		j->total_steps = total_steps;
	j->new_events = true;
	j->events_hash = j->first_page_hash;
	oai_walk_clear(&j->walk);
	soai_job_after_events(j);
	return;
fail:
	oai_walk_clear(&j->walk);
	j->events_hash = 0;
	j->phase = SOAI_PH_JOB;
	soai_store_failed(s, j, "events", rc);
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
	j->done = oai_status_finished(j->status);
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
static void
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
		url = soai_url(s, "/fine_tuning/jobs", j->external_id, "/events", "after",
		               j->walk.after,
		               j->walk.pages == 0 && j->cursor ? SOAI_EVENTS_FIRST_PAGE
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

	if (j->req || j->untracked || s->destroying)
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
static void
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
static void
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
		if (j->untracked || j->req)
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
	free(j->result_file);
	free(j->ckpt_after);
	free(j);
	soai_src_unref(s);
}

static struct soai_watch *
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
static void
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
	/* Unlink it so the queue never points at freed memory. */
	workq_remove(&s->queue, &j->qitem);
	uv_close((uv_handle_t *)&j->timer, soai_watch_closed_cb);
}

static struct soai_watch *
soai_watch_find(struct soai_src *s, int64_t id)
{
	for (struct soai_watch *j = s->jobs; j; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

/* Forget what the watch believes about the job (missing, done, the
 * fingerprints of unchanged responses) so the next poll reads and stores
 * everything again. */
static void
soai_watch_forget(struct soai_watch *j)
{
	j->missing = false;
	j->done = false;
	j->not_found = 0;
	j->job_hash = 0;
	j->events_hash = 0;
	j->ckpt_hash = 0;
	j->ckpt_due = true;
}

/* ---- discovery ---- */

static void
soai_discover_timer_cb(uv_timer_t *t)
{
	soai_discover_start(t->data);
}

static void
soai_discover_schedule(struct soai_src *s, uint64_t delay)
{
	if (soai_conf(s)->discover && !s->destroying)
		uv_timer_start(&s->discover_timer, soai_discover_timer_cb, delay, 0);
}

/* Track every job of a list page that is new to the store.  The jobs are
 * watched only once their rows have committed. */
static int
soai_discover_page(struct soai_src *s, struct oai_job_page *page)
{
	int64_t *ids = xcalloc(page->n + 1, sizeof(*ids));
	int rc;

	if ((rc = ingest_begin(s->in)) < 0)
		goto out;
	for (size_t i = 0; i < page->n; i++) {
		struct oai_job *job = &page->jobs[i];
		if ((rc = ingest_job(s->in, s->base.name, job->id, job->status, &ids[i])) < 0)
			goto fail;
		if (rc == 0)
			ids[i] = 0; /* known: watched already, complete, or untracked */
	}
	if ((rc = ingest_commit(s->in)) < 0)
		goto out;
	for (size_t i = 0; i < page->n; i++) {
		struct oai_job *job = &page->jobs[i];
		if (ids[i] == 0)
			continue;
		struct soai_watch *j = soai_watch_add(s, ids[i], job->id, job->status, NULL, false);
		log_info("source %s: discovered job %s (%s)", s->base.name, job->id, job->status);
		soai_job_schedule(j, soai_jitter(s, 1000));
	}
	rc = 0;
	goto out;
fail:
	ingest_rollback(s->in);
out:
	free(ids);
	return rc;
}

static void
soai_discover_cb(struct http_response *r, void *data)
{
	struct soai_src *s = data;
	struct oai_job_page page;
	const char *why;
	int rc;

	s->discover_req = NULL;
	workq_done(&s->queue);
	if (!soai_check_response(s, NULL, r, "job list")) {
		soai_discover_schedule(s, soai_poll_delay(s));
		soai_pump(s);
		return;
	}
	soai_authorized(s);
	if (oai_parse_job_page(r->body.data, r->body.len, &page, &why) < 0) {
		s->malformed++;
		soai_error(s, "job list: unusable response (%s)", why);
		soai_discover_schedule(s, soai_poll_delay(s));
		soai_pump(s);
		return;
	}
	if ((rc = soai_discover_page(s, &page)) < 0)
		soai_error(s, "job list: storing failed: %s", ingest_errmsg(s->in));
	s->discover_pages++;
	if (rc == 0 && page.has_more && page.n > 0 &&
	    s->discover_pages < SOAI_MAX_DISCOVERY_PAGES &&
	    (s->discover_after == NULL ||
	     strcmp(s->discover_after, page.jobs[page.n - 1].id) != 0)) {
		free(s->discover_after);
		s->discover_after = xstrdup(page.jobs[page.n - 1].id);
		oai_job_page_clear(&page);
		soai_discover_start(s);
		return;
	}
	oai_job_page_clear(&page);
	free(s->discover_after);
	s->discover_after = NULL;
	soai_discover_schedule(s, soai_poll_delay(s));
	soai_pump(s);
}

/* Fetch the next page of the job list (the first when after is NULL). */
static void
soai_discover_start(struct soai_src *s)
{
	if (s->discover_req || s->destroying)
		return;
	if (s->unauthorized || s->auth_header == NULL) {
		soai_discover_schedule(s, soai_poll_delay(s));
		return;
	}
	uint64_t wait = retry_hold_wait_ms(&s->hold, soai_mono(s));
	if (wait > 0) {
		/* A 429 holds every request of the source, discovery included. */
		soai_discover_schedule(s, wait + soai_jitter(s, 250));
		return;
	}
	if (s->discover_after == NULL)
		s->discover_pages = 0;
	s->discover_req = soai_get(
	        s, soai_url(s, "/fine_tuning/jobs", NULL, NULL, "after", s->discover_after, 100),
	        soai_discover_cb, s);
	if (s->discover_req == NULL)
		soai_discover_schedule(s, soai_poll_delay(s));
}

/* ---- authorisation re-checks ---- */

static uint64_t
soai_auth_recheck_ms(struct soai_src *s)
{
	uint64_t v = 10 * soai_conf(s)->poll_interval_ms;
	if (v < SOAI_AUTH_RECHECK_MIN_MS)
		v = SOAI_AUTH_RECHECK_MIN_MS;
	return v > SOAI_AUTH_RECHECK_MAX_MS ? SOAI_AUTH_RECHECK_MAX_MS : v;
}

/* While refused, try one job (or the list) slowly; success resumes all. */
static void
soai_auth_timer_cb(uv_timer_t *t)
{
	struct soai_src *s = t->data;

	if (s->unauthorized && s->auth_header) {
		log_debug("source %s: re-checking the API key", s->base.name);
		s->unauthorized = false;
		if (workq_len(&s->queue) > 0)
			soai_pump(s); /* the first response decides */
		else if (!s->discover_req && soai_conf(s)->discover)
			soai_discover_start(s);
	}
	uv_timer_start(&s->auth_timer, soai_auth_timer_cb, soai_auth_recheck_ms(s), 0);
}

/* ---- source_ops ---- */

static int
soai_start(struct source *src, char **err)
{
	struct soai_src *s = (struct soai_src *)src;
	struct store_job_state *jobs;
	size_t n;
	int rc;

	if ((rc = store_jobs_of_source(s->env->store, src->name, &jobs, &n)) < 0) {
		*err = xasprintf("reading its jobs: %s", ingest_errmsg(s->in));
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		struct store_job_state *js = &jobs[i];
		bool complete = oai_status_finished(js->status) && js->results_done;
		if (js->tracked && !complete) {
			struct soai_watch *j =
			        soai_watch_add(s, js->id, js->external_id, js->status, js->cursor,
			                       js->results_done);
			/* Spread the first polls over one interval; a missing job
			 * waits for `ftmonctl poll` or `track`. */
			if (!j->missing)
				soai_job_schedule(
				        j, 1 + soai_jitter(s, soai_conf(s)->poll_interval_ms));
		}
		store_job_state_clear(js);
	}
	free(jobs);
	soai_discover_schedule(s, 1 + soai_jitter(s, 200));
	uv_timer_start(&s->auth_timer, soai_auth_timer_cb, soai_auth_recheck_ms(s), 0);
	log_info("source %s: watching %zu unfinished jobs at %s%s", src->name, s->njobs,
	         soai_conf(s)->base_url, soai_conf(s)->discover ? " (discovering new jobs)" : "");
	return 0;
}

static int
soai_poll_now(struct source *src, int64_t job_id)
{
	struct soai_src *s = (struct soai_src *)src;
	struct soai_watch *j;

	if (job_id == 0) {
		for (j = s->jobs; j; j = j->next)
			if (!j->req && !j->missing)
				soai_job_schedule(j, 0);
		if (!s->discover_req && soai_conf(s)->discover)
			soai_discover_schedule(s, 1);
		soai_pump(s);
		return 0;
	}
	if ((j = soai_watch_find(s, job_id)) == NULL)
		return -ENOENT;
	soai_watch_forget(j);
	if (!j->req)
		soai_job_schedule(j, 0);
	soai_pump(s);
	return 0;
}

/* Store a job the API has just shown us, tracked, and watch it. */
static int
soai_probe_store(struct soai_src *s, const char *external_id, const struct oai_job *job,
                 int64_t *job_id)
{
	struct store_job_info info = STORE_JOB_INFO_INIT;
	struct soai_watch *j;
	int rc;

	soai_job_info(job, &info);
	if ((rc = ingest_begin(s->in)) < 0 ||
	    (rc = ingest_job(s->in, s->base.name, external_id, job->status, job_id)) < 0 ||
	    (rc = ingest_tracked(s->in, *job_id, true)) < 0 ||
	    (rc = ingest_job_fields(s->in, *job_id, &info, NULL)) < 0 ||
	    (rc = ingest_commit(s->in)) < 0) {
		ingest_rollback(s->in);
		return rc;
	}
	/* Watched only once the row has committed.  A job that was complete
	 * is re-read once; nothing is doubled. */
	if ((j = soai_watch_find(s, *job_id)) == NULL)
		j = soai_watch_add(s, *job_id, external_id, job->status, NULL, false);
	soai_watch_forget(j);
	if (!j->req)
		soai_job_schedule(j, 0);
	return 0;
}

/* Why a probe's answer cannot be used, or NULL when it can. */
static char *
soai_probe_refusal(struct soai_probe *p, struct http_response *r, int *rc)
{
	if (r->curl_code) {
		*rc = -EIO;
		return xasprintf("cannot ask the API about %s: %s", p->external_id,
		                 r->error ? r->error : "transfer failed");
	}
	switch (retry_classify(r->status)) {
	case RETRY_CLASS_OK:
		return NULL;
	case RETRY_CLASS_NOT_FOUND:
		*rc = -ENOENT;
		return xasprintf("the API does not know job '%s' (HTTP 404); nothing stored",
		                 p->external_id);
	case RETRY_CLASS_AUTH:
		*rc = -EACCES;
		return xasprintf("the API refused the key (HTTP %ld)", r->status);
	default:
		*rc = -EIO;
		return xasprintf("the API answered HTTP %ld about %s; try again", r->status,
		                 p->external_id);
	}
}

static void
soai_probe_cb(struct http_response *r, void *data)
{
	struct soai_probe *p = data;
	struct soai_src *s = p->src;
	struct oai_job job;
	const char *why;
	int64_t job_id = 0;
	int rc = 0;
	char *msg;

	p->req = NULL;
	workq_done(&s->queue);
	if ((msg = soai_probe_refusal(p, r, &rc)) == NULL) {
		if (oai_parse_job_body(r->body.data, r->body.len, &job, &why) < 0) {
			rc = -EIO;
			msg = xasprintf("the API's answer about %s is unusable (%s)",
			                p->external_id, why);
		} else {
			if ((rc = soai_probe_store(s, p->external_id, &job, &job_id)) < 0)
				msg = xasprintf("database error: %s", ingest_errmsg(s->in));
			else
				log_info("source %s: tracking job %s (%s)", s->base.name,
				         p->external_id, job.status);
			oai_job_clear(&job);
		}
	}
	LIST_REMOVE(p, link);
	p->done(p->data, rc, job_id, msg);
	free(msg);
	free(p->external_id);
	free(p);
	soai_pump(s);
}

/* Track: ask the API for the job first, and store it only if it exists. */
static int
soai_track(struct source *src, const char *external_id, source_track_done done, void *data,
           char **err)
{
	struct soai_src *s = (struct soai_src *)src;
	struct soai_probe *p;

	if (strlen(external_id) > OAI_MAX_ID) {
		*err = xstrdup("job id too long");
		return -EINVAL;
	}
	if (s->key_error) {
		*err = xasprintf("source %s has no usable key: %s", src->name, s->key_error);
		return -EACCES;
	}
	p = xcalloc(1, sizeof(*p));
	p->src = s;
	p->external_id = xstrdup(external_id);
	p->done = done;
	p->data = data;
	p->req = soai_get(s, soai_url(s, "/fine_tuning/jobs", external_id, NULL, NULL, NULL, 0),
	                  soai_probe_cb, p);
	if (p->req == NULL) {
		free(p->external_id);
		free(p);
		*err = xstrdup("cannot start a request to the API");
		return -EIO;
	}
	LIST_INSERT_HEAD(&s->probes, p, link);
	return 0;
}

static void
soai_probe_cancel(struct soai_probe *p)
{
	LIST_REMOVE(p, link);
	if (p->req) {
		http_request_cancel(p->req);
		workq_done(&p->src->queue);
	}
	free(p->external_id);
	free(p);
}

static void
soai_track_cancel(struct source *src, void *data)
{
	struct soai_src *s = (struct soai_src *)src;
	struct soai_probe *p, *next;

	for (p = LIST_FIRST(&s->probes); p; p = next) {
		next = LIST_NEXT(p, link);
		if (p->data == data)
			soai_probe_cancel(p);
	}
}

static int
soai_untrack(struct source *src, int64_t job_id)
{
	struct soai_src *s = (struct soai_src *)src;
	struct soai_watch *j = soai_watch_find(s, job_id);
	int rc;

	if ((rc = ingest_begin(s->in)) < 0 || (rc = ingest_tracked(s->in, job_id, false)) < 0 ||
	    (rc = ingest_commit(s->in)) < 0) {
		ingest_rollback(s->in);
		return rc;
	}
	if (j)
		soai_watch_remove(j);
	return 0;
}

static void
soai_add_time(cJSON *o, const char *name, int64_t t)
{
	if (t > 0)
		cJSON_AddNumberToObject(o, name, (double)t);
	else
		cJSON_AddNullToObject(o, name);
}

/* What is true now, and since when: a key that cannot be read, a key the
 * API refuses, the API down (an outage hold), a source-wide hold (429),
 * failures since the last success or failing writes, no request yet. */
static const char *
soai_health(struct soai_src *s, int64_t *since, int64_t *until)
{
	uint64_t wait = retry_hold_wait_ms(&s->hold, soai_mono(s));

	*since = 0;
	*until = wait > 0 ? soai_now(s) + (int64_t)((wait + 999) / 1000) : 0;
	if (s->key_error)
		return *since = s->key_error_at, "error";
	if (s->unauthorized)
		return *since = s->unauthorized_since, "unauthorized";
	if (s->failing_since && s->hold.streak >= SOAI_OUTAGE_STREAK)
		return *since = s->failing_since, "down";
	if (wait > 0)
		return *since = s->failing_since, "backing_off";
	if (s->store_failing)
		return *since = s->store_failing_since, "degraded";
	if (s->failing_since)
		return *since = s->failing_since, "degraded";
	return s->requests == 0 ? "idle" : "ok";
}

static cJSON *
soai_status(struct source *src)
{
	struct soai_src *s = (struct soai_src *)src;
	cJSON *o = cJSON_CreateObject(), *c;
	int64_t since, until;

	cJSON_AddStringToObject(o, "health", soai_health(s, &since, &until));
	soai_add_time(o, "health_since", since);
	soai_add_time(o, "backoff_until", until);
	soai_add_time(o, "last_poll", s->last_poll);
	if (s->key_error || s->last_error)
		cJSON_AddStringToObject(o, "last_error",
		                        s->key_error ? s->key_error : s->last_error);
	else
		cJSON_AddNullToObject(o, "last_error");
	soai_add_time(o, "last_error_at", s->key_error ? s->key_error_at : s->last_error_at);
	cJSON_AddNumberToObject(o, "watching", (double)s->njobs);
	cJSON_AddNumberToObject(o, "requests", (double)s->requests);
	cJSON_AddNumberToObject(o, "errors", (double)s->errors);
	cJSON_AddNumberToObject(o, "inflight", (double)workq_inflight(&s->queue));
	c = cJSON_AddObjectToObject(o, "counters");
	cJSON_AddNumberToObject(c, "malformed", (double)s->malformed);
	cJSON_AddNumberToObject(c, "retries", (double)s->retries);
	cJSON_AddNumberToObject(c, "auth_failures", (double)s->auth_failures);
	cJSON_AddNumberToObject(c, "not_found", (double)s->not_found);
	return o;
}

static void
soai_reload(struct source *src)
{
	struct soai_src *s = (struct soai_src *)src;
	char *err = NULL;

	free(s->key_error);
	s->key_error = NULL;
	if (soai_setup_auth(s, &err) < 0) {
		s->key_error = err;
		s->key_error_at = soai_now(s);
		log_err("source %s: %s", src->name, err);
		return;
	}
	s->auth_logged = false;
	if (s->unauthorized) {
		log_info("source %s: retrying with the reloaded key", src->name);
		s->unauthorized = false;
		for (struct soai_watch *j = s->jobs; j; j = j->next)
			if (!j->req && !j->missing)
				soai_job_schedule(j, 0);
		soai_discover_schedule(s, 1);
		soai_pump(s);
	}
}

/* Drop one closed handle; the source goes with the last one once it is
 * being destroyed.  libuv runs close callbacks in no promised order, so the
 * source's timers and its jobs' timers share this one count. */
static void
soai_src_unref(struct soai_src *s)
{
	if (--s->open_handles > 0 || !s->destroying)
		return;
	if (s->auth_header)
		explicit_bzero(s->auth_header, strlen(s->auth_header));
	free(s->auth_header);
	free(s->org_header);
	free(s->project_header);
	free(s->discover_after);
	free(s->last_error);
	free(s->key_error);
	free(s->base.name);
	free(s);
}

static void
soai_src_closed_cb(uv_handle_t *h)
{
	soai_src_unref(h->data);
}

static void
soai_destroy(struct source *src)
{
	struct soai_src *s = (struct soai_src *)src;

	s->destroying = true;
	while (!LIST_EMPTY(&s->probes)) {
		struct soai_probe *p = LIST_FIRST(&s->probes);
		source_track_done done = p->done;
		void *data = p->data;
		soai_probe_cancel(p);
		done(data, -ECANCELED, 0, "the source was stopped or reconfigured; try again");
	}
	if (s->discover_req)
		http_request_cancel(s->discover_req);
	s->discover_req = NULL;
	while (s->jobs)
		soai_watch_remove(s->jobs);
	/* The last of these and the watch timers closed above frees it. */
	s->open_handles += 3;
	uv_close((uv_handle_t *)&s->discover_timer, soai_src_closed_cb);
	uv_close((uv_handle_t *)&s->pump_timer, soai_src_closed_cb);
	uv_close((uv_handle_t *)&s->auth_timer, soai_src_closed_cb);
}

int
source_openai_check(const struct conf_source *cs, bool starting, char **err)
{
	char *key = NULL, *warn = NULL;
	int line;

	/* Outside the unit a systemd credential cannot be seen: -t leaves it
	 * to the start, which has it. */
	if (!starting)
		return keyfile_check(cs, &line, err) < 0 ? -1 : 0;
	if (keyfile_load(cs, &key, &warn, err) < 0)
		return -1;
	free(warn);
	keyfile_free(key);
	return 0;
}

static const struct source_ops soai_ops = {
        .start = soai_start,
        .poll_now = soai_poll_now,
        .track = soai_track,
        .track_cancel = soai_track_cancel,
        .untrack = soai_untrack,
        .reload = soai_reload,
        .status = soai_status,
        .destroy = soai_destroy,
};

struct source *
source_openai_new(const struct conf_source *cs, const struct source_env *env, char **err)
{
	struct soai_src *s = xcalloc(1, sizeof(*s));
	char *kerr = NULL;

	s->base.ops = &soai_ops;
	s->base.name = xstrdup(cs->name);
	s->base.conf = cs;
	s->base.env = env;
	s->env = env;
	s->in = env->ingest;
	LIST_INIT(&s->probes);
	workq_init(&s->queue, cs->max_connections);
	retry_hold_init(&s->hold, SOAI_OUTAGE_STREAK, SOAI_OUTAGE_CAP_MS);
	if (soai_setup_auth(s, &kerr) < 0) {
		/* Keep the source so `status` shows why; reload may fix it. */
		s->key_error = kerr;
		s->key_error_at = clock_now(env->clock);
		log_err("source %s: %s", cs->name, kerr);
	}
	uv_timer_init(env->loop, &s->discover_timer);
	uv_timer_init(env->loop, &s->pump_timer);
	uv_timer_init(env->loop, &s->auth_timer);
	s->discover_timer.data = s->pump_timer.data = s->auth_timer.data = s;
	return &s->base;
}
