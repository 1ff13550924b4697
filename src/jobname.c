/*
 * jobname: the job-name check (see jobname.h).
 */
#include "config.h"

#include <string.h>

#include "jobname.h"
#include "utf8.h"

const char *
jobname_check(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0)
		return "a job name must not be empty";
	if (len > JOBNAME_MAX)
		return "a job name must be at most 200 bytes";
	if (!utf8_valid(name, len))
		return "a job name must be valid UTF-8";
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];
		/* C0 controls and DEL; C1 controls are U+0080..U+009F, which
		 * UTF-8 writes as 0xC2 0x80..0x9F. */
		if (ch < 0x20 || ch == 0x7f ||
		    (ch == 0xc2 && i + 1 < len && (unsigned char)name[i + 1] < 0xa0))
			return "a job name must not hold control characters";
	}
	return NULL;
}
