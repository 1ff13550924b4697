/*
 * notifier: delivery rows in the event's transaction, and the dispatcher
 * that sends them (see notifier.h).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "buf.h"
#include "clock.h"
#include "conf.h"
#include "hookexec.h"
#include "http.h"
#include "ingest.h"
#include "log.h"
#include "notifier.h"
#include "payload.h"
#include "retry.h"
#include "store.h"
#include "utf8.h"
#include "util.h"
#include "xmalloc.h"

#define NOTIFIER_EVENT_BATCH       256 /* events rows read per query */
#define NOTIFIER_RETRY_CAP_MS      3600000
#define NOTIFIER_KILL_GRACE_MS     2000 /* SIGTERM, then SIGKILL this much later */
#define NOTIFIER_MAX_HEADERS       8    /* lines of a headers_file */
#define NOTIFIER_FLUSH_RETRY_MS    1000
#define NOTIFIER_LOG_OUTPUT        512  /* bytes of a hook's output in one log line */
#define NOTIFIER_SLACK_INTERVAL_MS 1000 /* between two starts of a slack hook */

struct notifier_attempt;

struct notifier_hook {
	LIST_ENTRY(notifier_hook) link;
	char *name;
	enum conf_hook_type type;
	char **events, **argv;
	char *url;
	enum conf_hook_format format;
	uint64_t timeout_ms;
	unsigned max_attempts, concurrency;
	char **headers;       /* from headers_file; values never logged */
	char *headers_error;  /* why headers_file could not be read */
	unsigned inflight;    /* started, outcome not yet committed */
	bool retired;         /* gone from the configuration */
	uint64_t paced_until; /* slack: no start before (monotonic ms) */
	TAILQ_HEAD(, notifier_attempt) attempts;
};

struct notifier_attempt {
	TAILQ_ENTRY(notifier_attempt) link; /* the hook's */
	TAILQ_ENTRY(notifier_attempt) done; /* the outcomes to write */
	struct notifier *n;
	struct notifier_hook *h;
	int64_t rowid;
	unsigned attempts; /* before this one */
	char *event_id;
	struct http_request *req;
	struct hookexec *x;
	bool finished;
	const char *state; /* the outcome */
	char *error;
	int64_t next_at;
	unsigned gen; /* the database generation its row belongs to */
};

struct notifier {
	uv_loop_t *loop;
	struct ingest *ingest;
	struct store *store;
	struct http *http;
	const struct clock *clk;
	LIST_HEAD(, notifier_hook) hooks;
	TAILQ_HEAD(, notifier_attempt) outcomes;
	int64_t mark;         /* highest events id handled (committed) */
	int64_t pending_mark; /* the same in the open step */
	bool wrote;           /* the open step wrote deliveries */
	unsigned gen;         /* bumped when the database file is replaced */
	bool observing;       /* registered on ingest (some hook is configured) */
	uv_timer_t pass_timer, flush_timer;
	int open;
};

static void notifier_schedule_pass(struct notifier *n, uint64_t ms);

/* ---- hooks from the configuration ---- */

