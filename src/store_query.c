/*
 * store_query: read-side queries that answer the control socket, each
 * building a cJSON value.  Reads never open a write transaction.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "buf.h"
#include "downsample.h"
#include "jsonw.h"
#include "store.h"
#include "store_internal.h"
#include "xmalloc.h"

/* Add column i as a JSON value of the natural type (NULL → null). */
void
store_query_add_column(cJSON *obj, const char *name, sqlite3_stmt *s, int i)
{
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_INTEGER:
		cJSON_AddNumberToObject(obj, name, (double)sqlite3_column_int64(s, i));
		break;
	case SQLITE_FLOAT:
		cJSON_AddNumberToObject(obj, name, sqlite3_column_double(s, i));
		break;
	case SQLITE_TEXT:
		cJSON_AddStringToObject(obj, name, (const char *)sqlite3_column_text(s, i));
		break;
	default:
		cJSON_AddNullToObject(obj, name);
	}
}

/* Build one object per row with keys from the column names. */
cJSON *
store_query_rows(struct store *st, sqlite3_stmt *s, int *rc)
{
	cJSON *arr = cJSON_CreateArray();
	int r;

	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		for (int i = 0; i < sqlite3_column_count(s); i++)
			store_query_add_column(o, sqlite3_column_name(s, i), s, i);
		cJSON_AddItemToArray(arr, o);
	}
	sqlite3_finalize(s);
	if (r != SQLITE_DONE) {
		cJSON_Delete(arr);
		*rc = store_rc(st, r);
		return NULL;
	}
	*rc = 0;
	return arr;
}

sqlite3_stmt *
store_query_prepare(struct store *st, const char *sql, int *rc)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (store_db(st) == NULL) { /* a reopen failed (store_reopen) */
		*rc = store_rc(st, SQLITE_CANTOPEN);
		return NULL;
	}
	r = sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL);
	*rc = r == SQLITE_OK ? 0 : store_rc(st, r);
	return s;
}

/* An alert as `alerts` and `job` show it (rules: action outcome, best
 * checkpoint as JSON text, inlined after the query). */
#define STORE_ALERT_COLUMNS                                                           \
	"id, source || '/' || job AS job, rule, metric, state, value, step, message," \
	" fired_at, resolved_at, acked, action, action_state, action_result, best_checkpoint"

static cJSON *
store_query_job_extra(struct store *st, int64_t job_id, const char *sql, int *rc)
{
	sqlite3_stmt *s = store_query_prepare(st, sql, rc);
	if (*rc < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, job_id);
	return store_query_rows(st, s, rc);
}

/* Replace a string member holding JSON text with the parsed value. */
static void
store_query_inline_json(cJSON *arr, const char *key)
{
	cJSON *o;
	cJSON_ArrayForEach (o, arr) {
		cJSON *v = cJSON_GetObjectItem(o, key);
		if (cJSON_IsString(v)) {
			cJSON *parsed = cJSON_Parse(v->valuestring);
			cJSON_ReplaceItemInObject(o, key, parsed ? parsed : cJSON_CreateNull());
		}
	}
}

cJSON *
store_query_job(struct store *st, int64_t job_id, int *rc)
{
	sqlite3_stmt *s = store_query_prepare(
	        st,
	        "SELECT " STORE_JOB_COLUMNS
	        ", j.error AS error, j.trained_tokens AS trained_tokens,"
	        " j.estimated_finish AS estimated_finish, j.discovered_at AS discovered_at"
	        " FROM jobs j WHERE j.id = ?1",
	        rc);
	cJSON *arr, *job, *extra;

	if (*rc < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, job_id);
	arr = store_query_rows(st, s, rc);
	if (arr == NULL)
		return NULL;
	if (cJSON_GetArraySize(arr) == 0) {
		cJSON_Delete(arr);
		*rc = -ENOENT;
		return NULL;
	}
	if ((*rc = store_query_attach_latest(st, arr)) < 0)
		goto fail;
	job = cJSON_DetachItemFromArray(arr, 0);
	cJSON_Delete(arr);
	extra = store_query_job_extra(
	        st, job_id,
	        "SELECT checkpoint_id AS id, step, model, created_at, metrics FROM checkpoints"
	        " WHERE job_id = ?1 ORDER BY step",
	        rc);
	if (extra == NULL) {
		cJSON_Delete(job);
		return NULL;
	}
	store_query_inline_json(extra, "metrics");
	cJSON_AddItemToObject(job, "checkpoints", extra);
	extra = store_query_job_extra(
	        st, job_id,
	        "SELECT " STORE_ALERT_COLUMNS " FROM alerts WHERE job_id = ?1 ORDER BY id", rc);
	if (extra == NULL) {
		cJSON_Delete(job);
		return NULL;
	}
	store_query_inline_json(extra, "best_checkpoint");
	cJSON_AddItemToObject(job, "alerts", extra);
	if ((*rc = store_query_bad_lines(st, job_id, job)) < 0) {
		cJSON_Delete(job);
		return NULL;
	}
	return job;
fail:
	cJSON_Delete(arr);
	return NULL;
}

