/*
 * test_jobname: the job-name rule of SPEC "Job names" -- printable UTF-8
 * of 1..200 bytes, shell characters included; control characters (C0,
 * DEL, C1), invalid UTF-8 and the empty name refused -- and the name a
 * jsonl glob gives each of its matches.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "jobname.h"
#include "tap.h"

static void
test_jobname(void)
{
	char name[JOBNAME_MAX + 2];

	ok(jobname_check("run1") == NULL, "run1 is fine");
	ok(jobname_check("a b 'c' \"d\" $e `f` \xc3\xa9") == NULL, "printable UTF-8 is fine");
	ok(jobname_check("group/run") == NULL, "a slash is fine");
	is_str(jobname_check(""), "job name is empty", "empty");
	is_str(jobname_check(NULL), "job name is empty", "NULL");
	is_str(jobname_check("a\tb"), "job name holds a control character", "a tab");
	is_str(jobname_check("a\x7f"), "job name holds a control character", "DEL");
	is_str(jobname_check("a\xc2\x9b"), "job name holds a control character", "C1 CSI");
	is_str(jobname_check("a\xff"), "job name is not valid UTF-8", "invalid UTF-8");
	is_str(jobname_check("\xed\xa0\x80"), "job name is not valid UTF-8", "a surrogate");
	memset(name, 'x', JOBNAME_MAX);
	name[JOBNAME_MAX] = '\0';
	ok(jobname_check(name) == NULL, "200 bytes is fine");
	name[JOBNAME_MAX] = 'x';
	name[JOBNAME_MAX + 1] = '\0';
	is_str(jobname_check(name), "job name is longer than 200 bytes", "201 bytes");
}

static void
test_from_glob(void)
{
	static const struct {
		const char *pattern, *path, *want;
	} cases[] = {
	        {"/srv/train/*/metrics.jsonl", "/srv/train/run1/metrics.jsonl", "run1"},
	        {"/logs/*.jsonl", "/logs/run1.jsonl", "run1"},
	        {"/logs/run-*.jsonl", "/logs/run-7.jsonl", "7"},
	        {"/t/*/*/m.jsonl", "/t/lab/r2/m.jsonl", "lab/r2"},
	        {"/t/r?n/m.jsonl", "/t/run/m.jsonl", "u"},
	        {"/t/[ab]*.jsonl", "/t/abc.jsonl", "abc"},
	        {"/t/*", "/t/x y $z", "x y $z"},
	        {"rel/*.jsonl", "rel/a.jsonl", "a"},
	        {"/srv/a/metrics.jsonl", "/srv/a/metrics.jsonl", "metrics"},
	        {"/srv/a/.hidden", "/srv/a/.hidden", ".hidden"},
	        {"/srv/a/noext", "/srv/a/noext", "noext"},
	        {"/logs/*.jsonl", "/logs/.jsonl", ".jsonl"},
	        {"/srv/train/*/metrics.jsonl", "/srv/train/metrics.jsonl", NULL},
	        {"/srv/*", "/srv/a/b", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = jobname_from_glob(cases[i].pattern, cases[i].path);
		is_str(got, cases[i].want, "%s matching %s", cases[i].pattern, cases[i].path);
		free(got);
	}
}

int
main(void)
{
	test_jobname();
	test_from_glob();
	return tap_done();
}
