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

#include "cli_conn.h"
#include "cli_out.h"

/* One run of ftmonctl: the connection, the output, and the time ages are
 * measured at. */
struct cli {
	struct cli_conn conn;
	struct cli_out out;
	int64_t now;
};

/* The parsed command line of one command.  Strings are borrowed from argv;
 * metrics is owned (cli_cmds_run frees it). */
struct cli_args {
	bool all, csv;
	const char *status, *source;
	const char **metrics;
	size_t nmetrics;
	bool has_since, has_until, has_points, has_limit;
	int64_t since, until, points, limit;
	int width, height; /* 0 = default */
	char **pos;        /* operands */
	int npos;
};

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

/* The common shape of a handler: send cmd with args (owned by this call),
 * then print the result as JSON with --json, else as the text render
 * appends to c->out.text (render returns an exit status).  Returns the
 * exit status. */
int cli_cmds_call(struct cli *c, const char *cmd, cJSON *args,
                  int (*render)(struct cli *c, const struct cli_args *a, const cJSON *result),
                  const struct cli_args *a);

#endif
