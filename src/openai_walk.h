/*
 * openai_walk: following OpenAI event pages from the newest event back to
 * the stored cursor.  The walk owns every string and event it holds.
 */
#ifndef FTMON_OPENAI_WALK_H
#define FTMON_OPENAI_WALK_H

#include <stdbool.h>
#include <stddef.h>

#include "openai_parse.h"

/* How far one walk may go before it is cut; 0 in a field means 1. */
struct oai_walk_limits {
	unsigned max_pages;
	size_t max_events; /* distinct events taken */
	size_t max_bytes;  /* page bodies fed, in all */
};

/*
 * Why a walk stopped before it met stop_id or the end of the list.  A dead
 * end (a repeated cursor) cannot be followed at all: what is beyond it is
 * out of reach, so the walk counts as complete.  The others leave events
 * between the walk's oldest page and stop_id unread: the walk is not
 * complete, and a later walk may go on from `after`.
 */
enum oai_walk_cut {
	OAI_WALK_NOT_CUT,
	OAI_WALK_CUT_LOOP,   /* repeated cursor: a dead end */
	OAI_WALK_CUT_EMPTY,  /* an empty page claiming more */
	OAI_WALK_CUT_PAGES,  /* max_pages */
	OAI_WALK_CUT_EVENTS, /* max_events */
	OAI_WALK_CUT_BYTES,  /* max_bytes */
};

/*
 * The incremental event walk (reference §1.2).  Events come newest first;
 * the walk takes events until it meets stop_id (the newest event already
 * stored) or the pages run out, following `after=<last id>`, until a limit
 * cuts it.  It hands each page's new events to the caller one page at a
 * time (`events`, replaced by the next feed), so what it holds between
 * pages is only the ids it has seen: a hash set whose cost per page does
 * not depend on how far the walk has gone.
 */
struct oai_walk {
	char *stop_id; /* owned copy; NULL = collect everything */
	struct oai_walk_limits lim;
	unsigned pages;
	size_t taken; /* distinct events taken in all */
	size_t bytes; /* page bodies fed in all */
	bool found_stop;
	bool done;             /* OAI_WALK_DONE was returned */
	bool truncated;        /* cut != OAI_WALK_NOT_CUT */
	enum oai_walk_cut cut; /* set when the walk is done */
	char *after;           /* owned: cursor for the next page (or to resume from) */
	char *newest;          /* owned: the first event taken, or NULL */
	/* The last fed page's new events, oldest first, owned. */
	struct oai_event *events;
	size_t n;
	/* Every id taken (owned strings), open addressing. */
	char **seen;
	size_t seen_n, seen_mask;
};
enum oai_walk_next { OAI_WALK_MORE, OAI_WALK_DONE };
/* after: resume a cut walk below that id (NULL: from the newest page). */
void oai_walk_init(struct oai_walk *w, const char *stop_id, const char *after,
                   const struct oai_walk_limits *lim);
/* Feed the next page (body_len: the size of its body, for max_bytes).  The
 * walk takes the page's new events into w->events (page is left empty).
 * OAI_WALK_MORE: fetch again with after = w->after. */
enum oai_walk_next oai_walk_feed(struct oai_walk *w, struct oai_event_page *page, size_t body_len);
/* The newest event taken (the new cursor once complete), or NULL if none. */
const char *oai_walk_newest_id(const struct oai_walk *w);
/* Done, and everything from the newest event down to stop_id (or to the
 * end of the list) was read, or is out of reach (a dead end). */
bool oai_walk_complete(const struct oai_walk *w);
/* What cut the walk, for a log line: "event cap", ... ("" when not cut). */
const char *oai_walk_cut_reason(enum oai_walk_cut cut);
void oai_walk_clear(struct oai_walk *w);

#endif
