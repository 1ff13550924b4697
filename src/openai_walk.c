/*
 * openai_walk: the incremental event walk over OpenAI event pages, split
 * from openai_parse because it is paging policy, not wire format.  Pure: no
 * I/O, no logging.  See reference/openai-api.md §1.2.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "openai_walk.h"
#include "util.h"
#include "xmalloc.h"

/* ---- the ids seen: a hash set of owned strings that grows by doubling,
 * so a page costs the same however many pages came before it ---- */

/* The slot holding id, or the empty slot where it would go. */
static size_t
oai_walk_slot(char *const *seen, size_t mask, const char *id)
{
	size_t h = (size_t)util_hash64(id, strlen(id)) & mask;

	while (seen[h] != NULL && strcmp(seen[h], id) != 0)
		h = (h + 1) & mask;
	return h;
}

static bool
oai_walk_seen(const struct oai_walk *w, const char *id)
{
	return w->seen != NULL && w->seen[oai_walk_slot(w->seen, w->seen_mask, id)] != NULL;
}

/* Keep the table at most half full. */
static void
oai_walk_grow(struct oai_walk *w)
{
	size_t size = w->seen ? 2 * (w->seen_mask + 1) : 64;
	char **seen = xcalloc(size, sizeof(*seen));

	for (size_t i = 0; w->seen != NULL && i <= w->seen_mask; i++)
		if (w->seen[i] != NULL)
			seen[oai_walk_slot(seen, size - 1, w->seen[i])] = w->seen[i];
	free(w->seen);
	w->seen = seen;
	w->seen_mask = size - 1;
}

/* Add id unless it is there; false if it was. */
static bool
oai_walk_add(struct oai_walk *w, const char *id)
{
	size_t h;

	if (w->seen == NULL || 2 * (w->seen_n + 1) > w->seen_mask + 1)
		oai_walk_grow(w);
	h = oai_walk_slot(w->seen, w->seen_mask, id);
	if (w->seen[h] != NULL)
		return false;
	w->seen[h] = xstrdup(id);
	w->seen_n++;
	return true;
}

/* ---- the walk ---- */

void
oai_walk_init(struct oai_walk *w, const char *stop_id, const char *after,
              const struct oai_walk_limits *lim)
{
	memset(w, 0, sizeof(*w));
	if (stop_id != NULL && stop_id[0] != '\0')
		w->stop_id = xstrdup(stop_id);
	if (after != NULL && after[0] != '\0')
		w->after = xstrdup(after);
	w->lim.max_pages = lim->max_pages ? lim->max_pages : 1;
	w->lim.max_events = lim->max_events ? lim->max_events : 1;
	w->lim.max_bytes = lim->max_bytes ? lim->max_bytes : 1;
}

/* Free the previous page's events. */
static void
oai_walk_drop_batch(struct oai_walk *w)
{
	for (size_t i = 0; i < w->n; i++)
		oai_event_clear(&w->events[i]);
	free(w->events);
	w->events = NULL;
	w->n = 0;
}

/* Move the page's new events into the batch, up to stop_id, oldest first. */
static void
oai_walk_take(struct oai_walk *w, struct oai_event_page *page)
{
	w->events = xcalloc(page->n, sizeof(*w->events));
	for (size_t i = 0; i < page->n; i++) {
		struct oai_event *ev = &page->events[i];

		if (w->stop_id != NULL && strcmp(ev->id, w->stop_id) == 0) {
			w->found_stop = true;
			break;
		}
		if (!oai_walk_add(w, ev->id))
			continue;
		if (w->newest == NULL)
			w->newest = xstrdup(ev->id);
		w->events[w->n++] = *ev;
		memset(ev, 0, sizeof(*ev));
	}
	w->taken += w->n;
	for (size_t i = 0, j = w->n; i + 1 < j; i++, j--) {
		struct oai_event tmp = w->events[i];
		w->events[i] = w->events[j - 1];
		w->events[j - 1] = tmp;
	}
}

