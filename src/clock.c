/*
 * clock: the system clock (see clock.h).
 */
#include "config.h"

#include <stdlib.h>

#include "clock.h"
#include "util.h"

static int64_t
clock_system_now(void *data)
{
	(void)data;
	return util_now();
}

static uint64_t
clock_system_monotonic_ms(void *data)
{
	(void)data;
	return util_monotonic_ms();
}

/* random() is seeded once by main(): poll jitter must differ between
 * restarts and between daemons. */
static double
clock_system_random(void *data)
{
	(void)data;
	return (double)random() / ((double)RAND_MAX + 1);
}

const struct clock clock_system = {
        clock_system_now,
        clock_system_monotonic_ms,
        clock_system_random,
        NULL,
};
