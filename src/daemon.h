/*
 * daemon: the state ftmond's modules share on the loop.  main() in
 * ftmond.c owns it; modules receive a pointer and never free it.
 */
#ifndef FTMON_DAEMON_H
#define FTMON_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

struct conf;
struct store;
struct http;
struct control;
struct source;
struct admin;

struct daemon {
	uv_loop_t *loop;
	struct conf *conf;       /* owned; replaced whole on a successful reload */
	struct store *store;     /* owned */
	struct http *http;       /* owned: the one HTTP engine */
	struct control *control; /* owned */
	struct source **sources; /* owned: one per [source] */
	size_t nsources;
	int64_t started_at; /* Unix seconds */
	char *config_error; /* owned: why the last reload failed, or NULL */
	int64_t config_error_at;
	int stopping;
	bool verbose;        /* -v: debug logging whatever the config says */
	struct admin *admin; /* owned: who may mutate (admin_group) */
};

/* Re-read the configuration file; swap only on success.  Returns 0, or -1
 * with *err set to a malloc'd message (the old config stays). */
int daemon_reload(struct daemon *d, char **err);
/* Begin an orderly shutdown (SIGTERM). */
void daemon_stop(struct daemon *d);

#endif
