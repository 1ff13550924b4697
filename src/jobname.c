/*
 * jobname: the job-name rule shared by the jsonl and push sources.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "jobname.h"
#include "utf8.h"
#include "xmalloc.h"

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

static bool
jobname_is_wild(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '[')
			return true;
	return false;
}

/* What the wildcards of one pattern component pc matched in the path
 * component mc: mc without pc's literal prefix and suffix (all of mc when
 * those do not fit, as after a character class). */
static void
jobname_piece(struct buf *out, const char *pc, size_t pn, const char *mc, size_t mn)
{
	size_t pre = strcspn(pc, "*?["), post = 0;

	if (pre > pn)
		pre = pn;
	while (post < pn - pre && strchr("*?]", pc[pn - 1 - post]) == NULL)
		post++;
	if (out->len > 0)
		buf_append(out, "/", 1);
	if (pre + post < mn && memcmp(pc, mc, pre) == 0 &&
	    memcmp(pc + pn - post, mc + mn - post, post) == 0)
		buf_append(out, mc + pre, mn - pre - post);
	else
		buf_append(out, mc, mn);
}

/* The file name without its extension: the name of a wildcard-free glob. */
static char *
jobname_basename(const char *path)
{
	const char *base = strrchr(path, '/'), *dot;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	if (dot == NULL || dot == base)
		return xstrdup(base);
	return xstrndup(base, (size_t)(dot - base));
}

char *
jobname_from_glob(const char *pattern, const char *path)
{
	struct buf out = BUF_INIT;
	const char *p = pattern, *m = path;

	while (*p != '\0' || *m != '\0') {
		size_t pn = strcspn(p, "/"), mn = strcspn(m, "/");

		if ((p[pn] == '/') != (m[mn] == '/')) {
			buf_free(&out);
			return NULL;
		}
		if (jobname_is_wild(p, pn))
			jobname_piece(&out, p, pn, m, mn);
		p += pn + (p[pn] == '/');
		m += mn + (m[mn] == '/');
	}
	if (out.len == 0) {
		buf_free(&out);
		return jobname_basename(path);
	}
	return buf_steal(&out);
}
