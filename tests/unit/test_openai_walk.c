/*
 * test_openai_walk: the newest-first event walk driven with scripted pages
 * as a misbehaving server would send them: stops, loops, duplicates, and
 * the bounds a server whose pages never end runs into (pages, events,
 * bytes), resuming a cut walk, one page held at a time, and a cost per
 * page that does not grow with the walk.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "openai_parse.h"
#include "openai_walk.h"
#include "tap.h"
#include "xmalloc.h"

/* An event page with ids given as a space-separated list. */
static void
test_page(struct oai_event_page *page, const char *ids, bool has_more)
{
	struct buf b = BUF_INIT;
	const char *why = NULL, *p = ids;
	bool first = true;

	buf_puts(&b, "{\"object\":\"list\",\"data\":[");
	while (*p != '\0') {
		size_t n = strcspn(p, " ");
		if (n > 0) {
			buf_printf(&b,
			           "%s{\"id\":\"%.*s\",\"created_at\":1,\"level\":\"info\","
			           "\"message\":\"m\",\"data\":null,\"type\":\"message\"}",
			           first ? "" : ",", (int)n, p);
			first = false;
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	buf_printf(&b, "],\"has_more\":%s}", has_more ? "true" : "false");
	if (oai_parse_event_page(b.data, b.len, page, &why) != 0)
		TAP_DIAG("test page did not parse: %s", why);
	buf_free(&b);
}

/* Every id the walk has handed out, newest first, as the old walk held
 * them: each page's batch comes oldest first, so it is added reversed. */
static char test_acc[1024];

static void
test_walk_init(struct oai_walk *w, const char *stop, unsigned max_pages)
{
	const struct oai_walk_limits lim = {
	        .max_pages = max_pages, .max_events = 1000000, .max_bytes = 1 << 30};

	test_acc[0] = '\0';
	oai_walk_init(w, stop, NULL, &lim);
}

static const char *
test_walk_ids(const struct oai_walk *w)
{
	(void)w;
	return test_acc;
}

/* The last page's batch, in the order the walk hands it out. */
static const char *
test_batch_ids(const struct oai_walk *w)
{
	static char out[1024];
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < w->n && o < sizeof(out) - 1; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", i ? " " : "",
		                      w->events[i].id);
	return out;
}

static enum oai_walk_next
test_feed_len(struct oai_walk *w, const char *ids, bool has_more, size_t len)
{
	struct oai_event_page page;
	enum oai_walk_next r;

	test_page(&page, ids, has_more);
	r = oai_walk_feed(w, &page, len);
	ok(page.n == 0 && page.events == NULL, "the walk takes the page (%s)", ids);
	for (size_t i = w->n; i > 0; i--) {
		size_t o = strlen(test_acc);
		snprintf(test_acc + o, sizeof(test_acc) - o, "%s%s", o ? " " : "",
		         w->events[i - 1].id);
	}
	return r;
}

static enum oai_walk_next
test_feed(struct oai_walk *w, const char *ids, bool has_more)
{
	return test_feed_len(w, ids, has_more, 100);
}

/* ---- what the walk always did ---- */

static void
test_walk_basics(void)
{
	struct oai_walk w;
	enum oai_walk_next r;

	test_walk_init(&w, "e3", 10);
	r = test_feed(&w, "e5 e4 e3 e2 e1", true);
	ok(r == OAI_WALK_DONE && w.found_stop && !w.truncated, "stop in the middle of page 1");
	is_str(test_walk_ids(&w), "e5 e4", "events before stop collected");
	is_str(oai_walk_newest_id(&w), "e5", "newest id");
	is_str(test_batch_ids(&w), "e4 e5", "a page's events come oldest first");
	ok(oai_walk_complete(&w), "a walk that met the stop is complete");
	oai_walk_clear(&w);

	test_walk_init(&w, "e2", 10);
	r = test_feed(&w, "e6 e5 e4", true);
	ok(r == OAI_WALK_MORE, "page 1 asks for more");
	is_str(w.after, "e4", "cursor is the last id");
	ok(!oai_walk_complete(&w), "a walk under way is not complete");
	r = test_feed(&w, "e3 e2 e1", true);
	ok(r == OAI_WALK_DONE && w.found_stop && !w.truncated, "stop on page 2");
	is_str(test_walk_ids(&w), "e6 e5 e4 e3", "collected across pages");
	is_str(test_batch_ids(&w), "e3", "only the last page is held");
	is_str(oai_walk_newest_id(&w), "e6", "newest id is from page 1");
	is_int(w.pages, 2, "two pages");
	oai_walk_clear(&w);

	test_walk_init(&w, NULL, 10);
	ok(test_feed(&w, "e9 e8 e7", true) == OAI_WALK_MORE, "no stop: page 1");
	ok(test_feed(&w, "e6 e5 e4", true) == OAI_WALK_MORE, "no stop: page 2");
	is_str(w.after, "e4", "cursor moves");
	ok(test_feed(&w, "e3 e2 e1", false) == OAI_WALK_DONE, "no stop: page 3 ends");
	ok(!w.found_stop && !w.truncated && w.taken == 9, "all nine collected, not truncated");
	ok(oai_walk_complete(&w), "the end of the list is complete");
	is_str(test_walk_ids(&w), "e9 e8 e7 e6 e5 e4 e3 e2 e1", "newest first across pages");
	is_str(oai_walk_newest_id(&w), "e9", "newest");
	oai_walk_clear(&w);

	test_walk_init(&w, "gone", 100);
	ok(test_feed(&w, "e2 e1", true) == OAI_WALK_MORE, "looping server: page 1");
	ok(test_feed(&w, "e2 e1", true) == OAI_WALK_DONE && w.truncated,
	   "looping server: repeated cursor stops");
	is_str(test_walk_ids(&w), "e2 e1", "no duplicates from the loop");
	ok(w.cut == OAI_WALK_CUT_LOOP && oai_walk_complete(&w),
	   "a repeated cursor is a dead end: complete");
	is_str(oai_walk_cut_reason(w.cut), "repeated cursor", "its reason");
	oai_walk_clear(&w);

	test_walk_init(&w, NULL, 100);
	test_feed(&w, "e5 e4", true);
	ok(test_feed(&w, "e3 e5", true) == OAI_WALK_DONE && w.truncated,
	   "cursor pointing back to page 1 stops");
	is_str(test_walk_ids(&w), "e5 e4 e3", "events before the loop kept");
	oai_walk_clear(&w);

	test_walk_init(&w, NULL, 2);
	test_feed(&w, "e9 e8 e7", true);
	ok(test_feed(&w, "e6 e5 e4", true) == OAI_WALK_DONE && w.truncated && w.taken == 6,
	   "page cap stops with truncated");
	oai_walk_clear(&w);

	test_walk_init(&w, NULL, 0);
	ok(test_feed(&w, "e2", true) == OAI_WALK_DONE && w.truncated, "max_pages 0 means 1");
	oai_walk_clear(&w);

	test_walk_init(&w, "e1", 10);
	ok(test_feed(&w, "", false) == OAI_WALK_DONE && w.taken == 0 && !w.truncated,
	   "empty first page is done");
	ok(oai_walk_newest_id(&w) == NULL, "no newest id");
	oai_walk_clear(&w);

	test_walk_init(&w, NULL, 10);
	ok(test_feed(&w, "", true) == OAI_WALK_DONE && w.truncated,
	   "empty page claiming more is truncated");
	ok(w.cut == OAI_WALK_CUT_EMPTY && !oai_walk_complete(&w),
	   "and not complete: the page is still to be read");
	oai_walk_clear(&w);

	test_walk_init(&w, NULL, 10);
	test_feed(&w, "e5 e4 e3", true);
	ok(test_feed(&w, "e3 e2 e1", false) == OAI_WALK_DONE, "overlapping pages");
	is_str(test_walk_ids(&w), "e5 e4 e3 e2 e1", "repeated event deduped");
	oai_walk_clear(&w);

	test_walk_init(&w, NULL, 10);
	test_feed(&w, "e4 e4 e3", false);
	is_str(test_walk_ids(&w), "e4 e3", "duplicate within a page deduped");
	oai_walk_clear(&w);

	test_walk_init(&w, "e5", 10);
	ok(test_feed(&w, "e5 e4", true) == OAI_WALK_DONE && w.found_stop && w.taken == 0,
	   "nothing new");
	ok(oai_walk_newest_id(&w) == NULL, "nothing new: no newest id");
	oai_walk_clear(&w);

	test_walk_init(&w, "", 10);
	ok(w.stop_id == NULL, "empty stop id is no stop id");
	oai_walk_clear(&w);

	test_walk_init(&w, NULL, 10);
	test_feed(&w, "e2 e1", false);
	ok(test_feed(&w, "e0", true) == OAI_WALK_DONE && w.n == 0 && w.pages == 1,
	   "a page fed after the end is dropped");
	oai_walk_clear(&w);
}

/* ---- the bounds ---- */

static void
test_walk_limits(void)
{
	struct oai_walk_limits lim = {.max_pages = 1000, .max_events = 5, .max_bytes = 1 << 30};
	struct oai_walk w;

	test_acc[0] = '\0';
	oai_walk_init(&w, "e1", NULL, &lim);
	ok(test_feed(&w, "e9 e8 e7", true) == OAI_WALK_MORE, "event cap: under it");
	ok(test_feed(&w, "e6 e5 e4", true) == OAI_WALK_DONE, "event cap: reached");
	ok(w.truncated && w.cut == OAI_WALK_CUT_EVENTS, "cut by the event cap");
	is_str(oai_walk_cut_reason(w.cut), "event cap", "its reason");
	ok(!oai_walk_complete(&w), "a cut walk is not complete (e3, e2 unread)");
	is_str(w.after, "e4", "after names where to resume");
	is_str(oai_walk_newest_id(&w), "e9", "newest is the first event taken");
	is_str(test_batch_ids(&w), "e4 e5 e6", "the last page is handed out");
	oai_walk_clear(&w);

	lim = (struct oai_walk_limits){.max_pages = 1000, .max_events = 1000, .max_bytes = 100};
	oai_walk_init(&w, NULL, NULL, &lim);
	ok(test_feed_len(&w, "e9 e8", true, 60) == OAI_WALK_MORE, "byte cap: under it");
	ok(test_feed_len(&w, "e7 e6", true, 60) == OAI_WALK_DONE && w.cut == OAI_WALK_CUT_BYTES,
	   "byte cap: cut at 120 of 100 bytes");
	is_int(w.bytes, 120, "bytes counted");
	is_str(oai_walk_cut_reason(w.cut), "byte cap", "its reason");
	oai_walk_clear(&w);

	lim = (struct oai_walk_limits){.max_pages = 2, .max_events = 1000, .max_bytes = 1 << 30};
	oai_walk_init(&w, NULL, NULL, &lim);
	test_feed(&w, "e9 e8", true);
	ok(test_feed(&w, "e7 e6", true) == OAI_WALK_DONE && w.cut == OAI_WALK_CUT_PAGES,
	   "page cap: cut");
	is_str(w.after, "e6", "page cap: after names where to resume");
	ok(!oai_walk_complete(&w), "page cap: not complete");
	is_str(oai_walk_cut_reason(w.cut), "page cap", "its reason");
	oai_walk_clear(&w);

	lim = (struct oai_walk_limits){.max_pages = 2, .max_events = 2, .max_bytes = 10};
	oai_walk_init(&w, "e6", NULL, &lim);
	ok(test_feed_len(&w, "e9 e8 e7 e6", true, 1000) == OAI_WALK_DONE && w.found_stop &&
	           !w.truncated && oai_walk_complete(&w),
	   "meeting the stop wins over every limit");
	oai_walk_clear(&w);

	lim = (struct oai_walk_limits){0};
	oai_walk_init(&w, NULL, "", &lim);
	ok(w.lim.max_pages == 1 && w.lim.max_events == 1 && w.lim.max_bytes == 1,
	   "0 limits mean 1");
	ok(w.after == NULL, "an empty after is none");
	is_str(oai_walk_cut_reason(OAI_WALK_NOT_CUT), "", "no reason when not cut");
	oai_walk_clear(&w);
}

/* A cut walk, then the walk that resumes below it down to the stop. */
static void
test_walk_resume(void)
{
	const struct oai_walk_limits lim = {.max_pages = 1, .max_events = 100, .max_bytes = 1000};
	struct oai_walk w;
	char *resume;

	test_acc[0] = '\0';
	oai_walk_init(&w, "e2", NULL, &lim);
	ok(test_feed(&w, "e9 e8 e7", true) == OAI_WALK_DONE && w.cut == OAI_WALK_CUT_PAGES,
	   "first walk cut");
	resume = xstrdup(w.after);
	oai_walk_clear(&w);

	test_acc[0] = '\0';
	oai_walk_init(&w, "e2", resume, &lim);
	is_str(w.after, "e7", "the resumed walk asks below the cut");
	ok(test_feed(&w, "e6 e5 e4", true) == OAI_WALK_DONE && w.cut == OAI_WALK_CUT_PAGES,
	   "second walk cut too");
	free(resume);
	resume = xstrdup(w.after);
	oai_walk_clear(&w);

	test_acc[0] = '\0';
	oai_walk_init(&w, "e2", resume, &lim);
	ok(test_feed(&w, "e3 e2 e1", true) == OAI_WALK_DONE && w.found_stop, "third meets e2");
	ok(oai_walk_complete(&w), "complete: e9..e3 are all read now");
	is_str(test_walk_ids(&w), "e3", "it hands out only what is new to it");
	free(resume);
	oai_walk_clear(&w);
}

/* ---- a server whose pages never end ---- */

/* A page of n fresh ids "f<base+i>" with has_more, built directly. */
static void
test_fresh_page(struct oai_event_page *page, size_t base, size_t n)
{
	memset(page, 0, sizeof(*page));
	page->events = xcalloc(n, sizeof(*page->events));
	page->n = n;
	page->has_more = true;
	for (size_t i = 0; i < n; i++) {
		page->events[i].id = xasprintf("f%zu", base + i);
		page->events[i].step = page->events[i].total_steps = -1;
	}
}

static double
test_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_walk_endless(void)
{
	enum { PAGE = 100, PAGES = 1000, WINDOW = 100 };
	const struct oai_walk_limits lim = {
	        .max_pages = PAGES, .max_events = 1000000, .max_bytes = 1 << 30};
	struct oai_event_page page;
	struct oai_walk w;
	double early = 0, late = 0;
	bool held_one_page = true;
	size_t pages = 0;

	oai_walk_init(&w, "never", NULL, &lim);
	for (enum oai_walk_next r = OAI_WALK_MORE; r == OAI_WALK_MORE && pages < PAGES + 1;) {
		double t0;

		test_fresh_page(&page, pages * PAGE, PAGE);
		t0 = test_cpu_s();
		r = oai_walk_feed(&w, &page, 1000);
		if (pages < WINDOW)
			early += test_cpu_s() - t0;
		else if (pages >= PAGES - WINDOW)
			late += test_cpu_s() - t0;
		held_one_page = held_one_page && w.n <= PAGE;
		oai_event_page_clear(&page);
		pages++;
	}
	is_int(pages, PAGES, "an endless server is cut after max_pages pages");
	ok(w.cut == OAI_WALK_CUT_PAGES, "by the page cap");
	ok(held_one_page, "the walk never held more than one page of events");
	is_int(w.seen_n, PAGES * PAGE, "every id seen is remembered once");
	ok(w.seen_mask + 1 <= 4 * w.seen_n, "the id set stays within 4x its ids");
	TAP_DIAG("CPU time of the first %d pages %.2f ms, of the last %d %.2f ms", WINDOW,
	         early * 1e3, WINDOW, late * 1e3);
	/* The old walk rebuilt its id set from every event on each page: its
	 * last pages cost ~19x its first.  A set kept across pages costs the
	 * same per page (5x is room for cache effects and noise). */
	ok(late < 5 * early + 0.002, "the last pages cost about what the first did");
	oai_walk_clear(&w);

	oai_walk_init(&w, "never", NULL,
	              &(struct oai_walk_limits){
	                      .max_pages = 1000, .max_events = 1000, .max_bytes = 1 << 30});
	pages = 0;
	for (enum oai_walk_next r = OAI_WALK_MORE; r == OAI_WALK_MORE && pages < 1000;) {
		test_fresh_page(&page, pages * PAGE, PAGE);
		r = oai_walk_feed(&w, &page, 1000);
		oai_event_page_clear(&page);
		pages++;
	}
	ok(pages == 10 && w.cut == OAI_WALK_CUT_EVENTS && w.seen_n == 1000,
	   "the event cap bounds the ids held (%zu pages, %zu ids)", pages, w.seen_n);
	oai_walk_clear(&w);
}

int
main(void)
{
	test_walk_basics();
	test_walk_limits();
	test_walk_resume();
	test_walk_endless();
	return tap_done();
}
