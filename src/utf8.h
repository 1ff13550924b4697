/*
 * utf8: text from outside (APIs, the control socket) checked before it is
 * stored or echoed, so the database and every JSON reply are valid UTF-8.
 *
 * Valid means well-formed per RFC 3629: no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence.  A
 * repair replaces each maximal ill-formed subpart (Unicode's "best
 * practice" for U+FFFD substitution) with U+FFFD, so "\xff\xfe" becomes
 * two replacement characters and a cut-off three-byte sequence one.
 * Pure: no I/O, no logging.
 */
#ifndef FTMON_UTF8_H
#define FTMON_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The offset of the first ill-formed byte of s[0..len), or len. */
size_t utf8_check(const char *s, size_t len);
bool utf8_valid(const char *s, size_t len);

/* A malloc'd, NUL-terminated copy of s[0..len) with every ill-formed
 * subpart replaced by U+FFFD; the caller frees it. */
char *utf8_repair(const char *s, size_t len);

/* For log lines about hostile text: a malloc'd copy of at most max bytes
 * of the NUL-terminated s in printable ASCII, every other byte (and the
 * backslash) written \xNN, with "..." appended when s was longer. */
char *utf8_show(const char *s, size_t max);

#endif
