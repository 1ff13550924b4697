/*
 * source_openai: watches fine-tuning jobs on the OpenAI API (and Azure
 * OpenAI, which shares the wire format) through the HTTP engine:
 * discovery, job objects, incremental events, checkpoints and, once a job
 * has finished, its result file.  Writes through the ingest path; decides
 * nothing about the wire format itself (openai_parse does).
 */
#ifndef FTMON_SOURCE_OPENAI_H
#define FTMON_SOURCE_OPENAI_H

#include <stdbool.h>

#include "source.h"

/* A new, not yet started source; env is borrowed and outlives it.  NULL
 * with *err (malloc'd) on failure. */
struct source *source_openai_new(const struct conf_source *cs, const struct source_env *env,
                                 char **err);
/* Whether the source's key can be read now: 0, or -1 with *err (malloc'd)
 * naming the file or variable and why.  A systemd credential is checked
 * only when starting (the service manager provides it then). */
int source_openai_check(const struct conf_source *cs, bool starting, char **err);

#endif
