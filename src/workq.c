/*
 * workq: a TAILQ, so removal of an untracked item from the middle is O(1)
 * and the queue never points at freed memory.
 */
#include "config.h"

#include "workq.h"

void
workq_init(struct workq *q, size_t cap)
{
	TAILQ_INIT(&q->head);
	q->len = 0;
	q->inflight = 0;
	q->cap = cap;
}

void
workq_set_cap(struct workq *q, size_t cap)
{
	q->cap = cap;
}

void
workq_push(struct workq *q, struct workq_item *it)
{
	if (it->queued)
		return;
	TAILQ_INSERT_TAIL(&q->head, it, link);
	it->queued = true;
	q->len++;
}

void
workq_remove(struct workq *q, struct workq_item *it)
{
	if (!it->queued)
		return;
	TAILQ_REMOVE(&q->head, it, link);
	it->queued = false;
	q->len--;
}

bool
workq_queued(const struct workq_item *it)
{
	return it->queued;
}

struct workq_item *
workq_take(struct workq *q)
{
	struct workq_item *it = TAILQ_FIRST(&q->head);

	if (it == NULL || workq_full(q))
		return NULL;
	workq_remove(q, it);
	return it;
}

bool
workq_full(const struct workq *q)
{
	return q->inflight >= q->cap;
}

void
workq_start(struct workq *q)
{
	q->inflight++;
}

void
workq_done(struct workq *q)
{
	/* A done without a start is a caller bug; never wrap around. */
	if (q->inflight > 0)
		q->inflight--;
}

size_t
workq_inflight(const struct workq *q)
{
	return q->inflight;
}

size_t
workq_len(const struct workq *q)
{
	return q->len;
}
