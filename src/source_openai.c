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
 *
 * This file is the source itself: its source_ops, track probes, the key and
 * the requests with what their answers mean for the whole source.  The poll
 * cycle is source_openai_cycle.c, discovery source_openai_discover.c; what
 * they share is source_openai_internal.h.
 */
#include "config.h"

#include <errno.h>
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
#include "retry.h"
#include "source.h"
#include "source_openai.h"
#include "source_openai_internal.h"
#include "store.h"
#include "workq.h"
#include "utf8.h"
#include "xmalloc.h"

/* A track request waiting for the API's answer about the job. */
struct soai_probe {
	struct soai_src *src;
	char *external_id;
	source_track_done done;
	void *data;
	struct http_request *req; /* in flight */
	LIST_ENTRY(soai_probe) link;
};

/* Record an error for `status`, and log it without flooding: at most one
 * warning every 10 s per source, the rest at debug level. */
void
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

/* Percent-encode outside data before it goes into a URL.  In a path
 * segment '.' is encoded too: "." and ".." would be dot segments, which
 * curl and servers resolve into another endpoint (jobs/.. is the API). */
static void
soai_escape(struct buf *b, const char *s, bool segment)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || (c == '.' && !segment) || c == '~')
			buf_append(b, s, 1);
		else
			buf_printf(b, "%%%02X", c);
	}
}

/* base_url + path (+ "/" + escaped id + suffix) + query + api-version. */
char *
soai_url(struct soai_src *s, const char *path, const char *id, const char *suffix,
         const char *query_key, const char *query_value, int limit)
{
	const struct conf_source *cs = soai_conf(s);
	struct buf b = BUF_INIT;
	char sep = '?';

	buf_printf(&b, "%s%s", cs->base_url, path);
	if (id) {
		buf_puts(&b, "/");
		soai_escape(&b, id, true);
	}
	if (suffix)
		buf_puts(&b, suffix);
	if (limit > 0) {
		buf_printf(&b, "%climit=%d", sep, limit);
		sep = '&';
	}
	if (query_key && query_value) {
		buf_printf(&b, "%c%s=", sep, query_key);
		soai_escape(&b, query_value, false);
		sep = '&';
	}
	if (cs->api_version) {
		buf_printf(&b, "%capi-version=", sep);
		soai_escape(&b, cs->api_version, false);
	}
	return buf_steal(&b);
}

struct http_request *
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
bool
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
void
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

