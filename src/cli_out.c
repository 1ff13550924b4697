/*
 * cli_out: stderr for errors, a buffer then stdout for output.
 */
#include "config.h"

#include <errno.h>
#include <langinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli_out.h"
#include "render.h"
#include "util.h"
#include "xmalloc.h"

/* What the last error said, for cli_out_json_error. */
static char cli_out_last[1024];
static cJSON *cli_out_last_refusal;

int
cli_fail(int status, const char *fmt, ...)
{
	va_list ap;
	char line[1024];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	render_sanitize(line);
	if (cli_out_last[0] == '\0')
		memcpy(cli_out_last, line, sizeof(line));
	fflush(stdout);
	fprintf(stderr, "ftmonctl: %s\n", line);
	return status;
}

int
cli_fail_lines(int status, const char *text)
{
	while (*text != '\0') {
		size_t len = strcspn(text, "\n");
		cli_fail(status, "%.*s", (int)len, text);
		text += len + (text[len] == '\n');
	}
	return status;
}

int
cli_out_flush(struct cli_out *o)
{
	if (o->text.len > 0)
		fwrite(o->text.data, 1, o->text.len, stdout);
	buf_reset(&o->text);
	if (fflush(stdout) == 0 && !ferror(stdout))
		return CLI_EXIT_OK;
	if (errno == EPIPE) {
		o->stdout_gone = true;
		return CLI_EXIT_OK;
	}
	return cli_fail(CLI_EXIT_REFUSED, "cannot write output: %s", strerror(errno));
}

int
cli_out_json(struct cli_out *o, const char *reply, size_t len, const cJSON *v)
{
	size_t off, n;
	char *text;

	if (reply != NULL && render_json_member(reply, len, "result", &off, &n)) {
		buf_append(&o->text, reply + off, n);
		buf_puts(&o->text, "\n");
		return cli_out_flush(o);
	}
	text = cJSON_PrintUnformatted(v);
	if (text == NULL)
		return cli_fail(CLI_EXIT_UNREACHABLE, "cannot encode the reply as JSON");
	buf_puts(&o->text, text);
	buf_puts(&o->text, "\n");
	cJSON_free(text);
	return cli_out_flush(o);
}

void
cli_out_refused(const cJSON *err)
{
	if (cli_out_last_refusal == NULL && cJSON_IsObject(err))
		cli_out_last_refusal = cJSON_Duplicate(err, true);
}

void
cli_out_json_error(struct cli_out *o, int status)
{
	cJSON *doc = cJSON_CreateObject(), *err;
	char *text;

	cJSON_AddBoolToObject(doc, "ok", false);
	if (cli_out_last_refusal != NULL) {
		cJSON_AddItemToObject(doc, "error", cli_out_last_refusal);
		cli_out_last_refusal = NULL;
	} else {
		err = cJSON_AddObjectToObject(doc, "error");
		cJSON_AddStringToObject(err, "code",
		                        status == CLI_EXIT_USAGE         ? "usage"
		                        : status == CLI_EXIT_UNREACHABLE ? "unreachable"
		                                                         : "failed");
		cJSON_AddStringToObject(err, "message", cli_out_last);
	}
	text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	buf_reset(&o->text);
	if (text != NULL) {
		buf_printf(&o->text, "%s\n", text);
		cJSON_free(text);
	}
	cli_out_flush(o);
}

bool
cli_out_is_terminal(void)
{
	return isatty(STDOUT_FILENO) == 1;
}

struct cli_views_opts
cli_out_views_opts(void)
{
	struct cli_views_opts o = {.width = 80};
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	const char *cs = nl_langinfo(CODESET);
	struct winsize ws;
	uint64_t cols;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		o.width = ws.ws_col;
	else if (util_parse_uint(getenv("COLUMNS"), 10000, &cols) == 0 && cols > 0)
		o.width = (size_t)cols;
	/* no-color.org: set and not empty means no colour. */
	o.color = cli_out_is_terminal() && (nc == NULL || *nc == '\0') &&
	          (term == NULL || strcmp(term, "dumb") != 0);
	o.utf8 = cs != NULL && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
	return o;
}

void
cli_out_free(struct cli_out *o)
{
	buf_free(&o->text);
}
