/*
 * cli: what one run of ftmonctl shares between the command table
 * (cli_cmds) and the handlers (cli_read, cli_mutate): the run's state, a
 * command's parsed arguments, and the call-then-print shape of a handler.
 * Kept apart from the table so that the table can name the handlers
 * without the handlers including the table.
 */
#ifndef FTMON_CLI_H
#define FTMON_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	bool force; /* forget --force */
	const char *status, *source;
	const char **metrics;
	size_t nmetrics;
	bool has_since, has_until, has_points, has_limit;
	int64_t since, until, points, limit;
	int width, height;  /* 0 = default */
	bool log;           /* plot --log */
	const char *output; /* report -o FILE */
	char **pos;         /* operands */
	int npos;
};

/* The common shape of a handler: send cmd with args (owned by this call),
 * then print the result as JSON with --json, else as the text render
 * appends to c->out.text (render returns an exit status).  Returns the
 * exit status. */
int cli_call(struct cli *c, const char *cmd, cJSON *args,
             int (*render)(struct cli *c, const struct cli_args *a, const cJSON *result),
             const struct cli_args *a);

#endif
