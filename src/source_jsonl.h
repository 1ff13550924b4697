/*
 * source_jsonl: follows the JSONL files a training script appends, one job
 * per file matched by the source's glob (`path`), through the ingest path.
 * Lines are read by metricline; job names come from jobname.
 */
#ifndef FTMON_SOURCE_JSONL_H
#define FTMON_SOURCE_JSONL_H

#include "source.h"

/* A new, not yet started source; env is borrowed and outlives it.  NULL
 * with *err (malloc'd) on failure. */
struct source *source_jsonl_new(const struct conf_source *cs, const struct source_env *env,
                                char **err);

#endif