static char **
notifier_strv_dup(char *const *v)
{
	size_t n = util_strv_len(v);
	char **out = xcalloc(n + 1, sizeof(char *));

	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

/* headers_file: "Name: value" lines, blank lines and # comments skipped. */
static void
notifier_read_headers(struct notifier_hook *h, const char *path)
{
	FILE *f = fopen(path, "re");
	char line[4096];
	size_t n = 0;

	if (f == NULL) {
		h->headers_error = xasprintf("headers_file %s: %s", path, strerror(errno));
		return;
	}
	h->headers = xcalloc(NOTIFIER_MAX_HEADERS + 1, sizeof(char *));
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (strchr(line, ':') == NULL || n == NOTIFIER_MAX_HEADERS) {
			/* The line may hold a secret: say where, never what. */
			h->headers_error = xasprintf("headers_file %s: line %zu is not \"Name: "
			                             "value\" (or more than %d lines)",
			                             path, n + 1, NOTIFIER_MAX_HEADERS);
			break;
		}
		h->headers[n++] = xstrdup(line);
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
}

static void
notifier_hook_clear_conf(struct notifier_hook *h)
{
	util_strv_free(h->events);
	util_strv_free(h->argv);
	free(h->url);
	for (size_t i = 0; h->headers && h->headers[i]; i++)
		explicit_bzero(h->headers[i], strlen(h->headers[i]));
	util_strv_free(h->headers);
	free(h->headers_error);
	h->events = h->argv = h->headers = NULL;
	h->url = h->headers_error = NULL;
}

static void
notifier_hook_set_conf(struct notifier_hook *h, const struct conf_hook *c)
{
	notifier_hook_clear_conf(h);
	h->type = c->type;
	h->events = notifier_strv_dup(c->events);
	h->argv = c->argv ? notifier_strv_dup(c->argv) : NULL;
	h->url = c->url ? xstrdup(c->url) : NULL;
	h->format = c->type == CONF_HOOK_EXEC ? CONF_FORMAT_JSON : c->format;
	h->timeout_ms = c->timeout_ms;
	h->max_attempts = c->max_attempts;
	h->concurrency = c->concurrency ? c->concurrency : 1;
	h->retired = false;
	if (c->headers_file)
		notifier_read_headers(h, c->headers_file);
	if (h->headers_error)
		log_err("hook %s: %s; its deliveries fail until it is fixed (reload)", h->name,
		        h->headers_error);
}

static void
notifier_hook_free(struct notifier_hook *h)
{
	notifier_hook_clear_conf(h);
	free(h->name);
	free(h);
}

/* A retired hook goes once its last attempt is written. */
static void
notifier_hook_maybe_free(struct notifier_hook *h)
{
	if (h->retired && h->inflight == 0 && TAILQ_EMPTY(&h->attempts)) {
		LIST_REMOVE(h, link);
		notifier_hook_free(h);
	}
}

static struct notifier_hook *
notifier_find_hook(struct notifier *n, const char *name)
{
	struct notifier_hook *h;

	LIST_FOREACH(h, &n->hooks, link)
	if (strcmp(h->name, name) == 0)
		return h;
	return NULL;
}

static int notifier_txn_cb(void *data, struct store *st, const struct ingest_batch *b);
static void notifier_commit_cb(void *data, const struct ingest_batch *b);

/* Observe ingest only while some hook is configured: without hooks a step
 * costs nothing here.  The first hook starts at the newest event. */
static void
notifier_observe(struct notifier *n, bool on)
{
	int64_t id;

	if (on == n->observing)
		return;
	n->observing = on;
	if (!on) {
		ingest_unobserve_txn(n->ingest, notifier_txn_cb, n);
		ingest_unobserve_commit(n->ingest, notifier_commit_cb, n);
		return;
	}
	if (store_events_max_id(n->store, &id) == 0)
		n->mark = n->pending_mark = id;
	ingest_observe_txn(n->ingest, notifier_txn_cb, n);
	ingest_observe_commit(n->ingest, notifier_commit_cb, n);
}

void
notifier_reload(struct notifier *n, const struct conf *conf)
{
	struct notifier_hook *h, *next;

	LIST_FOREACH(h, &n->hooks, link)
	h->retired = true;
	for (size_t i = 0; i < conf->nhooks; i++) {
		if ((h = notifier_find_hook(n, conf->hooks[i].name)) == NULL) {
			h = xcalloc(1, sizeof(*h));
			h->name = xstrdup(conf->hooks[i].name);
			TAILQ_INIT(&h->attempts);
			LIST_INSERT_HEAD(&n->hooks, h, link);
		}
		notifier_hook_set_conf(h, &conf->hooks[i]);
	}
	for (h = LIST_FIRST(&n->hooks); h != NULL; h = next) {
		next = LIST_NEXT(h, link);
		notifier_hook_maybe_free(h);
	}
	notifier_observe(n, conf->nhooks > 0);
	notifier_schedule_pass(n, 0);
}

/* ---- writing deliveries (txn observer) ---- */

static bool
notifier_subscribed(const struct notifier_hook *h, const char *type)
{
	for (char **e = h->events; e && *e; e++)
		if (strcmp(*e, "*") == 0 || strcmp(*e, type) == 0)
			return true;
	return false;
}

static char *
notifier_event_uid(struct notifier *n, int64_t id)
{
	uint64_t seed[3] = {(uint64_t)id, clock_monotonic_ms(n->clk),
	                    (uint64_t)(clock_random(n->clk) * 4294967296.0)};
	uint64_t hash = util_hash64(seed, sizeof(seed)) ^ (uint64_t)clock_now(n->clk);

	/* The row id orders; the random part keeps ids unique across a
	 * database that was recreated (row ids start again at 1). */
	return xasprintf("ev_%" PRId64 "_%016" PRIx64, id, hash);
}

/* The alert an alert event's data names (rules: {"alert_id": N}). */
static int64_t
notifier_alert_id(const char *data)
{
	cJSON *d = data ? cJSON_Parse(data) : NULL;
	double v = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "alert_id"));
	int64_t id = v > 0 && v < 9e15 ? (int64_t)v : 0;

	cJSON_Delete(d);
	return id;
}

