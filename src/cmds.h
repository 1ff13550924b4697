/*
 * cmds: the control commands.  A declarative table maps each command to
 * its handler and says whether it changes state (then the peer must be
 * allowed to mutate).  Handlers read the store and ask the daemon through
 * the narrow table below; they never reach into a source's internals, and
 * never see the daemon itself.
 */
#ifndef FTMON_CMDS_H
#define FTMON_CMDS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct cmds;
struct control_client;
struct control_peer;
struct source;
struct store;
struct watch;

/* What a command may ask of the daemon; data is cmds_host.data. */
struct cmds_host_ops {
	/* Re-read the configuration.  0, or -1 with *errors set to a
	 * NULL-terminated malloc'd list (one "FILE:LINE: message" each) that
	 * the caller frees with util_strv_free; the running one stays. */
	int (*reload)(void *data, char ***errors);
	/* The running sources, borrowed until the next reload. */
	size_t (*source_count)(void *data);
	struct source *(*source_at)(void *data, size_t i);
	/* Add the daemon's own fields to a status result (version, uptime,
	 * config and its errors, database, clients). */
	void (*describe)(void *data, cJSON *status);
	/* Whether the peer may run mutating commands. */
	bool (*may_mutate)(void *data, const struct control_peer *peer);
	/* The configured admin_group for messages, or NULL. */
	const char *(*admin_group)(void *data);
};

struct cmds_host {
	const struct cmds_host_ops *ops;
	void *data;
	struct store *store; /* read queries; borrowed */
	struct watch *watch; /* watch streams; borrowed, NULL: watch is refused */
};

/* host is copied; what it points to is borrowed and outlives the cmds. */
struct cmds *cmds_new(const struct cmds_host *host);
/* Forgets clients waiting for an answer (control_free tells them). */
void cmds_free(struct cmds *c);
/* Handle one request line from cl and queue the reply on cl (now or, for
 * a command that waits on a source, later).  The signature of
 * control_dispatch_fn: data is the struct cmds. */
void cmds_dispatch(void *data, struct control_client *cl, const char *line, size_t len);

#endif
