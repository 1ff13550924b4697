/*
 * openai_parse: everything ftmon understands about the OpenAI fine-tuning
 * wire format, as pure functions over buffers and structs (no I/O, no
 * logging): the job object, list pages of jobs / events / checkpoints, the
 * newest-first event-page walk and the mapping of result file columns to
 * points (the reading itself is jsonlax, csv and base64; HTTP status classes
 * and retry delays are in retry).  See
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
/* The largest step (and count) accepted: 2^53 - 1.  A JSON number past it
 * has already been rounded (2^53 + 1 reads as 2^53), and a reply could
 * not carry it exactly, so a larger one is refused, never rounded. */
#define OAI_MAX_STEP 9007199254740991LL
/* A refused id is logged with at most this many of its bytes. */
#define OAI_SHOW_ID 64

/*
 * The one check of an id that goes into a URL path and a key: a job id
 * (from a job list, a job object, or `track`), an event, checkpoint or file
 * id.  1..OAI_MAX_ID bytes of visible ASCII (0x21..0x7e), and not "." or
 * ".." (dot segments a URL resolver would turn into another endpoint).
 * False with *why (may be NULL) set to a static reason.
 */
bool oai_id_valid(const char *s, const char **why);

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
	size_t nrefused; /* values dropped as malformed: a key or text holding a
	                    NUL, a step that is not an integer in 0..OAI_MAX_STEP */
};

struct oai_checkpoint {
	char *id;
	int64_t created_at;
	char *model;        /* fine_tuned_model_checkpoint */
	int64_t step;       /* step_number (a float such as 100.0 is accepted) */
	char *metrics_json; /* the metrics object re-serialised, or NULL */
};

/* A list entry refused for its id, for the caller's log line. */
struct oai_refused {
	char *id;      /* owned: the first OAI_SHOW_ID bytes of the id as sent */
	size_t len;    /* the id's whole length */
	uint64_t hash; /* of the whole id, to log each id once */
	const char *why;
};

/* One list page: {"object":"list","data":[...],"has_more":bool}.  Elements
 * that fail to parse are skipped and counted in nbad; those of a job page
 * with a string id that oai_id_valid() refuses are also in refused. */
struct oai_job_page {
	struct oai_job *jobs;
	size_t n;
	size_t nbad;
	struct oai_refused *refused;
	size_t nrefused;
	bool has_more;
};
struct oai_event_page {
	struct oai_event *events; /* in server order: newest first */
	size_t n;
	size_t nbad;
	size_t nrefused; /* the sum of the events' nrefused */
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

#endif
