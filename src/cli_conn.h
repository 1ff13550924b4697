/*
 * cli_conn: ftmonctl's connection to the daemon's control socket.  One
 * request line out, reply lines in, each bounded in size and (unless the
 * caller streams, as watch does) in time.  Failures are reported on stderr
 * here, once, and returned as an exit status (cli_out.h).
 */
#ifndef FTMON_CLI_CONN_H
#define FTMON_CLI_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"

/* The daemon's default (conf.h): systemd's /run, whatever the prefix. */
#define CLI_CONN_DEFAULT_SOCKET "/run/ftmon/ftmon.sock"
/* Seconds a request may wait for its reply. */
#define CLI_CONN_TIMEOUT_S 30

struct cli_conn {
	const char *socket; /* path, borrowed (argv or the environment) */
	int fd;             /* -1 when not connected */
	struct buf in;      /* bytes received and not yet consumed */
	size_t scanned;     /* bytes of in already searched for '\n' */
	struct buf reply;   /* the last reply line, raw, for --json */
};

#define CLI_CONN_INIT                                       \
	{                                                   \
		.fd = -1, .in = BUF_INIT, .reply = BUF_INIT \
	}

/* Connect to c->socket (closing a previous connection of c and dropping
 * its unread bytes); with timeout, sends and receives give up after
 * CLI_CONN_TIMEOUT_S.  Returns 0 or an exit status. */
int cli_conn_open(struct cli_conn *c, bool timeout);

/* Send the whole of line (borrowed).  Returns 0 or an exit status. */
int cli_conn_send(struct cli_conn *c, const char *line);

/* Read until c->in starts with a complete line.  Returns 0 with *len the
 * line's length (without its '\n'; the caller consumes *len + 1 bytes with
 * buf_consume(&c->in, ...)), 1 at a clean EOF or after
 * cli_conn_catch_signals() caught a signal, or an exit status (> 1). */
int cli_conn_read_line(struct cli_conn *c, size_t *len);

/* Wait up to timeout_ms for a line to read: 1 when c->in holds one or
 * the socket is readable, 0 at the time-out, -1 after a caught signal. */
int cli_conn_wait(struct cli_conn *c, int timeout_ms);

/* Send request cmd with args (owned by this call from now on, NULL for
 * none) on a new connection and read its reply.  Returns 0 with *root (the
 * caller deletes it) and *result borrowed from it, and the raw line in
 * c->reply; else an exit status, *root NULL, after printing why (an ok:false
 * reply is printed by cli_conn_refused). */
int cli_conn_call(struct cli_conn *c, const char *cmd, cJSON *args, bool timeout, cJSON **root,
                  const cJSON **result);

/* Report the error object of an ok:false reply (borrowed) on stderr: the
 * "CODE: message" line, then each entry of its "errors" list on a line of
 * its own.  Returns CLI_EXIT_REFUSED. */
int cli_conn_refused(const cJSON *err);

/* From now on, SIGINT and SIGTERM make a blocked cli_conn_read_line return
 * 1, so a stream can end cleanly; cli_conn_interrupted() tells. */
void cli_conn_catch_signals(void);
bool cli_conn_interrupted(void);

/* Close the socket and free the buffers; c can be reused after
 * CLI_CONN_INIT. */
void cli_conn_close(struct cli_conn *c);

#endif
