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

/*
 * The job a jsonl glob names for one of its matches: what the wildcards
 * matched, each wildcard component stripped of its literal prefix and
 * suffix, joined with '/' when several components hold wildcards.  With
 * W standing for a component that is just "*":
 *   /srv/train/W/metrics.jsonl  /srv/train/run1/metrics.jsonl  -> run1
 *   /logs/[*].jsonl (a "*.jsonl") /logs/run1.jsonl             -> run1
 *   /logs/run-[*].jsonl           /logs/run-7.jsonl            -> 7
 *   /t/W/W/m.jsonl                /t/lab/r2/m.jsonl            -> lab/r2
 * A pattern without a wildcard names its file without the extension
 * (/srv/a/metrics.jsonl -> metrics).  Returns a malloc'd name (check it
 * with jobname_check), or NULL when path has another number of components
 * than pattern (it cannot be one of its matches).
 */
char *jobname_from_glob(const char *pattern, const char *path);

#endif
