/*
 * sources: the table of source types.  Kept apart from source.h, the
 * interface every source includes, so that the interface does not depend
 * on its implementations.
 */
#ifndef FTMON_SOURCES_H
#define FTMON_SOURCES_H

#include <stdbool.h>

struct conf_source;
struct source;
struct source_env;

/* Create the source for one [source] section (not started); env is
 * borrowed and must outlive it.  NULL with *err (malloc'd) when it cannot
 * be built. */
struct source *sources_new(const struct conf_source *cs, const struct source_env *env, char **err);
/* Check what a source needs from outside the config file (a key file that
 * exists and is readable, a set environment variable) so that `ftmond -t`,
 * start and reload refuse what can never work.  What only the service
 * manager provides at start (a systemd credential) is checked only when
 * starting.  0, or -1 with *err (malloc'd). */
int sources_check(const struct conf_source *cs, bool starting, char **err);

#endif
