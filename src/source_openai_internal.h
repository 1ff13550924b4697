/*
 * source_openai_internal: what the files of the source_openai module share,
 * and nothing else (source_openai.h is the module's interface):
 *
 *   source_openai.c           the source_ops, track probes, the key, requests
 *                             and what their answers mean for the source
 *   source_openai_cycle.c     one job's poll cycle, the watch list, scheduling
 *                             and the pump
 *   source_openai_events.c    the cycle's events phase: the walk, its pages
 *                             stored, the cursor moved or the walk resumed
 *   source_openai_discover.c  discovery of new jobs from the job list
 *
 * Everything runs on the loop thread.  A watch belongs to its source's job
 * list from soai_watch_add until soai_watch_remove, and is freed when its
 * timer has closed; every pointer handed across here is borrowed unless
 * said otherwise.
 */
#ifndef FTMON_SOURCE_OPENAI_INTERNAL_H
#define FTMON_SOURCE_OPENAI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <uv.h>

#include "clock.h"
#include "conf.h"
#include "openai_parse.h"
#include "openai_walk.h"
#include "retry.h"
#include "source.h"
#include "workq.h"

struct http_request;
struct http_response;
struct store_job_info;

/* The module's limits and timings, in one place. */
#define SOAI_EVENTS_PAGE       100
#define SOAI_EVENTS_FIRST_PAGE 20
#define SOAI_MAX_EVENT_PAGES   1000
/* One walk's other bounds: a server whose pages never end costs at most
 * this much per poll, in memory only the ids seen (a few MiB). */
#define SOAI_MAX_WALK_EVENTS 50000
#define SOAI_MAX_WALK_BYTES  (64 * 1024 * 1024)
/* An events page at least this big is parsed in libuv's thread pool, at
 * most SOAI_MAX_PARSING at a time per source (the others on the loop): a
 * full page is ~150 us of cJSON, a quarter of a first pass's loop time. */
#define SOAI_PARSE_AWAY_BYTES (16 * 1024)
#define SOAI_MAX_PARSING      8
/* Rows (events + points) per transaction when a page is stored. */
#define SOAI_TXN_ROWS 5000
/* A walk cut again and again backs off up to this between polls. */
#define SOAI_CUT_CAP_MS           (60 * 1000)
#define SOAI_MAX_CHECKPOINT_PAGES 20
#define SOAI_MAX_DISCOVERY_PAGES  200
#define SOAI_BACKOFF_CAP_MS       (5 * 60 * 1000)
#define SOAI_HINT_CAP_MS          (15 * 60 * 1000)
#define SOAI_AUTH_RECHECK_MIN_MS  (5 * 1000)
#define SOAI_AUTH_RECHECK_MAX_MS  (15 * 60 * 1000)
#define SOAI_OUTAGE_STREAK        4 /* failures in a row that mean "the API is down" */
#define SOAI_OUTAGE_CAP_MS        (60 * 1000)
#define SOAI_MISSING_AFTER        3   /* 404s in a row that mark a job missing */
#define SOAI_MIN_RETRY_MS         100 /* a 0 or tiny retry hint must not loop */
/* Checkpoints are read when the events suggest one was made (a message,
 * an epoch-end full_valid_* metric), when the job finishes, and otherwise
 * after this many cycles that brought new events. */
#define SOAI_CHECKPOINT_EVERY 10

enum soai_phase {
	SOAI_PH_JOB,
	SOAI_PH_EVENTS,
	SOAI_PH_CHECKPOINTS,
	SOAI_PH_RESULTS,
};

struct soai_src;

struct soai_watch {
	struct soai_src *src;
	struct soai_watch *next; /* all jobs of the source */
	struct workq_item qitem; /* in the source's ready queue */
	int64_t id;              /* store job id */
	char *external_id;
	char *status;
	char *cursor; /* newest stored event id */
	/* A walk that was cut stored its pages but could not move the cursor
	 * (events between its oldest page and the cursor were unread): the
	 * next walk resumes below resume_after, and once it meets the cursor,
	 * pending_cursor (the newest event of the cut walk) becomes it. */
	char *pending_cursor;
	char *resume_after;
	unsigned cuts;     /* walks cut in a row */
	char *result_file; /* from the last job object */
	bool results_done;
	bool done;    /* finished and result file stored */
	bool missing; /* 404: not polled until asked */
	bool untracked;
	bool new_events; /* this cycle stored events */
	enum soai_phase phase;
	/* Fingerprints of the last job object and first events page that
	 * were fully stored: a poll that returns the same bytes has nothing
	 * new, and skips parsing and writing (the common case while a job
	 * runs).  0 = unknown. */
	uint64_t job_hash;
	uint64_t events_hash;
	uint64_t first_page_hash; /* of the walk in progress */
	uint64_t ckpt_hash;       /* of the last checkpoints page stored */
	int64_t total_steps;      /* as stored; -1 unknown */
	bool ckpt_due;            /* events hint that a checkpoint appeared */
	unsigned cycles_since_ckpt;
	unsigned attempt;   /* failures in a row */
	unsigned not_found; /* 404s in a row on the job object */
	unsigned ckpt_pages;
	char *ckpt_after;
	struct oai_walk walk;
	struct http_request *req; /* in flight, or NULL */
	struct soai_parse *parse; /* its events page in the thread pool, or NULL */
	uv_timer_t timer;
};