static void
notifier_payload_job(const struct store_job_row *j, struct payload_job *pj,
                     struct payload_metric *m)
{
	for (size_t i = 0; i < j->nmetrics; i++)
		m[i] = (struct payload_metric){j->metric_names[i], j->metric_values[i]};
	*pj = (struct payload_job){j->source,           j->external_id, j->status,      j->model,
	                           j->fine_tuned_model, j->last_step,   j->total_steps, m,
	                           j->nmetrics};
}

static void
notifier_payload_alert(const struct store_alert_row *a, struct payload_alert *pa)
{
	*pa = (struct payload_alert){a->id,      a->rule,  a->metric,   a->value,       a->step,
	                             a->message, a->state, a->fired_at, a->resolved_at, a->acked};
}

/* One delivery row per subscribed hook for event e. */
static int
notifier_event_rows(struct notifier *n, struct store *st, const struct store_hook_event *e)
{
	struct store_job_row j;
	struct store_alert_row a = {0};
	struct payload_alert pa;
	struct payload_metric *m;
	int64_t alert_id = strncmp(e->type, "alert.", 6) == 0 ? notifier_alert_id(e->data) : 0;
	struct payload_event pe = {NULL, e->type, e->created_at, e->data, {0}, NULL};
	struct notifier_hook *h;
	int rc;

	if ((rc = store_job_row_get(st, e->job_id, &j)) < 0)
		return rc == -ENOENT ? 0 : rc;
	if (alert_id > 0 && store_alert_row_get(st, alert_id, &a) == 0) {
		notifier_payload_alert(&a, &pa);
		pe.alert = &pa;
	}
	m = xcalloc(j.nmetrics + 1, sizeof(*m));
	notifier_payload_job(&j, &pe.job, m);
	pe.id = notifier_event_uid(n, e->id);
	LIST_FOREACH(h, &n->hooks, link)
	{
		char *body;
		if (h->retired || !notifier_subscribed(h, e->type))
			continue;
		body = payload_build(&pe, h->format);
		rc = store_delivery_insert(st, pe.id, h->name, e->type, body, alert_id,
		                           clock_now(n->clk));
		free(body);
		if (rc < 0)
			break;
		n->wrote = true;
	}
	free((char *)pe.id);
	free(m);
	store_alert_row_clear(&a);
	store_job_row_clear(&j);
	return rc < 0 ? rc : 0;
}

