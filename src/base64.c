/*
 * base64: a decoder tolerant of what real servers send (wrapped lines,
 * URL-safe alphabet, no padding), strict about everything else so that a
 * CSV body is never mistaken for base64.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "base64.h"
#include "xmalloc.h"

static int
base64_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

int
base64_decode(const char *s, size_t len, char **out, size_t *outlen)
{
	char *o = xmalloc(len / 4 * 3 + 4);
	size_t n = 0, nsig = 0, npad = 0;
	uint32_t acc = 0;

	*out = NULL;
	*outlen = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		int v;

		if (isspace(ch))
			continue;
		if (ch == '=') {
			npad++;
			continue;
		}
		v = base64_value(ch);
		if (v < 0 || npad > 0)
			goto bad;
		acc = (acc << 6) | (uint32_t)v;
		if (++nsig % 4 == 0) {
			o[n++] = (char)(acc >> 16);
			o[n++] = (char)(acc >> 8);
			o[n++] = (char)acc;
		}
	}
	if (nsig == 0 || nsig % 4 == 1 || npad > 2 || (npad > 0 && (nsig + npad) % 4 != 0))
		goto bad;
	if (nsig % 4 == 2) {
		o[n++] = (char)(acc >> 4);
	} else if (nsig % 4 == 3) {
		o[n++] = (char)(acc >> 10);
		o[n++] = (char)(acc >> 2);
	}
	o[n] = '\0';
	*out = o;
	*outlen = n;
	return 0;
bad:
	free(o);
	return -EINVAL;
}
