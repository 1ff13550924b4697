/*
 * rules: the rules engine (see rules.h).
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "clock.h"
#include "conf.h"
#include "ingest.h"
#include "log.h"
#include "rule.h"
#include "rules.h"
#include "store.h"
#include "xmalloc.h"

/* The stale timer runs at a quarter of the shortest stale_after, within
 * these bounds. */
#define RULES_STALE_MIN_MS 200
#define RULES_STALE_MAX_MS 60000

struct rules {
	uv_loop_t *loop;
	struct ingest *in;
	struct store *st;
	const struct clock *clk;
	const struct conf *conf;
	rules_act_fn act;
	void *act_data;
	uv_timer_t stale_timer, action_timer;
	int open_handles;
	bool started;
	bool actions_due;  /* a committed step holds pending actions */
	bool step_actions; /* the step being committed wrote one */
	/* scratch for one rule over one job's points */
	struct rules_point *pts;
	size_t cap;
};

/* One point as a rule sees it. */
struct rules_point {
	const char *key; /* the metric whose state it feeds */
	const char *metric;
	enum rule_role role;
	int64_t step;
	double value;
};

/* What one job's evaluation in a step works with. */
struct rules_job {
	struct rules *r;
	struct store *st;
	int64_t id;
	struct store_job_brief brief;
	char *name; /* SOURCE/ID */
	bool final; /* its status is final: only the end state counts */
	struct store_alert_open *open;
	size_t nopen;
	cJSON *states; /* {"RULE": {"METRIC": "state"}}: the job's row of rule_state */
	int64_t now;
};

/* ---- alerts and their events ---- */

static struct store_alert_open *
rules_open_find(struct rules_job *j, const char *rule, const char *metric)
{
	for (size_t i = 0; i < j->nopen; i++)
		if (strcmp(j->open[i].rule, rule) == 0 &&
		    (metric == NULL ||
		     (j->open[i].metric && strcmp(j->open[i].metric, metric) == 0)))
			return &j->open[i];
	return NULL;
}

static void
rules_open_forget(struct rules_job *j, struct store_alert_open *a)
{
	free(a->rule);
	free(a->metric);
	*a = j->open[--j->nopen];
}

static int
rules_event(struct rules_job *j, const char *type, int64_t alert_id, const struct conf_rule *rule,
            const char *metric, const struct rule_event *ev, cJSON *best)
{
	cJSON *d = cJSON_CreateObject();
	char *text;
	int rc;

	cJSON_AddNumberToObject(d, "alert_id", (double)alert_id);
	cJSON_AddStringToObject(d, "rule", rule->name);
	cJSON_AddItemToObject(d, "metric",
	                      metric ? cJSON_CreateString(metric) : cJSON_CreateNull());
	cJSON_AddItemToObject(d, "value",
	                      isfinite(ev->value) ? cJSON_CreateNumber(ev->value)
	                                          : cJSON_CreateNull());
	cJSON_AddItemToObject(d, "step",
	                      ev->step >= 0 ? cJSON_CreateNumber((double)ev->step)
	                                    : cJSON_CreateNull());
	cJSON_AddStringToObject(d, "message", ev->message);
	if (rule->action != CONF_ACTION_NONE)
		cJSON_AddStringToObject(d, "action",
		                        rule->action == CONF_ACTION_CANCEL ? "cancel" : "pause");
	if (best)
		cJSON_AddItemToObject(d, "best_checkpoint", cJSON_Duplicate(best, 1));
	text = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	rc = store_insert_event(j->st, j->id, NULL, type,
	                        strcmp(type, "alert.fired") == 0 ? "warning" : "info", ev->message,
	                        text, j->now, NULL);
	free(text);
	return rc < 0 ? rc : 0;
}

static int
rules_fire(struct rules_job *j, const struct conf_rule *rule, const char *metric,
           const struct rule_event *ev)
{
	struct store_alert_new a = {j->id,    rule->name, metric, ev->message, ev->value,
	                            ev->step, NULL,       NULL,   j->now};
	cJSON *best = NULL;
	char *best_text = NULL;
	int64_t id;
	int rc;

	if (rules_open_find(j, rule->name, NULL))
		return 0; /* one episode per (job, rule) */
	if (rule->action != CONF_ACTION_NONE)
		a.action = rule->action == CONF_ACTION_CANCEL ? "cancel" : "pause";
	if (rule->type == CONF_RULE_DIVERGENCE) {
		if ((best = store_best_checkpoint(j->st, j->id, &rc)) == NULL && rc < 0)
			return rc;
		a.best_checkpoint = best_text = best ? cJSON_PrintUnformatted(best) : NULL;
	}
	rc = store_alert_fire(j->st, &a, &id);
	if (rc == 0)
		rc = rules_event(j, "alert.fired", id, rule, metric, ev, best);
	cJSON_Delete(best);
	free(best_text);
	if (rc < 0)
		return rc;
	j->open = xreallocarray(j->open, j->nopen + 1, sizeof(*j->open));
	j->open[j->nopen++] =
	        (struct store_alert_open){id, xstrdup(rule->name), metric ? xstrdup(metric) : NULL};
	j->r->step_actions |= a.action != NULL;
	return 0;
}

