/*
 * notifier: durable hook deliveries.
 *
 * Writing: a txn observer of ingest.  In every step's transaction it
 * reads the events rows above its high-water mark (so also those other
 * txn observers registered before it wrote, e.g. the rules engine's
 * alert events), and for each of type job.discovered, job.status,
 * job.finished, alert.fired or alert.resolved writes one pending
 * `deliveries` row per hook whose `events =` names the type (or `*`),
 * with the payload in the hook's format, in that same transaction.  The
 * mark moves when the step commits (a rolled-back step is seen again).
 * It starts at the highest events id at notifier_new: events stored
 * before the notifier existed are not delivered.  With no [hook] it does
 * not observe at all (a step costs nothing here); a reload that adds the
 * first hook starts at the highest events id of that moment.
 *
 * Sending: a commit observer wakes the dispatcher.  Per hook it reads at
 * most `concurrency` due pending rows (oldest first, indexed) and starts
 * them (hookexec.h for exec, the http engine for webhooks); one hook's
 * slots never wait for another's.  A slack hook starts one at a time, a
 * second apart (Slack's rate limit per webhook URL).  Each outcome is written in an ingest
 * step of its own (several per loop turn together): delivered; or pending
 * again at now + retry_delay_ms (retry.h: exponential backoff with jitter,
 * a webhook's Retry-After winning); or failed after max_attempts.  Rows
 * of an alert that is acked by the time they are due are not sent: they
 * end `failed` with last_error "skipped: alert N acknowledged" (counted
 * as `skipped`, not `failed`, in status).  A restart resumes every pending
 * row (an attempt cut off by the stop is sent again: receivers dedupe on
 * the Idempotency-Key / event id).
 *
 * Reload: notifier_reload takes the new [hook] set; in-flight attempts of
 * a hook that was removed finish, and its pending rows stay pending
 * (delivered if a hook of that name comes back).
 *
 * Ownership: the loop, ingest, store, http and clock are borrowed and
 * outlive the notifier; the conf's hooks are copied.
 */
#ifndef FTMON_NOTIFIER_H
#define FTMON_NOTIFIER_H

#include <cjson/cJSON.h>
#include <uv.h>

struct clock;
struct conf;
struct http;
struct ingest;
struct notifier;
struct store;

/* Registers its observers on in.  NULL on a database error (*err set,
 * malloc'd). */
struct notifier *notifier_new(uv_loop_t *loop, struct ingest *in, struct store *st,
                              struct http *http, const struct clock *clk, const struct conf *conf,
                              char **err);
/* Use the hooks of conf from now on. */
void notifier_reload(struct notifier *n, const struct conf *conf);
/* The database file was replaced (store_reopen): its events ids start
 * again, so the mark goes back to its highest id. */
void notifier_resync(struct notifier *n);
/* Cancel attempts in flight (they stay pending), write the outcomes that
 * are known, unregister, close the handles (the loop must run afterwards
 * for their close callbacks).  NULL is fine. */
void notifier_free(struct notifier *n);
/* status: "hooks": [{"name", "type", "pending", "failed", "skipped",
 * "delivered", "in_flight", "last_error"}]. */
void notifier_describe(struct notifier *n, cJSON *status);

#endif
