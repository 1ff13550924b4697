/*
 * testclock: a fake struct clock (clock.h) for unit tests: the wall clock
 * is fake_now, which a test moves by hand; the monotonic clock stands
 * still and randomness is always 0.5, so schedules are deterministic.
 */
#ifndef FTMON_TESTCLOCK_H
#define FTMON_TESTCLOCK_H

#include <stdint.h>

#include "clock.h"

static int64_t fake_now = 1700000000;

static inline int64_t
fake_clock_now(void *data)
{
	return *(int64_t *)data;
}

static inline uint64_t
fake_clock_mono(void *data)
{
	(void)data;
	return 0;
}

static inline double
fake_clock_random(void *data)
{
	(void)data;
	return 0.5;
}

static const struct clock fake_clock = {fake_clock_now, fake_clock_mono, fake_clock_random,
                                        &fake_now};

#endif
