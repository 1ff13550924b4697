/*
 * jobname: the names people give jobs of jsonl and push sources (SPEC:
 * printable UTF-8, 1..200 bytes, no control characters, no NUL, no
 * invalid UTF-8).  Anything else printable is data: spaces, quotes, `$`.
 * Pure: no I/O, no logging.
 */
#ifndef FTMON_JOBNAME_H
#define FTMON_JOBNAME_H

#define JOBNAME_MAX 200

/* NULL when name is acceptable, else a static reason. */
const char *jobname_check(const char *name);

#endif
