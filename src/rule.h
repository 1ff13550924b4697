/*
 * rule: one rule's evaluation over one job's metric, pure and incremental.
 *
 * The engine (rules.c) keeps a struct rule_state per (job, rule, metric),
 * feeds it the new points in step order with rule_eval(), and stores it
 * between steps as the short text of rule_state_save().  Each call is O(1)
 * in time and the state is a few numbers: running means are exponentially
 * weighted (span = `window`), so no history is kept.
 *
 * A verdict says when an episode starts (RULE_FIRE) and ends
 * (RULE_RESOLVE); s->firing is the rule's own view of whether an episode
 * is open.  Per type (defaults in rule_params_init):
 *   nan         a non-finite value fires; a finite one resolves.
 *   divergence  the metric's evaluation and its smoothed value have both
 *               been worse than the best smoothed value by more than the
 *               band for `patience` consecutive evaluations, while the
 *               reference (training loss, smoothed) improved by more than
 *               min_delta since that best.  The band is min_delta (rel or
 *               abs), widened by the evaluations' own noise (rule.c);
 *               resolves on a new best (hysteresis: values back inside the
 *               band do not end it).
 *   spike       a value beyond mean + sigma x spread of the recent points
 *               (after `window` points of warm-up); the spike's own values
 *               stay out of the statistics; resolves when a value is back
 *               within mean + 1 spread.
 *   plateau     no improvement by min_delta for `patience` points; resolves
 *               on an improvement.
 *   threshold   value op threshold; resolves when it no longer holds.
 *   stale       not evaluated here (the engine's timer: rule_stale_due).
 * After a resolve, `cooldown` seconds pass before the rule fires again.
 *
 * Pure: no logging, no I/O.
 */
#ifndef FTMON_RULE_H
#define FTMON_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* The resolved parameters of a rule for one metric. */
struct rule_params {
	const char *metric;    /* borrowed from the caller, for messages */
	const char *reference; /* divergence: the reference metric */
	enum conf_rule_type type;
	bool maximize; /* mode: higher is better */
	unsigned patience;
	double min_delta;
	enum conf_threshold_mode threshold_mode;
	int64_t cooldown_s;
	unsigned window;
	double sigma;
	enum conf_op op;
	double value;
};

struct rule_state {
	bool firing;
	int64_t n;         /* points of the metric seen */
	int64_t last_step; /* of the metric; INT64_MIN before the first */
	int64_t cooldown_until;
	/* divergence, plateau: the best (smoothed) value and its step */
	double best;
	int64_t best_step;
	unsigned wait; /* consecutive evaluations without improvement / worse */
	double ema;    /* smoothed metric (divergence); running mean (spike) */
	double var;    /* spike: running variance; divergence: mean |2nd difference| */
	double x1, x2; /* divergence: the last two evaluations */
	/* divergence: the reference's smoothed value, and that at the best */
	double ref_ema, ref_at_best;
	int64_t ref_n, ref_last_step;
};

enum rule_role { RULE_ROLE_METRIC, RULE_ROLE_REFERENCE };
enum rule_verdict { RULE_NONE, RULE_FIRE, RULE_RESOLVE };

/* What a verdict is about. */
struct rule_event {
	int64_t step;
	double value;
	char message[200];
};

/* Defaults (documented in ftmon.conf(5)). */
#define RULE_DIVERGENCE_PATIENCE  4
#define RULE_DIVERGENCE_MIN_DELTA 0.05
#define RULE_PLATEAU_PATIENCE     10
#define RULE_PLATEAU_MIN_DELTA    1e-4
#define RULE_SPIKE_WINDOW         50
#define RULE_SPIKE_SIGMA          6.0

/* The parameters of r for metric (the name decides an auto mode); metric
 * is borrowed and must outlive p. */
void rule_params_init(struct rule_params *p, const struct conf_rule *r, const char *metric);
/* mode = auto: higher is better when the name contains acc, reward or
 * score. */
bool rule_metric_maximize(const char *metric);
/* The metric r watches by default, or NULL when it watches every metric
 * whose name contains "loss" (nan). */
const char *rule_default_metric(enum conf_rule_type type);
/* divergence's reference metric. */
const char *rule_reference_metric(const struct conf_rule *r);
/* Whether r watches metric (as metric or as divergence's reference). */
bool rule_watches(const struct conf_rule *r, const char *metric, enum rule_role *role);

void rule_state_init(struct rule_state *s);
/* One point, in step order (an older step than the last seen is ignored:
 * RULE_NONE).  now (Unix seconds) is for the cooldown.  On RULE_FIRE or
 * RULE_RESOLVE, *ev says at which point and why. */
enum rule_verdict rule_eval(const struct rule_params *p, struct rule_state *s, enum rule_role role,
                            int64_t step, double value, int64_t now, struct rule_event *ev);

/* Serialise into buf (RULE_STATE_TEXT_MAX is enough); load returns 0 or
 * -EINVAL for text that is not a saved state (the state is then reset). */
#define RULE_STATE_TEXT_MAX 512
void rule_state_save(const struct rule_state *s, char *buf, size_t size);
int rule_state_load(struct rule_state *s, const char *text);

/* stale: whether a job last heard from at last (Unix seconds) is stale. */
bool rule_stale_due(int64_t last, int64_t now, uint64_t stale_after_ms);

#endif
