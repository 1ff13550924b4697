/*
 * cli_watch: `ftmonctl watch [JOB]`.  On a terminal (and without --json)
 * a board redrawn in place, at most a few times a second and only when
 * something changed (cli_board.h); otherwise one JSON line per stream
 * line, as the daemon sent it (watch.h has the shapes).  Ctrl-C ends it
 * with status 0 and the cursor restored; the daemon going away is a
 * message and status 3.
 */
#ifndef FTMON_CLI_WATCH_H
#define FTMON_CLI_WATCH_H

#include "cli.h"

/* Returns the exit status; c and a are the caller's. */
int cli_watch_run(struct cli *c, struct cli_args *a);

#endif
