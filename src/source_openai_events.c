/*
 * source_openai_events: the events phase of a job's poll cycle: the walk from
 * the newest event page down to the stored cursor, each page stored as it
 * comes (in steps of at most SOAI_TXN_ROWS rows), the cursor moved when the
 * walk is complete and the resume point kept when it was cut.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <uv.h>

#include "buf.h"
#include "http.h"
#include "ingest.h"
#include "openai_parse.h"
#include "openai_walk.h"
#include "source_openai_internal.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

/* Begin the events phase: walk from the newest event to the cursor. */
void
soai_job_start_events(struct soai_watch *j)
{
	static const struct oai_walk_limits lim = {
	        .max_pages = SOAI_MAX_EVENT_PAGES,
	        .max_events = SOAI_MAX_WALK_EVENTS,
	        .max_bytes = SOAI_MAX_WALK_BYTES,
	};

	j->phase = SOAI_PH_EVENTS;
	j->new_events = false;
	oai_walk_clear(&j->walk);
	oai_walk_init(&j->walk, j->cursor, j->resume_after, &lim);
	soai_job_request(j);
}

/* One event of a page: a message, or its metrics as points. */
static int
soai_store_event(struct soai_watch *j, const struct oai_event *e)
{
	struct soai_src *s = j->src;
	int rc = 0;

	if (!e->is_metrics) {
		j->ckpt_due = true;
		return ingest_event(s->in, j->id, e->id, "message", e->level, e->message, NULL,
		                    e->created_at);
	}
	for (size_t m = 0; m < e->nmetrics; m++)
		if (util_startswith(e->metrics[m].name, "full_valid"))
			j->ckpt_due = true;
	for (size_t m = 0; m < e->nmetrics && rc >= 0 && e->step >= 0; m++)
		rc = ingest_point(s->in, j->id, e->metrics[m].name, e->step, e->metrics[m].value);
	return rc;
}

/* Commit the open step, with total_steps when the events changed it. */
static int
soai_store_commit(struct soai_watch *j, int64_t total_steps, const char *cursor)
{
	struct store_job_info info = STORE_JOB_INFO_INIT;
	struct soai_src *s = j->src;
	int rc;

	info.total_steps = total_steps;
	if (total_steps >= 0 && total_steps != j->total_steps &&
	    (rc = ingest_job_fields(s->in, j->id, &info, NULL)) < 0)
		return rc;
	if (cursor != NULL && (rc = ingest_cursor(s->in, j->id, cursor)) < 0)
		return rc;
	if ((rc = ingest_commit(s->in)) < 0)
		return rc;
	if (total_steps >= 0)
		j->total_steps = total_steps;
	return 0;
}

/*
 * Store the walk's last page (oldest first) in steps of at most
 * SOAI_TXN_ROWS rows, the last one with the cursor when it may move.
 * Points and events are idempotent, so storing a page before the walk has
 * met the cursor is safe; moving the cursor past unread events is not.
 */
static int
soai_store_batch(struct soai_watch *j, const char *cursor)
{
	struct soai_src *s = j->src;
	const struct oai_walk *w = &j->walk;
	int64_t total_steps = -1;
	size_t rows = 0;
	int rc;

	if (w->n == 0 && cursor == NULL)
		return 0;
	if ((rc = ingest_begin(s->in)) < 0)
		return rc;
	for (size_t i = 0; i < w->n; i++) {
		if (rows >= SOAI_TXN_ROWS) {
			if ((rc = soai_store_commit(j, total_steps, NULL)) < 0 ||
			    (rc = ingest_begin(s->in)) < 0)
				return rc;
			rows = 0;
		}
		if ((rc = soai_store_event(j, &w->events[i])) < 0)
			return rc;
		if (w->events[i].total_steps >= 0)
			total_steps = w->events[i].total_steps;
		rows += 1 + w->events[i].nmetrics;
	}
	if ((rc = soai_store_commit(j, total_steps, cursor)) < 0)
		return rc;
	if (w->n > 0)
		j->new_events = true;
	return 0;
}

/* Storing a page failed: drop the walk and retry the cycle later; what
 * earlier pages stored stays (a later walk stores it again, harmlessly). */
