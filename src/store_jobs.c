/*
 * store_jobs: the `jobs` list, as a cJSON tree (store_query_jobs) and as
 * JSON text written straight from the rows (store_query_jobs_json, what
 * the socket sends: no tree, one pass over the jobs and their latest
 * metrics).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "buf.h"
#include "jsonw.h"
#include "store.h"
#include "store_internal.h"
#include "xmalloc.h"

/* Above this many jobs, one scan of latest_metrics in job order beats a
 * lookup per job (10,000 jobs: one statement instead of 10,000 steps). */
#define STORE_QUERY_LATEST_SCAN 64

/* The job's "rowid" member becomes its "metrics" object (returned) and
 * "tracked" a boolean. */
static cJSON *
store_query_job_shell(cJSON *job, int64_t *rowid)
{
	cJSON *id = cJSON_DetachItemFromObject(job, "rowid");
	cJSON *tracked = cJSON_GetObjectItem(job, "tracked");

	if (tracked)
		cJSON_ReplaceItemInObject(job, "tracked",
		                          cJSON_CreateBool(tracked->valuedouble != 0));
	*rowid = id ? (int64_t)id->valuedouble : -1;
	cJSON_Delete(id);
	return cJSON_AddObjectToObject(job, "metrics");
}

static void
store_query_add_metric(cJSON *metrics, sqlite3_stmt *s, int name_col)
{
	const char *name = (const char *)sqlite3_column_text(s, name_col);

	if (sqlite3_column_type(s, name_col + 1) == SQLITE_NULL)
		cJSON_AddNullToObject(metrics, name);
	else
		cJSON_AddNumberToObject(metrics, name, sqlite3_column_double(s, name_col + 1));
}

/* Many jobs, in ascending id order: merge them with one ordered scan. */
static int
store_query_attach_scan(struct store *st, cJSON *jobs)
{
	int rc;
	sqlite3_stmt *s = store_query_prepare(
	        st,
	        "SELECT l.job_id, m.name, l.value FROM latest_metrics l JOIN metric_names m"
	        " ON m.id = l.metric_id ORDER BY l.job_id, m.name",
	        &rc);
	cJSON *job = jobs->child, *metrics = NULL;
	int64_t rowid = -1;

	if (rc < 0)
		return rc;
	if (job)
		metrics = store_query_job_shell(job, &rowid);
	while (job && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t jid = sqlite3_column_int64(s, 0);
		while (job && jid > rowid) {
			job = job->next;
			if (job)
				metrics = store_query_job_shell(job, &rowid);
		}
		if (job && jid == rowid)
			store_query_add_metric(metrics, s, 1);
	}
	/* Jobs past the last metric row still get their shell. */
	while (job && (job = job->next) != NULL)
		store_query_job_shell(job, &rowid);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_rc(st, rc);
}

/* Attach {"metrics": {name: latest value}} to each job object (jobs are in
 * ascending id order). */
int
store_query_attach_latest(struct store *st, cJSON *jobs)
{
	int rc;
	sqlite3_stmt *s;
	cJSON *job;

	if (cJSON_GetArraySize(jobs) > STORE_QUERY_LATEST_SCAN)
		return store_query_attach_scan(st, jobs);
	s = store_query_prepare(st,
	                        "SELECT m.name, l.value FROM latest_metrics l JOIN metric_names m"
	                        " ON m.id = l.metric_id WHERE l.job_id = ?1 ORDER BY m.name",
	                        &rc);
	if (rc < 0)
		return rc;
	cJSON_ArrayForEach (job, jobs) {
		int64_t rowid;
		cJSON *metrics = store_query_job_shell(job, &rowid);

		sqlite3_bind_int64(s, 1, rowid);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			store_query_add_metric(metrics, s, 0);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE) {
			sqlite3_finalize(s);
			return store_rc(st, rc);
		}
	}
	sqlite3_finalize(s);
	return 0;
}

#define STORE_QUERY_JOBS_SQL                                                               \
	"SELECT " STORE_JOB_COLUMNS ", j.estimated_finish AS estimated_finish FROM jobs j" \
	" WHERE (?1 IS NULL OR j.status = ?1) AND (?2 IS NULL OR j.source = ?2)"           \
	" AND (?3 OR j.finished_at IS NULL OR j.status NOT IN"                             \
	" ('succeeded','failed','cancelled') OR j.updated_at >= ?4)"                       \
	" ORDER BY j.id"

static void
store_query_jobs_bind(sqlite3_stmt *s, const struct store_jobs_filter *f)
{
	if (f->status)
		sqlite3_bind_text(s, 1, f->status, -1, SQLITE_TRANSIENT);
	if (f->source)
		sqlite3_bind_text(s, 2, f->source, -1, SQLITE_TRANSIENT);
	/* A status filter asks for exactly that status, old jobs included. */
	sqlite3_bind_int(s, 3, f->all || f->status != NULL);
	sqlite3_bind_int64(s, 4, (int64_t)time(NULL) - 86400);
}

cJSON *
store_query_jobs(struct store *st, const struct store_jobs_filter *f, int *rc)
{
	sqlite3_stmt *s = store_query_prepare(st, STORE_QUERY_JOBS_SQL, rc);
	cJSON *jobs;

	if (*rc < 0)
		return NULL;
	store_query_jobs_bind(s, f);
	jobs = store_query_rows(st, s, rc);
	if (jobs && (*rc = store_query_attach_latest(st, jobs)) < 0) {
		cJSON_Delete(jobs);
		return NULL;
	}
	return jobs;
}

