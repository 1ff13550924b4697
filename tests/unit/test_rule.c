/*
 * test_rule: the pure rule evaluation.  The heart is a table of synthetic
 * training curves (converging with noise, overfitting early and late, a
 * single bad evaluation, NaN, an exploding loss, a flat run, sparse and
 * epoch-end validation) fed to every built-in rule with its defaults; the
 * test prints which curves fire which rule and asserts the expected set,
 * so the defaults are tuned against it (and a change that makes a rule cry
 * wolf, or go deaf, fails here).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "rule.h"
#include "tap.h"

/* ---- deterministic noise ---- */

/* Every curve runs with this many noise seeds; each must behave. */
#define TEST_SEEDS 20
static uint64_t test_seed;

static double
test_uniform(void)
{
	test_seed = test_seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(test_seed >> 11) / 9007199254740992.0;
}

/* Roughly N(0, 1): the sum of four uniforms, scaled. */
static double
test_noise(void)
{
	double s = 0;
	for (int i = 0; i < 4; i++)
		s += test_uniform();
	return (s - 2.0) * sqrt(3.0);
}

/* ---- curves ---- */

enum curve_kind {
	C_CONVERGE,
	C_OVERFIT_EARLY,
	C_OVERFIT_LATE,
	C_BAD_EVAL,
	C_NAN,
	C_EXPLODE,
	C_FLAT,
	C_SPARSE_OVERFIT,
	C_SPARSE_CONVERGE,
	C_EPOCH_OVERFIT,
	C_EPOCH_CONVERGE,
	C_ACC_CONVERGE,
	C_DENSE_NOISY,
	C_DENSE_WINDOW,
};

struct curve {
	const char *name;
	enum curve_kind kind;
	int steps;
	int eval_every;     /* valid_loss every N steps */
	const char *valid;  /* the metric divergence / plateau read */
	const char *expect; /* rules expected to fire, space-separated */
};

static const struct curve curves[] = {
        {"converging, noisy", C_CONVERGE, 1000, 10, "valid_loss", ""},
        {"overfitting early", C_OVERFIT_EARLY, 1000, 10, "valid_loss", "divergence"},
        {"overfitting late", C_OVERFIT_LATE, 1000, 10, "valid_loss", "divergence"},
        {"single bad evaluation", C_BAD_EVAL, 1000, 10, "valid_loss", ""},
        {"NaN train loss", C_NAN, 1000, 10, "valid_loss", "nan"},
        {"exploding loss", C_EXPLODE, 1000, 10, "valid_loss", "spike"},
        {"flat", C_FLAT, 1000, 10, "valid_loss", "plateau"},
        {"sparse validation, overfitting", C_SPARSE_OVERFIT, 1000, 100, "valid_loss", "divergence"},
        {"sparse validation, converging", C_SPARSE_CONVERGE, 1000, 100, "valid_loss", ""},
        {"epoch-end full_valid_loss, overfitting", C_EPOCH_OVERFIT, 1200, 100, "full_valid_loss",
         "divergence"},
        {"epoch-end full_valid_loss, converging", C_EPOCH_CONVERGE, 1200, 100, "full_valid_loss",
         ""},
        {"accuracy rising (mode max)", C_ACC_CONVERGE, 1000, 10, "valid_mean_token_accuracy", ""},
        /* bench/gen_fixtures.py's curve: validation every step, slow and noisy */
        {"dense validation, noisy, converging slowly", C_DENSE_NOISY, 1500, 1, "valid_loss", ""},
        /* and as the benchmark's first page shows it: 98 steps from mid-run */
        {"the same, only 98 steps seen from mid-run", C_DENSE_WINDOW, 98, 1, "valid_loss", ""},
};

/* C_DENSE_NOISY: its validation loss follows the step's training loss. */
static double test_dense_train;

/* The training loss at step s. */
static double
curve_train(const struct curve *c, int s)
{
	double base = 2.0 * exp(-s / 250.0) + 0.3;

	switch (c->kind) {
	case C_NAN:
		if (s == 400)
			return NAN;
		break;
	case C_EXPLODE:
		if (s > 600)
			base *= pow(1.5, s - 600); /* blows up within a few steps */
		break;
	case C_FLAT:
		base = 1.0;
		return base * (1 + 0.002 * test_noise());
	case C_DENSE_NOISY:
	case C_DENSE_WINDOW:
		test_dense_train = 2.2 / (1 + s / 60.0) * (1 + 0.2 * (test_uniform() - 0.5));
		return test_dense_train;
	case C_OVERFIT_EARLY:
	case C_OVERFIT_LATE:
	case C_SPARSE_OVERFIT:
	case C_EPOCH_OVERFIT:
		base = 2.0 * exp(-s / 150.0) + 0.05; /* memorising: keeps falling */
		break;
	default:
		break;
	}
	return base * (1 + 0.08 * test_noise());
}

