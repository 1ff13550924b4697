/*
 * source_openai: watches fine-tuning jobs on the OpenAI API (and Azure
 * OpenAI, which shares the wire format) through the daemon's HTTP engine:
 * discovery, job objects, incremental events, checkpoints and, once a job
 * has finished, its result file.  Writes jobs, points and events to the
 * store; decides nothing about the wire format itself (openai_parse does).
 */
#ifndef FTMON_SOURCE_OPENAI_H
#define FTMON_SOURCE_OPENAI_H

struct daemon;
struct conf_source;
struct source;

/* A new, not yet started source; NULL with *err (malloc'd) on failure. */
struct source *source_openai_new(struct daemon *d, const struct conf_source *cs, char **err);

#endif
