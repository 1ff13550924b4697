/*
 * testjson: what the unit tests of the client's views, plots and reports
 * share: JSON fixtures written with ' for " (readable in C), and a golden
 * comparison of built text.  Include after tap.h, buf.h and xmalloc.h.
 * Define TESTJSON_NO_GOLDEN for a test that compares its own way.
 */
#ifndef FTMON_TESTJSON_H
#define FTMON_TESTJSON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* Parse a fixture written with ' for "; aborts the test on a typo. */
static inline cJSON *
test_json(const char *text)
{
	char *s = xstrdup(text);
	cJSON *v;

	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	v = cJSON_Parse(s);
	if (v == NULL) {
		printf("Bail out! fixture is not JSON: %s\n", s);
		exit(1);
	}
	free(s);
	return v;
}

#ifndef TESTJSON_NO_GOLDEN
/* Compare out with want (showing both on a mismatch), then empty out. */
static inline void
test_golden(struct buf *out, const char *want, const char *name)
{
	const char *got = out->data ? out->data : "";

	if (!ok(strcmp(got, want) == 0, "%s", name))
		TAP_DIAG("got:\n%s\nwant:\n%s", got, want);
	buf_reset(out);
}
#endif

#endif
