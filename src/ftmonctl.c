/*
 * ftmonctl: the command-line client of ftmond's control socket.
 *
 * Each command sends one request line and reads one reply line (watch keeps
 * reading until EOF or Ctrl-C), then prints the reply's result either as a
 * table for people or, with --json, as the JSON document itself for
 * scripts.  This file only reads the global options; the command table
 * (cli_cmds.c) takes it from there:
 *
 *   cli_cmds   table, option parsing, --help
 *   cli_read   cli_mutate   the handlers: request, call, output
 *   cli_conn   the socket       cli_out   stdout and stderr
 *   cli_views  cli_series  cli_json   pure text from results (render.c below)
 *
 * Exit status: 0 success, 1 the daemon refused the request (ok:false),
 * 2 usage error, 3 the daemon cannot be reached or did not answer properly.
 * Every error is one line on stderr.
 */
#include "config.h"

#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli_cmds.h"
#include "log.h"
#include "util.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

enum {
	FTMONCTL_OPT_JSON = 256,
	FTMONCTL_OPT_VERSION,
};

/* Global options; returns -1 to go on with argv[optind], else a status. */
static int
ftmonctl_parse_global(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"socket", required_argument, NULL, 's'},
	        {"json", no_argument, NULL, FTMONCTL_OPT_JSON},
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, FTMONCTL_OPT_VERSION},
	        {NULL, 0, NULL, 0},
	};
	int opt;

	opterr = 0;
	/* "+": stop at the command, whose options are its own. */
	while ((opt = getopt_long(argc, argv, "+:s:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (*optarg == '\0')
				return cli_fail(CLI_EXIT_USAGE, "-s needs a socket path");
			c->conn.socket = optarg;
			break;
		case FTMONCTL_OPT_JSON:
			c->out.json = true;
			break;
		case 'h':
			cli_cmds_usage(stdout);
			return CLI_EXIT_OK;
		case FTMONCTL_OPT_VERSION:
			printf("ftmonctl %s\n", PACKAGE_VERSION);
			return CLI_EXIT_OK;
		default:
			return cli_cmds_opt_error(NULL, opt, argv);
		}
	}
	if (optind >= argc)
		return cli_fail(CLI_EXIT_USAGE, "no command given (see 'ftmonctl --help')");
	if (c->conn.socket == NULL) {
		const char *env = getenv("FTMON_SOCKET");
		c->conn.socket = env != NULL && *env != '\0' ? env : CLI_CONN_DEFAULT_SOCKET;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	struct cli c = {.conn = CLI_CONN_INIT, .out = CLI_OUT_INIT};
	int rc;

	log_init("ftmonctl");
	setlocale(LC_CTYPE, "");
	/* A closed socket or stdout must be an error return, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	c.now = util_now();

	rc = ftmonctl_parse_global(&c, argc, argv);
	if (rc < 0)
		rc = cli_cmds_run(&c, argc - optind, argv + optind);
	if (rc == CLI_EXIT_OK)
		rc = cli_out_flush(&c.out);
	else if (c.out.json)
		cli_out_json_error(&c.out, rc);
	cli_conn_close(&c.conn);
	cli_out_free(&c.out);
	return rc;
}
