/*
 * openai_parse: everything ftmon understands about the OpenAI fine-tuning
 * wire format, as pure functions over buffers and structs (no I/O, no
 * logging): the job object, list pages of jobs / events / checkpoints, the
 * newest-first event-page walk, the result file (CSV or base64 CSV), HTTP
 * status classification and retry delays.  See
 * shared/reference/openai-api.md for the format and its quirks.
 *
 * Parsers are defensive: wrong types, nulls where objects are expected,
 * unknown keys and huge numbers never crash; a value that cannot be used is
 * dropped, a body that cannot be used returns -EINVAL with *why set to a
 * static message.  Every string in a parsed struct is owned by that struct.
 */
#ifndef FTMON_OPENAI_PARSE_H
#define FTMON_OPENAI_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Bounds on hostile input. */
#define OAI_MAX_ID          256  /* longer ids are rejected */
#define OAI_MAX_TEXT        4096 /* longer messages are truncated */
#define OAI_MAX_METRIC_NAME 64   /* longer metric names are dropped */
#define OAI_MAX_METRICS     64   /* per event / per row; extra ones dropped */

/* A job object.  Integers are -1 when the server sent null or nothing. */
struct oai_job {
	char *id;
	char *status;           /* as sent; "" never: missing status is an error */
	char *model;            /* NULL when absent */
	char *fine_tuned_model; /* NULL when null */
	int64_t created_at;
	int64_t finished_at;
	int64_t estimated_finish;
	int64_t trained_tokens;
	char *error;         /* "code: message" only when message is non-empty */
	char **result_files; /* NULL-terminated; never NULL itself */
};

struct oai_metric {
	char *name;
	double value;
};

struct oai_event {
	char *id;
	int64_t created_at;
	char *level;                /* NULL when absent */
	char *message;              /* NULL when absent */
	bool is_metrics;            /* type == "metrics" with an object data */
	int64_t step;               /* -1 when none */
	int64_t total_steps;        /* -1 when none: job data, not a metric */
	struct oai_metric *metrics; /* every numeric key of data except step, total_steps */
	size_t nmetrics;
};

struct oai_checkpoint {
	char *id;
	int64_t created_at;
	char *model;        /* fine_tuned_model_checkpoint */
	int64_t step;       /* step_number (a float such as 100.0 is accepted) */
	char *metrics_json; /* the metrics object re-serialised, or NULL */
};

/* One list page: {"object":"list","data":[...],"has_more":bool}.  Elements
 * that fail to parse are skipped and counted in nbad. */
struct oai_job_page {
	struct oai_job *jobs;
	size_t n;
	size_t nbad;
	bool has_more;
};
struct oai_event_page {
	struct oai_event *events; /* in server order: newest first */
	size_t n;
	size_t nbad;
	bool has_more;
};
struct oai_checkpoint_page {
	struct oai_checkpoint *checkpoints;
	size_t n;
	size_t nbad;
	bool has_more;
};

int oai_parse_job(const cJSON *obj, struct oai_job *out, const char **why);
int oai_parse_job_body(const char *body, size_t len, struct oai_job *out, const char **why);
int oai_parse_job_page(const char *body, size_t len, struct oai_job_page *out, const char **why);
int oai_parse_event_page(const char *body, size_t len, struct oai_event_page *out,
                         const char **why);
int oai_parse_checkpoint_page(const char *body, size_t len, struct oai_checkpoint_page *out,
                              const char **why);
void oai_job_clear(struct oai_job *job);
void oai_event_clear(struct oai_event *ev);
void oai_checkpoint_clear(struct oai_checkpoint *ck);
void oai_job_page_clear(struct oai_job_page *page);
void oai_event_page_clear(struct oai_event_page *page);
void oai_checkpoint_page_clear(struct oai_checkpoint_page *page);

/* True for succeeded, failed, cancelled. */
bool oai_status_finished(const char *status);

/*
 * The incremental event walk (reference §1.2).  Events come newest first;
 * the walk collects events until it meets stop_id (the newest event already
 * stored) or the pages run out, following `after=<last id>`.  It stops on a
 * repeated cursor, an empty page or after max_pages pages (then `truncated`
 * is set: older events were not reached).
 */
struct oai_walk {
	char *stop_id; /* owned copy; NULL = collect everything */
	unsigned max_pages;
	unsigned pages;
	bool found_stop;          /* stop_id was met */
	bool truncated;           /* stopped by the page cap or a repeated cursor */
	bool finished;            /* oai_walk_finish has put the events oldest first */
	char *after;              /* owned: cursor for the next page */
	struct oai_event *events; /* collected, newest first, owned */
	size_t n;
	size_t cap;
};
enum oai_walk_next { OAI_WALK_MORE, OAI_WALK_DONE };
void oai_walk_init(struct oai_walk *w, const char *stop_id, unsigned max_pages);
/* Feed the next page.  The walk takes the page's events (page is left
 * empty).  OAI_WALK_MORE: fetch again with after = w->after. */
enum oai_walk_next oai_walk_feed(struct oai_walk *w, struct oai_event_page *page);
/* The newest collected event id (the new cursor), or NULL if none. */
const char *oai_walk_newest_id(const struct oai_walk *w);
/* Reverse the collected events into oldest-first order (call once, when done). */
void oai_walk_finish(struct oai_walk *w);
void oai_walk_clear(struct oai_walk *w);

/* A metric value at a step, from the result file. */
struct oai_point {
	int64_t step;
	const char *name; /* points into a static table or the names[] of the result */
	double value;
};
struct oai_result {
	struct oai_point *points; /* in file order */
	size_t n;
	char **names; /* owned metric names, NULL-terminated */
	size_t nbad;  /* rows that could not be read */
};
/*
 * Parse a result file: CSV whose first line is a header starting with
 * "step"; if the body does not start with "step," it is base64-decoded
 * first.  Columns are read by header name; train_accuracy is stored as
 * train_mean_token_accuracy; empty cells are missing values.  -EINVAL with
 * *why when neither form gives a CSV with a step column.
 */
int oai_parse_result_file(const char *body, size_t len, struct oai_result *out, const char **why);
void oai_result_clear(struct oai_result *res);

/* What a poller should do with an HTTP status (0 = transport error). */
enum oai_http_class {
	OAI_HTTP_OK,        /* 2xx */
	OAI_HTTP_RETRY,     /* 408, 409, 429, 5xx, transport errors */
	OAI_HTTP_AUTH,      /* 401, 403 */
	OAI_HTTP_NOT_FOUND, /* 404 */
	OAI_HTTP_FATAL,     /* any other status */
};
enum oai_http_class oai_classify_status(long status);

/*
  * Delay before retry number `attempt` (0 for the first retry).  A server
 * hint greater than zero wins: retry-after-ms (float milliseconds), else retry-after (float
 * seconds, or an HTTP date compared against now), capped at cap_ms.
 * Otherwise min(500ms * 2^attempt, cap_ms) times a jitter factor
 * (1 - 0.25 * rand01).  Either header may be NULL.
 */
uint64_t oai_retry_delay_ms(unsigned attempt, const char *retry_after_ms, const char *retry_after,
                            int64_t now, double rand01, uint64_t cap_ms);

#endif