static int
notifier_txn_cb(void *data, struct store *st, const struct ingest_batch *b)
{
	struct notifier *n = data;
	struct store_hook_event *ev;
	size_t cnt;
	int64_t max;
	int rc;

	(void)b; /* other observers' events are not in the batch: read the table */
	n->pending_mark = n->mark;
	n->wrote = false;
	for (;;) {
		rc = store_hook_events_after(st, n->pending_mark, NOTIFIER_EVENT_BATCH, &ev, &cnt,
		                             &max);
		for (size_t i = 0; rc >= 0 && i < cnt; i++)
			rc = notifier_event_rows(n, st, &ev[i]);
		store_hook_events_free(ev, cnt);
		if (rc < 0)
			return rc;
		if (max == n->pending_mark)
			return 0;
		n->pending_mark = max;
	}
}

static void
notifier_commit_cb(void *data, const struct ingest_batch *b)
{
	struct notifier *n = data;

	(void)b;
	n->mark = n->pending_mark;
	if (n->wrote)
		notifier_schedule_pass(n, 0);
	n->wrote = false;
}

/* ---- outcomes ---- */

static void
notifier_attempt_free(struct notifier_attempt *a)
{
	free(a->event_id);
	free(a->error);
	free(a);
}

static void
notifier_log_outcome(const struct notifier_attempt *a)
{
	char *err = a->error ? utf8_show(a->error, NOTIFIER_LOG_OUTPUT) : NULL;

	if (strcmp(a->state, "failed") == 0)
		log_err("hook %s: event %s failed after %u attempt%s: %s", a->h->name, a->event_id,
		        a->attempts + 1, a->attempts ? "s" : "", err ? err : "?");
	else if (strcmp(a->state, "pending") == 0)
		log_warn("hook %s: event %s attempt %u failed (%s); retrying in %" PRId64 " s",
		         a->h->name, a->event_id, a->attempts + 1, err ? err : "?",
		         a->next_at - clock_now(a->n->clk));
	else
		log_debug("hook %s: event %s delivered", a->h->name, a->event_id);
	free(err);
}

static void notifier_flush_cb(uv_timer_t *t);

/* The outcome is known: written at the next flush, one step for all. */
static void
notifier_queue(struct notifier_attempt *a)
{
	struct notifier *n = a->n;

	a->req = NULL;
	a->x = NULL;
	a->finished = true;
	TAILQ_INSERT_TAIL(&n->outcomes, a, done);
	if (!uv_is_active((uv_handle_t *)&n->flush_timer))
		uv_timer_start(&n->flush_timer, notifier_flush_cb, 0, 0);
}

/* An attempt ended; retry_ms/retry_s: a webhook's Retry-After headers. */
static void
notifier_finish(struct notifier_attempt *a, const char *error, const char *retry_ms,
                const char *retry_s)
{
	struct notifier *n = a->n;
	int64_t now = clock_now(n->clk);
	uint64_t ms;

	a->error = error ? xstrdup(error) : NULL;
	if (error == NULL) {
		a->state = "delivered";
	} else if (a->attempts + 1 >= a->h->max_attempts) {
		a->state = "failed";
	} else {
		ms = retry_delay_ms(a->attempts, retry_ms, retry_s, now, clock_random(n->clk),
		                    NOTIFIER_RETRY_CAP_MS);
		a->state = "pending";
		/* Whole seconds, and one more: now is truncated, so the row is
		 * never due before the delay (a Retry-After) has passed. */
		a->next_at = now + (int64_t)((ms + 999) / 1000) + 1;
	}
	notifier_log_outcome(a);
	a->attempts++;
	notifier_queue(a);
}

/* Write every known outcome in one step.  0, or a negative errno (the
 * outcomes stay queued). */
