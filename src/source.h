/*
 * source: the interface every kind of source implements, so the daemon and
 * the control socket treat openai, jsonl and push sources alike.  Each
 * source file is the only one that knows its wire format; sources write to
 * the store and nothing else.
 */
#ifndef FTMON_SOURCE_H
#define FTMON_SOURCE_H

#include <stdint.h>

#include <cjson/cJSON.h>

struct daemon;
struct conf_source;
struct source;

struct source_ops {
	/* Begin work on the loop (timers, polls).  0 or -errno with *err. */
	int (*start)(struct source *src, char **err);
	/* Poll job_id now (0: every job and discovery). 0, or -ENOENT. */
	int (*poll_now)(struct source *src, int64_t job_id);
	/* Begin watching external_id; *job_id is set.  0 or -errno with *err. */
	int (*track)(struct source *src, const char *external_id, int64_t *job_id, char **err);
	/* Stop watching job_id. 0 or -ENOENT. */
	int (*untrack)(struct source *src, int64_t job_id);
	/* The configuration was reloaded and this source kept (its section
	 * did not change): re-read secrets, retry what was refused.  May be
	 * NULL. */
	void (*reload)(struct source *src);
	/* Health for `status`: {"health", "last_poll", "last_error", ...};
	 * the caller owns the result. */
	cJSON *(*status)(struct source *src);
	/* Stop all work, close handles and free the source once they are
	 * closed (the loop must keep running until then). */
	void (*destroy)(struct source *src);
};

struct source {
	const struct source_ops *ops;
	char *name;                     /* owned copy of the [source NAME] */
	const struct conf_source *conf; /* borrowed from daemon->conf; updated on reload */
	struct daemon *daemon;          /* borrowed */
};

/* Create the source for one [source] section (not started).  NULL with
 * *err when it cannot be built. */
struct source *source_new(struct daemon *d, const struct conf_source *cs, char **err);
/* Find a source by name among the daemon's; NULL if none. */
struct source *source_find(struct daemon *d, const char *name);

#endif
