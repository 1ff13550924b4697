/*
 * retry: when to try again.  HTTP status classes, Retry-After hints in all
 * their forms, exponential backoff with jitter, and the source-wide hold a
 * poller keeps so that a rate limit or an outage stops every request of a
 * source, not each job on its own schedule.
 *
 * Pure and deterministic: the caller passes the current time and a random
 * fraction in [0, 1); nothing here reads a clock or calls random().  No
 * logging.
 */
#ifndef FTMON_RETRY_H
#define FTMON_RETRY_H

#include <stdbool.h>
#include <stdint.h>

/* What a poller should do with an HTTP status (0 = transport error). */
enum retry_class {
	RETRY_CLASS_OK,        /* 2xx */
	RETRY_CLASS_RETRY,     /* 408, 409, 429, 5xx, transport errors */
	RETRY_CLASS_AUTH,      /* 401, 403 */
	RETRY_CLASS_NOT_FOUND, /* 404 */
	RETRY_CLASS_FATAL,     /* any other status */
};
enum retry_class retry_classify(long status);

/*
 * A server hint as milliseconds from now: retry-after-ms (float
 * milliseconds) if it parses, else retry-after as float delta-seconds or an
 * IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT") compared with now_s (Unix
 * seconds).  Negative numbers and past dates give 0.  Hex, nan, inf, other
 * date formats and trailing junk do not parse.  Either header may be NULL.
 * Returns false when neither gives a hint.
 */
bool retry_after_ms(const char *retry_after_ms, const char *retry_after, int64_t now_s, double *ms);

/* min(500 ms * 2^attempt, cap_ms) * (1 - 0.25 * rand01), rounded; rand01
 * outside [0, 1] (or NaN) is clamped.  Never overflows. */
uint64_t retry_backoff_ms(unsigned attempt, double rand01, uint64_t cap_ms);

/*
 * Delay before retry number `attempt` (0 for the first retry).  A hint
 * greater than zero wins, rounded up and capped at cap_ms; a hint of zero
 * says "now", which would retry in a tight loop, so the backoff decides.
 */
uint64_t retry_delay_ms(unsigned attempt, const char *retry_after_ms, const char *retry_after,
                        int64_t now_s, double rand01, uint64_t cap_ms);

/*
 * The source-wide hold.  Every failed request reports to it; a 429 holds
 * the source until its retry time, and outage_after failures in a row (of
 * any job) hold it with a backoff of its own, capped at outage_cap_ms.
 * Failures that arrive while a hold is in force are requests that were
 * already in flight when it began: they say nothing new and do not count.
 * Times are a monotonic clock in milliseconds, passed in.
 */
struct retry_hold {
	uint64_t until;  /* no request starts before this */
	unsigned streak; /* counted failures in a row */
	unsigned outage_after;
	uint64_t outage_cap_ms;
};
void retry_hold_init(struct retry_hold *h, unsigned outage_after, uint64_t outage_cap_ms);
/* A request failed with status (0 = transport) and will be retried after
 * delay_ms; rnd in [0, 1) jitters the outage hold. */
void retry_hold_failure(struct retry_hold *h, uint64_t now_ms, long status, uint64_t delay_ms,
                        double rnd);
/* A request succeeded: the API is up, the streak ends.  A 429 hold still
 * in force stays: the server asked for the pause. */
void retry_hold_success(struct retry_hold *h);
/* The end of the hold (0 or a past time when there is none). */
uint64_t retry_hold_until(const struct retry_hold *h);
/* Milliseconds until the hold ends, 0 when requests may start now. */
uint64_t retry_hold_wait_ms(const struct retry_hold *h, uint64_t now_ms);

#endif
