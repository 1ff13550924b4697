/*
 * store_alerts: what the rules engine and the alert commands read and
 * write (see store.h).  Statements are prepared per call: the engine
 * calls these a few times per ingest step, not per point.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_internal.h"
#include "xmalloc.h"

/* One slot of the store's lazy statements per query here. */
enum {
	SA_BRIEF,
	SA_STATE_GET,
	SA_STATE_PUT,
	SA_FIRING,
	SA_FIRE,
	SA_RESOLVE,
	SA_ACKED,
	SA_ACK,
	SA_SET_ACTION,
	SA_WITH_ACTION,
	SA_QUIET,
	SA_BEST,
	SA_CKPT_AT,
};

static sqlite3_stmt *
store_alerts_prepare_slot(struct store *st, int slot, const char *sql, int *rc)
{
	return store_lazy(st, slot, sql, rc);
}

/* Done with a statement: ready for its next use. */
static void
store_alerts_release(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

static void
store_alerts_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static char *
store_alerts_col(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? xstrdup((const char *)t) : NULL;
}

/* Step a write statement to its end and finalize it. */
static int
store_alerts_done(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	store_alerts_release(s);
	return rc == SQLITE_DONE ? 0 : store_rc(st, rc);
}

/* A write: prepared only inside a transaction. */
static sqlite3_stmt *
store_alerts_write_slot(struct store *st, int slot, const char *sql, int *rc)
{
	if (!store_in_transaction(st)) {
		*rc = -EINVAL;
		return NULL;
	}
	return store_alerts_prepare_slot(st, slot, sql, rc);
}

void
store_job_brief_clear(struct store_job_brief *b)
{
	free(b->source);
	free(b->external_id);
	free(b->status);
	*b = (struct store_job_brief){0};
}

int
store_job_brief(struct store *st, int64_t job_id, struct store_job_brief *out)
{
	int rc;
	sqlite3_stmt *s = store_alerts_prepare_slot(
	        st, SA_BRIEF, "SELECT source, external_id, status FROM jobs WHERE id = ?1", &rc);

	*out = (struct store_job_brief){0};
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(s, 1, job_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->source = store_alerts_col(s, 0);
		out->external_id = store_alerts_col(s, 1);
		out->status = store_alerts_col(s, 2);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : store_rc(st, rc);
	}
	store_alerts_release(s);
	return rc;
}

int
store_rule_state_get(struct store *st, int64_t job_id, char **text)
{
	int rc;
	sqlite3_stmt *s = store_alerts_prepare_slot(
	        st, SA_STATE_GET, "SELECT state FROM rule_state WHERE job_id = ?1", &rc);

	*text = NULL;
	if (s == NULL)
		return rc;
	sqlite3_bind_int64(s, 1, job_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*text = store_alerts_col(s, 0);
		rc = *text != NULL;
	} else {
		rc = rc == SQLITE_DONE ? 0 : store_rc(st, rc);
	}
	store_alerts_release(s);
	return rc;
}

int
store_rule_state_put(struct store *st, int64_t job_id, const char *text, int64_t now)
{
	int rc;
	sqlite3_stmt *s = store_alerts_write_slot(
	        st, SA_STATE_PUT,
	        "INSERT OR REPLACE INTO rule_state (job_id, last_point_at, state) VALUES (?1, ?2, ?3)",
	        &rc);

	if (s == NULL)
		return rc;
	sqlite3_bind_int64(s, 1, job_id);
	sqlite3_bind_int64(s, 2, now);
	store_alerts_text(s, 3, text);
	return store_alerts_done(st, s);
}

void
store_alerts_open_free(struct store_alert_open *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].rule);
		free(a[i].metric);
	}
	free(a);
}

int
store_alerts_firing(struct store *st, int64_t job_id, struct store_alert_open **out, size_t *n)
{
	int rc;
	size_t cap = 0;
	sqlite3_stmt *s = store_alerts_prepare_slot(
	        st, SA_FIRING,
	        "SELECT id, rule, metric FROM alerts WHERE job_id = ?1 AND state = 'firing'"
	        " ORDER BY id",
	        &rc);

	*out = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(s, 1, job_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap)
			*out = xreallocarray(*out, cap = cap ? cap * 2 : 4, sizeof(**out));
		(*out)[*n] = (struct store_alert_open){
		        sqlite3_column_int64(s, 0), store_alerts_col(s, 1), store_alerts_col(s, 2)};
		(*n)++;
	}
	store_alerts_release(s);
	if (rc != SQLITE_DONE) {
		store_alerts_open_free(*out, *n);
		*out = NULL;
		*n = 0;
		return store_rc(st, rc);
	}
	return 0;
}