/* Watch every tracked, unfinished job of the store not watched yet. */
static int
soai_watch_stored(struct soai_src *s)
{
	struct store_job_state *jobs;
	size_t n;
	int rc;

	if ((rc = store_jobs_of_source(s->env->store, s->base.name, &jobs, &n)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct store_job_state *js = &jobs[i];
		bool complete = ingest_status_final(js->status) && js->results_done;
		if (js->tracked && !complete && soai_watch_find(s, js->id) == NULL) {
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
	return 0;
}

static int
soai_start(struct source *src, char **err)
{
	struct soai_src *s = (struct soai_src *)src;
	int rc;

	if ((rc = soai_watch_stored(s)) < 0) {
		*err = xasprintf("reading its jobs: %s", ingest_errmsg(s->in));
		return rc;
	}
	soai_discover_schedule(s, 1 + soai_jitter(s, 200));
	uv_timer_start(&s->auth_timer, soai_auth_timer_cb, soai_auth_recheck_ms(s), 0);
	log_info("source %s: watching %zu unfinished jobs at %s%s", src->name, s->njobs,
	         soai_conf(s)->base_url, soai_conf(s)->discover ? " (discovering new jobs)" : "");
	return 0;
}

int
soai_poll_now(struct source *src, int64_t job_id)
{
	struct soai_src *s = (struct soai_src *)src;
	struct soai_watch *j;

	if (job_id == 0) {
		for (j = s->jobs; j; j = j->next)
			if (!soai_watch_busy(j) && !j->missing)
				soai_job_schedule(j, 0);
		if (!s->discover_req && soai_conf(s)->discover)
			soai_discover_schedule(s, 1);
		soai_pump(s);
		return 0;
	}
	if ((j = soai_watch_find(s, job_id)) == NULL)
		return -ENOENT;
	soai_watch_forget(j);
	if (!soai_watch_busy(j))
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
	if (!soai_watch_busy(j))
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
		} else if (strcmp(job.id, p->external_id) != 0) {
			/* Stored under the name asked for, the answer about
			 * another job would be polled as this one. */
			rc = -EIO;
			msg = xasprintf("the API answered about job '%s' when asked about '%s'; "
			                "nothing stored",
			                job.id, p->external_id);
			oai_job_clear(&job);
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
	const char *why;

	/* The check discovery and the job object use: a name the API could
	 * never list is refused before anything is asked or stored. */
	if (!oai_id_valid(external_id, &why)) {
		char *shown = utf8_show(external_id, OAI_SHOW_ID);
		*err = xasprintf("invalid job id '%s': it %s; nothing stored", shown, why);
		free(shown);
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
	cJSON_AddNumberToObject(c, "walks_cut", (double)s->walks_cut);
	cJSON_AddNumberToObject(c, "pages_parsed_off_loop", (double)s->parsed_away);
	if (s->last_walk_cut)
		cJSON_AddStringToObject(o, "last_walk_cut", s->last_walk_cut);
	else
		cJSON_AddNullToObject(o, "last_walk_cut");
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
			if (!soai_watch_busy(j) && !j->missing)
				soai_job_schedule(j, 0);
		soai_discover_schedule(s, 1);
		soai_pump(s);
	}
}

/* Store every watched job in the new database, tracked, and keep their
 * watches in the same order under the new ids (ids[i] for the i-th). */
static int
soai_resync_store(struct soai_src *s, int64_t *ids)
{
	size_t i = 0;
	int rc;

	if ((rc = ingest_begin(s->in)) < 0)
		return rc;
	for (struct soai_watch *j = s->jobs; j && rc >= 0; j = j->next, i++)
		if ((rc = ingest_job(s->in, s->base.name, j->external_id, j->status, &ids[i])) >= 0)
			rc = ingest_tracked(s->in, ids[i], true);
	if (rc >= 0)
		rc = ingest_commit(s->in);
	if (rc < 0)
		ingest_rollback(s->in);
	return rc;
}

/* The database is a new file (source.h): the watched jobs are stored again
 * and polled from the start, so their events, checkpoints and result files
 * are read whole; a file that replaced the old one may bring unfinished
 * jobs of its own, watched as at start; jobs that were complete come back
 * through discovery. */
static void
soai_resync(struct source *src)
{
	struct soai_src *s = (struct soai_src *)src;
	int64_t *ids = xcalloc(s->njobs + 1, sizeof(*ids));
	size_t i = 0, n = s->njobs;

	if (soai_resync_store(s, ids) < 0) {
		log_err("source %s: cannot store its %zu watched jobs in the new database: %s; "
		        "discovery, `track` or a restart brings them back",
		        src->name, n, ingest_errmsg(s->in));
		while (s->jobs)
			soai_watch_remove(s->jobs);
	} else {
		for (struct soai_watch *j = s->jobs; j; j = j->next)
			soai_watch_restart(j, ids[i++]);
		log_info("source %s: the database was replaced; reading its %zu watched jobs "
		         "again from the API",
		         src->name, n);
	}
	free(ids);
	if (soai_watch_stored(s) < 0)
		log_err("source %s: reading its jobs in the new database: %s", src->name,
		        ingest_errmsg(s->in));
	soai_discover_schedule(s, 1);
	soai_pump(s);
}

/* Drop one closed handle; the source goes with the last one once it is
 * being destroyed.  libuv runs close callbacks in no promised order, so the
 * source's timers and its jobs' timers share this one count. */
void
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
	free(s->last_walk_cut);
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
	soai_act_destroy_all(s);
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
        .resync = soai_resync,
        .status = soai_status,
        .destroy = soai_destroy,
        .act = soai_act,
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
	LIST_INIT(&s->acts);
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