/* The validation metric at step s (an evaluation). */
static double
curve_valid(const struct curve *c, int s)
{
	double v = 2.0 * exp(-s / 250.0) + 0.4, noise = 0.04;
	int min_at = -1;

	switch (c->kind) {
	case C_OVERFIT_EARLY:
		min_at = 200;
		break;
	case C_OVERFIT_LATE:
		min_at = 750;
		break;
	case C_SPARSE_OVERFIT:
		min_at = 400;
		break;
	case C_EPOCH_OVERFIT:
		min_at = 500;
		noise = 0.01; /* the full validation set: little noise */
		break;
	case C_EPOCH_CONVERGE:
		noise = 0.01;
		break;
	case C_BAD_EVAL:
		if (s == 500)
			return v * 3;
		break;
	case C_FLAT:
		return 1.0 + 0.001 * test_noise();
	case C_DENSE_NOISY:
	case C_DENSE_WINDOW:
		return test_dense_train + 0.08 + 0.06 * (test_uniform() - 0.5);
	case C_EXPLODE:
		if (s > 600)
			v *= pow(1.5, s - 600);
		break;
	case C_ACC_CONVERGE:
		return (0.9 - 0.5 * exp(-s / 250.0)) * (1 + 0.02 * test_noise());
	default:
		break;
	}
	if (min_at >= 0) {
		double vmin = 2.0 * exp(-min_at / 250.0) + 0.4;
		if (s > min_at)
			v = vmin + 0.0015 * (s - min_at);
	}
	return v * (1 + noise * test_noise());
}

/* ---- running a curve through the rules ---- */

struct run_rule {
	struct conf_rule conf;
	struct rule_params params;
	struct rule_state state;
	int fired, resolved;
};

static void
run_rule_init(struct run_rule *r, enum conf_rule_type type, const char *metric)
{
	r->conf = (struct conf_rule){
	        .type = type,
	        .enabled = true,
	        .metric = (char *)metric,
	        .min_delta = NAN,
	        .sigma = NAN,
	        .value = NAN,
	};
	rule_params_init(&r->params, &r->conf, metric ? metric : "train_loss");
	rule_state_init(&r->state);
	r->fired = r->resolved = 0;
}

/* Feed one point to r if it watches metric; count the verdicts. */
static void
run_rule_point(struct run_rule *r, const char *metric, int step, double v)
{
	enum rule_role role;
	struct rule_event ev;
	enum rule_verdict verdict;
	struct rule_params p;
	char text[RULE_STATE_TEXT_MAX];

	if (!rule_watches(&r->conf, metric, &role))
		return;
	p = r->params;
	p.metric = metric;
	if (r->conf.type == CONF_RULE_NAN)
		p.maximize = rule_metric_maximize(metric);
	verdict = rule_eval(&p, &r->state, role, step, v, 1000 + step, &ev);
	r->fired += verdict == RULE_FIRE;
	r->resolved += verdict == RULE_RESOLVE;
	/* Every point goes through the stored form, as in the engine. */
	rule_state_save(&r->state, text, sizeof(text));
	if (rule_state_load(&r->state, text) != 0)
		TAP_DIAG("state did not round-trip: %s", text);
}

static const char *const rule_names[] = {"nan", "divergence", "spike", "plateau"};
enum { NRULES = 4 };

static void
run_curve(const struct curve *c, uint64_t seed, int fired[NRULES])
{
	struct run_rule rules[NRULES];
	int first;

	run_rule_init(&rules[0], CONF_RULE_NAN, NULL);
	run_rule_init(&rules[1], CONF_RULE_DIVERGENCE, c->valid);
	run_rule_init(&rules[2], CONF_RULE_SPIKE, NULL);
	run_rule_init(&rules[3], CONF_RULE_PLATEAU, c->valid);
	if (c->kind == C_EPOCH_OVERFIT || c->kind == C_EPOCH_CONVERGE)
		rules[1].params.patience = rules[3].params.patience = 2; /* as documented */
	test_seed = seed;
	first = c->kind == C_DENSE_WINDOW ? 200 + (int)(seed * 97 % 1500) : 1;
	for (int s = first; s < first + c->steps; s++) {
		double t = curve_train(c, s);
		for (int i = 0; i < NRULES; i++)
			run_rule_point(&rules[i], "train_loss", s, t);
		if (s % c->eval_every == 0) {
			double v = curve_valid(c, s);
			for (int i = 0; i < NRULES; i++)
				run_rule_point(&rules[i], c->valid, s, v);
		}
	}
	for (int i = 0; i < NRULES; i++)
		fired[i] = rules[i].fired;
}

static bool
expect_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = strstr(list, name); p; p = strstr(p + 1, name))
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return true;
	return false;
}

