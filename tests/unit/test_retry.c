/*
 * test_retry: status classes, Retry-After in all its forms, backoff with
 * jitter, and the source-wide hold driven by a fake clock: 429 holds,
 * outage holds with their own backoff, a wave of in-flight failures
 * counted once, a success ending the streak.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "retry.h"
#include "tap.h"

/* ---- status classes and delays (moved from test_openai_parse.c) ---- */

static void
test_http(void)
{
	static const struct {
		long status;
		enum retry_class want;
	} cases[] = {
	        {0, RETRY_CLASS_RETRY},   {200, RETRY_CLASS_OK},        {204, RETRY_CLASS_OK},
	        {301, RETRY_CLASS_FATAL}, {400, RETRY_CLASS_FATAL},     {401, RETRY_CLASS_AUTH},
	        {403, RETRY_CLASS_AUTH},  {404, RETRY_CLASS_NOT_FOUND}, {408, RETRY_CLASS_RETRY},
	        {409, RETRY_CLASS_RETRY}, {422, RETRY_CLASS_FATAL},     {429, RETRY_CLASS_RETRY},
	        {500, RETRY_CLASS_RETRY}, {503, RETRY_CLASS_RETRY},     {599, RETRY_CLASS_RETRY},
	        {600, RETRY_CLASS_FATAL}, {-1, RETRY_CLASS_FATAL},      {100, RETRY_CLASS_FATAL},
	};
	int bad = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (retry_classify(cases[i].status) != cases[i].want) {
			TAP_DIAG("status %ld misclassified", cases[i].status);
			bad++;
		}
	}
	is_int(bad, 0, "status classification");
}

