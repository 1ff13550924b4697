/*
 * watch: streams of committed points and events (see watch.h).
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "clock.h"
#include "control.h"
#include "ingest.h"
#include "proto.h"
#include "store.h"
#include "watch.h"
#include "xmalloc.h"

struct watch_sub {
	LIST_ENTRY(watch_sub) link;
	struct watch *w;
	struct control_client *cl; /* held */
	int64_t job_id;            /* 0: every job */
};

struct watch {
	struct ingest *in;
	struct store *st;
	const struct clock *clk;
	LIST_HEAD(, watch_sub) subs;
	size_t nsubs;
};

/* One line of a commit, built once and copied to each client. */
struct watch_line {
	int64_t job_id;
	char *text; /* owned, ends in '\n' */
};

struct watch_lines {
	struct watch_line *v;
	size_t n, cap;
};

static void
watch_lines_add(struct watch_lines *l, int64_t job_id, cJSON *o)
{
	char *json = cJSON_PrintUnformatted(o);

	cJSON_Delete(o);
	if (json == NULL)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n].job_id = job_id;
	l->v[l->n++].text = xasprintf("%s\n", json);
	cJSON_free(json);
}

static void
watch_lines_free(struct watch_lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].text);
	free(l->v);
}

/* The value of each metric at its newest step among job_id's points. */
static cJSON *
watch_job_metrics(const struct ingest_batch *b, int64_t job_id, size_t *npoints)
{
	cJSON *metrics = cJSON_CreateObject(), *steps = cJSON_CreateObject();

	*npoints = 0;
	for (size_t i = 0; i < b->npoints; i++) {
		const struct ingest_point *p = &b->points[i];
		cJSON *seen;
		if (p->job_id != job_id)
			continue;
		(*npoints)++;
		seen = cJSON_GetObjectItemCaseSensitive(steps, p->metric);
		if (seen != NULL && seen->valuedouble > (double)p->step)
			continue;
		if (seen == NULL) {
			cJSON_AddNumberToObject(steps, p->metric, (double)p->step);
			cJSON_AddNumberToObject(metrics, p->metric, p->value);
		} else {
			cJSON_SetNumberValue(seen, (double)p->step);
			cJSON_ReplaceItemInObjectCaseSensitive(metrics, p->metric,
			                                       cJSON_CreateNumber(p->value));
		}
	}
	cJSON_Delete(steps);
	return metrics;
}

static void
watch_build_points(struct watch *w, const struct ingest_batch *b, int64_t now,
                   struct watch_lines *l)
{
	for (size_t j = 0; j < b->njobs; j++) {
		size_t n;
		int rc;
		cJSON *metrics = watch_job_metrics(b, b->job_ids[j], &n), *brief, *o;

		if (n == 0 || (brief = store_query_job_brief(w->st, b->job_ids[j], &rc)) == NULL) {
			cJSON_Delete(metrics);
			continue;
		}
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "event", "points");
		cJSON_AddNumberToObject(o, "time", (double)now);
		for (cJSON *it = brief->child; it != NULL; it = it->next)
			cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, true));
		cJSON_Delete(brief);
		cJSON_AddNumberToObject(o, "points", (double)n);
		cJSON_AddItemToObject(o, "metrics", metrics);
		watch_lines_add(l, b->job_ids[j], o);
	}
}

static void
watch_build_events(struct watch *w, const struct ingest_batch *b, struct watch_lines *l)
{
	int rc;
	cJSON *rows =
	        b->nevents ? store_query_events_by_id(w->st, b->event_ids, b->nevents, &rc) : NULL;
	cJSON *row;

	cJSON_ArrayForEach (row, rows) {
		cJSON *job_id = cJSON_GetObjectItem(row, "job_id");
		cJSON *type = cJSON_DetachItemFromObject(row, "type");
		cJSON *o = cJSON_CreateObject();
		int64_t jid = cJSON_IsNumber(job_id) ? (int64_t)job_id->valuedouble : 0;

		cJSON_AddItemToObject(o, "event", type ? type : cJSON_CreateString("event"));
		cJSON_DeleteItemFromObject(row, "job_id");
		while (row->child != NULL) {
			cJSON *it = cJSON_DetachItemViaPointer(row, row->child);
			cJSON_AddItemToObject(o, it->string, it);
		}
		watch_lines_add(l, jid, o);
	}
	cJSON_Delete(rows);
}

/* Queue the lines meant for s; false when s went away meanwhile. */
static bool
watch_send(struct watch_sub *s, const struct watch_lines *l)
{
	for (size_t i = 0; i < l->n; i++) {
		if (s->job_id != 0 && s->job_id != l->v[i].job_id)
			continue;
		/* A refused send called gone(), which freed s. */
		if (!control_client_send(s->cl, xstrdup(l->v[i].text)))
			return false;
	}
	return true;
}

static void
watch_commit_cb(void *data, const struct ingest_batch *b)
{
	struct watch *w = data;
	struct watch_lines l = {0};
	struct watch_sub *s, *next;

	if (LIST_EMPTY(&w->subs) || (b->npoints == 0 && b->nevents == 0))
		return;
	if (b->npoints > 0)
		watch_build_points(w, b, clock_now(w->clk), &l);
	watch_build_events(w, b, &l);
	for (s = LIST_FIRST(&w->subs); s != NULL; s = next) {
		next = LIST_NEXT(s, link);
		watch_send(s, &l);
	}
	watch_lines_free(&l);
}

struct watch *
watch_new(struct ingest *in, struct store *st, const struct clock *clk)
{
	struct watch *w = xcalloc(1, sizeof(*w));

	w->in = in;
	w->st = st;
	w->clk = clk;
	LIST_INIT(&w->subs);
	ingest_observe_commit(in, watch_commit_cb, w);
	return w;
}

static void
watch_sub_free(struct watch_sub *s)
{
	LIST_REMOVE(s, link);
	s->w->nsubs--;
	free(s);
}

void
watch_free(struct watch *w)
{
	struct watch_sub *s;

	if (w == NULL)
		return;
	ingest_unobserve_commit(w->in, watch_commit_cb, w);
	while ((s = LIST_FIRST(&w->subs)) != NULL) {
		control_client_release(s->cl);
		watch_sub_free(s);
	}
	free(w);
}

static void
watch_gone_cb(struct control_client *cl, void *data)
{
	watch_sub_free(data);
}

void
watch_add(struct watch *w, struct control_client *cl, const cJSON *id, int64_t job_id,
          const char *name)
{
	struct watch_sub *s;
	cJSON *res = cJSON_CreateObject();

	cJSON_AddStringToObject(res, "watching", job_id != 0 && name ? name : "all");
	/* A client gone already is closed by the failed send: nothing to hold. */
	if (!control_client_send(cl, proto_reply_ok(id, res)))
		return;
	s = xcalloc(1, sizeof(*s));
	s->w = w;
	s->cl = cl;
	s->job_id = job_id;
	LIST_INSERT_HEAD(&w->subs, s, link);
	w->nsubs++;
	control_client_hold(cl, watch_gone_cb, s);
}

size_t
watch_count(const struct watch *w)
{
	return w->nsubs;
}
