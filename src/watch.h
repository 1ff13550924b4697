/*
 * watch: the control socket's `watch` streams.  A commit observer on
 * ingest turns what each step committed into JSON lines, built once per
 * commit and queued to every client that asked for them (all jobs, or one).
 * With no client watching, a commit costs one list check.
 *
 * After the acknowledgement {"id": ID, "ok": true, "result": {"watching":
 * "all" | "SOURCE/EXTERNAL_ID"}}, a stream carries one object per line:
 *
 *   {"event": "points", "time": T, "job": NAME, "status": S, "step": N,
 *    "total_steps": N|null, "estimated_finish": T|null, "tracked": B,
 *    "points": N, "metrics": {METRIC: value at its newest step, NaN as null}}
 *       one per job per committed step that stored new points: the points
 *       are coalesced, so a page of 1000 points is one line;
 *   {"event": TYPE, "time": T, "job": NAME, "id": EVENT_ID, "level": L,
 *    "message": M, "data": {...}|null}
 *       one per committed events row, TYPE being its type (job.discovered,
 *       job.status, job.finished, message, alert.fired, alert.resolved, ...).
 *
 * Within a commit the points lines come first, then the events in id
 * order.  A client that stops reading is dropped at the control socket's
 * stream cap (control.h) with a final "overflow" error line.
 *
 * Lifetimes: struct watch is owned by its creator; ingest, store and clock
 * are borrowed and outlive it.  Held clients are owned by control; watch
 * forgets each in its gone() callback.
 */
#ifndef FTMON_WATCH_H
#define FTMON_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct clock;
struct control_client;
struct ingest;
struct store;
struct watch;

/* Registers the commit observer. */
struct watch *watch_new(struct ingest *in, struct store *st, const struct clock *clk);
/* Unregisters it and releases any client still streaming (normally
 * control_free has told every one of them gone() before).  NULL is fine. */
void watch_free(struct watch *w);
/* Acknowledge the request id (borrowed; NULL is sent as null) on cl and
 * stream to it from now on: job_id's lines only, or every job's when
 * job_id is 0 (name, borrowed, is what the acknowledgement says then).
 * cl is held until it goes away. */
void watch_add(struct watch *w, struct control_client *cl, const cJSON *id, int64_t job_id,
               const char *name);
/* Clients streaming now. */
size_t watch_count(const struct watch *w);

#endif