/* Resolve the (job, rule) alert; metric NULL: whatever its metric. */
static int
rules_resolve(struct rules_job *j, const struct conf_rule *rule, const char *metric,
              const struct rule_event *ev)
{
	struct store_alert_open *a = rules_open_find(j, rule->name, metric);
	int rc;

	if (a == NULL)
		return 0;
	if ((rc = store_alert_resolve(j->st, a->id, j->now)) < 0 ||
	    (rc = rules_event(j, "alert.resolved", a->id, rule, a->metric, ev, NULL)) < 0)
		return rc;
	rules_open_forget(j, a);
	return 0;
}

/* ---- evaluation ---- */

static bool
rules_applies(const struct conf_rule *rule, const struct rules_job *j)
{
	return rule->enabled && (fnmatch(rule->jobs, j->name, 0) == 0 ||
	                         fnmatch(rule->jobs, j->brief.external_id, 0) == 0);
}

static int
rules_point_cmp(const void *a, const void *b)
{
	const struct rules_point *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	if (x->step != y->step)
		return x->step < y->step ? -1 : 1;
	/* The reference at an evaluation's step counts for that evaluation. */
	return (x->role == RULE_ROLE_METRIC) - (y->role == RULE_ROLE_METRIC);
}

/* The job's points the rule watches, sorted by (key, step), in r->pts. */
static size_t
rules_collect(struct rules *r, const struct conf_rule *rule, const struct ingest_batch *b,
              int64_t job_id)
{
	const char *own = rule->metric ? rule->metric : rule_default_metric(rule->type);
	size_t n = 0;

	for (size_t i = 0; i < b->npoints; i++) {
		const struct ingest_point *p = &b->points[i];
		enum rule_role role;
		if (p->job_id != job_id || !rule_watches(rule, p->metric, &role))
			continue;
		if (n == r->cap)
			r->pts = xreallocarray(r->pts, r->cap = r->cap ? r->cap * 2 : 64,
			                       sizeof(*r->pts));
		r->pts[n++] = (struct rules_point){own ? own : p->metric, p->metric, role, p->step,
		                                   p->value};
	}
	qsort(r->pts, n, sizeof(*r->pts), rules_point_cmp);
	return n;
}

/* A verdict as it happens (a running job). */
static int
rules_apply(struct rules_job *j, const struct conf_rule *rule, const char *key, enum rule_verdict v,
            const struct rule_event *ev)
{
	if (v == RULE_FIRE)
		return rules_fire(j, rule, key, ev);
	if (v == RULE_RESOLVE)
		return rules_resolve(j, rule, key, ev);
	return 0;
}

/* A finished job: only the end state, and no spike (rules.h). */
static int
rules_apply_final(struct rules_job *j, const struct conf_rule *rule, const char *key,
                  const struct rule_state *s, bool fired, const struct rule_event *fire_ev,
                  const struct rule_event *last_ev)
{
	if (s->firing && fired && rule->type != CONF_RULE_SPIKE)
		return rules_fire(j, rule, key, fire_ev);
	if (!s->firing)
		return rules_resolve(j, rule, key, last_ev);
	return 0;
}

