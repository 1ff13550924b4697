/*
 * store_deliveries: the rows the notifier reads and writes (store.h,
 * "hooks").  Statements are prepared per call: the notifier runs a few
 * per delivery, and a statement cached across store_reopen() would name
 * the closed connection.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_internal.h"
#include "xmalloc.h"

#define STORE_HOOK_TYPES \
	"('job.discovered', 'job.status', 'job.finished', 'alert.fired', 'alert.resolved')"

static sqlite3_stmt *
store_dl_prepare(struct store *st, const char *sql, int *rc)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (store_db(st) == NULL) {
		*rc = store_rc(st, SQLITE_CANTOPEN);
		return NULL;
	}
	r = sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL);
	*rc = r == SQLITE_OK ? 0 : store_rc(st, r);
	return s;
}

/* Finish a statement stepped to its end: 0, or the error of r. */
static int
store_dl_finish(struct store *st, sqlite3_stmt *s, int r)
{
	sqlite3_finalize(s);
	return r == SQLITE_DONE || r == SQLITE_ROW ? 0 : store_rc(st, r);
}

static char *
store_dl_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? xstrdup((const char *)t) : NULL;
}

static int64_t
store_dl_int(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, i);
}

static double
store_dl_real(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN : sqlite3_column_double(s, i);
}

/* ---- events ---- */

int
store_events_max_id(struct store *st, int64_t *id)
{
	int rc, r;
	sqlite3_stmt *s = store_dl_prepare(st, "SELECT coalesce(max(id), 0) FROM events", &rc);

	*id = 0;
	if (s == NULL)
		return rc;
	if ((r = sqlite3_step(s)) == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	return store_dl_finish(st, s, r);
}

/* Only the hookable rows are read (the events_type index): a step that
 * stored thousands of API message events costs the notifier nothing. */
int
store_hook_events_after(struct store *st, int64_t after, size_t limit,
                        struct store_hook_event **out, size_t *n, int64_t *max_id)
{
	int rc, r;
	int64_t top;
	sqlite3_stmt *s;

	*out = NULL;
	*n = 0;
	*max_id = after;
	if ((rc = store_events_max_id(st, &top)) < 0)
		return rc;
	s = store_dl_prepare(st,
	                     "SELECT id, job_id, created_at, type, data FROM events "
	                     "WHERE type IN " STORE_HOOK_TYPES " AND id > ?1 AND id <= ?2 "
	                     "ORDER BY id LIMIT ?3",
	                     &rc);
	if (s == NULL)
		return rc;
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int64(s, 2, top);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)limit);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_hook_event *e;
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		e = &(*out)[(*n)++];
		e->id = sqlite3_column_int64(s, 0);
		e->job_id = sqlite3_column_int64(s, 1);
		e->created_at = sqlite3_column_int64(s, 2);
		e->type = store_dl_text(s, 3);
		e->data = store_dl_text(s, 4);
	}
	if ((rc = store_dl_finish(st, s, r)) < 0)
		return rc;
	/* A full batch may have more after it; otherwise everything up to
	 * the top has been seen. */
	*max_id = *n == limit ? (*out)[*n - 1].id : (top > after ? top : after);
	return 0;
}

void
store_hook_events_free(struct store_hook_event *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].type);
		free(v[i].data);
	}
	free(v);
}

/* ---- jobs and alerts as payloads show them ---- */

static int
store_job_row_metrics(struct store *st, int64_t job_id, struct store_job_row *out)
{
	int rc, r;
	sqlite3_stmt *s = store_dl_prepare(st,
	                                   "SELECT m.name, l.value FROM latest_metrics l "
	                                   "JOIN metric_names m ON m.id = l.metric_id "
	                                   "WHERE l.job_id = ?1 ORDER BY m.name LIMIT 64",
	                                   &rc);

	if (s == NULL)
		return rc;
	sqlite3_bind_int64(s, 1, job_id);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		size_t i = out->nmetrics++;
		out->metric_names = xreallocarray(out->metric_names, i + 1, sizeof(char *));
		out->metric_values = xreallocarray(out->metric_values, i + 1, sizeof(double));
		out->metric_names[i] = store_dl_text(s, 0);
		out->metric_values[i] = store_dl_real(s, 1);
	}
	return store_dl_finish(st, s, r);
}