static int
notifier_write_outcomes(struct notifier *n)
{
	struct notifier_attempt *a;
	int64_t now = clock_now(n->clk);
	int rc;

	if (TAILQ_EMPTY(&n->outcomes))
		return 0;
	if ((rc = ingest_begin(n->ingest)) < 0)
		return rc;
	TAILQ_FOREACH(a, &n->outcomes, done)
	{
		if (a->gen != n->gen)
			continue; /* its row was in the file that was replaced */
		rc = store_delivery_set(n->store, a->rowid, a->state, a->attempts,
		                        strcmp(a->state, "delivered") == 0 ? NULL : a->error,
		                        a->next_at, now);
		if (rc < 0) {
			ingest_rollback(n->ingest);
			return rc;
		}
	}
	if ((rc = ingest_commit(n->ingest)) < 0)
		return rc;
	while ((a = TAILQ_FIRST(&n->outcomes)) != NULL) {
		struct notifier_hook *h = a->h;
		TAILQ_REMOVE(&n->outcomes, a, done);
		TAILQ_REMOVE(&h->attempts, a, link);
		h->inflight--;
		notifier_attempt_free(a);
		notifier_hook_maybe_free(h);
	}
	return 0;
}

static void
notifier_flush_cb(uv_timer_t *t)
{
	struct notifier *n = t->data;
	int rc = notifier_write_outcomes(n);

	if (rc < 0) {
		if (rc != -EBUSY)
			log_err("hooks: cannot record delivery outcomes: %s; retrying",
			        ingest_errmsg(n->ingest));
		uv_timer_start(t, notifier_flush_cb, NOTIFIER_FLUSH_RETRY_MS, 0);
		return;
	}
	notifier_schedule_pass(n, 0);
}

/* ---- sending ---- */

static void
notifier_exec_done_cb(const struct hookexec_result *r, void *data)
{
	struct notifier_attempt *a = data;
	char *err = NULL, *out = NULL;

	if (r->output_len > 0) {
		out = utf8_show(r->output, NOTIFIER_LOG_OUTPUT);
		log_info("hook %s: event %s: pid %" PRId64 " said: %s", a->h->name, a->event_id,
		         r->pid, out);
	}
	if (r->error)
		err = xasprintf("cannot run %s: %s",
		                a->h->argv ? a->h->argv[0] : "the command", /* reloaded */
		                r->error);
	else if (r->timed_out)
		err = xasprintf("timed out after %" PRIu64 " ms; process group killed",
		                a->h->timeout_ms);
	else if (r->term_signal)
		err = xasprintf("killed by signal %d", r->term_signal);
	else if (r->exit_status != 0)
		err = xasprintf("exit status %" PRId64, r->exit_status);
	notifier_finish(a, err, NULL, NULL);
	free(err);
	free(out);
}

static void
notifier_exec_start(struct notifier_attempt *a, const char *payload)
{
	char **env = payload_env(payload, getenv("PATH"), getenv("LANG"), getenv("HOME"));

	a->x = hookexec_start(a->n->loop, a->h->argv, env, payload, strlen(payload),
	                      a->h->timeout_ms, NOTIFIER_KILL_GRACE_MS, notifier_exec_done_cb, a);
	payload_env_free(env);
}

static void
notifier_http_done_cb(struct http_response *r, void *data)
{
	struct notifier_attempt *a = data;
	char *err = NULL;

	if (r->status >= 200 && r->status < 300)
		err = NULL;
	else if (r->status == 0)
		err = xasprintf("%s", r->error ? r->error : "transport error");
	else
		err = xasprintf("HTTP %ld", r->status);
	notifier_finish(a, err, r->retry_after_ms, r->retry_after);
	free(err);
}

static void
notifier_webhook_start(struct notifier_attempt *a, const char *payload)
{
	struct notifier_hook *h = a->h;
	char *ctype = xasprintf("Content-Type: %s", payload_content_type(h->format));
	char *idem = xasprintf("Idempotency-Key: %s", a->event_id);
	const char *headers[] = {ctype, idem, NULL};
	struct http_request_opts o = {
	        "POST",  h->url,          headers,       (const char *const *)h->headers,
	        payload, strlen(payload), h->timeout_ms, 64 * 1024};

	if (h->headers_error)
		notifier_finish(a, h->headers_error, NULL, NULL);
	else if ((a->req = http_request_start(a->n->http, &o, notifier_http_done_cb, a)) == NULL)
		notifier_finish(a, "the HTTP engine refused the request", NULL, NULL);
	free(ctype);
	free(idem);
}