struct soai_probe; /* a pending track request: source_openai.c */
struct soai_parse; /* an events page parsed off the loop: source_openai_events.c */
struct soai_act;   /* a pending act request: source_openai_act.c */

#define SOAI_REFUSED_LOGGED 256

struct soai_src {
	struct source base;
	const struct source_env *env; /* borrowed */
	struct ingest *in;            /* env->ingest */
	struct soai_watch *jobs;
	size_t njobs;
	struct workq queue; /* ready jobs; counts every request in flight */
	char *auth_header;  /* "Authorization: Bearer ..." (secret) */
	char *org_header, *project_header;
	bool unauthorized;
	bool auth_logged; /* the refusal was logged; quiet until it clears */
	bool destroying;
	bool store_failing;     /* the last write failed; cleared by a full cycle */
	int open_handles;       /* timers (and parses) still to close on destroy */
	unsigned parsing;       /* events pages in the thread pool */
	struct retry_hold hold; /* 429 and outage holds, monotonic ms */
	uv_timer_t discover_timer;
	uv_timer_t pump_timer;
	uv_timer_t auth_timer;
	char *key_error; /* why there is no usable key, or NULL */
	struct http_request *discover_req;
	LIST_HEAD(, soai_probe) probes;
	LIST_HEAD(, soai_act) acts;
	char *discover_after;
	unsigned discover_pages;
	int64_t last_poll;
	char *last_error;      /* cleared by the next request that succeeds */
	int64_t last_error_at; /* wall clock, with it */
	/* Since when the source has been unwell (wall clock; 0: it is not):
	 * requests failing since the last success, the key refused, writes
	 * failing. */
	int64_t failing_since, unauthorized_since, store_failing_since, key_error_at;
	uint64_t requests, errors, malformed, retries, auth_failures, not_found;
	uint64_t walks_cut;
	uint64_t parsed_away; /* events pages parsed in the thread pool */
	char *last_walk_cut;  /* why and where the last walk was cut, or NULL */
	uint64_t last_warn_ms;
	/* Hashes of the job list ids refused and logged, so each is logged
	 * once (a ring: past its size an old one may be logged again). */
	uint64_t refused_logged[SOAI_REFUSED_LOGGED];
	size_t nrefused_logged;
};

/* ---- helpers for every file ---- */

static inline const struct conf_source *
soai_conf(struct soai_src *s)
{
	return s->base.conf;
}

/* Time and randomness come from the environment's clock, so the
 * scheduler runs on a fake one in tests. */
static inline int64_t
soai_now(struct soai_src *s)
{
	return clock_now(s->env->clock);
}

static inline uint64_t
soai_mono(struct soai_src *s)
{
	return clock_monotonic_ms(s->env->clock);
}

static inline double
soai_rand01(struct soai_src *s)
{
	return clock_random(s->env->clock);
}

/* Random jitter in [0, range). */
static inline uint64_t
soai_jitter(struct soai_src *s, uint64_t range)
{
	return range ? (uint64_t)((double)range * soai_rand01(s)) : 0;
}

static inline uint64_t
soai_poll_delay(struct soai_src *s)
{
	uint64_t iv = soai_conf(s)->poll_interval_ms;
	/* poll_interval +-10% so jobs found together drift apart. */
	return iv - iv / 10 + soai_jitter(s, iv / 5 + 1);
}

/* A request or a parse of its answer is under way: nothing else may start
 * the job's next step. */
static inline bool
soai_watch_busy(const struct soai_watch *j)
{
	return j->req != NULL || j->parse != NULL;
}

/* ---- source_openai.c: requests and their outcome ---- */

/* Record an error for `status`, and log it without flooding: at most one
 * warning every 10 s per source, the rest at debug level. */