static void
test_retry(void)
{
	const int64_t now = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */
	uint64_t lo = UINT64_MAX, hi = 0;

	is_int(retry_delay_ms(0, NULL, NULL, now, 0, 60000), 500, "attempt 0: 500ms");
	is_int(retry_delay_ms(1, NULL, NULL, now, 0, 60000), 1000, "attempt 1: 1s");
	is_int(retry_delay_ms(2, NULL, NULL, now, 0, 60000), 2000, "attempt 2: 2s");
	is_int(retry_delay_ms(3, NULL, NULL, now, 0, 60000), 4000, "attempt 3: 4s");
	is_int(retry_delay_ms(4, NULL, NULL, now, 0, 8000), 8000, "capped at 8s");
	is_int(retry_delay_ms(10, NULL, NULL, now, 0, 60000), 60000, "attempt 10 capped");
	is_int(retry_delay_ms(1000, NULL, NULL, now, 0, 300000), 300000,
	       "huge attempt does not overflow");
	is_int(retry_delay_ms(0, NULL, NULL, now, 1.0, 60000), 375, "full jitter: 375ms");
	is_int(retry_delay_ms(2, NULL, NULL, now, 0.5, 60000), 1750, "half jitter");
	is_int(retry_delay_ms(0, NULL, NULL, now, NAN, 60000), 500, "NaN rand is 0");
	for (int i = 0; i <= 100; i++) {
		uint64_t d = retry_delay_ms(3, NULL, NULL, now, i / 100.0, 60000);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	ok(lo == 3000 && hi == 4000, "jitter within [0.75, 1] of the base");
	is_int(retry_delay_ms(0, NULL, NULL, now, 0, UINT64_MAX), 500, "no cap");
	ok(retry_delay_ms(200, NULL, NULL, now, 0, UINT64_MAX) == UINT64_MAX,
	   "uncapped huge attempt saturates");

	is_int(retry_delay_ms(0, "1500", NULL, now, 0, 60000), 1500, "retry-after-ms");
	is_int(retry_delay_ms(0, "1.5", "9", now, 0, 60000), 2, "float ms rounds up, wins");
	/* A hint that says "now" would make a tight retry loop: the formula decides. */
	is_int(retry_delay_ms(0, "-5", NULL, now, 0, 60000), 500, "negative hint uses the formula");
	is_int(retry_delay_ms(1, "0", NULL, now, 0, 60000), 1000,
	       "retry-after-ms 0 uses the formula");
	is_int(retry_delay_ms(2, NULL, "0", now, 0, 60000), 2000, "retry-after 0 uses the formula");
	is_int(retry_delay_ms(0, "abc", "3", now, 0, 60000), 3000,
	       "garbage ms falls to retry-after");
	is_int(retry_delay_ms(0, NULL, "2.5", now, 0, 60000), 2500, "float seconds");
	is_int(retry_delay_ms(0, NULL, " 7 ", now, 0, 60000), 7000, "blanks tolerated");
	is_int(retry_delay_ms(0, NULL, "999999", now, 0, 60000), 60000, "hint capped");
	is_int(retry_delay_ms(5, NULL, "Wed, 21 Oct 2015 07:28:30 GMT", now, 0, 60000), 30000,
	       "HTTP date");
	is_int(retry_delay_ms(5, NULL, "Wed, 21 Oct 2015 07:27:00 GMT", now, 0, 60000), 16000,
	       "past HTTP date uses the formula");
	is_int(retry_delay_ms(0, NULL, "Thu, 22 Oct 2015 07:28:00 GMT", now, 0, 60000), 60000,
	       "far HTTP date capped");
	is_int(retry_delay_ms(1, NULL, "2015-10-21", now, 0, 60000), 1000,
	       "other date format falls back");
	is_int(retry_delay_ms(1, "0x10", "inf", now, 0, 60000), 1000, "hex and inf rejected");
	is_int(retry_delay_ms(1, "nan", "", now, 0, 60000), 1000, "nan and empty rejected");
	is_int(retry_delay_ms(1, "1e400", NULL, now, 0, 60000), 1000, "overflow rejected");
	is_int(retry_delay_ms(1, NULL, "Wed, 21 Oct 2015 07:28:30 GMT x", now, 0, 60000), 1000,
	       "date with junk rejected");
}

static void
test_after(void)
{
	const int64_t now = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */
	double ms = -1;

	ok(!retry_after_ms(NULL, NULL, now, &ms), "no headers: no hint");
	ok(retry_after_ms("250.5", NULL, now, &ms) && ms == 250.5, "retry-after-ms as float ms");
	ok(retry_after_ms(NULL, "3", now, &ms) && ms == 3000, "delta-seconds");
	ok(retry_after_ms(NULL, "Wed, 21 Oct 2015 07:28:10 GMT", now, &ms) && ms == 10000,
	   "HTTP-date ahead of now");
	ok(retry_after_ms(NULL, "Wed, 21 Oct 2015 07:00:00 GMT", now, &ms) && ms == 0,
	   "HTTP-date in the past is 0");
	ok(retry_after_ms("-3", "5", now, &ms) && ms == 0, "negative ms parses as 0 and wins");
	ok(!retry_after_ms("soon", "later", now, &ms), "garbage in both: no hint");
	ok(!retry_after_ms(NULL, "Wednesday, 21-Oct-15 07:28:10 GMT", now, &ms),
	   "RFC 850 date not accepted");
}

static void
test_backoff(void)
{
	uint64_t prev = 0;
	int grows = 1;

	for (unsigned a = 0; a < 20; a++) {
		uint64_t d = retry_backoff_ms(a, 0, 300000);
		if (d < prev || d > 300000)
			grows = 0;
		prev = d;
	}
	ok(grows, "backoff never shrinks and never passes the cap");
	is_int(retry_backoff_ms(19, 0, 300000), 300000, "backoff reaches the cap");
	is_int(retry_backoff_ms(4, 0.999999, 60000), 6000, "rnd ~1 takes at most a quarter off");
	is_int(retry_backoff_ms(4, 0, 60000), 8000, "rnd 0 keeps the whole base");
	is_int(retry_backoff_ms(4, -1, 60000), 8000, "negative rnd clamped to 0");
	is_int(retry_backoff_ms(4, 7, 60000), 6000, "rnd above 1 clamped to 1");
	is_int(retry_backoff_ms(UINT32_MAX, 0.5, 1000), 875, "huge attempt, jitter on the cap");
}

/* ---- the hold, on a fake clock ---- */

#define T0 1000000u

static void
test_hold_429(void)
{
	struct retry_hold h;

	retry_hold_init(&h, 4, 60000);
	is_int(retry_hold_wait_ms(&h, T0), 0, "fresh hold: requests may start");
	retry_hold_failure(&h, T0, 429, 7000, 0);
	is_int(retry_hold_until(&h), T0 + 7000, "429 holds until its retry time");
	is_int(retry_hold_wait_ms(&h, T0 + 1000), 6000, "still held 1 s later");
	is_int(retry_hold_wait_ms(&h, T0 + 7000), 0, "released at its retry time");
	retry_hold_failure(&h, T0 + 100, 503, 500, 0);
	is_int(retry_hold_until(&h), T0 + 7000, "a 503 does not shorten a 429 hold");
	retry_hold_failure(&h, T0 + 8000, 429, 2000, 0);
	is_int(retry_hold_until(&h), T0 + 10000, "the next 429 sets its own time");
}

static void
test_hold_outage(void)
{
	struct retry_hold h;
	uint64_t now = T0, hold[6];

	retry_hold_init(&h, 4, 60000);
	for (int i = 0; i < 3; i++)
		retry_hold_failure(&h, now, 503, 500, 0);
	is_int(retry_hold_wait_ms(&h, now), 0, "three failures: no hold yet");
	/* Each failure lands once the previous hold has passed, as a wave of
	 * retries after an outage hold would. */
	for (int i = 0; i < 6; i++) {
		retry_hold_failure(&h, now, 0, 500, 0);
		hold[i] = retry_hold_wait_ms(&h, now);
		now += hold[i];
	}
	is_int(hold[0], 500, "fourth failure in a row holds the source (500 ms)");
	ok(hold[1] == 1000 && hold[2] == 2000 && hold[3] == 4000, "outage hold doubles");
	retry_hold_init(&h, 4, 3000);
	now = T0;
	for (int i = 0; i < 10; i++) {
		retry_hold_failure(&h, now, 0, 500, 0);
		now += retry_hold_wait_ms(&h, now);
	}
	retry_hold_failure(&h, now, 0, 500, 0);
	is_int(retry_hold_wait_ms(&h, now), 3000, "outage hold capped");
	retry_hold_failure(&h, now + 3000, 0, 500, 0.999999);
	ok(retry_hold_wait_ms(&h, now + 3000) >= 2250 && retry_hold_wait_ms(&h, now + 3000) <= 3000,
	   "outage hold jitter within [0.75, 1] of its base");
}

static void
test_hold_wave(void)
{
	struct retry_hold h;

	retry_hold_init(&h, 4, 60000);
	retry_hold_failure(&h, T0, 429, 5000, 0);
	/* 20 requests that were in flight when the 429 came back fail too. */
	for (int i = 0; i < 20; i++)
		retry_hold_failure(&h, T0 + 10 + (uint64_t)i, 503, 500, 0);
	is_int(h.streak, 1, "failures inside a hold count once");
	is_int(retry_hold_until(&h), T0 + 5000, "and do not make an outage hold");
	retry_hold_failure(&h, T0 + 5000, 503, 500, 0);
	is_int(h.streak, 2, "a failure after the hold counts again");
}

static void
test_hold_success(void)
{
	struct retry_hold h;

	retry_hold_init(&h, 2, 60000);
	retry_hold_failure(&h, T0, 0, 500, 0);
	retry_hold_success(&h);
	retry_hold_failure(&h, T0 + 1, 0, 500, 0);
	is_int(retry_hold_wait_ms(&h, T0 + 1), 0, "a success between failures: no outage");
	retry_hold_failure(&h, T0 + 2, 0, 500, 0);
	is_int(retry_hold_wait_ms(&h, T0 + 2), 500, "two in a row: outage hold");
	retry_hold_success(&h);
	is_int(h.streak, 0, "a success clears the streak");
	retry_hold_failure(&h, T0 + 600, 0, 500, 0);
	is_int(retry_hold_wait_ms(&h, T0 + 600), 0, "next failure starts a new streak");
}

int
main(void)
{
	test_http();
	test_retry();
	test_after();
	test_backoff();
	test_hold_429();
	test_hold_outage();
	test_hold_wave();
	test_hold_success();
	return tap_done();
}