/* Run one rule over the points of one key (a metric's state). */
static int
rules_eval_key(struct rules_job *j, const struct conf_rule *rule, const struct rules_point *pts,
               size_t n)
{
	const char *key = pts[0].key;
	struct rule_params p;
	struct rule_state s;
	struct rule_event ev, fire_ev, last_ev = {0};
	cJSON *of_rule = cJSON_GetObjectItemCaseSensitive(j->states, rule->name);
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(of_rule, key);
	char saved[RULE_STATE_TEXT_MAX];
	bool fired = false;
	int rc = 0;

	if (rule_state_load(&s, cJSON_IsString(text) ? text->valuestring : NULL) < 0)
		rule_state_init(&s); /* none yet, or written by another version */
	rule_params_init(&p, rule, key);
	for (size_t i = 0; i < n && rc >= 0; i++) {
		enum rule_verdict v =
		        rule_eval(&p, &s, pts[i].role, pts[i].step, pts[i].value, j->now, &ev);
		if (v == RULE_NONE)
			continue;
		last_ev = ev;
		if (v == RULE_FIRE) {
			fire_ev = ev;
			fired = true;
		}
		if (!j->final)
			rc = rules_apply(j, rule, key, v, &ev);
	}
	if (rc >= 0 && j->final && last_ev.message[0])
		rc = rules_apply_final(j, rule, key, &s, fired, &fire_ev, &last_ev);
	if (rc < 0)
		return rc;
	rule_state_save(&s, saved, sizeof(saved));
	if (!cJSON_IsObject(of_rule)) {
		cJSON_DeleteItemFromObjectCaseSensitive(j->states, rule->name);
		of_rule = cJSON_AddObjectToObject(j->states, rule->name);
	}
	if (cJSON_GetObjectItemCaseSensitive(of_rule, key))
		cJSON_ReplaceItemInObjectCaseSensitive(of_rule, key, cJSON_CreateString(saved));
	else
		cJSON_AddItemToObject(of_rule, key, cJSON_CreateString(saved));
	return 0;
}

static int
rules_eval_rule(struct rules_job *j, const struct conf_rule *rule, const struct ingest_batch *b)
{
	size_t n = rules_collect(j->r, rule, b, j->id), start = 0;
	int rc = 0;

	for (size_t i = 1; i <= n && rc >= 0; i++)
		if (i == n || strcmp(j->r->pts[i].key, j->r->pts[start].key) != 0) {
			rc = rules_eval_key(j, rule, j->r->pts + start, i - start);
			start = i;
		}
	return rc;
}

/* What a finished job's firing alerts of these types still mean: nothing. */
static bool
rules_ends_with_job(enum conf_rule_type t)
{
	return t == CONF_RULE_STALE || t == CONF_RULE_SPIKE || t == CONF_RULE_PLATEAU ||
	       t == CONF_RULE_THRESHOLD;
}

static const struct conf_rule *
rules_find(const struct rules *r, const char *name)
{
	for (size_t i = 0; i < r->conf->nrules; i++)
		if (strcmp(r->conf->rules[i].name, name) == 0)
			return &r->conf->rules[i];
	return NULL;
}

/* Resolve the firing alerts of the given kind: a stale one because points
 * arrived, or those a finished job ends (rules_ends_with_job). */
static int
rules_resolve_kind(struct rules_job *j, bool finished)
{
	struct rule_event ev = {.step = -1, .value = NAN};
	int rc = 0;

	snprintf(ev.message, sizeof(ev.message), "%s",
	         finished ? "the job finished" : "new points arrived");
	for (size_t i = j->nopen; i-- > 0 && rc >= 0;) {
		const struct conf_rule *rule = rules_find(j->r, j->open[i].rule);
		if (rule == NULL)
			continue; /* no longer configured: left as it was */
		if (finished ? rules_ends_with_job(rule->type) : rule->type == CONF_RULE_STALE)
			rc = rules_resolve(j, rule, NULL, &ev);
	}
	return rc;
}

static void
rules_job_clear(struct rules_job *j)
{
	cJSON_Delete(j->states);
	store_job_brief_clear(&j->brief);
	free(j->name);
	store_alerts_open_free(j->open, j->nopen);
}

static int
rules_job_open(struct rules *r, struct store *st, int64_t job_id, struct rules_job *j)
{
	int rc;

	*j = (struct rules_job){.r = r, .st = st, .id = job_id, .now = clock_now(r->clk)};
	if ((rc = store_job_brief(st, job_id, &j->brief)) < 0 ||
	    (rc = store_alerts_firing(st, job_id, &j->open, &j->nopen)) < 0) {
		rules_job_clear(j);
		return rc;
	}
	j->name = xasprintf("%s/%s", j->brief.source, j->brief.external_id);
	j->final = ingest_status_final(j->brief.status);
	return 0;
}

/* The job's row of rule_state: read once, written once per step. */
static int
rules_states_load(struct rules_job *j)
{
	char *text = NULL;
	int rc = store_rule_state_get(j->st, j->id, &text);

	if (rc < 0)
		return rc;
	j->states = text ? cJSON_Parse(text) : NULL;
	free(text);
	if (!cJSON_IsObject(j->states)) { /* none yet, or unreadable: start afresh */
		cJSON_Delete(j->states);
		j->states = cJSON_CreateObject();
	}
	return 0;
}

