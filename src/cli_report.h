/*
 * cli_report: ftmonctl's `report JOB... -o FILE.html` handler: asks the
 * daemon for each job and its metrics (downsampled to REPORT_POINTS per
 * metric), has report.c build the document, and writes it atomically (a
 * temporary file beside FILE, then rename).  Returns an exit status; c
 * and a are the caller's.
 */
#ifndef FTMON_CLI_REPORT_H
#define FTMON_CLI_REPORT_H

#include "cli.h"

/* Points per metric a report asks for: about one per pixel of a chart. */
#define CLI_REPORT_POINTS 1000

int cli_report_run(struct cli *c, struct cli_args *a);

#endif