/* Column i of a jobs row as store_query_add_column makes it, printed. */
static void
store_query_json_column(struct buf *b, sqlite3_stmt *s, int i)
{
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_INTEGER:
		jsonw_number(b, (double)sqlite3_column_int64(s, i));
		break;
	case SQLITE_FLOAT:
		jsonw_number(b, sqlite3_column_double(s, i));
		break;
	case SQLITE_TEXT:
		jsonw_string(b, (const char *)sqlite3_column_text(s, i));
		break;
	default:
		buf_append(b, "null", 4);
	}
}

/* The jobs statement's columns, looked up once per query rather than by
 * name on every row: each member's key text, "rowid" and "tracked". */
struct store_query_cols {
	int n, rowid, tracked;
	char **key; /* owned: "name": escaped, or NULL for rowid */
};

static void
store_query_cols_init(struct store_query_cols *c, sqlite3_stmt *s)
{
	c->n = sqlite3_column_count(s);
	c->rowid = c->tracked = -1;
	c->key = xcalloc((size_t)c->n, sizeof(char *));
	for (int i = 0; i < c->n; i++) {
		const char *name = sqlite3_column_name(s, i);
		struct buf k = BUF_INIT;

		if (strcmp(name, "rowid") == 0) {
			c->rowid = i;
			continue;
		}
		if (strcmp(name, "tracked") == 0)
			c->tracked = i;
		jsonw_key(&k, name);
		c->key[i] = buf_steal(&k);
	}
}

static void
store_query_cols_free(struct store_query_cols *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->key[i]);
	free(c->key);
}

/* One job row as an object without its closing brace; returns its rowid.
 * Same members and order as the tree: "tracked" a boolean, "rowid" left
 * out (store_query_job_shell). */
static int64_t
store_query_json_job(struct buf *b, sqlite3_stmt *s, const struct store_query_cols *c)
{
	bool first = true;

	buf_append(b, "{", 1);
	for (int i = 0; i < c->n; i++) {
		if (i == c->rowid)
			continue;
		if (!first)
			buf_append(b, ",", 1);
		first = false;
		buf_puts(b, c->key[i]);
		if (i == c->tracked)
			jsonw_bool(b, sqlite3_column_int64(s, i) != 0);
		else
			store_query_json_column(b, s, i);
	}
	return c->rowid >= 0 ? sqlite3_column_int64(s, c->rowid) : -1;
}

/* The "metrics" member of job rowid from the latest-metrics scan l, whose
 * current row (*lr: SQLITE_ROW or where it ended) is at or before it. */
static int
store_query_json_metrics(struct buf *b, sqlite3_stmt *l, int *lr, int64_t rowid)
{
	bool first = true;

	buf_append(b, ",\"metrics\":{", 12);
	while (*lr == SQLITE_ROW && sqlite3_column_int64(l, 0) < rowid)
		*lr = sqlite3_step(l);
	while (*lr == SQLITE_ROW && sqlite3_column_int64(l, 0) == rowid) {
		if (!first)
			buf_append(b, ",", 1);
		first = false;
		jsonw_key(b, (const char *)sqlite3_column_text(l, 1));
		if (sqlite3_column_type(l, 2) == SQLITE_NULL)
			buf_append(b, "null", 4);
		else
			jsonw_number(b, sqlite3_column_double(l, 2));
		*lr = sqlite3_step(l);
	}
	buf_append(b, "}}", 2);
	return *lr == SQLITE_ROW || *lr == SQLITE_DONE ? 0 : *lr;
}

/* Jobs and their latest metrics are both read in job id order, so one
 * pass merges them: no tree, no per-job lookup, both statements kept. */
int
store_query_jobs_json(struct store *st, const struct store_jobs_filter *f, struct buf *out,
                      size_t *count)
{
	struct store_query_cols cols;
	int rc, r, lr, err = 0;
	sqlite3_stmt *s = store_lazy(st, STORE_LAZY_JOBS, STORE_QUERY_JOBS_SQL, &rc), *l;

	*count = 0;
	if (s == NULL)
		return rc;
	l = store_lazy(st, STORE_LAZY_JOBS_LATEST,
	               "SELECT l.job_id, m.name, l.value FROM latest_metrics l JOIN metric_names m"
	               " ON m.id = l.metric_id ORDER BY l.job_id, m.name",
	               &rc);
	if (l == NULL)
		return rc;
	store_query_jobs_bind(s, f);
	buf_append(out, "[", 1);
	r = sqlite3_step(s);
	lr = r == SQLITE_ROW ? sqlite3_step(l) : SQLITE_DONE;
	store_query_cols_init(&cols, s);
	for (; r == SQLITE_ROW; r = sqlite3_step(s)) {
		if ((*count)++)
			buf_append(out, ",", 1);
		if ((err = store_query_json_metrics(out, l, &lr,
		                                    store_query_json_job(out, s, &cols))) != 0)
			break;
	}
	store_query_cols_free(&cols);
	buf_append(out, "]", 1);
	rc = err != 0 ? store_rc(st, err) : r == SQLITE_DONE ? 0 : store_rc(st, r);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	sqlite3_reset(l);
	return rc;
}
