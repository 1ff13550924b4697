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
#include "xmalloc.h"

/*
 * A throwaway hash set of event ids (open addressing over indices into the
 * walk's events), rebuilt for each page so that dedupe stays linear per
 * page instead of quadratic over the walk.
 */
struct oai_idset {
	size_t *slot; /* index + 1, 0 = empty */
	size_t mask;
};

static size_t
oai_idset_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static void
oai_idset_init(struct oai_idset *set, size_t n)
{
	size_t size = 16;

	while (size < 2 * n)
		size *= 2;
	set->slot = xcalloc(size, sizeof(*set->slot));
	set->mask = size - 1;
}

/* The index of the event with this id, or SIZE_MAX. */
static size_t
oai_idset_find(const struct oai_idset *set, const struct oai_event *ev, const char *id)
{
	size_t h = oai_idset_hash(id) & set->mask;

	for (; set->slot[h] != 0; h = (h + 1) & set->mask) {
		if (strcmp(ev[set->slot[h] - 1].id, id) == 0)
			return set->slot[h] - 1;
	}
	return SIZE_MAX;
}

static void
oai_idset_add(struct oai_idset *set, const struct oai_event *ev, size_t idx)
{
	size_t h = oai_idset_hash(ev[idx].id) & set->mask;

	while (set->slot[h] != 0)
		h = (h + 1) & set->mask;
	set->slot[h] = idx + 1;
}

void
oai_walk_init(struct oai_walk *w, const char *stop_id, unsigned max_pages)
{
	memset(w, 0, sizeof(*w));
	if (stop_id != NULL && stop_id[0] != '\0')
		w->stop_id = xstrdup(stop_id);
	w->max_pages = max_pages ? max_pages : 1;
}

static void
oai_walk_reserve(struct oai_walk *w, size_t extra)
{
	size_t cap = w->cap ? w->cap : 16;

	if (w->n + extra <= w->cap)
		return;
	while (cap < w->n + extra)
		cap *= 2;
	w->events = xreallocarray(w->events, cap, sizeof(*w->events));
	w->cap = cap;
}

/* Move the page's events into the walk up to stop_id, skipping repeats. */
static void
oai_walk_take(struct oai_walk *w, struct oai_event_page *page, struct oai_idset *set)
{
	oai_walk_reserve(w, page->n);
	for (size_t i = 0; i < page->n; i++) {
		struct oai_event *ev = &page->events[i];

		if (w->stop_id != NULL && strcmp(ev->id, w->stop_id) == 0) {
			w->found_stop = true;
			return;
		}
		if (oai_idset_find(set, w->events, ev->id) != SIZE_MAX)
			continue;
		w->events[w->n] = *ev;
		memset(ev, 0, sizeof(*ev));
		oai_idset_add(set, w->events, w->n);
		w->n++;
	}
}

enum oai_walk_next
oai_walk_feed(struct oai_walk *w, struct oai_event_page *page)
{
	struct oai_idset set;
	bool has_more = page->has_more, repeated;
	char *cursor;

	w->pages++;
	if (page->n == 0 || w->found_stop || w->finished) {
		/* Nothing to follow: if the server claims more, we cannot reach it. */
		if (page->n == 0 && has_more)
			w->truncated = true;
		oai_event_page_clear(page);
		return OAI_WALK_DONE;
	}
	oai_idset_init(&set, w->n + page->n);
	for (size_t i = 0; i < w->n; i++)
		oai_idset_add(&set, w->events, i);
	/*
	 * Every cursor used so far is the id of an event collected from an
	 * earlier page (the last one of its page), so a next cursor found among
	 * those is a repeated cursor: following it would make the server serve
	 * old pages again, forever if it is broken.
	 */
	cursor = xstrdup(page->events[page->n - 1].id);
	repeated = oai_idset_find(&set, w->events, cursor) != SIZE_MAX;
	oai_walk_take(w, page, &set);
	free(set.slot);
	oai_event_page_clear(page);

	if (w->found_stop || !has_more) {
		free(cursor);
		return OAI_WALK_DONE;
	}
	if (repeated || w->pages >= w->max_pages) {
		w->truncated = true;
		free(cursor);
		return OAI_WALK_DONE;
	}
	free(w->after);
	w->after = cursor;
	return OAI_WALK_MORE;
}

const char *
oai_walk_newest_id(const struct oai_walk *w)
{
	if (w->n == 0)
		return NULL;
	return w->finished ? w->events[w->n - 1].id : w->events[0].id;
}

void
oai_walk_finish(struct oai_walk *w)
{
	if (w->finished)
		return;
	for (size_t i = 0, j = w->n; i + 1 < j; i++, j--) {
		struct oai_event tmp = w->events[i];
		w->events[i] = w->events[j - 1];
		w->events[j - 1] = tmp;
	}
	w->finished = true;
}

void
oai_walk_clear(struct oai_walk *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->n; i++)
		oai_event_clear(&w->events[i]);
	free(w->events);
	free(w->stop_id);
	free(w->after);
	memset(w, 0, sizeof(*w));
}
