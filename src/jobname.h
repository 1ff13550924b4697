/*
 * jobname: is a name people chose for a jsonl or push job acceptable?
 * SPEC "Job names": any printable UTF-8 text of 1..200 bytes (spaces,
 * quotes, `$` and backticks included: names are data, never given to a
 * shell); control characters (C0, DEL, C1), a NUL and invalid UTF-8 are
 * refused.  Pure.
 */
#ifndef FTMON_JOBNAME_H
#define FTMON_JOBNAME_H

#define JOBNAME_MAX 200 /* bytes */

/* NULL when name is fine, else a static reason ("job name is empty", ...). */
const char *jobname_check(const char *name);

#endif