static enum oai_walk_next
oai_walk_end(struct oai_walk *w, enum oai_walk_cut cut)
{
	w->cut = cut;
	w->truncated = cut != OAI_WALK_NOT_CUT;
	w->done = true;
	return OAI_WALK_DONE;
}

/* After a page that asked for more: the limit it reached, if any. */
static enum oai_walk_cut
oai_walk_limit(const struct oai_walk *w)
{
	if (w->pages >= w->lim.max_pages)
		return OAI_WALK_CUT_PAGES;
	if (w->taken >= w->lim.max_events)
		return OAI_WALK_CUT_EVENTS;
	if (w->bytes >= w->lim.max_bytes)
		return OAI_WALK_CUT_BYTES;
	return OAI_WALK_NOT_CUT;
}

enum oai_walk_next
oai_walk_feed(struct oai_walk *w, struct oai_event_page *page, size_t body_len)
{
	bool has_more = page->has_more, repeated;
	enum oai_walk_cut cut;
	char *cursor;

	oai_walk_drop_batch(w);
	if (w->done) {
		oai_event_page_clear(page);
		return OAI_WALK_DONE;
	}
	w->pages++;
	w->bytes = body_len > SIZE_MAX - w->bytes ? SIZE_MAX : w->bytes + body_len;
	if (page->n == 0) {
		/* Nothing to follow: if the server claims more, it is not read
		 * yet; `after` still names the page to ask for again. */
		oai_event_page_clear(page);
		return oai_walk_end(w, has_more ? OAI_WALK_CUT_EMPTY : OAI_WALK_NOT_CUT);
	}
	/*
	 * Every cursor used so far is the id of an event taken from an earlier
	 * page (the last one of its page), so a next cursor already seen is a
	 * repeated cursor: following it would make the server serve old pages
	 * again, forever if it is broken.
	 */
	cursor = xstrdup(page->events[page->n - 1].id);
	repeated = oai_walk_seen(w, cursor);
	oai_walk_take(w, page);
	oai_event_page_clear(page);
	if (w->found_stop || !has_more || repeated) {
		free(cursor);
		return oai_walk_end(w, w->found_stop || !has_more ? OAI_WALK_NOT_CUT
		                                                  : OAI_WALK_CUT_LOOP);
	}
	/* Even when cut, `after` moves on: a later walk resumes there. */
	free(w->after);
	w->after = cursor;
	if ((cut = oai_walk_limit(w)) != OAI_WALK_NOT_CUT)
		return oai_walk_end(w, cut);
	return OAI_WALK_MORE;
}

const char *
oai_walk_newest_id(const struct oai_walk *w)
{
	return w->newest;
}

bool
oai_walk_complete(const struct oai_walk *w)
{
	return w->done && (w->cut == OAI_WALK_NOT_CUT || w->cut == OAI_WALK_CUT_LOOP);
}

const char *
oai_walk_cut_reason(enum oai_walk_cut cut)
{
	switch (cut) {
	case OAI_WALK_NOT_CUT:
		break;
	case OAI_WALK_CUT_LOOP:
		return "repeated cursor";
	case OAI_WALK_CUT_EMPTY:
		return "empty page with has_more";
	case OAI_WALK_CUT_PAGES:
		return "page cap";
	case OAI_WALK_CUT_EVENTS:
		return "event cap";
	case OAI_WALK_CUT_BYTES:
		return "byte cap";
	}
	return "";
}

void
oai_walk_clear(struct oai_walk *w)
{
	if (w == NULL)
		return;
	oai_walk_drop_batch(w);
	for (size_t i = 0; w->seen != NULL && i <= w->seen_mask; i++)
		free(w->seen[i]);
	free(w->seen);
	free(w->stop_id);
	free(w->after);
	free(w->newest);
	memset(w, 0, sizeof(*w));
}
