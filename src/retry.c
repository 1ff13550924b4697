/*
 * retry: backoff arithmetic and the hold state machine, kept free of
 * clocks and randomness so every bound has a test with a fake clock.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "retry.h"

enum retry_class
retry_classify(long status)
{
	if (status == 0)
		return RETRY_CLASS_RETRY;
	if (status >= 200 && status <= 299)
		return RETRY_CLASS_OK;
	if (status == 401 || status == 403)
		return RETRY_CLASS_AUTH;
	if (status == 404)
		return RETRY_CLASS_NOT_FOUND;
	if (status == 408 || status == 409 || status == 429 || (status >= 500 && status <= 599))
		return RETRY_CLASS_RETRY;
	return RETRY_CLASS_FATAL;
}

/* A plain decimal number of units (no hex, nan or inf) as milliseconds. */
static bool
retry_number(const char *s, double scale, double *ms)
{
	char *end;
	double v;

	if (s == NULL)
		return false;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0' || strspn(s, "0123456789.eE+- \t") != strlen(s))
		return false;
	v = strtod(s, &end);
	while (isspace((unsigned char)*end))
		end++;
	if (end == s || *end != '\0' || !isfinite(v))
		return false;
	*ms = v < 0 ? 0 : v * scale;
	return true;
}

/* An IMF-fixdate as milliseconds from now_s. */
static bool
retry_date(const char *s, int64_t now_s, double *ms)
{
	struct tm tm;
	const char *end;
	time_t t;

	if (s == NULL)
		return false;
	while (isspace((unsigned char)*s))
		s++;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL)
		return false;
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0')
		return false;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*ms = t <= now_s ? 0 : ((double)t - (double)now_s) * 1000.0;
	return true;
}

bool
retry_after_ms(const char *retry_after_ms, const char *retry_after, int64_t now_s, double *ms)
{
	return retry_number(retry_after_ms, 1.0, ms) || retry_number(retry_after, 1000.0, ms) ||
	       retry_date(retry_after, now_s, ms);
}

uint64_t
retry_backoff_ms(unsigned attempt, double rand01, uint64_t cap_ms)
{
	/* 500 ms << 40 is already years: stop doubling before it overflows. */
	uint64_t base = attempt >= 40 ? UINT64_MAX : 500ULL << attempt;
	double delay;

	if (base > cap_ms)
		base = cap_ms;
	if (!(rand01 >= 0))
		rand01 = 0;
	else if (rand01 > 1)
		rand01 = 1;
	delay = (double)base * (1.0 - 0.25 * rand01) + 0.5;
	return delay >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)delay;
}

uint64_t
retry_delay_ms(unsigned attempt, const char *retry_after_ms_hdr, const char *retry_after_hdr,
               int64_t now_s, double rand01, uint64_t cap_ms)
{
	double hint;

	if (retry_after_ms(retry_after_ms_hdr, retry_after_hdr, now_s, &hint) && hint > 0) {
		hint = ceil(hint);
		return hint >= (double)cap_ms ? cap_ms : (uint64_t)hint;
	}
	return retry_backoff_ms(attempt, rand01, cap_ms);
}

void
retry_hold_init(struct retry_hold *h, unsigned outage_after, uint64_t outage_cap_ms)
{
	memset(h, 0, sizeof(*h));
	h->outage_after = outage_after ? outage_after : 1;
	h->outage_cap_ms = outage_cap_ms;
}

void
retry_hold_failure(struct retry_hold *h, uint64_t now_ms, long status, uint64_t delay_ms,
                   double rnd)
{
	if (now_ms >= h->until)
		h->streak++;
	if (status == 429)
		h->until = now_ms + delay_ms;
	if (h->streak >= h->outage_after) {
		/* Everything fails (an outage, not one bad job): hold the whole
		 * source, backing off on the streak beyond the threshold. */
		uint64_t until = now_ms + retry_backoff_ms(h->streak - h->outage_after, rnd,
		                                           h->outage_cap_ms);
		if (until > h->until)
			h->until = until;
	}
}

void
retry_hold_success(struct retry_hold *h)
{
	h->streak = 0;
}

uint64_t
retry_hold_until(const struct retry_hold *h)
{
	return h->until;
}

uint64_t
retry_hold_wait_ms(const struct retry_hold *h, uint64_t now_ms)
{
	return now_ms < h->until ? h->until - now_ms : 0;
}