/* Read one metric's points in step order into a growable array. */
static int
store_query_series(sqlite3_stmt *s, struct ds_point **pts, size_t *n)
{
	size_t cap = 0;
	int rc;

	*pts = NULL;
	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			*pts = xreallocarray(*pts, cap, sizeof(**pts));
		}
		(*pts)[*n].step = sqlite3_column_int64(s, 0);
		(*pts)[*n].value = sqlite3_column_type(s, 1) == SQLITE_NULL
		                           ? NAN
		                           : sqlite3_column_double(s, 1);
		(*n)++;
	}
	sqlite3_reset(s);
	return rc;
}

static cJSON *
store_query_points_json(const struct ds_point *p, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		cJSON *pair = cJSON_CreateArray();
		cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)p[i].step));
		/* JSON has no NaN: null stands for it, as in the database. */
		cJSON_AddItemToArray(pair, isnan(p[i].value) ? cJSON_CreateNull()
		                                             : cJSON_CreateNumber(p[i].value));
		cJSON_AddItemToArray(arr, pair);
	}
	return arr;
}

cJSON *
store_query_metrics(struct store *st, int64_t job_id, const char *const *metrics, int64_t since,
                    int64_t until, size_t max_points, cJSON *totals, int *rc)
{
	sqlite3_stmt *names = store_query_prepare(
	        st,
	        "SELECT DISTINCT m.id, m.name FROM latest_metrics l JOIN metric_names m"
	        " ON m.id = l.metric_id WHERE l.job_id = ?1 ORDER BY m.name",
	        rc);
	sqlite3_stmt *pts;
	cJSON *out;
	int r;

	if (*rc < 0)
		return NULL;
	pts = store_query_prepare(
	        st,
	        "SELECT step, value FROM points WHERE job_id = ?1 AND metric_id = ?2"
	        " AND step BETWEEN ?3 AND ?4 ORDER BY step",
	        rc);
	if (*rc < 0) {
		sqlite3_finalize(names);
		return NULL;
	}
	out = cJSON_CreateObject();
	sqlite3_bind_int64(names, 1, job_id);
	while ((r = sqlite3_step(names)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(names, 1);
		bool wanted = metrics == NULL;
		for (size_t i = 0; metrics && metrics[i]; i++)
			wanted |= strcmp(metrics[i], name) == 0;
		if (!wanted)
			continue;
		struct ds_point *p;
		size_t n;
		sqlite3_bind_int64(pts, 1, job_id);
		sqlite3_bind_int64(pts, 2, sqlite3_column_int64(names, 0));
		sqlite3_bind_int64(pts, 3, since);
		sqlite3_bind_int64(pts, 4, until);
		r = store_query_series(pts, &p, &n);
		if (r != SQLITE_DONE) {
			free(p);
			break;
		}
		if (totals != NULL)
			cJSON_AddNumberToObject(totals, name, (double)n);
		if (max_points > 0 && n > max_points) {
			/* downsample_minmax writes at least 2 points when n >= 2. */
			struct ds_point *d =
			        xreallocarray(NULL, max_points < 2 ? 2 : max_points, sizeof(*d));
			size_t m = downsample_minmax(p, n, d, max_points);
			free(p);
			p = d;
			n = m;
		}
		cJSON_AddItemToObject(out, name, store_query_points_json(p, n));
		free(p);
	}
	sqlite3_finalize(names);
	sqlite3_finalize(pts);
	if (r != SQLITE_DONE) {
		cJSON_Delete(out);
		*rc = store_rc(st, r);
		return NULL;
	}
	*rc = 0;
	return out;
}

cJSON *
store_query_metric_names(struct store *st, int64_t job_id, int *rc)
{
	sqlite3_stmt *s = store_query_prepare(
	        st,
	        "SELECT DISTINCT m.name FROM latest_metrics l JOIN metric_names m"
	        " ON m.id = l.metric_id WHERE l.job_id = ?1 ORDER BY m.name",
	        rc);
	cJSON *arr;
	int r;

	if (*rc < 0)
		return NULL;
	arr = cJSON_CreateArray();
	sqlite3_bind_int64(s, 1, job_id);
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		cJSON_AddItemToArray(arr,
		                     cJSON_CreateString((const char *)sqlite3_column_text(s, 0)));
	sqlite3_finalize(s);
	if (r != SQLITE_DONE) {
		cJSON_Delete(arr);
		*rc = store_rc(st, r);
		return NULL;
	}
	*rc = 0;
	return arr;
}

cJSON *
store_query_events(struct store *st, int64_t job_id, int64_t limit, int *rc)
{
	sqlite3_stmt *s = store_query_prepare(
	        st,
	        "SELECT id, created_at AS time, type, level, message, data FROM events"
	        " WHERE job_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2",
	        rc);
	cJSON *arr;

	if (*rc < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, job_id);
	sqlite3_bind_int64(s, 2, limit);
	arr = store_query_rows(st, s, rc);
	if (arr)
		store_query_inline_json(arr, "data");
	return arr;
}

cJSON *
store_query_alerts(struct store *st, bool all, int *rc)
{
	cJSON *arr;
	sqlite3_stmt *s =
	        store_query_prepare(st,
	                            "SELECT " STORE_ALERT_COLUMNS
	                            " FROM alerts WHERE ?1 OR state = 'firing' ORDER BY id",
	                            rc);
	if (*rc < 0)
		return NULL;
	sqlite3_bind_int(s, 1, all);
	arr = store_query_rows(st, s, rc);
	if (arr)
		store_query_inline_json(arr, "best_checkpoint");
	return arr;
}

/* Run a single-integer query. */
static int
store_query_count(struct store *st, const char *sql, int64_t *out)
{
	int rc;
	sqlite3_stmt *s = store_query_prepare(st, sql, &rc);
	if (rc < 0)
		return rc;
	rc = sqlite3_step(s);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : store_rc(st, rc);
}

/* {"jobs": {status: n}, "by_source": {source: {status: n}}} over the
 * tracked jobs, and "untracked": n, from one scan. */
static int
store_query_job_counts(struct store *st, cJSON *out)
{
	int rc;
	sqlite3_stmt *s = store_query_prepare(st,
	                                      "SELECT source, status, tracked, count(*) FROM jobs"
	                                      " GROUP BY source, status, tracked"
	                                      " ORDER BY source, status",
	                                      &rc);
	cJSON *jobs, *by_source;
	int64_t untracked = 0;

	if (rc < 0)
		return rc;
	jobs = cJSON_AddObjectToObject(out, "jobs");
	by_source = cJSON_AddObjectToObject(out, "by_source");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *source = (const char *)sqlite3_column_text(s, 0);
		const char *status = (const char *)sqlite3_column_text(s, 1);
		double n = (double)sqlite3_column_int64(s, 3);
		cJSON *src, *cur;
		if (!sqlite3_column_int(s, 2)) {
			untracked += (int64_t)n;
			continue;
		}
		if ((src = cJSON_GetObjectItemCaseSensitive(by_source, source)) == NULL)
			src = cJSON_AddObjectToObject(by_source, source);
		cJSON_AddNumberToObject(src, status, n);
		if ((cur = cJSON_GetObjectItemCaseSensitive(jobs, status)) != NULL)
			cJSON_SetNumberValue(cur, cur->valuedouble + n);
		else
			cJSON_AddNumberToObject(jobs, status, n);
	}
	sqlite3_finalize(s);
	cJSON_AddNumberToObject(out, "untracked", (double)untracked);
	return rc == SQLITE_DONE ? 0 : store_rc(st, rc);
}

