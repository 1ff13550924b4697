/*
 * cli_out: where ftmonctl's words go.  Errors are one sanitized line each
 * on stderr; a command's output is built in a buffer and written to stdout
 * at once, either as text for people or, with --json, as the daemon's own
 * JSON document.
 */
#ifndef FTMON_CLI_OUT_H
#define FTMON_CLI_OUT_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "cli_views.h"

/* Exit status of ftmonctl (see the man page). */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_REFUSED = 1,     /* the daemon answered ok:false */
	CLI_EXIT_USAGE = 2,       /* bad command line */
	CLI_EXIT_UNREACHABLE = 3, /* no daemon, or no valid reply */
};

struct cli_out {
	struct buf text;  /* output not yet written to stdout */
	bool json;        /* --json: print results as JSON */
	bool stdout_gone; /* the reader of stdout went away (EPIPE) */
};

#define CLI_OUT_INIT             \
	{                        \
		.text = BUF_INIT \
	}

/* Print "ftmonctl: MESSAGE" on stderr, sanitized to one line (after
 * flushing stdout, so the two interleave in order).  Returns status, so
 * callers can write `return cli_fail(...)`. */
int cli_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Under --json an error is also a document on stdout: {"ok": false,
 * "error": {...}} with the daemon's own error object when it refused
 * (cli_out_refused keeps a copy of err, borrowed), else {"code": "usage" |
 * "unreachable" | "failed", "message": the last cli_fail line}.  Written
 * by cli_out_json_error for status (not 0). */
void cli_out_refused(const cJSON *err);
void cli_out_json_error(struct cli_out *o, int status);

/* cli_fail for each line of text (a NUL-terminated, '\n'-separated block,
 * not modified); returns status. */
int cli_fail_lines(int status, const char *text);

/* Write o->text to stdout and empty it.  A reader that went away is not an
 * error (it sets o->stdout_gone); returns an exit status. */
int cli_out_flush(struct cli_out *o);

/* Write a result as one JSON document on its own line, then flush.  The
 * daemon's own text of the "result" member of reply (len bytes, the raw
 * reply line, borrowed) is copied verbatim when it can be found, since
 * re-encoding would print 2.0 as 2; v (borrowed) is the fallback. */
int cli_out_json(struct cli_out *o, const char *reply, size_t len, const cJSON *v);

/* How views may draw on this stdout: its terminal's width (else $COLUMNS,
 * else 80), colour only on a terminal without NO_COLOR or TERM=dumb, UTF-8
 * when the locale's codeset is. */
struct cli_views_opts cli_out_views_opts(void);
bool cli_out_is_terminal(void);

/* Free the buffer; o can be reused after CLI_OUT_INIT. */
void cli_out_free(struct cli_out *o);

#endif
