/*
 * cli_read: the handlers of ftmonctl's commands that only look: build the
 * request from the parsed arguments, call, and hand the result to a view
 * (cli_views.c); metrics and plot are in cli_plot.h, watch in cli_watch.h.
 * Each returns an exit status; c and a are the caller's.
 */
#ifndef FTMON_CLI_READ_H
#define FTMON_CLI_READ_H

#include "cli.h"

int cli_read_ping(struct cli *c, struct cli_args *a);
int cli_read_status(struct cli *c, struct cli_args *a);
int cli_read_jobs(struct cli *c, struct cli_args *a);
int cli_read_show(struct cli *c, struct cli_args *a);
int cli_read_events(struct cli *c, struct cli_args *a);
int cli_read_alerts(struct cli *c, struct cli_args *a);

#endif
