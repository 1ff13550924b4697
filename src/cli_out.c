/*
 * cli_out: stderr for errors, a buffer then stdout for output.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_out.h"
#include "render.h"
#include "xmalloc.h"

int
cli_fail(int status, const char *fmt, ...)
{
	va_list ap;
	char line[1024];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	render_sanitize(line);
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
cli_out_free(struct cli_out *o)
{
	buf_free(&o->text);
}
