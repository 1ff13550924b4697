/*
 * test_workq: FIFO order, no double queueing, removal from anywhere, the
 * in-flight cap (including work started without being queued) and
 * changing the cap.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "tap.h"
#include "workq.h"

struct test_job {
	int id;
	struct workq_item item;
};

static int
test_take(struct workq *q)
{
	struct workq_item *it = workq_take(q);

	if (it == NULL)
		return -1;
	return ((struct test_job *)((char *)it - offsetof(struct test_job, item)))->id;
}

static void
test_fifo(void)
{
	struct test_job j[5];
	struct workq q;

	memset(j, 0, sizeof(j));
	workq_init(&q, 100);
	is_int(test_take(&q), -1, "empty queue gives nothing");
	for (int i = 0; i < 5; i++) {
		j[i].id = i;
		workq_push(&q, &j[i].item);
	}
	workq_push(&q, &j[1].item);
	is_int(workq_len(&q), 5, "pushing a queued item again is a no-op");
	ok(workq_queued(&j[3].item), "queued flag set");
	workq_remove(&q, &j[2].item);
	workq_remove(&q, &j[2].item);
	workq_remove(&q, &j[4].item);
	ok(!workq_queued(&j[2].item), "removed item not queued");
	is_int(workq_len(&q), 3, "removing twice is a no-op");
	is_int(test_take(&q), 0, "first in, first out");
	is_int(test_take(&q), 1, "second");
	workq_push(&q, &j[0].item);
	is_int(test_take(&q), 3, "removed items skipped, tail still right");
	is_int(test_take(&q), 0, "re-pushed item at the tail");
	is_int(test_take(&q), -1, "then empty");
	ok(!workq_queued(&j[0].item), "taken item not queued");
	workq_push(&q, &j[4].item);
	is_int(test_take(&q), 4, "queue reusable after emptying");
}

static void
test_cap(void)
{
	struct test_job j[4];
	struct workq q;

	memset(j, 0, sizeof(j));
	workq_init(&q, 2);
	for (int i = 0; i < 4; i++) {
		j[i].id = i;
		workq_push(&q, &j[i].item);
	}
	is_int(test_take(&q), 0, "under the cap: take");
	workq_start(&q);
	workq_start(&q); /* work that never was queued (discovery) counts too */
	ok(workq_full(&q), "two in flight: full");
	is_int(test_take(&q), -1, "at the cap: nothing to take");
	is_int(workq_len(&q), 3, "and nothing lost");
	workq_done(&q);
	is_int(workq_inflight(&q), 1, "one done");
	is_int(test_take(&q), 1, "room again: next in order");
	workq_start(&q);
	workq_set_cap(&q, 3);
	is_int(test_take(&q), 2, "raised cap lets one more start");
	workq_start(&q);
	workq_set_cap(&q, 1);
	is_int(test_take(&q), -1, "lowered cap below in flight: nothing starts");
	workq_done(&q);
	workq_done(&q);
	is_int(test_take(&q), -1, "still at the lowered cap");
	workq_done(&q);
	is_int(test_take(&q), 3, "under it again");
	workq_done(&q);
	is_int(workq_inflight(&q), 0, "a done too many does not wrap around");
	workq_init(&q, 0);
	workq_push(&q, &j[0].item);
	is_int(test_take(&q), -1, "cap 0 lets nothing start");
}

int
main(void)
{
	test_fifo();
	test_cap();
	return tap_done();
}
