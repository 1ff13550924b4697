/*
 * utf8: validation and U+FFFD repair of UTF-8 text (see utf8.h).
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "utf8.h"

/*
 * The sequence at s[0..len) (len >= 1): its length when it is well-formed,
 * else minus the length of its maximal ill-formed subpart (at least 1).
 * The allowed range of the second byte is what rules out overlongs
 * (E0, F0), surrogates (ED) and code points past U+10FFFF (F4).
 */
static int
utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char lo = 0x80, hi = 0xbf;
	int need;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 2;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 3;
	else
		return -1; /* a continuation byte, C0, C1 or F5..FF */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	for (int i = 1; i <= need; i++) {
		if ((size_t)i >= len || s[i] < lo || s[i] > hi)
			return -i;
		lo = 0x80;
		hi = 0xbf;
	}
	return need + 1;
}

size_t
utf8_check(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		int n;

		if (p[i] < 0x80) { /* the common case, byte by byte */
			i++;
			continue;
		}
		if ((n = utf8_seq(p + i, len - i)) < 0)
			return i;
		i += (size_t)n;
	}
	return len;
}

bool
utf8_valid(const char *s, size_t len)
{
	return utf8_check(s, len) == len;
}

char *
utf8_repair(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	struct buf b = BUF_INIT;
	size_t i = 0, ok;

	while (i < len) {
		int n;

		ok = utf8_check(s + i, len - i);
		buf_append(&b, s + i, ok);
		i += ok;
		if (i == len)
			break;
		n = utf8_seq(p + i, len - i);
		buf_puts(&b, "\xef\xbf\xbd");
		i += (size_t)-n;
	}
	return buf_steal(&b);
}

char *
utf8_show(const char *s, size_t max)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; s[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf_append(&b, s + i, 1);
		else
			buf_printf(&b, "\\x%02x", c);
	}
	if (s[i] != '\0')
		buf_puts(&b, "...");
	return buf_steal(&b);
}
