/*
 * source_openai_discover: with `discover` set, page through the job list
 * every poll interval and watch each job the store has not seen.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "http.h"
#include "log.h"
#include "openai_parse.h"
#include "retry.h"
#include "source.h"
#include "source_openai_internal.h"
#include "utf8.h"
#include "workq.h"
#include "xmalloc.h"

static void
soai_discover_timer_cb(uv_timer_t *t)
{
	soai_discover_start(t->data);
}

void
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

/* Was this refused id logged already?  Remembers it if not. */
static bool
soai_refused_seen(struct soai_src *s, uint64_t hash)
{
	size_t n =
	        s->nrefused_logged < SOAI_REFUSED_LOGGED ? s->nrefused_logged : SOAI_REFUSED_LOGGED;

	for (size_t i = 0; i < n; i++)
		if (s->refused_logged[i] == hash)
			return true;
	s->refused_logged[s->nrefused_logged++ % SOAI_REFUSED_LOGGED] = hash;
	return false;
}

/* Entries of the list that cannot be tracked count as malformed on every
 * listing; a refused id is logged once, escaped and cut short. */
static void
soai_discover_refused(struct soai_src *s, const struct oai_job_page *page)
{
	s->malformed += page->nbad;
	for (size_t i = 0; i < page->nrefused; i++) {
		const struct oai_refused *rf = &page->refused[i];
		char *shown;

		if (soai_refused_seen(s, rf->hash))
			continue;
		shown = utf8_show(rf->id, OAI_SHOW_ID);
		log_warn("source %s: job list: skipped a job whose id %s: '%s'%s (%zu bytes)",
		         s->base.name, rf->why, shown, rf->len > OAI_SHOW_ID ? "..." : "", rf->len);
		free(shown);
	}
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
	soai_discover_refused(s, &page);
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
void
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
