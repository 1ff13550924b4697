/*
 * jobname: the job-name rule shared by the jsonl and push sources.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "jobname.h"
#include "utf8.h"

/* A C1 control (U+0080..U+009F) is the two bytes C2 80..C2 9F in UTF-8. */
static const char *
jobname_controls(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return "job name holds a control character";
		if (s[i] == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
			return "job name holds a control character";
	}
	return NULL;
}

const char *
jobname_check(const char *name)
{
	size_t len;

	if (name == NULL || name[0] == '\0')
		return "job name is empty";
	len = strnlen(name, JOBNAME_MAX + 1);
	if (len > JOBNAME_MAX)
		return "job name is longer than 200 bytes";
	if (!utf8_valid(name, len))
		return "job name is not valid UTF-8";
	return jobname_controls((const unsigned char *)name, len);
}
