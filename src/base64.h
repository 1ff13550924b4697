/*
 * base64: decoding (RFC 4648).  Accepts the standard alphabet and the
 * URL-safe one ('-' and '_' for '+' and '/'), whitespace anywhere (line
 * breaks every 76 characters are common), and missing padding; refuses
 * any other byte, data after padding, more than two '=' and a length that
 * no encoding produces.  Pure: no I/O, no logging.
 */
#ifndef FTMON_BASE64_H
#define FTMON_BASE64_H

#include <stddef.h>

/*
 * Decode len bytes of s.  Returns 0 with *out a malloc'd buffer the caller
 * frees (NUL-terminated for convenience; *outlen excludes the NUL), or
 * -EINVAL with *out NULL when s is not base64 (an empty or all-blank
 * input included).
 */
int base64_decode(const char *s, size_t len, char **out, size_t *outlen);

#endif
