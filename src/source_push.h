/*
 * source_push: a source whose points are pushed over the control socket
 * (the `log` command, `ftmonctl log`).  The requests of one loop turn, from
 * every client, are stored in one ingest step; each is answered only once
 * that step has committed.
 */
#ifndef FTMON_SOURCE_PUSH_H
#define FTMON_SOURCE_PUSH_H

#include "source.h"

/* cs and env are borrowed and outlive the source (source.h).  Never fails;
 * err is unused. */
struct source *source_push_new(const struct conf_source *cs, const struct source_env *env,
                               char **err);

#endif
