/*
 * rule: one rule's evaluation over one job's metric (see rule.h).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rule.h"

/* divergence smooths the evaluations it compares (sparse validation has
 * few points, so a short memory) and the reference (dense, noisy). */
#define RULE_DIV_ALPHA 0.5
/* divergence: the evaluations' noise widens the band to K standard
 * deviations of the smoothed curve, so dense, noisy validation does not
 * take a lucky low for the best to be beaten.  The best of n noisy values
 * lies about sqrt(2 ln n) deviations below the curve, so K grows with the
 * evaluations seen: K = RULE_DIV_NOISE_K0 + sqrt(2 ln n).  The noise is
 * estimated from second differences (a trend, even a steep one, mostly
 * cancels there), averaged with this weight: for white noise
 * E|x - 2x' + x''| = sqrt(6) * 0.798 * sigma. */
#define RULE_DIV_NOISE_K0   2.5 /* 2.0..3.0 pass every seed of the table */
#define RULE_DIV_NOISE_BETA 0.1
#define RULE_DIV_MAD2_SIGMA 1.955
#define RULE_REF_ALPHA      0.1
/* spike: the spread never counts as less than this fraction of the mean,
 * so a flat curve's tiny wobble does not make every change a spike. */
#define RULE_SPIKE_FLOOR 0.05

bool
rule_metric_maximize(const char *metric)
{
	return strstr(metric, "acc") || strstr(metric, "reward") || strstr(metric, "score");
}

const char *
rule_default_metric(enum conf_rule_type type)
{
	switch (type) {
	case CONF_RULE_DIVERGENCE:
	case CONF_RULE_PLATEAU:
		return "valid_loss";
	case CONF_RULE_SPIKE:
		return "train_loss";
	default:
		return NULL;
	}
}

const char *
rule_reference_metric(const struct conf_rule *r)
{
	return r->reference ? r->reference : "train_loss";
}

bool
rule_watches(const struct conf_rule *r, const char *metric, enum rule_role *role)
{
	const char *m = r->metric ? r->metric : rule_default_metric(r->type);

	*role = RULE_ROLE_METRIC;
	if (r->type == CONF_RULE_STALE)
		return false;
	if (m == NULL)
		return r->type == CONF_RULE_NAN && strstr(metric, "loss") != NULL;
	if (strcmp(m, metric) == 0)
		return true;
	if (r->type == CONF_RULE_DIVERGENCE && strcmp(rule_reference_metric(r), metric) == 0) {
		*role = RULE_ROLE_REFERENCE;
		return true;
	}
	return false;
}

void
rule_params_init(struct rule_params *p, const struct conf_rule *r, const char *metric)
{
	bool div = r->type == CONF_RULE_DIVERGENCE;

	*p = (struct rule_params){
	        .metric = metric,
	        .reference = rule_reference_metric(r),
	        .type = r->type,
	        .maximize = r->mode == CONF_MODE_MAX ||
	                    (r->mode == CONF_MODE_AUTO && rule_metric_maximize(metric)),
	        .patience = r->patience,
	        .min_delta = r->min_delta,
	        .threshold_mode = r->threshold_mode,
	        .cooldown_s = (int64_t)(r->cooldown_ms / 1000),
	        .window = r->window ? r->window : RULE_SPIKE_WINDOW,
	        .sigma = isnan(r->sigma) ? RULE_SPIKE_SIGMA : r->sigma,
	        .op = r->op,
	        .value = r->value,
	};
	if (p->patience == 0)
		p->patience = div ? RULE_DIVERGENCE_PATIENCE : RULE_PLATEAU_PATIENCE;
	if (isnan(p->min_delta))
		p->min_delta = div ? RULE_DIVERGENCE_MIN_DELTA : RULE_PLATEAU_MIN_DELTA;
}

void
rule_state_init(struct rule_state *s)
{
	*s = (struct rule_state){
	        .last_step = INT64_MIN,
	        .best = NAN,
	        .best_step = -1,
	        .ema = NAN,
	        .ref_ema = NAN,
	        .ref_at_best = NAN,
	        .ref_last_step = INT64_MIN,
	};
}

/* How far beyond best counts as a change (threshold_mode). */
static double
rule_band(const struct rule_params *p, double best)
{
	return p->threshold_mode == CONF_THRESHOLD_REL ? p->min_delta * fabs(best) : p->min_delta;
}

/* Whether a fire would be taken: messages are formatted only then (the
 * hot path is every point of every job). */
static bool
rule_may_fire(const struct rule_state *s, int64_t now)
{
	return !s->firing && now >= s->cooldown_until;
}

static enum rule_verdict
rule_fire(const struct rule_params *p, struct rule_state *s, int64_t now)
{
	(void)p;
	if (s->firing || now < s->cooldown_until)
		return RULE_NONE;
	s->firing = true;
	return RULE_FIRE;
}

static enum rule_verdict
rule_resolve(const struct rule_params *p, struct rule_state *s, int64_t now)
{
	if (!s->firing)
		return RULE_NONE;
	s->firing = false;
	s->cooldown_until = now + p->cooldown_s;
	return RULE_RESOLVE;
}