int
store_job_row_get(struct store *st, int64_t job_id, struct store_job_row *out)
{
	int rc, r;
	sqlite3_stmt *s = store_dl_prepare(st,
	                                   "SELECT source, external_id, status, model, "
	                                   "fine_tuned_model, last_step, total_steps "
	                                   "FROM jobs WHERE id = ?1",
	                                   &rc);

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return rc;
	sqlite3_bind_int64(s, 1, job_id);
	if ((r = sqlite3_step(s)) != SQLITE_ROW) {
		rc = store_dl_finish(st, s, r);
		return rc < 0 ? rc : -ENOENT;
	}
	out->source = store_dl_text(s, 0);
	out->external_id = store_dl_text(s, 1);
	out->status = store_dl_text(s, 2);
	out->model = store_dl_text(s, 3);
	out->fine_tuned_model = store_dl_text(s, 4);
	out->last_step = store_dl_int(s, 5);
	out->total_steps = store_dl_int(s, 6);
	sqlite3_finalize(s);
	return store_job_row_metrics(st, job_id, out);
}

void
store_job_row_clear(struct store_job_row *r)
{
	free(r->source);
	free(r->external_id);
	free(r->status);
	free(r->model);
	free(r->fine_tuned_model);
	for (size_t i = 0; i < r->nmetrics; i++)
		free(r->metric_names[i]);
	free(r->metric_names);
	free(r->metric_values);
	memset(r, 0, sizeof(*r));
}

int
store_alert_row_get(struct store *st, int64_t alert_id, struct store_alert_row *out)
{
	int rc, r;
	sqlite3_stmt *s = store_dl_prepare(st,
	                                   "SELECT rule, metric, state, message, value, step, "
	                                   "fired_at, resolved_at, acked FROM alerts WHERE id = ?1",
	                                   &rc);

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return rc;
	sqlite3_bind_int64(s, 1, alert_id);
	if ((r = sqlite3_step(s)) != SQLITE_ROW) {
		rc = store_dl_finish(st, s, r);
		return rc < 0 ? rc : -ENOENT;
	}
	out->id = alert_id;
	out->rule = store_dl_text(s, 0);
	out->metric = store_dl_text(s, 1);
	out->state = store_dl_text(s, 2);
	out->message = store_dl_text(s, 3);
	out->value = store_dl_real(s, 4);
	out->step = store_dl_int(s, 5);
	out->fired_at = store_dl_int(s, 6);
	out->resolved_at = store_dl_int(s, 7);
	out->acked = sqlite3_column_int(s, 8) != 0;
	sqlite3_finalize(s);
	return 0;
}

void
store_alert_row_clear(struct store_alert_row *r)
{
	free(r->rule);
	free(r->metric);
	free(r->state);
	free(r->message);
	memset(r, 0, sizeof(*r));
}

/* ---- deliveries ---- */

int
store_delivery_insert(struct store *st, const char *event_id, const char *hook, const char *event,
                      const char *payload, int64_t alert_id, int64_t now)
{
	int rc, r;
	sqlite3_stmt *s;

	if (!store_in_transaction(st))
		return -EINVAL;
	s = store_dl_prepare(st,
	                     "INSERT OR IGNORE INTO deliveries (event_id, hook, event, payload, "
	                     "alert_id, next_attempt_at, created_at, updated_at) "
	                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6)",
	                     &rc);
	if (s == NULL)
		return rc;
	sqlite3_bind_text(s, 1, event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, event, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, payload, -1, SQLITE_STATIC);
	if (alert_id > 0)
		sqlite3_bind_int64(s, 5, alert_id);
	sqlite3_bind_int64(s, 6, now);
	r = sqlite3_step(s);
	if ((rc = store_dl_finish(st, s, r)) < 0)
		return rc;
	return sqlite3_changes(store_db(st)) > 0 ? 1 : 0;
}

