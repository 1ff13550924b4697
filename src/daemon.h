/*
 * daemon: the daemon's lifecycle.  Init order (store, ingest, HTTP engine,
 * control socket, sources), READY=1, the signals, reload fan-out (a new
 * config swaps in whole or not at all; kept sources are told, changed ones
 * rebuilt), and an orderly stop.  main() in ftmond.c only parses options
 * and hands over.
 *
 * Modules never see struct daemon: sources get a struct source_env,
 * commands a struct cmds_host.
 */
#ifndef FTMON_DAEMON_H
#define FTMON_DAEMON_H

#include <stdbool.h>

struct conf;
struct daemon;
struct uv_loop_s;

/* Read and check a configuration the way start, reload (starting true)
 * and `ftmond -t` (false) do: the file itself and what the sources need from outside it (a key
 * file that can be read, a variable that is set).  Returns the conf, or
 * NULL with *errors set to a NULL-terminated malloc'd list of
 * "FILE:LINE: message" (free with util_strv_free). */
struct conf *daemon_load_config(const char *path, bool starting, char ***errors);

/* Open the store and the control socket and prepare the loop; conf is
 * taken over (and freed on failure).  NULL with *err (malloc'd) when the
 * daemon cannot start. */
struct daemon *daemon_new(struct uv_loop_s *loop, struct conf *conf, bool verbose, char **err);
/* Start the sources, tell systemd READY=1 and run the loop until SIGTERM
 * or SIGINT have stopped everything.  Returns the exit status. */
int daemon_run(struct daemon *d);
/* After daemon_run: the store and the configuration. */
void daemon_free(struct daemon *d);

#endif
