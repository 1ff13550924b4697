/*
 * openai_parse_internal: what openai_parse.c shares with openai_parse_result.c,
 * nothing else (openai_parse.h is the module's interface).  Pure.
 */
#ifndef FTMON_OPENAI_PARSE_INTERNAL_H
#define FTMON_OPENAI_PARSE_INTERNAL_H

#include <stdbool.h>

/* Set *why (when why is not NULL) to msg, a static string; returns -EINVAL. */
int oai_fail(const char **why, const char *msg);
/* A metric name worth keeping: non-empty, printable, below OAI_MAX_METRIC_NAME. */
bool oai_name_ok(const char *s);

#endif