static enum rule_verdict
rule_eval_nan(const struct rule_params *p, struct rule_state *s, double v, int64_t now,
              struct rule_event *ev)
{
	if (isfinite(v)) {
		if (!s->firing)
			return RULE_NONE;
		snprintf(ev->message, sizeof(ev->message), "%s is finite again", p->metric);
		return rule_resolve(p, s, now);
	}
	if (!rule_may_fire(s, now))
		return RULE_NONE;
	snprintf(ev->message, sizeof(ev->message), "%s is %s", p->metric,
	         isnan(v) ? "NaN" : "infinite");
	return rule_fire(p, s, now);
}

/* The reference's smoothed value; x is already in "lower is better". */
static void
rule_eval_reference(struct rule_state *s, double x)
{
	s->ref_n++;
	s->ref_ema = s->ref_n == 1 ? x : s->ref_ema + RULE_REF_ALPHA * (x - s->ref_ema);
	if (isnan(s->ref_at_best))
		s->ref_at_best = s->ref_ema; /* the reference began after the best */
}

/* K deviations of the smoothed curve (see RULE_DIV_NOISE_K0). */
static double
rule_div_noise(const struct rule_state *s)
{
	double k = RULE_DIV_NOISE_K0 + sqrt(2 * log((double)s->n));

	return k * s->var / RULE_DIV_MAD2_SIGMA * sqrt(RULE_DIV_ALPHA / (2 - RULE_DIV_ALPHA));
}

static enum rule_verdict
rule_eval_divergence(const struct rule_params *p, struct rule_state *s, int64_t step, double x,
                     int64_t now, struct rule_event *ev)
{
	double sign = p->maximize ? -1 : 1, band;

	if (s->n >= 3)
		s->var += RULE_DIV_NOISE_BETA * (fabs(x - 2 * s->x1 + s->x2) - s->var);
	s->x2 = s->n >= 2 ? s->x1 : x;
	s->x1 = x;
	s->ema = s->n == 1 ? x : s->ema + RULE_DIV_ALPHA * (x - s->ema);
	if (s->n == 1 || s->ema < s->best) {
		/* A new best ends an episode: noise back inside the band does not. */
		s->best = s->ema;
		s->best_step = step;
		s->ref_at_best = s->ref_ema;
		s->wait = 0;
		if (!s->firing)
			return RULE_NONE;
		snprintf(ev->message, sizeof(ev->message), "%s reached a new best %.6g", p->metric,
		         sign * s->best);
		return rule_resolve(p, s, now);
	}
	/* Worse means the evaluation and the smoothed curve both sit beyond the
	 * band: one bad evaluation lifts the smoothed curve for a while, but
	 * the evaluations after it are back near the best. */
	band = s->best + fmax(rule_band(p, s->best), rule_div_noise(s));
	s->wait = x > band && s->ema > band ? s->wait + 1 : 0;
	/* "Kept improving": by the band too, not by noise. */
	if (s->wait < p->patience || s->ref_n == 0 ||
	    !(s->ref_ema < s->ref_at_best - rule_band(p, s->ref_at_best)) || !rule_may_fire(s, now))
		return RULE_NONE;
	snprintf(ev->message, sizeof(ev->message),
	         "%s has been worse than its best %.6g (step %" PRId64
	         ") for %u evaluations while %s kept improving",
	         p->metric, sign * s->best, s->best_step, s->wait, p->reference);
	return rule_fire(p, s, now);
}

static enum rule_verdict
rule_eval_plateau(const struct rule_params *p, struct rule_state *s, int64_t step, double x,
                  int64_t now, struct rule_event *ev)
{
	double sign = p->maximize ? -1 : 1;

	if (s->n == 1 || x < s->best - rule_band(p, s->best)) {
		s->best = x;
		s->best_step = step;
		s->wait = 0;
		if (!s->firing)
			return RULE_NONE;
		snprintf(ev->message, sizeof(ev->message), "%s improved to %.6g", p->metric,
		         sign * x);
		return rule_resolve(p, s, now);
	}
	if (++s->wait < p->patience || !rule_may_fire(s, now))
		return RULE_NONE;
	snprintf(ev->message, sizeof(ev->message),
	         "%s has not improved on %.6g (step %" PRId64 ") for %u points", p->metric,
	         sign * s->best, s->best_step, s->wait);
	return rule_fire(p, s, now);
}

static void
rule_spike_learn(const struct rule_params *p, struct rule_state *s, double x)
{
	double alpha = 2.0 / (p->window + 1.0), d;

	s->wait++; /* points in the statistics, for the warm-up */
	if (s->wait == 1) {
		s->ema = x;
		s->var = 0;
		return;
	}
	d = x - s->ema;
	s->ema += alpha * d;
	s->var = (1 - alpha) * (s->var + alpha * d * d);
}

static enum rule_verdict
rule_eval_spike(const struct rule_params *p, struct rule_state *s, double x, int64_t now,
                struct rule_event *ev)
{
	double sign = p->maximize ? -1 : 1;
	double sd = fmax(sqrt(s->var), RULE_SPIKE_FLOOR * fabs(s->ema));

