/*
 * test_jobname: the job-name rule of SPEC "Job names" -- printable UTF-8
 * of 1..200 bytes, shell characters included; control characters (C0,
 * DEL, C1), invalid UTF-8 and the empty name refused.
 */
#include "config.h"

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

int
main(void)
{
	test_jobname();
	return tap_done();
}
