/*
 * source_openai_act: the `act` op (rules: action = cancel|pause).  One
 * POST /fine_tuning/jobs/{id}/cancel|pause per request, retried like a
 * poll (transport errors, 408/409/429/5xx: backoff with jitter, the
 * server's Retry-After honoured) up to SOAI_ACT_ATTEMPTS; any other answer
 * is final and reported with the API's message.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "log.h"
#include "source_openai_internal.h"
#include "xmalloc.h"

#define SOAI_ACT_ATTEMPTS 6

struct soai_act {
	LIST_ENTRY(soai_act) link;
	struct soai_src *src;
	int64_t job_id;
	char *external_id;
	char *action; /* "cancel" or "pause" */
	source_act_done done;
	void *data;
	unsigned attempt;
	struct http_request *req; /* in flight, or NULL while waiting */
	uv_timer_t timer;
};

static void soai_act_send(struct soai_act *a);

static void
soai_act_closed_cb(uv_handle_t *h)
{
	struct soai_act *a = h->data;
	struct soai_src *s = a->src;

	free(a->external_id);
	free(a->action);
	free(a);
	soai_src_unref(s);
}

/* Answer once, then go (the timer's close frees it). */
static void
soai_act_finish(struct soai_act *a, int rc, const char *result)
{
	LIST_REMOVE(a, link);
	uv_timer_stop(&a->timer);
	a->done(a->data, rc, result);
	a->src->open_handles++;
	uv_close((uv_handle_t *)&a->timer, soai_act_closed_cb);
}

/* The API's error message from an error body, or a short fallback. */
static char *
soai_act_error(const struct http_response *r)
{
	cJSON *j = cJSON_ParseWithLength(r->body.data, r->body.len);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(
	        cJSON_GetObjectItemCaseSensitive(j, "error"), "message");
	char *out = cJSON_IsString(m) ? xasprintf("HTTP %ld: %.200s", r->status, m->valuestring)
	                              : xasprintf("HTTP %ld", r->status);

	cJSON_Delete(j);
	return out;
}

static void
soai_act_retry_cb(uv_timer_t *t)
{
	soai_act_send(t->data);
}

static void
soai_act_cb(struct http_response *r, void *data)
{
	struct soai_act *a = data;
	struct soai_src *s = a->src;
	enum retry_class c = r->curl_code ? RETRY_CLASS_RETRY : retry_classify(r->status);
	char *msg;

	a->req = NULL;
	if (c == RETRY_CLASS_OK) {
		int64_t job_id = a->job_id;
		msg = xasprintf("HTTP %ld: %s requested", r->status, a->action);
		log_notice("source %s: job %s: %s", s->base.name, a->external_id, msg);
		soai_act_finish(a, 0, msg);
		free(msg);
		soai_poll_now(&s->base, job_id); /* show the new status soon */
		return;
	}
	msg = r->curl_code ? xstrdup(r->error ? r->error : "transfer failed") : soai_act_error(r);
	if (c == RETRY_CLASS_RETRY && ++a->attempt < SOAI_ACT_ATTEMPTS) {
		uint64_t ms = retry_delay_ms(a->attempt - 1, r->retry_after_ms, r->retry_after,
		                             soai_now(s), clock_random(s->env->clock),
		                             SOAI_BACKOFF_CAP_MS);
		log_warn("source %s: job %s: %s failed (%s); retrying in %llu ms", s->base.name,
		         a->external_id, a->action, msg, (unsigned long long)ms);
		uv_timer_start(&a->timer, soai_act_retry_cb,
		               ms < SOAI_MIN_RETRY_MS ? SOAI_MIN_RETRY_MS : ms, 0);
	} else {
		log_warn("source %s: job %s: %s failed: %s", s->base.name, a->external_id,
		         a->action, msg);
		soai_act_finish(a, -EIO, msg);
	}
	free(msg);
}

static void
soai_act_send(struct soai_act *a)
{
	struct soai_src *s = a->src;
	const char *headers[6];
	size_t n = 0;
	char *suffix = xasprintf("/%s", a->action);
	char *url = soai_url(s, "/fine_tuning/jobs", a->external_id, suffix, NULL, NULL, 0);
	struct http_request_opts o = {.method = "POST",
	                              .url = url,
	                              .headers = headers,
	                              .body = "{}",
	                              .body_len = 2,
	                              .timeout_ms = soai_conf(s)->timeout_ms};

	headers[n++] = s->auth_header;
	if (s->org_header)
		headers[n++] = s->org_header;
	if (s->project_header)
		headers[n++] = s->project_header;
	headers[n++] = "Accept: application/json";
	headers[n++] = "Content-Type: application/json";
	headers[n] = NULL;
	a->req = http_request_start(s->env->http, &o, soai_act_cb, a);
	s->requests++;
	free(url);
	free(suffix);
	if (a->req == NULL)
		soai_act_finish(a, -EIO, "cannot start a request to the API");
}

int
soai_act(struct source *src, int64_t job_id, const char *action, source_act_done done, void *data,
         char **err)
{
	struct soai_src *s = (struct soai_src *)src;
	struct soai_watch *j = soai_watch_find(s, job_id);
	struct soai_act *a;

	if (strcmp(action, "cancel") != 0 && strcmp(action, "pause") != 0) {
		*err = xasprintf("unknown action '%s'", action);
		return -EINVAL;
	}
	if (j == NULL) {
		*err = xstrdup("the source does not watch that job");
		return -ENOENT;
	}
	if (s->key_error || s->auth_header == NULL) {
		*err = xasprintf("source %s has no usable key", src->name);
		return -EACCES;
	}
	a = xcalloc(1, sizeof(*a));
	*a = (struct soai_act){.src = s,
	                       .job_id = job_id,
	                       .external_id = xstrdup(j->external_id),
	                       .action = xstrdup(action),
	                       .done = done,
	                       .data = data};
	uv_timer_init(s->env->loop, &a->timer);
	a->timer.data = a;
	LIST_INSERT_HEAD(&s->acts, a, link);
	soai_act_send(a);
	return 0;
}

void
soai_act_destroy_all(struct soai_src *s)
{
	while (!LIST_EMPTY(&s->acts)) {
		struct soai_act *a = LIST_FIRST(&s->acts);
		if (a->req)
			http_request_cancel(a->req);
		a->req = NULL;
		soai_act_finish(a, -ECANCELED, "the source was stopped before the API answered");
	}
}