static bool
notifier_in_flight(const struct notifier_hook *h, int64_t rowid)
{
	const struct notifier_attempt *a;

	TAILQ_FOREACH(a, &h->attempts, link)
	if (a->rowid == rowid)
		return true;
	return false;
}

static void
notifier_start(struct notifier *n, struct notifier_hook *h, const struct store_delivery *d)
{
	struct notifier_attempt *a = xcalloc(1, sizeof(*a));
	struct store_alert_row al;

	*a = (struct notifier_attempt){.n = n,
	                               .h = h,
	                               .rowid = d->rowid,
	                               .attempts = d->attempts,
	                               .event_id = xstrdup(d->event_id),
	                               .gen = n->gen};
	TAILQ_INSERT_TAIL(&h->attempts, a, link);
	h->inflight++;
	if (d->alert_id > 0 && store_alert_row_get(n->store, d->alert_id, &al) == 0) {
		bool acked = al.acked;
		store_alert_row_clear(&al);
		if (acked) {
			/* Not an attempt: the count stays, the row ends. */
			a->error =
			        xasprintf("skipped: alert %" PRId64 " acknowledged", d->alert_id);
			a->state = "failed";
			log_info("hook %s: event %s not sent: alert %" PRId64 " was acknowledged",
			         h->name, a->event_id, d->alert_id);
			notifier_queue(a);
			return;
		}
	}
	if (h->type == CONF_HOOK_EXEC)
		notifier_exec_start(a, d->payload);
	else
		notifier_webhook_start(a, d->payload);
}

/* Slack allows about one message a second per webhook URL (more gets 429
 * with Retry-After): a slack hook starts one delivery at a time, a second
 * apart, whatever its concurrency. */
static unsigned
notifier_slots(struct notifier_hook *h, uint64_t now_ms, uint64_t *delay_ms)
{
	if (h->format != CONF_FORMAT_SLACK)
		return h->concurrency;
	if (now_ms < h->paced_until) {
		if (h->paced_until - now_ms < *delay_ms)
			*delay_ms = h->paced_until - now_ms;
		return 0;
	}
	return 1;
}

/* Start what hook h may start now; *delay_ms: when to look again. */
static void
notifier_pass_hook(struct notifier *n, struct notifier_hook *h, int64_t now, uint64_t now_ms,
                   uint64_t *delay_ms)
{
	struct store_delivery *v;
	size_t cnt;
	int64_t at;
	unsigned slots = notifier_slots(h, now_ms, delay_ms);
	int rc;

	if (h->inflight < slots) {
		rc = store_deliveries_due(n->store, h->name, now, slots + h->inflight, &v, &cnt);
		if (rc < 0)
			log_err("hook %s: cannot read deliveries: %s", h->name,
			        store_errmsg(n->store));
		for (size_t i = 0; i < cnt && h->inflight < slots; i++) {
			if (notifier_in_flight(h, v[i].rowid))
				continue;
			notifier_start(n, h, &v[i]);
			if (h->format == CONF_FORMAT_SLACK)
				h->paced_until = now_ms + NOTIFIER_SLACK_INTERVAL_MS;
		}
		store_deliveries_free(v, cnt);
	}
	if (store_delivery_next(n->store, h->name, &at) == 1 && at > now &&
	    (uint64_t)(at - now) * 1000 < *delay_ms)
		*delay_ms = (uint64_t)(at - now) * 1000;
}