int
store_deliveries_due(struct store *st, const char *hook, int64_t now, size_t limit,
                     struct store_delivery **out, size_t *n)
{
	int rc, r;
	sqlite3_stmt *s = store_dl_prepare(st,
	                                   "SELECT rowid, event_id, event, payload, attempts, "
	                                   "coalesce(alert_id, 0) FROM deliveries "
	                                   "WHERE hook = ?1 AND state = 'pending' AND "
	                                   "next_attempt_at <= ?2 "
	                                   "ORDER BY next_attempt_at, rowid LIMIT ?3",
	                                   &rc);

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return rc;
	sqlite3_bind_text(s, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)limit);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_delivery *d;
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		d = &(*out)[(*n)++];
		d->rowid = sqlite3_column_int64(s, 0);
		d->event_id = store_dl_text(s, 1);
		d->event = store_dl_text(s, 2);
		d->payload = store_dl_text(s, 3);
		d->attempts = (unsigned)sqlite3_column_int(s, 4);
		d->alert_id = sqlite3_column_int64(s, 5);
	}
	return store_dl_finish(st, s, r);
}

void
store_deliveries_free(struct store_delivery *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].event_id);
		free(v[i].event);
		free(v[i].payload);
	}
	free(v);
}

int
store_delivery_next(struct store *st, const char *hook, int64_t *at)
{
	int rc, r, found = 0;
	sqlite3_stmt *s = store_dl_prepare(st,
	                                   "SELECT min(next_attempt_at) FROM deliveries "
	                                   "WHERE hook = ?1 AND state = 'pending'",
	                                   &rc);

	if (s == NULL)
		return rc;
	sqlite3_bind_text(s, 1, hook, -1, SQLITE_STATIC);
	if ((r = sqlite3_step(s)) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*at = sqlite3_column_int64(s, 0);
		found = 1;
	}
	rc = store_dl_finish(st, s, r);
	return rc < 0 ? rc : found;
}

int
store_delivery_set(struct store *st, int64_t rowid, const char *state, unsigned attempts,
                   const char *last_error, int64_t next_at, int64_t now)
{
	int rc;
	sqlite3_stmt *s;

	if (!store_in_transaction(st))
		return -EINVAL;
	s = store_dl_prepare(st,
	                     "UPDATE deliveries SET state = ?2, attempts = ?3, last_error = ?4, "
	                     "next_attempt_at = ?5, updated_at = ?6 WHERE rowid = ?1",
	                     &rc);
	if (s == NULL)
		return rc;
	sqlite3_bind_int64(s, 1, rowid);
	sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, (int)attempts);
	if (last_error)
		sqlite3_bind_text(s, 4, last_error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, next_at);
	sqlite3_bind_int64(s, 6, now);
	return store_dl_finish(st, s, sqlite3_step(s));
}

cJSON *
store_query_hook(struct store *st, const char *hook, int *rc)
{
	sqlite3_stmt *s = store_dl_prepare(
	        st,
	        "SELECT sum(state = 'pending'), sum(state = 'failed' AND "
	        "coalesce(last_error, '') NOT LIKE 'skipped:%'), sum(state = 'delivered'), "
	        "sum(state = 'failed' AND last_error LIKE 'skipped:%'), "
	        "(SELECT last_error FROM deliveries WHERE hook = ?1 AND last_error IS NOT NULL "
	        " ORDER BY updated_at DESC, rowid DESC LIMIT 1) "
	        "FROM deliveries WHERE hook = ?1",
	        rc);
	static const char *const names[] = {"pending", "failed", "delivered", "skipped"};
	cJSON *o;
	int r;

	if (s == NULL)
		return NULL;
	sqlite3_bind_text(s, 1, hook, -1, SQLITE_STATIC);
	if ((r = sqlite3_step(s)) != SQLITE_ROW) {
		*rc = store_dl_finish(st, s, r);
		return NULL;
	}
	o = cJSON_CreateObject();
	for (int i = 0; i < 4; i++)
		cJSON_AddNumberToObject(o, names[i], (double)sqlite3_column_int64(s, i));
	if (sqlite3_column_type(s, 4) == SQLITE_TEXT)
		cJSON_AddStringToObject(o, "last_error", (const char *)sqlite3_column_text(s, 4));
	else
		cJSON_AddNullToObject(o, "last_error");
	sqlite3_finalize(s);
	*rc = 0;
	return o;
}
