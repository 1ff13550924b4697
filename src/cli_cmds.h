/*
 * cli_cmds: ftmonctl's commands as a declarative table (name, synopsis,
 * help, accepted options, operand counts, handler), the parsing of a
 * command's options and operands that the table drives, and the --help
 * texts it generates.  Handlers live in cli_read.c and cli_mutate.c.
 */
#ifndef FTMON_CLI_CMDS_H
#define FTMON_CLI_CMDS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "cli.h"

/* Find the command named by argv[0] (exactly, or a unique prefix), parse
 * its options and operands, and run it.  argv is borrowed for the whole
 * run.  Returns the exit status, after printing why when it is not 0. */
int cli_cmds_run(struct cli *c, int argc, char **argv);

/* The top-level usage: global options and the list of commands. */
void cli_cmds_usage(FILE *f);

/* Report a getopt_long failure (opt is '?' or ':', argv the vector getopt
 * saw) as one usage error; cmd is NULL for the global options.  Returns
 * CLI_EXIT_USAGE. */
int cli_cmds_opt_error(const char *cmd, int opt, char **argv);

#endif