static void
notifier_pass_cb(uv_timer_t *t)
{
	struct notifier *n = t->data;
	struct notifier_hook *h, *next;
	int64_t now = clock_now(n->clk);
	uint64_t now_ms = clock_monotonic_ms(n->clk), delay = UINT64_MAX;

	for (h = LIST_FIRST(&n->hooks); h != NULL; h = next) {
		next = LIST_NEXT(h, link);
		if (!h->retired)
			notifier_pass_hook(n, h, now, now_ms, &delay);
	}
	if (delay != UINT64_MAX)
		uv_timer_start(&n->pass_timer, notifier_pass_cb, delay, 0);
}

static void
notifier_schedule_pass(struct notifier *n, uint64_t ms)
{
	uv_timer_start(&n->pass_timer, notifier_pass_cb, ms, 0);
}

/* ---- life ---- */

struct notifier *
notifier_new(uv_loop_t *loop, struct ingest *in, struct store *st, struct http *http,
             const struct clock *clk, const struct conf *conf, char **err)
{
	struct notifier *n = xcalloc(1, sizeof(*n));

	*n = (struct notifier){.loop = loop, .ingest = in, .store = st, .http = http, .clk = clk};
	LIST_INIT(&n->hooks);
	TAILQ_INIT(&n->outcomes);
	if (store_events_max_id(st, &n->mark) < 0) {
		*err = xasprintf("hooks: %s", store_errmsg(st));
		free(n);
		return NULL;
	}
	uv_timer_init(loop, &n->pass_timer);
	uv_timer_init(loop, &n->flush_timer);
	n->pass_timer.data = n->flush_timer.data = n;
	n->open = 2;
	notifier_reload(n, conf);
	return n;
}

void
notifier_resync(struct notifier *n)
{
	int64_t id;

	n->gen++;
	if (store_events_max_id(n->store, &id) == 0)
		n->mark = n->pending_mark = id;
	notifier_schedule_pass(n, 0);
}

void
notifier_describe(struct notifier *n, cJSON *status)
{
	cJSON *arr = cJSON_AddArrayToObject(status, "hooks"), *o;
	struct notifier_hook *h;
	int rc;

	if (n == NULL)
		return;
	LIST_FOREACH(h, &n->hooks, link)
	{
		if (h->retired)
			continue;
		if ((o = store_query_hook(n->store, h->name, &rc)) == NULL)
			o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "name", cJSON_CreateString(h->name));
		cJSON_AddStringToObject(o, "type", h->type == CONF_HOOK_EXEC ? "exec" : "webhook");
		cJSON_AddNumberToObject(o, "in_flight", h->inflight);
		cJSON_AddItemToArray(arr, o);
	}
}

static void
notifier_close_cb(uv_handle_t *h)
{
	struct notifier *n = h->data;

	if (--n->open == 0)
		free(n);
}

void
notifier_free(struct notifier *n)
{
	struct notifier_hook *h;
	struct notifier_attempt *a, *next;

	if (n == NULL)
		return;
	LIST_FOREACH(h, &n->hooks, link)
	{
		for (a = TAILQ_FIRST(&h->attempts); a != NULL; a = next) {
			next = TAILQ_NEXT(a, link);
			if (a->finished)
				continue;
			/* Cut off: the row stays pending and is sent after a restart. */
			http_request_cancel(a->req);
			hookexec_cancel(a->x);
			TAILQ_REMOVE(&h->attempts, a, link);
			h->inflight--;
			notifier_attempt_free(a);
		}
	}
	if (notifier_write_outcomes(n) < 0)
		log_warn("hooks: delivery outcomes not recorded at stop: %s; they are sent again",
		         ingest_errmsg(n->ingest));
	notifier_observe(n, false);
	while ((h = LIST_FIRST(&n->hooks)) != NULL) {
		while ((a = TAILQ_FIRST(&h->attempts)) != NULL) {
			TAILQ_REMOVE(&h->attempts, a, link);
			notifier_attempt_free(a);
		}
		LIST_REMOVE(h, link);
		notifier_hook_free(h);
	}
	uv_close((uv_handle_t *)&n->pass_timer, notifier_close_cb);
	uv_close((uv_handle_t *)&n->flush_timer, notifier_close_cb);
}