/* Whether a run's fire count is what the curve expects of rule r. */
static bool
curve_as_expected(const struct curve *c, int r, int fired)
{
	bool want = expect_has(c->expect, rule_names[r]);

	if (r == 3) /* plateau is optional: asserted only where it is the point */
		return !want || fired >= 1;
	return want ? fired == 1 : fired == 0;
}

/* Per curve: how many of the seeds fired each rule (and how often with
 * the first seed), and one check per rule that every seed behaved. */
static void
test_curve_table(void)
{
	TAP_DIAG("fired: seeds out of %d (fires with seed 1)", TEST_SEEDS);
	TAP_DIAG("%-40s %-8s %-10s %-8s %-8s  expected", "curve", "nan", "divergence", "spike",
	         "plateau");
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		const struct curve *c = &curves[i];
		int seeds_fired[NRULES] = {0}, first[NRULES], bad[NRULES] = {0};
		char col[NRULES][16];

		for (uint64_t seed = 1; seed <= TEST_SEEDS; seed++) {
			int fired[NRULES];
			run_curve(c, seed, fired);
			for (int r = 0; r < NRULES; r++) {
				seeds_fired[r] += fired[r] > 0;
				bad[r] += !curve_as_expected(c, r, fired[r]);
				if (seed == 1)
					first[r] = fired[r];
			}
		}
		for (int r = 0; r < NRULES; r++)
			snprintf(col[r], sizeof(col[r]), "%d (%d)", seeds_fired[r], first[r]);
		TAP_DIAG("%-40s %-8s %-10s %-8s %-8s  %s", c->name, col[0], col[1], col[2], col[3],
		         c->expect[0] ? c->expect : "-");
		for (int r = 0; r < NRULES; r++) {
			bool want = expect_has(c->expect, rule_names[r]);
			if (r == 3 && !want)
				continue;
			ok(bad[r] == 0, "%s: %s %s with every seed", c->name, rule_names[r],
			   want ? (r == 3 ? "fires" : "fires once") : "stays silent");
			if (bad[r])
				TAP_DIAG("  %d of %d seeds did not", bad[r], TEST_SEEDS);
		}
	}
}

/* ---- single behaviours ---- */

static enum rule_verdict
feed(struct run_rule *r, const char *metric, int64_t step, double v, int64_t now)
{
	enum rule_role role;
	struct rule_event ev;
	struct rule_params p = r->params;

	if (!rule_watches(&r->conf, metric, &role))
		return RULE_NONE;
	p.metric = metric;
	return rule_eval(&p, &r->state, role, step, v, now, &ev);
}

static void
test_nan_episodes(void)
{
	struct run_rule r;

	run_rule_init(&r, CONF_RULE_NAN, NULL);
	is_int(feed(&r, "train_loss", 1, 1.0, 0), RULE_NONE, "nan: a finite loss is quiet");
	is_int(feed(&r, "train_loss", 2, NAN, 0), RULE_FIRE, "nan: NaN fires");
	is_int(feed(&r, "train_loss", 3, INFINITY, 0), RULE_NONE, "nan: and only once");
	is_int(feed(&r, "train_loss", 4, 0.9, 0), RULE_RESOLVE, "nan: a finite value resolves");
	is_int(feed(&r, "train_loss", 5, NAN, 0), RULE_FIRE, "nan: a new episode fires again");
	is_int(feed(&r, "train_loss", 3, 1.0, 0), RULE_NONE, "nan: an older step is the past");
	is_int(feed(&r, "learning_rate", 6, NAN, 0), RULE_NONE, "nan: watches losses only");
}

static void
test_cooldown(void)
{
	struct run_rule r;

	run_rule_init(&r, CONF_RULE_NAN, NULL);
	r.params.cooldown_s = 60;
	feed(&r, "train_loss", 1, NAN, 100);
	is_int(feed(&r, "train_loss", 2, 1, 110), RULE_RESOLVE, "cooldown: resolves");
	is_int(feed(&r, "train_loss", 3, NAN, 150), RULE_NONE, "cooldown: quiet within 60 s");
	is_int(feed(&r, "train_loss", 4, NAN, 171), RULE_FIRE, "cooldown: fires after it");
}

static void
test_threshold(void)
{
	struct run_rule r;

	run_rule_init(&r, CONF_RULE_THRESHOLD, "accuracy");
	r.conf.op = CONF_OP_GE;
	r.conf.value = 0.9;
	rule_params_init(&r.params, &r.conf, "accuracy");
	is_int(feed(&r, "accuracy", 1, 0.5, 0), RULE_NONE, "threshold: below");
	is_int(feed(&r, "accuracy", 2, 0.9, 0), RULE_FIRE, "threshold: >= 0.9 fires");
	is_int(feed(&r, "accuracy", 3, 0.95, 0), RULE_NONE, "threshold: once");
	is_int(feed(&r, "accuracy", 4, 0.85, 0), RULE_RESOLVE, "threshold: resolves below");
}