static int
rules_states_save(struct rules_job *j)
{
	char *text = cJSON_PrintUnformatted(j->states);
	int rc = store_rule_state_put(j->st, j->id, text, j->now);

	free(text);
	return rc;
}

static int
rules_job(struct rules *r, struct store *st, const struct ingest_batch *b, int64_t job_id,
          bool points, bool finished)
{
	struct rules_job j;
	int rc;

	if ((rc = rules_job_open(r, st, job_id, &j)) < 0)
		return rc;
	if (points &&
	    ((rc = rules_states_load(&j)) < 0 || (rc = rules_resolve_kind(&j, false)) < 0))
		goto out;
	for (size_t i = 0; points && i < r->conf->nrules && rc >= 0; i++) {
		const struct conf_rule *rule = &r->conf->rules[i];
		if (rule->type != CONF_RULE_STALE && rules_applies(rule, &j))
			rc = rules_eval_rule(&j, rule, b);
	}
	if (rc >= 0 && points)
		rc = rules_states_save(&j);
	if (rc >= 0 && finished)
		rc = rules_resolve_kind(&j, true);
out:
	rules_job_clear(&j);
	return rc;
}

static bool
rules_has_points(const struct ingest_batch *b, int64_t job_id)
{
	for (size_t i = 0; i < b->npoints; i++)
		if (b->points[i].job_id == job_id)
			return true;
	return false;
}

static bool
rules_finished(const struct ingest_batch *b, int64_t job_id)
{
	for (size_t i = 0; i < b->nchanges; i++)
		if (b->changes[i].job_id == job_id && b->changes[i].finished)
			return true;
	return false;
}

static int
rules_txn_cb(void *data, struct store *st, const struct ingest_batch *b)
{
	struct rules *r = data;
	int rc = 0;

	if (b->npoints == 0 && b->nchanges == 0)
		return 0;
	for (size_t i = 0; i < b->njobs && rc >= 0; i++) {
		bool points = rules_has_points(b, b->job_ids[i]);
		bool finished = rules_finished(b, b->job_ids[i]);
		if (points || finished)
			rc = rules_job(r, st, b, b->job_ids[i], points, finished);
	}
	return rc;
}

/* ---- stale: a timer, through an ingest step of its own ---- */

static int
rules_stale_job(struct rules *r, const struct conf_rule *rule, int64_t job_id)
{
	struct rules_job j;
	struct rule_event ev = {.step = -1, .value = NAN};
	int rc;

	if ((rc = rules_job_open(r, r->st, job_id, &j)) < 0)
		return rc;
	if (rules_applies(rule, &j)) {
		snprintf(ev.message, sizeof(ev.message), "no new points for %llus",
		         (unsigned long long)(rule->stale_after_ms / 1000));
		rc = rules_fire(&j, rule, NULL, &ev);
	}
	rules_job_clear(&j);
	return rc;
}

static int
rules_stale_rule(struct rules *r, const struct conf_rule *rule, int64_t now)
{
	int64_t *ids;
	size_t n;
	int rc = store_jobs_quiet(r->st, rule->name, now - (int64_t)(rule->stale_after_ms / 1000),
	                          &ids, &n);

	for (size_t i = 0; i < n && rc >= 0; i++)
		rc = rules_stale_job(r, rule, ids[i]);
	free(ids);
	return rc;
}

static void
rules_stale_cb(uv_timer_t *t)
{
	struct rules *r = t->data;
	int64_t now = clock_now(r->clk);
	int rc;

	if (ingest_begin(r->in) < 0)
		return; /* a step is open: the next tick */
	rc = 0;
	for (size_t i = 0; i < r->conf->nrules && rc >= 0; i++)
		if (r->conf->rules[i].type == CONF_RULE_STALE && r->conf->rules[i].enabled)
			rc = rules_stale_rule(r, &r->conf->rules[i], now);
	if (rc >= 0)
		rc = ingest_commit(r->in);
	else
		ingest_rollback(r->in);
	if (rc < 0)
		log_warn("rules: stale check failed: %s", ingest_errmsg(r->in));
}

static void
rules_stale_arm(struct rules *r)
{
	uint64_t ms = 0;

	for (size_t i = 0; i < r->conf->nrules; i++) {
		const struct conf_rule *c = &r->conf->rules[i];
		if (c->type == CONF_RULE_STALE && c->enabled &&
		    (ms == 0 || c->stale_after_ms / 4 < ms))
			ms = c->stale_after_ms / 4;
	}
	uv_timer_stop(&r->stale_timer);
	if (ms == 0)
		return;
	ms = ms < RULES_STALE_MIN_MS   ? RULES_STALE_MIN_MS
	     : ms > RULES_STALE_MAX_MS ? RULES_STALE_MAX_MS
	                               : ms;
	uv_timer_start(&r->stale_timer, rules_stale_cb, ms, ms);
}

