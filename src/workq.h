/*
 * workq: a FIFO of work items with a cap on how many run at once.
 *
 * Intrusive: the caller embeds a struct workq_item in its own object and
 * owns that object; the queue only links it (recover the object with
 * offsetof / a container_of).  An item is in the queue at most once.
 *
 * "In flight" is counted separately from the queue because work may start
 * without having been queued (a follow-up request, discovery): the caller
 * reports each start and each end.  Pure: no event loop, no logging.
 */
#ifndef FTMON_WORKQ_H
#define FTMON_WORKQ_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>

struct workq_item {
	TAILQ_ENTRY(workq_item) link;
	bool queued;
};

struct workq {
	TAILQ_HEAD(workq_head, workq_item) head;
	size_t len;
	size_t inflight;
	size_t cap;
};

/* An empty queue; cap 0 lets nothing start. */
void workq_init(struct workq *q, size_t cap);
void workq_set_cap(struct workq *q, size_t cap);
/* Append it at the tail; no-op when it is queued already. */
void workq_push(struct workq *q, struct workq_item *it);
/* Unlink it (its work is no longer wanted); no-op when it is not queued. */
void workq_remove(struct workq *q, struct workq_item *it);
bool workq_queued(const struct workq_item *it);
/* The head, unlinked, when fewer than cap are in flight; else NULL (also
 * when empty).  Taking does not count it in flight: call workq_start when
 * the work actually starts. */
struct workq_item *workq_take(struct workq *q);
/* Is the cap reached? */
bool workq_full(const struct workq *q);
/* One more / one fewer in flight. */
void workq_start(struct workq *q);
void workq_done(struct workq *q);
size_t workq_inflight(const struct workq *q);
size_t workq_len(const struct workq *q);

#endif