void soai_error(struct soai_src *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* base_url + path (+ "/" + escaped id + suffix) + query + api-version;
 * malloc'd (soai_get takes it).  id, suffix, query_* may be NULL; limit 0
 * leaves it out. */
char *soai_url(struct soai_src *s, const char *path, const char *id, const char *suffix,
               const char *query_key, const char *query_value, int limit);
typedef void (*soai_response_cb)(struct http_response *resp, void *data);
/* Start an authenticated GET of url (taken and freed) that counts in the
 * source's queue; cb(resp, data) follows.  NULL if it could not start. */
struct http_request *soai_get(struct soai_src *s, char *url, soai_response_cb cb, void *data);
/* Classify a response.  Returns true when the body may be used; otherwise
 * arranges what happens next for job j (NULL: discovery). */
bool soai_check_response(struct soai_src *s, struct soai_watch *j, struct http_response *r,
                         const char *what);
/* A successful response: clears the refusal, the holds and the last error. */
void soai_authorized(struct soai_src *s);
/* Drop one closed handle; frees the source with the last one once it is
 * being destroyed. */
void soai_src_unref(struct soai_src *s);

/* ---- source_openai_cycle.c: watched jobs and their poll cycle ---- */

/* Watch a stored job (strings copied); its first poll is the caller's to
 * schedule.  The watch belongs to s. */
struct soai_watch *soai_watch_add(struct soai_src *s, int64_t id, const char *external_id,
                                  const char *status, const char *cursor, bool results_done);
/* Stop watching a job: cancels its request, frees it once its timer has
 * closed (j is unusable after the call). */
void soai_watch_remove(struct soai_watch *j);
/* The watch of store job id, or NULL. */
struct soai_watch *soai_watch_find(struct soai_src *s, int64_t id);
/* Forget what the watch believes about the job, so the next poll reads and
 * stores everything again. */
void soai_watch_forget(struct soai_watch *j);
/* The store was replaced: the job is row id there and nothing of it is
 * stored yet.  Drops the request in flight and polls the job from the start
 * (no cursor, results not done) now. */
void soai_watch_restart(struct soai_watch *j, int64_t id);
/* Run the job's next request after delay_ms; 0 queues it now. */
void soai_job_schedule(struct soai_watch *j, uint64_t delay_ms);
/* Start queued requests while there is room. */
void soai_pump(struct soai_src *s);
/* What a job object says, as the store's fields (borrowed from job). */
void soai_job_info(const struct oai_job *job, struct store_job_info *info);
/* Issue the request for the job's current phase (or queue it). */
void soai_job_request(struct soai_watch *j);
/* The events phase is over: read checkpoints when due, else end the cycle. */
void soai_job_after_events(struct soai_watch *j);
/* A 200 whose body could not be used: retry it like a transient error (j
 * may be NULL: nothing to reschedule). */
void soai_malformed(struct soai_src *s, struct soai_watch *j, const char *what, const char *why);
/* Storing failed: roll back, say why, retry the job later. */
void soai_store_failed(struct soai_src *s, struct soai_watch *j, const char *what, int rc);

/* ---- source_openai_events.c: the events phase ---- */

/* Begin the events phase: walk from the newest event to the cursor. */
void soai_job_start_events(struct soai_watch *j);
/* Forget where a cut walk was to resume: the next walk starts from the top. */
void soai_resume_clear(struct soai_watch *j);
/* An events page arrived: feed the walk, store the page, ask for the next
 * one or end the phase (soai_job_after_events).  A big page is parsed in
 * the thread pool first (j->parse; it takes r's body). */
void soai_job_on_events(struct soai_watch *j, struct http_response *r);
/* The watch goes away or starts over: a page of it being parsed is
 * dropped when its parse ends. */
void soai_parse_orphan(struct soai_watch *j);

/* ---- source_openai_discover.c: the job list ---- */

/* Fetch the job list after delay ms (when discovery is configured). */
void soai_discover_schedule(struct soai_src *s, uint64_t delay);
/* Fetch the next page of the job list (the first when s->discover_after is
 * NULL), or reschedule while the source is held, refused or has no key. */
void soai_discover_start(struct soai_src *s);

/* ---- act (source_openai_act.c) ---- */

/* The `act` op (source.h). */
int soai_act(struct source *src, int64_t job_id, const char *action, source_act_done done,
             void *data, char **err);
/* Destroying: cancel every act request, answering -ECANCELED. */
void soai_act_destroy_all(struct soai_src *s);
/* poll_now, for an act that succeeded. */
int soai_poll_now(struct source *src, int64_t job_id);

#endif
