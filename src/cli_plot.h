/*
 * cli_plot: ftmonctl's `metrics` and `plot` handlers: the request from
 * the parsed arguments, the call, and the table, CSV, terminal plot or
 * JSON of what the plot draws (cli_series.c).  The terminal's width, its
 * locale's charset and whether it gets colour are looked up here, never
 * in the pure modules.  Each returns an exit status; c and a are the
 * caller's.
 */
#ifndef FTMON_CLI_PLOT_H
#define FTMON_CLI_PLOT_H

#include "cli.h"

int cli_plot_metrics(struct cli *c, struct cli_args *a);
int cli_plot_plot(struct cli *c, struct cli_args *a);

#endif