static void
test_divergence_resolves_on_new_best(void)
{
	struct run_rule r;
	int64_t step = 0;
	int fired = 0;

	run_rule_init(&r, CONF_RULE_DIVERGENCE, NULL);
	for (int i = 0; i < 10; i++) {
		feed(&r, "train_loss", ++step, 2.0 - 0.1 * i, 0);
		feed(&r, "valid_loss", ++step, 1.0 - 0.05 * i, 0);
	}
	for (int i = 0; i < 10; i++) {
		feed(&r, "train_loss", ++step, 1.0 - 0.05 * i, 0);
		fired += feed(&r, "valid_loss", ++step, 0.6 + 0.05 * i, 0) == RULE_FIRE;
	}
	is_int(fired, 1, "divergence: a rising valid_loss with falling train_loss fires once");
	is_int(feed(&r, "valid_loss", ++step, 0.7, 0), RULE_NONE,
	       "divergence: back inside the band is not yet a recovery");
	is_int(feed(&r, "valid_loss", ++step, 0.1, 0), RULE_RESOLVE,
	       "divergence: a new best resolves");
}

static void
test_divergence_needs_falling_reference(void)
{
	struct run_rule r;
	int64_t step = 0;
	int fired = 0;

	run_rule_init(&r, CONF_RULE_DIVERGENCE, NULL);
	for (int i = 0; i < 20; i++) {
		feed(&r, "train_loss", ++step, 1.0 + 0.05 * i, 0);
		fired += feed(&r, "valid_loss", ++step, 1.0 + 0.05 * i, 0) == RULE_FIRE;
	}
	is_int(fired, 0, "divergence: both rising is not overfitting");
}

static void
test_state_text(void)
{
	struct rule_state s, t;
	char text[RULE_STATE_TEXT_MAX], again[RULE_STATE_TEXT_MAX];

	rule_state_init(&s);
	s.firing = true;
	s.n = 12;
	s.last_step = 340;
	s.best = 0.123456789012345;
	s.ref_ema = INFINITY;
	s.wait = 3;
	rule_state_save(&s, text, sizeof(text));
	ok(rule_state_load(&t, text) == 0, "state: loads what it saved (%s)", text);
	rule_state_save(&t, again, sizeof(again));
	is_str(again, text, "state: round-trips exactly");
	ok(t.firing && t.n == 12 && t.last_step == 340 && t.wait == 3 && isnan(t.ema),
	   "state: fields kept");
	is_int(rule_state_load(&t, "r2 1 2"), -EINVAL, "state: a short text is refused");
	is_int(rule_state_load(&t, "garbage"), -EINVAL, "state: garbage is refused");
	ok(!t.firing && t.last_step == INT64_MIN, "state: a refused text leaves a fresh state");
	is_int(rule_state_load(&t, NULL), -EINVAL, "state: NULL is refused");
}

static void
test_modes_and_defaults(void)
{
	struct conf_rule c = {.type = CONF_RULE_SPIKE, .min_delta = NAN, .sigma = NAN};
	struct rule_params p;
	enum rule_role role;

	ok(rule_metric_maximize("valid_mean_token_accuracy"), "mode: accuracy rises");
	ok(rule_metric_maximize("reward") && rule_metric_maximize("f1_score"),
	   "mode: reward and score rise");
	ok(!rule_metric_maximize("valid_loss"), "mode: a loss falls");
	c.mode = CONF_MODE_MAX;
	rule_params_init(&p, &c, "train_loss");
	ok(p.maximize, "mode = max overrides the name");
	is_int(p.window, RULE_SPIKE_WINDOW, "spike: default window");
	ok(p.sigma == RULE_SPIKE_SIGMA, "spike: default sigma");
	ok(rule_watches(&c, "train_loss", &role) && role == RULE_ROLE_METRIC,
	   "spike watches train_loss by default");
	c.type = CONF_RULE_DIVERGENCE;
	ok(rule_watches(&c, "train_loss", &role) && role == RULE_ROLE_REFERENCE,
	   "divergence reads train_loss as its reference");
	c.type = CONF_RULE_STALE;
	ok(!rule_watches(&c, "train_loss", &role), "stale reads no points");
	ok(rule_stale_due(100, 160, 60000) && !rule_stale_due(100, 159, 60000),
	   "stale: due at stale_after");
}

int
main(void)
{
	test_curve_table();
	test_nan_episodes();
	test_cooldown();
	test_threshold();
	test_divergence_resolves_on_new_best();
	test_divergence_needs_falling_reference();
	test_state_text();
	test_modes_and_defaults();
	return tap_done();
}
