/*
 * cli_mutate: the handlers of ftmonctl's commands that change something
 * (ack, track, untrack, forget, poll, reload, log).  Each checks its operands,
 * sends one request and prints one confirmation line.  Each returns an
 * exit status; c and a are the caller's.
 */
#ifndef FTMON_CLI_MUTATE_H
#define FTMON_CLI_MUTATE_H

#include "cli.h"

int cli_mutate_ack(struct cli *c, struct cli_args *a);
int cli_mutate_track(struct cli *c, struct cli_args *a);
int cli_mutate_untrack(struct cli *c, struct cli_args *a);
int cli_mutate_forget(struct cli *c, struct cli_args *a);
int cli_mutate_poll(struct cli *c, struct cli_args *a);
int cli_mutate_reload(struct cli *c, struct cli_args *a);
int cli_mutate_log(struct cli *c, struct cli_args *a);

#endif
