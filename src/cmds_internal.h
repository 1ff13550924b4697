/*
 * cmds_internal: what the files of the cmds module share (cmds.c, the
 * table and the read-only handlers; cmds_track.c, cmds_log.c,
 * cmds_live.c).  Not an interface for anything outside cmds.
 */
#ifndef FTMON_CMDS_INTERNAL_H
#define FTMON_CMDS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <cjson/cJSON.h>

#include "cmds.h"

struct control_client;
struct source;

struct cmds_logwait;

struct cmds {
	struct cmds_host host;
	LIST_HEAD(, cmds_logwait) logwaits; /* clients pinned by log */
};

/* What a handler returns: a result, or an error code and message. */
struct cmds_reply {
	cJSON *result;    /* owned until sent */
	char *line;       /* owned: the whole reply line, written as text; sent instead of result */
	const char *code; /* static PROTO_E_* when failing */
	char *message;    /* owned */
	char **errors;    /* owned, NULL-terminated: one line per problem, or NULL */
	bool held;        /* the handler keeps the client: it answers later */
};

struct cmds_ctx {
	struct cmds *c;
	struct control_client *cl;
	const cJSON *id;
	const cJSON *args;
};

typedef void (*cmds_handler)(struct cmds_ctx *ctx, struct cmds_reply *r);

/* ---- helpers (cmds.c) ---- */

/* Fail r with a static PROTO_E_* code and a malloc'd message (owned by r). */
void cmds_fail(struct cmds_reply *r, const char *code, char *message);
/* Fail r as internal_error with the database's message for rc. */
void cmds_fail_store(struct cmds_reply *r, struct cmds *c, int rc);
/* For a proto_arg_* rc: false when 0, else fail r naming the argument. */
bool cmds_arg_error(struct cmds_reply *r, int rc, const char *name, const char *type);
/* The running source named name (borrowed until the next reload), or NULL. */
struct source *cmds_source_find(struct cmds *c, const char *name);
/* Resolve the required "job" argument; false with r failed. */
bool cmds_job_arg(struct cmds_ctx *ctx, struct cmds_reply *r, int64_t *job_id);

/* ---- cmds_track.c ---- */

/* {"job": "SOURCE/ID"} of a stored job (the caller owns it). */
cJSON *cmds_job_result(struct cmds *c, int64_t job_id);
/* The PROTO_E_* code for a source's negative errno. */
const char *cmds_track_code(int rc);
void cmds_track(struct cmds_ctx *ctx, struct cmds_reply *r);
void cmds_untrack(struct cmds_ctx *ctx, struct cmds_reply *r);
void cmds_poll(struct cmds_ctx *ctx, struct cmds_reply *r);

/* ---- cmds_log.c ---- */

void cmds_log(struct cmds_ctx *ctx, struct cmds_reply *r);
/* A request other than log (cmd NULL: one that did not parse) from a
 * client whose log answers are still to come waits for them.  True when
 * deferred. */
bool cmds_log_defer(struct cmds *c, struct control_client *cl, const char *cmd);

/* ---- cmds_live.c ---- */

void cmds_watch(struct cmds_ctx *ctx, struct cmds_reply *r);
void cmds_forget(struct cmds_ctx *ctx, struct cmds_reply *r);

#endif
