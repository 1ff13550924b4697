/*
 * openai_walk: following OpenAI event pages from the newest event back to
 * the stored cursor.  The walk owns every string and event it holds.
 */
#ifndef FTMON_OPENAI_WALK_H
#define FTMON_OPENAI_WALK_H

#include <stdbool.h>
#include <stddef.h>

#include "openai_parse.h"

/*
 * The incremental event walk (reference §1.2).  Events come newest first;
 * the walk collects events until it meets stop_id (the newest event already
 * stored) or the pages run out, following `after=<last id>`.  It stops on a
 * repeated cursor, an empty page or after max_pages pages (then `truncated`
 * is set: older events were not reached).
 */
struct oai_walk {
	char *stop_id; /* owned copy; NULL = collect everything */
	unsigned max_pages;
	unsigned pages;
	bool found_stop;          /* stop_id was met */
	bool truncated;           /* stopped by the page cap or a repeated cursor */
	bool finished;            /* oai_walk_finish has put the events oldest first */
	char *after;              /* owned: cursor for the next page */
	struct oai_event *events; /* collected, newest first, owned */
	size_t n;
	size_t cap;
};
enum oai_walk_next { OAI_WALK_MORE, OAI_WALK_DONE };
void oai_walk_init(struct oai_walk *w, const char *stop_id, unsigned max_pages);
/* Feed the next page.  The walk takes the page's events (page is left
 * empty).  OAI_WALK_MORE: fetch again with after = w->after. */
enum oai_walk_next oai_walk_feed(struct oai_walk *w, struct oai_event_page *page);
/* The newest collected event id (the new cursor), or NULL if none. */
const char *oai_walk_newest_id(const struct oai_walk *w);
/* Reverse the collected events into oldest-first order (call once, when done). */
void oai_walk_finish(struct oai_walk *w);
void oai_walk_clear(struct oai_walk *w);

#endif
