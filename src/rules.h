/*
 * rules: the rules engine.  An ingest txn observer that runs every
 * configured rule (rule.h) over each step's new points, inside the step's
 * transaction: rule state (table rule_state, one row per job), alerts rows and their
 * alert.fired / alert.resolved events commit with the points that caused
 * them, so a kill -9 anywhere neither loses an alert nor fires one twice.
 *
 * Per job of a step, in this order:
 *   - a job with new points resolves its firing `stale` alerts and
 *     restarts its stale clock (rule_state.last_point_at);
 *   - each enabled rule whose `jobs` glob matches "SOURCE/ID" or the bare
 *     id sees the job's new points of the metrics it watches, in step
 *     order per metric (a point at or before the last step a rule has
 *     seen for that metric is the past: skipped);
 *   - one alert per (job, rule) episode: a verdict to fire while the rule
 *     already has a firing alert for the job does nothing;
 *   - for a finished job (its status is final when the points arrive,
 *     e.g. the result file read after the end) only the final state
 *     counts: an episode that begins and ends within the step is not
 *     news and writes nothing, spike never fires, the others fire only
 *     if their condition still holds at the end of the step;
 *   - a job that finishes resolves its firing stale, spike, plateau and
 *     threshold alerts (they no longer mean anything); nan and divergence
 *     stay firing as the record of what went wrong.
 * `stale` runs from a timer of the engine's own, as an ingest step: a
 * running, tracked job with no new point for stale_after fires.
 *
 * Actions (action = cancel|pause): the alert commits with action_state
 * 'pending'.  After the commit the engine marks it 'sent' in a step of
 * its own and only then asks the daemon (act), which answers with
 * rules_action_done ('done' or 'failed' and the outcome).  A crash
 * between 'sent' and the answer leaves 'sent': at the next start such an
 * alert is marked failed ("not sent again after a restart") — an action
 * goes out at most once; 'pending' ones are sent at start.
 */
#ifndef FTMON_RULES_H
#define FTMON_RULES_H

#include <stdint.h>

struct clock;
struct conf;
struct ingest;
struct rules;
struct store;
struct uv_loop_s;

/* Ask the job's source to act ("cancel" or "pause", borrowed for the
 * call).  The answer must come through rules_action_done, later (never
 * from inside the call). */
typedef void (*rules_act_fn)(void *data, int64_t alert_id, int64_t job_id, const char *action);

/* Every pointer is borrowed and outlives the engine; conf until the next
 * rules_set_conf.  Registers the txn observer now (the daemon creates the
 * engine before the notifier, whose observer must run after it). */
struct rules *rules_new(struct uv_loop_s *loop, struct ingest *in, struct store *st,
                        const struct clock *clk, const struct conf *conf, rules_act_fn act,
                        void *act_data);
/* Start the stale timer and the actions left from the last run. */
void rules_start(struct rules *r);
/* After a reload: the rules to run from now on (borrowed). */
void rules_set_conf(struct rules *r, const struct conf *conf);
/* The outcome of an act call: rc 0 (done) or a negative errno (failed);
 * result (borrowed) says what the source answered. */
void rules_action_done(struct rules *r, int64_t alert_id, int rc, const char *result);
/* Unregister, close the timers; freed once they are closed (the loop must
 * run).  NULL is fine. */
void rules_free(struct rules *r);

#endif