cJSON *
store_query_counts(struct store *st, int *rc)
{
	cJSON *out = cJSON_CreateObject();
	int64_t n;

	if ((*rc = store_query_job_counts(st, out)) < 0)
		goto fail;
	if ((*rc = store_query_count(st, "SELECT count(*) FROM alerts WHERE state = 'firing'",
	                             &n)) < 0)
		goto fail;
	cJSON_AddNumberToObject(out, "alerts_firing", (double)n);
	if ((*rc = store_query_count(st, "SELECT count(*) FROM deliveries WHERE state = 'pending'",
	                             &n)) < 0)
		goto fail;
	cJSON_AddNumberToObject(out, "deliveries_pending", (double)n);
	return out;
fail:
	cJSON_Delete(out);
	return NULL;
}

/* Collect up to 5 matching job names for an "ambiguous" message. */
static int
store_job_match(struct store *st, const char *sql, const char *a, const char *b, int64_t *job_id,
                char **why)
{
	int rc;
	sqlite3_stmt *s = store_query_prepare(st, sql, &rc);
	struct buf names = BUF_INIT;
	int n = 0;

	if (rc < 0)
		return rc;
	sqlite3_bind_text(s, 1, a, -1, SQLITE_TRANSIENT);
	if (b)
		sqlite3_bind_text(s, 2, b, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n++ == 0)
			*job_id = sqlite3_column_int64(s, 0);
		if (n <= 5)
			buf_printf(&names, "%s%s", n > 1 ? ", " : "", sqlite3_column_text(s, 1));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		buf_free(&names);
		return store_rc(st, rc);
	}
	if (n > 1) {
		if (n > 5)
			buf_puts(&names, ", ...");
		*why = buf_steal(&names);
		return -EEXIST;
	}
	buf_free(&names);
	return n == 1 ? 0 : -ENOENT;
}