int
store_alert_fire(struct store *st, const struct store_alert_new *a, int64_t *alert_id)
{
	int rc;
	sqlite3_stmt *s = store_alerts_write_slot(
	        st, SA_FIRE,
	        "INSERT INTO alerts (job_id, source, job, rule, metric, state, value, step, message,"
	        " fired_at, action, best_checkpoint, action_state)"
	        " SELECT id, source, external_id, ?2, ?3, 'firing', ?4, ?5, ?6, ?7, ?8, ?9,"
	        " CASE WHEN ?8 IS NULL THEN NULL ELSE 'pending' END FROM jobs WHERE id = ?1",
	        &rc);

	if (s == NULL)
		return rc;
	sqlite3_bind_int64(s, 1, a->job_id);
	store_alerts_text(s, 2, a->rule);
	store_alerts_text(s, 3, a->metric);
	if (isfinite(a->value))
		sqlite3_bind_double(s, 4, a->value);
	else
		sqlite3_bind_null(s, 4);
	if (a->step >= 0)
		sqlite3_bind_int64(s, 5, a->step);
	else
		sqlite3_bind_null(s, 5);
	store_alerts_text(s, 6, a->message);
	sqlite3_bind_int64(s, 7, a->now);
	store_alerts_text(s, 8, a->action);
	store_alerts_text(s, 9, a->best_checkpoint);
	if ((rc = store_alerts_done(st, s)) < 0)
		return rc;
	if (sqlite3_changes(store_db(st)) == 0)
		return -ENOENT;
	*alert_id = sqlite3_last_insert_rowid(store_db(st));
	return 0;
}

int
store_alert_resolve(struct store *st, int64_t alert_id, int64_t now)
{
	int rc;
	sqlite3_stmt *s =
	        store_alerts_write_slot(st, SA_RESOLVE,
	                                "UPDATE alerts SET state = 'resolved', resolved_at = ?2"
	                                " WHERE id = ?1 AND state = 'firing'",
	                                &rc);

	if (s == NULL)
		return rc;
	sqlite3_bind_int64(s, 1, alert_id);
	sqlite3_bind_int64(s, 2, now);
	return store_alerts_done(st, s);
}

int
store_alert_ack(struct store *st, int64_t alert_id)
{
	int rc, acked = -1;
	sqlite3_stmt *s = store_alerts_write_slot(st, SA_ACKED,
	                                          "SELECT acked FROM alerts WHERE id = ?1", &rc);

	if (s == NULL)
		return rc;
	sqlite3_bind_int64(s, 1, alert_id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		acked = sqlite3_column_int(s, 0);
	store_alerts_release(s);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? -ENOENT : store_rc(st, rc);
	if (acked)
		return 0;
	if ((s = store_alerts_prepare_slot(st, SA_ACK, "UPDATE alerts SET acked = 1 WHERE id = ?1",
	                                   &rc)) == NULL)
		return rc;
	sqlite3_bind_int64(s, 1, alert_id);
	return (rc = store_alerts_done(st, s)) < 0 ? rc : 1;
}

int
store_alert_set_action(struct store *st, int64_t alert_id, const char *state, const char *result)
{
	int rc;
	sqlite3_stmt *s = store_alerts_write_slot(
	        st, SA_SET_ACTION,
	        "UPDATE alerts SET action_state = ?2, action_result = ?3 WHERE id = ?1", &rc);

	if (s == NULL)
		return rc;
	sqlite3_bind_int64(s, 1, alert_id);
	store_alerts_text(s, 2, state);
	store_alerts_text(s, 3, result);
	return store_alerts_done(st, s);
}

void
store_alert_actions_free(struct store_alert_action *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(a[i].action);
	free(a);
}

int
store_alerts_with_action(struct store *st, const char *state, struct store_alert_action **out,
                         size_t *n)
{
	int rc;
	size_t cap = 0;
	sqlite3_stmt *s = store_alerts_prepare_slot(
	        st, SA_WITH_ACTION,
	        "SELECT id, job_id, action FROM alerts WHERE action_state = ?1 ORDER BY id", &rc);

	*out = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	store_alerts_text(s, 1, state);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap)
			*out = xreallocarray(*out, cap = cap ? cap * 2 : 4, sizeof(**out));
		(*out)[(*n)++] = (struct store_alert_action){sqlite3_column_int64(s, 0),
		                                             sqlite3_column_int64(s, 1),
		                                             store_alerts_col(s, 2)};
	}
	store_alerts_release(s);
	if (rc != SQLITE_DONE) {
		store_alert_actions_free(*out, *n);
		*out = NULL;
		*n = 0;
		return store_rc(st, rc);
	}
	return 0;
}

