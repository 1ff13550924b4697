/*
 * util: strict parsing and time helpers.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util.h"
#include "xmalloc.h"

int
util_parse_duration_ms(const char *s, uint64_t *ms)
{
	static const struct {
		const char *suffix;
		double factor;
	} units[] = {{"ms", 1},      {"s", 1000},     {"m", 60000},
	             {"h", 3600000}, {"d", 86400000}, {"", 1000}};
	char *end;
	double v;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -EINVAL;
	/* Plain decimal only: strtod would also take hex and exponents. */
	const char *digits_end = s;
	while (isdigit((unsigned char)*digits_end) || *digits_end == '.')
		digits_end++;
	errno = 0;
	v = strtod(s, &end);
	if (end != digits_end)
		return -EINVAL;
	if (errno != 0 || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(end, units[i].suffix) != 0)
			continue;
		double r = v * units[i].factor;
		/* Cap at ten years: anything longer is a typo. */
		if (r > 10.0 * 365 * 86400000.0)
			return -ERANGE;
		*ms = (uint64_t)llround(r);
		return 0;
	}
	return -EINVAL;
}

char *
util_format_duration(uint64_t ms, char *buf, size_t size)
{
	if (ms == 0)
		snprintf(buf, size, "0s");
	else if (ms % 86400000 == 0)
		snprintf(buf, size, "%llud", (unsigned long long)(ms / 86400000));
	else if (ms % 3600000 == 0)
		snprintf(buf, size, "%lluh", (unsigned long long)(ms / 3600000));
	else if (ms % 60000 == 0)
		snprintf(buf, size, "%llum", (unsigned long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, size, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, size, "%llums", (unsigned long long)ms);
	return buf;
}

int
util_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int
util_parse_int64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*out = v;
	return 0;
}

int
util_parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE && isinf(v))
		return -ERANGE;
	*out = v;
	return 0;
}

int
util_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

bool
util_url_valid(const char *url, const char **why)
{
	const char *host;

	if (strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		host = url + 7;
	else {
		*why = "must start with http:// or https://";
		return false;
	}
	if (*host == '\0' || *host == '/' || *host == ':' || *host == '?') {
		*why = "has no host";
		return false;
	}
	for (const char *p = url; *p; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			*why = "contains a space or control character";
			return false;
		}
	}
	return true;
}

int
util_parse_mode(const char *s, unsigned *mode)
{
	char *end;
	unsigned long v;

	if (s == NULL || *s < '0' || *s > '7')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 8);
	if (*end != '\0' || errno != 0 || v > 07777)
		return -EINVAL;
	*mode = (unsigned)v;
	return 0;
}

int64_t
util_now(void)
{
	return (int64_t)time(NULL);
}

uint64_t
util_monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

char *
util_format_rfc3339(int64_t t, char *buf, size_t size)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%lld", (long long)t);
	return buf;
}

bool
util_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* One 8-byte word into a lane: multiply, then fold the high half down. */
static inline uint64_t
util_hash_step(uint64_t h, const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 32);
}

uint64_t
util_hash64(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL ^ (len * 0x9e3779b97f4a7c15ULL);
	uint64_t l1 = h + 1, l2 = h + 2, l3 = h + 3;

	/* Four independent lanes of eight bytes: their multiplies overlap in
	 * the CPU, so a 40 KB events page takes about 2 us, not 8. */
	for (; len >= 32; p += 32, len -= 32) {
		h = util_hash_step(h, p);
		l1 = util_hash_step(l1, p + 8);
		l2 = util_hash_step(l2, p + 16);
		l3 = util_hash_step(l3, p + 24);
	}
	h = ((h * 31 + l1) * 31 + l2) * 31 + l3;
	for (; len >= 8; p += 8, len -= 8)
		h = util_hash_step(h, p);
	for (; len > 0; p++, len--) { /* FNV-1a for the tail */
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

char **
util_split_lines(const char *text)
{
	size_t n = 0, cap = 4;
	char **v = xcalloc(cap, sizeof(*v));

	while (text && *text) {
		const char *end = strchr(text, '\n');
		size_t len = end ? (size_t)(end - text) : strlen(text);
		if (len > 0) {
			if (n + 2 > cap) {
				cap *= 2;
				v = xreallocarray(v, cap, sizeof(*v));
			}
			v[n++] = xstrndup(text, len);
		}
		text += len + (end != NULL);
	}
	v[n] = NULL;
	return v;
}

void
util_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

size_t
util_strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}