int
store_job_resolve(struct store *st, const char *spec, int64_t *job_id, char **why)
{
	const char *slash = strchr(spec, '/');
	int rc;

	*why = NULL;
	if (slash != NULL) {
		char *source = xstrndup(spec, (size_t)(slash - spec));
		rc = store_job_match(st,
		                     "SELECT id, source || '/' || external_id FROM jobs"
		                     " WHERE source = ?1 AND external_id = ?2",
		                     source, slash + 1, job_id, why);
		free(source);
		if (rc != -ENOENT)
			return rc;
	}
	rc = store_job_match(st,
	                     "SELECT id, source || '/' || external_id FROM jobs"
	                     " WHERE external_id = ?1 ORDER BY id",
	                     spec, NULL, job_id, why);
	if (rc != -ENOENT)
		return rc;
	/* A prefix: compare with substr so LIKE's wildcards in ids do not match. */
	return store_job_match(st,
	                       "SELECT id, source || '/' || external_id FROM jobs"
	                       " WHERE substr(external_id, 1, length(?1)) = ?1"
	                       " OR substr(source || '/' || external_id, 1, length(?1)) = ?1"
	                       " ORDER BY id",
	                       spec, NULL, job_id, why);
}

/* ---- live: watch streams ---- */

cJSON *
store_query_events_by_id(struct store *st, const int64_t *ids, size_t n, int *rc)
{
	sqlite3_stmt *s = store_query_prepare(
	        st,
	        "SELECT e.id AS id, e.job_id AS job_id, j.source || '/' || j.external_id AS job,"
	        " e.created_at AS time, e.type AS type, e.level AS level, e.message AS message,"
	        " e.data AS data FROM events e JOIN jobs j ON j.id = e.job_id WHERE e.id = ?1",
	        rc);
	cJSON *arr;
	int r = SQLITE_DONE;

	if (*rc < 0)
		return NULL;
	arr = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(s, 1, ids[i]);
		if ((r = sqlite3_step(s)) == SQLITE_ROW) {
			cJSON *o = cJSON_CreateObject();
			for (int c = 0; c < sqlite3_column_count(s); c++)
				store_query_add_column(o, sqlite3_column_name(s, c), s, c);
			cJSON_AddItemToArray(arr, o);
			r = sqlite3_step(s);
		}
		sqlite3_reset(s);
		if (r != SQLITE_DONE)
			break;
	}
	sqlite3_finalize(s);
	if (r != SQLITE_DONE) {
		cJSON_Delete(arr);
		*rc = store_rc(st, r);
		return NULL;
	}
	store_query_inline_json(arr, "data");
	*rc = 0;
	return arr;
}

cJSON *
store_query_job_brief(struct store *st, int64_t job_id, int *rc)
{
	sqlite3_stmt *s = store_query_prepare(
	        st,
	        "SELECT source || '/' || external_id AS job, status, last_step AS step,"
	        " total_steps, estimated_finish, tracked FROM jobs WHERE id = ?1",
	        rc);
	cJSON *arr, *job;

	if (*rc < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, job_id);
	if ((arr = store_query_rows(st, s, rc)) == NULL)
		return NULL;
	job = cJSON_DetachItemFromArray(arr, 0);
	cJSON_Delete(arr);
	if (job == NULL) {
		*rc = -ENOENT;
		return NULL;
	}
	cJSON *tracked = cJSON_GetObjectItem(job, "tracked");
	if (cJSON_IsNumber(tracked))
		cJSON_ReplaceItemInObject(job, "tracked",
		                          cJSON_CreateBool(tracked->valuedouble != 0));
	return job;
}

cJSON *
store_query_job_values(struct store *st, const char *column, int *rc)
{
	const char *sql;
	sqlite3_stmt *s;
	cJSON *rows, *out, *row;

	if (strcmp(column, "source") == 0)
		sql = "SELECT DISTINCT source AS v FROM jobs ORDER BY 1";
	else if (strcmp(column, "status") == 0)
		sql = "SELECT DISTINCT status AS v FROM jobs ORDER BY 1";
	else {
		*rc = -EINVAL;
		return NULL;
	}
	if ((s = store_query_prepare(st, sql, rc)) == NULL || *rc < 0)
		return NULL;
	if ((rows = store_query_rows(st, s, rc)) == NULL)
		return NULL;
	out = cJSON_CreateArray();
	cJSON_ArrayForEach (row, rows)
		cJSON_AddItemToArray(out, cJSON_Duplicate(cJSON_GetObjectItem(row, "v"), true));
	cJSON_Delete(rows);
	return out;
}