/* ---- actions: after the commit, each marked 'sent' before it is asked ---- */

static int
rules_action_mark(struct rules *r, int64_t alert_id, const char *state, const char *result)
{
	int rc;

	if ((rc = ingest_begin(r->in)) < 0)
		return rc;
	if ((rc = store_alert_set_action(r->st, alert_id, state, result)) < 0) {
		ingest_rollback(r->in);
		return rc;
	}
	return ingest_commit(r->in);
}

static void
rules_action_cb(uv_timer_t *t)
{
	struct rules *r = t->data;
	struct store_alert_action *a;
	size_t n;

	r->actions_due = false;
	if (store_alerts_with_action(r->st, "pending", &a, &n) < 0) {
		log_warn("rules: reading pending actions failed: %s", store_errmsg(r->st));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (rules_action_mark(r, a[i].id, "sent", NULL) < 0) {
			log_warn("rules: alert %lld: recording its action failed: %s",
			         (long long)a[i].id, ingest_errmsg(r->in));
			break; /* not sent: the next commit or start tries again */
		}
		log_info("rules: alert %lld: asking to %s job %lld", (long long)a[i].id,
		         a[i].action, (long long)a[i].job_id);
		r->act(r->act_data, a[i].id, a[i].job_id, a[i].action);
	}
	store_alert_actions_free(a, n);
}

static void
rules_actions_soon(struct rules *r)
{
	if (!r->actions_due && r->act) {
		r->actions_due = true;
		uv_timer_start(&r->action_timer, rules_action_cb, 0, 0);
	}
}

static void
rules_commit_cb(void *data, const struct ingest_batch *b)
{
	struct rules *r = data;

	(void)b;
	if (r->step_actions)
		rules_actions_soon(r);
	r->step_actions = false;
}

void
rules_action_done(struct rules *r, int64_t alert_id, int rc, const char *result)
{
	if (rules_action_mark(r, alert_id, rc == 0 ? "done" : "failed", result) < 0)
		log_warn("rules: alert %lld: recording the action's outcome failed: %s",
		         (long long)alert_id, ingest_errmsg(r->in));
}

/* 'sent' at start: the last run stopped between asking and the answer. */
static void
rules_actions_orphaned(struct rules *r)
{
	struct store_alert_action *a;
	size_t n;

	if (store_alerts_with_action(r->st, "sent", &a, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		log_warn("rules: alert %lld: the daemon stopped before the %s request was answered;"
		         " not sent again",
		         (long long)a[i].id, a[i].action);
		rules_action_mark(r, a[i].id, "failed",
		                  "unknown: the daemon stopped before the answer; not sent again");
	}
	store_alert_actions_free(a, n);
}

/* ---- lifecycle ---- */

struct rules *
rules_new(uv_loop_t *loop, struct ingest *in, struct store *st, const struct clock *clk,
          const struct conf *conf, rules_act_fn act, void *act_data)
{
	struct rules *r = xcalloc(1, sizeof(*r));

	*r = (struct rules){.loop = loop,
	                    .in = in,
	                    .st = st,
	                    .clk = clk,
	                    .conf = conf,
	                    .act = act,
	                    .act_data = act_data};
	uv_timer_init(loop, &r->stale_timer);
	uv_timer_init(loop, &r->action_timer);
	r->stale_timer.data = r->action_timer.data = r;
	r->open_handles = 2;
	ingest_observe_txn(in, rules_txn_cb, r);
	ingest_observe_commit(in, rules_commit_cb, r);
	return r;
}

void
rules_start(struct rules *r)
{
	r->started = true;
	rules_actions_orphaned(r);
	rules_actions_soon(r);
	rules_stale_arm(r);
}

void
rules_set_conf(struct rules *r, const struct conf *conf)
{
	r->conf = conf;
	if (r->started)
		rules_stale_arm(r);
}

static void
rules_close_cb(uv_handle_t *h)
{
	struct rules *r = h->data;

	if (--r->open_handles == 0) {
		free(r->pts);
		free(r);
	}
}

void
rules_free(struct rules *r)
{
	if (r == NULL)
		return;
	ingest_unobserve_txn(r->in, rules_txn_cb, r);
	ingest_unobserve_commit(r->in, rules_commit_cb, r);
	uv_close((uv_handle_t *)&r->stale_timer, rules_close_cb);
	uv_close((uv_handle_t *)&r->action_timer, rules_close_cb);
}
