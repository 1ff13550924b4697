/*
 * source: the interface every kind of source implements, so the daemon and
 * the control commands treat openai, jsonl and push sources alike.  Each
 * source file is the only one that knows its wire format; a source writes
 * through the ingest path (ingest.h) and nothing else, and reads the store
 * only to resume.  Sources are built by type in sources.c, which is the
 * only file that knows every concrete source.
 */
#ifndef FTMON_SOURCE_H
#define FTMON_SOURCE_H

#include <stdint.h>

#include <cjson/cJSON.h>

struct clock;
struct conf_source;
struct http;
struct ingest;
struct source;
struct store;
struct uv_loop_s;

/* What a source is given to work with, instead of the daemon.  Every
 * pointer is borrowed and outlives every source. */
struct source_env {
	struct uv_loop_s *loop;
	struct ingest *ingest;     /* the one write path */
	struct store *store;       /* reads only: resume state */
	struct http *http;         /* the HTTP engine */
	const struct clock *clock; /* time and randomness for scheduling */
};

/* The answer to a track request, called once on the loop (never from
 * inside track itself): rc 0 and the stored job id, or a negative errno
 * and why (borrowed for the call). */
typedef void (*source_track_done)(void *data, int rc, int64_t job_id, const char *why);
/* The answer to an act request, called once on the loop: rc 0 (the API
 * accepted it) or a negative errno, and what the API said (borrowed).
 * A source destroyed first calls it with -ECANCELED. */
typedef void (*source_act_done)(void *data, int rc, const char *result);

/* ---- push: the `log` command (logreq.h has the request) ---- */
struct logreq;
struct source_log_result {
	int64_t job_id;
	size_t values;     /* metric values in the request */
	size_t new_values; /* of those, not stored before */
};
/* The answer to one log request, called once on the loop (never from
 * inside log itself): rc 0 and res, or a negative errno and why (both
 * borrowed for the call). */
typedef void (*source_log_done)(void *data, int rc, const struct source_log_result *res,
                                const char *why);

struct source_ops {
	/* Begin work on the loop (timers, polls).  0 or -errno with *err. */
	int (*start)(struct source *src, char **err);
	/* Poll job_id now (0: every job and discovery). 0, or -ENOENT. */
	int (*poll_now)(struct source *src, int64_t job_id);
	/* Begin watching external_id once the source has checked that the
	 * job exists; done(data, ...) follows later.  Returns 0, or -errno
	 * with *err (malloc'd) when refused at once (done is then not
	 * called).  May be NULL: the source does not track by id. */
	int (*track)(struct source *src, const char *external_id, source_track_done done,
	             void *data, char **err);
	/* Forget the pending track requests made with data: done will not be
	 * called for them (the client that asked has gone). */
	void (*track_cancel)(struct source *src, void *data);
	/* Stop watching job_id. 0 or -ENOENT. */
	int (*untrack)(struct source *src, int64_t job_id);
	/* The configuration was reloaded and this source kept (its section
	 * did not change): re-read secrets, retry what was refused.  May be
	 * NULL. */
	void (*reload)(struct source *src);
	/* The database was deleted or replaced and the store reopened at its
	 * path (store_reopen): every store job id and resume state the source
	 * holds names nothing now.  Store the jobs it watches again and read
	 * them from the start, so what the old file had comes back from the
	 * API.  May be NULL (a source that keeps no such state). */
	void (*resync)(struct source *src);
	/* Health for `status`: {"health", "health_since", "last_poll",
	 * "last_error", "last_error_at", ...}; the caller owns the result. */
	cJSON *(*status)(struct source *src);
	/* Stop all work, close handles and free the source once they are
	 * closed (the loop must keep running until then). */
	void (*destroy)(struct source *src);
	/* ---- push ---- */
	/* Store req's points (and status) for the job external_id, created
	 * (running) on first use.  req and external_id are borrowed for the
	 * call.  Requests received in one loop turn commit together, then each
	 * gets done(data, ...); those made with the same data are answered in
	 * the order they were made.  Returns 0, or -errno with *err (malloc'd)
	 * when refused at once (done is then not called).  May be NULL: the
	 * source takes no points. */
	int (*log)(struct source *src, const char *external_id, const struct logreq *req,
	           source_log_done done, void *data, char **err);
	/* The client that made the requests with data has gone: done will not
	 * be called for them (their points are still stored). */
	void (*log_cancel)(struct source *src, void *data);
	/* rules: act on a job ("cancel" or "pause") once, with the source's
	 * retries for transient failures; done(data, ...) follows.  0, or
	 * -errno with *err (malloc'd) when refused at once (done is then not
	 * called).  May be NULL: the source cannot act on its jobs. */
	int (*act)(struct source *src, int64_t job_id, const char *action, source_act_done done,
	           void *data, char **err);
	/* `forget` deleted job_id and all its rows: drop whatever the source
	 * keeps about it (a cached store id would name nothing now).  May be
	 * NULL: the source keeps nothing across steps. */
	void (*forgotten)(struct source *src, int64_t job_id);
};

struct source {
	const struct source_ops *ops;
	char *name;                     /* owned copy of the [source NAME] */
	const struct conf_source *conf; /* borrowed from the running conf; updated on reload */
	const struct source_env *env;   /* borrowed */
};

#endif
