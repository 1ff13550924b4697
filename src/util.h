/*
 * util: small pure helpers shared by daemon, client and tests: strict
 * number and duration parsing, URL checks, time.
 */
#ifndef FTMON_UTIL_H
#define FTMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Parse a duration: "500ms", "30s", "5m", "2h", "1d", or a bare number of
 * seconds ("1.5" allowed).  Stores milliseconds.  Returns 0, or -EINVAL for
 * anything else (trailing junk, negative, overflow). */
int util_parse_duration_ms(const char *s, uint64_t *ms);
/* Format milliseconds back as the shortest exact duration ("30s", "500ms").
 * Writes into buf (size >= 24) and returns it. */
char *util_format_duration(uint64_t ms, char *buf, size_t size);
/* Strict parsers: the whole string must be the number.  0 or -EINVAL/-ERANGE. */
int util_parse_uint(const char *s, uint64_t max, uint64_t *out);
int util_parse_int64(const char *s, int64_t *out);
int util_parse_double(const char *s, double *out);
/* yes/no/true/false/on/off/1/0; 0 or -EINVAL. */
int util_parse_bool(const char *s, bool *out);
/* An absolute http:// or https:// URL with a host and no spaces or control
 * characters.  Returns true if acceptable; *why names the problem if not. */
bool util_url_valid(const char *url, const char **why);
/* Octal file mode such as "0660"; 0 or -EINVAL. */
int util_parse_mode(const char *s, unsigned *mode);

/* Wall clock in Unix seconds, and a monotonic clock in milliseconds. */
int64_t util_now(void);
uint64_t util_monotonic_ms(void);
/* RFC 3339 UTC ("2026-11-26T07:07:26Z") into buf (size >= 21). */
char *util_format_rfc3339(int64_t t, char *buf, size_t size);

/* A cheap 64-bit fingerprint to notice an unchanged response (not for
 * anything an attacker may target). */
uint64_t util_hash64(const void *data, size_t len);

/* Split text into its non-empty lines: a NULL-terminated malloc'd list of
 * malloc'd strings (free with util_strv_free). */
char **util_split_lines(const char *text);
void util_strv_free(char **v);
size_t util_strv_len(char *const *v);

/* True if s starts with prefix. */
bool util_startswith(const char *s, const char *prefix);

#endif
