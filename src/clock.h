/*
 * clock: time and randomness as a value, so the modules that schedule work
 * (the poll scheduler, retries, holds) take them from their environment and
 * tests can drive them with a fake clock instead of sleeping.
 *
 * Pure: clock_system reads the real clocks and random(); a test builds its
 * own struct clock with functions over its own data.
 */
#ifndef FTMON_CLOCK_H
#define FTMON_CLOCK_H

#include <stdint.h>

struct clock {
	int64_t (*now)(void *data);           /* wall clock, Unix seconds */
	uint64_t (*monotonic_ms)(void *data); /* never goes back */
	double (*random)(void *data);         /* uniform in [0, 1) */
	void *data;                           /* borrowed, passed to each */
};

/* The real clocks and random(): what the daemon runs on. */
extern const struct clock clock_system;

static inline int64_t
clock_now(const struct clock *c)
{
	return c->now(c->data);
}

static inline uint64_t
clock_monotonic_ms(const struct clock *c)
{
	return c->monotonic_ms(c->data);
}

static inline double
clock_random(const struct clock *c)
{
	return c->random(c->data);
}

#endif