static void
soai_walk_failed(struct soai_watch *j, int rc)
{
	oai_walk_clear(&j->walk);
	j->events_hash = 0;
	j->phase = SOAI_PH_JOB;
	soai_store_failed(j->src, j, "events", rc);
}

void
soai_resume_clear(struct soai_watch *j)
{
	free(j->pending_cursor);
	free(j->resume_after);
	j->pending_cursor = j->resume_after = NULL;
}

/* The walk was cut: say so, and unless it is a dead end, remember where
 * the next walk resumes (walk_done has stored its last page). */
static void
soai_walk_cut(struct soai_watch *j, bool complete)
{
	struct soai_src *s = j->src;
	const struct oai_walk *w = &j->walk;
	const char *newest = j->pending_cursor ? j->pending_cursor : oai_walk_newest_id(w);

	s->walks_cut++;
	free(s->last_walk_cut);
	s->last_walk_cut =
	        xasprintf("job %s: %s after %u pages, %zu events, %zu bytes", j->external_id,
	                  oai_walk_cut_reason(w->cut), w->pages, w->taken, w->bytes);
	if (complete) {
		soai_error(s, "event walk cut: %s; the older pages cannot be reached",
		           s->last_walk_cut);
		return;
	}
	j->cuts++;
	if (w->after == NULL || newest == NULL) {
		soai_resume_clear(j); /* nothing to resume: start from the top */
	} else {
		char *pending = xstrdup(newest), *after = xstrdup(w->after);
		soai_resume_clear(j);
		j->pending_cursor = pending;
		j->resume_after = after;
	}
	soai_error(s, "event walk cut: %s; stored, cursor kept, the next walk resumes there",
	           s->last_walk_cut);
}

/*
 * The walk is over: store its last page.  A complete walk moves the
 * cursor: to its newest event, or, when it resumed a cut walk and met the
 * old cursor, to that walk's newest event (everything from there down to
 * the old cursor is now stored).  A resumed walk that ended without
 * meeting the old cursor proves nothing (a server answers an `after` it
 * does not know with an empty last page), so the cursor stays and the
 * next walk starts from the top.  A cut walk leaves the cursor too.
 */
static void
soai_job_walk_done(struct soai_watch *j)
{
	struct oai_walk *w = &j->walk;
	bool complete = oai_walk_complete(w), resumed = j->resume_after != NULL;
	bool moves = complete && (!resumed || w->found_stop || (j->cursor == NULL && w->taken > 0));
	const char *newest = resumed ? j->pending_cursor : oai_walk_newest_id(w);
	char *cursor = moves && newest ? xstrdup(newest) : NULL;
	int rc;

	if ((rc = soai_store_batch(j, cursor)) < 0) {
		free(cursor);
		soai_walk_failed(j, rc);
		return;
	}
	if (w->truncated)
		soai_walk_cut(j, complete);
	if (complete) {
		if (cursor) {
			free(j->cursor);
			j->cursor = cursor;
		}
		/* A resumed walk's first page is not the newest one. */
		j->events_hash = resumed ? 0 : j->first_page_hash;
		soai_resume_clear(j);
		j->cuts = 0;
	} else {
		j->events_hash = 0;
	}
	oai_walk_clear(w);
	soai_job_after_events(j);
}

/* What a parsed page means for the walk: feed it, store it, go on. */
static void
soai_job_on_page(struct soai_watch *j, int parsed, struct oai_event_page *page, const char *why,
                 size_t body_len)
{
	struct soai_src *s = j->src;
	int rc;

	if (parsed < 0) {
		soai_malformed(s, j, "events page", why);
		return;
	}
	if (page->n == 0 && page->has_more) {
		/* Ending the walk here would move the cursor past events never
		 * read; ask for the same page again instead. */
		oai_event_page_clear(page);
		soai_malformed(s, j, "events page", "empty page with has_more");
		return;
	}
	if (page->nbad)
		soai_error(s, "job %s: %zu events could not be read, skipped", j->external_id,
		           page->nbad);
	if (page->nrefused) {
		s->malformed += page->nrefused;
		soai_error(s,
		           "job %s: %zu values of events refused (a NUL in a key or text, or a "
		           "step that is not an integer below 2^53)",
		           j->external_id, page->nrefused);
	}
	if (oai_walk_feed(&j->walk, page, body_len) == OAI_WALK_DONE) {
		oai_event_page_clear(page);
		soai_job_walk_done(j);
		return;
	}
	oai_event_page_clear(page);
	/* Store each page as it comes, so the walk holds one page at a time. */
	if ((rc = soai_store_batch(j, NULL)) < 0) {
		soai_walk_failed(j, rc);
		return;
	}
	j->attempt = 0;
	soai_job_request(j); /* next page, same phase */
}