int
store_jobs_quiet(struct store *st, const char *rule, int64_t before, int64_t **ids, size_t *n)
{
	int rc;
	size_t cap = 0;
	sqlite3_stmt *s = store_alerts_prepare_slot(
	        st, SA_QUIET,
	        "SELECT j.id FROM jobs j LEFT JOIN rule_state a ON a.job_id = j.id"
	        " WHERE j.status = 'running' AND j.tracked"
	        " AND coalesce(a.last_point_at, j.discovered_at) <= ?2"
	        " AND NOT EXISTS (SELECT 1 FROM alerts l WHERE l.job_id = j.id AND l.rule = ?1"
	        "  AND l.state = 'firing') ORDER BY j.id",
	        &rc);

	*ids = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	store_alerts_text(s, 1, rule);
	sqlite3_bind_int64(s, 2, before);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap)
			*ids = xreallocarray(*ids, cap = cap ? cap * 2 : 8, sizeof(**ids));
		(*ids)[(*n)++] = sqlite3_column_int64(s, 0);
	}
	store_alerts_release(s);
	if (rc != SQLITE_DONE) {
		free(*ids);
		*ids = NULL;
		*n = 0;
		return store_rc(st, rc);
	}
	return 0;
}

/* The lowest value of metric for the job: 1 with its step, or 0. */
static int
store_alerts_best_of(struct store *st, int64_t job_id, const char *metric, int64_t *step,
                     double *value)
{
	int rc;
	sqlite3_stmt *s = store_alerts_prepare_slot(
	        st, SA_BEST,
	        "SELECT p.step, p.value FROM points p JOIN metric_names m ON m.id = p.metric_id"
	        " WHERE p.job_id = ?1 AND m.name = ?2 AND p.value IS NOT NULL"
	        " ORDER BY p.value, p.step LIMIT 1",
	        &rc);

	if (rc < 0)
		return rc;
	sqlite3_bind_int64(s, 1, job_id);
	store_alerts_text(s, 2, metric);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*step = sqlite3_column_int64(s, 0);
		*value = sqlite3_column_double(s, 1);
		rc = 1;
	} else {
		rc = rc == SQLITE_DONE ? 0 : store_rc(st, rc);
	}
	store_alerts_release(s);
	return rc;
}

/* The API's model name of the job's checkpoint at step, or NULL. */
static char *
store_alerts_checkpoint_at(struct store *st, int64_t job_id, int64_t step)
{
	int rc;
	char *model = NULL;
	sqlite3_stmt *s = store_alerts_prepare_slot(
	        st, SA_CKPT_AT,
	        "SELECT model FROM checkpoints WHERE job_id = ?1 AND step = ?2 LIMIT 1", &rc);

	if (rc < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, job_id);
	sqlite3_bind_int64(s, 2, step);
	if (sqlite3_step(s) == SQLITE_ROW)
		model = store_alerts_col(s, 0);
	store_alerts_release(s);
	return model;
}

cJSON *
store_best_checkpoint(struct store *st, int64_t job_id, int *rc)
{
	static const char *const metrics[] = {"full_valid_loss", "valid_loss"};
	int64_t step = 0;
	double value = 0;
	cJSON *o;
	char *model;

	for (size_t i = 0; i < 2; i++) {
		if ((*rc = store_alerts_best_of(st, job_id, metrics[i], &step, &value)) < 0)
			return NULL;
		if (*rc == 0)
			continue;
		*rc = 0;
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "step", (double)step);
		cJSON_AddStringToObject(o, "metric", metrics[i]);
		cJSON_AddNumberToObject(o, "value", value);
		model = store_alerts_checkpoint_at(st, job_id, step);
		cJSON_AddItemToObject(o, "checkpoint",
		                      model ? cJSON_CreateString(model) : cJSON_CreateNull());
		free(model);
		return o;
	}
	return NULL;
}