	if (s->firing) {
		if (x > s->ema + sd)
			return RULE_NONE;
		rule_spike_learn(p, s, x);
		snprintf(ev->message, sizeof(ev->message), "%s is back near its running mean %.6g",
		         p->metric, sign * s->ema);
		return rule_resolve(p, s, now);
	}
	if (s->wait >= (p->window + 1) / 2 && sd > 0 && x > s->ema + p->sigma * sd) {
		snprintf(ev->message, sizeof(ev->message),
		         "%s jumped to %.6g, %.1f spreads from its running mean %.6g", p->metric,
		         sign * x, (x - s->ema) / sd, sign * s->ema);
		return rule_fire(p, s, now);
	}
	rule_spike_learn(p, s, x);
	return RULE_NONE;
}

static bool
rule_op_holds(enum conf_op op, double v, double limit)
{
	switch (op) {
	case CONF_OP_LT:
		return v < limit;
	case CONF_OP_LE:
		return v <= limit;
	case CONF_OP_GT:
		return v > limit;
	default:
		return v >= limit;
	}
}

static enum rule_verdict
rule_eval_threshold(const struct rule_params *p, struct rule_state *s, double v, int64_t now,
                    struct rule_event *ev)
{
	static const char *const ops[] = {"<", "<=", ">", ">="};
	bool holds = rule_op_holds(p->op, v, p->value);

	if (holds ? !rule_may_fire(s, now) : !s->firing)
		return RULE_NONE;
	snprintf(ev->message, sizeof(ev->message), "%s %s %s %.6g", p->metric,
	         holds ? "is" : "is no longer", ops[p->op], p->value);
	return holds ? rule_fire(p, s, now) : rule_resolve(p, s, now);
}

enum rule_verdict
rule_eval(const struct rule_params *p, struct rule_state *s, enum rule_role role, int64_t step,
          double value, int64_t now, struct rule_event *ev)
{
	double x = p->maximize ? -value : value;

	ev->step = step;
	ev->value = value;
	ev->message[0] = '\0';
	if (role == RULE_ROLE_REFERENCE) {
		if (step <= s->ref_last_step)
			return RULE_NONE;
		s->ref_last_step = step;
		if (isfinite(x))
			rule_eval_reference(s, x);
		return RULE_NONE;
	}
	if (step <= s->last_step)
		return RULE_NONE; /* the past: the state has moved on */
	s->last_step = step;
	if (p->type == CONF_RULE_NAN)
		return rule_eval_nan(p, s, value, now, ev);
	if (!isfinite(x))
		return RULE_NONE; /* the nan rule's business */
	s->n++;
	switch (p->type) {
	case CONF_RULE_DIVERGENCE:
		return rule_eval_divergence(p, s, step, x, now, ev);
	case CONF_RULE_PLATEAU:
		return rule_eval_plateau(p, s, step, x, now, ev);
	case CONF_RULE_SPIKE:
		return rule_eval_spike(p, s, x, now, ev);
	case CONF_RULE_THRESHOLD:
		return rule_eval_threshold(p, s, value, now, ev);
	default:
		return RULE_NONE;
	}
}

/* A fixed list of numbers: %.17g round-trips a double, and nan/inf read
 * back through %lf. */
#define RULE_STATE_FMT                                             \
	"r2 %d %" PRId64 " %" PRId64 " %" PRId64 " %.17g %" PRId64 \
	" %u %.17g %.17g %.17g %.17g %" PRId64 " %" PRId64 " %.17g %.17g"
#define RULE_STATE_SCAN                                                                         \
	"r2 %d %" SCNd64 " %" SCNd64 " %" SCNd64 " %lf %" SCNd64 " %u %lf %lf %lf %lf %" SCNd64 \
	" %" SCNd64 " %lf %lf%n"

void
rule_state_save(const struct rule_state *s, char *buf, size_t size)
{
	snprintf(buf, size, RULE_STATE_FMT, s->firing, s->n, s->last_step, s->cooldown_until,
	         s->best, s->best_step, s->wait, s->ema, s->var, s->ref_ema, s->ref_at_best,
	         s->ref_n, s->ref_last_step, s->x1, s->x2);
}

int
rule_state_load(struct rule_state *s, const char *text)
{
	int firing = 0, end = -1;

	rule_state_init(s);
	if (text == NULL ||
	    sscanf(text, RULE_STATE_SCAN, &firing, &s->n, &s->last_step, &s->cooldown_until,
	           &s->best, &s->best_step, &s->wait, &s->ema, &s->var, &s->ref_ema,
	           &s->ref_at_best, &s->ref_n, &s->ref_last_step, &s->x1, &s->x2, &end) != 15 ||
	    text[end] != '\0') {
		rule_state_init(s);
		return -EINVAL;
	}
	s->firing = firing != 0;
	return 0;
}

bool
rule_stale_due(int64_t last, int64_t now, uint64_t stale_after_ms)
{
	return (now - last) * 1000 >= (int64_t)stale_after_ms;
}