/* ---- parsing off the loop ---- */

/* One events page in the thread pool.  The worker touches only body,
 * page, why and rc (openai_parse is pure); the loop owns the rest. */
struct soai_parse {
	uv_work_t req;
	struct soai_src *src; /* kept alive by open_handles until the end */
	struct soai_watch *j; /* NULL once orphaned (the watch went away) */
	char *body;           /* owned: the response body, NUL-terminated */
	size_t len;
	struct oai_event_page page; /* owned */
	const char *why;
	int rc;
};

static void
soai_parse_work_cb(uv_work_t *req)
{
	struct soai_parse *p = req->data;

	p->rc = oai_parse_event_page(p->body, p->len, &p->page, &p->why);
}

static void
soai_parse_after_cb(uv_work_t *req, int status)
{
	struct soai_parse *p = req->data;
	struct soai_src *s = p->src;
	struct soai_watch *j = p->j;

	s->parsing--;
	if (j != NULL) {
		j->parse = NULL;
		workq_done(&s->queue); /* before on_page: its next page goes first */
		if (status < 0) {      /* nothing cancels a parse; were it done, a retry */
			p->rc = -ECANCELED;
			p->why = "parse cancelled";
		}
		soai_job_on_page(j, p->rc, &p->page, p->why, p->len);
		soai_pump(s);
	}
	oai_event_page_clear(&p->page);
	free(p->body);
	free(p);
	soai_src_unref(s);
}

/* Hand r's body to the thread pool; false when it must be parsed here. */
static bool
soai_parse_away(struct soai_watch *j, struct http_response *r)
{
	struct soai_src *s = j->src;
	struct soai_parse *p;

	if (r->body.len < SOAI_PARSE_AWAY_BYTES || s->parsing >= SOAI_MAX_PARSING || s->destroying)
		return false;
	p = xcalloc(1, sizeof(*p));
	p->src = s;
	p->j = j;
	p->len = r->body.len;
	p->body = buf_steal(&r->body);
	p->req.data = p;
	if (uv_queue_work(s->env->loop, &p->req, soai_parse_work_cb, soai_parse_after_cb) < 0) {
		/* Give the body back: the loop parses it. */
		r->body.data = p->body;
		r->body.len = p->len;
		r->body.cap = p->len + 1;
		free(p);
		return false;
	}
	s->parsing++;
	s->parsed_away++;
	s->open_handles++;
	/* The parse holds a slot of the queue, as the request did: the walk
	 * then goes on at once when it ends, instead of queueing behind every
	 * other job's, which would keep all of them mid-walk (each with its
	 * seen ids) at the same time. */
	workq_start(&s->queue);
	j->parse = p;
	return true;
}

void
soai_parse_orphan(struct soai_watch *j)
{
	if (j->parse) {
		j->parse->j = NULL;
		j->parse = NULL;
		workq_done(&j->src->queue);
	}
}

void
soai_job_on_events(struct soai_watch *j, struct http_response *r)
{
	struct oai_event_page page;
	const char *why = NULL;
	int rc;

	if (j->walk.pages == 0 && j->resume_after == NULL) {
		/* The newest page is byte for byte the last one stored: no
		 * event can be new, since new events come first. */
		j->first_page_hash = util_hash64(r->body.data, r->body.len);
		if (j->first_page_hash == j->events_hash) {
			oai_walk_clear(&j->walk);
			soai_job_after_events(j);
			return;
		}
	}
	if (soai_parse_away(j, r))
		return;
	rc = oai_parse_event_page(r->body.data, r->body.len, &page, &why);
	soai_job_on_page(j, rc, &page, why, r->body.len);
}
